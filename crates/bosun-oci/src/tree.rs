//! The final filesystem of an image: layers applied in order, whiteouts and
//! opaque directories hiding what lower layers put there. Every node keeps
//! the index of the layer that last wrote it.

use std::collections::BTreeMap;

use crate::layer::{Entry, EntryKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: EntryKind,
    pub layer: usize,
    pub mode: u32,
    pub size: u64,
}

#[derive(Debug, Default, Clone)]
pub struct FileTree {
    nodes: BTreeMap<String, Node>,
}

impl FileTree {
    pub fn new() -> Self {
        Self::default()
    }

    /// Apply one layer's entries on top of what is there. Whiteouts and
    /// opaque markers only ever hide lower layers, whatever their position in
    /// the tar, so they are applied first.
    pub fn apply<'a>(
        &mut self,
        layer: usize,
        entries: impl IntoIterator<Item = &'a Entry> + Clone,
    ) {
        for e in entries.clone() {
            match e.kind {
                EntryKind::Whiteout => {
                    self.nodes.remove(&e.path);
                    self.remove_below(&e.path);
                }
                EntryKind::Opaque => self.remove_below(&e.path),
                _ => {}
            }
        }
        for e in entries {
            if matches!(e.kind, EntryKind::Whiteout | EntryKind::Opaque) {
                continue;
            }
            if e.kind != EntryKind::Dir {
                // A file replacing a directory replaces what was in it.
                if self
                    .nodes
                    .get(&e.path)
                    .is_some_and(|n| n.kind == EntryKind::Dir)
                {
                    self.remove_below(&e.path);
                }
            } else if self
                .nodes
                .get(&e.path)
                .is_some_and(|n| n.kind == EntryKind::Dir)
            {
                // Re-declaring a directory keeps its children and its origin layer.
                continue;
            }
            self.nodes.insert(
                e.path.clone(),
                Node {
                    kind: e.kind.clone(),
                    layer,
                    mode: e.mode,
                    size: e.size,
                },
            );
        }
    }

    fn remove_below(&mut self, dir: &str) {
        let prefix = if dir == "/" {
            "/".to_string()
        } else {
            format!("{dir}/")
        };
        let doomed: Vec<String> = self
            .nodes
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            self.nodes.remove(&k);
        }
    }

    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Node)> {
        self.nodes.iter()
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(path: &str, kind: EntryKind) -> Entry {
        Entry {
            path: path.into(),
            kind,
            mode: 0o644,
            size: 1,
        }
    }

    #[test]
    fn whiteouts_and_opaque_dirs() {
        let mut t = FileTree::new();
        let l0 = vec![
            e("/etc", EntryKind::Dir),
            e("/etc/secret", EntryKind::File),
            e("/opt", EntryKind::Dir),
            e("/opt/a", EntryKind::File),
            e("/opt/sub/b", EntryKind::File),
            e("/keep", EntryKind::File),
        ];
        t.apply(0, &l0);
        // The marker comes after the new file in the tar: it must still only hide layer 0.
        let l1 = vec![
            e("/opt/new", EntryKind::File),
            e("/opt", EntryKind::Opaque),
            e("/etc/secret", EntryKind::Whiteout),
        ];
        t.apply(1, &l1);
        assert!(t.get("/etc/secret").is_none());
        assert!(t.get("/opt/a").is_none());
        assert!(t.get("/opt/sub/b").is_none());
        assert_eq!(t.get("/opt/new").map(|n| n.layer), Some(1));
        assert_eq!(t.get("/keep").map(|n| n.layer), Some(0));
        assert_eq!(t.get("/opt").map(|n| n.layer), Some(0));
    }

    #[test]
    fn file_replaces_directory() {
        let mut t = FileTree::new();
        t.apply(
            0,
            &vec![e("/x", EntryKind::Dir), e("/x/y", EntryKind::File)],
        );
        t.apply(1, &vec![e("/x", EntryKind::Symlink("/elsewhere".into()))]);
        assert!(t.get("/x/y").is_none());
        assert!(matches!(
            t.get("/x").map(|n| &n.kind),
            Some(EntryKind::Symlink(_))
        ));
    }
}
