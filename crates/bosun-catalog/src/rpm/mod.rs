//! rpm cataloger: the installed-package database in any of rpm's three
//! formats (sqlite, Berkeley DB hash, NDB), plus the text manifest that
//! CBL-Mariner distroless images ship instead of a database.

mod bdb;
mod header;
mod ndb;
mod sqlite;

use std::collections::HashMap;

use bosun_core::package::{Package, PackageKind, PackageMetadata, RpmMetadata};

use crate::shipped::{FileDigests, hex_eq};
use crate::{FileIndex, FileRecord, Output};
use header::Header;

pub const CATALOGER_ID: &str = "rpm-cataloger";

const DB_DIRS: [&str; 2] = ["/var/lib/rpm/", "/usr/lib/sysimage/rpm/"];
const MANIFEST: &str = "/var/lib/rpmmanifest/container-manifest-2";

/// A corrupt database can fail on every record; past this many the rest
/// are only counted.
const MAX_UNKNOWNS: usize = 20;

/// Header blobs read from a database, one result per record: a bad record
/// does not hide the others.
type Records = Vec<Result<Vec<u8>, String>>;

#[derive(Clone, Copy)]
enum Format {
    Sqlite,
    Bdb,
    Ndb,
    Manifest,
}

fn format_of(path: &str) -> Option<Format> {
    let (dir, name) = path.rsplit_once('/')?;
    let format = match name {
        "rpmdb.sqlite" => Format::Sqlite,
        "Packages" => Format::Bdb,
        "Packages.db" => Format::Ndb,
        "container-manifest-2" if path == MANIFEST => return Some(Format::Manifest),
        _ => return None,
    };
    // `dir` lacks the trailing slash the constants carry.
    DB_DIRS
        .iter()
        .any(|d| d.strip_suffix('/') == Some(dir))
        .then_some(format)
}

/// Whether this cataloger needs the bytes of the file at `path`.
pub fn wants(path: &str) -> bool {
    format_of(path).is_some()
}

/// Whether `path` is an rpm database (not the text manifest).
pub fn is_database(path: &str) -> bool {
    !matches!(format_of(path), None | Some(Format::Manifest))
}

pub fn catalog(index: &FileIndex, out: &mut Output) {
    for rec in index.files() {
        let Some(format) = format_of(&rec.path) else {
            continue;
        };
        let Some(bytes) = rec.content() else { continue };
        let records = match format {
            Format::Sqlite => sqlite::read(bytes),
            Format::Bdb => bdb::read(bytes),
            Format::Ndb => ndb::read(bytes),
            Format::Manifest => {
                manifest(rec, bytes, out);
                continue;
            }
        };
        match records {
            Ok(records) => {
                let mut failed = 0;
                for (i, r) in records.into_iter().enumerate() {
                    match r.and_then(|blob| package(&blob)) {
                        Ok(Some(mut p)) => {
                            p.locations = vec![rec.location()];
                            out.packages.push(p);
                        }
                        Ok(None) => {}
                        Err(e) => {
                            failed += 1;
                            if failed <= MAX_UNKNOWNS {
                                out.unknown(CATALOGER_ID, rec, format!("record {i}: {e}"));
                            }
                        }
                    }
                }
                if failed > MAX_UNKNOWNS {
                    let more = failed - MAX_UNKNOWNS;
                    out.unknown(CATALOGER_ID, rec, format!("{more} more records failed"));
                }
            }
            Err(e) => out.unknown(CATALOGER_ID, rec, e),
        }
    }
}

/// One package from a header blob; None for the `gpg-pubkey` entries rpm
/// keeps for imported signing keys, which are not software.
fn package(blob: &[u8]) -> Result<Option<Package>, String> {
    let h = Header::parse(blob)?;
    let need = |tag: u32, what: &str| -> Result<String, String> {
        h.string(tag)?
            .ok_or_else(|| format!("header has no {what}"))
    };
    let name = need(header::NAME, "NAME")?;
    if name == "gpg-pubkey" {
        return Ok(None);
    }
    let version = need(header::VERSION, "VERSION")?;
    let release = need(header::RELEASE, "RELEASE")?;
    let ctx = |e: String| format!("{name}: {e}");
    let source_rpm = h.string(header::SOURCERPM).map_err(ctx)?;
    let (source_name, source_version) = source_of(
        source_rpm.as_deref(),
        &name,
        &format!("{version}-{release}"),
    );
    let license = h.string(header::LICENSE).map_err(ctx)?;
    let metadata = RpmMetadata {
        epoch: h.int(header::EPOCH),
        architecture: h.string(header::ARCH).map_err(ctx)?.unwrap_or_default(),
        source_rpm,
        source_name,
        source_version,
        vendor: h
            .string(header::VENDOR)
            .map_err(ctx)?
            .filter(|v| !v.is_empty()),
        size: h.int(header::SIZE).or_else(|| h.int(header::LONGSIZE)),
        modularity_label: h
            .string(header::MODULARITYLABEL)
            .map_err(ctx)?
            .filter(|v| !v.is_empty()),
        files: files_of(&h).map_err(ctx)?,
        version: version.clone(),
        release: release.clone(),
    };
    Ok(Some(Package {
        id: String::new(),
        version: format!("{version}-{release}"),
        name,
        kind: PackageKind::Rpm,
        purl: String::new(),
        licenses: license.into_iter().filter(|l| !l.is_empty()).collect(),
        locations: Vec::new(),
        found_by: CATALOGER_ID.to_string(),
        metadata: PackageMetadata::Rpm(metadata),
    }))
}

