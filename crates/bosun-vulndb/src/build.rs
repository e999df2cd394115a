//! Building a database file from a feed directory.
//!
//! The feed directory is laid out like the public mirrors (and like
//! `../shared/vulndata`): `osv/<Ecosystem>/all.zip` (or a directory of OSV
//! JSON files), `kev/known_exploited_vulnerabilities.json`,
//! `epss/*.csv[.gz]`, `debian/tracker.json`. The new file is written beside
//! the old one and renamed over it only when complete, so readers always see
//! either the old database or the new one, never a mixture.

use std::collections::HashSet;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};
use sha2::{Digest as _, Sha256};

use crate::feed::{self, Warning};
use crate::model::{Advisory, ecosystem_base, normalize_name};
use crate::store::{DbError, Metadata, SCHEMA, SCHEMA_VERSION, SourceMeta, store_ecosystem};

/// Largest KEV or tracker JSON read (the real ones are a few MB / ~100 MB).
const MAX_JSON_FEED: u64 = 512 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(
        "{0}: no feeds found (expected osv/<Ecosystem>/all.zip, kev/known_exploited_vulnerabilities.json, epss/*.csv.gz or debian/tracker.json)"
    )]
    Empty(PathBuf),
    #[error(transparent)]
    Feed(#[from] feed::FeedError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
}

/// What a build did, for the user.
#[derive(Debug, Clone)]
pub struct BuildReport {
    pub metadata: Metadata,
    /// Advisories that appeared in more than one source (osv.dev repeats a
    /// record in every ecosystem it affects): stored once.
    pub duplicates: u64,
    pub warnings: Vec<Warning>,
    pub size: u64,
}

