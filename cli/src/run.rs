//! `stockpicks run`: the weekly job on this machine. The market data (the real API with a
//! key, else the built-in simulator), the universe, the output directory and the locks are
//! chosen here; the run itself is the library's `run_once`.

use crate::subscribers::DEFAULT_SUBSCRIBERS;
use crate::{files::*, local_state::*, progress::*};
use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use stockpicks::adapters::file_mailer::FileMailer;
use stockpicks::adapters::local_store::DirStore;
use stockpicks::adapters::openai;
use stockpicks::adapters::readers::{FixedReaders, SubscriberFile};
use stockpicks::app::{reader_source, ReaderSource};
use stockpicks::config::{Config, REAL_HOST};
use stockpicks::domain::model::Model;
use stockpicks::domain::reader::to_mail;
use stockpicks::domain::symbol::parse_list;
use stockpicks::domain::time;
use stockpicks::domain::universe::Universe;
use stockpicks::pipeline::cache::OverviewCache;
use stockpicks::pipeline::insight::{History, Insight};
use stockpicks::pipeline::publish::Publication;
use stockpicks::pipeline::run::{run_once, RunPorts, RunRequest};
use stockpicks::ports::Readers;
use stockpicks::ports::{Clock, FixedClock, Progress, SystemClock};
use stockpicks::secret::Secret;

/// The reader of a local run with no reader named: `email.eml` shows the message it gets.
const PLACEHOLDER_READER: &str = "reader@example.invalid";
use stockpicks_sim::{self as sim, SimConfig};

/// Quota of the in-process simulator when no key is set: fast enough that the whole
/// S&P 500 takes a few seconds, and both sides pace at this same rate.
pub(crate) const LOCAL_SIM_RATE_PER_MIN: f64 = 12_000.0;

/// Exit codes: 0 a full run; 1 nothing could be ranked; 2 bad input or configuration (or
/// an error); 3 a run under the coverage gate (published, marked PARTIAL); 4 another run
/// holds the lock on the history or cache directory; 5 a message could not be delivered.
pub(crate) const EXIT_NOTHING_RANKED: u8 = 1;
pub(crate) const EXIT_PARTIAL: u8 = 3;
pub(crate) const EXIT_LOCKED: u8 = 4;
/// The report was published but a reader's message could not be written or sent.
pub(crate) const EXIT_MAIL_FAILED: u8 = 5;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Table,
    Json,
}

#[derive(clap::Args)]
pub(crate) struct RunArgs {
    /// Comma-separated tickers instead of the universe (index or Alpha Vantage form).
    #[arg(long, value_delimiter = ',', conflicts_with = "universe")]
    symbols: Option<Vec<String>>,
    /// A universe CSV (`Symbol,Security,GICS Sector,...` or our `symbol,company,sector,cik`).
    #[arg(long)]
    universe: Option<PathBuf>,
    /// How many picks to publish.
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u16).range(1..=500))]
    top: u16,
    /// Output directory (default ./out/<run_id>/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// A scoring model TOML replacing the built-in one.
    #[arg(long)]
    model: Option<PathBuf>,
    /// What to print on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// The reader file (`email,status` lines; see `stockpicks subscribers`): one message is
    /// written per subscribed reader. Default: out/subscribers.csv when it exists.
    /// EMAIL_RECIPIENT, when set, takes precedence.
    #[arg(long)]
    subscribers: Option<PathBuf>,
    /// Where run records are kept for week-over-week changes and the track record.
    #[arg(long, default_value = "out/history")]
    history: PathBuf,
    /// Built-in simulator only: run as of this date (YYYY-MM-DD, 13:00 UTC): the simulated
    /// market and the run's clock both stand there. For demos and replaying weeks.
    #[arg(long)]
    sim_date: Option<String>,
    /// The OVERVIEW cache: entries are reused until the company reports (per the earnings
    /// calendar) or CACHE_MAX_AGE_DAYS pass.
    #[arg(long, default_value = "out/cache")]
    cache: PathBuf,
    /// Fetch everything afresh and write no cache.
    #[arg(long, conflicts_with = "cache")]
    no_cache: bool,
    /// Keep no history: no comparison with earlier runs, and this run is not remembered.
    #[arg(long, conflicts_with = "history")]
    no_history: bool,
}

