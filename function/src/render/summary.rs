//! The run summary the CLI prints on standard error after the table: coverage and API
//! figures, what the cache did, the commentary, the week-over-week change.

use crate::domain::report::RunReport;

/// One line per fact, in the order printed.
pub fn lines(r: &RunReport) -> Vec<String> {
    let mut out = vec![format!(
        "Coverage {} ranked / {} scored / {} in universe ({:.1}%); {} API calls, {} throttled, {} retries; {:.2} s.",
        r.coverage.ranked,
        r.coverage.scored,
        r.universe_size,
        r.coverage.ratio * 100.0,
        r.stats.api_calls,
        r.stats.throttled,
        r.stats.retries,
        r.stats.elapsed_ms as f64 / 1000.0
    )];
    if let Some(c) = &r.cache {
        let bulk = match c.bulk_entitled {
            Some(true) => format!("{} prices from REALTIME_BULK_QUOTES", c.bulk_prices),
            Some(false) => "no bulk-quote entitlement".to_string(),
            None => "bulk quotes not tried".to_string(),
        };
        out.push(format!(
            "Cache: {} reused ({} priced by GLOBAL_QUOTE), {} fetched again for want of a bulk price, {} reported since, {} expired, {} absent, {} unusable; {}; calendar {}.",
            c.hits,
            c.priced_by_quote,
            c.refetched_for_price,
            c.reported,
            c.expired,
            c.absent,
            c.unusable,
            bulk,
            if c.calendar { "read" } else { "unavailable" }
        ));
    }
    out.push(format!("Commentary: {}", r.commentary.note));
    if let Some(c) = &r.changes {
        out.push(format!("Since run {}: {} new picks, {} dropped out.", c.previous_run, c.new_entries, c.dropped.len()));
    }
    if !r.unranked.is_empty() {
        out.push(format!("{} symbols not ranked (each with its reason in results.json).", r.unranked.len()));
    }
    out
}
