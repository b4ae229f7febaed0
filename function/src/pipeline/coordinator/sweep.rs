//! `sweep`: finalizes runs past their deadline (but not long past it), and reports what the
//! alarms watch: the age of the newest published report and the unconfirmed emails.

use super::locks::{EMAIL_UNCONFIRMED_SECS, SWEEP_GIVE_UP_SECS};
use super::{Adapters, CoordError, Coordinator, Response, Sweep};
use crate::contract::Metric;
use crate::domain::events::SweepEvent;
use crate::domain::state::{keys, Manifest};
use crate::domain::time;
use crate::ports::{Clock, ObjectStore, StoreError};

impl<A: Adapters> Coordinator<A> {
    pub(super) async fn sweep(&self, s: SweepEvent) -> Result<Response, CoordError> {
        let now = self.clock.now_unix();
        let listed = self.store.list(keys::ALL_RUNS).await?;
        let present: std::collections::HashSet<&str> = listed.iter().map(String::as_str).collect();
        let runs: Vec<&str> = listed
            .iter()
            .filter_map(|k| keys::run_id_of_manifest(k))
            .filter(|id| s.run_id.as_deref().is_none_or(|want| want == *id))
            .filter(|id| !present.contains(keys::done(id).as_str()))
            .collect();
        let mut finalized = Vec::new();
        let mut abandoned = Vec::new();
        for id in runs {
            let manifest: Manifest = self.read_json(&keys::manifest(id)).await?;
            if s.run_id.is_none() && now < manifest.deadline {
                continue;
            }
            // A run named in the event is the operator's explicit request and is finalized.
            if s.run_id.is_none() && now - manifest.deadline > SWEEP_GIVE_UP_SECS {
                tracing::info!(run_id = %id, deadline = %time::rfc3339(manifest.deadline), "run long past its deadline; left to the runs/ lifecycle, not finalized");
                abandoned.push(id.to_string());
                continue;
            }
            let why = format!("not finished by the run deadline {}", time::rfc3339(manifest.deadline));
            finalized.push(self.aggregate(&manifest, Some(&why)).await?);
        }
        let emails_unconfirmed = self.unconfirmed_emails(&listed, now).await?;
        self.metrics.put(Metric::EmailsUnconfirmed, emails_unconfirmed as f64);
        let report_age_hours = self.report_age_hours(now).await?;
        if let Some(hours) = report_age_hours {
            self.metrics.put(Metric::ReportAgeHours, hours);
        }
        Ok(Response::Swept(Sweep { finalized, abandoned, emails_unconfirmed, report_age_hours }))
    }

    /// Email locks (runs/{run}/email/{reader id}.lock) with neither a .sent nor a .failed mark, claimed
    /// more than EMAIL_UNCONFIRMED_SECS ago. The lock's body is the claim time.
    async fn unconfirmed_emails(&self, listed: &[String], now: i64) -> Result<usize, CoordError> {
        let present: std::collections::HashSet<&str> = listed.iter().map(String::as_str).collect();
        let mut unconfirmed = 0;
        for lock in listed.iter().filter(|k| k.contains("/email/") && k.ends_with(".lock")) {
            let stem = &lock[..lock.len() - ".lock".len()];
            if present.contains(format!("{stem}.sent").as_str()) || present.contains(format!("{stem}.failed").as_str()) {
                continue;
            }
            let claimed_at = match self.store.get(lock).await {
                Ok(body) => String::from_utf8_lossy(&body).trim().parse::<i64>().ok(),
                Err(StoreError::NotFound(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            if claimed_at.is_none_or(|t| now - t > EMAIL_UNCONFIRMED_SECS) {
                tracing::warn!(key = %lock, "email lock without a sent or failed mark: that reader may not have the report");
                unconfirmed += 1;
            }
        }
        Ok(unconfirmed)
    }

    /// Hours since reports/latest.json was generated; `None` before the first report. An
    /// unreadable record is logged and reported as no age (the alarm treats missing data as
    /// breaching), not as a failed sweep.
    async fn report_age_hours(&self, now: i64) -> Result<Option<f64>, CoordError> {
        let body = match self.store.get(keys::LATEST).await {
            Ok(b) => b,
            Err(StoreError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let generated =
            serde_json::from_slice::<serde_json::Value>(&body).ok().and_then(|v| v["generated_at"].as_str().and_then(time::parse_rfc3339));
        match generated {
            Some(t) => Ok(Some((now - t).max(0) as f64 / 3600.0)),
            None => {
                tracing::warn!(key = keys::LATEST, "latest report record unreadable; no report age emitted");
                Ok(None)
            }
        }
    }
}
