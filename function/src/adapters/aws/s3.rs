//! S3 as the object store. `put_if_absent` is a conditional write (`If-None-Match: *`):
//! S3 answers 412 PreconditionFailed when the key exists, which means "someone else has it".
//! 409 ConditionalRequestConflict is not that answer: "If you receive a 409 Conflict
//! response, ... retry the request" (S3 User Guide, conditional writes,
//! https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html): another
//! conditional write to the key was in flight and its outcome is not known yet, so the write
//! is sent again; only a 412 (or a success) settles it.

use crate::ports::{ObjectStore, StoreError};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::put_object::PutObjectError;
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

/// The condition a write carries.
enum Condition<'a> {
    /// `If-None-Match: *`: only if the key does not exist.
    Absent,
    /// `If-Match: <etag>`: only if the object is still the one read.
    Matches(&'a str),
}

impl S3Store {
    /// One conditional PUT, sent again while S3 answers 409 ConditionalRequestConflict (a
    /// concurrent conditional write on the key: retry, the outcome is not decided yet), at
    /// most [`CONFLICT_ATTEMPTS`] times. Every other answer goes back to the caller to map.
    async fn put_conditional(&self, key: &str, body: Vec<u8>, condition: Condition<'_>) -> Result<(), SdkError<PutObjectError>> {
        let mut attempt = 0;
        loop {
            let put = self.client.put_object().bucket(&self.bucket).key(key).body(ByteStream::from(body.clone()));
            let put = match condition {
                Condition::Absent => put.if_none_match("*"),
                Condition::Matches(tag) => put.if_match(tag),
            };
            match put.send().await {
                Ok(_) => return Ok(()),
                Err(e) if conflict(&e) && attempt + 1 < CONFLICT_ATTEMPTS => {
                    tracing::info!(key, attempt, "409 ConditionalRequestConflict; retrying the conditional write");
                    conflict_pause(attempt).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

fn status<E>(e: &SdkError<E>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

/// A conditional write lost: 412 PreconditionFailed.
fn precondition_failed<E: ProvideErrorMetadata>(e: &SdkError<E>) -> bool {
    status(e) == Some(412) || e.code() == Some("PreconditionFailed")
}

/// 409 ConditionalRequestConflict: a concurrent conditional write; retry.
fn conflict<E: ProvideErrorMetadata>(e: &SdkError<E>) -> bool {
    status(e) == Some(409) || e.code() == Some("ConditionalRequestConflict")
}

/// Attempts of a conditional write that keeps meeting 409, and the first pause (doubled each
/// time, with jitter): about 1.5 s in all, then the error goes up as a storage error (Lambda
/// retries the invocation).
const CONFLICT_ATTEMPTS: u32 = 5;
const CONFLICT_PAUSE_MS: u64 = 50;

async fn conflict_pause(attempt: u32) {
    let base = CONFLICT_PAUSE_MS << attempt;
    tokio::time::sleep(std::time::Duration::from_millis(base + fastrand::u64(..=base))).await;
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
        match self.put_conditional(key, body, Condition::Absent).await {
            Ok(()) => Ok(()),
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
        match self.put_conditional(key, body, Condition::Matches(tag)).await {
            Ok(()) => Ok(()),
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

#[cfg(test)]
mod tests {
    //! Against a stand-in S3 on 127.0.0.1 (port 0) that answers each request with the next
    //! canned response, so the status codes S3 documents can be played exactly.
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn error_xml(code: &str) -> String {
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>m</Message><RequestId>r</RequestId></Error>")
    }

    /// Serves `replies` (status, body) in order, one per request; counts the requests.
    async fn canned_s3(replies: Vec<(u16, String)>) -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let served = Arc::new(AtomicUsize::new(0));
        let count = served.clone();
        tokio::spawn(async move {
            for (status, body) in replies {
                let (mut sock, _) = listener.accept().await.unwrap();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                // Read the head, then the body by Content-Length (or to the end of a chunked body).
                loop {
                    let n = sock.read(&mut chunk).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(head_end) = text.find("\r\n\r\n") {
                        let head = text[..head_end].to_ascii_lowercase();
                        let len =
                            head.lines().find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)));
                        let have = buf.len() - head_end - 4;
                        let done = match len {
                            Some(len) => have >= len,
                            None if head.contains("transfer-encoding: chunked") => text.ends_with("0\r\n\r\n"),
                            None => true,
                        };
                        if done {
                            break;
                        }
                    }
                }
                count.fetch_add(1, Ordering::SeqCst);
                let reason = match status {
                    200 => "OK",
                    409 => "Conflict",
                    _ => "Precondition Failed",
                };
                let reply = format!(
                    "HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                sock.write_all(reply.as_bytes()).await.unwrap();
                sock.shutdown().await.ok();
            }
        });
        (url, served)
    }

    fn store(url: &str) -> S3Store {
        let conf = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new("test", "test", None, None, "test"))
            .endpoint_url(url)
            .force_path_style(true)
            // Only this adapter's own retry is under test.
            .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
            .build();
        S3Store::new(aws_sdk_s3::Client::from_conf(conf), "bucket")
    }

    #[tokio::test]
    async fn a_409_conditional_request_conflict_is_retried_until_s3_decides() {
        let (url, served) = canned_s3(vec![(409, error_xml("ConditionalRequestConflict")), (200, String::new())]).await;
        store(&url).put_if_absent("runs/r/aggregate.lock", b"x".to_vec()).await.unwrap();
        assert_eq!(served.load(Ordering::SeqCst), 2, "sent again after the 409");

        let (url, served) = canned_s3(vec![(409, error_xml("ConditionalRequestConflict")), (412, error_xml("PreconditionFailed"))]).await;
        let lost = store(&url).put_if_absent("runs/r/aggregate.lock", b"x".to_vec()).await;
        assert!(matches!(lost, Err(StoreError::AlreadyExists(_))), "{lost:?}");
        assert_eq!(served.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_412_means_someone_else_has_it_at_once() {
        let (url, served) = canned_s3(vec![(412, error_xml("PreconditionFailed"))]).await;
        let lost = store(&url).put_if_absent("runs/r/chunks/0.json", b"x".to_vec()).await;
        assert!(matches!(lost, Err(StoreError::AlreadyExists(_))), "{lost:?}");
        assert_eq!(served.load(Ordering::SeqCst), 1);
        let (url, _) = canned_s3(vec![(412, error_xml("PreconditionFailed"))]).await;
        let lost = store(&url).replace_if_match("runs/r/aggregate.lock", b"x".to_vec(), "\"etag\"").await;
        assert!(matches!(lost, Err(StoreError::Conflict(_))), "{lost:?}");
    }

    #[tokio::test]
    async fn endless_409s_end_as_a_storage_error_not_as_lost() {
        let replies = (0..CONFLICT_ATTEMPTS).map(|_| (409, error_xml("ConditionalRequestConflict"))).collect();
        let (url, served) = canned_s3(replies).await;
        let out = store(&url).replace_if_match("runs/r/aggregate.lock", b"x".to_vec(), "\"etag\"").await;
        assert!(matches!(out, Err(StoreError::Io { .. })), "{out:?}");
        assert_eq!(served.load(Ordering::SeqCst), CONFLICT_ATTEMPTS as usize);
    }
}
