//! Files as OS packages shipped them. A file whose digest is the one its
//! package's database lists (dpkg's `md5sums`, rpm's file digests) is that
//! package's own, unmodified: a secret in it is public (a test key in a
//! source tree), not something a builder left behind.

use std::collections::HashMap;

use crate::{dpkg, rpm};

/// Digests of a file's content, as the package databases record them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileDigests {
    pub md5: [u8; 16],
    pub sha256: [u8; 32],
}

impl FileDigests {
    pub fn of(content: &[u8]) -> FileDigests {
        use md5::Digest as _;
        FileDigests {
            md5: md5::Md5::digest(content).into(),
            sha256: sha2::Sha256::digest(content).into(),
        }
    }
}

/// Which of `files` the package databases `dbs` (path and bytes) say were
/// shipped exactly so: path to package.
pub fn unmodified<'a>(
    dbs: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    files: &HashMap<String, FileDigests>,
) -> HashMap<String, String> {
    let mut out = HashMap::new();
    if files.is_empty() {
        return out;
    }
    for (path, bytes) in dbs {
        if let Some(package) = dpkg::md5sums_package(path) {
            out.extend(dpkg::shipped_unmodified(package, bytes, files));
        } else {
            out.extend(rpm::shipped_unmodified(path, bytes, files));
        }
    }
    out
}

/// `hex` (either case) spells exactly `bytes`.
pub(crate) fn hex_eq(hex: &str, bytes: &[u8]) -> bool {
    let hex = hex.as_bytes();
    hex.len() == 2 * bytes.len() && hex.chunks_exact(2).zip(bytes).all(|(pair, &b)| {
        let digit = |c: u8| (c as char).to_digit(16);
        matches!((digit(pair[0]), digit(pair[1])), (Some(h), Some(l)) if h * 16 + l == u32::from(b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_of_no_bytes() {
        // The well-known digests of the empty string.
        let d = FileDigests::of(b"");
        assert!(hex_eq("d41d8cd98f00b204e9800998ecf8427e", &d.md5));
        assert!(hex_eq(
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            &d.sha256
        ));
    }

    #[test]
    fn hex_compares_exactly() {
        assert!(hex_eq("00ff10", &[0, 255, 16]));
        assert!(hex_eq("00FF10", &[0, 255, 16]));
        assert!(!hex_eq("00ff11", &[0, 255, 16]));
        assert!(!hex_eq("00ff1", &[0, 255, 16]));
        assert!(!hex_eq("00fg10", &[0, 255, 16]));
    }
}
