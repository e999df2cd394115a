//! Alpine (apk-tools 2.12+) versions: `digits{.digits}[letter]{_suffix[N]}[-rN]`,
//! suffixes ordered alpha < beta < pre < rc < (none) < cvs < svn < git < hg < p.
//!
//! No reference implementation is installable on the build machine; this
//! follows apk-tools' token rules: the version is a token stream and two
//! versions are compared token by token while the token kinds agree.

use std::cmp::Ordering;
use std::str::FromStr;

use compact_str::CompactString;

use crate::{Scheme, VersionError, check_version_len, invalid};

const S: Scheme = Scheme::Apk;

/// Token kinds in apk-tools' order; the order decides when two versions
/// agree on a prefix and then continue with different kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    InitialDigit,
    /// A number after `.`; a leading zero makes it compare as a string.
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    RevisionNo,
    End,
}

/// Suffix ranks; `NONE` (a bare `_`) separates pre- from post-release ones.
const SUFFIXES: [&str; 10] = [
    "alpha", "beta", "pre", "rc", "", "cvs", "svn", "git", "hg", "p",
];
const SUFFIX_NONE: usize = 4;

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    /// The token's text (digits, letter or suffix name).
    text: (usize, usize),
    suffix: usize,
}

#[derive(Debug, Clone)]
pub struct Version {
    original: CompactString,
    tokens: Vec<Token>,
}

fn digit_run(b: &[u8], pos: usize) -> usize {
    pos + b
        .get(pos..)
        .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count())
}

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, VersionError> {
        check_version_len(S, s)?;
        if s.is_empty() {
            return Err(VersionError::Empty { scheme: S });
        }
        let bad = |why| invalid(S, s, why);
        let b = s.as_bytes();
        let end = digit_run(b, 0);
        if end == 0 {
            return Err(bad("does not start with a digit"));
        }
        let mut tokens = vec![Token {
            kind: Kind::InitialDigit,
            text: (0, end),
            suffix: 0,
        }];
        let mut pos = end;
        while let Some(&c) = b.get(pos) {
            let prev = tokens.last().map_or(Kind::InitialDigit, |t| t.kind);
            let tok = match c {
                b'a'..=b'z' if prev <= Kind::Digit => {
                    pos += 1;
                    Token {
                        kind: Kind::Letter,
                        text: (pos - 1, pos),
                        suffix: 0,
                    }
                }
                b'.' if prev <= Kind::Digit => {
                    let e = digit_run(b, pos + 1);
                    if e == pos + 1 {
                        return Err(bad("empty number after '.'"));
                    }
                    let t = Token {
                        kind: Kind::Digit,
                        text: (pos + 1, e),
                        suffix: 0,
                    };
                    pos = e;
                    t
                }
                b'0'..=b'9' if prev == Kind::Suffix => {
                    let e = digit_run(b, pos);
                    let t = Token {
                        kind: Kind::SuffixNo,
                        text: (pos, e),
                        suffix: 0,
                    };
                    pos = e;
                    t
                }
                b'_' if prev <= Kind::SuffixNo => {
                    let st = pos + 1;
                    let e = st
                        + b.get(st..).map_or(0, |r| {
                            r.iter().take_while(|c| c.is_ascii_lowercase()).count()
                        });
                    let name = &s[st..e];
                    let suffix = SUFFIXES
                        .iter()
                        .position(|x| *x == name)
                        .ok_or_else(|| bad("unknown _suffix"))?;
                    pos = e;
                    Token {
                        kind: Kind::Suffix,
                        text: (st, e),
                        suffix,
                    }
                }
                b'-' if prev < Kind::RevisionNo && b.get(pos + 1) == Some(&b'r') => {
                    let e = digit_run(b, pos + 2);
                    if e == pos + 2 {
                        return Err(bad("empty -r revision"));
                    }
                    let t = Token {
                        kind: Kind::RevisionNo,
                        text: (pos + 2, e),
                        suffix: 0,
                    };
                    pos = e;
                    t
                }
                _ => return Err(bad("unexpected character or component order")),
            };
            tokens.push(tok);
        }
        Ok(Version {
            original: s.into(),
            tokens,
        })
    }
}

impl Version {
    fn text(&self, t: &Token) -> &[u8] {
        self.original
            .as_bytes()
            .get(t.text.0..t.text.1)
            .unwrap_or(&[])
    }
}

/// Numeric comparison of digit strings of any length.
fn cmp_num(a: &[u8], b: &[u8]) -> Ordering {
    let strip = |x: &[u8]| -> usize { x.iter().take_while(|&&c| c == b'0').count() };
    let (a, b) = (&a[strip(a)..], &b[strip(b)..]);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let end = Token {
            kind: Kind::End,
            text: (0, 0),
            suffix: 0,
        };
        let mut i = 0;
        loop {
            let ta = self.tokens.get(i).unwrap_or(&end);
            let tb = other.tokens.get(i).unwrap_or(&end);
            if ta.kind != tb.kind {
                // Same so far: the longer one wins unless it goes on with a
                // pre-release suffix.
                if ta.kind == Kind::Suffix && ta.suffix < SUFFIX_NONE {
                    return Ordering::Less;
                }
                if tb.kind == Kind::Suffix && tb.suffix < SUFFIX_NONE {
                    return Ordering::Greater;
                }
                return tb.kind.cmp(&ta.kind);
            }
            let (xa, xb) = (self.text(ta), other.text(tb));
            let o = match ta.kind {
                Kind::End => return Ordering::Equal,
                Kind::Digit if xa.first() == Some(&b'0') || xb.first() == Some(&b'0') => xa.cmp(xb),
                Kind::InitialDigit | Kind::Digit | Kind::SuffixNo | Kind::RevisionNo => {
                    cmp_num(xa, xb)
                }
                Kind::Letter => xa.cmp(xb),
                Kind::Suffix => ta.suffix.cmp(&tb.suffix),
            };
            if o.is_ne() {
                return o;
            }
            i += 1;
        }
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
    fn rule_order() {
        // Each is strictly less than the next, per the documented apk rules.
        let chain = [
            "1.0_alpha",
            "1.0_alpha1",
            "1.0_beta",
            "1.0_pre2",
            "1.0_rc1",
            "1.0",
            "1.0-r1",
            "1.0-r10",
            "1.0_cvs",
            "1.0_git20200101",
            "1.0_p1",
            "1.0a",
            "1.0b",
            "1.0.1",
            "1.01",
            "1.1",
            "1.1.0",
            "2",
        ];
        for w in chain.windows(2) {
            assert!(v(w[0]) < v(w[1]), "{} < {}", w[0], w[1]);
            assert!(v(w[1]) > v(w[0]), "{} > {}", w[1], w[0]);
        }
        assert!(v("1.001") < v("1.01"));
        assert_eq!(v("01.2"), v("1.2"));
        assert_eq!(v("1.2-r0"), v("1.2-r0"));
    }

    #[test]
    fn rejects_bad_syntax() {
        for s in [
            "", "a1", "_1", "1.", "1-r", "1.2a3", "1_foo", "1-x1", "1.0A", "1.0ab", "1_p1a",
            "1-r1.2", "1.2 3",
        ] {
            assert!(s.parse::<Version>().is_err(), "{s:?}");
        }
    }
}
