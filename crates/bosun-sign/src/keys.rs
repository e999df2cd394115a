//! Signing keys and public keys, in the formats cosign reads and writes.
//!
//! Private keys are ECDSA P-256 (what `bosun key generate` writes), P-384,
//! Ed25519 or RSA, stored as PKCS#8, either plain (`PRIVATE KEY`) or in
//! cosign's encrypted box: scrypt derives a key from the password and NaCl
//! secretbox (XSalsa20-Poly1305) seals the PKCS#8 DER. Public keys are PKIX
//! (`PUBLIC KEY`) or taken from a certificate.
//!
//! Default signature schemes follow Sigstore's defaults for each key type:
//! ECDSA P-256 with SHA-256, P-384 with SHA-384, RSA PKCS#1 v1.5 with SHA-256,
//! and pure Ed25519. Other combinations are available through
//! [`PublicKey::verify_with`].

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{ID_EC_PUBLIC_KEY, RSA_ENCRYPTION, SECP_256_R_1, SECP_384_R_1};
use const_oid::db::rfc8410::ID_ED_25519;
use crypto_secretbox::XSalsa20Poly1305;
use crypto_secretbox::aead::{Aead, KeyInit};
use der::{Decode, Encode};
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::signature::{RandomizedSigner, SignatureEncoding, Signer, Verifier};
use pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha384, Sha512};
use spki::{DecodePublicKey, EncodePublicKey};
use zeroize::Zeroizing;

/// PEM label cosign has written since 2023.
pub const SIGSTORE_PRIVATE_KEY_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// PEM label of older cosign versions; still read.
pub const COSIGN_PRIVATE_KEY_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";

/// Key files are a few kilobytes; anything much larger is not a key.
const MAX_PEM_BYTES: usize = 1 << 20;
/// cosign writes N = 2^15 or 2^16; allow headroom but refuse files that
/// would make scrypt take gigabytes (memory is 128·N·r bytes) or minutes.
const MAX_SCRYPT_LOG_N: u32 = 20;
const MAX_SCRYPT_N_R: u64 = 1 << 21;
const MAX_SCRYPT_N_R_P: u64 = 1 << 22;
/// What bosun writes: cosign's current parameters.
const WRITE_SCRYPT_LOG_N: u8 = 16;
const WRITE_SCRYPT_R: u32 = 8;
const WRITE_SCRYPT_P: u32 = 1;
const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 24;
/// Sigstore's key policy refuses smaller RSA keys; the rsa crate refuses
/// larger ones (4096 bits), which bounds verification cost.
const MIN_RSA_BITS: usize = 2048;

/// DER prefix of a P-256 SubjectPublicKeyInfo with an uncompressed point:
/// SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (0 unused) }.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// Errors loading, converting or using a key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("PEM: {0}")]
    Pem(String),
    #[error("unsupported PEM label \"{found}\" (expected {expected})")]
    UnsupportedLabel {
        found: String,
        expected: &'static str,
    },
    #[error("the private key is encrypted: a password is needed (it may be empty)")]
    PasswordRequired,
    #[error("encrypted private key: {0}")]
    Encrypted(String),
    #[error(
        "encrypted private key: scrypt parameters N={n}, r={r}, p={p} are too expensive (at most N=2^{MAX_SCRYPT_LOG_N}, N·r ≤ 2^21, N·r·p ≤ 2^22)"
    )]
    KdfTooExpensive { n: u64, r: u64, p: u64 },
    #[error("wrong password or damaged key (secretbox authentication failed)")]
    WrongPassword,
    #[error(
        "the private key is a SEC1 EC PRIVATE KEY, not PKCS#8; cosign refuses this format too (convert it with `openssl pkcs8 -topk8`)"
    )]
    Sec1NotPkcs8,
    #[error("private key (PKCS#8): {0}")]
    PrivateKey(String),
    #[error("public key: {0}")]
    PublicKey(String),
    #[error("certificate: {0}")]
    Certificate(String),
    #[error("unsupported key algorithm {0}")]
    UnsupportedAlgorithm(String),
    #[error("RSA key of {0} bits is too small (at least {MIN_RSA_BITS} bits)")]
    WeakRsaKey(usize),
    #[error("signing failed: {0}")]
    Sign(String),
}

