//! The distributed run in one process: a directory as the bucket, lanes invoked on tasks
//! (events round-tripped through JSON), the simulator over HTTP, and a mailer that records.
//! The same scenarios run against Lambda and moto in tests/e2e.

use crate::helpers::*;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use stockpicks::adapters::alphavantage::AlphaVantage;
use stockpicks::adapters::inprocess::InProcessInvoker;
use stockpicks::adapters::local_store::DirStore;
use stockpicks::adapters::readers::{FixedReaders, SubscriberFile};
use stockpicks::app;
use stockpicks::config::Config;
use stockpicks::config::PriceSource;
use stockpicks::contract::Metric;
use stockpicks::domain::model::DEFAULT_MODEL_TOML;
use stockpicks::domain::reader::ReaderId;
use stockpicks::domain::state::keys;
use stockpicks::domain::universe::Universe;
use stockpicks::pipeline::coordinator::{Adapters, Coordinator, Invocation, Parts};
use stockpicks::pipeline::insight::{History, Insight};
use stockpicks::pipeline::publish::MailSettings;
use stockpicks::ports::{Clock, InvokeError, Invoker, MailError, MailErrorKind, Mailer, Metrics, NoCommentator, ObjectStore, Readers};
use stockpicks_sim::{self as sim, Running};

#[derive(Default)]
struct RecordingMailer {
    sent: Mutex<Vec<(String, Vec<u8>)>>,
    /// Recipients SES refuses.
    refuse: Mutex<Vec<String>>,
}

impl Mailer for RecordingMailer {
    async fn send(&self, recipient: &str, mime: &[u8]) -> Result<String, MailError> {
        if self.refuse.lock().unwrap().iter().any(|r| r == recipient) {
            return Err(MailError::new(recipient, MailErrorKind::Rejected, "MessageRejected: address is on the suppression list"));
        }
        let mut sent = self.sent.lock().unwrap();
        sent.push((recipient.to_string(), mime.to_vec()));
        Ok(format!("msg-{}", sent.len()))
    }
}

/// Every metric the coordinator emitted: (name, value, unit).
#[derive(Default)]
struct RecordingMetrics(Mutex<Vec<(String, f64, String)>>);

impl Metrics for RecordingMetrics {
    fn put(&self, metric: Metric, value: f64) {
        self.0.lock().unwrap().push((metric.name().to_string(), value, metric.unit().as_str().to_string()));
    }
}

