//! Streaming analysis of executables: one forward pass over an ELF file's
//! bytes looks for Go build information and cargo-auditable data at once.
//!
//! The file arrives as a stream (a tar entry), so nothing can be re-read: the
//! driver slides a fixed window over it, keeping [`LOOKAHEAD`] bytes of the
//! previous window so a structure that starts near the end of one window is
//! seen whole in the next. Each scanner remembers how far it has searched and
//! copies out only the few bytes it needs, so memory per file stays at the
//! window plus small, capped captures.

use std::io::Read;

use crate::{CatalogError, Facts, golang, rust};

/// Files smaller than this cannot hold a useful binary.
const MIN_SIZE: u64 = 1 << 10;
/// Files larger than this are not sniffed at all.
const MAX_SIZE: u64 = 1 << 30;
/// Bytes of each window that are new.
const WINDOW: usize = 256 << 10;
/// Bytes a scanner may need past the start of a match to judge it; the
/// driver carries this much from one window into the next.
pub(crate) const LOOKAHEAD: usize = 1024;
/// Program headers are read only from the first window.
const MAX_PHNUM: usize = 512;

/// Whether a regular file may be an executable worth sniffing: any execute
/// bit, or a shared object name (`libx.so`, `libx.so.1.2`), within size bounds.
pub fn wants(path: &str, mode: u32, size: u64) -> bool {
    if !(MIN_SIZE..=MAX_SIZE).contains(&size) {
        return false;
    }
    mode & 0o111 != 0 || is_shared_object(path.rsplit('/').next().unwrap_or(path))
}

fn is_shared_object(name: &str) -> bool {
    match name.rfind(".so") {
        Some(i) if i > 0 => {
            let rest = &name[i + 3..];
            rest.is_empty()
                || (rest.starts_with('.')
                    && rest.len() > 1
                    && rest.bytes().all(|b| b == b'.' || b.is_ascii_digit()))
        }
        _ => false,
    }
}

/// Sniff one executable. `Ok(None)` for anything that is not ELF or carries
/// neither Go build info nor cargo-auditable data. When both are present
/// (a Rust program linking a Go archive) the Go build info wins.
pub fn analyze_executable(r: &mut dyn Read, size: u64) -> Result<Option<Facts>, CatalogError> {
    let mut magic = [0u8; 4];
    let got = read_full(r, &mut magic)?;
    if got < 4 || magic != *b"\x7fELF" {
        return Ok(None);
    }
    let cap = WINDOW.min(usize::try_from(size).unwrap_or(WINDOW).max(4096)) + LOOKAHEAD;
    let mut buf = vec![0u8; cap];
    buf[..4].copy_from_slice(&magic);
    let mut len = 4 + read_full(r, &mut buf[4..])?;
    let mut eof = len < buf.len();
    let elf = Elf::parse(&buf[..len]);
    let mut go = golang::Scanner::new(&buf[..len]);
    let mut rs = rust::Scanner::new();
    let mut win_off: u64 = 0;
    loop {
        let win = &buf[..len];
        go.feed(win_off, win, eof, elf.as_ref());
        rs.feed(win_off, win, eof);
        if eof || (go.done() && rs.done()) {
            break;
        }
        let keep = LOOKAHEAD.min(len);
        buf.copy_within(len - keep..len, 0);
        win_off += (len - keep) as u64;
        len = keep + read_full(r, &mut buf[keep..])?;
        eof = len < buf.len();
    }
    if let Some(res) = go.finish() {
        return Ok(Some(match res {
            Ok(info) => Facts::Go(info),
            Err(e) => Facts::Unreadable(format!("Go build info: {e}")),
        }));
    }
    Ok(rs.finish().map(|res| match res {
        Ok(info) => Facts::RustAudit(info),
        Err(e) => Facts::Unreadable(format!("cargo-auditable .dep-v0: {e}")),
    }))
}

/// Read until `buf` is full or the stream ends; returns the bytes read.
pub(crate) fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> Result<usize, CatalogError> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(CatalogError::Io {
                    path: "executable".into(),
                    source,
                });
            }
        }
    }
    Ok(n)
}

/// What is known from the ELF header and program headers: enough to map a
/// virtual address to a file offset (Go's pre-1.18 build info uses pointers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Elf {
    pub big_endian: bool,
    loads: Vec<Load>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Load {
    vaddr: u64,
    offset: u64,
    filesz: u64,
}

