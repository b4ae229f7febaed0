//! The run as the Lambda performs it, over the ports only: `run` claims the run id, plans,
//! and either works through every chunk itself or invokes lanes; a `lane` fetches its chunks
//! and writes each once (put-if-absent); the writer that completes the set claims the
//! aggregate lock, and exactly one aggregator ranks, publishes, mails and cleans up; the
//! `sweep` finalizes runs past their deadline with what they have. Every step is idempotent,
//! because asynchronous invocations can arrive twice.

use super::cache::{calendar_context, fetch_cached, OverviewCache};
use super::fetch::fetch_all;
use super::insight::Insight;
use super::publish::{self, MailSettings};
use crate::domain::events::{requested_symbols, Event, LaneEvent, RunEvent, SweepEvent, MAX_DEPTH};
use crate::domain::model::Model;
use crate::domain::outcome::{ApiStats, FetchError};
use crate::domain::plan::{plan, Plan, PlanInputs, PriceSource};
use crate::domain::report::{self, Fetched, ReportInputs};
use crate::domain::source::DataSource;
use crate::domain::state::{keys, ChunkResult, Done, Lock, Manifest, StoredCandidate};
use crate::domain::universe::{Member, Universe};
use crate::domain::{time, Symbol};
use crate::ports::{Clock, Invoker, Mailer, MarketData, Metrics, NoProgress, ObjectStore, StoreError};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

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

#[derive(Debug, thiserror::Error)]
pub enum CoordError {
    /// Storage failed: worth a retry (Lambda retries asynchronous invocations).
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("invoking a lane: {0}")]
    Invoke(String),
    #[error("corrupt run state {key}: {message}")]
    Corrupt { key: String, message: String },
}

pub struct Coordinator<M, S, I, Ml, C> {
    /// Builds a market-data client paced at the given requests per minute.
    pub market: Box<dyn Fn(f64) -> Arc<M> + Send + Sync>,
    pub store: Arc<S>,
    pub invoker: Arc<I>,
    pub mailer: Arc<Ml>,
    pub clock: Arc<C>,
    pub metrics: Arc<dyn Metrics>,
    pub settings: Settings,
    /// The scoring model's TOML (validated at start).
    pub model_toml: String,
    pub universe: Universe,
    /// History under `reports/history/` of the same store, and the commentary port.
    pub insight: Insight<S>,
}

/// An aggregate lock older than this is taken over: longer than the 15 minutes any Lambda
/// invocation can run, so its holder is certainly gone.
pub const LOCK_LEASE_SECS: i64 = 16 * 60;

/// A run whose deadline passed longer ago than this is no longer the sweep's to finalize.
/// The runs/ lifecycle rule (7 days) may have removed part of it already: S3 "queues the
/// object for removal and removes it asynchronously", so done.json can go before the
/// manifest, and finalizing such a run again would publish an empty report over the week's
/// real one (latest.json, history) and could mail readers whose locks have expired.
pub const SWEEP_GIVE_UP_SECS: i64 = 24 * 3600;

/// An email lock older than this with neither a sent nor a failed mark is a send whose
/// outcome nobody recorded (a crash between the SES call and the mark): the sweep counts it
/// as EmailsUnconfirmed. Longer than any invocation that could still be writing the mark.
pub const EMAIL_UNCONFIRMED_SECS: i64 = 16 * 60;

fn ok(status: &str, run_id: &str) -> Value {
    json!({"status": status, "run_id": run_id})
}

