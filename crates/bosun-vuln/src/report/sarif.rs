//! SARIF 2.1.0, shaped for GitHub code scanning: one rule per vulnerability
//! id, one result per finding (suppressed ones carry a `suppressions` entry,
//! which code scanning shows as dismissed).
//!
//! - `properties.security-severity` is the CVSS base score when one agrees
//!   with the finding's severity, else a number inside that severity's CVSS
//!   band, so code scanning ranks findings as the table does. Unknown
//!   severity has none.
//! - Locations are the package's first location path made relative (code
//!   scanning resolves URIs against the repository), else the scan target.
//! - `partialFingerprints["bosunFinding/v1"]` hashes the vulnerability id,
//!   package type, name and location, not the version: the alert stays the
//!   same one across runs and upgrades that do not fix it.

use std::collections::BTreeMap;
use std::io::Write;

use bosun_core::Digest;
use bosun_vulndb::Severity;
use serde_json::{Value, json};

use super::{Options, ReportError, id_source, one_line, ordered, plain_url};
use crate::finding::{Finding, Issue, IssueKind, Report, Status};

const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const SHORT: usize = 200;
const FULL: usize = 4000;
/// Rows and references kept in a rule's help: a CVE can hit hundreds of
/// packages of one image, and help is shown on one page.
const MAX_HELP_ROWS: usize = 50;
const MAX_REFERENCES: usize = 20;

pub(super) fn write(report: &Report, opts: &Options, w: &mut dyn Write) -> Result<(), ReportError> {
    let mut all = ordered(&report.findings);
    all.extend(ordered(&report.suppressed));

    // Rules in the order their id first appears, findings grouped under them.
    let mut rule_of: BTreeMap<&str, usize> = BTreeMap::new();
    let mut groups: Vec<Vec<&Finding>> = Vec::new();
    for f in &all {
        let i = *rule_of.entry(f.id.as_str()).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        if let Some(g) = groups.get_mut(i) {
            g.push(f);
        }
    }
    let mut rules: Vec<Value> = groups.iter().map(|g| rule(g)).collect();
    let mut results: Vec<Value> = all
        .iter()
        .map(|f| result(f, rule_of.get(f.id.as_str()).copied().unwrap_or(0), report))
        .collect();
    // Secrets and misconfigurations: one rule per rule id, after the
    // vulnerabilities'.
    let mut issue_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for i in super::ordered_issues(&report.issues) {
        let index = *issue_rule.entry(i.rule_id.as_str()).or_insert_with(|| {
            rules.push(issue_rule_json(i));
            rules.len() - 1
        });
        results.push(issue_result(i, index));
    }

    let mut driver = json!({
        "name": "bosun",
        "version": env!("CARGO_PKG_VERSION"),
        "rules": rules,
    });
    // Only when the package states one: the field must be a URI.
    if let Some(uri) = plain_url(env!("CARGO_PKG_REPOSITORY")) {
        driver["informationUri"] = json!(uri);
    }
    let doc = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    });
    super::json::emit(&doc, opts, w)
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Negligible | Severity::Unknown => "note",
    }
}

/// The number code scanning ranks by (its bands: >= 9 critical, >= 7 high,
/// >= 4 medium, > 0 low).
/// > The middle of a severity's CVSS band, for results without a score.
fn band(s: Severity) -> Option<String> {
    let n = match s {
        Severity::Critical => 9.5,
        Severity::High => 8.0,
        Severity::Medium => 5.5,
        Severity::Low => 2.0,
        Severity::Negligible => 0.5,
        Severity::Unknown => return None,
    };
    Some(format!("{n:.1}"))
}

fn security_severity(f: &Finding) -> Option<String> {
    let scored = f
        .scores
        .iter()
        .filter_map(|s| s.base_score)
        .filter(|s| s.is_finite() && Severity::from_cvss_score(*s) == f.severity)
        .fold(None, |m: Option<f64>, s| Some(m.map_or(s, |m| m.max(s))));
    match scored {
        Some(s) => Some(format!("{s:.1}")),
        None => band(f.severity),
    }
}

