//! In-toto attestations of images: a Statement v1 about the image digest,
//! signed in a DSSE envelope, stored as cosign stores them (a layer of the
//! `sha256-<hex>.att` manifest, media type
//! `application/vnd.dsse.envelope.v1+json`, with a `predicateType`
//! annotation and an empty `dev.cosignproject.cosign/signature`).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE as B64_URL};
use bosun_core::Digest;
use bosun_oci::OciError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::keys::{KeyError, PrivateKey, PublicKey};
use crate::oci::{self, Attached, Failure, Kind, Layer, LayerError, Store, Subject, Verifier};
use crate::simple::SIGNATURE_ANNOTATION;

/// DSSE `payloadType` of in-toto statements; also the referrers'
/// `artifactType` of cosign attestations.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// Layer media type of an attestation.
pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// What cosign writes; read too.
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";
/// Layer annotation naming the predicate type.
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";

/// `--type` names as cosign maps them to predicate type URIs.
pub const PREDICATE_TYPES: [(&str, &str); 11] = [
    ("custom", "https://cosign.sigstore.dev/attestation/v1"),
    ("slsaprovenance", "https://slsa.dev/provenance/v0.2"),
    ("slsaprovenance02", "https://slsa.dev/provenance/v0.2"),
    ("slsaprovenance1", "https://slsa.dev/provenance/v1"),
    ("spdx", "https://spdx.dev/Document"),
    ("spdxjson", "https://spdx.dev/Document"),
    ("cyclonedx", "https://cyclonedx.org/bom"),
    ("cyclonedxxml", "https://cyclonedx.org/bom"),
    ("link", "https://in-toto.io/Link/v1"),
    ("vuln", "https://cosign.sigstore.dev/attestation/vuln/v1"),
    ("openvex", "https://openvex.dev/ns"),
];

/// At most this many signatures on one envelope are tried.
const MAX_ENVELOPE_SIGNATURES: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum AttestError {
    #[error(
        "predicate type \"{0}\" is neither a known name (custom, slsaprovenance, slsaprovenance1, spdx, cyclonedx, link, vuln, openvex) nor an absolute URI"
    )]
    UnknownPredicateType(String),
    #[error("envelope check: {0}")]
    Envelope(String),
    #[error(
        "payload type check: the envelope's payloadType is \"{0}\", expected \"{IN_TOTO_PAYLOAD_TYPE}\""
    )]
    PayloadType(String),
    #[error("signature check: {0}")]
    Signature(String),
    #[error("statement check: {0}")]
    Statement(String),
    #[error(
        "digest mismatch: the statement's subjects are {subjects}, the image digest is {image}"
    )]
    DigestMismatch { subjects: String, image: String },
    #[error("predicate type mismatch: the statement's is \"{found}\", expected \"{expected}\"")]
    PredicateType { found: String, expected: String },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Registry(#[from] OciError),
}

/// The URI for a `--type` value: a cosign name, or any absolute URI as is.
pub fn predicate_type(name_or_uri: &str) -> Result<String, AttestError> {
    if let Some((_, uri)) = PREDICATE_TYPES.iter().find(|(n, _)| *n == name_or_uri) {
        return Ok((*uri).to_string());
    }
    let is_uri = name_or_uri.split_once(':').is_some_and(|(scheme, rest)| {
        !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
            && scheme.as_bytes()[0].is_ascii_alphabetic()
            && !rest.is_empty()
    }) && !name_or_uri
        .chars()
        .any(|c| c.is_whitespace() || c.is_control());
    if is_uri {
        Ok(name_or_uri.to_string())
    } else {
        Err(AttestError::UnknownPredicateType(name_or_uri.to_string()))
    }
}

/// An in-toto Statement v1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub kind: String,
    pub subject: Vec<StatementSubject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    #[serde(default)]
    pub predicate: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementSubject {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub digest: BTreeMap<String, String>,
}

