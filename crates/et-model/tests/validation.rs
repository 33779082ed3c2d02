//! Every documented maximum length has a passing and a failing case, and
//! every required field is checked. Lengths are in characters: each case
//! uses a multi-byte character so a byte count would fail it.

mod common;

use common::{minimal_order as order, minimal_refund, minimal_upload};
use et_model::*;

/// `max` characters pass, `max + 1` fail with the field's name and the rule.
fn check_max<T: Payload>(base: &T, field: &str, max: usize, set: fn(&mut T, String)) {
    let mut at_max = base.clone();
    set(&mut at_max, "é".repeat(max));
    assert_eq!(at_max.validate(), Ok(()), "{field} at {max}");
    let mut over = base.clone();
    set(&mut over, "é".repeat(max + 1));
    let error = over.validate().expect_err(field);
    assert_eq!(
        error,
        ValidationError::new(
            field,
            Rule::MaxChars {
                max,
                actual: max + 1
            }
        )
    );
    assert!(error.to_string().contains(field));
}

/// An empty value fails with `Rule::Required` naming the field.
fn check_required<T: Payload>(base: &T, field: &str, set: fn(&mut T, String)) {
    let mut empty = base.clone();
    set(&mut empty, String::new());
    assert_eq!(
        empty.validate(),
        Err(ValidationError::new(field, Rule::Required))
    );
}

type Setter<T> = fn(&mut T, String);

#[test]
fn create_order_max_lengths() {
    let rules: &[(&str, usize, Setter<CreateOrder>)] = &[
        ("merchant_order_id", 50, |o, v| o.merchant_order_id = v),
        ("merchant_user_key", 200, |o, v| o.merchant_user_key = v),
        ("country_code", 5, |o, v| {
            o.country_code = CountryCode::from_code(&v)
        }),
        ("source_country_code", 5, |o, v| {
            o.source_country_code = Some(CountryCode::from_code(&v))
        }),
        ("first_name_en", 50, |o, v| o.first_name_en = Some(v)),
        ("last_name_en", 50, |o, v| o.last_name_en = Some(v)),
        ("name_ch", 20, |o, v| o.name_ch = Some(v)),
        ("student_email", 50, |o, v| o.student_email = Some(v)),
        ("student_address", 300, |o, v| o.student_address = Some(v)),
        ("school_name", 200, |o, v| o.school_name = Some(v)),
        ("wechat_number", 100, |o, v| o.wechat_number = Some(v)),
        ("apartment_name", 200, |o, v| o.apartment_name = Some(v)),
        ("city_name_en", 200, |o, v| o.city_name_en = Some(v)),
        ("city_name_ch", 200, |o, v| o.city_name_ch = Some(v)),
        ("notify_url", 500, |o, v| o.notify_url = Some(v)),
        ("back_jump_url", 500, |o, v| o.back_jump_url = Some(v)),
        ("status_change_notify_url", 500, |o, v| {
            o.status_change_notify_url = Some(v)
        }),
    ];
    for (field, max, set) in rules {
        check_max(&order(), field, *max, *set);
    }
}

#[test]
fn create_order_required_fields() {
    let rules: &[(&str, Setter<CreateOrder>)] = &[
        ("merchant_order_id", |o, v| o.merchant_order_id = v),
        ("merchant_user_key", |o, v| o.merchant_user_key = v),
        ("country_code", |o, v| {
            o.country_code = CountryCode::from_code(&v)
        }),
        ("currency_code", |o, v| {
            o.currency_code = CurrencyCode::new(v)
        }),
    ];
    for (field, set) in rules {
        check_required(&order(), field, *set);
    }
}

#[test]
fn fee_items_are_checked_with_their_position() {
    let item = |desc: &str| FeeItem {
        fee_type: FeeType(UntypedCode::Int(1)),
        fee_type_desc: desc.into(),
        extra: Extra::new(),
    };
    let good = CreateOrder {
        fee_type_list: Some(vec![item("tuition")]),
        ..order()
    };
    assert_eq!(good.validate(), Ok(()));
    let bad = CreateOrder {
        fee_type_list: Some(vec![item("tuition"), item("")]),
        ..order()
    };
    assert_eq!(
        bad.validate(),
        Err(ValidationError::new(
            "fee_type_list[1].fee_type_desc",
            Rule::Required
        ))
    );
}

#[test]
fn get_pay_url_rules() {
    let base = GetPayUrl::new("ET1");
    let rules: &[(&str, usize, Setter<GetPayUrl>)] = &[
        ("order_id", 30, |o, v| o.order_id = v),
        ("merchant_user_key", 200, |o, v| {
            o.merchant_user_key = Some(v)
        }),
        ("notify_url", 500, |o, v| o.notify_url = Some(v)),
        ("back_jump_url", 500, |o, v| o.back_jump_url = Some(v)),
        ("back_page_url", 500, |o, v| o.back_page_url = Some(v)),
        ("appid", 100, |o, v| o.appid = Some(v)),
    ];
    for (field, max, set) in rules {
        check_max(&base, field, *max, *set);
    }
    check_required(&base, "order_id", |o, v| o.order_id = v);
}

#[test]
fn upload_attachment_rules() {
    let base = minimal_upload();
    check_max(&base, "order_id", 30, |o, v| o.order_id = v);
    let required: &[(&str, Setter<UploadAttachment>)] = &[
        ("order_id", |o, v| o.order_id = v),
        ("base64", |o, v| o.base64 = v),
        ("file_name", |o, v| o.file_name = v),
    ];
    for (field, set) in required {
        check_required(&base, field, *set);
    }
}

