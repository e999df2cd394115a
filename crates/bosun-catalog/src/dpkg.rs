//! Debian packages: `/var/lib/dpkg/status`, distroless `status.d/*`, file
//! lists from `info/*.list` (or `status.d/*.md5sums`), and licenses from
//! machine-readable `/usr/share/doc/<pkg>/copyright` files.

use std::collections::{BTreeSet, HashMap};

use bosun_core::package::DpkgMetadata;
use bosun_core::{Package, PackageKind, PackageMetadata};

use crate::shipped::{FileDigests, hex_eq};
use crate::text::Tool;
use crate::{FileIndex, FileRecord, Output};

pub const CATALOGER_ID: &str = "dpkg-db-cataloger";

const STATUS: &str = "/var/lib/dpkg/status";
const STATUS_D: &str = "/var/lib/dpkg/status.d/";
const INFO: &str = "/var/lib/dpkg/info/";
const DOC: &str = "/usr/share/doc/";

pub fn wants(path: &str) -> bool {
    if path == STATUS {
        return true;
    }
    if let Some(rest) = path.strip_prefix(STATUS_D) {
        return !rest.contains('/');
    }
    if let Some(rest) = path.strip_prefix(INFO) {
        return !rest.contains('/') && rest.ends_with(".list");
    }
    if let Some(rest) = path.strip_prefix(DOC) {
        return rest.ends_with("/copyright") && rest.matches('/').count() == 1;
    }
    false
}

/// One stanza of the control format: fields in order, continuation lines joined.
fn stanzas(text: &str) -> impl Iterator<Item = Vec<(&str, String)>> {
    text.split("\n\n").filter_map(|block| {
        let mut fields: Vec<(&str, String)> = Vec::new();
        for line in block.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some((_, v)) = fields.last_mut() {
                    v.push('\n');
                    v.push_str(line.trim());
                }
            } else if let Some((k, v)) = line.split_once(':') {
                fields.push((k.trim(), v.trim().to_string()));
            }
        }
        if fields.is_empty() {
            None
        } else {
            Some(fields)
        }
    })
}

fn field<'a>(fields: &'a [(&str, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `Source: name (version)` or `Source: name`.
fn parse_source(source: Option<&str>, name: &str, version: &str) -> (String, String) {
    match source {
        Some(s) => match s.split_once('(') {
            Some((n, v)) => (
                n.trim().to_string(),
                v.trim_end_matches(')').trim().to_string(),
            ),
            None => (s.trim().to_string(), version.to_string()),
        },
        None => (name.to_string(), version.to_string()),
    }
}

struct Parsed {
    name: String,
    version: String,
    meta: DpkgMetadata,
}

fn parse_db(rec: &FileRecord, require_status: bool, out: &mut Output) -> Vec<Parsed> {
    let Some(bytes) = rec.content() else {
        return Vec::new();
    };
    let text = out.text(CATALOGER_ID, rec, bytes, Tool::Bytes);
    let mut pkgs = Vec::new();
    for fields in stanzas(&text) {
        let (Some(name), Some(version)) = (field(&fields, "Package"), field(&fields, "Version"))
        else {
            // status.d also holds non-control files; only complain for the main DB.
            if require_status {
                out.unknown(CATALOGER_ID, rec, "a stanza without Package or Version");
            }
            continue;
        };
        if require_status {
            // "install ok installed"; config-files, half-installed... are not installed.
            let installed = field(&fields, "Status")
                .is_some_and(|s| s.split_whitespace().nth(2) == Some("installed"));
            if !installed {
                continue;
            }
        }
        let (source, source_version) = parse_source(field(&fields, "Source"), name, version);
        pkgs.push(Parsed {
            name: name.to_string(),
            version: version.to_string(),
            meta: DpkgMetadata {
                source,
                source_version,
                architecture: field(&fields, "Architecture").unwrap_or("").to_string(),
                maintainer: field(&fields, "Maintainer").map(str::to_string),
                installed_size_kib: field(&fields, "Installed-Size").and_then(|s| s.parse().ok()),
                files: Vec::new(),
            },
        });
    }
    pkgs
}

/// Absolute paths from a `.list` (one per line) or `.md5sums` (hash, spaces, relative path).
fn file_list(bytes: &[u8], md5sums: bool) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .filter_map(|l| {
            let p = if md5sums {
                l.split_once(char::is_whitespace)?.1.trim_start()
            } else {
                l
            };
            let p = p.trim_end();
            if p.is_empty() || p == "/." {
                return None;
            }
            Some(if p.starts_with('/') {
                p.to_string()
            } else {
                format!("/{p}")
            })
        })
        .collect()
}

/// The package whose `md5sums` list this is: `info/NAME[:ARCH].md5sums`
/// or distroless `status.d/NAME.md5sums`.
pub fn md5sums_package(path: &str) -> Option<&str> {
    let name = path
        .strip_prefix(INFO)
        .or_else(|| path.strip_prefix(STATUS_D))?
        .strip_suffix(".md5sums")?;
    let name = name.split_once(':').map_or(name, |(n, _)| n);
    (!name.is_empty() && !name.contains('/')).then_some(name)
}

/// Which of `files` (absolute path and digests of its content) `package`
/// shipped exactly so, going by its `md5sums` list: path to package. A file
/// a builder changed after installing it has another MD5 and is not
/// returned. Lines that are not `HEX  PATH` are ignored.
pub fn shipped_unmodified(
    package: &str,
    list: &[u8],
    files: &HashMap<String, FileDigests>,
) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for line in list.split(|&b| b == b'\n') {
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        let Some((hex, rel)) = line.split_once(|c: char| c.is_ascii_whitespace()) else {
            continue;
        };
        let rel = rel.trim_matches(|c: char| c.is_ascii_whitespace());
        let path = if rel.starts_with('/') {
            rel.to_string()
        } else {
            format!("/{rel}")
        };
        if files.get(&path).is_some_and(|d| hex_eq(hex, &d.md5)) {
            out.insert(path, package.to_string());
        }
    }
    out
}

