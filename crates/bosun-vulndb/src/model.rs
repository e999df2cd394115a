//! The normalised advisory every feed parser produces and the store keeps.
//!
//! Feeds differ (OSV JSON, KEV, EPSS CSV, the Debian tracker JSON); the
//! matcher only ever sees these types.

use bosun_version::{AnyVersion, Scheme, VersionError, osv};
use serde::{Deserialize, Serialize};

/// A severity level, ordered from least to most severe.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    #[default]
    Unknown,
    Negligible,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Parses the labels feeds use (`MODERATE` is GitHub's `MEDIUM`,
    /// `unimportant` is Debian's negligible), case-insensitively.
    pub fn parse_label(s: &str) -> Option<Severity> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "critical" => Severity::Critical,
            "high" | "important" => Severity::High,
            "medium" | "moderate" => Severity::Medium,
            "low" => Severity::Low,
            "negligible" | "unimportant" => Severity::Negligible,
            "unknown" | "not yet assigned" | "none" => Severity::Unknown,
            _ => return None,
        })
    }

    /// The CVSS v3/v4 qualitative rating of a base score.
    pub fn from_cvss_score(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score > 0.0 {
            Severity::Low
        } else {
            Severity::Unknown
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "UNKNOWN",
            Severity::Negligible => "NEGLIGIBLE",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of OSV `severity[]`: a CVSS vector (or other scored scheme).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// `CVSS_V2`, `CVSS_V3`, `CVSS_V4`, `Ubuntu`, as OSV spells it.
    pub kind: String,
    /// The vector string (or label, for `Ubuntu`) as published.
    pub vector: String,
    /// The base score computed from the vector, when it could be.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub base_score: Option<f64>,
}

/// One advisory from one feed, with everything a finding shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// The feed's own id (`PYSEC-2021-108`, `GHSA-...`, `DSA-5532-1`, `CVE-...`).
    pub id: String,
    /// Other ids of the same vulnerability (OSV `aliases`, and for Debian
    /// records the CVEs in `upstream`): merged into one finding.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub aliases: Vec<String>,
    /// Ids OSV calls `related` (not the same vulnerability): shown, not merged.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub related: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub summary: Option<String>,
    /// Long description, truncated to `MAX_DETAILS` bytes on ingest.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub details: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub published: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub modified: Option<String>,
    /// Set when the record was withdrawn: kept (so `db status` can count it),
    /// never matched.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub withdrawn: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub scores: Vec<Score>,
    /// A label the feed states outright (GitHub's `database_specific.severity`,
    /// Debian urgency), used when no score is present.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub severity_label: Option<Severity>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub references: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub cwes: Vec<String>,
    /// Which source this came from (a [`SourceId`] name, e.g. `osv-PyPI`).
    pub source: String,
    pub affected: Vec<Affected>,
}

/// The longest `details` kept (bytes); longer text is cut at a char boundary.
pub const MAX_DETAILS: usize = 16 * 1024;

/// How an `Affected` entry states what is vulnerable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AffectedState {
    /// Versions in `ranges` / `versions` are affected (OSV's only state).
    #[default]
    Affected,
    /// Every version is affected and no fix exists yet (tracker `open`).
    Unfixed,
    /// The distribution decided not to fix it (tracker `no-dsa`, `ignored`,
    /// `postponed`, `end-of-life`): every version is affected.
    WontFix,
    /// The distribution says this package is not affected (tracker
    /// `not-affected`, or `resolved` with fixed version `0`).
    NotAffected,
}

/// The kind of an OSV range; GIT ranges are kept for display, never matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RangeKind {
    Semver,
    Ecosystem,
    Git,
}

/// An OSV range event, as published (versions unparsed: they are parsed with
/// the ecosystem's scheme at match time, once per package name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub kind: RangeKind,
    pub events: Vec<Event>,
}

impl Event {
    fn parts(&self) -> (osv::Kind, &str) {
        match self {
            Event::Introduced(v) => (osv::Kind::Introduced, v),
            Event::Fixed(v) => (osv::Kind::Fixed, v),
            Event::LastAffected(v) => (osv::Kind::LastAffected, v),
            Event::Limit(v) => (osv::Kind::Limit, v),
        }
    }
}

