//! The local mailer: writes each message to a `.eml` file instead of sending it.

use crate::ports::{MailError, MailErrorKind, Mailer};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct FileMailer {
    dir: PathBuf,
    sent: AtomicUsize,
}

impl FileMailer {
    pub fn new(dir: impl Into<PathBuf>) -> FileMailer {
        FileMailer { dir: dir.into(), sent: AtomicUsize::new(0) }
    }
}

impl Mailer for FileMailer {
    /// The first message is `email.eml`, later ones `email-2.eml`, `email-3.eml`, ...
    async fn send(&self, recipient: &str, mime: &[u8]) -> Result<String, MailError> {
        let n = self.sent.fetch_add(1, Ordering::SeqCst) + 1;
        let name = if n == 1 { "email.eml".to_string() } else { format!("email-{n}.eml") };
        let path = self.dir.join(&name);
        let err = |e: std::io::Error| MailError::new(recipient, MailErrorKind::Local, e.to_string()).with_source(e);
        tokio::fs::create_dir_all(&self.dir).await.map_err(err)?;
        // Through a temporary file: a failed write leaves neither a half message nor a
        // temporary file.
        let (target, body) = (path.clone(), mime.to_vec());
        tokio::task::spawn_blocking(move || {
            let tmp = crate::adapters::local_store::DirStore::write_temp(&target, &body)?;
            std::fs::rename(&tmp, &target).inspect_err(|_| {
                let _ = std::fs::remove_file(&tmp);
            })
        })
        .await
        .map_err(|e| err(std::io::Error::other(e.to_string())))?
        .map_err(err)?;
        Ok(path.display().to_string())
    }
}