/// `group` is every finding with one id, most severe first.
fn rule(group: &[&Finding]) -> Value {
    let Some(first) = group.first() else {
        return Value::Null;
    };
    let id = first.id.as_str();
    let summary = first.summary.as_deref().unwrap_or_default();
    let fallback = format!(
        "{} in {}",
        one_line(id, SHORT),
        one_line(&first.package.name, SHORT)
    );
    let short = Some(one_line(summary, SHORT))
        .filter(|s| !s.is_empty())
        .unwrap_or(fallback.clone());
    let full = Some(one_line(summary, FULL))
        .filter(|s| !s.is_empty())
        .unwrap_or(fallback);
    let references: Vec<&str> = first
        .references
        .iter()
        .filter_map(|r| plain_url(r))
        .take(MAX_REFERENCES)
        .collect();
    let help_uri = references
        .first()
        .map_or_else(|| id_source(id).1, |r| r.to_string());

    let aliases: Vec<String> = first.aliases.iter().map(|a| one_line(a, SHORT)).collect();
    let mut text = one_line(id, SHORT);
    let mut markdown = format!("**{}**", md(id, SHORT));
    if !aliases.is_empty() {
        text.push_str(&format!(" (also {})", aliases.join(", ")));
        let a: Vec<String> = first.aliases.iter().map(|a| md(a, SHORT)).collect();
        markdown.push_str(&format!(" (also {})", a.join(", ")));
    }
    text.push_str(&format!("\n\n{full}\n\nSeverity: {}", first.severity));
    markdown.push_str(&format!(
        "\n\n{}\n\nSeverity: **{}**",
        md(&full, FULL),
        first.severity
    ));
    if !first.severity_source.is_empty() {
        text.push_str(&format!(" ({})", one_line(&first.severity_source, SHORT)));
        markdown.push_str(&format!(" ({})", md(&first.severity_source, SHORT)));
    }
    text.push_str("\n\nPackage | Installed | Fixed in\n");
    markdown.push_str("\n\n| Package | Installed | Fixed in |\n| --- | --- | --- |\n");
    for f in group.iter().take(MAX_HELP_ROWS) {
        let fixed = fixed_text(f);
        text.push_str(&format!(
            "{} | {} | {}\n",
            one_line(&f.package.name, SHORT),
            one_line(&f.installed_version, SHORT),
            one_line(&fixed, SHORT)
        ));
        markdown.push_str(&format!(
            "| {} | {} | {} |\n",
            md(&f.package.name, SHORT),
            md(&f.installed_version, SHORT),
            md(&fixed, SHORT)
        ));
    }
    if group.len() > MAX_HELP_ROWS {
        let more = format!("... and {} more packages\n", group.len() - MAX_HELP_ROWS);
        text.push_str(&more);
        markdown.push_str(&format!("\n{more}"));
    }
    if !references.is_empty() {
        text.push_str("\nReferences:\n");
        markdown.push_str("\nReferences:\n\n");
        for r in &references {
            text.push_str(&format!("{r}\n"));
            // `plain_url` excludes `<` and `>`, so the autolink cannot be broken out of.
            markdown.push_str(&format!("- <{r}>\n"));
        }
    }

    let mut tags = vec!["security".to_string(), "vulnerability".to_string()];
    tags.push(first.severity.as_str().to_ascii_lowercase());
    tags.push(first.package.kind.purl_type().to_string());
    if first.kev.is_some() {
        tags.push("known-exploited".to_string());
    }
    let mut properties = json!({"tags": tags, "precision": "very-high"});
    if let Some(s) = security_severity(first) {
        properties["security-severity"] = Value::String(s);
    }
    json!({
        "id": id,
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "helpUri": help_uri,
        "help": {"text": text, "markdown": markdown},
        "defaultConfiguration": {"level": level(first.severity)},
        "properties": properties,
    })
}

fn fixed_text(f: &Finding) -> String {
    match f.status {
        Status::Fixed if !f.fixed_versions.is_empty() => f.fixed_versions.join(", "),
        Status::Fixed | Status::Unfixed => "no fix yet".to_string(),
        Status::WontFix => "will not be fixed".to_string(),
    }
}

fn result(f: &Finding, rule_index: usize, report: &Report) -> Value {
    let pkg = format!(
        "{} {} ({})",
        one_line(&f.package.name, SHORT),
        one_line(&f.installed_version, SHORT),
        f.package.kind.purl_type()
    );
    let mut message = format!("{pkg} is affected by {}", one_line(&f.id, SHORT));
    if let Some(s) = f
        .summary
        .as_deref()
        .map(|s| one_line(s, SHORT))
        .filter(|s| !s.is_empty())
    {
        message.push_str(&format!(": {s}"));
    }
    match f.status {
        Status::Fixed if !f.fixed_versions.is_empty() => {
            message.push_str(&format!(
                ". Fixed in {}.",
                one_line(&f.fixed_versions.join(", "), SHORT)
            ));
        }
        Status::Fixed | Status::Unfixed => message.push_str(". No fix is available yet."),
        Status::WontFix => message.push_str(". The distribution will not fix it."),
    }

    let path = f.package.locations.first().map(|l| l.path.as_str());
    let source = &report.sbom.source;
    let uri = [
        path,
        Some(source.target.as_str()),
        Some(source.name.as_str()),
    ]
    .into_iter()
    .flatten()
    .map(relative_uri)
    .find(|u| !u.is_empty())
    .unwrap_or_else(|| "sbom".to_string());
    let key = format!(
        "{}\0{}\0{}\0{}",
        f.id,
        f.package.kind.purl_type(),
        f.package.name,
        uri
    );
    let fingerprint = Digest::sha256_of(key.as_bytes()).hex().to_string();

    let mut out = json!({
        "ruleId": f.id,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": {"text": message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": uri},
            "region": {"startLine": 1},
        }}],
        "partialFingerprints": {"bosunFinding/v1": fingerprint},
        "properties": {
            "package": f.package.name,
            "installedVersion": f.installed_version,
            "purl": f.package.purl,
            "fixedVersions": f.fixed_versions,
            "status": f.status.as_str(),
            "knownExploited": f.kev.is_some(),
        },
    });
    if let Some(s) = &f.suppressed {
        out["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": format!("{} ({}): {}", one_line(&s.by, SHORT), one_line(&s.source, SHORT), one_line(&s.reason, FULL)),
        }]);
    }
    out
}

