//! What a report says beyond this run's ranking: the changes since the previous run and the
//! track record of earlier picks (from the run records stored beside the reports), and the
//! optional LLM commentary, validated before a reader sees it. Each part fails soft: a
//! missing or unreadable history, or a commentary server that is down, leaves a complete
//! report that says what it lacks.

use crate::domain::commentary::{self, CommentarySource};
use crate::domain::history::{self, RunRecord};
use crate::domain::report::{self, LlmScoring, RunReport};
use crate::ports::{CommentaryError, Commentator, NoCommentator, ObjectStore, StoreError};
use std::sync::Arc;

/// Records older than the newest this many are not read (two years of weekly runs).
pub const MAX_RECORDS: usize = 104;

/// Where run records live: `reports/history/` in S3, a directory locally.
pub struct History<S> {
    pub store: Arc<S>,
    pub prefix: String,
}

impl<S: ObjectStore> History<S> {
    /// The stored records, oldest first; unreadable ones are skipped with a warning.
    pub async fn load(&self, warnings: &mut Vec<String>) -> Vec<RunRecord> {
        let mut keys = match self.store.list(&self.prefix).await {
            Ok(k) => k,
            Err(e) => {
                warnings.push(format!("history not read ({e}): no week-over-week changes or track record"));
                return Vec::new();
            }
        };
        keys.retain(|k| k.ends_with(".json"));
        keys.sort();
        let skip = keys.len().saturating_sub(MAX_RECORDS);
        let mut out = Vec::with_capacity(keys.len() - skip);
        for key in &keys[skip..] {
            match self.store.get(key).await.map_err(|e| e.to_string()).and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string())) {
                Ok(r) => out.push(r),
                Err(e) => warnings.push(format!("history record {key} skipped: {e}")),
            }
        }
        out
    }

    /// Removes a record saved by a run that then failed to publish.
    pub async fn delete(&self, record: &RunRecord) -> Result<(), StoreError> {
        self.store.delete(&format!("{}{}", self.prefix, record.key_name())).await
    }

    pub async fn save(&self, record: &RunRecord) -> Result<(), StoreError> {
        let body = serde_json::to_vec(record).expect("record serialises");
        self.store.put(&format!("{}{}", self.prefix, record.key_name()), body).await
    }
}

/// The history and commentary a run publishes with.
pub struct Insight<S> {
    /// `None`: no history kept (each run stands alone).
    pub history: Option<History<S>>,
    pub commentator: Arc<dyn Commentator>,
}

impl<S: ObjectStore> Insight<S> {
    pub fn none() -> Insight<S> {
        Insight { history: None, commentator: Arc::new(NoCommentator("commentary off".into())) }
    }

    /// Adds changes, track record and commentary to `report` (published at `now`).
    pub async fn enrich(&self, report: &mut RunReport, now: i64) {
        // The final order first: history compares it, commentary describes its picks.
        if report.model.llm_weight > 0.0 {
            add_llm_scores(report, self.commentator.as_ref()).await;
        }
        if let Some(h) = &self.history {
            let records = h.load(&mut report.warnings).await;
            add_history(report, now, &records);
        }
        add_commentary(report, self.commentator.as_ref()).await;
    }

    /// Stores this run's record, so the next run can compare against it.
    pub async fn remember(&self, report: &RunReport, now: i64) -> Result<(), StoreError> {
        match &self.history {
            Some(h) => h.save(&RunRecord::from_report(report, now)).await,
            None => Ok(()),
        }
    }

    /// Takes back this run's record (its report could not be published); best effort.
    pub async fn forget(&self, report: &RunReport, now: i64) {
        if let Some(h) = &self.history {
            if let Err(e) = h.delete(&RunRecord::from_report(report, now)).await {
                tracing::error!(error = %e, "history record of an unpublished run not removed");
            }
        }
    }
}

/// Changes since the previous run and the track record, from `records` (any order).
pub fn add_history(report: &mut RunReport, now: i64, records: &[RunRecord]) {
    let earlier = history::earlier(records, &report.run_id, report.data_source, now);
    // This run as the next one will see it: its ranking and prices, taken the same way.
    let this = RunRecord::from_report(report, now);
    report.changes = history::changes(&this.ranking, report.picks.len(), &earlier);
    report.track_record = history::track_record(&this.prices, now, &earlier);
}

