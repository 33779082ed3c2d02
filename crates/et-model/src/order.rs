//! The order interface: [`CreateOrder`] and its result [`OrderCreated`].

use crate::payload::{
    check_amounts, check_lens, check_required, AmountSign, LenRule, Operation, Payload, Placement,
    ValidationError, NO_PAYLOAD,
};
use crate::wire::wire_struct;
use crate::{
    Amount, CountryCode, CurrencyCode, FeeType, IdType, NoPayload, PayType, PriceMode, ServerType,
};

/// Longest URL ET accepts (`notify_url`, `back_jump_url`, …).
pub(crate) const URL_MAX: usize = 500;
/// Longest ET order id.
pub(crate) const ORDER_ID_MAX: usize = 30;
/// Longest merchant user key.
pub(crate) const USER_KEY_MAX: usize = 200;
/// Longest `merchant_order_id` (the order page and the jump page agree).
const MERCHANT_ORDER_ID_MAX: usize = 50;

/// The merchant's two ids, which both [`CreateOrder`] and
/// [`JumpPlaceOrder`](crate::JumpPlaceOrder) require.
pub(crate) fn merchant_ids<'a>(
    order_id: &'a str,
    user_key: &'a str,
) -> [(&'static str, &'a str); 2] {
    [
        ("merchant_order_id", order_id),
        ("merchant_user_key", user_key),
    ]
}

/// The length rules of the merchant's two ids.
pub(crate) fn merchant_id_lens<'a>(order_id: &'a str, user_key: &'a str) -> [LenRule<'a>; 2] {
    [
        ("merchant_order_id", Some(order_id), MERCHANT_ORDER_ID_MAX),
        ("merchant_user_key", Some(user_key), USER_KEY_MAX),
    ]
}

/// The length rules of the student fields [`CreateOrder`] and
/// [`JumpPlaceOrder`](crate::JumpPlaceOrder) share (same wire names, same
/// maxima), read from either.
macro_rules! student_lens {
    ($order:expr) => {
        [
            ("first_name_en", $order.first_name_en.as_deref(), 50),
            ("last_name_en", $order.last_name_en.as_deref(), 50),
            ("name_ch", $order.name_ch.as_deref(), 20),
            ("student_email", $order.student_email.as_deref(), 50),
            ("student_address", $order.student_address.as_deref(), 300),
            ("school_name", $order.school_name.as_deref(), 200),
            ("wechat_number", $order.wechat_number.as_deref(), 100),
        ]
    };
}
pub(crate) use student_lens;

/// The length rules of the lodging fields both share, read from either.
macro_rules! lodging_lens {
    ($order:expr) => {
        [
            ("apartment_name", $order.apartment_name.as_deref(), 200),
            ("city_name_en", $order.city_name_en.as_deref(), 200),
            ("city_name_ch", $order.city_name_ch.as_deref(), 200),
        ]
    };
}
pub(crate) use lodging_lens;

/// Validates each payment purpose, naming the bad one by its index.
pub(crate) fn check_fee_items(list: Option<&[FeeItem]>) -> Result<(), ValidationError> {
    list.into_iter()
        .flatten()
        .enumerate()
        .try_for_each(|(i, item)| item.validate().map_err(|e| e.within("fee_type_list", i)))
}

