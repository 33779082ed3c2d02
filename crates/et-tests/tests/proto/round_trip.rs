//! Merchant builds → ET opens → ET responds → merchant opens, for every
//! operation, both key sizes and every Profile choice.

use crate::common;

use common::{Parties, KEY_SIZES};
use et_crypto::{KeyPadding, SignHash};
use et_model::{
    ApplyRefund, CreateOrder, EstimateAmount, GetPayUrl, GetRate, Operation, Placement,
    QueryOrders, ServerType, UploadAttachment,
};
use et_model::{GetInstitutions, JumpPlaceOrder};
use et_proto::{
    CallbackEncoding, DecryptionStep, EmptySensitive, Error, Message, NotifySignRule, PayloadFault,
    Profile, Response, SignRule, UntypedValue, ValueKind,
};
use std::time::SystemTime;

fn json<T: serde::de::DeserializeOwned>(text: &str) -> T {
    serde_json::from_str(text).expect("fixture JSON fits the type")
}

/// One request and the items ET answers it with, per operation: a missing
/// one does not compile, since [`check_all_operations`] covers the list.
trait Example: Operation {
    fn example() -> Self;
    fn outputs() -> Vec<Self::Output>;
}

impl Example for CreateOrder {
    fn example() -> Self {
        CreateOrder {
            name_ch: Some("张三".to_owned()),
            ..et_testkit::order("M-1001", "10000.00")
        }
    }
    fn outputs() -> Vec<Self::Output> {
        json(
            r#"[{"order_id":"ET1","pay_config_list":[{"pay_url":"https://pay/1","pay_type":1,"appid":"wx1","original_id":"gh_1"}],"tuition_rmb":91234.50,"counter_fee":0}]"#,
        )
    }
}

