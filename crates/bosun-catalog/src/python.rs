//! Python distributions installed in site-packages / dist-packages (or any
//! other directory): `.dist-info` (wheels, pip), `.egg-info` directories and
//! files (setuptools, distutils, Debian) and `.egg/EGG-INFO` (eggs).
//!
//! The metadata files use the core metadata format: RFC 822 style headers
//! ended by a blank line, after which the body is the description.

use bosun_core::package::PythonMetadata;
use bosun_core::{Package, PackageKind, PackageMetadata};

use crate::index::normalize;
use crate::text::Tool;
use crate::{FileIndex, FileRecord, Output};

pub const CATALOGER_ID: &str = "python-cataloger";

/// More header fields than any real METADATA has (Classifier lines included).
const MAX_FIELDS: usize = 10_000;
/// Bound on the files listed for one distribution (Django's RECORD has ~3,000).
const MAX_FILES: usize = 200_000;

/// Whether this cataloger needs the bytes of the file at `path`.
pub fn wants(path: &str) -> bool {
    let Some((dir, name)) = path.rsplit_once('/') else {
        return false;
    };
    match name {
        "METADATA" | "RECORD" | "INSTALLER" => dir.ends_with(".dist-info"),
        "PKG-INFO" => dir.ends_with(".egg-info") || dir.ends_with(".egg/EGG-INFO"),
        "installed-files.txt" => dir.ends_with(".egg-info"),
        // A single-file egg-info is itself the PKG-INFO.
        _ => name.ends_with(".egg-info"),
    }
}

/// How a distribution's metadata is laid out on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// `X.dist-info/METADATA` (+ RECORD, INSTALLER)
    DistInfo,
    /// `X.egg-info/PKG-INFO` (+ installed-files.txt)
    EggInfoDir,
    /// `X.egg-info`, a file
    EggInfoFile,
    /// `X.egg/EGG-INFO/PKG-INFO`
    Egg,
}

/// For a metadata file path: its layout and the directory (or egg-info file)
/// that represents the distribution.
fn layout(path: &str) -> Option<(Layout, &str)> {
    let (dir, name) = path.rsplit_once('/')?;
    match name {
        "METADATA" if dir.ends_with(".dist-info") => Some((Layout::DistInfo, dir)),
        "PKG-INFO" if dir.ends_with(".egg-info") => Some((Layout::EggInfoDir, dir)),
        "PKG-INFO" => dir
            .strip_suffix("/EGG-INFO")
            .filter(|egg| egg.ends_with(".egg"))
            .map(|egg| (Layout::Egg, egg)),
        _ if name.ends_with(".egg-info") => Some((Layout::EggInfoFile, path)),
        _ => None,
    }
}

fn parent(path: &str) -> &str {
    match path.rsplit_once('/') {
        Some(("", _)) => "/",
        Some((p, _)) => p,
        None => "",
    }
}

/// Python only finds distributions directly inside a sys.path entry, so a
/// metadata directory deeper inside site-packages (setuptools/_vendor/...,
/// test data) is a vendored copy, not an installed distribution.
fn is_nested_in_site_dir(site_dir: &str) -> bool {
    let last = site_dir.rsplit('/').next().unwrap_or("");
    if last == "site-packages" || last == "dist-packages" {
        return false;
    }
    site_dir.contains("/site-packages/") || site_dir.contains("/dist-packages/")
}

pub fn catalog(index: &FileIndex, out: &mut Output) {
    for rec in index.files() {
        let Some((layout, dist)) = layout(&rec.path) else {
            continue;
        };
        let Some(bytes) = rec.content() else {
            continue;
        };
        let site_dir = parent(dist);
        if is_nested_in_site_dir(site_dir) {
            continue;
        }
        // importlib.metadata refuses a METADATA that is not UTF-8, but the
        // distribution is installed and imports all the same: keep it.
        let text = out.text(CATALOGER_ID, rec, bytes, Tool::Python);
        match distribution(index, rec, &text, layout, dist, site_dir) {
            Ok(p) => out.packages.push(p),
            Err(msg) => out.unknown(CATALOGER_ID, rec, msg),
        }
    }
}

