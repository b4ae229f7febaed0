//! The one publish use case, for the CLI run, the Lambda's aggregation and the dry run:
//! enrich the report (history, commentary) -> render it once -> (a dry run stops here) ->
//! remember it in the history -> store the artifacts -> point `latest` at it -> send one
//! message per reader. The readers are read from the reader list first (an SES contact
//! list, a file, or `EMAIL_RECIPIENT`), so a list that cannot be read publishes nothing.
//! A reader whose message fails does not stop the others; the failures come back in
//! [`Delivery`], for the CLI's exit status and the Lambda's metrics.

use super::insight::Insight;
use crate::domain::reader::{self, ReaderId};
use crate::domain::report::RunReport;
use crate::domain::state::keys;
use crate::ports::{Mailer, ObjectStore, Readers, ReadersError, StoreError};
use crate::render::{self, Unsubscribe};

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
pub fn render_all(report: &RunReport, unsub: Unsubscribe<'_>) -> Artifacts {
    use crate::sanitize::{mask_secrets, mask_secrets_bytes};
    Artifacts {
        results_json: {
            // Sized up front: growing by doubling would hold the old and the new buffer at
            // once (at 10,000 stocks, 16 and 32 MB). A ranked stock is about 1.8 KB of JSON;
            // 3 KB leaves room, and capacity never written is address space, not memory.
            let mut buf = Vec::with_capacity(16 * 1024 + report.ranking.len() * 3000);
            serde_json::to_writer(&mut buf, report).expect("report serialises");
            mask_secrets_bytes(buf)
        },
        csv: mask_secrets(&render::csv::render(report)),
        html: mask_secrets(&render::html::render(report, unsub)),
        text: mask_secrets(&render::text::email_text(report, unsub)),
    }
}

