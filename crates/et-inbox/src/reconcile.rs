//! Reconciliation: ask ET for the orders that are not final locally and
//! store any status the inbox did not know, as an order-status-change event
//! in the same inbox, so one handler path covers both.
//!
//! ET gives up on a notification after 7 attempts (about 3.6 hours); a
//! merchant whose endpoint was down longer learns of the change only here.

use std::time::{Duration, SystemTime};

use et_http::Client;
use et_model::{OrderStatus, QueryOrders};

use crate::{Error, Inbox, Inserted, NewEvent, Store, TrackedOrder};

/// The largest batch the reconciler sends. ET's page does not state a
/// maximum for `order_id_list` (docs/protocol/03-operations.md §4.1, open
/// question 4); 50 is the batch our benches open and stays far below any
/// body limit. Larger [`ReconcilerConfig::batch_size`] values are capped.
pub const MAX_QUERY_BATCH: usize = 50;

/// How often and how much the reconciler asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconcilerConfig {
    /// Time between two passes over the open orders. Default 10 minutes.
    pub interval: Duration,
    /// Orders per query, at most [`MAX_QUERY_BATCH`]. Default 50.
    pub batch_size: usize,
    /// Pause between two queries of one pass, to spread the load on ET.
    /// Default 200 ms.
    pub pause_between_batches: Duration,
}

impl Default for ReconcilerConfig {
    fn default() -> Self {
        ReconcilerConfig {
            interval: Duration::from_secs(600),
            batch_size: MAX_QUERY_BATCH,
            pause_between_batches: Duration::from_millis(200),
        }
    }
}

/// What one pass found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Orders asked about.
    pub queried: usize,
    /// Queries sent to ET.
    pub queries: usize,
    /// Status differences stored as new events.
    pub stored: usize,
    /// Differences already stored by an earlier pass.
    pub already_stored: usize,
    /// Orders ET did not return (unknown to ET or not this merchant's).
    pub missing: usize,
}

/// Periodically batch-queries ET for open orders and stores differences.
#[derive(Debug)]
pub struct Reconciler<S> {
    inbox: Inbox<S>,
    client: Client,
    config: ReconcilerConfig,
}

impl<S: Store> Reconciler<S> {
    /// A reconciler storing into `inbox`, asking ET through `client`.
    pub fn new(inbox: Inbox<S>, client: Client, config: ReconcilerConfig) -> Self {
        Reconciler {
            inbox,
            client,
            config,
        }
    }

    /// One pass over the orders the inbox tracks that are not final (see
    /// [`Inbox::track_order`]).
    pub async fn reconcile_tracked(&self) -> Result<ReconcileReport, Error> {
        let mut report = ReconcileReport::default();
        let mut after = String::new();
        loop {
            let page = self
                .inbox
                .store()
                .open_orders(&after, self.batch_size() as u32)
                .await?;
            let Some(last) = page.last() else {
                return Ok(report);
            };
            after.clone_from(&last.order_id);
            self.pause_if_not_first(&report).await;
            self.query_batch(&page, &mut report).await?;
        }
    }

    /// One pass over orders the merchant supplies, with the status the
    /// merchant last knew (`None`: none yet). Use this when the merchant's
    /// own order table says which orders are open.
    pub async fn reconcile(&self, orders: &[TrackedOrder]) -> Result<ReconcileReport, Error> {
        let mut report = ReconcileReport::default();
        for batch in orders.chunks(self.batch_size()) {
            self.pause_if_not_first(&report).await;
            self.query_batch(batch, &mut report).await?;
        }
        Ok(report)
    }

    /// Runs [`reconcile_tracked`](Self::reconcile_tracked) every
    /// [`interval`](ReconcilerConfig::interval) until `shutdown` completes.
    /// A failed pass is logged and retried at the next interval.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut ticks = tokio::time::interval(self.config.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                _ = ticks.tick() => match self.reconcile_tracked().await {
                    Ok(report) => tracing::info!(?report, "reconciliation pass"),
                    Err(e) => tracing::warn!(error = %e, "reconciliation pass failed; retried next interval"),
                },
            }
        }
    }

    fn batch_size(&self) -> usize {
        self.config.batch_size.clamp(1, MAX_QUERY_BATCH)
    }

    async fn pause_if_not_first(&self, report: &ReconcileReport) {
        if report.queries > 0 {
            tokio::time::sleep(self.config.pause_between_batches).await;
        }
    }

    async fn query_batch(
        &self,
        batch: &[TrackedOrder],
        report: &mut ReconcileReport,
    ) -> Result<(), Error> {
        let query = QueryOrders::new(batch.iter().map(|o| o.order_id.as_str()));
        let reply = self
            .client
            .query_orders(&query)
            .await
            .map_err(Error::Query)?;
        report.queries += 1;
        report.queried += batch.len();
        for local in batch {
            // Only answers for orders we asked about count.
            let Some(remote) = reply.items.iter().find(|o| o.order_id == local.order_id) else {
                report.missing += 1;
                continue;
            };
            if differs(local.status, remote.order_status) {
                let event =
                    NewEvent::reconciled(&local.order_id, remote.order_status, SystemTime::now());
                match self.inbox.store().insert(&event).await? {
                    Inserted::Stored => report.stored += 1,
                    Inserted::AlreadyStored => report.already_stored += 1,
                }
            }
        }
        Ok(())
    }
}

/// Whether ET's status is news: it differs from the local one, and an order
/// still awaiting payment with no local status is not.
fn differs(local: Option<OrderStatus>, remote: OrderStatus) -> bool {
    match local {
        Some(local) => local != remote,
        None => remote != OrderStatus::AwaitingPayment,
    }
}
