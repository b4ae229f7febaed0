//! The Alpha Vantage simulator: an HTTP server on loopback that speaks the Alpha Vantage
//! wire format (OVERVIEW, GLOBAL_QUOTE, REALTIME_BULK_QUOTES), serves deterministic
//! synthetic companies for any symbol or recorded replies from a fixtures directory,
//! enforces a rate limit with the real throttle bodies, and injects faults on request.
//! Every reply carries `X-Stockpicks-Simulator: 1`.

pub mod synth;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use synth::{hash_str, mix, Synth};
use tokio::time::Instant;

// The reply texts Alpha Vantage sends (HTTP 200 in every case).
pub const BURST_TEXT: &str = "Thank you for using Alpha Vantage! Please consider spreading out your free API requests more sparingly (1 request per second). You may subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to lift the free key rate limit (25 requests per day), raise the per-second burst limit, and instantly unlock all premium endpoints";
pub const DAILY_TEXT: &str = "Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests per day. Please subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly remove all daily rate limits.";
pub const PREMIUM_TEXT: &str = "Thank you for using Alpha Vantage! This is a premium endpoint. You may subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly unlock all premium endpoints";
pub const BULK_PREMIUM_TEXT: &str = "This is a premium endpoint. ***THE SAMPLE DATA SCHEMA BELOW IS ARTIFICIAL AND FOR ILLUSTRATION PURPOSES ONLY***. To access the actual data, please subscribe to any premium plan that mentions 'Realtime US Market Data' in its description.";
pub const INVALID_CALL_TEXT: &str =
    "Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for this function.";
pub const MISSING_KEY_TEXT: &str = "the parameter apikey is invalid or missing. Please claim your free API key on (https://www.alphavantage.co/support/#api-key). It should take less than 20 seconds.";

/// The functions the simulator serves; a fault can be set for a whole function.
pub const FUNCTIONS: [&str; 4] = ["OVERVIEW", "GLOBAL_QUOTE", "REALTIME_BULK_QUOTES", "EARNINGS_CALENDAR"];
/// How long a client may take to send a request's headers (slowloris defence), by default.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Faults the simulator can inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    Http500,
    Http503,
    /// The normal, valid reply, after 3x the usual latency plus a second.
    Slow,
    /// Holds the connection for a minute before answering.
    Hang,
    Malformed,
    Empty,
    ErrorMessage,
    Premium,
    Throttle,
    DailyQuota,
}

impl Fault {
    pub const ALL: [Fault; 10] = [
        Fault::Http500,
        Fault::Http503,
        Fault::Slow,
        Fault::Hang,
        Fault::Malformed,
        Fault::Empty,
        Fault::ErrorMessage,
        Fault::Premium,
        Fault::Throttle,
        Fault::DailyQuota,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::Http500 => "http500",
            Fault::Http503 => "http503",
            Fault::Slow => "slow",
            Fault::Hang => "hang",
            Fault::Malformed => "malformed",
            Fault::Empty => "empty",
            Fault::ErrorMessage => "error",
            Fault::Premium => "premium",
            Fault::Throttle => "throttle",
            Fault::DailyQuota => "daily",
        }
    }

    pub fn parse(s: &str) -> Result<Fault, UnknownFault> {
        Fault::ALL.into_iter().find(|f| f.name() == s).ok_or_else(|| UnknownFault(s.to_string()))
    }
}

/// A fault name the simulator does not know; the message lists the ones it does.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault {0:?}; known: {known}", known = Fault::ALL.map(Fault::name).join(", "))]
pub struct UnknownFault(pub String);

