//! The institution directory (`get_institutions`, `institution_code` on
//! orders) and third-party jump ordering, through the sandbox's HTTP API
//! and pages, verified with et-proto's merchant side.

use crate::common;
use common::started;

use common::{
    call, demo_merchant, get, merchant, post, refused, start, state_dir, wait_for, Receiver,
};
use et_model::{
    Amount, CreateOrder, GetInstitutions, Institution, InstitutionType, JumpPlaceOrder,
    Notification, OrderStatus, ServerType,
};
use et_proto::{RequestOptions, CONTENT_TYPE};
use et_sandbox::{SandboxCode, DEFAULT_PAGE, SANDBOX_JSON};
use std::time::SystemTime;

fn codes(found: &[Institution]) -> Vec<&str> {
    found.iter().map(|i| i.institution_code.as_str()).collect()
}

fn order(id: &str, institution_code: Option<&str>) -> CreateOrder {
    CreateOrder {
        institution_code: institution_code.map(str::to_owned),
        ..et_testkit::order(id, "1000.00")
    }
}

/// ET's Python demo: callback_process `""`, `sensitive_data` the encryption
/// of `[]`, `data` exactly its text (spaces included).
#[tokio::test]
async fn the_demos_request_gets_a_verified_list() {
    let dir = state_dir();
    let sb = start(dir.path(), 1.0).await;
    let m = demo_merchant(dir.path());
    let req = m
        .build_untyped(
            ServerType::from_code("get_institutions"),
            r#"{"search_key": "", "count": 0, "institution_type": 1}"#,
            "[]",
            &RequestOptions::default(),
            SystemTime::now(),
        )
        .expect("builds");
    let envelope: serde_json::Value = serde_json::from_slice(&req.body).expect("JSON");
    assert!(!envelope["aeskey"].as_str().unwrap_or_default().is_empty());
    assert_eq!(envelope["callback_process"], "");
    let (status, body) = post(&sb.endpoint_url(), req.body.clone(), None).await;
    assert_eq!(status, 200);
    let reply = m
        .open::<GetInstitutions>(&req, &body, SystemTime::now())
        .expect("a verified list");
    assert_eq!(
        reply.items.len(),
        DEFAULT_PAGE,
        "count 0 is the default page"
    );
    assert_eq!(reply.count, Some(DEFAULT_PAGE as u64));
    assert!(reply
        .items
        .iter()
        .all(|i| i.institution_type == Some(InstitutionType::SCHOOL)
            && i.institution_name_en.is_some()
            && i.institution_name_ch.is_some()
            && i.country_code.is_some()));
    let mut sorted = codes(&reply.items);
    sorted.sort_unstable();
    assert_eq!(codes(&reply.items), sorted, "a stable order");
    sb.shutdown().await;
}

