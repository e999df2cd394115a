//! Secrets found in an image: in the files of each layer (located after the
//! layers are merged: still there, or deleted by a later layer) and in the
//! image config.

use std::collections::HashMap;

use bosun_core::Digest;
use bosun_oci::ResolvedImage;
use bosun_oci::layer::EntryKind;
use bosun_oci::tree::FileTree;
use bosun_sbom::SourceInfo;
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
    /// The OS package that shipped the file exactly so (its MD5 is the one
    /// the package lists): a public file such as a test key in a source
    /// tree, not something a builder left behind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    pub line: usize,
    pub column: usize,
    pub redacted: String,
    pub fingerprint: String,
    /// More matches of the same rule in the same file, found but not
    /// listed (a file holds at most [`bosun_secret::MAX_MATCHES_PER_RULE`]
    /// of each rule); the title says so too.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub omitted: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl SecretFinding {
    fn new(
        m: Match,
        path: String,
        layer: Option<(usize, Digest)>,
        deleted: bool,
        package: Option<String>,
    ) -> Self {
        let (layer_index, layer) = layer.map(|(i, d)| (Some(i), Some(d))).unwrap_or_default();
        SecretFinding {
            rule_id: m.rule_id,
            severity: m.severity,
            title: m.title,
            path,
            layer,
            layer_index,
            deleted,
            package,
            line: m.line,
            column: m.column,
            redacted: m.redacted,
            fingerprint: m.fingerprint,
            omitted: m.omitted,
        }
    }

    /// A finding in a directory target (no layers); `package` as for
    /// [`SecretFinding::package`].
    pub fn in_dir(path: String, m: Match, package: Option<String>) -> Self {
        Self::new(m, path, None, false, package)
    }
}

/// One layer's secrets by path, and its files a package shipped unmodified
/// (path, package).
pub type LayerSecrets = (Vec<(String, Match)>, Vec<(String, String)>);

/// Place each layer's file secrets against the merged tree: a file is still
/// there only if the final node at its path is a file from the same layer.
/// Each layer's secrets come with its files a package shipped unmodified.
pub fn locate(
    image: &ResolvedImage,
    tree: &FileTree,
    per_layer: Vec<LayerSecrets>,
) -> Vec<SecretFinding> {
    let mut out = Vec::new();
    for (i, (found, package_files)) in per_layer.into_iter().enumerate() {
        let diff_id = image.layers.get(i).map(|l| l.diff_id.clone());
        let packages: HashMap<String, String> = package_files.into_iter().collect();
        for (path, m) in found {
            let present = tree
                .get(&path)
                .is_some_and(|n| n.kind == EntryKind::File && n.layer == i);
            let layer = diff_id.clone().map(|d| (i, d));
            let package = packages.get(&path).cloned();
            out.push(SecretFinding::new(m, path, layer, !present, package));
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
            out.push(SecretFinding::new(m, origin.clone(), None, false, None));
        }
    }
    out
}

/// Replace every value a secret rule finds in what bosun writes out about
/// the target (the image's history, labels, command, user, working
/// directory, environment variable names and tags, and the target's name)
/// by its redacted form, as the secret findings show it. The texts are
/// searched whether or not the secret scanner ran: an SBOM or an
/// attestation must not carry the token that a scan would report.
pub fn redact_source(scanner: &Scanner, source: &mut SourceInfo) {
    let red = |origin: &str, text: &mut String| {
        if let std::borrow::Cow::Owned(r) = scanner.redact_text(origin, text) {
            *text = r;
        }
    };
    red("target", &mut source.target);
    red("name", &mut source.name);
    let Some(image) = &mut source.image else {
        return;
    };
    for (i, h) in image.history.iter_mut().enumerate() {
        if let Some(c) = &mut h.created_by {
            red(&format!("history[{i}].created_by"), c);
        }
        if let Some(c) = &mut h.comment {
            red(&format!("history[{i}].comment"), c);
        }
    }
    // A label is searched as `key=value`, as the secret scanner sees it, so
    // that a key such as `db.password` is the context of its value.
    let labels = std::mem::take(&mut image.labels);
    for (k, v) in labels {
        let line = format!("{k}={v}");
        let redacted = scanner.redact_text("config.Labels", &line);
        let value = match redacted.strip_prefix(&format!("{k}=")) {
            Some(rest) => rest.to_string(),
            None => scanner.redact_text("config.Labels", &v).into_owned(),
        };
        let key = scanner.redact_text("config.Labels", &k).into_owned();
        image.labels.insert(key, value);
    }
    for (origin, list) in [
        ("config.Env", &mut image.env_names),
        ("config.Entrypoint", &mut image.entrypoint),
        ("config.Cmd", &mut image.cmd),
        ("tags", &mut image.tags),
    ] {
        for t in list.iter_mut() {
            red(origin, t);
        }
    }
    for (origin, field) in [
        ("config.User", &mut image.user),
        ("config.WorkingDir", &mut image.working_dir),
    ] {
        if let Some(t) = field {
            red(origin, t);
        }
    }
}
