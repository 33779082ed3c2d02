//! Third-party jump ordering (第三方跳转下单接口, zh/api-150664122):
//! [`JumpPlaceOrder`] and its result [`JumpAddress`].
//!
//! Instead of creating the order itself, the merchant sends ET what it
//! already knows about the student; ET answers with an address, the
//! merchant sends the student there, and the student completes the order
//! at ET. From then on it is an ordinary order: its notifications go to
//! `status_change_notify_url`.

use crate::limits::{
    ADDRESS_MAX, CHINESE_NAME_MAX, EMAIL_MAX, ENGLISH_NAME_MAX, MERCHANT_ORDER_ID_MAX,
    PLACE_NAME_MAX, URL_MAX, USER_KEY_MAX, WECHAT_ID_MAX,
};
use crate::ops::operation;
use crate::wire::wire_struct;
use crate::{Amount, FeeItem, ServerType};

wire_struct! {
    /// Send the student to ET to place the order there (server_type
    /// `merchant_jump_place_order`). `data` is `{}`; every field goes,
    /// encrypted, in `sensitive_data`. Fields and maximum lengths are the
    /// Chinese page's (03-operations.md §9.2); the page prints no required
    /// flags, so requiring `merchant_order_id` and `merchant_user_key` (what
    /// ties the order back to the merchant) is our choice. The page gives
    /// no currency: the student chooses it at ET.
    ///
    /// ```
    /// use et_model::{JumpPlaceOrder, Payload};
    /// let jump = JumpPlaceOrder {
    ///     school_name: Some("University of Oxford".into()),
    ///     ..JumpPlaceOrder::new("M-1002", "user-42")
    /// };
    /// jump.validate().unwrap();
    /// ```
    pub struct JumpPlaceOrder {
        /// Apartment name.
        pub apartment_name: Option<String> = "apartment_name" [max(PLACE_NAME_MAX)],
        /// City name in English.
        pub city_name_en: Option<String> = "city_name_en" [max(PLACE_NAME_MAX)],
        /// City name in Chinese.
        pub city_name_ch: Option<String> = "city_name_ch" [max(PLACE_NAME_MAX)],
        /// The merchant's own order number.
        pub merchant_order_id: String = "merchant_order_id" required [max(MERCHANT_ORDER_ID_MAX)],
        /// The merchant's unique key for the student.
        pub merchant_user_key: String = "merchant_user_key" required [max(USER_KEY_MAX)],
        /// Total amount, in the foreign currency (the page's words). The
        /// student picks the currency at ET, so here it may have at most
        /// [`DEFAULT_DECIMAL_PLACES`](crate::DEFAULT_DECIMAL_PLACES); the
        /// order placed is checked again in the currency chosen.
        pub tuition: Option<Amount> = "tuition" [positive],
        /// Student's given name in English.
        pub first_name_en: Option<String> = "first_name_en" [max(ENGLISH_NAME_MAX)],
        /// Student's family name in English.
        pub last_name_en: Option<String> = "last_name_en" [max(ENGLISH_NAME_MAX)],
        /// Student's Chinese name.
        pub name_ch: Option<String> = "name_ch" [max(CHINESE_NAME_MAX)],
        /// Number of the student's ID document.
        pub student_id_number: Option<String> = "student_id_number",
        /// Mobile number.
        pub student_mobile: Option<String> = "student_mobile",
        /// Student e-mail.
        pub student_email: Option<String> = "student_email" [max(EMAIL_MAX)],
        /// Payer address.
        pub student_address: Option<String> = "student_address" [max(ADDRESS_MAX)],
        /// School name.
        pub school_name: Option<String> = "school_name" [max(PLACE_NAME_MAX)],
        /// WeChat id.
        pub wechat_number: Option<String> = "wechat_number" [max(WECHAT_ID_MAX)],
        /// Payment purposes.
        pub fee_type_list: Option<Vec<FeeItem>> = "fee_type_list" [items],
        /// Where ET posts the order's status-change notifications (the page
        /// gives no maximum; ET's other URLs have this one).
        pub status_change_notify_url: Option<String> = "status_change_notify_url" [max(URL_MAX)],
    }

    /// A jump with the two required fields set and every other one empty;
    /// fill the rest with struct-update syntax (`..JumpPlaceOrder::new(..)`).
    pub fn new;
}

operation!(sensitive JumpPlaceOrder, ServerType::MerchantJumpPlaceOrder, JumpAddress, out: Data, Creates);

wire_struct! {
    /// The result of [`JumpPlaceOrder`]: where to send the student. The
    /// answer was never published: `jump_url` is our guess at the name
    /// (after the order request's `back_jump_url`), read from `data`, and
    /// `order_id` a guess at an echo. Optional, so an answer that names
    /// the address otherwise still reads: look for it in `extra`.
    #[derive(Default)]
    pub struct JumpAddress {
        /// The address to send the student to (guessed wire name).
        pub jump_url: Option<String> = "jump_url",
        /// ET order id, if ET already made one (guessed wire name).
        pub order_id: Option<String> = "order_id",
    }
}
