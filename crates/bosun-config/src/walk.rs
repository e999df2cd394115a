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

/// Every Dockerfile and manifest under `root`, sorted. A symlink is
/// checked (under its own name) when it resolves to a regular file inside
/// `root`; a symlink that leaves `root`, is broken, or names a directory
/// (which could loop) is listed in `skipped`, as is a Dockerfile or
/// manifest name on something that is not a regular file (a FIFO would
/// block the read forever).
pub fn find(root: &Path, skipped: &mut Vec<Skipped>) -> Vec<(PathBuf, FileKind)> {
    let mut out = Vec::new();
    let root_real = std::fs::canonicalize(root).ok();
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
            } else if ft.is_file() {
                if let Some(kind) = classify(&path) {
                    out.push((path, kind));
                }
            } else if ft.is_symlink() {
                match symlink(&path, root_real.as_deref()) {
                    Ok(Some(kind)) => out.push((path, kind)),
                    Ok(None) => {}
                    Err(reason) => skipped.push(Skipped {
                        file: path.display().to_string(),
                        reason,
                    }),
                }
            } else if classify(&path).is_some() {
                skipped.push(Skipped {
                    file: path.display().to_string(),
                    reason: "not a regular file (a FIFO, socket or device), not read".into(),
                });
            }
        }
    }
    out.sort();
    out
}

/// What to do with a symlink found in a walk: `Ok(Some)` check it,
/// `Ok(None)` not a candidate, `Err` list it as skipped with the reason.
fn symlink(path: &Path, root: Option<&Path>) -> Result<Option<FileKind>, String> {
    let kind = classify(path);
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if kind.is_some() => return Err(format!("symlink that cannot be followed: {e}")),
        Err(_) => return Ok(None),
    };
    if meta.is_dir() {
        return Err(
            "symlink to a directory, not followed (it could loop or leave the tree)".into(),
        );
    }
    let Some(kind) = kind else { return Ok(None) };
    if !meta.is_file() {
        return Err("symlink to something that is not a regular file, not read".into());
    }
    let target =
        std::fs::canonicalize(path).map_err(|e| format!("symlink that cannot be followed: {e}"))?;
    match root {
        Some(r) if target.starts_with(r) => Ok(Some(kind)),
        _ => Err(format!(
            "symlink to {}, outside the directory searched: not followed",
            target.display()
        )),
    }
}
