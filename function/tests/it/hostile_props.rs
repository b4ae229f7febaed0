//! Property and fuzz-style tests for issue 13, bounded in cases (they run in the normal
//! `cargo test` in a few seconds): any string from a reply, once ingested, carries no control
//! character and no configured secret; and the Alpha Vantage reply parser, the event parser,
//! the universe CSV and the model TOML never panic on any input and keep their invariants.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use stockpicks::adapters::alphavantage::wire;
use stockpicks::domain::events::Event;
use stockpicks::domain::model::Model;
use stockpicks::domain::outcome::FetchError;
use stockpicks::domain::universe::Universe;
use stockpicks::sanitize::is_unsafe_char;

const PROP_KEY: &str = "PROPKEY0123456789";

fn register() {
    // A real key, configured the way the program configures one.
    let _ = stockpicks::secret::Secret::new(PROP_KEY);
}

fn clean_ok(s: &str) -> Result<(), TestCaseError> {
    prop_assert!(!s.chars().any(is_unsafe_char), "unsafe character in {s:?}");
    prop_assert!(!s.contains(PROP_KEY), "secret in {s:?}");
    Ok(())
}

/// Hostile text: ordinary characters, the key whole or with invisible characters inside
/// it, escape sequences, bidi overrides, CR/LF, NUL.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<char>().prop_map(String::from),
        "[a-zA-Z0-9 .,&-]{0,8}",
        Just(PROP_KEY.to_string()),
        (0..PROP_KEY.len(), prop::sample::select(vec!['\u{1b}', '\u{0}', '\u{200b}', '\u{202e}', '\u{7f}', '\u{feff}', '\u{2066}']))
            .prop_map(|(i, c)| format!("{}{c}{}", &PROP_KEY[..i], &PROP_KEY[i..])),
        Just("\u{1b}[2J".to_string()),
        Just("\u{202e}".to_string()),
        Just("\r\n".to_string()),
        Just("\u{0}".to_string()),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        prop::sample::select(vec![
            "Symbol",
            "Name",
            "Sector",
            "Currency",
            "LatestQuarter",
            "EPS",
            "PERatio",
            "MarketCapitalization",
            "SharesOutstanding",
            "Error Message",
            "Note",
            "Information",
            "message",
            "data",
            "Global Quote",
            "05. price",
            "01. symbol",
            "symbol",
            "close",
            "price",
        ])
        .prop_map(String::from),
        "[a-zA-Z0-9 .]{0,10}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        any::<i64>().prop_map(|i| json!(i)),
        hostile_text().prop_map(Value::String),
        prop::sample::select(vec!["None", "-", "0", "1e308", "-1e308", "NaN", "inf", "AAPL", "12%", "2026-11-02"]).prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(3, 48, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8).prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn error_texts(e: &FetchError) -> Vec<String> {
    vec![e.to_string(), format!("{e:?}")]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn hostile_strings_from_a_reply_are_clean_after_ingestion(name in hostile_text(), sector in hostile_text(), eps in hostile_text(), err in hostile_text()) {
        register();
        let body = json!({"Symbol": "AAPL", "Name": name, "Sector": sector, "Currency": name, "LatestQuarter": sector, "EPS": eps, "Beta": [err]});
        let f = wire::overview(&body).unwrap();
        for s in [&f.name, &f.av_sector, &f.currency, &f.latest_quarter].into_iter().flatten() {
            clean_ok(s)?;
        }
        for (k, v) in &f.unreadable {
            clean_ok(k)?;
            clean_ok(v)?;
        }
        // Error texts from the server, as the client hands them on.
        for e in [
            wire::classify(&json!({"Error Message": err})).unwrap_err(),
            FetchError::Malformed(err.clone()),
            FetchError::Transport(err.clone()),
            FetchError::Redirect(err.clone()),
        ] {
            for t in error_texts(&e.sanitized()) {
                clean_ok(&t)?;
            }
        }
        // The same text in a universe file.
        let csv = format!("Symbol,Security,GICS Sector\nAAPL,\"{}\",\"{}\"\n", name.replace('"', "\"\""), sector.replace('"', "\"\""));
        if let Ok((u, _)) = Universe::from_csv(&csv) {
            for m in &u.members {
                clean_ok(&m.name)?;
                clean_ok(&m.sector)?;
            }
        }
        // And whatever a renderer would mask at the end.
        clean_ok(&stockpicks::sanitize::clean(&err))?;
    }

    #[test]
    fn hostile_fuzz_the_reply_parser_never_panics(v in json_value(), raw in prop::collection::vec(any::<u8>(), 0..512)) {
        register();
        for body in [v.clone(), json!({"Symbol": "AAPL", "Global Quote": v.clone(), "data": v.clone()})] {
            if let Ok(f) = wire::overview(&body) {
                for s in [&f.name, &f.av_sector].into_iter().flatten() {
                    clean_ok(s)?;
                }
                prop_assert!(stockpicks::domain::fundamentals::Field::ALL.iter().all(|fl| f.get(*fl).is_none_or(f64::is_finite)));
            }
            if let Ok(p) = wire::global_quote(&body) {
                prop_assert!(p.is_finite() && p > 0.0);
            }
            if let Ok(rows) = wire::bulk_quotes(&body) {
                prop_assert!(rows.iter().all(|(_, p)| p.is_finite() && *p > 0.0));
            }
            if let Err(e) = wire::classify(&body) {
                for t in error_texts(&e.sanitized()) {
                    clean_ok(&t)?;
                }
            }
        }
        let _ = wire::parse_body(&raw);
        let _ = wire::earnings_calendar(&raw);
        let text = v.to_string();
        let _ = wire::parse_body(text.as_bytes());
        let _ = wire::earnings_calendar(text.as_bytes());
    }

    #[test]
    fn hostile_fuzz_the_calendar_csv_never_panics(rows in prop::collection::vec((hostile_text(), "[0-9-]{0,12}", hostile_text()), 0..20)) {
        let mut csv = String::from("symbol,name,reportDate,fiscalDateEnding,estimate,currency\n");
        for (s, d, n) in &rows {
            csv.push_str(&format!("{s},{n},{d},2026-09-30,,USD\n"));
        }
        if let Ok(cal) = wire::earnings_calendar(csv.as_bytes()) {
            prop_assert!(cal.next_report.values().all(|d| stockpicks::domain::time::parse_date_days(d).is_some()));
        }
    }

    #[test]
    fn hostile_fuzz_the_event_parser_never_panics(v in json_value(), op in prop::sample::select(vec!["run", "lane", "sweep", "x"]),
            syms in prop::collection::vec(hostile_text(), 0..5)) {
        let _ = Event::parse(&v);
        let mut with_op = match v.clone() { Value::Object(m) => m, _ => Map::new() };
        with_op.insert("op".into(), json!(op));
        let _ = Event::parse(&Value::Object(with_op));
        let _ = Event::parse(&json!({"op": "run", "symbols": syms.clone()}));
        let _ = Event::parse(&json!({"test_mode": true, "test_symbols": syms}));
        let _ = Event::parse(&json!({"sp500_data": v}));
    }

    #[test]
    fn hostile_fuzz_the_universe_csv_never_panics(text in "(?s).{0,400}", rows in prop::collection::vec((hostile_text(), hostile_text(), hostile_text()), 0..10)) {
        let _ = Universe::from_csv(&text);
        let mut csv = String::from("Symbol,Security,GICS Sector,CIK\n");
        for (s, n, c) in &rows {
            csv.push_str(&format!("{s},{n},{c},{c}\n"));
        }
        if let Ok((u, issues)) = Universe::from_csv(&csv) {
            let mut seen = std::collections::HashSet::new();
            for m in &u.members {
                prop_assert!(seen.insert(m.symbol.clone()), "duplicate {}", m.symbol);
                prop_assert!(!m.name.chars().chain(m.sector.chars()).any(is_unsafe_char));
            }
            for l in issues.lines() {
                prop_assert!(!l.contains('\u{1b}'), "{l:?}");
            }
        }
    }

    #[test]
    fn hostile_fuzz_the_model_toml_never_panics_and_weights_stay_finite(
        text in "(?s).{0,300}",
        groups in prop::collection::vec(("[a-z]{1,6}", prop_oneof![any::<f64>(), 0.0..10.0, Just(1e308), Just(1e6)]), 1..5),
        factors in prop::collection::vec((prop::sample::select(vec!["roe", "profit_margin", "beta", "earnings_yield", "nope"]), 0usize..5,
            prop_oneof![any::<f64>(), 0.0..10.0, Just(1e308)]), 1..6),
    ) {
        let _ = Model::from_toml(&text);
        let mut toml = String::from("name = 'fuzz'\n[groups]\n");
        for (g, w) in &groups {
            toml.push_str(&format!("{g} = {}\n", toml_float(*w)));
        }
        for (f, gi, w) in &factors {
            let g = &groups[gi % groups.len()].0;
            toml.push_str(&format!("[[factors]]\nname = '{f}'\ngroup = '{g}'\nweight = {}\n", toml_float(*w)));
        }
        if let Ok(m) = Model::from_toml(&toml) {
            let total: f64 = m.factors.iter().map(|f| f.effective_weight).sum();
            prop_assert!(m.factors.iter().all(|f| f.effective_weight.is_finite() && f.effective_weight >= 0.0));
            prop_assert!((total - 1.0).abs() < 1e-9, "weights sum to {total}: {toml}");
            prop_assert!(m.groups.iter().all(|g| g.weight.is_finite() && g.weight <= stockpicks::domain::model::MAX_WEIGHT));
            for gi in 0..m.groups.len() {
                prop_assert!(m.factors.iter().any(|f| f.group == gi), "empty group accepted: {toml}");
            }
        }
    }
}

fn toml_float(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else {
        format!("{f:?}")
    }
}