/// Which of `files` (absolute path and digests of the content) an installed
/// package shipped exactly so, going by the file digests in the rpm
/// database `bytes` found at `path`: path to package. Headers that do not
/// parse, digests of algorithms other than MD5 and SHA-256 (rpm's
/// default since 4.6), and empty digests (directories, links) match
/// nothing.
pub fn shipped_unmodified(
    path: &str,
    bytes: &[u8],
    files: &HashMap<String, FileDigests>,
) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let records = match format_of(path) {
        _ if files.is_empty() => return out,
        Some(Format::Sqlite) => sqlite::read(bytes),
        Some(Format::Bdb) => bdb::read(bytes),
        Some(Format::Ndb) => ndb::read(bytes),
        Some(Format::Manifest) | None => return out,
    };
    for blob in records.into_iter().flatten().flatten() {
        let Ok(h) = Header::parse(&blob) else {
            continue;
        };
        let (Ok(Some(name)), Ok(paths), Ok(digests)) = (
            h.string(header::NAME),
            files_of(&h),
            h.strings(header::FILEDIGESTS),
        ) else {
            continue;
        };
        // PGPHASHALGO: 1 MD5 (also when the tag is absent), 8 SHA-256.
        let algo = h.int(header::FILEDIGESTALGO).unwrap_or(1);
        for (p, hex) in paths.iter().zip(&digests) {
            let Some(d) = files.get(p) else { continue };
            let same = match algo {
                1 => hex_eq(hex, &d.md5),
                8 => hex_eq(hex, &d.sha256),
                _ => false,
            };
            if same {
                out.insert(p.clone(), name.clone());
            }
        }
    }
    out
}

/// Absolute paths of the files a header owns: `DIRNAMES[DIRINDEXES[i]] +
/// BASENAMES[i]`, or the flat list of rpm before 4.1.
fn files_of(h: &Header) -> Result<Vec<String>, String> {
    let base = h.strings(header::BASENAMES)?;
    if base.is_empty() {
        return h.strings(header::OLDFILENAMES);
    }
    let dirs = h.strings(header::DIRNAMES)?;
    let idx = h.int32s(header::DIRINDEXES)?;
    if idx.len() != base.len() {
        return Err(format!(
            "{} BASENAMES but {} DIRINDEXES",
            base.len(),
            idx.len()
        ));
    }
    base.iter()
        .zip(idx)
        .map(|(b, i)| match dirs.get(i as usize) {
            Some(d) => Ok(format!("{d}{b}")),
            None => Err(format!(
                "DIRINDEXES entry {i} is past the {} DIRNAMES",
                dirs.len()
            )),
        })
        .collect()
}

/// Source name and `version-release` from the source RPM's file name,
/// else the binary package's own.
fn source_of(source_rpm: Option<&str>, name: &str, evr: &str) -> (String, String) {
    let (n, v) = source_rpm.and_then(split_source_rpm).unwrap_or((name, evr));
    (n.to_string(), v.to_string())
}

/// `NAME-VERSION-RELEASE.src.rpm` (or `.nosrc.rpm`) -> (NAME, VERSION-RELEASE).
fn split_source_rpm(file: &str) -> Option<(&str, &str)> {
    let stem = file
        .strip_suffix(".src.rpm")
        .or_else(|| file.strip_suffix(".nosrc.rpm"))?;
    let (rest, _release) = stem.rsplit_once('-')?;
    let (name, _version) = rest.rsplit_once('-')?;
    if name.is_empty() {
        return None;
    }
    Some((name, &stem[name.len() + 1..]))
}

/// The CBL-Mariner distroless manifest: one package a line, tab-separated
/// `NAME VERSION-RELEASE INSTALLTIME BUILDTIME VENDOR EPOCH SIZE ARCH
/// EPOCHNUM SOURCERPM`, as `rpm -qa --qf` wrote it (`(none)` for no value).
fn manifest(rec: &FileRecord, bytes: &[u8], out: &mut Output) {
    let text = String::from_utf8_lossy(bytes);
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let name = f.first().copied().unwrap_or_default();
        let evr = f.get(1).copied().unwrap_or_default();
        let Some((version, release)) = evr.rsplit_once('-').filter(|_| !name.is_empty()) else {
            out.unknown(
                CATALOGER_ID,
                rec,
                format!("line {}: not NAME<TAB>VERSION-RELEASE...", n + 1),
            );
            continue;
        };
        let field = |i: usize| {
            f.get(i)
                .copied()
                .filter(|v| !v.is_empty() && *v != "(none)")
        };
        let source_rpm = field(9).map(str::to_string);
        let (source_name, source_version) = source_of(source_rpm.as_deref(), name, evr);
        let metadata = RpmMetadata {
            epoch: field(5).and_then(|e| e.parse().ok()),
            version: version.to_string(),
            release: release.to_string(),
            architecture: field(7).unwrap_or_default().to_string(),
            source_rpm,
            source_name,
            source_version,
            vendor: field(4).map(str::to_string),
            size: field(6).and_then(|s| s.parse().ok()),
            modularity_label: None,
            files: Vec::new(),
        };
        out.packages.push(Package {
            id: String::new(),
            name: name.to_string(),
            version: evr.to_string(),
            kind: PackageKind::Rpm,
            purl: String::new(),
            licenses: Vec::new(),
            locations: vec![rec.location()],
            found_by: CATALOGER_ID.to_string(),
            metadata: PackageMetadata::Rpm(metadata),
        });
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
