//! The rpm header blob every database backend stores per package: a count
//! of index entries and the data store length (big-endian u32s), then the
//! 16-byte index entries (tag, type, offset, count), then the data store.

pub const NAME: u32 = 1000;
pub const VERSION: u32 = 1001;
pub const RELEASE: u32 = 1002;
pub const EPOCH: u32 = 1003;
pub const SIZE: u32 = 1009;
pub const VENDOR: u32 = 1011;
pub const LICENSE: u32 = 1014;
pub const ARCH: u32 = 1022;
pub const OLDFILENAMES: u32 = 1027;
pub const FILEDIGESTS: u32 = 1035;
pub const SOURCERPM: u32 = 1044;
pub const DIRINDEXES: u32 = 1116;
pub const BASENAMES: u32 = 1117;
pub const DIRNAMES: u32 = 1118;
pub const LONGSIZE: u32 = 5009;
pub const FILEDIGESTALGO: u32 = 5011;
pub const MODULARITYLABEL: u32 = 5096;

// Entry types.
const INT8: u32 = 2;
const INT16: u32 = 3;
const INT32: u32 = 4;
const INT64: u32 = 5;
const STRING: u32 = 6;
const BIN: u32 = 7;
const STRING_ARRAY: u32 = 8;
const I18NSTRING: u32 = 9;

/// rpm's own limits (`hdrchkTags`, `hdrchkData`): no real header comes near.
const MAX_ENTRIES: usize = 0xffff;
const MAX_DATA: usize = 16 << 20;
const ENTRY_SIZE: usize = 16;

#[derive(Debug, Clone, Copy)]
struct Entry {
    tag: u32,
    ty: u32,
    offset: usize,
    count: usize,
}

/// A parsed header borrowing the blob.
#[derive(Debug)]
pub struct Header<'a> {
    entries: Vec<Entry>,
    data: &'a [u8],
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

impl<'a> Header<'a> {
    /// Parse and check a blob: every entry's fixed-size payload must lie
    /// inside the data store (strings are checked when read).
    pub fn parse(blob: &'a [u8]) -> Result<Self, String> {
        let (il, dl) = match (be32(blob, 0), be32(blob, 4)) {
            (Some(il), Some(dl)) => (il as usize, dl as usize),
            _ => return Err(format!("header of {} bytes is too short", blob.len())),
        };
        if il == 0 || il > MAX_ENTRIES {
            return Err(format!(
                "header has {il} index entries (1..={MAX_ENTRIES} allowed)"
            ));
        }
        if dl > MAX_DATA {
            return Err(format!(
                "header data store of {dl} bytes is over {MAX_DATA}"
            ));
        }
        let start = 8 + il * ENTRY_SIZE;
        let data = blob.get(start..start + dl).ok_or_else(|| {
            format!(
                "header claims {il} entries and {dl} data bytes but the blob has {} bytes",
                blob.len()
            )
        })?;
        let mut entries = Vec::with_capacity(il);
        for i in 0..il {
            let at = 8 + i * ENTRY_SIZE;
            let field = |k: usize| be32(blob, at + 4 * k).unwrap_or(0);
            let e = Entry {
                tag: field(0),
                ty: field(1),
                offset: field(2) as usize,
                count: field(3) as usize,
            };
            let width = match e.ty {
                0..=2 | BIN => 1,
                INT16 => 2,
                INT32 => 4,
                INT64 => 8,
                STRING | STRING_ARRAY | I18NSTRING => 0,
                t => {
                    return Err(format!(
                        "header entry {i} (tag {}) has unknown type {t}",
                        e.tag
                    ));
                }
            };
            let end = e
                .count
                .checked_mul(width)
                .and_then(|n| n.checked_add(e.offset));
            if e.offset > dl || end.is_none_or(|end| end > dl) {
                return Err(format!(
                    "header entry {i} (tag {}) at offset {} count {} runs past the {dl}-byte data store",
                    e.tag, e.offset, e.count
                ));
            }
            entries.push(e);
        }
        Ok(Header { entries, data })
    }

    fn entry(&self, tag: u32) -> Option<&Entry> {
        self.entries.iter().find(|e| e.tag == tag)
    }

    /// The first value of an integer entry.
    pub fn int(&self, tag: u32) -> Option<u64> {
        let e = self.entry(tag)?;
        if e.count == 0 {
            return None;
        }
        let d = self.data;
        let o = e.offset;
        // Bounds were checked in `parse`.
        Some(match e.ty {
            INT8 => u64::from(*d.get(o)?),
            INT16 => u64::from(u16::from_be_bytes([*d.get(o)?, *d.get(o + 1)?])),
            INT32 => u64::from(be32(d, o)?),
            INT64 => u64::from_be_bytes(d.get(o..o + 8)?.try_into().ok()?),
            _ => return None,
        })
    }

