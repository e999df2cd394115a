//! Debian security tracker states through the whole path: the tracker JSON
//! in a feed directory -> the database -> findings for installed packages.
//! Expectations come from the raw JSON and `dpkg --compare-versions`.

use std::collections::BTreeMap;
use std::process::Command;

use bosun_core::{Distro, DpkgMetadata, Location, Package, PackageKind, PackageMetadata};
use bosun_sbom::{Sbom, SourceInfo, SourceKind, Tool};
use bosun_vuln::Status;
use bosun_vuln::matcher::Matcher;
use bosun_vulndb::Db;
use serde_json::Value;

fn dpkg_lt(a: &str, b: &str) -> bool {
    Command::new("dpkg")
        .args(["--compare-versions", a, "lt", b])
        .status()
        .unwrap()
        .success()
}

fn deb(name: &str, source: &str, version: &str) -> Package {
    Package {
        id: format!("deb-{name}"),
        name: name.into(),
        version: version.into(),
        kind: PackageKind::Deb,
        purl: format!("pkg:deb/debian/{name}@{version}"),
        licenses: vec![],
        locations: vec![Location {
            path: "/var/lib/dpkg/status".into(),
            layer: None,
        }],
        found_by: "test".into(),
        metadata: PackageMetadata::Dpkg(DpkgMetadata {
            source: source.into(),
            source_version: version.into(),
            architecture: "amd64".into(),
            ..Default::default()
        }),
    }
}

#[test]
fn tracker_states_become_findings() {
    let Some(sample) = bosun_testutil::shared(
        "vulndata/debian/tracker-json-samples/osvdev-debian_security_tracker_mock.json",
    ) else {
        return;
    };
    if Command::new("dpkg").arg("--version").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "dpkg is needed under CI");
        return;
    }
    let feeds = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(feeds.path().join("debian")).unwrap();
    std::fs::copy(&sample, feeds.path().join("debian/tracker.json")).unwrap();
    let db_path = feeds.path().join("vuln.db");
    bosun_vulndb::build::build(feeds.path(), &db_path, 0).unwrap();
    let db = Db::open(&db_path).unwrap();

    let raw: Value = serde_json::from_slice(&std::fs::read(&sample).unwrap()).unwrap();
    let (pkg, cves) = raw.as_object().unwrap().iter().next().unwrap();
    let installed = "3.0.8-3"; // bookworm's version in the sample's repositories
    // CVE -> (expected status, fixed version)
    let mut want: BTreeMap<String, (Status, Option<String>)> = BTreeMap::new();
    for (cve, info) in cves.as_object().unwrap() {
        let Some(r) = info["releases"].get("bookworm") else {
            continue;
        };
        let fixed = r["fixed_version"].as_str();
        match r["status"].as_str().unwrap() {
            "resolved" => {
                let f = fixed.unwrap();
                if f != "0" && dpkg_lt(installed, f) {
                    want.insert(cve.clone(), (Status::Fixed, Some(f.to_string())));
                }
            }
            "open" | "undetermined" => {
                let wont = r.get("nodsa").is_some() || r["urgency"] == "end-of-life";
                want.insert(
                    cve.clone(),
                    (
                        if wont {
                            Status::WontFix
                        } else {
                            Status::Unfixed
                        },
                        None,
                    ),
                );
            }
            other => panic!("sample has status {other}"),
        }
    }
    assert!(!want.is_empty());

    let sbom = Sbom {
        tool: Tool {
            name: "test".into(),
            version: "0".into(),
        },
        created: 0,
        source: SourceInfo {
            kind: SourceKind::Image,
            target: "test".into(),
            name: "test".into(),
            version: None,
            image: None,
        },
        distro: Some(Distro {
            id: "debian".into(),
            version_id: Some("12".into()),
            ..Default::default()
        }),
        packages: vec![deb(&format!("lib{pkg}1"), pkg, installed)],
        relationships: vec![],
        unknowns: vec![],
    };
    let (findings, _) = Matcher::new(&db).match_sbom(&sbom).unwrap();
    let got: BTreeMap<String, (Status, Option<String>)> = findings
        .iter()
        .map(|f| (f.id.clone(), (f.status, f.fixed_versions.first().cloned())))
        .collect();
    assert_eq!(got, want);
    for f in &findings {
        assert_eq!(f.matched.name, *pkg, "matched through the source package");
        if f.status != Status::Fixed {
            let note = f.status_note.as_deref().unwrap_or("");
            assert!(
                note.starts_with("debian-tracker:"),
                "{}: note {note:?}",
                f.id
            );
        }
    }
    // A bullseye system sees bullseye's states, not bookworm's.
    let mut eleven = sbom.clone();
    eleven.distro = Some(Distro {
        id: "debian".into(),
        version_id: Some("11".into()),
        ..Default::default()
    });
    eleven.packages = vec![deb(&format!("lib{pkg}1"), pkg, "2.13.6-10")];
    let (f11, _) = Matcher::new(&db).match_sbom(&eleven).unwrap();
    for f in &f11 {
        let r = &cves[&f.id]["releases"]["bullseye"];
        assert_ne!(
            r["fixed_version"], "0",
            "{} is not-affected on bullseye",
            f.id
        );
    }
}
