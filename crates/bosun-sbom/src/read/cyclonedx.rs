//! CycloneDX JSON 1.2-1.7 (Trivy 0.76 writes 1.7).
//!
//! Nested components are flattened. bosun's `bosun:package:ownedBy`
//! property is the owned-by relationship (the matching `owner dependsOn
//! owned` edge bosun writes for graph consumers is not read again as a
//! dependency). Trivy lists each language-package file (a Go binary, a
//! lock file) as an `application` component that depends on what it
//! holds: its name is those packages' location, and for Go binaries its
//! direct dependencies other than `stdlib` are the main modules.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use bosun_core::{Digest, Distro, Location, RelationshipKind, Unknown, UnknownKind};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{
    Builder, MAX_ELEMENTS, Props, Raw, ReadError, absolute, capped, clip, parse, parse_rfc3339,
};
use crate::model::{ImageMetadata, LayerInfo, Sbom, SourceInfo, SourceKind, Tool};

const FORMAT: &str = "CycloneDX";
const VERSIONS: &[&str] = &["1.2", "1.3", "1.4", "1.5", "1.6", "1.7"];
const TRIVY: &str = "aquasecurity:trivy:";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bom {
    #[serde(default)]
    bom_format: String,
    spec_version: Option<String>,
    metadata: Option<Metadata>,
    #[serde(default, deserialize_with = "capped")]
    components: Vec<Component>,
    #[serde(default, deserialize_with = "capped")]
    dependencies: Vec<Dependency>,
    #[serde(default, deserialize_with = "capped")]
    properties: Vec<Property>,
}

#[derive(Deserialize)]
struct Metadata {
    timestamp: Option<String>,
    tools: Option<Tools>,
    component: Option<Component>,
}

#[derive(Deserialize, Default)]
struct ToolEntry {
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
}

/// `tools` is a list before CycloneDX 1.5 and `{components, services}`
/// since; read by hand because an untagged enum would buffer the input
/// outside the element budget.
struct Tools(Vec<ToolEntry>);

impl<'de> Deserialize<'de> for Tools {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Tools, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Tools;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a tools list or object")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Tools, A::Error> {
                let list: Wrapped =
                    Deserialize::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(Tools(list.0))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tools, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    if k == "components" {
                        out = map.next_value::<Wrapped>()?.0;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Tools(out))
            }
        }
        d.deserialize_any(V)
    }
}

struct Wrapped(Vec<ToolEntry>);
impl<'de> Deserialize<'de> for Wrapped {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Wrapped, D::Error> {
        capped(d).map(Wrapped)
    }
}

#[derive(Deserialize, Default)]
struct Component {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(rename = "bom-ref", default)]
    bom_ref: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
    description: Option<String>,
    purl: Option<String>,
    #[serde(default, deserialize_with = "capped")]
    licenses: Vec<LicenseChoice>,
    #[serde(default, deserialize_with = "capped")]
    hashes: Vec<Hash>,
    #[serde(default, deserialize_with = "capped")]
    properties: Vec<Property>,
    #[serde(default, deserialize_with = "capped")]
    components: Vec<Component>,
}

#[derive(Deserialize)]
struct LicenseChoice {
    license: Option<License>,
    expression: Option<String>,
}

