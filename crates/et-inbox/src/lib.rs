//! A durable, exactly-once inbox for EasyTransfer (ET) notifications, on
//! SQLite (embedded, the default) or PostgreSQL (shared by several
//! instances), with a [`Reconciler`] that finds what ET never delivered.
//!
//! # Map
//!
//! * **Store once**: [`Inbox::handler`] is a handler for et-http's
//!   [`WebhookReceiver`](et_http::WebhookReceiver): each verified
//!   notification is stored under its
//!   [`dedup_key`](et_proto::VerifiedNotification::dedup_key) with an atomic
//!   insert-if-absent, and ET is acknowledged only once the row is committed
//!   (a duplicate, even at the same moment on another instance, is
//!   acknowledged and stores nothing). [`Inbox::put`] does the same by hand.
//! * **Consume**: [`Inbox::process`] (one batch) and [`Inbox::run`] (until
//!   shutdown) claim events under a lease, renew it while the merchant's
//!   function works, mark each done, retry failures with backoff
//!   ([`InboxConfig`]) and set an event aside as dead after
//!   [`InboxConfig::max_attempts`]; a panic is one failed attempt.
//!   [`Inbox::claim`], [`Inbox::done`] and [`Inbox::failed`] are the steps.
//! * **Reconcile**: [`Reconciler`] batch-queries ET for orders not final
//!   locally ([`Inbox::track_order`]) and stores any status ET never notified
//!   as the same typed event; each order keeps its newest status by ET's
//!   `datetime`, whatever order changes arrive in.
//! * **Stores**: [`SqliteStore`] and [`PgStore`], behind [`Store`]; each
//!   creates and migrates its tables on open and refuses a newer schema.
//!
//! # Exactly once, in effect
//!
//! The inbox hands each event to the merchant's processing **at least
//! once** (a consumer may crash after the work and before the mark). The
//! effect happens exactly once when the processing is idempotent per
//! [`Claimed::dedup_key`] (a unique key in the merchant's table, or a state
//! assignment such as "order 42 is paid"), or commits in the same
//! transaction as the mark-done ([`PgStore::begin_completion`],
//! [`SqliteStore::complete_with`]). An e-mail cannot be made exactly once by
//! any inbox: send it from a row that transaction wrote.
//!
//! Prefer your own store when receipt must change business rows atomically
//! in a database the inbox cannot share (MySQL, another PostgreSQL): then
//! insert-if-absent on a unique dedup-key column there, in the receiver's
//! handler, which is all the inbox does. SQLite suits one process; several
//! hosts need PostgreSQL.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use et_http::WebhookReceiver;
//! use et_inbox::{Inbox, InboxConfig, SqliteStore};
//! use et_model::Notification;
//! use et_proto::{NotificationVerifier, Profile};
//! use http_body_util::Full;
//! use tower_service::Service;
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let inbox = Inbox::new(SqliteStore::in_memory()?, InboxConfig::default());
//! let verifier = NotificationVerifier::new("abc123", Profile::default().notify_sign_rule);
//! let mut receiver = WebhookReceiver::new(verifier, inbox.handler());
//!
//! // ET's documented example, delivered twice: stored once, acknowledged twice.
//! let body = r#"{"order_id":"ETxxxxxxxxxxxx01","pay_result":1,"pay_amount":10000.00,
//!     "pay_datetime":"2024-12-01 10:00:00","extend_info":"",
//!     "sign":"652614570bcc49940d7dcc7a3c3dc7e5"}"#;
//! for _ in 0..2 {
//!     let request = http::Request::post("/notify").body(Full::new(Bytes::from(body)))?;
//!     assert_eq!(receiver.call(request).await?.status(), 200);
//! }
//!
//! // The consumer: the merchant's function runs once per stored event.
//! let report = inbox
//!     .process(|event| async move {
//!         let Notification::PaymentSuccess(paid) = event.notification()? else {
//!             return Ok(());
//!         };
//!         println!("order {} paid {}", paid.order_id, paid.pay_amount);
//!         Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
//!     })
//!     .await?;
//! assert_eq!((report.claimed, report.done), (1, 1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod admin;
mod error;
mod event;
mod lease;
mod postgres;
mod reconcile;
mod sqlite;
mod state;
mod store;

