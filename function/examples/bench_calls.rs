//! API calls per weekly run with the OVERVIEW cache: the whole S&P 500 on the simulator, a
//! cold run on a Monday and a warm run a week later, with the share of companies that
//! reported that week set to 5% (quiet) and 35% (earnings season), for a key without and
//! with REALTIME_BULK_QUOTES. The run's clock and the simulator's date move together.
//!
//!   cargo run --release --example bench_calls
//!
//! Benchmarks live apart from tests: nothing here asserts on anything.

use std::sync::Arc;
use stockpicks::adapters::alphavantage::{AlphaVantage, ClientConfig};
use stockpicks::adapters::file_mailer::FileMailer;
use stockpicks::adapters::local_store::DirStore;
use stockpicks::adapters::readers::FixedReaders;
use stockpicks::config::PriceSource;
use stockpicks::domain::model::Model;
use stockpicks::domain::time;
use stockpicks::domain::universe::Universe;
use stockpicks::pipeline::cache::OverviewCache;
use stockpicks::pipeline::insight::Insight;
use stockpicks::pipeline::publish::MailSettings;
use stockpicks::pipeline::run::{run_once, RunPorts, RunRequest};
use stockpicks::ports::{FixedClock, MarketData, NoProgress};
use stockpicks::secret::Secret;
use stockpicks_sim::synth::Reporting;
use stockpicks_sim::{self as sim, SimConfig};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RATE: f64 = 60_000.0;

struct Outcome {
    calls: u64,
    hits: usize,
    reported: usize,
    ranked: usize,
}

async fn run(day: i64, premium: bool, share: f64, week_ending: i64, cache_dir: &std::path::Path) -> Outcome {
    let cfg = SimConfig {
        rate_per_min: RATE,
        day: Some(day),
        premium,
        reporting: Some(Reporting { share, week_ending }),
        ..SimConfig::default()
    };
    let running = sim::start(cfg, 0).await.expect("simulator");
    let client = Arc::new(AlphaVantage::new(ClientConfig::new(&running.base_url(), Secret::new("bench"), RATE)).expect("client"));
    let out = std::env::temp_dir().join(format!("stockpicks-bench-calls-out-{}", std::process::id()));
    std::fs::create_dir_all(&out).expect("out dir");
    let cache = OverviewCache { store: Arc::new(DirStore::new(cache_dir)), prefix: String::new(), max_age_days: 30 };
    let req = RunRequest {
        run_id: format!("{}-bench", time::compact_minute(day * 86_400)),
        universe: Universe::sp500(),
        model: Model::default_model(),
        top: 25,
        workers: 8,
        price_source: PriceSource::Overview,
        min_run_coverage: 0.9,
        prefix: String::new(),
        mail: MailSettings {
            sender: "bench@example.com".into(),
            recipients: vec!["r@example.com".into()],
            unsubscribe: None,
            contact_list: None,
        },
        warnings: vec![],
    };
    let outcome = run_once(
        RunPorts {
            market: client.clone(),
            store: &DirStore::new(&out),
            insight: &Insight::<DirStore>::none(),
            cache: Some(&cache),
            mailer: &FileMailer::new(&out),
            readers: &FixedReaders(req.mail.recipients.clone()),
            clock: &FixedClock(day * 86_400 + 13 * 3600),
            progress: Arc::new(NoProgress),
        },
        req,
    )
    .await
    .expect("run");
    let _ = std::fs::remove_dir_all(&out);
    let c = outcome.report.cache.clone().unwrap_or_default();
    Outcome { calls: client.stats().api_calls, hits: c.hits, reported: c.reported, ranked: outcome.report.coverage.ranked }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    stockpicks::alloc::purge_freed_memory_promptly();
    let monday = time::days_from_civil(2026, 11, 2);
    let next = monday + 7;
    println!("calls per weekly run, 503 symbols (cold on {}, warm on {}):", time::date(monday * 86_400), time::date(next * 86_400));
    println!("{:<18} {:<12} {:>6} {:>6} {:>9} {:>10} {:>8}", "week", "key", "cold", "warm", "warm/cold", "cache hits", "reported");
    let mut bulk = Vec::new();
    for (label, share) in [("quiet (5%)", 0.05), ("earnings (35%)", 0.35)] {
        for (key, premium) in [("no bulk", false), ("bulk quotes", true)] {
            let dir = std::env::temp_dir().join(format!("stockpicks-bench-calls-{}-{share}-{premium}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("cache dir");
            let cold = run(monday, premium, share, next, &dir).await;
            let warm = run(next, premium, share, next, &dir).await;
            println!(
                "{label:<18} {key:<12} {:>6} {:>6} {:>8.1}% {:>10} {:>8}   (ranked {} / {})",
                cold.calls,
                warm.calls,
                warm.calls as f64 / cold.calls as f64 * 100.0,
                warm.hits,
                warm.reported,
                cold.ranked,
                warm.ranked
            );
            let _ = std::fs::remove_dir_all(&dir);
            if premium {
                bulk.push((cold.calls, warm.calls));
            }
        }
    }
    // For bench/costs.py.
    println!("measured-calls: --cold {} --warm-quiet {} --warm-season {}", bulk[0].0, bulk[0].1, bulk[1].1);
}