impl Statement {
    /// A statement about `subject` (named by its repository, as cosign does).
    pub fn new(subject: &Subject, predicate_type: &str, predicate: Value) -> Self {
        let algorithm = subject.digest.to_string();
        let algorithm = algorithm.split(':').next().unwrap_or("sha256").to_string();
        Statement {
            kind: STATEMENT_V1.to_string(),
            subject: vec![StatementSubject {
                name: subject.name.clone(),
                digest: BTreeMap::from([(algorithm, subject.digest.hex().to_string())]),
            }],
            predicate_type: predicate_type.to_string(),
            predicate,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising a Value-holding struct cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// DSSE's pre-authentication encoding (one implementation, shared with the
/// Sigstore bundle verifier).
pub use crate::sigstore::pae;

/// A DSSE envelope, payload and signatures decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub payload_type: String,
    pub payload: Vec<u8>,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeSignature {
    pub keyid: String,
    pub sig: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireEnvelope {
    payload_type: String,
    payload: String,
    #[serde(default)]
    signatures: Vec<WireSignature>,
}

#[derive(Serialize, Deserialize)]
struct WireSignature {
    #[serde(default)]
    keyid: String,
    sig: String,
}

/// DSSE allows standard or URL-safe base64, padded or not.
fn decode_b64(s: &str, what: &str) -> Result<Vec<u8>, AttestError> {
    let trimmed = s.trim_end_matches('=');
    let padded = format!("{trimmed}{}", "=".repeat((4 - trimmed.len() % 4) % 4));
    B64.decode(&padded)
        .or_else(|_| B64_URL.decode(&padded))
        .map_err(|e| AttestError::Envelope(format!("{what} is not base64: {e}")))
}

impl Envelope {
    /// Signs `payload` with `key` over its PAE; `keyid` empty, as cosign.
    pub fn sign(payload_type: &str, payload: Vec<u8>, key: &PrivateKey) -> Result<Self, KeyError> {
        let sig = key.sign(&pae(payload_type, &payload))?;
        Ok(Envelope {
            payload_type: payload_type.to_string(),
            payload,
            signatures: vec![EnvelopeSignature {
                keyid: String::new(),
                sig,
            }],
        })
    }

    pub fn to_json(&self) -> Vec<u8> {
        let wire = WireEnvelope {
            payload_type: self.payload_type.clone(),
            payload: B64.encode(&self.payload),
            signatures: self
                .signatures
                .iter()
                .map(|s| WireSignature {
                    keyid: s.keyid.clone(),
                    sig: B64.encode(&s.sig),
                })
                .collect(),
        };
        serde_json::to_vec(&wire).unwrap_or_default()
    }

    /// Parses an envelope (its size is bounded by the caller: layers are).
    pub fn parse(bytes: &[u8]) -> Result<Self, AttestError> {
        let wire: WireEnvelope = serde_json::from_slice(bytes)
            .map_err(|e| AttestError::Envelope(format!("not a DSSE envelope: {e}")))?;
        if wire.signatures.is_empty() {
            return Err(AttestError::Envelope(
                "the envelope has no signatures".into(),
            ));
        }
        if wire.signatures.len() > MAX_ENVELOPE_SIGNATURES {
            return Err(AttestError::Envelope(format!(
                "{} signatures, more than the {MAX_ENVELOPE_SIGNATURES} allowed",
                wire.signatures.len()
            )));
        }
        let signatures = wire
            .signatures
            .iter()
            .enumerate()
            .map(|(i, s)| {
                Ok(EnvelopeSignature {
                    keyid: s.keyid.clone(),
                    sig: decode_b64(&s.sig, &format!("signatures[{i}].sig"))?,
                })
            })
            .collect::<Result<_, AttestError>>()?;
        Ok(Envelope {
            payload: decode_b64(&wire.payload, "payload")?,
            payload_type: wire.payload_type,
            signatures,
        })
    }
}

/// Checks an envelope as `cosign verify-attestation` does: the payload type,
/// a signature by `key` over the PAE, a Statement (v1 or v0.1) with a subject
/// whose digest is the image's, and, when asked, its predicate type.
pub fn verify_envelope(
    envelope: &Envelope,
    key: &PublicKey,
    image: &Digest,
    predicate_type: Option<&str>,
) -> Result<Statement, AttestError> {
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(AttestError::PayloadType(envelope.payload_type.clone()));
    }
    let message = pae(&envelope.payload_type, &envelope.payload);
    let mut last = None;
    if !envelope
        .signatures
        .iter()
        .any(|s| match key.verify(&message, &s.sig) {
            Ok(()) => true,
            Err(e) => {
                last = Some(e);
                false
            }
        })
    {
        return Err(AttestError::Signature(match last {
            Some(e) => format!("no envelope signature verifies: {e}"),
            None => "the envelope has no signatures".into(),
        }));
    }
    let statement: Statement = serde_json::from_slice(&envelope.payload)
        .map_err(|e| AttestError::Statement(format!("not an in-toto statement: {e}")))?;
    if statement.kind != STATEMENT_V1 && statement.kind != STATEMENT_V01 {
        return Err(AttestError::Statement(format!(
            "_type is \"{}\", expected \"{STATEMENT_V1}\" (or \"{STATEMENT_V01}\")",
            statement.kind
        )));
    }
    let image_text = image.to_string();
    let (algorithm, hex) = image_text.split_once(':').unwrap_or(("sha256", ""));
    if !statement.subject.iter().any(|s| {
        s.digest
            .get(algorithm)
            .is_some_and(|h| h.eq_ignore_ascii_case(hex))
    }) {
        let subjects: Vec<String> = statement
            .subject
            .iter()
            .flat_map(|s| s.digest.iter().map(|(a, h)| format!("{a}:{h}")))
            .take(10)
            .collect();
        return Err(AttestError::DigestMismatch {
            subjects: if subjects.is_empty() {
                "(none)".into()
            } else {
                subjects.join(", ")
            },
            image: image_text,
        });
    }
    if let Some(want) = predicate_type
        && statement.predicate_type != want
    {
        return Err(AttestError::PredicateType {
            found: statement.predicate_type,
            expected: want.to_string(),
        });
    }
    Ok(statement)
}

/// The attestation layer of `statement` signed by `key`.
pub fn layer(statement: &Statement, key: &PrivateKey) -> Result<Layer, KeyError> {
    let envelope = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, statement.to_bytes(), key)?;
    Ok(Layer {
        media_type: DSSE_MEDIA_TYPE.to_string(),
        blob: envelope.to_json(),
        annotations: BTreeMap::from([
            (SIGNATURE_ANNOTATION.to_string(), String::new()),
            (
                PREDICATE_TYPE_ANNOTATION.to_string(),
                statement.predicate_type.clone(),
            ),
        ]),
    })
}

/// Signs `statement` and appends it to the subject's `.att` manifest in
/// `store` (and pushes it as a referrer where the registry has the API).
/// What `bosun sbom --attest` and `bosun scan --attest` call.
pub fn attach(
    store: &Store<'_>,
    subject: &Subject,
    statement: &Statement,
    key: &PrivateKey,
) -> Result<Attached, AttestError> {
    let layer = layer(statement, key)?;
    Ok(oci::attach(store, subject, Kind::Attestation, &layer)?)
}

/// One attestation that verified.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedAttestation {
    pub manifest: Digest,
    pub layer: Digest,
    pub statement: Statement,
}

#[derive(Debug, Default, Clone)]
pub struct AttestationReport {
    pub verified: Vec<VerifiedAttestation>,
    pub failures: Vec<Failure>,
    pub manifests: usize,
}

/// Finds and checks every attestation of `subject` (see [`verify_envelope`]);
/// `predicate_type` keeps only statements of that type, and the others are
/// failures naming their type. Registry failures are errors.
pub fn verify_attestations(
    store: &Store<'_>,
    subject: &Subject,
    verifier: &dyn Verifier,
    predicate_type: Option<&str>,
) -> Result<AttestationReport, OciError> {
    let found = oci::find(store, subject, Kind::Attestation)?;
    let mut report = AttestationReport {
        manifests: found.len(),
        ..AttestationReport::default()
    };
    for manifest in &found {
        let descs = match &manifest.layers {
            Ok(d) => d,
            Err(reason) => {
                report.failures.push(Failure {
                    manifest: manifest.describe(),
                    layer: None,
                    reason: reason.clone(),
                });
                continue;
            }
        };
        for desc in descs {
            let fail = |reason: String| Failure {
                manifest: manifest.describe(),
                layer: Some(desc.digest.clone()),
                reason,
            };
            let layer = match oci::load_layer(store, desc, Kind::Attestation) {
                Ok(l) => l,
                Err(LayerError::Invalid(reason)) => {
                    report.failures.push(fail(reason));
                    continue;
                }
                Err(LayerError::Registry(e)) => return Err(e),
            };
            let checked = verifier
                .key_for(&layer)
                .map_err(AttestError::Signature)
                .and_then(|key| {
                    let envelope = Envelope::parse(&layer.blob)?;
                    verify_envelope(&envelope, &key, &subject.digest, predicate_type)
                });
            match checked {
                Ok(statement) => report.verified.push(VerifiedAttestation {
                    manifest: manifest.digest.clone(),
                    layer: desc.digest.clone(),
                    statement,
                }),
                Err(e) => report.failures.push(fail(e.to_string())),
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn subject() -> Subject {
        Subject {
            name: "127.0.0.1:5000/app".into(),
            repository: "app".into(),
            digest: Digest::sha256_of(b"manifest"),
            media_type: bosun_oci::media::OCI_MANIFEST.into(),
            size: 8,
            tag: None,
        }
    }

    #[test]
    fn pae_is_the_dsse_spec_encoding() {
        // The worked example of the DSSE protocol specification.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
    }

    #[test]
    fn predicate_type_names_and_uris() {
        assert_eq!(predicate_type("spdx").unwrap(), "https://spdx.dev/Document");
        assert_eq!(
            predicate_type("vuln").unwrap(),
            "https://cosign.sigstore.dev/attestation/vuln/v1"
        );
        assert_eq!(
            predicate_type("https://example.com/p/v1").unwrap(),
            "https://example.com/p/v1"
        );
        for bad in ["sbom", "", "://x", "http:", "1x:y", "a b:c"] {
            assert!(predicate_type(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sign_then_verify_and_each_check_fails_alone() {
        let key = PrivateKey::generate_p256();
        let s = subject();
        let statement =
            Statement::new(&s, "https://spdx.dev/Document", serde_json::json!({"a": 1}));
        let env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, statement.to_bytes(), &key).unwrap();
        let parsed = Envelope::parse(&env.to_json()).unwrap();
        assert_eq!(parsed, env);
        let public = key.public_key();
        let got = verify_envelope(
            &parsed,
            &public,
            &s.digest,
            Some("https://spdx.dev/Document"),
        )
        .unwrap();
        assert_eq!(got, statement);
        assert_eq!(got.subject[0].digest["sha256"], s.digest.hex());

        let other = PrivateKey::generate_p256().public_key();
        assert!(matches!(
            verify_envelope(&parsed, &other, &s.digest, None),
            Err(AttestError::Signature(_))
        ));
        assert!(matches!(
            verify_envelope(&parsed, &public, &Digest::sha256_of(b"x"), None),
            Err(AttestError::DigestMismatch { .. })
        ));
        assert!(matches!(
            verify_envelope(
                &parsed,
                &public,
                &s.digest,
                Some("https://cyclonedx.org/bom")
            ),
            Err(AttestError::PredicateType { .. })
        ));
        let mut tampered = parsed.clone();
        tampered.payload[5] ^= 1;
        assert!(matches!(
            verify_envelope(&tampered, &public, &s.digest, None),
            Err(AttestError::Signature(_))
        ));
        let mut retyped = parsed.clone();
        retyped.payload_type = "text/plain".into();
        assert!(matches!(
            verify_envelope(&retyped, &public, &s.digest, None),
            Err(AttestError::PayloadType(_))
        ));
    }

    #[test]
    fn hostile_envelopes_are_errors() {
        for bad in [
            &b""[..],
            b"{",
            b"[]",
            br#"{"payloadType":"x","payload":"!!","signatures":[{"sig":"AA=="}]}"#,
            br#"{"payloadType":"x","payload":"AA==","signatures":[]}"#,
            br#"{"payloadType":"x","payload":"AA==","signatures":[{"sig":"%%"}]}"#,
        ] {
            assert!(
                Envelope::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let many = format!(
            r#"{{"payloadType":"x","payload":"AA==","signatures":[{}]}}"#,
            vec![r#"{"sig":"AA=="}"#; 17].join(",")
        );
        assert!(Envelope::parse(many.as_bytes()).is_err());
        // URL-safe, unpadded base64 is accepted, as DSSE allows.
        let e =
            Envelope::parse(br#"{"payloadType":"x","payload":"-_8","signatures":[{"sig":"AA"}]}"#)
                .unwrap();
        assert_eq!(e.payload, vec![0xfb, 0xff]);
    }
}
