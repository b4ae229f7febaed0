//! The run as the Lambda performs it, over the ports only. `start` claims the run id, plans,
//! and either works through every chunk itself or invokes lanes; a `lane` fetches its chunks
//! and writes each once (put-if-absent); the writer that completes the set claims the
//! aggregate lock, and exactly one `aggregate` ranks and publishes (through the same
//! publish use case as the CLI) and cleans up; the `sweep` finalizes runs past their
//! deadline with what they have; the `dry_run` renders a five-symbol report and stores and
//! sends nothing. Every step is idempotent, because asynchronous invocations can arrive twice.
//!
//! One file per step: [`start`], [`lane`], [`aggregate`], [`sweep`], [`dry_run`], the locks
//! in [`locks`], and the typed answer in [`response`].

mod aggregate;
mod dry_run;
mod lane;
mod locks;
mod response;
mod start;
mod sweep;

pub use locks::{EMAIL_UNCONFIRMED_SECS, LOCK_LEASE_SECS, SWEEP_GIVE_UP_SECS};
pub use response::{Completion, DryRun, Mode, Response, Status, Sweep};

use super::insight::Insight;
use super::publish::MailSettings;
use crate::contract::Metric;
use crate::domain::events::{requested_symbols, Event, RunEvent};
use crate::domain::model::{Model, ModelError};
use crate::domain::plan::PriceSource;
use crate::domain::universe::Universe;
use crate::domain::Symbol;
use crate::ports::{Clock, InvokeError, Invoker, Mailer, MarketData, Metrics, ObjectStore, Readers, StoreError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The coordinator's settings, from the configuration (see `app`).
#[derive(Clone, Debug)]
pub struct Settings {
    pub rate_per_min: f64,
    pub max_workers: usize,
    pub price_source: PriceSource,
    pub chunk_size: usize,
    pub distributed_threshold: usize,
    pub max_parallel_lanes: usize,
    /// Fallback time budget of one invocation when the runtime's deadline is unknown.
    pub time_budget: Duration,
    pub run_deadline: Duration,
    pub min_run_coverage: f64,
    pub memory_mb: u32,
    /// Typical API latency, for the planner.
    pub latency_secs: f64,
    /// The OVERVIEW cache under `cache/`: `None` = off; else the maximum age in days.
    pub cache_max_age_days: Option<i64>,
    pub mail: MailSettings,
}

/// What the runtime says about this invocation.
#[derive(Clone, Debug, Default)]
pub struct Invocation {
    /// When the runtime will stop this invocation, if known and plausible.
    pub deadline: Option<Instant>,
    pub request_id: String,
}

/// A failure a retry can fix: the function reports it as an error, and Lambda's
/// asynchronous retry runs the (idempotent) step again. Events that no retry can fix are
/// answered with [`Response::Refused`] instead.
#[derive(Debug, thiserror::Error)]
pub enum CoordError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("invoking a lane: {0}")]
    Invoke(#[from] InvokeError),
    #[error("invoking {failed} of {lanes} lanes failed: {first}")]
    Lanes { failed: usize, lanes: usize, first: InvokeError },
    #[error("corrupt run state {key}: {message}")]
    Corrupt { key: String, message: String },
    /// The reader list could not be read: the report was not published (a later attempt,
    /// or the sweep once the aggregate lock is stale, publishes it).
    #[error("reading the readers: {0}")]
    Readers(#[from] crate::ports::ReadersError),
}

impl From<super::publish::PublishError> for CoordError {
    fn from(e: super::publish::PublishError) -> CoordError {
        match e {
            super::publish::PublishError::Store(e) => CoordError::Store(e),
            super::publish::PublishError::Readers(e) => CoordError::Readers(e),
        }
    }
}

/// A run event whose symbols hold no valid ticker (the refusal names each bad one).
#[derive(Debug, thiserror::Error)]
#[error("no valid ticker in symbols: {0}")]
pub struct NoValidTicker(String);

/// The adapters one coordinator works with: S3, Lambda, SES and the system clock in the
/// function; directories, in-process lanes and recording doubles in the tests.
pub trait Adapters: 'static {
    type Market: MarketData;
    type Store: ObjectStore;
    type Invoker: Invoker;
    type Mailer: Mailer;
    type Clock: Clock;
}

