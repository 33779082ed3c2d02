//! A signed text is believed only as the object ET signed: every other
//! reading of the same sign string (a re-split, the same signature) is
//! refused, for responses and for notifications.

mod common;

use common::{Parties, SALT};
use et_model::StatusCode;
use et_proto::{
    sign_notification, sign_string, Error, Message, NotificationVerifier, NotifySignRule, Profile,
    RequestOptions, Response, ShapeRule, UntypedObject, UntypedValue,
};
use proptest::prelude::*;

type Pairs = Vec<(String, String)>;

/// Every reading of `text` as a sign string: `k=v` pairs joined by `&`,
/// each key the text up to its first `=`, keys strictly increasing (as
/// the sorted sign string has them).
fn readings(text: &str) -> Vec<Pairs> {
    fn from(
        text: &str,
        start: usize,
        last_key: Option<&str>,
        out: &mut Vec<Pairs>,
        acc: &mut Pairs,
    ) {
        let ends = text[start..]
            .match_indices('&')
            .map(|(i, _)| start + i)
            .chain([text.len()]);
        for end in ends {
            let Some((key, value)) = text[start..end].split_once('=') else {
                continue;
            };
            if last_key.is_some_and(|last| key <= last) {
                continue;
            }
            acc.push((key.to_owned(), value.to_owned()));
            if end == text.len() {
                out.push(acc.clone());
            } else {
                from(text, end + 1, Some(key), out, acc);
            }
            acc.pop();
        }
    }
    let mut out = Vec::new();
    from(text, 0, None, &mut out, &mut Vec::new());
    out
}

/// The object of `pairs` (every value a string: its sign text is the
/// same) carrying `sign`.
fn object(pairs: &Pairs, sign: &str) -> UntypedObject {
    pairs
        .iter()
        .map(|(k, v)| (k.clone(), UntypedValue::string(v.clone())))
        .chain([("sign".to_owned(), UntypedValue::string(sign))])
        .collect()
}

fn pairs_of(object: &UntypedObject) -> Pairs {
    let text = sign_string(object);
    let mut pairs: Pairs = object
        .iter()
        .filter(|(k, _)| *k != "sign")
        .map(|(k, v)| (k.to_owned(), v.text().to_owned()))
        .collect();
    pairs.sort();
    assert!(
        readings(&text).contains(&pairs),
        "the original is a reading"
    );
    pairs
}

/// Whether the merchant believed `body` as a signed object: a success, or a
/// refusal marked authenticated.
fn believed(result: &Result<et_proto::UntypedReply, Error>) -> bool {
    matches!(
        result,
        Ok(_)
            | Err(Error::Api {
                authenticated: true,
                ..
            })
    )
}

/// ET's response to `request` with values an attacker chose, and every
/// re-split of it: none but the original may be believed.
fn check_response_readings(
    parties: &Parties,
    request: &et_proto::BuiltRequest,
    response: &Response,
) -> usize {
    let body = parties.et_respond(response);
    let signed = UntypedObject::parse_json(&body, Message::Response).unwrap();
    let sign = signed.text("sign").unwrap();
    let original = pairs_of(&signed);
    let mut tried = 0;
    for reading in readings(&sign_string(&signed)) {
        if reading == original {
            continue;
        }
        tried += 1;
        let forged = object(&reading, sign).to_json();
        let result = parties
            .merchant
            .open_untyped(Some(request), forged.as_bytes());
        assert!(
            !believed(&result),
            "re-split believed: {reading:?} from {original:?}: {result:?}"
        );
    }
    tried
}

#[test]
fn et_refusal_echoing_a_crafted_return_info_is_not_read_as_a_success() {
    // The reported attack: no random return_info, so the echo check alone
    // does not save us; the shape rule must.
    let profile = Profile {
        random_return_info: false,
        ..Profile::default()
    };
    let parties = Parties::same(1024, profile);
    let request = parties
        .merchant
        .build(&et_model::GetPayUrl::new("ET1"))
        .unwrap();
    let crafted = "&sensitive_data=&status_code=000000&version=2.0.0&zzz=";
    let body = parties.et_respond(&Response::new(
        StatusCode::from_code("100002"),
        "bad signature",
        crafted,
    ));
    let signed = UntypedObject::parse_json(&body, Message::Response).unwrap();
    let text = sign_string(&signed);
    let (head, tail) = text.split_once("&return_info=").unwrap();
    assert!(tail.starts_with(crafted));
    // return_info="", sensitive_data="", status_code=000000, version=2.0.0,
    // zzz = ET's real tail.
    let mut forged: Pairs = readings(&text)
        .into_iter()
        .find(|r| {
            r.iter().any(|(k, v)| k == "status_code" && v == "000000")
                && r.iter().any(|(k, _)| k == "zzz")
        })
        .expect("the forged reading exists");
    forged.sort();
    assert!(head.starts_with("aeskey="));
    let forged_body = object(&forged, signed.text("sign").unwrap()).to_json();
    let result = parties
        .merchant
        .open_untyped(Some(&request), forged_body.as_bytes());
    assert_eq!(
        result.unwrap_err(),
        Error::Shape {
            context: Message::Response,
            key: "zzz".into(),
            rule: ShapeRule::UnknownKey
        }
    );
    // ET's own signed text is still a refusal.
    assert!(matches!(
        parties.merchant.open_untyped(Some(&request), &body),
        Err(Error::Shape {
            rule: ShapeRule::SeparatorInValue,
            ..
        })
    ));
    assert!(
        check_response_readings(
            &parties,
            &request,
            &Response::new(StatusCode::from_code("100002"), "bad signature", crafted,)
        ) > 0
    );
}

