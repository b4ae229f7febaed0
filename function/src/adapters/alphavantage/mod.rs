//! The Alpha Vantage client (reqwest + rustls): one shared pacing limiter, bounded retries
//! with exponential backoff and jitter, typed outcomes for every reply, and the API key
//! kept out of every log line, error and file.

pub mod wire;

use super::ratelimit::RateLimiter;
use crate::config::Secret;
use crate::domain::cache::Calendar;
use crate::domain::fundamentals::Fundamentals;
use crate::domain::Symbol;
use crate::ports::{ApiStats, FetchError, MarketData};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Duration;
use tokio::time::Instant;

/// The header the built-in simulator puts on every reply.
pub const SIMULATOR_HEADER: &str = "x-stockpicks-simulator";
/// Set to `1` by the simulator when the reply is a recorded fixture.
pub const FIXTURE_HEADER: &str = "x-stockpicks-fixture";

#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Host root (`https://www.alphavantage.co`) or the full `/query` URL.
    pub base_url: String,
    pub api_key: Secret,
    pub rate_per_min: f64,
    pub timeout: Duration,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// Upper bound on the time one request may spend in retries.
    pub retry_budget: Duration,
    pub backoff_base: Duration,
}

impl ClientConfig {
    pub fn new(base_url: &str, api_key: Secret, rate_per_min: f64) -> ClientConfig {
        ClientConfig {
            base_url: base_url.to_string(),
            api_key,
            rate_per_min,
            timeout: Duration::from_secs(5),
            max_attempts: 4,
            retry_budget: Duration::from_secs(30),
            backoff_base: Duration::from_millis(250),
        }
    }
}

pub struct AlphaVantage {
    http: reqwest::Client,
    endpoint: String,
    cfg: ClientConfig,
    limiter: RateLimiter,
    daily_quota_hit: AtomicBool,
    synthetic: AtomicBool,
    fixtures: AtomicBool,
    calls: AtomicU64,
    throttled: AtomicU64,
    retries: AtomicU64,
}

