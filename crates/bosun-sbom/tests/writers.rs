//! The four writers over one realistic document, with the standard formats
//! validated against the official CycloneDX 1.6 and SPDX 2.3 schemas in
//! ../shared/schemas.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use bosun_core::package::{
    DpkgMetadata, GoMetadata, GoModuleRole, JavaMetadata, NpmMetadata, PythonMetadata, RustMetadata,
};
use bosun_core::{
    Digest, Distro, Location, Package, PackageKind, PackageMetadata, Relationship,
    RelationshipKind, Unknown,
};
use bosun_sbom::{
    Format, HistoryEntry, ImageMetadata, LayerInfo, Sbom, SbomError, SourceInfo, SourceKind, Tool,
    WriteOptions,
};
use serde_json::Value;

// ---------------------------------------------------------------- the document

fn digest(s: &str) -> Digest {
    Digest::sha256_of(s.as_bytes())
}

fn loc(path: &str, layer: &str) -> Location {
    Location {
        path: path.to_string(),
        layer: Some(digest(layer)),
    }
}

fn pkg(
    kind: PackageKind,
    name: &str,
    version: &str,
    licenses: &[&str],
    locations: Vec<Location>,
    found_by: &str,
    metadata: PackageMetadata,
) -> Package {
    Package {
        id: String::new(),
        name: name.to_string(),
        version: version.to_string(),
        kind,
        purl: String::new(),
        licenses: licenses.iter().map(|s| s.to_string()).collect(),
        locations,
        found_by: found_by.to_string(),
        metadata,
    }
}

fn debian() -> Distro {
    Distro {
        id: "debian".into(),
        version_id: Some("12".into()),
        version_codename: Some("bookworm".into()),
        pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
        id_like: vec![],
    }
}

