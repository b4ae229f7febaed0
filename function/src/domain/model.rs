//! The scoring model: which factors, in which groups, with which weights and direction.
//! Read from TOML (an embedded default, or `--model FILE`) and validated completely
//! before any data is fetched, so a typo fails in a second, not after the API calls.

use super::factors::{self, FactorDef};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub const DEFAULT_MODEL_TOML: &str = include_str!("../../models/default.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default = "default_min_coverage")]
    min_coverage: f64,
    #[serde(default = "default_true")]
    sector_relative: bool,
    #[serde(default = "default_min_sector_size")]
    min_sector_size: usize,
    /// Share of the composite given to an LLM's 1-10 score (0 = off).
    #[serde(default)]
    llm_weight: f64,
    /// In file order: reports list the groups as the model does.
    groups: toml::Table,
    factors: Vec<FactorFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FactorFile {
    name: String,
    group: String,
    #[serde(default = "default_weight")]
    weight: f64,
    #[serde(default)]
    direction: Direction,
    winsor: Option<[f64; 2]>,
}

fn default_min_coverage() -> f64 {
    0.6
}
fn default_true() -> bool {
    true
}
fn default_min_sector_size() -> usize {
    10
}
fn default_weight() -> f64 {
    1.0
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    #[default]
    Higher,
    Lower,
}

#[derive(Clone, Debug)]
pub struct ModelFactor {
    pub def: &'static FactorDef,
    /// The factor's name, shared by every ranked stock's map instead of copied into each.
    pub key: Arc<str>,
    pub group: usize,
    /// Weight within its group, as given.
    pub weight: f64,
    /// Share of the whole model's weight (group share x share within group); sums to 1.
    pub effective_weight: f64,
    pub direction: Direction,
    pub winsor: Option<(f64, f64)>,
}

#[derive(Clone, Debug)]
pub struct Group {
    pub name: Arc<str>,
    pub weight: f64,
}

#[derive(Clone, Debug)]
pub struct Model {
    pub name: String,
    pub description: String,
    /// First 12 hex digits of the SHA-256 of the model text.
    pub hash: String,
    pub min_coverage: f64,
    pub sector_relative: bool,
    pub min_sector_size: usize,
    /// Share of the composite given to an LLM's 1-10 score; 0 (the default) = off, and
    /// only then is the ranking reproducible from the data alone.
    pub llm_weight: f64,
    pub groups: Vec<Group>,
    pub factors: Vec<ModelFactor>,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model file: {0}")]
    Syntax(String),
    #[error("model file: unknown factor {name:?} (known factors: {known})")]
    UnknownFactor { name: String, known: String },
    #[error("model file: factor {factor:?} names group {group:?}, which is not in [groups]")]
    UnknownGroup { factor: String, group: String },
    #[error("model file: {what} must be a number from 0 to 1000000, got {value}")]
    BadWeight { what: String, value: f64 },
    #[error("model file: {0}")]
    Invalid(String),
}

impl Model {
    pub fn default_model() -> Model {
        Model::from_toml(DEFAULT_MODEL_TOML).expect("embedded default model is valid")
    }

    pub fn from_toml(text: &str) -> Result<Model, ModelError> {
        let file: ModelFile = toml::from_str(text).map_err(|e| ModelError::Syntax(e.to_string()))?;
        if !(file.min_coverage > 0.0 && file.min_coverage <= 1.0) {
            return Err(ModelError::Invalid(format!("min_coverage must be in (0, 1], got {}", file.min_coverage)));
        }
        if !(0.0..0.5).contains(&file.llm_weight) {
            return Err(ModelError::Invalid(format!("llm_weight must be in [0, 0.5), got {}", file.llm_weight)));
        }
        if file.factors.is_empty() {
            return Err(ModelError::Invalid("no [[factors]]".into()));
        }
        let mut groups = Vec::with_capacity(file.groups.len());
        for (name, w) in &file.groups {
            let weight = w.as_float().or_else(|| w.as_integer().map(|i| i as f64)).ok_or_else(|| ModelError::BadWeight {
                what: format!("weight of group {name:?} ({w:?}, not a number)"),
                value: f64::NAN,
            })?;
            groups.push(Group { name: Arc::from(name.as_str()), weight });
        }
        for g in &groups {
            check_weight(&format!("weight of group {:?}", g.name), g.weight)?;
        }
        let mut seen = std::collections::HashSet::new();
        let mut factors = Vec::new();
        for f in &file.factors {
            let def = factors::lookup(&f.name).ok_or_else(|| ModelError::UnknownFactor {
                name: f.name.clone(),
                known: factors::FACTORS.iter().map(|d| d.name).collect::<Vec<_>>().join(", "),
            })?;
            if !seen.insert(f.name.as_str()) {
                return Err(ModelError::Invalid(format!("factor {:?} is listed twice", f.name)));
            }
            let group = groups
                .iter()
                .position(|g| *g.name == *f.group)
                .ok_or_else(|| ModelError::UnknownGroup { factor: f.name.clone(), group: f.group.clone() })?;
            check_weight(&format!("weight of factor {:?}", f.name), f.weight)?;
            if let Some([lo, hi]) = f.winsor {
                if !(0.0..0.5).contains(&lo) || !(0.5..=1.0).contains(&hi) || lo >= hi {
                    return Err(ModelError::Invalid(format!(
                        "winsor of factor {:?} must be [low, high] quantiles with 0 <= low < 0.5 < high <= 1, got [{lo}, {hi}]",
                        f.name
                    )));
                }
            }
            factors.push(ModelFactor {
                def,
                key: Arc::from(def.name),
                group,
                weight: f.weight,
                effective_weight: 0.0,
                direction: f.direction,
                winsor: f.winsor.map(|[a, b]| (a, b)),
            });
        }
        for (gi, g) in groups.iter().enumerate() {
            if !factors.iter().any(|f| f.group == gi) {
                return Err(ModelError::Invalid(format!("group {:?} has no factors (remove it or list a factor in it)", g.name)));
            }
        }
        // Effective weights: a group's share of the group weights in use, split among its
        // factors by their weights.
        let group_total: f64 =
            groups.iter().enumerate().filter(|(i, _)| factors.iter().any(|f| f.group == *i && f.weight > 0.0)).map(|(_, g)| g.weight).sum();
        if group_total <= 0.0 {
            return Err(ModelError::Invalid("all weights are zero".into()));
        }
        for (gi, g) in groups.iter().enumerate() {
            let within: f64 = factors.iter().filter(|f| f.group == gi).map(|f| f.weight).sum();
            if within <= 0.0 {
                continue;
            }
            for f in factors.iter_mut().filter(|f| f.group == gi) {
                f.effective_weight = g.weight / group_total * f.weight / within;
            }
        }
        let digest = Sha256::digest(text.as_bytes());
        let hash = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        Ok(Model {
            name: file.name,
            description: file.description,
            hash,
            min_coverage: file.min_coverage,
            sector_relative: file.sector_relative,
            min_sector_size: file.min_sector_size.max(1),
            llm_weight: file.llm_weight,
            groups,
            factors,
        })
    }
}

/// The largest weight a model may give a group or a factor: weights are relative, and
/// bounded so that no sum of them can overflow.
pub const MAX_WEIGHT: f64 = 1e6;

fn check_weight(what: &str, value: f64) -> Result<(), ModelError> {
    if value.is_finite() && (0.0..=MAX_WEIGHT).contains(&value) {
        Ok(())
    } else {
        Err(ModelError::BadWeight { what: what.to_string(), value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_model_weights_sum_to_one() {
        let m = Model::default_model();
        let total: f64 = m.factors.iter().map(|f| f.effective_weight).sum();
        assert!((total - 1.0).abs() < 1e-12, "{total}");
        assert_eq!(m.groups.len(), 5);
        assert_eq!(m.hash.len(), 12);
    }

    #[test]
    fn unknown_factor_is_named() {
        let e = Model::from_toml("name='x'\n[groups]\nv=1\n[[factors]]\nname='current_ratio'\ngroup='v'\n").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("\"current_ratio\"") && msg.contains("earnings_yield"), "{msg}");
    }

    #[test]
    fn negative_weight_is_refused() {
        let e = Model::from_toml("name='x'\n[groups]\nv=1\n[[factors]]\nname='roe'\ngroup='v'\nweight=-1\n").unwrap_err();
        assert!(e.to_string().contains("weight of factor \"roe\""), "{e}");
        let e = Model::from_toml("name='x'\n[groups]\nv=-2\n[[factors]]\nname='roe'\ngroup='v'\n").unwrap_err();
        assert!(e.to_string().contains("weight of group"), "{e}");
    }

    #[test]
    fn llm_weight_is_off_by_default_and_bounded() {
        assert_eq!(Model::default_model().llm_weight, 0.0);
        let ok = Model::from_toml("name='x'\nllm_weight=0.2\n[groups]\nv=1\n[[factors]]\nname='roe'\ngroup='v'\n").unwrap();
        assert_eq!(ok.llm_weight, 0.2);
        let e = Model::from_toml("name='x'\nllm_weight=0.7\n[groups]\nv=1\n[[factors]]\nname='roe'\ngroup='v'\n").unwrap_err();
        assert!(e.to_string().contains("llm_weight must be in [0, 0.5)"), "{e}");
    }

    #[test]
    fn typos_in_keys_are_refused() {
        let e = Model::from_toml("name='x'\n[groups]\nv=1\n[[factors]]\nname='roe'\ngroup='v'\nweigth=2\n").unwrap_err();
        assert!(e.to_string().contains("weigth"), "{e}");
    }

    #[test]
    fn unknown_group_and_bad_winsor() {
        let e = Model::from_toml("name='x'\n[groups]\nv=1\n[[factors]]\nname='roe'\ngroup='q'\n").unwrap_err();
        assert!(matches!(e, ModelError::UnknownGroup { .. }));
        let e = Model::from_toml("name='x'\n[groups]\nv=1\n[[factors]]\nname='roe'\ngroup='v'\nwinsor=[0.6,0.4]\n").unwrap_err();
        assert!(e.to_string().contains("winsor"), "{e}");
    }

    #[test]
    fn groups_keep_file_order() {
        let m = Model::default_model();
        let names: Vec<&str> = m.groups.iter().map(|g| &*g.name).collect();
        assert_eq!(names, ["value", "quality", "growth", "momentum", "analyst"]);
        let e = Model::from_toml("name='x'\n[groups]\nv='heavy'\n[[factors]]\nname='roe'\ngroup='v'\n").unwrap_err();
        assert!(e.to_string().contains("weight of group \"v\""), "{e}");
    }

    #[test]
    fn huge_weights_and_empty_groups_are_refused() {
        let e = Model::from_toml("name='x'\n[groups]\nv=1e308\n[[factors]]\nname='roe'\ngroup='v'\n").unwrap_err();
        assert!(e.to_string().contains("weight of group \"v\""), "{e}");
        let e = Model::from_toml("name='x'\n[groups]\nv=1\n[[factors]]\nname='roe'\ngroup='v'\nweight=1e308\n").unwrap_err();
        assert!(e.to_string().contains("weight of factor \"roe\""), "{e}");
        let e = Model::from_toml("name='x'\n[groups]\nv=1\nempty=1\n[[factors]]\nname='roe'\ngroup='v'\n").unwrap_err();
        assert!(e.to_string().contains("group \"empty\" has no factors"), "{e}");
        // At the bound, the composite stays finite.
        let m = Model::from_toml("name='x'\n[groups]\nv=1e6\nq=1e6\n[[factors]]\nname='roe'\ngroup='v'\nweight=1e6\n[[factors]]\nname='profit_margin'\ngroup='q'\nweight=1e6\n");
        assert!(m.is_ok(), "{:?}", m.err());
    }

    #[test]
    fn hash_changes_with_text() {
        let a = Model::from_toml("name='x'\n[groups]\nv=1\n[[factors]]\nname='roe'\ngroup='v'\n").unwrap();
        let b = Model::from_toml("name='x'\n[groups]\nv=2\n[[factors]]\nname='roe'\ngroup='v'\n").unwrap();
        assert_ne!(a.hash, b.hash);
    }
}
