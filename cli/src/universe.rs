//! `stockpicks universe`: the built-in list, and its refresh from the public constituents list.

use crate::files::*;
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use std::path::PathBuf;
use std::time::Duration;
use stockpicks::domain::symbol::Symbol;
use stockpicks::domain::universe::Universe;

/// The public S&P 500 constituents list (datasets/s-and-p-500-companies).
pub(crate) const CONSTITUENTS_URL: &str = "https://raw.githubusercontent.com/datasets/s-and-p-500-companies/main/data/constituents.csv";

#[derive(Subcommand)]
pub(crate) enum UniverseCommand {
    /// Read the public constituents CSV, check it, show who joined and left, and write our list.
    Refresh {
        /// URL or file of the public constituents CSV.
        #[arg(long, default_value = CONSTITUENTS_URL)]
        from: String,
        #[arg(long, default_value = "sp500.csv")]
        out: PathBuf,
    },
    /// Print the built-in list.
    Show,
}

pub(crate) async fn refresh(from: &str, out: &PathBuf) -> Result<()> {
    let text = if from.starts_with("http://") || from.starts_with("https://") {
        let resp = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?
            .get(from)
            .send()
            .await
            .with_context(|| format!("fetching {from}"))?;
        if !resp.status().is_success() {
            bail!("fetching {from}: HTTP {}", resp.status());
        }
        let body = stockpicks::adapters::alphavantage::read_capped(resp, MAX_UNIVERSE_FILE as usize).await.map_err(|e| match e {
            stockpicks::adapters::alphavantage::CappedError::TooLarge => {
                anyhow::anyhow!("{from}: larger than {MAX_UNIVERSE_FILE} bytes; refused")
            }
            stockpicks::adapters::alphavantage::CappedError::Http(e) => anyhow::anyhow!("fetching {from}: {e}"),
        })?;
        String::from_utf8(body).map_err(|_| anyhow::anyhow!("{from}: not UTF-8 text"))?
    } else {
        read_bounded(std::path::Path::new(from), MAX_UNIVERSE_FILE, "")?
    };
    let (new, issues) = Universe::from_csv(&text)?;
    for line in issues.lines() {
        eprintln!("warning: {line}");
    }
    if !(480..=520).contains(&new.len()) {
        bail!("{from} has {} usable rows; an S&P 500 list has 480-520, so it was not written", new.len());
    }
    let (joined, left) = Universe::sp500().diff(&new);
    let names =
        |v: &[Symbol]| if v.is_empty() { "none".to_string() } else { v.iter().map(|s| s.index_form()).collect::<Vec<_>>().join(", ") };
    println!("{} members; joined: {}; left: {}", new.len(), names(&joined), names(&left));
    std::fs::write(out, new.to_csv()).with_context(|| format!("writing {}", out.display()))?;
    println!("wrote {}", out.display());
    Ok(())
}
