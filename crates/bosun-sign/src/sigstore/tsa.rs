//! RFC 3161 timestamps: a trusted timestamp authority's signed statement
//! that the bundle's signature existed at `genTime`.

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::asn1::{Any, Int, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Reader, Sequence, SliceReader, Tagged};

use super::VerifyError;
use super::cert::{issued_by, valid_at, verify_ca_chain};
use super::key::{HashAlgorithm, verify_with_oid};
use super::trust_root::TrustedRoot;

const OID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
const OID_TST_INFO: &str = "1.2.840.113549.1.9.16.1.4";
const OID_CONTENT_TYPE: &str = "1.2.840.113549.1.9.3";
const OID_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";

#[derive(Sequence)]
struct MessageImprint {
    hash_algorithm: spki::AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

fn tsa_err(m: impl Into<String>) -> VerifyError {
    VerifyError::Timestamp(m.into())
}

/// Splits the content of the SEQUENCE at the front of `der_bytes`.
fn sequence_body(der_bytes: &[u8]) -> Result<&[u8], VerifyError> {
    let mut r = SliceReader::new(der_bytes).map_err(|e| tsa_err(e.to_string()))?;
    let h = der::Header::decode(&mut r).map_err(|e| tsa_err(e.to_string()))?;
    if h.tag != der::Tag::Sequence {
        return Err(tsa_err("expected a SEQUENCE"));
    }
    r.read_slice(h.length).map_err(|e| tsa_err(e.to_string()))
}

/// The timestamp token, from a `TimeStampResp` or a bare `ContentInfo`.
fn token(der_bytes: &[u8]) -> Result<ContentInfo, VerifyError> {
    if let Ok(ci) = ContentInfo::from_der(der_bytes) {
        return Ok(ci);
    }
    let mut r = SliceReader::new(sequence_body(der_bytes)?).map_err(|e| tsa_err(e.to_string()))?;
    let status_info = r
        .tlv_bytes()
        .map_err(|e| tsa_err(format!("PKIStatusInfo: {e}")))?;
    let mut s =
        SliceReader::new(sequence_body(status_info)?).map_err(|e| tsa_err(e.to_string()))?;
    let status = u8::decode(&mut s).map_err(|e| tsa_err(format!("PKIStatus: {e}")))?;
    // 0 granted, 1 granted with modifications; anything else is a refusal.
    if status > 1 {
        return Err(tsa_err(format!(
            "the TSA refused the request (status {status})"
        )));
    }
    ContentInfo::decode(&mut r).map_err(|e| tsa_err(format!("timeStampToken: {e}")))
}

/// `YYYYMMDDHHMMSS[.f*]Z` to Unix seconds (fractions are legal in
/// TSTInfo but not in the `der` crate's GeneralizedTime).
fn generalized_time(any: &Any) -> Result<i64, VerifyError> {
    if any.tag() != der::Tag::GeneralizedTime {
        return Err(tsa_err("genTime is not a GeneralizedTime"));
    }
    let s = std::str::from_utf8(any.value()).map_err(|_| tsa_err("genTime is not ASCII"))?;
    let (main, rest) = s
        .split_at_checked(14)
        .ok_or_else(|| tsa_err("genTime is too short"))?;
    let frac_ok = rest == "Z"
        || rest
            .strip_prefix('.')
            .and_then(|f| f.strip_suffix('Z'))
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit()));
    if !frac_ok || !main.bytes().all(|c| c.is_ascii_digit()) {
        return Err(tsa_err(format!("malformed genTime {s:?}")));
    }
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &main[0..4],
        &main[4..6],
        &main[6..8],
        &main[8..10],
        &main[10..12],
        &main[12..14]
    );
    super::trust_root::parse_rfc3339(&rfc3339).map_err(tsa_err)
}

