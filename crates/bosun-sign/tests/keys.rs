//! Keys against the real cosign / sigstore-rs / policy-controller key files,
//! openssl and an independent Python implementation (PyNaCl + cryptography).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bosun_sign::keys::{
    self, HashAlgorithm, KeyAlgorithm, KeyError, PrivateKey, PublicKey, RsaPadding, VerifyError,
};
use sha2::{Digest, Sha256};

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Runs an external tool; None (skip) when it is not installed, except under
/// CI where the tools must be there.
fn run(program: &str, args: &[&str], stdin: &[u8]) -> Option<std::process::Output> {
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if !under_ci() => {
            eprintln!("SKIPPED: cannot run {program}: {e}");
            return None;
        }
        Err(e) => panic!("cannot run {program} (CI=true: never skipped): {e}"),
    };
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    Some(child.wait_with_output().unwrap())
}

/// Runs a Python script; None when python3 or its `nacl`/`cryptography`
/// modules are missing (outside CI).
fn python(script: &str, args: &[&str]) -> Option<String> {
    let probe = run("python3", &["-c", "import nacl.secret, cryptography"], b"")?;
    if !probe.status.success() {
        assert!(
            !under_ci(),
            "python modules nacl/cryptography missing (CI=true): pip install pynacl cryptography"
        );
        eprintln!("SKIPPED: python modules nacl/cryptography missing");
        return None;
    }
    let mut all = vec!["-c", script];
    all.extend_from_slice(args);
    let out = run("python3", &all, b"")?;
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

/// DER of a single-block PEM file, decoded here rather than by bosun.
fn pem_der(path: &Path) -> Vec<u8> {
    let text = std::fs::read_to_string(path).unwrap();
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    B64.decode(body).unwrap()
}

fn interop(rel: &str) -> Option<std::path::PathBuf> {
    bosun_testutil::shared(&format!("interop/{rel}"))
}

#[test]
fn every_interop_key_loads_and_matches_its_public_key() {
    // (key file, password, public key file, algorithm)
    let cases = [
        (
            "sigstore-rs/cosign_generated_encrypted_empty_private.key",
            "",
            "sigstore-rs/cosign_generated_encrypted_empty_private.DERIVED.pub",
            KeyAlgorithm::EcdsaP256,
        ),
        (
            "sigstore-rs/ecdsa_encrypted_private.key",
            "123",
            "sigstore-rs/ecdsa_encrypted_private.DERIVED.pub",
            KeyAlgorithm::EcdsaP256,
        ),
        (
            "sigstore-rs/rsa_encrypted_private.key",
            "123",
            "sigstore-rs/rsa_encrypted_private.DERIVED.pub",
            KeyAlgorithm::Rsa { bits: 4096 },
        ),
        (
            "policy-controller/cosign.key",
            "",
            "policy-controller/cosign.pub",
            KeyAlgorithm::EcdsaP256,
        ),
        (
            "cosign/sigstore_labeled_pw-hello.key",
            "hello",
            "cosign/sigstore_labeled_pw-hello.DERIVED.pub",
            KeyAlgorithm::EcdsaP256,
        ),
        (
            "cosign/cosign_labeled_rsa_pw-hello.key",
            "hello",
            "cosign/cosign_labeled_rsa_pw-hello.DERIVED.pub",
            KeyAlgorithm::EcdsaP256,
        ),
    ];
    for (key_file, password, pub_file, algorithm) in cases {
        let Some(key_path) = interop(&format!("keys/{key_file}")) else {
            return;
        };
        let Some(pub_path) = interop(&format!("keys/{pub_file}")) else {
            return;
        };
        let key = PrivateKey::from_pem(
            &std::fs::read(&key_path).unwrap(),
            Some(password.as_bytes()),
        )
        .unwrap_or_else(|e| panic!("{key_file}: {e}"));
        assert_eq!(key.algorithm(), algorithm, "{key_file}");
        assert_eq!(
            key.public_key().to_spki_der(),
            pem_der(&pub_path).as_slice(),
            "{key_file}"
        );
        // The key signs, and the file's public key verifies it.
        let expected = PublicKey::from_pem(&std::fs::read(&pub_path).unwrap()).unwrap();
        let sig = key.sign(b"payload").unwrap();
        expected
            .verify(b"payload", &sig)
            .unwrap_or_else(|e| panic!("{key_file}: {e}"));
    }
}

#[test]
fn cosign_generated_key_has_the_documented_fingerprint() {
    let Some(p) = interop("keys/sigstore-rs/cosign_generated_encrypted_empty_private.DERIVED.pub")
    else {
        return;
    };
    let public = PublicKey::from_pem(&std::fs::read(p).unwrap()).unwrap();
    assert!(hex::encode(Sha256::digest(public.to_spki_der())).starts_with("0d8cd679"));
}

#[test]
fn public_key_pem_is_written_like_cosign() {
    let Some(p) = interop("keys/policy-controller/cosign.pub") else {
        return;
    };
    let upstream = std::fs::read_to_string(p).unwrap();
    assert_eq!(
        PublicKey::from_pem(upstream.as_bytes()).unwrap().to_pem(),
        upstream
    );
}

/// sigstore-rs wrote a PKCS#8 v2 key (version 1, public key embedded in
/// `[1]`); pyca/cryptography refuses it. bosun accepts it because the
/// embedded public key is checked against the private key.
#[test]
fn ed25519_pkcs8_v2_with_embedded_public_key_is_accepted() {
    let Some(p) = interop("keys/sigstore-rs/ed25519_encrypted_private.key") else {
        return;
    };
    let key = PrivateKey::from_pem(&std::fs::read(p).unwrap(), Some(b"123")).unwrap();
    assert_eq!(key.algorithm(), KeyAlgorithm::Ed25519);
    // The embedded key, read from the decrypted DER with `openssl asn1parse`.
    let embedded = "d303f1e483d81713a0c971a151484798b1f14f2bd28a5e198463e2fd0e9e28ed";
    assert!(hex::encode(key.public_key().to_spki_der()).ends_with(embedded));
    let sig = key.sign(b"m").unwrap();
    assert_eq!(sig.len(), 64);
    key.public_key().verify(b"m", &sig).unwrap();
    assert!(matches!(
        key.public_key()
            .verify_prehashed(&Sha256::digest(b"m"), &sig),
        Err(VerifyError::Unsupported { .. })
    ));
}

#[test]
fn sec1_plaintext_in_the_box_is_refused_like_cosign() {
    let Some(p) = interop("keys/cosign/cosign_labeled_ec_sec1_pw-hello.key") else {
        return;
    };
    let err = PrivateKey::from_pem(&std::fs::read(p).unwrap(), Some(b"hello")).unwrap_err();
    assert!(matches!(err, KeyError::Sec1NotPkcs8), "{err}");
    assert!(err.to_string().contains("not PKCS#8"), "{err}");
}

#[test]
fn wrong_or_missing_password_fails_clearly() {
    let Some(p) = interop("keys/cosign/sigstore_labeled_pw-hello.key") else {
        return;
    };
    let pem = std::fs::read(p).unwrap();
    let err = PrivateKey::from_pem(&pem, Some(b"wrong")).unwrap_err();
    assert!(matches!(err, KeyError::WrongPassword));
    assert!(err.to_string().contains("wrong password or damaged key"));
    assert!(matches!(
        PrivateKey::from_pem(&pem, None),
        Err(KeyError::PasswordRequired)
    ));
}

/// Re-encodes a fixture key's JSON after `edit`, for hostile variants.
fn mutated(edit: impl FnOnce(&mut serde_json::Value)) -> Option<Vec<u8>> {
    let p = interop("keys/cosign/sigstore_labeled_pw-hello.key")?;
    let mut json: serde_json::Value = serde_json::from_slice(&pem_der(&p)).unwrap();
    edit(&mut json);
    Some(
        keys::encode_pem(
            keys::SIGSTORE_PRIVATE_KEY_LABEL,
            &serde_json::to_vec(&json).unwrap(),
        )
        .as_bytes()
        .to_vec(),
    )
}

#[test]
fn hostile_key_files_fail_without_panic_or_cost() {
    let Some(p) = interop("keys/cosign/sigstore_labeled_pw-hello.key") else {
        return;
    };
    let pem = std::fs::read_to_string(p).unwrap();
    let start = std::time::Instant::now();
    let pw = Some(&b"hello"[..]);

    let truncated = &pem[..pem.len() / 2];
    assert!(matches!(
        PrivateKey::from_pem(truncated.as_bytes(), pw),
        Err(KeyError::Pem(_))
    ));
    let bad_b64 = pem.replacen("eyJ", "e!J", 1);
    assert!(matches!(
        PrivateKey::from_pem(bad_b64.as_bytes(), pw),
        Err(KeyError::Pem(_))
    ));
    let wrong_label = pem.replace("SIGSTORE", "FOO");
    assert!(matches!(
        PrivateKey::from_pem(wrong_label.as_bytes(), pw),
        Err(KeyError::UnsupportedLabel { .. })
    ));
    assert!(PrivateKey::from_pem(b"", pw).is_err());
    assert!(PrivateKey::from_pem(&vec![b'A'; 2 << 20], pw).is_err());

    let giant_n = mutated(|j| j["kdf"]["params"]["N"] = (1u64 << 40).into()).unwrap();
    assert!(matches!(
        PrivateKey::from_pem(&giant_n, pw),
        Err(KeyError::KdfTooExpensive { .. })
    ));
    let huge_rp = mutated(|j| {
        j["kdf"]["params"]["r"] = 1_000_000.into();
        j["kdf"]["params"]["p"] = 1_000_000.into();
    })
    .unwrap();
    assert!(matches!(
        PrivateKey::from_pem(&huge_rp, pw),
        Err(KeyError::KdfTooExpensive { .. })
    ));
    let overflow = mutated(|j| j["kdf"]["params"]["r"] = u64::MAX.into()).unwrap();
    assert!(matches!(
        PrivateKey::from_pem(&overflow, pw),
        Err(KeyError::KdfTooExpensive { .. })
    ));
    for bad in [0u64, 1, 3, 1000] {
        let not_pow2 = mutated(|j| j["kdf"]["params"]["N"] = bad.into()).unwrap();
        assert!(
            matches!(
                PrivateKey::from_pem(&not_pow2, pw),
                Err(KeyError::Encrypted(_))
            ),
            "N={bad}"
        );
    }
    let negative = mutated(|j| j["kdf"]["params"]["N"] = (-1).into()).unwrap();
    assert!(matches!(
        PrivateKey::from_pem(&negative, pw),
        Err(KeyError::Encrypted(_))
    ));
    for field in ["ciphertext", "kdf", "cipher"] {
        let missing = mutated(|j| {
            j.as_object_mut().unwrap().remove(field);
        })
        .unwrap();
        let err = PrivateKey::from_pem(&missing, pw).unwrap_err();
        assert!(err.to_string().contains(field), "{field}: {err}");
    }
    let no_salt = mutated(|j| {
        j["kdf"].as_object_mut().unwrap().remove("salt");
    })
    .unwrap();
    assert!(
        PrivateKey::from_pem(&no_salt, pw)
            .unwrap_err()
            .to_string()
            .contains("salt")
    );
    let short_nonce = mutated(|j| j["cipher"]["nonce"] = "AAAA".into()).unwrap();
    assert!(
        PrivateKey::from_pem(&short_nonce, pw)
            .unwrap_err()
            .to_string()
            .contains("nonce")
    );
    let bad_kdf = mutated(|j| j["kdf"]["name"] = "pbkdf2".into()).unwrap();
    assert!(
        PrivateKey::from_pem(&bad_kdf, pw)
            .unwrap_err()
            .to_string()
            .contains("pbkdf2")
    );
    let bad_cipher = mutated(|j| j["cipher"]["name"] = "aes-gcm".into()).unwrap();
    assert!(
        PrivateKey::from_pem(&bad_cipher, pw)
            .unwrap_err()
            .to_string()
            .contains("aes-gcm")
    );
    let bad_ct = mutated(|j| j["ciphertext"] = "%%%".into()).unwrap();
    assert!(
        PrivateKey::from_pem(&bad_ct, pw)
            .unwrap_err()
            .to_string()
            .contains("ciphertext")
    );
    let not_json = keys::encode_pem(keys::SIGSTORE_PRIVATE_KEY_LABEL, b"{\"kdf\":");
    assert!(matches!(
        PrivateKey::from_pem(not_json.as_bytes(), pw),
        Err(KeyError::Encrypted(_))
    ));
    // None of these may have run scrypt with the hostile parameters.
    assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());

    // A plain PRIVATE KEY that is not PKCS#8, and garbage public keys.
    let junk = keys::encode_pem("PRIVATE KEY", &[0x30, 0x03, 0x02, 0x01, 0x00]);
    assert!(matches!(
        PrivateKey::from_pem(junk.as_bytes(), None),
        Err(KeyError::PrivateKey(_))
    ));
    assert!(PublicKey::from_pem(keys::encode_pem("PUBLIC KEY", &[0x30, 0x00]).as_bytes()).is_err());
    assert!(
        PublicKey::from_pem(keys::encode_pem("CERTIFICATE", &[0x30, 0x80]).as_bytes()).is_err()
    );
    assert!(matches!(
        PublicKey::from_pem(pem.as_bytes()),
        Err(KeyError::UnsupportedLabel { .. })
    ));
}