impl Elf {
    /// Parse from the first bytes of the file; None if the header is broken
    /// or the program headers are not within `head`.
    pub(crate) fn parse(head: &[u8]) -> Option<Elf> {
        if head.get(..4)? != b"\x7fELF" {
            return None;
        }
        let is64 = match head.get(4)? {
            1 => false,
            2 => true,
            _ => return None,
        };
        let big_endian = match head.get(5)? {
            1 => false,
            2 => true,
            _ => return None,
        };
        let rd = |at: usize, n: usize| read_uint(head, at, n, big_endian);
        let (phoff, phentsize, phnum) = if is64 {
            (rd(32, 8)?, rd(54, 2)?, rd(56, 2)?)
        } else {
            (rd(28, 4)?, rd(42, 2)?, rd(44, 2)?)
        };
        let min_ent = if is64 { 56 } else { 32 };
        if phentsize < min_ent || phnum as usize > MAX_PHNUM {
            return None;
        }
        let mut loads = Vec::new();
        for i in 0..phnum {
            let base = usize::try_from(phoff.checked_add(i.checked_mul(phentsize)?)?).ok()?;
            if rd(base, 4)? != 1 {
                continue; // not PT_LOAD
            }
            let (offset, vaddr, filesz) = if is64 {
                (rd(base + 8, 8)?, rd(base + 16, 8)?, rd(base + 32, 8)?)
            } else {
                (rd(base + 4, 4)?, rd(base + 8, 4)?, rd(base + 16, 4)?)
            };
            loads.push(Load {
                vaddr,
                offset,
                filesz,
            });
        }
        Some(Elf { big_endian, loads })
    }

    /// The file offset of `len` bytes at virtual address `vaddr`, if they
    /// lie wholly inside one loaded segment's file image.
    pub(crate) fn file_offset(&self, vaddr: u64, len: u64) -> Option<u64> {
        self.loads.iter().find_map(|l| {
            let rel = vaddr.checked_sub(l.vaddr)?;
            (rel.checked_add(len)? <= l.filesz).then(|| l.offset.checked_add(rel))?
        })
    }
}

/// An unsigned integer of `n` (1..=8) bytes at `at`, bounds-checked.
pub(crate) fn read_uint(b: &[u8], at: usize, n: usize, big_endian: bool) -> Option<u64> {
    let s = b.get(at..at.checked_add(n)?)?;
    let mut v: u64 = 0;
    if big_endian {
        for &x in s {
            v = (v << 8) | u64::from(x);
        }
    } else {
        for &x in s.iter().rev() {
            v = (v << 8) | u64::from(x);
        }
    }
    Some(v)
}

/// A byte range of the file wanted by a scanner, filled from the windows as
/// they pass. Windows overlap, so filling resumes where it left off.
#[derive(Debug)]
pub(crate) struct Want {
    pub at: u64,
    pub len: usize,
    pub data: Vec<u8>,
}

impl Want {
    pub(crate) fn new(at: u64, len: usize) -> Want {
        Want {
            at,
            len,
            data: Vec::new(),
        }
    }

    /// Copy what `win` (at file offset `off`) holds of the range; true once complete.
    pub(crate) fn fill(&mut self, off: u64, win: &[u8]) -> bool {
        let next = self.at + self.data.len() as u64;
        let need = self.len.saturating_sub(self.data.len());
        if need > 0
            && next >= off
            && let Ok(s) = usize::try_from(next - off)
            && s < win.len()
        {
            let e = s.saturating_add(need).min(win.len());
            self.data.extend_from_slice(&win[s..e]);
        }
        self.data.len() >= self.len
    }
}

/// Where scanning of a window may start and must stop: matches starting in
/// `[from, to)` (window-relative) are complete enough to judge now.
pub(crate) fn scan_range(scanned_to: u64, off: u64, win_len: usize, eof: bool) -> (usize, usize) {
    let from = usize::try_from(scanned_to.saturating_sub(off)).unwrap_or(usize::MAX);
    let to = if eof {
        win_len
    } else {
        win_len.saturating_sub(LOOKAHEAD)
    };
    (from.min(to), to)
}

#[cfg(test)]
pub(crate) mod test_layers {
    //! Reads the fixture images' layers the way the real walker does, for
    //! the analyzers' tests.
    use std::io::Read;
    use std::path::Path;

    fn json(path: &Path) -> serde_json::Value {
        let text = std::fs::read(path).unwrap_or_default();
        serde_json::from_slice(&text).unwrap_or(serde_json::Value::Null)
    }

