//! CloudWatch Embedded Metric Format: one JSON line per metric on stdout, which Lambda
//! ships to CloudWatch Logs, where it becomes a metric without any API call.

use crate::ports::Metrics;

pub struct EmfMetrics {
    pub namespace: String,
    pub function: String,
}

impl EmfMetrics {
    pub fn line(&self, name: &str, value: f64, unit: &str, timestamp_ms: u128) -> String {
        serde_json::json!({
            "_aws": {
                "Timestamp": timestamp_ms as u64,
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": [["Function"]],
                    "Metrics": [{"Name": name, "Unit": unit}],
                }],
            },
            "Function": self.function,
            name: value,
        })
        .to_string()
    }
}

impl Metrics for EmfMetrics {
    fn put(&self, name: &str, value: f64, unit: &str) {
        let ts = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
        println!("{}", self.line(name, value, unit, ts));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// contracts/contract.json: the one definition the alarms (infra/lib/definitions.ts) and
    /// this code share.
    const CONTRACT: &str = include_str!("../../../contracts/contract.json");

    /// Every metric name the code emits: the string literal in each `.count("…"`,
    /// `.milliseconds("…"`, `.ratio("…"` and `.put("…"` call of a `metrics` value.
    fn emitted_names() -> std::collections::BTreeSet<String> {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(p);
                }
            }
        }
        let mut files = Vec::new();
        walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
        let mut names = std::collections::BTreeSet::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for call in ["metrics.count(\"", "metrics.milliseconds(\"", "metrics.ratio(\"", "metrics.put(\""] {
                for (at, _) in text.match_indices(call) {
                    let rest = &text[at + call.len()..];
                    names.insert(rest[..rest.find('"').unwrap()].to_string());
                }
            }
        }
        names
    }

    #[test]
    fn metrics_contract() {
        let contract: serde_json::Value = serde_json::from_str(CONTRACT).unwrap();
        let declared: std::collections::BTreeSet<String> = contract["metrics"].as_object().unwrap().keys().cloned().collect();
        let emitted = emitted_names();
        assert!(emitted.len() >= 10, "the scan found the emitting calls: {emitted:?}");
        let undeclared: Vec<_> = emitted.difference(&declared).collect();
        assert!(undeclared.is_empty(), "emitted but not in contracts/contract.json (no alarm or widget may watch them): {undeclared:?}");
        let never: Vec<_> = declared.difference(&emitted).collect();
        assert!(never.is_empty(), "declared in contracts/contract.json but never emitted (an alarm on them never fires): {never:?}");
        // The namespace the stack passes as METRICS_NAMESPACE is the function's default too,
        // and the dimension set is the one every EMF line carries.
        assert_eq!(contract["namespace"], crate::config::DEFAULT_METRICS_NAMESPACE);
        let m = EmfMetrics { namespace: "N".into(), function: "stockpicks-prod".into() };
        let line: serde_json::Value = serde_json::from_str(&m.line("ApiCalls", 1.0, "Count", 1)).unwrap();
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Dimensions"], serde_json::json!([contract["dimensions"]]));
        for d in contract["dimensions"].as_array().unwrap() {
            assert_eq!(line[d.as_str().unwrap()], "stockpicks-prod", "dimension {d} carries the function name");
        }
    }

    #[test]
    fn emf_shape() {
        let m = EmfMetrics { namespace: "StockPicks".into(), function: "f".into() };
        let v: serde_json::Value = serde_json::from_str(&m.line("ApiCalls", 3.0, "Count", 1)).unwrap();
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], "StockPicks");
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"], "ApiCalls");
        assert_eq!(v["ApiCalls"], 3.0);
        assert_eq!(v["Function"], "f");
    }
}
