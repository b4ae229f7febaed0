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