    /// Call `f(path, mode, size, reader)` for every regular file of every
    /// layer of the OCI image at `dir` (no whiteout handling: the fixtures
    /// used here need none).
    pub fn for_each_file(dir: &Path, f: &mut dyn FnMut(&str, u32, u64, &mut dyn Read)) {
        let blob = |d: &str| {
            dir.join("blobs/sha256")
                .join(d.trim_start_matches("sha256:"))
        };
        let index = json(&dir.join("index.json"));
        let mdigest = index["manifests"][0]["digest"].as_str().unwrap_or_default();
        let manifest = json(&blob(mdigest));
        let layers = manifest["layers"].as_array().cloned().unwrap_or_default();
        assert!(!layers.is_empty(), "no layers in {}", dir.display());
        for layer in layers {
            let file = std::fs::File::open(blob(layer["digest"].as_str().unwrap_or_default()))
                .unwrap_or_else(|e| panic!("layer blob: {e}"));
            let media = layer["mediaType"].as_str().unwrap_or_default();
            let stream: Box<dyn Read> = if media.ends_with("zstd") {
                Box::new(zstd::stream::read::Decoder::new(file).unwrap_or_else(|e| panic!("{e}")))
            } else {
                Box::new(flate2::read::GzDecoder::new(file))
            };
            let mut ar = tar::Archive::new(stream);
            for entry in ar.entries().unwrap_or_else(|e| panic!("{e}")) {
                let mut entry = entry.unwrap_or_else(|e| panic!("{e}"));
                if entry.header().entry_type() != tar::EntryType::Regular {
                    continue;
                }
                let path = format!("/{}", entry.path().unwrap_or_default().display());
                let path = path.replace("/./", "/");
                let mode = entry.header().mode().unwrap_or(0);
                let size = entry.size();
                f(&path, mode, size, &mut entry);
                std::io::copy(&mut entry, &mut std::io::sink()).unwrap_or_default();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wants_executables_and_shared_objects() {
        assert!(wants("/usr/bin/fzf", 0o755, 4096));
        assert!(wants("/usr/lib/libfoo.so", 0o644, 4096));
        assert!(wants("/usr/lib/libfoo.so.1.2", 0o644, 4096));
        assert!(!wants("/usr/lib/libfoo.so.txt", 0o644, 4096));
        assert!(!wants("/etc/passwd", 0o644, 4096));
        assert!(!wants("/usr/bin/tiny", 0o755, 100));
        assert!(!wants("/usr/bin/huge", 0o755, 2 << 30));
        assert!(!wants("/.so", 0o644, 4096));
    }

    #[test]
    fn non_elf_is_none() {
        let mut r: &[u8] = b"#!/bin/sh\necho hi\n";
        assert_eq!(analyze_executable(&mut r, 18).ok(), Some(None));
        let mut r: &[u8] = b"\x7fEL";
        assert_eq!(analyze_executable(&mut r, 3).ok(), Some(None));
    }

    #[test]
    fn hostile_elf_headers_do_not_panic() {
        // A 64-bit header claiming 65535 program headers at an absurd offset.
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2;
        h[5] = 1;
        h[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        h[54..56].copy_from_slice(&56u16.to_le_bytes());
        h[56..58].copy_from_slice(&u16::MAX.to_le_bytes());
        assert!(Elf::parse(&h).is_none());
        h[56..58].copy_from_slice(&3u16.to_le_bytes());
        assert!(Elf::parse(&h).is_none());
        let mut r: &[u8] = &h;
        assert_eq!(analyze_executable(&mut r, 64).ok(), Some(None));
        // Truncated header and bad class.
        assert!(Elf::parse(b"\x7fELF\x02").is_none());
        assert!(Elf::parse(b"\x7fELF\x07\x01").is_none());
        let mut r: &[u8] = b"\x7fELF\x02\x01";
        assert_eq!(analyze_executable(&mut r, 6).ok(), Some(None));
    }

    #[test]
    fn maps_addresses_through_load_segments() {
        let elf = Elf {
            big_endian: false,
            loads: vec![Load {
                vaddr: 0x40_0000,
                offset: 0,
                filesz: 0x1000,
            }],
        };
        assert_eq!(elf.file_offset(0x40_0010, 16), Some(0x10));
        assert_eq!(elf.file_offset(0x40_0ff8, 16), None);
        assert_eq!(elf.file_offset(u64::MAX, 16), None);
    }

    #[test]
    fn want_fills_across_overlapping_windows() {
        let data: Vec<u8> = (0..=255u8).collect();
        let mut w = Want::new(100, 50);
        assert!(!w.fill(0, &data[..120]));
        assert!(w.fill(110, &data[110..200]));
        assert_eq!(w.data, &data[100..150]);
    }
}
