//! [`Secret`]: an API key that never shows itself. It lives apart from the configuration
//! because adapters (Secrets Manager, OpenAI, Alpha Vantage) hold keys too, and they must
//! not depend on the configuration module to do so.

use std::fmt;

/// A secret string (an API key). Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A real key: registered with [`crate::sanitize`], so it is masked in every string
    /// that comes from a server, a file or a log line.
    pub fn new(s: impl Into<String>) -> Secret {
        let s = s.into();
        crate::sanitize::register_secret(&s);
        Secret(s)
    }

    /// A stand-in value sent where no key is configured (the simulator's `simulator`): not
    /// a secret, so not masked in text.
    pub fn placeholder(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Replaces every occurrence of the secret in `text` (keys shorter than 4 characters
    /// are not searched for: they would redact ordinary words).
    pub fn redact(&self, text: &str) -> String {
        if self.0.len() < 4 {
            return text.to_string();
        }
        text.replace(&self.0, "***")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_never_shown() {
        let s = Secret::new("SECRETKEY123");
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
        assert_eq!(s.redact("url?apikey=SECRETKEY123&x"), "url?apikey=***&x");
    }
}
