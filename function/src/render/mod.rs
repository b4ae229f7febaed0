//! Renderings of the report model: email-safe HTML, plain text, CSV, the terminal table,
//! and the MIME message that carries them.

pub mod csv;
pub mod html;
pub mod mime;
pub mod summary;
pub mod text;

use crate::domain::factors::{self, format_value};
use crate::domain::report::RunReport;
use crate::domain::scoring::RankedStock;

/// How a reader leaves the list, as the message says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unsubscribe<'a> {
    /// A `mailto:` or `https:` URL: shown in the text and HTML and sent as
    /// `List-Unsubscribe`.
    Link(&'a str),
    /// The mail service adds the headers and the link (SES with a contact list): the
    /// message points at them and carries none of its own.
    ByMailService,
}

/// What the text and HTML say when SES adds the unsubscribe link.
pub const UNSUBSCRIBE_BY_SERVICE: &str = "To stop receiving these emails, use the unsubscribe link at the end of this message.";

/// The disclaimer every rendering carries.
pub const NOT_ADVICE: &str =
    "This is not investment advice. Scores are mechanical rankings of reported fundamentals; do your own research.";

/// The line that says where the data came from and when.
pub fn data_line(r: &RunReport) -> String {
    let source = match r.data_source {
        crate::domain::source::DataSource::Alphavantage => "Alpha Vantage",
        crate::domain::source::DataSource::Simulator => "SYNTHETIC data from the built-in simulator (not real companies' figures)",
        crate::domain::source::DataSource::Fixtures => "recorded Alpha Vantage replies (fixtures)",
    };
    let quarter = r.data_date.latest_quarter.as_deref().map(|q| format!(", latest reported quarter {q}")).unwrap_or_default();
    let mut line = format!(
        "Data: {source}, fetched {}{quarter}. Coverage: {} of {} symbols scored ({:.1}%). Model {} ({}).",
        r.data_date.fetched,
        r.coverage.scored,
        r.coverage.universe,
        r.coverage.ratio * 100.0,
        r.model.name,
        r.model.hash
    );
    line.push_str(&peer_line(r));
    line
}

/// Which ranked stocks were not in the universe file, and what they were ranked against:
/// " Peers: 11 symbols not in the universe file take a GICS sector mapped from Alpha
/// Vantage's industry (ATAI, ...); 2 are ranked against the whole universe (X, Y)."
pub fn peer_line(r: &RunReport) -> String {
    use crate::domain::sectors::SectorSource;
    let list = |want: fn(&SectorSource) -> bool| -> Vec<&str> {
        r.ranking.iter().filter(|p| want(&p.sector_source)).map(|p| p.symbol.as_str()).collect()
    };
    let mapped = list(|s| matches!(s, SectorSource::AlphaVantage { .. }));
    let none = list(|s| *s == SectorSource::None);
    let short = |v: &[&str]| if v.len() > 8 { format!("{}, ...", v[..8].join(", ")) } else { v.join(", ") };
    let mut parts = Vec::new();
    if !mapped.is_empty() {
        parts.push(format!(
            "{} not in the universe file take a GICS sector mapped from Alpha Vantage's industry ({})",
            mapped.len(),
            short(&mapped)
        ));
    }
    if !none.is_empty() {
        parts.push(format!("{} with no sector are ranked against the whole universe ({})", none.len(), short(&none)));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" Peers: {}.", parts.join("; "))
    }
}

/// Which source the picks' commentary came from, and why.
pub fn commentary_line(r: &RunReport) -> String {
    match (r.commentary.source.as_str(), &r.commentary.model) {
        ("llm", Some(m)) => format!("LLM {} ({m}). The reasons listed below each are rule-based.", r.commentary.note),
        ("llm", None) => format!("LLM {}. The reasons listed below each are rule-based.", r.commentary.note),
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
