//! What a run keeps under `runs/{run_id}/` while it is in flight, and the key layout.
//! Everything here is plain data: the coordinator reads and writes it through the store.

use super::outcome::{ApiStats, FetchError};
use super::scoring::Candidate;
use super::universe::Member;
use super::Symbol;
use serde::{Deserialize, Serialize};

/// Written once (put-if-absent) when a run starts: claiming it makes the run id taken.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub run_id: String,
    pub created_at: i64,
    /// After this, the sweep finalizes the run with whatever chunks exist.
    pub deadline: i64,
    pub members: Vec<Member>,
    pub chunk_size: usize,
    pub chunk_count: usize,
    pub lanes: usize,
    /// The run's share of the quota per lane.
    pub rate_per_lane: f64,
    pub top: usize,
    /// The scoring model's text, so every part of the run ranks with the same model.
    pub model_toml: String,
    pub warnings: Vec<String>,
    pub version: String,
    /// The earnings calendar and data source the run step read once for every lane
    /// (absent when the run does not use the cache).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_context: Option<super::cache::CacheContext>,
    /// API calls the run step made itself (the calendar), counted into the run's total.
    #[serde(default)]
    pub setup_api_calls: u64,
}

impl Manifest {
    /// The members of chunk `i`.
    pub fn chunk(&self, i: usize) -> &[Member] {
        let start = (i * self.chunk_size).min(self.members.len());
        let end = ((i + 1) * self.chunk_size).min(self.members.len());
        &self.members[start..end]
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredCandidate {
    pub member: Member,
    pub fundamentals: super::fundamentals::Fundamentals,
}

/// One chunk's outcome, written with put-if-absent: a second writer learns it was done.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChunkResult {
    pub run_id: String,
    pub chunk: usize,
    pub lane: usize,
    pub candidates: Vec<StoredCandidate>,
    pub failures: Vec<(Symbol, FetchError)>,
    pub api: ApiStats,
    pub duration_ms: u64,
    /// True when every reply came from the simulator.
    pub synthetic: bool,
}

impl ChunkResult {
    pub fn into_candidates(self) -> (Vec<Candidate>, Vec<(Symbol, FetchError)>) {
        (self.candidates.into_iter().map(|c| Candidate { member: c.member, fundamentals: c.fundamentals }).collect(), self.failures)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lock {
    pub owner: String,
    pub acquired_at: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Done {
    pub run_id: String,
    pub finished_at: i64,
    pub report_prefix: String,
    pub emails_sent: usize,
    pub partial: Option<String>,
}

/// The key layout of a run.
pub mod keys {
    pub fn manifest(run_id: &str) -> String {
        format!("runs/{run_id}/manifest.json")
    }
    pub fn chunks_prefix(run_id: &str) -> String {
        format!("runs/{run_id}/chunks/")
    }
    pub fn chunk(run_id: &str, i: usize) -> String {
        format!("runs/{run_id}/chunks/{i}.json")
    }
    pub fn aggregate_lock(run_id: &str) -> String {
        format!("runs/{run_id}/aggregate.lock")
    }
    pub fn done(run_id: &str) -> String {
        format!("runs/{run_id}/done.json")
    }
    pub fn email_lock(run_id: &str, reader: usize) -> String {
        format!("runs/{run_id}/email/{reader}.lock")
    }
    pub fn email_sent(run_id: &str, reader: usize) -> String {
        format!("runs/{run_id}/email/{reader}.sent")
    }
    /// SES refused this reader's message; the body is the reason.
    pub fn email_failed(run_id: &str, reader: usize) -> String {
        format!("runs/{run_id}/email/{reader}.failed")
    }
    pub fn report_prefix(date: &str, run_id: &str) -> String {
        format!("reports/{date}/{run_id}/")
    }
    pub const LATEST: &str = "reports/latest.json";
    /// One small record per published run, read by later runs (changes, track record).
    pub const HISTORY: &str = "reports/history/";
    /// The OVERVIEW cache and the learned bulk-quote entitlement.
    pub const CACHE: &str = "cache/";
}
