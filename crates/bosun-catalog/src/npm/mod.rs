//! npm packages: the installed tree (`node_modules/**/package.json`), the
//! project's own package.json, and lock files (package-lock.json,
//! npm-shrinkwrap.json, yarn.lock, pnpm-lock.yaml).
//!
//! No double reporting. A project is a directory holding a lock file or a
//! `node_modules` tree; its package.json is reported as the root project.
//! - When the project has an installed tree, that tree is the truth: every
//!   `node_modules/.../package.json` is one package (each nested copy once),
//!   and the lock file only adds `dev`, `resolved` and `integrity` to the
//!   installed packages it describes; it never adds packages of its own.
//! - Without an installed tree (a source checkout), the one lock file of the
//!   directory gives the packages, each (name, version) once. npm-shrinkwrap
//!   wins over package-lock, then pnpm-lock.yaml, then yarn.lock.
//! - A package.json outside node_modules in a directory with neither is not
//!   reported: it is not known to be installed.

mod lock;
mod pnpm;
mod yaml;
mod yarn;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bosun_core::package::NpmMetadata;
use bosun_core::{Package, PackageKind, PackageMetadata};
use serde_json::Value;

use crate::text::Tool;
use crate::{FileIndex, FileRecord, Output, Scope};

pub const CATALOGER_ID: &str = "npm-cataloger";

/// A project package.json is small; a bigger one is not parsed.
const PROJECT_JSON_LIMIT: usize = 4 << 20;

const LOCK_FILES: [&str; 4] = [
    "npm-shrinkwrap.json",
    "package-lock.json",
    "pnpm-lock.yaml",
    "yarn.lock",
];

