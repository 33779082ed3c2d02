//! The shared store: PostgreSQL through tokio-postgres, for several
//! receiver and consumer instances on one database. Versioned by the
//! `et_inbox_schema` table, migrated under an advisory lock so instances
//! starting together migrate once. Claims use `FOR UPDATE SKIP LOCKED`;
//! every timestamp is the database's clock, so instances' clocks may differ.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use et_model::OrderStatus;
use tokio::sync::{Mutex, OwnedMutexGuard};
use tokio_postgres::{Client, NoTls};

use crate::event::new_token;
use crate::store::{millis, pending};
use crate::{Claimed, Counts, Error, Inserted, NewEvent, Store, TrackedOrder};

/// The database's clock in Unix milliseconds.
macro_rules! now_ms {
    () => {
        "(extract(epoch from clock_timestamp()) * 1000)::bigint"
    };
}

/// Schema migrations, in order; `et_inbox_schema.version` counts those applied.
const MIGRATIONS: &[&str] = &[r"
CREATE TABLE et_inbox_events (
    id            BIGSERIAL PRIMARY KEY,
    dedup_key     TEXT    NOT NULL UNIQUE,
    source        TEXT    NOT NULL,
    order_id      TEXT,
    fields        TEXT    NOT NULL,
    received_at   BIGINT  NOT NULL,
    state         TEXT    NOT NULL DEFAULT 'pending',
    attempts      INTEGER NOT NULL DEFAULT 0,
    available_at  BIGINT  NOT NULL,
    claim_token   BIGINT,
    claimed_until BIGINT,
    last_error    TEXT,
    done_at       BIGINT
);
CREATE INDEX et_inbox_events_claimable ON et_inbox_events (state, available_at);
CREATE TABLE et_inbox_orders (
    order_id   TEXT PRIMARY KEY,
    status     BIGINT,
    final      BOOLEAN NOT NULL DEFAULT false,
    updated_at BIGINT  NOT NULL
);
"];

/// Advisory lock key serialising migrations ("etinbox" in ASCII).
const MIGRATION_LOCK: i64 = 0x0065_7469_6e62_6f78;

/// The PostgreSQL inbox store: a few connections used in turn. Cheap to
/// clone. A connection that dropped is re-opened on its next use.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Pool>,
}

struct Pool {
    url: String,
    connections: Vec<Arc<Mutex<Option<Client>>>>,
    next: AtomicUsize,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.debug_struct("PgStore")
            .field("connections", &self.inner.connections.len())
            .finish_non_exhaustive()
    }
}

/// A live connection taken from the pool until dropped.
type Conn = OwnedMutexGuard<Option<Client>>;

impl PgStore {
    /// Connects to `url` (e.g. `postgresql://user:pass@127.0.0.1/db`; no
    /// TLS, so for a database on loopback or a private network) with
    /// `connections` connections, and applies pending migrations.
    pub async fn connect(url: &str, connections: usize) -> Result<Self, Error> {
        let store = PgStore {
            inner: Arc::new(Pool {
                url: url.to_owned(),
                connections: (0..connections.max(1))
                    .map(|_| Arc::new(Mutex::new(None)))
                    .collect(),
                next: AtomicUsize::new(0),
            }),
        };
        let mut conn = store.conn().await?;
        migrate(live(&mut conn)).await?;
        Ok(store)
    }

    /// Starts marking `claim` done in one transaction with the merchant's
    /// own writes: run them on [`PgCompletion::client`], then
    /// [`PgCompletion::commit`]. Dropping it uncommitted rolls back.
    pub async fn begin_completion(&self, claim: &Claimed) -> Result<PgCompletion, Error> {
        let mut conn = self.conn().await?;
        live(&mut conn).batch_execute("BEGIN").await?;
        Ok(PgCompletion {
            conn: Some(conn),
            id: claim.id,
            token: claim.token,
        })
    }

    /// Runs one statement on a pooled connection (for the merchant's own
    /// tables, tests and tools).
    pub async fn execute(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<u64, Error> {
        let mut conn = self.conn().await?;
        Ok(live(&mut conn).execute(sql, params).await?)
    }

    /// Runs a query on a pooled connection and returns its rows.
    pub async fn query(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>, Error> {
        let mut conn = self.conn().await?;
        Ok(live(&mut conn).query(sql, params).await?)
    }

    /// The next connection in turn, (re)connected if needed.
    async fn conn(&self) -> Result<Conn, Error> {
        let pool = &self.inner;
        let at = pool.next.fetch_add(1, Ordering::Relaxed) % pool.connections.len();
        let mut conn = Arc::clone(&pool.connections[at]).lock_owned().await;
        if conn.as_ref().is_none_or(Client::is_closed) {
            let (client, connection) = tokio_postgres::connect(&pool.url, NoTls).await?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::warn!(error = %e, "inbox PostgreSQL connection ended");
                }
            });
            *conn = Some(client);
        }
        Ok(conn)
    }
}

