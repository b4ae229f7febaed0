//! Cross-sectional scoring: percentile ranks within each GICS sector, group means, a
//! composite, grades and reasons. Pure and deterministic: the same inputs in any order
//! give the same ranking, byte for byte.

use super::factors::{write_fixed, write_value};
use super::fundamentals::{Fundamentals, Rejected};
use super::model::{Direction, Model, ModelFactor};
use super::named::NamedMap;
use super::sectors::{self, SectorSource};
use super::symbol::Symbol;
use super::universe::Member;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One company's input to scoring.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub member: Member,
    pub fundamentals: Fundamentals,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Grade {
    A,
    B,
    C,
    D,
    F,
}

impl Grade {
    /// Fixed cut-offs on a 0-100 group score (itself a mean of percentiles).
    pub fn from_score(score: f64) -> Grade {
        match score {
            s if s >= 80.0 => Grade::A,
            s if s >= 60.0 => Grade::B,
            s if s >= 40.0 => Grade::C,
            s if s >= 20.0 => Grade::D,
            _ => Grade::F,
        }
    }

    pub fn letter(self) -> &'static str {
        match self {
            Grade::A => "A",
            Grade::B => "B",
            Grade::C => "C",
            Grade::D => "D",
            Grade::F => "F",
        }
    }
}

/// Against whom a percentile was computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Peers {
    Sector,
    Universe,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FactorScore {
    /// Raw value (after winsorizing, if the model asks for it); `null` when missing.
    pub value: Option<f64>,
    /// 0-100, 100 = best in its peer set; `null` when the value is missing.
    pub percentile: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peers: Option<Peers>,
    /// How many stocks had a value in that peer set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_count: Option<usize>,
    /// Why the value is missing (a validity rule, or the input the reply lacked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankedStock {
    pub rank: usize,
    pub symbol: Symbol,
    pub name: String,
    /// The peer group: a GICS sector, or "No sector" (ranked against the whole universe).
    pub sector: String,
    /// Where `sector` came from.
    #[serde(default = "universe_file")]
    pub sector_source: SectorSource,
    /// Composite score 0-100.
    pub score: f64,
    pub grades: NamedMap<Option<Grade>>,
    pub group_scores: NamedMap<Option<f64>>,
    pub factors: NamedMap<FactorScore>,
    /// Share of the model's factor weight that had data (0-1).
    pub coverage: f64,
    pub reasons: Vec<String>,
    pub price: Option<f64>,
    /// Other share classes of the same company, ranked below this one and left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_classes: Vec<Symbol>,
    /// Values of the reply that the validity rules set aside, with their reasons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<Rejected>,
    /// Validated LLM commentary (picks only, when commentary is on and it passed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commentary: Option<String>,
    /// The LLM's 1-10 score, when the model's `llm_weight` is on and it gave a valid one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm_score: Option<u8>,
}

fn universe_file() -> SectorSource {
    SectorSource::UniverseFile
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unranked {
    pub symbol: Symbol,
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    pub ranked: Vec<RankedStock>,
    pub unranked: Vec<Unranked>,
}

/// Rounds for output: two decimals are far below any meaningful difference and keep the
/// JSON short and stable.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A share 0-1 to 4 decimals, as the nearest double to the decimal (0.8333, never
/// 0.8332999999999999).
fn round4(x: f64) -> f64 {
    format!("{x:.4}").parse().unwrap_or(x)
}

/// One stock's cell of one factor: value, percentile, peer set, standing.
type Cell = (Option<f64>, Option<f64>, Option<Peers>, Option<Standing>);

/// Six significant digits: exact inputs such as 0.243 survive unchanged, and computed
/// ratios lose only floating-point noise.
fn sig6(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    // Scale by an exact power of ten (multiplying or dividing, never by an inexact 10^-k).
    let k = 5 - x.abs().log10().floor() as i32;
    if k >= 0 {
        let m = 10f64.powi(k.min(22));
        (x * m).round() / m
    } else {
        let m = 10f64.powi((-k).min(22));
        (x / m).round() * m
    }
}

/// Where a value stands in its peer set: places counted from the top and from the bottom
/// (ties share the better place), and the set's size.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Standing {
    from_top: usize,
    from_bottom: usize,
    of: usize,
}

