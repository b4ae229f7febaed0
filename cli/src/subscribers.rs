//! `stockpicks subscribers add|remove|list`: the reader list. Against the SES contact list
//! when SES_CONTACT_LIST is set (with the operator's AWS credentials; the build needs the
//! `aws` feature), otherwise against a reader file: `--subscribers FILE`, default
//! out/subscribers.csv, the file a local run reads its readers from.

use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;
use stockpicks::adapters::readers::SubscriberFile;
use stockpicks::config::Config;
use stockpicks::domain::reader::Standing;
use stockpicks::ports::{Readers, ReadersError};

/// The reader file of local runs when none is named.
pub(crate) const DEFAULT_SUBSCRIBERS: &str = "out/subscribers.csv";

/// A refused address, like any other bad input.
const EXIT_BAD_INPUT: u8 = 2;
/// The list could not be read or changed, or the address to remove is not on it.
const EXIT_FAILED: u8 = 1;

#[derive(Subcommand)]
pub(crate) enum SubscribersCommand {
    /// Add readers (subscribed); a reader who had unsubscribed is subscribed again.
    Add {
        #[arg(required = true)]
        addresses: Vec<String>,
        #[command(flatten)]
        place: Place,
    },
    /// Take readers off the list.
    Remove {
        #[arg(required = true)]
        addresses: Vec<String>,
        #[command(flatten)]
        place: Place,
    },
    /// Every reader on the list and whether they are subscribed.
    List {
        #[command(flatten)]
        place: Place,
    },
}

#[derive(clap::Args)]
pub(crate) struct Place {
    /// A reader file instead of the SES contact list (default without SES_CONTACT_LIST:
    /// out/subscribers.csv).
    #[arg(long)]
    subscribers: Option<PathBuf>,
}

pub(crate) async fn subscribers(cmd: SubscribersCommand) -> Result<ExitCode> {
    let cfg = Config::from_env()?;
    let place = match &cmd {
        SubscribersCommand::Add { place, .. } | SubscribersCommand::Remove { place, .. } | SubscribersCommand::List { place } => place,
    };
    let list = open(&cfg, place.subscribers.clone()).await?;
    if !cfg.mail.recipients.is_empty() {
        eprintln!("note: EMAIL_RECIPIENT is set: runs mail those addresses, not {}", list.describe());
    }
    match cmd {
        SubscribersCommand::List { .. } => {
            let all = match list.list().await {
                Ok(all) => all,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(EXIT_FAILED));
                }
            };
            let subscribed = all.iter().filter(|s| s.standing == Standing::Subscribed).count();
            for s in &all {
                println!("{}\t{}", s.address, s.standing.as_str());
            }
            eprintln!("{} readers in {}: {subscribed} subscribed, {} unsubscribed", all.len(), list.describe(), all.len() - subscribed);
            Ok(ExitCode::SUCCESS)
        }
        SubscribersCommand::Add { addresses, .. } => change(list.as_ref(), &addresses, Change::Add).await,
        SubscribersCommand::Remove { addresses, .. } => change(list.as_ref(), &addresses, Change::Remove).await,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Change {
    Add,
    Remove,
}

/// Applies the change to each address in turn; every address is checked before any is
/// changed, so a typo in the third leaves the first two alone.
async fn change(list: &dyn Readers, addresses: &[String], how: Change) -> Result<ExitCode> {
    let bad: Vec<String> =
        addresses.iter().filter_map(|a| stockpicks::domain::reader::check_address(a).err()).map(|e| e.to_string()).collect();
    if !bad.is_empty() {
        for why in &bad {
            eprintln!("error: {why}");
        }
        eprintln!("Nothing changed in {}.", list.describe());
        return Ok(ExitCode::from(EXIT_BAD_INPUT));
    }
    for address in addresses {
        let done = match how {
            Change::Add => list.add(address).await,
            Change::Remove => list.remove(address).await,
        };
        match done {
            Ok(()) if how == Change::Add => eprintln!("Added {address} to {} (subscribed).", list.describe()),
            Ok(()) => eprintln!("Removed {address} from {}.", list.describe()),
            Err(e @ ReadersError::BadAddress(_)) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(EXIT_BAD_INPUT));
            }
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(EXIT_FAILED));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The list to work on: the file named, else the SES contact list when configured, else
/// the default reader file.
async fn open(cfg: &Config, file: Option<PathBuf>) -> Result<Box<dyn Readers>> {
    match (file, &cfg.mail.contact_list) {
        (Some(path), _) => Ok(Box::new(SubscriberFile::new(path))),
        (None, Some(list)) => ses(list.clone()).await,
        (None, None) => Ok(Box::new(SubscriberFile::new(DEFAULT_SUBSCRIBERS))),
    }
}

#[cfg(feature = "aws")]
async fn ses(list: stockpicks::config::ContactListConfig) -> Result<Box<dyn Readers>> {
    Ok(Box::new(stockpicks::app::operator::contact_list(list).await))
}

#[cfg(not(feature = "aws"))]
async fn ses(list: stockpicks::config::ContactListConfig) -> Result<Box<dyn Readers>> {
    anyhow::bail!(
        "SES_CONTACT_LIST={}: this stockpicks was built without AWS support; build it with `cargo build --release --features aws`, \
         or pass --subscribers FILE for a local reader file",
        list.name
    )
}
