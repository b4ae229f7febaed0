//! Configuration from environment variables: typed, read once at start, and every bad
//! value refused with the variable's name (and the value, unless it is a secret).

use std::fmt;
use std::time::Duration;

/// CloudWatch namespace of the EMF metrics when METRICS_NAMESPACE is unset (contracts/contract.json).
pub const DEFAULT_METRICS_NAMESPACE: &str = "StockPicks";

/// A secret string (an API key). Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A real key: registered with [`crate::sanitize`], so it is masked in every string
    /// that comes from a server, a file or a log line.
    pub fn new(s: impl Into<String>) -> Secret {
        let s = s.into();
        crate::sanitize::register_secret(&s);
        Secret(s)
    }

    /// A stand-in value sent where no key is configured (the simulator's `simulator`): not
    /// a secret, so not masked in text.
    pub fn placeholder(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Replaces every occurrence of the secret in `text` (keys shorter than 4 characters
    /// are not searched for: they would redact ordinary words).
    pub fn redact(&self, text: &str) -> String {
        if self.0.len() < 4 {
            return text.to_string();
        }
        text.replace(&self.0, "***")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration: {var}={value}: {why}")]
pub struct ConfigError {
    pub var: &'static str,
    pub value: String,
    pub why: String,
}

pub use crate::domain::plan::PriceSource;

#[derive(Clone, Debug)]
pub struct Config {
    pub api_key: Option<Secret>,
    /// `None` means the real host (with a key) or the built-in simulator (without).
    pub base_url: Option<String>,
    pub rate_per_min: f64,
    /// Whether ALPHA_VANTAGE_RATE_PER_MIN was set (else the default applies).
    pub rate_is_explicit: bool,
    pub max_workers: usize,
    pub timeout: Duration,
    pub max_attempts: u32,
    pub price_source: PriceSource,
    pub email_sender: String,
    pub email_recipients: Vec<String>,
    pub unsubscribe: Option<String>,
    pub min_run_coverage: f64,
    pub chunk_size: usize,
    pub distributed_threshold: usize,
    pub max_parallel_lanes: usize,
    pub time_budget: Duration,
    pub run_deadline: Duration,
    pub openai: OpenAiConfig,
    /// A cached OVERVIEW is never reused past this age, reported or not.
    pub cache_max_age_days: i64,
    /// `OVERVIEW_CACHE=off` turns the cache off (Lambda; the CLI has --no-cache).
    pub cache_enabled: bool,
}

/// Optional LLM commentary: on when a key is given (or, in Lambda, its secret).
#[derive(Clone, Debug)]
pub struct OpenAiConfig {
    pub api_key: Option<Secret>,
    pub base_url: String,
    pub model: String,
    pub timeout: Duration,
}

pub const REAL_HOST: &str = "https://www.alphavantage.co";
pub const DEFAULT_RATE_PER_MIN: f64 = 75.0;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads through `get`, so tests need not touch the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |k: &str| get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let api_key = get("ALPHA_VANTAGE_API_KEY").map(Secret::new);
        if let Some(k) = &api_key {
            if !k.expose().chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(ConfigError {
                    var: "ALPHA_VANTAGE_API_KEY",
                    value: "***".into(),
                    why: "must be letters and digits only (is it quoted or wrapped?)".into(),
                });
            }
        }
        let base_url = match get("ALPHA_VANTAGE_BASE_URL") {
            None => None,
            Some(u) => {
                let parsed =
                    url::Url::parse(&u).map_err(|e| ConfigError { var: "ALPHA_VANTAGE_BASE_URL", value: u.clone(), why: e.to_string() })?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
                    return Err(ConfigError {
                        var: "ALPHA_VANTAGE_BASE_URL",
                        value: u,
                        why: "must be an http(s) URL without a query string".into(),
                    });
                }
                Some(u)
            }
        };
        let rate_raw = get("ALPHA_VANTAGE_RATE_PER_MIN");
        let rate_per_min = number(&get, "ALPHA_VANTAGE_RATE_PER_MIN", DEFAULT_RATE_PER_MIN, 0.1, 1_000_000.0)?;
        let price_source = match get("PRICE_SOURCE").as_deref() {
            None | Some("overview") => PriceSource::Overview,
            Some("global_quote") => PriceSource::GlobalQuote,
            Some(other) => {
                return Err(ConfigError { var: "PRICE_SOURCE", value: other.into(), why: "must be overview or global_quote".into() })
            }
        };
        let email_sender = get("EMAIL_SENDER").unwrap_or_else(|| "stockpicks@localhost".into());
        check_address("EMAIL_SENDER", &email_sender)?;
        let email_recipients: Vec<String> = get("EMAIL_RECIPIENT")
            .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
            .unwrap_or_default();
        for r in &email_recipients {
            check_address("EMAIL_RECIPIENT", r)?;
        }
        let openai_base = get("OPENAI_BASE_URL").unwrap_or_else(|| crate::adapters::openai::DEFAULT_BASE_URL.to_string());
        match url::Url::parse(&openai_base) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.query().is_none() => {}
            _ => {
                return Err(ConfigError {
                    var: "OPENAI_BASE_URL",
                    value: openai_base,
                    why: "must be an http(s) URL without a query string".into(),
                })
            }
        }
        let openai = OpenAiConfig {
            api_key: get("OPENAI_API_KEY").map(Secret::new),
            base_url: openai_base,
            model: get("OPENAI_MODEL").unwrap_or_else(|| crate::adapters::openai::DEFAULT_MODEL.to_string()),
            timeout: Duration::from_secs(number(&get, "OPENAI_TIMEOUT_SECS", 60.0, 1.0, 600.0)? as u64),
        };
        let cache_enabled = match get("OVERVIEW_CACHE").as_deref() {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => return Err(ConfigError { var: "OVERVIEW_CACHE", value: other.into(), why: "must be on or off".into() }),
        };
        Ok(Config {
            cache_enabled,
            cache_max_age_days: number(&get, "CACHE_MAX_AGE_DAYS", 30.0, 1.0, 365.0)? as i64,
            openai,
            api_key,
            base_url,
            rate_per_min,
            rate_is_explicit: rate_raw.is_some(),
            max_workers: number(&get, "MAX_WORKERS", 5.0, 1.0, 256.0)? as usize,
            timeout: Duration::from_millis(number(&get, "ALPHA_VANTAGE_TIMEOUT_MS", 5000.0, 50.0, 120_000.0)? as u64),
            max_attempts: number(&get, "ALPHA_VANTAGE_MAX_ATTEMPTS", 4.0, 1.0, 10.0)? as u32,
            price_source,
            email_sender,
            email_recipients,
            unsubscribe: match get("UNSUBSCRIBE_URL") {
                Some(u) => Some(check_unsubscribe(&u)?),
                None => None,
            },
            min_run_coverage: number(&get, "MIN_RUN_COVERAGE", 0.9, 0.0, 1.0)?,
            chunk_size: number(&get, "CHUNK_SIZE", 50.0, 1.0, 10_000.0)? as usize,
            distributed_threshold: number(&get, "DISTRIBUTED_THRESHOLD", 100.0, 1.0, 1_000_000.0)? as usize,
            max_parallel_lanes: number(&get, "MAX_PARALLEL_LANES", 10.0, 1.0, 1000.0)? as usize,
            time_budget: Duration::from_secs(number(&get, "TIME_BUDGET_SECS", 840.0, 10.0, 900.0)? as u64),
            run_deadline: Duration::from_secs(number(&get, "RUN_DEADLINE_MINS", 60.0, 1.0, 10_080.0)? as u64 * 60),
        })
    }
}

