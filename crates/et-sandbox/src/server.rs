//! The HTTP server (hyper 1, HTTP/1.1) and its routes.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, StatusCode};
use hyper::body::Incoming;
use hyper::service::service_fn;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use crate::access::{cross_site, Denied};
use crate::admin::{AdminAction, AdminAnswer, AdminError, AdminParseError, GET, GET_POST, POST};
use crate::app::App;
use crate::clock::beijing_datetime;
use crate::codes::{Refusal, SandboxCode};
use crate::delivery::DELIVERY_HEADER;
use crate::faults::{self, Fault};
use crate::limits::{read_body, BodyBudget, LargeLane, Limits, LARGE_BODY, MAX_BODY};
use crate::reply::{json, reply, see_other, text, Reply};
use crate::{api, dashboard, public_pages, store};

/// What every request's handler shares.
pub(crate) struct Server {
    /// The sandbox.
    pub app: Arc<App>,
    /// Its resource bounds.
    pub limits: Limits,
    /// The body bytes all requests in flight may hold.
    pub budget: BodyBudget,
    /// Turns for `POST /server` on the blocking pool
    /// ([`Limits::api_concurrency`]); tokio's semaphore is fair, so requests
    /// are served in the order they arrived.
    pub api_turns: Arc<Semaphore>,
    /// The thread that handles large requests.
    pub large: LargeLane,
}

/// A request answered by closing its connection without a reply (a
/// `timeout` or `reset` fault): hyper closes a connection whose service
/// fails, and writes nothing.
#[derive(Debug)]
pub(crate) struct NoReply;

impl std::fmt::Display for NoReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("closed without a reply, as a fault asked")
    }
}

impl std::error::Error for NoReply {}

/// Serves until `stop` changes or its sender is dropped, on et-http's
/// bounded serve loop (connection cap, idle and header timeouts, drain),
/// over HTTPS when given a TLS configuration.
pub(crate) async fn serve(
    listener: TcpListener,
    server: Arc<Server>,
    tls: Option<Arc<rustls::ServerConfig>>,
    mut stop: watch::Receiver<bool>,
) {
    let config = server.limits.serve.clone();
    let service = service_fn(move |req| {
        let server = server.clone();
        async move { answer(server, req).await }
    });
    let stopped = async move {
        let _ = stop.changed().await;
    };
    match tls {
        Some(tls) => et_http::serve_tls_with(listener, tls, service, config, stopped).await,
        None => et_http::serve_with(listener, service, config, stopped).await,
    }
}

/// Refuses what it can from the head alone ([`refuse_unread`]); reads
/// the request's body within the [`Limits`] (only `POST /server` may send
/// up to [`MAX_BODY`]; every other route's body is a small form), then
/// routes it on tokio's blocking pool: RSA and SQLite never run on the
/// threads that drive connections. `POST /server` waits for one of
/// [`Server::api_turns`] first; the other routes (no RSA) go straight on.
async fn answer(server: Arc<Server>, req: Request<Incoming>) -> Result<Reply, NoReply> {
    let api = req.method() == Method::POST && req.uri().path().trim_matches('/') == "server";
    let scheme = server
        .app
        .base_url
        .split_once("://")
        .map_or("http", |(s, _)| s);
    if let Some(refused) = refuse_unread(&req, api, scheme) {
        return Ok(refused);
    }
    let limit = if api {
        MAX_BODY
    } else {
        public_pages::MAX_FORM
    };
    let (parts, body) = req.into_parts();
    let (body, held) = match read_body(
        &parts.headers,
        body,
        limit,
        (&server.limits, &server.budget, &server.large),
    )
    .await
    {
        Ok(read) => read,
        Err(refusal) => return Ok(text(refusal.status(), refusal.message())),
    };
    let turn = match api {
        // Never closed, so acquiring cannot fail.
        true => server.api_turns.clone().acquire_owned().await.ok(),
        false => None,
    };
    let app = server.app.clone();
    let large = body.len() >= LARGE_BODY;
    let work = move || {
        let reply = match api {
            // The API takes the body itself, to let it go once opened.
            true => api_answer(&app, body),
            false => (route(&app, &Request::from_parts(parts, body)), None),
        };
        drop((held, turn));
        reply
    };
    let routed = match large {
        true => server.large.run(work).await,
        false => tokio::task::spawn_blocking(work).await.ok(),
    };
    let (reply, fault) = routed.unwrap_or_else(|| {
        tracing::error!("a request handler failed");
        let failed = Refusal::new(SandboxCode::Internal, "the handler failed");
        (admin_error(&failed), None)
    });
    match fault {
        Some(fault) => play(fault, reply).await,
        None => Ok(reply),
    }
}

