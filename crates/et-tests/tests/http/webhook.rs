//! The webhook receiver over real HTTP on 127.0.0.1.

use crate::common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use et_http::{ReceiverConfig, WebhookReceiver};
use et_model::NotificationKind;
use et_proto::{Message, VerifiedNotification, ACK_FAIL, ACK_OK};
use http_body_util::{BodyExt, Full};
use tokio::sync::oneshot;

use common::{as_form, send, signed_notification, start_receiver, verifier};

/// ET's own v2 example (spec 04 §3.1): salt `abc123`, sign as printed.
const DOC_EXAMPLE: &str = et_testkit::ET_V2_PAYMENT_NOTIFICATION;

const JSON: &str = "application/json";

type Log = Arc<Mutex<Vec<(NotificationKind, String)>>>;

/// A receiver whose handler records (kind, dedup key) and fails when told.
fn recording(fail: bool) -> (WebhookReceiver<impl et_http::NotificationHandler>, Log) {
    let log = Log::default();
    let seen = log.clone();
    let handler = move |n: VerifiedNotification| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push((n.kind(), n.dedup_key()));
            if fail {
                Err("database unavailable")
            } else {
                Ok(())
            }
        }
    };
    (WebhookReceiver::new(verifier(), handler), log)
}

/// [`recording`] served on a fresh port: its address, what stops it when
/// dropped, and its log.
async fn recording_on_a_port(fail: bool) -> (SocketAddr, oneshot::Sender<()>, Log) {
    let (receiver, log) = recording(fail);
    let (addr, stop, _) = start_receiver(receiver).await;
    (addr, stop, log)
}

#[tokio::test]
async fn documented_json_example_is_handled_then_acknowledged() {
    let (addr, _stop, log) = recording_on_a_port(false).await;
    let (status, body) = send(addr, "POST", JSON, DOC_EXAMPLE).await;
    assert_eq!((status, &body[..]), (200, ACK_OK));
    assert_eq!(
        *log.lock().unwrap(),
        vec![(
            NotificationKind::PaymentSuccess,
            "payment_success:ETxxxxxxxxxxxx01:1".to_owned()
        )]
    );
}