impl RecordingMetrics {
    fn last(&self, name: &str) -> Option<f64> {
        self.0.lock().unwrap().iter().rev().find(|m| m.0 == name).map(|m| m.1)
    }
    fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

struct TestClock(AtomicI64);

impl Clock for TestClock {
    fn now_unix(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// How the test invoker delivers lane events.
#[derive(Clone, Copy, PartialEq)]
enum Delivery {
    Once,
    /// Every event twice, at the same time.
    Twice,
    /// Lane 1's first event is lost (the lane "dies").
    DropLane1,
}

struct TestInvoker {
    inner: InProcessInvoker,
    delivery: Delivery,
    invocations: AtomicUsize,
}

impl Invoker for TestInvoker {
    async fn invoke_async(&self, event: Value) -> Result<(), InvokeError> {
        self.invocations.fetch_add(1, Ordering::SeqCst);
        match self.delivery {
            Delivery::Once => self.inner.invoke_async(event).await,
            Delivery::Twice => {
                self.inner.invoke_async(event.clone()).await?;
                self.inner.invoke_async(event).await
            }
            Delivery::DropLane1 if event["op"] == "lane" && event["lane"] == 1 => Ok(()),
            Delivery::DropLane1 => self.inner.invoke_async(event).await,
        }
    }
}

struct InProcess;

impl Adapters for InProcess {
    type Market = AlphaVantage;
    type Store = DirStore;
    type Invoker = TestInvoker;
    type Mailer = RecordingMailer;
    type Clock = TestClock;
}

type Coord = Coordinator<InProcess>;

struct World {
    coord: Arc<Coord>,
    store: Arc<DirStore>,
    mailer: Arc<RecordingMailer>,
    invoker: Arc<TestInvoker>,
    clock: Arc<TestClock>,
    metrics: Arc<RecordingMetrics>,
    /// The reader list (a reader file, as the SES contact list would be): a@ and b@.
    readers: Arc<SubscriberFile>,
    _sim: Running,
}

const START: i64 = TEST_NOW;

async fn world(delivery: Delivery, rate_per_min: f64) -> World {
    world_with(delivery, rate_per_min, fast_sim(), None).await
}

async fn world_with(delivery: Delivery, rate_per_min: f64, sim_cfg: sim::SimConfig, cache_max_age_days: Option<i64>) -> World {
    let sim = sim::start(sim_cfg, 0).await.unwrap();
    let base = sim.base_url();
    let dir = tempdir("coord");
    let store = Arc::new(DirStore::new(dir.join("bucket")));
    let readers = Arc::new(SubscriberFile::new(dir.join("subscribers.csv")));
    for r in ["a@example.com", "b@example.com"] {
        readers.add(r).await.unwrap();
    }
    let mailer = Arc::new(RecordingMailer::default());
    let clock = Arc::new(TestClock(AtomicI64::new(START)));
    let invoker = Arc::new(TestInvoker { inner: InProcessInvoker::default(), delivery, invocations: AtomicUsize::new(0) });
    let metrics = Arc::new(RecordingMetrics::default());
    // The function's own configuration path (app::coordinator_settings), as the Lambda
    // reads it, with the test's values.
    let rate = rate_per_min.to_string();
    let max_age = cache_max_age_days.map(|d| d.to_string());
    let mut env: Vec<(&str, &str)> = vec![
        ("ALPHA_VANTAGE_RATE_PER_MIN", &rate),
        ("ALPHA_VANTAGE_TIMEOUT_MS", "2000"),
        ("MAX_WORKERS", "5"),
        ("CHUNK_SIZE", "50"),
        ("DISTRIBUTED_THRESHOLD", "100"),
        ("MAX_PARALLEL_LANES", "10"),
        ("TIME_BUDGET_SECS", "840"),
        ("RUN_DEADLINE_MINS", "60"),
        ("MIN_RUN_COVERAGE", "0.9"),
        ("EMAIL_SENDER", "picks@example.com"),
    ];
    match &max_age {
        Some(days) => env.extend([("OVERVIEW_CACHE", "on"), ("CACHE_MAX_AGE_DAYS", days.as_str())]),
        None => env.push(("OVERVIEW_CACHE", "off")),
    }
    let cfg = Config::from_lookup(|k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())).unwrap();
    let settings = app::coordinator_settings(&cfg, 1024);
    let parts = Parts {
        market: app::market_factory(&cfg.alpha_vantage, &base, stockpicks::secret::Secret::new("k")).unwrap(),
        store: store.clone(),
        invoker: invoker.clone(),
        mailer: mailer.clone(),
        readers: readers.clone(),
        clock: clock.clone(),
        metrics: metrics.clone(),
        insight: Insight {
            history: Some(History { store: store.clone(), prefix: keys::HISTORY.to_string() }),
            commentator: Arc::new(NoCommentator("off in tests".into())),
        },
    };
    let coord = Arc::new(Coordinator::new(parts, settings, DEFAULT_MODEL_TOML, Universe::sp500()).unwrap());
    let weak: Weak<Coord> = Arc::downgrade(&coord);
    invoker.inner.set_handler(Arc::new(move |ev: Value| {
        let weak = weak.clone();
        Box::pin(async move {
            if let Some(c) = weak.upgrade() {
                let _ = c.handle(&ev, &Invocation::default()).await;
            }
        })
    }));
    World { coord, store, mailer, invoker, clock, metrics, readers, _sim: sim }
}

impl World {
    async fn send(&self, ev: Value) -> Value {
        let out = self.coord.handle(&ev, &Invocation::default()).await.unwrap();
        self.invoker.inner.drain().await;
        out.to_json()
    }

    async fn keys(&self, prefix: &str) -> Vec<String> {
        self.store.list(prefix).await.unwrap()
    }

    fn emails(&self) -> usize {
        self.mailer.sent.lock().unwrap().len()
    }

