//! The HTTP(S) transport: a pooled keep-alive hyper client that POSTs one
//! envelope and reads one bounded response, with timeouts and the retry
//! policy. It knows nothing about envelopes.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, USER_AGENT};
use http::{HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use tokio::net::TcpStream;

use crate::body::{read_limited, BodyError, BoxError};
use crate::proxy::{Proxy, ProxyError};

/// Limits and pool settings of the transport.
#[derive(Clone, Debug)]
pub struct TransportConfig {
    /// Time allowed for TCP connect, the proxy's `CONNECT` (with
    /// [`proxy`](Self::proxy)) and the TLS handshake. Default 10 s.
    pub connect_timeout: Duration,
    /// Time allowed for one attempt, from sending the request until the
    /// last byte of the response. Default 30 s.
    pub request_timeout: Duration,
    /// Largest response body accepted. Default 4 MiB.
    pub max_response_bytes: usize,
    /// How long an idle keep-alive connection stays in the pool. Default 60 s.
    pub pool_idle_timeout: Duration,
    /// Idle connections kept per host. Default 8.
    pub pool_max_idle_per_host: usize,
    /// What to do when the connection could not be made.
    pub retry: RetryPolicy,
    /// Certificates trusted as roots besides the bundled web PKI roots, e.g.
    /// the local sandbox's (`et sandbox serve --tls`); see
    /// [`add_root_certificates_pem`](Self::add_root_certificates_pem).
    /// Not used by [`Client::with_tls_config`](crate::Client::with_tls_config),
    /// whose rustls configuration names its own roots.
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// The HTTP proxy HTTPS requests are tunnelled through; `None` (the
    /// default) connects directly and never looks at the environment
    /// ([`Proxy::from_env`] reads it when asked).
    pub proxy: Option<Proxy>,
}

impl TransportConfig {
    /// Trusts every certificate of the PEM text `pem` as a root, besides
    /// the bundled web PKI roots; returns how many were added.
    pub fn add_root_certificates_pem(&mut self, pem: &[u8]) -> Result<usize, TransportError> {
        let found = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TransportError::Tls(format!("extra root certificates: {e}")))?;
        if found.is_empty() {
            return Err(TransportError::Tls(
                "extra root certificates: no CERTIFICATE block in the PEM text".into(),
            ));
        }
        let added = found.len();
        self.extra_roots.extend(found);
        Ok(added)
    }
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_response_bytes: 4 << 20,
            pool_idle_timeout: Duration::from_secs(60),
            pool_max_idle_per_host: 8,
            retry: RetryPolicy::default(),
            extra_roots: Vec::new(),
            proxy: None,
        }
    }
}

/// When a failed call is sent again.
///
/// Failures before a connection to ET was established (DNS, TCP connect,
/// connect timeout) are retried here for every operation, with the *same
/// bytes*: the same envelope, the same `serial_number`, the same
/// signature. Nothing of such a request can have reached ET.
///
/// Anything that fails after the connection was made (a timeout while
/// waiting for the answer, a reset connection, a 5xx, an unreadable answer)
/// **may have reached ET**. The [`Client`](crate::Client) sends such a call
/// again only for operations that change nothing or set the same state
/// (built anew, with a fresh serial number), within `max_attempts` and
/// `deadline`; retrying a `create_order` could create a second order, so
/// those errors are returned ([`crate::Error::may_have_reached_et`]) and
/// the caller queries the order before deciding to send a new request.
///
/// hyper's own pool additionally re-sends a request whose pooled
/// connection turned out to be closed *before any byte of it was written*;
/// that is the same "never left this machine" case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, counting the first; `1` disables retries.
    pub max_attempts: u32,
    /// Pause before the first retry; doubled before each further one.
    pub backoff: Duration,
    /// No retry starts (pause included) later than this after the call
    /// began: the caller's bound on one call's time, retries and all.
    pub deadline: Duration,
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            backoff: Duration::ZERO,
            deadline: Duration::ZERO,
        }
    }

    /// The pause before attempt number `attempt` (2 = first retry).
    pub(crate) fn pause_before(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(2).min(16);
        self.backoff.saturating_mul(1 << doublings)
    }
}

impl Default for RetryPolicy {
    /// Three attempts, 200 ms then 400 ms apart, none starting after 60 s.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            backoff: Duration::from_millis(200),
            deadline: Duration::from_secs(60),
        }
    }
}