/// The `return_info` our request sends (an attacker who sees the request
/// knows it and plants it in ET's signed text).
const OURS: &str = "Zq3Lx9Tt0pWb7Kc2Nd5Hf1";

/// Text with sign-string separators an attacker would plant.
fn fragments() -> impl Strategy<Value = String> {
    let pieces = vec![
        "&status_code=000000",
        "&version=2.0.0",
        "&zzz=",
        "&sensitive_data=",
        "&message=SUCCESS",
        "&count=0",
        "&data=[]",
        "&extend_info=",
        "&aeskey=",
        "&return_info=Zq3Lx9Tt0pWb7Kc2Nd5Hf1",
        "&a=1",
        "=",
        "&",
        "x",
    ];
    prop::collection::vec(prop::sample::select(pieces), 0..3).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn no_re_split_of_a_signed_response_is_believed(
        status in prop::sample::select(vec!["000000", "100002"]),
        message in fragments(),
        echo_ours in any::<bool>(),
        return_tail in fragments(),
        extend_info in fragments(),
        item in fragments(),
    ) {
        let parties = Parties::same(1024, Profile::default());
        let options = RequestOptions { return_info: OURS.into(), ..RequestOptions::default() };
        let request = parties.merchant.build_with(&et_model::GetPayUrl::new("ET1"), &options).unwrap();
        let return_info = if echo_ours { format!("{OURS}{return_tail}") } else { return_tail };
        let mut response = Response::new(StatusCode::from_code(status), message, return_info);
        response.extend_info = extend_info;
        response.data = serde_json::to_string(&[item]).unwrap();
        response.count = 1;
        check_response_readings(&parties, &request, &response);
    }
}

fn payment(extend_info: &str, order_id: &str) -> UntypedObject {
    [
        ("order_id", UntypedValue::string(order_id)),
        ("pay_result", UntypedValue::integer(1)),
        ("pay_amount", UntypedValue::from_json("10000.00").unwrap()),
        ("pay_datetime", UntypedValue::string("2024-12-01 10:00:00")),
        ("extend_info", UntypedValue::string(extend_info)),
    ]
    .into_iter()
    .collect()
}

/// Every re-split of a signed notification: none but the original verifies.
fn check_notification_readings(fields: UntypedObject) -> usize {
    let verifier = NotificationVerifier::new(SALT, NotifySignRule::V2);
    let body = sign_notification(SALT, fields);
    let signed = UntypedObject::parse_json(&body, Message::Notification).unwrap();
    let sign = signed.text("sign").unwrap();
    let original = pairs_of(&signed);
    let mut tried = 0;
    for reading in readings(&sign_string(&signed)) {
        if reading == original {
            continue;
        }
        tried += 1;
        let result = verifier.verify_fields(object(&reading, sign));
        assert!(
            result.is_err(),
            "re-split verified: {reading:?} from {original:?}: {result:?}"
        );
    }
    tried
}

#[test]
fn a_notification_key_holding_separators_is_refused() {
    // Two keys merged into one: the same sign string, read as kind unknown.
    let verifier = NotificationVerifier::new(SALT, NotifySignRule::V2);
    let signed = UntypedObject::parse_json(
        &sign_notification(SALT, payment("", "ET1")),
        Message::Notification,
    )
    .unwrap();
    let text = sign_string(&signed);
    let (key, value) = text.split_once("=ET1").unwrap();
    assert_eq!(key, "extend_info=&order_id");
    let mut merged: UntypedObject = [(key.to_owned(), UntypedValue::string(format!("ET1{value}")))]
        .into_iter()
        .collect();
    assert_eq!(sign_string(&merged), text);
    merged.insert("sign", UntypedValue::string(signed.text("sign").unwrap()));
    assert!(matches!(
        verifier.verify_fields(merged),
        Err(Error::Shape {
            rule: ShapeRule::SeparatorInKey,
            ..
        })
    ));
    assert!(check_notification_readings(payment("", "ET1")) > 0);
}

