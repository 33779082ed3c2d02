//! What the client and the receiver record through the [`metrics`] facade
//! (a no-op until the application installs a recorder, e.g.
//! `metrics-exporter-prometheus`; see `examples/prometheus.rs`). Names
//! follow Prometheus conventions (base units, `_total` counters); labels
//! are bounded sets (operations, ET status codes, kinds, results) and
//! never carry an order id, an amount or a key.

use std::sync::LazyLock;
use std::time::Duration;

use et_model::NotificationKind;

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

/// How a notification request ended, as [`NOTIFICATIONS_TOTAL`] labels it
/// (declared in the order of `ALL`, which `as usize` indexes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NotificationResult {
    Acknowledged,
    Refused,
    HandlerFailed,
    TimedOut,
}

impl NotificationResult {
    const ALL: [Self; 4] = [
        Self::Acknowledged,
        Self::Refused,
        Self::HandlerFailed,
        Self::TimedOut,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::Acknowledged => "acknowledged",
            Self::Refused => "refused",
            Self::HandlerFailed => "handler_failed",
            Self::TimedOut => "timed_out",
        }
    }
}

/// Counts one notification of `kind` (`None`: it did not verify). The
/// keys of every kind and result are built once, so a request allocates
/// and hashes nothing here (issue 26 §3).
pub(crate) fn notification(kind: Option<NotificationKind>, result: NotificationResult) {
    static METADATA: metrics::Metadata<'static> =
        metrics::Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));
    static KEYS: LazyLock<Vec<metrics::Key>> = LazyLock::new(|| {
        let kinds = NotificationKind::ALL.map(NotificationKind::as_str);
        kinds
            .into_iter()
            .chain(["unverified"])
            .flat_map(|kind| {
                NotificationResult::ALL.map(|result| {
                    let labels = vec![
                        metrics::Label::from_static_parts("kind", kind),
                        metrics::Label::from_static_parts("result", result.as_str()),
                    ];
                    metrics::Key::from_parts(NOTIFICATIONS_TOTAL, labels)
                })
            })
            .collect()
    });
    let kind = kind
        .and_then(|kind| NotificationKind::ALL.iter().position(|k| *k == kind))
        .unwrap_or(NotificationKind::ALL.len());
    if let Some(key) = KEYS.get(kind * NotificationResult::ALL.len() + result as usize) {
        metrics::with_recorder(|recorder| recorder.register_counter(key, &METADATA).increment(1));
    }
}
