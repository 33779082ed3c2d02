//! What the admin API and [`RunningSandbox`](crate::RunningSandbox) show of
//! the store's rows: orders, notifications and delivery attempts, with
//! Beijing sandbox times.

use et_model::OrderStatus;
use serde::Serialize;

use crate::clock;
use crate::outbox::DeliveryFailure;
use crate::store;

/// An order as the admin API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderView {
    /// ET order id.
    pub order_id: String,
    /// The merchant's own order number.
    pub merchant_order_id: String,
    /// Current status.
    pub status: OrderStatus,
    /// Order currency.
    pub currency_code: String,
    /// Amount in the order currency.
    pub amount: String,
    /// Amount in RMB.
    pub tuition_rmb: String,
    /// Fee in RMB.
    pub counter_fee: String,
    /// Creation time, Beijing time.
    pub created_at: String,
    /// Last change, Beijing time.
    pub updated_at: String,
}

impl From<&store::OrderRecord> for OrderView {
    fn from(o: &store::OrderRecord) -> Self {
        OrderView {
            order_id: o.order_id.clone(),
            merchant_order_id: o.merchant_order_id.clone(),
            status: o.status,
            currency_code: o.currency_code.clone(),
            amount: o.amount.to_string(),
            tuition_rmb: o.tuition_rmb.to_string(),
            counter_fee: o.counter_fee.to_string(),
            created_at: clock::beijing_datetime(o.created_at),
            updated_at: clock::beijing_datetime(o.updated_at),
        }
    }
}

/// A notification in the outbox and how its delivery went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotificationView {
    /// The notification's id (its outbox row), for
    /// [`RunningSandbox::notification_attempts`](crate::RunningSandbox::notification_attempts) and
    /// [`RunningSandbox::redeliver`](crate::RunningSandbox::redeliver).
    pub id: i64,
    /// ET order id.
    pub order_id: String,
    /// `payment_success` (`pay_result` 0 for a declined payment),
    /// `order_status_change`, `refund_result` or `remittance_voucher`.
    pub kind: String,
    /// Destination.
    pub url: String,
    /// The signed JSON body.
    pub body: String,
    /// Deliveries tried.
    pub attempts: i64,
    /// Whether the merchant acknowledged it.
    pub delivered: bool,
    /// Whether more attempts will follow.
    pub pending: bool,
    /// What went wrong last time ('' if nothing).
    pub last_error: String,
}

impl From<&store::OutboxRecord> for NotificationView {
    fn from(n: &store::OutboxRecord) -> Self {
        NotificationView {
            id: n.id,
            order_id: n.order_id.clone(),
            kind: n.kind.as_str().to_owned(),
            url: n.url.clone(),
            body: n.body.clone(),
            attempts: n.attempts,
            delivered: n.delivered_at.is_some(),
            pending: n.next_attempt_at.is_some(),
            last_error: n.last_error.clone(),
        }
    }
}

/// One delivery attempt of a notification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeliveryAttemptView {
    /// The notification tried ([`NotificationView::id`]).
    pub notification_id: i64,
    /// The order it is about.
    pub order_id: String,
    /// When the attempt started, Beijing sandbox time.
    pub attempted_at: String,
    /// Where it was sent.
    pub url: String,
    /// The reply's HTTP status, if a reply came.
    pub http_status: Option<u16>,
    /// Whether the merchant acknowledged it (`{"notify_result":"OK"}`).
    pub acknowledged: bool,
    /// Why not, when it was not.
    pub failure: Option<DeliveryFailure>,
    /// The first bytes of the reply, at most [`REPLY_HEAD_BYTES`](crate::REPLY_HEAD_BYTES)
    /// (empty when no reply was read whole); JSON shows them as text
    /// (invalid UTF-8 replaced).
    #[serde(serialize_with = "lossy_text")]
    pub reply_head: Vec<u8>,
    /// Real milliseconds from sending to the end of the reply (or the failure).
    pub latency_ms: i64,
    /// When the next attempt is due, Beijing sandbox time; `None` once
    /// delivered or given up.
    pub next_attempt_at: Option<String>,
}

fn lossy_text<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(bytes))
}

impl From<store::DeliveryAttemptRecord> for DeliveryAttemptView {
    fn from(a: store::DeliveryAttemptRecord) -> Self {
        DeliveryAttemptView {
            notification_id: a.notification_id,
            order_id: a.order_id,
            attempted_at: clock::beijing_datetime(a.attempted_at),
            url: a.url,
            http_status: a.http_status,
            acknowledged: a.failure.is_none(),
            failure: a.failure,
            reply_head: a.reply_head,
            latency_ms: a.latency_ms,
            next_attempt_at: a.next_attempt_at.map(clock::beijing_datetime),
        }
    }
}
