//! Plain-text renderings: the email's text part and the terminal table.

use super::{data_line, factor_value, grade_string, NOT_ADVICE};
use crate::domain::report::RunReport;
use std::fmt::Write;

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// The table of picks (also the terminal's view).
pub fn table(r: &RunReport) -> String {
    let groups: Vec<String> = r
        .picks
        .first()
        .map(|p| p.grades.keys().map(|g| g.chars().next().unwrap_or('?').to_ascii_uppercase().to_string()).collect())
        .unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>4}  {:<6} {:<28} {:<22} {:>6}  {:<10} {:>5}  {}",
        "rank",
        "symbol",
        "company",
        "sector",
        "score",
        groups.join(" "),
        "cov",
        "top reason"
    );
    for p in &r.picks {
        let _ = writeln!(
            out,
            "{:>4}  {:<6} {:<28} {:<22} {:>6.1}  {:<10} {:>4.0}%  {}",
            p.rank,
            p.symbol.as_str(),
            cut(&p.name, 28),
            cut(&p.sector, 22),
            p.score,
            grade_string(p),
            p.coverage * 100.0,
            cut(p.reasons.first().map(String::as_str).unwrap_or(""), 70)
        );
    }
    out
}

/// The email's text/plain part.
pub fn email_text(r: &RunReport, unsubscribe: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", r.headline());
    if r.data_source.is_synthetic() {
        let _ = writeln!(out, "SYNTHETIC DATA: these figures come from the built-in simulator, not from real companies.");
    }
    let _ = writeln!(out, "{}\n", data_line(r));
    let _ = writeln!(out, "{}", table(r));
    for p in &r.picks {
        let _ = writeln!(out, "{}. {} ({}) - score {:.1}, grades {}", p.rank, p.symbol, p.name, p.score, grade_string(p));
        let _ = writeln!(
            out,
            "   earnings yield {}, ROE {}, revenue growth {}",
            factor_value(p, "earnings_yield"),
            factor_value(p, "roe"),
            factor_value(p, "revenue_growth")
        );
        for reason in &p.reasons {
            let _ = writeln!(out, "   - {reason}");
        }
    }
    if !r.unranked.is_empty() {
        let _ = writeln!(out, "\nNot ranked: {} symbols (see results.json for each reason).", r.unranked.len());
    }
    let _ = writeln!(out, "\n{NOT_ADVICE}");
    let _ = writeln!(out, "Unsubscribe: {unsubscribe}");
    out
}
