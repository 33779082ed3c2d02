//! `et record`: a forwarding proxy in front of ET's test environment (or a
//! sandbox) that stores every exchange ([`crate::recording`]), so that a
//! merchant's real exchanges can be replayed later (`et replay`).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use et_http::{Endpoint, HttpReply, RawClient, ServeConfig, TransportConfig};
use et_model::BeijingTime;
use et_proto::{Message, UntypedObject};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;

use crate::cli::RecordArgs;
use crate::error::{CliResult, Failure};
use crate::recording::{Meta, Part, Recording};

/// Connections served at once; more wait in the listen backlog.
const MAX_CONNECTIONS: usize = 64;

/// Time allowed for a request's body to arrive.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// `et record`: forward every POST to `--upstream`, hand its reply back
/// unchanged and store both, until Ctrl-C or SIGTERM.
pub(crate) async fn record(args: &RecordArgs) -> CliResult {
    let endpoint =
        Endpoint::parse(&args.upstream).map_err(|e| Failure::usage(e).context("--upstream"))?;
    let proxy = Arc::new(Proxy {
        upstream: RawClient::new(endpoint, TransportConfig::default()).map_err(Failure::usage)?,
        recording: Arc::new(Recording::create(&args.dir)?),
    });
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| Failure::usage(e).context(format_args!("listening on {}", args.listen)))?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::usage(e).context("listening"))?;
    crate::output::line(format_args!(
        "recording: http://{local}/ forwards to {} and stores each exchange in {} (Ctrl-C or SIGTERM stops)",
        proxy.upstream.endpoint(),
        args.dir.display()
    ))?;
    let service = hyper::service::service_fn(move |request| {
        let proxy = proxy.clone();
        async move { Ok::<_, Infallible>(proxy.exchange(request).await) }
    });
    let config = ServeConfig {
        max_connections: MAX_CONNECTIONS,
        ..ServeConfig::default()
    };
    let mut stopped = None;
    et_http::serve_with(listener, service, config, async {
        stopped = Some(crate::sandbox::stop_signal().await);
    })
    .await;
    let signal = stopped.transpose()?;
    tracing::info!(signal, "recording stopped");
    Ok(())
}

/// The upstream and where exchanges go.
struct Proxy {
    upstream: RawClient,
    recording: Arc<Recording>,
}

impl Proxy {
    /// One exchange: the request is stored before it is forwarded (nothing
    /// goes upstream unrecorded), the reply after it came back.
    async fn exchange(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let time = BeijingTime::now().to_string();
        let (content_type, body) = match read_request(request).await {
            Ok(read) => read,
            Err(refusal) => return refusal,
        };
        let envelope = UntypedObject::parse_json(&body, Message::Request).ok();
        let field = |key| envelope.as_ref()?.text(key).map(str::to_owned);
        let mut meta = Meta {
            time,
            upstream: self.upstream.endpoint().to_string(),
            status: None,
            error: None,
            server_type: field("server_type"),
            serial_number: field("serial_number"),
        };
        let recording = self.recording.clone();
        let stored = body.clone();
        let number = match blocking(move || recording.claim(&stored)).await {
            Ok(number) => number,
            Err(e) => {
                tracing::error!(error = %e, "storing a request failed; not forwarded");
                let text =
                    format!("et record could not store the request, so it was not forwarded: {e}");
                return plain(StatusCode::INTERNAL_SERVER_ERROR, text);
            }
        };
        let answer = self.upstream.post(content_type, body).await;
        let reply = match &answer {
            Ok(reply) => {
                meta.status = Some(reply.status.as_u16());
                Some(reply.body.clone())
            }
            Err(e) => {
                meta.error = Some(e.to_string());
                None
            }
        };
        self.finish(number, reply, meta).await;
        match answer {
            Ok(reply) => unchanged(reply),
            Err(e) => plain(StatusCode::BAD_GATEWAY, format!("et record: upstream: {e}")),
        }
    }

    /// Stores the reply (if any) and the meta file. A failure is logged:
    /// the reply still goes back, since upstream has acted on the request.
    async fn finish(&self, number: u64, reply: Option<Bytes>, meta: Meta) {
        let recording = self.recording.clone();
        let (server_type, status) = (meta.server_type.clone(), meta.status);
        let stored = blocking(move || {
            if let Some(reply) = reply {
                recording.write(number, Part::Reply, &reply)?;
            }
            recording.write_meta(number, &meta)
        })
        .await;
        match stored {
            Ok(()) => tracing::info!(number, server_type, status, "exchange recorded"),
            Err(e) => tracing::error!(number, error = %e, "storing an exchange failed"),
        }
    }
}

/// Runs file I/O off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)))
}

/// The largest request forwarded: the client's limit for a response.
fn max_body() -> usize {
    TransportConfig::default().max_response_bytes
}

/// A POST's `Content-Type` (ET's when absent) and body, read within
/// [`max_body`] and [`BODY_TIMEOUT`]; otherwise the answer refusing it.
async fn read_request(
    request: Request<Incoming>,
) -> Result<(HeaderValue, Bytes), Response<Full<Bytes>>> {
    if request.method() != Method::POST {
        let text = "et record forwards POST requests only";
        return Err(plain(StatusCode::METHOD_NOT_ALLOWED, text));
    }
    let limit = max_body();
    let too_large = || {
        let text = format!("et record forwards bodies of at most {limit} bytes");
        plain(StatusCode::PAYLOAD_TOO_LARGE, text)
    };
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static(et_proto::CONTENT_TYPE));
    let read = Limited::new(request.into_body(), limit).collect();
    match tokio::time::timeout(BODY_TIMEOUT, read).await {
        Err(_) => Err(plain(
            StatusCode::REQUEST_TIMEOUT,
            format!("the body did not arrive within {BODY_TIMEOUT:?}"),
        )),
        Ok(Err(e)) if e.is::<LengthLimitError>() => Err(too_large()),
        Ok(Err(e)) => Err(plain(
            StatusCode::BAD_REQUEST,
            format!("the body could not be read: {e}"),
        )),
        Ok(Ok(body)) => Ok((content_type, body.to_bytes())),
    }
}

/// The upstream's answer, status, `Content-Type` and body as they came.
fn unchanged(reply: HttpReply) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(reply.body));
    *response.status_mut() = reply.status;
    if let Some(content_type) = reply.content_type {
        response.headers_mut().insert(CONTENT_TYPE, content_type);
    }
    response
}

/// The proxy's own answer: `status` and a line of text.
fn plain(status: StatusCode, text: impl Into<String>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text.into())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
