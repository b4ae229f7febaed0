//! Test data for the domain's unit tests: plausible, internally consistent OVERVIEW replies
//! from a seeded generator, so tests over hundreds of companies need no fixtures. The
//! domain does not borrow the simulator's generator for this: the simulator is a test
//! server on its way to its own crate, and the domain must build without it.

use super::fundamentals::{Field, Fundamentals};
use serde_json::{json, Map, Value};

/// SplitMix64: a seeded, platform-independent stream of draws.
struct Draws(u64);

impl Draws {
    fn new(seed: u64, symbol: &str) -> Draws {
        let mut d = Draws(seed ^ 0x005E_ED0F_DA7A);
        for b in symbol.bytes() {
            d.0 ^= b as u64;
            d.next();
        }
        d
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi`.
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// The OVERVIEW reply of one made-up company (`seed` picks the population). The figures
/// agree with each other (market cap = price x shares, P/E = price / EPS, ...), as a real
/// reply's do, and about 2% of the numeric fields read "None", as real replies miss some.
pub(crate) fn overview(seed: u64, symbol: &str) -> Map<String, Value> {
    let mut d = Draws::new(seed, symbol);
    let price = d.range(10.0, 500.0);
    let shares = 10f64.powf(d.range(8.0, 10.0)).round();
    let market_cap = price * shares;
    let revenue = market_cap / d.range(0.5, 8.0);
    let margin = d.range(-0.05, 0.30);
    let op_margin = margin + d.range(0.0, 0.08);
    let eps = revenue * margin / shares;
    let roa = margin * d.range(0.3, 1.5);
    let roe = roa * d.range(1.2, 4.0);
    let book_value = revenue * margin / roe.max(0.01) / shares;
    let ebitda = revenue * (op_margin + d.range(0.04, 0.10));
    let ev = market_cap * d.range(0.9, 1.4);
    let earn_growth = d.range(-0.3, 0.6);
    let dps = if d.range(0.0, 1.0) < 0.25 { 0.0 } else { price * d.range(0.0, 0.05) };
    let num = |v: f64| json!(format!("{v:.4}"));
    let or_none = |ok: bool, v: f64| if ok { num(v) } else { json!("None") };
    let mut o = Map::new();
    let mut put = |k: &str, v: Value| {
        o.insert(k.to_string(), v);
    };
    put("Symbol", json!(symbol));
    put("Name", json!(format!("{symbol} Test Company")));
    put("Currency", json!("USD"));
    put("LatestQuarter", json!("2026-09-30"));
    put("MarketCapitalization", json!(format!("{market_cap:.0}")));
    put("SharesOutstanding", json!(format!("{shares:.0}")));
    put("EBITDA", json!(format!("{ebitda:.0}")));
    put("RevenueTTM", json!(format!("{revenue:.0}")));
    put("GrossProfitTTM", json!(format!("{:.0}", revenue * (op_margin + 0.2).min(0.95))));
    put("PERatio", or_none(eps > 0.0, price / eps));
    put("TrailingPE", or_none(eps > 0.0, price / eps));
    put("ForwardPE", or_none(eps > 0.0, price / (eps * (1.0 + earn_growth))));
    put("PEGRatio", or_none(eps > 0.0 && earn_growth > 0.0, price / eps / (earn_growth * 100.0)));
    put("BookValue", num(book_value));
    put("PriceToBookRatio", or_none(book_value > 0.0, price / book_value));
    put("DividendPerShare", num(dps));
    put("DividendYield", num(dps / price));
    put("EPS", num(eps));
    put("DilutedEPSTTM", num(eps));
    put("RevenuePerShareTTM", num(revenue / shares));
    put("ProfitMargin", num(margin));
    put("OperatingMarginTTM", num(op_margin));
    put("ReturnOnAssetsTTM", num(roa));
    put("ReturnOnEquityTTM", num(roe));
    put("QuarterlyEarningsGrowthYOY", num(earn_growth));
    put("QuarterlyRevenueGrowthYOY", num(d.range(-0.1, 0.3)));
    put("AnalystTargetPrice", num(price * d.range(0.8, 1.4)));
    for k in ["AnalystRatingStrongBuy", "AnalystRatingBuy", "AnalystRatingHold", "AnalystRatingSell", "AnalystRatingStrongSell"] {
        put(k, json!(format!("{:.0}", d.range(0.0, 12.0).floor())));
    }
    put("PriceToSalesRatioTTM", num(market_cap / revenue));
    put("EVToRevenue", num(ev / revenue));
    put("EVToEBITDA", or_none(ebitda > 1.0, ev / ebitda));
    put("Beta", num(d.range(0.4, 2.0)));
    put("52WeekHigh", num(price * d.range(1.0, 1.5)));
    put("52WeekLow", num(price * d.range(0.6, 1.0)));
    put("50DayMovingAverage", num(price * d.range(0.9, 1.1)));
    put("200DayMovingAverage", num(price * d.range(0.8, 1.2)));
    for field in Field::ALL {
        if d.range(0.0, 1.0) < 0.02 {
            if let Some(v) = o.get_mut(field.name()) {
                *v = json!("None");
            }
        }
    }
    o
}

/// [`overview`] read as a reply is (validity rules applied).
pub(crate) fn fundamentals(seed: u64, symbol: &str) -> Fundamentals {
    Fundamentals::from_overview(&overview(seed, symbol))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn companies_are_seeded_distinct_and_mostly_complete() {
        assert_eq!(overview(1, "AAA"), overview(1, "AAA"));
        assert_ne!(overview(1, "AAA"), overview(2, "AAA"));
        assert_ne!(overview(1, "AAA"), overview(1, "AAB"));
        let f = fundamentals(1, "AAA");
        let have = Field::ALL.iter().filter(|x| f.get(**x).is_some()).count();
        assert!(have * 10 >= Field::ALL.len() * 7, "{have} of {} fields", Field::ALL.len());
        let (cap, shares) = (f.get(Field::MarketCapitalization), f.get(Field::SharesOutstanding));
        assert!(cap.zip(shares).is_some_and(|(c, s)| c > 0.0 && s > 0.0 && f.price().is_some()));
    }
}
