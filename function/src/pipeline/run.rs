//! The single-invocation run of the CLI: fetch the universe, rank it once, and publish it.
//! (The Lambda fetches in chunks, possibly over many invocations, and publishes through the
//! same [`Publisher`] once the chunks are in.)

use super::cache::{fetch_cached, OverviewCache};
use super::fetch::fetch_all;
use super::insight::Insight;
use super::publish::{MailSettings, Publication, PublishError, Publisher, Step};
use crate::domain::model::Model;
use crate::domain::outcome::ApiStats;
use crate::domain::plan::PriceSource;
use crate::domain::report::{self, ReportInputs};
use crate::domain::universe::Universe;
use crate::ports::{Clock, Mailer, MarketData, ObjectStore, Progress, Readers};
use std::sync::Arc;
use std::time::Instant;

pub struct RunRequest {
    pub run_id: String,
    pub universe: Universe,
    pub model: Model,
    pub top: usize,
    pub workers: usize,
    pub price_source: PriceSource,
    pub min_run_coverage: f64,
    /// Key prefix for the stored artifacts ("" locally, `reports/{date}/{run_id}/` in S3).
    pub prefix: String,
    pub mail: MailSettings,
    /// Problems found before fetching (bad tickers, universe file rows), kept in the report.
    pub warnings: Vec<String>,
}

/// The parts a single-invocation run is made of; the CLI builds them (see `app`).
pub struct RunPorts<'a, M, S, H, Ml, C> {
    pub market: Arc<M>,
    /// Where the artifacts go.
    pub store: &'a S,
    pub insight: &'a Insight<H>,
    pub cache: Option<&'a OverviewCache<H>>,
    pub mailer: &'a Ml,
    /// Who is mailed (read when the report is published).
    pub readers: &'a dyn Readers,
    pub clock: &'a C,
    pub progress: Arc<dyn Progress>,
}

/// Fetches the universe, ranks it once and publishes it through the same publish use case
/// as the Lambda's aggregation ([`Publisher`]).
pub async fn run_once<M, S, H, Ml, C>(p: RunPorts<'_, M, S, H, Ml, C>, req: RunRequest) -> Result<Publication, PublishError>
where
    M: MarketData,
    S: ObjectStore,
    H: ObjectStore,
    Ml: Mailer,
    C: Clock,
{
    let started = Instant::now();
    let market = p.market;
    let (fetched, mut warnings, cache_report) = match p.cache {
        Some(c) => {
            let (f, w, r) = fetch_cached(
                market.clone(),
                c,
                None,
                req.universe.members.clone(),
                req.workers,
                req.price_source,
                p.clock.now_unix(),
                p.progress,
            )
            .await;
            (f, w, Some(r))
        }
        None => {
            let (f, w) = fetch_all(market.clone(), req.universe.members.clone(), req.workers, req.price_source, p.progress).await;
            (f, w, None)
        }
    };
    let mut all_warnings = req.warnings;
    all_warnings.append(&mut warnings);
    let now = p.clock.now_unix();
    let mut report = report::build(
        ReportInputs {
            run_id: &req.run_id,
            now_unix: now,
            data_source: market.data_source(),
            universe: &req.universe,
            model: &req.model,
            top: req.top,
            min_run_coverage: req.min_run_coverage,
            api: ApiStats { cache_hits: cache_report.as_ref().map_or(0, |c| c.hits as u64), ..market.stats() },
            elapsed_ms: started.elapsed().as_millis() as u64,
            warnings: all_warnings,
        },
        &fetched,
    );
    // The raw fetch is no longer needed: for 10,000 stocks it is a third of the peak memory.
    drop(fetched);
    report.cache = cache_report;
    let publisher = Publisher {
        store: p.store,
        insight: p.insight,
        mailer: p.mailer,
        mail: &req.mail,
        readers: p.readers,
        ledger: None,
        write_latest: false,
    };
    publisher.publish(report, &req.prefix, now, Step::Publish).await
}
