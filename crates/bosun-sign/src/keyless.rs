//! Offline verification of what cosign puts beside an image signature: the
//! Fulcio (or private PKI) certificate of a keyless signature, and the
//! legacy Rekor bundle (`dev.sigstore.cosign/bundle`: signed entry
//! timestamp and the logged entry) of keyless and key-signed layers.
//!
//! With a Sigstore trusted root a certificate layer must carry a Rekor
//! bundle: its signed entry timestamp authenticates the integrated time, at
//! which the certificate must chain to a trusted Fulcio CA and be valid;
//! the certificate's SCT must come from a trusted CT log (when the root has
//! any); the logged hashedrekord must name this layer's signature, payload
//! digest and certificate; and the certificate must carry the wanted
//! identity. With a private PKI (cosign's `--certificate-chain` with
//! `--insecure-ignore-tlog --insecure-ignore-sct`) only the chain, its
//! validity now and the identity are checked. The Simple Signing checks
//! (signature, type, digest) are the caller's, with the key returned here.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use der::{Decode, Encode};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

use crate::keys::{self, PublicKey};
use crate::oci::Layer;
use crate::sigstore::rekor::{self, Expected, SignerId};
use crate::sigstore::{
    self, CertIdentity, HashAlgorithm, Identity, StringMatch, TlogEntry, TrustedRoot, VerifyError,
    VerifyingKey, cert,
};
use crate::simple::{
    BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, SIGNATURE_ANNOTATION,
};

/// Annotations are small (a certificate chain is a few KiB); refuse more.
const MAX_ANNOTATION_BYTES: usize = 256 << 10;
/// Certificates in a chain annotation or a `--certificate-chain` file.
const MAX_CHAIN_CERTS: usize = 10;

/// A failed check of a certificate or Rekor bundle, named in the message.
#[derive(Debug, thiserror::Error)]
pub enum KeylessError {
    #[error("certificate check: the layer has no {CERTIFICATE_ANNOTATION} annotation")]
    MissingCertificate,
    #[error("certificate check: {0}")]
    Certificate(String),
    #[error(
        "Rekor bundle check: the layer has no {BUNDLE_ANNOTATION} annotation (a certificate from a Sigstore trusted root must be logged)"
    )]
    MissingBundle,
    #[error("Rekor bundle check: {0}")]
    Bundle(String),
    #[error("signature check: {0}")]
    Signature(String),
    #[error("certificate chain file: {0}")]
    ChainFile(String),
    #[error(transparent)]
    Sigstore(#[from] VerifyError),
}

/// cosign's legacy Rekor bundle: `{SignedEntryTimestamp, Payload{body,
/// integratedTime, logIndex, logID}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RekorBundle {
    pub signed_entry_timestamp: Vec<u8>,
    /// The canonicalized entry body (JSON), decoded from base64.
    pub body: Vec<u8>,
    pub integrated_time: i64,
    pub log_index: u64,
    pub log_id: Vec<u8>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawBundle {
    signed_entry_timestamp: String,
    payload: RawPayload,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPayload {
    body: String,
    integrated_time: i64,
    log_index: u64,
    #[serde(rename = "logID")]
    log_id: String,
}

impl RekorBundle {
    /// Parses the `dev.sigstore.cosign/bundle` annotation.
    pub fn parse(annotation: &str) -> Result<Self, KeylessError> {
        let bad = |m: String| KeylessError::Bundle(m);
        if annotation.len() > MAX_ANNOTATION_BYTES {
            return Err(bad(format!(
                "the annotation is {} bytes, more than the {MAX_ANNOTATION_BYTES} allowed",
                annotation.len()
            )));
        }
        let raw: RawBundle = serde_json::from_str(annotation)
            .map_err(|e| bad(format!("not a cosign Rekor bundle: {e}")))?;
        Ok(RekorBundle {
            signed_entry_timestamp: B64
                .decode(raw.signed_entry_timestamp)
                .map_err(|e| bad(format!("SignedEntryTimestamp is not base64: {e}")))?,
            body: B64
                .decode(raw.payload.body)
                .map_err(|e| bad(format!("Payload.body is not base64: {e}")))?,
            integrated_time: raw.payload.integrated_time,
            log_index: raw.payload.log_index,
            log_id: hex::decode(raw.payload.log_id)
                .map_err(|e| bad(format!("Payload.logID is not hex: {e}")))?,
        })
    }

    /// The entry as the Sigstore verifier models it; kind and version come
    /// from the body (the SET covers the body, so they are authenticated).
    fn entry(&self) -> Result<TlogEntry, KeylessError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Kind {
            kind: String,
            api_version: String,
        }
        let k: Kind = serde_json::from_slice(&self.body)
            .map_err(|e| KeylessError::Bundle(format!("Payload.body is not a Rekor entry: {e}")))?;
        Ok(TlogEntry {
            log_index: self.log_index,
            log_id: self.log_id.clone(),
            kind: k.kind,
            version: k.api_version,
            integrated_time: Some(self.integrated_time),
            signed_entry_timestamp: Some(self.signed_entry_timestamp.clone()),
            inclusion_proof: None,
            canonicalized_body: self.body.clone(),
        })
    }
}

