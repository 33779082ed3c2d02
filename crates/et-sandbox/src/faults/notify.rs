//! What one attempt of a notification plays, and the forged `sign`.

use super::plan::{lock, remember, MAX_REMEMBERED};
use super::{Fault, FaultPlan, Target};
use crate::clock::Millis;
use crate::store::{self, OutboxRecord, Store};

/// How long an older notification waits behind a newer one of its order
/// (`notify_out_of_order`), in sandbox time.
pub(super) const OUT_OF_ORDER_LAG: Millis = 1_000;

/// What the delivery path does with one attempt of a notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NotifyPlay {
    /// Send it `copies` times (1 normally), with a broken `sign` if `forged`.
    Send {
        /// How many times.
        copies: u32,
        /// Whether the `sign` is broken ([`forge`]).
        forged: bool,
    },
    /// Not now: try again this many sandbox milliseconds later, with no
    /// attempt counted.
    Postpone(Millis),
    /// Count a failed attempt without sending anything.
    Drop,
}

/// One attempt of an outbox row, as the plan sees it.
#[derive(Debug)]
pub(crate) struct NotifyAttempt<'a> {
    /// The outbox row.
    pub id: i64,
    /// Attempts made before this one.
    pub attempts: i64,
    /// What it is about.
    pub target: Target<'a>,
}

impl FaultPlan {
    /// What the delivery path does with one attempt of a notification. The
    /// fault is chosen at the first attempt (a `next` rule counts the
    /// notification then) and stays with the notification.
    /// `newer_pending` says whether a newer notification of the same order
    /// is still pending (asked only for `notify_out_of_order`).
    pub(crate) fn notification(
        &self,
        a: &NotifyAttempt<'_>,
        newer_pending: impl FnOnce() -> bool,
    ) -> NotifyPlay {
        let send = NotifyPlay::Send {
            copies: 1,
            forged: false,
        };
        let remembered = lock(&self.chosen).get(&a.id).cloned();
        let Some(fault) = remembered.or_else(|| {
            let fault = self.pick_within(&a.target, true, a.attempts == 0)?;
            remember(&mut lock(&self.chosen), a.id, fault.clone());
            Some(fault)
        }) else {
            return send;
        };
        match fault {
            Fault::NotifyDelay { minutes } => {
                let mut delayed = lock(&self.delayed);
                if delayed.remove(&(a.id, a.attempts)) {
                    return send;
                }
                delayed.insert((a.id, a.attempts));
                while delayed.len() > MAX_REMEMBERED {
                    delayed.pop_first();
                }
                NotifyPlay::Postpone(Millis::from(minutes) * 60_000)
            }
            Fault::NotifyDuplicate { copies } => NotifyPlay::Send {
                copies,
                forged: false,
            },
            Fault::NotifyOutOfOrder if newer_pending() => NotifyPlay::Postpone(OUT_OF_ORDER_LAG),
            Fault::NotifyBadSignature => NotifyPlay::Send {
                copies: 1,
                forged: true,
            },
            Fault::NotifyDrop { attempts } if a.attempts < i64::from(attempts) => NotifyPlay::Drop,
            _ => send,
        }
    }
}

/// The plan's decision for one attempt of outbox row `n`, read with the
/// row's order from `store` (blocking: call it off the reactor).
pub(crate) fn notification_play(plan: &FaultPlan, store: &Store, n: &OutboxRecord) -> NotifyPlay {
    let order = match store.tx(|c| store::order(c, &n.order_id)) {
        Ok(order) => order,
        Err(e) => {
            tracing::warn!(error = %e, "reading the order of a notification failed; no fault played");
            None
        }
    };
    let attempt = NotifyAttempt {
        id: n.id,
        attempts: n.attempts,
        target: Target {
            merchant_number: order.as_ref().map_or("", |o| o.merchant_number.as_str()),
            order_id: Some(&n.order_id),
            merchant_order_id: order.as_ref().map(|o| o.merchant_order_id.as_str()),
            amount: None,
        },
    };
    plan.notification(&attempt, || {
        let rows = store.tx(|c| store::notifications(c, Some(&n.order_id)));
        rows.is_ok_and(|rows| {
            rows.iter()
                .any(|r| r.id > n.id && r.next_attempt_at.is_some())
        })
    })
}

/// `body` (JSON or a form) with a `sign` that does not verify: each hex
/// digit of the real one moved by one, so it differs everywhere and still
/// looks like MD5.
pub(crate) fn forge(body: &str) -> String {
    let Ok(mut fields) = et_proto::read_notification_body(None, body.as_bytes()) else {
        return format!("{body} ");
    };
    let sign = fields.text("sign").unwrap_or_default();
    let forged: String = sign
        .chars()
        .map(|c| match c.to_digit(16) {
            Some(d) => char::from_digit((d + 1) % 16, 16).unwrap_or('0'),
            None => '0',
        })
        .collect();
    let forged = if forged.is_empty() {
        "0".repeat(32)
    } else {
        forged
    };
    fields.insert("sign", et_proto::UntypedValue::string(forged));
    if body.starts_with('{') {
        fields.to_json()
    } else {
        fields.to_form()
    }
}
