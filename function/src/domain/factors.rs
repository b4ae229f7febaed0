//! The factors a model can use: each is a pure function of one company's fundamentals
//! that returns `None` when its inputs are missing or meaningless. Nothing is imputed.

use super::fundamentals::Fundamentals;

/// How a factor's raw value reads to a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A fraction shown as a percentage (0.063 -> "6.3%").
    Percent,
    /// A multiple (1.8 -> "1.80x").
    Multiple,
    /// A 1-5 analyst consensus (5 = strong buy).
    Consensus,
}

#[derive(Clone, Copy, Debug)]
pub struct FactorDef {
    pub name: &'static str,
    pub label: &'static str,
    pub unit: Unit,
    pub compute: fn(&Fundamentals) -> Option<f64>,
}

fn positive(v: Option<f64>) -> Option<f64> {
    v.filter(|x| *x > 0.0)
}

fn earnings_yield(f: &Fundamentals) -> Option<f64> {
    let eps = f.get("EPS").or_else(|| f.get("DilutedEPSTTM"))?;
    Some(eps / f.price()?)
}

/// EBITDA / EV. From EVToEBITDA when positive; when negative, only if EBITDA itself is
/// negative (so EV is positive and the yield is a true negative). A negative EV with
/// positive EBITDA has no meaningful yield and stays missing.
fn ebitda_ev(f: &Fundamentals) -> Option<f64> {
    let r = f.get("EVToEBITDA")?;
    if r > 0.0 {
        return Some(1.0 / r);
    }
    match f.get("EBITDA") {
        Some(e) if e < 0.0 => Some(1.0 / r),
        _ => None,
    }
}

fn sales_yield(f: &Fundamentals) -> Option<f64> {
    Some(1.0 / positive(f.get("PriceToSalesRatioTTM"))?)
}

fn book_yield(f: &Fundamentals) -> Option<f64> {
    Some(1.0 / positive(f.get("PriceToBookRatio"))?)
}

fn forward_earnings_yield(f: &Fundamentals) -> Option<f64> {
    Some(1.0 / f.get("ForwardPE")?)
}

fn price_vs_200d(f: &Fundamentals) -> Option<f64> {
    Some(f.price()? / positive(f.get("200DayMovingAverage"))? - 1.0)
}

fn trend_50_200(f: &Fundamentals) -> Option<f64> {
    Some(positive(f.get("50DayMovingAverage"))? / positive(f.get("200DayMovingAverage"))? - 1.0)
}

/// Where the price sits in its 52-week range, 0 (low) to 1 (high); clamped because the
/// quote can be newer than the range.
fn range_position(f: &Fundamentals) -> Option<f64> {
    let (hi, lo, p) = (f.get("52WeekHigh")?, f.get("52WeekLow")?, f.price()?);
    if hi <= lo || lo <= 0.0 {
        return None;
    }
    Some(((p - lo) / (hi - lo)).clamp(0.0, 1.0))
}

fn target_upside(f: &Fundamentals) -> Option<f64> {
    Some(positive(f.get("AnalystTargetPrice"))? / f.price()? - 1.0)
}

/// Mean rating, 5 = strong buy ... 1 = strong sell; needs at least one rating.
fn analyst_consensus(f: &Fundamentals) -> Option<f64> {
    let counts = [
        (5.0, f.get("AnalystRatingStrongBuy")?),
        (4.0, f.get("AnalystRatingBuy")?),
        (3.0, f.get("AnalystRatingHold")?),
        (2.0, f.get("AnalystRatingSell")?),
        (1.0, f.get("AnalystRatingStrongSell")?),
    ];
    if counts.iter().any(|(_, n)| *n < 0.0) {
        return None;
    }
    let total: f64 = counts.iter().map(|(_, n)| n).sum();
    (total > 0.0).then(|| counts.iter().map(|(w, n)| w * n).sum::<f64>() / total)
}

macro_rules! field {
    ($field:literal) => {
        |f: &Fundamentals| f.get($field)
    };
}

