//! Maven versions with `ComparableVersion` semantics (maven-artifact 3.8)
//! and Maven version ranges (`[1.0,2.0)`, `(,1.0],[1.2,)`, `[1.5]`).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use compact_str::CompactString;

use crate::{Scheme, VersionError, check_range_len, check_version_len, invalid_range};

const S: Scheme = Scheme::Maven;
/// Bound on restrictions in a range.
const MAX_RESTRICTIONS: usize = 64;

#[derive(Debug, Clone)]
enum Item {
    /// Digits without leading zeros (arbitrary length).
    Int(String),
    /// Qualifier after alias resolution (`ga`, `final`, `release` -> "", `cr` -> "rc").
    Str(String),
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];

/// Maven compares qualifiers through these strings: known ones by index,
/// unknown ones after all known, lexically among themselves.
fn qualifier_key(q: &str) -> String {
    match QUALIFIERS.iter().position(|k| *k == q) {
        Some(i) => i.to_string(),
        None => format!("{}-{q}", QUALIFIERS.len()),
    }
}

fn string_item(s: &str, followed_by_digit: bool) -> Item {
    let s = match (followed_by_digit, s) {
        (true, "a") => "alpha",
        (true, "b") => "beta",
        (true, "m") => "milestone",
        (_, "ga" | "final" | "release") => "",
        (_, "cr") => "rc",
        _ => s,
    };
    Item::Str(s.to_string())
}

fn int_item(s: &str) -> Item {
    let t = s.trim_start_matches('0');
    Item::Int(t.to_string())
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Item::Int(s) => s.is_empty(),
            Item::Str(s) => s.is_empty(),
            Item::List(l) => l.is_empty(),
        }
    }

    /// `ComparableVersion`'s Item.compareTo; `None` is a missing item.
    /// Recursion follows list nesting, which the 256-byte limit bounds.
    fn cmp_opt(&self, other: Option<&Item>) -> Ordering {
        use Item::*;
        match (self, other) {
            (Int(a), None) => {
                if a.is_empty() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            (Int(a), Some(Int(b))) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            (Int(_), Some(_)) => Ordering::Greater,
            (Str(a), None) => qualifier_key(a).cmp(&qualifier_key("")),
            (Str(_), Some(Int(_) | List(_))) => Ordering::Less,
            (Str(a), Some(Str(b))) => qualifier_key(a).cmp(&qualifier_key(b)),
            (List(l), None) => l
                .iter()
                .map(|i| i.cmp_opt(None))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal),
            (List(_), Some(Int(_))) => Ordering::Less,
            (List(_), Some(Str(_))) => Ordering::Greater,
            (List(a), Some(List(b))) => cmp_lists(a, b),
        }
    }
}

fn cmp_lists(a: &[Item], b: &[Item]) -> Ordering {
    for i in 0..a.len().max(b.len()) {
        let o = match (a.get(i), b.get(i)) {
            (Some(l), r) => l.cmp_opt(r),
            (None, Some(r)) => r.cmp_opt(None).reverse(),
            (None, None) => Ordering::Equal,
        };
        if o.is_ne() {
            return o;
        }
    }
    Ordering::Equal
}

/// Drop trailing null items (0, "", empty lists) before the last non-list.
fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        match list.get(i) {
            Some(it) if it.is_null() => {
                list.remove(i);
            }
            Some(Item::List(_)) => {}
            _ => break,
        }
    }
}

/// Maven treats `.X` like `-X` for a qualifier X (`1.0.rc1 == 1.0-rc1`):
/// a qualifier that does not start a list opens one.
fn open_qualifier_list(stack: &mut Vec<Vec<Item>>) {
    if stack.last().is_some_and(|top| !top.is_empty()) {
        stack.push(Vec::new());
    }
}

