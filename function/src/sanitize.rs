//! The one cleaning step for text that came from outside (an Alpha Vantage or OpenAI reply,
//! a universe file, a stored results.json): control characters and bidirectional overrides
//! are removed, and every configured secret is masked. It runs where such text enters the
//! program, so what is stored, logged or rendered afterwards is already clean; the rendered
//! artifacts pass through [`mask_secrets`] once more before they are written.
//!
//! Secrets are registered by [`crate::secret::Secret::new`] (every key read from the
//! environment or Secrets Manager), so no caller has to remember to pass them along.

use std::sync::RwLock;

/// What a masked secret becomes.
pub const MASK: &str = "***";
/// Secrets shorter than this are not searched for: they would mask ordinary words (the
/// public `demo` key). Alpha Vantage keys are 16 characters, OpenAI keys longer.
pub const MIN_SECRET_LEN: usize = 8;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Adds `secret` to the set every cleaned string is masked against.
pub fn register_secret(secret: &str) {
    if secret.len() < MIN_SECRET_LEN {
        return;
    }
    let mut all = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    if !all.iter().any(|s| s == secret) {
        all.push(secret.to_string());
        // Longest first, so a secret that contains another is masked whole.
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// True for characters that must not reach a terminal, a CSV cell, an email or a log line:
/// C0/C1 controls (ESC, NUL, CR, LF, TAB, DEL), bidirectional overrides and isolates
/// (U+202A-U+202E, U+2066-U+2069), other invisible format characters, and line/paragraph
/// separators.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}' // zero-width, LRM/RLM
            | '\u{2028}' | '\u{2029}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{206A}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}')
}

/// Masks every registered secret in `text`. Control characters are not touched (use
/// [`clean`] for text from outside).
pub fn mask_secrets(text: &str) -> String {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    mask_with(text, &secrets)
}

fn mask_with(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        // Bounded: a mask can only create a new occurrence if the secret contains the mask.
        for _ in 0..4 {
            if !out.contains(s.as_str()) {
                break;
            }
            out = out.replace(s.as_str(), MASK);
        }
        if out.contains(s.as_str()) {
            return "[redacted]".to_string();
        }
    }
    out
}

/// Masks secrets in bytes (a rendered artifact) without assuming UTF-8.
pub fn mask_secrets_bytes(body: Vec<u8>) -> Vec<u8> {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    if secrets.iter().all(|s| !contains(&body, s.as_bytes())) {
        return body;
    }
    match String::from_utf8(body) {
        Ok(text) => mask_with(&text, &secrets).into_bytes(),
        Err(e) => {
            // Not UTF-8: replace byte-wise.
            let mut b = e.into_bytes();
            for s in secrets.iter() {
                b = replace_bytes(&b, s.as_bytes(), MASK.as_bytes());
            }
            b
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

fn replace_bytes(hay: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

/// Text from outside, made safe to store and show: unsafe characters dropped (a CR, LF or
/// TAB becomes a space), runs of spaces collapsed, ends trimmed, then secrets masked.
/// Control characters go first, so `KE\x1bY` cannot hide a key from the mask.
pub fn clean(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    let mut last_space = false;
    for c in text.chars() {
        let c = if matches!(c, '\r' | '\n' | '\t' | '\u{2028}' | '\u{2029}') { ' ' } else { c };
        if is_unsafe_char(c) {
            continue;
        }
        if c == ' ' {
            if last_space {
                continue;
            }
            last_space = true;
        } else {
            last_space = false;
        }
        s.push(c);
    }
    mask_secrets(s.trim())
}

/// [`clean`] for text of several lines (a rendered explanation read back from a file):
/// line breaks are kept, every other unsafe character dropped, secrets masked.
pub fn clean_multiline(text: &str) -> String {
    let s: String = text.chars().filter(|c| *c == '\n' || !is_unsafe_char(*c)).collect();
    mask_secrets(&s)
}

/// [`clean`], then cut to `max` characters.
pub fn clean_short(text: &str, max: usize) -> String {
    let c = clean(text);
    if c.chars().count() <= max {
        c
    } else {
        // Cut before masking would be unsafe (half a key); cut after.
        c.chars().take(max).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_go_before_the_mask() {
        register_secret("UNITKEY0123456789");
        assert_eq!(clean("a\u{1b}[2Jb"), "a[2Jb");
        assert_eq!(clean("x UNITKEY01234\u{1b}56789 y"), "x *** y");
        assert_eq!(clean("evil\u{202e}cod.exe\r\nBcc: x"), "evilcod.exe Bcc: x");
        assert_eq!(clean("  \u{0}  "), "");
        assert_eq!(mask_secrets_bytes(b"k=UNITKEY0123456789\xff".to_vec()), b"k=***\xff".to_vec());
        assert_eq!(clean_multiline("a\nb\u{1b}c UNITKEY0123456789"), "a\nbc ***");
    }

    #[test]
    fn short_secrets_are_not_searched_for() {
        register_secret("demo");
        assert_eq!(clean("the demo key"), "the demo key");
    }
}
