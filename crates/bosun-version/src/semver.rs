//! SemVer 2.0 versions (as node-semver parses them by default), npm ranges
//! (node-semver's desugaring and prerelease rule), Cargo requirements and Go
//! module versions.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use compact_str::CompactString;

use crate::{Scheme, VersionError, check_range_len, check_version_len, invalid, invalid_range};

/// node-semver rejects numbers it cannot represent exactly in JavaScript.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;
/// Bound on `||` alternatives and comparators per range.
const MAX_COMPARATORS: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ident {
    /// Digits without leading zeros, compared by value.
    Num(String),
    Alpha(String),
}

impl Ord for Ident {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Ident::Num(a), Ident::Num(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            (Ident::Num(_), Ident::Alpha(_)) => Ordering::Less,
            (Ident::Alpha(_), Ident::Num(_)) => Ordering::Greater,
            (Ident::Alpha(a), Ident::Alpha(b)) => a.cmp(b),
        }
    }
}
impl PartialOrd for Ident {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A SemVer 2.0 version; build metadata is kept for display but ignored by
/// comparison (so `1.0.0+a == 1.0.0+b`).
#[derive(Debug, Clone)]
pub struct Version {
    original: CompactString,
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pre: Vec<Ident>,
}

impl Version {
    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }

    /// A Go module version: optional leading `v`, and Go's `v1` / `v1.2`
    /// shorthands (no prerelease or build allowed on those). `+incompatible`
    /// is build metadata; pseudo-versions are ordinary prereleases.
    pub fn parse_go(s: &str) -> Result<Version, VersionError> {
        check_version_len(Scheme::Go, s)?;
        let body = s.strip_prefix('v').unwrap_or(s);
        let dots = body.bytes().filter(|&b| b == b'.').count();
        let plain = body.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        let full = match dots {
            0 if plain => Cow::Owned(format!("{body}.0.0")),
            1 if plain => Cow::Owned(format!("{body}.0")),
            _ => Cow::Borrowed(body),
        };
        let mut v = parse_full(Scheme::Go, &full, false, s)?;
        v.original = s.into();
        Ok(v)
    }

    /// See [`crate::AnyVersion::order_key`]: major, minor and patch.
    pub fn order_key(&self) -> u64 {
        let mut k = crate::OrderKey::new();
        k.number(self.major, 24);
        k.number(self.minor, 20);
        k.number(self.patch, 20);
        k.finish()
    }

    fn triple(&self) -> (u64, u64, u64) {
        (self.major, self.minor, self.patch)
    }
}

fn is_ldn(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-'
}

/// Number without leading zeros (node-semver's NUMERICIDENTIFIER).
fn parse_num(scheme: Scheme, s: &str, whole: &str, limit: bool) -> Result<u64, VersionError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(scheme, whole, "expected a number"));
    }
    if s.len() > 1 && s.starts_with('0') {
        return Err(invalid(scheme, whole, "number has a leading zero"));
    }
    let n: u64 = s
        .parse()
        .map_err(|_| invalid(scheme, whole, "number too large"))?;
    if limit && n > MAX_SAFE_INTEGER {
        return Err(invalid(scheme, whole, "number too large"));
    }
    Ok(n)
}

fn parse_pre(scheme: Scheme, pre: &str, whole: &str) -> Result<Vec<Ident>, VersionError> {
    pre.split('.')
        .map(|id| {
            if id.is_empty() || !id.bytes().all(is_ldn) {
                Err(invalid(scheme, whole, "bad prerelease identifier"))
            } else if id.bytes().all(|b| b.is_ascii_digit()) {
                if id.len() > 1 && id.starts_with('0') {
                    Err(invalid(
                        scheme,
                        whole,
                        "numeric prerelease identifier has a leading zero",
                    ))
                } else {
                    Ok(Ident::Num(id.to_string()))
                }
            } else {
                Ok(Ident::Alpha(id.to_string()))
            }
        })
        .collect()
}

