//! The main job, in-process: the whole lifecycle against a local sandbox.

use std::time::Duration;

use et_cli::demo::{self, DemoOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_lifecycle_passes() {
    let options = DemoOptions {
        bits: 1024,
        time_scale: 3600.0,
        notify_timeout: Duration::from_secs(10),
    };
    let mut seen = 0;
    let report = demo::run(&options, |_| seen += 1).await;
    let lines: Vec<String> = report.steps.iter().map(ToString::to_string).collect();
    assert!(report.passed(), "demo failed:\n{}", lines.join("\n"));
    assert_eq!(
        seen,
        report.steps.len(),
        "every step reported as it finished"
    );
    for step in [
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
    ] {
        assert!(
            report.steps.iter().any(|s| s.name == step),
            "missing step {step}"
        );
    }
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
