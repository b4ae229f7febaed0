//! The AWS adapters (feature `aws`): S3 as the object store, SES v2 as the mailer, Lambda
//! as the invoker, Secrets Manager for the API keys, and an SES contact list as the readers.

pub mod contacts;
pub mod invoker;
pub mod s3;
pub mod secrets;
pub mod ses;

/// The text of an SDK error with its service code, without request ids or URLs.
pub(crate) fn describe<E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug>(e: &E) -> String {
    match (e.code(), e.message()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.to_string(),
        _ => format!("{e:?}").chars().take(300).collect(),
    }
}
