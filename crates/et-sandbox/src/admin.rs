//! The admin vocabulary, written once: every action ET's side (or the
//! developer) takes in a sandbox, with its name, its HTTP route, how a
//! request or a command line names it, and its effect. The server's admin
//! routes, the dashboard's buttons, [`RunningSandbox`](crate::RunningSandbox)'s
//! methods and `et sandbox admin` all go through [`AdminAction`].
//!
//! | action | route | answer |
//! |---|---|---|
//! | [`ShowOrder`](AdminAction::ShowOrder) | `GET /admin/orders/{order_id}` | the order, its institution (or `null`), its notifications and every delivery attempt as JSON |
//! | [`OrderStep`](AdminAction::OrderStep) | `POST /admin/orders/{order_id}/{step}` | `pay`, `decline-payment` (stays 0, `pay_result` 0), `remit` (1 → 2), `receive` (2 → 3, sends the voucher), `complete` (3 → 4), `close` (0 → -1), `refund-result?success=true\|false` (-3 → -2, or back); the order as `GET` shows it |
//! | [`Redeliver`](AdminAction::Redeliver) | `POST /admin/notifications/{id}/redeliver` | makes a notification due now, whether pending, delivered or given up; its order as `GET` shows it |
//! | [`ListFaults`](AdminAction::ListFaults) | `GET /admin/faults` | the [fault rules](crate::faults), as JSON `{"faults": [...]}` |
//! | [`AddFault`](AdminAction::AddFault) | `POST /admin/faults` | adds the [`FaultRule`] in the JSON body (else 400, saying why); the rules |
//! | [`RemoveFault`](AdminAction::RemoveFault) | `POST /admin/faults/remove` | removes the first rule equal to the [`FaultRule`] in the JSON body (a `next` rule as it now counts; else 404); the rules |
//! | [`ClearFaults`](AdminAction::ClearFaults) | `POST /admin/faults/clear` | removes every fault rule (magic values still apply); the rules |
//! | [`AdvanceClock`](AdminAction::AdvanceClock) | `POST /admin/clock/advance?seconds=N` | moves sandbox time forward: at most [`MAX_ADVANCE`](crate::MAX_ADVANCE) per call and never more than [`MAX_AHEAD`](crate::MAX_AHEAD) ahead of real time (else 400, time unchanged); `{"now": …}` |
//! | [`ResetClock`](AdminAction::ResetClock) | `POST /admin/clock/reset` | brings sandbox time back to real time, and every pending notification back by as much (none before now); `{"now": …}` |

use std::fmt;
use std::time::Duration;

use http::Method;

use crate::app::App;
use crate::clock::ClockError;
use crate::codes::{order_not_found, Refusal, SandboxCode};
use crate::faults::{FaultError, FaultRule};
use crate::machine::Event;
use crate::views::OrderView;

/// One admin action: what it acts on and with which arguments.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum AdminAction {
    /// Shows the order, its notifications and their delivery attempts.
    ShowOrder {
        /// ET order id.
        order_id: String,
    },
    /// ET's step on the order: an [`Event`] of [`ORDER_STEPS`](Self::ORDER_STEPS)
    /// (any other is refused as [`AdminParseError::NoSuchAction`] when
    /// parsed and as an illegal transition when run).
    OrderStep {
        /// ET order id.
        order_id: String,
        /// The step.
        event: Event,
    },
    /// Makes a notification (its outbox row) due now.
    Redeliver {
        /// The notification's id ([`NotificationView::id`](crate::NotificationView::id)).
        notification_id: i64,
    },
    /// Lists the fault rules.
    ListFaults,
    /// Adds a fault rule after the others.
    AddFault(FaultRule),
    /// Removes the first rule equal to this one (a `next` rule as it now counts).
    RemoveFault(FaultRule),
    /// Removes every fault rule.
    ClearFaults,
    /// Moves sandbox time forward.
    AdvanceClock {
        /// By how many seconds.
        seconds: u64,
    },
    /// Brings sandbox time back to real time.
    ResetClock,
}

/// Why a request or a name is no admin action.
#[derive(Debug)]
#[non_exhaustive]
pub enum AdminParseError {
    /// No admin route has this path.
    NoRoute,
    /// The route takes another method: `allow` is its `Allow` header.
    Method {
        /// The methods the route takes.
        allow: &'static str,
    },
    /// The order step (the path's last segment, or a command line's name)
    /// is none of [`AdminAction::ORDER_STEPS`], or lacks its argument.
    NoSuchAction(String),
    /// The notification id is not a number.
    NotificationId(String),
    /// `seconds` is missing or not a number.
    Seconds,
    /// The body is not a fault rule.
    FaultRule(serde_json::Error),
}