/// What is refused from the request's head, before a byte of its body is
/// read or paid for: a sandbox's own delivery ([`DELIVERY_HEADER`]), a
/// browser's cross-site `POST`, and an API body that is not JSON.
fn refuse_unread(req: &Request<Incoming>, api: bool, origin_scheme: &str) -> Option<Reply> {
    if req.headers().contains_key(DELIVERY_HEADER) {
        let why = "a notification from a sandbox acts on no sandbox route";
        return Some(text(StatusCode::FORBIDDEN, why));
    }
    if req.method() == Method::POST && cross_site(req.headers(), origin_scheme) {
        let why = "a page of another origin cannot post to the sandbox";
        return Some(text(StatusCode::FORBIDDEN, why));
    }
    // ET's API takes JSON; ET's own demo sends no Content-Type at all. What
    // a form or a page's script sends without a preflight is neither.
    let content_type = req.headers().get(header::CONTENT_TYPE);
    if api && content_type.is_some_and(|v| !is_json(v)) {
        let why = "ET's API takes Content-Type: application/json (or none)";
        return Some(text(StatusCode::UNSUPPORTED_MEDIA_TYPE, why));
    }
    None
}

/// `POST /server`: ET's API; answers with the fault to play.
fn api_answer(app: &App, body: Bytes) -> (Reply, Option<Fault>) {
    let answer = api::handle(app, body);
    let json = "application/json; charset=utf-8";
    (reply(StatusCode::OK, json, answer.body), answer.fault)
}

/// Plays an API fault on a reply ([`crate::faults`]): every wait bounded,
/// and a held connection still counts against the connection cap.
async fn play(fault: Fault, reply: Reply) -> Result<Reply, NoReply> {
    tracing::info!(?fault, "playing a fault");
    match fault {
        Fault::Latency { ms } => {
            tokio::time::sleep(Duration::from_millis(ms).min(faults::MAX_LATENCY)).await;
            Ok(reply)
        }
        Fault::HttpStatus { status, .. } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Ok(text(
                status,
                format!("HTTP {status} from the sandbox, as a fault asked"),
            ))
        }
        Fault::Timeout { hold_ms, .. } => {
            let hold = hold_ms.map_or(faults::DEFAULT_HOLD, Duration::from_millis);
            tokio::time::sleep(hold.min(faults::MAX_HOLD)).await;
            Err(NoReply)
        }
        Fault::Reset { .. } => Err(NoReply),
        _ => Ok(reply),
    }
}

fn route(app: &App, req: &Request<Bytes>) -> Reply {
    // `HEAD` is `GET` without the body, which hyper leaves out.
    let method = match req.method() {
        &Method::HEAD => Method::GET,
        other => other.clone(),
    };
    let m = &method;
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    // ET's own routes (the API, the payer's checkout, jump pages, vouchers)
    // and the static assets answer anyone; every other route, present or
    // added later, only whom `app.access` lets in.
    let public = matches!(
        segments.first(),
        Some(&("server" | "pay" | "jump" | "vouchers" | "static"))
    );
    if !public {
        if let Err(denied) = app.access.check(req) {
            return refuse_access(denied);
        }
    }
    let json_body = req.headers().get(header::CONTENT_TYPE).is_some_and(is_json);
    if method == Method::POST && segments.first() == Some(&"admin") && !json_body {
        return not_json();
    }
    let (allow, answer) = match segments.as_slice() {
        // `POST /server` went to the API instead.
        ["server"] => (POST, None),
        [""] => get(m, || dashboard::orders(app, &query)),
        ["orders", id] => get(m, || dashboard::order(app, id)),
        ["notifications"] => get(m, || dashboard::notifications(app, &query)),
        ["requests"] => get(m, || dashboard::requests(app, &query)),
        ["requests", id] => get(m, || dashboard::request(app, id)),
        ["faults"] => get(m, || dashboard::faults(app)),
        ["attachments", id] => get(m, || dashboard::attachment(app, id)),
        ["static", file] => get(m, || dashboard::asset(file)),
        ["pay", id] => get_post(
            m,
            || public_pages::checkout(app, id, ""),
            || public_pages::checkout_submit(app, id, req.body()),
        ),
        ["vouchers", file] => get(m, || public_pages::voucher(app, file)),
        ["jump", token] => get_post(
            m,
            || public_pages::jump(app, token),
            || public_pages::jump_submit(app, token, req.body()),
        ),
        ["admin", ..] => match AdminAction::parse(m, &segments, &query, req.body()) {
            Err(AdminParseError::NoRoute) => {
                return not_found(&format!("no route for {} {path}", req.method()))
            }
            Err(AdminParseError::Method { allow }) => (allow, None),
            parsed => ("", Some(admin(app, parsed))),
        },
        _ => return not_found(&format!("no route for {} {path}", req.method())),
    };
    answer.unwrap_or_else(|| {
        let message = format!("{} {path}: this route takes {allow}", req.method());
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, message);
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static(allow));
        response
    })
}