/// `MAJOR.MINOR.PATCH[-PRE][+BUILD]`, optionally after one `v` when `allow_v`.
fn parse_full(
    scheme: Scheme,
    s: &str,
    allow_v: bool,
    whole: &str,
) -> Result<Version, VersionError> {
    let body = if allow_v {
        s.strip_prefix('v').unwrap_or(s)
    } else {
        s
    };
    let (main_pre, build) = match body.split_once('+') {
        Some((m, b)) => (m, Some(b)),
        None => (body, None),
    };
    if let Some(b) = build
        && b.split('.')
            .any(|id| id.is_empty() || !id.bytes().all(is_ldn))
    {
        return Err(invalid(scheme, whole, "bad build metadata"));
    }
    let (main, pre) = match main_pre.split_once('-') {
        Some((m, p)) => (m, parse_pre(scheme, p, whole)?),
        None => (main_pre, Vec::new()),
    };
    let mut parts = main.split('.');
    let limit = scheme != Scheme::Go;
    let mut next = || {
        parts
            .next()
            .ok_or_else(|| invalid(scheme, whole, "expected MAJOR.MINOR.PATCH"))
            .and_then(|p| parse_num(scheme, p, whole, limit))
    };
    let (major, minor, patch) = (next()?, next()?, next()?);
    if parts.next().is_some() {
        return Err(invalid(scheme, whole, "expected MAJOR.MINOR.PATCH"));
    }
    Ok(Version {
        original: whole.into(),
        major,
        minor,
        patch,
        pre,
    })
}

impl FromStr for Version {
    type Err = VersionError;

    /// node-semver's strict parse: surrounding whitespace and one leading `v`
    /// are allowed.
    fn from_str(s: &str) -> Result<Self, VersionError> {
        check_version_len(Scheme::Semver, s)?;
        let t = s.trim();
        if t.is_empty() {
            return Err(VersionError::Empty {
                scheme: Scheme::Semver,
            });
        }
        parse_full(Scheme::Semver, t, true, s)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.triple().cmp(&other.triple()).then_with(|| {
            match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.pre.cmp(&other.pre),
            }
        })
    }
}
crate::order_by_cmp!(Version);

// ------------------------------------------------------------------ ranges

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

#[derive(Debug, Clone)]
struct Comparator {
    op: Op,
    /// `None` is node-semver's ANY comparator (`*`, empty).
    version: Option<Version>,
}

impl Comparator {
    fn test(&self, v: &Version) -> bool {
        let Some(c) = &self.version else { return true };
        let o = v.cmp(c);
        match self.op {
            Op::Lt => o == Ordering::Less,
            Op::Le => o != Ordering::Greater,
            Op::Gt => o == Ordering::Greater,
            Op::Ge => o != Ordering::Less,
            Op::Eq => o == Ordering::Equal,
        }
    }
}

/// Tests a set of comparators with node-semver's (and Cargo's) prerelease
/// rule: a prerelease version only matches if some comparator carries a
/// prerelease on the same MAJOR.MINOR.PATCH.
fn test_set(set: &[Comparator], v: &Version) -> bool {
    if !set.iter().all(|c| c.test(v)) {
        return false;
    }
    !v.is_prerelease()
        || set.iter().any(|c| {
            c.version
                .as_ref()
                .is_some_and(|cv| cv.is_prerelease() && cv.triple() == v.triple())
        })
}

/// An npm range (`^1.2.3`, `~1.2`, `1.x`, `1.2.3 - 2`, `>=1 <2 || 3`), with
/// node-semver's default (non-loose, no includePrerelease) semantics.
#[derive(Debug, Clone)]
pub struct NpmRange {
    original: String,
    sets: Vec<Vec<Comparator>>,
}

/// One X-range part: `None` is a wildcard (`x`, `X`, `*`, or missing).
#[derive(Debug, Clone)]
struct Partial {
    major: Option<u64>,
    minor: Option<u64>,
    patch: Option<u64>,
    pre: Option<String>,
    /// A wildcard followed by a number (`1.x.3`): plain X-ranges reject it.
    bad_order: bool,
}

