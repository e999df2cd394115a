//! SBOM readers: CycloneDX JSON (1.2-1.7), SPDX 2.2/2.3 JSON and bosun
//! JSON back into the [`Sbom`] model, so that a document written by bosun,
//! Syft or Trivy can be scanned for vulnerabilities.
//!
//! What matching needs is recovered for every package: kind (from the purl
//! type, else from the producer's package type), name, version, purl,
//! locations, the source package of OS packages, Go module roles and
//! toolchain versions, the distro and ownership. Each producer's
//! conventions (bosun's `bosun:` properties, Syft's `syft:` properties and
//! purl qualifiers, Trivy's `aquasecurity:trivy:` properties and SPDX
//! annotations) are read into one property list per package, and the
//! package is built from that list here, the same way for every format.
//! Elements that are not packages bosun can match are left out and, unless
//! they are the document's structure (the subject, the OS, Trivy's
//! per-file targets), recorded as unknowns with the reason.
//!
//! Input is untrusted: the input size cap is the caller's, but list lengths
//! are capped here ([`MAX_ELEMENTS`] over the whole document), serde_json's
//! recursion limit bounds nesting, and nothing panics on bad data.

pub mod bosun;
pub mod cyclonedx;
pub mod spdx;

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::marker::PhantomData;

use bosun_core::package::{
    ApkMetadata, ComposerMetadata, DotNetMetadata, DpkgMetadata, GemMetadata, GoMetadata,
    GoModuleRole, JavaMetadata, NpmMetadata, PythonMetadata, RpmMetadata, RustMetadata,
};
use bosun_core::{
    Digest, Distro, Location, Package, PackageKind, PackageMetadata, Relationship,
    RelationshipKind, Unknown,
};
use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};

use crate::model::{Sbom, SourceInfo, SourceKind, Tool};

/// Most list elements (components, properties, relationships, ...) one
/// document may hold, all lists together.
pub const MAX_ELEMENTS: usize = 2_000_000;
/// Most packages one document may describe.
pub const MAX_PACKAGES: usize = 500_000;
/// Longest purl parsed; longer ones are reported, not parsed.
const MAX_PURL: usize = 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{origin}: not JSON")]
    NotJson {
        origin: String,
        source: serde_json::Error,
    },
    #[error(
        "{origin}: not an SBOM bosun reads ({detail}); expected CycloneDX JSON, SPDX 2.2/2.3 JSON or bosun JSON"
    )]
    UnknownFormat { origin: String, detail: String },
    #[error("{origin}: {format} version {version:?} is not supported (supported: {supported})")]
    UnsupportedVersion {
        origin: String,
        format: &'static str,
        version: String,
        supported: &'static str,
    },
    #[error("{origin}: invalid {format} document")]
    Invalid {
        origin: String,
        format: &'static str,
        source: serde_json::Error,
    },
    #[error("{origin}: more than {max} {what}")]
    TooMany {
        origin: String,
        what: &'static str,
        max: usize,
    },
}

/// The formats [`read`] recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SbomFormat {
    CycloneDxJson,
    SpdxJson,
    BosunJson,
}

#[derive(serde::Deserialize)]
struct Probe {
    #[serde(rename = "bomFormat")]
    bom_format: Option<String>,
    #[serde(rename = "spdxVersion")]
    spdx_version: Option<String>,
    schema: Option<String>,
}

/// Which format `bytes` is in, from its top-level fields.
pub fn detect(bytes: &[u8], origin: &str) -> Result<SbomFormat, ReadError> {
    let probe: Probe = serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ReadError::UnknownFormat {
            origin: origin.to_string(),
            detail: e.to_string(),
        },
        _ => ReadError::NotJson {
            origin: origin.to_string(),
            source: e,
        },
    })?;
    if probe.bom_format.as_deref() == Some("CycloneDX") {
        Ok(SbomFormat::CycloneDxJson)
    } else if probe.spdx_version.is_some() {
        Ok(SbomFormat::SpdxJson)
    } else if probe.schema.is_some() {
        Ok(SbomFormat::BosunJson)
    } else {
        Err(ReadError::UnknownFormat {
            origin: origin.to_string(),
            detail: match probe.bom_format {
                Some(f) => format!("bomFormat is {:?}", clip(&f)),
                None => "no bomFormat, spdxVersion or schema field".to_string(),
            },
        })
    }
}

/// Read an SBOM in any supported format. `origin` names the input in errors
/// and unknowns (a file name).
pub fn read(bytes: &[u8], origin: &str) -> Result<Sbom, ReadError> {
    match detect(bytes, origin)? {
        SbomFormat::CycloneDxJson => cyclonedx::read(bytes, origin),
        SbomFormat::SpdxJson => spdx::read(bytes, origin),
        SbomFormat::BosunJson => bosun::read(bytes, origin),
    }
}

// ---------------------------------------------------------------------------
// Capped lists.

thread_local! {
    /// List elements the document being read may still hold.
    static BUDGET: Cell<usize> = const { Cell::new(0) };
}

