//! The SQLite store: merchants, orders, attachments, serial numbers seen and
//! the notification outbox. Every state change happens in one transaction
//! with the notifications it causes, so a crash never loses either.

use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};

use crate::clock::Millis;
use crate::files;
use crate::Error;

/// Set on every open (outside any transaction: SQLite ignores a journal
/// mode change inside one).
const PRAGMAS: &str = "
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
    // log (the last `dashboard::REQUEST_LOG_ROWS` envelopes), each order's
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

const SCHEMA_V1: &str = "
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

/// The database handle, shared by the server, the ticker and admin calls.
#[derive(Clone, Debug)]
pub(crate) struct Store {
    conn: Arc<Mutex<Connection>>,
}

/// A merchant the sandbox knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MerchantRecord {
    /// ET merchant number.
    pub merchant_number: String,
    /// ET sub-merchant number.
    pub sub_merchant_number: String,
    /// The merchant's RSA public key (SPKI PEM).
    pub public_key_pem: String,
    /// The notification MD5 salt.
    pub salt: String,
}

/// One order as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderRecord {
    /// ET order id (`ET…`).
    pub order_id: String,
    /// Owning merchant.
    pub merchant_number: String,
    /// Owning sub-merchant.
    pub sub_merchant_number: String,
    /// The merchant's own order number.
    pub merchant_order_id: String,
    /// Order status code (see `et_model::OrderStatus`).
    pub status: i64,
    /// Order currency.
    pub currency_code: String,
    /// Amount in the order currency, decimal text.
    pub amount: String,
    /// Amount in RMB, decimal text.
    pub tuition_rmb: String,
    /// Fee in RMB, decimal text.
    pub counter_fee: String,
    /// `notify_url` given with the order ('' if none).
    pub notify_url: String,
    /// `status_change_notify_url` given with the order ('' if none).
    pub status_change_notify_url: String,
    /// `notify_url` given with the payment-address request ('' if none).
    pub pay_notify_url: String,
    /// Status to return to when a refund fails.
    pub status_before_refund: Option<i64>,
    /// Merchant refund id of the last refund application.
    pub refund_order_id: String,
    /// Amount of the last refund application, decimal text.
    pub refund_amount: String,
    /// Sandbox time of creation.
    pub created_at: Millis,
    /// Sandbox time of the last change.
    pub updated_at: Millis,
}

/// A new order, before it has an id.
#[derive(Clone, Debug)]
pub(crate) struct NewOrder {
    /// Owning merchant.
    pub merchant_number: String,
    /// Owning sub-merchant.
    pub sub_merchant_number: String,
    /// The merchant's own order number.
    pub merchant_order_id: String,
    /// Order currency.
    pub currency_code: String,
    /// Amount in the order currency.
    pub amount: String,
    /// Amount in RMB.
    pub tuition_rmb: String,
    /// Fee in RMB.
    pub counter_fee: String,
    /// Order `notify_url`.
    pub notify_url: String,
    /// Order `status_change_notify_url`.
    pub status_change_notify_url: String,
}

/// One notification in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxRecord {
    /// Outbox row id.
    pub id: i64,
    /// Order it is about.
    pub order_id: String,
    /// `payment_success`, `order_status_change`, `refund_result` or `remittance_voucher`.
    pub kind: String,
    /// Destination URL.
    pub url: String,
    /// The signed body, as sent.
    pub body: String,
    /// Deliveries tried so far.
    pub attempts: i64,
    /// When the next delivery is due (`None` once delivered or given up).
    pub next_attempt_at: Option<Millis>,
    /// When the merchant acknowledged it.
    pub delivered_at: Option<Millis>,
    /// What went wrong on the last failed attempt.
    pub last_error: String,
    /// `scheme://authority` of `url` ([`endpoint`]).
    pub endpoint: String,
}

impl Store {
    /// Opens (creating if needed) the database at `path`. The file is
    /// created 0600 before SQLite opens it, because SQLite gives its `-wal`
    /// and `-shm` files the database file's mode; older files are narrowed
    /// to 0600, and a symbolic link in their place is refused.
    pub(crate) fn open(path: &Path) -> Result<Self, Error> {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let file = Path::new(&name);
            if suffix.is_empty() || fs::symlink_metadata(file).is_ok() {
                files::create_with_mode(file, files::OWNER_ONLY).map_err(|e| Error::io(file, e))?;
            }
        }
        let flags = OpenFlags::default() | OpenFlags::SQLITE_OPEN_NOFOLLOW;
        let mut conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(PRAGMAS)?;
        migrate(&mut conn, path)?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` in one transaction, committed when `f` returns `Ok`.
    pub(crate) fn tx<T, E>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<rusqlite::Error>,
    {
        // A panic while holding the lock cannot leave a half-done
        // transaction (SQLite rolls it back), so a poisoned lock is usable.
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }
}

/// The schema version this code writes: the number of [`MIGRATIONS`].
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`SCHEMA_VERSION`], one migration at a time;
/// refuses a database from a newer sandbox (or with a version no sandbox
/// wrote) rather than misreading it.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), Error> {
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

/// `scheme://authority` of a notify URL: what one endpoint is. Deliveries
/// take turns per endpoint, and each has its own bound on deliveries in
/// flight.
pub(crate) fn endpoint(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after_scheme + i);
    &url[..end]
}

/// Reads a `meta` value.
pub(crate) fn meta(c: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
}

/// Writes a `meta` value.
pub(crate) fn set_meta(c: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )
    .map(drop)
}

/// Inserts or replaces a merchant.
pub(crate) fn upsert_merchant(c: &Connection, m: &MerchantRecord) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO merchants (merchant_number, sub_merchant_number, public_key_pem, salt)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (merchant_number, sub_merchant_number)
         DO UPDATE SET public_key_pem = excluded.public_key_pem, salt = excluded.salt",
        params![
            m.merchant_number,
            m.sub_merchant_number,
            m.public_key_pem,
            m.salt
        ],
    )
    .map(drop)
}

