//! What a run remembers of earlier runs, and what the report says about them: the changes
//! since the previous run (new picks, drop-outs, rank moves, streaks) and the track record
//! of every earlier run's picks against the universe median. Pure.
//!
//! No look-ahead: an earlier run is judged only by the prices it stored when it published
//! and the prices this run fetched; a record from this run's time or later is ignored.

use super::source::DataSource;
use super::{time, Symbol};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The compact record of one published run (a few KB for the S&P 500), stored beside the
/// reports so later runs can compare against it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub run_id: String,
    /// Seconds since the epoch, UTC: the time the run published.
    pub published_unix: i64,
    pub data_source: DataSource,
    pub partial: bool,
    /// The published picks, best first.
    pub picks: Vec<Symbol>,
    /// The full ranking, best first (rank = position + 1).
    pub ranking: Vec<Symbol>,
    /// Prices the run scored with, for every ranked symbol that had one.
    pub prices: BTreeMap<Symbol, f64>,
}

impl RunRecord {
    /// The object name: sorts by publication time, then run id.
    pub fn key_name(&self) -> String {
        format!("{}_{}.json", time::compact_second(self.published_unix), self.run_id)
    }
}

/// A pick's place against the previous run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PickChange {
    pub symbol: Symbol,
    pub rank: usize,
    /// Its rank in the previous run's full ranking; `null` when it was not ranked then.
    pub previous_rank: Option<usize>,
    /// Positive = moved up.
    pub moved: Option<i64>,
    /// Not among the previous run's picks.
    pub new_entry: bool,
    /// Consecutive runs, this one included, with this stock among the picks.
    pub streak: usize,
}

/// A previous pick that is not among this run's picks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DropOut {
    pub symbol: Symbol,
    pub previous_rank: usize,
    /// Its rank now; `null` when it is not ranked in this run (with the reason in `unranked`).
    pub rank: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Changes {
    pub previous_run: String,
    pub previous_published: String,
    pub picks: Vec<PickChange>,
    pub new_entries: usize,
    pub dropped: Vec<DropOut>,
}

/// How one earlier run's picks did from its publication to this run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrackRecord {
    pub run_id: String,
    pub published: String,
    pub days: f64,
    /// Picks with a price then and now (the others are left out, and counted here).
    pub picks_priced: usize,
    pub picks_unpriced: usize,
    /// Equal-weighted mean return of the priced picks, as a fraction.
    pub picks_return: Option<f64>,
    /// Median return of every stock priced in both runs.
    pub universe_median: Option<f64>,
    pub universe_priced: usize,
    /// picks_return - universe_median.
    pub excess: Option<f64>,
    /// Priced picks whose return beat the universe median.
    pub beat_median: usize,
}

/// Earlier records usable by a run at `now`: same kind of data, published by now (a record
/// stamped this very second was stored before this run read it; later ones are ignored),
/// not the run itself, one record per run (the last written, should a retried publish
/// have stored two); oldest first.
pub fn earlier<'a>(records: &'a [RunRecord], run_id: &str, source: DataSource, now: i64) -> Vec<&'a RunRecord> {
    let mut v: Vec<&RunRecord> =
        records.iter().filter(|r| r.run_id != run_id && r.data_source == source && r.published_unix <= now).collect();
    v.sort_by(|a, b| a.published_unix.cmp(&b.published_unix).then_with(|| a.run_id.cmp(&b.run_id)));
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<&RunRecord> = v.into_iter().rev().filter(|r| seen.insert(r.run_id.as_str())).collect();
    out.reverse();
    out
}

/// Changes since the latest earlier record. `ranking` is this run's full ranking, best
/// first, whose first `n_picks` are the picks; `history` is oldest first, as [`earlier`]
/// gives it.
pub fn changes(ranking: &[Symbol], n_picks: usize, history: &[&RunRecord]) -> Option<Changes> {
    let prev = *history.last()?;
    let prev_rank: HashMap<&Symbol, usize> = prev.ranking.iter().enumerate().map(|(i, s)| (s, i + 1)).collect();
    let now_rank: HashMap<&Symbol, usize> = ranking.iter().enumerate().map(|(i, s)| (s, i + 1)).collect();
    let now_picks = &ranking[..n_picks.min(ranking.len())];
    let picks = now_picks
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let previous_rank = prev_rank.get(s).copied();
            PickChange {
                symbol: s.clone(),
                rank: i + 1,
                previous_rank,
                moved: previous_rank.map(|r| r as i64 - (i + 1) as i64),
                new_entry: !prev.picks.contains(s),
                streak: 1 + history.iter().rev().take_while(|r| r.picks.contains(s)).count(),
            }
        })
        .collect::<Vec<_>>();
    let dropped = prev
        .picks
        .iter()
        .filter(|s| !now_picks.contains(s))
        .map(|s| DropOut { symbol: s.clone(), previous_rank: prev_rank[s], rank: now_rank.get(s).copied() })
        .collect();
    Some(Changes {
        previous_run: prev.run_id.clone(),
        previous_published: time::rfc3339(prev.published_unix),
        new_entries: picks.iter().filter(|c| c.new_entry).count(),
        picks,
        dropped,
    })
}

