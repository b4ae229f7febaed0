//! Company fundamentals as Alpha Vantage's OVERVIEW reports them, with its quirks removed:
//! every value arrives as a string, missing is `"None"`, `"-"` or `""`, and a `"0"` means
//! missing for ratios that cannot be zero. Every field is optional; nothing is filled in.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

macro_rules! fields {
    ($($id:ident = $name:literal, $zero_is_missing:literal;)*) => {
        /// Numeric OVERVIEW fields the scoring model can use, by their OVERVIEW name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Field { $($id),* }

        impl Field {
            pub const ALL: &'static [Field] = &[$(Field::$id),*];

            /// The OVERVIEW key.
            pub fn name(self) -> &'static str {
                match self { $(Field::$id => $name),* }
            }

            /// True for ratios and prices for which `"0"` is Alpha Vantage's way of
            /// saying "not available".
            pub fn zero_is_missing(self) -> bool {
                match self { $(Field::$id => $zero_is_missing),* }
            }
        }
    };
}

fields! {
    MarketCapitalization = "MarketCapitalization", true;
    Ebitda = "EBITDA", false;
    PeRatio = "PERatio", true;
    PegRatio = "PEGRatio", true;
    BookValue = "BookValue", false;
    DividendPerShare = "DividendPerShare", false;
    DividendYield = "DividendYield", false;
    Eps = "EPS", false;
    DilutedEpsTtm = "DilutedEPSTTM", false;
    RevenuePerShareTtm = "RevenuePerShareTTM", false;
    ProfitMargin = "ProfitMargin", false;
    OperatingMarginTtm = "OperatingMarginTTM", false;
    ReturnOnAssetsTtm = "ReturnOnAssetsTTM", false;
    ReturnOnEquityTtm = "ReturnOnEquityTTM", false;
    RevenueTtm = "RevenueTTM", false;
    GrossProfitTtm = "GrossProfitTTM", false;
    QuarterlyEarningsGrowthYoy = "QuarterlyEarningsGrowthYOY", false;
    QuarterlyRevenueGrowthYoy = "QuarterlyRevenueGrowthYOY", false;
    AnalystTargetPrice = "AnalystTargetPrice", true;
    AnalystRatingStrongBuy = "AnalystRatingStrongBuy", false;
    AnalystRatingBuy = "AnalystRatingBuy", false;
    AnalystRatingHold = "AnalystRatingHold", false;
    AnalystRatingSell = "AnalystRatingSell", false;
    AnalystRatingStrongSell = "AnalystRatingStrongSell", false;
    TrailingPe = "TrailingPE", true;
    ForwardPe = "ForwardPE", true;
    PriceToSalesRatioTtm = "PriceToSalesRatioTTM", true;
    PriceToBookRatio = "PriceToBookRatio", true;
    EvToRevenue = "EVToRevenue", true;
    EvToEbitda = "EVToEBITDA", true;
    Beta = "Beta", false;
    Week52High = "52WeekHigh", true;
    Week52Low = "52WeekLow", true;
    Ma50 = "50DayMovingAverage", true;
    Ma200 = "200DayMovingAverage", true;
    SharesOutstanding = "SharesOutstanding", true;
}

const N_FIELDS: usize = Field::ALL.len();

/// Field values in `Field` order; serialised as a map from OVERVIEW name to number, so a
/// stored chunk stays readable and survives a reordering of the enum.
#[derive(Clone, Debug, PartialEq)]
pub struct Numbers([Option<f64>; N_FIELDS]);

impl Default for Numbers {
    fn default() -> Self {
        Numbers([None; N_FIELDS])
    }
}

impl Numbers {
    pub fn get(&self, f: Field) -> Option<f64> {
        self.0[f as usize]
    }

    pub fn set(&mut self, f: Field, v: Option<f64>) {
        self.0[f as usize] = v;
    }

