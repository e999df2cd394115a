//! Layers on top of each other: the final filesystem as a [`FileIndex`].

use std::collections::HashMap;

use bosun_catalog::{Facts, FileIndex, FileRecord};
use bosun_core::Unknown;
use bosun_oci::ResolvedImage;
use bosun_oci::layer::{EntryKind, RejectKind};
use bosun_oci::tree::FileTree;

use crate::analyze::LayerAnalysis;
use crate::secrets::{self, SecretFinding};

/// Content copied for hard links to kept package files, per image.
const HARDLINK_COPIES: u64 = 64 << 20;

/// Apply the layers in order and keep the facts of the files that survive,
/// each with the diff_id of the layer that last wrote it. Entries a layer
/// walk reported (skipped or placed elsewhere than their names say: suspicious;
/// where a limit stopped it: incomplete) come back as unknowns.
pub fn merge(image: &ResolvedImage, analyses: Vec<LayerAnalysis>) -> (FileIndex, Vec<Unknown>) {
    let (index, unknowns, _) = merge_with_secrets(image, analyses);
    (index, unknowns)
}

/// [`merge`], also placing the secrets the layer analyses found: which
/// layer holds each, and whether the final filesystem still has it.
pub fn merge_with_secrets(
    image: &ResolvedImage,
    mut analyses: Vec<LayerAnalysis>,
) -> (FileIndex, Vec<Unknown>, Vec<SecretFinding>) {
    let per_layer: Vec<_> = analyses
        .iter_mut()
        .map(|a| {
            (
                std::mem::take(&mut a.secrets),
                std::mem::take(&mut a.package_files),
            )
        })
        .collect();
    let mut tree = FileTree::new();
    let mut unknowns = Vec::new();
    for (i, a) in analyses.iter().enumerate() {
        tree.apply(i, &a.entries);
        for r in &a.rejected {
            unknowns.push(Unknown {
                path: r.path.clone(),
                layer: image.layers.get(i).map(|l| l.diff_id.clone()),
                cataloger: "layer-walker".into(),
                message: r.reason.clone(),
                kind: match r.kind {
                    RejectKind::Suspicious => bosun_core::UnknownKind::Suspicious,
                    RejectKind::Incomplete => bosun_core::UnknownKind::Incomplete,
                },
            });
        }
    }
    let found = secrets::locate(image, &tree, per_layer);
    let mut facts: Vec<HashMap<String, Facts>> = analyses
        .into_iter()
        .map(|a| a.facts.into_iter().collect())
        .collect();
    let mut index = FileIndex::new();
    let mut hardlinks = Vec::new();
    for (path, node) in tree.iter() {
        match &node.kind {
            EntryKind::File => {
                if let Some(f) = facts.get_mut(node.layer).and_then(|m| m.remove(path)) {
                    index.insert(FileRecord {
                        path: path.clone(),
                        layer: image.layers.get(node.layer).map(|l| l.diff_id.clone()),
                        facts: f,
                    });
                }
            }
            EntryKind::Symlink(target) => index.insert_symlink(path.clone(), target.clone()),
            EntryKind::Hardlink(target) => {
                hardlinks.push((path.clone(), node.layer, target.clone()))
            }
            _ => {}
        }
    }
    // A hard link is the same inode as its target: same content, same facts.
    // Only links at paths a cataloger wants get them, and their copies are
    // bounded: a hundred links to one big database must not make a hundred
    // copies of it.
    let mut copied = 0u64;
    for (path, layer, target) in hardlinks {
        let Some((mode, size)) = tree.get(&target).map(|n| (n.mode, n.size)) else {
            continue;
        };
        if bosun_catalog::interest(&path, mode, size) == bosun_catalog::Interest::Skip {
            continue;
        }
        let Some(f) = index.get(&target).map(|r| &r.facts) else {
            continue;
        };
        let bytes = match f {
            Facts::Content(c) => c.len() as u64,
            _ => 0,
        };
        let facts = if copied + bytes > HARDLINK_COPIES {
            Facts::Incomplete(format!(
                "not analysed: a hard link to {target}, past the {HARDLINK_COPIES}-byte budget for hard-linked package files"
            ))
        } else {
            copied += bytes;
            f.clone()
        };
        index.insert(FileRecord {
            path,
            layer: image.layers.get(layer).map(|l| l.diff_id.clone()),
            facts,
        });
    }
    // What lower layers wrote at the paths that survive tells catalogers
    // which layer introduced a package (dpkg's status is rewritten by every
    // layer that installs something).
    for (i, layer_facts) in facts.into_iter().enumerate() {
        let mut paths: Vec<(String, Facts)> = layer_facts.into_iter().collect();
        paths.sort_by(|a, b| a.0.cmp(&b.0));
        for (path, f) in paths {
            let replaced_later = index.get(&path).is_some_and(|r| r.path == path)
                && tree.get(&path).is_some_and(|n| n.layer > i);
            if replaced_later {
                index.insert_earlier(FileRecord {
                    path,
                    layer: image.layers.get(i).map(|l| l.diff_id.clone()),
                    facts: f,
                });
            }
        }
    }
    (index, unknowns, found)
}
