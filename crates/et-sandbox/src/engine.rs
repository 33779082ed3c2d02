//! The order engine: orders are created by [`App::place_order`], and
//! every status change goes through [`App::transition`],
//! which runs the pure step [`apply`] (the [state machine](crate::machine)'s
//! check, the changed order, and the notifications the change causes as
//! typed `et_model` values, from [`notifications`]), then saves the order
//! and queues the notifications, signed by the [outbox](crate::outbox), in
//! one transaction.
//!
//! Time-driven changes are engine steps too: [`App::close_unpaid_orders`]
//! closes orders unpaid for [`CLOSE_UNPAID_AFTER_MS`]; the
//! [ticker](crate::ticker) calls it each round.

use et_model::{
    Amount, CreateOrder, CurrencyCode, Decimal, Notification, NotifyType, OrderCreated,
    OrderStatus, OrderStatusChange, PayResult, PaymentSuccess, RefundResult, RefundResultNotice,
    RemittanceVoucher,
};

use crate::app::App;
use crate::clock::{beijing_compact_date, beijing_datetime, Millis};
use crate::codes::{decimal, order_not_found, Refusal, SandboxCode};
use crate::machine::{self, Event};
use crate::money::amount_due;
use crate::outbox;
use crate::store::{self, NewOrder, OrderRecord};

/// Unpaid orders close after this long (order interface, api-130848849).
pub const CLOSE_UNPAID_AFTER_MS: Millis = 7 * 24 * 3600 * 1000;

/// A refund application's details, kept on the order.
pub(crate) struct RefundApplication {
    /// The merchant's refund id (`refund_order_id`).
    pub refund_order_id: String,
    /// Amount to refund.
    pub refund_amount: Amount,
}

/// A notification to queue, and where it goes.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Outgoing {
    /// The merchant's URL.
    pub url: String,
    /// What ET tells it.
    pub notification: Notification,
}

impl App {
    /// RMB amount and rate for `amount` of `currency`, from the rate table.
    pub(crate) fn quote(
        &self,
        currency: &str,
        amount: Decimal,
    ) -> Result<(Decimal, Decimal), Refusal> {
        let unknown = || {
            Refusal::new(
                SandboxCode::UnknownCurrency,
                format!("the sandbox rate table has no rate for currency {currency:?}"),
            )
        };
        let rate = self.rates.rate(currency).ok_or_else(unknown)?;
        let rmb = self.rates.to_rmb(currency, amount).ok_or_else(unknown)?;
        Ok((rmb, rate))
    }

    /// The counter fee, from the rate table.
    pub(crate) fn counter_fee(&self) -> Result<Decimal, Refusal> {
        self.rates
            .counter_fee()
            .map_err(|e| Refusal::new(SandboxCode::Internal, e.to_string()))
    }

    /// Creates a merchant's order in status 0: for `create_order`, and for
    /// the student's form of a jump ([`crate::jump`]). A known
    /// `institution_code` is required when one is given; the order keeps
    /// the directory's names. Checked and inserted in one transaction: a
    /// retried create never makes a second order.
    pub(crate) fn place_order(
        &self,
        merchant_number: &str,
        sub_merchant_number: &str,
        op: CreateOrder,
    ) -> Result<OrderCreated, Refusal> {
        let institution = self
            .institutions
            .for_order(op.institution_code.as_deref())?;
        let amount = decimal(
            self.keys().et.profile().tuition_spelling.field(),
            &op.tuition,
        )?;
        let currency = op.currency_code.as_str();
        let (rmb, _) = self.quote(currency, amount)?;
        let fee = self.counter_fee()?;
        let now = self.clock.now();
        let new = NewOrder {
            merchant_number: merchant_number.to_owned(),
            sub_merchant_number: sub_merchant_number.to_owned(),
            merchant_order_id: op.merchant_order_id.clone(),
            currency_code: currency.to_owned(),
            amount: op.tuition.clone(),
            tuition_rmb: Amount::from_decimal(rmb),
            counter_fee: Amount::from_decimal(fee),
            notify_url: op.notify_url.clone().unwrap_or_default(),
            status_change_notify_url: op.status_change_notify_url.clone().unwrap_or_default(),
        };
        let order_id = self.store.tx(|c| {
            let used =
                store::order_by_merchant_order_id(c, &new.merchant_number, &new.merchant_order_id)?;
            if let Some(o) = used {
                return Err(already_used(
                    &o,
                    "query that order instead of creating another",
                ));
            }
            let order_id = store::insert_order(c, &new, &beijing_compact_date(now), now)?;
            if let Some(institution) = institution {
                store::insert_order_institution(c, &order_id, institution)?;
            }
            Ok(order_id)
        })?;
        tracing::info!(%order_id, "order created");
        Ok(OrderCreated {
            pay_config_list: self.pay_configs(&order_id),
            order_id,
            tuition_rmb: Some(new.tuition_rmb),
            counter_fee: Some(new.counter_fee),
            extra: Default::default(),
        })
    }

