//! PHP Composer: installed packages from `vendor/composer/installed.json`
//! (every scope) and, for directories only, `composer.lock` when the project
//! has no installed.json to say what is really there.
//!
//! Versions are kept as written (`v5.4.47`): that is the package's tag and
//! what Packagist and advisories use. Syft and Trivy keep them too (Syft's
//! purl for behat/mink is `pkg:composer/behat/mink@v1.8.1`).

use serde_json::Value;

use bosun_core::package::ComposerMetadata;
use bosun_core::{Package, PackageKind, PackageMetadata};

use crate::text::Tool;
use crate::{FileIndex, FileRecord, Output, Scope};

pub const CATALOGER_ID: &str = "php-composer-cataloger";

/// More packages than any real project installs.
const MAX_PACKAGES: usize = 100_000;
const MAX_LICENSES: usize = 64;

const INSTALLED: &str = "/vendor/composer/installed.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Installed,
    Lock,
}

fn file_kind(path: &str) -> Option<FileKind> {
    let (dir, name) = path.rsplit_once('/')?;
    match name {
        // The vendor dir can be renamed (`config.vendor-dir`), its
        // `composer/` subdirectory cannot.
        "installed.json" if dir.ends_with("/composer") => Some(FileKind::Installed),
        "composer.lock" => Some(FileKind::Lock),
        _ => None,
    }
}

/// Whether this cataloger needs the bytes of the file at `path`.
pub fn wants(path: &str) -> bool {
    file_kind(path).is_some()
}

pub fn catalog(index: &FileIndex, out: &mut Output) {
    for rec in index.files() {
        let Some(bytes) = rec.content() else {
            continue;
        };
        let kind = match file_kind(&rec.path) {
            Some(FileKind::Installed) => FileKind::Installed,
            // A lock file describes a source tree, not what an image runs
            // (see `Scope`); next to an installed vendor dir it is redundant.
            Some(FileKind::Lock) if index.scope() == Scope::Directory => {
                let project = rec.path.rsplit_once('/').map_or("", |(d, _)| d);
                if index.get(&format!("{project}{INSTALLED}")).is_some() {
                    continue;
                }
                FileKind::Lock
            }
            _ => continue,
        };
        // The installed code loads through Composer's autoloader whatever
        // the metadata's encoding: decode leniently, keep the packages.
        let text = out.text(CATALOGER_ID, rec, bytes, Tool::Composer);
        let parsed = match kind {
            FileKind::Installed => parse_installed(text.as_bytes()),
            FileKind::Lock => parse_lock(text.as_bytes()),
        };
        match parsed {
            Ok(p) => emit(rec, p, out),
            Err(e) => out.unknown(CATALOGER_ID, rec, e),
        }
    }
}