impl fmt::Display for AdminParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdminParseError::NoRoute => f.write_str("no admin route"),
            AdminParseError::Method { allow } => write!(f, "this route takes {allow}"),
            AdminParseError::NoSuchAction(name) => write!(f, "no admin action {name:?}"),
            AdminParseError::NotificationId(id) => write!(f, "no notification {id:?}"),
            AdminParseError::Seconds => f.write_str("POST /admin/clock/advance?seconds=N"),
            AdminParseError::FaultRule(e) => write!(f, "not a fault rule: {e}"),
        }
    }
}

impl std::error::Error for AdminParseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AdminParseError::FaultRule(e) => Some(e),
            _ => None,
        }
    }
}

/// `Allow` of a route taking `GET` (and `HEAD`).
pub(crate) const GET: &str = "GET, HEAD";
/// `Allow` of a route taking `POST`.
pub(crate) const POST: &str = "POST";
/// `Allow` of a route taking both.
pub(crate) const GET_POST: &str = "GET, HEAD, POST";

impl AdminAction {
    /// ET's steps on an order: the name `et sandbox admin` takes, the
    /// event, the dashboard button's label and what the step does.
    pub const ORDER_STEPS: [(&'static str, Event, &'static str, &'static str); 8] = [
        (
            "pay",
            Event::Pay,
            "Pay",
            "Pay (0 → 1), as the checkout page does",
        ),
        (
            "decline-payment",
            Event::DeclinePayment,
            "Decline payment",
            "Decline the payment, as the checkout page's Decline does: the order stays at 0, \
             a payment notification with pay_result 0 goes out",
        ),
        ("remit", Event::Remit, "Remit", "Start remitting (1 → 2)"),
        (
            "receive",
            Event::Receive,
            "Receive",
            "Remitted (2 → 3); sends the remittance voucher",
        ),
        (
            "complete",
            Event::Complete,
            "Complete",
            "Funds received (3 → 4)",
        ),
        (
            "close",
            Event::Close,
            "Close",
            "Close an unpaid order (0 → -1)",
        ),
        (
            "refund-succeeded",
            Event::RefundResult { success: true },
            "Refund succeeded",
            "The refund succeeded (-3 → -2)",
        ),
        (
            "refund-failed",
            Event::RefundResult { success: false },
            "Refund failed",
            "The refund failed (-3 → the status before)",
        ),
    ];

    /// The name `et sandbox admin` gives showing an order.
    pub const SHOW: &'static str = "show";

    /// The action `name` (`show` or a name of [`ORDER_STEPS`](Self::ORDER_STEPS))
    /// on order `order_id`.
    pub fn on_order(order_id: &str, name: &str) -> Result<Self, AdminParseError> {
        let order_id = order_id.to_owned();
        if name == Self::SHOW {
            return Ok(AdminAction::ShowOrder { order_id });
        }
        Self::ORDER_STEPS
            .iter()
            .find(|(step, ..)| *step == name)
            .map(|&(_, event, ..)| AdminAction::OrderStep { order_id, event })
            .ok_or_else(|| AdminParseError::NoSuchAction(name.to_owned()))
    }

    /// The action's name: `show`, a name of [`ORDER_STEPS`](Self::ORDER_STEPS),
    /// `redeliver`, `list-faults`, `add-fault`, `remove-fault`, `clear-faults`,
    /// `advance-clock` or `reset-clock`.
    pub fn name(&self) -> &'static str {
        match self {
            AdminAction::ShowOrder { .. } => Self::SHOW,
            AdminAction::OrderStep { event, .. } => Self::ORDER_STEPS
                .iter()
                .find(|(_, e, ..)| e == event)
                .map_or(event.name(), |(name, ..)| name),
            AdminAction::Redeliver { .. } => "redeliver",
            AdminAction::ListFaults => "list-faults",
            AdminAction::AddFault(_) => "add-fault",
            AdminAction::RemoveFault(_) => "remove-fault",
            AdminAction::ClearFaults => "clear-faults",
            AdminAction::AdvanceClock { .. } => "advance-clock",
            AdminAction::ResetClock => "reset-clock",
        }
    }

    /// `GET` for the two that only read, else `POST`.
    pub fn method(&self) -> Method {
        match self {
            AdminAction::ShowOrder { .. } | AdminAction::ListFaults => Method::GET,
            _ => Method::POST,
        }
    }

