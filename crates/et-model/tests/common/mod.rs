//! proptest strategies shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use et_model::*;
use proptest::option::of as opt;
use proptest::prelude::*;

/// Any text, including quotes, backslashes, controls and non-ASCII.
pub(crate) fn text() -> impl Strategy<Value = String> {
    "\\PC{0,12}|[\"\\\\\u{0}-\u{1f}]{0,3}|张三[a-z]{0,4}"
}

/// An amount with a random scale, trailing zeros included; up to 44
/// characters, so both sides of the inline/boxed storage limit (22).
pub(crate) fn amount() -> impl Strategy<Value = Amount> {
    "-?(0|[1-9][0-9]{0,30})(\\.[0-9]{1,8})?([eE][+-]?[0-9]{1,2})?"
        .prop_map(|text| Amount::new(&text).expect("strategy yields JSON numbers"))
}

/// An unknown field's raw JSON: numbers keep their text, objects their spacing.
fn raw_json() -> impl Strategy<Value = RawJson> {
    prop_oneof![
        amount().prop_map(|a| a.to_string()),
        text().prop_map(|t| serde_json::to_string(&t).unwrap()),
        Just("null".to_owned()),
        Just("{\"a\": [1, 2.50, \"x\"], \"b\" :{}}".to_owned()),
        Just("[ ]".to_owned()),
    ]
    .prop_map(|json| RawJson::new(json).expect("valid JSON"))
}

/// Unknown fields; `x_` keys never collide with a typed field.
pub(crate) fn extra() -> impl Strategy<Value = Extra> {
    proptest::collection::btree_map("x_[a-z0-9_]{1,8}", raw_json(), 0..4)
}

pub(crate) fn order_status() -> impl Strategy<Value = OrderStatus> {
    prop_oneof![
        proptest::sample::select(OrderStatus::ALL),
        any::<i64>().prop_map(OrderStatus::from_code)
    ]
}
pub(crate) fn attachment_type() -> impl Strategy<Value = AttachmentType> {
    prop_oneof![
        proptest::sample::select(AttachmentType::ALL),
        any::<i64>().prop_map(AttachmentType::from_code)
    ]
}
pub(crate) fn pay_result() -> impl Strategy<Value = PayResult> {
    any::<i64>().prop_map(PayResult::from_code)
}
pub(crate) fn refund_result() -> impl Strategy<Value = RefundResult> {
    any::<i64>().prop_map(RefundResult::from_code)
}
pub(crate) fn country() -> impl Strategy<Value = CountryCode> {
    prop_oneof![
        proptest::sample::select(CountryCode::ALL),
        "[A-Z]{2,5}".prop_map(|c| CountryCode::from_code(&c))
    ]
}
pub(crate) fn currency() -> impl Strategy<Value = CurrencyCode> {
    "[A-Z]{3}|RMB".prop_map(CurrencyCode::new)
}
pub(crate) fn notify_type() -> impl Strategy<Value = NotifyType> {
    prop_oneof![
        Just(NotifyType::OrderStatusChange),
        text().prop_map(|t| NotifyType::from_code(&t))
    ]
}
pub(crate) fn raw_code() -> impl Strategy<Value = UntypedCode> {
    prop_oneof![
        any::<i64>().prop_map(UntypedCode::Int),
        text().prop_map(UntypedCode::Text)
    ]
}

/// `pub(crate) fn $name() -> impl Strategy<Value = $ty>`: each field drawn from its
/// own strategy, in the order given, then the struct built from them.
macro_rules! struct_strategy {
    ($(pub(crate) fn $name:ident() -> $ty:ident { $($field:ident: $strategy:expr),+ $(,)? })+) => {
        $(pub(crate) fn $name() -> impl Strategy<Value = $ty> {
            ($($strategy,)+).prop_map(|($($field,)+)| $ty { $($field),+ })
        })+
    };
}