fn distribution(
    index: &FileIndex,
    rec: &FileRecord,
    text: &str,
    layout: Layout,
    dist: &str,
    site_dir: &str,
) -> Result<Package, String> {
    let headers = parse_headers(text);
    let name = header(&headers, "Name").unwrap_or("");
    let version = header(&headers, "Version").unwrap_or("");
    if name.is_empty() || version.is_empty() {
        return Err("core metadata without Name or Version".into());
    }
    if name.contains('\n') || version.contains('\n') {
        return Err("core metadata with a multi-line Name or Version".into());
    }
    let sibling = |file: &str| {
        index
            .get(&format!("{dist}/{file}"))
            .and_then(FileRecord::content)
            .map(String::from_utf8_lossy)
    };
    let (installer, files) = match layout {
        Layout::DistInfo => (
            sibling("INSTALLER").and_then(|t| installer(&t)),
            sibling("RECORD")
                .map(|t| record_files(site_dir, &t))
                .unwrap_or_default(),
        ),
        Layout::EggInfoDir => (
            None,
            sibling("installed-files.txt")
                .map(|t| installed_files(dist, &t))
                .unwrap_or_default(),
        ),
        Layout::EggInfoFile | Layout::Egg => (None, Vec::new()),
    };
    Ok(Package {
        id: String::new(),
        name: name.to_string(),
        version: version.to_string(),
        kind: PackageKind::Python,
        purl: String::new(),
        licenses: licenses(&headers),
        locations: vec![rec.location()],
        found_by: CATALOGER_ID.to_string(),
        metadata: PackageMetadata::Python(PythonMetadata {
            site_dir: site_dir.to_string(),
            installer,
            files,
        }),
    })
}

/// The header block: fields in order, continuation lines joined with `\n`.
/// Like Python's email parser (which importlib.metadata uses), an empty line
/// or a line that is neither a field nor a continuation starts the body.
fn parse_headers(text: &str) -> Vec<(&str, String)> {
    let mut fields: Vec<(&str, String)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            match fields.last_mut() {
                Some((_, v)) => {
                    v.push('\n');
                    v.push_str(line.trim());
                    continue;
                }
                None => break,
            }
        }
        let Some((key, value)) = line.split_once(':') else {
            break;
        };
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
            break;
        }
        if fields.len() >= MAX_FIELDS {
            break;
        }
        fields.push((key, value.trim().to_string()));
    }
    fields
}

fn header<'a>(headers: &'a [(&str, String)], key: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.trim())
}

/// `License-Expression` (metadata 2.4), else a `License:` that is or safely
/// maps to SPDX, else the license classifiers that map to SPDX ids.
fn licenses(headers: &[(&str, String)]) -> Vec<String> {
    if let Some(expr) = header(headers, "License-Expression")
        && !expr.is_empty()
        && expr.len() <= 512
        && !expr.contains('\n')
    {
        return vec![expr.to_string()];
    }
    if let Some(id) = header(headers, "License").and_then(license_field) {
        return vec![id];
    }
    let mut out: Vec<String> = Vec::new();
    for (k, v) in headers {
        if k.eq_ignore_ascii_case("Classifier")
            && let Some(id) = classifier_license(v)
            && !out.iter().any(|o| o == id)
        {
            out.push(id.to_string());
        }
    }
    out
}

/// Common SPDX license ids (canonical spelling), including deprecated ones
/// still seen in metadata.
const SPDX_IDS: &[&str] = &[
    "0BSD",
    "AFL-3.0",
    "AGPL-3.0",
    "AGPL-3.0-only",
    "AGPL-3.0-or-later",
    "Apache-1.1",
    "Apache-2.0",
    "Artistic-2.0",
    "BSD-1-Clause",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "BSD-4-Clause",
    "BSL-1.0",
    "CC-BY-4.0",
    "CC0-1.0",
    "CDDL-1.0",
    "EPL-1.0",
    "EPL-2.0",
    "EUPL-1.2",
    "GPL-2.0",
    "GPL-2.0-only",
    "GPL-2.0-or-later",
    "GPL-3.0",
    "GPL-3.0-only",
    "GPL-3.0-or-later",
    "HPND",
    "ISC",
    "LGPL-2.0",
    "LGPL-2.0-only",
    "LGPL-2.0-or-later",
    "LGPL-2.1",
    "LGPL-2.1-only",
    "LGPL-2.1-or-later",
    "LGPL-3.0",
    "LGPL-3.0-only",
    "LGPL-3.0-or-later",
    "MIT",
    "MIT-0",
    "MPL-1.1",
    "MPL-2.0",
    "MS-PL",
    "OpenSSL",
    "PSF-2.0",
    "Python-2.0",
    "Unlicense",
    "UPL-1.0",
    "W3C",
    "WTFPL",
    "Zlib",
    "ZPL-2.1",
];

