//! The processes of `cargo xtask inbox-load` (which starts them; see
//! xtask/src/inbox_load.rs), all on loopback and one PostgreSQL database:
//!
//! * `reset --pg URL`: empties the load test's schema;
//! * `node --pg URL [--listen ADDR]`: one receiver instance (et-http's
//!   `WebhookReceiver` storing into the inbox) with two consumers
//!   (`Inbox::run`) that mark each event done in one transaction with the
//!   "business logic" (a row in `load_processed`); prints `listening ADDR`;
//! * `terminate --pg URL`: ends every inbox connection to the database
//!   (`pg_terminate_backend`, found by their `application_name`), as an
//!   administrator or a failover would; prints `terminated N`;
//! * `send --pg URL --nodes A,B,.. [--deliveries N] [--seconds T]`: ET's
//!   side: N signed deliveries, 10% of them duplicates (half sent at the
//!   same moment to two instances, half again later), each retried on
//!   another instance until acknowledged, as ET retries; prints `progress
//!   K` as deliveries are acknowledged, then checks the database once the
//!   consumers are idle and prints the result line;
//! * `raw --pg URL [--clients N] [--seconds T]`: PostgreSQL's own rate for
//!   the inbox's kind of write, the reference `inbox-load` compares with:
//!   N clients (default 4), each on its own connection, insert single rows
//!   with `INSERT … ON CONFLICT DO NOTHING`, each its own committed
//!   transaction, for T seconds (default 5); prints `raw R inserts/s`.

use std::collections::VecDeque;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use et_http::WebhookReceiver;
use et_inbox::{Claimed, Error, Inbox, InboxConfig, PgStore, Store};
use et_proto::{
    sign_notification, NotificationVerifier, Profile, UntypedObject, UntypedValue, ACK_OK,
};
use http_body_util::{BodyExt, Full};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

const SALT: &str = "inbox-load-salt";
const SCHEMA: &str = "inbox_load";
/// Deliveries in flight at once.
const IN_FLIGHT: usize = 64;

type Failure = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|at| args.get(at + 1))
            .cloned()
    };
    let Some(pg) = flag("--pg") else {
        eprintln!("inbox_load: --pg URL is required");
        return ExitCode::FAILURE;
    };
    let url = schema_url(&pg);
    let result = match args.first().map(String::as_str) {
        Some("reset") => reset(&pg).await,
        Some("terminate") => terminate(&pg).await,
        Some("node") => node(&url, flag("--listen").as_deref()).await,
        Some("raw") => {
            let number = |name, default| flag(name).and_then(|v| v.parse().ok()).unwrap_or(default);
            raw(
                &url,
                number("--clients", 4),
                Duration::from_secs(number("--seconds", 5) as u64),
            )
            .await
        }
        Some("send") => {
            let nodes: Vec<String> = flag("--nodes")
                .unwrap_or_default()
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            let number = |name, default| flag(name).and_then(|v| v.parse().ok()).unwrap_or(default);
            send(
                &url,
                &nodes,
                number("--deliveries", 20_000),
                Duration::from_secs(number("--seconds", 300) as u64),
            )
            .await
        }
        _ => Err("usage: inbox_load reset|node|terminate|send|raw --pg URL ...".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut message = e.to_string();
            let mut cause = e.source();
            while let Some(c) = cause {
                message = format!("{message}: {c}");
                cause = c.source();
            }
            eprintln!("inbox_load: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `url` with every connection's `search_path` set to the load test's schema.
fn schema_url(url: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20search_path%3D{SCHEMA}")
}

async fn reset(url: &str) -> Result<(), Failure> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA};
             CREATE TABLE {SCHEMA}.load_processed (dedup_key TEXT NOT NULL, node INT NOT NULL);"
        ))
        .await?;
    Ok(())
}

