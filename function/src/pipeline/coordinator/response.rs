//! What the function answers, typed. The JSON form (`{"status": "...", ...}`) is a contract:
//! the pre-traffic hook, the end-to-end tests and the runbook read it, and the status names
//! are declared in `contracts/contract.json` (checked by `contract::tests`).

use crate::domain::plan::Plan;
use serde::Serialize;

/// The statuses of [`Response`], one per variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Refused,
    Duplicate,
    AlreadyDone,
    Started,
    LaneDone,
    Continued,
    DepthLimit,
    AggregatingElsewhere,
    Complete,
    Swept,
    DryRunOk,
    DryRunFailed,
}

impl Status {
    pub const ALL: [Status; 12] = [
        Status::Refused,
        Status::Duplicate,
        Status::AlreadyDone,
        Status::Started,
        Status::LaneDone,
        Status::Continued,
        Status::DepthLimit,
        Status::AggregatingElsewhere,
        Status::Complete,
        Status::Swept,
        Status::DryRunOk,
        Status::DryRunFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Refused => "refused",
            Status::Duplicate => "duplicate",
            Status::AlreadyDone => "already_done",
            Status::Started => "started",
            Status::LaneDone => "lane_done",
            Status::Continued => "continued",
            Status::DepthLimit => "depth_limit",
            Status::AggregatingElsewhere => "aggregating_elsewhere",
            Status::Complete => "complete",
            Status::Swept => "swept",
            Status::DryRunOk => "dry_run_ok",
            Status::DryRunFailed => "dry_run_failed",
        }
    }
}

/// How a run is carried out: in the invocation that started it, or by parallel lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Single,
    Distributed,
}

