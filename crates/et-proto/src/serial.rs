//! Request serial numbers: `yyyyMMddHHmmss` (Beijing time) + 6 digits +
//! merchant number, unique across every instance of a merchant's service.
//!
//! Format from ET's demo and the docs' worked example
//! (`20231204204337` `871860` `ET82009`, spec 01 §3). ET refuses a serial
//! number the merchant used before, so two processes must never hand out the
//! same one.
//!
//! The scheme that keeps instances apart is described on [`SerialNumbers`].
//! Like the rest of this crate it does no I/O: the caller passes the time,
//! and a used-up second is answered with [`SerialsExhausted`], which says
//! when to ask again, instead of a sleep.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use et_model::BeijingTime;
use rand::{Rng, SeedableRng};

const SUFFIXES: u32 = 1_000_000;
const RANDOM_TRIES: usize = 4;

type RngFn = Box<dyn FnMut() -> u32 + Send>;

/// This process's place among the instances of a service that share one
/// merchant number: which block of the serial numbers' 6 digits it owns
/// (see [`SerialNumbers`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instance {
    index: u32,
    count: u32,
}

impl Instance {
    /// The only instance: all 10⁶ suffixes.
    pub const SOLE: Instance = Instance { index: 0, count: 1 };

    /// Instance `index` (from 0) of `count`. Every instance must be given the
    /// same `count` and a different `index` (e.g. a StatefulSet ordinal).
    pub fn new(index: u32, count: u32) -> Result<Self, InvalidInstance> {
        if count == 0 || count > SUFFIXES || index >= count {
            return Err(InvalidInstance { index, count });
        }
        Ok(Instance { index, count })
    }

    /// This instance's index.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// How many instances share the merchant number.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Serial numbers this instance can hand out per second (its block size).
    pub fn capacity_per_second(&self) -> u32 {
        SUFFIXES / self.count
    }

    /// The first suffix of this instance's block.
    fn first_suffix(&self) -> u32 {
        self.index * self.capacity_per_second()
    }
}

impl Default for Instance {
    fn default() -> Self {
        Self::SOLE
    }
}

/// An [`Instance`] index or count out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidInstance {
    /// The index given.
    pub index: u32,
    /// The count given.
    pub count: u32,
}

impl fmt::Display for InvalidInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "instance {} of {}: the count must be 1 to {SUFFIXES} and the index below it",
            self.index, self.count
        )
    }
}

impl std::error::Error for InvalidInstance {}

/// Hands out serial numbers for one merchant number and one [`Instance`].
///
/// # Instances
///
/// The 6 digits (10⁶ suffixes per second) are split between the instances
/// of the service ([`Instance`]): with `count` instances each owns a block
/// of `⌊1,000,000 / count⌋` consecutive suffixes, instance `index` the block
/// starting at `index × ⌊1,000,000 / count⌋` (4 instances: `000000–249999`,
/// `250000–499999`, …). Blocks do not overlap, so two instances configured
/// with different indexes (and the same count) can never produce the same
/// serial, whatever their clocks say. A single process is instance 0 of 1
/// and owns all 10⁶ suffixes ([`SerialNumbers::new`]).
///
/// # Within an instance
///
/// Each second keeps a bitmap of the suffixes handed out. A suffix is drawn
/// at random from the instance's block (a few tries), then the lowest free
/// one is taken; randomness keeps a process that restarts within the same
/// second, or unconfigured processes sharing one block, unlikely to repeat a
/// serial the previous one used (the client retries such a refusal once,
/// see `et_http::Client`).
///
/// **Capacity** is the block size per second: 1,000,000 for one instance,
/// 250,000 each for 4, 1 each for the maximum of 1,000,000 instances. When an
/// instance has used its whole block within one second, [`next_serial`]
/// answers [`SerialsExhausted`] with the start of the next second; the
/// caller waits until its clock gets there (et-http's client does so with
/// tokio's timer) and asks again: a serial is never reused, and its
/// timestamp never runs ahead of the clock while the clock advances. The
/// logical second never goes backwards, so a clock stepped back cannot
/// repeat a serial either.
///
/// [`next_serial`]: SerialNumbers::next_serial
pub struct SerialNumbers {
    merchant_number: String,
    instance: Instance,
    state: Mutex<State>,
}

struct State {
    rng: RngFn,
    /// Size of the instance's block of suffixes.
    block: u32,
    /// Unix second (logical: never goes backwards) the bitmap belongs to.
    second: u64,
    /// One bit per suffix of the block, for `second`.
    used: Vec<u64>,
    /// Lowest offset in the block not yet checked by the counter fallback.
    next_free: u32,
    /// The caller's second when `second`'s block was found used up.
    exhausted_at: Option<u64>,
}

impl fmt::Debug for SerialNumbers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SerialNumbers")
            .field("merchant_number", &self.merchant_number)
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

impl SerialNumbers {
    /// Serial numbers for `merchant_number` in a single-instance service,
    /// from a randomly seeded generator.
    pub fn new(merchant_number: impl Into<String>) -> Self {
        Self::for_instance(merchant_number, Instance::SOLE)
    }

