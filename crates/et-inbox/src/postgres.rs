//! The shared store: PostgreSQL through tokio-postgres, for several
//! receiver and consumer instances on one database. Versioned by the
//! `et_inbox_schema` table, migrated under an advisory lock so instances
//! starting together migrate once. Claims use `FOR UPDATE SKIP LOCKED`;
//! every timestamp is the database's clock, so instances' clocks may differ.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use et_model::OrderStatus;
use tokio::sync::{Mutex, OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};
use tokio_postgres::{Client, Config, NoTls};

use crate::event::{new_token, sort_out, Unreadable};
use crate::state::state;
use crate::store::{keep_newest_status, millis, pending, HELD_INDEX};
use crate::{Claimed, Counts, Error, Inserted, NewEvent, State, Store, TrackedOrder};

/// The database's clock in Unix milliseconds.
macro_rules! now_ms {
    () => {
        "(extract(epoch from clock_timestamp()) * 1000)::bigint"
    };
}
pub(crate) use now_ms;

/// Schema migrations, in order; `et_inbox_schema.version` counts those applied.
const MIGRATIONS: &[&str] = &[
    concat!(
        r"
CREATE TABLE et_inbox_events (
    id            BIGSERIAL PRIMARY KEY,
    dedup_key     TEXT    NOT NULL UNIQUE,
    source        TEXT    NOT NULL,
    order_id      TEXT,
    fields        TEXT    NOT NULL,
    received_at   BIGINT  NOT NULL,
    state         TEXT    NOT NULL DEFAULT ",
        state!(Pending),
        r",
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
"
    ),
    HELD_INDEX,
    r"
-- When the kept status took effect, yyyyMMddHHmmss (Beijing time).
ALTER TABLE et_inbox_orders ADD COLUMN status_time BIGINT;
",
];

/// How the inbox's connections are named in `pg_stat_activity` unless the
/// URL names them.
pub const APPLICATION_NAME: &str = "et-inbox";

/// Advisory lock key serialising migrations ("etinbox" in ASCII).
const MIGRATION_LOCK: i64 = 0x0065_7469_6e62_6f78;

/// The PostgreSQL inbox store: a few connections used in turn. Cheap to
/// clone. A connection that dropped is re-opened on its next use.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Pool>,
}

struct Pool {
    config: Config,
    connections: Vec<Arc<Mutex<Option<Client>>>>,
    /// One permit per connection: whoever holds one finds a free
    /// connection, so a connection held long (an open [`PgCompletion`])
    /// does not queue others behind it while another is free.
    free: Arc<Semaphore>,
    next: AtomicUsize,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The configuration carries the password.
        f.debug_struct("PgStore")
            .field("connections", &self.inner.connections.len())
            .finish_non_exhaustive()
    }
}

/// A connection taken from the pool until dropped.
struct Conn {
    // Dropped in this order: the connection is free before the permit that
    // lets another caller look for it comes back.
    slot: OwnedMutexGuard<Option<Client>>,
    _free: Option<OwnedSemaphorePermit>,
}

impl Deref for Conn {
    type Target = Option<Client>;