/// Deserialise `T` with a fresh element budget. serde gives no way to pass
/// state to nested `Deserialize` impls other than seeds throughout, so the
/// budget lives in a thread-local for the duration of the call.
pub(crate) fn parse<T: de::DeserializeOwned>(
    bytes: &[u8],
    origin: &str,
    format: &'static str,
    max_elements: usize,
) -> Result<T, ReadError> {
    BUDGET.with(|b| b.set(max_elements));
    let r = serde_json::from_slice(bytes);
    BUDGET.with(|b| b.set(0));
    r.map_err(|source| ReadError::Invalid {
        origin: origin.to_string(),
        format,
        source,
    })
}

/// A `Vec` whose elements count against the document's budget; `null` is
/// an empty list.
pub(crate) fn capped<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct V<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::new();
            loop {
                let left = BUDGET.with(|b| b.get());
                if left == 0 {
                    // Only an error if another element follows.
                    return match seq.next_element::<de::IgnoredAny>()? {
                        None => Ok(out),
                        Some(_) => Err(de::Error::custom("too many list elements in the document")),
                    };
                }
                match seq.next_element()? {
                    Some(x) => {
                        BUDGET.with(|b| b.set(left - 1));
                        out.push(x);
                    }
                    None => return Ok(out),
                }
            }
        }
    }
    d.deserialize_any(V(PhantomData))
}

// ---------------------------------------------------------------------------
// Package URLs.

/// A parsed purl, components percent-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purl {
    pub ty: String,
    pub namespace: Option<String>,
    pub name: String,
    pub version: Option<String>,
    pub qualifiers: BTreeMap<String, String>,
}

impl Purl {
    pub fn parse(s: &str) -> Result<Purl, String> {
        if s.len() > MAX_PURL {
            return Err(format!("longer than {MAX_PURL} bytes"));
        }
        let rest = match s.get(..4) {
            Some(p) if p.eq_ignore_ascii_case("pkg:") => &s[4..],
            _ => return Err("does not start with pkg:".into()),
        };
        let rest = rest.trim_start_matches('/');
        let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
        let (rest, qs) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let mut qualifiers = BTreeMap::new();
        for kv in qs.into_iter().flat_map(|q| q.split('&')) {
            let Some((k, v)) = kv.split_once('=') else {
                continue;
            };
            let v = decode(v)?;
            if !k.is_empty() && !v.is_empty() {
                qualifiers.insert(k.to_ascii_lowercase(), v);
            }
        }
        let (rest, version) = match rest.rsplit_once('@') {
            Some((r, v)) => (r, Some(decode(v)?).filter(|v| !v.is_empty())),
            None => (rest, None),
        };
        let rest = rest.trim_end_matches('/');
        let Some((ty, path)) = rest.split_once('/') else {
            return Err("no name".into());
        };
        if ty.is_empty()
            || !ty
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-'))
        {
            return Err(format!("invalid type {:?}", clip(ty)));
        }
        let mut segs = Vec::new();
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            segs.push(decode(seg)?);
        }
        let name = segs.pop().unwrap_or_default();
        if name.is_empty() {
            return Err("no name".into());
        }
        Ok(Purl {
            ty: ty.to_ascii_lowercase(),
            namespace: Some(segs.join("/")).filter(|n| !n.is_empty()),
            name,
            version,
            qualifiers,
        })
    }

    pub fn qualifier(&self, key: &str) -> Option<&str> {
        self.qualifiers.get(key).map(String::as_str)
    }

    /// The package name as the ecosystem writes it (scope or module path included).
    fn full_name(&self, kind: PackageKind) -> String {
        match (&self.namespace, kind) {
            (Some(ns), PackageKind::Npm | PackageKind::GoModule | PackageKind::Composer) => {
                format!("{ns}/{}", self.name)
            }
            _ => self.name.clone(),
        }
    }
}

fn decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent-encoding in {:?}", clip(s)))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{:?} decodes to invalid UTF-8", clip(s)))
}

fn kind_of_purl_type(ty: &str) -> Option<PackageKind> {
    Some(match ty {
        "deb" => PackageKind::Deb,
        "rpm" => PackageKind::Rpm,
        "apk" => PackageKind::Apk,
        "pypi" => PackageKind::Python,
        "npm" => PackageKind::Npm,
        "golang" => PackageKind::GoModule,
        "cargo" => PackageKind::RustCrate,
        "maven" => PackageKind::Java,
        "gem" => PackageKind::Gem,
        "composer" => PackageKind::Composer,
        "nuget" => PackageKind::DotNet,
        _ => return None,
    })
}

