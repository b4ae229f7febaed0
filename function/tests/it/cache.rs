//! The OVERVIEW cache end to end through `run_once` against the simulator: cold and warm
//! runs a week apart with a set share of companies reporting, bulk quotes with and without
//! entitlement (the artificial rows never used), a failed calendar, a corrupt entry.

use crate::helpers::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use stockpicks::adapters::alphavantage::AlphaVantage;
use stockpicks::adapters::file_mailer::FileMailer;
use stockpicks::adapters::local_store::DirStore;
use stockpicks::adapters::readers::FixedReaders;
use stockpicks::config::PriceSource;
use stockpicks::domain::model::Model;
use stockpicks::domain::report::RunReport;
use stockpicks::domain::time;
use stockpicks::domain::universe::Universe;
use stockpicks::domain::Symbol;
use stockpicks::pipeline::cache::OverviewCache;
use stockpicks::pipeline::insight::Insight;
use stockpicks::pipeline::publish::MailSettings;
use stockpicks::pipeline::run::{run_once, RunPorts, RunRequest};
use stockpicks::ports::{FixedClock, MarketData, NoProgress, ObjectStore, StoreError};
use stockpicks_sim::synth::{Reporting, Synth};
use stockpicks_sim::{self as sim, Fault, SimConfig};

const DAY: i64 = 86_400;

fn monday() -> i64 {
    time::days_from_civil(2026, 11, 2)
}

fn sim_cfg(day: i64, premium: bool, share: f64, week_ending: i64) -> SimConfig {
    SimConfig { day: Some(day), premium, reporting: Some(Reporting { share, week_ending }), ..fast_sim() }
}

struct Ran {
    report: RunReport,
    calls: u64,
}

async fn run(cfg: SimConfig, universe: Universe, day: i64, cache_dir: &std::path::Path, price_source: PriceSource) -> Ran {
    run_on(cfg, universe, day, Arc::new(DirStore::new(cache_dir)), price_source).await
}

async fn run_on<S: ObjectStore>(cfg: SimConfig, universe: Universe, day: i64, cache_store: Arc<S>, price_source: PriceSource) -> Ran {
    let sim = sim::start(cfg, 0).await.unwrap();
    let client: Arc<AlphaVantage> = client_for(&sim, "k", 60_000.0);
    let out = tempdir("cache-run");
    let cache = OverviewCache { store: cache_store, prefix: String::new(), max_age_days: 30 };
    let req = RunRequest {
        run_id: format!("{}-{:06x}", time::compact_minute(day * DAY), fastrand::u32(..0xffffff)),
        universe,
        model: Model::default_model(),
        top: 25,
        workers: 8,
        price_source,
        min_run_coverage: 0.9,
        prefix: String::new(),
        mail: MailSettings {
            sender: "p@example.com".into(),
            recipients: vec!["a@example.com".into()],
            unsubscribe: None,
            contact_list: None,
        },
        warnings: vec![],
    };
    let outcome = run_once(
        RunPorts {
            market: client.clone(),
            store: &DirStore::new(&out),
            insight: &Insight::<S>::none(),
            cache: Some(&cache),
            mailer: &FileMailer::new(&out),
            readers: &FixedReaders(req.mail.recipients.clone()),
            clock: &FixedClock(day * DAY + 13 * 3600),
            progress: Arc::new(NoProgress),
        },
        req,
    )
    .await
    .unwrap();
    Ran { report: outcome.report, calls: client.stats().api_calls }
}

