//! The six operations after order creation: attachment upload, payment
//! address, batch query, exchange rate, estimated amount and refund.

use std::borrow::Cow;

use crate::limits::{ORDER_ID_MAX, URL_MAX, USER_KEY_MAX, WECHAT_ID_MAX};
use crate::wire::wire_struct;
use crate::{Amount, AttachmentType, CurrencyCode, OrderStatus, PayConfig, PriceMode, ServerType};

/// Implements [`Operation`] for a request whose fields all go in `data`, or
/// (`sensitive` first) all in `sensitive_data`; the other part is empty.
macro_rules! operation {
    (sensitive $op:ident, $($rest:tt)*) => {
        $crate::ops::operation!(@impl $op [$crate::NoPayload, $op] in_sensitive, $($rest)*);
    };
    ($op:ident, $($rest:tt)*) => {
        $crate::ops::operation!(@impl $op [$op, $crate::NoPayload] in_data, $($rest)*);
    };
    (@impl $op:ident [$data:ty, $sensitive:ty] $side:ident,
        $server:expr, $output:ty, out: $out:ident, $effect:ident $(,)?
    ) => {
        impl $crate::payload::Operation for $op {
            const SERVER_TYPE: $crate::ServerType = $server;
            const EFFECT: $crate::Effect = $crate::Effect::$effect;
            type Data = $data;
            type Sensitive = $sensitive;
            type Output = $output;
            const OUTPUT_IN: $crate::payload::Placement = $crate::payload::Placement::$out;
            fn parts(&self) -> (&$data, &$sensitive) {
                $crate::ops::$side::parts(self)
            }
            fn from_parts(data: $data, sensitive: $sensitive) -> Self {
                $crate::ops::$side::whole(data, sensitive)
            }
        }
    };
}
pub(crate) use operation;

/// An operation whose request is all `data`.
pub(crate) mod in_data {
    use crate::payload::NO_PAYLOAD;
    use crate::NoPayload;

    pub(crate) fn parts<T>(op: &T) -> (&T, &NoPayload) {
        (op, NO_PAYLOAD)
    }
    pub(crate) fn whole<T>(data: T, _: NoPayload) -> T {
        data
    }
}

/// An operation whose request is all `sensitive_data`.
pub(crate) mod in_sensitive {
    use crate::payload::NO_PAYLOAD;
    use crate::NoPayload;

    pub(crate) fn parts<T>(op: &T) -> (&NoPayload, &T) {
        (NO_PAYLOAD, op)
    }
    pub(crate) fn whole<T>(_: NoPayload, sensitive: T) -> T {
        sensitive
    }
}

wire_struct! {
    /// Upload a document for an order (server_type `upload_attachment`).
    /// Every field goes in `data`; `sensitive_data` is `{}`. The file is
    /// inline, Base64-encoded. ET accepts at most 5 files per type and
    /// order (the sandbox enforces that, not this type).
    pub struct UploadAttachment {
        /// ET order id the file belongs to.
        pub order_id: String = "order_id" required [max(ORDER_ID_MAX)],
        /// Kind of document.
        pub attachment_type: AttachmentType = "attachment_type",
        /// File content, standard Base64.
        pub base64: String = "base64" required,
        /// File name.
        pub file_name: String = "file_name" required,
    }
}

operation!(UploadAttachment, ServerType::UploadAttachment, AttachmentUploaded, out: Data, Creates);

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

wire_struct! {
    /// Get the payment address of an order awaiting payment (server_type
    /// `get_special_pay_url`). Every field goes in `data`. ET answers with
    /// status code `200003` when the order is not awaiting payment.
    pub struct GetPayUrl {
        /// ET order id.
        pub order_id: String = "order_id" required [max(ORDER_ID_MAX)],
        /// The merchant's unique key for the user.
        pub merchant_user_key: Option<String> = "merchant_user_key" [max(USER_KEY_MAX)],
        /// Where ET posts the payment notification.
        pub notify_url: Option<String> = "notify_url" [max(URL_MAX)],
        /// Redirect ("jump") address.
        pub back_jump_url: Option<String> = "back_jump_url" [max(URL_MAX)],
        /// Redirect page address.
        pub back_page_url: Option<String> = "back_page_url" [max(URL_MAX)],
        /// The merchant's WeChat mini-program appid.
        pub appid: Option<String> = "appid" [max(WECHAT_ID_MAX)],
    }

    /// A request for `order_id` with every optional field empty.
    pub fn new;
}

