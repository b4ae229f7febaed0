//! `stockpicks`: the command-line tool. Wiring only: read configuration once, build the
//! adapters, hand them to the pipeline, and show the result.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stockpicks::adapters::alphavantage::{AlphaVantage, ClientConfig};
use stockpicks::adapters::file_mailer::FileMailer;
use stockpicks::adapters::local_store::DirStore;
use stockpicks::adapters::openai;
use stockpicks::config::{Config, REAL_HOST};
use stockpicks::domain::model::Model;
use stockpicks::domain::symbol::{parse_list, Symbol};
use stockpicks::domain::time;
use stockpicks::domain::universe::Universe;
use stockpicks::pipeline::cache::OverviewCache;
use stockpicks::pipeline::insight::{History, Insight};
use stockpicks::pipeline::publish::MailSettings;
use stockpicks::pipeline::run::{run_once, RunPorts, RunRequest};
use stockpicks::ports::{Clock, FixedClock, Progress, SystemClock};
use stockpicks::secret::Secret;
use stockpicks_sim::{self as sim, Fault, SimConfig};

/// mimalloc: ranking is allocation-heavy, and glibc malloc made it ~1.6x slower.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The public S&P 500 constituents list (datasets/s-and-p-500-companies).
const CONSTITUENTS_URL: &str = "https://raw.githubusercontent.com/datasets/s-and-p-500-companies/main/data/constituents.csv";

/// Quota of the in-process simulator when no key is set: fast enough that the whole
/// S&P 500 takes a few seconds, and both sides pace at this same rate.
const LOCAL_SIM_RATE_PER_MIN: f64 = 12_000.0;

/// Largest `--model` file read.
const MAX_MODEL_FILE: u64 = 1 << 20;
/// Largest `--universe` file (or `universe refresh --from` reply) read: 100,000 rows fit.
const MAX_UNIVERSE_FILE: u64 = 16 << 20;
/// Largest results.json `explain` reads (about 1.5 KB per ranked stock).
const MAX_RESULTS_FILE: u64 = 256 << 20;
/// Warnings printed and kept in the report before the rest are summarised.
const MAX_WARNINGS: usize = 200;

/// Exit codes: 0 a full run; 1 nothing could be ranked; 2 bad input or configuration (or
/// an error); 3 a run under the coverage gate (published, marked PARTIAL); 4 another run
/// holds the lock on the history or cache directory; 5 a message could not be delivered.
const EXIT_NOTHING_RANKED: u8 = 1;
const EXIT_PARTIAL: u8 = 3;
const EXIT_LOCKED: u8 = 4;
/// The report was published but a reader's message could not be written or sent.
const EXIT_MAIL_FAILED: u8 = 5;