#[test]
fn apply_refund_and_query_rules() {
    let refund = minimal_refund();
    check_max(&refund, "order_id", 30, |o, v| o.order_id = v);
    check_required(&refund, "refund_order_id", |o, v| o.refund_order_id = v);

    let query = QueryOrders::new(["ET1", "ET2"]);
    check_max(&query, "order_id_list[1]", 30, |o, v| o.order_ids[1] = v);
    check_required(&query, "order_id_list[0]", |o, v| o.order_ids[0] = v);

    let rate = GetRate {
        currency_code: CurrencyCode::new("GBP"),
        pay_currency_code: None,
        extra: Extra::new(),
    };
    check_required(&rate, "currency_code", |o, v| {
        o.currency_code = CurrencyCode::new(v)
    });
    let estimate = EstimateAmount {
        currency_code: CurrencyCode::new("GBP"),
        amount: "1".parse().unwrap(),
        price_mode: None,
        extra: Extra::new(),
    };
    check_required(&estimate, "currency_code", |o, v| {
        o.currency_code = CurrencyCode::new(v)
    });
}

/// Every field of `base` that holds an amount (reads the number `-1.5`,
/// which integer codes refuse, but not the text `"abc"`) is refused when negative or above `MAX_AMOUNT`,
/// naming the field: found by reading, so an amount field added later is
/// covered without touching this test. Returns how many it found.
fn check_every_amount<T: Payload>(base: &T, fields: &[&str]) -> usize {
    assert_eq!(base.validate(), Ok(()));
    let json = serde_json::to_value(base).unwrap();
    let with = |field: &str, value: serde_json::Value| {
        let mut changed = json.clone();
        changed[field] = value;
        serde_json::from_value::<T>(changed)
    };
    let mut found = 0;
    for field in fields {
        let Ok(negative) = with(field, serde_json::json!(-1.5)) else {
            continue;
        };
        if with(field, serde_json::json!("abc")).is_ok() {
            continue; // text, or a code: not an amount
        }
        found += 1;
        let error = negative.validate().expect_err(field);
        assert_eq!(error.field, *field);
        assert!(
            matches!(error.rule, Rule::NotPositive | Rule::Negative),
            "{field}: {error}"
        );
        let absurd = with(field, serde_json::json!(9999999999999999.0_f64)).unwrap();
        assert_eq!(
            absurd.validate(),
            Err(ValidationError::new(*field, Rule::AboveMaximum)),
            "{field}"
        );
        let max = with(field, serde_json::json!(10_000_000_000_u64)).unwrap();
        assert_eq!(max.validate(), Ok(()), "{field} at MAX_AMOUNT");
    }
    found
}

#[test]
fn every_amount_of_every_request_must_be_in_range() {
    let with_fees = CreateOrder {
        merchant_service_fee: Some("0".parse().unwrap()),
        order_tuition: Some("0".parse().unwrap()),
        ..order()
    };
    assert_eq!(check_every_amount(&with_fees, CreateOrder::FIELDS), 3);
    let estimate = EstimateAmount {
        currency_code: CurrencyCode::new("GBP"),
        amount: "1.00".parse().unwrap(),
        price_mode: None,
        extra: Default::default(),
    };
    assert_eq!(check_every_amount(&estimate, EstimateAmount::FIELDS), 1);
    let refund = ApplyRefund {
        refund_amount: Some("1.00".parse().unwrap()),
        ..minimal_refund()
    };
    assert_eq!(check_every_amount(&refund, ApplyRefund::FIELDS), 1);
    let rate = GetRate {
        currency_code: CurrencyCode::new("GBP"),
        pay_currency_code: None,
        extra: Default::default(),
    };
    assert_eq!(check_every_amount(&rate, GetRate::FIELDS), 0);
    assert_eq!(
        check_every_amount(&GetPayUrl::new("ET1"), GetPayUrl::FIELDS),
        0
    );
    assert_eq!(
        check_every_amount(&QueryOrders::new(["ET1"]), QueryOrders::FIELDS),
        0
    );
    let upload = UploadAttachment {
        order_id: "ET1".into(),
        attachment_type: AttachmentType::PassportFront,
        base64: "AA==".into(),
        file_name: "a.pdf".into(),
        extra: Default::default(),
    };
    assert_eq!(check_every_amount(&upload, UploadAttachment::FIELDS), 0);
}

#[test]
fn what_is_paid_estimated_or_refunded_must_be_more_than_zero() {
    let zero = || "0.00".parse::<Amount>().unwrap();
    let free = CreateOrder {
        tuition: zero(),
        ..order()
    };
    assert_eq!(
        free.validate(),
        Err(ValidationError::new("tuituon", Rule::NotPositive))
    );
    let negative = CreateOrder {
        tuition: "-1000.00".parse().unwrap(),
        ..order()
    };
    let error = negative.validate().unwrap_err();
    assert_eq!(error.to_string(), "field `tuituon` must be more than 0");
    let refund = ApplyRefund {
        refund_amount: Some(zero()),
        ..minimal_refund()
    };
    assert_eq!(
        refund.validate(),
        Err(ValidationError::new("refund_amount", Rule::NotPositive))
    );
    let estimate = EstimateAmount {
        currency_code: CurrencyCode::new("GBP"),
        amount: zero(),
        price_mode: None,
        extra: Default::default(),
    };
    assert_eq!(
        estimate.validate(),
        Err(ValidationError::new("amount", Rule::NotPositive))
    );
}
