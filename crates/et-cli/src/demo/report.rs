//! What the demo reports: each [`Step`], the whole [`DemoReport`], and why
//! a step failed ([`StepError`]).

use std::error::Error;
use std::fmt;
use std::time::Duration;

use crate::web_client::WebError;

/// One step of the demo and how it went.
#[derive(Debug)]
pub struct Step {
    /// What was done, e.g. `create order`.
    pub name: &'static str,
    /// `Ok(detail)` (e.g. the order id) or why it failed.
    pub outcome: Result<String, StepError>,
    /// How long it took.
    pub elapsed: Duration,
}

impl fmt::Display for Step {
    /// `✓ create order            ET2026…   12.3 ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mark, detail) = match &self.outcome {
            Ok(detail) => ('✓', detail.clone()),
            Err(reason) => ('✗', reason.to_string()),
        };
        let ms = self.elapsed.as_secs_f64() * 1e3;
        write!(f, "{mark} {:<30} {detail:<64} {ms:>7.1} ms", self.name)
    }
}

/// The whole run.
#[derive(Debug)]
pub struct DemoReport {
    /// Every step attempted, in order; the run stops at the first failure.
    pub steps: Vec<Step>,
    /// Notifications received, verified and acknowledged.
    pub notifications: usize,
    /// Wall time of the whole run.
    pub total: Duration,
}

impl DemoReport {
    /// Whether every step passed.
    pub fn passed(&self) -> bool {
        !self.steps.is_empty() && self.steps.iter().all(|s| s.outcome.is_ok())
    }

    /// The first failed step, if any.
    pub fn failure(&self) -> Option<&Step> {
        self.steps.iter().find(|s| s.outcome.is_err())
    }
}

/// Why a step failed: a lower layer's error, kept as its type, or what the
/// demo found instead of what it expected.
#[derive(Debug)]
#[non_exhaustive]
pub enum StepError {
    /// A file or socket of the demo's own (its state directory, the receiver's listener).
    Io {
        /// What it was for.
        what: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A blocking task of the demo did not finish (it panicked).
    Task(tokio::task::JoinError),
    /// The sandbox failed (creating its state, starting).
    Sandbox(et_sandbox::Error),
    /// The sandbox refused to show the order or its notifications.
    Refused {
        /// What was asked of it, e.g. `show`.
        action: &'static str,
        /// The sandbox's refusal.
        source: et_sandbox::Refusal,
    },
    /// The sandbox refused ET's step on the order (an [`et_sandbox::AdminAction`]).
    EtStep {
        /// The step's admin name, e.g. `remit`.
        step: &'static str,
        /// Why it was not carried out.
        source: et_sandbox::AdminError,
    },
    /// The merchant's client could not be made from the sandbox's state directory.
    Merchant(Box<dyn Error + Send + Sync>),
    /// A call of the merchant's client to ET (the sandbox) failed.
    Call(et_http::Error),
    /// The student's browser could not load a page or submit its form.
    Web(WebError),
    /// The et-inbox store failed.
    Inbox(et_inbox::Error),
    /// An amount the demo writes did not parse.
    Amount(et_model::AmountError),
    /// A step ran before the one that finds what it needs.
    NoEarlier(&'static str),
    /// No matching notification arrived in time.
    NoNotification {
        /// Which notification.
        what: String,
        /// How long the demo waited.
        waited: Duration,
    },
    /// The receiver stopped before the notification arrived.
    ReceiverStopped(String),
    /// What the demo found instead of what it expected.
    Unexpected(String),
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepError::Io { what, source } => write!(f, "{what}: {source}"),
            StepError::Task(e) => write!(f, "a task of the demo failed: {e}"),
            StepError::Sandbox(e) => write!(f, "sandbox: {e}"),
            StepError::Refused { action, source } => write!(f, "sandbox {action}: {source}"),
            StepError::EtStep { step, source } => write!(f, "sandbox {step}: {source}"),
            StepError::Merchant(e) => write!(f, "the sandbox's merchant: {e}"),
            StepError::Call(e) => e.fmt(f),
            StepError::Web(e) => e.fmt(f),
            StepError::Inbox(e) => write!(f, "inbox: {e}"),
            StepError::Amount(e) => write!(f, "amount: {e}"),
            StepError::NoEarlier(what) => write!(f, "no earlier step found the {what}"),
            StepError::NoNotification { what, waited } => {
                write!(f, "no {what} notification within {waited:?}")
            }
            StepError::ReceiverStopped(what) => {
                write!(f, "the receiver stopped before the {what} notification")
            }
            StepError::Unexpected(found) => f.write_str(found),
        }
    }
}

impl Error for StepError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            StepError::Io { source, .. } => Some(source),
            StepError::Task(e) => Some(e),
            StepError::Sandbox(e) => Some(e),
            StepError::Refused { source, .. } => Some(source),
            StepError::EtStep { source, .. } => Some(source),
            StepError::Merchant(e) => Some(e.as_ref()),
            StepError::Call(e) => Some(e),
            StepError::Web(e) => Some(e),
            StepError::Inbox(e) => Some(e),
            StepError::Amount(e) => Some(e),
            _ => None,
        }
    }
}

/// The `?` conversions of the lower layers' errors.
macro_rules! step_errors {
    ($($ty:ty => $variant:ident,)*) => {
        $(impl From<$ty> for StepError {
            fn from(e: $ty) -> Self {
                StepError::$variant(e)
            }
        })*
    };
}

step_errors! {
    tokio::task::JoinError => Task,
    et_sandbox::Error => Sandbox,
    et_http::Error => Call,
    WebError => Web,
    et_inbox::Error => Inbox,
    et_model::AmountError => Amount,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &'static str, outcome: Result<&str, &str>) -> Step {
        Step {
            name,
            outcome: outcome
                .map(str::to_owned)
                .map_err(|e| StepError::Unexpected(e.to_owned())),
            elapsed: Duration::from_micros(12_345),
        }
    }

    #[test]
    fn a_step_is_one_line_with_mark_and_timing() {
        let line = step("create order", Ok("ET20260101000000001")).to_string();
        assert!(line.starts_with("✓ create order "), "{line}");
        assert!(
            line.contains("ET20260101000000001") && line.ends_with("12.3 ms"),
            "{line}"
        );
        assert!(step("pay", Err("no answer"))
            .to_string()
            .starts_with("✗ pay "));
    }

    #[test]
    fn a_report_passes_only_when_every_step_did() {
        let mut report = DemoReport {
            steps: vec![],
            notifications: 0,
            total: Duration::ZERO,
        };
        assert!(!report.passed(), "nothing ran");
        report.steps.push(step("a", Ok("")));
        assert!(report.passed());
        report.steps.push(step("b", Err("timeout")));
        assert!(!report.passed());
        assert_eq!(report.failure().map(|s| s.name), Some("b"));
    }

    #[test]
    fn a_failed_step_keeps_its_cause_typed() {
        let io = std::io::Error::new(std::io::ErrorKind::AddrInUse, "in use");
        let failed = StepError::Io {
            what: "bind",
            source: io,
        };
        assert_eq!(failed.to_string(), "bind: in use");
        let source = failed
            .source()
            .and_then(|s| s.downcast_ref::<std::io::Error>());
        assert_eq!(
            source.map(std::io::Error::kind),
            Some(std::io::ErrorKind::AddrInUse)
        );
    }
}