#[derive(Clone, Debug)]
pub struct SimConfig {
    pub rate_per_min: f64,
    /// Requests the bucket can hold; default a tenth of a second's worth, at least 2, so a
    /// client even 10% too fast is throttled within a few hundred requests.
    pub burst: Option<f64>,
    pub latency: Duration,
    /// Share of requests (0-1) that get a random fault from `faults`.
    pub fault_rate: f64,
    pub faults: Vec<Fault>,
    /// Faults for particular symbols, every time they are asked for.
    pub symbol_faults: HashMap<String, Fault>,
    pub fixtures: Option<PathBuf>,
    pub seed: u64,
    /// Requests served before the daily-quota reply starts.
    pub daily_limit: Option<u64>,
    /// Whether the key is entitled to REALTIME_BULK_QUOTES.
    pub premium: bool,
    /// The simulated date (days since 1970-01-01); `None` = today.
    pub day: Option<i64>,
    pub hang: Duration,
    /// A client that has not sent a request's headers within this time is disconnected.
    pub header_timeout: Duration,
    /// Sets the share of companies that reported in a given week (benchmarks).
    pub reporting: Option<synth::Reporting>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            rate_per_min: 75.0,
            burst: None,
            latency: Duration::ZERO,
            fault_rate: 0.0,
            faults: vec![Fault::Http500, Fault::Http503, Fault::Slow, Fault::Malformed, Fault::Throttle],
            symbol_faults: HashMap::new(),
            fixtures: None,
            seed: 42,
            daily_limit: None,
            premium: false,
            day: None,
            hang: Duration::from_secs(60),
            header_timeout: HEADER_READ_TIMEOUT,
            reporting: None,
        }
    }
}

/// Counters, served at `GET /sim/stats`.
#[derive(Debug, Default, serde::Serialize)]
pub struct SimStats {
    pub requests: u64,
    pub served: u64,
    pub throttled: u64,
    pub faults: u64,
}

pub struct Simulator {
    cfg: SimConfig,
    synth: Synth,
    bucket: Mutex<(f64, Instant)>,
    capacity: f64,
    requests: AtomicU64,
    served: AtomicU64,
    throttled: AtomicU64,
    faults: AtomicU64,
}

/// What to send back, and after how long.
#[derive(Debug, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub delay: Duration,
    /// Served from a recorded fixture file (sent as `X-Stockpicks-Fixture: 1`).
    pub fixture: bool,
}

impl Reply {
    fn json(v: Value) -> Reply {
        Reply { status: 200, body: v.to_string(), delay: Duration::ZERO, fixture: false }
    }
}

impl Simulator {
    pub fn new(cfg: SimConfig) -> Simulator {
        let capacity = cfg.burst.unwrap_or((cfg.rate_per_min / 600.0).max(2.0));
        Simulator {
            synth: Synth::new(cfg.seed).with_reporting(cfg.reporting),
            bucket: Mutex::new((capacity, Instant::now())),
            capacity,
            cfg,
            requests: AtomicU64::new(0),
            served: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            faults: AtomicU64::new(0),
        }
    }

    pub fn stats(&self) -> SimStats {
        SimStats {
            requests: self.requests.load(Relaxed),
            served: self.served.load(Relaxed),
            throttled: self.throttled.load(Relaxed),
            faults: self.faults.load(Relaxed),
        }
    }

