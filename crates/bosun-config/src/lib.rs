//! Misconfiguration checks for what gets built and deployed: Dockerfiles,
//! Kubernetes manifests (every Pod Security Standards control plus
//! supply-chain and hardening rules) and image configurations.
//!
//! Everything read here may be hostile: files are size-capped, parsers are
//! depth-capped, and a file that cannot be read or parsed is reported in
//! [`Report::skipped`] while the others are still checked.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod aggregate;
pub mod dockerfile;
pub mod image;
pub mod k8s;
pub mod output;
pub mod rules;
pub mod settings;
mod walk;
pub use bosun_yaml as yaml;

use std::path::{Path, PathBuf};

pub use aggregate::KEEP_PER_RULE_AND_FILE;
pub use bosun_vulndb::Severity;
use serde::{Deserialize, Serialize};

pub use rules::{Rule, rule, rules};
pub use settings::Settings;

/// Largest file read (manifests and Dockerfiles are small; anything bigger
/// is not one, or is an attack).
pub const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// The Pod Security Standards profile a control belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Baseline,
    Restricted,
}

impl Profile {
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Baseline => "baseline",
            Profile::Restricted => "restricted",
        }
    }
}

/// Where a finding is.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    /// The file as given (or found under a given directory); for an image,
    /// the image reference.
    pub file: String,
    /// 1-based line, where known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line: Option<usize>,
    /// `Kind/namespace/name` for Kubernetes objects, `FROM image [AS name]`
    /// for a Dockerfile stage.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub object: Option<String>,
    /// Where inside the object: a field path for Kubernetes
    /// (`spec.containers[0].securityContext.privileged`), a config field or
    /// history entry for images (`config.User`, `history[3]`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub path: Option<String>,
}

/// One rule violated at one place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule_id: String,
    pub severity: Severity,
    pub title: String,
    /// What exactly is wrong here (the offending value, the container).
    pub message: String,
    pub why: String,
    pub fix: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub profile: Option<Profile>,
    pub location: Location,
    /// Set when the rule fired more than
    /// [`aggregate::KEEP_PER_RULE_AND_FILE`] times in this file: the
    /// number of times, all reported as this one finding.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub occurrences: Option<usize>,
    /// With `occurrences`: the first lines where the rule fired.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub lines: Vec<usize>,
}

impl Finding {
    /// A finding of the built-in rule `id`. Panics only on a programming
    /// error (an id missing from the rule table), never on input.
    pub(crate) fn new(id: &str, message: impl Into<String>, location: Location) -> Finding {
        let r = rules::rule(id).unwrap_or_else(|| panic!("rule {id} is not in the rule table"));
        Finding {
            rule_id: r.id.to_string(),
            severity: r.severity,
            title: r.title.to_string(),
            message: message.into(),
            why: r.why.to_string(),
            fix: r.fix.to_string(),
            profile: r.profile,
            location,
            occurrences: None,
            lines: Vec::new(),
        }
    }
}

/// A file that was not checked, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub file: String,
    pub reason: String,
}

/// Something worth saying that is not a finding (an unknown kind, a
/// document without `kind`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub file: String,
    pub message: String,
}

/// What kind of file was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Dockerfile,
    Kubernetes,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checked {
    pub file: String,
    pub kind: FileKind,
}

/// The result of checking a set of paths.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub checked: Vec<Checked>,
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
    pub notes: Vec<Note>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// Checks every path: a Dockerfile, a manifest (YAML or JSON), or a
