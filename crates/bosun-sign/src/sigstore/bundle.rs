//! Sigstore bundles v0.1 to v0.3 (JSON form of `dev.sigstore.bundle.v1.Bundle`).

use base64::Engine;
use der::Decode;
use serde::Deserialize;

use super::VerifyError;
use super::dsse::Envelope;
use super::key::HashAlgorithm;

/// Bundles carry whole DSSE payloads, but nothing legitimate comes near this.
const MAX_BUNDLE_BYTES: usize = 64 << 20;
/// A Merkle audit path for any log of fewer than 2^64 entries.
pub const MAX_PROOF_HASHES: usize = 64;
/// Certificates in a v0.1/v0.2 chain, log entries and timestamps per bundle.
const MAX_ITEMS: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BundleVersion {
    V01,
    V02,
    V03,
}

/// Who signed: a Fulcio certificate (with any intermediates a v0.1/v0.2
/// chain lists after it) or a managed key known to the verifier.
#[derive(Clone, Debug)]
pub enum Signer {
    Certificate {
        leaf: Box<x509_cert::Certificate>,
        leaf_der: Vec<u8>,
        rest: Vec<x509_cert::Certificate>,
    },
    PublicKey {
        hint: Option<String>,
    },
}

#[derive(Clone, Debug)]
pub enum Content {
    MessageSignature {
        /// Unauthenticated hint, checked against the artifact anyway.
        digest: Option<(HashAlgorithm, Vec<u8>)>,
        signature: Vec<u8>,
    },
    Dsse(Envelope),
}

#[derive(Clone, Debug)]
pub struct InclusionProof {
    pub log_index: u64,
    pub root_hash: Vec<u8>,
    pub tree_size: u64,
    pub hashes: Vec<Vec<u8>>,
    pub checkpoint: Option<String>,
}

#[derive(Clone, Debug)]
pub struct TlogEntry {
    pub log_index: u64,
    pub log_id: Vec<u8>,
    pub kind: String,
    pub version: String,
    /// Rekor v1 only; Rekor v2 entries have none.
    pub integrated_time: Option<i64>,
    pub signed_entry_timestamp: Option<Vec<u8>>,
    pub inclusion_proof: Option<InclusionProof>,
    pub canonicalized_body: Vec<u8>,
}

