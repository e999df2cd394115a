//! RubyGems versions (`Gem::Version`) and requirements (`~> 1.2`, `>= 1, < 2`).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use compact_str::CompactString;

use crate::{Scheme, VersionError, check_range_len, check_version_len, invalid, invalid_range};

const S: Scheme = Scheme::RubyGems;
const MAX_REQUIREMENTS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    /// Digits without leading zeros, compared by value.
    Num(String),
    Str(String),
}

impl Seg {
    fn is_zero(&self) -> bool {
        matches!(self, Seg::Num(n) if n.is_empty())
    }
}

fn cmp_seg(a: &Seg, b: &Seg) -> Ordering {
    match (a, b) {
        (Seg::Num(x), Seg::Num(y)) => x.len().cmp(&y.len()).then_with(|| x.cmp(y)),
        (Seg::Str(_), Seg::Num(_)) => Ordering::Less,
        (Seg::Num(_), Seg::Str(_)) => Ordering::Greater,
        (Seg::Str(x), Seg::Str(y)) => x.cmp(y),
    }
}

#[derive(Debug, Clone)]
pub struct Version {
    original: CompactString,
    segments: Vec<Seg>,
    /// Segments with trailing zeros dropped from the release and prerelease
    /// parts, which is what `<=>` compares.
    canonical: Vec<Seg>,
}

impl FromStr for Version {
    type Err = VersionError;

    /// `Gem::Version.correct?` syntax: `1.2.3`, `1.2.a`, `1.0-pre` (a `-` means
    /// `.pre.`); surrounding whitespace is ignored and an empty string is "0".
    fn from_str(input: &str) -> Result<Self, VersionError> {
        check_version_len(S, input)?;
        let t = input.trim();
        let t = if t.is_empty() { "0" } else { t };
        let bad = || invalid(S, input, "not a Gem::Version");
        let (rel, pre) = match t.split_once('-') {
            Some((r, p)) => (r, Some(p)),
            None => (t, None),
        };
        let mut parts = rel.split('.');
        let first = parts.next().unwrap_or("");
        if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        if !parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric())) {
            return Err(bad());
        }
        if let Some(p) = pre
            && !p
                .split('.')
                .all(|x| !x.is_empty() && x.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        {
            return Err(bad());
        }
        let normal = t.replace('-', ".pre.");
        // Segments are maximal runs of digits or of letters.
        let mut segments = Vec::new();
        let b = normal.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let st = i;
            let digit = b.get(i).is_some_and(u8::is_ascii_digit);
            while b.get(i).is_some_and(|c| {
                if digit {
                    c.is_ascii_digit()
                } else {
                    c.is_ascii_alphabetic()
                }
            }) {
                i += 1;
            }
            if i == st {
                i += 1;
                continue;
            }
            let s = &normal[st..i];
            segments.push(if digit {
                Seg::Num(s.trim_start_matches('0').to_string())
            } else {
                Seg::Str(s.to_string())
            });
        }
        let split = segments
            .iter()
            .position(|s| matches!(s, Seg::Str(_)))
            .unwrap_or(segments.len());
        let mut canonical = Vec::new();
        for part in [&segments[..split], &segments[split..]] {
            let keep = part.iter().rposition(|s| !s.is_zero()).map_or(0, |p| p + 1);
            canonical.extend_from_slice(&part[..keep]);
        }
        Ok(Version {
            original: input.into(),
            segments,
            canonical,
        })
    }
}

impl Version {
    pub fn is_prerelease(&self) -> bool {
        self.segments.iter().any(|s| matches!(s, Seg::Str(_)))
    }

    fn from_segments(segments: Vec<Seg>) -> Version {
        let text: Vec<String> = segments
            .iter()
            .map(|s| match s {
                Seg::Num(n) if n.is_empty() => "0".to_string(),
                Seg::Num(n) | Seg::Str(n) => n.clone(),
            })
            .collect();
        let text = text.join(".");
        text.parse().unwrap_or(Version {
            original: text.into(),
            canonical: segments.clone(),
            segments,
        })
    }

    /// The numeric segments before the first letter (`Gem::Version#release`).
    fn release(&self) -> Version {
        if !self.is_prerelease() {
            return self.clone();
        }
        let segs = self
            .segments
            .iter()
            .take_while(|s| matches!(s, Seg::Num(_)))
            .cloned()
            .collect();
        Version::from_segments(segs)
    }

