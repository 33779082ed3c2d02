//! The `et` binary, run as a user would: exit codes, stdout, one-line errors.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use et_crypto::{PrivateKey, PublicKey, SignHash};
use et_proto::{EtSide, Profile, Response};

const ET: &str = env!("CARGO_BIN_EXE_et");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn et(args: &[&str]) -> Output {
    et_stdin(args, b"")
}

fn et_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(ET)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run et");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("et output")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Failed with exit code `code` and exactly one line on stderr, no panic.
fn assert_one_line_failure(out: &Output, code: i32) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line expected: {err:?}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    err
}

fn load_private(name: &str) -> PrivateKey {
    PrivateKey::load(&std::fs::read(fixture(name)).expect("fixture")).expect("private key")
}

fn load_public(name: &str) -> PublicKey {
    PublicKey::load(&std::fs::read(fixture(name)).expect("fixture")).expect("public key")
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn help_on_every_subcommand() {
    for cmd in [
        &["--help"][..],
        &["keygen", "--help"],
        &["sandbox", "--help"],
        &["sandbox", "init", "--help"],
        &["sandbox", "serve", "--help"],
        &["sandbox", "admin", "--help"],
        &["request", "build", "--help"],
        &["response", "open", "--help"],
        &["notify", "sign", "--help"],
        &["notify", "verify", "--help"],
        &["call", "--help"],
        &["demo", "--help"],
    ] {
        let out = et(cmd);
        assert!(out.status.success(), "{cmd:?}: {}", stderr(&out));
        assert!(stdout(&out).contains("Usage: et"), "{cmd:?}");
    }
}

#[test]
fn bad_arguments_give_one_line() {
    let err = assert_one_line_failure(&et(&["keygen", "--bits", "12", "--out", "x"]), 2);
    assert!(err.contains("--bits"), "{err}");
    assert_one_line_failure(&et(&["frobnicate"]), 2);
    assert_one_line_failure(
        &et(&["notify", "sign", "--salt", "s", "--sign-hash", "md4"]),
        2,
    );
    let err = assert_one_line_failure(
        &et(&[
            "response",
            "open",
            "--merchant-key",
            "/nonexistent.pem",
            "--et-public-key",
            "/nonexistent.pem",
        ]),
        2,
    );
    assert!(err.contains("/nonexistent.pem"), "{err}");
}

#[test]
fn keygen_writes_loadable_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = et(&["keygen", "--bits", "1024", "--out", path_str(dir.path())]);
    assert!(out.status.success(), "{}", stderr(&out));
    let private_pem = std::fs::read_to_string(dir.path().join("private.pem")).expect("private.pem");
    let public_pem = std::fs::read_to_string(dir.path().join("public.pem")).expect("public.pem");
    assert!(
        private_pem.starts_with("-----BEGIN PRIVATE KEY-----"),
        "PKCS#8"
    );
    assert!(public_pem.starts_with("-----BEGIN PUBLIC KEY-----"), "SPKI");
    let private = PrivateKey::load(private_pem.as_bytes()).expect("loads");
    let public = PublicKey::load(public_pem.as_bytes()).expect("loads");
    assert_eq!(private.bits(), 1024);
    let sig = private.sign(SignHash::Sha256, b"pair").expect("sign");
    public
        .verify(SignHash::Sha256, b"pair", &sig)
        .expect("the two files are one pair");
}

fn build_request(extra: &[&str], stdin: &[u8]) -> Output {
    let merchant_key = fixture("merchant-private.pem");
    let et_public = fixture("et-public.pem");
    let mut args = vec![
        "request",
        "build",
        "--op",
        "get_special_pay_url",
        "--merchant-number",
        "ET82009",
        "--sub-merchant-number",
        "ET82009S001",
        "--merchant-key",
        path_str(&merchant_key),
        "--et-public-key",
        path_str(&et_public),
    ];
    args.extend_from_slice(extra);
    et_stdin(&args, stdin)
}

