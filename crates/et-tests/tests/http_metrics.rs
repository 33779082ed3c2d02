//! What the client and the receiver record through the `metrics` facade,
//! read back from a Prometheus recorder (the process's, so this binary
//! holds one test): retries by reason, exchanges by outcome, and
//! notifications by kind and result.

#[path = "http/common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use et_http::{Client, Endpoint, ReceiverConfig, RetryPolicy, TransportConfig, WebhookReceiver};
use et_model::GetRate;
use http_body_util::Full;
use metrics_exporter_prometheus::PrometheusBuilder;
use tokio::net::TcpListener;

use common::{parties, payment, reply, spawn_server, verifier};

fn get_rate_client(addr: SocketAddr, max_attempts: u32) -> Client {
    let config = TransportConfig {
        retry: RetryPolicy {
            max_attempts,
            backoff: Duration::from_millis(5),
            ..RetryPolicy::default()
        },
        ..TransportConfig::default()
    };
    let endpoint = Endpoint::parse(&format!("http://{addr}/server")).unwrap();
    Client::with_config(endpoint, parties().1, config).unwrap()
}

fn rate() -> GetRate {
    serde_json::from_value(serde_json::json!({"currency_code": "GBP"})).unwrap()
}

fn notification(body: Vec<u8>) -> http::Request<Full<Bytes>> {
    http::Request::post("/notify")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

#[tokio::test]
async fn retries_outcomes_and_notification_results_are_counted() {
    let handle = PrometheusBuilder::new().install_recorder().unwrap();

    // Nothing listens: two connect retries, then one failed exchange.
    let closed = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    assert!(get_rate_client(closed, 3).get_rate(&rate()).await.is_err());
    // 503 three times: a call that changes nothing is sent twice more.
    let (busy, _) = spawn_server(|_| async { reply(503, "text/plain", "busy") }).await;
    assert!(get_rate_client(busy, 3).get_rate(&rate()).await.is_err());

    let config = ReceiverConfig {
        handler_timeout: Duration::from_millis(50),
        ..ReceiverConfig::default()
    };
    let ok = WebhookReceiver::new(verifier(), |_| async {
        Ok::<(), et_http::HandlerError>(())
    });
    let failing = WebhookReceiver::new(verifier(), |_| async { Err::<(), _>("database down") });
    let hanging = WebhookReceiver::with_config(
        verifier(),
        |_| std::future::pending::<Result<(), et_http::HandlerError>>(),
        config,
    );
    ok.respond(notification(payment("ETxxxxxxxxxxxx01"))).await;
    ok.respond(notification(payment("ETxxxxxxxxxxxx01"))).await;
    ok.respond(notification(b"{\"sign\":\"forged\"}".to_vec()))
        .await;
    failing
        .respond(notification(payment("ETxxxxxxxxxxxx01")))
        .await;
    hanging
        .respond(notification(payment("ETxxxxxxxxxxxx01")))
        .await;

    let page = handle.render();
    for line in [
        r#"et_client_retries_total{operation="get_rate",reason="connect"} 2"#,
        r#"et_client_retries_total{operation="get_rate",reason="transient"} 2"#,
        r#"et_client_requests_total{operation="get_rate",outcome="transport",status_code="none"} 4"#,
        r#"et_client_request_duration_seconds_count{operation="get_rate"} 4"#,
        r#"et_notifications_total{kind="payment_success",result="acknowledged"} 2"#,
        r#"et_notifications_total{kind="unverified",result="refused"} 1"#,
        r#"et_notifications_total{kind="payment_success",result="handler_failed"} 1"#,
        r#"et_notifications_total{kind="payment_success",result="timed_out"} 1"#,
    ] {
        assert!(page.lines().any(|l| l == line), "no `{line}` in\n{page}");
    }
}
