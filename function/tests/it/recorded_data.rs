//! The recorded Alpha Vantage replies in ../shared/data: every file is read, both OVERVIEW
//! schemas parse, and every error body maps to its typed outcome.

use crate::helpers::shared_data;
use stockpicks::adapters::alphavantage::wire;
use stockpicks::domain::outcome::FetchError;
use stockpicks::domain::universe::Universe;

fn json(p: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn every_recorded_overview_parses_with_missing_values_kept_missing() {
    let Some(data) = shared_data() else { return };
    let dir = data.join("alphavantage/overview");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let v = json(&path);
        let f = wire::overview(&v).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        n += 1;
        assert!(f.unreadable.is_empty(), "{}: {:?}", path.display(), f.unreadable);
        // Every "None" / "-" in the file is missing in the result, never a number.
        for (k, raw) in v.as_object().unwrap() {
            if matches!(raw.as_str(), Some("None" | "-" | "")) {
                assert_eq!(f.value(k), None, "{}: {k}", path.display());
            }
        }
        if v["PEGRatio"] == "0" {
            assert_eq!(f.value("PEGRatio"), None, "{}: PEGRatio 0 is missing", path.display());
        }
    }
    assert!(n >= 18, "read {n} overview files");
    let aapl = wire::overview(&json(&dir.join("AAPL.json"))).unwrap();
    assert_eq!(aapl.value("ProfitMargin"), Some(0.243));
    assert_eq!(aapl.value("AnalystRatingBuy"), Some(21.0));
}

#[test]
fn older_schema_and_quotes_parse() {
    let Some(data) = shared_data() else { return };
    let other = data.join("alphavantage/other");
    let ibm = wire::overview(&json(&other.join("overview_2020_schema.json"))).unwrap();
    assert_eq!(ibm.value("EVToEBITDA"), Some(12.24));
    assert_eq!(ibm.value("AnalystRatingBuy"), None, "the 2020 schema has no rating counts");
    assert_eq!(wire::global_quote(&json(&other.join("global_quote_msft.json"))).unwrap(), 112.13);
    assert_eq!(wire::global_quote(&json(&other.join("globalquote.json"))).unwrap(), 121.74);
    // The premium notice comes with ARTIFICIAL rows: never data.
    assert_eq!(wire::classify(&json(&other.join("realtimebulkquote.json"))).unwrap_err(), FetchError::PremiumOnly);
    for f in ["earnings.json", "daily.json"] {
        assert!(wire::classify(&json(&other.join(f))).is_ok(), "{f}");
    }
}

#[test]
fn every_recorded_error_body_is_typed() {
    let Some(data) = shared_data() else { return };
    let dir = data.join("alphavantage/errors");
    let expect = |name: &str| -> FetchError {
        match name {
            "global_quote_unknown_symbol.json" | "overview_unknown_symbol.json" => FetchError::NotFound,
            "information_burst.json" | "note_throttle_legacy.json" => FetchError::Throttled,
            "information_daily_quota.json" => FetchError::DailyQuotaExhausted,
            "information_premium_endpoint.json" => FetchError::PremiumOnly,
            "information_demo_key.json" => FetchError::DemoKey,
            "error_message_invalid_call.json" => FetchError::InvalidCall(String::new()),
            other => panic!("new error fixture {other}: add its expected outcome"),
        }
    };
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let v = json(&path);
        let got = if name.starts_with("global_quote") { wire::global_quote(&v).unwrap_err() } else { wire::overview(&v).unwrap_err() };
        match (expect(&name), got) {
            (FetchError::InvalidCall(_), FetchError::InvalidCall(msg)) => assert!(msg.contains("Invalid API call")),
            (want, got) => assert_eq!(got, want, "{name}"),
        }
        n += 1;
    }
    assert!(n >= 8, "read {n} error files");
}

#[test]
fn shipped_universe_matches_the_public_constituents_list() {
    let Some(data) = shared_data() else { return };
    let text = std::fs::read_to_string(data.join("sp500/constituents.csv")).unwrap();
    let (public, issues) = Universe::from_csv(&text).unwrap();
    assert!(issues.bad_symbols.is_empty(), "{:?}", issues.lines());
    let (joined, left) = Universe::sp500().diff(&public);
    assert!(
        joined.len() + left.len() <= 10,
        "shipped list differs by {} symbols: joined {joined:?}, left {left:?}",
        joined.len() + left.len()
    );
    // Sectors agree for the members both lists have.
    let shipped = Universe::sp500();
    for m in &public.members {
        if let Some(s) = shipped.get(&m.symbol) {
            assert_eq!(s.sector, m.sector, "{}", m.symbol);
        }
    }
}

