//! The sandbox's resource bounds: a client cannot hold connections, memory
//! or time without limit, and malformed requests get the right status.

use crate::common;

use std::path::Path;
use std::time::{Duration, SystemTime};

use et_sandbox::{Limits, RunningSandbox, SandboxConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn start_with(dir: &Path, limits: Limits) -> RunningSandbox {
    et_sandbox::start_with(SandboxConfig::new(dir), limits)
        .await
        .expect("sandbox starts")
}

/// Whether the server closes the connection within `within` (reading EOF or
/// a reset), answering nothing.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    matches!(
        tokio::time::timeout(within, stream.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

/// The status of the answer to the bytes already sent, read within `within`.
async fn status_within(stream: &mut TcpStream, within: Duration) -> Option<u16> {
    let mut got = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).await.ok()?;
            if n == 0 {
                return None;
            }
            got.extend_from_slice(&buf[..n]);
            if let Some(line_end) = got.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&got[..line_end]).into_owned();
                return line.split(' ').nth(1)?.parse().ok();
            }
        }
    };
    tokio::time::timeout(within, read).await.ok().flatten()
}

async fn connect(sandbox: &RunningSandbox) -> TcpStream {
    TcpStream::connect(sandbox.addr()).await.expect("connect")
}

/// A connection to `sandbox` that has sent `bytes`.
async fn sent(sandbox: &RunningSandbox, bytes: &[u8]) -> TcpStream {
    let mut stream = connect(sandbox).await;
    stream.write_all(bytes).await.expect("write");
    stream
}

fn quick_limits() -> Limits {
    let mut limits = Limits::default();
    limits.serve.idle_timeout = Duration::from_millis(300);
    limits.serve.header_read_timeout = Duration::from_millis(300);
    limits
}

