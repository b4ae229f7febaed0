//! S3 as the object store. `put_if_absent` is a conditional write (`If-None-Match: *`):
//! S3 answers 412 PreconditionFailed when the key exists (409 while another conditional
//! write to it is in flight), and both mean "someone else has it".

use crate::ports::{ObjectStore, StoreError};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;

#[derive(Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Store {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> S3Store {
        S3Store { client, bucket: bucket.into() }
    }
}

fn status<E>(e: &SdkError<E>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

/// A conditional write lost: 412 PreconditionFailed, or 409 while another conditional write
/// to the key is in flight.
fn precondition_failed<E: ProvideErrorMetadata>(e: &SdkError<E>) -> bool {
    matches!(status(e), Some(412 | 409)) || matches!(e.code(), Some("PreconditionFailed" | "ConditionalRequestConflict"))
}

fn io<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(key: &str, e: &SdkError<E>) -> StoreError {
    let message = match e {
        SdkError::ServiceError(s) => super::describe(s.err()),
        other => format!("{}", aws_sdk_s3::error::DisplayErrorContext(other)).chars().take(300).collect(),
    };
    StoreError::Io { key: key.to_string(), message }
}

impl ObjectStore for S3Store {
    async fn get(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        self.get_tagged(key).await.map(|(body, _)| body)
    }

    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), StoreError> {
        self.client.put_object().bucket(&self.bucket).key(key).body(ByteStream::from(body)).send().await.map_err(|e| io(key, &e))?;
        Ok(())
    }

    async fn put_if_absent(&self, key: &str, body: Vec<u8>) -> Result<(), StoreError> {
        let sent = self.client.put_object().bucket(&self.bucket).key(key).body(ByteStream::from(body)).if_none_match("*").send().await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) if precondition_failed(&e) => Err(StoreError::AlreadyExists(key.to_string())),
            Err(e) => Err(io(key, &e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| io(prefix, &e))?;
            keys.extend(out.contents().iter().filter_map(|o| o.key().map(String::from)));
            match out.next_continuation_token() {
                Some(t) if out.is_truncated() == Some(true) => token = Some(t.to_string()),
                _ => break,
            }
        }
        keys.sort();
        Ok(keys)
    }

    async fn get_tagged(&self, key: &str) -> Result<(Vec<u8>, String), StoreError> {
        match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => {
                let tag = out.e_tag().unwrap_or_default().to_string();
                let data = out.body.collect().await.map_err(|e| StoreError::Io { key: key.into(), message: e.to_string() })?;
                Ok((data.into_bytes().to_vec(), tag))
            }
            Err(e) if status(&e) == Some(404) || e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                Err(StoreError::NotFound(key.to_string()))
            }
            Err(e) => Err(io(key, &e)),
        }
    }

    async fn replace_if_match(&self, key: &str, body: Vec<u8>, tag: &str) -> Result<(), StoreError> {
        let sent = self.client.put_object().bucket(&self.bucket).key(key).body(ByteStream::from(body)).if_match(tag).send().await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) if precondition_failed(&e) => Err(StoreError::Conflict(key.to_string())),
            Err(e) if status(&e) == Some(404) => Err(StoreError::NotFound(key.to_string())),
            Err(e) => Err(io(key, &e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.client.delete_object().bucket(&self.bucket).key(key).send().await.map_err(|e| io(key, &e))?;
        Ok(())
    }
}
