//! PEP 440 versions (as Python `packaging` parses them) and specifier sets.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use compact_str::CompactString;
use smallvec::SmallVec;

use crate::{Scheme, VersionError, check_range_len, check_version_len, invalid, invalid_range};

const S: Scheme = Scheme::Pep440;
/// Bound on release segments, local segments and specifiers per set.
const MAX_PARTS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PreKind {
    Alpha,
    Beta,
    Rc,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum LocalPart {
    Num(u64),
    Str(String),
}

#[derive(Debug, Clone)]
pub struct Version {
    original: CompactString,
    epoch: u64,
    /// Inline up to four numbers: parsing most versions allocates nothing.
    release: SmallVec<[u64; 4]>,
    pre: Option<(PreKind, u64)>,
    post: Option<u64>,
    dev: Option<u64>,
    local: Vec<LocalPart>,
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn at(&self, k: usize) -> Option<u8> {
        self.s.get(self.i + k).copied()
    }
    fn digits(&mut self) -> Option<Result<u64, ()>> {
        let st = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if st == self.i {
            return None;
        }
        let t = std::str::from_utf8(&self.s[st..self.i]).unwrap_or("");
        Some(t.parse().map_err(|_| ()))
    }
    fn eat(&mut self, word: &str) -> bool {
        if self.s.get(self.i..self.i + word.len()) == Some(word.as_bytes()) {
            self.i += word.len();
            true
        } else {
            false
        }
    }
    fn is_sep(c: Option<u8>) -> bool {
        matches!(c, Some(b'-' | b'_' | b'.'))
    }
    /// `[-_.]?LABEL`: returns the label index matched.
    fn label(&mut self, labels: &[&str]) -> Option<usize> {
        let save = self.i;
        if Self::is_sep(self.peek()) {
            self.i += 1;
        }
        for (k, l) in labels.iter().enumerate() {
            if self.eat(l) {
                return Some(k);
            }
        }
        self.i = save;
        None
    }
    /// `[-_.]?N?` after a label; the separator is only taken with digits.
    fn label_number(&mut self) -> Result<u64, ()> {
        let save = self.i;
        if Self::is_sep(self.peek()) {
            self.i += 1;
        }
        match self.digits() {
            Some(n) => n,
            None => {
                self.i = save;
                Ok(0)
            }
        }
    }
}

const PRE_LABELS: [&str; 8] = ["alpha", "a", "beta", "b", "preview", "pre", "c", "rc"];

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(input: &str) -> Result<Self, VersionError> {
        check_version_len(S, input)?;
        let lower = input.trim().to_ascii_lowercase();
        if lower.is_empty() {
            return Err(VersionError::Empty { scheme: S });
        }
        let bad = |why| invalid(S, input, why);
        let big = |_| invalid(S, input, "number too large");
        let mut c = Cursor {
            s: lower.as_bytes(),
            i: 0,
        };
        c.eat("v");
        let mut epoch = 0;
        let mut first = c
            .digits()
            .ok_or_else(|| bad("expected a release number"))?
            .map_err(big)?;
        if c.peek() == Some(b'!') {
            c.i += 1;
            epoch = first;
            first = c
                .digits()
                .ok_or_else(|| bad("expected a release number"))?
                .map_err(big)?;
        }
        let mut release: SmallVec<[u64; 4]> = smallvec::smallvec![first];
        while c.peek() == Some(b'.') && c.at(1).is_some_and(|d| d.is_ascii_digit()) {
            c.i += 1;
            if release.len() >= MAX_PARTS {
                return Err(bad("too many release segments"));
            }
            release.push(c.digits().unwrap_or(Ok(0)).map_err(big)?);
        }
        let mut pre = None;
        if let Some(k) = c.label(&PRE_LABELS) {
            let kind = match k {
                0 | 1 => PreKind::Alpha,
                2 | 3 => PreKind::Beta,
                _ => PreKind::Rc,
            };
            pre = Some((kind, c.label_number().map_err(big)?));
        }
        let mut post = None;
        if c.peek() == Some(b'-') && c.at(1).is_some_and(|d| d.is_ascii_digit()) {
            c.i += 1;
            post = Some(c.digits().unwrap_or(Ok(0)).map_err(big)?);
        } else if c.label(&["post", "rev", "r"]).is_some() {
            post = Some(c.label_number().map_err(big)?);
        }
        let mut dev = None;
        if c.label(&["dev"]).is_some() {
            dev = Some(c.label_number().map_err(big)?);
        }
        let mut local = Vec::new();
        if c.peek() == Some(b'+') {
            c.i += 1;
            let rest = std::str::from_utf8(&c.s[c.i..]).unwrap_or("");
            for part in rest.split(['-', '_', '.']) {
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(bad("bad local version label"));
                }
                if local.len() >= MAX_PARTS {
                    return Err(bad("too many local segments"));
                }
                local.push(if part.bytes().all(|b| b.is_ascii_digit()) {
                    LocalPart::Num(part.parse().map_err(|_| bad("number too large"))?)
                } else {
                    LocalPart::Str(part.to_string())
                });
            }
            c.i = c.s.len();
        }
        if c.i != c.s.len() {
            return Err(bad("unexpected text"));
        }
        Ok(Version {
            original: input.into(),
            epoch,
            release,
            pre,
            post,
            dev,
            local,
        })
    }
}

