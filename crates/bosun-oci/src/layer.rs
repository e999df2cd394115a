//! Streaming a layer: decompression chosen by the bytes themselves, and a
//! walk over the tar entries with paths made safe and whiteouts recognised.
//! Nothing is ever written to disk, so no entry can escape anywhere; paths
//! are still normalised (no `..`, rooted at `/`) because catalogers and the
//! merged tree rely on them.
//!
//! An entry whose name climbs out of the root (`../x`, `a/../../x`) or is
//! absolute (`/etc/x`) is placed where containerd's unpacker puts it: the
//! cleaned name joined onto the root, so `..` stops at `/` (`../x` is `/x`).
//! Dropping it instead would let an image hide files from the scan that the
//! runtime installs. No image tool writes such names, so each one is also
//! reported as suspicious.

use std::io::{self, BufRead, BufReader, Read};

use serde::{Deserialize, Serialize};

use crate::media::Compression;

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";
/// Larger reads than the default 8 KiB keep the decompressors fed.
const BUF_SIZE: usize = 256 << 10;
/// Paths longer than PATH_MAX are not real filesystems; refuse them.
pub const MAX_PATH: usize = 4096;
/// Entries read from one layer at most (as for archive members): the walk
/// keeps every entry's metadata, so this bounds its memory. Hitting it stops
/// the walk and is reported as incomplete analysis, never silently.
pub const MAX_ENTRIES: usize = 500_000;

/// Wrap `r` in the decompressor its first bytes call for (gzip, zstd, or
/// none). `declared` is what the media type said; the bytes win, because
/// registries and tools do mislabel layers.
///
/// When decompression fails, the rest of `r` is read before the error is
/// returned: `r` is a verifying blob reader (bounded by its descriptor's
/// size), and a corrupted blob is best reported as the digest mismatch it
/// is, not as the gzip or zstd error it causes.
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
        Compression::Gzip => Box::new(Inflating(Decoder::Gzip(Box::new(
            flate2::bufread::MultiGzDecoder::new(br),
        )))),
        Compression::Zstd => Box::new(Inflating(Decoder::Zstd(
            zstd::stream::read::Decoder::with_buffer(br)?,
        ))),
        Compression::None => Box::new(br),
    };
    Ok((out, actual))
}

enum Decoder<'a, R: BufRead> {
    // Boxed: the gzip state is far larger than zstd's handle.
    Gzip(Box<flate2::bufread::MultiGzDecoder<R>>),
    Zstd(zstd::stream::read::Decoder<'a, R>),
}

/// A decompressor whose errors give way to the source's own (see
/// [`decompress`]).
struct Inflating<'a, R: BufRead>(Decoder<'a, R>);

impl<R: BufRead> Read for Inflating<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let res = match &mut self.0 {
            Decoder::Gzip(d) => d.read(buf),
            Decoder::Zstd(d) => d.read(buf),
        };
        let Err(e) = res else { return res };
        let source = match &mut self.0 {
            Decoder::Gzip(d) => d.get_mut(),
            Decoder::Zstd(d) => d.get_mut(),
        };
        match io::copy(source, &mut io::sink()) {
            // The source is fine: the error is the decompressor's.
            Ok(_) => Err(e),
            Err(cause) => Err(io::Error::new(
                cause.kind(),
                format!("{cause} (decompressing failed first: {e})"),
            )),
        }
    }
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

/// What the walk reports about an entry besides visiting it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RejectKind {
    /// An entry no honest tool writes: skipped (a whiteout naming nothing,
    /// a link without a target, an overlong path) or placed somewhere other
    /// than its raw name says (a name climbing out of the root).
    #[default]
    Suspicious,
    /// A limit stopped the walk: what follows in the layer was not read.
    Incomplete,
}

/// An entry the walk reports: skipped because it was unsafe, placed inside
/// the root although its name points elsewhere, or the one where a limit
/// stopped the walk. `path` is the raw tar name; the rest of the layer is
/// still read unless `kind` is [`RejectKind::Incomplete`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    pub path: String,
    pub reason: String,
    #[serde(default)]
    pub kind: RejectKind,
}

/// Make a tar path absolute and clean. `None` when it climbs out of the
/// root with `..`, which no legitimate layer does.
pub fn normalize_entry_path(raw: &str) -> Option<String> {
    match place_entry_path(raw) {
        Placed::Inside(p) | Placed::Absolute(p) => Some(p),
        Placed::Climbed(_) => None,
    }
}

