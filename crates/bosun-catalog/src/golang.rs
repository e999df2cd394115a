//! Go build information embedded in binaries (`go version -m`).
//!
//! The Go linker writes a 32-byte header starting `\xff Go buildinf:` at a
//! 16-byte aligned offset of the data segment. Byte 14 is the pointer size,
//! byte 15 the flags (bit 0: big-endian, bit 1: strings inline).
//! - Go >= 1.18 (inline): two varint-length-prefixed strings follow the
//!   header, the toolchain version and the module info. Read straight from the
//!   stream.
//! - Go 1.13-1.17 (pointers): the header holds the addresses of two Go string
//!   headers (pointer, length). The string headers live in the data segment
//!   (usually after the build info, so read forward through the program
//!   headers' address map), but the string bytes live in read-only data,
//!   earlier in the file and already streamed past. So while streaming a file
//!   that carries a Go build-id note, the scanner remembers (bounded) every
//!   `go1.` occurrence, and the module info is found by its own 16-byte
//!   sentinels. A version string not starting `go1.` and lying behind the
//!   header is not recovered; then the version stays empty.

use memchr::memmem;
use serde::{Deserialize, Serialize};

use bosun_core::package::{GoMetadata, GoModuleRole};
use bosun_core::{Package, PackageKind, PackageMetadata};

use crate::binary::{Elf, Want, read_uint, scan_range};
use crate::text;
use crate::{Facts, FileIndex, Output};

pub const CATALOGER_ID: &str = "go-module-binary-cataloger";

const MAGIC: &[u8] = b"\xff Go buildinf:";
const HEADER: usize = 32;
/// Sentinels around the module info text.
const INFO_START: &[u8] = b"\x30\x77\xaf\x0c\x92\x74\x08\x02\x41\xe1\xc1\x07\xe6\xd6\x18\xe6";
const INFO_END: &[u8] = b"\xf9\x32\x43\x31\x86\x18\x20\x72\x00\x82\x42\x10\x41\x16\xd8\xf2";
/// The type (4) and name of Go's ELF build-id note, little- and big-endian;
/// it sits in the first page and marks a file as Go, so the costlier
/// old-format bookkeeping only runs for Go binaries.
const GO_NOTE_LE: &[u8] = b"\x04\x00\x00\x00Go\x00\x00";
const GO_NOTE_BE: &[u8] = b"\x00\x00\x00\x04Go\x00\x00";
const MAX_VERSION: usize = 128;
const MAX_MODINFO: usize = 4 << 20;
/// At most this many header candidates are followed at once.
const MAX_CANDIDATES: usize = 4;
const MAX_REMEMBERED_VERSIONS: usize = 4096;

/// What a Go binary says about how it was built; cached per layer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildInfo {
    /// Toolchain version, e.g. `go1.19.8`.
    pub go_version: String,
    /// The `path` line: the main package's import path.
    pub path: String,
    /// The `mod` line; absent for GOPATH-mode and toolchain binaries.
    pub main: Option<Module>,
    pub deps: Vec<Module>,
    /// `build` lines, in order.
    pub settings: Vec<(String, String)>,
    /// The module info held bytes that are not UTF-8 (the Go toolchain
    /// never writes them): offset of the first, within the module text.
    /// Decoded with replacement characters; the modules are kept.
    #[serde(default)]
    pub invalid_utf8_at: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Module {
    pub path: String,
    pub version: String,
    pub sum: Option<String>,
    pub replace: Option<Box<Module>>,
}

/// Streaming state for one file (driven by `binary::analyze_executable`).
pub(crate) struct Scanner {
    finder: memmem::Finder<'static>,
    scanned_to: u64,
    candidates: Vec<Want>,
    found: Option<Result<BuildInfo, String>>,
    /// Pre-1.18 header accepted, waiting for its version string.
    old: Option<Old>,
    /// Old-format helpers, only for files with a Go build-id note.
    is_go: bool,
    sentinel_scanned_to: u64,
    modinfo: Option<Want>,
    versions_scanned_to: u64,
    versions: Vec<(u64, Vec<u8>)>,
}

struct Old {
    ptr_size: usize,
    big_endian: bool,
    /// The version's string header, then (once read) the string itself.
    step: Want,
    reading_data: bool,
    version: Option<String>,
}

