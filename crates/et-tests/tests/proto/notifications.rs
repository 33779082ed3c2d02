//! Notification reading, MD5 verification, classification, dedup and
//! acknowledgement, against ET's documented example.

use et_model::{NotificationKind, OrderStatus};
use et_proto::{
    refund_acknowledgement, sign_notification, sign_notification_by, EtSide, MatchedRule, Message,
    NotificationVerifier, NotifySignRule, UntypedObject, ACK_FAIL, ACK_OK,
};

/// ET's v2 signature example (spec 04 §3.1), as JSON with the amount a number.
const ET_EXAMPLE: &str = et_testkit::ET_V2_PAYMENT_NOTIFICATION;

fn verifier(rule: NotifySignRule) -> NotificationVerifier {
    NotificationVerifier::new("abc123", rule)
}

#[test]
fn et_md5_example_verifies_and_10000_0_does_not() {
    let v = verifier(NotifySignRule::V2);
    let ok = v
        .verify_owned(
            Some("application/json"),
            ET_EXAMPLE.as_bytes(),
            std::time::SystemTime::now(),
        )
        .unwrap();
    assert_eq!(ok.kind(), NotificationKind::PaymentSuccess);
    assert_eq!(ok.fields().text("pay_amount"), Some("10000.00"));
    assert_eq!(ok.matched_rule(), MatchedRule::V2);
    assert_eq!(ok.acknowledgement(), ACK_OK);
    let float = ET_EXAMPLE.replace("10000.00", "10000.0");
    assert_eq!(
        v.verify_owned(None, float.as_bytes(), std::time::SystemTime::now())
            .unwrap_err(),
        et_proto::Error::SignatureMismatch {
            what: et_proto::Message::Notification
        }
    );
    let upper = ET_EXAMPLE.replace(
        "652614570bcc49940d7dcc7a3c3dc7e5",
        "652614570BCC49940D7DCC7A3C3DC7E5",
    );
    assert!(v
        .verify_owned(None, upper.as_bytes(), std::time::SystemTime::now())
        .is_ok());
    assert!(NotificationVerifier::new("abc124", NotifySignRule::V2)
        .verify_owned(None, ET_EXAMPLE.as_bytes(), std::time::SystemTime::now())
        .is_err());
}

#[test]
fn form_bodies_and_sniffing() {
    let form = "order_id=ETxxxxxxxxxxxx01&pay_result=1&pay_amount=10000.00&pay_datetime=2024-12-01+10%3A00%3A00&extend_info=&sign=652614570bcc49940d7dcc7a3c3dc7e5";
    let v = verifier(NotifySignRule::V2);
    for content_type in [
        Some("application/x-www-form-urlencoded"),
        None,
        Some("text/plain"),
    ] {
        assert!(
            v.verify_owned(content_type, form.as_bytes(), std::time::SystemTime::now())
                .is_ok(),
            "{content_type:?}"
        );
    }
    for content_type in [
        None,
        Some("application/json; charset=utf-8"),
        Some("Application/JSON"),
        Some("application/problem+JSON"),
        Some("text/plain"),
    ] {
        assert!(
            v.verify_owned(
                content_type,
                ET_EXAMPLE.as_bytes(),
                std::time::SystemTime::now()
            )
            .is_ok(),
            "{content_type:?}"
        );
    }
    assert!(v
        .verify_owned(
            Some("application/json"),
            form.as_bytes(),
            std::time::SystemTime::now()
        )
        .is_err());
    assert!(matches!(
        v.verify_owned(
            Some("multipart/mixed; boundary=x"),
            form.as_bytes(),
            std::time::SystemTime::now()
        ),
        Err(et_proto::Error::UnsupportedContentType(_))
    ));
    assert_eq!(
        v.verify_owned(
            Some("Multipart/Mixed"),
            form.as_bytes(),
            std::time::SystemTime::now()
        ),
        Err(et_proto::Error::UnsupportedContentType(
            "multipart/mixed".to_owned()
        ))
    );
}

