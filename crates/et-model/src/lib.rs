//! EasyTransfer (易思汇) Open API constants and payload types: no crypto, no I/O.
//!
//! This crate's one job is to say, in Rust types, what ET's messages
//! contain: the code lists ([`OrderStatus`], [`AttachmentType`],
//! [`ReplyCode`], …), money ([`Amount`], decimal text that keeps its
//! scale), one request type per operation ([`CreateOrder`],
//! [`GetPayUrl`], …) with its result type and its placement in the
//! envelope ([`Operation`]), and the notifications ET posts back
//! ([`Notification`]). Readers are tolerant (codes read from `2` or `"2"`,
//! unknown codes and unknown fields are kept), writers are exact.
//!
//! Besides the seven operations of ET's English menu, two more are typed:
//! [`GetInstitutions`] (`get_institutions`, the call ET's Python demo
//! makes; it yields the `institution_code` an order takes) and
//! [`JumpPlaceOrder`] (`merchant_jump_place_order`, third-party jump
//! ordering from the Chinese pages). Neither result was ever published:
//! [`Institution`] and [`JumpAddress`] say which names are guesses. The
//! deprecated `merchant_pay_nofity` (sic) has no type; et-proto's untyped
//! `Merchant::build_untyped` sends it.
//!
//! Payload types are JSON types: read them with `serde_json::from_str` /
//! `from_slice` to keep every amount's exact text.
//!
//! # Map
//!
//! * **Operations**: [`Operation`] says where each request and result sit in
//!   the envelope and what a call does ([`Effect`]); one request type per
//!   operation: [`CreateOrder`], [`UploadAttachment`], [`GetPayUrl`],
//!   [`QueryOrders`], [`GetRate`], [`EstimateAmount`], [`ApplyRefund`],
//!   [`GetInstitutions`], [`JumpPlaceOrder`], each with its result
//!   ([`OrderCreated`], [`PayUrl`], [`OrderInfo`], …).
//! * **Notifications**: [`Notification`] and its four kinds
//!   ([`PaymentSuccess`], [`OrderStatusChange`], [`RemittanceVoucher`],
//!   [`RefundResultNotice`]), [`NotificationKind`].
//! * **Codes**: one enum per documented list, each keeping unknown codes
//!   ([`OrderStatus`], [`ReplyCode`], [`AttachmentType`], [`PayResult`],
//!   [`ServerType`], …); [`CountryCode`], [`CurrencyCode`].
//! * **Money and time**: [`Amount`] (exact decimal text), [`MAX_AMOUNT`],
//!   [`BeijingTime`].
//! * **Field rules**: [`Payload::validate`], [`FieldRule`], [`Rule`],
//!   [`ValidationError`]; the maxima in [`limits`].
//! * **Tolerance**: every struct keeps the keys it does not know in
//!   [`Extra`] ([`RawJson`], exact text).
//!
//! ```
//! use et_model::{Amount, CountryCode, CreateOrder, CurrencyCode, Operation, OrderCreated, Payload};
//!
//! let order = CreateOrder::new("M-1001", "user-42", CountryCode::Gbr,
//!                              CurrencyCode::new("GBP"), "10000.00".parse()?);
//! order.validate()?;
//! let (_data, sensitive) = order.parts(); // everything is sensitive for this one
//! let _json = serde_json::to_string(sensitive)?;
//!
//! let reply: OrderCreated = serde_json::from_str(
//!     r#"{"order_id":"ET1","pay_config_list":[],"tuition_rmb":91234.50,"counter_fee":0}"#)?;
//! assert_eq!(reply.tuition_rmb.map(|a| a.to_string()).as_deref(), Some("91234.50"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod wire;

mod amount;
mod attachment;
mod codes;
mod institutions;
mod jump;
pub mod limits;
mod notification;
mod ops;
mod order;
mod payload;
mod text_fields;
mod time;

