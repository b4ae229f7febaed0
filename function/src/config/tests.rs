use super::*;
use std::collections::HashMap;

fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Config::from_lookup(|k| map.get(k).cloned())
}

fn lc(pairs: &[(&str, &str)]) -> Result<LambdaConfig, ConfigError> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    LambdaConfig::from_lookup(|k| map.get(k).cloned())
}

#[test]
fn defaults() {
    let c = cfg(&[]).unwrap();
    assert_eq!(c.alpha_vantage.rate_per_min, 75.0);
    assert!(!c.alpha_vantage.rate_is_explicit);
    assert_eq!(c.alpha_vantage.max_workers, 5);
    assert_eq!(c.alpha_vantage.timeout, Duration::from_secs(5));
    assert!(c.alpha_vantage.api_key.is_none());
    assert_eq!(c.fanout.chunk_size, 50);
    assert_eq!(c.fanout.distributed_threshold, 100);
    assert_eq!(c.fanout.run_deadline, Duration::from_secs(3600));
    assert_eq!(c.run.min_run_coverage, 0.9);
    assert!(c.cache.enabled);
    assert_eq!(c.cache.max_age_days, 30);
    assert_eq!(c.openai.base_url, DEFAULT_OPENAI_BASE_URL);
    assert_eq!(c.openai.model, DEFAULT_OPENAI_MODEL);
}

#[test]
fn each_variable_lands_in_its_section() {
    let c = cfg(&[
        ("ALPHA_VANTAGE_RATE_PER_MIN", "600"),
        ("MAX_WORKERS", "8"),
        ("PRICE_SOURCE", "global_quote"),
        ("CHUNK_SIZE", "25"),
        ("RUN_DEADLINE_MINS", "2"),
        ("EMAIL_SENDER", "from@x.com"),
        ("OVERVIEW_CACHE", "off"),
        ("CACHE_MAX_AGE_DAYS", "7"),
        ("OPENAI_MODEL", "m1"),
        ("MIN_RUN_COVERAGE", "0.5"),
    ])
    .unwrap();
    assert!(c.alpha_vantage.rate_is_explicit);
    assert_eq!((c.alpha_vantage.rate_per_min, c.alpha_vantage.max_workers), (600.0, 8));
    assert_eq!(c.alpha_vantage.price_source, PriceSource::GlobalQuote);
    assert_eq!((c.fanout.chunk_size, c.fanout.run_deadline), (25, Duration::from_secs(120)));
    assert_eq!(c.mail.sender, "from@x.com");
    assert_eq!((c.cache.enabled, c.cache.max_age_days), (false, 7));
    assert_eq!(c.openai.model, "m1");
    assert_eq!(c.run.min_run_coverage, 0.5);
}

#[test]
fn bad_values_name_the_variable() {
    let e = cfg(&[("MAX_WORKERS", "lots")]).unwrap_err();
    assert_eq!(e.var, "MAX_WORKERS");
    assert!(e.to_string().contains("MAX_WORKERS=lots"), "{e}");
    let e = cfg(&[("ALPHA_VANTAGE_RATE_PER_MIN", "0")]).unwrap_err();
    assert_eq!(e.var, "ALPHA_VANTAGE_RATE_PER_MIN");
    let e = cfg(&[("EMAIL_RECIPIENT", "a@b.c, evil@x.y\r\nBcc: z@z.z")]).unwrap_err();
    assert_eq!(e.var, "EMAIL_RECIPIENT");
    let e = cfg(&[("ALPHA_VANTAGE_BASE_URL", "ftp://x")]).unwrap_err();
    assert_eq!(e.var, "ALPHA_VANTAGE_BASE_URL");
    let e = cfg(&[("OPENAI_BASE_URL", "https://x/v1?key=1")]).unwrap_err();
    assert_eq!(e.var, "OPENAI_BASE_URL");
}

/// Every whole-number variable, with a value in its range and what it reads as.
const WHOLE: &[(&str, &str, u64)] = &[
    ("MAX_WORKERS", "3", 3),
    ("ALPHA_VANTAGE_TIMEOUT_MS", "800", 800),
    ("ALPHA_VANTAGE_MAX_ATTEMPTS", "3", 3),
    ("CHUNK_SIZE", "20", 20),
    ("DISTRIBUTED_THRESHOLD", "40", 40),
    ("MAX_PARALLEL_LANES", "4", 4),
    ("TIME_BUDGET_SECS", "120", 120),
    ("RUN_DEADLINE_MINS", "5", 5),
    ("CACHE_MAX_AGE_DAYS", "9", 9),
    ("OPENAI_TIMEOUT_SECS", "15", 15),
    ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048", 2048),
];

/// The value a whole-number variable was read as, from whichever config holds it.
fn read_whole(var: &str, value: &str) -> Result<u64, ConfigError> {
    if var == "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" {
        return lc(&[("S3_BUCKET", "picks"), (var, value)]).map(|l| l.memory_mb as u64);
    }
    let c = cfg(&[(var, value)])?;
    Ok(match var {
        "MAX_WORKERS" => c.alpha_vantage.max_workers as u64,
        "ALPHA_VANTAGE_TIMEOUT_MS" => c.alpha_vantage.timeout.as_millis() as u64,
        "ALPHA_VANTAGE_MAX_ATTEMPTS" => c.alpha_vantage.max_attempts as u64,
        "CHUNK_SIZE" => c.fanout.chunk_size as u64,
        "DISTRIBUTED_THRESHOLD" => c.fanout.distributed_threshold as u64,
        "MAX_PARALLEL_LANES" => c.fanout.max_parallel_lanes as u64,
        "TIME_BUDGET_SECS" => c.fanout.time_budget.as_secs(),
        "RUN_DEADLINE_MINS" => c.fanout.run_deadline.as_secs() / 60,
        "CACHE_MAX_AGE_DAYS" => c.cache.max_age_days as u64,
        "OPENAI_TIMEOUT_SECS" => c.openai.timeout.as_secs(),
        other => panic!("{other} is not in the table"),
    })
}

