//! The factors a model can use: each is a pure function of one company's fundamentals
//! that returns `None` when its inputs are missing or meaningless. Nothing is imputed.

use super::fundamentals::{Field, Fundamentals};

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
    /// The OVERVIEW fields it reads (any one of a group of alternatives, such as EPS or
    /// diluted EPS, is listed in order), to name why it is missing.
    pub inputs: &'static [Field],
    /// Whether it needs the price (the quote, else market capitalisation / shares).
    pub uses_price: bool,
}

impl FactorDef {
    /// Why this factor has no value for `f`: the validity rule that set an input aside, the
    /// input the reply lacks, or what made it not computable.
    pub fn missing_reason(&self, f: &Fundamentals) -> String {
        for field in self.inputs {
            if let Some(r) = f.rejection(*field) {
                if f.get(*field).is_none() && !self.has_alternative(*field, f) {
                    return format!("{} {} set aside: {}", r.field, r.value, r.reason);
                }
            }
        }
        let absent: Vec<&str> =
            self.inputs.iter().filter(|x| f.get(**x).is_none() && !self.has_alternative(**x, f)).map(|x| x.name()).collect();
        if !absent.is_empty() {
            return format!("{} not in the reply", absent.join(", "));
        }
        if self.uses_price && f.price().is_none() {
            return "no price (MarketCapitalization or SharesOutstanding missing)".into();
        }
        match self.name {
            "analyst_consensus" => "no analyst ratings (all five counts 0)".into(),
            "range_position" => "no 52-week range (high not above low, or low not above 0)".into(),
            _ => "not computable from the reply (a required ratio is not positive)".into(),
        }
    }

    /// EPS and diluted EPS stand in for each other: one missing is not the reason.
    fn has_alternative(&self, field: Field, f: &Fundamentals) -> bool {
        match field {
            Field::Eps => self.inputs.contains(&Field::DilutedEpsTtm) && f.get(Field::DilutedEpsTtm).is_some(),
            Field::DilutedEpsTtm => self.inputs.contains(&Field::Eps) && f.get(Field::Eps).is_some(),
            _ => false,
        }
    }
}

fn positive(v: Option<f64>) -> Option<f64> {
    v.filter(|x| *x > 0.0)
}

fn earnings_yield(f: &Fundamentals) -> Option<f64> {
    let eps = f.get(Field::Eps).or_else(|| f.get(Field::DilutedEpsTtm))?;
    Some(eps / f.price()?)
}

/// EBITDA / EV = 1 / EVToEBITDA, with the sign of EBITDA. It needs a positive enterprise
/// value: the validity rules set aside every EVToEBITDA whose sign disagrees with EBITDA's
/// (a negative EV), and this checks again so a repriced figure cannot slip through.
fn ebitda_ev(f: &Fundamentals) -> Option<f64> {
    let r = f.get(Field::EvToEbitda)?;
    match f.get(Field::Ebitda) {
        Some(e) if e != 0.0 && e.signum() != r.signum() => None,
        None if r < 0.0 => None,
        _ => Some(1.0 / r),
    }
}

fn sales_yield(f: &Fundamentals) -> Option<f64> {
    Some(1.0 / positive(f.get(Field::PriceToSalesRatioTtm))?)
}

fn book_yield(f: &Fundamentals) -> Option<f64> {
    Some(1.0 / positive(f.get(Field::PriceToBookRatio))?)
}

fn forward_earnings_yield(f: &Fundamentals) -> Option<f64> {
    Some(1.0 / f.get(Field::ForwardPe)?)
}

fn price_vs_200d(f: &Fundamentals) -> Option<f64> {
    Some(f.price()? / positive(f.get(Field::Ma200))? - 1.0)
}

fn trend_50_200(f: &Fundamentals) -> Option<f64> {
    Some(positive(f.get(Field::Ma50))? / positive(f.get(Field::Ma200))? - 1.0)
}

