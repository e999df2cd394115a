//! apk cataloger: Alpine's installed database, `/lib/apk/db/installed`, a
//! list of stanzas separated by blank lines, one `X:value` field a line.

use bosun_core::package::{ApkMetadata, Package, PackageKind, PackageMetadata};

use crate::text::Tool;
use crate::{FileIndex, FileRecord, Output};

pub const CATALOGER_ID: &str = "apk-cataloger";

const DB: &str = "/lib/apk/db/installed";

/// Whether this cataloger needs the bytes of the file at `path`.
pub fn wants(path: &str) -> bool {
    path == DB
}

pub fn catalog(index: &FileIndex, out: &mut Output) {
    for rec in index.files().filter(|r| r.path == DB) {
        if let Some(bytes) = rec.content() {
            let text = out.text(CATALOGER_ID, rec, bytes, Tool::Bytes);
            parse(rec, &text, out);
        }
    }
}

/// The fields of one stanza that become a package.
#[derive(Default)]
struct Stanza<'a> {
    line: usize,
    name: Option<&'a str>,
    version: Option<&'a str>,
    arch: &'a str,
    origin: Option<&'a str>,
    license: &'a str,
    maintainer: Option<&'a str>,
    checksum: Option<&'a str>,
    dir: &'a str,
    files: Vec<String>,
}

fn parse(rec: &FileRecord, text: &str, out: &mut Output) {
    let mut st: Option<Stanza> = None;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            if let Some(s) = st.take() {
                emit(rec, s, out);
            }
            continue;
        }
        let s = st.get_or_insert_with(|| Stanza {
            line: n + 1,
            ..Stanza::default()
        });
        // Lines without the `X:` shape (none in real databases) are ignored.
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        match key {
            "P" => s.name = Some(value),
            "V" => s.version = Some(value),
            "A" => s.arch = value,
            "o" => s.origin = Some(value),
            "L" => s.license = value,
            "m" => s.maintainer = Some(value),
            "C" => s.checksum = Some(value),
            "F" => s.dir = value.trim_matches('/'),
            "R" if s.dir.is_empty() => s.files.push(format!("/{value}")),
            "R" => s.files.push(format!("/{}/{value}", s.dir)),
            _ => {}
        }
    }
    if let Some(s) = st {
        emit(rec, s, out);
    }
}

fn emit(rec: &FileRecord, s: Stanza, out: &mut Output) {
    let (Some(name), Some(version)) = (
        s.name.filter(|v| !v.is_empty()),
        s.version.filter(|v| !v.is_empty()),
    ) else {
        let what = s
            .name
            .map_or_else(|| "a package".to_string(), |n| format!("package {n:?}"));
        out.unknown(
            CATALOGER_ID,
            rec,
            format!("line {}: {what} without both P: and V:", s.line),
        );
        return;
    };
    let license = spdx_license(s.license);
    out.packages.push(Package {
        id: String::new(),
        name: name.to_string(),
        version: version.to_string(),
        kind: PackageKind::Apk,
        purl: String::new(),
        licenses: license.into_iter().collect(),
        locations: vec![rec.location()],
        found_by: CATALOGER_ID.to_string(),
        metadata: PackageMetadata::Apk(ApkMetadata {
            origin: s
                .origin
                .filter(|o| !o.is_empty())
                .unwrap_or(name)
                .to_string(),
            architecture: s.arch.to_string(),
            maintainer: s.maintainer.filter(|m| !m.is_empty()).map(str::to_string),
            checksum: s.checksum.filter(|c| !c.is_empty()).map(str::to_string),
            files: s.files,
        }),
    });
}