operation!(GetPayUrl, ServerType::GetSpecialPayUrl, PayUrl, out: Data, Idempotent);

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

wire_struct! {
    /// Query orders in a batch (server_type `batch_special_query_order_info`).
    /// The query goes in `data`; ET returns the orders entirely encrypted,
    /// in `sensitive_data`. The request fields are not public: the wire
    /// name `order_id_list` is our guess; add other fields through `extra`.
    #[derive(Default)]
    pub struct QueryOrders {
        /// ET order ids to look up; an error names the bad one by position.
        pub order_ids: Vec<String> = "order_id_list" required [max(ORDER_ID_MAX)],
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

operation!(QueryOrders, ServerType::BatchSpecialQueryOrderInfo, OrderInfo, out: Sensitive, ReadOnly);

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
        /// Tuition in the order currency (ET's spelling `tuituon`; the
        /// jump-order page's `tuition` is read too).
        pub tuition: Option<Amount> = "tuituon" | "tuition",
    }
}

wire_struct! {
    /// Get an exchange rate (server_type `get_rate`; ET marks the page
    /// "Testing"). Request and response fields are not public: these names
    /// are our guess, the request goes in `data` (our choice; the page is
    /// silent) and the rest passes through `extra`.
    pub struct GetRate {
        /// The foreign currency.
        pub currency_code: CurrencyCode = "currency_code" required,
        /// The currency the payer pays in (RMB when absent, presumably).
        pub pay_currency_code: Option<CurrencyCode> = "pay_currency_code",
    }
}

operation!(GetRate, ServerType::GetRate, Rate, out: Data, ReadOnly);

wire_struct! {
    /// The result of [`GetRate`] (not public; names are our guess).
    pub struct Rate {
        /// The foreign currency.
        pub currency_code: CurrencyCode = "currency_code",
        /// The rate, as decimal text.
        pub rate: Amount = "rate",
    }
}

wire_struct! {
    /// Obtain an estimated amount. Nothing of this operation is public: the
    /// server_type `get_estimated_amount` and every field name are our
    /// guess (et-proto's `Profile` can override the server type), the
    /// request goes in `data` (our choice), and the rest passes through `extra`.
    pub struct EstimateAmount {
        /// The order currency.
        pub currency_code: CurrencyCode = "currency_code" required,
        /// The amount in the order currency.
        pub amount: Amount = "amount" [positive],
        /// Pricing model.
        pub price_mode: Option<PriceMode> = "price_mode",
    }
}

operation!(
    EstimateAmount,
    ServerType::Other(Cow::Borrowed("get_estimated_amount")),
    Estimate,
    out: Data,
    ReadOnly
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

wire_struct! {
    /// Apply for a refund. Not public: the server_type `apply_refund` and
    /// the request names are our guess (the names come from the refund
    /// result notification; et-proto's `Profile` can override the server
    /// type), the request goes in `data` (our choice). ET's "refund modes"
    /// are not public either; pass a mode selector through `extra`.
    pub struct ApplyRefund {
        /// ET order id.
        pub order_id: String = "order_id" required [max(ORDER_ID_MAX)],
        /// The merchant's refund id.
        pub refund_order_id: String = "refund_order_id" required,
        /// Amount to refund (the whole order when absent, presumably).
        pub refund_amount: Option<Amount> = "refund_amount" [positive],
        /// Why.
        pub refund_reason: Option<String> = "refund_reason",
    }
}

operation!(
    ApplyRefund,
    ServerType::Other(Cow::Borrowed("apply_refund")),
    RefundAccepted,
    out: Data,
    Creates
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