    /// Serial numbers for `merchant_number` drawn from `instance`'s block
    /// only, so that instances never collide.
    pub fn for_instance(merchant_number: impl Into<String>, instance: Instance) -> Self {
        let mut rng = rand::rngs::StdRng::from_entropy();
        SerialNumbers {
            merchant_number: merchant_number.into(),
            instance,
            state: Mutex::new(State {
                rng: Box::new(move || rng.gen()),
                block: instance.capacity_per_second(),
                second: 0,
                used: Vec::new(),
                next_free: 0,
                exhausted_at: None,
            }),
        }
    }

    /// The instance whose block these serial numbers come from.
    pub fn instance(&self) -> Instance {
        self.instance
    }

    /// Replaces the source of the 6 digits (any `u32`, reduced modulo the
    /// instance's block size).
    pub fn with_rng(mut self, rng: impl FnMut() -> u32 + Send + 'static) -> Self {
        self.state.get_mut().unwrap_or_else(|e| e.into_inner()).rng = Box::new(rng);
        self
    }

    /// The next serial number at `now`, or, when this instance's capacity
    /// for the current (logical) second is used up, when to ask again; see
    /// [`SerialNumbers`].
    pub fn next_serial(&self, now: SystemTime) -> Result<String, SerialsExhausted> {
        let now = unix_seconds(now);
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match state.take(now) {
            Some((second, offset)) => {
                let suffix = self.instance.first_suffix() + offset;
                Ok(format_serial(second, suffix, &self.merchant_number))
            }
            None => {
                state.exhausted_at = Some(now);
                Err(SerialsExhausted {
                    until: UNIX_EPOCH + Duration::from_secs(now + 1),
                })
            }
        }
    }
}

/// Every serial number of a second is handed out: ask again once the clock
/// reads [`until`](Self::until), the start of the clock's next second (at
/// most one second after the `now` given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SerialsExhausted {
    /// When serial numbers are available again.
    pub until: SystemTime,
}

impl fmt::Display for SerialsExhausted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "this second's serial numbers are used up until Unix second {}",
            unix_seconds(self.until)
        )
    }
}

impl std::error::Error for SerialsExhausted {}

impl State {
    /// A free offset in the block for the logical second at or after `now`,
    /// or `None` when that second's block is used up. The logical second
    /// follows the clock when the clock is ahead of it, and moves on by one
    /// once the clock has reached the next second after an exhaustion (so
    /// a clock stepped back still gets a block per second it waits).
    fn take(&mut self, now: u64) -> Option<(u64, u32)> {
        if now > self.second || self.used.is_empty() {
            self.reset(now.max(self.second));
        } else if self.exhausted_at.is_some_and(|at| now > at) {
            self.reset(self.second + 1);
        }
        for _ in 0..RANDOM_TRIES {
            let offset = (self.rng)() % self.block;
            if self.claim(offset) {
                return Some((self.second, offset));
            }
        }
        while self.next_free < self.block {
            let offset = self.next_free;
            self.next_free += 1;
            if self.claim(offset) {
                return Some((self.second, offset));
            }
        }
        None
    }

    fn reset(&mut self, second: u64) {
        self.second = second;
        self.used.clear();
        self.used.resize(self.block.div_ceil(64) as usize, 0);
        self.next_free = 0;
        self.exhausted_at = None;
    }

    fn claim(&mut self, offset: u32) -> bool {
        let bit = 1u64 << (offset % 64);
        match self.used.get_mut((offset / 64) as usize) {
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
    use proptest::prelude::*;
    use std::collections::HashSet;

    /// 2023-12-04 20:43:37 Beijing time = 12:43:37 UTC.
    const DOC_EXAMPLE: u64 = 1_701_693_817;

    fn frozen() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(DOC_EXAMPLE)
    }

    fn suffix(serial: &str) -> u32 {
        serial[14..20].parse().unwrap()
    }

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
        let serials = SerialNumbers::new("ET82009").with_rng(|| 42);
        let mut taken = vec![false; SUFFIXES as usize];
        for _ in 0..SUFFIXES {
            let serial = serials.next_serial(frozen()).unwrap();
            assert_eq!(&serial[..14], "20231204204337");
            let seen = std::mem::replace(&mut taken[suffix(&serial) as usize], true);
            assert!(!seen, "{serial} handed out twice");
        }
        let next_second = frozen() + Duration::from_secs(1);
        assert_eq!(
            serials.next_serial(frozen()),
            Err(SerialsExhausted { until: next_second })
        );
        // The overflow goes on in the next second, once the caller's clock is there.
        let overflow: HashSet<String> = (0..50)
            .map(|_| serials.next_serial(next_second).unwrap())
            .collect();
        assert_eq!(overflow.len(), 50);
        assert!(overflow.iter().all(|s| &s[..14] == "20231204204338"));
        assert!(overflow.contains("20231204204338000000ET82009"));
    }

