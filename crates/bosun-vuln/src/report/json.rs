//! bosun's own scan document, `bosun-scan/1` (documented in JSON-FORMAT.md):
//! the report model serialised as is, with the target cut down to what
//! identifies it and a per-severity summary.

use std::io::Write;

use bosun_core::{Digest, Distro};
use bosun_sbom::SourceKind;
use serde::Serialize;

use super::{Options, ReportError, counts, ordered};
use crate::finding::{DbInfo, Finding, Issue, Notice, Report};

/// The value of the top-level `schema` field.
pub const SCHEMA: &str = "bosun-scan/1";

#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    target: Target<'a>,
    distro: Option<&'a Distro>,
    db: &'a DbInfo,
    findings: Vec<&'a Finding>,
    suppressed: Vec<&'a Finding>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    issues: Vec<&'a Issue>,
    notices: &'a [Notice],
    summary: Summary,
}

#[derive(Serialize)]
struct Target<'a> {
    kind: SourceKind,
    target: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    manifest_digest: Option<&'a Digest>,
}

#[derive(Serialize)]
struct Summary {
    total: usize,
    critical: usize,
    high: usize,
    medium: usize,
    low: usize,
    negligible: usize,
    unknown: usize,
    suppressed: usize,
}

pub(super) fn write(report: &Report, opts: &Options, w: &mut dyn Write) -> Result<(), ReportError> {
    let source = &report.sbom.source;
    let [critical, high, medium, low, negligible, unknown] = counts(&report.findings);
    let doc = Doc {
        schema: SCHEMA,
        target: Target {
            kind: source.kind,
            target: &source.target,
            name: &source.name,
            version: source.version.as_deref(),
            manifest_digest: source
                .image
                .as_ref()
                .and_then(|i| i.manifest_digest.as_ref()),
        },
        distro: report.sbom.distro.as_ref(),
        db: &report.db,
        findings: ordered(&report.findings),
        suppressed: ordered(&report.suppressed),
        issues: super::ordered_issues(&report.issues),
        notices: &report.notices,
        summary: Summary {
            total: report.findings.len(),
            critical,
            high,
            medium,
            low,
            negligible,
            unknown,
            suppressed: report.suppressed.len(),
        },
    };
    emit(&doc, opts, w)
}

/// `doc` as one JSON document and a newline (bosun-sbom's shared writer).
pub(super) fn emit<T: Serialize>(
    doc: &T,
    opts: &Options,
    w: &mut dyn Write,
) -> Result<(), ReportError> {
    Ok(bosun_sbom::json::write_json_line(doc, opts.pretty, w)?)
}
