//! A thin hyper transport for EasyTransfer (ET): it moves et-proto's bytes
//! over HTTPS and nothing more.
//!
//! * [`Client`] POSTs each operation's envelope (built and opened by
//!   [`et_proto::Merchant`]) over a pooled keep-alive rustls connection with
//!   bundled web PKI roots, connect and request timeouts, a response size
//!   limit and a retry policy that never re-sends a request ET may have
//!   received ([`RetryPolicy`]). Several instances of a service each use
//!   their own block of serial numbers ([`ClientConfig::instance`]).
//! * [`WebhookReceiver`] takes ET's notifications: a hyper service and a
//!   `tower_service::Service` that verifies each one with et-proto, hands it
//!   to the merchant's [`NotificationHandler`] (which must store each event
//!   with an atomic insert-if-absent on its dedup key: see the trait) and
//!   acknowledges only after the handler succeeded, within a deadline.
//!   [`serve_with`] runs it (or any other hyper service) with bounded
//!   connections, idle and header timeouts, and a bounded graceful shutdown
//!   ([`ServeConfig`]).
//! * [`RawClient`] is the `Client`'s transport without envelopes: bytes
//!   POSTed to one [`Endpoint`] and the answer handed back as it came, for
//!   tools that move messages they do not open (`et record`, `et notify send`).
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

#![cfg_attr(docsrs, feature(doc_cfg))]

mod added_keys;
mod body;
mod client;
mod endpoint;
mod error;
mod panic;
mod raw_client;
mod receiver;
mod rollover;
mod serve;
mod transport;

pub use body::{BodyError, BoxError};
pub use client::{Client, ClientConfig};
pub use endpoint::{Endpoint, EndpointError};
pub use error::Error;
pub use panic::{guarded, Panicked};
pub use raw_client::RawClient;
pub use receiver::{HandlerError, NotificationHandler, ReceiverConfig, WebhookReceiver};
pub use serve::{serve, serve_with, ServeConfig};
pub use transport::{
    plain_http_client, HttpReply, PlainHttpClient, RetryPolicy, TransportConfig, TransportError,
};

// The README's example runs as a doctest, so the crates.io page stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
