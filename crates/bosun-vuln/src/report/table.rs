//! The terminal table: one header line (target, distro, counts), then the
//! findings grouped by package, then the suppressed count and the notices.
//!
//! ```text
//! oci:app:latest (Debian GNU/Linux 12 (bookworm)): 3 vulnerabilities (CRITICAL 1, HIGH 1, ...)
//!
//! Django 2.2 (pypi)
//!   CVE-2019-14234 (+2)  CRITICAL  fixed 2.2.4 (+1)  KEV  SQL injection in key lookups
//! ```
//!
//! Only ASCII is used for the layout; every cell is cleaned with
//! [`one_line`] and bounded, so hostile advisory text can neither move the
//! cursor nor stretch the table.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};

use bosun_vulndb::Severity;

use super::{Options, ReportError, SEVERITIES, counts, one_line, ordered};
use crate::finding::{Finding, Issue, IssueKind, Report, Status};

const INDENT: &str = "  ";
const GAP: &str = "  ";
/// Longest id, version or target cell; longer ones are cut.
const MAX_CELL: usize = 40;
/// Title length when the terminal width is not known.
const DEFAULT_TITLE: usize = 80;
/// The title never gets narrower than this, even on a narrow terminal.
const MIN_TITLE: usize = 20;
const MAX_NOTICE: usize = 300;

struct Row<'a> {
    id: String,
    severity: Severity,
    status: String,
    kev: bool,
    title: &'a str,
}

