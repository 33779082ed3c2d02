//! Failures on demand, met by the real et-http client: each failure
//! surfaces as the right typed error, a reply lost after the commit is
//! recovered without a second order, and every hold ends. The notification
//! faults are met by the merchant's inbox in et-inbox's `sandbox_faults` test.

use crate::common;
use common::started;

use std::time::{Duration, Instant, SystemTime};

use common::*;
use et_http::{Client, Endpoint, TransportConfig, TransportError};
use et_model::{CreateOrder, CurrencyCode, GetRate, QueryOrders, ReplyCode};
use et_sandbox::{Fault, FaultRule, RateTable, RunningSandbox, SandboxCode, Scope, Stage};
use et_testkit::order;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The client's timeout in these tests: well below any hold.
const CLIENT_TIMEOUT: Duration = Duration::from_millis(800);

fn client(dir: &std::path::Path, sb: &RunningSandbox) -> Client {
    let config = TransportConfig {
        request_timeout: CLIENT_TIMEOUT,
        ..TransportConfig::default()
    };
    let endpoint = Endpoint::parse(&sb.endpoint_url()).expect("endpoint");
    Client::with_config(endpoint, merchant(dir), config).expect("client")
}

/// A sandbox at real time on a fresh state directory, and [`client`] of it.
async fn started_client() -> (tempfile::TempDir, RunningSandbox, Client) {
    let dir = state_dir();
    let sb = start(dir.path(), 1.0).await;
    let client = client(dir.path(), &sb);
    (dir, sb, client)
}

fn gbp_rate() -> GetRate {
    GetRate {
        currency_code: CurrencyCode::new("GBP"),
        pay_currency_code: None,
        extra: Default::default(),
    }
}

/// ET's signed refusal: its code and message.
fn signed_refusal(e: &et_http::Error) -> (ReplyCode, String) {
    match e {
        et_http::Error::Response(et_proto::Error::Api {
            code,
            message,
            authenticated,
            ..
        }) => {
            assert!(authenticated, "{e}: the refusal must verify as ET's");
            (code.clone(), message.clone())
        }
        other => panic!("expected a signed refusal, got {other:?}"),
    }
}

/// The transport failure, which says the request may have reached ET.
fn transport(e: et_http::Error) -> TransportError {
    assert!(e.may_have_reached_et(), "{e}");
    match e {
        et_http::Error::Transport(t) => t,
        other => panic!("expected a transport failure, got {other:?}"),
    }
}

/// What the client sees for each lost-reply failure.
fn expect_kind(fault: &Fault, e: TransportError) {
    match (fault, &e) {
        (Fault::HttpStatus { status, .. }, TransportError::Status { status: got, .. }) => {
            assert_eq!(got.as_u16(), *status);
        }
        (Fault::Timeout { .. }, TransportError::Timeout { after }) => {
            assert_eq!(*after, CLIENT_TIMEOUT);
        }
        (Fault::Reset { .. }, TransportError::Io(_)) => {}
        _ => panic!("{fault:?} surfaced as {e:?}"),
    }
}

/// The failures that lose the reply, at `at`.
fn lost_replies(at: Stage) -> Vec<Fault> {
    vec![
        Fault::HttpStatus { status: 500, at },
        Fault::HttpStatus { status: 502, at },
        Fault::Timeout {
            at,
            hold_ms: Some(3_000),
        },
        Fault::Reset { at },
    ]
}

/// The merchant's recovery: the same `merchant_order_id` again is refused
/// `200002` naming the order ET already made, and the query finds it.
async fn recover(client: &Client, op: &CreateOrder) -> String {
    let again = client.create_order(op).await.expect_err("no second order");
    let (code, message) = signed_refusal(&again);
    assert_eq!(
        code.as_str(),
        SandboxCode::DuplicateMerchantOrderId.as_str()
    );
    let order_id = message
        .split("for order ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the refusal names the order")
        .to_owned();
    let found = client
        .query_orders(&QueryOrders::new([order_id.as_str()]))
        .await
        .expect("query");
    assert_eq!(found.items.len(), 1);
    assert_eq!(
        found.items[0].merchant_order_id.as_deref(),
        Some(op.merchant_order_id.as_str())
    );
    order_id
}

