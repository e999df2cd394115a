//! SPDX 2.2 / 2.3 JSON.
//!
//! SPDX has no property bag, so each producer's facts come from where it
//! puts them: the purl (qualifiers `upstream`, `distro`, `arch`, `epoch`)
//! for all; `sourceInfo` (bosun: `found by <cataloger> at <path> (layer
//! <diff_id>), ...`; Syft: `acquired package info from ...: <paths>`;
//! Trivy: `built package from: <source> <version>`, `package found in:
//! <path>`); Trivy's `Key: value` package annotations, read as its
//! CycloneDX properties. bosun's owned-by is `owner CONTAINS owned` with a
//! `bosun owned-by` comment, Syft's an OTHER relationship commented
//! `ownership-by-file-overlap`.

use std::collections::BTreeSet;

use bosun_core::{Digest, Distro, Location, RelationshipKind, Unknown, UnknownKind};
use serde::Deserialize;

use super::{
    Builder, MAX_ELEMENTS, Props, Raw, ReadError, absolute, capped, clip, parse, parse_rfc3339,
    split_tool,
};
use crate::model::{ImageMetadata, Sbom, SourceInfo, SourceKind, Tool};

const FORMAT: &str = "SPDX";
const VERSIONS: &[&str] = &["SPDX-2.2", "SPDX-2.3"];
const NO_LICENSE: &[&str] = &["NOASSERTION", "NONE", ""];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    #[serde(default)]
    spdx_version: String,
    #[serde(rename = "SPDXID", default)]
    spdx_id: String,
    creation_info: Option<CreationInfo>,
    #[serde(default, deserialize_with = "capped")]
    document_describes: Vec<String>,
    #[serde(default, deserialize_with = "capped")]
    packages: Vec<Package>,
    #[serde(default, deserialize_with = "capped")]
    relationships: Vec<Relationship>,
    #[serde(default, deserialize_with = "capped")]
    annotations: Vec<Annotation>,
}