/// The client of a connection [`PgStore::conn`] made live.
fn live(conn: &mut Conn) -> &Client {
    conn.as_ref()
        .expect("PgStore::conn returns a connected client")
}

async fn migrate(client: &Client) -> Result<(), Error> {
    client.batch_execute("BEGIN").await?;
    let result = async {
        client
            .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        client
            .batch_execute("CREATE TABLE IF NOT EXISTS et_inbox_schema (version BIGINT NOT NULL)")
            .await?;
        let applied: i64 = client
            .query_opt("SELECT version FROM et_inbox_schema", &[])
            .await?
            .map_or(0, |row| row.get(0));
        let (todo, known) = pending(MIGRATIONS, applied)?;
        for sql in todo {
            client.batch_execute(sql).await?;
        }
        client.execute("DELETE FROM et_inbox_schema", &[]).await?;
        client
            .execute(
                "INSERT INTO et_inbox_schema (version) VALUES ($1)",
                &[&known],
            )
            .await?;
        Ok(())
    }
    .await;
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    client.batch_execute(end).await?;
    result
}

const MARK_DONE: &str = concat!(
    "UPDATE et_inbox_events SET state = 'done', done_at = ",
    now_ms!(),
    ", claim_token = NULL WHERE id = $1 AND claim_token = $2 AND state = 'claimed'"
);

/// Marks a claimed event done in one transaction with the merchant's own
/// writes (see [`PgStore::begin_completion`]).
///
/// ```no_run
/// # async fn f(store: et_inbox::PgStore, claim: et_inbox::Claimed) -> Result<(), et_inbox::Error> {
/// let done = store.begin_completion(&claim).await?;
/// done.client()
///     .execute("UPDATE orders SET paid = true WHERE et_order_id = $1",
///              &[&claim.fields["order_id"]])
///     .await?;
/// done.commit().await?; // the merchant's update and "done" commit together
/// # Ok(()) }
/// ```
pub struct PgCompletion {
    conn: Option<Conn>,
    id: i64,
    token: i64,
}

impl std::fmt::Debug for PgCompletion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgCompletion")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl PgCompletion {
    /// The connection inside the open transaction.
    pub fn client(&self) -> &Client {
        self.conn
            .as_ref()
            .and_then(|c| c.as_ref())
            .expect("a PgCompletion holds its connection until committed")
    }

    /// Marks the event done and commits with everything run on
    /// [`client`](Self::client). [`Error::LeaseLost`] if another consumer
    /// claimed it meanwhile: then everything is rolled back.
    pub async fn commit(mut self) -> Result<(), Error> {
        let (id, token) = (self.id, self.token);
        let Some(conn) = self.conn.as_mut() else {
            return Ok(());
        };
        let client = live(conn);
        let marked = client.execute(MARK_DONE, &[&id, &token]).await;
        let end = if matches!(marked, Ok(1)) {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        client.batch_execute(end).await?;
        // Ended cleanly: the connection goes back to the pool as it is.
        self.conn.take();
        match marked? {
            1 => Ok(()),
            _ => Err(Error::LeaseLost { id }),
        }
    }
}

impl Drop for PgCompletion {
    /// Not committed (dropped, an error, or `commit` cancelled midway):
    /// the connection is closed, which makes the server roll back, and the
    /// pool opens a fresh one on its next use.
    fn drop(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            *conn = None;
        }
    }
}

