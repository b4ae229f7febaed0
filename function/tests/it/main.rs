//! Integration tests: one binary, shared helpers, real components (the simulator over
//! HTTP on loopback, real directories); the CLI binary's tests are in cli/tests.

mod helpers;

mod cache;
#[cfg(feature = "aws")]
mod contacts;
mod coordinator;
mod hostile_props;
mod insight;
mod pipeline;
mod recorded_data;
