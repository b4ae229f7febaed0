//! Fetching through the OVERVIEW cache: one EARNINGS_CALENDAR call says who reports when;
//! an entry is reused until its company's next report date or a maximum age; prices come
//! from REALTIME_BULK_QUOTES (100 symbols a call) when the key is entitled — learned from
//! the premium notice, whose artificial rows are never used, and remembered for six days —
//! and every reused entry is repriced. Without a bulk price a cached entry costs a call
//! anyway: GLOBAL_QUOTE with `PRICE_SOURCE=global_quote`, else a fresh OVERVIEW (the same one
//! call, and fresher books).

use super::fetch::{fetch_all_with, for_each_parallel, OnFetched};
use crate::domain::cache::{self, CacheContext, CacheEntry, CacheReport, Calendar, Stale};
use crate::domain::fundamentals::Fundamentals;
use crate::domain::outcome::FetchError;
use crate::domain::plan::PriceSource;
use crate::domain::report::Fetched;
use crate::domain::scoring::Candidate;
use crate::domain::universe::Member;
use crate::domain::Symbol;
use crate::ports::{MarketData, ObjectStore, Progress, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// How long a learned bulk-quote entitlement is trusted before it is probed again: under a
/// week, so a weekly run notices an upgraded key by the next week (one call per run).
pub const ENTITLEMENT_TTL_SECS: i64 = 6 * 86_400;
/// A cache entry larger than this is unusable (a real one is ~2 KB).
pub const MAX_ENTRY_BYTES: usize = 256 * 1024;
/// Symbols per REALTIME_BULK_QUOTES call (the API's limit).
pub const BULK_BATCH: usize = 100;

/// Where cache entries live: `cache/` in S3, `out/cache/` locally.
pub struct OverviewCache<S> {
    pub store: Arc<S>,
    pub prefix: String,
    pub max_age_days: i64,
}

#[derive(Serialize, Deserialize)]
struct Entitlement {
    bulk: bool,
    checked_unix: i64,
}

/// Reads the calendar once for a run (one call); `None` with a warning when it fails.
pub async fn calendar_context<M: MarketData>(market: &M, warnings: &mut Vec<String>) -> CacheContext {
    let calendar = match market.earnings_calendar().await {
        Ok(c) => Some(c),
        Err(e) => {
            warnings.push(format!("earnings calendar unavailable ({e}): no cached OVERVIEW is reused, and this run's entries will not be"));
            None
        }
    };
    CacheContext { calendar, synthetic: market.synthetic() }
}

impl<S: ObjectStore> OverviewCache<S> {
    fn key(&self, s: &Symbol) -> String {
        entry_key(&self.prefix, s)
    }

    fn entitlement_key(&self) -> String {
        format!("{}entitlement.json", self.prefix)
    }

    async fn entitlement(&self, now: i64) -> Option<bool> {
        let b = self.store.get(&self.entitlement_key()).await.ok()?;
        let e: Entitlement = serde_json::from_slice(&b).ok()?;
        (now - e.checked_unix < ENTITLEMENT_TTL_SECS && now >= e.checked_unix).then_some(e.bulk)
    }

    async fn remember_entitlement(&self, bulk: bool, now: i64) {
        let body = serde_json::to_vec(&Entitlement { bulk, checked_unix: now }).expect("json");
        if let Err(e) = self.store.put(&self.entitlement_key(), body).await {
            tracing::warn!(error = %e, "bulk-quote entitlement not remembered");
        }
    }
}

/// Fetches `members`, reusing the cache where the calendar allows. `context` is the run's
/// calendar (read here with one call when `None`).
#[allow(clippy::too_many_arguments)]
pub async fn fetch_cached<M: MarketData, S: ObjectStore>(
    market: Arc<M>,
    cache: &OverviewCache<S>,
    context: Option<CacheContext>,
    members: Vec<Member>,
    workers: usize,
    price_source: PriceSource,
    now: i64,
    progress: Arc<dyn Progress>,
) -> (Fetched, Vec<String>, CacheReport) {
    let mut warnings = Vec::new();
    let ctx = match context {
        Some(c) => c,
        None => calendar_context(market.as_ref(), &mut warnings).await,
    };
    let mut rep = CacheReport { calendar: ctx.calendar.is_some(), ..Default::default() };

    // 1. Read the entries (a few in flight), and sort the members into reusable or not.
    let entries = read_all(cache, &members, workers.max(8)).await;
    let mut reuse: Vec<(Member, CacheEntry)> = Vec::new();
    let mut fetch: Vec<Member> = Vec::new();
    for (m, entry) in members.into_iter().zip(entries) {
        match entry {
            Ok(Some(e)) => match cache::check(&e, now, cache.max_age_days, ctx.synthetic) {
                Ok(()) => reuse.push((m, e)),
                Err(why) => {
                    match why {
                        Stale::Reported(_) => rep.reported += 1,
                        Stale::TooOld { .. } => rep.expired += 1,
                        Stale::NoCalendar | Stale::OtherSource => rep.unusable += 1,
                    }
                    fetch.push(m);
                }
            },
            Ok(None) => {
                rep.absent += 1;
                fetch.push(m);
            }
            Err(e) => {
                rep.unusable += 1;
                warnings.push(format!("{}: cache entry unreadable ({e}); fetched afresh", m.symbol));
                fetch.push(m);
            }
        }
    }

    // 2. Bulk prices for everyone, when the key is entitled (probed with the first batch).
    let mut prices: HashMap<Symbol, f64> = HashMap::new();
    rep.bulk_entitled = cache.entitlement(now).await;
    if rep.bulk_entitled != Some(false) {
        let all: Vec<Symbol> = reuse.iter().map(|(m, _)| m.symbol.clone()).chain(fetch.iter().map(|m| m.symbol.clone())).collect();
        for batch in all.chunks(BULK_BATCH) {
            match market.bulk_quotes(batch).await {
                Ok(rows) => {
                    if rep.bulk_entitled != Some(true) {
                        rep.bulk_entitled = Some(true);
                        cache.remember_entitlement(true, now).await;
                    }
                    prices.extend(rows);
                }
                Err(FetchError::PremiumOnly) => {
                    rep.bulk_entitled = Some(false);
                    cache.remember_entitlement(false, now).await;
                    break;
                }
                Err(e) => warnings.push(format!("bulk quotes for {} symbols failed ({e}); those are priced another way", batch.len())),
            }
        }
    }
    rep.bulk_prices = prices.len();

    // 3. Reused entries without a bulk price: GLOBAL_QUOTE if asked for, else a fresh OVERVIEW.
    let mut candidates = Vec::with_capacity(reuse.len() + fetch.len());
    let mut quote_needed = Vec::new();
    for (m, e) in reuse {
        match prices.get(&m.symbol) {
            Some(&p) => candidates.push(Candidate { member: m, fundamentals: e.fundamentals.repriced(p) }),
            None if price_source == PriceSource::GlobalQuote => quote_needed.push((m, e)),
            None => {
                rep.refetched_for_price += 1;
                fetch.push(m);
            }
        }
    }
    for (m, e, q) in quotes(market.clone(), quote_needed, workers).await {
        match q {
            Ok(p) => {
                rep.priced_by_quote += 1;
                candidates.push(Candidate { member: m, fundamentals: e.fundamentals.repriced(p) });
            }
            Err(err) => {
                warnings.push(format!("{}: no quote for the cached entry ({err}); OVERVIEW fetched afresh", m.symbol));
                fetch.push(m);
            }
        }
    }
    rep.hits = candidates.len();

    // 4. Fresh OVERVIEWs, each stored as it arrives (the writes overlap the fetching),
    //    priced by bulk when there is a bulk price.
    let overview_source = if prices.is_empty() { price_source } else { PriceSource::Overview };
    let writer = Arc::new(EntryWriter {
        store: cache.store.clone(),
        prefix: cache.prefix.clone(),
        calendar: ctx.calendar.clone(),
        now,
        written: AtomicUsize::new(0),
        errors: Mutex::new(Vec::new()),
    });
    let (w, source) = (writer.clone(), market.clone());
    let run_synthetic = ctx.synthetic;
    let on_fetched: OnFetched = Arc::new(move |m: &Member, f: &Fundamentals| {
        let (w, symbol) = (w.clone(), m.symbol.clone());
        // Asked when the reply is in hand, which carried the simulator's header if any.
        let entry = w.entry(&symbol, f, run_synthetic || source.synthetic());
        Box::pin(async move { w.write(&symbol, entry).await })
    });
    let (fresh, mut fetch_warnings) = fetch_all_with(market.clone(), fetch, workers, overview_source, progress, Some(on_fetched)).await;
    warnings.append(&mut fetch_warnings);
    rep.entries_written = writer.written.load(Ordering::Relaxed);
    let errors = std::mem::take(&mut *writer.errors.lock().expect("errors lock"));
    if let Some(first) = errors.first() {
        warnings.push(format!("{} cache entries not written (first: {first}); the next run fetches them again", errors.len()));
    }
    for c in fresh.candidates {
        let fundamentals = match prices.get(&c.member.symbol) {
            Some(&p) => c.fundamentals.repriced(p),
            None => c.fundamentals,
        };
        candidates.push(Candidate { member: c.member, fundamentals });
    }
    (Fetched { candidates, failures: fresh.failures }, warnings, rep)
}

fn entry_key(prefix: &str, s: &Symbol) -> String {
    format!("{prefix}overview/{s}.json")
}

async fn read_all<S: ObjectStore>(
    cache: &OverviewCache<S>,
    members: &[Member],
    parallel: usize,
) -> Vec<Result<Option<CacheEntry>, String>> {
    let keys: Vec<String> = members.iter().map(|m| cache.key(&m.symbol)).collect();
    let symbols: Arc<Vec<Symbol>> = Arc::new(members.iter().map(|m| m.symbol.clone()).collect());
    let store = cache.store.clone();
    for_each_parallel(keys, parallel, move |keys, i| {
        let (store, symbols) = (store.clone(), symbols.clone());
        async move {
            match store.get(&keys[i]).await {
                Ok(b) if b.len() > MAX_ENTRY_BYTES => Err(format!("larger than {MAX_ENTRY_BYTES} bytes")),
                Ok(b) => match serde_json::from_slice::<CacheEntry>(&b) {
                    // An entry is only good for the symbol it is filed under.
                    Ok(e) if e.symbol != symbols[i] => Err(format!("the entry is for {}, not {}", e.symbol, symbols[i])),
                    Ok(e) => Ok(Some(CacheEntry { fundamentals: e.fundamentals.sanitized(), ..e })),
                    Err(e) => Err(e.to_string()),
                },
                Err(StoreError::NotFound(_)) => Ok(None),
                Err(e) => Err(e.to_string()),
            }
        }
    })
    .await
}

async fn quotes<M: MarketData>(
    market: Arc<M>,
    items: Vec<(Member, CacheEntry)>,
    workers: usize,
) -> Vec<(Member, CacheEntry, Result<f64, FetchError>)> {
    let symbols: Vec<Symbol> = items.iter().map(|(m, _)| m.symbol.clone()).collect();
    let results = for_each_parallel(symbols, workers, move |syms, i| {
        let market = market.clone();
        async move { market.quote(&syms[i]).await }
    })
    .await;
    items.into_iter().zip(results).map(|((m, e), q)| (m, e, q)).collect()
}

/// Writes one cache entry per fresh OVERVIEW; failures are collected as warnings (the run
/// goes on, and the next run fetches those again).
struct EntryWriter<S> {
    store: Arc<S>,
    prefix: String,
    calendar: Option<Calendar>,
    now: i64,
    written: AtomicUsize,
    errors: Mutex<Vec<String>>,
}

impl<S: ObjectStore> EntryWriter<S> {
    fn entry(&self, symbol: &Symbol, f: &Fundamentals, synthetic: bool) -> Vec<u8> {
        let entry = CacheEntry {
            symbol: symbol.clone(),
            fetched_unix: self.now,
            next_report: self.calendar.as_ref().and_then(|cal| cal.next_report.get(symbol).cloned()),
            calendar_known: self.calendar.is_some(),
            synthetic,
            fundamentals: Fundamentals { quote_price: None, ..f.clone() },
        };
        serde_json::to_vec(&entry).expect("entry serialises")
    }

    async fn write(&self, symbol: &Symbol, body: Vec<u8>) {
        match self.store.put(&entry_key(&self.prefix, symbol), body).await {
            Ok(()) => {
                self.written.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => self.errors.lock().expect("errors lock").push(e.to_string()),
        }
    }
}
