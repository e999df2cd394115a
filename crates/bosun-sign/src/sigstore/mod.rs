//! Offline verification of Sigstore bundles (v0.1 to v0.3) against a
//! trusted root, following the Sigstore client specification: Fulcio
//! certificate chain and SCT, Rekor v1/v2 log evidence (signed entry
//! timestamp, inclusion proof, checkpoint), RFC 3161 timestamps, the
//! artifact signature or DSSE envelope, and the identity policy.

mod bundle;
pub(crate) mod cert;
mod dsse;
mod key;
pub(crate) mod rekor;
mod trust_root;
mod tsa;

use std::fmt;
use std::sync::Arc;

pub use bundle::{
    Bundle, BundleVersion, Content, InclusionProof, MAX_PROOF_HASHES, Signer, TlogEntry,
};
pub use cert::CertIdentity;
pub use dsse::{Envelope, pae};
pub use key::{HashAlgorithm, VerifyingKey};
pub use rekor::{Checkpoint, leaf_hash, parse_checkpoint, root_from_inclusion_proof};
pub use trust_root::{CertificateAuthority, TimeRange, TransparencyLog, TrustedRoot};

/// Every failed check has its own variant, so callers can say which one.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("malformed bundle: {0}")]
    Bundle(String),
    #[error("unsupported bundle media type {0:?}")]
    UnsupportedVersion(String),
    #[error("malformed trusted root: {0}")]
    TrustedRoot(String),
    #[error("malformed certificate: {0}")]
    Certificate(String),
    #[error("certificate chain: {0}")]
    CertificateChain(String),
    #[error("certificate validity at signing time: {0}")]
    CertificateValidity(String),
    #[error("signed certificate timestamp: {0}")]
    Sct(String),
    #[error("policy: {0}")]
    Policy(String),
    #[error("identity: certificate names {found:?}, policy wants {expected}")]
    Identity {
        expected: String,
        found: Vec<String>,
    },
    #[error("issuer: certificate names {found:?}, policy wants {expected}")]
    Issuer {
        expected: String,
        found: Option<String>,
    },
    #[error("artifact digest: {0}")]
    ArtifactDigest(String),
    #[error("signature: {0}")]
    Signature(String),
    #[error("DSSE envelope has {0} signatures, exactly one is required")]
    DsseSignatureCount(usize),
    #[error("transparency log {0} is not in the trusted root")]
    UnknownLog(String),
    #[error("unsupported transparency log entry: {0}")]
    UnsupportedEntry(String),
    #[error("transparency log entry does not match the bundle: {0}")]
    TlogBodyMismatch(String),
    #[error("inclusion proof: {0}")]
    InclusionProof(String),
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    #[error("checkpoint signature: {0}")]
    CheckpointSignature(String),
    #[error("signed entry timestamp: {0}")]
    Set(String),
    #[error("transparency log key validity: {0}")]
    TlogValidity(String),
    #[error("RFC 3161 timestamp: {0}")]
    Timestamp(String),
    #[error(
        "no verified signing time (neither a signed entry timestamp nor an RFC 3161 timestamp)"
    )]
    NoSigningTime,
}

/// What was signed: the bytes, or only their digest.
#[derive(Clone, Copy, Debug)]
pub enum Artifact<'a> {
    Bytes(&'a [u8]),
    Digest {
        algorithm: HashAlgorithm,
        digest: &'a [u8],
    },
}

/// A string constraint. `Matches` takes any predicate (a compiled regex,
/// say) plus its text for error messages.
#[derive(Clone)]
pub enum StringMatch {
    Exact(String),
    Matches {
        pattern: String,
        matcher: Arc<dyn Fn(&str) -> bool + Send + Sync>,
    },
}

impl StringMatch {
    pub fn is_match(&self, s: &str) -> bool {
        match self {
            StringMatch::Exact(e) => e == s,
            StringMatch::Matches { matcher, .. } => matcher(s),
        }
    }
}

impl fmt::Display for StringMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StringMatch::Exact(e) => write!(f, "{e:?}"),
            StringMatch::Matches { pattern, .. } => write!(f, "a match of /{pattern}/"),
        }
    }
}

impl fmt::Debug for StringMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The certificate identity a keyless bundle must carry.
#[derive(Clone, Debug)]
pub struct Identity {
    /// Matched against each SAN (URI, email, Fulcio username otherName).
    pub san: StringMatch,
    /// Matched against the Fulcio OIDC issuer extension.
    pub issuer: StringMatch,
}

