//! Kubernetes manifests: loading (multi-document YAML, JSON, `List`) and
//! the checks on every workload's pod template.

mod pss;
pub(crate) mod secrets;

use serde_json::Value;

use crate::aggregate::Collector;
use crate::dockerfile::ImageRef;
use crate::{Finding, Location, Note, Settings};

/// Most documents (and `List` items) read from one file.
const MAX_DOCUMENTS: usize = 10_000;
/// Largest document in which field lines are searched for.
const MAX_LOCATE_TEXT: usize = 256 * 1024;
/// The annotation that skips rules on one object: `bosun.dev/skip: ID[,ID]`.
pub const SKIP_ANNOTATION: &str = "bosun.dev/skip";

/// One YAML/JSON document of a manifest file.
#[derive(Debug, Clone)]
pub struct Document {
    pub file: String,
    /// 1-based line the document starts on.
    pub line: usize,
    /// The document's own text, to find the line of a field.
    pub text: String,
    pub value: Value,
}

/// Parses every document in a manifest file. An error is a reason to skip
/// the whole file (as `kubectl apply` would refuse it).
pub fn load(text: &str, file: &str) -> Result<Vec<Document>, String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let nodes = crate::yaml::json_nodes(text);
        if nodes > crate::yaml::MAX_NODES {
            return Err(format!(
                "more than {} JSON values in the file",
                crate::yaml::MAX_NODES
            ));
        }
        let value: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
        return Ok(vec![Document {
            file: file.to_string(),
            line: 1,
            text: text.to_string(),
            value,
        }]);
    }
    let mut docs = Vec::new();
    let mut budget = crate::yaml::MAX_NODES;
    for (n, (line, chunk)) in split_documents(text, MAX_DOCUMENTS + 1)
        .into_iter()
        .enumerate()
    {
        // Counted before parsing (comment-only documents too), so the cut
        // in split_documents can never drop one silently.
        if n >= MAX_DOCUMENTS {
            return Err(format!("more than {MAX_DOCUMENTS} documents"));
        }
        let value = match crate::yaml::parse_document(&chunk, &mut budget) {
            Ok(Some(v)) => v,
            Ok(None) => continue,
            Err(e) => {
                return Err(format!(
                    "line {}: invalid YAML in document {}: {}",
                    line + e.line - 1,
                    n + 1,
                    e.message
                ));
            }
        };
        docs.push(Document {
            file: file.to_string(),
            line,
            text: chunk,
            value,
        });
    }
    Ok(docs)
}

/// Whether a document looks like a Kubernetes object (or `List`): a
/// mapping with string `apiVersion` and `kind`.
pub fn is_object(v: &Value) -> bool {
    get_str(v, &["apiVersion"]).is_some() && get_str(v, &["kind"]).is_some()
}

/// Splits at `---` document markers (and drops `...` end markers), keeping
/// each document's starting line; stops after `limit` documents (a file of
/// millions of `---` lines must not become millions of strings).
fn split_documents(text: &str, limit: usize) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = 1;
    for (i, l) in text.lines().enumerate() {
        let is_marker = l == "---" || l.starts_with("--- ") || l.starts_with("---\t");
        if is_marker || l == "..." {
            if !cur.trim().is_empty() {
                out.push((start, std::mem::take(&mut cur)));
                if out.len() >= limit {
                    return out;
                }
            }
            cur.clear();
            start = i + 2;
            // Content after `--- ` on the same line belongs to the document.
            if let Some(rest) = l.strip_prefix("---").filter(|r| !r.trim().is_empty()) {
                start = i + 1;
                cur.push_str(rest.trim_start());
                cur.push('\n');
            }
            continue;
        }
        cur.push_str(l);
        cur.push('\n');
    }
    if !cur.trim().is_empty() {
        out.push((start, cur));
    }
    out
}

/// One Kubernetes object (a document, or an item of a `List`).
pub(crate) struct Object<'a> {
    pub doc: &'a Document,
    pub value: &'a Value,
    pub kind: &'a str,
    pub name: &'a str,
    pub namespace: Option<&'a str>,
}

