//! The `et` binary, run as a user would: exit codes, stdout, one-line errors.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use et_crypto::{PrivateKey, PublicKey, SignHash};
use et_proto::{EtSide, OpenedRequest, Profile, Response};

use crate::common;

use common::{et_command, et_get_rate, et_stdin, serve_sandbox, ET};
use et_testkit::{key, key_file, merchant_dir, Half, Who};

fn et(args: &[&str]) -> Output {
    et_stdin(args, b"")
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

fn et_key() -> PrivateKey {
    key(Who::Et, 1024).clone()
}

fn merchant_public() -> PublicKey {
    key(Who::Merchant, 1024).public_key().clone()
}

/// What `et` printed, as ET under `profile` opens it from the fixture
/// merchant.
fn opened_by_et(out: &Output, profile: Profile) -> Result<OpenedRequest, et_proto::Error> {
    EtSide::new(et_key(), profile).open_request(
        stdout(out).trim().as_bytes(),
        |_, _| Some(merchant_public()),
        std::time::SystemTime::now(),
    )
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
        &["sandbox", "faults", "--help"],
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
    let err = assert_one_line_failure(&et(&["keygen"]), 2);
    assert!(
        err.contains("not provided: --out <OUT>"),
        "names what is missing: {err}"
    );
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
    common::assert_success(&out);
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

/// A valid `data` of `get_special_pay_url`, for `build_request(&["--data", "-"], ..)`.
const PAY_URL_DATA: &[u8] = br#"{"order_id":"ET1"}"#;

fn build_request(extra: &[&str], stdin: &[u8]) -> Output {
    build_request_for("get_special_pay_url", extra, stdin)
}

fn build_request_for(op: &str, extra: &[&str], stdin: &[u8]) -> Output {
    let merchant_key = key_file(Who::Merchant, Half::Private);
    let et_public = key_file(Who::Et, Half::Public);
    let mut args = vec![
        "request",
        "build",
        "--op",
        op,
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

/// `--merchant-key` takes a PKCS#11 URI (RFC 7512): the request is signed
/// on the token (SoftHSM2, the committed merchant key imported), the PIN
/// read from ET_PKCS11_PIN; a wrong PIN is one line naming the step,
/// without the PIN.
#[cfg(feature = "pkcs11")]
#[test]
fn request_build_signs_with_a_key_on_a_pkcs11_token() {
    use et_testkit::softhsm::{SoftHsm, PIN};
    let Some(hsm) = SoftHsm::get("request_build_signs_with_a_key_on_a_pkcs11_token") else {
        return;
    };
    hsm.import("cli-merchant", 0x31, et_testkit::pem(Who::Merchant, 1024));
    let uri = hsm.uri("cli-merchant");
    let without_pin = uri.split("&pin-value").next().expect("a URI");
    let et_public = key_file(Who::Et, Half::Public);
    let build = |pin: &str| {
        Command::new(ET)
            .args(["request", "build", "--op", "get_rate", "--no-validate"])
            .args([
                "--merchant-number",
                "ET82009",
                "--sub-merchant-number",
                "ET82009S001",
            ])
            .args([
                "--merchant-key",
                without_pin,
                "--et-public-key",
                path_str(&et_public),
            ])
            .env("ET_PKCS11_PIN", pin)
            .stdin(Stdio::null())
            .output()
            .expect("run et")
    };
    let wrong = build("not-the-pin");
    let err = assert_one_line_failure(&wrong, 2);
    assert!(
        err.contains("logging in") && !err.contains("not-the-pin"),
        "{err}"
    );
    let out = build(PIN);
    common::assert_success(&out);
    let opened = opened_by_et(&out, Profile::default()).expect("ET verifies what the token signed");
    assert_eq!(opened.server_type, "get_rate");
}

#[test]
fn request_build_opens_on_et_side() {
    let data = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(data.path(), r#"{"order_id":"ET1","amount":130.00}"#).expect("write");
    let payloads = ["--data", path_str(data.path()), "--sensitive", "-"];
    let sensitive = "{\"name_ch\":\"张三\"}\n".as_bytes();
    // get_special_pay_url has no sensitive part: the typed API would not send one.
    let err = assert_one_line_failure(&build_request(&payloads, sensitive), 2);
    assert!(
        err.contains("sensitive_data") && err.contains("--no-validate"),
        "{err}"
    );
    let out = build_request(&[&payloads[..], &["--no-validate"]].concat(), sensitive);
    common::assert_success(&out);
    let et_side = EtSide::new(et_key(), Profile::default());
    let opened = et_side
        .open_request(
            stdout(&out).trim().as_bytes(),
            |m, s| {
                assert_eq!((m, s), ("ET82009", "ET82009S001"));
                Some(merchant_public())
            },
            std::time::SystemTime::now(),
        )
        .expect("ET opens what et built");
    assert_eq!(opened.server_type, "get_special_pay_url");
    assert_eq!(
        opened.data, r#"{"order_id":"ET1","amount":130.00}"#,
        "exact text, scale kept"
    );
    assert_eq!(opened.sensitive.trim(), r#"{"name_ch":"张三"}"#);
}

/// `et request build` holds a known operation's payloads to the typed
/// API's rules, and says how to send them anyway; an operation et-model
/// does not type is sent as given.
#[test]
fn request_build_validates_a_known_operations_payloads_unless_told_not_to() {
    let order = |tuition: &str| {
        format!(
            r#"{{"merchant_order_id":"M-1","merchant_user_key":"u","country_code":"GBR","currency_code":"GBP","tuituon":{tuition}}}"#
        )
    };
    let build = |op: &str, extra: &[&str], tuition: &str| {
        build_request_for(
            op,
            &[&["--sensitive", "-"], extra].concat(),
            order(tuition).as_bytes(),
        )
    };
    for (tuition, rule) in [
        ("-5.00", "more than 0"),
        ("1e2", "exponent"),
        ("0.001", "decimal places"),
        ("99999999999999", "at most"),
    ] {
        for op in ["create_order", "add_special_rent_order"] {
            let out = build(op, &[], tuition);
            let err = assert_one_line_failure(&out, 2);
            assert!(
                err.contains("`tuituon`") && err.contains(rule) && err.contains("--no-validate"),
                "{op} {tuition}: {err}"
            );
            assert!(out.stdout.is_empty(), "nothing signed");
        }
        let sent = build("create_order", &["--no-validate"], tuition);
        common::assert_success(&sent);
        let opened = opened_by_et(&sent, Profile::default()).expect("ET opens it");
        assert!(
            opened.sensitive.contains(&format!(":{tuition}}}")),
            "sent as given"
        );
    }
    assert!(build("create_order", &[], "10.00").status.success());
    assert!(build("some_future_operation", &[], "-5.00")
        .status
        .success());
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
            "--data",
            "-",
        ],
        PAY_URL_DATA,
    );
    common::assert_success(&out);
    let body: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(body["callback_process"], "");
    assert_ne!(body["aeskey"], "", "[] encrypted, so an aeskey is sent");
    let sha1 = Profile {
        sign_hash: SignHash::Sha1,
        ..Profile::default()
    };
    let opens = |profile: Profile| opened_by_et(&out, profile).is_ok();
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
    et_response_under(Profile::default())
}

/// [`et_response`] from an ET that signs and seals as `profile` says.
fn et_response_under(profile: Profile) -> Vec<u8> {
    let out = build_request(&["--data", "-"], PAY_URL_DATA);
    let et_side = EtSide::new(et_key(), profile);
    let opened = opened_by_et(&out, Profile::default()).expect("open");
    let response = Response::success(&opened)
        .with_data(&[serde_json::json!({"order_id": "ET1", "tuition_rmb": 92000.00})])
        .and_then(|r| r.with_sensitive(&[serde_json::json!({"student": "张三"})]))
        .expect("response");
    et_side
        .respond(&merchant_public(), &response)
        .expect("respond")
}

/// `et COMMAND… --merchant-key … --et-public-key … OPTIONS…` with the test
/// kit's key files, `body` on stdin.
fn with_test_keys(command: &[&str], options: &[&str], body: &[u8]) -> Output {
    let merchant_key = key_file(Who::Merchant, Half::Private);
    let et_public = key_file(Who::Et, Half::Public);
    let keys = [
        "--merchant-key",
        path_str(&merchant_key),
        "--et-public-key",
        path_str(&et_public),
    ];
    et_stdin(&[command, &keys, options].concat(), body)
}

fn open_response(body: &[u8]) -> Output {
    with_test_keys(&["response", "open"], &[], body)
}

#[test]
fn response_open_prints_verified_response() {
    let out = open_response(&et_response());
    common::assert_success(&out);
    let printed: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(printed["status_code"], "000000");
    assert_eq!(printed["data"][0]["order_id"], "ET1");
    assert_eq!(printed["sensitive_data"][0]["student"], "张三");
    assert_eq!(
        printed["version"], "2.0.0",
        "a version that is present is shown"
    );
    assert!(
        printed.get("added").is_none(),
        "nothing added, nothing shown"
    );
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

#[test]
fn a_reply_that_fails_to_verify_names_the_settings_it_verifies_with_and_detect_writes_them() {
    let sha1_oaep = Profile {
        sign_hash: SignHash::Sha1,
        key_padding: et_crypto::KeyPadding::OaepSha256,
        ..Profile::default()
    };
    let body = et_response_under(sha1_oaep.clone());
    let err = assert_one_line_failure(&open_response(&body), 1);
    assert!(
        err.contains("verifies with --sign-hash sha1 --key-padding oaep-sha256"),
        "{err}"
    );
    let detected = with_test_keys(&["profile", "detect"], &[], &body);
    common::assert_success(&detected);
    let profile = Profile::from_json(&stdout(&detected)).expect("a profile file on stdout");
    assert_eq!(profile.sign_hash, SignHash::Sha1);
    assert_eq!(profile.key_padding, et_crypto::KeyPadding::OaepSha256);
    // The file it printed opens the reply.
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), stdout(&detected)).expect("write");
    let opened = with_test_keys(
        &["response", "open"],
        &["--profile", path_str(file.path())],
        &body,
    );
    common::assert_success(&opened);
    // Nothing verifies: exit 1 listing what was tried.
    let tampered = String::from_utf8(body)
        .unwrap()
        .replacen("SUCCESS", "SUCCESS!", 1);
    let none = with_test_keys(&["profile", "detect"], &[], tampered.as_bytes());
    assert_eq!(none.status.code(), Some(1));
    assert!(stderr(&none).contains("sign_hash=sha1 sign_rule=skip-empty"));
    assert!(stdout(&none).is_empty());
}

#[test]
fn profile_show_prints_the_default_profile_and_options_override_a_file() {
    let shown = et(&["profile", "show"]);
    common::assert_success(&shown);
    assert_eq!(
        Profile::from_json(&stdout(&shown)).expect("profile file"),
        Profile::default()
    );
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(
        file.path(),
        r#"{"sign_hash":"sha1","sign_rule":"skip-empty"}"#,
    )
    .unwrap();
    let overridden = et(&[
        "profile",
        "show",
        "--profile",
        path_str(file.path()),
        "--sign-hash",
        "sha256",
    ]);
    let profile = Profile::from_json(&stdout(&overridden)).expect("profile file");
    assert_eq!(profile.sign_hash, SignHash::Sha256, "the option wins");
    assert_eq!(
        profile.sign_rule,
        et_proto::SignRule::SkipEmpty,
        "the file's"
    );
    std::fs::write(file.path(), r#"{"sign_hsh":"sha1"}"#).unwrap();
    let err = assert_one_line_failure(
        &et(&["profile", "show", "--profile", path_str(file.path())]),
        2,
    );
    assert!(err.contains("sign_hsh"), "{err}");
}

const MD5_EXAMPLE: &str = r#"{"order_id":"ETxxxxxxxxxxxx01","pay_result":1,"pay_amount":10000.00,"pay_datetime":"2024-12-01 10:00:00","extend_info":""}"#;

#[test]
fn notify_sign_matches_ets_example() {
    let out = et_stdin(
        &["notify", "sign", "--salt", "abc123"],
        MD5_EXAMPLE.as_bytes(),
    );
    common::assert_success(&out);
    let signed: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(signed["sign"], "652614570bcc49940d7dcc7a3c3dc7e5");
    assert!(stdout(&out).contains("10000.00"), "amount text kept");
}

/// A leading UTF-8 byte order mark is not part of the body: the format
/// out is the one after it, and the signature is the one without it.
#[test]
fn notify_sign_reads_past_a_byte_order_mark() {
    let with_bom = [b"\xEF\xBB\xBF".as_slice(), MD5_EXAMPLE.as_bytes()].concat();
    let out = et_stdin(&["notify", "sign", "--salt", "abc123"], &with_bom);
    common::assert_success(&out);
    let signed: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON out");
    assert_eq!(signed["sign"], "652614570bcc49940d7dcc7a3c3dc7e5");
}

#[test]
fn notify_verify_ets_example_and_not_its_float_rendering() {
    let body = MD5_EXAMPLE.replace(
        r#""extend_info":"""#,
        r#""extend_info":"","sign":"652614570bcc49940d7dcc7a3c3dc7e5""#,
    );
    let out = et_stdin(&["notify", "verify", "--salt", "abc123"], body.as_bytes());
    common::assert_success(&out);
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
        common::assert_success(&signed);
        assert_eq!(body.starts_with('{'), stdout(&signed).starts_with('{'), "same format out as in");
        let file = tempfile::NamedTempFile::new().expect("tmp");
        std::fs::write(file.path(), &signed.stdout).expect("write");
        let verified = et(&["notify", "verify", "--salt", "s4lt", path_str(file.path())]);
        common::assert_success(&verified);
        let kind = if body.starts_with('{') { "order_status_change" } else { "refund_result" };
        assert!(stdout(&verified).contains(kind), "{}", stdout(&verified));
    }
}

/// `et notify verify` and et-http's receiver agree on a form body with a
/// trailing newline (an editor's, `echo`'s): its last value then ends with
/// it, ET signed it without, so both refuse; `et` says why.
#[test]
fn a_form_body_with_a_trailing_newline_is_refused_saying_why() {
    let body = "order_id=ET1&refund_order_id=R1&refund_result=1&refund_amount=10.50&refund_datetime=2024-01-01+10%3A00%3A00&extend_info=";
    let signed = et_stdin(&["notify", "sign", "--salt", "s4lt"], body.as_bytes());
    common::assert_success(&signed);
    let mut edited = signed.stdout.clone();
    edited.push(b'\n');
    let verified = et_stdin(&["notify", "verify", "--salt", "s4lt"], &edited);
    let err = assert_one_line_failure(&verified, 1);
    assert!(err.contains("ends with whitespace"), "{err}");
    let exact = et_stdin(&["notify", "verify", "--salt", "s4lt"], &signed.stdout);
    common::assert_success(&exact);
    // `et profile detect` reads it as received too: no profile makes it verify.
    let salt = tempfile::NamedTempFile::new().expect("salt file");
    std::fs::write(salt.path(), "s4lt").expect("write");
    let detect = ["profile", "detect", "--salt-file", path_str(salt.path())];
    let err = assert_one_line_failure(&et_stdin(&detect, &edited), 1);
    assert!(err.contains("ends with whitespace"), "{err}");
}

/// `et sandbox serve --tls` serves HTTPS with the certificate it made in
/// the state directory; `et sandbox admin` reaches it trusting that file
/// (`--tls-root`) and is refused without it.
#[test]
fn sandbox_serve_tls_answers_a_client_trusting_its_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = path_str(dir.path());
    let init = et(&["sandbox", "init", "--dir", state, "--bits", "1024"]);
    common::assert_success(&init);
    let served = serve_sandbox(et_command, state, &["--tls"]);
    let endpoint = &served.endpoint;
    assert!(endpoint.starts_with("https://127.0.0.1:"), "{endpoint}");
    let root = dir.path().join("tls-cert.pem");
    let advance = |trust: &[&str]| {
        let mut args = vec!["sandbox", "admin", "--endpoint", &endpoint];
        args.extend_from_slice(trust);
        args.extend_from_slice(&["--advance-clock", "60"]);
        et(&args)
    };
    let trusted = advance(&["--tls-root", path_str(&root)]);
    common::assert_success(&trusted);
    let refused = advance(&[]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("certificate"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn sandbox_init_serve_and_call() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = path_str(dir.path());
    let init = et(&["sandbox", "init", "--dir", state, "--bits", "1024"]);
    common::assert_success(&init);
    for file in [
        "et-private.pem",
        "et-public.pem",
        "merchant-private.pem",
        "merchant-public.pem",
        "merchant.json",
        "salt.txt",
    ] {
        assert!(dir.path().join(file).is_file(), "{file}");
    }
    let served = serve_sandbox(et_command, state, &[]);
    let endpoint = served.endpoint.clone();
    let endpoint = endpoint.as_str();

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
    common::assert_success(&rate);
    let printed: serde_json::Value = serde_json::from_str(&stdout(&rate)).expect("JSON");
    assert_eq!(printed["status_code"], "000000");

    let missing = call("get_special_pay_url", "--data", r#"{"order_id":"ET-NOPE"}"#);
    let err = assert_one_line_failure(&missing, 3);
    assert!(err.contains("200001"), "{err}");

    let order = r#"{"merchant_order_id":"M1","merchant_user_key":"u1","country_code":"GBR","currency_code":"GBP","tuituon":100.00}"#;
    let created = call("create_order", "--sensitive", order);
    common::assert_success(&created);
    let created: serde_json::Value = serde_json::from_str(&stdout(&created)).expect("JSON");
    let order_id = created["data"][0]["order_id"].as_str().expect("order_id");

    let admin = |action: &str| et(&["sandbox", "admin", "--endpoint", endpoint, order_id, action]);
    let shown = admin("show");
    common::assert_success(&shown);
    let shown: serde_json::Value = serde_json::from_str(&stdout(&shown)).expect("JSON");
    assert_eq!(shown["order"]["order_id"], order_id);
    let err = assert_one_line_failure(&admin("remit"), 3);
    assert!(
        err.contains("409"),
        "an unpaid order cannot be remitted: {err}"
    );
    let declined = admin("decline-payment");
    common::assert_success(&declined);
    let declined: serde_json::Value = serde_json::from_str(&stdout(&declined)).expect("JSON");
    assert_eq!(
        declined["order"]["status"], 0,
        "a declined order awaits payment"
    );
    assert!(admin("pay").status.success());
    assert!(admin("remit").status.success());
    // The clock: ten years on, then back to real time.
    let clock = |step: &[&str]| {
        let mut all = vec!["sandbox", "admin", "--endpoint", endpoint];
        all.extend_from_slice(step);
        let out = et(&all);
        assert!(out.status.success(), "{step:?}: {}", stderr(&out));
        let now: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
        now["now"].as_str().expect("now")[..4]
            .parse::<i32>()
            .expect("year")
    };
    let later = clock(&["--advance-clock", "315360000"]);
    let now = clock(&["--reset-clock"]);
    assert!(later >= now + 9, "{later} then {now}");
    let err = assert_one_line_failure(
        &et(&[
            "sandbox",
            "admin",
            "--endpoint",
            endpoint,
            "--advance-clock",
            "999999999999",
        ]),
        3,
    );
    assert!(err.contains("400"), "{err}");

    // A retried create (same merchant_order_id) is refused, naming the first order.
    let again = call("create_order", "--sensitive", order);
    let err = assert_one_line_failure(&again, 3);
    assert!(err.contains("200002") && err.contains(order_id), "{err}");

    // Failures on demand: a signed error code for the next request, then gone.
    let faults = |args: &[&str]| {
        let mut all = vec!["sandbox", "faults", "--endpoint", endpoint];
        all.extend_from_slice(args);
        et(&all)
    };
    let rule = r#"{"scope":{"next":1},"fault":{"kind":"error_code","status_code":"900001","message":"down"}}"#;
    let added = faults(&["add", rule]);
    common::assert_success(&added);
    let listed: serde_json::Value =
        serde_json::from_str(&stdout(&faults(&["list"]))).expect("JSON");
    assert_eq!(listed["faults"][0]["fault"]["status_code"], "900001");
    let err = assert_one_line_failure(&call("get_rate", "--data", r#"{"currency_code":"GBP"}"#), 3);
    assert!(err.contains("900001"), "{err}");
    let err = assert_one_line_failure(&faults(&["add", r#"{"scope":{"next":0}}"#]), 3);
    assert!(err.contains("400"), "{err}");
    assert!(faults(&["add", rule]).status.success());
    let cleared: serde_json::Value =
        serde_json::from_str(&stdout(&faults(&["clear"]))).expect("JSON");
    assert_eq!(cleared["faults"], serde_json::json!([]));

    #[cfg(unix)]
    {
        let mut served = served;
        let status = served.terminate().expect("exits within 10 s of SIGTERM");
        assert!(status.success(), "a graceful stop exits 0: {status:?}");
    }
}

/// `et sandbox init --profile FILE` stores the profile the sandbox plays;
/// `et call --dir` speaks it, a profile option given on the command line
/// laid over it; `et sandbox serve --profile FILE` replaces it.
#[test]
fn the_sandbox_plays_a_profile_file_and_its_merchant_tools_speak_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("profile file");
        path.to_str().expect("utf-8 path").to_owned()
    };
    let sha1 = write("sha1.json", r#"{"sign_hash": "sha1"}"#);
    let oaep = write("oaep.json", r#"{"key_padding": "oaep-sha256"}"#);
    let misspelt = write("bad.json", r#"{"sign_hsh": "sha1"}"#);
    let state_dir = dir.path().join("state");
    let state = path_str(&state_dir);

    let init = |profile: &str| {
        et(&[
            "sandbox",
            "init",
            "--dir",
            state,
            "--bits",
            "1024",
            "--profile",
            profile,
        ])
    };
    let err = assert_one_line_failure(&init(&misspelt), 2);
    assert!(
        err.contains("sign_hsh") && err.contains("bad.json"),
        "{err}"
    );
    let init = init(&sha1);
    common::assert_success(&init);
    let stored = std::fs::read_to_string(state_dir.join("profile.json")).expect("profile.json");
    let stored = Profile::from_json(&stored).expect("a profile file");
    assert_eq!(stored.sign_hash, SignHash::Sha1);
    assert_eq!(
        stored.reused_serial_code.map(|c| c.as_str().to_owned()),
        Some("100003".into())
    );

    let serve = |profile: Option<&str>| {
        let profile = profile.map(|p| ["--profile", p]);
        serve_sandbox(et_command, state, profile.as_ref().map_or(&[], |p| &p[..]))
    };
    let rate = |endpoint: &str, extra: &[&str]| et_get_rate(endpoint, state, extra);
    {
        let served = serve(None);
        let called = rate(&served.endpoint, &[]);
        assert!(called.status.success(), "speaks SHA-1: {}", stderr(&called));
        let other = rate(&served.endpoint, &["--sign-rule", "skip-empty"]);
        assert!(
            !other.status.success(),
            "the option is laid over the stored profile"
        );
    }
    let served = serve(Some(&oaep));
    let stored = std::fs::read_to_string(state_dir.join("profile.json")).expect("profile.json");
    let stored = Profile::from_json(&stored).expect("a profile file");
    assert_eq!(stored.key_padding, et_crypto::KeyPadding::OaepSha256);
    assert_eq!(stored.sign_hash, SignHash::Sha256, "replaced, not merged");
    let called = rate(&served.endpoint, &[]);
    assert!(called.status.success(), "speaks OAEP: {}", stderr(&called));
}

#[test]
fn sandbox_serve_goes_beyond_loopback_only_when_exposed_and_then_wants_its_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = path_str(dir.path());
    let init = et(&["sandbox", "init", "--dir", state, "--bits", "1024"]);
    common::assert_success(&init);
    // Refused before binding: tests bind loopback only.
    let refused = et(&["sandbox", "serve", "--dir", state, "--listen", "0.0.0.0:0"]);
    let err = assert_one_line_failure(&refused, 2);
    assert!(
        err.contains("not a loopback address") && err.contains("--expose"),
        "{err}"
    );

    let mut served = serve_sandbox(et_command, state, &["--expose"]);
    let endpoint = served.endpoint.clone();
    let exposed = served.line();
    let secret = exposed
        .split("ET_SANDBOX_SECRET=")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .expect("the secret is printed")
        .to_owned();
    assert!(exposed.contains(&format!("/?secret={secret}")), "{exposed}");
    let show = |secret: Option<&str>| {
        let mut et = Command::new(ET);
        et.args([
            "sandbox",
            "admin",
            "--endpoint",
            &endpoint,
            "ET-NONE",
            "show",
        ]);
        if let Some(secret) = secret {
            et.env("ET_SANDBOX_SECRET", secret);
        }
        et.output().expect("et runs")
    };
    let err = assert_one_line_failure(&show(None), 3);
    assert!(err.contains("401"), "{err}");
    let err = assert_one_line_failure(&show(Some(&secret)), 3);
    assert!(err.contains("404"), "past the secret, no such order: {err}");
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

// Hardening: files that hold secrets, bounded inputs,
// escaped output, exact numbers, one exit-code table.

/// Amounts that a float cannot carry: `82800.0` and `1e16` are what an f64 prints.
const EXACT_AMOUNTS: [&str; 2] = ["82800.00", "9999999999999999.99"];
/// What set a terminal's title and cleared its screen, plus a C1 CSI and a bidi override.
const TERMINAL_ATTACK: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{202e}";

/// No byte of `text` can drive a terminal: no C0 control but newline, no DEL,
/// no C1 control, no bidi override.
fn assert_inert(text: &str) {
    assert!(
        !text
            .chars()
            .any(|c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c)),
        "raw control characters in {text:?}"
    );
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// `et` run through `sh` after `setup` (e.g. `umask 000`, `ulimit -v …`).
#[cfg(unix)]
fn et_after(setup: &str, args: &[&str]) -> Command {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("{setup} && exec \"$0\" \"$@\""))
        .arg(ET)
        .args(args);
    command
}

#[cfg(unix)]
#[test]
fn keygen_writes_an_owner_only_key_into_an_owner_only_dir_even_under_umask_000() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("new/keys");
    let run = et_after(
        "umask 000",
        &["keygen", "--bits", "1024", "--out", path_str(&out)],
    )
    .output()
    .expect("run et");
    common::assert_success(&run);
    assert_eq!(mode(&out.join("private.pem")), 0o600);
    assert_eq!(mode(&out.join("public.pem")), 0o644, "not world-writable");
    assert_eq!(mode(&out), 0o700);
    assert_eq!(mode(&dir.path().join("new")), 0o700);
}

#[cfg(unix)]
#[test]
fn keygen_never_replaces_a_key_without_force_nor_writes_through_a_symlink() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let dir = tempfile::tempdir().expect("tempdir");
    let out = path_str(dir.path());
    let private = dir.path().join("private.pem");
    std::fs::write(&private, "the only copy of a registered key").expect("write");
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o644)).expect("chmod");

    let err = assert_one_line_failure(&et(&["keygen", "--bits", "1024", "--out", out]), 2);
    assert!(
        err.contains("private.pem") && err.contains("--force"),
        "{err}"
    );
    let kept = std::fs::read_to_string(&private).expect("read");
    assert_eq!(kept, "the only copy of a registered key");
    assert!(
        !dir.path().join("public.pem").exists(),
        "nothing half-written"
    );

    let forced = et(&["keygen", "--bits", "1024", "--out", out, "--force"]);
    common::assert_success(&forced);
    assert_eq!(mode(&private), 0o600, "the old file's 0644 is not kept");
    PrivateKey::load(&std::fs::read(&private).expect("read")).expect("a new key");

    // A symbolic link at private.pem: refused, then replaced, never followed.
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let victim = elsewhere.path().join("victim");
    std::fs::write(&victim, "victim").expect("write");
    std::fs::remove_file(&private).expect("rm");
    symlink(&victim, &private).expect("symlink");
    assert_one_line_failure(&et(&["keygen", "--bits", "1024", "--out", out]), 2);
    let forced = et(&["keygen", "--bits", "1024", "--out", out, "--force"]);
    common::assert_success(&forced);
    assert_eq!(std::fs::read_to_string(&victim).expect("read"), "victim");
    assert_eq!(mode(&victim), 0o644, "the link's target keeps its mode too");
    assert!(!std::fs::symlink_metadata(&private)
        .expect("stat")
        .file_type()
        .is_symlink());
    assert_eq!(mode(&private), 0o600);
    // A dangling link is not created through either.
    let dangling = elsewhere.path().join("created-through-the-link");
    std::fs::remove_file(&private).expect("rm");
    symlink(&dangling, &private).expect("symlink");
    assert_one_line_failure(&et(&["keygen", "--bits", "1024", "--out", out]), 2);
    assert!(!dangling.exists());
}

#[cfg(unix)]
#[test]
fn sandbox_state_and_database_are_owner_only_even_under_umask_000() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state_dir = dir.path().join("state");
    let state = path_str(&state_dir);
    let init = et_after(
        "umask 000",
        &["sandbox", "init", "--dir", state, "--bits", "1024"],
    )
    .output()
    .expect("init");
    common::assert_success(&init);
    assert_eq!(mode(&state_dir), 0o700);
    for secret in [
        "merchant.json",
        "et-private.pem",
        "merchant-private.pem",
        "profile.json",
        "salt.txt",
    ] {
        assert_eq!(mode(&state_dir.join(secret)), 0o600, "{secret}");
    }
    for public in ["et-public.pem", "merchant-public.pem", "sandbox.json"] {
        assert_eq!(mode(&state_dir.join(public)), 0o644, "{public}");
    }
    let again = et(&["sandbox", "init", "--dir", state, "--bits", "1024"]);
    assert_one_line_failure(&again, 2);

    let served = serve_sandbox(|args| et_after("umask 000", args), state, &[]);
    let endpoint = &served.endpoint;
    let call = et_get_rate(endpoint, state, &[]);
    common::assert_success(&call);
    for db in ["sandbox.db", "sandbox.db-wal", "sandbox.db-shm"] {
        assert_eq!(mode(&state_dir.join(db)), 0o600, "{db}");
    }
}

#[cfg(unix)]
#[test]
fn endless_inputs_end_in_an_error_naming_the_input_and_its_limit() {
    let key = key_file(Who::Merchant, Half::Private);
    let et_public = key_file(Who::Et, Half::Public);
    let (key, et_public) = (path_str(&key), path_str(&et_public));
    let build = [
        "request",
        "build",
        "--op",
        "get_rate",
        "--merchant-number",
        "M",
        "--sub-merchant-number",
        "S",
        "--merchant-key",
        key,
        "--et-public-key",
        et_public,
    ];
    let cases: [(Vec<&str>, &str); 6] = [
        (
            vec![
                "response",
                "open",
                "--merchant-key",
                "/dev/zero",
                "--et-public-key",
                et_public,
            ],
            "a key file",
        ),
        (
            vec![
                "response",
                "open",
                "--merchant-key",
                key,
                "--et-public-key",
                et_public,
                "/dev/zero",
            ],
            "a response",
        ),
        (
            vec!["notify", "verify", "--salt", "s", "/dev/zero"],
            "a notification",
        ),
        (
            vec!["notify", "sign", "--salt-file", "/dev/zero", "/dev/null"],
            "a salt file",
        ),
        ([&build[..], &["--data", "/dev/zero"]].concat(), "a payload"),
        (
            [&build[..], &["--sensitive", "/dev/zero"]].concat(),
            "a payload",
        ),
    ];
    for (args, limit_of) in cases {
        // Without a bound, reading /dev/zero would run into this 1 GiB cap and abort.
        let out = et_after("ulimit -v 1048576", &args)
            .output()
            .expect("run et");
        let err = assert_one_line_failure(&out, 2);
        assert!(
            err.contains("/dev/zero") && err.contains(&format!("bytes, the limit for {limit_of}")),
            "{args:?}: {err}"
        );
    }
}

/// An HTTP server on loopback that answers one request with `status` and
/// `answer(request body)`; returns its base URL.
fn serve_once(
    status: u16,
    answer: impl FnOnce(&[u8]) -> Vec<u8> + Send + 'static,
) -> (String, std::thread::JoinHandle<()>) {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let thread = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        let header_end = loop {
            let n = stream.read(&mut buf).expect("read");
            assert!(n > 0, "request ended early");
            request.extend_from_slice(&buf[..n]);
            if let Some(i) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
        };
        let head = String::from_utf8_lossy(&request[..header_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().expect("length"));
        while request.len() < header_end + length {
            let n = stream.read(&mut buf).expect("read");
            assert!(n > 0, "body ended early");
            request.extend_from_slice(&buf[..n]);
        }
        let body = answer(&request[header_end..]);
        let head = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).expect("write");
        stream.write_all(&body).expect("write");
    });
    (url, thread)
}

/// ET's signed answer to a request of the fixture merchant: `status_code`
/// and `message`, and, on success, `items` (exact JSON text) as both payloads.
fn et_answer(request: &[u8], status_code: &str, message: &str, items: &str) -> Vec<u8> {
    let et_side = EtSide::new(et_key(), Profile::default());
    let opened = et_side
        .open_request(
            request,
            |_, _| Some(merchant_public()),
            std::time::SystemTime::now(),
        )
        .expect("open");
    let mut response = Response::new(
        et_model::ReplyCode::from_code(status_code),
        message,
        opened.return_info.as_str(),
    );
    if status_code == "000000" {
        response.data = items.to_owned();
        response.count = 1;
        response.sensitive = et_crypto::Zeroizing::new(items.to_owned());
    }
    et_side
        .respond(&merchant_public(), &response)
        .expect("respond")
}

/// `et COMMAND --endpoint URL --dir DIR ARGS` against a one-shot ET that
/// answers with [`et_answer`].
fn against_fake_et(
    command: &[&str],
    args: &[&str],
    stdin: &[u8],
    (status_code, message, items): (&'static str, &'static str, &'static str),
) -> Output {
    let dir = merchant_dir();
    let (url, server) = serve_once(200, move |request| {
        et_answer(request, status_code, message, items)
    });
    let endpoint = format!("{url}/server");
    let options = ["--endpoint", &endpoint, "--dir", path_str(dir.path())];
    let out = et_stdin(&[command, &options, args].concat(), stdin);
    server.join().expect("server");
    out
}

/// `et call` against a one-shot ET that answers with [`et_answer`].
fn call_fake_et(status_code: &'static str, message: &'static str, items: &'static str) -> Output {
    against_fake_et(
        &["call"],
        &["get_rate", "--data", "-"],
        br#"{"currency_code":"GBP"}"#,
        (status_code, message, items),
    )
}

/// A response of ET to a request built by `et request build`, opened by
/// `et response open`.
fn open_et_answer(status_code: &str, message: &str, items: &str) -> Output {
    let request = build_request(&["--data", "-"], PAY_URL_DATA);
    common::assert_success(&request);
    open_response(&et_answer(
        stdout(&request).trim().as_bytes(),
        status_code,
        message,
        items,
    ))
}

fn exact_items() -> String {
    format!(
        r#"[{{"order_id":"ET1","tuition_rmb":{},"counter_fee":{}}}]"#,
        EXACT_AMOUNTS[0], EXACT_AMOUNTS[1]
    )
}

#[test]
fn every_command_that_prints_payloads_keeps_each_number_exact() {
    let items: &'static str = Box::leak(exact_items().into_boxed_str());
    for (command, out) in [
        ("response open", open_et_answer("000000", "SUCCESS", items)),
        ("call", call_fake_et("000000", "SUCCESS", items)),
    ] {
        assert!(out.status.success(), "{command}: {}", stderr(&out));
        let printed = stdout(&out);
        for amount in EXACT_AMOUNTS {
            assert!(
                printed.contains(&format!("\"tuition_rmb\": {}", EXACT_AMOUNTS[0]))
                    && printed.matches(amount).count() == 2,
                "{command}: {amount} in data and sensitive_data: {printed}"
            );
        }
        let parsed: serde_json::Value = serde_json::from_str(&printed).expect("JSON");
        assert_eq!(parsed["data"][0]["order_id"], "ET1", "{command}");
    }

    let data = format!(
        r#"{{"order_id":"ET1","amount":{},"fee":{}}}"#,
        EXACT_AMOUNTS[0], EXACT_AMOUNTS[1]
    );
    let built = build_request(&["--data", "-"], data.as_bytes());
    common::assert_success(&built);
    for amount in EXACT_AMOUNTS {
        assert!(stdout(&built).contains(amount), "request build: {amount}");
    }

    for amount in EXACT_AMOUNTS {
        let notification = MD5_EXAMPLE.replace("10000.00", amount);
        let signed = et_stdin(&["notify", "sign", "--salt", "s"], notification.as_bytes());
        common::assert_success(&signed);
        assert!(
            stdout(&signed).contains(&format!(":{amount},")),
            "notify sign: {amount}"
        );
        let verified = et_stdin(&["notify", "verify", "--salt", "s"], &signed.stdout);
        common::assert_success(&verified);
        assert!(
            stdout(&verified).contains(&format!("\"{amount}\"")),
            "notify verify: {amount}"
        );
    }
}

#[test]
fn a_verified_refusal_exits_3_from_every_command_and_prints_its_code() {
    for (command, out) in [
        (
            "response open",
            open_et_answer("200001", "order not found", ""),
        ),
        ("call", call_fake_et("200001", "order not found", "")),
    ] {
        let err = assert_one_line_failure(&out, 3);
        assert!(err.contains("200001"), "{command}: {err}");
        let printed: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
        assert_eq!(printed["status_code"], "200001", "{command}");
        assert_eq!(printed["message"], "order not found", "{command}");
    }
    // The commands that print something else say it on stderr, with the same code.
    let search = against_fake_et(
        &["institutions", "search"],
        &["oxford"],
        b"",
        ("200001", "order not found", ""),
    );
    let err = assert_one_line_failure(&search, 3);
    assert!(
        err.contains("200001") && err.contains("order not found"),
        "institutions search: {err}"
    );
    // A refusal whose signature does not verify is not ET's: exit 1.
    let request = build_request(&["--data", "-"], PAY_URL_DATA);
    let answer = et_answer(
        stdout(&request).trim().as_bytes(),
        "200001",
        "order not found",
        "",
    );
    let forged = String::from_utf8(answer)
        .expect("utf-8")
        .replace("order not found", "order lost");
    let err = assert_one_line_failure(&open_response(forged.as_bytes()), 1);
    assert!(err.contains("unauthenticated"), "{err}");
}

#[test]
fn text_from_outside_cannot_drive_the_terminal() {
    for (command, out) in [
        (
            "response open",
            open_et_answer("200001", TERMINAL_ATTACK, ""),
        ),
        ("call", call_fake_et("200001", TERMINAL_ATTACK, "")),
    ] {
        let err = assert_one_line_failure(&out, 3);
        assert_inert(&err);
        assert!(
            err.contains(r"\u001b]0;pwned\u0007\u001b[2J"),
            "{command}: {err}"
        );
        assert_inert(&stdout(&out));
        let printed: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
        assert_eq!(
            printed["message"], TERMINAL_ATTACK,
            "{command}: same value, escaped"
        );
    }
    let items = format!(r#"[{{"school_name":"{}"}}]"#, "\u{9b}2J\u{202e}");
    let items: &'static str = Box::leak(items.into_boxed_str());
    let out = call_fake_et("000000", "SUCCESS", items);
    common::assert_success(&out);
    assert_inert(&stdout(&out));

    let body = format!(
        r#"{{"order_id":"ET1\u001b[2J","extend_info":"{}"}}"#,
        "\u{9b}2J"
    );
    let signed = et_stdin(&["notify", "sign", "--salt", "s"], body.as_bytes());
    common::assert_success(&signed);
    assert_inert(&stdout(&signed));
    let verified = et_stdin(&["notify", "verify", "--salt", "s"], &signed.stdout);
    common::assert_success(&verified);
    assert_inert(&stdout(&verified));

    // A server's error text (here the sandbox admin API's) and a file name.
    let (url, server) = serve_once(409, |_| TERMINAL_ATTACK.as_bytes().to_vec());
    let admin = et(&["sandbox", "admin", "--endpoint", &url, "ET1", "remit"]);
    server.join().expect("server");
    assert_inert(&assert_one_line_failure(&admin, 3));
    let missing = format!("/nonexistent/{TERMINAL_ATTACK}.pem");
    let out = et(&[
        "response",
        "open",
        "--merchant-key",
        &missing,
        "--et-public-key",
        &missing,
    ]);
    assert_inert(&assert_one_line_failure(&out, 2));
}

#[test]
fn the_exit_code_table_is_in_help_and_readme() {
    let help = stdout(&et(&["--help"]));
    for (code, meaning) in et_cli::exit_codes() {
        assert!(
            help.contains(&format!("  {code}  {meaning}")),
            "--help lacks {code}: {help}"
        );
        for (path, readme) in readmes() {
            assert!(
                readme.contains(&format!("| {code} | {meaning} |")),
                "{} lacks the row of exit code {code}",
                path.display()
            );
        }
    }
    assert!(stdout(&et(&["call", "--help"])).contains("et help exit-codes"));
}

#[test]
fn the_salt_can_come_from_a_file_and_readme_keeps_it_off_the_command_line() {
    let body = MD5_EXAMPLE.replace(
        r#""extend_info":"""#,
        r#""extend_info":"","sign":"652614570bcc49940d7dcc7a3c3dc7e5""#,
    );
    let salt = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(salt.path(), "abc123\n").expect("write");
    let out = et_stdin(
        &["notify", "verify", "--salt-file", path_str(salt.path())],
        body.as_bytes(),
    );
    common::assert_success(&out);
    for (path, readme) in readmes() {
        assert!(
            !readme.contains("--salt S") && readme.contains("--salt-file"),
            "{}: examples pass the salt in a file or ET_NOTIFY_SALT",
            path.display()
        );
    }
}

/// et-cli's README and the workspace README.
fn readmes() -> Vec<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    ["../et-cli/README.md", "../../README.md"]
        .into_iter()
        .map(|name| {
            let path = dir.join(name);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, text)
        })
        .collect()
}

#[test]
fn a_v1_signed_notification_names_its_rule_and_detect_writes_it() {
    use et_proto::{UntypedObject, UntypedValue};
    let fields: UntypedObject = [
        ("order_id", UntypedValue::string("ET1")),
        ("pay_result", UntypedValue::integer(1)),
        ("pay_amount", UntypedValue::from_json("10000.00").unwrap()),
        ("pay_datetime", UntypedValue::string("2024-12-01 10:00:00")),
        ("extend_info", UntypedValue::string("")),
    ]
    .into_iter()
    .collect();
    let sign = et_crypto::md5_hex("s4lt", et_proto::v1_printed_string(&fields));
    let mut signed = fields;
    signed.insert("sign", UntypedValue::string(sign));
    let body = signed.to_json();
    let salt = tempfile::NamedTempFile::new().expect("salt file");
    std::fs::write(salt.path(), "s4lt").unwrap();
    let err = assert_one_line_failure(
        &et_stdin(
            &["notify", "verify", "--salt-file", path_str(salt.path())],
            body.as_bytes(),
        ),
        1,
    );
    assert!(
        err.contains("verifies with --notify-sign-rule v1-compat"),
        "{err}"
    );
    let detected = et_stdin(
        &["profile", "detect", "--salt-file", path_str(salt.path())],
        body.as_bytes(),
    );
    common::assert_success(&detected);
    let profile = Profile::from_json(&stdout(&detected)).expect("profile file");
    assert_eq!(profile.notify_sign_rule, et_proto::NotifySignRule::V1Compat);
}

/// `et sandbox rotate` gives ET a new key and the merchant a new salt,
/// keeping the old key (owner-only) for the window.
#[test]
fn sandbox_rotate_replaces_the_key_and_salt_and_keeps_the_old_ones() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tmp");
    let state = dir.path().join("state");
    let state = path_str(&state);
    assert!(et(&["sandbox", "init", "--dir", state, "--bits", "1024"])
        .status
        .success());
    let read = |name: &str| std::fs::read(Path::new(state).join(name)).expect(name);
    let (old_public, old_merchant) = (read("et-public.pem"), read("merchant.json"));
    let old_private = read("et-private.pem");
    let out = et(&["sandbox", "rotate", "--dir", state, "--window", "60"]);
    common::assert_success(&out);
    assert!(stdout(&out).contains("for 60s"), "{}", stdout(&out));
    assert_ne!(read("et-public.pem"), old_public);
    assert_ne!(read("merchant.json"), old_merchant);
    assert_eq!(read("et-private.previous.pem"), old_private);
    for secret in ["et-private.previous.pem", "rotation.json", "merchant.json"] {
        let mode = std::fs::metadata(Path::new(state).join(secret))
            .expect(secret)
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{secret}");
    }
}
