//! Java archives (jar, war, ear, ... : zip files).
//!
//! Archives are read as a stream, entry by entry through the local file
//! headers, the way `java.util.jar.JarInputStream` does: no buffering of the
//! archive, and a nested archive is analysed straight from its (inflated)
//! entry stream. Entries with a data descriptor (sizes after the data) are
//! found to end by inflating them; a stored entry of unknown size cannot be
//! delimited and ends the walk with a recorded problem. The central
//! directory is not consulted, so entries it alone would hide or rename are
//! seen as written.
//!
//! What identifies an archive:
//! - every `META-INF/maven/<group>/<artifact>/pom.properties` gives one
//!   package. A shaded jar thus lists its own coordinates and those of each
//!   library it copied in (the copied code is really there). The same
//!   coordinates twice within one archive are reported once; the same
//!   coordinates in the archive and in a nested jar are two copies at two
//!   locations and both are reported;
//! - with no pom.properties, the main section of `META-INF/MANIFEST.MF`
//!   (title and version attributes);
//! - otherwise nothing: an archive with no identifying name is not a package.

use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read};

use memchr::memmem;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use bosun_core::package::JavaMetadata;
use bosun_core::{Location, Package, PackageKind, PackageMetadata};

use crate::{CatalogError, Facts, FileIndex, Output};

pub const CATALOGER_ID: &str = "java-archive-cataloger";

const EXTENSIONS: [&str; 8] = [
    ".jar", ".war", ".ear", ".par", ".sar", ".jpi", ".hpi", ".nar",
];
/// Outer archive is depth 0; nested archives deeper than this are not opened.
const MAX_DEPTH: usize = 4;
/// Archives (outer plus nested) analysed per file.
const MAX_ARCHIVES: usize = 4096;
/// Entries per archive.
const MAX_ENTRIES: usize = 200_000;
/// Bytes inflated per file, over all nesting levels, are capped at this plus
/// [`INFLATE_RATIO`] times the file size: bounds the work a zip bomb can
/// cause (entries not needed are skipped, not inflated, when their size is
/// known; real jars compress well under 32:1).
const INFLATE_BASE: u64 = 256 << 20;
const INFLATE_RATIO: u64 = 32;
/// pom.properties / MANIFEST.MF larger than this are ignored.
const MAX_META: u64 = 1 << 20;
/// A launch script may precede the zip data (Spring Boot executable jars).
const MAX_PREFIX: usize = 1 << 20;

const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const END_SIG: u32 = 0x0605_4b50;
const END64_SIG: u32 = 0x0606_4b50;
const DESCRIPTOR_SIG: u32 = 0x0807_4b50;
/// Only in split archives' first segment; carries no data.
const SPANNING_SIG: u32 = 0x3030_4b50;

/// What a (possibly nested) archive file says about itself; cached per layer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveFacts {
    /// The archive itself first, then nested archives in stream order.
    pub archives: Vec<Archive>,
    /// What could not be read (the facts before it are still good).
    pub problems: Vec<String>,
    /// What a limit stopped (an entry too big, nesting too deep, too many
    /// entries or archives, the inflate budget): the archive may hold more
    /// than the facts say, so the scan is incomplete.
    #[serde(default)]
    pub limits: Vec<String>,
    /// Manifests that were not UTF-8, decoded with replacement characters
    /// as `java.util.jar.Manifest` does.
    #[serde(default)]
    pub lossy: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Archive {
    /// Path inside the file: "" for the file itself, else entry names joined
    /// with `!/` (`BOOT-INF/lib/a.jar`, `x.war!/WEB-INF/lib/b.jar`).
    pub inner_path: String,
    pub poms: Vec<Pom>,
    pub manifest: Option<ManifestId>,
    /// Hex SHA-1 of the archive's bytes.
    pub sha1: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pom {
    /// The entry name, e.g. `META-INF/maven/org.yaml/snakeyaml/pom.properties`.
    pub evidence: String,
    pub group_id: String,
    pub artifact_id: String,
    pub version: String,
}

/// Name and version from the manifest's main section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestId {
    pub name: String,
    pub version: String,
}

pub fn wants(path: &str) -> bool {
    has_archive_extension(path)
}

fn has_archive_extension(name: &str) -> bool {
    let n = name.len();
    n > 4
        && name.is_char_boundary(n - 4)
        && EXTENSIONS
            .iter()
            .any(|e| name[n - 4..].eq_ignore_ascii_case(e))
}

