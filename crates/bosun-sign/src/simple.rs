//! cosign's Simple Signing payload and the check of one signature layer.
//!
//! cosign signs the exact bytes of a small JSON document naming the image
//! digest, stores them as a layer of the `sha256-<hex>.sig` manifest and puts
//! the base64 signature in the layer's `dev.cosignproject.cosign/signature`
//! annotation.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde_json::Value;

use crate::keys::{PublicKey, VerifyError};

/// Media type of a Simple Signing layer.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Layer annotation holding the base64 signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Layer annotation holding the legacy Rekor bundle (signed entry timestamp).
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// Layer annotation holding the signing certificate (PEM).
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// Layer annotation holding the certificate chain (PEM).
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// `critical.type` of a cosign image signature.
pub const COSIGN_SIGNATURE_TYPE: &str = "cosign container image signature";

/// Real payloads are a few hundred bytes; annotations could make them larger,
/// but not this large.
const MAX_PAYLOAD_BYTES: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum SimpleError {
    #[error("signature annotation is not valid base64: {0}")]
    SignatureEncoding(String),
    #[error("signature invalid")]
    SignatureInvalid(#[source] VerifyError),
    #[error("payload is {0} bytes, more than the {MAX_PAYLOAD_BYTES} allowed")]
    PayloadTooLarge(usize),
    #[error("payload is not a Simple Signing document: {0}")]
    Malformed(String),
    #[error("payload type is \"{found}\", expected \"{COSIGN_SIGNATURE_TYPE}\"")]
    WrongType { found: String },
    #[error("\"{0}\" is not a well-formed image digest (sha256:<64 hex> or sha512:<128 hex>)")]
    InvalidDigest(String),
    #[error("digest mismatch: signed digest {signed}, image digest {image}")]
    DigestMismatch { signed: String, image: String },
    #[error("annotation \"{key}\" mismatch: required \"{required}\", payload has {found}")]
    AnnotationMismatch {
        key: String,
        required: String,
        found: String,
    },
}

/// A parsed (or to be written) Simple Signing payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    /// `critical.identity.docker-reference`.
    pub docker_reference: String,
    /// `critical.image.docker-manifest-digest`.
    pub manifest_digest: String,
    /// `optional`: cosign writes the `-a key=value` annotations here, or
    /// `null` when there are none. Other signers put non-string values here.
    pub optional: Option<BTreeMap<String, Value>>,
}

/// OCI digests as registries use them, lowercase hex.
fn check_digest(digest: &str) -> Result<(), SimpleError> {
    let ok = match digest.split_once(':') {
        Some(("sha256", hex)) => hex.len() == 64,
        Some(("sha512", hex)) => hex.len() == 128,
        _ => false,
    } && digest
        .split_once(':')
        .is_some_and(|(_, h)| h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    if ok {
        Ok(())
    } else {
        Err(SimpleError::InvalidDigest(digest.to_string()))
    }
}

#[derive(Deserialize)]
struct WirePayload {
    critical: WireCritical,
    #[serde(default)]
    optional: Option<BTreeMap<String, Value>>,
}

#[derive(Deserialize)]
struct WireCritical {
    identity: WireIdentity,
    image: WireImage,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct WireIdentity {
    #[serde(rename = "docker-reference")]
    docker_reference: String,
}

#[derive(Deserialize)]
struct WireImage {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: String,
}

impl Payload {
    /// A payload for `manifest_digest`, with the annotations as `optional`.
    pub fn new(
        docker_reference: &str,
        manifest_digest: &str,
        annotations: BTreeMap<String, String>,
    ) -> Result<Self, SimpleError> {
        check_digest(manifest_digest)?;
        let optional = (!annotations.is_empty()).then(|| {
            annotations
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect()
        });
        Ok(Payload {
            docker_reference: docker_reference.to_string(),
            manifest_digest: manifest_digest.to_string(),
            optional,
        })
    }

    /// The bytes cosign would sign: Go's `encoding/json` output for cosign's
    /// struct (fields in declaration order, map keys sorted, `<`, `>`, `&`,
    /// U+2028 and U+2029 escaped, `optional` null when absent).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(256);
        out.push_str("{\"critical\":{\"identity\":{\"docker-reference\":");
        go_string(&mut out, &self.docker_reference);
        out.push_str("},\"image\":{\"docker-manifest-digest\":");
        go_string(&mut out, &self.manifest_digest);
        out.push_str("},\"type\":");
        go_string(&mut out, COSIGN_SIGNATURE_TYPE);
        out.push_str("},\"optional\":");
        match &self.optional {
            None => out.push_str("null"),
            Some(map) => go_object(&mut out, map.iter()),
        }
        out.push('}');
        out.into_bytes()
    }

    /// Parses a payload; the type must be cosign's and the digest well formed.
    /// Unknown fields are ignored, as cosign does; duplicate fields are refused.
    pub fn parse(bytes: &[u8]) -> Result<Self, SimpleError> {
        if bytes.len() > MAX_PAYLOAD_BYTES {
            return Err(SimpleError::PayloadTooLarge(bytes.len()));
        }
        let wire: WirePayload =
            serde_json::from_slice(bytes).map_err(|e| SimpleError::Malformed(e.to_string()))?;
        if wire.critical.kind != COSIGN_SIGNATURE_TYPE {
            return Err(SimpleError::WrongType {
                found: wire.critical.kind,
            });
        }
        check_digest(&wire.critical.image.docker_manifest_digest)?;
        Ok(Payload {
            docker_reference: wire.critical.identity.docker_reference,
            manifest_digest: wire.critical.image.docker_manifest_digest,
            optional: wire.optional,
        })
    }

    /// The string annotation `key` of `optional`, if any.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.optional.as_ref()?.get(key)?.as_str()
    }
}

