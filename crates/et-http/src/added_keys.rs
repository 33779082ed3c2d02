//! Keys ET adds to its replies and notifications without telling anyone:
//! accepted and kept (et-proto), and each new name logged once at `info`,
//! so that an operator learns of it without a log line per message.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// At most this many names are remembered (and logged): the names come
/// from signed messages only, but a bound keeps a misbehaving peer from
/// growing the set without end.
const MAX_REMEMBERED: usize = 256;

static SEEN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

thread_local! {
    /// The names this thread has found in each process-wide set (by the
    /// set's address): a name is never removed from a set, so a name found
    /// once is answered here again without the lock, which every
    /// notification would otherwise take (the salt that verified it).
    static FOUND_HERE: RefCell<BTreeMap<usize, BTreeSet<Box<str>>>> =
        const { RefCell::new(BTreeMap::new()) };
}

/// Whether `name` is new to `seen` (and now remembered), within the bound.
pub(crate) fn first_time(seen: &Mutex<BTreeSet<String>>, name: &str) -> bool {
    let set = std::ptr::from_ref(seen) as usize;
    let found_here = |names: &BTreeMap<usize, BTreeSet<Box<str>>>| {
        names.get(&set).is_some_and(|names| names.contains(name))
    };
    if FOUND_HERE.with_borrow(found_here) {
        return false;
    }
    let Ok(mut seen) = seen.lock() else {
        return false;
    };
    let first = !seen.contains(name) && seen.len() < MAX_REMEMBERED && seen.insert(name.to_owned());
    if seen.contains(name) {
        FOUND_HERE.with_borrow_mut(|names| names.entry(set).or_default().insert(name.into()));
    }
    first
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

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_name_once_found_on_a_thread_is_answered_there_without_the_lock() {
        static SET: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
        let (ask, asked) = mpsc::channel::<()>();
        let (answer, answered) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            answer.send(first_time(&SET, "current")).ok();
            asked.recv().ok();
            answer.send(first_time(&SET, "current")).ok();
        });
        assert_eq!(answered.recv_timeout(Duration::from_secs(10)), Ok(true));
        // The lock is held here: only an answer that does not take it arrives.
        let held = SET.lock();
        ask.send(()).ok();
        assert_eq!(answered.recv_timeout(Duration::from_secs(10)), Ok(false));
        drop(held);
        thread.join().ok();
        // Another thread still asks the process-wide set, which says the same.
        let elsewhere = std::thread::spawn(|| first_time(&SET, "current")).join();
        assert_eq!(elsewhere.ok(), Some(false));
    }
}
