//! The dashboard at `/`: orders, each order's timeline, creating request,
//! attachments and notifications, the request log, buttons for ET's side,
//! failures on demand (an order's fault rules and buttons adding one,
//! `/faults` with every rule and the magic values), and the checkout page. Server-rendered with maud (compile-time checked,
//! every interpolation escaped), no front-end build: one small script for
//! the buttons and the self-refresh, one style sheet.
//!
//! Every page does bounded work: lists are keyset-paged at [`PAGE_SIZE`]
//! rows, an order's timeline, attachments and notifications are capped
//! too, and the request log keeps its last [`REQUEST_LOG_ROWS`] entries.
//! Pages answer through the one responder (`crate::reply`), with a
//! Content-Security-Policy that allows only the sandbox's own script and
//! style sheet, so text that escaped escaping still could not run.
//!
//! Decrypted payloads shown here are the merchant's own test data; no page
//! shows a private key, an AES key or the notification salt.

mod views;

use http::{header, HeaderValue, StatusCode};

use crate::admin::{param, AdminAction};
use crate::app::App;
use crate::codes::Refusal;
use crate::faults::{Fault, FaultRule, Scope, Target, MAGIC};
use crate::machine::Event;
use crate::reply::{html, reply, Reply};
use crate::store;

pub(crate) use crate::request_log::{MAX_LOGGED_PAYLOAD, REQUEST_LOG_ROWS};

/// Rows on one page of a list (orders, notifications, request log).
pub const PAGE_SIZE: i64 = 50;
/// The most status changes, attachments and notifications one order page
/// shows (the newest).
pub const ORDER_PAGE_ROWS: i64 = 100;
/// The most delivery attempts shown per notification (the newest): ET's
/// schedule makes 7, and every "Redeliver now" one more.
pub const ATTEMPTS_SHOWN: i64 = 20;

/// A notification and its last [`ATTEMPTS_SHOWN`] delivery attempts.
pub(crate) type NotificationRow = (store::OutboxRecord, Vec<store::DeliveryAttemptRecord>);

/// `rows` with their delivery attempts.
fn with_attempts(
    c: &rusqlite::Connection,
    rows: Vec<store::OutboxRecord>,
) -> rusqlite::Result<Vec<NotificationRow>> {
    rows.into_iter()
        .map(|n| {
            let attempts = store::last_notification_attempts(c, n.id, ATTEMPTS_SHOWN)?;
            Ok((n, attempts))
        })
        .collect()
}

/// The ways to pay the checkout page offers. ET's `pay_type` table is not
/// public, so these are the sandbox's own labels; the choice is noted on
/// the order's timeline and changes nothing else.
pub const PAY_METHODS: [(&str, &str); 3] = [
    ("card", "Bank card (UnionPay)"),
    ("alipay", "Alipay"),
    ("wechat", "WeChat Pay"),
];

fn not_found(what: &str) -> Reply {
    html(StatusCode::NOT_FOUND, views::problem("Not found", what))
}

fn failed(r: &Refusal) -> Reply {
    tracing::error!(error = %r.message, "a dashboard page failed");
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        views::problem("Failed", &r.message),
    )
}

/// A number parameter; absent or not a number is `None`.
fn number(query: &str, name: &str) -> Option<i64> {
    param(query, name).and_then(|v| v.trim().parse().ok())
}

/// `GET /`: orders, newest first, filtered by `status`, paged by `before`.
pub(crate) fn orders(app: &App, query: &str) -> Reply {
    let status = number(query, "status");
    let before = number(query, "before");
    let rows = app
        .store
        .tx(|c| store::orders_page(c, status, before, PAGE_SIZE));
    match rows {
        Ok(rows) => html(StatusCode::OK, views::orders(app, &rows, status)),
        Err(e) => failed(&e.into()),
    }
}

/// Everything the order page shows.
pub(crate) struct OrderPage {
    order: store::OrderRecord,
    institution: Option<store::OrderInstitution>,
    history: Vec<store::StatusChange>,
    request: Option<store::OrderRequest>,
    attachments: Vec<store::AttachmentInfo>,
    notifications: Vec<NotificationRow>,
    /// The rules naming this order or its merchant, and the `next` rules,
    /// in matching order.
    faults: Vec<FaultRule>,
    /// The magic values this order carries.
    magic: Vec<&'static Fault>,
}