    /// The route's path and query, e.g. `/admin/orders/ET1/refund-result?success=true`
    /// (the order id percent-encoded).
    pub fn path(&self) -> String {
        match self {
            AdminAction::ShowOrder { order_id } => format!("/admin/orders/{}", segment(order_id)),
            AdminAction::OrderStep { order_id, event } => {
                let query = match event {
                    Event::RefundResult { success } => format!("?success={success}"),
                    _ => String::new(),
                };
                let order = segment(order_id);
                format!("/admin/orders/{order}/{}{query}", event.name())
            }
            AdminAction::Redeliver { notification_id } => {
                format!("/admin/notifications/{notification_id}/redeliver")
            }
            AdminAction::ListFaults | AdminAction::AddFault(_) => "/admin/faults".to_owned(),
            AdminAction::RemoveFault(_) => "/admin/faults/remove".to_owned(),
            AdminAction::ClearFaults => "/admin/faults/clear".to_owned(),
            AdminAction::AdvanceClock { seconds } => {
                format!("/admin/clock/advance?seconds={seconds}")
            }
            AdminAction::ResetClock => "/admin/clock/reset".to_owned(),
        }
    }

    /// The JSON body the route takes: the rule for [`AddFault`](Self::AddFault)
    /// and [`RemoveFault`](Self::RemoveFault), else `{}` (admin `POST`s must
    /// say `Content-Type: application/json`).
    pub fn body(&self) -> String {
        match self {
            AdminAction::AddFault(rule) | AdminAction::RemoveFault(rule) => {
                serde_json::to_string(rule).unwrap_or_else(|_| "{}".to_owned())
            }
            _ => "{}".to_owned(),
        }
    }

    /// The action a request names: `path` without its leading `/` split at
    /// `/` (`["admin", …]`), its query string and body. `method` is `GET`
    /// for `HEAD` too.
    pub fn parse(
        method: &Method,
        segments: &[&str],
        query: &str,
        body: &[u8],
    ) -> Result<Self, AdminParseError> {
        let (allow, action) = match segments {
            ["admin", "orders", id] => (
                GET,
                Ok(AdminAction::ShowOrder {
                    order_id: decode(id),
                }),
            ),
            ["admin", "orders", id, step] => (POST, order_step(id, step, query)),
            ["admin", "notifications", id, "redeliver"] => (
                POST,
                id.parse()
                    .map(|notification_id| AdminAction::Redeliver { notification_id })
                    .map_err(|_| AdminParseError::NotificationId((*id).to_owned())),
            ),
            ["admin", "faults"] if method == Method::GET => (GET_POST, Ok(AdminAction::ListFaults)),
            ["admin", "faults"] => (
                GET_POST,
                serde_json::from_slice(body)
                    .map(AdminAction::AddFault)
                    .map_err(AdminParseError::FaultRule),
            ),
            ["admin", "faults", "remove"] => (
                POST,
                serde_json::from_slice(body)
                    .map(AdminAction::RemoveFault)
                    .map_err(AdminParseError::FaultRule),
            ),
            ["admin", "faults", "clear"] => (POST, Ok(AdminAction::ClearFaults)),
            ["admin", "clock", "advance"] => (
                POST,
                param(query, "seconds")
                    .and_then(|v| v.parse().ok())
                    .map(|seconds| AdminAction::AdvanceClock { seconds })
                    .ok_or(AdminParseError::Seconds),
            ),
            ["admin", "clock", "reset"] => (POST, Ok(AdminAction::ResetClock)),
            _ => return Err(AdminParseError::NoRoute),
        };
        let takes = match *method {
            Method::GET => allow != POST,
            Method::POST => allow != GET,
            _ => false,
        };
        if !takes {
            return Err(AdminParseError::Method { allow });
        }
        action
    }

    /// Runs the action on the sandbox.
    pub(crate) fn run(self, app: &App) -> Result<AdminAnswer, AdminError> {
        Ok(match self {
            AdminAction::ShowOrder { order_id } => AdminAnswer::Order(show(app, &order_id)?),
            AdminAction::OrderStep { order_id, event } => {
                AdminAnswer::Order(step(app, &order_id, event)?)
            }
            AdminAction::Redeliver { notification_id } => {
                let order_id = redeliver(app, notification_id)?
                    .ok_or(AdminError::NoNotification(notification_id))?;
                AdminAnswer::Order(show(app, &order_id)?)
            }
            AdminAction::ListFaults => AdminAnswer::Faults(app.faults.list()),
            AdminAction::AddFault(rule) => {
                app.faults.add(rule)?;
                AdminAnswer::Faults(app.faults.list())
            }
            AdminAction::RemoveFault(rule) => match app.faults.remove(&rule) {
                true => AdminAnswer::Faults(app.faults.list()),
                false => return Err(AdminError::NoSuchRule),
            },
            AdminAction::ClearFaults => {
                app.faults.clear();
                AdminAnswer::Faults(app.faults.list())
            }
            AdminAction::AdvanceClock { seconds } => {
                AdminAnswer::Now(app.advance_clock(Duration::from_secs(seconds))?)
            }
            AdminAction::ResetClock => AdminAnswer::Now(app.reset_clock()?),
        })
    }
}

