//! Ports: the traits the use cases are written against. Each has a real adapter at the
//! edge (`adapters/`) and a local or in-memory one, so the local run and the Lambda run are
//! the same pipeline with different parts plugged in.

use crate::contract::Metric;
use crate::domain::cache::Calendar;
use crate::domain::commentary::Prompt;
use crate::domain::fundamentals::Fundamentals;
use crate::domain::source::DataSource;
use crate::domain::Symbol;
use std::future::Future;
use std::pin::Pin;

use crate::domain::outcome::{ApiStats, FetchError};

/// Company data, one symbol at a time.
pub trait MarketData: Send + Sync + 'static {
    /// OVERVIEW fundamentals.
    fn overview(&self, symbol: &Symbol) -> impl Future<Output = Result<Fundamentals, FetchError>> + Send;
    /// Latest price (GLOBAL_QUOTE).
    fn quote(&self, symbol: &Symbol) -> impl Future<Output = Result<f64, FetchError>> + Send;
    /// Latest prices of up to 100 symbols in one call (REALTIME_BULK_QUOTES);
    /// `PremiumOnly` when the key is not entitled. Symbols without a row are absent.
    fn bulk_quotes(&self, symbols: &[Symbol]) -> impl Future<Output = Result<Vec<(Symbol, f64)>, FetchError>> + Send;
    /// Upcoming report dates (EARNINGS_CALENDAR, one call for all symbols).
    fn earnings_calendar(&self) -> impl Future<Output = Result<Calendar, FetchError>> + Send;
    fn stats(&self) -> ApiStats;
    /// Where the data came from, as the replies said (the simulator and its fixtures
    /// mark their replies).
    fn data_source(&self) -> DataSource;
    /// True once any reply said it came from the simulator.
    fn synthetic(&self) -> bool {
        self.data_source().is_synthetic()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("object {0} already exists")]
    AlreadyExists(String),
    #[error("object {0} not found")]
    NotFound(String),
    #[error("invalid object key {0:?}")]
    BadKey(String),
    #[error("object {0} changed since it was read")]
    Conflict(String),
    #[error("storage error on {key}: {message}")]
    Io { key: String, message: String },
}

/// Objects by key (S3, or a local directory).
pub trait ObjectStore: Send + Sync + 'static {
    fn get(&self, key: &str) -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send;
    fn put(&self, key: &str, body: Vec<u8>) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Writes only if no object has that key; `AlreadyExists` otherwise. Never leaves a
    /// half-written object behind.
    fn put_if_absent(&self, key: &str, body: Vec<u8>) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn list(&self, prefix: &str) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
    /// Reads an object with its version tag (S3's ETag).
    fn get_tagged(&self, key: &str) -> impl Future<Output = Result<(Vec<u8>, String), StoreError>> + Send;
    /// Replaces an object only while its tag is still `tag` (If-Match): `Conflict` when it
    /// changed, `NotFound` when it is gone.
    fn replace_if_match(&self, key: &str, body: Vec<u8>, tag: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// An error from a library or an SDK, kept as the source of ours.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
#[error("sending mail to {recipient}: {message}")]
pub struct MailError {
    pub recipient: String,
    pub kind: MailErrorKind,
    /// What went wrong, without the address (it is what a run's failure mark keeps) and
    /// without secrets.
    pub message: String,
    #[source]
    pub source: Option<BoxError>,
}

/// What a failed send means for trying again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailErrorKind {
    /// Sending too fast, or over the sending quota: the same message may go through later.
    Throttled,
    /// The service or the network failed before giving a verdict: a later try may succeed.
    Unavailable,
    /// This message or this reader was refused (suppression list, bad address, too large):
    /// sending it again is refused again.
    Rejected,
    /// The sender may not send (identity not verified, sending paused, no permission):
    /// an operator has to fix it; a retry does not.
    NotAllowed,
    /// The message could not be written where it goes (the local file mailer).
    Local,
}

impl MailError {
    pub fn new(recipient: impl Into<String>, kind: MailErrorKind, message: impl Into<String>) -> MailError {
        MailError { recipient: recipient.into(), kind, message: message.into(), source: None }
    }

