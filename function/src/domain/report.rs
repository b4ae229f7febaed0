//! The report model: everything a run publishes (results.json, the CSV, the email),
//! built from the ranking, the fetch failures and the run's statistics. Pure.

use super::commentary::CommentarySource;
use super::history::{Changes, RunRecord, TrackRecord};
use super::model::Model;
use super::outcome::{ApiStats, FetchError};
use super::scoring::{self, Candidate, RankedStock, Unranked};
use super::source::DataSource;
use super::time;
use super::universe::Universe;
use super::Symbol;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunStats {
    pub api_calls: u64,
    pub throttled: u64,
    pub retries: u64,
    pub cache_hits: u64,
    pub elapsed_ms: u64,
    pub symbols_fetched: usize,
    pub symbols_failed: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// Companies in the ranking (one per company).
    pub ranked: usize,
    /// Symbols with enough data to score (ranked companies and their other share classes).
    pub scored: usize,
    pub universe: usize,
    /// scored / universe, 0-1.
    pub ratio: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub name: String,
    pub hash: String,
    /// Each factor's group and share of the whole model's weight, for `stockpicks explain`.
    #[serde(default)]
    pub weights: Vec<FactorWeight>,
    /// Share of the composite given to an LLM score (0 = off).
    #[serde(default)]
    pub llm_weight: f64,
    /// The groups' weights in model order, so `explain` recomputes the composite exactly.
    #[serde(default)]
    pub groups: Vec<GroupWeight>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupWeight {
    pub group: String,
    pub weight: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FactorWeight {
    pub factor: String,
    pub group: String,
    /// Share of the whole model's weight (0-1; all factors sum to 1).
    pub weight: f64,
    /// The weight within its group, as the model gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_in_group: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataDates {
    /// UTC date the data was fetched.
    pub fetched: String,
    /// The most common `LatestQuarter` among the fetched companies.
    pub latest_quarter: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub run_id: String,
    pub generated_at: String,
    pub data_source: DataSource,
    pub universe_size: usize,
    pub stats: RunStats,
    pub coverage: Coverage,
    /// Set when coverage is under the publish gate: why the run is partial.
    pub partial: Option<String>,
    pub data_date: DataDates,
    pub model: ModelInfo,
    pub version: String,
    pub top: usize,
    pub picks: Vec<RankedStock>,
    pub ranking: Vec<RankedStock>,
    pub unranked: Vec<Unranked>,
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Changes since the previous run of the same kind of data, when one is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Changes>,
    /// How each earlier stored run's picks did since it published, newest first.
    #[serde(default)]
    pub track_record: Vec<TrackRecord>,
    /// Where the picks' commentary came from.
    #[serde(default = "rules_only")]
    pub commentary: CommentarySource,
    /// Set when the model's `llm_weight` is on: what the LLM score did to the ranking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm_scoring: Option<LlmScoring>,
    /// What the OVERVIEW cache did, when the run used one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<super::cache::CacheReport>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LlmScoring {
    pub weight: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Ranked stocks that got a valid score.
    pub scored: usize,
    /// False when the LLM score changed the ranking: the same data can rank differently.
    pub applied: bool,
    pub note: String,
}

fn rules_only() -> CommentarySource {
    CommentarySource::rules("rule-based reasons")
}

/// What a run fetched, before scoring.
#[derive(Clone, Debug, Default)]
pub struct Fetched {
    pub candidates: Vec<Candidate>,
    pub failures: Vec<(Symbol, FetchError)>,
}

pub struct ReportInputs<'a> {
    pub run_id: &'a str,
    pub now_unix: i64,
    pub data_source: DataSource,
    pub universe: &'a Universe,
    pub model: &'a Model,
    pub top: usize,
    pub min_run_coverage: f64,
    pub api: ApiStats,
    pub elapsed_ms: u64,
    pub warnings: Vec<String>,
}

pub fn build(inputs: ReportInputs<'_>, fetched: &Fetched) -> RunReport {
    let ranking = scoring::rank(inputs.model, &fetched.candidates);
    let mut unranked = ranking.unranked;
    for (symbol, err) in &fetched.failures {
        unranked.push(Unranked { symbol: symbol.clone(), reason: format!("no data: {err}") });
    }
    unranked.sort_by(|a, b| a.symbol.cmp(&b.symbol));

    let ranked = ranking.ranked.len();
    let scored = ranked + ranking.ranked.iter().map(|r| r.other_classes.len()).sum::<usize>();
    let universe = inputs.universe.len();
    let ratio = if universe == 0 { 0.0 } else { scored as f64 / universe as f64 };
    let partial = (ratio < inputs.min_run_coverage).then(|| partial_reason(scored, universe, inputs.min_run_coverage, &fetched.failures));

    let mut quarters: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &fetched.candidates {
        if let Some(q) = c.fundamentals.latest_quarter.as_deref() {
            *quarters.entry(q).or_default() += 1;
        }
    }
    // Most common; on a tie the later quarter.
    let latest_quarter = quarters.iter().max_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(b.0))).map(|(q, _)| q.to_string());

    RunReport {
        run_id: inputs.run_id.to_string(),
        generated_at: time::rfc3339(inputs.now_unix),
        data_source: inputs.data_source,
        universe_size: universe,
        stats: RunStats {
            api_calls: inputs.api.api_calls,
            throttled: inputs.api.throttled,
            retries: inputs.api.retries,
            cache_hits: inputs.api.cache_hits,
            elapsed_ms: inputs.elapsed_ms,
            symbols_fetched: fetched.candidates.len(),
            symbols_failed: fetched.failures.len(),
        },
        coverage: Coverage { ranked, scored, universe, ratio: (ratio * 10_000.0).round() / 10_000.0 },
        partial,
        data_date: DataDates { fetched: time::date(inputs.now_unix), latest_quarter },
        model: ModelInfo {
            name: inputs.model.name.clone(),
            hash: inputs.model.hash.clone(),
            weights: inputs
                .model
                .factors
                .iter()
                .map(|f| FactorWeight {
                    factor: f.key.to_string(),
                    group: inputs.model.groups[f.group].name.to_string(),
                    weight: (f.effective_weight * 1e6).round() / 1e6,
                    weight_in_group: Some(f.weight),
                })
                .collect(),
            llm_weight: inputs.model.llm_weight,
            groups: inputs.model.groups.iter().map(|g| GroupWeight { group: g.name.to_string(), weight: g.weight }).collect(),
        },
        version: env!("CARGO_PKG_VERSION").to_string(),
        top: inputs.top,
        picks: ranking.ranked.iter().take(inputs.top).cloned().collect(),
        ranking: ranking.ranked,
        unranked,
        warnings: inputs.warnings,
        changes: None,
        track_record: Vec::new(),
        commentary: rules_only(),
        llm_scoring: None,
        cache: None,
    }
}

