//! The embedded store: one SQLite file, WAL mode. Versioned by `PRAGMA
//! user_version`; a claim is a lease (`claimed_until`) taken inside a
//! `BEGIN IMMEDIATE` transaction, SQLite's single writer standing in for
//! PostgreSQL's row locks.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use et_model::OrderStatus;
use rusqlite::types::Value;
use rusqlite::{params, Connection, TransactionBehavior};

use crate::event::{new_token, now_ms, sort_out, Unreadable};
use crate::state::state;
use crate::store::{keep_newest_status, millis, pending, HELD_INDEX};
use crate::{Claimed, Counts, Error, Inserted, NewEvent, State, Store, TrackedOrder};

/// Schema migrations, in order; `user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    concat!(
        r"
CREATE TABLE et_inbox_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup_key     TEXT    NOT NULL UNIQUE,
    source        TEXT    NOT NULL,
    order_id      TEXT,
    fields        TEXT    NOT NULL,
    received_at   INTEGER NOT NULL,
    state         TEXT    NOT NULL DEFAULT ",
        state!(Pending),
        r",
    attempts      INTEGER NOT NULL DEFAULT 0,
    available_at  INTEGER NOT NULL,
    claim_token   INTEGER,
    claimed_until INTEGER,
    last_error    TEXT,
    done_at       INTEGER
);
CREATE INDEX et_inbox_events_claimable ON et_inbox_events (state, available_at);
CREATE TABLE et_inbox_orders (
    order_id   TEXT PRIMARY KEY,
    status     INTEGER,
    final      INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
"
    ),
    HELD_INDEX,
    r"
-- When the kept status took effect, yyyyMMddHHmmss (Beijing time).
ALTER TABLE et_inbox_orders ADD COLUMN status_time INTEGER;
",
];

/// The SQLite inbox store. Cheap to clone (one shared connection; SQLite
/// writes one at a time anyway). Several processes may share the file.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the inbox at `path` and applies pending
    /// migrations.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::with_connection(Connection::open(path)?)
    }

    /// An inbox in memory, gone with the process (tests, demos).
    pub fn in_memory() -> Result<Self, Error> {
        Self::with_connection(Connection::open_in_memory()?)
    }

    fn with_connection(mut conn: Connection) -> Result<Self, Error> {
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        migrate(&mut conn)?;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Marks `claim` done in the same transaction as the merchant's own
    /// writes in `work` (tables in the same file): both commit or neither.
    /// [`Error::LeaseLost`] rolls `work` back.
    pub async fn complete_with<T, F>(&self, claim: &Claimed, work: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        let (id, token) = (claim.id, claim.token);
        self.blocking(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = work(&tx)?;
            mark_done(&tx, id, token)?;
            tx.commit()?;
            Ok(value)
        })
        .await
    }

    /// Runs `f` on the connection off the async threads.
    pub(crate) async fn blocking<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, Error> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || f(&mut lock(&conn)))
            .await
            .map_err(Error::Task)?
    }
}

