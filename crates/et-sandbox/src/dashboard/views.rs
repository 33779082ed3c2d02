//! The dashboard's pages, as maud templates: every `(value)` is
//! HTML-escaped, and the templates are checked when the crate compiles.

use et_model::{NotificationKind, OrderStatus};
use maud::{html, Markup, DOCTYPE};

use super::sign_check::{SignCheck, Verdict};
use super::{
    actions, NotificationRow, OrderPage, OrderRow, ORDER_PAGE_ROWS, PAGE_SIZE, REQUEST_LOG_ROWS,
};
use crate::admin::AdminAction;
use crate::app::App;
use crate::clock::{beijing_datetime, Millis};
use crate::config::PROFILE_JSON;
use crate::faults::{self, Fault, FaultRule, Magic, Scope, Stage, MAGIC};
use crate::html::{head, money, money_due};
use crate::outbox::DeliveryFailure;
use crate::store::{DeliveryAttemptRecord, LoggedRequest, OrderRecord};

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
                            button data-post=(AdminAction::AdvanceClock { seconds }.path()) { (label) }
                        }
                        button.secondary data-post=(AdminAction::ResetClock.path()) title="Back to real time; pending notifications move back as much" { "Reset" }
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

/// An order's status, and that its last payment was declined when it was
/// (the order still awaits payment).
fn order_status(s: OrderStatus, declined: bool) -> Markup {
    html! {
        (status(s))
        @if declined && s == OrderStatus::AwaitingPayment {
            " " span.status.declined { "payment declined" }
        }
    }
}

fn time(ms: Option<Millis>) -> Markup {
    html! { @if let Some(ms) = ms { (when(ms)) } @else { "—" } }
}

/// A sandbox time that never wraps.
fn when(ms: Millis) -> Markup {
    html! { span.when { (beijing_datetime(ms)) } }
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

/// The orders list.
pub(super) fn orders(app: &App, rows: &[OrderRow], filter: Option<i64>) -> Markup {
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
        @if rows.is_empty() && filter.is_none() {
            (first_order(app))
        } @else if rows.is_empty() {
            p.note { "No order in this status." }
        } @else {
            div.scroll { table #orders {
                thead { tr {
                    th { "ET order" } th { "Merchant order" } th { "Status" }
                    th { "Amount" } th { "RMB due" } th { "Created (Beijing)" }
                } }
                tbody { @for row in rows { @let o = &row.order; tr {
                    td.mono { a href=(format!("/orders/{}", o.order_id)) { (o.order_id) } }
                    td.merchant-order { (o.merchant_order_id) }
                    td { (order_status(o.status, row.declined)) }
                    td.num { (money(&o.amount, &o.currency_code)) }
                    td.num { (money_due(o)) }
                    td.when { (beijing_datetime(o.created_at)) }
                } } }
            } }
        }
        (older("/", &extra, rows.last().map(|row| row.seq), rows.len() as i64 == PAGE_SIZE))
    };
    layout(app, "Orders", true, body)
}

/// The empty dashboard: the command that creates the first order.
fn first_order(app: &App) -> Markup {
    let order = r#"{"merchant_order_id":"M-1","merchant_user_key":"student-1","country_code":"GBR","currency_code":"GBP","tuituon":10000.00}"#;
    html! {
        section #first-order {
            h2 { "No orders yet" }
            p { "Create one through the API with " code { "et call" } " (the directory is the one " code { "et sandbox serve --dir" } " names):" }
            pre #create-order-command {
                "echo '" (order) "' |\n  et call --endpoint " (app.base_url) "/server --dir sandbox/ create_order --sensitive -"
            }
            p.note { "It appears here at once; open it to pay it on its checkout page or to play ET's steps." }
        }
    }
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
                    td.last-error {
                        @match attempts.last().and_then(|a| reply_explained(n.kind.as_str(), a)) {
                            Some(why) => { (why) }
                            None => { (n.last_error) }
                        }
                    }
                    td { button.secondary data-post=(AdminAction::Redeliver { notification_id: n.id }.path()) {
                        "Redeliver now"
                    } }
                }
                @if !attempts.is_empty() {
                    tr.attempts-row { td colspan=(columns) { (attempt_rows(n.kind.as_str(), attempts)) } }
                }
            } }
        } }
    }
}

/// A notification's delivery attempts: when, where, what came back.
fn attempt_rows(kind: &str, attempts: &[DeliveryAttemptRecord]) -> Markup {
    html! {
        table.attempts {
            thead { tr {
                th { "Attempt at" } th { "URL" } th { "HTTP" } th { "Outcome" }
                th { "Reply (first bytes)" } th { "Latency" } th { "Next retry" }
            } }
            tbody { @for a in attempts { tr {
                td { (when(a.attempted_at)) }
                td.mono { (a.url) }
                td.num.http-status { @if let Some(s) = a.http_status { (s) } @else { "—" } }
                td.outcome {
                    @if let Some(f) = a.failure { span.no { (f) } } @else { span.yes { "acknowledged" } }
                    @if let Some(why) = reply_explained(kind, a) { div.why { (why) } }
                }
                td.mono.reply { (String::from_utf8_lossy(&a.reply_head)) }
                td.num { (a.latency_ms) " ms" }
                td { (time(a.next_attempt_at)) }
            } } }
        }
    }
}