/// Mixes an LLM's 1-10 scores into the composite with `weight`, re-sorts (score, then
/// symbol) and renumbers; the picks are the new top. A stock without a valid LLM score
/// keeps its composite, as a stock missing a factor does: nothing is filled in.
pub fn apply_llm_scores(r: &mut RunReport, scores: &BTreeMap<Symbol, u8>, weight: f64) {
    for p in &mut r.ranking {
        p.llm_score = scores.get(&p.symbol).copied();
        if let Some(s) = p.llm_score {
            let llm = (s as f64 - 1.0) / 9.0 * 100.0;
            p.score = ((1.0 - weight) * p.score + weight * llm) * 100.0;
            p.score = p.score.round() / 100.0;
        }
    }
    r.ranking.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.symbol.cmp(&b.symbol)));
    for (i, p) in r.ranking.iter_mut().enumerate() {
        p.rank = i + 1;
    }
    r.picks = r.ranking.iter().take(r.top).cloned().collect();
}

/// "scored 20 of 503 symbols (4.0%, under the 90% gate): 483 had no data (daily quota exhausted: 478, unknown symbol: 5)"
fn partial_reason(scored: usize, universe: usize, gate: f64, failures: &[(Symbol, FetchError)]) -> String {
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for (_, e) in failures {
        *kinds.entry(short_kind(e).to_string()).or_default() += 1;
    }
    let pct = if universe == 0 { 0.0 } else { scored as f64 / universe as f64 * 100.0 };
    let mut s = format!("scored {scored} of {universe} symbols ({pct:.1}%, under the {:.0}% gate)", gate * 100.0);
    if !failures.is_empty() {
        let mut list: Vec<(String, usize)> = kinds.into_iter().collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let parts: Vec<String> = list.iter().map(|(k, n)| format!("{k}: {n}")).collect();
        s.push_str(&format!("; {} had no data ({})", failures.len(), parts.join(", ")));
    }
    s
}