impl Scanner {
    pub(crate) fn new(head: &[u8]) -> Scanner {
        let is_go =
            memmem::find(head, GO_NOTE_LE).is_some() || memmem::find(head, GO_NOTE_BE).is_some();
        Scanner {
            finder: memmem::Finder::new(MAGIC),
            scanned_to: 0,
            candidates: Vec::new(),
            found: None,
            old: None,
            is_go,
            sentinel_scanned_to: 0,
            modinfo: None,
            versions_scanned_to: 0,
            versions: Vec::new(),
        }
    }

    /// Nothing more to learn from the rest of the file.
    pub(crate) fn done(&self) -> bool {
        self.found.is_some()
    }

    pub(crate) fn feed(&mut self, off: u64, win: &[u8], eof: bool, elf: Option<&Elf>) {
        if self.found.is_some() {
            return;
        }
        if self.is_go {
            self.remember(off, win, eof);
        }
        if let Some(old) = &mut self.old {
            old.advance(off, win, elf, &self.versions);
            if old.version.is_some() && self.modinfo_settled(eof) {
                self.found = Some(self.finish_old());
            }
            return;
        }
        let (from, to) = scan_range(self.scanned_to, off, win.len(), eof);
        for m in self.finder.find_iter(&win[from..]) {
            let at = from + m;
            if at >= to {
                break;
            }
            let file_at = off + at as u64;
            if file_at & 15 == 0
                && plausible_header(&win[at..])
                && self.candidates.len() < MAX_CANDIDATES
            {
                self.candidates.push(Want::new(file_at, HEADER));
            }
        }
        self.scanned_to = off + to as u64;
        let mut i = 0;
        while i < self.candidates.len() {
            match self.advance_candidate(i, off, win, elf) {
                Step::Pending => i += 1,
                Step::Reject => {
                    self.candidates.remove(i);
                }
                Step::Accept => return,
            }
        }
    }

    fn advance_candidate(&mut self, i: usize, off: u64, win: &[u8], elf: Option<&Elf>) -> Step {
        loop {
            let Some(c) = self.candidates.get_mut(i) else {
                return Step::Reject;
            };
            if !c.fill(off, win) {
                return Step::Pending;
            }
            let flags = c.data.get(15).copied().unwrap_or(0);
            if flags & 2 == 0 {
                let Some(old) = Old::start(&c.data, elf) else {
                    return Step::Reject;
                };
                self.candidates.clear();
                self.old = Some(old);
                // The header may be followed by its string header in this window.
                if let Some(old) = &mut self.old {
                    old.advance(off, win, elf, &self.versions);
                }
                return Step::Accept;
            }
            match parse_inline(&c.data) {
                Inline::Need(n) if n > c.len => c.len = n,
                Inline::Need(_) | Inline::Invalid => return Step::Reject,
                Inline::Done(version, modinfo) => {
                    self.found = Some(parse_modinfo(&version, &modinfo));
                    self.candidates.clear();
                    return Step::Accept;
                }
            }
        }
    }

    /// Old-format bookkeeping: `go1.` strings and the module info sentinel.
    fn remember(&mut self, off: u64, win: &[u8], eof: bool) {
        let (from, to) = scan_range(self.versions_scanned_to, off, win.len(), eof);
        for m in memmem::find_iter(&win[from..to], b"go1.") {
            if self.versions.len() >= MAX_REMEMBERED_VERSIONS {
                break;
            }
            let at = from + m;
            let end = (at + MAX_VERSION).min(win.len());
            self.versions.push((off + at as u64, win[at..end].to_vec()));
        }
        self.versions_scanned_to = off + to as u64;
        match &mut self.modinfo {
            Some(w) if w.len > w.data.len() => {
                let before = w.data.len();
                w.fill(off, win);
                // Stop capturing at the end sentinel.
                let from = before.saturating_sub(INFO_END.len());
                if let Some(e) = memmem::find(&w.data[from..], INFO_END) {
                    w.len = from + e + INFO_END.len();
                    w.data.truncate(w.len);
                }
            }
            Some(_) => {}
            None => {
                let (from, to) = scan_range(self.sentinel_scanned_to, off, win.len(), eof);
                self.sentinel_scanned_to = off + to as u64;
                if let Some(m) = memmem::find(&win[from..to], INFO_START) {
                    self.modinfo = Some(Want::new(off + (from + m) as u64, MAX_MODINFO));
                    self.remember(off, win, eof);
                }
            }
        }
    }

