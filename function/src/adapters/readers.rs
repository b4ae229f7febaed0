//! Reader lists that need no AWS: a fixed list (the `EMAIL_RECIPIENT` override, and the
//! tests) and a CSV file (the local run's `out/subscribers.csv`).

use crate::domain::reader::{check_address, Standing, Subscriber};
use crate::ports::{BoxFuture, Readers, ReadersError};
use std::path::{Path, PathBuf};

/// Readers named in the configuration (`EMAIL_RECIPIENT`): all subscribed, not changeable.
pub struct FixedReaders(pub Vec<String>);

impl Readers for FixedReaders {
    fn list(&self) -> BoxFuture<'_, Result<Vec<Subscriber>, ReadersError>> {
        Box::pin(async move { Ok(self.0.iter().map(Subscriber::subscribed).collect()) })
    }
    fn add<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<(), ReadersError>> {
        Box::pin(async { Err(read_only()) })
    }
    fn remove<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<(), ReadersError>> {
        Box::pin(async { Err(read_only()) })
    }
    fn describe(&self) -> String {
        "EMAIL_RECIPIENT".into()
    }
}

fn read_only() -> ReadersError {
    ReadersError::ReadOnly("the readers are set by EMAIL_RECIPIENT; unset it to manage the reader list".into())
}

/// A reader list in a CSV file: a header `email,status`, then one reader per line, status
/// `subscribed` or `unsubscribed` (empty means subscribed). Blank lines and lines starting
/// with `#` are skipped. Rewritten whole through a temporary file and a rename, so an
/// interrupted change leaves the old list, never half of one.
pub struct SubscriberFile {
    path: PathBuf,
}

const HEADER: &str = "email,status";

impl SubscriberFile {
    pub fn new(path: impl Into<PathBuf>) -> SubscriberFile {
        SubscriberFile { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn backend(&self, message: impl std::fmt::Display) -> ReadersError {
        ReadersError::Backend { what: self.path.display().to_string(), message: message.to_string(), retryable: false }
    }

    /// The file's readers; a missing file is an empty list.
    async fn read(&self) -> Result<Vec<Subscriber>, ReadersError> {
        let text = match tokio::fs::read_to_string(&self.path).await {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.backend(e)),
        };
        parse(&text).map_err(|(line, why)| self.backend(format!("line {line}: {why}")))
    }

    async fn write(&self, list: &[Subscriber]) -> Result<(), ReadersError> {
        let mut text = format!("{HEADER}\n");
        for s in list {
            text.push_str(&format!("{},{}\n", s.address, s.standing.as_str()));
        }
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir).await.map_err(|e| self.backend(e))?;
        }
        let tmp = self.path.with_extension("csv.tmp");
        tokio::fs::write(&tmp, text).await.map_err(|e| self.backend(e))?;
        tokio::fs::rename(&tmp, &self.path).await.map_err(|e| self.backend(e))
    }
}

/// The rows of a subscriber file; `Err((line number, why))` for the first bad line.
fn parse(text: &str) -> Result<Vec<Subscriber>, (usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || (i == 0 && line.eq_ignore_ascii_case(HEADER)) {
            continue;
        }
        let (address, status) = line.split_once(',').unwrap_or((line, ""));
        let address = address.trim();
        check_address(address).map_err(|e| (i + 1, e.to_string()))?;
        let standing = if status.trim().is_empty() {
            Standing::Subscribed
        } else {
            Standing::parse(status).ok_or_else(|| (i + 1, format!("status {:?}: subscribed or unsubscribed", status.trim())))?
        };
        out.push(Subscriber { address: address.to_string(), standing });
    }
    Ok(out)
}

impl Readers for SubscriberFile {
    fn list(&self) -> BoxFuture<'_, Result<Vec<Subscriber>, ReadersError>> {
        Box::pin(self.read())
    }

    fn add<'a>(&'a self, address: &'a str) -> BoxFuture<'a, Result<(), ReadersError>> {
        Box::pin(async move {
            check_address(address)?;
            let mut list = self.read().await?;
            match list.iter_mut().find(|s| s.address.eq_ignore_ascii_case(address)) {
                Some(s) => s.standing = Standing::Subscribed,
                None => list.push(Subscriber::subscribed(address)),
            }
            self.write(&list).await
        })
    }

    fn remove<'a>(&'a self, address: &'a str) -> BoxFuture<'a, Result<(), ReadersError>> {
        Box::pin(async move {
            check_address(address)?;
            let mut list = self.read().await?;
            let before = list.len();
            list.retain(|s| !s.address.eq_ignore_ascii_case(address));
            if list.len() == before {
                return Err(ReadersError::NotListed(address.to_string()));
            }
            self.write(&list).await
        })
    }

    fn describe(&self) -> String {
        format!("the reader file {}", self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_with_comments_blank_lines_and_both_standings_parses() {
        let text = "email,status\n# the team\na@x.io,subscribed\n\nb@x.io,Unsubscribed\nc@x.io\n";
        let list = parse(text).unwrap();
        assert_eq!(
            list,
            vec![
                Subscriber::subscribed("a@x.io"),
                Subscriber { address: "b@x.io".into(), standing: Standing::Unsubscribed },
                Subscriber::subscribed("c@x.io"),
            ]
        );
    }

    #[test]
    fn a_bad_line_is_named_by_its_number() {
        assert_eq!(parse("email,status\na@x.io\nnot-an-address\n").unwrap_err().0, 3);
        let (line, why) = parse("a@x.io,maybe\n").unwrap_err();
        assert_eq!(line, 1);
        assert!(why.contains("maybe"), "{why}");
    }

    #[tokio::test]
    async fn add_remove_and_list_round_trip_through_the_file() {
        let dir = std::env::temp_dir().join(format!("stockpicks-readers-{}", fastrand::u64(..)));
        let file = SubscriberFile::new(dir.join("subscribers.csv"));
        assert!(file.list().await.unwrap().is_empty(), "no file: no readers");
        file.add("a@x.io").await.unwrap();
        file.add("b@x.io").await.unwrap();
        file.add("A@X.IO").await.unwrap();
        assert_eq!(file.list().await.unwrap().len(), 2, "an address is listed once, whatever its case");
        file.remove("a@x.io").await.unwrap();
        assert_eq!(file.list().await.unwrap(), vec![Subscriber::subscribed("b@x.io")]);
        assert!(matches!(file.remove("a@x.io").await, Err(ReadersError::NotListed(_))));
        assert!(matches!(file.add("Reader <r@x.io>").await, Err(ReadersError::BadAddress(_))));
        let text = std::fs::read_to_string(file.path()).unwrap();
        assert_eq!(text, "email,status\nb@x.io,subscribed\n");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn the_override_cannot_be_changed() {
        let fixed = FixedReaders(vec!["a@x.io".into()]);
        assert_eq!(fixed.list().await.unwrap(), vec![Subscriber::subscribed("a@x.io")]);
        assert!(matches!(fixed.add("b@x.io").await, Err(ReadersError::ReadOnly(_))));
    }
}