const MERCHANT_COLUMNS: &str = "merchant_number, sub_merchant_number, public_key_pem, salt";

fn merchant_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MerchantRecord> {
    Ok(MerchantRecord {
        merchant_number: r.get(0)?,
        sub_merchant_number: r.get(1)?,
        public_key_pem: r.get(2)?,
        salt: r.get(3)?,
    })
}

/// Looks a merchant up.
pub(crate) fn merchant(
    c: &Connection,
    merchant_number: &str,
    sub_merchant_number: &str,
) -> rusqlite::Result<Option<MerchantRecord>> {
    c.query_row(
        &format!(
            "SELECT {MERCHANT_COLUMNS} FROM merchants
             WHERE merchant_number = ?1 AND sub_merchant_number = ?2"
        ),
        [merchant_number, sub_merchant_number],
        merchant_from_row,
    )
    .optional()
}

/// Every merchant the sandbox knows.
pub(crate) fn merchants(c: &Connection) -> rusqlite::Result<Vec<MerchantRecord>> {
    let mut st = c.prepare(&format!("SELECT {MERCHANT_COLUMNS} FROM merchants"))?;
    let rows = st.query_map([], merchant_from_row)?;
    rows.collect()
}

/// Records a serial number; `false` when the merchant already used it.
pub(crate) fn record_serial(
    c: &Connection,
    merchant_number: &str,
    serial_number: &str,
    now: Millis,
) -> rusqlite::Result<bool> {
    let n = c.execute(
        "INSERT OR IGNORE INTO serial_numbers (merchant_number, serial_number, seen_at)
         VALUES (?1, ?2, ?3)",
        params![merchant_number, serial_number, now],
    )?;
    Ok(n == 1)
}

/// Inserts an order in status 0 and returns its ET order id,
/// `ET` + Beijing date + a 9-digit sequence (19 characters).
pub(crate) fn insert_order(
    c: &Connection,
    o: &NewOrder,
    compact_date: &str,
    now: Millis,
) -> rusqlite::Result<String> {
    c.execute(
        "INSERT INTO orders (order_id, merchant_number, sub_merchant_number, merchant_order_id,
             status, currency_code, amount, tuition_rmb, counter_fee, notify_url,
             status_change_notify_url, created_at, updated_at)
         VALUES ('pending-' || hex(randomblob(8)), ?1, ?2, ?3, 0, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
        params![
            o.merchant_number,
            o.sub_merchant_number,
            o.merchant_order_id,
            o.currency_code,
            o.amount,
            o.tuition_rmb,
            o.counter_fee,
            o.notify_url,
            o.status_change_notify_url,
            now
        ],
    )?;
    let seq = c.last_insert_rowid();
    let order_id = format!("ET{compact_date}{seq:09}");
    c.execute(
        "UPDATE orders SET order_id = ?1 WHERE seq = ?2",
        params![order_id, seq],
    )?;
    Ok(order_id)
}

const ORDER_COLUMNS: &str = "order_id, merchant_number, sub_merchant_number, merchant_order_id,
    status, currency_code, amount, tuition_rmb, counter_fee, notify_url, status_change_notify_url,
    pay_notify_url, status_before_refund, refund_order_id, refund_amount, created_at, updated_at";

fn order_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OrderRecord> {
    Ok(OrderRecord {
        order_id: r.get(0)?,
        merchant_number: r.get(1)?,
        sub_merchant_number: r.get(2)?,
        merchant_order_id: r.get(3)?,
        status: r.get(4)?,
        currency_code: r.get(5)?,
        amount: r.get(6)?,
        tuition_rmb: r.get(7)?,
        counter_fee: r.get(8)?,
        notify_url: r.get(9)?,
        status_change_notify_url: r.get(10)?,
        pay_notify_url: r.get(11)?,
        status_before_refund: r.get(12)?,
        refund_order_id: r.get(13)?,
        refund_amount: r.get(14)?,
        created_at: r.get(15)?,
        updated_at: r.get(16)?,
    })
}

/// Reads one order.
pub(crate) fn order(c: &Connection, order_id: &str) -> rusqlite::Result<Option<OrderRecord>> {
    c.query_row(
        &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE order_id = ?1"),
        [order_id],
        order_from_row,
    )
    .optional()
}

/// The merchant's order with this `merchant_order_id`, if any.
pub(crate) fn order_by_merchant_order_id(
    c: &Connection,
    merchant_number: &str,
    merchant_order_id: &str,
) -> rusqlite::Result<Option<OrderRecord>> {
    c.query_row(
        &format!(
            "SELECT {ORDER_COLUMNS} FROM orders
             WHERE merchant_number = ?1 AND merchant_order_id = ?2 ORDER BY seq LIMIT 1"
        ),
        [merchant_number, merchant_order_id],
        order_from_row,
    )
    .optional()
}

/// Ids of the orders in `status` created at or before `cutoff`.
pub(crate) fn orders_created_before(
    c: &Connection,
    status: i64,
    cutoff: Millis,
) -> rusqlite::Result<Vec<String>> {
    let mut st = c.prepare_cached(
        "SELECT order_id FROM orders WHERE status = ?1 AND created_at <= ?2 ORDER BY seq",
    )?;
    let rows = st.query_map(params![status, cutoff], |r| r.get(0))?;
    rows.collect()
}

/// Writes an order's mutable fields back.
pub(crate) fn update_order(c: &Connection, o: &OrderRecord) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE orders SET status = ?2, pay_notify_url = ?3, status_before_refund = ?4,
             refund_order_id = ?5, refund_amount = ?6, updated_at = ?7
         WHERE order_id = ?1",
        params![
            o.order_id,
            o.status,
            o.pay_notify_url,
            o.status_before_refund,
            o.refund_order_id,
            o.refund_amount,
            o.updated_at
        ],
    )
    .map(drop)
}

