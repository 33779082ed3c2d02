//! The seed's example, amounts' scale, unknown-field pass-through, the
//! operations' placement, and notification classification.

use std::collections::BTreeMap;

use et_model::*;
use serde_json::json;

const SEED_002: &str = include_str!("fixtures/seed_002_order_response.json");

#[test]
fn seed_002_order_response_parses_into_the_typed_result() {
    #[derive(serde::Deserialize)]
    struct Envelope {
        status_code: ReplyCode,
        data: Vec<OrderCreated>,
        sensitive_data: Vec<NoPayload>,
    }
    let envelope: Envelope = serde_json::from_str(SEED_002).unwrap();
    assert!(envelope.status_code.is_success());
    assert_eq!(envelope.sensitive_data, [NoPayload]);
    let [order] = envelope.data.as_slice() else {
        panic!("one order expected")
    };
    assert_eq!(order.order_id, "string");
    assert_eq!(order.tuition_rmb.as_ref().map(Amount::as_str), Some("0"));
    assert_eq!(order.counter_fee.as_ref().map(Amount::as_str), Some("0"));
    let [config] = order.pay_config_list.as_slice() else {
        panic!("one pay config expected")
    };
    assert_eq!(config.pay_url, "string");
    assert_eq!(config.pay_type, PayType(0));
    assert_eq!(config.appid.as_deref(), Some("string"));
    assert_eq!(config.original_id.as_deref(), Some("string"));
    assert!(order.extra.is_empty() && config.extra.is_empty());
}

#[test]
fn amounts_keep_their_scale_inside_payloads() {
    let text = r#"{"order_id":"ET1","pay_config_list":[{"pay_url":"https://p","pay_type":"1","x":1.10}],"tuition_rmb":91234.50,"counter_fee":"0.00","later":{"fee":10000.00}}"#;
    let order: OrderCreated = serde_json::from_str(text).unwrap();
    assert_eq!(
        order
            .tuition_rmb
            .as_ref()
            .unwrap()
            .to_decimal()
            .unwrap()
            .scale(),
        2
    );
    let written = serde_json::to_string(&order).unwrap();
    assert_eq!(
        written,
        r#"{"order_id":"ET1","pay_config_list":[{"pay_url":"https://p","pay_type":1,"x":1.10}],"tuition_rmb":91234.50,"counter_fee":0.00,"later":{"fee":10000.00}}"#
    );
    // Also from bytes and from a reader.
    let from_slice: OrderCreated = serde_json::from_slice(text.as_bytes()).unwrap();
    let from_reader: OrderCreated = serde_json::from_reader(text.as_bytes()).unwrap();
    assert_eq!(from_slice, order);
    assert_eq!(from_reader, order);
}

