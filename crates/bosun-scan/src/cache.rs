//! The layer cache: one file per analysed layer, keyed by the layer's blob
//! digest, its diff_id and the analyzers' version, so that a hit needs no
//! decompression at all and a change of analyzers never reuses stale facts.
//! Entries are written to a temporary file and renamed into place, so
//! concurrent processes never see a half-written entry. Each entry carries
//! the sha256 of its body, so a damaged entry (truncated, bit-flipped) is
//! treated as a miss and rewritten, never trusted.
//!
//! Entries are streamed both ways (the body is serialised twice on write,
//! once to hash it and once to the file): an analysis holding a layer's
//! whole content budget is never held twice in memory.

use std::fs;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use bosun_core::digest::Algorithm;
use bosun_core::{Digest, DigestWriter};

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
        let mut file = fs::File::open(self.path(key)).ok()?;
        let mut head = vec![0u8; MAGIC.len() + 64];
        file.read_exact(&mut head).ok()?;
        let sum = head.strip_prefix(MAGIC)?.to_vec();
        let mut hashed = Hashing {
            inner: file,
            hasher: DigestWriter::new(Algorithm::Sha256),
        };
        // The body is decoded as it is read; the checksum is checked at
        // the end, and a damaged entry's decoded value is thrown away.
        // Decoding damaged bytes is bounded: strings go through the
        // scratch buffer, sequences are allocated as they fill.
        let mut scratch = vec![0u8; SCRATCH];
        let decoded = {
            let mut body = BufReader::with_capacity(256 << 10, &mut hashed);
            let decoded = postcard::from_io::<LayerAnalysis, _>((&mut body, &mut scratch[..]))
                .map(|(a, _)| a);
            // The rest, so that trailing bytes count against the checksum.
            io::copy(&mut body, &mut io::sink()).ok()?;
            decoded
        };
        if hashed.hasher.finish().hex().as_bytes() != sum.as_slice() {
            tracing::warn!("layer cache entry {key} is damaged; analysing again");
            return None;
        }
        match decoded {
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
        let encoding =
            |e: postcard::Error| io::Error::new(io::ErrorKind::InvalidData, e.to_string());
        let mut hasher = DigestWriter::new(Algorithm::Sha256);
        {
            let mut w = BufWriter::with_capacity(256 << 10, &mut hasher);
            postcard::to_io(analysis, &mut w).map_err(encoding)?;
            w.flush()?;
        }
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        {
            let mut w = BufWriter::with_capacity(256 << 10, tmp.as_file_mut());
            w.write_all(MAGIC)?;
            w.write_all(hasher.finish().hex().as_bytes())?;
            postcard::to_io(analysis, &mut w).map_err(encoding)?;
            w.flush()?;
        }
        // No fsync: an entry a crash left torn fails its checksum and is
        // analysed again, so durability is not worth a disk flush per layer.
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// The largest string a cache entry may hold (paths, messages); an entry
/// with a longer one is read as a miss and analysed again.
const SCRATCH: usize = 1 << 20;

/// Hashes what is read through it.
struct Hashing<R> {
    inner: R,
    hasher: DigestWriter,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use bosun_catalog::Facts;

    /// Streamed write and read give back the analysis; any damaged byte,
    /// or a truncated or extended entry, is a miss.
    #[test]
    fn entries_round_trip_and_damage_is_a_miss() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = LayerCache::new(tmp.path());
        let a = LayerAnalysis {
            facts: vec![
                (
                    "/var/lib/dpkg/status".into(),
                    Facts::Content(vec![7; 3 << 20]),
                ),
                ("/x".into(), Facts::Incomplete("over".into())),
            ],
            ..LayerAnalysis::default()
        };
        let key = "ab".repeat(32);
        cache.put(&key, &a).unwrap();
        assert_eq!(cache.get(&key), Some(a.clone()));
        let path = cache.path(&key);
        let good = fs::read(&path).unwrap();
        for damage in [
            {
                let mut b = good.clone();
                let n = b.len();
                b[n / 2] ^= 1;
                b
            },
            good[..good.len() - 1].to_vec(),
            [&good[..], b"x"].concat(),
        ] {
            fs::write(&path, damage).unwrap();
            assert_eq!(cache.get(&key), None);
        }
    }
}