/// Where the price sits in its 52-week range, 0 (low) to 1 (high); clamped because the
/// quote can be newer than the range.
fn range_position(f: &Fundamentals) -> Option<f64> {
    let (hi, lo, p) = (f.get(Field::Week52High)?, f.get(Field::Week52Low)?, f.price()?);
    if hi <= lo || lo <= 0.0 {
        return None;
    }
    Some(((p - lo) / (hi - lo)).clamp(0.0, 1.0))
}

fn target_upside(f: &Fundamentals) -> Option<f64> {
    Some(positive(f.get(Field::AnalystTargetPrice))? / f.price()? - 1.0)
}

/// Mean rating, 5 = strong buy ... 1 = strong sell; needs at least one rating.
fn analyst_consensus(f: &Fundamentals) -> Option<f64> {
    let counts = [
        (5.0, f.get(Field::AnalystRatingStrongBuy)?),
        (4.0, f.get(Field::AnalystRatingBuy)?),
        (3.0, f.get(Field::AnalystRatingHold)?),
        (2.0, f.get(Field::AnalystRatingSell)?),
        (1.0, f.get(Field::AnalystRatingStrongSell)?),
    ];
    if counts.iter().any(|(_, n)| *n < 0.0) {
        return None;
    }
    let total: f64 = counts.iter().map(|(_, n)| n).sum();
    (total > 0.0).then(|| counts.iter().map(|(w, n)| w * n).sum::<f64>() / total)
}

macro_rules! field {
    ($field:ident) => {
        |f: &Fundamentals| f.get(Field::$field)
    };
}

/// Every factor a model may name.
pub const FACTORS: &[FactorDef] = &[
    FactorDef {
        name: "earnings_yield",
        label: "Earnings yield",
        unit: Unit::Percent,
        compute: earnings_yield,
        inputs: &[Field::Eps, Field::DilutedEpsTtm],
        uses_price: true,
    },
    FactorDef {
        name: "ebitda_ev",
        label: "EBITDA/EV",
        unit: Unit::Percent,
        compute: ebitda_ev,
        inputs: &[Field::EvToEbitda],
        uses_price: false,
    },
    FactorDef {
        name: "sales_yield",
        label: "Sales/price",
        unit: Unit::Multiple,
        compute: sales_yield,
        inputs: &[Field::PriceToSalesRatioTtm],
        uses_price: false,
    },
    FactorDef {
        name: "book_yield",
        label: "Book/price",
        unit: Unit::Multiple,
        compute: book_yield,
        inputs: &[Field::PriceToBookRatio],
        uses_price: false,
    },
    FactorDef {
        name: "forward_earnings_yield",
        label: "Forward earnings yield",
        unit: Unit::Percent,
        compute: forward_earnings_yield,
        inputs: &[Field::ForwardPe],
        uses_price: false,
    },
    FactorDef {
        name: "dividend_yield",
        label: "Dividend yield",
        unit: Unit::Percent,
        compute: field!(DividendYield),
        inputs: &[Field::DividendYield],
        uses_price: false,
    },
    FactorDef {
        name: "roe",
        label: "Return on equity",
        unit: Unit::Percent,
        compute: field!(ReturnOnEquityTtm),
        inputs: &[Field::ReturnOnEquityTtm],
        uses_price: false,
    },
    FactorDef {
        name: "roa",
        label: "Return on assets",
        unit: Unit::Percent,
        compute: field!(ReturnOnAssetsTtm),
        inputs: &[Field::ReturnOnAssetsTtm],
        uses_price: false,
    },
    FactorDef {
        name: "profit_margin",
        label: "Profit margin",
        unit: Unit::Percent,
        compute: field!(ProfitMargin),
        inputs: &[Field::ProfitMargin],
        uses_price: false,
    },
    FactorDef {
        name: "operating_margin",
        label: "Operating margin",
        unit: Unit::Percent,
        compute: field!(OperatingMarginTtm),
        inputs: &[Field::OperatingMarginTtm],
        uses_price: false,
    },
    FactorDef {
        name: "revenue_growth",
        label: "Revenue growth (YoY)",
        unit: Unit::Percent,
        compute: field!(QuarterlyRevenueGrowthYoy),
        inputs: &[Field::QuarterlyRevenueGrowthYoy],
        uses_price: false,
    },
    FactorDef {
        name: "earnings_growth",
        label: "Earnings growth (YoY)",
        unit: Unit::Percent,
        compute: field!(QuarterlyEarningsGrowthYoy),
        inputs: &[Field::QuarterlyEarningsGrowthYoy],
        uses_price: false,
    },
    FactorDef {
        name: "price_vs_200d",
        label: "Price vs 200-day average",
        unit: Unit::Percent,
        compute: price_vs_200d,
        inputs: &[Field::Ma200],
        uses_price: true,
    },
    FactorDef {
        name: "trend_50_200",
        label: "50-day vs 200-day average",
        unit: Unit::Percent,
        compute: trend_50_200,
        inputs: &[Field::Ma50, Field::Ma200],
        uses_price: false,
    },
    FactorDef {
        name: "range_position",
        label: "Position in 52-week range",
        unit: Unit::Percent,
        compute: range_position,
        inputs: &[Field::Week52High, Field::Week52Low],
        uses_price: true,
    },
    FactorDef {
        name: "target_upside",
        label: "Analyst target upside",
        unit: Unit::Percent,
        compute: target_upside,
        inputs: &[Field::AnalystTargetPrice],
        uses_price: true,
    },
    FactorDef {
        name: "analyst_consensus",
        label: "Analyst consensus",
        unit: Unit::Consensus,
        compute: analyst_consensus,
        inputs: &[
            Field::AnalystRatingStrongBuy,
            Field::AnalystRatingBuy,
            Field::AnalystRatingHold,
            Field::AnalystRatingSell,
            Field::AnalystRatingStrongSell,
        ],
        uses_price: false,
    },
    FactorDef { name: "beta", label: "Beta", unit: Unit::Multiple, compute: field!(Beta), inputs: &[Field::Beta], uses_price: false },
    FactorDef {
        name: "peg",
        label: "PEG ratio",
        unit: Unit::Multiple,
        compute: field!(PegRatio),
        inputs: &[Field::PegRatio],
        uses_price: false,
    },
];

