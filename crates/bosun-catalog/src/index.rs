//! The final-filesystem view catalogers read.

use std::collections::BTreeMap;

use bosun_core::Digest;

use crate::Facts;

/// One kept file: its absolute path in the final filesystem, the layer it
/// came from (none for directory sources) and what analysis made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    pub path: String,
    pub layer: Option<Digest>,
    pub facts: Facts,
}

impl FileRecord {
    pub fn content(&self) -> Option<&[u8]> {
        match &self.facts {
            Facts::Content(b) => Some(b),
            _ => None,
        }
    }
    pub fn location(&self) -> bosun_core::Location {
        bosun_core::Location {
            path: self.path.clone(),
            layer: self.layer.clone(),
        }
    }
}

/// What kind of filesystem an index describes. Images report what is
/// installed; lock files there are leftovers of a build, not installed
/// software (Syft and Trivy agree), so lock-file catalogers only speak for
/// directories (source checkouts).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    #[default]
    Image,
    Directory,
}

/// Kept files by absolute path, plus the symlinks of the final filesystem so
/// that lookups such as `/etc/os-release` resolve the way the image would.
#[derive(Debug, Default, Clone)]
pub struct FileIndex {
    scope: Scope,
    files: BTreeMap<String, FileRecord>,
    /// Earlier versions of kept files, from lower layers, oldest first.
    earlier: BTreeMap<String, Vec<FileRecord>>,
    /// symlink path -> target as written in the link.
    symlinks: BTreeMap<String, String>,
}

/// How many symlinks one lookup may follow, as Linux's `MAXSYMLINKS`.
const MAX_HOPS: usize = 40;

impl FileIndex {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_scope(scope: Scope) -> Self {
        FileIndex {
            scope,
            ..Self::default()
        }
    }

    pub fn scope(&self) -> Scope {
        self.scope
    }

    pub fn insert(&mut self, rec: FileRecord) {
        self.files.insert(rec.path.clone(), rec);
    }

    /// Record a version of `rec.path` that a lower layer wrote and a later
    /// one replaced; call in layer order.
    pub fn insert_earlier(&mut self, rec: FileRecord) {
        self.earlier.entry(rec.path.clone()).or_default().push(rec);
    }

    /// The versions of `path` lower layers wrote before the kept one,
    /// oldest first (empty for directories and single-layer files).
    pub fn earlier(&self, path: &str) -> &[FileRecord] {
        self.earlier.get(path).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn insert_symlink(&mut self, path: impl Into<String>, target: impl Into<String>) {
        self.symlinks.insert(path.into(), target.into());
    }

    /// Every kept file, in path order. Files reached only through a symlink
    /// are not repeated, so each installed copy is seen once.
    pub fn files(&self) -> impl Iterator<Item = &FileRecord> {
        self.files.values()
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Files directly inside `dir` (not in sub-directories) whose names pass `keep`.
    pub fn files_in<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = &'a FileRecord> + 'a {
        let prefix = if dir.ends_with('/') {
            dir.to_string()
        } else {
            format!("{dir}/")
        };
        let start = prefix.clone();
        self.files
            .range(start..)
            .take_while(move |(k, _)| k.starts_with(&prefix))
            .filter(move |(k, _)| !k[dir.trim_end_matches('/').len() + 1..].contains('/'))
            .map(|(_, v)| v)
    }

    /// Look a path up, following symlinks in every component (never above
    /// the root: `..` at the root stays at the root).
    pub fn get(&self, path: &str) -> Option<&FileRecord> {
        let real = self.resolve(path)?;
        self.files.get(&real)
    }

    /// The real path a path leads to, or None on a loop.
    pub fn resolve(&self, path: &str) -> Option<String> {
        if self.symlinks.is_empty() {
            return Some(normalize(path));
        }
        let mut hops = 0;
        let mut pending: Vec<String> = components(path).rev().map(str::to_string).collect();
        let mut done: Vec<String> = Vec::new();
        while let Some(c) = pending.pop() {
            match c.as_str() {
                "." | "" => continue,
                ".." => {
                    done.pop();
                    continue;
                }
                _ => {}
            }
            done.push(c);
            let here = format!("/{}", done.join("/"));
            if let Some(target) = self.symlinks.get(&here) {
                hops += 1;
                if hops > MAX_HOPS {
                    return None;
                }
                done.pop();
                if target.starts_with('/') {
                    done.clear();
                }
                for t in components(target).rev() {
                    pending.push(t.to_string());
                }
            }
        }
        Some(format!("/{}", done.join("/")))
    }
}

fn components(p: &str) -> impl DoubleEndedIterator<Item = &str> {
    p.split('/').filter(|c| !c.is_empty())
}

/// Lexically clean an absolute path, clamping `..` at the root.
pub fn normalize(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in components(path) {
        match c {
            "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    format!("/{}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(p: &str) -> FileRecord {
        FileRecord {
            path: p.into(),
            layer: None,
            facts: Facts::Content(p.as_bytes().to_vec()),
        }
    }

    #[test]
    fn resolves_symlinks_inside_root() {
        let mut ix = FileIndex::new();
        ix.insert(rec("/usr/lib/os-release"));
        ix.insert_symlink("/etc/os-release", "../usr/lib/os-release");
        ix.insert_symlink("/lib", "usr/lib");
        ix.insert_symlink("/escape", "../../../../usr/lib/os-release");
        ix.insert_symlink("/loop1", "/loop2");
        ix.insert_symlink("/loop2", "/loop1");
        assert!(ix.get("/etc/os-release").is_some());
        assert!(ix.get("/lib/os-release").is_some());
        assert_eq!(
            ix.resolve("/escape").as_deref(),
            Some("/usr/lib/os-release")
        );
        assert!(ix.get("/loop1").is_none());
        assert_eq!(ix.files().count(), 1);
    }

    #[test]
    fn lists_direct_children() {
        let mut ix = FileIndex::new();
        ix.insert(rec("/a/b"));
        ix.insert(rec("/a/c/d"));
        ix.insert(rec("/ab"));
        let names: Vec<_> = ix.files_in("/a").map(|r| r.path.as_str()).collect();
        assert_eq!(names, vec!["/a/b"]);
    }
}