/// A transport failure, with whether the request may have reached ET.
#[derive(Debug)]
#[non_exhaustive]
pub enum TransportError {
    /// No connection could be made (after all attempts); the request never
    /// left this machine.
    Connect {
        /// Attempts made.
        attempts: u32,
        /// The last connect error (DNS, TCP, TLS or connect timeout).
        source: BoxError,
    },
    /// The attempt did not finish within `request_timeout`. May have reached ET.
    Timeout {
        /// The timeout that expired.
        after: Duration,
    },
    /// The connection broke while sending or receiving. May have reached ET.
    Io(BoxError),
    /// The response body exceeded `max_response_bytes`; reading stopped there.
    ResponseTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// ET (or something in front of it) answered with a non-2xx status.
    Status {
        /// The status received.
        status: StatusCode,
        /// The first bytes of the body, lossily decoded, for diagnosis.
        body_start: String,
    },
    /// A 2xx answer that is an HTML page (a proxy or error page), not JSON.
    NotJson {
        /// The `Content-Type` received.
        content_type: String,
    },
    /// The TLS configuration could not be built.
    Tls(String),
    /// The TLS handshake failed: ET's certificate was refused (untrusted,
    /// expired, wrong host name) or no protocol was common. Not retried, since
    /// it fails the same way every time; the request never left this machine.
    TlsHandshake(BoxError),
    /// The proxy ([`TransportConfig::proxy`]) would not open a tunnel to ET
    /// (e.g. 407: credentials missing or refused). Not retried; the request
    /// never left this machine.
    Proxy(ProxyError),
}

impl TransportError {
    /// Whether ET may have received (and acted on) the request.
    pub fn may_have_reached_et(&self) -> bool {
        !matches!(
            self,
            Self::Connect { .. } | Self::Tls(_) | Self::TlsHandshake(_) | Self::Proxy(_)
        )
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect { attempts, source } => {
                let cause = innermost(source.as_ref());
                write!(f, "could not connect after {attempts} attempt(s): {cause}")
            }
            Self::Timeout { after } => write!(f, "no complete answer within {after:?}"),
            Self::Io(e) => write!(
                f,
                "connection failed during the exchange: {}",
                innermost(e.as_ref())
            ),
            Self::ResponseTooLarge { limit } => {
                write!(f, "response longer than the {limit}-byte limit")
            }
            Self::Status { status, body_start } => {
                write!(f, "ET answered HTTP {status}: {body_start:?}")
            }
            Self::NotJson { content_type } => {
                write!(f, "ET answered `{content_type}`, not JSON")
            }
            Self::Tls(e) => write!(f, "TLS setup failed: {e}"),
            Self::TlsHandshake(e) => write!(f, "TLS handshake failed: {e}"),
            Self::Proxy(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Connect { source, .. } => Some(source.as_ref()),
            Self::Io(e) | Self::TlsHandshake(e) => Some(e.as_ref()),
            Self::Proxy(e) => Some(e),
            _ => None,
        }
    }
}

/// hyper-util's errors say only "client error (Connect)"; the cause is the
/// last error of the chain.
fn innermost<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> &'a (dyn std::error::Error + 'static) {
    chain(e).last().unwrap_or(e)
}

/// `e` and its sources, outermost first.
fn chain<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |err| err.source())
}

/// An answer, read completely (within the size limit).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpReply {
    /// The HTTP status.
    pub status: StatusCode,
    /// The `Content-Type` header, if any.
    pub content_type: Option<HeaderValue>,
    /// The body.
    pub body: Bytes,
}

type Connector = ConnectTimeout<HttpsConnector<Route>>;

/// A pooled plain-HTTP client (no TLS), made by [`plain_http_client`].
pub type PlainHttpClient = hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>;

/// hyper's pooled client builder as every client of the workspace starts:
/// the tokio executor and the pool timer (which reaps idle connections).
/// This is the one place a hyper client is built: the [`Client`]'s
/// transport and [`HttpsClient`] add TLS, the proxy, pool limits and the
/// connect timeout; [`plain_http_client`] serves the sandbox's
/// notification deliveries, which bound each exchange themselves.
///
/// [`Client`]: crate::Client
fn client_builder() -> hyper_util::client::legacy::Builder {
    let mut builder = hyper_util::client::legacy::Client::builder(TokioExecutor::new());
    builder.pool_timer(TokioTimer::new());
    builder
}

