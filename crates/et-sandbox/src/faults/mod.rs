//! Failures on demand: ET's and the network's bad days, played back on
//! request, so a merchant's integration can prove it survives them.
//!
//! One failure is a [`Fault`]; where it applies is a [`Scope`]; the two
//! make a [`FaultRule`], kept in the running sandbox's plan. Rules
//! come from `sandbox.json` (`faults`, read at start), from the admin API
//! (`POST /admin/faults`, `GET /admin/faults`, `POST /admin/faults/clear`)
//! and from [`RunningSandbox`](crate::RunningSandbox) methods. Magic values
//! (below) need no rule at all.
//!
//! ```json
//! {"scope": {"merchant_order_id": "A-1"}, "fault": {"kind": "reset", "at": "after_commit"}}
//! {"scope": {"merchant_number": "ET82009"}, "fault": {"kind": "latency", "ms": 1500}}
//! {"scope": {"next": 2}, "fault": {"kind": "http_status", "status": 502, "at": "before_commit"}}
//! {"scope": {"order_id": "ET2026120200000001"}, "fault": {"kind": "notify_drop", "attempts": 3}}
//! ```
//!
//! # API failures
//!
//! On `POST /server`, after the envelope was opened (a request that does not
//! verify is refused as always):
//!
//! | `kind` | what the merchant sees |
//! |---|---|
//! | `latency` `ms` | the answer, `ms` later (at most [`MAX_LATENCY`]) |
//! | `http_status` `status` `at` | HTTP `status` (500–599), no ET answer |
//! | `timeout` `at` (`hold_ms`) | nothing: the connection is held open for `hold_ms` (default [`DEFAULT_HOLD`], beyond et-http's 30 s request timeout; at most [`MAX_HOLD`]), then closed |
//! | `reset` `at` | the connection closed at once, no answer |
//! | `error_code` `status_code` `message` | a refusal with that `status_code` and `message`, signed by ET; nothing is done |
//!
//! `at` is `before_commit` (nothing was done: no order, no serial number
//! recorded) or `after_commit`: the request was carried out (the order
//! exists) and only its answer is lost — the case where a merchant must
//! query, not create again. An `after_commit` failure plays only when the
//! request succeeded: a retried `create_order` is refused `200002` (naming
//! the order) and that refusal arrives.
//!
//! # Notification failures
//!
//! | `kind` | what the merchant's endpoint sees |
//! |---|---|
//! | `notify_delay` `minutes` | each attempt `minutes` of sandbox time late (at most [`MAX_NOTIFY_DELAY_MINUTES`]) |
//! | `notify_duplicate` `copies` | each notification `copies` times (2–[`MAX_COPIES`]) |
//! | `notify_out_of_order` | an order's notifications newest first |
//! | `notify_bad_signature` | notifications whose `sign` does not verify (an acknowledgement of one is not taken) |
//! | `notify_drop` `attempts` | the first `attempts` attempts never sent (1–[`MAX_DROPPED`]); later retries arrive |
//!
//! # Scopes
//!
//! `{"merchant_number": …}` every request (or notification) of that
//! merchant; `{"order_id": …}` or `{"merchant_order_id": …}` the requests
//! naming that order and its notifications; `{"next": N}` the next `N`
//! requests (API failures) or notifications (notification failures), 1 to
//! [`MAX_NEXT`], after which the rule is gone. The first matching rule
//! applies; magic values go first. A plan holds at most [`MAX_FAULT_RULES`]
//! rules.
//!
//! # Magic values
//!
//! Like Stripe's test cards: a merchant's own test suite asks for a failure
//! through the order it creates, with no admin call. A `merchant_order_id`
//! starting with a prefix below (in `create_order` or a jump) fails that
//! request; a `notify_` failure applies to every notification of that
//! order. For order numbers a merchant cannot choose, an exact amount
//! (`tuituon` or `tuition` of `create_order`, `amount` of the estimate)
//! does the same.
//! (Magic values are looked for in payloads of at most 64 KiB, which every
//! order and estimate is; a larger one, an attachment, is read again only
//! when a rule names an order.)
//!
//! The table is `src/magic-values.md`, which the crate docs show too:
//!
#![doc = include_str!("../magic-values.md")]
//!
//! Inside, by job: this module holds the vocabulary ([`Fault`], [`Scope`],
//! [`FaultRule`] and their bounds); `magic` the magic values and what a
//! request is about (`Target`); `plan` the running sandbox's rules and the
//! API's choice of fault; `notify` what a notification's attempt plays and
//! the forged `sign`.