/// A Sigstore trusted root and the digest of its JSON (for cache keys).
#[derive(Debug, Clone)]
pub struct SigstoreRoot {
    pub root: TrustedRoot,
    fingerprint: String,
}

impl SigstoreRoot {
    pub fn from_json(bytes: &[u8]) -> Result<Self, VerifyError> {
        Ok(SigstoreRoot {
            root: TrustedRoot::from_json(bytes)?,
            fingerprint: format!("trusted-root:sha256:{}", hex::encode(Sha256::digest(bytes))),
        })
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// The CA certificates of a private PKI: every self-signed one is a trust
/// anchor, the others may be intermediates.
#[derive(Debug, Clone)]
pub struct CertificateChain {
    pub certs: Vec<Certificate>,
    fingerprint: String,
}

impl CertificateChain {
    /// Reads PEM `CERTIFICATE` blocks (roots and intermediates, any order).
    pub fn from_pem(pem: &[u8]) -> Result<Self, KeylessError> {
        let text = std::str::from_utf8(pem)
            .map_err(|_| KeylessError::ChainFile("not UTF-8 PEM text".into()))?;
        let certs = parse_certificates(text).map_err(KeylessError::ChainFile)?;
        if certs.is_empty() {
            return Err(KeylessError::ChainFile("no certificate in it".into()));
        }
        let mut h = Sha256::new();
        for (_, der_bytes) in &certs {
            h.update((der_bytes.len() as u64).to_be_bytes());
            h.update(der_bytes);
        }
        Ok(CertificateChain {
            certs: certs.into_iter().map(|(c, _)| c).collect(),
            fingerprint: format!("certificate-chain:sha256:{}", hex::encode(h.finalize())),
        })
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// What certificates must chain to.
#[derive(Debug, Clone)]
pub enum Trust {
    /// Fulcio CAs, CT logs and Rekor keys of a trusted root.
    Sigstore(SigstoreRoot),
    /// A private PKI; no transparency log or SCT is required.
    Chain(CertificateChain),
}

impl Trust {
    pub fn fingerprint(&self) -> &str {
        match self {
            Trust::Sigstore(r) => r.fingerprint(),
            Trust::Chain(c) => c.fingerprint(),
        }
    }
}

/// Who may have signed with a certificate.
#[derive(Debug, Clone)]
pub struct CertificatePolicy {
    pub trust: Trust,
    /// Matched against each SAN (email, URI, Fulcio username).
    pub san: StringMatch,
    /// Matched against the Fulcio OIDC issuer extension. Required with a
    /// Sigstore root (as cosign requires it); optional with a private PKI,
    /// whose certificates need not carry the extension.
    pub issuer: Option<StringMatch>,
}

impl CertificatePolicy {
    /// A stable string naming the trust and the identity constraints.
    pub fn fingerprint(&self) -> String {
        serde_json::json!([
            self.trust.fingerprint(),
            self.san.to_string(),
            self.issuer.as_ref().map(ToString::to_string),
        ])
        .to_string()
    }
}

/// What a certificate layer proved.
#[derive(Debug, Clone)]
pub struct VerifiedCertificate {
    /// The certificate's key: the layer's signature must verify with it.
    pub key: PublicKey,
    pub identity: CertIdentity,
    /// Rekor's integrated time (Unix seconds), authenticated by the SET;
    /// `None` with a private PKI.
    pub integrated_time: Option<i64>,
}

/// Checks a signature layer's certificate (and, with a Sigstore root, its
/// Rekor bundle and SCT) against `policy`. `now` (Unix seconds) is the time
/// a private PKI's certificates must be valid at.
pub fn verify_certificate_layer(
    layer: &Layer,
    policy: &CertificatePolicy,
    now: i64,
) -> Result<VerifiedCertificate, KeylessError> {
    let leaf_pem = layer
        .annotations
        .get(CERTIFICATE_ANNOTATION)
        .ok_or(KeylessError::MissingCertificate)?;
    let (leaf, leaf_der) = match parse_certificates(leaf_pem)
        .map_err(KeylessError::Certificate)?
        .into_iter()
        .next()
    {
        Some(one) => one,
        None => {
            return Err(KeylessError::Certificate(format!(
                "{CERTIFICATE_ANNOTATION} holds no certificate"
            )));
        }
    };
    let key = PublicKey::from_certificate_der(&leaf_der)
        .map_err(|e| KeylessError::Certificate(e.to_string()))?;
    let identity = cert::identity(&leaf)?;
    match &policy.trust {
        Trust::Sigstore(root) => {
            let root = &root.root;
            let issuer = policy.issuer.clone().ok_or_else(|| {
                VerifyError::Policy("an OIDC issuer is required for Fulcio certificates".into())
            })?;
            let chain = match layer.annotations.get(CHAIN_ANNOTATION) {
                Some(pem) => parse_certificates(pem)
                    .map_err(|e| KeylessError::Certificate(format!("{CHAIN_ANNOTATION}: {e}")))?
                    .into_iter()
                    .map(|(c, _)| c)
                    .collect(),
                None => Vec::new(),
            };
            let bundle = layer
                .annotations
                .get(BUNDLE_ANNOTATION)
                .ok_or(KeylessError::MissingBundle)?;
            let time = verify_bundle(
                &RekorBundle::parse(bundle)?,
                layer,
                &SignerId::Certificate(&leaf_der),
                root,
            )?;
            let ca = cert::verify_leaf_chain(&leaf, &leaf_der, &chain, root)?;
            if !cert::valid_at(&leaf, time) {
                return Err(VerifyError::CertificateValidity(format!(
                    "integrated time {time} is outside the certificate's validity {}..{}",
                    cert::not_before(&leaf),
                    cert::not_after(&leaf)
                ))
                .into());
            }
            if !root.ctlogs.is_empty() {
                let ca_cert = ca
                    .chain
                    .first()
                    .ok_or_else(|| VerifyError::CertificateChain("empty CA chain".into()))?;
                cert::verify_scts(&leaf, ca_cert, root)?;
            }
            sigstore::check_identity(
                &Identity {
                    san: policy.san.clone(),
                    issuer,
                },
                &identity,
            )?;
            Ok(VerifiedCertificate {
                key,
                identity,
                integrated_time: Some(time),
            })
        }
        Trust::Chain(pki) => {
            verify_pki_chain(&leaf, &leaf_der, &pki.certs, now)?;
            match &policy.issuer {
                Some(issuer) => sigstore::check_identity(
                    &Identity {
                        san: policy.san.clone(),
                        issuer: issuer.clone(),
                    },
                    &identity,
                )?,
                None if identity.sans.iter().any(|s| policy.san.is_match(s)) => {}
                None => {
                    return Err(VerifyError::Identity {
                        expected: policy.san.to_string(),
                        found: identity.sans,
                    }
                    .into());
                }
            }
            Ok(VerifiedCertificate {
                key,
                identity,
                integrated_time: None,
            })
        }
    }
}

/// For a key-signed layer: when it carries a Rekor bundle, checks the SET
/// with `root` and that the entry logs this layer's signature, payload
/// digest and `key`. Returns the integrated time, `None` without a bundle.
pub fn verify_key_bundle(
    layer: &Layer,
    key: &PublicKey,
    root: &TrustedRoot,
) -> Result<Option<i64>, KeylessError> {
    let Some(bundle) = layer.annotations.get(BUNDLE_ANNOTATION) else {
        return Ok(None);
    };
    let key = VerifyingKey::from_der(key.to_spki_der()).map_err(KeylessError::Signature)?;
    verify_bundle(
        &RekorBundle::parse(bundle)?,
        layer,
        &SignerId::Key(&key),
        root,
    )
    .map(Some)
}

/// The SET by a trusted Rekor key valid at the integrated time, and the
/// hashedrekord body against the layer. Returns the integrated time.
fn verify_bundle(
    bundle: &RekorBundle,
    layer: &Layer,
    signer: &SignerId<'_>,
    root: &TrustedRoot,
) -> Result<i64, KeylessError> {
    let entry = bundle.entry()?;
    let log = root
        .tlog(&entry.log_id)
        .ok_or_else(|| VerifyError::UnknownLog(hex::encode(&entry.log_id)))?;
    let time = rekor::verify_set(&entry, log)?;
    if !log.valid_for.contains(time) {
        return Err(VerifyError::TlogValidity(format!(
            "log {} was not trusted at {time}",
            log.base_url
        ))
        .into());
    }
    let signature = signature_bytes(layer)?;
    let digest = HashAlgorithm::Sha256.digest(&layer.blob);
    rekor::check_body(
        &entry,
        &Expected::Message {
            digest: (HashAlgorithm::Sha256, &digest),
            signature: &signature,
        },
        signer,
    )?;
    Ok(time)
}

/// The layer's signature; Go's base64 decoder, which cosign uses, skips
/// line breaks (cosign writes RSA signatures wrapped).
fn signature_bytes(layer: &Layer) -> Result<Vec<u8>, KeylessError> {
    let b64 = layer.annotations.get(SIGNATURE_ANNOTATION).ok_or_else(|| {
        KeylessError::Signature(format!(
            "the layer has no {SIGNATURE_ANNOTATION} annotation"
        ))
    })?;
    let joined: String = b64.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    B64.decode(joined.trim())
        .map_err(|e| KeylessError::Signature(format!("{SIGNATURE_ANNOTATION} is not base64: {e}")))
}

/// Splits PEM text into certificates (with their DER), bounded in count.
fn parse_certificates(text: &str) -> Result<Vec<(Certificate, Vec<u8>)>, String> {
    const END: &str = "-----END CERTIFICATE-----";
    if text.len() > MAX_ANNOTATION_BYTES {
        return Err(format!(
            "{} bytes of PEM, more than the {MAX_ANNOTATION_BYTES} allowed",
            text.len()
        ));
    }
    if text.matches(END).count() > MAX_CHAIN_CERTS {
        return Err(format!("more than {MAX_CHAIN_CERTS} certificates"));
    }
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(END) {
        let (block, tail) = rest.split_at(at + END.len());
        let n = out.len() + 1;
        let pem =
            keys::decode_pem(block.as_bytes()).map_err(|e| format!("certificate {n}: {e}"))?;
        if pem.label != "CERTIFICATE" {
            return Err(format!(
                "certificate {n}: PEM block {:?}, expected CERTIFICATE",
                pem.label
            ));
        }
        let der_bytes = pem.contents.to_vec();
        let c = Certificate::from_der(&der_bytes)
            .map_err(|e| format!("certificate {n} is not X.509 DER: {e}"))?;
        out.push((c, der_bytes));
        rest = tail;
    }
    if !rest.trim().is_empty() {
        return Err("text after the last certificate is not a complete PEM block".into());
    }
    Ok(out)
}

/// Chains `leaf` to a self-signed certificate of `pool` through the pool's
/// other certificates, every one valid and a CA at `t`. As Go's x509 (and
/// so cosign), a leaf without extended key usage may sign code.
fn verify_pki_chain(
    leaf: &Certificate,
    leaf_der: &[u8],
    pool: &[Certificate],
    t: i64,
) -> Result<(), VerifyError> {
    let chain_err = |m: String| VerifyError::CertificateChain(m);
    if cert::is_ca(leaf) {
        return Err(chain_err("the signing certificate is a CA".into()));
    }
    if let Some(ext) = cert::extension(leaf, cert::OID_EKU) {
        let eku = x509_cert::ext::pkix::ExtendedKeyUsage::from_der(ext.extn_value.as_bytes())
            .map_err(|e| chain_err(format!("malformed extended key usage: {e}")))?;
        if !eku
            .0
            .iter()
            .any(|o| o.to_string() == cert::OID_CODE_SIGNING)
        {
            return Err(chain_err(
                "the signing certificate's extended key usage excludes code signing".into(),
            ));
        }
    }
    if !cert::valid_at(leaf, t) {
        return Err(VerifyError::CertificateValidity(format!(
            "now ({t}) is outside the certificate's validity {}..{}",
            cert::not_before(leaf),
            cert::not_after(leaf)
        )));
    }
    // Each pool certificate is used at most once, so the walk ends.
    let mut path: Vec<Certificate> = Vec::new();
    let mut current = (leaf.clone(), leaf_der.to_vec());
    loop {
        let issuer = pool
            .iter()
            .filter(|c| !path.contains(c))
            .find(|c| cert::issued_by(&current.0, &current.1, c).is_ok())
            .ok_or_else(|| {
                chain_err(if path.is_empty() {
                    "no certificate of the chain file issued the signing certificate".into()
                } else {
                    format!(
                        "the chain ends at a certificate ({} up) that is not a self-signed root of the chain file, and no other issued it",
                        path.len()
                    )
                })
            })?;
        path.push(issuer.clone());
        // A root's self-signature is checked with the rest of the path.
        if issuer.tbs_certificate.subject == issuer.tbs_certificate.issuer {
            break;
        }
        let der_bytes = issuer.to_der().map_err(|e| chain_err(e.to_string()))?;
        current = (issuer.clone(), der_bytes);
    }
    cert::verify_ca_chain(&path, t).map_err(chain_err)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hostile_bundles_are_errors() {
        for bad in [
            "",
            "{",
            "[]",
            r#"{"SignedEntryTimestamp":"!!","Payload":{"body":"","integratedTime":1,"logIndex":1,"logID":"00"}}"#,
            r#"{"SignedEntryTimestamp":"","Payload":{"body":"!!","integratedTime":1,"logIndex":1,"logID":"00"}}"#,
            r#"{"SignedEntryTimestamp":"","Payload":{"body":"","integratedTime":1,"logIndex":-1,"logID":"00"}}"#,
            r#"{"SignedEntryTimestamp":"","Payload":{"body":"","integratedTime":1e99,"logIndex":1,"logID":"00"}}"#,
            r#"{"SignedEntryTimestamp":"","Payload":{"body":"","integratedTime":1,"logIndex":1,"logID":"xyz"}}"#,
        ] {
            assert!(
                matches!(RekorBundle::parse(bad), Err(KeylessError::Bundle(_))),
                "{bad}"
            );
        }
        let huge = format!("\"{}\"", "A".repeat(MAX_ANNOTATION_BYTES));
        assert!(RekorBundle::parse(&huge).is_err());
        // A body that is not a Rekor entry is refused before any check.
        let b = RekorBundle::parse(
            r#"{"SignedEntryTimestamp":"","Payload":{"body":"bm90IGpzb24=","integratedTime":1,"logIndex":1,"logID":"00"}}"#,
        )
        .unwrap();
        assert!(matches!(b.entry(), Err(KeylessError::Bundle(_))));
    }

    #[test]
    fn hostile_pem_is_an_error() {
        assert_eq!(parse_certificates("").unwrap().len(), 0);
        for bad in [
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
            "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END CERTIFICATE-----",
            "-----BEGIN CERTIFICATE-----\nAAAA\n",
        ] {
            assert!(parse_certificates(bad).is_err(), "{bad}");
        }
        let many = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n".repeat(50);
        let e = parse_certificates(&many).unwrap_err();
        assert!(e.starts_with("more than"), "{e}");
    }

    #[test]
    fn wrapped_signatures_decode_as_go_does() {
        let layer = Layer {
            media_type: String::new(),
            blob: Vec::new(),
            annotations: [(
                SIGNATURE_ANNOTATION.to_string(),
                "AAEC\nAwQF\r\n".to_string(),
            )]
            .into(),
        };
        assert_eq!(signature_bytes(&layer).unwrap(), vec![0, 1, 2, 3, 4, 5]);
    }
}
