//! Lambda as the invoker: `InvocationType=Event` on the exact version this run started on,
//! so a deploy in the middle of a run cannot mix versions.

use crate::ports::{InvokeError, Invoker};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;

pub struct LambdaInvoker {
    client: aws_sdk_lambda::Client,
    function: String,
    /// A published version number; `None` for `$LATEST` (local runs).
    qualifier: Option<String>,
}

impl LambdaInvoker {
    pub fn new(client: aws_sdk_lambda::Client, function: impl Into<String>, version: Option<String>) -> LambdaInvoker {
        let qualifier = version.filter(|v| v != "$LATEST" && !v.is_empty());
        LambdaInvoker { client, function: function.into(), qualifier }
    }
}

impl Invoker for LambdaInvoker {
    async fn invoke_async(&self, event: serde_json::Value) -> Result<(), InvokeError> {
        let payload = serde_json::to_vec(&event).map_err(InvokeError::Encode)?;
        self.client
            .invoke()
            .function_name(&self.function)
            .set_qualifier(self.qualifier.clone())
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| {
                let message = format!("{}", aws_sdk_lambda::error::DisplayErrorContext(&e)).chars().take(300).collect();
                // No service reply (timeout, network) is worth another try, like a throttle.
                let retryable = e.as_service_error().is_none_or(|s| retryable_code(aws_sdk_lambda::error::ProvideErrorMetadata::code(s)));
                InvokeError::Service { message, retryable, source: Some(Box::new(e)) }
            })?;
        Ok(())
    }
}

/// Whether a Lambda `Invoke` error code may clear on its own: throttles and the service's
/// own failures do; a missing function, a bad or oversized event, or a permission does not.
fn retryable_code(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "TooManyRequestsException"
                | "ThrottlingException"
                | "EC2ThrottledException"
                | "ServiceException"
                | "ResourceNotReadyException"
                | "ResourceConflictException"
                | "SnapStartNotReadyException"
                | "SnapStartTimeoutException"
        ) | None
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttles_and_service_failures_are_retryable_and_a_missing_function_is_not() {
        for code in ["TooManyRequestsException", "ServiceException", "EC2ThrottledException", "ResourceNotReadyException"] {
            assert!(retryable_code(Some(code)), "{code}");
        }
        for code in ["ResourceNotFoundException", "RequestTooLargeException", "InvalidParameterValueException", "AccessDeniedException"] {
            assert!(!retryable_code(Some(code)), "{code}");
        }
        let e = InvokeError::Service { message: "m".into(), retryable: retryable_code(Some("ResourceNotFoundException")), source: None };
        assert!(!e.is_retryable());
    }
}
