//! The dashboard and ET's public pages in a real browser: headless
//! Chromium driven through WebDriver (chromedriver). An order is created
//! through the API, found on the dashboard and paid on the checkout page;
//! the delivery attempts to a merchant endpoint answering HTTP 500 appear;
//! "Redeliver now", once the endpoint answers OK, delivers at once; a "Bad
//! signature" failure added on the order page makes the next redelivery's
//! acknowledgement not taken, as its attempt row says, and its own "Clear"
//! button removes that rule. A receiver answering plain `OK` is explained in
//! words; the jump page is styled like the checkout and offers the
//! institution directory; the request log keeps its key columns in view at
//! 1280, 1600 and 2600 px with dates on one line.
//!
//! Screenshots at 1280 px (dashboard, order, request log, checkout, jump
//! page, a refused request) go to the test's temporary directory, and with
//! `ET_SCREENSHOTS_DIR=DIR` (relative to the workspace root) to `DIR` too:
//! `docs/screenshots/README.md`.
//!
//! Without chromedriver and Chromium the test prints `*** SKIPPED … ***`
//! and passes, unless `ET_REQUIRE_SERVICES=1` (as `.ci/run` sets), when it
//! fails. The WebDriver client is the few W3C endpoints below
//! (docs/decisions.md says why not fantoccini).

use crate::common;
use common::started;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::call;
use et_model::CreateOrder;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

/// Chromium flags that work in a container, as root, offline.
const CHROMIUM_FLAGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1500",
];
/// W3C WebDriver's key for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long any one expectation may take to come true.
const PATIENCE: Duration = Duration::from_secs(20);

/// The first of `names` found in `PATH` (or as an absolute path).
fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    names.iter().find_map(|name| {
        let direct = Path::new(name);
        if direct.is_absolute() {
            return direct.is_file().then(|| direct.to_owned());
        }
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// chromedriver, stopped (with its browser) when dropped.
struct Driver {
    child: Child,
    url: String,
    profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Our own processes only: chromedriver by its id, and the browsers
        // it started, found by their command line naming our fresh profile
        // directory (they may outlive a killed chromedriver).
        let _ = self.child.kill();
        let _ = self.child.wait();
        let marker = self.profile.path().to_string_lossy().into_owned();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains(&marker) {
                let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            }
        }
    }
}

/// A WebDriver session.
struct Browser {
    client: et_http::PlainHttpClient,
    session: String,
    driver: Driver,
}