/// PostgreSQL's raw single-row insert rate: `clients` connections, each
/// inserting distinct keys one committed transaction at a time, for `run`.
async fn raw(url: &str, clients: usize, run: Duration) -> Result<(), Failure> {
    let mut connections = Vec::with_capacity(clients);
    for _ in 0..clients.max(1) {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        connections.push(client);
    }
    connections[0]
        .batch_execute("DROP TABLE IF EXISTS load_raw; CREATE TABLE load_raw (k TEXT PRIMARY KEY)")
        .await?;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (n, client) in connections.into_iter().enumerate() {
        tasks.spawn(async move {
            let insert = client
                .prepare("INSERT INTO load_raw (k) VALUES ($1) ON CONFLICT DO NOTHING")
                .await?;
            let mut done = 0u64;
            while started.elapsed() < run {
                client.execute(&insert, &[&format!("{n}:{done}")]).await?;
                done += 1;
            }
            Ok::<u64, tokio_postgres::Error>(done)
        });
    }
    let mut total = 0;
    while let Some(done) = tasks.join_next().await {
        total += done??;
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    println!("raw {rate:.0} inserts/s ({total} by {clients} clients)");
    Ok(())
}

async fn node(url: &str, listen: Option<&str>) -> Result<(), Failure> {
    let store = PgStore::connect(url, 8).await?;
    let config = InboxConfig {
        batch_size: 64,
        // Short, so that a killed instance's batch comes back quickly.
        lease: Duration::from_secs(3),
        poll_interval: Duration::from_millis(20),
        ..InboxConfig::default()
    };
    let inbox = Inbox::new(store, config);
    let listener = TcpListener::bind(listen.unwrap_or("127.0.0.1:0")).await?;
    println!("listening {}", listener.local_addr()?);
    let verifier = NotificationVerifier::new(SALT, Profile::default().notify_sign_rule);
    let receiver = WebhookReceiver::new(verifier, inbox.handler());
    let node = std::process::id() as i32;
    for _ in 0..2 {
        tokio::spawn(consume(inbox.clone(), node));
    }
    et_http::serve(listener, receiver, std::future::pending::<()>()).await;
    Ok(())
}

/// Processes each event in one transaction with its mark-done, the
/// PostgreSQL way to exactly-once effect; `Inbox::run` renews the lease
/// meanwhile and retries what the database refused.
async fn consume(inbox: Inbox<PgStore>, node: i32) {
    let store = inbox.store().clone();
    let process = move |claim: Claimed| {
        let store = store.clone();
        async move {
            let done = store.begin_completion(&claim).await?;
            done.client()
                .execute(
                    "INSERT INTO load_processed (dedup_key, node) VALUES ($1, $2)",
                    &[&claim.dedup_key, &node],
                )
                .await?;
            done.commit().await
        }
    };
    inbox.run(process, std::future::pending()).await;
}

/// Ends every inbox connection to the database but this one.
async fn terminate(url: &str) -> Result<(), Failure> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    let ended: i64 = client
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE application_name = $1 AND datname = current_database()
               AND pid <> pg_backend_pid()",
            &[&et_inbox::APPLICATION_NAME],
        )
        .await?
        .get(0);
    println!("terminated {ended}");
    Ok(())
}

/// One event's deliveries: to one instance, or at the same moment to two.
struct Job {
    event: usize,
    targets: Vec<usize>,
}

/// The deliveries in a fixed pseudo-random order: `unique` events once, a
/// tenth of the deliveries again (half simultaneous, half later).
fn plan(deliveries: usize, nodes: usize) -> (usize, VecDeque<Job>) {
    let duplicates = deliveries / 10;
    let unique = deliveries - duplicates;
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |below: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % below as u64) as usize
    };
    let mut jobs: Vec<Job> = (0..unique)
        .map(|event| Job {
            event,
            targets: vec![event % nodes],
        })
        .collect();
    for d in 0..duplicates {
        let event = next(unique);
        if d % 2 == 0 {
            // The same moment, another instance.
            jobs[event]
                .targets
                .push((event + 1 + next(nodes - 1)) % nodes);
        } else {
            jobs.push(Job {
                event,
                targets: vec![next(nodes)],
            });
        }
    }
    for i in (1..jobs.len()).rev() {
        jobs.swap(i, next(i + 1));
    }
    (unique, jobs.into())
}

fn body(event: usize) -> Bytes {
    let fields: UntypedObject = [
        (
            "order_id",
            UntypedValue::string(format!("ETLOAD{event:010}")),
        ),
        ("pay_result", UntypedValue::integer(1)),
        ("pay_amount", UntypedValue::string("10000.00")),
        ("pay_datetime", UntypedValue::string("2026-12-02 10:00:00")),
        ("extend_info", UntypedValue::string("")),
    ]
    .into_iter()
    .collect();
    Bytes::from(sign_notification(SALT, fields))
}

type HttpClient = et_http::PlainHttpClient;

/// Delivers `event` to `nodes[first]` until acknowledged, moving to the
/// next instance after each failure (a load balancer would); `Err` when
/// the time is up.
async fn deliver(
    http: &HttpClient,
    nodes: &[String],
    first: usize,
    event: usize,
    until: Instant,
    retries: &AtomicUsize,
) -> Result<(), Failure> {
    let body = body(event);
    let mut at = first;
    loop {
        let request = http::Request::post(format!("http://{}/et/notify", nodes[at]))
            .header("content-type", "application/json")
            .body(Full::new(body.clone()))?;
        if let Ok(Ok(response)) =
            tokio::time::timeout(Duration::from_secs(10), http.request(request)).await
        {
            let ok = response.status() == 200;
            if let Ok(answer) = response.into_body().collect().await {
                if ok && answer.to_bytes() == ACK_OK {
                    return Ok(());
                }
            }
        }
        if Instant::now() > until {
            return Err(format!("event {event} not acknowledged in time").into());
        }
        retries.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(50)).await;
        at = (at + 1) % nodes.len();
    }
}