/// Builds a market-data client paced at the given requests per minute (each lane gets its
/// share of the quota).
pub type MarketFactory<M> = Box<dyn Fn(f64) -> Arc<M> + Send + Sync>;

/// The parts a coordinator is built from.
pub struct Parts<A: Adapters> {
    pub market: MarketFactory<A::Market>,
    pub store: Arc<A::Store>,
    pub invoker: Arc<A::Invoker>,
    pub mailer: Arc<A::Mailer>,
    /// Who gets the report: read once per published run.
    pub readers: Arc<dyn Readers>,
    pub clock: Arc<A::Clock>,
    pub metrics: Arc<dyn Metrics>,
    /// History under `reports/history/` of the same store, and the commentary port.
    pub insight: Insight<A::Store>,
}

pub struct Coordinator<A: Adapters> {
    market: MarketFactory<A::Market>,
    store: Arc<A::Store>,
    invoker: Arc<A::Invoker>,
    mailer: Arc<A::Mailer>,
    readers: Arc<dyn Readers>,
    clock: Arc<A::Clock>,
    metrics: Arc<dyn Metrics>,
    insight: Insight<A::Store>,
    settings: Settings,
    /// The scoring model, and its TOML as each run's manifest keeps it (a run is ranked by
    /// the model it started with, even if a deploy changes the model meanwhile).
    model: Model,
    model_toml: String,
    universe: Universe,
}

impl<A: Adapters> Coordinator<A> {
    /// Refuses a model that does not parse: a function that cannot rank starts no run.
    pub fn new(parts: Parts<A>, settings: Settings, model_toml: &str, universe: Universe) -> Result<Coordinator<A>, ModelError> {
        let model = Model::from_toml(model_toml)?;
        Ok(Coordinator {
            market: parts.market,
            store: parts.store,
            invoker: parts.invoker,
            mailer: parts.mailer,
            readers: parts.readers,
            clock: parts.clock,
            metrics: parts.metrics,
            insight: parts.insight,
            settings,
            model,
            model_toml: model_toml.to_string(),
            universe,
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Handles any event. A malformed event is answered with [`Response::Refused`] (no
    /// function error: Lambda would retry it); `Err` is kept for failures a retry can fix.
    pub async fn handle(&self, raw: &serde_json::Value, inv: &Invocation) -> Result<Response, CoordError> {
        let event = match Event::parse(raw) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "event refused");
                self.metrics.put(Metric::EventsRefused, 1.0);
                return Ok(Response::Refused { error: e.to_string() });
            }
        };
        match event {
            Event::Run(r) if r.dry_run => Ok(self.dry_run(&r).await),
            Event::Run(r) => self.start(r, inv).await,
            Event::Lane(l) => self.lane(l, inv).await,
            Event::Sweep(s) => self.sweep(s).await,
        }
    }

    /// The universe a run event asks for, and the warnings about tickers it had to drop.
    fn run_universe(&self, r: &RunEvent) -> Result<(Universe, Vec<String>), NoValidTicker> {
        match requested_symbols(r) {
            None => Ok((self.universe.clone(), Vec::new())),
            Some((good, bad)) => {
                if good.is_empty() {
                    return Err(NoValidTicker(bad.join("; ")));
                }
                let mut u = self.universe.select(&good);
                // Sectors given with the symbols (the old sp500_data payload) win.
                if let (Some(syms), Some(sectors)) = (&r.symbols, &r.sectors) {
                    for (s, sector) in syms.iter().zip(sectors) {
                        if let (Ok(sym), false) = (Symbol::parse(s), sector.trim().is_empty()) {
                            if let Some(m) = u.members.iter_mut().find(|m| m.symbol == sym && m.sector.is_empty()) {
                                m.sector = sector.trim().to_string();
                            }
                        }
                    }
                }
                Ok((u, bad.into_iter().map(|b| format!("{b}; not sent to the API")).collect()))
            }
        }
    }

    async fn read_json<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<T, CoordError> {
        let bytes = self.store.get(key).await?;
        serde_json::from_slice(&bytes).map_err(|e| CoordError::Corrupt { key: key.to_string(), message: e.to_string() })
    }

    async fn exists(&self, key: &str) -> Result<bool, CoordError> {
        match self.store.get(key).await {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}