/// Where a tar name lands in the root filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// A relative name that stays inside the root.
    Inside(String),
    /// An absolute name (`/etc/x`) that stays inside the root.
    Absolute(String),
    /// A name whose `..` climbs above the root; placed as containerd does,
    /// each `..` at the root staying at the root (`../x` is `/x`).
    Climbed(String),
}

impl Placed {
    pub fn path(&self) -> &str {
        match self {
            Placed::Inside(p) | Placed::Absolute(p) | Placed::Climbed(p) => p,
        }
    }
}

/// The absolute, clean path at which a container runtime puts tar name
/// `raw` (lexically: `..` at the root stays at the root, the rule of
/// containerd's `archive` package; symlinks are the merged tree's business).
pub fn place_entry_path(raw: &str) -> Placed {
    let mut parts: Vec<&str> = Vec::new();
    let mut climbed = false;
    for c in raw.split('/') {
        match c {
            "" | "." => {}
            ".." => climbed |= parts.pop().is_none(),
            c => parts.push(c),
        }
    }
    let path = format!("/{}", parts.join("/"));
    if climbed {
        Placed::Climbed(path)
    } else if raw.starts_with('/') {
        Placed::Absolute(path)
    } else {
        Placed::Inside(path)
    }
}

/// The path of `raw` in the root, reporting through `reject` (as entry
/// `entry`, described as `subject`) a name that does not stay inside the
/// layer the way honest layers do.
fn place_reporting(
    raw: &str,
    entry: &str,
    subject: &str,
    reject: &mut impl FnMut(Rejected),
) -> String {
    let placed = place_entry_path(raw);
    let why = match &placed {
        Placed::Inside(_) => None,
        Placed::Absolute(_) => Some("is an absolute path"),
        Placed::Climbed(_) => Some("climbs out of the layer root with '..'"),
    };
    if let Some(why) = why {
        reject(Rejected {
            path: entry.to_string(),
            reason: format!(
                "{subject} {why}; placed at {} as container runtimes do",
                placed.path()
            ),
            kind: RejectKind::Suspicious,
        });
    }
    match placed {
        Placed::Inside(p) | Placed::Absolute(p) | Placed::Climbed(p) => p,
    }
}

/// Walk the (decompressed) tar stream `r`, calling `visit` for each entry
/// with a reader over its content (empty for non-files). `visit` may read as
/// much of the content as it wants; the rest is skipped. Entries that must
/// be skipped are passed to `reject` instead; entries placed inside the root
/// although their names climb out are passed to both. After
/// [`MAX_ENTRIES`] entries the walk reports the next one to `reject` as
/// incomplete and stops. Returns after the end-of-archive marker (or that
/// limit); the caller drains the stream if it needs to verify a digest.
pub fn walk<R: Read>(
    r: R,
    layer: &str,
    visit: impl FnMut(&Entry, &mut dyn Read) -> io::Result<()>,
    reject: impl FnMut(Rejected),
) -> Result<(), LayerError> {
    let mut archive = tar::Archive::new(Tracked::new(r));
    let res = walk_entries(&mut archive, visit, reject);
    let Err(failure) = res else { return Ok(()) };
    let mut rest = archive.into_inner();
    let e = match failure {
        Failure::Visit(e) => e,
        Failure::Tar(e) if rest.failed => e,
        // The tar crate's own messages quote the bytes they could not parse.
        Failure::Tar(_) => rest.malformed("tar data"),
    };
    // A broken tar may be a corrupted blob: read the rest of the stream
    // (what a digest check needs anyway) and report its failure, the
    // digest mismatch, rather than the tar error it caused.
    let source = match io::copy(&mut rest, &mut io::sink()) {
        Ok(_) => e,
        Err(cause) => io::Error::new(
            cause.kind(),
            format!("{cause} (reading the tar failed first: {e})"),
        ),
    };
    Err(LayerError::Io {
        layer: layer.to_string(),
        source,
    })
}

/// Where a walk failed: in the tar stream (its bytes or the reader below),
/// or in what the visitor did with an entry.
enum Failure {
    Tar(io::Error),
    Visit(io::Error),
}

/// A reader that knows how far it got and whether it failed itself, so
/// that a parser's error can be told from the stream's and reported by
/// position, without the parser's quote of the bytes it choked on.
pub(crate) struct Tracked<R> {
    inner: R,
    pos: u64,
    pub(crate) failed: bool,
}

impl<R> Tracked<R> {
    pub(crate) fn new(inner: R) -> Self {
        Tracked {
            inner,
            pos: 0,
            failed: false,
        }
    }