#[derive(Deserialize)]
struct CreationInfo {
    created: Option<String>,
    #[serde(default, deserialize_with = "capped")]
    creators: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    #[serde(default)]
    name: String,
    #[serde(rename = "SPDXID", default)]
    spdx_id: String,
    version_info: Option<String>,
    source_info: Option<String>,
    license_declared: Option<String>,
    license_concluded: Option<String>,
    description: Option<String>,
    #[serde(default, deserialize_with = "capped")]
    checksums: Vec<Checksum>,
    #[serde(default, deserialize_with = "capped")]
    external_refs: Vec<ExternalRef>,
    primary_package_purpose: Option<String>,
    #[serde(default, deserialize_with = "capped")]
    annotations: Vec<Annotation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    #[serde(default)]
    algorithm: String,
    #[serde(default)]
    checksum_value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    #[serde(default)]
    reference_type: String,
    #[serde(default)]
    reference_locator: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    #[serde(default)]
    spdx_element_id: String,
    #[serde(default)]
    relationship_type: String,
    #[serde(default)]
    related_spdx_element: String,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct Annotation {
    #[serde(default)]
    comment: String,
}

pub fn read(bytes: &[u8], origin: &str) -> Result<Sbom, ReadError> {
    let doc: Document = parse(bytes, origin, FORMAT, MAX_ELEMENTS)?;
    if !VERSIONS.contains(&doc.spdx_version.as_str()) {
        return Err(ReadError::UnsupportedVersion {
            origin: origin.to_string(),
            format: FORMAT,
            version: clip(&doc.spdx_version),
            supported: "SPDX-2.2, SPDX-2.3",
        });
    }
    let info = doc.creation_info.as_ref();
    let tool = info
        .and_then(|c| c.creators.iter().find_map(|c| c.strip_prefix("Tool:")))
        .map(split_tool)
        .unwrap_or(Tool {
            name: "unknown".into(),
            version: String::new(),
        });
    let created = info
        .and_then(|c| c.created.as_deref())
        .and_then(parse_rfc3339)
        .unwrap_or(0);
    let by_bosun = tool.name == "bosun";
    let by_trivy = tool.name == "trivy";

    let mut described: BTreeSet<&str> = doc.document_describes.iter().map(String::as_str).collect();
    for r in &doc.relationships {
        if r.relationship_type == "DESCRIBES" && r.spdx_element_id == doc.spdx_id {
            described.insert(&r.related_spdx_element);
        }
    }
    // Trivy's per-file targets (a Go binary, a lock file): not packages.
    let targets: BTreeSet<&str> = doc
        .packages
        .iter()
        .filter(|p| by_trivy && purl(p).is_none() && annotation(p, "Class").is_some())
        .map(|p| p.spdx_id.as_str())
        .collect();
    let go_targets: BTreeSet<&str> = doc
        .packages
        .iter()
        .filter(|p| {
            targets.contains(p.spdx_id.as_str()) && annotation(p, "Type") == Some("gobinary")
        })
        .map(|p| p.spdx_id.as_str())
        .collect();
    // Direct children of a Go binary target, stdlib aside, are its main modules.
    let mains: BTreeSet<&str> = doc
        .relationships
        .iter()
        .filter(|r| {
            r.relationship_type == "CONTAINS" && go_targets.contains(r.spdx_element_id.as_str())
        })
        .map(|r| r.related_spdx_element.as_str())
        .collect();

    let mut b = Builder::new(origin, "sbom-spdx", &tool.name);
    b.check_count(doc.packages.len(), "packages")?;
    let mut root = None;
    for (i, p) in doc.packages.iter().enumerate() {
        let purpose = p.primary_package_purpose.as_deref().unwrap_or_default();
        if described.contains(p.spdx_id.as_str()) {
            root.get_or_insert(p);
            continue;
        }
        if matches!(purpose, "OPERATING_SYSTEM" | "OPERATING-SYSTEM") {
            if b.distro.is_none() {
                b.distro = Some(Distro {
                    id: p.name.to_ascii_lowercase(),
                    version_id: p.version_info.clone().filter(|v| !v.is_empty()),
                    pretty_name: p.description.clone(),
                    ..Distro::default()
                });
            }
            continue;
        }
        if targets.contains(p.spdx_id.as_str()) {
            continue;
        }
        let mut props = Props::default();
        if by_trivy {
            for a in &p.annotations {
                if let Some((k, v)) = a.comment.split_once(": ") {
                    props.push(format!("aquasecurity:trivy:{k}"), v);
                }
            }
        }
        let (found_by, mut locations) = source_info(p.source_info.as_deref(), &mut props);
        if locations.is_empty()
            && let Some(layer) = props
                .get(&["aquasecurity:trivy:LayerDiffID"])
                .and_then(|d| d.parse::<Digest>().ok())
        {
            locations.push(Location {
                path: String::new(),
                layer: Some(layer),
            });
        } else if let (Some(l), Some(layer)) = (
            locations.first_mut(),
            props.get(&["aquasecurity:trivy:LayerDiffID"]),
        ) && l.layer.is_none()
        {
            l.layer = layer.parse().ok();
        }
        let license = [&p.license_declared, &p.license_concluded]
            .into_iter()
            .flatten()
            .find(|l| !NO_LICENSE.contains(&l.as_str()));
        let raw = Raw {
            id: p.spdx_id.clone(),
            name: p.name.clone(),
            version: p.version_info.clone().unwrap_or_default(),
            purl: purl(p).map(str::to_string),
            licenses: license.cloned().into_iter().collect(),
            locations,
            found_by,
            props,
            application: purpose == "APPLICATION" || mains.contains(p.spdx_id.as_str()),
            // bosun's SPDXIDs are `SPDXRef-Package-<purl type>-<package id>`.
            package_id: by_bosun
                .then(|| p.spdx_id.strip_prefix("SPDXRef-Package-"))
                .flatten()
                .and_then(|r| r.split_once('-'))
                .map(|(_, id)| id.to_string()),
        };
        b.add(raw, &format!("package {i}"));
    }
    for r in &doc.relationships {
        let comment = r.comment.as_deref().unwrap_or_default();
        let (from, to) = (&r.spdx_element_id, &r.related_spdx_element);
        match r.relationship_type.as_str() {
            "CONTAINS" if comment.starts_with("bosun owned-by") => {
                b.relate(to, from, RelationshipKind::OwnedBy)
            }
            "OTHER" if comment.starts_with("ownership-by-file-overlap") => {
                b.relate(to, from, RelationshipKind::OwnedBy)
            }
            "DEPENDS_ON" => b.relate(from, to, RelationshipKind::DependsOn),
            "DEPENDENCY_OF" => b.relate(to, from, RelationshipKind::DependsOn),
            _ => {}
        }
    }
    if by_bosun {
        b.unknowns
            .extend(doc.annotations.iter().filter_map(|a| unknown(&a.comment)));
    }
    let source = match root {
        Some(p) => source(p),
        None => super::unnamed_source(origin),
    };
    Ok(b.finish(tool, created, source))
}

fn purl(p: &Package) -> Option<&str> {
    p.external_refs
        .iter()
        .find(|r| r.reference_type == "purl")
        .map(|r| r.reference_locator.as_str())
}

/// The value of Trivy's `Key: value` annotation.
fn annotation<'a>(p: &'a Package, key: &str) -> Option<&'a str> {
    p.annotations.iter().find_map(|a| {
        a.comment
            .strip_prefix(key)
            .and_then(|r| r.strip_prefix(": "))
    })
}