fn spdx_id(token: &str) -> Option<&'static str> {
    SPDX_IDS
        .iter()
        .copied()
        .find(|id| id.eq_ignore_ascii_case(token))
}

/// A `License:` value that is an SPDX expression made of known ids (the
/// ids re-spelt canonically), or one of a few unambiguous names.
fn license_field(value: &str) -> Option<String> {
    if value.is_empty() || value.len() > 200 || value.contains('\n') {
        return None;
    }
    if let Some(id) = license_name(value) {
        return Some(id.to_string());
    }
    let spaced = value.replace('(', " ( ").replace(')', " ) ");
    let mut out: Vec<&str> = Vec::new();
    for tok in spaced.split_whitespace() {
        let t = match tok {
            "(" | ")" => tok,
            _ if ["AND", "OR", "WITH"].contains(&tok) => tok,
            _ => spdx_id(tok)?,
        };
        out.push(t);
    }
    if out.is_empty() {
        return None;
    }
    Some(out.join(" ").replace("( ", "(").replace(" )", ")"))
}

/// Free-text license names that denote exactly one SPDX license. Names that
/// could mean several ("BSD", "GPL", "LGPL", "Apache") are left out.
fn license_name(value: &str) -> Option<&'static str> {
    const NAMES: &[(&str, &str)] = &[
        ("Apache 2", "Apache-2.0"),
        ("Apache 2.0", "Apache-2.0"),
        ("Apache-2", "Apache-2.0"),
        ("Apache License 2.0", "Apache-2.0"),
        ("Apache License, Version 2.0", "Apache-2.0"),
        ("Apache License Version 2.0", "Apache-2.0"),
        ("Apache Software License 2.0", "Apache-2.0"),
        ("MIT License", "MIT"),
        ("The MIT License", "MIT"),
        ("Expat", "MIT"),
        ("BSD 3-Clause", "BSD-3-Clause"),
        ("BSD-3", "BSD-3-Clause"),
        ("3-Clause BSD License", "BSD-3-Clause"),
        ("New BSD License", "BSD-3-Clause"),
        ("BSD 2-Clause", "BSD-2-Clause"),
        ("BSD-2", "BSD-2-Clause"),
        ("Simplified BSD", "BSD-2-Clause"),
        ("ISC License", "ISC"),
        ("MPL 2.0", "MPL-2.0"),
        ("Mozilla Public License 2.0", "MPL-2.0"),
        ("Eclipse Public License v2.0", "EPL-2.0"),
        ("Eclipse Public License 2.0", "EPL-2.0"),
        ("GPLv2", "GPL-2.0-only"),
        ("GPLv2+", "GPL-2.0-or-later"),
        ("GPLv3", "GPL-3.0-only"),
        ("GPLv3+", "GPL-3.0-or-later"),
        ("LGPLv3", "LGPL-3.0-only"),
        ("LGPLv3+", "LGPL-3.0-or-later"),
        ("AGPLv3", "AGPL-3.0-only"),
        ("AGPLv3+", "AGPL-3.0-or-later"),
        ("PSF", "PSF-2.0"),
        ("PSF License", "PSF-2.0"),
        ("Python Software Foundation License", "PSF-2.0"),
        ("The Unlicense", "Unlicense"),
        ("ZPL 2.1", "ZPL-2.1"),
    ];
    NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(value))
        .map(|(_, id)| *id)
}