/// directory searched for both. A path that does not exist is an error;
/// a file that cannot be parsed is skipped with its reason.
pub fn check_paths(paths: &[PathBuf], settings: &Settings) -> Result<Report, Error> {
    let mut report = Report::default();
    let mut manifests = Vec::new();
    let scanner = bosun_secret::Scanner::new(&settings.secrets).map_err(|e| Error::Invalid {
        path: "bosun.yaml".into(),
        message: e.to_string(),
    })?;
    let mut secrets = aggregate::Collector::default();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|source| Error::Io {
            path: p.display().to_string(),
            source,
        })?;
        if meta.is_dir() {
            let found = walk::find(p, &mut report.skipped);
            for (path, kind) in found {
                let mut cx = Load {
                    report: &mut report,
                    manifests: &mut manifests,
                    scanner: &scanner,
                    secrets: &mut secrets,
                };
                load(&path, kind, false, &mut cx);
            }
        } else {
            // Named on the command line, a pipe is read too:
            // `bosun config <(helm template .)`. Reads stop past 16 MiB.
            let kind = walk::classify(p).unwrap_or_else(|| guess_kind(p));
            let mut cx = Load {
                report: &mut report,
                manifests: &mut manifests,
                scanner: &scanner,
                secrets: &mut secrets,
            };
            load(p, kind, true, &mut cx);
        }
    }
    let k8s_findings = k8s::check(&manifests, settings, &mut report.notes);
    report.findings.extend(k8s_findings);
    k8s::secrets::check_manifests(&manifests, &scanner, &mut secrets);
    report.findings.extend(secrets.finish());
    report
        .findings
        .retain(|f| !settings.skip.iter().any(|s| s == &f.rule_id));
    report.findings.sort_by(|a, b| {
        (
            &a.location.file,
            a.location.line,
            &a.location.object,
            &a.rule_id,
        )
            .cmp(&(
                &b.location.file,
                b.location.line,
                &b.location.object,
                &b.rule_id,
            ))
    });
    Ok(report)
}

/// A file named on the command line that no naming convention claims:
/// `.json`/`.yaml`/`.yml` are manifests, anything else a Dockerfile.
fn guess_kind(p: &Path) -> FileKind {
    match p.extension().and_then(|e| e.to_str()) {
        Some("json" | "yaml" | "yml") => FileKind::Kubernetes,
        _ => FileKind::Dockerfile,
    }
}

/// What loading a file adds to.
struct Load<'a> {
    report: &'a mut Report,
    manifests: &'a mut Vec<k8s::Document>,
    scanner: &'a bosun_secret::Scanner,
    secrets: &'a mut aggregate::Collector,
}

/// Reads and parses one file. `explicit`: named on the command line, not
/// found in a directory, so a YAML/JSON file that holds no Kubernetes
/// object is worth a note rather than silence.
fn load(path: &Path, kind: FileKind, explicit: bool, cx: &mut Load) {
    let name = path.display().to_string();
    let text = match read_text(path) {
        Ok(t) => t,
        Err(reason) => {
            cx.report.skipped.push(Skipped { file: name, reason });
            return;
        }
    };
    match kind {
        FileKind::Dockerfile => {
            let df = match dockerfile::parse(&text) {
                Ok(df) => df,
                Err(e) => {
                    cx.report.skipped.push(Skipped {
                        file: name,
                        reason: e.to_string(),
                    });
                    return;
                }
            };
            cx.report.checked.push(Checked {
                file: name.clone(),
                kind,
            });
            cx.report.findings.extend(dockerfile::check(&df, &name));
            k8s::secrets::check_dockerfile(&df, &name, cx.scanner, cx.secrets);
        }
        FileKind::Kubernetes => match k8s::load(&text, &name) {
            Ok(mut docs) => {
                if !explicit {
                    docs.retain(|d| k8s::is_object(&d.value));
                    if docs.is_empty() {
                        return;
                    }
                }
                cx.report.checked.push(Checked { file: name, kind });
                cx.manifests.extend(docs);
            }
            Err(reason) => cx.report.skipped.push(Skipped { file: name, reason }),
        },
    }
}

/// Reads a file as UTF-8 text, refusing huge files and binary content.
fn read_text(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let mut bytes = Vec::new();
    f.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(format!(
            "larger than {} MiB, not checked",
            MAX_FILE_SIZE / (1024 * 1024)
        ));
    }
    if bytes.contains(&0) {
        return Err("binary content (NUL bytes), not a text file".into());
    }
    let mut text = String::from_utf8(bytes)
        .map_err(|e| format!("not UTF-8 text (at byte {})", e.utf8_error().valid_up_to()))?;
    if text.starts_with('\u{feff}') {
        text.remove(0);
    }
    Ok(text)
}