/// How many attachments of one type an order has.
pub(crate) fn count_attachments(
    c: &Connection,
    order_id: &str,
    attachment_type: i64,
) -> rusqlite::Result<i64> {
    c.query_row(
        "SELECT COUNT(*) FROM attachments WHERE order_id = ?1 AND attachment_type = ?2",
        params![order_id, attachment_type],
        |r| r.get(0),
    )
}

/// Stores an attachment and returns its id.
pub(crate) fn insert_attachment(
    c: &Connection,
    order_id: &str,
    attachment_type: i64,
    file_name: &str,
    base64: &str,
    now: Millis,
) -> rusqlite::Result<i64> {
    c.execute(
        "INSERT INTO attachments (order_id, attachment_type, file_name, base64, uploaded_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![order_id, attachment_type, file_name, base64, now],
    )?;
    Ok(c.last_insert_rowid())
}

/// Queues a notification, due at once.
pub(crate) fn enqueue(
    c: &Connection,
    order_id: &str,
    kind: &str,
    url: &str,
    body: &str,
    now: Millis,
) -> rusqlite::Result<i64> {
    c.execute(
        "INSERT INTO outbox (order_id, kind, url, endpoint, body, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![order_id, kind, url, endpoint(url), body, now],
    )?;
    Ok(c.last_insert_rowid())
}

const OUTBOX_COLUMNS: &str =
    "id, order_id, kind, url, body, attempts, next_attempt_at, delivered_at, last_error, endpoint";

fn outbox_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxRecord> {
    Ok(OutboxRecord {
        id: r.get(0)?,
        order_id: r.get(1)?,
        kind: r.get(2)?,
        url: r.get(3)?,
        body: r.get(4)?,
        attempts: r.get(5)?,
        next_attempt_at: r.get(6)?,
        delivered_at: r.get(7)?,
        last_error: r.get(8)?,
        endpoint: r.get(9)?,
    })
}

/// Notifications due at `now`, at most `limit`, taking turns per endpoint:
/// each endpoint's oldest, then each one's second oldest, and so on, at
/// most `per_endpoint` each. Of one order only its oldest due
/// notification (they go one at a time, oldest first). However many are
/// due for one endpoint, another's are read in the same round.
pub(crate) fn due_notifications(
    c: &Connection,
    now: Millis,
    per_endpoint: i64,
    limit: i64,
) -> rusqlite::Result<Vec<OutboxRecord>> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {OUTBOX_COLUMNS} FROM (
             SELECT *, ROW_NUMBER() OVER (PARTITION BY endpoint ORDER BY id) AS turn
             FROM (
                 SELECT *, ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY id) AS nth
                 FROM outbox WHERE next_attempt_at <= ?1
             )
             WHERE nth = 1
         )
         WHERE turn <= ?2 ORDER BY turn, id LIMIT ?3"
    ))?;
    let rows = st.query_map(params![now, per_endpoint, limit], outbox_from_row)?;
    rows.collect()
}

/// Makes a leased notification due at `now` (its attempt was cut off); one
/// delivered or given up meanwhile is left as it is.
pub(crate) fn end_lease(c: &Connection, id: i64, now: Millis) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE outbox SET next_attempt_at = ?2 WHERE id = ?1 AND next_attempt_at > ?2",
        params![id, now],
    )
    .map(drop)
}

/// Moves every pending notification's next attempt `back` milliseconds
/// earlier, but not before `now`: sandbox time went back by as much.
pub(crate) fn move_schedule_back(
    c: &Connection,
    back: Millis,
    now: Millis,
) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE outbox SET next_attempt_at = MAX(?2, next_attempt_at - ?1)
         WHERE next_attempt_at IS NOT NULL",
        params![back, now],
    )
    .map(drop)
}

/// The earliest pending attempt time, if any.
pub(crate) fn next_due(c: &Connection) -> rusqlite::Result<Option<Millis>> {
    c.query_row(
        "SELECT MIN(next_attempt_at) FROM outbox WHERE next_attempt_at IS NOT NULL",
        [],
        |r| r.get(0),
    )
}

/// Every notification, oldest first (optionally for one order).
pub(crate) fn notifications(
    c: &Connection,
    order_id: Option<&str>,
) -> rusqlite::Result<Vec<OutboxRecord>> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE ?1 IS NULL OR order_id = ?1 ORDER BY id"
    ))?;
    let rows = st.query_map([order_id], outbox_from_row)?;
    rows.collect()
}

/// Moves a pending notification's next attempt to `until` while an attempt
/// is in flight, so it is not picked again; if the sandbox stops before the
/// attempt is recorded, the notification is due again at `until`.
pub(crate) fn lease(c: &Connection, id: i64, until: Millis) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE outbox SET next_attempt_at = ?2 WHERE id = ?1 AND next_attempt_at IS NOT NULL",
        params![id, until],
    )
    .map(drop)
}

/// Records one delivery attempt: delivered, retry at `next`, or given up (`None`).
pub(crate) fn record_attempt(
    c: &Connection,
    id: i64,
    delivered_at: Option<Millis>,
    next: Option<Millis>,
    error: &str,
) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE outbox SET attempts = attempts + 1, delivered_at = ?2, next_attempt_at = ?3,
             last_error = ?4
         WHERE id = ?1",
        params![id, delivered_at, next, error],
    )
    .map(drop)
}