struct_strategy! {
    pub(crate) fn fee_item() -> FeeItem {
        fee_type: raw_code().prop_map(FeeType),
        fee_type_desc: text(),
        extra: extra(),
    }
    pub(crate) fn pay_config() -> PayConfig {
        pay_url: text(),
        pay_type: any::<i64>().prop_map(PayType),
        appid: opt(text()),
        original_id: opt(text()),
        extra: extra(),
    }
    pub(crate) fn order_created() -> OrderCreated {
        order_id: text(),
        pay_config_list: proptest::collection::vec(pay_config(), 0..3),
        tuition_rmb: opt(amount()),
        counter_fee: opt(amount()),
        extra: extra(),
    }
    pub(crate) fn upload_attachment() -> UploadAttachment {
        order_id: text(),
        attachment_type: attachment_type(),
        base64: "[A-Za-z0-9+/]{0,40}={0,2}",
        file_name: text(),
        extra: extra(),
    }
    pub(crate) fn attachment_uploaded() -> AttachmentUploaded {
        order_id: opt(text()),
        extra: extra(),
    }
    pub(crate) fn pay_url() -> PayUrl {
        order_id: opt(text()),
        pay_config_list: proptest::collection::vec(pay_config(), 0..3),
        extra: extra(),
    }
    pub(crate) fn query_orders() -> QueryOrders {
        order_ids: proptest::collection::vec(text(), 0..4),
        extra: extra(),
    }
    pub(crate) fn order_info() -> OrderInfo {
        order_id: text(),
        merchant_order_id: opt(text()),
        order_status: order_status(),
        tuition_rmb: opt(amount()),
        counter_fee: opt(amount()),
        currency_code: opt(currency()),
        tuition: opt(amount()),
        extra: extra(),
    }
    pub(crate) fn get_rate() -> GetRate {
        currency_code: currency(),
        pay_currency_code: opt(currency()),
        extra: extra(),
    }
    pub(crate) fn rate() -> Rate {
        currency_code: currency(),
        rate: amount(),
        extra: extra(),
    }
    pub(crate) fn estimate_amount() -> EstimateAmount {
        currency_code: currency(),
        amount: amount(),
        price_mode: opt(any::<i64>().prop_map(PriceMode)),
        extra: extra(),
    }
    pub(crate) fn estimate() -> Estimate {
        tuition_rmb: amount(),
        counter_fee: amount(),
        total_rmb: opt(amount()),
        rate: opt(amount()),
        extra: extra(),
    }
    pub(crate) fn apply_refund() -> ApplyRefund {
        order_id: text(),
        refund_order_id: text(),
        refund_amount: opt(amount()),
        refund_reason: opt(text()),
        extra: extra(),
    }
    pub(crate) fn refund_accepted() -> RefundAccepted {
        order_id: opt(text()),
        refund_order_id: opt(text()),
        extra: extra(),
    }
    pub(crate) fn payment_success() -> PaymentSuccess {
        order_id: text(),
        pay_result: pay_result(),
        pay_amount: amount(),
        pay_currency_code: opt(currency()),
        pay_datetime: text(),
        extend_info: opt(text()),
        notify_type: opt(notify_type()),
        extra: extra(),
    }
    pub(crate) fn order_status_change() -> OrderStatusChange {
        notify_type: notify_type(),
        order_id: text(),
        datetime: text(),
        order_status: order_status(),
        extend_info: opt(text()),
        extra: extra(),
    }
    pub(crate) fn refund_result_notice() -> RefundResultNotice {
        order_id: text(),
        refund_order_id: text(),
        refund_result: refund_result(),
        refund_amount: amount(),
        refund_datetime: text(),
        extend_info: opt(text()),
        extra: extra(),
    }
    pub(crate) fn remittance_voucher() -> RemittanceVoucher {
        order_id: text(),
        remittance_voucher_url: text(),
        extend_info: opt(text()),
        extra: extra(),
    }
}

pub(crate) fn create_order() -> impl Strategy<Value = CreateOrder> {
    let required = (text(), text(), country(), currency(), amount());
    let strings = proptest::collection::vec(opt(text()), 22);
    let typed = (
        opt(country()),
        opt(any::<i64>().prop_map(PriceMode)),
        opt(currency()),
        opt(currency()),
        opt(any::<i64>().prop_map(IdType)),
        opt(amount()),
        opt(amount()),
        opt(proptest::collection::vec(fee_item(), 0..3)),
    );
    (required, strings, typed, extra()).prop_map(
        |((moid, key, country, currency, tuition), strings, typed, extra)| {
            let (
                source_country,
                price_mode,
                pay_currency,
                fee_currency,
                id_type,
                fee,
                order_tuition,
                fees,
            ) = typed;
            let mut s = strings.into_iter();
            let mut next = move || s.next().flatten();
            CreateOrder {
                institution_code: next(),
                institution_name: next(),
                source_country_code: source_country,
                price_mode,
                pay_currency_code: pay_currency,
                merchant_service_fee: fee,
                merchant_service_fee_currency_code: fee_currency,
                order_tuition,
                first_name_en: next(),
                middle_name_en: next(),
                last_name_en: next(),
                name_ch: next(),
                student_id_number: next(),
                id_type,
                student_tel_code: next(),
                student_mobile: next(),
                student_email: next(),
                student_address: next(),
                school_name: next(),
                fee_type_list: fees,
                wechat_number: next(),
                apartment_name: next(),
                city_name_en: next(),
                city_name_ch: next(),
                notify_url: next(),
                back_jump_url: next(),
                status_change_notify_url: next(),
                invoice_number: next(),
                extra,
                ..CreateOrder::new(moid, key, country, currency, tuition)
            }
        },
    )
}

pub(crate) fn get_pay_url() -> impl Strategy<Value = GetPayUrl> {
    (text(), proptest::collection::vec(opt(text()), 5), extra()).prop_map(
        |(order_id, strings, extra)| {
            let mut s = strings.into_iter();
            let mut next = move || s.next().flatten();
            GetPayUrl {
                merchant_user_key: next(),
                notify_url: next(),
                back_jump_url: next(),
                back_page_url: next(),
                appid: next(),
                extra,
                ..GetPayUrl::new(order_id)
            }
        },
    )
}

/// A create-order request with only its required fields (`M-1`, `user-1`, GBR, GBP, 1.00).
pub(crate) fn minimal_order() -> CreateOrder {
    CreateOrder::new(
        "M-1",
        "user-1",
        CountryCode::Gbr,
        CurrencyCode::new("GBP"),
        "1.00".parse().unwrap(),
    )
}

/// A valid attachment upload for order `ET1`.
pub(crate) fn minimal_upload() -> UploadAttachment {
    UploadAttachment {
        order_id: "ET1".into(),
        attachment_type: AttachmentType::PassportFront,
        base64: "aGk=".into(),
        file_name: "passport.jpg".into(),
        extra: Extra::new(),
    }
}

/// A refund of order `ET1` with only its required fields.
pub(crate) fn minimal_refund() -> ApplyRefund {
    ApplyRefund {
        order_id: "ET1".into(),
        refund_order_id: "R1".into(),
        refund_amount: None,
        refund_reason: None,
        extra: Extra::new(),
    }
}
