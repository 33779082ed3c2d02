//! The webhook receiver: reads ET's notification with a size limit and a
//! timeout, verifies and classifies it with et-proto, hands it to the
//! merchant's handler, and acknowledges only once the handler succeeded.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use et_model::NotificationKind;
use et_proto::{NotificationVerifier, SettingName, VerifiedNotification, ACK_FAIL, ACK_OK};
use http::header::{HeaderValue, CONTENT_TYPE};
use http::request::Parts;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Body;
use tokio::time::{Instant, Sleep};
use tracing::instrument::Instrumented;
use tracing::{Instrument, Span};

use crate::body::{read_limited, BodyError, BoxError, SendBody};
use crate::measure::NotificationResult;
use crate::panic::{CatchPanic, Panicked};

/// What a handler returns when it could not take the notification in; ET
/// will deliver it again.
pub type HandlerError = BoxError;

/// The merchant's code for verified notifications.
///
/// Return `Ok` only once the event is stored (or otherwise safe): the
/// receiver acknowledges to ET right after, and ET stops sending. Return
/// `Err` to have ET send it again (a panic counts as `Err`: it is caught,
/// logged and answered `FAIL`). A handler still running at
/// [`ReceiverConfig::handler_timeout`] is cancelled (its future dropped) and
/// answered `FAIL` too.
///
/// # Storing exactly once
///
/// ET delivers one event up to 7 times, and two deliveries of the same
/// event can run **at the same moment** (ET retries while a slow handler is
/// still working, or two instances behind a load balancer each get one).
/// "Look it up, insert if missing" is therefore not enough: both copies
/// find nothing and both insert. Store with one atomic insert-if-absent on
/// [`VerifiedNotification::dedup_key`] (a unique key in the database) and
/// treat "already there" as success:
///
/// ```sql
/// CREATE TABLE et_notifications (
///     dedup_key   text PRIMARY KEY,
///     kind        text NOT NULL,
///     body        jsonb NOT NULL,
///     received_at timestamptz NOT NULL DEFAULT now()
/// );
/// -- In the handler; 0 rows inserted means a duplicate: still return Ok.
/// INSERT INTO et_notifications (dedup_key, kind, body)
/// VALUES ($1, $2, $3)
/// ON CONFLICT (dedup_key) DO NOTHING;
/// ```
///
/// Because the handler may be cancelled at its deadline, anything it
/// started must be safe to start again (one transaction, committed last).
///
/// Implemented for any `Fn(VerifiedNotification) -> impl Future<Output =
/// Result<(), E>>` closure.
pub trait NotificationHandler: Send + Sync + 'static {
    /// Takes one verified notification in.
    fn handle(
        &self,
        notification: VerifiedNotification,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

impl<F, Fut, E> NotificationHandler for F
where
    F: Fn(VerifiedNotification) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send,
    E: Into<HandlerError>,
{
    fn handle(
        &self,
        notification: VerifiedNotification,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        let handled = self(notification);
        async move { handled.await.map_err(Into::into) }
    }
}

/// Limits applied to each notification request.
#[derive(Clone, Debug)]
pub struct ReceiverConfig {
    /// Largest body accepted; ET's notifications are a few hundred bytes.
    /// Default 64 KiB.
    pub max_body_bytes: usize,
    /// Time allowed to receive the whole body. Default 10 s.
    pub body_timeout: Duration,
    /// Time the handler gets per notification. A handler still running then
    /// is cancelled and answered `FAIL` (status 503), so ET delivers again;
    /// the connection is freed and the server keeps serving. Default 15 s:
    /// enough for a database write, and short enough that a hung store does
    /// not hold connections while ET's retry arrives (ET's own timeout is
    /// not documented).
    pub handler_timeout: Duration,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 << 10,
            body_timeout: Duration::from_secs(10),
            handler_timeout: Duration::from_secs(15),
        }
    }
}

