//! Notifications: building them (v2 rule, MD5 with the merchant's salt via
//! et-proto) and delivering them from the outbox on ET's retry schedule.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use et_proto::{sign_notification, UntypedObject, UntypedValue};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::app::App;
use crate::clock::Millis;
use crate::store::{self, OutboxRecord};

/// Waits after attempts 1 to 6 (ET: 1, 5, 10, 30, 60, 120 minutes); 7 attempts in all.
pub const RETRY_MINUTES: [i64; 6] = [1, 5, 10, 30, 60, 120];
/// Deliveries before the sandbox gives up.
pub const MAX_ATTEMPTS: i64 = RETRY_MINUTES.len() as i64 + 1;
/// How long one delivery may take, in real time.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// Deliveries in flight at once, in all.
pub const MAX_DELIVERIES: usize = 32;
/// Deliveries in flight at once to one endpoint (scheme, host and port), so
/// endpoints that hang hold only their own slots and a healthy one is not
/// kept waiting behind them. One order's notifications go one at a time,
/// oldest first.
pub const MAX_DELIVERIES_PER_ENDPOINT: usize = 4;
/// Due notifications read from the outbox per round.
const DUE_BATCH: i64 = 256;
/// The most of a merchant's reply the sandbox reads.
const MAX_REPLY: usize = 64 * 1024;

/// The kinds of notification the sandbox sends (outbox `kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Payment success (`pay_result`).
    PaymentSuccess,
    /// Order status change (`notify_type=order_status_change`).
    OrderStatusChange,
    /// Refund result (`refund_result`).
    RefundResult,
    /// Remittance voucher (`remittance_voucher_url`).
    RemittanceVoucher,
}

impl Kind {
    /// Outbox name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PaymentSuccess => "payment_success",
            Kind::OrderStatusChange => "order_status_change",
            Kind::RefundResult => "refund_result",
            Kind::RemittanceVoucher => "remittance_voucher",
        }
    }
}

/// A notification's fields, in ET's documented order, before signing.
#[derive(Default)]
pub struct Fields(UntypedObject);

impl Fields {
    /// No fields yet.
    pub fn new() -> Self {
        Fields(UntypedObject::new())
    }

    /// Adds a string field.
    pub fn text(mut self, key: &str, value: impl Into<String>) -> Self {
        self.0.insert(key, UntypedValue::string(value));
        self
    }

    /// Adds a JSON number field written exactly as `raw` (`10000.00`, `1`).
    pub fn number(mut self, key: &str, raw: &str) -> Self {
        // Decimal text from the store is a valid JSON number; fall back to
        // a string rather than fail a state change over formatting.
        let value = UntypedValue::from_json(raw).unwrap_or_else(|_| UntypedValue::string(raw));
        self.0.insert(key, value);
        self
    }

    /// The signed JSON body.
    pub fn sign(self, salt: &str) -> String {
        String::from_utf8_lossy(&sign_notification(salt, self.0)).into_owned()
    }
}

/// When attempt number `attempts + 1` is due after a failure at `now`, or
/// `None` when the schedule is exhausted.
pub fn next_attempt(now: Millis, attempts_made: i64) -> Option<Millis> {
    let index = usize::try_from(attempts_made.checked_sub(1)?).ok()?;
    RETRY_MINUTES
        .get(index)
        .map(|m| now.saturating_add(m * 60_000))
}

/// The delivery loop: starts what is due (concurrently, within
/// [`MAX_DELIVERIES`] and [`MAX_DELIVERIES_PER_ENDPOINT`]), then sleeps
/// until the next due time (in real time), a new notification, a finished
/// delivery, or `stop`.
pub async fn run(app: Arc<App>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut slots = Slots::default();
    let mut deliveries = tokio::task::JoinSet::new();
    loop {
        let _ = blocking(&app, App::sweep).await;
        start_due(&app, &client, &mut slots, &mut deliveries).await;
        let wait = blocking(&app, App::next_wake)
            .await
            .unwrap_or(Duration::from_secs(1));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = app.wake.notified() => {}
            Some(_) = deliveries.join_next() => {}
            _ = stop.changed() => return,
        }
    }
}

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

