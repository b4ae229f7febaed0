//! Fetching a universe: `workers` requests in flight, every symbol's outcome kept —
//! fundamentals when they came, the typed reason when they did not.

use crate::domain::fundamentals::Fundamentals;
use crate::domain::plan::PriceSource;
use crate::domain::report::Fetched;
use crate::domain::scoring::Candidate;
use crate::domain::universe::Member;
use crate::ports::{MarketData, Progress};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Called as each member's OVERVIEW is settled: with the fundamentals when they came, `None`
/// when the fetch failed. The cache collects its entries there and writes a shard as soon
/// as the last of its members is settled, while the other workers keep the quota busy.
pub type OnFetched = Arc<dyn Fn(&Member, Option<&Fundamentals>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

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
    let done = Arc::new(AtomicUsize::new(0));
    let bar = progress.clone();
    let results = for_each_parallel(members, workers, move |members, i| {
        let (market, done, progress, on_fetched) = (market.clone(), done.clone(), bar.clone(), on_fetched.clone());
        async move {
            let member = &members[i];
            let mut quote_err = None;
            let result = match market.overview(&member.symbol).await {
                Ok(mut fundamentals) => {
                    if let Some(f) = &on_fetched {
                        f(member, Some(&fundamentals)).await;
                    }
                    if price_source == PriceSource::GlobalQuote {
                        match market.quote(&member.symbol).await {
                            Ok(p) => fundamentals.quote_price = Some(p),
                            Err(e) => quote_err = Some(e),
                        }
                    }
                    Ok(Candidate { member: member.clone(), fundamentals })
                }
                Err(e) => {
                    if let Some(f) = &on_fetched {
                        f(member, None).await;
                    }
                    Err(e)
                }
            };
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            progress.advance(n, total, &member.symbol, result.is_ok());
            (member.symbol.clone(), result, quote_err)
        }
    })
    .await;
    progress.finish();
    let mut fetched = Fetched::default();
    let mut warnings = Vec::new();
    for (symbol, result, quote_err) in results {
        if let Some(e) = quote_err {
            warnings.push(format!("{symbol}: no quote ({e}); price from OVERVIEW"));
        }
        match result {
            Ok(c) => fetched.candidates.push(c),
            Err(e) => fetched.failures.push((symbol, e)),
        }
    }
    (fetched, warnings)
}

/// Runs `f` over `items` with `parallel` workers, each taking the next item as it finishes
/// one; results in input order. The fetch, the cache reads and the quotes all use it.
pub(crate) async fn for_each_parallel<T, R, F, Fut>(items: Vec<T>, parallel: usize, f: F) -> Vec<R>
where
    T: Send + Sync + 'static,
    R: Send + 'static,
    F: Fn(Arc<Vec<T>>, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = R> + Send,
{
    let n = items.len();
    let items = Arc::new(items);
    let f = Arc::new(f);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..parallel.max(1).min(n.max(1)) {
        let (items, f, next) = (items.clone(), f.clone(), next.clone());
        tasks.spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= items.len() {
                    break;
                }
                out.push((i, f(items.clone(), i).await));
            }
            out
        });
    }
    let mut all = Vec::with_capacity(n);
    while let Some(r) = tasks.join_next().await {
        all.extend(r.expect("worker panicked"));
    }
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).collect()
}