/// Why a signature did not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("malformed {algorithm} signature: {reason}")]
    Malformed {
        algorithm: KeyAlgorithm,
        reason: String,
    },
    #[error("{algorithm} signature does not verify with this key")]
    Invalid { algorithm: KeyAlgorithm },
    #[error("unsupported for a {algorithm} key: {what}")]
    Unsupported {
        algorithm: KeyAlgorithm,
        what: &'static str,
    },
}

/// The kind of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    EcdsaP256,
    EcdsaP384,
    Ed25519,
    Rsa { bits: usize },
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyAlgorithm::EcdsaP256 => f.write_str("ECDSA P-256"),
            KeyAlgorithm::EcdsaP384 => f.write_str("ECDSA P-384"),
            KeyAlgorithm::Ed25519 => f.write_str("Ed25519"),
            KeyAlgorithm::Rsa { bits } => write!(f, "RSA-{bits}"),
        }
    }
}

/// Message digest used by ECDSA and RSA signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlgorithm {
    fn digest(self, msg: &[u8]) -> Vec<u8> {
        match self {
            HashAlgorithm::Sha256 => Sha256::digest(msg).to_vec(),
            HashAlgorithm::Sha384 => Sha384::digest(msg).to_vec(),
            HashAlgorithm::Sha512 => Sha512::digest(msg).to_vec(),
        }
    }

    fn from_digest_len(len: usize) -> Option<Self> {
        match len {
            32 => Some(HashAlgorithm::Sha256),
            48 => Some(HashAlgorithm::Sha384),
            64 => Some(HashAlgorithm::Sha512),
            _ => None,
        }
    }
}

/// RSA signature padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RsaPadding {
    Pkcs1v15,
    Pss,
}

// ---------------------------------------------------------------------------
// PEM

/// One PEM block. The contents may be secret, so they are wiped on drop.
pub struct PemBlock {
    pub label: String,
    pub contents: Zeroizing<Vec<u8>>,
}

/// Decodes the first PEM block in `data`, skipping any text before it as Go's
/// `pem.Decode` does. Headers (RFC 1421 `Proc-Type:` lines) are refused.
pub fn decode_pem(data: &[u8]) -> Result<PemBlock, KeyError> {
    if data.len() > MAX_PEM_BYTES {
        return Err(KeyError::Pem(format!(
            "input is {} bytes, more than the {MAX_PEM_BYTES} a key or certificate file may have",
            data.len()
        )));
    }
    let text =
        std::str::from_utf8(data).map_err(|_| KeyError::Pem("input is not UTF-8 text".into()))?;
    let mut lines = text.lines().map(str::trim);
    let label = lines
        .by_ref()
        .find_map(|l| {
            l.strip_prefix("-----BEGIN ")
                .and_then(|r| r.strip_suffix("-----"))
        })
        .ok_or_else(|| KeyError::Pem("no \"-----BEGIN ...-----\" line".into()))?
        .to_string();
    let end = format!("-----END {label}-----");
    let mut body = Zeroizing::new(String::new());
    let mut ended = false;
    for line in lines {
        if line == end {
            ended = true;
            break;
        }
        if line.starts_with("-----") {
            return Err(KeyError::Pem(format!(
                "block \"{label}\" ends with \"{line}\", expected \"{end}\""
            )));
        }
        if line.contains(':') {
            return Err(KeyError::Pem(format!(
                "block \"{label}\" has PEM headers, which are not supported"
            )));
        }
        body.push_str(line);
    }
    if !ended {
        return Err(KeyError::Pem(format!(
            "truncated: block \"{label}\" has no \"{end}\" line"
        )));
    }
    let contents = Zeroizing::new(
        B64.decode(body.as_bytes())
            .map_err(|e| KeyError::Pem(format!("block \"{label}\" is not valid base64: {e}")))?,
    );
    Ok(PemBlock { label, contents })
}

