//! The sandbox's resource bounds ([`Limits`]) and reading a request body
//! within them: a per-request size limit, a read deadline and one memory
//! budget shared by every request in flight, which pays for each body and
//! the copies made while handling it ([`WORK_FACTOR`]).

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use et_http::ServeConfig;
use http::header::CONTENT_LENGTH;
use http::{HeaderMap, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::Semaphore;

/// Largest `POST /server` body accepted (attachments travel inline as
/// Base64).
pub const MAX_BODY: usize = 20 * 1024 * 1024;

/// Bytes of [`Limits::body_budget`] each body byte costs while its request
/// is read and handled: the body itself and the copies of it alive at
/// once, at most while et-proto opens the envelope (the body, its reading,
/// the sign string, the payload text); storing an attachment holds three
/// (the typed attachment, SQLite's bound copy and its record). The handler
/// lets each copy go as soon as it can. `cargo xtask sandbox-memory`
/// measures what it bounds.
pub const WORK_FACTOR: usize = 4;

/// Bodies of at least this many bytes are handled on the [`LargeLane`].
pub(crate) const LARGE_BODY: usize = 1 << 20;

/// A work item for the [`LargeLane`].
type Job = Box<dyn FnOnce() + Send>;

/// One thread for the requests whose bodies are large (at least
/// [`LARGE_BODY`]): it allocates their body buffers and does their work.
/// That work allocates copies of megabytes, and glibc's malloc keeps what
/// a thread frees in that thread's arena: on tokio's blocking pool, each
/// large request may land on another thread and leave another arena
/// holding its peak, and a body buffer read on a runtime thread stays in
/// that one's, so the process keeps the sum of them. On one thread they
/// reuse one arena. The body budget lets few run at once anyway.
pub(crate) struct LargeLane {
    jobs: std::sync::mpsc::Sender<Job>,
}

impl LargeLane {
    /// Starts the thread; it ends when the lane is dropped.
    pub(crate) fn start() -> std::io::Result<Self> {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("et-sandbox-large".into())
            .spawn(move || {
                for job in queue {
                    // A panicking job drops its reply sender: the request
                    // is answered 500, the thread goes on.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            })?;
        Ok(LargeLane { jobs })
    }

    /// Runs `work` on the lane's thread; `None` if it panicked.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = reply.send(work());
        });
        self.jobs.send(job).ok()?;
        answer.await.ok()
    }
}

/// Every resource bound of a running sandbox; [`Default`] suits a developer
/// machine with a process limit of 1,024 open files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections, idle and header-read timeouts and the shutdown drain,
    /// enforced by et-http's serve loop (the one the webhook receiver uses).
    /// Defaults: 512 connections, 10 s idle, 10 s for the headers, 5 s drain.
    pub serve: ServeConfig,
    /// How long a request body may take to arrive, from the end of its
    /// headers; a slower one is answered 408. Default 30 s.
    pub body_read_timeout: Duration,
    /// Memory that all requests in flight may hold together: each body
    /// byte costs [`WORK_FACTOR`] bytes of it, paid as the byte arrives (a
    /// declared `Content-Length` all at once, before any is read) and given
    /// back when the request has been answered. A request that does not fit
    /// is answered 503 (and its bytes released), so neither many large,
    /// slowly sent bodies nor the work on a few can exhaust memory. Default
    /// 96 MiB: one maximal body (80 MiB of work), or many smaller ones, at
    /// once.
    pub body_budget: usize,
    /// `POST /server` requests handled at once on the blocking pool; the
    /// rest wait their turn in arrival order. RSA is CPU-bound: hundreds
    /// of signatures at once on a 2-core machine starve the threads that
    /// read requests and write replies, and the last to be scheduled waits
    /// seconds. A few more than the cores, so a request stuck in the
    /// database does not hold up the others. Default: 4 per core.
    pub api_concurrency: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            serve: ServeConfig {
                max_connections: 512,
                idle_timeout: Duration::from_secs(10),
                header_read_timeout: Duration::from_secs(10),
                drain_timeout: Duration::from_secs(5),
            },
            body_read_timeout: Duration::from_secs(30),
            body_budget: 96 * 1024 * 1024,
            api_concurrency: 4 * std::thread::available_parallelism().map_or(1, usize::from),
        }
    }
}

/// The shared budget of body bytes ([`Limits::body_budget`]).
#[derive(Debug)]
pub(crate) struct BodyBudget(Arc<Semaphore>);