/// `License :: [OSI Approved ::] <name>` classifiers that name one license.
fn classifier_license(classifier: &str) -> Option<&'static str> {
    const CLASSIFIERS: &[(&str, &str)] = &[
        ("MIT License", "MIT"),
        ("MIT No Attribution License (MIT-0)", "MIT-0"),
        ("ISC License (ISCL)", "ISC"),
        ("Apache Software License 2.0 (Apache-2.0)", "Apache-2.0"),
        ("Mozilla Public License 1.1 (MPL 1.1)", "MPL-1.1"),
        ("Mozilla Public License 2.0 (MPL 2.0)", "MPL-2.0"),
        ("GNU General Public License v2 (GPLv2)", "GPL-2.0-only"),
        (
            "GNU General Public License v2 or later (GPLv2+)",
            "GPL-2.0-or-later",
        ),
        ("GNU General Public License v3 (GPLv3)", "GPL-3.0-only"),
        (
            "GNU General Public License v3 or later (GPLv3+)",
            "GPL-3.0-or-later",
        ),
        (
            "GNU Lesser General Public License v2 (LGPLv2)",
            "LGPL-2.0-only",
        ),
        (
            "GNU Lesser General Public License v2 or later (LGPLv2+)",
            "LGPL-2.0-or-later",
        ),
        (
            "GNU Lesser General Public License v3 (LGPLv3)",
            "LGPL-3.0-only",
        ),
        (
            "GNU Lesser General Public License v3 or later (LGPLv3+)",
            "LGPL-3.0-or-later",
        ),
        ("GNU Affero General Public License v3", "AGPL-3.0-only"),
        (
            "GNU Affero General Public License v3 or later (AGPLv3+)",
            "AGPL-3.0-or-later",
        ),
        ("Python Software Foundation License", "PSF-2.0"),
        ("The Unlicense (Unlicense)", "Unlicense"),
        ("zlib/libpng License", "Zlib"),
        ("Boost Software License 1.0 (BSL-1.0)", "BSL-1.0"),
        ("Eclipse Public License 1.0 (EPL-1.0)", "EPL-1.0"),
        ("Eclipse Public License 2.0 (EPL-2.0)", "EPL-2.0"),
        ("European Union Public Licence 1.2 (EUPL 1.2)", "EUPL-1.2"),
        ("Universal Permissive License (UPL)", "UPL-1.0"),
        ("Historical Permission Notice and Disclaimer (HPND)", "HPND"),
        ("Zope Public License", "ZPL-2.1"),
        (
            "CC0 1.0 Universal (CC0 1.0) Public Domain Dedication",
            "CC0-1.0",
        ),
    ];
    let rest = classifier.trim().strip_prefix("License ::")?.trim();
    let rest = rest.strip_prefix("OSI Approved ::").map_or(rest, str::trim);
    CLASSIFIERS
        .iter()
        .find(|(c, _)| *c == rest)
        .map(|(_, id)| *id)
}

fn installer(text: &str) -> Option<String> {
    let first = text.lines().next()?.trim();
    (!first.is_empty() && first.len() <= 64).then(|| first.to_string())
}

/// RECORD is CSV (`path,hash,size`) with paths relative to the site dir;
/// scripts show up as `../../../bin/x` and are resolved lexically.
fn record_files(site_dir: &str, text: &str) -> Vec<String> {
    text.lines()
        .map(first_csv_field)
        .filter(|p| !p.is_empty())
        .take(MAX_FILES)
        .map(|p| absolute(site_dir, &p))
        .collect()
}

/// installed-files.txt: one path per line, relative to the egg-info dir.
fn installed_files(egg_info: &str, text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .take(MAX_FILES)
        .map(|p| absolute(egg_info, p))
        .collect()
}

fn absolute(base: &str, p: &str) -> String {
    if p.starts_with('/') {
        normalize(p)
    } else {
        normalize(&format!("{base}/{p}"))
    }
}

