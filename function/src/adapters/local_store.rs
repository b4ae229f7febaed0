//! A local directory as the object store. Keys are relative paths (`runs/x/chunks/0.json`).
//! Every write goes to a temporary file first; `put_if_absent` then hard-links it into
//! place, which fails if the name exists, so a crash never leaves a half-written object
//! that counts as done.

use crate::ports::{ObjectStore, StoreError};
use std::path::{Component, Path, PathBuf};

#[derive(Clone, Debug)]
pub struct DirStore {
    root: PathBuf,
}

impl DirStore {
    pub fn new(root: impl Into<PathBuf>) -> DirStore {
        DirStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Refuses keys that could leave the root (`..`, absolute paths, empty parts).
    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        let rel = Path::new(key);
        let ok = !key.is_empty() && !key.ends_with('/') && rel.components().all(|c| matches!(c, Component::Normal(_)));
        if !ok {
            return Err(StoreError::BadKey(key.to_string()));
        }
        Ok(self.root.join(rel))
    }

    fn io(key: &str, e: std::io::Error) -> StoreError {
        StoreError::Io { key: key.to_string(), message: e.to_string() }
    }

    /// Writes `body` to a temporary file beside `path` (blocking; called off the runtime).
    /// A write that fails (a full disk) removes its temporary file.
    pub fn write_temp(path: &Path, body: &[u8]) -> std::io::Result<PathBuf> {
        let dir = path.parent().expect("joined path has a parent");
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!(".{}.tmp-{:016x}", path.file_name().and_then(|n| n.to_str()).unwrap_or("obj"), fastrand::u64(..)));
        let written = std::fs::write(&tmp, body);
        match written {
            Ok(()) => Ok(tmp),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }

    /// Runs a write's file operations in one blocking task (one hop off the runtime, not
    /// one per operation: thousands of cache entries are written this way).
    async fn blocking<T: Send + 'static>(key: &str, f: impl FnOnce() -> std::io::Result<T> + Send + 'static) -> Result<T, std::io::Error> {
        tokio::task::spawn_blocking(f).await.map_err(|e| std::io::Error::other(format!("write task of {key} failed: {e}")))?
    }
}

impl ObjectStore for DirStore {
    async fn get(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.path(key)?;
        match tokio::fs::read(&path).await {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::NotFound(key.to_string())),
            Err(e) => Err(Self::io(key, e)),
        }
    }

    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), StoreError> {
        let path = self.path(key)?;
        Self::blocking(key, move || {
            let tmp = Self::write_temp(&path, &body)?;
            std::fs::rename(&tmp, &path).inspect_err(|_| {
                let _ = std::fs::remove_file(&tmp);
            })
        })
        .await
        .map_err(|e| Self::io(key, e))
    }

    async fn put_if_absent(&self, key: &str, body: Vec<u8>) -> Result<(), StoreError> {
        let path = self.path(key)?;
        let linked = Self::blocking(key, move || {
            let tmp = Self::write_temp(&path, &body)?;
            let linked = std::fs::hard_link(&tmp, &path);
            let _ = std::fs::remove_file(&tmp);
            linked
        })
        .await;
        match linked {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(StoreError::AlreadyExists(key.to_string())),
            Err(e) => Err(Self::io(key, e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            let mut rd = match tokio::fs::read_dir(&dir).await {
                Ok(rd) => rd,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Self::io(prefix, e)),
            };
            while let Some(entry) = rd.next_entry().await.map_err(|e| Self::io(prefix, e))? {
                let p = entry.path();
                let name = entry.file_name();
                if name.to_string_lossy().starts_with('.') {
                    continue; // temporary files
                }
                if entry.file_type().await.map_err(|e| Self::io(prefix, e))?.is_dir() {
                    stack.push(p);
                } else if let Ok(rel) = p.strip_prefix(&self.root) {
                    let key = rel.to_string_lossy().replace('\\', "/");
                    if key.starts_with(prefix) {
                        out.push(key);
                    }
                }
            }
        }
        out.sort();
        Ok(out)
    }

    async fn get_tagged(&self, key: &str) -> Result<(Vec<u8>, String), StoreError> {
        let body = self.get(key).await?;
        let tag = content_tag(&body);
        Ok((body, tag))
    }

    /// Atomic against other processes: the current file is first renamed away (only one
    /// caller can take a given file), compared, and the new body hard-linked into place
    /// (which fails if someone created the name meanwhile).
    async fn replace_if_match(&self, key: &str, body: Vec<u8>, tag: &str) -> Result<(), StoreError> {
        let path = self.path(key)?;
        let grabbed =
            path.with_file_name(format!(".{}.grab-{:016x}", path.file_name().and_then(|n| n.to_str()).unwrap_or("obj"), fastrand::u64(..)));
        match tokio::fs::rename(&path, &grabbed).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StoreError::NotFound(key.to_string())),
            Err(e) => return Err(Self::io(key, e)),
        }
        let current = tokio::fs::read(&grabbed).await.map_err(|e| Self::io(key, e))?;
        if content_tag(&current) != tag {
            // Put back what we took, unless the name was filled meanwhile.
            let _ = tokio::fs::hard_link(&grabbed, &path).await;
            let _ = tokio::fs::remove_file(&grabbed).await;
            return Err(StoreError::Conflict(key.to_string()));
        }
        let _ = tokio::fs::remove_file(&grabbed).await;
        match self.put_if_absent(key, body).await {
            Err(StoreError::AlreadyExists(_)) => Err(StoreError::Conflict(key.to_string())),
            other => other,
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Self::io(key, e)),
        }
    }
}

