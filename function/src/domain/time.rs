//! UTC calendar arithmetic (days from civil, after Howard Hinnant), run ids and
//! RFC 3339 stamps, without a date-time dependency.

/// (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Day count since 1970-01-01 of a civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2026-11-28`
pub fn date(unix: i64) -> String {
    let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `2026-11-28T13:05:09Z`
pub fn rfc3339(unix: i64) -> String {
    let secs = unix.rem_euclid(86_400);
    format!("{}T{:02}:{:02}:{:02}Z", date(unix), secs / 3600, secs / 60 % 60, secs % 60)
}

/// `20261128T1305Z`, the time part of a run id.
pub fn compact_minute(unix: i64) -> String {
    let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
    let secs = unix.rem_euclid(86_400);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}Z", secs / 3600, secs / 60 % 60)
}

/// `20261128T110509Z`: sorts as time does.
pub fn compact_second(unix: i64) -> String {
    let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
    let secs = unix.rem_euclid(86_400);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", secs / 3600, secs / 60 % 60, secs % 60)
}

/// A run id for an ad-hoc run: `YYYYMMDDTHHMMZ-xxxxxx`.
pub fn run_id(unix: i64, random: u32) -> String {
    format!("{}-{:06x}", compact_minute(unix), random & 0xff_ffff)
}

/// Parses `YYYY-MM-DD` (and ignores any time part after it) to a day count.
pub fn parse_date_days(s: &str) -> Option<i64> {
    let s = s.get(..10)?;
    let mut parts = s.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Parses an RFC 3339 UTC stamp such as EventBridge's `2026-11-30T13:00:00Z`.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let days = parse_date_days(s)?;
    let t = s.get(11..19)?;
    if s.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    let mut hms = t.split(':').map(|p| p.parse::<i64>().ok());
    let (h, mi, se) = (hms.next()??, hms.next()??, hms.next()??);
    if h > 23 || mi > 59 || se > 60 {
        return None;
    }
    Some(days * 86_400 + h * 3600 + mi * 60 + se)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(rfc3339(1_795_863_909), "2026-11-28T11:05:09Z");
        assert_eq!(days_from_civil(2026, 11, 28), 1_795_863_909 / 86_400);
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        assert_eq!(compact_minute(1_795_863_909), "20261128T1105Z");
        assert_eq!(compact_second(1_795_863_909), "20261128T110509Z");
        assert_eq!(run_id(1_795_863_909, 0xabcdef12), "20261128T1105Z-cdef12");
    }

    #[test]
    fn parses_schedule_times() {
        assert_eq!(parse_rfc3339("2026-11-28T11:05:09Z"), Some(1_795_863_909));
        assert_eq!(parse_rfc3339("2026-13-28T11:05:09Z"), None);
        assert_eq!(parse_rfc3339("garbage"), None);
        assert_eq!(parse_date_days("2024-12-31"), Some(days_from_civil(2024, 12, 31)));
    }
}
