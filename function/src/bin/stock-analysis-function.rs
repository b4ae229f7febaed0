//! `stock-analysis-function`: the Lambda entry point. Wiring only (see `app::lambda`): the
//! coordinator is built once per container, and every event goes to it.

use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use stockpicks::app::lambda::{self, Aws};
use stockpicks::pipeline::coordinator::{Coordinator, Invocation};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    stockpicks::alloc::purge_freed_memory_promptly();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().json().with_env_filter(filter).with_target(false).with_current_span(true).with_span_list(false).init();
    // A failed start fails the init phase with the named cause: Lambda reports it on every invoke.
    let coord = Arc::new(lambda::build().await.inspect_err(|e| tracing::error!(error = %e, "configuration error"))?);
    lambda_runtime::run(lambda_runtime::service_fn(move |ev: lambda_runtime::LambdaEvent<Value>| {
        let coord = coord.clone();
        async move { handle(&coord, ev).await }
    }))
    .await
}

async fn handle(coord: &Coordinator<Aws>, ev: lambda_runtime::LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
    let inv = Invocation { deadline: plausible_deadline(ev.context.deadline), request_id: ev.context.request_id.clone() };
    let run_id = ev.payload.get("run_id").and_then(Value::as_str).unwrap_or("");
    let lane = ev.payload.get("lane").and_then(Value::as_u64);
    let _guard = tracing::info_span!("invocation", run_id, lane, request_id = %inv.request_id).entered();
    // An error is retryable: Lambda's async retry runs the (idempotent) step again.
    let response = coord.handle(&ev.payload, &inv).await.inspect_err(|e| tracing::error!(error = %e, "invocation failed"))?;
    Ok(response.to_json())
}

/// The runtime's deadline as an `Instant`, or `None` when it is not plausible (the local
/// emulator's deadline is not an epoch time): the configured budget applies then.
fn plausible_deadline(deadline_ms: u64) -> Option<Instant> {
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_millis() as u64;
    let left = deadline_ms.checked_sub(now_ms)?;
    (left > 0 && left <= 15 * 60 * 1000).then(|| Instant::now() + Duration::from_millis(left))
}
