//! A whole rollover rehearsed against the sandbox: ET rotates its key and
//! the salt, keeps accepting the old ones for a window, and a merchant
//! moves over without a failed message, each reply and notification
//! naming the key or salt that verified it.

use crate::common;

use std::time::Duration;

use common::{post, refused, start, state_dir, wait_for, Receiver};
use et_crypto::{PrivateKey, PublicKey, Zeroizing};
use et_model::CreateOrder;
use et_proto::{Accepted, BuiltRequest, Credentials, Merchant, Profile, Reply, CONTENT_TYPE};
use et_sandbox::{RunningSandbox, SandboxCode, SandboxDir};

fn read_key<T>(
    dir: &std::path::Path,
    name: &str,
    load: fn(&[u8]) -> Result<T, et_crypto::Error>,
) -> T {
    load(&std::fs::read(dir.join(name)).expect("key file")).expect("key")
}

/// The directory's merchant trusting `et_key` and `salt` first, then `accepted`.
fn merchant(
    dir: &std::path::Path,
    (et_key, salt): (&PublicKey, &str),
    accepted: Option<(&str, &PublicKey, &str)>,
) -> Merchant {
    let info = SandboxDir::new(dir).merchant().expect("merchant.json");
    let own: PrivateKey = read_key(dir, "merchant-private.pem", PrivateKey::load);
    let mut credentials = Credentials::new(
        info.merchant_number.as_str(),
        info.sub_merchant_number.as_str(),
        own,
        et_key.clone(),
        salt,
    );
    if let Some((name, key, salt)) = accepted {
        credentials = credentials
            .accepting_et_key(Accepted::new(name, key.clone()))
            .accepting_salt(Accepted::new(name, salt.to_owned()));
    }
    Merchant::new(credentials, Profile::default())
}

fn rate() -> et_model::GetRate {
    et_model::GetRate {
        currency_code: et_model::CurrencyCode::new("GBP"),
        pay_currency_code: None,
        extra: Default::default(),
    }
}

async fn send<Op: et_model::Operation>(
    sb: &RunningSandbox,
    m: &Merchant,
    op: &Op,
) -> (BuiltRequest, Result<Reply<Op::Output>, et_proto::Error>) {
    let request = m.build(op, std::time::SystemTime::now()).expect("builds");
    let (status, body) = post(&sb.endpoint_url(), request.body.clone(), Some(CONTENT_TYPE)).await;
    assert_eq!(status, 200);
    let opened = m.open::<Op>(&request, &body, std::time::SystemTime::now());
    (request, opened)
}

/// The last notification `hook` received, verified by `m`: the name of the
/// salt that verified it, or the error.
fn last_notification(hook: &Receiver, m: &Merchant) -> Result<String, et_proto::Error> {
    notification(hook, hook.count() - 1, m)
}

/// The `index`th notification `hook` received, verified by `m`.
fn notification(hook: &Receiver, index: usize, m: &Merchant) -> Result<String, et_proto::Error> {
    let (content_type, body) = hook.received().swap_remove(index);
    m.notification_verifier()
        .verify_owned(content_type.as_deref(), &body, std::time::SystemTime::now())
        .map(|n| n.verified_by().to_string())
}

