//! What et-http's tests add to the test kit (et-testkit): parties as
//! et-http's tests hold them, signed notifications, a running webhook
//! receiver or any service under `serve_with`.

#![allow(dead_code, unused_imports)] // each test binary uses a subset

pub(crate) mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use et_proto::{EtSide, Merchant, Message, Profile};
use http::{Request, Response};
use hyper::body::{Body, Incoming};
use tokio::net::TcpListener;

pub(crate) use et_testkit::http::{reply, send, serve_on, spawn_server, try_send, Seen};
pub(crate) use et_testkit::{MERCHANT_NUMBER, SALT};

/// ET's side and a merchant that trust each other's 1024-bit keys.
pub(crate) fn parties() -> (Arc<EtSide>, Merchant) {
    parties_with(Profile::default())
}

/// [`parties`], the merchant using `profile`.
pub(crate) fn parties_with(profile: Profile) -> (Arc<EtSide>, Merchant) {
    let parties = et_testkit::Parties::with_profiles(1024, profile, Profile::default());
    (Arc::new(parties.et), parties.merchant)
}

/// `request` as ET opens it from a merchant holding `key` (now, on the
/// wall clock); panics if it does not open.
pub(crate) fn open(
    et: &EtSide,
    key: &et_crypto::PublicKey,
    request: &Request<bytes::Bytes>,
) -> et_proto::OpenedRequest {
    et.open_request(
        request.body(),
        |_, _| Some(key.clone()),
        std::time::SystemTime::now(),
    )
    .unwrap()
}

/// How many times the client tried to connect, if `err` is that it could
/// not.
pub(crate) fn connect_attempts(err: &et_http::Error) -> Option<u32> {
    match err {
        et_http::Error::Transport(et_http::TransportError::Connect { attempts, .. }) => {
            Some(*attempts)
        }
        _ => None,
    }
}

/// A transport that tries each request once.
pub(crate) fn no_retry() -> et_http::TransportConfig {
    et_http::TransportConfig {
        retry: et_http::RetryPolicy::none(),
        ..et_http::TransportConfig::default()
    }
}

/// `merchant`'s client of an ET at `addr` (`http://ADDR/server`) that
/// tries each request once.
pub(crate) fn client_once(addr: SocketAddr, merchant: Merchant) -> et_http::Client {
    let endpoint = et_http::Endpoint::parse(&format!("http://{addr}/server")).unwrap();
    et_http::Client::with_config(endpoint, merchant, no_retry()).unwrap()
}

/// A notification body signed with [`SALT`]; values are raw JSON text.
pub(crate) fn signed_notification(fields: &[(&str, &str)]) -> Vec<u8> {
    let object = fields
        .iter()
        .map(|(k, v)| (*k, et_proto::UntypedValue::from_json(v).unwrap()))
        .collect();
    EtSide::sign_notification(SALT, object)
}

/// A payment notification for `order_id`, signed with [`SALT`].
pub(crate) fn payment(order_id: &str) -> Vec<u8> {
    signed_notification(&[
        ("order_id", &format!("{order_id:?}")),
        ("pay_result", "1"),
        ("pay_amount", "10000.00"),
        ("pay_datetime", r#""2024-12-01 10:00:00""#),
        ("extend_info", r#""""#),
    ])
}

/// The same notification as a form-urlencoded body.
pub(crate) fn as_form(json_body: &[u8]) -> String {
    let object = et_proto::UntypedObject::parse_json(json_body, Message::Notification).unwrap();
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (k, v) in object.iter() {
        form.append_pair(k, v.text());
    }
    form.finish()
}

/// A receiver verifying with [`SALT`] under the default profile.
pub(crate) fn verifier() -> et_proto::NotificationVerifier {
    et_proto::NotificationVerifier::new(SALT, Profile::default().notify_sign_rule)
}

/// Runs `serve` for `receiver` on a fresh port; send on the returned
/// channel to shut it down, then await the handle.
pub(crate) async fn start_receiver<H: et_http::NotificationHandler>(
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
pub(crate) async fn start_server<S, B>(
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
