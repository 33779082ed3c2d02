//! The dashboard's pages, as maud templates: every `(value)` is
//! HTML-escaped, and the templates are checked when the crate compiles.

use et_model::OrderStatus;
use maud::{html, Markup, DOCTYPE};

use super::{
    actions, NotificationRow, OrderPage, ORDER_PAGE_ROWS, PAGE_SIZE, PAY_METHODS, REQUEST_LOG_ROWS,
};
use crate::app::App;
use crate::clock::{beijing_datetime, Millis};
use crate::faults::{self, Fault, FaultRule, Scope, Stage};
use crate::money::amount_due_text;
use crate::pages::head;
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
            (head(html! { (title) " · EasyTransfer sandbox" }, true))
            body data-refresh=(if refresh { REFRESH_SECONDS } else { 0 }) {
                header {
                    a href="/" { "Orders" }
                    a href="/notifications" { "Notifications" }
                    a href="/requests" { "Request log" }
                    a href="/faults" { "Faults" }
                    span.clock {
                        "Sandbox time " span #now { (beijing_datetime(app.clock.now())) } " (Beijing) "
                        @for (label, seconds) in ADVANCES {
                            button data-post=(format!("/admin/clock/advance?seconds={seconds}")) { (label) }
                        }
                        button.secondary data-post="/admin/clock/reset" title="Back to real time; pending notifications move back as much" { "Reset" }
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

fn status(s: OrderStatus) -> Markup {
    let (code, meaning) = (s.code(), s.meaning().unwrap_or("unknown"));
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
                    td.num { (amount_due_text(o)) }
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
                    td { (n.kind.as_str()) details { summary { "body" } pre { (n.body) } } }
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
                td { @if let Some(f) = a.failure { span.no { (f) } } @else { span.yes { "acknowledged" } } }
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
    let current = o.status;
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
            tr { th { "RMB due" } td { (amount_due_text(o)) " (tuition " (o.tuition_rmb) " + fee " (o.counter_fee) ")" } }
            @if !o.refund_order_id.is_empty() {
                tr { th { "Refund" } td { (o.refund_order_id) ": " (o.refund_amount.as_ref().map_or("", |a| a.as_str())) " RMB" } }
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
        section #faults { (order_faults(o, p)) }
        h2 { "Timeline" }
        ol.timeline #timeline {
            li { (beijing_datetime(o.created_at)) " — created: " (status(OrderStatus::AwaitingPayment)) }
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
    token: &str,
) -> Markup {
    let open = o.status == OrderStatus::AwaitingPayment;
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(html! { "EasyTransfer sandbox checkout " (o.order_id) }, false))
            body.checkout { div.card {
                h1 { "EasyTransfer sandbox checkout" }
                @if !note.is_empty() { p.flash.note { (note) } }
                div.due #amount_rmb { (amount_due_text(o)) " RMB" }
                dl {
                    dt { "Order" } dd #order_id { (o.order_id) }
                    dt { "Merchant order" } dd { (o.merchant_order_id) }
                    @if let Some(i) = institution {
                        dt { "Institution" } dd #institution { (i.institution_name_en) " " (i.institution_name_ch) " (" (i.institution_code) ")" }
                    }
                    dt { "Amount" } dd { (o.amount) " " (o.currency_code) }
                    dt { "Tuition in RMB" } dd { (o.tuition_rmb) }
                    dt { "Fee in RMB" } dd { (o.counter_fee) }
                    dt { "Status" } dd #order_status { (o.status.code()) " (" (o.status.meaning().unwrap_or("unknown")) ")" }
                }
                @if open {
                    form method="post" action=(format!("/pay/{}", o.order_id)) {
                        input type="hidden" name="token" value=(token);
                        fieldset {
                            legend { "Pay with" }
                            @for (i, (key, label)) in PAY_METHODS.iter().enumerate() {
                                label { input type="radio" name="pay_type" value=(key) checked[i == 0]; " " (label) }
                            }
                        }
                        button #pay type="submit" name="action" value="pay" { "Pay " (amount_due_text(o)) " RMB" }
                        button.danger #decline type="submit" name="action" value="decline" { "Decline payment" }
                    }
                }
                p.note { "A sandbox page: no money moves." }
            } }
        }
    }
}

/// The magic values, as the crate docs show them: one table, one source.
const MAGIC_VALUES: &str = include_str!("../magic-values.md");

/// A rule's scope or fault in words: `{"kind": "notify_drop", "attempts": 2}`
/// reads `notify_drop attempts 2`.
fn words(value: &impl serde::Serialize) -> String {
    let Ok(serde_json::Value::Object(mut fields)) = serde_json::to_value(value) else {
        return String::new();
    };
    let kind = fields.remove("kind");
    let text = |v: &serde_json::Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    kind.iter()
        .map(text)
        .chain(fields.iter().map(|(k, v)| format!("{k} {}", text(v))))
        .collect::<Vec<_>>()
        .join(" ")
}

fn rule_rows(rules: &[FaultRule]) -> Markup {
    html! {
        table.fault-rules {
            thead { tr { th { "Scope" } th { "Failure" } } }
            tbody { @for r in rules { tr {
                td.mono.scope { (words(&r.scope)) }
                td.mono.fault { (words(&r.fault)) }
            } } }
        }
    }
}

/// The rule `fault` for order `order_id`, as `POST /admin/faults` takes it.
fn rule_json(order_id: &str, fault: Fault) -> String {
    let rule = FaultRule {
        scope: Scope::OrderId(order_id.to_owned()),
        fault,
    };
    serde_json::to_string(&rule).unwrap_or_default()
}

/// The one-click failures for an order: (label, fault).
fn fault_buttons() -> Vec<(&'static str, Fault)> {
    use Fault::*;
    use Stage::{AfterCommit as After, BeforeCommit as Before};
    vec![
        (
            "HTTP 500 before commit",
            HttpStatus {
                status: 500,
                at: Before,
            },
        ),
        (
            "HTTP 500 after commit",
            HttpStatus {
                status: 500,
                at: After,
            },
        ),
        (
            "HTTP 502 before commit",
            HttpStatus {
                status: 502,
                at: Before,
            },
        ),
        (
            "HTTP 502 after commit",
            HttpStatus {
                status: 502,
                at: After,
            },
        ),
        (
            "Timeout before commit",
            Timeout {
                at: Before,
                hold_ms: None,
            },
        ),
        (
            "Timeout after commit",
            Timeout {
                at: After,
                hold_ms: None,
            },
        ),
        ("Reset before commit", Reset { at: Before }),
        ("Reset after commit", Reset { at: After }),
        ("Notifications out of order", NotifyOutOfOrder),
        ("Bad signature", NotifyBadSignature),
    ]
}

/// A form adding `fault` for the order, its `(label, field, value, max)`
/// inputs replacing the fault's fields (dashboard.js builds the JSON).
fn fault_form(
    order_id: &str,
    fault: Fault,
    inputs: &[(&str, &str, String, Option<u128>)],
    submit: &str,
) -> Markup {
    html! {
        form.fault data-post="/admin/faults" data-body=(rule_json(order_id, fault)) {
            @for (label, field, value, max) in inputs {
                label { (label) " "
                    @if let Some(max) = max {
                        input type="number" data-field=(field) value=(value) min="0" max=(max) required;
                    } @else {
                        input type="text" data-field=(field) value=(value) maxlength=(faults::MAX_MESSAGE);
                    }
                }
            }
            button.secondary type="submit" { (submit) }
        }
    }
}

/// The order page's failures: the rules and magic values that apply, and
/// the buttons adding a rule for this order.
fn order_faults(o: &OrderRecord, p: &OrderPage) -> Markup {
    let id = o.order_id.as_str();
    let code = Fault::ErrorCode {
        status_code: et_model::StatusCode::from_code("900001"),
        message: String::new(),
    };
    let number = |n: u64| n.to_string();
    html! {
        h2 { "Failures on demand" }
        @if !p.magic.is_empty() {
            p { "Magic values in this order: " @for f in &p.magic { code.magic { (words(*f)) } " " } }
        }
        @if p.faults.is_empty() { p.note #no-faults { "No fault rule applies to this order." } }
        @else { (rule_rows(&p.faults)) }
        details #add-fault { summary { "Add a failure for this order" }
        p.note {
            "Add a rule for this order: API failures strike requests naming it, "
            "notification failures its notifications. "
            a href="/faults" { "Every rule and the magic values." }
        }
        p #fault-buttons {
            @for (label, fault) in fault_buttons() {
                button.secondary data-post="/admin/faults" data-body=(rule_json(id, fault)) { (label) }
            }
        }
        div.fault-forms {
            (fault_form(id, Fault::Latency { ms: 2_000 }, &[("Latency (ms)", "ms", number(2_000), Some(faults::MAX_LATENCY.as_millis()))], "Add latency"))
            (fault_form(id, code, &[("Signed error code", "status_code", "900001".into(), None), ("message", "message", "ET is down (sandbox)".into(), None)], "Add error code"))
            (fault_form(id, Fault::NotifyDrop { attempts: 2 }, &[("Drop the first N notification attempts, N", "attempts", number(2), Some(faults::MAX_DROPPED.into()))], "Add drop"))
            (fault_form(id, Fault::NotifyDelay { minutes: 5 }, &[("Delay notifications (sandbox minutes)", "minutes", number(5), Some(faults::MAX_NOTIFY_DELAY_MINUTES.into()))], "Add delay"))
            (fault_form(id, Fault::NotifyDuplicate { copies: 2 }, &[("Send each notification N times, N", "copies", number(2), Some(faults::MAX_COPIES.into()))], "Add duplicates"))
        }
        }
        p { button.danger data-post="/admin/faults/clear" { "Clear all fault rules" } }
    }
}