/// Builds the nested item list without recursion: `stack` holds the open
/// lists, each pushed on `-` or a digit/letter transition.
fn parse_items(v: &str) -> Vec<Item> {
    let v = v.to_lowercase();
    let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
    let chars: Vec<char> = v.chars().collect();
    let mut is_digit = false;
    let mut start = 0;
    let text = |a: usize, b: usize| {
        chars
            .get(a..b)
            .map(|c| c.iter().collect::<String>())
            .unwrap_or_default()
    };
    let push = |stack: &mut Vec<Vec<Item>>, item: Item| {
        if let Some(top) = stack.last_mut() {
            top.push(item);
        }
    };
    let parse = |digit: bool, s: &str| {
        if digit {
            int_item(s)
        } else {
            string_item(s, false)
        }
    };
    for (i, &c) in chars.iter().enumerate() {
        if c == '.' || c == '-' {
            if i == start {
                push(&mut stack, Item::Int(String::new()));
            } else {
                push(&mut stack, parse(is_digit, &text(start, i)));
            }
            start = i + 1;
            if c == '-' {
                stack.push(Vec::new());
            }
        } else if c.is_ascii_digit() {
            if !is_digit && i > start {
                open_qualifier_list(&mut stack);
                push(&mut stack, string_item(&text(start, i), true));
                start = i;
                stack.push(Vec::new());
            }
            is_digit = true;
        } else {
            if is_digit && i > start {
                push(&mut stack, int_item(&text(start, i)));
                start = i;
                stack.push(Vec::new());
            }
            is_digit = false;
        }
    }
    if chars.len() > start {
        if !is_digit {
            open_qualifier_list(&mut stack);
        }
        push(&mut stack, parse(is_digit, &text(start, chars.len())));
    }
    // Close the open lists innermost first, normalising each.
    while stack.len() > 1 {
        let mut top = stack.pop().unwrap_or_default();
        normalize(&mut top);
        push(&mut stack, Item::List(top));
    }
    let mut root = stack.pop().unwrap_or_default();
    normalize(&mut root);
    root
}

/// A Maven version. Any string is one. (Java's `Character.isDigit` also
/// accepts non-ASCII digits; here those count as letters.)
#[derive(Debug, Clone)]
pub struct Version {
    original: CompactString,
    items: Vec<Item>,
}

impl FromStr for Version {
    type Err = VersionError;

    /// Every string is a Maven version (as in `ComparableVersion`); only the
    /// length is limited.
    fn from_str(s: &str) -> Result<Self, VersionError> {
        check_version_len(S, s)?;
        Ok(Version {
            original: s.into(),
            items: parse_items(s),
        })
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_lists(&self.items, &other.items)
    }
}
crate::order_by_cmp!(Version);

// ----------------------------------------------------------------- ranges

#[derive(Debug, Clone)]
struct Restriction {
    lower: Option<(Version, bool)>,
    upper: Option<(Version, bool)>,
}

impl Restriction {
    fn contains(&self, v: &Version) -> bool {
        let lower_ok = self.lower.as_ref().is_none_or(|(l, incl)| match v.cmp(l) {
            Ordering::Less => false,
            Ordering::Equal => *incl,
            Ordering::Greater => true,
        });
        let upper_ok = self.upper.as_ref().is_none_or(|(u, incl)| match v.cmp(u) {
            Ordering::Greater => false,
            Ordering::Equal => *incl,
            Ordering::Less => true,
        });
        lower_ok && upper_ok
    }
}

/// A Maven version range. A bare version (`1.0`) is a soft requirement and,
/// as in Maven's `VersionRange.containsVersion`, contains every version.
#[derive(Debug, Clone)]
pub struct Range {
    original: String,
    restrictions: Vec<Restriction>,
}

impl FromStr for Range {
    type Err = VersionError;