/// The track record of each earlier run, newest first, from this run's prices only.
pub fn track_record(now_prices: &BTreeMap<Symbol, f64>, now: i64, history: &[&RunRecord]) -> Vec<TrackRecord> {
    history
        .iter()
        .rev()
        .map(|r| {
            let ret = |s: &Symbol| -> Option<f64> {
                let (p0, p1) = (*r.prices.get(s)?, *now_prices.get(s)?);
                (p0 > 0.0 && p1 > 0.0).then(|| p1 / p0 - 1.0)
            };
            let mut all: Vec<f64> = r.prices.keys().filter_map(ret).collect();
            all.sort_by(f64::total_cmp);
            let median = median_sorted(&all);
            let pick_returns: Vec<f64> = r.picks.iter().filter_map(ret).collect();
            let mean = (!pick_returns.is_empty()).then(|| pick_returns.iter().sum::<f64>() / pick_returns.len() as f64);
            TrackRecord {
                run_id: r.run_id.clone(),
                published: time::rfc3339(r.published_unix),
                days: ((now - r.published_unix) as f64 / 86_400.0 * 10.0).round() / 10.0,
                picks_priced: pick_returns.len(),
                picks_unpriced: r.picks.len() - pick_returns.len(),
                picks_return: mean.map(round6),
                universe_median: median.map(round6),
                universe_priced: all.len(),
                excess: mean.zip(median).map(|(a, b)| round6(a - b)),
                beat_median: median.map_or(0, |m| pick_returns.iter().filter(|x| **x > m).count()),
            }
        })
        .collect()
}

fn median_sorted(v: &[f64]) -> Option<f64> {
    match v.len() {
        0 => None,
        n if n % 2 == 1 => Some(v[n / 2]),
        n => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(s: &str) -> Symbol {
        Symbol::parse(s).unwrap()
    }

    fn record(id: &str, at: i64, picks: &[&str], ranking: &[&str], prices: &[(&str, f64)]) -> RunRecord {
        RunRecord {
            run_id: id.into(),
            published_unix: at,
            data_source: DataSource::Simulator,
            partial: false,
            picks: picks.iter().map(|s| sym(s)).collect(),
            ranking: ranking.iter().map(|s| sym(s)).collect(),
            prices: prices.iter().map(|(s, p)| (sym(s), *p)).collect(),
        }
    }

    #[test]
    fn earlier_skips_itself_other_sources_and_the_future() {
        let mut other = record("b", 50, &[], &[], &[]);
        other.data_source = DataSource::Alphavantage;
        let recs = vec![
            record("c", 300, &[], &[], &[]),
            record("a", 100, &[], &[], &[]),
            other,
            record("me", 90, &[], &[], &[]),
            record("z", 200, &[], &[], &[]),
            record("a", 120, &[], &[], &[]),
        ];
        let got: Vec<&str> = earlier(&recs, "me", DataSource::Simulator, 250).iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(got, vec!["a", "z"]);
        assert_eq!(earlier(&recs, "me", DataSource::Simulator, 250)[0].published_unix, 120);
    }

    #[test]
    fn track_record_uses_only_stored_and_current_prices() {
        let then =
            record("w1", 0, &["AAA", "BBB"], &["AAA", "BBB", "CCC", "DDD"], &[("AAA", 100.0), ("BBB", 50.0), ("CCC", 10.0), ("DDD", 20.0)]);
        // Now: AAA +10%, BBB -10%, CCC +0%, DDD +5%; EEE is new and has no price then.
        let now: BTreeMap<Symbol, f64> =
            [("AAA", 110.0), ("BBB", 45.0), ("CCC", 10.0), ("DDD", 21.0), ("EEE", 5.0)].iter().map(|(s, p)| (sym(s), *p)).collect();
        let t = &track_record(&now, 7 * 86_400, &[&then])[0];
        assert_eq!(t.picks_priced, 2);
        assert_eq!(t.picks_return, Some(0.0));
        // Sorted returns -0.1, 0, 0.05, 0.1: median 0.025.
        assert_eq!(t.universe_median, Some(0.025));
        assert_eq!(t.universe_priced, 4);
        assert_eq!(t.excess, Some(-0.025));
        assert_eq!(t.beat_median, 1);
        assert_eq!(t.days, 7.0);
    }

    #[test]
    fn a_pick_without_a_price_now_is_counted_not_guessed() {
        let then = record("w1", 0, &["AAA", "BBB"], &["AAA", "BBB"], &[("AAA", 100.0), ("BBB", 50.0)]);
        let now: BTreeMap<Symbol, f64> = [(sym("AAA"), 120.0)].into_iter().collect();
        let t = &track_record(&now, 86_400, &[&then])[0];
        assert_eq!((t.picks_priced, t.picks_unpriced), (1, 1));
        assert_eq!(t.picks_return, Some(0.2));
    }

    #[test]
    fn changes_name_new_entries_drop_outs_moves_and_streaks() {
        let w1 = record("w1", 0, &["AAA", "BBB"], &["AAA", "BBB", "CCC", "DDD"], &[]);
        let w2 = record("w2", 10, &["BBB", "AAA"], &["BBB", "AAA", "CCC", "DDD"], &[]);
        let now: Vec<Symbol> = ["AAA", "CCC", "BBB"].iter().map(|s| sym(s)).collect();
        let c = changes(&now, 2, &[&w1, &w2]).unwrap();
        assert_eq!(c.previous_run, "w2");
        assert_eq!(
            c.picks[0],
            PickChange { symbol: sym("AAA"), rank: 1, previous_rank: Some(2), moved: Some(1), new_entry: false, streak: 3 }
        );
        assert_eq!(
            c.picks[1],
            PickChange { symbol: sym("CCC"), rank: 2, previous_rank: Some(3), moved: Some(1), new_entry: true, streak: 1 }
        );
        assert_eq!(c.new_entries, 1);
        assert_eq!(c.dropped, vec![DropOut { symbol: sym("BBB"), previous_rank: 1, rank: Some(3) }]);
        assert!(changes(&now, 2, &[]).is_none());
    }
}
