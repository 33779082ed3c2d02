//! Running a [`WebhookReceiver`] on a TCP listener with graceful shutdown.

use std::future::Future;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::receiver::{NotificationHandler, WebhookReceiver};

/// Time a client gets to send the request headers (guards against
/// connections that open and never speak).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `receiver` on `listener` (HTTP/1.1, keep-alive) until `shutdown`
/// completes; then stops accepting, lets every request in flight finish
/// (its handler runs to the end and its answer is sent), closes idle
/// keep-alive connections, and returns.
///
/// Accept errors (e.g. too many open files) are logged and accepting
/// resumes after a short pause.
pub async fn serve<H, S>(listener: TcpListener, receiver: WebhookReceiver<H>, shutdown: S)
where
    H: NotificationHandler,
    S: Future<Output = ()>,
{
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let connection = builder.serve_connection(TokioIo::new(stream), receiver.clone());
                    let connection = graceful.watch(connection);
                    tokio::spawn(async move {
                        if let Err(e) = connection.await {
                            tracing::debug!(%peer, error = %e, "webhook connection ended with an error");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a webhook connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!(connections = graceful.count(), "webhook server draining");
    graceful.shutdown().await;
}
