//! One set of semantics, two stores: every test here runs on SQLite and on
//! PostgreSQL (which SKIPs loudly without `ET_INBOX_PG_URL`, and fails with
//! `ET_REQUIRE_SERVICES=1`).

use crate::common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use et_http::WebhookReceiver;
use et_inbox::{Error, Inbox, InboxConfig, Inserted, NewEvent, PgStore, SqliteStore, Store};
use et_model::OrderStatus;
use et_proto::ACK_OK;
use http_body_util::BodyExt;
use tower_service::Service;

use common::{payment_body, post, put, signed, verifier, Backend};
use et_proto::UntypedValue;

on_both_stores!(
    a_notification_delivered_many_times_is_stored_once_and_acknowledged_each_time,
    the_same_event_at_the_same_moment_on_two_receivers_is_stored_once,
    a_claimed_event_is_claimed_again_only_after_its_lease_ends,
    a_failing_event_is_retried_with_backoff_then_set_aside_as_dead,
    concurrent_consumers_process_each_event_exactly_once,
    marking_an_event_done_again_under_its_claim_changes_nothing,
    a_lease_or_a_retry_longer_than_any_clock_is_capped_not_refused,
    tracked_orders_are_listed_with_their_status_until_it_is_final,
    an_order_keeps_its_newest_status_whatever_order_its_changes_arrive_in,
);

fn fast_config() -> InboxConfig {
    InboxConfig {
        batch_size: 16,
        lease: Duration::from_secs(30),
        poll_interval: Duration::from_millis(10),
        ..InboxConfig::default()
    }
}

/// Delivers `body` through `receiver`; the HTTP status and the answer body.
async fn deliver<H: et_http::NotificationHandler>(
    receiver: &WebhookReceiver<H>,
    body: &[u8],
) -> (u16, Vec<u8>) {
    let response = receiver.clone().call(post(body)).await.expect("infallible");
    let status = response.status().as_u16();
    let answer = response.into_body().collect().await.expect("body");
    (status, answer.to_bytes().to_vec())
}

async fn a_notification_delivered_many_times_is_stored_once_and_acknowledged_each_time(
    db: impl Backend,
) {
    let inbox = Inbox::new(db.open().await, fast_config());
    let receiver = WebhookReceiver::new(verifier(), inbox.handler());
    for _ in 0..3 {
        assert_eq!(
            deliver(&receiver, &payment_body(1)).await,
            (200, ACK_OK.to_vec())
        );
    }
    assert_eq!(deliver(&receiver, &payment_body(2)).await.0, 200);
    assert_eq!(inbox.store().counts().await.unwrap().pending, 2);
    let claimed = inbox.claim().await.unwrap();
    let keys: Vec<_> = claimed.iter().map(|c| c.dedup_key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "payment_success:ETTEST0000000001:1",
            "payment_success:ETTEST0000000002:1"
        ]
    );
    assert_eq!(
        claimed[0].notification().unwrap().order_id(),
        Some("ETTEST0000000001")
    );
}

async fn the_same_event_at_the_same_moment_on_two_receivers_is_stored_once(db: impl Backend) {
    const EVENTS: usize = 100;
    // Two instances, each with its own handle on the one database.
    let a = Inbox::new(db.open().await, fast_config());
    let b = Inbox::new(db.open().await, fast_config());
    let receivers = [
        WebhookReceiver::new(verifier(), a.handler()),
        WebhookReceiver::new(verifier(), b.handler()),
    ];
    for n in 0..EVENTS {
        let body = payment_body(n);
        let both = receivers.clone().map(|receiver| {
            let body = body.clone();
            tokio::spawn(async move { deliver(&receiver, &body).await })
        });
        for delivery in both {
            assert_eq!(delivery.await.unwrap(), (200, ACK_OK.to_vec()), "event {n}");
        }
    }
    let counts = a.store().counts().await.unwrap();
    assert_eq!(counts.total(), EVENTS as u64, "{counts:?}");
}

