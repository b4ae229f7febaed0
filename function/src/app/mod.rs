//! Wiring in one place: configuration -> clients -> use cases. The two binaries, the
//! integration tests and the benchmark examples build their coordinators, clients and run
//! requests here, so a setting is turned into a part of the program exactly once.
//!
//! The Lambda's whole set-up (the AWS clients, the secrets) is [`lambda::build`]; the CLI
//! adds the choices only a terminal user makes (the simulator, the output directory).

#[cfg(feature = "aws")]
pub mod lambda;
#[cfg(feature = "aws")]
pub mod operator;

use crate::adapters::alphavantage::{AlphaVantage, ClientConfig};
use crate::adapters::HttpClientError;
use crate::config::{AlphaVantageConfig, Config, ContactListConfig, MailConfig};
use crate::pipeline::coordinator::{MarketFactory, Settings};
use crate::secret::Secret;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the readers come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReaderSource {
    /// `EMAIL_RECIPIENT`: named outright (local runs, tests, and an override of the list).
    Named(Vec<String>),
    /// `SES_CONTACT_LIST` / `SES_CONTACT_TOPIC`: the contacts subscribed to the topic.
    ContactList(ContactListConfig),
    /// A reader file (`out/subscribers.csv`, or the CLI's `--subscribers FILE`).
    File(PathBuf),
}

/// The one rule for where the readers come from: `EMAIL_RECIPIENT` when set, else the
/// reader file when one is given (the CLI's), else the SES contact list when configured,
/// else nobody (`Named(vec![])`: the report is published and mailed to no one).
pub fn reader_source(mail: &MailConfig, file: Option<PathBuf>) -> ReaderSource {
    match (&mail.contact_list, file) {
        _ if !mail.recipients.is_empty() => ReaderSource::Named(mail.recipients.clone()),
        (_, Some(path)) => ReaderSource::File(path),
        (Some(list), None) => ReaderSource::ContactList(list.clone()),
        (None, None) => ReaderSource::Named(Vec::new()),
    }
}

/// Typical Alpha Vantage latency the fan-out planner assumes when it decides how many
/// lanes a quota needs (MAX_WORKERS requests in flight, each this long).
pub const PLANNER_LATENCY_SECS: f64 = 0.25;

/// The coordinator's settings from the configuration; `memory_mb` is the function's memory
/// size (the planner's cost estimate).
pub fn coordinator_settings(cfg: &Config, memory_mb: u32) -> Settings {
    Settings {
        rate_per_min: cfg.alpha_vantage.rate_per_min,
        max_workers: cfg.alpha_vantage.max_workers,
        price_source: cfg.alpha_vantage.price_source,
        chunk_size: cfg.fanout.chunk_size,
        distributed_threshold: cfg.fanout.distributed_threshold,
        max_parallel_lanes: cfg.fanout.max_parallel_lanes,
        time_budget: cfg.fanout.time_budget,
        run_deadline: cfg.fanout.run_deadline,
        min_run_coverage: cfg.run.min_run_coverage,
        memory_mb,
        latency_secs: PLANNER_LATENCY_SECS,
        cache_max_age_days: cfg.cache.enabled.then_some(cfg.cache.max_age_days),
        mail: cfg.mail.clone(),
    }
}

/// One Alpha Vantage client at `rate_per_min`, with the configured timeout and attempts.
pub fn alpha_vantage(av: &AlphaVantageConfig, base_url: &str, key: Secret, rate_per_min: f64) -> Result<AlphaVantage, HttpClientError> {
    let mut c = ClientConfig::new(base_url, key, rate_per_min);
    c.timeout = av.timeout;
    c.max_attempts = av.max_attempts;
    AlphaVantage::new(c)
}

/// A client per lane, each paced at its share of the quota. The HTTP client is checked once
/// here, so the factory itself cannot fail.
pub fn market_factory(av: &AlphaVantageConfig, base_url: &str, key: Secret) -> Result<MarketFactory<AlphaVantage>, HttpClientError> {
    alpha_vantage(av, base_url, key.clone(), av.rate_per_min)?;
    let (av, base_url) = (av.clone(), base_url.to_string());
    Ok(Box::new(move |rate| Arc::new(alpha_vantage(&av, &base_url, key.clone(), rate).expect("the same client built at start"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_recipient_overrides_the_file_and_the_list() {
        let list = ContactListConfig { name: "readers".into(), topic: "weekly-picks".into() };
        let mail = |recipients: &[&str], contact_list: Option<ContactListConfig>| MailConfig {
            sender: "p@x.io".into(),
            recipients: recipients.iter().map(|r| r.to_string()).collect(),
            unsubscribe: None,
            contact_list,
        };
        let file = || Some(PathBuf::from("out/subscribers.csv"));
        assert_eq!(reader_source(&mail(&["a@x.io"], Some(list.clone())), file()), ReaderSource::Named(vec!["a@x.io".into()]));
        assert_eq!(reader_source(&mail(&[], Some(list.clone())), file()), ReaderSource::File("out/subscribers.csv".into()));
        assert_eq!(reader_source(&mail(&[], Some(list.clone())), None), ReaderSource::ContactList(list));
        assert_eq!(reader_source(&mail(&[], None), None), ReaderSource::Named(vec![]));
    }

    #[test]
    fn settings_come_from_their_config_sections() {
        let env = [("MAX_WORKERS", "3"), ("CHUNK_SIZE", "40"), ("OVERVIEW_CACHE", "off"), ("EMAIL_SENDER", "picks@example.com")];
        let cfg = Config::from_lookup(|k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())).unwrap();
        let s = coordinator_settings(&cfg, 1024);
        assert_eq!((s.max_workers, s.chunk_size, s.cache_max_age_days, s.memory_mb), (3, 40, None, 1024));
        assert_eq!(s.mail.sender, "picks@example.com");
        assert_eq!(s.latency_secs, PLANNER_LATENCY_SECS);
    }
}
