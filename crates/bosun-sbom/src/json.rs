//! The bosun JSON format and the plumbing the three JSON writers share
//! (serialisation, timestamps, content-derived identifiers, id checks).

use std::collections::BTreeSet;
use std::io::{BufWriter, Write};

use bosun_core::DigestWriter;
use bosun_core::digest::Algorithm;
use serde::Serialize;

use crate::model::Sbom;
use crate::{SbomError, WriteOptions};

/// The value of the top-level `schema` field of bosun JSON.
pub const SCHEMA: &str = "bosun-sbom/1";

#[derive(Serialize)]
struct BosunJson<'a> {
    schema: &'static str,
    #[serde(flatten)]
    sbom: &'a Sbom,
}

/// bosun's own format: the model as is, tagged with [`SCHEMA`]
/// (documented in JSON-FORMAT.md).
pub fn write_json(sbom: &Sbom, opts: &WriteOptions, w: &mut dyn Write) -> Result<(), SbomError> {
    emit(
        &BosunJson {
            schema: SCHEMA,
            sbom,
        },
        opts,
        w,
    )
}

pub(crate) fn emit<T: Serialize>(
    doc: &T,
    opts: &WriteOptions,
    w: &mut dyn Write,
) -> Result<(), SbomError> {
    Ok(write_json_line(doc, opts.pretty, w)?)
}

/// Serialise `doc` with a trailing newline. Buffered: serde writes in many
/// small pieces and `w` may be an unbuffered file or stdout. Shared by every
/// JSON writer (SBOMs, scan reports).
pub fn write_json_line<T: Serialize>(
    doc: &T,
    pretty: bool,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    let mut out = BufWriter::new(w);
    if pretty {
        serde_json::to_writer_pretty(&mut out, doc)?;
    } else {
        serde_json::to_writer(&mut out, doc)?;
    }
    out.write_all(b"\n")?;
    out.flush()
}

/// RFC 3339 UTC (`1970-01-01T00:00:00Z`) for seconds since the epoch.
pub(crate) fn rfc3339(secs: i64) -> Result<String, SbomError> {
    bosun_core::time::rfc3339(secs).ok_or(SbomError::TimestampOutOfRange(secs))
}

/// A UUID derived from the document's content and `salt` (the format), so the
/// same SBOM always gets the same serial number / namespace. Laid out as a
/// name-based version-5 UUID, but hashed with SHA-256 rather than SHA-1.
pub(crate) fn content_uuid(sbom: &Sbom, salt: &str) -> Result<String, SbomError> {
    // Streamed into the hash: the document can be large.
    let mut hasher = DigestWriter::new(Algorithm::Sha256);
    hasher.update(salt.as_bytes());
    hasher.update(&[0]);
    serde_json::to_writer(&mut hasher, sbom)?;
    Ok(uuid_from_digest(&hasher.finish()))
}

/// A version-5-shaped UUID (RFC 4122 version and variant bits) from the
/// first 128 bits of a digest: stable ids for documents derived from content.
pub fn uuid_from_digest(digest: &bosun_core::Digest) -> String {
    let mut s = String::with_capacity(36);
    for (i, c) in digest.hex().chars().take(32).enumerate() {
        if matches!(i, 8 | 12 | 16 | 20) {
            s.push('-');
        }
        s.push(match i {
            12 => '5',
            // RFC 4122 variant: the nibble's top two bits are 10.
            16 => match c {
                '0' | '4' | '8' | 'c' => '8',
                '1' | '5' | '9' | 'd' => '9',
                '2' | '6' | 'a' | 'e' => 'a',
                _ => 'b',
            },
            _ => c,
        });
    }
    s
}

/// Package ids become bom-refs and SPDXIDs: they must be present and unique.
/// `reserved` are the ids the writer itself adds (source, distro).
pub(crate) fn check_ids(sbom: &Sbom, reserved: &[&str]) -> Result<(), SbomError> {
    let mut seen: BTreeSet<&str> = reserved.iter().copied().collect();
    for p in &sbom.packages {
        if p.id.is_empty() {
            return Err(SbomError::EmptyId {
                name: p.name.chars().take(140).collect(),
            });
        }
        if !seen.insert(&p.id) {
            return Err(SbomError::DuplicateId(p.id.chars().take(140).collect()));
        }
    }
    Ok(())
}

/// Lower-case or upper-case hex of exactly `len` digits (a checksum both
/// formats accept).
pub(crate) fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Text from package metadata for places that want one line: terminal
/// escapes dropped, controls turned into spaces (bosun-core `text`).
pub(crate) fn one_line(s: &str) -> String {
    bosun_core::text::clean(s)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::Format;

    #[test]
    fn rfc3339_known_instants() {
        // Values checked with `date -u -d @SECS +%FT%TZ`.
        assert_eq!(rfc3339(0).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400).unwrap(), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000).unwrap(), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(-1).unwrap(), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(4_107_542_399).unwrap(), "2100-02-28T23:59:59Z");
        assert_eq!(rfc3339(253_402_300_799).unwrap(), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(-62_167_219_200).unwrap(), "0000-01-01T00:00:00Z");
    }

    #[test]
    fn rfc3339_rejects_out_of_range() {
        for secs in [i64::MIN, i64::MAX, 253_402_300_800, -62_167_219_201] {
            assert!(matches!(
                rfc3339(secs),
                Err(SbomError::TimestampOutOfRange(_))
            ));
        }
    }

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.to_string().parse::<Format>().unwrap(), f);
        }
        assert_eq!(
            "cyclonedx".parse::<Format>().unwrap(),
            Format::CycloneDxJson
        );
        assert_eq!("spdx".parse::<Format>().unwrap(), Format::SpdxJson);
        assert!(matches!(
            "xml".parse::<Format>(),
            Err(SbomError::UnknownFormat(_))
        ));
    }
}