/// The kind a producer's own package type names: bosun's metadata type,
/// Syft's `syft:package:type`, Trivy's `PkgType`.
fn kind_of_type_name(t: &str) -> Option<PackageKind> {
    Some(match t {
        "dpkg" | "deb" | "debian" | "ubuntu" => PackageKind::Deb,
        "rpm" | "redhat" | "centos" | "rocky" | "alma" | "fedora" | "amazon" | "oracle"
        | "photon" | "suse" | "opensuse" | "azurelinux" | "cbl-mariner" => PackageKind::Rpm,
        "apk" | "alpine" | "wolfi" | "chainguard" => PackageKind::Apk,
        "python" | "python-pkg" | "pip" | "pipenv" | "poetry" | "uv" => PackageKind::Python,
        "npm" | "node-pkg" | "yarn" | "pnpm" => PackageKind::Npm,
        "go" | "go-module" | "gobinary" | "gomod" => PackageKind::GoModule,
        "rust" | "rust-crate" | "cargo" | "rustbinary" | "rust-binary" => PackageKind::RustCrate,
        "java" | "java-archive" | "jar" | "pom" | "gradle" | "sbt" => PackageKind::Java,
        "gem" | "gemspec" | "bundler" => PackageKind::Gem,
        "composer" | "php-composer" | "composer-vendor" => PackageKind::Composer,
        "dot-net" | "dotnet" | "dotnet-core" | "nuget" | "packages-props" => PackageKind::DotNet,
        _ => return None,
    })
}

// ---------------------------------------------------------------------------
// The format-independent package description and the document builder.

/// Name/value pairs a producer attached to one element, in document order.
#[derive(Debug, Default, Clone)]
pub(crate) struct Props(pub Vec<(String, String)>);

impl Props {
    pub(crate) fn push(&mut self, k: impl Into<String>, v: impl Into<String>) {
        let v = v.into();
        if !v.is_empty() {
            self.0.push((k.into(), v));
        }
    }
    /// The first non-empty value of the first key that has one.
    pub(crate) fn get(&self, keys: &[&str]) -> Option<&str> {
        keys.iter()
            .find_map(|k| self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()))
    }
    pub(crate) fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n == key)
            .map(|(_, v)| v.as_str())
    }
    /// `<prefix><n>:path` / `<prefix><n>:layerID` pairs (bosun's and Syft's
    /// location properties), in index order.
    pub(crate) fn locations(&self, prefix: &str) -> Vec<Location> {
        let mut by_index: BTreeMap<usize, (Option<String>, Option<Digest>)> = BTreeMap::new();
        for (k, v) in &self.0 {
            let Some((i, field)) = k.strip_prefix(prefix).and_then(|r| r.split_once(':')) else {
                continue;
            };
            let Ok(i) = i.parse::<usize>() else { continue };
            let e = by_index.entry(i).or_default();
            match field {
                "path" => e.0 = Some(v.clone()),
                "layerID" => e.1 = v.parse().ok(),
                _ => {}
            }
        }
        by_index
            .into_values()
            .filter_map(|(path, layer)| path.map(|path| Location { path, layer }))
            .collect()
    }
    fn flag(&self, key: &str) -> bool {
        self.get(&[key]) == Some("true")
    }
    fn string(&self, keys: &[&str]) -> String {
        self.get(keys).unwrap_or_default().to_string()
    }
    fn opt(&self, keys: &[&str]) -> Option<String> {
        self.get(keys).map(str::to_string)
    }
    fn num(&self, keys: &[&str]) -> Option<u64> {
        self.get(keys).and_then(|v| v.trim().parse().ok())
    }
}

/// One package-like element of a document, as the format reader found it.
#[derive(Debug, Default)]
pub(crate) struct Raw {
    /// The element's id in the document (bom-ref, SPDXID); may be empty.
    pub id: String,
    pub name: String,
    pub version: String,
    pub purl: Option<String>,
    pub licenses: Vec<String>,
    pub locations: Vec<Location>,
    pub found_by: Option<String>,
    pub props: Props,
    /// The producer marks it as the application itself (SPDX purpose
    /// APPLICATION; a Trivy binary's main module).
    pub application: bool,
    /// The package id to give it when not `id` (bosun's own id inside an SPDXID).
    pub package_id: Option<String>,
}

/// Collects packages, relationships and unknowns while a format reader
/// walks its document, then assembles the [`Sbom`].
pub(crate) struct Builder {
    origin: String,
    reader: &'static str,
    tool: String,
    packages: Vec<Package>,
    /// Document element id -> package id, first element wins.
    ids: BTreeMap<String, String>,
    used_ids: BTreeSet<String>,
    relationships: Vec<(String, String, RelationshipKind)>,
    pub(crate) unknowns: Vec<Unknown>,
    pub(crate) distro: Option<Distro>,
}

impl Builder {
    pub(crate) fn new(origin: &str, reader: &'static str, tool: &str) -> Builder {
        Builder {
            origin: origin.to_string(),
            reader,
            tool: tool.to_string(),
            packages: Vec::new(),
            ids: BTreeMap::new(),
            used_ids: BTreeSet::new(),
            relationships: Vec::new(),
            unknowns: Vec::new(),
            distro: None,
        }
    }