    /// The module info capture has its end sentinel, or never will.
    fn modinfo_settled(&self, eof: bool) -> bool {
        eof || !self.is_go || self.modinfo.as_ref().is_some_and(|w| w.data.len() >= w.len)
    }

    fn finish_old(&mut self) -> Result<BuildInfo, String> {
        let version = self
            .old
            .as_mut()
            .and_then(|o| o.version.take())
            .unwrap_or_default();
        let text = self
            .modinfo
            .as_ref()
            .and_then(|w| {
                let end = memmem::find(&w.data, INFO_END)?;
                w.data.get(..end + INFO_END.len())
            })
            .unwrap_or_default();
        parse_modinfo(version.as_bytes(), text)
    }

    /// The result, if the file had build info. Called once the stream ended.
    pub(crate) fn finish(mut self) -> Option<Result<BuildInfo, String>> {
        if self.found.is_none() && self.old.is_some() {
            self.found = Some(self.finish_old());
        }
        self.found
    }
}

enum Step {
    Pending,
    Reject,
    Accept,
}

/// A stray copy of the magic (e.g. the constant inside the `go` tool itself)
/// is followed by arbitrary bytes; a real header has a sane size and flags.
fn plausible_header(h: &[u8]) -> bool {
    matches!(h.get(14), Some(4 | 8)) && h.get(15).is_some_and(|f| f & !3 == 0)
}

impl Old {
    fn start(hdr: &[u8], elf: Option<&Elf>) -> Option<Old> {
        let ptr_size = usize::from(*hdr.get(14)?);
        let big_endian = hdr.get(15)? & 1 != 0;
        let elf = elf?;
        let vaddr = read_uint(hdr, 16, ptr_size, big_endian)?;
        let at = elf.file_offset(vaddr, 2 * ptr_size as u64)?;
        Some(Old {
            ptr_size,
            big_endian,
            step: Want::new(at, 2 * ptr_size),
            reading_data: false,
            version: None,
        })
    }

    fn advance(&mut self, off: u64, win: &[u8], elf: Option<&Elf>, seen: &[(u64, Vec<u8>)]) {
        if self.version.is_some() {
            return;
        }
        if self.step.at < off && self.step.data.is_empty() {
            // Already streamed past: only remembered `go1.` strings can help.
            self.version = Some(if self.reading_data {
                seen.iter()
                    .find(|(at, _)| *at == self.step.at)
                    .and_then(|(_, b)| b.get(..self.step.len))
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default()
            } else {
                String::new()
            });
            return;
        }
        if !self.step.fill(off, win) {
            return;
        }
        if self.reading_data {
            self.version = Some(String::from_utf8_lossy(&self.step.data).into_owned());
            return;
        }
        let d = &self.step.data;
        let target = read_uint(d, 0, self.ptr_size, self.big_endian)
            .zip(read_uint(d, self.ptr_size, self.ptr_size, self.big_endian))
            .filter(|(_, len)| *len as usize <= MAX_VERSION)
            .and_then(|(ptr, len)| Some((elf?.file_offset(ptr, len)?, len as usize)));
        match target {
            Some((at, len)) => {
                self.step = Want::new(at, len);
                self.reading_data = true;
                self.advance(off, win, elf, seen);
            }
            None => self.version = Some(String::new()),
        }
    }
}

enum Inline {
    Need(usize),
    Invalid,
    Done(Vec<u8>, Vec<u8>),
}

/// Go >= 1.18: header, varint + version, varint + module info.
fn parse_inline(d: &[u8]) -> Inline {
    let mut pos = HEADER;
    let mut out = Vec::with_capacity(2);
    for max in [MAX_VERSION, MAX_MODINFO] {
        let Some((len, n)) = uvarint(d.get(pos..).unwrap_or_default()) else {
            // A varint is at most 10 bytes; ask for them, then give up.
            return if d.len() < pos + 10 {
                Inline::Need(pos + 10)
            } else {
                Inline::Invalid
            };
        };
        let Ok(len) = usize::try_from(len) else {
            return Inline::Invalid;
        };
        if len > max {
            return Inline::Invalid;
        }
        pos += n;
        let Some(s) = d.get(pos..pos + len) else {
            return Inline::Need(pos + len);
        };
        out.push(s.to_vec());
        pos += len;
    }
    let modinfo = out.pop().unwrap_or_default();
    let version = out.pop().unwrap_or_default();
    Inline::Done(version, modinfo)
}

