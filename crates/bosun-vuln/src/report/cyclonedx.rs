//! CycloneDX 1.6: the SBOM as `bosun_sbom::cyclonedx` writes it, plus
//! `vulnerabilities`.
//!
//! - One vulnerability object per finding (CycloneDX allows repeated ids):
//!   the fix, the analysis and the distro's rating differ per package.
//! - `affects[].ref` is the package id, which is the component's bom-ref; a
//!   finding whose package is not in the SBOM gets a minimal component so
//!   the reference still resolves.
//! - Suppressed findings are included with an `analysis`. Its state and
//!   justification are read from the suppression reason when it names a VEX
//!   or CycloneDX value (`not_affected`, `vulnerable_code_not_in_execute_path`,
//!   `code_not_reachable`...); an ignore entry's free text only becomes
//!   `detail`. Versions of findings analysed as not affected, false
//!   positive or resolved are `unaffected`.
//! - The serial number is derived again from the SBOM's and the
//!   vulnerabilities' content: this is a different document from the SBOM.

use std::collections::BTreeSet;
use std::io::Write;

use bosun_core::Digest;
use bosun_sbom::WriteOptions;
use bosun_vulndb::{Score, Severity};
use serde_json::{Map, Value, json};

use super::{Options, ReportError, id_source, ordered, plain_url};
use crate::finding::{Finding, Report, Status, Suppression};

/// Longest version CycloneDX accepts (`definitions.version.maxLength`).
const MAX_VERSION: usize = 1024;

pub(super) fn write(report: &Report, opts: &Options, w: &mut dyn Write) -> Result<(), ReportError> {
    let mut buf = Vec::new();
    let sbom_opts = WriteOptions {
        pretty: false,
        color: false,
    };
    bosun_sbom::cyclonedx::write(&report.sbom, &sbom_opts, &mut buf)?;
    let mut doc: Value = serde_json::from_slice(&buf)?;

    let mut refs = BTreeSet::new();
    collect_refs(&doc, &mut refs);
    let Value::Object(map) = &mut doc else {
        return Err(ReportError::NotAnObject(kind(&doc)));
    };

    let mut all = ordered(&report.findings);
    all.extend(ordered(&report.suppressed));

    let mut added = Vec::new();
    for f in &all {
        let id = &f.package.id;
        if !id.is_empty() && refs.insert(id.clone()) {
            added.push(json!({
                "type": "library",
                "bom-ref": id,
                "name": f.package.name,
                "version": f.package.version,
                "purl": f.package.purl,
            }));
        }
    }
    if !added.is_empty() {
        match map.get_mut("components") {
            Some(Value::Array(c)) => c.extend(added),
            _ => {
                map.insert("components".into(), Value::Array(added));
            }
        }
    }

    let vulnerabilities: Vec<Value> = all
        .iter()
        .map(|f| {
            let bom_ref = unique_ref(&mut refs, format!("vuln:{}:{}", f.id, f.package.id));
            vulnerability(f, bom_ref)
        })
        .collect();
    let vulnerabilities = Value::Array(vulnerabilities);

    let old_serial = map
        .get("serialNumber")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let serial = format!(
        "urn:uuid:{}",
        uuid(old_serial, &serde_json::to_vec(&vulnerabilities)?)
    );
    map.insert("serialNumber".into(), Value::String(serial));
    if let Some(Value::Object(meta)) = map.get_mut("metadata") {
        meta.insert("properties".into(), db_properties(report));
    }
    map.insert("vulnerabilities".into(), vulnerabilities);
    super::json::emit(&doc, opts, w)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Every `bom-ref` in the document, which must stay unique across it. The
/// document is the SBOM writer's own output, whose nesting is a few levels.
fn collect_refs(v: &Value, refs: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("bom-ref", Value::String(s)) => {
                        refs.insert(s.clone());
                    }
                    _ => collect_refs(v, refs),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, refs)),
        _ => {}
    }
}

fn unique_ref(refs: &mut BTreeSet<String>, base: String) -> String {
    let mut candidate = base.clone();
    let mut n = 2;
    while !refs.insert(candidate.clone()) {
        candidate = format!("{base}#{n}");
        n += 1;
    }
    candidate
}

fn db_properties(report: &Report) -> Value {
    let db = &report.db;
    let mut props = vec![
        json!({"name": "bosun:vulndb:built", "value": db.built}),
        json!({"name": "bosun:vulndb:schemaVersion", "value": db.schema_version.to_string()}),
    ];
    props.extend(
        db.sources
            .iter()
            .map(|s| json!({"name": "bosun:vulndb:source", "value": s})),
    );
    Value::Array(props)
}