#[tokio::test]
async fn search_by_key_in_either_language_and_order_with_a_code_from_it() {
    let (_dir, sb, m) = started(1.0).await;
    for key in ["oxford", "OXFORD", "牛津"] {
        let found = call(&sb, &m, &GetInstitutions::new(key))
            .await
            .expect("list");
        assert_eq!(codes(&found), ["GBR-OXFORD"], "{key}");
    }
    let toronto = call(&sb, &m, &GetInstitutions::new("多伦多大学"))
        .await
        .expect("list");
    assert_eq!(
        toronto[0].institution_name_en.as_deref(),
        Some("University of Toronto")
    );
    let residences = GetInstitutions {
        institution_type: Some(InstitutionType(2)),
        ..GetInstitutions::new("")
    };
    let found = call(&sb, &m, &residences).await.expect("list");
    assert!(
        found.len() >= 5
            && found
                .iter()
                .all(|i| i.institution_type == Some(InstitutionType(2)))
    );
    let found = call(&sb, &m, &GetInstitutions::new("unsw"))
        .await
        .expect("list");
    let code = found[0].institution_code.as_str();

    let created = call(&sb, &m, &order("M-INST-1", Some(code)))
        .await
        .expect("created");
    let order_id = created[0].order_id.as_str();
    let institution = sb
        .order_institution(order_id)
        .expect("store")
        .expect("the order names its institution");
    assert_eq!(
        (
            institution.institution_name_en.as_str(),
            institution.institution_name_ch.as_str()
        ),
        ("UNSW Sydney", "新南威尔士大学")
    );
    let (status, page) = get(&sb.pay_url(order_id)).await;
    assert_eq!(status, 200);
    let page = String::from_utf8_lossy(&page);
    assert!(
        page.contains(r#"UNSW Sydney <span lang="zh">新南威尔士大学</span> (<span class="code">AUS-UNSW</span>)"#),
        "{page}"
    );
    let (status, admin) = get(&format!("http://{}/admin/orders/{order_id}", sb.addr())).await;
    assert_eq!(status, 200);
    let admin: serde_json::Value = serde_json::from_slice(&admin).expect("JSON");
    assert_eq!(admin["institution"]["institution_code"], "AUS-UNSW");
    sb.shutdown().await;
}

#[tokio::test]
async fn an_unknown_institution_code_is_refused_and_creates_nothing() {
    let (_dir, sb, m) = started(1.0).await;
    let message = refused(
        call(&sb, &m, &order("M-INST-2", Some("GBR-HOGWARTS"))).await,
        SandboxCode::UnknownInstitution,
    );
    assert!(
        message.contains("`institution_code`") && message.contains("GBR-HOGWARTS"),
        "{message}"
    );
    // Nothing was created: the same merchant_order_id still works.
    call(&sb, &m, &order("M-INST-2", Some("GBR-OXFORD")))
        .await
        .expect("created");
    // No code at all is still an order without an institution.
    let plain = call(&sb, &m, &order("M-INST-3", None))
        .await
        .expect("created");
    assert_eq!(
        sb.order_institution(&plain[0].order_id).expect("store"),
        None
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn the_directory_is_edited_in_sandbox_json() {
    let dir = state_dir();
    let settings = r#"{"rates":{"GBP":"9.0000"},"counter_fee":"10.00","institutions":[
        {"institution_code":"X-1","institution_name_en":"Test College","institution_name_ch":"测试学院","country_code":"GBR","institution_type":1}]}"#;
    std::fs::write(dir.path().join(SANDBOX_JSON), settings).expect("write");
    let sb = start(dir.path(), 1.0).await;
    let m = merchant(dir.path());
    let found = call(&sb, &m, &GetInstitutions::new(""))
        .await
        .expect("list");
    assert_eq!(codes(&found), ["X-1"]);
    refused(
        call(&sb, &m, &order("M-EDIT-1", Some("GBR-OXFORD"))).await,
        SandboxCode::UnknownInstitution,
    );
    sb.shutdown().await;

    let duplicate = r#"{"rates":{},"counter_fee":"0","institutions":[
        {"institution_code":"X-1","institution_name_en":"A"},{"institution_code":"X-1","institution_name_en":"B"}]}"#;
    std::fs::write(dir.path().join(SANDBOX_JSON), duplicate).expect("write");
    let config = et_sandbox::SandboxConfig::new(dir.path());
    let error = et_sandbox::start(config).await.expect_err("refused");
    assert!(error.to_string().contains("used twice"), "{error}");
}

/// One HTTP exchange with the answer's status, `Location` and body.
async fn exchange(method: &str, url: &str, form: &str) -> (u16, Option<String>, String) {
    let method = http::Method::from_bytes(method.as_bytes()).expect("method");
    let form_type = ("content-type", "application/x-www-form-urlencoded");
    let (status, headers, body) =
        common::fetch(common::request(method, url, &[form_type], form.to_owned())).await;
    let location = headers
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, location, body)
}

fn jump_request(id: &str, hook: &Receiver) -> JumpPlaceOrder {
    JumpPlaceOrder {
        school_name: Some("<script>alert(1)</script> & \"Oxford\"".to_owned()),
        tuition: Some(Amount::new("9000.00").expect("amount")),
        first_name_en: Some("San".to_owned()),
        name_ch: Some("张三".to_owned()),
        status_change_notify_url: Some(hook.url("/et/status")),
        ..JumpPlaceOrder::new(id, "student-43")
    }
}