#[test]
fn unknown_fields_pass_through_and_never_duplicate_a_typed_one() {
    let mut order: OrderCreated =
        serde_json::from_str(r#"{"order_id":"ET1","new_field": [1, "a"]}"#).unwrap();
    assert_eq!(order.extra["new_field"].as_str(), r#"[1, "a"]"#);
    assert!(
        order.pay_config_list.is_empty(),
        "a missing list reads as empty"
    );
    order
        .extra
        .insert("order_id".into(), RawJson::new("\"shadow\"").unwrap());
    let written = serde_json::to_string(&order).unwrap();
    assert_eq!(
        written,
        r#"{"order_id":"ET1","pay_config_list":[],"new_field":[1, "a"]}"#
    );
    let reread: OrderCreated = serde_json::from_str(&written).unwrap();
    assert_eq!(reread.order_id, "ET1");
    assert_eq!(reread.extra.keys().collect::<Vec<_>>(), ["new_field"]);
}

#[test]
fn bad_payloads_name_the_field() {
    let missing = serde_json::from_str::<OrderCreated>(r#"{"pay_config_list":[]}"#).unwrap_err();
    assert!(
        missing.to_string().contains("missing field `order_id`"),
        "{missing}"
    );
    let twice =
        serde_json::from_str::<OrderCreated>(r#"{"order_id":"a","order_id":"b"}"#).unwrap_err();
    assert!(
        twice.to_string().contains("duplicate field `order_id`"),
        "{twice}"
    );
    let bad_amount =
        serde_json::from_str::<OrderCreated>(r#"{"order_id":"a","tuition_rmb":"12x"}"#)
            .unwrap_err();
    assert!(bad_amount.to_string().contains("12x"), "{bad_amount}");
    assert!(serde_json::from_str::<OrderCreated>("[]").is_err());
}

#[test]
fn payloads_read_from_a_json_value_too() {
    let value = json!({"order_id": "ET1", "order_status": "-3", "tuition_rmb": 5.5, "counter_fee": "1.20", "x": {"y": 1}});
    let info: OrderInfo = serde_json::from_value(value).unwrap();
    assert_eq!(info.order_status, OrderStatus::Refunding);
    assert_eq!(info.tuition_rmb.unwrap().as_str(), "5.5");
    assert_eq!(info.counter_fee.unwrap().as_str(), "1.20");
    assert_eq!(info.extra["x"].as_str(), r#"{"y":1}"#);
}

#[test]
fn create_order_writes_tuituon_and_skips_absent_fields() {
    let order = CreateOrder {
        name_ch: Some("张三".into()),
        ..CreateOrder::new(
            "M-1",
            "u",
            CountryCode::Gbr,
            CurrencyCode::new("GBP"),
            "10000.00".parse().unwrap(),
        )
    };
    assert_eq!(
        serde_json::to_string(&order).unwrap(),
        r#"{"merchant_order_id":"M-1","merchant_user_key":"u","country_code":"GBR","currency_code":"GBP","tuituon":10000.00,"name_ch":"张三"}"#
    );
}

#[test]
fn the_amount_reads_under_either_spelling_and_is_written_as_tuituon() {
    let head = r#"{"merchant_order_id":"M-1","merchant_user_key":"u","country_code":"GBR","currency_code":"GBP","#;
    for spelling in ["tuituon", "tuition"] {
        let text = format!(r#"{head}"{spelling}":10000.00}}"#);
        let order: CreateOrder = serde_json::from_str(&text).unwrap();
        assert_eq!(order.tuition.as_str(), "10000.00", "{spelling}");
        assert!(order.extra.is_empty(), "{spelling} is the typed field");
        let written = serde_json::to_string(&order).unwrap();
        assert!(written.ends_with(r#","tuituon":10000.00}"#), "{written}");
        let info: OrderInfo = serde_json::from_str(&format!(
            r#"{{"order_id":"ET1","order_status":0,"{spelling}":1.50}}"#
        ))
        .unwrap();
        assert_eq!(info.tuition.unwrap().as_str(), "1.50", "{spelling}");
    }
    assert_eq!(CreateOrder::ALIASES, [("tuition", "tuituon")]);
}

#[test]
fn both_spellings_at_once_are_refused_naming_the_field() {
    let text = r#"{"merchant_order_id":"M-1","merchant_user_key":"u","country_code":"GBR","currency_code":"GBP","tuituon":1.00,"tuition":2.00}"#;
    let err = serde_json::from_str::<CreateOrder>(text)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("duplicate field `tuituon`") && err.contains("`tuition`"),
        "{err}"
    );
}

#[test]
fn an_alias_in_extra_is_not_written_beside_the_typed_field() {
    let mut order = CreateOrder::new(
        "M-1",
        "u",
        CountryCode::Gbr,
        CurrencyCode::new("GBP"),
        "1.00".parse().unwrap(),
    );
    order
        .extra
        .insert("tuition".into(), RawJson::new("9.99").unwrap());
    let written = serde_json::to_string(&order).unwrap();
    assert!(!written.contains("tuition\""), "{written}");
    assert!(!written.contains("9.99"), "{written}");
}

/// Splits a request into its parts, writes them, and rebuilds it.
fn split<Op: Operation>(op: &Op) -> (String, String) {
    let (data, sensitive) = op.parts();
    let out = (
        serde_json::to_string(data).unwrap(),
        serde_json::to_string(sensitive).unwrap(),
    );
    let rebuilt = Op::from_parts(
        serde_json::from_str(&out.0).unwrap(),
        serde_json::from_str(&out.1).unwrap(),
    );
    assert_eq!(&rebuilt, op);
    out
}

#[test]
fn operations_place_their_fields_as_documented() {
    let order = CreateOrder::new(
        "M-1",
        "u",
        CountryCode::Gbr,
        CurrencyCode::new("GBP"),
        "1".parse().unwrap(),
    );
    let (data, sensitive) = split(&order);
    assert_eq!(data, "{}");
    assert!(sensitive.contains("merchant_order_id"));
    assert_eq!(CreateOrder::SERVER_TYPE.as_str(), "create_order");
    assert_eq!(CreateOrder::OUTPUT_IN, Placement::Data);

    let upload = UploadAttachment {
        order_id: "ET1".into(),
        attachment_type: AttachmentType::OfferLetter,
        base64: "aGk=".into(),
        file_name: "offer.pdf".into(),
        extra: Extra::new(),
    };
    assert_eq!(split(&upload).1, "{}");
    assert_eq!(
        split(&upload).0,
        r#"{"order_id":"ET1","attachment_type":1,"base64":"aGk=","file_name":"offer.pdf"}"#
    );
    assert_eq!(
        split(&GetPayUrl::new("ET1")),
        (r#"{"order_id":"ET1"}"#.into(), "{}".into())
    );
    assert_eq!(
        split(&QueryOrders::new(["ET1"])).0,
        r#"{"order_id_list":["ET1"]}"#
    );
    assert_eq!(QueryOrders::OUTPUT_IN, Placement::Sensitive);

    let server_types = [
        (UploadAttachment::SERVER_TYPE, "upload_attachment"),
        (GetPayUrl::SERVER_TYPE, "get_special_pay_url"),
        (QueryOrders::SERVER_TYPE, "batch_special_query_order_info"),
        (GetRate::SERVER_TYPE, "get_rate"),
        (EstimateAmount::SERVER_TYPE, "get_estimated_amount"),
        (ApplyRefund::SERVER_TYPE, "apply_refund"),
    ];
    for (server_type, name) in server_types {
        assert_eq!(server_type.as_str(), name);
    }
}

fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn notifications_are_classified_by_their_fields() {
    // 04-notifications.md §3.1, the EN worked example (values as received text).
    let paid = fields(&[
        ("order_id", "ETxxxxxxxxxxxx01"),
        ("pay_result", "1"),
        ("pay_amount", "10000.00"),
        ("pay_datetime", "2024-12-01 10:00:00"),
        ("extend_info", ""),
    ]);
    let Notification::PaymentSuccess(payment) = Notification::classify(&paid).unwrap() else {
        panic!("payment")
    };
    assert_eq!(payment.pay_result, PayResult::Succeeded);
    assert_eq!(payment.pay_amount.as_str(), "10000.00");
    assert_eq!(Notification::PaymentSuccess(payment).to_fields(), paid);

    let refund = fields(&[
        ("order_id", "ET00000000000000001"),
        ("refund_order_id", "xxxxxxxxxxx"),
        ("refund_result", "0"),
        ("refund_amount", "10000.00"),
        ("refund_datetime", "2024-01-01 10:00:00"),
        ("extend_info", ""),
        ("sign", "xxx"),
    ]);
    let notice = Notification::classify(&refund).unwrap();
    assert_eq!(notice.kind(), NotificationKind::RefundResult);
    let Notification::RefundResult(ref result) = notice else {
        panic!("refund")
    };
    assert_eq!(result.refund_result, RefundResult::Failed);
    assert_eq!(result.extra["sign"].as_str(), "\"xxx\"");
    assert_eq!(notice.order_id(), Some("ET00000000000000001"));

    let voucher = fields(&[
        ("order_id", "ET20260101xxxxxxxx"),
        (
            "remittance_voucher_url",
            "https://static.et.cn/xxx/xxx/xxx.pdf",
        ),
        ("extend_info", ""),
    ]);
    assert_eq!(
        Notification::classify(&voucher).unwrap().kind(),
        NotificationKind::RemittanceVoucher
    );

    let change = fields(&[
        ("notify_type", "order_status_change"),
        ("order_id", "ET1"),
        ("datetime", "2024-12-12 10:00:00"),
        ("order_status", "2"),
    ]);
    let Notification::OrderStatusChange(status) = Notification::classify(&change).unwrap() else {
        panic!("change")
    };
    assert_eq!(status.order_status, OrderStatus::Remitting);

    let other = fields(&[("order_id", "ET1"), ("remit_result", "1")]);
    assert_eq!(
        Notification::classify(&other).unwrap(),
        Notification::Unknown(other.clone())
    );
    assert_eq!(Notification::Unknown(other.clone()).order_id(), Some("ET1"));
}

#[test]
fn malformed_notifications_say_which_kind_and_field() {
    let bad = fields(&[
        ("order_id", "ET1"),
        ("pay_result", "yes"),
        ("pay_amount", "1"),
        ("pay_datetime", ""),
    ]);
    let error = Notification::classify(&bad).unwrap_err();
    assert_eq!(error.kind, NotificationKind::PaymentSuccess);
    assert!(
        error
            .to_string()
            .starts_with("payment success notification:"),
        "{error}"
    );
    assert!(error.reason.contains("pay result"), "{error}");
    let missing = fields(&[("order_id", "ET1"), ("refund_result", "1")]);
    let error = Notification::classify(&missing).unwrap_err();
    assert!(error.reason.contains("refund_order_id"), "{error}");
}

#[test]
fn every_notification_kind_round_trips_through_its_one_name() {
    let mut names = std::collections::HashSet::new();
    for kind in NotificationKind::ALL {
        assert!(names.insert(kind.as_str()), "{kind:?} shares its name");
        assert_eq!(NotificationKind::from_code(kind.as_str()), Some(kind));
    }
    assert_eq!(NotificationKind::from_code("payment success"), None);
    assert_eq!(NotificationKind::PaymentSuccess.as_str(), "payment_success");
}