/// One delivery attempt of a notification, as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryAttemptRecord {
    /// The outbox row (notification) tried.
    pub notification_id: i64,
    /// The order it is about.
    pub order_id: String,
    /// Sandbox time the attempt started.
    pub attempted_at: Millis,
    /// Where it was sent.
    pub url: String,
    /// The reply's HTTP status, if a reply came.
    pub http_status: Option<u16>,
    /// Why it failed (a delivery failure's name), `''` if acknowledged.
    pub failure: String,
    /// The first bytes of the reply (bounded by the delivery code).
    pub reply_head: Vec<u8>,
    /// Real time from sending to the end of the reply or the failure.
    pub latency_ms: i64,
    /// When the next attempt is due; `None` once delivered or given up.
    pub next_attempt_at: Option<Millis>,
}

/// Records one delivery attempt (with [`record_attempt`], in the same
/// transaction).
pub(crate) fn insert_delivery_attempt(
    c: &Connection,
    a: &DeliveryAttemptRecord,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO delivery_attempts (notification_id, order_id, attempted_at, url, http_status,
             failure, reply_head, latency_ms, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            a.notification_id,
            a.order_id,
            a.attempted_at,
            a.url,
            a.http_status,
            a.failure,
            a.reply_head,
            a.latency_ms,
            a.next_attempt_at
        ],
    )
    .map(drop)
}

const ATTEMPT_COLUMNS: &str = "notification_id, order_id, attempted_at, url, http_status, failure,
    reply_head, latency_ms, next_attempt_at";

fn attempt_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeliveryAttemptRecord> {
    Ok(DeliveryAttemptRecord {
        notification_id: r.get(0)?,
        order_id: r.get(1)?,
        attempted_at: r.get(2)?,
        url: r.get(3)?,
        http_status: r.get(4)?,
        failure: r.get(5)?,
        reply_head: r.get(6)?,
        latency_ms: r.get(7)?,
        next_attempt_at: r.get(8)?,
    })
}

/// Every delivery attempt of an order's notifications, oldest first.
pub(crate) fn delivery_attempts(
    c: &Connection,
    order_id: &str,
) -> rusqlite::Result<Vec<DeliveryAttemptRecord>> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM delivery_attempts WHERE order_id = ?1 ORDER BY id"
    ))?;
    let rows = st.query_map([order_id], attempt_from_row)?;
    rows.collect()
}

/// Every delivery attempt of one notification (outbox row), oldest first.
pub(crate) fn notification_attempts(
    c: &Connection,
    notification_id: i64,
) -> rusqlite::Result<Vec<DeliveryAttemptRecord>> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM delivery_attempts WHERE notification_id = ?1 ORDER BY id"
    ))?;
    let rows = st.query_map([notification_id], attempt_from_row)?;
    rows.collect()
}

/// The last `limit` delivery attempts of one notification, oldest first
/// (redeliveries make their number unbounded).
pub(crate) fn last_notification_attempts(
    c: &Connection,
    notification_id: i64,
    limit: i64,
) -> rusqlite::Result<Vec<DeliveryAttemptRecord>> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM (
             SELECT id, {ATTEMPT_COLUMNS} FROM delivery_attempts WHERE notification_id = ?1
             ORDER BY id DESC LIMIT ?2)
         ORDER BY id"
    ))?;
    let rows = st.query_map(params![notification_id, limit], attempt_from_row)?;
    rows.collect()
}

/// The institution an order was placed for, named as the directory named
/// it then.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OrderInstitution {
    /// The directory's code.
    pub institution_code: String,
    /// English name.
    pub institution_name_en: String,
    /// Chinese name ('' if the directory has none).
    pub institution_name_ch: String,
}

/// Records the institution of a new order.
pub(crate) fn insert_order_institution(
    c: &Connection,
    order_id: &str,
    i: &et_model::Institution,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO order_institutions
             (order_id, institution_code, institution_name_en, institution_name_ch)
         VALUES (?1, ?2, ?3, ?4)",
        params![
            order_id,
            i.institution_code.as_str(),
            i.institution_name_en.as_deref().unwrap_or_default(),
            i.institution_name_ch.as_deref().unwrap_or_default()
        ],
    )
    .map(drop)
}

/// The institution of an order, if it was placed for one.
pub(crate) fn order_institution(
    c: &Connection,
    order_id: &str,
) -> rusqlite::Result<Option<OrderInstitution>> {
    c.query_row(
        "SELECT institution_code, institution_name_en, institution_name_ch
         FROM order_institutions WHERE order_id = ?1",
        [order_id],
        |r| {
            Ok(OrderInstitution {
                institution_code: r.get(0)?,
                institution_name_en: r.get(1)?,
                institution_name_ch: r.get(2)?,
            })
        },
    )
    .optional()
}

/// A `merchant_jump_place_order` request waiting for the student.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JumpRecord {
    /// The secret part of the jump address.
    pub token: String,
    /// Merchant that sent the student.
    pub merchant_number: String,
    /// Its sub-merchant.
    pub sub_merchant_number: String,
    /// The request's `sensitive_data`, as JSON.
    pub request: String,
    /// The order the student placed, once placed.
    pub order_id: Option<String>,
}

/// Saves a jump request under its new token, or under the token an earlier
/// request with the same `merchant_order_id` got (a retry gets the same
/// address, and the newer request unless the order was placed); returns
/// the token in use.
pub(crate) fn upsert_jump(
    c: &Connection,
    j: &JumpRecord,
    merchant_order_id: &str,
    now: Millis,
) -> rusqlite::Result<String> {
    c.execute(
        "INSERT INTO jumps (token, merchant_number, sub_merchant_number, merchant_order_id,
             request, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (merchant_number, merchant_order_id)
         DO UPDATE SET request = excluded.request WHERE order_id IS NULL",
        params![
            j.token,
            j.merchant_number,
            j.sub_merchant_number,
            merchant_order_id,
            j.request,
            now
        ],
    )?;
    c.query_row(
        "SELECT token FROM jumps WHERE merchant_number = ?1 AND merchant_order_id = ?2",
        [&j.merchant_number, merchant_order_id],
        |r| r.get(0),
    )
}

