//! Catalogers find packages in a [`FileIndex`]: the final filesystem of an
//! image or a directory, holding only the files some cataloger asked for.
//!
//! Two steps, so that layers are read once and their analysis can be cached:
//! 1. while a layer streams by, [`interest`] says per file whether to keep its
//!    bytes ([`Interest::Content`]) or to run a binary analyzer over the stream
//!    ([`Interest::Executable`], [`Interest::JavaArchive`]); the result is a
//!    [`Facts`] value, serialisable, and cached per layer;
//! 2. once the final filesystem is known, every cataloger reads the facts of
//!    the files that survived and emits packages.
//!
//! A file that cannot be parsed becomes an [`Unknown`](bosun_core::Unknown)
//! while the rest of the catalog carries on.

pub mod apk;
pub mod binary;
pub mod dotnet;
pub mod dpkg;
pub mod golang;
pub mod index;
pub mod java;
pub mod npm;
pub mod os;
pub mod php;
pub mod python;
pub mod rpm;
pub mod ruby;
pub mod rust;
pub mod shipped;
pub mod text;

use bosun_core::{Distro, Package, Relationship, Unknown, UnknownKind};
use serde::{Deserialize, Serialize};

pub use index::{FileIndex, FileRecord, Scope};

/// Bumped whenever any analyzer's output for the same bytes could change:
/// it is part of every layer cache key.
pub const ANALYZERS_VERSION: u32 = 4;

/// The largest per-file limit of [`content_limit`]: no file kept as
/// content is bigger.
pub const CONTENT_LIMIT: u64 = 128 << 20;

/// Content kept for the catalogers, summed over one layer's files: a layer
/// of many files each under its own limit still cannot fill memory. Files
/// past it become [`Facts::Incomplete`].
pub const LAYER_CONTENT_BUDGET: u64 = 128 << 20;

/// Content kept over all layers of one image (or one directory tree).
pub const IMAGE_CONTENT_BUDGET: u64 = 128 << 20;

const MIB: u64 = 1 << 20;

/// How many bytes of the file at `path` (one some cataloger wants as
/// content) may be kept, and what to call it in a message. Each limit is
/// a few times the biggest real file of its kind: a dpkg `status` of a
/// large image is 10-20 MiB, an rpm database up to ~100 MiB, a METADATA
/// a few KiB to ~1 MiB, a package-lock.json tens of MiB.
pub fn content_limit(path: &str) -> (u64, &'static str) {
    let name = path.rsplit('/').next().unwrap_or(path);
    if rpm::is_database(path) {
        return (CONTENT_LIMIT, "an rpm database");
    }
    match name {
        _ if path == "/var/lib/dpkg/status" => (64 * MIB, "dpkg status"),
        _ if path == "/lib/apk/db/installed" => (64 * MIB, "the apk database"),
        "package-lock.json" | "npm-shrinkwrap.json" | "yarn.lock" | "pnpm-lock.yaml" => {
            (64 * MIB, "an npm lock file")
        }
        "installed.json" | "composer.lock" => (64 * MIB, "a Composer package list"),
        "Cargo.lock" | "Gemfile.lock" | "gems.locked" => (16 * MIB, "a lock file"),
        _ if name.ends_with(".deps.json") => (32 * MIB, "a .deps.json"),
        "package.json" => (4 * MIB, "a package.json"),
        "METADATA" | "PKG-INFO" => (4 * MIB, "Python core metadata"),
        _ if name.ends_with(".egg-info") => (4 * MIB, "Python core metadata"),
        "RECORD" | "installed-files.txt" => (16 * MIB, "a Python file list"),
        "INSTALLER" => (MIB, "a Python INSTALLER"),
        _ if name.ends_with(".gemspec") => (4 * MIB, "a gemspec"),
        _ if name.ends_with(".list") || name.ends_with(".md5sums") => {
            (16 * MIB, "a dpkg file list")
        }
        "copyright" => (4 * MIB, "a copyright file"),
        _ if path.starts_with("/var/lib/dpkg/status.d/") => (16 * MIB, "a dpkg status.d entry"),
        _ if os::wants(path) => (MIB, "an OS release file"),
        _ => (16 * MIB, "a package file"),
    }
}

