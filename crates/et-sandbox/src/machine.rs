//! The order state machine (order_status description, doc-3357587):
//!
//! ```text
//! 0 awaiting payment ──pay──▶ 1 paid ──remit──▶ 2 remitting ──receive──▶ 3 awaiting receipt ──complete──▶ 4 completed
//!   │                          └──────────┬──────────┴──────────────────────┴──────────────────────────┘
//!   └─close (unpaid 7 days)──▶ -1 closed   apply refund
//!                                         ▼
//!                               -3 refunding ──refund succeeded──▶ -2 refunded
//!                                         └──refund failed──▶ back to the status it came from
//! ```
//!
//! A declined payment (the payer's bank refused, or the payer pressed
//! "Decline" on the checkout page) leaves the order at 0, awaiting payment:
//! the payer may try again, and it still closes after 7 days unpaid. ET
//! sends a payment notification with `pay_result` 0 and no status change.
//!
//! Which statuses allow a refund (1 to 4) is our reading of the table; ET
//! does not say.

use std::fmt;

use et_model::OrderStatus;

/// Something that may change an order's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The payer paid on the checkout page.
    Pay,
    /// The payment failed or was declined on the checkout page; the order
    /// stays awaiting payment.
    DeclinePayment,
    /// ET starts remitting.
    Remit,
    /// ET has remitted; the recipient has yet to receive the funds.
    Receive,
    /// The recipient received the funds.
    Complete,
    /// Unpaid for 7 days, or closed by an admin.
    Close,
    /// The merchant applied for a refund.
    ApplyRefund,
    /// The refund's outcome; on failure the order returns to the status
    /// it had when the refund was applied for.
    RefundResult {
        /// Whether the refund succeeded.
        success: bool,
    },
}

impl Event {
    /// Short name, as in the admin endpoints.
    pub fn name(self) -> &'static str {
        match self {
            Event::Pay => "pay",
            Event::DeclinePayment => "decline-payment",
            Event::Remit => "remit",
            Event::Receive => "receive",
            Event::Complete => "complete",
            Event::Close => "close",
            Event::ApplyRefund => "refund",
            Event::RefundResult { .. } => "refund-result",
        }
    }
}

/// An event that is not allowed in the order's current status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IllegalTransition {
    /// The order's status.
    pub from: OrderStatus,
    /// What was attempted.
    pub event: Event,
}

impl fmt::Display for IllegalTransition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot {} an order in status {} ({})",
            self.event.name(),
            self.from.code(),
            self.from
        )
    }
}

impl std::error::Error for IllegalTransition {}

/// Whether a refund may be applied for in `status`.
pub(crate) fn refundable(status: OrderStatus) -> bool {
    use OrderStatus::*;
    matches!(status, Paid | Remitting | AwaitingReceipt | Completed)
}

/// The status after `event`, or why it is not allowed. `before_refund` is
/// the status an order in refund had when the refund was applied for (where
/// a failed refund returns it).
pub(crate) fn next(
    from: OrderStatus,
    before_refund: Option<OrderStatus>,
    event: Event,
) -> Result<OrderStatus, IllegalTransition> {
    use OrderStatus::*;
    let to = match (from, event) {
        (AwaitingPayment, Event::Pay) => Some(Paid),
        (AwaitingPayment, Event::DeclinePayment) => Some(AwaitingPayment),
        (AwaitingPayment, Event::Close) => Some(Closed),
        (Paid, Event::Remit) => Some(Remitting),
        (Remitting, Event::Receive) => Some(AwaitingReceipt),
        (AwaitingReceipt, Event::Complete) => Some(Completed),
        (s, Event::ApplyRefund) if refundable(s) => Some(Refunding),
        (Refunding, Event::RefundResult { success: true, .. }) => Some(Refunded),
        (Refunding, Event::RefundResult { success: false }) => {
            before_refund.filter(|&s| refundable(s))
        }
        _ => None,
    };
    to.ok_or(IllegalTransition { from, event })
}

/// Every event, each refund outcome once (the tests walk them all).
#[cfg(test)]
pub(crate) const EVENTS: &[Event] = &[
    Event::Pay,
    Event::DeclinePayment,
    Event::Remit,
    Event::Receive,
    Event::Complete,
    Event::Close,
    Event::ApplyRefund,
    Event::RefundResult { success: true },
    Event::RefundResult { success: false },
];

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;

    #[test]
    fn happy_path_reaches_completed() {
        let mut s = AwaitingPayment;
        for e in [Event::Pay, Event::Remit, Event::Receive, Event::Complete] {
            s = next(s, None, e).expect("legal");
        }
        assert_eq!(s, Completed);
    }

    #[test]
    fn refund_goes_through_refunding() {
        for from in [Paid, Remitting, AwaitingReceipt, Completed] {
            let r = next(from, None, Event::ApplyRefund).expect("refundable");
            assert_eq!(r, Refunding);
            let ok = Event::RefundResult { success: true };
            assert_eq!(next(r, Some(from), ok), Ok(Refunded));
            let failed = Event::RefundResult { success: false };
            assert_eq!(
                next(r, Some(from), failed),
                Ok(from),
                "a failed refund restores {from:?}"
            );
        }
    }

    #[test]
    fn exactly_the_documented_transitions_are_legal() {
        let statuses = [
            AwaitingPayment,
            Paid,
            Remitting,
            AwaitingReceipt,
            Completed,
            Closed,
            Refunded,
            Refunding,
            OrderStatus::Other(7),
        ];
        let mut legal = 0;
        for &from in &statuses {
            for &event in EVENTS {
                match next(from, Some(Completed), event) {
                    Ok(_) => legal += 1,
                    Err(e) => assert_eq!((e.from, e.event), (from, event)),
                }
            }
        }
        // pay, decline, close, remit, receive, complete, 4 refund applications,
        // 2 refund results.
        assert_eq!(legal, 12);
    }

    #[test]
    fn illegal_transitions_are_refused_with_a_reason() {
        let err = next(Paid, None, Event::Pay).expect_err("cannot pay twice");
        assert_eq!(
            err.to_string(),
            "cannot pay an order in status 1 (payment succeeded)"
        );
        assert!(next(Closed, None, Event::Pay).is_err());
        assert!(next(Paid, None, Event::DeclinePayment).is_err());
        assert!(next(AwaitingPayment, None, Event::ApplyRefund).is_err());
        assert!(next(Refunded, None, Event::ApplyRefund).is_err());
        assert!(next(Paid, None, Event::Close).is_err());
        assert!(next(Remitting, None, Event::Complete).is_err());
        let failed = Event::RefundResult { success: false };
        assert!(next(Refunding, Some(Closed), failed).is_err());
        assert!(next(Refunding, None, failed).is_err());
    }
}