impl Object<'_> {
    pub(crate) fn display(&self) -> String {
        match self.namespace {
            Some(ns) => format!("{}/{}/{}", self.kind, ns, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}

/// Non-workload kinds that hold no pod template: not checked, not noted.
const OTHER_KINDS: &[&str] = &[
    "Service",
    "ConfigMap",
    "Secret",
    "Namespace",
    "ServiceAccount",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "Ingress",
    "IngressClass",
    "NetworkPolicy",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "StorageClass",
    "PodDisruptionBudget",
    "HorizontalPodAutoscaler",
    "CustomResourceDefinition",
    "LimitRange",
    "ResourceQuota",
    "Endpoints",
    "EndpointSlice",
    "PriorityClass",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "APIService",
    "Lease",
    "RuntimeClass",
    "CSIDriver",
    "VolumeSnapshotClass",
];

/// The pod spec path of a workload kind.
pub(crate) fn pod_spec_path(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "Pod" => &["spec"],
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => &["spec", "template", "spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        "PodTemplate" => &["template", "spec"],
        _ => return None,
    })
}

pub(crate) fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

pub(crate) fn get_str<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    get(v, path).and_then(Value::as_str)
}

pub(crate) fn get_bool(v: &Value, path: &[&str]) -> Option<bool> {
    get(v, path).and_then(Value::as_bool)
}

pub(crate) fn objects<'a>(docs: &'a [Document], notes: &mut Vec<Note>) -> Vec<Object<'a>> {
    let mut out = Vec::new();
    for d in docs {
        let mut items: Vec<&Value> = vec![&d.value];
        let is_list =
            get_str(&d.value, &["kind"]).is_some_and(|k| k == "List" || k.ends_with("List"));
        if is_list {
            items = get(&d.value, &["items"])
                .and_then(Value::as_array)
                .map(|a| a.iter().collect())
                .unwrap_or_default();
        }
        if items.len() > MAX_DOCUMENTS {
            notes.push(Note {
                file: d.file.clone(),
                message: format!(
                    "List at line {} has {} items; only the first {MAX_DOCUMENTS} were checked",
                    d.line,
                    items.len()
                ),
            });
        }
        for v in items.into_iter().take(MAX_DOCUMENTS) {
            if !v.is_object() {
                notes.push(Note {
                    file: d.file.clone(),
                    message: format!(
                        "document at line {} is not a mapping: not a Kubernetes object",
                        d.line
                    ),
                });
                continue;
            }
            let (Some(kind), Some(_)) = (get_str(v, &["kind"]), get_str(v, &["apiVersion"])) else {
                notes.push(Note {
                    file: d.file.clone(),
                    message: format!(
                        "document at line {} has no apiVersion/kind: not a Kubernetes object",
                        d.line
                    ),
                });
                continue;
            };
            out.push(Object {
                doc: d,
                value: v,
                kind,
                name: get_str(v, &["metadata", "name"]).unwrap_or("<unnamed>"),
                namespace: get_str(v, &["metadata", "namespace"]),
            });
        }
    }
    out
}

/// Rules skipped on an object by annotation (on the object or its pod template).
fn skipped_rules(obj: &Object, template_meta: Option<&Value>) -> Vec<String> {
    let mut out = Vec::new();
    for meta in [get(obj.value, &["metadata"]), template_meta]
        .into_iter()
        .flatten()
    {
        if let Some(s) = get_str(meta, &["annotations", SKIP_ANNOTATION]) {
            out.extend(
                s.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
            );
        }
    }
    out
}

/// Where a finding is reported from inside one object.
pub(crate) struct At<'a> {
    obj: &'a Object<'a>,
    /// Path of the pod spec (`spec.template.spec`).
    prefix: String,
    /// Rules skipped on this object by annotation.
    skip: Vec<String>,
    out: &'a mut Collector,
}

impl At<'_> {
    /// Reports `id`; `path` is relative to the pod spec, `keys` find its line.
    pub(crate) fn push(&mut self, id: &str, message: String, path: &str, keys: &[&str]) {
        if self.skip.iter().any(|s| s == id) {
            return;
        }
        let line = locate(self.obj.doc, keys);
        self.out.push(Finding::new(
            id,
            message,
            Location {
                file: self.obj.doc.file.clone(),
                line: Some(line),
                object: Some(self.obj.display()),
                path: Some(if path.is_empty() {
                    self.prefix.clone()
                } else {
                    format!("{}.{path}", self.prefix)
                }),
            },
        ));
    }
}

