//! The sandbox clock: wall time that can run faster than real time.
//!
//! ET closes unpaid orders after 7 days and retries notifications over almost
//! four hours; nobody waits that long in a test. Sandbox time starts at the
//! later of the real time and the last sandbox time saved in the database (so a
//! restart never moves time backwards) and then runs `time_scale` times faster
//! than real time.
//!
//! Time is bounded so that it can never stop: it is never more than
//! [`MAX_AHEAD`] (100 years) ahead of real time. The scale is at most
//! [`MAX_TIME_SCALE`] and one advance at most [`MAX_ADVANCE`]; an advance
//! that would go beyond the bound is refused, not clamped. A fast clock
//! that reaches the bound goes on at real speed, with real time, so
//! every retry it schedules still comes due; a saved clock beyond it (from
//! an older sandbox) starts at the bound. [`Clock::reset`] brings sandbox
//! time back to real time at once.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use et_model::BeijingTime;

/// Milliseconds since the Unix epoch, in sandbox time.
pub(crate) type Millis = i64;

/// The fastest clock: 1,000,000 times real time (a sandbox week in 0.6 s;
/// [`MAX_AHEAD`] in under an hour).
pub const MAX_TIME_SCALE: f64 = 1_000_000.0;
/// The longest single advance: 3,660 days (ten years).
pub const MAX_ADVANCE: Duration = Duration::from_secs(3_660 * 86_400);
/// The furthest sandbox time may be ahead of real time: 36,525 days (100
/// years).
pub const MAX_AHEAD: Duration = Duration::from_secs(36_525 * 86_400);

/// Why the clock refused a setting or an advance.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ClockError {
    /// The scale is not a finite number in (0, [`MAX_TIME_SCALE`]].
    Scale(f64),
    /// The advance is longer than [`MAX_ADVANCE`].
    AdvanceTooLong(Duration),
    /// The advance would move time more than [`MAX_AHEAD`] ahead of real
    /// time.
    AdvanceTooFarAhead(Duration),
}

impl std::fmt::Display for ClockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClockError::Scale(scale) => write!(
                f,
                "time scale must be a finite number above 0 and at most {MAX_TIME_SCALE}, not {scale}"
            ),
            ClockError::AdvanceTooLong(by) => write!(
                f,
                "an advance of {} s is longer than the maximum {} s",
                by.as_secs(),
                MAX_ADVANCE.as_secs()
            ),
            ClockError::AdvanceTooFarAhead(by) => write!(
                f,
                "an advance of {} s would put sandbox time more than {} days ahead of real \
                 time; reset the clock to real time first",
                by.as_secs(),
                MAX_AHEAD.as_secs() / 86_400
            ),
        }
    }
}

impl std::error::Error for ClockError {}

/// A shared, speedable clock. Cloning shares the same time line.
#[derive(Clone, Debug)]
pub(crate) struct Clock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Real time: an instant and the wall time it was.
    real: (Instant, Millis),
    scale: f64,
    /// Where sandbox time was at a real instant; it runs `scale` times
    /// faster from there. Moved by [`Clock::advance`] and [`Clock::reset`].
    line: Mutex<(Instant, Millis)>,
}

impl Clock {
    /// A clock that reads `max(real now, not_before)` now, but at most
    /// [`MAX_AHEAD`] ahead of real time, and runs `scale` times faster
    /// than real time. `scale` must be finite, positive and at most
    /// [`MAX_TIME_SCALE`].
    pub(crate) fn new(scale: f64, not_before: Millis) -> Result<Self, ClockError> {
        if !(scale.is_finite() && scale > 0.0 && scale <= MAX_TIME_SCALE) {
            return Err(ClockError::Scale(scale));
        }
        let real = (Instant::now(), real_now_ms());
        let start = not_before.clamp(real.1, real.1.saturating_add(ahead_ms()));
        Ok(Clock {
            inner: Arc::new(Inner {
                real,
                scale,
                line: Mutex::new((real.0, start)),
            }),
        })
    }

