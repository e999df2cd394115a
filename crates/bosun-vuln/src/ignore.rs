//! `.bosunignore.yaml`: findings the user decided not to count, each with a
//! reason and optionally a package, a path glob and an expiry date.
//!
//! ```yaml
//! ignore:
//!   - id: CVE-2023-1234
//!     package: pkg:deb/debian/openssl
//!     path: /usr/lib/python3/**
//!     reason: "not reachable: we never parse untrusted certs"
//!     expires: 2026-12-31
//! ```

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::Path;

use serde_norway::Value;

use crate::finding::{Finding, MatchKind, Notice, Report, Suppression};
use crate::vex::purl_covers;

/// Far above any hand-written file; keeps a hostile one from using much memory.
pub const MAX_FILE_BYTES: usize = 4 << 20;
pub const MAX_ENTRIES: usize = 10_000;
const MAX_FIELD_CHARS: usize = 4096;
const FIELDS: [&str; 5] = ["id", "package", "path", "reason", "expires"];

#[derive(Debug, thiserror::Error)]
pub enum IgnoreError {
    #[error("cannot read ignore file {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// `at` is `document`, `ignore` or `ignore[3].expires`.
    #[error("{origin}: {at}: {message}")]
    Invalid {
        origin: String,
        at: String,
        message: String,
    },
}

/// A calendar date (proleptic Gregorian, years 1-9999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u32,
    day: u32,
}

impl Date {
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        let valid = (1..=9999).contains(&year)
            && bosun_core::time::days_from_civil(year.into(), month.into(), day.into()).is_some();
        valid.then_some(Date { year, month, day })
    }

    /// Exactly `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = s.get(r)?;
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())?
        };
        Date::new(i32::try_from(num(0..4)?).ok()?, num(5..7)?, num(8..10)?)
    }

    /// Today in UTC.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Date::from_days(i64::try_from(secs / 86_400).unwrap_or(0))
    }

    pub fn year(self) -> i32 {
        self.year
    }
    pub fn month(self) -> u32 {
        self.month
    }
    pub fn day(self) -> u32 {
        self.day
    }

    /// Days since 1970-01-01.
    pub(crate) fn days_since_epoch(self) -> i64 {
        // `new` admitted only real dates.
        bosun_core::time::days_from_civil(self.year.into(), self.month.into(), self.day.into())
            .unwrap_or(0)
    }

    fn from_days(days: i64) -> Date {
        let (year, month, day) = bosun_core::time::civil_from_days(days);
        Date {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A path glob: `*` and `?` within one path segment, `**` (a whole segment)
/// across any number of segments, everything else literal. Leading slashes
/// are not significant: `usr/lib/**` and `/usr/lib/**` are the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    pattern: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    AnyDepth,
    Name(Vec<char>),
}

impl Glob {
    pub fn new(pattern: &str) -> Option<Glob> {
        let mut segments: Vec<Segment> = Vec::new();
        for s in pattern.split('/').filter(|s| !s.is_empty()) {
            let seg = if s == "**" {
                Segment::AnyDepth
            } else {
                Segment::Name(s.chars().collect())
            };
            // `**/**` means no more than `**`; collapsing keeps matching linear.
            if !(seg == Segment::AnyDepth && segments.last() == Some(&Segment::AnyDepth)) {
                segments.push(seg);
            }
        }
        (!segments.is_empty()).then(|| Glob {
            pattern: pattern.to_string(),
            segments,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    pub fn matches(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        // Wildcard matching with one backtrack point (the last `**`): a later
        // `**` can absorb anything an earlier one could, so this is complete.
        let (mut p, mut s) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while let Some(part) = parts.get(s) {
            match self.segments.get(p) {
                Some(Segment::AnyDepth) => {
                    star = Some((p, s));
                    p += 1;
                }
                Some(Segment::Name(n)) if segment_matches(n, part) => {
                    p += 1;
                    s += 1;
                }
                _ => match star {
                    Some((sp, ss)) => {
                        star = Some((sp, ss + 1));
                        p = sp + 1;
                        s = ss + 1;
                    }
                    None => return false,
                },
            }
        }
        self.segments
            .get(p..)
            .is_some_and(|rest| rest.iter().all(|x| *x == Segment::AnyDepth))
    }
}

/// `*` (any run) and `?` (one character) within a segment.
fn segment_matches(pattern: &[char], text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&c) = text.get(t) {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&q) if q == '?' || q == c => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    star = Some((sp, st + 1));
                    p = sp + 1;
                    t = st + 1;
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|&c| c == '*'))
}

/// One `ignore:` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreEntry {
    /// Any id or alias of the finding, compared case-insensitively.
    pub id: String,
    /// A package name (also matching the source package an OS package was
    /// matched through), or a purl that covers the package's purl.
    pub package: Option<String>,
    pub path: Option<Glob>,
    pub reason: String,
    /// The last day the entry applies.
    pub expires: Option<Date>,
}

