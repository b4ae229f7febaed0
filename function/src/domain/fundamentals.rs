//! Company fundamentals as Alpha Vantage's OVERVIEW reports them, with its quirks removed:
//! every value arrives as a string, missing is `"None"`, `"-"` or `""`, and a `"0"` means
//! missing for ratios that cannot be zero. Every field is optional; nothing is filled in.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Numeric OVERVIEW fields the scoring model can use. `zero_is_missing` marks ratios and
/// prices for which `"0"` is Alpha Vantage's way of saying "not available".
pub const NUMERIC_FIELDS: &[(&str, bool)] = &[
    ("MarketCapitalization", true),
    ("EBITDA", false),
    ("PERatio", true),
    ("PEGRatio", true),
    ("BookValue", false),
    ("DividendPerShare", false),
    ("DividendYield", false),
    ("EPS", false),
    ("DilutedEPSTTM", false),
    ("RevenuePerShareTTM", false),
    ("ProfitMargin", false),
    ("OperatingMarginTTM", false),
    ("ReturnOnAssetsTTM", false),
    ("ReturnOnEquityTTM", false),
    ("RevenueTTM", false),
    ("GrossProfitTTM", false),
    ("QuarterlyEarningsGrowthYOY", false),
    ("QuarterlyRevenueGrowthYOY", false),
    ("AnalystTargetPrice", true),
    ("AnalystRatingStrongBuy", false),
    ("AnalystRatingBuy", false),
    ("AnalystRatingHold", false),
    ("AnalystRatingSell", false),
    ("AnalystRatingStrongSell", false),
    ("TrailingPE", true),
    ("ForwardPE", true),
    ("PriceToSalesRatioTTM", true),
    ("PriceToBookRatio", true),
    ("EVToRevenue", true),
    ("EVToEBITDA", true),
    ("Beta", false),
    ("52WeekHigh", true),
    ("52WeekLow", true),
    ("50DayMovingAverage", true),
    ("200DayMovingAverage", true),
    ("SharesOutstanding", true),
];

/// Parsed fundamentals of one company. Numbers are kept by their OVERVIEW field name so
/// that a new or vanished field in a schema change costs nothing but its own factor.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Fundamentals {
    pub name: Option<String>,
    /// Alpha Vantage's SIC-style sector ("TECHNOLOGY"); scoring uses the GICS sector instead.
    pub av_sector: Option<String>,
    pub currency: Option<String>,
    pub latest_quarter: Option<String>,
    pub numbers: BTreeMap<String, f64>,
    /// Price from GLOBAL_QUOTE when one was fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_price: Option<f64>,
    /// Fields that were present but unreadable, with their raw text (cut short).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<(String, String)>,
}

/// How a raw OVERVIEW string reads.
#[derive(Debug, PartialEq)]
pub enum Cell {
    Missing,
    Number(f64),
    Unreadable,
}

/// Reads one OVERVIEW value. `"None"`, `"-"`, `""`, `"N/A"` are missing; a `"0"` is missing
/// when `zero_is_missing`. Non-finite numbers are unreadable, never a value.
pub fn read_cell(raw: &str, zero_is_missing: bool) -> Cell {
    let t = raw.trim();
    if t.is_empty() || matches!(t, "None" | "-" | "N/A" | "NA" | "null") {
        return Cell::Missing;
    }
    match t.parse::<f64>() {
        Ok(v) if !v.is_finite() => Cell::Unreadable,
        Ok(v) if v == 0.0 && zero_is_missing => Cell::Missing,
        Ok(v) => Cell::Number(v),
        Err(_) => Cell::Unreadable,
    }
}

impl Fundamentals {
    /// Builds fundamentals from the JSON object of an OVERVIEW reply. Non-string values
    /// (a schema change, or a reply that is not OVERVIEW at all) are read leniently:
    /// numbers as numbers, anything else as unreadable.
    pub fn from_overview(obj: &serde_json::Map<String, serde_json::Value>) -> Fundamentals {
        let text = |k: &str| -> Option<String> {
            obj.get(k).and_then(|v| v.as_str()).map(str::trim).filter(|s| !matches!(*s, "" | "None" | "-")).map(String::from)
        };
        let mut f = Fundamentals {
            name: text("Name"),
            av_sector: text("Sector"),
            currency: text("Currency"),
            latest_quarter: text("LatestQuarter"),
            ..Default::default()
        };
        for (field, zero_is_missing) in NUMERIC_FIELDS {
            let cell = match obj.get(*field) {
                None | Some(serde_json::Value::Null) => Cell::Missing,
                Some(serde_json::Value::String(s)) => read_cell(s, *zero_is_missing),
                Some(serde_json::Value::Number(n)) => match n.as_f64() {
                    Some(v) if v == 0.0 && *zero_is_missing => Cell::Missing,
                    Some(v) if v.is_finite() => Cell::Number(v),
                    _ => Cell::Unreadable,
                },
                Some(_) => Cell::Unreadable,
            };
            match cell {
                Cell::Number(v) => {
                    f.numbers.insert((*field).to_string(), v);
                }
                Cell::Unreadable => {
                    let raw = obj.get(*field).map(|v| v.to_string()).unwrap_or_default();
                    f.unreadable.push(((*field).to_string(), raw.chars().take(40).collect()));
                }
                Cell::Missing => {}
            }
        }
        f
    }

