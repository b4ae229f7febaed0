//! Plain-text renderings: the email's text part and the terminal table.

use super::{data_line, factor_value, grade_string, signed_percent, NOT_ADVICE};
use crate::domain::factors::{self, format_value};
use crate::domain::report::{Explanation, RunReport};
use crate::domain::scoring::Peers;
use crate::domain::Symbol;
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
        "{:>4}  {:<6} {:<28} {:<22} {:>6}  {:<10} {:>5}  top reason",
        "rank",
        "symbol",
        "company",
        "sector",
        "score",
        groups.join(" "),
        "cov",
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
pub fn email_text(r: &RunReport, unsubscribe: super::Unsubscribe<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", r.headline());
    if let Some(l) = &r.llm_scoring {
        let _ = writeln!(out, "{}", l.note);
    }
    let _ = writeln!(out, "{}", super::commentary_line(r));
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
        if let Some(c) = &p.commentary {
            let _ = writeln!(out, "   {c}");
        }
        for reason in &p.reasons {
            let _ = writeln!(out, "   - {reason}");
        }
    }
    if let Some(c) = &r.changes {
        let new: Vec<String> = c.picks.iter().filter(|p| p.new_entry).map(|p| p.symbol.to_string()).collect();
        let gone: Vec<String> = c.dropped.iter().map(|d| d.symbol.to_string()).collect();
        let _ = writeln!(
            out,
            "\nSince the last run ({}): new {}; dropped out {}.",
            c.previous_published.get(..10).unwrap_or(""),
            list_or_none(&new),
            list_or_none(&gone)
        );
    }
    for t in r.track_record.iter().take(6) {
        let _ = writeln!(
            out,
            "Track record: picks of {} ({:.0} days ago): {} vs median stock {} ({} of {} beat it).",
            t.published.get(..10).unwrap_or(""),
            t.days,
            signed_percent(t.picks_return),
            signed_percent(t.universe_median),
            t.beat_median,
            t.picks_priced
        );
    }
    if !r.unranked.is_empty() {
        let _ = writeln!(out, "\nNot ranked: {} symbols (see results.json for each reason).", r.unranked.len());
    }
    let _ = writeln!(out, "\n{NOT_ADVICE}");
    match unsubscribe {
        super::Unsubscribe::Link(url) => _ = writeln!(out, "Unsubscribe: {url}"),
        super::Unsubscribe::ByMailService => _ = writeln!(out, "{}", super::UNSUBSCRIBE_BY_SERVICE),
    }
    out
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// Why `stockpicks explain` has no rank to explain. The texts come from a results.json,
/// which may come from anywhere: whoever shows them cleans them first.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExplainError {
    #[error("{symbol} was not ranked in run {run_id}: {reason}")]
    Unranked { symbol: Symbol, run_id: String, reason: String },
    #[error("{symbol} is not in run {run_id} ({universe_size} symbols)")]
    NotInRun { symbol: Symbol, run_id: String, universe_size: usize },
}

