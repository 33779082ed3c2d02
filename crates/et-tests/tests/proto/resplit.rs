//! A signed text is believed only as the object ET signed: every other
//! reading of the same sign string (a re-split, the same signature) is
//! refused, for responses and for notifications.

use crate::common;

use common::{Parties, SALT};
use et_model::ReplyCode;
use et_proto::{
    sign_notification, sign_string, Error, Message, NotificationVerifier, NotifySignRule, Profile,
    RequestOptions, Response, ShapeRule, UntypedObject, UntypedValue,
};
use proptest::prelude::*;
use std::time::SystemTime;

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
    open_every_reading(
        parties,
        request,
        &parties.et_respond(response),
        |reading, original, result| {
            assert!(
                !believed(result),
                "re-split believed: {reading:?} from {original:?}: {result:?}"
            );
        },
    )
}

/// Opens, as the merchant's reply to `request`, every reading of the signed
/// `body` but the one ET signed, and hands each to `judge` with the
/// original; returns how many were tried.
fn open_every_reading(
    parties: &Parties,
    request: &et_proto::BuiltRequest,
    body: &[u8],
    mut judge: impl FnMut(&Pairs, &Pairs, &Result<et_proto::UntypedReply, Error>),
) -> usize {
    let signed = UntypedObject::parse_json(body, Message::Response).unwrap();
    for_each_re_split(&signed, |reading, original, forged| {
        let forged = forged.to_json();
        let result =
            parties
                .merchant
                .open_untyped(Some(request), forged.as_bytes(), SystemTime::now());
        judge(reading, original, &result);
    })
}

/// Hands `judge` every reading of `signed`'s signed text but the original,
/// with the original and the reading as an object carrying `signed`'s
/// `sign`; returns how many were tried.
fn for_each_re_split(
    signed: &UntypedObject,
    mut judge: impl FnMut(&Pairs, &Pairs, UntypedObject),
) -> usize {
    let sign = signed.text("sign").unwrap();
    let original = pairs_of(signed);
    let mut tried = 0;
    for reading in readings(&sign_string(signed)) {
        if reading == original {
            continue;
        }
        tried += 1;
        judge(&reading, &original, object(&reading, sign));
    }
    tried
}

/// What an attacker chooses of ET's reply in [`reply_to_ours`].
#[derive(Debug, Clone)]
struct Chosen {
    status: &'static str,
    message: String,
    /// Whether the `return_info` echo is ours and the tail, or the tail alone.
    echo_ours: bool,
    return_tail: String,
    /// The one item of `data`.
    item: String,
}

/// [`Chosen`] replies, a success or a refusal, the `return_info` tail
/// drawn from `tails` and the other texts from [`fragments`].
fn chosen(tails: impl Strategy<Value = String>) -> impl Strategy<Value = Chosen> {
    let status = prop::sample::select(vec!["000000", "100002"]);
    (status, fragments(), any::<bool>(), tails, fragments()).prop_map(
        |(status, message, echo_ours, return_tail, item)| Chosen {
            status,
            message,
            echo_ours,
            return_tail,
            item,
        },
    )
}

