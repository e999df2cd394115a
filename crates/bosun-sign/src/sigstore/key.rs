//! Public keys as they appear in Sigstore material (X.509 SPKI, PKCS#1 RSA,
//! PEM) and the signature checks the verifier needs.

use der::Decode;
use sha2::{Digest, Sha256, Sha384, Sha512};
use spki::SubjectPublicKeyInfoRef;

const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
const OID_ED25519: &str = "1.3.101.112";
const OID_RSA: &str = "1.2.840.113549.1.1.1";

/// Hash algorithms used by Sigstore signatures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlgorithm {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlgorithm {
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashAlgorithm::Sha256 => Sha256::digest(data).to_vec(),
            HashAlgorithm::Sha384 => Sha384::digest(data).to_vec(),
            HashAlgorithm::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    pub fn output_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
            HashAlgorithm::Sha512 => 64,
        }
    }

    /// Sigstore protobuf spelling (`SHA2_256`) or Rekor's (`sha256`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "SHA2_256" | "sha256" => Some(HashAlgorithm::Sha256),
            "SHA2_384" | "sha384" => Some(HashAlgorithm::Sha384),
            "SHA2_512" | "sha512" => Some(HashAlgorithm::Sha512),
            _ => None,
        }
    }

    pub(crate) fn from_oid(oid: &str) -> Option<Self> {
        match oid {
            "2.16.840.1.101.3.4.2.1" => Some(HashAlgorithm::Sha256),
            "2.16.840.1.101.3.4.2.2" => Some(HashAlgorithm::Sha384),
            "2.16.840.1.101.3.4.2.3" => Some(HashAlgorithm::Sha512),
            _ => None,
        }
    }
}

/// A verification key found in a trusted root, a certificate or a bundle.
#[derive(Clone, Debug)]
pub enum VerifyingKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    Rsa(rsa::RsaPublicKey),
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (VerifyingKey::P256(a), VerifyingKey::P256(b)) => a == b,
            (VerifyingKey::P384(a), VerifyingKey::P384(b)) => a == b,
            (VerifyingKey::Ed25519(a), VerifyingKey::Ed25519(b)) => a == b,
            (VerifyingKey::Rsa(a), VerifyingKey::Rsa(b)) => a == b,
            _ => false,
        }
    }
}

impl VerifyingKey {
    /// Parses a DER `SubjectPublicKeyInfo`, or a bare PKCS#1 RSA key (the
    /// form some trusted roots use for `PKCS1_RSA_PKCS1V5` CT logs).
    pub fn from_der(der_bytes: &[u8]) -> Result<Self, String> {
        let Ok(spki) = SubjectPublicKeyInfoRef::from_der(der_bytes) else {
            use rsa::pkcs1::DecodeRsaPublicKey;
            return rsa::RsaPublicKey::from_pkcs1_der(der_bytes)
                .map(VerifyingKey::Rsa)
                .map_err(|e| format!("not a SubjectPublicKeyInfo nor a PKCS#1 RSA key: {e}"));
        };
        let alg = spki.algorithm.oid.to_string();
        let key_bytes = spki
            .subject_public_key
            .as_bytes()
            .ok_or("public key bit string has unused bits")?;
        match alg.as_str() {
            OID_EC_PUBLIC_KEY => {
                let curve = spki
                    .algorithm
                    .parameters
                    .and_then(|p| p.decode_as::<der::asn1::ObjectIdentifier>().ok())
                    .map(|o| o.to_string())
                    .unwrap_or_default();
                match curve.as_str() {
                    OID_P256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes)
                        .map(VerifyingKey::P256)
                        .map_err(|e| format!("bad P-256 point: {e}")),
                    OID_P384 => p384::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes)
                        .map(VerifyingKey::P384)
                        .map_err(|e| format!("bad P-384 point: {e}")),
                    other => Err(format!("unsupported EC curve {other:?}")),
                }
            }
            OID_ED25519 => {
                let bytes: [u8; 32] = key_bytes
                    .try_into()
                    .map_err(|_| "Ed25519 key is not 32 bytes".to_string())?;
                ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                    .map(VerifyingKey::Ed25519)
                    .map_err(|e| format!("bad Ed25519 key: {e}"))
            }
            OID_RSA => {
                use rsa::pkcs1::DecodeRsaPublicKey;
                rsa::RsaPublicKey::from_pkcs1_der(key_bytes)
                    .map(VerifyingKey::Rsa)
                    .map_err(|e| format!("bad RSA key: {e}"))
            }
            other => Err(format!("unsupported public key algorithm {other}")),
        }
    }

    /// Parses a `PUBLIC KEY` (or `RSA PUBLIC KEY`) PEM block.
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        let (label, der_bytes) = pem_decode(pem)?;
        match label.as_str() {
            "PUBLIC KEY" | "RSA PUBLIC KEY" => Self::from_der(&der_bytes),
            other => Err(format!("expected a PUBLIC KEY PEM block, found {other:?}")),
        }
    }

    /// The hash this key signs artifacts with when nothing else says.
    pub fn default_hash(&self) -> HashAlgorithm {
        match self {
            VerifyingKey::P384(_) => HashAlgorithm::Sha384,
            _ => HashAlgorithm::Sha256,
        }
    }

    /// Verifies `sig` over `msg`, hashing with `hash` (ignored by Ed25519,
    /// which signs the message itself).
    pub fn verify(&self, hash: HashAlgorithm, msg: &[u8], sig: &[u8]) -> Result<(), String> {
        match self {
            VerifyingKey::Ed25519(k) => {
                let sig = ed25519_dalek::Signature::from_slice(sig)
                    .map_err(|e| format!("malformed Ed25519 signature: {e}"))?;
                k.verify_strict(msg, &sig)
                    .map_err(|_| "Ed25519 signature does not verify".to_string())
            }
            _ => self.verify_prehashed(hash, &hash.digest(msg), sig),
        }
    }

    /// Verifies `sig` over a message known only by its `digest`.
    pub fn verify_prehashed(
        &self,
        hash: HashAlgorithm,
        digest: &[u8],
        sig: &[u8],
    ) -> Result<(), String> {
        use ecdsa::signature::hazmat::PrehashVerifier;
        if digest.len() != hash.output_len() {
            return Err(format!(
                "digest is {} bytes, not a {hash:?} digest",
                digest.len()
            ));
        }
        match self {
            VerifyingKey::P256(k) => {
                let sig = p256::ecdsa::Signature::from_der(sig)
                    .map_err(|e| format!("malformed ECDSA signature: {e}"))?;
                k.verify_prehash(digest, &sig)
                    .map_err(|_| "ECDSA P-256 signature does not verify".to_string())
            }
            VerifyingKey::P384(k) => {
                let sig = p384::ecdsa::Signature::from_der(sig)
                    .map_err(|e| format!("malformed ECDSA signature: {e}"))?;
                k.verify_prehash(digest, &sig)
                    .map_err(|_| "ECDSA P-384 signature does not verify".to_string())
            }
            VerifyingKey::Rsa(k) => {
                let scheme = match hash {
                    HashAlgorithm::Sha256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
                    HashAlgorithm::Sha384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
                    HashAlgorithm::Sha512 => rsa::Pkcs1v15Sign::new::<Sha512>(),
                };
                k.verify(scheme, digest, sig)
                    .map_err(|_| "RSA PKCS#1 v1.5 signature does not verify".to_string())
            }
            VerifyingKey::Ed25519(_) => Err(
                "Ed25519 cannot verify a pre-hashed message; the artifact bytes are needed"
                    .to_string(),
            ),
        }
    }
}