/// Every factor a model may name.
pub const FACTORS: &[FactorDef] = &[
    FactorDef { name: "earnings_yield", label: "Earnings yield", unit: Unit::Percent, compute: earnings_yield },
    FactorDef { name: "ebitda_ev", label: "EBITDA/EV", unit: Unit::Percent, compute: ebitda_ev },
    FactorDef { name: "sales_yield", label: "Sales/price", unit: Unit::Multiple, compute: sales_yield },
    FactorDef { name: "book_yield", label: "Book/price", unit: Unit::Multiple, compute: book_yield },
    FactorDef { name: "forward_earnings_yield", label: "Forward earnings yield", unit: Unit::Percent, compute: forward_earnings_yield },
    FactorDef { name: "dividend_yield", label: "Dividend yield", unit: Unit::Percent, compute: field!("DividendYield") },
    FactorDef { name: "roe", label: "Return on equity", unit: Unit::Percent, compute: field!("ReturnOnEquityTTM") },
    FactorDef { name: "roa", label: "Return on assets", unit: Unit::Percent, compute: field!("ReturnOnAssetsTTM") },
    FactorDef { name: "profit_margin", label: "Profit margin", unit: Unit::Percent, compute: field!("ProfitMargin") },
    FactorDef { name: "operating_margin", label: "Operating margin", unit: Unit::Percent, compute: field!("OperatingMarginTTM") },
    FactorDef { name: "revenue_growth", label: "Revenue growth (YoY)", unit: Unit::Percent, compute: field!("QuarterlyRevenueGrowthYOY") },
    FactorDef { name: "earnings_growth", label: "Earnings growth (YoY)", unit: Unit::Percent, compute: field!("QuarterlyEarningsGrowthYOY") },
    FactorDef { name: "price_vs_200d", label: "Price vs 200-day average", unit: Unit::Percent, compute: price_vs_200d },
    FactorDef { name: "trend_50_200", label: "50-day vs 200-day average", unit: Unit::Percent, compute: trend_50_200 },
    FactorDef { name: "range_position", label: "Position in 52-week range", unit: Unit::Percent, compute: range_position },
    FactorDef { name: "target_upside", label: "Analyst target upside", unit: Unit::Percent, compute: target_upside },
    FactorDef { name: "analyst_consensus", label: "Analyst consensus", unit: Unit::Consensus, compute: analyst_consensus },
    FactorDef { name: "beta", label: "Beta", unit: Unit::Multiple, compute: field!("Beta") },
    FactorDef { name: "peg", label: "PEG ratio", unit: Unit::Multiple, compute: field!("PEGRatio") },
];

pub fn lookup(name: &str) -> Option<&'static FactorDef> {
    FACTORS.iter().find(|f| f.name == name)
}

/// Formats a raw value for people: "6.3%", "1.80x", "4.1/5".
pub fn format_value(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Percent => format!("{:.1}%", v * 100.0),
        Unit::Multiple => format!("{v:.2}x"),
        Unit::Consensus => format!("{v:.1}/5"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(json: &str) -> Fundamentals {
        Fundamentals::from_overview(&serde_json::from_str(json).unwrap())
    }

    #[test]
    fn yields_stay_monotonic_through_negative_earnings() {
        let loss = f(r#"{"EPS":"-2","MarketCapitalization":"1000","SharesOutstanding":"10"}"#);
        let profit = f(r#"{"EPS":"5","MarketCapitalization":"1000","SharesOutstanding":"10"}"#);
        assert_eq!(earnings_yield(&loss), Some(-0.02));
        assert_eq!(earnings_yield(&profit), Some(0.05));
    }

    #[test]
    fn ebitda_ev_handles_signs() {
        assert_eq!(ebitda_ev(&f(r#"{"EVToEBITDA":"20"}"#)), Some(0.05));
        assert_eq!(ebitda_ev(&f(r#"{"EVToEBITDA":"-8","EBITDA":"-100"}"#)), Some(-0.125));
        assert_eq!(ebitda_ev(&f(r#"{"EVToEBITDA":"-8","EBITDA":"100"}"#)), None);
        assert_eq!(ebitda_ev(&f(r#"{"EVToEBITDA":"0"}"#)), None);
    }

    #[test]
    fn consensus_needs_ratings() {
        let c = f(r#"{"AnalystRatingStrongBuy":"7","AnalystRatingBuy":"21","AnalystRatingHold":"13","AnalystRatingSell":"2","AnalystRatingStrongSell":"2"}"#);
        let v = analyst_consensus(&c).unwrap();
        assert!((v - (35.0 + 84.0 + 39.0 + 4.0 + 2.0) / 45.0).abs() < 1e-12);
        let zero = f(r#"{"AnalystRatingStrongBuy":"0","AnalystRatingBuy":"0","AnalystRatingHold":"0","AnalystRatingSell":"0","AnalystRatingStrongSell":"0"}"#);
        assert_eq!(analyst_consensus(&zero), None);
        assert_eq!(analyst_consensus(&f(r#"{"AnalystRatingStrongBuy":"-"}"#)), None);
    }

    #[test]
    fn range_position_is_clamped_and_needs_a_range() {
        let x = f(r#"{"52WeekHigh":"200","52WeekLow":"100","MarketCapitalization":"2500","SharesOutstanding":"10"}"#);
        assert_eq!(range_position(&x), Some(1.0));
        let flat = f(r#"{"52WeekHigh":"100","52WeekLow":"100","MarketCapitalization":"1000","SharesOutstanding":"10"}"#);
        assert_eq!(range_position(&flat), None);
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = FACTORS.iter().map(|f| f.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), FACTORS.len());
    }
}
