use std::io::Read;

use super::*;
use crate::Facts;
use bosun_testutil::fixture;

fn index_with(path: &str, bytes: Vec<u8>) -> FileIndex {
    let mut ix = FileIndex::new();
    ix.insert(FileRecord {
        path: path.to_string(),
        layer: None,
        facts: Facts::Content(bytes),
    });
    ix
}

fn run(path: &str, bytes: Vec<u8>) -> Output {
    let mut out = Output::default();
    catalog(&index_with(path, bytes), &mut out);
    out
}

fn meta(p: &Package) -> &RpmMetadata {
    match &p.metadata {
        PackageMetadata::Rpm(m) => m,
        other => panic!("not rpm metadata: {other:?}"),
    }
}

/// epoch, name, version, release, arch, sourcerpm, size, license, vendor,
/// modularity label, as `rpm -qa --qf` prints them ("" / "(none)" = unset).
type Row = [String; 10];

fn row_of(p: &Package) -> Row {
    let m = meta(p);
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        m.epoch.map(|e| e.to_string()).unwrap_or_default(),
        p.name.clone(),
        m.version.clone(),
        m.release.clone(),
        m.architecture.clone(),
        m.source_rpm.clone().unwrap_or_else(|| "(none)".into()),
        m.size.map(|s| s.to_string()).unwrap_or_default(),
        p.licenses.join(" "),
        opt(&m.vendor),
        opt(&m.modularity_label),
    ]
}

/// Rows of an expected file; `label_col` is where the modularity label
/// column is (only the go-rpmdb test extract has it).
fn expected_rows(psv: &str, label_col: Option<usize>) -> Vec<Row> {
    let mut rows: Vec<Row> = psv
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('¶').collect();
            let g = |i: usize| f.get(i).copied().unwrap_or_default().to_string();
            let label = label_col.map(g).unwrap_or_default();
            [g(0), g(1), g(2), g(3), g(4), g(5), g(6), g(7), g(8), label]
        })
        .filter(|r| r[1] != "gpg-pubkey")
        .collect();
    rows.sort();
    rows
}

fn check_db(rel: &str, expected: &str, path: &str, label_col: Option<usize>) {
    let (Some(db), Some(exp)) = (fixture(rel), fixture(expected)) else {
        return;
    };
    let out = run(path, std::fs::read(db).unwrap());
    assert!(out.unknowns.is_empty(), "{rel}: {:?}", out.unknowns);
    let mut got: Vec<Row> = out.packages.iter().map(row_of).collect();
    got.sort();
    let want = expected_rows(&std::fs::read_to_string(exp).unwrap(), label_col);
    assert!(!want.is_empty());
    assert_eq!(got, want, "{rel}");
    for p in &out.packages {
        let m = meta(p);
        assert_eq!(p.version, format!("{}-{}", m.version, m.release));
        assert_eq!(
            p.locations,
            vec![bosun_core::Location {
                path: path.into(),
                layer: None
            }]
        );
        assert_eq!(p.found_by, CATALOGER_ID);
    }
}

const RPM: &str = "files/pkgdb/rpm/";

#[test]
fn sqlite_databases_match_rpm_qa() {
    for (db, path) in [
        (
            "go-rpmdb/amazonlinux2023-plain.rpmdb.sqlite",
            "/var/lib/rpm/rpmdb.sqlite",
        ),
        (
            "go-rpmdb/cbl-mariner-2.0.rpmdb.sqlite",
            "/usr/lib/sysimage/rpm/rpmdb.sqlite",
        ),
        (
            "openshift-preflight/fedora36-tzdata-only.rpmdb.sqlite",
            "/var/lib/rpm/rpmdb.sqlite",
        ),
    ] {
        let exp = format!("{RPM}{db}.expected-rpm-qa.psv");
        check_db(&format!("{RPM}{db}"), &exp, path, None);
    }
}

#[test]
fn bdb_databases_match_rpm_qa() {
    for db in [
        "go-rpmdb/rhel8-libuuid-only.Packages",
        "openshift-preflight/ubi7-tzdata-only.Packages",
        "osv-scalibr/hello-epoch.Packages",
        "syft/centos8-dive-only.Packages",
    ] {
        let exp = format!("{RPM}{db}.expected-rpm-qa.psv");
        check_db(&format!("{RPM}{db}"), &exp, "/var/lib/rpm/Packages", None);
    }
}

