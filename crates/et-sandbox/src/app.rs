//! The sandbox's shared state and the order engine: every status change
//! goes through [`App::transition`], which checks the state machine, saves
//! the order and queues the notifications it causes, in one transaction.

use std::time::Duration;

use et_crypto::PublicKey;
use et_model::OrderStatus;
use et_proto::EtSide;
use rust_decimal::Decimal;
use std::str::FromStr;

use crate::clock::{beijing_datetime, Clock, Millis};
use crate::codes::{Refusal, SandboxCode};
use crate::config::RateTable;
use crate::delivery::{Fields, Kind};
use crate::institutions::InstitutionDirectory;
use crate::machine::{self, Event};
use crate::store::{self, OrderRecord, Store};

/// Unpaid orders close after this long (order interface, api-130848849).
pub const CLOSE_UNPAID_AFTER_MS: Millis = 7 * 24 * 3600 * 1000;
/// Longest real-time sleep of the background loop (bounds how late a close happens).
const POLL: Duration = Duration::from_millis(200);
/// Shortest sleep, so a burst of due work never spins.
const MIN_SLEEP: Duration = Duration::from_millis(5);
/// `meta` key of the last sandbox time seen.
pub const CLOCK_KEY: &str = "clock_ms";

/// Everything the handlers and the background loop share.
pub struct App {
    /// The database.
    pub store: Store,
    /// Sandbox time.
    pub clock: Clock,
    /// Rates and fees.
    pub rates: RateTable,
    /// The institutions `get_institutions` searches and orders name.
    pub institutions: InstitutionDirectory,
    /// `http://ADDR`, for checkout and voucher links.
    pub base_url: String,
    /// Woken when a notification is queued.
    pub wake: tokio::sync::Notify,
    /// ET's side of the protocol (keys and profile).
    pub et: EtSide,
    /// The known merchants' public keys, parsed once at start (the
    /// merchants table changes only then).
    pub merchant_keys: Vec<MerchantKey>,
}

/// A known merchant and its parsed public key.
pub struct MerchantKey {
    /// ET merchant number.
    pub merchant_number: String,
    /// ET sub-merchant number.
    pub sub_merchant_number: String,
    /// The key its requests are verified with and its responses encrypted to.
    pub key: PublicKey,
}

impl MerchantKey {
    /// Parses a stored merchant's key; a row whose key does not parse is
    /// left out, so its requests are refused as from an unknown merchant.
    pub fn parse(m: store::MerchantRecord) -> Option<Self> {
        let key = PublicKey::load(m.public_key_pem.as_bytes()).ok()?;
        Some(MerchantKey {
            merchant_number: m.merchant_number,
            sub_merchant_number: m.sub_merchant_number,
            key,
        })
    }
}

/// A refund application's details, kept on the order.
pub struct RefundApplication {
    /// The merchant's refund id (`refund_order_id`).
    pub refund_order_id: String,
    /// Amount to refund, decimal text.
    pub refund_amount: String,
}

