//! API keys from Secrets Manager, read once per container (the caller keeps the value, so a
//! warm container keeps using the key it read until it is recycled). The secret is JSON with
//! an `api_key` field, or the bare key. The stack creates both secrets holding the empty
//! sentinel `{"api_key": ""}`: that reads as "not set", an error the caller turns into a
//! failed start (Alpha Vantage) or commentary off (OpenAI).

use crate::secret::Secret;

pub async fn fetch(client: &aws_sdk_secretsmanager::Client, arn: &str) -> Result<Secret, String> {
    let out = client.get_secret_value().secret_id(arn).send().await.map_err(|e| {
        let code = e.as_service_error().and_then(|s| aws_sdk_secretsmanager::error::ProvideErrorMetadata::code(s)).unwrap_or("error");
        format!("reading secret {arn}: {code}")
    })?;
    parse(arn, out.secret_string().ok_or_else(|| format!("secret {arn} has no string value"))?)
}

/// The key in a secret's string value; an empty one (the sentinel) is an error naming the secret.
pub fn parse(arn: &str, raw: &str) -> Result<Secret, String> {
    let raw = raw.trim();
    let value = match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(v) => v
            .get("api_key")
            .and_then(|k| k.as_str())
            .map(|k| k.trim().to_string())
            .ok_or_else(|| format!("secret {arn}: JSON without a string api_key"))?,
        Err(_) => raw.to_string(),
    };
    if value.is_empty() {
        return Err(format!(
            "secret {arn} holds no key (it is the empty {{\"api_key\": \"\"}} the stack creates; set it with put-secret-value)"
        ));
    }
    Ok(Secret::new(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:secretsmanager:us-east-1:111122223333:secret:stockpicks/prod/alpha-vantage-api-key-AbCdEf";

    #[test]
    fn the_stacks_empty_sentinel_is_no_key_and_names_the_secret() {
        for raw in [r#"{"api_key": ""}"#, r#"{"api_key":"  "}"#, "", "  \n"] {
            let err = parse(ARN, raw).unwrap_err();
            assert!(err.contains(ARN) && err.contains("holds no key"), "{raw:?}: {err}");
        }
    }

    #[test]
    fn a_set_key_is_read_from_json_or_bare() {
        assert_eq!(parse(ARN, r#"{"api_key": "ABC123"}"#).unwrap().expose(), "ABC123");
        assert_eq!(parse(ARN, "ABC123\n").unwrap().expose(), "ABC123");
        assert!(parse(ARN, r#"{"key": "ABC123"}"#).unwrap_err().contains("without a string api_key"));
    }

    #[test]
    fn errors_never_carry_the_key() {
        let err = parse(ARN, r#"{"apikey": "SECRET-VALUE-1"}"#).unwrap_err();
        assert!(!err.contains("SECRET-VALUE-1"), "{err}");
    }
}
