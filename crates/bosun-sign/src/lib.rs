//! Signing and verification, interoperable with cosign and the Sigstore
//! clients.

pub mod keys;
pub mod simple;
pub mod sigstore;
pub mod oci;
pub mod attest;