pub(crate) async fn run(args: RunArgs) -> Result<std::process::ExitCode> {
    let cfg = Config::from_env()?;
    // The readers are read now, before an hour of fetching: a bad reader file stops the
    // run here, with its line named, not after the report is built.
    let readers = local_readers(&cfg, args.subscribers.clone()).await?;
    let model = match &args.model {
        Some(p) => Model::from_toml(&read_bounded(p, MAX_MODEL_FILE, "model file ")?).with_context(|| format!("in {}", p.display()))?,
        None => Model::default_model(),
    };

    // The universe, then any --symbols override; problems are reported by name and kept.
    let mut warnings = Vec::new();
    let base = match &args.universe {
        Some(p) => {
            let text = read_bounded(p, MAX_UNIVERSE_FILE, "universe file ")?;
            let (u, issues) = Universe::from_csv(&text).with_context(|| format!("in {}", p.display()))?;
            warnings.extend(issues.lines());
            u
        }
        None => Universe::sp500(),
    };
    let universe = match &args.symbols {
        Some(list) => {
            let (good, bad) = parse_list(list.iter().map(String::as_str));
            warnings.extend(bad.iter().map(|e| format!("{e}; not sent to the API")));
            if good.is_empty() {
                bail!("--symbols: no valid ticker given ({})", bad.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "));
            }
            base.select(&good)
        }
        None => base,
    };
    let warnings = cap_warnings(warnings, MAX_WARNINGS);
    for w in &warnings {
        eprintln!("warning: {w}");
    }

    let sim_day = match &args.sim_date {
        Some(d) if cfg.alpha_vantage.api_key.is_some() || cfg.alpha_vantage.base_url.is_some() => {
            bail!("--sim-date {d}: only for the built-in simulator (unset ALPHA_VANTAGE_API_KEY and ALPHA_VANTAGE_BASE_URL)")
        }
        Some(d) => Some(time::parse_date_days(d).with_context(|| format!("--sim-date {d}: not a calendar date (expected YYYY-MM-DD)"))?),
        None => None,
    };
    // Market data: the real API with a key; otherwise the simulator, loudly.
    let (api_key, base_url, rate, _sim) = match (&cfg.alpha_vantage.api_key, &cfg.alpha_vantage.base_url) {
        (Some(key), url) => (key.clone(), url.clone().unwrap_or_else(|| REAL_HOST.to_string()), cfg.alpha_vantage.rate_per_min, None),
        (None, Some(url)) => {
            eprintln!("note: no ALPHA_VANTAGE_API_KEY; using ALPHA_VANTAGE_BASE_URL={url} with a placeholder key");
            (Secret::placeholder("nokey"), url.clone(), cfg.alpha_vantage.rate_per_min, None)
        }
        (None, None) => {
            let rate = if cfg.alpha_vantage.rate_is_explicit { cfg.alpha_vantage.rate_per_min } else { LOCAL_SIM_RATE_PER_MIN };
            let running = sim::start(SimConfig { rate_per_min: rate, day: sim_day, ..SimConfig::default() }, 0)
                .await
                .context("starting the built-in simulator")?;
            eprintln!("*** No ALPHA_VANTAGE_API_KEY set: using the built-in simulator at {} ({rate} requests/min).", running.base_url());
            eprintln!("*** SYNTHETIC DATA: every figure is invented; the outputs are marked so.");
            (Secret::placeholder("simulator"), running.base_url(), rate, Some(running))
        }
    };
    let market =
        Arc::new(stockpicks::app::alpha_vantage(&cfg.alpha_vantage, &base_url, api_key, rate).context("the Alpha Vantage client")?);

    let clock = match sim_day {
        Some(day) => FixedClock(day * 86_400 + 13 * 3600),
        None => FixedClock(SystemClock.now_unix()),
    };
    let run_id = time::run_id(clock.now_unix(), fastrand::u32(..));
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("out").join(&run_id));
    // The shared state first: one run at a time per history and cache directory.
    let mut locks = Vec::new();
    for (dir, used) in [(&args.history, !args.no_history), (&args.cache, !args.no_cache)] {
        if !used {
            continue;
        }
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        match lock_dir(dir)? {
            Ok(l) => locks.push(l),
            Err(why) => {
                eprintln!("error: {why}");
                return Ok(std::process::ExitCode::from(EXIT_LOCKED));
            }
        }
    }
    let staging = Staging::new(&out)?;
    let store = DirStore::new(&staging.dir);
    let mailer = FileMailer::new(&staging.dir);

    let n = universe.len();
    eprintln!(
        "Scoring {n} symbols: {} calls/symbol at {rate}/min, {} workers, quota bound {:.1} s",
        cfg.alpha_vantage.price_source.calls_per_symbol(),
        cfg.alpha_vantage.max_workers,
        (n * cfg.alpha_vantage.price_source.calls_per_symbol()) as f64 * 60.0 / rate
    );
    let req = RunRequest {
        run_id: run_id.clone(),
        universe,
        model,
        top: args.top as usize,
        workers: cfg.alpha_vantage.max_workers,
        price_source: cfg.alpha_vantage.price_source,
        min_run_coverage: cfg.run.min_run_coverage,
        prefix: String::new(),
        mail: cfg.mail.clone(),
        warnings,
    };
    let openai_key = cfg.openai.api_key.clone().ok_or_else(|| "no OPENAI_API_KEY set".into());
    let commentator = openai::commentator(&cfg.openai, openai_key).context("the OpenAI client")?;
    let history = if args.no_history {
        None
    } else {
        std::fs::create_dir_all(&args.history).with_context(|| format!("creating history directory {}", args.history.display()))?;
        Some(History { store: Arc::new(DirStore::new(&args.history)), prefix: String::new() })
    };
    let insight = Insight { history, commentator };
    let cache = if args.no_cache {
        None
    } else {
        std::fs::create_dir_all(&args.cache).with_context(|| format!("creating cache directory {}", args.cache.display()))?;
        Some(OverviewCache { store: Arc::new(DirStore::new(&args.cache)), prefix: String::new(), max_age_days: cfg.cache.max_age_days })
    };
    let progress: Arc<dyn Progress> = Arc::new(TermProgress::new());
    let ports = RunPorts {
        market: market.clone(),
        store: &store,
        insight: &insight,
        cache: cache.as_ref(),
        mailer: &mailer,
        readers: readers.as_ref(),
        clock: &clock,
        progress,
    };
    let outcome = run_once(ports, req).await?;
    staging.publish()?;
    drop(locks);
    let r = &outcome.report;

    match args.format {
        Format::Json => {
            let mut stdout = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut stdout, r)?;
            writeln!(stdout)?;
        }
        Format::Table => {
            println!("{}", r.headline());
            if r.data_source.is_synthetic() {
                println!("SYNTHETIC DATA from the built-in simulator: not real companies' figures.");
            }
            print!("{}", stockpicks::render::text::table(r));
        }
    }
    for line in stockpicks::render::summary::lines(r) {
        eprintln!("{line}");
    }
    if market.daily_quota_exhausted() {
        eprintln!("The API key's daily quota ran out during the run: the report is marked PARTIAL.");
    }
    if let Some(n) = market.api_down() {
        eprintln!("Alpha Vantage stopped answering ({n} connection failures in a row): the remaining symbols were not asked for.");
    }
    eprintln!("Wrote {}/{{results.json,top25.csv,report.html,email.eml}}", out.display());
    for why in &outcome.delivery.failed {
        eprintln!("error: a message was not delivered: {why}");
    }
    let (code, why) = exit_status(&outcome);
    if let Some(why) = why {
        eprintln!("Exit code {code}: {why}");
    }
    Ok(std::process::ExitCode::from(code))
}

