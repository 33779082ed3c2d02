//! Debug and Display never show a key, the salt or decrypted sensitive data.

use crate::common;

use common::{Parties, Who, SALT};
use et_model::{CreateOrder, QueryOrders};
use et_proto::{NotificationVerifier, NotifySignRule, Profile, Response};

const SECRET: &str = "SECRET-PAYER-7f3a";

/// Lines of a PEM body, long enough that none can appear by chance.
fn pem_lines(who: Who) -> Vec<String> {
    let pem = common::key(who, 1024).to_pkcs8_pem().unwrap();
    pem.lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::to_owned)
        .collect()
}

fn assert_clean(what: &str, text: &str) {
    assert!(
        !text.contains(SECRET),
        "{what} shows sensitive data: {text}"
    );
    assert!(!text.contains(SALT), "{what} shows the salt: {text}");
    for who in [Who::Merchant, Who::Et] {
        for line in pem_lines(who) {
            assert!(!text.contains(&line), "{what} shows key material");
        }
    }
}

#[test]
fn parties_and_opened_requests_are_redacted() {
    let parties = Parties::same(1024, Profile::default());
    assert_clean(
        "Credentials",
        &format!("{:?}", parties.merchant.credentials()),
    );
    assert_clean("Merchant", &format!("{:?}", parties.merchant));
    assert_clean("EtSide", &format!("{:?}", parties.et));
    assert_clean(
        "NotificationVerifier",
        &format!("{:?}", parties.merchant.notification_verifier()),
    );
    let order = CreateOrder {
        name_ch: Some(SECRET.to_owned()),
        ..et_testkit::order("M-1", "1.00")
    };
    let request = parties.build(&order);
    let opened = parties.et_open(&request);
    assert!(opened.sensitive.contains(SECRET), "the fixture reached ET");
    assert_clean("OpenedRequest", &format!("{opened:?}"));
    let response = Response::success(&opened)
        .with_sensitive(&[serde_json::json!({"secret": SECRET})])
        .unwrap();
    assert_clean("Response", &format!("{response:?}"));
}

#[test]
fn errors_about_sensitive_payloads_do_not_quote_them() {
    let parties = Parties::same(1024, Profile::default());
    let request = parties.build(&QueryOrders::new(["ET1"]));
    let opened = parties.et_open(&request);
    // A sensitive item whose wrong-typed value serde would quote.
    let response = Response::success(&opened)
        .with_sensitive(&[serde_json::json!({"order_id": "ET1", "tuition_rmb": SECRET})])
        .unwrap();
    let body = parties.et_respond(&response);
    let err = parties.open::<QueryOrders>(&request, &body).unwrap_err();
    assert!(matches!(
        err,
        et_proto::Error::InvalidPayload {
            part: et_model::Placement::Sensitive,
            ..
        }
    ));
    assert_clean("Error (Display)", &err.to_string());
    assert_clean("Error (Debug)", &format!("{err:?}"));
}

#[test]
fn verified_notifications_do_not_show_the_salt() {
    let body = et_testkit::ET_V2_PAYMENT_NOTIFICATION.as_bytes();
    let verified = NotificationVerifier::new(SALT, NotifySignRule::V2)
        .verify_owned(None, body, std::time::SystemTime::now())
        .unwrap();
    assert_clean("VerifiedNotification", &format!("{verified:?}"));
}
