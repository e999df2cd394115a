//! RPM versions, `[epoch:]version[-release]`, ordered by rpmvercmp (rpm 4.18)
//! per part: alphanumeric segments, `~` sorts before everything, `^` after
//! the end but before anything else.

use std::cmp::Ordering;
use std::str::FromStr;

use compact_str::CompactString;

use crate::{Scheme, VersionError, check_version_len, invalid};

const S: Scheme = Scheme::Rpm;

#[derive(Debug, Clone)]
pub struct Version {
    original: CompactString,
    /// Epoch text as written ("" when absent, which compares as "0").
    epoch: (usize, usize),
    version: (usize, usize),
    release: Option<(usize, usize)>,
}

impl Version {
    fn part(&self, r: (usize, usize)) -> &str {
        self.original.get(r.0..r.1).unwrap_or("")
    }
    pub fn epoch(&self) -> &str {
        match self.part(self.epoch) {
            "" => "0",
            e => e,
        }
    }
    pub fn version(&self) -> &str {
        self.part(self.version)
    }
    pub fn release(&self) -> Option<&str> {
        self.release.map(|r| self.part(r))
    }
}

impl FromStr for Version {
    type Err = VersionError;

    /// rpm's EVR split: an all-digit prefix before `:` is the epoch, the text
    /// after the last `-` is the release.
    fn from_str(s: &str) -> Result<Self, VersionError> {
        check_version_len(S, s)?;
        if s.is_empty() {
            return Err(VersionError::Empty { scheme: S });
        }
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        let (epoch, vstart) = if s.as_bytes().get(digits) == Some(&b':') {
            ((0, digits), digits + 1)
        } else {
            ((0, 0), 0)
        };
        let rest = &s[vstart..];
        let (version, release) = match rest.rfind('-') {
            Some(h) => ((vstart, vstart + h), Some((vstart + h + 1, s.len()))),
            None => ((vstart, s.len()), None),
        };
        if version.0 == version.1 {
            return Err(invalid(S, s, "version part is empty"));
        }
        Ok(Version {
            original: s.into(),
            epoch,
            version,
            release,
        })
    }
}

/// rpm's rpmvercmp on two version (or release) strings.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    let skip = |s: &[u8], mut k: usize| {
        while let Some(&c) = s.get(k) {
            if c.is_ascii_alphanumeric() || c == b'~' || c == b'^' {
                break;
            }
            k += 1;
        }
        k
    };
    loop {
        i = skip(a, i);
        j = skip(b, j);
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());
        if ca.is_none() && cb.is_none() {
            break;
        }
        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        // `^` sorts after the end of the string but before any segment.
        if ca == Some(b'^') || cb == Some(b'^') {
            if ca.is_none() {
                return Ordering::Less;
            }
            if cb.is_none() {
                return Ordering::Greater;
            }
            if ca != Some(b'^') {
                return Ordering::Greater;
            }
            if cb != Some(b'^') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        let (Some(ca), Some(_)) = (ca, cb) else { break };
        let isnum = ca.is_ascii_digit();
        let class = |c: &u8| {
            if isnum {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let ea = i + a[i..].iter().take_while(|c| class(c)).count();
        let eb = j + b[j..].iter().take_while(|c| class(c)).count();
        // A numeric segment beats an alphabetic one.
        if eb == j {
            return if isnum {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (mut sa, mut sb) = (&a[i..ea], &b[j..eb]);
        if isnum {
            while sa.first() == Some(&b'0') {
                sa = &sa[1..];
            }
            while sb.first() == Some(&b'0') {
                sb = &sb[1..];
            }
            match sa.len().cmp(&sb.len()) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        match sa.cmp(sb) {
            Ordering::Equal => {}
            o => return o,
        }
        i = ea;
        j = eb;
    }
    match (i < a.len(), j < b.len()) {
        (false, false) => Ordering::Equal,
        (true, _) => Ordering::Greater,
        (false, true) => Ordering::Less,
    }
}

impl Ord for Version {
    /// Epoch, version, then release. rpm itself ignores the release when one
    /// side has none (a dependency-matching rule that is not a total order);
    /// here a missing release sorts before any release.
    fn cmp(&self, other: &Self) -> Ordering {
        rpmvercmp(self.epoch(), other.epoch())
            .then_with(|| rpmvercmp(self.version(), other.version()))
            .then_with(|| match (self.release(), other.release()) {
                (Some(a), Some(b)) => rpmvercmp(a, b),
                (a, b) => a.is_some().cmp(&b.is_some()),
            })
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
    fn evr_split() {
        let x = v("2:1.2.3-4.el9");
        assert_eq!(
            (x.epoch(), x.version(), x.release()),
            ("2", "1.2.3", Some("4.el9"))
        );
        let y = v("1.0");
        assert_eq!((y.epoch(), y.release()), ("0", None));
        // non-numeric prefix before ':' is not an epoch
        assert_eq!(v("a:1-2").version(), "a:1");
    }

    #[test]
    fn segment_rules() {
        use Ordering::*;
        for (a, b, o) in [
            ("1.0", "1.0", Equal),
            ("1.0", "1_0", Equal),
            ("1.0~rc1", "1.0", Less),
            ("1.0^git1", "1.0", Greater),
            ("1.0^git1", "1.0.1", Less),
            ("1.0~rc1^x", "1.0~rc1", Greater),
            ("1a", "1.1", Less),
            ("010", "10", Equal),
            ("1.0a", "1.0", Greater),
        ] {
            assert_eq!(rpmvercmp(a, b), o, "{a} vs {b}");
            assert_eq!(rpmvercmp(b, a), o.reverse(), "{b} vs {a}");
        }
        assert!(v("1:1.0-1") > v("2.0-1"));
        assert!(v("1.0") < v("1.0-1"));
    }

    #[test]
    fn rejects_empty() {
        for s in ["", "1:", "-1", "1:-1"] {
            assert!(s.parse::<Version>().is_err(), "{s:?}");
        }
    }
}