async fn a_claimed_event_is_claimed_again_only_after_its_lease_ends(db: impl Backend) {
    let config = InboxConfig {
        batch_size: 3,
        lease: Duration::from_millis(400),
        ..fast_config()
    };
    let inbox = Inbox::new(db.open().await, config);
    for n in 0..5 {
        put(&inbox, n).await;
    }
    let first = inbox.claim().await.unwrap();
    let second = inbox.claim().await.unwrap();
    assert_eq!((first.len(), second.len()), (3, 2));
    assert!(
        inbox.claim().await.unwrap().is_empty(),
        "all five are leased"
    );
    for claim in &second {
        inbox.done(claim).await.unwrap();
    }
    // The first consumer "crashed": its three come back after the lease.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let again = inbox.claim().await.unwrap();
    let ids = |c: &[et_inbox::Claimed]| c.iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(ids(&again), ids(&first));
    assert!(again.iter().all(|c| c.attempts == 2));
    // The stale claim can no longer mark them; the new one can.
    assert!(matches!(
        inbox.done(&first[0]).await,
        Err(Error::LeaseLost { .. })
    ));
    for claim in &again {
        inbox.done(claim).await.unwrap();
    }
    let counts = inbox.store().counts().await.unwrap();
    assert_eq!((counts.done, counts.total()), (5, 5));
}

