//! Streaming a layer: decompression chosen by the bytes themselves, and a
//! walk over the tar entries with paths made safe and whiteouts recognised.
//! Nothing is ever written to disk, so no entry can escape anywhere; paths
//! are still normalised (no `..`, rooted at `/`) because catalogers and the
//! merged tree rely on them.

use std::io::{self, BufRead, BufReader, Read};

use serde::{Deserialize, Serialize};

use crate::media::Compression;

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";
/// Larger reads than the default 8 KiB keep the decompressors fed.
const BUF_SIZE: usize = 256 << 10;
/// Paths longer than PATH_MAX are not real filesystems; refuse them.
const MAX_PATH: usize = 4096;

/// Wrap `r` in the decompressor its first bytes call for (gzip, zstd, or
/// none). `declared` is what the media type said; the bytes win, because
/// registries and tools do mislabel layers.
pub fn decompress<'a>(
    r: impl Read + Send + 'a,
    declared: Compression,
) -> io::Result<(Box<dyn Read + Send + 'a>, Compression)> {
    let mut br = BufReader::with_capacity(BUF_SIZE, r);
    let head = br.fill_buf()?;
    let actual = if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else if head.is_empty() {
        declared
    } else {
        Compression::None
    };
    let out: Box<dyn Read + Send + 'a> = match actual {
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(br)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(br)?),
        Compression::None => Box::new(br),
    };
    Ok((out, actual))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryKind {
    File,
    Dir,
    /// Target as written in the link.
    Symlink(String),
    /// Hard link to another absolute path of the same image.
    Hardlink(String),
    /// `.wh.NAME`: hides `NAME` (this absolute path) from lower layers.
    Whiteout,
    /// `.wh..wh..opq`: hides everything lower layers put in this directory.
    Opaque,
    /// Devices, fifos and the like.
    Other,
}

/// One tar entry, path normalised to an absolute path. For whiteouts the
/// path is that of the hidden file; for opaque markers, the directory's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub path: String,
    pub kind: EntryKind,
    pub mode: u32,
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error("layer {layer}: reading the tar stream")]
    Io {
        layer: String,
        #[source]
        source: io::Error,
    },
    #[error("layer {layer}: entry {path:?}: {message}")]
    Entry {
        layer: String,
        path: String,
        message: String,
    },
}

/// An entry the walk skipped because it was unsafe or unreadable; the rest
/// of the layer is still read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    pub path: String,
    pub reason: String,
}