/// The readers of a local run: EMAIL_RECIPIENT, else the reader file (`--subscribers`, or
/// out/subscribers.csv when it exists), else one placeholder reader, so that `email.eml`
/// shows the message. The SES contact list is the Lambda's: a local run writes files.
async fn local_readers(cfg: &Config, file: Option<PathBuf>) -> Result<Box<dyn Readers>> {
    if let Some(f) = &file {
        if !f.exists() {
            bail!(
                "--subscribers {}: no such file (`stockpicks subscribers add ADDRESS --subscribers {}` creates it)",
                f.display(),
                f.display()
            );
        }
    }
    let file = file.or_else(|| Some(PathBuf::from(DEFAULT_SUBSCRIBERS)).filter(|p| p.exists()));
    let readers: Box<dyn Readers> = match reader_source(&cfg.mail, file) {
        ReaderSource::Named(named) if !named.is_empty() => Box::new(FixedReaders(named)),
        ReaderSource::File(path) => Box::new(SubscriberFile::new(path)),
        ReaderSource::ContactList(list) => {
            eprintln!(
                "note: SES_CONTACT_LIST={} is the Lambda's reader list; this local run writes one message for a placeholder reader \
                 (set EMAIL_RECIPIENT or use {DEFAULT_SUBSCRIBERS} to preview the readers' messages)",
                list.name
            );
            Box::new(FixedReaders(vec![PLACEHOLDER_READER.into()]))
        }
        ReaderSource::Named(_) => Box::new(FixedReaders(vec![PLACEHOLDER_READER.into()])),
    };
    let subscribed = to_mail(readers.list().await?).len();
    if subscribed == 0 {
        eprintln!("note: no subscribed reader in {}: the report is written, no message", readers.describe());
    }
    Ok(readers)
}

/// The exit code of a finished run, and what to say about it: nothing ranked beats a failed
/// delivery, which beats a run under the coverage gate.
pub(crate) fn exit_status(p: &Publication) -> (u8, Option<String>) {
    let (r, d) = (&p.report, &p.delivery);
    if r.ranking.is_empty() {
        (EXIT_NOTHING_RANKED, None)
    } else if !d.all_sent() {
        (EXIT_MAIL_FAILED, Some(format!("{} of {} messages not delivered.", d.failed.len(), d.failed.len() + d.sent.len())))
    } else if r.partial.is_some() {
        (EXIT_PARTIAL, Some("the run is under the coverage gate (MIN_RUN_COVERAGE) and marked PARTIAL.".into()))
    } else {
        (0, None)
    }
}