pub(super) fn write(report: &Report, opts: &Options, w: &mut dyn Write) -> Result<(), ReportError> {
    let mut out = BufWriter::new(w);
    writeln!(out, "{}", header(report))?;

    // Groups in the order of their most severe finding, since `ordered`
    // puts the most severe first.
    let mut groups: Vec<(String, Vec<Row<'_>>)> = Vec::new();
    let mut firsts: Vec<&Finding> = Vec::new();
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for f in ordered(&report.findings) {
        let i = *index.entry(f.package.id.as_str()).or_insert_with(|| {
            groups.push((group_title(f), Vec::new()));
            firsts.push(f);
            groups.len() - 1
        });
        if let Some(g) = groups.get_mut(i) {
            g.1.push(row(f));
        }
    }
    // Two packages of the same name and version (two copies of a jar):
    // their locations tell them apart.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (title, _) in &groups {
        *seen.entry(title.clone()).or_default() += 1;
    }
    for ((title, _), f) in groups.iter_mut().zip(&firsts) {
        if seen.get(title.as_str()).is_some_and(|n| *n > 1)
            && let Some(place) = location(f)
        {
            title.push_str(&format!(" at {place}"));
        }
    }

    let rows = || groups.iter().flat_map(|g| g.1.iter());
    let id_w = rows().map(|r| r.id.chars().count()).max().unwrap_or(0);
    let sev_w = rows().map(|r| r.severity.as_str().len()).max().unwrap_or(0);
    let status_w = rows().map(|r| r.status.chars().count()).max().unwrap_or(0);
    let any_kev = rows().any(|r| r.kev);
    let kev_w = if any_kev { "KEV".len() + GAP.len() } else { 0 };
    let used = INDENT.len() + id_w + sev_w + status_w + 3 * GAP.len() + kev_w;
    let title_w = opts
        .width
        .map_or(DEFAULT_TITLE, |w| w.saturating_sub(used).max(MIN_TITLE));

    if groups.is_empty() && vulns_scanned(report) {
        writeln!(out)?;
        writeln!(out, "No vulnerabilities found.")?;
    }
    for (title, rows) in &groups {
        writeln!(out)?;
        writeln!(out, "{title}")?;
        for r in rows {
            let sev = r.severity.as_str();
            let sev_pad = " ".repeat(sev_w - sev.len());
            let sev = match (opts.color, colour(r.severity)) {
                (true, Some(c)) => format!("\x1b[{c}m{sev}\x1b[0m"),
                _ => sev.to_string(),
            };
            let kev = match (any_kev, r.kev) {
                (false, _) => String::new(),
                (true, true) => format!("KEV{GAP}"),
                (true, false) => " ".repeat(kev_w),
            };
            let line = format!(
                "{INDENT}{:<id_w$}{GAP}{sev}{sev_pad}{GAP}{:<status_w$}{GAP}{kev}{}",
                r.id,
                r.status,
                one_line(r.title, title_w),
            );
            writeln!(out, "{}", line.trim_end())?;
        }
    }

    for (kind, heading) in [
        (IssueKind::Secret, "Secrets"),
        (IssueKind::Misconfig, "Misconfigurations"),
        (IssueKind::Analysis, "Analysis"),
    ] {
        let issues: Vec<&Issue> = super::ordered_issues(&report.issues)
            .into_iter()
            .filter(|i| i.kind == kind)
            .collect();
        if issues.is_empty() {
            continue;
        }
        writeln!(out)?;
        writeln!(out, "{heading} ({})", issues.len())?;
        let rule_w = issues
            .iter()
            .map(|i| i.rule_id.chars().count())
            .max()
            .unwrap_or(0);
        for i in issues {
            let sev = i.severity.as_str();
            let sev = match (opts.color, colour(i.severity)) {
                (true, Some(c)) => format!("\x1b[{c}m{sev:<8}\x1b[0m"),
                _ => format!("{sev:<8}"),
            };
            let mut place = one_line(&i.path, 80);
            if let Some(l) = i.line {
                place.push_str(&format!(":{l}"));
            }
            if let Some(n) = i.layer_index {
                place.push_str(&format!(
                    " (layer {n}{})",
                    if i.deleted { ", deleted later" } else { "" }
                ));
            }
            let detail = match &i.redacted {
                Some(r) => one_line(r, 40),
                None => one_line(
                    if i.message.is_empty() {
                        &i.title
                    } else {
                        &i.message
                    },
                    title_w,
                ),
            };
            let line = format!(
                "{INDENT}{sev}{GAP}{:<rule_w$}{GAP}{place}{GAP}{detail}",
                one_line(&i.rule_id, 64)
            );
            writeln!(out, "{}", line.trim_end())?;
        }
    }

    if !report.suppressed.is_empty() {
        let mut by: BTreeMap<String, usize> = BTreeMap::new();
        for f in &report.suppressed {
            let key = f.suppressed.as_ref().map_or("unknown", |s| s.by.as_str());
            *by.entry(one_line(key, MAX_CELL)).or_default() += 1;
        }
        let by: Vec<String> = by.iter().map(|(k, n)| format!("{k} {n}")).collect();
        writeln!(out)?;
        writeln!(
            out,
            "{} suppressed ({})",
            report.suppressed.len(),
            by.join(", ")
        )?;
    }
    if !report.notices.is_empty() {
        writeln!(out)?;
        for n in &report.notices {
            writeln!(
                out,
                "notice [{}]: {}",
                one_line(&n.kind, MAX_CELL),
                one_line(&n.message, MAX_NOTICE)
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

/// A scan that used a database names its sources (a database always has
/// one); `--scanners` without `vuln` opens none.
fn vulns_scanned(report: &Report) -> bool {
    !report.db.sources.is_empty()
}

fn header(report: &Report) -> String {
    let target = one_line(&report.sbom.source.target, 2 * MAX_CELL);
    let distro = report.sbom.distro.as_ref().map(|d| {
        let name = match (&d.pretty_name, &d.version_id) {
            (Some(p), _) => p.clone(),
            (None, Some(v)) => format!("{} {v}", d.id),
            (None, None) => d.id.clone(),
        };
        format!(" ({})", one_line(&name, MAX_CELL))
    });
    if !vulns_scanned(report) {
        return format!(
            "{target}{}: vulnerabilities not scanned",
            distro.unwrap_or_default()
        );
    }
    let n = report.findings.len();
    let counts = counts(&report.findings);
    let per: Vec<String> = SEVERITIES
        .iter()
        .zip(counts)
        .map(|(s, c)| format!("{s} {c}"))
        .collect();
    format!(
        "{target}{}: {n} {} ({})",
        distro.unwrap_or_default(),
        if n == 1 {
            "vulnerability"
        } else {
            "vulnerabilities"
        },
        per.join(", ")
    )
}

fn group_title(f: &Finding) -> String {
    format!(
        "{} {} ({})",
        one_line(&f.package.name, 2 * MAX_CELL),
        one_line(&f.installed_version, MAX_CELL),
        f.package.kind.purl_type()
    )
}

/// Where a package was found: its first location (`(+n)` for more),
/// cleaned and bounded.
fn location(f: &Finding) -> Option<String> {
    let (first, rest) = f.package.locations.split_first()?;
    let mut s = one_line(&first.path, 2 * MAX_CELL);
    if !rest.is_empty() {
        s.push_str(&format!(" (+{})", rest.len()));
    }
    Some(s)
}

fn row(f: &Finding) -> Row<'_> {
    let mut id = one_line(&f.id, MAX_CELL);
    if !f.aliases.is_empty() {
        id.push_str(&format!(" (+{})", f.aliases.len()));
    }
    let status = match (f.status, f.fixed_versions.as_slice()) {
        (Status::Fixed, [first, rest @ ..]) => {
            let more = if rest.is_empty() {
                String::new()
            } else {
                format!(" (+{})", rest.len())
            };
            format!("fixed {}{more}", one_line(first, MAX_CELL))
        }
        (s, _) => s.as_str().to_string(),
    };
    Row {
        id,
        severity: f.severity,
        status,
        kev: f.kev.is_some(),
        title: f.summary.as_deref().unwrap_or_default(),
    }
}

/// SGR parameters per severity; unknown and negligible stay plain.
fn colour(s: Severity) -> Option<&'static str> {
    match s {
        Severity::Critical => Some("1;31"),
        Severity::High => Some("31"),
        Severity::Medium => Some("33"),
        Severity::Low => Some("36"),
        Severity::Negligible | Severity::Unknown => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ignore::tests::{finding, report};

    /// Two copies of one jar: same name and version, different ids; the
    /// rows say where each one is. Unique rows stay as they were.
    #[test]
    fn same_name_and_version_rows_show_the_location() {
        let mut a = finding(
            "CVE-2022-1471",
            &[],
            "snakeyaml",
            "pkg:maven/org.yaml/snakeyaml@1.33",
        );
        let mut b = a.clone();
        a.package.id = "jar-1".into();
        a.package.locations[0].path = "/app/lib/snakeyaml-1.33.jar".into();
        b.package.id = "jar-2".into();
        b.package.locations[0].path = "/opt/tool/snakeyaml-1.33.jar".into();
        let other = finding("CVE-2023-1", &[], "zlib", "pkg:deb/debian/zlib@1.0");
        let mut out = Vec::new();
        write(&report(vec![a, b, other]), &Options::default(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("snakeyaml 1.0 (deb) at /app/lib/snakeyaml-1.33.jar"),
            "{text}"
        );
        assert!(
            text.contains("snakeyaml 1.0 (deb) at /opt/tool/snakeyaml-1.33.jar"),
            "{text}"
        );
        assert!(text.lines().any(|l| l == "zlib 1.0 (deb)"), "{text}");
    }
}