    /// `Gem::Version#bump`: drop prerelease parts and the last segment, then
    /// increment the new last one (`1.2.3` -> `1.3`, `1` -> `2`).
    fn bump(&self) -> Version {
        let mut segs: Vec<Seg> = self
            .segments
            .iter()
            .take_while(|s| matches!(s, Seg::Num(_)))
            .cloned()
            .collect();
        if segs.len() > 1 {
            segs.pop();
        }
        if let Some(Seg::Num(n)) = segs.last_mut() {
            *n = increment(n);
        }
        Version::from_segments(segs)
    }
}

/// Decimal increment of a digit string without leading zeros ("" is 0).
fn increment(n: &str) -> String {
    let mut d: Vec<u8> = n.bytes().collect();
    let mut i = d.len();
    loop {
        if i == 0 {
            d.insert(0, b'1');
            break;
        }
        i -= 1;
        match d.get_mut(i) {
            Some(c) if *c == b'9' => *c = b'0',
            Some(c) => {
                *c += 1;
                break;
            }
            None => break,
        }
    }
    String::from_utf8(d).unwrap_or_default()
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = Seg::Num(String::new());
        let (a, b) = (&self.canonical, &other.canonical);
        for i in 0..a.len().max(b.len()) {
            let o = cmp_seg(a.get(i).unwrap_or(&zero), b.get(i).unwrap_or(&zero));
            if o.is_ne() {
                return o;
            }
        }
        Ordering::Equal
    }
}
crate::order_by_cmp!(Version);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Pessimistic,
}

/// A `Gem::Requirement`: all comma-separated conditions must hold. As in
/// RubyGems, prereleases are not excluded here.
#[derive(Debug, Clone)]
pub struct Requirement {
    original: String,
    reqs: Vec<(Op, Version)>,
}

impl FromStr for Requirement {
    type Err = VersionError;

    fn from_str(input: &str) -> Result<Self, VersionError> {
        check_range_len(S, input)?;
        let bad = |why| invalid_range(S, input, why);
        let mut reqs = Vec::new();
        for part in input.split(',') {
            let p = part.trim();
            let (op, rest) = [
                ("~>", Op::Pessimistic),
                (">=", Op::Ge),
                ("<=", Op::Le),
                ("!=", Op::Ne),
                ("=", Op::Eq),
                (">", Op::Gt),
                ("<", Op::Lt),
            ]
            .iter()
            .find_map(|(t, op)| p.strip_prefix(t).map(|r| (*op, r)))
            .unwrap_or((Op::Eq, p));
            let rest = rest.trim();
            if rest.is_empty() {
                return Err(bad("missing version"));
            }
            let v: Version = rest.parse().map_err(|_| bad("bad version"))?;
            if reqs.len() >= MAX_REQUIREMENTS {
                return Err(bad("too many requirements"));
            }
            reqs.push((op, v));
        }
        Ok(Requirement {
            original: input.to_string(),
            reqs,
        })
    }
}

impl Requirement {
    pub fn satisfied_by(&self, v: &Version) -> bool {
        self.reqs.iter().all(|(op, r)| match op {
            Op::Eq => v == r,
            Op::Ne => v != r,
            Op::Gt => v > r,
            Op::Lt => v < r,
            Op::Ge => v >= r,
            Op::Le => v <= r,
            Op::Pessimistic => v >= r && v.release() < r.bump(),
        })
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn order() {
        let chain = [
            "1.0.a", "1.0.a.1", "1.0.b1", "1.0.rc1", "1.0", "1.0.1", "1.1",
        ];
        for w in chain.windows(2) {
            assert!(v(w[0]) < v(w[1]), "{} < {}", w[0], w[1]);
        }
        assert_eq!(v("1.0.0"), v("1"));
        assert_eq!(v("1.0-1"), v("1.0.pre.1"));
        assert_eq!(v(""), v("0"));
    }

    #[test]
    fn requirements() {
        let r = |s: &str| {
            s.parse::<Requirement>()
                .unwrap_or_else(|e| panic!("{s}: {e}"))
        };
        assert!(r("~> 1.2.3").satisfied_by(&v("1.2.9")) && !r("~> 1.2.3").satisfied_by(&v("1.3")));
        assert!(r("~> 1.2").satisfied_by(&v("1.9")) && !r("~> 1.2").satisfied_by(&v("2.0")));
        assert!(r(">= 1.0, < 2").satisfied_by(&v("1.5")));
        assert!(r("1.0").satisfied_by(&v("1.0.0")));
        assert!("~> ".parse::<Requirement>().is_err());
        assert!(">= x".parse::<Requirement>().is_err());
    }

    #[test]
    fn rejects_bad_versions() {
        for s in ["a", "1..2", "1.0-", "1 2", ".1", "1.0+x"] {
            assert!(s.parse::<Version>().is_err(), "{s:?}");
        }
    }
}