/// A pooled plain-HTTP client for loopback peers (the local sandbox, a
/// merchant's webhook under test). Its callers bound each exchange with
/// their own timeouts and body limits.
pub fn plain_http_client() -> PlainHttpClient {
    client_builder().build_http()
}

/// Bundled Mozilla roots (webpki-roots) plus the configuration's
/// [`extra_roots`](TransportConfig::extra_roots), and the aws-lc-rs crypto
/// provider, so it needs neither a system certificate store nor a
/// process-wide default provider.
fn default_tls(config: &TransportConfig) -> Result<rustls::ClientConfig, TransportError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots =
        rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for root in &config.extra_roots {
        roots
            .add(root.clone())
            .map_err(|e| TransportError::Tls(format!("extra root certificate: {e}")))?;
    }
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The pooled HTTPS-or-HTTP client of `config`: TCP (direct or through the
/// proxy), TLS with `tls`, the connect timeout and the pool's limits.
fn pooled(
    tls: rustls::ClientConfig,
    config: &TransportConfig,
) -> hyper_util::client::legacy::Client<Connector, Full<Bytes>> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_keepalive(Some(config.pool_idle_timeout));
    let route = Route {
        http,
        proxy: config.proxy.clone().map(Arc::new),
    };
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(route);
    let connector = ConnectTimeout {
        inner: https,
        timeout: config.connect_timeout,
    };
    client_builder()
        .pool_idle_timeout(config.pool_idle_timeout)
        .pool_max_idle_per_host(config.pool_max_idle_per_host)
        .build(connector)
}

/// A pooled client for any URL (a page, a file), with the [`Client`]'s
/// connection setup: the same TLS roots (web PKI plus
/// [`TransportConfig::extra_roots`]), proxy and connect timeout. Its
/// caller bounds each exchange and its body, e.g. a tool that browses the
/// sandbox's pages over `--tls`. Cheap to clone.
///
/// [`Client`]: crate::Client
#[derive(Clone, Debug)]
pub struct HttpsClient {
    client: hyper_util::client::legacy::Client<Connector, Full<Bytes>>,
}

impl HttpsClient {
    /// A client within `config`'s connection settings (its request
    /// timeout, size limit and retry policy are the caller's to apply).
    pub fn new(config: &TransportConfig) -> Result<Self, TransportError> {
        Ok(Self {
            client: pooled(default_tls(config)?, config),
        })
    }

    /// Sends `request`: hyper's response, its body not yet read.
    pub async fn request(
        &self,
        request: Request<Full<Bytes>>,
    ) -> Result<http::Response<hyper::body::Incoming>, TransportError> {
        self.client.request(request).await.map_err(classify)
    }
}

/// The pooled client; cheap to clone (the pool is shared).
#[derive(Clone)]
pub(crate) struct Transport {
    client: hyper_util::client::legacy::Client<Connector, Full<Bytes>>,
    config: Arc<TransportConfig>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("config", &self.config)
            .finish()
    }
}

impl Transport {
    /// The settings this transport was built with.
    pub(crate) fn config(&self) -> &TransportConfig {
        &self.config
    }

    /// A client with [`default_tls`]'s roots.
    pub(crate) fn new(config: TransportConfig) -> Result<Self, TransportError> {
        Ok(Self::with_tls_config(default_tls(&config)?, config))
    }

    /// A client using the given rustls configuration (e.g. a private CA).
    pub(crate) fn with_tls_config(tls: rustls::ClientConfig, config: TransportConfig) -> Self {
        Self {
            client: pooled(tls, &config),
            config: Arc::new(config),
        }
    }

    /// POSTs the envelope `body` to `uri` under the retry policy and reads
    /// the answer, which must be a 2xx and not an HTML page.
    pub(crate) async fn post(
        &self,
        operation: &str,
        uri: &Uri,
        body: Bytes,
    ) -> Result<HttpReply, TransportError> {
        let json = HeaderValue::from_static(et_proto::CONTENT_TYPE);
        let reply = self.post_as(operation, uri, json, body).await?;
        check_answer(reply.status, reply.content_type.as_ref(), &reply.body)?;
        Ok(reply)
    }