/// Why a wanted file was not kept: over its own limit.
pub fn over_limit_message(size: u64, path: &str) -> String {
    let (limit, what) = content_limit(path);
    format!(
        "not analysed: {} is over the {} limit for {what}",
        human(size),
        human(limit)
    )
}

/// Why a wanted file was not kept: the layer's or image's budget was spent.
pub fn over_budget_message(size: u64, budget: u64, scope: &str) -> String {
    format!(
        "not analysed: {} would exceed the {} budget of package content kept per {scope}",
        human(size),
        human(budget)
    )
}

fn human(n: u64) -> String {
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= MIB {
        format!("{:.1} MiB", n as f64 / MIB as f64)
    } else {
        format!("{n} bytes")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// What a layer walker should do with one regular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    Skip,
    /// Keep the bytes (up to [`content_limit`]).
    Content,
    /// Might be an ELF binary with Go or Rust build information.
    Executable,
    /// A jar/war/ear (zip) archive.
    JavaArchive,
}

/// The per-file result of analysis; what the layer cache stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Facts {
    Content(Vec<u8>),
    Go(golang::BuildInfo),
    RustAudit(rust::AuditInfo),
    Java(java::ArchiveFacts),
    /// The file was wanted but could not be read or analysed.
    Unreadable(String),
    /// A limit stopped the analysis of the file (it is over a size limit,
    /// or over the layer's budget): what it holds is not known, and the
    /// scan says so as an incomplete result, never as "clean".
    Incomplete(String),
}

/// Decide from the path, mode and size alone (no bytes read yet).
/// `path` is absolute (`/var/lib/dpkg/status`).
pub fn interest(path: &str, mode: u32, size: u64) -> Interest {
    if dpkg::wants(path)
        || os::wants(path)
        || apk::wants(path)
        || rpm::wants(path)
        || python::wants(path)
        || npm::wants(path)
        || rust::wants(path)
        || ruby::wants(path)
        || php::wants(path)
        || dotnet::wants(path)
    {
        return Interest::Content;
    }
    if java::wants(path) {
        return Interest::JavaArchive;
    }
    if binary::wants(path, mode, size) {
        return Interest::Executable;
    }
    Interest::Skip
}

/// Everything catalogers found.
#[derive(Debug, Default, Clone)]
pub struct Catalog {
    pub distro: Option<Distro>,
    pub packages: Vec<Package>,
    pub relationships: Vec<Relationship>,
    pub unknowns: Vec<Unknown>,
}

/// What each cataloger writes to.
#[derive(Debug, Default)]
pub struct Output {
    pub packages: Vec<Package>,
    pub unknowns: Vec<Unknown>,
}

impl Output {
    pub fn unknown(&mut self, cataloger: &str, rec: &FileRecord, message: impl Into<String>) {
        self.unknowns.push(Unknown {
            path: rec.path.clone(),
            layer: rec.layer.clone(),
            cataloger: cataloger.to_string(),
            message: message.into(),
            kind: UnknownKind::Unparsed,
        });
    }