fn short_kind(e: &FetchError) -> &'static str {
    match e {
        FetchError::Throttled => "throttled",
        FetchError::DailyQuotaExhausted => "daily quota exhausted",
        FetchError::PremiumOnly => "premium only",
        FetchError::DemoKey => "demo key",
        FetchError::InvalidCall(_) => "rejected call",
        FetchError::NotFound => "unknown symbol",
        FetchError::Malformed(_) => "malformed reply",
        FetchError::Http(_) => "HTTP error",
        FetchError::Redirect(_) => "redirect refused",
        FetchError::ApiDown(_) => "API down",
        FetchError::Timeout => "timeout",
        FetchError::Transport(_) => "network error",
        FetchError::Unfinished(_) => "run part unfinished",
    }
}

impl RunReport {
    /// The email subject.
    pub fn subject(&self) -> String {
        let mut s = String::new();
        if self.partial.is_some() {
            s.push_str("PARTIAL: ");
        }
        if self.data_source.is_synthetic() {
            s.push_str("[SYNTHETIC] ");
        }
        s.push_str(&format!("stockpicks: top {} for {}", self.picks.len(), self.data_date.fetched));
        s
    }

    /// The first line of every rendering: says PARTIAL and why, or what the run covered.
    pub fn headline(&self) -> String {
        let mut h = self.headline_core();
        if let Some(l) = self.llm_scoring.as_ref().filter(|l| l.applied) {
            h.push_str(&format!(
                " The ranking includes an LLM score ({:.0}% weight): it is not reproducible from the data alone.",
                l.weight * 100.0
            ));
        }
        h
    }

    fn headline_core(&self) -> String {
        match &self.partial {
            Some(why) => format!("PARTIAL REPORT: {why}."),
            None => format!(
                "Top {} of {} ranked companies ({} of {} symbols scored, {:.1}%).",
                self.picks.len(),
                self.coverage.ranked,
                self.coverage.scored,
                self.coverage.universe,
                self.coverage.ratio * 100.0
            ),
        }
    }
}

/// One factor's part in a stock's score.
#[derive(Clone, Debug, PartialEq)]
pub struct FactorPart {
    pub factor: String,
    pub group: String,
    pub value: Option<f64>,
    pub percentile: Option<f64>,
    pub peers: Option<super::scoring::Peers>,
    /// The model's weight (share of the whole model).
    pub weight: f64,
    /// The weight this stock's score actually gave it (re-spread over factors with data).
    pub applied_weight: f64,
    /// applied_weight x percentile: the points it added to the score.
    pub contribution: f64,
}

/// Why a stock got its rank.
#[derive(Clone, Debug, PartialEq)]
pub enum Explanation<'a> {
    /// `total` is the data's score recomputed from the parts, as the scorer computes it.
    Ranked {
        stock: &'a RankedStock,
        of: usize,
        parts: Vec<FactorPart>,
        total: f64,
    },
    Unranked {
        reason: &'a str,
    },
    NotInRun,
}