fn vulnerability(f: &Finding, bom_ref: String) -> Value {
    let (source_name, source_url) = id_source(&f.id);
    let mut v = Map::new();
    v.insert("bom-ref".into(), json!(bom_ref));
    v.insert("id".into(), json!(f.id));
    v.insert(
        "source".into(),
        json!({"name": source_name, "url": source_url}),
    );
    if !f.aliases.is_empty() {
        let refs: Vec<Value> = f
            .aliases
            .iter()
            .map(|a| {
                let (name, url) = id_source(a);
                json!({"id": a, "source": {"name": name, "url": url}})
            })
            .collect();
        v.insert("references".into(), Value::Array(refs));
    }
    v.insert("ratings".into(), Value::Array(ratings(f)));
    if let Some(s) = &f.summary {
        v.insert("description".into(), json!(s));
    }
    let cwes: Vec<u32> = f
        .cwes
        .iter()
        .filter_map(|c| c.strip_prefix("CWE-").and_then(|n| n.parse().ok()))
        .collect();
    if !cwes.is_empty() {
        v.insert("cwes".into(), json!(cwes));
    }
    for (key, value) in [("published", &f.published), ("updated", &f.modified)] {
        if let Some(t) = value
            .as_deref()
            .and_then(bosun_core::time::parse_rfc3339)
            .and_then(bosun_core::time::rfc3339)
        {
            v.insert(key.into(), json!(t));
        }
    }
    if let Some(r) = recommendation(f) {
        v.insert("recommendation".into(), json!(r));
    }
    let advisories: Vec<Value> = f
        .references
        .iter()
        .filter_map(|r| plain_url(r))
        .map(|url| json!({"url": url}))
        .collect();
    if !advisories.is_empty() {
        v.insert("advisories".into(), Value::Array(advisories));
    }
    let analysis = f.suppressed.as_ref().map(analysis);
    let unaffected = analysis.as_ref().is_some_and(|a| {
        matches!(
            a.get("state").and_then(Value::as_str),
            Some("not_affected" | "false_positive" | "resolved")
        )
    });
    if let Some(a) = analysis {
        v.insert("analysis".into(), a);
    }
    if !f.package.id.is_empty() {
        let mut affects = json!({"ref": f.package.id});
        if !f.installed_version.is_empty() && f.installed_version.len() <= MAX_VERSION {
            let status = if unaffected { "unaffected" } else { "affected" };
            affects["versions"] = json!([{"version": f.installed_version, "status": status}]);
        }
        v.insert("affects".into(), json!([affects]));
    }
    v.insert("properties".into(), Value::Array(properties(f)));
    Value::Object(v)
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        // CycloneDX has no "negligible"; "info" is its nearest level.
        Severity::Negligible => "info",
        Severity::Unknown => "unknown",
    }
}

/// The finding's own verdict first (what bosun ranks by), then each score
/// the advisories published.
fn ratings(f: &Finding) -> Vec<Value> {
    let mut verdict = json!({"severity": severity(f.severity), "method": "other"});
    if !f.severity_source.is_empty() {
        verdict["source"] = json!({"name": f.severity_source});
    }
    let mut out = vec![verdict];
    out.extend(f.scores.iter().map(score_rating));
    out
}

fn score_rating(s: &Score) -> Value {
    let method = match s.kind.as_str() {
        "CVSS_V2" => "CVSSv2",
        "CVSS_V3" if s.vector.starts_with("CVSS:3.0/") => "CVSSv3",
        "CVSS_V3" => "CVSSv31",
        "CVSS_V4" => "CVSSv4",
        _ => "other",
    };
    let mut r = json!({"method": method, "vector": s.vector});
    match s.base_score.filter(|b| b.is_finite()) {
        Some(b) => {
            r["score"] = json!(b);
            r["severity"] = json!(severity(Severity::from_cvss_score(b)));
        }
        // Labelled schemes (`Ubuntu`) publish the severity as the "vector".
        None => {
            if let Some(l) = Severity::parse_label(&s.vector) {
                r["severity"] = json!(severity(l));
            }
        }
    }
    r
}

fn recommendation(f: &Finding) -> Option<String> {
    match f.status {
        Status::Fixed if !f.fixed_versions.is_empty() => Some(format!(
            "Upgrade {} to {}.",
            f.package.name,
            f.fixed_versions.join(" or ")
        )),
        Status::WontFix => Some(match &f.status_note {
            Some(n) => format!("The distribution will not fix this ({n})."),
            None => "The distribution will not fix this.".to_string(),
        }),
        Status::Fixed | Status::Unfixed => None,
    }
}