    pub fn with_source(self, source: impl Into<BoxError>) -> MailError {
        MailError { source: Some(source.into()), ..self }
    }

    /// Whether sending the same message again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, MailErrorKind::Throttled | MailErrorKind::Unavailable)
    }
}

/// Sends one already-rendered MIME message to one reader.
pub trait Mailer: Send + Sync + 'static {
    fn send(&self, recipient: &str, mime: &[u8]) -> impl Future<Output = Result<String, MailError>> + Send;
    /// Checks that sending is possible (the sender identity is verified), sending nothing.
    fn check(&self) -> impl Future<Output = Result<(), MailError>> + Send {
        async { Ok(()) }
    }
    /// True when the mail service adds the unsubscribe headers and link itself (SES with a
    /// contact list): the message then carries none of its own.
    fn manages_unsubscribe(&self) -> bool {
        false
    }
}

/// Why the reader list could not be read or changed. The address, where there is one, is
/// the operator's own input (the CLI); the Lambda's errors never name a reader.
#[derive(Debug, thiserror::Error)]
pub enum ReadersError {
    #[error(transparent)]
    BadAddress(#[from] crate::domain::reader::BadAddress),
    /// This list cannot be changed here (the EMAIL_RECIPIENT override).
    #[error("{0}")]
    ReadOnly(String),
    /// `remove` of an address that is not on the list.
    #[error("{0} is not on the reader list")]
    NotListed(String),
    /// The file or service holding the list failed or answered something unreadable.
    #[error("{what}: {message}")]
    Backend {
        what: String,
        message: String,
        /// Worth another try (throttling, a timeout, no answer).
        retryable: bool,
    },
}

/// The list of readers: who is on it and whether they still want the report. The Lambda
/// reads it once per published run; the CLI's `subscribers` command also changes it. The
/// futures are boxed: one call per run or command, and no type parameter through the
/// coordinator, the publisher and every test's adapters.
pub trait Readers: Send + Sync + 'static {
    /// Every reader on the list, subscribed or not (the publisher mails only the
    /// subscribed).
    fn list(&self) -> BoxFuture<'_, Result<Vec<crate::domain::reader::Subscriber>, ReadersError>>;
    /// Adds `address`, subscribed (or subscribes it again).
    fn add<'a>(&'a self, address: &'a str) -> BoxFuture<'a, Result<(), ReadersError>>;
    /// Takes `address` off the list.
    fn remove<'a>(&'a self, address: &'a str) -> BoxFuture<'a, Result<(), ReadersError>>;
    /// Where the list lives, for messages ("SES contact list stockpicks-prod, topic ...").
    fn describe(&self) -> String;
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The event does not serialize: a bug, which no retry fixes.
    #[error("invoking the function: the event does not serialize: {0}")]
    Encode(#[source] serde_json::Error),
    /// Nothing to invoke yet (the in-process invoker before its handler is set).
    #[error("invoking the function: no handler set")]
    NoHandler,
    /// The service (or the way to it) failed; `retryable` says whether trying again may
    /// succeed (throttled, unavailable, a network error) or not (no such function, no
    /// permission, an event too large).
    #[error("invoking the function: {message}")]
    Service {
        message: String,
        retryable: bool,
        #[source]
        source: Option<BoxError>,
    },
}

impl InvokeError {
    /// Whether invoking again with the same event may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, InvokeError::Service { retryable: true, .. })
    }
}

/// Starts another invocation of this function with an event, without waiting for it
/// (Lambda's `InvocationType=Event`; in-process locally).
pub trait Invoker: Send + Sync + 'static {
    fn invoke_async(&self, event: serde_json::Value) -> impl Future<Output = Result<(), InvokeError>> + Send;
}

/// Wall-clock time, replaceable in tests.
pub trait Clock: Send + Sync + 'static {
    /// Seconds since the Unix epoch, UTC.
    fn now_unix(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
    }
}

/// A clock that always says the same time.
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now_unix(&self) -> i64 {
        self.0
    }
}

