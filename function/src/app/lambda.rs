//! The Lambda's wiring: configuration and secrets read once per container, the AWS clients
//! built once, and the coordinator every event goes to.

use crate::adapters::aws::secrets::{self, SecretError};
use crate::adapters::aws::{contacts::SesContactList, invoker::LambdaInvoker, s3::S3Store, ses::SesMailer};
use crate::adapters::emf::EmfMetrics;
use crate::adapters::readers::{FixedReaders, SubscriberFile};
use crate::adapters::{alphavantage::AlphaVantage, openai, HttpClientError};
use crate::config::{Config, ConfigError, LambdaConfig, REAL_HOST};
use crate::domain::model::{ModelError, DEFAULT_MODEL_TOML};
use crate::domain::state::keys;
use crate::domain::universe::Universe;
use crate::pipeline::coordinator::{Adapters, Coordinator, Parts};
use crate::pipeline::insight::{History, Insight};
use crate::ports::{Readers, SystemClock};
use std::sync::Arc;

/// The production adapters: Alpha Vantage, S3, Lambda, SES and the system clock.
pub struct Aws;

impl Adapters for Aws {
    type Market = AlphaVantage;
    type Store = S3Store;
    type Invoker = LambdaInvoker;
    type Mailer = SesMailer;
    type Clock = SystemClock;
}

/// Why the function could not start; Lambda reports it on every invoke until it is fixed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("configuration: ALPHA_VANTAGE_SECRET_ARN: {0}")]
    AlphaVantageSecret(#[source] SecretError),
    #[error("configuration: set ALPHA_VANTAGE_SECRET_ARN (Lambda) or ALPHA_VANTAGE_API_KEY (local)")]
    NoAlphaVantageKey,
    #[error("building an HTTP client: {0}")]
    Http(#[from] HttpClientError),
    #[error("the built-in model: {0}")]
    Model(#[from] ModelError),
}

/// Builds the coordinator from the environment and the AWS SDK's default configuration.
pub async fn build() -> Result<Coordinator<Aws>, StartError> {
    let cfg = Config::from_env()?;
    let lcfg = LambdaConfig::from_env()?;

    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    // Emulators (moto) need path-style addressing; real S3 works either way.
    let path_style = std::env::var_os("AWS_ENDPOINT_URL").is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(path_style).build());
    let secrets_client = aws_sdk_secretsmanager::Client::new(&sdk);

    // Keys: from Secrets Manager in Lambda (cached for the container's life), from the
    // environment for local runs.
    let api_key = match (&lcfg.alpha_vantage_secret_arn, &cfg.alpha_vantage.api_key) {
        // The stack creates the secret empty: until the key is set, every start fails here,
        // loudly (an init error on each invoke), rather than mailing a report of nothing.
        (Some(arn), _) => secrets::fetch(&secrets_client, arn).await.map_err(StartError::AlphaVantageSecret)?,
        (None, Some(k)) => k.clone(),
        (None, None) => return Err(StartError::NoAlphaVantageKey),
    };
    let base_url = cfg.alpha_vantage.base_url.clone().unwrap_or_else(|| REAL_HOST.to_string());
    let market = super::market_factory(&cfg.alpha_vantage, &base_url, api_key)?;
    // Commentary: optional. A secret that cannot be read, or still holds the stack's empty
    // sentinel, turns it off with the reason in every report, rather than stopping the email.
    let openai_key = match (&lcfg.openai_secret_arn, &cfg.openai.api_key) {
        (Some(arn), _) => secrets::fetch(&secrets_client, arn).await.map_err(Into::into),
        (None, Some(k)) => Ok(k.clone()),
        (None, None) => Err("no OPENAI_SECRET_ARN or OPENAI_API_KEY".into()),
    };
    let commentator = openai::commentator(&cfg.openai, openai_key)?;
    let store = Arc::new(S3Store::new(s3, &lcfg.bucket));
    let ses = aws_sdk_sesv2::Client::new(&sdk);
    let mailer = SesMailer::new(ses.clone(), &cfg.mail.sender, lcfg.ses_configuration_set.clone());
    // Readers from the contact list are mailed as part of it (SES's unsubscribe); readers
    // named by EMAIL_RECIPIENT need not be contacts, so their messages carry our own link.
    let (readers, mailer): (Arc<dyn Readers>, SesMailer) = match super::reader_source(&cfg.mail, None) {
        super::ReaderSource::ContactList(list) => (Arc::new(SesContactList::new(ses, list.clone())), mailer.with_list(list)),
        super::ReaderSource::Named(named) => {
            if named.is_empty() {
                tracing::warn!(
                    "no readers: set SES_CONTACT_LIST (the stack does) or EMAIL_RECIPIENT; reports are published and mailed to no one"
                );
            } else if cfg.mail.contact_list.is_some() {
                tracing::warn!(readers = named.len(), "EMAIL_RECIPIENT overrides the contact list");
            }
            (Arc::new(FixedReaders(named)), mailer)
        }
        // Not chosen in the Lambda (it names no file), but a file is a list like another.
        super::ReaderSource::File(path) => (Arc::new(SubscriberFile::new(path)), mailer),
    };
    tracing::info!(bucket = %lcfg.bucket, function = %lcfg.function_name, version = ?lcfg.function_version, rate = cfg.alpha_vantage.rate_per_min, readers = %readers.describe(), "configured");
    let parts = Parts {
        market,
        store: store.clone(),
        invoker: Arc::new(LambdaInvoker::new(aws_sdk_lambda::Client::new(&sdk), &lcfg.function_name, lcfg.function_version.clone())),
        mailer: Arc::new(mailer),
        readers,
        clock: Arc::new(SystemClock),
        metrics: Arc::new(EmfMetrics { namespace: lcfg.metrics_namespace.clone(), function: lcfg.function_name.clone() }),
        insight: Insight { history: Some(History { store, prefix: keys::HISTORY.to_string() }), commentator },
    };
    Ok(Coordinator::new(parts, super::coordinator_settings(&cfg, lcfg.memory_mb), DEFAULT_MODEL_TOML, Universe::sp500())?)
}
