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
        let payload = serde_json::to_vec(&event).map_err(|e| InvokeError(e.to_string()))?;
        self.client
            .invoke()
            .function_name(&self.function)
            .set_qualifier(self.qualifier.clone())
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| InvokeError(format!("{}", aws_sdk_lambda::error::DisplayErrorContext(&e)).chars().take(300).collect()))?;
        Ok(())
    }
}