#[test]
fn ndb_databases_match_rpm_qa() {
    let db = "go-rpmdb/sle15-bci-cee58d9.Packages.db";
    let exp = format!("{RPM}{db}.expected-rpm-qa.psv");
    check_db(
        &format!("{RPM}{db}"),
        &exp,
        "/usr/lib/sysimage/rpm/Packages.db",
        None,
    );
    let db = "go-rpmdb/sle15-bci.Packages.db";
    let exp = format!("{RPM}{db}.expected-from-go-test.psv");
    check_db(
        &format!("{RPM}{db}"),
        &exp,
        "/var/lib/rpm/Packages.db",
        Some(9),
    );
}

#[test]
fn file_lists_are_absolute() {
    let Some(db) = fixture(&format!(
        "{RPM}openshift-preflight/fedora36-tzdata-only.rpmdb.sqlite"
    )) else {
        return;
    };
    let out = run("/var/lib/rpm/rpmdb.sqlite", std::fs::read(db).unwrap());
    let files = &meta(&out.packages[0]).files;
    assert!(files.len() > 100, "{}", files.len());
    assert!(files.iter().all(|f| f.starts_with('/')));
    assert!(
        files.iter().any(|f| f == "/usr/share/zoneinfo/UTC"),
        "{files:?}"
    );
    let m = meta(&out.packages[0]);
    assert_eq!(
        (m.source_name.as_str(), m.source_version.as_str()),
        ("tzdata", "2022a-2.fc36")
    );
}

#[test]
fn broken_databases_are_unknowns() {
    for (db, path) in [
        (
            "openshift-preflight/corrupt-8bytes.Packages",
            "/var/lib/rpm/Packages",
        ),
        (
            "openshift-preflight/bdb-empty-no-packages.Packages",
            "/var/lib/rpm/Packages",
        ),
        (
            "openshift-preflight/sqlite-corrupt.rpmdb.sqlite",
            "/var/lib/rpm/rpmdb.sqlite",
        ),
        (
            "openshift-preflight/sqlite-no-packages-table.rpmdb.sqlite",
            "/var/lib/rpm/rpmdb.sqlite",
        ),
        // A database under the wrong format's name.
        (
            "syft/centos8-dive-only.Packages",
            "/var/lib/rpm/Packages.db",
        ),
        (
            "osv-scalibr/hello-epoch.Packages",
            "/var/lib/rpm/rpmdb.sqlite",
        ),
    ] {
        let Some(f) = fixture(&format!("{RPM}{db}")) else {
            return;
        };
        let out = run(path, std::fs::read(f).unwrap());
        assert!(out.packages.is_empty(), "{db}");
        assert_eq!(out.unknowns.len(), 1, "{db}: {:?}", out.unknowns);
        assert_eq!(out.unknowns[0].cataloger, CATALOGER_ID);
    }
}

/// The image's rpmdb.sqlite, taken from its layers, against `rpm -qa`.
#[test]
fn rpm_image_matches_truth() {
    let (Some(image), Some(truth)) = (fixture("images/oci/rpm"), fixture("truth/rpm.json")) else {
        return;
    };
    let blob = |digest: &str| {
        let hex = digest.strip_prefix("sha256:").unwrap();
        std::fs::read(image.join("blobs/sha256").join(hex)).unwrap()
    };
    let json = |b: Vec<u8>| serde_json::from_slice::<serde_json::Value>(&b).unwrap();
    let index = json(std::fs::read(image.join("index.json")).unwrap());
    let manifest = json(blob(index["manifests"][0]["digest"].as_str().unwrap()));
    let mut db = None;
    for layer in manifest["layers"].as_array().unwrap() {
        let gz = blob(layer["digest"].as_str().unwrap());
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(&gz[..]));
        for entry in tar.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            if path.trim_start_matches("./") == "var/lib/rpm/rpmdb.sqlite" {
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).unwrap();
                db = Some(bytes);
            }
        }
    }
    let out = run(
        "/var/lib/rpm/rpmdb.sqlite",
        db.expect("rpmdb.sqlite in the layers"),
    );
    assert!(out.unknowns.is_empty(), "{:?}", out.unknowns);
    let truth = json(std::fs::read(truth).unwrap());
    let mut want: Vec<[String; 7]> = truth["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["ecosystem"] == "rpm")
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap().to_string();
            [
                s("name"),
                s("version"),
                p["epoch"].to_string(),
                s("arch"),
                s("source_rpm"),
                s("source_name"),
                s("source_version"),
            ]
        })
        .collect();
    let mut got: Vec<[String; 7]> = out
        .packages
        .iter()
        .map(|p| {
            let m = meta(p);
            // truth's version carries a non-zero epoch as `E:`; none here.
            [
                p.name.clone(),
                p.version.clone(),
                m.epoch.unwrap_or(0).to_string(),
                m.architecture.clone(),
                m.source_rpm.clone().unwrap_or_default(),
                m.source_name.clone(),
                m.source_version.clone(),
            ]
        })
        .collect();
    want.sort();
    got.sort();
    assert_eq!(want.len(), 3);
    for p in truth["packages"].as_array().unwrap() {
        let dir = p["path"].as_str().unwrap();
        assert_eq!(
            format!("{dir}/rpmdb.sqlite"),
            out.packages[0].locations[0].path
        );
    }
    assert_eq!(got, want);
}

