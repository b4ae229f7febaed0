//! `start`: claim the run id with the manifest, plan, then work through every chunk in this
//! invocation (small runs) or invoke the lanes (large ones).

use super::{Adapters, CoordError, Coordinator, Invocation, Mode, Response};
use crate::contract::marker;
use crate::domain::events::{Event, LaneEvent, RunEvent};
use crate::domain::plan::{plan, Plan, PlanInputs};
use crate::domain::state::{keys, Manifest};
use crate::domain::time;
use crate::pipeline::cache::calendar_context;
use crate::ports::{Clock, Invoker, MarketData, ObjectStore, StoreError};

impl<A: Adapters> Coordinator<A> {
    pub(super) async fn start(&self, r: RunEvent, inv: &Invocation) -> Result<Response, CoordError> {
        let now = self.clock.now_unix();
        let run_id = match (&r.scheduled_time, &r.run_id) {
            (Some(t), _) => Event::scheduled_run_id(t).expect("validated when parsed"),
            (None, Some(id)) => id.clone(),
            (None, None) => time::run_id(now, fastrand::u32(..)),
        };
        let (universe, mut warnings) = match self.run_universe(&r) {
            Ok(x) => x,
            Err(e) => return Ok(Response::Refused { error: e.to_string() }),
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
                return Ok(Response::Duplicate { run_id });
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(run_id = %run_id, symbols = manifest.members.len(), plan = %serde_json::to_string(&plan).unwrap_or_default(), chunks_launched = chunk_count, lanes, "{}", marker::CHUNKS_LAUNCHED);
        let Some(assignment) = assignment else {
            let lane = LaneEvent { run_id, lane: 0, chunks: (0..chunk_count).collect(), offset: 0, depth: 0 };
            return Ok(self.lane_with(lane, &manifest, inv).await?.in_single_mode());
        };
        let mut tasks = tokio::task::JoinSet::new();
        for (lane, chunks) in assignment.into_iter().enumerate() {
            let ev = Event::Lane(LaneEvent { run_id: run_id.clone(), lane, chunks, offset: 0, depth: 1 });
            let invoker = self.invoker.clone();
            tasks.spawn(async move { invoker.invoke_async(serde_json::to_value(ev).expect("event serialises")).await });
        }
        let mut failed = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(())) => {}
                Ok(Err(e)) => failed.push(e),
                Err(panic) => failed.push(crate::ports::InvokeError::Service {
                    message: format!("the task invoking a lane failed: {panic}"),
                    retryable: true,
                    source: None,
                }),
            }
        }
        if !failed.is_empty() {
            // The manifest stays: a retry of this event is a duplicate, and the sweep
            // finalizes the run with the lanes that did start.
            let count = failed.len();
            return Err(CoordError::Lanes { failed: count, lanes, first: failed.swap_remove(0) });
        }
        Ok(Response::Started { run_id, mode: Mode::Distributed, lanes, chunks: chunk_count, plan })
    }
}