pub fn catalog(index: &FileIndex, out: &mut Output) {
    let mut found: Vec<(Parsed, &FileRecord)> = Vec::new();
    if let Some(rec) = index.get(STATUS) {
        for p in parse_db(rec, true, out) {
            found.push((p, rec));
        }
    }
    let status_d: Vec<&FileRecord> = index.files_in(STATUS_D).collect();
    let md5: HashMap<&str, &FileRecord> = status_d
        .iter()
        .filter_map(|r| Some((r.path.strip_suffix(".md5sums")?, *r)))
        .collect();
    for rec in status_d.iter().filter(|r| !r.path.ends_with(".md5sums")) {
        for mut p in parse_db(rec, false, out) {
            // distroless names the file after the package, not always exactly
            // (`base` for base-files): look both up.
            let sidecar = md5
                .get(rec.path.as_str())
                .or_else(|| md5.get(format!("{STATUS_D}{}", p.name).as_str()));
            if let Some(m) = sidecar.and_then(|r| r.content()) {
                p.meta.files = file_list(m, true);
            }
            found.push((p, rec));
        }
    }
    let copyright_licenses = |name: &str| -> Vec<String> {
        index
            .get(&format!("{DOC}{name}/copyright"))
            .and_then(|r| r.content())
            .map(copyright::licenses)
            .unwrap_or_default()
    };
    for (mut p, rec) in found {
        if p.meta.files.is_empty() {
            let arch_list = format!("{INFO}{}:{}.list", p.name, p.meta.architecture);
            let plain_list = format!("{INFO}{}.list", p.name);
            if let Some(b) = index
                .get(&arch_list)
                .or_else(|| index.get(&plain_list))
                .and_then(|r| r.content())
            {
                p.meta.files = file_list(b, false);
            }
        }
        let licenses = copyright_licenses(&p.name);
        out.packages.push(Package {
            id: String::new(),
            name: p.name,
            version: p.version,
            kind: PackageKind::Deb,
            purl: String::new(),
            licenses,
            locations: vec![rec.location()],
            found_by: CATALOGER_ID.to_string(),
            metadata: PackageMetadata::Dpkg(p.meta),
        });
    }
}

/// Licenses from DEP-5 machine-readable copyright files.
mod copyright {
    use super::*;