#[derive(Parser)]
#[command(name = "stockpicks", version, about = "Score the S&P 500 from Alpha Vantage fundamentals and publish the weekly top picks")]
struct Cli {
    /// More log output (repeat for more); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fetch, score and rank the universe; write results.json, top25.csv, report.html and email.eml.
    Run(RunArgs),
    /// Serve the Alpha Vantage simulator on 127.0.0.1.
    Sim(SimArgs),
    /// Work with the universe list.
    Universe {
        #[command(subcommand)]
        command: UniverseCommand,
    },
    /// Why a stock got its rank: each factor's value, percentile, weight and contribution.
    Explain {
        /// Ticker (index or Alpha Vantage form).
        symbol: String,
        /// A run's output directory (with results.json); default: the newest under ./out/.
        #[arg(long)]
        run: Option<PathBuf>,
    },
    /// Print a Lambda test payload of N S&P 500 symbols.
    Payload {
        #[arg(long)]
        size: usize,
        #[arg(long, default_value = "42")]
        seed: String,
        /// Payload form: the old test form, or the `op` contract.
        #[arg(long, value_enum, default_value_t = PayloadForm::Test)]
        form: PayloadForm,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum PayloadForm {
    Test,
    Op,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Table,
    Json,
}

#[derive(clap::Args)]
struct RunArgs {
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

#[derive(clap::Args)]
struct SimArgs {
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

#[derive(Subcommand)]
enum UniverseCommand {
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

fn main() -> std::process::ExitCode {
    stockpicks::alloc::purge_freed_memory_promptly();
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    match rt.block_on(dispatch(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(use_colour(std::io::stderr().is_terminal(), std::env::var_os("NO_COLOR")))
        .init();
}

/// Colour codes only on a terminal, and never when `NO_COLOR` is set to anything non-empty.
fn use_colour(terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Reads a text file of at most `limit` bytes; `what` ("model file ", or "") names it in
/// errors.
fn read_bounded(path: &std::path::Path, limit: u64, what: &str) -> Result<String> {
    use std::io::Read;
    let f = std::fs::File::open(path).with_context(|| format!("reading {what}{}", path.display()))?;
    let mut buf = Vec::new();
    f.take(limit + 1).read_to_end(&mut buf).with_context(|| format!("reading {what}{}", path.display()))?;
    if buf.len() as u64 > limit {
        bail!("{what}{} is larger than {limit} bytes; refused", path.display());
    }
    String::from_utf8(buf).map_err(|_| anyhow::anyhow!("{what}{} is not UTF-8 text", path.display()))
}

/// At most `max` warnings, the rest counted in one line.
fn cap_warnings(mut w: Vec<String>, max: usize) -> Vec<String> {
    if w.len() > max {
        let more = w.len() - max;
        w.truncate(max);
        w.push(format!("... and {more} more warnings like these, not listed"));
    }
    w
}

/// An exclusive lock on a state directory (history or cache) for the life of the run:
/// `flock` on `.NAME.lock` beside the directory (`out/.history.lock`), released by the
/// kernel when the process ends, even when it is killed.
struct DirLock {
    _file: std::fs::File,
}

fn lock_dir(dir: &std::path::Path) -> Result<std::result::Result<DirLock, String>> {
    use std::io::{Read, Seek};
    use std::os::fd::AsRawFd;
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "state".into());
    let path = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join(format!(".{name}.lock")),
        _ => PathBuf::from(format!(".{name}.lock")),
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("opening lock file {}", path.display()))?;
    // SAFETY: flock on a file descriptor this function owns; no memory is shared.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        let holder = holder.trim().chars().filter(|c| c.is_ascii_digit()).take(10).collect::<String>();
        let who = if holder.is_empty() { String::new() } else { format!(" (pid {holder})") };
        return Ok(Err(format!(
            "another stockpicks run{who} holds {}: wait for it to finish (two runs would both spend the API quota and both land in history)",
            path.display()
        )));
    }
    file.set_len(0)?;
    file.rewind()?;
    writeln!(file, "{}", std::process::id())?;
    Ok(Ok(DirLock { _file: file }))
}

/// Where a run's files are written before they are moved into `--out` in one step.
struct Staging {
    dir: PathBuf,
    out: PathBuf,
    done: bool,
}

impl Staging {
    /// Refuses an `--out` that holds anything (a run never mixes with an older one).
    fn new(out: &std::path::Path) -> Result<Staging> {
        if out.exists() {
            let empty = std::fs::read_dir(out).map(|mut d| d.next().is_none()).unwrap_or(false);
            if !out.is_dir() || !empty {
                bail!(
                    "--out {}: not an empty directory; a run writes into a fresh one (choose another --out, or move the old run away)",
                    out.display()
                );
            }
        }
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).with_context(|| format!("creating output directory {}", parent.display()))?;
        remove_abandoned_staging(&parent);
        let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
        let dir = parent.join(format!(".{name}.partial-{}-{:08x}", std::process::id(), fastrand::u32(..)));
        std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Staging { dir, out: out.to_path_buf(), done: false })
    }

    /// Moves the finished run into place (one rename).
    fn publish(mut self) -> Result<()> {
        if self.out.is_dir() {
            // Still empty (checked at start); a run that filled it meanwhile keeps it.
            std::fs::remove_dir(&self.out)
                .with_context(|| format!("--out {} is no longer empty; this run stays in {}", self.out.display(), self.dir.display()))?;
        }
        std::fs::rename(&self.dir, &self.out).with_context(|| format!("moving {} to {}", self.dir.display(), self.out.display()))?;
        self.done = true;
        Ok(())
    }
}

/// Removes the staging directories of killed runs under `root`: `.NAME.partial-PID-*` whose
/// process no longer exists (a live run's directory is left alone).
fn remove_abandoned_staging(root: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(root) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix('.').and_then(|n| n.rsplit_once(".partial-")).map(|(_, r)| r.to_string()) else { continue };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else { continue };
        if pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists() && e.path().is_dir() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

impl Drop for Staging {
    /// A run that failed leaves nothing half-written.
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

async fn dispatch(cmd: Command) -> Result<std::process::ExitCode> {
    match cmd {
        Command::Run(args) => run(args).await,
        Command::Sim(args) => serve_sim(args).await.map(|_| std::process::ExitCode::SUCCESS),
        Command::Universe { command: UniverseCommand::Refresh { from, out } } => {
            refresh(&from, &out).await.map(|_| std::process::ExitCode::SUCCESS)
        }
        Command::Universe { command: UniverseCommand::Show } => {
            print!("{}", Universe::sp500().to_csv());
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Explain { symbol, run } => explain(&symbol, run).map(|_| std::process::ExitCode::SUCCESS),
        Command::Payload { size, seed, form } => payload(size, &seed, form).map(|_| std::process::ExitCode::SUCCESS),
    }
}

async fn run(args: RunArgs) -> Result<std::process::ExitCode> {
    let cfg = Config::from_env()?;
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
    let mut client_cfg = ClientConfig::new(&base_url, api_key, rate);
    client_cfg.timeout = cfg.alpha_vantage.timeout;
    client_cfg.max_attempts = cfg.alpha_vantage.max_attempts;
    let market = Arc::new(AlphaVantage::new(client_cfg).context("the Alpha Vantage client")?);

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
    let recipients = if cfg.mail.recipients.is_empty() { vec!["reader@example.invalid".to_string()] } else { cfg.mail.recipients.clone() };

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
        mail: MailSettings { sender: cfg.mail.sender.clone(), recipients, unsubscribe: cfg.mail.unsubscribe.clone() },
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
    eprintln!(
        "Coverage {} ranked / {} scored / {} in universe ({:.1}%); {} API calls, {} throttled, {} retries; {:.2} s.",
        r.coverage.ranked,
        r.coverage.scored,
        r.universe_size,
        r.coverage.ratio * 100.0,
        r.stats.api_calls,
        r.stats.throttled,
        r.stats.retries,
        r.stats.elapsed_ms as f64 / 1000.0
    );
    if let Some(c) = &r.cache {
        let bulk = match c.bulk_entitled {
            Some(true) => format!("{} prices from REALTIME_BULK_QUOTES", c.bulk_prices),
            Some(false) => "no bulk-quote entitlement".to_string(),
            None => "bulk quotes not tried".to_string(),
        };
        eprintln!(
            "Cache: {} reused ({} priced by GLOBAL_QUOTE), {} fetched again for want of a bulk price, {} reported since, {} expired, {} absent, {} unusable; {}; calendar {}.",
            c.hits,
            c.priced_by_quote,
            c.refetched_for_price,
            c.reported,
            c.expired,
            c.absent,
            c.unusable,
            bulk,
            if c.calendar { "read" } else { "unavailable" }
        );
    }
    eprintln!("Commentary: {}", r.commentary.note);
    if let Some(c) = &r.changes {
        eprintln!("Since run {}: {} new picks, {} dropped out.", c.previous_run, c.new_entries, c.dropped.len());
    }
    if market.daily_quota_exhausted() {
        eprintln!("The API key's daily quota ran out during the run: the report is marked PARTIAL.");
    }
    if !r.unranked.is_empty() {
        eprintln!("{} symbols not ranked (each with its reason in results.json).", r.unranked.len());
    }
    if let Some(n) = market.api_down() {
        eprintln!("Alpha Vantage stopped answering ({n} connection failures in a row): the remaining symbols were not asked for.");
    }
    eprintln!("Wrote {}/{{results.json,top25.csv,report.html,email.eml}}", out.display());
    for why in &outcome.delivery.failed {
        eprintln!("error: a message was not delivered: {why}");
    }
    Ok(if r.ranking.is_empty() {
        std::process::ExitCode::from(EXIT_NOTHING_RANKED)
    } else if !outcome.delivery.all_sent() {
        eprintln!(
            "Exit code {EXIT_MAIL_FAILED}: {} of {} messages not delivered.",
            outcome.delivery.failed.len(),
            outcome.delivery.failed.len() + outcome.delivery.sent.len()
        );
        std::process::ExitCode::from(EXIT_MAIL_FAILED)
    } else if r.partial.is_some() {
        eprintln!("Exit code {EXIT_PARTIAL}: the run is under the coverage gate (MIN_RUN_COVERAGE) and marked PARTIAL.");
        std::process::ExitCode::from(EXIT_PARTIAL)
    } else {
        std::process::ExitCode::SUCCESS
    })
}

async fn serve_sim(a: SimArgs) -> Result<()> {
    if !(a.rate_per_min > 0.0) {
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

async fn refresh(from: &str, out: &PathBuf) -> Result<()> {
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

fn explain(symbol: &str, run: Option<PathBuf>) -> Result<()> {
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
fn newest_run(root: &std::path::Path) -> Result<PathBuf> {
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
fn generated_at(results: &std::path::Path) -> Option<String> {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(results).ok()?.take(4096).read_to_end(&mut head).ok()?;
    let head = String::from_utf8_lossy(&head);
    let key = "\"generated_at\":";
    let rest = head[head.find(key)? + key.len()..].trim_start().strip_prefix('"')?;
    let value = &rest[..rest.find('"')?];
    time::parse_date_days(value).map(|_| value.to_string())
}

fn payload(size: usize, seed: &str, form: PayloadForm) -> Result<()> {
    let all = Universe::sp500().members;
    if size == 0 || size > all.len() {
        bail!("--size must be between 1 and {}", all.len());
    }
    // A seeded partial Fisher-Yates shuffle: the same seed gives the same payload.
    let mut idx: Vec<usize> = (0..all.len()).collect();
    let mut state = sim::seed_from(seed);
    for i in 0..size {
        state = sim::synth::mix(state);
        let j = i + (state % (all.len() - i) as u64) as usize;
        idx.swap(i, j);
    }
    let mut chosen: Vec<String> = idx[..size].iter().map(|&i| all[i].symbol.index_form()).collect();
    chosen.sort();
    let body = match form {
        PayloadForm::Test => serde_json::json!({"test_mode": true, "test_symbols": chosen}),
        PayloadForm::Op => serde_json::json!({"op": "run", "symbols": chosen, "top": 25}),
    };
    println!("{}", serde_json::to_string_pretty(&body)?);
    Ok(())
}

/// A progress bar on a terminal; a line every 10% otherwise.
struct TermProgress {
    tty: bool,
    started: Instant,
    last: Mutex<(Instant, usize)>,
}

impl TermProgress {
    fn new() -> TermProgress {
        let now = Instant::now();
        TermProgress { tty: std::io::stderr().is_terminal(), started: now, last: Mutex::new((now, 0)) }
    }
}

impl Progress for TermProgress {
    fn advance(&self, done: usize, total: usize, symbol: &Symbol, _ok: bool) {
        let mut last = self.last.lock().expect("progress lock");
        if self.tty {
            if last.0.elapsed() < Duration::from_millis(80) && done < total {
                return;
            }
            last.0 = Instant::now();
            let width = 30;
            let filled = done * width / total.max(1);
            let rate = done as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
            eprint!("\r[{}{}] {done}/{total} {:<6} {:.0}/s ", "#".repeat(filled), ".".repeat(width - filled), symbol.as_str(), rate);
        } else {
            let decile = done * 10 / total.max(1);
            if decile > last.1 || done == total {
                last.1 = decile;
                eprintln!("fetched {done}/{total} ({:.1} s)", self.started.elapsed().as_secs_f64());
            }
        }
    }

    fn finish(&self) {
        if self.tty {
            eprintln!();
        }
    }
}