    /// POSTs `body` as `content_type` to `uri` under the retry policy and
    /// reads the answer, whatever its status; `operation` labels the
    /// retries' metric.
    pub(crate) async fn post_as(
        &self,
        operation: &str,
        uri: &Uri,
        content_type: HeaderValue,
        body: Bytes,
    ) -> Result<HttpReply, TransportError> {
        let policy = &self.config.retry;
        let mut attempt = 1;
        loop {
            match self.attempt(uri, &content_type, body.clone()).await {
                Err(TransportError::Connect { source, .. }) if attempt < policy.max_attempts => {
                    attempt += 1;
                    crate::measure::retry(operation, "connect");
                    tracing::debug!(attempt, error = %source, "connect failed; retrying the same request");
                    tokio::time::sleep(policy.pause_before(attempt)).await;
                }
                Err(TransportError::Connect { source, .. }) => {
                    return Err(TransportError::Connect {
                        attempts: attempt,
                        source,
                    })
                }
                other => return other,
            }
        }
    }

    /// One attempt, bounded by `request_timeout`.
    async fn attempt(
        &self,
        uri: &Uri,
        content_type: &HeaderValue,
        body: Bytes,
    ) -> Result<HttpReply, TransportError> {
        let after = self.config.request_timeout;
        tokio::time::timeout(after, self.exchange(uri, content_type, body))
            .await
            .unwrap_or(Err(TransportError::Timeout { after }))
    }

    async fn exchange(
        &self,
        uri: &Uri,
        content_type: &HeaderValue,
        body: Bytes,
    ) -> Result<HttpReply, TransportError> {
        let request = Request::builder()
            .method(Method::POST)
            .uri(uri.clone())
            .header(CONTENT_TYPE, content_type.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .header(USER_AGENT, user_agent())
            .body(Full::new(body))
            .map_err(|e| TransportError::Io(e.into()))?;
        self.send(request).await
    }

    /// GETs `uri` once (a download: no retry), bounded by `request_timeout`
    /// and `max_response_bytes`, and reads the answer, whatever its status.
    pub(crate) async fn get(&self, uri: &Uri) -> Result<HttpReply, TransportError> {
        let request = Request::builder()
            .method(Method::GET)
            .uri(uri.clone())
            .header(USER_AGENT, user_agent())
            .body(Full::new(Bytes::new()))
            .map_err(|e| TransportError::Io(e.into()))?;
        let after = self.config.request_timeout;
        tokio::time::timeout(after, self.send(request))
            .await
            .unwrap_or(Err(TransportError::Timeout { after }))
    }

    /// Sends `request` and reads the whole answer within the body limit.
    async fn send(&self, request: Request<Full<Bytes>>) -> Result<HttpReply, TransportError> {
        let response = self.client.request(request).await.map_err(classify)?;
        let (parts, body) = response.into_parts();
        let limit = self.config.max_response_bytes;
        let body = read_limited(body, limit).await.map_err(body_error)?;
        Ok(HttpReply {
            status: parts.status,
            content_type: parts.headers.get(CONTENT_TYPE).cloned(),
            body,
        })
    }
}

/// The `User-Agent` of every request: `et-rs/<version>`.
fn user_agent() -> HeaderValue {
    HeaderValue::from_static(concat!("et-rs/", env!("CARGO_PKG_VERSION")))
}

/// Turns a non-2xx status or an HTML page into an error.
fn check_answer(
    status: StatusCode,
    content_type: Option<&HeaderValue>,
    body: &[u8],
) -> Result<(), TransportError> {
    if !status.is_success() {
        let start = body.get(..body.len().min(200)).unwrap_or_default();
        return Err(TransportError::Status {
            status,
            body_start: String::from_utf8_lossy(start).into_owned(),
        });
    }
    let content_type = content_type
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("text/html")
    {
        return Err(TransportError::NotJson {
            content_type: content_type.to_owned(),
        });
    }
    Ok(())
}

/// hyper-util marks errors raised by the connector; those never sent a byte.
fn classify(e: hyper_util::client::legacy::Error) -> TransportError {
    if !e.is_connect() {
        TransportError::Io(e.into())
    } else if let Some(proxy) = proxy_cause(&e) {
        TransportError::Proxy(proxy)
    } else if let Some(tls) = rustls_cause(&e) {
        TransportError::TlsHandshake(tls.clone().into())
    } else {
        TransportError::Connect {
            attempts: 1,
            source: e.into(),
        }
    }
}

/// The proxy's refusal behind a failed connect, if that is what failed.
fn proxy_cause(e: &(dyn std::error::Error + 'static)) -> Option<ProxyError> {
    chain(e).find_map(|err| err.downcast_ref::<ProxyError>().copied())
}

/// The rustls error behind a failed connect, if the handshake is what failed.
/// `io::Error::source` skips the error it wraps (and hyper-rustls nests two
/// `io::Error`s), hence peeling each with `get_ref`.
fn rustls_cause<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    chain(e).find_map(|mut err| {
        while let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            err = inner;
        }
        err.downcast_ref::<rustls::Error>()
    })
}