use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use et_http::NotificationHandler;
use et_proto::VerifiedNotification;

use et_http::{guarded, Panicked};

/// What `last_error` says of an attempt that panicked.
const PANICKED: &str = "the processing panicked";
use lease::Heartbeat;

pub use admin::{Stats, StoreAdmin, StoredEvent};
pub use error::Error;
pub use event::{Claimed, Counts, Inserted, NewEvent, Source, TrackedOrder, RECONCILED_PREFIX};
pub use postgres::{PgCompletion, PgStore, APPLICATION_NAME};
pub use reconcile::{ReconcileReport, Reconciler, ReconcilerConfig, MAX_QUERY_BATCH};
pub use sqlite::SqliteStore;
pub use state::State;
pub use store::Store;

/// Gauge: events waiting to be claimed ([`Inbox::measure`]).
pub const PENDING_EVENTS: &str = "et_inbox_pending_events";
/// Gauge: events set aside after too many failures ([`Inbox::measure`]).
pub const DEAD_EVENTS: &str = "et_inbox_dead_events";
/// Gauge: seconds since the oldest pending event was stored
/// ([`Inbox::measure`]).
pub const OLDEST_PENDING_AGE_SECONDS: &str = "et_inbox_oldest_pending_age_seconds";

/// How the consumer side claims and retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxConfig {
    /// Events per claim. Default 32.
    pub batch_size: u32,
    /// How long a claim lasts unless renewed; an event not marked by then
    /// is claimed again (by anyone). [`Inbox::process`] renews it every
    /// quarter of it while it works, so it need not exceed the slowest
    /// processing: it is how soon a crashed consumer's events come back,
    /// and how long the store may be unreachable before processing is
    /// stopped. Keep it well above the store's round trip. Default 60 s.
    pub lease: Duration,
    /// Attempts before an event is set aside as dead. Default 8.
    pub max_attempts: u32,
    /// Wait before the first retry; doubled each attempt. Default 1 s.
    pub first_retry: Duration,
    /// Longest wait between retries. Default 10 minutes.
    pub max_retry: Duration,
    /// [`Inbox::run`]'s pause when nothing is claimable. Default 200 ms.
    pub poll_interval: Duration,
}

impl Default for InboxConfig {
    fn default() -> Self {
        InboxConfig {
            batch_size: 32,
            lease: Duration::from_secs(60),
            max_attempts: 8,
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(600),
            poll_interval: Duration::from_millis(200),
        }
    }
}

impl InboxConfig {
    /// The wait after the `attempts`-th failed attempt, or `None` when that
    /// was the last allowed one.
    pub fn retry_after(&self, attempts: u32) -> Option<Duration> {
        if attempts >= self.max_attempts {
            return None;
        }
        let doublings = attempts.saturating_sub(1).min(31);
        Some(
            self.first_retry
                .saturating_mul(1 << doublings)
                .min(self.max_retry),
        )
    }
}

/// What happened to an event whose processing failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Claimable again after this wait.
    Retry(Duration),
    /// Set aside: it had its last attempt.
    Dead,
}

/// What became of one event of a batch.
enum Outcome {
    Done,
    Failed(Disposition),
    LeaseLost,
}

/// What one [`Inbox::process`] call did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchReport {
    /// Events claimed.
    pub claimed: usize,
    /// Processed and marked done.
    pub done: usize,
    /// Failed, to be retried.
    pub retried: usize,
    /// Failed for the last time, set aside.
    pub dead: usize,
    /// Not marked because the lease ended first (it could not be renewed
    /// in time, or another consumer claimed the event): claimed again when
    /// the lease ends. Its processing may have run, or been stopped midway.
    pub lease_lost: usize,
}

/// The inbox: a [`Store`] and the consumer settings. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Inbox<S> {
    store: S,
    config: InboxConfig,
}

impl<S: Store> Inbox<S> {
    /// An inbox over `store`.
    pub fn new(store: S, config: InboxConfig) -> Self {
        Inbox { store, config }
    }

    /// The store, for its own operations (counts, transactions).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The consumer settings.
    pub fn config(&self) -> &InboxConfig {
        &self.config
    }

