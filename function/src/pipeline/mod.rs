//! Use cases, written against the ports only: fetch a universe, build and publish a report.
//! The local CLI and the Lambda run the same functions with different adapters.

pub mod cache;
pub mod coordinator;
pub mod fetch;
pub mod insight;
pub mod publish;
pub mod run;