/// Mid-rank percentiles (0-100) of `values` (index, value); ties share a percentile.
/// Percentiles are rounded to 2 decimals here, once: the composite is computed from the
/// same numbers `results.json` and `explain` show.
fn percentiles(values: &mut [(usize, f64)], out: &mut [Option<f64>], standing: &mut [Option<Standing>]) {
    let n = values.len();
    if n == 0 {
        return;
    }
    values.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && values[j + 1].1 == values[i].1 {
            j += 1;
        }
        let p = if n == 1 { 50.0 } else { round2((i + j) as f64 / 2.0 / (n - 1) as f64 * 100.0) };
        for (idx, _) in &values[i..=j] {
            out[*idx] = Some(p);
            standing[*idx] = Some(Standing { from_top: n - j, from_bottom: i + 1, of: n });
        }
        i = j + 1;
    }
}

/// Value at quantile `q` of sorted data (linear interpolation).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// One factor's values across the universe.
struct Column {
    /// Raw values, winsorized where the model asks.
    raw: Vec<Option<f64>>,
    /// Percentiles, oriented so that 100 is best.
    pct: Vec<Option<f64>>,
    peers: Vec<Option<Peers>>,
    /// Oriented like `pct`: `from_top` is the place counted from the best.
    standing: Vec<Option<Standing>>,
}

/// Computes one factor for every stock: raw value, winsorizing across the universe, then
/// percentiles universe-wide and, where a sector has enough stocks with data, within it.
fn factor_column(model: &Model, mf: &ModelFactor, cands: &[&Candidate], sectors: &HashMap<&str, Vec<usize>>) -> Column {
    let n = cands.len();
    let mut raw: Vec<Option<f64>> = cands.iter().map(|c| (mf.def.compute)(&c.fundamentals).filter(|v| v.is_finite())).collect();
    if let Some((lo, hi)) = mf.winsor {
        let mut vals: Vec<f64> = raw.iter().flatten().copied().collect();
        if vals.len() >= 2 {
            vals.sort_by(f64::total_cmp);
            let (a, b) = (quantile(&vals, lo), quantile(&vals, hi));
            for v in raw.iter_mut().flatten() {
                *v = v.clamp(a, b);
            }
        }
    }
    let mut pct = vec![None; n];
    let mut peers = vec![None; n];
    let mut standing = vec![None; n];
    let mut buf: Vec<(usize, f64)> = raw.iter().enumerate().filter_map(|(i, v)| v.map(|v| (i, v))).collect();
    percentiles(&mut buf, &mut pct, &mut standing);
    for (p, peer) in pct.iter().zip(peers.iter_mut()) {
        if p.is_some() {
            *peer = Some(Peers::Universe);
        }
    }
    if model.sector_relative {
        for members in sectors.values() {
            buf.clear();
            buf.extend(members.iter().filter_map(|&i| raw[i].map(|v| (i, v))));
            if buf.len() >= model.min_sector_size {
                percentiles(&mut buf, &mut pct, &mut standing);
                for &i in members {
                    if pct[i].is_some() {
                        peers[i] = Some(Peers::Sector);
                    }
                }
            }
        }
    }
    if mf.direction == Direction::Lower {
        for p in pct.iter_mut().flatten() {
            *p = round2(100.0 - *p);
        }
        for s in standing.iter_mut().flatten() {
            std::mem::swap(&mut s.from_top, &mut s.from_bottom);
        }
    }
    Column { raw, pct, peers, standing }
}

/// Group scores and the composite from percentiles: a group's score is the weighted mean of
/// its factors with a percentile (weights within the group), the composite the weighted
/// mean of the groups with a score (0 when none has). `factors` is (group, weight,
/// percentile) in model order. `explain` calls this same function on the percentiles
/// `results.json` holds, so its total is the score to the last bit.
pub fn combine(group_weights: &[f64], factors: &[(usize, f64, Option<f64>)]) -> (Vec<Option<f64>>, f64) {
    let groups: Vec<Option<f64>> = (0..group_weights.len())
        .map(|g| {
            let (mut sum, mut w) = (0.0, 0.0);
            for &(group, weight, pct) in factors {
                if let (true, Some(p)) = (group == g && weight > 0.0, pct) {
                    sum += p * weight;
                    w += weight;
                }
            }
            (w > 0.0).then(|| sum / w)
        })
        .collect();
    let (mut sum, mut w) = (0.0, 0.0);
    for (g, s) in groups.iter().enumerate() {
        if let Some(s) = s {
            sum += s * group_weights[g];
            w += group_weights[g];
        }
    }
    (groups, if w > 0.0 { sum / w } else { 0.0 })
}

