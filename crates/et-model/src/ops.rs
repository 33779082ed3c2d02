//! The six operations after order creation: attachment upload, payment
//! address, batch query, exchange rate, estimated amount and refund.

use std::borrow::Cow;

use crate::order::{ORDER_ID_MAX, URL_MAX, USER_KEY_MAX};
use crate::payload::{
    check_amounts, check_lens, check_required, AmountSign, Operation, Payload, Placement,
    ValidationError, NO_PAYLOAD,
};
use crate::wire::wire_struct;
use crate::{
    Amount, AttachmentType, CurrencyCode, NoPayload, OrderStatus, PayConfig, PriceMode, ServerType,
};

/// Implements [`Operation`] for a request whose fields all go in `data`.
macro_rules! operation {
    ($op:ident, $server:expr, $output:ty, out: $out:ident) => {
        impl Operation for $op {
            const SERVER_TYPE: ServerType = $server;
            type Data = $op;
            type Sensitive = NoPayload;
            type Output = $output;
            const OUTPUT_IN: Placement = Placement::$out;
            fn parts(&self) -> (&$op, &NoPayload) {
                (self, NO_PAYLOAD)
            }
            fn from_parts(data: $op, _: NoPayload) -> Self {
                data
            }
        }
    };
}
pub(crate) use operation;

wire_struct! {
    /// Upload a document for an order (server_type `upload_attachment`).
    /// Every field goes in `data`; `sensitive_data` is `{}`. The file is
    /// inline, Base64-encoded. ET accepts at most 5 files per type and
    /// order (the sandbox enforces that, not this type).
    pub struct UploadAttachment {
        /// ET order id the file belongs to (≤ 30 characters).
        pub order_id: String = "order_id",
        /// Kind of document.
        pub attachment_type: AttachmentType = "attachment_type",
        /// File content, standard Base64.
        pub base64: String = "base64",
        /// File name.
        pub file_name: String = "file_name",
    }
}

impl Payload for UploadAttachment {
    fn validate(&self) -> Result<(), ValidationError> {
        check_required([
            ("order_id", self.order_id.as_str()),
            ("base64", self.base64.as_str()),
            ("file_name", self.file_name.as_str()),
        ])?;
        check_lens([("order_id", Some(self.order_id.as_str()), ORDER_ID_MAX)])
    }
}

operation!(UploadAttachment, ServerType::UploadAttachment, AttachmentUploaded, out: Data);

wire_struct! {
    /// The result of [`UploadAttachment`]. ET's pages do not show it;
    /// `order_id` is our guess at an echo, everything else ET sends is kept
    /// in `extra`.
    #[derive(Default)]
    pub struct AttachmentUploaded {
        /// ET order id, if echoed.
        pub order_id: Option<String> = "order_id",
    }
}

impl Payload for AttachmentUploaded {}

wire_struct! {
    /// Get the payment address of an order awaiting payment (server_type
    /// `get_special_pay_url`). Every field goes in `data`. ET answers with
    /// status code `200003` when the order is not awaiting payment.
    pub struct GetPayUrl {
        /// ET order id (≤ 30 characters).
        pub order_id: String = "order_id",
        /// The merchant's unique key for the user (≤ 200 characters).
        pub merchant_user_key: Option<String> = "merchant_user_key",
        /// Where ET posts the payment notification (≤ 500 characters).
        pub notify_url: Option<String> = "notify_url",
        /// Redirect ("jump") address (≤ 500 characters).
        pub back_jump_url: Option<String> = "back_jump_url",
        /// Redirect page address (≤ 500 characters).
        pub back_page_url: Option<String> = "back_page_url",
        /// The merchant's WeChat mini-program appid (≤ 100 characters).
        pub appid: Option<String> = "appid",
    }
}

impl GetPayUrl {
    /// A request for `order_id` with every optional field empty.
    pub fn new(order_id: impl Into<String>) -> Self {
        GetPayUrl {
            order_id: order_id.into(),
            merchant_user_key: None,
            notify_url: None,
            back_jump_url: None,
            back_page_url: None,
            appid: None,
            extra: Default::default(),
        }
    }
}