pub use amount::{Amount, AmountError, Readable, MAX_AMOUNT};
pub use attachment::{AttachmentFormat, ATTACHMENT_MAX_BYTES};
pub use codes::{
    AttachmentType, CallbackProcess, CountryCode, CurrencyCode, FeeType, FundingSource, Gender,
    IdType, InstitutionType, NotifyType, OrderStatus, PayResult, PayType, PayerRelationship,
    PriceMode, RefundResult, ReplyCode, ServerType, UntypedCode, DEFAULT_DECIMAL_PLACES,
};
pub use institutions::{GetInstitutions, Institution, InstitutionCode};
pub use jump::{JumpAddress, JumpPlaceOrder};
pub use notification::{
    Notification, NotificationError, NotificationKind, OrderStatusChange, PaymentSuccess,
    RefundResultNotice, RemittanceVoucher,
};
pub use ops::{
    ApplyRefund, AttachmentUploaded, Estimate, EstimateAmount, GetPayUrl, GetRate, OrderInfo,
    PayUrl, QueryOrders, Rate, RefundAccepted, UploadAttachment,
};
pub use order::{CreateOrder, FeeItem, OrderCreated, PayConfig};
pub use payload::{Effect, NoPayload, Operation, Payload, Placement, Rule, ValidationError};
pub use rust_decimal::Decimal;
pub use time::BeijingTime;
pub use wire::{Extra, FieldRule, RawJson};
// JSON text helpers that exist for et-proto's envelope reader and writer:
// public only so that et-proto can share them, not part of the model's API.
#[doc(hidden)]
pub use wire::{json_number_len, push_json_string};
// serde, for what `name_enum!` expands to in other crates.
#[doc(hidden)]
pub use serde as __serde;

/// The one list of typed operations: calls `$callback!` with one line per
/// operation, `method: Request => Output,` (each line after its docs), in
/// the order ET's menu gives them.
///
/// Everything that must cover every operation expands from this list, so
/// an operation added here (one line, plus its types) reaches each of them,
/// and one a user of the list cannot handle is a compile error there:
/// et-http's `Client` methods, the sandbox's dispatch (a handler function
/// named `method`), the fuzz targets and the round-trip tests.
///
/// ```
/// macro_rules! server_types {
///     ($($(#[$doc:meta])* $method:ident: $op:ident => $output:ident,)*) => {
///         [$(<et_model::$op as et_model::Operation>::SERVER_TYPE),*]
///     };
/// }
/// let all = et_model::for_each_operation!(server_types);
/// assert_eq!(all[0].as_str(), "create_order");
/// assert_eq!(all.len(), 9);
/// ```
#[macro_export]
macro_rules! for_each_operation {
    ($callback:ident) => {
        $callback! {
            /// `create_order` (or `add_special_rent_order`, per profile):
            /// creates a tuition or rent order.
            create_order: CreateOrder => OrderCreated,
            /// Uploads an attachment to an order.
            upload_attachment: UploadAttachment => AttachmentUploaded,
            /// Gets the payment address of an order.
            get_pay_url: GetPayUrl => PayUrl,
            /// Queries orders in a batch.
            query_orders: QueryOrders => OrderInfo,
            /// Gets an exchange rate.
            get_rate: GetRate => Rate,
            /// Gets the estimated amount to pay.
            estimate_amount: EstimateAmount => Estimate,
            /// Applies for a refund.
            apply_refund: ApplyRefund => RefundAccepted,
            /// `get_institutions`: searches ET's institution directory, where
            /// the `institution_code` of [`CreateOrder`](et_model::CreateOrder)
            /// comes from. The answer's names besides the code are guesses
            /// (see [`Institution`](et_model::Institution)).
            get_institutions: GetInstitutions => Institution,
            /// `merchant_jump_place_order`: hands the student over to ET,
            /// which answers with the address to send them to (a guessed
            /// name, see [`JumpAddress`](et_model::JumpAddress)); the student
            /// places the order there.
            jump_place_order: JumpPlaceOrder => JumpAddress,
        }
    };
}

// The README's example runs as a doctest, so the crates.io page stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
