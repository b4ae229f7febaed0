//! `stockpicks sim`: the Alpha Vantage simulator on 127.0.0.1.

use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;
use stockpicks::domain::symbol::Symbol;
use stockpicks::domain::time;
use stockpicks::ports::{Clock, SystemClock};
use stockpicks_sim::{self as sim, Fault, SimConfig};

#[derive(clap::Args)]
pub(crate) struct SimArgs {
    #[arg(long, default_value_t = 8089)]
    port: u16,
    /// Requests per minute before throttle replies.
    #[arg(long, default_value_t = 75.0)]
    rate_per_min: f64,
    /// Requests the rate bucket holds (default: a tenth of a second's worth, at least 2).
    #[arg(long)]
    burst: Option<f64>,
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Share of requests (0-1) answered with a random fault from --faults.
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    /// Fault kinds for --fault-rate: http500,http503,slow,hang,malformed,empty,error,premium,throttle,daily.
    #[arg(long, value_delimiter = ',')]
    faults: Option<Vec<String>>,
    /// A fault for one symbol every time, as SYMBOL=kind (repeatable).
    #[arg(long = "fault")]
    symbol_faults: Vec<String>,
    /// Serve recorded replies from DIR/overview/SYM.json (and DIR/global_quote/SYM.json).
    #[arg(long)]
    fixtures: Option<PathBuf>,
    #[arg(long, default_value = "42")]
    seed: String,
    /// Requests served before the daily-quota reply.
    #[arg(long)]
    daily_limit: Option<u64>,
    /// Entitle the key to REALTIME_BULK_QUOTES.
    #[arg(long)]
    premium: bool,
    /// Simulated date, YYYY-MM-DD (default today).
    #[arg(long)]
    date: Option<String>,
    /// Share of companies (0-1) that reported in the week ending --reporting-week-ending:
    /// 0.05 is a quiet week, 0.35 earnings season. Default: each company's own schedule.
    #[arg(long)]
    reporting_share: Option<f64>,
    /// The week --reporting-share applies to ends on this date (default: --date, or today).
    #[arg(long, requires = "reporting_share")]
    reporting_week_ending: Option<String>,
}

pub(crate) async fn serve_sim(a: SimArgs) -> Result<()> {
    if a.rate_per_min.is_nan() || a.rate_per_min <= 0.0 {
        bail!("--rate-per-min must be positive");
    }
    if !(0.0..=1.0).contains(&a.fault_rate) {
        bail!("--fault-rate must be between 0 and 1");
    }
    let mut cfg = SimConfig {
        rate_per_min: a.rate_per_min,
        burst: a.burst,
        latency: Duration::from_millis(a.latency_ms),
        fault_rate: a.fault_rate,
        fixtures: a.fixtures.clone(),
        seed: sim::seed_from(&a.seed),
        daily_limit: a.daily_limit,
        premium: a.premium,
        ..SimConfig::default()
    };
    if let Some(kinds) = &a.faults {
        cfg.faults = kinds.iter().map(|k| Fault::parse(k)).collect::<Result<_, _>>()?;
    }
    for spec in &a.symbol_faults {
        let (sym, kind) = spec.split_once('=').with_context(|| format!("--fault {spec}: expected SYMBOL=kind or FUNCTION=kind"))?;
        // A whole function (EARNINGS_CALENDAR=hang) or one symbol.
        let key = if sim::FUNCTIONS.contains(&sym) {
            sym.to_string()
        } else {
            Symbol::parse(sym).with_context(|| format!("--fault {spec}"))?.to_string()
        };
        cfg.symbol_faults.insert(key, Fault::parse(kind).with_context(|| format!("--fault {spec}"))?);
    }
    if let Some(d) = &a.date {
        cfg.day = Some(time::parse_date_days(d).with_context(|| format!("--date {d}: not a calendar date (expected YYYY-MM-DD)"))?);
    }
    if let Some(share) = a.reporting_share {
        if !(0.0..=1.0).contains(&share) {
            bail!("--reporting-share must be between 0 and 1");
        }
        let week_ending = match &a.reporting_week_ending {
            Some(d) => time::parse_date_days(d)
                .with_context(|| format!("--reporting-week-ending {d}: not a calendar date (expected YYYY-MM-DD)"))?,
            None => cfg.day.unwrap_or_else(|| SystemClock.now_unix().div_euclid(86_400)),
        };
        cfg.reporting = Some(sim::synth::Reporting { share, week_ending });
    }
    if let Some(dir) = &a.fixtures {
        if !dir.is_dir() {
            bail!("--fixtures {}: not a directory", dir.display());
        }
    }
    let running = sim::start(cfg, a.port).await.with_context(|| format!("binding 127.0.0.1:{}", a.port))?;
    println!("stockpicks simulator listening on {} (rate {}/min); Ctrl-C stops it", running.base_url(), a.rate_per_min);
    std::io::stdout().flush()?;
    tokio::signal::ctrl_c().await?;
    let s = running.sim.stats();
    eprintln!("served {} of {} requests ({} throttled, {} faults)", s.served, s.requests, s.throttled, s.faults);
    Ok(())
}
