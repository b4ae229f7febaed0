//! The helpers of the function's integration tests (one file, shared), plus the ones that
//! run this package's binary.

#[path = "../../../function/tests/it/helpers.rs"]
mod shared;
pub use shared::*;

/// Runs the `stockpicks` binary with a clean environment plus `env`, in a fresh working
/// directory (so its default `out/` and history stay out of the repository).
pub fn stockpicks(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    stockpicks_in(&tempdir("cwd"), args, env)
}

/// Runs the `stockpicks` binary in `cwd`. A `run` on the built-in simulator (no API key, no
/// base URL) runs as of [`TEST_DATE`] unless the test names its own `--sim-date`: without it
/// the simulator and the run's clock would take today's date.
pub fn stockpicks_in(cwd: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_stockpicks"));
    cmd.current_dir(cwd).args(args).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    let built_in_sim = !env.iter().any(|(k, _)| matches!(*k, "ALPHA_VANTAGE_API_KEY" | "ALPHA_VANTAGE_BASE_URL"));
    if args.first() == Some(&"run") && built_in_sim && !args.contains(&"--sim-date") {
        cmd.args(["--sim-date", TEST_DATE]);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run stockpicks")
}