/// A signed change of order `ET00000000000000001` to status 2.
fn status_change() -> Vec<u8> {
    signed_notification(&[
        ("notify_type", r#""order_status_change""#),
        ("order_id", r#""ET00000000000000001""#),
        ("datetime", r#""2024-12-12 10:00:00""#),
        ("order_status", r#""2""#),
    ])
}

#[tokio::test]
async fn form_encoded_order_status_change_is_accepted() {
    let (addr, _stop, log) = recording_on_a_port(false).await;
    let body = status_change();
    let (status, answer) = send(
        addr,
        "POST",
        "application/x-www-form-urlencoded",
        as_form(&body),
    )
    .await;
    assert_eq!((status, &answer[..]), (200, ACK_OK));
    assert_eq!(
        log.lock().unwrap()[0].0,
        NotificationKind::OrderStatusChange
    );
}

/// A form body's trailing newline is part of its last value, which ET
/// signed without it: refused (401), never stripped to make it verify. A
/// JSON body's is whitespace after the object, part of no value: accepted.
#[tokio::test]
async fn a_trailing_newline_is_refused_in_a_form_body_and_harmless_in_json() {
    let (addr, _stop, log) = recording_on_a_port(false).await;
    let body = status_change();
    let form = format!("{}\n", as_form(&body));
    let (status, answer) = send(
        addr,
        "POST",
        "application/x-www-form-urlencoded",
        form.clone(),
    )
    .await;
    assert_eq!((status, &answer[..]), (401, ACK_FAIL));
    assert!(log.lock().unwrap().is_empty());
    assert!(et_http::unsigned_trailing_whitespace(form.as_bytes()).is_some());
    let json = format!("{DOC_EXAMPLE}\n");
    assert_eq!(send(addr, "POST", JSON, json.clone()).await.0, 200);
    assert!(et_http::unsigned_trailing_whitespace(json.as_bytes()).is_none());
}

#[tokio::test]
async fn tampered_notification_is_refused_and_never_handled() {
    let (addr, _stop, log) = recording_on_a_port(false).await;
    let tampered = DOC_EXAMPLE.replace("10000.00", "10000.01");
    let (status, body) = send(addr, "POST", JSON, tampered).await;
    assert_eq!((status, &body[..]), (401, ACK_FAIL));
    // A float-normalised amount is tampering too (spec 04 §3.1 pitfall).
    let renormalised = DOC_EXAMPLE.replace("10000.00", "10000.0");
    assert_eq!(send(addr, "POST", JSON, renormalised).await.0, 401);
    assert!(log.lock().unwrap().is_empty());
}

#[tokio::test]
async fn duplicates_reach_the_handler_with_one_dedup_key() {
    let (addr, _stop, log) = recording_on_a_port(false).await;
    for _ in 0..3 {
        assert_eq!(
            send(addr, "POST", JSON, DOC_EXAMPLE).await,
            (200, Bytes::from_static(ACK_OK))
        );
    }
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|entry| entry == &log[0]));
}

#[tokio::test]
async fn failing_handler_gets_no_acknowledgement() {
    let (addr, _stop, log) = recording_on_a_port(true).await;
    let (status, body) = send(addr, "POST", JSON, DOC_EXAMPLE).await;
    assert_eq!((status, &body[..]), (500, ACK_FAIL));
    assert_eq!(log.lock().unwrap().len(), 1, "the handler ran and failed");
}

#[tokio::test]
async fn panicking_handler_is_answered_fail_and_the_server_keeps_serving() {
    let calls = Arc::new(Mutex::new(0));
    let count = calls.clone();
    // Call 1 panics before returning its future, call 2 while it runs.
    let receiver = WebhookReceiver::new(verifier(), move |_: VerifiedNotification| {
        let call = {
            let mut calls = count.lock().unwrap();
            *calls += 1;
            *calls
        };
        assert_ne!(call, 1, "simulated bug in the handler's setup");
        async move {
            assert_ne!(call, 2, "simulated bug while storing");
            Ok::<(), et_http::HandlerError>(())
        }
    });
    let (addr, _stop, _) = start_receiver(receiver).await;
    for _ in 0..2 {
        let (status, body) = send(addr, "POST", JSON, DOC_EXAMPLE).await;
        assert_eq!(
            (status, &body[..]),
            (500, ACK_FAIL),
            "a reply, not a dropped connection"
        );
    }
    let (status, body) = send(addr, "POST", JSON, DOC_EXAMPLE).await;
    assert_eq!(
        (status, &body[..]),
        (200, ACK_OK),
        "the redelivery is acknowledged"
    );
    assert_eq!(*calls.lock().unwrap(), 3);
}

#[tokio::test]
async fn refund_result_is_acknowledged_with_order_id_and_sign() {
    let (addr, _stop, log) = recording_on_a_port(false).await;
    let body = signed_notification(&[
        ("order_id", r#""ET00000000000000001""#),
        ("refund_order_id", r#""R-1""#),
        ("refund_result", "1"),
        ("refund_amount", "10000.00"),
        ("refund_datetime", r#""2024-01-01 10:00:00""#),
        ("extend_info", r#""""#),
    ]);
    let (status, answer) = send(addr, "POST", JSON, body).await;
    assert_eq!(status, 200);
    let ack = et_proto::UntypedObject::parse_json(&answer, Message::Response).unwrap();
    assert_eq!(ack.text("order_id"), Some("ET00000000000000001"));
    assert_eq!(ack.text("notify_result"), Some("OK"));
    assert!(
        verifier()
            .verify(Some(JSON), &answer, std::time::SystemTime::now())
            .is_ok(),
        "the ack is signed with the salt"
    );
    assert_eq!(log.lock().unwrap()[0].0, NotificationKind::RefundResult);
}

#[tokio::test]
async fn unreadable_requests_are_refused_with_a_reason_status() {
    let receiver = WebhookReceiver::with_config(
        verifier(),
        |_: VerifiedNotification| async { Ok::<(), et_http::HandlerError>(()) },
        ReceiverConfig {
            max_body_bytes: 1024,
            ..ReceiverConfig::default()
        },
    );
    let (addr, _stop, _) = start_receiver(receiver).await;
    assert_eq!(send(addr, "GET", JSON, "").await.0, 405);
    assert_eq!(send(addr, "POST", JSON, vec![b' '; 2048]).await.0, 413);
    assert_eq!(send(addr, "POST", JSON, "{not json").await.0, 400);
    assert_eq!(
        send(addr, "POST", "multipart/mixed; boundary=x", "--x--")
            .await
            .0,
        415
    );
    let (status, body) = send(addr, "POST", JSON, r#"{"order_id":"1"}"#).await;
    assert_eq!((status, &body[..]), (400, ACK_FAIL), "no sign field");
    let truncated = "--x\r\nContent-Disposition: form-data; name=\"order_id\"\r\n\r\n1\r\n";
    let (status, body) = send(addr, "POST", "multipart/form-data; boundary=x", truncated).await;
    assert_eq!((status, &body[..]), (400, ACK_FAIL), "no closing boundary");
}

#[tokio::test]
async fn shutdown_lets_the_request_in_flight_finish() {
    let handled = Arc::new(Mutex::new(0));
    let count = handled.clone();
    let receiver = WebhookReceiver::new(verifier(), move |_: VerifiedNotification| {
        let count = count.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            *count.lock().unwrap() += 1;
            Ok::<(), et_http::HandlerError>(())
        }
    });
    let (addr, stop, server) = start_receiver(receiver).await;
    let in_flight = tokio::spawn(send(addr, "POST", JSON, DOC_EXAMPLE));
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).unwrap();
    let (status, body) = in_flight.await.unwrap();
    assert_eq!((status, &body[..]), (200, ACK_OK));
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(*handled.lock().unwrap(), 1);
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "listener closed"
    );
}

#[tokio::test]
async fn works_as_a_tower_service_without_a_server() {
    use tower_service::Service;
    let (mut receiver, log) = recording(false);
    let request = http::Request::post("/notify")
        .header("content-type", JSON)
        .body(Full::new(Bytes::from_static(DOC_EXAMPLE.as_bytes())))
        .unwrap();
    let response = receiver.call(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        &response.into_body().collect().await.unwrap().to_bytes()[..],
        ACK_OK
    );
    assert_eq!(log.lock().unwrap().len(), 1);
}
