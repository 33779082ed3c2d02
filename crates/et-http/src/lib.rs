//! A thin hyper transport for EasyTransfer (ET): a [`Client`] that calls ET,
//! and a [`WebhookReceiver`] that takes ET's notifications, served by
//! [`serve`]. It moves et-proto's bytes over HTTPS and nothing more.
//!
//! # Calling ET
//!
//! [`Client`] has one method per operation ([`Client::create_order`],
//! [`Client::get_pay_url`], [`Client::query_orders`], …). Each builds the
//! envelope with [`et_proto::Merchant`], POSTs it over a pooled keep-alive
//! rustls connection, verifies ET's signature and decrypts the answer.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use et_crypto::{PrivateKey, PublicKey};
//! use et_http::{Client, Endpoint};
//! use et_model::{CountryCode, CreateOrder, CurrencyCode};
//! use et_proto::{Credentials, Profile};
//!
//! let credentials = Credentials::new(
//!     "ET82009",
//!     "ET82009S001",
//!     PrivateKey::load(&std::fs::read("merchant-private.pem")?)?,
//!     PublicKey::load(&std::fs::read("et-public.pem")?)?,
//!     std::fs::read_to_string("salt.txt")?,
//! );
//! // Endpoint::test() is ET's joint-testing environment; plain http is for
//! // a local sandbox only.
//! let client = Client::new(Endpoint::parse("http://127.0.0.1:8877/server")?, credentials, Profile::default())?;
//! let mut order = CreateOrder::new("M-1001", "student-42", CountryCode::Gbr,
//!                                  CurrencyCode::new("GBP"), "10000.00".parse()?);
//! order.notify_url = Some("https://merchant.example/et/notify".into());
//! let reply = client.create_order(&order).await?;
//! println!("{} → {}", reply.items[0].order_id, reply.items[0].pay_config_list[0].pay_url);
//! # Ok(())
//! # }
//! ```
//!
//! A request that may have reached ET is never re-sent automatically, since
//! ET could create a second order ([`Error::may_have_reached_et`]); a failure
//! before the connection was made is retried with the same bytes
//! ([`RetryPolicy`]). Several instances of a service each use their own block
//! of serial numbers ([`ClientConfig::instance`]).
//!
//! # Receiving notifications
//!
//! [`WebhookReceiver`] verifies each notification with et-proto, hands it to
//! your [`NotificationHandler`] and answers ET's acknowledgement only after
//! the handler returned `Ok` (the handler must store the event with an atomic
//! insert-if-absent on its dedup key: see the trait). [`serve`] runs it with
//! bounded connections, idle and header timeouts and a bounded graceful
//! shutdown ([`serve_with`], [`ServeConfig`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use et_http::{HandlerError, WebhookReceiver};
//! use et_proto::{NotificationVerifier, Profile, VerifiedNotification};
//!
//! let salt = std::fs::read_to_string("salt.txt")?;
//! let verifier = NotificationVerifier::new(salt, Profile::default().notify_sign_rule);
//! let receiver = WebhookReceiver::new(verifier, |n: VerifiedNotification| async move {
//!     println!("store {} before acknowledging", n.dedup_key());
//!     Ok::<(), HandlerError>(())
//! });
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! et_http::serve(listener, receiver, async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await;
//! # Ok(())
//! # }
//! ```
//!
//! # The receiver in-process
//!
//! The receiver is also a `tower_service::Service`, so it mounts in axum or
//! any tower stack, and a test can drive it without a socket:
//!
//! ```
//! use bytes::Bytes;
//! use et_http::{Endpoint, WebhookReceiver};
//! use et_proto::{NotificationVerifier, Profile, VerifiedNotification, ACK_OK};
//! use http_body_util::{BodyExt, Full};
//! use tower_service::Service;
//!
//! // Plain http is for the local sandbox only.
//! assert!(Endpoint::parse("http://127.0.0.1:8877/server").is_ok());
//! assert!(Endpoint::parse("http://example.com/server").is_err());
//!
//! // ET's documented notification example, salt `abc123`.
//! let body = r#"{"order_id":"ETxxxxxxxxxxxx01","pay_result":1,"pay_amount":10000.00,
//!     "pay_datetime":"2024-12-01 10:00:00","extend_info":"",
//!     "sign":"652614570bcc49940d7dcc7a3c3dc7e5"}"#;
//! let verifier = NotificationVerifier::new("abc123", Profile::default().notify_sign_rule);
//! let mut receiver = WebhookReceiver::new(verifier, |n: VerifiedNotification| async move {
//!     println!("store {} before acknowledging", n.dedup_key());
//!     Ok::<(), et_http::HandlerError>(())
//! });
//!
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! let answer = runtime.block_on(async {
//!     let request = http::Request::post("/notify")
//!         .header("content-type", "application/json")
//!         .body(Full::new(Bytes::from(body)))?;
//!     let response = receiver.call(request).await?;
//!     Ok::<_, Box<dyn std::error::Error>>(response.into_body().collect().await?.to_bytes())
//! })?;
//! assert_eq!(&answer[..], ACK_OK);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Without envelopes
//!
//! [`RawClient`] is the `Client`'s transport alone: bytes POSTed to one
//! [`Endpoint`] and the answer handed back as it came, for tools that move
//! messages they do not open (`et record`, `et notify send`).

#![cfg_attr(docsrs, feature(doc_cfg))]

mod added_keys;
mod body;
mod client;
mod endpoint;
mod error;
mod files;
pub mod measure;
mod panic;
mod proxy;
mod raw_client;
mod receiver;
mod rollover;
mod serve;
mod transport;

pub use body::{BodyError, BoxError, SendBody};
pub use client::{Client, ClientConfig};
pub use endpoint::{Endpoint, EndpointError};
pub use error::Error;
pub use files::{
    AttachmentFileError, UploadAttachmentFromFile, VoucherDownloader, VoucherError, VoucherLimits,
};
pub use panic::{guarded, Panicked};
pub use proxy::{Proxy, ProxyError};
pub use raw_client::RawClient;
pub use receiver::{
    unsigned_trailing_whitespace, HandlerError, NotificationHandler, ReceiverConfig,
    WebhookReceiver,
};
pub use serve::{serve, serve_tls_with, serve_with, Servable, ServeConfig};
pub use transport::{
    plain_http_client, HttpReply, HttpsClient, PlainHttpClient, RetryPolicy, TransportConfig,
    TransportError,
};

// The README's example runs as a doctest, so the crates.io page stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
