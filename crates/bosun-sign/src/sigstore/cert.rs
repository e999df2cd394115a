//! Fulcio certificates: the chain to a trusted CA, embedded SCTs checked
//! against the trusted CT logs, and the signer identity (SAN and issuer).

use der::asn1::{OctetString, Utf8StringRef};
use der::{Decode, Encode, Reader, SliceReader};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;

use super::VerifyError;
use super::key::{VerifyingKey, verify_with_oid};
use super::trust_root::{CertificateAuthority, TrustedRoot};

const OID_SAN: &str = "2.5.29.17";
const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";
pub(crate) const OID_EKU: &str = "2.5.29.37";
pub(crate) const OID_CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
const OID_SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.2";
const OID_FULCIO_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
const OID_FULCIO_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
/// Fulcio's otherName SAN type for usernames (`foo!oidc.local`).
const OID_FULCIO_USERNAME: &str = "1.3.6.1.4.1.57264.1.7";

/// No real SCT list holds more than a handful of entries.
const MAX_SCTS: usize = 32;

pub(crate) fn not_before(cert: &Certificate) -> i64 {
    secs(cert.tbs_certificate.validity.not_before)
}

pub(crate) fn not_after(cert: &Certificate) -> i64 {
    secs(cert.tbs_certificate.validity.not_after)
}

fn secs(t: x509_cert::time::Time) -> i64 {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

pub(crate) fn valid_at(cert: &Certificate, t: i64) -> bool {
    not_before(cert) <= t && t <= not_after(cert)
}

pub(crate) fn public_key(cert: &Certificate) -> Result<VerifyingKey, String> {
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| format!("cannot encode the public key: {e}"))?;
    VerifyingKey::from_der(&spki)
}

/// The exact `tbsCertificate` bytes of a DER certificate (first element
/// of the outer SEQUENCE), so signatures are checked over what was signed.
fn raw_tbs(cert_der: &[u8]) -> Result<&[u8], String> {
    let mut r = SliceReader::new(cert_der).map_err(|e| e.to_string())?;
    let header = der::Header::decode(&mut r).map_err(|e| e.to_string())?;
    if header.tag != der::Tag::Sequence {
        return Err("certificate is not a SEQUENCE".into());
    }
    r.tlv_bytes().map_err(|e| e.to_string())
}

/// Checks that `issuer` signed `cert` (whose DER is `cert_der`).
pub(crate) fn issued_by(
    cert: &Certificate,
    cert_der: &[u8],
    issuer: &Certificate,
) -> Result<(), String> {
    if cert.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return Err("issuer name does not match the CA's subject".into());
    }
    let key = public_key(issuer)?;
    let sig = cert
        .signature
        .as_bytes()
        .ok_or("certificate signature has unused bits")?;
    verify_with_oid(
        &key,
        &cert.signature_algorithm.oid.to_string(),
        raw_tbs(cert_der)?,
        sig,
    )
}

pub(crate) fn extension<'c>(
    cert: &'c Certificate,
    oid: &str,
) -> Option<&'c x509_cert::ext::Extension> {
    cert.tbs_certificate
        .extensions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|e| e.extn_id.to_string() == oid)
}

pub(crate) fn is_ca(cert: &Certificate) -> bool {
    extension(cert, OID_BASIC_CONSTRAINTS)
        .and_then(|e| {
            x509_cert::ext::pkix::BasicConstraints::from_der(e.extn_value.as_bytes()).ok()
        })
        .is_some_and(|bc| bc.ca)
}

/// Verifies a CA chain (intermediates first, root last) at time `t`.
pub(crate) fn verify_ca_chain(chain: &[Certificate], t: i64) -> Result<(), String> {
    for (i, c) in chain.iter().enumerate() {
        if !valid_at(c, t) {
            return Err(format!("CA certificate {i} is not valid at {t}"));
        }
        if !is_ca(c) {
            return Err(format!("CA certificate {i} is not a CA (basicConstraints)"));
        }
        let issuer = chain.get(i + 1).unwrap_or(c);
        let der_bytes = c.to_der().map_err(|e| e.to_string())?;
        issued_by(c, &der_bytes, issuer).map_err(|e| format!("CA certificate {i}: {e}"))?;
    }
    Ok(())
}

