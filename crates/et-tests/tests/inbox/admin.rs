//! Operating the inbox without SQL ([`StoreAdmin`], what `et inbox` runs):
//! every test runs on SQLite and on PostgreSQL (which SKIPs loudly without
//! `ET_INBOX_PG_URL`, and fails with `ET_REQUIRE_SERVICES=1`).

use crate::common;

use std::time::{Duration, SystemTime};

use et_inbox::{Inbox, InboxConfig, Source, State, StoreAdmin};

use common::{put, Backend};

on_both_stores!(
    stats_count_each_state_and_date_the_oldest_pending_event,
    a_dead_event_is_listed_shown_requeued_and_then_processed,
    requeue_sends_back_only_dead_events,
    purge_deletes_only_events_done_before_the_date,
    an_event_set_aside_as_unreadable_can_still_be_shown,
);

/// One attempt per event, so that a failure makes it dead at once.
fn one_attempt() -> InboxConfig {
    InboxConfig {
        max_attempts: 1,
        lease: Duration::from_secs(30),
        ..InboxConfig::default()
    }
}

/// Stores `n` events and lets the first `dead` of them fail for good.
async fn with_dead<B: Backend>(db: &B, n: usize, dead: usize) -> Inbox<B::Store> {
    let inbox = Inbox::new(db.open().await, one_attempt());
    for i in 0..n {
        put(&inbox, i).await;
    }
    let mut failures = 0;
    let report = inbox
        .process(|_| {
            failures += 1;
            let result = if failures <= dead {
                Err("the merchant's system is down")
            } else {
                Ok(())
            };
            async move { result }
        })
        .await
        .unwrap();
    assert_eq!((report.dead, report.done), (dead, n - dead));
    inbox
}

async fn stats_count_each_state_and_date_the_oldest_pending_event(db: impl Backend) {
    let before = SystemTime::now() - Duration::from_secs(1);
    let inbox = with_dead(&db, 3, 1).await;
    let store = inbox.store();
    let stats = store.stats().await.unwrap();
    assert_eq!(
        (stats.counts.dead, stats.counts.done, stats.counts.pending),
        (1, 2, 0)
    );
    assert_eq!(stats.oldest_pending, None, "nothing is pending");
    put(&inbox, 10).await;
    put(&inbox, 11).await;
    let stats = store.stats().await.unwrap();
    assert_eq!(stats.counts.pending, 2);
    let oldest = stats.oldest_pending.expect("two are pending");
    let after = SystemTime::now() + Duration::from_secs(1);
    assert!(before <= oldest && oldest <= after, "{oldest:?}");
}

async fn a_dead_event_is_listed_shown_requeued_and_then_processed(db: impl Backend) {
    let inbox = with_dead(&db, 4, 2).await;
    let store = inbox.store();
    let dead = store.list(State::Dead, 0, 10).await.unwrap();
    let ids: Vec<i64> = dead.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), 2);
    // Paging: after the first id, only the second.
    let rest = store.list(State::Dead, ids[0], 10).await.unwrap();
    assert_eq!(rest.iter().map(|e| e.id).collect::<Vec<_>>(), [ids[1]]);
    assert_eq!(store.list(State::Done, 0, 1).await.unwrap().len(), 1);

    let shown = store.event(ids[0]).await.unwrap().expect("stored");
    assert_eq!(shown.state, Some(State::Dead));
    assert_eq!(shown.source, Some(Source::Notification));
    assert_eq!(shown.attempts, 1);
    assert_eq!(
        shown.last_error.as_deref(),
        Some("the merchant's system is down")
    );
    assert_eq!(shown.dedup_key, "payment_success:ETTEST0000000000:1");
    let fields = shown.field_map().expect("fields are readable");
    assert_eq!(fields["order_id"], "ETTEST0000000000");
    assert!(!fields.contains_key("sign"));

    assert_eq!(store.requeue(&ids).await.unwrap(), ids);
    let requeued = store.event(ids[0]).await.unwrap().expect("stored");
    assert_eq!(
        (requeued.state, requeued.attempts),
        (Some(State::Pending), 0)
    );
    // Back to the handler, which now succeeds: done, nothing dead.
    let report = inbox
        .process(|_| async { Ok::<_, String>(()) })
        .await
        .unwrap();
    assert_eq!((report.claimed, report.done), (2, 2));
    let counts = store.stats().await.unwrap().counts;
    assert_eq!((counts.done, counts.dead), (4, 0));
}

async fn requeue_sends_back_only_dead_events(db: impl Backend) {
    let inbox = with_dead(&db, 2, 1).await;
    put(&inbox, 7).await;
    let store = inbox.store();
    let of = |state| async move {
        let events = store.list(state, 0, 10).await.unwrap();
        events.iter().map(|e| e.id).collect::<Vec<_>>()
    };
    let (dead, done, pending) = (
        of(State::Dead).await,
        of(State::Done).await,
        of(State::Pending).await,
    );
    let asked = [done[0], pending[0], dead[0], dead[0], 999_999];
    assert_eq!(store.requeue(&asked).await.unwrap(), dead);
    // Done stays done, and a second requeue finds nothing dead.
    assert_eq!(of(State::Done).await, done);
    assert!(store.requeue(&dead).await.unwrap().is_empty());
    assert!(store.event(999_999).await.unwrap().is_none());
}

async fn purge_deletes_only_events_done_before_the_date(db: impl Backend) {
    let inbox = with_dead(&db, 3, 1).await;
    put(&inbox, 8).await;
    let store = inbox.store();
    let past = SystemTime::now() - Duration::from_secs(3600);
    assert_eq!(
        store.purge_done(past).await.unwrap(),
        0,
        "none done an hour ago"
    );
    let future = SystemTime::now() + Duration::from_secs(3600);
    assert_eq!(store.purge_done(future).await.unwrap(), 2);
    let counts = store.stats().await.unwrap().counts;
    assert_eq!(
        (counts.done, counts.dead, counts.pending),
        (0, 1, 1),
        "dead and pending events are kept"
    );
}

async fn an_event_set_aside_as_unreadable_can_still_be_shown(db: impl Backend) {
    let inbox = Inbox::new(db.open().await, one_attempt());
    put(&inbox, 1).await;
    db.sql("UPDATE et_inbox_events SET fields = 'not json'")
        .await;
    let report = inbox
        .process(|_| async { Ok::<_, String>(()) })
        .await
        .unwrap();
    assert_eq!(report.claimed, 0, "the unreadable row is set aside");
    let store = inbox.store();
    let dead = store.list(State::Dead, 0, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].fields, "not json");
    assert_eq!(dead[0].field_map(), None);
    assert_eq!(
        dead[0].last_error.as_deref(),
        Some("unreadable: fields are not a JSON object of strings")
    );
}
