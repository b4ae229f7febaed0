//! Deterministic synthetic companies: the same (seed, symbol, day) always gives the same
//! OVERVIEW, with sector-typical margins, valuations and growth, internally consistent
//! (market cap = price x shares, P/E = price / EPS, ...), and a realistic share of missing
//! fields. Prices drift smoothly from day to day so week-over-week comparisons mean something.

use serde_json::{json, Map, Value};
use std::collections::HashMap;
use stockpicks::domain::universe::Universe;

/// A small, fast, well-mixed hash (SplitMix64 finaliser) for deterministic draws.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub fn hash_str(seed: u64, s: &str) -> u64 {
    s.bytes().fold(mix(seed), |h, b| mix(h ^ b as u64))
}

/// A stream of deterministic draws for one company.
struct Draws(u64);

impl Draws {
    fn uniform(&mut self) -> f64 {
        self.0 = mix(self.0);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let (u1, u2) = (self.uniform().max(1e-12), self.uniform());
        mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }
}

/// Typical figures of a GICS sector.
struct SectorProfile {
    av_sector: &'static str,
    margin: (f64, f64),
    op_extra: f64,
    asset_turnover: f64,
    leverage: f64,
    price_to_sales: f64,
    growth: f64,
    beta: f64,
}

/// One row of the sector table below: positional, so each row reads as a line of figures.
#[allow(clippy::too_many_arguments)]
const fn p(
    av_sector: &'static str,
    margin: (f64, f64),
    op_extra: f64,
    asset_turnover: f64,
    leverage: f64,
    price_to_sales: f64,
    growth: f64,
    beta: f64,
) -> SectorProfile {
    SectorProfile { av_sector, margin, op_extra, asset_turnover, leverage, price_to_sales, growth, beta }
}

fn profile(gics: &str) -> SectorProfile {
    match gics {
        "Information Technology" => p("TECHNOLOGY", (0.18, 0.12), 0.06, 0.6, 2.0, 6.0, 0.10, 1.2),
        "Health Care" => p("LIFE SCIENCES", (0.10, 0.12), 0.05, 0.5, 2.2, 3.5, 0.06, 0.8),
        "Financials" => p("FINANCE", (0.20, 0.08), 0.08, 0.08, 9.0, 3.0, 0.05, 1.1),
        "Consumer Discretionary" => p("TRADE & SERVICES", (0.08, 0.06), 0.04, 1.1, 2.8, 1.8, 0.06, 1.2),
        "Communication Services" => p("TECHNOLOGY", (0.14, 0.10), 0.06, 0.5, 2.2, 3.0, 0.05, 1.0),
        "Industrials" => p("MANUFACTURING", (0.10, 0.05), 0.05, 0.8, 2.8, 2.2, 0.05, 1.05),
        "Consumer Staples" => p("MANUFACTURING", (0.08, 0.04), 0.04, 1.0, 3.0, 1.6, 0.03, 0.6),
        "Energy" => p("ENERGY & TRANSPORTATION", (0.10, 0.07), 0.06, 0.6, 2.0, 1.4, 0.02, 1.1),
        "Utilities" => p("ENERGY & TRANSPORTATION", (0.12, 0.05), 0.10, 0.2, 3.5, 2.4, 0.04, 0.5),
        "Real Estate" => p("REAL ESTATE & CONSTRUCTION", (0.22, 0.12), 0.10, 0.12, 2.2, 7.0, 0.04, 0.9),
        "Materials" => p("MANUFACTURING", (0.10, 0.06), 0.05, 0.7, 2.2, 2.0, 0.03, 1.0),
        _ => p("MANUFACTURING", (0.09, 0.08), 0.05, 0.7, 2.5, 2.5, 0.05, 1.0),
    }
}

pub const SECTORS: [&str; 11] = [
    "Information Technology",
    "Health Care",
    "Financials",
    "Consumer Discretionary",
    "Communication Services",
    "Industrials",
    "Consumer Staples",
    "Energy",
    "Utilities",
    "Real Estate",
    "Materials",
];

/// Knows names and sectors of index members; invents them for anything else.
pub struct Synth {
    seed: u64,
    known: HashMap<String, (String, String)>,
    reporting: Option<Reporting>,
}

/// Sets the share of companies that reported in the week ending on `week_ending` (a day
/// number), for benchmarks of quiet weeks and earnings season.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reporting {
    pub share: f64,
    pub week_ending: i64,
}