/// Unsigned LEB128 as Go's `binary.Uvarint`: (value, bytes used).
fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    for (i, &x) in b.iter().take(10).enumerate() {
        if i == 9 && x > 1 {
            return None;
        }
        v |= u64::from(x & 0x7f) << (7 * i);
        if x < 0x80 {
            return Some((v, i + 1));
        }
    }
    None
}

/// Turn the version and the raw (sentinel-wrapped) module info into facts.
fn parse_modinfo(version: &[u8], raw: &[u8]) -> Result<BuildInfo, String> {
    let version = std::str::from_utf8(version).map_err(|_| "version is not UTF-8".to_string())?;
    if !version.is_empty() && !version.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        return Err("version string is not printable".into());
    }
    // As Go: the text sits between 16-byte sentinels, the last line ending in '\n'.
    let text = if raw.len() >= 33 && raw[raw.len() - 17] == b'\n' {
        &raw[16..raw.len() - 16]
    } else {
        &[][..]
    };
    // Go strings are bytes, so the runtime reads such a binary's build
    // information without complaint: decode leniently and say so.
    let decoded = crate::text::decode(text);
    let text = &decoded.text;
    let mut info = BuildInfo {
        go_version: version.to_string(),
        invalid_utf8_at: decoded.invalid_at,
        ..BuildInfo::default()
    };
    // Which module a `=>` line replaces: the main one or the last dep.
    let mut last_is_main = false;
    for (n, line) in text.lines().enumerate() {
        let bad = || format!("module info line {}: {line:?}", n + 1);
        let (key, rest) = line.split_once('\t').unwrap_or((line, ""));
        match key {
            "path" => info.path = rest.to_string(),
            "mod" => {
                info.main = Some(module(rest).ok_or_else(bad)?);
                last_is_main = true;
            }
            "dep" => {
                info.deps.push(module(rest).ok_or_else(bad)?);
                last_is_main = false;
            }
            "=>" => {
                let rep = Box::new(module(rest).ok_or_else(bad)?);
                let target = if last_is_main {
                    info.main.as_mut()
                } else {
                    info.deps.last_mut()
                };
                target.ok_or_else(bad)?.replace = Some(rep);
            }
            "build" => {
                let (k, v) = build_setting(rest).ok_or_else(bad)?;
                info.settings.push((k, v));
            }
            // `go` (some versions repeat the toolchain version) and blank lines.
            _ => {}
        }
    }
    Ok(info)
}

/// `path \t version [\t sum]`; a local replacement has no version.
fn module(s: &str) -> Option<Module> {
    let mut f = s.split('\t');
    let path = f.next().filter(|p| !p.is_empty())?.to_string();
    let version = f.next().unwrap_or_default().to_string();
    let sum = f.next().filter(|s| !s.is_empty()).map(str::to_string);
    Some(Module {
        path,
        version,
        sum,
        replace: None,
    })
}

/// `key=value`, either side possibly a Go-quoted string.
fn build_setting(s: &str) -> Option<(String, String)> {
    let (key, rest) = if s.starts_with('"') {
        let (k, n) = unquote(s)?;
        (k, s.get(n..)?.strip_prefix('=')?)
    } else {
        let (k, v) = s.split_once('=')?;
        (k.to_string(), v)
    };
    let value = if rest.starts_with('"') {
        unquote(rest)?.0
    } else {
        rest.to_string()
    };
    Some((key, value))
}

/// A leading `"..."` with backslash escapes: (text, bytes consumed).
fn unquote(s: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i + 1)),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                c => out.push(c),
            },
            c => out.push(c),
        }
    }
    None
}

/// A filesystem replacement (`=> ../fork`) names no module version.
fn is_local_path(p: &str) -> bool {
    p.starts_with("./") || p.starts_with("../") || p.starts_with('/') || p == "." || p == ".."
}

