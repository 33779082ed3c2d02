//! Every documented maximum length has a passing and a failing case, and
//! every required field is checked. Lengths are in characters: each case
//! uses a multi-byte character so a byte count would fail it.

mod common;

use common::{minimal_order as order, minimal_refund, minimal_upload};
use et_model::*;
use proptest::prelude::*;

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
/// which integer codes refuse, but not the text `"abc"`) is refused when
/// negative, above `MAX_AMOUNT`, written with an exponent or with more
/// decimal places than its currency (2 in every base), naming the field:
/// found by reading, so an amount field added later is covered without
/// touching this test. Returns how many it found.
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
        for (text, rule) in [
            ("1e2", Rule::Exponent),
            ("1e-27", Rule::Exponent),
            ("0.001", Rule::TooManyDecimals { max: 2, actual: 3 }),
        ] {
            let refused = with(field, serde_json::json!(text)).unwrap();
            assert_eq!(
                refused.validate(),
                Err(ValidationError::new(*field, rule)),
                "{field} {text}"
            );
        }
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
    let jump = JumpPlaceOrder {
        tuition: Some("1.00".parse().unwrap()),
        ..JumpPlaceOrder::new("M-1", "user-1")
    };
    assert_eq!(check_every_amount(&jump, JumpPlaceOrder::FIELDS), 1);
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

#[test]
fn an_amount_has_at_most_its_currencys_decimal_places() {
    let amount = |text: &str| text.parse::<Amount>().unwrap();
    let in_currency = |currency: &str, tuition: &str| CreateOrder {
        currency_code: CurrencyCode::new(currency.to_owned()),
        tuition: amount(tuition),
        ..order()
    };
    assert_eq!(in_currency("JPY", "100").validate(), Ok(()));
    assert_eq!(
        in_currency("JPY", "100.5").validate(),
        Err(ValidationError::new(
            "tuituon",
            Rule::TooManyDecimals { max: 0, actual: 1 }
        ))
    );
    assert_eq!(in_currency("KWD", "1.005").validate(), Ok(()));
    let error = in_currency("GBP", "1.005").validate().unwrap_err();
    assert_eq!(
        error.to_string(),
        "field `tuituon` must have at most 2 decimal places, as its currency has (has 3)"
    );
    // The merchant's fee is in its own currency, else in cents.
    let fee = |currency: Option<&str>, fee: &str| CreateOrder {
        merchant_service_fee: Some(amount(fee)),
        merchant_service_fee_currency_code: currency.map(|c| CurrencyCode::new(c.to_owned())),
        ..in_currency("JPY", "100")
    };
    assert_eq!(fee(Some("GBP"), "5.50").validate(), Ok(()));
    assert_eq!(fee(None, "5.50").validate(), Ok(()));
    assert_eq!(
        fee(Some("JPY"), "5.50").validate(),
        Err(ValidationError::new(
            "merchant_service_fee",
            Rule::TooManyDecimals { max: 0, actual: 2 }
        ))
    );
    assert_eq!(CurrencyCode::new("jpy").decimal_places(), 0);
    assert_eq!(CurrencyCode::RMB.decimal_places(), DEFAULT_DECIMAL_PLACES);
}

/// Every `currency(..)` an amount field declares names a field of its type.
#[test]
fn every_declared_currency_names_a_field() {
    macro_rules! declared {
        ($($ty:ident),*) => {
            [$(($ty::FIELDS, $ty::RULES)),*]
        };
    }
    let all = declared!(
        CreateOrder,
        FeeItem,
        OrderCreated,
        PayConfig,
        UploadAttachment,
        AttachmentUploaded,
        GetPayUrl,
        PayUrl,
        QueryOrders,
        OrderInfo,
        GetRate,
        Rate,
        EstimateAmount,
        Estimate,
        ApplyRefund,
        RefundAccepted,
        GetInstitutions,
        Institution,
        JumpPlaceOrder,
        JumpAddress
    );
    let mut named = 0;
    for (fields, rules) in all {
        for rule in rules.iter().flat_map(|(_, rules)| rules.iter()) {
            if let FieldRule::Currency(field) = rule {
                assert!(fields.contains(field), "{field}");
                named += 1;
            }
        }
    }
    assert_eq!(named, 1, "merchant_service_fee's");
}

/// The decimal places each test currency allows (ISO 4217's minor unit; 2
/// for a code ISO does not list).
const TEST_CURRENCIES: [(&str, u32); 6] = [
    ("GBP", 2),
    ("RMB", 2),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("XYZ", 2),
];

/// Whether ET's side takes `text` as a payable amount with `places`
/// decimal places: plain decimal digits (no exponent), at most `places`
/// after the point, more than 0 and at most `MAX_AMOUNT`.
fn payable(text: &str, places: u32) -> bool {
    let plain = !text.contains(['e', 'E']);
    let decimals = text
        .split_once('.')
        .map_or(0, |(_, fraction)| fraction.len());
    let value = Decimal::from_str_exact(text).ok();
    plain
        && decimals <= places as usize
        && value.is_some_and(|v| v > Decimal::ZERO && v <= MAX_AMOUNT)
}

/// Amount text of every shape: signs, zeros, scales from 0 to 5, exponents,
/// sub-cent values, and values around `MAX_AMOUNT`.
fn amount_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?(0|[1-9][0-9]{0,11})(\\.[0-9]{1,5})?",
        "-?[0-9](\\.[0-9]{1,3})?[eE][+-]?[0-9]{1,2}",
        "(9999999999|10000000000|10000000001)(\\.[0-9]{1,3})?",
        "0\\.0{0,26}[1-9]",
    ]
}

proptest! {
    /// Every amount a request carries, whatever its field, is accepted
    /// exactly when it is plain decimal text, has at most its currency's
    /// decimal places (2 where the request names no currency) and is in
    /// range: the one rule ET's side (the sandbox) and our writers share.
    #[test]
    fn an_amount_is_accepted_exactly_when_plain_within_its_currencys_places_and_in_range(
        text in amount_text(),
        (currency, places) in proptest::sample::select(TEST_CURRENCIES.to_vec()),
    ) {
        let amount: Amount = text.parse().unwrap();
        let currency = CurrencyCode::new(currency);
        let order = CreateOrder {
            currency_code: currency.clone(),
            tuition: amount.clone(),
            ..order()
        };
        let estimate = EstimateAmount {
            currency_code: currency,
            amount: amount.clone(),
            price_mode: None,
            extra: Extra::new(),
        };
        let refund = ApplyRefund { refund_amount: Some(amount.clone()), ..minimal_refund() };
        let jump = JumpPlaceOrder { tuition: Some(amount), ..JumpPlaceOrder::new("M-1", "u-1") };
        prop_assert_eq!(order.validate().is_ok(), payable(&text, places), "create_order {}", text);
        prop_assert_eq!(estimate.validate().is_ok(), payable(&text, places), "estimate {}", text);
        prop_assert_eq!(refund.validate().is_ok(), payable(&text, 2), "refund {}", text);
        prop_assert_eq!(jump.validate().is_ok(), payable(&text, 2), "jump {}", text);
    }
}