/// The line of a field: each key is searched for after the previous one,
/// within the previous key's block (deeper-indented lines, or the rest of
/// the list item for `- key`), starting at the object's `kind:` line. A
/// heuristic (parsed values carry no positions) that is exact for the
/// usual block-style YAML; when a key is not found the last match stands.
pub(crate) fn locate(doc: &Document, keys: &[&str]) -> usize {
    // The search is linear in the document; in a huge one (a big `List`)
    // it would be quadratic over all findings, so the start line stands.
    if doc.text.len() > MAX_LOCATE_TEXT {
        return doc.line;
    }
    let lines: Vec<&str> = doc.text.lines().collect();
    let mut at = lines
        .iter()
        .position(|l| l.trim_start().starts_with("kind:") || l.contains("\"kind\""))
        .unwrap_or(0);
    // Lines after `at` that are inside its block.
    let mut scope_end = lines.len();
    for k in keys {
        let yaml = format!("{k}:");
        let json = format!("\"{k}\"");
        let found = (at + 1..scope_end).find(|&i| {
            let t = lines[i].trim_start().trim_start_matches("- ");
            t.starts_with(&yaml) || t.starts_with(&json) || (k.contains(": ") && t == *k)
        });
        let Some(i) = found else { break };
        at = i;
        let l = lines[i];
        let indent = l.len() - l.trim_start().len();
        let item = l.trim_start().starts_with("- ");
        let key_col = if item { indent + 2 } else { indent };
        scope_end = (i + 1..scope_end)
            .find(|&j| {
                let t = lines[j].trim_start();
                if t.is_empty() || t.starts_with('#') {
                    return false;
                }
                let ind = lines[j].len() - t.len();
                if item { ind < key_col } else { ind <= key_col }
            })
            .unwrap_or(scope_end);
    }
    doc.line + at
}

struct Policy<'a> {
    namespace: Option<&'a str>,
    selector: &'a Value,
}

fn egress_policies<'a>(objs: &[Object<'a>]) -> Vec<Policy<'a>> {
    objs.iter()
        .filter(|o| o.kind == "NetworkPolicy")
        .filter_map(|o| {
            let spec = get(o.value, &["spec"])?;
            let types = get(spec, &["policyTypes"]).and_then(Value::as_array);
            let egress = match types {
                Some(t) => t.iter().any(|t| t.as_str() == Some("Egress")),
                // Without policyTypes, Egress is implied by egress rules.
                None => spec.get("egress").is_some(),
            };
            egress.then(|| Policy {
                namespace: o.namespace,
                selector: spec.get("podSelector").unwrap_or(&Value::Null),
            })
        })
        .collect()
}

/// Label selector matching (`matchLabels` and `matchExpressions`); an empty
/// or missing selector selects every pod.
fn selects(selector: &Value, labels: Option<&Value>) -> bool {
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    if let Some(m) = selector.get("matchLabels").and_then(Value::as_object)
        && !m
            .iter()
            .all(|(k, v)| label(k).is_some() && label(k) == v.as_str())
    {
        return false;
    }
    let exprs = selector.get("matchExpressions").and_then(Value::as_array);
    exprs.is_none_or(|exprs| {
        exprs.iter().all(|e| {
            let key = e.get("key").and_then(Value::as_str).unwrap_or("");
            let values: Vec<&str> = e
                .get("values")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            match e.get("operator").and_then(Value::as_str) {
                Some("In") => label(key).is_some_and(|v| values.contains(&v)),
                Some("NotIn") => label(key).is_none_or(|v| !values.contains(&v)),
                Some("Exists") => label(key).is_some(),
                Some("DoesNotExist") => label(key).is_none(),
                _ => false,
            }
        })
    })
}