/// A content hash as the version tag, like S3's ETag for a single-part object.
fn content_tag(body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(body).iter().take(16).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("stockpicks-store-{name}-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[tokio::test]
    async fn put_if_absent_is_exclusive_and_leaves_no_temp_files() {
        let s = DirStore::new(tmpdir("excl"));
        s.put_if_absent("runs/r1/chunks/0.json", b"one".to_vec()).await.unwrap();
        let again = s.put_if_absent("runs/r1/chunks/0.json", b"two".to_vec()).await;
        assert!(matches!(again, Err(StoreError::AlreadyExists(_))));
        assert_eq!(s.get("runs/r1/chunks/0.json").await.unwrap(), b"one");
        assert_eq!(s.list("runs/r1/").await.unwrap(), vec!["runs/r1/chunks/0.json".to_string()]);
        let names: Vec<_> = std::fs::read_dir(s.root().join("runs/r1/chunks")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
        s.delete("runs/r1/chunks/0.json").await.unwrap();
        assert!(matches!(s.get("runs/r1/chunks/0.json").await, Err(StoreError::NotFound(_))));
    }

    #[tokio::test]
    async fn concurrent_claims_have_one_winner() {
        let s = std::sync::Arc::new(DirStore::new(tmpdir("race")));
        let mut tasks = Vec::new();
        for i in 0..16 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move { s.put_if_absent("lock", vec![i]).await.is_ok() }));
        }
        let mut wins = 0;
        for t in tasks {
            wins += t.await.unwrap() as usize;
        }
        assert_eq!(wins, 1);
    }

    #[tokio::test]
    async fn replace_if_match_only_replaces_the_version_read() {
        let s = DirStore::new(tmpdir("ifmatch"));
        s.put_if_absent("runs/r/aggregate.lock", b"old".to_vec()).await.unwrap();
        let (_, tag) = s.get_tagged("runs/r/aggregate.lock").await.unwrap();
        s.replace_if_match("runs/r/aggregate.lock", b"mine".to_vec(), &tag).await.unwrap();
        assert_eq!(s.get("runs/r/aggregate.lock").await.unwrap(), b"mine");
        // A second taker with the stale tag loses, and the winner's lock stays.
        let lost = s.replace_if_match("runs/r/aggregate.lock", b"theirs".to_vec(), &tag).await;
        assert!(matches!(lost, Err(StoreError::Conflict(_))), "{lost:?}");
        assert_eq!(s.get("runs/r/aggregate.lock").await.unwrap(), b"mine");
        assert!(matches!(s.replace_if_match("runs/r/none", vec![], &tag).await, Err(StoreError::NotFound(_))));
        assert_eq!(s.list("runs/r/").await.unwrap(), vec!["runs/r/aggregate.lock".to_string()], "no temporary files left");
    }

    #[tokio::test]
    async fn keys_cannot_escape_the_root() {
        let s = DirStore::new(tmpdir("escape"));
        for k in ["../x", "/etc/passwd", "a/../../b", "", "a/"] {
            assert!(matches!(s.put(k, vec![]).await, Err(StoreError::BadKey(_))), "{k}");
        }
    }
}
