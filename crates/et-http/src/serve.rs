//! Running a hyper service — the [`WebhookReceiver`](crate::WebhookReceiver)
//! or any other — on a TCP listener with every resource bounded: connections
//! ([`ServeConfig::max_connections`]), the time a connection may sit silent
//! or dribble its request headers, and the time shutdown waits.
//!
//! Each connection is watched by a small state machine fed by its socket
//! (bytes read or written) and its service (requests started and answered):
//!
//! * **waiting** — no request in flight and no byte of the next one yet:
//!   closed after [`ServeConfig::idle_timeout`] of silence (a fresh
//!   connection that never speaks, an idle keep-alive connection);
//! * **reading headers** — the first byte of a request arrived: its headers
//!   must be complete within [`ServeConfig::header_read_timeout`] (a
//!   slowloris sending one byte at a time is cut off);
//! * **busy** — the service is answering: the service bounds that itself
//!   (the receiver's body and handler deadlines, [`crate::ReceiverConfig`]).
//!
//! A connection closed by these timeouts has no request in flight, so
//! nothing it carried was acknowledged or lost.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{self, JoinSet};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use crate::body::{BoxError, SendBody};

/// Resource bounds of [`serve_with`]; [`serve`] uses the defaults.
///
/// The defaults suit a webhook endpoint that ET calls a few times a second
/// at most, behind a process limit of 1,024 open files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeConfig {
    /// Connections served at once. Beyond it, new connections are **not
    /// accepted**: they wait in the kernel's listen backlog (and the client's
    /// connect times out or is refused once the backlog is full) until a
    /// served connection ends. The process therefore never holds more than
    /// this many connection sockets, however many clients connect, and the
    /// waiting clients are served in arrival order as slots free up (the
    /// timeouts below free the slots that silent clients hold). At least 1
    /// is served. Default 256.
    pub max_connections: usize,
    /// How long a connection may stay silent with no request in flight: a new
    /// connection before its first byte, a keep-alive connection after its
    /// last answer. Default 10 s.
    pub idle_timeout: Duration,
    /// How long a request's headers may take, from their first byte to the
    /// end of the header block. Default 10 s.
    pub header_read_timeout: Duration,
    /// How long shutdown waits for requests in flight to be answered; after
    /// it the remaining connections are closed and their requests cancelled
    /// (a notification cancelled this way was not acknowledged, so ET sends
    /// it again). Default 20 s, above the receiver's default handler
    /// deadline, so a handler in flight normally gets its full time.
    pub drain_timeout: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            max_connections: 256,
            idle_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            drain_timeout: Duration::from_secs(20),
        }
    }
}

/// A hyper service [`serve_with`] can run: its futures, errors and response
/// bodies can cross tasks. Implemented for every such service (a
/// [`WebhookReceiver`](crate::WebhookReceiver), a `service_fn` router);
/// named in bounds, never implemented by hand.
pub trait Servable<B>:
    hyper::service::Service<
        Request<Incoming>,
        Response = Response<B>,
        Future: Send + 'static,
        Error: Into<BoxError>,
    > + Send
    + 'static
{
}

impl<S, B> Servable<B> for S where
    S: hyper::service::Service<
            Request<Incoming>,
            Response = Response<B>,
            Future: Send + 'static,
            Error: Into<BoxError>,
        > + Send
        + 'static
{
}

/// Pause after a failed `accept` (e.g. out of file descriptors) before the
/// next one, so the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// [`serve_with`] with [`ServeConfig::default`].
pub async fn serve<S, B>(listener: TcpListener, service: S, shutdown: impl Future<Output = ()>)
where
    S: Servable<B> + Clone,
    B: SendBody,
{
    serve_with(listener, service, ServeConfig::default(), shutdown).await;
}

/// Serves `service` (HTTP/1.1, keep-alive, `TCP_NODELAY`) on `listener`
/// within `config`'s bounds until `shutdown` completes; then stops accepting, closes idle
/// connections, lets requests in flight be answered for up to
/// [`ServeConfig::drain_timeout`], closes whatever is left, and returns.
///
/// Any hyper service that can be cloned per connection works, e.g. a
/// [`WebhookReceiver`](crate::WebhookReceiver) or a `service_fn` router.
/// Accept errors (e.g. too many open files) are logged and accepting
/// resumes after a short pause.
pub async fn serve_with<S, B>(
    listener: TcpListener,
    service: S,
    config: ServeConfig,
    shutdown: impl Future<Output = ()>,
) where
    S: Servable<B> + Clone,
    B: SendBody,
{
    serve_maybe_tls(listener, None, service, config, shutdown).await;
}