fn body_error(e: BodyError) -> TransportError {
    match e {
        BodyError::TooLarge { limit } => TransportError::ResponseTooLarge { limit },
        BodyError::Read(e) => TransportError::Io(e),
    }
}

/// The TCP connection under TLS: direct, or through the proxy's tunnel
/// for an `https` host the proxy applies to.
#[derive(Clone, Debug)]
struct Route {
    http: HttpConnector,
    proxy: Option<Arc<Proxy>>,
}

type Connecting = Pin<Box<dyn Future<Output = Result<TokioIo<TcpStream>, BoxError>> + Send>>;

impl tower_service::Service<Uri> for Route {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Connecting;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Connecting {
        let tunnelled = self.proxy.clone().filter(|proxy| {
            uri.scheme() == Some(&http::uri::Scheme::HTTPS)
                && uri.host().is_some_and(|host| proxy.applies_to(host))
        });
        match (tunnelled, uri.host()) {
            (Some(proxy), Some(host)) => {
                let host = host.to_owned();
                let port = uri.port_u16().unwrap_or(443);
                Box::pin(async move { Ok(TokioIo::new(proxy.tunnel(&host, port).await?)) })
            }
            _ => {
                let connecting = self.http.call(uri);
                Box::pin(async move { connecting.await.map_err(Into::into) })
            }
        }
    }
}

/// Bounds TCP connect, the proxy's CONNECT and the TLS handshake of the
/// wrapped connector.
#[derive(Clone, Debug)]
struct ConnectTimeout<C> {
    inner: C,
    timeout: Duration,
}

/// The connect phase did not finish in time.
#[derive(Debug)]
struct ConnectTimedOut(Duration);

impl fmt::Display for ConnectTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "connect (TCP, proxy, TLS) timed out after {:?}", self.0)
    }
}

impl std::error::Error for ConnectTimedOut {}

impl<C> tower_service::Service<Uri> for ConnectTimeout<C>
where
    C: tower_service::Service<Uri>,
    C::Future: Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<C::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.inner.call(uri);
        let limit = self.timeout;
        Box::pin(async move {
            match tokio::time::timeout(limit, connecting).await {
                Ok(result) => result.map_err(Into::into),
                Err(_) => Err(Box::new(ConnectTimedOut(limit)) as BoxError),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_first_retry() {
        let p = RetryPolicy::default();
        assert_eq!(p.pause_before(2), Duration::from_millis(200));
        assert_eq!(p.pause_before(3), Duration::from_millis(400));
        assert_eq!(p.pause_before(40), Duration::from_millis(200) * (1 << 16));
    }

    #[test]
    fn only_connect_errors_are_safe() {
        let connect = TransportError::Connect {
            attempts: 3,
            source: "refused".into(),
        };
        assert!(!connect.may_have_reached_et());
        let timeout = TransportError::Timeout {
            after: Duration::from_secs(1),
        };
        assert!(timeout.may_have_reached_et());
    }

    #[test]
    fn html_and_error_statuses_are_rejected() {
        let html = HeaderValue::from_static("text/html; charset=utf-8");
        assert!(matches!(
            check_answer(StatusCode::OK, Some(&html), b"<html>"),
            Err(TransportError::NotJson { .. })
        ));
        assert!(matches!(
            check_answer(StatusCode::BAD_GATEWAY, None, b"oops"),
            Err(TransportError::Status {
                status: StatusCode::BAD_GATEWAY,
                ..
            })
        ));
        assert!(check_answer(StatusCode::OK, None, b"{}").is_ok());
    }

    #[test]
    fn the_tls_stack_builds_without_a_global_provider() {
        assert!(Transport::new(TransportConfig::default()).is_ok());
    }
}
