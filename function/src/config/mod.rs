//! Configuration from environment variables: typed, read once at start, and every bad
//! value refused with the variable's name (and the value, unless it is a secret).
//!
//! [`Config`] is a tree of sections, one per part of the program that reads it (the Alpha
//! Vantage client, the run's coverage rule, the Lambda fan-out, mail, the OVERVIEW cache,
//! the OpenAI commentary); each section reads its own variables. [`LambdaConfig`] holds
//! what only the Lambda reads. The defaults live here, next to the variables they stand
//! in for, so no adapter has to be imported to read the configuration.

mod lambda;
mod values;

pub use lambda::LambdaConfig;
pub use values::check_unsubscribe;

use crate::secret::Secret;
use std::time::Duration;
use values::{check_address, check_http_url, check_ses_name, number, whole, Lookup};

/// CloudWatch namespace of the EMF metrics when METRICS_NAMESPACE is unset (contracts/contract.json).
pub const DEFAULT_METRICS_NAMESPACE: &str = crate::contract::NAMESPACE;
/// The Alpha Vantage host used with a key when ALPHA_VANTAGE_BASE_URL is unset.
pub const REAL_HOST: &str = "https://www.alphavantage.co";
pub const DEFAULT_RATE_PER_MIN: f64 = 75.0;
/// The OpenAI-compatible API root when OPENAI_BASE_URL is unset.
pub const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
/// The commentary model when OPENAI_MODEL is unset.
pub const DEFAULT_OPENAI_MODEL: &str = "gpt-4o-mini";

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
    pub alpha_vantage: AlphaVantageConfig,
    pub run: RunConfig,
    pub fanout: FanoutConfig,
    pub mail: MailConfig,
    pub cache: CacheConfig,
    pub openai: OpenAiConfig,
}

/// The market-data client: where, with which key, how fast, how patiently.
#[derive(Clone, Debug)]
pub struct AlphaVantageConfig {
    pub api_key: Option<Secret>,
    /// `None` means the real host (with a key) or the built-in simulator (without).
    pub base_url: Option<String>,
    pub rate_per_min: f64,
    /// Whether ALPHA_VANTAGE_RATE_PER_MIN was set (else the default applies).
    pub rate_is_explicit: bool,
    /// Requests in flight.
    pub max_workers: usize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    pub price_source: PriceSource,
}

/// What every run, local or Lambda, must achieve.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The share of the universe that must be scored for the run to count (0..=1).
    pub min_run_coverage: f64,
}

/// How the Lambda splits a run into lanes and chunks, and how long it may take.
#[derive(Clone, Debug)]
pub struct FanoutConfig {
    pub chunk_size: usize,
    /// Runs of at most this many symbols stay in one invocation (if they fit the budget).
    pub distributed_threshold: usize,
    pub max_parallel_lanes: usize,
    /// One invocation's budget when the runtime's deadline is not plausible.
    pub time_budget: Duration,
    /// A run not finished after this long is finalized by the sweep.
    pub run_deadline: Duration,
}

/// Who the report is mailed from and to.
#[derive(Clone, Debug)]
pub struct MailConfig {
    pub sender: String,
    /// `EMAIL_RECIPIENT`: readers named outright. When set, they are the readers, and the
    /// contact list and the reader file are not read (local runs, and an override).
    pub recipients: Vec<String>,
    /// The `List-Unsubscribe` target (checked by [`check_unsubscribe`]) of messages sent
    /// without a contact list.
    pub unsubscribe: Option<String>,
    /// `SES_CONTACT_LIST` and `SES_CONTACT_TOPIC`: the readers are the contacts subscribed
    /// to the topic, and SES handles their unsubscribing.
    pub contact_list: Option<ContactListConfig>,
}

/// An SES contact list and the topic whose subscribers get the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactListConfig {
    pub name: String,
    pub topic: String,
}

/// The topic when `SES_CONTACT_TOPIC` is not set (the stack's default too).
pub const DEFAULT_CONTACT_TOPIC: &str = "weekly-picks";

impl MailConfig {
    /// `mailto:` or `https:`; defaults to a mailto to the sender.
    pub fn unsubscribe_url(&self) -> String {
        self.unsubscribe.clone().unwrap_or_else(|| format!("mailto:{}?subject=unsubscribe", self.sender))
    }
}

/// The OVERVIEW cache.
#[derive(Clone, Debug)]
pub struct CacheConfig {
    /// `OVERVIEW_CACHE=off` turns the cache off (Lambda; the CLI has --no-cache).
    pub enabled: bool,
    /// A cached OVERVIEW is never reused past this age, reported or not.
    pub max_age_days: i64,
}

/// Optional LLM commentary: on when a key is given (or, in Lambda, its secret).
#[derive(Clone, Debug)]
pub struct OpenAiConfig {
    pub api_key: Option<Secret>,
    pub base_url: String,
    pub model: String,
    pub timeout: Duration,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads through `get`, so tests need not touch the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let trimmed = |k: &str| get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let get: Lookup = &trimmed;
        Ok(Config {
            alpha_vantage: AlphaVantageConfig::read(get)?,
            run: RunConfig { min_run_coverage: number(get, "MIN_RUN_COVERAGE", 0.9, 0.0, 1.0)? },
            fanout: FanoutConfig::read(get)?,
            mail: MailConfig::read(get)?,
            cache: CacheConfig::read(get)?,
            openai: OpenAiConfig::read(get)?,
        })
    }
}

