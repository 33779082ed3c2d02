//! The outbox's pure half: the signed body of a typed notification (through
//! et-proto's [`EtSide::notification_body`], as the sandbox's profile says),
//! ET's retry schedule and why an attempt failed ([`DeliveryFailure`]).
//! Rows are written by the [engine](crate::engine) in the transaction of the
//! change that caused them, and sent by [delivery](crate::delivery).

use et_model::Notification;
use et_proto::{EtSide, NotifyEncoding};

use crate::clock::Millis;

et_model::name_enum! {
    /// Why a delivery attempt failed; its name is what the attempt records.
    #[non_exhaustive]
    pub enum DeliveryFailure ("delivery failure") {
        /// The URL is not `http://` (the sandbox speaks plain HTTP only).
        NotPlainHttp = "not_plain_http",
        /// The URL does not make a request.
        BadUrl = "bad_url",
        /// Connecting or sending failed, or no reply head came.
        Transport = "transport",
        /// The reply body broke off or was larger than the sandbox reads.
        ReadReply = "read_reply",
        /// No complete reply within 10 s of real time.
        Timeout = "timeout",
        /// A reply came, but not `{"notify_result":"OK"}`.
        NotAcknowledged = "not_acknowledged",
        /// Not sent: a `notify_drop` fault ([`crate::faults`]).
        DroppedByFault = "dropped_by_fault",
        /// The merchant acknowledged a notification whose `sign` does not
        /// verify (a `notify_bad_signature` fault): its receiver takes forgeries.
        AcknowledgedForgery = "acknowledged_forgery",
        /// A refund result was answered `notify_result` OK, but without its
        /// `order_id` or a `sign` that verifies (spec 04 §4.4).
        BadRefundReply = "bad_refund_reply",
    }
}

/// Waits after attempts 1 to 6 (ET: 1, 5, 10, 30, 60, 120 minutes); 7 attempts in all.
pub const RETRY_MINUTES: [i64; 6] = [1, 5, 10, 30, 60, 120];
/// Deliveries before the sandbox gives up.
pub const MAX_ATTEMPTS: i64 = RETRY_MINUTES.len() as i64 + 1;

/// The body the merchant receives, signed with its `salt` and encoded as
/// `et`'s profile says ([`EtSide::notification_body`]).
pub(crate) fn signed_body(
    et: &EtSide,
    notification: &Notification,
    salt: &str,
) -> Result<String, et_proto::Error> {
    let body = et.notification_body(notification, salt)?;
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// The `Content-Type` a stored body is posted with: JSON for a JSON object,
/// else a form (the two encodings [`signed_body`] writes).
pub(crate) fn content_type(body: &str) -> &'static str {
    let encoding = if body.starts_with('{') {
        NotifyEncoding::Json
    } else {
        NotifyEncoding::Form
    };
    encoding.content_type()
}

/// When attempt number `attempts_made + 1` is due after a failure at `now`,
/// or `None` when the schedule is exhausted.
pub(crate) fn next_attempt(now: Millis, attempts_made: i64) -> Option<Millis> {
    let index = usize::try_from(attempts_made.checked_sub(1)?).ok()?;
    RETRY_MINUTES
        .get(index)
        .map(|m| now.saturating_add(m * 60_000))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// After failed attempt n (1 to 6) the next is due exactly ET's
        /// wait later (or at the end of time, never earlier than now);
        /// after the 7th, or for a count that is no attempt, none is.
        #[test]
        fn the_retry_schedule_is_ets_at_any_time(
            now in prop_oneof![any::<Millis>(), Millis::MAX - 10_000_000..=Millis::MAX],
            made in prop_oneof![-1i64..=8, any::<i64>()],
        ) {
            let next = next_attempt(now, made);
            match usize::try_from(made).ok().filter(|n| (1..MAX_ATTEMPTS as usize).contains(n)) {
                Some(n) => {
                    let wait = RETRY_MINUTES[n - 1] * 60_000;
                    prop_assert_eq!(next, Some(now.saturating_add(wait)));
                    prop_assert!(next >= Some(now));
                }
                None => prop_assert_eq!(next, None),
            }
        }
    }

    #[test]
    fn schedule_is_ets() {
        let mut t = 0;
        let mut waits = vec![];
        for attempts in 1..=MAX_ATTEMPTS {
            match next_attempt(t, attempts) {
                Some(n) => {
                    waits.push((n - t) / 60_000);
                    t = n;
                }
                None => assert_eq!(attempts, 7),
            }
        }
        assert_eq!(waits, RETRY_MINUTES);
    }
}