/// The webhook endpoint: a hyper service and a `tower_service::Service`
/// (so it can be mounted in axum or any tower stack). Cheap to clone.
///
/// Answers, for a POST whose body verifies and whose handler returned `Ok`:
/// `200` with ET's acknowledgement ([`VerifiedNotification::acknowledgement`]).
/// Otherwise `{"notify_result":"FAIL"}`, which makes ET deliver again, with
/// `405` (not POST), `408` (body too slow), `413` (body too large), `400`
/// (unreadable), `415` (unsupported encoding), `401` (bad signature) or
/// `500` (the handler returned `Err` or panicked) or `503` (the handler
/// missed its deadline); the reason is logged, never a salt or signature.
pub struct WebhookReceiver<H> {
    inner: Arc<Inner<H>>,
}

struct Inner<H> {
    verifier: NotificationVerifier,
    handler: H,
    config: ReceiverConfig,
}

impl<H> Clone for WebhookReceiver<H> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<H> fmt::Debug for WebhookReceiver<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookReceiver")
            .field("verifier", &self.inner.verifier)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Why a delivery was not acknowledged.
enum Rejection {
    Method(Method),
    Body(BodyError),
    BodyTimeout(Duration),
    Invalid(et_proto::Error),
    Handler(HandlerError),
    HandlerPanicked,
    HandlerTimeout(Duration),
}

impl Rejection {
    fn status(&self) -> StatusCode {
        match self {
            Self::Method(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Body(BodyError::TooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Body(BodyError::Read(_)) => StatusCode::BAD_REQUEST,
            Self::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Invalid(et_proto::Error::SignatureMismatch { .. }) => StatusCode::UNAUTHORIZED,
            Self::Invalid(et_proto::Error::UnsupportedContentType(_)) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            Self::Invalid(_) => StatusCode::BAD_REQUEST,
            Self::Handler(_) | Self::HandlerPanicked => StatusCode::INTERNAL_SERVER_ERROR,
            Self::HandlerTimeout(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Method(m) => write!(f, "method {m} is not POST"),
            Self::Body(e) => e.fmt(f),
            Self::BodyTimeout(after) => write!(f, "body not received within {after:?}"),
            Self::Invalid(e) => e.fmt(f),
            Self::Handler(e) => write!(f, "handler failed: {e}"),
            Self::HandlerPanicked => f.write_str("handler panicked"),
            Self::HandlerTimeout(after) => {
                write!(
                    f,
                    "handler did not finish within {after:?}; it was cancelled"
                )
            }
        }
    }
}

impl<H: NotificationHandler> WebhookReceiver<H> {
    /// A receiver verifying with `verifier` (see
    /// [`et_proto::Merchant::notification_verifier`]) and default limits.
    pub fn new(verifier: NotificationVerifier, handler: H) -> Self {
        Self::with_config(verifier, handler, ReceiverConfig::default())
    }

    /// A receiver with explicit limits.
    pub fn with_config(verifier: NotificationVerifier, handler: H, config: ReceiverConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                verifier,
                handler,
                config,
            }),
        }
    }