/// node-semver's XRANGEPLAIN, matched against the whole of `s`:
/// `[v=\s]*` then up to three parts; prerelease/build only after three.
fn xrange_plain(s: &str) -> Option<Partial> {
    let s = s.trim_start_matches(['v', '=', ' ']);
    let (s, build) = match s.split_once('+') {
        Some((m, b)) => (m, Some(b)),
        None => (s, None),
    };
    // Parts never contain '-', so the first one starts the prerelease.
    let (main, pre) = match s.split_once('-') {
        Some((m, p)) => (m, Some(p)),
        None => (s, None),
    };
    let xid = |p: &str| -> Option<Option<u64>> {
        match p {
            "x" | "X" | "*" => Some(None),
            _ if p.is_empty()
                || !p.bytes().all(|b| b.is_ascii_digit())
                || (p.len() > 1 && p.starts_with('0')) =>
            {
                None
            }
            // Beyond u64 can never become a valid version anyway.
            _ => Some(Some(p.parse().ok()?)),
        }
    };
    let parts = main.split('.').map(xid).collect::<Option<Vec<_>>>()?;
    if parts.is_empty()
        || parts.len() > 3
        || ((pre.is_some() || build.is_some()) && parts.len() != 3)
    {
        return None;
    }
    if let Some(p) = pre {
        parse_pre(Scheme::Semver, p, p).ok()?;
    }
    if let Some(b) = build
        && b.split('.')
            .any(|id| id.is_empty() || !id.bytes().all(is_ldn))
    {
        return None;
    }
    let wild = |i: usize| parts.get(i).is_some_and(Option::is_none);
    let num = |i: usize| parts.get(i).is_some_and(Option::is_some);
    let bad_order = (wild(0) && num(1)) || (wild(1) && num(2));
    let get = |i: usize| parts.get(i).copied().flatten();
    // A wildcard swallows everything after it.
    let (major, mut minor, mut patch) = (get(0), get(1), get(2));
    if major.is_none() {
        minor = None;
    }
    if minor.is_none() {
        patch = None;
    }
    Some(Partial {
        major,
        minor,
        patch,
        pre: pre.map(str::to_string),
        bad_order,
    })
}

/// Comparator text parsers build: `op` + version string.
fn cmp(op: Op, major: u64, minor: u64, patch: u64, pre: &str) -> Option<Comparator> {
    if [major, minor, patch].iter().any(|&n| n > MAX_SAFE_INTEGER) {
        return None;
    }
    let text = if pre.is_empty() {
        format!("{major}.{minor}.{patch}")
    } else {
        format!("{major}.{minor}.{patch}-{pre}")
    };
    let version = parse_full(Scheme::Semver, &text, false, &text).ok()?;
    Some(Comparator {
        op,
        version: Some(version),
    })
}

fn inc(n: u64) -> u64 {
    n.saturating_add(1)
}

/// Desugar one whitespace-free token into comparators; `None` = invalid.
fn desugar(token: &str) -> Option<Vec<Comparator>> {
    let token = strip_first_build(token);
    let any = || {
        Some(vec![Comparator {
            op: Op::Ge,
            version: None,
        }])
    };
    if let Some(rest) = token.strip_prefix('^')
        && let Some(p) = xrange_plain(rest)
    {
        return caret(&p);
    }
    if let Some(rest) = token.strip_prefix("~>").or_else(|| token.strip_prefix('~'))
        && let Some(p) = xrange_plain(rest)
    {
        return tilde(&p);
    }
    let (op_text, rest) = split_op(&token);
    if let Some(p) = xrange_plain(rest).filter(|p| !p.bad_order) {
        let Some(m) = p.major else {
            return if op_text == "<" || op_text == ">" {
                Some(vec![cmp(Op::Lt, 0, 0, 0, "0")?])
            } else {
                any()
            };
        };
        if p.minor.is_some() && p.patch.is_some() {
            // Plain comparator; validity of the text is checked below.
            return plain_comparator(&token);
        }
        let mn = p.minor;
        let op_text = if op_text == "=" { "" } else { op_text };
        return match op_text {
            "" => Some(match mn {
                None => vec![cmp(Op::Ge, m, 0, 0, "")?, cmp(Op::Lt, inc(m), 0, 0, "0")?],
                Some(n) => vec![cmp(Op::Ge, m, n, 0, "")?, cmp(Op::Lt, m, inc(n), 0, "0")?],
            }),
            ">" => Some(vec![match mn {
                None => cmp(Op::Ge, inc(m), 0, 0, "")?,
                Some(n) => cmp(Op::Ge, m, inc(n), 0, "")?,
            }]),
            "<=" => Some(vec![match mn {
                None => cmp(Op::Lt, inc(m), 0, 0, "0")?,
                Some(n) => cmp(Op::Lt, m, inc(n), 0, "0")?,
            }]),
            "<" => Some(vec![cmp(Op::Lt, m, mn.unwrap_or(0), 0, "0")?]),
            _ => Some(vec![cmp(Op::Ge, m, mn.unwrap_or(0), 0, "")?]),
        };
    }
    // node-semver deletes the first `*` (with its operator) from anything else.
    if let Some(k) = token.find('*') {
        let mut start = k;
        let b = token.as_bytes();
        if start > 0 && b.get(start - 1) == Some(&b'=') {
            start -= 1;
        }
        if start > 0 && matches!(b.get(start - 1), Some(b'<' | b'>')) {
            start -= 1;
        }
        let rest = format!("{}{}", &token[..start], &token[k + 1..]);
        return if rest.is_empty() {
            any()
        } else {
            plain_comparator(&rest)
        };
    }
    plain_comparator(&token)
}

