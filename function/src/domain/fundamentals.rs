//! Company fundamentals as Alpha Vantage's OVERVIEW reports them, with its quirks removed:
//! every value arrives as a string, missing is `"None"`, `"-"` or `""`, and a `"0"` means
//! missing for ratios that cannot be zero. Every field is optional; nothing is filled in.
//! A value that cannot be right (a `"0"` placeholder the rest of the reply contradicts, a sign
//! that contradicts its own numerator, a margin beyond any plausible bound) is set aside by
//! the table [`VALIDITY_RULES`] when the reply is read, and kept with its reason.

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
    /// Alpha Vantage's SIC industry ("PHARMACEUTICAL PREPARATIONS"): maps an off-list symbol to
    /// a GICS sector (see `sectors`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub av_industry: Option<String>,
    pub currency: Option<String>,
    pub latest_quarter: Option<String>,
    pub numbers: Numbers,
    /// Price from GLOBAL_QUOTE when one was fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_price: Option<f64>,
    /// Fields that were present but unreadable, with their raw text (cut short).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<(String, String)>,
    /// Values the validity rules set aside (missing from `numbers`), each with its reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<Rejected>,
}

/// A value the reply stated and a validity rule set aside.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rejected {
    /// The OVERVIEW field.
    pub field: String,
    /// What the reply said.
    pub value: f64,
    /// The rule's id in [`VALIDITY_RULES`].
    pub rule: String,
    /// Why the value cannot be right, for people.
    pub reason: String,
}

/// One row of the validity table: a value of `field` for which `condition` holds is missing,
/// for `reason`. Conditions read the values as the reply stated them, before any rule ran, so
/// the order of the rules does not matter (the first that fires names the reason).
pub struct ValidityRule {
    pub id: &'static str,
    pub field: Field,
    /// The condition in words (the README's table repeats it).
    pub condition: &'static str,
    pub reason: &'static str,
    fires: fn(f64, &Numbers) -> bool,
}

impl ValidityRule {
    pub fn fires(&self, value: f64, reply: &Numbers) -> bool {
        (self.fires)(value, reply)
    }
}

/// Present and not zero.
fn nonzero(n: &Numbers, f: Field) -> bool {
    n.get(f).is_some_and(|v| v != 0.0)
}

/// The sign of net income as EPS states it (EPS first, then diluted EPS), when non-zero.
fn income_sign(n: &Numbers) -> Option<f64> {
    [Field::Eps, Field::DilutedEpsTtm].iter().filter_map(|f| n.get(*f)).find(|v| *v != 0.0).map(f64::signum)
}

/// The reply states a net profit or loss: EPS, diluted EPS or profit margin is non-zero.
fn states_income(n: &Numbers) -> bool {
    nonzero(n, Field::Eps) || nonzero(n, Field::DilutedEpsTtm) || nonzero(n, Field::ProfitMargin)
}

/// The reply states revenue of exactly zero.
fn zero_revenue(n: &Numbers) -> bool {
    n.get(Field::RevenueTtm) == Some(0.0)
}

/// A margin's plausible range: operating income cannot exceed revenue (costs are not
/// negative), and a loss of more than ten times revenue says revenue is too small for the
/// ratio to mean anything.
pub const MARGIN_MAX: f64 = 1.0;
pub const MARGIN_MIN: f64 = -10.0;

/// An analyst target more than this many times the price (or under its inverse) is stale:
/// the recorded SBFM target predates reverse splits and reads as +15,057% upside.
pub const TARGET_PRICE_MAX_RATIO: f64 = 10.0;