    pub fn len(&self) -> usize {
        self.0.iter().filter(|v| v.is_some()).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Serialize for Numbers {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let map: BTreeMap<&str, f64> = Field::ALL.iter().filter_map(|f| self.get(*f).map(|v| (f.name(), v))).collect();
        map.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Numbers {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, f64>::deserialize(d)?;
        let mut n = Numbers::default();
        for f in Field::ALL {
            n.set(*f, map.get(f.name()).copied());
        }
        Ok(n)
    }
}

/// Parsed fundamentals of one company. Every number is optional: a field that a schema
/// change removes costs nothing but the factors that use it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Fundamentals {
    pub name: Option<String>,
    /// Alpha Vantage's SIC-style sector ("TECHNOLOGY"); scoring uses the GICS sector instead.
    pub av_sector: Option<String>,
    pub currency: Option<String>,
    pub latest_quarter: Option<String>,
    pub numbers: Numbers,
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
        // Every text passes the one cleaning step where it enters: no control characters,
        // no bidi overrides, no configured secret; and a name is at most 200 characters.
        let text = |k: &str| -> Option<String> {
            obj.get(k)
                .and_then(|v| v.as_str())
                .map(|s| crate::sanitize::clean_short(s, 200))
                .filter(|s| !matches!(s.as_str(), "" | "None" | "-"))
        };
        let mut f = Fundamentals {
            name: text("Name"),
            av_sector: text("Sector"),
            currency: text("Currency"),
            latest_quarter: text("LatestQuarter"),
            ..Default::default()
        };
        for field in Field::ALL {
            let zero_is_missing = &field.zero_is_missing();
            let cell = match obj.get(field.name()) {
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
                Cell::Number(v) => f.numbers.set(*field, Some(v)),
                Cell::Unreadable => {
                    let raw = obj.get(field.name()).map(|v| v.to_string()).unwrap_or_default();
                    f.unreadable.push((field.name().to_string(), crate::sanitize::clean_short(&raw, 40)));
                }
                Cell::Missing => {}
            }
        }
        f
    }

    pub fn get(&self, field: Field) -> Option<f64> {
        self.numbers.get(field)
    }

    /// A value by its OVERVIEW name (`None` for names that are not numeric fields).
    pub fn value(&self, name: &str) -> Option<f64> {
        Field::ALL.iter().find(|f| f.name() == name).and_then(|f| self.get(*f))
    }

    /// The price used for price-based factors: the quote when one was fetched, else
    /// market capitalisation over shares outstanding.
    pub fn price(&self) -> Option<f64> {
        if let Some(p) = self.quote_price.filter(|p| *p > 0.0) {
            return Some(p);
        }
        match (self.get(Field::MarketCapitalization), self.get(Field::SharesOutstanding)) {
            (Some(cap), Some(shares)) if cap > 0.0 && shares > 0.0 => Some(cap / shares),
            _ => None,
        }
    }
}

impl Fundamentals {
    /// The same fundamentals with every text cleaned again (for data read back from a
    /// store, which an older version or another hand may have written).
    pub fn sanitized(mut self) -> Fundamentals {
        let clean = |s: Option<String>| s.map(|s| crate::sanitize::clean_short(&s, 200));
        self.name = clean(self.name);
        self.av_sector = clean(self.av_sector);
        self.currency = clean(self.currency);
        self.latest_quarter = clean(self.latest_quarter);
        for (k, v) in &mut self.unreadable {
            *k = crate::sanitize::clean_short(k, 40);
            *v = crate::sanitize::clean_short(v, 40);
        }
        self
    }