#[derive(Deserialize)]
struct License {
    id: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct Hash {
    #[serde(default)]
    alg: String,
    #[serde(default)]
    content: String,
}

#[derive(Deserialize)]
struct Property {
    #[serde(default)]
    name: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
struct Dependency {
    #[serde(rename = "ref", default)]
    reference: String,
    #[serde(rename = "dependsOn", default, deserialize_with = "capped")]
    depends_on: Vec<String>,
}

fn props(list: &[Property]) -> Props {
    let mut p = Props::default();
    for x in list {
        p.push(x.name.clone(), x.value.clone());
    }
    p
}

pub fn read(bytes: &[u8], origin: &str) -> Result<Sbom, ReadError> {
    let bom: Bom = parse(bytes, origin, FORMAT, MAX_ELEMENTS)?;
    if bom.bom_format != "CycloneDX" {
        return Err(ReadError::UnknownFormat {
            origin: origin.to_string(),
            detail: format!("bomFormat is {:?}", clip(&bom.bom_format)),
        });
    }
    let version = bom.spec_version.clone().unwrap_or_default();
    if !VERSIONS.contains(&version.as_str()) {
        return Err(ReadError::UnsupportedVersion {
            origin: origin.to_string(),
            format: FORMAT,
            version: clip(&version),
            supported: "1.2 to 1.7",
        });
    }
    let tool = bom
        .metadata
        .as_ref()
        .and_then(|m| m.tools.as_ref())
        .and_then(|t| t.0.first())
        .map(|t| Tool {
            name: t.name.clone(),
            version: t.version.clone(),
        })
        .unwrap_or(Tool {
            name: "unknown".into(),
            version: String::new(),
        });

    // Flattened, depth-first; an explicit stack, so nesting costs no recursion.
    let mut all: Vec<&Component> = Vec::new();
    let mut stack: Vec<&Component> = bom.components.iter().rev().collect();
    while let Some(c) = stack.pop() {
        all.push(c);
        stack.extend(c.components.iter().rev());
    }
    let mut b = Builder::new(origin, "sbom-cyclonedx", &tool.name);
    b.check_count(all.len(), "components")?;

    let deps: BTreeMap<&str, &[String]> = bom
        .dependencies
        .iter()
        .map(|d| (d.reference.as_str(), d.depends_on.as_slice()))
        .collect();
    let by_ref: BTreeMap<&str, &Component> = all
        .iter()
        .filter(|c| !c.bom_ref.is_empty())
        .map(|c| (c.bom_ref.as_str(), *c))
        .rev() // the first of duplicate bom-refs wins
        .collect();
    let targets = trivy_targets(&all, &deps, &by_ref);

    let mut owned: BTreeSet<(String, String)> = BTreeSet::new();
    for (i, c) in all.iter().enumerate() {
        let p = props(&c.properties);
        if c.kind == "operating-system" {
            if b.distro.is_none() {
                b.distro = Some(distro(c, &p));
            }
            continue;
        }
        if c.purl.is_none() && p.get(&["aquasecurity:trivy:Class"]).is_some() {
            continue; // a Trivy target, not a package
        }
        for owner in p.all("bosun:package:ownedBy") {
            b.relate(&c.bom_ref, owner, RelationshipKind::OwnedBy);
            owned.insert((owner.to_string(), c.bom_ref.clone()));
        }
        let target = targets.get(c.bom_ref.as_str());
        let raw = Raw {
            id: c.bom_ref.clone(),
            name: c.name.clone(),
            version: c.version.clone(),
            purl: c.purl.clone(),
            licenses: licenses(&c.licenses),
            locations: locations(&p, target.map(|t| t.0.as_str())),
            found_by: p.opt(&["bosun:package:foundBy", "syft:package:foundBy"]),
            application: target.is_some_and(|t| t.1),
            props: p,
            package_id: None,
        };
        b.add(raw, &format!("component {i}"));
    }
    for d in &bom.dependencies {
        for to in &d.depends_on {
            // bosun's owner -> owned edge; the owned-by above says it exactly.
            if !owned.contains(&(d.reference.clone(), to.clone())) {
                b.relate(&d.reference, to, RelationshipKind::DependsOn);
            }
        }
    }
    b.unknowns.extend(unknowns(&props(&bom.properties)));

    let meta = bom.metadata.as_ref();
    let created = meta
        .and_then(|m| m.timestamp.as_deref())
        .and_then(parse_rfc3339)
        .unwrap_or(0);
    let source = match meta.and_then(|m| m.component.as_ref()) {
        Some(c) => source(c),
        None => super::unnamed_source(origin),
    };
    Ok(b.finish(tool, created, source))
}

/// For each component under a Trivy target: the target's path and whether
/// it is a main module (a direct, non-stdlib dependency of a Go binary).
fn trivy_targets(
    all: &[&Component],
    deps: &BTreeMap<&str, &[String]>,
    by_ref: &BTreeMap<&str, &Component>,
) -> BTreeMap<String, (String, bool)> {
    let mut out: BTreeMap<String, (String, bool)> = BTreeMap::new();
    for t in all.iter().filter(|c| {
        c.kind == "application"
            && c.purl.is_none()
            && c.properties
                .iter()
                .any(|p| p.name == "aquasecurity:trivy:Class" && p.value == "lang-pkgs")
    }) {
        let gobinary = t
            .properties
            .iter()
            .any(|p| p.name == "aquasecurity:trivy:Type" && p.value == "gobinary");
        let path = absolute(&t.name);
        let mut queue: VecDeque<(&str, bool)> = deps
            .get(t.bom_ref.as_str())
            .into_iter()
            .flat_map(|d| d.iter())
            .map(|r| (r.as_str(), true))
            .collect();
        let mut seen = BTreeSet::new();
        while let Some((r, direct)) = queue.pop_front() {
            if !seen.insert(r) {
                continue;
            }
            let main = direct && gobinary && by_ref.get(r).is_some_and(|c| c.name != "stdlib");
            out.entry(r.to_string()).or_insert((path.clone(), main));
            for next in deps.get(r).into_iter().flat_map(|d| d.iter()) {
                queue.push_back((next, false));
            }
        }
    }
    out
}

fn locations(p: &Props, target: Option<&str>) -> Vec<Location> {
    for prefix in ["bosun:location:", "syft:location:"] {
        let l = p.locations(prefix);
        if !l.is_empty() {
            return l;
        }
    }
    let layer: Option<Digest> = p
        .get(&["aquasecurity:trivy:LayerDiffID"])
        .and_then(|d| d.parse().ok());
    let path = p
        .get(&["aquasecurity:trivy:FilePath"])
        .map(absolute)
        .or_else(|| target.map(str::to_string));
    match (path, layer) {
        (Some(path), layer) => vec![Location { path, layer }],
        // Trivy gives OS packages a layer but no path.
        (None, Some(layer)) => vec![Location {
            path: String::new(),
            layer: Some(layer),
        }],
        (None, None) => Vec::new(),
    }
}

fn licenses(list: &[LicenseChoice]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in list {
        let s = l.expression.clone().or_else(|| {
            l.license
                .as_ref()
                .and_then(|x| x.id.clone().or(x.name.clone()))
        });
        if let Some(s) = s.filter(|s| !s.is_empty())
            && !out.contains(&s)
        {
            out.push(s);
        }
    }
    out
}

fn distro(c: &Component, p: &Props) -> Distro {
    Distro {
        id: c.name.to_ascii_lowercase(),
        version_id: Some(c.version.clone()).filter(|v| !v.is_empty()),
        version_codename: p.opt(&[
            "bosun:distro:versionCodename",
            "syft:distro:versionCodename",
        ]),
        pretty_name: c
            .description
            .clone()
            .or_else(|| p.opt(&["syft:distro:prettyName"])),
        id_like: p
            .get(&["bosun:distro:idLike", "syft:distro:idLike"])
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default(),
    }
}

/// bosun's document-level `bosun:unknown:<n>:<field>` properties.
fn unknowns(p: &Props) -> Vec<Unknown> {
    let mut by_index: BTreeMap<usize, Unknown> = BTreeMap::new();
    for (k, v) in &p.0 {
        let Some((i, field)) = k
            .strip_prefix("bosun:unknown:")
            .and_then(|r| r.split_once(':'))
        else {
            continue;
        };
        let Ok(i) = i.parse::<usize>() else { continue };
        let u = by_index.entry(i).or_insert_with(|| Unknown {
            path: String::new(),
            layer: None,
            cataloger: String::new(),
            message: String::new(),
            kind: UnknownKind::Unparsed,
        });
        match field {
            "path" => u.path = v.clone(),
            "layerID" => u.layer = v.parse().ok(),
            "cataloger" => u.cataloger = v.clone(),
            "message" => u.message = v.clone(),
            "kind" => u.kind = v.parse().unwrap_or_default(),
            _ => {}
        }
    }
    by_index.into_values().collect()
}

fn source(c: &Component) -> SourceInfo {
    let p = props(&c.properties);
    let kind = if c.kind == "container" {
        SourceKind::Image
    } else {
        SourceKind::Directory
    };
    let version = Some(c.version.clone()).filter(|v| !v.is_empty());
    let image = (kind == SourceKind::Image).then(|| {
        let hashed = c
            .hashes
            .iter()
            .find(|h| h.alg == "SHA-256")
            .and_then(|h| format!("sha256:{}", h.content).parse().ok());
        let mut labels = BTreeMap::new();
        for (k, v) in &p.0 {
            let label = k
                .strip_prefix("bosun:image:label:")
                .or_else(|| k.strip_prefix("syft:image:labels:"))
                .or_else(|| k.strip_prefix(&format!("{TRIVY}Labels:")));
            if let Some(l) = label {
                labels.insert(l.to_string(), v.clone());
            }
        }
        ImageMetadata {
            manifest_digest: version.as_deref().and_then(|v| v.parse().ok()).or(hashed),
            manifest_media_type: p
                .get(&["bosun:image:manifestMediaType"])
                .unwrap_or_default()
                .to_string(),
            config_digest: p
                .get(&["bosun:image:configDigest", "aquasecurity:trivy:ImageID"])
                .and_then(|d| d.parse().ok()),
            os: p.get(&["bosun:image:os"]).unwrap_or_default().to_string(),
            architecture: p
                .get(&["bosun:image:architecture"])
                .unwrap_or_default()
                .to_string(),
            labels,
            layers: layers(&p),
            tags: p.all("bosun:image:tag").map(str::to_string).collect(),
            ..ImageMetadata::default()
        }
    });
    SourceInfo {
        kind,
        target: p
            .get(&["bosun:source:target"])
            .map_or_else(|| c.name.clone(), str::to_string),
        name: c.name.clone(),
        version,
        image,
    }
}

/// bosun's `bosun:image:layer:<n>:<field>` properties; layers missing a
/// field are left out.
fn layers(p: &Props) -> Vec<LayerInfo> {
    type Parts = (Option<String>, Option<Digest>, Option<Digest>, Option<u64>);
    let mut by_index: BTreeMap<usize, Parts> = BTreeMap::new();
    for (k, v) in &p.0 {
        let Some((i, field)) = k
            .strip_prefix("bosun:image:layer:")
            .and_then(|r| r.split_once(':'))
        else {
            continue;
        };
        let Ok(i) = i.parse::<usize>() else { continue };
        let e = by_index.entry(i).or_default();
        match field {
            "mediaType" => e.0 = Some(v.clone()),
            "digest" => e.1 = v.parse().ok(),
            "diffID" => e.2 = v.parse().ok(),
            "size" => e.3 = v.parse().ok(),
            _ => {}
        }
    }
    by_index
        .into_values()
        .filter_map(|(m, d, id, s)| {
            Some(LayerInfo {
                media_type: m?,
                digest: d?,
                diff_id: id?,
                size: s?,
            })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn bom(components: &str) -> String {
        format!(r#"{{"bomFormat":"CycloneDX","specVersion":"1.4","components":{components}}}"#)
    }

    #[test]
    fn versions_are_checked() {
        for v in ["1.0", "2.0", "", "1.6.1"] {
            let doc = format!(r#"{{"bomFormat":"CycloneDX","specVersion":"{v}"}}"#);
            assert!(matches!(
                read(doc.as_bytes(), "x"),
                Err(ReadError::UnsupportedVersion { .. })
            ));
        }
        let old = r#"{"bomFormat":"CycloneDX","specVersion":"1.2","metadata":{"tools":[{"vendor":"x","name":"t","version":"1"}]}}"#;
        assert_eq!(read(old.as_bytes(), "x").unwrap().tool.name, "t");
    }

    #[test]
    fn bad_components_become_unknowns() {
        let doc = bom(r#"[{"type":"library"},
                {"type":"library","name":"x","purl":"pkg:deb/x%zz@1"},
                {"type":"library","name":"y","purl":"pkg:generic/y@1"},
                {"type":"library","name":"z","version":"1","purl":"pkg:pypi/z@1","bom-ref":"a"},
                {"type":"library","name":"w","version":"2","purl":"pkg:pypi/w@2","bom-ref":"a"},
                {"type":"library","name":"v","version":"3","properties":[{"name":"syft:package:type","value":"python"}]},
                {"type":"library","name":"u","version":"4","components":[{"name":"n","version":"5","purl":"pkg:npm/n@5"}]}]"#);
        let s = read(doc.as_bytes(), "x.json").unwrap();
        let names: Vec<_> = s.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["z", "w", "v", "n"]);
        assert_eq!(s.unknowns.len(), 4, "{:#?}", s.unknowns);
        assert!(s.unknowns[1].message.contains("does not parse"));
        // Duplicate bom-refs get distinct package ids; the first keeps the ref.
        assert_eq!(s.packages[0].id, "a");
        assert_ne!(s.packages[1].id, "a");
        // Kind inferred from the producer's type; the purl computed.
        assert_eq!(s.packages[2].purl, "pkg:pypi/v@3");
    }

    #[test]
    fn hostile_documents_are_errors() {
        // The element cap, at a size a test can afford.
        let ten = bom(&format!("[{}{{}}]", "{},".repeat(9)));
        assert!(parse::<Bom>(ten.as_bytes(), "x", FORMAT, 10).is_ok());
        let eleven = bom(&format!("[{}{{}}]", "{},".repeat(10)));
        let e = parse::<Bom>(eleven.as_bytes(), "x", FORMAT, 10)
            .err()
            .unwrap();
        let e = bosun_core::text::chain(&e);
        assert!(e.contains("too many list elements"), "{e}");
        let mut deep =
            String::from(r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":"#);
        for _ in 0..10_000 {
            deep.push_str(r#"[{"name":"a","components":"#);
        }
        assert!(read(deep.as_bytes(), "x").is_err());
        for bad in [
            bom("5"),
            bom(r#"[{"name":7}]"#),
            bom(r#"[{"properties":[1]}]"#),
        ] {
            assert!(read(bad.as_bytes(), "x").is_err(), "{bad}");
        }
    }
}