/// Scores and ranks `candidates`. Order of the input does not matter.
pub fn rank(model: &Model, candidates: &[Candidate]) -> Ranking {
    rank_with_threads(model, candidates, std::thread::available_parallelism().map_or(1, |n| n.get()).min(8))
}

/// Large universes use up to `threads` threads; the result does not depend on it.
fn rank_with_threads(model: &Model, candidates: &[Candidate], threads: usize) -> Ranking {
    let mut cands: Vec<&Candidate> = candidates.iter().collect();
    cands.sort_by(|a, b| a.member.symbol.cmp(&b.member.symbol));
    let n = cands.len();
    let nf = model.factors.len();

    // Peer sectors: the universe file's GICS sector, else one mapped from the reply; a stock
    // with neither is in no sector bucket and is ranked against the universe only.
    let resolved: Vec<(String, SectorSource)> = cands
        .iter()
        .map(|c| sectors::resolve(&c.member.sector, c.fundamentals.av_industry.as_deref(), c.fundamentals.av_sector.as_deref()))
        .collect();
    let mut sectors: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (sector, source)) in resolved.iter().enumerate() {
        if *source != SectorSource::None {
            sectors.entry(sector.as_str()).or_default().push(i);
        }
    }

    // One column per factor, computed independently (on every core for large universes).
    let column = |mf: &ModelFactor| factor_column(model, mf, &cands, &sectors);
    let columns: Vec<Column> = if threads < 2 || n < 4096 {
        model.factors.iter().map(column).collect()
    } else {
        let per = nf.div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> =
                model.factors.chunks(per).map(|part| scope.spawn(move || part.iter().map(column).collect::<Vec<_>>())).collect();
            handles.into_iter().flat_map(|h| h.join().expect("scoring thread panicked")).collect()
        })
    };

    // Stock-major rows from here on: each stock's factors sit together in memory, so the
    // per-stock passes below (in score order, i.e. random) touch one contiguous slice.
    let mut cells: Vec<Cell> = Vec::with_capacity(n * nf);
    for i in 0..n {
        cells.extend(columns.iter().map(|c| (c.raw[i], c.pct[i], c.peers[i], c.standing[i])));
    }
    drop(columns);
    let row = |i: usize| &cells[i * nf..(i + 1) * nf];

    // Group scores, coverage, composite.
    struct Scored {
        i: usize,
        composite: f64,
        coverage: f64,
        groups: Vec<Option<f64>>,
    }
    let mut scored = Vec::with_capacity(n);
    let mut unranked = Vec::new();
    for (i, cand) in cands.iter().enumerate() {
        let r = row(i);
        // `+ 0.0`: an empty f64 sum is -0.0, which prints as "-0%".
        let coverage: f64 = model.factors.iter().zip(r).filter(|(_, c)| c.1.is_some()).map(|(f, _)| f.effective_weight).sum::<f64>() + 0.0;
        if coverage + 1e-9 < model.min_coverage {
            // Each missing factor with why: what a reader needs to believe the gap.
            let missing: Vec<String> = model
                .factors
                .iter()
                .enumerate()
                .filter(|(fi, f)| r[*fi].1.is_none() && f.effective_weight > 0.0)
                .map(|(_, f)| format!("{} ({})", f.def.name, f.def.missing_reason(&cand.fundamentals)))
                .collect();
            unranked.push(Unranked {
                symbol: cand.member.symbol.clone(),
                reason: format!(
                    "data for {:.0}% of the model's weight, {:.0}% required; missing: {}",
                    coverage * 100.0,
                    model.min_coverage * 100.0,
                    missing.join(", ")
                ),
            });
            continue;
        }
        let group_weights: Vec<f64> = model.groups.iter().map(|g| g.weight).collect();
        let cells: Vec<(usize, f64, Option<f64>)> = model.factors.iter().zip(r).map(|(f, c)| (f.group, f.weight, c.1)).collect();
        let (groups, composite) = combine(&group_weights, &cells);
        if !composite.is_finite() || groups.iter().flatten().any(|g| !g.is_finite()) {
            // Never ranked by an `inf` or NaN (which would sort by symbol instead).
            unranked.push(Unranked {
                symbol: cand.member.symbol.clone(),
                reason: "the composite score is not a finite number (check the model's weights)".into(),
            });
            continue;
        }
        scored.push(Scored { i, composite: round2(composite), coverage, groups });
    }

    // Total order: the composite rounded to 2 decimals (the score shown), then ticker.
    scored.sort_by(|a, b| b.composite.total_cmp(&a.composite).then_with(|| cands[a.i].member.symbol.cmp(&cands[b.i].member.symbol)));

    // One place per company: the better-ranked share class keeps it (a sequential pass).
    let mut company_pos: HashMap<std::borrow::Cow<'_, str>, usize> = HashMap::with_capacity(scored.len());
    let mut keep: Vec<(&Scored, Vec<Symbol>)> = Vec::with_capacity(scored.len());
    for s in &scored {
        let member = &cands[s.i].member;
        let key = member.company_key();
        if let Some(&pos) = company_pos.get(&key) {
            let (holder, others) = &mut keep[pos];
            others.push(member.symbol.clone());
            unranked.push(Unranked {
                symbol: member.symbol.clone(),
                reason: format!("another share class of the same company, {}, ranks higher", cands[holder.i].member.symbol),
            });
            continue;
        }
        company_pos.insert(key, keep.len());
        keep.push((s, Vec::new()));
    }

    // The ranked entries, built on every core in contiguous slices and joined in order,
    // so the result is the same whatever the number of threads.
    let build = |rank: usize, s: &Scored, others: &[Symbol]| -> RankedStock {
        let c = cands[s.i];
        let r = row(s.i);
        let mut factors = NamedMap::with_capacity(nf);
        for (mf, &(value, percentile, peers, standing)) in model.factors.iter().zip(r) {
            let missing = value.is_none().then(|| mf.def.missing_reason(&c.fundamentals));
            factors.push(
                mf.key.clone(),
                FactorScore { value: value.map(sig6), percentile, peers, peer_count: standing.map(|s| s.of), missing },
            );
        }
        let mut grades = NamedMap::with_capacity(model.groups.len());
        let mut group_scores = NamedMap::with_capacity(model.groups.len());
        for (g, grp) in model.groups.iter().enumerate() {
            grades.push(grp.name.clone(), s.groups[g].map(Grade::from_score));
            group_scores.push(grp.name.clone(), s.groups[g].map(round2));
        }
        RankedStock {
            rank,
            symbol: c.member.symbol.clone(),
            // The universe's name, unless it only knew the ticker and the data has a name.
            name: match &c.fundamentals.name {
                Some(n) if c.member.name == c.member.symbol.as_str() => n.clone(),
                _ => c.member.name.clone(),
            },
            sector: resolved[s.i].0.clone(),
            sector_source: resolved[s.i].1.clone(),
            score: s.composite,
            grades,
            group_scores,
            factors,
            coverage: round4(s.coverage),
            reasons: reasons(model, &resolved[s.i].0, s.coverage, |fi| r[fi]),
            rejected: c.fundamentals.rejected.clone(),
            price: c.fundamentals.price().map(sig6),
            other_classes: others.to_vec(),
            commentary: None,
            llm_score: None,
        }
    };
    let build_slice = |first: usize, part: &[(&Scored, Vec<Symbol>)]| -> Vec<RankedStock> {
        part.iter().enumerate().map(|(j, (s, others))| build(first + j + 1, s, others)).collect()
    };
    let ranked: Vec<RankedStock> = if threads < 2 || keep.len() < 4096 {
        build_slice(0, &keep)
    } else {
        let per = keep.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = keep.chunks(per).enumerate().map(|(ci, part)| scope.spawn(move || build_slice(ci * per, part))).collect();
            handles.into_iter().flat_map(|h| h.join().expect("ranking thread panicked")).collect()
        })
    };
    unranked.sort_by(|a, b| a.symbol.cmp(&b.symbol));
    Ranking { ranked, unranked }
}

