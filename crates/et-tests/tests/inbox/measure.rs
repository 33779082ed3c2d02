//! `Inbox::measure`: the counts behind the inbox's gauges, on SQLite and on
//! PostgreSQL (which SKIPs loudly without `ET_INBOX_PG_URL`, and fails with
//! `ET_REQUIRE_SERVICES=1`).

use crate::common;

use std::time::{Duration, SystemTime};

use et_inbox::{Inbox, InboxConfig};

use common::{put, Backend};

on_both_stores!(the_oldest_pending_event_is_measured_until_it_is_processed);

async fn the_oldest_pending_event_is_measured_until_it_is_processed(db: impl Backend) {
    let inbox = Inbox::new(db.open().await, InboxConfig::default());
    let empty = inbox.measure().await.unwrap();
    assert_eq!(
        (empty.pending, empty.dead, empty.oldest_pending),
        (0, 0, None)
    );
    let before = SystemTime::now() - Duration::from_millis(5);
    put(&inbox, 1).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    put(&inbox, 2).await;
    let counts = inbox.measure().await.unwrap();
    assert_eq!(counts.pending, 2);
    let oldest = counts.oldest_pending.expect("two pending");
    assert!(oldest >= before, "the first event's time, not before it");
    let age = SystemTime::now().duration_since(oldest).unwrap();
    assert!(
        age >= Duration::from_millis(50),
        "the older of the two: {age:?}"
    );
    while inbox
        .process(|_| async { Ok::<(), String>(()) })
        .await
        .unwrap()
        .claimed
        > 0
    {}
    let done = inbox.measure().await.unwrap();
    assert_eq!((done.pending, done.done, done.oldest_pending), (0, 2, None));
}