    /// The same company at price `p1`: fields that do not depend on the price (margins,
    /// returns, growth, EPS, book value, analyst counts and target, moving averages) stay;
    /// the price-dependent ones are recomputed: market value, P/E-type ratios, P/S, P/B,
    /// dividend yield, EV (= old EV + change in market value) and its ratios, and the 52-week
    /// range if the new price lies outside it.
    pub fn repriced(&self, p1: f64) -> Fundamentals {
        let mut f = self.clone();
        let p0 = self.price();
        f.quote_price = Some(p1);
        let Some(p0) = p0.filter(|p| *p > 0.0 && p1 > 0.0) else { return f };
        let k = p1 / p0;
        let scale = |f: &mut Fundamentals, field: Field, by: f64| {
            if let Some(v) = f.get(field) {
                f.numbers.set(field, Some(v * by));
            }
        };
        let old_cap = self.get(Field::MarketCapitalization);
        for field in [
            Field::MarketCapitalization,
            Field::PeRatio,
            Field::PegRatio,
            Field::TrailingPe,
            Field::ForwardPe,
            Field::PriceToSalesRatioTtm,
            Field::PriceToBookRatio,
        ] {
            scale(&mut f, field, k);
        }
        scale(&mut f, Field::DividendYield, 1.0 / k);
        let ebitda = self.get(Field::Ebitda).filter(|e| *e != 0.0);
        let revenue = self.get(Field::RevenueTtm).filter(|r| *r > 0.0);
        let ev0 = match (self.get(Field::EvToEbitda), ebitda, self.get(Field::EvToRevenue), revenue) {
            (Some(m), Some(e), _, _) => Some(m * e),
            (_, _, Some(m), Some(r)) => Some(m * r),
            _ => None,
        };
        match (ev0, old_cap) {
            (Some(ev0), Some(cap)) => {
                let ev1 = ev0 + cap * (k - 1.0);
                f.numbers.set(Field::EvToEbitda, self.get(Field::EvToEbitda).and(ebitda).map(|e| ev1 / e));
                f.numbers.set(Field::EvToRevenue, self.get(Field::EvToRevenue).and(revenue).map(|r| ev1 / r));
            }
            _ => {
                // Without the market value the EV cannot be moved: better missing than stale.
                f.numbers.set(Field::EvToEbitda, None);
                f.numbers.set(Field::EvToRevenue, None);
            }
        }
        if let Some(h) = self.get(Field::Week52High) {
            f.numbers.set(Field::Week52High, Some(h.max(p1)));
        }
        if let Some(l) = self.get(Field::Week52Low) {
            f.numbers.set(Field::Week52Low, Some(l.min(p1)));
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repricing_moves_only_price_dependent_fields() {
        let f = Fundamentals::from_overview(&obj(
            r#"{"MarketCapitalization":"1000","SharesOutstanding":"10","EPS":"5","PERatio":"20","EBITDA":"200","EVToEBITDA":"6",
                "EVToRevenue":"2.4","RevenueTTM":"500","PriceToSalesRatioTTM":"2","ProfitMargin":"0.2","DividendYield":"0.02",
                "52WeekHigh":"105","52WeekLow":"80","50DayMovingAverage":"98","AnalystTargetPrice":"120"}"#,
        ));
        assert_eq!(f.price(), Some(100.0));
        let g = f.repriced(110.0);
        assert_eq!(g.price(), Some(110.0));
        let near = |a: Option<f64>, b: f64| assert!((a.unwrap() - b).abs() < 1e-9, "{a:?} vs {b}");
        near(g.get(Field::MarketCapitalization), 1100.0);
        near(g.get(Field::PeRatio), 22.0);
        near(g.get(Field::PriceToSalesRatioTtm), 2.2);
        near(g.get(Field::DividendYield), 0.02 / 1.1);
        // EV 1200 -> 1300: EBITDA 200 and revenue 500 unchanged.
        near(g.get(Field::EvToEbitda), 6.5);
        near(g.get(Field::EvToRevenue), 2.6);
        near(g.get(Field::Week52High), 110.0);
        near(g.get(Field::Week52Low), 80.0);
        for same in [Field::Eps, Field::ProfitMargin, Field::Ma50, Field::AnalystTargetPrice, Field::Ebitda, Field::RevenueTtm] {
            assert_eq!(g.get(same), f.get(same), "{}", same.name());
        }
        // Repricing twice is the same as once.
        let h = g.repriced(110.0);
        assert_eq!(h.get(Field::EvToEbitda), g.get(Field::EvToEbitda));
    }

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
        assert_eq!(f.value("ProfitMargin"), Some(0.243));
        assert_eq!(f.value("MarketCapitalization"), Some(3_352_782_701_000.0));
    }

    #[test]
    fn pe_zero_is_missing_but_growth_zero_is_a_value() {
        let f = Fundamentals::from_overview(&obj(
            r#"{"PEGRatio":"0","PERatio":"0","QuarterlyRevenueGrowthYOY":"0","AnalystRatingSell":"0","EVToEBITDA":"-"}"#,
        ));
        assert_eq!(f.value("PEGRatio"), None);
        assert_eq!(f.value("PERatio"), None);
        assert_eq!(f.value("EVToEBITDA"), None);
        assert_eq!(f.value("QuarterlyRevenueGrowthYOY"), Some(0.0));
        assert_eq!(f.value("AnalystRatingSell"), Some(0.0));
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
        assert_eq!(f.value("EPS"), None);
        assert_eq!(f.value("Beta"), Some(1.2));
        assert_eq!(f.unreadable.len(), 1);
        assert_eq!(f.unreadable[0].0, "EPS");
    }
}
