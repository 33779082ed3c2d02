//! A Prometheus scrape after a demo lifecycle (with the inbox): the
//! example's exporter serves the metrics in text format over HTTP, and the
//! counts match what the lifecycle did. One test per binary: the recorder
//! is the process's.

use std::collections::BTreeMap;

use et_cli::demo::DemoOptions;
use metrics_exporter_prometheus::PrometheusBuilder;

#[path = "cli/common/mod.rs"]
mod common;

#[allow(dead_code)] // its `main` is the example's
#[path = "../../et-cli/examples/prometheus.rs"]
mod example;

/// The samples of a Prometheus text page: `name{labels}` → value.
fn samples(page: &str) -> BTreeMap<String, f64> {
    page.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// The sum of the samples of `name` whose labels include every one of `labels`.
fn sum(samples: &BTreeMap<String, f64>, name: &str, labels: &[&str]) -> f64 {
    samples
        .iter()
        .filter(|(series, _)| {
            series.split('{').next() == Some(name) && labels.iter().all(|l| series.contains(l))
        })
        .map(|(_, v)| v)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_after_the_demo_counts_its_calls_notifications_and_inbox() {
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .expect("the process's only recorder");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let addr = example::serve_metrics(handle, async {
        let _ = stopped.await;
    })
    .await
    .expect("metrics endpoint");
    let (report, _) = common::demo_passes(DemoOptions {
        bits: 1024,
        inbox: true,
        ..DemoOptions::default()
    })
    .await;

    let (status, page) = et_testkit::http::get(&format!("http://{addr}/metrics")).await;
    assert_eq!(status, 200);
    let page = String::from_utf8(page).expect("text");
    let s = samples(&page);
    let calls = sum(&s, "et_client_requests_total", &[]);
    assert!(calls >= 6.0, "{page}");
    assert_eq!(
        sum(&s, "et_client_requests_total", &[r#"outcome="success""#]),
        calls,
        "every call of the lifecycle succeeded\n{page}"
    );
    assert_eq!(
        sum(
            &s,
            "et_client_requests_total",
            &[r#"operation="create_order""#]
        ),
        2.0,
        "the order and the reconciler's unnotified order\n{page}"
    );
    assert_eq!(
        sum(&s, "et_client_request_duration_seconds_count", &[]),
        calls,
        "one latency sample per call\n{page}"
    );
    assert_eq!(
        sum(&s, "et_notifications_total", &[r#"result="acknowledged""#]),
        report.notifications as f64,
        "{page}"
    );
    assert_eq!(
        sum(&s, "et_notifications_total", &[r#"result="refused""#]),
        0.0
    );
    for gauge in [
        "et_inbox_pending_events",
        "et_inbox_dead_events",
        "et_inbox_oldest_pending_age_seconds",
    ] {
        assert!(s.contains_key(gauge), "{gauge} missing\n{page}");
        assert_eq!(s[gauge], 0.0, "the inbox was consumed\n{page}");
    }
    for secret_bearing in ["order_id", "amount", "key=", "ET0"] {
        assert!(
            !page.contains(secret_bearing),
            "{secret_bearing} in a label\n{page}"
        );
    }
    let _ = stop.send(());
}
