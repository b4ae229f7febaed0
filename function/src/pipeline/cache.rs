//! Fetching through the OVERVIEW cache: one EARNINGS_CALENDAR call says who reports when;
//! an entry is reused until its company's next report date or a maximum age; prices come
//! from REALTIME_BULK_QUOTES (100 symbols a call) when the key is entitled — learned from
//! the premium notice, whose artificial rows are never used, and remembered for six days —
//! and every reused entry is repriced. Without a bulk price a cached entry costs a call
//! anyway: GLOBAL_QUOTE with `PRICE_SOURCE=global_quote`, else a fresh OVERVIEW (the same one
//! call, and fresher books).
//!
//! Entries are stored in **shards**, one object per first character of the symbol
//! (`{prefix}overview/shards/A.json` holds every cached symbol starting with A), not one
//! object per symbol: an object per symbol cost a GET and a PUT per symbol, ~1,000 S3
//! requests for a 500-symbol run. Why the first character, not a hash:
//! - it is a function of the symbol alone, so a change in the universe's membership moves
//!   no other symbol's entry (keying objects by a chunk's symbol set would invalidate every
//!   chunk after the first change);
//! - universes are sorted by symbol and lanes take contiguous chunks of them, so a chunk of
//!   50 touches two or three shards (a hash would spread every chunk over every shard, and
//!   a run would read and write N shards per chunk);
//! - the S&P 500's largest letter holds ~55 symbols (~110 KB), far under [`MAX_SHARD_BYTES`].
//!
//! A call reads each shard its members fall in once (with its version tag) and writes each
//! shard once, as soon as the last of its members to fetch is settled (so the writes still
//! overlap the fetching, and a crash loses at most the shards not yet complete): the
//! shard as read, minus the entries no longer valid, plus what this call fetched. Two lanes
//! working on neighbouring chunks share their boundary shard, so the write is conditional
//! (`put_if_absent` when the shard was absent, `replace_if_match` on the tag read): the
//! loser reads the shard again, merges, and writes again, so neither lane's entries are
//! lost. Old per-symbol objects (`overview/SYM.json`) are no longer read; the `cache/`
//! lifecycle expires them.

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
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// How long a learned bulk-quote entitlement is trusted before it is probed again: under a
/// week, so a weekly run notices an upgraded key by the next week (one call per run).
pub const ENTITLEMENT_TTL_SECS: i64 = 6 * 86_400;
/// A cache entry larger than this is unusable (a real one is ~2 KB).
pub const MAX_ENTRY_BYTES: usize = 256 * 1024;
/// A shard object larger than this is not read (a miss for all its symbols, with a
/// warning), and a write keeps a shard under it by leaving out its oldest entries. 8 MiB is
/// ~4,000 entries of ~2 KB: one letter of a 10,000-symbol universe with room to spare,
/// while a lane never holds more than a few such objects in memory.
pub const MAX_SHARD_BYTES: usize = 8 * 1024 * 1024;
/// Conditional writes of one shard before giving up (its entries are then fetched again by
/// the next run). Each loss means another lane wrote the shard meanwhile; a handful of
/// lanes share a shard at most.
const WRITE_ATTEMPTS: usize = 6;
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

/// A shard object: entries by symbol. Each entry is kept as raw JSON and decoded on its own,
/// so one bad entry costs its symbol a fetch, not the whole shard.
#[derive(Default, Serialize, Deserialize)]
struct ShardFile {
    entries: BTreeMap<String, RawEntry>,
}

/// One entry as its JSON text: a shard can hold thousands (every symbol of a letter), and a
/// parsed `serde_json::Value` tree of one is several times its text. The entries of a whole
/// shard wait in memory until its last member is fetched, so as trees they were the largest
/// part of a 10,000-symbol run's peak.
type RawEntry = Box<serde_json::value::RawValue>;

/// The shard a symbol's entry lives in: its first character (`A`-`Z` or `0`-`9`).
pub fn shard_of(s: &Symbol) -> String {
    s.as_str().chars().next().map(|c| c.to_ascii_uppercase().to_string()).unwrap_or_else(|| "_".into())
}