wire_struct! {
    /// Create an order (server_type `create_order`; older pages say
    /// `add_special_rent_order`). Every field goes, encrypted, in
    /// `sensitive_data`; `data` is `{}`.
    ///
    /// Fields: the 23 of the order page (03-operations.md §1.2), the fields
    /// the third-party jump-order page shows (`school_name`,
    /// `fee_type_list`, `wechat_number`, `apartment_name`, `city_name_*`),
    /// the notification URLs, and `status_change_notify_url` /
    /// `invoice_number` (V3.1.1). The page is cut off after
    /// `student_address`, so which fields ET requires is not public: the
    /// required ones here (`merchant_order_id`, `merchant_user_key`,
    /// `country_code`, `currency_code`, `tuituon`) are our choice. Put any
    /// other field in `extra`.
    ///
    /// ```
    /// use et_model::{Amount, CountryCode, CreateOrder, CurrencyCode, Payload};
    /// let order = CreateOrder {
    ///     name_ch: Some("张三".into()),
    ///     notify_url: Some("https://merchant.example/et/notify".into()),
    ///     ..CreateOrder::new("M-1001", "user-42", CountryCode::Gbr,
    ///                        CurrencyCode::new("GBP"), "10000.00".parse().unwrap())
    /// };
    /// order.validate().unwrap();
    /// let json = serde_json::to_string(&order).unwrap();
    /// assert!(json.contains(r#""tuituon":10000.00"#));
    /// ```
    pub struct CreateOrder {
        /// Institution (school) code.
        pub institution_code: Option<String> = "institution_code",
        /// Institution name, or apartment name.
        pub institution_name: Option<String> = "institution_name",
        /// The merchant's own order number (≤ 50 characters).
        pub merchant_order_id: String = "merchant_order_id",
        /// The merchant's unique key for the end user (≤ 200 characters).
        pub merchant_user_key: String = "merchant_user_key",
        /// Destination country (≤ 5 characters).
        pub country_code: CountryCode = "country_code",
        /// Order currency.
        pub currency_code: CurrencyCode = "currency_code",
        /// Source country of the payer (≤ 5 characters; presumed same list).
        pub source_country_code: Option<CountryCode> = "source_country_code",
        /// Pricing model (values not public).
        pub price_mode: Option<PriceMode> = "price_mode",
        /// Tuition in the order currency. ET spells the wire name `tuituon`.
        pub tuition: Amount = "tuituon",
        /// Currency the payer pays in.
        pub pay_currency_code: Option<CurrencyCode> = "pay_currency_code",
        /// Merchant service fee.
        pub merchant_service_fee: Option<Amount> = "merchant_service_fee",
        /// Currency of the merchant service fee.
        pub merchant_service_fee_currency_code: Option<CurrencyCode> = "merchant_service_fee_currency_code",
        /// Order tuition in the order currency (how it differs from `tuituon` is not public).
        pub order_tuition: Option<Amount> = "order_tuition",
        /// Student's given name in English (≤ 50 characters).
        pub first_name_en: Option<String> = "first_name_en",
        /// Student's middle name in English.
        pub middle_name_en: Option<String> = "middle_name_en",
        /// Student's family name in English (≤ 50 characters).
        pub last_name_en: Option<String> = "last_name_en",
        /// Student's Chinese name (≤ 20 characters).
        pub name_ch: Option<String> = "name_ch",
        /// Number of the student's ID document.
        pub student_id_number: Option<String> = "student_id_number",
        /// Type of the student's ID document.
        pub id_type: Option<IdType> = "id_type",
        /// Phone country code.
        pub student_tel_code: Option<String> = "student_tel_code",
        /// Mobile number.
        pub student_mobile: Option<String> = "student_mobile",
        /// Student e-mail (≤ 50 characters).
        pub student_email: Option<String> = "student_email",
        /// Student (payer) address (≤ 300 characters).
        pub student_address: Option<String> = "student_address",
        /// School name (≤ 200 characters).
        pub school_name: Option<String> = "school_name",
        /// Payment purposes.
        pub fee_type_list: Option<Vec<FeeItem>> = "fee_type_list",
        /// WeChat id (≤ 100 characters).
        pub wechat_number: Option<String> = "wechat_number",
        /// Apartment name (≤ 200 characters).
        pub apartment_name: Option<String> = "apartment_name",
        /// City name in English (≤ 200 characters).
        pub city_name_en: Option<String> = "city_name_en",
        /// City name in Chinese (≤ 200 characters).
        pub city_name_ch: Option<String> = "city_name_ch",
        /// Where ET posts the payment notification (≤ 500 characters).
        pub notify_url: Option<String> = "notify_url",
        /// Where the payer is sent back to (≤ 500 characters).
        pub back_jump_url: Option<String> = "back_jump_url",
        /// Where ET posts order-status-change notifications (≤ 500 characters; V3.1.1).
        pub status_change_notify_url: Option<String> = "status_change_notify_url",
        /// Invoice number (V3.1.1).
        pub invoice_number: Option<String> = "invoice_number",
    }
}

impl CreateOrder {
    /// An order with the required fields set and every optional one empty;
    /// fill the rest with struct-update syntax (`..CreateOrder::new(..)`).
    pub fn new(
        merchant_order_id: impl Into<String>,
        merchant_user_key: impl Into<String>,
        country_code: CountryCode,
        currency_code: CurrencyCode,
        tuition: Amount,
    ) -> Self {
        CreateOrder {
            institution_code: None,
            institution_name: None,
            merchant_order_id: merchant_order_id.into(),
            merchant_user_key: merchant_user_key.into(),
            country_code,
            currency_code,
            source_country_code: None,
            price_mode: None,
            tuition,
            pay_currency_code: None,
            merchant_service_fee: None,
            merchant_service_fee_currency_code: None,
            order_tuition: None,
            first_name_en: None,
            middle_name_en: None,
            last_name_en: None,
            name_ch: None,
            student_id_number: None,
            id_type: None,
            student_tel_code: None,
            student_mobile: None,
            student_email: None,
            student_address: None,
            school_name: None,
            fee_type_list: None,
            wechat_number: None,
            apartment_name: None,
            city_name_en: None,
            city_name_ch: None,
            notify_url: None,
            back_jump_url: None,
            status_change_notify_url: None,
            invoice_number: None,
            extra: Default::default(),
        }
    }
}

