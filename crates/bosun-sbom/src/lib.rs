//! The SBOM document model and its encoders. Writers take the document and
//! an options struct, never CLI flags.

pub mod cyclonedx;
pub mod json;
pub mod model;
pub mod spdx;
pub mod table;

pub use json::{Format, SbomError, WriteOptions, write};
pub use model::{HistoryEntry, ImageMetadata, LayerInfo, Sbom, SourceInfo, SourceKind, Tool};
