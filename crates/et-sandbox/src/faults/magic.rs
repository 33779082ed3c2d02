//! The magic values (the table in the [module docs](super)) and what a
//! request or notification is about, which rules and magic values match.

use std::sync::LazyLock;

use et_model::ReplyCode;

use super::{Fault, Stage};

/// Latency of the magic values.
const MAGIC_LATENCY_MS: u64 = 2_000;
/// What a request or notification is about, for matching rules.
#[derive(Debug, Default)]
pub(crate) struct Target<'a> {
    /// The merchant.
    pub merchant_number: &'a str,
    /// The ET order, if named.
    pub order_id: Option<&'a str>,
    /// The merchant's order number, if named.
    pub merchant_order_id: Option<&'a str>,
    /// The amount (`tuituon`, `tuition` or `amount`) as sent, if any.
    pub amount: Option<&'a str>,
}

/// A magic value: what in a request asks for a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Magic {
    /// A `merchant_order_id` starting with this.
    Prefix(&'static str),
    /// This exact amount text.
    Amount(&'static str),
}

impl Magic {
    /// Whether `target` carries this magic value.
    pub(crate) fn matches(self, target: &Target<'_>) -> bool {
        match self {
            Magic::Prefix(p) => target.merchant_order_id.is_some_and(|m| m.starts_with(p)),
            Magic::Amount(a) => target.amount == Some(a),
        }
    }
}

/// The magic values and their failures (the table in the [module docs](super)).
pub static MAGIC: LazyLock<Vec<(Magic, Fault)>> = LazyLock::new(|| {
    use Fault::*;
    use Magic::{Amount, Prefix};
    use Stage::{AfterCommit as After, BeforeCommit as Before};
    let status = |status, at| HttpStatus { status, at };
    let timeout = |at| Timeout { at, hold_ms: None };
    let code = |c: &str| ErrorCode {
        status_code: ReplyCode::from_code(c),
        message: format!("the sandbox failed on purpose with {c} (a magic value)"),
    };
    let latency = Latency {
        ms: MAGIC_LATENCY_MS,
    };
    vec![
        (Prefix("fault-latency-"), latency.clone()),
        (Prefix("fault-500-before-"), status(500, Before)),
        (Prefix("fault-500-after-"), status(500, After)),
        (Prefix("fault-502-before-"), status(502, Before)),
        (Prefix("fault-502-after-"), status(502, After)),
        (Prefix("fault-timeout-before-"), timeout(Before)),
        (Prefix("fault-timeout-after-"), timeout(After)),
        (Prefix("fault-reset-before-"), Reset { at: Before }),
        (Prefix("fault-reset-after-"), Reset { at: After }),
        (Prefix("fault-error-"), code("900001")),
        (Prefix("fault-notify-delay-"), NotifyDelay { minutes: 5 }),
        (
            Prefix("fault-notify-duplicate-"),
            NotifyDuplicate { copies: 2 },
        ),
        (Prefix("fault-notify-reorder-"), NotifyOutOfOrder),
        (Prefix("fault-notify-badsign-"), NotifyBadSignature),
        (Prefix("fault-notify-drop-"), NotifyDrop { attempts: 3 }),
        (Amount("4000.01"), code("900001")),
        (Amount("4000.02"), code("999999")),
        (Amount("4000.03"), status(500, After)),
        (Amount("4000.04"), timeout(After)),
        (Amount("4000.05"), Reset { at: After }),
        (Amount("4000.06"), latency),
    ]
});
