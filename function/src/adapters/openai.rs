//! The commentary port against any OpenAI-compatible chat-completions server (reqwest):
//! one POST with the prompt and a strict JSON schema (structured outputs), temperature 0,
//! a hard timeout. The key travels in the Authorization header and never appears in an
//! error; error bodies are cut short, since a server may echo the request.

use super::HttpClientError;
use crate::config::OpenAiConfig;
use crate::domain::commentary::Prompt;
use crate::ports::{BoxError, CommentaryError, Commentator, NoCommentator};
use crate::secret::Secret;
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// The largest reply body read from the commentary server (a reply for 25 picks is ~20 KB).
pub const MAX_REPLY: usize = 4 << 20;

/// The commentator a run uses: this adapter with a key, or commentary off with the reason
/// the report will give (`key`'s error says why there is none: not configured, or a secret
/// that could not be read).
pub fn commentator(cfg: &OpenAiConfig, key: Result<Secret, BoxError>) -> Result<Arc<dyn Commentator>, HttpClientError> {
    match key {
        Ok(key) => Ok(Arc::new(OpenAi::new(&cfg.base_url, key, &cfg.model, cfg.timeout)?)),
        Err(why) => {
            tracing::info!(reason = %why, "LLM commentary off");
            Ok(Arc::new(NoCommentator(format!("LLM commentary off: {why}"))))
        }
    }
}

pub struct OpenAi {
    http: reqwest::Client,
    endpoint: String,
    key: Secret,
    model: String,
    timeout: Duration,
}

impl OpenAi {
    /// `base_url` is the API root (`.../v1`); `/chat/completions` is appended.
    pub fn new(base_url: &str, key: Secret, model: &str, timeout: Duration) -> Result<OpenAi, HttpClientError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirect (a 307 re-sends the body) would hand the prompt and the key to
            // another host: refused and reported instead.
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .user_agent(concat!("stockpicks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(HttpClientError)?;
        let root = base_url.trim_end_matches('/');
        let endpoint = if root.ends_with("/chat/completions") { root.to_string() } else { format!("{root}/chat/completions") };
        Ok(OpenAi { http, endpoint, key, model: model.to_string(), timeout })
    }

    /// Every text that leaves here carries no configured secret. Errors are cleaned whole; the
    /// content keeps its control and bidirectional characters, because commentary validation
    /// drops every sentence that has one (stripping them first would let "Rank\u{202E}1"
    /// through as "Rank1"), and what it keeps is cleaned before a reader sees it.
    async fn call(&self, prompt: &Prompt) -> Result<String, CommentaryError> {
        match self.call_inner(prompt).await {
            Ok(content) => Ok(crate::sanitize::mask_secrets(&content)),
            Err(e) => Err(cleaned(e)),
        }
    }

    async fn call_inner(&self, prompt: &Prompt) -> Result<String, CommentaryError> {
        let body = json!({
            "model": self.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": prompt.system},
                {"role": "user", "content": prompt.user},
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": prompt.schema_name, "strict": true, "schema": prompt.schema},
            },
        });
        let resp = self
            .http
            .post(&self.endpoint)
            .bearer_auth(self.key.expose())
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        let status = resp.status();
        if status.is_redirection() {
            return Err(CommentaryError::Redirect(super::alphavantage::redirect_text(status.as_u16(), resp.headers())));
        }
        let bytes = super::alphavantage::read_capped(resp, MAX_REPLY).await.map_err(|e| match e {
            super::alphavantage::CappedError::TooLarge => CommentaryError::TooLarge(MAX_REPLY),
            super::alphavantage::CappedError::Http(e) => self.transport(e),
        })?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if !status.is_success() {
            let snippet: String = text.chars().take(160).collect();
            return Err(CommentaryError::Status { status: status.to_string(), snippet });
        }
        let v: Value = serde_json::from_str(&text).map_err(CommentaryError::NotJson)?;
        let choice = &v["choices"][0];
        if let Some(refusal) = choice["message"]["refusal"].as_str() {
            return Err(CommentaryError::Refused(refusal.chars().take(160).collect()));
        }
        if choice["finish_reason"].as_str() == Some("length") {
            return Err(CommentaryError::CutOff);
        }
        choice["message"]["content"].as_str().map(str::to_string).ok_or(CommentaryError::NoContent)
    }

    fn transport(&self, e: reqwest::Error) -> CommentaryError {
        if e.is_timeout() {
            CommentaryError::Timeout(self.timeout.as_secs())
        } else {
            // Without the URL: nothing of the request in the message (or in the source).
            let e = e.without_url();
            CommentaryError::Transport { detail: e.to_string(), source: Box::new(e) }
        }
    }
}

/// The error with every text that came from the server (or may quote it) cleaned and cut
/// short. The kinds without text pass as they are; a `NotJson` error is a syntax error of
/// parsing into a `Value` (what was expected, line and column), which quotes nothing.
fn cleaned(e: CommentaryError) -> CommentaryError {
    let clean = |t: &str| crate::sanitize::clean_short(t, 300);
    match e {
        CommentaryError::Off(t) => CommentaryError::Off(clean(&t)),
        CommentaryError::Transport { detail, source } => CommentaryError::Transport { detail: clean(&detail), source },
        CommentaryError::Redirect(t) => CommentaryError::Redirect(clean(&t)),
        CommentaryError::Status { status, snippet } => CommentaryError::Status { status, snippet: clean(&snippet) },
        CommentaryError::Refused(t) => CommentaryError::Refused(clean(&t)),
        e @ (CommentaryError::Timeout(_)
        | CommentaryError::TooLarge(_)
        | CommentaryError::NotJson(_)
        | CommentaryError::NoContent
        | CommentaryError::CutOff) => e,
    }
}

impl Commentator for OpenAi {
    fn complete<'a>(&'a self, prompt: &'a Prompt) -> Pin<Box<dyn Future<Output = Result<String, CommentaryError>> + Send + 'a>> {
        Box::pin(self.call(prompt))
    }

    fn model(&self) -> Option<String> {
        Some(self.model.clone())
    }
}
