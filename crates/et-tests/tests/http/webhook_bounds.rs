//! The receiver's time bounds over real HTTP on 127.0.0.1: a hung handler,
//! a hung request at shutdown, a slowloris and idle connections each hold
//! their connection only for a configured time.

use crate::common;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use et_http::{HandlerError, ReceiverConfig, ServeConfig, WebhookReceiver};
use et_proto::{VerifiedNotification, ACK_FAIL, ACK_OK};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::{oneshot, Notify};

use common::{payment, send, start_server, try_send, verifier};

const JSON: &str = "application/json";
const SHORT: Duration = Duration::from_millis(300);
/// Far above every bound under test: reaching it means a bound is missing.
const PATIENCE: Duration = Duration::from_secs(5);

async fn within<T>(limit: Duration, what: &str, work: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, work)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {limit:?}"))
}

/// A receiver whose handler never returns for order `ETHUNG` (after
/// signalling `entered`) and succeeds for every other order.
fn hanging_receiver(
    config: ReceiverConfig,
    entered: Arc<Notify>,
) -> WebhookReceiver<impl et_http::NotificationHandler> {
    WebhookReceiver::with_config(
        verifier(),
        move |n: VerifiedNotification| {
            let entered = entered.clone();
            async move {
                if n.dedup_key().contains("ETHUNG") {
                    entered.notify_one();
                    std::future::pending::<()>().await;
                }
                Ok::<(), HandlerError>(())
            }
        },
        config,
    )
}

/// [`hanging_receiver`], configured by default, served as `config` says:
/// its address, and what stops it when dropped.
async fn serving(config: ServeConfig) -> (SocketAddr, oneshot::Sender<()>) {
    let receiver = hanging_receiver(ReceiverConfig::default(), Arc::default());
    let (addr, stop, _) = start_server(receiver, config).await;
    (addr, stop)
}

/// The default bounds, but an idle connection closed after `idle`.
fn closing_idle_after(idle: Duration) -> ServeConfig {
    ServeConfig {
        idle_timeout: idle,
        ..ServeConfig::default()
    }
}

/// Reads `stream` until the other side closes it (within [`PATIENCE`]):
/// how the read ended, what came, and how long that took.
async fn read_until_closed(
    mut stream: impl AsyncRead + Unpin,
    what: &str,
) -> (std::io::Result<usize>, Vec<u8>, Duration) {
    let started = Instant::now();
    let mut answer = Vec::new();
    let read = within(PATIENCE, what, stream.read_to_end(&mut answer)).await;
    (read, answer, started.elapsed())
}

#[tokio::test]
async fn a_hung_handler_is_answered_fail_at_its_deadline_and_serving_continues() {
    let config = ReceiverConfig {
        handler_timeout: SHORT,
        ..ReceiverConfig::default()
    };
    let receiver = hanging_receiver(config, Arc::default());
    let (addr, _stop, _) = start_server(receiver, ServeConfig::default()).await;

    // ET's first delivery and its retry, at the same time: both answered.
    let started = Instant::now();
    let (first, retry) = within(PATIENCE, "two deliveries to a hung handler", async {
        tokio::join!(
            send(addr, "POST", JSON, payment("ETHUNG")),
            send(addr, "POST", JSON, payment("ETHUNG"))
        )
    })
    .await;
    assert!(started.elapsed() >= SHORT, "answered before the deadline");
    for (status, body) in [first, retry] {
        assert_eq!((status, &body[..]), (503, ACK_FAIL));
    }

    let (status, body) = within(
        PATIENCE,
        "a delivery after the hang",
        send(addr, "POST", JSON, payment("ETFINE")),
    )
    .await;
    assert_eq!((status, &body[..]), (200, ACK_OK));
}

#[tokio::test]
async fn shutdown_returns_within_the_drain_deadline_while_a_handler_hangs() {
    let entered = Arc::new(Notify::new());
    let receiver = hanging_receiver(
        ReceiverConfig {
            handler_timeout: Duration::from_secs(3600),
            ..ReceiverConfig::default()
        },
        entered.clone(),
    );
    let config = ServeConfig {
        drain_timeout: SHORT,
        ..ServeConfig::default()
    };
    let (addr, stop, server) = start_server(receiver, config).await;
    let in_flight = tokio::spawn(try_send(addr, "POST", JSON, payment("ETHUNG")));
    within(PATIENCE, "the handler starting", entered.notified()).await;

    let started = Instant::now();
    stop.send(()).unwrap();
    within(PATIENCE, "shutdown", server).await.unwrap();
    assert!(
        started.elapsed() >= SHORT,
        "gave up before the drain deadline"
    );
    assert!(
        in_flight.await.unwrap().is_err(),
        "the cut-off delivery got no answer (so ET will send it again)"
    );
}

#[tokio::test]
async fn headers_dribbled_byte_by_byte_are_cut_off_at_the_header_read_timeout() {
    let config = ServeConfig {
        header_read_timeout: SHORT,
        ..ServeConfig::default()
    };
    let (addr, _stop) = serving(config).await;
    let (reader, mut writer) = tokio::net::TcpStream::connect(addr)
        .await
        .unwrap()
        .into_split();
    // One header byte every 50 ms: never silent for the idle timeout, and
    // never finished.
    tokio::spawn(async move {
        let head = b"POST /notify HTTP/1.1\r\n"
            .iter()
            .chain(b"x".iter().cycle());
        for byte in head {
            if writer.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let (_, _, open_for) = read_until_closed(reader, "the slow connection").await;
    assert!(open_for >= SHORT, "closed before the timeout");
}

#[tokio::test]
async fn a_silent_connection_is_closed_at_the_idle_timeout() {
    let (addr, _stop) = serving(closing_idle_after(SHORT)).await;
    let silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (read, answer, open_for) = read_until_closed(silent, "the silent connection").await;
    assert!(read.is_ok() && answer.is_empty(), "closed without a word");
    assert!(open_for >= SHORT, "closed before the timeout");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_at_the_idle_timeout() {
    let (addr, _stop) = serving(closing_idle_after(SHORT)).await;
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    let connection = tokio::spawn(connection);
    // Two deliveries on one keep-alive connection, each after a pause
    // shorter than the idle timeout: the connection survives both.
    for order_id in ["ET1", "ET2"] {
        tokio::time::sleep(SHORT / 2).await;
        let request = http::Request::post("/notify")
            .header("host", addr.to_string())
            .header("content-type", JSON)
            .body(Full::new(Bytes::from(payment(order_id))))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
    }
    let answered = Instant::now();
    within(PATIENCE, "the idle keep-alive connection", connection)
        .await
        .unwrap()
        .unwrap();
    assert!(answered.elapsed() >= SHORT, "closed before the timeout");
}
