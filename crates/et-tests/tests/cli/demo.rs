//! The main job, in-process: the whole lifecycle against a local sandbox.

use std::time::Duration;

use et_cli::demo::{self, DemoOptions, StepError};

use crate::common::{assert_has_steps, demo_passes, passed_step, quick_demo};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_lifecycle_passes() {
    let options = quick_demo();
    let mut seen = 0;
    let report = demo::run(&options, |_| seen += 1).await;
    let lines: Vec<String> = report.steps.iter().map(ToString::to_string).collect();
    assert!(report.passed(), "demo failed:\n{}", lines.join("\n"));
    assert_eq!(
        seen,
        report.steps.len(),
        "every step reported as it finished"
    );
    assert_has_steps(
        &report,
        &[
            "look up institution",
            "create order",
            "upload offer letter",
            "get payment address",
            "pay on checkout page",
            "payment notification",
            "status → remitting",
            "status → awaiting receipt",
            "remittance voucher",
            "download voucher PDF",
            "status → completed",
            "query order",
            "apply for refund",
            "refund result",
            "all notifications acknowledged",
        ],
    );
    // payment, paid, remitting, awaiting receipt, voucher, completed,
    // refunding, refund result, refunded.
    assert!(
        report.notifications >= 9,
        "{} notifications",
        report.notifications
    );
    assert!(lines
        .iter()
        .all(|l| l.starts_with('✓') && l.ends_with(" ms")));
}

/// A merchant with the wrong salt refuses every notification: the run must
/// fail at the first one, not pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_fails_when_notifications_do_not_verify() {
    let options = DemoOptions {
        notify_timeout: Duration::from_millis(500),
        receiver_salt: Some("not-the-merchant-salt".to_owned()),
        ..quick_demo()
    };
    let report = demo::run(&options, |_| {}).await;
    assert!(!report.passed());
    let failed = report.failure().expect("a failed step");
    assert_eq!(failed.name, "payment notification");
    let reason = failed.outcome.as_ref().expect_err("failed");
    assert!(
        matches!(reason, StepError::NoNotification { what, .. } if what == "payment success"),
        "{reason:?}"
    );
    assert!(
        reason
            .to_string()
            .starts_with("no payment success notification within"),
        "{reason}"
    );
    assert!(
        report.steps.last().is_some_and(|s| std::ptr::eq(s, failed)),
        "the run stops at the failure"
    );
    assert_eq!(report.notifications, 0);
}

/// `et demo --inbox`: every notification stored before its acknowledgement,
/// an order ET could not notify reconciled, every event consumed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_with_the_inbox_stores_reconciles_and_consumes_each_event_once() {
    let (report, _) = demo_passes(DemoOptions {
        inbox: true,
        ..quick_demo()
    })
    .await;
    assert!(passed_step(&report, "inbox: reconcile").contains("reconciled:order_status:"));
    let consumed = passed_step(&report, "inbox: consume");
    assert!(consumed.contains("(1 reconciled)"), "{consumed}");
}

/// `et demo --tls`: the sandbox serves its API, pages and voucher over
/// HTTPS with the certificate it made, which the client and the browser
/// trust as an extra root; the whole lifecycle passes over it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_lifecycle_passes_over_tls() {
    let (report, _) = demo_passes(DemoOptions {
        tls: true,
        ..quick_demo()
    })
    .await;
    let started = passed_step(&report, "start sandbox");
    assert!(started.starts_with("https://"), "{started}");
    assert_has_steps(
        &report,
        &[
            "pay on checkout page",
            "download voucher PDF",
            "refund result",
        ],
    );
}

/// The whole lifecycle with the merchant's key on a PKCS#11 token
/// (SoftHSM2), generated there: every request signed and every `aeskey`
/// unwrapped by the token, the sandbox knowing only the public half.
#[cfg(feature = "pkcs11")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_lifecycle_passes_with_the_merchant_key_on_a_pkcs11_token() {
    use et_crypto::{Pkcs11Key, Pkcs11Uri};
    use et_testkit::softhsm::SoftHsm;
    let Some(hsm) = SoftHsm::get("demo_lifecycle_passes_with_the_merchant_key_on_a_pkcs11_token")
    else {
        return;
    };
    let uri = hsm.uri("demo-merchant");
    let parsed = Pkcs11Uri::parse(&uri).expect("the test URI parses");
    Pkcs11Key::generate(&parsed, 2048).expect("a key generated on the token");
    let (report, lines) = demo_passes(DemoOptions {
        merchant_key: Some(uri.into()),
        ..quick_demo()
    })
    .await;
    assert!(
        lines[0].contains("merchant's RSA-2048 given"),
        "{}",
        lines[0]
    );
    assert!(report.notifications >= 9, "{}", report.notifications);
}