    /// Decode `bytes` of `rec` as text (see [`text`]); when some were not
    /// UTF-8, record that as a [`UnknownKind::Lossy`] unknown naming what
    /// `tool` does with such a file. The caller keeps the package.
    pub fn text<'a>(
        &mut self,
        cataloger: &str,
        rec: &FileRecord,
        bytes: &'a [u8],
        tool: text::Tool,
    ) -> std::borrow::Cow<'a, str> {
        let d = text::decode(bytes);
        if let Some(at) = d.invalid_at {
            self.lossy(cataloger, rec, text::lossy_message(at, tool));
        }
        d.text
    }

    /// `rec` held text that was not UTF-8 and was decoded with replacement
    /// characters; what it names is kept.
    pub fn lossy(&mut self, cataloger: &str, rec: &FileRecord, message: impl Into<String>) {
        self.unknowns.push(Unknown {
            path: rec.path.clone(),
            layer: rec.layer.clone(),
            cataloger: cataloger.to_string(),
            message: message.into(),
            kind: UnknownKind::Lossy,
        });
    }

    /// A limit stopped the analysis of `rec`: the scan is incomplete.
    pub fn incomplete(&mut self, cataloger: &str, rec: &FileRecord, message: impl Into<String>) {
        self.unknowns.push(Unknown {
            path: rec.path.clone(),
            layer: rec.layer.clone(),
            cataloger: cataloger.to_string(),
            message: message.into(),
            kind: UnknownKind::Incomplete,
        });
    }
}

/// Run every cataloger over the index and tie the results together: purls,
/// stable ids, and ownership of language packages by OS packages.
pub fn catalog(index: &FileIndex) -> Catalog {
    let distro = os::detect(index);
    let mut out = Output::default();
    let os_catalogers: [fn(&FileIndex, &mut Output); 3] =
        [dpkg::catalog, rpm::catalog, apk::catalog];
    for os_cataloger in os_catalogers {
        let first = out.packages.len();
        os_cataloger(index, &mut out);
        attribute_layers(index, &mut out.packages[first..], os_cataloger);
    }
    python::catalog(index, &mut out);
    npm::catalog(index, &mut out);
    golang::catalog(index, &mut out);
    rust::catalog(index, &mut out);
    java::catalog(index, &mut out);
    ruby::catalog(index, &mut out);
    php::catalog(index, &mut out);
    dotnet::catalog(index, &mut out);
    for rec in index.files() {
        match &rec.facts {
            Facts::Unreadable(msg) => out.unknown("analyzer", rec, msg.clone()),
            Facts::Incomplete(msg) => out.incomplete("analyzer", rec, msg.clone()),
            _ => {}
        }
    }
    finish(distro, out)
}

/// OS package databases are rewritten by every layer that installs
/// something, so the database file's own layer is only the last such layer.
/// Each earlier version of the file (from lower layers) is read again with
/// the same cataloger, and every package is attributed to the oldest layer
/// of the unbroken run of versions, ending with the kept one, that lists the
/// same name and version: the layer that installed it.
fn attribute_layers(
    index: &FileIndex,
    packages: &mut [Package],
    cataloger: fn(&FileIndex, &mut Output),
) {
    use std::collections::{HashMap, HashSet};
    let mut by_path: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, p) in packages.iter().enumerate() {
        if let Some(l) = p.locations.first()
            && !index.earlier(&l.path).is_empty()
        {
            by_path.entry(l.path.clone()).or_default().push(i);
        }
    }
    for (path, members) in by_path {
        let mut alive: Vec<usize> = members;
        for older in index.earlier(&path).iter().rev() {
            let mut alone = FileIndex::with_scope(index.scope());
            alone.insert(older.clone());
            let mut scratch = Output::default();
            cataloger(&alone, &mut scratch);
            let listed: HashSet<(&str, &str)> = scratch
                .packages
                .iter()
                .map(|p| (p.name.as_str(), p.version.as_str()))
                .collect();
            alive.retain(|&i| {
                listed.contains(&(packages[i].name.as_str(), packages[i].version.as_str()))
            });
            if alive.is_empty() {
                break;
            }
            for &i in &alive {
                if let Some(l) = packages[i].locations.first_mut() {
                    l.layer = older.layer.clone();
                }
            }
        }
    }
}

fn finish(distro: Option<Distro>, out: Output) -> Catalog {
    let Output {
        mut packages,
        mut unknowns,
    } = out;
    for p in &mut packages {
        if p.purl.is_empty() {
            p.purl = p.compute_purl(distro.as_ref());
        }
        p.locations.sort();
        p.locations.dedup();
    }
    packages.sort_by(|a, b| {
        (a.kind, &a.name, &a.version, &a.locations).cmp(&(
            b.kind,
            &b.name,
            &b.version,
            &b.locations,
        ))
    });
    assign_ids(&mut packages);
    let relationships = ownership(&packages);
    unknowns.sort();
    unknowns.dedup();
    Catalog {
        distro,
        packages,
        relationships,
        unknowns,
    }
}