#[test]
fn mariner_manifest() {
    let Some(f) = fixture(&format!(
        "{RPM}syft/cbl-mariner2-distroless.container-manifest-2"
    )) else {
        return;
    };
    let out = run(MANIFEST, std::fs::read(f).unwrap());
    assert!(out.unknowns.is_empty());
    let names: Vec<&str> = out.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "mariner-release",
            "filesystem",
            "glibc",
            "openssl-libs",
            "vim"
        ]
    );
    let vim = meta(&out.packages[4]);
    assert_eq!(vim.epoch, Some(2));
    assert_eq!(out.packages[4].version, "9.0-1.cm2");
    assert_eq!(
        (vim.source_name.as_str(), vim.source_version.as_str()),
        ("vim", "9.0-1.cm2")
    );
    assert_eq!(meta(&out.packages[0]).epoch, None);
    assert_eq!(meta(&out.packages[2]).size, Some(10855265));
    let out = run(
        MANIFEST,
        b"garbage\n\t1-2\nname\tnodash\n\n\xff\t1-2\t\t\t\tx\n".to_vec(),
    );
    assert_eq!(out.unknowns.len(), 3, "{:?}", out.unknowns);
    assert_eq!(out.packages.len(), 1);
    assert_eq!(meta(&out.packages[0]).epoch, None);
}

#[test]
fn wanted_paths() {
    for p in [
        "/var/lib/rpm/rpmdb.sqlite",
        "/var/lib/rpm/Packages",
        "/var/lib/rpm/Packages.db",
        "/usr/lib/sysimage/rpm/rpmdb.sqlite",
        "/usr/lib/sysimage/rpm/Packages",
        "/usr/lib/sysimage/rpm/Packages.db",
        MANIFEST,
    ] {
        assert!(wants(p), "{p}");
    }
    for p in [
        "/var/lib/rpm/Name",
        "/var/lib/rpm/rpmdb.sqlite-wal",
        "/var/lib/rpm/sub/Packages",
        "/opt/var/lib/rpm/Packages",
        "/Packages",
        "/usr/lib/sysimage/rpm/container-manifest-2",
    ] {
        assert!(!wants(p), "{p}");
    }
}

#[test]
fn source_rpm_names() {
    assert_eq!(
        split_source_rpm("util-linux-2.32.1-42.el8_8.src.rpm"),
        Some(("util-linux", "2.32.1-42.el8_8"))
    );
    assert_eq!(split_source_rpm("a-1-2.nosrc.rpm"), Some(("a", "1-2")));
    for bad in ["x.src.rpm", "1-2.src.rpm", "-1-2.src.rpm", "a-1-2.rpm", ""] {
        assert_eq!(split_source_rpm(bad), None, "{bad}");
    }
}

/// Cut at each position `at` and flip bits of the byte there:
/// errors or packages, never a panic.
fn mangle(bytes: &[u8], at: impl Iterator<Item = usize> + Clone, mut f: impl FnMut(&[u8])) {
    for cut in at.clone() {
        f(&bytes[..cut]);
    }
    let mut b = bytes.to_vec();
    for i in at {
        for bit in [0x01u8, 0x80] {
            b[i] ^= bit;
            f(&b);
            b[i] ^= bit;
        }
        let saved = b[i];
        b[i] = 0xff;
        f(&b);
        b[i] = saved;
    }
}