/// The jump with this token.
pub(crate) fn jump(c: &Connection, token: &str) -> rusqlite::Result<Option<JumpRecord>> {
    c.query_row(
        "SELECT token, merchant_number, sub_merchant_number, request, order_id
         FROM jumps WHERE token = ?1",
        [token],
        |r| {
            Ok(JumpRecord {
                token: r.get(0)?,
                merchant_number: r.get(1)?,
                sub_merchant_number: r.get(2)?,
                request: r.get(3)?,
                order_id: r.get(4)?,
            })
        },
    )
    .optional()
}

/// Notes the order a jump's student placed.
pub(crate) fn set_jump_order(c: &Connection, token: &str, order_id: &str) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE jumps SET order_id = ?2 WHERE token = ?1",
        [token, order_id],
    )
    .map(drop)
}

/// One envelope received on `POST /server`, as the request log keeps it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LoggedRequest {
    /// Log row id (0 before it is stored).
    pub id: i64,
    /// Sandbox time it arrived.
    pub received_at: Millis,
    /// `merchant_number` as sent ('' if unreadable).
    pub merchant_number: String,
    /// `server_type` as sent ('' if unreadable).
    pub server_type: String,
    /// `serial_number` as sent ('' if unreadable).
    pub serial_number: String,
    /// Whether the envelope verified and decrypted.
    pub verified: bool,
    /// Why it did not ('' if it did).
    pub refusal: String,
    /// The `status_code` answered.
    pub status_code: String,
    /// The `message` answered.
    pub message: String,
    /// Microseconds from the body's arrival to the signed answer.
    pub latency_us: i64,
    /// The decrypted `data` and `sensitive_data` (a JSON object holding
    /// both), or the body as received when it did not open; '' in lists.
    pub payload: String,
    /// Whether `payload` was cut at the log's size bound.
    pub truncated: bool,
}

const LOG_COLUMNS: &str = "id, received_at, merchant_number, server_type, serial_number,
    verified, refusal, status_code, message, latency_us, truncated";

fn logged_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LoggedRequest> {
    Ok(LoggedRequest {
        id: r.get(0)?,
        received_at: r.get(1)?,
        merchant_number: r.get(2)?,
        server_type: r.get(3)?,
        serial_number: r.get(4)?,
        verified: r.get(5)?,
        refusal: r.get(6)?,
        status_code: r.get(7)?,
        message: r.get(8)?,
        latency_us: r.get(9)?,
        truncated: r.get(10)?,
        payload: r.get::<_, Option<String>>(11)?.unwrap_or_default(),
    })
}

/// Appends to the request log and drops all but its last `keep` rows.
pub(crate) fn log_request(c: &Connection, e: &LoggedRequest, keep: i64) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO request_log (received_at, merchant_number, server_type, serial_number,
             verified, refusal, status_code, message, latency_us, payload, truncated)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        e.received_at,
        e.merchant_number,
        e.server_type,
        e.serial_number,
        e.verified,
        e.refusal,
        e.status_code,
        e.message,
        e.latency_us,
        e.payload,
        e.truncated
    ])?;
    let last = c.last_insert_rowid();
    c.prepare_cached("DELETE FROM request_log WHERE id <= ?1")?
        .execute([last.saturating_sub(keep)])
        .map(drop)
}

/// Up to `limit` log rows older than `before` (all if `None`), newest
/// first, without their payloads.
pub(crate) fn request_log(
    c: &Connection,
    before: Option<i64>,
    limit: i64,
) -> rusqlite::Result<Vec<LoggedRequest>> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {LOG_COLUMNS}, NULL FROM request_log
         WHERE ?1 IS NULL OR id < ?1 ORDER BY id DESC LIMIT ?2"
    ))?;
    let rows = st.query_map(params![before, limit], logged_from_row)?;
    rows.collect()
}

/// One log row with its payload.
pub(crate) fn logged_request(c: &Connection, id: i64) -> rusqlite::Result<Option<LoggedRequest>> {
    c.query_row(
        &format!("SELECT {LOG_COLUMNS}, payload FROM request_log WHERE id = ?1"),
        [id],
        logged_from_row,
    )
    .optional()
}

/// One step of an order's status timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StatusChange {
    /// Sandbox time of the change.
    pub at: Millis,
    /// The event's name (`pay`, `decline-payment`, `remit`, …).
    pub event: String,
    /// Status before.
    pub from_status: i64,
    /// Status after.
    pub to_status: i64,
    /// What else is worth knowing ('' if nothing), e.g. the pay type chosen.
    pub note: String,
}

/// Adds a step to an order's timeline.
pub(crate) fn record_status(
    c: &Connection,
    order_id: &str,
    s: &StatusChange,
) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO status_history (order_id, at, event, from_status, to_status, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        order_id,
        s.at,
        s.event,
        s.from_status,
        s.to_status,
        s.note
    ])
    .map(drop)
}

/// Sets the note of an order's last timeline step.
pub(crate) fn note_last_status(c: &Connection, order_id: &str, note: &str) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE status_history SET note = ?2
         WHERE id = (SELECT MAX(id) FROM status_history WHERE order_id = ?1)",
        [order_id, note],
    )
    .map(drop)
}

/// The last `limit` steps of an order's timeline, oldest first.
pub(crate) fn status_history(
    c: &Connection,
    order_id: &str,
    limit: i64,
) -> rusqlite::Result<Vec<StatusChange>> {
    let mut st = c.prepare_cached(
        "SELECT at, event, from_status, to_status, note FROM (
             SELECT id, at, event, from_status, to_status, note FROM status_history
             WHERE order_id = ?1 ORDER BY id DESC LIMIT ?2)
         ORDER BY id",
    )?;
    let rows = st.query_map(params![order_id, limit], |r| {
        Ok(StatusChange {
            at: r.get(0)?,
            event: r.get(1)?,
            from_status: r.get(2)?,
            to_status: r.get(3)?,
            note: r.get(4)?,
        })
    })?;
    rows.collect()
}