/// `stockpicks explain`: why a stock got its rank.
pub fn explain(r: &RunReport, symbol: &Symbol) -> Result<String, ExplainError> {
    let (stock, of, parts, total) = match r.explain(symbol) {
        Explanation::Ranked { stock, of, parts, total } => (stock, of, parts, total),
        Explanation::Unranked { reason } => {
            return Err(ExplainError::Unranked { symbol: symbol.clone(), run_id: r.run_id.clone(), reason: reason.to_string() })
        }
        Explanation::NotInRun => {
            return Err(ExplainError::NotInRun { symbol: symbol.clone(), run_id: r.run_id.clone(), universe_size: r.universe_size })
        }
    };
    let mut out = String::new();
    let _ = writeln!(out, "{} - {} ({}; {})", stock.symbol, stock.name, stock.sector, stock.sector_source.describe());
    let _ = writeln!(
        out,
        "Rank {} of {} in run {} - score {:.2} of 100 - data for {:.0}% of the model's weight",
        stock.rank,
        of,
        r.run_id,
        stock.score,
        (stock.coverage * 100.0).round()
    );
    let _ = writeln!(
        out,
        "Model {} ({}); percentiles are within the stock's GICS sector unless marked universe.\n",
        r.model.name, r.model.hash
    );
    let _ = writeln!(
        out,
        "{:<22} {:<9} {:>10} {:>10} {:<8} {:>7} {:>8} {:>8}",
        "factor", "group", "value", "percentile", "peers", "weight", "applied", "points"
    );
    for p in &parts {
        let value = match (factors::lookup(&p.factor), p.value) {
            (Some(def), Some(v)) => format_value(def.unit, v),
            _ => "missing".into(),
        };
        let peers = match p.peers {
            Some(Peers::Sector) => "sector",
            Some(Peers::Universe) => "universe",
            None => "-",
        };
        // Percentiles are stored to 2 decimals and shown so: no second rounding.
        let pct = p.percentile.map_or("-".to_string(), |x| format!("{x:.2}"));
        let _ = writeln!(
            out,
            "{:<22} {:<9} {:>10} {:>10} {:<8} {:>6.1}% {:>7.1}% {:>8.2}",
            p.factor,
            cut(&p.group, 9),
            value,
            pct,
            peers,
            p.weight * 100.0,
            p.applied_weight * 100.0,
            p.contribution
        );
    }
    match (stock.llm_score, &r.llm_scoring) {
        (Some(llm), Some(l)) if l.applied => {
            let _ = writeln!(out, "{:<22} {:>66.2}  (the data's score)", "total", total);
            let _ = writeln!(
                out,
                "LLM score {llm}/10 at {:.0}%: {:.0}% x {total:.2} + {:.0}% x {:.1} = {:.2} (not reproducible from the data alone)",
                l.weight * 100.0,
                (1.0 - l.weight) * 100.0,
                l.weight * 100.0,
                (llm as f64 - 1.0) / 9.0 * 100.0,
                stock.score
            );
        }
        _ => {
            let _ = writeln!(out, "{:<22} {:>66.2}  (= score {:.2}; the points are rounded for display)", "total", total, stock.score);
        }
    }
    let _ = writeln!(
        out,
        "\nGroups: {}",
        stock
            .group_scores
            .iter()
            .map(|(g, s)| {
                let grade = stock.grades.get(g).copied().flatten().map_or("-", |x| x.letter());
                format!("{g} {} ({grade})", s.map_or("-".to_string(), |x| format!("{x:.1}")))
            })
            .collect::<Vec<_>>()
            .join(", ")
    );
    if parts.iter().any(|p| p.percentile.is_none() && p.weight > 0.0) {
        let _ = writeln!(out, "Missing factors add nothing; their weight is spread over the factors of their group with data (and a group without data over the other groups).");
    }
    for p in parts.iter().filter(|p| p.percentile.is_none()) {
        if let Some(why) = stock.factors.get(&p.factor).and_then(|f| f.missing.as_deref()) {
            let _ = writeln!(out, "{} missing: {why}", p.factor);
        }
    }
    for rej in &stock.rejected {
        let _ = writeln!(out, "Set aside from the reply: {} {} ({}: {})", rej.field, rej.value, rej.rule, rej.reason);
    }
    for reason in &stock.reasons {
        let _ = writeln!(out, "- {reason}");
    }
    if let Some(c) = &stock.commentary {
        let _ = writeln!(out, "Commentary ({}): {c}", r.commentary.model.as_deref().unwrap_or("LLM"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::Model;
    use crate::domain::outcome::{ApiStats, FetchError};
    use crate::domain::report::{build, Fetched, ReportInputs};
    use crate::domain::scoring::Candidate;
    use crate::domain::source::DataSource;
    use crate::domain::universe::Universe;

    #[test]
    fn explain_says_why_there_is_no_rank_as_a_typed_error() {
        let u = Universe::sp500();
        let m = Model::default_model();
        let (failed, rest) = u.members.split_first().unwrap();
        let candidates = rest
            .iter()
            .map(|mem| Candidate { member: mem.clone(), fundamentals: crate::domain::testdata::fundamentals(3, mem.symbol.as_str()) });
        let fetched =
            Fetched { candidates: candidates.collect(), failures: vec![(failed.symbol.clone(), FetchError::DailyQuotaExhausted)] };
        let inputs = ReportInputs {
            run_id: "r1",
            now_unix: 1_795_863_909,
            data_source: DataSource::Simulator,
            universe: &u,
            model: &m,
            top: 25,
            min_run_coverage: 0.5,
            api: ApiStats::default(),
            elapsed_ms: 1,
            warnings: vec![],
        };
        let r = build(inputs, &fetched);
        assert!(explain(&r, &r.ranking[0].symbol).unwrap().contains("Rank 1 of"));
        match explain(&r, &failed.symbol).unwrap_err() {
            ExplainError::Unranked { symbol, run_id, reason } => {
                assert_eq!((symbol, run_id.as_str()), (failed.symbol.clone(), "r1"));
                assert!(reason.contains("daily quota"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let absent = Symbol::parse("ZZZZ").unwrap();
        let e = explain(&r, &absent).unwrap_err();
        assert_eq!(e, ExplainError::NotInRun { symbol: absent, run_id: "r1".into(), universe_size: u.len() });
        assert_eq!(e.to_string(), format!("ZZZZ is not in run r1 ({} symbols)", u.len()));
    }
}