    /// Current sandbox time.
    pub(crate) fn now(&self) -> Millis {
        let line = *self.line();
        self.on(line, Instant::now())
    }

    /// Current sandbox time as a [`SystemTime`]: the `now` the sandbox's
    /// verifiers judge rollover keys and salts at, so that a moved clock
    /// ends a rotation's window as it moves every other deadline.
    pub(crate) fn system_time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(u64::try_from(self.now()).unwrap_or(0))
    }

    fn line(&self) -> std::sync::MutexGuard<'_, (Instant, Millis)> {
        self.inner
            .line
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Real (wall) time at `at`, counted from the clock's start: the
    /// system stepping its wall clock does not move sandbox time.
    fn real_at(&self, at: Instant) -> Millis {
        let (start, wall) = self.inner.real;
        let elapsed = at.saturating_duration_since(start).as_millis();
        wall.saturating_add(i64::try_from(elapsed).unwrap_or(i64::MAX))
    }

    /// Sandbox time at `at` on the time line `line`, at most [`MAX_AHEAD`]
    /// ahead of real time (where it goes on at real speed).
    fn on(&self, (origin, origin_ms): (Instant, Millis), at: Instant) -> Millis {
        let real = at.saturating_duration_since(origin).as_secs_f64() * 1000.0;
        // `as` saturates on overflow; so do the sums.
        let scaled = origin_ms.saturating_add((real * self.inner.scale) as i64);
        scaled.min(self.real_at(at).saturating_add(ahead_ms()))
    }

    /// Moves sandbox time forward by `by` at once (an admin action); an
    /// advance over [`MAX_ADVANCE`], or to more than [`MAX_AHEAD`] ahead of
    /// real time, is refused.
    pub(crate) fn advance(&self, by: Duration) -> Result<(), ClockError> {
        if by > MAX_ADVANCE {
            return Err(ClockError::AdvanceTooLong(by));
        }
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        let mut line = self.line();
        let at = Instant::now();
        let to = self.on(*line, at).saturating_add(ms);
        if to > self.real_at(at).saturating_add(ahead_ms()) {
            return Err(ClockError::AdvanceTooFarAhead(by));
        }
        *line = (at, to);
        Ok(())
    }

    /// Brings sandbox time back to real time (from there it runs `scale`
    /// times faster again); how far back it moved, in sandbox milliseconds
    /// (never negative: a clock behind real time is not moved forward).
    pub(crate) fn reset(&self) -> Millis {
        let mut line = self.line();
        let at = Instant::now();
        let was = self.on(*line, at);
        let real = self.real_at(at);
        if was <= real {
            return 0;
        }
        *line = (at, real);
        was - real
    }

    /// How much sandbox time passes in `real` time (saturating).
    pub(crate) fn sandbox_ms(&self, real: Duration) -> Millis {
        (real.as_secs_f64() * 1000.0 * self.inner.scale) as Millis
    }

    /// How long to sleep in real time for `sandbox_ms` of sandbox time to pass.
    pub(crate) fn real_delay(&self, sandbox_ms: Millis) -> Duration {
        let secs = sandbox_ms.max(0) as f64 / 1000.0 / self.inner.scale;
        Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)
    }
}

/// [`MAX_AHEAD`] in milliseconds.
fn ahead_ms() -> Millis {
    i64::try_from(MAX_AHEAD.as_millis()).unwrap_or(i64::MAX)
}

fn real_now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// ET's date-time text, `YYYY-MM-DD HH:MM:SS` in Beijing time (UTC+8).
pub(crate) fn beijing_datetime(ms: Millis) -> String {
    beijing_time(ms).to_string()
}

/// `YYYYMMDD` in Beijing time, used inside ET order ids.
pub(crate) fn beijing_compact_date(ms: Millis) -> String {
    beijing_time(ms).compact_date()
}

