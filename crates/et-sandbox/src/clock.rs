//! The sandbox clock: wall time that can run faster than real time.
//!
//! ET closes unpaid orders after 7 days and retries notifications over almost
//! four hours; nobody waits that long in a test. Sandbox time starts at the
//! later of the real time and the last sandbox time saved in the database (so a
//! restart never moves time backwards) and then runs `time_scale` times faster
//! than real time.
//!
//! Time is bounded so that it cannot be frozen at the end of time: the scale
//! is at most [`MAX_TIME_SCALE`], one advance at most [`MAX_ADVANCE`], and
//! sandbox time never passes [`LATEST`] (9999-12-31 23:59:59 Beijing time,
//! the last instant ET's `YYYY-MM-DD HH:MM:SS` can write). An advance that
//! would pass it is refused, not clamped; a database whose saved clock is
//! past it is refused at start. Only running at the maximum scale for
//! days reaches it, and there the clock stops.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use et_model::BeijingTime;

/// Milliseconds since the Unix epoch, in sandbox time.
pub(crate) type Millis = i64;

/// The fastest clock: 1,000,000 times real time (a sandbox week in 0.6 s;
/// [`LATEST`] is still about three days of real time away).
pub const MAX_TIME_SCALE: f64 = 1_000_000.0;
/// The longest single advance: 3,660 days (ten years).
pub const MAX_ADVANCE: Duration = Duration::from_secs(3_660 * 86_400);
/// The last sandbox instant: 9999-12-31 23:59:59 Beijing time.
pub const LATEST: Millis = 253_402_271_999_000;

/// Why the clock refused a setting or an advance.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ClockError {
    /// The scale is not a finite number in (0, [`MAX_TIME_SCALE`]].
    Scale(f64),
    /// The saved or starting time is past [`LATEST`].
    PastLatest(Millis),
    /// The advance is longer than [`MAX_ADVANCE`].
    AdvanceTooLong(Duration),
    /// The advance would move time past [`LATEST`].
    AdvancePastLatest(Duration),
}

impl std::fmt::Display for ClockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClockError::Scale(scale) => write!(
                f,
                "time scale must be a finite number above 0 and at most {MAX_TIME_SCALE}, not {scale}"
            ),
            ClockError::PastLatest(ms) => write!(
                f,
                "saved sandbox time {ms} ms is past the latest instant ({} Beijing time)",
                beijing_datetime(LATEST)
            ),
            ClockError::AdvanceTooLong(by) => write!(
                f,
                "an advance of {} s is longer than the maximum {} s",
                by.as_secs(),
                MAX_ADVANCE.as_secs()
            ),
            ClockError::AdvancePastLatest(by) => write!(
                f,
                "an advance of {} s would move sandbox time past {} Beijing time",
                by.as_secs(),
                beijing_datetime(LATEST)
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
    origin_real: Instant,
    origin_ms: Millis,
    scale: f64,
    /// Time added by [`Clock::advance`].
    skipped_ms: AtomicI64,
}

impl Clock {
    /// A clock that reads `max(real now, not_before)` now and runs `scale`
    /// times faster than real time. `scale` must be finite, positive and at
    /// most [`MAX_TIME_SCALE`]; `not_before` at most [`LATEST`].
    pub(crate) fn new(scale: f64, not_before: Millis) -> Result<Self, ClockError> {
        if !(scale.is_finite() && scale > 0.0 && scale <= MAX_TIME_SCALE) {
            return Err(ClockError::Scale(scale));
        }
        if not_before > LATEST {
            return Err(ClockError::PastLatest(not_before));
        }
        Ok(Clock {
            inner: Arc::new(Inner {
                origin_real: Instant::now(),
                origin_ms: real_now_ms().max(not_before),
                scale,
                skipped_ms: AtomicI64::new(0),
            }),
        })
    }

    /// Current sandbox time, at most [`LATEST`].
    pub(crate) fn now(&self) -> Millis {
        self.at(self.inner.skipped_ms.load(Ordering::Relaxed))
    }

    /// Sandbox time with `skipped_ms` of advances.
    fn at(&self, skipped_ms: Millis) -> Millis {
        let elapsed = self.inner.origin_real.elapsed().as_secs_f64() * 1000.0 * self.inner.scale;
        // `as` saturates on overflow; so do the sums.
        self.inner
            .origin_ms
            .saturating_add(elapsed as i64)
            .saturating_add(skipped_ms)
            .min(LATEST)
    }

    /// Moves sandbox time forward by `by` at once (an admin action); an
    /// advance over [`MAX_ADVANCE`] or past [`LATEST`] is refused.
    pub(crate) fn advance(&self, by: Duration) -> Result<(), ClockError> {
        if by > MAX_ADVANCE {
            return Err(ClockError::AdvanceTooLong(by));
        }
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.inner
            .skipped_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                let skipped = t.saturating_add(ms);
                (self.at(t).saturating_add(ms) <= LATEST).then_some(skipped)
            })
            .map(drop)
            .map_err(|_| ClockError::AdvancePastLatest(by))
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

    #[test]
    fn formats_beijing_time() {
        // 2024-12-01 02:00:00 UTC is 10:00 in Beijing.
        assert_eq!(beijing_datetime(1_733_018_400_000), "2024-12-01 10:00:00");
        // 2023-12-31 20:30:05 UTC is already 2024-01-01 in Beijing.
        assert_eq!(beijing_datetime(1_704_054_605_000), "2024-01-01 04:30:05");
        assert_eq!(beijing_compact_date(1_704_054_605_000), "20240101");
        assert_eq!(beijing_datetime(0), "1970-01-01 08:00:00");
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
    fn advances_past_the_bounds_are_refused_not_clamped() {
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
            assert!(advances < 1_000, "the end of time must refuse an advance");
        }
        assert!(clock.now() <= LATEST);
        assert_eq!(beijing_datetime(LATEST), "9999-12-31 23:59:59");
    }

    #[test]
    fn a_saved_time_past_the_latest_is_refused() {
        assert_eq!(
            Clock::new(1.0, LATEST + 1).err(),
            Some(ClockError::PastLatest(LATEST + 1))
        );
        assert!(Clock::new(1.0, LATEST).is_ok());
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