    /// Debian short names that are not SPDX ids, mapped to the SPDX id.
    const DEBIAN_TO_SPDX: &[(&str, &str)] = &[
        ("Expat", "MIT"),
        ("GPL-1", "GPL-1.0-only"),
        ("GPL-1+", "GPL-1.0-or-later"),
        ("GPL-2", "GPL-2.0-only"),
        ("GPL-2+", "GPL-2.0-or-later"),
        ("GPL-3", "GPL-3.0-only"),
        ("GPL-3+", "GPL-3.0-or-later"),
        ("LGPL-2", "LGPL-2.0-only"),
        ("LGPL-2+", "LGPL-2.0-or-later"),
        ("LGPL-2.1", "LGPL-2.1-only"),
        ("LGPL-2.1+", "LGPL-2.1-or-later"),
        ("LGPL-3", "LGPL-3.0-only"),
        ("LGPL-3+", "LGPL-3.0-or-later"),
        ("AGPL-3", "AGPL-3.0-only"),
        ("AGPL-3+", "AGPL-3.0-or-later"),
        ("GFDL-1.2", "GFDL-1.2-only"),
        ("GFDL-1.2+", "GFDL-1.2-or-later"),
        ("GFDL-1.3", "GFDL-1.3-only"),
        ("GFDL-1.3+", "GFDL-1.3-or-later"),
        ("Apache-2.0", "Apache-2.0"),
        ("Apache-2", "Apache-2.0"),
        ("BSD-2-clause", "BSD-2-Clause"),
        ("BSD-3-clause", "BSD-3-Clause"),
        ("BSD-4-clause", "BSD-4-Clause"),
        ("MIT", "MIT"),
        ("ISC", "ISC"),
        ("Zlib", "Zlib"),
        ("zlib", "Zlib"),
        ("MPL-1.1", "MPL-1.1"),
        ("MPL-2.0", "MPL-2.0"),
        ("Artistic", "Artistic-1.0-Perl"),
        ("Artistic-2.0", "Artistic-2.0"),
        ("CC0-1.0", "CC0-1.0"),
        ("CC0", "CC0-1.0"),
        ("OpenSSL", "OpenSSL"),
        ("PSF-2", "PSF-2.0"),
        ("Python", "Python-2.0"),
        ("curl", "curl"),
        ("X11", "X11"),
        ("BSL-1.0", "BSL-1.0"),
        ("Unicode-DFS-2016", "Unicode-DFS-2016"),
        ("WTFPL", "WTFPL"),
    ];