/// The key of a shard object.
pub fn shard_key(prefix: &str, shard: &str) -> String {
    format!("{prefix}overview/shards/{shard}.json")
}

/// A shard as read: its tag (`None` when absent, so the write is `put_if_absent`), its
/// entries, and why it could not be used, if it could not.
#[derive(Default)]
struct ShardRead {
    tag: Option<String>,
    entries: BTreeMap<String, RawEntry>,
    unreadable: Option<String>,
}

/// Reads one shard. An oversized or undecodable shard keeps its tag (so the next write
/// replaces it) and no entries; a store error other than absence is `Err`.
async fn read_shard<S: ObjectStore>(store: &S, key: &str) -> Result<ShardRead, String> {
    match store.get_tagged(key).await {
        Ok((b, tag)) if b.len() > MAX_SHARD_BYTES => {
            Ok(ShardRead { tag: Some(tag), unreadable: Some(format!("larger than {MAX_SHARD_BYTES} bytes")), ..Default::default() })
        }
        Ok((b, tag)) => match serde_json::from_slice::<ShardFile>(&b) {
            Ok(f) => Ok(ShardRead { tag: Some(tag), entries: f.entries, unreadable: None }),
            Err(e) => Ok(ShardRead { tag: Some(tag), unreadable: Some(e.to_string()), ..Default::default() }),
        },
        Err(StoreError::NotFound(_)) => Ok(ShardRead::default()),
        Err(e) => Err(e.to_string()),
    }
}

