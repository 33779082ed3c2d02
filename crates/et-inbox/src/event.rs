//! Events as the inbox stores them: a notification's verified text fields
//! under its dedup key, whether ET sent it or the reconciler found it.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use et_model::{
    BeijingTime, Notification, NotificationError, NotifyType, OrderStatus, OrderStatusChange,
};
use et_proto::VerifiedNotification;

/// Where an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// ET posted it and its signature verified.
    Notification,
    /// The [`Reconciler`](crate::Reconciler) found a status ET had not
    /// notified (or whose notification was lost).
    Reconciliation,
}

impl Source {
    /// The name stored in the `source` column (and printed by `et inbox`).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Notification => "notification",
            Source::Reconciliation => "reconciliation",
        }
    }

    pub(crate) fn from_code(code: &str) -> Option<Self> {
        match code {
            "notification" => Some(Source::Notification),
            "reconciliation" => Some(Source::Reconciliation),
            _ => None,
        }
    }
}

/// The prefix of every reconciliation dedup key. ET's own keys start with
/// the notification kind (`payment_success:`, `order_status_change:`, …;
/// see [`VerifiedNotification::dedup_key`]), so the two never clash.
pub const RECONCILED_PREFIX: &str = "reconciled:";

/// An event about to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Stored once per key; later copies are acknowledged and dropped.
    pub dedup_key: String,
    /// Where it came from.
    pub source: Source,
    /// The order it is about, if any.
    pub order_id: Option<String>,
    /// The order status it reports, if any: kept in the inbox's order table
    /// for the reconciler, unless a newer one is kept already.
    pub order_status: Option<OrderStatus>,
    /// When that status took effect (ET's `datetime`, Beijing time), which
    /// decides which of two statuses is newer whatever order they arrive
    /// in; `None` when the notification's time is not ET's
    /// `yyyy-MM-dd HH:mm:ss`.
    pub order_status_at: Option<BeijingTime>,
    /// The notification's text fields, `sign` left out.
    pub fields: BTreeMap<String, String>,
}

impl NewEvent {
    /// A verified notification, under its [`VerifiedNotification::dedup_key`].
    pub fn notification(verified: &VerifiedNotification) -> Self {
        let fields = verified
            .fields()
            .iter()
            .filter(|(key, _)| *key != "sign")
            .map(|(key, value)| (key.to_owned(), value.text().to_owned()))
            .collect();
        Self::from_parts(
            verified.dedup_key(),
            Source::Notification,
            verified.notification(),
            fields,
        )
    }

    /// The order-status-change event the reconciler stores when ET reports
    /// `status` for `order_id` at `now` and the inbox knew another; dated
    /// `now`, so a notification of an older change arriving later does not
    /// replace it in the order table. Its key,
    /// `reconciled:order_status:<order id>:<code>`, is the same each time the
    /// same change is found, so repeated reconciliations store it once.
    pub fn reconciled(order_id: &str, status: OrderStatus, now: SystemTime) -> Self {
        let secs = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let change = Notification::OrderStatusChange(OrderStatusChange {
            notify_type: NotifyType::OrderStatusChange,
            order_id: order_id.to_owned(),
            datetime: BeijingTime::from_unix(secs).to_string(),
            order_status: status,
            extend_info: None,
            extra: Default::default(),
        });
        Self::from_parts(
            format!(
                "{RECONCILED_PREFIX}order_status:{order_id}:{}",
                status.code()
            ),
            Source::Reconciliation,
            &change,
            change.to_fields(),
        )
    }

    fn from_parts(
        dedup_key: String,
        source: Source,
        notification: &Notification,
        fields: BTreeMap<String, String>,
    ) -> Self {
        let (order_status, order_status_at) = match notification {
            Notification::OrderStatusChange(change) => (
                Some(change.order_status),
                BeijingTime::parse(&change.datetime),
            ),
            _ => (None, None),
        };
        NewEvent {
            dedup_key,
            source,
            order_id: notification.order_id().map(str::to_owned),
            order_status,
            order_status_at,
            fields,
        }
    }

    /// [`order_status_at`](Self::order_status_at) as the number the order
    /// table compares, `yyyyMMddHHmmss`: one zone, so it orders as time does.
    pub(crate) fn status_time(&self) -> Option<i64> {
        self.order_status_at.map(|t| {
            [t.month, t.day, t.hour, t.minute, t.second]
                .into_iter()
                .fold(t.year, |n, part| {
                    n.saturating_mul(100).saturating_add(i64::from(part))
                })
        })
    }

    pub(crate) fn fields_json(&self) -> String {
        serde_json::to_string(&self.fields).unwrap_or_default()
    }
}

/// Whether [`Store::insert`](crate::Store::insert) stored the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// First copy: stored, committed.
    Stored,
    /// A copy with this dedup key was stored before (maybe at this very
    /// moment by another instance); nothing changed.
    AlreadyStored,
}

