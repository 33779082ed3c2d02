//! Shared test helpers: key fixtures, a merchant, a small HTTP server on
//! 127.0.0.1 and a plain HTTP client.

#![allow(dead_code)] // each test binary uses a subset

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use et_crypto::PrivateKey;
use et_proto::{Credentials, EtSide, Merchant, Profile};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Incoming};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

pub const MERCHANT_NUMBER: &str = "ET82009";
pub const SUB_MERCHANT_NUMBER: &str = "ET82009S001";
pub const SALT: &str = "abc123";

/// Copies of et-proto's fixture keys: a published crate reads only its own files.
fn fixture(name: &str) -> PrivateKey {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let pem = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    PrivateKey::load(&pem).expect("fixture key loads")
}

/// ET's side and a merchant that trust each other's 1024-bit fixture keys.
pub fn parties() -> (Arc<EtSide>, Merchant) {
    parties_with(Profile::default())
}

/// [`parties`], the merchant using `profile`.
pub fn parties_with(profile: Profile) -> (Arc<EtSide>, Merchant) {
    let et = EtSide::new(fixture("et-1024.pem"), Profile::default());
    let credentials = Credentials::new(
        MERCHANT_NUMBER,
        SUB_MERCHANT_NUMBER,
        fixture("merchant-1024.pem"),
        et.public_key().clone(),
        SALT,
    );
    (Arc::new(et), Merchant::new(credentials, profile))
}

/// What a test server has seen so far.
#[derive(Clone, Default)]
pub struct Seen {
    pub connections: Arc<AtomicUsize>,
    pub requests: Arc<AtomicUsize>,
}

impl Seen {
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Serves `respond` on `listener` (HTTP/1.1 keep-alive); counts connections and requests.
pub fn serve_on<F, Fut, B>(listener: TcpListener, respond: F) -> Seen
where
    F: Fn(Request<Bytes>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
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

/// Serves `respond` on a fresh 127.0.0.1 port.
pub async fn spawn_server<F, Fut, B>(respond: F) -> (SocketAddr, Seen)
where
    F: Fn(Request<Bytes>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (addr, serve_on(listener, respond))
}

/// A response with a status, content type and body.
pub fn reply(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(body.into()))
        .unwrap()
}

/// POSTs (or sends `method`) over a fresh connection; returns status and body.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    content_type: &str,
    body: impl Into<Bytes>,
) -> (u16, Bytes) {
    try_send(addr, method, content_type, body).await.unwrap()
}

/// [`send`], returning the error when the connection fails or is closed
/// without an answer.
pub async fn try_send(
    addr: SocketAddr,
    method: &str,
    content_type: &str,
    body: impl Into<Bytes>,
) -> Result<(u16, Bytes), Box<dyn std::error::Error + Send + Sync>> {
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

/// A notification body signed with [`SALT`]; values are raw JSON text.
pub fn signed_notification(fields: &[(&str, &str)]) -> Vec<u8> {
    let object = fields
        .iter()
        .map(|(k, v)| (*k, et_proto::UntypedValue::from_json(v).unwrap()))
        .collect();
    EtSide::sign_notification(SALT, object)
}

/// The same notification as a form-urlencoded body.
pub fn as_form(json_body: &[u8]) -> String {
    let object = et_proto::UntypedObject::parse_json(json_body, "test").unwrap();
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (k, v) in object.iter() {
        form.append_pair(k, v.text());
    }
    form.finish()
}

/// A receiver verifying with [`SALT`] under the default profile.
pub fn verifier() -> et_proto::NotificationVerifier {
    et_proto::NotificationVerifier::new(SALT, Profile::default().notify_sign_rule)
}

/// Runs `serve` for `receiver` on a fresh port; send on the returned
/// channel to shut it down, then await the handle.
pub async fn start_receiver<H: et_http::NotificationHandler>(
    receiver: et_http::WebhookReceiver<H>,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    start_server(receiver, et_http::ServeConfig::default()).await
}

/// Runs `serve_with` for any hyper service on a fresh port; send on the
/// returned channel to shut it down, then await the handle.
pub async fn start_server<S, B>(
    service: S,
    config: et_http::ServeConfig,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
)
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(et_http::serve_with(listener, service, config, async move {
        let _ = stopped.await;
    }));
    (addr, stop, server)
}
