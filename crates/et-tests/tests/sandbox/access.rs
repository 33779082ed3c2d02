//! Who may act on a sandbox's dashboard and admin routes: never what a
//! sandbox itself sends, whatever name, address or redirect its URL uses;
//! only this machine, unless the sandbox is exposed on purpose, and then
//! only with its secret.

use crate::common;
use common::started;

use std::path::Path;
use std::time::Duration;

use common::{call, fetch, get, merchant, post, request, state_dir, wait_for};
use et_model::{CreateOrder, OrderStatus};
use et_proto::Merchant;
use et_sandbox::{Exposure, RunningSandbox, SandboxConfig};
use http::Method;

async fn start_on(dir: &Path, listen: &str, exposure: Exposure) -> RunningSandbox {
    let config = SandboxConfig {
        listen: listen.parse().expect("addr"),
        exposure,
        ..SandboxConfig::new(dir)
    };
    et_sandbox::start(config).await.expect("sandbox starts")
}

async fn create(sb: &RunningSandbox, m: &Merchant, n: usize, notify_url: Option<String>) -> String {
    let op = CreateOrder {
        notify_url,
        ..et_testkit::order(format!("A-{n}"), "100.00")
    };
    call(sb, m, &op).await.expect("order created")[0]
        .order_id
        .clone()
}

/// Sandbox time's year, read through an advance of nothing.
async fn year(sb: &RunningSandbox) -> i32 {
    let url = format!("http://{}/admin/clock/advance?seconds=0", sb.addr());
    let (status, body) = post(&url, b"{}".to_vec(), Some("application/json")).await;
    assert_eq!(status, 200);
    let now: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    now["now"].as_str().expect("now")[..4]
        .parse()
        .expect("a year")
}

#[tokio::test]
async fn no_delivery_acts_on_a_sandbox_whatever_its_url_names() {
    let (_dir, sb, m) = started(1.0).await;
    let other_dir = state_dir();
    let other = start_on(other_dir.path(), "[::1]:0", Exposure::Loopback).await;
    let other_m = merchant(other_dir.path());
    let port = sb.addr().port();

    let closed = create(&sb, &m, 1, None).await;
    let paid = create(&sb, &m, 2, None).await;
    let redirected = create(&sb, &m, 3, None).await;
    let elsewhere = create(&other, &other_m, 1, None).await;
    let target = format!("http://127.0.0.1:{port}/admin/orders/{redirected}/close");
    let (redirect, _) = et_testkit::http::spawn_server(move |_| {
        let target = target.clone();
        async move {
            http::Response::builder()
                .status(307)
                .header(http::header::LOCATION, target)
                .body(http_body_util::Full::new(bytes::Bytes::new()))
                .expect("response")
        }
    })
    .await;
    let year_before = year(&sb).await;

    let direct = [
        format!("http://127.0.0.1:{port}/admin/orders/{closed}/close"),
        format!("http://127.0.0.1:{port}/pay/{paid}"),
        format!(
            "http://[::1]:{}/admin/orders/{elsewhere}/close",
            other.addr().port()
        ),
        // Last: ten years on would close every unpaid order.
        format!("http://localhost:{port}/admin/clock/advance?seconds=316224000"),
    ];
    let mut hostile = Vec::new();
    for (n, url) in [format!("http://{redirect}/n")]
        .iter()
        .chain(&direct)
        .enumerate()
    {
        hostile.push(create(&sb, &m, 10 + n, Some(url.clone())).await);
    }
    for id in &hostile {
        sb.pay(id).expect("pays");
    }
    // Each paid order sends two notifications; both are tried at once.
    let tried = wait_for(Duration::from_secs(20), || {
        hostile
            .iter()
            .all(|id| sb.delivery_attempts(id).expect("attempts").len() >= 2)
            .then_some(())
    })
    .await;
    assert!(tried.is_some(), "every hostile notification was tried");

    for id in [&closed, &paid, &redirected] {
        let order = sb.order(id).expect("read").expect("order");
        assert_eq!(order.status, OrderStatus::AwaitingPayment, "{id}");
    }
    let order = other.order(&elsewhere).expect("read").expect("order");
    assert_eq!(
        order.status,
        OrderStatus::AwaitingPayment,
        "the other sandbox's"
    );
    assert_eq!(year(&sb).await, year_before, "the clock did not move");
    // The sandbox the URL named refused each delivery itself.
    for id in &hostile[1..] {
        for a in sb.delivery_attempts(id).expect("attempts") {
            assert_eq!(a.http_status, Some(403), "{}", a.url);
        }
    }
    let (status, _) = get(&format!("http://127.0.0.1:{port}/orders/{closed}")).await;
    assert_eq!(status, 200, "the dashboard still answers its developer");
    sb.shutdown().await;
    other.shutdown().await;
}