#[test]
fn a_notification_field_outside_its_kind_is_refused_unless_named() {
    let mut fields = payment("", "ET1");
    fields.insert("zzz", UntypedValue::string("1"));
    let body = sign_notification(SALT, fields);
    let strict = NotificationVerifier::new(SALT, NotifySignRule::V2);
    assert_eq!(
        strict.verify_owned(None, &body).unwrap_err(),
        Error::Shape {
            context: Message::Notification,
            key: "zzz".into(),
            rule: ShapeRule::UnknownKey
        }
    );
    let tolerant =
        NotificationVerifier::new(SALT, NotifySignRule::V2).with_extra_fields(["zzz".to_owned()]);
    assert!(tolerant.verify_owned(None, &body).is_ok());
}

fn notification_fragment() -> impl Strategy<Value = String> {
    let pieces = vec![
        "&pay_result=1",
        "&pay_amount=1.00",
        "&order_id=ET2",
        "&notify_type=order_status_change",
        "&order_status=3",
        "&datetime=x",
        "&refund_result=1",
        "&zzz=",
        "&a=1",
        "=",
        "&",
        "x",
    ];
    prop::collection::vec(prop::sample::select(pieces), 0..4).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn no_re_split_of_a_signed_notification_verifies(
        extend_info in notification_fragment(),
        order_id in notification_fragment(),
    ) {
        check_notification_readings(payment(&extend_info, &format!("ET1{order_id}")));
    }
}

/// A change to a response object.
type Change = Box<dyn FnOnce(&mut UntypedObject)>;

/// ET's success response to `request` with `change` applied, signed by ET.
fn signed_reply(
    parties: &Parties,
    request: &et_proto::BuiltRequest,
    change: impl FnOnce(&mut UntypedObject),
) -> Vec<u8> {
    let body = parties.et_respond(&Response::success(&parties.et_open(request)));
    let mut object = UntypedObject::parse_json(&body, Message::Response).unwrap();
    change(&mut object);
    et_testkit::resign(&mut object, common::key(common::Who::Et, 1024)).unwrap();
    object.to_json().into_bytes()
}