/// Every finding over a set of manifests (NetworkPolicies and
/// ServiceAccounts anywhere in the set apply to workloads in the others).
pub fn check(docs: &[Document], settings: &Settings, notes: &mut Vec<Note>) -> Vec<Finding> {
    let objs = objects(docs, notes);
    let policies = egress_policies(&objs);
    let mut out = Collector::default();
    for obj in &objs {
        let Some(path) = pod_spec_path(obj.kind) else {
            if !OTHER_KINDS.contains(&obj.kind) {
                notes.push(Note {
                    file: obj.doc.file.clone(),
                    message: format!("{}: kind {} is not checked", obj.display(), obj.kind),
                });
            }
            continue;
        };
        let Some(spec) = get(obj.value, path) else {
            notes.push(Note {
                file: obj.doc.file.clone(),
                message: format!("{}: no pod spec at {}", obj.display(), path.join(".")),
            });
            continue;
        };
        let template_meta = if obj.kind == "Pod" {
            get(obj.value, &["metadata"])
        } else {
            get(obj.value, &path[..path.len() - 1]).and_then(|t| t.get("metadata"))
        };
        let mut at = At {
            obj,
            prefix: path.join("."),
            skip: skipped_rules(obj, template_meta),
            out: &mut out,
        };
        pss::check(&mut at, spec, template_meta);
        hardening(&mut at, spec, settings, &objs);
        let labels = template_meta.and_then(|m| m.get("labels"));
        let restricted = policies
            .iter()
            .any(|p| p.namespace == obj.namespace && selects(p.selector, labels));
        if !restricted {
            at.push(
                "BOSUN-K8S-008",
                "no NetworkPolicy in these manifests selects this workload for Egress".into(),
                "",
                &[],
            );
        }
        if obj.namespace == Some("default") {
            at.push(
                "BOSUN-K8S-009",
                "metadata.namespace is default".into(),
                "",
                &["namespace"],
            );
        }
    }
    out.finish()
}

/// Every container of a pod spec with its list name and index.
pub(crate) fn containers(spec: &Value) -> Vec<(&'static str, usize, &Value)> {
    let mut out = Vec::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        if let Some(a) = spec.get(list).and_then(Value::as_array) {
            out.extend(a.iter().enumerate().map(|(i, c)| (list, i, c)));
        }
    }
    out
}

/// A container's `env` entries with their indexes.
pub(crate) fn env_entries(c: &Value) -> impl Iterator<Item = (usize, &Value)> {
    c.get("env")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

pub(crate) fn container_name(c: &Value) -> &str {
    c.get("name").and_then(Value::as_str).unwrap_or("<unnamed>")
}

const SECRET_ENV_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "ACCESS_KEY",
    "PRIVATE_KEY",
];
const RUNTIME_SOCKETS: &[&str] = &[
    "docker.sock",
    "containerd.sock",
    "crio.sock",
    "cri-dockerd.sock",
];

