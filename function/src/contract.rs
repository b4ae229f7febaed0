//! The names this function shares with the infrastructure, as types: the CloudWatch
//! namespace and dimensions, the metrics (name and unit), the log markers the metric filters
//! match, and the S3 key prefixes the IAM policy and the lifecycle rules are written for. The
//! Lambda's response statuses are [`crate::pipeline::coordinator::Status`].
//!
//! They are declared once more, for the other languages, in `contracts/contract.json`; the
//! tests below fail when the two disagree in either direction, so renaming a metric here
//! without renaming it there (where the alarms and the dashboard read it) breaks a test, not
//! an alarm in production.

/// The CloudWatch namespace of the EMF metrics (METRICS_NAMESPACE overrides it).
pub const NAMESPACE: &str = "StockPicks";

/// The dimensions every EMF line carries; the value of each is the function's name.
pub const DIMENSIONS: [&str; 1] = ["Function"];

/// The unit of a metric, as CloudWatch spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    None,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::None => "None",
        }
    }
}

/// Every custom metric the function emits. The only way to emit one is through this enum
/// ([`crate::ports::Metrics::put`]), so a name that is not here cannot be emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    StocksFetched,
    StocksRanked,
    StocksUnranked,
    ApiCalls,
    ApiThrottles,
    ApiRetries,
    CacheHits,
    ChunkDurationMs,
    ChunksPending,
    RunCoverage,
    EmailsSent,
    EmailsFailed,
    EmailsUnconfirmed,
    RunSucceeded,
    ReportAgeHours,
    EventsRefused,
}

impl Metric {
    pub const ALL: [Metric; 16] = [
        Metric::StocksFetched,
        Metric::StocksRanked,
        Metric::StocksUnranked,
        Metric::ApiCalls,
        Metric::ApiThrottles,
        Metric::ApiRetries,
        Metric::CacheHits,
        Metric::ChunkDurationMs,
        Metric::ChunksPending,
        Metric::RunCoverage,
        Metric::EmailsSent,
        Metric::EmailsFailed,
        Metric::EmailsUnconfirmed,
        Metric::RunSucceeded,
        Metric::ReportAgeHours,
        Metric::EventsRefused,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::StocksFetched => "StocksFetched",
            Metric::StocksRanked => "StocksRanked",
            Metric::StocksUnranked => "StocksUnranked",
            Metric::ApiCalls => "ApiCalls",
            Metric::ApiThrottles => "ApiThrottles",
            Metric::ApiRetries => "ApiRetries",
            Metric::CacheHits => "CacheHits",
            Metric::ChunkDurationMs => "ChunkDurationMs",
            Metric::ChunksPending => "ChunksPending",
            Metric::RunCoverage => "RunCoverage",
            Metric::EmailsSent => "EmailsSent",
            Metric::EmailsFailed => "EmailsFailed",
            Metric::EmailsUnconfirmed => "EmailsUnconfirmed",
            Metric::RunSucceeded => "RunSucceeded",
            Metric::ReportAgeHours => "ReportAgeHours",
            Metric::EventsRefused => "EventsRefused",
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            Metric::ChunkDurationMs => Unit::Milliseconds,
            Metric::RunCoverage | Metric::ReportAgeHours => Unit::None,
            _ => Unit::Count,
        }
    }
}

/// Log messages the dashboard's metric filters and its "Run markers" query match exactly
/// (`{ $.fields.message = "..." }`): a fixed text each, the details go in fields.
pub mod marker {
    /// A run was planned and its chunks launched.
    pub const CHUNKS_LAUNCHED: &str = "chunks_launched";
    /// A lane wrote one chunk.
    pub const CHUNK_COMPLETE: &str = "Chunk complete";
    /// A report was published.
    pub const ANALYSIS_COMPLETE: &str = "Analysis complete";
    /// The aggregator removed the run's chunk files.
    pub const CHUNKS_CLEANED_UP: &str = "S3 chunks cleaned up";

    /// (contract id, message)
    pub const ALL: [(&str, &str); 4] = [
        ("ChunksLaunched", CHUNKS_LAUNCHED),
        ("ChunkComplete", CHUNK_COMPLETE),
        ("AnalysisComplete", ANALYSIS_COMPLETE),
        ("ChunksCleanedUp", CHUNKS_CLEANED_UP),
    ];
}

/// The S3 key prefixes: every key the function reads or writes starts with one of them
/// (see [`crate::domain::state::keys`]); the IAM policy grants exactly these.
pub mod prefix {
    pub const RUNS: &str = "runs/";
    pub const REPORTS: &str = "reports/";
    pub const HISTORY: &str = "reports/history/";
    pub const CACHE: &str = "cache/";

    /// (contract id, prefix)
    pub const ALL: [(&str, &str); 4] = [("runs", RUNS), ("reports", REPORTS), ("history", HISTORY), ("cache", CACHE)];
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// contracts/contract.json: the same names, for the infrastructure.
    const CONTRACT: &str = include_str!("../../contracts/contract.json");

    fn contract() -> serde_json::Value {
        serde_json::from_str(CONTRACT).expect("contracts/contract.json is JSON")
    }