    fn today(&self) -> i64 {
        self.cfg.day.unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64 / 86_400).unwrap_or(0)
        })
    }

    /// Takes a token from the bucket; false when the client is too fast.
    fn take_token(&self) -> bool {
        let mut b = self.bucket.lock().expect("bucket lock");
        let now = Instant::now();
        let refill = now.duration_since(b.1).as_secs_f64() * self.cfg.rate_per_min / 60.0;
        b.0 = (b.0 + refill).min(self.capacity);
        b.1 = now;
        if b.0 >= 1.0 {
            b.0 -= 1.0;
            true
        } else {
            false
        }
    }

    /// Answers one `/query?...` request.
    pub fn handle(&self, query: &str) -> Reply {
        let n = self.requests.fetch_add(1, Relaxed);
        let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let param = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
        if param("apikey").is_empty() {
            return Reply::json(json!({ "Error Message": MISSING_KEY_TEXT }));
        }
        if let Some(limit) = self.cfg.daily_limit {
            if self.served.load(Relaxed) >= limit {
                return Reply::json(json!({ "Information": DAILY_TEXT }));
            }
        }
        if !self.take_token() {
            self.throttled.fetch_add(1, Relaxed);
            return Reply::json(json!({ "Information": BURST_TEXT }));
        }
        let symbol = param("symbol").trim().to_ascii_uppercase();
        // A fault can be set for a symbol, or for a whole function (EARNINGS_CALENDAR).
        let fault = self.cfg.symbol_faults.get(&symbol).or_else(|| self.cfg.symbol_faults.get(param("function"))).copied().or_else(|| {
            let roll = (mix(self.cfg.seed ^ mix(n)) >> 11) as f64 / (1u64 << 53) as f64;
            (roll < self.cfg.fault_rate && !self.cfg.faults.is_empty())
                .then(|| self.cfg.faults[(mix(n ^ 0xFA17) % self.cfg.faults.len() as u64) as usize])
        });
        let list = if params.contains_key("symbols") { param("symbols") } else { param("symbol") };
        let mut reply = match fault {
            Some(Fault::Slow) => {
                self.faults.fetch_add(1, Relaxed);
                self.served.fetch_add(1, Relaxed);
                let r = self.answer(param("function"), &symbol, list, param("horizon"));
                Reply { delay: self.cfg.latency * 2 + Duration::from_secs(1), ..r }
            }
            Some(f) => {
                self.faults.fetch_add(1, Relaxed);
                self.fault_reply(f)
            }
            None => {
                self.served.fetch_add(1, Relaxed);
                // Bulk quotes take a comma-separated `symbol` (the real API's form).
                self.answer(param("function"), &symbol, list, param("horizon"))
            }
        };
        reply.delay += self.cfg.latency;
        reply
    }

    fn fault_reply(&self, f: Fault) -> Reply {
        match f {
            Fault::Http500 => Reply { status: 500, body: "Internal Server Error".into(), delay: Duration::ZERO, fixture: false },
            Fault::Http503 => Reply { status: 503, body: "Service Unavailable".into(), delay: Duration::ZERO, fixture: false },
            // Answered in `handle` (it needs the request); here only for completeness.
            Fault::Slow => Reply { delay: self.cfg.latency * 2 + Duration::from_secs(1), ..Reply::json(json!({})) },
            Fault::Hang => Reply { status: 200, body: "{}".into(), delay: self.cfg.hang, fixture: false },
            Fault::Malformed => {
                Reply { status: 200, body: "{\"Symbol\": \"AAPL\", \"Name\": \"Appl".into(), delay: Duration::ZERO, fixture: false }
            }
            Fault::Empty => Reply::json(json!({})),
            Fault::ErrorMessage => Reply::json(json!({ "Error Message": INVALID_CALL_TEXT })),
            Fault::Premium => Reply::json(json!({ "Information": PREMIUM_TEXT })),
            Fault::Throttle => {
                self.throttled.fetch_add(1, Relaxed);
                Reply::json(json!({ "Information": BURST_TEXT }))
            }
            Fault::DailyQuota => Reply::json(json!({ "Information": DAILY_TEXT })),
        }
    }

    fn fixture(&self, function: &str, symbol: &str) -> Option<String> {
        let dir = self.cfg.fixtures.as_ref()?;
        if stockpicks::domain::Symbol::parse(symbol).is_err() {
            return None;
        }
        let sub = function.to_ascii_lowercase();
        let candidates = [dir.join(&sub).join(format!("{symbol}.json")), dir.join(format!("{symbol}.json"))];
        let only_overview = sub == "overview";
        candidates.iter().enumerate().filter(|(i, _)| *i == 0 || only_overview).find_map(|(_, p)| std::fs::read_to_string(p).ok())
    }

    fn answer(&self, function: &str, symbol: &str, symbols: &str, horizon: &str) -> Reply {
        let day = self.today();
        let valid = stockpicks::domain::Symbol::parse(symbol).is_ok();
        match function {
            "OVERVIEW" | "GLOBAL_QUOTE" => {
                if let Some(body) = self.fixture(function, symbol) {
                    return Reply { status: 200, body, delay: Duration::ZERO, fixture: true };
                }
                if self.cfg.fixtures.is_some() || !valid {
                    // Fixture mode knows only its files; invalid symbols are unknown everywhere.
                    return Reply::json(if function == "OVERVIEW" { json!({}) } else { json!({"Global Quote": {}}) });
                }
                Reply::json(if function == "OVERVIEW" { self.synth.overview(symbol, day) } else { self.synth.global_quote(symbol, day) })
            }
            "REALTIME_BULK_QUOTES" => {
                let list: Vec<String> = symbols
                    .split(',')
                    .map(|s| s.trim().to_ascii_uppercase())
                    .filter(|s| stockpicks::domain::Symbol::parse(s).is_ok())
                    .take(100)
                    .collect();
                if !self.cfg.premium {
                    // The real notice comes with ARTIFICIAL rows; so does ours, with absurd prices.
                    let rows: Vec<Value> =
                        list.iter().map(|s| json!({"symbol": s, "close": "1.0000", "timestamp": "2024-10-18 19:59:55.291"})).collect();
                    return Reply::json(json!({"endpoint": "Realtime Bulk Quotes", "message": BULK_PREMIUM_TEXT, "data": rows}));
                }
                let rows: Vec<Value> = list.iter().map(|s| self.synth.bulk_row(s, day)).collect();
                Reply::json(json!({"endpoint": "Realtime Bulk Quotes", "message": "", "data": rows}))
            }
            "EARNINGS_CALENDAR" => {
                let days = match horizon {
                    "" | "3month" => 90,
                    "6month" => 180,
                    "12month" => 365,
                    _ => return Reply::json(json!({ "Error Message": INVALID_CALL_TEXT })),
                };
                Reply { status: 200, body: self.calendar_csv(day, days, symbol), delay: Duration::ZERO, fixture: false }
            }
            _ => Reply::json(json!({ "Error Message": INVALID_CALL_TEXT })),
        }
    }

    /// The real CSV layout: every known company reporting within `horizon` days of `day`
    /// (or just `only`, when given), by date.
    fn calendar_csv(&self, day: i64, horizon: i64, only: &str) -> String {
        let mut rows: Vec<(i64, String, String)> = self
            .synth
            .known_companies()
            .filter(|(sym, _)| only.is_empty() || *sym == only)
            .filter_map(|(sym, name)| {
                let next = self.synth.next_report(sym, day);
                (next <= day + horizon).then(|| (next, sym.to_string(), name.replace(',', " ")))
            })
            .collect();
        rows.sort();
        let mut out = String::from("symbol,name,reportDate,fiscalDateEnding,estimate,currency\r\n");
        for (next, sym, name) in rows {
            let fiscal = synth::quarter_end_day(synth::quarter_of(next) - 1);
            let _ = std::fmt::Write::write_fmt(
                &mut out,
                format_args!(
                    "{sym},{name},{},{},,USD\r\n",
                    stockpicks::domain::time::date(next * 86_400),
                    stockpicks::domain::time::date(fiscal * 86_400)
                ),
            );
        }
        out
    }

    async fn respond(self: Arc<Self>, req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
        let path = req.uri().path().to_string();
        let query = req.uri().query().unwrap_or("").to_string();
        let reply = match path.as_str() {
            "/query" => self.handle(&query),
            "/sim/stats" => Reply::json(serde_json::to_value(self.stats()).unwrap_or_default()),
            _ => Reply { status: 404, body: "{\"Error Message\": \"not found\"}".into(), delay: Duration::ZERO, fixture: false },
        };
        if !reply.delay.is_zero() {
            tokio::time::sleep(reply.delay).await;
        }
        let resp = Response::builder()
            .status(reply.status)
            .header("content-type", "application/json")
            .header("x-stockpicks-simulator", "1")
            .header("x-stockpicks-fixture", if reply.fixture { "1" } else { "0" })
            .body(Full::new(Bytes::from(reply.body)))
            .expect("static response parts are valid");
        Ok(resp)
    }
}

