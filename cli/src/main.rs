//! `stockpicks`: the command-line tool. This file parses the command line and dispatches;
//! each command is its own module (`run`, `subscribers`, `simulator`, `universe`, `explain`, `payload`), the
//! CLI's state on disk is `local_state`, and everything else is the library's (`app` wiring,
//! `pipeline::run::run_once`, `render`).

mod explain;
mod files;
mod local_state;
mod payload;
mod progress;
mod run;
mod simulator;
mod subscribers;
mod universe;

use anyhow::Result;
use clap::{Parser, Subcommand};
use explain::explain;
use payload::{payload, PayloadForm};
use run::{run, RunArgs};
use simulator::{serve_sim, SimArgs};
use std::io::IsTerminal;
use std::path::PathBuf;
use stockpicks::domain::universe::Universe;
use subscribers::{subscribers, SubscribersCommand};
use universe::{refresh, UniverseCommand};

/// mimalloc: ranking is allocation-heavy, and glibc malloc made it ~1.6x slower.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// The reader list: add, remove and list readers (the SES contact list when
    /// SES_CONTACT_LIST is set, else a reader file, default out/subscribers.csv).
    Subscribers {
        #[command(subcommand)]
        command: SubscribersCommand,
    },
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

async fn dispatch(cmd: Command) -> Result<std::process::ExitCode> {
    match cmd {
        Command::Run(args) => run(args).await,
        Command::Subscribers { command } => subscribers(command).await,
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