impl AlphaVantageConfig {
    fn read(get: Lookup) -> Result<AlphaVantageConfig, ConfigError> {
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
            Some(u) => Some(check_http_url("ALPHA_VANTAGE_BASE_URL", u)?),
        };
        let price_source = match get("PRICE_SOURCE").as_deref() {
            None | Some("overview") => PriceSource::Overview,
            Some("global_quote") => PriceSource::GlobalQuote,
            Some(other) => {
                return Err(ConfigError { var: "PRICE_SOURCE", value: other.into(), why: "must be overview or global_quote".into() })
            }
        };
        Ok(AlphaVantageConfig {
            api_key,
            base_url,
            rate_per_min: number(get, "ALPHA_VANTAGE_RATE_PER_MIN", DEFAULT_RATE_PER_MIN, 0.1, 1_000_000.0)?,
            rate_is_explicit: get("ALPHA_VANTAGE_RATE_PER_MIN").is_some(),
            max_workers: whole(get, "MAX_WORKERS", 5, 1, 256)?,
            timeout: Duration::from_millis(whole(get, "ALPHA_VANTAGE_TIMEOUT_MS", 5000, 50, 120_000)?),
            max_attempts: whole(get, "ALPHA_VANTAGE_MAX_ATTEMPTS", 4, 1, 10)?,
            price_source,
        })
    }
}

impl FanoutConfig {
    fn read(get: Lookup) -> Result<FanoutConfig, ConfigError> {
        Ok(FanoutConfig {
            chunk_size: whole(get, "CHUNK_SIZE", 50, 1, 10_000)?,
            distributed_threshold: whole(get, "DISTRIBUTED_THRESHOLD", 100, 1, 1_000_000)?,
            max_parallel_lanes: whole(get, "MAX_PARALLEL_LANES", 10, 1, 1000)?,
            time_budget: Duration::from_secs(whole(get, "TIME_BUDGET_SECS", 840, 10, 900)?),
            run_deadline: Duration::from_secs(whole::<u64>(get, "RUN_DEADLINE_MINS", 60, 1, 10_080)? * 60),
        })
    }
}

impl MailConfig {
    fn read(get: Lookup) -> Result<MailConfig, ConfigError> {
        let sender = get("EMAIL_SENDER").unwrap_or_else(|| "stockpicks@localhost".into());
        check_address("EMAIL_SENDER", &sender)?;
        let recipients: Vec<String> = get("EMAIL_RECIPIENT")
            .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
            .unwrap_or_default();
        for r in &recipients {
            check_address("EMAIL_RECIPIENT", r)?;
        }
        let unsubscribe = match get("UNSUBSCRIBE_URL") {
            Some(u) => Some(check_unsubscribe(&u)?),
            None => None,
        };
        let contact_list = match (get("SES_CONTACT_LIST"), get("SES_CONTACT_TOPIC")) {
            (Some(name), topic) => Some(ContactListConfig {
                name: check_ses_name("SES_CONTACT_LIST", name)?,
                topic: check_ses_name("SES_CONTACT_TOPIC", topic.unwrap_or_else(|| DEFAULT_CONTACT_TOPIC.to_string()))?,
            }),
            (None, Some(topic)) => {
                return Err(ConfigError { var: "SES_CONTACT_TOPIC", value: topic, why: "set SES_CONTACT_LIST too".into() })
            }
            (None, None) => None,
        };
        Ok(MailConfig { sender, recipients, unsubscribe, contact_list })
    }
}

impl CacheConfig {
    fn read(get: Lookup) -> Result<CacheConfig, ConfigError> {
        let enabled = match get("OVERVIEW_CACHE").as_deref() {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => return Err(ConfigError { var: "OVERVIEW_CACHE", value: other.into(), why: "must be on or off".into() }),
        };
        Ok(CacheConfig { enabled, max_age_days: whole(get, "CACHE_MAX_AGE_DAYS", 30, 1, 365)? })
    }
}

impl OpenAiConfig {
    fn read(get: Lookup) -> Result<OpenAiConfig, ConfigError> {
        let base_url = check_http_url("OPENAI_BASE_URL", get("OPENAI_BASE_URL").unwrap_or_else(|| DEFAULT_OPENAI_BASE_URL.to_string()))?;
        Ok(OpenAiConfig {
            api_key: get("OPENAI_API_KEY").map(Secret::new),
            base_url,
            model: get("OPENAI_MODEL").unwrap_or_else(|| DEFAULT_OPENAI_MODEL.to_string()),
            timeout: Duration::from_secs(whole(get, "OPENAI_TIMEOUT_SECS", 60, 1, 600)?),
        })
    }
}

#[cfg(test)]
mod tests;