    pub(crate) fn check_count(&self, n: usize, what: &'static str) -> Result<(), ReadError> {
        if n > MAX_PACKAGES {
            return Err(ReadError::TooMany {
                origin: self.origin.clone(),
                what,
                max: MAX_PACKAGES,
            });
        }
        Ok(())
    }

    pub(crate) fn unknown(&mut self, message: String) {
        self.unknowns.push(Unknown {
            path: self.origin.clone(),
            layer: None,
            cataloger: self.reader.to_string(),
            message,
            kind: bosun_core::UnknownKind::Unparsed,
        });
    }

    /// Add one element; `what` names it in the unknown when it is skipped
    /// (`component 3`).
    pub(crate) fn add(&mut self, raw: Raw, what: &str) {
        let label = if raw.name.is_empty() {
            format!("{what} (id {:?})", clip(&raw.id))
        } else {
            format!("{what} {:?}", clip(&raw.name))
        };
        match self.package(raw) {
            Ok((doc_id, p)) => {
                if !doc_id.is_empty() {
                    self.ids.entry(doc_id).or_insert_with(|| p.id.clone());
                }
                self.packages.push(p);
            }
            Err(reason) => self.unknown(format!("{label} skipped: {reason}")),
        }
    }

    fn package(&mut self, raw: Raw) -> Result<(String, Package), String> {
        let Raw {
            id,
            name,
            version,
            purl,
            licenses,
            locations,
            found_by,
            props,
            application,
            package_id,
        } = raw;
        let (parsed, purl_err) = match purl.as_deref().filter(|p| !p.is_empty()) {
            Some(s) => match Purl::parse(s) {
                Ok(p) => (Some(p), None),
                Err(e) => (
                    None,
                    Some(format!("purl {:?} does not parse: {e}", clip(s))),
                ),
            },
            None => (None, None),
        };
        let hinted = props
            .get(&[
                "bosun:package:metadataType",
                "syft:package:type",
                "aquasecurity:trivy:PkgType",
            ])
            .and_then(kind_of_type_name);
        let kind = match (&parsed, hinted) {
            (Some(p), hint) => match kind_of_purl_type(&p.ty).or(hint) {
                Some(k) => k,
                None => {
                    return Err(format!(
                        "purl type {:?} is not an ecosystem bosun matches",
                        p.ty
                    ));
                }
            },
            (None, Some(k)) => k,
            (None, None) => {
                return Err(purl_err.unwrap_or_else(|| "no purl and no package type".into()));
            }
        };
        let name = if name.is_empty() {
            parsed
                .as_ref()
                .map(|p| p.full_name(kind))
                .unwrap_or_default()
        } else {
            name
        };
        if name.is_empty() {
            return Err("no name".into());
        }
        let mut version = if version.is_empty() {
            let v = parsed
                .as_ref()
                .and_then(|p| p.version.clone())
                .unwrap_or_default();
            // Trivy moves a Debian epoch into a qualifier.
            match parsed.as_ref().and_then(|p| p.qualifier("epoch")) {
                Some(e) if kind == PackageKind::Deb && !v.is_empty() && !v.contains(':') => {
                    format!("{e}:{v}")
                }
                _ => v,
            }
        } else {
            version
        };
        if kind == PackageKind::GoModule && name == "stdlib" {
            version = go_toolchain(&version);
        }
        let metadata = metadata(kind, &name, &version, parsed.as_ref(), &props, application);
        let base = match package_id.filter(|p| !p.is_empty()) {
            Some(p) => p,
            None if id.is_empty() => format!("{}-{}", kind.purl_type(), self.packages.len()),
            None => id.clone(),
        };
        let mut pid = base.clone();
        let mut n = 1;
        while self.used_ids.contains(&pid) {
            n += 1;
            pid = format!("{base}#{n}");
        }
        self.used_ids.insert(pid.clone());
        Ok((
            id,
            Package {
                id: pid,
                name,
                version,
                kind,
                purl: if parsed.is_some() {
                    purl.unwrap_or_default()
                } else {
                    String::new()
                },
                licenses,
                locations,
                found_by: found_by.unwrap_or_else(|| self.tool.clone()),
                metadata,
            },
        ))
    }

    /// A relationship between two document elements; those that do not
    /// both name packages are dropped in [`Builder::finish`].
    pub(crate) fn relate(&mut self, from: &str, to: &str, kind: RelationshipKind) {
        self.relationships
            .push((from.to_string(), to.to_string(), kind));
    }

    pub(crate) fn finish(mut self, tool: Tool, created: i64, source: SourceInfo) -> Sbom {
        if self.distro.is_none() {
            self.distro = self.distro_from_purls();
        }
        let mut seen = BTreeSet::new();
        let mut relationships = Vec::new();
        for (from, to, kind) in &self.relationships {
            let (Some(f), Some(t)) = (self.ids.get(from), self.ids.get(to)) else {
                continue;
            };
            if f != t && seen.insert((f.clone(), t.clone(), *kind)) {
                relationships.push(Relationship {
                    from: f.clone(),
                    to: t.clone(),
                    kind: *kind,
                });
            }
        }
        fill_go(&mut self.packages, &relationships);
        for p in &mut self.packages {
            if p.purl.is_empty() {
                p.purl = p.compute_purl(self.distro.as_ref());
            }
        }
        Sbom {
            tool,
            created,
            source,
            distro: self.distro,
            packages: self.packages,
            relationships,
            unknowns: self.unknowns,
        }
    }

