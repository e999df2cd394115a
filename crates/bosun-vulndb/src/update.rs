//! `db update` and `db import`: bring the feed directory up to date, then
//! rebuild the database when what it was built from changed.
//!
//! Layout of a database directory: `vuln.db` and `feeds/` (laid out like
//! the public mirrors, see [`crate::build`]). Each feed file and the
//! database are replaced by rename, so a crash or kill at any point leaves a
//! usable database; the next run notices feeds newer than the database
//! (by hash) and rebuilds.

use std::path::{Path, PathBuf};

use crate::build::{self, BuildError, BuildReport};
use crate::fetch::{self, FeedMeta, FetchError, Fetcher, Outcome, Source};
use crate::store::{DB_FILE, Db};

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What an update did.
#[derive(Debug)]
pub struct UpdateReport {
    /// Per source: its name and what happened (or why it failed).
    pub feeds: Vec<(String, Result<Outcome, FetchError>)>,
    /// Set when the database was rebuilt.
    pub built: Option<BuildReport>,
}

pub fn db_file(db_dir: &Path) -> PathBuf {
    db_dir.join(DB_FILE)
}

pub fn feed_dir(db_dir: &Path) -> PathBuf {
    db_dir.join("feeds")
}

/// Downloads `sources` (conditionally) and rebuilds when needed. A source
/// that fails keeps its previous file; the update fails only when no usable
/// feed remains.
pub fn update(
    db_dir: &Path,
    fetcher: &Fetcher,
    sources: &[Source],
    now: i64,
) -> Result<UpdateReport, UpdateError> {
    let _lock = lock(db_dir)?;
    remove_leftovers(db_dir);
    let feeds_dir = feed_dir(db_dir);
    let feeds: Vec<(String, Result<Outcome, FetchError>)> = std::thread::scope(|s| {
        // A few downloads at once: most time is waiting on the network.
        let chunks: Vec<&[Source]> = sources.chunks(sources.len().div_ceil(4).max(1)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let feeds_dir = &feeds_dir;
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|src| (src.name.clone(), fetcher.fetch(src, feeds_dir)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    if feeds.iter().all(|(_, r)| r.is_err()) {
        if let Some((_, Err(e))) = feeds.into_iter().next() {
            return Err(UpdateError::Fetch(e));
        }
        return Ok(UpdateReport {
            feeds: Vec::new(),
            built: None,
        });
    }
    let built = rebuild_if_needed(db_dir, now)?;
    Ok(UpdateReport { feeds, built })
}

/// Installs the feeds found at `src` (a directory laid out like the
/// mirrors, or its base URL) and rebuilds.
pub fn import(
    db_dir: &Path,
    fetcher: &Fetcher,
    src: &str,
    now: i64,
) -> Result<UpdateReport, UpdateError> {
    let _lock = lock(db_dir)?;
    remove_leftovers(db_dir);
    let results = fetch::import(src, &feed_dir(db_dir), fetcher)?;
    let built = rebuild_if_needed(db_dir, now)?;
    Ok(UpdateReport {
        feeds: results.into_iter().map(|(n, o)| (n, Ok(o))).collect(),
        built,
    })
}

/// Rebuilds when the database is missing, unreadable, or was built from
/// other feed files than those present now.
fn rebuild_if_needed(db_dir: &Path, now: i64) -> Result<Option<BuildReport>, UpdateError> {
    let feeds_dir = feed_dir(db_dir);
    let db_path = db_file(db_dir);
    let current = match Db::open(&db_path) {
        Ok(db) => {
            let built_from = &db.metadata().sources;
            let present = present_feeds(&feeds_dir);

            present.len() == built_from.iter().filter(|s| !s.sha256.is_empty()).count()
                && present.iter().all(|(path, sha)| {
                    built_from
                        .iter()
                        .any(|s| &s.file == path && &s.sha256 == sha)
                })
        }
        Err(_) => false,
    };
    if current {
        return Ok(None);
    }
    Ok(Some(build::build(&feeds_dir, &db_path, now)?))
}

/// `(relative path, sha256)` of every feed file with a sidecar.
fn present_feeds(feeds_dir: &Path) -> Vec<(String, String)> {
    let mut paths: Vec<String> = fetch::default_sources()
        .into_iter()
        .chain(fetch::optional_sources())
        .map(|s| s.path)
        .collect();
    // Ecosystems outside the default list that an import brought.
    if let Ok(entries) = std::fs::read_dir(feeds_dir.join("osv")) {
        for e in entries.flatten() {
            if let Some(name) = e.file_name().to_str() {
                let p = format!("osv/{name}/all.zip");
                if !paths.contains(&p) {
                    paths.push(p);
                }
            }
        }
    }
    paths
        .into_iter()
        .filter_map(|p| FeedMeta::load(feeds_dir, &p).map(|m| (p, m.sha256)))
        .collect()
}

/// Partial downloads and builds of a process that was killed. Every writer
/// holds the update lock, so under it any such file is an orphan.
fn remove_leftovers(db_dir: &Path) {
    fn sweep(dir: &Path, depth: u32) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            let name = e.file_name();
            let name = name.to_string_lossy();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() && depth < 3 {
                sweep(&path, depth + 1);
            } else if ft.is_file()
                && ((name.starts_with(".bosun-") && name.ends_with(".part"))
                    || name.starts_with(".vuln.db.new-"))
            {
                tracing::info!("removing {} left by an interrupted update", path.display());
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    sweep(db_dir, 0);
}

/// One update at a time per directory; readers never wait.
fn lock(db_dir: &Path) -> Result<std::fs::File, UpdateError> {
    let io = |source| UpdateError::Io {
        path: db_dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(db_dir).map_err(io)?;
    let path = db_dir.join(".update.lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    f.lock().map_err(io)?;
    Ok(f)
}
