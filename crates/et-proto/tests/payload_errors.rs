//! A sensitive payload that does not fit its type is refused naming the
//! field and the rule, never quoting a value.

mod common;

use common::Parties;
use et_model::{CreateOrder, Operation, Placement};
use et_proto::{Error, PayloadFault, Profile, RequestOptions};

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
            part: Placement::Sensitive,
            fault: PayloadFault::MissingField("tuituon".into())
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

#[test]
fn a_data_mismatch_keeps_serdes_error_as_its_source_and_a_sensitive_one_keeps_none() {
    use std::error::Error as _;
    let parties = Parties::same(1024, Profile::default());
    let read = |data: &str, sensitive: &str| {
        let request = parties
            .merchant
            .build_untyped(
                et_model::GetPayUrl::SERVER_TYPE,
                data,
                sensitive,
                &RequestOptions::default(),
            )
            .unwrap();
        parties
            .et_open(&request)
            .operation::<et_model::GetPayUrl>()
            .unwrap_err()
    };
    let data = read(r#"{"order_id":7}"#, "{}");
    assert!(matches!(
        data,
        Error::InvalidPayload {
            part: Placement::Data,
            fault: PayloadFault::Json(_)
        }
    ));
    let cause = data.source().expect("a source");
    assert!(
        cause.downcast_ref::<serde_json::Error>().is_some(),
        "{cause}"
    );

    let sensitive = read(r#"{"order_id":"ET1"}"#, r#"{"order_id":"SECRET"}"#);
    assert!(
        matches!(
            sensitive,
            Error::InvalidPayload {
                part: Placement::Sensitive,
                ..
            }
        ),
        "{sensitive}"
    );
    assert!(
        sensitive.source().is_none(),
        "serde's message could quote a value"
    );
}