impl Example for UploadAttachment {
    fn example() -> Self {
        json(r#"{"order_id":"ET1","attachment_type":1,"base64":"SGVsbG8=","file_name":"a.pdf"}"#)
    }
    fn outputs() -> Vec<Self::Output> {
        json(r#"[{"order_id":"ET1"}]"#)
    }
}

impl Example for GetPayUrl {
    fn example() -> Self {
        GetPayUrl {
            notify_url: Some("https://m.example/notify".into()),
            ..GetPayUrl::new("ET1")
        }
    }
    fn outputs() -> Vec<Self::Output> {
        json(r#"[{"order_id":"ET1","pay_config_list":[]}]"#)
    }
}

impl Example for QueryOrders {
    fn example() -> Self {
        QueryOrders::new(["ET1", "ET2"])
    }
    fn outputs() -> Vec<Self::Output> {
        json(
            r#"[{"order_id":"ET1","order_status":0,"tuition_rmb":1.50},{"order_id":"ET2","order_status":-3}]"#,
        )
    }
}

impl Example for GetRate {
    fn example() -> Self {
        json(r#"{"currency_code":"GBP"}"#)
    }
    fn outputs() -> Vec<Self::Output> {
        json(r#"[{"currency_code":"GBP","rate":9.1234}]"#)
    }
}

impl Example for EstimateAmount {
    fn example() -> Self {
        json(r#"{"currency_code":"GBP","amount":100.10}"#)
    }
    fn outputs() -> Vec<Self::Output> {
        json(r#"[{"tuition_rmb":912.34,"counter_fee":10.00}]"#)
    }
}

impl Example for ApplyRefund {
    fn example() -> Self {
        json(r#"{"order_id":"ET1","refund_order_id":"R1","refund_amount":5.00}"#)
    }
    fn outputs() -> Vec<Self::Output> {
        json(r#"[{"order_id":"ET1","refund_order_id":"R1"}]"#)
    }
}

impl Example for GetInstitutions {
    fn example() -> Self {
        json(r#"{"search_key": "", "count": 0, "institution_type": 1}"#)
    }
    fn outputs() -> Vec<Self::Output> {
        json(
            r#"[{"institution_code":"GBR-OXFORD","institution_name_en":"University of Oxford","institution_name_ch":"牛津大学","country_code":"GBR","institution_type":1,"city":"Oxford"}]"#,
        )
    }
}

impl Example for JumpPlaceOrder {
    fn example() -> Self {
        JumpPlaceOrder {
            tuition: Some("9000.50".parse().unwrap()),
            name_ch: Some("张三".to_owned()),
            fee_type_list: Some(json(r#"[{"fee_type":1,"fee_type_desc":"tuition"}]"#)),
            status_change_notify_url: Some("https://m.example/status".into()),
            ..JumpPlaceOrder::new("M-1002", "user-43")
        }
    }
    fn outputs() -> Vec<Self::Output> {
        json(r#"[{"jump_url":"https://et.example/jump/abc","expires_in":600}]"#)
    }
}

fn check_all_operations(parties: &Parties) {
    macro_rules! check_each {
        ($($(#[$doc:meta])* $method:ident: $op:ident => $output:ident,)*) => {
            $( check(parties, &$op::example(), $op::outputs()); )*
        };
    }
    et_model::for_each_operation!(check_each);
}

fn check<Op: Operation>(parties: &Parties, op: &Op, outputs: Vec<Op::Output>) {
    let request = parties.build(op);
    let opened = parties.et_open(&request);
    assert_eq!(opened.serial_number, request.serial_number);
    assert_eq!(opened.server_type, request.server_type.as_str());
    assert_eq!(&opened.operation::<Op>().expect("typed request"), op);
    let response = Response::success(&opened)
        .with_output::<Op>(&outputs)
        .expect("response");
    let body = parties.et_respond(&response);
    let reply = parties
        .open::<Op>(&request, &body)
        .expect("merchant opens the response");
    assert_eq!(reply.items, outputs);
    assert_eq!(
        reply.version.as_deref(),
        Some(parties.et.profile().version.as_str())
    );
}

fn profiles() -> Vec<Profile> {
    let d = Profile::default;
    vec![
        d(),
        Profile {
            key_padding: KeyPadding::OaepSha256,
            ..d()
        },
        Profile {
            key_padding: KeyPadding::OaepSha1,
            ..d()
        },
        Profile {
            key_padding: KeyPadding::OaepSha256Mgf1Sha1,
            detect_key_padding: false,
            ..d()
        },
        Profile {
            sign_hash: SignHash::Sha1,
            ..d()
        },
        Profile {
            sign_rule: SignRule::SkipEmpty,
            ..d()
        },
        Profile {
            empty_sensitive: EmptySensitive::EncryptEmptyList,
            ..d()
        },
        Profile {
            callback_process: CallbackEncoding::String,
            ..d()
        },
        Profile {
            callback_process: CallbackEncoding::Empty,
            ..d()
        },
        d().with_server_type::<CreateOrder>(ServerType::AddSpecialRentOrder),
        d().with_server_type::<EstimateAmount>(ServerType::from_code("get_estimate"))
            .with_server_type::<ApplyRefund>(ServerType::from_code("refund_apply")),
        Profile {
            notify_sign_rule: NotifySignRule::V1Compat,
            check_return_info: false,
            version: "2.1.0".into(),
            ..d()
        },
    ]
}

#[test]
fn every_operation_every_profile_both_key_sizes() {
    for bits in KEY_SIZES {
        for profile in profiles() {
            check_all_operations(&Parties::same(bits, profile));
        }
    }
}

#[test]
fn response_padding_is_detected_when_the_guess_is_wrong() {
    let et = Profile {
        key_padding: KeyPadding::OaepSha256,
        detect_key_padding: true,
        ..Profile::default()
    };
    let detecting = Profile {
        detect_key_padding: true,
        ..Profile::default()
    };
    let parties = Parties::with_profiles(1024, detecting, et.clone());
    // ET decrypts our PKCS#1 aeskey by detection too; both directions work.
    check_all_operations(&parties);
    // Off by default: only the configured padding is tried.
    let parties = Parties::with_profiles(1024, Profile::default(), et);
    let request = parties.build(&QueryOrders::new(["ET1"]));
    let body = common::et1_paid_reply(&parties, &request);
    assert_eq!(
        parties.open::<QueryOrders>(&request, &body).unwrap_err(),
        Error::Decryption {
            step: DecryptionStep::Aeskey
        }
    );
}

#[test]
fn server_type_follows_the_profile_and_is_checked() {
    let parties = Parties::same(1024, Profile::default());
    let request = parties.build(&GetPayUrl::new("ET1"));
    let opened = parties.et_open(&request);
    assert!(matches!(
        opened.operation::<GetRate>(),
        Err(Error::ServerTypeMismatch { expected: ServerType::GetRate, found })
            if found == ServerType::GetSpecialPayUrl.as_str()
    ));
    let legacy =
        Profile::default().with_server_type::<CreateOrder>(ServerType::AddSpecialRentOrder);
    let order = et_testkit::order("M-1", "1.00");
    let parties = Parties::with_profiles(1024, legacy, Profile::default());
    let request = parties.build(&order);
    assert_eq!(request.server_type, ServerType::AddSpecialRentOrder);
    let opened = parties.et_open(&request);
    assert_eq!(opened.operation::<CreateOrder>().unwrap(), order);
}

#[test]
fn wire_shape_follows_the_documented_template() {
    let parties = Parties::same(1024, Profile::default());
    let request = parties.build(&GetPayUrl::new("ET1"));
    let body = et_proto::UntypedObject::parse_json(&request.body, Message::Request).unwrap();
    let keys: Vec<&str> = body.iter().map(|(k, _)| k).collect();
    assert_eq!(
        keys,
        [
            "serial_number",
            "merchant_number",
            "sub_merchant_number",
            "server_type",
            "version",
            "callback_process",
            "data",
            "sensitive_data",
            "sign",
            "aeskey",
            "extend_info",
            "return_info",
        ]
    );
    assert_eq!(
        body.get("callback_process"),
        Some(&UntypedValue::integer(0))
    );
    assert_eq!(body.text("data"), Some(r#"{"order_id":"ET1"}"#));
    assert_eq!(
        (body.text("sensitive_data"), body.text("aeskey")),
        (Some(""), Some(""))
    );
    assert_eq!(body.text("version"), Some("2.0.0"));
    assert_eq!(
        body.get("sign").map(UntypedValue::kind),
        Some(ValueKind::String)
    );
    assert_eq!(request.serial_number.len(), 27);
    assert!(request.serial_number.ends_with("ET82009"));
}

#[test]
fn return_info_must_be_echoed() {
    let parties = Parties::same(1024, Profile::default());
    let options = et_proto::RequestOptions {
        return_info: "trace-1".into(),
        ..Default::default()
    };
    let request = parties
        .merchant
        .build_with(&GetPayUrl::new("ET1"), &options, SystemTime::now())
        .unwrap();
    let opened = parties.et_open(&request);
    assert_eq!(opened.return_info, "trace-1");
    let mut response = Response::success(&opened);
    let good = parties.et_respond(&response);
    assert_eq!(
        parties
            .open::<GetPayUrl>(&request, &good)
            .unwrap()
            .return_info,
        "trace-1"
    );
    response.return_info = "other".into();
    let bad = parties.et_respond(&response);
    assert_eq!(
        parties.open::<GetPayUrl>(&request, &bad).unwrap_err(),
        Error::ReturnInfoMismatch
    );
}

#[test]
fn open_untyped_returns_both_payloads() {
    let parties = Parties::same(1024, Profile::default());
    let request = parties.build(&QueryOrders::new(["ET1"]));
    let opened = parties.et_open(&request);
    assert_eq!(
        opened.data_json().unwrap(),
        serde_json::json!({"order_id_list": ["ET1"]})
    );
    let response = Response::success(&opened)
        .with_data(&[serde_json::json!({"a": 1})])
        .unwrap()
        .with_sensitive(&[serde_json::json!({"order_id": "ET1"})])
        .unwrap();
    let body = parties.et_respond(&response);
    let raw = parties
        .merchant
        .open_untyped(Some(&request), &body, SystemTime::now())
        .unwrap();
    let items: Vec<&str> = raw.reply.items.iter().map(|i| i.as_str()).collect();
    assert_eq!(items, [r#"{"a":1}"#]);
    assert_eq!(raw.reply.count, Some(1));
    assert_eq!(
        raw.sensitive.as_ref().map(|s| s.as_str()),
        Some(r#"[{"order_id":"ET1"}]"#)
    );
}

#[test]
fn invalid_payload_is_refused_before_anything_is_sent() {
    let parties = Parties::same(1024, Profile::default());
    let err = parties
        .merchant
        .build(&GetPayUrl::new(""), SystemTime::now())
        .unwrap_err();
    assert!(
        matches!(err, Error::Validation(ref e) if e.field == "order_id"),
        "{err}"
    );
}

#[test]
fn parties_are_shared_across_threads() {
    let parties = Parties::same(1024, Profile::default());
    let serials: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| parties.build(&GetPayUrl::new("ET1")).serial_number))
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let unique: std::collections::HashSet<_> = serials.iter().collect();
    assert_eq!(unique.len(), serials.len());
}

#[test]
fn create_order_writes_the_amount_as_the_profile_spells_it() {
    use et_proto::{SettingName, TuitionSpelling};
    // The spellings the profile names are the ones et-model reads.
    assert_eq!(
        CreateOrder::ALIASES,
        [(
            TuitionSpelling::Tuition.field(),
            TuitionSpelling::Tuituon.field()
        )]
    );
    let order = CreateOrder::example();
    let written = serde_json::to_string(&order).unwrap();
    for &(name, spelling) in TuitionSpelling::NAMES {
        let profile = Profile {
            tuition_spelling: spelling,
            ..Profile::default()
        };
        for profile in [
            profile.clone(),
            profile.with_server_type::<CreateOrder>(ServerType::AddSpecialRentOrder),
        ] {
            let parties = Parties::same(1024, profile);
            let opened = parties.et_open(&parties.build(&order));
            // Only the key changes: its place, its value, every other byte stay.
            let expected = written.replace(r#""tuituon":"#, &format!(r#""{name}":"#));
            assert_eq!(opened.sensitive.as_str(), expected, "{name}");
            assert_eq!(opened.operation::<CreateOrder>().unwrap(), order, "{name}");
        }
    }
    // Other operations keep their keys, whatever the spelling.
    let tuition = Profile {
        tuition_spelling: TuitionSpelling::Tuition,
        ..Profile::default()
    };
    let parties = Parties::same(1024, tuition);
    let query = QueryOrders::new(["ET1"]);
    let opened = parties.et_open(&parties.build(&query));
    assert_eq!(opened.operation::<QueryOrders>().unwrap(), query);
}

#[test]
fn build_untyped_sends_any_server_type_with_payloads_as_given() {
    let parties = Parties::same(1024, Profile::default());
    let request = parties
        .merchant
        .build_untyped(
            ServerType::from_code("get_institutions"),
            "{\"country_code\":\"GBR\",\"fee\":130.00}\n",
            r#"{"name_ch":"张三","tuituon":130.00}"#,
            &et_proto::RequestOptions::default(),
            SystemTime::now(),
        )
        .unwrap();
    assert_eq!(request.server_type.as_str(), "get_institutions");
    let opened = parties.et_open(&request);
    assert_eq!(opened.server_type, "get_institutions");
    assert_eq!(opened.data, r#"{"country_code":"GBR","fee":130.00}"#);
    assert_eq!(
        opened.sensitive.as_str(),
        r#"{"name_ch":"张三","tuituon":130.00}"#
    );

    for (data, sensitive, part) in [
        ("{oops", "{}", Placement::Data),
        ("{}", "[1,", Placement::Sensitive),
    ] {
        let err = parties
            .merchant
            .build_untyped(
                ServerType::GetRate,
                data,
                sensitive,
                &et_proto::RequestOptions::default(),
                SystemTime::now(),
            )
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidPayload { part: p, fault: PayloadFault::NotJson { .. } } if p == part),
            "{err}"
        );
    }
}

/// ET's side writes `version` and added keys as its profile says: a
/// merchant with the same profile opens the reply and keeps the added keys;
/// one that requires exactly the documented keys refuses it, naming the key.
#[test]
fn et_side_writes_version_and_added_response_keys_as_its_profile_says() {
    let played = Profile {
        response_version: false,
        extra_response_keys: vec!["trace_id".into()],
        ..Profile::default()
    };
    let parties = Parties::with_profiles(1024, played.clone(), played);
    let request = parties.build(&GetPayUrl::new("ET1"));
    let opened = parties.et_open(&request);
    let body = parties.et_respond(&Response::success(&opened));
    let raw: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(raw.get("version").is_none(), "{raw}");
    let trace = raw["trace_id"].as_str().unwrap();
    assert_eq!(trace.len(), 22, "{trace}");
    let reply = parties.open::<GetPayUrl>(&request, &body).unwrap();
    assert_eq!(reply.version, None);
    assert_eq!(reply.extra.text("trace_id"), Some(trace));
    // A fresh value per reply.
    let again = parties.et_respond(&Response::success(&opened));
    assert!(!String::from_utf8_lossy(&again).contains(trace));

    let exact = Parties::with_profiles(1024, Profile::exact(), Profile::default());
    let err = exact
        .merchant
        .open::<GetPayUrl>(&request, &body, SystemTime::now())
        .unwrap_err();
    assert!(err.to_string().contains("\"trace_id\""), "{err}");
    let traced = Profile {
        extra_response_keys: vec!["trace_id".into()],
        ..Profile::exact()
    };
    let exact = Parties::with_profiles(1024, traced, Profile::default());
    let err = exact
        .merchant
        .open::<GetPayUrl>(&request, &body, SystemTime::now())
        .unwrap_err();
    assert!(err.to_string().contains("\"version\""), "{err}");
}
