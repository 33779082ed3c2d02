//! Orders through their life: checkout over HTTP, notifications (verified
//! with et-proto), the voucher, refunds, a restart mid-retry, the 7-day close.

use crate::common;
use common::started;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::{call, get, merchant, post, start, state_dir, wait_for, Receiver};
use et_model::{CreateOrder, GetPayUrl, Notification, OrderStatus, QueryOrders};
use et_proto::{Merchant, CONTENT_TYPE};
use et_sandbox::{NotificationView, RunningSandbox, SandboxCode};

async fn create(
    sb: &RunningSandbox,
    m: &Merchant,
    notify_url: &str,
    status_url: Option<String>,
) -> String {
    // Each order its own merchant_order_id: the sandbox refuses a reuse.
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    let merchant_order_id = format!("M-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let op = CreateOrder {
        notify_url: Some(notify_url.to_owned()),
        status_change_notify_url: status_url,
        ..et_testkit::order(merchant_order_id, "100.00")
    };
    let req = m.build(&op, SystemTime::now()).expect("builds");
    let (_, body) = post(&sb.endpoint_url(), req.body.clone(), Some(CONTENT_TYPE)).await;
    m.open::<CreateOrder>(&req, &body, SystemTime::now())
        .expect("created")
        .items[0]
        .order_id
        .clone()
}

/// A sandbox on `dir` at `time_scale`, its merchant, an endpoint that
/// acknowledges notifications if `acknowledges`, and the id of an order
/// whose notifications go there.
async fn order_notifying(
    dir: &std::path::Path,
    time_scale: f64,
    acknowledges: bool,
) -> (RunningSandbox, Merchant, Receiver, String) {
    let sb = start(dir, time_scale).await;
    let m = merchant(dir);
    let hook = Receiver::start(acknowledges).await;
    let id = create(&sb, &m, &hook.url("/n"), None).await;
    (sb, m, hook, id)
}

/// Pays an order notifying a fresh endpoint that acknowledges: whether a
/// notification arrived there within `within`, and how long after the
/// payment that was known.
async fn served_healthy_within(
    sb: &RunningSandbox,
    m: &Merchant,
    within: Duration,
) -> (bool, Duration) {
    let healthy = Receiver::start(true).await;
    let id = create(sb, m, &healthy.url("/n"), None).await;
    let paid = std::time::Instant::now();
    sb.pay(&id).expect("pays");
    let delivered = wait_for(within, || (healthy.count() > 0).then_some(())).await;
    (delivered.is_some(), paid.elapsed())
}

