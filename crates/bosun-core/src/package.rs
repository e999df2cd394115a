//! The package model every cataloger produces and every writer reads.

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::distro::Distro;
use crate::purl;

/// The kind of package, which fixes its purl type and version scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PackageKind {
    Deb,
    Rpm,
    Apk,
    Python,
    Npm,
    GoModule,
    RustCrate,
    Java,
    Gem,
    Composer,
    DotNet,
}

impl PackageKind {
    /// The purl type, also used as the ecosystem name in bosun's own output.
    pub fn purl_type(self) -> &'static str {
        match self {
            PackageKind::Deb => "deb",
            PackageKind::Rpm => "rpm",
            PackageKind::Apk => "apk",
            PackageKind::Python => "pypi",
            PackageKind::Npm => "npm",
            PackageKind::GoModule => "golang",
            PackageKind::RustCrate => "cargo",
            PackageKind::Java => "maven",
            PackageKind::Gem => "gem",
            PackageKind::Composer => "composer",
            PackageKind::DotNet => "nuget",
        }
    }

    pub fn is_os(self) -> bool {
        matches!(self, PackageKind::Deb | PackageKind::Rpm | PackageKind::Apk)
    }
}

/// Where a package was found: a path in the final filesystem (for nested
/// archives, `outer.jar!/inner.jar`) and the layer (diff_id) that put it there.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub layer: Option<Digest>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// Identifier unique within one document (used as bom-ref / SPDXID suffix).
    pub id: String,
    pub name: String,
    pub version: String,
    pub kind: PackageKind,
    pub purl: String,
    /// Declared licenses, each an SPDX expression where the source gave one.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub licenses: Vec<String>,
    pub locations: Vec<Location>,
    /// The id of the cataloger that found it (stable, see `bosun-catalog`).
    pub found_by: String,
    pub metadata: PackageMetadata,
}