    /// `what` could not be parsed: an error naming the position only.
    pub(crate) fn malformed(&self, what: &str) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("malformed {what} before byte {}", self.pos),
        )
    }
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf).inspect_err(|_| self.failed = true)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: io::Seek> io::Seek for Tracked<R> {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        self.pos = self.inner.seek(to).inspect_err(|_| self.failed = true)?;
        Ok(self.pos)
    }
}

fn walk_entries<R: Read>(
    archive: &mut tar::Archive<R>,
    mut visit: impl FnMut(&Entry, &mut dyn Read) -> io::Result<()>,
    mut reject: impl FnMut(Rejected),
) -> Result<(), Failure> {
    let entries = archive.entries().map_err(Failure::Tar)?;
    for (n, entry) in entries.enumerate() {
        let mut entry = entry.map_err(Failure::Tar)?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if n >= MAX_ENTRIES {
            reject(Rejected {
                path: raw.chars().take(200).collect(),
                reason: format!(
                    "layer has more than {MAX_ENTRIES} entries; this one and all after it were not analysed"
                ),
                kind: RejectKind::Incomplete,
            });
            return Ok(());
        }
        if raw.len() > MAX_PATH {
            reject(Rejected {
                path: raw.chars().take(200).collect(),
                reason: format!("path longer than {MAX_PATH} bytes; entry skipped"),
                kind: RejectKind::Suspicious,
            });
            continue;
        }
        let path = place_reporting(&raw, &raw, &format!("tar entry {raw:?}"), &mut reject);
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
            visit(&e, &mut io::empty()).map_err(Failure::Visit)?;
            continue;
        } else if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
            if hidden.is_empty() || hidden == "." || hidden == ".." {
                reject(Rejected {
                    path: raw,
                    reason: "whiteout names no file; entry skipped".into(),
                    kind: RejectKind::Suspicious,
                });
                continue;
            }
            let e = Entry {
                path: format!("{parent}{hidden}"),
                kind: EntryKind::Whiteout,
                mode,
                size: 0,
            };
            visit(&e, &mut io::empty()).map_err(Failure::Visit)?;
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
                        path: raw,
                        reason: "link without a target; entry skipped".into(),
                        kind: RejectKind::Suspicious,
                    });
                    continue;
                }
            };
            if et.is_symlink() {
                EntryKind::Symlink(target)
            } else {
                EntryKind::Hardlink(place_reporting(
                    &target,
                    &raw,
                    &format!("the target {target:?} of hard link {raw:?}"),
                    &mut reject,
                ))
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
        visit(&e, &mut entry).map_err(Failure::Visit)?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
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
    fn places_climbing_names_as_containerd_does() {
        // Expected placements are those of containerd's unpacker (the
        // cleaned name joined onto the root: `..` stops at `/`).
        for (raw, want) in [
            (
                "../var/lib/dpkg/status",
                Placed::Climbed("/var/lib/dpkg/status".into()),
            ),
            ("./../x", Placed::Climbed("/x".into())),
            ("a/../../x", Placed::Climbed("/x".into())),
            (
                "../../../../etc/shadow",
                Placed::Climbed("/etc/shadow".into()),
            ),
            ("/etc/x", Placed::Absolute("/etc/x".into())),
            ("/../etc/x", Placed::Climbed("/etc/x".into())),
            ("a/b/../c", Placed::Inside("/a/c".into())),
            ("./etc/passwd", Placed::Inside("/etc/passwd".into())),
        ] {
            assert_eq!(place_entry_path(raw), want, "{raw}");
        }
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
    fn walks_whiteouts_and_places_escapes() {
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
        // The escaping entry is visited where the runtime puts it, with
        // its content, and reported as well.
        assert_eq!(seen[1], ("/evil".into(), EntryKind::File, "x".into()));
        assert_eq!(seen[2].0, "/usr/gone");
        assert_eq!(seen[2].1, EntryKind::Whiteout);
        assert_eq!(seen[3].0, "/opt");
        assert_eq!(seen[3].1, EntryKind::Opaque);
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].path, "../evil");
        assert_eq!(rejected[0].kind, RejectKind::Suspicious);
        assert!(
            rejected[0].reason.contains("placed at /evil"),
            "{:?}",
            rejected[0]
        );
    }

    #[test]
    fn hard_link_targets_that_climb_are_placed_and_reported() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Link);
        h.set_size(0);
        h.set_mode(0o644);
        let gnu = h.as_gnu_mut().unwrap();
        gnu.name[..4].copy_from_slice(b"copy");
        gnu.linkname[..11].copy_from_slice(b"../../x/key");
        h.set_cksum();
        b.append(&h, &[][..]).unwrap();
        let t = b.into_inner().unwrap();
        let mut seen = Vec::new();
        let mut rejected = Vec::new();
        walk(
            &t[..],
            "t",
            |e, _| {
                seen.push(e.clone());
                Ok(())
            },
            |r| rejected.push(r),
        )
        .unwrap();
        assert_eq!(seen[0].path, "/copy");
        assert_eq!(seen[0].kind, EntryKind::Hardlink("/x/key".into()));
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].path, "copy");
        assert!(
            rejected[0].reason.contains("../../x/key"),
            "{:?}",
            rejected[0]
        );
    }

    /// A tar stream of `n` empty files made on the fly (512 bytes of header
    /// each), then the end-of-archive marker: a million entries without
    /// half a GiB in memory.
    struct ManyEntries {
        n: usize,
        next: usize,
        block: Vec<u8>,
        pos: usize,
    }

    impl Read for ManyEntries {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.pos == self.block.len() {
                if self.next > self.n {
                    return Ok(0);
                }
                self.block = if self.next == self.n {
                    vec![0; 1024]
                } else {
                    let mut h = tar::Header::new_ustar();
                    h.set_entry_type(tar::EntryType::Regular);
                    h.set_size(0);
                    h.set_mode(0o644);
                    h.set_path(format!("f{}", self.next))?;
                    h.set_cksum();
                    h.as_bytes().to_vec()
                };
                self.next += 1;
                self.pos = 0;
            }
            let k = out.len().min(self.block.len() - self.pos);
            out[..k].copy_from_slice(&self.block[self.pos..self.pos + k]);
            self.pos += k;
            Ok(k)
        }
    }

    #[test]
    fn entry_cap_stops_the_walk_and_says_so() {
        let t = ManyEntries {
            n: MAX_ENTRIES + 5,
            next: 0,
            block: Vec::new(),
            pos: 0,
        };
        let mut visited = 0usize;
        let mut rejected = Vec::new();
        walk(
            t,
            "big",
            |_, _| {
                visited += 1;
                Ok(())
            },
            |r| rejected.push(r),
        )
        .unwrap();
        assert_eq!(visited, MAX_ENTRIES);
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].kind, RejectKind::Incomplete);
        assert_eq!(rejected[0].path, format!("f{MAX_ENTRIES}"));
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
    fn a_corrupted_blob_is_a_digest_mismatch_not_a_gzip_error() {
        use bosun_core::Digest;
        use bosun_core::digest::VerifyingReader;
        use std::io::Write;
        let big: Vec<u8> = (0..40_000u64)
            .flat_map(|i| format!("line {i} {}\n", i * i % 9973).into_bytes())
            .collect();
        let t = tar_with(&[("data.bin", &big)]);
        for zstd in [false, true] {
            let blob = if zstd {
                zstd::encode_all(&t[..], 1).unwrap()
            } else {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                gz.write_all(&t).unwrap();
                gz.finish().unwrap()
            };
            let digest = Digest::sha256_of(&blob);
            let mut bad = blob.clone();
            let mid = bad.len() / 3;
            bad[mid] ^= 0x5a;
            let verifying = VerifyingReader::new(&bad[..], digest.clone(), Some(bad.len() as u64));
            let (mut r, _) = decompress(verifying, Compression::Gzip).unwrap();
            // As a scan does: walk, then read to the end for the digest.
            let res = walk(
                &mut r,
                "flipped",
                |_, r| io::copy(r, &mut io::sink()).map(|_| ()),
                |_| {},
            )
            .map_err(|e| e.to_string())
            .and_then(|()| {
                io::copy(&mut r, &mut io::sink())
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            });
            let e = res.unwrap_err();
            assert!(e.contains("digest mismatch"), "zstd={zstd}: {e}");
            assert!(e.contains(&digest.to_string()), "zstd={zstd}: {e}");
        }
    }

    #[test]
    fn tar_errors_say_where_not_what() {
        let mut t = tar_with(&[("etc/passwd", b"root:x:0:0")]);
        // A checksum field of text: the tar crate quotes it, and the name.
        t[148..156].copy_from_slice(b"root:x:0");
        let e = bosun_core::text::chain(&walk(&t[..], "bad", |_, _| Ok(()), |_| {}).unwrap_err());
        assert!(!e.contains("root:x") && !e.contains("etc/passwd"), "{e}");
        assert!(e.contains("malformed tar data before byte"), "{e}");
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
