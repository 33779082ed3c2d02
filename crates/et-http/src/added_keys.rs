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

/// Whether `name` is new to `seen` (and now remembered), within the bound.
pub(crate) fn first_time(seen: &Mutex<BTreeSet<String>>, name: &str) -> bool {
    let Ok(mut seen) = seen.lock() else {
        return false;
    };
    !seen.contains(name) && seen.len() < MAX_REMEMBERED && seen.insert(name.to_owned())
}

/// Logs each name of `keys` not seen before in this process, once.
pub(crate) fn note<'a>(message: &'static str, keys: impl Iterator<Item = &'a str>) {
    for key in keys {
        if first_time(&SEEN, key) {
            tracing::info!(
                key = %key.escape_debug(),
                message,
                "ET sent a key its pages do not document; it is kept (reply.extra, added_fields)"
            );
        }
    }
}