/// The Beijing civil time of a sandbox instant (whole seconds, rounded down).
fn beijing_time(ms: Millis) -> BeijingTime {
    BeijingTime::from_unix(ms.div_euclid(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The calendar is et-model's `BeijingTime` (tested there); the sandbox
    /// adds the step from milliseconds, which rounds down, before 1970 too.
    #[test]
    fn a_sandbox_instant_is_its_beijing_second_rounded_down() {
        assert_eq!(beijing_datetime(1_733_018_400_999), "2024-12-01 10:00:00");
        assert_eq!(beijing_datetime(-1), "1970-01-01 07:59:59");
        // 2023-12-31 20:30:05 UTC is already 2024-01-01 in Beijing.
        assert_eq!(beijing_compact_date(1_704_054_605_000), "20240101");
    }

    #[test]
    fn scaled_clock_runs_faster_and_never_goes_back() {
        let far_future = real_now_ms() + 86_400_000;
        let clock = Clock::new(1000.0, far_future).expect("valid scale");
        let t0 = clock.now();
        assert!(t0 >= far_future);
        std::thread::sleep(Duration::from_millis(20));
        assert!(clock.now() - t0 >= 20_000, "20 ms real is >= 20 s sandbox");
        clock.advance(Duration::from_secs(3600)).expect("in bounds");
        assert!(clock.now() - t0 >= 3_620_000);
        assert_eq!(clock.real_delay(60_000), Duration::from_millis(60));
    }

    #[test]
    fn advances_beyond_the_bounds_are_refused_not_clamped() {
        let clock = Clock::new(1.0, 0).expect("valid scale");
        let before = clock.now();
        assert_eq!(
            clock.advance(Duration::MAX),
            Err(ClockError::AdvanceTooLong(Duration::MAX))
        );
        let u64_max = Duration::from_secs(u64::MAX);
        assert_eq!(
            clock.advance(u64_max),
            Err(ClockError::AdvanceTooLong(u64_max))
        );
        assert!(clock.now() - before < 60_000, "nothing was added");
        let mut advances = 0;
        while clock.advance(MAX_ADVANCE).is_ok() {
            advances += 1;
        }
        assert_eq!(advances, 9, "nine ten-year steps fit in a hundred years");
        assert_eq!(
            clock.advance(MAX_ADVANCE),
            Err(ClockError::AdvanceTooFarAhead(MAX_ADVANCE))
        );
        assert!(clock.now() <= real_now_ms() + ahead_ms());
    }

    #[test]
    fn at_the_bound_time_goes_on_at_real_speed_and_resets_to_real_time() {
        let beyond = real_now_ms() + ahead_ms() + 1;
        let clock = Clock::new(MAX_TIME_SCALE, beyond).expect("valid scale");
        let capped = clock.now();
        assert!(
            capped <= real_now_ms() + ahead_ms(),
            "a saved clock beyond the bound starts at it"
        );
        std::thread::sleep(Duration::from_millis(30));
        let later = clock.now();
        assert!(later - capped >= 30, "time still moves: {}", later - capped);
        assert!(
            later - capped < 30_000,
            "at real speed, not a million times"
        );
        assert!(clock.advance(Duration::from_secs(1)).is_err());
        let back = clock.reset();
        assert!((ahead_ms() - 1_000..=ahead_ms()).contains(&back), "{back}");
        assert!(
            (clock.now() - real_now_ms()).abs() < 60_000,
            "real time again"
        );
        clock
            .advance(Duration::from_secs(60))
            .expect("advances work again");
        let behind = Clock::new(1.0, 0).expect("valid scale");
        assert_eq!(behind.reset(), 0, "never forward");
    }

    #[test]
    fn rejects_bad_scales() {
        for bad in [
            0.0,
            -1.0,
            f64::NAN,
            f64::INFINITY,
            1e308,
            MAX_TIME_SCALE * 1.01,
        ] {
            assert!(Clock::new(bad, 0).is_err(), "{bad}");
        }
        assert!(Clock::new(MAX_TIME_SCALE, 0).is_ok());
    }
}