    /// Handles one HTTP request; never fails (every outcome is an answer).
    pub async fn respond<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let Ok(response) = self.clone().answer(request).await;
        response
    }

    /// [`respond`](Self::respond)'s work, as a future that owns what it
    /// needs, so that hyper's service boxes it as it is. Written so that it
    /// keeps little (issue 26 §3): what it boxes each request stays in
    /// the allocator's fast size classes. Every step it waits for is
    /// created inside it, and each is done with before the next begins.
    fn answer<B>(
        self,
        request: Request<B>,
    ) -> impl Future<Output = Result<Response<Full<Bytes>>, Infallible>>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        // Only the method and headers are kept while the body is read.
        let (
            Parts {
                method, headers, ..
            },
            body,
        ) = request.into_parts();
        async move {
            let (kind, accepted) = if method == Method::POST {
                self.accept(&headers, body).await
            } else {
                (None, Err(Rejection::Method(method)))
            };
            crate::measure::notification(
                kind,
                match &accepted {
                    Ok(_) => NotificationResult::Acknowledged,
                    Err(Rejection::Handler(_) | Rejection::HandlerPanicked) => {
                        NotificationResult::HandlerFailed
                    }
                    Err(Rejection::HandlerTimeout(_)) => NotificationResult::TimedOut,
                    Err(_) => NotificationResult::Refused,
                },
            );
            let (status, body) = match accepted {
                Ok(acknowledgement) => (StatusCode::OK, acknowledgement),
                Err(rejection) => {
                    let status = rejection.status();
                    tracing::warn!(status = status.as_u16(), reason = %rejection, "notification not acknowledged; ET will deliver it again");
                    (status, Bytes::from_static(ACK_FAIL))
                }
            };
            Ok(answer(status, body, headers))
        }
    }

    /// Reads, verifies and hands over one notification: its kind if it
    /// verified, and the acknowledgement once the handler succeeded.
    async fn accept<B>(
        &self,
        headers: &HeaderMap,
        body: B,
    ) -> (Option<NotificationKind>, Result<Bytes, Rejection>)
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let kind;
        // The notification lives in this block only: moved into the
        // handler's call, it takes no room while the handler runs.
        let accepted = {
            let notification = match self.receive(headers, body).await {
                Ok(notification) => notification,
                Err(rejection) => return (None, Err(rejection)),
            };
            kind = notification.kind();
            self.hand_over(notification)
        }
        .await;
        (Some(kind), accepted)
    }

    /// Reads the body within its bounds and verifies it.
    async fn receive<B>(
        &self,
        headers: &HeaderMap,
        body: B,
    ) -> Result<VerifiedNotification, Rejection>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let config = &self.inner.config;
        let body = Within::new(
            config.body_timeout,
            read_limited(body, config.max_body_bytes),
        )
        .await
        .ok_or(Rejection::BodyTimeout(config.body_timeout))?
        .map_err(Rejection::Body)?;
        let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
        self.verify(content_type, &body)
    }

    /// Verifies a body read whole; says why one did not verify if it can.
    fn verify(
        &self,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<VerifiedNotification, Rejection> {
        let verifier = &self.inner.verifier;
        // The wall clock decides whether an accepted salt is still in force.
        let now = std::time::SystemTime::now();
        let notification = verifier
            .verify_owned(content_type, body, now)
            .map_err(|e| {
                if let et_proto::Error::SignatureMismatch { .. } = e {
                    if let Some(reason) = unsigned_trailing_whitespace(body) {
                        tracing::warn!("a notification did not verify: {reason}");
                    }
                    if let Some(rule) = verifier.verifies_under_other_rule(content_type, body, now) {
                        tracing::warn!(
                            notify_sign_rule = rule.name(),
                            "a notification did not verify under this profile's rule but does under notify_sign_rule = {}; set it in the profile",
                            rule.name()
                        );
                    }
                }
                Rejection::Invalid(e)
            })?;
        crate::added_keys::note("notification", notification.added_fields().map(|(k, _)| k));
        crate::rollover::note_salt(notification.verified_by());
        Ok(notification)
    }

    /// Hands a verified notification to the handler within its deadline;
    /// the acknowledgement's body once it succeeded. The handler is called
    /// here: the future holds what it returned, not the notification.
    fn hand_over(
        &self,
        notification: VerifiedNotification,
    ) -> HandingOver<Instrumented<impl Future<Output = Result<(), HandlerError>> + Send + '_>> {
        let Inner {
            handler, config, ..
        } = &*self.inner;
        // The usual acknowledgement is a constant: not copied per request.
        let acknowledgement = match notification.acknowledgement() {
            ack if ack == ACK_OK => Bytes::from_static(ACK_OK),
            signed => Bytes::copy_from_slice(signed),
        };
        let span = tracing::info_span!(
            "et.notification",
            kind = ?notification.kind(),
            dedup_key = notification.dedup_key(),
        );
        // The deadline counts from before the handler is called.
        let deadline = deadline(config.handler_timeout);
        // A panicking handler is answered `FAIL`, so ET delivers again; a
        // closure may panic before it returns its future, too.
        let handling = CatchPanic::start(|| handler.handle(notification).instrument(span.clone()));
        HandingOver {
            handling: Within::until(deadline, handling),
            span,
            acknowledgement,
            limit: config.handler_timeout,
        }
    }
}

pin_project_lite::pin_project! {
    /// The handler's work on one notification within its deadline; the
    /// acknowledgement's body once it succeeded. The handler's future is
    /// held once, in place.
    struct HandingOver<F> {
        #[pin]
        handling: Within<CatchPanic<F>>,
        span: Span,
        acknowledgement: Bytes,
        limit: Duration,
    }
}