async fn a_failing_event_is_retried_with_backoff_then_set_aside_as_dead(db: impl Backend) {
    let config = InboxConfig {
        max_attempts: 3,
        first_retry: Duration::from_millis(200),
        max_retry: Duration::from_secs(1),
        ..fast_config()
    };
    let inbox = Inbox::new(db.open().await, config);
    put(&inbox, 7).await;
    let fail = |_| async { Err::<(), _>("the merchant's database is down") };
    assert_eq!(inbox.process(fail).await.unwrap().retried, 1);
    // Backing off: not claimable at once, claimable after the first wait.
    assert_eq!(inbox.process(fail).await.unwrap().claimed, 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(inbox.process(fail).await.unwrap().retried, 1);
    // The second wait is twice the first.
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(inbox.process(fail).await.unwrap().claimed, 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(inbox.process(fail).await.unwrap().dead, 1);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        inbox.process(fail).await.unwrap().claimed,
        0,
        "dead stays dead"
    );
    let counts = inbox.store().counts().await.unwrap();
    assert_eq!((counts.dead, counts.total()), (1, 1));
}

async fn concurrent_consumers_process_each_event_exactly_once(db: impl Backend) {
    const EVENTS: usize = 300;
    let feeder = Inbox::new(db.open().await, fast_config());
    for n in 0..EVENTS {
        put(&feeder, n).await;
    }
    let processed = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
    let mut consumers = Vec::new();
    for _ in 0..4 {
        let inbox = Inbox::new(db.open().await, fast_config());
        let processed = Arc::clone(&processed);
        consumers.push(tokio::spawn(async move {
            loop {
                let processed = Arc::clone(&processed);
                let report = inbox
                    .process(move |claim| {
                        *processed
                            .lock()
                            .unwrap()
                            .entry(claim.dedup_key)
                            .or_default() += 1;
                        async { Ok::<(), String>(()) }
                    })
                    .await
                    .unwrap();
                if report.claimed == 0 {
                    return;
                }
            }
        }));
    }
    for consumer in consumers {
        consumer.await.unwrap();
    }
    assert_eq!(feeder.store().counts().await.unwrap().done, EVENTS as u64);
    let processed = processed.lock().unwrap();
    assert_eq!(processed.len(), EVENTS);
    assert!(processed.values().all(|&times| times == 1));
}

async fn tracked_orders_are_listed_with_their_status_until_it_is_final(db: impl Backend) {
    let store = db.open().await;
    let change =
        |order: &str, status| NewEvent::reconciled(order, status, std::time::SystemTime::now());
    store.track_order("ET-A").await.unwrap();
    store.track_order("ET-B").await.unwrap();
    store.track_order("ET-B").await.unwrap();
    store
        .insert(&change("ET-A", OrderStatus::Paid))
        .await
        .unwrap();
    let open_orders = store.open_orders("", 10).await.unwrap();
    let statuses: Vec<_> = open_orders
        .iter()
        .map(|o| (o.order_id.as_str(), o.status))
        .collect();
    assert_eq!(
        statuses,
        [("ET-A", Some(OrderStatus::Paid)), ("ET-B", None)]
    );
    // Paging, then a final status takes the order off the list.
    assert_eq!(store.open_orders("ET-A", 10).await.unwrap().len(), 1);
    assert_eq!(
        store
            .insert(&change("ET-A", OrderStatus::Completed))
            .await
            .unwrap(),
        Inserted::Stored
    );
    let open_orders = store.open_orders("", 10).await.unwrap();
    assert_eq!(open_orders.len(), 1);
    assert_eq!(open_orders[0].order_id, "ET-B");
}

async fn marking_an_event_done_again_under_its_claim_changes_nothing(db: impl Backend) {
    let config = InboxConfig {
        lease: Duration::from_millis(300),
        ..fast_config()
    };
    let inbox = Inbox::new(db.open().await, config);
    put(&inbox, 1).await;
    put(&inbox, 2).await;
    let batch = inbox.claim().await.unwrap();
    // A retry after a lost reply, or after the processing marked it in its
    // own transaction: the same claim, the same answer.
    inbox.done(&batch[0]).await.unwrap();
    inbox.done(&batch[0]).await.unwrap();
    // Another claim's mark is still refused.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = inbox.claim().await.unwrap();
    assert_eq!(again.len(), 1, "only the unmarked event comes back");
    assert!(matches!(
        inbox.done(&batch[1]).await,
        Err(Error::LeaseLost { .. })
    ));
    inbox.done(&again[0]).await.unwrap();
    let counts = inbox.store().counts().await.unwrap();
    assert_eq!((counts.done, counts.total()), (2, 2));
}

/// A signed order-status change of `order` to `status` at `datetime`.
fn status_change(order: &str, status: OrderStatus, datetime: &str) -> Vec<u8> {
    signed([
        ("notify_type", UntypedValue::string("order_status_change")),
        ("order_id", UntypedValue::string(order)),
        ("datetime", UntypedValue::string(datetime)),
        (
            "order_status",
            UntypedValue::string(status.code().to_string()),
        ),
    ])
}

/// Every order of `items`.
fn permutations<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut all = Vec::new();
    for (at, first) in items.iter().enumerate() {
        let mut rest = items.to_vec();
        rest.remove(at);
        for mut tail in permutations(&rest) {
            tail.insert(0, first.clone());
            all.push(tail);
        }
    }
    all
}

