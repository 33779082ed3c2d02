//! The schema: every table, its history of migrations, and bringing a
//! database up to date.

use std::path::Path;

use rusqlite::{params, Connection};

use super::outbox::endpoint;
use crate::Error;

/// Set on every open (outside any transaction: SQLite ignores a journal
/// mode change inside one).
pub(super) const PRAGMAS: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
";

/// The schema's history: `PRAGMA user_version` N means the first N
/// migrations have run. Append only; a released migration never changes.
/// Each runs in one transaction with its version bump.
const MIGRATIONS: &[&str] = &[
    // 1: the schema from before versions. `IF NOT EXISTS` throughout, so a
    // database of that time (user_version 0, these tables) upgrades in place.
    SCHEMA_V1,
    // 2: every delivery attempt, with what came back.
    "CREATE TABLE delivery_attempts (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        notification_id INTEGER NOT NULL REFERENCES outbox (id),
        order_id        TEXT NOT NULL,
        attempted_at    INTEGER NOT NULL,
        url             TEXT NOT NULL,
        http_status     INTEGER,
        failure         TEXT NOT NULL,
        reply_head      BLOB NOT NULL,
        latency_ms      INTEGER NOT NULL,
        next_attempt_at INTEGER
    );
    CREATE INDEX delivery_attempts_by_order ON delivery_attempts (order_id, id);
    CREATE INDEX delivery_attempts_by_notification ON delivery_attempts (notification_id, id);",
    // 3: what the dashboard reads beyond the engine's tables: the request
    // log (the last `request_log::REQUEST_LOG_ROWS` envelopes), each order's
    // status history and the request that created it, and the indexes its
    // keyset-paged lists walk.
    "CREATE TABLE request_log (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        received_at     INTEGER NOT NULL,
        merchant_number TEXT NOT NULL,
        server_type     TEXT NOT NULL,
        serial_number   TEXT NOT NULL,
        verified        INTEGER NOT NULL,
        refusal         TEXT NOT NULL,
        status_code     TEXT NOT NULL,
        message         TEXT NOT NULL,
        latency_us      INTEGER NOT NULL,
        payload         TEXT NOT NULL,
        truncated       INTEGER NOT NULL
    );
    CREATE TABLE status_history (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        order_id    TEXT NOT NULL,
        at          INTEGER NOT NULL,
        event       TEXT NOT NULL,
        from_status INTEGER NOT NULL,
        to_status   INTEGER NOT NULL,
        note        TEXT NOT NULL
    );
    CREATE INDEX status_history_by_order ON status_history (order_id, id);
    CREATE TABLE order_requests (
        order_id       TEXT PRIMARY KEY REFERENCES orders (order_id),
        server_type    TEXT NOT NULL,
        data           TEXT NOT NULL,
        sensitive_data TEXT NOT NULL
    );
    CREATE INDEX orders_by_status_seq ON orders (status, seq);
    CREATE INDEX outbox_by_order ON outbox (order_id, id);",
    // 4: each notification's endpoint (`endpoint(url)`), so deliveries take
    // turns per endpoint; rows queued before get theirs from
    // `fill_endpoints`.
    "ALTER TABLE outbox ADD COLUMN endpoint TEXT NOT NULL DEFAULT '';",
];

/// The migration that added `outbox.endpoint`.
const ENDPOINT_MIGRATION: i64 = 4;

pub(super) const SCHEMA_V1: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS merchants (
    merchant_number     TEXT NOT NULL,
    sub_merchant_number TEXT NOT NULL,
    public_key_pem      TEXT NOT NULL,
    salt                TEXT NOT NULL,
    PRIMARY KEY (merchant_number, sub_merchant_number)
);
CREATE TABLE IF NOT EXISTS serial_numbers (
    merchant_number TEXT NOT NULL,
    serial_number   TEXT NOT NULL,
    seen_at         INTEGER NOT NULL,
    PRIMARY KEY (merchant_number, serial_number)
);
CREATE TABLE IF NOT EXISTS orders (
    seq                      INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id                 TEXT NOT NULL UNIQUE,
    merchant_number          TEXT NOT NULL,
    sub_merchant_number      TEXT NOT NULL,
    merchant_order_id        TEXT NOT NULL,
    status                   INTEGER NOT NULL,
    currency_code            TEXT NOT NULL,
    amount                   TEXT NOT NULL,
    tuition_rmb              TEXT NOT NULL,
    counter_fee              TEXT NOT NULL,
    notify_url               TEXT NOT NULL,
    status_change_notify_url TEXT NOT NULL,
    pay_notify_url           TEXT NOT NULL DEFAULT '',
    status_before_refund     INTEGER,
    refund_order_id          TEXT NOT NULL DEFAULT '',
    refund_amount            TEXT NOT NULL DEFAULT '',
    created_at               INTEGER NOT NULL,
    updated_at               INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_by_status ON orders (status, created_at);
CREATE INDEX IF NOT EXISTS orders_by_merchant_order ON orders (merchant_number, merchant_order_id);
CREATE TABLE IF NOT EXISTS attachments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id        TEXT NOT NULL REFERENCES orders (order_id),
    attachment_type INTEGER NOT NULL,
    file_name       TEXT NOT NULL,
    base64          TEXT NOT NULL,
    uploaded_at     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS attachments_by_order ON attachments (order_id, attachment_type);
CREATE TABLE IF NOT EXISTS outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id        TEXT NOT NULL,
    kind            TEXT NOT NULL,
    url             TEXT NOT NULL,
    body            TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    delivered_at    INTEGER,
    last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at);
CREATE TABLE IF NOT EXISTS order_institutions (
    order_id            TEXT PRIMARY KEY REFERENCES orders (order_id),
    institution_code    TEXT NOT NULL,
    institution_name_en TEXT NOT NULL,
    institution_name_ch TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jumps (
    token               TEXT PRIMARY KEY,
    merchant_number     TEXT NOT NULL,
    sub_merchant_number TEXT NOT NULL,
    merchant_order_id   TEXT NOT NULL,
    request             TEXT NOT NULL,
    order_id            TEXT,
    created_at          INTEGER NOT NULL,
    UNIQUE (merchant_number, merchant_order_id)
);
";

/// The schema version this code writes: the number of [`MIGRATIONS`].
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`SCHEMA_VERSION`], one migration at a time;
/// refuses a database from a newer sandbox (or with a version no sandbox
/// wrote) rather than misreading it.
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), Error> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let done = usize::try_from(found)
        .ok()
        .filter(|&n| n <= MIGRATIONS.len())
        .ok_or_else(|| Error::SchemaVersion {
            path: path.to_owned(),
            found,
            known: SCHEMA_VERSION,
        })?;
    for (version, sql) in (1..).zip(MIGRATIONS).skip(done) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        if version == ENDPOINT_MIGRATION {
            fill_endpoints(&tx)?;
        }
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}

/// Gives every outbox row queued before [`ENDPOINT_MIGRATION`] its
/// endpoint.
fn fill_endpoints(c: &Connection) -> rusqlite::Result<()> {
    let rows: Vec<(i64, String)> = c
        .prepare("SELECT id, url FROM outbox WHERE endpoint = ''")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut update = c.prepare("UPDATE outbox SET endpoint = ?2 WHERE id = ?1")?;
    for (id, url) in rows {
        update.execute(params![id, endpoint(&url)])?;
    }
    Ok(())
}
