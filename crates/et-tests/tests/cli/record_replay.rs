//! `et record` in front of a sandbox, `et call` through it, then `et replay`
//! on what it stored: every reply verifies with the right profile and keys,
//! and a wrong profile or a reply of another request fails by name.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use et_sandbox::{InitOptions, RunningSandbox, SandboxConfig, SandboxDir};
use et_sandbox::{ET_PUBLIC_PEM, MERCHANT_PRIVATE_PEM};

use crate::common;

use common::{et_stdin, text, ET};

fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

async fn sandbox(dir: &Path) -> RunningSandbox {
    let init = InitOptions {
        bits: 1024,
        ..InitOptions::default()
    };
    SandboxDir::init(dir, &init).expect("init");
    et_sandbox::start(SandboxConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..SandboxConfig::new(dir)
    })
    .await
    .expect("sandbox starts")
}

/// `et record` as a child process, killed on drop.
struct Recorder {
    child: Child,
    /// `http://127.0.0.1:PORT/`, from its first line.
    url: String,
}

impl Recorder {
    fn start(upstream: &str, dir: &Path) -> Recorder {
        let mut child = Command::new(ET)
            .args(["record", "--upstream", upstream, "--listen", "127.0.0.1:0"])
            .args(["--dir", path_str(dir)])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("et record");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("first line");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("a URL in {line:?}"))
            .to_owned();
        Recorder { child, url }
    }

    /// SIGTERM, as `kill` sends it; the exit status.
    #[cfg(unix)]
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        self.child.wait().expect("wait")
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `et` off the async workers.
async fn et(args: Vec<String>, stdin: &'static [u8]) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        et_stdin(&args, stdin)
    })
    .await
    .expect("et ran")
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}

/// `et call --endpoint ENDPOINT --dir STATE OP --data -` with `data`.
async fn call(endpoint: &str, state: &Path, op: &str, data: &'static str) -> Output {
    let args = [
        "call",
        "--endpoint",
        endpoint,
        "--dir",
        path_str(state),
        op,
        "--data",
        "-",
    ];
    et(strings(&args), data.as_bytes()).await
}

