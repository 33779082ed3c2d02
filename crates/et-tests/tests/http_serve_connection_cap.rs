//! `serve_with` never holds more connection sockets than its cap, however
//! many clients connect; the rest wait in the listen backlog and are served
//! as the idle timeout frees slots. Its own test binary: it counts this
//! process's open file descriptors (Linux `/proc`), which other tests
//! would disturb.

#![cfg(target_os = "linux")]

#[path = "http/common/mod.rs"]
mod common;

use std::convert::Infallible;
use std::time::{Duration, Instant};

use bytes::Bytes;
use et_http::ServeConfig;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;

use common::{send, start_server};

const CAP: usize = 8;
const IDLE_CLIENTS: usize = 50;

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[tokio::test]
async fn idle_connections_beyond_the_cap_hold_no_descriptors_and_service_resumes() {
    // Any hyper service, not only the webhook receiver.
    let service = hyper::service::service_fn(|_: Request<Incoming>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"served"))))
    });
    let config = ServeConfig {
        max_connections: CAP,
        idle_timeout: Duration::from_millis(200),
        ..ServeConfig::default()
    };
    let (addr, _stop, _) = start_server(service, config).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let before = open_descriptors();

    let mut idle = Vec::new();
    for _ in 0..IDLE_CLIENTS {
        idle.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let held_by_server = open_descriptors() - before - IDLE_CLIENTS;
    assert!(
        held_by_server <= CAP,
        "{IDLE_CLIENTS} idle clients made the server hold {held_by_server} sockets; cap {CAP}"
    );

    // Behind the 50 idle clients in the backlog, a real request is served
    // once the idle timeout has cycled them through the 8 slots.
    let started = Instant::now();
    let (status, body) =
        tokio::time::timeout(Duration::from_secs(10), send(addr, "GET", "text/plain", ""))
            .await
            .expect("served within 10 s");
    assert_eq!((status, &body[..]), (200, &b"served"[..]));
    eprintln!(
        "request behind {IDLE_CLIENTS} idle clients (cap {CAP}, idle 200 ms) served after {:?}",
        started.elapsed()
    );
    drop(idle);
}
