//! Shared helpers: a simulator on loopback, a client pointed at it, temporary directories,
//! and the recorded Alpha Vantage data beside the repository (tests skip cleanly without it).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use stockpicks::adapters::alphavantage::{AlphaVantage, ClientConfig};
use stockpicks::config::Secret;
use stockpicks::sim::{self, SimConfig};

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

/// A fast simulator: high quota, no latency.
pub fn fast_sim() -> SimConfig {
    SimConfig { rate_per_min: 60_000.0, ..SimConfig::default() }
}

/// A client for `sim`, with short timeouts and backoff so fault tests stay quick.
pub fn client_for(sim: &sim::Running, key: &str, rate_per_min: f64) -> Arc<AlphaVantage> {
    let mut cfg = ClientConfig::new(&sim.base_url(), Secret::new(key), rate_per_min);
    cfg.timeout = Duration::from_millis(400);
    cfg.backoff_base = Duration::from_millis(20);
    cfg.retry_budget = Duration::from_secs(5);
    Arc::new(AlphaVantage::new(cfg).unwrap())
}

/// Runs the `stockpicks` binary with a clean environment plus `env`, in a fresh working
/// directory (so its default `out/` and history stay out of the repository).
pub fn stockpicks(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    stockpicks_in(&tempdir("cwd"), args, env)
}

/// Runs the `stockpicks` binary in `cwd`.
pub fn stockpicks_in(cwd: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_stockpicks"));
    cmd.current_dir(cwd).args(args).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run stockpicks")
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