impl Store for PgStore {
    async fn insert(&self, event: &NewEvent) -> Result<Inserted, Error> {
        const INSERT: &str = concat!(
            "WITH ins AS (
                 INSERT INTO et_inbox_events
                     (dedup_key, source, order_id, fields, received_at, available_at)
                 VALUES ($1, $2, $3, $4, ",
            now_ms!(),
            ", ",
            now_ms!(),
            ") ON CONFLICT (dedup_key) DO NOTHING RETURNING order_id),
             ord AS (
                 INSERT INTO et_inbox_orders (order_id, status, final, updated_at)
                 SELECT order_id, $5::bigint, $6, ",
            now_ms!(),
            " FROM ins WHERE order_id IS NOT NULL
                 ON CONFLICT (order_id) DO UPDATE SET
                     status = coalesce(EXCLUDED.status, et_inbox_orders.status),
                     final = CASE WHEN EXCLUDED.status IS NULL THEN et_inbox_orders.final
                                  ELSE EXCLUDED.final END,
                     updated_at = EXCLUDED.updated_at)
             SELECT count(*) FROM ins"
        );
        let status = event.order_status.map(OrderStatus::code);
        let terminal = event.order_status.is_some_and(OrderStatus::is_terminal);
        let mut conn = self.conn().await?;
        let row = live(&mut conn)
            .query_one(
                INSERT,
                &[
                    &event.dedup_key,
                    &event.source.as_str(),
                    &event.order_id,
                    &event.fields_json(),
                    &status,
                    &terminal,
                ],
            )
            .await?;
        Ok(if row.get::<_, i64>(0) == 1 {
            Inserted::Stored
        } else {
            Inserted::AlreadyStored
        })
    }

    async fn claim(
        &self,
        limit: u32,
        lease: Duration,
        max_attempts: u32,
    ) -> Result<Vec<Claimed>, Error> {
        const BURY: &str = concat!(
            "UPDATE et_inbox_events SET state = 'dead', claim_token = NULL,
                 last_error = 'lease ended after the last attempt'
             WHERE id IN (SELECT id FROM et_inbox_events
                          WHERE state = 'claimed' AND claimed_until <= ",
            now_ms!(),
            " AND attempts >= $1 FOR UPDATE SKIP LOCKED)"
        );
        const CLAIM: &str = concat!(
            "WITH picked AS (
                 SELECT id FROM et_inbox_events
                 WHERE (state = 'pending' AND available_at <= ",
            now_ms!(),
            ") OR (state = 'claimed' AND claimed_until <= ",
            now_ms!(),
            ") ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
             UPDATE et_inbox_events e
             SET state = 'claimed', claim_token = $2, claimed_until = ",
            now_ms!(),
            " + $3, attempts = e.attempts + 1
             FROM picked WHERE e.id = picked.id
             RETURNING e.id, e.dedup_key, e.source, e.fields, e.attempts"
        );
        let max_attempts = i32::try_from(max_attempts).unwrap_or(i32::MAX);
        let token = new_token();
        let mut conn = self.conn().await?;
        let client = live(&mut conn);
        client.execute(BURY, &[&max_attempts]).await?;
        let rows = client
            .query(CLAIM, &[&i64::from(limit), &token, &millis(lease)])
            .await?;
        let mut claimed = rows
            .iter()
            .map(|row| {
                Claimed::from_row(
                    row.get(0),
                    row.get(1),
                    row.get(2),
                    row.get(3),
                    i64::from(row.get::<_, i32>(4)),
                    token,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        claimed.sort_unstable_by_key(|c| c.id);
        Ok(claimed)
    }

    async fn complete(&self, claim: &Claimed) -> Result<(), Error> {
        let mut conn = self.conn().await?;
        match live(&mut conn)
            .execute(MARK_DONE, &[&claim.id, &claim.token])
            .await?
        {
            1 => Ok(()),
            _ => Err(Error::LeaseLost { id: claim.id }),
        }
    }

    async fn fail(
        &self,
        claim: &Claimed,
        retry_in: Option<Duration>,
        reason: &str,
    ) -> Result<(), Error> {
        const FAIL: &str = concat!(
            "UPDATE et_inbox_events
             SET state = $3, available_at = ",
            now_ms!(),
            " + $4, last_error = $5, claim_token = NULL
             WHERE id = $1 AND claim_token = $2 AND state = 'claimed'"
        );
        let (state, delay) = match retry_in {
            Some(delay) => ("pending", millis(delay)),
            None => ("dead", 0),
        };
        let mut conn = self.conn().await?;
        match live(&mut conn)
            .execute(FAIL, &[&claim.id, &claim.token, &state, &delay, &reason])
            .await?
        {
            1 => Ok(()),
            _ => Err(Error::LeaseLost { id: claim.id }),
        }
    }

    async fn counts(&self) -> Result<Counts, Error> {
        let rows = self
            .query(
                "SELECT state, count(*) FROM et_inbox_events GROUP BY state",
                &[],
            )
            .await?;
        let mut counts = Counts::default();
        for row in rows {
            let n = u64::try_from(row.get::<_, i64>(1)).unwrap_or(0);
            match row.get::<_, &str>(0) {
                "pending" => counts.pending = n,
                "claimed" => counts.claimed = n,
                "done" => counts.done = n,
                _ => counts.dead += n,
            }
        }
        Ok(counts)
    }

    async fn track_order(&self, order_id: &str) -> Result<(), Error> {
        self.execute(
            concat!(
                "INSERT INTO et_inbox_orders (order_id, updated_at) VALUES ($1, ",
                now_ms!(),
                ") ON CONFLICT (order_id) DO NOTHING"
            ),
            &[&order_id],
        )
        .await?;
        Ok(())
    }

    async fn open_orders(&self, after: &str, limit: u32) -> Result<Vec<TrackedOrder>, Error> {
        let rows = self
            .query(
                "SELECT order_id, status FROM et_inbox_orders
                 WHERE NOT final AND order_id > $1 ORDER BY order_id LIMIT $2",
                &[&after, &i64::from(limit)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| TrackedOrder {
                order_id: row.get(0),
                status: row.get::<_, Option<i64>>(1).map(OrderStatus::from_code),
            })
            .collect())
    }
}
