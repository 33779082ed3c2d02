//! The dashboard: every page escapes what merchants send, lists are paged
//! and filtered, the request log shows why a request did not verify and
//! keeps a bounded number of entries, buttons act, fault rules are listed
//! and added from the pages, and cross-site form posts to the admin routes
//! are refused.

use crate::common;
use common::started;

use std::time::Duration;

use bytes::Bytes;
use common::{
    call, fetch, form_token, get, merchant, merchant_with, post, request, start, state_dir,
    wait_for, Receiver,
};
use et_model::{AttachmentType, CreateOrder, CurrencyCode, GetRate, OrderStatus, UploadAttachment};
use et_proto::Merchant;
use et_sandbox::{Fault, FaultRule, RunningSandbox, Scope, PAGE_SIZE, REQUEST_LOG_ROWS};
use et_testkit::{key, Who};
use http_body_util::Full;

const HOSTILE: &str = "\"><script>alert(1)</script>";
const ESCAPED: &str = "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;";

fn order(merchant_order_id: &str, notify_url: Option<String>) -> CreateOrder {
    CreateOrder {
        notify_url,
        name_ch: Some("学生".to_owned()),
        ..et_testkit::order(merchant_order_id, "100.00")
    }
}

async fn create(sb: &RunningSandbox, m: &Merchant, op: &CreateOrder) -> String {
    call(sb, m, op).await.expect("order created")[0]
        .order_id
        .clone()
}

/// GETs a page: status, headers, body as text.
async fn page(url: &str) -> (u16, http::HeaderMap, String) {
    fetch(request(http::Method::GET, url, &[], "")).await
}

fn url(sb: &RunningSandbox, path: &str) -> String {
    format!("http://{}{path}", sb.addr())
}

/// `n` times the marker in `html`.
fn count(html: &str, marker: &str) -> usize {
    html.matches(marker).count()
}