/// Every rule that sets a stated value aside. Alpha Vantage writes `"0"` where it could not
/// compute a value (the recorded loss-makers' `ProfitMargin`, `ReturnOnEquityTTM`,
/// `QuarterlyEarningsGrowthYOY`, `DilutedEPSTTM`), so a `"0"` that the rest of the reply
/// contradicts is a placeholder, not a data point.
pub const VALIDITY_RULES: &[ValidityRule] = &[
    ValidityRule {
        id: "eps_zero_with_income",
        field: Field::Eps,
        condition: "\"0\" while diluted EPS or the profit margin is non-zero",
        reason: "EPS of 0 contradicts the net result the reply states: a placeholder",
        fires: |v, n| v == 0.0 && (nonzero(n, Field::DilutedEpsTtm) || nonzero(n, Field::ProfitMargin)),
    },
    ValidityRule {
        id: "diluted_eps_zero_with_income",
        field: Field::DilutedEpsTtm,
        condition: "\"0\" while EPS or the profit margin is non-zero",
        reason: "diluted EPS of 0 contradicts the net result the reply states: a placeholder",
        fires: |v, n| v == 0.0 && (nonzero(n, Field::Eps) || nonzero(n, Field::ProfitMargin)),
    },
    ValidityRule {
        id: "profit_margin_zero_with_income",
        field: Field::ProfitMargin,
        condition: "\"0\" while EPS or diluted EPS is non-zero, or revenue is 0",
        reason: "a profit margin of 0 contradicts the EPS the reply states (or there is no revenue): a placeholder",
        fires: |v, n| v == 0.0 && (nonzero(n, Field::Eps) || nonzero(n, Field::DilutedEpsTtm) || zero_revenue(n)),
    },
    ValidityRule {
        id: "profit_margin_sign_vs_eps",
        field: Field::ProfitMargin,
        condition: "sign opposite to EPS (diluted EPS when EPS is missing or 0)",
        reason: "the profit margin's sign contradicts EPS, its own numerator",
        fires: |v, n| income_sign(n).is_some_and(|s| v != 0.0 && v.signum() != s),
    },
    ValidityRule {
        id: "profit_margin_out_of_range",
        field: Field::ProfitMargin,
        condition: "above 100% or below -1,000% of revenue",
        reason: "a profit margin beyond any plausible bound (net income above revenue, or losses over ten times revenue)",
        fires: |v, _| !(MARGIN_MIN..=MARGIN_MAX).contains(&v),
    },
    ValidityRule {
        id: "operating_margin_zero",
        field: Field::OperatingMarginTtm,
        // Not "while EBITDA is non-zero": operating income near 0 with depreciation equal to
        // EBITDA is a real result (the simulator writes such a "-0.0000" for BIIB).
        condition: "\"0\" while revenue is 0",
        reason: "an operating margin is not computable without revenue: a placeholder",
        fires: |v, n| v == 0.0 && zero_revenue(n),
    },
    ValidityRule {
        id: "operating_margin_positive_with_negative_ebitda",
        field: Field::OperatingMarginTtm,
        condition: "positive while EBITDA is negative",
        reason: "a positive operating margin with negative EBITDA is impossible (operating income is at most EBITDA)",
        fires: |v, n| v > 0.0 && n.get(Field::Ebitda).is_some_and(|e| e < 0.0),
    },
    ValidityRule {
        id: "operating_margin_out_of_range",
        field: Field::OperatingMarginTtm,
        condition: "above 100% or below -1,000% of revenue",
        reason: "an operating margin beyond any plausible bound (above revenue, or losses over ten times revenue)",
        fires: |v, _| !(MARGIN_MIN..=MARGIN_MAX).contains(&v),
    },
    ValidityRule {
        id: "roe_zero_with_income",
        field: Field::ReturnOnEquityTtm,
        condition: "\"0\" while EPS, diluted EPS or the profit margin is non-zero",
        reason: "a return on equity of 0 contradicts the net result the reply states: a placeholder",
        fires: |v, n| v == 0.0 && states_income(n),
    },
    ValidityRule {
        id: "roa_zero_with_income",
        field: Field::ReturnOnAssetsTtm,
        condition: "\"0\" while EPS, diluted EPS or the profit margin is non-zero",
        reason: "a return on assets of 0 contradicts the net result the reply states: a placeholder",
        fires: |v, n| v == 0.0 && states_income(n),
    },
    ValidityRule {
        id: "earnings_growth_zero_for_loss",
        field: Field::QuarterlyEarningsGrowthYoy,
        condition: "\"0\" while EPS or the profit margin is negative",
        reason: "growth of a loss is not computable: a 0 for a loss-maker is a placeholder",
        fires: |v, n| v == 0.0 && (income_sign(n) == Some(-1.0) || n.get(Field::ProfitMargin).is_some_and(|m| m < 0.0)),
    },
    ValidityRule {
        id: "revenue_growth_zero_without_revenue",
        field: Field::QuarterlyRevenueGrowthYoy,
        condition: "\"0\" while revenue is 0",
        reason: "revenue growth is not computable without revenue: a placeholder",
        fires: |v, n| v == 0.0 && zero_revenue(n),
    },
    ValidityRule {
        id: "ev_ebitda_positive_with_negative_ebitda",
        field: Field::EvToEbitda,
        condition: "positive while EBITDA is negative",
        reason:
            "EV/EBITDA above 0 with negative EBITDA means a negative enterprise value (net cash above the market value): no EBITDA yield",
        fires: |v, n| v > 0.0 && n.get(Field::Ebitda).is_some_and(|e| e < 0.0),
    },
    ValidityRule {
        id: "ev_ebitda_negative_with_positive_ebitda",
        field: Field::EvToEbitda,
        condition: "negative while EBITDA is positive",
        reason: "EV/EBITDA below 0 with positive EBITDA means a negative enterprise value: no EBITDA yield",
        fires: |v, n| v < 0.0 && n.get(Field::Ebitda).is_some_and(|e| e > 0.0),
    },
    ValidityRule {
        id: "ev_ebitda_negative_without_ebitda",
        field: Field::EvToEbitda,
        condition: "negative while EBITDA is missing or 0",
        reason: "EV/EBITDA below 0 without EBITDA's sign: the sign of the enterprise value is unknown",
        fires: |v, n| v < 0.0 && !nonzero(n, Field::Ebitda),
    },
    ValidityRule {
        id: "target_price_far_from_price",
        field: Field::AnalystTargetPrice,
        condition: "more than 10x, or under 1/10 of, the price (market capitalisation / shares)",
        reason: "an analyst target more than ten times away from the price is stale (e.g. set before a reverse split)",
        fires: |v, n| match (n.get(Field::MarketCapitalization), n.get(Field::SharesOutstanding)) {
            (Some(cap), Some(shares)) if cap > 0.0 && shares > 0.0 => {
                let ratio = v / (cap / shares);
                !(1.0 / TARGET_PRICE_MAX_RATIO..=TARGET_PRICE_MAX_RATIO).contains(&ratio)
            }
            _ => false,
        },
    },
];