impl Payload for GetPayUrl {
    fn validate(&self) -> Result<(), ValidationError> {
        check_required([("order_id", self.order_id.as_str())])?;
        let opt = Option::as_deref;
        check_lens([
            ("order_id", Some(self.order_id.as_str()), ORDER_ID_MAX),
            (
                "merchant_user_key",
                opt(&self.merchant_user_key),
                USER_KEY_MAX,
            ),
            ("notify_url", opt(&self.notify_url), URL_MAX),
            ("back_jump_url", opt(&self.back_jump_url), URL_MAX),
            ("back_page_url", opt(&self.back_page_url), URL_MAX),
            ("appid", opt(&self.appid), 100),
        ])
    }
}

operation!(GetPayUrl, ServerType::GetSpecialPayUrl, PayUrl, out: Data);

wire_struct! {
    /// The result of [`GetPayUrl`]. Not shown by ET; we infer it carries the
    /// same `pay_config_list` as the order result ([`OrderCreated`](crate::OrderCreated)).
    #[derive(Default)]
    pub struct PayUrl {
        /// ET order id, if echoed.
        pub order_id: Option<String> = "order_id",
        /// One entry per way to pay (missing reads as empty).
        pub pay_config_list: Vec<PayConfig> = "pay_config_list",
    }
}

impl Payload for PayUrl {}

wire_struct! {
    /// Query orders in a batch (server_type `batch_special_query_order_info`).
    /// The query goes in `data`; ET returns the orders entirely encrypted,
    /// in `sensitive_data`. The request fields are not public: the wire
    /// name `order_id_list` is our guess; add other fields through `extra`.
    #[derive(Default)]
    pub struct QueryOrders {
        /// ET order ids to look up (each ≤ 30 characters).
        pub order_ids: Vec<String> = "order_id_list",
    }
}

impl QueryOrders {
    /// A query for these ET order ids.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(order_ids: I) -> Self {
        QueryOrders {
            order_ids: order_ids.into_iter().map(Into::into).collect(),
            extra: Default::default(),
        }
    }
}

impl Payload for QueryOrders {
    fn validate(&self) -> Result<(), ValidationError> {
        self.order_ids.iter().enumerate().try_for_each(|(i, id)| {
            check_required([("order_id", id.as_str())])
                .and_then(|()| check_lens([("order_id", Some(id.as_str()), ORDER_ID_MAX)]))
                .map_err(|e| ValidationError::new(format!("order_id_list[{i}]"), e.rule))
        })
    }
}

operation!(QueryOrders, ServerType::BatchSpecialQueryOrderInfo, OrderInfo, out: Sensitive);

wire_struct! {
    /// One order of a [`QueryOrders`] answer. The response is not public:
    /// `order_id` and `order_status` are what the query exists for, the
    /// other names are borrowed from the order request and result; the rest
    /// is kept in `extra`.
    pub struct OrderInfo {
        /// ET order id.
        pub order_id: String = "order_id",
        /// The merchant's own order number.
        pub merchant_order_id: Option<String> = "merchant_order_id",
        /// Where the order is in its life.
        pub order_status: OrderStatus = "order_status",
        /// The order's amount in RMB.
        pub tuition_rmb: Option<Amount> = "tuition_rmb",
        /// The fee.
        pub counter_fee: Option<Amount> = "counter_fee",
        /// Order currency.
        pub currency_code: Option<CurrencyCode> = "currency_code",
        /// Tuition in the order currency (ET's spelling `tuituon`).
        pub tuition: Option<Amount> = "tuituon",
    }
}

impl Payload for OrderInfo {}

wire_struct! {
    /// Get an exchange rate (server_type `get_rate`; ET marks the page
    /// "Testing"). Request and response fields are not public: these names
    /// are our guess, the request goes in `data` (our choice; the page is
    /// silent) and the rest passes through `extra`.
    pub struct GetRate {
        /// The foreign currency.
        pub currency_code: CurrencyCode = "currency_code",
        /// The currency the payer pays in (RMB when absent, presumably).
        pub pay_currency_code: Option<CurrencyCode> = "pay_currency_code",
    }
}

