//! The Alpha Vantage client (reqwest + rustls): one shared pacing limiter, bounded retries
//! with exponential backoff and jitter, typed outcomes for every reply, and the API key
//! kept out of every log line, error and file.

pub mod wire;

use super::ratelimit::RateLimiter;
use crate::domain::cache::Calendar;
use crate::domain::fundamentals::Fundamentals;
use crate::domain::outcome::{ApiStats, FetchError};
use crate::domain::Symbol;
use crate::ports::MarketData;
use crate::secret::Secret;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Duration;
use tokio::time::Instant;

/// The header the built-in simulator puts on every reply.
pub const SIMULATOR_HEADER: &str = "x-stockpicks-simulator";
/// Set to `1` by the simulator when the reply is a recorded fixture.
pub const FIXTURE_HEADER: &str = "x-stockpicks-fixture";

/// The largest reply body read for OVERVIEW and GLOBAL_QUOTE (a real OVERVIEW is ~3 KB).
pub const MAX_JSON_REPLY: usize = 1 << 20;
/// The largest REALTIME_BULK_QUOTES reply (100 rows are ~30 KB).
pub const MAX_BULK_REPLY: usize = 4 << 20;
/// The largest EARNINGS_CALENDAR CSV (three months of every US listing is ~1 MB).
pub const MAX_CALENDAR_REPLY: usize = 16 << 20;
/// Connection failures (network errors, timeouts) in a row, across all requests, after
/// which the client stops asking: every later request fails at once with `ApiDown`.
pub const CIRCUIT_BREAKER_FAILURES: u32 = 12;

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
    /// Connection failures since the last reply of any kind (the circuit breaker).
    failures_in_a_row: std::sync::atomic::AtomicU32,
}

