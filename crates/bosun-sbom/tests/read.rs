//! The readers against real documents: bosun's own three formats of every
//! fixture image must read back to what bosun scanned, and Syft's and
//! Trivy's output (tests/data, see its README) must give every package the
//! native tools report (fixtures/truth), with kind, version and source.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

use bosun_core::{Package, PackageMetadata, RelationshipKind};
use bosun_sbom::read::{self, ReadError, SbomFormat};
use bosun_sbom::{Format, Sbom, WriteOptions};
use bosun_scan::{Quiet, ScanOptions, Target, scan, to_sbom};

fn scanned(image: &str) -> Option<Sbom> {
    let dir = bosun_testutil::fixture(&format!("images/oci/{image}"))?;
    let target = Target::parse(&format!("oci:{}", dir.display())).unwrap();
    let s = scan(&target, &ScanOptions::default(), &Quiet).unwrap();
    Some(to_sbom(s, 1_700_000_000))
}

fn write(sbom: &Sbom, format: Format) -> Vec<u8> {
    let mut out = Vec::new();
    bosun_sbom::write(sbom, format, &WriteOptions::default(), &mut out).unwrap();
    out
}

/// What matching needs from a package's metadata: source package, Go role
/// and toolchain.
fn matching_facts(p: &Package) -> String {
    match &p.metadata {
        PackageMetadata::Go(m) => format!("{:?} {}", m.role, m.go_version),
        PackageMetadata::Rpm(m) => format!(
            "{:?} {}-{} {:?} {:?}",
            m.epoch,
            m.version,
            m.release,
            p.source(),
            m.source_rpm
        ),
        _ => format!("{:?}", p.source()),
    }
}

fn owned_by(s: &Sbom) -> BTreeSet<(String, String)> {
    s.relationships
        .iter()
        .filter(|r| r.kind == RelationshipKind::OwnedBy)
        .map(|r| (r.from.clone(), r.to.clone()))
        .collect()
}

/// Write `sbom` in each format and read it back.
fn round_trip(image: &str, sbom: &Sbom) {
    for format in [Format::Json, Format::CycloneDxJson, Format::SpdxJson] {
        let bytes = write(sbom, format);
        let what = format!("{image} {format}");
        let expected = match format {
            Format::Json => SbomFormat::BosunJson,
            Format::CycloneDxJson => SbomFormat::CycloneDxJson,
            _ => SbomFormat::SpdxJson,
        };
        assert_eq!(read::detect(&bytes, &what).unwrap(), expected);
        let back = read::read(&bytes, &what).unwrap_or_else(|e| panic!("{e}"));
        if format == Format::Json {
            assert_eq!(&back, sbom, "{what}");
            continue;
        }
        assert_eq!(back.packages.len(), sbom.packages.len(), "{what}");
        for (want, got) in sbom.packages.iter().zip(&back.packages) {
            let ctx = format!("{what}: {}", want.id);
            assert_eq!(got.id, want.id, "{ctx}");
            assert_eq!(
                (&got.name, &got.version, got.kind, &got.purl),
                (&want.name, &want.version, want.kind, &want.purl),
                "{ctx}"
            );
            assert_eq!(matching_facts(got), matching_facts(want), "{ctx}");
            assert_eq!(got.locations, want.locations, "{ctx}");
            assert_eq!(got.found_by, want.found_by, "{ctx}");
            if format == Format::CycloneDxJson {
                // Everything but file lists, which CycloneDX output leaves out.
                let mut want = want.clone();
                match &mut want.metadata {
                    PackageMetadata::Dpkg(m) => m.files.clear(),
                    PackageMetadata::Rpm(m) => m.files.clear(),
                    PackageMetadata::Apk(m) => m.files.clear(),
                    PackageMetadata::Python(m) => m.files.clear(),
                    _ => {}
                }
                assert_eq!(got.metadata, want.metadata, "{ctx}");
            }
        }
        assert_eq!(owned_by(&back), owned_by(sbom), "{what}");
        assert_eq!(back.unknowns, sbom.unknowns, "{what}");
        let (want, got) = (sbom.distro.as_ref(), back.distro.as_ref());
        if format == Format::CycloneDxJson {
            assert_eq!(got, want, "{what}");
        } else {
            let key = |d: Option<&bosun_core::Distro>| {
                d.map(|d| (d.id.clone(), d.version_id.clone(), d.pretty_name.clone()))
            };
            assert_eq!(key(got), key(want), "{what}");
        }
        assert_eq!(back.source.name, sbom.source.name, "{what}");
        assert_eq!(back.source.kind, sbom.source.kind, "{what}");
        assert_eq!(back.source.target, sbom.source.target, "{what}");
        let digest = |s: &Sbom| {
            s.source
                .image
                .as_ref()
                .and_then(|i| i.manifest_digest.clone())
        };
        assert_eq!(digest(&back), digest(sbom), "{what}");
        assert_eq!(
            (&back.tool, back.created),
            (&sbom.tool, sbom.created),
            "{what}"
        );
    }
}

