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
