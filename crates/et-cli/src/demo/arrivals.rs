//! The notifications the demo's webhook receiver verified, as they arrive.

use std::time::{Duration, Instant};

use et_model::{Notification, NotificationKind, OrderStatus};
use et_proto::VerifiedNotification;
use tokio::sync::mpsc;

use super::report::StepError;

/// A verified notification and when the receiver handed it over.
pub(super) type Arrival = (Instant, VerifiedNotification);

/// Verified notifications as the receiver's handler hands them over,
/// stamped with their arrival. (Not et-inbox's `Inbox`: nothing here is
/// stored; `et demo --inbox` adds that, in [`super::inbox`].)
pub(super) struct Arrivals {
    rx: mpsc::UnboundedReceiver<Arrival>,
    /// When the action that should cause the next notifications began.
    since: Instant,
    /// Arrived but not yet asked for (the order of deliveries is not fixed).
    backlog: Vec<Arrival>,
    pub(super) received: usize,
    pub(super) timeout: Duration,
}

impl Arrivals {
    pub(super) fn new(rx: mpsc::UnboundedReceiver<Arrival>, timeout: Duration) -> Self {
        Arrivals {
            rx,
            since: Instant::now(),
            backlog: Vec::new(),
            received: 0,
            timeout,
        }
    }

    /// Notes that an action that makes ET notify starts now.
    pub(super) fn mark(&mut self) {
        self.since = Instant::now();
    }

    /// The first notification matching `wanted`, waiting at most the
    /// timeout, and `+N ms` from the last [`mark`](Self::mark) to its arrival.
    pub(super) async fn wait(
        &mut self,
        what: &str,
        wanted: impl Fn(&Notification) -> bool,
    ) -> Result<(VerifiedNotification, String), StepError> {
        let found = match self
            .backlog
            .iter()
            .position(|(_, n)| wanted(n.notification()))
        {
            Some(i) => self.backlog.remove(i),
            None => self.receive(what, wanted).await?,
        };
        let (at, n) = found;
        let after = at.saturating_duration_since(self.since).as_secs_f64() * 1e3;
        Ok((n, format!("arrived +{after:.1} ms")))
    }

    /// [`wait`](Self::wait)s for the first notification of `kind` about `order_id`.
    pub(super) async fn of_order(
        &mut self,
        what: &str,
        kind: NotificationKind,
        order_id: &str,
    ) -> Result<(VerifiedNotification, String), StepError> {
        self.wait(what, |n| n.kind() == kind && n.order_id() == Some(order_id))
            .await
    }

    async fn receive(
        &mut self,
        what: &str,
        wanted: impl Fn(&Notification) -> bool,
    ) -> Result<Arrival, StepError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(arrival)) => {
                    self.received += 1;
                    if wanted(arrival.1.notification()) {
                        return Ok(arrival);
                    }
                    self.backlog.push(arrival);
                }
                Ok(None) => return Err(StepError::ReceiverStopped(what.to_owned())),
                Err(_) => {
                    return Err(StepError::NoNotification {
                        what: what.to_owned(),
                        waited: self.timeout,
                    })
                }
            }
        }
    }

    /// Waits for the status change of `order_id` to `status`.
    pub(super) async fn status(
        &mut self,
        order_id: &str,
        status: OrderStatus,
    ) -> Result<String, StepError> {
        let what = format!("status {} change", status.code());
        let (_, after) = self
            .wait(&what, |n| {
                matches!(n, Notification::OrderStatusChange(c) if c.order_id == order_id && c.order_status == status)
            })
            .await?;
        Ok(format!("{} verified, {after}", super::steps::coded(status)))
    }
}
