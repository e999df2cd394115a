//! Version ordering and ranges for each packaging scheme bosun matches
//! vulnerabilities against.
//!
//! Every scheme has a parsed `Version` (parse once with `FromStr`, then compare
//! cheaply; `Display` prints the original string) whose `Ord` follows the
//! scheme's reference implementation exactly. Ranges: npm ranges and Cargo
//! requirements ([`semver`]), PEP 440 specifier sets ([`pep440`]), Maven ranges
//! ([`maven`]), RubyGems requirements ([`gem`]) and OSV event ranges for any
//! scheme ([`osv`]). Everything is pure: no I/O, bounded input, no panics.

use std::cmp::Ordering;
use std::fmt;

/// Each scheme's `Version` defines `Ord` (its comparison) and keeps the
/// string it was parsed from in `original`; equality and partial order
/// follow `Ord`, and `Display` prints the original.
macro_rules! order_by_cmp {
    ($t:ty) => {
        impl PartialOrd for $t {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
        impl PartialEq for $t {
            fn eq(&self, other: &Self) -> bool {
                self.cmp(other) == std::cmp::Ordering::Equal
            }
        }
        impl Eq for $t {}
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.original)
            }
        }
    };
}
pub(crate) use order_by_cmp;

pub mod apk;
pub mod dpkg;
pub mod gem;
pub mod maven;
pub mod osv;
pub mod pep440;
pub mod rpm;
pub mod semver;

/// Longest version string accepted (bytes); real versions are far shorter.
pub const MAX_VERSION_LEN: usize = 256;
/// Longest range / requirement / specifier string accepted (bytes).
pub const MAX_RANGE_LEN: usize = 4096;

/// A version scheme (one ordering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Dpkg,
    Rpm,
    Apk,
    /// Plain SemVer 2.0 (npm, crates.io, OSV `SEMVER` ranges).
    Semver,
    /// Go module versions: SemVer with optional leading `v`.
    Go,
    Pep440,
    Maven,
    RubyGems,
}

