//! Feed parsers: bytes from OSV, CISA KEV, EPSS and the Debian security
//! tracker become [`crate::model`] types.
//!
//! Every byte is untrusted: sizes and counts are capped, a malformed record
//! is skipped with a [`Warning`] that names where it was, and a damaged
//! container (a truncated zip, a JSON syntax error in a single-document feed)
//! is a [`FeedError`].

pub mod cvss;
pub mod debian;
pub mod epss;
pub mod kev;
pub mod osv;

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A feed could not be read at all. `location` names the file, entry or
/// line; `message` says what is wrong there.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("{location}")]
    Io {
        location: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{location}: corrupt zip archive")]
    Zip {
        location: String,
        #[source]
        source: zip::result::ZipError,
    },
    #[error("{location}: larger than the {limit}-byte limit")]
    TooLarge { location: String, limit: u64 },
    #[error("{location}: {message}")]
    Invalid { location: String, message: String },
}

impl FeedError {
    pub(crate) fn invalid(location: impl Into<String>, message: impl fmt::Display) -> FeedError {
        FeedError::Invalid {
            location: location.into(),
            message: message.to_string(),
        }
    }

    pub(crate) fn io(location: impl Into<String>, source: std::io::Error) -> FeedError {
        FeedError::Io {
            location: location.into(),
            source,
        }
    }
}

/// A record that was skipped (or partly ignored) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub location: String,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// What one ingest run saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Advisories handed on (withdrawn ones included).
    pub records: usize,
    /// How many of `records` are withdrawn.
    pub withdrawn: usize,
    /// Records dropped as malformed.
    pub skipped: usize,
    /// The first [`MAX_WARNINGS`] warnings; `skipped` keeps counting past that.
    pub warnings: Vec<Warning>,
}

/// Warnings kept per run: a hostile feed of a million bad records must not
/// become a million strings.
pub const MAX_WARNINGS: usize = 1000;

impl Stats {
    pub(crate) fn warn(&mut self, location: impl Into<String>, message: impl fmt::Display) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(Warning {
                location: location.into(),
                message: message.to_string(),
            });
        }
    }

    pub(crate) fn skip(&mut self, location: impl Into<String>, message: impl fmt::Display) {
        self.skipped += 1;
        self.warn(location, message);
    }
}

/// Cuts `s` to at most `max` bytes, at a char boundary.
pub(crate) fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// A JSON array of at most `N` elements; a longer one is a deserialisation
/// error, so a small document cannot expand into millions of structs.
#[derive(Debug)]
pub(crate) struct Capped<T, const N: usize>(pub Vec<T>);

impl<T, const N: usize> Default for Capped<T, N> {
    fn default() -> Self {
        Capped(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for Capped<T, N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T, const N: usize>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>, const N: usize> Visitor<'de> for V<T, N> {
            type Value = Capped<T, N>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "an array of at most {N} elements")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(item) = seq.next_element()? {
                    if out.len() == N {
                        return Err(de::Error::custom(format_args!(
                            "array has more than {N} elements"
                        )));
                    }
                    out.push(item);
                }
                Ok(Capped(out))
            }
        }
        d.deserialize_seq(V::<T, N>(PhantomData))
    }
}

/// A free-form field (OSV `database_specific`, tracker fields) kept only when
/// it is a string: any other JSON value is read past, so an odd shape in a
/// field nobody promised the shape of never costs the whole record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LaxStr {
    Str(String),
    NotStr,
}

impl LaxStr {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            LaxStr::Str(s) => Some(s),
            LaxStr::NotStr => None,
        }
    }

    pub(crate) fn into_string(self) -> Option<String> {
        match self {
            LaxStr::Str(s) => Some(s),
            LaxStr::NotStr => None,
        }
    }
}

struct LaxStrVisitor;

