//! `et notify send`, run as a user would: against et-rs's own webhook
//! receiver (which answers as ET expects) and against receivers that
//! answer wrong, each wrong answer named in words with exit 4.

use std::net::SocketAddr;
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use et_http::WebhookReceiver;
use et_model::NotificationKind;
use et_proto::{
    refund_acknowledgement, MatchedRule, NotificationVerifier, NotifySignRule, VerifiedNotification,
};
use et_testkit::http::{reply, spawn_server, Receiver};
use et_testkit::SALT;
use http::Request;

use crate::common;

use common::{et_stdin, text};

/// A file holding the test salt, as a merchant keeps it.
fn salt_file() -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(file.path(), format!("{SALT}\n")).expect("write");
    file
}

/// `et notify send URL --order ET1 --salt-file … ARGS`, off the async workers.
async fn send(url: &str, args: &[&str]) -> Output {
    let salt = salt_file();
    let mut all: Vec<String> = ["notify", "send", url, "--order", "ET1", "--salt-file"]
        .map(str::to_owned)
        .to_vec();
    all.push(salt.path().to_str().expect("UTF-8 path").to_owned());
    all.extend(args.iter().map(|a| (*a).to_owned()));
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = all.iter().map(String::as_str).collect();
        let out = et_stdin(&args, b"");
        drop(salt);
        out
    })
    .await
    .expect("et ran")
}