fn ks(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn hardening(at: &mut At, spec: &Value, settings: &Settings, objs: &[Object]) {
    for (list, i, c) in containers(spec) {
        let name = container_name(c);
        let p = format!("{list}[{i}]");
        let keys = |extra: &[&str]| -> Vec<String> {
            let mut k = vec![list.to_string(), format!("name: {name}")];
            k.extend(extra.iter().map(|s| s.to_string()));
            k
        };
        let image = c.get("image").and_then(Value::as_str).unwrap_or("");
        if !image.is_empty() && !image.contains('$') {
            let r = ImageRef::parse(image);
            let k = keys(&["image"]);
            if r.digest.is_none() {
                let latest = matches!(r.tag, None | Some("latest"));
                if latest {
                    at.push(
                        "BOSUN-K8S-002",
                        format!("container {name}: image {image} is :latest or untagged"),
                        &format!("{p}.image"),
                        &ks(&k),
                    );
                } else {
                    at.push(
                        "BOSUN-K8S-001",
                        format!("container {name}: image {image} is not pinned by digest"),
                        &format!("{p}.image"),
                        &ks(&k),
                    );
                    let policy = c
                        .get("imagePullPolicy")
                        .and_then(Value::as_str)
                        .unwrap_or("IfNotPresent");
                    if policy != "Always" {
                        at.push(
                            "BOSUN-K8S-003",
                            format!("container {name}: imagePullPolicy {policy} on tag {image}"),
                            &format!("{p}.imagePullPolicy"),
                            &ks(&keys(&["imagePullPolicy"])),
                        );
                    }
                }
            }
            if !settings.allowed_registries.is_empty() {
                let full = r.full_repository();
                let allowed = settings.allowed_registries.iter().any(|a| {
                    let a = a.trim_end_matches('/');
                    full == a || full.starts_with(&format!("{a}/"))
                });
                if !allowed {
                    at.push(
                        "BOSUN-K8S-004",
                        format!(
                            "container {name}: {} is not in allowed_registries",
                            r.registry_host()
                        ),
                        &format!("{p}.image"),
                        &ks(&k),
                    );
                }
            }
        }
        if list != "ephemeralContainers" {
            let missing: Vec<&str> = ["cpu", "memory"]
                .into_iter()
                .filter(|r| get(c, &["resources", "limits", r]).is_none())
                .collect();
            if !missing.is_empty() {
                at.push(
                    "BOSUN-K8S-005",
                    format!("container {name}: no {} limit", missing.join(" or ")),
                    &format!("{p}.resources.limits"),
                    &ks(&keys(&["resources"])),
                );
            }
            if get_bool(c, &["securityContext", "readOnlyRootFilesystem"]) != Some(true) {
                at.push(
                    "BOSUN-K8S-007",
                    format!("container {name}: readOnlyRootFilesystem is not true"),
                    &format!("{p}.securityContext.readOnlyRootFilesystem"),
                    &ks(&keys(&["securityContext"])),
                );
            }
        }
        for (ei, e) in env_entries(c) {
            let en = e.get("name").and_then(Value::as_str).unwrap_or("");
            let literal = e
                .get("value")
                .and_then(Value::as_str)
                .is_some_and(|v| !v.trim().is_empty());
            let upper = en.to_ascii_uppercase();
            let secretish = SECRET_ENV_WORDS.iter().any(|w| upper.contains(w))
                && !["_FILE", "_PATH", "_DIR"]
                    .iter()
                    .any(|s| upper.ends_with(s));
            if literal && secretish {
                at.push(
                    "BOSUN-K8S-010",
                    format!("container {name}: env {en} has a literal value"),
                    &format!("{p}.env[{ei}].value"),
                    &ks(&keys(&["env", &format!("name: {en}")])),
                );
            }
        }
    }
    for (vi, v) in spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Some(path) = get_str(v, &["hostPath", "path"])
            && RUNTIME_SOCKETS
                .iter()
                .any(|s| path.trim_end_matches('/').ends_with(s))
        {
            at.push(
                "BOSUN-K8S-011",
                format!("hostPath volume mounts {path}"),
                &format!("volumes[{vi}].hostPath.path"),
                &["volumes", "path"],
            );
        }
    }
    let automount = get_bool(spec, &["automountServiceAccountToken"]);
    let sa = get_str(spec, &["serviceAccountName"])
        .or_else(|| get_str(spec, &["serviceAccount"]))
        .unwrap_or("default");
    let sa_off = objs.iter().any(|o| {
        o.kind == "ServiceAccount"
            && o.name == sa
            && o.namespace == at.obj.namespace
            && get_bool(o.value, &["automountServiceAccountToken"]) == Some(false)
    });
    if automount == Some(true) || (automount.is_none() && !sa_off) {
        at.push(
            "BOSUN-K8S-006",
            "automountServiceAccountToken is not false".into(),
            "automountServiceAccountToken",
            &["automountServiceAccountToken"],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_documents_with_lines() {
        let d = split_documents(
            "a: 1\n---\nb: 2\n--- c: 3\n...\n---\n# only a comment\n",
            10,
        );
        assert_eq!(d.len(), 4);
        assert_eq!((d[0].0, d[1].0, d[2].0), (1, 3, 4));
        assert_eq!(d[2].1, "c: 3\n");
    }

    #[test]
    fn selectors() {
        let labels = serde_json::json!({"app": "web", "tier": "fe"});
        let s = |v: Value| selects(&v, Some(&labels));
        assert!(s(serde_json::json!({})));
        assert!(s(serde_json::json!({"matchLabels": {"app": "web"}})));
        assert!(!s(serde_json::json!({"matchLabels": {"app": "db"}})));
        assert!(s(
            serde_json::json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe"]}]})
        ));
        assert!(!s(
            serde_json::json!({"matchExpressions": [{"key": "x", "operator": "Exists"}]})
        ));
        assert!(s(
            serde_json::json!({"matchExpressions": [{"key": "x", "operator": "DoesNotExist"}]})
        ));
    }

    #[test]
    fn hostile_documents_are_errors() {
        let bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]\n";
        let e = load(bomb, "bomb.yaml").unwrap_err();
        assert!(e.contains("document 1"), "{e}");
        let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(load(&deep, "deep.json").is_err());
        let deep_yaml = format!("a: {}1{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(load(&deep_yaml, "deep.yaml").is_err());
        let e = load("a: [1\n", "bad.yaml").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        assert!(load("{\"a\": ", "bad.json").is_err());
    }
}