#[test]
fn mangled_headers_never_panic() {
    let Some(db) = fixture(&format!("{RPM}syft/centos8-dive-only.Packages")) else {
        return;
    };
    let records = bdb::read(&std::fs::read(db).unwrap()).unwrap();
    let blob = records.into_iter().next().unwrap().unwrap();
    assert!(package(&blob).unwrap().is_some());
    let mut errors = 0;
    mangle(&blob, 0..blob.len(), |b| {
        errors += usize::from(package(b).is_err())
    });
    assert!(errors > blob.len(), "truncations must fail: {errors}");
}

#[test]
fn mangled_databases_never_panic() {
    type Reader = fn(&[u8]) -> Result<Records, String>;
    // (file, reader, how many leading bytes to mangle exhaustively: the
    // metadata and slot/bucket pages that steer the walk).
    let cases: [(&str, Reader, usize); 4] = [
        ("syft/centos8-dive-only.Packages", bdb::read, 16384),
        ("osv-scalibr/hello-epoch.Packages", bdb::read, 8192),
        ("go-rpmdb/sle15-bci.Packages.db", ndb::read, 512),
        (
            "openshift-preflight/fedora36-tzdata-only.rpmdb.sqlite",
            sqlite::read,
            0,
        ),
    ];
    for (db, read, head) in cases {
        let Some(f) = fixture(&format!("{RPM}{db}")) else {
            return;
        };
        let bytes = std::fs::read(f).unwrap();
        let parse_all = |b: &[u8]| {
            if let Ok(records) = read(b) {
                for r in records.into_iter().flatten() {
                    let _ = package(&r);
                }
            }
        };
        let step = (bytes.len() / 200).max(1);
        mangle(&bytes, (0..bytes.len()).step_by(step), parse_all);
        mangle(&bytes, 0..head.min(bytes.len()), |b| drop(read(b)));
    }
}

#[test]
fn hostile_headers() {
    use header::tests::blob;
    let evr = |e: &[u8]| {
        blob(&[
            (header::NAME, 6, 1, b"x\0"),
            (header::VERSION, 6, 1, b"1\0"),
            (header::RELEASE, 6, 1, b"2\0"),
            (header::EPOCH, 4, 1, e),
            (header::BASENAMES, 8, 1, b"f\0"),
            (header::DIRINDEXES, 4, 1, &9u32.to_be_bytes()),
            (header::DIRNAMES, 8, 1, b"/d/\0"),
        ])
    };
    // DIRINDEXES pointing past DIRNAMES is an error, not a panic.
    assert!(
        package(&evr(&0u32.to_be_bytes()))
            .unwrap_err()
            .contains("DIRINDEXES")
    );
    let gpg = blob(&[(header::NAME, 6, 1, b"gpg-pubkey\0")]);
    assert_eq!(package(&gpg).unwrap(), None);
    assert!(
        package(&blob(&[(header::NAME, 6, 1, b"x\0")]))
            .unwrap_err()
            .contains("VERSION")
    );
}

/// A hash page full of items of a type rpm never writes: every record
/// fails, and only the first few become unknowns.
#[test]
fn many_bad_records_are_capped() {
    const PS: usize = 4096;
    let mut db = vec![0u8; 2 * PS];
    db[12..16].copy_from_slice(&0x0006_1561u32.to_le_bytes());
    db[20..24].copy_from_slice(&(PS as u32).to_le_bytes());
    db[96..100].copy_from_slice(&1u32.to_le_bytes()); // bucket 0 -> page 1
    let page = &mut db[PS..];
    page[25] = 13;
    let items = 400usize;
    page[20..22].copy_from_slice(&(items as u16).to_le_bytes());
    for i in 0..items {
        let at = PS - 5 * (i + 1);
        page[26 + 2 * i..28 + 2 * i].copy_from_slice(&(at as u16).to_le_bytes());
        page[at] = if i % 2 == 0 { 1 } else { 2 };
        page[at + 1] = 1;
    }
    let out = run("/var/lib/rpm/Packages", db);
    assert!(out.packages.is_empty());
    assert_eq!(out.unknowns.len(), MAX_UNKNOWNS + 1);
    assert!(
        out.unknowns[MAX_UNKNOWNS].message.starts_with("180 more"),
        "{:?}",
        out.unknowns
    );
}