/// Round trip through cosign's format, then an independent implementation
/// (Python hashlib.scrypt + PyNaCl SecretBox + pyca/cryptography) decrypts
/// the key bosun wrote and verifies a bosun signature.
#[test]
fn generated_key_round_trips_and_decrypts_with_python() {
    let key = PrivateKey::generate_p256();
    let pem = key.to_encrypted_pem(b"bosun pw").unwrap();
    let der = pem_der_str(&pem);
    let json = String::from_utf8(der).unwrap();
    assert!(
        json.starts_with(r#"{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":""#),
        "{json}"
    );
    assert!(
        json.contains(r#""},"cipher":{"name":"nacl/secretbox","nonce":""#),
        "{json}"
    );
    let loaded = PrivateKey::from_pem(pem.as_bytes(), Some(b"bosun pw")).unwrap();
    assert_eq!(loaded.public_key(), key.public_key());
    assert_eq!(
        *loaded.to_pkcs8_der().unwrap(),
        *key.to_pkcs8_der().unwrap()
    );

    let msg = b"signed by bosun";
    let sig = key.sign(msg).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("bosun.key");
    std::fs::write(&key_path, pem.as_bytes()).unwrap();
    let script = r#"
import base64, hashlib, json, sys
import nacl.secret
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
text = open(sys.argv[1]).read()
lines = text.strip().splitlines()
assert lines[0] == "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----", lines[0]
assert lines[-1] == "-----END ENCRYPTED SIGSTORE PRIVATE KEY-----", lines[-1]
doc = json.loads(base64.b64decode("".join(lines[1:-1])))
kdf, params = doc["kdf"], doc["kdf"]["params"]
assert kdf["name"] == "scrypt" and doc["cipher"]["name"] == "nacl/secretbox"
salt, nonce = base64.b64decode(kdf["salt"]), base64.b64decode(doc["cipher"]["nonce"])
assert len(salt) == 32 and len(nonce) == 24
key = hashlib.scrypt(sys.argv[2].encode(), salt=salt, n=params["N"], r=params["r"], p=params["p"], dklen=32, maxmem=256 << 20)
der = nacl.secret.SecretBox(key).decrypt(base64.b64decode(doc["ciphertext"]), nonce)
priv = serialization.load_der_private_key(der, password=None)
assert isinstance(priv.curve, ec.SECP256R1)
pub = priv.public_key()
pub.verify(bytes.fromhex(sys.argv[4]), bytes.fromhex(sys.argv[3]), ec.ECDSA(hashes.SHA256()))
print(pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo).hex())
"#;
    let Some(out) = python(
        script,
        &[
            key_path.to_str().unwrap(),
            "bosun pw",
            &hex::encode(msg),
            &hex::encode(&sig),
        ],
    ) else {
        return;
    };
    assert_eq!(out.trim(), hex::encode(key.public_key().to_spki_der()));
}

fn pem_der_str(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    B64.decode(body).unwrap()
}

/// Plain PKCS#8 keys from openssl (P-384 here): the public key matches
/// openssl's, and openssl verifies bosun's SHA-384 signature.
#[test]
fn openssl_p384_pkcs8_key_signs_and_verifies_with_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("k.pem");
    let k = key_path.to_str().unwrap();
    let Some(out) = run(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-out",
            k,
        ],
        b"",
    ) else {
        return;
    };
    assert!(out.status.success());
    let pub_der = run(
        "openssl",
        &["pkey", "-in", k, "-pubout", "-outform", "DER"],
        b"",
    )
    .unwrap()
    .stdout;
    let key = PrivateKey::from_pem(&std::fs::read(&key_path).unwrap(), None).unwrap();
    assert_eq!(key.algorithm(), KeyAlgorithm::EcdsaP384);
    assert_eq!(key.public_key().to_spki_der(), pub_der.as_slice());
    let sig = key.sign(b"hello").unwrap();
    let (sig_path, pub_path) = (dir.path().join("sig"), dir.path().join("pub.pem"));
    std::fs::write(&sig_path, &sig).unwrap();
    std::fs::write(&pub_path, key.public_key().to_pem()).unwrap();
    let verified = run(
        "openssl",
        &[
            "dgst",
            "-sha384",
            "-verify",
            pub_path.to_str().unwrap(),
            "-signature",
            sig_path.to_str().unwrap(),
        ],
        b"hello",
    )
    .unwrap();
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
}