/// Chains the Fulcio leaf to a trusted CA valid when the leaf was issued,
/// and returns that CA's chain (its first certificate issued the leaf).
pub(crate) fn verify_leaf_chain<'r>(
    leaf: &Certificate,
    leaf_der: &[u8],
    rest: &[Certificate],
    root: &'r TrustedRoot,
) -> Result<&'r CertificateAuthority, VerifyError> {
    if is_ca(leaf) {
        return Err(VerifyError::CertificateChain(
            "the signing certificate is a CA".into(),
        ));
    }
    let eku_ok = extension(leaf, OID_EKU)
        .and_then(|e| {
            x509_cert::ext::pkix::ExtendedKeyUsage::from_der(e.extn_value.as_bytes()).ok()
        })
        .is_some_and(|eku| eku.0.iter().any(|o| o.to_string() == OID_CODE_SIGNING));
    if !eku_ok {
        return Err(VerifyError::CertificateChain(
            "the signing certificate lacks the code-signing extended key usage".into(),
        ));
    }
    let issued = not_before(leaf);
    let mut last_err = String::from("no trusted certificate authority");
    for ca in &root.certificate_authorities {
        if !ca.valid_for.contains(issued) {
            last_err = format!(
                "CA {} was not trusted when the certificate was issued",
                ca.uri
            );
            continue;
        }
        let Some(first) = ca.chain.first() else {
            continue;
        };
        let res =
            issued_by(leaf, leaf_der, first).and_then(|()| verify_ca_chain(&ca.chain, issued));
        // Trust comes from the trusted root alone: certificates a v0.1/v0.2
        // chain lists after the leaf (sigstore-js includes the root) are
        // accepted only if they are that CA's own.
        let res = res.and_then(|()| {
            if rest.iter().all(|c| ca.chain.contains(c)) {
                Ok(())
            } else {
                Err("the bundle's chain contains certificates outside the trusted CA chain".into())
            }
        });
        match res {
            Ok(()) => return Ok(ca),
            Err(e) => last_err = format!("CA {}: {e}", ca.uri),
        }
    }
    Err(VerifyError::CertificateChain(last_err))
}

/// Reads `n` big-endian bytes from the front of `buf`.
fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
    if buf.len() < n {
        return Err("truncated SCT data".into());
    }
    let (head, tail) = buf.split_at(n);
    *buf = tail;
    Ok(head)
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

fn take_vec<'a>(buf: &mut &'a [u8], len_bytes: usize) -> Result<&'a [u8], String> {
    let n = be(take(buf, len_bytes)?);
    take(buf, usize::try_from(n).map_err(|_| "SCT length too large")?)
}

struct Sct<'a> {
    log_id: &'a [u8],
    timestamp_ms: u64,
    extensions: &'a [u8],
    signature: &'a [u8],
}

fn parse_sct_list(mut list: &[u8]) -> Result<Vec<Sct<'_>>, String> {
    let mut body = take_vec(&mut list, 2)?;
    if !list.is_empty() {
        return Err("trailing bytes after the SCT list".into());
    }
    let mut out = Vec::new();
    while !body.is_empty() {
        if out.len() == MAX_SCTS {
            return Err("too many SCTs".into());
        }
        let mut sct = take_vec(&mut body, 2)?;
        if take(&mut sct, 1)? != [0] {
            return Err("unknown SCT version".into());
        }
        let log_id = take(&mut sct, 32)?;
        let timestamp_ms = be(take(&mut sct, 8)?);
        let extensions = take_vec(&mut sct, 2)?;
        // Only SHA-256 with ECDSA (3) or RSA (1) are used by CT logs.
        let algs = take(&mut sct, 2)?;
        if algs.first() != Some(&4) {
            return Err("SCT hash algorithm is not SHA-256".into());
        }
        let signature = take_vec(&mut sct, 2)?;
        if !sct.is_empty() {
            return Err("trailing bytes after an SCT".into());
        }
        out.push(Sct {
            log_id,
            timestamp_ms,
            extensions,
            signature,
        });
    }
    Ok(out)
}

