//! Outbound through an HTTP CONNECT proxy: a real one (Debian's
//! `tinyproxy`, started per test on a free loopback port with its own
//! configuration) with TLS end to end to an ET side behind the fixture
//! certificate, with and without basic authentication; and misbehaving
//! proxies, to prove the CONNECT answer is bounded in size and time.
//!
//! Without `tinyproxy` on the PATH the tinyproxy tests say SKIPPED on
//! stderr and pass, unless `ET_REQUIRE_SERVICES=1` (as `.ci/run` sets),
//! when they fail.

use crate::common;

use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use et_http::{Client, Endpoint, Error, Proxy, ProxyError, TransportConfig, TransportError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use common::no_retry;
use common::tls::{et_over_tls, merchant, op, out, CA};

/// A tinyproxy process on 127.0.0.1, killed (and its files removed) on drop.
struct Tinyproxy {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Tinyproxy {
    /// Starts tinyproxy, requiring `BasicAuth user password` when given;
    /// `None` (after printing SKIPPED) when it is not installed.
    async fn start(test: &str, basic_auth: Option<(&str, &str)>) -> Option<Self> {
        let found = Command::new("tinyproxy")
            .arg("-v")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        if !found {
            assert!(
                std::env::var("ET_REQUIRE_SERVICES").as_deref() != Ok("1"),
                "ET_REQUIRE_SERVICES=1 but tinyproxy is not installed: proxy test {test} cannot run"
            );
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED {test}: no tinyproxy (apt-get install tinyproxy, as .ci/run does) ***\n"
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        // A free port: bound, read, released for tinyproxy.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let path = |name: &str| dir.path().join(name).display().to_string();
        let mut conf = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\nAllow 127.0.0.1\n\
             LogLevel Connect\nLogFile \"{}\"\nPidFile \"{}\"\n",
            path("tinyproxy.log"),
            path("tinyproxy.pid"),
        );
        if let Some((user, password)) = basic_auth {
            conf.push_str(&format!("BasicAuth {user} {password}\n"));
        }
        std::fs::write(dir.path().join("tinyproxy.conf"), conf).unwrap();
        let child = Command::new("tinyproxy")
            .arg("-d")
            .arg("-c")
            .arg(dir.path().join("tinyproxy.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tinyproxy");
        let proxy = Tinyproxy { child, port, dir };
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "tinyproxy did not listen on {port} within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Some(proxy)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The CONNECT requests tinyproxy logged.
    fn connects(&self) -> usize {
        read_log(&self.dir.path().join("tinyproxy.log"))
            .lines()
            .filter(|line| line.contains("Request") && line.contains("CONNECT "))
            .count()
    }
}

fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// A client of the ET side on `port` (as `localhost`, which the fixture
/// certificate names) trusting the test CA, through `proxy`.
fn client_via(port: u16, proxy: Option<Proxy>) -> Client {
    let endpoint = Endpoint::parse(&format!("https://localhost:{port}/server")).unwrap();
    let mut config = TransportConfig {
        proxy,
        ..no_retry()
    };
    config.add_root_certificates_pem(CA).unwrap();
    Client::with_config(endpoint, merchant(), config).unwrap()
}

/// How a `get_rate` through `proxy` to ET on `port` fails.
async fn rate_error_via(port: u16, proxy: Proxy) -> Error {
    let client = client_via(port, Some(proxy));
    client.get_rate(&op()).await.unwrap_err()
}

#[tokio::test]
async fn https_runs_end_to_end_through_tinyproxy() {
    let Some(tinyproxy) = Tinyproxy::start("https_runs_end_to_end_through_tinyproxy", None).await
    else {
        return;
    };
    let (port, seen) = et_over_tls().await;
    let client = client_via(port, Some(Proxy::parse(&tinyproxy.url()).unwrap()));
    for _ in 0..2 {
        assert_eq!(client.get_rate(&op()).await.unwrap().items, vec![out()]);
    }
    // One tunnel, kept alive in the pool for both calls.
    assert_eq!((seen.requests(), seen.connections()), (2, 1));
    assert_eq!(tinyproxy.connects(), 1, "the calls went through the proxy");
}

#[tokio::test]
async fn tinyproxy_with_basic_auth_takes_only_the_right_credentials() {
    let test = "tinyproxy_with_basic_auth_takes_only_the_right_credentials";
    let Some(tinyproxy) = Tinyproxy::start(test, Some(("merchant", "s3cret"))).await else {
        return;
    };
    let (port, seen) = et_over_tls().await;
    let bare = Proxy::parse(&tinyproxy.url()).unwrap();
    for proxy in [
        bare.clone(),
        bare.clone().with_basic_auth("merchant", "wrong"),
    ] {
        let err = rate_error_via(port, proxy).await;
        assert!(
            matches!(
                err,
                Error::Transport(TransportError::Proxy(ProxyError::Refused {
                    // tinyproxy answers 401, not 407.
                    status: 401 | 407
                }))
            ),
            "{err}"
        );
        assert!(!err.may_have_reached_et());
    }
    assert_eq!(seen.connections(), 0, "nothing passed the proxy");
    let url = format!("http://merchant:s3cret@127.0.0.1:{}", tinyproxy.port);
    for proxy in [
        bare.with_basic_auth("merchant", "s3cret"),
        Proxy::parse(&url).unwrap(),
    ] {
        let client = client_via(port, Some(proxy));
        assert_eq!(client.get_rate(&op()).await.unwrap().items, vec![out()]);
    }
    assert_eq!(seen.requests(), 2);
}

#[tokio::test]
async fn no_proxy_hosts_are_reached_directly() {
    let (port, seen) = et_over_tls().await;
    // Nothing listens on port 1: only a direct connection succeeds.
    let unreachable = Proxy::parse("http://127.0.0.1:1").unwrap();
    let err = rate_error_via(port, unreachable.clone()).await;
    assert!(common::connect_attempts(&err).is_some(), "{err}");
    let direct = unreachable.with_no_proxy("example.org, .localhost, localhost");
    let client = client_via(port, Some(direct));
    assert_eq!(client.get_rate(&op()).await.unwrap().items, vec![out()]);
    assert_eq!(seen.requests(), 1);
}

/// `HTTPS_PROXY` names a dead proxy: a client ignores it unless built with
/// `Proxy::from_env`. (No other test reads the proxy variables.)
#[tokio::test]
async fn the_environment_is_read_only_when_asked() {
    std::env::set_var("HTTPS_PROXY", "http://127.0.0.1:1");
    std::env::set_var("NO_PROXY", "example.org");
    let (port, seen) = et_over_tls().await;
    let direct = client_via(port, None);
    assert_eq!(direct.get_rate(&op()).await.unwrap().items, vec![out()]);
    let from_env = Proxy::from_env().unwrap().expect("HTTPS_PROXY is set");
    assert_eq!(from_env.address(), ("127.0.0.1", 1));
    assert!(!from_env.applies_to("api.example.org"));
    let err = rate_error_via(port, from_env).await;
    assert!(common::connect_attempts(&err).is_some(), "{err}");
    assert_eq!(seen.requests(), 1);
}

/// A fake proxy on 127.0.0.1 that reads the CONNECT request and then
/// writes `answer` (called repeatedly until it returns `None`), then
/// holds the connection open.
async fn misbehaving_proxy(answer: impl Fn(usize) -> Option<Vec<u8>> + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 1024];
        let _ = stream.read(&mut request).await;
        let mut i = 0;
        while let Some(bytes) = answer(i) {
            if stream.write_all(&bytes).await.is_err() {
                return;
            }
            i += 1;
        }
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_proxy_answer_head_is_cut_off_at_its_size_limit() {
    let url = misbehaving_proxy(|i| match i {
        0 => Some(b"HTTP/1.1 200 Connection established\r\n".to_vec()),
        // Endless headers, never the blank line.
        _ => Some(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".to_vec()),
    })
    .await;
    let err = rate_error_via(443, Proxy::parse(&url).unwrap()).await;
    assert!(
        matches!(
            err,
            Error::Transport(TransportError::Proxy(ProxyError::HeadTooLarge {
                limit: 8192
            }))
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_silent_proxy_is_cut_off_at_the_connect_timeout() {
    let url = misbehaving_proxy(|_| None).await;
    let endpoint = Endpoint::parse("https://localhost:443/server").unwrap();
    let config = TransportConfig {
        proxy: Some(Proxy::parse(&url).unwrap()),
        connect_timeout: Duration::from_millis(300),
        ..no_retry()
    };
    let client = Client::with_config(endpoint, merchant(), config).unwrap();
    let started = Instant::now();
    let err = client.get_rate(&op()).await.unwrap_err();
    assert!(common::connect_attempts(&err).is_some(), "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_proxy_refusal_and_data_before_the_handshake_are_typed() {
    let refusing =
        misbehaving_proxy(|i| (i == 0).then(|| b"HTTP/1.1 403 Forbidden\r\n\r\n".to_vec())).await;
    let eager = misbehaving_proxy(|i| {
        (i == 0).then(|| b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01".to_vec())
    })
    .await;
    for (url, expected) in [
        (refusing, ProxyError::Refused { status: 403 }),
        (eager, ProxyError::DataAfterHead),
    ] {
        let err = rate_error_via(443, Proxy::parse(&url).unwrap()).await;
        assert!(
            matches!(&err, Error::Transport(TransportError::Proxy(e)) if *e == expected),
            "{err}"
        );
    }
}
