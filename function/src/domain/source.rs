//! Where a run's data came from. Its own module because both the report and the run
//! history carry it, and the history must not depend on the report.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataSource {
    /// The real Alpha Vantage API.
    Alphavantage,
    /// Synthetic companies from the built-in simulator.
    Simulator,
    /// Recorded replies served by the simulator from a fixtures directory.
    Fixtures,
}

impl DataSource {
    pub fn is_synthetic(self) -> bool {
        self != DataSource::Alphavantage
    }

    /// The source of data gathered from several parts (a run's chunks): the simulator if
    /// any part was simulated, else fixtures if any part was recorded, else the real API.
    pub fn least_real(parts: impl IntoIterator<Item = DataSource>) -> DataSource {
        parts.into_iter().fold(DataSource::Alphavantage, |acc, s| match (acc, s) {
            (DataSource::Simulator, _) | (_, DataSource::Simulator) => DataSource::Simulator,
            (DataSource::Fixtures, _) | (_, DataSource::Fixtures) => DataSource::Fixtures,
            _ => DataSource::Alphavantage,
        })
    }
}