    /// One section of the contract as name -> the string `field` of each entry.
    fn section(c: &serde_json::Value, name: &str, field: &str) -> BTreeMap<String, String> {
        let entries = c[name].as_object().unwrap_or_else(|| panic!("contract.json has a `{name}` object"));
        entries
            .iter()
            .map(|(k, v)| (k.clone(), v[field].as_str().unwrap_or_else(|| panic!("{name}.{k} has a string `{field}`")).to_string()))
            .collect()
    }

    fn keys_of(v: &serde_json::Value, section: &str) -> Vec<String> {
        v[section].as_object().unwrap_or_else(|| panic!("contract.json has a `{section}` object")).keys().cloned().collect()
    }

    #[test]
    fn every_metric_is_declared_with_its_unit_and_every_declared_metric_exists() {
        let declared = section(&contract(), "metrics", "unit");
        let code: BTreeMap<String, String> = Metric::ALL.iter().map(|m| (m.name().to_string(), m.unit().as_str().to_string())).collect();
        assert_eq!(code.len(), Metric::ALL.len(), "Metric::ALL lists each metric once");
        assert_eq!(code, declared, "Metric (function/src/contract.rs) and contracts/contract.json `metrics` differ");
    }

    #[test]
    fn metric_all_lists_every_variant() {
        // A variant missing from ALL would be emitted but never checked: the exhaustive
        // match gives each variant an index, and ALL must hold every index once.
        fn index(m: Metric) -> usize {
            match m {
                Metric::StocksFetched => 0,
                Metric::StocksRanked => 1,
                Metric::StocksUnranked => 2,
                Metric::ApiCalls => 3,
                Metric::ApiThrottles => 4,
                Metric::ApiRetries => 5,
                Metric::CacheHits => 6,
                Metric::ChunkDurationMs => 7,
                Metric::ChunksPending => 8,
                Metric::RunCoverage => 9,
                Metric::EmailsSent => 10,
                Metric::EmailsFailed => 11,
                Metric::EmailsUnconfirmed => 12,
                Metric::RunSucceeded => 13,
                Metric::ReportAgeHours => 14,
                Metric::EventsRefused => 15,
            }
        }
        let mut seen: Vec<usize> = Metric::ALL.iter().map(|m| index(*m)).collect();
        seen.sort();
        assert_eq!(seen, (0..Metric::ALL.len()).collect::<Vec<_>>());
    }

    #[test]
    fn namespace_and_dimensions_are_the_contracts() {
        let c = contract();
        assert_eq!(c["namespace"], NAMESPACE);
        assert_eq!(c["dimensions"], serde_json::json!(DIMENSIONS));
    }

    #[test]
    fn log_markers_are_the_contracts() {
        let declared = section(&contract(), "log_markers", "message");
        let code: BTreeMap<String, String> = marker::ALL.iter().map(|(k, m)| (k.to_string(), m.to_string())).collect();
        assert_eq!(code, declared, "contract::marker and contracts/contract.json `log_markers` differ");
    }

    #[test]
    fn s3_prefixes_are_the_contracts() {
        let declared = section(&contract(), "s3_prefixes", "prefix");
        let code: BTreeMap<String, String> = prefix::ALL.iter().map(|(k, p)| (k.to_string(), p.to_string())).collect();
        assert_eq!(code, declared, "contract::prefix and contracts/contract.json `s3_prefixes` differ");
    }

    #[test]
    fn response_statuses_are_the_contracts() {
        use crate::pipeline::coordinator::Status;
        let mut declared = keys_of(&contract(), "statuses");
        declared.sort();
        let mut code: Vec<String> = Status::ALL.iter().map(|s| s.as_str().to_string()).collect();
        code.sort();
        assert_eq!(code, declared, "coordinator::Status and contracts/contract.json `statuses` differ");
    }

    /// Every log marker is used by the code, and no tracing call writes a marker's text
    /// other than through the constant (a literal copy would drift on the next rename).
    #[test]
    fn log_markers_and_metrics_are_used_through_their_constants() {
        let mut files = Vec::new();
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("contract.rs") {
                    out.push(p);
                }
            }
        }
        walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
        let text: String = files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect();
        for (id, message) in marker::ALL {
            let constant = match id {
                "ChunksLaunched" => "CHUNKS_LAUNCHED",
                "ChunkComplete" => "CHUNK_COMPLETE",
                "AnalysisComplete" => "ANALYSIS_COMPLETE",
                "ChunksCleanedUp" => "CHUNKS_CLEANED_UP",
                other => panic!("marker {other} without a constant"),
            };
            assert!(text.contains(&format!("marker::{constant}")), "marker {id} is never logged");
            assert!(!text.contains(&format!("\"{message}\"")), "the text of marker {id} is written as a literal outside contract.rs");
        }
        // And every declared metric is emitted somewhere (an alarm on one never emitted
        // would never fire).
        for m in Metric::ALL {
            assert!(text.contains(&format!("Metric::{}", m.name())), "{} is declared but never emitted", m.name());
        }
    }
}
