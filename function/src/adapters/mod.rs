//! Adapters: the ports implemented against real things (HTTP APIs, directories, files).

pub mod alphavantage;
#[cfg(feature = "aws")]
pub mod aws;
pub mod emf;
pub mod file_mailer;
pub mod inprocess;
pub mod local_store;
pub mod openai;
pub mod ratelimit;
pub mod readers;

/// An HTTP client (Alpha Vantage, OpenAI) could not be built: no TLS roots, or a bad
/// proxy setting in the environment. Nothing a retry fixes. The text leaves the cause to
/// the source, since this error reaches only the binaries, which print the whole chain.
#[derive(Debug, thiserror::Error)]
#[error("building the HTTP client")]
pub struct HttpClientError(#[source] pub reqwest::Error);
