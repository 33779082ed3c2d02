//! Rollover: several ET public keys and notification salts accepted at
//! once, each tried in turn, the verified reply or notification naming the
//! one that verified; expired ones refused; a failure the same error
//! whichever came closest.

use std::time::{Duration, SystemTime};

use et_model::GetPayUrl;
use et_proto::{
    refund_acknowledgement, Accepted, Credentials, EtSide, Merchant, Message, NotificationVerifier,
    NotifySignRule, Profile, Response, UntypedObject, CURRENT,
};
use et_testkit::{key, Who};
use zeroize::Zeroizing;

const OLD_SALT: &str = "old-secret-salt";
const NEW_SALT: &str = "new-secret-salt";

/// A merchant whose current ET key is ET's 1024-bit key, with `accepted`.
fn merchant(accepted: Vec<Accepted<et_crypto::PublicKey>>) -> Merchant {
    let mut credentials = Credentials::new(
        "ET82009",
        "ET82009S001",
        key(Who::Merchant, 1024).clone(),
        key(Who::Et, 1024).public_key().clone(),
        OLD_SALT,
    );
    credentials.accepted_et_keys = accepted;
    Merchant::new(credentials, Profile::default())
}

/// The reply ET signing with `et_key` gives to `merchant`'s request.
fn reply_signed_by(
    merchant: &Merchant,
    et_key: &et_crypto::PrivateKey,
) -> Result<et_proto::Reply<et_model::PayUrl>, et_proto::Error> {
    let request = merchant
        .build(&GetPayUrl::new("ET1"), std::time::SystemTime::now())
        .expect("builds");
    let merchant_public = key(Who::Merchant, 1024).public_key().clone();
    // ET may open the request with its old key and sign with its new one.
    let opened = EtSide::new(key(Who::Et, 1024).clone(), Profile::default())
        .open_request(
            &request.body,
            |_, _| Some(merchant_public.clone()),
            SystemTime::now(),
        )
        .expect("opens");
    let body = EtSide::new(et_key.clone(), Profile::default())
        .respond(&merchant_public, &Response::success(&opened))
        .expect("responds");
    merchant.open::<GetPayUrl>(&request, &body, SystemTime::now())
}

fn new_et_key() -> et_crypto::PrivateKey {
    key(Who::Et, 2048).clone()
}

#[test]
fn a_reply_names_the_et_key_that_verified_it() {
    let accepted = vec![Accepted::new("et-2026", new_et_key().public_key().clone())];
    let merchant = merchant(accepted);
    let by_current = reply_signed_by(&merchant, key(Who::Et, 1024)).expect("current key");
    assert_eq!(by_current.verified_by.as_str(), CURRENT);
    assert!(by_current.verified_by.is_current());
    let by_new = reply_signed_by(&merchant, &new_et_key()).expect("accepted key");
    assert_eq!(by_new.verified_by.as_str(), "et-2026");
}

#[test]
fn an_et_key_past_its_not_after_is_refused_as_any_unknown_key() {
    let past = SystemTime::now() - Duration::from_secs(1);
    let future = SystemTime::now() + Duration::from_secs(3600);
    let new_public = new_et_key().public_key().clone();
    let expired = merchant(vec![
        Accepted::new("et-2026", new_public.clone()).until(past)
    ]);
    let unknown = merchant(Vec::new());
    let refused = reply_signed_by(&expired, &new_et_key()).expect_err("expired");
    // The same error as for a key never accepted: nothing says how close it came.
    assert_eq!(
        refused,
        reply_signed_by(&unknown, &new_et_key()).expect_err("unknown")
    );
    assert_eq!(
        refused,
        et_proto::Error::SignatureMismatch {
            what: Message::Response
        }
    );
    let in_force = merchant(vec![Accepted::new("et-2026", new_public).until(future)]);
    assert!(reply_signed_by(&in_force, &new_et_key()).is_ok());
}

fn refund_fields() -> UntypedObject {
    UntypedObject::parse_json(
        br#"{"order_id":"ET00000000000000001","refund_order_id":"R1","refund_result":1,"refund_amount":10000.00,"refund_datetime":"2024-01-01 10:00:00","extend_info":""}"#,
        Message::Notification,
    )
    .expect("fields")
}

fn salts(accepted: Accepted<String>) -> NotificationVerifier {
    let accepted = Accepted {
        name: accepted.name,
        value: Zeroizing::new(accepted.value),
        not_after: accepted.not_after,
    };
    NotificationVerifier::new(OLD_SALT, NotifySignRule::V2).with_accepted_salts([accepted])
}

#[test]
fn a_notification_names_its_salt_and_is_acknowledged_with_it() {
    let verifier = salts(Accepted::new("salt-2026", NEW_SALT.to_owned()));
    let by_old = verifier
        .verify_owned(
            None,
            &EtSide::sign_notification(OLD_SALT, refund_fields()),
            SystemTime::now(),
        )
        .expect("current salt");
    assert_eq!(by_old.verified_by().as_str(), CURRENT);
    let body = EtSide::sign_notification(NEW_SALT, refund_fields());
    let view = verifier
        .verify(None, &body, SystemTime::now())
        .expect("accepted salt");
    assert_eq!(view.verified_by(), "salt-2026");
    let by_new = view.to_verified().expect("typed");
    assert_eq!(by_new.verified_by().as_str(), "salt-2026");
    // ET checks the refund acknowledgement with the salt it signed with.
    assert_eq!(
        by_new.acknowledgement(),
        refund_acknowledgement(NEW_SALT, "ET00000000000000001")
    );
    for shown in [format!("{verifier:?}"), format!("{view:?}")] {
        assert!(
            !shown.contains(NEW_SALT) && !shown.contains(OLD_SALT),
            "{shown}"
        );
    }
}

#[test]
fn a_salt_past_its_not_after_is_refused_as_any_unknown_salt() {
    let past = SystemTime::now() - Duration::from_secs(1);
    let expired = salts(Accepted::new("salt-2026", NEW_SALT.to_owned()).until(past));
    let body = EtSide::sign_notification(NEW_SALT, refund_fields());
    let refused = expired
        .verify_owned(None, &body, SystemTime::now())
        .expect_err("expired");
    let unknown = NotificationVerifier::new(OLD_SALT, NotifySignRule::V2)
        .verify_owned(None, &body, SystemTime::now())
        .expect_err("unknown");
    assert_eq!(refused, unknown);
}

#[test]
fn the_merchants_verifier_accepts_the_credentials_salts() {
    let mut credentials = et_testkit::credentials(1024);
    credentials.accepted_salts = vec![Accepted::new(
        "salt-2026",
        Zeroizing::new(NEW_SALT.to_owned()),
    )];
    let merchant = Merchant::new(credentials, Profile::default());
    let body = EtSide::sign_notification(NEW_SALT, refund_fields());
    let verified = merchant
        .notification_verifier()
        .verify_owned(None, &body, SystemTime::now())
        .expect("accepted salt");
    assert_eq!(verified.verified_by().as_str(), "salt-2026");
}
