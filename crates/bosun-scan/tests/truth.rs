//! Every fixture image, catalogued, must give exactly the package set the
//! native tools report (fixtures/truth/<image>.json): nothing missing,
//! nothing invented, each installed copy once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use bosun_core::PackageMetadata;
use bosun_scan::{Quiet, ScanOptions, Target, scan};

/// (ecosystem, name, version, source name, source version) -> paths.
type PackageSet = BTreeMap<(String, String, String, String, String), Vec<String>>;

fn truth_set(truth: &serde_json::Value) -> PackageSet {
    let mut set = PackageSet::new();
    for p in truth["packages"].as_array().unwrap() {
        let s = |k: &str| p[k].as_str().unwrap_or("").to_string();
        let eco = s("ecosystem");
        let (src, srcv) = if eco == "deb" || eco == "rpm" {
            (s("source_name"), s("source_version"))
        } else {
            (String::new(), String::new())
        };
        set.entry((eco, s("name"), s("version"), src, srcv))
            .or_default()
            .push(s("path"));
    }
    set
}

fn scanned_set(catalog: &bosun_catalog::Catalog) -> PackageSet {
    let mut set = PackageSet::new();
    for p in &catalog.packages {
        let (src, srcv) = match &p.metadata {
            PackageMetadata::Dpkg(_) | PackageMetadata::Rpm(_) => {
                let (a, b) = p.source().unwrap();
                (a.to_string(), b.to_string())
            }
            _ => (String::new(), String::new()),
        };
        let path = p
            .locations
            .first()
            .map(|l| l.path.clone())
            .unwrap_or_default();
        set.entry((
            p.kind.purl_type().to_string(),
            p.name.clone(),
            p.version.clone(),
            src,
            srcv,
        ))
        .or_default()
        .push(path);
    }
    set
}

/// The truth names a package by its directory (`.dist-info`, `node_modules/x`,
/// `/var/lib/rpm`); bosun by the file it read inside it.
fn same_path(truth: &str, ours: &str) -> bool {
    ours == truth
        || ours
            .strip_prefix(truth)
            .is_some_and(|rest| rest.starts_with('/'))
}

fn check(image: &str, target: Target) {
    let Some(truth_file) = bosun_testutil::fixture(&format!("truth/{image}.json")) else {
        return;
    };
    check_against(image, &truth_file, target);
}

fn check_against(image: &str, truth_file: &Path, target: Target) {
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(truth_file).unwrap()).unwrap();
    let scanned =
        scan(&target, &ScanOptions::default(), &Quiet).unwrap_or_else(|e| panic!("{image}: {e}"));
    let want = truth_set(&truth);
    let got = scanned_set(&scanned.catalog);
    let missing: Vec<_> = want.keys().filter(|k| !got.contains_key(*k)).collect();
    let invented: Vec<_> = got.keys().filter(|k| !want.contains_key(*k)).collect();
    assert!(
        missing.is_empty() && invented.is_empty(),
        "{image}: missing {missing:#?}\ninvented {invented:#?}"
    );
    for (k, truth_paths) in &want {
        let ours = &got[k];
        assert_eq!(
            truth_paths.len(),
            ours.len(),
            "{image}: {k:?} copies: truth {truth_paths:?}, bosun {ours:?}"
        );
        for t in truth_paths {
            assert!(
                ours.iter().any(|o| same_path(t, o)),
                "{image}: {k:?} truth path {t} not among {ours:?}"
            );
        }
    }
    // Every package says where it was found, in which layer, and by whom.
    let layers: Vec<String> = truth["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["diff_id"].as_str().unwrap().to_string())
        .collect();
    for p in &scanned.catalog.packages {
        assert!(!p.purl.is_empty() && !p.found_by.is_empty(), "{p:?}");
        let layer = p.locations[0].layer.as_ref().map(|d| d.to_string());
        assert!(
            layer.is_some_and(|l| layers.contains(&l)),
            "{image}: {} has no layer of the image",
            p.name
        );
    }
    // Language packages the truth says an OS package owns carry that relationship.
    for p in truth["packages"].as_array().unwrap() {
        let Some(owner) = p["owned_by"].as_str() else {
            continue;
        };
        let owner_name = owner.trim_start_matches("dpkg:").split(':').next().unwrap();
        let ours = scanned
            .catalog
            .packages
            .iter()
            .find(|q| {
                q.name == p["name"].as_str().unwrap()
                    && same_path(p["path"].as_str().unwrap(), &q.locations[0].path)
            })
            .unwrap();
        let owned = scanned.catalog.relationships.iter().any(|r| {
            r.from == ours.id
                && scanned
                    .catalog
                    .packages
                    .iter()
                    .any(|o| o.id == r.to && o.name == owner_name)
        });
        assert!(
            owned,
            "{image}: {} at {} should be owned by {owner}",
            ours.name, p["path"]
        );
    }
}

fn oci(image: &str) -> Option<Target> {
    let dir = bosun_testutil::fixture(&format!("images/oci/{image}"))?;
    Some(Target::parse(&format!("oci:{}", dir.display())).unwrap())
}

macro_rules! truth_tests {
    ($($name:ident => $image:literal),* $(,)?) => {$(
        #[test]
        fn $name() {
            if let Some(t) = oci($image) {
                check($image, t);
            }
        }
    )*};
}

truth_tests! {
    debian_minbase => "debian-minbase",
    python_app => "python-app",
    node_app => "node-app",
    go_binary => "go-binary",
    rust_binary => "rust-binary",
    java_app => "java-app",
    rpm => "rpm",
    secrets => "secrets",
}

