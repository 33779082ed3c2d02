//! et-http's integration tests, one binary: the client and the webhook
//! receiver against loopback servers. Two have their own binaries, for
//! what is the process's: the `metrics` recorder (`http_metrics.rs`) and
//! the count of open descriptors (`http_serve_connection_cap.rs`).

mod client_ops;
mod common;
mod exhausted_serials;
mod files;
mod merchant_key_rollover;
mod proxy;
mod raw_client;
mod reused_serial;
mod tls;
mod tracing_spans;
mod transport_failures;
mod webhook;
mod webhook_bounds;
mod webhook_load;