#[tokio::test]
async fn an_address_beyond_loopback_needs_the_explicit_option() {
    let dir = state_dir();
    // Refused before anything is bound: these tests bind loopback only.
    for listen in ["0.0.0.0:0", "[::]:0", "192.0.2.1:8877", "[2001:db8::1]:0"] {
        let config = SandboxConfig {
            listen: listen.parse().expect("addr"),
            ..SandboxConfig::new(dir.path())
        };
        match et_sandbox::start(config).await {
            Err(e @ et_sandbox::Error::NotLoopback { .. }) => {
                assert!(e.to_string().contains("Exposure::Network"), "{e}");
            }
            other => panic!("{listen}: expected NotLoopback, got {other:?}"),
        }
    }
    let sb = start_on(dir.path(), "127.0.0.1:0", Exposure::Loopback).await;
    assert_eq!(sb.secret(), None);
    assert_eq!(sb.dashboard_url(), format!("http://{}/", sb.addr()));
    // A loopback sandbox's dashboard answers to loopback names only.
    let port = sb.addr().port();
    for (host, expected) in [
        (format!("127.0.0.1:{port}"), 200),
        (format!("localhost:{port}"), 200),
        (format!("192.168.1.5:{port}"), 403),
        (format!("10.0.0.5:{port}"), 403),
    ] {
        let url = format!("http://{}/", sb.addr());
        let (status, _, _) = fetch(request(Method::GET, &url, &[("host", &host)], "")).await;
        assert_eq!(status, expected, "Host: {host}");
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn an_exposed_sandbox_serves_its_dashboard_and_admin_only_with_its_secret() {
    let dir = state_dir();
    let sb = start_on(dir.path(), "127.0.0.1:0", Exposure::Network).await;
    let m = merchant(dir.path());
    let secret = sb.secret().expect("a secret").to_owned();
    let id = create(&sb, &m, 1, None).await;
    let url = |path: &str| format!("http://{}{path}", sb.addr());
    let lan = format!("192.168.1.5:{}", sb.addr().port());
    let bearer = format!("Bearer {secret}");
    let json = ("content-type", "application/json");
    let private = [
        (Method::GET, "/".to_owned()),
        (Method::GET, format!("/orders/{id}")),
        (Method::GET, "/notifications".to_owned()),
        (Method::GET, "/requests".to_owned()),
        (Method::GET, "/faults".to_owned()),
        (Method::GET, "/admin/faults".to_owned()),
        (Method::GET, format!("/admin/orders/{id}")),
        (Method::POST, "/admin/clock/advance?seconds=0".to_owned()),
        (Method::POST, format!("/admin/orders/{id}/close")),
        (Method::GET, "/a-route-added-later".to_owned()),
    ];
    for (method, path) in &private {
        for headers in [vec![json], vec![json, ("authorization", "Bearer wrong")]] {
            let (status, _, _) = fetch(request(method.clone(), &url(path), &headers, "{}")).await;
            assert_eq!(status, 401, "{method} {path} with {headers:?}");
        }
    }
    assert_eq!(
        sb.order(&id).expect("read").expect("order").status,
        OrderStatus::AwaitingPayment
    );
    // With the secret, from a LAN address too.
    let with = [
        json,
        ("authorization", bearer.as_str()),
        ("host", lan.as_str()),
    ];
    let (status, _, _) = fetch(request(Method::GET, &url("/"), &with, "")).await;
    assert_eq!(status, 200);
    let close = url(&format!("/admin/orders/{id}/close"));
    let (status, _, _) = fetch(request(Method::POST, &close, &with, "{}")).await;
    assert_eq!(status, 200);
    // A browser opens the printed address once and then holds a cookie.
    assert_eq!(sb.dashboard_url(), url(&format!("/?secret={secret}")));
    let (status, headers, _) = fetch(request(Method::GET, &sb.dashboard_url(), &[], "")).await;
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/");
    let cookie = headers["set-cookie"].to_str().expect("ASCII");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let cookie = cookie.split(';').next().expect("name=value");
    let (status, _, html) = fetch(request(Method::GET, &url("/"), &[("cookie", cookie)], "")).await;
    assert_eq!(status, 200);
    assert!(html.contains(&id));
    let wrong = url("/?secret=wrong");
    let (status, headers, _) = fetch(request(Method::GET, &wrong, &[], "")).await;
    assert_eq!((status, headers.get("set-cookie")), (401, None));
    // ET's API and the payer's pages need no secret.
    let (status, _) = get(&sb.pay_url(&id)).await;
    assert_eq!(status, 200);
    let (status, _) = get(&url("/static/dashboard.css")).await;
    assert_eq!(status, 200);
    create(&sb, &m, 2, None).await;
    sb.shutdown().await;
}
