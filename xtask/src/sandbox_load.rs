//! `cargo xtask sandbox-load`: a bounded load test of the local sandbox, on
//! loopback, sandbox and load generator in this one process.
//!
//! 1,000 keep-alive connections send signed `get_rate` requests (built and
//! signed before the clock starts: one unused serial number each) for a
//! fixed time, while 1,000 slowloris connections dribble header bytes (and
//! reconnect when cut off). Prints requests per second, latency
//! percentiles, how the slowloris fared and the process's peak RSS (sandbox
//! and generator together). A benchmark, not a test: it asserts nothing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use et_model::{CurrencyCode, GetRate};
use et_proto::{Credentials, Merchant, Profile, CONTENT_TYPE};
use et_sandbox::{InitOptions, Limits, SandboxConfig, SandboxDir};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const CONNECTIONS: usize = 1_000;
const SLOWLORIS: usize = 1_000;
const RUN: Duration = Duration::from_secs(10);
/// Enough signed requests for 3,000 requests/s over [`RUN`]: the run ends
/// early (fewer connections busy towards its end) when they run out.
const REQUESTS: usize = 30_000;
const FD_LIMIT: u64 = 8_192;

/// What [`run`] measured, for `bench-report`'s targets.
pub(crate) struct Figures {
    pub(crate) requests_per_second: f64,
    pub(crate) p99: Duration,
    /// `VmHWM` in kB, when the kernel reports it.
    pub(crate) peak_rss_kb: Option<u64>,
    pub(crate) errors: usize,
    /// The backend of the sandbox's ET key for signing answers.
    pub(crate) backend: et_crypto::Backend,
}

pub(crate) fn run() -> Result<Figures, String> {
    raise_fd_limit()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(load())
}

fn raise_fd_limit() -> Result<(), String> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current.is_some_and(|c| c >= FD_LIMIT) {
        return Ok(());
    }
    let wanted = limit.maximum.map_or(FD_LIMIT, |m| m.min(FD_LIMIT));
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(wanted),
            maximum: limit.maximum,
        },
    )
    .map_err(|e| format!("raising the open-file limit to {wanted}: {e}"))?;
    if wanted < FD_LIMIT {
        return Err(format!(
            "the open-file limit is {wanted}; {FD_LIMIT} are needed"
        ));
    }
    Ok(())
}