#[tokio::test]
async fn the_jump_flow_ends_in_a_paid_order_with_its_notifications() {
    let (_dir, sb, m) = started(1.0).await;
    let hook = Receiver::start(true).await;
    let jump = jump_request("M-JUMP-1", &hook);
    let address = call(&sb, &m, &jump).await.expect("jump accepted");
    let url = address[0].jump_url.clone().expect("jump_url");
    assert!(
        url.starts_with(&format!("http://{}/jump/", sb.addr())),
        "{url}"
    );
    // A retry gets the same address.
    let again = call(&sb, &m, &jump).await.expect("retry accepted");
    assert_eq!(again[0].jump_url.as_deref(), Some(url.as_str()));

    // The student's submissions of the jump page's form.
    let submit = |form| exchange("POST", &url, form);

    // The student sees what the merchant sent, escaped, and a form for the rest.
    let (status, _, page) = exchange("GET", &url, "").await;
    assert_eq!(status, 200);
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Oxford&quot;"));
    assert!(!page.contains("<script>"));
    assert!(page.contains("张三") && page.contains("9,000.00"));
    assert!(page.contains(r#"name="currency_code""#) && !page.contains(r#"name="tuition""#));

    // What the student leaves out, or gets wrong, comes back with a note, escaped.
    let (status, _, page) = submit("institution_code=GBR-OXFORD").await;
    assert_eq!(status, 422);
    assert!(page.contains("currency_code"), "{page}");
    let (status, _, page) = submit("institution_code=%3Cb%3Enope&currency_code=GBP").await;
    assert_eq!(status, 422);
    assert!(
        page.contains("&lt;b&gt;nope") && !page.contains("<b>nope"),
        "{page}"
    );
    assert!(sb.notifications(None).expect("outbox").is_empty());

    let (status, location, _) =
        submit("institution_code=GBR-OXFORD&currency_code=GBP&student_email=s%40example.com").await;
    assert_eq!(status, 303);
    let checkout = location.expect("redirect to the checkout page");
    let order_id = checkout.rsplit('/').next().expect("order id").to_owned();
    assert_eq!(checkout, sb.pay_url(&order_id));
    let placed = sb.order(&order_id).expect("store").expect("the order");
    assert_eq!(
        (placed.merchant_order_id.as_str(), placed.amount.as_str()),
        ("M-JUMP-1", "9000.00")
    );
    assert_eq!(placed.status, OrderStatus::AwaitingPayment);
    assert_eq!(
        sb.order_institution(&order_id)
            .expect("store")
            .map(|i| i.institution_name_ch),
        Some("牛津大学".to_owned())
    );
    // The page now leads to that order; submitting again places no second one.
    let (status, location, _) = submit("currency_code=GBP&country_code=GBR").await;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some(checkout.as_str()))
    );
    let (status, location, _) = exchange("GET", &url, "").await;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some(checkout.as_str()))
    );
    // The merchant_order_id is taken now, for jumps and orders alike.
    refused(
        call(&sb, &m, &jump).await,
        SandboxCode::DuplicateMerchantOrderId,
    );

    // From here on it is an ordinary order.
    let (_, _, page) = exchange("GET", &checkout, "").await;
    let form = format!("action=pay&token={}", common::form_token(&page));
    let (status, _, _) = exchange("POST", &checkout, &form).await;
    assert_eq!(status, 200);
    let notes = wait_for(std::time::Duration::from_secs(10), || {
        let notes = hook.verified(&m);
        (notes.len() >= 2).then_some(notes)
    })
    .await
    .expect("payment and status notifications");
    assert!(notes
        .iter()
        .any(|n| matches!(n, Notification::PaymentSuccess(p) if p.order_id == order_id)));
    assert!(notes.iter().any(|n| matches!(n, Notification::OrderStatusChange(c) if c.order_id == order_id && c.order_status == OrderStatus::Paid)));
    assert_eq!(
        sb.order(&order_id).expect("store").expect("order").status,
        OrderStatus::Paid
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn jump_pages_refuse_unknown_tokens_and_oversized_forms() {
    let (_dir, sb, m) = started(1.0).await;
    let hook = Receiver::start(true).await;
    let base = format!("http://{}", sb.addr());
    let (status, _, _) = exchange("GET", &format!("{base}/jump/nope"), "").await;
    assert_eq!(status, 404);
    let (status, _, _) = exchange("POST", &format!("{base}/jump/nope"), "currency_code=GBP").await;
    assert_eq!(status, 404);
    let url = call(&sb, &m, &jump_request("M-JUMP-2", &hook))
        .await
        .expect("jump")[0]
        .jump_url
        .clone()
        .expect("jump_url");
    let token = url.rsplit('/').next().expect("token");
    assert!(
        token.len() >= 32 && token.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{token}"
    );
    let huge = format!("currency_code={}", "G".repeat(64 * 1024));
    let (status, _, _) = exchange("POST", &url, &huge).await;
    assert_eq!(status, 413);
    // An invalid jump (sent past the merchant's own check) is refused like
    // any payload, naming the field.
    let mut bad = jump_request("M-JUMP-3", &hook);
    bad.name_ch = Some("张".repeat(21));
    let sensitive = serde_json::to_string(&bad).expect("JSON");
    let req = m
        .build_untyped(
            ServerType::MerchantJumpPlaceOrder,
            "{}",
            &sensitive,
            &RequestOptions::default(),
            SystemTime::now(),
        )
        .expect("builds");
    let (_, body) = post(&sb.endpoint_url(), req.body.clone(), Some(CONTENT_TYPE)).await;
    let message = refused(
        m.open::<JumpPlaceOrder>(&req, &body, SystemTime::now())
            .map(|r| r.items),
        SandboxCode::InvalidPayload,
    );
    assert!(message.contains("name_ch"), "{message}");
    sb.shutdown().await;
}
