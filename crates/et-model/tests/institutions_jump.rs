//! `get_institutions` and `merchant_jump_place_order`: placement, the
//! demo's exact request, documented limits, tolerant reading of the
//! guessed results.

use et_model::{
    GetInstitutions, Institution, InstitutionType, JumpAddress, JumpPlaceOrder, Operation, Payload,
    Placement, Rule, ServerType,
};

fn split<Op: Operation>(op: &Op) -> (String, String) {
    let (data, sensitive) = op.parts();
    (
        serde_json::to_string(data).unwrap(),
        serde_json::to_string(sensitive).unwrap(),
    )
}

#[test]
fn the_demos_institution_search_is_written_exactly_and_reads_back() {
    let demo = r#"{"search_key": "", "count": 0, "institution_type": 1}"#;
    let read: GetInstitutions = serde_json::from_str(demo).unwrap();
    assert_eq!(read, GetInstitutions::new(""));
    assert_eq!(read.institution_type, Some(InstitutionType::SCHOOL));
    assert_eq!(
        split(&read),
        (
            r#"{"search_key":"","count":0,"institution_type":1}"#.to_owned(),
            "{}".to_owned()
        )
    );
    assert_eq!(GetInstitutions::SERVER_TYPE, ServerType::GetInstitutions);
    assert_eq!(GetInstitutions::SERVER_TYPE.as_str(), "get_institutions");
    assert_eq!(GetInstitutions::OUTPUT_IN, Placement::Data);
    read.validate().unwrap();
    // No type: every kind of institution, the field left out.
    let any = GetInstitutions {
        institution_type: None,
        ..GetInstitutions::new("牛津")
    };
    assert_eq!(split(&any).0, r#"{"search_key":"牛津","count":0}"#);
    assert!(serde_json::from_str::<GetInstitutions>(r#"{"search_key":"","count":-1}"#).is_err());
}

#[test]
fn jump_fields_go_encrypted_and_follow_the_pages_limits() {
    let jump = JumpPlaceOrder {
        name_ch: Some("张".repeat(20)),
        tuition: Some("9000.50".parse().unwrap()),
        ..JumpPlaceOrder::new("M-1", "user-1")
    };
    jump.validate().unwrap();
    let (data, sensitive) = split(&jump);
    assert_eq!(data, "{}");
    assert_eq!(
        sensitive,
        r#"{"merchant_order_id":"M-1","merchant_user_key":"user-1","tuition":9000.50,"name_ch":"张张张张张张张张张张张张张张张张张张张张"}"#
    );
    assert_eq!(
        JumpPlaceOrder::SERVER_TYPE.as_str(),
        "merchant_jump_place_order"
    );

    let too_long = |field: &str, len: usize| {
        let mut value = serde_json::to_value(JumpPlaceOrder::new("M-1", "user-1")).unwrap();
        value[field] = "x".repeat(len).into();
        let jump: JumpPlaceOrder = serde_json::from_value(value).unwrap();
        jump.validate()
    };
    for (field, max) in [
        ("apartment_name", 200),
        ("city_name_en", 200),
        ("city_name_ch", 200),
        ("merchant_order_id", 50),
        ("merchant_user_key", 200),
        ("first_name_en", 50),
        ("last_name_en", 50),
        ("name_ch", 20),
        ("student_email", 50),
        ("student_address", 300),
        ("school_name", 200),
        ("wechat_number", 100),
        ("status_change_notify_url", 500),
    ] {
        assert_eq!(too_long(field, max), Ok(()), "{field} at its maximum");
        let error = too_long(field, max + 1).expect_err(field);
        assert_eq!(error.field, field);
        assert_eq!(
            error.rule,
            Rule::MaxChars {
                max,
                actual: max + 1
            }
        );
    }
    let error = JumpPlaceOrder::new(" ", "user-1").validate().unwrap_err();
    assert_eq!(
        (error.field.as_str(), error.rule),
        ("merchant_order_id", Rule::Required)
    );
    let bad_fee: JumpPlaceOrder = serde_json::from_str(
        r#"{"merchant_order_id":"M","merchant_user_key":"u","fee_type_list":[{"fee_type":1,"fee_type_desc":""}]}"#,
    )
    .unwrap();
    assert_eq!(
        bad_fee.validate().unwrap_err().field,
        "fee_type_list[0].fee_type_desc"
    );
}

#[test]
fn guessed_results_read_what_arrives_and_keep_the_rest() {
    let full: Institution = serde_json::from_str(
        r#"{"institution_code":"GBR-OXFORD","institution_name_en":"University of Oxford","institution_name_ch":"牛津大学","country_code":"GBR","institution_type":"1","city":"Oxford"}"#,
    )
    .unwrap();
    assert_eq!(full.institution_name_ch.as_deref(), Some("牛津大学"));
    assert_eq!(full.institution_type, Some(InstitutionType::SCHOOL));
    assert_eq!(full.extra["city"].as_str(), r#""Oxford""#);
    // Other names for the guessed fields still read; nothing is lost.
    let other: Institution =
        serde_json::from_str(r#"{"institution_code":7,"name":"Oxford","name_cn":"牛津"}"#).unwrap();
    assert_eq!(other.institution_code.as_str(), "7");
    assert_eq!(other.institution_name_en, None);
    assert_eq!(other.extra.len(), 2);
    assert!(serde_json::from_str::<Institution>(r#"{"institution_name_en":"x"}"#).is_err());

    let address: JumpAddress =
        serde_json::from_str(r#"{"jump_url":"https://et.example/j/1","expires":600}"#).unwrap();
    assert_eq!(address.jump_url.as_deref(), Some("https://et.example/j/1"));
    let elsewhere: JumpAddress =
        serde_json::from_str(r#"{"url":"https://et.example/j/2"}"#).unwrap();
    assert_eq!(elsewhere.jump_url, None);
    assert_eq!(
        elsewhere.extra["url"].as_str(),
        r#""https://et.example/j/2""#
    );
}
