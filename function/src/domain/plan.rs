//! The plan of a run: one invocation, or L parallel "lanes" working through chunks. The
//! binding limit is the API quota, not compute, so L is the fewest lanes that can use the
//! whole quota, and each lane gets R/L of it.

use serde::{Deserialize, Serialize};

/// Where prices for price-based factors come from, which sets the API calls per symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriceSource {
    /// Market capitalisation / shares outstanding from OVERVIEW: one call per symbol.
    Overview,
    /// GLOBAL_QUOTE as well: two calls per symbol, a fresher price.
    GlobalQuote,
}

impl PriceSource {
    pub fn calls_per_symbol(self) -> usize {
        match self {
            PriceSource::Overview => 1,
            PriceSource::GlobalQuote => 2,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct PlanInputs {
    pub symbols: usize,
    /// API calls per symbol.
    pub calls_per_symbol: usize,
    pub rate_per_min: f64,
    /// Requests one invocation keeps in flight.
    pub max_workers: usize,
    /// Typical API latency in seconds (how fast one invocation can go at most).
    pub latency_secs: f64,
    pub chunk_size: usize,
    pub distributed_threshold: usize,
    pub max_parallel_lanes: usize,
    /// Time one invocation may spend fetching before it must hand over.
    pub time_budget_secs: f64,
    /// Memory of the function, for the cost estimate.
    pub memory_mb: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum Plan {
    Single {
        estimated_secs: f64,
        estimated_cost_usd: f64,
    },
    Distributed {
        lanes: usize,
        chunk_count: usize,
        /// `lanes[i]` = the chunks lane i works through, in order (round-robin).
        assignment: Vec<Vec<usize>>,
        rate_per_lane: f64,
        estimated_secs: f64,
        estimated_cost_usd: f64,
    },
}

/// Lambda's x86_64 price per GB-second (us-east-1, 2026).
pub const USD_PER_GB_SECOND: f64 = 0.000_016_666_7;

/// Headroom for scoring, rendering and sending after the fetch.
const PUBLISH_SECS: f64 = 30.0;

pub fn plan(p: &PlanInputs) -> Plan {
    let calls = (p.symbols * p.calls_per_symbol) as f64;
    let quota_per_sec = p.rate_per_min / 60.0;
    let gb = p.memory_mb as f64 / 1024.0;
    // One invocation's ceiling: MAX_WORKERS requests in flight, each taking `latency`.
    let one_lane_per_sec = p.max_workers.max(1) as f64 / p.latency_secs.max(0.001);
    let single_secs = calls / quota_per_sec.min(one_lane_per_sec);
    if p.symbols <= p.distributed_threshold && single_secs + PUBLISH_SECS <= p.time_budget_secs {
        return Plan::Single { estimated_secs: single_secs, estimated_cost_usd: (single_secs + PUBLISH_SECS) * gb * USD_PER_GB_SECOND };
    }
    let chunk_count = p.symbols.div_ceil(p.chunk_size.max(1)).max(1);
    let needed = (quota_per_sec / one_lane_per_sec).ceil().max(1.0) as usize;
    let lanes = needed.min(p.max_parallel_lanes.max(1)).min(chunk_count);
    let assignment: Vec<Vec<usize>> = (0..lanes).map(|l| (l..chunk_count).step_by(lanes).collect()).collect();
    let per_sec = quota_per_sec.min(one_lane_per_sec * lanes as f64);
    let estimated_secs = calls / per_sec;
    // Each lane is billed for the whole fetch (it paces itself to its share of the quota).
    let billed = estimated_secs * lanes as f64 + PUBLISH_SECS;
    Plan::Distributed {
        lanes,
        chunk_count,
        assignment,
        rate_per_lane: p.rate_per_min / lanes as f64,
        estimated_secs,
        estimated_cost_usd: billed * gb * USD_PER_GB_SECOND,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(symbols: usize, rate: f64) -> PlanInputs {
        PlanInputs {
            symbols,
            calls_per_symbol: 1,
            rate_per_min: rate,
            max_workers: 5,
            latency_secs: 0.25,
            chunk_size: 50,
            distributed_threshold: 100,
            max_parallel_lanes: 10,
            time_budget_secs: 840.0,
            memory_mb: 1024,
        }
    }

    #[test]
    fn small_runs_are_single() {
        assert!(matches!(plan(&inputs(15, 75.0)), Plan::Single { .. }));
        assert!(matches!(plan(&inputs(100, 75.0)), Plan::Single { .. }));
    }

    #[test]
    fn one_lane_saturates_the_entry_tier() {
        // 75/min = 1.25/s; one lane does 5 / 0.25 = 20/s.
        let Plan::Distributed { lanes, chunk_count, assignment, rate_per_lane, .. } = plan(&inputs(503, 75.0)) else { panic!() };
        assert_eq!((lanes, chunk_count), (1, 11));
        assert_eq!(assignment[0], (0..11).collect::<Vec<_>>());
        assert_eq!(rate_per_lane, 75.0);
    }

    #[test]
    fn fastest_tier_uses_the_fewest_lanes_that_saturate_it() {
        // 1200/min = 20/s: exactly one lane's ceiling. 6000/min = 100/s: five lanes.
        let Plan::Distributed { lanes, .. } = plan(&inputs(503, 1200.0)) else { panic!() };
        assert_eq!(lanes, 1);
        let Plan::Distributed { lanes, assignment, rate_per_lane, .. } = plan(&inputs(503, 6000.0)) else { panic!() };
        assert_eq!(lanes, 5);
        assert_eq!(assignment[0], vec![0, 5, 10]);
        assert_eq!(rate_per_lane, 1200.0);
    }

    #[test]
    fn lanes_are_capped_and_every_chunk_is_assigned_once() {
        let Plan::Distributed { lanes, assignment, chunk_count, .. } = plan(&inputs(10_000, 60_000.0)) else { panic!() };
        assert_eq!(lanes, 10);
        let mut all: Vec<usize> = assignment.concat();
        all.sort();
        assert_eq!(all, (0..chunk_count).collect::<Vec<_>>());
    }

    #[test]
    fn a_slow_small_run_is_distributed_when_it_cannot_fit_the_budget() {
        // 100 symbols x 2 calls at 5/min = 40 min > 14 min budget.
        let mut i = inputs(100, 5.0);
        i.calls_per_symbol = 2;
        assert!(matches!(plan(&i), Plan::Distributed { .. }));
    }
}