/// Runs `f` on tokio's blocking pool (SQLite and signing never run on the
/// threads that drive connections); `None` if it panicked.
async fn blocking<T: Send + 'static>(
    app: &Arc<App>,
    f: impl FnOnce(&App) -> T + Send + 'static,
) -> Option<T> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || f(&app)).await.ok()
}

/// Delivery slots: in all, per endpoint, and one per order (so one
/// order's notifications still arrive in the order they were made).
struct Slots {
    all: Arc<Semaphore>,
    per_endpoint: HashMap<String, Arc<Semaphore>>,
    orders: Arc<Mutex<HashSet<String>>>,
}

impl Default for Slots {
    fn default() -> Self {
        Slots {
            all: Arc::new(Semaphore::new(MAX_DELIVERIES)),
            per_endpoint: HashMap::new(),
            orders: Arc::default(),
        }
    }
}

/// The slots one delivery holds, freed when it is dropped.
struct Slot {
    _all: OwnedSemaphorePermit,
    _endpoint: OwnedSemaphorePermit,
    order_id: String,
    orders: Arc<Mutex<HashSet<String>>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        lock(&self.orders).remove(&self.order_id);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Slots {
    /// A slot for delivering `n`, if one is free and no other notification
    /// of its order is in flight.
    fn take(&mut self, n: &OutboxRecord) -> Option<Slot> {
        let endpoint = self
            .per_endpoint
            .entry(endpoint(&n.url).to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(MAX_DELIVERIES_PER_ENDPOINT)));
        let mut orders = lock(&self.orders);
        if orders.contains(&n.order_id) {
            return None;
        }
        let mine = endpoint.clone().try_acquire_owned().ok()?;
        let any = self.all.clone().try_acquire_owned().ok()?;
        orders.insert(n.order_id.clone());
        Some(Slot {
            _all: any,
            _endpoint: mine,
            order_id: n.order_id.clone(),
            orders: self.orders.clone(),
        })
    }

    /// Forgets endpoints with nothing in flight.
    fn prune(&mut self) {
        self.per_endpoint
            .retain(|_, s| s.available_permits() < MAX_DELIVERIES_PER_ENDPOINT);
    }
}

/// `scheme://authority` of a notify URL: what one endpoint is.
fn endpoint(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after_scheme + i);
    &url[..end]
}

async fn start_due(
    app: &Arc<App>,
    client: &HttpClient,
    slots: &mut Slots,
    deliveries: &mut tokio::task::JoinSet<()>,
) {
    slots.prune();
    let now = app.clock.now();
    let due = blocking(app, move |app| {
        app.store
            .tx(|c| store::due_notifications(c, now, DUE_BATCH))
    });
    let due = match due.await {
        Some(Ok(due)) => due,
        None => return,
        Some(Err(e)) => {
            tracing::error!(error = %e, "reading the outbox failed");
            return;
        }
    };
    let mut starting = Vec::new();
    let mut seen = HashSet::new();
    for n in due {
        if slots.all.available_permits() == 0 {
            break;
        }
        // Oldest first: a later notification of an order waits for its
        // earlier ones.
        if !seen.insert(n.order_id.clone()) {
            continue;
        }
        if let Some(slot) = slots.take(&n) {
            starting.push((n, slot));
        }
    }
    if starting.is_empty() {
        return;
    }
    // In flight until the attempt is recorded (a little longer than one
    // attempt may take, in sandbox time).
    let until = now.saturating_add(app.clock.sandbox_ms(DELIVERY_TIMEOUT * 2));
    let ids: Vec<i64> = starting.iter().map(|(n, _)| n.id).collect();
    let leased = blocking(app, move |app| {
        app.store
            .tx(|c| ids.iter().try_for_each(|&id| store::lease(c, id, until)))
    });
    if let Some(Err(e)) = leased.await {
        tracing::error!(error = %e, "marking deliveries in flight failed");
        return;
    }
    for (n, slot) in starting {
        let (app, client) = (app.clone(), client.clone());
        deliveries.spawn(async move {
            attempt(&app, &client, n).await;
            drop(slot);
        });
    }
}