/// node-semver strips the first `+build` from each token before desugaring.
fn strip_first_build(token: &str) -> String {
    let b = token.as_bytes();
    for (k, &c) in b.iter().enumerate() {
        if c == b'+' && b.get(k + 1).is_some_and(|&c| is_ldn(c)) {
            let mut end = k + 1;
            loop {
                while b.get(end).is_some_and(|&c| is_ldn(c)) {
                    end += 1;
                }
                if b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(|&c| is_ldn(c)) {
                    end += 1;
                } else {
                    break;
                }
            }
            return format!("{}{}", &token[..k], &token[end..]);
        }
    }
    token.to_string()
}

fn split_op(token: &str) -> (&str, &str) {
    for op in [">=", "<=", ">", "<", "="] {
        if let Some(rest) = token.strip_prefix(op) {
            return (op, rest);
        }
    }
    ("", token)
}

/// node-semver's final COMPARATOR syntax: `[<>]?=?` + `v?` + full version.
fn plain_comparator(token: &str) -> Option<Vec<Comparator>> {
    let (op_text, rest) = split_op(token);
    let op = match op_text {
        ">=" => Op::Ge,
        "<=" => Op::Le,
        ">" => Op::Gt,
        "<" => Op::Lt,
        _ => Op::Eq,
    };
    if rest.is_empty() && op_text.is_empty() {
        return Some(vec![Comparator {
            op: Op::Ge,
            version: None,
        }]);
    }
    let version = parse_full(Scheme::Semver, rest, true, rest).ok()?;
    // `>=0.0.0` is node-semver's ANY.
    if op == Op::Ge && token == ">=0.0.0" {
        return Some(vec![Comparator {
            op: Op::Ge,
            version: None,
        }]);
    }
    Some(vec![Comparator {
        op,
        version: Some(version),
    }])
}

fn caret(p: &Partial) -> Option<Vec<Comparator>> {
    let Some(m) = p.major else {
        return Some(vec![Comparator {
            op: Op::Ge,
            version: None,
        }]);
    };
    let Some(n) = p.minor else {
        return Some(vec![
            cmp(Op::Ge, m, 0, 0, "")?,
            cmp(Op::Lt, inc(m), 0, 0, "0")?,
        ]);
    };
    let Some(pa) = p.patch else {
        return Some(if m == 0 {
            vec![cmp(Op::Ge, m, n, 0, "")?, cmp(Op::Lt, m, inc(n), 0, "0")?]
        } else {
            vec![cmp(Op::Ge, m, n, 0, "")?, cmp(Op::Lt, inc(m), 0, 0, "0")?]
        });
    };
    let pre = p.pre.as_deref().unwrap_or("");
    let upper = if m == 0 {
        if n == 0 {
            cmp(Op::Lt, m, n, inc(pa), "0")?
        } else {
            cmp(Op::Lt, m, inc(n), 0, "0")?
        }
    } else {
        cmp(Op::Lt, inc(m), 0, 0, "0")?
    };
    Some(vec![cmp(Op::Ge, m, n, pa, pre)?, upper])
}

fn tilde(p: &Partial) -> Option<Vec<Comparator>> {
    let Some(m) = p.major else {
        return Some(vec![Comparator {
            op: Op::Ge,
            version: None,
        }]);
    };
    let Some(n) = p.minor else {
        return Some(vec![
            cmp(Op::Ge, m, 0, 0, "")?,
            cmp(Op::Lt, inc(m), 0, 0, "0")?,
        ]);
    };
    let pa = p.patch.unwrap_or(0);
    let pre = if p.patch.is_some() {
        p.pre.as_deref().unwrap_or("")
    } else {
        ""
    };
    Some(vec![
        cmp(Op::Ge, m, n, pa, pre)?,
        cmp(Op::Lt, m, inc(n), 0, "0")?,
    ])
}