/// Older Alpine releases list licenses space-separated ("MIT BSD GPL2+"),
/// newer ones write an SPDX expression. A list of valid SPDX ids becomes
/// their conjunction; anything else is kept as written.
fn spdx_license(l: &str) -> Option<String> {
    let l = l.trim();
    if l.is_empty() {
        return None;
    }
    let tokens: Vec<&str> = l.split_whitespace().collect();
    if tokens.len() > 1 && tokens.iter().all(|t| spdx::license_id(t).is_some()) {
        return Some(tokens.join(" AND "));
    }
    Some(l.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::Facts;

    fn run(text: &[u8]) -> Output {
        let mut ix = FileIndex::new();
        ix.insert(FileRecord {
            path: DB.into(),
            layer: None,
            facts: Facts::Content(text.to_vec()),
        });
        let mut out = Output::default();
        catalog(&ix, &mut out);
        out
    }

    fn meta(p: &Package) -> &ApkMetadata {
        match &p.metadata {
            PackageMetadata::Apk(m) => m,
            other => panic!("not apk metadata: {other:?}"),
        }
    }

    #[test]
    fn databases_match_expected() {
        let Some(dir) = bosun_testutil::fixture("files/pkgdb/apk") else {
            return;
        };
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let Some(stem) = path.to_str().unwrap().strip_suffix(".installed") else {
                continue;
            };
            let expected = std::fs::read_to_string(format!("{stem}.expected.tsv")).unwrap();
            let out = run(&std::fs::read(&path).unwrap());
            let (mut got, mut unknown) = (out.packages.iter(), out.unknowns.iter());
            for line in expected.lines().filter(|l| !l.starts_with('#')) {
                let f: Vec<&str> = line.split('\t').collect();
                let [name, version, arch, origin, license] = f[..] else {
                    panic!("{stem}: bad row {line:?}")
                };
                if version.is_empty() {
                    let u = unknown
                        .next()
                        .unwrap_or_else(|| panic!("{stem}: no unknown for {name}"));
                    assert!(u.message.contains(name), "{}", u.message);
                    continue;
                }
                let p = got
                    .next()
                    .unwrap_or_else(|| panic!("{stem}: missing {name}"));
                let m = meta(p);
                assert_eq!(
                    (
                        p.name.as_str(),
                        p.version.as_str(),
                        m.architecture.as_str(),
                        m.origin.as_str()
                    ),
                    (name, version, arch, origin),
                    "{stem}"
                );
                // The expected column is the raw L: value.
                let tokens: Vec<&str> = license.split_whitespace().collect();
                let want =
                    if tokens.len() > 1 && tokens.iter().all(|t| spdx::license_id(t).is_some()) {
                        tokens.join(" AND ")
                    } else {
                        license.to_string()
                    };
                assert_eq!(
                    p.licenses.first().map(String::as_str).unwrap_or(""),
                    want,
                    "{stem} {name}"
                );
                assert_eq!(p.locations[0].path, DB);
                assert!(
                    m.files
                        .iter()
                        .all(|f| f.starts_with('/') && !f.contains("//")),
                    "{stem}"
                );
                checked += 1;
            }
            assert!(
                got.next().is_none() && unknown.next().is_none(),
                "{stem}: extra output"
            );
        }
        assert!(checked > 100, "{checked}");
    }

    #[test]
    fn files_are_absolute() {
        let Some(f) =
            bosun_testutil::fixture("files/pkgdb/apk/syft-extra-file-attributes.installed")
        else {
            return;
        };
        let out = run(&std::fs::read(f).unwrap());
        let m = meta(&out.packages[0]);
        assert_eq!(m.files, ["/usr/lib/jvm/java-1.8-openjdk/bin/policytool"]);
        assert_eq!(
            m.maintainer.as_deref(),
            Some("Timo Teras <timo.teras@iki.fi>")
        );
        // Z: is a file's checksum, not the package's C:.
        assert_eq!(m.checksum, None);
    }

    #[test]
    fn licenses() {
        assert_eq!(
            spdx_license("MIT BSD GPL2+").as_deref(),
            Some("MIT BSD GPL2+")
        );
        assert_eq!(
            spdx_license("GPL-2.0-or-later LGPL-2.1-or-later").as_deref(),
            Some("GPL-2.0-or-later AND LGPL-2.1-or-later")
        );
        assert_eq!(
            spdx_license("MPL-2.0 AND MIT").as_deref(),
            Some("MPL-2.0 AND MIT")
        );
        assert_eq!(spdx_license("MIT").as_deref(), Some("MIT"));
        assert_eq!(spdx_license(" ").as_deref(), None);
    }

    #[test]
    fn hostile_input() {
        let out = run(b"");
        assert!(out.packages.is_empty() && out.unknowns.is_empty());
        let out = run(
            b"\xff\xfe\x00garbage\n\n::::\nP:\nV:\n\nV:1\n\r\nP:x\r\nV:1\r\nC:Q1abc=\r\nR:a\r\n",
        );
        assert_eq!(out.packages.len(), 1);
        assert_eq!(out.packages[0].name, "x");
        assert_eq!(meta(&out.packages[0]).files, ["/a"]);
        assert_eq!(meta(&out.packages[0]).checksum.as_deref(), Some("Q1abc="));
        // Two stanzas without name or version, one line-less file... and the
        // leading bytes that are not UTF-8 (kept, recorded as lossy).
        assert_eq!(out.unknowns.len(), 4, "{:?}", out.unknowns);
        assert_eq!(
            out.unknowns
                .iter()
                .filter(|u| u.kind == bosun_core::UnknownKind::Lossy)
                .count(),
            1
        );
        // Many tiny stanzas and a very long line.
        let mut big = "P:a\nV:1\n\n".repeat(10_000).into_bytes();
        big.extend(std::iter::repeat_n(b'x', 1 << 20));
        let out = run(&big);
        assert_eq!(out.packages.len(), 10_000);
    }

    #[test]
    fn wanted_paths() {
        assert!(wants("/lib/apk/db/installed"));
        assert!(!wants("/lib/apk/db/installed.bak"));
        assert!(!wants("/usr/lib/apk/db/installed"));
    }
}
