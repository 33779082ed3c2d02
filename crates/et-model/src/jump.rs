//! Third-party jump ordering (第三方跳转下单接口, zh/api-150664122):
//! [`JumpPlaceOrder`] and its result [`JumpAddress`].
//!
//! Instead of creating the order itself, the merchant sends ET what it
//! already knows about the student; ET answers with an address, the
//! merchant sends the student there, and the student completes the order
//! at ET. From then on it is an ordinary order: its notifications go to
//! `status_change_notify_url`.

use crate::order::{
    check_fee_items, lodging_lens, merchant_id_lens, merchant_ids, student_lens, URL_MAX,
};
use crate::payload::{
    check_lens, check_required, Operation, Payload, Placement, ValidationError, NO_PAYLOAD,
};
use crate::wire::wire_struct;
use crate::{Amount, FeeItem, NoPayload, ServerType};

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
        /// Apartment name (≤ 200 characters).
        pub apartment_name: Option<String> = "apartment_name",
        /// City name in English (≤ 200 characters).
        pub city_name_en: Option<String> = "city_name_en",
        /// City name in Chinese (≤ 200 characters).
        pub city_name_ch: Option<String> = "city_name_ch",
        /// The merchant's own order number (≤ 50 characters).
        pub merchant_order_id: String = "merchant_order_id",
        /// The merchant's unique key for the student (≤ 200 characters).
        pub merchant_user_key: String = "merchant_user_key",
        /// Total amount, in the foreign currency (the page's words).
        pub tuition: Option<Amount> = "tuition",
        /// Student's given name in English (≤ 50 characters).
        pub first_name_en: Option<String> = "first_name_en",
        /// Student's family name in English (≤ 50 characters).
        pub last_name_en: Option<String> = "last_name_en",
        /// Student's Chinese name (≤ 20 characters).
        pub name_ch: Option<String> = "name_ch",
        /// Number of the student's ID document.
        pub student_id_number: Option<String> = "student_id_number",
        /// Mobile number.
        pub student_mobile: Option<String> = "student_mobile",
        /// Student e-mail (≤ 50 characters).
        pub student_email: Option<String> = "student_email",
        /// Payer address (≤ 300 characters).
        pub student_address: Option<String> = "student_address",
        /// School name (≤ 200 characters).
        pub school_name: Option<String> = "school_name",
        /// WeChat id (≤ 100 characters).
        pub wechat_number: Option<String> = "wechat_number",
        /// Payment purposes.
        pub fee_type_list: Option<Vec<FeeItem>> = "fee_type_list",
        /// Where ET posts the order's status-change notifications (≤ 500
        /// characters: the page gives no maximum, ET's other URLs have this one).
        pub status_change_notify_url: Option<String> = "status_change_notify_url",
    }
}

impl JumpPlaceOrder {
    /// A jump with the two required fields set and every other one empty;
    /// fill the rest with struct-update syntax (`..JumpPlaceOrder::new(..)`).
    pub fn new(merchant_order_id: impl Into<String>, merchant_user_key: impl Into<String>) -> Self {
        JumpPlaceOrder {
            apartment_name: None,
            city_name_en: None,
            city_name_ch: None,
            merchant_order_id: merchant_order_id.into(),
            merchant_user_key: merchant_user_key.into(),
            tuition: None,
            first_name_en: None,
            last_name_en: None,
            name_ch: None,
            student_id_number: None,
            student_mobile: None,
            student_email: None,
            student_address: None,
            school_name: None,
            wechat_number: None,
            fee_type_list: None,
            status_change_notify_url: None,
            extra: Default::default(),
        }
    }
}

impl Payload for JumpPlaceOrder {
    fn validate(&self) -> Result<(), ValidationError> {
        let ids = (
            self.merchant_order_id.as_str(),
            self.merchant_user_key.as_str(),
        );
        check_required(merchant_ids(ids.0, ids.1))?;
        check_lens(
            lodging_lens!(self)
                .into_iter()
                .chain(merchant_id_lens(ids.0, ids.1))
                .chain(student_lens!(self))
                .chain([(
                    "status_change_notify_url",
                    self.status_change_notify_url.as_deref(),
                    URL_MAX,
                )]),
        )?;
        check_fee_items(self.fee_type_list.as_deref())
    }
}

impl Operation for JumpPlaceOrder {
    const SERVER_TYPE: ServerType = ServerType::MerchantJumpPlaceOrder;
    type Data = NoPayload;
    type Sensitive = JumpPlaceOrder;
    type Output = JumpAddress;
    const OUTPUT_IN: Placement = Placement::Data;
    fn parts(&self) -> (&NoPayload, &JumpPlaceOrder) {
        (NO_PAYLOAD, self)
    }
    fn from_parts(_: NoPayload, sensitive: JumpPlaceOrder) -> Self {
        sensitive
    }
}

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

impl Payload for JumpAddress {}
