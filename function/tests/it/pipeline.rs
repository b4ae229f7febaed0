//! The run pipeline against the simulator over real HTTP: determinism, chunking, every
//! kind of bad reply, throttling, the daily quota, escaping, and the key kept secret.

use crate::helpers::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use stockpicks::adapters::alphavantage::AlphaVantage;
use stockpicks::adapters::file_mailer::FileMailer;
use stockpicks::adapters::local_store::DirStore;
use stockpicks::adapters::readers::FixedReaders;
use stockpicks::config::PriceSource;
use stockpicks::domain::model::Model;
use stockpicks::domain::outcome::FetchError;
use stockpicks::domain::report::{self, Fetched, ReportInputs, RunReport};
use stockpicks::domain::source::DataSource;
use stockpicks::domain::universe::{Member, Universe};
use stockpicks::domain::Symbol;
use stockpicks::pipeline::fetch::fetch_all;
use stockpicks::pipeline::insight::Insight;
use stockpicks::pipeline::publish::MailSettings;
use stockpicks::pipeline::run::{run_once, RunPorts, RunRequest};
use stockpicks::ports::{FixedClock, MarketData, NoProgress};
use stockpicks_sim::{self as sim, Fault, SimConfig};

const NOW: i64 = TEST_NOW;

fn mail() -> MailSettings {
    MailSettings {
        sender: "picks@example.com".into(),
        recipients: vec!["a@example.com".into(), "b@example.com".into()],
        unsubscribe: None,
        contact_list: None,
    }
}

fn request(universe: Universe, out_name: &str) -> RunRequest {
    RunRequest {
        run_id: format!("20261128T1105Z-{out_name}"),
        universe,
        model: Model::default_model(),
        top: 25,
        workers: 5,
        price_source: PriceSource::Overview,
        min_run_coverage: 0.9,
        prefix: String::new(),
        mail: mail(),
        warnings: vec![],
    }
}

async fn run_against(
    cfg: SimConfig,
    universe: Universe,
    key: &str,
    name: &str,
) -> (RunReport, std::path::PathBuf, Arc<AlphaVantage>, sim::Running) {
    let sim = sim::start(cfg, 0).await.unwrap();
    let client = client_for(&sim, key, 60_000.0);
    let out = tempdir(name);
    let outcome = run_once(
        RunPorts {
            market: client.clone(),
            store: &DirStore::new(&out),
            insight: &Insight::<DirStore>::none(),
            cache: None,
            mailer: &FileMailer::new(&out),
            readers: &FixedReaders(mail().recipients),
            clock: &FixedClock(NOW),
            progress: Arc::new(NoProgress),
        },
        request(universe, name),
    )
    .await
    .unwrap();
    (outcome.report, out, client, sim)
}