/// Writes a JSON string as Go's encoding/json does (HTML-safe escaping;
/// `\b` and `\f` short forms as since Go 1.22, which current cosign uses).
fn go_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}') => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn go_object<'a>(out: &mut String, entries: impl Iterator<Item = (&'a String, &'a Value)>) {
    // Go sorts map keys; serde_json's Map may keep insertion order.
    let mut entries: Vec<_> = entries.collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    out.push('{');
    for (i, (k, v)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        go_string(out, k);
        out.push(':');
        go_value(out, v);
    }
    out.push('}');
}

fn go_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => go_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => go_object(out, map.iter()),
    }
}

/// Checks one Simple Signing layer as `cosign verify --key` does, in its
/// order: the signature over the exact payload bytes, then the payload type,
/// the signed digest against the image digest, then each required annotation
/// (a string equal to the required value). Returns the verified payload.
pub fn verify_signature_layer(
    payload: &[u8],
    signature_b64: &str,
    key: &PublicKey,
    expected_digest: &str,
    required_annotations: &BTreeMap<String, String>,
) -> Result<Payload, SimpleError> {
    let signature = B64
        .decode(signature_b64.trim())
        .map_err(|e| SimpleError::SignatureEncoding(e.to_string()))?;
    key.verify(payload, &signature)
        .map_err(SimpleError::SignatureInvalid)?;
    let parsed = Payload::parse(payload)?;
    if parsed.manifest_digest != expected_digest {
        return Err(SimpleError::DigestMismatch {
            signed: parsed.manifest_digest,
            image: expected_digest.to_string(),
        });
    }
    for (k, required) in required_annotations {
        let found = parsed.optional.as_ref().and_then(|m| m.get(k));
        if found.and_then(Value::as_str) != Some(required.as_str()) {
            return Err(SimpleError::AnnotationMismatch {
                key: k.clone(),
                required: required.clone(),
                found: found.map_or_else(|| "none".to_string(), Value::to_string),
            });
        }
    }
    Ok(parsed)
}

/// Tag of the signature manifest for `digest`: `sha256-<hex>.sig`.
pub fn signature_tag(digest: &str) -> Result<String, SimpleError> {
    tag_for(digest, "sig")
}

/// Tag of the attestation manifest for `digest`: `sha256-<hex>.att`.
pub fn attestation_tag(digest: &str) -> Result<String, SimpleError> {
    tag_for(digest, "att")
}

fn tag_for(digest: &str, suffix: &str) -> Result<String, SimpleError> {
    check_digest(digest)?;
    Ok(format!("{}.{suffix}", digest.replacen(':', "-", 1)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const D: &str = "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00";

    #[test]
    fn tags() {
        assert_eq!(signature_tag(D).unwrap(), format!("sha256-{}.sig", &D[7..]));
        assert_eq!(
            attestation_tag(D).unwrap(),
            format!("sha256-{}.att", &D[7..])
        );
        assert!(signature_tag("sha256:abc").is_err());
        assert!(signature_tag(&D.to_uppercase()).is_err());
        assert!(signature_tag("md5:0123").is_err());
    }

    #[test]
    fn go_escaping() {
        let mut s = String::new();
        go_string(&mut s, "a<b>&\"\\\n\u{1}\u{2028}é");
        assert_eq!(s, r#""a\u003cb\u003e\u0026\"\\\n\u0001\u2028é""#);
    }

    #[test]
    fn parse_refuses_bad_documents() {
        let good = Payload::new("r", D, BTreeMap::new()).unwrap().to_bytes();
        assert_eq!(Payload::parse(&good).unwrap().docker_reference, "r");
        let s = String::from_utf8(good).unwrap();
        let wrong_type = s.replace(COSIGN_SIGNATURE_TYPE, "atomic container signature");
        assert!(matches!(
            Payload::parse(wrong_type.as_bytes()),
            Err(SimpleError::WrongType { .. })
        ));
        let bad_digest = s.replace(D, "sha256:xyz");
        assert!(matches!(
            Payload::parse(bad_digest.as_bytes()),
            Err(SimpleError::InvalidDigest(_))
        ));
        let missing = s.replace("\"identity\"", "\"identityX\"");
        assert!(matches!(
            Payload::parse(missing.as_bytes()),
            Err(SimpleError::Malformed(_))
        ));
        let dup = s.replace("\"type\":", "\"type\":\"x\",\"type\":");
        assert!(Payload::parse(dup.as_bytes()).is_err());
        assert!(Payload::parse(&s.as_bytes()[..s.len() / 2]).is_err());
        assert!(Payload::parse(b"[]").is_err());
        assert!(matches!(
            Payload::parse(&vec![b' '; MAX_PAYLOAD_BYTES + 1]),
            Err(SimpleError::PayloadTooLarge(_))
        ));
    }
}