pub fn lookup(name: &str) -> Option<&'static FactorDef> {
    FACTORS.iter().find(|f| f.name == name)
}

/// Formats a raw value for people: "6.3%", "1.80x", "4.1/5".
pub fn format_value(unit: Unit, v: f64) -> String {
    let mut s = String::with_capacity(12);
    write_value(&mut s, unit, v);
    s
}

/// Beyond this a percentage is shown as "> 1,000%" (or "< -1,000%"): a ratio that large
/// comes from a tiny base, and its digits would claim a precision it does not have.
pub const PERCENT_DISPLAY_LIMIT: f64 = 10.0;
/// The same for multiples ("> 1,000x").
pub const MULTIPLE_DISPLAY_LIMIT: f64 = 1000.0;

/// Appends a formatted value to `out` (no intermediate allocation).
pub fn write_value(out: &mut String, unit: Unit, v: f64) {
    match unit {
        Unit::Percent if v >= PERCENT_DISPLAY_LIMIT => out.push_str("> 1,000%"),
        Unit::Percent if v <= -PERCENT_DISPLAY_LIMIT => out.push_str("< -1,000%"),
        Unit::Multiple if v >= MULTIPLE_DISPLAY_LIMIT => out.push_str("> 1,000x"),
        Unit::Multiple if v <= -MULTIPLE_DISPLAY_LIMIT => out.push_str("< -1,000x"),
        Unit::Percent => {
            write_fixed(out, v * 100.0, 1);
            out.push('%');
        }
        Unit::Multiple => {
            write_fixed(out, v, 2);
            out.push('x');
        }
        Unit::Consensus => {
            write_fixed(out, v, 1);
            out.push_str("/5");
        }
    }
}

