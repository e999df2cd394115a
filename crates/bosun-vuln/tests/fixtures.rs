//! Every fixture image scanned against a database built from all of
//! ../shared/vulndata gives exactly the findings the independent oracle
//! (tests/oracle/expected.py, driving dpkg, packaging, node-semver, Go's
//! x/mod/semver and Maven's ComparableVersion) derived from the advisories.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::OnceLock;

use bosun_core::PackageKind;
use bosun_scan::{Quiet, ScanOptions, Target};
use bosun_vuln::matcher::Matcher;
use bosun_vuln::{Finding, MatchKind, Status};
use bosun_vulndb::Db;

/// The database, built once per test binary.
fn db_path() -> Option<&'static PathBuf> {
    static DB: OnceLock<Option<(tempfile::TempDir, PathBuf)>> = OnceLock::new();
    DB.get_or_init(|| {
        let vulndata = bosun_testutil::shared("vulndata")?;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vuln.db");
        bosun_vulndb::build::build(&vulndata, &path, 0).unwrap();
        Some((dir, path))
    })
    .as_ref()
    .map(|(_, p)| p)
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    ecosystem: String,
    /// The binary package for OS packages, else the matched name.
    package: String,
    matched: String,
    installed: String,
}

struct Row {
    advisory: String,
    fixed: BTreeSet<String>,
    how: String,
}

fn oracle() -> BTreeMap<String, BTreeMap<Key, Vec<Row>>> {
    let text = include_str!("oracle/expected.tsv");
    let mut out: BTreeMap<String, BTreeMap<Key, Vec<Row>>> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 9, "oracle row {line:?}");
        let os = f[1].starts_with("Debian:");
        let key = Key {
            ecosystem: f[1].into(),
            package: if os { f[2].into() } else { f[4].into() },
            matched: f[4].into(),
            installed: f[3].into(),
        };
        let row = Row {
            advisory: f[5].into(),
            fixed: f[7]
                .split(',')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            how: f[8].into(),
        };
        out.entry(f[0].into())
            .or_default()
            .entry(key)
            .or_default()
            .push(row);
    }
    out
}

fn key_of(f: &Finding) -> Key {
    Key {
        ecosystem: f.matched.ecosystem.clone(),
        package: if f.package.kind.is_os() {
            f.package.name.clone()
        } else {
            f.matched.name.clone()
        },
        matched: f.matched.name.clone(),
        installed: f.installed_version.clone(),
    }
}

fn findings(image: &str) -> Option<Vec<Finding>> {
    let db = Db::open(db_path()?).unwrap();
    let dir = bosun_testutil::fixture(&format!("images/oci/{image}"))?;
    let target = Target::parse(&format!("oci:{}", dir.display())).unwrap();
    let scanned = bosun_scan::scan(&target, &ScanOptions::default(), &Quiet).unwrap();
    let sbom = bosun_scan::to_sbom(scanned, 0);
    let (findings, _) = Matcher::new(&db).match_sbom(&sbom).unwrap();
    Some(findings)
}