/// The decrypted request that created an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OrderRequest {
    /// `server_type` as sent.
    pub server_type: String,
    /// `data`, JSON text.
    pub data: String,
    /// Decrypted `sensitive_data`, JSON text.
    pub sensitive_data: String,
}

/// Keeps the request that created an order.
pub(crate) fn insert_order_request(
    c: &Connection,
    order_id: &str,
    r: &OrderRequest,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT OR REPLACE INTO order_requests (order_id, server_type, data, sensitive_data)
         VALUES (?1, ?2, ?3, ?4)",
        params![order_id, r.server_type, r.data, r.sensitive_data],
    )
    .map(drop)
}

/// The request that created an order, if it came through `POST /server`.
pub(crate) fn order_request(
    c: &Connection,
    order_id: &str,
) -> rusqlite::Result<Option<OrderRequest>> {
    c.query_row(
        "SELECT server_type, data, sensitive_data FROM order_requests WHERE order_id = ?1",
        [order_id],
        |r| {
            Ok(OrderRequest {
                server_type: r.get(0)?,
                data: r.get(1)?,
                sensitive_data: r.get(2)?,
            })
        },
    )
    .optional()
}

/// Up to `limit` orders (in `status`, if given) older than the one with
/// sequence number `before`, newest first, each with its sequence number.
/// Keyset paging on an index: a page costs the same however deep it is.
pub(crate) fn orders_page(
    c: &Connection,
    status: Option<i64>,
    before: Option<i64>,
    limit: i64,
) -> rusqlite::Result<Vec<(i64, OrderRecord)>> {
    // Two statements, so each has a plan that walks one index backwards
    // (`?1` is unused in the first; SQLite numbers parameters by index).
    let filter = if status.is_some() {
        "status = ?1 AND seq < ?2"
    } else {
        "seq < ?2"
    };
    let mut st = c.prepare_cached(&format!(
        "SELECT {ORDER_COLUMNS}, seq FROM orders WHERE {filter} ORDER BY seq DESC LIMIT ?3"
    ))?;
    let before = before.unwrap_or(i64::MAX);
    let rows = st.query_map(params![status, before, limit], |r| {
        Ok((r.get(17)?, order_from_row(r)?))
    })?;
    rows.collect()
}

/// An attachment without its content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AttachmentInfo {
    /// Row id (its download address).
    pub id: i64,
    /// `attachment_type` code.
    pub attachment_type: i64,
    /// File name as sent.
    pub file_name: String,
    /// Length of the Base64 text.
    pub base64_len: i64,
    /// Sandbox time of the upload.
    pub uploaded_at: Millis,
}

/// An order's attachments, oldest first, at most `limit`.
pub(crate) fn attachments(
    c: &Connection,
    order_id: &str,
    limit: i64,
) -> rusqlite::Result<Vec<AttachmentInfo>> {
    let mut st = c.prepare_cached(
        "SELECT id, attachment_type, file_name, length(base64), uploaded_at FROM attachments
         WHERE order_id = ?1 ORDER BY id LIMIT ?2",
    )?;
    let rows = st.query_map(params![order_id, limit], |r| {
        Ok(AttachmentInfo {
            id: r.get(0)?,
            attachment_type: r.get(1)?,
            file_name: r.get(2)?,
            base64_len: r.get(3)?,
            uploaded_at: r.get(4)?,
        })
    })?;
    rows.collect()
}