/// The first field of a CSV line, unquoting `"a,b"` and `""`.
fn first_csv_field(line: &str) -> String {
    let Some(quoted) = line.strip_prefix('"') else {
        return line.split(',').next().unwrap_or("").to_string();
    };
    let mut out = String::new();
    let mut chars = quoted.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            if chars.peek() == Some(&'"') {
                chars.next();
                out.push('"');
            } else {
                break;
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Reads an OCI image fixture into a [`FileIndex`] holding the files `wants`
/// keeps, applying layers (and their whiteouts) in order. Shared by the
/// catalogers' image tests.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) fn test_image_index(name: &str, wants: fn(&str) -> bool) -> Option<FileIndex> {
    use std::collections::BTreeMap;
    use std::io::Read;

    let root = bosun_testutil::fixture(&format!("images/oci/{name}"))?;
    let blob = |digest: &str| {
        root.join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"))
    };
    let json = |p: std::path::PathBuf| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    };
    let idx = json(root.join("index.json"));
    let manifest = json(blob(idx["manifests"][0]["digest"].as_str().unwrap()));
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut links: BTreeMap<String, String> = BTreeMap::new();
    for layer in manifest["layers"].as_array().unwrap() {
        let f = std::fs::File::open(blob(layer["digest"].as_str().unwrap())).unwrap();
        let media = layer["mediaType"].as_str().unwrap();
        let reader: Box<dyn Read> = if media.ends_with("zstd") {
            Box::new(zstd::Decoder::new(f).unwrap())
        } else if media.ends_with("gzip") {
            Box::new(flate2::read::GzDecoder::new(f))
        } else {
            Box::new(f)
        };
        let mut ar = tar::Archive::new(reader);
        for entry in ar.entries().unwrap() {
            let mut e = entry.unwrap();
            let path = normalize(&format!("/{}", e.path().unwrap().to_string_lossy()));
            let (dir, base) = path.rsplit_once('/').unwrap();
            let victim = if base == ".wh..wh..opq" {
                Some(format!("{dir}/"))
            } else {
                base.strip_prefix(".wh.").map(|v| format!("{dir}/{v}"))
            };
            if let Some(v) = victim {
                let under = format!("{}/", v.trim_end_matches('/'));
                files.retain(|k, _| *k != v && !k.starts_with(&under));
                links.retain(|k, _| *k != v && !k.starts_with(&under));
                continue;
            }
            files.remove(&path);
            links.remove(&path);
            match e.header().entry_type() {
                tar::EntryType::Regular if wants(&path) => {
                    let mut buf = Vec::new();
                    e.read_to_end(&mut buf).unwrap();
                    files.insert(path, buf);
                }
                tar::EntryType::Symlink => {
                    let target = e.link_name().unwrap().unwrap();
                    links.insert(path, target.to_string_lossy().into_owned());
                }
                tar::EntryType::Link => {
                    let target = e.link_name().unwrap().unwrap();
                    let target = normalize(&format!("/{}", target.to_string_lossy()));
                    if let Some(c) = files.get(&target).cloned() {
                        files.insert(path, c);
                    }
                }
                _ => {}
            }
        }
    }
    let mut index = FileIndex::new();
    for (path, bytes) in files {
        index.insert(FileRecord {
            path,
            layer: None,
            facts: crate::Facts::Content(bytes),
        });
    }
    for (p, t) in links {
        index.insert_symlink(p, t);
    }
    Some(index)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::Facts;
    use std::collections::BTreeSet;

    fn rec(path: &str, body: &[u8]) -> FileRecord {
        FileRecord {
            path: path.into(),
            layer: None,
            facts: Facts::Content(body.to_vec()),
        }
    }

    fn run(index: &FileIndex) -> Output {
        let mut out = Output::default();
        catalog(index, &mut out);
        out
    }

    #[test]
    fn wants_metadata_files_only() {
        let yes = [
            "/usr/local/lib/python3.11/dist-packages/Django-2.2.dist-info/METADATA",
            "/venv/lib/python3.12/site-packages/x-1.dist-info/RECORD",
            "/venv/lib/python3.12/site-packages/x-1.dist-info/INSTALLER",
            "/usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO",
            "/usr/lib/python3/dist-packages/six-1.16.0.egg-info/installed-files.txt",
            "/usr/lib/python3/dist-packages/distro_info-1.0.egg-info",
            "/opt/site/foo-1.0-py3.8.egg/EGG-INFO/PKG-INFO",
        ];
        let no = [
            "/usr/lib/python3.11/os.py",
            "/x/METADATA",
            "/x/foo.dist-info/WHEEL",
            "/x/foo.dist-info/LICENSE",
            "/x/PKG-INFO",
            "/x/EGG-INFO/PKG-INFO",
            "/x/foo.egg-info/SOURCES.txt",
        ];
        for p in yes {
            assert!(wants(p), "{p}");
        }
        for p in no {
            assert!(!wants(p), "{p}");
        }
    }

    /// The python-app image against its `pip inspect` ground truth.
    #[test]
    fn python_app_matches_truth() {
        let Some(truth) = bosun_testutil::fixture("truth/python-app.json") else {
            return;
        };
        let Some(index) = test_image_index("python-app", wants) else {
            return;
        };
        let truth: serde_json::Value =
            serde_json::from_slice(&std::fs::read(truth).unwrap()).unwrap();
        let mut want = BTreeSet::new();
        for p in truth["packages"].as_array().unwrap() {
            if p["ecosystem"] == "pypi" {
                want.insert((
                    p["name"].as_str().unwrap().to_string(),
                    p["version"].as_str().unwrap().to_string(),
                    p["path"].as_str().unwrap().to_string(),
                    p["site_dir"].as_str().unwrap().to_string(),
                    p["installer"].as_str().unwrap().to_string(),
                ));
            }
        }
        assert_eq!(want.len(), 11);
        let out = run(&index);
        assert!(out.unknowns.is_empty(), "{:?}", out.unknowns);
        let got: BTreeSet<_> = out
            .packages
            .iter()
            .map(|p| {
                let PackageMetadata::Python(m) = &p.metadata else {
                    panic!("metadata")
                };
                (
                    p.name.clone(),
                    p.version.clone(),
                    parent(&p.locations[0].path).to_string(),
                    m.site_dir.clone(),
                    m.installer.clone().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(got.len(), out.packages.len(), "duplicates");
        assert_eq!(got, want);

        let django = out.packages.iter().find(|p| p.name == "Django").unwrap();
        let PackageMetadata::Python(m) = &django.metadata else {
            panic!()
        };
        assert!(m.files.contains(&"/usr/local/bin/django-admin".to_string()));
        assert!(
            m.files.contains(
                &"/usr/local/lib/python3.11/dist-packages/django/__init__.py".to_string()
            )
        );
        // pip writes RECORD with one line per file; every line is a file.
        let record = index
            .get("/usr/local/lib/python3.11/dist-packages/Django-2.2.dist-info/RECORD")
            .and_then(FileRecord::content)
            .unwrap();
        let lines = record
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count();
        assert_eq!(m.files.len(), lines);

        let lic = |n: &str| {
            out.packages
                .iter()
                .find(|p| p.name == n)
                .unwrap()
                .licenses
                .clone()
        };
        // License: MPL-2.0 / MIT / BSD-3-Clause are SPDX ids as written.
        assert_eq!(lic("certifi"), ["MPL-2.0"]);
        assert_eq!(lic("urllib3"), ["MIT"]);
        assert_eq!(lic("MarkupSafe"), ["BSD-3-Clause"]);
        assert_eq!(lic("requests"), ["Apache-2.0"]);
        // "BSD" and the bare "BSD License" classifier name no single license.
        assert!(lic("Django").is_empty());
    }

    fn metadata_fixture(name: &str) -> Option<Output> {
        let p = bosun_testutil::fixture(&format!("files/lockfiles/python-metadata/{name}"))?;
        let body = std::fs::read(p).unwrap();
        let path = if name.ends_with(".egg-info") {
            format!("/usr/lib/python3/dist-packages/{name}")
        } else if name.ends_with("METADATA") {
            "/usr/lib/python3/dist-packages/x.dist-info/METADATA".to_string()
        } else {
            "/usr/lib/python3/dist-packages/x.egg-info/PKG-INFO".to_string()
        };
        let mut index = FileIndex::new();
        index.insert(rec(&path, &body));
        Some(run(&index))
    }

    /// Name and Version as the first lines of each real file state them.
    #[test]
    fn real_metadata_edge_cases() {
        let cases: &[(&str, &str, &str, &[&str])] = &[
            ("syft-PKG-INFO-INVALID", "mxnet", "1.8.0", &[]),
            ("syft-Python-2.7.egg-info", "Python", "2.7.13", &["PSF-2.0"]),
            (
                "syft-requests-egg-info.PKG-INFO",
                "requests",
                "2.22.0",
                &["Apache-2.0"],
            ),
            (
                "trivy-asyncssh-2.14.2.METADATA",
                "asyncssh",
                "2.14.2",
                &["EPL-2.0"],
            ),
            // "Python license" names no single license, and the classifiers
            // come after the blank line that ends the headers.
            (
                "trivy-distlib-0.3.1-py3.9.egg-info",
                "distlib",
                "0.3.1",
                &[],
            ),
            (
                "trivy-iniconfig-2.0.0.METADATA",
                "iniconfig",
                "2.0.0",
                &["MIT"],
            ),
            ("trivy-networkx-3.0.METADATA", "networkx", "3.0", &[]),
            (
                "trivy-pyphen-0.14.0.METADATA",
                "pyphen",
                "0.14.0",
                &["GPL-2.0-or-later", "LGPL-2.0-or-later", "MPL-1.1"],
            ),
            (
                "trivy-setuptools-51.3.3-py3.8.egg-info.PKG-INFO",
                "setuptools",
                "51.3.3",
                &[],
            ),
            (
                "trivy-typing_extensions-4.4.0.METADATA",
                "typing_extensions",
                "4.4.0",
                &[],
            ),
            (
                "trivy-unidecode-egg-info.PKG-INFO",
                "Unidecode",
                "0.4.1",
                &[],
            ),
            ("trivy-zipp-3.12.1.METADATA", "zipp", "3.12.1", &["MIT"]),
        ];
        for (file, name, version, lic) in cases {
            let Some(out) = metadata_fixture(file) else {
                return;
            };
            assert!(out.unknowns.is_empty(), "{file}: {:?}", out.unknowns);
            assert_eq!(out.packages.len(), 1, "{file}");
            let p = &out.packages[0];
            assert_eq!(
                (p.name.as_str(), p.version.as_str()),
                (*name, *version),
                "{file}"
            );
            assert_eq!(p.licenses, *lic, "{file}");
            assert_eq!(p.kind, PackageKind::Python);
            assert_eq!(p.found_by, CATALOGER_ID);
        }
    }

    #[test]
    fn headers_stop_at_body_and_join_continuations() {
        let h = parse_headers("Name: a\nSummary: one\n  two\nVersion: 1\n\nVersion: 2\n");
        assert_eq!(header(&h, "version"), Some("1"));
        assert_eq!(header(&h, "summary"), Some("one\ntwo"));
        let h = parse_headers("Name: a\r\nVersion: 3\r\n\r\nName: b\r\n");
        assert_eq!(
            (header(&h, "Name"), header(&h, "Version")),
            (Some("a"), Some("3"))
        );
    }

    #[test]
    fn license_precedence_and_mapping() {
        let l = |t: &str| licenses(&parse_headers(t));
        assert_eq!(
            l("License-Expression: MIT OR Apache-2.0\nLicense: BSD\n"),
            ["MIT OR Apache-2.0"]
        );
        assert_eq!(l("License: mit\n"), ["MIT"]);
        assert_eq!(l("License: (MIT OR apache-2.0)\n"), ["(MIT OR Apache-2.0)"]);
        assert_eq!(
            l("License: BSD\nClassifier: License :: OSI Approved :: MIT License\n"),
            ["MIT"]
        );
        assert!(l("License: Some custom thing\nClassifier: License :: OSI Approved\n").is_empty());
        assert!(l("License: UNKNOWN\n").is_empty());
    }

    #[test]
    fn record_paths_are_resolved() {
        let site = "/usr/local/lib/python3.11/dist-packages";
        let files = record_files(
            site,
            "../../../bin/x,sha256=a,1\n\"we,ird.py\",,\nfoo/__init__.py,,\n/abs/y,,\n\n",
        );
        assert_eq!(
            files,
            [
                "/usr/local/bin/x",
                "/usr/local/lib/python3.11/dist-packages/we,ird.py",
                "/usr/local/lib/python3.11/dist-packages/foo/__init__.py",
                "/abs/y"
            ]
        );
    }

    #[test]
    fn egg_info_dir_and_egg_layouts() {
        let mut index = FileIndex::new();
        let d = "/usr/lib/python3/dist-packages";
        index.insert(rec(
            &format!("{d}/six-1.16.0.egg-info/PKG-INFO"),
            b"Metadata-Version: 1.2\nName: six\nVersion: 1.16.0\nLicense: MIT\n",
        ));
        index.insert(rec(
            &format!("{d}/six-1.16.0.egg-info/installed-files.txt"),
            b"../six.py\nPKG-INFO\n",
        ));
        index.insert(rec(
            "/opt/lib/foo-2.0-py3.8.egg/EGG-INFO/PKG-INFO",
            b"Name: foo\nVersion: 2.0\n",
        ));
        let out = run(&index);
        assert_eq!(out.packages.len(), 2);
        let six = out.packages.iter().find(|p| p.name == "six").unwrap();
        let PackageMetadata::Python(m) = &six.metadata else {
            panic!()
        };
        assert_eq!(m.site_dir, d);
        assert_eq!(
            m.files,
            [
                format!("{d}/six.py"),
                format!("{d}/six-1.16.0.egg-info/PKG-INFO")
            ]
        );
        let foo = out.packages.iter().find(|p| p.name == "foo").unwrap();
        let PackageMetadata::Python(m) = &foo.metadata else {
            panic!()
        };
        assert_eq!(m.site_dir, "/opt/lib");
    }

    #[test]
    fn vendored_copies_inside_site_packages_are_skipped() {
        let mut index = FileIndex::new();
        let d = "/venv/lib/python3.12/site-packages";
        index.insert(rec(
            &format!("{d}/setuptools/_vendor/jaraco.text-3.12.1.dist-info/METADATA"),
            b"Name: jaraco.text\nVersion: 3.12.1\n",
        ));
        index.insert(rec(
            &format!("{d}/setuptools-75.0.dist-info/METADATA"),
            b"Name: setuptools\nVersion: 75.0\n",
        ));
        let out = run(&index);
        let names: Vec<_> = out.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["setuptools"]);
    }

    #[test]
    fn hostile_input_is_unknown_not_panic() {
        let bodies: &[&[u8]] = &[
            b"",
            b"\xff\xfe\x00garbage",
            b"Name: x\n",
            b"Version: 1\n",
            b"  leading continuation\nName: x\nVersion: 1\n",
            b"Name: x\nVersion:\n",
        ];
        for (i, body) in bodies.iter().enumerate() {
            let mut index = FileIndex::new();
            index.insert(rec(
                &format!("/s/site-packages/p{i}.dist-info/METADATA"),
                body,
            ));
            index.insert(rec(
                &format!("/s/site-packages/p{i}.dist-info/RECORD"),
                body,
            ));
            let out = run(&index);
            assert!(out.packages.is_empty(), "{i}");
            let unparsed = out
                .unknowns
                .iter()
                .filter(|u| u.kind == bosun_core::UnknownKind::Unparsed);
            assert_eq!(unparsed.count(), 1, "{i}");
        }
        // Huge header count is bounded, an unterminated quote in RECORD is fine.
        let mut big = b"Name: x\nVersion: 1\n".to_vec();
        for _ in 0..50_000 {
            big.extend_from_slice(b"Classifier: License :: OSI Approved :: MIT License\n");
        }
        let mut index = FileIndex::new();
        index.insert(rec("/s/site-packages/x.dist-info/METADATA", &big));
        index.insert(rec(
            "/s/site-packages/x.dist-info/RECORD",
            b"\"unterminated,\n",
        ));
        let out = run(&index);
        assert_eq!(out.packages.len(), 1);
        assert_eq!(out.packages[0].licenses, ["MIT"]);
    }
}
