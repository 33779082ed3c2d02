//! proptest strategies shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use et_model::*;
use proptest::option::of as opt;
use proptest::prelude::*;

/// Any text, including quotes, backslashes, controls and non-ASCII.
pub fn text() -> impl Strategy<Value = String> {
    "\\PC{0,12}|[\"\\\\\u{0}-\u{1f}]{0,3}|张三[a-z]{0,4}"
}

/// An amount with a random scale, trailing zeros included.
pub fn amount() -> impl Strategy<Value = Amount> {
    "-?(0|[1-9][0-9]{0,14})(\\.[0-9]{1,6})?([eE][+-]?[0-9]{1,2})?"
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
pub fn extra() -> impl Strategy<Value = Extra> {
    proptest::collection::btree_map("x_[a-z0-9_]{1,8}", raw_json(), 0..4)
}

pub fn order_status() -> impl Strategy<Value = OrderStatus> {
    prop_oneof![
        proptest::sample::select(OrderStatus::ALL),
        any::<i64>().prop_map(OrderStatus::from_code)
    ]
}
pub fn attachment_type() -> impl Strategy<Value = AttachmentType> {
    prop_oneof![
        proptest::sample::select(AttachmentType::ALL),
        any::<i64>().prop_map(AttachmentType::from_code)
    ]
}
pub fn pay_result() -> impl Strategy<Value = PayResult> {
    any::<i64>().prop_map(PayResult::from_code)
}
pub fn refund_result() -> impl Strategy<Value = RefundResult> {
    any::<i64>().prop_map(RefundResult::from_code)
}
pub fn country() -> impl Strategy<Value = CountryCode> {
    prop_oneof![
        proptest::sample::select(CountryCode::ALL),
        "[A-Z]{2,5}".prop_map(|c| CountryCode::from_code(&c))
    ]
}
pub fn currency() -> impl Strategy<Value = CurrencyCode> {
    "[A-Z]{3}|RMB".prop_map(CurrencyCode::new)
}
pub fn notify_type() -> impl Strategy<Value = NotifyType> {
    prop_oneof![
        Just(NotifyType::OrderStatusChange),
        text().prop_map(|t| NotifyType::from_code(&t))
    ]
}
pub fn raw_code() -> impl Strategy<Value = RawCode> {
    prop_oneof![
        any::<i64>().prop_map(RawCode::Int),
        text().prop_map(RawCode::Text)
    ]
}

pub fn fee_item() -> impl Strategy<Value = FeeItem> {
    (raw_code(), text(), extra()).prop_map(|(code, fee_type_desc, extra)| FeeItem {
        fee_type: FeeType(code),
        fee_type_desc,
        extra,
    })
}

pub fn create_order() -> impl Strategy<Value = CreateOrder> {
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

pub fn pay_config() -> impl Strategy<Value = PayConfig> {
    (text(), any::<i64>(), opt(text()), opt(text()), extra()).prop_map(
        |(pay_url, pay_type, appid, original_id, extra)| PayConfig {
            pay_url,
            pay_type: PayType(pay_type),
            appid,
            original_id,
            extra,
        },
    )
}

pub fn order_created() -> impl Strategy<Value = OrderCreated> {
    (
        text(),
        proptest::collection::vec(pay_config(), 0..3),
        opt(amount()),
        opt(amount()),
        extra(),
    )
        .prop_map(
            |(order_id, pay_config_list, tuition_rmb, counter_fee, extra)| OrderCreated {
                order_id,
                pay_config_list,
                tuition_rmb,
                counter_fee,
                extra,
            },
        )
}

pub fn upload_attachment() -> impl Strategy<Value = UploadAttachment> {
    (
        text(),
        attachment_type(),
        "[A-Za-z0-9+/]{0,40}={0,2}",
        text(),
        extra(),
    )
        .prop_map(
            |(order_id, attachment_type, base64, file_name, extra)| UploadAttachment {
                order_id,
                attachment_type,
                base64,
                file_name,
                extra,
            },
        )
}

pub fn attachment_uploaded() -> impl Strategy<Value = AttachmentUploaded> {
    (opt(text()), extra()).prop_map(|(order_id, extra)| AttachmentUploaded { order_id, extra })
}

pub fn get_pay_url() -> impl Strategy<Value = GetPayUrl> {
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

pub fn pay_url() -> impl Strategy<Value = PayUrl> {
    (
        opt(text()),
        proptest::collection::vec(pay_config(), 0..3),
        extra(),
    )
        .prop_map(|(order_id, pay_config_list, extra)| PayUrl {
            order_id,
            pay_config_list,
            extra,
        })
}

pub fn query_orders() -> impl Strategy<Value = QueryOrders> {
    (proptest::collection::vec(text(), 0..4), extra())
        .prop_map(|(order_ids, extra)| QueryOrders { order_ids, extra })
}

pub fn order_info() -> impl Strategy<Value = OrderInfo> {
    (
        text(),
        opt(text()),
        order_status(),
        opt(amount()),
        opt(amount()),
        opt(currency()),
        opt(amount()),
        extra(),
    )
        .prop_map(
            |(
                order_id,
                merchant_order_id,
                order_status,
                tuition_rmb,
                counter_fee,
                currency_code,
                tuition,
                extra,
            )| OrderInfo {
                order_id,
                merchant_order_id,
                order_status,
                tuition_rmb,
                counter_fee,
                currency_code,
                tuition,
                extra,
            },
        )
}

pub fn get_rate() -> impl Strategy<Value = GetRate> {
    (currency(), opt(currency()), extra()).prop_map(|(currency_code, pay_currency_code, extra)| {
        GetRate {
            currency_code,
            pay_currency_code,
            extra,
        }
    })
}

pub fn rate() -> impl Strategy<Value = Rate> {
    (currency(), amount(), extra()).prop_map(|(currency_code, rate, extra)| Rate {
        currency_code,
        rate,
        extra,
    })
}

pub fn estimate_amount() -> impl Strategy<Value = EstimateAmount> {
    (
        currency(),
        amount(),
        opt(any::<i64>().prop_map(PriceMode)),
        extra(),
    )
        .prop_map(
            |(currency_code, amount, price_mode, extra)| EstimateAmount {
                currency_code,
                amount,
                price_mode,
                extra,
            },
        )
}

pub fn estimate() -> impl Strategy<Value = Estimate> {
    (amount(), amount(), opt(amount()), opt(amount()), extra()).prop_map(
        |(tuition_rmb, counter_fee, total_rmb, rate, extra)| Estimate {
            tuition_rmb,
            counter_fee,
            total_rmb,
            rate,
            extra,
        },
    )
}

pub fn apply_refund() -> impl Strategy<Value = ApplyRefund> {
    (text(), text(), opt(amount()), opt(text()), extra()).prop_map(
        |(order_id, refund_order_id, refund_amount, refund_reason, extra)| ApplyRefund {
            order_id,
            refund_order_id,
            refund_amount,
            refund_reason,
            extra,
        },
    )
}

pub fn refund_accepted() -> impl Strategy<Value = RefundAccepted> {
    (opt(text()), opt(text()), extra()).prop_map(|(order_id, refund_order_id, extra)| {
        RefundAccepted {
            order_id,
            refund_order_id,
            extra,
        }
    })
}

pub fn payment_success() -> impl Strategy<Value = PaymentSuccess> {
    (
        text(),
        pay_result(),
        amount(),
        opt(currency()),
        text(),
        opt(text()),
        opt(notify_type()),
        extra(),
    )
        .prop_map(
            |(
                order_id,
                pay_result,
                pay_amount,
                pay_currency_code,
                pay_datetime,
                extend_info,
                notify_type,
                extra,
            )| {
                PaymentSuccess {
                    order_id,
                    pay_result,
                    pay_amount,
                    pay_currency_code,
                    pay_datetime,
                    extend_info,
                    notify_type,
                    extra,
                }
            },
        )
}

pub fn order_status_change() -> impl Strategy<Value = OrderStatusChange> {
    (notify_type(), text(), text(), order_status(), extra()).prop_map(
        |(notify_type, order_id, datetime, order_status, extra)| OrderStatusChange {
            notify_type,
            order_id,
            datetime,
            order_status,
            extra,
        },
    )
}

pub fn refund_result_notice() -> impl Strategy<Value = RefundResultNotice> {
    (
        text(),
        text(),
        refund_result(),
        amount(),
        text(),
        opt(text()),
        extra(),
    )
        .prop_map(
            |(
                order_id,
                refund_order_id,
                refund_result,
                refund_amount,
                refund_datetime,
                extend_info,
                extra,
            )| RefundResultNotice {
                order_id,
                refund_order_id,
                refund_result,
                refund_amount,
                refund_datetime,
                extend_info,
                extra,
            },
        )
}

pub fn remittance_voucher() -> impl Strategy<Value = RemittanceVoucher> {
    (text(), text(), opt(text()), extra()).prop_map(
        |(order_id, remittance_voucher_url, extend_info, extra)| RemittanceVoucher {
            order_id,
            remittance_voucher_url,
            extend_info,
            extra,
        },
    )
}
