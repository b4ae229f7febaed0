//! Quota efficiency of the distributed run with local lanes: the Lambda coordinator in this
//! process (directory store, in-process invoker that round-trips every event through JSON,
//! real HTTP client) against the simulator on loopback at R requests/min. Prints the plan,
//! wall time from the run event to the aggregated report, API calls and throttles, the
//! number of continuations (a lane handing over to a new invocation before its time budget
//! runs out), and wall / (calls / quota).
//!
//!   cargo run --release --example bench_lanes -- 6000 [symbols] [cache]
//!   TIME_BUDGET_SECS=30 cargo run --release --example bench_lanes -- 6000 5000
//!
//! The rest of the configuration comes from the environment, as the function reads it
//! (app::coordinator_settings). Beyond the S&P 500's 503, symbols are made-up tickers the
//! simulator invents companies for. With `cache`, the OVERVIEW cache is on (cold).
//!
//! Benchmarks live apart from tests: nothing here asserts on time.

use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;
use stockpicks::adapters::alphavantage::AlphaVantage;
use stockpicks::adapters::file_mailer::FileMailer;
use stockpicks::adapters::inprocess::InProcessInvoker;
use stockpicks::adapters::local_store::DirStore;
use stockpicks::adapters::readers::FixedReaders;
use stockpicks::app;
use stockpicks::config::Config;
use stockpicks::domain::model::DEFAULT_MODEL_TOML;
use stockpicks::domain::universe::Universe;
use stockpicks::pipeline::coordinator::{Adapters, Coordinator, Invocation, Parts};
use stockpicks::pipeline::insight::Insight;
use stockpicks::ports::{NoMetrics, ObjectStore, SystemClock};
use stockpicks::secret::Secret;
use stockpicks_sim::{self as sim, SimConfig};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Local;

impl Adapters for Local {
    type Market = AlphaVantage;
    type Store = DirStore;
    type Invoker = InProcessInvoker;
    type Mailer = FileMailer;
    type Clock = SystemClock;
}

/// `n` tickers: the S&P 500's, then made-up four-letter ones.
fn symbols(n: usize) -> Vec<String> {
    let mut out: Vec<String> = Universe::sp500().members.iter().take(n).map(|m| m.symbol.index_form()).collect();
    let mut i = 0usize;
    while out.len() < n {
        let t: String = (0..4).map(|k| (b'A' + ((i / 26usize.pow(k)) % 26) as u8) as char).collect();
        let t = format!("Q{t}");
        if !out.contains(&t) {
            out.push(t);
        }
        i += 1;
    }
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    stockpicks::alloc::purge_freed_memory_promptly();
    let rate: f64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(6000.0);
    let n: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(503);
    let cache = std::env::args().nth(3).as_deref() == Some("cache");
    let running = sim::start(SimConfig { rate_per_min: rate, ..SimConfig::default() }, 0).await.expect("simulator");
    let base = running.base_url();
    let rate_var = rate.to_string();
    let cfg = Config::from_lookup(|k| match k {
        "ALPHA_VANTAGE_RATE_PER_MIN" => Some(rate_var.clone()),
        "OVERVIEW_CACHE" => Some(if cache { "on" } else { "off" }.to_string()),
        "EMAIL_RECIPIENT" => Some("reader@example.com".into()),
        other => std::env::var(other).ok(),
    })
    .expect("configuration");
    let dir = std::env::temp_dir().join(format!("stockpicks-bench-lanes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let store = Arc::new(DirStore::new(&dir));
    let invoker = Arc::new(InProcessInvoker::default());
    let parts: Parts<Local> = Parts {
        market: app::market_factory(&cfg.alpha_vantage, &base, Secret::new("bench")).expect("client"),
        store: store.clone(),
        invoker: invoker.clone(),
        mailer: Arc::new(FileMailer::new(&dir)),
        readers: Arc::new(FixedReaders(cfg.mail.recipients.clone())),
        clock: Arc::new(SystemClock),
        metrics: Arc::new(NoMetrics),
        insight: Insight::none(),
    };
    let settings = app::coordinator_settings(&cfg, 1024);
    let coord = Arc::new(Coordinator::new(parts, settings, DEFAULT_MODEL_TOML, Universe::sp500()).expect("model"));
    let continuations = Arc::new(AtomicUsize::new(0));
    let (weak, counted) = (Arc::downgrade(&coord), continuations.clone());
    invoker.set_handler(Arc::new(move |ev: Value| {
        let (weak, counted) = (weak.clone(), counted.clone());
        Box::pin(async move {
            if ev["op"] == "lane" && ev["offset"].as_u64().unwrap_or(0) > 0 {
                counted.fetch_add(1, Ordering::Relaxed);
            }
            if let Some(c) = weak.upgrade() {
                if let Err(e) = c.handle(&ev, &Invocation::default()).await {
                    eprintln!("lane failed: {e}");
                }
            }
        })
    }));
    let before = running.sim.stats();
    let t0 = Instant::now();
    let out =
        coord.handle(&json!({"op": "run", "symbols": symbols(n), "run_id": "bench"}), &Invocation::default()).await.expect("run").to_json();
    invoker.drain().await;
    let wall = t0.elapsed().as_secs_f64();
    let after = running.sim.stats();
    let calls = after.requests - before.requests;
    let done: Value = store.get("runs/bench/done.json").await.ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Value::Null);
    let results: Option<Value> = match store.list("reports/").await {
        Ok(keys) => match keys.iter().find(|k| k.ends_with("/bench/results.json")) {
            Some(k) => serde_json::from_slice::<Value>(&store.get(k).await.unwrap_or_default()).ok(),
            None => None,
        },
        Err(_) => None,
    };
    let ranked = results.as_ref().map(|r| r["coverage"]["ranked"].clone());
    // Every symbol once: ranking entries against distinct symbols, and why the rest are unranked.
    let once = results.as_ref().map(|r| {
        let ranking = r["ranking"].as_array().cloned().unwrap_or_default();
        let unranked = r["unranked"].as_array().cloned().unwrap_or_default();
        let mut symbols: Vec<String> =
            ranking.iter().chain(unranked.iter()).filter_map(|e| e["symbol"].as_str().map(str::to_string)).collect();
        let listed = symbols.len();
        symbols.sort();
        symbols.dedup();
        let mut reasons: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
        for u in &unranked {
            let reason = u["reason"].as_str().or_else(|| u["why"].as_str()).unwrap_or("?");
            let head: String = reason.chars().take(60).collect();
            *reasons.entry(head).or_default() += 1;
        }
        format!(
            "; ranking {} entries, unranked {}, distinct symbols {} of {} listed (duplicates {}); unranked reasons {:?}",
            ranking.len(),
            unranked.len(),
            symbols.len(),
            listed,
            listed - symbols.len(),
            reasons
        )
    });
    let bound = calls as f64 * 60.0 / rate;
    println!(
        "lanes{}: {rate}/min, {n} symbols, mode {}, {} lanes, {} continuations, time budget {} s: wall {wall:.2} s, {calls} calls ({} throttled), bound {bound:.2} s, ratio {:.3}, ranked {}{}{}",
        if cache { " (cache on, cold)" } else { "" },
        out["mode"].as_str().unwrap_or("?"),
        out["lanes"].as_u64().unwrap_or(1),
        continuations.load(Ordering::Relaxed),
        cfg.fanout.time_budget.as_secs(),
        after.throttled - before.throttled,
        wall / bound,
        ranked.unwrap_or(Value::Null),
        if done.is_null() { " (NOT aggregated)" } else { "" },
        once.unwrap_or_default()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
