//! API keys from Secrets Manager, read once per container (the caller keeps the value).
//! The secret may be the bare key or JSON with an `api_key` field.

use crate::config::Secret;

pub async fn fetch(client: &aws_sdk_secretsmanager::Client, arn: &str) -> Result<Secret, String> {
    let out = client.get_secret_value().secret_id(arn).send().await.map_err(|e| {
        let code = e.as_service_error().and_then(|s| aws_sdk_secretsmanager::error::ProvideErrorMetadata::code(s)).unwrap_or("error");
        format!("reading secret {arn}: {code}")
    })?;
    let raw = out.secret_string().ok_or_else(|| format!("secret {arn} has no string value"))?.trim().to_string();
    let value = match serde_json::from_str::<serde_json::Value>(&raw) {
        Ok(v) => {
            v.get("api_key").and_then(|k| k.as_str()).map(String::from).ok_or_else(|| format!("secret {arn}: JSON without api_key"))?
        }
        Err(_) => raw,
    };
    if value.is_empty() {
        return Err(format!("secret {arn} is empty"));
    }
    Ok(Secret::new(value))
}