async fn an_order_keeps_its_newest_status_whatever_order_its_changes_arrive_in(db: impl Backend) {
    use OrderStatus::{AwaitingPayment, AwaitingReceipt, Completed, Paid, Remitting};
    let inbox = Inbox::new(db.open().await, fast_config());
    let receiver = WebhookReceiver::new(verifier(), inbox.handler());
    // ET's changes of one order, oldest first, each order getting them in
    // another of every possible arrival order.
    let open = [
        (AwaitingPayment, "2026-12-01 09:59:59"),
        (Paid, "2026-12-01 10:00:00"),
        (Remitting, "2026-12-01 10:05:00"),
        (AwaitingReceipt, "2026-12-02 08:00:00"),
    ];
    let finished = [
        (Paid, "2026-12-01 10:00:00"),
        (Remitting, "2026-12-01 10:05:00"),
        (Completed, "2026-12-03 10:05:00"),
    ];
    // Two changes in the same second: the final one is not undone.
    let same_second = [
        (Remitting, "2026-12-04 10:00:00"),
        (Completed, "2026-12-04 10:00:00"),
    ];
    let mut deliveries = Vec::new();
    for (prefix, changes) in [
        ("OPEN", &open[..]),
        ("FIN", &finished),
        ("TIE", &same_second),
    ] {
        for (n, arrival) in permutations(changes).into_iter().enumerate() {
            let order = format!("ET{prefix}{n:02}");
            for (status, at) in arrival {
                deliveries.push(status_change(&order, status, at));
            }
        }
    }
    for body in &deliveries {
        assert_eq!(deliver(&receiver, body).await.0, 200);
    }
    let open_orders = inbox.store().open_orders("", 100).await.unwrap();
    let statuses: BTreeMap<_, _> = open_orders
        .iter()
        .map(|o| (o.order_id.as_str(), o.status))
        .collect();
    let expected: BTreeMap<_, _> = (0..24)
        .map(|n| (format!("ETOPEN{n:02}"), Some(AwaitingReceipt)))
        .collect();
    let expected: BTreeMap<_, _> = expected.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        statuses, expected,
        "only the 24 open orders, each at its newest status"
    );
}

async fn a_lease_or_a_retry_longer_than_any_clock_is_capped_not_refused(db: impl Backend) {
    let config = InboxConfig {
        lease: Duration::MAX,
        first_retry: Duration::MAX,
        max_retry: Duration::MAX,
        ..fast_config()
    };
    let inbox = Inbox::new(db.open().await, config);
    put(&inbox, 1).await;
    put(&inbox, 2).await;
    let report = inbox
        .process(|claim| async move {
            match claim.dedup_key.contains("0001") {
                true => Ok(()),
                false => Err("later"),
            }
        })
        .await
        .unwrap();
    assert_eq!((report.done, report.retried), (1, 1));
    assert!(inbox.claim().await.unwrap().is_empty(), "retried far away");
}

#[tokio::test]
async fn sqlite_merchant_writes_commit_with_the_mark_done_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("inbox.db")).unwrap();
    let inbox = Inbox::new(store.clone(), fast_config());
    put(&inbox, 1).await;
    let claim = inbox.claim().await.unwrap().remove(0);
    // A failing merchant write leaves the event claimed, not done.
    let failed = store
        .complete_with(&claim, |tx| {
            tx.execute_batch("CREATE TABLE paid (key TEXT PRIMARY KEY)")?;
            tx.execute("INSERT INTO nowhere VALUES (1)", [])
        })
        .await;
    assert!(matches!(failed, Err(Error::Sqlite(_))));
    let key = claim.dedup_key.clone();
    store
        .complete_with(&claim, move |tx| {
            tx.execute_batch("CREATE TABLE paid (key TEXT PRIMARY KEY)")?;
            tx.execute("INSERT INTO paid VALUES (?1)", [key])
        })
        .await
        .unwrap();
    assert_eq!(inbox.store().counts().await.unwrap().done, 1);
    // Marked once: a second completion is refused and its write rolled back.
    let again = store
        .complete_with(&claim, |tx| tx.execute("INSERT INTO paid VALUES ('x')", []))
        .await;
    assert!(matches!(again, Err(Error::LeaseLost { .. })));
    let conn = rusqlite::Connection::open(dir.path().join("inbox.db")).unwrap();
    let paid: i64 = conn
        .query_row("SELECT count(*) FROM paid", [], |r| r.get(0))
        .unwrap();
    assert_eq!(paid, 1);
}