/// The MIME message for one reader.
pub fn message_for(report: &RunReport, art: &Artifacts, from: &str, unsub: Unsubscribe<'_>, recipient: &str, now_unix: i64) -> Vec<u8> {
    // `<{run}.{reader id}.stockpicks@{sender's domain}>`: the same for a resend of the same
    // message, and no reader's address in it.
    let message_id = format!("{}.{}.stockpicks", report.run_id, ReaderId::new(&report.run_id, recipient));
    let subject = report.subject();
    let run_header = [("X-Stockpicks-Run", report.run_id.as_str())];
    render::mime::build(&render::mime::Message {
        from,
        to: recipient,
        subject: &subject,
        date_unix: now_unix,
        message_id: &message_id,
        unsubscribe: match unsub {
            Unsubscribe::Link(url) => Some(url),
            Unsubscribe::ByMailService => None,
        },
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

/// Where a run's per-reader claims live: `runs/{id}/email/{reader id}.*` of the Lambda's
/// bucket, keyed by [`ReaderId`] (not the reader's place in the list, which changes when
/// someone joins or leaves between two attempts). Per reader: claim -> send -> mark. A
/// retry skips readers already claimed; the one window left is a crash between the send and
/// the mark (that reader gets no resend, and the missing mark is visible as a lock without a
/// mark, which the sweep counts as EmailsUnconfirmed).
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
    /// Who is mailed: the subscribed readers of this list, each once.
    pub readers: &'a dyn Readers,
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
    /// Readers subscribed when the report was published (a dry run: who would be mailed).
    pub readers: usize,
    /// Size of the first message built (a dry run builds it for the first reader without
    /// sending it) and of the HTML report.
    pub email_bytes: usize,
    pub html_bytes: usize,
}

/// Why a report was not published; nothing was sent, and a retry may succeed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The reader list could not be read: nothing was stored or sent.
    #[error("reading the readers: {0}")]
    Readers(#[from] ReadersError),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Render, then stop: nothing stored, remembered or sent.
    DryRun,
    Publish,
}

impl<S: ObjectStore, H: ObjectStore, Ml: Mailer> Publisher<'_, S, H, Ml> {
    /// How the messages say to unsubscribe: SES's own link when it manages the list.
    fn unsubscribe<'u>(&self, url: &'u str) -> Unsubscribe<'u> {
        if self.mailer.manages_unsubscribe() {
            Unsubscribe::ByMailService
        } else {
            Unsubscribe::Link(url)
        }
    }

    /// Publishes `report` under `prefix` at `now`. `Err` when the readers could not be
    /// read (before anything is written) or storing failed (worth a retry); the history
    /// record is then taken back, so the report and its record are never out without each
    /// other.
    pub async fn publish(&self, mut report: RunReport, prefix: &str, now: i64, step: Step) -> Result<Publication, PublishError> {
        // Read first: a dry run thereby checks the list can be read (the permission, the
        // list's name), and a real run whose list cannot be read writes nothing.
        let readers = reader::to_mail(self.readers.list().await?);
        self.insight.enrich(&mut report, now).await;
        let url = self.mail.unsubscribe_url();
        let unsub = self.unsubscribe(&url);
        let mut art = render_all(&report, unsub);
        let html_bytes = art.html.len();
        if step == Step::DryRun {
            // The message a first reader would get, built to be measured, not sent.
            let first = readers.first().map(String::as_str).unwrap_or("reader@example.invalid");
            let email_bytes = message_for(&report, &art, &self.mail.sender, unsub, first, now).len();
            let readers = readers.len();
            return Ok(Publication { report, prefix: String::new(), delivery: Delivery::default(), readers, email_bytes, html_bytes });
        }
        // History first: a run whose record cannot be written publishes nothing, and a
        // report that cannot be stored takes its record back.
        self.insight.remember(&report, now).await?;
        if let Err(e) = store(self.store, prefix, &mut art).await {
            self.insight.forget(&report, now).await;
            return Err(e.into());
        }
        if self.write_latest {
            let latest = serde_json::json!({"run_id": report.run_id, "prefix": prefix, "generated_at": report.generated_at, "partial": report.partial});
            self.store.put(keys::LATEST, serde_json::to_vec_pretty(&latest).expect("json")).await?;
        }
        let (delivery, email_bytes) = self.send_all(&report, &art, unsub, &readers, now).await?;
        tracing::info!(run_id = %report.run_id, ranked = report.coverage.ranked, universe = report.universe_size, readers = readers.len(), emails = delivery.sent.len(), emails_failed = delivery.failed.len(), "{}", crate::contract::marker::ANALYSIS_COMPLETE);
        Ok(Publication { report, prefix: prefix.to_string(), delivery, readers: readers.len(), email_bytes, html_bytes })
    }

    /// One message per reader; with a ledger, each claimed first and marked after.
    /// Also returns the size of the first message built (0 when none was).
    async fn send_all(
        &self,
        report: &RunReport,
        art: &Artifacts,
        unsub: Unsubscribe<'_>,
        readers: &[String],
        now: i64,
    ) -> Result<(Delivery, usize), StoreError> {
        let mut d = Delivery::default();
        let mut first_bytes = 0;
        for reader in readers {
            let id = ReaderId::new(&report.run_id, reader);
            if let Some(l) = &self.ledger {
                match l.store.put_if_absent(&keys::email_lock(l.run_id, &id), now.to_string().into_bytes()).await {
                    Ok(()) => {}
                    Err(StoreError::AlreadyExists(_)) => {
                        d.skipped += 1;
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            let mime = message_for(report, art, &self.mail.sender, unsub, reader, now);
            if first_bytes == 0 {
                first_bytes = mime.len();
            }
            match self.mailer.send(reader, &mime).await {
                Ok(message_id) => {
                    if let Some(l) = &self.ledger {
                        l.store.put(&keys::email_sent(l.run_id, &id), message_id.clone().into_bytes()).await?;
                    }
                    d.sent.push(message_id);
                }
                Err(e) => {
                    tracing::error!(run_id = %report.run_id, reader = %id, error = %e.message, "email not sent");
                    // The outcome is known: mark it, so the lock does not count as
                    // unconfirmed (EmailsFailed alarms on this one). Only the reason is
                    // kept, not the address.
                    if let Some(l) = &self.ledger {
                        l.store.put(&keys::email_failed(l.run_id, &id), e.message.clone().into_bytes()).await?;
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
