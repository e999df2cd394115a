//! Image config checks on the real fixture images. What each image's
//! config says (User, Labels, layer sizes) is read straight from its OCI
//! layout, independently of bosun's own image reader.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use bosun_config::Settings;
use bosun_config::image::{BaseFamily, check_image};
use bosun_sbom::ImageMetadata;
use serde_json::Value;

struct Fixture {
    meta: ImageMetadata,
    distro: Option<bosun_core::Distro>,
    packages: Vec<bosun_core::Package>,
    /// The raw OCI config and manifest.
    config: Value,
    manifest: Value,
}

fn blob(dir: &Path, digest: &str) -> Value {
    let hex = digest.strip_prefix("sha256:").unwrap();
    serde_json::from_slice(&std::fs::read(dir.join("blobs/sha256").join(hex)).unwrap()).unwrap()
}

fn load(name: &str) -> Option<Fixture> {
    let dir = bosun_testutil::fixture(&format!("images/oci/{name}"))?;
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let manifest = blob(&dir, index["manifests"][0]["digest"].as_str().unwrap());
    let config = blob(&dir, manifest["config"]["digest"].as_str().unwrap());
    let target = bosun_scan::Target::parse(&format!("oci:{}", dir.display())).unwrap();
    let scanned = bosun_scan::scan(
        &target,
        &bosun_scan::ScanOptions::default(),
        &bosun_scan::Quiet,
    )
    .unwrap();
    let sbom = bosun_scan::to_sbom(scanned, 0);
    Some(Fixture {
        meta: sbom.source.image.clone().unwrap(),
        distro: sbom.distro.clone(),
        packages: sbom.packages,
        config,
        manifest,
    })
}

fn rule_ids(f: &Fixture, settings: &Settings) -> Vec<String> {
    check_image("img", &f.meta, f.distro.as_ref(), &f.packages, settings)
        .findings
        .into_iter()
        .map(|x| x.rule_id)
        .collect()
}

fn runs_as_root(config: &Value) -> bool {
    let user = config["config"]["User"].as_str().unwrap_or("");
    let name = user.split(':').next().unwrap();
    name.is_empty() || name == "root" || name == "0"
}

fn missing_trace_labels(config: &Value) -> bool {
    let labels = &config["config"]["Labels"];
    ["source", "revision", "created"].iter().any(|l| {
        labels
            .get(format!("org.opencontainers.image.{l}"))
            .is_none()
    })
}

#[test]
fn root_user_and_labels_follow_the_image_config() {
    for name in [
        "debian-minbase",
        "go-binary",
        "secrets",
        "python-app",
        "rpm",
    ] {
        let Some(f) = load(name) else { return };
        let ids = rule_ids(&f, &Settings::default());
        assert_eq!(
            ids.contains(&"BOSUN-IMG-001".to_string()),
            runs_as_root(&f.config),
            "{name}: {ids:?}"
        );
        assert_eq!(
            ids.contains(&"BOSUN-IMG-002".to_string()),
            missing_trace_labels(&f.config),
            "{name}: {ids:?}"
        );
    }
}

#[test]
fn size_budget_is_the_sum_of_layer_sizes() {
    let Some(f) = load("python-app") else { return };
    let total: u64 = f.manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["size"].as_u64().unwrap())
        .sum();
    let mb = total / 1_000_000;
    let under = Settings {
        image_size_budget_mb: mb + 1,
        ..Settings::default()
    };
    assert!(!rule_ids(&f, &under).contains(&"BOSUN-IMG-003".to_string()));
    let over = Settings {
        image_size_budget_mb: mb.saturating_sub(1),
        ..Settings::default()
    };
    let r = check_image("img", &f.meta, f.distro.as_ref(), &f.packages, &over);
    let size = r
        .findings
        .iter()
        .find(|x| x.rule_id == "BOSUN-IMG-003")
        .unwrap();
    assert!(
        size.message.starts_with(&format!("{mb} MB")),
        "{}",
        size.message
    );
    assert_eq!(size.location.path.as_deref(), Some("layers"));
}

#[test]
fn base_images_are_identified() {
    let Some(deb) = load("debian-minbase") else {
        return;
    };
    let r = check_image(
        "img",
        &deb.meta,
        deb.distro.as_ref(),
        &deb.packages,
        &Settings::default(),
    );
    assert_eq!(r.base.family, BaseFamily::Debian);
    assert_eq!(r.base.version.as_deref(), Some("12"));
    assert!(!r.base.claims_distroless);
    let Some(rpm) = load("rpm") else { return };
    let r = check_image(
        "img",
        &rpm.meta,
        rpm.distro.as_ref(),
        &rpm.packages,
        &Settings::default(),
    );
    assert_eq!(
        (r.base.family, r.base.version.as_deref()),
        (BaseFamily::Other, Some("39"))
    );
    // go-binary has no os-release and labels itself "distroless-style".
    let Some(go) = load("go-binary") else { return };
    let r = check_image(
        "img",
        &go.meta,
        go.distro.as_ref(),
        &go.packages,
        &Settings::default(),
    );
    assert_eq!(r.base.family, BaseFamily::Distroless, "{:?}", r.base);
    assert!(
        !r.findings.iter().any(|x| x.rule_id == "BOSUN-IMG-004"),
        "no shell or package manager in go-binary"
    );
}

#[test]
fn shell_in_an_image_claiming_distroless() {
    // A real Debian package set under a label that claims distroless.
    let Some(mut deb) = load("debian-minbase") else {
        return;
    };
    deb.meta.labels.insert(
        "org.opencontainers.image.description".into(),
        "distroless base".into(),
    );
    let r = check_image(
        "img",
        &deb.meta,
        deb.distro.as_ref(),
        &deb.packages,
        &Settings::default(),
    );
    assert!(r.base.claims_distroless);
    let f = r
        .findings
        .iter()
        .find(|x| x.rule_id == "BOSUN-IMG-004")
        .unwrap();
    for p in ["bash", "dash", "dpkg", "apt"] {
        assert!(deb.packages.iter().any(|x| x.name == p));
        assert!(f.message.contains(p), "{}", f.message);
    }
}

#[test]
fn empty_metadata_is_root_without_labels() {
    let meta = ImageMetadata::default();
    let r = check_image("img", &meta, None, &[], &Settings::default());
    assert_eq!(r.base.family, BaseFamily::Scratch);
    let ids: Vec<_> = r.findings.iter().map(|f| f.rule_id.as_str()).collect();
    assert_eq!(ids, ["BOSUN-IMG-001", "BOSUN-IMG-002"]);
    assert_eq!(r.findings[0].location.path.as_deref(), Some("config.User"));
}
