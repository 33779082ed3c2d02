//! Beijing (UTC+8) civil date-time, the zone of every date ET writes.

use std::fmt;

/// Beijing is UTC+8 all year (China has no daylight saving time).
const OFFSET_SECS: i64 = 8 * 3600;

/// A Unix time read as a Beijing (UTC+8) civil date-time in the proleptic
/// Gregorian calendar.
///
/// `Display` gives ET's date-time text `yyyy-MM-dd HH:mm:ss`;
/// [`BeijingTime::compact`] gives the `yyyyMMddHHmmss` of serial numbers and
/// [`BeijingTime::compact_date`] the `yyyyMMdd` of order ids.
///
/// ```
/// use et_model::BeijingTime;
///
/// let t = BeijingTime::from_unix(1_701_693_817); // 2023-12-04 12:43:37 UTC
/// assert_eq!(t.to_string(), "2023-12-04 20:43:37");
/// assert_eq!(t.compact(), "20231204204337");
/// assert_eq!((t.year, t.month, t.day, t.hour), (2023, 12, 4, 20));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BeijingTime {
    /// Year, astronomical numbering (year 0 is 1 BC).
    pub year: i64,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day of the month, 1 to 31.
    pub day: u8,
    /// Hour, 0 to 23.
    pub hour: u8,
    /// Minute, 0 to 59.
    pub minute: u8,
    /// Second, 0 to 59.
    pub second: u8,
}

impl BeijingTime {
    /// The Beijing civil time of `secs` seconds since 1970-01-01 00:00:00
    /// UTC; negative counts are before the epoch.
    pub fn from_unix(secs: i64) -> Self {
        let local = secs.saturating_add(OFFSET_SECS);
        let (year, month, day) = civil_from_days(local.div_euclid(86_400));
        let of_day = local.rem_euclid(86_400);
        Self {
            year,
            month,
            day,
            hour: clock_part(of_day / 3600),
            minute: clock_part(of_day / 60 % 60),
            second: clock_part(of_day % 60),
        }
    }

    /// The Beijing civil time of the system clock now (a clock before 1970
    /// reads as 1970-01-01 08:00:00).
    pub fn now() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Self::from_unix(secs)
    }

    /// ET's date-time text `yyyy-MM-dd HH:mm:ss` (each field in range), or
    /// `None` when `text` is anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        let shape = bytes.len() == 19
            && bytes.iter().enumerate().all(|(at, &b)| match at {
                4 | 7 => b == b'-',
                10 => b == b' ',
                13 | 16 => b == b':',
                _ => b.is_ascii_digit(),
            });
        if !shape {
            return None;
        }
        let part = |from: usize, to: usize| text.get(from..to)?.parse::<u8>().ok();
        Some(Self {
            year: text.get(0..4)?.parse().ok()?,
            month: part(5, 7).filter(|m| (1..=12).contains(m))?,
            day: part(8, 10).filter(|d| (1..=31).contains(d))?,
            hour: part(11, 13).filter(|h| *h < 24)?,
            minute: part(14, 16).filter(|m| *m < 60)?,
            second: part(17, 19).filter(|s| *s < 60)?,
        })
    }

    /// Seconds since 1970-01-01 00:00:00 UTC: the inverse of
    /// [`from_unix`](Self::from_unix) (a day past its month's end, such as
    /// 02-31, counts on into the next month).
    pub fn to_unix(&self) -> i64 {
        let days = days_from_civil(self.year, self.month, self.day);
        let of_day =
            i64::from(self.hour) * 3600 + i64::from(self.minute) * 60 + i64::from(self.second);
        days.saturating_mul(86_400)
            .saturating_add(of_day)
            .saturating_sub(OFFSET_SECS)
    }

    /// `yyyyMMddHHmmss`, as at the start of an ET serial number.
    pub fn compact(&self) -> String {
        format!(
            "{}{:02}{:02}{:02}",
            self.compact_date(),
            self.hour,
            self.minute,
            self.second
        )
    }

    /// `yyyyMMdd`, as inside ET order ids.
    pub fn compact_date(&self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Display for BeijingTime {
    /// `yyyy-MM-dd HH:mm:ss`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// A value already reduced below 60 (or 32, or 24), as `u8`.
fn clock_part(value: i64) -> u8 {
    u8::try_from(value).unwrap_or(u8::MAX)
}

/// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01
/// (H. Hinnant's algorithm), so no calendar dependency is needed.
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, clock_part(month), clock_part(day))
}