async fn admin(sb: &RunningSandbox, path: &str, content_type: &str) -> (u16, String) {
    let (status, body) = post(&url(sb, path), b"{}".to_vec(), Some(content_type)).await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn merchant_text_is_escaped_on_every_page() {
    let (_dir, sb, m) = started(1.0).await;
    let hostile_url = format!("http://127.0.0.1:1/n?{HOSTILE}");
    let id = create(&sb, &m, &order(HOSTILE, Some(hostile_url))).await;
    let upload = UploadAttachment {
        order_id: id.clone(),
        attachment_type: AttachmentType::OfferLetter,
        base64: "PGh0bWw+PC9odG1sPg==".into(),
        file_name: format!("{HOSTILE}.pdf"),
        extra: Default::default(),
    };
    call(&sb, &m, &upload).await.expect("uploaded");
    sb.decline_payment(&id).expect("declined");
    let envelope = serde_json::json!({
        "merchant_number": HOSTILE, "server_type": HOSTILE, "serial_number": HOSTILE,
    });
    post(&sb.endpoint_url(), envelope.to_string().into_bytes(), None).await;
    let pages = [
        "/".to_owned(),
        format!("/?status=0&before={}", i64::MAX),
        format!("/orders/{id}"),
        format!("/pay/{id}"),
        "/requests".to_owned(),
        "/requests/1".to_owned(),
        "/requests/3".to_owned(),
        "/notifications".to_owned(),
    ];
    for path in pages {
        let (status, headers, html) = page(&url(&sb, &path)).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            !html.contains(HOSTILE),
            "{path} renders merchant text unescaped"
        );
        assert!(
            html.contains(ESCAPED),
            "{path} shows the merchant's text escaped"
        );
        let csp = headers
            .get(http::header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(csp.contains("script-src 'self'"), "{path}: CSP {csp:?}");
        assert!(!html.contains("PRIVATE KEY"), "{path}");
    }
}

#[tokio::test]
async fn orders_are_paged_newest_first_and_filtered_by_status() {
    let (_dir, sb, m) = started(1.0).await;
    let total = PAGE_SIZE as usize + 5;
    let mut ids = Vec::new();
    for i in 0..total {
        ids.push(create(&sb, &m, &order(&format!("P-{i:03}"), None)).await);
    }
    for id in &ids[..3] {
        sb.pay(id).expect("paid");
    }

    let (_, _, first) = page(&url(&sb, "/")).await;
    assert_eq!(
        count(&first, "class=\"merchant-order\""),
        PAGE_SIZE as usize
    );
    let newest = first.find("P-054").expect("the newest order is listed");
    let older = first.find("P-010").expect("an older order is listed");
    assert!(newest < older, "newest first");
    assert!(!first.contains("P-004"), "the oldest are on the next page");
    let next = first
        .split("href=\"/?before=")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a link to older orders");
    let (_, _, second) = page(&url(&sb, &format!("/?before={next}"))).await;
    assert_eq!(count(&second, "class=\"merchant-order\""), 5);
    assert!(second.contains("P-000") && !second.contains("P-005"));
    assert!(!second.contains("Older"), "the last page links no further");

    let (_, _, paid) = page(&url(&sb, "/?status=1")).await;
    assert_eq!(count(&paid, "class=\"merchant-order\""), 3);
    for moid in ["P-000", "P-001", "P-002"] {
        assert!(paid.contains(moid), "{moid} is paid");
    }
    let (_, _, closed) = page(&url(&sb, "/?status=-1")).await;
    assert_eq!(count(&closed, "class=\"merchant-order\""), 0);
    // A filter that is not a number is no filter, not an error.
    let (status, _, any) = page(&url(&sb, "/?status=paid&before=x")).await;
    assert_eq!(status, 200);
    assert_eq!(count(&any, "class=\"merchant-order\""), PAGE_SIZE as usize);
}

#[tokio::test]
async fn request_log_shows_a_failed_verification_with_its_reason() {
    let (dir, sb, m) = started(1.0).await;
    let et_public = key(Who::Et, 1024).public_key();
    let wrong = merchant_with(dir.path(), key(Who::Stranger, 1024), et_public);
    call(&sb, &m, &order("LOG-1", None)).await.expect("created");
    let rate = GetRate {
        currency_code: CurrencyCode::new("GBP"),
        pay_currency_code: None,
        extra: Default::default(),
    };
    let _ = call(&sb, &wrong, &rate).await;

    let (_, _, log) = page(&url(&sb, "/requests")).await;
    assert_eq!(count(&log, "<tr><td class=\"num\">"), 2, "{log}");
    assert!(log.contains("not verified"), "{log}");
    assert!(log.contains("100004"), "the answered status code: {log}");
    assert!(
        log.contains("get_rate") && log.contains("create_order"),
        "{log}"
    );

    // Newest first: entry 2 is the refused one.
    let (_, _, refused) = page(&url(&sb, "/requests/2")).await;
    assert!(refused.contains("not verified"), "{refused}");
    assert!(
        refused.to_lowercase().contains("signature"),
        "the reason names the signature: {refused}"
    );
    assert!(refused.contains("Body as received"), "{refused}");
    // Why, in full: the sign string, the hash, rule and key, and that no
    // setting verifies it with the registered key (another key signed it).
    assert!(refused.contains("id=\"sign-string\""), "{refused}");
    assert!(
        refused.contains("&amp;server_type=get_rate&amp;"),
        "{refused}"
    );
    assert!(refused.contains("sign_hash sha256") && refused.contains("sign_rule all-sorted"));
    assert!(
        refused.contains("merchant-public.pem"),
        "the key's source: {refused}"
    );
    assert!(
        refused.contains("No hash and sign rule verify it with this key"),
        "{refused}"
    );

    // Signed with the merchant's own key but SHA-1: the page names the
    // setting that verifies it.
    let sha1 = et_proto::Profile {
        sign_hash: et_crypto::SignHash::Sha1,
        ..et_proto::Profile::default()
    };
    let _ = call(&sb, &common::merchant_speaking(dir.path(), sha1), &rate).await;
    let (_, _, sha1_page) = page(&url(&sb, "/requests/3")).await;
    assert!(
        sha1_page.contains("it verifies with <code>sign_hash = sha1</code>"),
        "{sha1_page}"
    );
    assert!(sha1_page.contains("--sign-hash sha1"), "{sha1_page}");

    let (_, _, opened) = page(&url(&sb, "/requests/1")).await;
    assert!(opened.contains("verified") && !opened.contains("not verified"));
    assert!(opened.contains("LOG-1"), "the decrypted data: {opened}");
    assert!(
        opened.contains("学生"),
        "the decrypted sensitive_data: {opened}"
    );
}

#[tokio::test]
async fn request_log_keeps_only_its_last_rows() {
    let dir = state_dir();
    let sb = start(dir.path(), 1.0).await;
    let extra = 3;
    for i in 0..REQUEST_LOG_ROWS + extra {
        // Not envelopes: refused without RSA, logged all the same.
        post(
            &sb.endpoint_url(),
            format!("garbage {i}").into_bytes(),
            None,
        )
        .await;
    }
    let (status, _, _) = page(&url(&sb, &format!("/requests/{extra}"))).await;
    assert_eq!(status, 404, "the oldest entries are gone");
    let (status, _, kept) = page(&url(&sb, &format!("/requests/{}", extra + 1))).await;
    assert_eq!(status, 200);
    assert!(kept.contains("garbage 3"), "{kept}");
    let (_, _, log) = page(&url(&sb, "/requests")).await;
    assert_eq!(count(&log, "<tr><td class=\"num\">"), PAGE_SIZE as usize);
}

#[tokio::test]
async fn buttons_act_and_cross_site_form_posts_are_refused() {
    let (_dir, sb, m) = started(1.0).await;
    let hook = Receiver::start(false).await;
    let id = create(&sb, &m, &order("BTN-1", Some(hook.url("/n")))).await;

    // What a cross-site HTML form can send is refused, and changes nothing.
    for content_type in [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/plain",
    ] {
        let (status, _) = admin(&sb, &format!("/admin/orders/{id}/pay"), content_type).await;
        assert_eq!(status, 415, "{content_type}");
    }
    let now = sb.order(&id).expect("read").expect("order");
    assert_eq!(now.status, OrderStatus::AwaitingPayment);

    // Decline: the order stays awaiting payment, a pay_result 0 goes out.
    let (status, body) = admin(
        &sb,
        &format!("/admin/orders/{id}/decline-payment"),
        "application/json",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let notes = sb.notifications(Some(&id)).expect("notifications");
    assert_eq!(notes.len(), 1, "no status change: {notes:?}");
    assert_eq!(notes[0].kind, "payment_success");
    assert!(
        notes[0].body.contains("\"pay_result\":0"),
        "{}",
        notes[0].body
    );
    let (_, _, html) = page(&url(&sb, &format!("/orders/{id}"))).await;
    assert!(html.contains("decline-payment: stays"), "{html}");
    // Its status says the payment was declined, not only "0 awaiting payment".
    let declined = "<span class=\"status declined\">payment declined</span>";
    assert!(html.contains(declined), "the order page: {html}");
    let (_, _, list) = page(&url(&sb, "/")).await;
    assert!(list.contains(declined), "the orders list: {list}");
    let (_, _, checkout) = page(&sb.pay_url(&id)).await;
    assert!(
        checkout.contains("the last payment was declined"),
        "the checkout: {checkout}"
    );

    // The endpoint answers FAIL; "redeliver now" tries again at once.
    let first = wait_for(Duration::from_secs(5), || {
        let n = &sb.notifications(Some(&id)).ok()?[0];
        (n.attempts == 1).then(|| n.clone())
    })
    .await
    .expect("first attempt recorded");
    assert!(first.pending && !first.delivered);
    let redeliver = format!("/admin/notifications/{}/redeliver", first.id);
    let (status, _) = admin(&sb, &redeliver, "text/plain").await;
    assert_eq!(status, 415, "a cross-site form cannot redeliver");
    hook.accept.store(true, std::sync::atomic::Ordering::SeqCst);
    let (status, _) = admin(&sb, &redeliver, "application/json").await;
    assert_eq!(status, 200);
    let delivered = wait_for(Duration::from_secs(5), || {
        let n = &sb.notifications(Some(&id)).ok()?[0];
        n.delivered.then(|| n.clone())
    })
    .await
    .expect("redelivered at once, not after the 1-minute retry");
    assert_eq!(delivered.attempts, 2);
    // Both attempts are on the order page: the refused one with the reply's
    // first bytes, then the acknowledged one.
    let (_, _, html) = page(&url(&sb, &format!("/orders/{id}"))).await;
    let attempts = html
        .split("class=\"attempts\"")
        .nth(1)
        .expect("an attempts table");
    assert!(
        attempts.contains("not_acknowledged") && attempts.contains("FAIL"),
        "{attempts}"
    );
    assert!(attempts.contains("acknowledged</span>"), "{attempts}");
    let (status, _) = admin(
        &sb,
        "/admin/notifications/999/redeliver",
        "application/json",
    )
    .await;
    assert_eq!(status, 404);

    // The checkout page pays, noting the pay type on the timeline.
    let (_, _, checkout) = page(&sb.pay_url(&id)).await;
    let form = format!("pay_type=wechat&action=pay&token={}", form_token(&checkout));
    let (status, page_html) = post(
        &sb.pay_url(&id),
        form.into_bytes(),
        Some("application/x-www-form-urlencoded"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&page_html).contains("Payment received"));
    let (_, _, html) = page(&url(&sb, &format!("/orders/{id}"))).await;
    assert!(html.contains("with WeChat Pay"), "{html}");
    assert!(
        html.contains(&format!("data-post=\"/admin/orders/{id}/remit\"")),
        "a paid order offers Remit"
    );
    assert!(
        !html.contains(&format!("/admin/orders/{id}/pay\"")),
        "and not Pay"
    );
}

#[tokio::test]
async fn attachments_download_as_files_never_as_pages() {
    let (_dir, sb, m) = started(1.0).await;
    let id = create(&sb, &m, &order("ATT-1", None)).await;
    let upload = UploadAttachment {
        order_id: id.clone(),
        attachment_type: AttachmentType::OfferLetter,
        base64: "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==".into(),
        file_name: "offer\"\r\nX: y.html".into(),
        extra: Default::default(),
    };
    call(&sb, &m, &upload).await.expect("uploaded");
    let (_, _, html) = page(&url(&sb, &format!("/orders/{id}"))).await;
    let link = html
        .split("href=\"/attachments/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a download link");
    let (status, headers, body) = page(&url(&sb, &format!("/attachments/{link}"))).await;
    assert_eq!(status, 200);
    assert_eq!(body, "<script>alert(1)</script>");
    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &http::HeaderValue| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(
        header(http::header::CONTENT_TYPE),
        "application/octet-stream"
    );
    assert_eq!(header(http::header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(
        header(http::header::CONTENT_DISPOSITION),
        "attachment; filename=\"offer___X__y.html\""
    );
    let (status, _, _) = page(&url(&sb, "/attachments/999")).await;
    assert_eq!(status, 404);
    let (status, _, script) = page(&url(&sb, "/static/dashboard.js")).await;
    assert_eq!(status, 200);
    assert!(script.contains("application/json"));
    let (status, _) = get(&url(&sb, "/static/../Cargo.toml")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_dns_rebinding_page_gets_neither_the_dashboard_nor_the_admin_routes() {
    let (_dir, sb, m) = started(1.0).await;
    let id = create(&sb, &m, &order("DNS-1", None)).await;
    let port = sb.addr().port();
    let request = |method: http::Method, path: &str, host: &str| {
        http::Request::builder()
            .method(method)
            .uri(url(&sb, path))
            .header(http::header::HOST, host)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from_static(b"{}")))
            .expect("request")
    };
    let rebound = format!("evil.example:{port}");
    // Every route but ET's public ones is refused, including one no code
    // names yet: the check is by default, not by a list of private routes.
    for path in [
        "/",
        "/requests/1",
        &format!("/orders/{id}"),
        "/a-route-added-later",
    ] {
        let (status, _, _) = fetch(request(http::Method::GET, path, &rebound)).await;
        assert_eq!(status, 403, "{path}");
    }
    let pay = format!("/admin/orders/{id}/pay");
    let (status, _, _) = fetch(request(http::Method::POST, &pay, &rebound)).await;
    assert_eq!(status, 403);
    assert_eq!(
        sb.order(&id).expect("read").expect("order").status,
        OrderStatus::AwaitingPayment
    );
    // The merchant's API and the payer's checkout page answer any name.
    let (status, _, _) = fetch(request(http::Method::GET, &format!("/pay/{id}"), &rebound)).await;
    assert_eq!(status, 200);
    let (status, _, _) = fetch(request(
        http::Method::POST,
        &pay,
        &format!("localhost:{port}"),
    ))
    .await;
    assert_eq!(status, 200);
}

/// The `data-body` attributes of `html`, unescaped.
fn data_bodies(html: &str) -> Vec<String> {
    html.split("data-body=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|body| body.replace("&quot;", "\"").replace("&amp;", "&"))
        .collect()
}

#[tokio::test]
async fn an_order_page_lists_the_rules_that_apply_to_it_and_escapes_them() {
    let (_dir, sb, m) = started(1.0).await;
    let id = create(&sb, &m, &order("F-1", None)).await;
    let other = create(&sb, &m, &order("F-2", None)).await;
    let hostile_code = Fault::ErrorCode {
        status_code: et_model::ReplyCode::from_code("900001"),
        message: HOSTILE.to_owned(),
    };
    for r in [
        FaultRule::new(Scope::OrderId(id.clone()), hostile_code),
        FaultRule::new(Scope::OrderId(other.clone()), Fault::Latency { ms: 1234 }),
        FaultRule::new(
            Scope::MerchantNumber(m.credentials().merchant_number.clone()),
            Fault::NotifyDuplicate { copies: 3 },
        ),
        FaultRule::new(Scope::Next(7), Fault::NotifyOutOfOrder),
        FaultRule::new(
            Scope::MerchantOrderId(HOSTILE.to_owned()),
            Fault::NotifyBadSignature,
        ),
    ] {
        sb.add_fault(r).expect("rule");
    }
    let (status, _, html) = page(&url(&sb, &format!("/orders/{id}"))).await;
    assert_eq!(status, 200);
    let section = html
        .split("id=\"faults\"")
        .nth(1)
        .and_then(|s| s.split("id=\"fault-buttons\"").next())
        .expect("the faults section's rules");
    assert!(
        section.contains(&format!("error_code message {ESCAPED}")),
        "{section}"
    );
    assert!(
        section.contains("notify_duplicate copies 3"),
        "its merchant's rule"
    );
    assert!(
        section.contains("next 7"),
        "a next rule applies to any order"
    );
    assert!(
        !section.contains("ms 1234"),
        "another order's rule is not listed"
    );
    assert!(
        !section.contains("notify_bad_signature"),
        "nor another merchant order id's"
    );
    assert!(!html.contains(HOSTILE), "unescaped text on the order page");

    // Every page lists every rule, escaped, and the magic values.
    let (status, _, all) = page(&url(&sb, "/faults")).await;
    assert_eq!(status, 200);
    assert!(!all.contains(HOSTILE), "unescaped text on /faults");
    assert_eq!(count(&all, "<td class=\"mono scope\">"), 5);
    assert!(all.contains(&format!("merchant_order_id {ESCAPED}")));
    for (magic, _) in et_sandbox::faults::MAGIC.iter() {
        let shown = match magic {
            et_sandbox::faults::Magic::Prefix(p) => {
                format!("<td>merchant_order_id <code class=\"code\">{p}</code>…</td>")
            }
            et_sandbox::faults::Magic::Amount(a) => {
                format!("<td>amount <code class=\"code\">{a}</code></td>")
            }
        };
        assert!(
            all.contains(&shown),
            "{shown} is not in the magic values table"
        );
    }
    assert!(html.contains("href=\"/faults\""), "linked from the nav");
}

#[tokio::test]
async fn every_failure_button_adds_a_valid_rule_for_its_order() {
    let (_dir, sb, m) = started(1.0).await;
    let id = create(&sb, &m, &order("F-3", None)).await;
    let (_, _, html) = page(&url(&sb, &format!("/orders/{id}"))).await;
    let bodies = data_bodies(&html);
    assert!(bodies.len() >= 15, "a button or form per kind: {bodies:?}");
    for body in &bodies {
        let (status, reply) = post(
            &url(&sb, "/admin/faults"),
            body.clone().into_bytes(),
            Some("application/json"),
        )
        .await;
        assert_eq!(status, 200, "{body}: {}", String::from_utf8_lossy(&reply));
    }
    let rules = sb.faults();
    assert_eq!(rules.len(), bodies.len());
    assert!(rules.iter().all(|r| r.scope == Scope::OrderId(id.clone())));
    let kinds: std::collections::BTreeSet<_> = rules
        .iter()
        .map(|r| {
            format!("{:?}", r.fault)
                .split([' ', '{'])
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(kinds.len(), 10, "every kind of Fault: {kinds:?}");
    let (status, _) = admin(&sb, "/admin/faults/clear", "application/json").await;
    assert_eq!(status, 200);
    assert!(sb.faults().is_empty());
}

#[tokio::test]
async fn fault_routes_refuse_cross_site_form_posts_and_rebound_hosts() {
    let dir = state_dir();
    let sb = start(dir.path(), 1.0).await;
    let rule = br#"{"scope": {"next": 1}, "fault": {"kind": "reset", "at": "before_commit"}}"#;
    for content_type in [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/plain",
    ] {
        let (status, _) = post(
            &url(&sb, "/admin/faults"),
            rule.to_vec(),
            Some(content_type),
        )
        .await;
        assert_eq!(status, 415, "{content_type}");
    }
    assert!(sb.faults().is_empty(), "no rule added by a form");
    sb.add_fault(rule_of(rule)).expect("rule");
    for content_type in ["application/x-www-form-urlencoded", "text/plain"] {
        let (status, _) = admin(&sb, "/admin/faults/clear", content_type).await;
        assert_eq!(status, 415, "{content_type}");
        let (status, _) = post(
            &url(&sb, "/admin/faults/remove"),
            rule.to_vec(),
            Some(content_type),
        )
        .await;
        assert_eq!(status, 415, "{content_type}");
    }
    assert_eq!(sb.faults().len(), 1, "no rule cleared by a form");
    // A DNS-rebinding page is same-origin and may send JSON: the Host check
    // refuses it on the fault routes and page too.
    let rebound = format!("evil.example:{}", sb.addr().port());
    for (method, path) in [
        (http::Method::POST, "/admin/faults"),
        (http::Method::POST, "/admin/faults/clear"),
        (http::Method::POST, "/admin/faults/remove"),
        (http::Method::GET, "/admin/faults"),
        (http::Method::GET, "/faults"),
    ] {
        let request = http::Request::builder()
            .method(method)
            .uri(url(&sb, path))
            .header(http::header::HOST, &rebound)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from_static(rule)))
            .expect("request");
        let (status, _, _) = fetch(request).await;
        assert_eq!(status, 403, "{path}");
    }
    assert_eq!(sb.faults().len(), 1, "nothing added or cleared");
}

fn rule_of(json: &[u8]) -> FaultRule {
    serde_json::from_slice(json).expect("a rule")
}

#[tokio::test]
async fn a_cross_site_post_never_pays_the_checkout() {
    let (_dir, sb, m) = started(1.0).await;
    let id = create(&sb, &m, &order("CSRF-1", None)).await;
    let pay = url(&sb, &format!("/pay/{id}"));
    let (_, _, html) = page(&pay).await;
    let token = form_token(&html);
    let ours = format!("http://{}", sb.addr());
    let form = ("content-type", "application/x-www-form-urlencoded");
    let with_token = format!("action=pay&pay_type=card&token={token}");
    let cases: [(&str, Vec<(&str, &str)>); 8] = [
        ("action=pay&pay_type=card", vec![form]),
        (
            "action=pay&pay_type=card&token=guess",
            vec![form, ("origin", &ours)],
        ),
        (&with_token, vec![form, ("origin", "http://evil.example")]),
        (&with_token, vec![form, ("origin", "null")]),
        (&with_token, vec![form, ("sec-fetch-site", "cross-site")]),
        // Another port of the same host is the same site, not the same origin.
        (&with_token, vec![form, ("sec-fetch-site", "same-site")]),
        (&with_token, vec![form, ("origin", "http://127.0.0.1:1")]),
        ("{}", vec![("content-type", "application/json")]),
    ];
    for (body, headers) in cases {
        let (status, _, _) =
            fetch(request(http::Method::POST, &pay, &headers, body.to_owned())).await;
        assert_eq!(status, 403, "{body} with {headers:?}");
        let order = sb.order(&id).expect("read").expect("order");
        assert_eq!(order.status, OrderStatus::AwaitingPayment, "{headers:?}");
        assert!(sb.notifications(Some(&id)).expect("read").is_empty());
    }
    // The page's own form, as a browser posts it.
    let headers = [form, ("origin", &ours), ("sec-fetch-site", "same-origin")];
    let (status, _, html) = fetch(request(http::Method::POST, &pay, &headers, with_token)).await;
    assert_eq!(status, 200, "{html}");
    let order = sb.order(&id).expect("read").expect("order");
    assert_eq!(order.status, OrderStatus::Paid);
}

/// Every answer comes from the one responder: never sniffed, never cached,
/// no page address sent away; every HTML page under the CSP, which forbids
/// framing it. The jump pages, once built by hand, lacked all of it.
#[tokio::test]
async fn every_page_answers_with_the_security_headers() {
    let (_dir, sb, m) = started(1.0).await;
    let id = create(&sb, &m, &order("HEAD-1", None)).await;
    let jump = et_model::JumpPlaceOrder::new("HEAD-JUMP", "student-1");
    let jump_url = call(&sb, &m, &jump).await.expect("jump")[0]
        .jump_url
        .clone()
        .expect("jump_url");
    let form = ("content-type", "application/x-www-form-urlencoded");
    let get = |path: &str| (http::Method::GET, url(&sb, path), "");
    let answers = [
        get("/"),
        get(&format!("/orders/{id}")),
        get("/orders/ET-NONE"),
        get("/notifications"),
        get("/requests"),
        get("/requests/1"),
        get("/faults"),
        get(&format!("/pay/{id}")),
        get("/pay/ET-NONE"),
        (http::Method::GET, jump_url.clone(), ""),
        (http::Method::POST, jump_url.clone(), "currency_code="),
        (
            http::Method::POST,
            url(&sb, &format!("/pay/{id}")),
            "action=pay",
        ),
        get("/jump/nope"),
        get(&format!("/admin/orders/{id}")),
        get("/static/dashboard.css"),
        get(&format!("/vouchers/{id}.pdf")),
        get("/no-such-route"),
    ];
    let mut pages = 0;
    for (method, url, body) in answers {
        let (status, headers, _) = fetch(request(method.clone(), &url, &[form], body)).await;
        let header = |name| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        let what = format!("{method} {url} ({status})");
        assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
        assert_eq!(header("cache-control"), "no-store", "{what}");
        assert_eq!(header("referrer-policy"), "same-origin", "{what}");
        if header("content-type").starts_with("text/html") {
            pages += 1;
            let csp = header("content-security-policy");
            assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp:?}");
            assert!(csp.contains("script-src 'self'"), "{what}: {csp:?}");
        }
    }
    assert_eq!(pages, 14, "every HTML answer above was checked");
}

/// `HEAD` is `GET` without the body; a known path asked with a method it
/// does not take is 405 with `Allow`, not 404.
#[tokio::test]
async fn head_answers_like_get_and_a_wrong_method_gets_405_with_allow() {
    let (_dir, sb, m) = started(1.0).await;
    let id = create(&sb, &m, &order("METHOD-1", None)).await;
    for path in [
        "/".to_owned(),
        format!("/pay/{id}"),
        format!("/orders/{id}"),
    ] {
        let (status, headers, body) =
            fetch(request(http::Method::HEAD, &url(&sb, &path), &[], "")).await;
        assert_eq!((status, body.as_str()), (200, ""), "HEAD {path}");
        assert!(headers["content-type"]
            .to_str()
            .expect("ASCII")
            .starts_with("text/html"));
    }
    let json = [("content-type", "application/json")];
    for (method, path, allow) in [
        (http::Method::DELETE, "/".to_owned(), "GET, HEAD"),
        (http::Method::POST, format!("/orders/{id}"), "GET, HEAD"),
        (http::Method::PUT, format!("/pay/{id}"), "GET, HEAD, POST"),
        (http::Method::GET, "/admin/clock/advance".to_owned(), "POST"),
        (http::Method::GET, format!("/admin/orders/{id}/pay"), "POST"),
        (http::Method::GET, "/admin/faults/clear".to_owned(), "POST"),
        (
            http::Method::DELETE,
            "/admin/faults".to_owned(),
            "GET, HEAD, POST",
        ),
        (http::Method::GET, "/server".to_owned(), "POST"),
    ] {
        let (status, headers, _) =
            fetch(request(method.clone(), &url(&sb, &path), &json, "{}")).await;
        assert_eq!(status, 405, "{method} {path}");
        assert_eq!(headers["allow"], allow, "{method} {path}");
    }
    let (status, _, _) = fetch(request(
        http::Method::GET,
        &url(&sb, "/nothing/here"),
        &[],
        "",
    ))
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        sb.order(&id).expect("read").expect("order").status,
        OrderStatus::AwaitingPayment
    );
}

#[tokio::test]
async fn a_checkout_post_without_a_known_action_is_a_bad_request() {
    let (_dir, sb, m) = started(1.0).await;
    let id = create(&sb, &m, &order("ACTION-1", None)).await;
    let (_, _, html) = page(&sb.pay_url(&id)).await;
    let token = form_token(&html);
    let form = ("content-type", "application/x-www-form-urlencoded");
    for action in ["action=explode&", "action=&", ""] {
        let body = format!("{action}pay_type=card&token={token}");
        let (status, _, _) =
            fetch(request(http::Method::POST, &sb.pay_url(&id), &[form], body)).await;
        assert_eq!(status, 400, "{action:?}");
    }
    assert_eq!(
        sb.order(&id).expect("read").expect("order").status,
        OrderStatus::AwaitingPayment
    );
    assert!(sb.notifications(Some(&id)).expect("read").is_empty());
}

#[tokio::test]
async fn one_fault_rule_is_removed_by_its_own_button() {
    let dir = state_dir();
    let sb = start(dir.path(), 1.0).await;
    let reset = r#"{"scope":{"next":2},"fault":{"kind":"reset","at":"before_commit"}}"#;
    let drop =
        r#"{"scope":{"merchant_number":"ET82009"},"fault":{"kind":"notify_drop","attempts":2}}"#;
    sb.add_fault(rule_of(reset.as_bytes())).expect("rule");
    sb.add_fault(rule_of(drop.as_bytes())).expect("rule");
    let (_, _, html) = page(&url(&sb, "/faults")).await;
    assert_eq!(
        count(&html, "data-post=\"/admin/faults/remove\""),
        2,
        "a Clear button per rule: {html}"
    );
    let endpoint = url(&sb, "/admin/faults/remove");
    let remove = |body: &str| {
        post(
            &endpoint,
            body.as_bytes().to_vec(),
            Some("application/json"),
        )
    };
    let (status, _) = remove(reset).await;
    assert_eq!(status, 200);
    assert_eq!(
        sb.faults(),
        vec![rule_of(drop.as_bytes())],
        "only that rule went"
    );
    let (status, _) = remove(reset).await;
    assert_eq!(status, 404, "gone already");
    let (status, _) = remove("not a rule").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_empty_dashboard_shows_the_command_that_creates_an_order() {
    let dir = state_dir();
    let sb = start(dir.path(), 1.0).await;
    let (status, _, html) = page(&url(&sb, "/")).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"create-order-command\""), "{html}");
    assert!(
        html.contains(&format!(
            "et call --endpoint {} --dir sandbox/ create_order --sensitive -",
            sb.endpoint_url()
        )),
        "{html}"
    );
    // Once there is an order, the list replaces it.
    create(&sb, &merchant(dir.path()), &order("FIRST-1", None)).await;
    let (_, _, html) = page(&url(&sb, "/")).await;
    assert!(!html.contains("create-order-command") && html.contains("FIRST-1"));
}
