//! `aggregate`: exactly one invocation gets past the aggregate lock; it reads the chunks,
//! builds the report, publishes it through the same [`Publisher`] as the CLI (with the
//! per-reader ledger and the `latest` pointer), records `done.json` and removes the chunks.

use super::{Adapters, Completion, CoordError, Coordinator, Response};
use crate::contract::{marker, Metric};
use crate::domain::cache::CacheReport;
use crate::domain::model::Model;
use crate::domain::outcome::{ApiStats, FetchError};
use crate::domain::report::{self, Fetched, ReportInputs};
use crate::domain::source::DataSource;
use crate::domain::state::{keys, ChunkResult, Done, Lock, Manifest};
use crate::domain::time;
use crate::domain::universe::Universe;
use crate::pipeline::publish::{Ledger, Publisher, Step};
use crate::ports::{Clock, ObjectStore, StoreError};
use std::time::Instant;

/// Chunk reads in flight at once: the aggregation's fixed cost is mostly round trips, and
/// S3 serves thousands of GETs per second per prefix.
const PARALLEL_READS: usize = 16;

/// The chunks of a run as far as they were written.
struct Gathered {
    fetched: Fetched,
    api: ApiStats,
    data_source: DataSource,
    cache: Option<CacheReport>,
    keys: Vec<String>,
}

impl<A: Adapters> Coordinator<A> {
    /// Exactly one caller gets past the lock. `missing_reason` names why absent chunks are
    /// absent (the sweep's deadline); without it every chunk must be there.
    pub(super) async fn aggregate(&self, manifest: &Manifest, missing_reason: Option<&str>) -> Result<Response, CoordError> {
        let run_id = &manifest.run_id;
        let now = self.clock.now_unix();
        let lock = serde_json::to_vec(&Lock { owner: format!("{:08x}", fastrand::u32(..)), acquired_at: now }).expect("lock serialises");
        match self.store.put_if_absent(&keys::aggregate_lock(run_id), lock.clone()).await {
            Ok(()) => {}
            Err(StoreError::AlreadyExists(_)) if self.take_over_stale_lock(run_id, now, lock).await? => {}
            Err(StoreError::AlreadyExists(_)) => {
                tracing::info!(run_id = %run_id, "another invocation is aggregating");
                return Ok(Response::AggregatingElsewhere { run_id: run_id.clone() });
            }
            Err(e) => return Err(e.into()),
        }
        let started = Instant::now();
        let model = Model::from_toml(&manifest.model_toml)
            .map_err(|e| CoordError::Corrupt { key: keys::manifest(run_id), message: e.to_string() })?;
        let g = self.gather(manifest, missing_reason).await?;
        let universe = Universe { members: manifest.members.clone() };
        let mut report = report::build(
            ReportInputs {
                run_id,
                now_unix: now,
                data_source: g.data_source,
                universe: &universe,
                model: &model,
                top: manifest.top,
                min_run_coverage: self.settings.min_run_coverage,
                api: g.api,
                elapsed_ms: ((now - manifest.created_at).max(0) * 1000) as u64,
                warnings: manifest.warnings.clone(),
            },
            &g.fetched,
        );
        drop(g.fetched);
        report.cache = g.cache;
        let publisher = Publisher {
            store: self.store.as_ref(),
            insight: &self.insight,
            mailer: self.mailer.as_ref(),
            mail: &self.settings.mail,
            readers: self.readers.as_ref(),
            ledger: Some(Ledger { store: self.store.as_ref(), run_id }),
            write_latest: true,
        };
        let prefix = keys::report_prefix(&time::date(now), run_id);
        let published = publisher.publish(report, &prefix, now, Step::Publish).await?;
        let (report, delivery) = (&published.report, &published.delivery);
        self.metrics.put(Metric::EmailsSent, delivery.sent.len() as f64);
        self.metrics.put(Metric::EmailsFailed, delivery.failed.len() as f64);
        self.metrics.put(Metric::StocksRanked, report.coverage.ranked as f64);
        self.metrics.put(Metric::StocksUnranked, report.unranked.len() as f64);
        self.metrics.put(Metric::RunCoverage, report.coverage.ratio);
        self.metrics.put(Metric::RunSucceeded, 1.0);

        let done = Done {
            run_id: run_id.clone(),
            finished_at: now,
            report_prefix: prefix.clone(),
            emails_sent: delivery.sent.len(),
            partial: report.partial.clone(),
        };
        self.store.put(&keys::done(run_id), serde_json::to_vec(&done).expect("json")).await?;
        self.delete_all(&g.keys).await?;
        tracing::info!(run_id = %run_id, chunks = g.keys.len(), ms = started.elapsed().as_millis() as u64, "{}", marker::CHUNKS_CLEANED_UP);
        Ok(Response::Complete(Completion {
            run_id: run_id.clone(),
            report: prefix,
            ranked: report.coverage.ranked,
            universe: report.universe_size,
            partial: report.partial.clone(),
            emails_sent: delivery.sent.len(),
            emails_failed: delivery.failed.len(),
            top: report.picks.iter().take(5).map(|p| p.symbol.to_string()).collect(),
            mode: None,
            chunks_written: None,
        }))
    }