impl Inserted {
    /// [`Stored`](Self::Stored) when the insert wrote the row, else
    /// [`AlreadyStored`](Self::AlreadyStored).
    pub(crate) fn wrote(row_written: bool) -> Self {
        if row_written {
            Inserted::Stored
        } else {
            Inserted::AlreadyStored
        }
    }
}

/// An event claimed by one consumer until its lease ends.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    /// The row id (increasing in storage order).
    pub id: i64,
    /// The dedup key it was stored under: the key a merchant's idempotent
    /// processing should remember.
    pub dedup_key: String,
    /// Where it came from.
    pub source: Source,
    /// The notification's text fields.
    pub fields: BTreeMap<String, String>,
    /// How many times it has been claimed, this claim included.
    pub attempts: u32,
    /// Identifies this claim; marking with a stale token fails with
    /// [`Error::LeaseLost`].
    pub(crate) token: i64,
}

impl Claimed {
    /// The typed event, the same type a [`WebhookReceiver`](et_http::WebhookReceiver)
    /// handler sees.
    pub fn notification(&self) -> Result<Notification, NotificationError> {
        Notification::classify(&self.fields)
    }

    pub(crate) fn from_row(
        id: i64,
        dedup_key: String,
        source: &str,
        fields: &str,
        attempts: i64,
        token: i64,
    ) -> Result<Self, Unreadable> {
        let unreadable = |what| Unreadable { id, what };
        Ok(Claimed {
            id,
            dedup_key,
            source: Source::from_code(source)
                .ok_or_else(|| unreadable("source is neither notification nor reconciliation"))?,
            fields: serde_json::from_str(fields)
                .map_err(|_| unreadable("fields are not a JSON object of strings"))?,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            token,
        })
    }
}

/// A claimed row this version cannot read (a hand-edited table). The
/// store sets it aside as dead, with [`reason`](Self::reason) as its
/// `last_error`, and hands out the rest of the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unreadable {
    pub(crate) id: i64,
    pub(crate) what: &'static str,
}

impl Unreadable {
    pub(crate) fn reason(&self) -> String {
        format!("unreadable: {}", self.what)
    }

    pub(crate) fn log(&self) {
        tracing::error!(
            id = self.id,
            what = self.what,
            "inbox event is unreadable; set aside as dead"
        );
    }
}

/// A claim's rows split into the events handed out and the unreadable
/// rows set aside.
pub(crate) fn sort_out(
    rows: impl IntoIterator<Item = Result<Claimed, Unreadable>>,
) -> (Vec<Claimed>, Vec<Unreadable>) {
    let (mut claimed, mut unreadable) = (Vec::new(), Vec::new());
    for row in rows {
        match row {
            Ok(claim) => claimed.push(claim),
            Err(row) => {
                row.log();
                unreadable.push(row);
            }
        }
    }
    claimed.sort_unstable_by_key(|c| c.id);
    (claimed, unreadable)
}

/// How many events are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Waiting to be claimed (new, or failed and waiting for a retry).
    pub pending: u64,
    /// Claimed by a consumer (maybe with an expired lease).
    pub claimed: u64,
    /// Processed and marked done.
    pub done: u64,
    /// Set aside after too many failures.
    pub dead: u64,
    /// When the oldest pending event was stored; `None` when none is pending.
    pub oldest_pending: Option<SystemTime>,
}

impl Counts {
    /// Every stored event.
    pub fn total(&self) -> u64 {
        self.pending + self.claimed + self.done + self.dead
    }
}

/// An order the inbox keeps for the reconciler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedOrder {
    /// ET's order id.
    pub order_id: String,
    /// The newest status the inbox stored for it (by the time each status
    /// took effect, not by when it arrived); `None` before any.
    pub status: Option<OrderStatus>,
}

/// Milliseconds since the Unix epoch on this machine's clock.
pub(crate) fn now_ms() -> i64 {
    unix_ms(SystemTime::now())
}

/// A time as Unix milliseconds, as the stores write them (0 before 1970).
pub(crate) fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A fresh claim token.
pub(crate) fn new_token() -> i64 {
    rand::random::<i64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_times_order_as_the_times_do() {
        let at = |text| {
            let mut event = NewEvent::reconciled("ET1", OrderStatus::Paid, UNIX_EPOCH);
            event.order_status_at = BeijingTime::parse(text);
            event.status_time()
        };
        let times = [
            "2025-12-31 23:59:59",
            "2026-01-01 00:00:00",
            "2026-01-01 00:00:01",
            "2026-01-01 00:01:00",
            "2026-01-01 01:00:00",
            "2026-01-02 00:00:00",
            "2026-02-01 00:00:00",
        ];
        let keys: Vec<_> = times.iter().map(|t| at(t).unwrap()).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
        assert_eq!(at("2026-01-01 00:00:00"), Some(20_260_101_000_000));
    }
}
