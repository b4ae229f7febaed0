//! Publishing a report: render it once, store the artifacts, and send one message per
//! reader. A reader whose message fails does not stop the others.

use crate::domain::report::RunReport;
use crate::ports::{Mailer, ObjectStore, StoreError};
use crate::render;

/// Who the email is from and to, and how to leave the list.
#[derive(Clone, Debug)]
pub struct MailSettings {
    pub sender: String,
    pub recipients: Vec<String>,
    /// `mailto:` or `https:`; defaults to a mailto to the sender.
    pub unsubscribe: Option<String>,
}

impl MailSettings {
    pub fn unsubscribe_url(&self) -> String {
        self.unsubscribe.clone().unwrap_or_else(|| format!("mailto:{}?subject=unsubscribe", self.sender))
    }
}

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
    let message_id = format!("{}.{index}@stockpicks", report.run_id);
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

#[derive(Debug, Default)]
pub struct Delivery {
    pub sent: Vec<String>,
    pub failed: Vec<String>,
}

/// Stores results.json, top25.csv and report.html under `prefix`. The JSON buffer is
/// handed over, not copied (the emails need only the other parts).
pub async fn store<S: ObjectStore>(store: &S, prefix: &str, art: &mut Artifacts) -> Result<(), StoreError> {
    store.put(&format!("{prefix}results.json"), std::mem::take(&mut art.results_json)).await?;
    store.put(&format!("{prefix}top25.csv"), art.csv.clone().into_bytes()).await?;
    store.put(&format!("{prefix}report.html"), art.html.clone().into_bytes()).await?;
    Ok(())
}

/// Sends one message per reader; failures are collected, not fatal.
pub async fn send_all<M: Mailer>(mailer: &M, report: &RunReport, art: &Artifacts, mail: &MailSettings, now_unix: i64) -> Delivery {
    let mut d = Delivery::default();
    for (i, r) in mail.recipients.iter().enumerate() {
        let mime = message_for(report, art, mail, r, i, now_unix);
        match mailer.send(r, &mime).await {
            Ok(id) => d.sent.push(id),
            Err(e) => {
                tracing::error!(error = %e, "email not sent");
                d.failed.push(e.to_string());
            }
        }
    }
    d
}