/// [`AdminAction::ShowOrder`]'s effect: the order.
fn show(app: &App, order_id: &str) -> Result<OrderView, Refusal> {
    let order = app.store.tx(|c| crate::store::order(c, order_id))?;
    let order = order.ok_or_else(|| order_not_found(order_id))?;
    Ok(OrderView::from(&order))
}

/// [`AdminAction::OrderStep`]'s effect: the order after the step (an event
/// not in [`AdminAction::ORDER_STEPS`] is refused as illegal).
pub(crate) fn step(app: &App, order_id: &str, event: Event) -> Result<OrderView, Refusal> {
    if !AdminAction::ORDER_STEPS
        .iter()
        .any(|(_, e, ..)| *e == event)
    {
        let why = format!("{:?} is no admin step", event.name());
        return Err(Refusal::new(SandboxCode::IllegalOrderState, why));
    }
    let order = app.transition(order_id, None, event, None)?;
    Ok(OrderView::from(&order))
}

/// [`AdminAction::Redeliver`]'s effect: the notification's order, `None`
/// if there is no such notification.
pub(crate) fn redeliver(app: &App, notification_id: i64) -> Result<Option<String>, Refusal> {
    let now = app.clock.now();
    let order_id = app
        .store
        .tx(|c| crate::store::redeliver(c, notification_id, now))?;
    app.wake.notify_one();
    Ok(order_id)
}

/// What an admin action answers ([`RunningSandbox::act`](crate::RunningSandbox::act)).
#[derive(Debug)]
#[non_exhaustive]
pub enum AdminAnswer {
    /// The order acted on (or shown).
    Order(OrderView),
    /// The fault rules, as they now are.
    Faults(Vec<FaultRule>),
    /// The sandbox time now, in milliseconds since the Unix epoch.
    Now(i64),
}

/// Why an admin action was not carried out.
#[derive(Debug)]
#[non_exhaustive]
pub enum AdminError {
    /// Refused as ET refuses: no such order, an illegal transition, a
    /// database failure.
    Refused(Refusal),
    /// No notification has this id.
    NoNotification(i64),
    /// The clock refused the advance.
    Clock(ClockError),
    /// The fault plan refused the rule.
    Fault(FaultError),
    /// No fault rule equals the one to remove (a `next` rule may have been
    /// used up since).
    NoSuchRule,
}

impl fmt::Display for AdminError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdminError::Refused(r) => r.fmt(f),
            AdminError::NoNotification(id) => write!(f, "no notification {id}"),
            AdminError::Clock(e) => e.fmt(f),
            AdminError::Fault(e) => e.fmt(f),
            AdminError::NoSuchRule => {
                f.write_str("no such fault rule (a `next` rule may have been used up)")
            }
        }
    }
}

impl std::error::Error for AdminError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AdminError::Refused(r) => Some(r),
            AdminError::Clock(e) => Some(e),
            AdminError::Fault(e) => Some(e),
            AdminError::NoNotification(_) | AdminError::NoSuchRule => None,
        }
    }
}

impl From<Refusal> for AdminError {
    fn from(r: Refusal) -> Self {
        AdminError::Refused(r)
    }
}

impl From<rusqlite::Error> for AdminError {
    fn from(e: rusqlite::Error) -> Self {
        AdminError::Refused(e.into())
    }
}

impl From<ClockError> for AdminError {
    fn from(e: ClockError) -> Self {
        AdminError::Clock(e)
    }
}

impl From<FaultError> for AdminError {
    fn from(e: FaultError) -> Self {
        AdminError::Fault(e)
    }
}

