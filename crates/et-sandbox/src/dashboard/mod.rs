//! The dashboard at `/`: orders, each order's timeline, creating request,
//! attachments and notifications, the request log, buttons for ET's side,
//! failures on demand (an order's fault rules and buttons adding one,
//! `/faults` with every rule and the magic values). Server-rendered with
//! maud (compile-time checked, every interpolation escaped), no front-end
//! build: one small script for the buttons and the self-refresh, one style
//! sheet, shared with ET's public pages ([`crate::public_pages`]).
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

mod sign_check;
mod views;

use sign_check::SignCheck;

use http::{header, HeaderValue, StatusCode};

use crate::admin::{param, AdminAction};
use crate::app::App;
use crate::faults::{Fault, FaultRule, Scope, Target, MAGIC};
use crate::html::{failed, not_found};
use crate::machine::Event;
use crate::page_reads::declined;
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

/// A number parameter; absent or not a number is `None`.
fn number(query: &str, name: &str) -> Option<i64> {
    param(query, name).and_then(|v| v.trim().parse().ok())
}

/// `GET /`: orders, newest first, filtered by `status`, paged by `before`.
pub(crate) fn orders(app: &App, query: &str) -> Reply {
    let status = number(query, "status");
    let before = number(query, "before");
    let rows = app.store.tx(|c| {
        let rows = store::orders_page(c, status, before, PAGE_SIZE)?;
        rows.into_iter()
            .map(|(seq, order)| {
                let declined = declined(c, &order.order_id)?;
                Ok(OrderRow {
                    seq,
                    order,
                    declined,
                })
            })
            .collect::<rusqlite::Result<Vec<_>>>()
    });
    match rows {
        Ok(rows) => html(StatusCode::OK, views::orders(app, &rows, status)),
        Err(e) => failed(&e.into()),
    }
}

/// A row of the orders list.
pub(crate) struct OrderRow {
    /// Its place in the list (the pager's key).
    seq: i64,
    order: store::OrderRecord,
    /// Whether its last payment was declined.
    declined: bool,
}

/// Everything the order page shows.
pub(crate) struct OrderPage {
    order: store::OrderRecord,
    /// Whether its last payment was declined.
    declined: bool,
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
            declined: declined(c, id)?,
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
        Ok(Some(entry)) => {
            // Redone for the page: a refused envelope is kept as received.
            let check = (!entry.verified && !entry.truncated)
                .then(|| SignCheck::of(app, &entry.payload))
                .flatten();
            html(StatusCode::OK, views::request(app, &entry, check.as_ref()))
        }
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
