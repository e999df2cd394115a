//! Debian versions, `[epoch:]upstream[-revision]`, ordered as deb-version(7)
//! and dpkg's `verrevcmp`.

use std::cmp::Ordering;
use std::str::FromStr;

use compact_str::CompactString;

use crate::{Scheme, VersionError, check_version_len, invalid};

const S: Scheme = Scheme::Dpkg;

#[derive(Debug, Clone)]
pub struct Version {
    original: CompactString,
    epoch: u32,
    /// Byte ranges into `original` (after trimming).
    upstream: (usize, usize),
    revision: (usize, usize),
}

impl Version {
    pub fn epoch(&self) -> u32 {
        self.epoch
    }
    pub fn upstream(&self) -> &str {
        self.original
            .get(self.upstream.0..self.upstream.1)
            .unwrap_or("")
    }
    /// The Debian revision; empty when absent (which sorts like "0").
    pub fn revision(&self) -> &str {
        self.original
            .get(self.revision.0..self.revision.1)
            .unwrap_or("")
    }
}

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(input: &str) -> Result<Self, VersionError> {
        check_version_len(S, input)?;
        // dpkg ignores surrounding blanks but not embedded ones.
        let start = input.len() - input.trim_start().len();
        let s = input.trim();
        if s.is_empty() {
            return Err(VersionError::Empty { scheme: S });
        }
        if s.bytes().any(|b| b.is_ascii_whitespace()) {
            return Err(invalid(S, input, "embedded whitespace"));
        }
        let (epoch, rest_off) = match s.find(':') {
            Some(colon) => {
                let e = &s[..colon];
                if e.is_empty() {
                    return Err(invalid(S, input, "epoch is empty"));
                }
                if !e.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid(S, input, "epoch is not a number"));
                }
                let epoch = e
                    .parse::<u32>()
                    .ok()
                    .filter(|&n| n <= i32::MAX as u32)
                    .ok_or_else(|| invalid(S, input, "epoch is too big"))?;
                if colon + 1 == s.len() {
                    return Err(invalid(S, input, "nothing after the epoch colon"));
                }
                (epoch, colon + 1)
            }
            None => (0, 0),
        };
        let rest = &s[rest_off..];
        let (up_len, rev) = match rest.rfind('-') {
            Some(h) => {
                if h + 1 == rest.len() {
                    return Err(invalid(S, input, "revision is empty"));
                }
                (h, (h + 1, rest.len()))
            }
            None => (rest.len(), (rest.len(), rest.len())),
        };
        let upstream = &rest[..up_len];
        let revision = &rest[rev.0..rev.1];
        match upstream.bytes().next() {
            None => return Err(invalid(S, input, "upstream version is empty")),
            Some(b) if !b.is_ascii_digit() => {
                return Err(invalid(
                    S,
                    input,
                    "upstream version does not start with a digit",
                ));
            }
            Some(_) => {}
        }
        if !upstream
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-+~:".contains(&b))
        {
            return Err(invalid(S, input, "invalid character in upstream version"));
        }
        if !revision
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".+~".contains(&b))
        {
            return Err(invalid(S, input, "invalid character in revision"));
        }
        let base = start + rest_off;
        Ok(Version {
            original: input.into(),
            epoch,
            upstream: (base, base + up_len),
            revision: (base + rev.0, base + rev.1),
        })
    }
}

/// Weight of a non-digit byte: `~` before everything (even the end), then the
/// end of the part, then letters, then other symbols.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's verrevcmp: alternate non-digit runs (by `order`) and digit runs
/// (numerically, any length).
pub fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    let digit = |s: &[u8], k: usize| s.get(k).is_some_and(|c| c.is_ascii_digit());
    while i < a.len() || j < b.len() {
        while (i < a.len() && !digit(a, i)) || (j < b.len() && !digit(b, j)) {
            let (ac, bc) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while digit(a, i) && digit(b, j) {
            if first_diff == Ordering::Equal {
                first_diff = a.get(i).cmp(&b.get(j));
            }
            i += 1;
            j += 1;
        }
        if digit(a, i) {
            return Ordering::Greater;
        }
        if digit(b, j) {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

impl Version {
    /// See [`crate::AnyVersion::order_key`]: the epoch, then the upstream
    /// version's first four numbers and the separators between them, as
    /// `verrevcmp` weighs them (see [`order`]).
    pub fn order_key(&self) -> u64 {
        let up = self.upstream().as_bytes();
        let number = |i: &mut usize| {
            let mut n = 0u64;
            while let Some(c) = up.get(*i).filter(|c| c.is_ascii_digit()) {
                n = n.saturating_mul(10).saturating_add(u64::from(c - b'0'));
                *i += 1;
            }
            n
        };
        let mut k = crate::OrderKey::new();
        k.number(u64::from(self.epoch), 4);
        let mut i = 0;
        k.number(number(&mut i), 12);
        for _ in 0..3 {
            // The non-digit run before the next number, by its first byte
            // and what follows it (`~` < a digit or the end < anything
            // else). Only the end, or one separator before a digit or the
            // end, is ordered exactly; the rest closes the key.
            let Some(&c) = up.get(i) else {
                k.number(3, 4);
                k.number(0, 12);
                continue;
            };
            let next = match up.get(i + 1) {
                Some(b'~') => 0,
                Some(d) if !d.is_ascii_digit() => 2,
                _ => 1,
            };
            let base = match c {
                b'~' => 0,
                b'+' => 5,
                b'-' => 8,
                b'.' => 11,
                c if c.is_ascii_alphabetic() => {
                    k.last(4, 4);
                    break;
                }
                _ => {
                    k.last(14, 4);
                    break;
                }
            };
            if next != 1 {
                k.last(base + next, 4);
                break;
            }
            k.number(base + 1, 4);
            i += 1;
            k.number(number(&mut i), 12);
        }
        k.finish()
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(self.upstream(), other.upstream()))
            .then_with(|| verrevcmp(self.revision(), other.revision()))
    }
}
crate::order_by_cmp!(Version);

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parts() {
        let x = v("1:2.30-1+deb12u1");
        assert_eq!(
            (x.epoch(), x.upstream(), x.revision()),
            (1, "2.30", "1+deb12u1")
        );
        let y = v(" 1.2-3-4 ");
        assert_eq!((y.upstream(), y.revision()), ("1.2-3", "4"));
        assert_eq!(y.to_string(), " 1.2-3-4 ");
    }

    #[test]
    fn tilde_and_letters() {
        assert!(v("1.0~rc1") < v("1.0"));
        assert!(v("1.0~~") < v("1.0~"));
        assert!(v("1.0a") < v("1.0+"));
        assert!(v("1.0") < v("1.0a"));
        assert_eq!(v("1.0"), v("1.0-0"));
        assert_eq!(v("1.01"), v("1.1"));
        assert!(v("1:0.1") > v("9.9"));
        assert!(v("1.18446744073709551616") > v("1.18446744073709551615"));
    }

    #[test]
    fn rejects_bad_syntax() {
        for s in [
            "",
            " ",
            "a1.0",
            "1:",
            ":1",
            "x:1",
            "1.0-",
            "1 0",
            "1.0_1",
            "1.0-a_b",
            "99999999999:1",
        ] {
            assert!(s.parse::<Version>().is_err(), "{s:?}");
        }
    }
}