/// Encodes one PEM block the way Go's `pem.Encode` does (64-column lines).
pub fn encode_pem(label: &str, der: &[u8]) -> Zeroizing<String> {
    let b64 = Zeroizing::new(B64.encode(der));
    let mut out = Zeroizing::new(String::with_capacity(
        b64.len() + b64.len() / 64 + 2 * label.len() + 40,
    ));
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        // Base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

// ---------------------------------------------------------------------------
// Public keys

#[derive(Clone)]
enum PublicInner {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    Rsa(rsa::RsaPublicKey),
}

/// A public key that verifies signatures.
#[derive(Clone)]
pub struct PublicKey {
    inner: PublicInner,
    /// SubjectPublicKeyInfo DER, kept for output and comparison.
    spki: Vec<u8>,
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki == other.spki
    }
}
impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("algorithm", &self.algorithm())
            .field("spki_sha256", &hex::encode(Sha256::digest(&self.spki)))
            .finish()
    }
}

fn p256_spki(vk: &p256::ecdsa::VerifyingKey) -> Vec<u8> {
    let point = vk.to_encoded_point(false);
    let mut spki = P256_SPKI_PREFIX.to_vec();
    spki.extend_from_slice(point.as_bytes());
    spki
}

fn spki_der(key: &impl EncodePublicKey) -> Result<Vec<u8>, KeyError> {
    key.to_public_key_der()
        .map(|d| d.as_bytes().to_vec())
        .map_err(|e| KeyError::PublicKey(format!("cannot encode SubjectPublicKeyInfo: {e}")))
}

fn check_rsa_size(bits: usize) -> Result<(), KeyError> {
    if bits < MIN_RSA_BITS {
        Err(KeyError::WeakRsaKey(bits))
    } else {
        Ok(())
    }
}

impl PublicKey {
    fn from_inner(inner: PublicInner) -> Result<Self, KeyError> {
        let spki = match &inner {
            PublicInner::P256(k) => p256_spki(k),
            PublicInner::P384(k) => spki_der(k)?,
            PublicInner::Ed25519(k) => spki_der(k)?,
            PublicInner::Rsa(k) => spki_der(k)?,
        };
        Ok(PublicKey { inner, spki })
    }

    /// Reads a `PUBLIC KEY` (PKIX), `RSA PUBLIC KEY` (PKCS#1) or `CERTIFICATE`
    /// PEM; for a certificate, its subject key. Only the first block is read.
    pub fn from_pem(pem: &[u8]) -> Result<Self, KeyError> {
        let block = decode_pem(pem)?;
        match block.label.as_str() {
            "PUBLIC KEY" => Self::from_spki_der(&block.contents),
            "CERTIFICATE" => Self::from_certificate_der(&block.contents),
            "RSA PUBLIC KEY" => {
                use rsa::pkcs1::DecodeRsaPublicKey;
                let key = rsa::RsaPublicKey::from_pkcs1_der(&block.contents)
                    .map_err(|e| KeyError::PublicKey(format!("PKCS#1 RSA public key: {e}")))?;
                check_rsa_size(rsa::traits::PublicKeyParts::size(&key) * 8)?;
                Self::from_inner(PublicInner::Rsa(key))
            }
            other => Err(KeyError::UnsupportedLabel {
                found: other.to_string(),
                expected: "PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE",
            }),
        }
    }