/// Verifies an X.509-style signature, `alg_oid` naming the algorithm
/// (ecdsa-with-SHA*, sha*WithRSAEncryption, Ed25519).
pub(crate) fn verify_with_oid(
    key: &VerifyingKey,
    alg_oid: &str,
    msg: &[u8],
    sig: &[u8],
) -> Result<(), String> {
    let hash = match alg_oid {
        "1.2.840.10045.4.3.2" | "1.2.840.113549.1.1.11" => HashAlgorithm::Sha256,
        "1.2.840.10045.4.3.3" | "1.2.840.113549.1.1.12" => HashAlgorithm::Sha384,
        "1.2.840.10045.4.3.4" | "1.2.840.113549.1.1.13" => HashAlgorithm::Sha512,
        OID_ED25519 => HashAlgorithm::Sha512,
        other => return Err(format!("unsupported signature algorithm {other}")),
    };
    let family_ok = match key {
        VerifyingKey::P256(_) | VerifyingKey::P384(_) => alg_oid.starts_with("1.2.840.10045.4.3."),
        VerifyingKey::Rsa(_) => alg_oid.starts_with("1.2.840.113549.1.1."),
        VerifyingKey::Ed25519(_) => alg_oid == OID_ED25519,
    };
    if !family_ok {
        return Err(format!(
            "signature algorithm {alg_oid} does not fit the key type"
        ));
    }
    key.verify(hash, msg, sig)
}

/// Decodes one PEM block into its label and DER bytes.
pub(crate) fn pem_decode(text: &str) -> Result<(String, Vec<u8>), String> {
    use base64::Engine;
    let text = text.trim();
    let first = text.lines().next().unwrap_or_default().trim();
    let label = first
        .strip_prefix("-----BEGIN ")
        .and_then(|l| l.strip_suffix("-----"))
        .ok_or("not a PEM block (no BEGIN line)")?
        .to_string();
    let end = format!("-----END {label}-----");
    let mut body = String::new();
    let mut ended = false;
    for line in text.lines().skip(1) {
        let line = line.trim();
        if line == end {
            ended = true;
            break;
        }
        body.push_str(line);
    }
    if !ended {
        return Err(format!("PEM block {label:?} has no END line"));
    }
    let der_bytes = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| format!("bad base64 in PEM block {label:?}: {e}"))?;
    Ok((label, der_bytes))
}
