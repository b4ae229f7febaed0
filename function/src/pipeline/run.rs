//! The single-invocation run: fetch the universe, rank it once, render, store the report
//! and mail it. The local CLI runs exactly this; so will a small Lambda run.

use super::cache::{fetch_cached, OverviewCache};
use super::fetch::fetch_all;
use super::insight::Insight;
use super::publish::{self, Delivery, MailSettings};
use crate::domain::model::Model;
use crate::domain::outcome::ApiStats;
use crate::domain::plan::PriceSource;
use crate::domain::report::{self, ReportInputs, RunReport};
use crate::domain::source::DataSource;
use crate::domain::universe::Universe;
use crate::ports::{Clock, Mailer, MarketData, ObjectStore, Progress, StoreError};
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

pub struct RunOutcome {
    pub report: RunReport,
    pub delivery: Delivery,
}

/// `source` tells where the market data said it came from, once the fetch is done.
#[allow(clippy::too_many_arguments)]
pub async fn run_once<M, S, H, Ml, C>(
    market: Arc<M>,
    source: impl Fn(&M) -> DataSource,
    store: &S,
    insight: &Insight<H>,
    cache: Option<&OverviewCache<H>>,
    mailer: &Ml,
    clock: &C,
    req: RunRequest,
    progress: Arc<dyn Progress>,
) -> Result<RunOutcome, StoreError>
where
    M: MarketData,
    S: ObjectStore,
    H: ObjectStore,
    Ml: Mailer,
    C: Clock,
{
    let started = Instant::now();
    let (fetched, mut warnings, cache_report) = match cache {
        Some(c) => {
            let (f, w, r) = fetch_cached(
                market.clone(),
                c,
                None,
                req.universe.members.clone(),
                req.workers,
                req.price_source,
                clock.now_unix(),
                progress,
            )
            .await;
            (f, w, Some(r))
        }
        None => {
            let (f, w) = fetch_all(market.clone(), req.universe.members.clone(), req.workers, req.price_source, progress).await;
            (f, w, None)
        }
    };
    let mut all_warnings = req.warnings;
    all_warnings.append(&mut warnings);
    let now = clock.now_unix();
    let mut report = report::build(
        ReportInputs {
            run_id: &req.run_id,
            now_unix: now,
            data_source: source(&market),
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
    insight.enrich(&mut report, now).await;
    let mut art = publish::render_all(&report, &req.mail);
    // History first: a run whose record cannot be written publishes nothing, and a report
    // that cannot be stored takes its record back, so neither is ever out without the
    // other (the CLI then moves its whole run directory into place in one step).
    insight.remember(&report, now).await?;
    if let Err(e) = publish::store(store, &req.prefix, &mut art).await {
        insight.forget(&report, now).await;
        return Err(e);
    }
    let delivery = publish::send_all(mailer, &report, &art, &req.mail, now).await;
    tracing::info!(run_id = %report.run_id, ranked = report.coverage.ranked, universe = report.universe_size, "Analysis complete");
    Ok(RunOutcome { report, delivery })
}
