//! .NET: `*.deps.json`, the dependency manifest the SDK writes next to every
//! built or published application. It ships with the app, so it speaks for
//! images as well as directories.
//!
//! Its `libraries` map `Name/Version` keys to entries whose `type` says what
//! they are:
//! - `package`: a NuGet package, reported;
//! - `runtimepack`: the runtime a self-contained app carries
//!   (`runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.14`), reported
//!   under its NuGet id (the prefix dropped), since .NET runtime advisories
//!   name those packages;
//! - `project`: the application itself or a project it references. Not
//!   reported: it is not a NuGet package, and a purl for it would match
//!   advisories of any public package that happens to share its name;
//! - `reference` and anything else: assemblies without a package, skipped.

use serde_json::Value;

use bosun_core::package::DotNetMetadata;
use bosun_core::{Package, PackageKind, PackageMetadata};

use crate::text::Tool;
use crate::{FileIndex, FileRecord, Output};

pub const CATALOGER_ID: &str = "dotnet-deps-cataloger";

/// More libraries than any real application has.
const MAX_LIBRARIES: usize = 100_000;

/// Whether this cataloger needs the bytes of the file at `path`.
pub fn wants(path: &str) -> bool {
    path.rsplit_once('/')
        .is_some_and(|(_, name)| name.len() > ".deps.json".len() && name.ends_with(".deps.json"))
}

pub fn catalog(index: &FileIndex, out: &mut Output) {
    for rec in index.files().filter(|r| wants(&r.path)) {
        let Some(bytes) = rec.content() else {
            continue;
        };
        let text = out.text(CATALOGER_ID, rec, bytes, Tool::Dotnet);
        match parse_deps_json(text.as_bytes()) {
            Ok(parsed) => emit(rec, parsed, out),
            Err(e) => out.unknown(CATALOGER_ID, rec, format!("deps.json: {e}")),
        }
    }
}

#[derive(Debug, Default)]
struct Parsed {
    libraries: Vec<Library>,
    /// Package entries whose key or fields were unusable.
    skipped: Vec<String>,
}

#[derive(Debug, PartialEq, Eq)]
struct Library {
    name: String,
    version: String,
    meta: DotNetMetadata,
}

fn emit(rec: &FileRecord, parsed: Parsed, out: &mut Output) {
    if let Some(first) = parsed.skipped.first() {
        out.unknown(
            CATALOGER_ID,
            rec,
            format!(
                "deps.json: {} unusable libraries entries (first: {first:?})",
                parsed.skipped.len()
            ),
        );
    }
    for l in parsed.libraries {
        out.packages.push(Package {
            id: String::new(),
            name: l.name,
            version: l.version,
            kind: PackageKind::DotNet,
            purl: String::new(),
            licenses: Vec::new(),
            locations: vec![rec.location()],
            found_by: CATALOGER_ID.to_string(),
            metadata: PackageMetadata::DotNet(l.meta),
        });
    }
}

fn parse_deps_json(bytes: &[u8]) -> Result<Parsed, String> {
    // serde_json refuses nesting deeper than 128 levels.
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("JSON: {e}"))?;
    let libraries = v
        .get("libraries")
        .ok_or("no `libraries`")?
        .as_object()
        .ok_or("`libraries` is not an object")?;
    if libraries.len() > MAX_LIBRARIES {
        return Err(format!("{} libraries is implausible", libraries.len()));
    }
    let mut parsed = Parsed::default();
    for (key, entry) in libraries {
        let name_prefix = match entry.get("type").and_then(Value::as_str) {
            Some("package") => "",
            Some("runtimepack") => "runtimepack.",
            _ => continue,
        };
        match library(key, entry, name_prefix) {
            Some(l) => parsed.libraries.push(l),
            None => parsed.skipped.push(key.chars().take(100).collect()),
        }
    }
    Ok(parsed)
}