/// Whether this cataloger needs the bytes of the file at `path`.
pub fn wants(path: &str) -> bool {
    let Some((dir, name)) = path.rsplit_once('/') else {
        return false;
    };
    match name {
        "package.json" => package_json_kind(dir).is_some(),
        // Lock files published inside packages describe nothing installed.
        _ if LOCK_FILES.contains(&name) => !in_node_modules(dir),
        _ => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PackageJson {
    /// `.../node_modules/<name>/package.json` or `.../node_modules/@scope/<name>/package.json`
    Installed,
    /// Outside any node_modules: maybe a project root.
    Project,
}

fn in_node_modules(dir: &str) -> bool {
    dir.contains("/node_modules/") || dir.ends_with("/node_modules")
}

/// What a package.json in `dir` is; None for files deeper inside a package
/// (`node_modules/x/lib/package.json`), which are not packages.
fn package_json_kind(dir: &str) -> Option<PackageJson> {
    let (parent, pkg) = dir.rsplit_once('/')?;
    if !pkg.starts_with(['.', '@']) {
        if parent.ends_with("/node_modules") {
            return Some(PackageJson::Installed);
        }
        if let Some((grand, scope)) = parent.rsplit_once('/')
            && scope.len() > 1
            && scope.starts_with('@')
            && grand.ends_with("/node_modules")
        {
            return Some(PackageJson::Installed);
        }
    }
    (!in_node_modules(dir)).then_some(PackageJson::Project)
}

/// The project directory an installed package belongs to: everything
/// before the first `/node_modules/` (`""` stands for `/`).
fn project_of(dir: &str) -> &str {
    dir.find("/node_modules/").map_or(dir, |i| &dir[..i])
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// One package a lock file lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LockEntry {
    pub name: String,
    pub version: String,
    /// package-lock's install path (`node_modules/a/node_modules/b`).
    pub path: Option<String>,
    pub dev: bool,
    pub resolved: Option<String>,
    pub integrity: Option<String>,
    pub licenses: Vec<String>,
}

#[derive(Debug, Default)]
pub(crate) struct Lock {
    /// The project's own name and version, where the lock file records it.
    pub root: Option<(String, String)>,
    pub entries: Vec<LockEntry>,
    /// Entries dropped because a field had the wrong type or nesting ran too deep.
    pub skipped: usize,
}

/// Lookups for enriching an installed tree: by install path
/// (package-lock), else by name and version (yarn, pnpm).
struct LockIndex<'a> {
    by_path: HashMap<&'a str, &'a LockEntry>,
    by_name_version: HashMap<(&'a str, &'a str), &'a LockEntry>,
}

impl<'a> LockIndex<'a> {
    fn new(lock: &'a Lock) -> Self {
        let mut by_path = HashMap::new();
        let mut by_name_version = HashMap::new();
        for e in &lock.entries {
            if let Some(p) = &e.path {
                by_path.entry(p.as_str()).or_insert(e);
            }
            by_name_version
                .entry((e.name.as_str(), e.version.as_str()))
                .or_insert(e);
        }
        LockIndex {
            by_path,
            by_name_version,
        }
    }
}

fn parse_lock(rec: &FileRecord, bytes: &[u8], out: &mut Output) -> Result<Lock, String> {
    let name = rec.path.rsplit('/').next().unwrap_or("");
    let text = out.text(CATALOGER_ID, rec, bytes, Tool::Node);
    match name {
        "yarn.lock" => yarn::parse(&text),
        "pnpm-lock.yaml" => pnpm::parse(&text),
        _ => lock::parse(&text),
    }
}

pub fn catalog(index: &FileIndex, out: &mut Output) {
    let mut installed: Vec<&FileRecord> = Vec::new();
    let mut projects: BTreeMap<&str, &FileRecord> = BTreeMap::new();
    let mut locks: BTreeMap<&str, &FileRecord> = BTreeMap::new();
    for rec in index.files() {
        let Some((dir, name)) = rec.path.rsplit_once('/') else {
            continue;
        };
        if name == "package.json" {
            match package_json_kind(dir) {
                Some(PackageJson::Installed) => installed.push(rec),
                Some(PackageJson::Project) => {
                    projects.insert(dir, rec);
                }
                None => {}
            }
        } else if let Some(rank) = LOCK_FILES.iter().position(|l| *l == name) {
            if in_node_modules(dir) {
                continue;
            }
            let better = locks.get(dir).is_none_or(|old| {
                let old_name = old.path.rsplit('/').next().unwrap_or("");
                LOCK_FILES
                    .iter()
                    .position(|l| *l == old_name)
                    .is_some_and(|r| rank < r)
            });
            if better {
                locks.insert(dir, rec);
            }
        }
    }
    let with_tree: BTreeSet<&str> = installed
        .iter()
        .map(|r| project_of(parent(&r.path)))
        .collect();

    let mut parsed: BTreeMap<&str, Lock> = BTreeMap::new();
    for (dir, rec) in &locks {
        let Some(bytes) = rec.content() else {
            continue;
        };
        match parse_lock(rec, bytes, out) {
            Ok(l) => {
                if l.skipped > 0 {
                    let n = l.skipped;
                    out.unknown(
                        CATALOGER_ID,
                        rec,
                        format!("{n} entries skipped (bad type or too deep)"),
                    );
                }
                parsed.insert(dir, l);
            }
            Err(e) => out.unknown(CATALOGER_ID, rec, e),
        }
    }

    let indexes: HashMap<&str, LockIndex> = parsed
        .iter()
        .filter(|(dir, _)| with_tree.contains(*dir))
        .map(|(dir, l)| (*dir, LockIndex::new(l)))
        .collect();
    for rec in installed {
        let dir = parent(&rec.path);
        let project = project_of(dir);
        let lock = indexes.get(project);
        match installed_package(rec, dir, project, lock, out) {
            Ok(Some(p)) => out.packages.push(p),
            Ok(None) => {}
            Err(e) => out.unknown(CATALOGER_ID, rec, e),
        }
    }

    // In an image only installed trees count (see `Scope`).
    let from_locks = index.scope() == Scope::Directory;
    let roots: BTreeSet<&str> = with_tree
        .iter()
        .copied()
        .chain(locks.keys().copied().filter(|_| from_locks))
        .collect();
    for dir in roots {
        let root = match projects.get(dir) {
            Some(rec) => root_package(rec, out).map(|p| p.map(|p| (p, *rec))),
            None => Ok(None),
        };
        match root {
            Ok(Some((p, _))) => out.packages.push(p),
            Ok(None) => {
                // No package.json: the lock file may name the project.
                if let (Some(l), Some(rec)) = (parsed.get(dir), locks.get(dir))
                    && let Some((name, version)) = &l.root
                {
                    out.packages.push(package(
                        rec,
                        name,
                        version,
                        Vec::new(),
                        NpmMetadata {
                            root_project: true,
                            ..NpmMetadata::default()
                        },
                    ));
                }
            }
            Err(e) => {
                if let Some(rec) = projects.get(dir) {
                    out.unknown(CATALOGER_ID, rec, e);
                }
            }
        }
        if with_tree.contains(dir) || !from_locks {
            continue;
        }
        if let (Some(l), Some(rec)) = (parsed.get(dir), locks.get(dir)) {
            let mut seen: BTreeSet<(&str, &str)> = BTreeSet::new();
            for e in &l.entries {
                if seen.insert((&e.name, &e.version)) {
                    out.packages.push(package(
                        rec,
                        &e.name,
                        &e.version,
                        e.licenses.clone(),
                        meta(e),
                    ));
                }
            }
        }
    }
}

fn meta(e: &LockEntry) -> NpmMetadata {
    NpmMetadata {
        root_project: false,
        dev: e.dev,
        resolved: e.resolved.clone(),
        integrity: e.integrity.clone(),
    }
}

fn package(
    rec: &FileRecord,
    name: &str,
    version: &str,
    licenses: Vec<String>,
    m: NpmMetadata,
) -> Package {
    Package {
        id: String::new(),
        name: name.to_string(),
        version: version.to_string(),
        kind: PackageKind::Npm,
        purl: String::new(),
        licenses,
        locations: vec![rec.location()],
        found_by: CATALOGER_ID.to_string(),
        metadata: PackageMetadata::Npm(m),
    }
}

/// Node reads package.json as UTF-8 with replacement characters and
/// without a byte-order mark: so does this, so a stray byte in a
/// description hides nothing.
fn parse_json(rec: &FileRecord, out: &mut Output) -> Result<Option<Value>, String> {
    let Some(bytes) = rec.content() else {
        return Ok(None);
    };
    let text = out.text(CATALOGER_ID, rec, bytes, Tool::Node);
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("invalid JSON: {e}"))?;
    if !v.is_object() {
        return Err("package.json is not a JSON object".into());
    }
    Ok(Some(v))
}