/// An attachment's file name and Base64 content.
pub(crate) fn attachment(c: &Connection, id: i64) -> rusqlite::Result<Option<(String, String)>> {
    c.query_row(
        "SELECT file_name, base64 FROM attachments WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Up to `limit` notifications (of one order, if given) older than row
/// `before`, newest first; keyset paging on an index, like [`orders_page`].
pub(crate) fn notifications_page(
    c: &Connection,
    order_id: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> rusqlite::Result<Vec<OutboxRecord>> {
    let filter = if order_id.is_some() {
        "order_id = ?1 AND id < ?2"
    } else {
        "id < ?2"
    };
    let mut st = c.prepare_cached(&format!(
        "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE {filter} ORDER BY id DESC LIMIT ?3"
    ))?;
    let before = before.unwrap_or(i64::MAX);
    let rows = st.query_map(params![order_id, before, limit], outbox_from_row)?;
    rows.collect()
}

/// Makes notification `id` due at `now`, whether it was pending, delivered
/// or given up; the order it is about, `None` if there is no such
/// notification.
pub(crate) fn redeliver(c: &Connection, id: i64, now: Millis) -> rusqlite::Result<Option<String>> {
    c.query_row(
        "UPDATE outbox SET next_attempt_at = ?2 WHERE id = ?1 RETURNING order_id",
        params![id, now],
        |r| r.get(0),
    )
    .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("t.db")).expect("open");
        (dir, store)
    }

    /// SQLite creates `-wal` and `-shm` with the database file's mode, so
    /// creating that file 0600 first keeps all three owner-only.
    #[cfg(unix)]
    #[test]
    fn database_and_its_wal_and_shm_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let (dir, store) = store();
        store
            .tx(|c| set_meta(c, "k", "v"))
            .expect("a write creates the WAL");
        for name in ["t.db", "t.db-wal", "t.db-shm"] {
            let meta = fs::metadata(dir.path().join(name)).expect(name);
            assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_in_place_of_the_database_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("t.db");
        std::os::unix::fs::symlink(dir.path().join("elsewhere.db"), &db).expect("symlink");
        assert!(Store::open(&db).is_err());
        assert!(!dir.path().join("elsewhere.db").exists());
    }

    fn user_version(c: &Connection) -> i64 {
        c.pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("user_version")
    }

    /// A database written before schema versions (user_version 0, the
    /// tables of migration 1, an order in them) opens, keeps its rows and
    /// is brought up to the current version.
    #[test]
    fn an_unversioned_database_upgrades_in_place() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.db");
        {
            let old = Connection::open(&path).expect("create");
            old.execute_batch(SCHEMA_V1).expect("old schema");
            insert_order(&old, &new_order(), "20240101", 5).expect("old order");
            assert_eq!(user_version(&old), 0);
        }
        let s = Store::open(&path).expect("upgrades");
        let o = s.tx(|c| order(c, "ET20240101000000001")).expect("read");
        assert_eq!(o.map(|o| o.merchant_order_id), Some("M1".to_owned()));
        let version = s.tx(|c| Ok::<_, rusqlite::Error>(user_version(c)));
        assert_eq!(version.expect("version"), SCHEMA_VERSION);
        drop(s);
        Store::open(&path).expect("reopens at the current version");
    }

    /// A database from a newer sandbox, or with a version none wrote, is
    /// refused with a typed error naming both versions, and left as it was.
    #[test]
    fn a_database_from_a_newer_sandbox_is_refused() {
        for found in [SCHEMA_VERSION + 1, i64::from(i32::MAX), -1] {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("t.db");
            Connection::open(&path)
                .and_then(|c| c.pragma_update(None, "user_version", found))
                .expect("future database");
            match Store::open(&path) {
                Err(Error::SchemaVersion {
                    found: f, known, ..
                }) => assert_eq!((f, known), (found, SCHEMA_VERSION)),
                other => panic!("{found}: expected SchemaVersion, got {other:?}"),
            }
            let c = Connection::open(&path).expect("reopen");
            assert_eq!(user_version(&c), found, "left untouched");
        }
    }

    fn new_order() -> NewOrder {
        NewOrder {
            merchant_number: "ET82009".into(),
            sub_merchant_number: "ET82009S001".into(),
            merchant_order_id: "M1".into(),
            currency_code: "GBP".into(),
            amount: "100.00".into(),
            tuition_rmb: "920.00".into(),
            counter_fee: "50.00".into(),
            notify_url: "http://127.0.0.1:1/n".into(),
            status_change_notify_url: String::new(),
        }
    }

    #[test]
    fn serial_numbers_are_unique_per_merchant() {
        let (_d, s) = store();
        s.tx(|c| {
            assert!(record_serial(c, "A", "1", 0)?);
            assert!(!record_serial(c, "A", "1", 0)?);
            assert!(record_serial(c, "B", "1", 0)?);
            Ok::<_, rusqlite::Error>(())
        })
        .expect("tx");
    }

    #[test]
    fn orders_get_et_ids_and_round_trip() {
        let (_d, s) = store();
        let (a, b) = s
            .tx(|c| {
                let a = insert_order(c, &new_order(), "20240101", 5)?;
                let b = insert_order(c, &new_order(), "20240101", 5)?;
                Ok::<_, rusqlite::Error>((a, b))
            })
            .expect("insert");
        assert_eq!(a, "ET20240101000000001");
        assert_eq!(b, "ET20240101000000002");
        let mut o = s.tx(|c| order(c, &a)).expect("read").expect("order exists");
        assert_eq!((o.status, o.amount.as_str()), (0, "100.00"));
        o.status = 1;
        o.pay_notify_url = "http://x".into();
        s.tx(|c| update_order(c, &o)).expect("update");
        assert_eq!(s.tx(|c| order(c, &a)).expect("read"), Some(o));
        let due = s.tx(|c| orders_created_before(c, 0, 5)).expect("query");
        assert_eq!(due, vec![b]);
        let first = s
            .tx(|c| order_by_merchant_order_id(c, "ET82009", "M1"))
            .expect("read");
        assert_eq!(first.map(|o| o.order_id), Some(a));
        let other = s.tx(|c| order_by_merchant_order_id(c, "ET99999", "M1"));
        assert_eq!(other.expect("read"), None, "per merchant");
    }

    #[test]
    fn delivery_attempts_read_back_per_order_and_per_notification() {
        let (_d, s) = store();
        let attempt = |notification_id, order_id: &str, at| DeliveryAttemptRecord {
            notification_id,
            order_id: order_id.to_owned(),
            attempted_at: at,
            url: "http://x/n".into(),
            http_status: Some(500),
            failure: "not_acknowledged".into(),
            reply_head: b"\xffFAIL".to_vec(),
            latency_ms: 3,
            next_attempt_at: Some(at + 60_000),
        };
        let (a, b, other) = s
            .tx(|c| {
                let a = enqueue(c, "ET1", "payment_success", "http://x/n", "{}", 0)?;
                let b = enqueue(c, "ET1", "order_status_change", "http://x/n", "{}", 0)?;
                let other = enqueue(c, "ET2", "order_status_change", "http://x/n", "{}", 0)?;
                let timeout = DeliveryAttemptRecord {
                    http_status: None,
                    failure: "timeout".into(),
                    reply_head: vec![],
                    next_attempt_at: None,
                    ..attempt(a, "ET1", 20)
                };
                for row in [attempt(a, "ET1", 10), attempt(b, "ET1", 15), timeout] {
                    insert_delivery_attempt(c, &row)?;
                }
                insert_delivery_attempt(c, &attempt(other, "ET2", 10))?;
                Ok::<_, rusqlite::Error>((a, b, other))
            })
            .expect("write");
        let of_order = s.tx(|c| delivery_attempts(c, "ET1")).expect("read");
        let times: Vec<_> = of_order.iter().map(|r| r.attempted_at).collect();
        assert_eq!(times, [10, 15, 20], "oldest first, only ET1's");
        assert_eq!(of_order[0], attempt(a, "ET1", 10), "round trip, bytes kept");
        assert_eq!(
            (of_order[2].http_status, of_order[2].next_attempt_at),
            (None, None)
        );
        let of_a = s.tx(|c| notification_attempts(c, a)).expect("read");
        assert_eq!(of_a.len(), 2);
        assert_eq!(
            s.tx(|c| notification_attempts(c, b)).expect("read").len(),
            1
        );
        assert_eq!(
            s.tx(|c| notification_attempts(c, other))
                .expect("read")
                .len(),
            1
        );
        assert!(s
            .tx(|c| delivery_attempts(c, "ET3"))
            .expect("read")
            .is_empty());
    }

    #[test]
    fn outbox_attempts_are_recorded() {
        let (_d, s) = store();
        let id = s
            .tx(|c| enqueue(c, "ET1", "payment_success", "http://x", "{}", 10))
            .expect("enqueue");
        assert_eq!(
            s.tx(|c| due_notifications(c, 9, 4, 10)).expect("due"),
            vec![]
        );
        assert_eq!(s.tx(|c| next_due(c)).expect("next"), Some(10));
        s.tx(|c| record_attempt(c, id, None, Some(70), "HTTP 500"))
            .expect("attempt");
        let rows = s.tx(|c| due_notifications(c, 70, 4, 10)).expect("due");
        assert_eq!(
            (rows[0].attempts, rows[0].last_error.as_str()),
            (1, "HTTP 500")
        );
        s.tx(|c| record_attempt(c, id, Some(80), None, ""))
            .expect("ok");
        assert_eq!(s.tx(|c| next_due(c)).expect("next"), None);
        let all = s.tx(|c| notifications(c, Some("ET1"))).expect("all");
        assert_eq!(all[0].delivered_at, Some(80));
    }

    #[test]
    fn due_notifications_take_turns_per_endpoint_one_per_order() {
        let (_d, s) = store();
        let ids = s
            .tx(|c| {
                let mut ids = Vec::new();
                for (order, url) in [
                    ("A1", "http://a:1/n?x"),
                    ("A2", "http://a:1/other"),
                    ("A3", "http://a:1"),
                    ("A4", "http://a:1#f"),
                    ("B1", "http://b:2/n"),
                    ("B1", "http://b:2/n"),
                    ("B2", "http://b:2/m"),
                    ("C1", "http://a:10/n"),
                ] {
                    ids.push(enqueue(c, order, "payment_success", url, "{}", 0)?);
                }
                Ok::<_, rusqlite::Error>(ids)
            })
            .expect("enqueue");
        let due = |per_endpoint, limit| {
            s.tx(|c| due_notifications(c, 0, per_endpoint, limit))
                .expect("due")
                .iter()
                .map(|n| n.id)
                .collect::<Vec<_>>()
        };
        // Turn 1: a:1, b:2 and a:10 each; turn 2: a:1 and b:2's next order.
        assert_eq!(due(2, 100), [ids[0], ids[4], ids[7], ids[1], ids[6]]);
        assert_eq!(due(2, 2), [ids[0], ids[4]]);
        assert_eq!(due(4, 100).len(), 7, "B1's second waits for its first");
        let all = s.tx(|c| notifications(c, None)).expect("all");
        assert_eq!(all[2].endpoint, "http://a:1");
        assert_eq!(all[7].endpoint, "http://a:10");
    }

    #[test]
    fn an_endpoint_is_scheme_host_and_port() {
        assert_eq!(endpoint("http://127.0.0.1:9/n?x=1"), "http://127.0.0.1:9");
        assert_eq!(endpoint("http://a.test"), "http://a.test");
        assert_eq!(endpoint("http://a.test#f"), "http://a.test");
        assert_eq!(endpoint("no scheme/x"), "no scheme");
    }

    /// The dashboard's lists walk an index from the page's start: no full
    /// scan and no sort, so a deep page costs what the first one costs.
    #[test]
    fn dashboard_pages_walk_an_index_without_sorting() {
        let (_d, s) = store();
        let plans = s
            .tx(|c| {
                let plan = |sql: &str| -> rusqlite::Result<String> {
                    let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                    let rows = st.query_map([], |r| r.get::<_, String>(3))?;
                    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?.join("; "))
                };
                Ok::<_, rusqlite::Error>([
                    (plan("SELECT seq FROM orders WHERE status = 1 AND seq < 9 ORDER BY seq DESC LIMIT 50")?, "orders_by_status_seq"),
                    (plan("SELECT seq FROM orders WHERE seq < 9 ORDER BY seq DESC LIMIT 50")?, "PRIMARY KEY"),
                    (plan("SELECT id FROM outbox WHERE order_id = 'x' AND id < 9 ORDER BY id DESC LIMIT 50")?, "outbox_by_order"),
                    (plan("SELECT id FROM request_log WHERE id < 9 ORDER BY id DESC LIMIT 50")?, "PRIMARY KEY"),
                ])
            })
            .expect("plans");
        for (plan, index) in plans {
            assert!(plan.contains("SEARCH") && plan.contains(index), "{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "sorts: {plan}");
        }
    }

    #[test]
    fn the_request_log_keeps_its_last_rows() {
        let (_d, s) = store();
        for i in 0..7 {
            let entry = LoggedRequest {
                serial_number: i.to_string(),
                ..LoggedRequest::default()
            };
            s.tx(|c| log_request(c, &entry, 3)).expect("logged");
        }
        let kept = s.tx(|c| request_log(c, None, 50)).expect("read");
        let serials: Vec<&str> = kept.iter().map(|e| e.serial_number.as_str()).collect();
        assert_eq!(serials, ["6", "5", "4"]);
        let older = s
            .tx(|c| request_log(c, Some(kept[1].id), 50))
            .expect("read");
        assert_eq!(older.len(), 1, "paged by id");
    }
}
