//! API keys from Secrets Manager, read once per container (the caller keeps the value, so a
//! warm container keeps using the key it read until it is recycled). The secret is JSON with
//! an `api_key` field, or the bare key. The stack creates both secrets holding the empty
//! sentinel `{"api_key": ""}`: that reads as "not set", an error the caller turns into a
//! failed start (Alpha Vantage) or commentary off (OpenAI).

use crate::ports::BoxError;
use crate::secret::Secret;

/// Why no key came out of a secret. The messages name the secret (its ARN), never a value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// Secrets Manager refused or failed (`code` is its error code, e.g. AccessDeniedException).
    #[error("reading secret {arn}: {code}")]
    Read {
        arn: String,
        code: String,
        #[source]
        source: BoxError,
    },
    #[error("secret {arn} has no string value")]
    NoString { arn: String },
    #[error("secret {arn}: JSON without a string api_key")]
    NoApiKey { arn: String },
    /// The stack's sentinel, or a blank value.
    #[error("secret {arn} holds no key (it is the empty {{\"api_key\": \"\"}} the stack creates; set it with put-secret-value)")]
    Empty { arn: String },
}

pub async fn fetch(client: &aws_sdk_secretsmanager::Client, arn: &str) -> Result<Secret, SecretError> {
    let out = client.get_secret_value().secret_id(arn).send().await.map_err(|e| {
        let code = e.as_service_error().and_then(|s| aws_sdk_secretsmanager::error::ProvideErrorMetadata::code(s)).unwrap_or("error");
        SecretError::Read { arn: arn.to_string(), code: code.to_string(), source: Box::new(e) }
    })?;
    parse(arn, out.secret_string().ok_or_else(|| SecretError::NoString { arn: arn.to_string() })?)
}

/// The key in a secret's string value; an empty one (the sentinel) is an error naming the secret.
pub fn parse(arn: &str, raw: &str) -> Result<Secret, SecretError> {
    let raw = raw.trim();
    let value = match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(v) => v
            .get("api_key")
            .and_then(|k| k.as_str())
            .map(|k| k.trim().to_string())
            .ok_or_else(|| SecretError::NoApiKey { arn: arn.to_string() })?,
        Err(_) => raw.to_string(),
    };
    if value.is_empty() {
        return Err(SecretError::Empty { arn: arn.to_string() });
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
            assert!(matches!(&err, SecretError::Empty { arn } if arn == ARN), "{raw:?}: {err:?}");
            let text = err.to_string();
            assert!(text.contains(ARN) && text.contains("holds no key"), "{raw:?}: {text}");
        }
    }

    #[test]
    fn a_set_key_is_read_from_json_or_bare() {
        assert_eq!(parse(ARN, r#"{"api_key": "ABC123"}"#).unwrap().expose(), "ABC123");
        assert_eq!(parse(ARN, "ABC123\n").unwrap().expose(), "ABC123");
        let err = parse(ARN, r#"{"key": "ABC123"}"#).unwrap_err();
        assert!(matches!(err, SecretError::NoApiKey { .. }) && err.to_string().contains("without a string api_key"), "{err}");
    }

    #[test]
    fn errors_never_carry_the_key() {
        let err = parse(ARN, r#"{"apikey": "SECRET-VALUE-1"}"#).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("SECRET-VALUE-1"), "{err}");
    }
}
