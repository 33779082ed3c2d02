//! Misbehaving servers on 127.0.0.1: timeouts, oversized and endless
//! answers, HTML, 5xx, garbage, dropped connections, and the retry policy.

use crate::common;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use et_http::{Client, Endpoint, Error, RetryPolicy, TransportConfig, TransportError};
use et_model::{GetRate, UploadAttachment};
use http::Response;
use hyper::body::{Body, Frame};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

use common::{no_retry, parties, reply, serve_on, spawn_server};

fn rate() -> GetRate {
    serde_json::from_value(serde_json::json!({"currency_code": "GBP"})).unwrap()
}

fn client(url: &str, config: TransportConfig) -> Client {
    let (_, merchant) = parties();
    Client::with_config(Endpoint::parse(url).unwrap(), merchant, config).unwrap()
}

fn retries(max_attempts: u32, backoff_ms: u64) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        backoff: Duration::from_millis(backoff_ms),
        ..RetryPolicy::default()
    }
}

/// The error a `get_rate` call to `{scheme}://{addr}/server` ends in.
async fn rate_error(scheme: &str, addr: SocketAddr, config: TransportConfig) -> Error {
    client(&format!("{scheme}://{addr}/server"), config)
        .get_rate(&rate())
        .await
        .unwrap_err()
}

/// The error an `upload_attachment` call (it creates something, so it is
/// never sent twice once it may have reached ET) to `addr` ends in.
async fn upload_error(addr: SocketAddr, config: TransportConfig) -> Error {
    let upload = UploadAttachment {
        order_id: "ET1".into(),
        attachment_type: et_model::AttachmentType::OfferLetter,
        base64: "aGk=".into(),
        file_name: "a.pdf".into(),
        extra: et_model::Extra::new(),
    };
    client(&format!("http://{addr}/server"), config)
        .upload_attachment(&upload)
        .await
        .unwrap_err()
}

async fn call_canned(response: fn() -> Response<http_body_util::Full<Bytes>>) -> Error {
    let (addr, _) = spawn_server(move |_| async move { response() }).await;
    rate_error("http", addr, no_retry()).await
}

/// A 127.0.0.1 address nobody listens on (bound, then released).
async fn closed_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
}

/// A raw TCP server on a fresh port that never speaks HTTP: hands each
/// accepted connection to `on_accept` (one at a time) and counts them.
async fn raw_server<F, Fut>(mut on_accept: F) -> (SocketAddr, Arc<AtomicUsize>)
where
    F: FnMut(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            on_accept(stream).await;
        }
    });
    (addr, accepted)
}

#[tokio::test]
async fn html_page_is_not_json() {
    let err =
        call_canned(|| reply(200, "text/html; charset=utf-8", "<html>maintenance</html>")).await;
    assert!(
        matches!(err, Error::Transport(TransportError::NotJson { .. })),
        "{err}"
    );
    assert!(err.may_have_reached_et());
}

#[tokio::test]
async fn server_error_status_is_reported_with_the_body_start() {
    let err = call_canned(|| reply(500, "text/plain", "internal error")).await;
    match err {
        Error::Transport(TransportError::Status { status, body_start }) => {
            assert_eq!(status, 500);
            assert_eq!(body_start, "internal error");
        }
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn garbage_is_a_malformed_response() {
    let err = call_canned(|| reply(200, "application/json", "\u{1}{garbage")).await;
    assert!(
        matches!(err, Error::Response(et_proto::Error::MalformedJson { .. })),
        "{err}"
    );
}

#[tokio::test]
async fn oversized_response_is_refused() {
    let (addr, _) =
        spawn_server(|_| async { reply(200, "application/json", vec![b' '; 2 << 20]) }).await;
    let config = TransportConfig {
        max_response_bytes: 1 << 20,
        ..no_retry()
    };
    let err = rate_error("http", addr, config).await;
    assert!(
        matches!(
            err,
            Error::Transport(TransportError::ResponseTooLarge { limit: 1048576 })
        ),
        "{err}"
    );
}

/// A chunked body that would go on for 1 GiB (bounded so the test ends
/// even if the client failed to cut it off).
struct Endless {
    sent: usize,
}

impl Body for Endless {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.sent >= 1 << 30 {
            return Poll::Ready(None);
        }
        self.sent += 16 << 10;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&[b' '; 16 << 10])))))
    }
}

#[tokio::test]
async fn endless_response_is_cut_off() {
    let (addr, _) = spawn_server(|_| async { Response::new(Endless { sent: 0 }) }).await;
    let config = TransportConfig {
        max_response_bytes: 256 << 10,
        ..no_retry()
    };
    let started = Instant::now();
    let err = rate_error("http", addr, config).await;
    assert!(
        matches!(
            err,
            Error::Transport(TransportError::ResponseTooLarge { .. })
        ),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_call_that_creates_something_hits_the_request_timeout_and_is_not_sent_again() {
    let (addr, seen) = spawn_server(|_| async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        reply(200, "application/json", "{}")
    })
    .await;
    let config = TransportConfig {
        request_timeout: Duration::from_millis(300),
        retry: RetryPolicy::default(),
        ..TransportConfig::default()
    };
    let started = Instant::now();
    let err = upload_error(addr, config).await;
    assert!(
        matches!(err, Error::Transport(TransportError::Timeout { .. })),
        "{err}"
    );
    assert!(err.may_have_reached_et());
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        seen.requests(),
        1,
        "a request that reached the server is never re-sent"
    );
}