    /// Stores a verified notification once per dedup key; returns after the
    /// commit.
    pub async fn put(&self, notification: &VerifiedNotification) -> Result<Inserted, Error> {
        let inserted = self
            .store
            .insert(&NewEvent::notification(notification))
            .await?;
        if inserted == Inserted::AlreadyStored {
            tracing::debug!("notification already stored; acknowledging the duplicate");
        }
        Ok(inserted)
    }

    /// The handler for [`WebhookReceiver::new`](et_http::WebhookReceiver::new):
    /// ET is acknowledged only after the event is committed (or was already).
    pub fn handler(&self) -> impl NotificationHandler {
        let inbox = self.clone();
        move |notification: VerifiedNotification| {
            let inbox = inbox.clone();
            async move { inbox.put(&notification).await.map(drop) }
        }
    }

    /// Adds an order the merchant created to the orders the [`Reconciler`]
    /// watches until it is final.
    pub async fn track_order(&self, order_id: &str) -> Result<(), Error> {
        self.store.track_order(order_id).await
    }

    /// Claims up to [`InboxConfig::batch_size`] events for one
    /// [`InboxConfig::lease`].
    pub async fn claim(&self) -> Result<Vec<Claimed>, Error> {
        let config = &self.config;
        self.store
            .claim(config.batch_size, config.lease, config.max_attempts)
            .await
    }

    /// Marks a claimed event processed.
    pub async fn done(&self, claim: &Claimed) -> Result<(), Error> {
        self.store.complete(claim).await
    }

    /// Records a failed attempt: retried with backoff, or dead after the
    /// last allowed attempt.
    pub async fn failed(&self, claim: &Claimed, reason: &str) -> Result<Disposition, Error> {
        let retry = self.config.retry_after(claim.attempts);
        self.store.fail(claim, retry, reason).await?;
        if retry.is_none() {
            tracing::error!(id = claim.id, dedup_key = %claim.dedup_key, %reason, "inbox event set aside as dead");
        }
        Ok(retry.map_or(Disposition::Dead, Disposition::Retry))
    }

    /// Claims one batch and runs `process` on each event in turn, marking
    /// it done on `Ok` and failed on `Err`. See the crate docs for what
    /// `process` must do to have its effect exactly once.
    ///
    /// * **A panic** in `process` (in the call or in its future) is one
    ///   failed attempt of that event only, as an `Err` would be, and the
    ///   batch goes on; so `process` must not leave state it shares between
    ///   events broken when it panics.
    /// * **The lease is renewed** in the background while the batch is
    ///   worked on, so a slow event is not claimed by another consumer
    ///   meanwhile. If the store cannot renew it in time (unreachable for
    ///   about three quarters of [`InboxConfig::lease`]), the event's
    ///   processing is stopped (its future dropped) before another
    ///   consumer can claim it, and the event counts as
    ///   [`lease_lost`](BatchReport::lease_lost).
    /// * **A store error while marking** is retried as long as the lease
    ///   holds, so a dropped database connection does not make an event
    ///   run twice.
    ///
    /// `Err` only when the claim itself failed.
    pub async fn process<F, Fut, E>(&self, mut process: F) -> Result<BatchReport, Error>
    where
        F: FnMut(Claimed) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: fmt::Display,
    {
        let claimed_at = Instant::now();
        let batch = self.claim().await?;
        let mut report = BatchReport {
            claimed: batch.len(),
            ..BatchReport::default()
        };
        if batch.is_empty() {
            return Ok(report);
        }
        let heartbeat = Heartbeat::start(self.store.clone(), &batch, self.config.lease, claimed_at);
        for claim in &batch {
            match self.handle(claim, &heartbeat, &mut process).await {
                Outcome::Done => report.done += 1,
                Outcome::Failed(Disposition::Retry(_)) => report.retried += 1,
                Outcome::Failed(Disposition::Dead) => report.dead += 1,
                Outcome::LeaseLost => report.lease_lost += 1,
            }
        }
        Ok(report)
    }