/// Decodes one entry of a shard, filed under `symbol`; secrets in its strings masked.
fn decode_entry(symbol: &str, v: &RawEntry) -> Result<CacheEntry, String> {
    if v.get().len() > MAX_ENTRY_BYTES {
        return Err(format!("larger than {MAX_ENTRY_BYTES} bytes"));
    }
    let e: CacheEntry = serde_json::from_str(v.get()).map_err(|e| e.to_string())?;
    // An entry is only good for the symbol it is filed under.
    if e.symbol.as_str() != symbol {
        return Err(format!("the entry is for {}, not {symbol}", e.symbol));
    }
    Ok(CacheEntry { fundamentals: e.fundamentals.sanitized(), ..e })
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

    // 1. Read each shard the members fall in once (a few in flight), and sort the members
    //    into reusable or not.
    let mut shards = read_shards(cache, &members, workers.max(8)).await;
    for (shard, read) in &shards {
        if let Some(why) = &read.unreadable {
            let n = members.iter().filter(|m| shard_of(&m.symbol) == *shard).count();
            warnings.push(format!("cache shard {} unreadable ({why}); its {n} symbols fetched afresh", shard_key(&cache.prefix, shard)));
        }
    }
    let mut reuse: Vec<(Member, CacheEntry)> = Vec::new();
    let mut fetch: Vec<Member> = Vec::new();
    for m in members {
        let read = shards.get(&shard_of(&m.symbol)).expect("every member's shard was read");
        let entry = match (&read.unreadable, read.entries.get(m.symbol.as_str())) {
            (Some(_), _) => {
                rep.unusable += 1;
                fetch.push(m);
                continue;
            }
            (None, None) => Ok(None),
            (None, Some(v)) => decode_entry(m.symbol.as_str(), v).map(Some),
        };
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

    // 4. Fresh OVERVIEWs, priced by bulk when there is a bulk price. Each shard is written
    //    once, when the last of its members to fetch is settled.
    let mut pending: HashMap<String, PendingShard> = HashMap::new();
    for m in &fetch {
        let shard = shard_of(&m.symbol);
        let read = shards.remove(&shard);
        pending
            .entry(shard)
            .or_insert_with(|| PendingShard { remaining: 0, fresh: Vec::new(), read: read.unwrap_or_default() })
            .remaining += 1;
    }
    drop(shards);
    let overview_source = if prices.is_empty() { price_source } else { PriceSource::Overview };
    let writer = Arc::new(ShardWriter {
        store: cache.store.clone(),
        prefix: cache.prefix.clone(),
        calendar: ctx.calendar.clone(),
        now,
        max_age_days: cache.max_age_days,
        pending: Mutex::new(pending),
        written: AtomicUsize::new(0),
        errors: Mutex::new(Vec::new()),
    });
    let (w, source) = (writer.clone(), market.clone());
    let run_synthetic = ctx.synthetic;
    let on_fetched: OnFetched = Arc::new(move |m: &Member, f: Option<&Fundamentals>| {
        let (w, symbol) = (w.clone(), m.symbol.clone());
        // Asked when the reply is in hand, which carried the simulator's header if any.
        let entry = f.map(|f| w.entry(&symbol, f, run_synthetic || source.synthetic()));
        Box::pin(async move { w.settled(&symbol, entry).await })
    });
    let (fresh, mut fetch_warnings) = fetch_all_with(market.clone(), fetch, workers, overview_source, progress, Some(on_fetched)).await;
    warnings.append(&mut fetch_warnings);
    writer.flush_all().await;
    rep.entries_written = writer.written.load(Ordering::Relaxed);
    let errors = std::mem::take(&mut *writer.errors.lock().expect("errors lock"));
    if let Some(first) = errors.first() {
        warnings.push(format!("{} cache shards not written (first: {first}); the next run fetches their entries again", errors.len()));
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

/// Reads every shard `members` fall in, `parallel` at a time. A shard the store cannot
/// read is treated as unreadable (its members are fetched afresh, and it is not written:
/// without its tag a write could only replace what is there blindly).
async fn read_shards<S: ObjectStore>(cache: &OverviewCache<S>, members: &[Member], parallel: usize) -> HashMap<String, ShardRead> {
    let mut names: Vec<String> = members.iter().map(|m| shard_of(&m.symbol)).collect();
    names.sort();
    names.dedup();
    let keys: Vec<String> = names.iter().map(|s| shard_key(&cache.prefix, s)).collect();
    let store = cache.store.clone();
    let reads = for_each_parallel(keys, parallel, move |keys, i| {
        let store = store.clone();
        async move { read_shard(store.as_ref(), &keys[i]).await }
    })
    .await;
    names
        .into_iter()
        .zip(reads)
        .map(|(name, r)| {
            let read = r.unwrap_or_else(|e| ShardRead { tag: None, entries: BTreeMap::new(), unreadable: Some(e) });
            (name, read)
        })
        .collect()
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

/// A shard waiting for its members' OVERVIEWs: how many are still in flight, the entries
/// that came, and the shard as read at the start.
struct PendingShard {
    remaining: usize,
    fresh: Vec<(Symbol, i64, RawEntry)>,
    read: ShardRead,
}

/// Collects fresh entries by shard and writes each shard once; failures are collected as
/// warnings (the run goes on, and the next run fetches those again).
struct ShardWriter<S> {
    store: Arc<S>,
    prefix: String,
    calendar: Option<Calendar>,
    now: i64,
    max_age_days: i64,
    pending: Mutex<HashMap<String, PendingShard>>,
    written: AtomicUsize,
    errors: Mutex<Vec<String>>,
}

impl<S: ObjectStore> ShardWriter<S> {
    fn entry(&self, symbol: &Symbol, f: &Fundamentals, synthetic: bool) -> RawEntry {
        let entry = CacheEntry {
            symbol: symbol.clone(),
            fetched_unix: self.now,
            next_report: self.calendar.as_ref().and_then(|cal| cal.next_report.get(symbol).cloned()),
            calendar_known: self.calendar.is_some(),
            synthetic,
            fundamentals: Fundamentals { quote_price: None, ..f.clone() },
        };
        serde_json::value::to_raw_value(&entry).expect("entry serialises")
    }

    /// One member settled (`entry` when its OVERVIEW came): the shard is written when it was
    /// the last of the shard's members.
    async fn settled(&self, symbol: &Symbol, entry: Option<RawEntry>) {
        let shard = shard_of(symbol);
        let ready = {
            let mut pending = self.pending.lock().expect("pending lock");
            let Some(p) = pending.get_mut(&shard) else { return };
            if let Some(v) = entry {
                p.fresh.push((symbol.clone(), self.now, v));
            }
            p.remaining = p.remaining.saturating_sub(1);
            if p.remaining == 0 {
                pending.remove(&shard)
            } else {
                None
            }
        };
        if let Some(p) = ready {
            self.write(&shard, p).await;
        }
    }

    /// Writes whatever is still pending (a member never settled: not expected, but entries
    /// in hand are not dropped for it).
    async fn flush_all(&self) {
        let left: Vec<(String, PendingShard)> = self.pending.lock().expect("pending lock").drain().collect();
        for (shard, p) in left {
            self.write(&shard, p).await;
        }
    }

    async fn write(&self, shard: &str, p: PendingShard) {
        if p.fresh.is_empty() {
            return;
        }
        let key = shard_key(&self.prefix, shard);
        if p.read.tag.is_none() && p.read.unreadable.is_some() {
            // The store failed to read it: a blind write could wipe what another lane wrote.
            self.errors.lock().expect("errors lock").push(format!("{key}: {}", p.read.unreadable.unwrap_or_default()));
            return;
        }
        match self.write_merged(&key, p.read, &p.fresh).await {
            Ok(n) => {
                self.written.fetch_add(n, Ordering::Relaxed);
            }
            Err(e) => self.errors.lock().expect("errors lock").push(format!("{key}: {e}")),
        }
    }

    /// The conditional write, read again and merged on every loss. Returns how many of
    /// `fresh` the written shard holds.
    async fn write_merged(&self, key: &str, mut base: ShardRead, fresh: &[(Symbol, i64, RawEntry)]) -> Result<usize, String> {
        for _ in 0..WRITE_ATTEMPTS {
            let (body, kept) = merge(&base.entries, fresh, self.now, self.max_age_days);
            let result = match &base.tag {
                None => self.store.put_if_absent(key, body).await,
                Some(tag) => self.store.replace_if_match(key, body, tag).await,
            };
            match result {
                Ok(()) => return Ok(kept),
                // Another writer got there first (or the lifecycle removed it): read what is
                // there now and merge again.
                Err(StoreError::AlreadyExists(_) | StoreError::Conflict(_) | StoreError::NotFound(_)) => {
                    base = read_shard(self.store.as_ref(), key).await?;
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        Err(format!("still changing after {WRITE_ATTEMPTS} conditional writes"))
    }
}

/// The shard to write: `fresh` over the still-valid entries of `base` (an entry of `base`
/// newer than ours for the same symbol wins: another lane fetched it later), bounded to
/// [`MAX_SHARD_BYTES`] by leaving out the oldest entries. Returns the body and how many of
/// `fresh` it holds.
fn merge(base: &BTreeMap<String, RawEntry>, fresh: &[(Symbol, i64, RawEntry)], now: i64, max_age_days: i64) -> (Vec<u8>, usize) {
    // (symbol, fetched, entry, is ours)
    let mut all: BTreeMap<String, (i64, &RawEntry, bool)> = BTreeMap::new();
    for (symbol, v) in base {
        // Kept while it could still serve a run of its own source; anything else goes. An
        // entry a concurrent lane wrote after this call read its clock is not "from the
        // future": it is judged at its own fetch time then.
        let Ok(e) = decode_entry(symbol, v) else { continue };
        if cache::check(&e, now.max(e.fetched_unix), max_age_days, e.synthetic).is_ok() {
            all.insert(symbol.clone(), (e.fetched_unix, v, false));
        }
    }
    for (symbol, fetched, v) in fresh {
        match all.get(symbol.as_str()) {
            Some((theirs, _, _)) if *theirs > *fetched => {}
            _ => {
                all.insert(symbol.to_string(), (*fetched, v, true));
            }
        }
    }
    // Newest first until the bound; the JSON around the entries is a few bytes each.
    let mut by_age: Vec<(&String, usize, i64, bool)> = all.iter().map(|(s, (t, v, ours))| (s, v.get().len(), *t, *ours)).collect();
    by_age.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)));
    let mut budget = MAX_SHARD_BYTES.saturating_sub(64);
    let mut file = ShardFile::default();
    let mut kept = 0;
    for (symbol, len, _, ours) in by_age {
        let cost = len.saturating_add(symbol.len() + 8);
        if len > MAX_ENTRY_BYTES || cost > budget {
            continue;
        }
        budget -= cost;
        kept += ours as usize;
        file.entries.insert(symbol.clone(), all[symbol].1.clone());
    }
    (serde_json::to_vec(&file).expect("shard serialises"), kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn sym(s: &str) -> Symbol {
        Symbol::parse(s).unwrap()
    }

    fn entry(s: &str, fetched: i64, next: Option<&str>, name_len: usize) -> RawEntry {
        let e = CacheEntry {
            symbol: sym(s),
            fetched_unix: fetched,
            next_report: next.map(String::from),
            calendar_known: true,
            synthetic: false,
            fundamentals: Fundamentals { name: Some("x".repeat(name_len)), ..Fundamentals::default() },
        };
        serde_json::value::to_raw_value(&e).unwrap()
    }

    fn decoded(body: &[u8]) -> BTreeMap<String, CacheEntry> {
        let f: ShardFile = serde_json::from_slice(body).unwrap();
        f.entries.iter().map(|(k, v)| (k.clone(), decode_entry(k, v).unwrap())).collect()
    }

    #[test]
    fn a_symbols_shard_is_its_first_character() {
        assert_eq!(shard_of(&sym("AAPL")), "A");
        assert_eq!(shard_of(&sym("A")), "A");
        assert_eq!(shard_of(&sym("BRK.B")), "B");
        assert_eq!(shard_key("cache/", "A"), "cache/overview/shards/A.json");
        // Never the key of an old per-symbol entry (`overview/A.json` is Agilent's).
        assert_ne!(shard_key("cache/", "A"), "cache/overview/A.json");
    }

    #[test]
    fn a_merge_keeps_what_is_still_valid_and_the_newer_of_two_entries() {
        let now = 20_000 * DAY;
        let mut base = BTreeMap::new();
        base.insert("AAPL".to_string(), entry("AAPL", now - 3 * DAY, None, 4)); // valid, not refetched
        base.insert("ABT".to_string(), entry("ABT", now - 40 * DAY, None, 4)); // too old
        base.insert("ADP".to_string(), entry("ADP", now - 3 * DAY, Some("2000-01-01"), 4)); // reported
        base.insert("AMD".to_string(), serde_json::value::to_raw_value("not an entry").unwrap());
        base.insert("AMZN".to_string(), entry("KO", now - DAY, None, 4)); // filed under another symbol
        base.insert("ABBV".to_string(), entry("ABBV", now + 60, None, 4)); // another lane, later than us
        let fresh = vec![(sym("ABBV"), now, entry("ABBV", now, None, 1)), (sym("ACN"), now, entry("ACN", now, None, 1))];
        let (body, kept) = merge(&base, &fresh, now, 30);
        let got = decoded(&body);
        assert_eq!(got.keys().cloned().collect::<Vec<_>>(), ["AAPL", "ABBV", "ACN"]);
        assert_eq!(got["ABBV"].fetched_unix, now + 60, "the newer entry of the two stays");
        assert_eq!(kept, 1, "only ACN of ours is in the shard");
    }

    #[test]
    fn a_merge_stays_under_the_shard_bound_by_leaving_out_the_oldest_entries() {
        let now = 20_000 * DAY;
        // 40 entries of ~240 KB: ~9.6 MB, over the 8 MiB bound.
        let big = 240 * 1024;
        let base: BTreeMap<String, RawEntry> =
            (0..40).map(|i| (format!("A{i:02}"), entry(&format!("A{i:02}"), now - DAY - i as i64, None, big))).collect();
        let fresh = vec![(sym("AZ"), now, entry("AZ", now, None, big)), (sym("AY"), now, entry("AY", now, None, 300 * 1024))];
        let (body, kept) = merge(&base, &fresh, now, 30);
        assert!(body.len() <= MAX_SHARD_BYTES, "{}", body.len());
        let got = decoded(&body);
        assert!(got.contains_key("AZ") && !got.contains_key("AY"), "ours stays; an entry over 256 KiB is never written");
        assert_eq!(kept, 1);
        assert!(got.contains_key("A00") && !got.contains_key("A39"), "the newest stay, the oldest go");
        assert!(got.len() > 30, "{}", got.len());
    }
}
