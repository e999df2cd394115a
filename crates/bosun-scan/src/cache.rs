//! The layer cache: one file per analysed layer, keyed by the layer's blob
//! digest, its diff_id and the analyzers' version, so that a hit needs no
//! decompression at all and a change of analyzers never reuses stale facts.
//! Entries are written to a temporary file and renamed into place, so
//! concurrent processes never see a half-written entry. Each entry carries
//! the sha256 of its body, so a damaged entry (truncated, bit-flipped) is
//! treated as a miss and rewritten, never trusted.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use bosun_core::Digest;

use crate::analyze::LayerAnalysis;

/// Bump with any change to [`LayerAnalysis`]: it is part of the key too.
const FORMAT: u32 = 5;
const MAGIC: &[u8] = b"bosun-layer-cache\x00v5\n";

pub struct LayerCache {
    dir: PathBuf,
}

impl LayerCache {
    pub fn new(root: &Path) -> LayerCache {
        LayerCache {
            dir: root.join("layers"),
        }
    }

    /// The key of a layer analysed without the secret scanner.
    pub fn key(blob: &Digest, diff_id: &Digest) -> String {
        Self::key_for(blob, diff_id, None)
    }

    /// `secrets` is the secret scanner's fingerprint when it ran: its rules
    /// and allow-lists decide what the analysis holds.
    pub fn key_for(blob: &Digest, diff_id: &Digest, secrets: Option<&str>) -> String {
        let mut k = format!(
            "{blob}|{diff_id}|analyzers-{}|format-{FORMAT}",
            bosun_catalog::ANALYZERS_VERSION
        );
        if let Some(fp) = secrets {
            k.push_str("|secrets-");
            k.push_str(fp);
        }
        Digest::sha256_of(k.as_bytes()).hex().to_string()
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2]).join(key)
    }

    pub fn get(&self, key: &str) -> Option<LayerAnalysis> {
        let bytes = fs::read(self.path(key)).ok()?;
        let rest = bytes.strip_prefix(MAGIC)?;
        let (sum, body) = rest.split_at_checked(64)?;
        if Digest::sha256_of(body).hex().as_bytes() != sum {
            tracing::warn!("layer cache entry {key} is damaged; analysing again");
            return None;
        }
        match postcard::from_bytes(body) {
            Ok(a) => Some(a),
            Err(e) => {
                tracing::warn!("layer cache entry {key} is unreadable ({e}); analysing again");
                None
            }
        }
    }

    pub fn put(&self, key: &str, analysis: &LayerAnalysis) -> std::io::Result<()> {
        let path = self.path(key);
        let dir = path.parent().unwrap_or(&self.dir);
        fs::create_dir_all(dir)?;
        let body = postcard::to_stdvec(analysis)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        tmp.write_all(MAGIC)?;
        tmp.write_all(Digest::sha256_of(&body).hex().as_bytes())?;
        tmp.write_all(&body)?;
        // No fsync: an entry a crash left torn fails its checksum and is
        // analysed again, so durability is not worth a disk flush per layer.
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(())
    }
}