/// `GET /orders/{id}`.
pub(crate) fn order(app: &App, id: &str) -> Reply {
    let page = app.store.tx(|c| {
        let Some(order) = store::order(c, id)? else {
            return Ok::<_, rusqlite::Error>(None);
        };
        Ok(Some(OrderPage {
            institution: store::order_institution(c, id)?,
            history: store::status_history(c, id, ORDER_PAGE_ROWS)?,
            request: store::order_request(c, id)?,
            attachments: store::attachments(c, id, ORDER_PAGE_ROWS)?,
            notifications: with_attempts(
                c,
                store::notifications_page(c, Some(id), None, ORDER_PAGE_ROWS)?,
            )?,
            faults: Vec::new(),
            magic: Vec::new(),
            order,
        }))
    });
    let page = page.map(|page| page.map(|page| with_faults(app, page)));
    match page {
        Ok(Some(page)) => html(StatusCode::OK, views::order(app, &page)),
        Ok(None) => not_found(&format!("order {id:?}")),
        Err(e) => failed(&e.into()),
    }
}

/// `page` with the fault rules and magic values that apply to its order.
fn with_faults(app: &App, mut page: OrderPage) -> OrderPage {
    let o = &page.order;
    let target = Target {
        merchant_number: &o.merchant_number,
        order_id: Some(&o.order_id),
        merchant_order_id: Some(&o.merchant_order_id),
        amount: Some(o.amount.as_str()),
    };
    page.faults = app
        .faults
        .list()
        .into_iter()
        .filter(|r| r.scope.names(&target) || matches!(r.scope, Scope::Next(_)))
        .collect();
    page.magic = MAGIC
        .iter()
        .filter(|(m, _)| m.matches(&target))
        .map(|(_, f)| f)
        .collect();
    page
}

/// `GET /faults`: every fault rule, and the magic values.
pub(crate) fn faults(app: &App) -> Reply {
    html(StatusCode::OK, views::faults(app, &app.faults.list()))
}

/// `GET /notifications`: every notification, newest first, paged.
pub(crate) fn notifications(app: &App, query: &str) -> Reply {
    let before = number(query, "before");
    let rows = app.store.tx(|c| {
        let rows = store::notifications_page(c, None, before, PAGE_SIZE)?;
        with_attempts(c, rows)
    });
    match rows {
        Ok(rows) => html(StatusCode::OK, views::notifications(app, &rows)),
        Err(e) => failed(&e.into()),
    }
}

/// `GET /requests`: the request log, newest first, paged.
pub(crate) fn requests(app: &App, query: &str) -> Reply {
    let before = number(query, "before");
    let rows = crate::request_log::page(app, before, PAGE_SIZE);
    match rows {
        Ok(rows) => html(StatusCode::OK, views::requests(app, &rows)),
        Err(e) => failed(&e.into()),
    }
}

/// `GET /requests/{id}`: one logged request with its payload.
pub(crate) fn request(app: &App, id: &str) -> Reply {
    let Ok(id) = id.parse::<i64>() else {
        return not_found(&format!("logged request {id:?}"));
    };
    match crate::request_log::entry(app, id) {
        Ok(Some(entry)) => html(StatusCode::OK, views::request(app, &entry)),
        Ok(None) => not_found(&format!(
            "logged request {id} (the log keeps the last {REQUEST_LOG_ROWS})"
        )),
        Err(e) => failed(&e.into()),
    }
}

/// `GET /attachments/{id}`: the file as uploaded, always as a download
/// (`application/octet-stream`, `nosniff`), never rendered by the browser:
/// its bytes are the merchant's, and could be HTML.
pub(crate) fn attachment(app: &App, id: &str) -> Reply {
    let found = id
        .parse::<i64>()
        .ok()
        .map(|id| app.store.tx(|c| store::attachment(c, id)));
    let (name, base64) = match found {
        Some(Ok(Some(file))) => file,
        Some(Err(e)) => return failed(&e.into()),
        _ => return not_found(&format!("attachment {id:?}")),
    };
    let Ok(bytes) = et_crypto::b64_decode(base64.as_bytes()) else {
        return not_found(&format!("attachment {id:?} (not Base64)"));
    };
    let mut response = reply(StatusCode::OK, "application/octet-stream", bytes);
    if let Ok(disposition) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        download_name(&name)
    )) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, disposition);
    }
    response
}

/// The file name as a header-safe ASCII token (the merchant chose it).
fn download_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if safe.trim_matches('.').is_empty() {
        "attachment".to_owned()
    } else {
        safe
    }
}