// ---- What a reader sees of the recorded replies: validity rules, peer groups, reasons ----

use stockpicks::domain::fundamentals::{Field, Fundamentals, VALIDITY_RULES};
use stockpicks::domain::model::Model;
use stockpicks::domain::report::{self, Explanation, Fetched, ReportInputs, RunReport};
use stockpicks::domain::scoring::{Candidate, Peers};
use stockpicks::domain::sectors::SectorSource;
use stockpicks::domain::source::DataSource;
use stockpicks::domain::Symbol;

/// Every recorded OVERVIEW reply (both schemas), by file stem.
fn recorded_replies(data: &std::path::Path) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(data.join("alphavantage/overview")).unwrap() {
        let path = entry.unwrap().path();
        out.push((path.file_stem().unwrap().to_str().unwrap().to_string(), json(&path)));
    }
    out.push(("IBM-2020".to_string(), json(&data.join("alphavantage/other/overview_2020_schema.json"))));
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_recorded_reply_meets_the_validity_table_and_each_rejection_has_its_reason() {
    let Some(data) = shared_data() else { return };
    let mut fired: Vec<String> = Vec::new();
    for (name, v) in recorded_replies(&data) {
        let raw = Fundamentals::read_overview(v.as_object().unwrap());
        let checked = wire::overview(&v).unwrap();
        for field in Field::ALL {
            let Some(value) = raw.get(*field) else { continue };
            let first = VALIDITY_RULES.iter().find(|r| r.field == *field && r.fires(value, &raw.numbers));
            match first {
                Some(rule) => {
                    assert_eq!(checked.get(*field), None, "{name}: {} {value} fires {} but stays a value", field.name(), rule.id);
                    let rej = checked.rejection(*field).unwrap_or_else(|| panic!("{name}: {} set aside without a reason", field.name()));
                    assert_eq!((rej.rule.as_str(), rej.reason.as_str(), rej.value), (rule.id, rule.reason, value), "{name}");
                    fired.push(format!("{name}:{}:{}", field.name(), rule.id));
                }
                None => assert_eq!(checked.get(*field), Some(value), "{name}: {} changed without a rule", field.name()),
            }
        }
        assert_eq!(checked.rejected.len(), fired.iter().filter(|f| f.starts_with(&format!("{name}:"))).count(), "{name}");
    }
    // What the rules find in the recorded replies, checked by hand against each file.
    let expected = [
        "AAME:OperatingMarginTTM:operating_margin_positive_with_negative_ebitda",
        "ATAI:ProfitMargin:profit_margin_zero_with_income",
        "ATAI:OperatingMarginTTM:operating_margin_positive_with_negative_ebitda",
        "ATAI:EVToEBITDA:ev_ebitda_positive_with_negative_ebitda",
        "ATGL:EPS:eps_zero_with_income",
        "ATGL:DilutedEPSTTM:diluted_eps_zero_with_income",
        "ATGL:QuarterlyEarningsGrowthYOY:earnings_growth_zero_for_loss",
        "ATHE:ProfitMargin:profit_margin_zero_with_income",
        "ATHE:QuarterlyEarningsGrowthYOY:earnings_growth_zero_for_loss",
        "ATHE:EVToEBITDA:ev_ebitda_positive_with_negative_ebitda",
        "AUTL:ProfitMargin:profit_margin_zero_with_income",
        "AUTL:OperatingMarginTTM:operating_margin_out_of_range",
        "AUTL:QuarterlyEarningsGrowthYOY:earnings_growth_zero_for_loss",
        "AUTL:EVToEBITDA:ev_ebitda_positive_with_negative_ebitda",
        "SBFM:QuarterlyEarningsGrowthYOY:earnings_growth_zero_for_loss",
        "SBFM:AnalystTargetPrice:target_price_far_from_price",
        "SHOT:ProfitMargin:profit_margin_zero_with_income",
        "SHOT:OperatingMarginTTM:operating_margin_out_of_range",
        "SHOT:QuarterlyEarningsGrowthYOY:earnings_growth_zero_for_loss",
        "SKYQ:DilutedEPSTTM:diluted_eps_zero_with_income",
        "SKYQ:ReturnOnAssetsTTM:roa_zero_with_income",
        "SKYQ:ReturnOnEquityTTM:roe_zero_with_income",
        "SKYQ:QuarterlyEarningsGrowthYOY:earnings_growth_zero_for_loss",
    ];
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    want.sort();
    fired.sort();
    assert_eq!(fired, want);
}