/// Verifies that at least one embedded SCT was issued by a trusted CT log
/// (RFC 6962 §3.2, precertificate entry).
pub(crate) fn verify_scts(
    leaf: &Certificate,
    issuer: &Certificate,
    root: &TrustedRoot,
) -> Result<(), VerifyError> {
    let sct_err = |m: String| VerifyError::Sct(m);
    let ext = extension(leaf, OID_SCT_LIST)
        .ok_or_else(|| sct_err("the certificate has no embedded SCT".into()))?;
    let list = OctetString::from_der(ext.extn_value.as_bytes())
        .map_err(|e| sct_err(format!("SCT extension is not an OCTET STRING: {e}")))?;
    let scts = parse_sct_list(list.as_bytes()).map_err(sct_err)?;
    // The precertificate TBS: the leaf's TBS without the SCT extension.
    let mut tbs = leaf.tbs_certificate.clone();
    if let Some(exts) = tbs.extensions.as_mut() {
        exts.retain(|e| e.extn_id.to_string() != OID_SCT_LIST);
    }
    let tbs = tbs
        .to_der()
        .map_err(|e| sct_err(format!("cannot encode the TBS: {e}")))?;
    let issuer_spki = issuer
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| sct_err(format!("cannot encode the issuer key: {e}")))?;
    let issuer_key_hash = Sha256::digest(&issuer_spki);
    let tbs_len = u32::try_from(tbs.len())
        .ok()
        .filter(|l| *l < 1 << 24)
        .ok_or_else(|| sct_err("TBS too large".into()))?;
    let mut last = String::from("no SCT from a trusted CT log");
    for sct in &scts {
        let Some(log) = root.ctlogs.iter().find(|l| l.log_id == sct.log_id) else {
            last = format!("SCT from unknown CT log {}", hex::encode(sct.log_id));
            continue;
        };
        let secs = i64::try_from(sct.timestamp_ms / 1000).unwrap_or(i64::MAX);
        if !log.valid_for.contains(secs) {
            last = format!("CT log {} was not trusted at the SCT time", log.base_url);
            continue;
        }
        let Some(key) = &log.key else {
            last = format!("CT log {} has an unsupported key", log.base_url);
            continue;
        };
        let mut signed = Vec::with_capacity(tbs.len() + 64);
        signed.extend_from_slice(&[0, 0]); // v1, certificate_timestamp
        signed.extend_from_slice(&sct.timestamp_ms.to_be_bytes());
        signed.extend_from_slice(&[0, 1]); // precert_entry
        signed.extend_from_slice(&issuer_key_hash);
        signed.extend_from_slice(&tbs_len.to_be_bytes()[1..]);
        signed.extend_from_slice(&tbs);
        let ext_len = u16::try_from(sct.extensions.len()).unwrap_or(u16::MAX);
        signed.extend_from_slice(&ext_len.to_be_bytes());
        signed.extend_from_slice(sct.extensions);
        match key.verify(log.hash_algorithm, &signed, sct.signature) {
            Ok(()) => return Ok(()),
            Err(e) => last = format!("SCT from {}: {e}", log.base_url),
        }
    }
    Err(VerifyError::Sct(last))
}

/// The identity Fulcio certified: every SAN value and the OIDC issuer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertIdentity {
    pub sans: Vec<String>,
    pub issuer: Option<String>,
}

pub(crate) fn identity(cert: &Certificate) -> Result<CertIdentity, VerifyError> {
    let mut sans = Vec::new();
    if let Some(ext) = extension(cert, OID_SAN) {
        let names = x509_cert::ext::pkix::SubjectAltName::from_der(ext.extn_value.as_bytes())
            .map_err(|e| VerifyError::Certificate(format!("malformed subjectAltName: {e}")))?;
        for name in names.0 {
            match name {
                GeneralName::UniformResourceIdentifier(s) | GeneralName::Rfc822Name(s) => {
                    sans.push(s.as_str().to_string());
                }
                GeneralName::OtherName(o) if o.type_id.to_string() == OID_FULCIO_USERNAME => {
                    if let Ok(s) = o.value.decode_as::<Utf8StringRef<'_>>() {
                        sans.push(s.as_str().to_string());
                    }
                }
                _ => {}
            }
        }
    }
    // The v2 extension is a DER UTF8String; the deprecated v1 one raw text.
    let issuer = match extension(cert, OID_FULCIO_ISSUER_V2) {
        Some(e) => Some(
            Utf8StringRef::from_der(e.extn_value.as_bytes())
                .map_err(|e| {
                    VerifyError::Certificate(format!("malformed OIDC issuer extension: {e}"))
                })?
                .as_str()
                .to_string(),
        ),
        None => extension(cert, OID_FULCIO_ISSUER_V1)
            .map(|e| String::from_utf8_lossy(e.extn_value.as_bytes()).into_owned()),
    };
    Ok(CertIdentity { sans, issuer })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sct_list_parser_rejects_garbage() {
        for bad in [&[][..], &[0, 5, 1], &[0, 3, 0, 1, 0], &[0xff, 0xff]] {
            assert!(parse_sct_list(bad).is_err());
        }
        assert_eq!(parse_sct_list(&[0, 0]).map(|v| v.len()), Ok(0));
    }

    #[test]
    fn raw_tbs_of_garbage_is_an_error() {
        assert!(raw_tbs(&[]).is_err());
        assert!(raw_tbs(&[0x30, 0x80]).is_err());
        assert!(raw_tbs(&[0x02, 0x01, 0x00]).is_err());
    }
}