#[tokio::test]
async fn a_call_that_creates_something_is_not_sent_again_after_the_connection_dropped() {
    let (addr, accepted) = raw_server(|mut stream| async move {
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf).await; // take (part of) the request, then hang up
    })
    .await;
    let config = TransportConfig {
        retry: RetryPolicy::default(),
        ..TransportConfig::default()
    };
    let err = upload_error(addr, config).await;
    assert!(
        matches!(err, Error::Transport(TransportError::Io(_))),
        "{err}"
    );
    assert!(err.may_have_reached_et());
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

/// A server that records each request's `serial_number` and answers with
/// `status`.
async fn recording_server(status: u16) -> (SocketAddr, Arc<std::sync::Mutex<Vec<String>>>) {
    let serials = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = serials.clone();
    let (addr, _) = spawn_server(move |request: http::Request<Bytes>| {
        let seen = seen.clone();
        async move {
            let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
            let serial = body["serial_number"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            seen.lock().unwrap().push(serial);
            reply(status, "text/plain", "busy")
        }
    })
    .await;
    (addr, serials)
}

#[tokio::test]
async fn a_call_that_changes_nothing_is_sent_again_with_fresh_serials_after_a_server_error() {
    let (addr, serials) = recording_server(503).await;
    let config = TransportConfig {
        retry: retries(3, 10),
        ..TransportConfig::default()
    };
    let err = rate_error("http", addr, config).await;
    assert!(
        matches!(err, Error::Transport(TransportError::Status { .. })),
        "{err}"
    );
    let serials = serials.lock().unwrap().clone();
    assert_eq!(serials.len(), 3, "three attempts: {serials:?}");
    let distinct: std::collections::HashSet<_> = serials.iter().collect();
    assert_eq!(distinct.len(), 3, "each copy has its own serial number");
    // The same failure for a call that creates something: one copy only.
    let (addr, serials) = recording_server(503).await;
    upload_error(
        addr,
        TransportConfig {
            retry: retries(3, 10),
            ..TransportConfig::default()
        },
    )
    .await;
    assert_eq!(serials.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn retries_of_a_call_that_changes_nothing_stop_at_the_deadline() {
    let (addr, serials) = recording_server(502).await;
    let config = TransportConfig {
        retry: RetryPolicy {
            max_attempts: 50,
            backoff: Duration::from_millis(40),
            deadline: Duration::from_millis(500),
        },
        ..TransportConfig::default()
    };
    rate_error("http", addr, config).await;
    // Pauses of 40 + 80 + 160 ms fit the 500 ms deadline; the next, 320 ms,
    // would end past it, so it is not taken: four attempts, not fifty.
    assert_eq!(serials.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn refused_connection_is_retried_then_reported() {
    let addr = closed_port().await;
    let config = TransportConfig {
        retry: retries(3, 10),
        ..TransportConfig::default()
    };
    let err = rate_error("http", addr, config).await;
    assert_eq!(common::connect_attempts(&err), Some(3), "{err}");
    assert!(!err.may_have_reached_et());
}

#[tokio::test]
async fn retry_after_refused_connect_delivers_the_same_request_once() {
    let (et, merchant) = parties();
    let merchant_public = merchant.credentials().merchant_key.public_key().clone();
    let addr = closed_port().await;
    let serials = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen_serials = serials.clone();
    // ET comes up only after the first attempts were refused.
    let server = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let listener = TcpListener::bind(addr).await.unwrap();
        serve_on(listener, move |request: http::Request<Bytes>| {
            let (et, key, serials) = (et.clone(), merchant_public.clone(), seen_serials.clone());
            async move {
                let opened = common::open(&et, &key, &request);
                serials.lock().unwrap().push(opened.serial_number.clone());
                let body = et
                    .respond(&key, &et_proto::Response::success(&opened))
                    .unwrap();
                reply(200, "application/json", body)
            }
        })
    });
    let config = TransportConfig {
        retry: retries(20, 25),
        ..TransportConfig::default()
    };
    let client = Client::with_config(
        Endpoint::parse(&format!("http://{addr}/server")).unwrap(),
        merchant,
        config,
    )
    .unwrap();
    let reply = client.get_rate(&rate()).await.unwrap();
    assert!(reply.items.is_empty());
    let seen = server.await.unwrap();
    assert_eq!(seen.requests(), 1);
    assert_eq!(serials.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn stalled_tls_handshake_hits_the_connect_timeout_and_is_retried() {
    let mut held = Vec::new(); // accept TCP, never answer the TLS hello
    let (addr, accepted) = raw_server(move |stream| {
        held.push(stream);
        async {}
    })
    .await;
    let config = TransportConfig {
        connect_timeout: Duration::from_millis(200),
        retry: retries(2, 10),
        ..TransportConfig::default()
    };
    let started = Instant::now();
    let err = rate_error("https", addr, config).await;
    assert_eq!(common::connect_attempts(&err), Some(2), "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
    assert!(started.elapsed() < Duration::from_secs(3));
}