/// The recorded replies ranked, alone or beside the simulator's S&P 500 (seed 42,
/// 2026-12-01), through the same report builder a run uses.
fn recorded_report(data: &std::path::Path, with_sp500: bool) -> RunReport {
    let replies: Vec<(String, serde_json::Value)> = recorded_replies(data).into_iter().filter(|(n, _)| n != "IBM-2020").collect();
    let sp500 = Universe::sp500();
    let mut symbols: Vec<Symbol> = Vec::new();
    let mut fundamentals: Vec<Fundamentals> = Vec::new();
    if with_sp500 {
        let synth = stockpicks_sim::synth::Synth::new(stockpicks_sim::seed_from("42"));
        let day = stockpicks::domain::time::days_from_civil(2026, 12, 1);
        for m in &sp500.members {
            if replies.iter().any(|(n, _)| n == m.symbol.as_str()) {
                continue;
            }
            symbols.push(m.symbol.clone());
            fundamentals.push(wire::overview(&synth.overview(m.symbol.as_str(), day)).unwrap());
        }
    }
    for (name, v) in &replies {
        symbols.push(Symbol::parse(name).unwrap());
        fundamentals.push(wire::overview(v).unwrap());
    }
    let universe = sp500.select(&symbols);
    let candidates =
        universe.members.iter().cloned().zip(fundamentals).map(|(member, fundamentals)| Candidate { member, fundamentals }).collect();
    let model = Model::default_model();
    let inputs = ReportInputs {
        run_id: "20261201T1300Z-recrd0",
        now_unix: day_unix(),
        data_source: DataSource::Fixtures,
        universe: &universe,
        model: &model,
        top: 25,
        min_run_coverage: 0.9,
        api: Default::default(),
        elapsed_ms: 0,
        warnings: vec![],
    };
    report::build(inputs, &Fetched { candidates, failures: vec![] })
}

fn day_unix() -> i64 {
    stockpicks::domain::time::days_from_civil(2026, 12, 1) * 86_400 + 13 * 3600
}

#[test]
fn recorded_loss_makers_get_no_positive_ebitda_yield_and_no_zero_margin() {
    let Some(data) = shared_data() else { return };
    for with_sp500 in [false, true] {
        let r = recorded_report(&data, with_sp500);
        for sym in ["ATAI", "AUTL", "ATHE", "SHOT"] {
            let s = r.ranking.iter().find(|p| p.symbol.as_str() == sym).unwrap_or_else(|| panic!("{sym} ranked"));
            let ev = &s.factors["ebitda_ev"];
            assert!(ev.value.is_none_or(|v| v < 0.0), "{sym}: EBITDA/EV {:?}", ev.value);
            let pm = &s.factors["profit_margin"];
            assert_ne!(pm.value, Some(0.0), "{sym}: a profit margin of 0");
            assert!(pm.missing.as_deref().is_some_and(|m| m.contains("set aside")), "{sym}: {:?}", pm.missing);
            // The reason is in explain as well as in results.json.
            let text = stockpicks::render::text::explain(&r, &s.symbol).unwrap();
            assert!(text.contains("profit_margin missing: ProfitMargin 0 set aside"), "{text}");
        }
    }
}