impl Synth {
    pub fn new(seed: u64) -> Synth {
        let known = Universe::sp500().members.into_iter().map(|m| (m.symbol.to_string(), (m.name, m.sector))).collect();
        Synth { seed, known, reporting: None }
    }

    pub fn with_reporting(mut self, reporting: Option<Reporting>) -> Synth {
        self.reporting = reporting;
        self
    }

    /// The companies it knows by name (the S&P 500), as (symbol, name).
    pub fn known_companies(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut v: Vec<(&str, &str)> = self.known.iter().map(|(s, (n, _))| (s.as_str(), n.as_str())).collect();
        v.sort();
        v.into_iter()
    }

    fn identity(&self, symbol: &str) -> (String, String) {
        match self.known.get(symbol) {
            Some((name, sector)) => (name.clone(), sector.clone()),
            None => {
                let h = hash_str(self.seed ^ 0x5EC7, symbol);
                (format!("{symbol} Holdings"), SECTORS[(h % SECTORS.len() as u64) as usize].to_string())
            }
        }
    }

    /// The price on `day` (days since 1970-01-01): a base level times a smooth,
    /// deterministic wander of a few tens of percent over a year.
    pub fn price(&self, symbol: &str, day: i64) -> f64 {
        let mut d = Draws(hash_str(self.seed, symbol));
        let base = 10f64.powf(1.3 + 1.3 * d.uniform());
        let t = day as f64;
        let mut wander = 0.0;
        for period in [370.0, 130.0, 45.0, 11.0] {
            let amp = 0.35 * (period / 370.0f64).sqrt() * (0.5 + d.uniform());
            wander += amp * (std::f64::consts::TAU * (t / period + d.uniform())).sin();
        }
        round_to(base * wander.exp(), 2)
    }

