//! Adapters: the ports implemented against real things (HTTP APIs, directories, files).

pub mod alphavantage;
pub mod ratelimit;
