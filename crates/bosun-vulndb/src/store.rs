//! The database file: one SQLite file, opened read-only by any number of
//! processes at once, replaced atomically by [`crate::build`].
//!
//! Advisories and their affected entries are stored as JSON bodies keyed for
//! the only lookups a scan makes: (ecosystem, package name) -> affected
//! entries, advisory by key, KEV / EPSS by CVE. The set of keys that have any
//! entry is loaded at open, so the great majority of lookups (packages with
//! no advisory) never touch SQLite.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use crate::model::{Advisory, Affected, Epss, KevEntry};

/// Bumped whenever tables or body encodings change; a database of another
/// version is refused with a message to update.
pub const SCHEMA_VERSION: u32 = 1;

/// The file name of the database inside the database directory.
pub const DB_FILE: &str = "vuln.db";

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "no vulnerability database at {0} (run `bosun db update`, or `bosun db import DIR` offline)"
    )]
    Missing(PathBuf),
    #[error("{path}: not a bosun vulnerability database ({reason})")]
    NotADatabase { path: PathBuf, reason: String },
    #[error("{path}: the database file is damaged ({reason}); run `bosun db update` to rebuild it")]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "{path}: database schema version {found}, this bosun reads version {SCHEMA_VERSION}; run `bosun db update`"
    )]
    SchemaVersion { path: PathBuf, found: u32 },
    #[error("{path}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path}: stored record {what} does not decode")]
    Body {
        path: PathBuf,
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What went into a database, stored in it and shown by `bosun db status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub schema_version: u32,
    /// Seconds since the epoch when the file was built.
    pub built: i64,
    /// The bosun version that built it.
    pub built_by: String,
    pub sources: Vec<SourceMeta>,
}

/// One input of the build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceMeta {
    /// `osv-PyPI`, `kev`, `epss`, `debian-tracker`.
    pub name: String,
    /// The file read, relative to the feed directory.
    pub file: String,
    pub sha256: String,
    pub size: u64,
    /// The feed's own version where it states one (KEV catalogVersion, EPSS
    /// score date), else the file's modification time.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version: Option<String>,
    pub records: u64,
    #[serde(skip_serializing_if = "is_zero", default)]
    pub withdrawn: u64,
    #[serde(skip_serializing_if = "is_zero", default)]
    pub skipped: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// An advisory's row key inside one database file.
pub type AdvisoryKey = i64;

pub(crate) const SCHEMA: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE advisory (key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, body TEXT NOT NULL);
CREATE TABLE affected (ecosystem TEXT NOT NULL, name TEXT NOT NULL, advisory INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX affected_key ON affected (ecosystem, name);
CREATE TABLE alias (alias TEXT NOT NULL, advisory INTEGER NOT NULL);
CREATE INDEX alias_key ON alias (alias);
CREATE TABLE kev (cve TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE epss (cve TEXT PRIMARY KEY, score REAL NOT NULL, percentile REAL NOT NULL);
";

/// An open database.
pub struct Db {
    path: PathBuf,
    conn: Connection,
    meta: Metadata,
    /// ecosystem -> names that have at least one affected entry.
    keys: FxHashMap<String, FxHashSet<String>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Opens `path` read-only, checking it is a whole database of this
    /// schema version before anything is read from it.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        check_file(path)?;
        let sql = |source| DbError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sql)?;
        let corrupt = |e: rusqlite::Error| DbError::Corrupt {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        let meta_json: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'metadata'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| DbError::NotADatabase {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        let meta_json = meta_json.ok_or_else(|| DbError::NotADatabase {
            path: path.to_path_buf(),
            reason: "no metadata record".into(),
        })?;
        #[derive(Deserialize)]
        struct Version {
            schema_version: u32,
        }
        let version: Version = serde_json::from_str(&meta_json).map_err(|e| DbError::Body {
            path: path.to_path_buf(),
            what: "metadata".into(),
            source: e,
        })?;
        if version.schema_version != SCHEMA_VERSION {
            return Err(DbError::SchemaVersion {
                path: path.to_path_buf(),
                found: version.schema_version,
            });
        }
        let meta: Metadata = serde_json::from_str(&meta_json).map_err(|e| DbError::Body {
            path: path.to_path_buf(),
            what: "metadata".into(),
            source: e,
        })?;
        let mut keys: FxHashMap<String, FxHashSet<String>> = FxHashMap::default();
        {
            let mut st = conn
                .prepare("SELECT DISTINCT ecosystem, name FROM affected")
                .map_err(corrupt)?;
            let mut rows = st.query([]).map_err(corrupt)?;
            while let Some(row) = rows.next().map_err(corrupt)? {
                let eco: String = row.get(0).map_err(corrupt)?;
                let name: String = row.get(1).map_err(corrupt)?;
                keys.entry(eco).or_default().insert(name);
            }
        }
        Ok(Db {
            path: path.to_path_buf(),
            conn,
            meta,
            keys,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn metadata(&self) -> &Metadata {
        &self.meta
    }

    /// Whether any advisory names `name` in `ecosystem` (both as stored:
    /// see [`crate::model::normalize_name`] and [`store_ecosystem`]).
    pub fn has(&self, ecosystem: &str, name: &str) -> bool {
        self.keys
            .get(ecosystem)
            .is_some_and(|names| names.contains(name))
    }

    /// The package names (as stored) that have entries in `ecosystem`, sorted.
    pub fn names(&self, ecosystem: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .keys
            .get(ecosystem)
            .map(|n| n.iter().cloned().collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// The ecosystems present, with the number of package names in each.
    pub fn ecosystems(&self) -> Vec<(String, usize)> {
        let mut v: Vec<_> = self
            .keys
            .iter()
            .map(|(e, n)| (e.clone(), n.len()))
            .collect();
        v.sort();
        v
    }

    /// Every affected entry for a package, with its advisory's key.
    pub fn affected(
        &self,
        ecosystem: &str,
        name: &str,
    ) -> Result<Vec<(AdvisoryKey, Affected)>, DbError> {
        if !self.has(ecosystem, name) {
            return Ok(Vec::new());
        }
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT advisory, body FROM affected WHERE ecosystem = ?1 AND name = ?2",
            )
            .map_err(|e| self.corrupt(e))?;
        let mut rows = st
            .query(params![ecosystem, name])
            .map_err(|e| self.corrupt(e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.corrupt(e))? {
            let key: AdvisoryKey = row.get(0).map_err(|e| self.corrupt(e))?;
            let body: String = row.get(1).map_err(|e| self.corrupt(e))?;
            let affected = serde_json::from_str(&body).map_err(|e| DbError::Body {
                path: self.path.clone(),
                what: format!("affected {ecosystem}/{name}"),
                source: e,
            })?;
            out.push((key, affected));
        }
        Ok(out)
    }

    /// The advisory stored under `key` (its `affected` list is empty: the
    /// entries are read per package with [`Db::affected`]).
    pub fn advisory(&self, key: AdvisoryKey) -> Result<Advisory, DbError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT body FROM advisory WHERE key = ?1")
            .map_err(|e| self.corrupt(e))?;
        let body: String = st
            .query_row([key], |r| r.get(0))
            .map_err(|e| self.corrupt(e))?;
        serde_json::from_str(&body).map_err(|e| DbError::Body {
            path: self.path.clone(),
            what: format!("advisory #{key}"),
            source: e,
        })
    }

    /// Keys of the advisories that have `id` as their id or an alias.
    pub fn advisories_by_id(&self, id: &str) -> Result<Vec<AdvisoryKey>, DbError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT key FROM advisory WHERE id = ?1 UNION SELECT advisory FROM alias WHERE alias = ?1")
            .map_err(|e| self.corrupt(e))?;
        let rows = st
            .query_map([id], |r| r.get(0))
            .map_err(|e| self.corrupt(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.corrupt(e))
    }

    pub fn kev(&self, cve: &str) -> Result<Option<KevEntry>, DbError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT body FROM kev WHERE cve = ?1")
            .map_err(|e| self.corrupt(e))?;
        let body: Option<String> = st
            .query_row([cve], |r| r.get(0))
            .optional()
            .map_err(|e| self.corrupt(e))?;
        body.map(|b| {
            serde_json::from_str(&b).map_err(|e| DbError::Body {
                path: self.path.clone(),
                what: format!("kev {cve}"),
                source: e,
            })
        })
        .transpose()
    }

    pub fn epss(&self, cve: &str) -> Result<Option<Epss>, DbError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT score, percentile FROM epss WHERE cve = ?1")
            .map_err(|e| self.corrupt(e))?;
        st.query_row([cve], |r| {
            Ok(Epss {
                score: r.get(0)?,
                percentile: r.get(1)?,
            })
        })
        .optional()
        .map_err(|e| self.corrupt(e))
    }

    /// Counts for `bosun db status`: advisories, affected entries, KEV, EPSS.
    pub fn counts(&self) -> Result<Counts, DbError> {
        let count = |table: &str| -> Result<u64, DbError> {
            self.conn
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
                    r.get::<_, i64>(0)
                })
                .map(|n| n.max(0) as u64)
                .map_err(|e| self.corrupt(e))
        };
        Ok(Counts {
            advisories: count("advisory")?,
            affected: count("affected")?,
            kev: count("kev")?,
            epss: count("epss")?,
        })
    }

    /// SQLite's full integrity check (slow on purpose: `db status --verify`).
    pub fn verify(&self) -> Result<(), DbError> {
        let result: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| self.corrupt(e))?;
        if result == "ok" {
            Ok(())
        } else {
            Err(DbError::Corrupt {
                path: self.path.clone(),
                reason: result,
            })
        }
    }

    fn corrupt(&self, e: rusqlite::Error) -> DbError {
        DbError::Corrupt {
            path: self.path.clone(),
            reason: e.to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub advisories: u64,
    pub affected: u64,
    pub kev: u64,
    pub epss: u64,
}

/// Cheap structural checks before SQLite sees the file: the header magic and
/// the page count it records against the file's length, so a truncated copy
/// is refused at open rather than failing midway through a scan.
fn check_file(path: &Path) -> Result<(), DbError> {
    use std::io::Read;
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(DbError::Missing(path.to_path_buf()));
        }
        Err(e) => {
            return Err(DbError::Io {
                path: path.to_path_buf(),
                source: e,
            });
        }
    };
    let len = f
        .metadata()
        .map_err(|e| DbError::Io {
            path: path.to_path_buf(),
            source: e,
        })?
        .len();
    let mut header = [0u8; 100];
    let not_db = |reason: &str| DbError::NotADatabase {
        path: path.to_path_buf(),
        reason: reason.into(),
    };
    f.read_exact(&mut header)
        .map_err(|_| not_db("shorter than an SQLite header"))?;
    if &header[..16] != b"SQLite format 3\0" {
        return Err(not_db("no SQLite header"));
    }
    // Page size: 2 bytes big-endian at 16, where 1 means 65536.
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536u64,
        n => u64::from(n),
    };
    let pages = u64::from(u32::from_be_bytes([
        header[28], header[29], header[30], header[31],
    ]));
    if page_size < 512 || !page_size.is_power_of_two() {
        return Err(DbError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("page size {page_size}"),
        });
    }
    if pages == 0 || pages.saturating_mul(page_size) != len {
        return Err(DbError::Corrupt {
            path: path.to_path_buf(),
            reason: format!(
                "the header records {pages} pages of {page_size} bytes but the file has {len} bytes (truncated or partly written?)"
            ),
        });
    }
    Ok(())
}

/// The ecosystem an affected entry is stored under: OSV's spelling, minus
/// qualifiers that do not change which installations it applies to
/// (`Ubuntu:22.04:LTS` -> `Ubuntu:22.04`).
pub fn store_ecosystem(ecosystem: &str) -> String {
    if let Some(rest) = ecosystem.strip_prefix("Ubuntu:") {
        let rest = rest.strip_suffix(":LTS").unwrap_or(rest);
        return format!("Ubuntu:{rest}");
    }
    ecosystem.to_string()
}
