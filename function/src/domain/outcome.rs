//! Outcomes of asking for market data: why a symbol's data could not be had, and the
//! counters of a run's API use.

use serde::{Deserialize, Serialize};

/// Why a symbol's data could not be had. Every Alpha Vantage signal maps to one of these.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum FetchError {
    #[error("throttled by the API (rate limit), retries exhausted")]
    Throttled,
    #[error("the API key's daily quota is used up; no further requests were made")]
    DailyQuotaExhausted,
    #[error("premium-only endpoint for this key")]
    PremiumOnly,
    #[error("the demo API key cannot serve this request")]
    DemoKey,
    #[error("the API rejected the call: {0}")]
    InvalidCall(String),
    #[error("unknown symbol (empty reply)")]
    NotFound,
    #[error("malformed reply: {0}")]
    Malformed(String),
    #[error("HTTP {0} from the API")]
    Http(u16),
    /// A 3xx reply: never followed, since the request URL carries the API key.
    #[error("the API answered with a redirect ({0}); redirects are not followed")]
    Redirect(String),
    /// Never asked: the API had stopped answering (the client's circuit breaker).
    #[error("not asked: the API stopped answering ({0} connection failures in a row)")]
    ApiDown(u32),
    #[error("timed out")]
    Timeout,
    #[error("network error: {0}")]
    Transport(String),
    /// Never asked: the part of the run that held this symbol did not finish.
    #[error("not fetched: {0}")]
    Unfinished(String),
}

impl FetchError {
    /// The same error with every text from the server passed through
    /// [`crate::sanitize::clean`] (control characters dropped, secrets masked).
    pub fn sanitized(self) -> FetchError {
        use crate::sanitize::clean_short;
        match self {
            FetchError::InvalidCall(t) => FetchError::InvalidCall(clean_short(&t, 200)),
            FetchError::Malformed(t) => FetchError::Malformed(clean_short(&t, 200)),
            FetchError::Redirect(t) => FetchError::Redirect(clean_short(&t, 200)),
            FetchError::Transport(t) => FetchError::Transport(clean_short(&t, 300)),
            FetchError::Unfinished(t) => FetchError::Unfinished(clean_short(&t, 300)),
            other => other,
        }
    }

    /// A failure to reach the server at all (counted by the circuit breaker).
    pub fn is_connection_failure(&self) -> bool {
        matches!(self, FetchError::Transport(_) | FetchError::Timeout)
    }

    /// Worth another attempt after a pause.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            FetchError::Throttled
                | FetchError::Malformed(_)
                | FetchError::Http(500..=599 | 429)
                | FetchError::Timeout
                | FetchError::Transport(_)
        )
    }
}

/// Counters a market-data adapter keeps for the run's statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiStats {
    /// HTTP requests sent (each retry counts).
    pub api_calls: u64,
    /// Throttle replies received.
    pub throttled: u64,
    /// Requests repeated after a retryable failure.
    pub retries: u64,
    /// Replies served from a cache instead of the network.
    pub cache_hits: u64,
}