/// The analysis state and justification a suppression reason names, in
/// OpenVEX or CycloneDX words (OpenVEX justifications mapped as CISA's VEX
/// minimum requirements pair them).
fn analysis(s: &Suppression) -> Value {
    let words: String = s
        .reason
        .chars()
        .take(4096)
        .map(|c| match c {
            ' ' | '-' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    let has = |w: &str| words.contains(w);
    // Statuses beyond these two are read from VEX only: an ignore entry's
    // "fixed upstream, waiting for the image" is no resolution.
    let vex = s.by == "vex";
    let state = if has("not_affected") {
        Some("not_affected")
    } else if has("false_positive") {
        Some("false_positive")
    } else if vex && has("under_investigation") {
        Some("in_triage")
    } else if vex && has("fixed") {
        Some("resolved")
    } else {
        None
    };
    let justification = [
        ("component_not_present", "code_not_present"),
        ("vulnerable_code_not_present", "code_not_present"),
        ("vulnerable_code_not_in_execute_path", "code_not_reachable"),
        (
            "vulnerable_code_cannot_be_controlled_by_adversary",
            "requires_environment",
        ),
        (
            "inline_mitigations_already_exist",
            "protected_by_mitigating_control",
        ),
        ("code_not_present", "code_not_present"),
        ("code_not_reachable", "code_not_reachable"),
        ("requires_configuration", "requires_configuration"),
        ("requires_dependency", "requires_dependency"),
        ("requires_environment", "requires_environment"),
        ("protected_by_compiler", "protected_by_compiler"),
        ("protected_at_runtime", "protected_at_runtime"),
        ("protected_at_perimeter", "protected_at_perimeter"),
        (
            "protected_by_mitigating_control",
            "protected_by_mitigating_control",
        ),
    ]
    .into_iter()
    .find(|(w, _)| has(w))
    .map(|(_, j)| j)
    .filter(|_| state == Some("not_affected"));

    let mut a = json!({"detail": format!("suppressed by {} {}: {}", s.by, s.source, s.reason)});
    if let Some(st) = state {
        a["state"] = json!(st);
    }
    if let Some(j) = justification {
        a["justification"] = json!(j);
    }
    a
}

fn properties(f: &Finding) -> Vec<Value> {
    let mut p = vec![
        json!({"name": "bosun:status", "value": f.status.as_str()}),
        json!({"name": "bosun:match:ecosystem", "value": f.matched.ecosystem}),
        json!({"name": "bosun:match:name", "value": f.matched.name}),
        json!({"name": "bosun:match:version", "value": f.matched.version}),
    ];
    if let Some(n) = &f.status_note {
        p.push(json!({"name": "bosun:statusNote", "value": n}));
    }
    if let Some(k) = &f.kev {
        p.push(json!({"name": "bosun:kev:dateAdded", "value": k.date_added}));
        if let Some(d) = &k.due_date {
            p.push(json!({"name": "bosun:kev:dueDate", "value": d}));
        }
        if let Some(r) = &k.ransomware {
            p.push(json!({"name": "bosun:kev:ransomware", "value": r}));
        }
    }
    if let Some(e) = &f.epss {
        p.push(json!({"name": "bosun:epss:score", "value": e.score.to_string()}));
        p.push(json!({"name": "bosun:epss:percentile", "value": e.percentile.to_string()}));
    }
    p.extend(
        f.data_sources
            .iter()
            .map(|s| json!({"name": "bosun:dataSource", "value": s})),
    );
    p
}

/// A UUID from the SBOM's serial and the vulnerabilities, laid out as
/// version 5 (name-based) like the SBOM writer's, hashed with SHA-256.
fn uuid(sbom_serial: &str, vulnerabilities: &[u8]) -> String {
    let mut data = Vec::with_capacity(sbom_serial.len() + 1 + vulnerabilities.len());
    data.extend_from_slice(sbom_serial.as_bytes());
    data.push(0);
    data.extend_from_slice(vulnerabilities);
    bosun_sbom::json::uuid_from_digest(&Digest::sha256_of(&data))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn suppression(reason: &str) -> Suppression {
        Suppression {
            by: "vex".into(),
            reason: reason.into(),
            source: "a.vex.json".into(),
        }
    }

    #[test]
    fn vex_words_map_to_analysis() {
        let a = analysis(&suppression(
            "not_affected: vulnerable_code_not_in_execute_path",
        ));
        assert_eq!(a["state"], "not_affected");
        assert_eq!(a["justification"], "code_not_reachable");
        let a = analysis(&suppression("Not affected (component not present)"));
        assert_eq!(a["justification"], "code_not_present");
        assert_eq!(analysis(&suppression("fixed"))["state"], "resolved");
        // Free text from an ignore file states neither.
        let a = analysis(&suppression("we accept the risk until Q3"));
        assert!(a.get("state").is_none() && a.get("justification").is_none());
        let mut s = suppression("fixed upstream, image not rebuilt yet");
        s.by = "ignore-file".into();
        assert!(analysis(&s).get("state").is_none());
    }

    #[test]
    fn uuid_is_rfc4122_shaped() {
        let u = uuid("urn:uuid:x", b"[]");
        assert_eq!(u.len(), 36);
        assert_eq!(u.as_bytes()[14], b'5');
        assert!(matches!(u.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
        assert_ne!(u, uuid("urn:uuid:y", b"[]"));
    }
}