use std::fmt;
use std::time::Duration;

use et_model::ReplyCode;
use serde::{Deserialize, Serialize};

mod magic;
mod notify;
mod plan;

pub(crate) use magic::Target;
pub use magic::{Magic, MAGIC};
pub(crate) use notify::{forge, notification_play, NotifyPlay};
pub(crate) use plan::FaultPlan;
pub(crate) use plan::Plan;

/// Longest added latency.
pub const MAX_LATENCY: Duration = Duration::from_secs(10);
/// How long a `timeout` holds the connection unless told: beyond et-http's
/// default 30 s request timeout.
pub const DEFAULT_HOLD: Duration = Duration::from_secs(35);
/// Longest a `timeout` holds a connection (it counts against the
/// sandbox's connection cap all that time).
pub const MAX_HOLD: Duration = Duration::from_secs(120);
/// Rules a plan holds at most.
pub const MAX_FAULT_RULES: usize = 64;
/// Largest `{"next": N}`.
pub const MAX_NEXT: u32 = 1_000;
/// Longest notification delay, in sandbox minutes (one day).
pub const MAX_NOTIFY_DELAY_MINUTES: u32 = 24 * 60;
/// Most copies of a duplicated notification.
pub const MAX_COPIES: u32 = 5;
/// Most dropped attempts: one fewer than ET's 7, so the last one arrives.
pub const MAX_DROPPED: u32 = crate::MAX_ATTEMPTS as u32 - 1;
/// Longest `error_code` message, in bytes.
pub const MAX_MESSAGE: usize = 512;
/// When an API failure strikes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Before anything is done: no order, no serial number recorded.
    BeforeCommit,
    /// After the request was carried out: only the answer is lost.
    AfterCommit,
}

/// One failure the sandbox can play (the tables in the [module docs](self)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// The answer, `ms` milliseconds late.
    Latency {
        /// Added delay (at most [`MAX_LATENCY`]).
        ms: u64,
    },
    /// An HTTP error status instead of ET's answer.
    HttpStatus {
        /// 500 to 599.
        status: u16,
        /// Before or after the commit.
        at: Stage,
    },
    /// No answer: the connection is held open, then closed.
    Timeout {
        /// Before or after the commit.
        at: Stage,
        /// How long to hold (default [`DEFAULT_HOLD`], at most [`MAX_HOLD`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hold_ms: Option<u64>,
    },
    /// No answer: the connection is closed at once.
    Reset {
        /// Before or after the commit.
        at: Stage,
    },
    /// A refusal signed by ET with this code and message; nothing is done.
    ErrorCode {
        /// Six digits, not `000000`.
        status_code: ReplyCode,
        /// ET's message (at most [`MAX_MESSAGE`] bytes).
        message: String,
    },
    /// Every delivery attempt `minutes` of sandbox time late.
    NotifyDelay {
        /// Delay (at most [`MAX_NOTIFY_DELAY_MINUTES`]).
        minutes: u32,
    },
    /// Each notification delivered `copies` times.
    NotifyDuplicate {
        /// 2 to [`MAX_COPIES`].
        copies: u32,
    },
    /// An order's pending notifications delivered newest first.
    NotifyOutOfOrder,
    /// Notifications whose `sign` does not verify.
    NotifyBadSignature,
    /// The first `attempts` delivery attempts never sent.
    NotifyDrop {
        /// 1 to [`MAX_DROPPED`].
        attempts: u32,
    },
}

