//! The HTTP server (hyper 1, HTTP/1.1) and its routes.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use et_model::OrderStatus;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::App;
use crate::clock::beijing_datetime;
use crate::codes::{Refusal, SandboxCode};
use crate::limits::{read_body, BodyBudget, Limits, MAX_BODY};
use crate::machine::Event;
use crate::{api, jump, pages, store};

type Reply = Response<Full<Bytes>>;

/// What every request's handler shares.
pub struct Server {
    /// The sandbox.
    pub app: Arc<App>,
    /// Its resource bounds.
    pub limits: Limits,
    /// The body bytes all requests in flight may hold.
    pub budget: BodyBudget,
}

/// Serves until `stop` changes or its sender is dropped, on et-http's
/// bounded serve loop (connection cap, idle and header timeouts, drain).
pub async fn serve(listener: TcpListener, server: Arc<Server>, mut stop: watch::Receiver<bool>) {
    let config = server.limits.serve.clone();
    let service = service_fn(move |req| {
        let server = server.clone();
        async move { Ok::<_, Infallible>(answer(server, req).await) }
    });
    let stopped = async move {
        let _ = stop.changed().await;
    };
    et_http::serve_with(listener, service, config, stopped).await;
}

/// Reads the request's body within the [`Limits`] (only `POST /server`
/// may send up to [`MAX_BODY`]; every other route's body is a small form),
/// then routes it on tokio's blocking pool: RSA and SQLite never run on the
/// threads that drive connections, so a slow request delays only itself.
/// The pool (512 threads) is not smaller than the connection cap.
async fn answer(server: Arc<Server>, req: Request<Incoming>) -> Reply {
    let limit = if req.uri().path().trim_matches('/') == "server" {
        MAX_BODY
    } else {
        jump::MAX_FORM
    };
    let (parts, body) = req.into_parts();
    let (body, held) =
        match read_body(&parts.headers, body, limit, &server.limits, &server.budget).await {
            Ok(read) => read,
            Err(refusal) => {
                return reply(
                    refusal.status(),
                    "text/plain; charset=utf-8",
                    refusal.message().into_bytes(),
                )
            }
        };
    let req = Request::from_parts(parts, body);
    let routed = tokio::task::spawn_blocking(move || {
        let reply = route(&server.app, &req);
        drop(held);
        reply
    });
    routed.await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "a request handler failed");
        admin_error(&Refusal::new(SandboxCode::Internal, "the handler failed"))
    })
}

fn route(app: &App, req: &Request<Bytes>) -> Reply {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (&method, segments.as_slice()) {
        (&Method::POST, ["server"]) => reply(
            StatusCode::OK,
            "application/json; charset=utf-8",
            api::handle(app, req.body()),
        ),
        (_, ["server"]) => {
            let mut response = reply(
                StatusCode::METHOD_NOT_ALLOWED,
                "text/plain; charset=utf-8",
                format!("{method} /server: ET's API takes POST only").into_bytes(),
            );
            response
                .headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
            response
        }
        (&Method::GET, ["pay", id]) => checkout(app, id, ""),
        (&Method::POST, ["pay", id]) => match app.transition(id, None, Event::Pay, None) {
            Ok(_) => checkout(app, id, "Payment received. Thank you."),
            Err(r) if r.code == SandboxCode::OrderNotFound => not_found(&r.message),
            Err(r) => checkout(app, id, &r.message),
        },
        (&Method::GET, ["vouchers", file]) => voucher(app, file),
        (&Method::GET, ["jump", token]) => jump_page(app, jump::show(app, token)),
        (&Method::POST, ["jump", token]) => jump_page(app, jump::submit(app, token, req.body())),
        (&Method::GET, ["admin", "orders", id]) => admin_view(app, id),
        (&Method::POST, ["admin", ..]) if !is_json(req) => not_json(),
        (&Method::POST, ["admin", "orders", id, action]) => match admin_event(action, &query) {
            Some(event) => admin_json(
                app.transition(id, None, event, None).map(|o| o.order_id),
                app,
            ),
            None => not_found(&format!("no admin action {action:?}")),
        },
        (&Method::POST, ["admin", "clock", "advance"]) => advance_clock(app, &query),
        _ => not_found(&format!("no route for {method} {path}")),
    }
}