macro_rules! round_trips {
    ($($name:ident => $image:literal),* $(,)?) => {$(
        #[test]
        fn $name() {
            if let Some(sbom) = scanned($image) {
                round_trip($image, &sbom);
            }
        }
    )*};
}

round_trips! {
    round_trip_debian_minbase => "debian-minbase",
    round_trip_python_app => "python-app",
    round_trip_node_app => "node-app",
    round_trip_go_binary => "go-binary",
    round_trip_rust_binary => "rust-binary",
    round_trip_java_app => "java-app",
    round_trip_rpm => "rpm",
    round_trip_secrets => "secrets",
}

/// No fixture has an OS package owning a language package (only the large
/// image does), so give python-app one: Django's files belonging to the
/// python3.11 package.
#[test]
fn owned_by_round_trips() {
    let Some(mut sbom) = scanned("python-app") else {
        return;
    };
    let id = |name: &str| {
        sbom.packages
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.id.clone())
            .unwrap()
    };
    let (django, python) = (id("Django"), id("python3.11"));
    sbom.relationships.push(bosun_core::Relationship {
        from: django,
        to: python,
        kind: RelationshipKind::OwnedBy,
    });
    round_trip("python-app+owned-by", &sbom);
}

/// Every kind of unknown survives every format: an incomplete analysis
/// read back from an SBOM must still gate a scan of that SBOM.
#[test]
fn unknown_kinds_round_trip() {
    use bosun_core::{Unknown, UnknownKind};
    let Some(mut sbom) = scanned("debian-minbase") else {
        return;
    };
    for (i, kind) in [
        UnknownKind::Unparsed,
        UnknownKind::Incomplete,
        UnknownKind::Suspicious,
        UnknownKind::Lossy,
    ]
    .into_iter()
    .enumerate()
    {
        sbom.unknowns.push(Unknown {
            path: format!("/var/lib/dpkg/status{i}"),
            layer: None,
            cataloger: "dpkg".into(),
            message: format!("{} case", kind.as_str()),
            kind,
        });
    }
    sbom.unknowns.sort();
    round_trip("debian-minbase+unknowns", &sbom);
}

// ---------------------------------------------------------------------------
// Syft and Trivy.

fn data(file: &str) -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let plain = dir.join(file);
    if plain.exists() {
        return std::fs::read(plain).unwrap();
    }
    let gz = dir.join(format!("{file}.gz"));
    let out = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(&gz)
        .output()
        .unwrap();
    assert!(out.status.success(), "gzip -dc {}", gz.display());
    out.stdout
}

/// Where a tool's output knowingly differs from the truth, with the reason.
fn known_deviation(file: &str, name: &str) -> Option<&'static str> {
    match (file, name) {
        (f, "github.com/evanw/esbuild") if f.starts_with("syft-") => {
            Some("Syft gives a (devel) main module the pseudo-version of its vcs stamp")
        }
        (f, "github.com/junegunn/fzf") if f.starts_with("syft-") => {
            Some("Syft calls a main module without a version (devel)")
        }
        (f, "github.com/evanw/esbuild") if f.starts_with("trivy-") => {
            Some("Trivy gives a (devel) main module no version")
        }
        (f, "github.com/junegunn/fzf") if f.starts_with("trivy-") => {
            Some("Trivy leaves out a main module without a version")
        }
        _ => None,
    }
}

