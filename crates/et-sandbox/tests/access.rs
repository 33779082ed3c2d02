//! Who may act on a sandbox's dashboard and admin routes: never what a
//! sandbox itself sends, whatever name, address or redirect its URL uses.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{call, get, merchant, post, start, state_dir, wait_for};
use et_model::{CreateOrder, OrderStatus};
use et_proto::Merchant;
use et_sandbox::{RunningSandbox, SandboxConfig};

async fn start_on(dir: &Path, listen: &str) -> RunningSandbox {
    let config = SandboxConfig {
        dir: dir.to_owned(),
        listen: listen.parse().expect("addr"),
        time_scale: 1.0,
    };
    et_sandbox::start(config).await.expect("sandbox starts")
}

async fn create(sb: &RunningSandbox, m: &Merchant, n: usize, notify_url: Option<String>) -> String {
    let op = CreateOrder {
        notify_url,
        ..et_testkit::order(&format!("A-{n}"), "100.00")
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
    let dir = state_dir();
    let sb = start(dir.path(), 1.0).await;
    let m = merchant(dir.path());
    let other_dir = state_dir();
    let other = start_on(other_dir.path(), "[::1]:0").await;
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
