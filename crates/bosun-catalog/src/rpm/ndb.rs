//! Read-only walk of rpm's NDB `Packages.db` (SUSE): a header and a slot
//! table in the first pages, each used slot pointing at a blob ("BlbS"
//! head, the header bytes, a tail) counted in 16-byte blocks. Little-endian.

use super::Records;

const DB_MAGIC: &[u8; 4] = b"RpmP";
const SLOT_MAGIC: &[u8; 4] = b"Slot";
const BLOB_MAGIC: &[u8; 4] = b"BlbS";
const PAGE: usize = 4096;
const SLOT: usize = 16;
const BLOCK: usize = 16;
const BLOB_HEAD: usize = 16;
/// The database header takes the first two slots.
const HEADER_SLOTS: usize = 2;

fn le32(b: &[u8], at: usize) -> Option<usize> {
    let s: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_le_bytes(s) as usize)
}

pub fn read(data: &[u8]) -> Result<Records, String> {
    if data.get(..4) != Some(DB_MAGIC) {
        return Err("not an rpm NDB database (bad magic)".into());
    }
    let version = le32(data, 4).unwrap_or(usize::MAX);
    if version != 0 {
        return Err(format!("unsupported NDB version {version}"));
    }
    let slot_pages = le32(data, 12).unwrap_or(0);
    let slot_end = slot_pages
        .checked_mul(PAGE)
        .filter(|&n| n > 0 && n <= data.len())
        .ok_or_else(|| format!("NDB slot table of {slot_pages} pages does not fit the file"))?;
    let mut out = Records::new();
    // Live blobs never overlap, so together they are no bigger than the file.
    let mut budget = data.len();
    for at in (HEADER_SLOTS * SLOT..slot_end).step_by(SLOT) {
        let slot = &data[at..at + SLOT];
        if &slot[..4] != SLOT_MAGIC {
            // The table itself is damaged: nothing after this can be trusted.
            out.push(Err(format!("NDB slot at {at} has a bad magic")));
            break;
        }
        let (pkg, blkoff, blkcnt) = (le32(slot, 4), le32(slot, 8), le32(slot, 12));
        let (Some(pkg), Some(blkoff), Some(blkcnt)) = (pkg, blkoff, blkcnt) else {
            continue;
        };
        if pkg == 0 {
            continue; // free slot
        }
        let blob = blob(data, pkg, blkoff, blkcnt, &mut budget)
            .map_err(|e| format!("NDB package {pkg}: {e}"));
        out.push(blob);
    }
    Ok(out)
}

fn blob(
    data: &[u8],
    pkg: usize,
    blkoff: usize,
    blkcnt: usize,
    budget: &mut usize,
) -> Result<Vec<u8>, String> {
    let start = blkoff.checked_mul(BLOCK);
    let end = blkcnt
        .checked_mul(BLOCK)
        .and_then(|n| n.checked_add(start?));
    let area = match (start, end) {
        (Some(s), Some(e)) => data.get(s..e),
        _ => None,
    }
    .ok_or_else(|| format!("blob at block {blkoff} (+{blkcnt}) is outside the file"))?;
    if area.get(..4) != Some(BLOB_MAGIC) || le32(area, 4) != Some(pkg) {
        return Err(format!("blob at block {blkoff} has a bad head"));
    }
    let len = le32(area, 12).unwrap_or(0);
    let body = area
        .get(BLOB_HEAD..BLOB_HEAD.saturating_add(len))
        .ok_or_else(|| format!("blob of {len} bytes overruns its {blkcnt} blocks"))?;
    *budget = budget
        .checked_sub(len)
        .ok_or("blobs overlap: more header bytes than the file holds")?;
    Ok(body.to_vec())
}
