//! The consumer under its own faults, on SQLite and PostgreSQL alike: a
//! panicking event, a handler slower than the lease, a store that cannot
//! renew it, a corrupt row; and PostgreSQL dropping the inbox's
//! connections mid-work.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use et_http::WebhookReceiver;
use et_inbox::{Claimed, Counts, Inbox, InboxConfig, Store};
use tokio::task::JoinHandle;

use common::{payment_body, put, put_all, verifier, Backend};

on_both_stores!(
    a_panicking_event_is_one_failed_attempt_and_the_consumer_goes_on,
    a_slow_handler_never_has_a_second_copy_running,
    a_corrupt_row_is_set_aside_and_the_rest_of_its_batch_is_claimed,
    processing_whose_lease_cannot_be_renewed_is_stopped_before_anyone_can_claim_it_again,
);

/// How long a test waits for the consumers to finish, at most: far above
/// what the work takes, so that a loaded machine does not fail the test.
const PATIENCE: Duration = Duration::from_secs(120);

/// The dedup keys of the events one claim takes.
async fn claimed_keys<S: Store>(inbox: &Inbox<S>) -> Vec<String> {
    let claims = inbox.claim().await.unwrap();
    claims.into_iter().map(|c| c.dedup_key).collect()
}

/// What the processing was handed: how often each event, and every time
/// an event started while another copy of it was still running.
#[derive(Default)]
struct Ledger {
    runs: BTreeMap<String, usize>,
    finished: BTreeMap<String, usize>,
    running: BTreeSet<String>,
    overlaps: Vec<String>,
}

type SharedLedger = Arc<Mutex<Ledger>>;

/// One run of the processing on one event, in the ledger until dropped
/// (finished, or cancelled).
struct Run {
    ledger: SharedLedger,
    key: String,
}

impl Run {
    fn start(ledger: &SharedLedger, claim: &Claimed) -> Run {
        let key = claim.dedup_key.clone();
        let mut l = ledger.lock().unwrap();
        *l.runs.entry(key.clone()).or_default() += 1;
        if !l.running.insert(key.clone()) {
            l.overlaps.push(key.clone());
        }
        Run {
            ledger: Arc::clone(ledger),
            key,
        }
    }
}

impl Run {
    fn finish(self) {
        let mut l = self.ledger.lock().unwrap();
        *l.finished.entry(self.key.clone()).or_default() += 1;
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        self.ledger.lock().unwrap().running.remove(&self.key);
    }
}

/// What a processing of one event returns.
type Processing = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>;

/// A processing that takes `pause` over each event and then succeeds, its
/// runs kept in the returned ledger.
fn pausing(pause: Duration) -> (SharedLedger, impl Fn(Claimed) -> Processing + Clone + Send) {
    let ledger = SharedLedger::default();
    let process = {
        let ledger = Arc::clone(&ledger);
        move |claim: Claimed| -> Processing {
            let run = Run::start(&ledger, &claim);
            Box::pin(async move {
                tokio::time::sleep(pause).await;
                run.finish();
                Ok(())
            })
        }
    };
    (ledger, process)
}

/// Consumers running [`Inbox::run`] until dropped.
struct Consumers(Vec<JoinHandle<()>>, tokio::sync::watch::Sender<bool>);

impl Consumers {
    fn start<S, F, Fut>(inboxes: Vec<Inbox<S>>, process: F) -> Consumers
    where
        S: Store,
        F: Fn(Claimed) -> Fut + Clone + Send + 'static,
        Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
    {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let tasks = inboxes
            .into_iter()
            .map(|inbox| {
                let (process, mut stopped) = (process.clone(), stopped.clone());
                tokio::spawn(async move {
                    let shutdown = async move {
                        let _ = stopped.wait_for(|stop| *stop).await;
                    };
                    inbox.run(process, shutdown).await;
                })
            })
            .collect();
        Consumers(tasks, stop)
    }

