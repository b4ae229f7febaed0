//! Readers: who the report is mailed to, whether they still want it, and the stable id a
//! run uses for each of them (in its per-reader claims and in the Message-ID), so that no
//! key, log line or header carries an address and no reader's id changes when another
//! reader leaves.

use std::fmt;

/// A reader's standing on the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    Subscribed,
    /// Left the list (SES one-click unsubscribe, or marked so in the local file): listed,
    /// never mailed.
    Unsubscribed,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Subscribed => "subscribed",
            Standing::Unsubscribed => "unsubscribed",
        }
    }

    pub fn parse(s: &str) -> Option<Standing> {
        match s.trim().to_ascii_lowercase().as_str() {
            "subscribed" => Some(Standing::Subscribed),
            "unsubscribed" => Some(Standing::Unsubscribed),
            _ => None,
        }
    }
}

/// One entry of a reader list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscriber {
    pub address: String,
    pub standing: Standing,
}

impl Subscriber {
    pub fn subscribed(address: impl Into<String>) -> Subscriber {
        Subscriber { address: address.into(), standing: Standing::Subscribed }
    }
}

/// Why an address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{address:?} is not a plain e-mail address (name@domain, no display name, spaces or <>()[],;:\"\\)")]
pub struct BadAddress {
    pub address: String,
}

/// A bare address (`a@b.c`): no display name, no header-breaking characters, at most 254
/// characters (RFC 5321 §4.5.3.1.3 limits a path to 256 including its angle brackets).
pub fn check_address(address: &str) -> Result<(), BadAddress> {
    let ok = address.len() <= 254
        && address.matches('@').count() == 1
        && !address.starts_with('@')
        && !address.ends_with('@')
        && address.chars().all(|c| c.is_ascii_graphic() && !"<>()[],;:\"\\".contains(c));
    if ok {
        Ok(())
    } else {
        Err(BadAddress { address: address.to_string() })
    }
}

/// The readers to mail: the subscribed ones, each once (addresses compared without regard
/// to case, as mailbox providers do), in the order given.
pub fn to_mail(list: Vec<Subscriber>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    list.into_iter()
        .filter(|s| s.standing == Standing::Subscribed)
        .filter(|s| seen.insert(s.address.to_ascii_lowercase()))
        .map(|s| s.address)
        .collect()
}

/// A reader's id within one run: 16 hex digits of a 64-bit FNV-1a hash of the run id and
/// the lower-cased address. Stable for the run (a redelivered aggregation finds the same
/// claims, whoever joined or left meanwhile), different from run to run (the bucket's keys
/// cannot be matched against a guessed address across runs), and no address in it.
/// FNV-1a is specified (not std's `DefaultHasher`, whose output may change between Rust
/// releases); for a list of thousands, a 64-bit collision is a chance of about 1 in 10^12.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReaderId(String);

impl ReaderId {
    pub fn new(run_id: &str, address: &str) -> ReaderId {
        let bytes = run_id.bytes().chain(std::iter::once(b'\n')).chain(address.trim().bytes().map(|b| b.to_ascii_lowercase()));
        ReaderId(format!("{:016x}", fnv1a64(bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// FNV-1a, 64 bits (draft-eastlake-fnv: offset basis 0xcbf29ce484222325, prime 2^40 + 0x1b3).
fn fnv1a64(bytes: impl Iterator<Item = u8>) -> u64 {
    bytes.fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

impl fmt::Display for ReaderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_readers_id_is_stable_for_a_run_and_ignores_case() {
        let a = ReaderId::new("run-1", "Reader@Example.com");
        assert_eq!(a, ReaderId::new("run-1", "reader@example.com"));
        assert_eq!(a.as_str().len(), 16);
        assert!(a.as_str().chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, ReaderId::new("run-2", "reader@example.com"), "another run, another id");
        assert_ne!(a, ReaderId::new("run-1", "other@example.com"));
    }

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a64("".bytes()), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64("a".bytes()), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64("foobar".bytes()), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn ids_do_not_move_when_a_reader_leaves() {
        let before: Vec<_> = ["a@x.io", "b@x.io", "c@x.io"].iter().map(|a| ReaderId::new("r", a)).collect();
        let after: Vec<_> = ["a@x.io", "c@x.io"].iter().map(|a| ReaderId::new("r", a)).collect();
        assert_eq!(before[2], after[1], "c keeps its id when b leaves");
    }

    #[test]
    fn only_subscribed_readers_are_mailed_and_each_once() {
        let list = vec![
            Subscriber::subscribed("a@x.io"),
            Subscriber { address: "gone@x.io".into(), standing: Standing::Unsubscribed },
            Subscriber::subscribed("A@X.io"),
            Subscriber::subscribed("b@x.io"),
        ];
        assert_eq!(to_mail(list), vec!["a@x.io".to_string(), "b@x.io".to_string()]);
    }

    #[test]
    fn addresses_with_display_names_or_separators_are_refused() {
        assert!(check_address("reader@example.com").is_ok());
        for bad in ["", "reader", "@x.io", "a@", "a@b@c", "Reader <r@x.io>", "a b@x.io", "a@x.io,b@x.io", "a;b@x.io"] {
            assert!(check_address(bad).is_err(), "{bad:?}");
        }
        assert!(check_address(&format!("{}@x.io", "a".repeat(250))).is_err());
    }

    #[test]
    fn standings_round_trip() {
        for s in [Standing::Subscribed, Standing::Unsubscribed] {
            assert_eq!(Standing::parse(s.as_str()), Some(s));
        }
        assert_eq!(Standing::parse(" Unsubscribed "), Some(Standing::Unsubscribed));
        assert_eq!(Standing::parse("maybe"), None);
    }
}
