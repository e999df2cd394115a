//! What every output format is rendered from.

use std::collections::BTreeMap;

use bosun_core::{Digest, Distro, Package, Relationship, Unknown};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sbom {
    pub tool: Tool,
    /// Creation time, seconds since the epoch (`SOURCE_DATE_EPOCH` when set,
    /// so that output is reproducible).
    pub created: i64,
    pub source: SourceInfo,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub distro: Option<Distro>,
    pub packages: Vec<Package>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub relationships: Vec<Relationship>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub unknowns: Vec<Unknown>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    Image,
    Directory,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    pub kind: SourceKind,
    /// The target as the user gave it (`oci:dir:tag`, `registry/repo:tag`, `dir:.`).
    pub target: String,
    /// A short name for the subject: the repository for images, the
    /// directory's name for directories.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub image: Option<ImageMetadata>,
}

/// The image's manifest and configuration facts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageMetadata {
    pub manifest_digest: Option<Digest>,
    pub manifest_media_type: String,
    pub config_digest: Option<Digest>,
    pub os: String,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub variant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user: Option<String>,
    /// Names of the environment variables only; values may be secrets.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub env_names: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub exposed_ports: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub entrypoint: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub cmd: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub working_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub created: Option<String>,
    pub layers: Vec<LayerInfo>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub history: Vec<HistoryEntry>,
    /// Tags the image was known by in its source (e.g. the OCI layout's ref name).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerInfo {
    pub media_type: String,
    pub digest: Digest,
    pub diff_id: Digest,
    pub size: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub empty_layer: bool,
}