/// A Debian image with a Node app, a Go binary, a Spring Boot jar and a Rust
/// binary: the cases each writer has to get right.
fn sample() -> Sbom {
    let distro = debian();
    let mut packages = vec![
        pkg(
            PackageKind::Deb,
            "zlib1g",
            "1:1.2.13.dfsg-1",
            &["Zlib"],
            vec![
                loc("/var/lib/dpkg/status", "base"),
                loc("/usr/share/doc/zlib1g/copyright", "base"),
            ],
            "dpkg-db-cataloger",
            PackageMetadata::Dpkg(DpkgMetadata {
                source: "zlib".into(),
                source_version: "1:1.2.13.dfsg-1".into(),
                architecture: "amd64".into(),
                maintainer: Some("Mark Brown <broonie@debian.org>".into()),
                installed_size_kib: Some(168),
                files: vec!["/usr/lib/x86_64-linux-gnu/libz.so.1.2.13".into()],
            }),
        ),
        pkg(
            PackageKind::Deb,
            "python3-six",
            "1.16.0-4",
            // Debian's copyright short name, not an SPDX identifier.
            &["Expat"],
            vec![loc("/var/lib/dpkg/status", "base")],
            "dpkg-db-cataloger",
            PackageMetadata::Dpkg(DpkgMetadata {
                source: "six".into(),
                source_version: "1.16.0-4".into(),
                architecture: "all".into(),
                maintainer: Some("Debian Python Team <team+python@tracker.debian.org>".into()),
                installed_size_kib: Some(52),
                files: vec!["/usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO".into()],
            }),
        ),
        pkg(
            PackageKind::Python,
            "six",
            "1.16.0",
            &["MIT"],
            vec![loc("/usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO", "base")],
            "python-installed-cataloger",
            PackageMetadata::Python(PythonMetadata {
                site_dir: "/usr/lib/python3/dist-packages".into(),
                installer: None,
                files: vec![],
            }),
        ),
        pkg(
            PackageKind::Npm,
            "@babel/core",
            "7.24.0",
            &["MIT"],
            vec![loc("/app/node_modules/@babel/core/package.json", "app")],
            "npm-installed-cataloger",
            PackageMetadata::Npm(NpmMetadata {
                resolved: Some("https://registry.npmjs.org/@babel/core/-/core-7.24.0.tgz".into()),
                integrity: Some("sha512-fQfkg0Gjkza3nf0c7/w6Xf34BW4YvzNfACRLmmb7XRLa6XHdR+K9AlJlxneFfWYf6uhOzuzZVTjF/8KfndZANw==".into()),
                ..Default::default()
            }),
        ),
        pkg(
            PackageKind::Npm,
            "semver",
            "6.3.1",
            &["ISC"],
            vec![loc("/app/node_modules/semver/package.json", "app")],
            "npm-installed-cataloger",
            PackageMetadata::Npm(NpmMetadata::default()),
        ),
        pkg(
            PackageKind::GoModule,
            "stdlib",
            "go1.22.1",
            &["BSD-3-Clause"],
            vec![loc("/usr/local/bin/server", "go")],
            "go-binary-cataloger",
            PackageMetadata::Go(GoMetadata {
                role: GoModuleRole::Stdlib,
                go_version: "go1.22.1".into(),
                main_module: Some("example.com/server".into()),
                h1_digest: None,
                replaced_by: None,
                build_settings: vec![],
            }),
        ),
        pkg(
            PackageKind::GoModule,
            "github.com/spf13/cobra",
            "v1.8.0",
            &["Apache-2.0"],
            vec![loc("/usr/local/bin/server", "go")],
            "go-binary-cataloger",
            PackageMetadata::Go(GoMetadata {
                role: GoModuleRole::Dep,
                go_version: "go1.22.1".into(),
                main_module: Some("example.com/server".into()),
                h1_digest: Some("h1:7aJaZx1B85qltLMc546zn58BxxfZdR/W22ej9CFoEf0=".into()),
                replaced_by: None,
                build_settings: vec![("GOOS".into(), "linux".into())],
            }),
        ),
        pkg(
            PackageKind::Java,
            "b",
            "2.0.0",
            &["Apache-2.0"],
            vec![loc("/app/a.jar!/BOOT-INF/lib/b.jar", "app")],
            "java-archive-cataloger",
            PackageMetadata::Java(JavaMetadata {
                group_id: Some("org.example".into()),
                artifact_id: Some("b".into()),
                virtual_path: "/app/a.jar!/BOOT-INF/lib/b.jar".into(),
                evidence: "META-INF/maven/org.example/b/pom.properties".into(),
                sha1: Some("0a4bc7ea1d8d2ff1d4e4e6c2a8c5e3f8a4b0c1d2".into()),
            }),
        ),
        pkg(
            PackageKind::RustCrate,
            "serde",
            "1.0.197",
            &["MIT OR Apache-2.0"],
            vec![loc("/usr/local/bin/tool", "rust")],
            "cargo-auditable-binary-cataloger",
            PackageMetadata::Rust(RustMetadata {
                source: "crates.io".into(),
                checksum: Some(
                    "3fb1c873e1b9b056a4dc4c0c198b24c3ffa059243875552b2bd0933b1aee4ce2".into(),
                ),
                dependency_kind: Some("runtime".into()),
                root_project: false,
            }),
        ),
    ];
    for p in &mut packages {
        p.purl = p.compute_purl(Some(&distro));
        let h = Digest::sha256_of(format!("{}|{}", p.purl, p.found_by).as_bytes());
        p.id = format!("{}-{}", p.kind.purl_type(), &h.hex()[..16]);
    }
    let id = |name: &str| packages.iter().find(|p| p.name == name).unwrap().id.clone();
    let relationships = vec![
        Relationship {
            from: id("six"),
            to: id("python3-six"),
            kind: RelationshipKind::OwnedBy,
        },
        Relationship {
            from: id("@babel/core"),
            to: id("semver"),
            kind: RelationshipKind::DependsOn,
        },
    ];
    let image = ImageMetadata {
        manifest_digest: Some(digest("manifest")),
        manifest_media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        config_digest: Some(digest("config")),
        os: "linux".into(),
        architecture: "amd64".into(),
        variant: None,
        user: Some("10001".into()),
        env_names: vec!["PATH".into(), "NODE_VERSION".into()],
        labels: BTreeMap::from([
            (
                "org.opencontainers.image.source".into(),
                "https://example.invalid/app".into(),
            ),
            ("org.opencontainers.image.version".into(), "1.4.2".into()),
        ]),
        exposed_ports: vec!["8080/tcp".into()],
        entrypoint: vec![
            "/usr/local/bin/server".into(),
            "--listen".into(),
            ":8080".into(),
        ],
        cmd: vec![],
        working_dir: Some("/app".into()),
        created: Some("2024-03-01T12:00:00Z".into()),
        layers: ["base", "app", "go", "rust"]
            .iter()
            .map(|l| LayerInfo {
                media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
                digest: digest(&format!("{l}.tar.gz")),
                diff_id: digest(l),
                size: 1234,
            })
            .collect(),
        history: vec![
            HistoryEntry {
                created: Some("2024-02-13T00:00:00Z".into()),
                created_by: Some("/bin/sh -c #(nop) ADD file:abc in / ".into()),
                comment: None,
                empty_layer: false,
            },
            HistoryEntry {
                created: Some("2024-03-01T12:00:00Z".into()),
                created_by: Some("ENV NODE_VERSION=20.11.1".into()),
                comment: Some("buildkit.dockerfile.v0".into()),
                empty_layer: true,
            },
        ],
        tags: vec!["1.4.2".into()],
    };
    Sbom {
        tool: Tool {
            name: "bosun".into(),
            version: "0.1.0".into(),
        },
        created: 1_709_294_400,
        source: SourceInfo {
            kind: SourceKind::Image,
            target: "oci:/images/app:1.4.2".into(),
            name: "example/app".into(),
            version: Some("1.4.2".into()),
            image: Some(image),
        },
        distro: Some(distro),
        packages,
        relationships,
        unknowns: vec![Unknown {
            path: "/app/broken.jar".into(),
            layer: Some(digest("app")),
            cataloger: "java-archive-cataloger".into(),
            message: "zip: central directory truncated".into(),
            kind: Default::default(),
        }],
    }
}