/// A reply ET does not take, explained in words: what the receiver
/// answered and what ET expects instead (the refund result's reply
/// differs). `None` for any other outcome.
fn reply_explained(kind: &str, a: &DeliveryAttemptRecord) -> Option<Markup> {
    let failure = a.failure?;
    let refund = kind == NotificationKind::RefundResult.as_str();
    let expected = if refund {
        r#"{"order_id":"<the notification's order_id>","notify_result":"OK","sign":"<MD5 with your salt>"}"#
    } else {
        r#"{"notify_result":"OK"}"#
    };
    let reply = String::from_utf8_lossy(&a.reply_head);
    let answered = html! {
        "Your receiver answered "
        @if let Some(status) = a.http_status.filter(|s| *s != 200) { "HTTP " (status) " " }
        @if reply.trim().is_empty() { "with an empty body" } @else { code { (reply.trim()) } }
    };
    match failure {
        DeliveryFailure::NotAcknowledged => Some(html! {
            span.explained {
                (answered) "; ET expects HTTP 200 with " code.expected { (expected) }
                @if refund { " (spec 04 §4.4: the refund result's reply names the order and is signed like the notification)" }
                ", and tries again until it gets it."
            }
        }),
        DeliveryFailure::BadRefundReply => Some(html! {
            span.explained {
                (answered) "; a refund result's reply must also name the notification's "
                code { "order_id" } " and carry a " code { "sign" } " made with your salt: " code.expected { (expected) } "."
            }
        }),
        _ => None,
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
            tr { th { "Status" } td #order-status { (order_status(o.status, p.declined)) } }
            @if let Some(i) = &p.institution {
                tr { th { "Institution" } td { (i.institution_name_en) " " span lang="zh" { (i.institution_name_ch) } " (" span.code { (i.institution_code) } ")" } }
            }
            tr { th { "Amount" } td { (money(&o.amount, &o.currency_code)) } }
            tr { th { "RMB due" } td { (money_due(o)) " (tuition " (money(&o.tuition_rmb, "RMB")) " + fee " (money(&o.counter_fee, "RMB")) ")" } }
            @if !o.refund_order_id.is_empty() {
                tr { th { "Refund" } td { (o.refund_order_id) ": " @if let Some(a) = &o.refund_amount { (money(a, "RMB")) } } }
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
            details { summary { "data" } pre #request-data { (pretty_json_lines(&r.data)) } }
            details { summary { "sensitive_data (decrypted)" } pre #request-sensitive { (pretty_json_lines(&r.sensitive_data)) } }
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

fn latency(e: &LoggedRequest) -> String {
    format!("{:.1} ms", e.latency_us as f64 / 1000.0)
}

/// The request log. A fixed layout: the table is as wide as the page
/// whatever a message holds, so every column stays in view.
pub(super) fn requests(app: &App, rows: &[LoggedRequest]) -> Markup {
    let body = html! {
        h1 { "Request log" }
        p.note { "Every envelope received on POST /server (the last " (REQUEST_LOG_ROWS) "), newest first. Open one for its payload and, if it did not verify, why." }
        @if rows.is_empty() { p.note { "None yet." } } @else {
            div.scroll { table #requests {
                colgroup {
                    col.c-id; col.c-when; col.c-type; col.c-serial; col.c-verified; col.c-answer; col.c-latency; col.c-link;
                }
                thead { tr {
                    th { "#" } th { "Received" } th { "server_type" } th { "serial_number" }
                    th { "Verified" } th { "Answered" } th.num { "Latency" } th { "Payload" }
                } }
                tbody { @for e in rows { tr {
                    td.num { (e.id) }
                    td.when { (beijing_datetime(e.received_at)) }
                    td.mono.wrap { (e.server_type) }
                    td.mono.wrap { (e.serial_number) }
                    td { @if e.verified { span.yes { "verified" } } @else { span.no { "not verified" } } }
                    td.wrap { span.mono { (e.status_code) } " " (e.message) }
                    td.num.latency { (latency(e)) }
                    td.payload-link { a href=(format!("/requests/{}", e.id)) { "payload" } }
                } } }
            } }
        }
        (older("/requests", "", rows.last().map(|e| e.id), rows.len() as i64 == PAGE_SIZE))
    };
    layout(app, "Request log", true, body)
}

/// One logged request: its facts, why it did not verify, its payload.
pub(super) fn request(app: &App, e: &LoggedRequest, check: Option<&SignCheck>) -> Markup {
    let body = html! {
        h1 { "Request " (e.id) }
        table.facts {
            tr { th { "Received" } td { (beijing_datetime(e.received_at)) } }
            tr { th { "Merchant" } td.mono { (e.merchant_number) } }
            tr { th { "server_type" } td.mono { (e.server_type) } }
            tr { th { "serial_number" } td.mono { (e.serial_number) } }
            tr { th { "Verified" } td #verified { (verified(e)) } }
            tr { th { "Answered" } td { span.mono { (e.status_code) } " " (e.message) } }
            tr { th { "Latency" } td { (latency(e)) } }
        }
        @if let Some(check) = check { (sign_check(check)) }
        h2 { @if e.verified { "Payload, decrypted" } @else { "Body as received" } }
        p.note {
            @if e.verified { "Decrypted with ET's private key: the merchant's own test data." }
            @else { "It did not open, so this is the envelope as sent." }
            @if e.truncated { " Cut at " (super::MAX_LOGGED_PAYLOAD) " bytes." }
        }
        pre #payload { (pretty_json_lines(&e.payload)) }
    };
    layout(app, &format!("Request {}", e.id), false, body)
}

/// How the sandbox checked the signature, and what would have verified it.
fn sign_check(c: &SignCheck) -> Markup {
    let option = |setting: &str, value: &str| format!("--{} {value}", setting.replace('_', "-"));
    html! {
        section #sign-check {
            h2 { "Signature check" }
            table.facts {
                tr { th { "Hash" } td.mono { "sign_hash " (c.hash) } }
                tr { th { "Sign rule" } td.mono { "sign_rule " (c.rule) } }
                tr { th { "Key" } td { @match &c.key { Ok(k) => (k), Err(why) => span.no { (why) } } } }
                @if let Some(problem) = c.sign_problem { tr { th { "sign" } td.no { (problem) } } }
            }
            p.note { "The sign string the sandbox computed (every key but " code { "sign" } ", sorted, joined by " code { "&" } "); your client must sign exactly these bytes:" }
            pre #sign-string { (c.sign_string) }
            p #sign-verdict {
                @match &c.verdict {
                    Verdict::Verifies => {
                        span.yes { "The signature verifies under the sandbox's settings" }
                        ": the envelope was refused at a later step (the message above says which)."
                    }
                    Verdict::VerifiesWith(changed) => {
                        span.no { "It does not verify under the sandbox's settings" } ", but it verifies with "
                        @for (i, (setting, value)) in changed.iter().enumerate() {
                            @if i > 0 { ", " }
                            code { (setting) " = " (value) }
                        }
                        ". Either sign as the sandbox expects (" code { "sign_hash " (c.hash) ", sign_rule " (c.rule) } "), "
                        "or make the sandbox play your client's settings: set "
                        @for (i, (setting, value)) in changed.iter().enumerate() {
                            @if i > 0 { ", " }
                            code { "\"" (setting) "\": \"" (value) "\"" }
                        }
                        " in the sandbox directory's " code { (PROFILE_JSON) } " (or serve it with "
                        code { "et sandbox serve --profile FILE" } ") and restart it. On " code { "et" } " commands the same settings are "
                        code { (changed.iter().map(|(s, v)| option(s, v)).collect::<Vec<_>>().join(" ")) } "."
                    }
                    Verdict::Nothing(tried) => {
                        span.no { "No hash and sign rule verify it with this key" }
                        ": the request was signed with another private key, or changed after it was signed. Tried: "
                        (tried.join("; ")) "."
                    }
                    Verdict::NoKey => { span.no { "No key to check it with" } ": the merchant is not registered with this sandbox." }
                }
            }
        }
    }
}

/// `text` with each line that is one JSON object or array re-indented,
/// two spaces a level; every token kept exactly as sent (a number's text,
/// a string's escapes), so this only adds white space.
fn pretty_json_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let trimmed = line.trim();
        if trimmed.starts_with('{') || trimmed.starts_with('[') {
            indent_json(trimmed, &mut out);
        } else {
            out.push_str(line);
        }
    }
    out
}

fn indent_json(json: &str, out: &mut String) {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n("  ", depth));
    };
    let mut chars = json.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                let empty = matches!(chars.peek(), Some('}' | ']'));
                depth += 1;
                if !empty {
                    newline(out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                if !out.ends_with(['{', '[']) {
                    newline(out, depth);
                }
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
}

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
            thead { tr { th { "Scope" } th { "Failure" } th {} } }
            tbody { @for r in rules { tr {
                td.mono.scope { (words(&r.scope)) }
                td.mono.fault { (words(&r.fault)) }
                td.clear-rule {
                    button.secondary data-post=(AdminAction::RemoveFault(r.clone()).path()) data-body=(AdminAction::RemoveFault(r.clone()).body()) { "Clear" }
                }
            } } }
        }
    }
}