impl Version {
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some() || self.dev.is_some()
    }
    pub fn is_postrelease(&self) -> bool {
        self.post.is_some()
    }
    pub fn release(&self) -> &[u64] {
        &self.release
    }

    /// The same version without its local label.
    fn public(&self) -> Version {
        Version {
            local: Vec::new(),
            ..self.clone()
        }
    }
    /// The normalised form (`1.0a1`, `1!2.0.post3.dev4+abc.5`).
    pub fn normalized(&self) -> String {
        let mut s = String::new();
        if self.epoch != 0 {
            s.push_str(&format!("{}!", self.epoch));
        }
        let rel: Vec<String> = self.release.iter().map(u64::to_string).collect();
        s.push_str(&rel.join("."));
        if let Some((k, n)) = self.pre {
            let l = match k {
                PreKind::Alpha => "a",
                PreKind::Beta => "b",
                PreKind::Rc => "rc",
            };
            s.push_str(&format!("{l}{n}"));
        }
        if let Some(n) = self.post {
            s.push_str(&format!(".post{n}"));
        }
        if let Some(n) = self.dev {
            s.push_str(&format!(".dev{n}"));
        }
        if !self.local.is_empty() {
            let parts: Vec<String> = self
                .local
                .iter()
                .map(|p| match p {
                    LocalPart::Num(n) => n.to_string(),
                    LocalPart::Str(t) => t.clone(),
                })
                .collect();
            s.push('+');
            s.push_str(&parts.join("."));
        }
        s
    }
}

/// Release comparison ignoring trailing zeros (`1.0 == 1.0.0`).
impl Version {
    /// See [`crate::AnyVersion::order_key`]: the epoch and the first three
    /// release numbers (missing ones are zero, as in comparisons).
    pub fn order_key(&self) -> u64 {
        let mut k = crate::OrderKey::new();
        k.number(self.epoch, 4);
        for i in 0..3 {
            k.number(self.release.get(i).copied().unwrap_or(0), 20);
        }
        k.finish()
    }
}

fn cmp_release(a: &[u64], b: &[u64]) -> Ordering {
    let n = a.len().max(b.len());
    (0..n)
        .map(|i| a.get(i).unwrap_or(&0).cmp(b.get(i).unwrap_or(&0)))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

fn cmp_local(a: &[LocalPart], b: &[LocalPart]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (LocalPart::Num(x), LocalPart::Num(y)) => x.cmp(y),
            (LocalPart::Num(_), LocalPart::Str(_)) => Ordering::Greater,
            (LocalPart::Str(_), LocalPart::Num(_)) => Ordering::Less,
            (LocalPart::Str(x), LocalPart::Str(y)) => x.cmp(y),
        };
        if o.is_ne() {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        // packaging's key: a dev release of a final sorts before its
        // pre-releases; no pre sorts after any pre; no post before any post;
        // no dev after any dev; no local before any local.
        let pre_key = |v: &Version| match (v.pre, v.post, v.dev) {
            (None, None, Some(_)) => (0, None),
            (None, _, _) => (2, None),
            (Some(p), _, _) => (1, Some(p)),
        };
        let dev_key = |v: &Version| v.dev.map_or((1, 0), |d| (0, d));
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| cmp_release(&self.release, &other.release))
            .then_with(|| pre_key(self).cmp(&pre_key(other)))
            .then_with(|| self.post.cmp(&other.post))
            .then_with(|| dev_key(self).cmp(&dev_key(other)))
            .then_with(|| cmp_local(&self.local, &other.local))
    }
}
crate::order_by_cmp!(Version);

