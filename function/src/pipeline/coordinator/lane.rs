//! `lane`: fetch the lane's chunks one by one, write each once (put-if-absent) while the
//! next one is fetched, hand over to a new invocation before the runtime's deadline, and
//! aggregate when this lane's write completed the set.

use super::{Adapters, CoordError, Coordinator, Invocation, Response};
use crate::contract::{marker, Metric};
use crate::domain::events::{Event, LaneEvent, MAX_DEPTH};
use crate::domain::outcome::ApiStats;
use crate::domain::state::{keys, ChunkResult, Manifest, StoredCandidate};
use crate::pipeline::cache::{fetch_cached, OverviewCache};
use crate::pipeline::fetch::fetch_all;
use crate::ports::{Clock, Invoker, MarketData, NoProgress, ObjectStore, StoreError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Time kept in hand after a chunk's quota time before the runtime's deadline: the chunk's
/// write, the hand-over invocation and the aggregation's start.
const HANDOVER_MARGIN_SECS: f64 = 20.0;

/// A fetched chunk, serialised, on its way to the store.
struct Pending {
    chunk: usize,
    symbols: usize,
    candidates: usize,
    failures: usize,
    api: ApiStats,
    duration_ms: u64,
    body: Vec<u8>,
}

/// What became of a chunk's write.
enum Wrote {
    Written(Pending),
    /// Another invocation wrote it first; ours is discarded.
    Taken {
        chunk: usize,
    },
    /// The run was finalized meanwhile: the chunk was removed again.
    RunFinished {
        chunk: usize,
    },
}

impl<A: Adapters> Coordinator<A> {
    pub(super) async fn lane(&self, l: LaneEvent, inv: &Invocation) -> Result<Response, CoordError> {
        // Both reads at once: a lane's start is round trips.
        let (done_key, manifest_key) = (keys::done(&l.run_id), keys::manifest(&l.run_id));
        let (done, manifest) = tokio::join!(self.exists(&done_key), self.read_json::<Manifest>(&manifest_key));
        if done? {
            tracing::info!(run_id = %l.run_id, lane = l.lane, "run already finalized; late lane event ignored");
            return Ok(Response::AlreadyDone { run_id: l.run_id });
        }
        let manifest: Manifest = match manifest {
            Ok(m) => m,
            Err(CoordError::Store(StoreError::NotFound(_))) => return Ok(Response::Refused { error: format!("unknown run {}", l.run_id) }),
            Err(e) => return Err(e),
        };
        self.lane_with(l, &manifest, inv).await
    }

    pub(super) async fn lane_with(&self, l: LaneEvent, manifest: &Manifest, inv: &Invocation) -> Result<Response, CoordError> {
        let started = Instant::now();
        let deadline = inv.deadline.unwrap_or(started + self.settings.time_budget);
        let market = (self.market)(manifest.rate_per_lane);
        let calls_per_symbol = self.settings.price_source.calls_per_symbol() as f64;
        let mut written = 0;
        // The previous chunk, fetched and serialised: its write overlaps this chunk's fetch,
        // so the quota is not idle during the store's round trips (the limiter banks no
        // credit for idle time).
        let mut pending: Option<Pending> = None;
        for idx in l.offset..l.chunks.len() {
            let chunk = l.chunks[idx];
            if chunk >= manifest.chunk_count {
                tracing::warn!(run_id = %l.run_id, chunk, "chunk index outside the run; skipped");
                continue;
            }
            let members = manifest.chunk(chunk);
            // Hand over before the runtime stops us: the chunk's quota time plus a margin.
            let needed =
                Duration::from_secs_f64(members.len() as f64 * calls_per_symbol * 60.0 / manifest.rate_per_lane + HANDOVER_MARGIN_SECS);
            if Instant::now() + needed > deadline {
                if let Some(p) = pending.take() {
                    if let Some(stop) = self.settle(&l, self.write_chunk(&l.run_id, p).await?, &mut written) {
                        return Ok(stop);
                    }
                }
                return self.continue_lane(l, idx).await;
            }
            let previous = pending.take();
            let (wrote, next) = tokio::join!(
                async {
                    match previous {
                        Some(p) => self.write_chunk(&l.run_id, p).await.map(Some),
                        None => Ok(None),
                    }
                },
                self.fetch_chunk(&l, manifest, chunk, &market),
            );
            if let Some(w) = wrote? {
                if let Some(stop) = self.settle(&l, w, &mut written) {
                    return Ok(stop);
                }
            }
            pending = next?;
        }
        if let Some(p) = pending.take() {
            if let Some(stop) = self.settle(&l, self.write_chunk(&l.run_id, p).await?, &mut written) {
                return Ok(stop);
            }
        }
        // Whoever completes the set claims the aggregation.
        let done_chunks = self.store.list(&keys::chunks_prefix(&l.run_id)).await?.len();
        self.metrics.put(Metric::ChunksPending, manifest.chunk_count.saturating_sub(done_chunks) as f64);
        if done_chunks >= manifest.chunk_count {
            return Ok(self.aggregate(manifest, None).await?.with_chunks_written(written));
        }
        Ok(Response::LaneDone {
            run_id: l.run_id,
            lane: l.lane,
            chunks_written: written,
            chunks_done: done_chunks,
            chunks_total: manifest.chunk_count,
            mode: None,
        })
    }

    /// Fetches one chunk and serialises its result; `None` when it is already written.
    async fn fetch_chunk(
        &self,
        l: &LaneEvent,
        manifest: &Manifest,
        chunk: usize,
        market: &Arc<A::Market>,
    ) -> Result<Option<Pending>, CoordError> {
        if self.exists(&keys::chunk(&l.run_id, chunk)).await? {
            tracing::info!(run_id = %l.run_id, lane = l.lane, chunk, "chunk already done; skipped");
            return Ok(None);
        }
        let members = manifest.chunk(chunk);
        let t0 = Instant::now();
        let before = market.stats();
        let (fetched, cache) = match (self.settings.cache_max_age_days, &manifest.cache_context) {
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
                self.metrics.put(Metric::CacheHits, r.hits as f64);
                (f, Some(r))
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
                (f, None)
            }
        };
        let after = market.stats();
        let api = ApiStats {
            api_calls: after.api_calls - before.api_calls,
            throttled: after.throttled - before.throttled,
            retries: after.retries - before.retries,
            cache_hits: cache.as_ref().map_or(0, |c| c.hits as u64),
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
            data_source: Some(market.data_source()),
            cache,
        };
        Ok(Some(Pending {
            chunk,
            symbols: members.len(),
            candidates: result.candidates.len(),
            failures: result.failures.len(),
            api,
            duration_ms: result.duration_ms,
            body: serde_json::to_vec(&result).expect("chunk serialises"),
        }))
    }

    /// Writes a fetched chunk once (put-if-absent).
    async fn write_chunk(&self, run_id: &str, p: Pending) -> Result<Wrote, CoordError> {
        let key = keys::chunk(run_id, p.chunk);
        match self.store.put_if_absent(&key, p.body).await {
            Ok(()) if self.exists(&keys::done(run_id)).await? => {
                // A duplicate that started before the run finished: its write came after
                // the clean-up, so it removes what it just wrote and stops.
                self.store.delete(&key).await?;
                Ok(Wrote::RunFinished { chunk: p.chunk })
            }
            Ok(()) => Ok(Wrote::Written(Pending { body: Vec::new(), ..p })),
            Err(StoreError::AlreadyExists(_)) => Ok(Wrote::Taken { chunk: p.chunk }),
            Err(e) => Err(e.into()),
        }
    }

    /// Accounts for a write: metrics and log of a written chunk; the answer to stop with
    /// when the run finished meanwhile.
    fn settle(&self, l: &LaneEvent, wrote: Wrote, written: &mut usize) -> Option<Response> {
        match wrote {
            Wrote::RunFinished { chunk } => {
                tracing::info!(run_id = %l.run_id, lane = l.lane, chunk, "run finished meanwhile; late chunk removed");
                Some(Response::AlreadyDone { run_id: l.run_id.clone() })
            }
            Wrote::Taken { chunk } => {
                tracing::info!(run_id = %l.run_id, lane = l.lane, chunk, "chunk written by another invocation; ours discarded");
                None
            }
            Wrote::Written(p) => {
                *written += 1;
                self.metrics.put(Metric::StocksFetched, p.candidates as f64);
                self.metrics.put(Metric::ApiCalls, p.api.api_calls as f64);
                self.metrics.put(Metric::ApiThrottles, p.api.throttled as f64);
                self.metrics.put(Metric::ApiRetries, p.api.retries as f64);
                self.metrics.put(Metric::ChunkDurationMs, p.duration_ms as f64);
                tracing::info!(run_id = %l.run_id, lane = l.lane, chunk = p.chunk, symbols = p.symbols, failures = p.failures, "{}", marker::CHUNK_COMPLETE);
                None
            }
        }
    }

    async fn continue_lane(&self, l: LaneEvent, idx: usize) -> Result<Response, CoordError> {
        if l.depth >= MAX_DEPTH {
            tracing::error!(run_id = %l.run_id, lane = l.lane, depth = l.depth, "continuation depth limit reached; the sweep will finalize the run");
            return Ok(Response::DepthLimit { run_id: l.run_id, lane: l.lane });
        }
        let next = LaneEvent { offset: idx, depth: l.depth + 1, ..l.clone() };
        tracing::info!(run_id = %l.run_id, lane = l.lane, offset = idx, depth = next.depth, "time short: checkpointed, continuing in a new invocation");
        self.invoker.invoke_async(serde_json::to_value(Event::Lane(next)).expect("event serialises")).await?;
        Ok(Response::Continued { run_id: l.run_id, lane: l.lane, offset: idx, mode: None })
    }
}