    /// The `distro` qualifier of the first OS package that has one
    /// (`debian-12`, `debian-12.5`, `alpine-3.18.4`).
    fn distro_from_purls(&self) -> Option<Distro> {
        self.packages
            .iter()
            .filter(|p| p.kind.is_os())
            .find_map(|p| {
                let q = Purl::parse(&p.purl).ok()?.qualifiers.remove("distro")?;
                Some(distro_from_qualifier(&q))
            })
    }
}

pub(crate) fn distro_from_qualifier(q: &str) -> Distro {
    let (id, version) = match q.rsplit_once('-') {
        Some((id, v)) if v.starts_with(|c: char| c.is_ascii_digit()) && !id.is_empty() => {
            (id, Some(v.to_string()))
        }
        _ => (q, None),
    };
    Distro {
        id: id.to_ascii_lowercase(),
        version_id: version,
        ..Distro::default()
    }
}

/// bosun writes the Go toolchain as `go1.19.8`; Trivy writes `v1.19.8`,
/// Syft's purl `1.19.8`.
fn go_toolchain(v: &str) -> String {
    let bare = v.strip_prefix('v').unwrap_or(v);
    if bare.starts_with(|c: char| c.is_ascii_digit()) {
        format!("go{bare}")
    } else {
        v.to_string()
    }
}

/// Go modules found in one binary share its toolchain version and main
/// module; fill them in from the binary's stdlib and main packages where
/// the document did not say (bosun SPDX, Trivy, Syft SPDX). A binary whose
/// main module is not marked (Syft SPDX) has it as the module that depends
/// on others there and that none there depends on.
fn fill_go(packages: &mut [Package], relationships: &[Relationship]) {
    let binary = |p: &Package| match (&p.metadata, p.locations.first()) {
        (PackageMetadata::Go(m), Some(l)) => Some((m.role, l.path.clone())),
        _ => None,
    };
    let in_binary: BTreeMap<&str, (GoModuleRole, String)> = packages
        .iter()
        .filter_map(|p| binary(p).map(|b| (p.id.as_str(), b)))
        .collect();
    let has_main: BTreeSet<&str> = in_binary
        .values()
        .filter(|(r, _)| *r == GoModuleRole::Main)
        .map(|(_, path)| path.as_str())
        .collect();
    let (mut depends, mut depended): (BTreeSet<String>, BTreeSet<String>) = Default::default();
    for r in relationships
        .iter()
        .filter(|r| r.kind == RelationshipKind::DependsOn)
    {
        if let (Some((_, a)), Some((_, b))) =
            (in_binary.get(r.from.as_str()), in_binary.get(r.to.as_str()))
            && a == b
        {
            depends.insert(r.from.clone());
            depended.insert(r.to.clone());
        }
    }
    let promote: BTreeSet<String> = in_binary
        .iter()
        .filter(|(id, (role, path))| {
            *role == GoModuleRole::Dep
                && !has_main.contains(path.as_str())
                && depends.contains(**id)
                && !depended.contains(**id)
        })
        .map(|(id, _)| id.to_string())
        .collect();
    for p in packages.iter_mut() {
        if let PackageMetadata::Go(m) = &mut p.metadata
            && promote.contains(&p.id)
        {
            m.role = GoModuleRole::Main;
        }
    }

    let mut toolchain: BTreeMap<String, String> = BTreeMap::new();
    let mut main: BTreeMap<String, String> = BTreeMap::new();
    for p in packages.iter() {
        match binary(p) {
            Some((GoModuleRole::Stdlib, path)) => {
                toolchain.entry(path).or_insert_with(|| p.version.clone());
            }
            Some((GoModuleRole::Main, path)) => {
                main.entry(path).or_insert_with(|| p.name.clone());
            }
            _ => {}
        }
    }
    for p in packages.iter_mut() {
        let Some(path) = p.locations.first().map(|l| l.path.clone()) else {
            continue;
        };
        if let PackageMetadata::Go(m) = &mut p.metadata {
            if m.go_version.is_empty()
                && let Some(v) = toolchain.get(&path)
            {
                m.go_version = v.clone();
            }
            if m.main_module.is_none() {
                m.main_module = main.get(&path).cloned();
            }
        }
    }
}