/// [`serve_with`] over HTTPS: each connection's TLS handshake (with `tls`'s
/// certificate) must complete within [`ServeConfig::header_read_timeout`]
/// of its first byte, like a request head, and a connection that never
/// starts one is closed after [`ServeConfig::idle_timeout`].
pub async fn serve_tls_with<S, B>(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    service: S,
    config: ServeConfig,
    shutdown: impl Future<Output = ()>,
) where
    S: Servable<B> + Clone,
    B: SendBody,
{
    let acceptor = TlsAcceptor::from(tls);
    serve_maybe_tls(listener, Some(acceptor), service, config, shutdown).await;
}

async fn serve_maybe_tls<S, B>(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    service: S,
    config: ServeConfig,
    shutdown: impl Future<Output = ()>,
) where
    S: Servable<B> + Clone,
    B: SendBody,
{
    let config = Arc::new(config);
    let mut connections = JoinSet::new();
    // Each connection's own stop signal, by its task: a connection's
    // driver re-polls it on every wake-up, which for a oneshot costs an
    // atomic load (a shared channel's would take a lock shared by all).
    let mut stops: HashMap<task::Id, oneshot::Sender<()>> = HashMap::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let cap = config.max_connections.max(1);
    // Logged once per episode, not per connection, so a flood cannot flood the log.
    let mut at_cap = false;
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(ended) = connections.join_next_with_id() => {
                stops.remove(&match &ended {
                    Ok((id, ())) => *id,
                    Err(e) => e.id(),
                });
                report_panic(ended.map(drop));
                if at_cap && connections.len() <= cap / 2 {
                    at_cap = false;
                    tracing::info!(connections = connections.len(), "back below the connection cap");
                }
            }
            accepted = listener.accept(), if connections.len() < cap => {
                match accepted {
                    Ok((stream, peer)) => {
                        // An answer goes out as soon as it is written,
                        // not after the client's acknowledgement of the
                        // last one (Nagle); the plain-hyper reference of
                        // the webhook bench does the same.
                        if let Err(e) = stream.set_nodelay(true) {
                            tracing::debug!(%peer, error = %e, "TCP_NODELAY could not be set");
                        }
                        let (stop, stopping) = oneshot::channel();
                        let connection = open(stream, tls.clone(), service.clone(), config.clone(), stopping);
                        let task = connections.spawn(async move {
                            if let Err(e) = connection.await {
                                tracing::debug!(%peer, error = %e, "connection ended with an error");
                            }
                        });
                        stops.insert(task.id(), stop);
                        if !at_cap && connections.len() >= cap {
                            at_cap = true;
                            tracing::warn!(cap, "connection cap reached; new connections wait in the listen backlog");
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "accepting a connection failed");
                        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    }
                }
            }
        }
    }
    drop(listener);
    tracing::info!(connections = connections.len(), "server draining");
    // A dropped sender is the signal.
    stops.clear();
    let drained = tokio::time::timeout(config.drain_timeout, async {
        while let Some(ended) = connections.join_next().await {
            report_panic(ended);
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            after = ?config.drain_timeout,
            "requests still in flight after the drain deadline; closing their connections"
        );
        connections.shutdown().await;
    }
}

fn report_panic(ended: Result<(), tokio::task::JoinError>) {
    if let Err(e) = ended {
        tracing::error!(error = %e, "connection task failed");
    }
}

/// Serves one connection, after its TLS handshake if `tls` is given: the
/// handshake's bytes are watched like a request head's, so a silent or
/// dribbling client is cut off by the same two timeouts.
async fn open<S, B>(
    stream: TcpStream,
    tls: Option<TlsAcceptor>,
    service: S,
    config: Arc<ServeConfig>,
    stopping: oneshot::Receiver<()>,
) -> Result<(), BoxError>
where
    S: Servable<B>,
    B: SendBody,
{
    let phase = Arc::new(Watched::new());
    let io = WatchedIo {
        inner: stream,
        phase: phase.clone(),
    };
    let Some(tls) = tls else {
        return Ok(drive(io, phase, service, config, stopping).await?);
    };
    let io = tokio::select! {
        done = tls.accept(io) => done?,
        () = phase_expired(&phase, &config) => {
            tracing::debug!(phase = ?phase.current(), "closing a connection whose TLS handshake exceeded its timeout");
            return Ok(());
        }
    };
    // The handshake's bytes count as the head's first bytes; the request
    // head starts the header clock afresh.
    phase.update(|_| Phase::Waiting {
        since: Instant::now(),
    });
    Ok(drive(io, phase, service, config, stopping).await?)
}

