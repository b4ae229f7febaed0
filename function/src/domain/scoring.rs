//! Cross-sectional scoring: percentile ranks within each GICS sector, group means, a
//! composite, grades and reasons. Pure and deterministic: the same inputs in any order
//! give the same ranking, byte for byte.

use super::factors::{format_value, Unit};
use super::fundamentals::Fundamentals;
use super::model::{Direction, Model};
use super::symbol::Symbol;
use super::universe::Member;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

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
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankedStock {
    pub rank: usize,
    pub symbol: Symbol,
    pub name: String,
    pub sector: String,
    /// Composite score 0-100.
    pub score: f64,
    pub grades: BTreeMap<String, Option<Grade>>,
    pub group_scores: BTreeMap<String, Option<f64>>,
    pub factors: BTreeMap<String, FactorScore>,
    /// Share of the model's factor weight that had data (0-1).
    pub coverage: f64,
    pub reasons: Vec<String>,
    pub price: Option<f64>,
    /// Other share classes of the same company, ranked below this one and left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_classes: Vec<Symbol>,
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
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Six significant digits: exact inputs such as 0.243 survive unchanged, and computed
/// ratios lose only floating-point noise.
fn sig6(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    format!("{x:.5e}").parse().unwrap_or(x)
}

/// Mid-rank percentiles (0-100) of `values` (index, value); ties share a percentile.
fn percentiles(values: &mut [(usize, f64)], out: &mut [Option<f64>]) {
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
        let p = if n == 1 { 50.0 } else { (i + j) as f64 / 2.0 / (n - 1) as f64 * 100.0 };
        for (idx, _) in &values[i..=j] {
            out[*idx] = Some(p);
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

/// Scores and ranks `candidates`. Order of the input does not matter.
pub fn rank(model: &Model, candidates: &[Candidate]) -> Ranking {
    let mut cands: Vec<&Candidate> = candidates.iter().collect();
    cands.sort_by(|a, b| a.member.symbol.cmp(&b.member.symbol));
    let n = cands.len();
    let nf = model.factors.len();

    // Raw factor values, winsorized across the universe where the model asks.
    let mut raw: Vec<Vec<Option<f64>>> = model
        .factors
        .iter()
        .map(|mf| cands.iter().map(|c| (mf.def.compute)(&c.fundamentals).filter(|v| v.is_finite())).collect())
        .collect();
    for (fi, mf) in model.factors.iter().enumerate() {
        if let Some((lo, hi)) = mf.winsor {
            let mut vals: Vec<f64> = raw[fi].iter().flatten().copied().collect();
            if vals.len() >= 2 {
                vals.sort_by(f64::total_cmp);
                let (a, b) = (quantile(&vals, lo), quantile(&vals, hi));
                for v in raw[fi].iter_mut().flatten() {
                    *v = v.clamp(a, b);
                }
            }
        }
    }

    // Sector membership, in a stable order.
    let mut sectors: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, c) in cands.iter().enumerate() {
        sectors.entry(c.member.sector.as_str()).or_default().push(i);
    }

    // Percentiles: universe-wide first, then sector-relative where the sector has enough
    // stocks with data for the factor.
    let mut pct: Vec<Vec<Option<f64>>> = vec![vec![None; n]; nf];
    let mut peers: Vec<Vec<Option<Peers>>> = vec![vec![None; n]; nf];
    let mut buf: Vec<(usize, f64)> = Vec::with_capacity(n);
    for (fi, mf) in model.factors.iter().enumerate() {
        buf.clear();
        buf.extend(raw[fi].iter().enumerate().filter_map(|(i, v)| v.map(|v| (i, v))));
        percentiles(&mut buf, &mut pct[fi]);
        for i in 0..n {
            if pct[fi][i].is_some() {
                peers[fi][i] = Some(Peers::Universe);
            }
        }
        if model.sector_relative {
            for members in sectors.values() {
                buf.clear();
                buf.extend(members.iter().filter_map(|&i| raw[fi][i].map(|v| (i, v))));
                if buf.len() >= model.min_sector_size {
                    percentiles(&mut buf, &mut pct[fi]);
                    for &i in members {
                        if pct[fi][i].is_some() {
                            peers[fi][i] = Some(Peers::Sector);
                        }
                    }
                }
            }
        }
        if mf.direction == Direction::Lower {
            for p in pct[fi].iter_mut().flatten() {
                *p = 100.0 - *p;
            }
        }
    }

    // Group scores, coverage, composite.
    struct Scored {
        i: usize,
        composite: f64,
        coverage: f64,
        groups: Vec<Option<f64>>,
    }
    let mut scored = Vec::with_capacity(n);
    let mut unranked = Vec::new();
    for i in 0..n {
        let coverage: f64 =
            model.factors.iter().enumerate().filter(|(fi, _)| pct[*fi][i].is_some()).map(|(_, f)| f.effective_weight).sum();
        if coverage + 1e-9 < model.min_coverage {
            let missing: Vec<&str> = model
                .factors
                .iter()
                .enumerate()
                .filter(|(fi, f)| pct[*fi][i].is_none() && f.effective_weight > 0.0)
                .map(|(_, f)| f.def.name)
                .collect();
            unranked.push(Unranked {
                symbol: cands[i].member.symbol.clone(),
                reason: format!(
                    "data for {:.0}% of the model's weight, {:.0}% required; missing: {}",
                    coverage * 100.0,
                    model.min_coverage * 100.0,
                    missing.join(", ")
                ),
            });
            continue;
        }
        let groups: Vec<Option<f64>> = (0..model.groups.len())
            .map(|g| {
                let (mut sum, mut w) = (0.0, 0.0);
                for (fi, f) in model.factors.iter().enumerate() {
                    if let (true, Some(p)) = (f.group == g && f.weight > 0.0, pct[fi][i]) {
                        sum += p * f.weight;
                        w += f.weight;
                    }
                }
                (w > 0.0).then(|| sum / w)
            })
            .collect();
        let (mut sum, mut w) = (0.0, 0.0);
        for (g, s) in groups.iter().enumerate() {
            if let Some(s) = s {
                sum += s * model.groups[g].weight;
                w += model.groups[g].weight;
            }
        }
        let composite = if w > 0.0 { sum / w } else { 0.0 };
        scored.push(Scored { i, composite: round2(composite), coverage, groups });
    }

    // Total order: score, then symbol.
    scored.sort_by(|a, b| b.composite.total_cmp(&a.composite).then_with(|| cands[a.i].member.symbol.cmp(&cands[b.i].member.symbol)));

    // One place per company: the better-ranked share class keeps it.
    let mut company_pos: HashMap<String, usize> = HashMap::new();
    let mut ranked: Vec<RankedStock> = Vec::with_capacity(scored.len());
    for s in &scored {
        let c = cands[s.i];
        let key = c.member.company_key();
        if let Some(&pos) = company_pos.get(&key) {
            let holder: &mut RankedStock = &mut ranked[pos];
            holder.other_classes.push(c.member.symbol.clone());
            unranked.push(Unranked {
                symbol: c.member.symbol.clone(),
                reason: format!("another share class of the same company, {}, ranks higher", holder.symbol),
            });
            continue;
        }
        company_pos.insert(key, ranked.len());
        let mut factors = BTreeMap::new();
        for (fi, mf) in model.factors.iter().enumerate() {
            factors.insert(
                mf.def.name.to_string(),
                FactorScore { value: raw[fi][s.i].map(sig6), percentile: pct[fi][s.i].map(round2), peers: peers[fi][s.i] },
            );
        }
        let mut grades = BTreeMap::new();
        let mut group_scores = BTreeMap::new();
        for (g, grp) in model.groups.iter().enumerate() {
            grades.insert(grp.name.clone(), s.groups[g].map(Grade::from_score));
            group_scores.insert(grp.name.clone(), s.groups[g].map(round2));
        }
        let reasons = reasons(model, &c.member.sector, |fi| (raw[fi][s.i], pct[fi][s.i], peers[fi][s.i]));
        ranked.push(RankedStock {
            rank: ranked.len() + 1,
            symbol: c.member.symbol.clone(),
            name: c.fundamentals.name.clone().filter(|_| c.member.name == c.member.symbol.as_str()).unwrap_or_else(|| c.member.name.clone()),
            sector: c.member.sector.clone(),
            score: s.composite,
            grades,
            group_scores,
            factors,
            coverage: round2(s.coverage * 100.0) / 100.0,
            reasons,
            price: c.fundamentals.price().map(sig6),
            other_classes: Vec::new(),
        });
    }
    unranked.sort_by(|a, b| a.symbol.cmp(&b.symbol));
    Ranking { ranked, unranked }
}

/// "top 8%" / "bottom 15%" for a percentile.
fn standing(p: f64) -> String {
    if p >= 50.0 {
        format!("top {:.0}%", (100.0 - p).max(1.0))
    } else {
        format!("bottom {:.0}%", p.max(1.0))
    }
}

/// Two or three plain-language reasons from a stock's strongest and weakest factors.
fn reasons(model: &Model, sector: &str, get: impl Fn(usize) -> (Option<f64>, Option<f64>, Option<Peers>)) -> Vec<String> {
    let mut have: Vec<(usize, f64, f64, Peers)> = (0..model.factors.len())
        .filter(|fi| model.factors[*fi].effective_weight > 0.0)
        .filter_map(|fi| match get(fi) {
            (Some(v), Some(p), Some(peers)) => Some((fi, v, p, peers)),
            _ => None,
        })
        .collect();
    // Strongest first; ties by model order so the text is reproducible.
    have.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
    let phrase = |&(fi, v, p, peers): &(usize, f64, f64, Peers)| {
        let def = model.factors[fi].def;
        let among = match peers {
            Peers::Sector => format!("in {sector}"),
            Peers::Universe => "in the universe".to_string(),
        };
        let value = match def.unit {
            Unit::Percent | Unit::Multiple | Unit::Consensus => format_value(def.unit, v),
        };
        format!("{} {} ({} {})", def.label, value, standing(p), among)
    };
    let mut out: Vec<String> = have.iter().take(2).filter(|h| h.2 >= 50.0).map(|h| format!("Strength: {}", phrase(h))).collect();
    if let Some(weakest) = have.iter().rev().find(|h| h.2 < 40.0) {
        out.push(format!("Watch: {}", phrase(weakest)));
    } else if let Some(third) = have.get(2).filter(|h| h.2 >= 50.0) {
        out.push(format!("Strength: {}", phrase(third)));
    }
    if out.is_empty() {
        out.push("No factor stands out; ranked on a broad middle-of-the-pack profile".to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
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
        percentiles(&mut v, &mut out);
        let got: Vec<f64> = out.iter().map(|p| round2(p.unwrap())).collect();
        assert_eq!(got, vec![83.33, 0.0, 83.33, 33.33]);
        let mut one = vec![(0, 7.0)];
        let mut out1 = vec![None];
        percentiles(&mut one, &mut out1);
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
        thin.fundamentals.numbers.remove("ProfitMargin");
        thin.fundamentals.numbers.remove("ReturnOnEquityTTM");
        let m = quality_model();
        let r = rank(&m, &[cand("AAA", "Tech", 0.3, 0.3), thin]);
        assert_eq!(r.ranked.len(), 1);
        assert_eq!(r.unranked[0].symbol.as_str(), "THIN");
        assert!(r.unranked[0].reason.contains("missing: roe, profit_margin"), "{}", r.unranked[0].reason);
    }

    #[test]
    fn partial_data_keeps_missing_as_null() {
        let mut half = cand("HALF", "Tech", 0.5, 0.0);
        half.fundamentals.numbers.remove("ProfitMargin");
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
        let m = Model::from_toml("name='b'\nmin_sector_size=1\n[groups]\nrisk=1\n[[factors]]\nname='beta'\ngroup='risk'\ndirection='lower'\n").unwrap();
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
        assert!(top.reasons.len() >= 2 && top.reasons.len() <= 3, "{:?}", top.reasons);
        assert!(top.reasons.iter().any(|s| s.starts_with("Strength:") && s.contains("in Tech")), "{:?}", top.reasons);
        assert!(top.reasons.iter().any(|s| s.starts_with("Watch: Revenue growth")), "{:?}", top.reasons);
    }

    #[test]
    fn grade_cutoffs() {
        assert_eq!(Grade::from_score(80.0), Grade::A);
        assert_eq!(Grade::from_score(79.99), Grade::B);
        assert_eq!(Grade::from_score(19.99), Grade::F);
    }
}