/// Builds `db_path` from the feeds in `feed_dir`, replacing any file there
/// atomically. `now` is the build time (seconds since the epoch).
pub fn build(feed_dir: &Path, db_path: &Path, now: i64) -> Result<BuildReport, BuildError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BuildError::Io {
            path: path.clone(),
            source,
        }
    };
    let dir = db_path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let tmp = tempfile::Builder::new()
        .prefix(".vuln.db.new-")
        .tempfile_in(dir)
        .map_err(io(dir))?;
    let sql = |source| BuildError::Sqlite {
        path: tmp.path().to_path_buf(),
        source,
    };
    let mut conn = Connection::open(tmp.path()).map_err(sql)?;
    // Nothing is at stake until the rename: no journal, no syncs mid-build.
    conn.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA page_size = 4096;",
    )
    .map_err(sql)?;
    conn.execute_batch(SCHEMA).map_err(sql)?;

    let mut w = Writer {
        seen: HashSet::new(),
        duplicates: 0,
    };
    let mut sources = Vec::new();
    let mut warnings = Vec::new();
    let txn = conn.transaction().map_err(sql)?;

    for (name, path) in osv_inputs(feed_dir)? {
        let mut batch = Vec::new();
        let stats = if path.is_dir() {
            feed::osv::read_dir(&path, &name, &mut |a| batch.push(a))?
        } else {
            feed::osv::read_zip(&path, &name, &mut |a| batch.push(a))?
        };
        let mut inserted = 0;
        for a in &batch {
            inserted += u64::from(w.insert(&txn, a).map_err(sql)?);
        }
        let (sha256, size) = if path.is_dir() {
            (String::new(), 0)
        } else {
            hash_file(&path)?
        };
        sources.push(SourceMeta {
            name,
            file: rel(feed_dir, &path),
            sha256,
            size,
            version: None,
            records: inserted,
            withdrawn: stats.withdrawn as u64,
            skipped: stats.skipped as u64,
        });
        warnings.extend(stats.warnings);
    }

    let kev_path = feed_dir.join("kev/known_exploited_vulnerabilities.json");
    if kev_path.is_file() {
        let bytes = read_capped(&kev_path)?;
        let catalog = feed::kev::parse(&bytes)?;
        let entries = &catalog.entries;
        {
            let mut st = txn
                .prepare("INSERT OR REPLACE INTO kev (cve, body) VALUES (?1, ?2)")
                .map_err(sql)?;
            for e in entries {
                let body = serde_json::to_string(e).unwrap_or_default();
                st.execute(params![e.cve, body]).map_err(sql)?;
            }
        }
        let (sha256, size) = sha256_bytes(&bytes);
        sources.push(SourceMeta {
            name: "kev".into(),
            file: rel(feed_dir, &kev_path),
            sha256,
            size,
            version: Some(catalog.catalog_version.clone()),
            records: entries.len() as u64,
            withdrawn: 0,
            skipped: catalog.stats.skipped as u64,
        });
        warnings.extend(catalog.stats.warnings);
    }

    if let Some(epss_path) = epss_input(feed_dir)? {
        let gzip = epss_path.extension().is_some_and(|e| e == "gz");
        let file = std::fs::File::open(&epss_path).map_err(io(&epss_path))?;
        let (meta, scores) = feed::epss::parse(BufReader::new(file), gzip)?;
        {
            let mut st = txn
                .prepare("INSERT OR REPLACE INTO epss (cve, score, percentile) VALUES (?1, ?2, ?3)")
                .map_err(sql)?;
            for (cve, e) in &scores {
                st.execute(params![cve, e.score, e.percentile])
                    .map_err(sql)?;
            }
        }
        let (sha256, size) = hash_file(&epss_path)?;
        sources.push(SourceMeta {
            name: "epss".into(),
            file: rel(feed_dir, &epss_path),
            sha256,
            size,
            version: Some(meta.score_date),
            records: scores.len() as u64,
            withdrawn: 0,
            skipped: 0,
        });
    }

    let tracker_path = feed_dir.join("debian/tracker.json");
    if tracker_path.is_file() {
        let bytes = read_capped(&tracker_path)?;
        let (advisories, stats) =
            feed::debian::parse_tracker(&bytes, "debian-tracker", feed::debian::DEFAULT_RELEASES)?;
        let mut inserted = 0;
        for a in &advisories {
            inserted += u64::from(w.insert(&txn, a).map_err(sql)?);
        }
        let (sha256, size) = sha256_bytes(&bytes);
        sources.push(SourceMeta {
            name: "debian-tracker".into(),
            file: rel(feed_dir, &tracker_path),
            sha256,
            size,
            version: None,
            records: inserted,
            withdrawn: 0,
            skipped: stats.skipped as u64,
        });
        warnings.extend(stats.warnings);
    }

    if sources.is_empty() {
        return Err(BuildError::Empty(feed_dir.to_path_buf()));
    }
    let metadata = Metadata {
        schema_version: SCHEMA_VERSION,
        built: now,
        built_by: concat!("bosun ", env!("CARGO_PKG_VERSION")).to_string(),
        sources,
    };
    let meta_json = serde_json::to_string(&metadata).unwrap_or_default();
    txn.execute(
        "INSERT INTO meta (key, value) VALUES ('metadata', ?1)",
        [meta_json],
    )
    .map_err(sql)?;
    txn.commit().map_err(sql)?;
    conn.execute_batch("ANALYZE;").map_err(sql)?;
    conn.close().map_err(|(_, e)| sql(e))?;

    tmp.as_file().sync_all().map_err(io(tmp.path()))?;
    let size = tmp.as_file().metadata().map_err(io(tmp.path()))?.len();
    tmp.persist(db_path).map_err(|e| BuildError::Io {
        path: db_path.to_path_buf(),
        source: e.error,
    })?;
    // The rename itself must survive a crash too.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(BuildReport {
        metadata,
        duplicates: w.duplicates,
        warnings,
        size,
    })
}

struct Writer {
    seen: HashSet<String>,
    duplicates: u64,
}

