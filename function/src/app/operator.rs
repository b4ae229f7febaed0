//! The operator's tools against AWS (feature `aws`): the reader list the CLI's
//! `stockpicks subscribers` changes, with the operator's own credentials (the SDK's default
//! chain: environment, profile, SSO), never the function's role.

use crate::adapters::aws::contacts::SesContactList;
use crate::config::ContactListConfig;

/// The SES contact list, reached with the default AWS configuration (`AWS_REGION`,
/// `AWS_PROFILE`, `AWS_ENDPOINT_URL` for an emulator).
pub async fn contact_list(list: ContactListConfig) -> SesContactList {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    SesContactList::new(aws_sdk_sesv2::Client::new(&sdk), list)
}
