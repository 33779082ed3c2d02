//! The metrics et-rs records (et-http's client and webhook receiver,
//! et-inbox's gauges; names in `et_http::measure` and `et_inbox`), exported
//! in Prometheus text format: installs `metrics-exporter-prometheus` as the
//! process's recorder, serves `GET /metrics` on 127.0.0.1 with et-http's
//! bounded server, runs one demo lifecycle with the inbox (`et demo
//! --inbox`) and waits for Ctrl-C, so a Prometheus (or `curl`) can scrape:
//!
//! ```text
//! cargo run -p et-cli --example prometheus
//! curl http://127.0.0.1:PORT/metrics
//! ```

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use et_cli::demo::{self, DemoOptions};
use http_body_util::Full;
use hyper::service::service_fn;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Serves `handle`'s rendering at every path of a fresh 127.0.0.1 port
/// until `stop` completes; the address.
pub(crate) async fn serve_metrics(
    handle: PrometheusHandle,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let service = service_fn(move |_request| {
        let text = handle.render();
        async move {
            let mut response = http::Response::new(Full::new(Bytes::from(text)));
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            Ok::<_, Infallible>(response)
        }
    });
    tokio::spawn(et_http::serve(listener, service, stop));
    Ok(addr)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let handle = PrometheusBuilder::new().install_recorder()?;
    let addr = serve_metrics(handle, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    let options = DemoOptions {
        inbox: true,
        ..DemoOptions::default()
    };
    let report = demo::run(&options, |step| println!("{step}")).await;
    println!(
        "demo {}; scrape http://{addr}/metrics (Ctrl-C stops)",
        if report.passed() { "passed" } else { "failed" }
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
