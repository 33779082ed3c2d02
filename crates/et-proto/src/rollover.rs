//! Rollover: several ET public keys and notification salts accepted at
//! once, each under a name and optionally until a time, so that ET can
//! change its key or the salt without a moment when messages fail.
//!
//! A message is verified with each accepted key (or salt) in turn, the
//! current one first, and the verified reply or notification names the one
//! that verified ([`Reply::verified_by`](crate::Reply::verified_by),
//! [`VerifiedNotification::verified_by`](crate::VerifiedNotification::verified_by)).
//! A failure is the one [`Error::SignatureMismatch`](crate::Error::SignatureMismatch)
//! after every key was tried, whichever came closest: each comparison is
//! constant-time and yes-or-no.
//!
//! Whether an entry is still in force is judged at the `now` the caller
//! passes to the verifying call (et-proto reads no clock).

use std::borrow::Cow;
use std::fmt;
use std::time::SystemTime;

/// The name of the key or salt a message is verified with first: the one
/// given to [`Credentials::new`](crate::Credentials::new) or
/// [`NotificationVerifier::new`](crate::NotificationVerifier::new).
pub const CURRENT: &str = "current";

/// A key or salt accepted besides the current one during a rollover.
#[derive(Clone)]
pub struct Accepted<T> {
    /// Its name, for logs and [`VerifiedBy`] (e.g. `et-2026`); not secret.
    pub name: String,
    /// The key or salt.
    pub value: T,
    /// Not accepted after this time (`None`: until removed).
    pub not_after: Option<SystemTime>,
}

impl<T> Accepted<T> {
    /// `value` accepted under `name` until removed.
    pub fn new(name: impl Into<String>, value: T) -> Self {
        Accepted {
            name: name.into(),
            value,
            not_after: None,
        }
    }

    /// The same, accepted only until `not_after`.
    #[must_use]
    pub fn until(mut self, not_after: SystemTime) -> Self {
        self.not_after = Some(not_after);
        self
    }

    /// Whether it may still verify a message at `now` (the caller's
    /// clock: et-proto reads none).
    pub(crate) fn in_force(&self, now: SystemTime) -> bool {
        self.not_after.is_none_or(|not_after| now <= not_after)
    }
}

/// Never shows the value (a salt is a secret).
impl<T> fmt::Debug for Accepted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accepted")
            .field("name", &self.name)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

/// Which key or salt verified a message: [`CURRENT`] or an
/// [`Accepted::name`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VerifiedBy(Cow<'static, str>);

impl VerifiedBy {
    /// The current salt's or key's name is not copied (no allocation per
    /// message in the usual case).
    pub(crate) fn named(name: &str) -> Self {
        VerifiedBy(match name {
            CURRENT => Cow::Borrowed(CURRENT),
            _ => Cow::Owned(name.to_owned()),
        })
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it is the current key or salt.
    pub fn is_current(&self) -> bool {
        self.0 == CURRENT
    }
}

impl fmt::Display for VerifiedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The current value then every accepted one still in force at `now`,
/// each with its name: the order every message is verified in.
pub(crate) fn in_turn<'a, T>(
    current: &'a T,
    accepted: &'a [Accepted<T>],
    now: SystemTime,
) -> impl Iterator<Item = (&'a T, &'a str)> + 'a {
    std::iter::once((current, CURRENT)).chain(
        accepted
            .iter()
            .filter(move |a| a.in_force(now))
            .map(|a| (&a.value, a.name.as_str())),
    )
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn names(accepted: &[Accepted<u8>], now: SystemTime) -> Vec<&str> {
        in_turn(&0, accepted, now).map(|(_, name)| name).collect()
    }

    #[test]
    fn an_entry_is_accepted_until_its_not_after_and_refused_after_it() {
        let not_after = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let accepted = [Accepted::new("old", 1).until(not_after)];
        let second = Duration::from_secs(1);
        assert_eq!(names(&accepted, not_after - second), [CURRENT, "old"]);
        assert_eq!(names(&accepted, not_after), [CURRENT, "old"]);
        assert_eq!(names(&accepted, not_after + second), [CURRENT]);
    }

    #[test]
    fn a_salt_verifies_until_its_not_after_at_the_callers_now_and_not_after_it() {
        use crate::{sign_notification, NotificationVerifier, NotifySignRule, UntypedObject};
        let not_after = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let old = Accepted::new("old", zeroize::Zeroizing::new("old-salt".to_owned()));
        let verifier = NotificationVerifier::new("new-salt", NotifySignRule::V2)
            .with_accepted_salts([old.until(not_after)]);
        let fields = UntypedObject::parse_json(
            br#"{"order_id":"ET1","order_status":"2"}"#,
            crate::Message::Notification,
        )
        .expect("fields");
        let body = sign_notification("old-salt", fields);
        let at = |now| verifier.verify_owned(None, &body, now);
        let before = at(not_after - Duration::from_secs(1)).expect("in force");
        assert_eq!(before.verified_by().as_str(), "old");
        assert!(at(not_after + Duration::from_secs(1)).is_err());
    }

    #[test]
    fn an_entry_without_not_after_is_accepted_at_any_time() {
        let accepted = [Accepted::new("kept", 1)];
        for now in [
            UNIX_EPOCH,
            UNIX_EPOCH + Duration::from_secs(u32::MAX.into()),
        ] {
            assert_eq!(names(&accepted, now), [CURRENT, "kept"]);
        }
    }
}