/// Adding the rule `fault` for order `order_id`.
fn add_fault(order_id: &str, fault: Fault) -> AdminAction {
    AdminAction::AddFault(FaultRule {
        scope: Scope::OrderId(order_id.to_owned()),
        fault,
    })
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
        form.fault data-post=(add_fault(order_id, fault.clone()).path()) data-body=(add_fault(order_id, fault).body()) {
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
        status_code: et_model::ReplyCode::from_code("900001"),
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
                button.secondary data-post=(add_fault(id, fault.clone()).path()) data-body=(add_fault(id, fault).body()) { (label) }
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
        p { button.danger data-post=(AdminAction::ClearFaults.path()) { "Clear all fault rules" } }
    }
}

/// The magic values, from [`MAGIC`] itself: what asks, and the failure.
fn magic_table() -> Markup {
    html! {
        table #magic-values {
            thead { tr { th { "magic value" } th { "failure" } } }
            tbody { @for (magic, fault) in MAGIC.iter() { tr {
                td { @match magic {
                    Magic::Prefix(p) => { "merchant_order_id " code.code { (p) } "…" },
                    Magic::Amount(a) => { "amount " code.code { (a) } },
                } }
                td.mono { (words(fault)) }
            } } }
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
        p { button.danger data-post=(AdminAction::ClearFaults.path()) { "Clear all fault rules" } }
        h2 { "Add a rule" }
        // Adding a rule posts where listing them gets.
        form.fault data-post=(AdminAction::ListFaults.path()) {
            textarea data-raw rows="3" cols="80" maxlength="2000" { (example) }
            br;
            button.secondary type="submit" { "Add rule" }
        }
        h2 { "Magic values" }
        p.note {
            "A " code { "merchant_order_id" } " starting with a prefix, or an exact amount, asks for a failure "
            "with no rule at all (" code { "notify_" } " failures: every notification of that order)."
        }
        (magic_table())
    };
    layout(app, "Faults", true, body)
}

