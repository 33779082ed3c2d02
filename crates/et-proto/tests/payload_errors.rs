//! A sensitive payload that does not fit its type is refused naming the
//! field and the rule, never quoting a value.

mod common;

use common::Parties;
use et_model::{CreateOrder, Operation};
use et_proto::{Error, Profile, RequestOptions};

/// ET's side reads `sensitive` as a `CreateOrder`.
fn read_order(sensitive: &str) -> Result<CreateOrder, Error> {
    let parties = Parties::same(1024, Profile::default());
    let request = parties
        .merchant
        .build_untyped(
            CreateOrder::SERVER_TYPE,
            "{}",
            sensitive,
            &RequestOptions::default(),
        )
        .unwrap();
    parties.et_open(&request).operation::<CreateOrder>()
}

#[test]
fn a_missing_sensitive_field_is_named_and_no_value_is_quoted() {
    let secret = "SECRET-张三-passport-E1234567";
    let order = serde_json::json!({
        "merchant_order_id": "M-1", "merchant_user_key": secret, "country_code": "GBR",
        "currency_code": "GBP", "name_ch": secret,
    });
    let error = read_order(&order.to_string()).unwrap_err();
    assert_eq!(
        error,
        Error::InvalidPayload {
            field: "sensitive_data".into(),
            rule: "missing field `tuituon`".into()
        }
    );
    let mut twice = order.to_string();
    twice.insert_str(1, r#""tuituon":1,"tuituon":2,"#);
    assert_eq!(
        read_order(&twice).unwrap_err().to_string(),
        "invalid `sensitive_data`: duplicate field `tuituon`"
    );
    // A value of the wrong type: where, not what.
    let mut bad = order.clone();
    bad["tuituon"] = serde_json::json!(secret);
    let error = read_order(&bad.to_string()).unwrap_err().to_string();
    assert!(!error.contains("SECRET"), "{error}");
    assert!(
        error.contains("sensitive_data") && error.contains("column"),
        "{error}"
    );
}