fn render(sbom: &Sbom, format: Format, opts: &WriteOptions) -> Vec<u8> {
    let mut out = Vec::new();
    bosun_sbom::write(sbom, format, opts, &mut out).unwrap();
    out
}

fn json_of(sbom: &Sbom, format: Format) -> Value {
    serde_json::from_slice(&render(sbom, format, &WriteOptions::default())).unwrap()
}

fn text_of(sbom: &Sbom, format: Format) -> String {
    String::from_utf8(render(sbom, format, &WriteOptions::default())).unwrap()
}

// ------------------------------------------------------------------ validation

fn load(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

use bosun_testutil::schema::{errors, validator};

fn assert_valid(v: &jsonschema::Validator, doc: &Value) {
    let errs = errors(v, doc);
    assert!(errs.is_empty(), "schema errors:\n{}", errs.join("\n"));
}

fn assert_invalid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    assert!(
        !v.is_valid(doc),
        "the validator accepted a document with {what}"
    );
}

#[test]
fn cyclonedx_output_is_schema_valid() {
    let Some(v) = validator("cyclonedx-1.6.schema.json") else {
        return;
    };
    assert_valid(&v, &json_of(&sample(), Format::CycloneDxJson));
}

#[test]
fn spdx_output_is_schema_valid() {
    let Some(v) = validator("spdx-2.3.schema.json") else {
        return;
    };
    assert_valid(&v, &json_of(&sample(), Format::SpdxJson));
}

#[test]
fn directory_source_is_schema_valid() {
    let mut sbom = sample();
    sbom.source = SourceInfo {
        kind: SourceKind::Directory,
        target: "dir:.".into(),
        name: "project".into(),
        version: None,
        image: None,
    };
    sbom.distro = None;
    let cdx = json_of(&sbom, Format::CycloneDxJson);
    assert_eq!(cdx["metadata"]["component"]["type"], "file");
    assert_eq!(cdx["metadata"]["component"]["bom-ref"], "source:dir:.");
    let spdx = json_of(&sbom, Format::SpdxJson);
    assert_eq!(spdx["packages"][0]["primaryPackagePurpose"], "FILE");
    if let Some(v) = validator("cyclonedx-1.6.schema.json") {
        assert_valid(&v, &cdx);
    }
    if let Some(v) = validator("spdx-2.3.schema.json") {
        assert_valid(&v, &spdx);
    }
}

#[test]
fn empty_document_is_schema_valid() {
    let mut sbom = sample();
    sbom.packages.clear();
    sbom.relationships.clear();
    sbom.unknowns.clear();
    sbom.distro = None;
    sbom.source.image = Some(ImageMetadata::default());
    if let Some(v) = validator("cyclonedx-1.6.schema.json") {
        assert_valid(&v, &json_of(&sbom, Format::CycloneDxJson));
    }
    if let Some(v) = validator("spdx-2.3.schema.json") {
        assert_valid(&v, &json_of(&sbom, Format::SpdxJson));
    }
    assert_eq!(
        text_of(&sbom, Format::Table),
        "NAME  VERSION  TYPE\n0 packages\n"
    );
}

