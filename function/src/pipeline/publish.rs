//! The one publish use case, for the CLI run, the Lambda's aggregation and the dry run:
//! enrich the report (history, commentary) -> render it once -> (a dry run stops here) ->
//! remember it in the history -> store the artifacts -> point `latest` at it -> send one
//! message per reader. A reader whose message fails does not stop the others; the failures
//! come back in [`Delivery`], for the CLI's exit status and the Lambda's metrics.

use super::insight::Insight;
use crate::domain::report::RunReport;
use crate::domain::state::keys;
use crate::ports::{Mailer, ObjectStore, StoreError};
use crate::render;

/// Who the email is from and to, and how to leave the list: the configuration's mail
/// section, as it is.
pub use crate::config::MailConfig as MailSettings;

/// The rendered forms of a report.
pub struct Artifacts {
    /// Compact JSON: for 10,000 stocks the pretty form is twice the size, and this buffer
    /// is the largest single allocation of a run.
    pub results_json: Vec<u8>,
    pub csv: String,
    pub html: String,
    pub text: String,
}

/// Every text from outside was cleaned where it entered; the rendered forms are masked
/// against the configured secrets once more before anything is written or sent.
pub fn render_all(report: &RunReport, mail: &MailSettings) -> Artifacts {
    use crate::sanitize::{mask_secrets, mask_secrets_bytes};
    let unsub = mail.unsubscribe_url();
    Artifacts {
        results_json: {
            // Sized up front (about 1.5 KB per ranked stock): growing by doubling would hold
            // the old and the new buffer at once.
            let mut buf = Vec::with_capacity(16 * 1024 + report.ranking.len() * 1600);
            serde_json::to_writer(&mut buf, report).expect("report serialises");
            mask_secrets_bytes(buf)
        },
        csv: mask_secrets(&render::csv::render(report)),
        html: mask_secrets(&render::html::render(report, &unsub)),
        text: mask_secrets(&render::text::email_text(report, &unsub)),
    }
}

/// The MIME message for one reader.
pub fn message_for(report: &RunReport, art: &Artifacts, mail: &MailSettings, recipient: &str, index: usize, now_unix: i64) -> Vec<u8> {
    // `<{run}.{reader}.stockpicks@{sender's domain}>`: the same for a resend of the same
    // message, and no reader's address in it.
    let message_id = format!("{}.{index}.stockpicks", report.run_id);
    let subject = report.subject();
    let unsub = mail.unsubscribe_url();
    let run_header = [("X-Stockpicks-Run", report.run_id.as_str())];
    render::mime::build(&render::mime::Message {
        from: &mail.sender,
        to: recipient,
        subject: &subject,
        date_unix: now_unix,
        message_id: &message_id,
        unsubscribe: &unsub,
        text: &art.text,
        html: &art.html,
        attachment: Some(("top25.csv", &art.csv)),
        extra_headers: &run_header,
    })
}

/// What became of the readers' messages.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Delivery {
    /// Message ids of the messages sent.
    pub sent: Vec<String>,
    /// Why each refused message was refused (never the address).
    pub failed: Vec<String>,
    /// Readers already claimed by an earlier attempt of the same run (a redelivered
    /// aggregation): not mailed again.
    pub skipped: usize,
}

impl Delivery {
    pub fn all_sent(&self) -> bool {
        self.failed.is_empty()
    }
}

/// Where a run's per-reader claims live: `runs/{id}/email/` of the Lambda's bucket. Per
/// reader: claim -> send -> mark. A retry skips readers already claimed; the one window left
/// is a crash between the send and the mark (that reader gets no resend, and the missing mark
/// is visible as a lock without a mark, which the sweep counts as EmailsUnconfirmed).
pub struct Ledger<'a, S> {
    pub store: &'a S,
    pub run_id: &'a str,
}

/// The parts a publication needs. `ledger` and `latest` are the Lambda's: the CLI writes a
/// fresh directory per run, so there is nothing to claim and no pointer to move.
pub struct Publisher<'a, S, H, Ml> {
    /// Where the artifacts go (under the prefix given to [`Publisher::publish`]).
    pub store: &'a S,
    pub insight: &'a Insight<H>,
    pub mailer: &'a Ml,
    pub mail: &'a MailSettings,
    pub ledger: Option<Ledger<'a, S>>,
    /// Record the newest report at [`keys::LATEST`] of `store`.
    pub write_latest: bool,
}

