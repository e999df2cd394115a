//! Rendering a [`Report`]: table (grouped by file), JSON (documented in
//! JSON-FORMAT.md) and SARIF 2.1.0.

use std::collections::BTreeMap;
use std::io::Write;

use bosun_core::text::clean;
use serde_json::{Value, json};

use crate::{Report, Severity, rules};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Sarif,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "sarif" => Ok(Format::Sarif),
            _ => Err(format!("unknown format {s:?} (table, json, sarif)")),
        }
    }
}

/// Version of the JSON document layout.
pub const JSON_SCHEMA_VERSION: u32 = 1;

pub fn write(
    report: &Report,
    format: Format,
    color: bool,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Table => table(report, color, w),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *w, &to_json(report))?;
            writeln!(w)
        }
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut *w, &to_sarif(report))?;
            writeln!(w)
        }
    }
}

pub fn to_json(report: &Report) -> Value {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &report.findings {
        *counts.entry(f.severity.as_str()).or_default() += 1;
    }
    json!({
        "schema_version": JSON_SCHEMA_VERSION,
        "tool": {"name": "bosun", "version": env!("CARGO_PKG_VERSION")},
        "checked": report.checked,
        "findings": report.findings,
        "skipped": report.skipped,
        "notes": report.notes,
        "summary": counts,
    })
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        _ => "note",
    }
}

/// GitHub code scanning ranks by this numeric `security-severity`.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        _ => "2.0",
    }
}

/// A relative URI reference for a path: forward slashes, no leading `./`,
/// and the characters URIs reserve percent-encoded.
fn uri(path: &str) -> String {
    let p = path.replace('\\', "/");
    let p = p.strip_prefix("./").unwrap_or(&p);
    // Absolute paths (not under the current directory) become file URIs.
    let mut out = if p.starts_with('/') {
        "file://".to_string()
    } else {
        String::new()
    };
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn to_sarif(report: &Report) -> Value {
    let mut used: Vec<&str> = report.findings.iter().map(|f| f.rule_id.as_str()).collect();
    used.sort_unstable();
    used.dedup();
    let rule_list: Vec<&rules::Rule> = used.iter().filter_map(|id| rules::rule(id)).collect();
    let sarif_rules: Vec<Value> = rule_list
        .iter()
        .map(|r| {
            let mut tags = vec!["security", "misconfiguration"];
            if let Some(p) = r.profile {
                tags.push(p.as_str());
            }
            json!({
                "id": r.id,
                "name": r.title,
                "shortDescription": {"text": r.title},
                "fullDescription": {"text": r.why},
                "help": {
                    "text": format!("{}\nFix: {}", r.why, r.fix),
                    "markdown": format!("**Why:** {}\n\n**Fix:** {}\n\n[Reference]({})", r.why, r.fix, r.help_url),
                },
                "helpUri": r.help_url,
                "defaultConfiguration": {"level": level(r.severity)},
                "properties": {"tags": tags, "security-severity": security_severity(r.severity)},
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let idx = rule_list
                .iter()
                .position(|r| r.id == f.rule_id)
                .unwrap_or(0);
            let mut phys = json!({"artifactLocation": {"uri": uri(&f.location.file)}});
            if let Some(l) = f.location.line {
                phys["region"] = json!({"startLine": l.max(1)});
            }
            let mut loc = json!({"physicalLocation": phys});
            let logical: Vec<Value> = [f.location.object.as_deref(), f.location.path.as_deref()]
                .into_iter()
                .flatten()
                .map(|n| json!({"fullyQualifiedName": n}))
                .collect();
            if !logical.is_empty() {
                loc["logicalLocations"] = Value::Array(logical);
            }
            json!({
                "ruleId": f.rule_id,
                "ruleIndex": idx,
                "level": level(f.severity),
                "message": {"text": format!("{}: {}", f.title, f.message)},
                "locations": [loc],
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "bosun",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://example.invalid/bosun",
                "rules": sarif_rules,
            }},
            "originalUriBaseIds": {"SRCROOT": {"uri": "./"}},
            "results": results,
        }],
    })
}

fn paint(color: bool, s: Severity, text: &str) -> String {
    if !color {
        return text.to_string();
    }
    let code = match s {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        _ => "36",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

fn table(report: &Report, color: bool, w: &mut dyn Write) -> std::io::Result<()> {
    let mut by_file: BTreeMap<&str, Vec<&crate::Finding>> = BTreeMap::new();
    for f in &report.findings {
        by_file.entry(&f.location.file).or_default().push(f);
    }
    for (file, fs) in &by_file {
        // File names, object names and messages quote the inputs: no
        // terminal escapes or line breaks from them (bosun-core `text`).
        writeln!(w, "{} ({} findings)", clean(file), fs.len())?;
        for f in fs {
            let line = f
                .location
                .line
                .map(|l| l.to_string())
                .unwrap_or_else(|| "-".into());
            let sev = format!("{:<8}", f.severity.as_str());
            let profile = f
                .profile
                .map(|p| format!(" [{}]", p.as_str()))
                .unwrap_or_default();
            writeln!(
                w,
                "  {line:>5}  {}  {:<20} {}{profile}",
                paint(color, f.severity, &sev),
                clean(&f.rule_id),
                clean(&f.title)
            )?;
            let object = f
                .location
                .object
                .as_deref()
                .map(|o| format!("{}: ", clean(o)))
                .unwrap_or_default();
            writeln!(w, "         {object}{}", clean(&f.message))?;
            writeln!(w, "         fix: {}", clean(&f.fix))?;
        }
        writeln!(w)?;
    }
    for s in &report.skipped {
        writeln!(w, "skipped {}: {}", clean(&s.file), clean(&s.reason))?;
    }
    for n in &report.notes {
        writeln!(w, "note {}: {}", clean(&n.file), clean(&n.message))?;
    }
    let mut counts: BTreeMap<Severity, usize> = BTreeMap::new();
    for f in &report.findings {
        *counts.entry(f.severity).or_default() += 1;
    }
    let summary: Vec<String> = counts
        .iter()
        .rev()
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect();
    writeln!(
        w,
        "files checked: {}, findings: {}{}{}",
        report.checked.len(),
        report.findings.len(),
        if summary.is_empty() {
            String::new()
        } else {
            format!(" ({})", summary.join(", "))
        },
        if report.skipped.is_empty() {
            String::new()
        } else {
            format!(", {} skipped", report.skipped.len())
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_and_encoded() {
        assert_eq!(uri("./k8s/my app.yaml"), "k8s/my%20app.yaml");
        assert_eq!(uri("a\\b#c"), "a/b%23c");
    }
}
