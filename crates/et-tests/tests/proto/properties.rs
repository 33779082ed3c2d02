//! proptest: canonical sign strings and lossless build/open.

use crate::common;

use common::Parties;
use et_model::{CreateOrder, Extra, GetPayUrl, RawJson};
use et_proto::{sign_string, Message, Profile, UntypedObject, UntypedValue};
use proptest::prelude::*;
use serde_json::Value;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = serde_json::Map<String, Value>> {
    prop::collection::btree_map("[a-z_]{1,8}", json_value(), 0..6)
        .prop_map(|m| m.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn sign_string_ignores_key_order(
        pairs in prop::collection::btree_map("\\PC{0,6}", "\\PC{0,6}", 0..8)
            .prop_map(|m| m.into_iter().collect::<Vec<_>>())
            .prop_shuffle(),
    ) {
        let forward: UntypedObject = pairs.iter().map(|(k, v)| (k.clone(), UntypedValue::string(v))).collect();
        let backward: UntypedObject = pairs.iter().rev().map(|(k, v)| (k.clone(), UntypedValue::string(v))).collect();
        prop_assert_eq!(sign_string(&forward), sign_string(&backward));
    }

    #[test]
    fn raw_reader_agrees_with_serde_json(object in json_object()) {
        let text = serde_json::to_string_pretty(&object).unwrap();
        let raw = UntypedObject::parse_json(text.as_bytes(), Message::Response).unwrap();
        let again: serde_json::Map<String, Value> = serde_json::from_str(&raw.to_json()).unwrap();
        prop_assert_eq!(again, object);
    }

    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = UntypedObject::parse_json(&bytes, Message::Response);
        let _ = UntypedObject::parse_form(&bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any JSON object passed through a request's `extra` fields (in `data`
    /// and encrypted in `sensitive_data` alike) and back in a response's
    /// sensitive list arrives unchanged.
    #[test]
    fn any_json_object_survives_build_and_open(object in json_object()) {
        let parties = Parties::same(1024, Profile::default());
        // Prefixed so that no generated key collides with a typed field.
        let extra: Extra = object
            .iter()
            .map(|(k, v)| (format!("x_{k}"), RawJson::new(v.to_string()).unwrap()))
            .collect();
        let pay_url = GetPayUrl { extra: extra.clone(), ..GetPayUrl::new("ET1") };
        let order = CreateOrder {
            extra,
            ..et_testkit::order("M-1", "1.00")
        };
        let request = parties.build(&order);
        let opened = parties.et_open(&request);
        prop_assert_eq!(opened.operation::<CreateOrder>().unwrap(), order);
        let request = parties.build(&pay_url);
        let opened = parties.et_open(&request);
        prop_assert_eq!(opened.operation::<GetPayUrl>().unwrap(), pay_url);
        let response = et_proto::Response::success(&opened)
            .with_sensitive(&[Value::Object(object.clone())]).unwrap();
        let body = parties.et_respond(&response);
        let reply = parties.merchant.open_untyped(Some(&request), &body, std::time::SystemTime::now()).unwrap();
        let sensitive: Value = reply.sensitive.expect("sensitive_data").parse().unwrap();
        prop_assert_eq!(sensitive, Value::Array(vec![Value::Object(object)]));
    }
}
