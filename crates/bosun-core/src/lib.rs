//! bosun's pure model. Nothing here does I/O: digests, image references,
//! the package model with its closed metadata enum, purls and distros.

pub mod digest;
pub mod distro;
pub mod package;
pub mod purl;
pub mod reference;
pub mod text;
pub mod time;

pub use digest::{Digest, DigestError, DigestWriter};
pub use distro::Distro;
pub use package::{
    ApkMetadata, DpkgMetadata, GoMetadata, GoModuleRole, JavaMetadata, Location, NpmMetadata,
    Package, PackageKind, PackageMetadata, PythonMetadata, Relationship, RelationshipKind,
    RpmMetadata, RustMetadata, Unknown, UnknownKind,
};
pub use reference::{Reference, ReferenceError};
