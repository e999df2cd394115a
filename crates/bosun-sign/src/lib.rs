//! Signing and verification, interoperable with cosign and the Sigstore
//! clients.