/// The cataloger and locations `sourceInfo` gives, each producer's way;
/// Trivy's source package goes to `props`.
fn source_info(s: Option<&str>, props: &mut Props) -> (Option<String>, Vec<Location>) {
    let Some(s) = s else {
        return (None, Vec::new());
    };
    if let Some(rest) = s.strip_prefix("found by ") {
        let (by, at) = rest.split_once(" at ").unwrap_or((rest, ""));
        let locations = at
            .split(", ")
            .filter(|l| !l.is_empty())
            .map(
                |l| match l.strip_suffix(')').and_then(|l| l.rsplit_once(" (layer ")) {
                    Some((path, layer)) => Location {
                        path: path.to_string(),
                        layer: layer.parse().ok(),
                    },
                    None => Location {
                        path: l.to_string(),
                        layer: None,
                    },
                },
            )
            .collect();
        return (Some(by.to_string()), locations);
    }
    if let Some(rest) = s.strip_prefix("built package from: ") {
        if let Some((name, version)) = rest.trim().split_once(' ') {
            props.push("read:sourceName", name);
            props.push("read:sourceVersion", version.trim());
        }
        return (None, Vec::new());
    }
    if let Some(path) = s.strip_prefix("package found in: ") {
        return (
            None,
            vec![Location {
                path: absolute(path.trim()),
                layer: None,
            }],
        );
    }
    if let Some((_, paths)) = s
        .strip_prefix("acquired package info from ")
        .and_then(|r| r.split_once(": "))
    {
        let locations = paths
            .split(", ")
            .filter(|p| p.starts_with('/'))
            .map(|p| Location {
                path: p.to_string(),
                layer: None,
            })
            .collect();
        return (None, locations);
    }
    (None, Vec::new())
}

/// bosun's `unknown: <path> [(layer <diff_id>)] could not be read by <cataloger>: <message>`.
fn unknown(comment: &str) -> Option<Unknown> {
    let (kind, rest) = comment.split_once(": ")?;
    let kind = match kind {
        "unknown" => UnknownKind::Unparsed,
        k => k.parse().ok()?,
    };
    let (what, rest) = rest.split_once(" could not be read by ")?;
    let (cataloger, message) = rest.split_once(": ")?;
    let (path, layer) = match what
        .strip_suffix(')')
        .and_then(|w| w.rsplit_once(" (layer "))
    {
        Some((p, l)) => (p, l.parse().ok()),
        None => (what, None),
    };
    Some(Unknown {
        path: path.to_string(),
        layer,
        cataloger: cataloger.to_string(),
        message: message.to_string(),
        kind,
    })
}

fn source(p: &Package) -> SourceInfo {
    let kind = if p.primary_package_purpose.as_deref() == Some("CONTAINER") {
        SourceKind::Image
    } else {
        SourceKind::Directory
    };
    let version = p.version_info.clone().filter(|v| !v.is_empty());
    let image = (kind == SourceKind::Image).then(|| ImageMetadata {
        manifest_digest: version.as_deref().and_then(|v| v.parse().ok()).or_else(|| {
            p.checksums
                .iter()
                .find(|c| c.algorithm == "SHA256")
                .and_then(|c| format!("sha256:{}", c.checksum_value).parse().ok())
        }),
        ..ImageMetadata::default()
    });
    SourceInfo {
        kind,
        target: p
            .source_info
            .as_deref()
            .and_then(|s| s.strip_prefix("scanned from "))
            .map_or_else(|| p.name.clone(), str::to_string),
        name: p.name.clone(),
        version,
        image,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_checked() {
        for v in ["SPDX-2.1", "SPDX-3.0", "", "2.3"] {
            let doc = format!(r#"{{"spdxVersion":"{v}"}}"#);
            assert!(matches!(
                read(doc.as_bytes(), "x"),
                Err(ReadError::UnsupportedVersion { .. })
            ));
        }
    }

    #[test]
    fn source_infos() {
        let mut props = Props::default();
        let (by, l) = source_info(
            Some(
                "found by dpkg-cataloger at /var/lib/dpkg/status (layer sha256:5ca2f915ecc5a947be23d934df68599275207301e37bd60ab0105452ba229e0f), /x",
            ),
            &mut props,
        );
        assert_eq!(by.as_deref(), Some("dpkg-cataloger"));
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].path, "/var/lib/dpkg/status");
        assert!(l[0].layer.is_some() && l[1].layer.is_none());
        source_info(
            Some("built package from: util-linux 2.38.1-5+deb12u3"),
            &mut props,
        );
        assert_eq!(props.get(&["read:sourceName"]), Some("util-linux"));
        assert_eq!(props.get(&["read:sourceVersion"]), Some("2.38.1-5+deb12u3"));
        for junk in [
            "found by",
            "found by  at , ,",
            "built package from: ",
            "acquired package info from",
            "",
        ] {
            source_info(Some(junk), &mut Props::default());
        }
        assert!(unknown("unknown: /a (layer x) could not be read by c: m").is_some());
        assert!(unknown("unknown: nothing").is_none());
    }

    #[test]
    fn packages_without_purls() {
        let doc = r#"{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT",
            "packages":[{"SPDXID":"a","name":"x"},{"SPDXID":"b","name":"y","externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:"}]},
                        {"SPDXID":"c","name":"z","versionInfo":"1","externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:cargo/z@1"}]}],
            "relationships":[{"spdxElementId":"c","relationshipType":"DEPENDS_ON","relatedSpdxElement":"a"},{}]}"#;
        let s = read(doc.as_bytes(), "x.spdx.json").unwrap();
        assert_eq!(s.packages.len(), 1);
        assert_eq!(s.unknowns.len(), 2);
        assert!(s.relationships.is_empty());
    }
}