/// RSA signatures made by openssl: PKCS#1 v1.5 and PSS with both salt
/// lengths signers use, over SHA-256 and SHA-512.
#[test]
fn openssl_rsa_signatures_verify() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("rsa.pem");
    let k = key_path.to_str().unwrap();
    let Some(out) = run(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            k,
        ],
        b"",
    ) else {
        return;
    };
    assert!(out.status.success());
    let pub_pem = run("openssl", &["pkey", "-in", k, "-pubout"], b"")
        .unwrap()
        .stdout;
    let public = PublicKey::from_pem(&pub_pem).unwrap();
    assert_eq!(public.algorithm(), KeyAlgorithm::Rsa { bits: 2048 });
    let sign = |digest: &str, opts: &[&str]| {
        let mut args = vec!["dgst", digest, "-sign", k];
        for o in opts {
            args.extend(["-sigopt", o]);
        }
        let out = run("openssl", &args, b"message").unwrap();
        assert!(out.status.success());
        out.stdout
    };
    let pkcs1 = sign("-sha256", &[]);
    public.verify(b"message", &pkcs1).unwrap();
    public
        .verify_prehashed(&Sha256::digest(b"message"), &pkcs1)
        .unwrap();
    assert!(public.verify(b"other", &pkcs1).is_err());
    for salt in ["rsa_pss_saltlen:digest", "rsa_pss_saltlen:max"] {
        for (flag, hash) in [
            ("-sha256", HashAlgorithm::Sha256),
            ("-sha512", HashAlgorithm::Sha512),
        ] {
            let pss = sign(flag, &["rsa_padding_mode:pss", salt]);
            public
                .verify_with(b"message", &pss, hash, RsaPadding::Pss)
                .unwrap_or_else(|e| panic!("{salt} {flag}: {e}"));
            assert!(
                public
                    .verify_with(b"message", &pss, hash, RsaPadding::Pkcs1v15)
                    .is_err()
            );
        }
    }
    // The private key loads too, and its PKCS#1 v1.5 signature verifies with openssl's public key.
    let key = PrivateKey::from_pem(&std::fs::read(&key_path).unwrap(), None).unwrap();
    public.verify(b"m", &key.sign(b"m").unwrap()).unwrap();
}