impl Writer {
    /// Stores one advisory; false when it was a duplicate or withdrawn.
    fn insert(
        &mut self,
        txn: &rusqlite::Transaction<'_>,
        a: &Advisory,
    ) -> Result<bool, rusqlite::Error> {
        if a.withdrawn.is_some() {
            return Ok(false);
        }
        if !self.seen.insert(a.id.clone()) {
            self.duplicates += 1;
            return Ok(false);
        }
        let header = Advisory {
            affected: Vec::new(),
            ..a.clone()
        };
        let body = serde_json::to_string(&header).unwrap_or_default();
        txn.prepare_cached("INSERT INTO advisory (id, body) VALUES (?1, ?2)")?
            .execute(params![a.id, body])?;
        let key = txn.last_insert_rowid();
        let mut st = txn.prepare_cached(
            "INSERT INTO affected (ecosystem, name, advisory, body) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for aff in &a.affected {
            let eco = store_ecosystem(&aff.ecosystem);
            let name = normalize_name(ecosystem_base(&eco), &aff.name);
            let mut aff = aff.clone();
            aff.drop_covered_versions(&eco);
            let body = serde_json::to_string(&aff).unwrap_or_default();
            st.execute(params![eco, name, key, body])?;
        }
        let mut st = txn.prepare_cached("INSERT INTO alias (alias, advisory) VALUES (?1, ?2)")?;
        for alias in &a.aliases {
            st.execute(params![alias, key])?;
        }
        Ok(true)
    }
}

/// `(source name, path)` of every OSV input, sorted by ecosystem so builds
/// are reproducible: `osv/<Eco>/all.zip`, else the directory `osv/<Eco>/`.
fn osv_inputs(feed_dir: &Path) -> Result<Vec<(String, PathBuf)>, BuildError> {
    let osv = feed_dir.join("osv");
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(&osv) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => {
            return Err(BuildError::Io {
                path: osv,
                source: e,
            });
        }
    };
    for entry in entries {
        let entry = entry.map_err(|e| BuildError::Io {
            path: osv.clone(),
            source: e,
        })?;
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let Some(eco) = path
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        let zip = path.join("all.zip");
        out.push((format!("osv-{eco}"), if zip.is_file() { zip } else { path }));
    }
    out.sort();
    Ok(out)
}

/// The newest-named EPSS CSV in `epss/` (names carry the score date).
fn epss_input(feed_dir: &Path) -> Result<Option<PathBuf>, BuildError> {
    let dir = feed_dir.join("epss");
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(BuildError::Io {
                path: dir,
                source: e,
            });
        }
    };
    let mut best: Option<PathBuf> = None;
    for entry in entries.flatten() {
        let p = entry.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if p.is_file()
            && (name.ends_with(".csv") || name.ends_with(".csv.gz"))
            && best.as_ref().is_none_or(|b| p > *b)
        {
            best = Some(p);
        }
    }
    Ok(best)
}

fn read_capped(path: &Path) -> Result<Vec<u8>, BuildError> {
    let io = |source| BuildError::Io {
        path: path.to_path_buf(),
        source,
    };
    let f = std::fs::File::open(path).map_err(io)?;
    let mut buf = Vec::new();
    f.take(MAX_JSON_FEED + 1)
        .read_to_end(&mut buf)
        .map_err(io)?;
    if buf.len() as u64 > MAX_JSON_FEED {
        return Err(io(std::io::Error::other(format!(
            "larger than {MAX_JSON_FEED} bytes"
        ))));
    }
    Ok(buf)
}

fn hash_file(path: &Path) -> Result<(String, u64), BuildError> {
    let io = |source| BuildError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        size += n as u64;
    }
    Ok((hex::encode(h.finalize()), size))
}

fn sha256_bytes(b: &[u8]) -> (String, u64) {
    (hex::encode(Sha256::digest(b)), b.len() as u64)
}

fn rel(base: &Path, p: &Path) -> String {
    p.strip_prefix(base)
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
}
