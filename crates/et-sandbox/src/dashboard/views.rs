//! The dashboard's pages, as maud templates: every `(value)` is
//! HTML-escaped, and the templates are checked when the crate compiles.

use et_model::OrderStatus;
use maud::{html, Markup, DOCTYPE};

use super::{
    actions, NotificationRow, OrderPage, ORDER_PAGE_ROWS, PAGE_SIZE, PAY_METHODS, REQUEST_LOG_ROWS,
};
use crate::app::App;
use crate::clock::{beijing_datetime, Millis};
use crate::money::amount_due;
use crate::store::{DeliveryAttemptRecord, LoggedRequest, OrderInstitution, OrderRecord};

/// Seconds between self-refreshes of the lists and the order page.
const REFRESH_SECONDS: u32 = 5;

/// Clock buttons in the header: (label, seconds).
const ADVANCES: [(&str, u64); 4] = [
    ("+1 min", 60),
    ("+1 h", 3_600),
    ("+1 day", 86_400),
    ("+8 days", 8 * 86_400),
];

fn layout(app: &App, title: &str, refresh: bool, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · EasyTransfer sandbox" }
                link rel="stylesheet" href="/static/dashboard.css";
                script src="/static/dashboard.js" defer {}
            }
            body data-refresh=(if refresh { REFRESH_SECONDS } else { 0 }) {
                header {
                    a href="/" { "Orders" }
                    a href="/notifications" { "Notifications" }
                    a href="/requests" { "Request log" }
                    span.clock {
                        "Sandbox time " span #now { (beijing_datetime(app.clock.now())) } " (Beijing) "
                        @for (label, seconds) in ADVANCES {
                            button data-post=(format!("/admin/clock/advance?seconds={seconds}")) { (label) }
                        }
                    }
                }
                main { (body) }
                footer {
                    "Decrypted payloads on these pages are the merchant's own test data. "
                    "The sandbox never shows private keys, AES keys or the notification salt."
                }
                div #result role="status" {}
            }
        }
    }
}

fn status(code: i64) -> Markup {
    let meaning = OrderStatus::from_code(code).meaning().unwrap_or("unknown");
    html! { span class=(format!("status s{code}")) { (code) " " (meaning) } }
}

fn time(ms: Option<Millis>) -> Markup {
    html! { @if let Some(ms) = ms { (beijing_datetime(ms)) } @else { "—" } }
}

fn older(path: &str, extra: &str, last: Option<i64>, full: bool) -> Markup {
    html! {
        p.pager {
            @if let (Some(last), true) = (last, full) {
                a href=(format!("{path}?{extra}before={last}")) { "Older →" }
            }
        }
    }
}

/// A bare page saying what went wrong (`title`: "Not found", "Failed").
pub(super) fn problem(title: &str, what: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (title) " · EasyTransfer sandbox" } }
            body { p { (title) ": " (what) } p { a href="/" { "Back to the dashboard" } } }
        }
    }
}

/// The orders list.
pub(super) fn orders(app: &App, rows: &[(i64, OrderRecord)], filter: Option<i64>) -> Markup {
    let extra = filter.map_or(String::new(), |s| format!("status={s}&"));
    let body = html! {
        h1 { "Orders" }
        form.filter method="get" action="/" {
            label { "Status " select name="status" {
                option value="" selected[filter.is_none()] { "any" }
                @for s in OrderStatus::ALL {
                    option value=(s.code()) selected[filter == Some(s.code())] {
                        (s.code()) " " (s.meaning().unwrap_or_default())
                    }
                }
            } }
            button.secondary type="submit" { "Filter" }
        }
        @if rows.is_empty() {
            p.note { "No orders yet. Create one with create_order on POST /server." }
        } @else {
            div.scroll { table #orders {
                thead { tr {
                    th { "ET order" } th { "Merchant order" } th { "Status" }
                    th { "Amount" } th { "RMB due" } th { "Created (Beijing)" }
                } }
                tbody { @for (_, o) in rows { tr {
                    td.mono { a href=(format!("/orders/{}", o.order_id)) { (o.order_id) } }
                    td.merchant-order { (o.merchant_order_id) }
                    td { (status(o.status)) }
                    td.num { (o.amount) " " (o.currency_code) }
                    td.num { (amount_due(o)) }
                    td { (beijing_datetime(o.created_at)) }
                } } }
            } }
        }
        (older("/", &extra, rows.last().map(|(seq, _)| *seq), rows.len() as i64 == PAGE_SIZE))
    };
    layout(app, "Orders", true, body)
}