/// Verifies one RFC 3161 timestamp over `signature` and returns its time.
pub(crate) fn verify_timestamp(
    der_bytes: &[u8],
    signature: &[u8],
    root: &TrustedRoot,
) -> Result<i64, VerifyError> {
    let ci = token(der_bytes)?;
    if ci.content_type.to_string() != OID_SIGNED_DATA {
        return Err(tsa_err("timestamp token is not CMS SignedData"));
    }
    let sd: SignedData = ci
        .content
        .decode_as()
        .map_err(|e| tsa_err(format!("SignedData: {e}")))?;
    if sd.encap_content_info.econtent_type.to_string() != OID_TST_INFO {
        return Err(tsa_err("SignedData does not carry a TSTInfo"));
    }
    let econtent = sd
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| tsa_err("SignedData has no content"))?;
    let tst_der = econtent.value();
    let mut r = SliceReader::new(sequence_body(tst_der)?).map_err(|e| tsa_err(e.to_string()))?;
    let tst = (|| -> der::Result<(MessageImprint, Any)> {
        let _version = Int::decode(&mut r)?;
        let _policy = ObjectIdentifier::decode(&mut r)?;
        let imprint = MessageImprint::decode(&mut r)?;
        let _serial = Int::decode(&mut r)?;
        Ok((imprint, Any::decode(&mut r)?))
    })();
    let (imprint, gen_time) = tst.map_err(|e| tsa_err(format!("TSTInfo: {e}")))?;
    let gen_time = generalized_time(&gen_time)?;
    let imprint_hash = HashAlgorithm::from_oid(&imprint.hash_algorithm.oid.to_string())
        .ok_or_else(|| tsa_err("unsupported messageImprint hash algorithm"))?;
    if imprint_hash.digest(signature) != imprint.hashed_message.as_bytes() {
        return Err(tsa_err("the timestamp is not over this bundle's signature"));
    }

    let si = match sd.signer_infos.0.as_slice() {
        [one] => one,
        other => {
            return Err(tsa_err(format!(
                "{} signer infos, expected one",
                other.len()
            )));
        }
    };
    let digest_alg = HashAlgorithm::from_oid(&si.digest_alg.oid.to_string())
        .ok_or_else(|| tsa_err("unsupported signer digest algorithm"))?;
    let attrs = si
        .signed_attrs
        .as_ref()
        .ok_or_else(|| tsa_err("signer info has no signed attributes"))?;
    let attr = |oid: &str| {
        attrs
            .iter()
            .find(|a| a.oid.to_string() == oid)
            .and_then(|a| match a.values.as_slice() {
                [one] => Some(one),
                _ => None,
            })
    };
    let content_type_ok = attr(OID_CONTENT_TYPE)
        .and_then(|v| v.decode_as::<ObjectIdentifier>().ok())
        .is_some_and(|o| o.to_string() == OID_TST_INFO);
    let digest_ok = attr(OID_MESSAGE_DIGEST)
        .and_then(|v| v.decode_as::<OctetString>().ok())
        .is_some_and(|d| d.as_bytes() == digest_alg.digest(tst_der));
    if !content_type_ok || !digest_ok {
        return Err(tsa_err("signed attributes do not match the TSTInfo"));
    }
    let signed = attrs.to_der().map_err(|e| tsa_err(e.to_string()))?;
    let sig = si.signature.as_bytes();
    // Some TSAs name only the key algorithm; the digest algorithm then decides.
    let alg = match si.signature_algorithm.oid.to_string().as_str() {
        "1.2.840.10045.2.1" | "1.2.840.113549.1.1.1" => {
            let ec = si
                .signature_algorithm
                .oid
                .to_string()
                .starts_with("1.2.840.10045");
            match (ec, digest_alg) {
                (true, HashAlgorithm::Sha256) => "1.2.840.10045.4.3.2",
                (true, HashAlgorithm::Sha384) => "1.2.840.10045.4.3.3",
                (true, HashAlgorithm::Sha512) => "1.2.840.10045.4.3.4",
                (false, HashAlgorithm::Sha256) => "1.2.840.113549.1.1.11",
                (false, HashAlgorithm::Sha384) => "1.2.840.113549.1.1.12",
                (false, HashAlgorithm::Sha512) => "1.2.840.113549.1.1.13",
            }
            .to_string()
        }
        other => other.to_string(),
    };

    // Only certificates from the trusted root count; embedded ones are
    // untrusted input.
    let mut last = String::from("no trusted timestamp authority");
    for tsa in &root.timestamp_authorities {
        let Some(leaf) = tsa.chain.first() else {
            continue;
        };
        if !tsa.valid_for.contains(gen_time) {
            last = format!("TSA {} was not trusted at the timestamp time", tsa.uri);
            continue;
        }
        let key = match super::cert::public_key(leaf) {
            Ok(k) => k,
            Err(e) => {
                last = format!("TSA {}: {e}", tsa.uri);
                continue;
            }
        };
        if verify_with_oid(&key, &alg, &signed, sig).is_err() {
            last = format!("timestamp signature does not verify with TSA {}", tsa.uri);
            continue;
        }
        if !valid_at(leaf, gen_time) {
            return Err(tsa_err(format!(
                "the TSA certificate of {} is not valid at the timestamp time",
                tsa.uri
            )));
        }
        let chained = match tsa.chain.get(1..) {
            Some(rest) if !rest.is_empty() => leaf
                .to_der()
                .map_err(|e| e.to_string())
                .and_then(|d| {
                    rest.first()
                        .map_or(Ok(()), |issuer| issued_by(leaf, &d, issuer))
                })
                .and_then(|()| verify_ca_chain(rest, gen_time)),
            _ => Ok(()),
        };
        chained.map_err(|e| tsa_err(format!("TSA {} chain: {e}", tsa.uri)))?;
        return Ok(gen_time);
    }
    Err(tsa_err(last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_timestamps_are_errors() {
        let root = TrustedRoot {
            tlogs: vec![],
            ctlogs: vec![],
            certificate_authorities: vec![],
            timestamp_authorities: vec![],
        };
        for bad in [
            &[][..],
            &[0x30, 0x03, 0x02, 0x01, 0x02],
            &[0x30, 0x80, 0, 0],
            &[0xff; 40],
        ] {
            assert!(verify_timestamp(bad, b"sig", &root).is_err());
        }
    }
}
