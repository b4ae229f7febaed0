//! CloudWatch Embedded Metric Format: one JSON line per metric on stdout, which Lambda
//! ships to CloudWatch Logs, where it becomes a metric without any API call.

use crate::contract::{Metric, DIMENSIONS};
use crate::ports::Metrics;

pub struct EmfMetrics {
    pub namespace: String,
    pub function: String,
}

impl EmfMetrics {
    pub fn line(&self, metric: Metric, value: f64, timestamp_ms: u128) -> String {
        let name = metric.name();
        let mut line = serde_json::json!({
            "_aws": {
                "Timestamp": timestamp_ms as u64,
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": [DIMENSIONS],
                    "Metrics": [{"Name": name, "Unit": metric.unit().as_str()}],
                }],
            },
            name: value,
        });
        for d in DIMENSIONS {
            line[d] = serde_json::json!(self.function);
        }
        line.to_string()
    }
}

impl Metrics for EmfMetrics {
    fn put(&self, metric: Metric, value: f64) {
        let ts = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
        println!("{}", self.line(metric, value, ts));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_shape() {
        let m = EmfMetrics { namespace: "StockPicks".into(), function: "f".into() };
        let v: serde_json::Value = serde_json::from_str(&m.line(Metric::ChunkDurationMs, 3.0, 1)).unwrap();
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], "StockPicks");
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"], "ChunkDurationMs");
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"], "Milliseconds");
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Dimensions"], serde_json::json!([["Function"]]));
        assert_eq!(v["ChunkDurationMs"], 3.0);
        assert_eq!(v["Function"], "f", "each dimension carries the function name");
    }
}
