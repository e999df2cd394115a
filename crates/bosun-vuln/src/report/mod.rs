//! The renderings of a scan [`Report`]: a terminal table, bosun's own JSON
//! (`bosun-scan/1`, see JSON-FORMAT.md), SARIF 2.1.0 for code scanning and
//! CycloneDX 1.6 (the SBOM with its `vulnerabilities`).
//!
//! Every string in a report comes from advisory feeds or image metadata and
//! may be hostile: the table strips control and bidirectional-override
//! characters and bounds lengths; the JSON formats keep the text (serde
//! escapes it) but one-line fields (titles, messages) are cleaned the same way.

mod cyclonedx;
mod json;
mod sarif;
mod table;

use std::fmt;
use std::io::Write;
use std::str::FromStr;

use bosun_vulndb::Severity;

use crate::finding::{Finding, Report};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("unknown report format {0:?} (expected table, json, sarif or cyclonedx-json)")]
    UnknownFormat(String),
    #[error("rendering the SBOM part of the report")]
    Sbom(#[from] bosun_sbom::SbomError),
    #[error("the CycloneDX SBOM writer gave {0}, not a JSON object")]
    NotAnObject(&'static str),
    #[error("encoding the report as JSON")]
    Json(#[from] serde_json::Error),
    #[error("writing the report")]
    Io(#[from] std::io::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Table,
    Json,
    Sarif,
    CycloneDxJson,
}

impl Format {
    pub const ALL: [Format; 4] = [
        Format::Table,
        Format::Json,
        Format::Sarif,
        Format::CycloneDxJson,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::CycloneDxJson => "cyclonedx-json",
        }
    }
}

impl FromStr for Format {
    type Err = ReportError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| ReportError::UnknownFormat(s.chars().take(64).collect()))
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// ANSI colour by severity in the table; ignored by the JSON formats.
    pub color: bool,
    /// Indent JSON output.
    pub pretty: bool,
    /// Terminal width for the table (titles are cut to fit); None: a fixed
    /// title length.
    pub width: Option<usize>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            color: false,
            pretty: true,
            width: None,
        }
    }
}

/// Render `report` in `format`.
pub fn write(
    report: &Report,
    format: Format,
    opts: &Options,
    w: &mut dyn Write,
) -> Result<(), ReportError> {
    match format {
        Format::Table => table::write(report, opts, w),
        Format::Json => json::write(report, opts, w),
        Format::Sarif => sarif::write(report, opts, w),
        Format::CycloneDxJson => cyclonedx::write(report, opts, w),
    }
}

/// Issues most severe first, then by kind, rule, path and line.
pub(crate) fn ordered_issues(issues: &[crate::finding::Issue]) -> Vec<&crate::finding::Issue> {
    let mut v: Vec<&crate::finding::Issue> = issues.iter().collect();
    v.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.rule_id.cmp(&b.rule_id))
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.line.cmp(&b.line))
            .then_with(|| a.layer_index.cmp(&b.layer_index))
    });
    v
}

/// Severities from most to least severe, the order counts are shown in.
pub(crate) const SEVERITIES: [Severity; 6] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Negligible,
    Severity::Unknown,
];

/// How many findings have each severity, in [`SEVERITIES`] order.
pub(crate) fn counts(findings: &[Finding]) -> [usize; 6] {
    let mut n = [0; 6];
    for f in findings {
        if let Some(i) = SEVERITIES.iter().position(|s| *s == f.severity) {
            n[i] += 1;
        }
    }
    n
}

/// Findings in the documented order (most severe first, then package name,
/// version and id, then vulnerability id), whatever order the report has:
/// the same report always renders the same bytes.
pub(crate) fn ordered(findings: &[Finding]) -> Vec<&Finding> {
    let mut v: Vec<&Finding> = findings.iter().collect();
    v.sort_by(|a, b| Finding::report_order(a, b));
    v
}

/// Advisory text for a place that wants one line, cleaned of terminal
/// escapes, controls and invisible characters and bounded: the one
/// cleaner all of bosun uses.
pub(crate) use bosun_core::text::one_line;

/// A URL from advisory data that may go into a `format: uri` field:
/// http(s), printable ASCII with no characters URIs forbid.
pub(crate) fn plain_url(s: &str) -> Option<&str> {
    let ok = (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() > "https://".len()
        && s.len() <= 2048
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !b"\"<>\\^`{|}".contains(&b));
    ok.then_some(s)
}

/// Percent-encodes everything but RFC 3986 unreserved characters, for ids
/// put into URLs.
pub(crate) fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where a vulnerability id is published, by its prefix: (source name, URL).
pub(crate) fn id_source(id: &str) -> (&'static str, String) {
    let e = encode_component(id);
    let upper = id.to_ascii_uppercase();
    if upper.starts_with("CVE-") {
        ("NVD", format!("https://nvd.nist.gov/vuln/detail/{e}"))
    } else if upper.starts_with("GHSA-") {
        (
            "GitHub Advisory Database",
            format!("https://github.com/advisories/{e}"),
        )
    } else if ["DSA-", "DLA-", "DTSA-", "TEMP-"]
        .iter()
        .any(|p| upper.starts_with(p))
    {
        (
            "Debian Security Tracker",
            format!("https://security-tracker.debian.org/tracker/{e}"),
        )
    } else {
        ("OSV", format!("https://osv.dev/vulnerability/{e}"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>().unwrap(), f);
            assert_eq!(f.to_string(), f.name());
        }
        assert!("cyclonedx".parse::<Format>().is_err());
    }

    #[test]
    fn plain_url_rejects_hostile_references() {
        assert!(plain_url("https://example.com/a?b=c#d").is_some());
        for bad in [
            "javascript:alert(1)",
            "https://a b",
            "https://x/\u{1b}",
            "https://",
            "ftp://x",
        ] {
            assert!(plain_url(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn id_sources() {
        assert_eq!(
            id_source("CVE-2021-1").1,
            "https://nvd.nist.gov/vuln/detail/CVE-2021-1"
        );
        assert_eq!(
            id_source("PYSEC-1/x").1,
            "https://osv.dev/vulnerability/PYSEC-1%2Fx"
        );
        assert_eq!(id_source("DSA-5532-1").0, "Debian Security Tracker");
    }
}