/// Analyse one archive streamed from `r`. Errors only when nothing at all
/// could be read; later problems are recorded in the facts.
pub fn analyze_archive(
    path: &str,
    r: &mut dyn Read,
    size: u64,
) -> Result<Option<Facts>, CatalogError> {
    let budget = Budget {
        inflated: Cell::new(0),
        limit: INFLATE_BASE.saturating_add(size.saturating_mul(INFLATE_RATIO)),
        archives: Cell::new(0),
        hit: Cell::new(false),
    };
    let mut facts = ArchiveFacts::default();
    let mut hashed = HashRead::new(r);
    let walked = {
        let mut br = BufReader::with_capacity(64 << 10, &mut hashed);
        let res = walk(&mut br, "", 0, &budget, &mut facts);
        // Hash the rest (central directory) so the digest covers the file.
        res.and_then(|()| {
            io::copy(&mut br, &mut io::sink())
                .map(drop)
                .map_err(|e| e.to_string())
        })
    };
    if let Err(e) = walked {
        let limit = budget.hit.take();
        let found = facts
            .archives
            .iter()
            .any(|a| !a.poms.is_empty() || a.manifest.is_some());
        if !found && limit {
            return Ok(Some(Facts::Incomplete(format!("not fully analysed: {e}"))));
        }
        if !found {
            return Err(CatalogError::Parse {
                path: path.to_string(),
                message: e,
            });
        }
        if limit {
            facts.limits.push(e);
        } else {
            facts.problems.push(e);
        }
    } else if let Some(a) = facts.archives.first_mut() {
        a.sha1 = Some(hashed.hex());
    }
    Ok(Some(Facts::Java(facts)))
}

struct Budget {
    inflated: Cell<u64>,
    limit: u64,
    archives: Cell<usize>,
    /// Set when a limit made a walk fail; taken by whoever records the
    /// failure, so it is filed as a limit rather than as a broken archive.
    hit: Cell<bool>,
}

/// Walk the entries of the archive `r` (positioned at its start).
fn walk(
    r: &mut dyn BufRead,
    at: &str,
    depth: usize,
    budget: &Budget,
    facts: &mut ArchiveFacts,
) -> Result<(), String> {
    let idx = facts.archives.len();
    facts.archives.push(Archive {
        inner_path: at.to_string(),
        ..Archive::default()
    });
    budget.archives.set(budget.archives.get() + 1);
    let ctx = |e: String| {
        if at.is_empty() {
            e
        } else {
            format!("{at}: {e}")
        }
    };
    skip_prefix(r).map_err(ctx)?;
    for n in 0.. {
        if n >= MAX_ENTRIES {
            budget.hit.set(true);
            return Err(ctx(format!("more than {MAX_ENTRIES} entries")));
        }
        let sig = match read_u32(r) {
            Ok(s) => s,
            // A stream that ends after whole entries (no central directory).
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(ctx(e.to_string())),
        };
        match sig {
            LOCAL_SIG => entry(r, at, depth, idx, budget, facts)
                .map_err(|e| ctx(format!("entry {n}: {e}")))?,
            CENTRAL_SIG | END_SIG | END64_SIG => return Ok(()),
            SPANNING_SIG if n == 0 => {}
            s => return Err(ctx(format!("entry {n}: unexpected signature {s:#010x}"))),
        }
    }
    Ok(())
}

/// Move to the first local header, past a possible launch script.
fn skip_prefix(r: &mut dyn BufRead) -> Result<(), String> {
    let mut skipped = 0;
    loop {
        let buf = r.fill_buf().map_err(|e| e.to_string())?;
        if buf.len() < 4 {
            // Too short to be a zip; let the caller see the end.
            return if skipped == 0 && buf.is_empty() {
                Err("empty archive".into())
            } else if skipped == 0 {
                Ok(())
            } else {
                Err("not a zip archive".into())
            };
        }
        if let Some(i) = memmem::find(buf, b"PK\x03\x04") {
            r.consume(i);
            return Ok(());
        }
        if skipped == 0 && buf.starts_with(b"PK\x05\x06") {
            return Ok(()); // an empty zip
        }
        let step = buf.len() - 3;
        skipped += step;
        r.consume(step);
        if skipped > MAX_PREFIX {
            return Err("not a zip archive (no local file header in the first MiB)".into());
        }
    }
}

#[derive(PartialEq)]
enum Role {
    Pom,
    Manifest,
    Nested,
    Other,
}

