//! Rust: cargo-auditable `.dep-v0` sections in binaries, and `Cargo.lock`.
//!
//! cargo-auditable stores zlib-compressed JSON (`{"packages":[...]}`) in a
//! section named `.dep-v0`. Finding a section by name needs the section
//! header table, which sits at the end of the file, after the data has
//! streamed by. So the scanner works from the content instead: at every
//! zlib header it inflates a few bytes and checks for `{"packages":`; on a
//! hit it inflates that stream to its end (output capped). The check is
//! cheap (a handful of candidates per MiB) and does not depend on section
//! names or on the binary being unstripped.

use std::collections::BTreeMap;

use flate2::{Decompress, FlushDecompress, Status};
use memchr::memmem;
use serde::{Deserialize, Serialize};

use bosun_core::package::RustMetadata;
use bosun_core::{Package, PackageKind, PackageMetadata};

use crate::binary::{LOOKAHEAD, scan_range};
use crate::text::Tool;
use crate::{Facts, FileIndex, Output, Scope};

pub const CATALOGER_ID: &str = "rust-cataloger";

const JSON_PREFIX: &[u8] = br#"{"packages":"#;
/// Inflated JSON beyond this is refused (a real tree is a few hundred KiB).
const MAX_JSON: usize = 16 << 20;
/// zlib headers (CMF 0x78, no preset dictionary) for the four levels.
const ZLIB_HEADERS: [&[u8]; 4] = [b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda"];
const MAX_PACKAGES: usize = 100_000;

/// The dependency tree a cargo-auditable binary carries; cached per layer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditInfo {
    pub packages: Vec<Crate>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crate {
    pub name: String,
    pub version: String,
    /// `crates.io`, `local`, `git`, `registry`, ... as cargo-auditable writes it.
    pub source: String,
    /// `runtime` or `build`.
    pub kind: String,
    pub root: bool,
}

pub fn wants(path: &str) -> bool {
    path.ends_with("/Cargo.lock")
}

/// Streaming state for one file (driven by `binary::analyze_executable`).
pub(crate) struct Scanner {
    finders: Vec<memmem::Finder<'static>>,
    scanned_to: u64,
    probe: Decompress,
    inflating: Option<Inflating>,
    result: Option<Result<AuditInfo, String>>,
}

struct Inflating {
    /// File offset of the next compressed byte to feed.
    next: u64,
    dec: Decompress,
    json: Vec<u8>,
}

impl Scanner {
    pub(crate) fn new() -> Scanner {
        Scanner {
            finders: ZLIB_HEADERS.iter().map(memmem::Finder::new).collect(),
            scanned_to: 0,
            probe: Decompress::new(true),
            inflating: None,
            result: None,
        }
    }

    pub(crate) fn done(&self) -> bool {
        self.result.is_some()
    }

    pub(crate) fn feed(&mut self, off: u64, win: &[u8], eof: bool) {
        if self.result.is_some() {
            return;
        }
        if self.inflating.is_none() {
            let (from, to) = scan_range(self.scanned_to, off, win.len(), eof);
            self.scanned_to = off + to as u64;
            let mut hits: Vec<usize> = Vec::new();
            for f in &self.finders {
                hits.extend(
                    f.find_iter(&win[from..])
                        .map(|m| from + m)
                        .take_while(|&at| at < to),
                );
            }
            hits.sort_unstable();
            let Some(at) = hits
                .into_iter()
                .find(|&at| self.looks_like_audit_data(&win[at..]))
            else {
                return;
            };
            self.inflating = Some(Inflating {
                next: off + at as u64,
                dec: Decompress::new(true),
                json: Vec::new(),
            });
        }
        if let Some(inf) = &mut self.inflating {
            match inf.feed(off, win) {
                Ok(false) if !eof => {}
                Ok(false) => self.result = Some(Err("compressed data is truncated".into())),
                Ok(true) => self.result = Some(parse_audit_json(&inf.json)),
                Err(e) => self.result = Some(Err(e)),
            }
        }
    }

    fn looks_like_audit_data(&mut self, data: &[u8]) -> bool {
        self.probe.reset(true);
        let mut out = [0u8; JSON_PREFIX.len()];
        let input = &data[..data.len().min(LOOKAHEAD)];
        match self
            .probe
            .decompress(input, &mut out, FlushDecompress::None)
        {
            Ok(_) => self.probe.total_out() as usize == out.len() && out == JSON_PREFIX,
            Err(_) => false,
        }
    }

    pub(crate) fn finish(self) -> Option<Result<AuditInfo, String>> {
        self.result
    }
}

impl Inflating {
    /// Feed the part of `win` not yet consumed; true once the stream ended.
    fn feed(&mut self, off: u64, win: &[u8]) -> Result<bool, String> {
        let Some(start) = self
            .next
            .checked_sub(off)
            .and_then(|s| usize::try_from(s).ok())
        else {
            return Err("lost track of the compressed stream".into());
        };
        let mut input = win.get(start..).unwrap_or_default();
        let mut chunk = [0u8; 32 << 10];
        while !input.is_empty() {
            let (in0, out0) = (self.dec.total_in(), self.dec.total_out());
            let status = self
                .dec
                .decompress(input, &mut chunk, FlushDecompress::None)
                .map_err(|e| format!("inflate: {e}"))?;
            let used = (self.dec.total_in() - in0) as usize;
            let made = (self.dec.total_out() - out0) as usize;
            self.json.extend_from_slice(&chunk[..made]);
            if self.json.len() > MAX_JSON {
                return Err(format!("dependency JSON larger than {MAX_JSON} bytes"));
            }
            input = &input[used..];
            self.next += used as u64;
            if status == Status::StreamEnd {
                return Ok(true);
            }
            if used == 0 && made == 0 {
                break;
            }
        }
        Ok(false)
    }
}

#[derive(Deserialize)]
struct RawTree {
    packages: Vec<RawCrate>,
}

#[derive(Deserialize)]
struct RawCrate {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<serde_json::Value>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    root: bool,
}

fn parse_audit_json(json: &[u8]) -> Result<AuditInfo, String> {
    let tree: RawTree = serde_json::from_slice(json).map_err(|e| format!("JSON: {e}"))?;
    if tree.packages.len() > MAX_PACKAGES {
        return Err(format!("{} packages is implausible", tree.packages.len()));
    }
    let packages = tree
        .packages
        .into_iter()
        .map(|p| Crate {
            name: p.name,
            version: p.version,
            source: match p.source {
                Some(serde_json::Value::String(s)) => s,
                // An `{"other": "..."}` source or anything unexpected.
                Some(v) => v.to_string(),
                None => String::new(),
            },
            // cargo-auditable omits the kind of runtime dependencies.
            kind: p.kind.unwrap_or_else(|| "runtime".into()),
            root: p.root,
        })
        .collect();
    Ok(AuditInfo { packages })
}

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<LockPackage>,
    /// v1 lockfiles keep checksums here: `"checksum name version (source)" = "hex"`.
    #[serde(default)]
    metadata: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct LockPackage {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    checksum: Option<String>,
}

struct Locked {
    name: String,
    version: String,
    source: String,
    checksum: Option<String>,
}

fn parse_cargo_lock(text: &[u8]) -> Result<Vec<Locked>, String> {
    let text = std::str::from_utf8(text).map_err(|_| "not UTF-8".to_string())?;
    let lock: Lock = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut v1_sums: BTreeMap<(String, String), String> = BTreeMap::new();
    for (k, v) in &lock.metadata {
        let mut f = k.split(' ');
        if let (Some("checksum"), Some(name), Some(version), Some(sum)) =
            (f.next(), f.next(), f.next(), v.as_str())
        {
            v1_sums.insert((name.to_string(), version.to_string()), sum.to_string());
        }
    }
    Ok(lock
        .package
        .into_iter()
        .map(|p| {
            let checksum = p
                .checksum
                .or_else(|| v1_sums.get(&(p.name.clone(), p.version.clone())).cloned())
                .filter(|c| c != "<none>");
            Locked {
                source: lock_source(p.source.as_deref()),
                name: p.name,
                version: p.version,
                checksum,
            }
        })
        .collect())
}

/// Name the crates.io registry as cargo-auditable does; no source means a
/// workspace member (or path dependency).
fn lock_source(s: Option<&str>) -> String {
    match s {
        None => "local".into(),
        Some(
            "registry+https://github.com/rust-lang/crates.io-index"
            | "sparse+https://index.crates.io/",
        ) => "crates.io".into(),
        Some(s) => s.to_string(),
    }
}

pub fn catalog(index: &FileIndex, out: &mut Output) {
    for rec in index.files() {
        let pkg = |name: &str, version: &str, meta: RustMetadata| Package {
            id: String::new(),
            name: name.to_string(),
            version: version.to_string(),
            kind: PackageKind::RustCrate,
            purl: String::new(),
            licenses: Vec::new(),
            locations: vec![rec.location()],
            found_by: CATALOGER_ID.to_string(),
            metadata: PackageMetadata::Rust(meta),
        };
        match &rec.facts {
            Facts::RustAudit(info) => {
                for c in &info.packages {
                    let meta = RustMetadata {
                        source: c.source.clone(),
                        checksum: None,
                        dependency_kind: Some(c.kind.clone()),
                        root_project: c.root,
                    };
                    out.packages.push(pkg(&c.name, &c.version, meta));
                }
            }
            // Cargo.lock describes a source tree, not what an image runs (see `Scope`).
            Facts::Content(bytes) if wants(&rec.path) && index.scope() == Scope::Directory => {
                let text = out.text(CATALOGER_ID, rec, bytes, Tool::Cargo);
                match parse_cargo_lock(text.as_bytes()) {
                    Ok(locked) => {
                        for l in locked {
                            let meta = RustMetadata {
                                source: l.source,
                                checksum: l.checksum,
                                dependency_kind: None,
                                root_project: false,
                            };
                            out.packages.push(pkg(&l.name, &l.version, meta));
                        }
                    }
                    Err(e) => out.unknown(CATALOGER_ID, rec, format!("Cargo.lock: {e}")),
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FileRecord;
    use crate::binary::{analyze_executable, test_layers};
    use std::collections::BTreeSet;
    use std::io::Write;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(7));
        e.write_all(data).unwrap_or_default();
        e.finish().unwrap_or_default()
    }

    fn elf_with(at: usize, body: &[u8], total: usize) -> Vec<u8> {
        let mut f = vec![0u8; total.max(at + body.len())];
        f[..6].copy_from_slice(b"\x7fELF\x02\x01");
        f[at..at + body.len()].copy_from_slice(body);
        f
    }

    fn analyze(bytes: &[u8]) -> Option<Facts> {
        let mut r = bytes;
        analyze_executable(&mut r, bytes.len() as u64)
            .ok()
            .flatten()
    }

    #[test]
    fn matches_rust_binary_truth() {
        let Some(dir) = bosun_testutil::fixture("images/oci/rust-binary") else {
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
                let PackageMetadata::Rust(m) = &p.metadata else {
                    panic!("metadata")
                };
                let kind = m.dependency_kind.clone().unwrap_or_default();
                (
                    p.name.clone(),
                    p.version.clone(),
                    p.locations[0].path.clone(),
                    m.source.clone(),
                    kind,
                    m.root_project,
                )
            })
            .collect();
        let truth: serde_json::Value = serde_json::from_slice(
            &std::fs::read(bosun_testutil::fixture("truth/rust-binary.json").unwrap_or_default())
                .unwrap_or_default(),
        )
        .unwrap_or_default();
        let want: BTreeSet<_> = truth["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["ecosystem"] == "cargo")
            .map(|p| {
                let s = |k: &str| p[k].as_str().unwrap_or_default().to_string();
                (
                    s("name"),
                    s("version"),
                    s("path"),
                    s("source"),
                    s("kind"),
                    p["root_project"] == true,
                )
            })
            .collect();
        assert_eq!(want.len(), 7);
        assert_eq!(got, want);
    }

    #[test]
    fn finds_section_straddling_windows_with_decoy_headers() {
        let json = br#"{"packages":[{"name":"a","version":"1.0.0","source":"crates.io","kind":"build"},{"name":"app","version":"0.1.0","source":"local","root":true,"dependencies":[0]}]}"#;
        let z = zlib(json);
        let mut f = elf_with((256 << 10) - 5, &z, 400 << 10);
        // Decoys: zlib-looking bytes that do not inflate to the JSON prefix.
        f[100..102].copy_from_slice(b"\x78\x9c");
        f[5000..5002].copy_from_slice(b"\x78\xda");
        let Some(Facts::RustAudit(info)) = analyze(&f) else {
            panic!("no audit data")
        };
        assert_eq!(info.packages.len(), 2);
        assert_eq!(info.packages[0].kind, "build");
        assert!(info.packages[1].root);
    }

    #[test]
    fn hostile_audit_data() {
        // Truncated stream.
        let json = br#"{"packages":[{"name":"a","version":"1"}]}"#;
        let z = zlib(json);
        let f = elf_with(2048, &z[..z.len() - 6], 2048 + z.len() - 6);
        assert!(matches!(analyze(&f), Some(Facts::Unreadable(_))));
        // Valid zlib, invalid JSON.
        let z = zlib(br#"{"packages":[{"nme":1}]}"#);
        assert!(matches!(
            analyze(&elf_with(2048, &z, 4096)),
            Some(Facts::Unreadable(_))
        ));
        // A bomb: the JSON prefix followed by a huge run of spaces.
        let mut bomb = JSON_PREFIX.to_vec();
        bomb.resize(MAX_JSON + 1024, b' ');
        let z = zlib(&bomb);
        let Some(Facts::Unreadable(msg)) = analyze(&elf_with(2048, &z, 4096 + z.len())) else {
            panic!("bomb accepted")
        };
        assert!(msg.contains("larger"), "{msg}");
    }

    /// Name/version pairs of a Cargo.lock by a plain text scan of its
    /// `[[package]]` stanzas, independent of the TOML parser.
    fn stanzas(text: &str) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for stanza in text.split("[[package]]").skip(1) {
            let field = |k: &str| {
                stanza
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{k} = \"")))
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or_default()
                    .to_string()
            };
            out.insert((field("name"), field("version")));
        }
        out
    }

    #[test]
    fn cargo_lock_fixtures() {
        for name in ["ripgrep-v3", "ripgrep-v4", "trivy-ci-test"] {
            let Some(path) =
                bosun_testutil::fixture(&format!("files/lockfiles/cargo/{name}.Cargo.lock"))
            else {
                continue;
            };
            let bytes = std::fs::read(&path).unwrap_or_default();
            let mut ix = FileIndex::with_scope(Scope::Directory);
            ix.insert(FileRecord {
                path: "/src/app/Cargo.lock".into(),
                layer: None,
                facts: Facts::Content(bytes.clone()),
            });
            let mut out = Output::default();
            catalog(&ix, &mut out);
            assert!(out.unknowns.is_empty(), "{name}: {:?}", out.unknowns);
            let got: BTreeSet<_> = out
                .packages
                .iter()
                .map(|p| (p.name.clone(), p.version.clone()))
                .collect();
            let want = stanzas(&String::from_utf8_lossy(&bytes));
            assert!(want.len() > 10, "{name}");
            assert_eq!(got, want, "{name}");
            assert_eq!(out.packages.len(), want.len(), "{name}: duplicates");
            // Registry crates carry their checksum; text-scan count of them agrees.
            // (v1 lockfiles keep them in [metadata] as "checksum name version (source)".)
            let text = String::from_utf8_lossy(&bytes);
            // A stale [metadata] line for a crate no longer locked does not count.
            let v1 = text
                .lines()
                .filter_map(|l| l.strip_prefix("\"checksum "))
                .filter(|l| {
                    let mut f = l.split(' ');
                    want.contains(&(
                        f.next().unwrap_or_default().into(),
                        f.next().unwrap_or_default().into(),
                    ))
                });
            let sums = text.matches("\nchecksum = \"").count() + v1.count();
            let with_sum = out.packages.iter().filter(|p| {
                matches!(&p.metadata, PackageMetadata::Rust(m) if m.source == "crates.io" && m.checksum.as_ref().map(String::len) == Some(64))
            });
            assert_eq!(with_sum.count(), sums, "{name}");
        }
    }

    #[test]
    fn cargo_lock_v1_metadata_checksums_and_errors() {
        let v1 = r#"
[[package]]
name = "app"
version = "0.1.0"
dependencies = ["libc 0.2.1 (registry+https://github.com/rust-lang/crates.io-index)"]

[[package]]
name = "libc"
version = "0.2.1"
source = "registry+https://github.com/rust-lang/crates.io-index"

[metadata]
"checksum libc 0.2.1 (registry+https://github.com/rust-lang/crates.io-index)" = "abc123"
"#;
        let got = parse_cargo_lock(v1.as_bytes()).unwrap_or_default();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].source, "local");
        assert_eq!(got[1].checksum.as_deref(), Some("abc123"));
        assert!(parse_cargo_lock(b"[[package]]\nname = 3\n").is_err());
        assert!(parse_cargo_lock(b"\xff\xfe").is_err());
        assert!(parse_cargo_lock(b"[[package").is_err());
        assert!(wants("/app/Cargo.lock") && !wants("/app/Cargo.toml"));
    }
}