#[test]
fn a_signed_response_is_believed_only_in_ets_documented_shape() {
    let parties = Parties::same(1024, Profile::default());
    let request = parties
        .merchant
        .build(&et_model::GetPayUrl::new("ET1"))
        .unwrap();
    let open = |body: &[u8]| parties.merchant.open_untyped(Some(&request), body);
    assert!(open(&signed_reply(&parties, &request, |_| {})).is_ok());
    let refused = |key: &str, rule| {
        Err::<et_proto::UntypedReply, _>(Error::Shape {
            context: Message::Response,
            key: key.into(),
            rule,
        })
    };
    let cases: Vec<(&str, Change, _)> = vec![
        (
            "an unknown key",
            Box::new(|o| o.insert("zzz", UntypedValue::string(""))),
            refused("zzz", ShapeRule::UnknownKey),
        ),
        (
            "no version",
            Box::new(|o| {
                o.remove("version");
            }),
            refused("version", ShapeRule::MissingKey),
        ),
        (
            "no extend_info",
            Box::new(|o| {
                o.remove("extend_info");
            }),
            refused("extend_info", ShapeRule::MissingKey),
        ),
        (
            "another version",
            Box::new(|o| o.insert("version", UntypedValue::string("2.0.1"))),
            refused("version", ShapeRule::WrongVersion),
        ),
        (
            "a five-digit status",
            Box::new(|o| o.insert("status_code", UntypedValue::string("00000"))),
            refused("status_code", ShapeRule::NotSixDigits),
        ),
        (
            "a status with a tail",
            Box::new(|o| o.insert("status_code", UntypedValue::string("000000&zzz"))),
            refused("status_code", ShapeRule::NotSixDigits),
        ),
        (
            "a negative count",
            Box::new(|o| o.insert("count", UntypedValue::integer(-1))),
            refused("count", ShapeRule::NotACount),
        ),
        (
            "a fractional count",
            Box::new(|o| o.insert("count", UntypedValue::from_json("1.5").unwrap())),
            refused("count", ShapeRule::NotACount),
        ),
        (
            "a key with '='",
            Box::new(|o| o.insert("a=b", UntypedValue::string(""))),
            refused("a=b", ShapeRule::UnknownKey),
        ),
        (
            "a message holding a pair",
            Box::new(|o| o.insert("message", UntypedValue::string("ok&status_code=000000"))),
            refused("message", ShapeRule::SeparatorInValue),
        ),
    ];
    for (what, change, expected) in cases {
        assert_eq!(
            open(&signed_reply(&parties, &request, change)),
            expected,
            "{what}"
        );
    }
    // URLs in the data list keep their query strings.
    let with_url = signed_reply(&parties, &request, |o| {
        o.insert(
            "data",
            UntypedValue::string(r#"[{"pay_url":"https://et.example/pay?a=1&b=2"}]"#),
        );
        o.insert("count", UntypedValue::integer(1));
    });
    assert!(open(&with_url).is_ok());
    // A key the profile names is allowed, and then required.
    let named = Parties::same(
        1024,
        Profile {
            extra_response_keys: vec!["zzz".into()],
            ..Profile::default()
        },
    );
    let request = named
        .merchant
        .build(&et_model::GetPayUrl::new("ET1"))
        .unwrap();
    let reply = named
        .merchant
        .open_untyped(
            Some(&request),
            &signed_reply(&named, &request, |o| {
                o.insert("zzz", UntypedValue::string("1"))
            }),
        )
        .unwrap();
    assert_eq!(reply.reply.extra.text("zzz"), Some("1"));
    assert_eq!(
        named
            .merchant
            .open_untyped(Some(&request), &signed_reply(&named, &request, |_| {}))
            .unwrap_err(),
        Error::Shape {
            context: Message::Response,
            key: "zzz".into(),
            rule: ShapeRule::MissingKey
        }
    );
}

#[test]
fn every_request_gets_a_fresh_return_info_that_the_reply_must_echo() {
    let parties = Parties::same(1024, Profile::default());
    let op = et_model::GetPayUrl::new("ET1");
    let first = parties.merchant.build(&op).unwrap();
    let second = parties.merchant.build(&op).unwrap();
    assert_eq!(first.return_info.len(), 22);
    assert!(first.return_info.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_ne!(first.return_info, second.return_info);
    assert_eq!(parties.et_open(&first).return_info, first.return_info);
    // ET's signed success for the second request does not answer the first.
    let reply_to_second = parties.et_respond(&Response::success(&parties.et_open(&second)));
    assert_eq!(
        parties
            .merchant
            .open_untyped(Some(&first), &reply_to_second)
            .unwrap_err(),
        Error::ReturnInfoMismatch
    );
    assert!(parties
        .merchant
        .open_untyped(Some(&second), &reply_to_second)
        .is_ok());
    // Switched off: empty, as ET's demo sends; a caller's value is kept.
    let plain = Parties::same(
        1024,
        Profile {
            random_return_info: false,
            ..Profile::default()
        },
    );
    assert_eq!(plain.merchant.build(&op).unwrap().return_info, "");
    let options = RequestOptions {
        return_info: "trace-1".into(),
        ..RequestOptions::default()
    };
    assert_eq!(
        parties
            .merchant
            .build_with(&op, &options)
            .unwrap()
            .return_info,
        "trace-1"
    );
}

#[test]
fn a_request_whose_signed_text_could_be_re_split_is_not_built_or_opened() {
    let parties = Parties::same(1024, Profile::default());
    let op = et_model::GetPayUrl::new("ET1");
    let options = RequestOptions {
        return_info: "x&server_type=apply_refund".into(),
        ..RequestOptions::default()
    };
    assert_eq!(
        parties.merchant.build_with(&op, &options).unwrap_err(),
        Error::Shape {
            context: Message::Request,
            key: "return_info".into(),
            rule: ShapeRule::SeparatorInValue
        }
    );
    let url = et_model::GetPayUrl {
        back_jump_url: Some("https://m.example/back?a=1&b=2".into()),
        ..op
    };
    assert!(parties
        .et
        .open_request(
            &parties.merchant.build(&url).unwrap().body,
            parties.lookup()
        )
        .is_ok());
}

#[test]
fn a_payment_notify_type_that_could_be_carved_out_of_extend_info_is_refused_unless_named() {
    // ET signs extend_info "&notify_type=x" (no notify_type field); the same
    // text reads as extend_info "" plus notify_type "x".
    let signed = sign_notification(SALT, payment("&notify_type=x", "ET1"));
    let signed = UntypedObject::parse_json(&signed, Message::Notification).unwrap();
    let mut carved = payment("", "ET1");
    carved.insert("notify_type", UntypedValue::string("x"));
    assert_eq!(sign_string(&carved), sign_string(&signed));
    carved.insert("sign", UntypedValue::string(signed.text("sign").unwrap()));
    let strict = NotificationVerifier::new(SALT, NotifySignRule::V2);
    assert_eq!(
        strict.verify_fields(carved.clone()).unwrap_err(),
        Error::Shape {
            context: Message::Notification,
            key: "notify_type".into(),
            rule: ShapeRule::Carvable
        }
    );
    let named = NotificationVerifier::new(SALT, NotifySignRule::V2)
        .with_extra_fields(["notify_type".to_owned()]);
    assert!(named.verify_fields(carved).is_ok());
}