impl RunReport {
    /// Each factor's value, percentile, weight and contribution for `symbol`. The
    /// contributions add up to the score (to rounding): a group's score is the weighted
    /// mean of its factors with data, the composite the weighted mean of groups with data.
    pub fn explain(&self, symbol: &Symbol) -> Explanation<'_> {
        let Some(stock) = self.ranking.iter().find(|p| &p.symbol == symbol) else {
            return match self.unranked.iter().find(|u| &u.symbol == symbol) {
                Some(u) => Explanation::Unranked { reason: &u.reason },
                None => Explanation::NotInRun,
            };
        };
        let has = |f: &FactorWeight| stock.factors.get(&f.factor).and_then(|x| x.percentile).is_some();
        let mut group_mass: BTreeMap<&str, (f64, f64)> = BTreeMap::new(); // (all, with data)
        for f in &self.model.weights {
            let e = group_mass.entry(f.group.as_str()).or_default();
            e.0 += f.weight;
            if has(f) {
                e.1 += f.weight;
            }
        }
        let live_mass: f64 = group_mass.values().filter(|(_, d)| *d > 0.0).map(|(a, _)| a).sum();
        let parts = self
            .model
            .weights
            .iter()
            .map(|f| {
                let fs = stock.factors.get(&f.factor);
                let (all, with_data) = group_mass[f.group.as_str()];
                let applied = if has(f) && with_data > 0.0 && live_mass > 0.0 { f.weight / with_data * all / live_mass } else { 0.0 };
                let percentile = fs.and_then(|x| x.percentile);
                FactorPart {
                    factor: f.factor.clone(),
                    group: f.group.clone(),
                    value: fs.and_then(|x| x.value),
                    percentile,
                    peers: fs.and_then(|x| x.peers),
                    weight: f.weight,
                    applied_weight: applied,
                    contribution: applied * percentile.unwrap_or(0.0),
                }
            })
            .collect::<Vec<FactorPart>>();
        let total = self.recomputed_score(&parts);
        Explanation::Ranked { stock, of: self.ranking.len(), parts, total }
    }

    /// The composite from `parts` by the scorer's own arithmetic (`scoring::combine`), rounded
    /// as the score is; a results.json from before group weights were recorded falls back to
    /// the sum of the contributions.
    fn recomputed_score(&self, parts: &[FactorPart]) -> f64 {
        let within: Option<Vec<f64>> = self.model.weights.iter().map(|w| w.weight_in_group).collect();
        match within {
            Some(within) if !self.model.groups.is_empty() => {
                let group_weights: Vec<f64> = self.model.groups.iter().map(|g| g.weight).collect();
                let cells: Vec<(usize, f64, Option<f64>)> = parts
                    .iter()
                    .zip(within)
                    .map(|(p, w)| (self.model.groups.iter().position(|g| g.group == p.group).unwrap_or(usize::MAX), w, p.percentile))
                    .collect();
                scoring::round2(scoring::combine(&group_weights, &cells).1)
            }
            _ => scoring::round2(parts.iter().map(|p| p.contribution).sum()),
        }
    }

    /// Picks per sector against ranked companies per sector, by number of picks.
    pub fn sector_mix(&self) -> Vec<(String, usize, usize)> {
        let mut m: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for p in &self.ranking {
            m.entry(p.sector.as_str()).or_default().1 += 1;
        }
        for p in &self.picks {
            m.entry(p.sector.as_str()).or_default().0 += 1;
        }
        let mut v: Vec<(String, usize, usize)> = m.into_iter().map(|(s, (a, b))| (s.to_string(), a, b)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
        v
    }
}

