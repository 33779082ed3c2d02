//! ET's notification failures on demand (the local sandbox's faults), met by
//! the merchant's side: et-http's webhook receiver storing each verified
//! notification in this crate's SQLite inbox. A duplicate is stored once, a
//! forgery is refused and never stored, dropped attempts are retried and
//! arrive, and order or delay does not lose one.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use et_http::{Client, Endpoint, WebhookReceiver};
use et_inbox::{Inbox, InboxConfig, SqliteStore, Store};
use et_model::{CreateOrder, Notification};
use et_proto::{Merchant, Profile};
use et_sandbox::{DeliveryFailure, Fault, FaultRule, RunningSandbox, SandboxConfig, Scope};
use et_testkit::http::{wait_for, Receiver};
use et_testkit::merchant_dir as state_dir;
use et_testkit::order;

/// The test kit's merchant, which a sandbox on [`state_dir`] knows.
fn merchant() -> Merchant {
    Merchant::new(et_testkit::credentials(1024), Profile::default())
}

async fn start(dir: &std::path::Path, time_scale: f64) -> RunningSandbox {
    let config = SandboxConfig {
        time_scale,
        ..SandboxConfig::new(dir)
    };
    et_sandbox::start(config).await.expect("sandbox starts")
}

fn client(sb: &RunningSandbox) -> Client {
    let endpoint = Endpoint::parse(&sb.endpoint_url()).expect("endpoint");
    Client::new(endpoint, et_testkit::credentials(1024), Profile::default()).expect("client")
}

