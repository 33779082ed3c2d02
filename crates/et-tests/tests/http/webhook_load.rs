//! Bounded load test of the receiver: 3,000 deliveries (300 of them
//! duplicates, ~1% failing in the handler) over 4 concurrent keep-alive
//! connections on 127.0.0.1, with a deadline.

use crate::common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use et_http::WebhookReceiver;
use et_proto::{VerifiedNotification, ACK_OK};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

use common::{signed_notification, start_receiver, verifier};

const DELIVERIES: usize = 3_000;
const EVENTS: usize = 2_700;
const CONNECTIONS: usize = 4;
const DEADLINE: Duration = Duration::from_secs(60);

/// Delivery `i` carries event `i % EVENTS`; its index travels (signed) in
/// `extend_info`, which the dedup key ignores.
fn delivery(i: usize) -> Bytes {
    let order_id = format!(r#""ET{:010}""#, i % EVENTS);
    let marker = format!(r#""d{i}""#);
    Bytes::from(signed_notification(&[
        ("order_id", &order_id),
        ("pay_result", "1"),
        ("pay_amount", "10000.00"),
        ("pay_datetime", r#""2024-12-01 10:00:00""#),
        ("extend_info", &marker),
    ]))
}

fn handler_fails(i: usize) -> bool {
    i % 101 == 0
}

#[derive(Default)]
struct Ledger {
    /// delivery index → times the handler saw it
    calls: HashMap<usize, usize>,
    /// dedup key → times the handler saw it
    keys: HashMap<String, usize>,
}

/// Sends deliveries `first, first + CONNECTIONS, …` over one keep-alive
/// connection; returns (index, acknowledged).
async fn connection(addr: SocketAddr, first: usize, bodies: Arc<Vec<Bytes>>) -> Vec<(usize, bool)> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut outcomes = Vec::new();
    for i in (first..DELIVERIES).step_by(CONNECTIONS) {
        sender.ready().await.unwrap();
        let request = http::Request::post("/notify")
            .header("host", addr.to_string())
            .header("content-type", "application/json")
            .body(Full::new(bodies[i].clone()))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        outcomes.push((i, status == 200 && body == ACK_OK));
    }
    outcomes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_delivery_is_handled_once_and_acknowledged_only_after_success() {
    let bodies: Arc<Vec<Bytes>> = Arc::new((0..DELIVERIES).map(delivery).collect());
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let book = ledger.clone();
    let receiver = WebhookReceiver::new(verifier(), move |n: VerifiedNotification| {
        let book = book.clone();
        async move {
            let index: usize = n.fields().text("extend_info").unwrap_or_default()[1..].parse()?;
            let mut book = book.lock().unwrap();
            *book.calls.entry(index).or_default() += 1;
            *book.keys.entry(n.dedup_key()).or_default() += 1;
            if handler_fails(index) {
                return Err("simulated storage failure".into());
            }
            Ok::<(), et_http::HandlerError>(())
        }
    });
    let (addr, stop, server) = start_receiver(receiver).await;

    let started = Instant::now();
    let senders: Vec<_> = (0..CONNECTIONS)
        .map(|c| tokio::spawn(connection(addr, c, bodies.clone())))
        .collect();
    let mut outcomes = Vec::new();
    for sender in senders {
        let part = tokio::time::timeout(DEADLINE, sender)
            .await
            .expect("deadline")
            .unwrap();
        outcomes.extend(part);
    }
    let elapsed = started.elapsed();
    stop.send(()).unwrap();
    server.await.unwrap();
    eprintln!(
        "webhook load: {DELIVERIES} deliveries over {CONNECTIONS} keep-alive connections in {elapsed:?} = {:.0} deliveries/s",
        DELIVERIES as f64 / elapsed.as_secs_f64()
    );

    let ledger = ledger.lock().unwrap();
    assert_eq!(outcomes.len(), DELIVERIES);
    assert_eq!(
        ledger.calls.len(),
        DELIVERIES,
        "every delivery reached the handler"
    );
    assert!(
        ledger.calls.values().all(|&n| n == 1),
        "exactly once per delivery"
    );
    for (i, acknowledged) in outcomes {
        assert_eq!(
            acknowledged,
            !handler_fails(i),
            "delivery {i}: acknowledged iff the handler succeeded"
        );
    }
    assert_eq!(
        ledger.keys.len(),
        EVENTS,
        "duplicates share their event's dedup key"
    );
    let duplicated = ledger.keys.values().filter(|&&n| n == 2).count();
    assert_eq!(duplicated, DELIVERIES - EVENTS);
}
