//! `SandboxConfig::tls` (`et sandbox serve --tls`): the sandbox serves ET's
//! API over HTTPS with the certificate it made in its state directory,
//! keeps that certificate across restarts, and a client trusts it only when
//! told to (an extra root): with the bundled web PKI roots alone the
//! handshake fails before a byte of the request is sent.

use crate::common;

use et_http::{Client, Endpoint, Error, RetryPolicy, TransportConfig, TransportError};
use et_model::GetRate;
use et_sandbox::{SandboxConfig, TLS_CERT_PEM};

use common::{merchant, state_dir};

fn gbp_rate() -> GetRate {
    serde_json::from_value(serde_json::json!({"currency_code": "GBP"})).expect("rate")
}

fn client(url: &str, dir: &std::path::Path, root: Option<&str>) -> Client {
    let mut config = TransportConfig {
        retry: RetryPolicy::none(),
        ..TransportConfig::default()
    };
    if let Some(root) = root {
        config
            .add_root_certificates_pem(root.as_bytes())
            .expect("a PEM certificate");
    }
    let endpoint = Endpoint::parse(url).expect("endpoint");
    Client::with_config(endpoint, merchant(dir), config).expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_is_served_over_https_to_a_client_trusting_its_certificate() {
    let dir = state_dir();
    let config = || SandboxConfig {
        tls: true,
        ..SandboxConfig::new(dir.path())
    };
    let sandbox = et_sandbox::start(config()).await.expect("sandbox starts");
    let url = sandbox.endpoint_url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let cert = sandbox
        .tls_certificate_pem()
        .expect("serving TLS")
        .to_owned();
    assert_eq!(
        std::fs::read_to_string(dir.path().join(TLS_CERT_PEM)).expect("saved"),
        cert
    );

    let rate = client(&url, dir.path(), Some(&cert))
        .get_rate(&gbp_rate())
        .await;
    assert!(rate.is_ok(), "{rate:?}");
    // `localhost` is named by the certificate too.
    let by_name = url.replace("127.0.0.1", "localhost");
    assert!(client(&by_name, dir.path(), Some(&cert))
        .get_rate(&gbp_rate())
        .await
        .is_ok());

    // The dashboard and the pages are served over the same TLS.
    let mut trusting = TransportConfig::default();
    trusting
        .add_root_certificates_pem(cert.as_bytes())
        .expect("PEM");
    let browser = et_http::HttpsClient::new(&trusting).expect("client");
    let dashboard = http::Request::get(url.replace("/server", "/"))
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .expect("request");
    let page = browser
        .request(dashboard)
        .await
        .expect("an answer over TLS");
    assert_eq!(page.status(), http::StatusCode::OK);

    let err = client(&url, dir.path(), None)
        .get_rate(&gbp_rate())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Transport(TransportError::TlsHandshake(_))),
        "{err}"
    );
    assert!(!err.may_have_reached_et());

    // The next start serves the same certificate.
    sandbox.shutdown().await;
    let again = et_sandbox::start(config()).await.expect("sandbox restarts");
    assert_eq!(again.tls_certificate_pem(), Some(cert.as_str()));
    again.shutdown().await;
}