    fn from_str(input: &str) -> Result<Self, VersionError> {
        check_range_len(S, input)?;
        let bad = |why| invalid_range(S, input, why);
        let mut rest = input;
        let mut restrictions: Vec<Restriction> = Vec::new();
        while rest.starts_with('[') || rest.starts_with('(') {
            let close = match (rest.find(')'), rest.find(']')) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => return Err(bad("unbounded range")),
            };
            let r = parse_restriction(&rest[..=close]).ok_or_else(|| bad("bad restriction"))?;
            // Restrictions must be ordered and must not overlap.
            if let (Some(prev), Some((lo, _))) = (restrictions.last(), &r.lower)
                && let Some((up, _)) = &prev.upper
                && lo < up
            {
                return Err(bad("ranges overlap"));
            }
            if restrictions.len() >= MAX_RESTRICTIONS {
                return Err(bad("too many restrictions"));
            }
            restrictions.push(r);
            rest = rest[close + 1..].trim_start();
            if let Some(r) = rest.strip_prefix(',') {
                rest = r.trim_start();
            }
        }
        if !rest.is_empty() {
            if !restrictions.is_empty() {
                return Err(bad(
                    "only fully-qualified sets allowed in multiple set scenario",
                ));
            }
            // Soft requirement: matches everything.
            restrictions.push(Restriction {
                lower: None,
                upper: None,
            });
        } else if restrictions.is_empty() {
            // An empty spec is a soft requirement on the empty version.
            restrictions.push(Restriction {
                lower: None,
                upper: None,
            });
        }
        Ok(Range {
            original: input.to_string(),
            restrictions,
        })
    }
}

fn parse_restriction(spec: &str) -> Option<Restriction> {
    let lower_incl = spec.starts_with('[');
    let upper_incl = spec.ends_with(']');
    let inner = spec.get(1..spec.len() - 1)?.trim();
    let ver = |s: &str| s.parse::<Version>().ok();
    match inner.find(',') {
        None => {
            // `[1.0]` is exact; `(1.0)` and friends are errors.
            if !(lower_incl && upper_incl) {
                return None;
            }
            let v = ver(inner)?;
            Some(Restriction {
                lower: Some((v.clone(), true)),
                upper: Some((v, true)),
            })
        }
        Some(c) => {
            let (lo, hi) = (inner[..c].trim(), inner[c + 1..].trim());
            if hi.contains(',') {
                return None;
            }
            let lower = if lo.is_empty() {
                None
            } else {
                Some((ver(lo)?, lower_incl))
            };
            let upper = if hi.is_empty() {
                None
            } else {
                Some((ver(hi)?, upper_incl))
            };
            // Maven rejects empty ranges such as `(1.0,1)` as well.
            if let (Some((l, li)), Some((u, ui))) = (&lower, &upper)
                && (u < l || (u == l && !(*li && *ui)))
            {
                return None;
            }
            Some(Restriction { lower, upper })
        }
    }
}

impl Range {
    pub fn contains(&self, v: &Version) -> bool {
        self.restrictions.iter().any(|r| r.contains(v))
    }
}

impl fmt::Display for Range {
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
    fn qualifier_order() {
        let chain = [
            "1.0-alpha1",
            "1.0-beta1",
            "1.0-milestone1",
            "1.0-rc1",
            "1.0-snapshot",
            "1.0",
            "1.0-sp1",
            "1.0-abc",
            "1.0.1",
        ];
        for w in chain.windows(2) {
            assert!(v(w[0]) < v(w[1]), "{} < {}", w[0], w[1]);
        }
        assert_eq!(v("1.0-ga"), v("1"));
        assert_eq!(v("1.0.FINAL"), v("1.0.0"));
        assert_eq!(v("1-cr1"), v("1-RC1"));
        assert!(v("1-1") < v("1.1"));
    }

    #[test]
    fn ranges() {
        let r = |s: &str| s.parse::<Range>().unwrap_or_else(|e| panic!("{s}: {e}"));
        assert!(r("[1.0,2.0)").contains(&v("1.5")) && !r("[1.0,2.0)").contains(&v("2.0")));
        assert!(r("(,1.0]").contains(&v("0.1")));
        assert!(r("[1.0]").contains(&v("1.0.0")) && !r("[1.0]").contains(&v("1.1")));
        assert!(r("(,1.0),(1.2,)").contains(&v("1.3")) && !r("(,1.0),(1.2,)").contains(&v("1.1")));
        assert!(r("1.0").contains(&v("9")));
        for bad in [
            "[1.0,2.0",
            "[2.0,1.0]",
            "(1.0)",
            "[1.0,2.0],[1.5,3.0]",
            "[1.0],x",
        ] {
            assert!(bad.parse::<Range>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn deep_nesting_is_not_recursive_in_parse() {
        let s = "1-".repeat(120);
        assert!(s.parse::<Version>().is_ok());
    }
}