/// What one file yielded: packages, and how many entries were unusable.
#[derive(Debug, Default)]
struct Parsed {
    packages: Vec<Composer>,
    skipped: usize,
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Composer {
    name: String,
    version: String,
    licenses: Vec<String>,
    meta: ComposerMetadata,
}

fn emit(rec: &FileRecord, parsed: Parsed, out: &mut Output) {
    if parsed.skipped > 0 {
        out.unknown(
            CATALOGER_ID,
            rec,
            format!(
                "{} package entries without a name and version",
                parsed.skipped
            ),
        );
    }
    for c in parsed.packages {
        out.packages.push(Package {
            id: String::new(),
            name: c.name,
            version: c.version,
            kind: PackageKind::Composer,
            purl: String::new(),
            licenses: c.licenses,
            locations: vec![rec.location()],
            found_by: CATALOGER_ID.to_string(),
            metadata: PackageMetadata::Composer(c.meta),
        });
    }
}

fn json(bytes: &[u8]) -> Result<Value, String> {
    // serde_json refuses nesting deeper than 128 levels, so hostile depth
    // is an error, not a stack overflow.
    serde_json::from_slice(bytes).map_err(|e| format!("JSON: {e}"))
}

/// Composer 1 writes a bare array; Composer 2 an object with `packages`
/// and the names of the `require-dev` ones in `dev-package-names`.
fn parse_installed(bytes: &[u8]) -> Result<Parsed, String> {
    let v = json(bytes)?;
    let (list, dev_names): (&Value, Vec<&str>) = match &v {
        Value::Array(_) => (&v, Vec::new()),
        Value::Object(o) => {
            let list = o.get("packages").ok_or("no `packages`")?;
            let dev = o
                .get("dev-package-names")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            (list, dev)
        }
        _ => return Err("neither an array nor an object".into()),
    };
    let mut parsed = Parsed::default();
    add_packages(list, &|name| dev_names.contains(&name), &mut parsed)?;
    Ok(parsed)
}

fn parse_lock(bytes: &[u8]) -> Result<Parsed, String> {
    let v = json(bytes)?;
    let o = v.as_object().ok_or("not an object")?;
    let mut parsed = Parsed::default();
    if let Some(list) = o.get("packages") {
        add_packages(list, &|_| false, &mut parsed)?;
    }
    if let Some(list) = o.get("packages-dev").filter(|v| !v.is_null()) {
        add_packages(list, &|_| true, &mut parsed)?;
    }
    Ok(parsed)
}

fn add_packages(
    list: &Value,
    dev: &dyn Fn(&str) -> bool,
    parsed: &mut Parsed,
) -> Result<(), String> {
    let list = list.as_array().ok_or("package list is not an array")?;
    if parsed.packages.len() + list.len() > MAX_PACKAGES {
        return Err(format!("more than {MAX_PACKAGES} packages"));
    }
    for p in list {
        match package(p, dev) {
            Some(c) => parsed.packages.push(c),
            None => parsed.skipped += 1,
        }
    }
    Ok(())
}

fn package(p: &Value, dev: &dyn Fn(&str) -> bool) -> Option<Composer> {
    let s = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let name = s(p.get("name")).filter(|n| n.len() <= 256)?;
    let version = s(p.get("version")).filter(|v| v.len() <= 256)?;
    let source = p.get("source");
    let dist = p.get("dist");
    let field = |v: Option<&Value>, k: &str| s(v.and_then(|v| v.get(k)));
    let meta = ComposerMetadata {
        package_type: s(p.get("type")),
        dev: dev(&name),
        source_url: field(source, "url"),
        reference: field(dist, "reference").or_else(|| field(source, "reference")),
        dist_shasum: field(dist, "shasum"),
    };
    Some(Composer {
        licenses: licenses(p.get("license")),
        name,
        version,
        meta,
    })
}

/// `license` is an array of SPDX ids (or a single string in older files).
fn licenses(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(l)) => crate::ruby::license(l).into_iter().collect(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .filter_map(crate::ruby::license)
            .take(MAX_LICENSES)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::Facts;
    use std::collections::BTreeSet;

    fn index(scope: Scope, files: &[(&str, &[u8])]) -> FileIndex {
        let mut ix = FileIndex::with_scope(scope);
        for (path, bytes) in files {
            ix.insert(FileRecord {
                path: path.to_string(),
                layer: None,
                facts: Facts::Content(bytes.to_vec()),
            });
        }
        ix
    }

    fn run(ix: &FileIndex) -> Output {
        let mut out = Output::default();
        catalog(ix, &mut out);
        out
    }

    fn lock_fixture() -> Option<Vec<u8>> {
        let p =
            bosun_testutil::fixture("files/lockfiles/composer/composer-composer.composer.lock")?;
        Some(std::fs::read(p).unwrap())
    }

    /// (name, version, dev) of a lock's lists, read with serde_json::Value.
    fn expected(lock: &Value) -> BTreeSet<(String, String, bool)> {
        let mut want = BTreeSet::new();
        for (key, dev) in [("packages", false), ("packages-dev", true)] {
            for p in lock[key].as_array().unwrap() {
                want.insert((
                    p["name"].as_str().unwrap().to_string(),
                    p["version"].as_str().unwrap().to_string(),
                    dev,
                ));
            }
        }
        want
    }

    fn got(out: &Output) -> BTreeSet<(String, String, bool)> {
        out.packages
            .iter()
            .map(|p| {
                let PackageMetadata::Composer(m) = &p.metadata else {
                    panic!("metadata")
                };
                (p.name.clone(), p.version.clone(), m.dev)
            })
            .collect()
    }

    #[test]
    fn wants_installed_json_and_lock() {
        assert!(wants("/var/www/vendor/composer/installed.json"));
        assert!(wants("/app/lib/composer/installed.json"));
        assert!(wants("/app/composer.lock"));
        assert!(!wants("/app/installed.json") && !wants("/app/composer.json"));
        assert!(!wants("composer.lock"));
    }

    #[test]
    fn composer_lock_fixture() {
        let Some(bytes) = lock_fixture() else { return };
        let lock: Value = serde_json::from_slice(&bytes).unwrap();
        let want = expected(&lock);
        assert_eq!(lock["packages"].as_array().unwrap().len(), 30);
        assert_eq!(lock["packages-dev"].as_array().unwrap().len(), 6);
        assert_eq!(want.len(), 36);
        let out = run(&index(Scope::Directory, &[("/src/composer.lock", &bytes)]));
        assert!(out.unknowns.is_empty(), "{:?}", out.unknowns);
        assert_eq!(got(&out), want);
        assert_eq!(out.packages.len(), want.len());

        let p = out
            .packages
            .iter()
            .find(|p| p.name == "marc-mabe/php-enum")
            .unwrap();
        assert_eq!(p.version, "v4.7.2");
        assert_eq!(p.licenses, vec!["BSD-3-Clause".to_string()]);
        let PackageMetadata::Composer(m) = &p.metadata else {
            panic!()
        };
        let raw = lock["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "marc-mabe/php-enum")
            .unwrap();
        assert_eq!(m.reference.as_deref(), raw["dist"]["reference"].as_str());
        assert_eq!(m.source_url.as_deref(), raw["source"]["url"].as_str());
        assert_eq!(m.package_type.as_deref(), Some("library"));
        // An empty shasum is no checksum.
        assert_eq!(m.dist_shasum, None);
        let bridge = out
            .packages
            .iter()
            .find(|p| p.name == "symfony/phpunit-bridge")
            .unwrap();
        assert!(
            matches!(&bridge.metadata, PackageMetadata::Composer(m) if m.dev && m.package_type.as_deref() == Some("symfony-bridge"))
        );

        // Images ignore lock files.
        assert!(
            run(&index(Scope::Image, &[("/src/composer.lock", &bytes)]))
                .packages
                .is_empty()
        );
    }

    /// A Composer 2 installed.json made from the lock, as `composer install`
    /// writes it, and the Composer 1 array form of the same packages.
    #[test]
    fn installed_json_from_lock() {
        let Some(bytes) = lock_fixture() else { return };
        let lock: Value = serde_json::from_slice(&bytes).unwrap();
        let want = expected(&lock);
        let mut all: Vec<Value> = Vec::new();
        let mut dev_names = Vec::new();
        for key in ["packages", "packages-dev"] {
            for p in lock[key].as_array().unwrap() {
                let mut p = p.clone();
                let name = p["name"].as_str().unwrap().to_string();
                p["install-path"] = Value::String(format!("../{name}"));
                if key == "packages-dev" {
                    dev_names.push(Value::String(name));
                }
                all.push(p);
            }
        }
        let v2 = serde_json::json!({"packages": all, "dev": true, "dev-package-names": dev_names});
        let v2 = serde_json::to_vec(&v2).unwrap();
        let v1 = serde_json::to_vec(&Value::Array(all.clone())).unwrap();
        for scope in [Scope::Image, Scope::Directory] {
            // The lock beside an installed vendor dir is not read twice.
            let ix = index(
                scope,
                &[
                    ("/app/vendor/composer/installed.json", &v2),
                    ("/app/composer.lock", &bytes),
                ],
            );
            let out = run(&ix);
            assert!(out.unknowns.is_empty(), "{:?}", out.unknowns);
            assert_eq!(got(&out), want);
            assert_eq!(out.packages.len(), want.len());
            assert!(
                out.packages
                    .iter()
                    .all(|p| p.locations[0].path == "/app/vendor/composer/installed.json")
            );
        }
        let out = run(&index(
            Scope::Image,
            &[("/app/vendor/composer/installed.json", &v1)],
        ));
        // Composer 1 records no dev flags.
        let names: BTreeSet<_> = got(&out).into_iter().map(|(n, v, _)| (n, v)).collect();
        assert_eq!(names, want.into_iter().map(|(n, v, _)| (n, v)).collect());
    }

    #[test]
    fn hostile_composer_files() {
        let bad: &[&[u8]] = &[
            b"",
            b"{",
            b"\xff",
            b"42",
            b"{\"packages\": 3}",
            b"{\"dev\": true}",
        ];
        for b in bad {
            let out = run(&index(
                Scope::Image,
                &[("/a/vendor/composer/installed.json", b)],
            ));
            let unparsed = out
                .unknowns
                .iter()
                .filter(|u| u.kind == bosun_core::UnknownKind::Unparsed);
            assert_eq!(unparsed.count(), 1, "{:?}", String::from_utf8_lossy(b));
            assert!(out.packages.is_empty());
        }
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let out = run(&index(
            Scope::Image,
            &[("/a/vendor/composer/installed.json", deep.as_bytes())],
        ));
        assert_eq!(out.unknowns.len(), 1);
        assert!(
            run(&index(Scope::Directory, &[("/a/composer.lock", b"[]")]))
                .unknowns
                .len()
                == 1
        );
        // Wrong types inside entries: the good ones are kept, the rest counted.
        let mixed = br#"{"packages": [
            {"name": "a/b", "version": "1.0", "license": "mit", "dist": 7, "type": ["x"]},
            {"name": 5, "version": "1"},
            "nope",
            {"name": "c/d", "version": "2", "license": [1, null, "GPL-2.0-or-later"]}
        ], "dev-package-names": "c/d"}"#;
        let out = run(&index(
            Scope::Image,
            &[("/a/vendor/composer/installed.json", mixed)],
        ));
        assert_eq!(out.packages.len(), 2);
        assert_eq!(out.unknowns.len(), 1);
        assert!(
            out.unknowns[0].message.contains('2'),
            "{}",
            out.unknowns[0].message
        );
        let ab = out.packages.iter().find(|p| p.name == "a/b").unwrap();
        assert_eq!(ab.licenses, vec!["MIT".to_string()]);
        assert!(
            matches!(&ab.metadata, PackageMetadata::Composer(m) if m.package_type.is_none() && m.reference.is_none())
        );
        let cd = out.packages.iter().find(|p| p.name == "c/d").unwrap();
        assert_eq!(cd.licenses, vec!["GPL-2.0-or-later".to_string()]);
    }
}