    /// Waits (bounded by [`PATIENCE`]) until `done(counts)`; fails at once
    /// if a consumer stopped.
    async fn wait_until<S: Store>(&self, store: &S, done: impl Fn(&Counts) -> bool) -> Counts {
        let start = Instant::now();
        loop {
            assert!(
                self.0.iter().all(|task| !task.is_finished()),
                "a consumer stopped"
            );
            // A count that fails (a test dropping connections) is asked again.
            let counts = store.counts().await.ok();
            if let Some(counts) = counts.filter(|c| done(c)) {
                return counts;
            }
            assert!(start.elapsed() < PATIENCE, "consumers stuck at {counts:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn stop(self) {
        let _ = self.1.send(true);
        for task in self.0 {
            task.await.unwrap();
        }
    }
}

async fn a_panicking_event_is_one_failed_attempt_and_the_consumer_goes_on(db: impl Backend) {
    const EVENTS: usize = 40;
    let config = InboxConfig {
        batch_size: 16,
        lease: Duration::from_secs(2),
        max_attempts: 3,
        first_retry: Duration::from_millis(50),
        max_retry: Duration::from_millis(200),
        poll_interval: Duration::from_millis(10),
    };
    let inbox = Inbox::new(db.open().await, config);
    let keys = put_all(&inbox, EVENTS).await;
    let poison = keys[5].clone();
    let ledger = SharedLedger::default();
    let process = {
        let (ledger, poison) = (Arc::clone(&ledger), poison.clone());
        move |claim: Claimed| {
            let _run = Run::start(&ledger, &claim);
            // Panics in the call, before any future exists, and in the
            // future alike must count as one failed attempt.
            assert!(claim.attempts != 1 || claim.dedup_key != poison, "poison");
            let poisoned = claim.dedup_key == poison;
            async move {
                assert!(!poisoned, "poison");
                Ok::<(), String>(())
            }
        }
    };
    // One batch: the panic fails its own event only.
    let report = inbox.process(process.clone()).await.unwrap();
    assert_eq!(
        (report.claimed, report.done, report.retried, report.dead),
        (16, 15, 1, 0)
    );
    let consumers = Consumers::start(vec![inbox.clone()], process);
    let counts = consumers
        .wait_until(inbox.store(), |c| c.done + c.dead == EVENTS as u64)
        .await;
    consumers.stop().await;
    assert_eq!((counts.done, counts.dead), (EVENTS as u64 - 1, 1));
    let runs = ledger.lock().unwrap().runs.clone();
    for key in &keys {
        let expected = if *key == poison { 3 } else { 1 };
        assert_eq!(runs.get(key), Some(&expected), "{key}");
    }
    let errors = db
        .texts("SELECT last_error FROM et_inbox_events WHERE state = 'dead'")
        .await;
    assert_eq!(errors, ["the processing panicked"]);
}

async fn a_slow_handler_never_has_a_second_copy_running(db: impl Backend) {
    const EVENTS: usize = 24;
    // A batch takes twice the lease, and one event alone two and a half.
    let lease = Duration::from_secs(2);
    let config = InboxConfig {
        batch_size: 8,
        lease,
        poll_interval: Duration::from_millis(10),
        ..InboxConfig::default()
    };
    let feeder = Inbox::new(db.open().await, config.clone());
    let keys = put_all(&feeder, EVENTS).await;
    let slowest = keys[2].clone();
    let ledger = SharedLedger::default();
    let process = {
        let ledger = Arc::clone(&ledger);
        move |claim: Claimed| {
            let run = Run::start(&ledger, &claim);
            let pause = if claim.dedup_key == slowest {
                lease * 5 / 2
            } else {
                lease / 4
            };
            async move {
                tokio::time::sleep(pause).await;
                drop(run);
                Ok::<(), String>(())
            }
        }
    };
    let mut inboxes = Vec::new();
    for _ in 0..3 {
        inboxes.push(Inbox::new(db.open().await, config.clone()));
    }
    let consumers = Consumers::start(inboxes, process);
    consumers
        .wait_until(feeder.store(), |c| c.done + c.dead == EVENTS as u64)
        .await;
    consumers.stop().await;
    let ledger = ledger.lock().unwrap();
    assert_eq!(ledger.overlaps, Vec::<String>::new(), "ran twice at once");
    let twice: Vec<_> = ledger.runs.iter().filter(|(_, &n)| n != 1).collect();
    assert_eq!(twice, Vec::<(&String, &usize)>::new(), "handed over twice");
    assert_eq!(ledger.runs.len(), EVENTS);
}

async fn processing_whose_lease_cannot_be_renewed_is_stopped_before_anyone_can_claim_it_again(
    db: impl Backend,
) {
    let lease = Duration::from_secs(1);
    let config = InboxConfig {
        lease,
        poll_interval: Duration::from_millis(10),
        ..InboxConfig::default()
    };
    let feeder = Inbox::new(db.open().await, config.clone());
    let key = put(&feeder, 1).await;
    let (ledger, process) = pausing(lease * 4);
    let inboxes = vec![
        Inbox::new(db.open().await, config.clone()),
        Inbox::new(db.open().await, config),
    ];
    let consumers = Consumers::start(inboxes, process);
    let start = Instant::now();
    while ledger.lock().unwrap().runs.is_empty() {
        assert!(start.elapsed() < PATIENCE, "never processed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The store cannot renew for twice the lease: the first run is stopped
    // before its lease ends, and the event runs again once the store is back.
    db.lock_writes(lease * 2).await;
    consumers
        .wait_until(feeder.store(), |c| c.done + c.dead == 1)
        .await;
    consumers.stop().await;
    let ledger = ledger.lock().unwrap();
    assert_eq!(ledger.overlaps, Vec::<String>::new(), "ran twice at once");
    assert_eq!(ledger.runs.get(&key), Some(&2));
    assert_eq!(ledger.finished.get(&key), Some(&1));
}

async fn a_corrupt_row_is_set_aside_and_the_rest_of_its_batch_is_claimed(db: impl Backend) {
    let inbox = Inbox::new(
        db.open().await,
        InboxConfig {
            batch_size: 8,
            ..InboxConfig::default()
        },
    );
    let mut keys = Vec::new();
    for n in 0..6 {
        keys.push(put(&inbox, n).await);
    }
    // Hand edits this version cannot read, one per way a row can be wrong.
    let edit = |set: &str, key: &str| {
        format!("UPDATE et_inbox_events SET {set} WHERE dedup_key = '{key}'")
    };
    db.sql(&edit("fields = 'not json'", &keys[1])).await;
    db.sql(&edit("fields = '{\"order_id\": 7}'", &keys[2]))
        .await;
    db.sql(&edit("source = 'carrier pigeon'", &keys[4])).await;
    let claimed = claimed_keys(&inbox).await;
    assert_eq!(claimed, [keys[0].clone(), keys[3].clone(), keys[5].clone()]);
    let counts = inbox.store().counts().await.unwrap();
    assert_eq!((counts.claimed, counts.dead), (3, 3));
    let errors = db
        .texts("SELECT last_error FROM et_inbox_events WHERE state = 'dead' ORDER BY id")
        .await;
    assert_eq!(
        errors,
        [
            "unreadable: fields are not a JSON object of strings",
            "unreadable: fields are not a JSON object of strings",
            "unreadable: source is neither notification nor reconciliation",
        ]
    );
    assert!(inbox.claim().await.unwrap().is_empty());
}

/// SQLite lets a column hold any type: a value of the wrong one is as
/// unreadable as bad text, and sets aside only its own row.
#[tokio::test]
async fn sqlite_a_value_of_the_wrong_type_sets_aside_only_its_row() {
    let db = common::Sqlite::new();
    let inbox = Inbox::new(db.open().await, InboxConfig::default());
    let mut keys = Vec::new();
    for n in 0..4 {
        keys.push(put(&inbox, n).await);
    }
    db.sql(&format!(
        "UPDATE et_inbox_events SET fields = x'00ff' WHERE dedup_key = '{}'",
        keys[1]
    ))
    .await;
    db.sql(&format!(
        "UPDATE et_inbox_events SET dedup_key = x'01' WHERE dedup_key = '{}'",
        keys[2]
    ))
    .await;
    let claimed = claimed_keys(&inbox).await;
    assert_eq!(claimed, [keys[0].clone(), keys[3].clone()]);
    assert_eq!(inbox.store().counts().await.unwrap().dead, 2);
}

/// Processing that completes the event in its own transaction holds one of
/// the store's connections for as long as it works: the lease is still
/// renewed on another, and the event runs once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_slow_completion_in_a_transaction_keeps_its_lease() {
    let Some(db) = common::Postgres::new("slow_completion").await else {
        return;
    };
    let store = et_inbox::PgStore::connect(db.url(), 2).await.unwrap();
    store
        .execute("CREATE TABLE paid (dedup_key TEXT NOT NULL)", &[])
        .await
        .unwrap();
    let lease = Duration::from_secs(1);
    let config = InboxConfig {
        lease,
        poll_interval: Duration::from_millis(10),
        ..InboxConfig::default()
    };
    let key = put(&Inbox::new(store.clone(), config.clone()), 1).await;
    let ledger = SharedLedger::default();
    let process = {
        let (ledger, store) = (Arc::clone(&ledger), store.clone());
        move |claim: Claimed| {
            let (run, store) = (Run::start(&ledger, &claim), store.clone());
            async move {
                let done = store
                    .begin_completion(&claim)
                    .await
                    .map_err(|e| e.to_string())?;
                tokio::time::sleep(lease * 3).await;
                done.client()
                    .execute("INSERT INTO paid VALUES ($1)", &[&claim.dedup_key])
                    .await
                    .map_err(|e| e.to_string())?;
                done.commit().await.map_err(|e| e.to_string())?;
                drop(run);
                Ok(())
            }
        }
    };
    // Two consumers on the one store: the second would take the event if
    // its lease ended.
    let inboxes = vec![
        Inbox::new(store.clone(), config.clone()),
        Inbox::new(store.clone(), config),
    ];
    let consumers = Consumers::start(inboxes, process);
    let counts = consumers.wait_until(&store, |c| c.done + c.dead == 1).await;
    consumers.stop().await;
    assert_eq!(counts.done, 1);
    assert_eq!(ledger.lock().unwrap().runs.get(&key), Some(&1));
    assert_eq!(db.texts("SELECT dedup_key FROM paid").await, [key]);
}

/// The database ends the inbox's connections again and again (an
/// administrator, a failover, a restart) while notifications arrive and
/// are consumed: every delivery is retried until acknowledged, as ET does,
/// and the inbox reconnects by itself. Nothing is lost, nothing is stored
/// twice, and no event is handed to the processing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_dropped_connections_mid_work_lose_nothing_and_duplicate_nothing() {
    const EVENTS: usize = 400;
    let Some(db) = common::Postgres::new("dropped_connections").await else {
        return;
    };
    let db = Arc::new(db);
    let config = InboxConfig {
        batch_size: 16,
        lease: Duration::from_secs(5),
        // Every attempt a dropped connection fails must not make it dead.
        max_attempts: 1000,
        first_retry: Duration::from_millis(20),
        max_retry: Duration::from_millis(200),
        poll_interval: Duration::from_millis(10),
    };
    let receivers = [
        WebhookReceiver::new(
            verifier(),
            Inbox::new(db.open().await, config.clone()).handler(),
        ),
        WebhookReceiver::new(
            verifier(),
            Inbox::new(db.open().await, config.clone()).handler(),
        ),
    ];
    let (ledger, process) = pausing(Duration::from_millis(5));
    let inboxes = vec![
        Inbox::new(db.open().await, config.clone()),
        Inbox::new(db.open().await, config.clone()),
    ];
    // Opened (and migrated) before the connections start being dropped.
    let observer = db.open().await;
    let consumers = Consumers::start(inboxes, process);
    let (stop_dropping, mut stopped) = tokio::sync::watch::channel(false);
    let dropper = {
        let db = Arc::clone(&db);
        tokio::spawn(async move {
            let (mut rounds, mut ended) = (0, 0);
            while !*stopped.borrow_and_update() {
                let dropped = db.drop_connections().await;
                rounds += u64::from(dropped > 0);
                ended += dropped;
                let _ = tokio::time::timeout(Duration::from_millis(150), stopped.changed()).await;
            }
            (rounds, ended)
        })
    };
    // ET's side: eight deliveries at a time, each retried until acknowledged.
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let senders: Vec<_> = (0..8)
        .map(|_| {
            let (receivers, next) = (receivers.clone(), Arc::clone(&next));
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if n >= EVENTS {
                        return;
                    }
                    let receiver = receivers[n % 2].clone();
                    let start = Instant::now();
                    while deliver(&receiver, &payment_body(n)).await != 200 {
                        assert!(start.elapsed() < PATIENCE, "event {n} never acknowledged");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.unwrap();
    }
    let counts = consumers
        .wait_until(&observer, |c| c.done + c.dead == EVENTS as u64)
        .await;
    let _ = stop_dropping.send(true);
    let (rounds, ended) = dropper.await.unwrap();
    consumers.stop().await;
    assert!(
        rounds >= 3,
        "connections were dropped in only {rounds} rounds"
    );
    eprintln!("{ended} connections dropped in {rounds} rounds");
    assert_eq!(
        (counts.done, counts.total()),
        (EVENTS as u64, EVENTS as u64)
    );
    let ledger = ledger.lock().unwrap();
    assert_eq!(ledger.overlaps, Vec::<String>::new(), "ran twice at once");
    let twice: Vec<_> = ledger.runs.iter().filter(|(_, &n)| n != 1).collect();
    assert_eq!(twice, Vec::<(&String, &usize)>::new(), "handed over twice");
    assert_eq!(ledger.runs.len(), EVENTS);
}

/// Delivers `body` through `receiver`; the HTTP status.
async fn deliver<H: et_http::NotificationHandler>(
    receiver: &WebhookReceiver<H>,
    body: &[u8],
) -> u16 {
    use tower_service::Service;
    let response = receiver
        .clone()
        .call(common::post(body))
        .await
        .expect("infallible");
    response.status().as_u16()
}
