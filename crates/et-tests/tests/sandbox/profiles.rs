//! The sandbox plays any profile. For each setting ET's pages leave open,
//! the sandbox plays a profile that changes it (stored in the state
//! directory's `profile.json`); a merchant speaking the directory's profile
//! — the real et-http client, notifications verified by et-http's webhook
//! receiver — takes an order through its life, and one speaking the
//! default profile fails where the library can tell.

use crate::common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{start, state_dir, wait_for};
use et_crypto::{KeyPadding, SignHash};
use et_http::{Client, Endpoint, WebhookReceiver};
use et_model::{CreateOrder, GetPayUrl, Notification, QueryOrders};
use et_proto::{
    Credentials, NotificationVerifier, NotifyEncoding, NotifySignRule, Profile, SignRule,
    TuitionSpelling, VerifiedNotification,
};
use et_sandbox::{RunningSandbox, SandboxCode, SandboxDir};
use tokio::net::TcpListener;

/// The notifications one order's life sends: status 1, the payment,
/// status -3, status -2 and the refund result.
const NOTIFICATIONS: usize = 5;

/// A webhook receiver (et-http's) verifying with `verifier`; what it took in.
struct Hook {
    addr: SocketAddr,
    taken: Arc<Mutex<Vec<VerifiedNotification>>>,
}

impl Hook {
    async fn start(verifier: NotificationVerifier) -> Hook {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let taken: Arc<Mutex<Vec<VerifiedNotification>>> = Arc::default();
        let into = taken.clone();
        let webhook = WebhookReceiver::new(verifier, move |n: VerifiedNotification| {
            into.lock().expect("lock").push(n);
            async { Ok::<_, std::convert::Infallible>(()) }
        });
        tokio::spawn(et_http::serve(listener, webhook, std::future::pending()));
        Hook { addr, taken }
    }

    fn url(&self) -> String {
        format!("http://{}/et/notify", self.addr)
    }

    fn of(&self, order_id: &str) -> Vec<Notification> {
        let taken = self.taken.lock().expect("lock");
        taken
            .iter()
            .map(|n| n.notification().clone())
            .filter(|n| n.order_id() == Some(order_id))
            .collect()
    }
}

/// The directory's merchant (keys, salt) speaking `profile`, through et-http.
fn client(dir: &std::path::Path, sb: &RunningSandbox, profile: Profile) -> Client {
    let info = SandboxDir::new(dir).merchant().expect("merchant.json");
    let key = |name: &str| std::fs::read(dir.join(name)).expect("key file");
    let credentials = Credentials::new(
        info.merchant_number.as_str(),
        info.sub_merchant_number.as_str(),
        et_crypto::PrivateKey::load(&key("merchant-private.pem")).expect("key"),
        et_crypto::PublicKey::load(&key("et-public.pem")).expect("key"),
        info.salt.as_str(),
    );
    let endpoint = Endpoint::parse(&sb.endpoint_url()).expect("endpoint");
    Client::new(endpoint, credentials, profile).expect("client")
}

/// Create, payment address, paid at the checkout (admin), refunded; every
/// notification verified and taken in by `hook`, the sandbox recording
/// each as delivered. The first step that fails, in words.
async fn lifecycle(
    sb: &RunningSandbox,
    client: &Client,
    hook: &Hook,
    tag: &str,
) -> Result<(), String> {
    let op = CreateOrder {
        notify_url: Some(hook.url()),
        status_change_notify_url: Some(hook.url()),
        ..et_testkit::order(format!("M-{tag}"), "100.00")
    };
    let step = |what: &'static str| move |e: et_http::Error| format!("{what}: {e}");
    let created = client
        .create_order(&op)
        .await
        .map_err(step("create_order"))?;
    let id = created.items[0].order_id.clone();
    let pay = client
        .get_pay_url(&GetPayUrl::new(&id))
        .await
        .map_err(step("get_pay_url"))?;
    assert_eq!(pay.items[0].pay_config_list[0].pay_url, sb.pay_url(&id));
    sb.pay(&id).map_err(|e| format!("pay: {e}"))?;
    client
        .apply_refund(&et_testkit::refund(&id, format!("R-{tag}")))
        .await
        .map_err(step("apply_refund"))?;
    sb.refund_result(&id, true)
        .map_err(|e| format!("refund result: {e}"))?;
    let query = client
        .query_orders(&QueryOrders::new([id.as_str()]))
        .await
        .map_err(step("query_orders"))?;
    assert_eq!(
        query.items[0].tuition.as_ref().map(|a| a.as_str()),
        Some("100.00")
    );
    // Every notification delivered, or the first attempt that failed.
    let settled = wait_for(Duration::from_secs(5), || {
        let rows = sb.notifications(Some(&id)).expect("outbox");
        let failed = rows.iter().find(|n| !n.last_error.is_empty());
        let delivered = rows.len() == NOTIFICATIONS && rows.iter().all(|n| n.delivered);
        match failed {
            Some(n) => Some(Err(format!(
                "{} not acknowledged: {}",
                n.kind, n.last_error
            ))),
            None => delivered.then_some(Ok(())),
        }
    })
    .await
    .unwrap_or_else(|| Err("notifications still pending".into()));
    settled?;
    let taken = hook.of(&id);
    assert_eq!(taken.len(), NOTIFICATIONS, "{tag}: {taken:?}");
    Ok(())
}

