//! Quota efficiency of the distributed run with local lanes: the Lambda coordinator in this
//! process (directory store, in-process invoker that round-trips every event through JSON,
//! real HTTP client) against the simulator on loopback at R requests/min. Prints the plan,
//! wall time from the run event to the aggregated report, API calls and throttles, and
//! wall / (calls / quota).
//!
//!   cargo run --release --example bench_lanes -- 6000 [symbols] [cache]
//!
//! With `cache`, the OVERVIEW cache is on (cold): the run step reads the earnings calendar,
//! each chunk probes bulk quotes (not entitled) and writes its entries.
//!
//! Benchmarks live apart from tests: nothing here asserts on time.

use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use stockpicks::adapters::alphavantage::{AlphaVantage, ClientConfig};
use stockpicks::adapters::file_mailer::FileMailer;
use stockpicks::adapters::inprocess::InProcessInvoker;
use stockpicks::adapters::local_store::DirStore;
use stockpicks::config::PriceSource;
use stockpicks::domain::model::DEFAULT_MODEL_TOML;
use stockpicks::domain::universe::Universe;
use stockpicks::pipeline::coordinator::{Coordinator, Invocation, Settings};
use stockpicks::pipeline::insight::Insight;
use stockpicks::pipeline::publish::MailSettings;
use stockpicks::ports::{NoMetrics, ObjectStore, SystemClock};
use stockpicks::secret::Secret;
use stockpicks::sim::{self, SimConfig};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Coord = Coordinator<AlphaVantage, DirStore, InProcessInvoker, FileMailer, SystemClock>;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    stockpicks::alloc::purge_freed_memory_promptly();
    let rate: f64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(6000.0);
    let n: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(503);
    let cache = std::env::args().nth(3).as_deref() == Some("cache");
    let running = sim::start(SimConfig { rate_per_min: rate, ..SimConfig::default() }, 0).await.expect("simulator");
    let base = running.base_url();
    let dir = std::env::temp_dir().join(format!("stockpicks-bench-lanes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let store = Arc::new(DirStore::new(&dir));
    let invoker = Arc::new(InProcessInvoker::default());
    let coord: Arc<Coord> = Arc::new(Coordinator {
        market: Box::new(move |r| Arc::new(AlphaVantage::new(ClientConfig::new(&base, Secret::new("bench"), r)).expect("client"))),
        store: store.clone(),
        invoker: invoker.clone(),
        mailer: Arc::new(FileMailer::new(&dir)),
        clock: Arc::new(SystemClock),
        metrics: Arc::new(NoMetrics),
        settings: Settings {
            rate_per_min: rate,
            max_workers: 5,
            price_source: PriceSource::Overview,
            chunk_size: 50,
            distributed_threshold: 100,
            max_parallel_lanes: 10,
            time_budget: Duration::from_secs(840),
            run_deadline: Duration::from_secs(3600),
            min_run_coverage: 0.9,
            memory_mb: 1024,
            latency_secs: 0.25,
            cache_max_age_days: cache.then_some(30),
            mail: MailSettings { sender: "bench@example.com".into(), recipients: vec!["reader@example.com".into()], unsubscribe: None },
        },
        model_toml: DEFAULT_MODEL_TOML.to_string(),
        universe: Universe::sp500(),
        insight: Insight::none(),
    });
    let weak = Arc::downgrade(&coord);
    invoker.set_handler(Arc::new(move |ev: Value| {
        let weak = weak.clone();
        Box::pin(async move {
            if let Some(c) = weak.upgrade() {
                if let Err(e) = c.handle(&ev, &Invocation::default()).await {
                    eprintln!("lane failed: {e}");
                }
            }
        })
    }));
    let symbols: Vec<String> = Universe::sp500().members.iter().take(n).map(|m| m.symbol.index_form()).collect();
    let before = running.sim.stats();
    let t0 = Instant::now();
    let out = coord.handle(&json!({"op": "run", "symbols": symbols, "run_id": "bench"}), &Invocation::default()).await.expect("run");
    invoker.drain().await;
    let wall = t0.elapsed().as_secs_f64();
    let after = running.sim.stats();
    let calls = after.requests - before.requests;
    let done = store.list("runs/bench/done.json").await.map(|v| v.len()).unwrap_or(0);
    let bound = calls as f64 * 60.0 / rate;
    println!(
        "lanes{}: {rate}/min, {n} symbols, mode {}, {} lanes: wall {wall:.2} s, {calls} calls ({} throttled), bound {bound:.2} s, ratio {:.3}{}",
        if cache { " (cache on, cold)" } else { "" },
        out["mode"].as_str().unwrap_or("?"),
        out["lanes"].as_u64().unwrap_or(1),
        after.throttled - before.throttled,
        wall / bound,
        if done == 1 { "" } else { " (NOT aggregated)" }
    );
    let _ = std::fs::remove_dir_all(&dir);
}