/// Where a [`Fault`] applies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Every request and notification of this merchant.
    MerchantNumber(String),
    /// The requests naming this ET order, and its notifications.
    OrderId(String),
    /// The requests carrying this `merchant_order_id`, and the notifications
    /// of its order.
    MerchantOrderId(String),
    /// The next `N` requests (API failures) or notifications (notification
    /// failures); then the rule is gone.
    Next(u32),
}

impl Scope {
    /// Whether it names `target`'s merchant or order (`next` names none).
    pub(crate) fn names(&self, target: &Target<'_>) -> bool {
        match self {
            Scope::MerchantNumber(m) => m == target.merchant_number,
            Scope::OrderId(id) => target.order_id == Some(id.as_str()),
            Scope::MerchantOrderId(id) => target.merchant_order_id == Some(id.as_str()),
            Scope::Next(_) => false,
        }
    }
}

/// A fault and where it applies, as `sandbox.json` and the admin API write it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// Where.
    pub scope: Scope,
    /// What.
    pub fault: Fault,
}

/// Why a rule was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultError {
    /// A value is out of its bounds.
    OutOfBounds {
        /// The field.
        field: &'static str,
        /// The value given.
        value: u64,
        /// The smallest allowed.
        min: u64,
        /// The largest allowed.
        max: u64,
    },
    /// `error_code`'s `status_code` is not six digits other than `000000`.
    BadStatusCode(String),
    /// The plan already holds [`MAX_FAULT_RULES`] rules.
    TooManyRules,
}

impl fmt::Display for FaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultError::OutOfBounds {
                field,
                value,
                min,
                max,
            } => write!(f, "`{field}` {value} is not within {min}..={max}"),
            FaultError::BadStatusCode(code) => write!(
                f,
                "`status_code` {code:?} is not six digits other than 000000"
            ),
            FaultError::TooManyRules => {
                write!(f, "the plan already holds {MAX_FAULT_RULES} rules")
            }
        }
    }
}

impl std::error::Error for FaultError {}

fn within(field: &'static str, value: u64, min: u64, max: u64) -> Result<(), FaultError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(FaultError::OutOfBounds {
            field,
            value,
            min,
            max,
        })
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Fault {
    /// Checks every value against its bound.
    pub fn check(&self) -> Result<(), FaultError> {
        match self {
            Fault::Latency { ms } => within("ms", *ms, 0, millis(MAX_LATENCY)),
            Fault::HttpStatus { status, .. } => within("status", (*status).into(), 500, 599),
            Fault::Timeout { hold_ms, .. } => {
                within("hold_ms", hold_ms.unwrap_or(0), 0, millis(MAX_HOLD))
            }
            Fault::ErrorCode {
                status_code,
                message,
            } => {
                let code = status_code.as_str();
                if code.len() != 6
                    || !code.bytes().all(|b| b.is_ascii_digit())
                    || status_code.is_success()
                {
                    return Err(FaultError::BadStatusCode(code.to_owned()));
                }
                within("message", message.len() as u64, 0, MAX_MESSAGE as u64)
            }
            Fault::NotifyDelay { minutes } => within(
                "minutes",
                (*minutes).into(),
                0,
                MAX_NOTIFY_DELAY_MINUTES.into(),
            ),
            Fault::NotifyDuplicate { copies } => {
                within("copies", (*copies).into(), 2, MAX_COPIES.into())
            }
            Fault::NotifyDrop { attempts } => {
                within("attempts", (*attempts).into(), 1, MAX_DROPPED.into())
            }
            Fault::Reset { .. } | Fault::NotifyOutOfOrder | Fault::NotifyBadSignature => Ok(()),
        }
    }

    /// Whether it acts on notifications (else on API requests).
    pub fn is_notification(&self) -> bool {
        matches!(
            self,
            Fault::NotifyDelay { .. }
                | Fault::NotifyDuplicate { .. }
                | Fault::NotifyOutOfOrder
                | Fault::NotifyBadSignature
                | Fault::NotifyDrop { .. }
        )
    }

    /// When it strikes, for the API failures that replace the answer.
    pub fn stage(&self) -> Option<Stage> {
        match self {
            Fault::HttpStatus { at, .. } | Fault::Timeout { at, .. } | Fault::Reset { at } => {
                Some(*at)
            }
            Fault::ErrorCode { .. } => Some(Stage::BeforeCommit),
            _ => None,
        }
    }
}