impl<'de> Visitor<'de> for LaxStrVisitor {
    type Value = LaxStr;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E>(self, v: &str) -> Result<LaxStr, E> {
        Ok(LaxStr::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<LaxStr, E> {
        Ok(LaxStr::Str(v))
    }
    fn visit_bool<E>(self, _: bool) -> Result<LaxStr, E> {
        Ok(LaxStr::NotStr)
    }
    fn visit_i64<E>(self, _: i64) -> Result<LaxStr, E> {
        Ok(LaxStr::NotStr)
    }
    fn visit_u64<E>(self, _: u64) -> Result<LaxStr, E> {
        Ok(LaxStr::NotStr)
    }
    fn visit_f64<E>(self, _: f64) -> Result<LaxStr, E> {
        Ok(LaxStr::NotStr)
    }
    fn visit_unit<E>(self) -> Result<LaxStr, E> {
        Ok(LaxStr::NotStr)
    }
    fn visit_none<E>(self) -> Result<LaxStr, E> {
        Ok(LaxStr::NotStr)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LaxStr, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(LaxStr::NotStr)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LaxStr, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(LaxStr::NotStr)
    }
}

impl<'de> Deserialize<'de> for LaxStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LaxStrVisitor)
    }
}

/// A free-form list of strings: the first `N` string elements of an array;
/// non-strings, the rest of the array, and non-arrays are read past.
#[derive(Debug, Default)]
pub(crate) struct LaxStrList<const N: usize>(pub Vec<String>);

impl<'de, const N: usize> Deserialize<'de> for LaxStrList<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const N: usize>;
        impl<'de, const N: usize> Visitor<'de> for V<N> {
            type Value = LaxStrList<N>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<LaxStr>()? {
                    if let (LaxStr::Str(s), true) = (item, out.len() < N) {
                        out.push(s);
                    }
                }
                Ok(LaxStrList(out))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(LaxStrList(Vec::new()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(LaxStrList(Vec::new()))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(LaxStrList(Vec::new()))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(LaxStrList(Vec::new()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(LaxStrList(Vec::new()))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(LaxStrList(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(LaxStrList(Vec::new()))
            }
        }
        d.deserialize_any(V::<N>)
    }
}

/// Whether `s` looks like `CVE-YYYY-NNNN...` (four-digit year, at least four
/// digits after it), as CVE, KEV and EPSS all spell ids.
pub(crate) fn is_cve_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, num)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && (4..=19).contains(&num.len())
        && year.bytes().all(|b| b.is_ascii_digit())
        && num.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn truncate_respects_char_boundaries() {
        let s = "aé".repeat(10); // 'é' is two bytes
        assert_eq!(truncate(s.clone(), 2), "a"); // byte 2 is inside the first 'é'
        assert_eq!(truncate(s.clone(), 4), "aéa");
        assert_eq!(truncate(s.clone(), 1000), s);
    }

    #[test]
    fn capped_rejects_long_arrays() {
        let ok: Capped<u8, 3> = serde_json::from_str("[1,2,3]").unwrap();
        assert_eq!(ok.0, vec![1, 2, 3]);
        let err = serde_json::from_str::<Capped<u8, 3>>("[1,2,3,4]").unwrap_err();
        assert!(err.to_string().contains("more than 3"), "{err}");
    }

    #[test]
    fn lax_values_read_past_other_shapes() {
        let v: Vec<LaxStr> = serde_json::from_str(r#"["a", 1, null, [1,[2]], {"x":{}}]"#).unwrap();
        assert_eq!(v[0], LaxStr::Str("a".into()));
        assert!(v[1..].iter().all(|x| *x == LaxStr::NotStr));
        let l: LaxStrList<2> = serde_json::from_str(r#"["a", 1, "b", "c"]"#).unwrap();
        assert_eq!(l.0, vec!["a", "b"]);
        let l: LaxStrList<2> = serde_json::from_str(r#"{"a": [1]}"#).unwrap();
        assert!(l.0.is_empty());
    }

    #[test]
    fn cve_ids() {
        assert!(is_cve_id("CVE-2021-44228"));
        assert!(is_cve_id("CVE-1999-0001"));
        assert!(!is_cve_id("CVE-21-44228"));
        assert!(!is_cve_id("CVE-2021-123"));
        assert!(!is_cve_id("TEMP-0000000-1B2C3D"));
        assert!(!is_cve_id("CVE-2021-4422x"));
    }
}