// ------------------------------------------------------------ specifiers

#[derive(Debug, Clone)]
enum Spec {
    Compatible(Version),
    Equal(Version),
    NotEqual(Version),
    /// `==E!R.*` / `!=E!R.*`: epoch and release prefix.
    Prefix {
        negate: bool,
        epoch: u64,
        release: Vec<u64>,
    },
    Le(Version),
    Ge(Version),
    Lt(Version),
    Gt(Version),
    Arbitrary(String),
}

/// A PEP 440 specifier set (`>=1.0,<2.0`, `~=1.4.2`, `==1.*`, `!=1.3`).
///
/// [`SpecifierSet::contains`] applies the operators only: pre-releases are
/// not excluded by default (vulnerability ranges must match installed
/// pre-releases); this equals `packaging`'s `contains(v, prereleases=True)`.
#[derive(Debug, Clone)]
pub struct SpecifierSet {
    original: String,
    specs: Vec<Spec>,
}

fn parse_spec(text: &str, whole: &str) -> Result<Spec, VersionError> {
    let bad = |why| invalid_range(S, whole, why);
    let ops = ["===", "~=", "==", "!=", "<=", ">=", "<", ">"];
    let op = ops
        .iter()
        .find(|o| text.starts_with(**o))
        .ok_or_else(|| bad("expected an operator"))?;
    let v = text[op.len()..].trim_start();
    if v.is_empty() || v.bytes().any(|b| b.is_ascii_whitespace()) {
        return Err(bad("expected one version after the operator"));
    }
    if *op == "===" {
        return Ok(Spec::Arbitrary(v.to_ascii_lowercase()));
    }
    if let Some(prefix) = v.strip_suffix(".*") {
        if *op != "==" && *op != "!=" {
            return Err(bad("wildcard only allowed with == and !="));
        }
        let pv: Version = prefix.parse().map_err(|_| bad("bad version before .*"))?;
        if pv.pre.is_some() || pv.post.is_some() || pv.dev.is_some() || !pv.local.is_empty() {
            return Err(bad("wildcard only allowed after the release"));
        }
        return Ok(Spec::Prefix {
            negate: *op == "!=",
            epoch: pv.epoch,
            release: pv.release.into_vec(),
        });
    }
    let pv: Version = v.parse().map_err(|_| bad("bad version"))?;
    if !pv.local.is_empty() && *op != "==" && *op != "!=" {
        return Err(bad("local version only allowed with == and !="));
    }
    Ok(match *op {
        "~=" => {
            if pv.release.len() < 2 {
                return Err(bad("~= needs at least two release segments"));
            }
            Spec::Compatible(pv)
        }
        "==" => Spec::Equal(pv),
        "!=" => Spec::NotEqual(pv),
        "<=" => Spec::Le(pv),
        ">=" => Spec::Ge(pv),
        "<" => Spec::Lt(pv),
        _ => Spec::Gt(pv),
    })
}

fn prefix_match(v: &Version, epoch: u64, release: &[u64]) -> bool {
    v.epoch == epoch
        && release
            .iter()
            .enumerate()
            .all(|(i, r)| v.release.get(i).unwrap_or(&0) == r)
}

fn equal(v: &Version, spec: &Version) -> bool {
    if spec.local.is_empty() {
        v.public() == *spec
    } else {
        v == spec
    }
}

