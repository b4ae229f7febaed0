//! UTC dates and stamps: run ids, RFC 3339 stamps, day counts. Calendar arithmetic and
//! parsing are jiff's, so an impossible date (`2026-02-30`) is an error, never a day count,
//! and a schedule time with an offset is converted exactly.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

const DAY: i64 = 86_400;

/// The UTC date of a unix time. Unix times outside jiff's range (years -9999..=9999) cannot
/// come from a clock or a parsed date; they are clamped to its bounds.
fn utc_date(unix: i64) -> Date {
    let ts = Timestamp::from_second(unix).unwrap_or(if unix < 0 { Timestamp::MIN } else { Timestamp::MAX });
    ts.to_zoned_datetime(TimeZone::UTC).date()
}

/// (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let d = utc_date(days.saturating_mul(DAY));
    (d.year() as i64, d.month() as u32, d.day() as u32)
}

/// Day count since 1970-01-01 of a civil date; `None` when there is no such date.
pub fn checked_days_from_civil(y: i64, m: u32, d: u32) -> Option<i64> {
    let date = Date::new(i16::try_from(y).ok()?, i8::try_from(m).ok()?, i8::try_from(d).ok()?).ok()?;
    days_of(date)
}

fn days_of(date: Date) -> Option<i64> {
    Some(date.to_zoned_datetime(TimeZone::UTC).ok()?.timestamp().as_second().div_euclid(DAY))
}

/// Day count since 1970-01-01 of a civil date the caller knows exists (a quarter end, a
/// test's fixed day).
///
/// # Panics
/// On a date that does not exist: that is a bug in the caller, not input.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    checked_days_from_civil(y, m, d).unwrap_or_else(|| panic!("no such date: {y:04}-{m:02}-{d:02}"))
}

/// `2026-11-28`
pub fn date(unix: i64) -> String {
    utc_date(unix).strftime("%Y-%m-%d").to_string()
}

/// `13:05:09` of a unix time, UTC.
fn clock(unix: i64) -> (i64, i64, i64) {
    let secs = unix.rem_euclid(DAY);
    (secs / 3600, secs / 60 % 60, secs % 60)
}

/// `2026-11-28T13:05:09Z`
pub fn rfc3339(unix: i64) -> String {
    let (h, m, s) = clock(unix);
    format!("{}T{h:02}:{m:02}:{s:02}Z", date(unix))
}

/// `20261128T1305Z`, the time part of a run id.
pub fn compact_minute(unix: i64) -> String {
    let (h, m, _) = clock(unix);
    format!("{}T{h:02}{m:02}Z", utc_date(unix).strftime("%Y%m%d"))
}

/// `20261128T110509Z`: sorts as time does.
pub fn compact_second(unix: i64) -> String {
    let (h, m, s) = clock(unix);
    format!("{}T{h:02}{m:02}{s:02}Z", utc_date(unix).strftime("%Y%m%d"))
}

/// `Sat, 28 Nov 2026 13:05:09 +0000`, the email `Date:` header.
pub fn rfc5322(unix: i64) -> String {
    let ts = Timestamp::from_second(unix).unwrap_or(if unix < 0 { Timestamp::MIN } else { Timestamp::MAX });
    ts.to_zoned_datetime(TimeZone::UTC).strftime("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

/// A run id for an ad-hoc run: `YYYYMMDDTHHMMZ-xxxxxx`.
pub fn run_id(unix: i64, random: u32) -> String {
    format!("{}-{:06x}", compact_minute(unix), random & 0xff_ffff)
}

/// Parses a date, exactly `YYYY-MM-DD`, to a day count. `2026-02-30`, `2026-13-01` and
/// anything around the date are refused.
pub fn parse_date_days(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    // jiff also reads other ISO 8601 forms; a command line or a calendar gives exactly this one.
    let shape = b.len() == 10 && b[4] == b'-' && b[7] == b'-' && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    days_of(s.parse::<Date>().ok()?)
}

/// Parses an RFC 3339 time such as EventBridge's `2026-11-30T13:00:00Z` to a unix time. An
/// offset (`2026-11-30T14:00:00+01:00`) is applied exactly; a time without one, or an
/// impossible date or time, is refused.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    s.trim().parse::<Timestamp>().ok().map(|t| t.as_second())
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
        assert_eq!(date(-1), "1969-12-31");
        assert_eq!(rfc5322(1_795_863_909), "Sat, 28 Nov 2026 11:05:09 +0000");
    }

    #[test]
    fn parses_schedule_times() {
        assert_eq!(parse_rfc3339("2026-11-28T11:05:09Z"), Some(1_795_863_909));
        assert_eq!(parse_rfc3339("2026-13-28T11:05:09Z"), None);
        assert_eq!(parse_rfc3339("garbage"), None);
        assert_eq!(parse_date_days("2024-12-31"), Some(days_from_civil(2024, 12, 31)));
    }

    #[test]
    fn impossible_dates_are_refused() {
        for bad in
            ["2026-02-30", "2025-02-29", "2026-04-31", "2026-00-10", "2026-13-01", "2026-1-05", "2026-01-05T00:00:00Z", " 2026-01-05", ""]
        {
            assert_eq!(parse_date_days(bad), None, "{bad:?}");
        }
        assert_eq!(parse_date_days("2024-02-29"), Some(days_from_civil(2024, 2, 29)));
        assert_eq!(checked_days_from_civil(2026, 2, 30), None);
        assert_eq!(parse_rfc3339("2026-02-30T13:00:00Z"), None);
        assert_eq!(parse_rfc3339("2026-11-30T25:00:00Z"), None);
    }

    #[test]
    fn offsets_are_applied_exactly() {
        let utc = parse_rfc3339("2026-11-30T13:00:00Z").unwrap();
        assert_eq!(parse_rfc3339("2026-11-30T14:00:00+01:00"), Some(utc));
        assert_eq!(parse_rfc3339("2026-11-30T08:00:00-05:00"), Some(utc));
        // Without an offset the instant is unknown.
        assert_eq!(parse_rfc3339("2026-11-30T13:00:00"), None);
    }
}
