//! The Sigstore trusted root (`application/vnd.dev.sigstore.trustedroot+json;version=0.1`):
//! transparency logs, CT logs, Fulcio CAs and timestamp authorities, each
//! with the time window in which it may be trusted.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use der::Decode;
use serde::Deserialize;

use super::VerifyError;
use super::key::{HashAlgorithm, VerifyingKey};

/// The trusted root document's byte limit: real ones are a few tens of KiB.
const MAX_ROOT_BYTES: usize = 4 << 20;

/// A closed interval of Unix seconds; `end: None` means still valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRange {
    pub start: i64,
    pub end: Option<i64>,
}

impl TimeRange {
    /// Closed interval: the end instant itself is still inside.
    pub fn contains(&self, t: i64) -> bool {
        t >= self.start && self.end.is_none_or(|e| t <= e)
    }
}

/// A Rekor or CT log.
#[derive(Clone, Debug)]
pub struct TransparencyLog {
    pub base_url: String,
    pub hash_algorithm: HashAlgorithm,
    /// `None` when the key type is unsupported: such a log verifies nothing.
    pub key: Option<VerifyingKey>,
    pub valid_for: TimeRange,
    pub log_id: Vec<u8>,
}

/// A Fulcio CA or an RFC 3161 timestamp authority.
#[derive(Clone, Debug)]
pub struct CertificateAuthority {
    pub uri: String,
    /// DER certificates, leaf-most first, root last.
    pub chain: Vec<x509_cert::Certificate>,
    pub valid_for: TimeRange,
}