impl Scheme {
    /// The scheme used for an OSV `affected[].package.ecosystem` value
    /// (release suffixes like `Debian:12` are ignored).
    pub fn from_osv_ecosystem(ecosystem: &str) -> Option<Scheme> {
        let base = ecosystem.split(':').next().unwrap_or(ecosystem);
        Some(match base {
            "Debian" | "Ubuntu" => Scheme::Dpkg,
            "AlmaLinux" | "Rocky Linux" | "Red Hat" | "openSUSE" | "SUSE" | "Mageia"
            | "openEuler" => Scheme::Rpm,
            "Alpine" | "Wolfi" | "Chainguard" => Scheme::Apk,
            "npm" | "crates.io" => Scheme::Semver,
            "Go" => Scheme::Go,
            "PyPI" => Scheme::Pep440,
            "Maven" => Scheme::Maven,
            "RubyGems" => Scheme::RubyGems,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Scheme::Dpkg => "dpkg",
            Scheme::Rpm => "rpm",
            Scheme::Apk => "apk",
            Scheme::Semver => "semver",
            Scheme::Go => "go",
            Scheme::Pep440 => "PEP 440",
            Scheme::Maven => "maven",
            Scheme::RubyGems => "rubygems",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Every parse failure in this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("{scheme} version is empty")]
    Empty { scheme: Scheme },
    #[error("{scheme} {what} is {len} bytes, over the {max}-byte limit")]
    TooLong {
        scheme: Scheme,
        what: &'static str,
        len: usize,
        max: usize,
    },
    #[error("invalid {scheme} version {input:?}: {reason}")]
    Invalid {
        scheme: Scheme,
        input: String,
        reason: &'static str,
    },
    #[error("invalid {scheme} range {input:?}: {reason}")]
    InvalidRange {
        scheme: Scheme,
        input: String,
        reason: &'static str,
    },
    #[error("invalid OSV range: {reason}")]
    InvalidOsvRange { reason: &'static str },
}

/// Quote at most this much of hostile input in an error.
const ERROR_EXCERPT: usize = 64;

fn excerpt(s: &str) -> String {
    let mut end = s.len().min(ERROR_EXCERPT);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

pub(crate) fn invalid(scheme: Scheme, input: &str, reason: &'static str) -> VersionError {
    VersionError::Invalid {
        scheme,
        input: excerpt(input),
        reason,
    }
}

pub(crate) fn invalid_range(scheme: Scheme, input: &str, reason: &'static str) -> VersionError {
    VersionError::InvalidRange {
        scheme,
        input: excerpt(input),
        reason,
    }
}

/// Length check shared by every version parser.
pub(crate) fn check_version_len(scheme: Scheme, s: &str) -> Result<(), VersionError> {
    if s.len() > MAX_VERSION_LEN {
        return Err(VersionError::TooLong {
            scheme,
            what: "version",
            len: s.len(),
            max: MAX_VERSION_LEN,
        });
    }
    Ok(())
}

pub(crate) fn check_range_len(scheme: Scheme, s: &str) -> Result<(), VersionError> {
    if s.len() > MAX_RANGE_LEN {
        return Err(VersionError::TooLong {
            scheme,
            what: "range",
            len: s.len(),
            max: MAX_RANGE_LEN,
        });
    }
    Ok(())
}

/// A parsed version of any scheme; comparisons across schemes are not defined.
#[derive(Debug, Clone)]
pub enum AnyVersion {
    Dpkg(dpkg::Version),
    Rpm(rpm::Version),
    Apk(apk::Version),
    Semver(semver::Version),
    Pep440(pep440::Version),
    Maven(maven::Version),
    RubyGems(gem::Version),
}

/// The version as it was written.
impl std::fmt::Display for AnyVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnyVersion::Dpkg(v) => v.fmt(f),
            AnyVersion::Rpm(v) => v.fmt(f),
            AnyVersion::Apk(v) => v.fmt(f),
            AnyVersion::Semver(v) => v.fmt(f),
            AnyVersion::Pep440(v) => v.fmt(f),
            AnyVersion::Maven(v) => v.fmt(f),
            AnyVersion::RubyGems(v) => v.fmt(f),
        }
    }
}

impl AnyVersion {
    pub fn parse(scheme: Scheme, s: &str) -> Result<AnyVersion, VersionError> {
        Ok(match scheme {
            Scheme::Dpkg => AnyVersion::Dpkg(s.parse()?),
            Scheme::Rpm => AnyVersion::Rpm(s.parse()?),
            Scheme::Apk => AnyVersion::Apk(s.parse()?),
            Scheme::Semver => AnyVersion::Semver(s.parse()?),
            Scheme::Go => AnyVersion::Semver(semver::Version::parse_go(s)?),
            Scheme::Pep440 => AnyVersion::Pep440(s.parse()?),
            Scheme::Maven => AnyVersion::Maven(s.parse()?),
            Scheme::RubyGems => AnyVersion::RubyGems(s.parse()?),
        })
    }

    /// A number that orders like the version as far as it goes: for two
    /// versions of one scheme, `a <= b` implies `a.order_key() <= b.order_key()`
    /// (equal keys say nothing). A sorted list of versions can so be
    /// searched on plain integers, comparing whole versions only among equal
    /// keys. dpkg, SemVer, Go and PEP 440 have one; the other schemes give 0.
    pub fn order_key(&self) -> u64 {
        match self {
            AnyVersion::Dpkg(v) => v.order_key(),
            AnyVersion::Semver(v) => v.order_key(),
            AnyVersion::Pep440(v) => v.order_key(),
            AnyVersion::Rpm(_)
            | AnyVersion::Apk(_)
            | AnyVersion::Maven(_)
            | AnyVersion::RubyGems(_) => 0,
        }
    }