impl BodyBudget {
    /// A budget of `bytes`.
    pub(crate) fn new(bytes: usize) -> Self {
        BodyBudget(Arc::new(Semaphore::new(bytes.min(Semaphore::MAX_PERMITS))))
    }
}

/// Bytes taken from the [`BodyBudget`], given back when dropped (when the
/// body they paid for has been handled).
#[derive(Debug)]
pub(crate) struct Held {
    budget: Arc<Semaphore>,
    bytes: usize,
}

impl Held {
    fn take(&mut self, n: usize) -> bool {
        let Ok(n32) = u32::try_from(n) else {
            return false;
        };
        match self.budget.try_acquire_many(n32) {
            Ok(permit) => {
                permit.forget();
                self.bytes += n;
                true
            }
            Err(_) => false,
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.budget.add_permits(self.bytes);
    }
}

/// Why a body was not read; each is one HTTP status.
#[derive(Debug)]
pub(crate) enum BodyRefusal {
    /// Longer than the route's limit: 413.
    TooLarge(usize),
    /// Bad framing (e.g. malformed chunking) or the peer broke off: 400.
    Malformed(hyper::Error),
    /// Not complete within [`Limits::body_read_timeout`]: 408.
    TooSlow(Duration),
    /// The [`Limits::body_budget`] is spent by other requests: 503.
    Busy,
}

impl BodyRefusal {
    /// The status answered.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            BodyRefusal::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            BodyRefusal::Malformed(_) => StatusCode::BAD_REQUEST,
            BodyRefusal::TooSlow(_) => StatusCode::REQUEST_TIMEOUT,
            BodyRefusal::Busy => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// What was wrong, for the plain-text answer.
    pub(crate) fn message(&self) -> String {
        match self {
            BodyRefusal::TooLarge(limit) => format!("request body over {limit} bytes"),
            BodyRefusal::Malformed(e) => format!("request body unreadable: {e}"),
            BodyRefusal::TooSlow(after) => format!("request body not complete within {after:?}"),
            BodyRefusal::Busy => {
                "the sandbox holds too many request bodies at once; retry later".into()
            }
        }
    }
}

/// Reads `body` (at most `limit` bytes) within `limits`, paying
/// [`WORK_FACTOR`] bytes of `budget` for every body byte: a declared
/// `Content-Length` before reading (so a body that cannot fit is refused
/// unread, and its buffer is allocated once), else as the bytes arrive.
pub(crate) async fn read_body(
    headers: &HeaderMap,
    body: Incoming,
    limit: usize,
    (limits, budget, large): (&Limits, &BodyBudget, &LargeLane),
) -> Result<(Bytes, Held), BodyRefusal> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let declared = match declared.map(usize::try_from) {
        Some(Ok(n)) if n <= limit => Some(n),
        Some(_) => return Err(BodyRefusal::TooLarge(limit)),
        None => None,
    };
    let mut held = Held {
        budget: budget.0.clone(),
        bytes: 0,
    };
    let paid = declared.unwrap_or(0);
    if !held.take(paid.saturating_mul(WORK_FACTOR)) {
        return Err(BodyRefusal::Busy);
    }
    let mut buf = match paid >= LARGE_BODY {
        true => large.run(move || BytesMut::with_capacity(paid)).await,
        false => None,
    }
    .unwrap_or_else(|| BytesMut::with_capacity(paid));
    let read = async {
        let mut body = std::pin::pin!(body);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(BodyRefusal::Malformed)?;
            if let Ok(data) = frame.into_data() {
                let len = buf.len().saturating_add(data.len());
                if len > limit {
                    return Err(BodyRefusal::TooLarge(limit));
                }
                // hyper holds a body to its Content-Length; a body without
                // one pays as it comes.
                let unpaid = len.saturating_sub(paid.max(buf.len()));
                if !held.take(unpaid.saturating_mul(WORK_FACTOR)) {
                    return Err(BodyRefusal::Busy);
                }
                buf.extend_from_slice(&data);
            }
        }
        Ok(buf.freeze())
    };
    let read = tokio::time::timeout(limits.body_read_timeout, read).await;
    match read {
        Ok(Ok(bytes)) => Ok((bytes, held)),
        Ok(Err(refusal)) => Err(refusal),
        Err(_) => Err(BodyRefusal::TooSlow(limits.body_read_timeout)),
    }
}