    /// Applies `event` to an order (owned by `owner`, when given) and queues
    /// the notifications it causes.
    pub(crate) fn transition(
        &self,
        order_id: &str,
        owner: Option<&str>,
        event: Event,
        refund: Option<RefundApplication>,
    ) -> Result<OrderRecord, Refusal> {
        let now = self.clock.now();
        let order = self.store.tx(|c| {
            let o = store::order(c, order_id)?
                .filter(|o| owner.is_none_or(|m| m == o.merchant_number))
                .ok_or_else(|| order_not_found(order_id))?;
            let voucher_url = self.voucher_url(&o.order_id);
            let from_status = o.status;
            let (o, outgoing) = apply(o, event, refund, now, &voucher_url)?;
            store::update_order(c, &o)?;
            let step = store::StatusChange {
                at: now,
                event: event.name().to_owned(),
                from_status,
                to_status: o.status,
                note: String::new(),
            };
            store::record_status(c, &o.order_id, &step)?;
            let salt = store::merchant(c, &o.merchant_number, &o.sub_merchant_number)?
                .map(|m| m.salt)
                .unwrap_or_default();
            for out in outgoing {
                let body = outbox::signed_body(&self.keys().et, &out.notification, &salt).map_err(
                    |e| {
                        Refusal::new(
                            SandboxCode::Internal,
                            format!("signing a notification: {e}"),
                        )
                    },
                )?;
                let kind = out.notification.kind();
                store::enqueue(c, &o.order_id, kind, &out.url, &body, now)?;
            }
            Ok::<_, Refusal>(o)
        })?;
        tracing::info!(
            order_id,
            event = event.name(),
            status = order.status.code(),
            "order status changed"
        );
        self.wake.notify_one();
        Ok(order)
    }