impl App {
    /// The public key of a known merchant, `None` for an unknown one.
    pub fn merchant_key(
        &self,
        merchant_number: &str,
        sub_merchant_number: &str,
    ) -> Option<&PublicKey> {
        self.merchant_keys
            .iter()
            .find(|m| {
                m.merchant_number == merchant_number && m.sub_merchant_number == sub_merchant_number
            })
            .map(|m| &m.key)
    }

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
            let event = match event {
                Event::RefundResult { success, .. } => Event::RefundResult {
                    success,
                    previous: OrderStatus::from_code(o.status_before_refund.unwrap_or(o.status)),
                },
                other => other,
            };
            let to = machine::next(from, event).map_err(|e| {
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
            for (kind, url, body) in self.notifications(&o, event, now, &salt) {
                store::enqueue(c, &o.order_id, kind.as_str(), &url, &body, now)?;
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

    /// The notifications a change causes: always a status change; plus
    /// payment success, remittance voucher or refund result. Empty URLs skip.
    fn notifications(
        &self,
        o: &OrderRecord,
        event: Event,
        now: Millis,
        salt: &str,
    ) -> Vec<(Kind, String, String)> {
        let at = beijing_datetime(now);
        let status_url = first_non_empty(&o.status_change_notify_url, &o.notify_url);
        let mut out = vec![(
            Kind::OrderStatusChange,
            status_url.clone(),
            Fields::new()
                .text("notify_type", "order_status_change")
                .text("order_id", &o.order_id)
                .text("datetime", &at)
                .text("order_status", o.status.to_string())
                .sign(salt),
        )];
        match event {
            Event::Pay => out.push((
                Kind::PaymentSuccess,
                first_non_empty(&o.pay_notify_url, &o.notify_url),
                Fields::new()
                    .text("order_id", &o.order_id)
                    .number("pay_result", "1")
                    .number("pay_amount", &amount_due(o))
                    .text("pay_currency_code", "RMB")
                    .text("pay_datetime", &at)
                    .text("extend_info", "")
                    .sign(salt),
            )),
            Event::Receive => out.push((
                Kind::RemittanceVoucher,
                status_url,
                Fields::new()
                    .text("order_id", &o.order_id)
                    .text("remittance_voucher_url", self.voucher_url(&o.order_id))
                    .text("extend_info", "")
                    .sign(salt),
            )),
            Event::RefundResult { success, .. } => out.push((
                Kind::RefundResult,
                status_url,
                Fields::new()
                    .text("order_id", &o.order_id)
                    .text("refund_order_id", &o.refund_order_id)
                    .number("refund_result", if success { "1" } else { "0" })
                    .number("refund_amount", &o.refund_amount)
                    .text("refund_datetime", &at)
                    .text("extend_info", "")
                    .sign(salt),
            )),
            _ => {}
        }
        out.retain(|(_, url, _)| !url.is_empty());
        out
    }

    /// Where the order's remittance voucher is served.
    pub fn voucher_url(&self, order_id: &str) -> String {
        format!("{}/vouchers/{order_id}.pdf", self.base_url)
    }

    /// Where the order's checkout page is served.
    pub fn pay_url(&self, order_id: &str) -> String {
        format!("{}/pay/{order_id}", self.base_url)
    }

    /// Where the student of a jump places the order.
    pub fn jump_url(&self, token: &str) -> String {
        format!("{}/jump/{token}", self.base_url)
    }

    /// Closes every order unpaid for 7 days and saves the clock.
    pub fn sweep(&self) {
        let now = self.clock.now();
        let cutoff = now.saturating_sub(CLOSE_UNPAID_AFTER_MS);
        let due = self.store.tx(|c| {
            store::set_meta(c, CLOCK_KEY, &now.to_string())?;
            store::orders_created_before(c, OrderStatus::AwaitingPayment.code(), cutoff)
        });
        match due {
            Ok(ids) => {
                for id in ids {
                    if let Err(e) = self.transition(&id, None, Event::Close, None) {
                        tracing::warn!(order_id = %id, error = %e, "closing an unpaid order failed");
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "sweeping unpaid orders failed"),
        }
    }

    /// How long the background loop may sleep (real time).
    pub fn next_wake(&self) -> Duration {
        let next = self.store.tx(|c| store::next_due(c)).ok().flatten();
        next.map_or(POLL, |due| {
            self.clock
                .real_delay(due.saturating_sub(self.clock.now()))
                .clamp(MIN_SLEEP, POLL)
        })
    }
}

/// `tuition_rmb + counter_fee`, the RMB amount the payer pays, 2 decimals.
pub fn amount_due(o: &OrderRecord) -> String {
    let sum = Decimal::from_str(&o.tuition_rmb)
        .ok()
        .zip(Decimal::from_str(&o.counter_fee).ok())
        .and_then(|(a, b)| a.checked_add(b));
    match sum {
        Some(mut d) => {
            d.rescale(2);
            d.to_string()
        }
        None => o.tuition_rmb.clone(),
    }
}

/// `200001` for an order this merchant does not have.
pub fn order_not_found(order_id: &str) -> Refusal {
    Refusal::new(
        SandboxCode::OrderNotFound,
        format!("order {order_id:?} not found"),
    )
}

fn first_non_empty(a: &str, b: &str) -> String {
    if a.is_empty() { b } else { a }.to_owned()
}
