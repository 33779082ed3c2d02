//! What et-sandbox's tests add to the test kit (et-testkit): a running
//! sandbox, its merchant (et-proto) and calls through it.
#![allow(dead_code, unused_imports, missing_docs)]

use std::path::Path;
use std::time::SystemTime;

use et_crypto::{PrivateKey, PublicKey};
use et_model::Operation;
use et_proto::{
    BuiltRequest, CallbackEncoding, Credentials, EmptySensitive, Merchant, Profile, CONTENT_TYPE,
};
use et_sandbox::{RunningSandbox, SandboxCode, SandboxConfig, SandboxDir};

pub(crate) use et_testkit::http::{fetch, get, post, request, wait_for, Receiver};
/// A fresh state directory holding the test kit's keys and merchant.
pub(crate) use et_testkit::merchant_dir as state_dir;

pub(crate) async fn start(dir: &Path, time_scale: f64) -> RunningSandbox {
    let config = SandboxConfig {
        time_scale,
        ..SandboxConfig::new(dir)
    };
    et_sandbox::start(config).await.expect("sandbox starts")
}

/// A sandbox on a fresh state directory (which lives as long as the
/// returned `TempDir`), its clock at `time_scale` times real time, and the
/// directory's merchant.
pub(crate) async fn started(time_scale: f64) -> (tempfile::TempDir, RunningSandbox, Merchant) {
    let dir = state_dir();
    let sandbox = start(dir.path(), time_scale).await;
    let merchant = merchant(dir.path());
    (dir, sandbox, merchant)
}

fn load_private(path: &Path) -> PrivateKey {
    PrivateKey::load(&std::fs::read(path).expect("key file")).expect("private key")
}

fn load_public(path: &Path) -> PublicKey {
    PublicKey::load(&std::fs::read(path).expect("key file")).expect("public key")
}

/// The directory's merchant signing with `signing_key` and encrypting to
/// `et_public` (default profile).
pub(crate) fn merchant_with(
    dir: &Path,
    signing_key: &PrivateKey,
    et_public: &PublicKey,
) -> Merchant {
    merchant_keys(
        dir,
        signing_key.clone(),
        et_public.clone(),
        Profile::default(),
    )
}

fn merchant_keys(
    dir: &Path,
    signing_key: PrivateKey,
    et_public: PublicKey,
    profile: Profile,
) -> Merchant {
    let info = SandboxDir::new(dir).merchant().expect("merchant.json");
    let credentials = Credentials::new(
        info.merchant_number.clone(),
        info.sub_merchant_number.clone(),
        signing_key,
        et_public,
        info.salt.as_str(),
    );
    Merchant::new(credentials, profile)
}

pub(crate) fn merchant(dir: &Path) -> Merchant {
    merchant_speaking(dir, Profile::default())
}

/// The directory's merchant, with its own keys, speaking `profile`.
pub(crate) fn merchant_speaking(dir: &Path, profile: Profile) -> Merchant {
    merchant_keys(
        dir,
        load_private(&dir.join("merchant-private.pem")),
        load_public(&dir.join("et-public.pem")),
        profile,
    )
}

/// The directory's merchant speaking like ET's Python demo:
/// `callback_process` `""`, `sensitive_data` always encrypted (`[]` when
/// there is nothing to send).
pub(crate) fn demo_merchant(dir: &Path) -> Merchant {
    merchant_speaking(
        dir,
        Profile {
            empty_sensitive: EmptySensitive::EncryptEmptyList,
            callback_process: CallbackEncoding::Empty,
            ..Profile::default()
        },
    )
}

/// Builds `op`, sends it and opens the answer: its items, or ET's refusal.
pub(crate) async fn call<Op: Operation>(
    sb: &RunningSandbox,
    m: &Merchant,
    op: &Op,
) -> Result<Vec<Op::Output>, et_proto::Error> {
    let req = m.build(op, SystemTime::now()).expect("request builds");
    send_built::<Op>(sb, m, &req).await
}

/// Sends an already built request and opens the answer.
pub(crate) async fn send_built<Op: Operation>(
    sb: &RunningSandbox,
    m: &Merchant,
    req: &BuiltRequest,
) -> Result<Vec<Op::Output>, et_proto::Error> {
    let (status, body) = post(&sb.endpoint_url(), req.body.clone(), Some(CONTENT_TYPE)).await;
    assert_eq!(status, 200);
    m.open::<Op>(req, &body, SystemTime::now()).map(|r| r.items)
}

/// The refusal is signed by ET and carries `code`; returns its message.
pub(crate) fn refused<T: std::fmt::Debug>(
    result: Result<T, et_proto::Error>,
    code: SandboxCode,
) -> String {
    match result {
        Err(et_proto::Error::Api {
            code: got,
            message,
            authenticated,
        }) => {
            assert!(
                authenticated,
                "refusal {got:?} must carry a valid ET signature"
            );
            assert_eq!(got.as_str(), code.as_str(), "{message}");
            assert!(!message.is_empty());
            message
        }
        other => panic!("expected refusal {code}, got {other:?}"),
    }
}

/// The checkout form's token in a checkout page, as a browser on the page
/// submits it ("" if there is none).
pub(crate) fn form_token(html: &str) -> String {
    html.split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned()
}