/// `A - B` hyphen range: `>=A <=B` with partial ends widened.
fn hyphen(from: &Partial, from_text: &str, to: &Partial, to_text: &str) -> Option<Vec<Comparator>> {
    let mut out = Vec::new();
    if let Some(m) = from.major {
        match (from.minor, from.patch) {
            (None, _) => out.push(cmp(Op::Ge, m, 0, 0, "")?),
            (Some(n), None) => out.push(cmp(Op::Ge, m, n, 0, "")?),
            _ => out.extend(desugar_plain(Op::Ge, from_text)?),
        }
    }
    if let Some(m) = to.major {
        match (to.minor, to.patch) {
            (None, _) => out.push(cmp(Op::Lt, inc(m), 0, 0, "0")?),
            (Some(n), None) => out.push(cmp(Op::Lt, m, inc(n), 0, "0")?),
            (Some(n), Some(pa)) if to.pre.is_some() => {
                out.push(cmp(Op::Le, m, n, pa, to.pre.as_deref().unwrap_or(""))?)
            }
            _ => out.extend(desugar_plain(Op::Le, to_text)?),
        }
    }
    if out.is_empty() {
        out.push(Comparator {
            op: Op::Ge,
            version: None,
        });
    }
    Some(out)
}

/// `>=` / `<=` glued to the original text, re-read through the whole
/// token pipeline as node-semver does.
fn desugar_plain(op: Op, text: &str) -> Option<Vec<Comparator>> {
    let prefix = if op == Op::Ge { ">=" } else { "<=" };
    let joined = format!("{prefix}{}", text.trim());
    let mut out = Vec::new();
    for tok in joined.split(' ').filter(|t| !t.is_empty()) {
        out.extend(desugar(tok)?);
    }
    Some(out)
}

/// Glue an operator to its operand (`>= 1.2` -> `>=1.2`, `^ 1` -> `^1`).
fn trim_operators(set: &str) -> String {
    let toks: Vec<&str> = set.split(' ').collect();
    let mut out: Vec<String> = Vec::with_capacity(toks.len());
    let mut i = 0;
    while let Some(&t) = toks.get(i) {
        let is_op = matches!(t, ">" | "<" | ">=" | "<=" | "=" | "~" | "~>" | "^");
        if is_op && let Some(&next) = toks.get(i + 1) {
            out.push(format!("{t}{next}"));
            i += 2;
        } else {
            out.push(t.to_string());
            i += 1;
        }
    }
    out.join(" ")
}

impl FromStr for NpmRange {
    type Err = VersionError;

    fn from_str(input: &str) -> Result<Self, VersionError> {
        check_range_len(Scheme::Semver, input)?;
        let bad = |why| invalid_range(Scheme::Semver, input, why);
        let raw = input.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut sets = Vec::new();
        let mut total = 0;
        for part in raw.split("||") {
            let part = part.trim();
            let mut set = Vec::new();
            let hy = part.match_indices(" - ").find_map(|(k, _)| {
                let (a, b) = (&part[..k], &part[k + 3..]);
                Some((xrange_plain(a)?, a, xrange_plain(b)?, b))
            });
            if let Some((fp, ft, tp, tt)) = hy {
                set = hyphen(&fp, ft, &tp, tt).ok_or_else(|| bad("bad hyphen range"))?;
            } else {
                for tok in trim_operators(part).split(' ') {
                    set.extend(desugar(tok).ok_or_else(|| bad("bad comparator"))?);
                }
            }
            if set.len() > 1 {
                set.retain(|c| c.version.is_some());
                if set.is_empty() {
                    set.push(Comparator {
                        op: Op::Ge,
                        version: None,
                    });
                }
            }
            total += set.len();
            if total > MAX_COMPARATORS {
                return Err(bad("too many comparators"));
            }
            sets.push(set);
        }
        // node-semver: a lone `*` alternative makes the whole range `*`.
        if sets.len() > 1
            && let Some(any) = sets
                .iter()
                .find(|s| s.len() == 1 && s.first().is_some_and(|c| c.version.is_none()))
        {
            sets = vec![any.clone()];
        }
        Ok(NpmRange {
            original: input.to_string(),
            sets,
        })
    }
}

impl NpmRange {
    /// node-semver's `satisfies(version, range)`.
    pub fn satisfies(&self, v: &Version) -> bool {
        self.sets.iter().any(|s| test_set(s, v))
    }
}