pub fn catalog(index: &FileIndex, out: &mut Output) {
    for rec in index.files() {
        let Facts::Go(info) = &rec.facts else {
            continue;
        };
        if let Some(at) = info.invalid_utf8_at {
            out.lossy(CATALOGER_ID, rec, text::lossy_message(at, text::Tool::Go));
        }
        let main_name = match &info.main {
            Some(m) => m.path.clone(),
            None => info.path.clone(),
        };
        let pkg = |name: &str, version: &str, meta: GoMetadata| Package {
            id: String::new(),
            name: name.to_string(),
            version: version.to_string(),
            kind: PackageKind::GoModule,
            purl: String::new(),
            licenses: Vec::new(),
            locations: vec![rec.location()],
            found_by: CATALOGER_ID.to_string(),
            metadata: PackageMetadata::Go(meta),
        };
        let meta = |role, h1: Option<&String>, replaced: Option<String>, settings| GoMetadata {
            role,
            go_version: info.go_version.clone(),
            main_module: (!main_name.is_empty()).then(|| main_name.clone()),
            h1_digest: h1.cloned(),
            replaced_by: replaced,
            build_settings: settings,
        };
        if !info.go_version.is_empty() {
            out.packages.push(pkg(
                "stdlib",
                &info.go_version,
                meta(GoModuleRole::Stdlib, None, None, Vec::new()),
            ));
        }
        if !main_name.is_empty() {
            let (version, sum) = match &info.main {
                Some(m) => (m.version.as_str(), m.sum.as_ref()),
                // GOPATH-mode and toolchain binaries: a path but no module version.
                None => ("", None),
            };
            let m = meta(GoModuleRole::Main, sum, None, info.settings.clone());
            out.packages.push(pkg(&main_name, version, m));
        }
        for dep in &info.deps {
            // The code linked in is the replacement's; the original module
            // stays visible in `replaced_by` as `orig v => new v`.
            let (name, version, sum, replaced) = match &dep.replace {
                Some(r) => {
                    let line = format!("{} {} => {} {}", dep.path, dep.version, r.path, r.version);
                    let line = line.trim_end().to_string();
                    if is_local_path(&r.path) {
                        (&dep.path, &dep.version, dep.sum.as_ref(), Some(line))
                    } else {
                        (&r.path, &r.version, r.sum.as_ref(), Some(line))
                    }
                }
                None => (&dep.path, &dep.version, dep.sum.as_ref(), None),
            };
            let m = meta(GoModuleRole::Dep, sum, replaced, Vec::new());
            out.packages.push(pkg(name, version, m));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FileRecord;
    use crate::binary::{analyze_executable, test_layers};
    use std::collections::BTreeSet;

    fn wrap(text: &str) -> Vec<u8> {
        [INFO_START, text.as_bytes(), INFO_END].concat()
    }

    fn inline_blob(version: &str, modinfo: &[u8]) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[8, 2]);
        b.resize(HEADER, 0);
        for s in [version.as_bytes(), modinfo] {
            let mut n = s.len();
            while n >= 0x80 {
                b.push((n as u8) | 0x80);
                n >>= 7;
            }
            b.push(n as u8);
            b.extend_from_slice(s);
        }
        b
    }

    /// A minimal 64-bit little-endian ELF with one PT_LOAD mapping the whole file at 0x400000.
    fn elf_with(body_at: usize, body: &[u8], total: usize) -> Vec<u8> {
        let mut f = vec![0u8; total.max(body_at + body.len())];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2;
        f[5] = 1;
        f[32..40].copy_from_slice(&64u64.to_le_bytes());
        f[54..56].copy_from_slice(&56u16.to_le_bytes());
        f[56..58].copy_from_slice(&1u16.to_le_bytes());
        f[64..68].copy_from_slice(&1u32.to_le_bytes());
        f[72..80].copy_from_slice(&0u64.to_le_bytes());
        f[80..88].copy_from_slice(&0x40_0000u64.to_le_bytes());
        let len = f.len() as u64;
        f[96..104].copy_from_slice(&len.to_le_bytes());
        f[body_at..body_at + body.len()].copy_from_slice(body);
        f
    }

    fn analyze(bytes: &[u8]) -> Option<Facts> {
        let mut r = bytes;
        analyze_executable(&mut r, bytes.len() as u64)
            .ok()
            .flatten()
    }

    fn packages(info: BuildInfo) -> Vec<Package> {
        let mut ix = FileIndex::new();
        ix.insert(FileRecord {
            path: "/bin/x".into(),
            layer: None,
            facts: Facts::Go(info),
        });
        let mut out = Output::default();
        catalog(&ix, &mut out);
        out.packages
    }

    #[test]
    fn matches_go_binary_truth() {
        let Some(dir) = bosun_testutil::fixture("images/oci/go-binary") else {
            return;
        };
        let mut ix = FileIndex::new();
        test_layers::for_each_file(&dir, &mut |path, mode, size, r| {
            if crate::interest(path, mode, size) == crate::Interest::Executable {
                let facts = analyze_executable(r, size).unwrap_or_else(|e| panic!("{path}: {e}"));
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
        let got: BTreeSet<_> = out
            .packages
            .iter()
            .map(|p| {
                let PackageMetadata::Go(m) = &p.metadata else {
                    panic!("metadata")
                };
                let role = match m.role {
                    GoModuleRole::Main => "main",
                    GoModuleRole::Dep => "dep",
                    GoModuleRole::Stdlib => "stdlib",
                };
                (
                    p.name.clone(),
                    p.version.clone(),
                    role.to_string(),
                    p.locations[0].path.clone(),
                )
            })
            .collect();
        let truth: serde_json::Value = serde_json::from_slice(
            &std::fs::read(bosun_testutil::fixture("truth/go-binary.json").unwrap_or_default())
                .unwrap_or_default(),
        )
        .unwrap_or_default();
        let want: BTreeSet<_> = truth["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["ecosystem"] == "golang")
            .map(|p| {
                let s = |k: &str| p[k].as_str().unwrap_or_default().to_string();
                (s("name"), s("version"), s("role"), s("path"))
            })
            .collect();
        assert!(!want.is_empty());
        assert_eq!(got, want);
        let esbuild = out.packages.iter().find(|p| p.name == "golang.org/x/sys");
        let Some(PackageMetadata::Go(m)) = esbuild.map(|p| &p.metadata) else {
            panic!("no x/sys")
        };
        assert_eq!(
            m.h1_digest.as_deref(),
            Some("h1:0A+M6Uqn+Eje4kHMK80dtF3JCXC4ykBgQG4Fe06QRhQ=")
        );
        assert_eq!(m.main_module.as_deref(), Some("github.com/evanw/esbuild"));
    }

    #[test]
    fn toolchain_binary_main_has_empty_version() {
        // As truth/large.json's /usr/lib/go-1.19/bin/go: `path cmd/go`, no `mod` line.
        let blob = inline_blob(
            "go1.19.8",
            &wrap("path\tcmd/go\nbuild\t-compiler=gc\nbuild\tGOOS=linux\n"),
        );
        let Some(Facts::Go(info)) = analyze(&elf_with(4096, &blob, 8192)) else {
            panic!("no build info")
        };
        let got: Vec<_> = packages(info)
            .iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("stdlib".into(), "go1.19.8".into()),
                ("cmd/go".into(), String::new())
            ]
        );
    }

    #[test]
    fn replacements_and_quoted_settings() {
        let text = "path\texample.com/app\nmod\texample.com/app\tv1.0.0\th1:aaa=\n\
            dep\tgolang.org/x/net\tv0.1.0\th1:old=\n=>\tgithub.com/fork/net\tv0.1.1\th1:new=\n\
            dep\texample.com/local\tv0.0.0\n=>\t../local\t\n\
            build\t\"-ldflags=-X main.v=1\"=\"quoted \\\"v\\\"\"\nbuild\tvcs.revision=abc\n";
        let info = parse_modinfo(b"go1.21.0", &wrap(text)).unwrap_or_default();
        assert_eq!(
            info.settings[0],
            ("-ldflags=-X main.v=1".into(), "quoted \"v\"".into())
        );
        let pk = packages(info);
        let net = pk.iter().find(|p| p.name == "github.com/fork/net");
        let Some(PackageMetadata::Go(m)) = net.map(|p| &p.metadata) else {
            panic!("replacement not reported")
        };
        assert_eq!(net.map(|p| p.version.as_str()), Some("v0.1.1"));
        assert_eq!(m.h1_digest.as_deref(), Some("h1:new="));
        assert_eq!(
            m.replaced_by.as_deref(),
            Some("golang.org/x/net v0.1.0 => github.com/fork/net v0.1.1")
        );
        assert!(
            pk.iter()
                .any(|p| p.name == "example.com/local" && p.version == "v0.0.0")
        );
        let main = pk.iter().find(|p| p.name == "example.com/app");
        let Some(PackageMetadata::Go(m)) = main.map(|p| &p.metadata) else {
            panic!("no main")
        };
        assert_eq!(m.build_settings.len(), 2);
    }

    #[test]
    fn finds_header_across_windows_and_skips_stray_magic() {
        // A stray unaligned-or-implausible magic first, the real one straddling
        // the 256 KiB window boundary.
        let blob = inline_blob("go1.20.1", &wrap("path\ta/b\nmod\ta/b\tv1.2.3\t\n"));
        let real_at = (256 << 10) - 16;
        let mut f = elf_with(real_at, &blob, 600 << 10);
        f[8192..8192 + MAGIC.len()].copy_from_slice(MAGIC);
        f[8192 + 14] = 0x41;
        let Some(Facts::Go(info)) = analyze(&f) else {
            panic!("no build info")
        };
        assert_eq!(info.go_version, "go1.20.1");
        assert_eq!(info.main.map(|m| m.version), Some("v1.2.3".into()));
    }

    #[test]
    fn old_pointer_format() {
        // Go 1.13-1.17 layout: version string and module info in "rodata"
        // before the header; string headers after it.
        let base = 0x40_0000u64;
        let mut f = elf_with(0, &[], 600 << 10);
        f[0x200..0x208].copy_from_slice(GO_NOTE_LE);
        f[0x1000..0x1009].copy_from_slice(b"go1.16.15");
        let modinfo =
            wrap("path\tx.io/tool\nmod\tx.io/tool\tv0.3.0\th1:x=\ndep\ty.io/lib\tv1.0.0\th1:y=\n");
        f[0x1100..0x1100 + modinfo.len()].copy_from_slice(&modinfo);
        let hdr_at = 0x5_0000;
        f[hdr_at..hdr_at + 14].copy_from_slice(MAGIC);
        f[hdr_at + 14] = 8;
        f[hdr_at + 15] = 0;
        let vhdr = hdr_at + 0x20;
        f[hdr_at + 16..hdr_at + 24].copy_from_slice(&(base + vhdr as u64).to_le_bytes());
        f[hdr_at + 24..hdr_at + 32].copy_from_slice(&(base + vhdr as u64 + 16).to_le_bytes());
        f[vhdr..vhdr + 8].copy_from_slice(&(base + 0x1000).to_le_bytes());
        f[vhdr + 8..vhdr + 16].copy_from_slice(&9u64.to_le_bytes());
        let Some(Facts::Go(info)) = analyze(&f) else {
            panic!("no build info")
        };
        assert_eq!(info.go_version, "go1.16.15");
        assert_eq!(info.main.map(|m| m.path), Some("x.io/tool".into()));
        assert_eq!(info.deps.len(), 1);
    }

    #[test]
    fn garbage_after_magic_is_harmless() {
        for tail in [
            &b"\x08\x02"[..],
            b"\x08\x02\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
            b"\x08\x00\xff\xff\xff\xff\xff\xff\xff\xff",
        ] {
            let mut blob = MAGIC.to_vec();
            blob.extend_from_slice(tail);
            let f = elf_with(4096, &blob, 4096 + blob.len());
            let got = analyze(&f);
            assert!(!matches!(got, Some(Facts::Go(_))), "{got:?}");
        }
        // An unprintable version is an error, not a panic; module info
        // that is not UTF-8 is decoded leniently and says where.
        assert!(parse_modinfo(b"go1\x01", b"").is_err());
        let bad = [INFO_START, b"\xff\xfe\n", INFO_END].concat();
        assert_eq!(
            parse_modinfo(b"go1.20", &bad).map(|i| i.invalid_utf8_at),
            Ok(Some(0))
        );
        assert!(uvarint(&[0xff; 12]).is_none());
    }
}
