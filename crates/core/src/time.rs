//! UTC timestamps stored as epoch milliseconds (BIGINT) on every backend.

use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, UTC.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        Self::from_system(SystemTime::now())
    }

    /// A clock reading (before the epoch reads as the epoch).
    pub fn from_system(t: SystemTime) -> Self {
        let millis = t
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Self(millis)
    }

    pub fn to_system(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(u64::try_from(self.0).unwrap_or(0))
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn plus(self, d: Duration) -> Self {
        Self(self.0.saturating_add(d.as_millis() as i64))
    }

    pub fn minus(self, d: Duration) -> Self {
        Self(self.0.saturating_sub(d.as_millis() as i64))
    }

    /// `2026-11-22T00:10:36Z` (second precision), for services that want RFC 3339.
    pub fn to_rfc3339(self) -> String {
        let secs = self.0.div_euclid(1000);
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }

    /// Parses RFC 3339 as Twitch sends it: `2026-11-22T00:10:36Z`, optional fraction, `Z` or
    /// a `±hh:mm` offset (required: a time without a zone is ambiguous).
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let clock = s.get(11..)?;
        let zoned = clock.ends_with(['Z', 'z']) || clock.contains(['+', '-']);
        if !zoned || s.len() < 20 {
            return None;
        }
        let t = tapearr_hls::playlist::datetime::parse_iso8601(s)?;
        let millis = t.duration_since(UNIX_EPOCH).ok()?.as_millis();
        Some(Self(i64::try_from(millis).ok()?))
    }

    /// The UTC calendar date and clock time.
    pub fn civil(self) -> Civil {
        let secs = self.0.div_euclid(1000);
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem % 3600 / 60) as u32,
            second: (rem % 60) as u32,
            weekday: (days + 3).rem_euclid(7) as u32,
        }
    }

    /// Minutes since midnight UTC.
    pub fn minute_of_day(self) -> u32 {
        (self.0.div_euclid(60_000).rem_euclid(1440)) as u32
    }

    /// Time from `self` until `later`, zero when `later` is in the past.
    pub fn until(self, later: Timestamp) -> Duration {
        Duration::from_millis(later.0.saturating_sub(self.0).max(0) as u64)
    }
}

/// A UTC date and time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u32,
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_and_until_never_goes_negative() {
        let t = Timestamp(1_000);
        assert_eq!(t.plus(Duration::from_secs(1)), Timestamp(2_000));
        assert_eq!(t.minus(Duration::from_secs(2)), Timestamp(-1_000));
        assert_eq!(t.until(Timestamp(500)), Duration::ZERO);
        assert_eq!(t.until(Timestamp(1_250)), Duration::from_millis(250));
    }

    #[test]
    fn rfc3339_and_minute_of_day() {
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00Z");
        // `date -u -d @1795307436` → Sun Nov 22 00:30:36 UTC 2026
        assert_eq!(
            Timestamp(1_795_307_436_999).to_rfc3339(),
            "2026-11-22T00:30:36Z"
        );
        assert_eq!(
            Timestamp(951_782_400_000).to_rfc3339(),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(Timestamp(1_795_307_436_000).minute_of_day(), 30);
    }

    #[test]
    fn parses_what_twitch_sends() {
        let p = Timestamp::parse_rfc3339;
        assert_eq!(
            p("2026-11-22T00:30:36Z"),
            Some(Timestamp(1_795_307_436_000))
        );
        assert_eq!(
            p("2026-11-22T00:30:36.123456789Z"),
            Some(Timestamp(1_795_307_436_123))
        );
        assert_eq!(
            p("2026-11-22T01:30:36+01:00"),
            Some(Timestamp(1_795_307_436_000))
        );
        assert_eq!(p("2000-02-29T00:00:00Z"), Some(Timestamp(951_782_400_000)));
        for bad in [
            "",
            "2026-11-22",
            "2026-13-22T00:30:36Z",
            "2026-11-22T00:30:36",
            "x026-11-22T00:30:36Z",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }
}
