//! The sandbox's resource bounds ([`Limits`]) and reading a request body
//! within them: a per-request size limit, a read deadline and one budget of
//! body bytes shared by every request in flight.

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
    /// Body bytes held in memory by all requests in flight together. A
    /// request whose body would go beyond it is answered 503 (and its
    /// bytes released), so many large, slowly sent bodies cannot exhaust
    /// memory. Default 64 MiB: three maximal bodies at once.
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
            body_budget: 64 * 1024 * 1024,
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

/// Reads `body` (at most `limit` bytes) within `limits`, paying for every
/// byte from `budget` as it arrives.
pub(crate) async fn read_body(
    headers: &HeaderMap,
    body: Incoming,
    limit: usize,
    limits: &Limits,
    budget: &BodyBudget,
) -> Result<(Bytes, Held), BodyRefusal> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyRefusal::TooLarge(limit));
    }
    let mut held = Held {
        budget: budget.0.clone(),
        bytes: 0,
    };
    let read = async {
        let mut body = std::pin::pin!(body);
        let mut buf = BytesMut::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(BodyRefusal::Malformed)?;
            if let Ok(data) = frame.into_data() {
                if buf.len().saturating_add(data.len()) > limit {
                    return Err(BodyRefusal::TooLarge(limit));
                }
                if !held.take(data.len()) {
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