/// What a merchant speaking the default profile meets when the sandbox
/// plays a setting.
enum WithDefault {
    /// A failure, whose words hold this.
    Fails(&'static str),
    /// Nothing: the library reads either form by design; a merchant
    /// speaking `Profile::exact()` fails, naming this key.
    Works { exact_names: Option<&'static str> },
}

/// Plays `played`: the matching merchant's lifecycle succeeds; the default
/// one's goes as `default` says.
async fn plays(tag: &str, played: Profile, default: WithDefault) {
    let dir = state_dir();
    let state = SandboxDir::new(dir.path());
    state.set_profile(&played).expect("profile.json");
    let sb = start(dir.path(), 1.0).await;
    // The directory's profile is the played one, with the sandbox's codes.
    let stored = state.profile().expect("profile.json reads");
    assert_eq!(stored, SandboxCode::named_in(played.clone()), "{tag}");

    let matching = client(dir.path(), &sb, stored);
    let hook = Hook::start(matching.merchant().notification_verifier()).await;
    let lived = lifecycle(&sb, &matching, &hook, &format!("{tag}-matching")).await;
    assert_eq!(
        lived,
        Ok(()),
        "{tag}: a merchant speaking the played profile"
    );

    let plain = SandboxCode::named_in(Profile::default());
    let other = client(dir.path(), &sb, plain);
    let hook = Hook::start(other.merchant().notification_verifier()).await;
    let lived = lifecycle(&sb, &other, &hook, &format!("{tag}-default")).await;
    match default {
        WithDefault::Fails(words) => {
            let err = lived.expect_err(tag);
            assert!(err.contains(words), "{tag}: {err}");
        }
        WithDefault::Works { exact_names } => {
            assert_eq!(lived, Ok(()), "{tag}: the default profile reads it too");
            if let Some(key) = exact_names {
                let strict = client(dir.path(), &sb, SandboxCode::named_in(Profile::exact()));
                let err = strict
                    .get_rate(&et_model::GetRate {
                        currency_code: et_model::CurrencyCode::new("GBP"),
                        pay_currency_code: None,
                        extra: Default::default(),
                    })
                    .await
                    .expect_err(tag)
                    .to_string();
                assert!(err.contains(&format!("\"{key}\"")), "{tag}: {err}");
            }
        }
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn the_sandbox_plays_sha1_signatures() {
    let played = Profile {
        sign_hash: SignHash::Sha1,
        ..Profile::default()
    };
    // ET refuses the request (100004), and its refusal names the setting.
    plays(
        "sha1",
        played,
        WithDefault::Fails("it verifies with sign_hash = sha1"),
    )
    .await;
}

#[tokio::test]
async fn the_sandbox_plays_each_oaep_padding_of_aeskey() {
    for (name, padding) in [
        ("oaep-sha256", KeyPadding::OaepSha256),
        ("oaep-sha1", KeyPadding::OaepSha1),
        ("oaep-sha256-mgf1-sha1", KeyPadding::OaepSha256Mgf1Sha1),
    ] {
        let played = Profile {
            key_padding: padding,
            ..Profile::default()
        };
        plays(name, played, WithDefault::Fails("100005")).await;
    }
}

#[tokio::test]
async fn the_sandbox_plays_the_skip_empty_sign_string() {
    let played = Profile {
        sign_rule: SignRule::SkipEmpty,
        ..Profile::default()
    };
    plays(
        "skip-empty",
        played,
        WithDefault::Fails("it verifies with sign_rule = skip-empty"),
    )
    .await;
}

#[tokio::test]
async fn the_sandbox_plays_v1_notification_signatures() {
    let played = Profile {
        notify_sign_rule: NotifySignRule::V1Compat,
        ..Profile::default()
    };
    // The default receiver refuses the v1 signature: 401, FAIL.
    plays("v1", played, WithDefault::Fails("HTTP 401")).await;
}

#[tokio::test]
async fn the_sandbox_plays_form_encoded_notifications() {
    let played = Profile {
        notify_encoding: NotifyEncoding::Form,
        ..Profile::default()
    };
    let works = WithDefault::Works { exact_names: None };
    plays("form", played, works).await;
}

#[tokio::test]
async fn the_sandbox_plays_replies_without_version() {
    let played = Profile {
        response_version: false,
        ..Profile::default()
    };
    let works = WithDefault::Works {
        exact_names: Some("version"),
    };
    plays("no-version", played, works).await;
}

#[tokio::test]
async fn the_sandbox_plays_added_reply_keys() {
    let played = Profile {
        extra_response_keys: vec!["trace_id".into()],
        ..Profile::default()
    };
    let works = WithDefault::Works {
        exact_names: Some("trace_id"),
    };
    plays("trace-id", played, works).await;
}

#[tokio::test]
async fn the_sandbox_plays_the_tuition_spelling() {
    let played = Profile {
        tuition_spelling: TuitionSpelling::Tuition,
        ..Profile::default()
    };
    let works = WithDefault::Works { exact_names: None };
    plays("tuition", played, works).await;
}

/// The sandbox writes form-encoded notifications as a form, with the
/// matching `Content-Type`, and signs v1 notifications with the printed
/// form: what a receiver in another language sees.
#[tokio::test]
async fn played_notifications_are_posted_as_the_profile_says() {
    let dir = state_dir();
    let played = Profile {
        notify_encoding: NotifyEncoding::Form,
        notify_sign_rule: NotifySignRule::V1Compat,
        ..Profile::default()
    };
    SandboxDir::new(dir.path())
        .set_profile(&played)
        .expect("profile.json");
    let sb = start(dir.path(), 1.0).await;
    let hook = common::Receiver::start(true).await;
    let m = common::merchant_speaking(dir.path(), played);
    let op = CreateOrder {
        notify_url: Some(hook.url("/n")),
        ..et_testkit::order("M-form", "100.00")
    };
    let created = common::call(&sb, &m, &op).await.expect("created");
    sb.pay(&created[0].order_id).expect("pay");
    let arrived = wait_for(Duration::from_secs(5), || (hook.count() == 2).then_some(())).await;
    assert!(arrived.is_some(), "both notifications arrive");
    for (content_type, body) in hook.received() {
        assert_eq!(
            content_type.as_deref(),
            Some("application/x-www-form-urlencoded")
        );
        assert!(
            !body.starts_with(b"{"),
            "{}",
            String::from_utf8_lossy(&body)
        );
        let n = m
            .notification_verifier()
            .verify_owned(content_type.as_deref(), &body, std::time::SystemTime::now())
            .expect("verifies");
        assert_eq!(n.matched_rule(), et_proto::MatchedRule::V1Printed);
    }
    sb.shutdown().await;
}

/// A directory initialised with a profile stores it (0600) for `start` and
/// the merchant tools; one without `profile.json` plays the default; a
/// broken one stops the sandbox from starting, saying where.
#[tokio::test]
async fn the_state_directory_keeps_the_profile() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().expect("tempdir");
    let played = Profile {
        sign_hash: SignHash::Sha1,
        ..Profile::default()
    };
    let options = et_sandbox::InitOptions {
        bits: 1024,
        profile: played.clone(),
        ..et_sandbox::InitOptions::default()
    };
    SandboxDir::init(dir.path(), &options).expect("init");
    let path = dir.path().join(et_sandbox::PROFILE_JSON);
    let mode = std::fs::metadata(&path)
        .expect("profile.json")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let state = SandboxDir::new(dir.path());
    assert_eq!(
        state.profile().expect("reads"),
        SandboxCode::named_in(played)
    );

    let bare = state_dir();
    let state = SandboxDir::new(bare.path());
    assert_eq!(
        state.profile().expect("default"),
        SandboxCode::named_in(Profile::default())
    );
    std::fs::write(
        bare.path().join(et_sandbox::PROFILE_JSON),
        r#"{"sign_hsh":"sha1"}"#,
    )
    .expect("write");
    let config = et_sandbox::SandboxConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..et_sandbox::SandboxConfig::new(bare.path())
    };
    let err = et_sandbox::start(config).await.expect_err("refused");
    let err = err.to_string();
    assert!(
        err.contains("profile.json") && err.contains("sign_hsh"),
        "{err}"
    );
}