impl Range {
    /// The version scheme this range is evaluated in for a stored
    /// `ecosystem`; `None` for GIT ranges and ecosystems without one.
    pub fn scheme(&self, ecosystem: &str) -> Option<Scheme> {
        if self.kind == RangeKind::Git {
            return None;
        }
        Some(match (self.kind, Scheme::from_osv_ecosystem(ecosystem)?) {
            // Go's SEMVER ranges may omit the leading `v` the module versions carry.
            (RangeKind::Semver, Scheme::Go) => Scheme::Go,
            (RangeKind::Semver, _) => Scheme::Semver,
            (_, s) => s,
        })
    }
}

/// One affected package of an advisory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    /// The ecosystem as OSV spells it, with release: `PyPI`, `Debian:12`,
    /// `Alpine:v3.18`, `Go`, `crates.io`, `npm`, `Maven`, `RubyGems`.
    pub ecosystem: String,
    /// The package name as published (for OS ecosystems: the source package).
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub ranges: Vec<Range>,
    /// Explicitly listed affected versions (OSV `versions`).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub versions: Vec<String>,
    #[serde(skip_serializing_if = "is_default", default)]
    pub state: AffectedState,
    /// Where the state came from, in the source's words (`no-dsa: Minor
    /// issue`, `open`), for display.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub state_note: Option<String>,
    /// A per-package severity the source gives (Debian tracker urgency).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub severity: Option<Severity>,
}

impl Affected {
    /// The evaluable ranges, parsed (a range with a version its scheme
    /// rejects is passed back as the error), and the scheme of the explicit
    /// `versions`: the last evaluable range's, else the ecosystem's.
    pub fn compile(&self, ecosystem: &str) -> Compiled {
        let mut out = Compiled {
            ranges: Vec::new(),
            rejected: Vec::new(),
            scheme: Scheme::from_osv_ecosystem(ecosystem),
        };
        for r in &self.ranges {
            let Some(s) = r.scheme(ecosystem) else {
                continue;
            };
            out.scheme = Some(s);
            match osv::Range::from_parts(s, r.events.iter().map(Event::parts)) {
                Ok(range) => out.ranges.push(range),
                Err(e) => out.rejected.push(e),
            }
        }
        out
    }

    /// Drops the explicit versions that an evaluable range already
    /// contains. OSV's affected set is the union of both, and exporters
    /// list every version their ranges cover, so most of the list (hundreds
    /// of versions per PyPI advisory) only costs space and parsing. Exact:
    /// a dropped version and any version equal to it sit at the same place
    /// on the range's line.
    pub fn drop_covered_versions(&mut self, ecosystem: &str) {
        if self.versions.is_empty() {
            return;
        }
        let c = self.compile(ecosystem);
        let Some(scheme) = c.scheme else { return };
        let ranges: Vec<&osv::Range> = c.ranges.iter().filter(|r| r.scheme() == scheme).collect();
        if ranges.is_empty() {
            return;
        }
        self.versions
            .retain(|v| match AnyVersion::parse(scheme, v) {
                Ok(p) => !ranges.iter().any(|r| r.contains(&p)),
                Err(_) => true,
            });
    }
}

/// An affected entry's ranges ready to evaluate ([`Affected::compile`]).
pub struct Compiled {
    pub ranges: Vec<osv::Range>,
    pub rejected: Vec<VersionError>,
    pub scheme: Option<Scheme>,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// An entry of the CISA Known Exploited Vulnerabilities catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevEntry {
    pub cve: String,
    pub date_added: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub due_date: Option<String>,
    /// `Known` / `Unknown`, as CISA states use in ransomware campaigns.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ransomware: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
}

/// An EPSS score for one CVE.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Epss {
    pub score: f64,
    pub percentile: f64,
}