/// A running simulator; stops when dropped.
pub struct Running {
    pub addr: SocketAddr,
    pub sim: Arc<Simulator>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds 127.0.0.1:`port` (0 = any free port) and serves until dropped.
pub async fn start(cfg: SimConfig, port: u16) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let header_timeout = cfg.header_timeout;
    let sim = Arc::new(Simulator::new(cfg));
    let serving = sim.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let _ = stream.set_nodelay(true);
            let sim = serving.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| sim.clone().respond(req));
                // A client that sends its headers slower than HEADER_READ_TIMEOUT is cut off
                // (a slowloris would otherwise hold the connection for ever).
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(Running { addr, sim, task })
}

/// A seed from a word, for `--seed` values that are not numbers.
pub fn seed_from(s: &str) -> u64 {
    s.parse().unwrap_or_else(|_| hash_str(0, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A simulator as of a fixed day (2026-11-28), never today: its companies move with the date.
    fn sim(cfg: SimConfig) -> Simulator {
        Simulator::new(SimConfig { day: cfg.day.or(Some(20_785)), ..cfg })
    }

    #[tokio::test]
    async fn needs_a_key_and_speaks_overview() {
        let s = sim(SimConfig { rate_per_min: 60_000.0, ..Default::default() });
        assert!(s.handle("function=OVERVIEW&symbol=AAPL").body.contains("apikey is invalid or missing"));
        let r = s.handle("function=OVERVIEW&symbol=AAPL&apikey=k");
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["Symbol"], "AAPL");
        let bad: Value = serde_json::from_str(&s.handle("function=OVERVIEW&symbol=%3Cb%3E&apikey=k").body).unwrap();
        assert_eq!(bad, json!({}));
        let nofn: Value = serde_json::from_str(&s.handle("function=NOPE&symbol=AAPL&apikey=k").body).unwrap();
        assert!(nofn.get("Error Message").is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn throttles_a_client_that_is_too_fast() {
        let s = sim(SimConfig { rate_per_min: 60.0, burst: Some(2.0), ..Default::default() });
        let q = "function=OVERVIEW&symbol=IBM&apikey=k";
        assert!(!s.handle(q).body.contains("sparingly"));
        assert!(!s.handle(q).body.contains("sparingly"));
        assert!(s.handle(q).body.contains("sparingly"));
        tokio::time::advance(Duration::from_millis(1001)).await;
        assert!(!s.handle(q).body.contains("sparingly"));
        assert_eq!(s.stats().throttled, 1);
    }

    #[tokio::test]
    async fn daily_limit_and_symbol_faults() {
        let mut faults = HashMap::new();
        faults.insert("BAD".to_string(), Fault::Http503);
        let s = sim(SimConfig { rate_per_min: 60_000.0, daily_limit: Some(1), symbol_faults: faults, ..Default::default() });
        assert_eq!(s.handle("function=OVERVIEW&symbol=BAD&apikey=k").status, 503);
        assert!(s.handle("function=OVERVIEW&symbol=IBM&apikey=k").body.contains("\"Symbol\""));
        assert!(s.handle("function=OVERVIEW&symbol=IBM&apikey=k").body.contains("25 requests per day"));
    }

    #[tokio::test]
    async fn bulk_quotes_without_premium_is_the_artificial_notice() {
        let s = sim(SimConfig { rate_per_min: 60_000.0, ..Default::default() });
        let v: Value = serde_json::from_str(&s.handle("function=REALTIME_BULK_QUOTES&symbols=AAPL,MSFT&apikey=k").body).unwrap();
        assert!(v["message"].as_str().unwrap().contains("ARTIFICIAL"));
        let p = sim(SimConfig { rate_per_min: 60_000.0, premium: true, ..Default::default() });
        let v: Value = serde_json::from_str(&p.handle("function=REALTIME_BULK_QUOTES&symbols=AAPL,MSFT&apikey=k").body).unwrap();
        assert_eq!(v["data"].as_array().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn fault_rate_is_deterministic() {
        let cfg = SimConfig { rate_per_min: 1e6, fault_rate: 0.3, seed: 9, ..Default::default() };
        let (a, b) = (sim(cfg.clone()), sim(cfg));
        let q = "function=OVERVIEW&symbol=IBM&apikey=k";
        let ra: Vec<u16> = (0..50).map(|_| a.handle(q).status).collect();
        let rb: Vec<u16> = (0..50).map(|_| b.handle(q).status).collect();
        assert_eq!(ra, rb);
        let faults = a.stats().faults;
        assert!((5..=25).contains(&faults), "{faults}");
    }

    #[test]
    fn fault_names_parse_and_an_unknown_one_is_a_typed_error_listing_the_known() {
        for f in Fault::ALL {
            assert_eq!(Fault::parse(f.name()), Ok(f));
        }
        let e = Fault::parse("boom").unwrap_err();
        assert_eq!(e, UnknownFault("boom".into()));
        assert!(e.to_string().starts_with("unknown fault \"boom\"; known: http500, http503"), "{e}");
    }
}