/// Who may have signed: a Fulcio identity, or a managed key.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub identity: Option<Identity>,
    pub key: Option<VerifyingKey>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeSource {
    /// Rekor v1 integrated time, authenticated by the signed entry timestamp.
    TransparencyLog,
    /// An RFC 3161 timestamp from a trusted TSA.
    Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigningTime {
    pub source: TimeSource,
    /// Unix seconds.
    pub time: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntryInfo {
    pub log_index: u64,
    /// Hex of the log ID.
    pub log_id: String,
    pub log_url: String,
    pub kind: String,
    pub version: String,
}

#[derive(Clone, Debug)]
pub struct VerifiedBundle {
    pub signing_times: Vec<SigningTime>,
    /// Present for certificate (keyless) bundles.
    pub identity: Option<CertIdentity>,
    pub log_entries: Vec<LogEntryInfo>,
    /// Present for DSSE bundles: (payload type, payload).
    pub dsse: Option<(String, Vec<u8>)>,
}

/// The signer's verified key and how the log must name it.
struct SignerKey<'b> {
    key: VerifyingKey,
    cert: Option<(
        &'b x509_cert::Certificate,
        &'b [u8],
        &'b [x509_cert::Certificate],
    )>,
}

/// Verifies `bundle` over `artifact` against `root` and `policy`.
pub fn verify(
    bundle: &Bundle,
    artifact: Artifact<'_>,
    policy: &Policy,
    root: &TrustedRoot,
) -> Result<VerifiedBundle, VerifyError> {
    let signer = match &bundle.signer {
        Signer::Certificate {
            leaf,
            leaf_der,
            rest,
        } => {
            if policy.identity.is_none() {
                return Err(VerifyError::Policy(
                    "the bundle is signed by a certificate but no identity was given".into(),
                ));
            }
            let key = cert::public_key(leaf).map_err(VerifyError::Certificate)?;
            SignerKey {
                key,
                cert: Some((leaf.as_ref(), leaf_der.as_slice(), rest.as_slice())),
            }
        }
        Signer::PublicKey { .. } => {
            let key = policy.key.clone().ok_or_else(|| {
                VerifyError::Policy(
                    "the bundle is signed by a managed key but no key was given".into(),
                )
            })?;
            SignerKey { key, cert: None }
        }
    };

    // Certificate: chain, SCT and identity.
    let mut identity = None;
    if let Some((leaf, leaf_der, rest)) = signer.cert {
        let ca = cert::verify_leaf_chain(leaf, leaf_der, rest, root)?;
        let issuer = ca
            .chain
            .first()
            .ok_or_else(|| VerifyError::CertificateChain("empty CA chain".into()))?;
        cert::verify_scts(leaf, issuer, root)?;
        let id = cert::identity(leaf)?;
        if let Some(want) = &policy.identity {
            check_identity(want, &id)?;
        }
        identity = Some(id);
    }

    // The signature itself, and what the log entry must record.
    let (expected, tsa_signature, dsse) = match &bundle.content {
        Content::MessageSignature { digest, signature } => {
            let (algorithm, computed) = match artifact {
                Artifact::Bytes(b) => {
                    let algorithm = digest.as_ref().map_or(signer.key.default_hash(), |d| d.0);
                    (algorithm, algorithm.digest(b))
                }
                Artifact::Digest { algorithm, digest } => (algorithm, digest.to_vec()),
            };
            if let Some((a, d)) = digest
                && (*a != algorithm || *d != computed)
            {
                return Err(VerifyError::ArtifactDigest(
                    "the bundle's messageDigest is not the artifact's digest".into(),
                ));
            }
            let res = match (artifact, &signer.key) {
                (Artifact::Bytes(b), VerifyingKey::Ed25519(_)) => {
                    signer.key.verify(algorithm, b, signature)
                }
                _ => signer.key.verify_prehashed(algorithm, &computed, signature),
            };
            res.map_err(VerifyError::Signature)?;
            (Some((algorithm, computed)), signature.as_slice(), None)
        }
        Content::Dsse(env) => {
            let sig = match env.signatures.as_slice() {
                [one] => one,
                other => return Err(VerifyError::DsseSignatureCount(other.len())),
            };
            signer
                .key
                .verify(signer.key.default_hash(), &env.pae(), sig)
                .map_err(|e| VerifyError::Signature(format!("DSSE envelope: {e}")))?;
            check_statement_subject(env, artifact)?;
            (None, sig.as_slice(), Some(env))
        }
    };
    let expected = match (&expected, dsse) {
        (Some((algorithm, computed)), _) => rekor::Expected::Message {
            digest: (*algorithm, computed),
            signature: tsa_signature,
        },
        (None, Some(env)) => rekor::Expected::Dsse(env),
        (None, None) => return Err(VerifyError::Bundle("bundle has no content".into())),
    };
    let signer_id = match signer.cert {
        Some((_, der_bytes, _)) => rekor::SignerId::Certificate(der_bytes),
        None => rekor::SignerId::Key(&signer.key),
    };

    // RFC 3161 timestamps over the signature.
    // As the client spec counts them: timestamps that do not verify are
    // not used (a threshold of one verified time applies below), but the
    // first failure is kept to explain a missing signing time.
    let mut signing_times = Vec::new();
    let mut tsa_failure = None;
    for (i, ts) in bundle.rfc3161_timestamps.iter().enumerate() {
        if bundle
            .rfc3161_timestamps
            .get(..i)
            .unwrap_or_default()
            .contains(ts)
        {
            return Err(VerifyError::Timestamp(
                "duplicate timestamp in the bundle".into(),
            ));
        }
        match tsa::verify_timestamp(ts, tsa_signature, root) {
            Ok(time) => signing_times.push(SigningTime {
                source: TimeSource::Timestamp,
                time,
            }),
            Err(e) => {
                tsa_failure.get_or_insert(e);
            }
        }
    }
    let tsa_times: Vec<i64> = signing_times.iter().map(|t| t.time).collect();

    // Transparency log evidence.
    let mut log_entries = Vec::new();
    for entry in &bundle.tlog_entries {
        let log = root
            .tlog(&entry.log_id)
            .ok_or_else(|| VerifyError::UnknownLog(hex::encode(&entry.log_id)))?;
        rekor::check_body(entry, &expected, &signer_id)?;
        if let Some(proof) = &entry.inclusion_proof {
            rekor::verify_inclusion(entry, proof, log)?;
        }
        let log_times = if entry.signed_entry_timestamp.is_some() {
            let time = rekor::verify_set(entry, log)?;
            signing_times.push(SigningTime {
                source: TimeSource::TransparencyLog,
                time,
            });
            vec![time]
        } else {
            // Rekor v2 has no integrated time: the TSA dates the entry.
            tsa_times.clone()
        };
        if let Some(t) = log_times.iter().find(|t| !log.valid_for.contains(**t)) {
            return Err(VerifyError::TlogValidity(format!(
                "log {} was not trusted at {t}",
                log.base_url
            )));
        }
        log_entries.push(LogEntryInfo {
            log_index: entry.log_index,
            log_id: hex::encode(&entry.log_id),
            log_url: log.base_url.clone(),
            kind: entry.kind.clone(),
            version: entry.version.clone(),
        });
    }
    if signing_times.is_empty() {
        return Err(tsa_failure.unwrap_or(VerifyError::NoSigningTime));
    }

    // The certificate must have been valid whenever the signature was dated.
    if let Some((leaf, _, _)) = signer.cert
        && let Some(t) = signing_times.iter().find(|t| !cert::valid_at(leaf, t.time))
    {
        return Err(VerifyError::CertificateValidity(format!(
            "{:?} time {} is outside the certificate's validity {}..{}",
            t.source,
            t.time,
            cert::not_before(leaf),
            cert::not_after(leaf)
        )));
    }

    Ok(VerifiedBundle {
        signing_times,
        identity,
        log_entries,
        dsse: dsse.map(|e| (e.payload_type.clone(), e.payload.clone())),
    })
}

pub(crate) fn check_identity(want: &Identity, id: &CertIdentity) -> Result<(), VerifyError> {
    if !id.sans.iter().any(|s| want.san.is_match(s)) {
        return Err(VerifyError::Identity {
            expected: want.san.to_string(),
            found: id.sans.clone(),
        });
    }
    if !id
        .issuer
        .as_deref()
        .is_some_and(|i| want.issuer.is_match(i))
    {
        return Err(VerifyError::Issuer {
            expected: want.issuer.to_string(),
            found: id.issuer.clone(),
        });
    }
    Ok(())
}

/// An in-toto statement binds the artifact through its subject digests.
fn check_statement_subject(env: &Envelope, artifact: Artifact<'_>) -> Result<(), VerifyError> {
    if env.payload_type != dsse::IN_TOTO_PAYLOAD_TYPE {
        return Err(VerifyError::ArtifactDigest(format!(
            "DSSE payload type {:?} does not name an artifact",
            env.payload_type
        )));
    }
    let st: dsse::Statement = serde_json::from_slice(&env.payload).map_err(|e| {
        VerifyError::ArtifactDigest(format!("DSSE payload is not an in-toto statement: {e}"))
    })?;
    if !st.kind.starts_with("https://in-toto.io/Statement/") {
        return Err(VerifyError::ArtifactDigest(format!(
            "unknown statement type {:?}",
            st.kind
        )));
    }
    let matches = |name: &str, hex_digest: &str| -> bool {
        let Some(algo) = HashAlgorithm::from_name(name) else {
            return false;
        };
        let Ok(d) = hex::decode(hex_digest) else {
            return false;
        };
        match artifact {
            Artifact::Bytes(b) => algo.digest(b) == d,
            Artifact::Digest { algorithm, digest } => algorithm == algo && digest == d.as_slice(),
        }
    };
    if st
        .subject
        .iter()
        .any(|s| s.digest.iter().any(|(n, d)| matches(n, d)))
    {
        Ok(())
    } else {
        Err(VerifyError::ArtifactDigest(
            "no statement subject has the artifact's digest".into(),
        ))
    }
}

/// The Sigstore public-good trusted root bosun ships with (see
/// `data/README.md`); `--trusted-root` overrides it.
pub const PUBLIC_GOOD_TRUSTED_ROOT: &[u8] =
    include_bytes!("../../data/public-good.trusted_root.json");