fn library(key: &str, entry: &Value, name_prefix: &str) -> Option<Library> {
    let (name, version) = key.rsplit_once('/')?;
    let name = name.strip_prefix(name_prefix)?;
    let word = |s: &str| !s.is_empty() && s.len() <= 256 && !s.contains(char::is_whitespace);
    if !word(name) || !word(version) {
        return None;
    }
    let field = |k: &str| {
        entry
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Some(Library {
        name: name.to_string(),
        version: version.to_string(),
        meta: DotNetMetadata {
            library_type: name_prefix
                .strip_suffix('.')
                .unwrap_or("package")
                .to_string(),
            sha512: field("sha512"),
            path: field("path"),
        },
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::{Facts, Scope};
    use std::collections::BTreeSet;

    fn run(scope: Scope, path: &str, bytes: &[u8]) -> Output {
        let mut ix = FileIndex::with_scope(scope);
        ix.insert(FileRecord {
            path: path.to_string(),
            layer: None,
            facts: Facts::Content(bytes.to_vec()),
        });
        let mut out = Output::default();
        catalog(&ix, &mut out);
        out
    }

    #[test]
    fn wants_deps_json_only() {
        assert!(wants("/app/MyApp.deps.json"));
        assert!(!wants("/app/.deps.json") && !wants("/app/MyApp.runtimeconfig.json"));
        assert!(!wants("MyApp.deps.json"));
    }

    #[test]
    fn deps_json_fixtures() {
        let mut seen = 0;
        for name in [
            "syft-TestLibrary",
            "syft-net8-app-single-file",
            "trivy-datacollector",
            "trivy-without-runtime",
        ] {
            let Some(path) = bosun_testutil::fixture(&format!(
                "files/lockfiles/dotnet-deps-json/{name}.deps.json"
            )) else {
                continue;
            };
            seen += 1;
            let bytes = std::fs::read(&path).unwrap();
            // Expectation straight from the JSON: libraries of type package
            // (and runtime packs, under their NuGet id), split at the last '/'.
            let json: Value = serde_json::from_slice(&bytes).unwrap();
            let mut want = BTreeSet::new();
            for (k, v) in json["libraries"].as_object().unwrap() {
                let (n, ver) = k.rsplit_once('/').unwrap();
                match v["type"].as_str().unwrap() {
                    "package" => want.insert((
                        n.to_string(),
                        ver.to_string(),
                        v["sha512"].as_str().map(str::to_string),
                    )),
                    "runtimepack" => want.insert((
                        n.trim_start_matches("runtimepack.").to_string(),
                        ver.to_string(),
                        None,
                    )),
                    _ => false,
                };
            }
            assert!(!want.is_empty(), "{name}");
            // Images and directories alike.
            for scope in [Scope::Image, Scope::Directory] {
                let out = run(scope, "/app/App.deps.json", &bytes);
                assert!(out.unknowns.is_empty(), "{name}: {:?}", out.unknowns);
                let got: BTreeSet<_> = out
                    .packages
                    .iter()
                    .map(|p| {
                        let PackageMetadata::DotNet(m) = &p.metadata else {
                            panic!()
                        };
                        (p.name.clone(), p.version.clone(), m.sha512.clone())
                    })
                    .collect();
                assert_eq!(got, want, "{name}");
                assert_eq!(out.packages.len(), want.len(), "{name}");
            }
        }
        if seen == 0 {
            return;
        }
        let bytes = std::fs::read(
            bosun_testutil::fixture(
                "files/lockfiles/dotnet-deps-json/trivy-datacollector.deps.json",
            )
            .unwrap(),
        )
        .unwrap();
        let out = run(Scope::Image, "/app/dc.deps.json", &bytes);
        // The project entry is the app itself, not a package.
        assert_eq!(out.packages.len(), 1);
        let p = &out.packages[0];
        assert_eq!(
            (p.name.as_str(), p.version.as_str()),
            ("Newtonsoft.Json", "9.0.1")
        );
        assert_eq!(p.found_by, CATALOGER_ID);
        let PackageMetadata::DotNet(m) = &p.metadata else {
            panic!()
        };
        assert_eq!(m.path.as_deref(), Some("newtonsoft.json/9.0.1"));
        assert!(m.sha512.as_deref().unwrap().starts_with("sha512-U82mHQSK"));
        assert_eq!(m.library_type, "package");

        let bytes = std::fs::read(
            bosun_testutil::fixture(
                "files/lockfiles/dotnet-deps-json/syft-net8-app-single-file.deps.json",
            )
            .unwrap(),
        )
        .unwrap();
        let out = run(Scope::Image, "/app/dotnetapp.deps.json", &bytes);
        let rt = out
            .packages
            .iter()
            .find(|p| p.name == "Microsoft.NETCore.App.Runtime.win-x64")
            .unwrap();
        assert_eq!(rt.version, "8.0.14");
        assert!(
            matches!(&rt.metadata, PackageMetadata::DotNet(m) if m.library_type == "runtimepack")
        );
        assert!(
            out.packages
                .iter()
                .any(|p| p.name == "Humanizer" && p.version == "2.14.1")
        );
        assert!(!out.packages.iter().any(|p| p.name == "dotnetapp"));
    }

    #[test]
    fn hostile_deps_json() {
        for bad in [
            &b""[..],
            b"{",
            b"\xff",
            b"[]",
            b"{\"libraries\": []}",
            b"{\"targets\": {}}",
        ] {
            let out = run(Scope::Image, "/a/x.deps.json", bad);
            let unparsed = out
                .unknowns
                .iter()
                .filter(|u| u.kind == bosun_core::UnknownKind::Unparsed);
            assert_eq!(unparsed.count(), 1, "{:?}", String::from_utf8_lossy(bad));
            assert!(out.packages.is_empty());
        }
        let deep = format!(
            "{{\"libraries\": {}{}}}",
            "[".repeat(50_000),
            "]".repeat(50_000)
        );
        assert_eq!(
            run(Scope::Image, "/a/x.deps.json", deep.as_bytes())
                .unknowns
                .len(),
            1
        );
        let mixed = br#"{"libraries": {
            "Good/1.0": {"type": "package", "sha512": 5, "path": null},
            "NoVersion": {"type": "package"},
            "Bad /1": {"type": "package"},
            "Weird/2": {"type": 7},
            "runtimepack/1": {"type": "runtimepack"},
            "Ref/1": {"type": "reference"},
            "Str/1": "package"
        }}"#;
        let out = run(Scope::Image, "/a/x.deps.json", mixed);
        assert_eq!(out.packages.len(), 1);
        assert_eq!(out.packages[0].name, "Good");
        assert!(
            matches!(&out.packages[0].metadata, PackageMetadata::DotNet(m) if m.sha512.is_none())
        );
        assert_eq!(out.unknowns.len(), 1);
        assert!(
            out.unknowns[0].message.contains("3 unusable"),
            "{}",
            out.unknowns[0].message
        );
    }
}