    /// Ordering of two versions of the same scheme; `None` across schemes.
    pub fn partial_cmp_same(&self, other: &AnyVersion) -> Option<Ordering> {
        use AnyVersion::*;
        Some(match (self, other) {
            (Dpkg(a), Dpkg(b)) => a.cmp(b),
            (Rpm(a), Rpm(b)) => a.cmp(b),
            (Apk(a), Apk(b)) => a.cmp(b),
            (Semver(a), Semver(b)) => a.cmp(b),
            (Pep440(a), Pep440(b)) => a.cmp(b),
            (Maven(a), Maven(b)) => a.cmp(b),
            (RubyGems(a), RubyGems(b)) => a.cmp(b),
            _ => return None,
        })
    }
}

/// Builds an [`AnyVersion::order_key`]: fields, most significant first.
/// A field that stands for versions it cannot order among themselves (a
/// number too wide for it, a run of letters) closes the key: every later
/// field is zero, so those versions tie instead of being misordered.
pub(crate) struct OrderKey {
    key: u64,
    bits: u32,
    open: bool,
}

impl OrderKey {
    pub(crate) fn new() -> OrderKey {
        OrderKey {
            key: 0,
            bits: 0,
            open: true,
        }
    }

    /// Appends `n` in `bits` bits; saturates (and closes) when too wide.
    pub(crate) fn number(&mut self, n: u64, bits: u32) {
        let max = (1u64 << bits) - 1;
        self.push(n.min(max), bits);
        self.open &= n < max;
    }

    /// Appends `v` and closes the key.
    pub(crate) fn last(&mut self, v: u64, bits: u32) {
        self.push(v, bits);
        self.open = false;
    }

    fn push(&mut self, v: u64, bits: u32) {
        let v = if self.open { v } else { 0 };
        self.key = (self.key << bits) | v;
        self.bits += bits;
    }

    pub(crate) fn finish(self) -> u64 {
        self.key.checked_shl(64 - self.bits).unwrap_or(0)
    }
}

/// Compare two version strings under `scheme`.
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Result<Ordering, VersionError> {
    let a = AnyVersion::parse(scheme, a)?;
    let b = AnyVersion::parse(scheme, b)?;
    // Both were parsed with the same scheme, so the variants match.
    Ok(a.partial_cmp_same(&b).unwrap_or(Ordering::Equal))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_dispatches_by_scheme() {
        assert_eq!(compare(Scheme::Dpkg, "1.0~rc1", "1.0"), Ok(Ordering::Less));
        assert_eq!(
            compare(Scheme::Pep440, "1.0a1", "1.0.0a1"),
            Ok(Ordering::Equal)
        );
        assert_eq!(compare(Scheme::Go, "v1.2.3", "v1.10.0"), Ok(Ordering::Less));
        assert_eq!(compare(Scheme::Maven, "1.0-rc1", "1.0"), Ok(Ordering::Less));
        assert!(compare(Scheme::Semver, "1.0", "1.0.0").is_err());
    }

    #[test]
    fn over_long_input_is_an_error() {
        let long = "1".repeat(MAX_VERSION_LEN + 1);
        for scheme in [
            Scheme::Dpkg,
            Scheme::Rpm,
            Scheme::Apk,
            Scheme::Semver,
            Scheme::Go,
            Scheme::Pep440,
            Scheme::Maven,
            Scheme::RubyGems,
        ] {
            assert!(
                matches!(
                    AnyVersion::parse(scheme, &long),
                    Err(VersionError::TooLong { .. })
                ),
                "{scheme}"
            );
        }
    }

    #[test]
    fn ecosystem_names_map_to_schemes() {
        assert_eq!(Scheme::from_osv_ecosystem("Debian:12"), Some(Scheme::Dpkg));
        assert_eq!(Scheme::from_osv_ecosystem("PyPI"), Some(Scheme::Pep440));
        assert_eq!(Scheme::from_osv_ecosystem("Nope"), None);
    }

    #[test]
    fn error_excerpt_respects_char_boundaries() {
        let s = "é".repeat(100);
        assert!(excerpt(&s).len() <= ERROR_EXCERPT);
    }
}
