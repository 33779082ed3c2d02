//! The order interface: [`CreateOrder`] and its result [`OrderCreated`].

use crate::limits::{
    ADDRESS_MAX, CHINESE_NAME_MAX, COUNTRY_CODE_MAX, EMAIL_MAX, ENGLISH_NAME_MAX,
    MERCHANT_ORDER_ID_MAX, PLACE_NAME_MAX, URL_MAX, USER_KEY_MAX, WECHAT_ID_MAX,
};
use crate::ops::operation;
use crate::wire::wire_struct;
use crate::{Amount, CountryCode, CurrencyCode, FeeType, IdType, PayType, PriceMode, ServerType};

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
        /// The merchant's own order number.
        pub merchant_order_id: String = "merchant_order_id" required [max(MERCHANT_ORDER_ID_MAX)],
        /// The merchant's unique key for the end user.
        pub merchant_user_key: String = "merchant_user_key" required [max(USER_KEY_MAX)],
        /// Destination country.
        pub country_code: CountryCode = "country_code" required [max(COUNTRY_CODE_MAX)],
        /// Order currency.
        pub currency_code: CurrencyCode = "currency_code" required,
        /// Source country of the payer (presumed same list).
        pub source_country_code: Option<CountryCode> = "source_country_code" [max(COUNTRY_CODE_MAX)],
        /// Pricing model (values not public).
        pub price_mode: Option<PriceMode> = "price_mode",
        /// Tuition in the order currency. ET's create-order field list
        /// spells the wire name `tuituon`; its jump-order page spells the
        /// same amount `tuition`. Both are read; et-proto's
        /// `Profile::tuition_spelling` says which a request writes.
        pub tuition: Amount = "tuituon" | "tuition" new [positive],
        /// Currency the payer pays in.
        pub pay_currency_code: Option<CurrencyCode> = "pay_currency_code",
        /// Merchant service fee.
        pub merchant_service_fee: Option<Amount> = "merchant_service_fee" [non_negative, currency("merchant_service_fee_currency_code")],
        /// Currency of the merchant service fee.
        pub merchant_service_fee_currency_code: Option<CurrencyCode> = "merchant_service_fee_currency_code",
        /// Order tuition in the order currency (how it differs from `tuituon` is not public).
        pub order_tuition: Option<Amount> = "order_tuition" [non_negative],
        /// Student's given name in English.
        pub first_name_en: Option<String> = "first_name_en" [max(ENGLISH_NAME_MAX)],
        /// Student's middle name in English.
        pub middle_name_en: Option<String> = "middle_name_en",
        /// Student's family name in English.
        pub last_name_en: Option<String> = "last_name_en" [max(ENGLISH_NAME_MAX)],
        /// Student's Chinese name.
        pub name_ch: Option<String> = "name_ch" [max(CHINESE_NAME_MAX)],
        /// Number of the student's ID document.
        pub student_id_number: Option<String> = "student_id_number",
        /// Type of the student's ID document.
        pub id_type: Option<IdType> = "id_type",
        /// Phone country code.
        pub student_tel_code: Option<String> = "student_tel_code",
        /// Mobile number.
        pub student_mobile: Option<String> = "student_mobile",
        /// Student e-mail.
        pub student_email: Option<String> = "student_email" [max(EMAIL_MAX)],
        /// Student (payer) address.
        pub student_address: Option<String> = "student_address" [max(ADDRESS_MAX)],
        /// School name.
        pub school_name: Option<String> = "school_name" [max(PLACE_NAME_MAX)],
        /// Payment purposes.
        pub fee_type_list: Option<Vec<FeeItem>> = "fee_type_list" [items],
        /// WeChat id.
        pub wechat_number: Option<String> = "wechat_number" [max(WECHAT_ID_MAX)],
        /// Apartment name.
        pub apartment_name: Option<String> = "apartment_name" [max(PLACE_NAME_MAX)],
        /// City name in English.
        pub city_name_en: Option<String> = "city_name_en" [max(PLACE_NAME_MAX)],
        /// City name in Chinese.
        pub city_name_ch: Option<String> = "city_name_ch" [max(PLACE_NAME_MAX)],
        /// Where ET posts the payment notification.
        pub notify_url: Option<String> = "notify_url" [max(URL_MAX)],
        /// Where the payer is sent back to.
        pub back_jump_url: Option<String> = "back_jump_url" [max(URL_MAX)],
        /// Where ET posts order-status-change notifications (V3.1.1).
        pub status_change_notify_url: Option<String> = "status_change_notify_url" [max(URL_MAX)],
        /// Invoice number (V3.1.1).
        pub invoice_number: Option<String> = "invoice_number",
    }

    /// An order with the required fields set and every optional one empty;
    /// fill the rest with struct-update syntax (`..CreateOrder::new(..)`).
    pub fn new;
}

operation!(sensitive CreateOrder, ServerType::CreateOrder, OrderCreated, out: Data, Creates);

wire_struct! {
    /// One payment purpose of an order (`fee_type_list` item). ET shows the
    /// list as "array of 2-property objects"; the property names
    /// `fee_type` / `fee_type_desc` are the ones we were given, the code
    /// table is not public.
    pub struct FeeItem {
        /// Payment-purpose code.
        pub fee_type: FeeType = "fee_type",
        /// Description of the purpose.
        pub fee_type_desc: String = "fee_type_desc" required,
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