/// A run's history record is made from its report here, not in `history`: the history
/// needs only the record, so it does not depend on the report (the report does depend on
/// the history, for its changes and track record).
impl RunRecord {
    pub fn from_report(r: &RunReport, published_unix: i64) -> RunRecord {
        RunRecord {
            run_id: r.run_id.clone(),
            published_unix,
            data_source: r.data_source,
            partial: r.partial.is_some(),
            picks: r.picks.iter().map(|p| p.symbol.clone()).collect(),
            ranking: r.ranking.iter().map(|p| p.symbol.clone()).collect(),
            prices: r.ranking.iter().filter_map(|p| Some((p.symbol.clone(), p.price.filter(|x| *x > 0.0)?))).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fundamentals::Fundamentals;
    use crate::domain::universe::Member;

    fn inputs<'a>(u: &'a Universe, m: &'a Model) -> ReportInputs<'a> {
        ReportInputs {
            run_id: "20261128T1200Z-abcdef",
            now_unix: 1_795_863_909,
            data_source: DataSource::Simulator,
            universe: u,
            model: m,
            top: 25,
            min_run_coverage: 0.9,
            api: ApiStats::default(),
            elapsed_ms: 1,
            warnings: vec![],
        }
    }

    #[test]
    fn partial_when_under_the_gate_and_says_why() {
        let syms = ["AAA", "BBB", "CCC"];
        let u = Universe {
            members: syms
                .iter()
                .map(|s| Member { symbol: Symbol::parse(s).unwrap(), name: s.to_string(), sector: "X".into(), cik: None })
                .collect(),
        };
        let m = Model::from_toml("name='q'\n[groups]\nq=1\n[[factors]]\nname='roe'\ngroup='q'\n").unwrap();
        let f = Fundamentals::from_overview(&serde_json::from_str(r#"{"ReturnOnEquityTTM":"0.2","LatestQuarter":"2026-09-30"}"#).unwrap());
        let fetched = Fetched {
            candidates: vec![Candidate { member: u.members[0].clone(), fundamentals: f }],
            failures: vec![
                (u.members[1].symbol.clone(), FetchError::DailyQuotaExhausted),
                (u.members[2].symbol.clone(), FetchError::DailyQuotaExhausted),
            ],
        };
        let r = build(inputs(&u, &m), &fetched);
        let why = r.partial.clone().unwrap();
        assert!(why.contains("scored 1 of 3") && why.contains("daily quota exhausted: 2"), "{why}");
        assert!(r.subject().starts_with("PARTIAL: [SYNTHETIC]"), "{}", r.subject());
        assert!(r.headline().starts_with("PARTIAL REPORT"));
        assert_eq!(r.unranked.len(), 2);
        assert!(r.unranked[0].reason.contains("daily quota"));
        assert_eq!(r.data_date.latest_quarter.as_deref(), Some("2026-09-30"));
        assert_eq!(r.generated_at, "2026-11-28T11:05:09Z");
    }

    #[test]
    fn explain_contributions_add_up_to_the_score() {
        let u = Universe::sp500();
        let m = Model::default_model();
        let candidates: Vec<Candidate> = u
            .members
            .iter()
            .map(|mem| Candidate { member: mem.clone(), fundamentals: crate::domain::testdata::fundamentals(7, mem.symbol.as_str()) })
            .collect();
        let r = build(inputs(&u, &m), &Fetched { candidates, failures: vec![] });
        let mut checked = 0;
        for p in r.ranking.iter().step_by(37) {
            let Explanation::Ranked { stock, parts, .. } = r.explain(&p.symbol) else { panic!("ranked") };
            let sum: f64 = parts.iter().map(|x| x.contribution).sum();
            assert!((sum - stock.score).abs() < 0.02, "{}: {sum} vs {}", p.symbol, stock.score);
            let applied: f64 = parts.iter().map(|x| x.applied_weight).sum();
            assert!((applied - 1.0).abs() < 1e-6);
            checked += 1;
        }
        assert!(checked > 10);
        // The test data misses fields now and then, so the weight spreading is exercised too.
        let spread = r.ranking.iter().filter(|p| {
            matches!(r.explain(&p.symbol), Explanation::Ranked { parts, .. } if parts.iter().any(|x| x.percentile.is_none() && x.weight > 0.0))
        });
        assert!(spread.count() > 10);
        // The total is the score exactly, for every ranked stock, also after a round trip
        // through results.json (the scorer's own arithmetic on the stored percentiles).
        let again: RunReport = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        for p in &again.ranking {
            let Explanation::Ranked { total, .. } = again.explain(&p.symbol) else { panic!("ranked") };
            assert_eq!(format!("{total:.2}"), format!("{:.2}", p.score), "{}", p.symbol);
            assert_eq!(total, p.score, "{}", p.symbol);
        }
        assert_eq!(r.explain(&Symbol::parse("ZZZZ").unwrap()), Explanation::NotInRun);
        let mix = r.sector_mix();
        assert_eq!(mix.iter().map(|x| x.1).sum::<usize>(), r.picks.len());
        assert_eq!(mix.iter().map(|x| x.2).sum::<usize>(), r.ranking.len());
    }
}