#[test]
fn docker_archive_gives_the_same_packages() {
    let Some(tar) = bosun_testutil::fixture("images/docker-archive/java-app.tar") else {
        return;
    };
    check(
        "java-app",
        Target::parse(&format!("docker-archive:{}", tar.display())).unwrap(),
    );
    let plain = Target::parse(&tar.display().to_string()).unwrap();
    assert!(matches!(plain, Target::DockerArchive { .. }));
}

#[test]
fn oci_archive_gives_the_same_packages() {
    let Some(dir) = bosun_testutil::fixture("images/oci/node-app") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("node-app.tar");
    let status = std::process::Command::new("tar")
        .args([
            "-cf",
            archive.to_str().unwrap(),
            "-C",
            dir.to_str().unwrap(),
            ".",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    check(
        "node-app",
        Target::parse(&format!("oci-archive:{}", archive.display())).unwrap(),
    );
    check(
        "node-app",
        Target::parse(&format!("oci-archive:{}:latest", archive.display())).unwrap(),
    );
}

/// The large benchmark image is not a committed fixture; when it has been
/// built (`build-images.sh --large`), point BOSUN_LARGE_IMAGE at its layout.
/// A rebuild installs whatever versions the Debian mirror serves that day,
/// so the truth must come from the same build: run `truth.sh` on it and
/// name the result with BOSUN_LARGE_TRUTH (default: the shared truth, which
/// is only right for the very image it was made from).
#[test]
fn large_image_when_built() {
    let Some(dir) = std::env::var_os("BOSUN_LARGE_IMAGE") else {
        eprintln!(
            "BOSUN_LARGE_IMAGE not set: the large image is not checked (see this test's comment)"
        );
        return;
    };
    let truth = match std::env::var_os("BOSUN_LARGE_TRUTH") {
        Some(t) => std::path::PathBuf::from(t),
        None => bosun_testutil::fixture("truth/large.json").unwrap(),
    };
    check_against(
        "large",
        &truth,
        Target::parse(&format!("oci:{}", Path::new(&dir).display())).unwrap(),
    );
}

/// Each Debian package is attributed to the layer that installed it, as
/// `dpkg-query` run on every layer's own copy of the status file says: the
/// first layer of the unbroken run of layers whose database lists it.
#[test]
fn deb_packages_carry_the_layer_that_installed_them() {
    use std::io::Read;
    let Some(dir) = bosun_testutil::fixture("images/oci/python-app") else {
        return;
    };
    let truth: serde_json::Value = serde_json::from_slice(
        &std::fs::read(bosun_testutil::fixture("truth/python-app.json").unwrap()).unwrap(),
    )
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // (layer diff_id, installed name=version set) for every layer that rewrote the status file.
    let mut versions: Vec<(String, std::collections::BTreeSet<String>)> = Vec::new();
    for (i, l) in truth["layers"].as_array().unwrap().iter().enumerate() {
        let blob = dir
            .join("blobs/sha256")
            .join(l["digest"].as_str().unwrap().trim_start_matches("sha256:"));
        let raw = std::fs::read(blob).unwrap();
        let tar_bytes: Vec<u8> = if l["mediaType"].as_str().unwrap().ends_with("zstd") {
            zstd::decode_all(&raw[..]).unwrap()
        } else {
            let mut v = Vec::new();
            flate2::read::GzDecoder::new(&raw[..])
                .read_to_end(&mut v)
                .unwrap();
            v
        };
        let mut ar = tar::Archive::new(&tar_bytes[..]);
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let p = e
                .path()
                .unwrap()
                .to_string_lossy()
                .trim_start_matches("./")
                .to_string();
            if p != "var/lib/dpkg/status" {
                continue;
            }
            let admin = tmp.path().join(format!("admin{i}"));
            std::fs::create_dir_all(admin.join("updates")).unwrap();
            std::fs::create_dir_all(admin.join("info")).unwrap();
            let mut body = Vec::new();
            e.read_to_end(&mut body).unwrap();
            std::fs::write(admin.join("status"), body).unwrap();
            let out = std::process::Command::new("dpkg-query")
                .arg(format!("--admindir={}", admin.display()))
                .args(["-W", "-f", "${db:Status-Abbrev} ${Package} ${Version}\n"])
                .output()
                .expect("dpkg-query (Debian's dpkg) must be installed");
            let set = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| l.starts_with("ii") || l.starts_with("hi"))
                .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join("="))
                .collect();
            versions.push((l["diff_id"].as_str().unwrap().to_string(), set));
        }
    }
    assert!(
        versions.len() >= 2,
        "python-app rewrites the status file in several layers"
    );
    let scanned = scan(&oci("python-app").unwrap(), &ScanOptions::default(), &Quiet).unwrap();
    let mut distinct = std::collections::BTreeSet::new();
    for p in scanned
        .catalog
        .packages
        .iter()
        .filter(|p| p.kind.purl_type() == "deb")
    {
        let key = format!("{}={}", p.name, p.version);
        let mut want = None;
        for (layer, set) in versions.iter().rev() {
            if set.contains(&key) {
                want = Some(layer.clone());
            } else {
                break;
            }
        }
        let got = p.locations[0].layer.as_ref().map(|d| d.to_string());
        assert_eq!(got, want, "{key}");
        distinct.insert(got);
    }
    assert!(distinct.len() >= 2, "packages come from several layers");
}