/// One entry, its signature already read.
fn entry(
    r: &mut dyn BufRead,
    at: &str,
    depth: usize,
    idx: usize,
    budget: &Budget,
    facts: &mut ArchiveFacts,
) -> Result<(), String> {
    let mut h = [0u8; 26];
    r.read_exact(&mut h)
        .map_err(|e| format!("local header: {e}"))?;
    let u16_at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let flags = u16_at(2);
    let method = u16_at(4);
    let mut csize = u64::from(u32_at(14));
    let mut usize_ = u64::from(u32_at(18));
    let mut name = vec![0u8; usize::from(u16_at(22))];
    let mut extra = vec![0u8; usize::from(u16_at(24))];
    r.read_exact(&mut name)
        .map_err(|e| format!("entry name: {e}"))?;
    r.read_exact(&mut extra)
        .map_err(|e| format!("extra field: {e}"))?;
    let name = String::from_utf8_lossy(&name).into_owned();
    let zip64 = csize == 0xFFFF_FFFF || usize_ == 0xFFFF_FFFF;
    if zip64 {
        zip64_sizes(&extra, &mut usize_, &mut csize)
            .ok_or_else(|| format!("{name}: bad zip64 extra field"))?;
    }
    let descriptor = flags & 8 != 0;
    let encrypted = flags & 1 != 0;
    let role = if name.ends_with('/') || encrypted {
        Role::Other
    } else if pom_path(&name) {
        Role::Pom
    } else if name.eq_ignore_ascii_case("META-INF/MANIFEST.MF") {
        Role::Manifest
    } else if has_archive_extension(&name) {
        Role::Nested
    } else {
        Role::Other
    };
    let streamed_deflate = method == 8 && descriptor;
    if descriptor && !streamed_deflate && csize == 0 && !name.ends_with('/') {
        return Err(format!(
            "{name}: stored entry with a data descriptor cannot be delimited"
        ));
    }
    if streamed_deflate || (role != Role::Other && matches!(method, 0 | 8)) {
        let raw: Box<dyn Read + '_> = if streamed_deflate {
            // The bufread decoder consumes exactly the deflate stream.
            Box::new(flate2::bufread::DeflateDecoder::new(&mut *r))
        } else if method == 8 {
            Box::new(flate2::bufread::DeflateDecoder::new(Read::take(
                &mut *r, csize,
            )))
        } else {
            Box::new(Read::take(&mut *r, csize))
        };
        let mut data = Counted { inner: raw, budget };
        content(&mut data, role, &name, at, depth, idx, budget, facts)?;
        // Whatever the content step left unread.
        io::copy(&mut data, &mut io::sink()).map_err(|e| format!("{name}: {e}"))?;
    } else {
        skip(r, csize).map_err(|e| format!("{name}: {e}"))?;
    }
    if descriptor {
        read_descriptor(r, zip64).map_err(|e| format!("{name}: data descriptor: {e}"))?;
    }
    Ok(())
}

/// Use an entry's content according to its role.
#[allow(clippy::too_many_arguments)]
fn content(
    data: &mut dyn Read,
    role: Role,
    name: &str,
    at: &str,
    depth: usize,
    idx: usize,
    budget: &Budget,
    facts: &mut ArchiveFacts,
) -> Result<(), String> {
    match role {
        Role::Pom | Role::Manifest => {
            let mut text = Vec::new();
            data.take(MAX_META + 1)
                .read_to_end(&mut text)
                .map_err(|e| format!("{name}: {e}"))?;
            if text.len() as u64 > MAX_META {
                facts.limits.push(format!(
                    "{at}!/{name}: not analysed: over the {MAX_META}-byte limit for pom.properties and MANIFEST.MF"
                ));
                return Ok(());
            }
            let text = if role == Role::Pom {
                // java.util.Properties.load(InputStream), which Maven's
                // readers use, decodes ISO-8859-1: every byte is a character.
                std::borrow::Cow::Owned(text.iter().map(|&b| char::from(b)).collect())
            } else {
                // java.util.jar.Manifest decodes UTF-8 with replacement
                // characters.
                let d = crate::text::decode(&text);
                if let Some(off) = d.invalid_at {
                    facts.lossy.push(format!(
                        "{at}!/{name}: {}",
                        crate::text::lossy_message(off, crate::text::Tool::JavaManifest)
                    ));
                }
                d.text
            };
            let archive = &mut facts.archives[idx];
            if role == Role::Pom {
                if let Some(p) = parse_pom_properties(&text, name) {
                    let dup = archive.poms.iter().any(|q| {
                        (&q.group_id, &q.artifact_id, &q.version)
                            == (&p.group_id, &p.artifact_id, &p.version)
                    });
                    if !dup {
                        archive.poms.push(p);
                    }
                }
            } else if archive.manifest.is_none() {
                archive.manifest = parse_manifest(&text);
            }
        }
        Role::Nested => {
            let inner = if at.is_empty() {
                name.to_string()
            } else {
                format!("{at}!/{name}")
            };
            if depth + 1 > MAX_DEPTH {
                facts.limits.push(format!(
                    "{inner}: nested deeper than {MAX_DEPTH}, not opened"
                ));
                return Ok(());
            }
            if budget.archives.get() >= MAX_ARCHIVES {
                facts.limits.push(format!(
                    "{inner}: more than {MAX_ARCHIVES} archives, not opened"
                ));
                return Ok(());
            }
            let child = facts.archives.len();
            let mut hashed = HashRead::new(data);
            let res = {
                let mut br = BufReader::with_capacity(16 << 10, &mut hashed);
                walk(&mut br, &inner, depth + 1, budget, facts).and_then(|()| {
                    io::copy(&mut br, &mut io::sink())
                        .map(drop)
                        .map_err(|e| e.to_string())
                })
            };
            match res {
                Ok(()) => {
                    if let Some(a) = facts.archives.get_mut(child) {
                        a.sha1 = Some(hashed.hex());
                    }
                }
                // A broken nested archive is recorded; the outer walk goes on
                // (the caller drains the entry to find the next header).
                Err(e) if budget.hit.take() => facts.limits.push(e),
                Err(e) => facts.problems.push(e),
            }
        }
        Role::Other => {}
    }
    Ok(())
}