#[test]
fn multipart_form_data_verifies_like_the_form_body() {
    let fields = [
        ("order_id", "ETxxxxxxxxxxxx01"),
        ("pay_result", "1"),
        ("pay_amount", "10000.00"),
        ("pay_datetime", "2024-12-01 10:00:00"),
        ("extend_info", ""),
        ("sign", "652614570bcc49940d7dcc7a3c3dc7e5"),
    ];
    let mut body = String::new();
    for (name, value) in fields {
        body += &format!(
            "--b0undary\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        );
    }
    body += "--b0undary--\r\n";
    let v = verifier(NotifySignRule::V2);
    let ok = v
        .verify_owned(
            Some("multipart/form-data; boundary=b0undary"),
            body.as_bytes(),
            std::time::SystemTime::now(),
        )
        .unwrap();
    assert_eq!(ok.kind(), NotificationKind::PaymentSuccess);
    assert_eq!(ok.fields().text("pay_amount"), Some("10000.00"));
    let tampered = body.replace("10000.00", "10000.0");
    assert!(matches!(
        v.verify_owned(
            Some("multipart/form-data; boundary=b0undary"),
            tampered.as_bytes(),
            std::time::SystemTime::now(),
        ),
        Err(et_proto::Error::SignatureMismatch { .. })
    ));
}

#[test]
fn voucher_example_with_trailing_comma_is_read() {
    let unsigned = UntypedObject::parse_json(
        br#"{"order_id": "ET20260101xxxxxxxx", "remittance_voucher_url": "https://static.et.cn/xxx/xxx/xxx.pdf", "extend_info": ""}"#,
        Message::Notification,
    )
    .unwrap();
    let signed = UntypedObject::parse_json(
        &sign_notification("abc123", unsigned),
        Message::Notification,
    )
    .unwrap();
    let body = format!(
        "{{\n    \"order_id\": \"ET20260101xxxxxxxx\",\n    \"remittance_voucher_url\": \"https://static.et.cn/xxx/xxx/xxx.pdf\",\n    \"extend_info\": \"\",\n    \"sign\": \"{}\",\n}}",
        signed.text("sign").unwrap()
    );
    let n = verifier(NotifySignRule::V2)
        .verify_owned(None, body.as_bytes(), std::time::SystemTime::now())
        .unwrap();
    assert_eq!(n.kind(), NotificationKind::RemittanceVoucher);
    assert_eq!(
        n.dedup_key(),
        "remittance_voucher:ET20260101xxxxxxxx:https://static.et.cn/xxx/xxx/xxx.pdf"
    );
    assert_eq!(n.acknowledgement(), ACK_OK);
}

#[test]
fn refund_result_gets_the_signed_reply() {
    let fields = UntypedObject::parse_json(
        br#"{"order_id":"ET00000000000000001","refund_order_id":"R1","refund_result":1,"refund_amount":10000.00,"refund_datetime":"2024-01-01 10:00:00","extend_info":""}"#,
        Message::Notification,
    )
    .unwrap();
    let body = EtSide::sign_notification("abc123", fields);
    let n = verifier(NotifySignRule::V2)
        .verify_owned(
            Some("application/json"),
            &body,
            std::time::SystemTime::now(),
        )
        .unwrap();
    assert_eq!(n.kind(), NotificationKind::RefundResult);
    assert_eq!(n.dedup_key(), "refund_result:ET00000000000000001:R1:1");
    let expected_sign =
        et_crypto::md5_hex("abc123", "notify_result=OK&order_id=ET00000000000000001");
    assert_eq!(
        String::from_utf8(n.acknowledgement().to_vec()).unwrap(),
        format!(
            r#"{{"order_id":"ET00000000000000001","notify_result":"OK","sign":"{expected_sign}"}}"#
        )
    );
    assert_eq!(ACK_FAIL, br#"{"notify_result":"FAIL"}"#);
    assert_eq!(
        n.acknowledgement(),
        refund_acknowledgement("abc123", "ET00000000000000001")
    );
}

#[test]
fn dedup_keys_separate_events_and_merge_redeliveries() {
    let status = |s: &str, at: &str| {
        let fields = UntypedObject::parse_json(
            format!(r#"{{"notify_type":"order_status_change","order_id":"ET1","datetime":"{at}","order_status":"{s}"}}"#).as_bytes(),
            Message::Notification,
        )
        .unwrap();
        verifier(NotifySignRule::V2)
            .verify_owned(
                None,
                &sign_notification("abc123", fields),
                std::time::SystemTime::now(),
            )
            .unwrap()
    };
    let first = status("2", "2024-12-12 10:00:00");
    let Some(et_model::Notification::OrderStatusChange(change)) =
        Some(first.notification().clone())
    else {
        panic!("not a status change")
    };
    assert_eq!(change.order_status, OrderStatus::Remitting);
    assert_eq!(
        first.dedup_key(),
        status("2", "2024-12-12 10:00:00").dedup_key()
    );
    assert_ne!(
        first.dedup_key(),
        status("3", "2024-12-12 10:00:00").dedup_key()
    );
    assert_ne!(
        first.dedup_key(),
        status("2", "2024-12-13 10:00:00").dedup_key()
    );
    let unknown = UntypedObject::parse_json(
        br#"{"order_id":"ET1","something":"new"}"#,
        Message::Notification,
    )
    .unwrap();
    let unknown = verifier(NotifySignRule::V2)
        .verify_owned(
            None,
            &sign_notification("abc123", unknown),
            std::time::SystemTime::now(),
        )
        .unwrap();
    assert_eq!(unknown.kind(), NotificationKind::Unknown);
    assert!(unknown.dedup_key().starts_with("unknown:"));
}

#[test]
fn v1_printed_order_only_with_v1_compat() {
    let form =
        "order_id=ET1&pay_result=1&pay_amount=100&pay_datetime=2017-10-12 10:00:00&extend_info=";
    let printed =
        "order_id=ET1&pay_result=1&pay_amount=100&pay_datetime=2017-10-12 10:00:00&extend_info";
    let body = format!("{form}&sign={}", et_crypto::md5_hex("abc123", printed));
    assert!(verifier(NotifySignRule::V2)
        .verify_owned(None, body.as_bytes(), std::time::SystemTime::now())
        .is_err());
    let n = verifier(NotifySignRule::V1Compat)
        .verify_owned(None, body.as_bytes(), std::time::SystemTime::now())
        .unwrap();
    assert_eq!(n.matched_rule(), MatchedRule::V1Printed);
}

#[test]
fn signing_by_a_profiles_rule_verifies_under_that_rule_only() {
    let fields = UntypedObject::parse_form(
        b"order_id=ET1&pay_result=1&pay_amount=100&pay_datetime=2017-10-12 10:00:00&extend_info=",
    )
    .unwrap();
    let v1 = sign_notification_by("abc123", NotifySignRule::V1Compat, fields.clone());
    let printed =
        "order_id=ET1&pay_result=1&pay_amount=100&pay_datetime=2017-10-12 10:00:00&extend_info";
    let signed = UntypedObject::parse_json(&v1, Message::Notification).unwrap();
    assert_eq!(
        signed.text("sign"),
        Some(et_crypto::md5_hex("abc123", printed).as_str())
    );
    let n = verifier(NotifySignRule::V1Compat)
        .verify_owned(None, &v1, std::time::SystemTime::now())
        .unwrap();
    assert_eq!(n.matched_rule(), MatchedRule::V1Printed);
    assert!(verifier(NotifySignRule::V2)
        .verify_owned(None, &v1, std::time::SystemTime::now())
        .is_err());
    assert_eq!(
        sign_notification_by("abc123", NotifySignRule::V2, fields.clone()),
        sign_notification("abc123", fields)
    );
}

#[test]
fn missing_sign_is_named() {
    let body = br#"{"order_id":"ET1","pay_result":1}"#;
    assert_eq!(
        verifier(NotifySignRule::V2)
            .verify_owned(None, body, std::time::SystemTime::now())
            .unwrap_err(),
        et_proto::Error::MissingSignature {
            what: et_proto::Message::Notification
        }
    );
}

/// The view `verify` returns borrows the body for every unescaped value
/// (JSON and form alike) and agrees with the owned, typed result.
#[test]
fn verify_borrows_the_body_and_agrees_with_the_owned_result() {
    let v = verifier(NotifySignRule::V2);
    let fields = UntypedObject::parse_json(ET_EXAMPLE.as_bytes(), Message::Notification).unwrap();
    let form: String = fields
        .iter()
        .map(|(k, val)| format!("{k}={}&", val.text()))
        .collect();
    for (content_type, body) in [
        (Some("application/json"), ET_EXAMPLE.as_bytes()),
        (None, form.trim_end_matches('&').as_bytes()),
    ] {
        let view = v
            .verify(content_type, body, std::time::SystemTime::now())
            .unwrap();
        let range = body.as_ptr_range();
        let ids = ["order_id", "pay_amount", "sign"];
        for (key, value) in view.fields().iter().filter(|(k, _)| ids.contains(k)) {
            let text = value.text().as_bytes().as_ptr();
            assert!(range.contains(&text), "{key} was copied");
        }
        let owned = view.to_verified().unwrap();
        assert_eq!(view.kind(), owned.kind());
        assert_eq!(view.dedup_key(), owned.dedup_key());
        assert_eq!(view.notification().as_ref(), Ok(owned.notification()));
        assert_eq!(view.text("pay_amount"), owned.fields().text("pay_amount"));
    }
}

/// A typed notification signs to ET's worked example, and every kind reads
/// back as the value it was written from, `order_status` sent as a string.
#[test]
fn typed_notifications_sign_like_et_and_read_back_unchanged() {
    let v = verifier(NotifySignRule::V2);
    let example = v
        .verify_owned(
            Some("application/json"),
            ET_EXAMPLE.as_bytes(),
            std::time::SystemTime::now(),
        )
        .unwrap();
    let body = EtSide::signed_notification(example.notification(), "abc123").unwrap();
    assert_eq!(
        String::from_utf8(body).unwrap(),
        r#"{"order_id":"ETxxxxxxxxxxxx01","pay_result":1,"pay_amount":10000.00,"pay_datetime":"2024-12-01 10:00:00","extend_info":"","sign":"652614570bcc49940d7dcc7a3c3dc7e5"}"#
    );
    let status = UntypedObject::parse_json(
        br#"{"notify_type":"order_status_change","order_id":"ET1","datetime":"2024-12-12 10:00:00","order_status":"-3"}"#,
        Message::Notification,
    )
    .unwrap();
    let status = v
        .verify_owned(
            None,
            &sign_notification("abc123", status),
            std::time::SystemTime::now(),
        )
        .unwrap();
    let body = EtSide::signed_notification(status.notification(), "abc123").unwrap();
    assert!(String::from_utf8_lossy(&body).contains(r#""order_status":"-3""#));
    for n in [&example, &status] {
        let body = EtSide::signed_notification(n.notification(), "abc123").unwrap();
        let again = v
            .verify_owned(None, &body, std::time::SystemTime::now())
            .unwrap();
        assert_eq!(again.notification(), n.notification());
    }
}

/// A UTF-8 byte order mark before the body is not part of it: a body read
/// by its content type or by sniffing (`{` or not) reads as what follows it.
#[test]
fn a_body_starting_with_a_utf8_bom_reads_as_what_follows_it() {
    let v = verifier(NotifySignRule::V2);
    let with_bom = |body: &str| [b"\xEF\xBB\xBF".as_slice(), body.as_bytes()].concat();
    let form = "order_id=ETxxxxxxxxxxxx01&pay_result=1&pay_amount=10000.00&pay_datetime=2024-12-01+10%3A00%3A00&extend_info=&sign=652614570bcc49940d7dcc7a3c3dc7e5";
    for content_type in [None, Some("text/plain"), Some("application/json")] {
        let read = v.verify_owned(
            content_type,
            &with_bom(ET_EXAMPLE),
            std::time::SystemTime::now(),
        );
        assert!(read.is_ok(), "JSON, {content_type:?}: {read:?}");
    }
    for content_type in [None, Some("application/x-www-form-urlencoded")] {
        let read = v.verify_owned(content_type, &with_bom(form), std::time::SystemTime::now());
        assert!(read.is_ok(), "form, {content_type:?}: {read:?}");
    }
}

/// A body with no JSON or form content type that does not look like JSON
/// is read as a form; when that reading finds no `sign`, the error says
/// so, for the body is likely neither.
#[test]
fn a_sniffed_body_without_a_sign_says_what_it_was_read_as() {
    let v = verifier(NotifySignRule::V2);
    for body in [&b"hello world"[..], b"<xml>order_id=1</xml>", b"[1,2]"] {
        for content_type in [None, Some("text/plain")] {
            let error = v
                .verify_owned(content_type, body, std::time::SystemTime::now())
                .unwrap_err();
            assert_eq!(
                error,
                et_proto::Error::UnsignedSniffedBody {
                    read_as: et_proto::Input::Form
                }
            );
            assert!(error.to_string().contains("read as a form body"), "{error}");
        }
    }
    // A body its content type calls a form is one, signed or not.
    assert_eq!(
        v.verify_owned(
            Some("application/x-www-form-urlencoded"),
            b"hello",
            std::time::SystemTime::now()
        )
        .unwrap_err(),
        et_proto::Error::MissingSignature {
            what: Message::Notification
        }
    );
}

/// ET's side signs and encodes a notification as its profile says; a
/// receiver with the same rule reads it back unchanged, one with the v2
/// rule only refuses a v1 signature, and every receiver reads a form.
#[test]
fn et_side_signs_and_encodes_notifications_as_its_profile_says() {
    use et_proto::{NotifyEncoding, Profile, SettingName};
    let example = verifier(NotifySignRule::V2)
        .verify_owned(None, ET_EXAMPLE.as_bytes(), std::time::SystemTime::now())
        .unwrap();
    for &(_, rule) in NotifySignRule::NAMES {
        for &(_, encoding) in NotifyEncoding::NAMES {
            let profile = Profile {
                notify_sign_rule: rule,
                notify_encoding: encoding,
                ..Profile::default()
            };
            let et = EtSide::new(et_testkit::key(et_testkit::Who::Et, 1024).clone(), profile);
            let body = et
                .notification_body(example.notification(), "abc123")
                .unwrap();
            let what = format!("{rule:?} {encoding:?}");
            assert_eq!(
                body.first() == Some(&b'{'),
                encoding == NotifyEncoding::Json,
                "{what}"
            );
            let read = verifier(rule)
                .verify_owned(
                    Some(encoding.content_type()),
                    &body,
                    std::time::SystemTime::now(),
                )
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            let unsigned = |n: &et_proto::VerifiedNotification| -> Vec<(String, String)> {
                n.fields()
                    .iter()
                    .filter(|(key, _)| *key != "sign")
                    .map(|(key, value)| (key.to_owned(), value.text().to_owned()))
                    .collect()
            };
            assert_eq!(unsigned(&read), unsigned(&example), "{what}");
            let expected = match rule {
                NotifySignRule::V2 => MatchedRule::V2,
                NotifySignRule::V1Compat => MatchedRule::V1Printed,
            };
            assert_eq!(read.matched_rule(), expected, "{what}");
            let v2_only = verifier(NotifySignRule::V2).verify_owned(
                None,
                &body,
                std::time::SystemTime::now(),
            );
            assert_eq!(v2_only.is_ok(), rule == NotifySignRule::V2, "{what}");
        }
    }
}

#[test]
fn the_v1_signer_signs_the_printed_form_with_the_salt_prefixed() {
    let fields = UntypedObject::parse_json(
        br#"{"order_id":"ET1","pay_result":1,"pay_amount":100,"pay_datetime":"2017-10-12 10:00:00","extend_info":""}"#,
        Message::Notification,
    )
    .unwrap();
    let printed = et_proto::v1_printed_string(&fields);
    assert_eq!(
        printed,
        "order_id=ET1&pay_result=1&pay_amount=100&pay_datetime=2017-10-12 10:00:00&extend_info"
    );
    let body = et_proto::sign_notification_by("abc123", et_proto::NotifySignRule::V1Compat, fields);
    let signed = UntypedObject::parse_json(&body, Message::Notification).unwrap();
    assert_eq!(
        signed.text("sign"),
        Some(et_crypto::md5_hex("abc123", printed).as_str())
    );
}
