//! The universe: which companies a run scores, with their GICS sector and a company key
//! that ties share classes of one company together (GOOGL/GOOG, FOXA/FOX, NWSA/NWS).
//!
//! Two CSV forms are read: our shipped file (`symbol,company,sector,cik`) and the public
//! constituents list (`Symbol,Security,GICS Sector,...,CIK,...`). Columns are found by
//! header name, so extra or reordered columns do not matter.

use super::symbol::{Symbol, SymbolError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// The S&P 500 list shipped with the program (written by `stockpicks universe refresh`).
pub const SP500_CSV: &str = include_str!("../../data/sp500.csv");

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub symbol: Symbol,
    pub name: String,
    /// GICS sector, as the index provider spells it ("Information Technology"); empty when
    /// the file has none (scoring then maps one from the reply, see `sectors`).
    pub sector: String,
    /// SEC CIK when known: share classes of one company share it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cik: Option<String>,
}

impl Member {
    /// The key that identifies the company behind this listing.
    /// A CIK is all digits, so it never collides with the `name:` form.
    pub fn company_key(&self) -> std::borrow::Cow<'_, str> {
        match &self.cik {
            Some(cik) if !cik.is_empty() => std::borrow::Cow::Borrowed(cik.trim_start_matches('0')),
            _ => std::borrow::Cow::Owned(format!("name:{}", strip_share_class(&self.name).to_ascii_lowercase())),
        }
    }
}

