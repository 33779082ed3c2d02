//! The SQLite store, split by table: [`schema`] (every table and its
//! migrations), [`orders`] (orders, attachments, institutions, timeline,
//! creating request), [`outbox`] (notifications and delivery attempts, their
//! life cycle), [`request_log`] and [`jumps`]; here the handle, `meta`,
//! merchants and serial numbers. Every state change happens in one
//! transaction with the notifications it causes, so a crash never loses
//! either. Each table's columns, row mapping and parameters come from one
//! record declaration ([`columns::record!`]), its typed columns from
//! [`columns::Column`].

pub(crate) mod columns;
pub(crate) mod jumps;
pub(crate) mod orders;
pub(crate) mod outbox;
pub(crate) mod request_log;
mod schema;

use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{params, params_from_iter, Connection, OpenFlags, OptionalExtension, Transaction};

use crate::clock::Millis;
use crate::files;
use crate::Error;
use columns::{record, Record};

pub(crate) use jumps::*;
pub(crate) use orders::*;
pub(crate) use outbox::*;
pub(crate) use request_log::*;
#[cfg(test)]
use schema::{SCHEMA_V1, SCHEMA_VERSION};

/// The database handle, shared by the server, the ticker and admin calls.
#[derive(Clone, Debug)]
pub(crate) struct Store {
    conn: Arc<Mutex<Connection>>,
}

record! {
    /// A merchant the sandbox knows: a row of `merchants`.
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
        conn.execute_batch(schema::PRAGMAS)?;
        schema::migrate(&mut conn, path)?;
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
    let sql = format!(
        "{} ON CONFLICT (merchant_number, sub_merchant_number)
         DO UPDATE SET public_key_pem = excluded.public_key_pem, salt = excluded.salt",
        columns::insert_sql("merchants", MerchantRecord::COLUMNS)
    );
    c.execute(&sql, params_from_iter(m.params())).map(drop)
}

/// Looks a merchant up.
pub(crate) fn merchant(
    c: &Connection,
    merchant_number: &str,
    sub_merchant_number: &str,
) -> rusqlite::Result<Option<MerchantRecord>> {
    c.query_row(
        &format!(
            "SELECT {} FROM merchants WHERE merchant_number = ?1 AND sub_merchant_number = ?2",
            MerchantRecord::columns()
        ),
        [merchant_number, sub_merchant_number],
        |r| MerchantRecord::from_row(r, 0),
    )
    .optional()
}

/// Every merchant the sandbox knows.
pub(crate) fn merchants(c: &Connection) -> rusqlite::Result<Vec<MerchantRecord>> {
    let mut st = c.prepare(&format!(
        "SELECT {} FROM merchants",
        MerchantRecord::columns()
    ))?;
    let rows = st.query_map([], |r| MerchantRecord::from_row(r, 0))?;
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

/// A fresh store in a temporary directory, for tests.
#[cfg(test)]
pub(crate) fn test_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("t.db")).expect("open");
    (dir, store)
}

#[cfg(test)]
mod tests {
    use et_model::NotificationKind::PaymentSuccess;
    use et_model::OrderStatus;

    use super::*;

    /// A stored value its column's type does not read is an error naming
    /// the type and the value, never a default: an amount, a notification
    /// kind, a delivery failure.
    #[test]
    fn a_bad_stored_value_is_a_typed_error() {
        let (_d, s) = store();
        let (order_id, id) = s
            .tx(|c| {
                let order_id = insert_sample(c)?;
                let id = enqueue(c, &order_id, PaymentSuccess, "http://x", "{}", 5)?;
                Ok::<_, rusqlite::Error>((order_id, id))
            })
            .expect("write");
        let corrupt = |sql: &str| s.tx(|c| c.execute(sql, [])).expect("corrupt");
        let bad = |e: rusqlite::Error| match e {
            rusqlite::Error::FromSqlConversionFailure(_, _, cause) => cause
                .downcast_ref::<columns::BadColumn>()
                .map(|b| (b.ty, b.found.clone())),
            _ => None,
        };
        corrupt("UPDATE orders SET tuition_rmb = 'lots'");
        let read = s.tx(|c| order(c, &order_id)).expect_err("no amount");
        assert_eq!(bad(read), Some(("amount", "lots".to_owned())));
        corrupt("UPDATE outbox SET kind = 'telegram'");
        let read = s.tx(|c| notifications(c, None)).expect_err("no kind");
        assert_eq!(
            bad(read),
            Some(("notification kind", "telegram".to_owned()))
        );
        corrupt(&format!(
            "INSERT INTO delivery_attempts (notification_id, order_id, attempted_at, url, failure,
                 reply_head, latency_ms) VALUES ({id}, 'ET1', 0, 'u', 'gremlins', x'', 0)"
        ));
        let read = s
            .tx(|c| notification_attempts(c, id))
            .expect_err("no failure");
        assert_eq!(bad(read), Some(("delivery failure", "gremlins".to_owned())));
    }

    fn store() -> (tempfile::TempDir, Store) {
        test_store()
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
            insert_sample(&old).expect("old order");
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

    /// Inserts [`NewOrder::sample`] on 2024-01-01, at 5.
    fn insert_sample(c: &Connection) -> rusqlite::Result<String> {
        insert_order(c, &NewOrder::sample(), "20240101", 5)
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
                let a = insert_sample(c)?;
                let b = insert_sample(c)?;
                Ok::<_, rusqlite::Error>((a, b))
            })
            .expect("insert");
        assert_eq!(a, "ET20240101000000001");
        assert_eq!(b, "ET20240101000000002");
        let mut o = s.tx(|c| order(c, &a)).expect("read").expect("order exists");
        assert_eq!(
            (o.status, o.amount.as_str()),
            (OrderStatus::AwaitingPayment, "100.00")
        );
        o.status = OrderStatus::Paid;
        o.status_before_refund = Some(OrderStatus::Other(7));
        o.refund_amount = Some(et_model::Amount::new("1.5").expect("amount"));
        o.pay_notify_url = "http://x".into();
        s.tx(|c| update_order(c, &o)).expect("update");
        assert_eq!(s.tx(|c| order(c, &a)).expect("read"), Some(o));
        let due = s
            .tx(|c| orders_created_before(c, OrderStatus::AwaitingPayment, 5))
            .expect("query");
        assert_eq!(due, vec![b]);
        let first = s
            .tx(|c| order_by_merchant_order_id(c, "ET82009", "M1"))
            .expect("read");
        assert_eq!(first.map(|o| o.order_id), Some(a));
        let other = s.tx(|c| order_by_merchant_order_id(c, "ET99999", "M1"));
        assert_eq!(other.expect("read"), None, "per merchant");
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
}