/// `name` and `version`: Ok(None) when absent, an error when not strings.
fn name_version(v: &Value) -> Result<Option<(&str, &str)>, String> {
    let field = |k: &str| match v.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim())),
        Some(_) => Err(format!("package.json `{k}` is not a string")),
    };
    match (field("name")?, field("version")?) {
        (Some(n), Some(ver)) if !n.is_empty() && !ver.is_empty() => Ok(Some((n, ver))),
        _ => Ok(None),
    }
}

fn installed_package(
    rec: &FileRecord,
    dir: &str,
    project: &str,
    lock: Option<&LockIndex>,
    out: &mut Output,
) -> Result<Option<Package>, String> {
    let Some(v) = parse_json(rec, out)? else {
        return Ok(None);
    };
    // A package.json without a version is a stub (some packages ship
    // them), not an installed package.
    let Some((name, version)) = name_version(&v)? else {
        return Ok(None);
    };
    let rel = dir.get(project.len() + 1..).unwrap_or("");
    let entry = lock.and_then(|l| {
        l.by_path
            .get(rel)
            .or_else(|| l.by_name_version.get(&(name, version)))
            .copied()
    });
    let old = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let m = match entry {
        Some(e) if e.version == version => meta(e),
        // npm before v5 recorded where it got the package in package.json.
        _ => NpmMetadata {
            resolved: old("_resolved"),
            integrity: old("_integrity"),
            ..NpmMetadata::default()
        },
    };
    Ok(Some(package(rec, name, version, licenses(&v), m)))
}

fn root_package(rec: &FileRecord, out: &mut Output) -> Result<Option<Package>, String> {
    if rec.content().is_some_and(|b| b.len() > PROJECT_JSON_LIMIT) {
        return Err(format!(
            "project package.json over {PROJECT_JSON_LIMIT} bytes"
        ));
    }
    let Some(v) = parse_json(rec, out)? else {
        return Ok(None);
    };
    // Applications often have no version; the project is still reported.
    let name = match v.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim(),
        Some(Value::String(_)) | None => return Ok(None),
        Some(_) => return Err("package.json `name` is not a string".into()),
    };
    let version = match v.get("version") {
        Some(Value::String(s)) => s.trim(),
        None => "",
        Some(_) => return Err("package.json `version` is not a string".into()),
    };
    Ok(Some(package(
        rec,
        name,
        version,
        licenses(&v),
        NpmMetadata {
            root_project: true,
            ..NpmMetadata::default()
        },
    )))
}