/// ET's reply to a request carrying [`OURS`], with the values an attacker
/// `chosen`.
fn reply_to_ours(chosen: Chosen) -> (Parties, et_proto::BuiltRequest, Response) {
    let parties = Parties::same(1024, Profile::default());
    let request = request_returning(&parties, OURS).unwrap();
    let return_info = if chosen.echo_ours {
        format!("{OURS}{}", chosen.return_tail)
    } else {
        chosen.return_tail
    };
    let code = ReplyCode::from_code(chosen.status);
    let mut response = Response::new(code, chosen.message, return_info);
    response.data = serde_json::to_string(&[chosen.item]).unwrap();
    response.count = 1;
    (parties, request, response)
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
    let request = parties.build(&et_model::GetPayUrl::new("ET1"));
    let crafted = "&sensitive_data=&status_code=000000&version=2.0.0&zzz=";
    let body = parties.et_respond(&Response::new(
        ReplyCode::from_code("100002"),
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
    let result =
        parties
            .merchant
            .open_untyped(Some(&request), forged_body.as_bytes(), SystemTime::now());
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
        parties
            .merchant
            .open_untyped(Some(&request), &body, SystemTime::now()),
        Err(Error::Shape {
            rule: ShapeRule::SeparatorInValue,
            ..
        })
    ));
    assert!(
        check_response_readings(
            &parties,
            &request,
            &Response::new(ReplyCode::from_code("100002"), "bad signature", crafted,)
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
        chosen in chosen(fragments()),
        extend_info in fragments(),
    ) {
        let (parties, request, mut response) = reply_to_ours(chosen);
        response.extend_info = extend_info;
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
    for_each_re_split(&signed, |reading, original, forged| {
        let result = verifier.verify_fields(forged, SystemTime::now());
        assert!(
            result.is_err(),
            "re-split verified: {reading:?} from {original:?}: {result:?}"
        );
    })
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
        verifier.verify_fields(merged, SystemTime::now()),
        Err(Error::Shape {
            rule: ShapeRule::SeparatorInKey,
            ..
        })
    ));
    assert!(check_notification_readings(payment("", "ET1")) > 0);
}