impl FaultRule {
    /// `fault` wherever `scope` applies.
    pub fn new(scope: Scope, fault: Fault) -> Self {
        FaultRule { scope, fault }
    }

    /// Checks the fault's values and the scope's count.
    pub fn check(&self) -> Result<(), FaultError> {
        if let Scope::Next(n) = self.scope {
            within("next", n.into(), 1, MAX_NEXT.into())?;
        }
        self.fault.check()
    }
}

#[cfg(test)]
mod tests {
    use super::notify::{NotifyAttempt, OUT_OF_ORDER_LAG};
    use super::*;

    fn target<'a>(merchant_order_id: Option<&'a str>, amount: Option<&'a str>) -> Target<'a> {
        Target {
            merchant_number: "ET1",
            merchant_order_id,
            amount,
            ..Target::default()
        }
    }

    #[test]
    fn every_magic_value_is_in_the_documented_table_and_in_bounds() {
        let docs = include_str!("../magic-values.md");
        for (magic, fault) in MAGIC.iter() {
            let row = match magic {
                Magic::Prefix(p) => format!("| `{p}` |"),
                Magic::Amount(a) => format!("| amount `{a}` |"),
            };
            assert!(docs.contains(&row), "{row} is not in the table");
            assert_eq!(fault.check(), Ok(()), "{magic:?}");
        }
        let rows = docs
            .lines()
            .filter(|l| l.starts_with("| `fault-") || l.starts_with("| amount"))
            .count();
        assert_eq!(rows, MAGIC.len(), "the table lists no value the code lacks");
    }

    #[test]
    fn magic_values_need_no_rule() {
        let plan = FaultPlan::default();
        assert_eq!(
            plan.pick(&target(Some("fault-reset-after-42"), None), false),
            Some(Fault::Reset {
                at: Stage::AfterCommit
            })
        );
        assert_eq!(
            plan.pick(&target(Some("order-42"), Some("4000.00")), false),
            None
        );
        assert!(matches!(
            plan.pick(&target(None, Some("4000.02")), false),
            Some(Fault::ErrorCode { status_code, .. }) if status_code.as_str() == "999999"
        ));
        assert_eq!(
            plan.pick(&target(Some("fault-notify-drop-1"), None), true),
            Some(Fault::NotifyDrop { attempts: 3 })
        );
        assert_eq!(
            plan.pick(&target(Some("fault-notify-drop-1"), None), false),
            None
        );
    }

    #[test]
    fn a_next_rule_is_spent_then_gone() {
        let plan = FaultPlan::default();
        let fault = Fault::Reset {
            at: Stage::BeforeCommit,
        };
        plan.add(FaultRule {
            scope: Scope::Next(2),
            fault: fault.clone(),
        })
        .expect("add");
        let any = target(None, None);
        assert_eq!(
            plan.pick(&any, true),
            None,
            "an API rule leaves notifications alone"
        );
        assert_eq!(plan.pick(&any, false), Some(fault.clone()));
        assert_eq!(plan.list()[0].scope, Scope::Next(1));
        assert_eq!(plan.pick(&any, false), Some(fault));
        assert_eq!(plan.pick(&any, false), None);
        assert!(plan.list().is_empty());
    }