    /// The day `symbol` reports quarter `q` (see [`quarter_end_day`]): 20 to 64 days after
    /// the quarter ends, or as the reporting override places it.
    pub fn report_day(&self, symbol: &str, q: i64) -> i64 {
        let h = mix(hash_str(self.seed ^ 0xEA27, symbol) ^ (q as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let natural = quarter_end_day(q) + 20 + (h % 45) as i64;
        let Some(r) = self.reporting else { return natural };
        // The override moves the reports of the quarter that ended before its week.
        if q != quarter_of(r.week_ending) - 1 {
            return natural;
        }
        let (lo, hi) = (r.week_ending - 6, r.week_ending);
        let unit = (mix(hash_str(self.seed ^ 0x5E1E, symbol)) >> 11) as f64 / (1u64 << 53) as f64;
        let selected = unit < r.share;
        if selected {
            hi - (h % 7) as i64
        } else if (lo..=hi).contains(&natural) {
            // Out of the week: before it when the quarter leaves room, else after it.
            if lo - 11 > quarter_end_day(q) + 20 {
                lo - 1 - (h % 10) as i64
            } else {
                hi + 1 + (h % 20) as i64
            }
        } else {
            natural
        }
    }

    /// The last quarter `symbol` reported by `day`, and the day it did.
    pub fn last_report(&self, symbol: &str, day: i64) -> (i64, i64) {
        let q0 = quarter_of(day);
        (q0 - 3..=q0).rev().map(|q| (q, self.report_day(symbol, q))).find(|(_, d)| *d <= day).expect("a report within a year")
    }

    /// The next day after `day` that `symbol` reports.
    pub fn next_report(&self, symbol: &str, day: i64) -> i64 {
        let q0 = quarter_of(day);
        (q0 - 2..=q0 + 1).map(|q| self.report_day(symbol, q)).filter(|d| *d > day).min().expect("a report within a year")
    }

    /// Mean price over the `n` days up to `day` (sampled every `step` days).
    fn mean_price(&self, symbol: &str, day: i64, n: i64, step: usize) -> f64 {
        let v: Vec<f64> = (0..n).step_by(step).map(|k| self.price(symbol, day - k)).collect();
        v.iter().sum::<f64>() / v.len() as f64
    }

    /// The OVERVIEW reply for `symbol` as of `day`. The company's books change only when it
    /// reports (each quarter, 20-64 days after the quarter ends); price-dependent fields
    /// (market value, P/E, yields, moving averages, the 52-week range) follow the price.
    pub fn overview(&self, symbol: &str, day: i64) -> Value {
        let (name, sector) = self.identity(symbol);
        let prof = profile(&sector);
        let (quarter, reported) = self.last_report(symbol, day);
        // The company's traits, then this quarter's news.
        let mut d = Draws(hash_str(self.seed.wrapping_add(1), symbol));
        let mut n = Draws(mix(hash_str(self.seed.wrapping_add(3), symbol) ^ (quarter as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93)));
        let price = self.price(symbol, day);
        let ref_price = self.price(symbol, reported);
        let shares = 10f64.powf(8.0 + 2.0 * d.uniform()).round();
        let market_cap = (price * shares).round();
        let ref_cap = ref_price * shares;
        let ps_base = (prof.price_to_sales * d.normal(0.0, 0.45).exp()).max(0.1);
        let revenue = (ref_cap / ps_base * n.normal(0.0, 0.03).exp()).round();
        let ps = market_cap / revenue;
        let margin = d.normal(prof.margin.0, prof.margin.1) + n.normal(0.0, 0.01);
        let op_margin = margin + prof.op_extra + d.normal(0.0, 0.03);
        let net_income = revenue * margin;
        let eps = net_income / shares;
        let turnover = prof.asset_turnover * d.normal(0.0, 0.3).exp();
        let leverage = prof.leverage * d.normal(0.0, 0.3).exp();
        let roa = margin * turnover;
        let roe = roa * leverage;
        let ebitda = revenue * (op_margin + 0.04 + d.uniform() * 0.06);
        let ev = market_cap + ref_cap * d.normal(0.15, 0.15).max(-0.3);
        let rev_growth = d.normal(prof.growth, 0.07) + n.normal(0.0, 0.04);
        let earn_growth = d.normal(prof.growth * 1.5, 0.25) + n.normal(0.0, 0.15);
        let dma200 = self.mean_price(symbol, day, 200, 5);
        let dma50 = self.mean_price(symbol, day, 50, 2);
        let path: Vec<f64> = (0..365).step_by(3).map(|k| self.price(symbol, day - k)).collect();
        let high52 = path.iter().copied().fold(price, f64::max);
        let low52 = path.iter().copied().fold(price, f64::min);
        let target = ref_price * d.normal(1.08, 0.12).max(0.5) * n.normal(0.0, 0.05).exp();
        let analysts = (d.uniform() * 40.0).round() as u32;
        let optimism = d.uniform();
        let mut ratings = [0u32; 5];
        for _ in 0..analysts {
            let u = d.uniform() * 0.6 + optimism * 0.4;
            let i = match u {
                x if x > 0.80 => 0,
                x if x > 0.55 => 1,
                x if x > 0.25 => 2,
                x if x > 0.10 => 3,
                _ => 4,
            };
            ratings[i] += 1;
        }
        let book_value = (net_income / roe.max(0.01)) / shares;
        let dps = if d.chance(0.25) { 0.0 } else { ref_price * d.uniform() * 0.05 };
        let div_yield = dps / price;
        let beta = (prof.beta * d.normal(0.0, 0.25).exp()).max(0.1);
        let latest_quarter = stockpicks::domain::time::date(quarter_end_day(quarter) * 86_400);

        let mut o = Map::new();
        let mut put = |k: &str, v: Value| {
            o.insert(k.to_string(), v);
        };
        put("Symbol", json!(symbol));
        put("AssetType", json!("Common Stock"));
        put("Name", json!(name));
        put(
            "Description",
            json!(format!(
                "{name} is a synthetic company generated by the stockpicks simulator. Its figures are invented and plausible, not real."
            )),
        );
        put("Exchange", json!("NYSE"));
        put("Currency", json!("USD"));
        put("Country", json!("USA"));
        put("Sector", json!(prof.av_sector));
        put("Industry", json!(sector.to_ascii_uppercase()));
        put("FiscalYearEnd", json!("December"));
        put("LatestQuarter", json!(latest_quarter));
        put("MarketCapitalization", s0(market_cap));
        put("EBITDA", s0(ebitda));
        put("PERatio", if eps > 0.0 { s(price / eps, 2) } else { json!("None") });
        put("PEGRatio", if eps > 0.0 && earn_growth > 0.0 { s(price / eps / (earn_growth * 100.0), 3) } else { json!("0") });
        put("BookValue", s(book_value, 3));
        put("DividendPerShare", s(dps, 2));
        put("DividendYield", s(div_yield, 4));
        put("EPS", s(eps, 2));
        put("RevenuePerShareTTM", s(revenue / shares, 2));
        put("ProfitMargin", s(margin, 3));
        put("OperatingMarginTTM", s(op_margin, 3));
        put("ReturnOnAssetsTTM", s(roa, 4));
        put("ReturnOnEquityTTM", s(roe, 3));
        put("RevenueTTM", s0(revenue));
        put("GrossProfitTTM", s0(revenue * (op_margin + 0.2).min(0.95)));
        put("DilutedEPSTTM", s(eps, 2));
        put("QuarterlyEarningsGrowthYOY", s(earn_growth, 3));
        put("QuarterlyRevenueGrowthYOY", s(rev_growth, 3));
        put("AnalystTargetPrice", s(target, 2));
        for (k, n) in ["AnalystRatingStrongBuy", "AnalystRatingBuy", "AnalystRatingHold", "AnalystRatingSell", "AnalystRatingStrongSell"]
            .iter()
            .zip(ratings)
        {
            put(k, if analysts == 0 { json!("-") } else { json!(n.to_string()) });
        }
        put("TrailingPE", if eps > 0.0 { s(price / eps, 2) } else { json!("-") });
        put("ForwardPE", if eps > 0.0 { s(price / (eps * (1.0 + earn_growth.clamp(-0.5, 1.0))), 2) } else { json!("-") });
        put("PriceToSalesRatioTTM", s(ps, 3));
        put("PriceToBookRatio", if book_value > 0.0 { s(price / book_value, 3) } else { json!("-") });
        put("EVToRevenue", s(ev / revenue, 3));
        put("EVToEBITDA", if ebitda.abs() > 1.0 { s(ev / ebitda, 2) } else { json!("-") });
        put("Beta", s(beta, 3));
        put("52WeekHigh", s(high52, 2));
        put("52WeekLow", s(low52, 2));
        put("50DayMovingAverage", s(dma50, 2));
        put("200DayMovingAverage", s(dma200, 2));
        put("SharesOutstanding", s0(shares));
        put("DividendDate", json!("None"));
        put("ExDividendDate", json!("None"));

        // Real replies miss fields now and then: about 2% of numeric fields read "None".
        let mut gaps = Draws(hash_str(self.seed.wrapping_add(2), symbol));
        for field in stockpicks::domain::fundamentals::Field::ALL {
            if gaps.chance(0.02) {
                if let Some(v) = o.get_mut(field.name()) {
                    *v = json!("None");
                }
            }
        }
        Value::Object(o)
    }

    /// The GLOBAL_QUOTE reply.
    pub fn global_quote(&self, symbol: &str, day: i64) -> Value {
        let price = self.price(symbol, day);
        let prev = self.price(symbol, day - 1);
        json!({"Global Quote": {
            "01. symbol": symbol,
            "02. open": fmt4(prev),
            "03. high": fmt4(price.max(prev) * 1.004),
            "04. low": fmt4(price.min(prev) * 0.996),
            "05. price": fmt4(price),
            "06. volume": (mix(hash_str(self.seed, symbol) ^ day as u64) % 20_000_000 + 500_000).to_string(),
            "07. latest trading day": stockpicks::domain::time::date(day * 86_400),
            "08. previous close": fmt4(prev),
            "09. change": fmt4(price - prev),
            "10. change percent": format!("{:.4}%", (price / prev - 1.0) * 100.0),
        }})
    }

    /// A REALTIME_BULK_QUOTES row.
    pub fn bulk_row(&self, symbol: &str, day: i64) -> Value {
        let price = self.price(symbol, day);
        let prev = self.price(symbol, day - 1);
        json!({
            "symbol": symbol,
            "timestamp": format!("{} 19:59:59.000", stockpicks::domain::time::date(day * 86_400)),
            "open": fmt4(prev), "high": fmt4(price.max(prev)), "low": fmt4(price.min(prev)),
            "close": fmt4(price), "volume": "1000000", "previous_close": fmt4(prev),
            "change": fmt4(price - prev), "change_percent": format!("{:.4}", (price / prev - 1.0) * 100.0),
        })
    }
}

fn round_to(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

fn s(x: f64, places: usize) -> Value {
    json!(format!("{x:.places$}"))
}

fn s0(x: f64) -> Value {
    json!(format!("{x:.0}"))
}

fn fmt4(x: f64) -> String {
    format!("{x:.4}")
}

/// Quarter index of a day: year x 4 + (0 for Jan-Mar ... 3 for Oct-Dec).
pub fn quarter_of(day: i64) -> i64 {
    let (y, m, _) = stockpicks::domain::time::civil_from_days(day);
    y * 4 + (m as i64 - 1) / 3
}

/// The last day of quarter `q`.
pub fn quarter_end_day(q: i64) -> i64 {
    let (y, k) = (q.div_euclid(4), q.rem_euclid(4));
    let (m, d) = [(3, 31), (6, 30), (9, 30), (12, 31)][k as usize];
    stockpicks::domain::time::days_from_civil(y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use stockpicks::domain::fundamentals::Fundamentals;

    #[test]
    fn deterministic_and_consistent() {
        let s = Synth::new(7);
        let a = s.overview("AAPL", 20_000);
        assert_eq!(a, s.overview("AAPL", 20_000));
        assert_ne!(a, Synth::new(8).overview("AAPL", 20_000));
        assert_eq!(a["Name"], "Apple Inc.");
        assert_eq!(a["Sector"], "TECHNOLOGY");
        let f = Fundamentals::from_overview(a.as_object().unwrap());
        let price = s.price("AAPL", 20_000);
        if let Some(derived) = f.price() {
            assert!((derived / price - 1.0).abs() < 1e-3, "{derived} vs {price}");
        }
    }

    #[test]
    fn any_symbol_gets_a_company_and_prices_move() {
        let s = Synth::new(1);
        let o = s.overview("ZZZQ", 20_000);
        assert_eq!(o["Name"], "ZZZQ Holdings");
        assert_ne!(s.price("ZZZQ", 20_000), s.price("ZZZQ", 20_007));
        assert!(s.price("ZZZQ", 20_000) > 0.0);
    }

    #[test]
    fn quarters_and_report_days() {
        use stockpicks::domain::time::days_from_civil;
        let q = quarter_of(days_from_civil(2026, 11, 28));
        assert_eq!(quarter_end_day(q), days_from_civil(2026, 12, 31));
        assert_eq!(quarter_end_day(q - 1), days_from_civil(2026, 9, 30));
        assert_eq!(quarter_end_day(q - 4), days_from_civil(2025, 12, 31));
        let s = Synth::new(3);
        let day = days_from_civil(2026, 11, 28);
        for sym in ["AAPL", "MSFT", "KO", "ZZZQ"] {
            let (rq, rd) = s.last_report(sym, day);
            assert!(rd <= day && rd >= quarter_end_day(rq) + 20 && rd <= quarter_end_day(rq) + 64);
            let next = s.next_report(sym, day);
            assert!(next > day && next - rd <= 91 + 45, "{sym}: {rd} {next}");
            assert_eq!(s.last_report(sym, next).1, next);
        }
    }

    #[test]
    fn books_change_only_when_the_company_reports() {
        let s = Synth::new(5);
        let (_, reported) = s.last_report("KO", 20_500);
        let next = s.next_report("KO", 20_500);
        let before = s.overview("KO", reported);
        let later = s.overview("KO", next - 1);
        assert_eq!(before["EPS"], later["EPS"]);
        assert_eq!(before["RevenueTTM"], later["RevenueTTM"]);
        assert_ne!(before["PERatio"], later["PERatio"], "price-dependent ratios move with the price");
        let after = s.overview("KO", next);
        assert_ne!(before["EPS"], after["EPS"], "a new quarter brings new books");
    }

    #[test]
    fn the_reporting_override_sets_the_share_that_reported_in_the_week() {
        let day = stockpicks::domain::time::days_from_civil(2026, 11, 30);
        let syms: Vec<String> = Universe::sp500().members.iter().map(|m| m.symbol.to_string()).collect();
        for share in [0.05, 0.35] {
            let s = Synth::new(42).with_reporting(Some(Reporting { share, week_ending: day }));
            let reported = syms.iter().filter(|x| s.last_report(x, day).1 > day - 7).count() as f64 / syms.len() as f64;
            assert!((reported - share).abs() < 0.04, "{share}: {reported}");
            // The calendar a week earlier announced exactly those.
            let announced = syms.iter().filter(|x| s.next_report(x, day - 7) <= day).count() as f64 / syms.len() as f64;
            assert_eq!(announced, reported);
        }
    }
}