impl AlphaVantage {
    pub fn new(cfg: ClientConfig) -> Result<AlphaVantage, super::HttpClientError> {
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout)
            .pool_max_idle_per_host(64)
            // The URL carries the key: a redirect would hand it (and a Referer with it) to
            // whatever host the server names. Redirects are refused and reported.
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .user_agent(concat!("stockpicks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(super::HttpClientError)?;
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
            failures_in_a_row: std::sync::atomic::AtomicU32::new(0),
        })
    }

    /// `Some(n)` once the circuit breaker is open: `n` connection failures came in a row,
    /// and no more requests go out.
    pub fn api_down(&self) -> Option<u32> {
        let n = self.failures_in_a_row.load(Relaxed);
        (n >= CIRCUIT_BREAKER_FAILURES).then_some(n)
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
    /// Every error leaves here sanitized: texts from the server have no control characters
    /// and no secret.
    async fn call<T>(
        &self,
        what: &str,
        params: &[(&str, &str)],
        limit: usize,
        parse: impl Fn(&[u8]) -> Result<T, FetchError>,
    ) -> Result<T, FetchError> {
        self.call_inner(what, params, limit, parse).await.map_err(FetchError::sanitized)
    }

    /// The circuit breaker's state: `Some(n)` once `n` connection failures came in a row.
    fn circuit_open(&self) -> Option<FetchError> {
        let n = self.failures_in_a_row.load(Relaxed);
        (n >= CIRCUIT_BREAKER_FAILURES).then_some(FetchError::ApiDown(n))
    }

    async fn call_inner<T>(
        &self,
        what: &str,
        params: &[(&str, &str)],
        limit: usize,
        parse: impl Fn(&[u8]) -> Result<T, FetchError>,
    ) -> Result<T, FetchError> {
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            if self.daily_quota_exhausted() {
                return Err(FetchError::DailyQuotaExhausted);
            }
            if let Some(e) = self.circuit_open() {
                return Err(e);
            }
            self.limiter.acquire().await;
            if self.daily_quota_exhausted() {
                return Err(FetchError::DailyQuotaExhausted);
            }
            if let Some(e) = self.circuit_open() {
                return Err(e);
            }
            self.calls.fetch_add(1, Relaxed);
            let sent = self.send_once(params, limit).await;
            match &sent {
                Err(e) if e.is_connection_failure() => {
                    let n = self.failures_in_a_row.fetch_add(1, Relaxed) + 1;
                    if n == CIRCUIT_BREAKER_FAILURES {
                        tracing::error!(request = what, failures = n, "Alpha Vantage stopped answering: no further requests this run");
                    }
                }
                _ => self.failures_in_a_row.store(0, Relaxed),
            }
            let outcome = sent.and_then(|b| parse(&b));
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
            if self.circuit_open().is_some() {
                return Err(err);
            }
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

    async fn send_once(&self, params: &[(&str, &str)], limit: usize) -> Result<Vec<u8>, FetchError> {
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
        if (300..400).contains(&status) {
            return Err(FetchError::Redirect(redirect_text(status, resp.headers())));
        }
        if !(200..300).contains(&status) {
            return Err(FetchError::Http(status));
        }
        read_capped(resp, limit).await.map_err(|e| match e {
            CappedError::TooLarge => FetchError::Malformed(format!("reply larger than {limit} bytes")),
            CappedError::Http(e) => self.transport_error(e),
        })
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

/// "HTTP 302 to other.example": the target's host only (its URL may hold the key).
pub(crate) fn redirect_text(status: u16, headers: &reqwest::header::HeaderMap) -> String {
    let host = headers
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| url::Url::parse(l).ok())
        .and_then(|u| u.host_str().map(str::to_string));
    match host {
        Some(h) => format!("HTTP {status} to {h}"),
        None => format!("HTTP {status}"),
    }
}

pub enum CappedError {
    TooLarge,
    Http(reqwest::Error),
}

/// Reads a reply body of at most `limit` bytes: a larger `Content-Length` is refused before
/// reading, and a body that grows past the limit (an endless chunked reply) is dropped
/// there, so memory stays bounded whatever the server sends.
pub async fn read_capped(mut resp: reqwest::Response, limit: usize) -> Result<Vec<u8>, CappedError> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(CappedError::TooLarge);
    }
    let mut body = Vec::with_capacity(resp.content_length().map_or(8 * 1024, |n| n as usize));
    while let Some(chunk) = resp.chunk().await.map_err(CappedError::Http)? {
        if body.len() + chunk.len() > limit {
            return Err(CappedError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Checks that a reply is about the symbol asked for (`reported` is the reply's own field).
fn same_symbol(asked: &Symbol, reported: &str, what: &str) -> Result<(), FetchError> {
    match Symbol::parse(reported) {
        Ok(s) if s == *asked => Ok(()),
        _ => Err(FetchError::Malformed(format!("{what} reply is for {:?}, not {asked}", crate::sanitize::clean_short(reported, 24)))),
    }
}

impl MarketData for AlphaVantage {
    async fn overview(&self, symbol: &Symbol) -> Result<Fundamentals, FetchError> {
        let what = format!("OVERVIEW {symbol}");
        self.call(&what, &[("function", "OVERVIEW"), ("symbol", symbol.as_str())], MAX_JSON_REPLY, |b| {
            let body = wire::parse_body(b)?;
            let f = wire::overview(&body)?;
            same_symbol(symbol, body["Symbol"].as_str().unwrap_or_default(), "OVERVIEW")?;
            Ok(f)
        })
        .await
    }

    async fn quote(&self, symbol: &Symbol) -> Result<f64, FetchError> {
        let what = format!("GLOBAL_QUOTE {symbol}");
        self.call(&what, &[("function", "GLOBAL_QUOTE"), ("symbol", symbol.as_str())], MAX_JSON_REPLY, |b| {
            let body = wire::parse_body(b)?;
            let p = wire::global_quote(&body)?;
            // Older replies may lack the field; one that names another symbol is refused.
            if let Some(reported) = body["Global Quote"]["01. symbol"].as_str() {
                same_symbol(symbol, reported, "GLOBAL_QUOTE")?;
            }
            Ok(p)
        })
        .await
    }

    async fn bulk_quotes(&self, symbols: &[Symbol]) -> Result<Vec<(Symbol, f64)>, FetchError> {
        let list = symbols.iter().map(Symbol::as_str).collect::<Vec<_>>().join(",");
        let what = format!("REALTIME_BULK_QUOTES ({} symbols)", symbols.len());
        let asked: std::collections::HashSet<&Symbol> = symbols.iter().collect();
        self.call(&what, &[("function", "REALTIME_BULK_QUOTES"), ("symbol", &list)], MAX_BULK_REPLY, |b| {
            // Rows for symbols not asked for are dropped.
            Ok(wire::bulk_quotes(&wire::parse_body(b)?)?.into_iter().filter(|(s, _)| asked.contains(s)).collect())
        })
        .await
    }

    async fn earnings_calendar(&self) -> Result<Calendar, FetchError> {
        self.call(
            "EARNINGS_CALENDAR",
            &[("function", "EARNINGS_CALENDAR"), ("horizon", "3month")],
            MAX_CALENDAR_REPLY,
            wire::earnings_calendar,
        )
        .await
    }

    fn stats(&self) -> ApiStats {
        ApiStats {
            api_calls: self.calls.load(Relaxed),
            throttled: self.throttled.load(Relaxed),
            retries: self.retries.load(Relaxed),
            cache_hits: 0,
        }
    }

    fn data_source(&self) -> crate::domain::source::DataSource {
        use crate::domain::source::DataSource;
        if self.fixtures.load(Relaxed) {
            DataSource::Fixtures
        } else if self.synthetic.load(Relaxed) {
            DataSource::Simulator
        } else {
            DataSource::Alphavantage
        }
    }
}
