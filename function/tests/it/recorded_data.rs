//! The recorded Alpha Vantage replies in ../shared/data: every file is read, both OVERVIEW
//! schemas parse, and every error body maps to its typed outcome.

use crate::helpers::shared_data;
use stockpicks::adapters::alphavantage::wire;
use stockpicks::domain::universe::Universe;
use stockpicks::ports::FetchError;

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
