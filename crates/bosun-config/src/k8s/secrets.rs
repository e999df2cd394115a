//! bosun-secret's rules over the values of manifests and Dockerfiles
//! (`BOSUN-K8S-012`, `BOSUN-DF-025`): env values, args and command,
//! ConfigMap data, a Secret's stringData and (decoded) data; Dockerfile
//! ENV, ARG, RUN and LABEL. Findings carry the secret rule, the place and
//! the redacted value, never the secret.

use base64::Engine;
use bosun_secret::{Match, Scanner};
use serde_json::Value;

use super::{
    Document, container_name, containers, env_entries, get, locate, objects, pod_spec_path,
};
use crate::aggregate::Collector;
use crate::dockerfile::Dockerfile;
use crate::{Finding, Location, Severity};

fn severity(s: bosun_secret::Severity) -> Severity {
    match s {
        bosun_secret::Severity::Low => Severity::Low,
        bosun_secret::Severity::Medium => Severity::Medium,
        bosun_secret::Severity::High => Severity::High,
        bosun_secret::Severity::Critical => Severity::Critical,
    }
}

/// A finding for one match: the secret rule's severity, its id and title,
/// where, and the redacted value.
fn finding(id: &str, m: &Match, what: &str, location: Location) -> Finding {
    let mut f = Finding::new(
        id,
        format!("{} ({}) in {what}: {}", m.title, m.rule_id, m.redacted),
        location,
    );
    f.severity = severity(m.severity);
    f
}

/// One value to scan in an object: its field path, the keys that find its
/// line, a description, the text.
struct Place {
    path: String,
    keys: Vec<String>,
    what: String,
    text: String,
}

/// The scalar values of a mapping (`data`, `stringData`), decoded when
/// `base64` (undecodable values are scanned as they are).
fn mapping_values(obj: &Value, field: &str, base64: bool, out: &mut Vec<Place>) {
    let Some(m) = obj.get(field).and_then(Value::as_object) else {
        return;
    };
    for (k, v) in m {
        let Some(s) = v.as_str() else { continue };
        let text = if base64 {
            let compact: String = s.split_whitespace().collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact.as_bytes())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_else(|| s.to_string())
        } else {
            s.to_string()
        };
        out.push(Place {
            path: format!("{field}.{k}"),
            keys: vec![field.to_string(), k.clone()],
            what: format!("{field}.{k}"),
            text,
        });
    }
}

/// Every secret in the values of these manifests.
pub fn check_manifests(docs: &[Document], scanner: &Scanner, out: &mut Collector) {
    let mut notes = Vec::new();
    for obj in objects(docs, &mut notes) {
        let mut places = Vec::new();
        match obj.kind {
            "ConfigMap" => {
                mapping_values(obj.value, "data", false, &mut places);
                mapping_values(obj.value, "binaryData", true, &mut places);
            }
            "Secret" => {
                mapping_values(obj.value, "stringData", false, &mut places);
                mapping_values(obj.value, "data", true, &mut places);
            }
            kind => {
                if let Some(path) = pod_spec_path(kind)
                    && let Some(spec) = get(obj.value, path)
                {
                    container_places(spec, &path.join("."), &mut places);
                }
            }
        }
        for p in places {
            for m in scanner.scan_text(&obj.doc.file, &p.text) {
                let keys: Vec<&str> = p.keys.iter().map(String::as_str).collect();
                let line = locate(obj.doc, &keys);
                out.push(finding(
                    "BOSUN-K8S-012",
                    &m,
                    &p.what,
                    Location {
                        file: obj.doc.file.clone(),
                        line: Some(line),
                        object: Some(obj.display()),
                        path: Some(p.path.clone()),
                    },
                ));
            }
        }
    }
}

fn container_places(spec: &Value, prefix: &str, out: &mut Vec<Place>) {
    for (list, i, c) in containers(spec) {
        let name = container_name(c);
        let base = vec![list.to_string(), format!("name: {name}")];
        for (ei, e) in env_entries(c) {
            let Some(v) = e.get("value").and_then(Value::as_str) else {
                continue;
            };
            let en = e.get("name").and_then(Value::as_str).unwrap_or("");
            let mut keys = base.clone();
            keys.extend([
                "env".to_string(),
                format!("name: {en}"),
                "value".to_string(),
            ]);
            // `NAME=value`, so a rule keyed on the variable's name sees it.
            out.push(Place {
                path: format!("{prefix}.{list}[{i}].env[{ei}].value"),
                keys,
                what: format!("container {name} env {en}"),
                text: format!("{en}={v}"),
            });
        }
        for field in ["command", "args"] {
            let Some(a) = c.get(field).and_then(Value::as_array) else {
                continue;
            };
            for (j, v) in a.iter().enumerate() {
                let Some(v) = v.as_str() else { continue };
                let mut keys = base.clone();
                keys.push(field.to_string());
                out.push(Place {
                    path: format!("{prefix}.{list}[{i}].{field}[{j}]"),
                    keys,
                    what: format!("container {name} {field}[{j}]"),
                    text: v.to_string(),
                });
            }
        }
    }
}

/// Every secret in a Dockerfile's ENV, ARG, RUN (heredocs included) and
/// LABEL instructions: what ends up in the image's config and history.
pub fn check_dockerfile(df: &Dockerfile, file: &str, scanner: &Scanner, out: &mut Collector) {
    for i in &df.instructions {
        if !matches!(i.keyword.as_str(), "ENV" | "ARG" | "RUN" | "LABEL") {
            continue;
        }
        let mut text = i.args.text();
        for h in &i.heredocs {
            text.push('\n');
            text.push_str(&h.body);
        }
        for m in scanner.scan_text(file, &text) {
            out.push(finding(
                "BOSUN-DF-025",
                &m,
                &i.keyword,
                Location {
                    file: file.to_string(),
                    line: Some(i.line),
                    object: None,
                    path: None,
                },
            ));
        }
    }
}
