//! `dry_run`: checks everything a real run needs and renders a report for five symbols
//! through the publish use case, which stops before storing, remembering and sending.

use super::{Adapters, Coordinator, DryRun, Response};
use crate::domain::events::RunEvent;
use crate::domain::report::{self, ReportInputs};
use crate::domain::state::keys;
use crate::domain::universe::{Member, Universe};
use crate::pipeline::fetch::fetch_all;
use crate::pipeline::publish::{PublishError, Publisher, Step};
use crate::ports::{Clock, Mailer, MarketData, NoProgress, ObjectStore};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Symbols the dry run fetches and ranks.
const SAMPLE: usize = 5;

fn check<E: std::fmt::Display>(r: Result<impl Sized, E>) -> String {
    match r {
        Ok(_) => "ok".to_string(),
        Err(e) => format!("error: {e}"),
    }
}

impl<A: Adapters> Coordinator<A> {
    pub(super) async fn dry_run(&self, r: &RunEvent) -> Response {
        let mut checks = BTreeMap::new();
        checks.insert("config".to_string(), "ok".to_string());
        checks.insert("bucket".to_string(), check(self.store.list(keys::LATEST).await));
        checks.insert("email_identity".to_string(), check(self.mailer.check().await));
        let (universe, _) = match self.run_universe(r) {
            Ok(x) => x,
            Err(e) => return Response::Refused { error: e.to_string() },
        };
        let members: Vec<Member> = universe.members.into_iter().take(SAMPLE).collect();
        let sample = Universe { members: members.clone() };
        let market = (self.market)(self.settings.rate_per_min);
        let (fetched, _) =
            fetch_all(market.clone(), members, self.settings.max_workers, self.settings.price_source, Arc::new(NoProgress)).await;
        checks.insert(
            "api".to_string(),
            if fetched.candidates.is_empty() { format!("error: {:?}", fetched.failures.first()) } else { "ok".into() },
        );
        let now = self.clock.now_unix();
        let report = report::build(
            ReportInputs {
                run_id: "dry-run",
                now_unix: now,
                data_source: market.data_source(),
                universe: &sample,
                model: &self.model,
                top: r.top,
                min_run_coverage: self.settings.min_run_coverage,
                api: market.stats(),
                elapsed_ms: 0,
                warnings: vec![],
            },
            &fetched,
        );
        let publisher = Publisher {
            store: self.store.as_ref(),
            insight: &self.insight,
            mailer: self.mailer.as_ref(),
            mail: &self.settings.mail,
            readers: self.readers.as_ref(),
            ledger: None,
            write_latest: false,
        };
        let rendered = match publisher.publish(report, "", now, Step::DryRun).await {
            Ok(p) => p,
            Err(e) => {
                // A reader list that cannot be read fails the deploy's check: the weekly run
                // would publish nothing.
                let step = if matches!(e, PublishError::Readers(_)) { "readers" } else { "render" };
                checks.insert(step.to_string(), format!("error: {e}"));
                return Response::DryRunFailed(DryRun {
                    checks,
                    ranked: 0,
                    readers: 0,
                    subject: String::new(),
                    email_bytes: 0,
                    html_bytes: 0,
                });
            }
        };
        checks.insert("readers".to_string(), "ok".to_string());
        let out = DryRun {
            checks,
            ranked: rendered.report.coverage.ranked,
            readers: rendered.readers,
            subject: rendered.report.subject(),
            email_bytes: rendered.email_bytes,
            html_bytes: rendered.html_bytes,
        };
        if out.checks.values().all(|v| v == "ok") {
            Response::DryRunOk(out)
        } else {
            Response::DryRunFailed(out)
        }
    }
}