    /// Removes the chunks, [`PARALLEL_READS`] requests in flight at once.
    async fn delete_all(&self, keys: &[String]) -> Result<(), CoordError> {
        let mut tasks = tokio::task::JoinSet::new();
        let mut first_error = None;
        for key in keys {
            if tasks.len() >= PARALLEL_READS {
                if let Some(Err(e)) = tasks.join_next().await.map(|j| j.expect("a delete does not panic")) {
                    first_error.get_or_insert(e);
                }
            }
            let (store, key) = (self.store.clone(), key.clone());
            tasks.spawn(async move { store.delete(&key).await });
        }
        while let Some(joined) = tasks.join_next().await {
            if let Err(e) = joined.expect("a delete does not panic") {
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Reads every chunk of the run, [`PARALLEL_READS`] at a time; an absent chunk's
    /// symbols are failures with the reason.
    async fn gather(&self, manifest: &Manifest, missing_reason: Option<&str>) -> Result<Gathered, CoordError> {
        let run_id = &manifest.run_id;
        let mut tasks = tokio::task::JoinSet::new();
        let mut chunks: Vec<Option<Result<ChunkResult, CoordError>>> = (0..manifest.chunk_count).map(|_| None).collect();
        let mut next = 0;
        while next < manifest.chunk_count || !tasks.is_empty() {
            while next < manifest.chunk_count && tasks.len() < PARALLEL_READS {
                let (store, key, i) = (self.store.clone(), keys::chunk(run_id, next), next);
                tasks.spawn(async move {
                    let read = match store.get(&key).await {
                        Ok(bytes) => {
                            serde_json::from_slice::<ChunkResult>(&bytes).map_err(|e| CoordError::Corrupt { key, message: e.to_string() })
                        }
                        Err(e) => Err(e.into()),
                    };
                    (i, read)
                });
                next += 1;
            }
            if let Some(joined) = tasks.join_next().await {
                let (i, read) = joined.expect("a chunk read does not panic");
                chunks[i] = Some(read);
            }
        }
        let mut g = Gathered {
            fetched: Fetched::default(),
            api: ApiStats { api_calls: manifest.setup_api_calls, ..ApiStats::default() },
            data_source: DataSource::Alphavantage,
            cache: None,
            keys: Vec::new(),
        };
        let mut sources = Vec::new();
        for (i, read) in chunks.into_iter().enumerate() {
            match read.expect("every chunk was read") {
                Ok(c) => {
                    g.api.api_calls += c.api.api_calls;
                    g.api.throttled += c.api.throttled;
                    g.api.retries += c.api.retries;
                    g.api.cache_hits += c.api.cache_hits;
                    sources.push(c.source());
                    if let Some(cr) = &c.cache {
                        g.cache.get_or_insert_with(CacheReport::default).add(cr);
                    }
                    let (cands, fails) = c.into_candidates();
                    g.fetched.candidates.extend(cands);
                    g.fetched.failures.extend(fails);
                    g.keys.push(keys::chunk(run_id, i));
                }
                Err(CoordError::Store(StoreError::NotFound(_))) => {
                    let why = missing_reason.unwrap_or("chunk missing at aggregation");
                    for m in manifest.chunk(i) {
                        g.fetched.failures.push((m.symbol.clone(), FetchError::Unfinished(format!("chunk {i}: {why}"))));
                    }
                }
                Err(e) => return Err(e),
            }
        }
        g.data_source = DataSource::least_real(sources);
        Ok(g)
    }
}
