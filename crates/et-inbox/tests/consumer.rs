//! The consumer under its own faults, on SQLite and PostgreSQL alike: a
//! panicking event.

#[macro_use]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use et_inbox::{Claimed, Counts, Inbox, InboxConfig, Inserted, Store};
use tokio::task::JoinHandle;

use common::{payment_body, verifier, Backend};

on_both_stores!(
    a_panicking_event_is_one_failed_attempt_and_the_consumer_goes_on,
);

/// How long a test waits for the consumers to finish, at most: far above
/// what the work takes, so that a loaded machine does not fail the test.
const PATIENCE: Duration = Duration::from_secs(120);

/// Stores payment notification `n` as the receiver would; its dedup key.
async fn put<S: Store>(inbox: &Inbox<S>, n: usize) -> String {
    let verified = verifier().verify_owned(None, &payment_body(n)).unwrap();
    assert_eq!(inbox.put(&verified).await.unwrap(), Inserted::Stored);
    verified.dedup_key()
}

/// What the processing was handed: how often each event, and every time
/// an event started while another copy of it was still running.
#[derive(Default)]
struct Ledger {
    runs: BTreeMap<String, usize>,
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

impl Drop for Run {
    fn drop(&mut self) {
        self.ledger.lock().unwrap().running.remove(&self.key);
    }
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
            let counts = store.counts().await.unwrap();
            if done(&counts) {
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
    let mut keys = Vec::new();
    for n in 0..EVENTS {
        keys.push(put(&inbox, n).await);
    }
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
