//! What every page shares, ET's public pages and the dashboard alike: the
//! `<head>` and money as people read it. Every page is a maud template
//! (every interpolation escaped, checked when the crate compiles), sent by
//! the one responder ([`crate::reply::html`]).

use et_model::Amount;
use http::StatusCode;
use maud::{html, Markup, DOCTYPE};

use crate::codes::Refusal;
use crate::reply::{self, Reply};

/// The `<head>` of every page: the style sheet, and the dashboard's script
/// on the dashboard's pages (ET's public pages run none).
pub(crate) fn head(title: Markup, script: bool) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) }
            link rel="stylesheet" href="/static/dashboard.css";
            @if script { script src="/static/dashboard.js" defer {} }
        }
    }
}

/// An amount as people read it, as page text that never breaks inside.
pub(crate) fn money(amount: &Amount, currency: &str) -> Markup {
    html! { span.money { (amount.readable(currency)) } }
}

/// What an order asks the payer for ([`amount_due`](crate::money::amount_due)),
/// or why it cannot be shown (a stored amount that does not read).
pub(crate) fn money_due(o: &crate::store::OrderRecord) -> Markup {
    match crate::money::amount_due(o) {
        Ok(due) => money(&due, "RMB"),
        Err(e) => html! { span.no { (e) } },
    }
}

/// A bare page saying what went wrong (`title`: "Not found", "Failed").
pub(crate) fn problem(title: &str, what: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(html! { (title) " · EasyTransfer sandbox" }, false))
            body.checkout { div.card {
                h1 { (title) }
                p { (what) }
            } }
        }
    }
}

/// `404` with a page naming what was not found.
pub(crate) fn not_found(what: &str) -> Reply {
    reply::html(StatusCode::NOT_FOUND, problem("Not found", what))
}

/// `500` with a page saying what failed (logged too).
pub(crate) fn failed(r: &Refusal) -> Reply {
    tracing::error!(error = %r.message, "a page failed");
    reply::html(
        StatusCode::INTERNAL_SERVER_ERROR,
        problem("Failed", &r.message),
    )
}