    pub fn get(&self, field: &str) -> Option<f64> {
        self.numbers.get(field).copied()
    }

    /// The price used for price-based factors: the quote when one was fetched, else
    /// market capitalisation over shares outstanding.
    pub fn price(&self) -> Option<f64> {
        if let Some(p) = self.quote_price.filter(|p| *p > 0.0) {
            return Some(p);
        }
        match (self.get("MarketCapitalization"), self.get("SharesOutstanding")) {
            (Some(cap), Some(shares)) if cap > 0.0 && shares > 0.0 => Some(cap / shares),
            _ => None,
        }
    }

    /// Share of the numeric fields that carry a value (0-1), for data-quality reporting.
    pub fn field_coverage(&self) -> f64 {
        self.numbers.len() as f64 / NUMERIC_FIELDS.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(json: &str) -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn missing_markers_and_meaningless_zero() {
        assert_eq!(read_cell("None", false), Cell::Missing);
        assert_eq!(read_cell("-", false), Cell::Missing);
        assert_eq!(read_cell("", false), Cell::Missing);
        assert_eq!(read_cell("0", true), Cell::Missing);
        assert_eq!(read_cell("0", false), Cell::Number(0.0));
        assert_eq!(read_cell("0.243", false), Cell::Number(0.243));
        assert_eq!(read_cell("-0.338", false), Cell::Number(-0.338));
        assert_eq!(read_cell("NaN", false), Cell::Unreadable);
        assert_eq!(read_cell("inf", false), Cell::Unreadable);
        assert_eq!(read_cell("12%", false), Cell::Unreadable);
    }

    #[test]
    fn numbers_parse_exactly() {
        // 0.1 + 0.2 style drift would show here: the parsed value is the nearest double.
        let f = Fundamentals::from_overview(&obj(r#"{"ProfitMargin":"0.243","MarketCapitalization":"3352782701000"}"#));
        assert_eq!(f.get("ProfitMargin"), Some(0.243));
        assert_eq!(f.get("MarketCapitalization"), Some(3_352_782_701_000.0));
    }

    #[test]
    fn pe_zero_is_missing_but_growth_zero_is_a_value() {
        let f = Fundamentals::from_overview(&obj(
            r#"{"PEGRatio":"0","PERatio":"0","QuarterlyRevenueGrowthYOY":"0","AnalystRatingSell":"0","EVToEBITDA":"-"}"#,
        ));
        assert_eq!(f.get("PEGRatio"), None);
        assert_eq!(f.get("PERatio"), None);
        assert_eq!(f.get("EVToEBITDA"), None);
        assert_eq!(f.get("QuarterlyRevenueGrowthYOY"), Some(0.0));
        assert_eq!(f.get("AnalystRatingSell"), Some(0.0));
    }

    #[test]
    fn price_prefers_quote_then_derives() {
        let mut f = Fundamentals::from_overview(&obj(r#"{"MarketCapitalization":"1000","SharesOutstanding":"10"}"#));
        assert_eq!(f.price(), Some(100.0));
        f.quote_price = Some(101.5);
        assert_eq!(f.price(), Some(101.5));
        let none = Fundamentals::from_overview(&obj(r#"{"MarketCapitalization":"1000","SharesOutstanding":"None"}"#));
        assert_eq!(none.price(), None);
    }

    #[test]
    fn unexpected_types_are_reported_not_used() {
        let f = Fundamentals::from_overview(&obj(r#"{"EPS":[1,2],"Beta":1.2,"BookValue":null}"#));
        assert_eq!(f.get("EPS"), None);
        assert_eq!(f.get("Beta"), Some(1.2));
        assert_eq!(f.unreadable.len(), 1);
        assert_eq!(f.unreadable[0].0, "EPS");
    }
}