    /// Reads a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let info = spki::SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| KeyError::PublicKey(format!("not a SubjectPublicKeyInfo: {e}")))?;
        let bad = |e: spki::Error| KeyError::PublicKey(e.to_string());
        let inner = match info.algorithm.oid {
            ID_EC_PUBLIC_KEY => match ec_curve(info.algorithm.parameters_oid().ok())? {
                Curve::P256 => PublicInner::P256(
                    p256::ecdsa::VerifyingKey::from_public_key_der(der).map_err(bad)?,
                ),
                Curve::P384 => PublicInner::P384(
                    p384::ecdsa::VerifyingKey::from_public_key_der(der).map_err(bad)?,
                ),
            },
            ID_ED_25519 => PublicInner::Ed25519(
                ed25519_dalek::VerifyingKey::from_public_key_der(der).map_err(bad)?,
            ),
            RSA_ENCRYPTION => {
                let key = rsa::RsaPublicKey::from_public_key_der(der).map_err(bad)?;
                check_rsa_size(rsa::traits::PublicKeyParts::size(&key) * 8)?;
                PublicInner::Rsa(key)
            }
            other => return Err(KeyError::UnsupportedAlgorithm(other.to_string())),
        };
        Self::from_inner(inner)
    }

    /// Takes the subject public key of a DER X.509 certificate. The
    /// certificate itself is not validated here.
    pub fn from_certificate_der(der: &[u8]) -> Result<Self, KeyError> {
        let cert = x509_cert::Certificate::from_der(der)
            .map_err(|e| KeyError::Certificate(e.to_string()))?;
        let spki = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| KeyError::Certificate(format!("subject public key: {e}")))?;
        Self::from_spki_der(&spki)
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        match &self.inner {
            PublicInner::P256(_) => KeyAlgorithm::EcdsaP256,
            PublicInner::P384(_) => KeyAlgorithm::EcdsaP384,
            PublicInner::Ed25519(_) => KeyAlgorithm::Ed25519,
            PublicInner::Rsa(k) => KeyAlgorithm::Rsa {
                bits: rsa::traits::PublicKeyParts::size(k) * 8,
            },
        }
    }

    /// SubjectPublicKeyInfo DER.
    pub fn to_spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// PKIX `PUBLIC KEY` PEM, as `cosign generate-key-pair` writes `cosign.pub`.
    pub fn to_pem(&self) -> String {
        encode_pem("PUBLIC KEY", &self.spki).to_string()
    }

    /// Verifies `sig` over `msg` with the key's default scheme (see the module
    /// documentation). ECDSA signatures may be ASN.1 DER or fixed-size r‖s.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), VerifyError> {
        let hash = match &self.inner {
            PublicInner::P384(_) => HashAlgorithm::Sha384,
            _ => HashAlgorithm::Sha256,
        };
        self.verify_with(msg, sig, hash, RsaPadding::Pkcs1v15)
    }

    /// Verifies with an explicit digest and RSA padding. Ed25519 ignores both
    /// (pure Ed25519 hashes internally); ECDSA ignores the padding.
    pub fn verify_with(
        &self,
        msg: &[u8],
        sig: &[u8],
        hash: HashAlgorithm,
        padding: RsaPadding,
    ) -> Result<(), VerifyError> {
        match &self.inner {
            PublicInner::Ed25519(k) => {
                let algorithm = KeyAlgorithm::Ed25519;
                let sig = ed25519_dalek::Signature::from_slice(sig).map_err(|e| {
                    VerifyError::Malformed {
                        algorithm,
                        reason: e.to_string(),
                    }
                })?;
                k.verify(msg, &sig)
                    .map_err(|_| VerifyError::Invalid { algorithm })
            }
            _ => self.verify_digest(&hash.digest(msg), sig, hash, padding),
        }
    }

    /// Verifies a signature over an already computed digest (ECDSA, or RSA
    /// PKCS#1 v1.5 with the hash inferred from the digest length). Ed25519
    /// signs messages, not digests, so it is refused.
    pub fn verify_prehashed(&self, digest: &[u8], sig: &[u8]) -> Result<(), VerifyError> {
        let algorithm = self.algorithm();
        let hash =
            HashAlgorithm::from_digest_len(digest.len()).ok_or_else(|| VerifyError::Malformed {
                algorithm,
                reason: format!("a digest of {} bytes is not SHA-256/384/512", digest.len()),
            })?;
        self.verify_digest(digest, sig, hash, RsaPadding::Pkcs1v15)
    }

    fn verify_digest(
        &self,
        digest: &[u8],
        sig: &[u8],
        hash: HashAlgorithm,
        padding: RsaPadding,
    ) -> Result<(), VerifyError> {
        let algorithm = self.algorithm();
        let malformed = |reason: String| VerifyError::Malformed { algorithm, reason };
        let invalid = VerifyError::Invalid { algorithm };
        match &self.inner {
            PublicInner::P256(k) => {
                let sig = p256::ecdsa::Signature::from_der(sig)
                    .or_else(|_| p256::ecdsa::Signature::from_slice(sig))
                    .map_err(|_| {
                        malformed(format!(
                            "{} bytes are neither ASN.1 DER nor 64-byte r‖s",
                            sig.len()
                        ))
                    })?;
                k.verify_prehash(digest, &sig).map_err(|_| invalid)
            }
            PublicInner::P384(k) => {
                let sig = p384::ecdsa::Signature::from_der(sig)
                    .or_else(|_| p384::ecdsa::Signature::from_slice(sig))
                    .map_err(|_| {
                        malformed(format!(
                            "{} bytes are neither ASN.1 DER nor 96-byte r‖s",
                            sig.len()
                        ))
                    })?;
                k.verify_prehash(digest, &sig).map_err(|_| invalid)
            }
            PublicInner::Ed25519(_) => Err(VerifyError::Unsupported {
                algorithm,
                what: "verifying a precomputed digest (Ed25519ph)",
            }),
            PublicInner::Rsa(k) => {
                rsa_verify_prehash(k, digest, sig, hash, padding).map_err(|_| invalid)
            }
        }
    }
}