/// Below this many peers a percentile steps by more than 5 points: the reason says the
/// place ("1st of 7 in Utilities") instead of a share ("top 1%").
pub const FEW_PEERS: usize = 20;
/// Below this coverage the reasons say how much of the model's weight had data.
pub const LOW_COVERAGE: f64 = 0.8;

/// "1st", "2nd", "3rd", "11th", "22nd".
fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Two or three plain-language reasons from a stock's strongest and weakest factors: a
/// Strength needs a percentile of 50 or more, the weakest factor is a Watch when it is
/// under 40 (otherwise a third Strength may stand), and a stock with under 80% coverage says so.
fn reasons(model: &Model, sector: &str, coverage: f64, get: impl Fn(usize) -> Cell) -> Vec<String> {
    let mut have: Vec<(usize, f64, f64, Peers, Standing)> = (0..model.factors.len())
        .filter(|fi| model.factors[*fi].effective_weight > 0.0)
        .filter_map(|fi| match get(fi) {
            (Some(v), Some(p), Some(peers), Some(st)) => Some((fi, v, p, peers, st)),
            _ => None,
        })
        .collect();
    // Strongest first; ties by model order so the text is reproducible.
    have.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
    let phrase = |prefix: &str, &(fi, v, p, peers, st): &(usize, f64, f64, Peers, Standing)| {
        let def = model.factors[fi].def;
        let mut s = String::with_capacity(96);
        s.push_str(prefix);
        s.push_str(": ");
        s.push_str(def.label);
        s.push(' ');
        write_value(&mut s, def.unit, v);
        s.push_str(" (");
        if st.of < FEW_PEERS {
            s.push_str(&ordinal(st.from_top));
            s.push_str(" of ");
            s.push_str(&st.of.to_string());
        } else if p >= 50.0 {
            // The share of peers at or above this place: 1st of 34 is the top 3%, not 1%.
            s.push_str("top ");
            write_fixed(&mut s, (st.from_top as f64 * 100.0 / st.of as f64).ceil(), 0);
            s.push('%');
        } else {
            s.push_str("bottom ");
            write_fixed(&mut s, (st.from_bottom as f64 * 100.0 / st.of as f64).ceil(), 0);
            s.push('%');
        }
        match peers {
            Peers::Sector => {
                s.push_str(" in ");
                s.push_str(sector);
                s.push(')');
            }
            Peers::Universe => s.push_str(" in the universe)"),
        }
        s
    };
    let mut out: Vec<String> = have.iter().take(2).filter(|h| h.2 >= 50.0).map(|h| phrase("Strength", h)).collect();
    if let Some(weakest) = have.iter().rev().find(|h| h.2 < 40.0) {
        out.push(phrase("Watch", weakest));
    } else if let Some(third) = have.get(2).filter(|h| h.2 >= 50.0) {
        out.push(phrase("Strength", third));
    }
    if out.is_empty() {
        out.push("No factor stands out; ranked on a broad middle-of-the-pack profile".to_string());
    }
    if coverage + 1e-9 < LOW_COVERAGE {
        let missing: Vec<&str> = (0..model.factors.len())
            .filter(|fi| model.factors[*fi].effective_weight > 0.0 && get(*fi).1.is_none())
            .map(|fi| model.factors[fi].def.label)
            .collect();
        out.push(format!("Low coverage: data for {:.0}% of the model's weight (missing: {})", coverage * 100.0, missing.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fundamentals::Field;
    use crate::domain::model::Model;

    fn member(sym: &str, sector: &str, cik: Option<&str>) -> Member {
        Member { symbol: Symbol::parse(sym).unwrap(), name: format!("{sym} Inc"), sector: sector.into(), cik: cik.map(String::from) }
    }

    fn cand(sym: &str, sector: &str, roe: f64, margin: f64) -> Candidate {
        let json = format!(r#"{{"ReturnOnEquityTTM":"{roe}","ProfitMargin":"{margin}"}}"#);
        Candidate { member: member(sym, sector, None), fundamentals: Fundamentals::from_overview(&serde_json::from_str(&json).unwrap()) }
    }

    fn quality_model() -> Model {
        Model::from_toml(
            "name='q'\nmin_sector_size=2\n[groups]\nquality=1\n[[factors]]\nname='roe'\ngroup='quality'\n[[factors]]\nname='profit_margin'\ngroup='quality'\n",
        )
        .unwrap()
    }

    #[test]
    fn percentiles_with_ties() {
        let mut v = vec![(0, 3.0), (1, 1.0), (2, 3.0), (3, 2.0)];
        let mut out = vec![None; 4];
        percentiles(&mut v, &mut out, &mut [None; 4]);
        let got: Vec<f64> = out.iter().map(|p| round2(p.unwrap())).collect();
        assert_eq!(got, vec![83.33, 0.0, 83.33, 33.33]);
        let mut one = vec![(0, 7.0)];
        let mut out1 = vec![None];
        percentiles(&mut one, &mut out1, &mut [None]);
        assert_eq!(out1, vec![Some(50.0)]);
    }

    #[test]
    fn ranks_are_sector_relative_and_order_independent() {
        let mut cs = vec![
            cand("AAA", "Tech", 0.30, 0.30),
            cand("BBB", "Tech", 0.10, 0.10),
            cand("CCC", "Utilities", 0.08, 0.08),
            cand("DDD", "Utilities", 0.02, 0.02),
        ];
        let m = quality_model();
        let a = rank(&m, &cs);
        cs.reverse();
        let b = rank(&m, &cs);
        assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
        // CCC is the best utility: it ties AAA at 100 and wins nothing over it but the symbol order.
        let order: Vec<_> = a.ranked.iter().map(|r| r.symbol.as_str()).collect();
        assert_eq!(order, ["AAA", "CCC", "BBB", "DDD"]);
        assert_eq!(a.ranked[0].score, 100.0);
        assert_eq!(a.ranked[0].grades["quality"], Some(Grade::A));
        assert_eq!(a.ranked[3].grades["quality"], Some(Grade::F));
    }

    #[test]
    fn low_coverage_is_unranked_with_reason_and_never_filled() {
        let mut thin = cand("THIN", "Tech", 0.5, 0.0);
        thin.fundamentals.numbers.set(Field::ProfitMargin, None);
        thin.fundamentals.numbers.set(Field::ReturnOnEquityTtm, None);
        let m = quality_model();
        let r = rank(&m, &[cand("AAA", "Tech", 0.3, 0.3), thin]);
        assert_eq!(r.ranked.len(), 1);
        assert_eq!(r.unranked[0].symbol.as_str(), "THIN");
        assert!(
            r.unranked[0]
                .reason
                .contains("missing: roe (ReturnOnEquityTTM not in the reply), profit_margin (ProfitMargin not in the reply)"),
            "{}",
            r.unranked[0].reason
        );
    }

    #[test]
    fn partial_data_keeps_missing_as_null() {
        let mut half = cand("HALF", "Tech", 0.5, 0.0);
        half.fundamentals.numbers.set(Field::ProfitMargin, None);
        let m = Model::from_toml(
            "name='q'\nmin_coverage=0.5\n[groups]\nquality=1\n[[factors]]\nname='roe'\ngroup='quality'\n[[factors]]\nname='profit_margin'\ngroup='quality'\n",
        )
        .unwrap();
        let r = rank(&m, &[half, cand("AAA", "Tech", 0.3, 0.3)]);
        let h = r.ranked.iter().find(|s| s.symbol.as_str() == "HALF").unwrap();
        assert_eq!(h.coverage, 0.5);
        assert_eq!(h.factors["profit_margin"].value, None);
        assert_eq!(h.factors["profit_margin"].percentile, None);
        let json = serde_json::to_value(h).unwrap();
        assert!(json["factors"]["profit_margin"]["value"].is_null());
    }

    #[test]
    fn share_classes_take_one_place() {
        let mut a = cand("GOOGL", "Comm", 0.3, 0.3);
        a.member.cik = Some("1652044".into());
        let mut c = cand("GOOG", "Comm", 0.29, 0.29);
        c.member.cik = Some("1652044".into());
        let r = rank(&quality_model(), &[c, a, cand("META", "Comm", 0.1, 0.1)]);
        let order: Vec<_> = r.ranked.iter().map(|r| r.symbol.as_str()).collect();
        assert_eq!(order, ["GOOGL", "META"]);
        assert_eq!(r.ranked[0].other_classes[0].as_str(), "GOOG");
        assert_eq!(r.ranked[1].rank, 2);
        assert!(r.unranked[0].reason.contains("GOOGL"));
    }

    #[test]
    fn lower_is_better_direction() {
        let m =
            Model::from_toml("name='b'\nmin_sector_size=1\n[groups]\nrisk=1\n[[factors]]\nname='beta'\ngroup='risk'\ndirection='lower'\n")
                .unwrap();
        let mk = |s: &str, beta: &str| Candidate {
            member: member(s, "X", None),
            fundamentals: Fundamentals::from_overview(&serde_json::from_str(&format!(r#"{{"Beta":"{beta}"}}"#)).unwrap()),
        };
        let r = rank(&m, &[mk("HIGH", "2.0"), mk("LOW", "0.5")]);
        assert_eq!(r.ranked[0].symbol.as_str(), "LOW");
    }

    #[test]
    fn reasons_name_strengths_and_a_weakness() {
        let m = Model::default_model();
        let universe: Vec<Candidate> = (0..20)
            .map(|i| {
                let x = i as f64 / 20.0;
                let json = format!(
                    r#"{{"ReturnOnEquityTTM":"{x}","ProfitMargin":"{x}","OperatingMarginTTM":"{x}","ReturnOnAssetsTTM":"{x}","EPS":"{}","MarketCapitalization":"1000","SharesOutstanding":"10","QuarterlyRevenueGrowthYOY":"{}"}}"#,
                    1.0 + x,
                    1.0 - x
                );
                Candidate { member: member(&format!("S{i}X"), "Tech", None), fundamentals: Fundamentals::from_overview(&serde_json::from_str(&json).unwrap()) }
            })
            .collect();
        let m2 = Model { min_coverage: 0.3, ..m };
        let r = rank(&m2, &universe);
        let top = &r.ranked[0];
        let (coverage_note, core): (Vec<&String>, Vec<&String>) = top.reasons.iter().partition(|r| r.starts_with("Low coverage"));
        assert!(core.len() >= 2 && core.len() <= 3, "{:?}", top.reasons);
        // 4 of the 14 factors have data: the reasons say so.
        assert_eq!(coverage_note.len(), 1, "{:?}", top.reasons);
        assert!(coverage_note[0].contains("missing: EBITDA/EV, Sales/price"), "{:?}", coverage_note);
        assert!(top.reasons.iter().any(|s| s.starts_with("Strength:") && s.contains("in Tech")), "{:?}", top.reasons);
        assert!(top.reasons.iter().any(|s| s.starts_with("Watch: Revenue growth")), "{:?}", top.reasons);
    }

    #[test]
    fn threads_do_not_change_the_result() {
        let cands: Vec<Candidate> = (0..5000)
            .map(|i| {
                let sym = format!("T{i}X");
                Candidate {
                    member: member(&sym, crate::domain::sectors::GICS_SECTORS[i % 11], Some(&format!("{}", i / 2))),
                    fundamentals: crate::domain::testdata::fundamentals(5, &sym),
                }
            })
            .collect();
        let m = Model::default_model();
        let one = serde_json::to_string(&rank_with_threads(&m, &cands, 1)).unwrap();
        let three = serde_json::to_string(&rank_with_threads(&m, &cands, 3)).unwrap();
        assert_eq!(one, three);
        // Pairs share a CIK here: one place per company.
        let r = rank_with_threads(&m, &cands, 3);
        assert!(r.ranked.len() <= 2500 && r.ranked.iter().all(|s| s.other_classes.len() <= 1));
    }

    #[test]
    fn grade_cutoffs() {
        assert_eq!(Grade::from_score(80.0), Grade::A);
        assert_eq!(Grade::from_score(79.99), Grade::B);
        assert_eq!(Grade::from_score(19.99), Grade::F);
    }
}
