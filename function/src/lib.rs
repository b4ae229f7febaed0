//! stockpicks: score every S&P 500 company from Alpha Vantage fundamentals and publish the
//! weekly top picks with the reasons for each.
//!
//! Layers (what may call what): `domain` is pure; `pipeline` holds the use cases, written
//! against the traits in `ports`; `adapters` implement those traits at the edge; `render`
//! turns the report model into HTML, text, CSV and MIME; `sim` is the Alpha Vantage
//! simulator; the binaries in `bin/` only wire these together.

pub mod adapters;
pub mod alloc;
pub mod app;
pub mod config;
pub mod contract;
pub mod domain;
pub mod pipeline;
pub mod ports;
pub mod render;
pub mod sanitize;
pub mod secret;