#[tokio::test]
async fn a_slowloris_dribbling_headers_is_cut_off() {
    let dir = common::state_dir();
    let sandbox = start_with(dir.path(), quick_limits()).await;
    let stream = sent(&sandbox, b"POST /server HTTP/1.1\r\nHost: sandbox\r\n").await;
    let (mut reader, mut writer) = stream.into_split();
    let dribble = tokio::spawn(async move {
        for _ in 0..100 {
            if writer.write_all(b"X-Slow: 1\r\n").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut buf = [0u8; 64];
    let ended = tokio::time::timeout(Duration::from_secs(3), reader.read(&mut buf)).await;
    assert!(
        matches!(ended, Ok(Ok(0) | Err(_))),
        "headers still trickling in after 3 s; the connection must be closed"
    );
    dribble.abort();
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_idle_timeout() {
    let dir = common::state_dir();
    let sandbox = start_with(dir.path(), quick_limits()).await;
    let mut stream = connect(&sandbox).await;
    assert!(closed_within(&mut stream, Duration::from_secs(3)).await);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_a_slot_frees() {
    let dir = common::state_dir();
    let mut limits = Limits::default();
    limits.serve.max_connections = 2;
    let sandbox = start_with(dir.path(), limits).await;
    let silent = [connect(&sandbox).await, connect(&sandbox).await];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = sent(
        &sandbox,
        b"GET /nowhere HTTP/1.1\r\nHost: localhost\r\n\r\n",
    )
    .await;
    assert_eq!(
        status_within(&mut third, Duration::from_millis(500)).await,
        None,
        "two connections held open: the third is not served yet"
    );
    drop(silent);
    assert_eq!(
        status_within(&mut third, Duration::from_secs(5)).await,
        Some(404),
        "a freed slot serves the waiting connection"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn bodies_in_flight_share_one_budget_and_beyond_it_get_503() {
    let dir = common::state_dir();
    let limits = Limits {
        body_budget: 1 << 20,
        ..Limits::default()
    };
    let sandbox = start_with(dir.path(), limits).await;
    let url = sandbox.endpoint_url();
    let post_100_kb = || common::post(&url, vec![b'y'; 100_000], Some("application/json"));
    // One client sends 200 KB of a chunked body (paying 800 KB of the
    // budget: every body byte costs WORK_FACTOR) and holds the rest.
    assert_eq!(et_sandbox::WORK_FACTOR, 4);
    let mut holder = sent(
        &sandbox,
        b"POST /server HTTP/1.1\r\nHost: sandbox\r\nTransfer-Encoding: chunked\r\n\r\n",
    )
    .await;
    holder.write_all(b"30D40\r\n").await.expect("write");
    holder.write_all(&vec![b'x'; 200_000]).await.expect("write");
    holder.write_all(b"\r\n").await.expect("write");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, _) = post_100_kb().await;
    assert_eq!(status, 503, "the budget is spent by the held body");
    // A declared body that cannot fit is refused before it is sent.
    let declared = b"POST /server HTTP/1.1\r\nHost: sandbox\r\nContent-Length: 300000\r\n\r\n";
    assert_eq!(status_answering(&sandbox, declared).await, Some(503));
    drop(holder);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, _) = post_100_kb().await;
    assert_ne!(
        status, 503,
        "the held bytes are given back when the body is dropped"
    );
    sandbox.shutdown().await;
}

/// The status `sandbox` answers within 3 s to `raw`, written on a new
/// connection.
async fn status_answering(sandbox: &RunningSandbox, raw: &[u8]) -> Option<u16> {
    let mut stream = sent(sandbox, raw).await;
    status_within(&mut stream, Duration::from_secs(3)).await
}

/// Starts a sandbox with `limits` and returns the status it answers to
/// `raw` ([`status_answering`]).
async fn status_of_raw(limits: Limits, raw: &[u8]) -> Option<u16> {
    let dir = common::state_dir();
    let sandbox = start_with(dir.path(), limits).await;
    let status = status_answering(&sandbox, raw).await;
    sandbox.shutdown().await;
    status
}

#[tokio::test]
async fn a_body_slower_than_the_read_timeout_gets_408() {
    let limits = Limits {
        body_read_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let raw = b"POST /server HTTP/1.1\r\nHost: sandbox\r\nContent-Length: 100\r\n\r\n{\"a\"";
    assert_eq!(status_of_raw(limits, raw).await, Some(408));
}

#[tokio::test]
async fn malformed_chunking_is_a_bad_request_not_too_large() {
    let raw = b"POST /server HTTP/1.1\r\nHost: sandbox\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n";
    assert_eq!(status_of_raw(Limits::default(), raw).await, Some(400));
}

#[tokio::test]
async fn other_methods_on_the_api_get_405_with_allow() {
    let dir = common::state_dir();
    let sandbox = start_with(dir.path(), Limits::default()).await;
    for method in ["GET", "PUT", "DELETE"] {
        let request =
            format!("{method} /server HTTP/1.1\r\nHost: sandbox\r\nContent-Length: 0\r\n\r\n");
        let mut stream = sent(&sandbox, request.as_bytes()).await;
        let mut answer = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(3), stream.read(&mut answer))
            .await
            .expect("answered")
            .expect("read");
        let answer = String::from_utf8_lossy(&answer[..n]).to_ascii_lowercase();
        assert!(answer.starts_with("http/1.1 405"), "{method}: {answer}");
        assert!(answer.contains("\r\nallow: post\r\n"), "{method}: {answer}");
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_request_stuck_in_the_database_does_not_stall_the_others() {
    let dir = common::state_dir();
    let sandbox = start_with(dir.path(), Limits::default()).await;
    // Another writer holds the database for 2 s; the sandbox's next write
    // waits for it (SQLite's busy timeout).
    let db = dir.path().join(et_sandbox::DATABASE);
    let (locked, is_locked) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let c = rusqlite::Connection::open(db).expect("open");
        c.execute_batch("BEGIN IMMEDIATE").expect("lock");
        locked.send(()).expect("send");
        std::thread::sleep(Duration::from_secs(2));
        c.execute_batch("ROLLBACK").expect("unlock");
    });
    is_locked.recv().expect("locked");
    let started = std::time::Instant::now();
    let m = common::merchant(dir.path());
    let rate = et_model::GetRate {
        currency_code: et_model::CurrencyCode::new("GBP"),
        pay_currency_code: None,
        extra: Default::default(),
    };
    let request = m.build(&rate, SystemTime::now()).expect("request builds");
    let url = sandbox.endpoint_url();
    let stuck = tokio::spawn(async move {
        common::post(&url, request.body, Some(et_proto::CONTENT_TYPE)).await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, _) = common::get(&format!("http://{}/nowhere", sandbox.addr())).await;
    assert_eq!(status, 404);
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "answered {:?} after the database was locked, behind the stuck request",
        started.elapsed()
    );
    assert_eq!(stuck.await.expect("stuck request").0, 200);
    holder.join().expect("holder");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_second_sandbox_on_one_directory_is_refused_until_the_first_stops() {
    let dir = common::state_dir();
    let first = start_with(dir.path(), Limits::default()).await;
    let config = SandboxConfig::new(dir.path());
    match et_sandbox::start(config.clone()).await {
        Err(e @ et_sandbox::Error::Locked { .. }) => {
            assert!(e.to_string().contains("another sandbox"), "{e}");
        }
        other => panic!("expected Error::Locked, got {other:?}"),
    }
    first.shutdown().await;
    let second = et_sandbox::start(config)
        .await
        .expect("the lock is released");
    second.shutdown().await;
}

/// `POST` to a clock route: the status and `now` (or the refusal).
async fn clock(sandbox: &et_sandbox::RunningSandbox, route: &str) -> (u16, String) {
    let url = format!("http://{}/admin/clock/{route}", sandbox.addr());
    let (status, body) = common::post(&url, b"{}".to_vec(), Some("application/json")).await;
    let body = String::from_utf8_lossy(&body).into_owned();
    let now = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["now"].as_str().map(str::to_owned));
    (status, now.unwrap_or(body))
}

/// The clock can be moved at most 100 years ahead of real time; there it
/// still moves, and a reset brings it back with every retry, even from a
/// database an older sandbox froze at 9999-12-31 with retries due in the
/// year 10000.
#[tokio::test]
async fn the_clock_keeps_moving_and_every_retry_comes_due() {
    let dir = common::state_dir();
    let config = |time_scale| SandboxConfig {
        time_scale,
        ..SandboxConfig::new(dir.path())
    };
    for scale in [1e308, et_sandbox::MAX_TIME_SCALE * 2.0] {
        match et_sandbox::start(config(scale)).await {
            Err(et_sandbox::Error::Config { reason, .. }) => assert!(reason.contains("at most")),
            other => panic!("time scale {scale}: expected a refusal, got {other:?}"),
        }
    }
    let sandbox = et_sandbox::start(config(1000.0)).await.expect("starts");
    let (_, today) = clock(&sandbox, "advance?seconds=0").await;
    for huge in ["18446744073709551615", "999999999999"] {
        let (status, _) = clock(&sandbox, &format!("advance?seconds={huge}")).await;
        assert_eq!(status, 400, "{huge}");
    }
    let ten_years = et_sandbox::MAX_ADVANCE.as_secs();
    let mut advances = 0;
    while clock(&sandbox, &format!("advance?seconds={ten_years}"))
        .await
        .0
        == 200
    {
        advances += 1;
        assert!(advances < 20, "the clock must stop being advanced");
    }
    assert_eq!(advances, 9, "a hundred years ahead at most");
    let (_, capped) = clock(&sandbox, "advance?seconds=0").await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (status, later) = clock(&sandbox, "advance?seconds=0").await;
    assert_eq!(status, 200, "not frozen: {later}");
    assert!(
        later > capped,
        "time still moves at the bound: {capped} then {later}"
    );

    // A notification failing at the bound, then a reset: its retry comes.
    let m = common::merchant(dir.path());
    let hook = common::Receiver::start(false).await;
    let op = et_model::CreateOrder {
        notify_url: Some(hook.url("/n")),
        ..et_testkit::order("CLOCK-1", "10.00")
    };
    let id = common::call(&sandbox, &m, &op).await.expect("created")[0]
        .order_id
        .clone();
    sandbox.pay(&id).expect("pays");
    let tried = common::wait_for(Duration::from_secs(10), || {
        (hook.count() >= 1).then_some(())
    });
    assert!(tried.await.is_some(), "the first attempt");
    let (status, now) = clock(&sandbox, "reset").await;
    assert_eq!((status, &now[..4]), (200, &today[..4]), "back to real time");
    let retried = common::wait_for(Duration::from_secs(10), || {
        (hook.count() >= 3).then_some(())
    });
    assert!(
        retried.await.is_some(),
        "the retries came due: {}",
        hook.count()
    );
    let (_, page) = common::get(&format!("http://{}/", sandbox.addr())).await;
    assert!(String::from_utf8_lossy(&page).contains("data-post=\"/admin/clock/reset\""));
    sandbox.shutdown().await;

    // What an older sandbox left: the clock saved at 9999-12-31 23:59:59 and
    // every retry due in the year 10000.
    const FROZEN: i64 = 253_402_271_999_000;
    let db = rusqlite::Connection::open(dir.path().join(et_sandbox::DATABASE)).expect("open");
    let frozen = db
        .execute(
            "UPDATE meta SET value = ?1 WHERE key = 'clock_ms'",
            [FROZEN.to_string()],
        )
        .expect("update");
    assert_eq!(frozen, 1, "the clock is saved");
    let pending = db
        .execute(
            "UPDATE outbox SET next_attempt_at = ?1, attempts = 1",
            [FROZEN + 1_000],
        )
        .expect("update");
    assert!(pending >= 1);
    drop(db);
    let before = hook.count();
    // It starts at the bound, where an advance says how to go on.
    let sandbox = et_sandbox::start(config(1000.0))
        .await
        .expect("starts again");
    let (status, refused) = clock(&sandbox, "advance?seconds=60").await;
    assert_eq!(status, 400);
    assert!(refused.contains("reset the clock"), "{refused}");
    let (status, now) = clock(&sandbox, "reset").await;
    assert_eq!((status, &now[..4]), (200, &today[..4]));
    let (status, _) = clock(&sandbox, "advance?seconds=60").await;
    assert_eq!(status, 200, "advances are not refused for good");
    let retried = common::wait_for(Duration::from_secs(10), || {
        (hook.count() > before).then_some(())
    });
    assert!(retried.await.is_some(), "the year-10000 retries came due");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn admin_routes_refuse_what_a_cross_site_form_can_send() {
    let dir = common::state_dir();
    let sandbox = start_with(dir.path(), Limits::default()).await;
    let advance = format!("http://{}/admin/clock/advance?seconds=60", sandbox.addr());
    let close = format!("http://{}/admin/orders/ET1/close", sandbox.addr());
    for url in [&advance, &close] {
        for content_type in [
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("text/plain"),
            None,
        ] {
            let (status, _) = common::post(url, b"{}".to_vec(), content_type).await;
            assert_eq!(status, 415, "{url} with {content_type:?}");
        }
    }
    let (status, _) = common::post(&advance, b"{}".to_vec(), Some("application/json")).await;
    assert_eq!(status, 200);
    let (status, _) = common::post(
        &close,
        b"{}".to_vec(),
        Some("Application/JSON; charset=utf-8"),
    )
    .await;
    assert_eq!(status, 404, "JSON reaches the route (no such order)");
    sandbox.shutdown().await;
}

/// `sandbox.lock` is the state directory's like every other file there:
/// owner-only, and never opened through a symbolic link (which would
/// create or lock whatever file the link names).
#[cfg(unix)]
#[tokio::test]
async fn the_lock_file_is_owner_only_and_never_a_symbolic_link() {
    use std::os::unix::fs::PermissionsExt;
    let dir = common::state_dir();
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let target = elsewhere.path().join("planted");
    let lock = dir.path().join(et_sandbox::LOCK_FILE);
    std::os::unix::fs::symlink(&target, &lock).expect("symlink");
    match et_sandbox::start(SandboxConfig::new(dir.path())).await {
        Err(et_sandbox::Error::Io { path, .. }) => assert_eq!(path, lock),
        other => panic!("expected the link refused, got {other:?}"),
    }
    assert!(!target.exists(), "nothing created through the link");
    std::fs::remove_file(&lock).expect("rm");
    std::fs::write(&lock, b"").expect("an older lock file");
    std::fs::set_permissions(&lock, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let sandbox = et_sandbox::start(SandboxConfig::new(dir.path()))
        .await
        .expect("starts");
    let mode = std::fs::metadata(&lock)
        .expect("lock file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    sandbox.shutdown().await;
}

/// ET's endpoint takes JSON: `Content-Type: application/json`, or none at
/// all (ET's own demo sends none). Anything else, what an HTML form or a
/// page's script can send without a preflight, is 415 before the body is
/// read, and a browser's cross-site request is 403.
#[tokio::test]
async fn the_api_takes_json_and_refuses_other_bodies_unread() {
    let dir = common::state_dir();
    let sandbox = start_with(dir.path(), Limits::default()).await;
    let url = sandbox.endpoint_url();
    for content_type in [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
    ] {
        let (status, _) = common::post(&url, b"{}".to_vec(), Some(content_type)).await;
        assert_eq!(status, 415, "{content_type}");
    }
    let json = ("content-type", "application/json");
    for foreign in [
        ("origin", "http://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let request = common::request(http::Method::POST, &url, &[json, foreign], "{}");
        let (status, _, _) = common::fetch(request).await;
        assert_eq!(status, 403, "{foreign:?}");
    }
    for content_type in [
        Some("application/json"),
        Some("Application/JSON; charset=utf-8"),
        None,
    ] {
        let (status, body) = common::post(&url, b"[]".to_vec(), content_type).await;
        assert_eq!(status, 200, "{content_type:?}");
        assert!(String::from_utf8_lossy(&body).contains("100001"));
    }
    // Refused unread: a body that would not fit in the budget is not waited for.
    let mut raw = connect(&sandbox).await;
    raw.write_all(
        b"POST /server HTTP/1.1\r\nHost: sandbox\r\nContent-Type: text/plain\r\n\
          Content-Length: 20000000\r\n\r\n",
    )
    .await
    .expect("write");
    assert_eq!(
        status_within(&mut raw, Duration::from_secs(3)).await,
        Some(415)
    );
    sandbox.shutdown().await;
}
