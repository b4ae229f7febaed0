//! Files the user hands the CLI, read with a size bound, and warnings kept to a readable number.

use anyhow::{bail, Context, Result};

/// Largest `--model` file read.
pub(crate) const MAX_MODEL_FILE: u64 = 1 << 20;
/// Largest `--universe` file (or `universe refresh --from` reply) read: 100,000 rows fit.
pub(crate) const MAX_UNIVERSE_FILE: u64 = 16 << 20;
/// Largest results.json `explain` reads (about 1.5 KB per ranked stock).
pub(crate) const MAX_RESULTS_FILE: u64 = 256 << 20;
/// Warnings printed and kept in the report before the rest are summarised.
pub(crate) const MAX_WARNINGS: usize = 200;

/// Reads a text file of at most `limit` bytes; `what` ("model file ", or "") names it in
/// errors.
pub(crate) fn read_bounded(path: &std::path::Path, limit: u64, what: &str) -> Result<String> {
    use std::io::Read;
    let f = std::fs::File::open(path).with_context(|| format!("reading {what}{}", path.display()))?;
    let mut buf = Vec::new();
    f.take(limit + 1).read_to_end(&mut buf).with_context(|| format!("reading {what}{}", path.display()))?;
    if buf.len() as u64 > limit {
        bail!("{what}{} is larger than {limit} bytes; refused", path.display());
    }
    String::from_utf8(buf).map_err(|_| anyhow::anyhow!("{what}{} is not UTF-8 text", path.display()))
}

/// At most `max` warnings, the rest counted in one line.
pub(crate) fn cap_warnings(mut w: Vec<String>, max: usize) -> Vec<String> {
    if w.len() > max {
        let more = w.len() - max;
        w.truncate(max);
        w.push(format!("... and {more} more warnings like these, not listed"));
    }
    w
}
