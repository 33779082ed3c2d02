//! `cargo xtask sandbox-memory`: the sandbox's peak memory under the
//! largest requests it takes, measured in a process of its own.
//!
//! The sandbox runs in a child process (this program again, as
//! `sandbox-memory-serve DIR`), with the default `Limits`; this process
//! builds the envelopes and sends them. Three valid `upload_attachment`
//! envelopes of about 18.7 MB at a time, ten rounds; then the same with a
//! broken signature, ten rounds. A request the budget refuses (503, or the
//! connection closed before the body was sent) is sent again 100 ms later
//! until it is answered, as a client backing off would. After each phase
//! it prints the child's peak RSS (`VmHWM`) and RSS (`VmRSS`) beside the
//! body budget, and how often the budget refused. A measurement, not a
//! test: it asserts nothing.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use et_model::{AttachmentType, CreateOrder, UploadAttachment};
use et_proto::{Credentials, Merchant, Profile, CONTENT_TYPE};
use et_sandbox::{InitOptions, Limits, SandboxConfig, SandboxDir};
use http_body_util::{BodyExt, Full};

/// Requests sent at once.
const AT_ONCE: usize = 3;
/// Rounds of each phase.
const ROUNDS: usize = 10;
/// Base64 characters of each attachment: an envelope of about 18.7 MB.
const ATTACHMENT_B64: usize = 18_700_000;

/// `sandbox-memory`: the parent.
pub(crate) fn run() -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("et-sandbox-memory-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let info = SandboxDir::init(&dir, &InitOptions::default()).map_err(|e| e.to_string())?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .arg("sandbox-memory-serve")
        .arg(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting the sandbox process: {e}"))?;
    let measured = measure(&mut child, &dir, &info);
    // Closing its stdin stops the child.
    drop(child.stdin.take());
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    measured
}

fn measure(
    child: &mut Child,
    dir: &std::path::Path,
    info: &et_sandbox::MerchantInfo,
) -> Result<(), String> {
    let mut line = String::new();
    BufReader::new(child.stdout.take().ok_or("no stdout")?)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let addr = line.trim().to_owned();
    let pid = child.id().to_string();
    let read = |name: &str| std::fs::read(dir.join(name)).map_err(|e| format!("{name}: {e}"));
    let merchant = Merchant::new(
        Credentials::new(
            info.merchant_number.clone(),
            info.sub_merchant_number.clone(),
            et_crypto::PrivateKey::load(&read(et_sandbox::MERCHANT_PRIVATE_PEM)?)
                .map_err(|e| e.to_string())?,
            et_crypto::PublicKey::load(&read(et_sandbox::ET_PUBLIC_PEM)?)
                .map_err(|e| e.to_string())?,
            info.salt.as_str(),
        ),
        Profile::default(),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let budget = Limits::default().body_budget;
        println!(
            "sandbox in process {pid} at {addr}; body budget {} MiB, {AT_ONCE} requests at once, {ROUNDS} rounds",
            budget >> 20
        );
        println!("  at start: {}", figures(&pid));
        let mut orders = Vec::new();
        for n in 0..ROUNDS {
            let op = order(n)?;
            let req = merchant.build(&op, SystemTime::now()).map_err(|e| e.to_string())?;
            let (_, body) = post(&addr, Bytes::from(req.body.clone())).await?;
            let created = merchant.open::<CreateOrder>(&req, &body, SystemTime::now()).map_err(|e| e.to_string())?;
            orders.push(created.items[0].order_id.clone());
        }
        let attachment = "QUJD".repeat(ATTACHMENT_B64 / 4);
        for (phase, forged) in [("valid uploads", false), ("bad signatures", true)] {
            let started = Instant::now();
            let mut statuses = std::collections::BTreeMap::new();
            for order in &orders {
                let mut bodies = Vec::new();
                for _ in 0..AT_ONCE {
                    let op = UploadAttachment {
                        order_id: order.clone(),
                        attachment_type: AttachmentType::OfferLetter,
                        base64: attachment.clone(),
                        file_name: "offer.pdf".into(),
                        extra: Default::default(),
                    };
                    let mut body = merchant.build(&op, SystemTime::now()).map_err(|e| e.to_string())?.body;
                    if forged {
                        forge(&mut body);
                    }
                    bodies.push(Bytes::from(body));
                }
                let size = bodies[0].len();
                let sent: Vec<_> = bodies
                    .into_iter()
                    .map(|body| tokio::spawn(post_until_taken(addr.clone(), body)))
                    .collect();
                for answer in sent {
                    let (status, refused) = answer.await.map_err(|e| e.to_string())??;
                    *statuses.entry(status).or_insert(0) += 1;
                    *statuses.entry(503).or_insert(0) += refused;
                }
                if order == &orders[0] {
                    println!("  {phase}: envelopes of {:.1} MB", size as f64 / 1e6);
                }
            }
            println!(
                "  after {phase} ({:.1} s, HTTP statuses {statuses:?}): {}",
                started.elapsed().as_secs_f64(),
                figures(&pid)
            );
        }
        Ok::<_, String>(())
    })
}

/// A minimal order with its own merchant order id.
fn order(n: usize) -> Result<CreateOrder, String> {
    Ok(CreateOrder::new(
        format!("MEM-{n}"),
        "student-1".to_owned(),
        et_model::CountryCode::from_code("GBR"),
        et_model::CurrencyCode::new("GBP"),
        et_model::Amount::new("100.00").map_err(|e| e.to_string())?,
    ))
}

/// Breaks the envelope's signature (its first Base64 character).
fn forge(body: &mut [u8]) {
    let key = b"\"sign\":\"";
    if let Some(at) = body.windows(key.len()).position(|w| w == key) {
        let i = at + key.len();
        body[i] = if body[i] == b'A' { b'B' } else { b'A' };
    }
}

/// Posts `body` until the budget takes it: the final status, and how
/// many times it was refused first (503, or closed before the body went).
async fn post_until_taken(addr: String, body: Bytes) -> Result<(u16, usize), String> {
    let mut refused = 0;
    loop {
        match post(&addr, body.clone()).await {
            Ok((503, _)) | Err(_) if refused < 10_000 => {
                refused += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Ok((status, _)) => return Ok((status, refused)),
            Err(e) => return Err(e),
        }
    }
}

async fn post(addr: &str, body: Bytes) -> Result<(u16, Bytes), String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let request = http::Request::post("/server")
        .header(http::header::HOST, addr)
        .header(http::header::CONTENT_TYPE, CONTENT_TYPE)
        .body(Full::new(body))
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, body))
}

/// The child's peak RSS and RSS, in MiB.
fn figures(pid: &str) -> String {
    let kb = |field| {
        crate::sandbox_load::status_kb(pid, field)
            .map_or("?".into(), |kb| format!("{:.0} MiB", kb as f64 / 1024.0))
    };
    format!("peak RSS {}, RSS {}", kb("VmHWM"), kb("VmRSS"))
}

/// `sandbox-memory-serve DIR`: the child. Serves the sandbox on a free
/// loopback port (printed on stdout) until stdin closes.
pub(crate) fn serve(dir: &str) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let sandbox = et_sandbox::start_with(SandboxConfig::new(dir), Limits::default())
            .await
            .map_err(|e| e.to_string())?;
        println!("{}", sandbox.addr());
        let mut sink = Vec::new();
        let _ = tokio::task::spawn_blocking(move || {
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink)
        })
        .await;
        sandbox.shutdown().await;
        Ok(())
    })
}
