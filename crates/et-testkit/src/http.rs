//! Small HTTP helpers for tests, all on 127.0.0.1: a test server that
//! answers with a closure and counts what it saw, a webhook receiver that
//! records notifications, and plain clients (one request per call).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use et_model::Notification;
use et_proto::{Merchant, NotificationVerifier, NotifySignRule, ACK_OK};
use http::{HeaderMap, Method, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Incoming};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Any error of a test exchange.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a test server has seen so far.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// Connections accepted.
    pub connections: Arc<AtomicUsize>,
    /// Requests received.
    pub requests: Arc<AtomicUsize>,
}

impl Seen {
    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Serves `respond` on `listener` (HTTP/1.1 keep-alive), the request body
/// read whole; counts connections and requests.
pub fn serve_on<F, Fut, B>(listener: TcpListener, respond: F) -> Seen
where
    F: Fn(Request<Bytes>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let seen = Seen::default();
    let counters = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counters.connections.fetch_add(1, Ordering::SeqCst);
            let respond = respond.clone();
            let requests = counters.requests.clone();
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let respond = respond.clone();
                requests.fetch_add(1, Ordering::SeqCst);
                async move {
                    let (parts, body) = req.into_parts();
                    let body = body
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    Ok::<_, Infallible>(respond(Request::from_parts(parts, body)).await)
                }
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    seen
}

/// [`serve_on`] a fresh 127.0.0.1 port.
pub async fn spawn_server<F, Fut, B>(respond: F) -> (SocketAddr, Seen)
where
    F: Fn(Request<Bytes>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local address");
    (addr, serve_on(listener, respond))
}

/// A response with a status, content type and body.
pub fn reply(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(body.into()))
        .expect("valid response")
}

/// Sends `method /notify` with `body` over a fresh connection to `addr`;
/// its status and body.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    content_type: &str,
    body: impl Into<Bytes>,
) -> (u16, Bytes) {
    try_send(addr, method, content_type, body)
        .await
        .expect("HTTP exchange")
}

/// [`send`], returning the error when the connection fails or is closed
/// without an answer.
pub async fn try_send(
    addr: SocketAddr,
    method: &str,
    content_type: &str,
    body: impl Into<Bytes>,
) -> Result<(u16, Bytes), BoxError> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let request = Request::builder()
        .method(method)
        .uri("/notify")
        .header("host", addr.to_string())
        .header("content-type", content_type)
        .body(Full::new(body.into()))?;
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    Ok((status, response.into_body().collect().await?.to_bytes()))
}

/// POSTs `body` to `url`; `content_type` `None` sends no Content-Type
/// (like ET's demo). Its status and body, within 10 s.
pub async fn post(url: &str, body: Vec<u8>, content_type: Option<&str>) -> (u16, Vec<u8>) {
    let headers: Vec<_> = content_type
        .map(|ct| ("content-type", ct))
        .into_iter()
        .collect();
    let (status, _, body) = exchange(request(Method::POST, url, &headers, body)).await;
    (status, body.to_vec())
}

/// GETs `url`: its status and body, within 10 s.
pub async fn get(url: &str) -> (u16, Vec<u8>) {
    let (status, _, body) = exchange(request(Method::GET, url, &[], "")).await;
    (status, body.to_vec())
}

/// A request to `url` with `headers` and `body`.
pub fn request(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Request<Full<Bytes>> {
    let mut request = Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Full::new(body.into())).expect("request")
}

/// One exchange on a fresh connection, within 10 s: status, headers and the
/// body as text (a page, a message; invalid UTF-8 shows as U+FFFD).
pub async fn fetch(request: Request<Full<Bytes>>) -> (u16, HeaderMap, String) {
    let (status, headers, body) = exchange(request).await;
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// One request on a fresh connection to the URL's host, within 10 s:
/// status, headers and body (pooled hyper clients are built by et-http
/// alone, which this kit cannot depend on).
async fn exchange(mut request: Request<Full<Bytes>>) -> (u16, HeaderMap, Bytes) {
    let exchange = async {
        // Origin form and a `Host` header, as a pooled client sends them
        // (a test's own `Host`, e.g. a rebound name, is kept).
        let authority = request.uri().authority().expect("an absolute URL").clone();
        let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
        *request.uri_mut() = path.parse()?;
        if !request.headers().contains_key(http::header::HOST) {
            let host = authority.as_str().parse()?;
            request.headers_mut().insert(http::header::HOST, host);
        }
        let stream = tokio::net::TcpStream::connect(authority.as_str()).await?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        let response = sender.send_request(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok::<_, BoxError>((parts.status.as_u16(), parts.headers, body))
    };
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .expect("answer within 10 s")
        .expect("HTTP exchange")
}

/// One received notification: its Content-Type and body.
pub type Received = (Option<String>, Vec<u8>);

/// A webhook receiver on 127.0.0.1: records every body; while `accept` is
/// set it answers as a merchant with salt [`SALT`](crate::SALT) does (for a
/// refund result `order_id`, `notify_result` and `sign`; for anything else,
/// or a body that does not verify, `{"notify_result":"OK"}`), and `FAIL`
/// otherwise.
#[derive(Debug, Clone)]
pub struct Receiver {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Every notification received, in order.
    pub bodies: Arc<Mutex<Vec<Received>>>,
    /// Whether it acknowledges.
    pub accept: Arc<AtomicBool>,
}

impl Receiver {
    /// Starts one on a fresh port.
    pub async fn start(accept: bool) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let receiver = Receiver {
            addr: listener.local_addr().expect("addr"),
            bodies: Arc::default(),
            accept: Arc::new(AtomicBool::new(accept)),
        };
        let shared = receiver.clone();
        serve_on(listener, move |req: Request<Bytes>| {
            let shared = shared.clone();
            async move {
                let ct = req
                    .headers()
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let body = req.into_body().to_vec();
                let answer = if shared.accept.load(Ordering::SeqCst) {
                    acknowledgement(ct.as_deref(), &body)
                } else {
                    b"FAIL".to_vec()
                };
                shared.bodies.lock().expect("lock").push((ct, body));
                Response::new(Full::new(Bytes::from(answer)))
            }
        });
        receiver
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// How many notifications arrived.
    pub fn count(&self) -> usize {
        self.bodies.lock().expect("lock").len()
    }

    /// Every notification received so far.
    pub fn received(&self) -> Vec<Received> {
        self.bodies.lock().expect("lock").clone()
    }

    /// Every notification received so far, verified with `m`'s salt.
    pub fn verified(&self, m: &Merchant) -> Vec<Notification> {
        let verifier = m.notification_verifier();
        self.received()
            .iter()
            .map(|(ct, body)| {
                verifier
                    .verify_owned(ct.as_deref(), body, std::time::SystemTime::now())
                    .expect("notification verifies")
                    .notification()
                    .clone()
            })
            .collect()
    }
}

/// What a merchant with salt [`SALT`](crate::SALT) answers to `body`.
fn acknowledgement(content_type: Option<&str>, body: &[u8]) -> Vec<u8> {
    NotificationVerifier::new(crate::SALT, NotifySignRule::V1Compat)
        .verify_owned(content_type, body, std::time::SystemTime::now())
        .map_or_else(|_| ACK_OK.to_vec(), |n| n.acknowledgement().to_vec())
}

/// Polls `check` every 20 ms for up to `limit`; its last answer after that.
pub async fn wait_for<T>(
    limit: std::time::Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Option<T> {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if let Some(v) = check() {
            return Some(v);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    check()
}