/// One attempt, recorded in the outbox.
async fn attempt(app: &Arc<App>, client: &HttpClient, n: OutboxRecord) {
    let outcome = deliver(client, &n).await;
    let now = app.clock.now();
    let attempts = n.attempts + 1;
    let (delivered, next, error) = match outcome {
        Ok(()) => (Some(now), None, String::new()),
        Err(e) => (None, next_attempt(now, attempts), e),
    };
    tracing::info!(id = n.id, kind = %n.kind, attempts, ok = delivered.is_some(), %error, "notification attempt");
    let recorded = blocking(app, move |app| {
        app.store
            .tx(|c| store::record_attempt(c, n.id, delivered, next, &error))
    });
    if let Some(Err(e)) = recorded.await {
        tracing::error!(error = %e, "recording a delivery attempt failed");
    }
}

/// One delivery: POST the JSON body; success only on `{"notify_result":"OK"}`.
async fn deliver(client: &HttpClient, n: &OutboxRecord) -> Result<(), String> {
    if !n.url.starts_with("http://") {
        return Err(format!(
            "the sandbox delivers over plain http:// only, not to {:?}",
            n.url
        ));
    }
    let request = http::Request::post(&n.url)
        .header(
            http::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )
        .body(Full::new(Bytes::from(n.body.clone())))
        .map_err(|e| format!("bad notify URL {:?}: {e}", n.url))?;
    let exchange = async {
        let response = client
            .request(request)
            .await
            .map_err(|e| format!("POST failed: {e}"))?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_REPLY)
            .collect()
            .await
            .map_err(|e| format!("reading the reply failed: {e}"))?
            .to_bytes();
        Ok::<_, String>((status, body))
    };
    let (status, body) = tokio::time::timeout(DELIVERY_TIMEOUT, exchange)
        .await
        .map_err(|_| "no reply within 10 s".to_owned())??;
    if acknowledged(&body) {
        Ok(())
    } else {
        let shown = String::from_utf8_lossy(body.get(..body.len().min(200)).unwrap_or_default());
        Err(format!(
            "HTTP {status}, reply without notify_result OK: {shown}"
        ))
    }
}

/// Whether a reply is ET's acknowledgement (`notify_result` = `OK`; other
/// fields, like the refund reply's `order_id` and `sign`, are allowed).
fn acknowledged(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("notify_result")
                .and_then(|r| r.as_str().map(|s| s == "OK"))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_is_scheme_host_and_port() {
        assert_eq!(endpoint("http://127.0.0.1:9/n?x=1"), "http://127.0.0.1:9");
        assert_eq!(endpoint("http://a.test"), "http://a.test");
        assert_eq!(endpoint("http://a.test#f"), "http://a.test");
        assert_eq!(endpoint("no scheme/x"), "no scheme");
    }

    #[test]
    fn schedule_is_ets() {
        let mut t = 0;
        let mut waits = vec![];
        for attempts in 1..=MAX_ATTEMPTS {
            match next_attempt(t, attempts) {
                Some(n) => {
                    waits.push((n - t) / 60_000);
                    t = n;
                }
                None => assert_eq!(attempts, 7),
            }
        }
        assert_eq!(waits, RETRY_MINUTES);
    }

    #[test]
    fn only_ok_acknowledges() {
        assert!(acknowledged(br#"{"notify_result":"OK"}"#));
        assert!(acknowledged(
            br#"{"order_id":"ET1","notify_result":"OK","sign":"x"}"#
        ));
        assert!(!acknowledged(br#"{"notify_result":"ok"}"#));
        assert!(!acknowledged(b"OK"));
        assert!(!acknowledged(b""));
    }

    #[test]
    fn fields_are_signed_with_the_v2_rule() {
        // ET's worked example (doc-5683358).
        let body = Fields::new()
            .text("order_id", "ETxxxxxxxxxxxx01")
            .number("pay_result", "1")
            .number("pay_amount", "10000.00")
            .text("pay_datetime", "2024-12-01 10:00:00")
            .text("extend_info", "")
            .sign("abc123");
        assert!(body.contains(r#""pay_amount":10000.00"#), "{body}");
        assert!(body.contains("652614570bcc49940d7dcc7a3c3dc7e5"), "{body}");
    }
}