    #[test]
    fn instances_in_one_frozen_second_never_collide() {
        // 16 instances, each using its whole capacity in the same second,
        // all drawing the same "random" suffix: every one of the 10⁶
        // suffixes is handed out exactly once.
        let count = 16;
        let mut owner = vec![u32::MAX; SUFFIXES as usize];
        for index in 0..count {
            let instance = Instance::new(index, count).unwrap();
            let serials = SerialNumbers::for_instance("ET82009", instance).with_rng(|| 42);
            for _ in 0..instance.capacity_per_second() {
                let serial = serials.next_serial(frozen()).unwrap();
                assert_eq!(&serial[..14], "20231204204337", "stayed in the second");
                let taken = &mut owner[suffix(&serial) as usize];
                assert_eq!(*taken, u32::MAX, "{serial} handed out twice");
                *taken = index;
            }
        }
        assert!(owner.iter().all(|&o| o != u32::MAX));
    }

    #[test]
    fn an_exhausted_second_answers_when_to_ask_again_instead_of_sleeping() {
        // 500,000 instances own 2 suffixes each.
        let instance = Instance::new(7, 500_000).unwrap();
        assert_eq!(instance.capacity_per_second(), 2);
        let serials = SerialNumbers::for_instance("M", instance);
        let now = frozen() + Duration::from_millis(900);
        let first: Vec<String> = (0..2).map(|_| serials.next_serial(now).unwrap()).collect();
        // With the same `now` (a clock that does not move), the answer
        // comes at once, every time: nothing waits for a clock to advance.
        let exhausted = SerialsExhausted {
            until: frozen() + Duration::from_secs(1),
        };
        for _ in 0..3 {
            assert_eq!(serials.next_serial(now), Err(exhausted));
        }
        let later = serials.next_serial(exhausted.until).unwrap();
        assert_eq!(
            [&first[0][..14], &first[1][..14], &later[..14]],
            ["20231204204337", "20231204204337", "20231204204338"]
        );
        assert_ne!(first[0], first[1]);
        assert!([&first[0], &first[1], &later]
            .iter()
            .all(|s| (14..16).contains(&suffix(s))));
    }

    #[test]
    fn clock_going_backwards_does_not_repeat() {
        let serials = SerialNumbers::new("M").with_rng(|| 1);
        let a = serials
            .next_serial(frozen() + Duration::from_secs(10))
            .unwrap();
        let b = serials
            .next_serial(frozen() + Duration::from_secs(5))
            .unwrap();
        assert_ne!(a, b);
        assert_eq!(a[..14], b[..14]);
    }

    #[test]
    fn a_clock_stepped_back_waits_a_second_of_its_own_per_exhausted_block() {
        // One suffix per second; the clock steps back 10 s after the first.
        let instance = Instance::new(0, SUFFIXES).unwrap();
        let serials = SerialNumbers::for_instance("M", instance);
        serials
            .next_serial(frozen() + Duration::from_secs(10))
            .unwrap();
        let until = frozen() + Duration::from_secs(1);
        assert_eq!(
            serials.next_serial(frozen()),
            Err(SerialsExhausted { until })
        );
        // Not 10 s: the logical second moves on once this clock's did.
        let next = serials.next_serial(until).unwrap();
        assert_eq!(&next[..14], "20231204204348");
    }

    #[test]
    fn out_of_range_instances_are_refused() {
        assert!(Instance::new(0, 0).is_err());
        assert!(Instance::new(3, 3).is_err());
        assert!(Instance::new(0, SUFFIXES + 1).is_err());
        assert_eq!(Instance::new(2, 4).unwrap().capacity_per_second(), 250_000);
        assert_eq!(Instance::default(), Instance::SOLE);
    }

    proptest! {
        #[test]
        fn blocks_are_disjoint_and_serials_stay_in_their_block(
            count in 1..=SUFFIXES,
            picks in proptest::collection::vec((any::<u32>(), any::<u32>()), 1..4),
            draws in proptest::collection::vec(any::<u32>(), 1..8),
        ) {
            for (a, b) in picks {
                let (a, b) = (a % count, b % count);
                let (first, second) = (Instance::new(a, count).unwrap(), Instance::new(b, count).unwrap());
                let block = |i: Instance| i.first_suffix()..i.first_suffix() + i.capacity_per_second();
                let (x, y) = (block(first), block(second));
                prop_assert!(x.end <= SUFFIXES && !x.is_empty());
                if a != b {
                    prop_assert!(x.end <= y.start || y.end <= x.start, "{x:?} overlaps {y:?}");
                }
                let mut draws = draws.clone().into_iter().cycle();
                let serials = SerialNumbers::for_instance("M", first)
                    .with_rng(move || draws.next().unwrap_or(0));
                let capacity = first.capacity_per_second().min(8);
                let issued: HashSet<String> = (0..capacity)
                    .map(|_| serials.next_serial(frozen()).unwrap())
                    .collect();
                prop_assert_eq!(issued.len() as u32, capacity);
                for serial in issued {
                    prop_assert!(x.contains(&suffix(&serial)), "{serial} outside {x:?}");
                }
            }
        }
    }
}
