//! What the client and the receiver record through the [`metrics`] facade
//! (a no-op until the application installs a recorder, e.g.
//! `metrics-exporter-prometheus`; see `examples/prometheus.rs`). Names
//! follow Prometheus conventions (base units, `_total` counters); labels
//! are bounded sets (operations, ET status codes, kinds, results) and
//! never carry an order id, an amount or a key.

use std::time::Duration;

/// Histogram: seconds per HTTP exchange with ET, by `operation` (the
/// wire `server_type`).
pub const CLIENT_REQUEST_DURATION_SECONDS: &str = "et_client_request_duration_seconds";
/// Counter: exchanges by `operation`, `outcome` (`success`, `refused`:
/// ET's signed refusal, `rejected`: an answer that did not verify or
/// open, `transport`: no complete answer) and `status_code` (ET's, or
/// `none`).
pub const CLIENT_REQUESTS_TOTAL: &str = "et_client_requests_total";
/// Counter: requests sent again, by `operation` (`raw` for
/// [`RawClient`](crate::RawClient)) and `reason` (`connect`: the connection
/// could not be made; `transient`: an operation that changes nothing
/// failed after it was made; `reused_serial`: ET refused a reused serial
/// number).
pub const CLIENT_RETRIES_TOTAL: &str = "et_client_retries_total";
/// Counter: notifications received by `kind` (et-model's kind names, or
/// `unverified`) and `result` (`acknowledged`, `refused`,
/// `handler_failed`, `timed_out`).
pub const NOTIFICATIONS_TOTAL: &str = "et_notifications_total";

/// How one exchange with ET ended.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Outcome<'a> {
    Success(&'a str),
    Refused(&'a str),
    Rejected,
    Transport,
}

pub(crate) fn exchange(operation: &str, outcome: Outcome<'_>, took: Duration) {
    let (outcome, status_code) = match outcome {
        Outcome::Success(code) => ("success", code),
        Outcome::Refused(code) => ("refused", code),
        Outcome::Rejected => ("rejected", "none"),
        Outcome::Transport => ("transport", "none"),
    };
    metrics::histogram!(CLIENT_REQUEST_DURATION_SECONDS, "operation" => operation.to_owned())
        .record(took.as_secs_f64());
    metrics::counter!(
        CLIENT_REQUESTS_TOTAL,
        "operation" => operation.to_owned(),
        "outcome" => outcome,
        "status_code" => status_code.to_owned(),
    )
    .increment(1);
}

pub(crate) fn retry(operation: &str, reason: &'static str) {
    metrics::counter!(CLIENT_RETRIES_TOTAL, "operation" => operation.to_owned(), "reason" => reason)
        .increment(1);
}

pub(crate) fn notification(kind: &'static str, result: &'static str) {
    metrics::counter!(NOTIFICATIONS_TOTAL, "kind" => kind, "result" => result).increment(1);
}