/// The step `/admin/orders/{id}/{step}?{query}` names.
fn order_step(id: &str, step: &str, query: &str) -> Result<AdminAction, AdminParseError> {
    let event = match step {
        "refund-result" => param(query, "success").map(|v| Event::RefundResult {
            success: v == "true" || v == "1",
        }),
        _ => AdminAction::ORDER_STEPS
            .iter()
            .map(|&(_, event, ..)| event)
            .find(|event| event.name() == step && !matches!(event, Event::RefundResult { .. })),
    };
    event
        .map(|event| AdminAction::OrderStep {
            order_id: decode(id),
            event,
        })
        .ok_or_else(|| AdminParseError::NoSuchAction(step.to_owned()))
}

/// The `name` parameter of a query string, percent-decoded.
pub(crate) fn param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A path segment as written into a path.
fn segment(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A path segment as read from a path (the inverse of [`segment`]).
fn decode(segment: &str) -> String {
    form_urlencoded::parse(format!("x={segment}").as_bytes())
        .next()
        .map_or_else(|| segment.to_owned(), |(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(
        method: Method,
        path_and_query: &str,
        body: &str,
    ) -> Result<AdminAction, AdminParseError> {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        AdminAction::parse(&method, &segments, query, body.as_bytes())
    }

    fn every_action() -> Vec<AdminAction> {
        let mut all = vec![AdminAction::ShowOrder {
            order_id: "ET 1/é".into(),
        }];
        for (name, ..) in AdminAction::ORDER_STEPS {
            all.push(AdminAction::on_order("ET1", name).expect("a step"));
        }
        let rule: FaultRule =
            serde_json::from_str(r#"{"scope":{"next":1},"fault":{"kind":"latency","ms":5}}"#)
                .expect("a rule");
        all.extend([
            AdminAction::Redeliver { notification_id: 7 },
            AdminAction::ListFaults,
            AdminAction::AddFault(rule.clone()),
            AdminAction::RemoveFault(rule),
            AdminAction::ClearFaults,
            AdminAction::AdvanceClock { seconds: 60 },
            AdminAction::ResetClock,
        ]);
        all
    }

    #[test]
    fn every_action_parses_back_from_its_method_path_and_body() {
        for action in every_action() {
            let parsed = parse(action.method(), &action.path(), &action.body());
            assert_eq!(parsed.ok().as_ref(), Some(&action), "{}", action.path());
        }
    }

    #[test]
    fn every_name_is_distinct_and_names_its_order_step() {
        let names: Vec<&str> = every_action().iter().map(AdminAction::name).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        for (name, event, ..) in AdminAction::ORDER_STEPS {
            let step = AdminAction::on_order("ET1", name).expect("a step");
            assert_eq!(step.name(), name);
            assert_eq!(
                step,
                AdminAction::OrderStep {
                    order_id: "ET1".into(),
                    event
                }
            );
        }
        assert!(AdminAction::on_order("ET1", "refund").is_err());
    }

    #[test]
    fn admin_paths_map_to_events() {
        let step = |path: &str| match parse(Method::POST, path, "") {
            Ok(AdminAction::OrderStep { event, .. }) => Some(event),
            _ => None,
        };
        assert_eq!(step("/admin/orders/E/remit"), Some(Event::Remit));
        assert_eq!(
            step("/admin/orders/E/refund-result?success=false"),
            Some(Event::RefundResult { success: false })
        );
        assert_eq!(
            step("/admin/orders/E/refund-result"),
            None,
            "the outcome is required"
        );
        assert_eq!(
            step("/admin/orders/E/decline-payment"),
            Some(Event::DeclinePayment)
        );
        assert_eq!(
            step("/admin/orders/E/refund"),
            None,
            "only the API applies for a refund"
        );
        assert_eq!(step("/admin/orders/E/explode"), None);
    }

    #[test]
    fn query_values_are_percent_decoded() {
        assert_eq!(
            parse(
                Method::POST,
                "/admin/orders/E/refund-result?note=a%26b&succ%65ss=%74rue",
                ""
            )
            .ok(),
            Some(AdminAction::OrderStep {
                order_id: "E".into(),
                event: Event::RefundResult { success: true }
            })
        );
    }

    #[test]
    fn a_route_asked_with_another_method_names_what_it_takes() {
        let allow = |method, path| match parse(method, path, "{}") {
            Err(AdminParseError::Method { allow }) => Some(allow),
            _ => None,
        };
        assert_eq!(allow(Method::POST, "/admin/orders/E"), Some(GET));
        assert_eq!(allow(Method::GET, "/admin/clock/reset"), Some(POST));
        assert_eq!(allow(Method::PUT, "/admin/faults"), Some(GET_POST));
        assert!(matches!(
            parse(Method::GET, "/admin/nothing", ""),
            Err(AdminParseError::NoRoute)
        ));
    }
}