fn symbols(list: &[&str]) -> Universe {
    let syms: Vec<Symbol> = list.iter().map(|s| Symbol::parse(s).unwrap()).collect();
    Universe::sp500().select(&syms)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_universe_twice_gives_byte_identical_ranking() {
    let sim_cfg = SimConfig { day: Some(20_000), ..fast_sim() };
    let (a, out, _, _) = run_against(sim_cfg.clone(), Universe::sp500(), "k1", "det-a").await;
    let (b, _, _, _) = run_against(sim_cfg, Universe::sp500(), "k1", "det-b").await;
    assert_eq!(a.universe_size, 503);
    assert_eq!(a.data_source, DataSource::Simulator);
    assert!(a.coverage.ratio > 0.95, "{:?}", a.coverage);
    assert_eq!(serde_json::to_string(&a.ranking).unwrap(), serde_json::to_string(&b.ranking).unwrap());
    assert_eq!(a.picks.len(), 25);
    // One place per company.
    let tickers: Vec<&str> = a.ranking.iter().map(|r| r.symbol.as_str()).collect();
    assert!(!(tickers.contains(&"GOOG") && tickers.contains(&"GOOGL")));
    assert!(!(tickers.contains(&"FOX") && tickers.contains(&"FOXA")));
    // The artifacts are there and say what they are.
    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    for key in ["run_id", "generated_at", "data_source", "universe_size", "stats", "picks", "ranking", "unranked", "model", "version"] {
        assert!(results.get(key).is_some(), "results.json lacks {key}");
    }
    for key in ["api_calls", "throttled", "retries", "elapsed_ms"] {
        assert!(results["stats"].get(key).is_some(), "stats lacks {key}");
    }
    let pick = &results["picks"][0];
    for key in ["rank", "symbol", "name", "sector", "score", "grades", "factors", "coverage", "reasons"] {
        assert!(pick.get(key).is_some(), "pick lacks {key}");
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.len() < 100 * 1024, "HTML is {} bytes", html.len());
    assert!(html.contains("SYNTHETIC DATA") && html.contains("not investment advice"));
    assert!(!html.to_ascii_lowercase().contains("<script"));
    // One message per reader, each addressed to that reader only.
    let one = text(&std::fs::read(out.join("email.eml")).unwrap());
    let two = text(&std::fs::read(out.join("email-2.eml")).unwrap());
    assert!(one.contains("To: a@example.com\r\n") && !one.contains("b@example.com"));
    assert!(two.contains("To: b@example.com\r\n") && !two.contains("a@example.com"));
    assert!(one.contains("List-Unsubscribe: <mailto:picks@example.com?subject=unsubscribe>"));
    assert!(one.contains("Subject: [SYNTHETIC] stockpicks: top 25 for 2026-11-28"));
    assert!(one.contains("filename=\"top25.csv\""));
    // The Message-ID is the sender's (picks@example.com), per run and reader (the reader's
    // id in this run), without the address.
    let id = one.split("\r\n").find_map(|l| l.strip_prefix("Message-ID: ")).expect("a Message-ID");
    let reader = stockpicks::domain::reader::ReaderId::new(results["run_id"].as_str().unwrap(), "a@example.com");
    assert_eq!(id, format!("<{}.{reader}.stockpicks@example.com>", results["run_id"].as_str().unwrap()));
    assert!(!id.contains("a@"), "{id}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_fetch_merged_gives_the_same_ranking() {
    let sim = sim::start(SimConfig { day: Some(20_000), ..fast_sim() }, 0).await.unwrap();
    let universe = Universe::sp500();
    let model = Model::default_model();
    let client = client_for(&sim, "k", 60_000.0);
    let (whole, _) = fetch_all(client.clone(), universe.members.clone(), 5, PriceSource::Overview, Arc::new(NoProgress)).await;
    let mut merged = Fetched::default();
    // Chunks in reverse order, as lanes might finish.
    for chunk in universe.members.chunks(50).rev() {
        let (part, _) = fetch_all(client.clone(), chunk.to_vec(), 3, PriceSource::Overview, Arc::new(NoProgress)).await;
        merged.candidates.extend(part.candidates);
        merged.failures.extend(part.failures);
    }
    let inputs = |u| ReportInputs {
        run_id: "r",
        now_unix: NOW,
        data_source: DataSource::Simulator,
        universe: u,
        model: &model,
        top: 25,
        min_run_coverage: 0.9,
        api: Default::default(),
        elapsed_ms: 0,
        warnings: vec![],
    };
    let a = report::build(inputs(&universe), &whole);
    let b = report::build(inputs(&universe), &merged);
    assert_eq!(serde_json::to_string(&a.ranking).unwrap(), serde_json::to_string(&b.ranking).unwrap());
    assert_eq!(a.unranked, b.unranked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_reply_is_reported_by_symbol_and_the_rest_is_published() {
    let faults: HashMap<String, Fault> = [
        ("AAPL", Fault::Hang),
        ("MSFT", Fault::Http500),
        ("NVDA", Fault::Http503),
        ("AMZN", Fault::Malformed),
        ("META", Fault::Empty),
        ("TSLA", Fault::ErrorMessage),
        ("JPM", Fault::Premium),
    ]
    .into_iter()
    .map(|(s, f)| (s.to_string(), f))
    .collect();
    let cfg = SimConfig { symbol_faults: faults, hang: Duration::from_secs(30), ..fast_sim() };
    let list = ["AAPL", "MSFT", "NVDA", "AMZN", "META", "TSLA", "JPM", "XOM", "JNJ", "PG", "KO", "PEP", "WMT", "HD", "CVX", "MRK"];
    let (r, out, client, _sim) = run_against(cfg, symbols(&list), "k", "faults").await;
    let reason = |s: &str| r.unranked.iter().find(|u| u.symbol.as_str() == s).map(|u| u.reason.clone()).unwrap_or_default();
    assert!(reason("AAPL").contains("timed out"), "{}", reason("AAPL"));
    assert!(reason("MSFT").contains("HTTP 500"), "{}", reason("MSFT"));
    assert!(reason("NVDA").contains("HTTP 503"), "{}", reason("NVDA"));
    assert!(reason("AMZN").contains("malformed"), "{}", reason("AMZN"));
    assert!(reason("META").contains("unknown symbol"), "{}", reason("META"));
    assert!(reason("TSLA").contains("rejected the call"), "{}", reason("TSLA"));
    assert!(reason("JPM").contains("premium"), "{}", reason("JPM"));
    assert_eq!(r.ranking.len(), 9, "the nine healthy symbols are ranked");
    assert!(r.partial.is_some(), "7 of 16 missing is under the 90% gate");
    assert!(r.stats.retries > 0, "transient faults were retried");
    // Non-retryable replies were asked once; retryable ones at most max_attempts times.
    assert!(client.stats().api_calls <= 9 + 3 + 4 * 4, "{:?}", client.stats());
    assert!(out.join("report.html").exists() && out.join("email.eml").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttle_storm_is_ridden_out_with_backoff() {
    let cfg = SimConfig { fault_rate: 0.4, faults: vec![Fault::Throttle], seed: 3, ..fast_sim() };
    let list: Vec<Symbol> = Universe::sp500().symbols().into_iter().take(40).collect();
    let (r, _, client, sim) = run_against(cfg, Universe::sp500().select(&list), "k", "storm").await;
    assert!(client.stats().throttled > 5, "{:?}", client.stats());
    assert_eq!(client.stats().throttled, sim.sim.stats().throttled, "every throttle reply was counted");
    assert!(r.coverage.scored >= 36, "most symbols got through: {:?} {:?}", r.coverage, r.unranked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_quota_stops_all_requests_and_marks_the_run_partial() {
    let cfg = SimConfig { daily_limit: Some(10), ..fast_sim() };
    let list: Vec<Symbol> = Universe::sp500().symbols().into_iter().take(60).collect();
    let (r, _, client, sim) = run_against(cfg, Universe::sp500().select(&list), "k", "quota").await;
    assert!(client.daily_quota_exhausted());
    // Ten served, then one quota reply per worker in flight at most; nothing after.
    assert!(sim.sim.stats().requests <= 10 + 5, "{:?}", sim.sim.stats());
    let why = r.partial.clone().expect("partial");
    assert!(why.contains("daily quota exhausted"), "{why}");
    assert!(r.unranked.iter().filter(|u| u.reason.contains("daily quota")).count() >= 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pacing_never_trips_the_servers_limit() {
    // The server holds only 2 requests of burst: any bunching would be throttled. Slots are
    // 50 ms apart, so ordinary scheduling jitter on a loaded machine stays well inside one.
    let sim = sim::start(SimConfig { rate_per_min: 1200.0, burst: Some(2.0), ..fast_sim() }, 0).await.unwrap();
    let client = client_for(&sim, "k", 1200.0);
    let members: Vec<Member> = Universe::sp500().members.into_iter().take(60).collect();
    let (f, _) = fetch_all(client.clone(), members, 8, PriceSource::Overview, Arc::new(NoProgress)).await;
    assert_eq!(sim.sim.stats().throttled, 0, "{:?}", sim.sim.stats());
    assert_eq!(f.candidates.len(), 60);
    assert_eq!(client.stats().api_calls, 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_quotes_are_used_when_configured() {
    let sim = sim::start(SimConfig { day: Some(20_000), ..fast_sim() }, 0).await.unwrap();
    let client = client_for(&sim, "k", 60_000.0);
    let members: Vec<Member> = Universe::sp500().members.into_iter().take(5).collect();
    let (f, warnings) = fetch_all(client.clone(), members, 2, PriceSource::GlobalQuote, Arc::new(NoProgress)).await;
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(client.stats().api_calls, 10);
    assert!(f.candidates.iter().all(|c| c.fundamentals.quote_price.is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_key_never_reaches_errors_or_files() {
    const KEY: &str = "SECRETKEY987654";
    // A server that hangs up: the transport error text must not carry the URL's key.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut cfg = stockpicks::adapters::alphavantage::ClientConfig::new(
        &format!("http://127.0.0.1:{port}"),
        stockpicks::secret::Secret::new(KEY),
        60_000.0,
    );
    cfg.max_attempts = 1;
    let client = AlphaVantage::new(cfg).unwrap();
    let err = client.overview(&Symbol::parse("IBM").unwrap()).await.unwrap_err();
    assert!(matches!(err, FetchError::Transport(_)), "{err:?}");
    assert!(!format!("{err} {err:?}").contains(KEY), "{err}");

    let (_, out, _, _) = run_against(fast_sim(), symbols(&["IBM", "AAPL", "MSFT"]), KEY, "secret").await;
    for entry in std::fs::read_dir(&out).unwrap() {
        let body = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!text(&body).contains(KEY));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_in_names_are_escaped_everywhere() {
    let csv = "Symbol,Security,GICS Sector\nAAPL,<script>alert(1)</script>,Information Technology\nMSFT,=HYPERLINK(\"http://x\"),Information Technology\nIBM,IBM,Information Technology\n";
    let (u, _) = Universe::from_csv(csv).unwrap();
    let (r, out, _, _) = run_against(fast_sim(), u, "k", "escape").await;
    assert_eq!(r.ranking.len(), 3);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!html.contains("<script>"), "raw script tag in HTML");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let csv_out = std::fs::read_to_string(out.join("top25.csv")).unwrap();
    assert!(csv_out.contains("'=HYPERLINK"), "{csv_out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_replies_served_as_fixtures_are_labelled() {
    let Some(data) = shared_data() else { return };
    let cfg = SimConfig { fixtures: Some(data.join("alphavantage")), ..fast_sim() };
    let (r, _, _, _) = run_against(cfg, symbols(&["AAPL", "AMZN", "IBM", "DUOL", "APP", "DBX", "NOPE"]), "k", "fixtures").await;
    assert_eq!(r.data_source, DataSource::Fixtures);
    assert!(r.ranking.iter().any(|s| s.symbol.as_str() == "AAPL"));
    let nope = r.unranked.iter().find(|u| u.symbol.as_str() == "NOPE").expect("NOPE reported");
    assert!(nope.reason.contains("unknown symbol"), "{}", nope.reason);
}

/// A mailer that refuses every reader, as SES does an address on the suppression list.
struct RefusingMailer;

impl stockpicks::ports::Mailer for RefusingMailer {
    async fn send(&self, recipient: &str, _: &[u8]) -> Result<String, stockpicks::ports::MailError> {
        Err(stockpicks::ports::MailError::new(recipient, stockpicks::ports::MailErrorKind::Rejected, "MessageRejected: suppressed"))
    }
}

/// The CLI's run exits non-zero on a failed delivery (a68ad1a computed the delivery and
/// dropped it): the publication says which messages failed and why, without the address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_message_is_reported_in_the_publication() {
    let sim = sim::start(fast_sim(), 0).await.unwrap();
    let out = tempdir("refused-mail");
    let mut req = request(symbols(&["AAPL", "MSFT", "IBM"]), "refused-mail");
    req.mail.recipients = vec!["one@example.com".into(), "two@example.com".into()];
    let published = run_once(
        RunPorts {
            market: client_for(&sim, "k", 60_000.0),
            store: &DirStore::new(&out),
            insight: &Insight::<DirStore>::none(),
            cache: None,
            mailer: &RefusingMailer,
            readers: &FixedReaders(req.mail.recipients.clone()),
            clock: &FixedClock(NOW),
            progress: Arc::new(NoProgress),
        },
        req,
    )
    .await
    .unwrap();
    assert_eq!(published.delivery.sent.len(), 0);
    assert_eq!(published.delivery.failed.len(), 2);
    assert!(!published.delivery.all_sent());
    assert!(
        published.delivery.failed.iter().all(|f| f.contains("suppressed") && !f.contains("example.com")),
        "{:?}",
        published.delivery.failed
    );
    assert!(out.join("results.json").exists(), "the report is stored all the same");
}
