//! Any single changed field of a request or a response fails verification;
//! error responses are typed and marked (un)authenticated; ET's demo shape
//! is accepted.

use crate::common;

use common::Parties;
use et_crypto::{AesKey, Iv};
use et_model::{GetPayUrl, QueryOrders, ReplyCode};
use et_proto::{Error, Message, Profile, Response, UntypedObject, UntypedValue, ValueKind};

/// Changes one value so that its sign-string text differs (and stays valid
/// Base64 where it was: the first character is swapped).
fn altered(value: &UntypedValue) -> UntypedValue {
    match value.kind() {
        ValueKind::String => {
            let text = value.text();
            let mut chars = text.chars();
            match chars.next() {
                None => UntypedValue::string("x"),
                Some(first) => {
                    let swap = if first == 'A' { 'B' } else { 'A' };
                    UntypedValue::string(format!("{swap}{}", chars.as_str()))
                }
            }
        }
        _ => UntypedValue::integer(value.text().parse::<i64>().unwrap_or(0) + 1),
    }
}

/// Every variant of `body` with one field changed, one removed, or one added.
fn tampered(body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let original = UntypedObject::parse_json(body, Message::Response).unwrap();
    let mut out = Vec::new();
    for (key, value) in original.iter() {
        let mut changed = original.clone();
        changed.insert(key, altered(value));
        out.push((format!("changed {key}"), changed.to_json().into_bytes()));
        let mut removed = original.clone();
        removed.remove(key);
        out.push((format!("removed {key}"), removed.to_json().into_bytes()));
    }
    let mut added = original.clone();
    added.insert("injected", UntypedValue::string("1"));
    out.push(("added key".into(), added.to_json().into_bytes()));
    out
}

#[test]
fn any_change_to_a_request_fails() {
    let parties = Parties::same(1024, Profile::default());
    for op_body in [
        parties.build(&GetPayUrl::new("ET1")).body,
        parties.build(&QueryOrders::new(["ET1"])).body,
    ] {
        parties
            .et
            .open_request(&op_body, parties.lookup(), std::time::SystemTime::now())
            .expect("untouched request opens");
        for (what, body) in tampered(&op_body) {
            let result =
                parties
                    .et
                    .open_request(&body, parties.lookup(), std::time::SystemTime::now());
            assert!(result.is_err(), "{what} was accepted");
        }
    }
}

#[test]
fn any_change_to_a_response_fails() {
    let profile = Profile {
        check_return_info: false,
        ..Profile::default()
    };
    let parties = Parties::same(1024, profile);
    let request = parties.build(&QueryOrders::new(["ET1"]));
    let body = common::et1_paid_reply(&parties, &request);
    parties
        .open::<QueryOrders>(&request, &body)
        .expect("untouched response opens");
    for (what, body) in tampered(&body) {
        let result = parties.open::<QueryOrders>(&request, &body);
        assert!(result.is_err(), "{what} was accepted");
        if what == "changed status_code" {
            assert!(matches!(
                result,
                Err(Error::Api {
                    authenticated: false,
                    ..
                })
            ));
        }
    }
}

#[test]
fn error_responses_are_typed_and_marked() {
    let parties = Parties::same(1024, Profile::default());
    let request = parties.build(&GetPayUrl::new("ET1"));
    let signed = parties
        .et
        .respond(
            parties.merchant_public(),
            &Response::new(
                ReplyCode::OrderNotAwaitingPayment,
                "order not payable",
                request.return_info.as_str(),
            ),
        )
        .unwrap();
    let err = parties.open::<GetPayUrl>(&request, &signed).unwrap_err();
    assert_eq!(
        err,
        Error::Api {
            code: ReplyCode::OrderNotAwaitingPayment,
            message: "order not payable".into(),
            authenticated: true
        }
    );
    assert_eq!(err.to_string(), "ET error 200003: order not payable");
    let unsigned = br#"{"status_code":"100001","message":"sign error","count":0,"data":"[]"}"#;
    assert!(matches!(
        parties.open::<GetPayUrl>(&request, unsigned),
        Err(Error::Api { authenticated: false, ref code, .. }) if code.as_str() == "100001"
    ));
    let forged_success = br#"{"status_code":"000000","message":"SUCCESS","count":0,"data":"[]","sensitive_data":"","aeskey":""}"#;
    assert_eq!(
        parties
            .open::<GetPayUrl>(&request, forged_success)
            .unwrap_err(),
        Error::MissingSignature {
            what: Message::Response
        }
    );
}

#[test]
fn errors_name_the_problem() {
    let parties = Parties::same(1024, Profile::default());
    let request = parties.build(&GetPayUrl::new("ET1"));
    let err = parties
        .open::<GetPayUrl>(&request, b"{\"status_code\":\n 000000}")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed JSON in response at line 2, column 3: expected ',' or '}'"
    );
    let err = parties
        .merchant
        .open::<GetPayUrl>(
            &request,
            b"{\"status_code\":\"000000\",\"sign\":\"***\"}",
            std::time::SystemTime::now(),
        )
        .unwrap_err();
    assert_eq!(
        err,
        Error::SignatureNotBase64 {
            what: Message::Response
        }
    );
    let err = parties
        .et
        .open_request(&request.body, |_, _| None, std::time::SystemTime::now())
        .unwrap_err();
    assert!(matches!(err, Error::UnknownMerchant { .. }));
}

/// The request ET's Python demo sends: `callback_process` `""`, `[]`
/// encrypted, `data` a JSON string, sign over the dict in insertion order.
#[test]
fn et_demo_shaped_request_is_accepted() {
    let parties = Parties::same(1024, Profile::default());
    let key = AesKey::generate();
    let sensitive = et_crypto::b64_encode(et_crypto::aes_cbc_encrypt(&key, Iv::SameAsKey, b"[]"));
    let aeskey = et_crypto::b64_encode(
        parties
            .et
            .public_key()
            .encrypt_key(et_crypto::KeyPadding::Pkcs1v15, key.as_bytes())
            .unwrap(),
    );
    let mut demo: UntypedObject = [
        (
            "serial_number",
            UntypedValue::string("20231204204337871860ET82009"),
        ),
        ("merchant_number", UntypedValue::string("ET82009")),
        ("sub_merchant_number", UntypedValue::string("ET82009S001")),
        ("server_type", UntypedValue::string("get_special_pay_url")),
        ("callback_process", UntypedValue::string("")),
        ("version", UntypedValue::string("2.0.0")),
        ("data", UntypedValue::string(r#"{"order_id": "ET1"}"#)),
        ("return_info", UntypedValue::string("")),
        ("extend_info", UntypedValue::string("")),
        ("sensitive_data", UntypedValue::string(sensitive)),
        ("aeskey", UntypedValue::string(aeskey)),
    ]
    .into_iter()
    .collect();
    et_testkit::resign(&mut demo, common::key(common::Who::Merchant, 1024)).unwrap();
    let opened = parties
        .et
        .open_request(
            demo.to_json().as_bytes(),
            parties.lookup(),
            std::time::SystemTime::now(),
        )
        .unwrap();
    assert_eq!(opened.callback_process, Some(UntypedValue::string("")));
    assert_eq!(opened.sensitive.as_str(), "[]");
    assert_eq!(
        opened.operation::<GetPayUrl>().unwrap(),
        GetPayUrl::new("ET1")
    );
}