impl Payload for GetRate {
    fn validate(&self) -> Result<(), ValidationError> {
        check_required([("currency_code", self.currency_code.as_str())])
    }
}

operation!(GetRate, ServerType::GetRate, Rate, out: Data);

wire_struct! {
    /// The result of [`GetRate`] (not public; names are our guess).
    pub struct Rate {
        /// The foreign currency.
        pub currency_code: CurrencyCode = "currency_code",
        /// The rate, as decimal text.
        pub rate: Amount = "rate",
    }
}

impl Payload for Rate {}

wire_struct! {
    /// Obtain an estimated amount. Nothing of this operation is public: the
    /// server_type `get_estimated_amount` and every field name are our
    /// guess (et-proto's `Profile` can override the server type), the
    /// request goes in `data` (our choice), and the rest passes through `extra`.
    pub struct EstimateAmount {
        /// The order currency.
        pub currency_code: CurrencyCode = "currency_code",
        /// The amount in the order currency.
        pub amount: Amount = "amount",
        /// Pricing model.
        pub price_mode: Option<PriceMode> = "price_mode",
    }
}

impl Payload for EstimateAmount {
    fn validate(&self) -> Result<(), ValidationError> {
        check_required([("currency_code", self.currency_code.as_str())])?;
        check_amounts([("amount", Some(&self.amount), AmountSign::Positive)])
    }
}

operation!(
    EstimateAmount,
    ServerType::Other(Cow::Borrowed("get_estimated_amount")),
    Estimate,
    out: Data
);

wire_struct! {
    /// The result of [`EstimateAmount`] (not public; names follow the order
    /// result where they can).
    pub struct Estimate {
        /// The amount in RMB.
        pub tuition_rmb: Amount = "tuition_rmb",
        /// The fee.
        pub counter_fee: Amount = "counter_fee",
        /// Amount plus fee, in RMB.
        pub total_rmb: Option<Amount> = "total_rmb",
        /// The exchange rate used.
        pub rate: Option<Amount> = "rate",
    }
}

impl Payload for Estimate {}

wire_struct! {
    /// Apply for a refund. Not public: the server_type `apply_refund` and
    /// the request names are our guess (the names come from the refund
    /// result notification; et-proto's `Profile` can override the server
    /// type), the request goes in `data` (our choice). ET's "refund modes"
    /// are not public either; pass a mode selector through `extra`.
    pub struct ApplyRefund {
        /// ET order id (≤ 30 characters).
        pub order_id: String = "order_id",
        /// The merchant's refund id.
        pub refund_order_id: String = "refund_order_id",
        /// Amount to refund (the whole order when absent, presumably).
        pub refund_amount: Option<Amount> = "refund_amount",
        /// Why.
        pub refund_reason: Option<String> = "refund_reason",
    }
}

impl Payload for ApplyRefund {
    fn validate(&self) -> Result<(), ValidationError> {
        check_required([
            ("order_id", self.order_id.as_str()),
            ("refund_order_id", self.refund_order_id.as_str()),
        ])?;
        check_lens([("order_id", Some(self.order_id.as_str()), ORDER_ID_MAX)])?;
        check_amounts([(
            "refund_amount",
            self.refund_amount.as_ref(),
            AmountSign::Positive,
        )])
    }
}

operation!(
    ApplyRefund,
    ServerType::Other(Cow::Borrowed("apply_refund")),
    RefundAccepted,
    out: Data
);

wire_struct! {
    /// The result of [`ApplyRefund`] (not public; the outcome arrives later
    /// as a [`RefundResultNotice`](crate::RefundResultNotice) notification).
    #[derive(Default)]
    pub struct RefundAccepted {
        /// ET order id, if echoed.
        pub order_id: Option<String> = "order_id",
        /// The merchant's refund id, if echoed.
        pub refund_order_id: Option<String> = "refund_order_id",
    }
}

impl Payload for RefundAccepted {}