fn notification_rows(rows: &[NotificationRow], with_order: bool) -> Markup {
    let columns = if with_order { 9 } else { 8 };
    html! {
        div.scroll { table.notifications {
            thead { tr {
                th { "#" }
                @if with_order { th { "Order" } }
                th { "Kind" } th { "URL" } th { "Attempts" } th { "Delivered" }
                th { "Next attempt" } th { "Last error" } th {}
            } }
            tbody { @for (n, attempts) in rows {
                tr {
                    td.num { (n.id) }
                    @if with_order {
                        td.mono { a href=(format!("/orders/{}", n.order_id)) { (n.order_id) } }
                    }
                    td { (n.kind) details { summary { "body" } pre { (n.body) } } }
                    td.mono { (n.url) }
                    td.num.attempts { (n.attempts) }
                    td { @if n.delivered_at.is_some() { span.yes { "yes " } } (time(n.delivered_at)) }
                    td { (time(n.next_attempt_at)) }
                    td.last-error { (n.last_error) }
                    td { button.secondary data-post=(format!("/admin/notifications/{}/redeliver", n.id)) {
                        "Redeliver now"
                    } }
                }
                @if !attempts.is_empty() {
                    tr.attempts-row { td colspan=(columns) { (attempt_rows(attempts)) } }
                }
            } }
        } }
    }
}

/// A notification's delivery attempts: when, where, what came back.
fn attempt_rows(attempts: &[DeliveryAttemptRecord]) -> Markup {
    html! {
        table.attempts {
            thead { tr {
                th { "Attempt at" } th { "URL" } th { "HTTP" } th { "Outcome" }
                th { "Reply (first bytes)" } th { "Latency" } th { "Next retry" }
            } }
            tbody { @for a in attempts { tr {
                td { (beijing_datetime(a.attempted_at)) }
                td.mono { (a.url) }
                td.num.http-status { @if let Some(s) = a.http_status { (s) } @else { "—" } }
                td { @if a.failure.is_empty() { span.yes { "acknowledged" } } @else { span.no { (a.failure) } } }
                td.mono.reply { (String::from_utf8_lossy(&a.reply_head)) }
                td.num { (a.latency_ms) " ms" }
                td { (time(a.next_attempt_at)) }
            } } }
        }
    }
}

