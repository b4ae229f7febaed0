//! The readers as an SES v2 contact list with a topic. A reader is a contact; they are
//! mailed while subscribed to the topic, and they leave with SES's own one-click
//! unsubscribe, which SES records on the contact (the Lambda never changes the list; the
//! operator's `stockpicks subscribers` does, with the operator's credentials).
//! <https://docs.aws.amazon.com/ses/latest/dg/sending-email-list-management.html>

use crate::config::ContactListConfig;
use crate::domain::reader::{check_address, Standing, Subscriber};
use crate::ports::{BoxFuture, Readers, ReadersError};
use aws_sdk_sesv2::error::ProvideErrorMetadata;
use aws_sdk_sesv2::types::{Contact, SubscriptionStatus, TopicPreference};

pub struct SesContactList {
    client: aws_sdk_sesv2::Client,
    list: ContactListConfig,
}

/// ListContacts returns at most 1,000 contacts a page (the API's PageSize limit).
const PAGE_SIZE: i32 = 1000;

impl SesContactList {
    pub fn new(client: aws_sdk_sesv2::Client, list: ContactListConfig) -> SesContactList {
        SesContactList { client, list }
    }

    fn error<E: ProvideErrorMetadata + std::error::Error + 'static>(&self, op: &str, e: aws_sdk_sesv2::error::SdkError<E>) -> ReadersError {
        let (retryable, message) = match e.as_service_error() {
            Some(s) => (matches!(s.code(), Some("TooManyRequestsException" | "ThrottlingException")), super::describe(s)),
            None => (true, format!("{}", aws_sdk_sesv2::error::DisplayErrorContext(&e)).chars().take(300).collect()),
        };
        ReadersError::Backend { what: format!("SES {op} on contact list {}", self.list.name), message, retryable }
    }

    /// Every contact, page by page. Unfiltered, so that the unsubscribed are listed too
    /// (the CLI shows them; the publisher skips them).
    async fn all(&self) -> Result<Vec<Subscriber>, ReadersError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_contacts()
                .contact_list_name(&self.list.name)
                .page_size(PAGE_SIZE)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| self.error("ListContacts", e))?;
            for c in page.contacts() {
                // A contact without an address cannot be mailed; it is not a reader.
                if let Some(address) = c.email_address() {
                    out.push(Subscriber { address: address.to_string(), standing: standing(c, &self.list.topic) });
                }
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }

    fn opt_in(&self) -> Result<TopicPreference, ReadersError> {
        TopicPreference::builder()
            .topic_name(&self.list.topic)
            .subscription_status(SubscriptionStatus::OptIn)
            .build()
            .map_err(|e| ReadersError::Backend { what: "SES topic preference".into(), message: e.to_string(), retryable: false })
    }
}

/// A contact's standing on `topic`: unsubscribed from everything, else their own choice for
/// the topic, else the topic's default as SES reports it for them. A contact with no word
/// on the topic at all is not mailed: only a known opt-in is consent.
fn standing(c: &Contact, topic: &str) -> Standing {
    let status = |prefs: &[TopicPreference]| prefs.iter().find(|p| p.topic_name() == topic).map(|p| p.subscription_status().clone());
    if c.unsubscribe_all() {
        return Standing::Unsubscribed;
    }
    match status(c.topic_preferences()).or_else(|| status(c.topic_default_preferences())) {
        Some(SubscriptionStatus::OptIn) => Standing::Subscribed,
        _ => Standing::Unsubscribed,
    }
}

impl Readers for SesContactList {
    fn list(&self) -> BoxFuture<'_, Result<Vec<Subscriber>, ReadersError>> {
        Box::pin(self.all())
    }

    /// Creates the contact opted in to the topic; an existing contact is opted in again.
    fn add<'a>(&'a self, address: &'a str) -> BoxFuture<'a, Result<(), ReadersError>> {
        Box::pin(async move {
            check_address(address)?;
            let created = self
                .client
                .create_contact()
                .contact_list_name(&self.list.name)
                .email_address(address)
                .topic_preferences(self.opt_in()?)
                .unsubscribe_all(false)
                .send()
                .await;
            match created {
                Ok(_) => Ok(()),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_already_exists_exception()) => self
                    .client
                    .update_contact()
                    .contact_list_name(&self.list.name)
                    .email_address(address)
                    .topic_preferences(self.opt_in()?)
                    .unsubscribe_all(false)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| self.error("UpdateContact", e)),
                Err(e) => Err(self.error("CreateContact", e)),
            }
        })
    }

    fn remove<'a>(&'a self, address: &'a str) -> BoxFuture<'a, Result<(), ReadersError>> {
        Box::pin(async move {
            check_address(address)?;
            match self.client.delete_contact().contact_list_name(&self.list.name).email_address(address).send().await {
                Ok(_) => Ok(()),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found_exception()) => {
                    Err(ReadersError::NotListed(address.to_string()))
                }
                Err(e) => Err(self.error("DeleteContact", e)),
            }
        })
    }

    fn describe(&self) -> String {
        format!("SES contact list {}, topic {}", self.list.name, self.list.topic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pref(topic: &str, s: SubscriptionStatus) -> TopicPreference {
        TopicPreference::builder().topic_name(topic).subscription_status(s).build().unwrap()
    }

    #[test]
    fn a_contact_is_mailed_only_on_a_known_opt_in() {
        let base = || Contact::builder().email_address("a@x.io");
        let t = "weekly-picks";
        assert_eq!(standing(&base().topic_preferences(pref(t, SubscriptionStatus::OptIn)).build(), t), Standing::Subscribed);
        assert_eq!(standing(&base().topic_preferences(pref(t, SubscriptionStatus::OptOut)).build(), t), Standing::Unsubscribed);
        // Their own choice wins over the topic's default.
        let chose_out =
            base().topic_preferences(pref(t, SubscriptionStatus::OptOut)).topic_default_preferences(pref(t, SubscriptionStatus::OptIn));
        assert_eq!(standing(&chose_out.build(), t), Standing::Unsubscribed);
        assert_eq!(standing(&base().topic_default_preferences(pref(t, SubscriptionStatus::OptIn)).build(), t), Standing::Subscribed);
        // Unsubscribed from the whole list: never mailed, whatever the topic says.
        let left_all = base().topic_preferences(pref(t, SubscriptionStatus::OptIn)).unsubscribe_all(true);
        assert_eq!(standing(&left_all.build(), t), Standing::Unsubscribed);
        // Opted in to another topic only, or no word at all.
        assert_eq!(standing(&base().topic_preferences(pref("other", SubscriptionStatus::OptIn)).build(), t), Standing::Unsubscribed);
        assert_eq!(standing(&base().build(), t), Standing::Unsubscribed);
    }
}
