//! What a scan reports: one [`Finding`] per vulnerability and package.

use bosun_core::{Location, PackageKind};
use bosun_sbom::Sbom;
use bosun_vulndb::{Epss, KevEntry, Score, Severity};
use serde::{Deserialize, Serialize};

/// Whether a fix exists, as the data says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// A fixed version exists (in `fixed_versions`).
    Fixed,
    /// Affected and no fix published yet.
    Unfixed,
    /// The distribution decided not to fix it (Debian `no-dsa`, `ignored`...).
    WontFix,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Fixed => "fixed",
            Status::Unfixed => "unfixed",
            Status::WontFix => "wont-fix",
        }
    }
}

/// How the package was tied to the advisory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchKind {
    /// The package's own name in its ecosystem.
    ExactPackage,
    /// An OS binary package through its source package (dpkg `Source:`,
    /// rpm source RPM, apk origin) in the distro release's ecosystem.
    SourcePackage,
    /// The Go standard library, by the toolchain version a binary was built with.
    GoStdlib,
}

/// The package a finding is about, as it appears in the SBOM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRef {
    /// The SBOM's package id (CycloneDX `bom-ref`).
    pub id: String,
    pub name: String,
    pub version: String,
    pub kind: PackageKind,
    pub purl: String,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub locations: Vec<Location>,
}

/// How the match was made, for "why is this reported?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchDetail {
    pub kind: MatchKind,
    /// The ecosystem searched (`Debian:12`, `PyPI`).
    pub ecosystem: String,
    /// The name searched (the source package for `SourcePackage`).
    pub name: String,
    /// The version compared (the source version for `SourcePackage`).
    pub version: String,
}

/// Why a finding is not counted: an ignore-file entry or a VEX statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// `ignore-file` or `vex`.
    pub by: String,
    /// The ignore entry's reason, or the VEX status and justification.
    pub reason: String,
    /// The file the rule came from.
    pub source: String,
}

/// One vulnerability in one package. Advisories that share an alias
/// (a CVE and its GHSA, PYSEC, DSA...) are merged into one finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The id shown first: the CVE when the vulnerability has exactly one,
    /// else the advisory's own id.
    pub id: String,
    /// Every other id of the same vulnerability, sorted.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub aliases: Vec<String>,
    pub package: PackageRef,
    pub installed_version: String,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub fixed_versions: Vec<String>,
    pub status: Status,
    /// Where the status came from when a distribution stated it
    /// (`debian-tracker: no-dsa (Minor issue)`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status_note: Option<String>,
    pub severity: Severity,
    /// What the severity was taken from (`CVSS_V3 osv-PyPI`, `GitHub label`).
    pub severity_source: String,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub scores: Vec<Score>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub kev: Option<KevEntry>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub epss: Option<Epss>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub references: Vec<String>,
    /// CWE ids (`CWE-79`) the advisories name.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub cwes: Vec<String>,
    /// The earliest publication and latest modification among the merged
    /// advisories (RFC 3339, as published).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub published: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub modified: Option<String>,
    /// The database sources the merged advisories came from.
    pub data_sources: Vec<String>,
    #[serde(rename = "match")]
    pub matched: MatchDetail,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub suppressed: Option<Suppression>,
}

impl Finding {
    /// The documented report order: most severe first, then package name,
    /// version and id, then vulnerability id.
    pub fn report_order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.package.name.cmp(&b.package.name))
            .then_with(|| a.package.version.cmp(&b.package.version))
            .then_with(|| a.package.id.cmp(&b.package.id))
            .then_with(|| a.id.cmp(&b.id))
    }

    /// Every id of the vulnerability: `id` then the aliases.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// Which scanner found an [`Issue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IssueKind {
    Secret,
    Misconfig,
    /// About the scan itself: a limit that left part of the image
    /// unanalysed (`incomplete-analysis`), or a layer entry no honest tool
    /// writes (`suspicious-layer-entry`). Reported whatever scanners ran.
    Analysis,
}

/// A finding of the secret or misconfiguration scanner: a rule that fired
/// at a place in the image (a file in a layer, a config field, a history
/// entry), not a vulnerability of a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    pub kind: IssueKind,
    /// The rule's stable id (`aws-access-key-id`, `BOSUN-IMG-001`).
    pub rule_id: String,
    pub severity: Severity,
    pub title: String,
    /// What exactly is wrong here (never a secret's value).
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub message: String,
    /// A file's absolute path inside the image, or `config.Env`,
    /// `config.User`, `history[3].created_by`...
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line: Option<usize>,
    /// The layer (diff_id) holding the file, and its index.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub layer: Option<bosun_core::Digest>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub layer_index: Option<usize>,
    /// A later layer deleted or replaced the file: the secret still ships
    /// in the layer blob.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub deleted: bool,
    /// For secrets: a short prefix and `****`, never the value.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub redacted: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub why: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub fix: Option<String>,
}

/// A note about the ignore file or VEX input the user should see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// `expired-ignore`, `stale-ignore`, `stale-vex`, `db-stale`...
    pub kind: String,
    pub message: String,
}

/// The database a scan used, as `db status` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbInfo {
    /// RFC 3339 UTC.
    pub built: String,
    pub schema_version: u32,
    pub sources: Vec<String>,
}

/// Everything every report format renders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The SBOM scanned (from the image, the directory or the `sbom:` file).
    pub sbom: Sbom,
    pub db: DbInfo,
    /// Findings still counted, sorted by severity (most severe first),
    /// then package, then id.
    pub findings: Vec<Finding>,
    /// Findings an ignore entry or VEX statement suppressed.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub suppressed: Vec<Finding>,
    /// Secrets and misconfigurations, when those scanners ran.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub issues: Vec<Issue>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub notices: Vec<Notice>,
}
