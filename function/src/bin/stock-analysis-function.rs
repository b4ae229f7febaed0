//! `stock-analysis-function`: the Lambda entry point. Wiring only: configuration and
//! secrets are read once per container, the AWS clients are built once, and every event
//! goes to the coordinator.

use anyhow::{Context, Result};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use stockpicks::adapters::alphavantage::{AlphaVantage, ClientConfig};
use stockpicks::adapters::aws::{invoker::LambdaInvoker, s3::S3Store, secrets, ses::SesMailer};
use stockpicks::adapters::emf::EmfMetrics;
use stockpicks::adapters::openai;
use stockpicks::config::{Config, LambdaConfig, REAL_HOST};
use stockpicks::domain::model::{Model, DEFAULT_MODEL_TOML};
use stockpicks::domain::state::keys;
use stockpicks::domain::universe::Universe;
use stockpicks::pipeline::coordinator::{Coordinator, Invocation, Settings};
use stockpicks::pipeline::insight::{History, Insight};
use stockpicks::pipeline::publish::MailSettings;
use stockpicks::ports::SystemClock;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Coord = Coordinator<AlphaVantage, S3Store, LambdaInvoker, SesMailer, SystemClock>;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    stockpicks::alloc::purge_freed_memory_promptly();
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .with_current_span(true)
        .with_span_list(false)
        .init();
    let coord = match build().await {
        Ok(c) => Arc::new(c),
        Err(e) => {
            // Fail the init phase with the named cause: Lambda reports it on every invoke.
            tracing::error!(error = %format!("{e:#}"), "configuration error");
            return Err(e.into());
        }
    };
    lambda_runtime::run(lambda_runtime::service_fn(move |ev: lambda_runtime::LambdaEvent<Value>| {
        let coord = coord.clone();
        async move { handle(&coord, ev).await }
    }))
    .await
}

async fn handle(coord: &Coord, ev: lambda_runtime::LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
    let inv = Invocation { deadline: plausible_deadline(ev.context.deadline), request_id: ev.context.request_id.clone() };
    let run_id = ev.payload.get("run_id").and_then(Value::as_str).unwrap_or("");
    let lane = ev.payload.get("lane").and_then(Value::as_u64);
    let span = tracing::info_span!("invocation", run_id, lane, request_id = %inv.request_id);
    let _guard = span.enter();
    match coord.handle(&ev.payload, &inv).await {
        Ok(body) => Ok(body),
        Err(e) => {
            // Retryable: Lambda's async retry runs the (idempotent) step again.
            tracing::error!(error = %e, "invocation failed");
            Err(e.into())
        }
    }
}

/// The runtime's deadline as an `Instant`, or `None` when it is not plausible (the local
/// emulator's deadline is not an epoch time): the configured budget applies then.
fn plausible_deadline(deadline_ms: u64) -> Option<Instant> {
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_millis() as u64;
    let left = deadline_ms.checked_sub(now_ms)?;
    (left > 0 && left <= 15 * 60 * 1000).then(|| Instant::now() + Duration::from_millis(left))
}

async fn build() -> Result<Coord> {
    let cfg = Config::from_env()?;
    let lcfg = LambdaConfig::from_env()?;
    let model_toml = DEFAULT_MODEL_TOML.to_string();
    Model::from_toml(&model_toml).context("built-in model")?;

    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    // Emulators (moto) need path-style addressing; real S3 works either way.
    let path_style = std::env::var_os("AWS_ENDPOINT_URL").is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(path_style).build());
    let ses = aws_sdk_sesv2::Client::new(&sdk);
    let lambda = aws_sdk_lambda::Client::new(&sdk);

    // Keys: from Secrets Manager in Lambda (cached for the container's life), from the
    // environment for local runs.
    let api_key = match (&lcfg.alpha_vantage_secret_arn, &cfg.alpha_vantage.api_key) {
        // The stack creates the secret empty: until the key is set, every start fails here,
        // loudly (an init error on each invoke), rather than mailing a report of nothing.
        (Some(arn), _) => {
            secrets::fetch(&aws_sdk_secretsmanager::Client::new(&sdk), arn).await.context("configuration: ALPHA_VANTAGE_SECRET_ARN")?
        }
        (None, Some(k)) => k.clone(),
        (None, None) => anyhow::bail!("configuration: set ALPHA_VANTAGE_SECRET_ARN (Lambda) or ALPHA_VANTAGE_API_KEY (local)"),
    };
    let base_url = cfg.alpha_vantage.base_url.clone().unwrap_or_else(|| REAL_HOST.to_string());
    let (timeout, attempts) = (cfg.alpha_vantage.timeout, cfg.alpha_vantage.max_attempts);
    let market = Box::new(move |rate: f64| {
        let mut c = ClientConfig::new(&base_url, api_key.clone(), rate);
        c.timeout = timeout;
        c.max_attempts = attempts;
        Arc::new(AlphaVantage::new(c).expect("HTTP client builds"))
    });
    // Commentary: optional. A secret that cannot be read, or still holds the stack's empty
    // sentinel, turns it off with the reason in every report, rather than stopping the email.
    let openai_key = match (&lcfg.openai_secret_arn, &cfg.openai.api_key) {
        (Some(arn), _) => secrets::fetch(&aws_sdk_secretsmanager::Client::new(&sdk), arn).await.map_err(Into::into),
        (None, Some(k)) => Ok(k.clone()),
        (None, None) => Err("no OPENAI_SECRET_ARN or OPENAI_API_KEY".into()),
    };
    let commentator = openai::commentator(&cfg.openai, openai_key).context("the OpenAI client")?;
    let store = Arc::new(S3Store::new(s3, &lcfg.bucket));
    tracing::info!(bucket = %lcfg.bucket, function = %lcfg.function_name, version = ?lcfg.function_version, rate = cfg.alpha_vantage.rate_per_min, "configured");
    Ok(Coordinator {
        market,
        store: store.clone(),
        invoker: Arc::new(LambdaInvoker::new(lambda, &lcfg.function_name, lcfg.function_version.clone())),
        mailer: Arc::new(SesMailer::new(ses, &cfg.mail.sender, lcfg.ses_configuration_set.clone())),
        clock: Arc::new(SystemClock),
        metrics: Arc::new(EmfMetrics { namespace: lcfg.metrics_namespace.clone(), function: lcfg.function_name.clone() }),
        settings: Settings {
            rate_per_min: cfg.alpha_vantage.rate_per_min,
            max_workers: cfg.alpha_vantage.max_workers,
            price_source: cfg.alpha_vantage.price_source,
            chunk_size: cfg.fanout.chunk_size,
            distributed_threshold: cfg.fanout.distributed_threshold,
            max_parallel_lanes: cfg.fanout.max_parallel_lanes,
            time_budget: cfg.fanout.time_budget,
            run_deadline: cfg.fanout.run_deadline,
            min_run_coverage: cfg.run.min_run_coverage,
            memory_mb: lcfg.memory_mb,
            latency_secs: 0.25,
            cache_max_age_days: cfg.cache.enabled.then_some(cfg.cache.max_age_days),
            mail: MailSettings {
                sender: cfg.mail.sender.clone(),
                recipients: cfg.mail.recipients.clone(),
                unsubscribe: cfg.mail.unsubscribe.clone(),
            },
        },
        model_toml,
        universe: Universe::sp500(),
        insight: Insight { history: Some(History { store, prefix: keys::HISTORY.to_string() }), commentator },
    })
}