#[cfg(test)]
mod tests {
    use super::{pretty_json_lines, reply_explained};
    use crate::store::DeliveryAttemptRecord;

    fn attempt(failure: &str, status: u16, reply: &[u8]) -> DeliveryAttemptRecord {
        DeliveryAttemptRecord {
            notification_id: 1,
            order_id: "ET1".into(),
            attempted_at: 0,
            url: "http://127.0.0.1:1/n".into(),
            http_status: Some(status),
            failure: crate::outbox::DeliveryFailure::from_code(failure),
            reply_head: reply.to_vec(),
            latency_ms: 1,
            next_attempt_at: None,
        }
    }

    #[test]
    fn a_wrong_reply_is_explained_with_the_form_et_expects_for_its_kind() {
        let said = |kind: &str, a: &DeliveryAttemptRecord| {
            reply_explained(kind, a).map(maud::Markup::into_string)
        };
        let plain =
            said("payment_success", &attempt("not_acknowledged", 200, b"OK")).expect("explained");
        assert!(
            plain.contains("Your receiver answered <code>OK</code>"),
            "{plain}"
        );
        assert!(
            plain.contains(r#"{&quot;notify_result&quot;:&quot;OK&quot;}"#),
            "{plain}"
        );
        let refund =
            said("refund_result", &attempt("not_acknowledged", 500, b"")).expect("explained");
        assert!(refund.contains("HTTP 500 with an empty body"), "{refund}");
        assert!(
            refund.contains("order_id") && refund.contains("sign"),
            "{refund}"
        );
        let unsigned =
            said("refund_result", &attempt("bad_refund_reply", 200, b"{}")).expect("explained");
        assert!(unsigned.contains("made with your salt"), "{unsigned}");
        assert_eq!(said("payment_success", &attempt("timeout", 200, b"")), None);
        assert_eq!(
            said("payment_success", &attempt("", 200, b"")),
            None,
            "acknowledged"
        );
    }

    #[test]
    fn pretty_json_only_adds_white_space_and_keeps_every_token_as_sent() {
        let sent = r#"{"a":"x, {y}: \"z\"","n":10000.00,"l":[1,{}],"e":[]}"#;
        let shown = pretty_json_lines(&format!("data:\n{sent}\n"));
        let expected = r#"data:
{
  "a": "x, {y}: \"z\"",
  "n": 10000.00,
  "l": [
    1,
    {}
  ],
  "e": []
}
"#;
        assert_eq!(shown, expected);
        let squeeze = |s: &str| s.replace([' ', '\n'], "");
        assert_eq!(squeeze(&shown), squeeze(&format!("data:{sent}")));
    }
}