fn statuses(notes: &[Notification]) -> Vec<String> {
    notes
        .iter()
        .filter_map(|n| match n {
            Notification::OrderStatusChange(c) => Some(c.order_status.code().to_string()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn whole_lifecycle_with_notifications() {
    let (_dir, sb, m) = started(1.0).await;
    let pay_hook = Receiver::start(true).await;
    let status_hook = Receiver::start(true).await;
    let id = create(
        &sb,
        &m,
        &pay_hook.url("/order"),
        Some(status_hook.url("/status")),
    )
    .await;

    // The payment address's notify_url receives the payment notification.
    let op = GetPayUrl {
        notify_url: Some(pay_hook.url("/paid")),
        ..GetPayUrl::new(&id)
    };
    let pay_url = call(&sb, &m, &op).await.expect("pay url")[0].pay_config_list[0]
        .pay_url
        .clone();

    let (status, page) = get(&pay_url).await;
    let page = String::from_utf8(page).expect("html");
    assert_eq!(status, 200);
    assert!(
        page.contains("RMB 970.00") && page.contains("<form method=\"post\""),
        "{page}"
    );
    assert!(!page.contains("<script"), "no JavaScript");
    let (status, page) = post(
        &pay_url,
        format!("action=pay&token={}", common::form_token(&page)).into_bytes(),
        Some("application/x-www-form-urlencoded"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&page).contains("Payment received"));

    let paid = wait_for(Duration::from_secs(5), || {
        (pay_hook.count() == 1).then_some(())
    })
    .await;
    assert!(paid.is_some(), "payment notification arrives");
    match &pay_hook.verified(&m)[0] {
        Notification::PaymentSuccess(p) => {
            assert_eq!(p.order_id, id);
            assert_eq!(p.pay_amount.as_str(), "970.00");
        }
        other => panic!("expected a payment notification, got {other:?}"),
    }

    sb.remit(&id).expect("remit");
    sb.receive(&id).expect("receive");
    sb.complete(&id).expect("complete");
    let err = sb
        .remit(&id)
        .expect_err("a completed order cannot be remitted again");
    assert_eq!(err.code, SandboxCode::IllegalOrderState);
    let (status, pdf) = get(&sb.voucher_url(&id)).await;
    assert_eq!(status, 200);
    assert!(pdf.starts_with(b"%PDF-1.4") && pdf.ends_with(b"%%EOF\n"));

    call(&sb, &m, &et_testkit::refund(&id, "R-1"))
        .await
        .expect("refund accepted");
    sb.refund_result(&id, true).expect("refund succeeds");

    let req = m
        .build(&QueryOrders::new([id.as_str()]), SystemTime::now())
        .expect("builds");
    let (_, body) = post(&sb.endpoint_url(), req.body.clone(), Some(CONTENT_TYPE)).await;
    assert!(
        !String::from_utf8_lossy(&body).contains("\"aeskey\":\"\""),
        "query results are encrypted"
    );
    let info = m
        .open::<QueryOrders>(&req, &body, SystemTime::now())
        .expect("query");
    assert_eq!(info.items[0].order_status, OrderStatus::Refunded);

    // 6 status changes (1, 2, 3, 4, -3, -2), the voucher and the refund result.
    let all = wait_for(Duration::from_secs(5), || {
        (status_hook.count() >= 8).then_some(())
    })
    .await;
    assert!(
        all.is_some(),
        "status notifications arrive, got {}",
        status_hook.count()
    );
    let notes = status_hook.verified(&m);
    assert_eq!(statuses(&notes), ["1", "2", "3", "4", "-3", "-2"]);
    let voucher = notes.iter().find_map(|n| match n {
        Notification::RemittanceVoucher(v) => Some(v.remittance_voucher_url.clone()),
        _ => None,
    });
    assert_eq!(voucher, Some(sb.voucher_url(&id)));
    let refunded = notes
        .iter()
        .any(|n| matches!(n, Notification::RefundResult(r) if r.refund_order_id == "R-1"));
    assert!(refunded, "refund result arrives");
    assert_eq!(
        pay_hook.count(),
        1,
        "only the payment goes to the pay URL's notify_url"
    );
    // An attempt is recorded just after the receiver answered it.
    let recorded = wait_for(Duration::from_secs(3), || {
        let views = sb.notifications(Some(&id)).expect("outbox");
        views
            .iter()
            .all(|v| v.delivered && !v.pending && v.attempts == 1)
            .then_some(())
    })
    .await;
    assert!(
        recorded.is_some(),
        "{:?}",
        sb.notifications(Some(&id)).expect("outbox")
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn a_restart_mid_retries_still_delivers() {
    let dir = state_dir();
    // 1 sandbox minute = 100 ms: retries after 0.1 s, 0.5 s, 1 s, …
    let (sb, _, hook, id) = order_notifying(dir.path(), 600.0, false).await;
    sb.pay(&id).expect("pays");
    // Two notifications (status change, payment), each tried at least twice
    // (counted per notification: a loaded machine may try one more often).
    let retried = wait_for(Duration::from_secs(5), || {
        let views = sb.notifications(Some(&id)).ok()?;
        (views.len() == 2 && views.iter().all(|v| v.attempts >= 2)).then_some(())
    })
    .await;
    assert!(retried.is_some(), "retries happen, got {}", hook.count());
    sb.shutdown().await;
    let pending = hook.count();

    hook.accept.store(true, std::sync::atomic::Ordering::SeqCst);
    let sb = start(dir.path(), 600.0).await;
    let delivered = wait_for(Duration::from_secs(10), || {
        let views = sb.notifications(Some(&id)).ok()?;
        views.iter().all(|v| v.delivered).then_some(views)
    })
    .await
    .expect("both delivered after the restart");
    assert!(hook.count() > pending);
    assert!(
        delivered
            .iter()
            .all(|v| v.attempts >= 3 && v.last_error.is_empty()),
        "{delivered:?}"
    );
    sb.shutdown().await;
}

/// An order closed at once, its one notification sent to an endpoint that
/// never acknowledges, after its whole retry schedule: the sandbox, the
/// endpoint, the order id and the finished notifications.
async fn closed_and_never_acknowledged(
    dir: &std::path::Path,
) -> (RunningSandbox, Receiver, String, Vec<NotificationView>) {
    // 1 sandbox minute = 1 ms: the whole schedule (226 minutes) takes 0.23 s.
    let (sb, _, hook, id) = order_notifying(dir, 60_000.0, false).await;
    sb.close(&id).expect("closes");
    let done = wait_for(Duration::from_secs(10), || {
        let views = sb.notifications(Some(&id)).ok()?;
        views.iter().all(|v| !v.pending).then_some(views)
    })
    .await
    .expect("the schedule ends");
    (sb, hook, id, done)
}

#[tokio::test]
async fn gives_up_after_seven_attempts() {
    let dir = state_dir();
    let (sb, hook, _, done) = closed_and_never_acknowledged(dir.path()).await;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].attempts, 7);
    assert!(
        !done[0].delivered && done[0].last_error.contains("notify_result"),
        "{done:?}"
    );
    assert_eq!(hook.count(), 7);
    sb.shutdown().await;
}

#[tokio::test]
async fn unpaid_orders_close_after_seven_days_on_a_fast_clock() {
    let dir = state_dir();
    // 7 days of sandbox time in about 0.6 s.
    let (sb, m, hook, unpaid) = order_notifying(dir.path(), 1_000_000.0, true).await;
    let paid = create(&sb, &m, &hook.url("/n"), None).await;
    sb.pay(&paid).expect("pays");
    let closed = wait_for(Duration::from_secs(10), || {
        let o = sb.order(&unpaid).ok()??;
        (o.status == OrderStatus::Closed).then_some(o)
    })
    .await
    .expect("closed within 10 s");
    assert_eq!(closed.order_id, unpaid);
    let paid_now = sb.order(&paid).expect("read").expect("exists");
    assert_eq!(
        paid_now.status,
        OrderStatus::Paid,
        "a paid order is never closed"
    );
    let closed_note = wait_for(Duration::from_secs(5), || {
        statuses(&hook.verified(&m))
            .contains(&"-1".to_owned())
            .then_some(())
    })
    .await;
    assert!(closed_note.is_some(), "a status change to -1 is sent");
    sb.shutdown().await;
}

#[tokio::test]
async fn retries_follow_ets_schedule_on_the_sandbox_clock() {
    let dir = state_dir();
    // Real-time speed: only the test moves sandbox time, so each gap is exact.
    let (sb, _, hook, id) = order_notifying(dir.path(), 1.0, false).await;
    sb.close(&id).expect("closes"); // one notification: the change to -1
    let attempts = |n: i64| {
        let sb = &sb;
        let id = &id;
        move || {
            let views = sb.notifications(Some(id)).ok()?;
            (views.len() == 1 && views[0].attempts == n).then_some(())
        }
    };
    let first = wait_for(Duration::from_secs(5), attempts(1)).await;
    assert!(first.is_some(), "the first attempt is immediate");
    let slack = Duration::from_secs(2);
    for (made, minutes) in (1..).zip(et_sandbox::RETRY_MINUTES) {
        let gap = Duration::from_secs(u64::try_from(minutes).expect("positive") * 60);
        sb.advance_clock(gap - slack).expect("in bounds");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            attempts(made)().is_some(),
            "no attempt {} before {minutes} min",
            made + 1
        );
        sb.advance_clock(slack).expect("in bounds");
        let next = wait_for(Duration::from_secs(5), attempts(made + 1)).await;
        assert!(next.is_some(), "attempt {} after {minutes} min", made + 1);
    }
    sb.advance_clock(Duration::from_secs(86_400))
        .expect("in bounds");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let views = sb.notifications(Some(&id)).expect("outbox");
    assert_eq!(
        (views[0].attempts, views[0].pending),
        (et_sandbox::MAX_ATTEMPTS, false),
        "7 attempts, then none"
    );
    assert_eq!(hook.count(), 7);
    sb.shutdown().await;
}

#[tokio::test]
async fn without_a_status_url_everything_but_payment_goes_to_notify_url() {
    let (_dir, sb, m) = started(1.0).await;
    let order_hook = Receiver::start(true).await;
    let pay_hook = Receiver::start(true).await;
    let id = create(&sb, &m, &order_hook.url("/order"), None).await;
    let op = GetPayUrl {
        notify_url: Some(pay_hook.url("/paid")),
        ..GetPayUrl::new(&id)
    };
    call(&sb, &m, &op).await.expect("pay url");
    sb.pay(&id).expect("pay");
    sb.remit(&id).expect("remit");
    sb.receive(&id).expect("receive");
    call(&sb, &m, &et_testkit::refund(&id, "R-2"))
        .await
        .expect("refund accepted");
    sb.refund_result(&id, false).expect("refund fails");
    let routes: Vec<(String, String)> = sb
        .notifications(Some(&id))
        .expect("outbox")
        .into_iter()
        .map(|v| (v.kind, v.url))
        .collect();
    let to = |kind: &str| -> Vec<&str> {
        routes
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, u)| u.as_str())
            .collect()
    };
    let order_url = order_hook.url("/order");
    assert_eq!(to("payment_success"), [pay_hook.url("/paid")]);
    assert_eq!(to("remittance_voucher"), [order_url.as_str()]);
    assert_eq!(to("refund_result"), [order_url.as_str()]);
    // 1, 2, 3, -3 and back to 3.
    assert_eq!(to("order_status_change"), [order_url.as_str(); 5]);
    let arrived = wait_for(Duration::from_secs(5), || {
        (order_hook.count() == 7 && pay_hook.count() == 1).then_some(())
    })
    .await;
    assert!(arrived.is_some(), "delivered where the outbox says");
    let refund = order_hook.verified(&m).into_iter().find_map(|n| match n {
        Notification::RefundResult(r) => Some(r),
        _ => None,
    });
    assert_eq!(
        refund.map(|r| r.refund_result),
        Some(et_model::RefundResult::Failed)
    );
    sb.shutdown().await;
}

/// An endpoint that accepts connections and never answers: its URL, the
/// most connections it has had open at once, and its task.
async fn hanging_endpoint() -> (String, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/n", listener.local_addr().expect("addr"));
    let most = Arc::new(AtomicUsize::new(0));
    let seen = most.clone();
    let task = tokio::spawn(async move {
        let open = Arc::new(AtomicUsize::new(0));
        while let Ok((mut socket, _)) = listener.accept().await {
            let now = open.fetch_add(1, Ordering::SeqCst) + 1;
            seen.fetch_max(now, Ordering::SeqCst);
            let open = open.clone();
            // Read until the sandbox gives up and closes; never answer.
            tokio::spawn(async move {
                let mut sink = Vec::new();
                let _ = tokio::io::AsyncReadExt::read_to_end(&mut socket, &mut sink).await;
                open.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    (url, most, task)
}

#[tokio::test]
async fn hanging_merchant_endpoints_do_not_delay_a_healthy_one() {
    let (_dir, sb, m) = started(1.0).await;
    // More notifications to three hanging endpoints than the sandbox
    // delivers at once in all.
    let mut held = Vec::new();
    for _ in 0..3 {
        let (url, _, task) = hanging_endpoint().await;
        held.push(task);
        for _ in 0..12 {
            let id = create(&sb, &m, &url, None).await;
            sb.pay(&id).expect("pays");
        }
    }
    let (delivered, _) = served_healthy_within(&sb, &m, Duration::from_secs(4)).await;
    assert!(
        delivered,
        "the healthy endpoint waited behind the hanging ones"
    );
    for task in held {
        task.abort();
    }
    sb.shutdown().await;
}

/// Deliveries take turns per endpoint: 150 paid orders (300 notifications)
/// to one endpoint that never answers keep another endpoint's notification
/// waiting less than 2 s, and that endpoint never has more than
/// `MAX_DELIVERIES_PER_ENDPOINT` deliveries open at once.
#[tokio::test]
async fn a_healthy_endpoint_waits_for_no_queue_of_a_hanging_one() {
    let (_dir, sb, m) = started(1.0).await;
    let (hanging, most_open, task) = hanging_endpoint().await;
    for _ in 0..150 {
        let id = create(&sb, &m, &hanging, None).await;
        sb.pay(&id).expect("pays");
    }
    let (delivered, after) = served_healthy_within(&sb, &m, Duration::from_secs(2)).await;
    assert!(
        delivered,
        "the healthy endpoint's notification came {after:?} after the payment"
    );
    let most = most_open.load(Ordering::SeqCst);
    assert!(
        (1..=et_sandbox::MAX_DELIVERIES_PER_ENDPOINT).contains(&most),
        "{most} deliveries open at once to one endpoint"
    );
    task.abort();
    sb.shutdown().await;
}

/// Each of the seven attempts leaves a row: where it went, the status and
/// the start of the reply, the latency, and when the next one is due
/// (none after the last); per order and per notification alike.
#[tokio::test]
async fn every_delivery_attempt_is_recorded() {
    let dir = state_dir();
    let (sb, hook, id, done) = closed_and_never_acknowledged(dir.path()).await;
    let attempts = sb.delivery_attempts(&id).expect("attempts");
    assert_eq!(attempts.len(), 7, "{attempts:?}");
    for (i, a) in attempts.iter().enumerate() {
        assert_eq!(
            (a.notification_id, a.url.as_str()),
            (done[0].id, hook.url("/n").as_str())
        );
        assert_eq!(a.http_status, Some(200));
        assert!(!a.acknowledged);
        assert_eq!(
            a.failure,
            Some(et_sandbox::DeliveryFailure::NotAcknowledged)
        );
        assert_eq!(a.reply_head, b"FAIL");
        assert!(a.latency_ms < 10_000);
        assert_eq!(a.next_attempt_at.is_some(), i < 6, "attempt {}", i + 1);
    }
    assert_eq!(
        sb.notification_attempts(done[0].id).expect("attempts"),
        attempts
    );
    let (status, admin) = get(&format!("http://{}/admin/orders/{id}", sb.addr())).await;
    assert_eq!(status, 200);
    let admin: serde_json::Value = serde_json::from_slice(&admin).expect("JSON");
    let shown = admin["delivery_attempts"]
        .as_array()
        .expect("attempts shown");
    assert_eq!(shown.len(), 7);
    assert_eq!(
        (
            &shown[0]["reply_head"],
            &shown[0]["failure"],
            &shown[0]["http_status"]
        ),
        (&"FAIL".into(), &"not_acknowledged".into(), &200.into())
    );

    hook.accept.store(true, Ordering::SeqCst);
    sb.pay(&create(&sb, &merchant(dir.path()), &hook.url("/n"), None).await)
        .expect("pays");
    let ok = wait_for(Duration::from_secs(10), || {
        let all = sb.notifications(None).ok()?;
        let last = all.last()?;
        let attempts = sb.notification_attempts(last.id).ok()?;
        attempts.first().filter(|a| a.acknowledged).cloned()
    })
    .await
    .expect("an acknowledged attempt");
    assert_eq!((ok.failure, ok.next_attempt_at), (None, None));
    assert_eq!(ok.reply_head, br#"{"notify_result":"OK"}"#);
    sb.shutdown().await;
}

/// The merchant's reply to a refund result must carry the notification's
/// `order_id` and a `sign` by the salted MD5 rule (spec 04 §4.4): a bare
/// OK, another order's id or a sign made with another salt is a failed
/// delivery saying why; the reply et-proto's verifier writes is delivered.
#[tokio::test]
async fn a_wrong_refund_result_reply_is_a_failed_delivery_saying_why() {
    use std::sync::{Arc, Mutex};

    use et_proto::{sign_notification, NotificationVerifier, NotifySignRule, UntypedObject};
    use et_sandbox::DeliveryFailure;

    let (_dir, sb, m) = started(1.0).await;
    // Refund results get `wrong` while it is set; everything else, and then
    // refund results too, the acknowledgement et-proto writes.
    let wrong: Arc<Mutex<Option<Vec<u8>>>> = Arc::default();
    let answers = wrong.clone();
    let (addr, _) = et_testkit::http::spawn_server(move |req: http::Request<bytes::Bytes>| {
        let answers = answers.clone();
        async move {
            let body = req.into_body();
            let right = NotificationVerifier::new(et_testkit::SALT, NotifySignRule::V2)
                .verify_owned(None, &body, SystemTime::now())
                .map(|n| n.acknowledgement().to_vec())
                .unwrap_or_default();
            let is_refund = String::from_utf8_lossy(&body).contains("refund_result");
            let wrong = answers.lock().expect("lock").clone().filter(|_| is_refund);
            http::Response::new(http_body_util::Full::new(bytes::Bytes::from(
                wrong.unwrap_or(right),
            )))
        }
    })
    .await;
    let reply = |order_id: &str, salt: &str| {
        let fields: UntypedObject = [
            ("order_id", et_proto::UntypedValue::string(order_id)),
            ("notify_result", et_proto::UntypedValue::string("OK")),
        ]
        .into_iter()
        .collect();
        sign_notification(salt, fields)
    };
    *wrong.lock().expect("lock") = Some(et_proto::ACK_OK.to_vec());
    let id = create(&sb, &m, &format!("http://{addr}/n"), None).await;
    sb.pay(&id).expect("pay");
    call(&sb, &m, &et_testkit::refund(&id, "R-9"))
        .await
        .expect("refund accepted");
    sb.refund_result(&id, true).expect("refund succeeds");
    let refund_note = sb
        .notifications(Some(&id))
        .expect("outbox")
        .into_iter()
        .find(|n| n.kind == "refund_result")
        .expect("a refund result is queued")
        .id;
    let cases = [
        (None, "does not verify: missing field `sign`"),
        (
            Some(reply("ET-another", et_testkit::SALT)),
            "names order_id \"ET-another\"",
        ),
        (
            Some(reply(&id, "another salt")),
            "does not verify: notification signature does not verify",
        ),
    ];
    for (n, (answer, reason)) in cases.into_iter().enumerate() {
        if let Some(answer) = answer {
            *wrong.lock().expect("lock") = Some(answer);
            assert!(sb.redeliver(refund_note).expect("redeliver"));
        }
        let attempts = wait_for(Duration::from_secs(5), || {
            let attempts = sb.notification_attempts(refund_note).expect("attempts");
            (attempts.len() > n).then_some(attempts)
        })
        .await
        .expect("the refund result is tried");
        let last = attempts.last().expect("an attempt");
        assert!(!last.acknowledged, "{reason}");
        assert_eq!(
            last.failure,
            Some(DeliveryFailure::BadRefundReply),
            "{reason}"
        );
        let view = sb.notifications(Some(&id)).expect("outbox");
        let view = view.iter().find(|v| v.id == refund_note).expect("row");
        assert!(!view.delivered, "{reason}");
        assert!(
            view.last_error.contains(reason),
            "{reason}: {}",
            view.last_error
        );
    }
    *wrong.lock().expect("lock") = None;
    assert!(sb.redeliver(refund_note).expect("redeliver"));
    let delivered = wait_for(Duration::from_secs(5), || {
        let view = sb.notifications(Some(&id)).expect("outbox");
        view.iter()
            .any(|v| v.id == refund_note && v.delivered)
            .then_some(())
    })
    .await;
    assert!(delivered.is_some(), "the right reply is an acknowledgement");
    sb.shutdown().await;
}
