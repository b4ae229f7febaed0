//! Reading and checking one value: numbers, whole numbers, URLs, e-mail addresses.

use super::ConfigError;

/// The environment as the sections see it: trimmed, and an empty value reads as unset.
pub(super) type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// A real number in `min..=max`, `default` when unset.
pub(super) fn number(get: Lookup, var: &'static str, default: f64, min: f64, max: f64) -> Result<f64, ConfigError> {
    let Some(raw) = get(var) else { return Ok(default) };
    let v: f64 = raw.parse().map_err(|_| ConfigError { var, value: raw.clone(), why: "not a number".into() })?;
    if !v.is_finite() || v < min || v > max {
        return Err(ConfigError { var, value: raw, why: format!("must be between {min} and {max}") });
    }
    Ok(v)
}

/// A whole number in `min..=max`, `default` when unset. A fraction is refused, not
/// truncated: `MAX_WORKERS=2.7` used to run with 2 workers without a word.
pub(super) fn whole<T: TryFrom<u64>>(get: Lookup, var: &'static str, default: T, min: u64, max: u64) -> Result<T, ConfigError> {
    let Some(raw) = get(var) else { return Ok(default) };
    let range = || format!("must be a whole number between {min} and {max}");
    let v: u64 = match raw.parse::<u64>() {
        Ok(v) => v,
        // A number of another kind (2.7, -1, 1e3) gets the range; anything else is no number.
        Err(_) if raw.parse::<f64>().is_ok() => return Err(ConfigError { var, value: raw, why: range() }),
        Err(_) => return Err(ConfigError { var, value: raw, why: "not a number".into() }),
    };
    if v < min || v > max {
        return Err(ConfigError { var, value: raw, why: range() });
    }
    T::try_from(v).map_err(|_| ConfigError { var, value: raw, why: range() })
}

/// An `http:` or `https:` URL without a query string (the clients append their own).
pub(super) fn check_http_url(var: &'static str, raw: String) -> Result<String, ConfigError> {
    match url::Url::parse(&raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.query().is_none() => Ok(raw),
        Ok(_) => Err(ConfigError { var, value: raw, why: "must be an http(s) URL without a query string".into() }),
        Err(e) => Err(ConfigError { var, value: raw, why: format!("must be an http(s) URL without a query string ({e})") }),
    }
}

/// `UNSUBSCRIBE_URL`: one `https:` URL with a host, or one `mailto:` address, that parses
/// and carries nothing that could end the link or the `List-Unsubscribe` header (no
/// whitespace or control characters, no `<`, `>`, `,`, quotes or backslashes).
pub fn check_unsubscribe(raw: &str) -> Result<String, ConfigError> {
    let bad = |why: &str| ConfigError {
        var: "UNSUBSCRIBE_URL",
        value: raw.chars().map(|c| if c.is_control() { '?' } else { c }).take(200).collect(),
        why: why.to_string(),
    };
    if raw.len() > 2000 {
        return Err(bad("longer than 2000 characters"));
    }
    if raw.chars().any(|c| !c.is_ascii_graphic() || "<>,\"'\\`".contains(c)) {
        return Err(bad("must be one URL without spaces, control characters, <, >, commas, quotes or backslashes"));
    }
    let u = url::Url::parse(raw).map_err(|e| bad(&format!("not a URL ({e})")))?;
    match u.scheme() {
        "https" if u.host_str().is_some_and(|h| !h.is_empty()) && u.username().is_empty() && u.password().is_none() => Ok(raw.to_string()),
        "mailto" => {
            let addr = u.path();
            check_address("UNSUBSCRIBE_URL", addr).map_err(|_| bad("a mailto: URL needs one plain e-mail address"))?;
            Ok(raw.to_string())
        }
        "https" => Err(bad("an https: URL needs a host and no user name")),
        other => Err(bad(&format!("only https: and mailto: URLs are accepted, not {other}:"))),
    }
}

/// A bare address (`a@b.c`): the rule of [`crate::domain::reader::check_address`].
pub(super) fn check_address(var: &'static str, addr: &str) -> Result<(), ConfigError> {
    crate::domain::reader::check_address(addr).map_err(|_| ConfigError {
        var,
        value: addr.to_string(),
        why: "not a plain e-mail address".into(),
    })
}

/// An SES contact list or topic name: 1 to 64 letters, digits, `-` or `_` (a name goes
/// into ARNs and URL paths, so nothing else is let through).
pub(super) fn check_ses_name(var: &'static str, name: String) -> Result<String, ConfigError> {
    let ok = (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(name)
    } else {
        Err(ConfigError { var, value: name, why: "1 to 64 letters, digits, '-' or '_'".into() })
    }
}