/// Writes `v` with `decimals` places, rounding half away from zero, through integer
/// formatting only: the standard library's exact float formatting is far slower, and
/// this runs for every ranked stock's reasons.
pub fn write_fixed(out: &mut String, v: f64, decimals: u32) {
    use std::fmt::Write;
    let scale = 10u64.pow(decimals);
    let scaled = (v.abs() * scale as f64).round();
    if !scaled.is_finite() || scaled >= 1e15 {
        let _ = write!(out, "{v:.prec$}", prec = decimals as usize);
        return;
    }
    let n = scaled as u64;
    if v < 0.0 && n != 0 {
        out.push('-');
    }
    let _ = write!(out, "{}", n / scale);
    if decimals > 0 {
        let _ = write!(out, ".{:0width$}", n % scale, width = decimals as usize);
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
        // A positive ratio with negative EBITDA is a negative EV, not the best yield.
        assert_eq!(ebitda_ev(&f(r#"{"EVToEBITDA":"0.0326","EBITDA":"-233072992"}"#)), None);
        assert_eq!(ebitda_ev(&f(r#"{"EVToEBITDA":"-8"}"#)), None);
    }

    #[test]
    fn consensus_needs_ratings() {
        let c = f(
            r#"{"AnalystRatingStrongBuy":"7","AnalystRatingBuy":"21","AnalystRatingHold":"13","AnalystRatingSell":"2","AnalystRatingStrongSell":"2"}"#,
        );
        let v = analyst_consensus(&c).unwrap();
        assert!((v - (35.0 + 84.0 + 39.0 + 4.0 + 2.0) / 45.0).abs() < 1e-12);
        let zero = f(
            r#"{"AnalystRatingStrongBuy":"0","AnalystRatingBuy":"0","AnalystRatingHold":"0","AnalystRatingSell":"0","AnalystRatingStrongSell":"0"}"#,
        );
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
    fn fixed_formatting() {
        assert_eq!(format_value(Unit::Percent, 0.063), "6.3%");
        assert_eq!(format_value(Unit::Percent, -0.0004), "0.0%");
        assert_eq!(format_value(Unit::Percent, -0.338), "-33.8%");
        assert_eq!(format_value(Unit::Multiple, 1.8), "1.80x");
        assert_eq!(format_value(Unit::Consensus, 4.0666), "4.1/5");
        assert_eq!(format_value(Unit::Percent, 9.994), "999.4%");
    }

    #[test]
    fn values_beyond_the_display_range_say_so() {
        // AUTL's recorded EBITDA/EV was shown as "3067.5%", SBFM's target upside as "15057.0%".
        assert_eq!(format_value(Unit::Percent, 30.675), "> 1,000%");
        assert_eq!(format_value(Unit::Percent, 10.0), "> 1,000%");
        assert_eq!(format_value(Unit::Percent, -2616.0), "< -1,000%");
        assert_eq!(format_value(Unit::Multiple, 1e300), "> 1,000x");
    }

    #[test]
    fn missing_factors_name_their_reason() {
        let atai = f(r#"{"ProfitMargin":"0","EPS":"-0.93","EVToEBITDA":"0.266","EBITDA":"-99299000"}"#);
        let pm = lookup("profit_margin").unwrap();
        assert_eq!((pm.compute)(&atai), None);
        assert!(pm.missing_reason(&atai).starts_with("ProfitMargin 0 set aside: a profit margin of 0"), "{}", pm.missing_reason(&atai));
        let ev = lookup("ebitda_ev").unwrap();
        assert_eq!((ev.compute)(&atai), None);
        assert!(ev.missing_reason(&atai).contains("negative enterprise value"), "{}", ev.missing_reason(&atai));
        let roe = lookup("roe").unwrap();
        assert_eq!(roe.missing_reason(&atai), "ReturnOnEquityTTM not in the reply");
        let ey = lookup("earnings_yield").unwrap();
        assert!(ey.missing_reason(&atai).starts_with("no price"), "{}", ey.missing_reason(&atai));
        // Diluted EPS stands in for EPS: EPS alone missing is no reason.
        let diluted = f(r#"{"DilutedEPSTTM":"2.19","MarketCapitalization":"1000","SharesOutstanding":"10"}"#);
        assert_eq!((ey.compute)(&diluted), Some(0.0219));
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = FACTORS.iter().map(|f| f.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), FACTORS.len());
    }
}
