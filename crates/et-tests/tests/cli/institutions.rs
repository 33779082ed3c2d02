//! `et institutions search` and `et call` for `get_institutions` and
//! `merchant_jump_place_order`, run as a user would against a sandbox;
//! and the demo's jump run, in-process.

use et_cli::demo::DemoOptions;
use et_sandbox::{InitOptions, RunningSandbox, SandboxConfig, SandboxDir};

use crate::common;

use common::{assert_has_steps, et_stdin, quick_demo, text};

async fn sandbox(dir: &std::path::Path) -> RunningSandbox {
    let init = InitOptions {
        bits: 1024,
        ..InitOptions::default()
    };
    SandboxDir::init(dir, &init).expect("init");
    et_sandbox::start(SandboxConfig::new(dir))
        .await
        .expect("sandbox starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn institutions_search_and_call_both_operations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let endpoint = sb.endpoint_url();
    let state = dir.path().to_str().expect("UTF-8 path").to_owned();
    // `et ARGS --endpoint (the sandbox) --dir (its state)`, reading `stdin`.
    let et_here = |args: &[&str], stdin: &[u8]| {
        let mut args = args.to_vec();
        args.extend(["--endpoint", &endpoint, "--dir", &state]);
        et_stdin(&args, stdin)
    };
    let search = |extra: &[&str]| et_here(&[&["institutions", "search"], extra].concat(), b"");

    let found = search(&["牛津"]);
    common::assert_success(&found);
    assert_eq!(
        text(&found.stdout),
        "GBR-OXFORD\tUniversity of Oxford\t牛津大学\tGBR\t1\n"
    );
    let page = search(&["", "--count", "3"]);
    assert_eq!(text(&page.stdout).lines().count(), 3);
    let residences = search(&["student", "--type", "2"]);
    assert!(text(&residences.stdout).lines().count() >= 4);
    assert!(search(&["student"]).stdout.is_empty(), "type 1 by default");
    assert!(!search(&["student", "--any-type"]).stdout.is_empty());

    let call =
        |op: &str, payload: &str, json: &str| et_here(&["call", op, payload, "-"], json.as_bytes());
    let listed = call(
        "get_institutions",
        "--data",
        r#"{"search_key": "toronto", "count": 0, "institution_type": 1}"#,
    );
    common::assert_success(&listed);
    let listed: serde_json::Value = serde_json::from_str(&text(&listed.stdout)).expect("JSON");
    assert_eq!(listed["data"][0]["institution_name_ch"], "多伦多大学");

    let jump = call(
        "merchant_jump_place_order",
        "--sensitive",
        r#"{"merchant_order_id":"M-CLI-1","merchant_user_key":"u1","tuition":100.00}"#,
    );
    common::assert_success(&jump);
    let jump: serde_json::Value = serde_json::from_str(&text(&jump.stdout)).expect("JSON");
    let url = jump["data"][0]["jump_url"].as_str().expect("jump_url");
    assert!(url.contains("/jump/"), "{url}");

    // An unknown institution code: a verified refusal, exit 3, naming the field.
    let refused = call(
        "create_order",
        "--sensitive",
        r#"{"merchant_order_id":"M-CLI-2","merchant_user_key":"u1","country_code":"GBR","currency_code":"GBP","tuituon":1.00,"institution_code":"NOPE"}"#,
    );
    assert_eq!(refused.status.code(), Some(3));
    let err = text(&refused.stderr);
    assert!(
        err.contains("200007") && err.contains("institution_code"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);

    // An amount the typed API refuses is not sent, unless asked for; then
    // the sandbox refuses it (a verified refusal, exit 3), by the same rule.
    for (op, json) in [
        (
            "create_order",
            r#"{"merchant_order_id":"M-CLI-3","merchant_user_key":"u1","country_code":"GBR","currency_code":"GBP","tuituon":-5.00}"#,
        ),
        (
            "merchant_jump_place_order",
            r#"{"merchant_order_id":"M-CLI-4","merchant_user_key":"u1","tuition":1e-27}"#,
        ),
    ] {
        let unsent = call(op, "--sensitive", json);
        assert_eq!(unsent.status.code(), Some(2), "{op}");
        let err = text(&unsent.stderr);
        assert!(
            err.contains("tuit") && err.contains("--no-validate") && !err.contains("100006"),
            "{op}: {err}"
        );
        let sent = et_here(
            &["call", op, "--sensitive", "-", "--no-validate"],
            json.as_bytes(),
        );
        assert_eq!(sent.status.code(), Some(3), "{op}: {}", text(&sent.stderr));
        let err = text(&sent.stderr);
        assert!(
            err.contains("100006") && err.contains("tuit"),
            "{op}: {err}"
        );
    }
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_jump_run_passes() {
    let (report, lines) = common::demo_passes(DemoOptions {
        jump: true,
        ..quick_demo()
    })
    .await;
    assert_has_steps(
        &report,
        &[
            "look up institution",
            "hand student over to ET",
            "open jump page",
            "student places order",
            "pay on checkout page",
            "payment notification",
            "status → paid",
            "all notifications acknowledged",
        ],
    );
    assert!(report.notifications >= 2, "{}", report.notifications);
    assert!(lines.iter().all(|l| !l.contains('\n')), "one line per step");
}
