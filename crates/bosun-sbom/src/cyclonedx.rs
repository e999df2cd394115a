//! CycloneDX 1.6 JSON.
//!
//! Mapping choices:
//! - Components are flat: every package is a top-level `library` component
//!   (its bom-ref is the package id), the distro an `operating-system` one.
//!   Nested archives (a jar inside a jar) keep their `!/` path in the
//!   location properties instead of nested `components`, which many
//!   consumers do not read.
//! - Dependencies: every component gets an entry (CycloneDX asks that
//!   components without dependencies be listed empty). A depends-on
//!   relationship is `from dependsOn to`. bosun's owned-by (a language
//!   package whose files belong to an OS package) is written as
//!   `<os package> dependsOn <language package>`: the OS package needs what
//!   it installed, which is the edge dependency-graph consumers (impact
//!   analysis, "what pulls this in") expect. The exact meaning is kept as a
//!   `bosun:package:ownedBy` property on the owned component.
//! - Everything without a CycloneDX field is a `bosun:` property; unknowns are
//!   document-level `bosun:unknown:<n>:...` properties.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use bosun_core::digest::Algorithm;
use bosun_core::package::GoModuleRole;
use bosun_core::{Digest, Package, PackageMetadata, RelationshipKind};
use serde::Serialize;

use crate::json::{self, is_hex};
use crate::model::{Sbom, SourceKind};
use crate::spdx::{License, and_join, classify};
use crate::{SbomError, WriteOptions};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom {
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Metadata {
    timestamp: String,
    tools: Tools,
    component: Component,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Component>,
}

#[derive(Serialize, Default)]
struct Component {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashes: Vec<Hash>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Hash {
    alg: &'static str,
    content: String,
}

#[derive(Serialize)]
#[serde(untagged)]
enum LicenseChoice {
    License { license: LicenseObject },
    Expression { expression: String },
}

#[derive(Serialize)]
struct LicenseObject {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

#[derive(Serialize)]
struct Property {
    name: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<String>,
}

/// Properties with empty values left out.
#[derive(Default)]
struct Props(Vec<Property>);

impl Props {
    fn add(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let value = value.into();
        if !value.is_empty() {
            self.0.push(Property {
                name: name.into(),
                value,
            });
        }
    }
    fn opt(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.add(name, v);
        }
    }
    fn flag(&mut self, name: &str, on: bool) {
        if on {
            self.add(name, "true");
        }
    }
}

pub fn write(sbom: &Sbom, opts: &WriteOptions, w: &mut dyn Write) -> Result<(), SbomError> {
    let root = root_ref(sbom);
    let os = sbom
        .distro
        .as_ref()
        .map(|d| format!("os:{}", d.purl_qualifier()));
    let mut reserved = vec![root.as_str()];
    reserved.extend(os.as_deref());
    json::check_ids(sbom, &reserved)?;

    let ids: BTreeSet<&str> = sbom.packages.iter().map(|p| p.id.as_str()).collect();
    let mut owners: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut depends: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in &sbom.relationships {
        // Relationships naming packages that are not in the document are
        // dropped rather than written as dangling references.
        if !ids.contains(r.from.as_str()) || !ids.contains(r.to.as_str()) {
            continue;
        }
        match r.kind {
            RelationshipKind::DependsOn => depends.entry(&r.from).or_default().insert(&r.to),
            RelationshipKind::OwnedBy => {
                let o = owners.entry(&r.from).or_default();
                if !o.contains(&r.to.as_str()) {
                    o.push(&r.to);
                }
                depends.entry(&r.to).or_default().insert(&r.from)
            }
        };
    }

    let mut components = Vec::with_capacity(sbom.packages.len() + 1);
    let mut dependencies = Vec::with_capacity(sbom.packages.len() + 1);
    if let (Some(d), Some(os)) = (&sbom.distro, &os) {
        let mut props = Props::default();
        props.opt(
            "bosun:distro:versionCodename",
            d.version_codename.as_deref(),
        );
        props.add("bosun:distro:idLike", d.id_like.join(" "));
        components.push(Component {
            kind: "operating-system",
            bom_ref: Some(os.clone()),
            name: d.id.clone(),
            version: d.version_id.clone(),
            description: d.pretty_name.clone(),
            properties: props.0,
            ..Component::default()
        });
        dependencies.push(Dependency {
            reference: os.clone(),
            depends_on: Vec::new(),
        });
    }
    for p in &sbom.packages {
        let owned_by = owners
            .get(p.id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        components.push(component(p, owned_by));
        dependencies.push(Dependency {
            reference: p.id.clone(),
            depends_on: depends
                .get(p.id.as_str())
                .map(|d| d.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default(),
        });
    }

    let mut props = Props::default();
    for (i, u) in sbom.unknowns.iter().enumerate() {
        props.add(format!("bosun:unknown:{i}:path"), u.path.clone());
        if let Some(l) = &u.layer {
            props.add(format!("bosun:unknown:{i}:layerID"), l.to_string());
        }
        props.add(format!("bosun:unknown:{i}:cataloger"), u.cataloger.clone());
        props.add(format!("bosun:unknown:{i}:message"), u.message.clone());
        if !u.kind.is_unparsed() {
            props.add(
                format!("bosun:unknown:{i}:kind"),
                u.kind.as_str().to_string(),
            );
        }
    }

    let bom = Bom {
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number: format!("urn:uuid:{}", json::content_uuid(sbom, "cyclonedx")?),
        version: 1,
        metadata: Metadata {
            timestamp: json::rfc3339(sbom.created)?,
            tools: Tools {
                components: vec![Component {
                    kind: "application",
                    name: sbom.tool.name.clone(),
                    version: Some(sbom.tool.version.clone()),
                    ..Component::default()
                }],
            },
            component: source_component(sbom, root),
        },
        components,
        dependencies,
        properties: props.0,
    };
    json::emit(&bom, opts, w)
}

/// The subject's bom-ref: its manifest digest, else its target.
fn root_ref(sbom: &Sbom) -> String {
    match sbom
        .source
        .image
        .as_ref()
        .and_then(|i| i.manifest_digest.as_ref())
    {
        Some(d) => d.to_string(),
        None => format!("source:{}", sbom.source.target),
    }
}

fn hash(d: &Digest) -> Hash {
    Hash {
        alg: match d.algorithm() {
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha512 => "SHA-512",
        },
        content: d.hex().to_string(),
    }
}

fn source_component(sbom: &Sbom, bom_ref: String) -> Component {
    let src = &sbom.source;
    let mut props = Props::default();
    props.add("bosun:source:target", src.target.clone());
    let mut hashes = Vec::new();
    let mut version = src.version.clone();
    if let Some(img) = &src.image {
        if let Some(d) = &img.manifest_digest {
            version = Some(d.to_string());
            hashes.push(hash(d));
        }
        props.add(
            "bosun:image:manifestMediaType",
            img.manifest_media_type.clone(),
        );
        props.opt(
            "bosun:image:configDigest",
            img.config_digest.as_ref().map(|d| d.to_string()).as_deref(),
        );
        props.add("bosun:image:os", img.os.clone());
        props.add("bosun:image:architecture", img.architecture.clone());
        props.opt("bosun:image:variant", img.variant.as_deref());
        props.opt("bosun:image:user", img.user.as_deref());
        for e in &img.env_names {
            props.add("bosun:image:envName", e.clone());
        }
        for (k, v) in &img.labels {
            props.add(format!("bosun:image:label:{k}"), v.clone());
        }
        for port in &img.exposed_ports {
            props.add("bosun:image:exposedPort", port.clone());
        }
        // Argument vectors as JSON arrays: joining with spaces would lose
        // the argument boundaries.
        if !img.entrypoint.is_empty() {
            props.add("bosun:image:entrypoint", json_array(&img.entrypoint));
        }
        if !img.cmd.is_empty() {
            props.add("bosun:image:cmd", json_array(&img.cmd));
        }
        props.opt("bosun:image:workingDir", img.working_dir.as_deref());
        props.opt("bosun:image:created", img.created.as_deref());
        for t in &img.tags {
            props.add("bosun:image:tag", t.clone());
        }
        for (i, l) in img.layers.iter().enumerate() {
            props.add(
                format!("bosun:image:layer:{i}:mediaType"),
                l.media_type.clone(),
            );
            props.add(
                format!("bosun:image:layer:{i}:digest"),
                l.digest.to_string(),
            );
            props.add(
                format!("bosun:image:layer:{i}:diffID"),
                l.diff_id.to_string(),
            );
            props.add(format!("bosun:image:layer:{i}:size"), l.size.to_string());
        }
        for (i, h) in img.history.iter().enumerate() {
            props.opt(
                &format!("bosun:image:history:{i}:created"),
                h.created.as_deref(),
            );
            props.opt(
                &format!("bosun:image:history:{i}:createdBy"),
                h.created_by.as_deref(),
            );
            props.opt(
                &format!("bosun:image:history:{i}:comment"),
                h.comment.as_deref(),
            );
            props.flag(
                &format!("bosun:image:history:{i}:emptyLayer"),
                h.empty_layer,
            );
        }
    }
    Component {
        kind: match src.kind {
            SourceKind::Image => "container",
            SourceKind::Directory => "file",
        },
        bom_ref: Some(bom_ref),
        name: src.name.clone(),
        version,
        hashes,
        properties: props.0,
        ..Component::default()
    }
}

fn json_array(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_default()
}

fn component(p: &Package, owned_by: &[&str]) -> Component {
    let mut props = Props::default();
    props.add("bosun:package:foundBy", p.found_by.clone());
    props.add("bosun:package:metadataType", metadata_type(&p.metadata));
    for o in owned_by {
        props.add("bosun:package:ownedBy", o.to_string());
    }
    for (i, l) in p.locations.iter().enumerate() {
        props.add(format!("bosun:location:{i}:path"), l.path.clone());
        if let Some(layer) = &l.layer {
            props.add(format!("bosun:location:{i}:layerID"), layer.to_string());
        }
    }
    let mut hashes = Vec::new();
    let mut group = None;
    metadata_properties(&p.metadata, &mut props, &mut hashes, &mut group);
    Component {
        kind: "library",
        bom_ref: Some(p.id.clone()),
        group,
        name: p.name.clone(),
        version: Some(p.version.clone()).filter(|v| !v.is_empty()),
        hashes,
        licenses: licenses(&p.licenses),
        purl: Some(p.purl.clone()).filter(|v| !v.is_empty()),
        properties: props.0,
        ..Component::default()
    }
}

/// The serde tag of the metadata, as in bosun JSON.
fn metadata_type(m: &PackageMetadata) -> &'static str {
    match m {
        PackageMetadata::Dpkg(_) => "dpkg",
        PackageMetadata::Rpm(_) => "rpm",
        PackageMetadata::Apk(_) => "apk",
        PackageMetadata::Python(_) => "python",
        PackageMetadata::Npm(_) => "npm",
        PackageMetadata::Go(_) => "go",
        PackageMetadata::Rust(_) => "rust",
        PackageMetadata::Java(_) => "java",
        PackageMetadata::Gem(_) => "gem",
        PackageMetadata::Composer(_) => "composer",
        PackageMetadata::DotNet(_) => "dot-net",
        PackageMetadata::Other => "other",
    }
}

/// `bosun:metadata:<field>` properties; the source package (what
/// vulnerability data is keyed by) is `source` / `sourceVersion` for every
/// OS ecosystem (apk's origin included). Checksums that fit CycloneDX go to
/// `hashes`, the Maven group id to `group`.
fn metadata_properties(
    m: &PackageMetadata,
    props: &mut Props,
    hashes: &mut Vec<Hash>,
    group: &mut Option<String>,
) {
    const P: &str = "bosun:metadata:";
    let mut add = |k: &str, v: String| props.add(format!("{P}{k}"), v);
    match m {
        PackageMetadata::Dpkg(d) => {
            add("source", d.source.clone());
            add("sourceVersion", d.source_version.clone());
            add("architecture", d.architecture.clone());
            add("maintainer", d.maintainer.clone().unwrap_or_default());
            add(
                "installedSizeKiB",
                d.installed_size_kib
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
            );
        }
        PackageMetadata::Rpm(r) => {
            add("epoch", r.epoch.map(|e| e.to_string()).unwrap_or_default());
            add("release", r.release.clone());
            add("architecture", r.architecture.clone());
            add("sourceRpm", r.source_rpm.clone().unwrap_or_default());
            add("source", r.source_name.clone());
            add("sourceVersion", r.source_version.clone());
            add("vendor", r.vendor.clone().unwrap_or_default());
            add("size", r.size.map(|s| s.to_string()).unwrap_or_default());
            add(
                "modularityLabel",
                r.modularity_label.clone().unwrap_or_default(),
            );
        }
        PackageMetadata::Apk(a) => {
            add("source", a.origin.clone());
            add("architecture", a.architecture.clone());
            add("maintainer", a.maintainer.clone().unwrap_or_default());
            add("checksum", a.checksum.clone().unwrap_or_default());
        }
        PackageMetadata::Python(py) => {
            add("siteDir", py.site_dir.clone());
            add("installer", py.installer.clone().unwrap_or_default());
        }
        PackageMetadata::Npm(n) => {
            add("rootProject", flag(n.root_project));
            add("dev", flag(n.dev));
            add("resolved", n.resolved.clone().unwrap_or_default());
            add("integrity", n.integrity.clone().unwrap_or_default());
        }
        PackageMetadata::Go(g) => {
            add(
                "role",
                match g.role {
                    GoModuleRole::Main => "main",
                    GoModuleRole::Dep => "dep",
                    GoModuleRole::Stdlib => "stdlib",
                }
                .to_string(),
            );
            add("goVersion", g.go_version.clone());
            add("mainModule", g.main_module.clone().unwrap_or_default());
            add("h1Digest", g.h1_digest.clone().unwrap_or_default());
            add("replacedBy", g.replaced_by.clone().unwrap_or_default());
            for (k, v) in &g.build_settings {
                add(&format!("build:{k}"), v.clone());
            }
        }
        PackageMetadata::Rust(r) => {
            add("source", r.source.clone());
            add("checksum", r.checksum.clone().unwrap_or_default());
            add(
                "dependencyKind",
                r.dependency_kind.clone().unwrap_or_default(),
            );
            add("rootProject", flag(r.root_project));
            if let Some(c) = r.checksum.as_deref().filter(|c| is_hex(c, 64)) {
                hashes.push(Hash {
                    alg: "SHA-256",
                    content: c.to_ascii_lowercase(),
                });
            }
        }
        PackageMetadata::Java(j) => {
            add("groupId", j.group_id.clone().unwrap_or_default());
            add("artifactId", j.artifact_id.clone().unwrap_or_default());
            add("virtualPath", j.virtual_path.clone());
            add("evidence", j.evidence.clone());
            add("sha1", j.sha1.clone().unwrap_or_default());
            if let Some(c) = j.sha1.as_deref().filter(|c| is_hex(c, 40)) {
                hashes.push(Hash {
                    alg: "SHA-1",
                    content: c.to_ascii_lowercase(),
                });
            }
            *group = j.group_id.clone().filter(|g| !g.is_empty());
        }
        PackageMetadata::Gem(g) => {
            add("platforms", g.platforms.join(","));
            add("source", g.source.clone().unwrap_or_default());
        }
        PackageMetadata::Composer(c) => {
            add("packageType", c.package_type.clone().unwrap_or_default());
            add("dev", flag(c.dev));
            add("sourceUrl", c.source_url.clone().unwrap_or_default());
            add("reference", c.reference.clone().unwrap_or_default());
            add("distShasum", c.dist_shasum.clone().unwrap_or_default());
        }
        PackageMetadata::DotNet(d) => {
            add("libraryType", d.library_type.clone());
            add("sha512", d.sha512.clone().unwrap_or_default());
            add("path", d.path.clone().unwrap_or_default());
        }
        PackageMetadata::Other => {}
    }
}

fn flag(on: bool) -> String {
    if on {
        "true".to_string()
    } else {
        String::new()
    }
}

/// CycloneDX takes either a list of single licenses (SPDX id or name) or
/// exactly one expression. Compound expressions are joined with AND into
/// that one expression; when they come with non-SPDX names, which an
/// expression cannot hold, everything is listed as single licenses instead,
/// the expressions by name.
fn licenses(list: &[String]) -> Vec<LicenseChoice> {
    let mut classes: Vec<License> = Vec::new();
    for c in list.iter().map(|l| classify(l)) {
        if !matches!(&c, License::Name(n) if n.is_empty()) && !classes.contains(&c) {
            classes.push(c);
        }
    }
    let has_expr = classes.iter().any(|c| matches!(c, License::Expression(_)));
    let has_name = classes.iter().any(|c| matches!(c, License::Name(_)));
    if has_expr && !has_name {
        let parts: Vec<String> = classes
            .into_iter()
            .map(|c| match c {
                License::Id(id) => id.to_string(),
                License::Expression(e) | License::Name(e) => e,
            })
            .collect();
        return vec![LicenseChoice::Expression {
            expression: and_join(&parts),
        }];
    }
    classes
        .into_iter()
        .map(|c| LicenseChoice::License {
            license: match c {
                License::Id(id) => LicenseObject {
                    id: Some(id),
                    name: None,
                },
                License::Expression(n) | License::Name(n) => LicenseObject {
                    id: None,
                    name: Some(n),
                },
            },
        })
        .collect()
}