/// The first rule in the table that sets `value` of `field` aside, given the reply's values.
pub fn rule_against(field: Field, value: f64, reply: &Numbers) -> Option<&'static ValidityRule> {
    VALIDITY_RULES.iter().find(|r| r.field == field && r.fires(value, reply))
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
        let mut f = Fundamentals::read_overview(obj);
        f.apply_validity_rules();
        f
    }

    /// The reply's values as stated, before the validity rules (for tests and for the rules
    /// themselves).
    pub fn read_overview(obj: &serde_json::Map<String, serde_json::Value>) -> Fundamentals {
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
            av_industry: text("Industry"),
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

    /// Sets aside every value a rule in [`VALIDITY_RULES`] rejects, judged against the values
    /// as they stand (so running it twice changes nothing more).
    pub fn apply_validity_rules(&mut self) {
        let reply = self.numbers.clone();
        for field in Field::ALL {
            let Some(v) = reply.get(*field) else { continue };
            if let Some(rule) = rule_against(*field, v, &reply) {
                self.numbers.set(*field, None);
                self.rejected.push(Rejected {
                    field: field.name().to_string(),
                    value: v,
                    rule: rule.id.to_string(),
                    reason: rule.reason.to_string(),
                });
            }
        }
    }

    /// Why `field` has no value: the rule that set it aside, if one did.
    pub fn rejection(&self, field: Field) -> Option<&Rejected> {
        self.rejected.iter().find(|r| r.field == field.name())
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
        // A moved enterprise value can change sign: the same rules judge the new figures.
        f.apply_validity_rules();
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
    fn every_validity_rule_fires_on_its_case_and_not_on_a_consistent_reply() {
        // (rule, reply where it fires, the same field in a consistent reply)
        let cases: &[(&str, &str, &str)] = &[
            ("eps_zero_with_income", r#"{"EPS":"0","ProfitMargin":"-0.4"}"#, r#"{"EPS":"0","ProfitMargin":"0"}"#),
            ("diluted_eps_zero_with_income", r#"{"DilutedEPSTTM":"0","EPS":"1.2"}"#, r#"{"DilutedEPSTTM":"0"}"#),
            ("profit_margin_zero_with_income", r#"{"ProfitMargin":"0","EPS":"-0.93"}"#, r#"{"ProfitMargin":"0","EPS":"0"}"#),
            ("profit_margin_sign_vs_eps", r#"{"ProfitMargin":"0.2","EPS":"-1"}"#, r#"{"ProfitMargin":"-0.2","EPS":"-1"}"#),
            ("profit_margin_out_of_range", r#"{"ProfitMargin":"1.5"}"#, r#"{"ProfitMargin":"0.99"}"#),
            (
                "operating_margin_zero",
                r#"{"OperatingMarginTTM":"0","RevenueTTM":"0"}"#,
                r#"{"OperatingMarginTTM":"-0.0000","EBITDA":"5","RevenueTTM":"9"}"#,
            ),
            (
                "operating_margin_positive_with_negative_ebitda",
                r#"{"OperatingMarginTTM":"5869.2","EBITDA":"-99299000"}"#,
                r#"{"OperatingMarginTTM":"0.3","EBITDA":"9"}"#,
            ),
            ("operating_margin_out_of_range", r#"{"OperatingMarginTTM":"-2616"}"#, r#"{"OperatingMarginTTM":"-9.9"}"#),
            ("roe_zero_with_income", r#"{"ReturnOnEquityTTM":"0","ProfitMargin":"-0.501"}"#, r#"{"ReturnOnEquityTTM":"0"}"#),
            ("roa_zero_with_income", r#"{"ReturnOnAssetsTTM":"0","EPS":"2"}"#, r#"{"ReturnOnAssetsTTM":"0.01","EPS":"2"}"#),
            (
                "earnings_growth_zero_for_loss",
                r#"{"QuarterlyEarningsGrowthYOY":"0","EPS":"-1.51"}"#,
                r#"{"QuarterlyEarningsGrowthYOY":"0","EPS":"3"}"#,
            ),
            (
                "revenue_growth_zero_without_revenue",
                r#"{"QuarterlyRevenueGrowthYOY":"0","RevenueTTM":"0"}"#,
                r#"{"QuarterlyRevenueGrowthYOY":"0","RevenueTTM":"7"}"#,
            ),
            (
                "ev_ebitda_positive_with_negative_ebitda",
                r#"{"EVToEBITDA":"0.0326","EBITDA":"-233072992"}"#,
                r#"{"EVToEBITDA":"-0.285","EBITDA":"-39863520"}"#,
            ),
            (
                "ev_ebitda_negative_with_positive_ebitda",
                r#"{"EVToEBITDA":"-5","EBITDA":"1290000000"}"#,
                r#"{"EVToEBITDA":"5","EBITDA":"1290000000"}"#,
            ),
            ("ev_ebitda_negative_without_ebitda", r#"{"EVToEBITDA":"-5"}"#, r#"{"EVToEBITDA":"5"}"#),
            (
                "target_price_far_from_price",
                r#"{"AnalystTargetPrice":"300","MarketCapitalization":"5360500","SharesOutstanding":"2708300"}"#,
                r#"{"AnalystTargetPrice":"3","MarketCapitalization":"5360500","SharesOutstanding":"2708300"}"#,
            ),
        ];
        assert_eq!(cases.len(), VALIDITY_RULES.len(), "a case for every rule");
        for (id, bad, good) in cases {
            let rule = VALIDITY_RULES.iter().find(|r| r.id == *id).unwrap_or_else(|| panic!("no rule {id}"));
            let f = Fundamentals::from_overview(&obj(bad));
            assert_eq!(f.get(rule.field), None, "{id}");
            let r = f.rejection(rule.field).unwrap_or_else(|| panic!("{id}: no reason"));
            assert_eq!((r.rule.as_str(), r.reason.as_str()), (*id, rule.reason));
            let ok = Fundamentals::from_overview(&obj(good));
            assert!(ok.get(rule.field).is_some() && ok.rejected.is_empty(), "{id}: {:?}", ok.rejected);
        }
    }

    #[test]
    fn a_repriced_enterprise_value_that_turns_negative_is_set_aside() {
        // EV 100 with EBITDA 50; the price halves a market value of 1000: EV -400.
        let f =
            Fundamentals::from_overview(&obj(r#"{"MarketCapitalization":"1000","SharesOutstanding":"10","EBITDA":"50","EVToEBITDA":"2"}"#));
        let g = f.repriced(50.0);
        assert_eq!(g.get(Field::EvToEbitda), None);
        assert_eq!(g.rejection(Field::EvToEbitda).unwrap().rule, "ev_ebitda_negative_with_positive_ebitda");
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
