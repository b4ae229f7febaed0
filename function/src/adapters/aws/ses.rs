//! SES v2: sends the exact MIME message the core rendered, one reader per call, so no
//! reader sees another's address.

use crate::ports::{MailError, Mailer};
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};

pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    sender: String,
    configuration_set: Option<String>,
}

impl SesMailer {
    pub fn new(client: aws_sdk_sesv2::Client, sender: impl Into<String>, configuration_set: Option<String>) -> SesMailer {
        SesMailer { client, sender: sender.into(), configuration_set }
    }
}

impl Mailer for SesMailer {
    async fn send(&self, recipient: &str, mime: &[u8]) -> Result<String, MailError> {
        let err = |message: String| MailError { recipient: recipient.to_string(), message };
        let raw = RawMessage::builder().data(Blob::new(mime.to_vec())).build().map_err(|e| err(e.to_string()))?;
        let out = self
            .client
            .send_email()
            .from_email_address(&self.sender)
            .destination(Destination::builder().to_addresses(recipient).build())
            .content(EmailContent::builder().raw(raw).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map_err(|e| {
                err(match e.as_service_error() {
                    Some(s) => super::describe(s),
                    None => format!("{}", aws_sdk_sesv2::error::DisplayErrorContext(&e)).chars().take(300).collect(),
                })
            })?;
        Ok(out.message_id().unwrap_or_default().to_string())
    }

    /// The sender's identity (address, else its domain) must be verified for sending.
    async fn check(&self) -> Result<(), MailError> {
        let err = |message: String| MailError { recipient: self.sender.clone(), message };
        let domain = self.sender.rsplit('@').next().unwrap_or_default().to_string();
        for identity in [self.sender.clone(), domain] {
            if let Ok(out) = self.client.get_email_identity().email_identity(&identity).send().await {
                let verified = out.verified_for_sending_status()
                    || out.verification_status() == Some(&aws_sdk_sesv2::types::VerificationStatus::Success);
                return if verified { Ok(()) } else { Err(err(format!("SES identity {identity} is not verified for sending"))) };
            }
        }
        Err(err(format!("no SES identity for {} or its domain", self.sender)))
    }
}