#[test]
fn with_exact_fields_a_notification_field_outside_its_kind_is_refused_unless_named() {
    let mut fields = payment("", "ET1");
    fields.insert("zzz", UntypedValue::string("1"));
    let body = sign_notification(SALT, fields);
    let strict = NotificationVerifier::new(SALT, NotifySignRule::V2).with_exact_fields(true);
    assert_eq!(
        strict
            .verify_owned(None, &body, SystemTime::now())
            .unwrap_err(),
        Error::Shape {
            context: Message::Notification,
            key: "zzz".into(),
            rule: ShapeRule::UnknownKey
        }
    );
    let tolerant =
        NotificationVerifier::new(SALT, NotifySignRule::V2).with_extra_fields(["zzz".to_owned()]);
    assert!(tolerant
        .verify_owned(None, &body, SystemTime::now())
        .is_ok());
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

/// The merchant's `get_pay_url` request for `ET1` carrying `return_info`.
fn request_returning(
    parties: &Parties,
    return_info: &str,
) -> Result<et_proto::BuiltRequest, Error> {
    let options = RequestOptions {
        return_info: return_info.into(),
        ..RequestOptions::default()
    };
    let op = et_model::GetPayUrl::new("ET1");
    parties
        .merchant
        .build_with(&op, &options, SystemTime::now())
}

/// ET's success response to `request` with `change` applied, signed by ET.
fn signed_reply(
    parties: &Parties,
    request: &et_proto::BuiltRequest,
    change: impl FnOnce(&mut UntypedObject),
) -> Vec<u8> {
    signed_with(
        parties,
        &Response::success(&parties.et_open(request)),
        change,
    )
}

#[test]
fn with_the_exact_profile_a_signed_response_is_believed_only_in_ets_documented_shape() {
    let parties = Parties::same(1024, Profile::exact());
    let request = parties.build(&et_model::GetPayUrl::new("ET1"));
    let open = |body: &[u8]| {
        parties
            .merchant
            .open_untyped(Some(&request), body, SystemTime::now())
    };
    assert!(open(&signed_reply(&parties, &request, |_| {})).is_ok());
    // Each case sets one key (`None`: removes it) and is refused naming it.
    let text = |v: &str| Some(UntypedValue::string(v));
    let cases = [
        ("an unknown key", "zzz", text(""), ShapeRule::UnknownKey),
        ("no version", "version", None, ShapeRule::MissingKey),
        ("no extend_info", "extend_info", None, ShapeRule::MissingKey),
        (
            "another version",
            "version",
            text("2.0.1"),
            ShapeRule::WrongVersion,
        ),
        (
            "a five-digit status",
            "status_code",
            text("00000"),
            ShapeRule::NotSixDigits,
        ),
        (
            "a status with a tail",
            "status_code",
            text("000000&zzz"),
            ShapeRule::NotSixDigits,
        ),
        (
            "a negative count",
            "count",
            Some(UntypedValue::integer(-1)),
            ShapeRule::NotACount,
        ),
        (
            "a fractional count",
            "count",
            Some(UntypedValue::from_json("1.5").unwrap()),
            ShapeRule::NotACount,
        ),
        ("a key with '='", "a=b", text(""), ShapeRule::UnknownKey),
        (
            "a message holding a pair",
            "message",
            text("ok&status_code=000000"),
            ShapeRule::SeparatorInValue,
        ),
    ];
    for (what, key, value, rule) in cases {
        let change = |o: &mut UntypedObject| match value {
            Some(value) => o.insert(key, value),
            None => drop(o.remove(key)),
        };
        let refused = Error::Shape {
            context: Message::Response,
            key: key.into(),
            rule,
        };
        assert_eq!(
            open(&signed_reply(&parties, &request, change)),
            Err(refused),
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
    // A key the profile names is allowed, and then required (ET's side,
    // which would add it, speaking the default profile).
    let named = Parties::with_profiles(
        1024,
        Profile {
            extra_response_keys: vec!["zzz".into()],
            ..Profile::default()
        },
        Profile::default(),
    );
    let request = named
        .merchant
        .build(&et_model::GetPayUrl::new("ET1"), SystemTime::now())
        .unwrap();
    let reply = named
        .merchant
        .open_untyped(
            Some(&request),
            &signed_reply(&named, &request, |o| {
                o.insert("zzz", UntypedValue::string("1"))
            }),
            SystemTime::now(),
        )
        .unwrap();
    assert_eq!(reply.reply.extra.text("zzz"), Some("1"));
    assert_eq!(
        named
            .merchant
            .open_untyped(
                Some(&request),
                &signed_reply(&named, &request, |_| {}),
                SystemTime::now()
            )
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
    let first = parties.build(&op);
    let second = parties.build(&op);
    assert_eq!(first.return_info.len(), 22);
    assert!(first.return_info.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_ne!(first.return_info, second.return_info);
    assert_eq!(parties.et_open(&first).return_info, first.return_info);
    // ET's signed success for the second request does not answer the first.
    let reply_to_second = parties.et_respond(&Response::success(&parties.et_open(&second)));
    assert_eq!(
        parties
            .merchant
            .open_untyped(Some(&first), &reply_to_second, SystemTime::now())
            .unwrap_err(),
        Error::ReturnInfoMismatch
    );
    assert!(parties
        .merchant
        .open_untyped(Some(&second), &reply_to_second, SystemTime::now())
        .is_ok());
    // Switched off: empty, as ET's demo sends; a caller's value is kept.
    let plain = Parties::same(
        1024,
        Profile {
            random_return_info: false,
            ..Profile::default()
        },
    );
    assert_eq!(
        plain
            .merchant
            .build(&op, SystemTime::now())
            .unwrap()
            .return_info,
        ""
    );
    assert_eq!(
        request_returning(&parties, "trace-1").unwrap().return_info,
        "trace-1"
    );
}

#[test]
fn a_request_whose_signed_text_could_be_re_split_is_not_built_or_opened() {
    let parties = Parties::same(1024, Profile::default());
    let op = et_model::GetPayUrl::new("ET1");
    assert_eq!(
        request_returning(&parties, "x&server_type=apply_refund").unwrap_err(),
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
            &parties.build(&url).body,
            parties.lookup(),
            SystemTime::now()
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
        strict
            .verify_fields(carved.clone(), SystemTime::now())
            .unwrap_err(),
        Error::Shape {
            context: Message::Notification,
            key: "notify_type".into(),
            rule: ShapeRule::Carvable
        }
    );
    let named = NotificationVerifier::new(SALT, NotifySignRule::V2)
        .with_extra_fields(["notify_type".to_owned()]);
    assert!(named.verify_fields(carved, SystemTime::now()).is_ok());
}

/// ET's reply to `request` built from `response`, with `change` applied and
/// signed again by ET: keys ET may add, or leave out.
fn signed_with(
    parties: &Parties,
    response: &Response,
    change: impl FnOnce(&mut UntypedObject),
) -> Vec<u8> {
    let body = parties.et_respond(response);
    let mut object = UntypedObject::parse_json(&body, Message::Response).unwrap();
    change(&mut object);
    et_testkit::resign(&mut object, common::key(common::Who::Et, 1024)).unwrap();
    object.to_json().into_bytes()
}

#[test]
fn a_reply_with_keys_et_added_and_no_version_is_believed_and_keeps_them() {
    let parties = Parties::same(1024, Profile::default());
    let request = parties.build(&et_model::GetPayUrl::new("ET1"));
    let opened = parties.et_open(&request);
    let added = |o: &mut UntypedObject| {
        o.insert("trace_id", UntypedValue::string("t-1&x=2"));
        o.insert("a_first", UntypedValue::integer(7));
        o.remove("version");
        o.remove("message");
        o.remove("extend_info");
    };
    let reply = parties
        .merchant
        .open_untyped(
            Some(&request),
            &signed_with(&parties, &Response::success(&opened), added),
            SystemTime::now(),
        )
        .unwrap();
    assert_eq!(reply.reply.version, None);
    assert_eq!(reply.reply.extra.text("trace_id"), Some("t-1&x=2"));
    assert_eq!(reply.reply.extra.text("a_first"), Some("7"));
    // A version that is present is kept; requiring one is an option.
    let with_version = signed_with(&parties, &Response::success(&opened), |o| {
        o.insert("version", UntypedValue::string("3.1.1"))
    });
    let reply = parties
        .merchant
        .open_untyped(Some(&request), &with_version, SystemTime::now())
        .unwrap();
    assert_eq!(reply.reply.version.as_deref(), Some("3.1.1"));
    let pinned = Parties::same(
        1024,
        Profile {
            require_version: true,
            ..Profile::default()
        },
    );
    let request = pinned
        .merchant
        .build(&et_model::GetPayUrl::new("ET1"), SystemTime::now())
        .unwrap();
    let opened = pinned.et_open(&request);
    assert!(matches!(
        pinned.merchant.open_untyped(
            Some(&request),
            &signed_with(&pinned, &Response::success(&opened), |o| {
                o.remove("version");
            }),
            SystemTime::now(),
        ),
        Err(Error::Shape {
            rule: ShapeRule::MissingKey,
            ..
        })
    ));
}

#[test]
fn a_signed_refusal_with_added_keys_is_a_verified_refusal_with_ets_code_and_message() {
    let parties = Parties::same(1024, Profile::default());
    let request = parties.build(&et_model::GetPayUrl::new("ET1"));
    let opened = parties.et_open(&request);
    let refusal = Response::new(
        ReplyCode::from_code("200003"),
        "not awaiting payment",
        opened.return_info.as_str(),
    );
    let body = signed_with(&parties, &refusal, |o| {
        o.insert("trace_id", UntypedValue::string("t-9"));
        o.remove("version");
    });
    assert_eq!(
        parties
            .merchant
            .open_untyped(Some(&request), &body, SystemTime::now())
            .unwrap_err(),
        Error::Api {
            code: ReplyCode::from_code("200003"),
            message: "not awaiting payment".into(),
            authenticated: true,
        }
    );
}

#[test]
fn a_signed_refusal_of_another_request_is_not_authenticated_for_this_one() {
    let parties = Parties::same(1024, Profile::default());
    let op = et_model::GetPayUrl::new("ET1");
    let ours = parties.build(&op);
    let other = parties.build(&op);
    let refusal_of_other = parties.et_respond(&Response::new(
        ReplyCode::from_code("100003"),
        "serial number already used",
        parties.et_open(&other).return_info.as_str(),
    ));
    assert!(matches!(
        parties
            .merchant
            .open_untyped(Some(&ours), &refusal_of_other, SystemTime::now()),
        Err(Error::Api {
            authenticated: false,
            ..
        })
    ));
    assert!(matches!(
        parties
            .merchant
            .open_untyped(Some(&other), &refusal_of_other, SystemTime::now()),
        Err(Error::Api {
            authenticated: true,
            ..
        })
    ));
}

#[test]
fn an_unnamed_key_that_could_be_cut_out_of_the_return_info_echo_is_refused() {
    // ET echoes `OURS&return_msg=x` for an attacker's request; read with a
    // cut after `OURS`, it would answer ours. Keys sorting between
    // `return_info` and `sensitive_data` are accepted only when named.
    let opened = |parties: &Parties| {
        let request = request_returning(parties, OURS).unwrap();
        let forged = signed_with(
            parties,
            &Response::new(ReplyCode::Success, "SUCCESS", OURS),
            |o| o.insert("return_msg", UntypedValue::string("x")),
        );
        parties
            .merchant
            .open_untyped(Some(&request), &forged, SystemTime::now())
    };
    assert_eq!(
        opened(&Parties::same(1024, Profile::default())).unwrap_err(),
        Error::Shape {
            context: Message::Response,
            key: "return_msg".into(),
            rule: ShapeRule::Carvable
        }
    );
    let named = Profile {
        extra_response_keys: vec!["return_msg".into()],
        ..Profile::default()
    };
    assert!(opened(&Parties::same(1024, named)).is_ok());
}

/// The values of the response keys we act on, as a reading gives them.
fn acted(pairs: &Pairs) -> Vec<(String, String)> {
    const ACTED: [&str; 6] = [
        "aeskey",
        "count",
        "data",
        "return_info",
        "sensitive_data",
        "status_code",
    ];
    pairs
        .iter()
        .filter(|(k, _)| ACTED.contains(&k.as_str()))
        .cloned()
        .collect()
}

/// The keys ET might add, planted, then [`fragments`].
fn open_fragments() -> impl Strategy<Value = String> {
    let pieces = vec![
        "&return_msg=1",
        "&sa=",
        "&trace_id=",
        "&m=1",
        "&data=[]",
        "&x=",
        "&",
    ];
    (
        prop::collection::vec(prop::sample::select(pieces), 1..3),
        fragments(),
    )
        .prop_map(|(head, tail)| head.concat() + &tail)
}

/// Keys ET might add, sorting before, between and after the documented
/// ones (`return_msg` between `return_info` and `sensitive_data`).
fn added_keys() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    let keys = prop::sample::subsequence(
        vec![
            "a_trace",
            "cz",
            "dz",
            "m",
            "return_msg",
            "sa",
            "trace_id",
            "zzz",
        ],
        0..3,
    );
    (keys, prop::collection::vec(open_fragments(), 3))
        .prop_map(|(keys, values)| keys.into_iter().zip(values).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// With an open key set a re-split of ET's text may be believed when it
    /// moves only the boundaries of keys nobody acts on; it never changes
    /// a key we act on, nor whether the reply is a success.
    #[test]
    fn every_believed_reading_of_a_reply_with_added_keys_agrees_on_the_acted_keys(
        chosen in chosen(open_fragments()),
        added in added_keys(),
        drop_version in any::<bool>(),
    ) {
        let (parties, request, response) = reply_to_ours(chosen);
        let body = signed_with(&parties, &response, |o| {
            for (key, value) in &added {
                o.insert(*key, UntypedValue::string(value.clone()));
            }
            if drop_version {
                o.remove("version");
            }
        });
        open_every_reading(&parties, &request, &body, |reading, original, result| {
            if believed(result) {
                assert_eq!(acted(reading), acted(original), "{result:?}");
            }
        });
    }
}

/// The fields of a notification reading that we act on: those its kind
/// documents, but the free text.
fn acted_fields(pairs: &Pairs, kind: et_model::NotificationKind) -> Vec<(String, String)> {
    use et_model::{
        NotificationKind as K, OrderStatusChange, PaymentSuccess, RefundResultNotice,
        RemittanceVoucher,
    };
    let documented = match kind {
        K::PaymentSuccess => PaymentSuccess::FIELDS,
        K::OrderStatusChange => OrderStatusChange::FIELDS,
        K::RefundResult => RefundResultNotice::FIELDS,
        K::RemittanceVoucher => RemittanceVoucher::FIELDS,
        K::Unknown => &[],
    };
    pairs
        .iter()
        .filter(|(k, _)| k != "extend_info" && documented.contains(&k.as_str()))
        .cloned()
        .collect()
}

/// A signed notification of each known kind with attacker text in its free
/// fields and in fields ET added.
fn notification_with_added(kind: usize, free: &str, added: &[(&str, String)]) -> UntypedObject {
    let s = UntypedValue::string;
    let base: Vec<(&str, UntypedValue)> = match kind {
        0 => vec![
            ("order_id", s("ET1")),
            ("pay_result", UntypedValue::integer(1)),
            ("pay_amount", UntypedValue::from_json("10000.00").unwrap()),
            ("pay_datetime", s("2024-12-01 10:00:00")),
        ],
        1 => vec![
            ("notify_type", s("order_status_change")),
            ("order_id", s("ET1")),
            ("datetime", s("2024-12-01 10:00:00")),
            ("order_status", s("2")),
        ],
        2 => vec![
            ("order_id", s("ET1")),
            ("refund_order_id", s("R1")),
            ("refund_result", UntypedValue::integer(1)),
            ("refund_amount", UntypedValue::from_json("10.00").unwrap()),
            ("refund_datetime", s("2024-12-01 10:00:00")),
        ],
        _ => vec![
            ("order_id", s("ET1")),
            (
                "remittance_voucher_url",
                s("https://et.example/v?id=1&token=abc"),
            ),
        ],
    };
    base.into_iter()
        .chain([("extend_info", s(free))])
        .chain(added.iter().map(|(k, v)| (*k, s(v.as_str()))))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// A believed reading of a notification with fields ET added is of the
    /// same kind and agrees on every field we act on.
    #[test]
    fn every_believed_reading_of_a_notification_with_added_fields_agrees_on_kind_and_acted_fields(
        kind in 0usize..4,
        free in notification_fragment(),
        keys in prop::sample::subsequence(vec!["a_note", "payer_memo", "remark", "trace_id", "zzz"], 0..3),
        values in prop::collection::vec(notification_fragment(), 3),
    ) {
        let added: Vec<(&str, String)> = keys.into_iter().zip(values).collect();
        let verifier = NotificationVerifier::new(SALT, NotifySignRule::V2);
        let body = sign_notification(SALT, notification_with_added(kind, &free, &added));
        let signed = UntypedObject::parse_json(&body, Message::Notification).unwrap();
        let sign = signed.text("sign").unwrap();
        let original = pairs_of(&signed);
        let original_kind = et_model::NotificationKind::detect_by(|k| signed.text(k));
        for reading in readings(&sign_string(&signed)) {
            if let Ok(verified) = verifier.verify_fields(object(&reading, sign), SystemTime::now()) {
                prop_assert_eq!(verified.kind(), original_kind);
                // The one field that may hold `&`, a voucher's URL, can run
                // on into fields ET added after it, never end early.
                let url = |pairs: &Pairs| pairs.iter().find(|(k, _)| k == "remittance_voucher_url").map(|(_, v)| v.clone());
                if let (Some(read), Some(signed)) = (url(&reading), url(&original)) {
                    prop_assert!(read == signed || read.starts_with(&format!("{signed}&")), "{read}");
                }
                let without_url = |pairs: &Pairs| -> Pairs {
                    acted_fields(pairs, original_kind).into_iter().filter(|(k, _)| k != "remittance_voucher_url").collect()
                };
                prop_assert_eq!(without_url(&reading), without_url(&original));
            }
        }
    }
}

#[test]
fn a_notification_with_fields_et_added_verifies_and_keeps_them() {
    let verifier = NotificationVerifier::new(SALT, NotifySignRule::V2);
    for kind in 0..4 {
        let added = [("a_note", "t-1".to_owned())];
        let body = sign_notification(SALT, notification_with_added(kind, "x", &added));
        let verified = verifier
            .verify_owned(None, &body, SystemTime::now())
            .unwrap();
        let kept: Vec<_> = verified.added_fields().map(|(k, _)| k).collect();
        assert_eq!(kept, ["a_note"], "kind {kind}");
    }
    // After a voucher's URL (which may hold `&`) an added field could be
    // cut out of the URL: accepted once named.
    let body = sign_notification(
        SALT,
        notification_with_added(3, "x", &[("trace_id", "t-1".to_owned())]),
    );
    assert!(matches!(
        verifier.verify_owned(None, &body, SystemTime::now()),
        Err(Error::Shape {
            rule: ShapeRule::Carvable,
            ..
        })
    ));
    let named = NotificationVerifier::new(SALT, NotifySignRule::V2)
        .with_extra_fields(["trace_id".to_owned()]);
    assert!(named.verify_owned(None, &body, SystemTime::now()).is_ok());
    // A kind no page shows (the remittance-out result) is handed over whole.
    let unknown: UntypedObject = [
        ("order_id", UntypedValue::string("ET1")),
        ("remit_out_result", UntypedValue::integer(1)),
    ]
    .into_iter()
    .collect();
    let verified = verifier
        .verify_owned(None, &sign_notification(SALT, unknown), SystemTime::now())
        .unwrap();
    assert_eq!(verified.kind(), et_model::NotificationKind::Unknown);
    assert_eq!(verified.added_fields().count(), 2);
}

#[test]
fn a_notification_is_refused_when_a_field_could_change_its_kind_or_an_acted_value() {
    let verifier = NotificationVerifier::new(SALT, NotifySignRule::V2);
    let refusal = |fields: UntypedObject| match verifier.verify_owned(
        None,
        &sign_notification(SALT, fields),
        SystemTime::now(),
    ) {
        Err(Error::Shape { key, rule, .. }) => (key, rule),
        other => panic!("not refused: {other:?}"),
    };
    let mut other_kind = payment("", "ET1");
    other_kind.insert("order_status", UntypedValue::string("2"));
    assert_eq!(
        refusal(other_kind),
        ("order_status".into(), ShapeRule::OtherKindsField)
    );
    let mut ampersand = payment("", "ET1&x");
    ampersand.insert("zzz", UntypedValue::string("1"));
    assert_eq!(
        refusal(ampersand),
        ("order_id".into(), ShapeRule::Ampersand)
    );
    // A currency after a field ET added could be carved out of that field.
    let mut carved_currency = payment("", "ET1");
    carved_currency.insert("pay_channel", UntypedValue::string("x"));
    carved_currency.insert("pay_currency_code", UntypedValue::string("USD"));
    assert_eq!(
        refusal(carved_currency),
        ("pay_currency_code".into(), ShapeRule::Carvable)
    );
    let mut currency = payment("", "ET1");
    currency.insert("pay_currency_code", UntypedValue::string("USD"));
    assert!(verifier
        .verify_owned(None, &sign_notification(SALT, currency), SystemTime::now())
        .is_ok());
}

#[test]
fn a_data_list_cut_inside_a_json_string_is_refused() {
    // ET's `data` holds `&dz=` inside a URL; cut there, `dz` (an unknown key
    // sorting after `data`) would take the rest of the list.
    let parties = Parties::same(1024, Profile::default());
    let request = parties.build(&et_model::GetPayUrl::new("ET1"));
    let mut response = Response::success(&parties.et_open(&request));
    response.data = r#"[{"pay_url":"https://et.example/pay?a=1&dz=2"}]"#.into();
    response.count = 1;
    let body = parties.et_respond(&response);
    assert!(parties
        .merchant
        .open_untyped(Some(&request), &body, SystemTime::now())
        .is_ok());
    let signed = UntypedObject::parse_json(&body, Message::Response).unwrap();
    let cut = readings(&sign_string(&signed))
        .into_iter()
        .find(|r| r.iter().any(|(k, _)| k == "dz"))
        .expect("the cut reading exists");
    let forged = object(&cut, signed.text("sign").unwrap()).to_json();
    assert_eq!(
        parties
            .merchant
            .open_untyped(Some(&request), forged.as_bytes(), SystemTime::now())
            .unwrap_err(),
        Error::Shape {
            context: Message::Response,
            key: "data".into(),
            rule: ShapeRule::NotOneJsonValue
        }
    );
}