    /// Every value of an INT32 entry.
    pub fn int32s(&self, tag: u32) -> Result<Vec<u32>, String> {
        match self.entry(tag) {
            None => Ok(Vec::new()),
            Some(e) if e.ty == INT32 => Ok((0..e.count)
                .filter_map(|i| be32(self.data, e.offset + 4 * i))
                .collect()),
            Some(e) => Err(format!("tag {tag} has type {}, not INT32", e.ty)),
        }
    }

    /// The first string of a string-typed entry (I18N: the default locale).
    pub fn string(&self, tag: u32) -> Result<Option<String>, String> {
        match self.entry(tag) {
            None => Ok(None),
            Some(e) if matches!(e.ty, STRING | STRING_ARRAY | I18NSTRING) && e.count > 0 => {
                self.strings_at(e, 1).map(|mut v| v.pop())
            }
            Some(e) => Err(format!(
                "tag {tag} has type {} and count {}, not a string",
                e.ty, e.count
            )),
        }
    }

    /// Every string of a STRING_ARRAY entry.
    pub fn strings(&self, tag: u32) -> Result<Vec<String>, String> {
        match self.entry(tag) {
            None => Ok(Vec::new()),
            Some(e) if matches!(e.ty, STRING_ARRAY | I18NSTRING) => self.strings_at(e, e.count),
            Some(e) => Err(format!("tag {tag} has type {}, not a string array", e.ty)),
        }
    }

    fn strings_at(&self, e: &Entry, n: usize) -> Result<Vec<String>, String> {
        let mut rest = self.data.get(e.offset..).unwrap_or_default();
        // Each string takes at least its NUL, so `n` is bounded by the data.
        if n > rest.len() {
            return Err(format!(
                "tag {} claims {n} strings in {} bytes",
                e.tag,
                rest.len()
            ));
        }
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let nul = memchr::memchr(0, rest)
                .ok_or_else(|| format!("tag {} string {i} is not NUL-terminated", e.tag))?;
            out.push(String::from_utf8_lossy(&rest[..nul]).into_owned());
            rest = &rest[nul + 1..];
        }
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod tests {
    use super::*;

    /// Build a blob from (tag, type, count, payload) entries, payloads laid
    /// out in order; enough to exercise the parser without a real rpm.
    pub(crate) fn blob(entries: &[(u32, u32, u32, &[u8])]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data: Vec<u8> = Vec::new();
        for (tag, ty, count, payload) in entries {
            let align = match *ty {
                INT16 => 2,
                INT32 => 4,
                INT64 => 8,
                _ => 1,
            };
            while !data.len().is_multiple_of(align) {
                data.push(0);
            }
            for v in [*tag, *ty, data.len() as u32, *count] {
                index.extend_from_slice(&v.to_be_bytes());
            }
            data.extend_from_slice(payload);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(&index);
        out.extend_from_slice(&data);
        out
    }

    #[test]
    fn reads_typed_entries() {
        let b = blob(&[
            (NAME, STRING, 1, b"bash\0"),
            (EPOCH, INT32, 1, &7u32.to_be_bytes()),
            (BASENAMES, STRING_ARRAY, 2, b"a\0b\0"),
            (LONGSIZE, INT64, 1, &(5u64 << 33).to_be_bytes()),
        ]);
        let h = Header::parse(&b).unwrap();
        assert_eq!(h.string(NAME).unwrap().as_deref(), Some("bash"));
        assert_eq!(h.int(EPOCH), Some(7));
        assert_eq!(h.int(LONGSIZE), Some(5u64 << 33));
        assert_eq!(h.strings(BASENAMES).unwrap(), vec!["a", "b"]);
        assert_eq!(h.string(VERSION).unwrap(), None);
        assert!(h.int32s(NAME).is_err());
    }

    #[test]
    fn rejects_out_of_bounds_entries() {
        // Claims 1000 INT32s in a 4-byte store.
        let b = blob(&[(EPOCH, INT32, 1000, &7u32.to_be_bytes())]);
        assert!(Header::parse(&b).is_err());
        // Too many strings for the store.
        let b = blob(&[(BASENAMES, STRING_ARRAY, 9, b"a\0b\0")]);
        assert!(Header::parse(&b).unwrap().strings(BASENAMES).is_err());
        // Unterminated string.
        let b = blob(&[(NAME, STRING, 1, b"bash")]);
        assert!(Header::parse(&b).unwrap().string(NAME).is_err());
        // Huge entry count, empty blob, unknown type.
        let mut b = blob(&[(NAME, STRING, 1, b"x\0")]);
        b[..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(Header::parse(&b).is_err());
        assert!(Header::parse(&[]).is_err());
        assert!(Header::parse(&blob(&[(NAME, 99, 1, b"x\0")])).is_err());
    }
}
