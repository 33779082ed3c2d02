//! ET's side over HTTPS for et-http's tests: a TLS front with the fixture
//! certificate (a private test CA signed it for `localhost` and
//! `127.0.0.1`; fixtures/tls, see make_certs.sh) relaying to a plain ET
//! backend that answers `get_rate`.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use et_http::{RetryPolicy, TransportConfig};
use et_model::{GetRate, Operation};
use et_proto::{EtSide, Merchant, Response};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::{parties, reply, spawn_server, Seen};

pub(crate) const CA: &[u8] = include_bytes!("../fixtures/tls/ca.pem");
pub(crate) const SERVER_CERT: &[u8] = include_bytes!("../fixtures/tls/server.pem");
pub(crate) const SERVER_KEY: &[u8] = include_bytes!("../fixtures/tls/server.key");

pub(crate) type RateOutput = <GetRate as Operation>::Output;

pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

pub(crate) fn op() -> GetRate {
    serde_json::from_value(serde_json::json!({"currency_code": "GBP"})).unwrap()
}

pub(crate) fn out() -> RateOutput {
    serde_json::from_value(serde_json::json!({"currency_code": "GBP", "rate": "9.1234"})).unwrap()
}

/// ET's answer to a `get_rate` request for [`op`]: [`out`], signed and encrypted.
pub(crate) fn answer(
    et: &EtSide,
    key: &et_crypto::PublicKey,
    body: &[u8],
) -> Result<Vec<u8>, String> {
    let opened = et
        .open_request(body, |_, _| Some(key.clone()), std::time::SystemTime::now())
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
pub(crate) async fn et_backend() -> (SocketAddr, Seen) {
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

/// The fixture certificate and key as a rustls server configuration.
pub(crate) fn server_config() -> Arc<rustls::ServerConfig> {
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(SERVER_CERT).unwrap()],
            PrivateKeyDer::from_pem_slice(SERVER_KEY).unwrap(),
        )
        .unwrap();
    Arc::new(config)
}

/// Terminates TLS with the fixture certificate on a fresh 127.0.0.1 port
/// and relays each connection's plaintext to `backend`. A connection whose
/// handshake fails never reaches the backend.
pub(crate) async fn tls_front(backend: SocketAddr) -> SocketAddr {
    let acceptor = TlsAcceptor::from(server_config());
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
pub(crate) async fn et_over_tls() -> (u16, Seen) {
    let (backend, seen) = et_backend().await;
    (tls_front(backend).await.port(), seen)
}

/// A merchant the ET side trusts ([`parties`] always loads the same keys).
pub(crate) fn merchant() -> Merchant {
    parties().1
}

pub(crate) fn trusting_the_test_ca() -> rustls::ClientConfig {
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
