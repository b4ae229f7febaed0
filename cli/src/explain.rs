//! `stockpicks explain`: why a stock got its rank, from a run's results.json.

use crate::files::*;
use anyhow::{Context, Result};
use std::path::PathBuf;
use stockpicks::domain::symbol::Symbol;
use stockpicks::domain::time;

pub(crate) fn explain(symbol: &str, run: Option<PathBuf>) -> Result<()> {
    let symbol = Symbol::parse(symbol).with_context(|| format!("explain {symbol}"))?;
    let dir = match run {
        Some(d) => d,
        None => newest_run(std::path::Path::new("out"))?,
    };
    let path = dir.join("results.json");
    let text = read_bounded(&path, MAX_RESULTS_FILE, "")?;
    let report: stockpicks::domain::report::RunReport =
        serde_json::from_str(&text).with_context(|| format!("{} is not a stockpicks results.json", path.display()))?;
    // The file may come from anywhere: what reaches the terminal is cleaned.
    let shown =
        stockpicks::render::text::explain(&report, &symbol).map_err(|e| anyhow::anyhow!(stockpicks::sanitize::clean(&e.to_string())))?;
    print!("{}", stockpicks::sanitize::clean_multiline(&shown));
    Ok(())
}

/// The newest run under `root`: by the run's own `generated_at`, then by when its
/// results.json was written (two runs in one second, or replays of one --sim-date). Run
/// directories being written (`.name.partial-*`) are skipped.
pub(crate) fn newest_run(root: &std::path::Path) -> Result<PathBuf> {
    let mut runs: Vec<(String, std::time::SystemTime, PathBuf)> = std::fs::read_dir(root)
        .with_context(|| format!("no runs under {} (run `stockpicks run` first, or pass --run DIR)", root.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .filter_map(|p| {
            let results = p.join("results.json");
            let written = std::fs::metadata(&results).ok().filter(|m| m.is_file())?.modified().ok()?;
            Some((generated_at(&results).unwrap_or_default(), written, p))
        })
        .collect();
    runs.sort();
    runs.pop().map(|(_, _, p)| p).with_context(|| format!("no run with results.json under {} (pass --run DIR)", root.display()))
}

/// The `generated_at` of a results.json, read from its first few kilobytes (it is the
/// second field written).
pub(crate) fn generated_at(results: &std::path::Path) -> Option<String> {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(results).ok()?.take(4096).read_to_end(&mut head).ok()?;
    let head = String::from_utf8_lossy(&head);
    let key = "\"generated_at\":";
    let rest = head[head.find(key)? + key.len()..].trim_start().strip_prefix('"')?;
    let value = &rest[..rest.find('"')?];
    time::parse_date_days(value).map(|_| value.to_string())
}