/// `cell` with its Markdown code spans as `code`.
fn code_spans(cell: &str) -> Markup {
    html! {
        @for (i, part) in cell.split('`').enumerate() {
            @if i % 2 == 1 { code { (part) } } @else { (part) }
        }
    }
}

/// A Markdown table (header, separator, rows) as HTML.
fn markdown_table(md: &str) -> Markup {
    let rows: Vec<Vec<&str>> = md
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|-"))
        .map(|l| {
            l.trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect()
        })
        .collect();
    let Some((head, body)) = rows.split_first() else {
        return html! {};
    };
    html! {
        table #magic-values {
            thead { tr { @for c in head { th { (code_spans(c)) } } } }
            tbody { @for row in body { tr { @for c in row { td { (code_spans(c)) } } } } }
        }
    }
}

/// Every fault rule, a form for any rule, and the magic values.
pub(super) fn faults(app: &App, rules: &[FaultRule]) -> Markup {
    let example = r#"{"scope": {"next": 1}, "fault": {"kind": "reset", "at": "after_commit"}}"#;
    let body = html! {
        h1 { "Failures on demand" }
        p.note {
            "Rules in matching order (the first that applies wins; magic values go first), at most "
            (faults::MAX_FAULT_RULES) ". A " code { "next" } " rule counts down and is then gone."
        }
        @if rules.is_empty() { p.note #no-faults { "No fault rules." } } @else { (rule_rows(rules)) }
        p { button.danger data-post="/admin/faults/clear" { "Clear all fault rules" } }
        h2 { "Add a rule" }
        form.fault data-post="/admin/faults" {
            textarea data-raw rows="3" cols="80" maxlength="2000" { (example) }
            br;
            button.secondary type="submit" { "Add rule" }
        }
        h2 { "Magic values" }
        p.note {
            "A " code { "merchant_order_id" } " starting with a prefix, or an exact amount, asks for a failure "
            "with no rule at all (" code { "notify_" } " failures: every notification of that order)."
        }
        (markdown_table(MAGIC_VALUES))
    };
    layout(app, "Faults", true, body)
}
