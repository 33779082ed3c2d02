//! A running sandbox's fault rules, and the fault an API request asks for.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, PoisonError};

use et_proto::{Message, OpenedRequest, SettingName, TuitionSpelling, UntypedObject};

use super::{Fault, FaultError, FaultRule, Scope, Stage, Target, MAGIC, MAX_FAULT_RULES};

/// Payloads (`data` and `sensitive_data` together) up to this size are
/// read for magic values; larger ones only when a rule names an order.
const MAX_SCANNED_PAYLOAD: usize = 64 * 1024;
/// Notifications whose fault the plan remembers (a `next` rule's choice
/// stays with a notification for all its attempts); beyond it the oldest
/// are forgotten.
pub(super) const MAX_REMEMBERED: usize = 4_096;
/// The rules of a running sandbox.
#[derive(Debug, Default)]
pub(crate) struct FaultPlan {
    pub(super) rules: Mutex<Vec<FaultRule>>,
    /// Per outbox row: the notification fault chosen at its first attempt.
    pub(super) chosen: Mutex<BTreeMap<i64, Fault>>,
    /// Outbox rows and attempt numbers already postponed by `notify_delay`.
    pub(super) delayed: Mutex<BTreeSet<(i64, i64)>>,
}

/// Remembers `value` under `key`, forgetting the oldest beyond [`MAX_REMEMBERED`].
pub(super) fn remember<K: Ord + Copy, V>(map: &mut BTreeMap<K, V>, key: K, value: V) {
    map.insert(key, value);
    while map.len() > MAX_REMEMBERED {
        map.pop_first();
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FaultPlan {
    /// A plan holding `rules` (e.g. from `sandbox.json`), each checked.
    pub(crate) fn new(rules: Vec<FaultRule>) -> Result<Self, FaultError> {
        if rules.len() > MAX_FAULT_RULES {
            return Err(FaultError::TooManyRules);
        }
        rules.iter().try_for_each(FaultRule::check)?;
        Ok(FaultPlan {
            rules: Mutex::new(rules),
            ..FaultPlan::default()
        })
    }

    fn rules(&self) -> std::sync::MutexGuard<'_, Vec<FaultRule>> {
        lock(&self.rules)
    }

    /// Adds a rule after the others.
    pub(crate) fn add(&self, rule: FaultRule) -> Result<(), FaultError> {
        rule.check()?;
        let mut rules = self.rules();
        if rules.len() >= MAX_FAULT_RULES {
            return Err(FaultError::TooManyRules);
        }
        rules.push(rule);
        Ok(())
    }

    /// Every rule, in matching order (`next` counts as left).
    pub(crate) fn list(&self) -> Vec<FaultRule> {
        self.rules().clone()
    }

    /// Removes the first rule equal to `rule` (a `next` rule as it now
    /// counts), and the faults chosen for notifications under it; whether
    /// one was there.
    pub(crate) fn remove(&self, rule: &FaultRule) -> bool {
        let mut rules = self.rules();
        let Some(at) = rules.iter().position(|r| r == rule) else {
            return false;
        };
        rules.remove(at);
        lock(&self.chosen).retain(|_, chosen| *chosen != rule.fault);
        true
    }

    /// Removes every rule, and the faults chosen for notifications.
    pub(crate) fn clear(&self) {
        self.rules().clear();
        lock(&self.chosen).clear();
        lock(&self.delayed).clear();
    }

    /// The fault for a request or notification about `target`: a magic
    /// value, else the first matching rule of the kind wanted (a `next`
    /// rule's count is spent by it).
    pub(crate) fn pick(&self, target: &Target<'_>, notification: bool) -> Option<Fault> {
        self.pick_within(target, notification, true)
    }

    pub(super) fn pick_within(
        &self,
        target: &Target<'_>,
        notification: bool,
        next: bool,
    ) -> Option<Fault> {
        let magic = MAGIC
            .iter()
            .find(|(m, f)| f.is_notification() == notification && m.matches(target));
        if let Some((_, fault)) = magic {
            return Some(fault.clone());
        }
        let mut rules = self.rules();
        let index = rules.iter().position(|r| {
            r.fault.is_notification() == notification
                && (r.scope.names(target) || next && matches!(r.scope, Scope::Next(_)))
        })?;
        let fault = rules[index].fault.clone();
        if let Scope::Next(n) = &mut rules[index].scope {
            *n -= 1;
            if *n == 0 {
                rules.remove(index);
            }
        }
        Some(fault)
    }

    /// The API fault a request asks for. The payload is read again for the
    /// order and amount only when it is small (orders and estimates are) or
    /// a rule names an order, so a 20 MiB attachment is not scanned twice
    /// for nothing.
    pub(crate) fn for_request(&self, req: &OpenedRequest) -> Option<Fault> {
        let small = req.data.len() + req.sensitive.len() <= MAX_SCANNED_PAYLOAD;
        let scan = small
            || self
                .rules()
                .iter()
                .any(|r| matches!(r.scope, Scope::OrderId(_) | Scope::MerchantOrderId(_)));
        let parse = |json: &str| {
            scan.then(|| UntypedObject::parse_json(json.as_bytes(), Message::Request).ok())
                .flatten()
        };
        let parts = [parse(&req.data), parse(&req.sensitive)];
        let field = |key: &str| parts.iter().flatten().find_map(|p| p.text(key));
        let target = Target {
            merchant_number: &req.merchant_number,
            order_id: field("order_id"),
            merchant_order_id: field("merchant_order_id"),
            amount: TuitionSpelling::NAMES
                .iter()
                .find_map(|(name, _)| field(name))
                .or_else(|| field("amount")),
        };
        self.pick(&target, false)
    }
}

/// What happens to a request, as its fault says.
#[derive(Debug)]
pub(crate) enum Plan {
    /// Handle it; then play the fault (if any) on the answer.
    Run(Option<Fault>),
    /// Handle nothing; play the fault instead of an answer.
    Cut(Fault),
}

impl Plan {
    /// Splits a request's fault into what happens before and after the commit.
    pub(crate) fn of(fault: Option<Fault>) -> Self {
        match fault {
            Some(f) if f.stage() == Some(Stage::BeforeCommit) => Plan::Cut(f),
            other => Plan::Run(other),
        }
    }
}