#[tokio::test]
async fn a_whole_rollover_rehearsed_against_the_sandbox() {
    let dir = state_dir();
    let sb = start(dir.path(), 1.0).await;
    let hook = Receiver::start(true).await;
    let old_key: PublicKey = read_key(dir.path(), "et-public.pem", PublicKey::load);
    let old_salt = SandboxDir::new(dir.path())
        .merchant()
        .expect("merchant")
        .salt;

    // Before: one key, one salt, both current.
    let before = merchant(dir.path(), (&old_key, &old_salt), None);
    let order = CreateOrder {
        notify_url: Some(hook.url("/notify")),
        ..et_testkit::order("M-rollover", "100.00")
    };
    let (_, created) = send(&sb, &before, &order).await;
    let created = created.expect("order created");
    assert!(created.verified_by.is_current());
    let id = created.items[0].order_id.clone();
    sb.pay(&id).expect("paid");
    wait_for(Duration::from_secs(5), || (hook.count() >= 1).then_some(()))
        .await
        .expect("payment notification");
    assert_eq!(
        last_notification(&hook, &before).expect("verifies"),
        "current"
    );

    // ET rotates, keeping the old key and salt for an hour.
    let rotated = sb.rotate(Duration::from_secs(3600)).expect("rotates");
    let new_key = PublicKey::load(rotated.et_public_pem.as_bytes()).expect("new key");
    let new_salt: Zeroizing<String> = rotated.salt;
    assert_ne!(*new_salt, *old_salt);
    // A merchant that has not heard of the new key refuses the replies now.
    let (_, unheard) = send(&sb, &before, &rate()).await;
    assert!(
        matches!(unheard, Err(et_proto::Error::SignatureMismatch { .. })),
        "{unheard:?}"
    );

    // The merchant accepts the new key and salt besides its current ones:
    // its requests, still sealed to ET's old key, are opened within the
    // window, and the replies say the new key verified them.
    let during = merchant(
        dir.path(),
        (&old_key, &old_salt),
        Some(("et-2026", &new_key, &new_salt)),
    );
    let (_, reply) = send(&sb, &during, &et_testkit::order("M-during", "100.00")).await;
    assert_eq!(reply.expect("opens").verified_by.as_str(), "et-2026");
    let seen = hook.count();
    sb.remit(&id).expect("remitted");
    wait_for(Duration::from_secs(5), || {
        (hook.count() > seen).then_some(())
    })
    .await
    .expect("status notification");
    assert_eq!(
        last_notification(&hook, &during).expect("verifies with the new salt"),
        "et-2026"
    );
    assert!(matches!(
        last_notification(&hook, &before),
        Err(et_proto::Error::SignatureMismatch { .. })
    ));

    // The merchant switches: the new key and salt current, the old ones
    // kept while ET may still use them.
    let after = merchant(
        dir.path(),
        (&new_key, &new_salt),
        Some(("et-2025", &old_key, &old_salt)),
    );
    let (_, reply) = send(&sb, &after, &et_testkit::order("M-after", "100.00")).await;
    assert!(reply.expect("opens").verified_by.is_current());
    assert_eq!(
        last_notification(&hook, &after).expect("new salt"),
        "current"
    );
    // A notification signed before the rotation (a retry may still come).
    assert_eq!(
        notification(&hook, 0, &after).expect("old salt still accepted"),
        "et-2025"
    );
}

/// The window holds across a restart, and ends: a request sealed to ET's
/// old key is opened while the window lasts and refused after it.
#[tokio::test]
async fn the_old_key_is_accepted_for_the_window_only() {
    for (window, opens) in [(Duration::from_secs(3600), true), (Duration::ZERO, false)] {
        let dir = state_dir();
        let old_key: PublicKey = read_key(dir.path(), "et-public.pem", PublicKey::load);
        let rotated = SandboxDir::new(dir.path()).rotate(window).expect("rotates");
        let new_key = PublicKey::load(rotated.et_public_pem.as_bytes()).expect("new key");
        // Past a zero window by the time the sandbox reads it.
        std::thread::sleep(Duration::from_millis(5));
        let sb = start(dir.path(), 1.0).await;
        let salt = SandboxDir::new(dir.path())
            .merchant()
            .expect("merchant")
            .salt;
        let m = merchant(
            dir.path(),
            (&old_key, &salt),
            Some(("et-new", &new_key, &salt)),
        );
        // An order carries sensitive data: its `aeskey` is sealed to ET's old key.
        let (_, reply) = send(&sb, &m, &et_testkit::order("M-window", "100.00")).await;
        if opens {
            assert_eq!(
                reply
                    .expect("opened within the window")
                    .verified_by
                    .as_str(),
                "et-new"
            );
        } else {
            refused(reply, SandboxCode::DecryptionFailed);
        }
    }
}