/// One order: facts, buttons, timeline, creating request, attachments,
/// notifications.
pub(super) fn order(app: &App, p: &OrderPage) -> Markup {
    let o = &p.order;
    let current = OrderStatus::from_code(o.status);
    let body = html! {
        h1 { "Order " span.mono #order-id { (o.order_id) } }
        table {
            tr { th { "Merchant order" } td #merchant-order-id { (o.merchant_order_id) } }
            tr { th { "Merchant" } td { (o.merchant_number) " / " (o.sub_merchant_number) } }
            tr { th { "Status" } td #order-status { (status(o.status)) } }
            @if let Some(i) = &p.institution {
                tr { th { "Institution" } td { (i.institution_name_en) " " (i.institution_name_ch) " (" (i.institution_code) ")" } }
            }
            tr { th { "Amount" } td { (o.amount) " " (o.currency_code) } }
            tr { th { "RMB due" } td { (amount_due(o)) " (tuition " (o.tuition_rmb) " + fee " (o.counter_fee) ")" } }
            @if !o.refund_order_id.is_empty() {
                tr { th { "Refund" } td { (o.refund_order_id) ": " (o.refund_amount) " RMB" } }
            }
            tr { th { "Created" } td { (beijing_datetime(o.created_at)) } }
            tr { th { "Checkout" } td { a href=(app.pay_url(&o.order_id)) { (app.pay_url(&o.order_id)) } } }
            @if matches!(current, OrderStatus::AwaitingReceipt | OrderStatus::Completed) {
                tr { th { "Voucher" } td { a href=(app.voucher_url(&o.order_id)) { "remittance voucher (PDF)" } } }
            }
        }
        h2 { "ET's side" }
        @let buttons = actions(o);
        p #actions {
            @for (label, route, style) in &buttons {
                button class=(style) data-post=(route) { (label) }
            }
            @if buttons.is_empty() { span.note { "No step of ET's is possible in this status." } }
        }
        // Failures on demand (issue 12 §2) get their buttons here, at merge.
        section #faults {}
        h2 { "Timeline" }
        ol.timeline #timeline {
            li { (beijing_datetime(o.created_at)) " — created: " (status(0)) }
            @for step in &p.history {
                li {
                    (beijing_datetime(step.at)) " — " (step.event) ": "
                    @if step.from_status == step.to_status {
                        "stays " (status(step.to_status))
                    } @else {
                        (status(step.from_status)) " → " (status(step.to_status))
                    }
                    @if !step.note.is_empty() { " " span.note { (step.note) } }
                }
            }
        }
        @if p.history.len() as i64 == ORDER_PAGE_ROWS { p.note { "Only the last " (ORDER_PAGE_ROWS) " steps are shown." } }
        h2 { "Creating request" }
        @if let Some(r) = &p.request {
            p.note { (r.server_type) ", decrypted with ET's key: the merchant's own test data." }
            details { summary { "data" } pre #request-data { (r.data) } }
            details { summary { "sensitive_data (decrypted)" } pre #request-sensitive { (r.sensitive_data) } }
        } @else {
            p.note { "Not kept (a jump's order, or one created before the sandbox kept requests)." }
        }
        h2 { "Attachments" }
        @if p.attachments.is_empty() { p.note { "None." } } @else {
            table #attachments {
                thead { tr { th { "Type" } th { "File" } th { "Size (Base64)" } th { "Uploaded" } } }
                tbody { @for a in &p.attachments { tr {
                    td.num { (a.attachment_type) }
                    td { a href=(format!("/attachments/{}", a.id)) { (a.file_name) } }
                    td.num { (a.base64_len) }
                    td { (beijing_datetime(a.uploaded_at)) }
                } } }
            }
        }
        h2 { "Notifications" }
        @if p.notifications.is_empty() { p.note { "None yet." } } @else {
            (notification_rows(&p.notifications, false))
        }
    };
    layout(app, &o.order_id, true, body)
}

/// Every notification.
pub(super) fn notifications(app: &App, rows: &[NotificationRow]) -> Markup {
    let body = html! {
        h1 { "Notifications" }
        p.note { "Each is tried at once, then after 1, 5, 10, 30, 60 and 120 minutes of sandbox time, until the merchant answers {\"notify_result\":\"OK\"}." }
        @if rows.is_empty() { p.note { "None yet." } } @else { (notification_rows(rows, true)) }
        (older("/notifications", "", rows.last().map(|(n, _)| n.id), rows.len() as i64 == PAGE_SIZE))
    };
    layout(app, "Notifications", true, body)
}

fn verified(e: &LoggedRequest) -> Markup {
    html! {
        @if e.verified { span.yes { "verified" } }
        @else { span.no { "not verified" } ": " span.refusal { (e.refusal) } }
    }
}

/// The request log.
pub(super) fn requests(app: &App, rows: &[LoggedRequest]) -> Markup {
    let body = html! {
        h1 { "Request log" }
        p.note { "Every envelope received on POST /server (the last " (REQUEST_LOG_ROWS) "), newest first." }
        @if rows.is_empty() { p.note { "None yet." } } @else {
            div.scroll { table #requests {
                thead { tr {
                    th { "#" } th { "Received" } th { "server_type" } th { "serial_number" }
                    th { "Verified" } th { "Answered" } th { "Latency" } th {}
                } }
                tbody { @for e in rows { tr {
                    td.num { (e.id) }
                    td { (beijing_datetime(e.received_at)) }
                    td.mono { (e.server_type) }
                    td.mono { (e.serial_number) }
                    td { (verified(e)) }
                    td { span.mono { (e.status_code) } " " (e.message) }
                    td.num { (format!("{:.1} ms", e.latency_us as f64 / 1000.0)) }
                    td { a href=(format!("/requests/{}", e.id)) { "payload" } }
                } } }
            } }
        }
        (older("/requests", "", rows.last().map(|e| e.id), rows.len() as i64 == PAGE_SIZE))
    };
    layout(app, "Request log", true, body)
}

/// One logged request and its payload.
pub(super) fn request(app: &App, e: &LoggedRequest) -> Markup {
    let body = html! {
        h1 { "Request " (e.id) }
        table {
            tr { th { "Received" } td { (beijing_datetime(e.received_at)) } }
            tr { th { "Merchant" } td.mono { (e.merchant_number) } }
            tr { th { "server_type" } td.mono { (e.server_type) } }
            tr { th { "serial_number" } td.mono { (e.serial_number) } }
            tr { th { "Verified" } td #verified { (verified(e)) } }
            tr { th { "Answered" } td { span.mono { (e.status_code) } " " (e.message) } }
            tr { th { "Latency" } td { (format!("{:.1} ms", e.latency_us as f64 / 1000.0)) } }
        }
        h2 { @if e.verified { "Payload, decrypted" } @else { "Body as received" } }
        p.note {
            @if e.verified { "Decrypted with ET's private key: the merchant's own test data." }
            @else { "It did not open, so this is the envelope as sent." }
            @if e.truncated { " Cut at " (super::MAX_LOGGED_PAYLOAD) " bytes." }
        }
        pre #payload { (e.payload) }
    };
    layout(app, &format!("Request {}", e.id), false, body)
}

/// The checkout page: what is due, a choice of how to pay, Pay and
/// Decline while the order awaits payment.
pub(super) fn checkout(
    o: &OrderRecord,
    institution: Option<&OrderInstitution>,
    note: &str,
) -> Markup {
    let open = OrderStatus::from_code(o.status) == OrderStatus::AwaitingPayment;
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "EasyTransfer sandbox checkout " (o.order_id) }
                link rel="stylesheet" href="/static/dashboard.css";
            }
            body.checkout { div.card {
                h1 { "EasyTransfer sandbox checkout" }
                @if !note.is_empty() { p.flash.note { (note) } }
                div.due #amount_rmb { (amount_due(o)) " RMB" }
                dl {
                    dt { "Order" } dd #order_id { (o.order_id) }
                    dt { "Merchant order" } dd { (o.merchant_order_id) }
                    @if let Some(i) = institution {
                        dt { "Institution" } dd #institution { (i.institution_name_en) " " (i.institution_name_ch) " (" (i.institution_code) ")" }
                    }
                    dt { "Amount" } dd { (o.amount) " " (o.currency_code) }
                    dt { "Tuition in RMB" } dd { (o.tuition_rmb) }
                    dt { "Fee in RMB" } dd { (o.counter_fee) }
                    dt { "Status" } dd #order_status { (o.status) " (" (OrderStatus::from_code(o.status).meaning().unwrap_or("unknown")) ")" }
                }
                @if open {
                    form method="post" action=(format!("/pay/{}", o.order_id)) {
                        fieldset {
                            legend { "Pay with" }
                            @for (i, (key, label)) in PAY_METHODS.iter().enumerate() {
                                label { input type="radio" name="pay_type" value=(key) checked[i == 0]; " " (label) }
                            }
                        }
                        button #pay type="submit" name="action" value="pay" { "Pay " (amount_due(o)) " RMB" }
                        button.danger #decline type="submit" name="action" value="decline" { "Decline payment" }
                    }
                }
                p.note { "A sandbox page: no money moves." }
            } }
        }
    }
}
