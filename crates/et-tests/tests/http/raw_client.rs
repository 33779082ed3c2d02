//! `RawClient`: bytes posted as they are, every answer handed back as it
//! came, within the transport's limits and `Endpoint`'s rules.

use std::time::Duration;

use bytes::Bytes;
use et_http::{Endpoint, RawClient, RetryPolicy, TransportConfig, TransportError};
use et_testkit::http::{reply, spawn_server};
use http::{HeaderValue, Request};

fn config(max_response_bytes: usize) -> TransportConfig {
    TransportConfig {
        request_timeout: Duration::from_secs(2),
        max_response_bytes,
        retry: RetryPolicy::none(),
        ..TransportConfig::default()
    }
}

#[tokio::test]
async fn any_status_and_body_come_back_unchanged_and_the_request_goes_as_given() {
    let (addr, seen) = spawn_server(|request: Request<Bytes>| async move {
        let content_type = request.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let echoed = format!("{content_type}|{}", String::from_utf8_lossy(request.body()));
        reply(502, "text/html", echoed)
    })
    .await;
    let endpoint = Endpoint::parse(&format!("http://{addr}/server")).unwrap();
    let client = RawClient::new(endpoint, config(1 << 10)).unwrap();
    let form = HeaderValue::from_static("application/x-www-form-urlencoded");
    let answer = client
        .post(form, Bytes::from_static(b"a=1&b=2"))
        .await
        .unwrap();
    assert_eq!(answer.status, 502, "a non-2xx HTML page is an answer here");
    assert_eq!(answer.content_type.unwrap(), "text/html");
    assert_eq!(
        &answer.body[..],
        b"application/x-www-form-urlencoded|a=1&b=2"
    );
    assert_eq!(seen.requests(), 1);
}

#[tokio::test]
async fn an_answer_over_the_limit_is_cut_off_and_named() {
    let (addr, _) = spawn_server(|_: Request<Bytes>| async move {
        reply(200, "application/json", vec![b'x'; 2048])
    })
    .await;
    let endpoint = Endpoint::parse(&format!("http://{addr}/")).unwrap();
    let client = RawClient::new(endpoint, config(1024)).unwrap();
    let json = HeaderValue::from_static("application/json");
    let err = client.post(json, Bytes::new()).await.unwrap_err();
    assert!(
        matches!(err, TransportError::ResponseTooLarge { limit: 1024 }),
        "{err}"
    );
}