/// `et replay DIR` with the sandbox merchant's keys, and `extra` options.
async fn replay(recorded: &Path, state: &Path, extra: &[&str]) -> Output {
    let mut args = strings(&["replay", path_str(recorded)]);
    for (option, file) in [
        ("--merchant-key", MERCHANT_PRIVATE_PEM),
        ("--et-public-key", ET_PUBLIC_PEM),
    ] {
        args.push(option.to_owned());
        args.push(path_str(&state.join(file)).to_owned());
    }
    args.extend(strings(extra));
    et(args, b"").await
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchanges_recorded_through_the_proxy_replay_and_a_wrong_profile_fails_by_name() {
    let state = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(state.path()).await;
    let records = tempfile::tempdir().expect("tempdir");
    let recorded = records.path().join("exchanges");
    let recorder = Recorder::start(&sb.endpoint_url(), &recorded);
    let endpoint = format!("{}server", recorder.url);
    // `et call OP --data -` through the recorder, `data` on stdin.
    let recorded_call = |op, data| call(&endpoint, state.path(), op, data);

    let rate = recorded_call("get_rate", r#"{"currency_code":"GBP"}"#).await;
    common::assert_success(&rate);
    let refused = recorded_call("get_special_pay_url", r#"{"order_id":"ET-NOPE"}"#).await;
    assert_eq!(
        refused.status.code(),
        Some(3),
        "a signed refusal came through: {}",
        text(&refused.stderr)
    );
    let again = recorded_call("get_rate", r#"{"currency_code":"USD"}"#).await;
    common::assert_success(&again);

    // What is not an envelope POST never reaches the sandbox, nor the directory.
    let (status, _) = et_testkit::http::get(&endpoint).await;
    assert_eq!(status, 405);
    // An oversized body is answered 413 at once and the connection closed,
    // so the client may still be writing it when the answer comes (then it
    // sees the connection closed instead).
    let authority = recorder
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let oversized = et_testkit::http::try_send(
        authority.parse().expect("the recorder's address"),
        "POST",
        "application/json",
        vec![b' '; (4 << 20) + 1],
    )
    .await;
    match oversized {
        Ok((status, _)) => assert_eq!(status, 413),
        Err(closed) => assert!(
            format!("{closed:?}").contains("BrokenPipe")
                || format!("{closed:?}").contains("ConnectionReset"),
            "{closed:?}"
        ),
    }

    #[cfg(unix)]
    assert!(recorder.terminate().success(), "SIGTERM stops it cleanly");
    #[cfg(not(unix))]
    drop(recorder);

    let mut names: Vec<String> = std::fs::read_dir(&recorded)
        .expect("recorded")
        .map(|e| e.expect("entry").file_name().into_string().expect("UTF-8"))
        .collect();
    names.sort();
    let expected: Vec<String> = (1..=3)
        .flat_map(|n| ["meta.json", "reply", "request"].map(|part| format!("{n:06}.{part}")))
        .collect();
    assert_eq!(names, expected);
    #[cfg(unix)]
    {
        assert_eq!(mode(&recorded), 0o700);
        for name in &names {
            assert_eq!(mode(&recorded.join(name)), 0o600, "{name}");
        }
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(recorded.join("000002.meta.json")).expect("meta"))
            .expect("JSON");
    assert_eq!(meta["server_type"], "get_special_pay_url");
    assert_eq!(meta["status"], 200);
    assert_eq!(meta["upstream"], sb.endpoint_url());
    let request: serde_json::Value =
        serde_json::from_slice(&std::fs::read(recorded.join("000002.request")).expect("request"))
            .expect("the request envelope, as sent");
    assert_eq!(meta["serial_number"], request["serial_number"]);

    let passed = replay(&recorded, state.path(), &[]).await;
    common::assert_success(&passed);
    let report = text(&passed.stdout);
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines.len(), 4, "{report}");
    assert!(
        lines[0].starts_with("000001 get_rate ") && lines[0].ends_with("verifies (000000 SUCCESS)"),
        "{report}"
    );
    assert!(
        lines[1].contains("verifies (a signed refusal: 200001"),
        "{report}"
    );
    assert_eq!(
        lines[3],
        "replayed 3 exchanges: 3 verify, 0 fail, 0 skipped"
    );

    let sha1 = replay(&recorded, state.path(), &["--sign-hash", "sha1"]).await;
    assert_eq!(sha1.status.code(), Some(1), "{}", text(&sha1.stderr));
    assert_eq!(
        text(&sha1.stderr).trim_end(),
        "et: 3 of 3 recorded replies no longer verify with this profile and these keys: 000001, 000002, 000003"
    );
    assert!(
        text(&sha1.stdout).contains("000001 get_rate "),
        "each exchange is reported"
    );

    // Each reply is checked against its own request: the first rate reply
    // in place of the second is a reply to another request.
    std::fs::copy(recorded.join("000001.reply"), recorded.join("000003.reply")).expect("copy");
    let swapped = replay(&recorded, state.path(), &[]).await;
    assert_eq!(swapped.status.code(), Some(1));
    assert_eq!(
        text(&swapped.stderr).trim_end(),
        "et: 1 of 3 recorded replies no longer verify with this profile and these keys: 000003"
    );
    assert!(
        text(&swapped.stdout).contains("000003 get_rate"),
        "{}",
        text(&swapped.stdout)
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_that_cannot_be_reached_is_a_502_recorded_without_a_reply_and_skipped() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let upstream = format!("http://{}/server", closed.local_addr().expect("addr"));
    drop(closed);
    let records = tempfile::tempdir().expect("tempdir");
    let recorder = Recorder::start(&upstream, records.path());
    let (status, body) = et_testkit::http::post(&recorder.url, b"{}".to_vec(), None).await;
    assert_eq!(status, 502, "{}", text(&body));
    drop(recorder);
    assert!(!records.path().join("000001.reply").exists());
    let meta: serde_json::Value = serde_json::from_slice(
        &std::fs::read(records.path().join("000001.meta.json")).expect("meta"),
    )
    .expect("JSON");
    assert!(
        meta["error"]
            .as_str()
            .expect("error")
            .contains("could not connect"),
        "{meta}"
    );

    let keys = et_testkit::merchant_dir();
    let out = replay(records.path(), keys.path(), &[]).await;
    common::assert_success(&out);
    let report = text(&out.stdout);
    assert!(
        report.contains("000001 (request not an envelope): skipped: no reply was recorded (upstream: could not connect"),
        "{report}"
    );
    assert!(
        report.ends_with("replayed 1 exchange: 0 verify, 0 fail, 1 skipped\n"),
        "{report}"
    );
    let empty = tempfile::tempdir().expect("tempdir");
    let out = replay(empty.path(), keys.path(), &[]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no recorded exchanges"));
}