    #[test]
    fn rules_match_their_scope_only() {
        let fault = Fault::Latency { ms: 5 };
        let plan = FaultPlan::new(vec![FaultRule {
            scope: Scope::MerchantOrderId("A-1".into()),
            fault: fault.clone(),
        }])
        .expect("plan");
        assert_eq!(
            plan.pick(&target(Some("A-1"), None), false),
            Some(fault.clone())
        );
        assert_eq!(plan.pick(&target(Some("A-2"), None), false), None);
        plan.add(FaultRule {
            scope: Scope::MerchantNumber("ET1".into()),
            fault: fault.clone(),
        })
        .expect("add");
        assert_eq!(plan.pick(&target(Some("A-2"), None), false), Some(fault));
        plan.clear();
        assert_eq!(plan.pick(&target(Some("A-1"), None), false), None);
    }

    #[test]
    fn every_value_and_the_rule_count_are_bounded() {
        let refused = [
            Fault::Latency {
                ms: millis(MAX_LATENCY) + 1,
            },
            Fault::HttpStatus {
                status: 200,
                at: Stage::BeforeCommit,
            },
            Fault::Timeout {
                at: Stage::AfterCommit,
                hold_ms: Some(u64::MAX),
            },
            Fault::ErrorCode {
                status_code: ReplyCode::Success,
                message: String::new(),
            },
            Fault::ErrorCode {
                status_code: ReplyCode::from_code("12345x"),
                message: String::new(),
            },
            Fault::ErrorCode {
                status_code: ReplyCode::from_code("900001"),
                message: "x".repeat(MAX_MESSAGE + 1),
            },
            Fault::NotifyDelay { minutes: u32::MAX },
            Fault::NotifyDuplicate { copies: 1 },
            Fault::NotifyDuplicate {
                copies: MAX_COPIES + 1,
            },
            Fault::NotifyDrop { attempts: 0 },
            Fault::NotifyDrop {
                attempts: MAX_DROPPED + 1,
            },
        ];
        for fault in refused {
            assert!(fault.check().is_err(), "{fault:?} was accepted");
        }
        let reset = Fault::Reset {
            at: Stage::BeforeCommit,
        };
        for n in [0, MAX_NEXT + 1] {
            let rule = FaultRule {
                scope: Scope::Next(n),
                fault: reset.clone(),
            };
            assert!(rule.check().is_err(), "next {n}");
        }
        let plan = FaultPlan::default();
        let rule = FaultRule {
            scope: Scope::Next(1),
            fault: reset,
        };
        for _ in 0..MAX_FAULT_RULES {
            plan.add(rule.clone()).expect("within the cap");
        }
        assert_eq!(plan.add(rule.clone()), Err(FaultError::TooManyRules));
        assert_eq!(
            FaultPlan::new(vec![rule; MAX_FAULT_RULES + 1]).map(|_| ()),
            Err(FaultError::TooManyRules)
        );
    }

    /// The plan's play for one attempt of notification `id` of `order`.
    fn play(plan: &FaultPlan, id: i64, attempts: i64, order: &str, newer: bool) -> NotifyPlay {
        let target = target(Some(order), None);
        plan.notification(
            &NotifyAttempt {
                id,
                attempts,
                target,
            },
            || newer,
        )
    }