/// A report rendered and, unless it was a dry run, published.
pub struct Publication {
    pub report: RunReport,
    /// Where the artifacts were stored ("" for a dry run).
    pub prefix: String,
    pub delivery: Delivery,
    /// Size of the first message built (a dry run builds it for the first reader without
    /// sending it) and of the HTML report.
    pub email_bytes: usize,
    pub html_bytes: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Render, then stop: nothing stored, remembered or sent.
    DryRun,
    Publish,
}

impl<S: ObjectStore, H: ObjectStore, Ml: Mailer> Publisher<'_, S, H, Ml> {
    /// Publishes `report` under `prefix` at `now`. `Err` only when storing failed (worth a
    /// retry); the history record is then taken back, so the report and its record are
    /// never out without each other.
    pub async fn publish(&self, mut report: RunReport, prefix: &str, now: i64, step: Step) -> Result<Publication, StoreError> {
        self.insight.enrich(&mut report, now).await;
        let mut art = render_all(&report, self.mail);
        let html_bytes = art.html.len();
        if step == Step::DryRun {
            // The message a first reader would get, built to be measured, not sent.
            let first = self.mail.recipients.first().map(String::as_str).unwrap_or("reader@example.invalid");
            let email_bytes = message_for(&report, &art, self.mail, first, 0, now).len();
            return Ok(Publication { report, prefix: String::new(), delivery: Delivery::default(), email_bytes, html_bytes });
        }
        // History first: a run whose record cannot be written publishes nothing, and a
        // report that cannot be stored takes its record back.
        self.insight.remember(&report, now).await?;
        if let Err(e) = store(self.store, prefix, &mut art).await {
            self.insight.forget(&report, now).await;
            return Err(e);
        }
        if self.write_latest {
            let latest = serde_json::json!({"run_id": report.run_id, "prefix": prefix, "generated_at": report.generated_at, "partial": report.partial});
            self.store.put(keys::LATEST, serde_json::to_vec_pretty(&latest).expect("json")).await?;
        }
        let (delivery, email_bytes) = self.send_all(&report, &art, now).await?;
        tracing::info!(run_id = %report.run_id, ranked = report.coverage.ranked, universe = report.universe_size, emails = delivery.sent.len(), emails_failed = delivery.failed.len(), "{}", crate::contract::marker::ANALYSIS_COMPLETE);
        Ok(Publication { report, prefix: prefix.to_string(), delivery, email_bytes, html_bytes })
    }

    /// One message per reader; with a ledger, each claimed first and marked after.
    /// Also returns the size of the first message built (0 when none was).
    async fn send_all(&self, report: &RunReport, art: &Artifacts, now: i64) -> Result<(Delivery, usize), StoreError> {
        let mut d = Delivery::default();
        let mut first_bytes = 0;
        for (i, reader) in self.mail.recipients.iter().enumerate() {
            if let Some(l) = &self.ledger {
                match l.store.put_if_absent(&keys::email_lock(l.run_id, i), now.to_string().into_bytes()).await {
                    Ok(()) => {}
                    Err(StoreError::AlreadyExists(_)) => {
                        d.skipped += 1;
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            let mime = message_for(report, art, self.mail, reader, i, now);
            if first_bytes == 0 {
                first_bytes = mime.len();
            }
            match self.mailer.send(reader, &mime).await {
                Ok(id) => {
                    if let Some(l) = &self.ledger {
                        l.store.put(&keys::email_sent(l.run_id, i), id.clone().into_bytes()).await?;
                    }
                    d.sent.push(id);
                }
                Err(e) => {
                    tracing::error!(run_id = %report.run_id, reader = i, error = %e.message, "email not sent");
                    // The outcome is known: mark it, so the lock does not count as
                    // unconfirmed (EmailsFailed alarms on this one). Only the reason is
                    // kept, not the address.
                    if let Some(l) = &self.ledger {
                        l.store.put(&keys::email_failed(l.run_id, i), e.message.clone().into_bytes()).await?;
                    }
                    d.failed.push(e.message);
                }
            }
        }
        Ok((d, first_bytes))
    }
}

/// Stores results.json, top25.csv and report.html under `prefix`. The JSON buffer is
/// handed over, not copied (the emails need only the other parts).
pub async fn store<S: ObjectStore>(store: &S, prefix: &str, art: &mut Artifacts) -> Result<(), StoreError> {
    store.put(&format!("{prefix}results.json"), std::mem::take(&mut art.results_json)).await?;
    store.put(&format!("{prefix}top25.csv"), art.csv.clone().into_bytes()).await?;
    store.put(&format!("{prefix}report.html"), art.html.clone().into_bytes()).await?;
    Ok(())
}