/// `META-INF/maven/<group>/<artifact>/pom.properties`.
fn pom_path(name: &str) -> bool {
    name.strip_prefix("META-INF/maven/")
        .and_then(|r| r.strip_suffix("/pom.properties"))
        .is_some_and(|ga| {
            let mut parts = ga.split('/');
            matches!((parts.next(), parts.next(), parts.next()), (Some(g), Some(a), None) if !g.is_empty() && !a.is_empty())
        })
}

fn parse_pom_properties(text: &str, evidence: &str) -> Option<Pom> {
    let (mut group, mut artifact, mut version) = (None, None, None);
    for (k, v) in properties(text) {
        match k.as_str() {
            "groupId" => group = Some(v),
            "artifactId" => artifact = Some(v),
            "version" => version = Some(v),
            _ => {}
        }
    }
    let group_id = group.filter(|g| !g.is_empty())?;
    let artifact_id = artifact.filter(|a| !a.is_empty())?;
    Some(Pom {
        evidence: evidence.to_string(),
        group_id,
        artifact_id,
        version: version.unwrap_or_default(),
    })
}

/// Java `.properties`: `key=value`, `key: value` or `key value`; `#`/`!`
/// comments; backslash continuation and escapes.
fn properties(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut logical = String::new();
    for line in text.lines() {
        let line = line.trim_start();
        if logical.is_empty() && (line.starts_with('#') || line.starts_with('!') || line.is_empty())
        {
            continue;
        }
        let trailing = line.len() - line.trim_end_matches('\\').len();
        if trailing % 2 == 1 {
            logical.push_str(&line[..line.len() - 1]);
            continue;
        }
        logical.push_str(line);
        let entry = std::mem::take(&mut logical);
        let split = entry
            .char_indices()
            .scan(false, |esc, (i, c)| {
                let hit = !*esc && matches!(c, '=' | ':' | ' ' | '\t');
                *esc = !*esc && c == '\\';
                Some((i, c, hit))
            })
            .find(|&(_, _, hit)| hit);
        let (k, v) = match split {
            Some((i, c, _)) => {
                let v = entry[i + c.len_utf8()..].trim_start();
                let v = if c.is_whitespace() {
                    v.strip_prefix(['=', ':']).unwrap_or(v).trim_start()
                } else {
                    v
                };
                (&entry[..i], v)
            }
            None => (entry.as_str(), ""),
        };
        out.push((unescape(k), unescape(v.trim_end())));
    }
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                if let Some(ch) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    out.push(ch);
                }
            }
            Some(c) => out.push(c),
            None => {}
        }
    }
    out
}