impl Payload for CreateOrder {
    fn validate(&self) -> Result<(), ValidationError> {
        let ids = (
            self.merchant_order_id.as_str(),
            self.merchant_user_key.as_str(),
        );
        check_required(merchant_ids(ids.0, ids.1).into_iter().chain([
            ("country_code", self.country_code.as_str()),
            ("currency_code", self.currency_code.as_str()),
        ]))?;
        let opt = Option::as_deref;
        check_lens(
            merchant_id_lens(ids.0, ids.1)
                .into_iter()
                .chain([
                    ("country_code", Some(self.country_code.as_str()), 5),
                    (
                        "source_country_code",
                        self.source_country_code.as_ref().map(CountryCode::as_str),
                        5,
                    ),
                ])
                .chain(student_lens!(self))
                .chain(lodging_lens!(self))
                .chain([
                    ("notify_url", opt(&self.notify_url), URL_MAX),
                    ("back_jump_url", opt(&self.back_jump_url), URL_MAX),
                    (
                        "status_change_notify_url",
                        opt(&self.status_change_notify_url),
                        URL_MAX,
                    ),
                ]),
        )?;
        check_amounts([
            ("tuituon", Some(&self.tuition), AmountSign::Positive),
            (
                "merchant_service_fee",
                self.merchant_service_fee.as_ref(),
                AmountSign::NonNegative,
            ),
            (
                "order_tuition",
                self.order_tuition.as_ref(),
                AmountSign::NonNegative,
            ),
        ])?;
        check_fee_items(self.fee_type_list.as_deref())
    }
}

impl Operation for CreateOrder {
    const SERVER_TYPE: ServerType = ServerType::CreateOrder;
    type Data = NoPayload;
    type Sensitive = CreateOrder;
    type Output = OrderCreated;
    const OUTPUT_IN: Placement = Placement::Data;
    fn parts(&self) -> (&NoPayload, &CreateOrder) {
        (NO_PAYLOAD, self)
    }
    fn from_parts(_: NoPayload, sensitive: CreateOrder) -> Self {
        sensitive
    }
}

wire_struct! {
    /// One payment purpose of an order (`fee_type_list` item). ET shows the
    /// list as "array of 2-property objects"; the property names
    /// `fee_type` / `fee_type_desc` are the ones we were given, the code
    /// table is not public.
    pub struct FeeItem {
        /// Payment-purpose code.
        pub fee_type: FeeType = "fee_type",
        /// Description of the purpose.
        pub fee_type_desc: String = "fee_type_desc",
    }
}

impl Payload for FeeItem {
    fn validate(&self) -> Result<(), ValidationError> {
        check_required([("fee_type_desc", self.fee_type_desc.as_str())])
    }
}

wire_struct! {
    /// The result of [`CreateOrder`]: one item of the response `data` list
    /// (seed `002_…`).
    pub struct OrderCreated {
        /// ET's order id.
        pub order_id: String = "order_id",
        /// One entry per way to pay (missing reads as empty).
        pub pay_config_list: Vec<PayConfig> = "pay_config_list",
        /// The order's amount in RMB.
        pub tuition_rmb: Option<Amount> = "tuition_rmb",
        /// The fee.
        pub counter_fee: Option<Amount> = "counter_fee",
    }
}

impl Payload for OrderCreated {}

wire_struct! {
    /// One way to pay an order (seed `002_…`). `appid` and `original_id`
    /// identify a WeChat mini-program when that is the way.
    pub struct PayConfig {
        /// The payment address.
        pub pay_url: String = "pay_url",
        /// The way to pay (values not public).
        pub pay_type: PayType = "pay_type",
        /// WeChat mini-program appid.
        pub appid: Option<String> = "appid",
        /// WeChat mini-program original id.
        pub original_id: Option<String> = "original_id",
    }
}

impl Payload for PayConfig {}