/// Ecosystem metadata from the element's properties, purl qualifiers and
/// the producers' conventions, bosun's own properties first.
fn metadata(
    kind: PackageKind,
    name: &str,
    version: &str,
    purl: Option<&Purl>,
    props: &Props,
    application: bool,
) -> PackageMetadata {
    let q = |k: &str| purl.and_then(|p| p.qualifier(k)).map(str::to_string);
    // `upstream=src` or `upstream=src@version` (Syft, bosun).
    let upstream = q("upstream").map(|u| match u.rsplit_once('@') {
        Some((n, v)) => (n.to_string(), Some(v.to_string())),
        None => (u, None),
    });
    let arch = || {
        props
            .opt(&["bosun:metadata:architecture", "syft:metadata:architecture"])
            .or_else(|| q("arch"))
            .unwrap_or_default()
    };
    match kind {
        PackageKind::Deb => {
            let source = props
                .opt(&[
                    "bosun:metadata:source",
                    "syft:metadata:source",
                    "read:sourceName",
                    "aquasecurity:trivy:SrcName",
                ])
                .or_else(|| upstream.as_ref().map(|u| u.0.clone()))
                .unwrap_or_else(|| name.to_string());
            let source_version = props
                .opt(&[
                    "bosun:metadata:sourceVersion",
                    "syft:metadata:sourceVersion",
                    "read:sourceVersion",
                ])
                .or_else(|| trivy_source_version(props))
                .or_else(|| upstream.as_ref().and_then(|u| u.1.clone()))
                .unwrap_or_else(|| strip_binnmu(version).to_string());
            PackageMetadata::Dpkg(DpkgMetadata {
                source,
                source_version,
                architecture: arch(),
                maintainer: props.opt(&["bosun:metadata:maintainer"]),
                installed_size_kib: props.num(&[
                    "bosun:metadata:installedSizeKiB",
                    "syft:metadata:installedSize",
                ]),
                files: Vec::new(),
            })
        }
        PackageKind::Rpm => {
            let evr = version.split_once(':').map_or(version, |(_, vr)| vr);
            let (v, r) = evr.rsplit_once('-').unwrap_or((evr, ""));
            let source_rpm = props
                .opt(&["bosun:metadata:sourceRpm", "syft:metadata:sourceRpm"])
                .or_else(|| q("upstream").filter(|u| u.ends_with(".rpm")));
            let from_srpm = source_rpm.as_deref().and_then(parse_source_rpm);
            let trivy = props
                .opt(&["aquasecurity:trivy:SrcName"])
                .zip(trivy_source_version(props));
            let read = props
                .opt(&["read:sourceName"])
                .zip(props.opt(&["read:sourceVersion"]));
            let (source_name, source_version) = props
                .opt(&["bosun:metadata:source"])
                .zip(props.opt(&["bosun:metadata:sourceVersion"]))
                .or(from_srpm)
                .or(trivy)
                .or(read)
                .unwrap_or_else(|| (name.to_string(), evr.to_string()));
            PackageMetadata::Rpm(RpmMetadata {
                epoch: props
                    .num(&["bosun:metadata:epoch", "syft:metadata:epoch"])
                    .or_else(|| q("epoch").and_then(|e| e.parse().ok())),
                version: v.to_string(),
                release: props
                    .opt(&["bosun:metadata:release"])
                    .unwrap_or_else(|| r.to_string()),
                architecture: arch(),
                source_rpm,
                source_name,
                source_version,
                vendor: props.opt(&["bosun:metadata:vendor"]),
                size: props.num(&["bosun:metadata:size", "syft:metadata:size"]),
                modularity_label: props.opt(&["bosun:metadata:modularityLabel"]),
                files: Vec::new(),
            })
        }
        PackageKind::Apk => PackageMetadata::Apk(ApkMetadata {
            origin: props
                .opt(&["bosun:metadata:source", "syft:metadata:originPackage"])
                .or_else(|| upstream.as_ref().map(|u| u.0.clone()))
                .or_else(|| props.opt(&["read:sourceName", "aquasecurity:trivy:SrcName"]))
                .unwrap_or_else(|| name.to_string()),
            architecture: arch(),
            maintainer: props.opt(&["bosun:metadata:maintainer"]),
            checksum: props.opt(&["bosun:metadata:checksum"]),
            files: Vec::new(),
        }),
        PackageKind::Python => PackageMetadata::Python(PythonMetadata {
            site_dir: props.string(&["bosun:metadata:siteDir"]),
            installer: props.opt(&["bosun:metadata:installer"]),
            files: Vec::new(),
        }),
        PackageKind::Npm => PackageMetadata::Npm(NpmMetadata {
            root_project: application || props.flag("bosun:metadata:rootProject"),
            dev: props.flag("bosun:metadata:dev"),
            resolved: props.opt(&["bosun:metadata:resolved"]),
            integrity: props.opt(&["bosun:metadata:integrity"]),
        }),
        PackageKind::GoModule => {
            let main_module = props.opt(&["bosun:metadata:mainModule", "syft:metadata:mainModule"]);
            let role = match props.get(&["bosun:metadata:role"]) {
                Some("main") => GoModuleRole::Main,
                Some("stdlib") => GoModuleRole::Stdlib,
                Some("dep") => GoModuleRole::Dep,
                _ if name == "stdlib" => GoModuleRole::Stdlib,
                _ if application || main_module.as_deref() == Some(name) => GoModuleRole::Main,
                _ => GoModuleRole::Dep,
            };
            let go_version = props
                .opt(&[
                    "bosun:metadata:goVersion",
                    "syft:metadata:goCompiledVersion",
                ])
                .unwrap_or_else(|| {
                    if role == GoModuleRole::Stdlib {
                        version.to_string()
                    } else {
                        String::new()
                    }
                });
            PackageMetadata::Go(GoMetadata {
                role,
                go_version,
                main_module,
                h1_digest: props.opt(&["bosun:metadata:h1Digest", "syft:metadata:h1Digest"]),
                replaced_by: props.opt(&["bosun:metadata:replacedBy"]),
                build_settings: props
                    .0
                    .iter()
                    .filter_map(|(k, v)| {
                        k.strip_prefix("bosun:metadata:build:")
                            .map(|k| (k.to_string(), v.clone()))
                    })
                    .collect(),
            })
        }
        PackageKind::RustCrate => PackageMetadata::Rust(RustMetadata {
            source: props.string(&["bosun:metadata:source"]),
            checksum: props.opt(&["bosun:metadata:checksum"]),
            dependency_kind: props.opt(&["bosun:metadata:dependencyKind"]),
            root_project: application || props.flag("bosun:metadata:rootProject"),
        }),
        PackageKind::Java => PackageMetadata::Java(JavaMetadata {
            group_id: props
                .opt(&["bosun:metadata:groupId"])
                .or_else(|| purl.and_then(|p| p.namespace.clone())),
            artifact_id: props
                .opt(&["bosun:metadata:artifactId"])
                .or_else(|| purl.map(|p| p.name.clone())),
            virtual_path: props
                .string(&["bosun:metadata:virtualPath", "syft:metadata:virtualPath"]),
            evidence: props.string(&["bosun:metadata:evidence"]),
            sha1: props.opt(&["bosun:metadata:sha1"]),
        }),
        PackageKind::Gem => PackageMetadata::Gem(GemMetadata {
            platforms: props
                .get(&["bosun:metadata:platforms"])
                .map(|p| p.split(',').map(str::to_string).collect())
                .unwrap_or_default(),
            source: props.opt(&["bosun:metadata:source"]),
        }),
        PackageKind::Composer => PackageMetadata::Composer(ComposerMetadata {
            package_type: props.opt(&["bosun:metadata:packageType"]),
            dev: props.flag("bosun:metadata:dev"),
            source_url: props.opt(&["bosun:metadata:sourceUrl"]),
            reference: props.opt(&["bosun:metadata:reference"]),
            dist_shasum: props.opt(&["bosun:metadata:distShasum"]),
        }),
        PackageKind::DotNet => PackageMetadata::DotNet(DotNetMetadata {
            library_type: props.string(&["bosun:metadata:libraryType"]),
            sha512: props.opt(&["bosun:metadata:sha512"]),
            path: props.opt(&["bosun:metadata:path"]),
        }),
    }
}