/// Canonical form of a package name for lookups, per ecosystem: PyPI names
/// are normalised as PEP 503 says; the others compare as published
/// (Maven `group:artifact`, Go module paths and npm names are case-sensitive).
pub fn normalize_name(ecosystem_base: &str, name: &str) -> String {
    match ecosystem_base {
        "PyPI" => {
            let mut out = String::with_capacity(name.len());
            let mut sep = false;
            for c in name.chars() {
                if c == '-' || c == '_' || c == '.' {
                    sep = true;
                } else {
                    if sep && !out.is_empty() {
                        out.push('-');
                    }
                    sep = false;
                    out.extend(c.to_lowercase());
                }
            }
            out
        }
        // Package names on crates.io, RubyGems and Debian are ASCII lowercase
        // by rule or convention; lowercasing makes stray capitals harmless.
        "crates.io" | "RubyGems" | "Debian" | "Ubuntu" | "Alpine" => name.to_ascii_lowercase(),
        _ => name.to_string(),
    }
}

/// The part of an OSV ecosystem before `:` (`Debian:12` -> `Debian`).
pub fn ecosystem_base(ecosystem: &str) -> &str {
    ecosystem.split(':').next().unwrap_or(ecosystem)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `v` is in the entry's affected set, straight from the OSV
    /// definition (any range, or the explicit list).
    fn affected_by(a: &Affected, eco: &str, v: &str) -> bool {
        let c = a.compile(eco);
        let parsed = c.scheme.and_then(|s| AnyVersion::parse(s, v).ok());
        a.versions.iter().any(|x| x == v)
            || c.ranges.iter().any(|r| r.contains_str(v).unwrap_or(false))
            || parsed.is_some_and(|p| {
                a.versions.iter().any(|x| {
                    c.scheme
                        .and_then(|s| AnyVersion::parse(s, x).ok())
                        .is_some_and(|q| q.partial_cmp_same(&p) == Some(std::cmp::Ordering::Equal))
                })
            })
    }

    /// Dropping covered versions keeps every entry's affected set: checked
    /// on every PyPI and npm advisory here, at every version they list and
    /// name, and it does drop most of PyPI's lists.
    #[test]
    fn dropping_covered_versions_keeps_the_affected_set() {
        for (eco, zip) in [
            ("PyPI", "vulndata/osv/PyPI/all.zip"),
            ("npm", "vulndata/osv/npm/all.zip"),
        ] {
            let Some(zip) = bosun_testutil::shared(zip) else {
                return;
            };
            let (mut before, mut after, mut probes) = (0usize, 0usize, 0usize);
            crate::feed::osv::read_zip(&zip, "osv", &mut |adv| {
                for a in adv.affected {
                    let mut pruned = a.clone();
                    pruned.drop_covered_versions(eco);
                    before += a.versions.len();
                    after += pruned.versions.len();
                    let named = a.ranges.iter().flat_map(|r| &r.events).map(|e| e.parts().1);
                    for v in a
                        .versions
                        .iter()
                        .map(String::as_str)
                        .chain(named)
                        .chain(["0.0.1", "999"])
                    {
                        assert_eq!(
                            affected_by(&a, eco, v),
                            affected_by(&pruned, eco, v),
                            "{} {} at {v}",
                            adv.id,
                            a.name
                        );
                        probes += 1;
                    }
                }
            })
            .unwrap_or_else(|e| panic!("{e}"));
            assert!(probes > 100, "{eco}: {probes} probes");
            if eco == "PyPI" {
                assert!(after * 2 < before, "PyPI: {before} versions, {after} kept");
            }
        }
    }

    #[test]
    fn pep503_normalisation() {
        assert_eq!(normalize_name("PyPI", "Django"), "django");
        assert_eq!(normalize_name("PyPI", "zope.interface"), "zope-interface");
        assert_eq!(normalize_name("PyPI", "Foo__Bar-.baz"), "foo-bar-baz");
        assert_eq!(normalize_name("npm", "@Scope/Pkg"), "@Scope/Pkg");
    }

    #[test]
    fn severity_order_and_labels() {
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Unknown);
        assert_eq!(Severity::parse_label("MODERATE"), Some(Severity::Medium));
        assert_eq!(
            Severity::parse_label("unimportant"),
            Some(Severity::Negligible)
        );
        assert_eq!(Severity::from_cvss_score(9.8), Severity::Critical);
        assert_eq!(Severity::from_cvss_score(0.0), Severity::Unknown);
    }
}
