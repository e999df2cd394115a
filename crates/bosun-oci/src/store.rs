//! Where image content comes from.

use std::io::Read;

use bosun_core::Digest;

use crate::OciError;
use crate::manifest::Descriptor;

/// A manifest or index as fetched: raw bytes (verified against `digest`),
/// and the media type the transport declared, if any.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub media_type: Option<String>,
    pub digest: Digest,
}

/// A source of image content: an OCI layout, an archive, a registry.
/// Implementations verify what they return: `root` and `manifest` check the
/// digest of the bytes when one is known, and `blob` returns a reader that
/// fails at end of stream unless digest and size match.
pub trait Store: Send + Sync {
    /// How to name this source in messages (`oci:/path:tag`, `registry.example/app:1`).
    fn describe(&self) -> String;

    /// The manifest or index the target names (tag or digest).
    fn root(&self) -> Result<Fetched, OciError>;

    /// A manifest (or nested index) by descriptor, e.g. a child of an index.
    fn manifest(&self, desc: &Descriptor) -> Result<Fetched, OciError>;

    /// Stream a blob; the reader verifies digest and size by end of stream.
    fn blob(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>, OciError>;

    /// Tags the source knows the image by (for the SBOM's metadata).
    fn tags(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Read a small blob whole (a config), verifying digest and size, bounded by `limit`.
pub fn read_small_blob(
    store: &dyn Store,
    desc: &Descriptor,
    limit: u64,
) -> Result<Vec<u8>, OciError> {
    let what = format!("{} blob {}", store.describe(), desc.digest);
    if desc.size > limit {
        return Err(OciError::TooLarge {
            what,
            size: desc.size,
            limit,
        });
    }
    let r = store.blob(desc)?;
    let mut buf = Vec::with_capacity(desc.size as usize);
    r.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| OciError::io(what.clone(), e))?;
    if buf.len() as u64 > limit {
        return Err(OciError::TooLarge {
            what,
            size: buf.len() as u64,
            limit,
        });
    }
    verify(&what, &desc.digest, &buf)?;
    Ok(buf)
}

/// Check that `bytes` hash to `expected`.
pub fn verify(what: &str, expected: &Digest, bytes: &[u8]) -> Result<(), OciError> {
    if expected.matches(bytes) {
        return Ok(());
    }
    let mut w = bosun_core::DigestWriter::new(expected.algorithm());
    w.update(bytes);
    Err(OciError::DigestMismatch {
        what: what.to_string(),
        expected: expected.clone(),
        actual: w.finish(),
    })
}