    fn deref(&self) -> &Option<Client> {
        &self.slot
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut Option<Client> {
        &mut self.slot
    }
}

impl PgStore {
    /// Connects to `url` (e.g. `postgresql://user:pass@127.0.0.1/db`; no
    /// TLS, so for a database on loopback or a private network) with
    /// `connections` connections, and applies pending migrations.
    ///
    /// A connection that the server ended (a restart, a failover,
    /// `pg_terminate_backend`) fails the operation that was using it and is
    /// opened again on its next use. Unless `url` sets them, connections
    /// give up connecting after 10 s (`connect_timeout`), drop after 30 s
    /// of unacknowledged data (`tcp_user_timeout`, on Linux), and are named
    /// `et-inbox` in `pg_stat_activity` (`application_name`).
    pub async fn connect(url: &str, connections: usize) -> Result<Self, Error> {
        let mut config: Config = url.parse()?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_tcp_user_timeout().is_none() {
            config.tcp_user_timeout(Duration::from_secs(30));
        }
        if config.get_application_name().is_none() {
            config.application_name(APPLICATION_NAME);
        }
        let connections = connections.max(1);
        let store = PgStore {
            inner: Arc::new(Pool {
                config,
                connections: (0..connections)
                    .map(|_| Arc::new(Mutex::new(None)))
                    .collect(),
                free: Arc::new(Semaphore::new(connections)),
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
    ///
    /// It holds one of the store's connections until then, and the lease
    /// is renewed on another: give the store more connections than events
    /// completing this way at once. Called from the
    /// processing of [`Inbox::process`](crate::Inbox::process), the event
    /// is then already done when `process` marks it, which is `Ok`.
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

    /// A free connection (the next in turn that is free), waiting while
    /// all are in use; (re)connected if needed.
    async fn conn(&self) -> Result<Conn, Error> {
        let pool = &self.inner;
        // The semaphore is never closed, so this is always a permit.
        let free = Arc::clone(&pool.free).acquire_owned().await.ok();
        let n = pool.connections.len();
        let start = pool.next.fetch_add(1, Ordering::Relaxed);
        let slot = (0..n).find_map(|i| {
            Arc::clone(&pool.connections[(start + i) % n])
                .try_lock_owned()
                .ok()
        });
        let slot = match slot {
            Some(slot) => slot,
            // Unreachable while every holder has a permit; waiting keeps it correct anyway.
            None => Arc::clone(&pool.connections[start % n]).lock_owned().await,
        };
        let mut conn = Conn { slot, _free: free };
        if conn.as_ref().is_none_or(Client::is_closed) {
            let (client, connection) = pool.config.connect(NoTls).await?;
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

/// The ids in the first column of `rows`, in increasing order.
pub(crate) fn sorted_ids(rows: &[tokio_postgres::Row]) -> Result<Vec<i64>, Error> {
    let mut ids = rows
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<Vec<i64>, _>>()?;
    ids.sort_unstable();
    Ok(ids)
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

/// Marks a claimed event done. The row keeps its claim token, so that the
/// same claim marking it again can tell (see [`DONE_UNDER`]).
const MARK_DONE: &str = concat!(
    "UPDATE et_inbox_events SET state = ",
    state!(Done),
    ", done_at = ",
    now_ms!(),
    " WHERE id = $1 AND claim_token = $2 AND state = ",
    state!(Claimed)
);

/// Whether the event was marked done under this claim.
const DONE_UNDER: &str = concat!(
    "SELECT count(*) FROM et_inbox_events WHERE id = $1 AND claim_token = $2 AND state = ",
    state!(Done)
);

/// A claimed row; the schema fixes each column's type, so a value that
/// does not read is a changed table, and sets aside only its row. The id
/// is the primary key: without it the claim fails as a whole.
fn read_claimed(
    row: &tokio_postgres::Row,
    token: i64,
) -> Result<Result<Claimed, Unreadable>, Error> {
    let id: i64 = row.try_get(0)?;
    let text = |at, what| {
        row.try_get::<_, String>(at)
            .map_err(|_| Unreadable { id, what })
    };
    let read = || {
        let attempts = row.try_get::<_, i32>(4).map_err(|_| Unreadable {
            id,
            what: "attempts is not an integer",
        })?;
        Claimed::from_row(
            id,
            text(1, "dedup_key is not text")?,
            &text(2, "source is not text")?,
            &text(3, "fields are not text")?,
            i64::from(attempts),
            token,
        )
    };
    Ok(read())
}

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
                 INSERT INTO et_inbox_orders (order_id, status, status_time, final, updated_at)
                 SELECT order_id, $5::bigint, $7::bigint, $6, ",
            now_ms!(),
            " FROM ins WHERE order_id IS NOT NULL",
            keep_newest_status!(),
            ")
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
                    &event.status_time(),
                ],
            )
            .await?;
        Ok(Inserted::wrote(row.get::<_, i64>(0) == 1))
    }

    async fn claim(
        &self,
        limit: u32,
        lease: Duration,
        max_attempts: u32,
    ) -> Result<Vec<Claimed>, Error> {
        const BURY: &str = concat!(
            "UPDATE et_inbox_events SET state = ",
            state!(Dead),
            ", claim_token = NULL, last_error = 'lease ended after the last attempt'
             WHERE id IN (SELECT id FROM et_inbox_events WHERE state = ",
            state!(Claimed),
            " AND claimed_until <= ",
            now_ms!(),
            " AND attempts >= $1 FOR UPDATE SKIP LOCKED)"
        );
        const CLAIM: &str = concat!(
            "WITH picked AS (
                 SELECT id FROM et_inbox_events
                 WHERE (state = ",
            state!(Pending),
            " AND available_at <= ",
            now_ms!(),
            ") OR (state = ",
            state!(Claimed),
            " AND claimed_until <= ",
            now_ms!(),
            ") ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
             UPDATE et_inbox_events e
             SET state = ",
            state!(Claimed),
            ", claim_token = $2, claimed_until = ",
            now_ms!(),
            " + $3, attempts = e.attempts + 1
             FROM picked WHERE e.id = picked.id
             RETURNING e.id, e.dedup_key, e.source, e.fields, e.attempts"
        );
        const SET_ASIDE: &str = concat!(
            "UPDATE et_inbox_events SET state = ",
            state!(Dead),
            ", claim_token = NULL, last_error = $3 WHERE id = $1 AND claim_token = $2"
        );
        let max_attempts = i32::try_from(max_attempts).unwrap_or(i32::MAX);
        let token = new_token();
        let mut conn = self.conn().await?;
        let client = live(&mut conn);
        client.execute(BURY, &[&max_attempts]).await?;
        let rows = client
            .query(CLAIM, &[&i64::from(limit), &token, &millis(lease)])
            .await?;
        let rows = rows
            .iter()
            .map(|row| read_claimed(row, token))
            .collect::<Result<Vec<_>, _>>()?;
        let (claimed, unreadable) = sort_out(rows);
        for row in unreadable {
            // Not set aside now: it comes back when its lease ends, and is
            // set aside then. The readable rest is handed out anyway.
            if let Err(e) = client
                .execute(SET_ASIDE, &[&row.id, &token, &row.reason()])
                .await
            {
                tracing::warn!(id = row.id, error = %e, "could not set an unreadable inbox event aside");
            }
        }
        Ok(claimed)
    }

    async fn complete(&self, claim: &Claimed) -> Result<(), Error> {
        let mut conn = self.conn().await?;
        let client = live(&mut conn);
        let ids = [
            &claim.id as &(dyn tokio_postgres::types::ToSql + Sync),
            &claim.token,
        ];
        if client.execute(MARK_DONE, &ids).await? == 1
            || client.query_one(DONE_UNDER, &ids).await?.get::<_, i64>(0) == 1
        {
            Ok(())
        } else {
            Err(Error::LeaseLost { id: claim.id })
        }
    }

    async fn renew(&self, batch: &Claimed, lease: Duration) -> Result<Vec<i64>, Error> {
        const RENEW: &str = concat!(
            "UPDATE et_inbox_events SET claimed_until = ",
            now_ms!(),
            " + $2 WHERE claim_token = $1 AND state = ",
            state!(Claimed),
            " RETURNING id"
        );
        let mut conn = self.conn().await?;
        let rows = live(&mut conn)
            .query(RENEW, &[&batch.token, &millis(lease)])
            .await?;
        sorted_ids(&rows)
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
             WHERE id = $1 AND claim_token = $2 AND state = ",
            state!(Claimed)
        );
        let (state, delay) = match retry_in {
            Some(delay) => (State::Pending, millis(delay)),
            None => (State::Dead, 0),
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
                "SELECT state, count(*), min(received_at) FROM et_inbox_events GROUP BY state",
                &[],
            )
            .await?;
        let mut counts = Counts::default();
        for row in rows {
            counts.add(row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
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