/// The function's answer to one event. Serialised with the status as the tag.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Response {
    /// A malformed or impossible event: answered, not failed (Lambda would retry it).
    Refused {
        error: String,
    },
    /// The run id is taken (a redelivered schedule or run event).
    Duplicate {
        run_id: String,
    },
    /// The run was finalized before this event arrived.
    AlreadyDone {
        run_id: String,
    },
    /// A distributed run: the lanes were invoked.
    Started {
        run_id: String,
        mode: Mode,
        lanes: usize,
        chunks: usize,
        plan: Plan,
    },
    /// A lane wrote its chunks; others are still missing.
    LaneDone {
        run_id: String,
        lane: usize,
        chunks_written: usize,
        chunks_done: usize,
        chunks_total: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        mode: Option<Mode>,
    },
    /// A lane ran short of time and handed over to a new invocation.
    Continued {
        run_id: String,
        lane: usize,
        offset: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        mode: Option<Mode>,
    },
    /// A lane hit the continuation limit; the sweep finalizes the run.
    DepthLimit {
        run_id: String,
        lane: usize,
    },
    /// The set is complete, but another invocation holds the aggregate lock.
    AggregatingElsewhere {
        run_id: String,
    },
    /// Ranked, stored and mailed.
    Complete(Completion),
    /// A sweep finished.
    Swept(Sweep),
    DryRunOk(DryRun),
    DryRunFailed(DryRun),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Completion {
    pub run_id: String,
    /// The key prefix of the stored report.
    pub report: String,
    pub ranked: usize,
    pub universe: usize,
    pub partial: Option<String>,
    pub emails_sent: usize,
    pub emails_failed: usize,
    /// The first five picks.
    pub top: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// Chunks the lane that completed the set wrote itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunks_written: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sweep {
    /// What finalizing each run past its deadline answered.
    pub finalized: Vec<Response>,
    /// Runs long past their deadline, left to the runs/ lifecycle.
    pub abandoned: Vec<String>,
    pub emails_unconfirmed: usize,
    pub report_age_hours: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DryRun {
    /// Each check's outcome: "ok" or "error: ...".
    pub checks: std::collections::BTreeMap<String, String>,
    pub ranked: usize,
    /// Readers a real run would mail now (subscribed, each once).
    pub readers: usize,
    pub subject: String,
    pub email_bytes: usize,
    pub html_bytes: usize,
}

impl Response {
    pub fn status(&self) -> Status {
        match self {
            Response::Refused { .. } => Status::Refused,
            Response::Duplicate { .. } => Status::Duplicate,
            Response::AlreadyDone { .. } => Status::AlreadyDone,
            Response::Started { .. } => Status::Started,
            Response::LaneDone { .. } => Status::LaneDone,
            Response::Continued { .. } => Status::Continued,
            Response::DepthLimit { .. } => Status::DepthLimit,
            Response::AggregatingElsewhere { .. } => Status::AggregatingElsewhere,
            Response::Complete(_) => Status::Complete,
            Response::Swept(_) => Status::Swept,
            Response::DryRunOk(_) => Status::DryRunOk,
            Response::DryRunFailed(_) => Status::DryRunFailed,
        }
    }

    /// The run id the answer is about, if any.
    pub fn run_id(&self) -> Option<&str> {
        match self {
            Response::Duplicate { run_id }
            | Response::AlreadyDone { run_id }
            | Response::Started { run_id, .. }
            | Response::LaneDone { run_id, .. }
            | Response::Continued { run_id, .. }
            | Response::DepthLimit { run_id, .. }
            | Response::AggregatingElsewhere { run_id } => Some(run_id),
            Response::Complete(c) => Some(&c.run_id),
            Response::Refused { .. } | Response::Swept(_) | Response::DryRunOk(_) | Response::DryRunFailed(_) => None,
        }
    }

    /// The JSON the function returns.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a response serialises")
    }

    /// Marks a lane's answer as the whole run's, done in the invocation that started it.
    pub(super) fn in_single_mode(mut self) -> Response {
        match &mut self {
            Response::LaneDone { mode, .. } | Response::Continued { mode, .. } => *mode = Some(Mode::Single),
            Response::Complete(c) => c.mode = Some(Mode::Single),
            _ => {}
        }
        self
    }

    pub(super) fn with_chunks_written(mut self, written: usize) -> Response {
        if let Response::Complete(c) = &mut self {
            c.chunks_written = Some(written);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One response of each status, serialised: the tag is the status's name.
    #[test]
    fn each_response_serialises_with_its_status_name() {
        let dry = DryRun { checks: Default::default(), ranked: 1, readers: 1, subject: "s".into(), email_bytes: 1, html_bytes: 1 };
        let completion = Completion {
            run_id: "r".into(),
            report: "reports/x/r/".into(),
            ranked: 1,
            universe: 1,
            partial: None,
            emails_sent: 1,
            emails_failed: 0,
            top: vec![],
            mode: None,
            chunks_written: None,
        };
        let all = [
            Response::Refused { error: "e".into() },
            Response::Duplicate { run_id: "r".into() },
            Response::AlreadyDone { run_id: "r".into() },
            Response::Started {
                run_id: "r".into(),
                mode: Mode::Distributed,
                lanes: 2,
                chunks: 3,
                plan: Plan::Single { estimated_secs: 1.0, estimated_cost_usd: 0.0 },
            },
            Response::LaneDone { run_id: "r".into(), lane: 0, chunks_written: 1, chunks_done: 1, chunks_total: 2, mode: None },
            Response::Continued { run_id: "r".into(), lane: 0, offset: 1, mode: None },
            Response::DepthLimit { run_id: "r".into(), lane: 0 },
            Response::AggregatingElsewhere { run_id: "r".into() },
            Response::Complete(completion.clone()),
            Response::Swept(Sweep { finalized: vec![], abandoned: vec![], emails_unconfirmed: 0, report_age_hours: None }),
            Response::DryRunOk(dry.clone()),
            Response::DryRunFailed(dry),
        ];
        let mut statuses: Vec<Status> = all.iter().map(Response::status).collect();
        for r in &all {
            assert_eq!(r.to_json()["status"], r.status().as_str(), "{r:?}");
        }
        statuses.dedup();
        assert_eq!(statuses, Status::ALL.to_vec(), "one response per status, in the order of Status::ALL");
        let single = Response::Complete(completion).in_single_mode().with_chunks_written(4).to_json();
        assert_eq!((single["mode"].as_str(), single["chunks_written"].as_u64()), (Some("single"), Some(4)));
    }
}
