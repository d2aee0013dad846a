//! RFC 3339 / ISO 8601 UTC timestamps without a calendar crate: `PROGRAM-DATE-TIME` here,
//! and the fake Twitch's timestamps.

use std::time::{SystemTime, UNIX_EPOCH};

/// `YYYY-MM-DDThh:mm:ss.mmmZ`.
pub fn iso8601(t: SystemTime) -> String {
    rfc3339(t, 3)
}

/// `YYYY-MM-DDThh:mm:ss[.f…]Z` with `fraction_digits` (0–9, truncated) digits of the second.
pub(crate) fn rfc3339(t: SystemTime, fraction_digits: u32) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let digits = fraction_digits.min(9);
    let fraction = if digits == 0 {
        String::new()
    } else {
        let f = d.subsec_nanos() / 10_u32.pow(9 - digits);
        format!(".{f:0width$}", width = digits as usize)
    };
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{fraction}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
    )
}

/// Parses `YYYY-MM-DDThh:mm:ss[.f…]Z` (UTC only, fractions ignored), as Helix query times come.
pub(crate) fn parse_rfc3339(v: &str) -> Option<SystemTime> {
    let v = v.strip_suffix('Z')?;
    let (date, time) = v.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let time = time.split('.').next()?;
    let mut t = time.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()?;
    Some(UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_what_it_formats() {
        use std::time::Duration;
        let t = super::UNIX_EPOCH + Duration::from_secs(1_689_778_611);
        assert_eq!(super::parse_rfc3339(&super::rfc3339(t, 0)), Some(t));
        assert_eq!(
            super::parse_rfc3339("2024-02-29T00:00:00Z").map(|t| super::rfc3339(t, 0)),
            Some("2024-02-29T00:00:00Z".to_string())
        );
        assert_eq!(super::parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn formats_known_dates() {
        use std::time::Duration;
        let t = super::UNIX_EPOCH + Duration::from_millis(1_714_566_896_250);
        assert_eq!(super::iso8601(t), "2024-05-01T12:34:56.250Z");
        let t = super::UNIX_EPOCH + Duration::new(1_689_778_611, 34_234_626);
        assert_eq!(super::rfc3339(t, 9), "2023-07-19T14:56:51.034234626Z");
        assert_eq!(super::rfc3339(t, 0), "2023-07-19T14:56:51Z");
        assert_eq!(
            super::rfc3339(super::UNIX_EPOCH, 3),
            "1970-01-01T00:00:00.000Z"
        );
    }
}