#[tokio::test]
async fn a_reply_lost_after_the_commit_is_recovered_by_querying_never_by_a_second_order() {
    let (_dir, sb, client) = started_client().await;
    for (i, fault) in lost_replies(Stage::AfterCommit).into_iter().enumerate() {
        let op = order(format!("lost-{i}"), "100.00");
        let scope = Scope::MerchantOrderId(format!("lost-{i}"));
        sb.add_fault(FaultRule::new(scope, fault.clone()))
            .expect("rule");
        let lost = client.create_order(&op).await.expect_err("reply lost");
        expect_kind(&fault, transport(lost));
        let order_id = recover(&client, &op).await;
        assert!(sb.order(&order_id).expect("db").is_some());
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn a_failure_before_the_commit_creates_nothing() {
    let (_dir, sb, client) = started_client().await;
    for (i, fault) in lost_replies(Stage::BeforeCommit).into_iter().enumerate() {
        let op = order(format!("early-{i}"), "100.00");
        sb.add_fault(FaultRule::new(Scope::Next(1), fault.clone()))
            .expect("rule");
        let failed = client.create_order(&op).await.expect_err("failed");
        expect_kind(&fault, transport(failed));
        // Nothing was made: the same order number is free, once.
        let created = client.create_order(&op).await.expect("created now");
        assert_eq!(created.items.len(), 1);
    }
    assert!(sb.faults().is_empty(), "each `next` rule was spent");
    sb.shutdown().await;
}

#[tokio::test]
async fn magic_values_fail_with_no_admin_call() {
    let (_dir, sb, client) = started_client().await;
    assert!(sb.faults().is_empty());
    let cases = [
        (
            "fault-500-after-1",
            "100.00",
            Fault::HttpStatus {
                status: 500,
                at: Stage::AfterCommit,
            },
        ),
        (
            "fault-502-after-1",
            "100.00",
            Fault::HttpStatus {
                status: 502,
                at: Stage::AfterCommit,
            },
        ),
        (
            "fault-reset-after-1",
            "100.00",
            Fault::Reset {
                at: Stage::AfterCommit,
            },
        ),
        (
            "fault-timeout-after-1",
            "100.00",
            Fault::Timeout {
                at: Stage::AfterCommit,
                hold_ms: None,
            },
        ),
        (
            "magic-amount-3",
            "4000.03",
            Fault::HttpStatus {
                status: 500,
                at: Stage::AfterCommit,
            },
        ),
        (
            "magic-amount-5",
            "4000.05",
            Fault::Reset {
                at: Stage::AfterCommit,
            },
        ),
    ];
    for (id, amount, fault) in cases {
        let op = order(id, amount);
        let lost = client.create_order(&op).await.expect_err(id);
        expect_kind(&fault, transport(lost));
        recover(&client, &op).await;
    }
    // Before the commit, a magic order number fails every time.
    for _ in 0..2 {
        let failed = client
            .create_order(&order("fault-502-before-1", "100.00"))
            .await;
        expect_kind(
            &Fault::HttpStatus {
                status: 502,
                at: Stage::BeforeCommit,
            },
            transport(failed.expect_err("502")),
        );
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn a_signed_error_code_arrives_as_a_verified_api_error() {
    let (_dir, sb, client) = started_client().await;
    for (op, code) in [
        (order("coded-1", "4000.02"), "999999"),
        (order("fault-error-1", "100.00"), "900001"),
    ] {
        let refused = client.create_order(&op).await.expect_err("refused");
        assert_eq!(refused.api_status().map(|c| c.as_str()), Some(code));
        signed_refusal(&refused);
        assert!(refused.may_have_reached_et(), "ET answered");
    }
    let fault = Fault::ErrorCode {
        status_code: ReplyCode::from_code("123456"),
        message: "ET is closed for the holiday".into(),
    };
    sb.add_fault(FaultRule::new(Scope::Next(1), fault))
        .expect("rule");
    let refused = client.get_rate(&gbp_rate()).await.expect_err("refused");
    let (code, message) = signed_refusal(&refused);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("123456", "ET is closed for the holiday")
    );
    // Nothing was done: the coded order numbers are still free.
    client
        .create_order(&order("coded-1", "100.00"))
        .await
        .expect("free");
    sb.shutdown().await;
}

#[tokio::test]
async fn latency_is_added_and_bounded() {
    let dir = state_dir();
    let sb = start(dir.path(), 1.0).await;
    let endpoint = Endpoint::parse(&sb.endpoint_url()).expect("endpoint");
    let client = Client::with_config(endpoint, merchant(dir.path()), TransportConfig::default())
        .expect("client");
    let rate = gbp_rate();
    let started = Instant::now();
    client.get_rate(&rate).await.expect("rate");
    let plain = started.elapsed();
    sb.add_fault(FaultRule::new(Scope::Next(1), Fault::Latency { ms: 700 }))
        .expect("rule");
    let started = Instant::now();
    client.get_rate(&rate).await.expect("rate, late");
    let late = started.elapsed();
    assert!(late >= Duration::from_millis(700), "{late:?}");
    assert!(
        late < Duration::from_millis(700) + plain + Duration::from_secs(2),
        "{late:?}"
    );
    // The magic latency, 2 s.
    let started = Instant::now();
    client
        .create_order(&order("fault-latency-1", "100.00"))
        .await
        .expect("created, late");
    let late = started.elapsed();
    assert!(
        late >= Duration::from_secs(2) && late < Duration::from_secs(5),
        "{late:?}"
    );
    let too_long = Fault::Latency { ms: 10_001 };
    assert!(sb
        .add_fault(FaultRule::new(Scope::Next(1), too_long))
        .is_err());
    sb.shutdown().await;
}

/// Sends one raw request; returns what came back and when the connection closed.
async fn raw_exchange(sb: &RunningSandbox, body: &[u8]) -> (Vec<u8>, Duration) {
    let mut stream = tokio::net::TcpStream::connect(sb.addr())
        .await
        .expect("connect");
    let head = format!(
        "POST /server HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(body).await.expect("body");
    let started = Instant::now();
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "the connection must end");
    (got, started.elapsed())
}

#[tokio::test]
async fn a_held_connection_ends_and_a_reset_one_gets_no_reply() {
    let (_dir, sb, m) = started(1.0).await;
    let rate = gbp_rate();
    let hold = Fault::Timeout {
        at: Stage::BeforeCommit,
        hold_ms: Some(1_000),
    };
    sb.add_fault(FaultRule::new(Scope::Next(1), hold))
        .expect("rule");
    let (got, after) =
        raw_exchange(&sb, &m.build(&rate, SystemTime::now()).expect("built").body).await;
    assert!(
        got.is_empty(),
        "no reply: {:?}",
        String::from_utf8_lossy(&got)
    );
    assert!(
        after >= Duration::from_millis(900) && after < Duration::from_secs(5),
        "{after:?}"
    );
    sb.add_fault(FaultRule::new(
        Scope::Next(1),
        Fault::Reset {
            at: Stage::AfterCommit,
        },
    ))
    .expect("rule");
    let (got, after) =
        raw_exchange(&sb, &m.build(&rate, SystemTime::now()).expect("built").body).await;
    assert!(
        got.is_empty() && after < Duration::from_secs(1),
        "{after:?}"
    );
    // The sandbox still answers.
    let (got, _) = raw_exchange(&sb, &m.build(&rate, SystemTime::now()).expect("built").body).await;
    assert!(got.starts_with(b"HTTP/1.1 200"));
    sb.shutdown().await;
}

#[tokio::test]
async fn the_admin_api_sets_lists_and_clears_faults_from_json_only() {
    let dir = state_dir();
    let sb = start(dir.path(), 1.0).await;
    let url = format!("http://{}/admin/faults", sb.addr());
    let json = Some("application/json");
    let text = r#"{"scope": {"merchant_order_id": "A-1"}, "fault": {"kind": "reset", "at": "after_commit"}}"#;
    let (status, _) = post(&url, text.into(), Some("application/x-www-form-urlencoded")).await;
    assert_eq!(status, 415, "a cross-site form cannot set a fault");
    let (status, body) = post(&url, text.into(), json).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let listed: serde_json::Value = serde_json::from_slice(&get(&url).await.1).expect("json");
    assert_eq!(listed["faults"][0]["fault"]["kind"], "reset");
    assert_eq!(
        sb.faults(),
        vec![FaultRule::new(
            Scope::MerchantOrderId("A-1".into()),
            Fault::Reset {
                at: Stage::AfterCommit
            }
        )]
    );
    for bad in [
        r#"{"scope": {"next": 0}, "fault": {"kind": "reset", "at": "after_commit"}}"#,
        r#"{"scope": {"next": 1}, "fault": {"kind": "timeout", "at": "after_commit", "hold_ms": 999999999}}"#,
        r#"{"scope": {"next": 1}, "fault": {"kind": "explode"}}"#,
        "not json",
    ] {
        let (status, body) = post(&url, bad.into(), json).await;
        assert_eq!(status, 400, "{bad}: {}", String::from_utf8_lossy(&body));
    }
    let (status, _) = post(&format!("{url}/clear"), Vec::new(), json).await;
    assert_eq!(status, 200);
    assert!(sb.faults().is_empty());
    sb.shutdown().await;
}

#[tokio::test]
async fn sandbox_json_sets_faults_per_merchant_and_refuses_unbounded_ones() {
    let dir = state_dir();
    let write = |faults: serde_json::Value| {
        let mut file = serde_json::to_value(RateTable::default()).expect("rates");
        file["faults"] = faults;
        std::fs::write(dir.path().join("sandbox.json"), file.to_string()).expect("write");
    };
    write(serde_json::json!([{
        "scope": {"merchant_number": "ET1"},
        "fault": {"kind": "latency", "ms": 100_000}
    }]));
    let config = et_sandbox::SandboxConfig::new(dir.path());
    let refused = et_sandbox::start(config).await.expect_err("unbounded");
    assert!(refused.to_string().contains("faults"), "{refused}");
    let merchant_number = merchant(dir.path()).credentials().merchant_number.clone();
    write(serde_json::json!([{
        "scope": {"merchant_number": merchant_number},
        "fault": {"kind": "error_code", "status_code": "900001", "message": "down for the day"}
    }]));
    let sb = start(dir.path(), 1.0).await;
    let client = client(dir.path(), &sb);
    let refused = client
        .get_rate(&gbp_rate())
        .await
        .expect_err("every request of the merchant");
    assert_eq!(signed_refusal(&refused).0.as_str(), "900001");
    sb.shutdown().await;
}