/// A certificate PEM gives its subject key: the cosign keyless fixture's
/// certificate verifies that signature's payload.
#[test]
fn certificate_pem_yields_its_key() {
    let dir = "cosign-simple-signing/containers-image/dir-img-cosign-fulcio-rekor-valid";
    let Some(cert) = interop(&format!("{dir}/signature-1.cert.pem")) else {
        return;
    };
    let public = PublicKey::from_pem(&std::fs::read(cert).unwrap()).unwrap();
    assert_eq!(public.algorithm(), KeyAlgorithm::EcdsaP256);
    let payload =
        std::fs::read(interop(&format!("{dir}/signature-1.payload.json")).unwrap()).unwrap();
    let sig = std::fs::read(interop(&format!("{dir}/signature-1.signature.der")).unwrap()).unwrap();
    public.verify(&payload, &sig).unwrap();
}

/// Ed25519 signatures from an independent implementation.
#[test]
fn python_ed25519_signature_verifies() {
    let script = r#"
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
k = ed25519.Ed25519PrivateKey.generate()
print(k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode().replace("\n", "|"))
print(k.sign(b"ed message").hex())
"#;
    let Some(out) = python(script, &[]) else {
        return;
    };
    let mut lines = out.lines();
    let public = PublicKey::from_pem(lines.next().unwrap().replace('|', "\n").as_bytes()).unwrap();
    let sig = hex::decode(lines.next().unwrap()).unwrap();
    assert_eq!(public.algorithm(), KeyAlgorithm::Ed25519);
    public.verify(b"ed message", &sig).unwrap();
    assert!(matches!(
        public.verify(b"ed messagE", &sig),
        Err(VerifyError::Invalid { .. })
    ));
}

#[test]
fn plain_pkcs8_pem_loads_without_password() {
    let key = PrivateKey::generate_p256();
    let pem = keys::encode_pem("PRIVATE KEY", &key.to_pkcs8_der().unwrap());
    let loaded = PrivateKey::from_pem(pem.as_bytes(), None).unwrap();
    assert_eq!(loaded.public_key(), key.public_key());
}