    #[test]
    fn notification_faults_play_per_attempt() {
        let plan = FaultPlan::default();
        let send = NotifyPlay::Send {
            copies: 1,
            forged: false,
        };
        assert_eq!(play(&plan, 1, 0, "plain", true), send);
        for tried in 0..3 {
            let a = play(&plan, 2, tried, "fault-notify-drop-1", false);
            assert_eq!(a, NotifyPlay::Drop, "attempt {tried}");
        }
        assert_eq!(play(&plan, 2, 3, "fault-notify-drop-1", false), send);
        let twice = NotifyPlay::Send {
            copies: 2,
            forged: false,
        };
        assert_eq!(play(&plan, 3, 0, "fault-notify-duplicate-1", false), twice);
        let forged = NotifyPlay::Send {
            copies: 1,
            forged: true,
        };
        assert_eq!(play(&plan, 4, 0, "fault-notify-badsign-1", false), forged);
        // Out of order: the older waits while a newer one is pending.
        let reorder = "fault-notify-reorder-1";
        assert_eq!(
            play(&plan, 5, 0, reorder, true),
            NotifyPlay::Postpone(OUT_OF_ORDER_LAG)
        );
        assert_eq!(play(&plan, 5, 0, reorder, false), send);
        // Delayed once per attempt, then sent.
        let delay = "fault-notify-delay-1";
        assert_eq!(
            play(&plan, 6, 0, delay, false),
            NotifyPlay::Postpone(300_000)
        );
        assert_eq!(play(&plan, 6, 0, delay, false), send);
        assert_eq!(
            play(&plan, 6, 1, delay, false),
            NotifyPlay::Postpone(300_000)
        );
    }

    #[test]
    fn a_next_rule_counts_notifications_not_attempts() {
        let plan = FaultPlan::default();
        let drop2 = Fault::NotifyDrop { attempts: 2 };
        plan.add(FaultRule {
            scope: Scope::Next(1),
            fault: drop2,
        })
        .expect("rule");
        assert_eq!(play(&plan, 7, 0, "a", false), NotifyPlay::Drop);
        assert!(plan.list().is_empty(), "spent by the first notification");
        assert_eq!(play(&plan, 7, 1, "a", false), NotifyPlay::Drop);
        let send = NotifyPlay::Send {
            copies: 1,
            forged: false,
        };
        assert_eq!(play(&plan, 7, 2, "a", false), send);
        assert_eq!(play(&plan, 8, 0, "b", false), send, "another notification");
    }

    #[test]
    fn a_forged_sign_differs_in_every_digit_and_keeps_the_rest() {
        let body = r#"{"order_id":"ET1","pay_amount":10000.00,"sign":"0a9f"}"#;
        assert_eq!(
            forge(body),
            r#"{"order_id":"ET1","pay_amount":10000.00,"sign":"1ba0"}"#
        );
        let form = "order_id=ET1&pay_datetime=2024-12-01+10%3A00%3A00&sign=0a9f";
        assert_eq!(
            forge(form),
            "order_id=ET1&pay_datetime=2024-12-01+10%3A00%3A00&sign=1ba0"
        );
    }

    #[test]
    fn rules_read_as_documented() {
        let rule: FaultRule = serde_json::from_str(
            r#"{"scope": {"merchant_order_id": "A-1"}, "fault": {"kind": "reset", "at": "after_commit"}}"#,
        )
        .expect("rule");
        assert_eq!(
            rule.fault,
            Fault::Reset {
                at: Stage::AfterCommit
            }
        );
        for text in [
            r#"{"scope": {"next": 2}, "fault": {"kind": "http_status", "status": 502, "at": "before_commit"}}"#,
            r#"{"scope": {"merchant_number": "ET82009"}, "fault": {"kind": "latency", "ms": 1500}}"#,
            r#"{"scope": {"order_id": "ET1"}, "fault": {"kind": "notify_drop", "attempts": 3}}"#,
            r#"{"scope": {"next": 1}, "fault": {"kind": "error_code", "status_code": "900001", "message": "down"}}"#,
        ] {
            let rule: FaultRule = serde_json::from_str(text).expect(text);
            let again: FaultRule =
                serde_json::from_str(&serde_json::to_string(&rule).expect("json")).expect("again");
            assert_eq!(rule, again);
        }
        assert!(serde_json::from_str::<FaultRule>(
            r#"{"scope": {"next": 1}, "fault": {"kind": "reset", "at": "after_commit", "extra": 1}}"#
        )
        .is_err());
    }
}
