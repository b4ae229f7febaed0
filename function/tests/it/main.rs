//! Integration tests: one binary, shared helpers, real components (the simulator over
//! HTTP on loopback, real directories, the real CLI binary).

mod helpers;

mod cache;
mod cli;
mod coordinator;
mod hostile;
mod hostile_props;
mod insight;
mod pipeline;
mod recorded_data;
