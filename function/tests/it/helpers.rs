//! Shared helpers: a simulator on loopback, a client pointed at it, temporary directories,
//! and the recorded Alpha Vantage data beside the repository (tests skip cleanly without it).
// Shared with cli/tests (included there by path): each test crate uses a part of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use stockpicks::adapters::alphavantage::{AlphaVantage, ClientConfig};
use stockpicks::secret::Secret;
use stockpicks_sim::{self as sim, SimConfig};

pub fn shared_data() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipped: ../shared/data is not present");
        None
    }
}

pub fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("stockpicks-it-{name}-{}-{:08x}", std::process::id(), fastrand::u32(..)));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The moment every test runs at: 2026-11-28T11:05:09Z. Nothing a test checks may depend on
/// the machine's clock (the simulator's companies move with the date), so every simulator and
/// every clock in these tests is set from this, never from today.
pub const TEST_NOW: i64 = 1_795_863_909;

/// The simulated day of [`TEST_NOW`] (days since 1970-01-01).
pub const TEST_DAY: i64 = TEST_NOW.div_euclid(86_400);

/// [`TEST_DAY`] as `--sim-date` / `--date` take it.
pub const TEST_DATE: &str = "2026-11-28";

/// A fast simulator (high quota, no latency) as of [`TEST_DAY`].
pub fn fast_sim() -> SimConfig {
    SimConfig { rate_per_min: 60_000.0, day: Some(TEST_DAY), ..SimConfig::default() }
}

/// A client for `sim`, with short timeouts and backoff so fault tests stay quick.
pub fn client_for(sim: &sim::Running, key: &str, rate_per_min: f64) -> Arc<AlphaVantage> {
    let mut cfg = ClientConfig::new(&sim.base_url(), Secret::new(key), rate_per_min);
    cfg.timeout = Duration::from_millis(400);
    cfg.backoff_base = Duration::from_millis(20);
    cfg.retry_budget = Duration::from_secs(5);
    Arc::new(AlphaVantage::new(cfg).unwrap())
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
