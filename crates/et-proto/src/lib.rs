//! Sans-I/O EasyTransfer protocol: request builders, response openers and
//! notification verifiers, for both directions.
//!
//! This crate's one job is turning typed payloads ([`et_model`]) into signed,
//! encrypted envelope bytes and envelope bytes back into typed results, using
//! [`et_crypto`]. It does no I/O — bytes in, bytes out — so every step can be
//! fuzzed, benchmarked and driven by any transport. It reads no clock it
//! was not given and never sleeps: whatever depends on the time (a serial
//! number, whether a rollover key or salt is still accepted) takes `now`
//! from the caller. It serves the merchant
//! ([`Merchant`]: build requests, open responses; [`NotificationVerifier`])
//! and ET's side ([`EtSide`]: open requests, build responses, sign
//! notifications) with one implementation of each step. Every choice ET's
//! pages leave open is a field of [`Profile`].
//!
//! A valid signature is not the end of the checks: ET's sign string
//! (`k=v&k=v…`, unescaped) can be read as several objects, so a verified
//! response or notification is believed only in ET's documented shape —
//! the one reading ET could have signed ([`Error::Shape`], [`ShapeRule`];
//! SECURITY.md gives the argument). Each request carries a fresh random
//! `return_info` that the reply must echo.
//!
//! # Map
//!
//! * **Merchant side**: [`Merchant`] builds requests ([`BuiltRequest`]) and
//!   opens replies ([`Reply`], [`UntypedReply`]) with [`Credentials`];
//!   [`SerialNumbers`] and [`Instance`] make serial numbers.
//! * **Notifications**: [`NotificationVerifier`] verifies a body into a
//!   [`NotificationView`] or [`VerifiedNotification`], whose
//!   `acknowledgement()` is the reply ET expects ([`ACK_OK`],
//!   [`refund_acknowledgement`]).
//! * **ET's side** (the sandbox, tests): [`EtSide`] opens requests
//!   ([`OpenedRequest`]), answers ([`Response`]) and signs notifications
//!   ([`sign_notification`]).
//! * **Choices ET leaves open**: [`Profile`] and its settings
//!   ([`SignRule`], [`NotifySignRule`], [`NotifyEncoding`], …); profile files
//!   ([`Profile::from_json`]); [`detect`] finds the profile a captured
//!   message verifies under.
//! * **Untyped messages**: [`UntypedObject`] (the tolerant reader keeping
//!   each value's wire text), [`sign_string`], [`validate_untyped`].
//! * **Errors**: [`Error`] with typed causes ([`Message`], [`CryptoStep`],
//!   [`DecryptionStep`], [`PayloadFault`], [`ShapeRule`]).
//!
//! ```
//! use std::time::SystemTime;
//!
//! use et_crypto::PrivateKey;
//! use et_model::GetPayUrl;
//! use et_proto::{Credentials, EtSide, Merchant, Profile, Response};
//!
//! # let merchant_pem = PrivateKey::generate(1024)?.to_pkcs8_pem()?;
//! # let et_pem = PrivateKey::generate(1024)?.to_pkcs8_pem()?;
//! # let (merchant_pem, et_pem) = (merchant_pem.as_bytes(), et_pem.as_bytes());
//! let merchant_key = PrivateKey::load(merchant_pem)?;
//! let merchant_public = merchant_key.public_key().clone();
//! let et = EtSide::new(
//!     PrivateKey::load(et_pem)?,
//!     Profile::default(),
//! );
//! let merchant = Merchant::new(
//!     Credentials::new("ET82009", "ET82009S001", merchant_key, et.public_key().clone(), "salt"),
//!     Profile::default(),
//! );
//!
//! // Merchant → ET.
//! // The caller reads the clock: this crate reads none.
//! let now = SystemTime::now();
//! let request = merchant.build(&GetPayUrl::new("ET20231204000001"), now)?;
//! let opened = et.open_request(&request.body, |_, _| Some(merchant_public.clone()), now)?;
//! let op: GetPayUrl = opened.operation()?;
//! assert_eq!(op.order_id, "ET20231204000001");
//!
//! // ET → merchant.
//! let body = et.respond(&merchant_public, &Response::success(&opened))?;
//! let reply = merchant.open::<GetPayUrl>(&request, &body, now)?;
//! assert!(reply.items.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod detect;
mod envelope;
mod error;
mod et_side;
mod fields;
pub mod fuzzing;
mod merchant;
mod multipart;
mod notification;
mod profile;
mod raw;
mod rollover;
mod serial;
mod shape;
mod sign;
mod untyped;

pub use error::{CryptoStep, DecryptionStep, Error, Input, JsonError, Message, PayloadFault};
pub use et_side::{EtSide, OpenedRequest, Response};
pub use fields::NotificationFields;
pub use merchant::{
    BuiltRequest, Credentials, Merchant, Reply, RequestOptions, UntypedReply, CONTENT_TYPE,
    PRODUCTION_ENDPOINT, TEST_ENDPOINT,
};
pub use notification::{
    read_notification_body, refund_acknowledgement, sign_notification, sign_notification_by,
    sniffs_as_json, MatchedRule, NotificationVerifier, NotificationView, VerifiedNotification,
    ACK_FAIL, ACK_OK,
};
pub use profile::{
    CallbackEncoding, EmptySensitive, NotifyEncoding, NotifySignRule, Profile, ProfileFileError,
    SettingName, TuitionSpelling,
};
pub use raw::{UntypedObject, UntypedValue, UntypedValueRef, ValueKind};
pub use rollover::{Accepted, VerifiedBy, CURRENT};
pub use serial::{format_serial, Instance, InvalidInstance, SerialNumbers, SerialsExhausted};
pub use shape::ShapeRule;
pub use sign::{sign_string, sign_string_with, v1_printed_string, SignRule, SIGN_KEY};
pub use untyped::validate_untyped;

// The README's example runs as a doctest, so the crates.io page stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
