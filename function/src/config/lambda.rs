//! What only the Lambda reads, on top of [`super::Config`].

use super::values::{whole, Lookup};
use super::{ConfigError, DEFAULT_METRICS_NAMESPACE};

#[derive(Clone, Debug)]
pub struct LambdaConfig {
    pub bucket: String,
    pub ses_configuration_set: Option<String>,
    pub alpha_vantage_secret_arn: Option<String>,
    pub openai_secret_arn: Option<String>,
    pub metrics_namespace: String,
    /// The function to invoke for lanes: Lambda's own name, else `FUNCTION_NAME`.
    pub function_name: String,
    /// The published version this invocation runs (`$LATEST` locally).
    pub function_version: Option<String>,
    pub memory_mb: u32,
}

impl LambdaConfig {
    pub fn from_env() -> Result<LambdaConfig, ConfigError> {
        LambdaConfig::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<LambdaConfig, ConfigError> {
        let trimmed = |k: &str| get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let get: Lookup = &trimmed;
        let bucket = get("S3_BUCKET").ok_or_else(|| ConfigError { var: "S3_BUCKET", value: String::new(), why: "required".into() })?;
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
        if !bucket_ok {
            return Err(ConfigError { var: "S3_BUCKET", value: bucket, why: "not a valid bucket name".into() });
        }
        for var in ["ALPHA_VANTAGE_SECRET_ARN", "OPENAI_SECRET_ARN"] {
            if let Some(v) = get(var) {
                if !v.starts_with("arn:") {
                    return Err(ConfigError { var, value: v, why: "must be a secret ARN".into() });
                }
            }
        }
        Ok(LambdaConfig {
            bucket,
            ses_configuration_set: get("SES_CONFIGURATION_SET"),
            alpha_vantage_secret_arn: get("ALPHA_VANTAGE_SECRET_ARN"),
            openai_secret_arn: get("OPENAI_SECRET_ARN"),
            metrics_namespace: get("METRICS_NAMESPACE").unwrap_or_else(|| DEFAULT_METRICS_NAMESPACE.into()),
            function_name: get("AWS_LAMBDA_FUNCTION_NAME")
                .or_else(|| get("FUNCTION_NAME"))
                .unwrap_or_else(|| "stock-analysis-function".into()),
            function_version: get("AWS_LAMBDA_FUNCTION_VERSION"),
            memory_mb: whole(get, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 1024, 128, 10_240)?,
        })
    }
}