#[test]
fn no_recorded_symbol_lands_in_an_unknown_peer_group() {
    let Some(data) = shared_data() else { return };
    for with_sp500 in [false, true] {
        let r = recorded_report(&data, with_sp500);
        for s in &r.ranking {
            assert!(!s.sector.is_empty() && !s.sector.eq_ignore_ascii_case("unknown"), "{}: {:?}", s.symbol, s.sector);
            assert!(stockpicks::domain::sectors::GICS_SECTORS.contains(&s.sector.as_str()), "{}: {}", s.symbol, s.sector);
        }
        let source = |sym: &str| r.ranking.iter().find(|p| p.symbol.as_str() == sym).map(|p| (p.sector.clone(), p.sector_source.clone()));
        let mapped = |sym: &str, gics: &str| {
            let unranked = r.unranked.iter().find(|u| u.symbol.as_str() == sym).map(|u| u.reason.clone());
            let (sector, src) = source(sym).unwrap_or_else(|| panic!("{sym} not ranked: {unranked:?}"));
            assert_eq!(sector, gics, "{sym}");
            assert!(matches!(src, SectorSource::AlphaVantage { .. }), "{sym}: {src:?}");
        };
        mapped("ATAI", "Health Care");
        mapped("DB", "Financials");
        mapped("AAME", "Financials");
        mapped("DBI", "Consumer Discretionary");
        mapped("DBX", "Information Technology");
        mapped("SHOT", "Consumer Staples");
        mapped("AIRS", "Health Care");
        // SKYQ's placeholders leave it under the coverage gate: unranked, each gap with its reason.
        let skyq = r.unranked.iter().find(|u| u.symbol.as_str() == "SKYQ").expect("SKYQ unranked");
        assert!(skyq.reason.contains("roe (ReturnOnEquityTTM 0 set aside"), "{}", skyq.reason);
        assert!(r.ranking.iter().all(|p| p.symbol.as_str() != "SKYQ"));
        assert_eq!(source("AAPL").unwrap(), ("Information Technology".to_string(), SectorSource::UniverseFile));
        if with_sp500 {
            // Beside the index, ATAI is ranked among the health-care companies, not a bucket of micro-caps.
            let atai = r.ranking.iter().find(|p| p.symbol.as_str() == "ATAI").unwrap();
            let roa = &atai.factors["roa"];
            assert_eq!(roa.peers, Some(Peers::Sector));
            assert!(roa.peer_count.unwrap() >= 50, "{:?}", roa.peer_count);
        } else {
            // 18 names in six sectors: no sector has the 10 a percentile needs; all on the universe.
            assert!(r.ranking.iter().all(|p| p.factors.values().all(|f| f.peers != Some(Peers::Sector))));
        }
        assert!(stockpicks::render::data_line(&r).contains("Peers: 12 not in the universe file"), "{}", stockpicks::render::data_line(&r));
    }
}

#[test]
fn no_reason_shows_a_figure_of_ten_thousand_percent_or_claims_a_share_of_a_few() {
    let Some(data) = shared_data() else { return };
    for with_sp500 in [false, true] {
        let r = recorded_report(&data, with_sp500);
        for s in &r.ranking {
            for reason in &s.reasons {
                // Every figure written before a "%" is under 1,000, or the capped "> 1,000%" / "< -1,000%".
                for (i, _) in reason.match_indices('%') {
                    let head: String = reason[..i].chars().rev().take_while(|c| c.is_ascii_digit() || matches!(c, '.' | ',')).collect();
                    let figure: f64 = head.chars().rev().filter(|c| *c != ',').collect::<String>().parse().unwrap_or(0.0);
                    let capped = reason[..i].ends_with("> 1,000") || reason[..i].ends_with("< -1,000");
                    assert!(figure < 1000.0 || capped, "{}: {reason}", s.symbol);
                }
                assert!(
                    !reason.contains("top 1%") || s.factors.values().any(|f| f.peer_count.unwrap_or(0) >= 100),
                    "{}: {reason}",
                    s.symbol
                );
            }
        }
        if !with_sp500 {
            // 18 names: places, not shares.
            assert!(
                r.ranking
                    .iter()
                    .flat_map(|s| &s.reasons)
                    .filter(|x| x.starts_with("Strength"))
                    .all(|x| x.contains(" of 18 in the universe)") || x.contains(" of 1")),
                "{:?}",
                r.ranking[0].reasons
            );
        }
        // Coverage is stored without float artefacts, and explain's total is the score.
        for s in &r.ranking {
            assert_eq!(s.coverage, format!("{:.4}", s.coverage).parse::<f64>().unwrap());
            let Explanation::Ranked { total, .. } = r.explain(&s.symbol) else { panic!() };
            assert_eq!(format!("{total:.2}"), format!("{:.2}", s.score), "{}", s.symbol);
        }
    }
}

#[test]
fn low_coverage_is_said_in_the_reasons() {
    let Some(data) = shared_data() else { return };
    let r = recorded_report(&data, false);
    for s in &r.ranking {
        let says = s.reasons.iter().any(|x| x.starts_with("Low coverage: data for"));
        assert_eq!(says, s.coverage < 0.8, "{} coverage {}: {:?}", s.symbol, s.coverage, s.reasons);
    }
    assert!(r.ranking.iter().any(|s| s.coverage < 0.8), "some recorded stock has low coverage");
}