/// Serves one connection until it ends, a timeout of its current phase
/// expires (the connection is dropped, which closes it), or shutdown asks it
/// to finish its request in flight and close.
async fn drive<I, S, B>(
    io: I,
    phase: Arc<Watched>,
    service: S,
    config: Arc<ServeConfig>,
    mut stopping: oneshot::Receiver<()>,
) -> Result<(), hyper::Error>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Servable<B>,
    B: SendBody,
{
    let io = TokioIo::new(io);
    let service = WatchedService {
        inner: service,
        phase: phase.clone(),
    };
    // hyper's own header timer would also run while a connection waits;
    // the phases above time waiting and header reading separately.
    let connection = http1::Builder::new()
        .keep_alive(true)
        .header_read_timeout(None)
        .serve_connection(io, service);
    let mut connection = std::pin::pin!(connection);
    let expired = phase_expired(&phase, &config);
    let mut expired = std::pin::pin!(expired);
    let mut draining = false;
    loop {
        // In this order, not a random one (which costs a draw per wake-up).
        tokio::select! {
            biased;
            ended = connection.as_mut() => return ended,
            _ = &mut stopping, if !draining => {
                draining = true;
                connection.as_mut().graceful_shutdown();
            }
            () = expired.as_mut() => {
                tracing::debug!(phase = ?phase.current(), "closing a connection that exceeded its timeout");
                return Ok(());
            }
        }
    }
}

/// Ends once the connection's current phase has outlived its timeout. One
/// timer per connection, re-armed only when it fires: a phase that begins
/// at `t` ends no sooner than `t + check`, so a timer armed no later than
/// `now + check` (or the current phase's deadline, if sooner) never misses
/// a deadline, and a request's phase changes touch no timer and wake no
/// task (issue 26 §3: per-request work).
async fn phase_expired(phase: &Watched, config: &ServeConfig) {
    let check = config
        .idle_timeout
        .min(config.header_read_timeout)
        .max(MIN_CHECK);
    let mut at = Instant::now() + check;
    loop {
        tokio::time::sleep_until(at).await;
        let now = Instant::now();
        let deadline = phase.deadline(config);
        if deadline.is_some_and(|d| d <= now) {
            return;
        }
        let next = now + check;
        at = deadline.map_or(next, |d| d.min(next));
    }
}

/// The shortest interval between a connection's timeout checks, so that
/// zero timeouts cannot make its driver spin while a request is busy.
const MIN_CHECK: Duration = Duration::from_millis(1);

/// Where a connection is in its request cycle, and since when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// No request in flight, no byte of the next one.
    Waiting { since: Instant },
    /// The first byte of a request arrived; its headers are being read.
    ReadingHeaders { since: Instant },
    /// This many requests are being answered by the service.
    Busy { requests: usize },
}

/// A connection's [`Phase`], shared by its socket, its service and its
/// driver (whose timer checks it). All three are polled by the connection's
/// one task, never at once, so the phase is one relaxed atomic word: no lock
/// per byte read or written, per request started or answered.
struct Watched {
    /// The phases' times count from here.
    opened: Instant,
    /// The phase, as [`Watched::pack`] writes it.
    phase: AtomicU64,
}

/// In a packed phase: the tag bits, and the rest (nanoseconds since the
/// connection opened, or requests in flight).
const READING_HEADERS: u64 = 1 << 62;
const BUSY: u64 = 2 << 62;
const TAG: u64 = 3 << 62;

impl Watched {
    fn new() -> Self {
        let opened = Instant::now();
        Self {
            opened,
            phase: AtomicU64::new(0),
        }
    }

    fn pack(&self, phase: Phase) -> u64 {
        let since = |at: Instant| {
            let nanos = at.saturating_duration_since(self.opened).as_nanos();
            u64::try_from(nanos).unwrap_or(u64::MAX).min(!TAG)
        };
        match phase {
            Phase::Waiting { since: at } => since(at),
            Phase::ReadingHeaders { since: at } => READING_HEADERS | since(at),
            Phase::Busy { requests } => BUSY | u64::try_from(requests).unwrap_or(!TAG).min(!TAG),
        }
    }

