//! What a run keeps under `runs/{run_id}/` while it is in flight, and the key layout.
//! Everything here is plain data: the coordinator reads and writes it through the store.

use super::cache::CacheReport;
use super::outcome::{ApiStats, FetchError};
use super::scoring::Candidate;
use super::source::DataSource;
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
    /// Where the replies came from (absent in chunks written before it was recorded).
    #[serde(default)]
    pub data_source: Option<DataSource>,
    /// What the OVERVIEW cache did for this chunk (absent with the cache off).
    #[serde(default)]
    pub cache: Option<CacheReport>,
}

impl ChunkResult {
    pub fn source(&self) -> DataSource {
        match (self.data_source, self.synthetic) {
            (Some(s), _) => s,
            (None, true) => DataSource::Simulator,
            (None, false) => DataSource::Alphavantage,
        }
    }

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

/// The key layout of the bucket: every key starts with one of the contract's prefixes
/// (crate::contract::prefix), which the IAM policy and the lifecycle rules are written for.
pub mod keys {
    use crate::contract::prefix::{CACHE as CACHE_PREFIX, HISTORY as HISTORY_PREFIX, REPORTS, RUNS};
    use crate::domain::reader::ReaderId;

    pub fn manifest(run_id: &str) -> String {
        format!("{RUNS}{run_id}/manifest.json")
    }
    /// The run id of a manifest key (`runs/{id}/manifest.json`), for the sweep's listing.
    pub fn run_id_of_manifest(key: &str) -> Option<&str> {
        key.strip_prefix(RUNS)?.strip_suffix("/manifest.json").filter(|id| !id.contains('/'))
    }
    pub fn chunks_prefix(run_id: &str) -> String {
        format!("{RUNS}{run_id}/chunks/")
    }
    pub fn chunk(run_id: &str, i: usize) -> String {
        format!("{RUNS}{run_id}/chunks/{i}.json")
    }
    pub fn aggregate_lock(run_id: &str) -> String {
        format!("{RUNS}{run_id}/aggregate.lock")
    }
    pub fn done(run_id: &str) -> String {
        format!("{RUNS}{run_id}/done.json")
    }
    /// A reader's claim, by the reader's id in this run (never the address).
    pub fn email_lock(run_id: &str, reader: &ReaderId) -> String {
        format!("{RUNS}{run_id}/email/{reader}.lock")
    }
    pub fn email_sent(run_id: &str, reader: &ReaderId) -> String {
        format!("{RUNS}{run_id}/email/{reader}.sent")
    }
    /// SES refused this reader's message; the body is the reason.
    pub fn email_failed(run_id: &str, reader: &ReaderId) -> String {
        format!("{RUNS}{run_id}/email/{reader}.failed")
    }
    pub fn report_prefix(date: &str, run_id: &str) -> String {
        format!("{REPORTS}{date}/{run_id}/")
    }
    /// Everything under `runs/`, for the sweep.
    pub const ALL_RUNS: &str = RUNS;
    /// Which report is the newest (under `reports/`; checked by a test below).
    pub const LATEST: &str = "reports/latest.json";
    /// One small record per published run, read by later runs (changes, track record).
    pub const HISTORY: &str = HISTORY_PREFIX;
    /// The OVERVIEW cache and the learned bulk-quote entitlement.
    pub const CACHE: &str = CACHE_PREFIX;

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn every_key_starts_with_a_contract_prefix() {
            let reader = ReaderId::new("r", "a@example.com");
            for key in [
                manifest("r"),
                chunk("r", 3),
                aggregate_lock("r"),
                done("r"),
                email_lock("r", &reader),
                email_sent("r", &reader),
                email_failed("r", &reader),
            ] {
                assert!(key.starts_with(RUNS), "{key}");
            }
            assert!(report_prefix("2026-11-28", "r").starts_with(REPORTS));
            assert!(LATEST.starts_with(REPORTS));
            assert!(HISTORY.starts_with(REPORTS));
        }

        #[test]
        fn the_sweep_reads_run_ids_back_from_manifest_keys() {
            assert_eq!(run_id_of_manifest(&manifest("20261128-1105-ab")), Some("20261128-1105-ab"));
            assert_eq!(run_id_of_manifest("runs/x/chunks/manifest.json"), None);
            assert_eq!(run_id_of_manifest("reports/x/manifest.json"), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::cache::CacheReport;
    use super::super::source::DataSource;

    #[test]
    fn a_run_of_mixed_chunks_is_labelled_by_its_least_real_part() {
        use DataSource::*;
        assert_eq!(DataSource::least_real([Alphavantage, Alphavantage]), Alphavantage);
        assert_eq!(DataSource::least_real([Alphavantage, Fixtures]), Fixtures);
        assert_eq!(DataSource::least_real([Fixtures, Simulator, Alphavantage]), Simulator);
        assert_eq!(DataSource::least_real([]), Alphavantage);
    }

    #[test]
    fn chunk_cache_reports_add_up() {
        let a = CacheReport { hits: 3, absent: 2, calendar: true, bulk_entitled: None, bulk_prices: 5, ..CacheReport::default() };
        let b = CacheReport { hits: 1, expired: 4, calendar: false, bulk_entitled: Some(true), bulk_prices: 1, ..CacheReport::default() };
        let mut sum = CacheReport::default();
        sum.add(&a);
        assert_eq!(sum, a, "the first part is taken as it is");
        sum.add(&b);
        assert_eq!((sum.hits, sum.absent, sum.expired, sum.bulk_prices), (4, 2, 4, 6));
        assert!(!sum.calendar, "read only if every part read it");
        assert_eq!(sum.bulk_entitled, Some(true));
    }
}