fn rsa_verify_prehash(
    key: &rsa::RsaPublicKey,
    digest: &[u8],
    sig: &[u8],
    hash: HashAlgorithm,
    padding: RsaPadding,
) -> Result<(), rsa::Error> {
    use rsa::traits::PublicKeyParts;
    match padding {
        RsaPadding::Pkcs1v15 => {
            let scheme = match hash {
                HashAlgorithm::Sha256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
                HashAlgorithm::Sha384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
                HashAlgorithm::Sha512 => rsa::Pkcs1v15Sign::new::<Sha512>(),
            };
            key.verify(scheme, digest, sig)
        }
        RsaPadding::Pss => {
            // Signers use either a salt as long as the hash (the common
            // choice) or the longest salt that fits (Go's default): try both.
            let hash_len = digest.len();
            let em_len = (key.n().bits() - 1).div_ceil(8);
            let max_salt = em_len.saturating_sub(hash_len + 2);
            let try_salt = |salt: usize| {
                let scheme = match hash {
                    HashAlgorithm::Sha256 => rsa::Pss::new_with_salt::<Sha256>(salt),
                    HashAlgorithm::Sha384 => rsa::Pss::new_with_salt::<Sha384>(salt),
                    HashAlgorithm::Sha512 => rsa::Pss::new_with_salt::<Sha512>(salt),
                };
                key.verify(scheme, digest, sig)
            };
            try_salt(hash_len).or_else(|_| try_salt(max_salt))
        }
    }
}

enum Curve {
    P256,
    P384,
}

fn ec_curve(params: Option<ObjectIdentifier>) -> Result<Curve, KeyError> {
    match params {
        Some(SECP_256_R_1) => Ok(Curve::P256),
        Some(SECP_384_R_1) => Ok(Curve::P384),
        Some(other) => Err(KeyError::UnsupportedAlgorithm(format!("EC curve {other}"))),
        None => Err(KeyError::UnsupportedAlgorithm(
            "EC key without a named curve".into(),
        )),
    }
}

// ---------------------------------------------------------------------------
// Private keys

enum PrivateInner {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
    Rsa(Box<rsa::RsaPrivateKey>),
}