fn prices(r: &RunReport) -> HashMap<Symbol, f64> {
    r.ranking.iter().filter_map(|p| Some((p.symbol.clone(), p.price?))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_week_with_bulk_quotes_needs_a_few_percent_of_the_calls() {
    let dir = tempdir("cache-quiet");
    let (d0, d1) = (monday(), monday() + 7);
    let u = Universe::sp500();
    let cold = run(sim_cfg(d0, true, 0.05, d1), u.clone(), d0, &dir, PriceSource::Overview).await;
    let c = cold.report.cache.clone().unwrap();
    assert_eq!((c.hits, c.absent, c.bulk_entitled), (0, 503, Some(true)), "{c:?}");
    assert_eq!(cold.calls, 1 + 6 + 503, "calendar + 6 bulk batches + every OVERVIEW");

    let warm = run(sim_cfg(d1, true, 0.05, d1), u, d1, &dir, PriceSource::Overview).await;
    let w = warm.report.cache.clone().unwrap();
    assert_eq!(w.hits + w.reported, 503, "{w:?}");
    assert!((15..=40).contains(&w.reported), "about 5% reported: {w:?}");
    assert_eq!(warm.calls, 1 + 6 + w.reported as u64, "calendar + bulk + the OVERVIEWs of those that reported");
    assert!(warm.calls * 10 <= cold.calls, "warm {} vs cold {}", warm.calls, cold.calls);
    assert_eq!(warm.report.stats.cache_hits, w.hits as u64);
    assert_eq!(warm.report.stats.api_calls, warm.calls);

    // Reused companies are repriced to this week's bulk price; their books stay.
    let synth = Synth::new(42);
    let schedule = Synth::new(42).with_reporting(Some(Reporting { share: 0.05, week_ending: d1 }));
    let now = prices(&warm.report);
    let reported: Vec<&str> =
        ["AAPL", "MSFT", "KO", "JPM", "XOM", "PG"].into_iter().filter(|s| schedule.last_report(s, d1).1 > d0).collect();
    for s in ["AAPL", "MSFT", "KO", "JPM", "XOM", "PG"] {
        let sym = Symbol::parse(s).unwrap();
        let Some(p) = now.get(&sym) else { continue };
        let expected = synth.price(s, d1);
        assert!((p / expected - 1.0).abs() < 1e-4, "{s}: {p} vs this week's {expected}");
        if !reported.contains(&s) {
            let a = cold.report.ranking.iter().find(|x| x.symbol == sym).unwrap();
            let b = warm.report.ranking.iter().find(|x| x.symbol == sym).unwrap();
            let value = |x: &stockpicks::domain::scoring::RankedStock, f: &str| x.factors.get(f).and_then(|v| v.value);
            assert_eq!(value(a, "roe"), value(b, "roe"), "{s}: books unchanged");
            assert_eq!(value(a, "revenue_growth"), value(b, "revenue_growth"), "{s}: books unchanged");
            assert_ne!(value(a, "earnings_yield"), value(b, "earnings_yield"), "{s}: price-dependent ratio recomputed");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn earnings_season_refetches_those_that_reported() {
    let dir = tempdir("cache-season");
    let (d0, d1) = (monday(), monday() + 7);
    let u = Universe::sp500();
    let cold = run(sim_cfg(d0, true, 0.35, d1), u.clone(), d0, &dir, PriceSource::Overview).await;
    let warm = run(sim_cfg(d1, true, 0.35, d1), u, d1, &dir, PriceSource::Overview).await;
    let w = warm.report.cache.clone().unwrap();
    assert!((150..=205).contains(&w.reported), "about 35% reported: {w:?}");
    assert!(warm.calls * 10 <= cold.calls * 4, "warm {} vs cold {}", warm.calls, cold.calls);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_entitlement_the_artificial_rows_are_never_used_and_the_probe_is_remembered() {
    let dir = tempdir("cache-free");
    let (d0, d1) = (monday(), monday() + 7);
    let u = Universe { members: Universe::sp500().members.into_iter().take(120).collect() };
    let cold = run(sim_cfg(d0, false, 0.05, d1), u.clone(), d0, &dir, PriceSource::Overview).await;
    let c = cold.report.cache.clone().unwrap();
    assert_eq!(c.bulk_entitled, Some(false));
    assert_eq!(c.bulk_prices, 0);
    assert_eq!(cold.calls, 1 + 1 + 120, "calendar + one bulk probe + every OVERVIEW");
    // The simulator's artificial rows say 1.0000: no price may be that.
    assert!(cold.report.ranking.iter().all(|p| p.price != Some(1.0)));
    let synth = Synth::new(42);
    for p in cold.report.ranking.iter().take(20) {
        let expected = synth.price(p.symbol.as_str(), d0);
        assert!((p.price.unwrap() / expected - 1.0).abs() < 1e-3, "{}: OVERVIEW-derived price", p.symbol);
    }
    // A week later the probe is made again (an upgraded key is noticed within a week), and
    // without a cheap price every entry is refreshed with a fresh OVERVIEW.
    let warm = run(sim_cfg(d1, false, 0.05, d1), u.clone(), d1, &dir, PriceSource::Overview).await;
    let w = warm.report.cache.clone().unwrap();
    assert_eq!(warm.calls, 1 + 1 + 120, "{w:?}");
    assert_eq!(w.hits, 0);
    assert_eq!(w.refetched_for_price + w.reported, 120, "{w:?}");
    // The next day: no probe (remembered). With PRICE_SOURCE=global_quote a reused entry is
    // priced by GLOBAL_QUOTE instead.
    let warm_q = run(sim_cfg(d1 + 1, false, 0.05, d1), u, d1 + 1, &dir, PriceSource::GlobalQuote).await;
    let q = warm_q.report.cache.clone().unwrap();
    assert!(q.hits > 100 && q.priced_by_quote == q.hits && q.bulk_entitled == Some(false), "{q:?}");
    assert_eq!(
        warm_q.calls,
        1 + q.hits as u64 + (120 - q.hits) as u64 * 2,
        "calendar, a quote per reused entry, OVERVIEW + quote for the rest"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_calendar_makes_entries_that_are_never_reused_and_a_corrupt_entry_is_refetched() {
    let dir = tempdir("cache-nocal");
    let (d0, d1) = (monday(), monday() + 7);
    let u = Universe { members: Universe::sp500().members.into_iter().take(30).collect() };
    let mut broken = sim_cfg(d0, true, 0.05, d1);
    broken.symbol_faults.insert("EARNINGS_CALENDAR".into(), Fault::Http500);
    let cold = run(broken, u.clone(), d0, &dir, PriceSource::Overview).await;
    assert!(!cold.report.cache.as_ref().unwrap().calendar);
    assert!(cold.report.warnings.iter().any(|w| w.contains("earnings calendar unavailable")), "{:?}", cold.report.warnings);
    let warm = run(sim_cfg(d1, true, 0.05, d1), u.clone(), d1, &dir, PriceSource::Overview).await;
    let w = warm.report.cache.clone().unwrap();
    assert_eq!((w.hits, w.unusable), (0, 30), "{w:?}");

    // Now good entries; then one is corrupted inside its shard (the others stay good).
    let first = &u.members[0].symbol.clone();
    let shard = dir.join(stockpicks::pipeline::cache::shard_key("", &stockpicks::pipeline::cache::shard_of(first)));
    let mut doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&shard).unwrap()).unwrap();
    doc["entries"][first.as_str()] = serde_json::json!("{not json");
    std::fs::write(&shard, serde_json::to_vec(&doc).unwrap()).unwrap();
    let again = run(sim_cfg(d1, true, 0.05, d1), u, d1 + 1, &dir, PriceSource::Overview).await;
    let a = again.report.cache.clone().unwrap();
    assert_eq!(a.unusable, 1, "{a:?}");
    assert!(again.report.warnings.iter().any(|w| w.contains(&format!("{first}: cache entry unreadable"))));
    assert!(again.report.ranking.iter().any(|p| &p.symbol == first) || again.report.unranked.iter().any(|x| &x.symbol == first));
}

// ---------------------------------------------------------------------------------------
// Store requests: what a run costs in S3 requests, counted at the ObjectStore port.

/// Counts the requests an [`ObjectStore`] is asked for, by S3 verb: GET (`get`,
/// `get_tagged`), PUT (`put`, `put_if_absent`, `replace_if_match`), LIST, DELETE; and how
/// many conditional writes lost (`AlreadyExists`, `Conflict`).
#[derive(Default)]
struct Counts {
    get: AtomicUsize,
    put: AtomicUsize,
    list: AtomicUsize,
    delete: AtomicUsize,
    lost: AtomicUsize,
}

impl Counts {
    fn total(&self) -> usize {
        self.get.load(Ordering::SeqCst)
            + self.put.load(Ordering::SeqCst)
            + self.list.load(Ordering::SeqCst)
            + self.delete.load(Ordering::SeqCst)
    }
    fn show(&self) -> String {
        let l = |a: &AtomicUsize| a.load(Ordering::SeqCst);
        format!(
            "{} requests: {} GET, {} PUT, {} LIST, {} DELETE ({} conditional writes lost)",
            self.total(),
            l(&self.get),
            l(&self.put),
            l(&self.list),
            l(&self.delete),
            l(&self.lost)
        )
    }
    fn reset(&self) {
        for a in [&self.get, &self.put, &self.list, &self.delete, &self.lost] {
            a.store(0, Ordering::SeqCst);
        }
    }
}

struct Counting<S> {
    inner: S,
    counts: Arc<Counts>,
}

impl<S: ObjectStore> Counting<S> {
    fn new(inner: S) -> Counting<S> {
        Counting { inner, counts: Arc::default() }
    }
    fn lost<T>(&self, r: Result<T, StoreError>) -> Result<T, StoreError> {
        if matches!(r, Err(StoreError::AlreadyExists(_)) | Err(StoreError::Conflict(_))) {
            self.counts.lost.fetch_add(1, Ordering::SeqCst);
        }
        r
    }
}

impl<S: ObjectStore> ObjectStore for Counting<S> {
    async fn get(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        self.counts.get.fetch_add(1, Ordering::SeqCst);
        self.inner.get(key).await
    }
    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), StoreError> {
        self.counts.put.fetch_add(1, Ordering::SeqCst);
        self.inner.put(key, body).await
    }
    async fn put_if_absent(&self, key: &str, body: Vec<u8>) -> Result<(), StoreError> {
        self.counts.put.fetch_add(1, Ordering::SeqCst);
        let r = self.inner.put_if_absent(key, body).await;
        self.lost(r)
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.counts.list.fetch_add(1, Ordering::SeqCst);
        self.inner.list(prefix).await
    }
    async fn get_tagged(&self, key: &str) -> Result<(Vec<u8>, String), StoreError> {
        self.counts.get.fetch_add(1, Ordering::SeqCst);
        self.inner.get_tagged(key).await
    }
    async fn replace_if_match(&self, key: &str, body: Vec<u8>, tag: &str) -> Result<(), StoreError> {
        self.counts.put.fetch_add(1, Ordering::SeqCst);
        let r = self.inner.replace_if_match(key, body, tag).await;
        self.lost(r)
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.counts.delete.fetch_add(1, Ordering::SeqCst);
        self.inner.delete(key).await
    }
}

/// The whole-universe path (the CLI's `run_once`): the S&P 500 cold, then a quiet week
/// later. One object per symbol made this ~1,000 requests a run; the shards make it tens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_symbol_run_costs_a_few_tens_of_cache_requests() {
    let store = Arc::new(Counting::new(DirStore::new(tempdir("cache-count"))));
    let counts = store.counts.clone();
    let (d0, d1) = (monday(), monday() + 7);
    let u = Universe::sp500();
    let cold = run_on(sim_cfg(d0, true, 0.05, d1), u.clone(), d0, store.clone(), PriceSource::Overview).await;
    let c = cold.report.cache.clone().unwrap();
    assert_eq!((c.absent, c.entries_written), (503, 503), "{c:?}");
    eprintln!("cold run_once, 503 symbols: {}", counts.show());
    let cold_total = counts.total();
    counts.reset();
    let warm = run_on(sim_cfg(d1, true, 0.05, d1), u, d1, store.clone(), PriceSource::Overview).await;
    let w = warm.report.cache.clone().unwrap();
    assert_eq!(w.hits + w.reported, 503, "{w:?}");
    eprintln!("warm run_once, 503 symbols, quiet week ({} reported): {}", w.reported, counts.show());
    assert!(cold_total <= 60, "cold: {cold_total} requests");
    assert!(counts.total() <= 60, "warm: {}", counts.show());
}

/// The Lambda path: lanes call `fetch_cached` once per chunk of 50 with the run step's
/// calendar (as `coordinator::lane_with` does), five lanes at once taking chunks l, l+5, ...
/// (plan.rs's assignment), and one lane taking them all. Neighbouring chunks share shards, so lanes write the same shard
/// objects concurrently: nothing one lane wrote may be lost to another's write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lanes_cost_tens_of_cache_requests_and_lose_no_entry_to_each_other() {
    for (lanes, share) in [(1, 0.05), (5, 0.05), (1, 0.35)] {
        lanes_through_the_cache(lanes, share).await;
    }
}

/// Cold, an hour later, and a week later with `share` of the companies reporting.
async fn lanes_through_the_cache(lanes: usize, share: f64) {
    use stockpicks::pipeline::cache::{calendar_context, fetch_cached};
    let store = Arc::new(Counting::new(DirStore::new(tempdir("cache-lanes"))));
    let counts = store.counts.clone();
    let (d0, d1) = (monday(), monday() + 7);
    let sim = sim::start(sim_cfg(d0, true, share, d1), 0).await.unwrap();
    let client: Arc<AlphaVantage> = client_for(&sim, "k", 60_000.0);
    let cache = Arc::new(OverviewCache { store: store.clone(), prefix: "cache/".to_string(), max_age_days: 30 });
    let members = Universe::sp500().members;
    let chunks: Vec<Vec<_>> = members.chunks(50).map(|c| c.to_vec()).collect();
    let run = |client: Arc<AlphaVantage>, now: i64| {
        let (cache, chunks) = (cache.clone(), chunks.clone());
        async move {
            let ctx = calendar_context(client.as_ref(), &mut Vec::new()).await;
            let mut tasks = tokio::task::JoinSet::new();
            for lane in 0..lanes {
                let (client, cache, chunks, ctx) = (client.clone(), cache.clone(), chunks.clone(), ctx.clone());
                tasks.spawn(async move {
                    let (mut hits, mut written, mut reported) = (0, 0, 0);
                    for chunk in chunks.into_iter().skip(lane).step_by(lanes) {
                        let (f, w, r) = fetch_cached(
                            client.clone(),
                            cache.as_ref(),
                            Some(ctx.clone()),
                            chunk.clone(),
                            5,
                            PriceSource::Overview,
                            now,
                            Arc::new(NoProgress),
                        )
                        .await;
                        assert_eq!(f.candidates.len(), chunk.len(), "{w:?}");
                        hits += r.hits;
                        written += r.entries_written;
                        reported += r.reported;
                    }
                    (hits, written, reported)
                });
            }
            let (mut hits, mut written, mut reported) = (0, 0, 0);
            while let Some(r) = tasks.join_next().await {
                let (h, w, rep) = r.unwrap();
                hits += h;
                written += w;
                reported += rep;
            }
            (hits, written, reported)
        }
    };
    let t0 = d0 * DAY + 13 * 3600;
    let (_, written, _) = run(client.clone(), t0).await;
    assert_eq!(written, 503);
    eprintln!("cold, {lanes} lane(s) x chunks of 50, 503 symbols: {}", counts.show());
    let cold_total = counts.total();
    counts.reset();
    // An hour later every entry is there, whichever lane wrote it.
    let (hits, _, _) = run(client.clone(), t0 + 3600).await;
    eprintln!("warm (an hour later), {lanes} lane(s): {}", counts.show());
    assert_eq!(hits, 503, "entries lost between lanes");
    // 11 chunks x (2-4 shards read + written, 1 entitlement read), plus the writes lost
    // to another lane and read again.
    assert!(cold_total <= 130, "cold, {lanes} lanes: {cold_total} requests");
    assert!(counts.total() <= 60, "warm, {lanes} lanes: {}", counts.show());
    counts.reset();
    // A week later: the companies that reported are fetched again and their shards written.
    let week = sim::start(sim_cfg(d1, true, share, d1), 0).await.unwrap();
    let (hits, written, reported) = run(client_for(&week, "k", 60_000.0), t0 + 7 * DAY).await;
    assert_eq!(written, 503 - hits, "share {share}: every entry not reused is written again");
    assert!(reported as f64 > share * 503.0 * 0.6, "share {share}: {reported} reported");
    eprintln!("a week later, {lanes} lane(s), {reported} of 503 reported: {}", counts.show());
    assert!(counts.total() <= 130, "a week later, {lanes} lanes: {}", counts.show());
}

/// Holds the first two reads of one key until both are made: two callers then hold the
/// same version of that shard, and both will write it.
struct Racing<S> {
    inner: Counting<S>,
    key: String,
    gate: tokio::sync::Barrier,
    reads: AtomicUsize,
}

impl<S: ObjectStore> ObjectStore for Racing<S> {
    async fn get(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        self.inner.get(key).await
    }
    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), StoreError> {
        self.inner.put(key, body).await
    }
    async fn put_if_absent(&self, key: &str, body: Vec<u8>) -> Result<(), StoreError> {
        self.inner.put_if_absent(key, body).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.inner.list(prefix).await
    }
    async fn get_tagged(&self, key: &str) -> Result<(Vec<u8>, String), StoreError> {
        let r = self.inner.get_tagged(key).await;
        if key == self.key && self.reads.fetch_add(1, Ordering::SeqCst) < 2 {
            self.gate.wait().await;
        }
        r
    }
    async fn replace_if_match(&self, key: &str, body: Vec<u8>, tag: &str) -> Result<(), StoreError> {
        self.inner.replace_if_match(key, body, tag).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
}

/// Two lanes with interleaved symbols of one shard both read it before either writes
/// (forced, not left to timing), first while it is absent and then while it exists: the
/// loser of each conditional write reads again and merges, so the shard ends with both
/// lanes' entries. A plain PUT would keep only the last writer's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_lanes_writing_one_shard_at_once_keep_both_lanes_entries() {
    use stockpicks::pipeline::cache::{calendar_context, fetch_cached, shard_key};
    let d0 = monday();
    let a: Vec<_> = Universe::sp500().members.into_iter().filter(|m| m.symbol.as_str().starts_with('A')).collect();
    assert!(a.len() > 20);
    let (even, odd): (Vec<_>, Vec<_>) = a.iter().cloned().enumerate().partition(|(i, _)| i % 2 == 0);
    let halves = [even.into_iter().map(|(_, m)| m).collect::<Vec<_>>(), odd.into_iter().map(|(_, m)| m).collect()];
    let t0 = d0 * DAY + 13 * 3600;
    let dir = tempdir("cache-race");
    for (round, day) in [(0, d0), (1, d0 + 31)] {
        // Each round with that day's data and calendar.
        let now = t0 + (day - d0) * DAY;
        let sim = sim::start(sim_cfg(day, true, 0.05, day + 7), 0).await.unwrap();
        let client: Arc<AlphaVantage> = client_for(&sim, "k", 60_000.0);
        let ctx = calendar_context(client.as_ref(), &mut Vec::new()).await;
        // Round 0: the shard is absent (put_if_absent races); round 1, a month later, every
        // entry has expired and both replace the same version (replace_if_match races).
        let store = Arc::new(Racing {
            inner: Counting::new(DirStore::new(&dir)),
            key: shard_key("", "A"),
            gate: tokio::sync::Barrier::new(2),
            reads: AtomicUsize::new(0),
        });
        let cache = Arc::new(OverviewCache { store: store.clone(), prefix: String::new(), max_age_days: 30 });
        let lane = |members: Vec<stockpicks::domain::universe::Member>| {
            let (client, cache, ctx) = (client.clone(), cache.clone(), ctx.clone());
            async move { fetch_cached(client, cache.as_ref(), Some(ctx), members, 4, PriceSource::Overview, now, Arc::new(NoProgress)).await }
        };
        let both = async { tokio::join!(lane(halves[0].clone()), lane(halves[1].clone())) };
        let ((_, w0, r0), (_, w1, r1)) = tokio::time::timeout(std::time::Duration::from_secs(60), both).await.expect("both lanes finish");
        assert_eq!(r0.entries_written + r1.entries_written, a.len(), "round {round}: {w0:?} {w1:?}");
        assert_eq!(r0.hits + r1.hits, 0, "round {round}");
        assert!(store.inner.counts.lost.load(Ordering::SeqCst) >= 1, "round {round}: the writes raced: {}", store.inner.counts.show());

        let check = Arc::new(OverviewCache { store: Arc::new(DirStore::new(&dir)), prefix: String::new(), max_age_days: 30 });
        let (_, w, r) = fetch_cached(
            client.clone(),
            check.as_ref(),
            Some(ctx.clone()),
            a.clone(),
            4,
            PriceSource::Overview,
            now + 3600,
            Arc::new(NoProgress),
        )
        .await;
        assert_eq!(r.hits, a.len(), "round {round}: an hour later every entry of both lanes is there: {r:?} {w:?}");
    }
}

/// A shard that is not JSON, or larger than the bound, is a miss for its symbols with one
/// warning, never a failure; the run's write replaces it, so the next run hits again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_or_oversized_shard_is_a_miss_with_a_warning_and_is_replaced() {
    use stockpicks::pipeline::cache::{fetch_cached, shard_key, MAX_SHARD_BYTES};
    let d0 = monday();
    let sim = sim::start(sim_cfg(d0, true, 0.05, d0 + 7), 0).await.unwrap();
    let client: Arc<AlphaVantage> = client_for(&sim, "k", 60_000.0);
    let dir = tempdir("cache-badshard");
    let store = Arc::new(DirStore::new(&dir));
    let cache = OverviewCache { store: store.clone(), prefix: String::new(), max_age_days: 30 };
    let members = Universe::sp500().select(&["AAPL", "ABT", "KO"].map(|s| Symbol::parse(s).unwrap())).members;
    let t0 = d0 * DAY + 13 * 3600;
    let (_, _, cold) =
        fetch_cached(client.clone(), &cache, None, members.clone(), 4, PriceSource::Overview, t0, Arc::new(NoProgress)).await;
    assert_eq!(cold.entries_written, 3);
    let mut huge = b"{\"entries\":{}}".to_vec();
    huge.resize(MAX_SHARD_BYTES + 1, b' ');
    for (i, bad) in [b"{not json".to_vec(), huge].into_iter().enumerate() {
        store.put(&shard_key("", "A"), bad).await.unwrap();
        let now = t0 + (i as i64 + 1) * 60;
        let (f, warnings, r) =
            fetch_cached(client.clone(), &cache, None, members.clone(), 4, PriceSource::Overview, now, Arc::new(NoProgress)).await;
        assert_eq!(f.candidates.len(), 3, "{warnings:?}");
        assert_eq!((r.hits, r.unusable, r.entries_written), (1, 2, 2), "KO from its shard; AAPL and ABT afresh: {r:?}");
        let shard_warnings: Vec<_> = warnings.iter().filter(|w| w.contains("cache shard") && w.contains("unreadable")).collect();
        assert_eq!(shard_warnings.len(), 1, "one warning for the shard: {warnings:?}");
        let (_, _, again) =
            fetch_cached(client.clone(), &cache, None, members.clone(), 4, PriceSource::Overview, now + 30, Arc::new(NoProgress)).await;
        assert_eq!(again.hits, 3, "the shard was replaced: {again:?}");
    }
}