/// `license` (a string, or the legacy `{type}` object), else the legacy
/// `licenses` array or object. Pointers to a file and `UNLICENSED` are not
/// licenses.
pub(crate) fn licenses(v: &Value) -> Vec<String> {
    fn one(v: &Value) -> Option<String> {
        let s = match v {
            Value::String(s) => s.as_str(),
            Value::Object(o) => o.get("type")?.as_str()?,
            _ => return None,
        };
        let s = s.trim();
        let useless = s.is_empty()
            || s.len() > 256
            || s.eq_ignore_ascii_case("UNLICENSED")
            || s.to_ascii_uppercase().starts_with("SEE LICENSE IN");
        (!useless).then(|| s.to_string())
    }
    if let Some(l) = v.get("license").and_then(one) {
        return vec![l];
    }
    let mut out: Vec<String> = Vec::new();
    match v.get("licenses") {
        Some(Value::Array(a)) => {
            for l in a.iter().take(64).filter_map(one) {
                if !out.contains(&l) {
                    out.push(l);
                }
            }
        }
        Some(o) => out.extend(one(o)),
        None => {}
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::Facts;

    fn rec(path: &str, body: &str) -> FileRecord {
        FileRecord {
            path: path.into(),
            layer: None,
            facts: Facts::Content(body.as_bytes().to_vec()),
        }
    }

    /// Catalog `files` as a `dir:` scan of a source tree sees them.
    fn run(files: &[(&str, &str)]) -> Output {
        run_in(Scope::Directory, files)
    }

    fn run_in(scope: Scope, files: &[(&str, &str)]) -> Output {
        let mut index = FileIndex::with_scope(scope);
        for (p, b) in files {
            assert!(wants(p), "{p}");
            index.insert(rec(p, b));
        }
        let mut out = Output::default();
        catalog(&index, &mut out);
        out
    }

    fn npm(p: &Package) -> &NpmMetadata {
        match &p.metadata {
            PackageMetadata::Npm(m) => m,
            _ => panic!("not npm metadata"),
        }
    }

    #[test]
    fn wants_packages_projects_and_locks() {
        let yes = [
            "/app/node_modules/a/package.json",
            "/app/node_modules/@s/b/package.json",
            "/app/node_modules/a/node_modules/c/package.json",
            "/node_modules/a/package.json",
            "/app/node_modules/.pnpm/a@1.0.0/node_modules/a/package.json",
            "/app/package.json",
            "/app/package-lock.json",
            "/app/npm-shrinkwrap.json",
            "/src/yarn.lock",
            "/src/pnpm-lock.yaml",
        ];
        let no = [
            "/app/node_modules/a/lib/package.json",
            "/app/node_modules/@s/b/sub/package.json",
            "/app/node_modules/@s/package.json",
            "/app/node_modules/package.json",
            "/app/node_modules/.package-lock.json",
            "/app/node_modules/a/package-lock.json",
            "/app/node_modules/a/yarn.lock",
            "/app/packagejson",
            "package.json",
        ];
        for p in yes {
            assert!(wants(p), "{p}");
        }
        for p in no {
            assert!(!wants(p), "{p}");
        }
    }

    /// The node-app image against its `npm query` ground truth.
    #[test]
    fn node_app_matches_truth() {
        let Some(truth) = bosun_testutil::fixture("truth/node-app.json") else {
            return;
        };
        let Some(index) = crate::python::test_image_index("node-app", wants) else {
            return;
        };
        let truth: Value = serde_json::from_slice(&std::fs::read(truth).unwrap()).unwrap();
        let mut want = BTreeSet::new();
        for p in truth["packages"].as_array().unwrap() {
            if p["ecosystem"] == "npm" {
                want.insert((
                    p["name"].as_str().unwrap().to_string(),
                    p["version"].as_str().unwrap().to_string(),
                    p["path"].as_str().unwrap().to_string(),
                    p["root_project"].as_bool().unwrap_or(false),
                ));
            }
        }
        assert_eq!(want.len(), 54);
        let mut out = Output::default();
        catalog(&index, &mut out);
        assert!(out.unknowns.is_empty(), "{:?}", out.unknowns);
        let got: BTreeSet<_> = out
            .packages
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.version.clone(),
                    parent(&p.locations[0].path).to_string(),
                    npm(p).root_project,
                )
            })
            .collect();
        assert_eq!(got.len(), out.packages.len(), "each installed copy once");
        assert_eq!(got, want);
        // The lock file next to node_modules enriches, never adds.
        let depd = out
            .packages
            .iter()
            .find(|p| {
                p.locations[0].path == "/app/node_modules/raw-body/node_modules/depd/package.json"
            })
            .unwrap();
        assert_eq!(depd.version, "1.1.1");
        assert!(
            npm(depd)
                .integrity
                .as_deref()
                .unwrap()
                .starts_with("sha512-")
        );
        let express = out.packages.iter().find(|p| p.name == "express").unwrap();
        assert_eq!(express.licenses, ["MIT"]);
    }

    /// In an image, a lock file without an installed tree is a build
    /// leftover: nothing from it is reported.
    #[test]
    fn image_scope_ignores_lock_files_without_a_tree() {
        let files = [
            (
                "/src/package-lock.json",
                r#"{"lockfileVersion":3,"packages":{"":{"name":"p","version":"2.0.0"},"node_modules/x":{"version":"1.0.0"}}}"#,
            ),
            ("/src/package.json", r#"{"name":"p","version":"2.0.0"}"#),
        ];
        assert!(run_in(Scope::Image, &files).packages.is_empty());
        assert_eq!(run_in(Scope::Directory, &files).packages.len(), 2);
    }

    /// The image's package-lock.json on its own, as a `dir:` scan of a
    /// checkout without node_modules would see it.
    #[test]
    fn node_app_lock_without_tree() {
        let Some(index) = crate::python::test_image_index("node-app", wants) else {
            return;
        };
        let lock = index.get("/app/package-lock.json").unwrap();
        let text = std::str::from_utf8(lock.content().unwrap()).unwrap();
        // Independent count: each installed path is a `"node_modules/..": {` key.
        let keys: BTreeSet<&str> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("\"node_modules/"))
            .filter(|l| l.ends_with("\": {"))
            .collect();
        let out = run(&[
            ("/src/package-lock.json", text),
            (
                "/src/package.json",
                r#"{"name":"fixture-node-app","version":"1.0.0"}"#,
            ),
        ]);
        assert!(out.unknowns.is_empty());
        let deps: Vec<_> = out
            .packages
            .iter()
            .filter(|p| !npm(p).root_project)
            .collect();
        // Two depd, http-errors, setprototypeof and statuses copies each are
        // distinct versions, so every path stays a package.
        assert_eq!(deps.len(), keys.len());
        assert_eq!(keys.len(), 53);
        let find = |n: &str, v: &str| deps.iter().find(|p| p.name == n && p.version == v);
        assert!(find("depd", "1.1.1").is_some() && find("depd", "1.1.2").is_some());
        assert!(find("express", "4.16.0").is_some());
        assert!(find("minimist", "1.2.0").is_some());
        assert_eq!(find("lodash", "4.17.15").unwrap().licenses, ["MIT"]);
        assert!(
            deps.iter()
                .all(|p| p.locations[0].path == "/src/package-lock.json")
        );
        let roots: Vec<_> = out
            .packages
            .iter()
            .filter(|p| npm(p).root_project)
            .collect();
        assert_eq!(roots.len(), 1);
        assert_eq!(roots[0].locations[0].path, "/src/package.json");
    }

    #[test]
    fn lock_does_not_duplicate_installed_tree() {
        let out = run(&[
            ("/app/package.json", r#"{"name":"app"}"#),
            (
                "/app/yarn.lock",
                "a@^1:\n  version \"1.0.0\"\n  integrity sha512-a\nb@^2:\n  version \"2.0.0\"\n",
            ),
            (
                "/app/node_modules/a/package.json",
                r#"{"name":"a","version":"1.0.0","licenses":[{"type":"MIT"},{"type":"Apache-2.0"}]}"#,
            ),
        ]);
        let got: Vec<_> = out
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(got, [("a", "1.0.0"), ("app", "")]);
        assert_eq!(npm(&out.packages[0]).integrity.as_deref(), Some("sha512-a"));
        assert_eq!(out.packages[0].licenses, ["MIT", "Apache-2.0"]);
        assert!(npm(&out.packages[1]).root_project);
    }

    #[test]
    fn one_lock_per_directory_and_stray_package_json() {
        let out = run(&[
            (
                "/src/package-lock.json",
                r#"{"lockfileVersion":3,"packages":{"":{"name":"p","version":"2.0.0"},"node_modules/x":{"version":"1.0.0"}}}"#,
            ),
            (
                "/src/yarn.lock",
                "x@^1:\n  version \"1.0.0\"\ny@^1:\n  version \"1.0.0\"\n",
            ),
            (
                "/usr/share/doc/thing/package.json",
                r#"{"name":"thing","version":"9"}"#,
            ),
        ]);
        let got: Vec<_> = out
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), npm(p).root_project))
            .collect();
        assert_eq!(got, [("p", "2.0.0", true), ("x", "1.0.0", false)]);
    }

    #[test]
    fn license_forms() {
        let l = |s: &str| licenses(&serde_json::from_str(s).unwrap());
        assert_eq!(l(r#"{"license":"MIT"}"#), ["MIT"]);
        assert_eq!(l(r#"{"license":{"type":"ISC","url":"u"}}"#), ["ISC"]);
        assert_eq!(
            l(r#"{"licenses":{"type":"BSD-3-Clause"}}"#),
            ["BSD-3-Clause"]
        );
        assert_eq!(l(r#"{"licenses":["MIT", {"type":"MIT"}]}"#), ["MIT"]);
        assert!(l(r#"{"license":"SEE LICENSE IN LICENSE.md"}"#).is_empty());
        assert!(l(r#"{"license":"UNLICENSED"}"#).is_empty());
        assert!(l(r#"{"license":7}"#).is_empty());
    }

    #[test]
    fn hostile_input_is_unknown_not_panic() {
        let deep = "[".repeat(200_000);
        let out = run(&[
            ("/app/package.json", "{not json"),
            ("/app/package-lock.json", &deep),
            (
                "/app/node_modules/a/package.json",
                r#"{"name":"a","version":1.5}"#,
            ),
            ("/app/node_modules/b/package.json", r#"["array"]"#),
            ("/app/node_modules/c/package.json", r#"{"name":"c"}"#),
            (
                "/app/node_modules/d/package.json",
                r#"{"name":"d","version":"1.0.0"}"#,
            ),
            ("/w/pnpm-lock.yaml", "packages:\n  - [[[[[[\n"),
            ("/y/yarn.lock", "\u{0}\u{1}\u{2}"),
            (
                "/z/yarn.lock",
                "__metadata:\n  version: 8\n\"a@npm:1\": &x\n  version: *x\n",
            ),
        ]);
        let names: Vec<_> = out.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["d"]);
        let bad: BTreeSet<_> = out.unknowns.iter().map(|u| u.path.as_str()).collect();
        let want: BTreeSet<_> = [
            "/app/package.json",
            "/app/package-lock.json",
            "/app/node_modules/a/package.json",
            "/app/node_modules/b/package.json",
            "/w/pnpm-lock.yaml",
            "/z/yarn.lock",
        ]
        .into_iter()
        .collect();
        assert_eq!(bad, want);
        // Non-UTF-8 lock files are errors too.
        let mut index = FileIndex::new();
        index.insert(FileRecord {
            path: "/q/pnpm-lock.yaml".into(),
            layer: None,
            facts: Facts::Content(vec![0xff, 0xfe, b':']),
        });
        let mut out = Output::default();
        catalog(&index, &mut out);
        assert_eq!(out.unknowns.len(), 1);
    }

    #[test]
    fn project_of_paths() {
        assert_eq!(project_of("/app/node_modules/a/node_modules/b"), "/app");
        assert_eq!(project_of("/node_modules/a"), "");
    }
}