    /// Runs `process` on one claimed event while its lease holds, and
    /// marks the result.
    async fn handle<F, Fut, E>(
        &self,
        claim: &Claimed,
        heartbeat: &Heartbeat,
        process: &mut F,
    ) -> Outcome
    where
        F: FnMut(Claimed) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: fmt::Display,
    {
        if !heartbeat.holds(claim.id) {
            return Outcome::LeaseLost;
        }
        let processed = tokio::select! {
            biased;
            // The error as text at once: `E` need not be `Send`.
            processed = guarded(|| process(claim.clone())) => processed.map(|r| r.map_err(|e| e.to_string())),
            () = heartbeat.lost(claim.id) => {
                tracing::warn!(id = claim.id, dedup_key = %claim.dedup_key, "inbox lease not renewed in time: processing stopped; the event is claimed again when the lease ends");
                return Outcome::LeaseLost;
            }
        };
        let failure = match processed {
            Ok(result) => result.err(),
            Err(Panicked) => {
                tracing::error!(id = claim.id, dedup_key = %claim.dedup_key, "inbox event processing panicked");
                Some(PANICKED.to_owned())
            }
        };
        self.record(claim, failure.as_deref(), heartbeat).await
    }

    /// Marks a processed event done (`failure` is `None`) or failed,
    /// retrying a store error while the lease holds.
    async fn record(
        &self,
        claim: &Claimed,
        failure: Option<&str>,
        heartbeat: &Heartbeat,
    ) -> Outcome {
        let mark = async {
            let mut pause = Duration::from_millis(20);
            loop {
                let marked = match failure {
                    None => self.done(claim).await.map(|()| Outcome::Done),
                    Some(reason) => self.failed(claim, reason).await.map(Outcome::Failed),
                };
                match marked {
                    Ok(outcome) => return outcome,
                    Err(Error::LeaseLost { .. }) => return Outcome::LeaseLost,
                    Err(e) => {
                        tracing::warn!(id = claim.id, error = %e, "could not mark an inbox event; trying again while its lease holds");
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(Duration::from_secs(1));
                    }
                }
            }
        };
        tokio::select! {
            biased;
            outcome = mark => outcome,
            () = heartbeat.lost(claim.id) => {
                tracing::warn!(id = claim.id, dedup_key = %claim.dedup_key, "inbox event processed but not marked before its lease ended: it will be processed again");
                Outcome::LeaseLost
            }
        }
    }

    /// Counts the events by state and sets the inbox's gauges through the
    /// [`metrics`] facade: `et_inbox_pending_events`, `et_inbox_dead_events`
    /// and `et_inbox_oldest_pending_age_seconds` (0 when none is pending).
    /// One `GROUP BY` over the events, so call it per scrape or on a timer,
    /// not per event.
    pub async fn measure(&self) -> Result<Counts, Error> {
        let counts = self.store.counts().await?;
        let age = counts
            .oldest_pending
            .and_then(|at| SystemTime::now().duration_since(at).ok())
            .unwrap_or_default();
        metrics::gauge!(PENDING_EVENTS).set(counts.pending as f64);
        metrics::gauge!(DEAD_EVENTS).set(counts.dead as f64);
        metrics::gauge!(OLDEST_PENDING_AGE_SECONDS).set(age.as_secs_f64());
        Ok(counts)
    }

    /// Runs [`process`](Self::process) until `shutdown` completes, pausing
    /// [`InboxConfig::poll_interval`] when nothing was claimable or the
    /// store failed (logged, then retried).
    pub async fn run<F, Fut, E>(&self, mut process: F, shutdown: impl Future<Output = ()>)
    where
        F: FnMut(Claimed) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: fmt::Display,
    {
        tokio::pin!(shutdown);
        loop {
            let idle = tokio::select! {
                () = &mut shutdown => return,
                report = self.process(&mut process) => match report {
                    Ok(report) => report.claimed == 0,
                    Err(e) => {
                        tracing::warn!(error = %e, "inbox consumer pass failed; retrying");
                        true
                    }
                },
            };
            if idle {
                tokio::select! {
                    () = &mut shutdown => return,
                    () = tokio::time::sleep(self.config.poll_interval) => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap_then_the_event_is_dead() {
        let config = InboxConfig {
            max_attempts: 5,
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(5),
            ..InboxConfig::default()
        };
        let waits: Vec<_> = (1..=5).map(|n| config.retry_after(n)).collect();
        let s = |n| Some(Duration::from_secs(n));
        assert_eq!(waits, [s(1), s(2), s(4), s(5), None]);
        assert_eq!(config.retry_after(u32::MAX), None);
    }
}

// The README's example runs as a doctest, so the crates.io page stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