async fn send(
    url: &str,
    nodes: &[String],
    deliveries: usize,
    limit: Duration,
) -> Result<(), Failure> {
    if nodes.len() < 2 {
        return Err("--nodes needs at least two instances".into());
    }
    let started = Instant::now();
    let until = started + limit;
    let (unique, jobs) = plan(deliveries, nodes.len());
    let http: HttpClient = et_http::plain_http_client();
    let nodes: Arc<[String]> = nodes.into();
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let retries = Arc::new(AtomicUsize::new(0));
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut tasks = tokio::task::JoinSet::new();
    for job in jobs {
        let slot = Arc::clone(&slots).acquire_owned().await?;
        let (http, nodes, acknowledged, retries) = (
            http.clone(),
            Arc::clone(&nodes),
            Arc::clone(&acknowledged),
            Arc::clone(&retries),
        );
        tasks.spawn(async move {
            let _slot = slot;
            let mut both = tokio::task::JoinSet::new();
            for target in job.targets {
                let (http, nodes, retries) =
                    (http.clone(), Arc::clone(&nodes), Arc::clone(&retries));
                both.spawn(async move {
                    deliver(&http, &nodes, target, job.event, until, &retries).await
                });
            }
            while let Some(done) = both.join_next().await {
                done??;
                let n = acknowledged.fetch_add(1, Ordering::Relaxed) + 1;
                if n % 1000 == 0 {
                    println!("progress {n}");
                }
            }
            Ok::<(), Failure>(())
        });
        while let Some(done) = tasks.try_join_next() {
            done??;
        }
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let sending = started.elapsed();
    let delivered = acknowledged.load(Ordering::Relaxed);
    println!(
        "sent: {delivered} deliveries acknowledged, {} attempts failed and were retried",
        retries.load(Ordering::Relaxed)
    );
    check(url, unique, delivered, sending, until).await
}

/// Waits (bounded) until the consumers are idle, then compares the
/// database with what was sent, and prints the result line.
async fn check(
    url: &str,
    unique: usize,
    delivered: usize,
    sending: Duration,
    until: Instant,
) -> Result<(), Failure> {
    let store = PgStore::connect(url, 1).await?;
    loop {
        let counts = store.counts().await?;
        if counts.pending == 0 && counts.claimed == 0 {
            break;
        }
        if Instant::now() > until {
            return Err(format!("consumers did not finish in time: {counts:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let one = |sql: &'static str| {
        let store = store.clone();
        async move {
            let rows = store.query(sql, &[]).await?;
            Ok::<i64, Error>(rows.first().map_or(0, |row| row.get(0)))
        }
    };
    let stored = one("SELECT count(*) FROM et_inbox_events").await? as usize;
    let orders = one("SELECT count(DISTINCT order_id) FROM et_inbox_events").await? as usize;
    let expected_present = store
        .query(
            "SELECT count(*) FROM et_inbox_events
             WHERE order_id = ANY(SELECT 'ETLOAD' || lpad(n::text, 10, '0')
                                  FROM generate_series(0, $1::bigint - 1) AS n)",
            &[&(unique as i64)],
        )
        .await?
        .first()
        .map_or(0, |row| row.get::<_, i64>(0)) as usize;
    let counts = store.counts().await?;
    let (done, dead) = (counts.done as usize, counts.dead as usize);
    let reclaimed = one("SELECT count(*) FROM et_inbox_events WHERE attempts > 1").await?;
    let processed = one("SELECT count(*) FROM load_processed").await? as usize;
    let processed_keys =
        one("SELECT count(DISTINCT dedup_key) FROM load_processed").await? as usize;
    let lost = unique.saturating_sub(expected_present);
    let stored_twice = stored - orders;
    let processed_twice = processed - processed_keys;
    let unprocessed = stored.saturating_sub(processed_keys);
    println!(
        "events: {unique} unique; stored {stored} ({orders} orders); marked done {done}, dead {dead}; processed {processed} times ({processed_keys} events); claimed more than once (lease ended): {reclaimed}"
    );
    let rate = delivered as f64 / sending.as_secs_f64();
    println!(
        "{delivered} delivered, {stored} stored once, {lost} lost, {} duplicated ({rate:.0} deliveries/s over {:.1} s)",
        stored_twice + processed_twice,
        sending.as_secs_f64()
    );
    if lost > 0 || stored_twice > 0 || processed_twice > 0 || unprocessed > 0 || done != stored {
        return Err(format!(
            "FAILED: {lost} lost, {stored_twice} stored twice, {processed_twice} processed twice, {unprocessed} never processed"
        )
        .into());
    }
    Ok(())
}
