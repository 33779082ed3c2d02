//! HTTPS end to end on 127.0.0.1: an ET side behind a TLS front whose
//! certificate a private test CA signed (fixtures/tls, see make_certs.sh).
//! A client trusting that CA completes calls; the bundled web PKI roots
//! refuse the server before any request byte is sent.

use crate::common;

use et_http::{Client, Endpoint, Error, RawClient, ServeConfig, TransportConfig, TransportError};
use et_proto::ACK_OK;
use http::HeaderValue;
use tokio::net::TcpListener;

use common::no_retry;
use common::tls::{et_over_tls, merchant, op, out, server_config, trusting_the_test_ca, CA};
use common::{payment, verifier};

#[tokio::test]
async fn a_client_trusting_the_private_ca_calls_over_https() {
    let (port, seen) = et_over_tls().await;
    // The certificate names both; each host gets its own pooled connection.
    for host in ["localhost", "127.0.0.1"] {
        let endpoint = Endpoint::parse(&format!("https://{host}:{port}/server")).unwrap();
        let client =
            Client::with_tls_config(endpoint, merchant(), no_retry(), trusting_the_test_ca());
        for _ in 0..2 {
            let reply = client.get_rate(&op()).await.unwrap();
            assert_eq!(reply.items, vec![out()], "{host}");
        }
    }
    assert_eq!((seen.requests(), seen.connections()), (4, 2));
}

#[tokio::test]
async fn bundled_web_pki_roots_refuse_the_private_ca() {
    let (port, seen) = et_over_tls().await;
    let endpoint = Endpoint::parse(&format!("https://localhost:{port}/server")).unwrap();
    // Default policy: a refused certificate is a handshake error, which the
    // retry loop (connect errors only) does not repeat.
    let client = Client::with_config(endpoint, merchant(), TransportConfig::default()).unwrap();
    let err = client.get_rate(&op()).await.unwrap_err();
    assert!(
        matches!(err, Error::Transport(TransportError::TlsHandshake(_))),
        "{err}"
    );
    assert!(!err.may_have_reached_et());
    assert!(err.to_string().contains("certificate"), "{err}");
    assert_eq!(seen.connections(), 0, "nothing passed the handshake");
}

#[tokio::test]
async fn an_extra_root_from_pem_is_trusted_besides_web_pki() {
    let (port, seen) = et_over_tls().await;
    let endpoint = Endpoint::parse(&format!("https://localhost:{port}/server")).unwrap();
    let mut config = no_retry();
    assert_eq!(config.add_root_certificates_pem(CA).unwrap(), 1);
    let client = Client::with_config(endpoint, merchant(), config).unwrap();
    assert_eq!(client.get_rate(&op()).await.unwrap().items, vec![out()]);
    assert_eq!(seen.requests(), 1);
}

#[test]
fn pem_text_without_a_certificate_is_refused() {
    let mut config = TransportConfig::default();
    for bad in [
        &b""[..],
        b"not pem",
        b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n",
    ] {
        assert!(matches!(
            config.add_root_certificates_pem(bad),
            Err(TransportError::Tls(_))
        ));
    }
    assert!(config.extra_roots.is_empty());
}

/// `serve_tls_with` serves a webhook receiver over HTTPS; a raw client
/// trusting the CA posts a notification through it and is acknowledged.
#[tokio::test]
async fn serve_tls_with_serves_the_receiver_over_https() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let receiver = et_http::WebhookReceiver::new(verifier(), |_| async {
        Ok::<(), et_http::HandlerError>(())
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(et_http::serve_tls_with(
        listener,
        server_config(),
        receiver,
        ServeConfig::default(),
        async move {
            let _ = stopped.await;
        },
    ));
    let body = payment("ETxxxxxxxxxxxx01");
    let endpoint = Endpoint::parse(&format!("https://localhost:{port}/notify")).unwrap();
    let mut config = no_retry();
    config.add_root_certificates_pem(CA).unwrap();
    let client = RawClient::new(endpoint.clone(), config).unwrap();
    let json = HeaderValue::from_static("application/json");
    let reply = client
        .post(json.clone(), body.clone().into())
        .await
        .unwrap();
    assert_eq!((reply.status.as_u16(), &reply.body[..]), (200, ACK_OK));
    // Without the root the handshake fails: nothing was posted.
    let untrusting = RawClient::new(endpoint, no_retry()).unwrap();
    let err = untrusting.post(json, body.into()).await.unwrap_err();
    assert!(matches!(err, TransportError::TlsHandshake(_)), "{err}");
    stop.send(()).unwrap();
    server.await.unwrap();
}
