//! Fetching a universe: `workers` requests in flight, every symbol's outcome kept —
//! fundamentals when they came, the typed reason when they did not.

use crate::domain::fundamentals::Fundamentals;
use crate::domain::plan::PriceSource;
use crate::domain::report::Fetched;
use crate::domain::scoring::Candidate;
use crate::domain::universe::Member;
use crate::ports::{FetchError, MarketData, Progress};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Called with each OVERVIEW as it arrives (the cache writes its entry there, while the
/// other workers keep the quota busy).
pub type OnFetched = Arc<dyn Fn(&Member, &Fundamentals) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Fetches every member. A failed quote is not fatal: the price then comes from OVERVIEW,
/// and the symbol is named in the returned warnings.
pub async fn fetch_all<M: MarketData>(
    market: Arc<M>,
    members: Vec<Member>,
    workers: usize,
    price_source: PriceSource,
    progress: Arc<dyn Progress>,
) -> (Fetched, Vec<String>) {
    fetch_all_with(market, members, workers, price_source, progress, None).await
}

/// [`fetch_all`], calling `on_fetched` with every OVERVIEW that came.
pub async fn fetch_all_with<M: MarketData>(
    market: Arc<M>,
    members: Vec<Member>,
    workers: usize,
    price_source: PriceSource,
    progress: Arc<dyn Progress>,
    on_fetched: Option<OnFetched>,
) -> (Fetched, Vec<String>) {
    let total = members.len();
    let members = Arc::new(members);
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..workers.max(1).min(total.max(1)) {
        let (market, members, next, done, progress, on_fetched) =
            (market.clone(), members.clone(), next.clone(), done.clone(), progress.clone(), on_fetched.clone());
        tasks.spawn(async move {
            let mut out: Vec<(usize, Result<Candidate, FetchError>, Option<FetchError>)> = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(member) = members.get(i) else { break };
                let mut quote_err = None;
                let result = match market.overview(&member.symbol).await {
                    Ok(mut fundamentals) => {
                        if let Some(f) = &on_fetched {
                            f(member, &fundamentals).await;
                        }
                        if price_source == PriceSource::GlobalQuote {
                            match market.quote(&member.symbol).await {
                                Ok(p) => fundamentals.quote_price = Some(p),
                                Err(e) => quote_err = Some(e),
                            }
                        }
                        Ok(Candidate { member: member.clone(), fundamentals })
                    }
                    Err(e) => Err(e),
                };
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress.advance(n, total, &member.symbol, result.is_ok());
                out.push((i, result, quote_err));
            }
            out
        });
    }
    let mut results = Vec::with_capacity(total);
    while let Some(r) = tasks.join_next().await {
        results.extend(r.expect("fetch worker panicked"));
    }
    progress.finish();
    results.sort_by_key(|(i, _, _)| *i);
    let mut fetched = Fetched::default();
    let mut warnings = Vec::new();
    for (i, result, quote_err) in results {
        if let Some(e) = quote_err {
            warnings.push(format!("{}: no quote ({e}); price from OVERVIEW", members[i].symbol));
        }
        match result {
            Ok(c) => fetched.candidates.push(c),
            Err(e) => fetched.failures.push((members[i].symbol.clone(), e)),
        }
    }
    (fetched, warnings)
}
