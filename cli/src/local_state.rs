//! The CLI's state on disk: a lock per state directory (history, cache), and the staging
//! directory a run writes into before it moves into `--out` in one step.

use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::PathBuf;

/// An exclusive lock on a state directory (history or cache) for the life of the run:
/// `flock` on `.NAME.lock` beside the directory (`out/.history.lock`), released by the
/// kernel when the process ends, even when it is killed.
pub(crate) struct DirLock {
    _file: std::fs::File,
}

pub(crate) fn lock_dir(dir: &std::path::Path) -> Result<std::result::Result<DirLock, String>> {
    use std::io::{Read, Seek};
    use std::os::fd::AsRawFd;
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "state".into());
    let path = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join(format!(".{name}.lock")),
        _ => PathBuf::from(format!(".{name}.lock")),
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("opening lock file {}", path.display()))?;
    // SAFETY: flock on a file descriptor this function owns; no memory is shared.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        let holder = holder.trim().chars().filter(|c| c.is_ascii_digit()).take(10).collect::<String>();
        let who = if holder.is_empty() { String::new() } else { format!(" (pid {holder})") };
        return Ok(Err(format!(
            "another stockpicks run{who} holds {}: wait for it to finish (two runs would both spend the API quota and both land in history)",
            path.display()
        )));
    }
    file.set_len(0)?;
    file.rewind()?;
    writeln!(file, "{}", std::process::id())?;
    Ok(Ok(DirLock { _file: file }))
}

/// Where a run's files are written before they are moved into `--out` in one step.
pub(crate) struct Staging {
    pub(crate) dir: PathBuf,
    out: PathBuf,
    done: bool,
}

impl Staging {
    /// Refuses an `--out` that holds anything (a run never mixes with an older one).
    pub(crate) fn new(out: &std::path::Path) -> Result<Staging> {
        if out.exists() {
            let empty = std::fs::read_dir(out).map(|mut d| d.next().is_none()).unwrap_or(false);
            if !out.is_dir() || !empty {
                bail!(
                    "--out {}: not an empty directory; a run writes into a fresh one (choose another --out, or move the old run away)",
                    out.display()
                );
            }
        }
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).with_context(|| format!("creating output directory {}", parent.display()))?;
        remove_abandoned_staging(&parent);
        let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
        let dir = parent.join(format!(".{name}.partial-{}-{:08x}", std::process::id(), fastrand::u32(..)));
        std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Staging { dir, out: out.to_path_buf(), done: false })
    }

    /// Moves the finished run into place (one rename).
    pub(crate) fn publish(mut self) -> Result<()> {
        if self.out.is_dir() {
            // Still empty (checked at start); a run that filled it meanwhile keeps it.
            std::fs::remove_dir(&self.out)
                .with_context(|| format!("--out {} is no longer empty; this run stays in {}", self.out.display(), self.dir.display()))?;
        }
        std::fs::rename(&self.dir, &self.out).with_context(|| format!("moving {} to {}", self.dir.display(), self.out.display()))?;
        self.done = true;
        Ok(())
    }
}

/// Removes the staging directories of killed runs under `root`: `.NAME.partial-PID-*` whose
/// process no longer exists (a live run's directory is left alone).
pub(crate) fn remove_abandoned_staging(root: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(root) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix('.').and_then(|n| n.rsplit_once(".partial-")).map(|(_, r)| r.to_string()) else { continue };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else { continue };
        if pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists() && e.path().is_dir() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

impl Drop for Staging {
    /// A run that failed leaves nothing half-written.
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