    /// Closes every order unpaid for [`CLOSE_UNPAID_AFTER_MS`] of sandbox
    /// time, as ET does; each close notifies like an admin close.
    pub(crate) fn close_unpaid_orders(&self) {
        let cutoff = self.clock.now().saturating_sub(CLOSE_UNPAID_AFTER_MS);
        let due = self
            .store
            .tx(|c| store::orders_created_before(c, OrderStatus::AwaitingPayment, cutoff));
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

/// The engine's pure step: the order after `event` at `now` (with a refund
/// application's details, for one) and the notifications the change
/// causes, or why the state machine forbids it (then nothing is sent).
pub(crate) fn apply(
    mut o: OrderRecord,
    event: Event,
    refund: Option<RefundApplication>,
    now: Millis,
    voucher_url: &str,
) -> Result<(OrderRecord, Vec<Outgoing>), Refusal> {
    let to = machine::next(o.status, o.status_before_refund, event).map_err(|e| {
        let code = match event {
            Event::Pay | Event::DeclinePayment => SandboxCode::OrderNotAwaitingPayment,
            _ => SandboxCode::IllegalOrderState,
        };
        Refusal::new(code, format!("order {}: {e}", o.order_id))
    })?;
    if let Some(r) = refund {
        o.status_before_refund = Some(o.status);
        o.refund_order_id = r.refund_order_id;
        o.refund_amount = Some(r.refund_amount);
    }
    o.status = to;
    o.updated_at = now;
    let outgoing = notifications(&o, event, now, voucher_url)?;
    Ok((o, outgoing))
}

/// The notifications `o` (already changed by `event`, at `now`) causes: a
/// status change (unless the status stays, as after a declined payment);
/// plus the payment result, remittance voucher or refund result. Those
/// without a URL are left out.
pub(crate) fn notifications(
    o: &OrderRecord,
    event: Event,
    now: Millis,
    voucher_url: &str,
) -> Result<Vec<Outgoing>, Refusal> {
    let at = beijing_datetime(now);
    let status_url = first_non_empty(&o.status_change_notify_url, &o.notify_url);
    let mut out = Vec::with_capacity(2);
    if event != Event::DeclinePayment {
        out.push(Outgoing {
            url: status_url.clone(),
            notification: Notification::OrderStatusChange(OrderStatusChange {
                notify_type: NotifyType::OrderStatusChange,
                order_id: o.order_id.clone(),
                datetime: at.clone(),
                order_status: o.status,
                extend_info: None,
                extra: Default::default(),
            }),
        });
    }
    let extend_info = Some(String::new());
    let also = match event {
        Event::Pay | Event::DeclinePayment => Some(Outgoing {
            url: first_non_empty(&o.pay_notify_url, &o.notify_url),
            notification: Notification::PaymentSuccess(PaymentSuccess {
                order_id: o.order_id.clone(),
                pay_result: if event == Event::Pay {
                    PayResult::Succeeded
                } else {
                    PayResult::Failed
                },
                pay_amount: amount_due(o).map_err(|e| stored(o, &e))?,
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
                refund_amount: o
                    .refund_amount
                    .clone()
                    .ok_or_else(|| stored(o, &"no refund was applied for"))?,
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

/// The refusal of a second order with `o`'s `merchant_order_id` (a
/// retried create, or a second jump), saying what to do instead.
pub(crate) fn already_used(o: &OrderRecord, instead: &str) -> Refusal {
    Refusal::new(
        SandboxCode::DuplicateMerchantOrderId,
        format!(
            "merchant_order_id {:?} was already used by merchant {} for order {} (status {}); {instead}",
            o.merchant_order_id,
            o.merchant_number,
            o.order_id,
            o.status.code()
        ),
    )
}

/// A stored order that cannot say what a notification needs.
fn stored(o: &OrderRecord, why: &dyn std::fmt::Display) -> Refusal {
    let why = format!("order {}: {why}", o.order_id);
    Refusal::new(SandboxCode::Internal, why)
}

fn first_non_empty(a: &str, b: &str) -> String {
    if a.is_empty() { b } else { a }.to_owned()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::machine::refundable;

    const URL: &str = "http://merchant.test/n";

    fn order(status: i64, before_refund: Option<i64>, urls: [bool; 3]) -> OrderRecord {
        let url = |on: bool| if on { URL.to_owned() } else { String::new() };
        OrderRecord {
            notify_url: url(urls[0]),
            status_change_notify_url: url(urls[1]),
            pay_notify_url: url(urls[2]),
            status_before_refund: before_refund.map(OrderStatus::from_code),
            refund_order_id: "R1".into(),
            refund_amount: Some(Amount::new("10.00").expect("amount")),
            ..OrderRecord::sample(OrderStatus::from_code(status))
        }
    }

    /// Every status the store may hold, an unknown one included.
    fn status() -> impl Strategy<Value = i64> {
        prop::sample::select(vec![0, 1, 2, 3, 4, -1, -2, -3, 7])
    }

    fn event() -> impl Strategy<Value = Event> {
        prop::sample::select(crate::machine::EVENTS.to_vec())
    }

    proptest! {
        /// Whatever the order's status, its status before a refund, the
        /// event and which URLs it has: an event the state machine forbids
        /// sends nothing, and every notification sent fits the status the
        /// order moved to (a payment only on paying an unpaid order, a
        /// voucher only on reaching "awaiting receipt", a refund result only
        /// when leaving "refunding", and the status change names the new
        /// status), goes to a URL and is about this order.
        #[test]
        fn notifications_only_fit_the_state_the_order_moves_to(
            from in status(),
            before_refund in prop::option::of(status()),
            event in event(),
            urls in any::<[bool; 3]>(),
        ) {
            let o = order(from, before_refund, urls);
            let refund = (event == Event::ApplyRefund).then(|| RefundApplication {
                refund_order_id: "R2".into(),
                refund_amount: Amount::new("5.00").expect("amount"),
            });
            let from = OrderStatus::from_code(from);
            let allowed = machine::next(from, before_refund.map(OrderStatus::from_code), event);
            let Ok((after, sent)) = apply(o.clone(), event, refund, 7, "http://sandbox/v.pdf") else {
                prop_assert!(allowed.is_err(), "{event:?} from {from:?} refused but allowed");
                return Ok(());
            };
            let to = after.status;
            prop_assert_eq!(allowed, Ok(to));
            let status_url = urls[0] || urls[1];
            let changes = status_url && event != Event::DeclinePayment;
            let pays = matches!(event, Event::Pay | Event::DeclinePayment);
            prop_assert_eq!(!sent.is_empty(), changes || (pays && (urls[0] || urls[2])));
            for out in &sent {
                prop_assert_eq!(out.url.as_str(), URL);
                prop_assert_eq!(out.notification.order_id(), Some(o.order_id.as_str()));
                match &out.notification {
                    Notification::OrderStatusChange(n) => prop_assert_eq!(n.order_status, to),
                    Notification::PaymentSuccess(n) => {
                        let paid = if n.pay_result == PayResult::Succeeded {
                            OrderStatus::Paid
                        } else {
                            OrderStatus::AwaitingPayment
                        };
                        prop_assert_eq!((from, to), (OrderStatus::AwaitingPayment, paid));
                    }
                    Notification::RemittanceVoucher(_) => {
                        prop_assert_eq!((from, to), (OrderStatus::Remitting, OrderStatus::AwaitingReceipt));
                    }
                    Notification::RefundResult(n) => {
                        prop_assert_eq!(from, OrderStatus::Refunding);
                        let succeeded = n.refund_result == RefundResult::Succeeded;
                        prop_assert_eq!(succeeded, to == OrderStatus::Refunded);
                        prop_assert!(succeeded || refundable(to));
                    }
                    Notification::Unknown(_) => prop_assert!(false, "the engine sends no unknown kind"),
                }
            }
            let status_changes = sent
                .iter()
                .filter(|n| matches!(n.notification, Notification::OrderStatusChange(_)))
                .count();
            prop_assert_eq!(status_changes, usize::from(changes));
        }
    }

    /// The bodies keep ET's field order and JSON types: amounts and result
    /// codes as numbers, a status change's `order_status` as a string.
    #[test]
    fn bodies_are_written_as_et_writes_them() {
        let et_key = et_crypto::PrivateKey::generate(1024).expect("a 1024-bit key");
        let et = et_proto::EtSide::new(et_key, et_proto::Profile::default());
        let mut o = order(0, None, [true; 3]);
        let body = |o: &OrderRecord, event| {
            let (_, sent) = apply(o.clone(), event, None, 0, "http://s/v.pdf").expect("legal");
            let bodies: Vec<String> = sent
                .iter()
                .map(|n| outbox::signed_body(&et, &n.notification, "salt").expect("signs"))
                .map(|b| b[..b.find(r#","sign":"#).expect("signed")].to_owned())
                .collect();
            bodies
        };
        let at = "1970-01-01 08:00:00";
        let id = &o.order_id.clone();
        assert_eq!(
            body(&o, Event::Pay),
            [
                format!(
                    r#"{{"notify_type":"order_status_change","order_id":"{id}","datetime":"{at}","order_status":"1""#
                ),
                format!(
                    r#"{{"order_id":"{id}","pay_result":1,"pay_amount":970.00,"pay_currency_code":"RMB","pay_datetime":"{at}","extend_info":"""#
                ),
            ]
        );
        o.status = OrderStatus::Remitting;
        assert_eq!(
            body(&o, Event::Receive)[1],
            format!(
                r#"{{"order_id":"{id}","remittance_voucher_url":"http://s/v.pdf","extend_info":"""#
            )
        );
        (o.status, o.status_before_refund) = (OrderStatus::Refunding, Some(OrderStatus::Paid));
        assert_eq!(
            body(&o, Event::RefundResult { success: false })[1],
            format!(
                r#"{{"order_id":"{id}","refund_order_id":"R1","refund_result":0,"refund_amount":10.00,"refund_datetime":"{at}","extend_info":"""#
            )
        );
    }
}