/// Ecosystem-specific facts. A closed enum: writers match on it exhaustively.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum PackageMetadata {
    Dpkg(DpkgMetadata),
    Rpm(RpmMetadata),
    Apk(ApkMetadata),
    Python(PythonMetadata),
    Npm(NpmMetadata),
    Go(GoMetadata),
    Rust(RustMetadata),
    Java(JavaMetadata),
    Gem(GemMetadata),
    Composer(ComposerMetadata),
    DotNet(DotNetMetadata),
    Other,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DpkgMetadata {
    /// `Source:` name; equal to the package name when the field is absent.
    pub source: String,
    /// Source version: from `Source: name (version)`, else the binary version.
    pub source_version: String,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub maintainer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub installed_size_kib: Option<u64>,
    /// Files the package owns (from `info/<pkg>.list` or `.md5sums`).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub files: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RpmMetadata {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub epoch: Option<u64>,
    pub version: String,
    pub release: String,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source_rpm: Option<String>,
    /// Source package name and `version-release`, derived from the source RPM.
    pub source_name: String,
    pub source_version: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub vendor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub modularity_label: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub files: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApkMetadata {
    /// `o:` origin, the source package vulnerability data is keyed by.
    pub origin: String,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub maintainer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub checksum: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub files: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PythonMetadata {
    /// The site-packages / dist-packages directory the distribution lives in.
    pub site_dir: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub installer: Option<String>,
    /// Files listed in RECORD (or installed-files.txt), absolute.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub files: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NpmMetadata {
    /// The project itself (the package.json next to node_modules / the lock file's root).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub root_project: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub dev: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub resolved: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub integrity: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GoModuleRole {
    /// The binary's main module.
    Main,
    /// A module dependency.
    Dep,
    /// The Go standard library the binary was built with.
    Stdlib,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoMetadata {
    pub role: GoModuleRole,
    /// Go toolchain version, e.g. `go1.19.8`.
    pub go_version: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub main_module: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub h1_digest: Option<String>,
    /// `=> path version` replacement, when the module was replaced.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub replaced_by: Option<String>,
    /// `build` settings (GOOS, GOARCH, vcs.revision, ...), main module only.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub build_settings: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RustMetadata {
    /// `crates.io`, `local`, `git+...`, or a registry URL.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub checksum: Option<String>,
    /// Dependency kind from cargo-auditable: `runtime` or `build`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dependency_kind: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub root_project: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JavaMetadata {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub group_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub artifact_id: Option<String>,
    /// Path of the archive, nested archives joined with `!/`.
    pub virtual_path: String,
    /// What identified it: `pom.properties` path or `MANIFEST.MF`.
    pub evidence: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sha1: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GemMetadata {
    /// Platforms of the installed or locked builds (`x86_64-linux`, ...);
    /// empty for pure-Ruby gems.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub platforms: Vec<String>,
    /// Gemfile.lock only: the section's `remote:` (for GIT, `url@revision`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComposerMetadata {
    /// `library`, `metapackage`, `composer-plugin`, ...
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub package_type: Option<String>,
    /// A `require-dev` package (`packages-dev`, `dev-package-names`).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub dev: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source_url: Option<String>,
    /// The commit or tag installed: `dist.reference`, else `source.reference`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reference: Option<String>,
    /// SHA-1 of the dist archive, when the registry gave one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dist_shasum: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DotNetMetadata {
    /// The `libraries` entry type: `package` or `runtimepack`.
    pub library_type: String,
    /// `sha512-<base64>` of the .nupkg, as deps.json writes it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sha512: Option<String>,
    /// Path in the NuGet package cache (`newtonsoft.json/9.0.1`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub path: Option<String>,
}

impl Package {
    /// Files the package claims, for ownership; empty for kinds without lists.
    pub fn owned_files(&self) -> &[String] {
        match &self.metadata {
            PackageMetadata::Dpkg(m) => &m.files,
            PackageMetadata::Rpm(m) => &m.files,
            PackageMetadata::Apk(m) => &m.files,
            PackageMetadata::Python(m) => &m.files,
            _ => &[],
        }
    }

    /// Source package name and version for OS packages (what vulnerability
    /// data is keyed by).
    pub fn source(&self) -> Option<(&str, &str)> {
        match &self.metadata {
            PackageMetadata::Dpkg(m) => Some((&m.source, &m.source_version)),
            PackageMetadata::Rpm(m) => Some((&m.source_name, &m.source_version)),
            PackageMetadata::Apk(m) => Some((&m.origin, &self.version)),
            _ => None,
        }
    }

    /// Compute the canonical purl for this package's kind, name, version and
    /// metadata. `distro` adds the `distro` qualifier for OS packages.
    pub fn compute_purl(&self, distro: Option<&Distro>) -> String {
        let distro_q = distro.map(Distro::purl_qualifier).unwrap_or_default();
        let ns_os = distro.map(|d| d.id.as_str());
        match (&self.kind, &self.metadata) {
            (PackageKind::Deb, PackageMetadata::Dpkg(m)) => {
                // The source version matters even when the names agree
                // (binary-only rebuilds: bash 5.2.15-2+b13 from 5.2.15-2):
                // Debian's advisories are by source version.
                let upstream = if m.source_version != self.version && !m.source_version.is_empty() {
                    format!("{}@{}", m.source, m.source_version)
                } else if m.source != self.name {
                    m.source.clone()
                } else {
                    String::new()
                };
                purl::build(
                    "deb",
                    Some(ns_os.unwrap_or("debian")),
                    &self.name,
                    Some(&self.version),
                    &[
                        ("arch", &m.architecture),
                        ("distro", &distro_q),
                        ("upstream", &upstream),
                    ],
                )
            }
            (PackageKind::Rpm, PackageMetadata::Rpm(m)) => {
                let epoch = m.epoch.map(|e| e.to_string()).unwrap_or_default();
                let upstream = m.source_rpm.clone().unwrap_or_default();
                purl::build(
                    "rpm",
                    ns_os,
                    &self.name,
                    Some(&format!("{}-{}", m.version, m.release)),
                    &[
                        ("arch", &m.architecture),
                        ("epoch", &epoch),
                        ("distro", &distro_q),
                        ("upstream", &upstream),
                    ],
                )
            }
            (PackageKind::Apk, PackageMetadata::Apk(m)) => {
                let upstream = if m.origin != self.name {
                    m.origin.clone()
                } else {
                    String::new()
                };
                purl::build(
                    "apk",
                    Some(ns_os.unwrap_or("alpine")),
                    &self.name,
                    Some(&self.version),
                    &[
                        ("arch", &m.architecture),
                        ("distro", &distro_q),
                        ("upstream", &upstream),
                    ],
                )
            }
            (PackageKind::Python, _) => purl::build(
                "pypi",
                None,
                &purl::pypi_name(&self.name),
                Some(&self.version),
                &[],
            ),
            (PackageKind::Npm, _) => match self.name.split_once('/') {
                Some((scope, name)) if scope.starts_with('@') => {
                    purl::build("npm", Some(scope), name, Some(&self.version), &[])
                }
                _ => purl::build("npm", None, &self.name, Some(&self.version), &[]),
            },
            (PackageKind::GoModule, _) => match self.name.rsplit_once('/') {
                Some((ns, name)) => purl::build("golang", Some(ns), name, Some(&self.version), &[]),
                None => purl::build("golang", None, &self.name, Some(&self.version), &[]),
            },
            (PackageKind::RustCrate, _) => {
                purl::build("cargo", None, &self.name, Some(&self.version), &[])
            }
            (PackageKind::Java, PackageMetadata::Java(m)) => match (&m.group_id, &m.artifact_id) {
                (Some(g), Some(a)) => purl::build("maven", Some(g), a, Some(&self.version), &[]),
                _ => purl::build("maven", None, &self.name, Some(&self.version), &[]),
            },
            (PackageKind::Composer, _) => match self.name.split_once('/') {
                Some((vendor, name)) => {
                    purl::build("composer", Some(vendor), name, Some(&self.version), &[])
                }
                None => purl::build("composer", None, &self.name, Some(&self.version), &[]),
            },
            (kind, _) => purl::build(kind.purl_type(), None, &self.name, Some(&self.version), &[]),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RelationshipKind {
    /// `from`'s files belong to the OS package `to` (so matchers defer to the distro).
    OwnedBy,
    /// `from` depends on `to`.
    DependsOn,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Relationship {
    pub from: String,
    pub to: String,
    pub kind: RelationshipKind,
}

/// A file some cataloger wanted but could not read, or a layer entry that
/// could not be taken as it stands: the scan carries on and the SBOM
/// records it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Unknown {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub layer: Option<Digest>,
    pub cataloger: String,
    pub message: String,
    #[serde(skip_serializing_if = "UnknownKind::is_unparsed", default)]
    pub kind: UnknownKind,
}

/// What an [`Unknown`] means for the completeness of a scan. Stable
/// identifiers: they appear in every output format.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownKind {
    /// The file did not parse as its format: what it would have named is
    /// missing, and the rest of the scan is whole.
    #[default]
    Unparsed,
    /// A limit stopped the analysis part way (a file over a size limit, a
    /// layer over its entry or memory budget): the scan is incomplete, and
    /// gates (`scan --fail-on`) unless the user accepts that.
    Incomplete,
    /// A layer entry no honest tool writes (a name climbing out of the
    /// root, a link to outside it): taken as a container runtime would take
    /// it, and reported as a red flag of its own.
    Suspicious,
    /// A package file that is not valid UTF-8 (a Latin-1 description):
    /// decoded with replacement characters and the package kept, as the
    /// ecosystem's runtime would load it. Neither missing nor gating.
    Lossy,
}

impl UnknownKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UnknownKind::Unparsed => "unparsed",
            UnknownKind::Incomplete => "incomplete",
            UnknownKind::Suspicious => "suspicious",
            UnknownKind::Lossy => "lossy",
        }
    }

    pub fn is_unparsed(&self) -> bool {
        *self == UnknownKind::Unparsed
    }
}

impl std::str::FromStr for UnknownKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "unparsed" => Ok(UnknownKind::Unparsed),
            "incomplete" => Ok(UnknownKind::Incomplete),
            "suspicious" => Ok(UnknownKind::Suspicious),
            "lossy" => Ok(UnknownKind::Lossy),
            other => Err(format!("unknown kind {other:?}")),
        }
    }
}