fn reply(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Reply {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    response
}

fn not_found(message: &str) -> Reply {
    reply(
        StatusCode::NOT_FOUND,
        "text/plain; charset=utf-8",
        message.as_bytes().to_vec(),
    )
}

fn order(app: &App, id: &str) -> Result<Option<store::OrderRecord>, Refusal> {
    Ok(app.store.tx(|c| store::order(c, id))?)
}

fn checkout(app: &App, id: &str, note: &str) -> Reply {
    let institution = app.store.tx(|c| store::order_institution(c, id));
    match order(app, id) {
        Ok(Some(o)) => reply(
            StatusCode::OK,
            "text/html; charset=utf-8",
            pages::checkout(&o, institution.ok().flatten().as_ref(), note).into_bytes(),
        ),
        Ok(None) => not_found(&format!("order {id:?} not found")),
        Err(r) => admin_error(&r),
    }
}

/// A jump page, a redirect to the placed order's checkout, or an error.
fn jump_page(app: &App, page: Result<jump::JumpPage, Refusal>) -> Reply {
    match page {
        Ok(jump::JumpPage::Html { ok, html }) => {
            let status = if ok {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            reply(status, "text/html; charset=utf-8", html.into_bytes())
        }
        Ok(jump::JumpPage::Checkout(order_id)) => {
            let mut response = reply(
                StatusCode::SEE_OTHER,
                "text/plain; charset=utf-8",
                Vec::new(),
            );
            if let Ok(location) = header::HeaderValue::from_str(&app.pay_url(&order_id)) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        Ok(jump::JumpPage::NotFound) => not_found("no such jump"),
        Err(r) => admin_error(&r),
    }
}

/// The voucher exists once ET has remitted (status 3 or 4).
fn voucher(app: &App, file: &str) -> Reply {
    let Some(id) = file.strip_suffix(".pdf") else {
        return not_found("vouchers are PDF files");
    };
    match order(app, id) {
        Ok(Some(o))
            if matches!(
                OrderStatus::from_code(o.status),
                OrderStatus::AwaitingReceipt | OrderStatus::Completed
            ) =>
        {
            let pdf = pages::voucher_pdf(&o, &beijing_datetime(o.updated_at));
            reply(StatusCode::OK, "application/pdf", pdf)
        }
        Ok(_) => not_found(&format!("no remittance voucher for order {id:?}")),
        Err(r) => admin_error(&r),
    }
}

/// Whether the request says its body is JSON. Admin routes take only
/// `application/json`: an HTML form on any page the developer's browser
/// opens can post to the sandbox, but only as form data or text, and a
/// cross-site script's JSON post needs a CORS preflight the sandbox never
/// grants. The checkout page's pay form is not an admin route.
fn is_json(req: &Request<Bytes>) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

fn not_json() -> Reply {
    reply(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "text/plain; charset=utf-8",
        b"admin routes take Content-Type: application/json (a cross-site form cannot send it)"
            .to_vec(),
    )
}

/// The event an admin action path names.
pub fn admin_event(action: &str, query: &str) -> Option<Event> {
    let success = || {
        form_pairs(query)
            .find(|(k, _)| k == "success")
            .map(|(_, v)| v == "true" || v == "1")
    };
    match action {
        "pay" => Some(Event::Pay),
        "remit" => Some(Event::Remit),
        "receive" => Some(Event::Receive),
        "complete" => Some(Event::Complete),
        "close" => Some(Event::Close),
        "refund-result" => Some(Event::RefundResult {
            success: success()?,
            previous: OrderStatus::Refunding,
        }),
        _ => None,
    }
}

fn form_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned()))
}

fn admin_json(result: Result<String, Refusal>, app: &App) -> Reply {
    match result {
        Ok(id) => admin_view(app, &id),
        Err(r) => admin_error(&r),
    }
}

fn admin_error(r: &Refusal) -> Reply {
    let status = match r.code {
        SandboxCode::OrderNotFound => StatusCode::NOT_FOUND,
        SandboxCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::CONFLICT,
    };
    let body = serde_json::json!({ "status_code": r.code.as_str(), "message": r.message });
    reply(
        status,
        "application/json; charset=utf-8",
        body.to_string().into_bytes(),
    )
}

/// `GET /admin/orders/{id}`: the order and its notifications as JSON.
fn admin_view(app: &App, id: &str) -> Reply {
    let view = app.store.tx(|c| {
        let order = store::order(c, id)?;
        let notes = store::notifications(c, Some(id))?;
        let institution = store::order_institution(c, id)?;
        Ok::<_, rusqlite::Error>(order.map(|o| (o, notes, institution)))
    });
    match view {
        Ok(Some((o, notes, institution))) => {
            let body = serde_json::json!({
                "order": crate::OrderView::from(&o),
                "institution": institution,
                "notifications": notes.iter().map(crate::NotificationView::from).collect::<Vec<_>>(),
            });
            reply(
                StatusCode::OK,
                "application/json; charset=utf-8",
                body.to_string().into_bytes(),
            )
        }
        Ok(None) => admin_error(&crate::app::order_not_found(id)),
        Err(e) => admin_error(&Refusal::from(e)),
    }
}

fn advance_clock(app: &App, query: &str) -> Reply {
    let seconds = form_pairs(query)
        .find(|(k, _)| k == "seconds")
        .and_then(|(_, v)| v.parse::<u64>().ok());
    match seconds.map(|s| app.clock.advance(Duration::from_secs(s))) {
        Some(Err(refused)) => reply(
            StatusCode::BAD_REQUEST,
            "text/plain; charset=utf-8",
            refused.to_string().into_bytes(),
        ),
        Some(Ok(())) => {
            app.wake.notify_one();
            let body = serde_json::json!({ "now": beijing_datetime(app.clock.now()) });
            reply(
                StatusCode::OK,
                "application/json; charset=utf-8",
                body.to_string().into_bytes(),
            )
        }
        None => reply(
            StatusCode::BAD_REQUEST,
            "text/plain; charset=utf-8",
            b"POST /admin/clock/advance?seconds=N".to_vec(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_actions_map_to_events() {
        assert_eq!(admin_event("remit", ""), Some(Event::Remit));
        assert_eq!(
            admin_event("refund-result", "success=false"),
            Some(Event::RefundResult {
                success: false,
                previous: OrderStatus::Refunding
            })
        );
        assert_eq!(
            admin_event("refund-result", ""),
            None,
            "the outcome is required"
        );
        assert_eq!(admin_event("explode", ""), None);
    }

    #[test]
    fn query_values_are_percent_decoded() {
        assert_eq!(
            admin_event("refund-result", "note=a%26b&succ%65ss=%74rue"),
            Some(Event::RefundResult {
                success: true,
                previous: OrderStatus::Refunding
            })
        );
        let pairs: Vec<_> = form_pairs("a=x%20y&b=1+2&&c").collect();
        let expected = [("a", "x y"), ("b", "1 2"), ("c", "")];
        assert_eq!(pairs, expected.map(|(k, v)| (k.to_owned(), v.to_owned())));
    }
}