fn check(image: &str) {
    let Some(found) = findings(image) else { return };
    let all = oracle();
    let empty = BTreeMap::new();
    let want = all.get(image).unwrap_or(&empty);
    let mut got: BTreeMap<Key, Vec<&Finding>> = BTreeMap::new();
    for f in &found {
        got.entry(key_of(f)).or_default().push(f);
    }
    let mut problems = Vec::new();
    for (k, rows) in want {
        let ours = got.get(k).map(Vec::as_slice).unwrap_or(&[]);
        for r in rows {
            match ours.iter().find(|f| f.ids().any(|i| i == r.advisory)) {
                None => problems.push(format!("missing {} for {k:?}", r.advisory)),
                Some(f) => {
                    // Our fix is the nearest one above the installed version,
                    // one of those the oracle lists for the affecting ranges.
                    if !f
                        .fixed_versions
                        .iter()
                        .all(|v| r.fixed.contains(v) || rows.iter().any(|o| o.fixed.contains(v)))
                    {
                        problems.push(format!(
                            "{}: fixed {:?} not among {:?}",
                            r.advisory, f.fixed_versions, r.fixed
                        ));
                    }
                    if r.fixed.is_empty() != (f.status != Status::Fixed) {
                        problems.push(format!(
                            "{}: status {:?} but oracle fixed {:?}",
                            r.advisory, f.status, r.fixed
                        ));
                    }
                    let how = match f.matched.kind {
                        MatchKind::ExactPackage => "exact",
                        MatchKind::SourcePackage => "source-package",
                        MatchKind::GoStdlib => "go-stdlib",
                    };
                    // The oracle calls every deb match source-package, even
                    // when source and binary share a name.
                    if how != r.how
                        && !(r.how == "source-package" && f.package.kind == PackageKind::Deb)
                    {
                        problems.push(format!("{}: matched {how}, oracle {}", r.advisory, r.how));
                    }
                }
            }
        }
    }
    for (k, fs) in &got {
        let rows = want.get(k).map(Vec::as_slice).unwrap_or(&[]);
        for f in fs {
            if !rows.iter().any(|r| f.ids().any(|i| i == r.advisory)) {
                problems.push(format!("invented {} ({:?}) for {k:?}", f.id, f.aliases));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{image}: {} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // One finding per vulnerability and package: no two findings of one
    // package share an id.
    let mut seen = BTreeSet::new();
    for f in &found {
        for id in f.ids() {
            assert!(
                seen.insert((f.package.id.clone(), id.to_string())),
                "{image}: {id} twice for {}",
                f.package.id
            );
        }
    }
}

#[test]
fn debian_minbase() {
    check("debian-minbase");
}

#[test]
fn python_app() {
    check("python-app");
}

#[test]
fn node_app() {
    check("node-app");
}

#[test]
fn java_app() {
    check("java-app");
}

#[test]
fn go_binary() {
    check("go-binary");
}

#[test]
fn rust_binary() {
    check("rust-binary");
}

#[test]
fn rpm_and_secrets_have_nothing_to_match() {
    check("rpm");
    check("secrets");
}

/// A language package an OS package installed is matched once, through the
/// OS package: mark python-app's urllib3 as owned by a deb and its PyPI
/// findings go, while every other package keeps its own.
#[test]
fn os_owned_language_packages_defer_to_the_owner() {
    let Some(path) = db_path() else { return };
    let Some(dir) = bosun_testutil::fixture("images/oci/python-app") else {
        return;
    };
    let db = Db::open(path).unwrap();
    let target = Target::parse(&format!("oci:{}", dir.display())).unwrap();
    let mut sbom = bosun_scan::to_sbom(
        bosun_scan::scan(&target, &ScanOptions::default(), &Quiet).unwrap(),
        0,
    );
    let (before, _) = Matcher::new(&db).match_sbom(&sbom).unwrap();
    let urllib3 = sbom
        .packages
        .iter()
        .find(|p| p.name == "urllib3")
        .unwrap()
        .id
        .clone();
    let owner = sbom
        .packages
        .iter()
        .find(|p| p.kind == PackageKind::Deb)
        .unwrap()
        .id
        .clone();
    assert!(before.iter().any(|f| f.package.id == urllib3));
    sbom.relationships.push(bosun_core::Relationship {
        from: urllib3.clone(),
        to: owner,
        kind: bosun_core::RelationshipKind::OwnedBy,
    });
    let (after, _) = Matcher::new(&db).match_sbom(&sbom).unwrap();
    assert!(!after.iter().any(|f| f.package.id == urllib3));
    let others = |fs: &[Finding]| fs.iter().filter(|f| f.package.id != urllib3).count();
    assert_eq!(others(&before), others(&after));
}
