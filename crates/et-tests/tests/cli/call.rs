//! `et call` and `et sandbox admin` against an in-process sandbox.
//!
//! `et call OP PAYLOAD`: one payload of the operation's fields, split by
//! `et`; `--template`; errors that name the field; the sandbox's base URL
//! and the `ET_ENDPOINT` / `ET_SANDBOX_DIR` environment.

use std::process::{Command, Output};

use et_sandbox::{RunningSandbox, SandboxConfig};

use crate::common;

use common::{et_stdin, text, ET};

/// A sandbox state directory made by `et sandbox init`, served in-process.
async fn sandbox() -> (tempfile::TempDir, RunningSandbox) {
    let dir = tempfile::tempdir().expect("tempdir");
    let init = Command::new(ET)
        .args(["sandbox", "init", "--bits", "1024", "--dir"])
        .arg(dir.path())
        .output()
        .expect("et sandbox init");
    common::assert_success(&init);
    let config = SandboxConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        ..SandboxConfig::new(dir.path())
    };
    let sandbox = et_sandbox::start(config).await.expect("sandbox");
    (dir, sandbox)
}

/// The sandbox's base URL (what `et sandbox admin` takes), not its API URL.
fn base_url(sandbox: &RunningSandbox) -> String {
    sandbox
        .endpoint_url()
        .trim_end_matches("/server")
        .to_owned()
}

/// `et call ARGS` as the merchant of `dir`, at the sandbox's base URL.
fn call(dir: &tempfile::TempDir, sandbox: &RunningSandbox, args: &[&str], stdin: &str) -> Output {
    let base = base_url(sandbox);
    let state = dir.path().to_str().expect("UTF-8 path");
    let mut all = vec!["call", "--endpoint", &base, "--dir", state];
    all.extend_from_slice(args);
    et_stdin(&all, stdin.as_bytes())
}

const ORDER: &str = r#"{"merchant_order_id":"M1","merchant_user_key":"u1","country_code":"GBR","currency_code":"GBP","tuituon":100.00,"student_email":"s@example.com"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_payload_of_an_operations_fields_is_split_by_et_and_sent() {
    let (dir, sandbox) = sandbox().await;
    let created = call(&dir, &sandbox, &["create_order", "-"], ORDER);
    common::assert_success(&created);
    let printed: serde_json::Value = serde_json::from_str(&text(&created.stdout)).expect("JSON");
    assert_eq!(printed["status_code"], "000000");
    let order_id = printed["data"][0]["order_id"].as_str().expect("order_id");
    let order = sandbox
        .order(order_id)
        .expect("sandbox")
        .expect("the order");
    assert_eq!(order.merchant_order_id, "M1");

    // An operation whose fields go in `data`, from the same kind of file.
    let payload = format!(r#"{{"order_id":"{order_id}"}}"#);
    let pay_url = call(&dir, &sandbox, &["get_special_pay_url", "-"], &payload);
    common::assert_success(&pay_url);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_field_is_named_without_a_line_and_column() {
    let (dir, sandbox) = sandbox().await;
    let bad = ORDER.replace("100.00", r#""lots""#);
    let out = call(&dir, &sandbox, &["create_order", "-"], &bad);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.starts_with("et: stdin: tuituon: "), "{err}");
    assert!(!err.contains("column"), "{err}");

    let cut = call(
        &dir,
        &sandbox,
        &["create_order", "-"],
        "{\"merchant_order_id\":",
    );
    let err = text(&cut.stderr);
    assert!(
        err.contains("not valid JSON: the text ends before the JSON does (line 1, column 21)"),
        "{err}"
    );

    let unknown = call(&dir, &sandbox, &["no_such_op", "-"], "{}");
    let err = text(&unknown.stderr);
    assert!(err.contains("--data and --sensitive"), "{err}");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_template_lists_the_required_fields_and_once_filled_is_sent() {
    let (dir, sandbox) = sandbox().await;
    let template = Command::new(ET)
        .args(["call", "create_order", "--template"])
        .output()
        .expect("et call --template");
    common::assert_success(&template);
    let mut payload: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&template.stdout).expect("the template is JSON");
    let mut fields: Vec<&str> = payload.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "country_code",
            "currency_code",
            "merchant_order_id",
            "merchant_user_key",
            "tuituon"
        ]
    );
    assert!(
        text(&template.stderr).contains("notify_url"),
        "the other fields are named"
    );

    // Unfilled, it is refused naming the first empty field.
    let empty = call(
        &dir,
        &sandbox,
        &["create_order", "-"],
        &text(&template.stdout),
    );
    let err = text(&empty.stderr);
    assert!(err.contains("merchant_order_id"), "{err}");

    for (field, value) in [
        ("merchant_order_id", "M2"),
        ("merchant_user_key", "u2"),
        ("country_code", "GBR"),
        ("currency_code", "GBP"),
    ] {
        payload.insert(field.into(), value.into());
    }
    payload.insert("tuituon".into(), serde_json::json!(250));
    let filled = serde_json::to_string(&payload).expect("JSON");
    let sent = call(&dir, &sandbox, &["create_order", "-"], &filled);
    common::assert_success(&sent);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_and_directory_can_come_from_the_environment() {
    let (dir, sandbox) = sandbox().await;
    let payload = dir.path().join("rate.json");
    std::fs::write(&payload, r#"{"currency_code":"GBP"}"#).expect("write");
    let out = Command::new(ET)
        .args(["call", "get_rate"])
        .arg(&payload)
        .env("ET_ENDPOINT", base_url(&sandbox))
        .env("ET_SANDBOX_DIR", dir.path())
        .output()
        .expect("et call");
    common::assert_success(&out);
    let missing = Command::new(ET)
        .args(["call", "get_rate"])
        .arg(&payload)
        .env_remove("ET_ENDPOINT")
        .env_remove("ET_SANDBOX_DIR")
        .output()
        .expect("et call");
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing.stderr).contains("ET_SANDBOX_DIR"),
        "{}",
        text(&missing.stderr)
    );
    sandbox.shutdown().await;
}