/// Trivy splits the source version into `SrcEpoch`, `SrcVersion` and
/// `SrcRelease`.
fn trivy_source_version(props: &Props) -> Option<String> {
    let v = props.get(&["aquasecurity:trivy:SrcVersion"])?;
    let mut out = String::new();
    if let Some(e) = props
        .get(&["aquasecurity:trivy:SrcEpoch"])
        .filter(|e| *e != "0")
    {
        out.push_str(e);
        out.push(':');
    }
    out.push_str(v);
    if let Some(r) = props.get(&["aquasecurity:trivy:SrcRelease"]) {
        out.push('-');
        out.push_str(r);
    }
    Some(out)
}

/// The source version of a Debian binary version when nothing says
/// otherwise: a binary-only rebuild appends `+b<n>` to the source version
/// (Debian policy 5.6.12), which bosun's purl does not record when the
/// source name is the binary's.
fn strip_binnmu(version: &str) -> &str {
    match version.rsplit_once("+b") {
        Some((src, n))
            if !src.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) =>
        {
            src
        }
        _ => version,
    }
}

/// `name-version-release.src.rpm` -> (name, `version-release`).
fn parse_source_rpm(srpm: &str) -> Option<(String, String)> {
    let base = srpm
        .strip_suffix(".src.rpm")
        .or_else(|| srpm.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = base.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    if name.is_empty() || version.is_empty() || release.is_empty() {
        return None;
    }
    Some((name.to_string(), format!("{version}-{release}")))
}

// ---------------------------------------------------------------------------
// Small shared helpers.

/// At most 200 characters of untrusted text, for messages.
pub(crate) fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(200).collect();
    if out.len() < s.len() {
        out.push_str("...");
    }
    out
}

/// Seconds since the epoch of an RFC 3339 time (`2024-01-02T03:04:05Z`,
/// fractions and offsets allowed); None if it is not one.
pub(crate) fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|b| b.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if s.get(4..5) != Some("-") || s.get(7..8) != Some("-") || s.get(13..14) != Some(":") {
        return None;
    }
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = s.get(19..)?;
    if let Some(frac) = rest.strip_prefix('.') {
        rest = frac.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6)?.parse().ok()?;
            if rest.len() != 6 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    // Days from the civil date, the inverse of json::civil_from_days.
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + sec - offset)
}

