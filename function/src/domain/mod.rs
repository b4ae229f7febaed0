//! Pure values and rules: symbols, the universe, fundamentals, factors, the scoring model,
//! ranking, the plan and the report model. No async, no I/O, no SDK types.

pub mod cache;
pub mod commentary;
pub mod events;
pub mod factors;
pub mod fundamentals;
pub mod history;
pub mod model;
pub mod named;
pub mod outcome;
pub mod plan;
pub mod reader;
pub mod report;
pub mod scoring;
pub mod sectors;
pub mod source;
pub mod state;
pub mod symbol;
#[cfg(test)]
pub(crate) mod testdata;
pub mod time;
pub mod universe;

pub use symbol::Symbol;
