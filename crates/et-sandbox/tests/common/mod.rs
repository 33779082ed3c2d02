//! Shared helpers: a state directory from committed 1024-bit fixture keys,
//! the merchant side (et-proto), a tiny HTTP client and a webhook receiver.
#![allow(dead_code, missing_docs)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use et_crypto::{PrivateKey, PublicKey};
use et_model::{Notification, Operation};
use et_proto::{
    BuiltRequest, CallbackEncoding, Credentials, EmptySensitive, Merchant, Profile, CONTENT_TYPE,
};
use et_sandbox::{RunningSandbox, SandboxCode, SandboxConfig, SandboxDir};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A fresh state directory holding the fixture keys and merchant.
pub fn state_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for entry in std::fs::read_dir(fixture("state")).expect("fixtures") {
        let path = entry.expect("entry").path();
        let to = dir.path().join(path.file_name().expect("file name"));
        std::fs::copy(&path, to).expect("copy fixture");
    }
    dir
}

pub async fn start(dir: &Path, time_scale: f64) -> RunningSandbox {
    let config = SandboxConfig {
        dir: dir.to_owned(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        time_scale,
    };
    et_sandbox::start(config).await.expect("sandbox starts")
}

fn load_private(path: &Path) -> PrivateKey {
    PrivateKey::load(&std::fs::read(path).expect("key file")).expect("private key")
}

fn load_public(path: &Path) -> PublicKey {
    PublicKey::load(&std::fs::read(path).expect("key file")).expect("public key")
}

/// The directory's merchant, optionally with another signing key or ET key.
pub fn merchant_with(
    dir: &Path,
    signing_key: &Path,
    et_public: &Path,
    profile: Profile,
) -> Merchant {
    let info = SandboxDir::new(dir).merchant().expect("merchant.json");
    let credentials = Credentials::new(
        info.merchant_number.clone(),
        info.sub_merchant_number.clone(),
        load_private(signing_key),
        load_public(et_public),
        info.salt.as_str(),
    );
    Merchant::new(credentials, profile)
}

pub fn merchant(dir: &Path) -> Merchant {
    merchant_speaking(dir, Profile::default())
}

/// The directory's merchant, with its own keys, speaking `profile`.
pub fn merchant_speaking(dir: &Path, profile: Profile) -> Merchant {
    merchant_with(
        dir,
        &dir.join("merchant-private.pem"),
        &dir.join("et-public.pem"),
        profile,
    )
}

/// The directory's merchant speaking like ET's Python demo:
/// `callback_process` `""`, `sensitive_data` always encrypted (`[]` when
/// there is nothing to send).
pub fn demo_merchant(dir: &Path) -> Merchant {
    merchant_speaking(
        dir,
        Profile {
            empty_sensitive: EmptySensitive::EncryptEmptyList,
            callback_process: CallbackEncoding::Empty,
            ..Profile::default()
        },
    )
}

/// POSTs `body`; `content_type` `None` sends no Content-Type (like ET's demo).
pub async fn post(url: &str, body: Vec<u8>, content_type: Option<&str>) -> (u16, Vec<u8>) {
    let mut request = http::Request::post(url);
    if let Some(ct) = content_type {
        request = request.header(http::header::CONTENT_TYPE, ct);
    }
    send(request.body(Full::new(Bytes::from(body))).expect("request")).await
}

pub async fn get(url: &str) -> (u16, Vec<u8>) {
    send(
        http::Request::get(url)
            .body(Full::new(Bytes::new()))
            .expect("request"),
    )
    .await
}

async fn send(request: http::Request<Full<Bytes>>) -> (u16, Vec<u8>) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let response = tokio::time::timeout(Duration::from_secs(10), client.request(request))
        .await
        .expect("answer within 10 s")
        .expect("HTTP exchange");
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, body.to_vec())
}

/// Polls `check` every 20 ms for up to `limit`.
pub async fn wait_for<T>(limit: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(v) = check() {
            return Some(v);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    check()
}

/// One received notification: its Content-Type and body.
pub type Received = (Option<String>, Vec<u8>);

/// A webhook receiver on 127.0.0.1: records every body, answers
/// `{"notify_result":"OK"}` while `accept` is set and `FAIL` otherwise.
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    pub bodies: Arc<Mutex<Vec<Received>>>,
    pub accept: Arc<AtomicBool>,
}

impl Receiver {
    pub async fn start(accept: bool) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let receiver = Receiver {
            addr: listener.local_addr().expect("addr"),
            bodies: Arc::default(),
            accept: Arc::new(AtomicBool::new(accept)),
        };
        let shared = receiver.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                let service = service_fn(move |req: http::Request<Incoming>| {
                    let shared = shared.clone();
                    async move {
                        let ct = req
                            .headers()
                            .get(http::header::CONTENT_TYPE)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned);
                        let body = req
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes().to_vec());
                        shared
                            .bodies
                            .lock()
                            .expect("lock")
                            .push((ct, body.unwrap_or_default()));
                        let reply: &[u8] = if shared.accept.load(Ordering::SeqCst) {
                            br#"{"notify_result":"OK"}"#
                        } else {
                            b"FAIL"
                        };
                        Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(
                            reply,
                        ))))
                    }
                });
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        receiver
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn count(&self) -> usize {
        self.bodies.lock().expect("lock").len()
    }

    pub fn received(&self) -> Vec<Received> {
        self.bodies.lock().expect("lock").clone()
    }

    /// Every notification received so far, verified with `m`'s salt.
    pub fn verified(&self, m: &Merchant) -> Vec<Notification> {
        let verifier = m.notification_verifier();
        self.received()
            .iter()
            .map(|(ct, body)| {
                verifier
                    .verify_owned(ct.as_deref(), body)
                    .expect("notification verifies")
                    .notification()
                    .clone()
            })
            .collect()
    }
}

/// Builds `op`, sends it and opens the answer: its items, or ET's refusal.
pub async fn call<Op: Operation>(
    sb: &RunningSandbox,
    m: &Merchant,
    op: &Op,
) -> Result<Vec<Op::Output>, et_proto::Error> {
    let req = m.build(op).expect("request builds");
    send_built::<Op>(sb, m, &req).await
}

/// Sends an already built request and opens the answer.
pub async fn send_built<Op: Operation>(
    sb: &RunningSandbox,
    m: &Merchant,
    req: &BuiltRequest,
) -> Result<Vec<Op::Output>, et_proto::Error> {
    let (status, body) = post(&sb.endpoint_url(), req.body.clone(), Some(CONTENT_TYPE)).await;
    assert_eq!(status, 200);
    m.open::<Op>(req, &body).map(|r| r.items)
}

/// The refusal is signed by ET and carries `code`; returns its message.
pub fn refused<T: std::fmt::Debug>(
    result: Result<T, et_proto::Error>,
    code: SandboxCode,
) -> String {
    match result {
        Err(et_proto::Error::Api {
            code: got,
            message,
            authenticated,
        }) => {
            assert!(
                authenticated,
                "refusal {got:?} must carry a valid ET signature"
            );
            assert_eq!(got.as_str(), code.as_str(), "{message}");
            assert!(!message.is_empty());
            message
        }
        other => panic!("expected refusal {code}, got {other:?}"),
    }
}
