//! Minimal ISO 8601 parsing for `PROGRAM-DATE-TIME` and `DATERANGE` dates
//! (`2024-05-01T12:00:00.250Z`, `...+02:00`); no calendar crate needed for this one format.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Parses an ISO 8601 date-time with a `Z` or `±hh:mm` offset into a `SystemTime`.
pub fn parse_iso8601(input: &str) -> Option<SystemTime> {
    let s = input.trim();
    let (date, time) = s.split_once(['T', 't', ' '])?;
    let mut d = date.splitn(3, '-');
    let year: i64 = d.next()?.parse().ok()?;
    let month: u32 = d.next()?.parse().ok()?;
    let day: u32 = d.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Split off the zone designator.
    let (clock, offset_secs) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, 0i64)
    } else if let Some(pos) = time.rfind(['+', '-']) {
        let (c, zone) = time.split_at(pos);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let zone = &zone[1..];
        let (h, m) = zone
            .split_once(':')
            .unwrap_or((zone.get(..2)?, zone.get(2..).unwrap_or("0")));
        let h: i64 = h.parse().ok()?;
        let m: i64 = if m.is_empty() { 0 } else { m.parse().ok()? };
        (c, sign * (h * 3600 + m * 60))
    } else {
        (time, 0)
    };
    let mut t = clock.splitn(3, ':');
    let hour: i64 = t.next()?.parse().ok()?;
    let minute: i64 = t.next()?.parse().ok()?;
    let sec_str = t.next().unwrap_or("0");
    let seconds: f64 = sec_str.parse().ok()?;
    if hour > 23 || minute > 59 || !(0.0..61.0).contains(&seconds) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let whole = days * 86_400 + hour * 3600 + minute * 60 + seconds.trunc() as i64 - offset_secs;
    let nanos = (seconds.fract() * 1e9).round() as u32;
    if whole < 0 {
        return None;
    }
    Some(UNIX_EPOCH + Duration::new(whole as u64, nanos.min(999_999_999)))
}

/// Formats a `SystemTime` as `YYYY-MM-DDThh:mm:ss.mmmZ`.
pub fn format_iso8601(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, day) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        d.subsec_millis()
    )
}

// Howard Hinnant's civil-date algorithms.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let t = parse_iso8601("2024-05-01T12:34:56.250Z").expect("valid");
        assert_eq!(format_iso8601(t), "2024-05-01T12:34:56.250Z");
        let offset = parse_iso8601("2024-05-01T14:34:56.250+02:00").expect("valid");
        assert_eq!(offset, t);
        assert_eq!(
            parse_iso8601("1970-01-01T00:00:00Z"),
            Some(UNIX_EPOCH),
            "epoch"
        );
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "2024",
            "2024-13-01T00:00:00Z",
            "x-y-zTa:b:cZ",
            "2024-01-01T25:00:00Z",
        ] {
            assert!(parse_iso8601(s).is_none(), "{s}");
        }
    }
}