/// Name and version from the main section (up to the first blank line).
fn parse_manifest(text: &str) -> Option<ManifestId> {
    let mut attrs: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if let Some(cont) = line.strip_prefix(' ') {
            if let Some((_, v)) = attrs.last_mut() {
                v.push_str(cont);
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            attrs.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let get = |keys: &[&str]| {
        keys.iter().find_map(|k| {
            attrs
                .iter()
                .find(|(a, v)| a.eq_ignore_ascii_case(k) && !v.is_empty())
                .map(|(_, v)| v.clone())
        })
    };
    let name = get(&[
        "Implementation-Title",
        "Specification-Title",
        "Bundle-SymbolicName",
    ])?;
    // `Bundle-SymbolicName: a.b;singleton:=true`: the directives are not the name.
    let name = name
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    let version = get(&[
        "Implementation-Version",
        "Specification-Version",
        "Bundle-Version",
    ])
    .unwrap_or_default();
    (!name.is_empty()).then_some(ManifestId { name, version })
}

/// Sizes from the zip64 extended information field (tag 1): the original
/// size then the compressed size, each present only if the header said 0xFFFFFFFF.
fn zip64_sizes(extra: &[u8], usize_: &mut u64, csize: &mut u64) -> Option<()> {
    let mut rest = extra;
    while rest.len() >= 4 {
        let tag = u16::from_le_bytes([rest[0], rest[1]]);
        let len = usize::from(u16::from_le_bytes([rest[2], rest[3]]));
        let body = rest.get(4..4 + len)?;
        if tag == 1 {
            let mut f = body.chunks_exact(8).map(|c| {
                let mut b = [0u8; 8];
                b.copy_from_slice(c);
                u64::from_le_bytes(b)
            });
            if *usize_ == 0xFFFF_FFFF {
                *usize_ = f.next()?;
            }
            if *csize == 0xFFFF_FFFF {
                *csize = f.next()?;
            }
            return Some(());
        }
        rest = &rest[4 + len..];
    }
    None
}

/// crc32, compressed and uncompressed size, optionally after a signature.
fn read_descriptor(r: &mut dyn BufRead, zip64: bool) -> io::Result<()> {
    let first = read_u32(r)?;
    if first == DESCRIPTOR_SIG {
        read_u32(r)?; // crc32
    }
    let mut sizes = [0u8; 16];
    r.read_exact(&mut sizes[..if zip64 { 16 } else { 8 }])
}

fn read_u32(r: &mut dyn Read) -> io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

/// Skip `n` raw bytes without copying them out of the buffer.
fn skip(r: &mut dyn BufRead, mut n: u64) -> io::Result<()> {
    while n > 0 {
        let avail = r.fill_buf()?.len();
        if avail == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let k = avail.min(usize::try_from(n).unwrap_or(usize::MAX));
        r.consume(k);
        n -= k as u64;
    }
    Ok(())
}

/// Counts inflated bytes against the per-file budget.
struct Counted<'a, R> {
    inner: R,
    budget: &'a Budget,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let total = self.budget.inflated.get() + n as u64;
        if total > self.budget.limit {
            self.budget.hit.set(true);
            let limit = self.budget.limit;
            return Err(io::Error::other(format!(
                "more than {limit} bytes inflated (zip bomb?)"
            )));
        }
        self.budget.inflated.set(total);
        Ok(n)
    }
}

/// SHA-1 of everything read through it.
struct HashRead<R> {
    inner: R,
    sha: Sha1,
}

impl<R: Read> HashRead<R> {
    fn new(inner: R) -> Self {
        HashRead {
            inner,
            sha: Sha1::new(),
        }
    }
    fn hex(&self) -> String {
        self.sha
            .clone()
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl<R: Read> Read for HashRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha.update(&buf[..n]);
        Ok(n)
    }
}