impl<M, S, I, Ml, C> Coordinator<M, S, I, Ml, C>
where
    M: MarketData,
    S: ObjectStore,
    I: Invoker,
    Ml: Mailer,
    C: Clock,
{
    /// Handles any event. A malformed event is answered with an error body (no function
    /// error: Lambda would retry it); `Err` is kept for failures a retry can fix.
    pub async fn handle(&self, raw: &Value, inv: &Invocation) -> Result<Value, CoordError> {
        let event = match Event::parse(raw) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "event refused");
                self.metrics.count("EventsRefused", 1.0);
                return Ok(json!({"status": "refused", "error": e.to_string()}));
            }
        };
        match event {
            Event::Run(r) if r.dry_run => Ok(self.dry_run(&r).await),
            Event::Run(r) => self.start(r, inv).await,
            Event::Lane(l) => self.lane(l, inv).await,
            Event::Sweep(s) => self.sweep(s).await,
        }
    }

    fn run_universe(&self, r: &RunEvent) -> Result<(Universe, Vec<String>), String> {
        match requested_symbols(r) {
            None => Ok((self.universe.clone(), Vec::new())),
            Some((good, bad)) => {
                if good.is_empty() {
                    return Err(format!("no valid ticker in symbols: {}", bad.join("; ")));
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

    async fn start(&self, r: RunEvent, inv: &Invocation) -> Result<Value, CoordError> {
        let now = self.clock.now_unix();
        let run_id = match (&r.scheduled_time, &r.run_id) {
            (Some(t), _) => Event::scheduled_run_id(t).expect("validated when parsed"),
            (None, Some(id)) => id.clone(),
            (None, None) => time::run_id(now, fastrand::u32(..)),
        };
        let (universe, warnings) = match self.run_universe(&r) {
            Ok(x) => x,
            Err(e) => return Ok(json!({"status": "refused", "error": e})),
        };
        let s = &self.settings;
        let plan = plan(&PlanInputs {
            symbols: universe.len(),
            calls_per_symbol: s.price_source.calls_per_symbol(),
            rate_per_min: s.rate_per_min,
            max_workers: s.max_workers,
            latency_secs: s.latency_secs,
            chunk_size: s.chunk_size,
            distributed_threshold: s.distributed_threshold,
            max_parallel_lanes: s.max_parallel_lanes,
            time_budget_secs: s.time_budget.as_secs_f64(),
            memory_mb: s.memory_mb,
        });
        let (lanes, chunk_count, assignment) = match &plan {
            Plan::Single { .. } => (1, universe.len().div_ceil(s.chunk_size).max(1), None),
            Plan::Distributed { lanes, chunk_count, assignment, .. } => (*lanes, *chunk_count, Some(assignment.clone())),
        };
        // One calendar call for the whole run; every lane reads it from the manifest.
        let mut warnings = warnings;
        let (cache_context, setup_api_calls) = match s.cache_max_age_days {
            Some(_) => {
                let market = (self.market)(s.rate_per_min);
                (Some(calendar_context(market.as_ref(), &mut warnings).await), market.stats().api_calls)
            }
            None => (None, 0),
        };
        let manifest = Manifest {
            run_id: run_id.clone(),
            created_at: now,
            deadline: now + s.run_deadline.as_secs() as i64,
            members: universe.members,
            chunk_size: s.chunk_size,
            chunk_count,
            lanes,
            rate_per_lane: s.rate_per_min / lanes as f64,
            top: r.top,
            model_toml: self.model_toml.clone(),
            warnings,
            version: env!("CARGO_PKG_VERSION").to_string(),
            cache_context,
            setup_api_calls,
        };
        // Claiming the manifest is what makes a run id taken: a redelivered schedule or
        // run event finds it and stops here.
        let body = serde_json::to_vec(&manifest).expect("manifest serialises");
        match self.store.put_if_absent(&keys::manifest(&run_id), body).await {
            Ok(()) => {}
            Err(StoreError::AlreadyExists(_)) => {
                tracing::info!(run_id = %run_id, "run already started; duplicate event ignored");
                return Ok(ok("duplicate", &run_id));
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(run_id = %run_id, symbols = manifest.members.len(), plan = %serde_json::to_string(&plan).unwrap_or_default(), chunks_launched = chunk_count, lanes, "chunks_launched");
        match assignment {
            None => {
                let lane = LaneEvent { run_id: run_id.clone(), lane: 0, chunks: (0..chunk_count).collect(), offset: 0, depth: 0 };
                let mut out = self.lane_with(lane, &manifest, inv).await?;
                out["mode"] = json!("single");
                Ok(out)
            }
            Some(assignment) => {
                let mut tasks = tokio::task::JoinSet::new();
                for (lane, chunks) in assignment.into_iter().enumerate() {
                    let ev = Event::Lane(LaneEvent { run_id: run_id.clone(), lane, chunks, offset: 0, depth: 1 });
                    let invoker = self.invoker.clone();
                    tasks.spawn(async move { invoker.invoke_async(serde_json::to_value(ev).expect("event serialises")).await });
                }
                let mut failed = Vec::new();
                while let Some(r) = tasks.join_next().await {
                    if let Err(e) = r.map_err(|e| e.to_string()).and_then(|r| r.map_err(|e| e.to_string())) {
                        failed.push(e);
                    }
                }
                if !failed.is_empty() {
                    // The manifest stays: a retry of this event is a duplicate, and the sweep
                    // finalizes the run with the lanes that did start.
                    return Err(CoordError::Invoke(failed.join("; ")));
                }
                Ok(
                    json!({"status": "started", "run_id": run_id, "mode": "distributed", "lanes": lanes, "chunks": chunk_count, "plan": plan}),
                )
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

    async fn lane(&self, l: LaneEvent, inv: &Invocation) -> Result<Value, CoordError> {
        if self.exists(&keys::done(&l.run_id)).await? {
            tracing::info!(run_id = %l.run_id, lane = l.lane, "run already finalized; late lane event ignored");
            return Ok(ok("already_done", &l.run_id));
        }
        let manifest: Manifest = match self.read_json(&keys::manifest(&l.run_id)).await {
            Ok(m) => m,
            Err(CoordError::Store(StoreError::NotFound(_))) => {
                return Ok(json!({"status": "refused", "error": format!("unknown run {}", l.run_id)}))
            }
            Err(e) => return Err(e),
        };
        self.lane_with(l, &manifest, inv).await
    }

    async fn lane_with(&self, l: LaneEvent, manifest: &Manifest, inv: &Invocation) -> Result<Value, CoordError> {
        let started = Instant::now();
        let deadline = inv.deadline.unwrap_or(started + self.settings.time_budget);
        let market = (self.market)(manifest.rate_per_lane);
        let calls_per_symbol = self.settings.price_source.calls_per_symbol() as f64;
        let mut written = 0;
        for idx in l.offset..l.chunks.len() {
            let chunk = l.chunks[idx];
            if chunk >= manifest.chunk_count {
                tracing::warn!(run_id = %l.run_id, chunk, "chunk index outside the run; skipped");
                continue;
            }
            let members = manifest.chunk(chunk);
            // Hand over before the runtime stops us: the chunk's quota time plus a margin.
            let needed = Duration::from_secs_f64(members.len() as f64 * calls_per_symbol * 60.0 / manifest.rate_per_lane + 20.0);
            if Instant::now() + needed > deadline {
                return self.continue_lane(l, idx).await;
            }
            if self.exists(&keys::chunk(&l.run_id, chunk)).await? {
                tracing::info!(run_id = %l.run_id, lane = l.lane, chunk, "chunk already done; skipped");
                continue;
            }
            let t0 = Instant::now();
            let before = market.stats();
            let (fetched, cache_hits) = match (self.settings.cache_max_age_days, &manifest.cache_context) {
                (Some(max_age_days), Some(ctx)) => {
                    let cache = OverviewCache { store: self.store.clone(), prefix: keys::CACHE.to_string(), max_age_days };
                    let (f, w, r) = fetch_cached(
                        market.clone(),
                        &cache,
                        Some(ctx.clone()),
                        members.to_vec(),
                        self.settings.max_workers,
                        self.settings.price_source,
                        self.clock.now_unix(),
                        Arc::new(NoProgress),
                    )
                    .await;
                    for warning in w {
                        tracing::warn!(run_id = %l.run_id, chunk, "{warning}");
                    }
                    self.metrics.count("CacheHits", r.hits as f64);
                    (f, r.hits as u64)
                }
                _ => {
                    let (f, _) = fetch_all(
                        market.clone(),
                        members.to_vec(),
                        self.settings.max_workers,
                        self.settings.price_source,
                        Arc::new(NoProgress),
                    )
                    .await;
                    (f, 0)
                }
            };
            let after = market.stats();
            let api = ApiStats {
                api_calls: after.api_calls - before.api_calls,
                throttled: after.throttled - before.throttled,
                retries: after.retries - before.retries,
                cache_hits,
            };
            let result = ChunkResult {
                run_id: l.run_id.clone(),
                chunk,
                lane: l.lane,
                candidates: fetched
                    .candidates
                    .into_iter()
                    .map(|c| StoredCandidate { member: c.member, fundamentals: c.fundamentals })
                    .collect(),
                failures: fetched.failures,
                api,
                duration_ms: t0.elapsed().as_millis() as u64,
                synthetic: market.synthetic(),
            };
            let body = serde_json::to_vec(&result).expect("chunk serialises");
            match self.store.put_if_absent(&keys::chunk(&l.run_id, chunk), body).await {
                Ok(()) if self.exists(&keys::done(&l.run_id)).await? => {
                    // A duplicate that started before the run finished: its write came after
                    // the clean-up, so it removes what it just wrote and stops.
                    self.store.delete(&keys::chunk(&l.run_id, chunk)).await?;
                    tracing::info!(run_id = %l.run_id, lane = l.lane, chunk, "run finished meanwhile; late chunk removed");
                    return Ok(ok("already_done", &l.run_id));
                }
                Ok(()) => written += 1,
                Err(StoreError::AlreadyExists(_)) => {
                    tracing::info!(run_id = %l.run_id, lane = l.lane, chunk, "chunk written by another invocation; ours discarded");
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
            self.metrics.count("StocksFetched", result.candidates.len() as f64);
            self.metrics.count("ApiCalls", api.api_calls as f64);
            self.metrics.count("ApiThrottles", api.throttled as f64);
            self.metrics.count("ApiRetries", api.retries as f64);
            self.metrics.milliseconds("ChunkDurationMs", result.duration_ms as f64);
            tracing::info!(run_id = %l.run_id, lane = l.lane, chunk, symbols = members.len(), failures = result.failures.len(), "Chunk {chunk} complete");
        }
        // Whoever completes the set claims the aggregation.
        let done_chunks = self.store.list(&keys::chunks_prefix(&l.run_id)).await?.len();
        self.metrics.count("ChunksPending", manifest.chunk_count.saturating_sub(done_chunks) as f64);
        if done_chunks >= manifest.chunk_count {
            let mut out = self.aggregate(manifest, None).await?;
            out["chunks_written"] = json!(written);
            return Ok(out);
        }
        Ok(
            json!({"status": "lane_done", "run_id": l.run_id, "lane": l.lane, "chunks_written": written, "chunks_done": done_chunks, "chunks_total": manifest.chunk_count}),
        )
    }

    async fn continue_lane(&self, l: LaneEvent, idx: usize) -> Result<Value, CoordError> {
        if l.depth >= MAX_DEPTH {
            tracing::error!(run_id = %l.run_id, lane = l.lane, depth = l.depth, "continuation depth limit reached; the sweep will finalize the run");
            return Ok(json!({"status": "depth_limit", "run_id": l.run_id, "lane": l.lane}));
        }
        let next = LaneEvent { offset: idx, depth: l.depth + 1, ..l.clone() };
        tracing::info!(run_id = %l.run_id, lane = l.lane, offset = idx, depth = next.depth, "time short: checkpointed, continuing in a new invocation");
        self.invoker
            .invoke_async(serde_json::to_value(Event::Lane(next)).expect("event serialises"))
            .await
            .map_err(|e| CoordError::Invoke(e.to_string()))?;
        Ok(json!({"status": "continued", "run_id": l.run_id, "lane": l.lane, "offset": idx}))
    }

    /// Exactly one caller gets past the lock. `missing_reason` names why absent chunks are
    /// absent (the sweep's deadline); without it every chunk must be there.
    async fn aggregate(&self, manifest: &Manifest, missing_reason: Option<&str>) -> Result<Value, CoordError> {
        let run_id = &manifest.run_id;
        let now = self.clock.now_unix();
        let lock = serde_json::to_vec(&Lock { owner: format!("{:08x}", fastrand::u32(..)), acquired_at: now }).expect("lock serialises");
        match self.store.put_if_absent(&keys::aggregate_lock(run_id), lock.clone()).await {
            Ok(()) => {}
            Err(StoreError::AlreadyExists(_)) if self.take_over_stale_lock(run_id, now, lock).await? => {}
            Err(StoreError::AlreadyExists(_)) => {
                tracing::info!(run_id = %run_id, "another invocation is aggregating");
                return Ok(ok("aggregating_elsewhere", run_id));
            }
            Err(e) => return Err(e.into()),
        }
        let started = Instant::now();
        let model = Model::from_toml(&manifest.model_toml)
            .map_err(|e| CoordError::Corrupt { key: keys::manifest(run_id), message: e.to_string() })?;
        let mut fetched = Fetched::default();
        let mut api = ApiStats { api_calls: manifest.setup_api_calls, ..ApiStats::default() };
        let mut synthetic = false;
        let mut chunk_keys = Vec::new();
        for i in 0..manifest.chunk_count {
            let key = keys::chunk(run_id, i);
            match self.read_json::<ChunkResult>(&key).await {
                Ok(c) => {
                    api.api_calls += c.api.api_calls;
                    api.throttled += c.api.throttled;
                    api.retries += c.api.retries;
                    api.cache_hits += c.api.cache_hits;
                    synthetic |= c.synthetic;
                    let (cands, fails) = c.into_candidates();
                    fetched.candidates.extend(cands);
                    fetched.failures.extend(fails);
                    chunk_keys.push(key);
                }
                Err(CoordError::Store(StoreError::NotFound(_))) => {
                    let why = missing_reason.unwrap_or("chunk missing at aggregation");
                    for m in manifest.chunk(i) {
                        fetched.failures.push((m.symbol.clone(), FetchError::Unfinished(format!("chunk {i}: {why}"))));
                    }
                }
                Err(e) => return Err(e),
            }
        }
        let universe = Universe { members: manifest.members.clone() };
        let mut report = report::build(
            ReportInputs {
                run_id,
                now_unix: now,
                data_source: if synthetic { DataSource::Simulator } else { DataSource::Alphavantage },
                universe: &universe,
                model: &model,
                top: manifest.top,
                min_run_coverage: self.settings.min_run_coverage,
                api,
                elapsed_ms: ((now - manifest.created_at).max(0) * 1000) as u64,
                warnings: manifest.warnings.clone(),
            },
            &fetched,
        );
        self.insight.enrich(&mut report, now).await;
        drop(fetched);
        let mut art = publish::render_all(&report, &self.settings.mail);
        let prefix = keys::report_prefix(&time::date(now), run_id);
        // History first, taken back if the report cannot be stored (as in run_once).
        self.insight.remember(&report, now).await?;
        if let Err(e) = publish::store(self.store.as_ref(), &prefix, &mut art).await {
            self.insight.forget(&report, now).await;
            return Err(e.into());
        }
        let latest = json!({"run_id": run_id, "prefix": prefix, "generated_at": report.generated_at, "partial": report.partial});
        self.store.put(keys::LATEST, serde_json::to_vec_pretty(&latest).expect("json")).await?;

        // Per reader: claim -> send -> mark. A retry skips readers already claimed; the one
        // window left is a crash between the send and the mark (that reader gets no resend,
        // and the missing mark is visible as email/{i}.lock without email/{i}.sent, which the
        // sweep counts as EmailsUnconfirmed).
        let (mut sent, mut failed) = (0, 0);
        for (i, reader) in self.settings.mail.recipients.iter().enumerate() {
            match self.store.put_if_absent(&keys::email_lock(run_id, i), now.to_string().into_bytes()).await {
                Ok(()) => {}
                Err(StoreError::AlreadyExists(_)) => continue,
                Err(e) => return Err(e.into()),
            }
            let mime = publish::message_for(&report, &art, &self.settings.mail, reader, i, now);
            match self.mailer.send(reader, &mime).await {
                Ok(id) => {
                    sent += 1;
                    self.store.put(&keys::email_sent(run_id, i), id.into_bytes()).await?;
                }
                Err(e) => {
                    failed += 1;
                    tracing::error!(run_id = %run_id, reader = i, error = %e, "email not sent");
                    // The outcome is known: mark it, so the lock does not count as unconfirmed
                    // (EmailsFailed alarms on this one). Only the reason is kept, not the address.
                    self.store.put(&keys::email_failed(run_id, i), e.message.into_bytes()).await?;
                }
            }
        }
        self.metrics.count("EmailsSent", sent as f64);
        self.metrics.count("EmailsFailed", failed as f64);
        self.metrics.count("StocksRanked", report.coverage.ranked as f64);
        self.metrics.count("StocksUnranked", report.unranked.len() as f64);
        self.metrics.ratio("RunCoverage", report.coverage.ratio);
        self.metrics.count("RunSucceeded", 1.0);

        let done = Done {
            run_id: run_id.clone(),
            finished_at: now,
            report_prefix: prefix.clone(),
            emails_sent: sent,
            partial: report.partial.clone(),
        };
        self.store.put(&keys::done(run_id), serde_json::to_vec(&done).expect("json")).await?;
        for key in &chunk_keys {
            self.store.delete(key).await?;
        }
        tracing::info!(run_id = %run_id, chunks = chunk_keys.len(), "S3 chunks cleaned up");
        tracing::info!(run_id = %run_id, ranked = report.coverage.ranked, universe = report.universe_size, emails = sent, ms = started.elapsed().as_millis() as u64, "Analysis complete");
        Ok(json!({
            "status": "complete",
            "run_id": run_id,
            "report": prefix,
            "ranked": report.coverage.ranked,
            "universe": report.universe_size,
            "partial": report.partial,
            "emails_sent": sent,
            "emails_failed": failed,
            "top": report.picks.iter().take(5).map(|p| p.symbol.to_string()).collect::<Vec<_>>(),
        }))
    }

    /// A lock older than any invocation can live belongs to an aggregator that died: take
    /// it over, but only if it is still the lock we read (If-Match), so of several takers
    /// exactly one wins.
    async fn take_over_stale_lock(&self, run_id: &str, now: i64, mine: Vec<u8>) -> Result<bool, CoordError> {
        if self.exists(&keys::done(run_id)).await? {
            return Ok(false);
        }
        let key = keys::aggregate_lock(run_id);
        let (body, tag) = match self.store.get_tagged(&key).await {
            Ok(x) => x,
            Err(StoreError::NotFound(_)) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        let held: Lock = serde_json::from_slice(&body).map_err(|e| CoordError::Corrupt { key: key.clone(), message: e.to_string() })?;
        if now - held.acquired_at < LOCK_LEASE_SECS {
            return Ok(false);
        }
        match self.store.replace_if_match(&key, mine, &tag).await {
            Ok(()) => {
                tracing::warn!(run_id = %run_id, previous_owner = %held.owner, age_secs = now - held.acquired_at, "took over a stale aggregate lock");
                Ok(true)
            }
            Err(StoreError::Conflict(_) | StoreError::NotFound(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Finalizes runs past their deadline (but not long past it), and reports what the
    /// alarms watch: the age of the newest published report and the unconfirmed emails.
    async fn sweep(&self, s: SweepEvent) -> Result<Value, CoordError> {
        let now = self.clock.now_unix();
        let keys_ = self.store.list("runs/").await?;
        let mut runs: Vec<String> = keys_
            .iter()
            .filter_map(|k| k.strip_prefix("runs/")?.strip_suffix("/manifest.json").map(String::from))
            .filter(|id| s.run_id.as_ref().is_none_or(|want| want == id))
            .collect();
        runs.retain(|id| !keys_.contains(&keys::done(id)));
        let mut finalized = Vec::new();
        let mut abandoned = Vec::new();
        for id in runs {
            let manifest: Manifest = self.read_json(&keys::manifest(&id)).await?;
            if s.run_id.is_none() && now < manifest.deadline {
                continue;
            }
            // A run named in the event is the operator's explicit request and is finalized.
            if s.run_id.is_none() && now - manifest.deadline > SWEEP_GIVE_UP_SECS {
                tracing::info!(run_id = %id, deadline = %time::rfc3339(manifest.deadline), "run long past its deadline; left to the runs/ lifecycle, not finalized");
                abandoned.push(id);
                continue;
            }
            let why = format!("not finished by the run deadline {}", time::rfc3339(manifest.deadline));
            let out = self.aggregate(&manifest, Some(&why)).await?;
            finalized.push(out);
        }
        let unconfirmed = self.unconfirmed_emails(&keys_, now).await?;
        self.metrics.count("EmailsUnconfirmed", unconfirmed as f64);
        let report_age_hours = self.report_age_hours(now).await?;
        if let Some(hours) = report_age_hours {
            self.metrics.put("ReportAgeHours", hours, "None");
        }
        Ok(json!({
            "status": "swept",
            "finalized": finalized,
            "abandoned": abandoned,
            "emails_unconfirmed": unconfirmed,
            "report_age_hours": report_age_hours,
        }))
    }

    /// Email locks (runs/{id}/email/{i}.lock) with neither a .sent nor a .failed mark, claimed
    /// more than EMAIL_UNCONFIRMED_SECS ago. The lock's body is the claim time.
    async fn unconfirmed_emails(&self, keys_: &[String], now: i64) -> Result<usize, CoordError> {
        let present: std::collections::HashSet<&str> = keys_.iter().map(String::as_str).collect();
        let mut unconfirmed = 0;
        for lock in keys_.iter().filter(|k| k.contains("/email/") && k.ends_with(".lock")) {
            let stem = &lock[..lock.len() - ".lock".len()];
            if present.contains(format!("{stem}.sent").as_str()) || present.contains(format!("{stem}.failed").as_str()) {
                continue;
            }
            let claimed_at = match self.store.get(lock).await {
                Ok(body) => String::from_utf8_lossy(&body).trim().parse::<i64>().ok(),
                Err(StoreError::NotFound(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            if claimed_at.is_none_or(|t| now - t > EMAIL_UNCONFIRMED_SECS) {
                tracing::warn!(key = %lock, "email lock without a sent or failed mark: that reader may not have the report");
                unconfirmed += 1;
            }
        }
        Ok(unconfirmed)
    }

    /// Hours since reports/latest.json was generated; `None` before the first report. An
    /// unreadable record is logged and reported as no age (the alarm treats missing data as
    /// breaching), not as a failed sweep.
    async fn report_age_hours(&self, now: i64) -> Result<Option<f64>, CoordError> {
        let body = match self.store.get(keys::LATEST).await {
            Ok(b) => b,
            Err(StoreError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let generated = serde_json::from_slice::<Value>(&body).ok().and_then(|v| v["generated_at"].as_str().and_then(time::parse_rfc3339));
        match generated {
            Some(t) => Ok(Some((now - t).max(0) as f64 / 3600.0)),
            None => {
                tracing::warn!(key = keys::LATEST, "latest report record unreadable; no report age emitted");
                Ok(None)
            }
        }
    }

    /// Checks everything a real run needs and renders a report for five symbols, sending
    /// and storing nothing.
    async fn dry_run(&self, r: &RunEvent) -> Value {
        let mut checks = serde_json::Map::new();
        checks.insert("config".into(), json!("ok"));
        checks.insert(
            "bucket".into(),
            json!(match self.store.list("reports/latest").await {
                Ok(_) => "ok".to_string(),
                Err(e) => format!("error: {e}"),
            }),
        );
        checks.insert(
            "email_identity".into(),
            json!(match self.mailer.check().await {
                Ok(()) => "ok".to_string(),
                Err(e) => format!("error: {e}"),
            }),
        );
        let (universe, _) = match self.run_universe(r) {
            Ok(x) => x,
            Err(e) => return json!({"status": "refused", "error": e}),
        };
        let members: Vec<Member> = universe.members.into_iter().take(5).collect();
        let sample = Universe { members: members.clone() };
        let market = (self.market)(self.settings.rate_per_min);
        let (fetched, _) =
            fetch_all(market.clone(), members, self.settings.max_workers, self.settings.price_source, Arc::new(NoProgress)).await;
        checks.insert(
            "api".into(),
            json!(if fetched.candidates.is_empty() { format!("error: {:?}", fetched.failures.first()) } else { "ok".into() }),
        );
        let model = Model::from_toml(&self.model_toml).expect("validated at start");
        let now = self.clock.now_unix();
        let report = report::build(
            ReportInputs {
                run_id: "dry-run",
                now_unix: now,
                data_source: if market.synthetic() { DataSource::Simulator } else { DataSource::Alphavantage },
                universe: &sample,
                model: &model,
                top: r.top,
                min_run_coverage: self.settings.min_run_coverage,
                api: market.stats(),
                elapsed_ms: 0,
                warnings: vec![],
            },
            &fetched,
        );
        let art = publish::render_all(&report, &self.settings.mail);
        let reader = self.settings.mail.recipients.first().cloned().unwrap_or_else(|| "reader@example.invalid".into());
        let mime = publish::message_for(&report, &art, &self.settings.mail, &reader, 0, now);
        let all_ok = checks.values().all(|v| v == "ok");
        json!({
            "status": if all_ok { "dry_run_ok" } else { "dry_run_failed" },
            "checks": checks,
            "ranked": report.coverage.ranked,
            "subject": report.subject(),
            "email_bytes": mime.len(),
            "html_bytes": art.html.len(),
        })
    }
}