/// A signing key. Its secret is wiped from memory on drop (the underlying
/// RustCrypto types zeroise themselves) and never printed.
pub struct PrivateKey {
    inner: PrivateInner,
    public: PublicKey,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("algorithm", &self.algorithm())
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The JSON inside an encrypted key PEM. Field order is the order cosign
/// (go-securesystemslib) writes.
#[derive(Serialize, Deserialize)]
struct EncryptedKeyJson {
    kdf: KdfJson,
    cipher: CipherJson,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct KdfJson {
    name: String,
    params: ScryptParamsJson,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct ScryptParamsJson {
    #[serde(rename = "N")]
    n: u64,
    r: u64,
    p: u64,
}

#[derive(Serialize, Deserialize)]
struct CipherJson {
    name: String,
    nonce: String,
}

fn scrypt_key(
    password: &[u8],
    salt: &[u8],
    log_n: u8,
    r: u32,
    p: u32,
) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let params = scrypt::Params::new(log_n, r, p, 32)
        .map_err(|e| KeyError::Encrypted(format!("invalid scrypt parameters: {e}")))?;
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password, salt, &params, key.as_mut())
        .map_err(|e| KeyError::Encrypted(format!("scrypt: {e}")))?;
    Ok(key)
}

fn b64_field(value: &str, field: &str) -> Result<Vec<u8>, KeyError> {
    B64.decode(value)
        .map_err(|e| KeyError::Encrypted(format!("field {field} is not valid base64: {e}")))
}

/// Opens cosign's encrypted box and returns the plaintext (normally PKCS#8).
fn decrypt_box(json: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let doc: EncryptedKeyJson =
        serde_json::from_slice(json).map_err(|e| KeyError::Encrypted(format!("bad JSON: {e}")))?;
    if doc.kdf.name != "scrypt" {
        return Err(KeyError::Encrypted(format!(
            "unsupported kdf \"{}\" (expected scrypt)",
            doc.kdf.name
        )));
    }
    if doc.cipher.name != "nacl/secretbox" {
        return Err(KeyError::Encrypted(format!(
            "unsupported cipher \"{}\" (expected nacl/secretbox)",
            doc.cipher.name
        )));
    }
    let ScryptParamsJson { n, r, p } = doc.kdf.params;
    if n < 2 || !n.is_power_of_two() || r == 0 || p == 0 {
        return Err(KeyError::Encrypted(format!(
            "invalid scrypt parameters N={n}, r={r}, p={p} (N must be a power of two > 1, r and p > 0)"
        )));
    }
    let too_expensive = n.trailing_zeros() > MAX_SCRYPT_LOG_N
        || n.checked_mul(r).is_none_or(|nr| nr > MAX_SCRYPT_N_R)
        || n.checked_mul(r)
            .and_then(|nr| nr.checked_mul(p))
            .is_none_or(|nrp| nrp > MAX_SCRYPT_N_R_P);
    if too_expensive {
        return Err(KeyError::KdfTooExpensive { n, r, p });
    }
    let salt = b64_field(&doc.kdf.salt, "kdf.salt")?;
    let nonce = b64_field(&doc.cipher.nonce, "cipher.nonce")?;
    if nonce.len() != NONCE_LEN {
        return Err(KeyError::Encrypted(format!(
            "cipher.nonce is {} bytes, expected {NONCE_LEN}",
            nonce.len()
        )));
    }
    let ciphertext = b64_field(&doc.ciphertext, "ciphertext")?;
    // The bounds above make these conversions lossless.
    let log_n = n.trailing_zeros() as u8;
    let (r, p) = (r as u32, p as u32);
    let key = scrypt_key(password, &salt, log_n, r, p)?;
    let cipher = XSalsa20Poly1305::new(key.as_ref().into());
    let plain = cipher
        .decrypt(
            crypto_secretbox::Nonce::from_slice(&nonce),
            ciphertext.as_slice(),
        )
        .map_err(|_| KeyError::WrongPassword)?;
    Ok(Zeroizing::new(plain))
}

impl PrivateKey {
    /// A fresh ECDSA P-256 key from the operating system's random source.
    pub fn generate_p256() -> Self {
        let sk = p256::ecdsa::SigningKey::random(&mut OsRng);
        let public = PublicKey {
            spki: p256_spki(sk.verifying_key()),
            inner: PublicInner::P256(*sk.verifying_key()),
        };
        PrivateKey {
            inner: PrivateInner::P256(sk),
            public,
        }
    }

    /// Reads a private key PEM: cosign's `ENCRYPTED SIGSTORE PRIVATE KEY` or
    /// `ENCRYPTED COSIGN PRIVATE KEY` (needs `password`, which may be empty),
    /// or a plain PKCS#8 `PRIVATE KEY` (the password is not used).
    pub fn from_pem(pem: &[u8], password: Option<&[u8]>) -> Result<Self, KeyError> {
        let block = decode_pem(pem)?;
        match block.label.as_str() {
            SIGSTORE_PRIVATE_KEY_LABEL | COSIGN_PRIVATE_KEY_LABEL => {
                let password = password.ok_or(KeyError::PasswordRequired)?;
                let der = decrypt_box(&block.contents, password)?;
                Self::from_pkcs8_der(&der)
            }
            "PRIVATE KEY" => Self::from_pkcs8_der(&block.contents),
            "EC PRIVATE KEY" => Err(KeyError::Sec1NotPkcs8),
            other => Err(KeyError::UnsupportedLabel {
                found: other.to_string(),
                expected: "ENCRYPTED SIGSTORE PRIVATE KEY, ENCRYPTED COSIGN PRIVATE KEY or PRIVATE KEY",
            }),
        }
    }