impl fmt::Display for NpmRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// A Cargo version requirement (`1.2` = `^1.2`, `~1`, `>=1, <2`, `=1.2.3`,
/// `1.*`), with Cargo's prerelease rule.
#[derive(Debug, Clone)]
pub struct CargoReq {
    original: String,
    set: Vec<Comparator>,
}

impl FromStr for CargoReq {
    type Err = VersionError;

    fn from_str(input: &str) -> Result<Self, VersionError> {
        check_range_len(Scheme::Semver, input)?;
        let bad = |why| invalid_range(Scheme::Semver, input, why);
        let mut set = Vec::new();
        let t = input.trim();
        if t == "*" {
            return Ok(CargoReq {
                original: input.to_string(),
                set,
            });
        }
        for part in t.split(',') {
            let part = part.trim();
            let (op, rest) = ["=", ">=", "<=", ">", "<", "~", "^"]
                .iter()
                .rev()
                .filter_map(|op| part.strip_prefix(op).map(|r| (*op, r.trim_start())))
                .max_by_key(|(op, _)| op.len())
                // Without an operator a wildcard (`1.0.*`) is exact, else caret.
                .unwrap_or_else(|| {
                    let wild = part.split('.').any(|c| matches!(c, "*" | "x" | "X"));
                    (if wild { "=" } else { "^" }, part)
                });
            let p = cargo_partial(rest).ok_or_else(|| bad("bad version in requirement"))?;
            set.extend(cargo_desugar(op, &p).ok_or_else(|| bad("bad comparator"))?);
            if set.len() > MAX_COMPARATORS {
                return Err(bad("too many comparators"));
            }
        }
        Ok(CargoReq {
            original: input.to_string(),
            set,
        })
    }
}

/// `MAJOR[.MINOR[.PATCH[-PRE][+BUILD]]]` with trailing `*`/`x` wildcards.
fn cargo_partial(s: &str) -> Option<Partial> {
    let s = s.split_once('+').map_or(s, |(m, _)| m);
    let (main, pre) = match s.split_once('-') {
        Some((m, p)) => (m, Some(p.to_string())),
        None => (s, None),
    };
    let mut parts = main.split('.').map(|p| match p {
        "*" | "x" | "X" => Some(None),
        _ => parse_num(Scheme::Semver, p, s, false).ok().map(Some),
    });
    let major = parts.next()??;
    let minor = parts.next().unwrap_or(Some(None))?;
    let patch = parts.next().unwrap_or(Some(None))?;
    if parts.next().is_some()
        || (major.is_none() && minor.is_some())
        || (minor.is_none() && patch.is_some())
    {
        return None;
    }
    if pre.is_some() {
        let p = pre.as_deref().unwrap_or("");
        parse_pre(Scheme::Semver, p, s).ok()?;
        patch?;
    }
    Some(Partial {
        major,
        minor,
        patch,
        pre,
        bad_order: false,
    })
}

fn cargo_desugar(op: &str, p: &Partial) -> Option<Vec<Comparator>> {
    let Some(m) = p.major else {
        return Some(Vec::new());
    };
    let pre = p.pre.as_deref().unwrap_or("");
    Some(match (op, p.minor, p.patch) {
        ("^", None, _) | ("~", None, _) | ("=", None, _) => {
            vec![cmp(Op::Ge, m, 0, 0, "")?, cmp(Op::Lt, inc(m), 0, 0, "0")?]
        }
        ("^", Some(n), None) if m > 0 || n > 0 => caret(p)?,
        ("^", Some(_), None) => vec![cmp(Op::Ge, 0, 0, 0, "")?, cmp(Op::Lt, 0, 1, 0, "0")?],
        ("^", Some(0), Some(pa)) if m == 0 => vec![cmp(Op::Eq, 0, 0, pa, pre)?],
        ("^", Some(_), Some(_)) => caret(p)?,
        ("~", Some(n), pa) | ("=", Some(n), pa @ None) => {
            let lower = cmp(Op::Ge, m, n, pa.unwrap_or(0), pre)?;
            vec![lower, cmp(Op::Lt, m, inc(n), 0, "0")?]
        }
        ("=", Some(n), Some(pa)) => vec![cmp(Op::Eq, m, n, pa, pre)?],
        (">", None, _) => vec![cmp(Op::Ge, inc(m), 0, 0, "")?],
        (">", Some(n), None) => vec![cmp(Op::Ge, m, inc(n), 0, "")?],
        (">=", n, pa) => vec![cmp(Op::Ge, m, n.unwrap_or(0), pa.unwrap_or(0), pre)?],
        ("<", n, pa) => vec![cmp(
            Op::Lt,
            m,
            n.unwrap_or(0),
            pa.unwrap_or(0),
            if pa.is_some() { pre } else { "0" },
        )?],
        ("<=", None, _) => vec![cmp(Op::Lt, inc(m), 0, 0, "0")?],
        ("<=", Some(n), None) => vec![cmp(Op::Lt, m, inc(n), 0, "0")?],
        (o, Some(n), Some(pa)) => {
            let op = if o == ">" { Op::Gt } else { Op::Le };
            vec![cmp(op, m, n, pa, pre)?]
        }
        _ => return None,
    })
}