/// `et sandbox admin`: `show` indented as `et call` prints, a refusal in
/// words (the sandbox's message and code), not its JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_show_is_indented_and_a_refusal_is_in_words() {
    let (dir, sandbox) = sandbox().await;
    let created = call(&dir, &sandbox, &["create_order", "-"], ORDER);
    let printed: serde_json::Value = serde_json::from_str(&text(&created.stdout)).expect("JSON");
    let order_id = printed["data"][0]["order_id"].as_str().expect("order_id");
    let admin = |action: &str| {
        et_stdin(
            &[
                "sandbox",
                "admin",
                "--endpoint",
                &base_url(&sandbox),
                order_id,
                action,
            ],
            b"",
        )
    };
    let shown = text(&admin("show").stdout);
    assert!(shown.starts_with("{\n  \""), "{shown}");
    let refused = admin("remit");
    assert_eq!(refused.status.code(), Some(3));
    let err = text(&refused.stderr);
    assert!(
        err.starts_with("et: the sandbox refused (409 Conflict): "),
        "{err}"
    );
    assert!(!err.contains('{'), "no raw JSON: {err}");
    sandbox.shutdown().await;
}

/// A connection reset after ET committed the order: `et` says the request
/// may have reached ET and how to find out, and the order is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_after_the_request_left_says_it_may_have_reached_et_and_how_to_find_out() {
    let (dir, sandbox) = sandbox().await;
    let rule = r#"{"scope":{"next":1},"fault":{"kind":"reset","at":"after_commit"}}"#;
    let base = base_url(&sandbox);
    let added = et_stdin(
        &["sandbox", "faults", "add", rule, "--endpoint", &base],
        b"",
    );
    common::assert_success(&added);
    let out = call(&dir, &sandbox, &["create_order", "-"], ORDER);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("ET may have received this request and acted on it"),
        "{err}"
    );
    assert!(err.contains("merchant_order_id M1"), "{err}");
    assert!(err.contains("batch_special_query_order_info"), "{err}");
    // The order was made: sending the same merchant_order_id again is
    // refused naming it (the sandbox's profile names the duplicate code).
    assert!(err.contains("is safe under this profile"), "{err}");
    let again = call(&dir, &sandbox, &["create_order", "-"], ORDER);
    assert_eq!(again.status.code(), Some(3), "{}", text(&again.stderr));
    assert!(
        text(&again.stderr).contains("already used"),
        "{}",
        text(&again.stderr)
    );
    sandbox.shutdown().await;
}
