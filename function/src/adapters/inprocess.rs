//! The local invoker: runs an event on a new task in this process, after a round trip
//! through JSON bytes as Lambda would do, without waiting for it (like `InvocationType=Event`).

use crate::ports::{InvokeError, Invoker};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

type Handler = Arc<dyn Fn(serde_json::Value) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// The handler is set after construction, since it usually owns this invoker.
#[derive(Default)]
pub struct InProcessInvoker {
    handler: OnceLock<Handler>,
    tasks: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl InProcessInvoker {
    pub fn set_handler(&self, h: Handler) {
        let _ = self.handler.set(h);
    }

    /// Waits until every invocation started so far (and any they started) has finished.
    pub async fn drain(&self) {
        loop {
            let batch: Vec<_> = std::mem::take(&mut *self.tasks.lock().expect("tasks lock"));
            if batch.is_empty() {
                return;
            }
            for t in batch {
                let _ = t.await;
            }
        }
    }
}

impl Invoker for InProcessInvoker {
    async fn invoke_async(&self, event: serde_json::Value) -> Result<(), InvokeError> {
        let handler = self.handler.get().ok_or(InvokeError::NoHandler)?.clone();
        let bytes = serde_json::to_vec(&event).map_err(InvokeError::Encode)?;
        let event: serde_json::Value = serde_json::from_slice(&bytes).map_err(InvokeError::Encode)?;
        let task = tokio::spawn(handler(event));
        self.tasks.lock().expect("tasks lock").push(task);
        Ok(())
    }
}
