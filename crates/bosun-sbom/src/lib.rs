//! The SBOM document model and its encoders. Writers take the document and
//! an options struct, never CLI flags.

pub mod model;

pub use model::{ImageMetadata, LayerInfo, HistoryEntry, Sbom, SourceInfo, SourceKind, Tool};