    fn unpack(&self, word: u64) -> Phase {
        let since = self.opened + Duration::from_nanos(word & !TAG);
        match word & TAG {
            READING_HEADERS => Phase::ReadingHeaders { since },
            BUSY => Phase::Busy {
                requests: usize::try_from(word & !TAG).unwrap_or(usize::MAX),
            },
            _ => Phase::Waiting { since },
        }
    }

    fn update(&self, step: impl FnOnce(Phase) -> Phase) {
        let next = self.pack(step(self.current()));
        self.phase.store(next, Ordering::Relaxed);
    }

    fn current(&self) -> Phase {
        self.unpack(self.phase.load(Ordering::Relaxed))
    }

    /// When the current phase times out; `None` while busy.
    fn deadline(&self, config: &ServeConfig) -> Option<Instant> {
        match self.current() {
            Phase::Waiting { since } => Some(since + config.idle_timeout),
            Phase::ReadingHeaders { since } => Some(since + config.header_read_timeout),
            Phase::Busy { .. } => None,
        }
    }

    /// The first byte of a request starts the header clock.
    fn bytes_read(&self) {
        self.update(|phase| match phase {
            Phase::Waiting { .. } => Phase::ReadingHeaders {
                since: Instant::now(),
            },
            other => other,
        });
    }

    /// Writing while waiting (the tail of an answer) is not silence.
    fn bytes_written(&self) {
        self.update(|phase| match phase {
            Phase::Waiting { .. } => Phase::Waiting {
                since: Instant::now(),
            },
            other => other,
        });
    }

    fn request_started(&self) {
        self.update(|phase| match phase {
            Phase::Busy { requests } => Phase::Busy {
                requests: requests + 1,
            },
            _ => Phase::Busy { requests: 1 },
        });
    }

    fn request_answered(&self) {
        self.update(|phase| match phase {
            Phase::Busy { requests } if requests > 1 => Phase::Busy {
                requests: requests - 1,
            },
            _ => Phase::Waiting {
                since: Instant::now(),
            },
        });
    }
}

/// The socket, reporting progress to the connection's [`Watched`] phase.
struct WatchedIo {
    inner: TcpStream,
    phase: Arc<Watched>,
}

impl AsyncRead for WatchedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.phase.bytes_read();
        }
        polled
    }
}

impl AsyncWrite for WatchedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.phase.bytes_written();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.phase.bytes_written();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The service, reporting each request's start and answer to the
/// connection's [`Watched`] phase.
struct WatchedService<S> {
    inner: S,
    phase: Arc<Watched>,
}

/// Marks a request answered when its future completes or is dropped.
struct Answering(Arc<Watched>);

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.request_answered();
    }
}

pin_project_lite::pin_project! {
    /// The service's answer, marking its request answered when it
    /// completes or is dropped; held in place, not boxed per request.
    pub(crate) struct Watching<F> {
        #[pin]
        answer: F,
        answering: Option<Answering>,
    }
}

impl<F: Future> Future for Watching<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let answered = std::task::ready!(this.answer.poll(cx));
        this.answering.take();
        Poll::Ready(answered)
    }
}

impl<S> hyper::service::Service<Request<Incoming>> for WatchedService<S>
where
    S: hyper::service::Service<Request<Incoming>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Watching<S::Future>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        self.phase.request_started();
        Watching {
            answering: Some(Answering(self.phase.clone())),
            answer: self.inner.call(request),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_phase_reads_back_as_it_was_stored() {
        let watched = Watched::new();
        let opened = watched.opened;
        assert!(matches!(watched.current(), Phase::Waiting { since } if since == opened));
        tokio::time::advance(Duration::from_secs(7)).await;
        let later = Instant::now();
        for phase in [
            Phase::Waiting { since: later },
            Phase::ReadingHeaders { since: later },
            Phase::Busy { requests: 3 },
        ] {
            watched.update(|_| phase);
            assert_eq!(watched.current(), phase);
        }
        watched.update(|_| Phase::Waiting { since: later });
        watched.bytes_read();
        assert!(matches!(watched.current(), Phase::ReadingHeaders { since } if since >= later));
        watched.request_started();
        watched.request_started();
        watched.request_answered();
        assert!(matches!(watched.current(), Phase::Busy { requests: 1 }));
        watched.request_answered();
        assert!(matches!(watched.current(), Phase::Waiting { .. }));
    }
}