fn check_third_party(file: &str, image: &str) {
    let Some(truth) = bosun_testutil::fixture(&format!("truth/{image}.json")) else {
        return;
    };
    let truth: serde_json::Value = serde_json::from_slice(&std::fs::read(truth).unwrap()).unwrap();
    let sbom = read::read(&data(file), file).unwrap_or_else(|e| panic!("{e}"));
    let truth_pkgs = truth["packages"].as_array().unwrap();
    // go-binary has an os-release but no package database: Trivy and
    // Syft's SPDX then name no distro.
    if truth_pkgs.iter().any(|t| t["ecosystem"] == "deb") {
        let distro = sbom.distro.as_ref().expect("distro");
        assert_eq!(distro.id, "debian", "{file}");
        let v = distro.version_id.as_deref().unwrap_or_default();
        assert!(
            v == "12" || v.starts_with("12."),
            "{file}: distro version {v}"
        );
    }

    for t in truth_pkgs {
        let s = |k: &str| t[k].as_str().unwrap_or_default();
        let (eco, name, version) = (s("ecosystem"), s("name"), s("version"));
        let ctx = format!("{file}: {eco} {name} {version}");
        let candidates: Vec<&Package> = sbom
            .packages
            .iter()
            .filter(|p| p.kind.purl_type() == eco && same_name(eco, &p.name, name))
            .collect();
        let exact = candidates.iter().find(|p| p.version == version);
        let found = match (exact, known_deviation(file, name)) {
            (Some(p), _) => p,
            (None, Some(why)) => {
                eprintln!("{ctx}: version not checked: {why}");
                match candidates.first() {
                    Some(p) => p,
                    None => continue,
                }
            }
            (None, None) => panic!("{ctx}: not found among {candidates:?}"),
        };
        if eco == "deb" {
            assert_eq!(
                found.source(),
                Some((s("source_name"), s("source_version"))),
                "{ctx}"
            );
        }
        if eco == "golang" {
            let PackageMetadata::Go(m) = &found.metadata else {
                panic!("{ctx}: {:?}", found.metadata)
            };
            assert_eq!(format!("{:?}", m.role).to_lowercase(), s("role"), "{ctx}");
            // The toolchain is the version of the binary's stdlib.
            let stdlib = truth_pkgs
                .iter()
                .find(|o| o["name"] == "stdlib" && o["path"] == t["path"])
                .unwrap();
            assert_eq!(m.go_version, stdlib["version"].as_str().unwrap(), "{ctx}");
            assert_eq!(found.locations[0].path, s("path"), "{ctx}");
        }
    }
    // Nothing but what the truth lists.
    for p in &sbom.packages {
        assert!(
            truth_pkgs
                .iter()
                .any(|t| t["ecosystem"] == p.kind.purl_type()
                    && same_name(p.kind.purl_type(), &p.name, t["name"].as_str().unwrap())),
            "{file}: extra package {}",
            p.name
        );
    }
}

/// Syft writes PyPI names normalised (PEP 503), as matching compares them.
fn same_name(eco: &str, a: &str, b: &str) -> bool {
    if eco == "pypi" {
        bosun_core::purl::pypi_name(a) == bosun_core::purl::pypi_name(b)
    } else {
        a == b
    }
}

macro_rules! third_party {
    ($($name:ident => $file:literal, $image:literal),* $(,)?) => {$(
        #[test]
        fn $name() {
            check_third_party($file, $image);
        }
    )*};
}

third_party! {
    syft_cyclonedx_debian_minbase => "syft-debian-minbase.cdx.json", "debian-minbase",
    syft_spdx_debian_minbase => "syft-debian-minbase.spdx.json", "debian-minbase",
    syft_cyclonedx_python_app => "syft-python-app.cdx.json", "python-app",
    syft_spdx_python_app => "syft-python-app.spdx.json", "python-app",
    syft_cyclonedx_go_binary => "syft-go-binary.cdx.json", "go-binary",
    syft_spdx_go_binary => "syft-go-binary.spdx.json", "go-binary",
    trivy_cyclonedx_debian_minbase => "trivy-debian-minbase.cdx.json", "debian-minbase",
    trivy_spdx_debian_minbase => "trivy-debian-minbase.spdx.json", "debian-minbase",
    trivy_cyclonedx_python_app => "trivy-python-app.cdx.json", "python-app",
    trivy_spdx_python_app => "trivy-python-app.spdx.json", "python-app",
    trivy_cyclonedx_go_binary => "trivy-go-binary.cdx.json", "go-binary",
    trivy_spdx_go_binary => "trivy-go-binary.spdx.json", "go-binary",
}

// ---------------------------------------------------------------------------
// Hostile input.

#[test]
fn truncated_and_mangled_documents_never_panic() {
    let Some(sbom) = scanned("go-binary") else {
        return;
    };
    for format in [Format::Json, Format::CycloneDxJson, Format::SpdxJson] {
        let bytes = write(&sbom, format);
        for cut in (0..bytes.len()).step_by(97) {
            assert!(read::read(&bytes[..cut], "cut").is_err());
        }
        // Every string value replaced by a long or empty one, in turn.
        let text = String::from_utf8(bytes).unwrap();
        for (i, _) in text.match_indices("\": \"").step_by(7) {
            for junk in ["", "%%%pkg:", "\u{1b}[31m"] {
                let mangled = format!("{}\": \"{junk}{}", &text[..i], &text[i + 4..]);
                let _ = read::read(mangled.as_bytes(), "mangled");
            }
        }
    }
    let err = read::read(b"\xff\xfe", "bin").unwrap_err();
    assert!(matches!(err, ReadError::NotJson { .. }), "{err}");
    assert!(err.to_string().starts_with("bin: "), "{err}");
}