impl<F: Future<Output = Result<(), HandlerError>>> Future for HandingOver<F> {
    type Output = Result<Bytes, Rejection>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let span: &Span = this.span;
        Poll::Ready(match std::task::ready!(this.handling.poll(cx)) {
            None => Err(Rejection::HandlerTimeout(*this.limit)),
            Some(Err(Panicked)) => Err(Rejection::HandlerPanicked),
            Some(Ok(Err(e))) => Err(Rejection::Handler(e)),
            Some(Ok(Ok(()))) => {
                tracing::info!(parent: span, "notification handled and acknowledged");
                Ok(std::mem::take(this.acknowledgement))
            }
        })
    }
}

pin_project_lite::pin_project! {
    /// `work`'s output, or `None` once its deadline passed. Like
    /// `tokio::time::Timeout`, but the timer is set up only once `work` has
    /// to wait: a body that came with its headers, a handler that finishes
    /// at once need none (issue 26 §3). The deadline still counts from
    /// the [`deadline`] it was given.
    struct Within<F> {
        #[pin]
        work: F,
        #[pin]
        timer: Option<Sleep>,
        deadline: Option<Instant>,
    }
}

/// `limit` from now; `None` if too far to represent (never).
fn deadline(limit: Duration) -> Option<Instant> {
    Instant::now().checked_add(limit)
}

impl<F: Future> Within<F> {
    /// `work` within `limit` from now.
    fn new(limit: Duration, work: F) -> Self {
        Self::until(deadline(limit), work)
    }

    fn until(deadline: Option<Instant>, work: F) -> Self {
        Self {
            work,
            timer: None,
            deadline,
        }
    }
}

impl<F: Future> Future for Within<F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(done) = this.work.poll(cx) {
            return Poll::Ready(Some(done));
        }
        if let (None, Some(deadline)) = (this.timer.as_ref().as_pin_ref(), *this.deadline) {
            this.timer.set(Some(tokio::time::sleep_until(deadline)));
        }
        match this.timer.as_pin_mut() {
            Some(timer) => timer.poll(cx).map(|()| None),
            None => Poll::Pending,
        }
    }
}

/// Why a notification body that did not verify probably did not: it ends
/// in whitespace (a newline) that a form body's last value then holds and
/// ET did not sign. ET sends none; what delivered the body added it (`echo`,
/// an editor, `curl --data-binary @file`). The receiver does not strip it:
/// a value is verified as it arrived, never changed first to make it verify.
/// `None` for a body without trailing whitespace or a JSON body (where
/// whitespace after the object is no part of any value).
pub fn unsigned_trailing_whitespace(body: &[u8]) -> Option<&'static str> {
    let json = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    (!json && body.last().is_some_and(u8::is_ascii_whitespace)).then_some(
        "the form body ends with whitespace (a newline?), which is then part of its last \
         field's value and was not signed by ET; ET sends none: send the body byte for byte \
         (printf '%s', curl --data-binary without a trailing newline)",
    )
}

/// The answer, its headers written into the request's map: cleared, it
/// keeps its room, so an answer allocates no header map of its own.
fn answer(status: StatusCode, body: Bytes, mut headers: HeaderMap) -> Response<Full<Bytes>> {
    headers.clear();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

type Answer = Pin<Box<dyn Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send>>;

/// tower's service is hyper's, always ready.
impl<H, B> tower_service::Service<Request<B>> for WebhookReceiver<H>
where
    Self: hyper::service::Service<Request<B>>,
{
    type Response = <Self as hyper::service::Service<Request<B>>>::Response;
    type Error = <Self as hyper::service::Service<Request<B>>>::Error;
    type Future = <Self as hyper::service::Service<Request<B>>>::Future;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        hyper::service::Service::call(self, request)
    }
}

impl<H, B> hyper::service::Service<Request<B>> for WebhookReceiver<H>
where
    H: NotificationHandler,
    B: SendBody,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, request: Request<B>) -> Answer {
        Box::pin(self.clone().answer(request))
    }
}