#[test]
fn request_build_opens_on_et_side() {
    let data = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(data.path(), r#"{"order_id":"ET1","amount":130.00}"#).expect("write");
    let out = build_request(
        &["--data", path_str(data.path()), "--sensitive", "-"],
        "{\"name_ch\":\"张三\"}\n".as_bytes(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let et_side = EtSide::new(load_private("et-private.pem"), Profile::default());
    let opened = et_side
        .open_request(stdout(&out).trim().as_bytes(), |m, s| {
            assert_eq!((m, s), ("ET82009", "ET82009S001"));
            Some(load_public("merchant-public.pem"))
        })
        .expect("ET opens what et built");
    assert_eq!(opened.server_type, "get_special_pay_url");
    assert_eq!(
        opened.data, r#"{"order_id":"ET1","amount":130.00}"#,
        "exact text, scale kept"
    );
    assert_eq!(opened.sensitive.trim(), r#"{"name_ch":"张三"}"#);
}

#[test]
fn request_build_profile_options_apply() {
    let out = build_request(
        &[
            "--sign-hash",
            "sha1",
            "--callback-process",
            "empty",
            "--empty-sensitive",
            "encrypt-empty-list",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let body: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(body["callback_process"], "");
    assert_ne!(body["aeskey"], "", "[] encrypted, so an aeskey is sent");
    let sha1 = Profile {
        sign_hash: SignHash::Sha1,
        ..Profile::default()
    };
    let opens = |profile: Profile| {
        EtSide::new(load_private("et-private.pem"), profile)
            .open_request(stdout(&out).trim().as_bytes(), |_, _| {
                Some(load_public("merchant-public.pem"))
            })
            .is_ok()
    };
    assert!(opens(sha1), "signed with SHA-1");
    assert!(!opens(Profile::default()), "not with SHA-256");
}

#[test]
fn request_build_rejects_non_object_data() {
    let err = assert_one_line_failure(&build_request(&["--data", "-"], b"[1,2]"), 2);
    assert!(err.contains("--data"), "{err}");
}

/// A signed, encrypted success response from ET to the fixture merchant.
fn et_response() -> Vec<u8> {
    let out = build_request(&[], b"");
    let et_side = EtSide::new(load_private("et-private.pem"), Profile::default());
    let opened = et_side
        .open_request(stdout(&out).trim().as_bytes(), |_, _| {
            Some(load_public("merchant-public.pem"))
        })
        .expect("open");
    let response = Response::success(&opened)
        .with_data(&[serde_json::json!({"order_id": "ET1", "tuition_rmb": 92000.00})])
        .and_then(|r| r.with_sensitive(&[serde_json::json!({"student": "张三"})]))
        .expect("response");
    et_side
        .respond(&load_public("merchant-public.pem"), &response)
        .expect("respond")
}

fn open_response(body: &[u8]) -> Output {
    let merchant_key = fixture("merchant-private.pem");
    let et_public = fixture("et-public.pem");
    et_stdin(
        &[
            "response",
            "open",
            "--merchant-key",
            path_str(&merchant_key),
            "--et-public-key",
            path_str(&et_public),
        ],
        body,
    )
}

#[test]
fn response_open_prints_verified_response() {
    let out = open_response(&et_response());
    assert!(out.status.success(), "{}", stderr(&out));
    let printed: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(printed["status_code"], "000000");
    assert_eq!(printed["data"][0]["order_id"], "ET1");
    assert_eq!(printed["sensitive_data"][0]["student"], "张三");
}

#[test]
fn response_open_rejects_tampering() {
    let body = String::from_utf8(et_response()).expect("utf-8");
    let tampered = body.replacen("SUCCESS", "SUCCESS!", 1);
    assert_ne!(body, tampered);
    let err = assert_one_line_failure(&open_response(tampered.as_bytes()), 1);
    assert!(err.contains("signature"), "{err}");
    assert_one_line_failure(&open_response(b"{not json"), 1);
}

const MD5_EXAMPLE: &str = r#"{"order_id":"ETxxxxxxxxxxxx01","pay_result":1,"pay_amount":10000.00,"pay_datetime":"2024-12-01 10:00:00","extend_info":""}"#;

#[test]
fn notify_sign_matches_ets_example() {
    let out = et_stdin(
        &["notify", "sign", "--salt", "abc123"],
        MD5_EXAMPLE.as_bytes(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let signed: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(signed["sign"], "652614570bcc49940d7dcc7a3c3dc7e5");
    assert!(stdout(&out).contains("10000.00"), "amount text kept");
}

#[test]
fn notify_verify_ets_example_and_not_its_float_rendering() {
    let body = MD5_EXAMPLE.replace(
        r#""extend_info":"""#,
        r#""extend_info":"","sign":"652614570bcc49940d7dcc7a3c3dc7e5""#,
    );
    let out = et_stdin(&["notify", "verify", "--salt", "abc123"], body.as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(report["kind"], "payment_success");
    assert_eq!(report["fields"]["pay_amount"], "10000.00");

    let floated = body.replace("10000.00", "10000.0");
    let err = assert_one_line_failure(
        &et_stdin(
            &["notify", "verify", "--salt", "abc123"],
            floated.as_bytes(),
        ),
        1,
    );
    assert!(err.contains("signature"), "{err}");
    assert_one_line_failure(
        &et_stdin(&["notify", "verify", "--salt", "abc124"], body.as_bytes()),
        1,
    );
}

#[test]
fn notify_sign_verify_round_trip_form_and_json() {
    for body in [
        "order_id=ET1&refund_order_id=R1&refund_result=1&refund_amount=10.50&refund_datetime=2024-01-01+10%3A00%3A00&extend_info=\n",
        r#"{"notify_type":"order_status_change","order_id":"ET1","datetime":"2024-12-12 10:00:00","order_status":"2"}"#,
    ] {
        let signed = et_stdin(&["notify", "sign", "--salt", "s4lt"], body.as_bytes());
        assert!(signed.status.success(), "{}", stderr(&signed));
        assert_eq!(body.starts_with('{'), stdout(&signed).starts_with('{'), "same format out as in");
        let file = tempfile::NamedTempFile::new().expect("tmp");
        std::fs::write(file.path(), &signed.stdout).expect("write");
        let verified = et(&["notify", "verify", "--salt", "s4lt", path_str(file.path())]);
        assert!(verified.status.success(), "{}", stderr(&verified));
        let kind = if body.starts_with('{') { "order_status_change" } else { "refund_result" };
        assert!(stdout(&verified).contains(kind), "{}", stdout(&verified));
    }
}

/// `et sandbox serve` as a child process, killed on drop.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Served {
    /// Sends SIGTERM (as `kill`, systemd or a container runtime would) and
    /// waits up to 10 s for the process to exit.
    #[cfg(unix)]
    fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let pid = self.0.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        None
    }
}

#[test]
fn sandbox_init_serve_and_call() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = path_str(dir.path());
    let init = et(&["sandbox", "init", "--dir", state, "--bits", "1024"]);
    assert!(init.status.success(), "{}", stderr(&init));
    for file in [
        "et-private.pem",
        "et-public.pem",
        "merchant-private.pem",
        "merchant-public.pem",
        "merchant.json",
    ] {
        assert!(dir.path().join(file).is_file(), "{file}");
    }
    let mut child = Command::new(ET)
        .args([
            "sandbox",
            "serve",
            "--dir",
            state,
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    let served = Served(child);
    let endpoint = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("endpoint in first line");

    // `payload` is `--data` or `--sensitive`, read from stdin.
    let call = |op: &str, payload: &str, json: &str| {
        et_stdin(
            &[
                "call",
                "--endpoint",
                endpoint,
                "--dir",
                state,
                op,
                payload,
                "-",
            ],
            json.as_bytes(),
        )
    };
    let rate = call("get_rate", "--data", r#"{"currency_code":"GBP"}"#);
    assert!(rate.status.success(), "{}", stderr(&rate));
    let printed: serde_json::Value = serde_json::from_str(&stdout(&rate)).expect("JSON");
    assert_eq!(printed["status_code"], "000000");

    let missing = call("get_special_pay_url", "--data", r#"{"order_id":"ET-NOPE"}"#);
    let err = assert_one_line_failure(&missing, 1);
    assert!(err.contains("200001"), "{err}");

    let order = r#"{"merchant_order_id":"M1","merchant_user_key":"u1","country_code":"GBR","currency_code":"GBP","tuituon":100.00}"#;
    let created = call("create_order", "--sensitive", order);
    assert!(created.status.success(), "{}", stderr(&created));
    let created: serde_json::Value = serde_json::from_str(&stdout(&created)).expect("JSON");
    let order_id = created["data"][0]["order_id"].as_str().expect("order_id");

    let admin = |action: &str| et(&["sandbox", "admin", "--endpoint", endpoint, order_id, action]);
    let shown = admin("show");
    assert!(shown.status.success(), "{}", stderr(&shown));
    let shown: serde_json::Value = serde_json::from_str(&stdout(&shown)).expect("JSON");
    assert_eq!(shown["order"]["order_id"], order_id);
    let err = assert_one_line_failure(&admin("remit"), 1);
    assert!(
        err.contains("409"),
        "an unpaid order cannot be remitted: {err}"
    );
    assert!(admin("pay").status.success());
    assert!(admin("remit").status.success());

    // A retried create (same merchant_order_id) is refused, naming the first order.
    let again = call("create_order", "--sensitive", order);
    let err = assert_one_line_failure(&again, 1);
    assert!(err.contains("200002") && err.contains(order_id), "{err}");

    #[cfg(unix)]
    {
        let mut served = served;
        let status = served.terminate().expect("exits within 10 s of SIGTERM");
        assert!(status.success(), "a graceful stop exits 0: {status:?}");
    }
}

/// `et … | head -1`: the reader is gone before `et` writes; `et` exits 0
/// without an "internal error" line.
#[test]
fn a_closed_stdout_is_a_quiet_exit() {
    let mut child = Command::new(ET)
        .args(["notify", "sign", "--salt", "abc123"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run et");
    drop(child.stdout.take());
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(MD5_EXAMPLE.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("et output");
    assert_eq!(stderr(&out), "", "nothing on stderr");
    assert!(out.status.success(), "{:?}", out.status);
}