/// "Alphabet Inc. (Class A)" -> "Alphabet Inc."
fn strip_share_class(name: &str) -> &str {
    match name.find("(Class") {
        Some(i) => name[..i].trim_end(),
        None => name.trim(),
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Universe {
    pub members: Vec<Member>,
}

/// What was wrong with a universe file, row by row; the good rows are still usable.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct UniverseIssues {
    pub bad_symbols: Vec<(usize, SymbolError)>,
    pub duplicates: Vec<(usize, Symbol)>,
    pub missing_sector: Vec<Symbol>,
}

impl UniverseIssues {
    pub fn is_empty(&self) -> bool {
        self.bad_symbols.is_empty() && self.duplicates.is_empty() && self.missing_sector.is_empty()
    }

    /// One line per problem, for the terminal and the report.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (row, e) in &self.bad_symbols {
            out.push(format!("row {row}: {e}; skipped"));
        }
        for (row, s) in &self.duplicates {
            out.push(format!("row {row}: duplicate of {s}; skipped"));
        }
        for s in &self.missing_sector {
            out.push(format!("{s}: no sector; mapped from the Alpha Vantage reply, else scored against the whole universe"));
        }
        out
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UniverseError {
    #[error("universe file: missing column {wanted} (looked for one of: {})", .candidates.join(", "))]
    MissingColumn { wanted: &'static str, candidates: Vec<&'static str> },
    #[error("universe file: {0}")]
    Csv(String),
    #[error("universe file has no usable rows")]
    Empty,
}

const SYMBOL_COLS: &[&str] = &["symbol", "ticker"];
const NAME_COLS: &[&str] = &["security", "company", "name"];
const SECTOR_COLS: &[&str] = &["gics sector", "sector"];
const CIK_COLS: &[&str] = &["cik"];

/// The sector of members whose file row has none: empty, never a peer group of its own.
pub const UNKNOWN_SECTOR: &str = "";

impl Universe {
    pub fn sp500() -> Universe {
        Universe::from_csv(SP500_CSV).expect("shipped sp500.csv is valid").0
    }

    /// Parses either CSV form. Rows with a bad ticker or a repeated ticker are skipped and
    /// reported; missing required columns are an error.
    pub fn from_csv(text: &str) -> Result<(Universe, UniverseIssues), UniverseError> {
        let mut rdr = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
        let headers: Vec<String> = rdr
            .headers()
            .map_err(|e| UniverseError::Csv(e.to_string()))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect();
        let find = |wanted: &'static str, cands: &'static [&'static str]| {
            headers
                .iter()
                .position(|h| cands.contains(&h.as_str()))
                .ok_or(UniverseError::MissingColumn { wanted, candidates: cands.to_vec() })
        };
        let sym_i = find("symbol", SYMBOL_COLS)?;
        let name_i = find("company name", NAME_COLS)?;
        let sector_i = find("sector", SECTOR_COLS)?;
        let cik_i = find("cik", CIK_COLS).ok();

        let mut issues = UniverseIssues::default();
        let mut seen = std::collections::HashSet::new();
        let mut members = Vec::new();
        for (i, rec) in rdr.records().enumerate() {
            let row = i + 2; // 1-based, after the header
            let rec = rec.map_err(|e| UniverseError::Csv(format!("row {row}: {e}")))?;
            // Names and sectors pass the cleaning step where they enter: no control
            // characters or bidi overrides reach a terminal, the CSV or an email.
            let field = |j: usize| crate::sanitize::clean_short(rec.get(j).unwrap_or(""), 200);
            let symbol = match Symbol::parse(rec.get(sym_i).unwrap_or("")) {
                Ok(s) => s,
                Err(e) => {
                    issues.bad_symbols.push((row, e));
                    continue;
                }
            };
            if !seen.insert(symbol.clone()) {
                issues.duplicates.push((row, symbol));
                continue;
            }
            let mut sector = field(sector_i);
            if sector.is_empty() {
                issues.missing_sector.push(symbol.clone());
                sector = UNKNOWN_SECTOR.to_string();
            }
            let cik = cik_i.map(field).filter(|c| !c.is_empty());
            members.push(Member { symbol, name: field(name_i), sector, cik });
        }
        if members.is_empty() {
            return Err(UniverseError::Empty);
        }
        Ok((Universe { members }, issues))
    }

    /// Our shipped form: `symbol,company,sector,cik`, sorted by symbol, index-form tickers.
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["symbol", "company", "sector", "cik"]).expect("write to Vec");
        let mut members: Vec<&Member> = self.members.iter().collect();
        members.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        for m in members {
            w.write_record([m.symbol.index_form().as_str(), &m.name, &m.sector, m.cik.as_deref().unwrap_or("")]).expect("write to Vec");
        }
        String::from_utf8(w.into_inner().expect("flush Vec")).expect("utf-8 in, utf-8 out")
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn symbols(&self) -> Vec<Symbol> {
        self.members.iter().map(|m| m.symbol.clone()).collect()
    }

    pub fn get(&self, s: &Symbol) -> Option<&Member> {
        self.members.iter().find(|m| &m.symbol == s)
    }

    /// Restricts to `symbols` (in the order given). Symbols the universe does not know are
    /// kept with no sector and their own ticker as name: the data may still name them, and
    /// scoring maps their sector from the reply.
    pub fn select(&self, symbols: &[Symbol]) -> Universe {
        let by_symbol: HashMap<&Symbol, &Member> = self.members.iter().map(|m| (&m.symbol, m)).collect();
        let members = symbols
            .iter()
            .map(|s| match by_symbol.get(s) {
                Some(m) => (*m).clone(),
                None => Member { symbol: s.clone(), name: s.to_string(), sector: UNKNOWN_SECTOR.into(), cik: None },
            })
            .collect();
        Universe { members }
    }

    /// Symbols that joined and left between `self` (old) and `new`.
    pub fn diff(&self, new: &Universe) -> (Vec<Symbol>, Vec<Symbol>) {
        let old: BTreeSet<&Symbol> = self.members.iter().map(|m| &m.symbol).collect();
        let newer: BTreeSet<&Symbol> = new.members.iter().map(|m| &m.symbol).collect();
        let joined = newer.difference(&old).map(|s| (*s).clone()).collect();
        let left = old.difference(&newer).map(|s| (*s).clone()).collect();
        (joined, left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &str = "Symbol,Security,GICS Sector,GICS Sub-Industry,Headquarters Location,Date added,CIK,Founded\n\
        GOOGL,Alphabet Inc. (Class A),Communication Services,Interactive Media,\"Mountain View, California\",2014-04-03,1652044,1998\n\
        GOOG,Alphabet Inc. (Class C),Communication Services,Interactive Media,\"Mountain View, California\",2006-04-03,1652044,1998\n\
        BRK.B,Berkshire Hathaway,Financials,Multi-Sector Holdings,\"Omaha, Nebraska\",2010-02-16,1067983,1839\n\
        GOOG,Alphabet again,Communication Services,x,y,z,1652044,1998\n\
        AAPL&function=X,Evil,Information Technology,x,y,z,1,2\n";

    #[test]
    fn reads_public_constituents_format() {
        let (u, issues) = Universe::from_csv(PUBLIC).unwrap();
        assert_eq!(u.len(), 3);
        let brk = u.get(&Symbol::parse("BRK-B").unwrap()).unwrap();
        assert_eq!(brk.sector, "Financials");
        assert_eq!(issues.duplicates.len(), 1);
        assert_eq!(issues.bad_symbols.len(), 1);
        assert!(issues.lines()[0].contains("AAPL&function=X"), "{:?}", issues.lines());
        assert_eq!(u.members[0].company_key(), u.members[1].company_key());
        assert_ne!(u.members[0].company_key(), u.members[2].company_key());
    }

    #[test]
    fn share_classes_match_by_name_without_cik() {
        let a = Member { symbol: Symbol::parse("FOXA").unwrap(), name: "Fox Corporation (Class A)".into(), sector: "x".into(), cik: None };
        let b = Member { symbol: Symbol::parse("FOX").unwrap(), name: "Fox Corporation (Class B)".into(), sector: "x".into(), cik: None };
        assert_eq!(a.company_key(), b.company_key());
    }

    #[test]
    fn missing_column_is_named() {
        let e = Universe::from_csv("Symbol,Security\nAAPL,Apple\n").unwrap_err();
        assert!(e.to_string().contains("missing column sector"), "{e}");
    }

    #[test]
    fn round_trips_through_our_format() {
        let (u, _) = Universe::from_csv(PUBLIC).unwrap();
        let (again, issues) = Universe::from_csv(&u.to_csv()).unwrap();
        assert!(issues.is_empty());
        let mut sorted = u.members.clone();
        sorted.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        assert_eq!(again.members, sorted);
    }

    #[test]
    fn shipped_list_is_the_sp500() {
        let u = Universe::sp500();
        assert!((480..=520).contains(&u.len()), "{}", u.len());
        assert!(u.get(&Symbol::parse("BRK.B").unwrap()).is_some());
        let sectors: BTreeSet<&str> = u.members.iter().map(|m| m.sector.as_str()).collect();
        assert_eq!(sectors.len(), 11, "{sectors:?}");
    }
}
