//! Shared test helpers: signed notifications, the PostgreSQL gate (a fresh
//! schema per test on `ET_INBOX_PG_URL`, or a loud SKIP), and the two
//! databases behind one [`Backend`] so that one test body runs on both.
#![allow(dead_code, missing_docs, unreachable_pub)]

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use et_inbox::{Inbox, Inserted, PgStore, SqliteStore, Store, StoreAdmin};
use et_proto::{sign_notification, NotificationVerifier, Profile, UntypedObject, UntypedValue};
use http_body_util::Full;

mod pg;

pub(crate) use pg::pg_url;
use pg::{pg_admin, pg_schema};

pub(crate) const SALT: &str = "test-salt";

pub(crate) fn verifier() -> NotificationVerifier {
    NotificationVerifier::new(SALT, Profile::default().notify_sign_rule)
}

/// A signed notification with `fields`.
pub(crate) fn signed<'a>(fields: impl IntoIterator<Item = (&'a str, UntypedValue)>) -> Vec<u8> {
    let fields: UntypedObject = fields.into_iter().collect();
    sign_notification(SALT, fields)
}

/// A signed payment-success body for order `ETTEST<n>`.
pub(crate) fn payment_body(n: usize) -> Vec<u8> {
    signed([
        ("order_id", UntypedValue::string(format!("ETTEST{n:010}"))),
        ("pay_result", UntypedValue::integer(1)),
        (
            "pay_amount",
            UntypedValue::from_json("10000.00").expect("amount"),
        ),
        ("pay_datetime", UntypedValue::string("2026-12-01 10:00:00")),
        ("extend_info", UntypedValue::string("")),
    ])
}

pub(crate) fn post(body: &[u8]) -> http::Request<Full<Bytes>> {
    http::Request::post("/et/notify")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::copy_from_slice(body)))
        .expect("request")
}

/// Stores the verified payment notification `n`; its dedup key.
pub(crate) async fn put<S: Store>(inbox: &Inbox<S>, n: usize) -> String {
    let verified = verifier()
        .verify_owned(None, &payment_body(n), SystemTime::now())
        .unwrap();
    assert_eq!(inbox.put(&verified).await.unwrap(), Inserted::Stored);
    verified.dedup_key()
}

/// Stores payment notifications `0..count`; their dedup keys.
pub(crate) async fn put_all<S: Store>(inbox: &Inbox<S>, count: usize) -> Vec<String> {
    let mut keys = Vec::with_capacity(count);
    for n in 0..count {
        keys.push(put(inbox, n).await);
    }
    keys
}

/// One database under test: instances of its store, and SQL run outside
/// the inbox (to corrupt a row, or read what the inbox wrote).
pub(crate) trait Backend: Send + Sync + 'static {
    type Store: StoreAdmin;

    /// Another handle on the same database (another "instance").
    fn open(&self) -> impl Future<Output = Self::Store> + Send;

    /// Runs `sql` (no parameters, one statement, no result) on the database.
    fn sql(&self, sql: &str) -> impl Future<Output = ()> + Send;

    /// The first column of `sql`'s rows as text (`NULL` as "").
    fn texts(&self, sql: &str) -> impl Future<Output = Vec<String>> + Send;

    /// Takes the events table's write lock from outside the inbox, holds it
    /// for `hold` in the background, and returns once it is taken: the
    /// inbox can still read, but neither claim nor renew nor mark.
    fn lock_writes(&self, hold: Duration) -> impl Future<Output = ()> + Send;
}

/// A SQLite file in a temporary directory.
pub(crate) struct Sqlite {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Sqlite {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("inbox.db");
        Sqlite { _dir: dir, path }
    }
}

impl Backend for Sqlite {
    type Store = SqliteStore;

    async fn open(&self) -> SqliteStore {
        SqliteStore::open(&self.path).expect("open")
    }

    async fn sql(&self, sql: &str) {
        let conn = rusqlite::Connection::open(&self.path).expect("open");
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .expect("busy timeout");
        conn.execute(sql, []).expect(sql);
    }

    async fn texts(&self, sql: &str) -> Vec<String> {
        let conn = rusqlite::Connection::open(&self.path).expect("open");
        let mut stmt = conn.prepare(sql).expect(sql);
        let rows = stmt
            .query_map([], |row| row.get::<_, Option<String>>(0))
            .expect(sql);
        rows.map(|r| r.expect(sql).unwrap_or_default()).collect()
    }

    async fn lock_writes(&self, hold: Duration) {
        let path = self.path.clone();
        let (taken, locked) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let conn = rusqlite::Connection::open(path).expect("open");
            conn.busy_timeout(Duration::from_secs(10)).expect("busy");
            conn.execute_batch("BEGIN EXCLUSIVE").expect("lock");
            let _ = taken.send(());
            std::thread::sleep(hold);
            conn.execute_batch("COMMIT").expect("unlock");
        });
        locked.await.expect("lock taken");
    }
}

/// A fresh schema on `ET_INBOX_PG_URL`.
pub(crate) struct Postgres {
    url: String,
    test: String,
}

impl Postgres {
    /// `None` (after SKIPPED) without a server; see [`pg_url`].
    pub(crate) async fn new(test: &str) -> Option<Self> {
        Some(Postgres {
            url: pg_url(test).await?,
            test: test.to_owned(),
        })
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Terminates every connection this test's stores hold, as an
    /// administrator or a failover would; how many it ended.
    pub(crate) async fn drop_connections(&self) -> u64 {
        let ended = pg_admin()
            .await
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE application_name = left($1, 63) AND pid <> pg_backend_pid()",
                &[&pg_schema(&self.test)],
            )
            .await
            .expect("pg_terminate_backend");
        u64::try_from(ended.get::<_, i64>(0)).unwrap_or(0)
    }
}

impl Backend for Postgres {
    type Store = PgStore;

    async fn open(&self) -> PgStore {
        PgStore::connect(&self.url, 4).await.expect("connect")
    }

    async fn sql(&self, sql: &str) {
        self.open().await.execute(sql, &[]).await.expect(sql);
    }

    async fn texts(&self, sql: &str) -> Vec<String> {
        let rows = self.open().await.query(sql, &[]).await.expect(sql);
        rows.iter()
            .map(|row| row.get::<_, Option<String>>(0).unwrap_or_default())
            .collect()
    }

    async fn lock_writes(&self, hold: Duration) {
        let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(connection);
        client
            .batch_execute("BEGIN; LOCK TABLE et_inbox_events IN EXCLUSIVE MODE")
            .await
            .expect("lock");
        tokio::spawn(async move {
            tokio::time::sleep(hold).await;
            client.batch_execute("COMMIT").await.expect("unlock");
        });
    }
}

/// Declares each test once per database: `$test(backend)` runs on SQLite,
/// and on PostgreSQL (which SKIPs loudly without `ET_INBOX_PG_URL`, and
/// fails with `ET_REQUIRE_SERVICES=1`).
macro_rules! on_both_stores {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    super::$test(crate::common::Sqlite::new()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    let Some(db) = crate::common::Postgres::new(stringify!($test)).await else {
                        return;
                    };
                    super::$test(db).await;
                }
            )*
        }
    };
}