/// The validation tests above can fail: breaking one field is caught,
/// including in the SPDX license list the CycloneDX schema pulls in by $ref.
#[test]
fn validators_reject_broken_documents() {
    let sbom = sample();
    if let Some(v) = validator("cyclonedx-1.6.schema.json") {
        let good = json_of(&sbom, Format::CycloneDxJson);
        let mut doc = good.clone();
        doc["components"][1]["type"] = "banana".into();
        assert_invalid(&v, &doc, "an unknown component type");
        let mut doc = good.clone();
        doc.as_object_mut().unwrap().remove("bomFormat");
        assert_invalid(&v, &doc, "no bomFormat");
        let mut doc = good.clone();
        doc["specVersion"] = 1.6.into();
        assert_invalid(&v, &doc, "a numeric specVersion");
        let mut doc = good.clone();
        doc["components"][1]["licenses"] =
            serde_json::json!([{"license": {"id": "Not-A-License"}}]);
        assert_invalid(
            &v,
            &doc,
            "a license id missing from the SPDX list ($ref'd schema)",
        );
        let mut doc = good.clone();
        doc["serialNumber"] = "urn:uuid:not-a-uuid".into();
        assert_invalid(&v, &doc, "a malformed serial number");
        let mut doc = good.clone();
        doc["metadata"]["timestamp"] = "yesterday".into();
        assert_invalid(&v, &doc, "a timestamp that is no date-time");
    }
    if let Some(v) = validator("spdx-2.3.schema.json") {
        let good = json_of(&sbom, Format::SpdxJson);
        let mut doc = good.clone();
        doc["packages"][1].as_object_mut().unwrap().remove("SPDXID");
        assert_invalid(&v, &doc, "a package without SPDXID");
        let mut doc = good.clone();
        doc["relationships"][0]["relationshipType"] = "LOVES".into();
        assert_invalid(&v, &doc, "an unknown relationship type");
        let mut doc = good;
        doc["packages"][1]["filesAnalyzed"] = "no".into();
        assert_invalid(&v, &doc, "a string filesAnalyzed");
    }
}

// ---------------------------------------------------------------- determinism

#[test]
fn every_format_is_deterministic() {
    let a = sample();
    let b = sample();
    for f in Format::ALL {
        for pretty in [true, false] {
            let opts = WriteOptions {
                pretty,
                color: false,
            };
            let first = render(&a, f, &opts);
            assert_eq!(
                first,
                render(&a, f, &opts),
                "{f} differs between two writes"
            );
            assert_eq!(
                first,
                render(&b, f, &opts),
                "{f} differs for an equal document"
            );
        }
    }
}

#[test]
fn serial_number_and_namespace_follow_the_content() {
    let a = sample();
    let mut b = sample();
    b.packages[0].version = "1:1.2.13.dfsg-2".into();
    let serial = |s: &Sbom| json_of(s, Format::CycloneDxJson)["serialNumber"].clone();
    let ns = |s: &Sbom| json_of(s, Format::SpdxJson)["documentNamespace"].clone();
    assert_ne!(serial(&a), serial(&b));
    assert_ne!(ns(&a), ns(&b));
    let s = serial(&a);
    let s = s.as_str().unwrap();
    // Version 5 layout, RFC 4122 variant.
    assert_eq!(&s[23..24], "5", "{s}");
    assert!("89ab".contains(&s[28..29]), "{s}");
}

#[test]
fn compact_output_is_one_line_with_the_same_content() {
    let sbom = sample();
    let compact = WriteOptions {
        pretty: false,
        color: false,
    };
    for f in [Format::CycloneDxJson, Format::SpdxJson, Format::Json] {
        let bytes = render(&sbom, f, &compact);
        assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), 1, "{f}");
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v, json_of(&sbom, f), "{f}");
    }
}

// -------------------------------------------------------- content per format

fn properties(component: &Value) -> Vec<(String, String)> {
    component["properties"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    (
                        p["name"].as_str().unwrap().to_string(),
                        p["value"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn prop<'a>(props: &'a [(String, String)], name: &str) -> Option<&'a str> {
    props
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn cdx_component<'a>(bom: &'a Value, id: &str) -> &'a Value {
    bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["bom-ref"] == id)
        .unwrap_or_else(|| panic!("no component {id}"))
}

fn spdx_package<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no package {name}"))
}