async fn load() -> Result<Figures, String> {
    let dir = std::env::temp_dir().join(format!("et-sandbox-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let info = SandboxDir::init(&dir, &InitOptions::default()).map_err(|e| e.to_string())?;
    let mut limits = Limits::default();
    limits.serve.max_connections = CONNECTIONS + SLOWLORIS + 100;
    let config = SandboxConfig::new(&dir);
    let sandbox = et_sandbox::start_with(config, limits)
        .await
        .map_err(|e| e.to_string())?;
    let addr = sandbox.addr();

    let read = |name: &str| std::fs::read(dir.join(name)).map_err(|e| format!("{name}: {e}"));
    let credentials = Credentials::new(
        info.merchant_number.clone(),
        info.sub_merchant_number.clone(),
        et_crypto::PrivateKey::load(&read(et_sandbox::MERCHANT_PRIVATE_PEM)?)
            .map_err(|e| e.to_string())?,
        et_crypto::PublicKey::load(&read(et_sandbox::ET_PUBLIC_PEM)?).map_err(|e| e.to_string())?,
        info.salt.as_str(),
    );
    let merchant = Merchant::new(credentials, Profile::default());
    // The sandbox loads its key the same way, so it makes the same choice.
    let et_key = et_crypto::PrivateKey::load(&read(et_sandbox::ET_PRIVATE_PEM)?)
        .map_err(|e| e.to_string())?;
    let sign = et_crypto::RsaOperation::Sign(et_crypto::SignHash::Sha256);
    let backend = et_key.backend_for(sign);
    println!(
        "RSA backend (automatic choice, {} bits): sandbox signs answers on {backend:?}",
        et_key.bits()
    );
    let rate = GetRate {
        currency_code: CurrencyCode::new("GBP"),
        pay_currency_code: None,
        extra: Default::default(),
    };
    println!("signing {REQUESTS} get_rate requests (2048-bit keys)...");
    let started = Instant::now();
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let bodies: Vec<Bytes> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    (0..REQUESTS / threads)
                        .map(|_| {
                            merchant
                                .build(&rate, SystemTime::now())
                                .map(|r| Bytes::from(r.body))
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| "a signing thread panicked".to_owned()))
            .try_fold(Vec::new(), |mut all, part| {
                all.extend(part?.map_err(|e| e.to_string())?);
                Ok::<_, String>(all)
            })
    })?;
    // The reference: each answer costs the sandbox one RSA signature too.
    let signatures_per_second = bodies.len() as f64 / started.elapsed().as_secs_f64();
    println!(
        "  {signatures_per_second:.0} signatures/s on the generator's side ({threads} threads)"
    );

    // The slowloris: header bytes one at a time, reconnecting when cut off.
    let cut_off = Arc::new(AtomicUsize::new(0));
    let mut slowloris = tokio::task::JoinSet::new();
    for _ in 0..SLOWLORIS {
        let cut_off = cut_off.clone();
        slowloris.spawn(async move {
            loop {
                let Ok(mut stream) = TcpStream::connect(addr).await else {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                };
                let _ = stream
                    .write_all(b"POST /server HTTP/1.1\r\nHost: x\r\n")
                    .await;
                while stream.write_all(b"X").await.is_ok() {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                cut_off.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(REQUESTS)));
    let errors = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + RUN;
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..CONNECTIONS {
        let (bodies, next, latencies, errors) = (
            bodies.clone(),
            next.clone(),
            latencies.clone(),
            errors.clone(),
        );
        workers.spawn(async move {
            let Ok(stream) = TcpStream::connect(addr).await else {
                errors.fetch_add(1, Ordering::Relaxed);
                return;
            };
            let Ok((mut sender, connection)) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
            else {
                errors.fetch_add(1, Ordering::Relaxed);
                return;
            };
            tokio::spawn(connection);
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { return };
                let request = http::Request::post("/server")
                    .header(http::header::HOST, "127.0.0.1")
                    .header(http::header::CONTENT_TYPE, CONTENT_TYPE)
                    .body(Full::new(body.clone()));
                let Ok(request) = request else { return };
                let sent = Instant::now();
                let answered = async {
                    let response = sender.send_request(request).await.ok()?;
                    let ok = response.status().is_success();
                    response.into_body().collect().await.ok()?;
                    ok.then_some(())
                };
                match answered.await {
                    Some(()) => latencies
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(sent.elapsed()),
                    None => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                }
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let elapsed = started.elapsed();
    slowloris.abort_all();
    sandbox.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);

    let mut latencies = std::mem::take(
        &mut *latencies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "{CONNECTIONS} keep-alive connections, {SLOWLORIS} slowloris connections, {:.1} s",
        elapsed.as_secs_f64()
    );
    println!(
        "  signed get_rate: {} answered, {:.0} requests/s, {} errors",
        latencies.len(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        errors.load(Ordering::Relaxed)
    );
    println!(
        "  = {:.2} x the generator's signing rate in this run (RSA-bound: 1.0)",
        latencies.len() as f64 / elapsed.as_secs_f64() / signatures_per_second
    );
    println!(
        "  latency p50 {:?}, p99 {:?}, max {:?}",
        at(0.50),
        at(0.99),
        at(1.0)
    );
    println!(
        "  slowloris connections cut off by the sandbox: {}",
        cut_off.load(Ordering::Relaxed)
    );
    let peak_rss_kb = status_kb("self", "VmHWM");
    println!(
        "  peak RSS of this process (sandbox + generator): {}",
        peak_rss_kb.map_or("unknown".to_owned(), |kb| format!("{kb} kB"))
    );
    Ok(Figures {
        requests_per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p99: at(0.99),
        peak_rss_kb,
        errors: errors.load(Ordering::Relaxed),
        backend,
    })
}

/// A `kB` field (`VmHWM`, the peak RSS; `VmRSS`) of process `pid`
/// (`self` for this one) from `/proc/PID/status` (Linux).
pub(crate) fn status_kb(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim_start_matches(':')
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}
