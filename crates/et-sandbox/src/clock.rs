//! The sandbox clock: wall time that can run faster than real time.
//!
//! ET closes unpaid orders after 7 days and retries notifications over almost
//! four hours; nobody waits that long in a test. Sandbox time starts at the
//! later of the real time and the last sandbox time saved in the database (so a
//! restart never moves time backwards) and then runs `time_scale` times faster
//! than real time.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use et_model::BeijingTime;

/// Milliseconds since the Unix epoch, in sandbox time.
pub type Millis = i64;

/// A shared, speedable clock. Cloning shares the same time line.
#[derive(Clone, Debug)]
pub struct Clock {
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
    /// times faster than real time. `scale` must be finite and positive.
    pub fn new(scale: f64, not_before: Millis) -> Option<Self> {
        if !(scale.is_finite() && scale > 0.0) {
            return None;
        }
        Some(Clock {
            inner: Arc::new(Inner {
                origin_real: Instant::now(),
                origin_ms: real_now_ms().max(not_before),
                scale,
                skipped_ms: AtomicI64::new(0),
            }),
        })
    }

    /// Current sandbox time.
    pub fn now(&self) -> Millis {
        let elapsed = self.inner.origin_real.elapsed().as_secs_f64() * 1000.0 * self.inner.scale;
        // `as` saturates on overflow; so do the sums (a huge scale or an
        // admin's huge advance pins time at the end instead of panicking).
        self.inner
            .origin_ms
            .saturating_add(elapsed as i64)
            .saturating_add(self.inner.skipped_ms.load(Ordering::Relaxed))
    }

    /// Moves sandbox time forward by `by` at once (an admin action).
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        // `fetch_add` would wrap around; saturate instead.
        let _ = self
            .inner
            .skipped_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                Some(t.saturating_add(ms))
            });
    }

    /// How long to sleep in real time for `sandbox_ms` of sandbox time to pass.
    pub fn real_delay(&self, sandbox_ms: Millis) -> Duration {
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
pub fn beijing_datetime(ms: Millis) -> String {
    beijing_time(ms).to_string()
}

/// `YYYYMMDD` in Beijing time, used inside ET order ids.
pub fn beijing_compact_date(ms: Millis) -> String {
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
        clock.advance(Duration::from_secs(3600));
        assert!(clock.now() - t0 >= 3_620_000);
        assert_eq!(clock.real_delay(60_000), Duration::from_millis(60));
    }

    #[test]
    fn huge_advances_and_scales_saturate_instead_of_panicking() {
        let clock = Clock::new(f64::MAX, 0).expect("finite scale");
        clock.advance(Duration::MAX);
        clock.advance(Duration::MAX);
        assert_eq!(clock.now(), Millis::MAX);
        assert!(
            beijing_datetime(clock.now()).ends_with(":55"),
            "still formats"
        );
    }

    #[test]
    fn rejects_bad_scales() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Clock::new(bad, 0).is_none());
        }
    }
}