/// Ids are derived from content, so the same image always gives the same ids.
fn assign_ids(packages: &mut [Package]) {
    use std::collections::HashMap;
    let mut seen: HashMap<String, u32> = HashMap::new();
    for p in packages.iter_mut() {
        let loc = p.locations.first().map(|l| l.path.as_str()).unwrap_or("");
        let key = format!("{}|{}|{}", p.purl, loc, p.found_by);
        let h = bosun_core::Digest::sha256_of(key.as_bytes());
        let base = format!("{}-{}", p.kind.purl_type(), &h.hex()[..16]);
        let n = seen.entry(base.clone()).or_insert(0);
        p.id = if *n == 0 { base } else { format!("{base}-{n}") };
        *n += 1;
    }
}

/// A language package whose location (or any of whose files) belongs to an
/// OS package is owned by it: vulnerability matching defers to the distro.
fn ownership(packages: &[Package]) -> Vec<Relationship> {
    use bosun_core::RelationshipKind;
    use std::collections::HashMap;
    let mut owner: HashMap<&str, &str> = HashMap::new();
    for p in packages.iter().filter(|p| p.kind.is_os()) {
        for f in p.owned_files() {
            owner.entry(f.as_str()).or_insert(p.id.as_str());
        }
    }
    if owner.is_empty() {
        return Vec::new();
    }
    let mut rels = Vec::new();
    for p in packages.iter().filter(|p| !p.kind.is_os()) {
        let mut owners: Vec<&str> = Vec::new();
        let candidates = p
            .locations
            .iter()
            .map(|l| l.path.split("!/").next().unwrap_or(&l.path))
            .chain(p.owned_files().iter().map(String::as_str));
        for path in candidates {
            if let Some(o) = owner.get(path)
                && !owners.contains(o)
            {
                owners.push(o);
            }
        }
        for o in owners {
            rels.push(Relationship {
                from: p.id.clone(),
                to: o.to_string(),
                kind: RelationshipKind::OwnedBy,
            });
        }
    }
    rels.sort();
    rels
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Two layers of a real Alpine database: the second adds one package.
    /// Packages of the first stay attributed to it; the new one to the second.
    #[test]
    fn os_packages_carry_the_layer_that_installed_them() {
        let Some(db) =
            bosun_testutil::fixture("files/pkgdb/apk/alpine-3.18-x86_64.osv-scalibr.installed")
        else {
            return;
        };
        let base = std::fs::read(db).unwrap();
        let mut grown = base.clone();
        grown.extend_from_slice(b"\nP:extra-pkg\nV:1.0-r0\nA:x86_64\no:extra-pkg\nL:MIT\n\n");
        let l0: bosun_core::Digest = bosun_core::Digest::sha256_of(b"layer 0");
        let l1: bosun_core::Digest = bosun_core::Digest::sha256_of(b"layer 1");
        let rec = |bytes: &[u8], layer: &bosun_core::Digest| FileRecord {
            path: "/lib/apk/db/installed".into(),
            layer: Some(layer.clone()),
            facts: Facts::Content(bytes.to_vec()),
        };
        let mut index = FileIndex::new();
        index.insert(rec(&grown, &l1));
        index.insert_earlier(rec(&base, &l0));
        let cat = catalog(&index);
        let apks: Vec<&Package> = cat
            .packages
            .iter()
            .filter(|p| p.kind == bosun_core::PackageKind::Apk)
            .collect();
        assert!(apks.len() > 2);
        for p in apks {
            let want = if p.name == "extra-pkg" { &l1 } else { &l0 };
            assert_eq!(p.locations[0].layer.as_ref(), Some(want), "{}", p.name);
        }
    }
}
