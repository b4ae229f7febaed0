//! Renderings of the report model: email-safe HTML, plain text, CSV, the terminal table,
//! and the MIME message that carries them.

pub mod csv;
pub mod html;
pub mod mime;
pub mod text;

use crate::domain::factors::{self, format_value};
use crate::domain::report::RunReport;
use crate::domain::scoring::RankedStock;

/// The disclaimer every rendering carries.
pub const NOT_ADVICE: &str =
    "This is not investment advice. Scores are mechanical rankings of reported fundamentals; do your own research.";

/// The line that says where the data came from and when.
pub fn data_line(r: &RunReport) -> String {
    let source = match r.data_source {
        crate::domain::report::DataSource::Alphavantage => "Alpha Vantage",
        crate::domain::report::DataSource::Simulator => "SYNTHETIC data from the built-in simulator (not real companies' figures)",
        crate::domain::report::DataSource::Fixtures => "recorded Alpha Vantage replies (fixtures)",
    };
    let quarter = r.data_date.latest_quarter.as_deref().map(|q| format!(", latest reported quarter {q}")).unwrap_or_default();
    format!(
        "Data: {source}, fetched {}{quarter}. Coverage: {} of {} symbols scored ({:.1}%). Model {} ({}).",
        r.data_date.fetched,
        r.coverage.scored,
        r.coverage.universe,
        r.coverage.ratio * 100.0,
        r.model.name,
        r.model.hash
    )
}

/// Which source the picks' commentary came from, and why.
pub fn commentary_line(r: &RunReport) -> String {
    match (r.commentary.source.as_str(), &r.commentary.model) {
        ("llm", Some(m)) => format!("Commentary: {} ({m}). The reasons listed below each are rule-based.", r.commentary.note),
        ("llm", None) => format!("Commentary: {}. The reasons listed below each are rule-based.", r.commentary.note),
        _ => format!("Reasons: {}.", r.commentary.note),
    }
}

/// A return as "+1.2%" or "-0.4%"; "n/a" when missing.
pub fn signed_percent(x: Option<f64>) -> String {
    x.map_or("n/a".to_string(), |v| format!("{:+.1}%", v * 100.0))
}

/// "A B C A -" for the groups in name order (as `grades` is keyed).
pub fn grade_string(s: &RankedStock) -> String {
    s.grades.values().map(|g| g.map(|g| g.letter()).unwrap_or("-")).collect::<Vec<_>>().join(" ")
}

/// A factor's raw value for people, or "n/a".
pub fn factor_value(s: &RankedStock, name: &str) -> String {
    match (factors::lookup(name), s.factors.get(name).and_then(|f| f.value)) {
        (Some(def), Some(v)) => format_value(def.unit, v),
        _ => "n/a".to_string(),
    }
}
