//! The checkout page (`/pay/{order_id}`): what is due, a choice of how to
//! pay, Pay and Decline while the order awaits payment. An HTML form, no
//! script; the form carries the page's token.

use et_model::OrderStatus;
use http::StatusCode;
use maud::{html, Markup, DOCTYPE};

use crate::app::App;
use crate::html::{failed, not_found};
use crate::html::{head, money, money_due};
use crate::machine::Event;
use crate::reply::{html, Reply};
use crate::store::{self, OrderInstitution, OrderRecord};

/// The ways to pay the checkout page offers. ET's `pay_type` table is not
/// public, so these are the sandbox's own labels; the choice is noted on
/// the order's timeline and changes nothing else.
pub const PAY_METHODS: [(&str, &str); 3] = [
    ("card", "Bank card (UnionPay)"),
    ("alipay", "Alipay"),
    ("wechat", "WeChat Pay"),
];

/// `GET /pay/{id}`: the checkout page, with `note` (what just happened).
pub(crate) fn show(app: &App, id: &str, note: &str) -> Reply {
    let found = app.store.tx(|c| {
        let Some(order) = store::order(c, id)? else {
            return Ok::<_, rusqlite::Error>(None);
        };
        let institution = store::order_institution(c, id)?;
        let declined = crate::page_reads::declined(c, id)?;
        Ok(Some((order, institution, declined)))
    });
    match found {
        Ok(Some((o, institution, declined))) => {
            let page = page(&o, institution.as_ref(), declined, note, &app.form_token);
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
pub(crate) fn submit(app: &App, id: &str, form: &[u8]) -> Reply {
    let form = String::from_utf8_lossy(form);
    let field = |name: &str| {
        form_urlencoded::parse(form.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let token = field("token").unwrap_or_default();
    if !crate::access::same(&token, &app.form_token) {
        return refused(
            app,
            id,
            StatusCode::FORBIDDEN,
            "This form did not come from this page (or the sandbox restarted since it was \
             opened). Check the order and submit again.",
        );
    }
    let method = field("pay_type");
    let label = method
        .as_deref()
        .and_then(|m| PAY_METHODS.iter().find(|(key, _)| *key == m))
        .map(|(_, label)| *label);
    let (event, done) = match field("action").as_deref() {
        Some("pay") => (Event::Pay, "Payment received. Thank you."),
        Some("decline") => (
            Event::DeclinePayment,
            "Payment declined. You may try again.",
        ),
        _ => return refused(app, id, StatusCode::BAD_REQUEST, "Choose Pay or Decline."),
    };
    match app.transition(id, None, event, None) {
        Ok(_) => {
            if let Some(label) = label {
                note_last_change(app, id, &format!("on the checkout page, with {label}"));
            }
            show(app, id, done)
        }
        Err(r) if r.code == crate::SandboxCode::OrderNotFound => {
            not_found(&format!("order {id:?}"))
        }
        Err(r) => show(app, id, &r.message),
    }
}

/// The checkout page again with `note`, answered with `status` (a missing
/// order stays 404).
fn refused(app: &App, id: &str, status: StatusCode, note: &str) -> Reply {
    let mut page = show(app, id, note);
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

/// The page: the RMB due first, the order's facts, and the form while the
/// order awaits payment.
fn page(
    o: &OrderRecord,
    institution: Option<&OrderInstitution>,
    declined: bool,
    note: &str,
    token: &str,
) -> Markup {
    let status = o.status;
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(html! { "EasyTransfer sandbox checkout " (o.order_id) }, false))
            body.checkout { div.card {
                h1 { "EasyTransfer sandbox checkout" }
                @if !note.is_empty() { p.flash.note { (note) } }
                div.due #amount_rmb { (money_due(o)) }
                dl {
                    dt { "Order" } dd.code #order_id { (o.order_id) }
                    dt { "Merchant order" } dd { (o.merchant_order_id) }
                    @if let Some(i) = institution {
                        dt { "Institution" } dd #institution {
                            (i.institution_name_en) " " span lang="zh" { (i.institution_name_ch) }
                            " (" span.code { (i.institution_code) } ")"
                        }
                    }
                    dt { "Amount" } dd { (money(&o.amount, &o.currency_code)) }
                    dt { "Tuition in RMB" } dd { (money(&o.tuition_rmb, "RMB")) }
                    dt { "Fee in RMB" } dd { (money(&o.counter_fee, "RMB")) }
                    dt { "Status" } dd #order_status {
                        (o.status) " (" (status.meaning().unwrap_or("unknown")) ")"
                        @if declined && status == OrderStatus::AwaitingPayment { ": the last payment was declined" }
                    }
                }
                @if status == OrderStatus::AwaitingPayment {
                    form method="post" action=(format!("/pay/{}", o.order_id)) {
                        input type="hidden" name="token" value=(token);
                        fieldset {
                            legend { "Pay with" }
                            @for (i, (key, label)) in PAY_METHODS.iter().enumerate() {
                                label { input type="radio" name="pay_type" value=(key) checked[i == 0]; " " (label) }
                            }
                        }
                        button #pay type="submit" name="action" value="pay" { "Pay " (money_due(o)) }
                        button.danger #decline type="submit" name="action" value="decline" { "Decline payment" }
                    }
                }
                p.note { "A sandbox page: no money moves." }
            } }
        }
    }
}
