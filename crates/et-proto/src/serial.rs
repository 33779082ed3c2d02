//! Request serial numbers: `yyyyMMddHHmmss` (Beijing time) + 6 digits +
//! merchant number, unique within the process.
//!
//! Format from ET's demo and the docs' worked example
//! (`20231204204337` `871860` `ET82009`, spec 01 §3). The 6 digits are random
//! (so that two processes rarely collide); within one process every second
//! keeps a bitmap of the suffixes it handed out, a random suffix that is taken
//! is retried a few times and then replaced by the next free one, and when all
//! million suffixes of a second are used the serial borrows the next second.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use et_model::BeijingTime;
use rand::{Rng, SeedableRng};

const SUFFIXES: u32 = 1_000_000;
const RANDOM_TRIES: usize = 4;

type ClockFn = Box<dyn Fn() -> SystemTime + Send + Sync>;
type RngFn = Box<dyn FnMut() -> u32 + Send>;

/// Hands out serial numbers for one merchant number.
pub struct SerialNumbers {
    merchant_number: String,
    clock: ClockFn,
    state: Mutex<State>,
}

struct State {
    rng: RngFn,
    /// Unix second (logical: never goes backwards) the bitmap belongs to.
    second: u64,
    used: Vec<u64>,
    /// Lowest suffix not yet checked by the counter fallback.
    next_free: u32,
}

impl std::fmt::Debug for SerialNumbers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerialNumbers")
            .field("merchant_number", &self.merchant_number)
            .finish_non_exhaustive()
    }
}

impl SerialNumbers {
    /// Serial numbers for `merchant_number`, from the system clock and a
    /// randomly seeded generator.
    pub fn new(merchant_number: impl Into<String>) -> Self {
        let mut rng = rand::rngs::StdRng::from_entropy();
        SerialNumbers {
            merchant_number: merchant_number.into(),
            clock: Box::new(SystemTime::now),
            state: Mutex::new(State {
                rng: Box::new(move || rng.gen()),
                second: 0,
                used: Vec::new(),
                next_free: 0,
            }),
        }
    }

    /// Replaces the clock (for tests).
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// Replaces the source of the 6 digits (any `u32`, reduced modulo 10⁶).
    pub fn with_rng(mut self, rng: impl FnMut() -> u32 + Send + 'static) -> Self {
        self.state.get_mut().unwrap_or_else(|e| e.into_inner()).rng = Box::new(rng);
        self
    }

    /// The next serial number.
    pub fn next_serial(&self) -> String {
        let now = unix_seconds((self.clock)());
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (second, suffix) = state.take(now);
        format_serial(second, suffix, &self.merchant_number)
    }
}

impl State {
    fn take(&mut self, now: u64) -> (u64, u32) {
        if now > self.second || self.used.is_empty() {
            self.reset(now.max(self.second));
        }
        for _ in 0..RANDOM_TRIES {
            let suffix = (self.rng)() % SUFFIXES;
            if self.claim(suffix) {
                return (self.second, suffix);
            }
        }
        while self.next_free < SUFFIXES {
            let suffix = self.next_free;
            self.next_free += 1;
            if self.claim(suffix) {
                return (self.second, suffix);
            }
        }
        // Every suffix of this second is taken: borrow the next second.
        self.reset(self.second + 1);
        self.take(self.second)
    }

    fn reset(&mut self, second: u64) {
        self.second = second;
        self.used.clear();
        self.used.resize(SUFFIXES.div_ceil(64) as usize, 0);
        self.next_free = 0;
    }

    fn claim(&mut self, suffix: u32) -> bool {
        let bit = 1u64 << (suffix % 64);
        match self.used.get_mut((suffix / 64) as usize) {
            Some(word) if *word & bit == 0 => {
                *word |= bit;
                true
            }
            _ => false,
        }
    }
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// `yyyyMMddHHmmss` in UTC+8 for a Unix second, then the 6-digit suffix and
/// the merchant number.
pub fn format_serial(unix_second: u64, suffix: u32, merchant_number: &str) -> String {
    let time = BeijingTime::from_unix(i64::try_from(unix_second).unwrap_or(i64::MAX));
    format!(
        "{}{:06}{merchant_number}",
        time.compact(),
        suffix % SUFFIXES
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::time::Duration;

    /// 2023-12-04 20:43:37 Beijing time = 12:43:37 UTC.
    const DOC_EXAMPLE: u64 = 1_701_693_817;

    #[test]
    fn reproduces_the_doc_example() {
        assert_eq!(
            format_serial(DOC_EXAMPLE, 871_860, "ET82009"),
            "20231204204337871860ET82009"
        );
        assert_eq!(format_serial(0, 7, "M"), "19700101080000000007M");
        // Leap day, and UTC+8 crossing midnight.
        assert_eq!(
            &format_serial(951_782_400 - 3600, 0, "")[..14],
            "20000229070000"
        );
        assert_eq!(
            &format_serial(951_868_800 - 1, 0, "")[..14],
            "20000301075959"
        );
    }

    #[test]
    fn a_million_and_more_per_second_stay_unique() {
        let at = UNIX_EPOCH + Duration::from_secs(DOC_EXAMPLE);
        let serials = SerialNumbers::new("ET82009")
            .with_clock(move || at)
            .with_rng(|| 42);
        let mut seen = HashSet::new();
        for _ in 0..1_000_050 {
            assert!(seen.insert(serials.next_serial()));
        }
        // The overflow borrowed the next second.
        assert!(seen.contains("20231204204338000000ET82009"));
    }

    #[test]
    fn clock_going_backwards_does_not_repeat() {
        let ticks = std::sync::atomic::AtomicU64::new(DOC_EXAMPLE + 10);
        let serials = SerialNumbers::new("M")
            .with_clock(move || {
                UNIX_EPOCH
                    + Duration::from_secs(ticks.fetch_sub(5, std::sync::atomic::Ordering::SeqCst))
            })
            .with_rng(|| 1);
        let a = serials.next_serial();
        let b = serials.next_serial();
        assert_ne!(a, b);
        assert_eq!(a[..14], b[..14]);
    }
}
