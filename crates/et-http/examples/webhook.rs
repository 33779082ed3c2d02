//! Listens for ET's notifications and prints each verified one.
//!
//! ```sh
//! ET_NOTIFY_SALT=abc123 cargo run -p et-http --example webhook -- 127.0.0.1:8080
//! curl -H 'content-type: application/json' --data '{"order_id":"ETxxxxxxxxxxxx01",
//!   "pay_result":1,"pay_amount":10000.00,"pay_datetime":"2024-12-01 10:00:00",
//!   "extend_info":"","sign":"652614570bcc49940d7dcc7a3c3dc7e5"}' http://127.0.0.1:8080/
//! ```
//!
//! Stops on Ctrl-C after the requests in flight have finished (waiting at
//! most `ServeConfig::drain_timeout`).

use et_http::{serve, WebhookReceiver};
use et_proto::{NotificationVerifier, Profile, VerifiedNotification};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let salt = std::env::var("ET_NOTIFY_SALT")
        .map_err(|_| "set ET_NOTIFY_SALT to the notification salt ET issued")?;
    let verifier = NotificationVerifier::new(salt, Profile::default().notify_sign_rule);

    let receiver = WebhookReceiver::new(verifier, |n: VerifiedNotification| async move {
        // A real handler stores the event (idempotently, by dedup key)
        // before returning Ok; only then is ET told "OK".
        println!("{} {:?}", n.dedup_key(), n.notification());
        Ok::<(), et_http::HandlerError>(())
    });

    let listener = tokio::net::TcpListener::bind(&address).await?;
    println!("listening on http://{}", listener.local_addr()?);
    serve(listener, receiver, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    Ok(())
}