impl AlphaVantage {
    pub fn new(cfg: ClientConfig) -> Result<AlphaVantage, String> {
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout)
            .pool_max_idle_per_host(64)
            .user_agent(concat!("stockpicks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("building the HTTP client: {e}"))?;
        let root = cfg.base_url.trim_end_matches('/');
        let endpoint = if root.ends_with("/query") { root.to_string() } else { format!("{root}/query") };
        Ok(AlphaVantage {
            http,
            endpoint,
            limiter: RateLimiter::per_minute(cfg.rate_per_min),
            cfg,
            daily_quota_hit: AtomicBool::new(false),
            synthetic: AtomicBool::new(false),
            fixtures: AtomicBool::new(false),
            calls: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            retries: AtomicU64::new(0),
        })
    }

    /// Where the data came from, as the replies said.
    pub fn data_source(&self) -> crate::domain::report::DataSource {
        use crate::domain::report::DataSource;
        if self.fixtures.load(Relaxed) {
            DataSource::Fixtures
        } else if self.synthetic.load(Relaxed) {
            DataSource::Simulator
        } else {
            DataSource::Alphavantage
        }
    }

    /// True once the key's daily quota reply was seen: no more requests go out.
    pub fn daily_quota_exhausted(&self) -> bool {
        self.daily_quota_hit.load(Relaxed)
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let full = self.cfg.backoff_base.saturating_mul(1 << attempt.min(6)).min(Duration::from_secs(8));
        // "Equal jitter": half fixed, half random, so retries from many workers spread out.
        full / 2 + full.mul_f64(fastrand::f64() / 2.0)
    }

    /// One logical request with pacing and bounded retries; `parse` turns the reply body
    /// into the caller's value or a typed error. `what` names the request in logs.
    async fn call<T>(&self, what: &str, params: &[(&str, &str)], parse: impl Fn(&[u8]) -> Result<T, FetchError>) -> Result<T, FetchError> {
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            if self.daily_quota_exhausted() {
                return Err(FetchError::DailyQuotaExhausted);
            }
            self.limiter.acquire().await;
            if self.daily_quota_exhausted() {
                return Err(FetchError::DailyQuotaExhausted);
            }
            self.calls.fetch_add(1, Relaxed);
            let outcome = self.send_once(params).await.and_then(|b| parse(&b));
            let err = match outcome {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            match &err {
                FetchError::DailyQuotaExhausted => {
                    if !self.daily_quota_hit.swap(true, Relaxed) {
                        tracing::warn!(request = what, "Alpha Vantage daily quota exhausted: no further requests this run");
                    }
                    return Err(err);
                }
                FetchError::Throttled => {
                    self.throttled.fetch_add(1, Relaxed);
                }
                _ => {}
            }
            let pause = self.backoff(attempt);
            attempt += 1;
            if !err.is_retryable() || attempt >= self.cfg.max_attempts || started.elapsed() + pause > self.cfg.retry_budget {
                tracing::debug!(request = what, error = %err, attempts = attempt, "giving up");
                return Err(err);
            }
            if err == FetchError::Throttled {
                // Everyone waits: the key is shared by every worker (and every lane).
                self.limiter.hold_off(Instant::now() + pause);
            }
            self.retries.fetch_add(1, Relaxed);
            tracing::debug!(request = what, error = %err, attempt, pause_ms = pause.as_millis() as u64, "retrying");
            tokio::time::sleep(pause).await;
        }
    }

    async fn send_once(&self, params: &[(&str, &str)]) -> Result<bytes::Bytes, FetchError> {
        let resp = self
            .http
            .get(&self.endpoint)
            .query(params)
            .query(&[("apikey", self.cfg.api_key.expose())])
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        if resp.headers().contains_key(SIMULATOR_HEADER) {
            self.synthetic.store(true, Relaxed);
        }
        if resp.headers().get(FIXTURE_HEADER).is_some_and(|v| v == "1") {
            self.fixtures.store(true, Relaxed);
        }
        let status = resp.status().as_u16();
        if status == 429 {
            return Err(FetchError::Throttled);
        }
        if !(200..300).contains(&status) {
            return Err(FetchError::Http(status));
        }
        resp.bytes().await.map_err(|e| self.transport_error(e))
    }

    /// reqwest errors name the URL, and the URL carries the key: drop it, then redact
    /// whatever text is left for good measure.
    fn transport_error(&self, e: reqwest::Error) -> FetchError {
        if e.is_timeout() {
            return FetchError::Timeout;
        }
        let e = e.without_url();
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        FetchError::Transport(self.cfg.api_key.redact(&text))
    }
}

impl MarketData for AlphaVantage {
    async fn overview(&self, symbol: &Symbol) -> Result<Fundamentals, FetchError> {
        let what = format!("OVERVIEW {symbol}");
        self.call(&what, &[("function", "OVERVIEW"), ("symbol", symbol.as_str())], |b| wire::overview(&wire::parse_body(b)?)).await
    }

    async fn quote(&self, symbol: &Symbol) -> Result<f64, FetchError> {
        let what = format!("GLOBAL_QUOTE {symbol}");
        self.call(&what, &[("function", "GLOBAL_QUOTE"), ("symbol", symbol.as_str())], |b| wire::global_quote(&wire::parse_body(b)?)).await
    }

    async fn bulk_quotes(&self, symbols: &[Symbol]) -> Result<Vec<(Symbol, f64)>, FetchError> {
        let list = symbols.iter().map(Symbol::as_str).collect::<Vec<_>>().join(",");
        let what = format!("REALTIME_BULK_QUOTES ({} symbols)", symbols.len());
        self.call(&what, &[("function", "REALTIME_BULK_QUOTES"), ("symbol", &list)], |b| wire::bulk_quotes(&wire::parse_body(b)?)).await
    }

    async fn earnings_calendar(&self) -> Result<Calendar, FetchError> {
        self.call("EARNINGS_CALENDAR", &[("function", "EARNINGS_CALENDAR"), ("horizon", "3month")], wire::earnings_calendar).await
    }

    fn stats(&self) -> ApiStats {
        ApiStats {
            api_calls: self.calls.load(Relaxed),
            throttled: self.throttled.load(Relaxed),
            retries: self.retries.load(Relaxed),
            cache_hits: 0,
        }
    }

    fn synthetic(&self) -> bool {
        self.synthetic.load(Relaxed)
    }
}