impl IgnoreEntry {
    fn matches(&self, f: &Finding) -> bool {
        let id = self.id.to_ascii_lowercase();
        f.ids().any(|i| i.to_ascii_lowercase() == id)
            && self.package.as_deref().is_none_or(|p| {
                if p.starts_with("pkg:") {
                    purl_covers(p, &f.package.purl)
                } else {
                    p == f.package.name
                        || (f.matched.kind == MatchKind::SourcePackage && p == f.matched.name)
                }
            })
            && self
                .path
                .as_ref()
                .is_none_or(|g| f.package.locations.iter().any(|l| g.matches(&l.path)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreFile {
    /// Where the file came from, named in suppressions, notices and errors.
    pub origin: String,
    pub entries: Vec<IgnoreEntry>,
}

impl IgnoreFile {
    pub fn load(path: &Path) -> Result<IgnoreFile, IgnoreError> {
        let origin = path.display().to_string();
        let io = |source| IgnoreError::Io {
            path: origin.clone(),
            source,
        };
        let mut text = String::new();
        std::fs::File::open(path)
            .map_err(io)?
            .take(MAX_FILE_BYTES as u64 + 1)
            .read_to_string(&mut text)
            .map_err(io)?;
        IgnoreFile::parse(&text, &origin)
    }

    pub fn parse(text: &str, origin: &str) -> Result<IgnoreFile, IgnoreError> {
        let invalid = |at: String, message: String| IgnoreError::Invalid {
            origin: origin.to_string(),
            at,
            message,
        };
        if text.len() > MAX_FILE_BYTES {
            return Err(invalid(
                "document".into(),
                format!("larger than the {MAX_FILE_BYTES} bytes allowed"),
            ));
        }
        bosun_yaml::check(text).map_err(|e| {
            invalid(
                "document".into(),
                format!("not valid YAML: line {}: {}", e.line, e.message),
            )
        })?;
        let doc: Value = serde_norway::from_str(text)
            .map_err(|e| invalid("document".into(), format!("not valid YAML: {e}")))?;
        let list = match &doc {
            Value::Null => None,
            Value::Mapping(m) => {
                if let Some(k) = m.keys().find(|k| k.as_str() != Some("ignore")) {
                    return Err(invalid(
                        "document".into(),
                        format!("unknown key {}; the only key is `ignore`", show_key(k)),
                    ));
                }
                m.get("ignore")
            }
            _ => {
                return Err(invalid(
                    "document".into(),
                    "must be a mapping with an `ignore` list".into(),
                ));
            }
        };
        let items = match list {
            None | Some(Value::Null) => &[][..],
            Some(Value::Sequence(items)) => items.as_slice(),
            Some(_) => return Err(invalid("ignore".into(), "must be a list of entries".into())),
        };
        if items.len() > MAX_ENTRIES {
            return Err(invalid(
                "ignore".into(),
                format!(
                    "{} entries, more than the {MAX_ENTRIES} allowed",
                    items.len()
                ),
            ));
        }
        let entries = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                parse_entry(item).map_err(|(field, message)| {
                    let at = match field {
                        Some(f) => format!("ignore[{i}].{f}"),
                        None => format!("ignore[{i}]"),
                    };
                    invalid(at, message)
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(IgnoreFile {
            origin: origin.to_string(),
            entries,
        })
    }

    /// Moves the findings an entry matches to `report.suppressed`. Entries
    /// past their expiry date do not apply and are noted (`expired-ignore`),
    /// as are entries that match no finding, counted or already suppressed
    /// (`stale-ignore`).
    pub fn apply(&self, report: &mut Report, today: Date) {
        let mut by_id: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            match e.expires {
                Some(d) if d < today => report.notices.push(Notice {
                    kind: "expired-ignore".into(),
                    message: format!(
                        "{}: ignore[{i}] for {} expired on {d} and no longer applies",
                        self.origin, e.id
                    ),
                }),
                _ => by_id.entry(e.id.to_ascii_lowercase()).or_default().push(i),
            }
        }
        let mut used = vec![false; self.entries.len()];
        // Every matching entry counts as used, not only the first, so that
        // staleness is exact; the first in file order gives the reason.
        let mut first_match = |f: &Finding| -> Option<usize> {
            let mut hits: Vec<usize> = f
                .ids()
                .filter_map(|id| by_id.get(&id.to_ascii_lowercase()))
                .flatten()
                .copied()
                .filter(|&i| self.entries.get(i).is_some_and(|e| e.matches(f)))
                .collect();
            hits.sort_unstable();
            for &i in &hits {
                if let Some(u) = used.get_mut(i) {
                    *u = true;
                }
            }
            hits.first().copied()
        };
        for f in &report.suppressed {
            first_match(f);
        }
        let mut kept = Vec::with_capacity(report.findings.len());
        for mut f in std::mem::take(&mut report.findings) {
            match first_match(&f).and_then(|i| self.entries.get(i)) {
                Some(e) => {
                    f.suppressed = Some(Suppression {
                        by: "ignore-file".into(),
                        reason: e.reason.clone(),
                        source: self.origin.clone(),
                    });
                    report.suppressed.push(f);
                }
                None => kept.push(f),
            }
        }
        report.findings = kept;
        for (i, e) in self.entries.iter().enumerate() {
            let expired = e.expires.is_some_and(|d| d < today);
            if !expired && !used.get(i).copied().unwrap_or(true) {
                report.notices.push(Notice {
                    kind: "stale-ignore".into(),
                    message: format!(
                        "{}: ignore[{i}] for {} matched no finding",
                        self.origin, e.id
                    ),
                });
            }
        }
    }
}

type FieldError = (Option<&'static str>, String);

fn parse_entry(item: &Value) -> Result<IgnoreEntry, FieldError> {
    let Value::Mapping(m) = item else {
        return Err((None, "must be a mapping with `id` and `reason`".into()));
    };
    let (mut id, mut package, mut path, mut reason, mut expires) = (None, None, None, None, None);
    for (k, v) in m {
        let (name, slot) = match k.as_str() {
            Some("id") => ("id", &mut id),
            Some("package") => ("package", &mut package),
            Some("path") => ("path", &mut path),
            Some("reason") => ("reason", &mut reason),
            Some("expires") => ("expires", &mut expires),
            _ => {
                let allowed = FIELDS.join(", ");
                return Err((
                    None,
                    format!("unknown key {}; allowed: {allowed}", show_key(k)),
                ));
            }
        };
        let Value::String(s) = v else {
            return Err((Some(name), "must be a string".into()));
        };
        let s = s.trim();
        if s.is_empty() {
            return Err((Some(name), "must not be empty".into()));
        }
        if s.chars().count() > MAX_FIELD_CHARS {
            return Err((
                Some(name),
                format!("longer than {MAX_FIELD_CHARS} characters"),
            ));
        }
        *slot = Some(s.to_string());
    }
    let path = match path {
        Some(p) => {
            Some(Glob::new(&p).ok_or((Some("path"), format!("{p:?} names no path segment")))?)
        }
        None => None,
    };
    let expires = match expires {
        Some(d) => Some(
            Date::parse(&d)
                .ok_or((Some("expires"), format!("{d:?} is not a date (YYYY-MM-DD)")))?,
        ),
        None => None,
    };
    Ok(IgnoreEntry {
        id: id.ok_or((None, "missing `id`".to_string()))?,
        package,
        path,
        reason: reason.ok_or((None, "missing `reason`: say why it is ignored".to_string()))?,
        expires,
    })
}

fn show_key(k: &Value) -> String {
    match k.as_str() {
        Some(s) => format!("`{}`", s.chars().take(64).collect::<String>()),
        None => "(not a string)".into(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use crate::finding::{MatchDetail, PackageRef, Status};
    use bosun_core::{Location, PackageKind};
    use bosun_sbom::{Sbom, SourceInfo, SourceKind, Tool};
    use bosun_vulndb::Severity;

    pub(crate) fn finding(id: &str, aliases: &[&str], name: &str, purl: &str) -> Finding {
        Finding {
            id: id.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            package: PackageRef {
                id: format!("pkg-{name}"),
                name: name.into(),
                version: "1.0".into(),
                kind: PackageKind::Deb,
                purl: purl.into(),
                locations: vec![Location {
                    path: "/var/lib/dpkg/status".into(),
                    layer: None,
                }],
            },
            installed_version: "1.0".into(),
            fixed_versions: vec![],
            status: Status::Unfixed,
            status_note: None,
            severity: Severity::High,
            severity_source: "test".into(),
            scores: vec![],
            kev: None,
            epss: None,
            summary: None,
            references: vec![],
            cwes: Vec::new(),
            published: None,
            modified: None,
            data_sources: vec!["test".into()],
            matched: MatchDetail {
                kind: MatchKind::ExactPackage,
                ecosystem: "Debian:12".into(),
                name: name.into(),
                version: "1.0".into(),
            },
            suppressed: None,
        }
    }

    pub(crate) fn report(findings: Vec<Finding>) -> Report {
        Report {
            sbom: Sbom {
                tool: Tool {
                    name: "bosun".into(),
                    version: "0".into(),
                },
                created: 0,
                source: SourceInfo {
                    kind: SourceKind::Directory,
                    target: "dir:.".into(),
                    name: "test".into(),
                    version: None,
                    image: None,
                },
                distro: None,
                packages: vec![],
                relationships: vec![],
                unknowns: vec![],
            },
            db: crate::finding::DbInfo {
                built: "2025-01-01T00:00:00Z".into(),
                schema_version: 1,
                sources: vec![],
            },
            findings,
            suppressed: vec![],
            issues: Vec::new(),
            notices: vec![],
        }
    }

    fn day(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn apply(yaml: &str, findings: Vec<Finding>) -> Report {
        let mut r = report(findings);
        IgnoreFile::parse(yaml, ".bosunignore.yaml")
            .unwrap()
            .apply(&mut r, day("2025-06-01"));
        r
    }

    fn ids(list: &[Finding]) -> Vec<&str> {
        list.iter().map(|f| f.id.as_str()).collect()
    }

    fn kinds(r: &Report) -> Vec<&str> {
        r.notices.iter().map(|n| n.kind.as_str()).collect()
    }

    fn err(yaml: &str) -> String {
        IgnoreFile::parse(yaml, "x.yaml").unwrap_err().to_string()
    }

    #[test]
    fn matches_by_id_case_insensitively() {
        let r = apply(
            "ignore:\n  - id: cve-2023-1234\n    reason: not reachable\n",
            vec![
                finding(
                    "CVE-2023-1234",
                    &[],
                    "openssl",
                    "pkg:deb/debian/openssl@1.0",
                ),
                finding(
                    "CVE-2023-9999",
                    &[],
                    "openssl",
                    "pkg:deb/debian/openssl@1.0",
                ),
            ],
        );
        assert_eq!(ids(&r.findings), ["CVE-2023-9999"]);
        assert_eq!(ids(&r.suppressed), ["CVE-2023-1234"]);
        assert_eq!(
            r.suppressed[0].suppressed,
            Some(Suppression {
                by: "ignore-file".into(),
                reason: "not reachable".into(),
                source: ".bosunignore.yaml".into(),
            })
        );
        assert!(r.notices.is_empty());
    }

    #[test]
    fn matches_by_alias() {
        let r = apply(
            "ignore:\n  - id: GHSA-abcd-efgh-ijkl\n    reason: r\n",
            vec![finding(
                "CVE-1",
                &["GHSA-abcd-efgh-ijkl", "PYSEC-1"],
                "x",
                "pkg:pypi/x@1",
            )],
        );
        assert_eq!(ids(&r.suppressed), ["CVE-1"]);
    }

    #[test]
    fn package_name_and_source_package() {
        let mut via_source = finding("CVE-1", &[], "libssl3", "pkg:deb/debian/libssl3@3");
        via_source.matched.kind = MatchKind::SourcePackage;
        via_source.matched.name = "openssl".into();
        let r = apply(
            "ignore:\n  - id: CVE-1\n    package: openssl\n    reason: r\n",
            vec![
                via_source,
                finding("CVE-1", &[], "curl", "pkg:deb/debian/curl@8"),
            ],
        );
        assert_eq!(r.suppressed[0].package.name, "libssl3");
        assert_eq!(r.findings[0].package.name, "curl");
    }

    #[test]
    fn package_purl_prefix_and_version() {
        let all = || {
            vec![
                finding(
                    "CVE-1",
                    &[],
                    "openssl",
                    "pkg:deb/debian/openssl@3.0.11-1?arch=amd64",
                ),
                finding(
                    "CVE-1",
                    &[],
                    "openssl-dev",
                    "pkg:deb/debian/openssl-dev@3.0.11-1",
                ),
                finding("CVE-1", &[], "openssl", "pkg:rpm/redhat/openssl@3.0.11-1"),
            ]
        };
        let r = apply(
            "ignore:\n  - id: CVE-1\n    package: pkg:deb/debian/openssl\n    reason: r\n",
            all(),
        );
        assert_eq!(r.suppressed.len(), 1);
        assert_eq!(
            r.suppressed[0].package.purl,
            "pkg:deb/debian/openssl@3.0.11-1?arch=amd64"
        );

        let r = apply(
            "ignore:\n  - id: CVE-1\n    package: pkg:deb/debian/openssl@3.0.11-1\n    reason: r\n",
            all(),
        );
        assert_eq!(r.suppressed.len(), 1);
        let r = apply(
            "ignore:\n  - id: CVE-1\n    package: pkg:deb/debian/openssl@3.0.10-1\n    reason: r\n",
            all(),
        );
        assert!(r.suppressed.is_empty());
        assert_eq!(kinds(&r), ["stale-ignore"]);
    }

    #[test]
    fn path_glob_on_locations() {
        let mut py = finding("CVE-1", &[], "requests", "pkg:pypi/requests@2");
        py.package.locations[0].path =
            "/usr/lib/python3/dist-packages/requests-2.0.dist-info/METADATA".into();
        let r = apply(
            "ignore:\n  - id: CVE-1\n    path: /usr/lib/python3/**\n    reason: r\n",
            vec![py, finding("CVE-1", &[], "x", "pkg:deb/debian/x@1")],
        );
        assert_eq!(ids(&r.suppressed), ["CVE-1"]);
        assert_eq!(r.suppressed[0].package.name, "requests");
        assert_eq!(r.findings[0].package.name, "x");
    }

    #[test]
    fn expiry_in_the_past_and_future() {
        let f = || vec![finding("CVE-1", &[], "x", "pkg:deb/debian/x@1")];
        let r = apply(
            "ignore:\n  - id: CVE-1\n    reason: r\n    expires: 2025-05-31\n",
            f(),
        );
        assert_eq!(ids(&r.findings), ["CVE-1"]);
        assert_eq!(kinds(&r), ["expired-ignore"]);
        assert!(r.notices[0].message.contains("CVE-1"));
        assert!(r.notices[0].message.contains("2025-05-31"));
        // The expiry day itself still applies.
        let r = apply(
            "ignore:\n  - id: CVE-1\n    reason: r\n    expires: 2025-06-01\n",
            f(),
        );
        assert_eq!(ids(&r.suppressed), ["CVE-1"]);
        let r = apply(
            "ignore:\n  - id: CVE-1\n    reason: r\n    expires: \"2030-01-01\"\n",
            f(),
        );
        assert_eq!(ids(&r.suppressed), ["CVE-1"]);
        assert!(r.notices.is_empty());
    }

    #[test]
    fn stale_entries_are_noted() {
        let mut r = report(vec![finding("CVE-1", &[], "x", "pkg:deb/debian/x@1")]);
        // A finding already suppressed (by VEX) still counts as matched.
        r.suppressed
            .push(finding("CVE-2", &[], "y", "pkg:deb/debian/y@1"));
        let file = IgnoreFile::parse(
            "ignore:\n  - {id: CVE-1, reason: a}\n  - {id: CVE-1, package: x, reason: b}\n  - {id: CVE-2, reason: c}\n  - {id: CVE-3, reason: d}\n",
            "f.yaml",
        )
        .unwrap();
        file.apply(&mut r, day("2025-01-01"));
        assert_eq!(r.suppressed[1].suppressed.as_ref().unwrap().reason, "a");
        assert_eq!(kinds(&r), ["stale-ignore"]);
        assert_eq!(
            r.notices[0].message,
            "f.yaml: ignore[3] for CVE-3 matched no finding"
        );
    }

    #[test]
    fn empty_files_are_empty() {
        for text in ["", "# nothing\n", "ignore:\n", "ignore: []\n"] {
            assert!(
                IgnoreFile::parse(text, "x").unwrap().entries.is_empty(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn errors_name_file_entry_and_field() {
        let e = err(
            "ignore:\n  - id: CVE-1\n    reason: r\n  - id: CVE-2\n    pakage: x\n    reason: r\n",
        );
        assert!(
            e.starts_with("x.yaml: ignore[1]: unknown key `pakage`"),
            "{e}"
        );
        assert_eq!(
            err("ignore:\n  - reason: r\n"),
            "x.yaml: ignore[0]: missing `id`"
        );
        assert!(err("ignore:\n  - id: CVE-1\n").contains("ignore[0]: missing `reason`"));
        assert!(
            err("ignore:\n  - {id: CVE-1, reason: ' '}\n")
                .contains("ignore[0].reason: must not be empty")
        );
        let e = err("ignore:\n  - {id: CVE-1, reason: r, expires: 2026-02-30}\n");
        assert!(
            e.contains("ignore[0].expires: \"2026-02-30\" is not a date"),
            "{e}"
        );
        assert!(
            err("ignore:\n  - {id: CVE-1, reason: r, expires: 31/12/2026}\n").contains("expires")
        );
        assert!(
            err("ignore:\n  - {id: 1234, reason: r}\n").contains("ignore[0].id: must be a string")
        );
        assert!(err("ignore:\n  - {id: [a], reason: r}\n").contains("ignore[0].id"));
        assert!(err("ignore:\n  - {id: a, reason: r, path: /}\n").contains("ignore[0].path"));
        assert!(err("ignore:\n  - CVE-1\n").contains("ignore[0]: must be a mapping"));
        assert!(err("ignore: CVE-1\n").contains("x.yaml: ignore: must be a list"));
        assert!(err("ignores: []\n").contains("x.yaml: document: unknown key `ignores`"));
        assert!(err("- a\n").contains("document: must be a mapping"));
    }

    #[test]
    fn malformed_yaml_is_an_error() {
        for bad in [
            "ignore:\n  - id: CVE-1\n   reason: r\n",
            "ignore: [\n",
            "ignore:\n  - {id: a, id: b, reason: r}\n",
            "\t- x",
            "ignore: !!binary zzz\n",
        ] {
            let e = err(bad);
            assert!(e.starts_with("x.yaml: "), "{bad:?}: {e}");
        }
    }

    #[test]
    fn entry_count_is_bounded() {
        let many = |n: usize| {
            let mut s = String::from("ignore:\n");
            for i in 0..n {
                s.push_str(&format!("  - {{id: CVE-2024-{i}, reason: r}}\n"));
            }
            s
        };
        assert_eq!(
            IgnoreFile::parse(&many(MAX_ENTRIES), "x")
                .unwrap()
                .entries
                .len(),
            MAX_ENTRIES
        );
        let e = err(&many(MAX_ENTRIES + 1));
        assert!(
            e.contains("10001 entries, more than the 10000 allowed"),
            "{e}"
        );
    }

    #[test]
    fn hostile_input_errors_without_panicking() {
        // Alias expansion ("billion laughs"): 10^12 nodes if expanded.
        let mut laughs = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for n in 1..12 {
            let refs = vec![format!("*a{}", n - 1); 10].join(", ");
            laughs.push_str(&format!("a{n}: &a{n} [{refs}]\n"));
        }
        let e = err(&laughs);
        assert!(
            e.contains(
                "not valid YAML: line 6: more than 1000000 YAML nodes (aliases counted expanded)"
            ),
            "{e}"
        );
        assert!(IgnoreFile::parse(&"[".repeat(100_000), "x").is_err());
        assert!(IgnoreFile::parse(&"- ".repeat(100_000), "x").is_err());
        let huge = format!("ignore: []\n#{}\n", "x".repeat(MAX_FILE_BYTES));
        assert!(err(&huge).contains("larger than"));
        let long = format!(
            "ignore:\n  - {{id: CVE-1, reason: {}}}\n",
            "r".repeat(MAX_FIELD_CHARS + 1)
        );
        assert!(err(&long).contains("ignore[0].reason: longer than"));
        assert!(IgnoreFile::parse("ignore:\n  - {? [a]: b}\n", "x").is_err());
        assert!(IgnoreFile::parse("\u{feff}\0\u{1}", "x").is_err());
    }

    #[test]
    fn load_reads_and_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".bosunignore.yaml");
        std::fs::write(&path, "ignore:\n  - {id: CVE-1, reason: r, bogus: 1}\n").unwrap();
        let e = IgnoreFile::load(&path).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}: ignore[0]", path.display())),
            "{e}"
        );
        let missing = IgnoreFile::load(&dir.path().join("nope")).unwrap_err();
        assert!(matches!(missing, IgnoreError::Io { .. }));
    }

    /// Expected values from bash 5 (`shopt -s globstar dotglob`) expanding
    /// each pattern in a directory tree holding exactly these paths.
    #[test]
    fn glob_agrees_with_bash_globstar() {
        let paths = [
            "/usr/lib/python3",
            "/usr/lib/python3/a.py",
            "/usr/lib/python3/dist-packages/x/y.py",
            "/usr/lib/python3.11/z.py",
            "/usr/bin/python3",
            "/usr/bin/.hidden",
            "/opt/app/lib/x.jar",
            "/opt/app/x.jar",
        ];
        let cases: &[(&str, &[usize])] = &[
            ("/usr/lib/python3/**", &[0, 1, 2]),
            ("/usr/lib/python3*/**", &[0, 1, 2, 3]),
            ("/usr/*/python3", &[0, 4]),
            ("/usr/**/*.py", &[1, 2, 3]),
            ("/usr/lib/python3/*", &[1]),
            ("/usr/bin/?ython3", &[4]),
            ("/usr/bin/*", &[4, 5]),
            ("/opt/**/x.jar", &[6, 7]),
            ("/opt/app/*/x.jar", &[6]),
            ("/**/*.jar", &[6, 7]),
            ("/usr/lib/python3.1?/*.py", &[3]),
            ("/usr/lib", &[]),
        ];
        for (pattern, want) in cases {
            let g = Glob::new(pattern).unwrap();
            let got: Vec<usize> = (0..paths.len()).filter(|&i| g.matches(paths[i])).collect();
            assert_eq!(&got, want, "{pattern}");
        }
        assert!(Glob::new("usr/lib/**").unwrap().matches("/usr/lib/x"));
        assert!(Glob::new("/").is_none());
        // Many `**` and `*` against a long path stay fast (no exponential backtracking).
        let g = Glob::new(&format!("{}/y", "**/a*a*a*b/".repeat(50))).unwrap();
        assert!(!g.matches(&"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".repeat(200)));
    }

    /// Days since the epoch as `date -u -d <day> +%s` / 86400 gives them.
    #[test]
    fn dates_agree_with_gnu_date() {
        for (s, days) in [
            ("1970-01-01", 0),
            ("1999-12-31", 10956),
            ("2000-02-29", 11016),
            ("2024-02-29", 19782),
            ("2026-12-31", 20818),
            ("2100-03-01", 47541),
        ] {
            let d = day(s);
            assert_eq!(d.days_since_epoch(), days, "{s}");
            assert_eq!(Date::from_days(days), d);
            assert_eq!(d.to_string(), s);
        }
        for bad in [
            "2023-02-29",
            "2100-02-29",
            "2024-13-01",
            "2024-00-10",
            "0000-01-01",
            "2024-1-01",
            "2024-01-01x",
            "２０２４-01-01",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
        assert!(Date::today() > day("2024-01-01"));
    }
}