/// The model's `llm_weight`: one scoring call for every ranked stock, validated, mixed
/// into the composite. On any failure the ranking stays the data's own, and says so.
pub async fn add_llm_scores(report: &mut RunReport, commentator: &dyn Commentator) {
    let weight = report.model.llm_weight;
    let prompt = commentary::score_prompt(&report.ranking);
    let model = commentator.model();
    let not_applied = |note: String| LlmScoring {
        weight,
        model: model.clone(),
        scored: 0,
        applied: false,
        note: crate::sanitize::clean_short(&note, 600),
    };
    report.llm_scoring = Some(match commentator.complete(&prompt).await {
        Err(e) => not_applied(format!("LLM score not applied ({e}); the ranking is the data's alone")),
        Ok(content) => match commentary::validate_scores(&content, &prompt) {
            Err(e) => not_applied(format!("LLM score not applied: reply rejected ({e}); the ranking is the data's alone")),
            Ok((scores, _)) if scores.is_empty() => not_applied("LLM score not applied: no valid score in the reply".into()),
            Ok((scores, dropped)) => {
                report::apply_llm_scores(report, &scores, weight);
                LlmScoring {
                    weight,
                    model: model.clone(),
                    scored: scores.len(),
                    applied: true,
                    note: format!(
                        "LLM 1-10 score for {} of {} ranked stocks at {:.0}% of the composite ({} entries dropped in validation); not reproducible from the data alone",
                        scores.len(),
                        report.ranking.len(),
                        weight * 100.0,
                        dropped.len()
                    ),
                }
            }
        },
    });
}

/// One commentary call for the picks; the reply is validated, and on any failure the
/// rule-based reasons stand and the report says why.
pub async fn add_commentary(report: &mut RunReport, commentator: &dyn Commentator) {
    if report.picks.is_empty() {
        return;
    }
    let mut prompt = commentary::prompt(&report.picks);
    // A pick's commentary may name its own company only: any other ranked company is foreign.
    prompt.forbid_companies(report.ranking.iter().map(|p| (&p.symbol, p.name.as_str())));
    let model = commentator.model();
    // The reply's texts (JSON escapes decoded) pass the cleaning step once more.
    let fallback = |why: String| CommentarySource::rules(crate::sanitize::clean_short(&format!("rule-based reasons: {why}"), 600));
    report.commentary = match commentator.complete(&prompt).await {
        Err(CommentaryError::Off(why)) => CommentarySource::rules(format!("rule-based reasons ({why})")),
        Err(e) => {
            tracing::warn!(error = %e, "LLM commentary failed; rule-based reasons stand");
            fallback(format!("LLM commentary failed ({e})"))
        }
        Ok(content) => match commentary::validate(&content, &prompt) {
            Err(e) => {
                tracing::warn!(error = %e, "LLM reply rejected; rule-based reasons stand");
                fallback(format!("LLM reply rejected ({e})"))
            }
            Ok(v) if v.notes.is_empty() => CommentarySource {
                removed: v.dropped.iter().map(|d| crate::sanitize::clean(d)).collect(),
                ..fallback(format!("no LLM commentary passed validation ({} removed; listed in results.json)", v.dropped.len()))
            },
            Ok(v) => {
                for d in &v.dropped {
                    tracing::info!(removed = %d, "LLM commentary: removed in validation");
                }
                let n = v.notes.len();
                for p in &mut report.picks {
                    p.commentary = v.notes.get(&p.symbol).map(|n| crate::sanitize::clean(n));
                }
                let others = v.dropped.len() - v.sentences_removed;
                let removed = match (v.sentences_removed, others) {
                    (0, 0) => String::new(),
                    (s, 0) => format!("; {s} sentences removed"),
                    (s, o) => format!("; {s} sentences and {o} other parts removed"),
                };
                CommentarySource {
                    source: "llm".into(),
                    model,
                    note: format!("commentary for {n} of {} picks{removed}", report.picks.len()),
                    // What the model wrote goes through the one cleaning step like any reply text.
                    removed: v.dropped.iter().map(|d| crate::sanitize::clean(d)).collect(),
                }
            }
        },
    };
}