/// The merchant's side of notifications: et-http's webhook receiver storing
/// each verified notification in et-inbox's SQLite inbox, and the arrivals
/// in order.
struct Webhook {
    url: String,
    inbox: Arc<Inbox<SqliteStore>>,
    arrived: Arc<Mutex<Vec<Notification>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Webhook {
    async fn start(dir: &std::path::Path) -> Webhook {
        let inbox = Arc::new(Inbox::new(
            SqliteStore::open(dir.join("inbox.db")).expect("inbox"),
            InboxConfig::default(),
        ));
        let arrived = Arc::new(Mutex::new(Vec::new()));
        let (shared, log) = (inbox.clone(), arrived.clone());
        let receiver = WebhookReceiver::new(
            merchant().notification_verifier(),
            move |n: et_proto::VerifiedNotification| {
                let (inbox, log) = (shared.clone(), log.clone());
                async move {
                    inbox.put(&n).await?;
                    log.lock().expect("lock").push(n.notification().clone());
                    Ok::<(), et_http::HandlerError>(())
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/et/notify", listener.local_addr().expect("addr"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(et_http::serve(listener, receiver, async {
            let _ = stopped.await;
        }));
        Webhook {
            url,
            inbox,
            arrived,
            _stop: stop,
        }
    }

    fn arrived(&self) -> Vec<Notification> {
        self.arrived.lock().expect("lock").clone()
    }

    async fn stored(&self) -> u64 {
        self.inbox.store().counts().await.expect("counts").total()
    }
}

/// Creates an order notifying `hook` and pays it: two notifications, a
/// status change and a payment success.
async fn paid_order(sb: &RunningSandbox, client: &Client, hook: &Webhook, id: &str) -> String {
    let op = CreateOrder {
        notify_url: Some(hook.url.clone()),
        ..order(id, "100.00")
    };
    let created = client.create_order(&op).await.expect("created");
    let order_id = created.items[0].order_id.clone();
    sb.pay(&order_id).expect("paid");
    order_id
}

async fn notification_sandbox(
    time_scale: f64,
) -> (tempfile::TempDir, RunningSandbox, Client, Webhook) {
    let dir = state_dir();
    let sb = start(dir.path(), time_scale).await;
    let client = client(&sb);
    let hook = Webhook::start(dir.path()).await;
    (dir, sb, client, hook)
}

/// [`notification_sandbox`] with the order `merchant_order_id` paid in it
/// ([`paid_order`]): its id last.
async fn with_a_paid_order(
    time_scale: f64,
    merchant_order_id: &str,
) -> (tempfile::TempDir, RunningSandbox, Webhook, String) {
    let (dir, sb, client, hook) = notification_sandbox(time_scale).await;
    let order_id = paid_order(&sb, &client, &hook, merchant_order_id).await;
    (dir, sb, hook, order_id)
}

/// Waits until every notification of the order was acknowledged.
async fn all_delivered(sb: &RunningSandbox, order_id: &str, within: Duration) -> bool {
    wait_for(within, || {
        let notes = sb.notifications(Some(order_id)).expect("outbox");
        (!notes.is_empty() && notes.iter().all(|n| n.delivered)).then_some(())
    })
    .await
    .is_some()
}

#[tokio::test]
async fn a_duplicated_notification_is_stored_once() {
    let (_dir, sb, hook, order_id) = with_a_paid_order(1.0, "fault-notify-duplicate-1").await;
    assert!(all_delivered(&sb, &order_id, Duration::from_secs(10)).await);
    assert_eq!(hook.arrived().len(), 4, "each of the two arrived twice");
    assert_eq!(hook.stored().await, 2, "and was stored once");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_badly_signed_notification_is_refused_not_acknowledged() {
    let (_dir, sb, hook, order_id) = with_a_paid_order(1.0, "fault-notify-badsign-1").await;
    let tried = wait_for(Duration::from_secs(10), || {
        let notes = sb.notifications(Some(&order_id)).expect("outbox");
        notes.iter().all(|n| n.attempts >= 1).then_some(notes)
    })
    .await
    .expect("attempted");
    let attempts = sb.delivery_attempts(&order_id).expect("attempts");
    assert!(
        attempts.iter().all(|a| a.http_status == Some(401)),
        "{attempts:?}"
    );
    for n in &tried {
        assert!(!n.delivered && n.pending, "{n:?}");
        assert!(
            n.last_error.contains("401"),
            "the receiver refused it: {}",
            n.last_error
        );
    }
    assert!(hook.arrived().is_empty());
    assert_eq!(hook.stored().await, 0);
    sb.shutdown().await;
}

#[tokio::test]
async fn notifications_dropped_for_their_first_attempts_are_retried_and_arrive() {
    // 600×: ET's retries after 1, 5 and 10 minutes take 1.6 s.
    let (_dir, sb, hook, order_id) = with_a_paid_order(600.0, "fault-notify-drop-1").await;
    assert!(all_delivered(&sb, &order_id, Duration::from_secs(20)).await);
    for n in sb.notifications(Some(&order_id)).expect("outbox") {
        assert_eq!(n.attempts, 4, "3 dropped, the 4th delivered: {n:?}");
    }
    let failures: Vec<_> = sb
        .delivery_attempts(&order_id)
        .expect("attempts")
        .iter()
        .map(|a| a.failure)
        .collect();
    let dropped = Some(DeliveryFailure::DroppedByFault);
    assert_eq!(
        failures.iter().filter(|f| **f == dropped).count(),
        6,
        "{failures:?}"
    );
    assert_eq!(
        failures.iter().filter(|f| f.is_none()).count(),
        2,
        "{failures:?}"
    );
    assert_eq!(hook.arrived().len(), 2, "each arrived once");
    assert_eq!(hook.stored().await, 2);
    sb.shutdown().await;
}

#[tokio::test]
async fn an_order_s_notifications_can_arrive_newest_first() {
    let (_dir, sb, hook, order_id) = with_a_paid_order(1.0, "fault-notify-reorder-1").await;
    assert!(all_delivered(&sb, &order_id, Duration::from_secs(10)).await);
    let kind = |n: &Notification| std::mem::discriminant(n);
    let arrived: Vec<_> = hook.arrived().iter().map(kind).collect();
    let mut made: Vec<_> = sb
        .notifications(Some(&order_id))
        .expect("outbox")
        .iter()
        .map(|n| {
            let verifier = merchant().notification_verifier();
            let verified = verifier
                .verify_owned(
                    Some("application/json"),
                    n.body.as_bytes(),
                    std::time::SystemTime::now(),
                )
                .expect("verifies");
            kind(verified.notification())
        })
        .collect();
    made.reverse();
    assert_eq!(arrived, made, "newest first");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_delayed_notification_arrives_when_its_delay_has_passed() {
    let (_dir, sb, hook, order_id) = with_a_paid_order(1.0, "fault-notify-delay-1").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        hook.arrived().is_empty(),
        "5 sandbox minutes have not passed"
    );
    sb.advance_clock(Duration::from_secs(5 * 60))
        .expect("advance");
    assert!(all_delivered(&sb, &order_id, Duration::from_secs(10)).await);
    assert_eq!(hook.stored().await, 2);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_next_rule_drops_the_next_notification_only() {
    let (_dir, sb, client, hook) = notification_sandbox(600.0).await;
    let drop = Fault::NotifyDrop { attempts: 1 };
    sb.add_fault(FaultRule::new(Scope::Next(1), drop))
        .expect("rule");
    let order_id = paid_order(&sb, &client, &hook, "plain-1").await;
    assert!(all_delivered(&sb, &order_id, Duration::from_secs(20)).await);
    let attempts: Vec<i64> = sb
        .notifications(Some(&order_id))
        .expect("outbox")
        .iter()
        .map(|n| n.attempts)
        .collect();
    assert_eq!(attempts, [2, 1], "the first notification lost one attempt");
    assert_eq!(hook.stored().await, 2);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_receiver_that_acknowledges_a_forgery_is_caught() {
    let (_dir, sb, client, _hook) = notification_sandbox(1.0).await;
    // A receiver that checks no signature and acknowledges everything.
    let careless = Receiver::start(true).await;
    let op = CreateOrder {
        notify_url: Some(careless.url("/notify")),
        ..order("fault-notify-badsign-2", "100.00")
    };
    let order_id = client.create_order(&op).await.expect("created").items[0]
        .order_id
        .clone();
    sb.pay(&order_id).expect("paid");
    let attempts = wait_for(Duration::from_secs(10), || {
        let attempts = sb.delivery_attempts(&order_id).expect("attempts");
        (attempts.len() >= 2).then_some(attempts)
    })
    .await
    .expect("attempted");
    for a in attempts {
        assert_eq!(a.http_status, Some(200));
        assert_eq!(a.failure, Some(DeliveryFailure::AcknowledgedForgery));
    }
    let notes = sb.notifications(Some(&order_id)).expect("outbox");
    assert!(notes.iter().all(|n| !n.delivered), "{notes:?}");
    sb.shutdown().await;
}
