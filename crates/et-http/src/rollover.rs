//! ET's key and the notification salt in rollover: the first time a reply
//! or notification verifies with a key or salt in this process, an `info`
//! line names it, so that an operator sees when ET switched (and when an
//! old one is no longer used, it stops appearing in new processes).

use std::collections::BTreeSet;
use std::sync::Mutex;

use et_proto::VerifiedBy;

static ET_KEYS: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
static SALTS: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// A reply verified by the ET public key `by`.
pub(crate) fn note_et_key(by: &VerifiedBy) {
    if crate::added_keys::first_time(&ET_KEYS, by.as_str()) {
        tracing::info!(et_key = %by, "first reply verified with this ET public key");
    }
}

/// A notification verified by the salt `by`.
pub(crate) fn note_salt(by: &VerifiedBy) {
    if crate::added_keys::first_time(&SALTS, by.as_str()) {
        tracing::info!(salt = %by, "first notification verified with this salt");
    }
}
