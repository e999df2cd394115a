//! The SBOM document model and its encoders. Writers take the document and
//! an options struct, never CLI flags.

pub mod cyclonedx;
pub mod json;
pub mod model;
pub mod read;
pub mod spdx;
pub mod table;

use std::fmt;
use std::io::Write;
use std::str::FromStr;

pub use model::{HistoryEntry, ImageMetadata, LayerInfo, Sbom, SourceInfo, SourceKind, Tool};

#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error("unknown SBOM format {0:?} (expected cyclonedx-json, spdx-json, json or table)")]
    UnknownFormat(String),
    #[error("creation time {0} (seconds since the epoch) is outside years 0000-9999")]
    TimestampOutOfRange(i64),
    #[error("package {name:?} has an empty id")]
    EmptyId { name: String },
    #[error("id {0:?} is used by more than one element of the document")]
    DuplicateId(String),
    #[error("encoding the SBOM as JSON")]
    Json(#[from] serde_json::Error),
    #[error("writing the SBOM")]
    Io(#[from] std::io::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    CycloneDxJson,
    SpdxJson,
    Json,
    Table,
}

impl Format {
    pub const ALL: [Format; 4] = [
        Format::CycloneDxJson,
        Format::SpdxJson,
        Format::Json,
        Format::Table,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::CycloneDxJson => "cyclonedx-json",
            Format::SpdxJson => "spdx-json",
            Format::Json => "json",
            Format::Table => "table",
        }
    }
}

impl FromStr for Format {
    type Err = SbomError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cyclonedx-json" | "cyclonedx" => Ok(Format::CycloneDxJson),
            "spdx-json" | "spdx" => Ok(Format::SpdxJson),
            "json" => Ok(Format::Json),
            "table" => Ok(Format::Table),
            other => Err(SbomError::UnknownFormat(other.chars().take(64).collect())),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOptions {
    /// Indent JSON output.
    pub pretty: bool,
    /// Bold table header (ANSI); ignored by the JSON formats.
    pub color: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            pretty: true,
            color: false,
        }
    }
}

/// Render `sbom` in `format`.
pub fn write(
    sbom: &Sbom,
    format: Format,
    opts: &WriteOptions,
    w: &mut dyn Write,
) -> Result<(), SbomError> {
    match format {
        Format::CycloneDxJson => crate::cyclonedx::write(sbom, opts, w),
        Format::SpdxJson => crate::spdx::write(sbom, opts, w),
        Format::Json => crate::json::write_json(sbom, opts, w),
        Format::Table => crate::table::write(sbom, opts, w),
    }
}