#[derive(Clone, Debug)]
pub struct Bundle {
    pub version: BundleVersion,
    pub signer: Signer,
    pub tlog_entries: Vec<TlogEntry>,
    /// DER `TimeStampResp` values (RFC 3161).
    pub rfc3161_timestamps: Vec<Vec<u8>>,
    pub content: Content,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBundle {
    media_type: String,
    verification_material: RawMaterial,
    message_signature: Option<RawMessageSignature>,
    dsse_envelope: Option<RawEnvelope>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMaterial {
    x509_certificate_chain: Option<RawChain>,
    certificate: Option<RawBytes>,
    public_key: Option<RawHint>,
    #[serde(default)]
    tlog_entries: Vec<RawEntry>,
    timestamp_verification_data: Option<RawTsData>,
}

#[derive(Deserialize)]
struct RawChain {
    #[serde(default)]
    certificates: Vec<RawBytes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBytes {
    raw_bytes: String,
}

#[derive(Deserialize)]
struct RawHint {
    hint: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTsData {
    #[serde(default)]
    rfc3161_timestamps: Vec<RawTimestamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTimestamp {
    signed_timestamp: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    log_index: Option<Int64>,
    log_id: RawLogId,
    kind_version: RawKindVersion,
    integrated_time: Option<Int64>,
    inclusion_promise: Option<RawPromise>,
    inclusion_proof: Option<RawProof>,
    canonicalized_body: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogId {
    key_id: String,
}

#[derive(Deserialize)]
struct RawKindVersion {
    kind: String,
    version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPromise {
    signed_entry_timestamp: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProof {
    log_index: Option<Int64>,
    root_hash: String,
    tree_size: Option<Int64>,
    #[serde(default)]
    hashes: Vec<String>,
    checkpoint: Option<RawCheckpoint>,
}

#[derive(Deserialize)]
struct RawCheckpoint {
    envelope: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessageSignature {
    message_digest: Option<RawDigest>,
    signature: String,
}

#[derive(Deserialize)]
struct RawDigest {
    algorithm: String,
    digest: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEnvelope {
    payload: String,
    payload_type: String,
    #[serde(default)]
    signatures: Vec<RawDsseSig>,
}

#[derive(Deserialize)]
struct RawDsseSig {
    sig: String,
}

/// Protobuf JSON writes int64 as a string, but numbers are accepted too.
#[derive(Deserialize)]
#[serde(untagged)]
enum Int64 {
    Num(i64),
    Str(String),
}

impl Int64 {
    fn get(&self, what: &str) -> Result<i64, VerifyError> {
        match self {
            Int64::Num(n) => Ok(*n),
            Int64::Str(s) => s
                .parse()
                .map_err(|_| bad(format!("{what}: not an integer: {s:?}"))),
        }
    }

    fn unsigned(&self, what: &str) -> Result<u64, VerifyError> {
        let v = self.get(what)?;
        u64::try_from(v).map_err(|_| bad(format!("{what}: negative value {v}")))
    }
}

fn bad(msg: String) -> VerifyError {
    VerifyError::Bundle(msg)
}

/// Protobuf JSON `bytes`: standard or URL-safe alphabet, padding optional,
/// line breaks ignored (as Go's protojson reads them).
fn b64(s: &str, what: &str) -> Result<Vec<u8>, VerifyError> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let cleaned: String = s.chars().filter(|c| *c != '\n' && *c != '\r').collect();
    let alphabet = if cleaned.contains(['-', '_']) {
        &base64::alphabet::URL_SAFE
    } else {
        &base64::alphabet::STANDARD
    };
    GeneralPurpose::new(alphabet, config)
        .decode(cleaned)
        .map_err(|e| bad(format!("{what}: invalid base64: {e}")))
}

fn certificate(
    raw: &RawBytes,
    what: &str,
) -> Result<(x509_cert::Certificate, Vec<u8>), VerifyError> {
    let der_bytes = b64(&raw.raw_bytes, what)?;
    let cert = x509_cert::Certificate::from_der(&der_bytes)
        .map_err(|e| bad(format!("{what}: invalid certificate: {e}")))?;
    Ok((cert, der_bytes))
}

fn entry(raw: &RawEntry, i: usize, version: BundleVersion) -> Result<TlogEntry, VerifyError> {
    let at = |f: &str| format!("tlogEntries[{i}].{f}");
    let log_index = raw
        .log_index
        .as_ref()
        .ok_or_else(|| bad(at("logIndex: missing")))?
        .unsigned(&at("logIndex"))?;
    let integrated_time = match &raw.integrated_time {
        Some(t) => Some(t.get(&at("integratedTime"))?).filter(|t| *t != 0),
        None => None,
    };
    if integrated_time.is_some_and(|t| t < 0) {
        return Err(bad(at("integratedTime: negative")));
    }
    let signed_entry_timestamp = match &raw.inclusion_promise {
        Some(p) => Some(b64(&p.signed_entry_timestamp, &at("inclusionPromise"))?),
        None => None,
    };
    let inclusion_proof = match &raw.inclusion_proof {
        Some(p) => {
            if p.hashes.len() > MAX_PROOF_HASHES {
                return Err(bad(format!(
                    "{}: {} hashes, more than {MAX_PROOF_HASHES}",
                    at("inclusionProof"),
                    p.hashes.len()
                )));
            }
            let hashes = p
                .hashes
                .iter()
                .enumerate()
                .map(|(j, h)| b64(h, &at(&format!("inclusionProof.hashes[{j}]"))))
                .collect::<Result<Vec<_>, _>>()?;
            let num = |v: &Option<Int64>, f: &str| {
                v.as_ref()
                    .ok_or_else(|| bad(at(&format!("inclusionProof.{f}: missing"))))?
                    .unsigned(&at(&format!("inclusionProof.{f}")))
            };
            Some(InclusionProof {
                log_index: num(&p.log_index, "logIndex")?,
                root_hash: b64(&p.root_hash, &at("inclusionProof.rootHash"))?,
                tree_size: num(&p.tree_size, "treeSize")?,
                hashes,
                checkpoint: p.checkpoint.as_ref().map(|c| c.envelope.clone()),
            })
        }
        None => None,
    };
    // v0.1 relies on the signed entry timestamp; from v0.2 on, the
    // inclusion proof with its checkpoint is mandatory.
    match version {
        BundleVersion::V01 if signed_entry_timestamp.is_none() => {
            return Err(bad(at("inclusionPromise: required in a v0.1 bundle")));
        }
        BundleVersion::V02 | BundleVersion::V03 => match &inclusion_proof {
            None => return Err(bad(at("inclusionProof: required from bundle v0.2 on"))),
            Some(p) if p.checkpoint.is_none() => {
                return Err(bad(at(
                    "inclusionProof.checkpoint: required from bundle v0.2 on",
                )));
            }
            Some(_) => {}
        },
        BundleVersion::V01 => {}
    }
    Ok(TlogEntry {
        log_index,
        log_id: b64(&raw.log_id.key_id, &at("logId.keyId"))?,
        kind: raw.kind_version.kind.clone(),
        version: raw.kind_version.version.clone(),
        integrated_time,
        signed_entry_timestamp,
        inclusion_proof,
        canonicalized_body: b64(&raw.canonicalized_body, &at("canonicalizedBody"))?,
    })
}

impl Bundle {
    pub fn from_json(bytes: &[u8]) -> Result<Self, VerifyError> {
        if bytes.len() > MAX_BUNDLE_BYTES {
            return Err(bad(format!(
                "document is {} bytes, over the limit",
                bytes.len()
            )));
        }
        let raw: RawBundle =
            serde_json::from_slice(bytes).map_err(|e| bad(format!("invalid JSON: {e}")))?;
        let version = match raw.media_type.as_str() {
            "application/vnd.dev.sigstore.bundle+json;version=0.1" => BundleVersion::V01,
            "application/vnd.dev.sigstore.bundle+json;version=0.2" => BundleVersion::V02,
            "application/vnd.dev.sigstore.bundle+json;version=0.3"
            | "application/vnd.dev.sigstore.bundle.v0.3+json" => BundleVersion::V03,
            other => return Err(VerifyError::UnsupportedVersion(other.to_string())),
        };
        let vm = &raw.verification_material;
        let signer = match (&vm.x509_certificate_chain, &vm.certificate, &vm.public_key) {
            (Some(chain), None, None) if version < BundleVersion::V03 => {
                if chain.certificates.len() > MAX_ITEMS {
                    return Err(bad("x509CertificateChain: too many certificates".into()));
                }
                let mut certs = chain
                    .certificates
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        certificate(c, &format!("x509CertificateChain.certificates[{i}]"))
                    })
                    .collect::<Result<Vec<_>, _>>()?
                    .into_iter();
                let (leaf, leaf_der) = certs
                    .next()
                    .ok_or_else(|| bad("x509CertificateChain: empty certificate chain".into()))?;
                Signer::Certificate {
                    leaf: Box::new(leaf),
                    leaf_der,
                    rest: certs.map(|c| c.0).collect(),
                }
            }
            (None, Some(cert), None) if version == BundleVersion::V03 => {
                let (leaf, leaf_der) = certificate(cert, "certificate")?;
                Signer::Certificate {
                    leaf: Box::new(leaf),
                    leaf_der,
                    rest: Vec::new(),
                }
            }
            (None, None, Some(pk)) => Signer::PublicKey {
                hint: pk.hint.clone(),
            },
            _ => {
                return Err(bad(format!(
                    "verificationMaterial: need exactly one of {} or publicKey",
                    if version == BundleVersion::V03 {
                        "certificate"
                    } else {
                        "x509CertificateChain"
                    }
                )));
            }
        };
        if vm.tlog_entries.is_empty() {
            return Err(bad(
                "verificationMaterial.tlogEntries: no transparency log entry".into(),
            ));
        }
        if vm.tlog_entries.len() > MAX_ITEMS {
            return Err(bad(
                "verificationMaterial.tlogEntries: too many entries".into()
            ));
        }
        let tlog_entries = vm
            .tlog_entries
            .iter()
            .enumerate()
            .map(|(i, e)| entry(e, i, version))
            .collect::<Result<Vec<_>, _>>()?;
        let stamps = vm
            .timestamp_verification_data
            .as_ref()
            .map(|t| t.rfc3161_timestamps.as_slice())
            .unwrap_or_default();
        if stamps.len() > MAX_ITEMS {
            return Err(bad("timestampVerificationData: too many timestamps".into()));
        }
        let rfc3161_timestamps = stamps
            .iter()
            .enumerate()
            .map(|(i, t)| b64(&t.signed_timestamp, &format!("rfc3161Timestamps[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let content = match (&raw.message_signature, &raw.dsse_envelope) {
            (Some(ms), None) => {
                let digest = match &ms.message_digest {
                    Some(d) => {
                        let algo = HashAlgorithm::from_name(&d.algorithm).ok_or_else(|| {
                            bad(format!(
                                "messageDigest: unknown algorithm {:?}",
                                d.algorithm
                            ))
                        })?;
                        Some((algo, b64(&d.digest, "messageDigest.digest")?))
                    }
                    None => None,
                };
                Content::MessageSignature {
                    digest,
                    signature: b64(&ms.signature, "messageSignature.signature")?,
                }
            }
            (None, Some(env)) => {
                if env.signatures.len() > MAX_ITEMS {
                    return Err(bad("dsseEnvelope: too many signatures".into()));
                }
                Content::Dsse(Envelope {
                    payload_type: env.payload_type.clone(),
                    payload: b64(&env.payload, "dsseEnvelope.payload")?,
                    signatures: env
                        .signatures
                        .iter()
                        .enumerate()
                        .map(|(i, s)| b64(&s.sig, &format!("dsseEnvelope.signatures[{i}].sig")))
                        .collect::<Result<Vec<_>, _>>()?,
                })
            }
            _ => {
                return Err(bad(
                    "need exactly one of messageSignature or dsseEnvelope".into()
                ));
            }
        };
        Ok(Bundle {
            version,
            signer,
            tlog_entries,
            rfc3161_timestamps,
            content,
        })
    }
}
