//! Building the database from the real feeds in ../shared/vulndata and
//! opening it, including damaged files.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use bosun_vulndb::build::build;
use bosun_vulndb::model::{ecosystem_base, normalize_name};
use bosun_vulndb::store::{Db, DbError};

/// (ecosystem, normalised name) -> affected entries, counted straight from
/// the zips with serde_json, skipping withdrawn records and ids seen before.
fn count_affected(vulndata: &Path) -> HashMap<(String, String), usize> {
    let mut seen = std::collections::HashSet::new();
    let mut counts = HashMap::new();
    let mut ecos: Vec<_> = std::fs::read_dir(vulndata.join("osv"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    ecos.sort();
    for dir in ecos {
        let f = std::fs::File::open(dir.join("all.zip")).unwrap();
        let mut z = zip::ZipArchive::new(f).unwrap();
        for i in 0..z.len() {
            let mut e = z.by_index(i).unwrap();
            let mut s = String::new();
            e.read_to_string(&mut s).unwrap();
            let v: serde_json::Value = serde_json::from_str(&s).unwrap();
            if v.get("withdrawn").is_some() || !seen.insert(v["id"].as_str().unwrap().to_string()) {
                continue;
            }
            for a in v["affected"].as_array().into_iter().flatten() {
                let eco = a["package"]["ecosystem"].as_str().unwrap().to_string();
                let name =
                    normalize_name(ecosystem_base(&eco), a["package"]["name"].as_str().unwrap());
                *counts.entry((eco, name)).or_default() += 1;
            }
        }
    }
    counts
}

#[test]
fn builds_from_shared_vulndata_and_reads_back() {
    let Some(vulndata) = bosun_testutil::shared("vulndata") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("vuln.db");
    let report = build(&vulndata, &db_path, 1_700_000_000).unwrap();
    let db = Db::open(&db_path).unwrap();
    assert_eq!(db.metadata().built, 1_700_000_000);
    let names: Vec<&str> = db
        .metadata()
        .sources
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    for want in [
        "osv-Debian",
        "osv-Go",
        "osv-Maven",
        "osv-PyPI",
        "osv-RubyGems",
        "osv-crates.io",
        "osv-npm",
        "kev",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let kev = db
        .metadata()
        .sources
        .iter()
        .find(|s| s.name == "kev")
        .unwrap();
    assert_eq!(kev.records, 1404);
    assert_eq!(kev.version.as_deref(), Some("2025.08.25"));
    assert!(
        db.kev("CVE-2021-44228").unwrap().is_some(),
        "Log4Shell is in KEV"
    );
    assert!(report.size > 0);

    let expected = count_affected(&vulndata);
    let total: usize = expected.values().sum();
    assert_eq!(db.counts().unwrap().affected as usize, total);
    for ((eco, name), n) in expected
        .iter()
        .filter(|((e, _), _)| e == "PyPI" || e == "Debian:12")
        .take(400)
    {
        assert!(db.has(eco, name), "{eco}/{name}");
        assert_eq!(db.affected(eco, name).unwrap().len(), *n, "{eco}/{name}");
    }
    assert!(!db.has("PyPI", "no-such-package-anywhere"));
    // Aliases lead back to the advisory.
    let keys = db.advisories_by_id("CVE-2021-33503").unwrap();
    assert!(
        !keys.is_empty(),
        "urllib3's CVE-2021-33503 resolves through aliases"
    );
    let a = db.advisory(keys[0]).unwrap();
    assert!(a.aliases.iter().any(|x| x == "CVE-2021-33503") || a.id == "CVE-2021-33503");
}

#[test]
fn rebuild_replaces_atomically_under_an_open_reader() {
    let Some(vulndata) = bosun_testutil::shared("vulndata") else {
        return;
    };
    let feeds = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(feeds.path().join("osv/npm")).unwrap();
    std::fs::copy(
        vulndata.join("osv/npm/all.zip"),
        feeds.path().join("osv/npm/all.zip"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("vuln.db");
    build(feeds.path(), &db_path, 1).unwrap();
    let old = Db::open(&db_path).unwrap();
    assert!(old.has("npm", "lodash"));
    std::fs::create_dir_all(feeds.path().join("osv/Maven")).unwrap();
    std::fs::copy(
        vulndata.join("osv/Maven/all.zip"),
        feeds.path().join("osv/Maven/all.zip"),
    )
    .unwrap();
    build(feeds.path(), &db_path, 2).unwrap();
    // The reader keeps its snapshot; a new open sees the new file.
    assert!(!old.affected("npm", "lodash").unwrap().is_empty());
    let new = Db::open(&db_path).unwrap();
    assert_eq!(new.metadata().built, 2);
    assert!(new.has("Maven", "org.yaml:snakeyaml"));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        leftovers,
        vec![std::ffi::OsString::from("vuln.db")],
        "no temporary files left"
    );
}

#[test]
fn damaged_files_are_refused_at_open() {
    let Some(vulndata) = bosun_testutil::shared("vulndata/osv/npm/all.zip") else {
        return;
    };
    let feeds = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(feeds.path().join("osv/npm")).unwrap();
    std::fs::copy(&vulndata, feeds.path().join("osv/npm/all.zip")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("vuln.db");
    build(feeds.path(), &good, 1).unwrap();
    let bytes = std::fs::read(&good).unwrap();

    let missing = Db::open(&dir.path().join("nope.db")).unwrap_err();
    assert!(matches!(missing, DbError::Missing(_)), "{missing}");

    let truncated = dir.path().join("truncated.db");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let e = Db::open(&truncated).unwrap_err();
    assert!(matches!(e, DbError::Corrupt { .. }), "{e}");
    assert!(e.to_string().contains("truncated"), "{e}");

    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x5a; 8192]).unwrap();
    assert!(matches!(
        Db::open(&garbage).unwrap_err(),
        DbError::NotADatabase { .. }
    ));

    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(
        Db::open(&empty).unwrap_err(),
        DbError::NotADatabase { .. }
    ));

    // A page in the middle overwritten: open may pass the cheap checks, but
    // the full check names the damage and reads fail cleanly, never panic.
    let scribbled = dir.path().join("scribbled.db");
    let mut b = bytes.clone();
    let mid = b.len() / 2;
    b[mid..mid + 4096].fill(0xff);
    std::fs::write(&scribbled, &b).unwrap();
    if let Ok(db) = Db::open(&scribbled) {
        assert!(db.verify().is_err());
    }

    // Another schema version is refused with advice.
    let other = dir.path().join("other.db");
    std::fs::write(&other, &bytes).unwrap();
    {
        let c = rusqlite::Connection::open(&other).unwrap();
        let meta: String = c
            .query_row("SELECT value FROM meta WHERE key='metadata'", [], |r| {
                r.get(0)
            })
            .unwrap();
        let meta = meta.replacen("\"schema_version\":1", "\"schema_version\":99", 1);
        c.execute("UPDATE meta SET value = ?1 WHERE key = 'metadata'", [meta])
            .unwrap();
    }
    let e = Db::open(&other).unwrap_err();
    assert!(matches!(e, DbError::SchemaVersion { found: 99, .. }), "{e}");
}

/// EPSS scores in the feed directory reach the database, with the score
/// date as the source's version (the file written in FIRST's published
/// layout: a `#model_version,score_date` line, then `cve,epss,percentile`).
#[test]
fn epss_scores_are_loaded() {
    use std::io::Write as _;
    let feeds = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(feeds.path().join("epss")).unwrap();
    let csv = "#model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z\ncve,epss,percentile\nCVE-2021-44228,0.94358,0.99957\nCVE-2019-12308,0.00278,0.50921\n";
    let f = std::fs::File::create(feeds.path().join("epss/epss_scores-current.csv.gz")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::default());
    gz.write_all(csv.as_bytes()).unwrap();
    gz.finish().unwrap();
    let db_path = feeds.path().join("vuln.db");
    build(feeds.path(), &db_path, 0).unwrap();
    let db = Db::open(&db_path).unwrap();
    let e = db.epss("CVE-2021-44228").unwrap().unwrap();
    assert!((e.score - 0.94358).abs() < 1e-9 && (e.percentile - 0.99957).abs() < 1e-9);
    assert!(db.epss("CVE-2000-0001").unwrap().is_none());
    let src = db
        .metadata()
        .sources
        .iter()
        .find(|s| s.name == "epss")
        .unwrap();
    assert_eq!(src.records, 2);
    assert!(src.version.as_deref().unwrap().starts_with("2025-08-25"));
}