#[test]
fn whole_number_variables_refuse_fractions_instead_of_truncating() {
    for &(var, good, expected) in WHOLE {
        assert_eq!(read_whole(var, good), Ok(expected), "{var}={good}");
        // A fraction inside the range: it used to be truncated to `expected` without a word.
        let fraction = format!("{good}.7");
        let e = read_whole(var, &fraction).unwrap_err();
        assert_eq!(e.var, var);
        assert!(e.to_string().contains(&format!("{var}={fraction}")) && e.why.contains("whole number"), "{e}");
        for bad in ["-1", "1e2", "lots", "99999999999999999999"] {
            assert_eq!(read_whole(var, bad).unwrap_err().var, var, "{var}={bad}");
        }
    }
}

#[test]
fn max_workers_2_7_is_refused() {
    let e = cfg(&[("MAX_WORKERS", "2.7")]).unwrap_err();
    assert_eq!(e, ConfigError { var: "MAX_WORKERS", value: "2.7".into(), why: "must be a whole number between 1 and 256".into() });
}

#[test]
fn secrets_are_never_shown() {
    let e = cfg(&[("ALPHA_VANTAGE_API_KEY", "\"SECRETKEY123\"")]).unwrap_err();
    assert!(!e.to_string().contains("SECRETKEY123"), "{e}");
    let c = cfg(&[("ALPHA_VANTAGE_API_KEY", "SECRETKEY123"), ("OPENAI_API_KEY", "sk-OTHERSECRET")]).unwrap();
    let shown = format!("{c:?}");
    assert!(!shown.contains("SECRETKEY123") && !shown.contains("OTHERSECRET"), "{shown}");
}

#[test]
fn lambda_config_needs_a_bucket_and_real_arns() {
    assert_eq!(lc(&[]).unwrap_err().var, "S3_BUCKET");
    assert_eq!(lc(&[("S3_BUCKET", "Bad_Bucket")]).unwrap_err().var, "S3_BUCKET");
    assert_eq!(lc(&[("S3_BUCKET", "b-1"), ("ALPHA_VANTAGE_SECRET_ARN", "key123")]).unwrap_err().var, "ALPHA_VANTAGE_SECRET_ARN");
    let ok = lc(&[("S3_BUCKET", "picks-prod"), ("AWS_LAMBDA_FUNCTION_VERSION", "7")]).unwrap();
    assert_eq!(ok.function_name, "stock-analysis-function");
    assert_eq!(ok.function_version.as_deref(), Some("7"));
    assert_eq!(ok.metrics_namespace, "StockPicks");
    assert_eq!(ok.memory_mb, 1024);
}

#[test]
fn unsubscribe_url_is_https_or_mailto_only() {
    for bad in [
        "javascript:alert(1)",
        "http://example.com/u",
        "https://example.com/u>, <mailto:evil@x.y>",
        "https://example.com/u\r\nBcc: x@y.z",
        "https://example.com/\"onmouseover=\"x",
        "data:text/html,x",
        "mailto:",
        "https://user@example.com/u",
        "not a url",
    ] {
        let e = cfg(&[("UNSUBSCRIBE_URL", bad)]).map(|c| c.mail.unsubscribe).unwrap_err();
        assert_eq!(e.var, "UNSUBSCRIBE_URL", "{bad}");
        assert!(!e.to_string().contains('\n'), "{e}");
    }
    for good in ["https://example.com/unsubscribe?u=1", "mailto:leave@example.com?subject=unsubscribe"] {
        assert_eq!(cfg(&[("UNSUBSCRIBE_URL", good)]).unwrap().mail.unsubscribe.as_deref(), Some(good));
    }
}

#[test]
fn recipients_are_a_list() {
    let c = cfg(&[("EMAIL_RECIPIENT", "a@x.com, b@y.org,")]).unwrap();
    assert_eq!(c.mail.recipients, ["a@x.com", "b@y.org"]);
}

#[test]
fn a_contact_list_is_named_with_its_topic() {
    assert!(cfg(&[]).unwrap().mail.contact_list.is_none());
    let c = cfg(&[("SES_CONTACT_LIST", "stockpicks-prod")]).unwrap();
    assert_eq!(c.mail.contact_list, Some(ContactListConfig { name: "stockpicks-prod".into(), topic: DEFAULT_CONTACT_TOPIC.into() }));
    let c = cfg(&[("SES_CONTACT_LIST", "readers"), ("SES_CONTACT_TOPIC", "monday")]).unwrap();
    assert_eq!(c.mail.contact_list.unwrap().topic, "monday");
    for (var, pairs) in [
        ("SES_CONTACT_LIST", vec![("SES_CONTACT_LIST", "a/b")]),
        ("SES_CONTACT_TOPIC", vec![("SES_CONTACT_LIST", "readers"), ("SES_CONTACT_TOPIC", "two words")]),
        ("SES_CONTACT_TOPIC", vec![("SES_CONTACT_TOPIC", "monday")]),
    ] {
        assert_eq!(cfg(&pairs).unwrap_err().var, var, "{pairs:?}");
    }
}
