//! Holding a batch's lease while its events are processed, so that a slow
//! event is never claimed by a second consumer while the first still works
//! on it.
//!
//! A heartbeat task renews the whole batch every quarter of the lease
//! ([`Store::renew`]). It runs beside the processing, not inside it, so a
//! handler that blocks its thread does not stop the renewals either. The
//! consumer counts an event as held until three quarters of the lease after
//! the last renewal that succeeded *was sent*: the store's lease runs from
//! when it ran the renewal, later, so the consumer's view ends first, and
//! the quarter left over absorbs a late timer on a loaded machine. When an
//! event is no longer held, its processing is stopped (dropped at its next
//! `.await`) before anyone else can claim it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::store::LONGEST;
use crate::{Claimed, Store};

/// What the heartbeat last achieved.
#[derive(Debug, Clone)]
struct Held {
    /// When the last renewal that succeeded (or the claim) was sent.
    since: Instant,
    /// The events it found still held, in increasing order.
    ids: Arc<[i64]>,
}

/// The lease on one batch, renewed in the background until dropped.
pub(crate) struct Heartbeat {
    held: watch::Receiver<Held>,
    /// How long after [`Held::since`] an event counts as held.
    hold: Duration,
    task: JoinHandle<()>,
}

impl Heartbeat {
    /// Starts renewing `batch`, claimed for `lease` by a call sent at
    /// `claimed_at`.
    pub(crate) fn start<S: Store>(
        store: S,
        batch: &[Claimed],
        lease: Duration,
        claimed_at: Instant,
    ) -> Self {
        // As the stores cap it; and an `Instant` plus it cannot overflow.
        let lease = lease.min(LONGEST);
        let (tx, held) = watch::channel(Held {
            since: claimed_at,
            ids: batch.iter().map(|c| c.id).collect(),
        });
        let task = tokio::spawn(beat(store, batch.first().cloned(), lease, tx));
        Heartbeat {
            held,
            hold: lease.saturating_sub(lease / 4),
            task,
        }
    }

    /// Whether event `id` is still held now.
    pub(crate) fn holds(&self, id: i64) -> bool {
        self.deadline(&self.held.borrow(), id)
            .is_some_and(|deadline| Instant::now() < deadline)
    }

    /// Completes once event `id` may no longer be held.
    pub(crate) async fn lost(&self, id: i64) {
        let mut held = self.held.clone();
        loop {
            let Some(deadline) = self.deadline(&held.borrow_and_update(), id) else {
                return;
            };
            if Instant::now() >= deadline {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep_until(deadline.into()) => {}
                renewed = held.changed() => if renewed.is_err() {
                    // The heartbeat ended: the last renewal is the last word.
                    tokio::time::sleep_until(deadline.into()).await;
                },
            }
        }
    }

    /// Until when `id` counts as held, or `None` if the store no longer
    /// holds it for this batch.
    fn deadline(&self, held: &Held, id: i64) -> Option<Instant> {
        held.ids
            .binary_search(&id)
            .ok()
            .map(|_| held.since + self.hold)
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Renews the batch `first` belongs to every quarter lease, trying again
/// sooner after a failure, until none of it is held.
async fn beat<S: Store>(
    store: S,
    first: Option<Claimed>,
    lease: Duration,
    tx: watch::Sender<Held>,
) {
    let Some(first) = first else { return };
    // At least a millisecond apart: a zero lease must not spin.
    let every = (lease / 4).max(Duration::from_millis(1));
    let retry = (every / 4).max(Duration::from_millis(1));
    let mut next = tx.borrow().since + every;
    loop {
        tokio::time::sleep_until(next.into()).await;
        let sent = Instant::now();
        match tokio::time::timeout(every, store.renew(&first, lease)).await {
            Ok(Ok(ids)) => {
                let finished = ids.is_empty();
                tx.send_replace(Held {
                    since: sent,
                    ids: ids.into(),
                });
                if finished {
                    return;
                }
                next = sent + every;
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "inbox lease renewal failed; trying again");
                next = Instant::now() + retry;
            }
            Err(_) => {
                tracing::warn!(timeout = ?every, "inbox lease renewal timed out; trying again");
                next = Instant::now() + retry;
            }
        }
    }
}
