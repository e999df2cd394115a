//! Container images as bosun reads them: where they come from ([`Store`]
//! implementations for OCI layouts, OCI and Docker archives, registries),
//! how their manifests and configs are resolved ([`resolve`]), and how their
//! layers are streamed ([`layer`]) and merged into one filesystem ([`tree`]).
//!
//! Every blob is verified against its digest before anything read from it is
//! trusted: [`Store::blob`] returns a reader that fails at end of stream on a
//! mismatch, and manifests/configs are checked in full before parsing.

pub mod archive;
pub mod error;
pub mod image;
pub mod layer;
pub mod layout;
pub mod manifest;
pub mod media;
pub mod registry;
pub mod store;
pub mod tree;

pub use error::OciError;
pub use image::{Platform, ResolvedImage, resolve};
pub use store::{Fetched, Store};

/// Manifests, indexes and configs larger than this are refused: real ones are
/// a few KiB, and they are held in memory.
pub const MAX_JSON_SIZE: u64 = 4 << 20;
