//! The order engine: every status change goes through [`App::transition`],
//! which checks the [state machine](crate::machine), saves the order and
//! queues the notifications the change causes, in one transaction. Which
//! notifications a change causes is [`notifications`], a pure function of
//! the order and the event that returns typed `et_model` values; the
//! [outbox](crate::outbox) signs them.
//!
//! Time-driven changes are engine steps too: [`App::close_unpaid_orders`]
//! closes orders unpaid for [`CLOSE_UNPAID_AFTER_MS`]; the
//! [ticker](crate::ticker) calls it each round.

use et_model::{
    Amount, CurrencyCode, Notification, NotifyType, OrderStatus, OrderStatusChange, PayResult,
    PaymentSuccess, RefundResult, RefundResultNotice, RemittanceVoucher,
};

use crate::app::App;
use crate::clock::{beijing_datetime, Millis};
use crate::codes::{order_not_found, Refusal, SandboxCode};
use crate::machine::{self, Event};
use crate::money::amount_due;
use crate::outbox;
use crate::store::{self, OrderRecord};

/// Unpaid orders close after this long (order interface, api-130848849).
pub const CLOSE_UNPAID_AFTER_MS: Millis = 7 * 24 * 3600 * 1000;

/// A refund application's details, kept on the order.
pub struct RefundApplication {
    /// The merchant's refund id (`refund_order_id`).
    pub refund_order_id: String,
    /// Amount to refund, decimal text.
    pub refund_amount: String,
}

/// A notification to queue, and where it goes.
#[derive(Clone, Debug, PartialEq)]
pub struct Outgoing {
    /// The merchant's URL.
    pub url: String,
    /// What ET tells it.
    pub notification: Notification,
}

impl App {
    /// Applies `event` to an order (owned by `owner`, when given) and queues
    /// the notifications it causes.
    pub fn transition(
        &self,
        order_id: &str,
        owner: Option<&str>,
        event: Event,
        refund: Option<RefundApplication>,
    ) -> Result<OrderRecord, Refusal> {
        let now = self.clock.now();
        let order = self.store.tx(|c| {
            let mut o = store::order(c, order_id)?
                .filter(|o| owner.is_none_or(|m| m == o.merchant_number))
                .ok_or_else(|| order_not_found(order_id))?;
            let from = OrderStatus::from_code(o.status);
            let before_refund = o.status_before_refund.map(OrderStatus::from_code);
            let to = machine::next(from, before_refund, event).map_err(|e| {
                let code = match event {
                    Event::Pay => SandboxCode::OrderNotAwaitingPayment,
                    _ => SandboxCode::IllegalOrderState,
                };
                Refusal::new(code, format!("order {order_id}: {e}"))
            })?;
            if let Some(r) = refund {
                o.status_before_refund = Some(o.status);
                o.refund_order_id = r.refund_order_id;
                o.refund_amount = r.refund_amount;
            }
            o.status = to.code();
            o.updated_at = now;
            store::update_order(c, &o)?;
            let salt = store::merchant(c, &o.merchant_number, &o.sub_merchant_number)?
                .map(|m| m.salt)
                .unwrap_or_default();
            let voucher_url = self.voucher_url(&o.order_id);
            for out in notifications(&o, event, now, &voucher_url)? {
                let body = outbox::signed_body(&out.notification, &salt).map_err(|e| {
                    Refusal::new(
                        SandboxCode::Internal,
                        format!("signing a notification: {e}"),
                    )
                })?;
                let kind = out.notification.kind().as_str();
                store::enqueue(c, &o.order_id, kind, &out.url, &body, now)?;
            }
            Ok::<_, Refusal>(o)
        })?;
        tracing::info!(
            order_id,
            event = event.name(),
            status = order.status,
            "order status changed"
        );
        self.wake.notify_one();
        Ok(order)
    }

    /// Closes every order unpaid for [`CLOSE_UNPAID_AFTER_MS`] of sandbox
    /// time, as ET does; each close notifies like an admin close.
    pub fn close_unpaid_orders(&self) {
        let cutoff = self.clock.now().saturating_sub(CLOSE_UNPAID_AFTER_MS);
        let due = self
            .store
            .tx(|c| store::orders_created_before(c, OrderStatus::AwaitingPayment.code(), cutoff));
        match due {
            Ok(ids) => {
                for id in ids {
                    if let Err(e) = self.transition(&id, None, Event::Close, None) {
                        tracing::warn!(order_id = %id, error = %e, "closing an unpaid order failed");
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "finding unpaid orders failed"),
        }
    }
}

/// The notifications `o` (already changed by `event`, at `now`) causes:
/// always a status change; plus payment success, remittance voucher or
/// refund result. Those without a URL are left out.
pub fn notifications(
    o: &OrderRecord,
    event: Event,
    now: Millis,
    voucher_url: &str,
) -> Result<Vec<Outgoing>, Refusal> {
    let at = beijing_datetime(now);
    let status_url = first_non_empty(&o.status_change_notify_url, &o.notify_url);
    let mut out = vec![Outgoing {
        url: status_url.clone(),
        notification: Notification::OrderStatusChange(OrderStatusChange {
            notify_type: NotifyType::OrderStatusChange,
            order_id: o.order_id.clone(),
            datetime: at.clone(),
            order_status: OrderStatus::from_code(o.status),
            extra: Default::default(),
        }),
    }];
    let extend_info = Some(String::new());
    let also = match event {
        Event::Pay => Some(Outgoing {
            url: first_non_empty(&o.pay_notify_url, &o.notify_url),
            notification: Notification::PaymentSuccess(PaymentSuccess {
                order_id: o.order_id.clone(),
                pay_result: PayResult::Succeeded,
                pay_amount: amount(&amount_due(o))?,
                pay_currency_code: Some(CurrencyCode::RMB),
                pay_datetime: at,
                extend_info,
                notify_type: None,
                extra: Default::default(),
            }),
        }),
        Event::Receive => Some(Outgoing {
            url: status_url,
            notification: Notification::RemittanceVoucher(RemittanceVoucher {
                order_id: o.order_id.clone(),
                remittance_voucher_url: voucher_url.to_owned(),
                extend_info,
                extra: Default::default(),
            }),
        }),
        Event::RefundResult { success } => Some(Outgoing {
            url: status_url,
            notification: Notification::RefundResult(RefundResultNotice {
                order_id: o.order_id.clone(),
                refund_order_id: o.refund_order_id.clone(),
                refund_result: if success {
                    RefundResult::Succeeded
                } else {
                    RefundResult::Failed
                },
                refund_amount: amount(&o.refund_amount)?,
                refund_datetime: at,
                extend_info,
                extra: Default::default(),
            }),
        }),
        _ => None,
    };
    out.extend(also);
    out.retain(|n| !n.url.is_empty());
    Ok(out)
}

/// A stored amount (the sandbox wrote it, so it parses).
fn amount(text: &str) -> Result<Amount, Refusal> {
    Amount::new(text)
        .map_err(|e| Refusal::new(SandboxCode::Internal, format!("stored amount: {e}")))
}

fn first_non_empty(a: &str, b: &str) -> String {
    if a.is_empty() { b } else { a }.to_owned()
}