#[test]
fn purls_and_locations_survive_every_format() {
    let sbom = sample();
    let cdx = json_of(&sbom, Format::CycloneDxJson);
    let spdx = json_of(&sbom, Format::SpdxJson);
    let native = json_of(&sbom, Format::Json);
    let table = text_of(&sbom, Format::Table);
    for (i, p) in sbom.packages.iter().enumerate() {
        let c = cdx_component(&cdx, &p.id);
        assert_eq!(c["purl"], p.purl.as_str());
        assert_eq!(c["name"], p.name.as_str());
        assert_eq!(c["version"], p.version.as_str());
        let props = properties(c);
        let s = spdx_package(&spdx, &p.name);
        assert_eq!(s["versionInfo"], p.version.as_str());
        let refs = s["externalRefs"].as_array().unwrap();
        assert!(
            refs.iter()
                .any(|r| r["referenceCategory"] == "PACKAGE-MANAGER"
                    && r["referenceType"] == "purl"
                    && r["referenceLocator"] == p.purl.as_str())
        );
        let source_info = s["sourceInfo"].as_str().unwrap();
        assert!(source_info.contains(&p.found_by));
        for (n, l) in p.locations.iter().enumerate() {
            assert_eq!(
                prop(&props, &format!("bosun:location:{n}:path")),
                Some(l.path.as_str())
            );
            let layer = l.layer.as_ref().unwrap().to_string();
            assert_eq!(
                prop(&props, &format!("bosun:location:{n}:layerID")),
                Some(layer.as_str())
            );
            assert!(source_info.contains(&l.path), "{source_info}");
            assert!(source_info.contains(&layer), "{source_info}");
            assert_eq!(
                native["packages"][i]["locations"][n]["path"],
                l.path.as_str()
            );
        }
        assert_eq!(native["packages"][i]["purl"], p.purl.as_str());
        let first = &p.locations[0].path;
        assert!(
            table
                .lines()
                .any(|line| line.starts_with(p.name.as_str()) && line.contains(first.as_str())),
            "{} / {first} not in the table:\n{table}",
            p.name
        );
    }
    // The purls the model computed, spot-checked against the purl spec's forms.
    let purls: BTreeSet<&str> = sbom.packages.iter().map(|p| p.purl.as_str()).collect();
    assert!(purls.contains("pkg:npm/%40babel/core@7.24.0"), "{purls:?}");
    assert!(
        purls
            .iter()
            .any(|p| p.starts_with("pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?"))
    );
}

#[test]
fn cyclonedx_describes_packages_and_metadata() {
    let sbom = sample();
    let bom = json_of(&sbom, Format::CycloneDxJson);
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["specVersion"], "1.6");
    assert_eq!(bom["version"], 1);
    assert_eq!(bom["metadata"]["timestamp"], "2024-03-01T12:00:00Z");
    assert_eq!(
        bom["metadata"]["tools"]["components"][0],
        serde_json::json!({"type": "application", "name": "bosun", "version": "0.1.0"})
    );

    let zlib = &sbom.packages[0];
    let c = cdx_component(&bom, &zlib.id);
    assert_eq!(c["type"], "library");
    let props = properties(c);
    assert_eq!(
        prop(&props, "bosun:package:foundBy"),
        Some("dpkg-db-cataloger")
    );
    assert_eq!(prop(&props, "bosun:package:metadataType"), Some("dpkg"));
    assert_eq!(prop(&props, "bosun:metadata:source"), Some("zlib"));
    assert_eq!(
        prop(&props, "bosun:metadata:sourceVersion"),
        Some("1:1.2.13.dfsg-1")
    );
    assert_eq!(prop(&props, "bosun:metadata:architecture"), Some("amd64"));

    let java = sbom.packages.iter().find(|p| p.name == "b").unwrap();
    let c = cdx_component(&bom, &java.id);
    assert_eq!(c["group"], "org.example");
    assert_eq!(c["hashes"][0]["alg"], "SHA-1");
    let props = properties(c);
    assert_eq!(
        prop(&props, "bosun:metadata:virtualPath"),
        Some("/app/a.jar!/BOOT-INF/lib/b.jar")
    );

    let go = sbom.packages.iter().find(|p| p.name == "stdlib").unwrap();
    let props = properties(cdx_component(&bom, &go.id));
    assert_eq!(prop(&props, "bosun:metadata:role"), Some("stdlib"));
    assert_eq!(prop(&props, "bosun:metadata:goVersion"), Some("go1.22.1"));

    let os = cdx_component(&bom, "os:debian-12");
    assert_eq!(os["type"], "operating-system");
    assert_eq!(os["name"], "debian");
    assert_eq!(os["version"], "12");

    let root = &bom["metadata"]["component"];
    let manifest = digest("manifest").to_string();
    assert_eq!(root["type"], "container");
    assert_eq!(root["name"], "example/app");
    assert_eq!(root["version"], manifest.as_str());
    assert_eq!(root["bom-ref"], manifest.as_str());
    let props = properties(root);
    assert_eq!(prop(&props, "bosun:image:architecture"), Some("amd64"));
    assert_eq!(
        prop(&props, "bosun:image:label:org.opencontainers.image.version"),
        Some("1.4.2")
    );
    assert_eq!(
        prop(&props, "bosun:image:entrypoint"),
        Some(r#"["/usr/local/bin/server","--listen",":8080"]"#)
    );
    assert_eq!(
        prop(&props, "bosun:image:history:1:emptyLayer"),
        Some("true")
    );
    assert_eq!(
        prop(&props, "bosun:image:history:1:createdBy"),
        Some("ENV NODE_VERSION=20.11.1")
    );
    assert_eq!(
        prop(&props, "bosun:image:layer:3:diffID"),
        Some(digest("rust").to_string().as_str())
    );

    let props = properties(&bom);
    assert_eq!(
        prop(&props, "bosun:unknown:0:path"),
        Some("/app/broken.jar")
    );
    assert_eq!(
        prop(&props, "bosun:unknown:0:cataloger"),
        Some("java-archive-cataloger")
    );
    assert_eq!(
        prop(&props, "bosun:unknown:0:message"),
        Some("zip: central directory truncated")
    );
}