impl CargoReq {
    pub fn matches(&self, v: &Version) -> bool {
        test_set(&self.set, v)
    }
}

impl fmt::Display for CargoReq {
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
    fn precedence() {
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.10.0",
        ];
        for w in chain.windows(2) {
            assert!(v(w[0]) < v(w[1]), "{} < {}", w[0], w[1]);
        }
        assert_eq!(v("1.0.0+a"), v("v1.0.0+b"));
    }

    fn go(s: &str) -> Version {
        Version::parse_go(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn go_versions() {
        let p = go("v0.0.0-20220715151400-c0bba94af5f8");
        assert!(p.is_prerelease());
        assert!(p < go("v0.0.1"));
        assert_eq!(go("v1.2"), v("1.2.0"));
        assert_eq!(go("v2.0.0+incompatible"), v("2.0.0"));
        assert!(Version::parse_go("v1.2-pre").is_err());
    }

    #[test]
    fn rejects_bad_versions() {
        for s in [
            "",
            "1",
            "1.2",
            "01.2.3",
            "1.2.3-01",
            "1.2.3-",
            "1.2.3+",
            "1.2.3.4",
            "9007199254740992.0.0",
            "1.2.3-a..b",
        ] {
            assert!(s.parse::<Version>().is_err(), "{s:?}");
        }
    }

    #[test]
    fn npm_ranges() {
        let r = |s: &str| s.parse::<NpmRange>().unwrap_or_else(|e| panic!("{s}: {e}"));
        assert!(r("^1.2.3").satisfies(&v("1.9.0")));
        assert!(!r("^1.2.3").satisfies(&v("2.0.0-alpha")));
        assert!(!r("^0.2.3").satisfies(&v("0.3.0")));
        assert!(r("~1.2").satisfies(&v("1.2.9")));
        assert!(r("1.2.3 - 2").satisfies(&v("2.9.9")));
        assert!(r(">=1.0.0-beta <2").satisfies(&v("1.0.0-rc.1")));
        assert!(!r(">=1.0.0 <2").satisfies(&v("1.5.0-rc.1")));
        assert!(r("<1.0.0 || >=2.0.0").satisfies(&v("2.1.0")));
        assert!(!r("*").satisfies(&v("1.0.0-beta")));
        assert!("1.2.3 junk".parse::<NpmRange>().is_err());
    }

    #[test]
    fn cargo_requirements() {
        let r = |s: &str| s.parse::<CargoReq>().unwrap_or_else(|e| panic!("{s}: {e}"));
        assert!(r("1.2.3").matches(&v("1.9.0")));
        assert!(!r("1.2.3").matches(&v("2.0.0")));
        assert!(!r("0.2.3").matches(&v("0.3.0")));
        assert!(r("0.0.3").matches(&v("0.0.3")) && !r("0.0.3").matches(&v("0.0.4")));
        assert!(r("~1.2").matches(&v("1.2.7")) && !r("~1.2").matches(&v("1.3.0")));
        assert!(r(">=1.0, <1.5").matches(&v("1.4.9")) && !r(">=1.0, <1.5").matches(&v("1.5.0")));
        assert!(r("1.*").matches(&v("1.8.0")) && r("*").matches(&v("3.0.0")));
        assert!(!r(">=1.0.0").matches(&v("1.1.0-alpha")));
        assert!(r(">=1.1.0-alpha").matches(&v("1.1.0-beta")));
        assert!("1.2.3.4".parse::<CargoReq>().is_err());
    }
}
