//! SES v2: sends the exact MIME message the core rendered, one reader per call, so no
//! reader sees another's address. With a contact list, each message names the list and
//! topic (`ListManagementOptions`), and SES adds the one-click `List-Unsubscribe` headers
//! and an unsubscribe link, hosts the unsubscribe page and records the opt-out on the
//! contact ("Amazon SES automatically enables the unsubscribe links in every outgoing email
//! when you specify the contactListName and topicName within ListManagementOptions",
//! <https://docs.aws.amazon.com/ses/latest/dg/sending-email-subscription-management.html>).

use crate::config::ContactListConfig;
use crate::ports::{MailError, MailErrorKind, Mailer};
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, ListManagementOptions, RawMessage};

pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    sender: String,
    configuration_set: Option<String>,
    list: Option<ContactListConfig>,
}

impl SesMailer {
    pub fn new(client: aws_sdk_sesv2::Client, sender: impl Into<String>, configuration_set: Option<String>) -> SesMailer {
        SesMailer { client, sender: sender.into(), configuration_set, list: None }
    }

    /// Sends every message as part of `list` (the readers come from it).
    pub fn with_list(self, list: ContactListConfig) -> SesMailer {
        SesMailer { list: Some(list), ..self }
    }

    fn list_options(&self) -> Option<ListManagementOptions> {
        let l = self.list.as_ref()?;
        // contact_list_name is the one required field; the builder cannot fail with it set.
        ListManagementOptions::builder().contact_list_name(&l.name).topic_name(&l.topic).build().ok()
    }
}

impl Mailer for SesMailer {
    async fn send(&self, recipient: &str, mime: &[u8]) -> Result<String, MailError> {
        let raw = RawMessage::builder()
            .data(Blob::new(mime.to_vec()))
            .build()
            .map_err(|e| MailError::new(recipient, MailErrorKind::Rejected, e.to_string()).with_source(e))?;
        let out = self
            .client
            .send_email()
            .from_email_address(&self.sender)
            .destination(Destination::builder().to_addresses(recipient).build())
            .content(EmailContent::builder().raw(raw).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .set_list_management_options(self.list_options())
            .send()
            .await
            .map_err(|e| {
                let (kind, message) = match e.as_service_error() {
                    Some(s) => (send_error_kind(aws_sdk_sesv2::error::ProvideErrorMetadata::code(s)), super::describe(s)),
                    // No reply from SES (timeout, network, credentials): a later try may get one.
                    None => (
                        MailErrorKind::Unavailable,
                        format!("{}", aws_sdk_sesv2::error::DisplayErrorContext(&e)).chars().take(300).collect(),
                    ),
                };
                MailError::new(recipient, kind, message).with_source(e)
            })?;
        Ok(out.message_id().unwrap_or_default().to_string())
    }

    fn manages_unsubscribe(&self) -> bool {
        self.list.is_some()
    }

    /// The sender's identity (address, else its domain) must be verified for sending.
    async fn check(&self) -> Result<(), MailError> {
        let err = |message: String| MailError::new(self.sender.clone(), MailErrorKind::NotAllowed, message);
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

/// What an SES `SendEmail` error code means for trying again. Over the sending rate or the
/// daily quota SES answers `ThrottlingException` (the SDK's `TooManyRequestsException`,
/// `LimitExceededException`), and AWS advises waiting and retrying; a refused message or
/// address is refused again; a paused or unverified sender waits for an operator.
fn send_error_kind(code: Option<&str>) -> MailErrorKind {
    match code {
        Some("ThrottlingException" | "Throttling" | "TooManyRequestsException" | "LimitExceededException") => MailErrorKind::Throttled,
        Some("MessageRejected" | "BadRequestException" | "NotFoundException") => MailErrorKind::Rejected,
        Some("AccountSuspendedException" | "SendingPausedException" | "MailFromDomainNotVerifiedException" | "AccessDeniedException") => {
            MailErrorKind::NotAllowed
        }
        // InternalFailure, ServiceUnavailable, or a code this table does not know.
        _ => MailErrorKind::Unavailable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_is_retryable_and_a_rejection_is_not() {
        let retryable = |code| MailError::new("r@x.y", send_error_kind(code), "m").is_retryable();
        for code in ["ThrottlingException", "TooManyRequestsException", "LimitExceededException", "InternalFailure"] {
            assert!(retryable(Some(code)), "{code}");
        }
        assert!(retryable(None), "no code: no verdict from SES");
        for code in ["MessageRejected", "BadRequestException", "AccountSuspendedException", "SendingPausedException"] {
            assert!(!retryable(Some(code)), "{code}");
        }
        assert_eq!(send_error_kind(Some("MessageRejected")), MailErrorKind::Rejected);
        assert_eq!(send_error_kind(Some("MailFromDomainNotVerifiedException")), MailErrorKind::NotAllowed);
    }
}