/// What only the Lambda needs, on top of [`Config`].
#[derive(Clone, Debug)]
pub struct LambdaConfig {
    pub bucket: String,
    pub ses_configuration_set: Option<String>,
    pub alpha_vantage_secret_arn: Option<String>,
    pub openai_secret_arn: Option<String>,
    pub metrics_namespace: String,
    /// The function to invoke for lanes: Lambda's own name, else `FUNCTION_NAME`.
    pub function_name: String,
    /// The published version this invocation runs (`$LATEST` locally).
    pub function_version: Option<String>,
    pub memory_mb: u32,
}

impl LambdaConfig {
    pub fn from_env() -> Result<LambdaConfig, ConfigError> {
        LambdaConfig::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<LambdaConfig, ConfigError> {
        let get = |k: &str| get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let bucket = get("S3_BUCKET").ok_or_else(|| ConfigError { var: "S3_BUCKET", value: String::new(), why: "required".into() })?;
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
        if !bucket_ok {
            return Err(ConfigError { var: "S3_BUCKET", value: bucket, why: "not a valid bucket name".into() });
        }
        for var in ["ALPHA_VANTAGE_SECRET_ARN", "OPENAI_SECRET_ARN"] {
            if let Some(v) = get(var) {
                if !v.starts_with("arn:") {
                    return Err(ConfigError { var, value: v, why: "must be a secret ARN".into() });
                }
            }
        }
        Ok(LambdaConfig {
            bucket,
            ses_configuration_set: get("SES_CONFIGURATION_SET"),
            alpha_vantage_secret_arn: get("ALPHA_VANTAGE_SECRET_ARN"),
            openai_secret_arn: get("OPENAI_SECRET_ARN"),
            metrics_namespace: get("METRICS_NAMESPACE").unwrap_or_else(|| DEFAULT_METRICS_NAMESPACE.into()),
            function_name: get("AWS_LAMBDA_FUNCTION_NAME")
                .or_else(|| get("FUNCTION_NAME"))
                .unwrap_or_else(|| "stock-analysis-function".into()),
            function_version: get("AWS_LAMBDA_FUNCTION_VERSION"),
            memory_mb: number(&get, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 1024.0, 128.0, 10_240.0)? as u32,
        })
    }
}

fn number(get: &impl Fn(&str) -> Option<String>, var: &'static str, default: f64, min: f64, max: f64) -> Result<f64, ConfigError> {
    let Some(raw) = get(var) else { return Ok(default) };
    let v: f64 = raw.parse().map_err(|_| ConfigError { var, value: raw.clone(), why: "not a number".into() })?;
    if !v.is_finite() || v < min || v > max {
        return Err(ConfigError { var, value: raw, why: format!("must be between {min} and {max}") });
    }
    Ok(v)
}

/// `UNSUBSCRIBE_URL`: one `https:` URL with a host, or one `mailto:` address, that parses
/// and carries nothing that could end the link or the `List-Unsubscribe` header (no
/// whitespace or control characters, no `<`, `>`, `,`, quotes or backslashes).
pub fn check_unsubscribe(raw: &str) -> Result<String, ConfigError> {
    let bad = |why: &str| ConfigError {
        var: "UNSUBSCRIBE_URL",
        value: raw.chars().map(|c| if c.is_control() { '?' } else { c }).take(200).collect(),
        why: why.to_string(),
    };
    if raw.len() > 2000 {
        return Err(bad("longer than 2000 characters"));
    }
    if raw.chars().any(|c| !c.is_ascii_graphic() || "<>,\"'\\`".contains(c)) {
        return Err(bad("must be one URL without spaces, control characters, <, >, commas, quotes or backslashes"));
    }
    let u = url::Url::parse(raw).map_err(|e| bad(&format!("not a URL ({e})")))?;
    match u.scheme() {
        "https" if u.host_str().is_some_and(|h| !h.is_empty()) && u.username().is_empty() && u.password().is_none() => Ok(raw.to_string()),
        "mailto" => {
            let addr = u.path();
            check_address("UNSUBSCRIBE_URL", addr).map_err(|_| bad("a mailto: URL needs one plain e-mail address"))?;
            Ok(raw.to_string())
        }
        "https" => Err(bad("an https: URL needs a host and no user name")),
        other => Err(bad(&format!("only https: and mailto: URLs are accepted, not {other}:"))),
    }
}

/// A bare address (`a@b.c`): no display name, no header-breaking characters.
fn check_address(var: &'static str, addr: &str) -> Result<(), ConfigError> {
    let ok = addr.len() <= 254
        && addr.matches('@').count() == 1
        && !addr.starts_with('@')
        && !addr.ends_with('@')
        && addr.chars().all(|c| c.is_ascii_graphic() && !"<>()[],;:\"\\".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ConfigError { var, value: addr.to_string(), why: "not a plain e-mail address".into() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.rate_per_min, 75.0);
        assert!(!c.rate_is_explicit);
        assert_eq!(c.max_workers, 5);
        assert_eq!(c.chunk_size, 50);
        assert_eq!(c.distributed_threshold, 100);
        assert_eq!(c.timeout, Duration::from_secs(5));
        assert!(c.api_key.is_none());
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
    }

    #[test]
    fn secrets_are_never_shown() {
        let e = cfg(&[("ALPHA_VANTAGE_API_KEY", "\"SECRETKEY123\"")]).unwrap_err();
        assert!(!e.to_string().contains("SECRETKEY123"), "{e}");
        let s = Secret::new("SECRETKEY123");
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
        assert_eq!(s.redact("url?apikey=SECRETKEY123&x"), "url?apikey=***&x");
    }

    #[test]
    fn lambda_config_needs_a_bucket_and_real_arns() {
        let lc = |pairs: &[(&str, &str)]| {
            let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            LambdaConfig::from_lookup(|k| map.get(k).cloned())
        };
        assert_eq!(lc(&[]).unwrap_err().var, "S3_BUCKET");
        assert_eq!(lc(&[("S3_BUCKET", "Bad_Bucket")]).unwrap_err().var, "S3_BUCKET");
        assert_eq!(lc(&[("S3_BUCKET", "b-1"), ("ALPHA_VANTAGE_SECRET_ARN", "key123")]).unwrap_err().var, "ALPHA_VANTAGE_SECRET_ARN");
        let ok = lc(&[("S3_BUCKET", "picks-prod"), ("AWS_LAMBDA_FUNCTION_VERSION", "7")]).unwrap();
        assert_eq!(ok.function_name, "stock-analysis-function");
        assert_eq!(ok.function_version.as_deref(), Some("7"));
        assert_eq!(ok.metrics_namespace, "StockPicks");
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
            let e = cfg(&[("UNSUBSCRIBE_URL", bad)]).map(|c| c.unsubscribe).unwrap_err();
            assert_eq!(e.var, "UNSUBSCRIBE_URL", "{bad}");
            assert!(!e.to_string().contains('\n'), "{e}");
        }
        for good in ["https://example.com/unsubscribe?u=1", "mailto:leave@example.com?subject=unsubscribe"] {
            assert_eq!(cfg(&[("UNSUBSCRIBE_URL", good)]).unwrap().unsubscribe.as_deref(), Some(good));
        }
    }

    #[test]
    fn recipients_are_a_list() {
        let c = cfg(&[("EMAIL_RECIPIENT", "a@x.com, b@y.org,")]).unwrap();
        assert_eq!(c.email_recipients, ["a@x.com", "b@y.org"]);
    }
}
