//! Read-only walk of a Berkeley DB hash database (rpm's `Packages` before
//! rpm 4.16): page 0 is the hash metadata, each bucket is a chain of hash
//! pages holding key/data item pairs, and large data items (every real rpm
//! header) live in chains of overflow pages.

use std::collections::HashSet;

use super::Records;

const HASH_MAGIC: u32 = 0x0006_1561;
const BTREE_MAGIC: u32 = 0x0005_3162;
/// Generic page header: lsn, pgno, prev, next, entries, hf_offset, level, type.
const PAGE_HEADER: usize = 26;
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASH: u8 = 13;
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;
/// Hash metadata: `spares` (first page of each doubling) start here.
const META_SPARES: usize = 96;
const NSPARES: usize = 32;

struct Db<'a> {
    data: &'a [u8],
    page_size: usize,
    le: bool,
    pages: usize,
}

impl<'a> Db<'a> {
    fn u32_at(&self, b: &[u8], at: usize) -> Option<u32> {
        let s: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if self.le {
            u32::from_le_bytes(s)
        } else {
            u32::from_be_bytes(s)
        })
    }

    fn u16_at(&self, b: &[u8], at: usize) -> Option<u16> {
        let s: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
        Some(if self.le {
            u16::from_le_bytes(s)
        } else {
            u16::from_be_bytes(s)
        })
    }

    fn page(&self, pgno: u32) -> Result<&'a [u8], String> {
        let n = pgno as usize;
        if n >= self.pages {
            return Err(format!(
                "page {pgno} is past the {} pages in the file",
                self.pages
            ));
        }
        Ok(&self.data[n * self.page_size..(n + 1) * self.page_size])
    }
}

pub fn read(data: &[u8]) -> Result<Records, String> {
    let magic_le = data
        .get(12..16)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]));
    let magic_be = data
        .get(12..16)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]));
    let le = match (magic_le, magic_be) {
        (Some(HASH_MAGIC), _) => true,
        (_, Some(HASH_MAGIC)) => false,
        (Some(BTREE_MAGIC), _) | (_, Some(BTREE_MAGIC)) => {
            return Err("Berkeley DB btree file, rpm's Packages is a hash database".into());
        }
        _ => return Err("not a Berkeley DB hash database (bad magic)".into()),
    };
    let mut db = Db {
        data,
        page_size: 0,
        le,
        pages: 0,
    };
    let page_size = db.u32_at(data, 20).unwrap_or(0) as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(format!("Berkeley DB page size {page_size} is invalid"));
    }
    if data.get(24).copied().unwrap_or(0) != 0 {
        return Err("encrypted Berkeley DB is not supported".into());
    }
    db.page_size = page_size;
    db.pages = data.len() / page_size;
    let meta = db.page(0)?;
    let max_bucket = db.u32_at(meta, 72).unwrap_or(0);
    if max_bucket as usize >= db.pages {
        return Err(format!(
            "hash claims {} buckets in {} pages",
            max_bucket as u64 + 1,
            db.pages
        ));
    }
    let mut spares = [0u32; NSPARES];
    for (i, s) in spares.iter_mut().enumerate() {
        *s = db.u32_at(meta, META_SPARES + 4 * i).unwrap_or(0);
    }

    // Every page is used at most once: a loop or a shared chain is an error.
    let mut seen: HashSet<u32> = HashSet::new();
    let mut out = Records::new();
    for bucket in 0..=max_bucket {
        // Bucket b is on page b + spares[ceil(log2(b + 1))].
        let doubling = (u32::BITS - bucket.leading_zeros()) as usize;
        let Some(mut pgno) = spares.get(doubling).and_then(|s| s.checked_add(bucket)) else {
            return Err(format!("bucket {bucket} has no page"));
        };
        while pgno != 0 {
            if !seen.insert(pgno) {
                return Err(format!(
                    "hash page {pgno} is reached twice (bucket {bucket})"
                ));
            }
            let page = db.page(pgno)?;
            match page[25] {
                P_HASH | P_HASH_UNSORTED => {}
                t => {
                    return Err(format!(
                        "bucket {bucket} page {pgno} has type {t}, not a hash page"
                    ));
                }
            }
            read_hash_page(&db, page, pgno, &mut seen, &mut out);
            pgno = db.u32_at(page, 16).unwrap_or(0);
        }
    }
    Ok(out)
}

/// Items come in key/data pairs; rpm's key is the 4-byte header number and
/// key 0 holds a counter, not a header.
fn read_hash_page(db: &Db, page: &[u8], pgno: u32, seen: &mut HashSet<u32>, out: &mut Records) {
    let entries = db.u16_at(page, 20).unwrap_or(0) as usize;
    let max = (page.len() - PAGE_HEADER) / 2;
    let offsets: Vec<usize> = (0..entries.min(max))
        .map(|i| db.u16_at(page, PAGE_HEADER + 2 * i).unwrap_or(0) as usize)
        .collect();
    // An item runs from its offset to the previous item's (or the page end).
    let item = |i: usize| -> Option<&[u8]> {
        let end = if i == 0 { page.len() } else { offsets[i - 1] };
        page.get(offsets[i]..end)
    };
    for pair in (0..offsets.len()).step_by(2) {
        if pair + 1 >= offsets.len() {
            break;
        }
        let (Some(key), Some(val)) = (item(pair), item(pair + 1)) else {
            out.push(Err(format!(
                "page {pgno} item {pair} lies outside the page"
            )));
            continue;
        };
        if key.first() == Some(&H_KEYDATA) && key[1..] == [0, 0, 0, 0] {
            continue;
        }
        out.push(match val.first() {
            Some(&H_KEYDATA) => Ok(val[1..].to_vec()),
            Some(&H_OFFPAGE) => {
                overflow(db, val, seen).map_err(|e| format!("page {pgno} item {}: {e}", pair + 1))
            }
            t => Err(format!(
                "page {pgno} item {}: unsupported item type {t:?}",
                pair + 1
            )),
        });
    }
}

/// Follow an off-page item's overflow chain, collecting its `tlen` bytes.
fn overflow(db: &Db, item: &[u8], seen: &mut HashSet<u32>) -> Result<Vec<u8>, String> {
    let (Some(mut pgno), Some(tlen)) = (db.u32_at(item, 4), db.u32_at(item, 8)) else {
        return Err("off-page item is truncated".into());
    };
    let tlen = tlen as usize;
    if tlen > db.data.len() {
        return Err(format!(
            "off-page item of {tlen} bytes is bigger than the file"
        ));
    }
    let mut buf = Vec::with_capacity(tlen);
    while buf.len() < tlen {
        if pgno == 0 || !seen.insert(pgno) {
            return Err(format!("overflow chain breaks or loops at page {pgno}"));
        }
        let page = db.page(pgno)?;
        if page[25] != P_OVERFLOW {
            return Err(format!("page {pgno} has type {}, not overflow", page[25]));
        }
        let len = db.u16_at(page, 22).unwrap_or(0) as usize;
        let chunk = page
            .get(PAGE_HEADER..PAGE_HEADER + len)
            .ok_or_else(|| format!("overflow page {pgno} claims {len} bytes"))?;
        buf.extend_from_slice(&chunk[..chunk.len().min(tlen - buf.len())]);
        pgno = db.u32_at(page, 16).unwrap_or(0);
    }
    Ok(buf)
}