pub fn catalog(index: &FileIndex, out: &mut Output) {
    for rec in index.files() {
        let Facts::Java(facts) = &rec.facts else {
            continue;
        };
        for p in &facts.problems {
            out.unknown(CATALOGER_ID, rec, p.clone());
        }
        for p in &facts.limits {
            out.incomplete(CATALOGER_ID, rec, p.clone());
        }
        for p in &facts.lossy {
            out.lossy(CATALOGER_ID, rec, p.clone());
        }
        for a in &facts.archives {
            let path = if a.inner_path.is_empty() {
                rec.path.clone()
            } else {
                format!("{}!/{}", rec.path, a.inner_path)
            };
            let pkg = |name: String, version: &str, meta: JavaMetadata| Package {
                id: String::new(),
                name,
                version: version.to_string(),
                kind: PackageKind::Java,
                purl: String::new(),
                licenses: Vec::new(),
                locations: vec![Location {
                    path: path.clone(),
                    layer: rec.layer.clone(),
                }],
                found_by: CATALOGER_ID.to_string(),
                metadata: PackageMetadata::Java(meta),
            };
            for p in &a.poms {
                let meta = JavaMetadata {
                    group_id: Some(p.group_id.clone()),
                    artifact_id: Some(p.artifact_id.clone()),
                    virtual_path: path.clone(),
                    evidence: p.evidence.clone(),
                    sha1: a.sha1.clone(),
                };
                out.packages.push(pkg(
                    format!("{}:{}", p.group_id, p.artifact_id),
                    &p.version,
                    meta,
                ));
            }
            if let (true, Some(m)) = (a.poms.is_empty(), &a.manifest) {
                let meta = JavaMetadata {
                    group_id: None,
                    artifact_id: None,
                    virtual_path: path.clone(),
                    evidence: "META-INF/MANIFEST.MF".into(),
                    sha1: a.sha1.clone(),
                };
                out.packages.push(pkg(m.name.clone(), &m.version, meta));
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::FileRecord;
    use crate::binary::test_layers;
    use std::collections::BTreeSet;
    use std::io::Write;

    fn analyze(bytes: &[u8]) -> Result<ArchiveFacts, String> {
        let mut r = bytes;
        match analyze_archive("/t.jar", &mut r, bytes.len() as u64) {
            Ok(Some(Facts::Java(f))) => Ok(f),
            Ok(other) => Err(format!("{other:?}")),
            Err(e) => Err(e.to_string()),
        }
    }

    fn catalog_one(path: &str, facts: ArchiveFacts) -> Output {
        let mut ix = FileIndex::new();
        ix.insert(FileRecord {
            path: path.into(),
            layer: None,
            facts: Facts::Java(facts),
        });
        let mut out = Output::default();
        catalog(&ix, &mut out);
        out
    }

    /// A zip written by the `zip` crate (a different writer from any reader here).
    fn zip_of(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data, deflate) in entries {
            let method = if *deflate {
                zip::CompressionMethod::Deflated
            } else {
                zip::CompressionMethod::Stored
            };
            let opts = zip::write::SimpleFileOptions::default().compression_method(method);
            w.start_file(*name, opts).unwrap_or_else(|e| panic!("{e}"));
            w.write_all(data).unwrap_or_else(|e| panic!("{e}"));
        }
        w.finish().unwrap_or_else(|e| panic!("{e}")).into_inner()
    }

    fn sha1_hex(b: &[u8]) -> String {
        Sha1::digest(b).iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn matches_java_app_truth() {
        let Some(dir) = bosun_testutil::fixture("images/oci/java-app") else {
            return;
        };
        let mut ix = FileIndex::new();
        let mut sums = Vec::new();
        test_layers::for_each_file(&dir, &mut |path, mode, size, r| {
            if crate::interest(path, mode, size) == crate::Interest::JavaArchive {
                let mut bytes = Vec::new();
                r.read_to_end(&mut bytes).unwrap_or_default();
                sums.push((path.to_string(), sha1_hex(&bytes)));
                let mut s = &bytes[..];
                let facts =
                    analyze_archive(path, &mut s, size).unwrap_or_else(|e| panic!("{path}: {e}"));
                if let Some(facts) = facts {
                    ix.insert(FileRecord {
                        path: path.to_string(),
                        layer: None,
                        facts,
                    });
                }
            }
        });
        let mut out = Output::default();
        catalog(&ix, &mut out);
        assert!(out.unknowns.is_empty(), "{:?}", out.unknowns);
        let got: BTreeSet<_> = out
            .packages
            .iter()
            .map(|p| {
                let PackageMetadata::Java(m) = &p.metadata else {
                    panic!("metadata")
                };
                (
                    p.name.clone(),
                    p.version.clone(),
                    p.locations[0].path.clone(),
                    m.evidence.clone(),
                )
            })
            .collect();
        let truth: serde_json::Value = serde_json::from_slice(
            &std::fs::read(bosun_testutil::fixture("truth/java-app.json").unwrap_or_default())
                .unwrap_or_default(),
        )
        .unwrap_or_default();
        let want: BTreeSet<_> = truth["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["ecosystem"] == "maven")
            .map(|p| {
                let s = |k: &str| p[k].as_str().unwrap_or_default().to_string();
                (s("name"), s("version"), s("path"), s("evidence"))
            })
            .collect();
        assert_eq!(want.len(), 7);
        assert_eq!(got, want);
        // The outer archives' digests are those of their bytes.
        for (path, sum) in sums {
            let p = out.packages.iter().find(|p| p.locations[0].path == path);
            let Some(PackageMetadata::Java(m)) = p.map(|p| &p.metadata) else {
                panic!("{path}: no package")
            };
            assert_eq!(m.sha1.as_deref(), Some(sum.as_str()), "{path}");
        }
    }

    fn fixture_jar(name: &str) -> Option<ArchiveFacts> {
        let path = bosun_testutil::fixture(&format!("files/lockfiles/java-jar/{name}"))?;
        let bytes = std::fs::read(path).unwrap_or_default();
        Some(analyze(&bytes).unwrap_or_else(|e| panic!("{name}: {e}")))
    }

    fn names(out: &Output) -> BTreeSet<(String, String, String)> {
        out.packages
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.version.clone(),
                    p.locations[0].path.clone(),
                )
            })
            .collect()
    }

    fn set(items: &[(&str, &str, &str)]) -> BTreeSet<(String, String, String)> {
        items
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect()
    }

    #[test]
    fn shaded_jar_lists_own_and_shaded_coordinates() {
        // files/README: "multiple pom.properties (shaded deps), SNAPSHOT".
        let Some(f) = fixture_jar("hadoop-shaded-guava-1.1.0-SNAPSHOT.jar") else {
            return;
        };
        let out = catalog_one("/x.jar", f);
        let p = "/x.jar";
        assert_eq!(
            names(&out),
            set(&[
                (
                    "org.apache.hadoop.thirdparty:hadoop-shaded-guava",
                    "1.1.0-SNAPSHOT",
                    p
                ),
                ("com.google.j2objc:j2objc-annotations", "1.3", p),
                ("com.google.guava:guava", "29.0-jre", p),
                ("com.google.guava:failureaccess", "1.0.1", p),
                (
                    "com.google.guava:listenablefuture",
                    "9999.0-empty-to-avoid-conflict-with-guava",
                    p
                ),
            ])
        );
    }

    #[test]
    fn nested_jars_and_data_descriptors() {
        // gizmo: data-descriptor entries, nested jars/log4j-*.jar, and
        // pom.properties outside META-INF/maven (not coordinates).
        let Some(f) = fixture_jar("io.quarkus.gizmo.gizmo-1.1.jar") else {
            return;
        };
        assert!(f.problems.is_empty(), "{:?}", f.problems);
        let got = names(&catalog_one("/g.jar", f));
        assert!(got.contains(&(
            "io.quarkus.gizmo:gizmo".into(),
            "1.1".into(),
            "/g.jar".into()
        )));
        assert!(got.iter().any(|(n, v, p)| n == "log4j:log4j"
            && v == "1.2.16"
            && p == "/g.jar!/jars/log4j-1.2.16.jar"));
        assert!(
            got.iter()
                .any(|(n, v, _)| n == "log4j:log4j" && v == "1.2.17")
        );
        assert!(!got.iter().any(|(n, _, _)| n.contains("jackson-databind")));

        let Some(f) = fixture_jar("trivy-maven.war") else {
            return;
        };
        let got = names(&catalog_one("/m.war", f));
        assert!(got.contains(&(
            "com.example:web-app".into(),
            "1.0-SNAPSHOT".into(),
            "/m.war".into()
        )));
        for (n, v, jar) in [
            (
                "com.fasterxml.jackson.core:jackson-databind",
                "2.9.10.6",
                "jackson-databind-2.9.10.6.jar",
            ),
            (
                "org.apache.commons:commons-lang3",
                "3.11",
                "commons-lang3-3.11.jar",
            ),
            ("org.slf4j:slf4j-api", "1.7.30", "slf4j-api-1.7.30.jar"),
        ] {
            let loc = format!("/m.war!/WEB-INF/lib/{jar}");
            assert!(got.contains(&(n.into(), v.into(), loc)), "{n}: {got:?}");
        }

        for (jar, coords) in [
            (
                "jackson-annotations-2.15.0-rc2.jar",
                "com.fasterxml.jackson.core:jackson-annotations 2.15.0-rc2",
            ),
            (
                "syft-example-java-app-maven-0.1.0.jar",
                "org.anchore:example-java-app-maven 0.1.0",
            ),
        ] {
            let Some(f) = fixture_jar(jar) else { continue };
            let got = names(&catalog_one("/a.jar", f));
            assert!(
                got.iter().any(|(n, v, _)| format!("{n} {v}") == coords),
                "{jar}: {got:?}"
            );
        }
    }

    /// Bytes that are not UTF-8 hide nothing. pom.properties is decoded as
    /// `java.util.Properties.load(InputStream)` does (ISO-8859-1: `java`
    /// reads `artifactId=caf\xe9` as "caf\u00e9"); a manifest as
    /// `java.util.jar.Manifest` does (U+FFFD), with a lossy unknown.
    #[test]
    fn latin1_bytes_keep_the_package() {
        let pom = b"groupId=org.example\nartifactId=caf\xe9\nversion=1.2\n";
        let mf = b"Manifest-Version: 1.0\r\nImplementation-Title: na\xefve\r\nImplementation-Version: 3.4\r\n\r\n";
        let inner = zip_of(&[("META-INF/MANIFEST.MF", mf, true)]);
        let f = analyze(&zip_of(&[
            ("META-INF/maven/org.example/cafe/pom.properties", pom, true),
            ("lib/inner.jar", &inner, false),
        ]))
        .unwrap();
        assert_eq!(f.archives[0].poms[0].artifact_id, "caf\u{e9}");
        let m = f.archives[1].manifest.as_ref().unwrap();
        assert_eq!(
            (m.name.as_str(), m.version.as_str()),
            ("na\u{FFFD}ve", "3.4")
        );
        assert_eq!(f.lossy.len(), 1, "{:?}", f.lossy);
        let mut index = FileIndex::new();
        index.insert(crate::FileRecord {
            path: "/app/x.jar".into(),
            layer: None,
            facts: Facts::Java(f),
        });
        let mut out = crate::Output::default();
        catalog(&index, &mut out);
        assert_eq!(out.packages.len(), 2);
        assert!(
            out.unknowns
                .iter()
                .any(|u| u.kind == bosun_core::UnknownKind::Lossy
                    && u.message.contains("invalid UTF-8 at byte"))
        );
    }

    #[test]
    fn manifest_fallback_and_exclusion() {
        // As truth/large.json: jrt-fs.jar is named by its manifest;
        // ca-certificates-java.jar (no title) is not reported.
        let mf = b"Manifest-Version: 1.0\r\nSpecification-Title: Java Platform API Specification\r\nSpecification-Version: 17\r\nImplementation-Title: Java Runtime Environment\r\nImplementation-Version: 17.0.21.1\r\n\r\nName: x\r\nImplementation-Title: other\r\n";
        let f = analyze(&zip_of(&[
            ("META-INF/MANIFEST.MF", mf, true),
            ("a.class", b"x", true),
        ]))
        .unwrap_or_default();
        let out = catalog_one("/jrt-fs.jar", f);
        assert_eq!(
            names(&out),
            set(&[("Java Runtime Environment", "17.0.21.1", "/jrt-fs.jar")])
        );
        let mf = b"Manifest-Version: 1.0\nMain-Class: UpdateCertificates\nCreated-By: 17\n";
        let f = analyze(&zip_of(&[("META-INF/MANIFEST.MF", mf, false)])).unwrap_or_default();
        assert!(catalog_one("/c.jar", f).packages.is_empty());
        // Continuation lines and bundle directives.
        let m = parse_manifest(
            "Bundle-SymbolicName: org.example.very.long.na\n me;singleton:=true\nBundle-Version: 2.0\n",
        );
        assert_eq!(
            m.map(|m| (m.name, m.version)),
            Some(("org.example.very.long.name".into(), "2.0".into()))
        );
    }

    #[test]
    fn properties_syntax() {
        let p = properties("# c\n! c\n  groupId = a.b\nartifactId:x\\\n  y\nversion 1\\u0041\n\n");
        assert_eq!(
            p,
            vec![
                ("groupId".into(), "a.b".into()),
                ("artifactId".into(), "xy".into()),
                ("version".into(), "1A".into())
            ]
        );
        assert!(!pom_path("META-INF/maven/g/pom.properties"));
        assert!(!pom_path("META-INF/maven/g/a/b/pom.properties"));
        assert!(pom_path("META-INF/maven/g/a/pom.properties"));
    }

    #[test]
    fn launch_script_prefix_and_nested_depth_bound() {
        let pom = b"groupId=g\nartifactId=a\nversion=1\n";
        let mut jar = zip_of(&[("META-INF/maven/g/a/pom.properties", pom, true)]);
        for _ in 0..6 {
            jar = zip_of(&[
                ("META-INF/maven/g/a/pom.properties", pom, false),
                ("lib/in.jar", &jar, false),
            ]);
        }
        let mut script = b"#!/bin/bash\necho launch\nexit 0\n".to_vec();
        script.extend_from_slice(&jar);
        let f = analyze(&script).unwrap_or_default();
        assert_eq!(f.archives.len(), MAX_DEPTH + 1);
        assert!(
            f.limits.iter().any(|p| p.contains("deeper")),
            "{:?}",
            f.limits
        );
        assert_eq!(f.archives[2].inner_path, "lib/in.jar!/lib/in.jar");
        assert_eq!(f.archives[0].sha1, Some(sha1_hex(&script)));
    }

    #[test]
    fn hostile_archives() {
        assert!(analyze(b"").is_err());
        assert!(analyze(b"not a zip at all, just text").is_err());
        let good = zip_of(&[(
            "META-INF/maven/g/a/pom.properties",
            b"groupId=g\nartifactId=a\nversion=1\n",
            true,
        )]);
        // Truncated anywhere: an error or partial facts, never a panic.
        for cut in [10, 30, 40, good.len() / 2, good.len() - 10] {
            let _ = analyze(&good[..cut]);
        }
        // Absurd sizes in the local header.
        let mut bad = good.clone();
        bad[18..22].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(analyze(&bad).is_err());
        // A deflate bomb: 400 MiB of zeros in under 1 MiB is refused by the
        // inflate budget, never held in memory.
        let mut bomb = Vec::new();
        {
            let mut e = flate2::write::DeflateEncoder::new(&mut bomb, flate2::Compression::best());
            let zeros = vec![0u8; 1 << 20];
            for _ in 0..400 {
                e.write_all(&zeros).unwrap_or_default();
            }
            e.finish().map(drop).unwrap_or_default();
        }
        let mut z = Vec::new();
        z.extend_from_slice(&LOCAL_SIG.to_le_bytes());
        z.extend_from_slice(&[20, 0, 8, 0, 8, 0, 0, 0, 0, 0]); // version, flags (descriptor), deflate, time, date
        z.extend_from_slice(&[0; 12]); // crc, sizes unknown
        z.extend_from_slice(&(6u16).to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes());
        z.extend_from_slice(b"in.jar");
        z.extend_from_slice(&bomb);
        z.extend_from_slice(&[0; 12]);
        assert!(bomb.len() < 1 << 20, "{}", bomb.len());
        let f = analyze(&z);
        let msg = format!("{f:?}");
        assert!(msg.contains("zip bomb"), "{msg}");
    }
}