#[test]
fn cyclonedx_maps_licenses() {
    let sbom = sample();
    let bom = json_of(&sbom, Format::CycloneDxJson);
    let lic = |name: &str| {
        let p = sbom.packages.iter().find(|p| p.name == name).unwrap();
        cdx_component(&bom, &p.id)["licenses"].clone()
    };
    assert_eq!(
        lic("zlib1g"),
        serde_json::json!([{"license": {"id": "Zlib"}}])
    );
    assert_eq!(
        lic("serde"),
        serde_json::json!([{"expression": "MIT OR Apache-2.0"}])
    );
    assert_eq!(
        lic("python3-six"),
        serde_json::json!([{"license": {"name": "Expat"}}])
    );
}

#[test]
fn spdx_licenses_are_expressions_of_known_ids_or_declared_refs() {
    let sbom = sample();
    let doc = json_of(&sbom, Format::SpdxJson);
    assert_eq!(
        spdx_package(&doc, "serde")["licenseDeclared"],
        "MIT OR Apache-2.0"
    );
    assert_eq!(spdx_package(&doc, "zlib1g")["licenseDeclared"], "Zlib");
    assert_eq!(
        spdx_package(&doc, "python3-six")["licenseDeclared"],
        "LicenseRef-Expat"
    );
    let infos = doc["hasExtractedLicensingInfos"].as_array().unwrap();
    assert_eq!(infos.len(), 1);
    assert_eq!(infos[0]["licenseId"], "LicenseRef-Expat");
    assert_eq!(infos[0]["extractedText"], "Expat");

    // Every identifier used is on the SPDX license list (its ids as the
    // CycloneDX project ships them) or declared in this document.
    let Some(list) = bosun_testutil::shared("schemas/spdx.SNAPSHOT.schema.json") else {
        return;
    };
    let known: BTreeSet<String> = load(&list)["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let declared: BTreeSet<&str> = infos
        .iter()
        .map(|i| i["licenseId"].as_str().unwrap())
        .collect();
    for p in doc["packages"].as_array().unwrap() {
        let expr = p["licenseDeclared"].as_str().unwrap();
        if expr == "NOASSERTION" {
            continue;
        }
        for tok in expr.split([' ', '(', ')']).filter(|t| !t.is_empty()) {
            if ["AND", "OR", "WITH"].contains(&tok) {
                continue;
            }
            assert!(
                known.contains(tok.trim_end_matches('+')) || declared.contains(tok),
                "{tok} in {expr}"
            );
        }
    }
}

#[test]
fn spdx_ids_and_references_are_consistent() {
    let sbom = sample();
    let doc = json_of(&sbom, Format::SpdxJson);
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    assert_eq!(doc["dataLicense"], "CC0-1.0");
    assert_eq!(doc["SPDXID"], "SPDXRef-DOCUMENT");
    assert_eq!(doc["creationInfo"]["created"], "2024-03-01T12:00:00Z");
    assert_eq!(
        doc["creationInfo"]["creators"],
        serde_json::json!(["Tool: bosun-0.1.0"])
    );
    assert!(
        doc["documentNamespace"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );

    let ids: Vec<&str> = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["SPDXID"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate SPDXIDs");
    // SPDX 2.3 §3.2: "SPDXRef-" followed by letters, numbers, "." and "-".
    for id in &ids {
        let rest = id.strip_prefix("SPDXRef-").unwrap();
        assert!(
            rest.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
            "{id}"
        );
    }
    for r in doc["relationships"].as_array().unwrap() {
        for end in ["spdxElementId", "relatedSpdxElement"] {
            let id = r[end].as_str().unwrap();
            assert!(
                id == "SPDXRef-DOCUMENT" || unique.contains(id),
                "dangling {id}"
            );
        }
    }
    let root = &doc["packages"][0];
    assert_eq!(root["primaryPackagePurpose"], "CONTAINER");
    assert_eq!(root["versionInfo"], digest("manifest").to_string().as_str());
    assert_eq!(
        doc["documentDescribes"],
        serde_json::json!([root["SPDXID"]])
    );
    let zlib = spdx_package(&doc, "zlib1g");
    assert_eq!(
        zlib["supplier"],
        "Organization: Mark Brown (broonie@debian.org)"
    );
    assert_eq!(zlib["downloadLocation"], "NOASSERTION");
    assert_eq!(zlib["filesAnalyzed"], false);
    assert_eq!(
        zlib["SPDXID"].as_str().unwrap(),
        format!("SPDXRef-Package-deb-{}", sbom.packages[0].id)
    );
    let annotations = doc["annotations"].as_array().unwrap();
    assert_eq!(annotations.len(), 1);
    assert!(
        annotations[0]["comment"]
            .as_str()
            .unwrap()
            .contains("/app/broken.jar")
    );
}

#[test]
fn relationships_map_to_each_format() {
    let sbom = sample();
    let id = |name: &str| {
        sbom.packages
            .iter()
            .find(|p| p.name == name)
            .unwrap()
            .id
            .clone()
    };

    let bom = json_of(&sbom, Format::CycloneDxJson);
    let deps: BTreeMap<String, Value> = bom["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["ref"].as_str().unwrap().to_string(),
                d["dependsOn"].clone(),
            )
        })
        .collect();
    // Every component is in the graph, with or without dependencies.
    assert_eq!(deps.len(), sbom.packages.len() + 1);
    assert_eq!(deps[&id("@babel/core")], serde_json::json!([id("semver")]));
    assert_eq!(deps[&id("python3-six")], serde_json::json!([id("six")]));
    assert!(deps[&id("six")].is_null());
    let props = properties(cdx_component(&bom, &id("six")));
    assert_eq!(
        prop(&props, "bosun:package:ownedBy"),
        Some(id("python3-six").as_str())
    );

    let doc = json_of(&sbom, Format::SpdxJson);
    let spdx_id = |name: &str| {
        spdx_package(&doc, name)["SPDXID"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let rels: Vec<(String, String, String)> = doc["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["spdxElementId"].as_str().unwrap().to_string(),
                r["relationshipType"].as_str().unwrap().to_string(),
                r["relatedSpdxElement"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let has = |a: String, t: &str, b: String| rels.contains(&(a, t.to_string(), b));
    let root = spdx_id("example/app");
    assert!(has("SPDXRef-DOCUMENT".into(), "DESCRIBES", root.clone()));
    for p in &sbom.packages {
        assert!(
            has(root.clone(), "CONTAINS", spdx_id(&p.name)),
            "{}",
            p.name
        );
    }
    assert!(has(
        root.clone(),
        "CONTAINS",
        "SPDXRef-OperatingSystem".into()
    ));
    assert!(has(spdx_id("python3-six"), "CONTAINS", spdx_id("six")));
    assert!(has(spdx_id("@babel/core"), "DEPENDS_ON", spdx_id("semver")));
    assert_eq!(rels.len(), 1 + 1 + sbom.packages.len() + 2);
}

#[test]
fn dangling_relationships_are_dropped() {
    let mut sbom = sample();
    sbom.relationships.push(Relationship {
        from: sbom.packages[0].id.clone(),
        to: "npm-0000000000000000".into(),
        kind: RelationshipKind::DependsOn,
    });
    let bom = json_of(&sbom, Format::CycloneDxJson);
    assert!(!bom.to_string().contains("npm-0000000000000000"));
    let doc = json_of(&sbom, Format::SpdxJson);
    assert!(!doc.to_string().contains("npm-0000000000000000"));
}

#[test]
fn bosun_json_is_the_model_with_a_schema_tag() {
    let sbom = sample();
    let mut v = json_of(&sbom, Format::Json);
    assert_eq!(v["schema"], "bosun-sbom/1");
    assert_eq!(v["packages"][0]["metadata"]["type"], "dpkg");
    v.as_object_mut().unwrap().remove("schema");
    let back: Sbom = serde_json::from_value(v).unwrap();
    assert_eq!(back, sbom);
}

#[test]
fn table_is_sorted_aligned_and_counted() {
    let sbom = sample();
    let table = text_of(&sbom, Format::Table);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("NAME"));
    let header = lines[0];
    let col = |h: &str| header.find(h).unwrap();
    for line in &lines[1..lines.len() - 1] {
        // Every row's cells start at the header's column positions.
        let chars: Vec<char> = line.chars().collect();
        for h in ["VERSION", "TYPE", "LOCATION"] {
            let at = col(h);
            assert!(
                chars[at - 1] == ' ' && chars[at] != ' ',
                "{h} misaligned in {line:?}"
            );
        }
        assert!(!line.ends_with(' '));
    }
    let names: Vec<&str> = lines[1..lines.len() - 1]
        .iter()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(names.len(), sbom.packages.len());
    assert_eq!(*lines.last().unwrap(), "9 packages, 1 unknown");
    assert!(table.contains("/var/lib/dpkg/status (+1)"));
    assert!(table.contains(" maven "));
    assert!(!table.contains('\x1b'));

    let colored = String::from_utf8(render(
        &sbom,
        Format::Table,
        &WriteOptions {
            pretty: true,
            color: true,
        },
    ))
    .unwrap();
    let (first, rest) = colored.split_once('\n').unwrap();
    assert_eq!(first, format!("\x1b[1m{header}\x1b[0m"));
    assert!(!rest.contains('\x1b'));
}

#[test]
fn table_without_locations_has_three_columns() {
    let mut sbom = sample();
    for p in &mut sbom.packages {
        p.locations.clear();
    }
    sbom.packages.truncate(1);
    sbom.unknowns.clear();
    let table = text_of(&sbom, Format::Table);
    let mut lines = table.lines();
    assert_eq!(lines.next().unwrap(), "NAME    VERSION          TYPE");
    assert_eq!(lines.next().unwrap(), "zlib1g  1:1.2.13.dfsg-1  deb");
    assert_eq!(lines.next().unwrap(), "1 package");
}

// ---------------------------------------------------------------- hostile input

#[test]
fn hostile_metadata_stays_contained() {
    let mut sbom = sample();
    sbom.packages[0].name = "evil\n\u{1b}[2Jname".into();
    sbom.packages[0].licenses = vec![
        format!("{}MIT{}", "(".repeat(10_000), ")".repeat(10_000)),
        "Permission is hereby granted, free of charge, to any person...\n".repeat(200),
        "MIT OR Apache-2.0".into(),
    ];
    sbom.packages[1].id = "deb/with spaces/and/😀".into();
    sbom.packages[2].id = "deb-with-spaces-and--".into();
    sbom.relationships.clear();
    sbom.source
        .image
        .as_mut()
        .unwrap()
        .labels
        .insert("a\"b\n".into(), "\u{0}".into());

    let table = text_of(&sbom, Format::Table);
    assert!(!table.contains('\x1b'));
    // The escape sequence dropped whole, the newline turned into a space
    // (bosun-core `text`): the name stays on its row.
    assert!(table.lines().any(|l| l.starts_with("evil name")), "{table}");

    let cdx = json_of(&sbom, Format::CycloneDxJson);
    // Mixed names and expressions: CycloneDX cannot hold both in one
    // expression, so all are listed as licenses.
    let lic = cdx_component(&cdx, &sbom.packages[0].id)["licenses"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(lic.len(), 3);
    let spdx = json_of(&sbom, Format::SpdxJson);
    let ids: BTreeSet<&str> = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["SPDXID"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), sbom.packages.len() + 2, "sanitised ids collided");
    for r in spdx["hasExtractedLicensingInfos"].as_array().unwrap() {
        assert!(r["licenseId"].as_str().unwrap().len() <= "LicenseRef-".len() + 64 + 4);
    }
    if let Some(v) = validator("cyclonedx-1.6.schema.json") {
        assert_valid(&v, &cdx);
    }
    if let Some(v) = validator("spdx-2.3.schema.json") {
        assert_valid(&v, &spdx);
    }
}

#[test]
fn model_violations_are_errors_not_bad_documents() {
    let opts = WriteOptions::default();
    let mut sbom = sample();
    sbom.packages[1].id = sbom.packages[0].id.clone();
    for f in [Format::CycloneDxJson, Format::SpdxJson] {
        let err = bosun_sbom::write(&sbom, f, &opts, &mut Vec::new()).unwrap_err();
        assert!(matches!(err, SbomError::DuplicateId(_)), "{f}: {err}");
    }
    let mut sbom = sample();
    sbom.packages[0].id.clear();
    let err = bosun_sbom::write(&sbom, Format::CycloneDxJson, &opts, &mut Vec::new()).unwrap_err();
    assert!(matches!(err, SbomError::EmptyId { .. }), "{err}");
    let mut sbom = sample();
    sbom.packages[0].id = "os:debian-12".into();
    let err = bosun_sbom::write(&sbom, Format::CycloneDxJson, &opts, &mut Vec::new()).unwrap_err();
    assert!(matches!(err, SbomError::DuplicateId(_)), "{err}");
    let mut sbom = sample();
    sbom.created = i64::MAX;
    for f in [Format::CycloneDxJson, Format::SpdxJson] {
        let err = bosun_sbom::write(&sbom, f, &opts, &mut Vec::new()).unwrap_err();
        assert!(
            matches!(err, SbomError::TimestampOutOfRange(_)),
            "{f}: {err}"
        );
    }
}

#[test]
fn write_errors_are_reported() {
    struct Broken;
    impl std::io::Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    for f in Format::ALL {
        assert!(
            bosun_sbom::write(&sample(), f, &WriteOptions::default(), &mut Broken).is_err(),
            "{f}"
        );
    }
}