    /// Reads PKCS#8 DER (v1, or v2 with the public key embedded, which must
    /// then match the private key).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let info = match pkcs8::PrivateKeyInfo::try_from(der) {
            Ok(info) => info,
            Err(e) => {
                // cosign gives an opaque x509 error for SEC1 keys; name it.
                if p256::SecretKey::from_sec1_der(der).is_ok()
                    || p384::SecretKey::from_sec1_der(der).is_ok()
                {
                    return Err(KeyError::Sec1NotPkcs8);
                }
                return Err(KeyError::PrivateKey(e.to_string()));
            }
        };
        let bad = |e: pkcs8::Error| KeyError::PrivateKey(e.to_string());
        let inner = match info.algorithm.oid {
            ID_EC_PUBLIC_KEY => match ec_curve(info.algorithm.parameters_oid().ok())? {
                Curve::P256 => {
                    PrivateInner::P256(p256::ecdsa::SigningKey::from_pkcs8_der(der).map_err(bad)?)
                }
                Curve::P384 => {
                    PrivateInner::P384(p384::ecdsa::SigningKey::from_pkcs8_der(der).map_err(bad)?)
                }
            },
            ID_ED_25519 => {
                PrivateInner::Ed25519(ed25519_dalek::SigningKey::from_pkcs8_der(der).map_err(bad)?)
            }
            RSA_ENCRYPTION => {
                let key = rsa::RsaPrivateKey::from_pkcs8_der(der).map_err(bad)?;
                check_rsa_size(rsa::traits::PublicKeyParts::size(&key) * 8)?;
                PrivateInner::Rsa(Box::new(key))
            }
            other => return Err(KeyError::UnsupportedAlgorithm(other.to_string())),
        };
        let public = PublicKey::from_inner(match &inner {
            PrivateInner::P256(k) => PublicInner::P256(*k.verifying_key()),
            PrivateInner::P384(k) => PublicInner::P384(*k.verifying_key()),
            PrivateInner::Ed25519(k) => PublicInner::Ed25519(k.verifying_key()),
            PrivateInner::Rsa(k) => PublicInner::Rsa(k.to_public_key()),
        })?;
        Ok(PrivateKey { inner, public })
    }

    /// PKCS#8 DER of the key (secret; wiped on drop).
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let doc = match &self.inner {
            PrivateInner::P256(k) => k.to_pkcs8_der(),
            PrivateInner::P384(k) => k.to_pkcs8_der(),
            PrivateInner::Ed25519(k) => k.to_pkcs8_der(),
            PrivateInner::Rsa(k) => k.to_pkcs8_der(),
        }
        .map_err(|e| KeyError::PrivateKey(format!("cannot encode: {e}")))?;
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }

    /// Encrypts the key the way `cosign generate-key-pair` does: PKCS#8 DER
    /// sealed with scrypt (N=65536, r=8, p=1, 32-byte salt) and NaCl
    /// secretbox, in an `ENCRYPTED SIGSTORE PRIVATE KEY` PEM.
    pub fn to_encrypted_pem(&self, password: &[u8]) -> Result<Zeroizing<String>, KeyError> {
        let der = self.to_pkcs8_der()?;
        let mut salt = [0u8; SALT_LEN];
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut salt);
        OsRng.fill_bytes(&mut nonce);
        let key = scrypt_key(
            password,
            &salt,
            WRITE_SCRYPT_LOG_N,
            WRITE_SCRYPT_R,
            WRITE_SCRYPT_P,
        )?;
        let cipher = XSalsa20Poly1305::new(key.as_ref().into());
        let ciphertext = cipher
            .encrypt(crypto_secretbox::Nonce::from_slice(&nonce), der.as_slice())
            .map_err(|_| KeyError::Encrypted("secretbox encryption failed".into()))?;
        let doc = EncryptedKeyJson {
            kdf: KdfJson {
                name: "scrypt".into(),
                params: ScryptParamsJson {
                    n: 1 << WRITE_SCRYPT_LOG_N,
                    r: u64::from(WRITE_SCRYPT_R),
                    p: u64::from(WRITE_SCRYPT_P),
                },
                salt: B64.encode(salt),
            },
            cipher: CipherJson {
                name: "nacl/secretbox".into(),
                nonce: B64.encode(nonce),
            },
            ciphertext: B64.encode(ciphertext),
        };
        let json =
            serde_json::to_vec(&doc).map_err(|e| KeyError::Encrypted(format!("JSON: {e}")))?;
        Ok(encode_pem(SIGSTORE_PRIVATE_KEY_LABEL, &json))
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        self.public.algorithm()
    }

    pub fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    /// Signs `msg` with the key's default scheme: ECDSA (SHA-256 for P-256,
    /// SHA-384 for P-384) as ASN.1 DER like cosign, RSA PKCS#1 v1.5 SHA-256,
    /// or pure Ed25519 (64 raw bytes).
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.inner {
            PrivateInner::P256(k) => {
                let sig: p256::ecdsa::Signature =
                    k.try_sign(msg).map_err(|e| KeyError::Sign(e.to_string()))?;
                Ok(sig.to_der().to_vec())
            }
            PrivateInner::P384(k) => {
                let sig: p384::ecdsa::Signature =
                    k.try_sign(msg).map_err(|e| KeyError::Sign(e.to_string()))?;
                Ok(sig.to_der().to_vec())
            }
            PrivateInner::Ed25519(k) => Ok(k.sign(msg).to_bytes().to_vec()),
            PrivateInner::Rsa(k) => {
                // The signing key is a copy of the secret; it zeroises on drop.
                let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(k.as_ref().clone());
                let sig = signer
                    .try_sign_with_rng(&mut OsRng, msg)
                    .map_err(|e| KeyError::Sign(e.to_string()))?;
                Ok(sig.to_vec())
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip_and_garbage() {
        let pem = encode_pem("PUBLIC KEY", &[1, 2, 3]);
        let block = decode_pem(format!("leading text\n{}", pem.as_str()).as_bytes()).unwrap();
        assert_eq!(block.label, "PUBLIC KEY");
        assert_eq!(block.contents.as_slice(), &[1, 2, 3]);
        assert!(decode_pem(b"").is_err());
        assert!(decode_pem(b"-----BEGIN X-----\nAQID\n").is_err());
        assert!(decode_pem(b"-----BEGIN X-----\nAQID\n-----END Y-----\n").is_err());
        assert!(
            decode_pem(b"-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\n\nAQID\n-----END X-----\n")
                .is_err()
        );
        assert!(decode_pem(b"-----BEGIN X-----\n!!!!\n-----END X-----\n").is_err());
        assert!(decode_pem(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn encode_pem_wraps_at_64() {
        let pem = encode_pem("K", &[0u8; 100]);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines.len(), 5);
    }

    #[test]
    fn p256_spki_prefix_matches_the_encoder() {
        let key = PrivateKey::generate_p256();
        let PrivateInner::P256(sk) = &key.inner else {
            unreachable!()
        };
        assert_eq!(
            p256_spki(sk.verifying_key()),
            spki_der(sk.verifying_key()).unwrap()
        );
    }

    #[test]
    fn debug_redacts_the_secret() {
        let key = PrivateKey::generate_p256();
        let der = key.to_pkcs8_der().unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains("redacted"), "{shown}");
        assert!(!shown.contains(&hex::encode(&der[der.len() - 65..])));
    }

    #[test]
    fn sign_verify_raw_and_der_ecdsa() {
        let key = PrivateKey::generate_p256();
        let sig = key.sign(b"hello").unwrap();
        let public = key.public_key();
        public.verify(b"hello", &sig).unwrap();
        let raw = p256::ecdsa::Signature::from_der(&sig).unwrap().to_bytes();
        public.verify(b"hello", &raw).unwrap();
        public
            .verify_prehashed(&Sha256::digest(b"hello"), &sig)
            .unwrap();
        assert!(matches!(
            public.verify(b"hellO", &sig),
            Err(VerifyError::Invalid { .. })
        ));
        assert!(matches!(
            public.verify(b"hello", &sig[..10]),
            Err(VerifyError::Malformed { .. })
        ));
        assert!(
            public
                .verify_with(b"hello", &sig, HashAlgorithm::Sha384, RsaPadding::Pkcs1v15)
                .is_err()
        );
    }
}