/// The one stderr line of a failed run, after asserting its exit code.
fn failure(out: &Output, code: i32) -> String {
    assert_eq!(out.status.code(), Some(code), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    err.trim_end().to_owned()
}

/// et-http's webhook receiver for the test salt under `rule`, served on a
/// fresh port; every notification it handled.
async fn et_rs_receiver(
    rule: NotifySignRule,
) -> (SocketAddr, Arc<Mutex<Vec<VerifiedNotification>>>) {
    let handled = Arc::new(Mutex::new(Vec::new()));
    let log = handled.clone();
    let receiver = WebhookReceiver::new(
        NotificationVerifier::new(SALT, rule),
        move |n: VerifiedNotification| {
            log.lock().expect("lock").push(n);
            async { Ok::<(), et_http::HandlerError>(()) }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(et_http::serve(listener, receiver, std::future::pending()));
    (addr, handled)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_is_acknowledged_by_a_receiver_that_answers_as_et_expects() {
    let (addr, handled) = et_rs_receiver(NotifySignRule::V2).await;
    let url = format!("http://{addr}/notify");
    for kind in ["payment", "status", "refund", "voucher"] {
        let out = send(&url, &["--kind", kind]).await;
        assert!(out.status.success(), "{kind}: {}", text(&out.stderr));
        let printed = text(&out.stdout);
        assert!(
            printed.starts_with("sent: {") && printed.contains("\nanswer: HTTP 200 {"),
            "{kind}: {printed}"
        );
    }
    let kinds: Vec<NotificationKind> = handled
        .lock()
        .expect("lock")
        .iter()
        .map(|n| n.kind())
        .collect();
    assert_eq!(
        kinds,
        [
            NotificationKind::PaymentSuccess,
            NotificationKind::OrderStatusChange,
            NotificationKind::RefundResult,
            NotificationKind::RemittanceVoucher
        ]
    );
    let refund = handled.lock().expect("lock")[2].fields().to_object();
    assert_eq!(
        refund.text("refund_order_id"),
        Some("ET1"),
        "the second mode's id"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_replaces_defaults_keeping_numbers_numbers_and_adds_fields() {
    let (addr, handled) = et_rs_receiver(NotifySignRule::V2).await;
    let url = format!("http://{addr}/notify");
    let out = send(
        &url,
        &[
            "--kind",
            "payment",
            "--set",
            "pay_amount=130.50",
            "--set",
            "pay_result=0",
            "--set",
            "trace_id=t=1",
        ],
    )
    .await;
    common::assert_success(&out);
    let sent = text(&out.stdout);
    for wire in [
        r#""pay_amount":130.50"#,
        r#""pay_result":0"#,
        r#""trace_id":"t=1""#,
    ] {
        assert!(sent.contains(wire), "{wire} in {sent}");
    }
    let form = send(
        &url,
        &["--kind", "status", "--form", "--set", "order_status=-3"],
    )
    .await;
    common::assert_success(&form);
    assert!(text(&form.stdout).starts_with("sent: notify_type=order_status_change&"));
    let handled = handled.lock().expect("lock");
    let payment = handled[0].fields();
    assert_eq!(payment.text("pay_amount"), Some("130.50"));
    assert_eq!(payment.text("pay_result"), Some("0"));
    assert_eq!(
        handled[0].added_fields().count(),
        1,
        "trace_id is ET's addition"
    );
    assert_eq!(handled[1].fields().text("order_status"), Some("-3"));
    let bad = et_stdin(
        &[
            "notify", "send", &url, "--kind", "payment", "--order", "ET1", "--salt", "s", "--set",
            "sign=0",
        ],
        b"",
    );
    assert!(failure(&bad, 2).contains("`sign` is computed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v1_compat_profile_signs_by_the_v1_page_which_only_a_v1_compat_receiver_accepts() {
    let (v1, handled) = et_rs_receiver(NotifySignRule::V1Compat).await;
    let out = send(
        &format!("http://{v1}/"),
        &["--kind", "refund", "--notify-rule", "v1-compat"],
    )
    .await;
    common::assert_success(&out);
    assert_eq!(
        handled.lock().expect("lock")[0].matched_rule(),
        MatchedRule::V1Printed
    );
    let (v2, _) = et_rs_receiver(NotifySignRule::V2).await;
    let out = send(
        &format!("http://{v2}/"),
        &["--kind", "payment", "--notify-rule", "v1-compat"],
    )
    .await;
    assert_eq!(
        failure(&out, 4),
        r#"et: your receiver answered HTTP 401 `{"notify_result":"FAIL"}`; ET expects HTTP 200 and `{"notify_result":"OK"}`"#
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_answer_exits_4_saying_what_was_wrong_and_what_et_expects() {
    let (addr, _) = spawn_server(|request: Request<Bytes>| async move {
        let json = |body: Vec<u8>| reply(200, "application/json", body);
        match request.uri().path() {
            "/plain-ok" => reply(200, "text/plain", "OK"),
            "/ok" => json(br#"{"notify_result":"OK"}"#.to_vec()),
            "/other-order" => json(refund_acknowledgement(SALT, "ET2")),
            "/wrong-salt" => json(refund_acknowledgement("not-the-salt", "ET1")),
            "/slow" => {
                tokio::time::sleep(Duration::from_secs(5)).await;
                json(br#"{"notify_result":"OK"}"#.to_vec())
            }
            "/huge" => json(vec![b' '; 100 << 10]),
            _ => reply(500, "text/plain", "boom"),
        }
    })
    .await;
    let at = |path: &str| format!("http://{addr}{path}");
    let ok = r#"`{"notify_result":"OK"}`"#;
    let cases: [(&str, &str, String); 5] = [
        (
            "/plain-ok",
            "payment",
            format!("et: your receiver answered `OK`; ET expects {ok}"),
        ),
        (
            "/crash",
            "voucher",
            format!("et: your receiver answered HTTP 500 `boom`; ET expects HTTP 200 and {ok}"),
        ),
        ("/ok", "refund", "without order_id and sign".to_owned()),
        (
            "/other-order",
            "refund",
            "whose order_id is not the notification's".to_owned(),
        ),
        (
            "/wrong-salt",
            "refund",
            "whose sign does not verify with the salt".to_owned(),
        ),
    ];
    for (path, kind, said) in cases {
        let err = failure(&send(&at(path), &["--kind", kind]).await, 4);
        assert!(err.contains(&said), "{path}: {err}");
    }
    let refund_expected = String::from_utf8(refund_acknowledgement(SALT, "ET1")).expect("UTF-8");
    let err = failure(&send(&at("/ok"), &["--kind", "refund"]).await, 4);
    assert!(
        err.ends_with(&format!("ET expects `{refund_expected}`")),
        "{err}"
    );

    let err = failure(
        &send(&at("/slow"), &["--kind", "status", "--timeout", "1"]).await,
        4,
    );
    assert!(
        err.contains("no acknowledgement: no complete answer within 1s"),
        "{err}"
    );
    let err = failure(&send(&at("/huge"), &["--kind", "status"]).await, 4);
    assert!(err.contains("65536-byte limit"), "{err}");

    let receiver = Receiver::start(false).await;
    let err = failure(
        &send(&receiver.url("/notify"), &["--kind", "payment"]).await,
        4,
    );
    assert_eq!(
        err,
        format!("et: your receiver answered `FAIL`; ET expects {ok}")
    );
    assert_eq!(receiver.count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_cannot_be_reached_is_exit_2_not_a_wrong_answer() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/", closed.local_addr().expect("addr"));
    drop(closed);
    let err = failure(&send(&url, &["--kind", "payment"]).await, 2);
    assert!(err.contains("the receiver could not be reached"), "{err}");
    let err = failure(
        &send("http://example.com/notify", &["--kind", "payment"]).await,
        2,
    );
    assert!(
        err.contains("plain http is allowed only for loopback hosts"),
        "{err}"
    );
}

#[test]
fn notify_sign_signs_by_the_profiles_rule_too() {
    let body = br#"{"order_id":"ET1","pay_result":1,"pay_amount":100,"pay_datetime":"2017-10-12 10:00:00","extend_info":""}"#;
    let v1 = ["--notify-rule", "v1-compat"];
    let signed = et_stdin(
        &[&["notify", "sign", "--salt", SALT][..], &v1].concat(),
        body,
    );
    common::assert_success(&signed);
    let verify = |extra: &[&str]| {
        et_stdin(
            &[&["notify", "verify", "--salt", SALT][..], extra].concat(),
            &signed.stdout,
        )
    };
    assert_eq!(
        verify(&[]).status.code(),
        Some(1),
        "a v2 verifier refuses it"
    );
    let verified = verify(&v1);
    common::assert_success(&verified);
    assert!(text(&verified.stdout).contains(r#""rule": "v1-printed""#));
}