/// Make a tar path absolute and clean. `None` when it climbs out of the
/// root with `..`, which no legitimate layer does.
pub fn normalize_entry_path(raw: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in raw.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// Walk the (decompressed) tar stream `r`, calling `visit` for each entry
/// with a reader over its content (empty for non-files). `visit` may read as
/// much of the content as it wants; the rest is skipped. Entries with unsafe
/// names are passed to `reject` instead. Returns after the end-of-archive
/// marker; the caller drains the stream if it needs to verify a digest.
pub fn walk<R: Read>(
    r: R,
    layer: &str,
    mut visit: impl FnMut(&Entry, &mut dyn Read) -> io::Result<()>,
    mut reject: impl FnMut(Rejected),
) -> Result<(), LayerError> {
    let io_err = |source| LayerError::Io {
        layer: layer.to_string(),
        source,
    };
    let mut archive = tar::Archive::new(r);
    let entries = archive.entries().map_err(io_err)?;
    for entry in entries {
        let mut entry = entry.map_err(io_err)?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if raw.len() > MAX_PATH {
            reject(Rejected {
                path: raw.chars().take(200).collect(),
                reason: format!("path longer than {MAX_PATH} bytes"),
            });
            continue;
        }
        let Some(path) = normalize_entry_path(&raw) else {
            reject(Rejected {
                path: raw,
                reason: "path climbs out of the image root with '..'".into(),
            });
            continue;
        };
        let header = entry.header();
        let mode = header.mode().unwrap_or(0o644);
        let size = entry.size();
        let et = header.entry_type();
        let name = path.rsplit('/').next().unwrap_or("");
        let parent = &path[..path.len() - name.len()];
        let kind = if name == OPAQUE_MARKER {
            let dir = parent.trim_end_matches('/');
            let e = Entry {
                path: if dir.is_empty() {
                    "/".into()
                } else {
                    dir.into()
                },
                kind: EntryKind::Opaque,
                mode,
                size: 0,
            };
            visit(&e, &mut io::empty()).map_err(io_err)?;
            continue;
        } else if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
            if hidden.is_empty() || hidden == "." || hidden == ".." {
                reject(Rejected {
                    path,
                    reason: "whiteout names no file".into(),
                });
                continue;
            }
            let e = Entry {
                path: format!("{parent}{hidden}"),
                kind: EntryKind::Whiteout,
                mode,
                size: 0,
            };
            visit(&e, &mut io::empty()).map_err(io_err)?;
            continue;
        } else if et.is_file() || et == tar::EntryType::Continuous {
            EntryKind::File
        } else if et.is_dir() {
            EntryKind::Dir
        } else if et.is_symlink() || et.is_hard_link() {
            let target = match entry.link_name_bytes() {
                Some(t) => String::from_utf8_lossy(&t).into_owned(),
                None => {
                    reject(Rejected {
                        path,
                        reason: "link without a target".into(),
                    });
                    continue;
                }
            };
            if et.is_symlink() {
                EntryKind::Symlink(target)
            } else {
                match normalize_entry_path(&target) {
                    Some(t) => EntryKind::Hardlink(t),
                    None => {
                        reject(Rejected {
                            path,
                            reason: format!("hard link target {target:?} climbs out of the root"),
                        });
                        continue;
                    }
                }
            }
        } else {
            EntryKind::Other
        };
        let e = Entry {
            path,
            kind,
            mode,
            size,
        };
        visit(&e, &mut entry).map_err(io_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            // set_path refuses '..'; write the raw name the way a hostile tool would.
            let gnu = h.as_gnu_mut().unwrap();
            gnu.name[..name.len()].copy_from_slice(name.as_bytes());
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn normalises_and_rejects() {
        assert_eq!(
            normalize_entry_path("./etc/passwd").as_deref(),
            Some("/etc/passwd")
        );
        assert_eq!(
            normalize_entry_path("/abs//x/./y").as_deref(),
            Some("/abs/x/y")
        );
        assert_eq!(normalize_entry_path("a/../b").as_deref(), Some("/b"));
        assert_eq!(normalize_entry_path("../etc/shadow"), None);
        assert_eq!(normalize_entry_path("a/../../x"), None);
    }

    #[test]
    fn walks_whiteouts_and_rejects_escapes() {
        let t = tar_with(&[
            ("etc/os-release", b"ID=debian\n"),
            ("../evil", b"x"),
            ("usr/.wh.gone", b""),
            ("opt/.wh..wh..opq", b""),
        ]);
        let mut seen = Vec::new();
        let mut rejected = Vec::new();
        walk(
            &t[..],
            "test",
            |e, r| {
                let mut s = String::new();
                r.read_to_string(&mut s)?;
                seen.push((e.path.clone(), e.kind.clone(), s));
                Ok(())
            },
            |r| rejected.push(r),
        )
        .unwrap();
        assert_eq!(
            seen[0],
            (
                "/etc/os-release".into(),
                EntryKind::File,
                "ID=debian\n".into()
            )
        );
        assert_eq!(seen[1].0, "/usr/gone");
        assert_eq!(seen[1].1, EntryKind::Whiteout);
        assert_eq!(seen[2].0, "/opt");
        assert_eq!(seen[2].1, EntryKind::Opaque);
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].path, "../evil");
    }

    #[test]
    fn sniffs_compression() {
        use std::io::Write;
        let t = tar_with(&[("a", b"hello")]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&t).unwrap();
        let gz = gz.finish().unwrap();
        let zs = zstd::encode_all(&t[..], 1).unwrap();
        for (bytes, want) in [
            (&gz, Compression::Gzip),
            (&zs, Compression::Zstd),
            (&t, Compression::None),
        ] {
            let (mut r, got) = decompress(&bytes[..], Compression::None).unwrap();
            assert_eq!(got, want);
            let mut out = Vec::new();
            r.read_to_end(&mut out).unwrap();
            assert_eq!(out, t);
        }
    }

    #[test]
    fn truncated_gzip_is_an_error() {
        use std::io::Write;
        let t = tar_with(&[("a", &[7u8; 100_000])]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&t).unwrap();
        let gz = gz.finish().unwrap();
        let cut = &gz[..gz.len() / 2];
        let (r, _) = decompress(cut, Compression::Gzip).unwrap();
        let res = walk(
            r,
            "cut",
            |_, r| io::copy(r, &mut io::sink()).map(|_| ()),
            |_| {},
        );
        assert!(res.is_err());
    }
}
