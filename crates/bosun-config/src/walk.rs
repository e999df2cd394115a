//! Finding Dockerfiles and manifests under a directory.

use std::path::{Path, PathBuf};

use crate::{FileKind, Skipped};

/// Bounds on a directory walk: a checkout is small; a walk that goes on
/// forever is a symlink loop or the wrong directory.
const MAX_DEPTH: usize = 32;
const MAX_FILES: usize = 100_000;

/// Directories that hold dependencies or build output, not the project's
/// own Dockerfiles and manifests.
const IGNORED_DIRS: &[&str] = &[
    ".git",
    "node_modules",
    "target",
    "vendor",
    ".venv",
    "__pycache__",
];

/// What a file's name says it is, if anything.
pub fn classify(p: &Path) -> Option<FileKind> {
    let name = p.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    if lower == "dockerfile"
        || lower == "containerfile"
        || lower.ends_with(".dockerfile")
        || lower.ends_with(".containerfile")
        || (lower.starts_with("dockerfile.") && lower != "dockerfile.dockerignore")
    {
        return Some(FileKind::Dockerfile);
    }
    if lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json") {
        return Some(FileKind::Kubernetes);
    }
    None
}

/// Every Dockerfile and manifest under `root`, sorted, symlinks not followed.
pub fn find(root: &Path, skipped: &mut Vec<Skipped>) -> Vec<(PathBuf, FileKind)> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), 0usize)];
    let mut seen = 0usize;
    while let Some((dir, depth)) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                skipped.push(Skipped {
                    file: dir.display().to_string(),
                    reason: format!("cannot list directory: {e}"),
                });
                continue;
            }
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > MAX_FILES {
                skipped.push(Skipped {
                    file: root.display().to_string(),
                    reason: format!("more than {MAX_FILES} entries; the rest were not checked"),
                });
                out.sort();
                return out;
            }
            let path = entry.path();
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                let name = entry.file_name();
                let ignored = name.to_str().is_some_and(|n| IGNORED_DIRS.contains(&n));
                if ignored {
                    continue;
                }
                if depth + 1 >= MAX_DEPTH {
                    skipped.push(Skipped {
                        file: path.display().to_string(),
                        reason: format!("deeper than {MAX_DEPTH} directories, not searched"),
                    });
                } else {
                    stack.push((path, depth + 1));
                }
            } else if ft.is_file()
                && let Some(kind) = classify(&path)
            {
                out.push((path, kind));
            }
        }
    }
    out.sort();
    out
}