/// `Tool: name-version` (SPDX creators; CycloneDX tools give both apart).
pub(crate) fn split_tool(s: &str) -> Tool {
    let s = s.trim();
    match s.rsplit_once('-') {
        Some((n, v)) if v.starts_with(|c: char| c.is_ascii_digit()) && !n.is_empty() => Tool {
            name: n.to_string(),
            version: v.to_string(),
        },
        _ => Tool {
            name: s.to_string(),
            version: String::new(),
        },
    }
}

/// A subject when the document does not describe one.
pub(crate) fn unnamed_source(origin: &str) -> SourceInfo {
    SourceInfo {
        kind: SourceKind::Directory,
        target: format!("sbom:{origin}"),
        name: origin.to_string(),
        version: None,
        image: None,
    }
}

/// Trivy writes paths relative to the image root; bosun's are absolute.
pub(crate) fn absolute(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn purls_parse() {
        let p = Purl::parse(
            "pkg:deb/debian/bsdutils@1:2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12&upstream=util-linux%402.38.1-5%2Bdeb12u3",
        )
        .unwrap();
        assert_eq!(p.ty, "deb");
        assert_eq!(p.namespace.as_deref(), Some("debian"));
        assert_eq!(p.name, "bsdutils");
        assert_eq!(p.version.as_deref(), Some("1:2.38.1-5+deb12u3"));
        assert_eq!(p.qualifier("upstream"), Some("util-linux@2.38.1-5+deb12u3"));
        let p = Purl::parse("pkg:npm/%40babel/core@7.0.0#sub/path").unwrap();
        assert_eq!(p.full_name(PackageKind::Npm), "@babel/core");
        let p = Purl::parse("pkg:golang/github.com/junegunn/fzf").unwrap();
        assert_eq!(
            p.full_name(PackageKind::GoModule),
            "github.com/junegunn/fzf"
        );
        assert_eq!(p.version, None);
        for bad in [
            "",
            "pkg:",
            "pkg:deb",
            "pkg:/x",
            "npm/x@1",
            "pkg:deb/x%zz",
            "pkg:deb/%ff%fe",
            "pkg:d b/x",
        ] {
            assert!(Purl::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Purl::parse(&format!("pkg:npm/{}", "a".repeat(MAX_PURL))).is_err());
    }

    #[test]
    fn distro_qualifiers() {
        let d = distro_from_qualifier("debian-12.5");
        assert_eq!(
            (d.id.as_str(), d.version_id.as_deref()),
            ("debian", Some("12.5"))
        );
        let d = distro_from_qualifier("opensuse-leap-15.5");
        assert_eq!(
            (d.id.as_str(), d.version_id.as_deref()),
            ("opensuse-leap", Some("15.5"))
        );
        let d = distro_from_qualifier("wolfi");
        assert_eq!((d.id.as_str(), d.version_id), ("wolfi", None));
    }

    #[test]
    fn rfc3339_times() {
        // Values checked with `date -u -d TIME +%s`.
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(
            parse_rfc3339("2026-12-01T10:31:35+00:00"),
            Some(1_796_121_095)
        );
        assert_eq!(
            parse_rfc3339("2000-02-29T01:00:00.123+01:00"),
            Some(951_782_400)
        );
        for bad in [
            "",
            "2023-11-14",
            "2023-13-01T00:00:00Z",
            "2023-11-14T22:13:20",
            "x".repeat(40).as_str(),
            "2023-11-14T22:13:20+0",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn source_rpms_and_trivy_versions() {
        assert_eq!(
            parse_source_rpm("libexpat1-2.5.0-1_deb12u5.fixture.src.rpm"),
            Some(("libexpat1".into(), "2.5.0-1_deb12u5.fixture".into()))
        );
        assert_eq!(parse_source_rpm("garbage.src.rpm"), None);
        let mut p = Props::default();
        p.push("aquasecurity:trivy:SrcVersion", "2.38.1");
        p.push("aquasecurity:trivy:SrcRelease", "5+deb12u3");
        assert_eq!(
            trivy_source_version(&p).as_deref(),
            Some("2.38.1-5+deb12u3")
        );
        p.push("aquasecurity:trivy:SrcEpoch", "1");
        assert_eq!(
            trivy_source_version(&p).as_deref(),
            Some("1:2.38.1-5+deb12u3")
        );
    }

    #[test]
    fn garbage_is_an_error() {
        for bad in [
            &b""[..],
            b"not json",
            b"[1,2]",
            b"{\"bomFormat\":5}",
            b"{}",
            b"{\"bomFormat\":\"SPDX\"}",
        ] {
            assert!(
                read(bad, "x.json").is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(read(deep.as_bytes(), "deep.json").is_err());
    }
}
