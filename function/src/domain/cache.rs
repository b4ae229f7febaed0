//! The OVERVIEW cache, the pure half: what an entry holds, when it may be reused, and the
//! earnings calendar that decides it. A company's books change only when it reports, so an
//! entry stays good until its next report date (as the calendar said when the entry was
//! written) or a maximum age, whichever comes first; the price-dependent fields are then
//! recomputed from a fresh price ([`Fundamentals::repriced`]).

use super::fundamentals::Fundamentals;
use super::time;
use super::Symbol;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One symbol's cached OVERVIEW.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CacheEntry {
    pub symbol: Symbol,
    /// When the OVERVIEW was fetched (seconds since the epoch, UTC).
    pub fetched_unix: i64,
    /// The company's next report date (`YYYY-MM-DD`) per the calendar at fetch time;
    /// `None` when the calendar listed none within its horizon.
    pub next_report: Option<String>,
    /// False when no calendar could be read at fetch time: the entry is then never reused,
    /// since nothing says the company has not reported since.
    pub calendar_known: bool,
    /// True when the data came from the simulator (never mixed with real data).
    pub synthetic: bool,
    pub fundamentals: Fundamentals,
}

/// Why an entry cannot be reused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stale {
    /// The company has reported (or reports today) since the entry was written.
    Reported(String),
    TooOld {
        days: i64,
    },
    NoCalendar,
    OtherSource,
}

/// Why an EARNINGS_CALENDAR reply is not a calendar (its rows are never the reason: bad
/// rows are skipped and counted).
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    #[error("calendar CSV: {0}")]
    Csv(#[source] csv::Error),
    #[error("calendar CSV has no symbol/reportDate columns (header: {header:?})")]
    NoColumns { header: Vec<String> },
}

/// Upcoming report dates by symbol (the EARNINGS_CALENDAR CSV, parsed).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Calendar {
    pub next_report: HashMap<Symbol, String>,
}

impl Calendar {
    /// Reads `symbol,name,reportDate,fiscalDateEnding,estimate,currency` (columns found by
    /// name); keeps each symbol's earliest date. Rows with a bad symbol or date are skipped
    /// and counted.
    pub fn from_csv(text: &str) -> Result<(Calendar, usize), CalendarError> {
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
        let headers = rdr.headers().map_err(CalendarError::Csv)?.clone();
        let col = |name: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
        let (Some(sym_col), Some(date_col)) = (col("symbol"), col("reportDate")) else {
            return Err(CalendarError::NoColumns { header: headers.iter().map(String::from).collect() });
        };
        let mut cal = Calendar::default();
        let mut skipped = 0;
        for row in rdr.records() {
            let Ok(row) = row else {
                skipped += 1;
                continue;
            };
            let (Some(sym), Some(date)) = (row.get(sym_col), row.get(date_col)) else {
                skipped += 1;
                continue;
            };
            match (Symbol::parse(sym.trim()), time::parse_date_days(date.trim())) {
                (Ok(s), Some(_)) => {
                    let d = date.trim()[..10].to_string();
                    cal.next_report
                        .entry(s)
                        .and_modify(|e| {
                            if d < *e {
                                *e = d.clone()
                            }
                        })
                        .or_insert(d);
                }
                _ => skipped += 1,
            }
        }
        Ok((cal, skipped))
    }
}

/// Whether `e` may stand in for a fresh OVERVIEW at `now`.
pub fn check(e: &CacheEntry, now_unix: i64, max_age_days: i64, synthetic_run: bool) -> Result<(), Stale> {
    if e.synthetic != synthetic_run {
        return Err(Stale::OtherSource);
    }
    let age_days = (now_unix - e.fetched_unix).div_euclid(86_400);
    if age_days >= max_age_days || now_unix < e.fetched_unix {
        return Err(Stale::TooOld { days: age_days });
    }
    if !e.calendar_known {
        return Err(Stale::NoCalendar);
    }
    if let Some(next) = &e.next_report {
        if time::date(now_unix) >= *next {
            return Err(Stale::Reported(next.clone()));
        }
    }
    Ok(())
}