/// `GET /static/{file}`: the dashboard's script and style sheet.
pub(crate) fn asset(file: &str) -> Reply {
    match file {
        "dashboard.js" => reply(
            StatusCode::OK,
            "text/javascript; charset=utf-8",
            include_str!("dashboard.js"),
        ),
        "dashboard.css" => reply(
            StatusCode::OK,
            "text/css; charset=utf-8",
            include_str!("dashboard.css"),
        ),
        _ => not_found(&format!("/static/{file}")),
    }
}

/// `GET /pay/{id}`: the checkout page, with `note` (what just happened).
pub(crate) fn checkout(app: &App, id: &str, note: &str) -> Reply {
    let found = app.store.tx(|c| {
        let order = store::order(c, id)?;
        Ok::<_, rusqlite::Error>(order.map(|o| (o, store::order_institution(c, id))))
    });
    match found {
        Ok(Some((o, institution))) => {
            let institution = institution.ok().flatten();
            let page = views::checkout(&o, institution.as_ref(), note, &app.form_token);
            html(StatusCode::OK, page)
        }
        Ok(None) => not_found(&format!("order {id:?}")),
        Err(e) => failed(&e.into()),
    }
}

/// `POST /pay/{id}`: the payer pays (`action=pay`, with a `pay_type` of
/// [`PAY_METHODS`]) or declines (`action=decline`); any other `action`, or
/// none, is `400` and the page again. The form must carry the page's token
/// (`403` and the page again, with a fresh one, if not).
pub(crate) fn checkout_submit(app: &App, id: &str, form: &[u8]) -> Reply {
    let form = String::from_utf8_lossy(form);
    let token = param(&form, "token").unwrap_or_default();
    if !crate::access::same(&token, &app.form_token) {
        return checkout_refused(
            app,
            id,
            StatusCode::FORBIDDEN,
            "This form did not come from this page (or the sandbox restarted since it was \
             opened). Check the order and submit again.",
        );
    }
    let action = param(&form, "action");
    let method = param(&form, "pay_type");
    let label = method
        .as_deref()
        .and_then(|m| PAY_METHODS.iter().find(|(key, _)| *key == m))
        .map(|(_, label)| *label);
    let (event, done) = match action.as_deref() {
        Some("pay") => (Event::Pay, "Payment received. Thank you."),
        Some("decline") => (
            Event::DeclinePayment,
            "Payment declined. You may try again.",
        ),
        _ => {
            let note = "Choose Pay or Decline.";
            return checkout_refused(app, id, StatusCode::BAD_REQUEST, note);
        }
    };
    match app.transition(id, None, event, None) {
        Ok(_) => {
            if let Some(label) = label {
                note_last_change(app, id, &format!("on the checkout page, with {label}"));
            }
            checkout(app, id, done)
        }
        Err(r) if r.code == crate::SandboxCode::OrderNotFound => {
            not_found(&format!("order {id:?}"))
        }
        Err(r) => checkout(app, id, &r.message),
    }
}

/// The checkout page again with `note`, answered with `status` (a missing
/// order stays 404).
fn checkout_refused(app: &App, id: &str, status: StatusCode, note: &str) -> Reply {
    let mut page = checkout(app, id, note);
    if page.status() == StatusCode::OK {
        *page.status_mut() = status;
    }
    page
}

/// Notes how the payer paid on the order's last timeline step (the step
/// itself was written with the status change).
fn note_last_change(app: &App, id: &str, note: &str) {
    if let Err(e) = app.store.tx(|c| store::note_last_status(c, id, note)) {
        tracing::warn!(order_id = id, error = %e, "noting the pay type failed");
    }
}

/// The buttons an order offers: (label, admin route, style), one for each
/// of [`AdminAction::ORDER_STEPS`] the order's status allows.
fn actions(o: &store::OrderRecord) -> Vec<(&'static str, String, &'static str)> {
    let (status, before_refund) = (o.status, o.status_before_refund);
    AdminAction::ORDER_STEPS
        .into_iter()
        .filter(|(_, event, ..)| crate::machine::next(status, before_refund, *event).is_ok())
        .map(|(_, event, label, _)| {
            let undoes = matches!(
                event,
                Event::DeclinePayment | Event::Close | Event::RefundResult { success: false }
            );
            let order_id = o.order_id.clone();
            let path = AdminAction::OrderStep { order_id, event }.path();
            (label, path, if undoes { "danger" } else { "" })
        })
        .collect()
}
