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

    /// Whether it may still verify a message. The clock is read only for
    /// an entry with a `not_after`: the one place et-proto reads a clock it
    /// was not given (docs/architecture.md).
    pub(crate) fn in_force(&self) -> bool {
        self.not_after
            .is_none_or(|not_after| SystemTime::now() <= not_after)
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

/// The current value then every accepted one still in force, each with
/// its name: the order every message is verified in.
pub(crate) fn in_turn<'a, T>(
    current: &'a T,
    accepted: &'a [Accepted<T>],
) -> impl Iterator<Item = (&'a T, &'a str)> + 'a {
    std::iter::once((current, CURRENT)).chain(
        accepted
            .iter()
            .filter(|a| a.in_force())
            .map(|a| (&a.value, a.name.as_str())),
    )
}