#[derive(Clone, Debug)]
pub struct TrustedRoot {
    pub tlogs: Vec<TransparencyLog>,
    pub ctlogs: Vec<TransparencyLog>,
    pub certificate_authorities: Vec<CertificateAuthority>,
    pub timestamp_authorities: Vec<CertificateAuthority>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRoot {
    media_type: Option<String>,
    #[serde(default)]
    tlogs: Vec<RawLog>,
    #[serde(default)]
    ctlogs: Vec<RawLog>,
    #[serde(default)]
    certificate_authorities: Vec<RawCa>,
    #[serde(default)]
    timestamp_authorities: Vec<RawCa>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLog {
    #[serde(default)]
    base_url: String,
    hash_algorithm: Option<String>,
    public_key: RawKey,
    log_id: RawLogId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawKey {
    raw_bytes: Option<String>,
    valid_for: Option<RawRange>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogId {
    key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCa {
    #[serde(default)]
    uri: String,
    cert_chain: RawChain,
    valid_for: Option<RawRange>,
}

#[derive(Deserialize)]
struct RawChain {
    #[serde(default)]
    certificates: Vec<RawCert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCert {
    raw_bytes: String,
}

#[derive(Deserialize)]
struct RawRange {
    start: Option<String>,
    end: Option<String>,
}

fn err(msg: String) -> VerifyError {
    VerifyError::TrustedRoot(msg)
}

fn range(raw: Option<&RawRange>, what: &str) -> Result<TimeRange, VerifyError> {
    // The spec makes the start mandatory; a missing one must not widen trust.
    let raw = raw.ok_or_else(|| err(format!("{what}: missing validFor")))?;
    let start = raw
        .start
        .as_deref()
        .ok_or_else(|| err(format!("{what}: validFor has no start")))?;
    let start = parse_rfc3339(start).map_err(|e| err(format!("{what}: validFor.start: {e}")))?;
    let end = match raw.end.as_deref() {
        Some(e) => Some(parse_rfc3339(e).map_err(|e| err(format!("{what}: validFor.end: {e}")))?),
        None => None,
    };
    Ok(TimeRange { start, end })
}

fn log(raw: &RawLog, what: &str) -> Result<TransparencyLog, VerifyError> {
    let hash_algorithm = match raw.hash_algorithm.as_deref() {
        None => HashAlgorithm::Sha256,
        Some(h) => HashAlgorithm::from_name(h)
            .ok_or_else(|| err(format!("{what}: unknown hashAlgorithm {h:?}")))?,
    };
    let key = match &raw.public_key.raw_bytes {
        Some(b) => {
            let der_bytes = STANDARD
                .decode(b)
                .map_err(|e| err(format!("{what}: publicKey.rawBytes: {e}")))?;
            VerifyingKey::from_der(&der_bytes).ok()
        }
        None => None,
    };
    let log_id = STANDARD
        .decode(&raw.log_id.key_id)
        .map_err(|e| err(format!("{what}: logId.keyId: {e}")))?;
    Ok(TransparencyLog {
        base_url: raw.base_url.clone(),
        hash_algorithm,
        key,
        valid_for: range(raw.public_key.valid_for.as_ref(), what)?,
        log_id,
    })
}

fn authority(raw: &RawCa, what: &str) -> Result<CertificateAuthority, VerifyError> {
    let mut chain = Vec::with_capacity(raw.cert_chain.certificates.len());
    for (i, c) in raw.cert_chain.certificates.iter().enumerate() {
        let der_bytes = STANDARD
            .decode(&c.raw_bytes)
            .map_err(|e| err(format!("{what}: certificate {i}: {e}")))?;
        let cert = x509_cert::Certificate::from_der(&der_bytes)
            .map_err(|e| err(format!("{what}: certificate {i}: {e}")))?;
        chain.push(cert);
    }
    if chain.is_empty() {
        return Err(err(format!("{what}: empty certChain")));
    }
    Ok(CertificateAuthority {
        uri: raw.uri.clone(),
        chain,
        valid_for: range(raw.valid_for.as_ref(), what)?,
    })
}

impl TrustedRoot {
    pub fn from_json(bytes: &[u8]) -> Result<Self, VerifyError> {
        if bytes.len() > MAX_ROOT_BYTES {
            return Err(err(format!(
                "document is {} bytes, over the limit",
                bytes.len()
            )));
        }
        let raw: RawRoot =
            serde_json::from_slice(bytes).map_err(|e| err(format!("invalid JSON: {e}")))?;
        if let Some(mt) = &raw.media_type
            && !mt.starts_with("application/vnd.dev.sigstore.trustedroot")
        {
            return Err(err(format!("unexpected mediaType {mt:?}")));
        }
        let each_log = |logs: &[RawLog], kind: &str| {
            logs.iter()
                .enumerate()
                .map(|(i, l)| log(l, &format!("{kind}[{i}]")))
                .collect::<Result<Vec<_>, _>>()
        };
        let each_ca = |cas: &[RawCa], kind: &str| {
            cas.iter()
                .enumerate()
                .map(|(i, c)| authority(c, &format!("{kind}[{i}]")))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(TrustedRoot {
            tlogs: each_log(&raw.tlogs, "tlogs")?,
            ctlogs: each_log(&raw.ctlogs, "ctlogs")?,
            certificate_authorities: each_ca(
                &raw.certificate_authorities,
                "certificateAuthorities",
            )?,
            timestamp_authorities: each_ca(&raw.timestamp_authorities, "timestampAuthorities")?,
        })
    }

    pub(crate) fn tlog(&self, log_id: &[u8]) -> Option<&TransparencyLog> {
        self.tlogs.iter().find(|l| l.log_id == log_id)
    }
}

/// Parses an RFC 3339 timestamp (`2021-01-12T11:53:27Z`, optional
/// fraction, `Z` or `±hh:mm`) into Unix seconds, dropping the fraction.
pub(crate) fn parse_rfc3339(s: &str) -> Result<i64, String> {
    let bad = || format!("not an RFC 3339 time: {s:?}");
    let b = s.as_bytes();
    if b.len() < 20 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return Err(bad());
    }
    if !matches!(b.get(10), Some(b'T' | b't'))
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
    {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<i64, String> {
        let part = s.get(r).ok_or_else(bad)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        part.parse::<i64>().map_err(|_| bad())
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return Err(bad());
    }
    let mut rest = s.get(19..).ok_or_else(bad)?;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        rest = frac.get(digits..).ok_or_else(bad)?;
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let rb = rest.as_bytes();
            if rb.len() != 6 || rb.get(3) != Some(&b':') {
                return Err(bad());
            }
            let sign = match rb.first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return Err(bad()),
            };
            let h: i64 = rest
                .get(1..3)
                .and_then(|x| x.parse().ok())
                .ok_or_else(bad)?;
            let m: i64 = rest
                .get(4..6)
                .and_then(|x| x.parse().ok())
                .ok_or_else(bad)?;
            sign * (h * 3600 + m * 60)
        }
    };
    Ok(days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_rfc3339("2021-01-12T11:53:27Z"), Ok(1_610_452_407));
        assert_eq!(parse_rfc3339("2021-01-12T11:53:27.123Z"), Ok(1_610_452_407));
        assert_eq!(
            parse_rfc3339("2021-01-12T12:53:27+01:00"),
            Ok(1_610_452_407)
        );
        for bad in [
            "",
            "2021-01-12",
            "2021-13-12T11:53:27Z",
            "2021-01-12T11:53:27",
            "x".repeat(30).as_str(),
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn closed_interval() {
        let r = TimeRange {
            start: 10,
            end: Some(20),
        };
        assert!(r.contains(10) && r.contains(20) && !r.contains(21) && !r.contains(9));
    }

    #[test]
    fn hostile_roots_are_errors() {
        for doc in [
            &b"{"[..],
            b"[]",
            b"{\"tlogs\": 5}",
            b"{\"tlogs\":[{\"publicKey\":{},\"logId\":{\"keyId\":\"!!\"}}]}",
        ] {
            assert!(TrustedRoot::from_json(doc).is_err());
        }
    }
}