    fn to_spdx(token: &str) -> Option<&'static str> {
        let t = token.trim();
        DEBIAN_TO_SPDX
            .iter()
            .find(|(d, _)| d.eq_ignore_ascii_case(t))
            .map(|(_, s)| *s)
    }

    /// The distinct licenses named in `License:` fields, as SPDX ids; names
    /// that have no SPDX id (`public-domain`, custom ones) are left out
    /// rather than guessed.
    pub fn licenses(bytes: &[u8]) -> Vec<String> {
        let text = String::from_utf8_lossy(bytes);
        if !text.starts_with("Format:") {
            return Vec::new();
        }
        let mut set = BTreeSet::new();
        for line in text.lines() {
            let Some(v) = line.strip_prefix("License:") else {
                continue;
            };
            // `GPL-2+ or Artistic`, `BSD-3-clause and MIT`: keep each known part.
            for part in v
                .split([',', '|'])
                .flat_map(|p| p.split(" or "))
                .flat_map(|p| p.split(" and "))
            {
                if let Some(id) = to_spdx(part.trim_end_matches(" with OpenSSL exception")) {
                    set.insert(id.to_string());
                }
            }
        }
        set.into_iter().collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::Facts;

    fn rec(path: &str, body: &[u8]) -> FileRecord {
        FileRecord {
            path: path.into(),
            layer: None,
            facts: Facts::Content(body.to_vec()),
        }
    }

    #[test]
    fn wants_only_the_db() {
        assert!(wants("/var/lib/dpkg/status"));
        assert!(wants("/var/lib/dpkg/status.d/libc6"));
        assert!(wants("/var/lib/dpkg/info/libc6:amd64.list"));
        assert!(!wants("/var/lib/dpkg/info/libc6:amd64.md5sums"));
        assert!(wants("/usr/share/doc/libc6/copyright"));
        assert!(!wants("/usr/share/doc/libc6/x/copyright"));
        assert!(!wants("/var/lib/dpkg/status-old"));
    }

    #[test]
    fn status_with_sources_and_states() {
        let status = b"Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: 3.0.17-1~deb12u2\nDescription: x\n multi\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n\nPackage: zlib1g\nStatus: hold ok installed\nArchitecture: amd64\nSource: zlib (1:1.2.13.dfsg-1)\nVersion: 1:1.2.13.dfsg-1\n";
        let mut ix = FileIndex::new();
        ix.insert(rec(STATUS, status));
        ix.insert(rec(
            "/var/lib/dpkg/info/libssl3:amd64.list",
            b"/.\n/usr\n/usr/lib/x86_64-linux-gnu/libssl.so.3\n",
        ));
        let mut out = Output::default();
        catalog(&ix, &mut out);
        assert_eq!(out.packages.len(), 2);
        let ssl = &out.packages[0];
        let PackageMetadata::Dpkg(m) = &ssl.metadata else {
            panic!()
        };
        assert_eq!(
            (m.source.as_str(), m.source_version.as_str()),
            ("openssl", "3.0.17-1~deb12u2")
        );
        assert_eq!(
            m.files,
            vec!["/usr", "/usr/lib/x86_64-linux-gnu/libssl.so.3"]
        );
        let PackageMetadata::Dpkg(z) = &out.packages[1].metadata else {
            panic!()
        };
        assert_eq!(z.source, "zlib");
        assert_eq!(z.source_version, "1:1.2.13.dfsg-1");
    }

    #[test]
    fn distroless_status_d() {
        let Some(dir) = bosun_testutil::fixture(
            "files/pkgdb/dpkg-status.d/debian12-bookworm-from-debs/var/lib/dpkg/status.d",
        ) else {
            return;
        };
        let mut ix = FileIndex::new();
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            ix.insert(rec(
                &format!("{STATUS_D}{name}"),
                &std::fs::read(e.path()).unwrap(),
            ));
        }
        let mut out = Output::default();
        catalog(&ix, &mut out);
        let mut got: Vec<(String, String, String)> = out
            .packages
            .iter()
            .map(|p| {
                let PackageMetadata::Dpkg(m) = &p.metadata else {
                    panic!()
                };
                (p.name.clone(), p.version.clone(), m.source.clone())
            })
            .collect();
        got.sort();
        // The README's row for this fixture names these 11 packages and sources.
        assert_eq!(got.len(), 11);
        assert!(got.contains(&("libc6".into(), "2.36-9+deb12u14".into(), "glibc".into())));
        assert!(got.contains(&("zlib1g".into(), "1:1.2.13.dfsg-1".into(), "zlib".into())));
        assert!(got.contains(&(
            "libssl3".into(),
            "3.0.22-1~deb12u2".into(),
            "openssl".into()
        )));
        assert!(out.packages.iter().all(|p| !p.owned_files().is_empty()));
        assert!(out.unknowns.is_empty());
    }

    #[test]
    fn copyright_licenses() {
        let text = b"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-2+\n\nFiles: x\nLicense: BSD-3-clause or Expat\n\nFiles: y\nLicense: public-domain\n";
        assert_eq!(
            copyright::licenses(text),
            vec!["BSD-3-Clause", "GPL-2.0-or-later", "MIT"]
        );
        assert!(copyright::licenses(b"not machine readable").is_empty());
    }

    #[test]
    fn garbage_does_not_panic() {
        let mut ix = FileIndex::new();
        ix.insert(rec(STATUS, b"\x00\xff:::\n\n\n \n:\nPackage:\n"));
        let mut out = Output::default();
        catalog(&ix, &mut out);
        assert!(out.packages.is_empty());
    }

    #[test]
    fn md5sums_name_their_package() {
        assert_eq!(
            md5sums_package("/var/lib/dpkg/info/libc6:amd64.md5sums"),
            Some("libc6")
        );
        assert_eq!(
            md5sums_package("/var/lib/dpkg/info/golang-1.19-src.md5sums"),
            Some("golang-1.19-src")
        );
        assert_eq!(
            md5sums_package("/var/lib/dpkg/status.d/base.md5sums"),
            Some("base")
        );
        assert_eq!(md5sums_package("/var/lib/dpkg/info/libc6:amd64.list"), None);
        assert_eq!(md5sums_package("/var/lib/dpkg/info/x/y.md5sums"), None);
        assert_eq!(md5sums_package("/etc/x.md5sums"), None);
    }

    #[test]
    fn shipped_files_need_path_and_md5_to_match() {
        // d41d8cd9... is the MD5 of no bytes at all.
        let empty = FileDigests {
            md5: [
                0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04, 0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8,
                0x42, 0x7e,
            ],
            sha256: [0; 32],
        };
        let other = FileDigests {
            md5: [1; 16],
            ..empty
        };
        let list = b"d41d8cd98f00b204e9800998ecf8427e  usr/share/go/key.pem\n\
            d41d8cd98f00b204e9800998ecf8427e  usr/share/go/changed.pem\n\
            not a line\nd41d8cd98f00b204e9800998ecf8  usr/share/go/short.pem\n\
            d41d8cd98f00b204e9800998ecf8427e  usr/share/go/with space.txt\n";
        let files: HashMap<String, FileDigests> = [
            ("/usr/share/go/key.pem", empty),
            ("/usr/share/go/changed.pem", other),
            ("/usr/share/go/short.pem", empty),
            ("/usr/share/go/with space.txt", empty),
            ("/usr/share/go/unlisted.pem", empty),
        ]
        .into_iter()
        .map(|(p, m)| (p.to_string(), m))
        .collect();
        let mut got: Vec<_> = shipped_unmodified("golang-src", list, &files)
            .into_iter()
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                (
                    "/usr/share/go/key.pem".to_string(),
                    "golang-src".to_string()
                ),
                (
                    "/usr/share/go/with space.txt".to_string(),
                    "golang-src".to_string()
                ),
            ]
        );
    }
}