/// Operational metrics (CloudWatch EMF in Lambda; nothing locally). Only the metrics of
/// the contract can be emitted, each with its declared unit.
pub trait Metrics: Send + Sync {
    fn put(&self, metric: Metric, value: f64);
}

pub struct NoMetrics;

impl Metrics for NoMetrics {
    fn put(&self, _: Metric, _: f64) {}
}

/// Why a commentary call gave no content. Every text in it comes out cleaned (no control
/// characters, no secrets): the adapter cleans what the server sent before it builds one.
#[derive(Debug, thiserror::Error)]
pub enum CommentaryError {
    /// No commentary configured (no key): the rule-based reasons stand.
    #[error("{0}")]
    Off(String),
    #[error("the commentary server did not answer within {0} s")]
    Timeout(u64),
    /// No answer: connection refused or reset, DNS, TLS.
    #[error("commentary request failed: {detail}")]
    Transport {
        detail: String,
        #[source]
        source: BoxError,
    },
    /// Redirects are refused: one would hand the prompt and the key to another host.
    #[error("the commentary server answered with a redirect ({0}); redirects are not followed")]
    Redirect(String),
    /// An HTTP error status (`status` as `429 Too Many Requests`), with the start of the body.
    #[error("HTTP {status} from the commentary server: {snippet}")]
    Status { status: String, snippet: String },
    #[error("malformed reply: larger than {0} bytes")]
    TooLarge(usize),
    #[error("reply is not JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    #[error("reply has no choices[0].message.content")]
    NoContent,
    #[error("the model refused: {0}")]
    Refused(String),
    #[error("the reply was cut off at the token limit")]
    CutOff,
}

/// An LLM behind a chat-completions API. Boxed futures so the pipeline can hold any one
/// as `Arc<dyn Commentator>`.
pub trait Commentator: Send + Sync {
    /// Sends the prompt with its JSON schema; returns the reply's message content.
    fn complete<'a>(&'a self, prompt: &'a Prompt) -> Pin<Box<dyn Future<Output = Result<String, CommentaryError>> + Send + 'a>>;
    /// The model's name, for the report.
    fn model(&self) -> Option<String>;
}

/// Commentary switched off, with the reason the report gives.
pub struct NoCommentator(pub String);

impl Commentator for NoCommentator {
    fn complete<'a>(&'a self, _: &'a Prompt) -> Pin<Box<dyn Future<Output = Result<String, CommentaryError>> + Send + 'a>> {
        Box::pin(async move { Err(CommentaryError::Off(self.0.clone())) })
    }
    fn model(&self) -> Option<String> {
        None
    }
}

/// Progress of long work, for a terminal bar or a log line.
pub trait Progress: Send + Sync {
    fn advance(&self, done: usize, total: usize, symbol: &Symbol, ok: bool);
    fn finish(&self) {}
}

pub struct NoProgress;

impl Progress for NoProgress {
    fn advance(&self, _: usize, _: usize, _: &Symbol, _: bool) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttled_send_is_retryable_and_a_rejected_one_is_not() {
        let e = |kind| MailError::new("r@x.y", kind, "why");
        assert!(e(MailErrorKind::Throttled).is_retryable() && e(MailErrorKind::Unavailable).is_retryable());
        for kind in [MailErrorKind::Rejected, MailErrorKind::NotAllowed, MailErrorKind::Local] {
            assert!(!e(kind).is_retryable(), "{kind:?}");
        }
        // The text is the same as before the kinds existed; the cause stays reachable.
        let io = std::io::Error::other("disk full");
        let with = e(MailErrorKind::Local).with_source(io);
        assert_eq!(with.to_string(), "sending mail to r@x.y: why");
        assert_eq!(std::error::Error::source(&with).map(|s| s.to_string()).as_deref(), Some("disk full"));
    }

    #[test]
    fn only_a_retryable_service_failure_is_worth_invoking_again() {
        let service = |retryable| InvokeError::Service { message: "m".into(), retryable, source: None };
        assert!(service(true).is_retryable());
        assert!(!service(false).is_retryable());
        assert!(!InvokeError::NoHandler.is_retryable());
        let bad = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        assert!(!InvokeError::Encode(bad).is_retryable());
    }
}