impl Spec {
    fn contains(&self, v: &Version) -> bool {
        match self {
            Spec::Compatible(s) => {
                let prefix = s.release.get(..s.release.len() - 1).unwrap_or(&[]);
                v.public() >= *s && prefix_match(v, s.epoch, prefix)
            }
            Spec::Equal(s) => equal(v, s),
            Spec::NotEqual(s) => !equal(v, s),
            Spec::Prefix {
                negate,
                epoch,
                release,
            } => prefix_match(v, *epoch, release) != *negate,
            Spec::Le(s) => v.public() <= *s,
            Spec::Ge(s) => v.public() >= *s,
            // `<V` excludes V's own pre-releases (everything from V.dev0)
            // unless V is a pre-release itself.
            Spec::Lt(s) => {
                if s.is_prerelease() {
                    v < s
                } else {
                    *v < Version {
                        dev: Some(0),
                        local: Vec::new(),
                        ..s.clone()
                    }
                }
            }
            // `>V` skips V's local versions and, for a final or pre-release
            // V, its post-releases (everything sharing epoch, release, pre).
            Spec::Gt(s) => match (s.dev, s.post) {
                (Some(d), _) => {
                    *v >= Version {
                        dev: Some(d.saturating_add(1)),
                        local: Vec::new(),
                        ..s.clone()
                    }
                }
                (None, Some(p)) => {
                    *v >= Version {
                        post: Some(p.saturating_add(1)),
                        dev: Some(0),
                        local: Vec::new(),
                        ..s.clone()
                    }
                }
                (None, None) => {
                    v > s
                        && !(v.epoch == s.epoch
                            && cmp_release(&v.release, &s.release).is_eq()
                            && v.pre == s.pre)
                }
            },
            Spec::Arbitrary(s) => {
                v.normalized() == *s || v.original.trim().to_ascii_lowercase() == *s
            }
        }
    }
}

impl FromStr for SpecifierSet {
    type Err = VersionError;

    fn from_str(input: &str) -> Result<Self, VersionError> {
        check_range_len(S, input)?;
        let mut specs = Vec::new();
        for part in input.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if specs.len() >= MAX_PARTS {
                return Err(invalid_range(S, input, "too many specifiers"));
            }
            specs.push(parse_spec(part, input)?);
        }
        Ok(SpecifierSet {
            original: input.to_string(),
            specs,
        })
    }
}

impl SpecifierSet {
    pub fn contains(&self, v: &Version) -> bool {
        self.specs.iter().all(|s| s.contains(v))
    }
}

impl fmt::Display for SpecifierSet {
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
    fn normalisation_and_order() {
        assert_eq!(v("1.0a1"), v("1.0.0a1"));
        assert_eq!(v("1.0-alpha.1"), v("1.0a1"));
        assert_eq!(v("V1.0.POST2"), v("1.0-2"));
        assert_eq!(v("1.0c1").normalized(), "1.0rc1");
        assert_eq!(
            v("1!2.0-preview3.dev4+AbC.007").normalized(),
            "1!2.0rc3.dev4+abc.7"
        );
        let chain = [
            "1.0.dev1",
            "1.0a1.dev1",
            "1.0a1",
            "1.0b2",
            "1.0rc1",
            "1.0",
            "1.0+local",
            "1.0.post1.dev1",
            "1.0.post1",
            "1.1",
            "1!0.1",
        ];
        for w in chain.windows(2) {
            assert!(v(w[0]) < v(w[1]), "{} < {}", w[0], w[1]);
        }
    }

    #[test]
    fn rejects_bad_versions() {
        for s in [
            "",
            "v",
            "1.0x",
            "1..0",
            "1.0+",
            "1.0+a..b",
            "a1",
            "1.0 1",
            "99999999999999999999999",
        ] {
            assert!(s.parse::<Version>().is_err(), "{s:?}");
        }
    }

    #[test]
    fn specifiers() {
        let ss = |s: &str| {
            s.parse::<SpecifierSet>()
                .unwrap_or_else(|e| panic!("{s}: {e}"))
        };
        assert!(ss(">=1.0,<2.0").contains(&v("1.5")));
        assert!(!ss(">=1.0,<2.0").contains(&v("2.0")));
        assert!(!ss("<2.0").contains(&v("2.0rc1")));
        assert!(ss("~=1.4.2").contains(&v("1.4.9")) && !ss("~=1.4.2").contains(&v("1.5")));
        assert!(ss("==1.*").contains(&v("1.9.1")) && !ss("==1.*").contains(&v("2.0")));
        assert!(ss("!=1.3").contains(&v("1.3.1")) && !ss("!=1.3").contains(&v("1.3.0")));
        assert!(!ss(">1.0").contains(&v("1.0.post1")));
        assert!(ss("").contains(&v("0.1")));
        for bad in [">=1.0.*", "~=1", "<1.0+local", "1.0", "=>1.0", ">=1.0 2.0"] {
            assert!(bad.parse::<SpecifierSet>().is_err(), "{bad:?}");
        }
    }
}
