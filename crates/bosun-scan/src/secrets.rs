//! Secrets found in an image: in the files of each layer (located after the
//! layers are merged: still there, or deleted by a later layer) and in the
//! image config.

use bosun_core::Digest;
use bosun_oci::ResolvedImage;
use bosun_oci::layer::EntryKind;
use bosun_oci::tree::FileTree;
use bosun_secret::{Match, Scanner, Severity};
use serde::{Deserialize, Serialize};

/// One secret, where it is and whether the final filesystem still has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretFinding {
    pub rule_id: String,
    pub severity: Severity,
    pub title: String,
    /// The file's absolute path, or `config.Env`, `config.Labels`,
    /// `history[N].created_by`.
    pub path: String,
    /// The diff_id and index of the layer holding the file; None for the
    /// image config and for directory targets.
    pub layer: Option<Digest>,
    pub layer_index: Option<usize>,
    /// The file is gone from the final filesystem or a later layer replaced
    /// it (a whiteout, an opaque directory, a new file at the path): the
    /// secret still ships in the layer blob.
    pub deleted: bool,
    pub line: usize,
    pub column: usize,
    pub redacted: String,
    pub fingerprint: String,
}

impl SecretFinding {
    fn new(m: Match, path: String, layer: Option<(usize, Digest)>, deleted: bool) -> Self {
        let (layer_index, layer) = layer.map(|(i, d)| (Some(i), Some(d))).unwrap_or_default();
        SecretFinding {
            rule_id: m.rule_id,
            severity: m.severity,
            title: m.title,
            path,
            layer,
            layer_index,
            deleted,
            line: m.line,
            column: m.column,
            redacted: m.redacted,
            fingerprint: m.fingerprint,
        }
    }

    /// A finding in a directory target (no layers).
    pub fn in_dir(path: String, m: Match) -> Self {
        Self::new(m, path, None, false)
    }
}

/// Place each layer's file secrets against the merged tree: a file is still
/// there only if the final node at its path is a file from the same layer.
pub fn locate(
    image: &ResolvedImage,
    tree: &FileTree,
    per_layer: Vec<Vec<(String, Match)>>,
) -> Vec<SecretFinding> {
    let mut out = Vec::new();
    for (i, found) in per_layer.into_iter().enumerate() {
        let diff_id = image.layers.get(i).map(|l| l.diff_id.clone());
        for (path, m) in found {
            let present = tree
                .get(&path)
                .is_some_and(|n| n.kind == EntryKind::File && n.layer == i);
            let layer = diff_id.clone().map(|d| (i, d));
            out.push(SecretFinding::new(m, path, layer, !present));
        }
    }
    out
}

/// The image config's `Env` (one line per entry), `Labels` (`key=value`,
/// one per line) and each history step's `created_by`.
pub fn scan_config(scanner: &Scanner, image: &ResolvedImage) -> Vec<SecretFinding> {
    let cfg = &image.config;
    let mut texts: Vec<(String, String)> = Vec::new();
    if let Some(cc) = &cfg.config {
        if let Some(env) = &cc.env {
            texts.push(("config.Env".into(), env.join("\n")));
        }
        if let Some(labels) = &cc.labels {
            let lines: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            texts.push(("config.Labels".into(), lines.join("\n")));
        }
    }
    for (i, h) in cfg.history.iter().enumerate() {
        if let Some(c) = &h.created_by {
            texts.push((format!("history[{i}].created_by"), c.clone()));
        }
    }
    let mut out = Vec::new();
    for (origin, text) in texts {
        for m in scanner.scan_text(&origin, &text) {
            out.push(SecretFinding::new(m, origin.clone(), None, false));
        }
    }
    out
}
