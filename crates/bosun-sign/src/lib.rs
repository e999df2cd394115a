//! Signing and verification, interoperable with cosign and the Sigstore
//! clients.

pub mod attest;
pub mod keyless;
pub mod keys;
pub mod oci;
pub mod sigstore;
pub mod simple;
