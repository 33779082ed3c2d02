//! HTTPS end to end on 127.0.0.1: an ET side behind a TLS front whose
//! certificate a private test CA signed (fixtures/tls, see make_certs.sh).
//! A client trusting that CA completes calls; the bundled web PKI roots
//! refuse the server before any request byte is sent.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use et_http::{Client, Endpoint, Error, RetryPolicy, TransportConfig, TransportError};
use et_model::{GetRate, Operation};
use et_proto::{EtSide, Merchant, Response};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use common::{parties, reply, spawn_server, Seen};

const CA: &[u8] = include_bytes!("fixtures/tls/ca.pem");
const SERVER_CERT: &[u8] = include_bytes!("fixtures/tls/server.pem");
const SERVER_KEY: &[u8] = include_bytes!("fixtures/tls/server.key");

type RateOutput = <GetRate as Operation>::Output;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn op() -> GetRate {
    serde_json::from_value(serde_json::json!({"currency_code": "GBP"})).unwrap()
}

fn out() -> RateOutput {
    serde_json::from_value(serde_json::json!({"currency_code": "GBP", "rate": "9.1234"})).unwrap()
}

fn no_retry() -> TransportConfig {
    TransportConfig {
        retry: RetryPolicy::none(),
        ..TransportConfig::default()
    }
}

/// ET's answer to a `get_rate` request for [`op`]: [`out`], signed and encrypted.
fn answer(et: &EtSide, key: &et_crypto::PublicKey, body: &[u8]) -> Result<Vec<u8>, String> {
    let opened = et
        .open_request(body, |_, _| Some(key.clone()))
        .map_err(|e| e.to_string())?;
    if opened.operation::<GetRate>().ok() != Some(op()) {
        return Err("unexpected operation".into());
    }
    let response = Response::success(&opened)
        .with_output::<GetRate>(&[out()])
        .map_err(|e| e.to_string())?;
    et.respond(key, &response).map_err(|e| e.to_string())
}

/// A plain-HTTP ET side on 127.0.0.1 trusting [`merchant`].
async fn et_backend() -> (SocketAddr, Seen) {
    let (et, merchant) = parties();
    let key = merchant.credentials().merchant_key.public_key().clone();
    spawn_server(move |request: http::Request<Bytes>| {
        let (et, key) = (et.clone(), key.clone());
        async move {
            match answer(&et, &key, request.body()) {
                Ok(body) => reply(200, "application/json;charset=utf-8", body),
                Err(why) => reply(400, "text/plain", why),
            }
        }
    })
    .await
}

/// Terminates TLS with the fixture certificate on a fresh 127.0.0.1 port
/// and relays each connection's plaintext to `backend`. A connection whose
/// handshake fails never reaches the backend.
async fn tls_front(backend: SocketAddr) -> SocketAddr {
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(SERVER_CERT).unwrap()],
            PrivateKeyDer::from_pem_slice(SERVER_KEY).unwrap(),
        )
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let Ok(mut plain) = TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    addr
}

/// ET behind TLS: the https port and the backend's counters.
async fn et_over_tls() -> (u16, Seen) {
    let (backend, seen) = et_backend().await;
    (tls_front(backend).await.port(), seen)
}

/// A merchant the ET side trusts ([`parties`] always loads the same keys).
fn merchant() -> Merchant {
    parties().1
}

fn trusting_the_test_ca() -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(CA).unwrap())
        .unwrap();
    rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

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
