//! A sensitive payload that does not fit its type is refused naming the
//! field and the rule, never quoting a value.

use crate::common;

use common::Parties;
use et_model::{CreateOrder, Operation, Placement};
use et_proto::{Error, PayloadFault, Profile, RequestOptions};
use std::time::SystemTime;

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
            SystemTime::now(),
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
                SystemTime::now(),
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

/// An untyped request of an operation et-model types is held to the typed
/// API's rules (read as the operation's two parts, then `validate()`),
/// whichever name the profile sends it by; another `server_type` passes.
#[test]
fn untyped_payloads_of_a_known_operation_are_validated_as_typed_ones() {
    use et_model::{EstimateAmount, JumpPlaceOrder, Rule, ServerType, ValidationError};
    use et_proto::validate_untyped;

    let profile = Profile::default();
    let order = |tuition: &str| {
        format!(
            r#"{{"merchant_order_id":"M-1","merchant_user_key":"u","country_code":"GBR","currency_code":"GBP","tuituon":{tuition}}}"#
        )
    };
    let invalid = |field: &str, rule| Err(Error::Validation(ValidationError::new(field, rule)));
    assert_eq!(
        validate_untyped(&profile, &CreateOrder::SERVER_TYPE, "{}", &order("10.00")),
        Ok(())
    );
    for name in [ServerType::CreateOrder, ServerType::AddSpecialRentOrder] {
        assert_eq!(
            validate_untyped(&profile, &name, "{}", &order("-5.00")),
            invalid("tuituon", Rule::NotPositive),
            "{name}"
        );
    }
    assert_eq!(
        validate_untyped(
            &profile,
            &JumpPlaceOrder::SERVER_TYPE,
            "{}",
            r#"{"merchant_order_id":"M-1","merchant_user_key":"u","tuition":1e2}"#
        ),
        invalid("tuition", Rule::Exponent)
    );
    // In the wrong part, as the typed API would never send it.
    assert!(matches!(
        validate_untyped(&profile, &CreateOrder::SERVER_TYPE, &order("10.00"), "{}"),
        Err(Error::InvalidPayload {
            part: Placement::Data,
            ..
        })
    ));
    // Under the name the profile gives it.
    let renamed =
        Profile::default().with_server_type::<EstimateAmount>(ServerType::from_code("estimate_v2"));
    assert_eq!(
        validate_untyped(
            &renamed,
            &ServerType::from_code("estimate_v2"),
            r#"{"currency_code":"JPY","amount":100.5}"#,
            "{}"
        ),
        invalid("amount", Rule::TooManyDecimals { max: 0, actual: 1 })
    );
    // An operation et-model does not type: nothing to check it against.
    assert_eq!(
        validate_untyped(
            &profile,
            &ServerType::from_code("some_future_operation"),
            r#"{"amount":-1}"#,
            "{}"
        ),
        Ok(())
    );
}