/// The day count since 1970-01-01 of a proleptic Gregorian date: the
/// inverse of [`civil_from_days`] (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let (month, day) = (i64::from(month), i64::from(day));
    let year = year.saturating_sub(i64::from(month <= 2));
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era.saturating_mul(146_097).saturating_add(doe - 719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(secs: i64) -> String {
        BeijingTime::from_unix(secs).to_string()
    }

    #[test]
    fn known_dates() {
        assert_eq!(text(0), "1970-01-01 08:00:00");
        // ET's serial number example: 2023-12-04 12:43:37 UTC.
        assert_eq!(text(1_701_693_817), "2023-12-04 20:43:37");
        assert_eq!(text(1_733_018_400), "2024-12-01 10:00:00");
        // 2023-12-31 20:30:05 UTC is already 2024-01-01 in Beijing.
        assert_eq!(text(1_704_054_605), "2024-01-01 04:30:05");
        // A leap day from its first to its last second.
        assert_eq!(text(1_709_136_000), "2024-02-29 00:00:00");
        assert_eq!(text(1_709_222_399), "2024-02-29 23:59:59");
        assert_eq!(text(1_709_222_400), "2024-03-01 00:00:00");
        assert_eq!(text(951_753_600), "2000-02-29 00:00:00");
        assert_eq!(text(4_107_513_600), "2100-03-01 00:00:00");
    }

    #[test]
    fn before_the_epoch() {
        assert_eq!(text(-28_800), "1970-01-01 00:00:00");
        assert_eq!(text(-28_801), "1969-12-31 23:59:59");
        // 1900 is not a leap year.
        assert_eq!(text(-2_203_920_001), "1900-02-28 23:59:59");
        assert_eq!(text(-2_203_920_000), "1900-03-01 00:00:00");
    }

    #[test]
    fn now_is_the_system_clock_in_beijing() {
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        let now = BeijingTime::now();
        let bounds = [before, before + 2].map(|s| BeijingTime::from_unix(s as i64));
        assert!(bounds[0] <= now && now <= bounds[1], "{now}");
    }

    #[test]
    fn compact_forms() {
        let t = BeijingTime::from_unix(1_704_054_605);
        assert_eq!(t.compact(), "20240101043005");
        assert_eq!(t.compact_date(), "20240101");
        assert_eq!(
            BeijingTime::from_unix(1_704_054_605),
            BeijingTime {
                year: 2024,
                month: 1,
                day: 1,
                hour: 4,
                minute: 30,
                second: 5
            }
        );
    }

    #[test]
    fn et_s_date_time_text_reads_back_to_the_same_unix_time() {
        for secs in [
            0,
            -28_801,
            951_753_600,
            1_704_054_605,
            1_709_222_399,
            4_107_513_600,
            -2_203_920_001,
        ] {
            let t = BeijingTime::from_unix(secs);
            assert_eq!(BeijingTime::parse(&t.to_string()), Some(t));
            assert_eq!(t.to_unix(), secs);
        }
    }

    #[test]
    fn only_et_s_date_time_text_parses() {
        for bad in [
            "",
            "2026-12-01T10:05:09",
            "2026-12-01 10:05",
            "2026-13-01 10:05:09",
            "2026-12-00 10:05:09",
            "2026-12-01 24:00:00",
            "2026-12-01 10:60:00",
            "+026-12-01 10:05:09",
            "2026-12-01 10:05:09 ",
            "２０２６-12-01 10:05:09",
        ] {
            assert_eq!(BeijingTime::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn extremes_do_not_panic() {
        for secs in [i64::MIN, i64::MIN + 1, i64::MAX - 1, i64::MAX] {
            let t = BeijingTime::from_unix(secs);
            assert!((1..=12).contains(&t.month) && (1..=31).contains(&t.day));
            assert!(t.hour < 24 && t.minute < 60 && t.second < 60);
        }
    }
}