impl Browser {
    async fn start(chromedriver: &Path, chromium: &Path) -> Browser {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            probe.local_addr().expect("addr").port()
        };
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            profile: tempfile::tempdir().expect("profile dir"),
        };
        let client = et_http::plain_http_client();
        let mut browser = Browser {
            client,
            session: String::new(),
            driver,
        };
        let deadline = Instant::now() + PATIENCE;
        loop {
            let ready = browser
                .raw(http::Method::GET, "/status", None)
                .await
                .ok()
                .and_then(|v| v["value"]["ready"].as_bool());
            if ready == Some(true) {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver never became ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| (*f).to_owned()).collect();
        args.push(format!(
            "--user-data-dir={}",
            browser.driver.profile.path().display()
        ));
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args },
        } } });
        let created = browser
            .raw(http::Method::POST, "/session", Some(capabilities))
            .await
            .expect("a browser session");
        browser.session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        browser
    }

    /// One WebDriver call; `Err` carries WebDriver's error.
    async fn raw(
        &self,
        method: http::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let body = body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string()));
        let request = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.driver.url))
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(body))
            .map_err(|e| e.to_string())?;
        let response = tokio::time::timeout(PATIENCE, self.client.request(request))
            .await
            .map_err(|_| format!("{path}: no answer"))?
            .map_err(|e| e.to_string())?;
        let ok = response.status().is_success();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        if ok {
            Ok(value)
        } else {
            Err(value["value"]["message"]
                .as_str()
                .unwrap_or("WebDriver error")
                .to_owned())
        }
    }

    async fn session(
        &self,
        method: http::Method,
        path: &str,
        body: Value,
    ) -> Result<Value, String> {
        let body = (method != http::Method::GET).then_some(body);
        self.raw(method, &format!("/session/{}{path}", self.session), body)
            .await
    }

    async fn goto(&self, url: &str) {
        self.session(http::Method::POST, "/url", json!({ "url": url }))
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    async fn source(&self) -> String {
        self.session(http::Method::GET, "/source", Value::Null)
            .await
            .ok()
            .and_then(|v| v["value"].as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// Waits until the page's source satisfies `check` (pages reload
    /// themselves, so the source is read again each time).
    async fn wait_for(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let html = self.source().await;
            if check(&html) {
                return html;
            }
            assert!(
                Instant::now() < deadline,
                "never saw {what}; last page:\n{html}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Finds the element `css` selects and clicks it, again if the page
    /// reloaded in between.
    async fn click(&self, css: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let clicked = async {
                let found = self
                    .session(
                        http::Method::POST,
                        "/element",
                        json!({ "using": "css selector", "value": css }),
                    )
                    .await?;
                let id = found["value"][ELEMENT]
                    .as_str()
                    .ok_or("no element id")?
                    .to_owned();
                self.session(
                    http::Method::POST,
                    &format!("/element/{id}/click"),
                    json!({}),
                )
                .await
            };
            match clicked.await {
                Ok(_) => return,
                Err(e) => assert!(Instant::now() < deadline, "cannot click {css}: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Runs `script` (a function body) in the page; its return value.
    async fn execute(&self, script: &str) -> Value {
        let done = self
            .session(
                http::Method::POST,
                "/execute/sync",
                json!({ "script": script, "args": [] }),
            )
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"));
        done["value"].clone()
    }

    /// Makes the window `width` × `height` CSS pixels.
    async fn resize(&self, width: u32, height: u32) {
        self.session(
            http::Method::POST,
            "/window/rect",
            json!({ "width": width, "height": height }),
        )
        .await
        .unwrap_or_else(|e| panic!("resize to {width}: {e}"));
    }

    /// A screenshot named `name`: into the test's temporary directory, and
    /// into `ET_SCREENSHOTS_DIR` when that is set.
    async fn shot(&self, name: &str) {
        let png = self.screenshot().await;
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
        let file = format!("{name}.png");
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join(&file);
        std::fs::write(&tmp, &png).expect("screenshot written");
        if let Some(dir) = std::env::var_os("ET_SCREENSHOTS_DIR") {
            // Relative to the workspace root, where the command is typed.
            let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../..")
                .join(dir);
            std::fs::create_dir_all(&dir).expect("screenshot directory");
            std::fs::write(dir.join(&file), &png).expect("screenshot written");
        }
    }

    async fn screenshot(&self) -> Vec<u8> {
        let shot = self
            .session(http::Method::GET, "/screenshot", Value::Null)
            .await
            .expect("screenshot");
        let b64 = shot["value"].as_str().expect("Base64 PNG");
        et_crypto::b64_decode(b64.as_bytes()).expect("PNG bytes")
    }

    async fn close(self) {
        let _ = self
            .raw(
                http::Method::DELETE,
                &format!("/session/{}", self.session),
                None,
            )
            .await;
    }
}

/// A merchant endpoint that answers HTTP 500 until `accept` is set, then
/// `{"notify_result":"OK"}`.
async fn flaky_endpoint(accept: Arc<AtomicBool>) -> SocketAddr {
    endpoint(move || match accept.load(Ordering::SeqCst) {
        true => (200, br#"{"notify_result":"OK"}"#),
        false => (500, b"internal error"),
    })
    .await
}

/// A merchant endpoint answering each request with `answer()`: an HTTP
/// status and a body.
async fn endpoint(answer: impl Fn() -> (u16, &'static [u8]) + Send + Sync + 'static) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let answer = answer.clone();
            let service = service_fn(move |_req: http::Request<hyper::body::Incoming>| {
                let (status, body) = answer();
                async move {
                    let mut response = http::Response::new(Full::new(Bytes::from_static(body)));
                    *response.status_mut() =
                        http::StatusCode::from_u16(status).expect("an HTTP status");
                    Ok::<_, Infallible>(response)
                }
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// chromedriver and Chromium, or `None` after saying loudly that the test
/// is skipped (a failure with `ET_REQUIRE_SERVICES=1`).
fn tools() -> Option<(PathBuf, PathBuf)> {
    let driver = find_program(&["chromedriver"]);
    let browser = find_program(&["chromium", "chromium-browser", "google-chrome"]);
    et_testkit::skip::require_service(
        driver.zip(browser),
        "dashboard_in_a_real_browser",
        "chromedriver and Chromium",
        "apt-get install chromium chromium-driver (as .ci/run does)",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_in_a_real_browser() {
    let Some((chromedriver, chromium)) = tools() else {
        return;
    };
    let (dir, sb, m) = started(1.0).await;
    let accept = Arc::new(AtomicBool::new(false));
    let endpoint = flaky_endpoint(accept.clone()).await;

    // 1. An order, through the API.
    let op = CreateOrder {
        notify_url: Some(format!("http://{endpoint}/et/notify")),
        ..et_testkit::order("BROWSER-1", "1250.00")
    };
    let order_id = call(&sb, &m, &op).await.expect("created")[0]
        .order_id
        .clone();
    let base = format!("http://{}", sb.addr());
    let browser = Browser::start(&chromedriver, &chromium).await;

    // 2. Found on the dashboard, and its page opened from there.
    browser.goto(&format!("{base}/")).await;
    browser
        .wait_for("the order in the list", |h| {
            h.contains(&order_id) && h.contains("BROWSER-1")
        })
        .await;
    browser
        .click(&format!("a[href='/orders/{order_id}']"))
        .await;
    browser
        .wait_for("the order page", |h| h.contains("Creating request"))
        .await;

    // 2a. A page of another origin posting the checkout form (a real
    // browser's Origin and Sec-Fetch-Site) pays nothing.
    let target = call(&sb, &m, &et_testkit::order("BROWSER-CSRF", "10.00"))
        .await
        .expect("created")[0]
        .order_id
        .clone();
    let attack = format!(
        "<!DOCTYPE html><form method=post action='{}'>\
         <input name=action value=pay></form><script>document.forms[0].submit()</script>",
        sb.pay_url(&target)
    );
    let (evil, _) = et_testkit::http::spawn_server(move |_| {
        let page = attack.clone();
        async move { et_testkit::http::reply(200, "text/html", page) }
    })
    .await;
    browser.goto(&format!("http://{evil}/")).await;
    browser
        .wait_for("the cross-site post refused", |h| {
            h.contains("cannot post to the sandbox")
        })
        .await;
    let unpaid = sb.order(&target).expect("read").expect("order").status;
    assert_eq!(unpaid, et_model::OrderStatus::AwaitingPayment);

    // 3. Paid on the checkout page.
    browser.goto(&format!("{base}/orders/{order_id}")).await;
    browser
        .wait_for("the order page", |h| h.contains("Creating request"))
        .await;
    browser
        .click(&format!("a[href='{}']", sb.pay_url(&order_id)))
        .await;
    browser
        .wait_for("the checkout page", |h| h.contains("Decline payment"))
        .await;
    browser.click("input[value='alipay']").await;
    browser.click("#pay").await;
    browser
        .wait_for("the payment confirmed", |h| h.contains("Payment received"))
        .await;

    // 4. The delivery attempts appear: the endpoint answers 500.
    browser.goto(&format!("{base}/orders/{order_id}")).await;
    browser
        .wait_for("failed delivery attempts", |h| {
            h.matches("class=\"num http-status\">500<").count() >= 2 && h.contains("with Alipay")
        })
        .await;

    // 5. A failure from the dashboard and its effect: the endpoint is
    // fixed, "Redeliver now" delivers at once instead of a minute later.
    accept.store(true, Ordering::SeqCst);
    let redeliver = |id: &str| format!("button[data-post='/admin/notifications/{id}/redeliver']");
    for n in sb.notifications(Some(&order_id)).expect("notifications") {
        browser.click(&redeliver(&n.id.to_string())).await;
        let done = common::wait_for(PATIENCE, || {
            let now = sb.notifications(Some(&order_id)).ok()?;
            now.iter()
                .any(|d| d.id == n.id && d.delivered)
                .then_some(())
        });
        assert!(done.await.is_some(), "redelivered at once: {n:?}");
    }
    let delivered = browser
        .wait_for("both notifications delivered", |h| {
            h.matches("class=\"yes\">acknowledged").count() >= 2
        })
        .await;
    assert!(delivered.contains("payment_success"), "{delivered}");
    for n in sb.notifications(Some(&order_id)).expect("notifications") {
        assert!(n.delivered, "{n:?}");
        assert_eq!(n.attempts, 2, "one failure, then the redelivery: {n:?}");
    }

    // A failure chosen on the order page: "Bad signature" for this order,
    // then "Redeliver now". The endpoint acknowledges the forged
    // notification, and the attempt shows that acknowledgement not taken.
    browser.click("#add-fault summary").await;
    browser
        .click("#fault-buttons button[data-body*='notify_bad_signature']")
        .await;
    browser
        .wait_for("the rule on the order page", |h| {
            h.contains("class=\"mono fault\">notify_bad_signature<")
        })
        .await;
    let rules = sb.faults();
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(rules[0].scope, et_sandbox::Scope::OrderId(order_id.clone()));
    let first = sb.notifications(Some(&order_id)).expect("notifications")[0].id;
    browser.click(&redeliver(&first.to_string())).await;
    let forged = common::wait_for(PATIENCE, || {
        let now = sb.notifications(Some(&order_id)).ok()?;
        now.iter()
            .any(|d| d.id == first && d.attempts == 3)
            .then_some(())
    });
    assert!(forged.await.is_some(), "the redelivery was attempted");
    browser
        .wait_for("the forged delivery's attempt", |h| {
            h.contains("acknowledged a notification whose sign does not verify")
        })
        .await;

    // The rule's own "Clear" button removes it (and only it).
    browser
        .click("#faults td.clear-rule button[data-body*='notify_bad_signature']")
        .await;
    browser
        .wait_for("the rule cleared", |h| h.contains("id=\"no-faults\""))
        .await;
    assert!(sb.faults().is_empty(), "{:?}", sb.faults());

    // The order page from its top, after the redeliveries.
    browser.goto(&format!("{base}/orders/{order_id}")).await;
    browser
        .wait_for("the page again", |h| h.contains("Redeliver now"))
        .await;
    browser.shot("order").await;

    wrong_reply_is_explained(&browser, &sb, &m, &base).await;
    jump_page_is_styled_and_offers_the_directory(&browser, &sb, &m).await;
    request_log_fits_the_window(&browser, &sb, &base, dir.path()).await;

    browser.goto(&format!("{base}/")).await;
    browser
        .wait_for("the orders", |h| h.contains("BROWSER-1"))
        .await;
    browser.shot("dashboard").await;

    // At phone width the page does not overflow: the orders table scrolls
    // sideways in its own box, every column reachable.
    browser.resize(390, 900).await;
    let phone = browser
        .execute(
            "const box = document.querySelector('.scroll');\
             return { page: document.documentElement.scrollWidth - document.documentElement.clientWidth,\
                      scrolls: box.scrollWidth > box.clientWidth,\
                      overflowX: getComputedStyle(box).overflowX };",
        )
        .await;
    assert_eq!(
        phone["page"],
        json!(0),
        "no page overflow at 390 px: {phone}"
    );
    assert_eq!(phone["overflowX"], json!("auto"), "{phone}");
    assert_eq!(phone["scrolls"], json!(true), "the table scrolls: {phone}");
    browser.resize(1280, 1500).await;
    browser.close().await;
}

/// A receiver that answers plain `OK`: the order page says, in words,
/// what it answered and what ET expects.
async fn wrong_reply_is_explained(
    browser: &Browser,
    sb: &et_sandbox::RunningSandbox,
    m: &et_proto::Merchant,
    base: &str,
) {
    let plain = endpoint(|| (200, b"OK")).await;
    let op = CreateOrder {
        notify_url: Some(format!("http://{plain}/et/notify")),
        ..et_testkit::order("BROWSER-PLAIN-OK", "980.00")
    };
    let order_id = call(sb, m, &op).await.expect("created")[0].order_id.clone();
    sb.pay(&order_id).expect("paid");
    browser.goto(&format!("{base}/orders/{order_id}")).await;
    let page = browser
        .wait_for("the wrong reply explained", |h| {
            h.contains("Your receiver answered <code>OK</code>; ET expects HTTP 200 with")
        })
        .await;
    assert!(
        page.contains(r#"<code class="expected">{"notify_result":"OK"}</code>"#),
        "the expected reply, shown: {page}"
    );
    let shown = browser
        .execute(
            "const e = document.querySelector('.last-error .explained');\
             return e !== null && e.getBoundingClientRect().width > 0;",
        )
        .await;
    assert_eq!(shown, json!(true), "the explanation is visible");
}

/// The jump page: the checkout's style sheet and card, a viewport, no
/// empty "sent" table, and the directory as a select the student chooses
/// from; choosing and placing leads to the checkout page.
async fn jump_page_is_styled_and_offers_the_directory(
    browser: &Browser,
    sb: &et_sandbox::RunningSandbox,
    m: &et_proto::Merchant,
) {
    let jump = et_model::JumpPlaceOrder {
        tuition: Some(et_model::Amount::new("21000.00").expect("amount")),
        first_name_en: Some("Xiaoming".to_owned()),
        last_name_en: Some("Li".to_owned()),
        name_ch: Some("李小明".to_owned()),
        student_email: Some("li@example.com".to_owned()),
        ..et_model::JumpPlaceOrder::new("BROWSER-JUMP", "student-44")
    };
    let url = call(sb, m, &jump).await.expect("jump")[0]
        .jump_url
        .clone()
        .expect("jump_url");
    browser.goto(&url).await;
    browser
        .wait_for("the jump page", |h| h.contains("Place your order"))
        .await;
    let looks = browser
        .execute(
            "const card = document.querySelector('.card');\
             const select = document.querySelector('select#institution_code');\
             return {\
               viewport: document.querySelector('meta[name=viewport]') !== null,\
               card: card !== null && getComputedStyle(card).maxWidth !== 'none',\
               background: getComputedStyle(document.body).backgroundColor,\
               options: select ? select.options.length : 0,\
               selectWidth: select ? select.getBoundingClientRect().width : 0,\
               cardWidth: card ? card.getBoundingClientRect().width : 0,\
             };",
        )
        .await;
    assert_eq!(looks["viewport"], json!(true), "{looks}");
    assert_eq!(
        looks["card"],
        json!(true),
        "styled as the checkout: {looks}"
    );
    assert_eq!(looks["background"], json!("rgb(238, 242, 247)"), "{looks}");
    assert!(
        looks["options"].as_u64().unwrap_or(0) > 10,
        "the directory is offered: {looks}"
    );
    let (select, card) = (
        looks["selectWidth"].as_f64().unwrap_or(0.0),
        looks["cardWidth"].as_f64().unwrap_or(0.0),
    );
    assert!(select > card * 0.7, "the select spans the card: {looks}");
    browser.shot("jump").await;
    browser
        .click("#institution_code option[value='GBR-OXFORD']")
        .await;
    browser.click("#currency_code option[value='GBP']").await;
    browser.click("#place").await;
    let checkout = browser
        .wait_for("the checkout page", |h| h.contains("Decline payment"))
        .await;
    assert!(checkout.contains("牛津大学"), "{checkout}");
    assert!(checkout.contains("GBP 21,000.00"), "{checkout}");
    browser.shot("checkout").await;
}

/// The request log at 1280, 1600 and 2600 px: a full page of entries, some
/// with long unbroken values, keeps its Latency column and payload links
/// inside the window, and every date on one line. A refused request's
/// page names the settings that would verify it.
async fn request_log_fits_the_window(
    browser: &Browser,
    sb: &et_sandbox::RunningSandbox,
    base: &str,
    dir: &Path,
) {
    let long = json!({
        "merchant_number": "ET82009",
        "serial_number": "S".repeat(120),
        "server_type": format!("create_order_{}", "x".repeat(90)),
    });
    for _ in 0..10 {
        let (status, _) =
            et_testkit::http::post(&sb.endpoint_url(), long.to_string().into_bytes(), None).await;
        assert_eq!(status, 200);
    }
    let sha1 = et_proto::Profile {
        sign_hash: et_crypto::SignHash::Sha1,
        ..et_proto::Profile::default()
    };
    let m = common::merchant_speaking(dir, sha1);
    let rate = et_model::GetRate {
        currency_code: et_model::CurrencyCode::new("GBP"),
        pay_currency_code: None,
        extra: Default::default(),
    };
    for _ in 0..45 {
        let _ = call(sb, &m, &rate).await;
    }
    browser.goto(&format!("{base}/requests")).await;
    browser
        .wait_for("the request log", |h| h.contains("id=\"requests\""))
        .await;
    let measure = "const vw = document.documentElement.clientWidth;\
        const cells = [...document.querySelectorAll('#requests td.latency, #requests td.payload-link')];\
        const right = Math.max(...cells.map(c => c.getBoundingClientRect().right));\
        const dates = [...document.querySelectorAll('#requests td.when')].map(c => {\
          const r = document.createRange(); r.selectNodeContents(c); return r.getClientRects().length; });\
        return { vw, right, rows: cells.length / 2, dateLines: Math.max(...dates),\
                 overflow: document.documentElement.scrollWidth - vw };";
    for width in [1280, 1600, 2600] {
        browser.resize(width, 1500).await;
        let fit = browser.execute(measure).await;
        let (vw, right) = (
            fit["vw"].as_f64().unwrap_or(0.0),
            fit["right"].as_f64().unwrap_or(f64::MAX),
        );
        assert!(fit["rows"].as_u64() >= Some(50), "a full page: {fit}");
        assert!(
            right <= vw,
            "at {width} px Latency and payload are in view: {fit}"
        );
        assert_eq!(
            fit["dateLines"],
            json!(1),
            "at {width} px dates on one line: {fit}"
        );
        assert!(
            fit["overflow"].as_f64() <= Some(0.0),
            "no page overflow at {width} px: {fit}"
        );
    }
    browser.resize(1280, 1500).await;
    browser.goto(&format!("{base}/requests")).await;
    browser
        .wait_for("the request log", |h| h.contains("id=\"requests\""))
        .await;
    browser.shot("request-log").await;
    browser.click("#requests td.payload-link a").await;
    let refused = browser
        .wait_for("a refused request's page", |h| {
            h.contains("Signature check")
        })
        .await;
    assert!(
        refused.contains("but it verifies with <code>sign_hash = sha1</code>"),
        "{refused}"
    );
    browser.shot("request-signature").await;
}