/// The connection, even if a panicking task poisoned the lock: every
/// change runs in a transaction, which a panic rolls back.
fn lock(conn: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn migrate(conn: &mut Connection) -> Result<(), Error> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let applied: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let (todo, known) = pending(MIGRATIONS, applied)?;
    for sql in todo {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", known)?;
    tx.commit()?;
    Ok(())
}

/// Marks a claimed event done. The row keeps its claim token, so that the
/// same claim marking it again can tell (see [`done_under`]).
fn mark_done(conn: &Connection, id: i64, token: i64) -> Result<(), Error> {
    let changed = conn.execute(
        concat!(
            "UPDATE et_inbox_events SET state = ",
            state!(Done),
            ", done_at = ?3 WHERE id = ?1 AND claim_token = ?2 AND state = ",
            state!(Claimed)
        ),
        params![id, token, now_ms()],
    )?;
    if changed == 1 {
        Ok(())
    } else {
        Err(Error::LeaseLost { id })
    }
}

/// Whether the event was marked done under this claim.
fn done_under(conn: &Connection, id: i64, token: i64) -> Result<bool, Error> {
    let found: i64 = conn.query_row(
        concat!(
            "SELECT count(*) FROM et_inbox_events WHERE id = ?1 AND claim_token = ?2 AND state = ",
            state!(Done)
        ),
        params![id, token],
        |row| row.get(0),
    )?;
    Ok(found == 1)
}

/// A claimed row as SQLite returned it; any column may hold any type in a
/// hand-edited file, so each is read as a plain value first.
type RawRow = (i64, Value, Value, Value, Value);

fn read_claimed(
    (id, key, source, fields, attempts): RawRow,
    token: i64,
) -> Result<Claimed, Unreadable> {
    let text = |value, what| match value {
        Value::Text(text) => Ok(text),
        _ => Err(Unreadable { id, what }),
    };
    let Value::Integer(attempts) = attempts else {
        return Err(Unreadable {
            id,
            what: "attempts is not an integer",
        });
    };
    Claimed::from_row(
        id,
        text(key, "dedup_key is not text")?,
        &text(source, "source is not text")?,
        &text(fields, "fields are not text")?,
        attempts,
        token,
    )
}

impl Store for SqliteStore {
    async fn insert(&self, event: &NewEvent) -> Result<Inserted, Error> {
        let event = event.clone();
        self.blocking(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = now_ms();
            let stored = tx.execute(
                "INSERT INTO et_inbox_events
                     (dedup_key, source, order_id, fields, received_at, available_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (dedup_key) DO NOTHING",
                params![
                    event.dedup_key,
                    event.source.as_str(),
                    event.order_id,
                    event.fields_json(),
                    now
                ],
            )? == 1;
            if let (true, Some(order_id)) = (stored, &event.order_id) {
                let status = event.order_status;
                tx.execute(
                    concat!(
                        "INSERT INTO et_inbox_orders (order_id, status, status_time, final, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                        keep_newest_status!()
                    ),
                    params![
                        order_id,
                        status.map(OrderStatus::code),
                        event.status_time(),
                        status.is_some_and(OrderStatus::is_terminal),
                        now
                    ],
                )?;
            }
            tx.commit()?;
            Ok(Inserted::wrote(stored))
        })
        .await
    }

    async fn claim(
        &self,
        limit: u32,
        lease: Duration,
        max_attempts: u32,
    ) -> Result<Vec<Claimed>, Error> {
        let lease = millis(lease);
        self.blocking(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = now_ms();
            tx.execute(
                concat!(
                    "UPDATE et_inbox_events SET state = ",
                    state!(Dead),
                    ", claim_token = NULL, last_error = 'lease ended after the last attempt'
                     WHERE state = ",
                    state!(Claimed),
                    " AND claimed_until <= ?1 AND attempts >= ?2"
                ),
                params![now, max_attempts],
            )?;
            let token = new_token();
            let rows = tx
                .prepare(concat!(
                    "UPDATE et_inbox_events
                     SET state = ",
                    state!(Claimed),
                    ", claim_token = ?1, claimed_until = ?2 + ?3, attempts = attempts + 1
                     WHERE id IN (SELECT id FROM et_inbox_events
                                  WHERE (state = ",
                    state!(Pending),
                    " AND available_at <= ?2) OR (state = ",
                    state!(Claimed),
                    " AND claimed_until <= ?2) ORDER BY id LIMIT ?4)
                     RETURNING id, dedup_key, source, fields, attempts"
                ))?
                .query_map(params![token, now, lease, limit], |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                    ))
                })?
                .collect::<Result<Vec<RawRow>, _>>()?;
            let (claimed, unreadable) =
                sort_out(rows.into_iter().map(|row| read_claimed(row, token)));
            for row in unreadable {
                tx.execute(
                    "UPDATE et_inbox_events SET state = ?3, claim_token = NULL, last_error = ?2
                     WHERE id = ?1",
                    params![row.id, row.reason(), State::Dead],
                )?;
            }
            tx.commit()?;
            Ok(claimed)
        })
        .await
    }

    async fn complete(&self, claim: &Claimed) -> Result<(), Error> {
        let (id, token) = (claim.id, claim.token);
        self.blocking(move |conn| match mark_done(conn, id, token) {
            Err(Error::LeaseLost { .. }) if done_under(conn, id, token)? => Ok(()),
            marked => marked,
        })
        .await
    }

    async fn renew(&self, batch: &Claimed, lease: Duration) -> Result<Vec<i64>, Error> {
        let (token, lease) = (batch.token, millis(lease));
        self.blocking(move |conn| {
            let mut held = conn
                .prepare(concat!(
                    "UPDATE et_inbox_events SET claimed_until = ?2 + ?3 WHERE claim_token = ?1 AND state = ",
                    state!(Claimed),
                    " RETURNING id"
                ))?
                .query_map(params![token, now_ms(), lease], |row| row.get(0))?
                .collect::<Result<Vec<i64>, _>>()?;
            held.sort_unstable();
            Ok(held)
        })
        .await
    }

    async fn fail(
        &self,
        claim: &Claimed,
        retry_in: Option<Duration>,
        reason: &str,
    ) -> Result<(), Error> {
        let (id, token, reason) = (claim.id, claim.token, reason.to_owned());
        let (state, delay) = match retry_in {
            Some(delay) => (State::Pending, millis(delay)),
            None => (State::Dead, 0),
        };
        self.blocking(move |conn| {
            let changed = conn.execute(
                concat!(
                    "UPDATE et_inbox_events
                     SET state = ?3, available_at = ?4 + ?5, last_error = ?6, claim_token = NULL
                     WHERE id = ?1 AND claim_token = ?2 AND state = ",
                    state!(Claimed)
                ),
                params![id, token, state, now_ms(), delay, reason],
            )?;
            if changed == 1 {
                Ok(())
            } else {
                Err(Error::LeaseLost { id })
            }
        })
        .await
    }

    async fn counts(&self) -> Result<Counts, Error> {
        self.blocking(|conn| {
            let mut counts = Counts::default();
            let mut stmt = conn.prepare(
                "SELECT state, count(*), min(received_at) FROM et_inbox_events GROUP BY state",
            )?;
            let rows = stmt.query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, Option<i64>>(2)?,
                ))
            })?;
            for row in rows {
                let (state, n, oldest) = row?;
                counts.add(&state, n, oldest);
            }
            Ok(counts)
        })
        .await
    }

    async fn track_order(&self, order_id: &str) -> Result<(), Error> {
        let order_id = order_id.to_owned();
        self.blocking(move |conn| {
            conn.execute(
                "INSERT INTO et_inbox_orders (order_id, updated_at) VALUES (?1, ?2)
                 ON CONFLICT (order_id) DO NOTHING",
                params![order_id, now_ms()],
            )?;
            Ok(())
        })
        .await
    }

    async fn open_orders(&self, after: &str, limit: u32) -> Result<Vec<TrackedOrder>, Error> {
        let after = after.to_owned();
        self.blocking(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT order_id, status FROM et_inbox_orders
                 WHERE final = 0 AND order_id > ?1 ORDER BY order_id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![after, limit], |row| {
                Ok(TrackedOrder {
                    order_id: row.get(0)?,
                    status: row.get::<_, Option<i64>>(1)?.map(OrderStatus::from_code),
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_first_schema_database_is_upgraded_in_place_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inbox.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.execute_batch(
            "PRAGMA user_version = 1;
             INSERT INTO et_inbox_orders (order_id, status, final, updated_at)
             VALUES ('ET-OLD', 1, 0, 0);",
        )
        .unwrap();
        drop(conn);
        let store = SqliteStore::open(&path).unwrap();
        let listed = |orders: Vec<TrackedOrder>| {
            orders
                .into_iter()
                .map(|o| (o.order_id, o.status))
                .collect::<Vec<_>>()
        };
        let open = store.open_orders("", 10).await.unwrap();
        assert_eq!(
            listed(open),
            [("ET-OLD".to_owned(), Some(OrderStatus::Paid))]
        );
        // A status stored before status times is older than any dated one.
        let remitting =
            NewEvent::reconciled("ET-OLD", OrderStatus::Remitting, std::time::UNIX_EPOCH);
        store.insert(&remitting).await.unwrap();
        let open = store.open_orders("", 10).await.unwrap();
        assert_eq!(
            listed(open),
            [("ET-OLD".to_owned(), Some(OrderStatus::Remitting))]
        );
    }

    #[test]
    fn migrations_are_applied_once_and_a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inbox.db");
        drop(SqliteStore::open(&path).unwrap());
        drop(SqliteStore::open(&path).unwrap()); // re-opening applies nothing twice
        let conn = Connection::open(&path).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        assert!(matches!(
            SqliteStore::open(&path),
            Err(Error::SchemaTooNew { found: 99, .. })
        ));
    }
}
