//! SES v2: sends the exact MIME message the core rendered, one reader per call, so no
//! reader sees another's address.

use crate::ports::{MailError, MailErrorKind, Mailer};
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