fn issue_rule_json(i: &Issue) -> Value {
    let why = i
        .why
        .as_deref()
        .map(|w| one_line(w, FULL))
        .unwrap_or_default();
    let fix = i
        .fix
        .as_deref()
        .map(|f| one_line(f, FULL))
        .unwrap_or_default();
    let kind = match i.kind {
        IssueKind::Secret => "secret",
        IssueKind::Misconfig => "misconfiguration",
        IssueKind::Analysis => "analysis",
    };
    let mut text = one_line(&i.title, FULL);
    for (label, part) in [("Why", &why), ("Fix", &fix)] {
        if !part.is_empty() {
            text.push_str(&format!("\n{label}: {part}"));
        }
    }
    json!({
        "id": i.rule_id,
        "name": one_line(&i.rule_id, SHORT),
        "shortDescription": {"text": one_line(&i.title, SHORT)},
        "fullDescription": {"text": if why.is_empty() { one_line(&i.title, FULL) } else { why.clone() }},
        "help": {"text": text, "markdown": md(&text, FULL * 2)},
        "defaultConfiguration": {"level": level(i.severity)},
        "properties": match band(i.severity) {
            Some(b) => json!({"tags": ["security", kind], "security-severity": b}),
            None => json!({"tags": ["security", kind]}),
        },
    })
}

fn issue_result(i: &Issue, rule_index: usize) -> Value {
    let uri = Some(relative_uri(&i.path))
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "image".to_string());
    let mut message = one_line(
        if i.message.is_empty() {
            &i.title
        } else {
            &i.message
        },
        FULL,
    );
    if let Some(r) = &i.redacted {
        message.push_str(&format!(" ({})", one_line(r, SHORT)));
    }
    if let Some(n) = i.layer_index {
        message.push_str(&format!(" in layer {n}"));
        if i.deleted {
            message.push_str(", deleted by a later layer but still in the image");
        }
    }
    let key = format!("{}\0{}\0{:?}\0{:?}", i.rule_id, i.path, i.line, i.layer);
    json!({
        "ruleId": i.rule_id,
        "ruleIndex": rule_index,
        "level": level(i.severity),
        "message": {"text": message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": uri},
            "region": {"startLine": i.line.unwrap_or(1).max(1)},
        }}],
        "partialFingerprints": {"bosunIssue/v1": Digest::sha256_of(key.as_bytes()).hex().to_string()},
    })
}

/// A path as a relative URI reference: no leading `/`, `.` and `..`
/// resolved (never above the root), and every byte outside the unreserved and path-safe sets
/// percent-encoded (`:` too, so the first segment never reads as a scheme).
fn relative_uri(path: &str) -> String {
    let mut segments = Vec::new();
    for seg in path.split('/') {
        if seg.is_empty() || seg == "." {
            continue;
        }
        if seg == ".." {
            segments.pop();
            continue;
        }
        let mut s = String::with_capacity(seg.len());
        for b in seg.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@".contains(&b) {
                s.push(char::from(b));
            } else {
                s.push_str(&format!("%{b:02X}"));
            }
        }
        segments.push(s);
    }
    segments.join("/")
}

/// Advisory text as one line of Markdown with every ASCII punctuation
/// character backslash-escaped (CommonMark allows it for all of them), so
/// hostile text cannot add links, images, HTML or table cells.
fn md(s: &str, max: usize) -> String {
    let mut out = String::new();
    for c in one_line(s, max).chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn relative_uris() {
        assert_eq!(
            relative_uri("/usr/lib/x.jar!/BOOT-INF/a b.jar"),
            "usr/lib/x.jar!/BOOT-INF/a%20b.jar"
        );
        assert_eq!(relative_uri("/../a/../../etc//./passwd"), "etc/passwd");
        assert_eq!(relative_uri("oci:img:latest"), "oci%3Aimg%3Alatest");
        assert_eq!(relative_uri("/"), "");
    }

    #[test]
    fn markdown_is_escaped() {
        assert_eq!(
            md("[x](javascript:1) | <b>", 80),
            "\\[x\\]\\(javascript\\:1\\) \\| \\<b\\>"
        );
    }
}