/// A route's `Allow` list, and its answer if it takes the request's method.
type Routed = (&'static str, Option<Reply>);

/// A route taking `GET` (and `HEAD`).
fn get(method: &Method, page: impl FnOnce() -> Reply) -> Routed {
    (GET, (method == Method::GET).then(page))
}

/// A route taking both: a page and what its form sends.
fn get_post(
    method: &Method,
    page: impl FnOnce() -> Reply,
    action: impl FnOnce() -> Reply,
) -> Routed {
    let answer = match *method {
        Method::GET => Some(page()),
        Method::POST => Some(action()),
        _ => None,
    };
    (GET_POST, answer)
}

fn not_found(message: &str) -> Reply {
    text(StatusCode::NOT_FOUND, message)
}

/// Whether a `Content-Type` says JSON. Admin routes take only
/// `application/json`: an HTML form on any page the developer's browser
/// opens can post to the sandbox, but only as form data or text, and a
/// cross-site script's JSON post needs a CORS preflight the sandbox never
/// grants. The checkout page's pay form is not an admin route.
fn is_json(content_type: &header::HeaderValue) -> bool {
    content_type
        .to_str()
        .ok()
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

/// The answer to a request the dashboard and admin routes do not serve
/// ([`crate::access`]).
fn refuse_access(denied: Denied) -> Reply {
    match denied {
        Denied::Host => text(
            StatusCode::FORBIDDEN,
            "the dashboard and admin routes answer only when Host names this sandbox by \
              an address or localhost (a DNS-rebinding page names it by its own domain)",
        ),
        Denied::Secret => text(
            StatusCode::UNAUTHORIZED,
            "this sandbox is exposed beyond loopback: the dashboard and admin routes need \
              the secret it printed at start (open its /?secret=... address once, or send \
              Authorization: Bearer SECRET)",
        ),
        Denied::Welcome { location, cookie } => {
            let mut response = see_other(&location);
            if let Ok(cookie) = header::HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
    }
}

fn not_json() -> Reply {
    text(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "admin routes take Content-Type: application/json (a cross-site form cannot send it)",
    )
}

/// An admin action ([`AdminAction`]) carried out, or why not.
fn admin(app: &App, parsed: Result<AdminAction, AdminParseError>) -> Reply {
    let answer = match parsed {
        Ok(action) => action.run(app),
        Err(e @ (AdminParseError::NoSuchAction(_) | AdminParseError::NotificationId(_))) => {
            return not_found(&e.to_string())
        }
        Err(e) => return text(StatusCode::BAD_REQUEST, e.to_string()),
    };
    match answer {
        Ok(AdminAnswer::Order(order)) => admin_view(app, &order.order_id),
        Ok(AdminAnswer::Faults(rules)) => {
            json(StatusCode::OK, &serde_json::json!({ "faults": rules }))
        }
        Ok(AdminAnswer::Now(now)) => json(
            StatusCode::OK,
            &serde_json::json!({ "now": beijing_datetime(now) }),
        ),
        Err(AdminError::Refused(r)) => admin_error(&r),
        Err(e @ (AdminError::NoNotification(_) | AdminError::NoSuchRule)) => {
            not_found(&e.to_string())
        }
        Err(e @ (AdminError::Clock(_) | AdminError::Fault(_))) => {
            text(StatusCode::BAD_REQUEST, e.to_string())
        }
    }
}

fn admin_error(r: &Refusal) -> Reply {
    let status = match r.code {
        SandboxCode::OrderNotFound => StatusCode::NOT_FOUND,
        SandboxCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::CONFLICT,
    };
    let body = serde_json::json!({ "status_code": r.code.as_str(), "message": r.message });
    json(status, &body)
}

/// `GET /admin/orders/{id}`: the order and its notifications as JSON.
fn admin_view(app: &App, id: &str) -> Reply {
    let view = app.store.tx(|c| {
        let order = store::order(c, id)?;
        let notes = store::notifications(c, Some(id))?;
        let institution = store::order_institution(c, id)?;
        let attempts = store::delivery_attempts(c, id)?;
        Ok::<_, rusqlite::Error>(order.map(|o| (o, notes, institution, attempts)))
    });
    match view {
        Ok(Some((o, notes, institution, attempts))) => {
            let body = serde_json::json!({
                "order": crate::views::OrderView::from(&o),
                "institution": institution,
                "notifications": notes.iter().map(crate::views::NotificationView::from).collect::<Vec<_>>(),
                "delivery_attempts": attempts.into_iter().map(crate::views::DeliveryAttemptView::from).collect::<Vec<_>>(),
            });
            json(StatusCode::OK, &body)
        }
        Ok(None) => admin_error(&crate::codes::order_not_found(id)),
        Err(e) => admin_error(&Refusal::from(e)),
    }
}
