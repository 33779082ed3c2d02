//! Keys ET adds to its replies and notifications without telling anyone:
//! accepted and kept (et-proto), and each new name logged once at `info`,
//! so that an operator learns of it without a log line per message.

use std::collections::BTreeSet;
use std::sync::Mutex;

/// At most this many names are remembered (and logged): the names come
/// from signed messages only, but a bound keeps a misbehaving peer from
/// growing the set without end.
const MAX_REMEMBERED: usize = 256;

static SEEN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Logs each name of `keys` not seen before in this process, once.
pub(crate) fn note<'a>(message: &'static str, keys: impl Iterator<Item = &'a str>) {
    let Ok(mut seen) = SEEN.lock() else {
        return;
    };
    for key in keys {
        if seen.len() < MAX_REMEMBERED && !seen.contains(key) {
            seen.insert(key.to_owned());
            tracing::info!(
                key = %key.escape_debug(),
                message,
                "ET sent a key its pages do not document; it is kept (reply.extra, added_fields)"
            );
        }
    }
}
