//! Ticker symbols: parsed once at the edge, so nothing malformed ever reaches a URL,
//! a file name or an S3 key.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A validated ticker in Alpha Vantage form (`BRK-B`, not `BRK.B`).
///
/// Accepted: 1-10 characters, upper-case ASCII letters and digits, with at most one
/// class separator (`.` or `-`, both stored as `-`) that is neither first nor last.
/// That is enough for every S&P 500 and US-listed common stock, and it rules out
/// anything that could change the meaning of a query string or a path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Symbol(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid ticker {shown:?}: {why}")]
pub struct SymbolError {
    /// The offending input, cut short and with control characters escaped by `{:?}`.
    pub shown: String,
    pub why: &'static str,
}

impl Symbol {
    pub const MAX_LEN: usize = 10;

    /// Parses index form (`BRK.B`) or Alpha Vantage form (`BRK-B`), trimming spaces and
    /// upper-casing letters.
    pub fn parse(input: &str) -> Result<Symbol, SymbolError> {
        let trimmed = input.trim();
        let err = |why| SymbolError { shown: trimmed.chars().take(24).collect(), why };
        if trimmed.is_empty() {
            return Err(err("empty"));
        }
        if trimmed.chars().count() > Self::MAX_LEN {
            return Err(err("longer than 10 characters"));
        }
        let mut out = String::with_capacity(trimmed.len());
        let mut separators = 0;
        for c in trimmed.chars() {
            match c {
                'A'..='Z' | '0'..='9' => out.push(c),
                'a'..='z' => out.push(c.to_ascii_uppercase()),
                '.' | '-' => {
                    separators += 1;
                    out.push('-');
                }
                _ => return Err(err("only letters, digits and one '.' or '-' are allowed")),
            }
        }
        if separators > 1 {
            return Err(err("more than one class separator"));
        }
        if out.starts_with('-') || out.ends_with('-') {
            return Err(err("a class separator must sit between letters"));
        }
        if !out.chars().any(|c| c.is_ascii_alphabetic()) {
            return Err(err("no letter"));
        }
        Ok(Symbol(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form index lists use (`BRK.B`).
    pub fn index_form(&self) -> String {
        self.0.replace('-', ".")
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Symbol {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Symbol::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Parses a list of tickers, keeping the first occurrence of each and the order given.
/// Bad tickers are returned by name, never dropped silently.
pub fn parse_list<'a, I: IntoIterator<Item = &'a str>>(items: I) -> (Vec<Symbol>, Vec<SymbolError>) {
    let mut seen = std::collections::HashSet::new();
    let mut good = Vec::new();
    let mut bad = Vec::new();
    let mut seen_bad = std::collections::HashSet::new();
    for item in items {
        if item.trim().is_empty() {
            continue;
        }
        match Symbol::parse(item) {
            Ok(s) => {
                if seen.insert(s.clone()) {
                    good.push(s);
                }
            }
            // A bad ticker given many times is reported once.
            Err(e) => {
                if seen_bad.insert((e.shown.clone(), e.why)) {
                    bad.push(e)
                }
            }
        }
    }
    (good, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_form_maps_to_alpha_vantage_form() {
        assert_eq!(Symbol::parse("BRK.B").unwrap().as_str(), "BRK-B");
        assert_eq!(Symbol::parse("brk-b").unwrap().as_str(), "BRK-B");
        assert_eq!(Symbol::parse(" aapl ").unwrap().as_str(), "AAPL");
        assert_eq!(Symbol::parse("BF.B").unwrap().index_form(), "BF.B");
    }

    #[test]
    fn injection_looking_tickers_are_refused() {
        for bad in ["AAPL&function=X", "../x", "<b>", "A B", "", "-A", "A-", "A.B.C", "TOOLONGTICKER", "1234", "A/B", "A%20"] {
            let e = Symbol::parse(bad).unwrap_err();
            assert!(e.to_string().contains("invalid ticker"), "{bad}: {e}");
        }
    }

    #[test]
    fn list_parsing_dedupes_and_reports_bad_by_name() {
        let (good, bad) = parse_list(["AAPL", "MSFT", "aapl", "<b>", "BRK.B", "BRK-B", ""]);
        let names: Vec<_> = good.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["AAPL", "MSFT", "BRK-B"]);
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].shown, "<b>");
    }
}