    /// Who got a message, in the order sent.
    fn mailed(&self) -> Vec<String> {
        self.mailer.sent.lock().unwrap().iter().map(|(to, _)| to.clone()).collect()
    }
}

fn payload(n: usize) -> Value {
    let syms: Vec<String> = Universe::sp500().members.iter().take(n).map(|m| m.symbol.index_form()).collect();
    json!({"test_mode": true, "test_symbols": syms})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifteen_symbols_run_in_one_invocation() {
    let w = world(Delivery::Once, 60_000.0).await;
    let out = w.send(payload(15)).await;
    assert_eq!(out["status"], "complete", "{out}");
    assert_eq!(out["mode"], "single");
    assert_eq!(w.invoker.invocations.load(Ordering::SeqCst), 0, "no lane was invoked");
    assert_eq!(w.emails(), 2, "one message per reader");
    let run_id = out["run_id"].as_str().unwrap();
    assert!(w.keys(&format!("runs/{run_id}/chunks/")).await.is_empty(), "chunks cleaned up");
    let reports = w.keys("reports/").await;
    assert!(reports.iter().any(|k| k.ends_with(&format!("{run_id}/results.json"))), "{reports:?}");
    assert!(reports.contains(&"reports/latest.json".to_string()));
    let (to, mime) = &w.mailer.sent.lock().unwrap()[0];
    let text = String::from_utf8_lossy(mime);
    assert!(text.contains(&format!("To: {to}\r\n")) && text.contains("filename=\"top25.csv\""));
}

// Issue 15: the readers are read from the list when each run is published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_who_joins_between_two_runs_is_mailed_on_the_next_and_one_who_left_is_not() {
    let w = world(Delivery::Once, 60_000.0).await;
    w.send(json!({"op": "run", "symbols": ["AAPL", "MSFT", "KO"], "run_id": "week-1"})).await;
    assert_eq!(w.mailed(), ["a@example.com", "b@example.com"]);
    w.readers.add("c@example.com").await.unwrap();
    // b@ leaves: the list keeps them, marked unsubscribed (as SES's one-click does).
    std::fs::write(w.readers.path(), "email,status\na@example.com,subscribed\nb@example.com,unsubscribed\nc@example.com,subscribed\n")
        .unwrap();
    w.mailer.sent.lock().unwrap().clear();
    let out = w.send(json!({"op": "run", "symbols": ["AAPL", "MSFT", "KO"], "run_id": "week-2"})).await;
    assert_eq!(out["emails_sent"], 2, "{out}");
    assert_eq!(w.mailed(), ["a@example.com", "c@example.com"], "the newcomer is mailed, the one who left is not");
}

// Issue 15: the claims are keyed by the reader's id, not their place in the list. An
// aggregation that died after mailing a@ is taken over after someone joined at the top of
// the list: by position, the newcomer would inherit a@'s claim (and get nothing) while a@
// got a second message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_aggregation_mails_nobody_twice_when_the_list_changed_meanwhile() {
    let w = world(Delivery::Once, 60_000.0).await;
    let a = ReaderId::new("retried-1", "a@example.com");
    w.store.put_if_absent(&keys::email_lock("retried-1", &a), START.to_string().into_bytes()).await.unwrap();
    w.store.put(&keys::email_sent("retried-1", &a), b"msg-0".to_vec()).await.unwrap();
    std::fs::write(w.readers.path(), "email,status\nx@example.com,subscribed\na@example.com,subscribed\nb@example.com,subscribed\n")
        .unwrap();
    let out = w.send(json!({"op": "run", "symbols": ["AAPL", "MSFT", "KO"], "run_id": "retried-1"})).await;
    assert_eq!(out["status"], "complete", "{out}");
    assert_eq!(w.mailed(), ["x@example.com", "b@example.com"], "a@ was mailed by the first attempt");
    for r in ["x@example.com", "b@example.com"] {
        assert!(w.store.get(&keys::email_sent("retried-1", &ReaderId::new("retried-1", r))).await.is_ok(), "{r} is marked");
    }
    // No key names an address.
    assert!(w.keys("runs/retried-1/").await.iter().all(|k| !k.contains('@')));
}

// Issue 15: a reader list that cannot be read publishes nothing (the sweep retries it),
// and fails the deploy's dry run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_reader_list_publishes_nothing_and_fails_the_dry_run() {
    let w = world(Delivery::Once, 60_000.0).await;
    std::fs::write(w.readers.path(), "email,status\nnot an address\n").unwrap();
    let ev = json!({"op": "run", "symbols": ["AAPL", "MSFT", "KO"], "run_id": "unreadable-1"});
    let err = w.coord.handle(&ev, &Invocation::default()).await.unwrap_err();
    assert!(err.to_string().contains("line 2"), "{err}");
    assert_eq!(w.emails(), 0);
    assert!(w.keys("reports/").await.is_empty(), "nothing published");
    let dry = w.send(json!({"op": "run", "universe": "sp500", "dry_run": true})).await;
    assert_eq!(dry["status"], "dry_run_failed", "{dry}");
    assert!(dry["checks"]["readers"].as_str().unwrap().starts_with("error:"), "{dry}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn larger_runs_fan_out_and_meet_once() {
    for n in [150, 500] {
        let w = world(Delivery::Once, 60_000.0).await;
        let out = w.send(payload(n)).await;
        assert_eq!(out["mode"], "distributed", "{out}");
        let lanes = out["lanes"].as_u64().unwrap() as usize;
        assert!(lanes >= 2, "{out}");
        assert_eq!(w.invoker.invocations.load(Ordering::SeqCst), lanes);
        let run_id = out["run_id"].as_str().unwrap();
        assert_eq!(w.emails(), 2, "{n}: exactly one aggregation");
        assert!(w.keys(&format!("runs/{run_id}/chunks/")).await.is_empty());
        assert!(w.keys(&format!("runs/{run_id}/done.json")).await.len() == 1);
        let results_key = w.keys("reports/").await.into_iter().find(|k| k.ends_with("results.json")).unwrap();
        let results: Value = serde_json::from_slice(&w.store.get(&results_key).await.unwrap()).unwrap();
        assert_eq!(results["universe_size"], n);
        assert!(results["coverage"]["ratio"].as_f64().unwrap() > 0.95);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_lane_event_twice_still_sends_once() {
    let w = world(Delivery::Twice, 60_000.0).await;
    let out = w.send(payload(150)).await;
    assert_eq!(out["mode"], "distributed");
    assert_eq!(w.emails(), 2, "duplicates did not send again");
    let run_id = out["run_id"].as_str().unwrap();
    assert!(w.keys(&format!("runs/{run_id}/chunks/")).await.is_empty());
    // A late duplicate after the end changes nothing and re-creates nothing.
    let late = w.send(json!({"op": "lane", "run_id": run_id, "lane": 0, "chunks": [0], "depth": 1})).await;
    assert_eq!(late["status"], "already_done");
    assert!(w.keys(&format!("runs/{run_id}/chunks/")).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_lane_is_swept_into_a_partial_report() {
    let w = world(Delivery::DropLane1, 60_000.0).await;
    let out = w.send(payload(150)).await;
    let run_id = out["run_id"].as_str().unwrap().to_string();
    assert_eq!(w.emails(), 0, "the run cannot finish without lane 1");
    let early = w.send(json!({"op": "sweep"})).await;
    assert_eq!(early["finalized"].as_array().unwrap().len(), 0, "not past its deadline yet");
    w.clock.0.store(START + 3601, Ordering::SeqCst);
    let swept = w.send(json!({"op": "sweep"})).await;
    assert_eq!(swept["finalized"][0]["run_id"], run_id.as_str(), "{swept}");
    assert!(swept["finalized"][0]["partial"].as_str().unwrap().contains("run part unfinished"), "{swept}");
    assert_eq!(w.emails(), 2);
    let mime = w.mailer.sent.lock().unwrap()[0].1.clone();
    assert!(String::from_utf8_lossy(&mime).contains("Subject: PARTIAL:"));
    let results_key = w.keys("reports/").await.into_iter().find(|k| k.ends_with("results.json")).unwrap();
    let results: Value = serde_json::from_slice(&w.store.get(&results_key).await.unwrap()).unwrap();
    let missing: Vec<&Value> =
        results["unranked"].as_array().unwrap().iter().filter(|u| u["reason"].as_str().unwrap().contains("run deadline")).collect();
    assert!(missing.len() >= 50, "the missing lane's symbols are named: {}", missing.len());
    // Sweeping again finds nothing to do.
    assert_eq!(w.send(json!({"op": "sweep"})).await["finalized"].as_array().unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aggregator_that_died_holding_the_lock_is_taken_over_after_the_lease() {
    let w = world(Delivery::Once, 60_000.0).await;
    // The aggregator of run "stale-1" took the lock and died.
    let dead = json!({"owner": "dead-aggregator", "acquired_at": START});
    w.store.put_if_absent("runs/stale-1/aggregate.lock", serde_json::to_vec(&dead).unwrap()).await.unwrap();
    let out = w.send(json!({"op": "run", "symbols": payload(150)["test_symbols"], "run_id": "stale-1"})).await;
    assert_eq!(out["mode"], "distributed");
    assert_eq!(w.emails(), 0, "the lock is held: nobody else aggregates");
    // Within the lease, a finalize call still leaves it alone.
    w.clock.0.store(START + 10 * 60, Ordering::SeqCst);
    let early = w.send(json!({"operation": "finalize_results", "run_id": "stale-1"})).await;
    assert_eq!(early["finalized"][0]["status"], "aggregating_elsewhere", "{early}");
    assert_eq!(w.emails(), 0);
    // Past the lease (and the run deadline), the sweep takes the lock over and finishes.
    w.clock.0.store(START + 3601, Ordering::SeqCst);
    let swept = w.send(json!({"op": "sweep"})).await;
    assert_eq!(swept["finalized"][0]["status"], "complete", "{swept}");
    assert_eq!(swept["finalized"][0]["partial"], Value::Null, "every chunk was there");
    assert_eq!(w.emails(), 2);
    let lock: Value = serde_json::from_slice(&w.store.get("runs/stale-1/aggregate.lock").await.unwrap()).unwrap();
    assert_ne!(lock["owner"], "dead-aggregator");
    assert!(w.keys("runs/stale-1/chunks/").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_at_once_are_isolated() {
    let w = world(Delivery::Once, 60_000.0).await;
    let ev_a = json!({"op": "run", "symbols": payload(150)["test_symbols"], "run_id": "run-a"});
    let ev_b = json!({"op": "run", "symbols": payload(120)["test_symbols"], "run_id": "run-b"});
    let inv = Invocation::default();
    let (a, b) = tokio::join!(w.coord.handle(&ev_a, &inv), w.coord.handle(&ev_b, &inv));
    w.invoker.inner.drain().await;
    assert_eq!(a.unwrap().run_id(), Some("run-a"));
    assert_eq!(b.unwrap().run_id(), Some("run-b"));
    assert_eq!(w.emails(), 4, "two runs, two readers each");
    let reports = w.keys("reports/").await;
    assert!(reports.iter().any(|k| k.contains("/run-a/")) && reports.iter().any(|k| k.contains("/run-b/")));
    assert_eq!(w.keys("runs/run-a/done.json").await.len(), 1);
    assert_eq!(w.keys("runs/run-b/done.json").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_schedule_event_does_not_run_twice() {
    let w = world(Delivery::Once, 60_000.0).await;
    let ev = json!({"op": "run", "symbols": ["AAPL", "MSFT", "KO"], "scheduled_time": "2026-11-30T13:00:00Z"});
    let first = w.send(ev.clone()).await;
    assert_eq!(first["run_id"], "sched-20261130T1300Z");
    let second = w.send(ev).await;
    assert_eq!(second["status"], "duplicate");
    assert_eq!(w.emails(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_leaves_nothing_behind() {
    let w = world(Delivery::Once, 60_000.0).await;
    let out = w.send(json!({"op": "run", "universe": "sp500", "dry_run": true})).await;
    assert_eq!(out["status"], "dry_run_ok", "{out}");
    assert_eq!(out["ranked"], 5);
    assert!(out["email_bytes"].as_u64().unwrap() > 1000);
    assert_eq!(w.emails(), 0);
    assert!(w.keys("").await.is_empty(), "{:?}", w.keys("").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_events_are_refused_and_write_nothing() {
    let w = world(Delivery::Once, 60_000.0).await;
    for ev in [
        json!("hello"),
        json!({"op": "nope"}),
        json!({"op": "run", "symbols": ["<b>", "../x"]}),
        json!({"op": "run", "run_id": "a/../../b"}),
        json!({"op": "lane", "run_id": "no-such-run", "lane": 0, "chunks": [0]}),
        json!({"operation": "process_chunk"}),
    ] {
        let out = w.send(ev.clone()).await;
        assert_eq!(out["status"], "refused", "{ev}: {out}");
        assert!(out["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    assert!(w.keys("").await.is_empty());
    assert_eq!(w.emails(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_published_run_is_remembered_and_the_next_compares_with_it() {
    let w = world(Delivery::Once, 60_000.0).await;
    let first = w.send(json!({"op": "run", "symbols": payload(150)["test_symbols"], "run_id": "week-1"})).await;
    assert_eq!(first["status"], "started", "{first}");
    w.invoker.inner.drain().await;
    w.clock.0.store(START + 7 * 86_400, Ordering::SeqCst);
    let second = w.send(json!({"op": "run", "symbols": payload(15)["test_symbols"], "run_id": "week-2"})).await;
    assert_eq!(second["status"], "complete", "{second}");
    let history = w.keys(keys::HISTORY).await;
    assert_eq!(history.len(), 2, "{history:?}");
    assert!(history[0].ends_with("_week-1.json") && history[1].ends_with("_week-2.json"), "{history:?}");
    let results_key = w.keys("reports/").await.into_iter().find(|k| k.ends_with("/week-2/results.json")).unwrap();
    let results: Value = serde_json::from_slice(&w.store.get(&results_key).await.unwrap()).unwrap();
    assert_eq!(results["changes"]["previous_run"], "week-1");
    assert_eq!(results["track_record"][0]["run_id"], "week-1");
    assert_eq!(results["track_record"][0]["days"], 7.0);
    // The dry run reads nothing into history and writes nothing there.
    w.send(json!({"op": "run", "universe": "sp500", "dry_run": true})).await;
    assert_eq!(w.keys(keys::HISTORY).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distributed_lanes_share_one_calendar_and_the_cache() {
    let premium = sim::SimConfig { premium: true, day: Some(START / 86_400), ..fast_sim() };
    let w = world_with(Delivery::Once, 60_000.0, premium, Some(30)).await;
    let syms = payload(150)["test_symbols"].clone();
    let first = w.send(json!({"op": "run", "symbols": syms, "run_id": "cold"})).await;
    assert_eq!(first["mode"], "distributed", "{first}");
    w.invoker.inner.drain().await;
    let manifest: Value = serde_json::from_slice(&w.store.get("runs/cold/manifest.json").await.unwrap()).unwrap();
    assert!(manifest["cache_context"]["calendar"]["next_report"].as_object().unwrap().len() > 100, "the run step read the calendar once");
    // One shard object per first letter of the 150 symbols, not one object per symbol.
    let letters: std::collections::BTreeSet<String> =
        syms.as_array().unwrap().iter().map(|s| s.as_str().unwrap()[..1].to_uppercase()).collect();
    assert_eq!(w.keys("cache/overview/shards/").await.len(), letters.len());
    assert_eq!(w.keys("cache/overview/").await.len(), letters.len());

    w.clock.0.store(START + 3600, Ordering::SeqCst);
    w.send(json!({"op": "run", "symbols": syms, "run_id": "warm"})).await;
    w.invoker.inner.drain().await;
    let results_key = w.keys("reports/").await.into_iter().find(|k| k.ends_with("/warm/results.json")).unwrap();
    let results: Value = serde_json::from_slice(&w.store.get(&results_key).await.unwrap()).unwrap();
    assert_eq!(results["stats"]["cache_hits"], 150, "{}", results["stats"]);
    // The calendar once, one bulk call per chunk of 50; no OVERVIEW.
    assert_eq!(results["stats"]["api_calls"], 1 + 3, "{}", results["stats"]);
    assert!(results["coverage"]["ratio"].as_f64().unwrap() > 0.95);
    // The lanes' cache reports are summed into the report's cache section, as the CLI's.
    assert_eq!(results["cache"]["hits"], 150, "{}", results["cache"]);
    assert_eq!(results["cache"]["calendar"], true, "{}", results["cache"]);
}

/// One publish path: the Lambda's report and the CLI's report of the same symbols carry the
/// same sections (a68ad1a's Lambda report had no cache section and could not say fixtures).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lambda_report_has_every_section_of_the_cli_report() {
    use stockpicks::adapters::file_mailer::FileMailer;
    use stockpicks::pipeline::cache::OverviewCache;
    use stockpicks::pipeline::run::{run_once, RunPorts, RunRequest};
    use stockpicks::ports::{FixedClock, NoProgress};
    let cfg = sim::SimConfig { day: Some(START / 86_400), ..fast_sim() };
    let w = world_with(Delivery::Once, 60_000.0, cfg.clone(), Some(30)).await;
    let syms = payload(15)["test_symbols"].clone();
    let out = w.send(json!({"op": "run", "symbols": syms, "run_id": "lambda"})).await;
    assert_eq!(out["status"], "complete", "{out}");
    let key = w.keys("reports/").await.into_iter().find(|k| k.ends_with("/lambda/results.json")).unwrap();
    let lambda: Value = serde_json::from_slice(&w.store.get(&key).await.unwrap()).unwrap();

    let sim = sim::start(cfg, 0).await.unwrap();
    let dir = tempdir("cli-sections");
    let cache_store = Arc::new(DirStore::new(dir.join("cache")));
    let cache = OverviewCache { store: cache_store, prefix: String::new(), max_age_days: 30 };
    let members: Vec<stockpicks::domain::Symbol> =
        syms.as_array().unwrap().iter().map(|s| stockpicks::domain::Symbol::parse(s.as_str().unwrap()).unwrap()).collect();
    let req = RunRequest {
        run_id: "cli".into(),
        universe: Universe::sp500().select(&members),
        model: stockpicks::domain::model::Model::default_model(),
        top: 25,
        workers: 5,
        price_source: PriceSource::Overview,
        min_run_coverage: 0.9,
        prefix: String::new(),
        mail: MailSettings {
            sender: "picks@example.com".into(),
            recipients: vec!["a@example.com".into()],
            unsubscribe: None,
            contact_list: None,
        },
        warnings: vec![],
    };
    let published = run_once(
        RunPorts {
            market: client_for(&sim, "k", 60_000.0),
            store: &DirStore::new(dir.join("out")),
            insight: &Insight::<DirStore>::none(),
            cache: Some(&cache),
            mailer: &FileMailer::new(dir.join("out")),
            readers: &FixedReaders(req.mail.recipients.clone()),
            clock: &FixedClock(START),
            progress: Arc::new(NoProgress),
        },
        req,
    )
    .await
    .unwrap();
    let cli = serde_json::to_value(&published.report).unwrap();
    let sections = |v: &Value| v.as_object().unwrap().iter().filter(|(_, x)| !x.is_null()).map(|(k, _)| k.clone()).collect::<Vec<_>>();
    // History is on in the Lambda world and off in this CLI run; everything else matches.
    let lambda_sections: Vec<String> = sections(&lambda).into_iter().filter(|k| k != "changes" && k != "track_record").collect();
    let cli_sections: Vec<String> = sections(&cli).into_iter().filter(|k| k != "changes" && k != "track_record").collect();
    assert_eq!(lambda_sections, cli_sections);
    assert_eq!(lambda["data_source"], cli["data_source"]);
}

/// The metric names of contracts/contract.json, which the alarms watch.
fn declared_metrics() -> Vec<String> {
    let contract: Value = serde_json::from_str(include_str!("../../../contracts/contract.json")).unwrap();
    contract["metrics"].as_object().unwrap().keys().cloned().collect()
}

fn assert_all_declared(w: &World) {
    let declared = declared_metrics();
    for (name, _, _) in w.metrics.0.lock().unwrap().iter() {
        assert!(declared.contains(name), "{name} emitted but not in contracts/contract.json");
    }
}

// Issue 11, item 8: the runs/ lifecycle can remove done.json before the manifest; the sweep
// must not finalize (publish, overwrite latest.json, mail) such a run again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_leaves_runs_long_past_their_deadline_alone() {
    let w = world(Delivery::Once, 60_000.0).await;
    let out = w.send(payload(15)).await;
    let run_id = out["run_id"].as_str().unwrap().to_string();
    assert_eq!(w.emails(), 2);
    let latest = w.store.get(keys::LATEST).await.unwrap();
    // Six days on, the lifecycle has removed done.json but not yet the manifest.
    w.store.delete(&keys::done(&run_id)).await.unwrap();
    w.clock.0.store(START + 6 * 86_400, Ordering::SeqCst);
    let swept = w.send(json!({"op": "sweep"})).await;
    assert_eq!(swept["finalized"].as_array().unwrap().len(), 0, "{swept}");
    assert_eq!(swept["abandoned"], json!([run_id]), "{swept}");
    assert_eq!(w.emails(), 2, "nobody is mailed again");
    assert_eq!(w.store.get(keys::LATEST).await.unwrap(), latest, "latest.json is not overwritten");
    assert_eq!(w.keys("reports/history/").await.len(), 1, "no second history record");

    // A dead lane's run a day and a half past its deadline: likewise left alone.
    let w = world(Delivery::DropLane1, 60_000.0).await;
    let out = w.send(payload(150)).await;
    w.clock.0.store(START + 3600 + 36 * 3600, Ordering::SeqCst);
    let swept = w.send(json!({"op": "sweep"})).await;
    assert_eq!(swept["abandoned"], json!([out["run_id"]]), "{swept}");
    assert_eq!(w.emails(), 0);
    assert!(w.store.get(keys::LATEST).await.is_err(), "nothing published");
    // Within a day of the deadline the sweep still finalizes (a_dead_lane_is_swept_into_a_partial_report),
    // and an operator can still name the run explicitly.
    let forced = w.send(json!({"op": "sweep", "run_id": out["run_id"]})).await;
    assert_eq!(forced["finalized"][0]["status"], "complete", "{forced}");
}

// Issue 11, item 1: the "no report for 8 days" alarm watches the age the sweep reports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sweep_reports_the_age_of_the_newest_report() {
    let w = world(Delivery::Once, 60_000.0).await;
    let before = w.send(json!({"op": "sweep"})).await;
    assert_eq!(before["report_age_hours"], Value::Null, "no report yet: no age (the alarm treats missing data as breaching)");
    assert_eq!(w.metrics.last("ReportAgeHours"), None);
    w.send(payload(15)).await;
    w.clock.0.store(START + 9 * 86_400, Ordering::SeqCst);
    w.metrics.clear();
    let swept = w.send(json!({"op": "sweep"})).await;
    assert_eq!(swept["report_age_hours"], json!(216.0), "{swept}");
    assert_eq!(w.metrics.last("ReportAgeHours"), Some(216.0));
    assert_all_declared(&w);
}

// Issue 11, item 9: a crash between the SES send and the .sent mark leaves a lock without a
// mark; the sweep counts such locks. A refused send is marked .failed (EmailsFailed alarms).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_locks_without_a_mark_are_counted_unconfirmed_and_refusals_are_marked_failed() {
    let w = world(Delivery::Once, 60_000.0).await;
    w.mailer.refuse.lock().unwrap().push("b@example.com".into());
    let out = w.send(payload(15)).await;
    let run_id = out["run_id"].as_str().unwrap().to_string();
    assert_eq!(out["emails_failed"], 1, "{out}");
    assert_eq!(w.metrics.last("EmailsFailed"), Some(1.0));
    let refused = ReaderId::new(&run_id, "b@example.com");
    assert!(w.store.get(&keys::email_failed(&run_id, &refused)).await.is_ok(), "the refusal is marked, by the reader's id");
    // A crashed aggregator of another run: a reader claimed, never marked.
    let crashed = ReaderId::new("crashed-1", "a@example.com");
    w.store.put_if_absent(&keys::email_lock("crashed-1", &crashed), START.to_string().into_bytes()).await.unwrap();
    w.clock.0.store(START + 10 * 60, Ordering::SeqCst);
    let early = w.send(json!({"op": "sweep"})).await;
    assert_eq!(early["emails_unconfirmed"], 0, "within the lease the send may still be marked: {early}");
    w.clock.0.store(START + 20 * 60, Ordering::SeqCst);
    let swept = w.send(json!({"op": "sweep"})).await;
    assert_eq!(swept["emails_unconfirmed"], 1, "{swept}");
    assert_eq!(w.metrics.last("EmailsUnconfirmed"), Some(1.0));
    // Once the operator has checked and marked it, the count is back to zero.
    w.store.put(&keys::email_sent("crashed-1", &crashed), b"checked by hand".to_vec()).await.unwrap();
    let swept = w.send(json!({"op": "sweep"})).await;
    assert_eq!(swept["emails_unconfirmed"], 0, "{swept}");
    assert_eq!(w.metrics.last("EmailsUnconfirmed"), Some(0.0), "zero is emitted too, so the alarm has data");
    assert_all_declared(&w);
}
