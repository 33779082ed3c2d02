//! The Python client (`clients/python`) against `et sandbox serve`, through
//! a whole lifecycle: create an order, get its payment address, pay, receive
//! and verify the notification, acknowledge it, query the order. Needs
//! Python 3 with `cryptography` (`ET_PYTHON`, else `python3`): without it
//! the test SKIPs loudly, and with `ET_REQUIRE_SERVICES=1` it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common;

use common::{et_command, et_stdin, serve_sandbox};
use et_http::{VoucherDownloader, VoucherLimits};

/// The Python interpreter to use, if it has `cryptography`; else `None`
/// for `test` (see `require_service`).
fn python(test: &str) -> Option<String> {
    let python = std::env::var("ET_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let ready = Command::new(&python)
        .args([
            "-c",
            "import sys, cryptography; assert sys.version_info >= (3, 11)",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    et_testkit::skip::require_service(
        ready.then_some(python),
        test,
        "Python 3.11+ with `cryptography`",
        "pip install cryptography, or set ET_PYTHON, as .ci/run does",
    )
}

fn client_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../clients/python")
}

/// Runs the client's directory's `args` with `python`, writing no bytecode
/// into the source tree.
fn run_python(python: &str, args: &[&str]) -> std::process::Output {
    Command::new(python)
        .current_dir(client_dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .args(args)
        .output()
        .expect("run Python")
}

#[test]
fn the_python_client_s_unit_tests_pass() {
    let Some(python) = python("the_python_client_s_unit_tests_pass") else {
        return;
    };
    let run = run_python(&python, &["-m", "unittest", "-q", "test_et_client"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn the_python_client_runs_a_whole_lifecycle_against_the_sandbox() {
    let Some(python) = python("the_python_client_runs_a_whole_lifecycle_against_the_sandbox")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().to_str().expect("utf-8 path");
    let init = et_stdin(&["sandbox", "init", "--dir", state, "--bits", "1024"], b"");
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );

    let served = serve_sandbox(et_command, state, &[]);
    let endpoint = &served.endpoint;

    let run = run_python(
        &python,
        &["lifecycle.py", "--dir", state, "--endpoint", endpoint],
    );
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "the Python lifecycle failed: {}{out}",
        String::from_utf8_lossy(&run.stderr)
    );
    let summary: serde_json::Value = serde_json::from_str(out.trim()).expect("a JSON summary");
    assert_eq!(summary["notification"], "payment_success", "{summary}");
    assert_eq!(summary["order_status"], "1", "{summary}");
    let order_id = summary["order_id"].as_str().expect("order id");

    // The sandbox's view: both notifications (status change, payment) were
    // acknowledged as ET expects.
    let order = admin(endpoint, order_id, "show");
    let attempts = order["delivery_attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 2, "{order}");
    assert!(
        attempts.iter().all(|a| a["acknowledged"] == true),
        "{order}"
    );

    // ET remits and sends the voucher: downloaded from the sandbox's voucher page.
    admin(endpoint, order_id, "remit");
    admin(endpoint, order_id, "receive");
    let base = endpoint.trim_end_matches("/server");
    let url = format!("{base}/vouchers/{order_id}.pdf");
    let dest = dir.path().join("voucher.pdf");
    let downloader = VoucherDownloader::new(&VoucherLimits::default()).expect("downloader");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let size = runtime
        .block_on(downloader.download(&url, &dest))
        .expect("the sandbox's voucher downloads");
    let saved = std::fs::read(&dest).expect("saved");
    assert_eq!(saved.len() as u64, size);
    assert!(saved.starts_with(b"%PDF-"));
}

/// `et sandbox admin --endpoint ENDPOINT ORDER ACTION`, its JSON answer.
fn admin(endpoint: &str, order_id: &str, action: &str) -> serde_json::Value {
    let out = et_stdin(
        &["sandbox", "admin", "--endpoint", endpoint, order_id, action],
        b"",
    );
    assert!(
        out.status.success(),
        "{action}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("order JSON")
}