#[tokio::test]
async fn postgres_merchant_writes_commit_with_the_mark_done_or_not_at_all() {
    let Some(url) = common::pg_url("pg_completion").await else {
        return;
    };
    let store = PgStore::connect(&url, 2).await.unwrap();
    store
        .execute("CREATE TABLE paid (dedup_key TEXT PRIMARY KEY)", &[])
        .await
        .unwrap();
    let config = InboxConfig {
        lease: Duration::from_millis(300),
        ..fast_config()
    };
    let inbox = Inbox::new(store.clone(), config);
    put(&inbox, 1).await;
    let stale = inbox.claim().await.unwrap().remove(0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let fresh = inbox.claim().await.unwrap().remove(0);
    // The stale consumer's write is rolled back with its refused mark.
    let done = store.begin_completion(&stale).await.unwrap();
    done.client()
        .execute("INSERT INTO paid VALUES ($1)", &[&stale.dedup_key])
        .await
        .unwrap();
    assert!(matches!(done.commit().await, Err(Error::LeaseLost { .. })));
    // Dropped without commit: rolled back too.
    let dropped = store.begin_completion(&fresh).await.unwrap();
    dropped
        .client()
        .execute("INSERT INTO paid VALUES ('dropped')", &[])
        .await
        .unwrap();
    drop(dropped);
    let done = store.begin_completion(&fresh).await.unwrap();
    done.client()
        .execute("INSERT INTO paid VALUES ($1)", &[&fresh.dedup_key])
        .await
        .unwrap();
    done.commit().await.unwrap();
    let rows = store
        .query("SELECT dedup_key FROM paid", &[])
        .await
        .unwrap();
    let keys: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(keys, std::slice::from_ref(&fresh.dedup_key));
    assert_eq!(inbox.store().counts().await.unwrap().done, 1);
}

#[tokio::test]
async fn postgres_migrations_run_once_when_instances_start_together() {
    let Some(url) = common::pg_url("pg_migrations").await else {
        return;
    };
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PgStore::connect(&url, 1).await.map(drop) })
        })
        .collect();
    for start in starts {
        start.await.unwrap().unwrap();
    }
    let store = PgStore::connect(&url, 1).await.unwrap();
    let rows = store
        .query("SELECT version FROM et_inbox_schema", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    store
        .execute("UPDATE et_inbox_schema SET version = 99", &[])
        .await
        .unwrap();
    assert!(matches!(
        PgStore::connect(&url, 1).await,
        Err(Error::SchemaTooNew { found: 99, .. })
    ));
}

#[tokio::test]
async fn postgres_an_open_completion_does_not_queue_other_work_behind_it() {
    let Some(url) = common::pg_url("pg_pool").await else {
        return;
    };
    let store = PgStore::connect(&url, 2).await.unwrap();
    let inbox = Inbox::new(store.clone(), fast_config());
    put(&inbox, 1).await;
    let claim = inbox.claim().await.unwrap().remove(0);
    // Holds one of the two connections until committed.
    let open = store.begin_completion(&claim).await.unwrap();
    for _ in 0..4 {
        let counted = tokio::time::timeout(Duration::from_secs(10), store.counts()).await;
        assert_eq!(
            counted
                .expect("waited for the busy connection")
                .unwrap()
                .claimed,
            1
        );
    }
    open.commit().await.unwrap();
    assert_eq!(store.counts().await.unwrap().done, 1);
}

#[tokio::test]
async fn postgres_connections_are_named_for_whoever_must_find_them() {
    let Some(url) = common::pg_url("pg_names").await else {
        return;
    };
    let name = |store: PgStore| async move {
        let rows = store
            .query(
                "SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()",
                &[],
            )
            .await
            .unwrap();
        rows[0].get::<_, String>(0)
    };
    // The tests name their connections after themselves; unnamed, they are the inbox's.
    let named = PgStore::connect(&url, 1).await.unwrap();
    assert!(name(named).await.starts_with("t_pg_names_"));
    let unnamed = url.split("&application_name=").next().unwrap();
    let store = PgStore::connect(unnamed, 1).await.unwrap();
    assert_eq!(name(store).await, et_inbox::APPLICATION_NAME);
    assert!(matches!(
        PgStore::connect("postgresql://[::1", 1).await,
        Err(Error::Postgres(_))
    ));
}