/// What the cache did in a run (in `results.json` and the run's summary).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CacheReport {
    /// Entries reused (no OVERVIEW call).
    pub hits: usize,
    /// Entries not reused because the company reported since they were written.
    pub reported: usize,
    pub expired: usize,
    pub absent: usize,
    /// Entries written without a calendar, from the other data source, or unreadable.
    pub unusable: usize,
    /// Reused entries priced by a GLOBAL_QUOTE call (`PRICE_SOURCE=global_quote`, no bulk price).
    pub priced_by_quote: usize,
    /// Usable entries fetched again because no bulk price came (the same one call, fresher).
    pub refetched_for_price: usize,
    pub calendar: bool,
    /// `Some(true)` entitled to REALTIME_BULK_QUOTES, `Some(false)` not, `None` unknown.
    pub bulk_entitled: Option<bool>,
    pub bulk_prices: usize,
    pub entries_written: usize,
}

impl CacheReport {
    /// Adds another chunk's report to this one (the aggregation sums its lanes' reports):
    /// counts add up, the calendar counts as read if every part read it, and the
    /// entitlement is whatever a part learned.
    pub fn add(&mut self, o: &CacheReport) {
        let first = *self == CacheReport::default();
        self.hits += o.hits;
        self.reported += o.reported;
        self.expired += o.expired;
        self.absent += o.absent;
        self.unusable += o.unusable;
        self.priced_by_quote += o.priced_by_quote;
        self.refetched_for_price += o.refetched_for_price;
        self.calendar = if first { o.calendar } else { self.calendar && o.calendar };
        self.bulk_entitled = self.bulk_entitled.or(o.bulk_entitled);
        self.bulk_prices += o.bulk_prices;
        self.entries_written += o.entries_written;
    }
}

/// What a lane knows before it starts: the run step's calendar and data source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CacheContext {
    pub calendar: Option<Calendar>,
    pub synthetic: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn entry(fetched: i64, next: Option<&str>) -> CacheEntry {
        CacheEntry {
            symbol: Symbol::parse("KO").unwrap(),
            fetched_unix: fetched,
            next_report: next.map(String::from),
            calendar_known: true,
            synthetic: false,
            fundamentals: Fundamentals::default(),
        }
    }

    #[test]
    fn reused_until_the_report_date_or_the_maximum_age() {
        let t0 = time::days_from_civil(2026, 11, 2) * DAY + 13 * 3600;
        let e = entry(t0, Some("2026-11-20"));
        assert_eq!(check(&e, t0 + 7 * DAY, 30, false), Ok(()));
        assert_eq!(check(&e, t0 + 17 * DAY, 30, false), Ok(()), "the day before the report");
        assert_eq!(check(&e, t0 + 18 * DAY, 30, false), Err(Stale::Reported("2026-11-20".into())), "report day itself");
        let quiet = entry(t0, None);
        assert_eq!(check(&quiet, t0 + 29 * DAY, 30, false), Ok(()));
        assert_eq!(check(&quiet, t0 + 30 * DAY, 30, false), Err(Stale::TooOld { days: 30 }));
        assert_eq!(check(&quiet, t0 - DAY, 30, false), Err(Stale::TooOld { days: -1 }), "from the future");
        let mut unknown = entry(t0, None);
        unknown.calendar_known = false;
        assert_eq!(check(&unknown, t0 + DAY, 30, false), Err(Stale::NoCalendar));
        assert_eq!(check(&e, t0 + DAY, 30, true), Err(Stale::OtherSource), "simulator data never serves a real run");
    }

    #[test]
    fn calendar_csv_keeps_the_earliest_date_and_skips_bad_rows() {
        let csv = "symbol,name,reportDate,fiscalDateEnding,estimate,currency\n\
                   AAPL,Apple Inc,2027-01-29,2026-12-31,2.35,USD\n\
                   AAPL,Apple Inc,2027-04-30,2027-03-31,,USD\n\
                   BRK.B,Berkshire,2027-02-20,2026-12-31,,USD\n\
                   <b>,Bad,2027-01-01,2026-12-31,,USD\n\
                   KO,Coca-Cola,soon,2026-12-31,,USD\n";
        let (cal, skipped) = Calendar::from_csv(csv).unwrap();
        assert_eq!(cal.next_report[&Symbol::parse("AAPL").unwrap()], "2027-01-29");
        assert_eq!(cal.next_report[&Symbol::parse("BRK-B").unwrap()], "2027-02-20");
        assert_eq!(skipped, 2);
        let e = Calendar::from_csv("a,b\n1,2\n").unwrap_err();
        assert!(matches!(&e, CalendarError::NoColumns { header } if header == &["a", "b"]), "{e:?}");
        assert!(e.to_string().contains("reportDate"), "{e}");
    }
}
