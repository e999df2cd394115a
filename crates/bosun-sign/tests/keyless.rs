//! Keyless and Rekor-bundle checks of cosign image signatures, with the
//! real cosign signatures of containers/image's test data
//! (../shared/interop/cosign-simple-signing/README.md gives the result each
//! must give) and the Sigstore public-good trusted root.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use bosun_sign::keyless::{
    self, CertificateChain, CertificatePolicy, KeylessError, RekorBundle, SigstoreRoot, Trust,
};
use bosun_sign::keys::PublicKey;
use bosun_sign::oci::{KeyVerifier, KeylessVerifier, Layer, Verifier};
use bosun_sign::sigstore::{StringMatch, VerifyError};
use bosun_sign::simple::{
    self, BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, SIGNATURE_ANNOTATION,
    SIMPLE_SIGNING_MEDIA_TYPE,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

const FULCIO: &str = "dir-img-cosign-fulcio-rekor-valid";
const KEY_REKOR: &str = "dir-img-cosign-key-rekor-valid";
const PKI: &str = "dir-img-cosign-pki-valid";
const SAN: &str = "mitr@redhat.com";
const ISSUER: &str = "https://github.com/login/oauth";
/// The Rekor integrated time of the Fulcio fixture's entry.
const FULCIO_TIME: i64 = 1_674_247_893;
/// A time inside the PKI fixture's certificates' validity (2024..2052).
const PKI_NOW: i64 = 1_750_000_000;

fn dir() -> Option<PathBuf> {
    bosun_testutil::shared("interop/cosign-simple-signing/containers-image")
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(dir().unwrap().join(rel)).unwrap()
}

/// A fixture's signature layer as cosign pushed it.
fn layer(img: &str) -> Layer {
    let annotations: BTreeMap<String, String> =
        serde_json::from_slice(&read(&format!("{img}/signature-1.annotations.json"))).unwrap();
    Layer {
        media_type: SIMPLE_SIGNING_MEDIA_TYPE.into(),
        blob: read(&format!("{img}/signature-1.payload.json")),
        annotations,
    }
}

fn with(mut l: Layer, key: &str, value: Option<String>) -> Layer {
    match value {
        Some(v) => l.annotations.insert(key.into(), v),
        None => l.annotations.remove(key),
    };
    l
}

fn root_json() -> Vec<u8> {
    std::fs::read(
        bosun_testutil::shared("interop/trust-roots/public-good/trusted_root.json").unwrap(),
    )
    .unwrap()
}

fn public_good() -> SigstoreRoot {
    SigstoreRoot::from_json(&root_json()).unwrap()
}

fn edited_root(edit: impl FnOnce(&mut Value)) -> SigstoreRoot {
    let mut v: Value = serde_json::from_slice(&root_json()).unwrap();
    edit(&mut v);
    SigstoreRoot::from_json(v.to_string().as_bytes()).unwrap()
}

fn regex_like(suffix: &'static str) -> StringMatch {
    StringMatch::Matches {
        pattern: format!("{suffix}$"),
        matcher: Arc::new(move |s| s.ends_with(suffix)),
    }
}

fn sigstore(root: SigstoreRoot, san: &str, issuer: &str) -> CertificatePolicy {
    CertificatePolicy {
        trust: Trust::Sigstore(root),
        san: StringMatch::Exact(san.into()),
        issuer: Some(StringMatch::Exact(issuer.into())),
    }
}

fn pki_chain(files: &[&str]) -> CertificateChain {
    let pem: Vec<u8> = files.iter().flat_map(|f| read(f)).collect();
    CertificateChain::from_pem(&pem).unwrap()
}

fn pki(chain: CertificateChain, san: &str) -> CertificatePolicy {
    CertificatePolicy {
        trust: Trust::Chain(chain),
        san: StringMatch::Exact(san.into()),
        issuer: None,
    }
}

/// The Simple Signing checks the caller makes with the returned key.
fn simple_checks(img: &str, l: &Layer, key: &PublicKey) -> simple::Payload {
    let digest = format!(
        "sha256:{}",
        hex::encode(Sha256::digest(read(&format!("{img}/manifest.json"))))
    );
    let sig: String = l.annotations[SIGNATURE_ANNOTATION]
        .chars()
        .filter(|c| *c != '\n')
        .collect();
    simple::verify_signature_layer(&l.blob, &sig, key, &digest, &BTreeMap::new()).unwrap()
}

fn fulcio_err(l: &Layer, policy: &CertificatePolicy) -> String {
    keyless::verify_certificate_layer(l, policy, 0)
        .unwrap_err()
        .to_string()
}

#[test]
fn fulcio_signature_verifies_with_its_identity() {
    if dir().is_none() {
        return;
    }
    let l = layer(FULCIO);
    let v =
        keyless::verify_certificate_layer(&l, &sigstore(public_good(), SAN, ISSUER), 0).unwrap();
    assert_eq!(v.integrated_time, Some(FULCIO_TIME));
    assert_eq!(v.identity.sans, vec![SAN.to_string()]);
    assert_eq!(v.identity.issuer.as_deref(), Some(ISSUER));
    let payload = simple_checks(FULCIO, &l, &v.key);
    assert_eq!(
        payload.docker_reference,
        "192.168.64.2:5000/cosign-signed/fulcio-rekor-1"
    );
    // Patterns match too, and the built-in public-good root is the same trust.
    let policy = CertificatePolicy {
        trust: Trust::Sigstore(
            SigstoreRoot::from_json(bosun_sign::sigstore::PUBLIC_GOOD_TRUSTED_ROOT).unwrap(),
        ),
        san: regex_like("@redhat.com"),
        issuer: Some(regex_like("github.com/login/oauth")),
    };
    assert!(keyless::verify_certificate_layer(&l, &policy, 0).is_ok());
    // Through the Verifier trait, as verify_signatures uses it.
    let verifier = KeylessVerifier::new(sigstore(public_good(), SAN, ISSUER));
    assert_eq!(verifier.key_for(&l).unwrap(), v.key);
}

#[test]
fn wrong_identity_or_issuer_fails_naming_the_check() {
    if dir().is_none() {
        return;
    }
    let l = layer(FULCIO);
    let e = fulcio_err(&l, &sigstore(public_good(), "someone@example.com", ISSUER));
    assert!(
        e.starts_with("identity: certificate names [\"mitr@redhat.com\"]"),
        "{e}"
    );
    let e = fulcio_err(
        &l,
        &sigstore(public_good(), SAN, "https://accounts.google.com"),
    );
    assert!(
        e.starts_with("issuer: certificate names Some(\"https://github.com/login/oauth\")"),
        "{e}"
    );
    let e = fulcio_err(
        &l,
        &CertificatePolicy {
            issuer: None,
            ..sigstore(public_good(), SAN, ISSUER)
        },
    );
    assert!(e.starts_with("policy: an OIDC issuer is required"), "{e}");
}

#[test]
fn key_signed_layer_with_rekor_bundle_checks_the_set() {
    if dir().is_none() {
        return;
    }
    let l = layer(KEY_REKOR);
    let key = PublicKey::from_pem(&read("cosign2.pub")).unwrap();
    let root = public_good();
    assert_eq!(
        keyless::verify_key_bundle(&l, &key, &root.root).unwrap(),
        Some(1_674_251_859)
    );
    simple_checks(KEY_REKOR, &l, &key);
    let verifier = KeyVerifier::with_rekor(key.clone(), root.clone());
    assert_eq!(verifier.key_for(&l).unwrap(), key);
    assert_ne!(
        verifier.fingerprint(),
        KeyVerifier::new(key.clone()).fingerprint()
    );
    // The entry logs cosign2.pub: the bundle does not vouch for another key.
    let other = PublicKey::from_pem(&read("cosign.pub")).unwrap();
    let e = keyless::verify_key_bundle(&l, &other, &root.root).unwrap_err();
    assert!(
        matches!(e, KeylessError::Sigstore(VerifyError::TlogBodyMismatch(_))),
        "{e}"
    );
    // A tampered SET fails, through the verifier too.
    let bad = with(
        l.clone(),
        BUNDLE_ANNOTATION,
        Some(l.annotations[BUNDLE_ANNOTATION].replacen(
            "\"SignedEntryTimestamp\":\"ME",
            "\"SignedEntryTimestamp\":\"MF",
            1,
        )),
    );
    let e = verifier.key_for(&bad).unwrap_err();
    assert!(e.starts_with("signed entry timestamp:"), "{e}");
    // No bundle: nothing to check, as without a trusted root.
    let none = with(l, BUNDLE_ANNOTATION, None);
    assert_eq!(
        keyless::verify_key_bundle(&none, &key, &root.root).unwrap(),
        None
    );
}

#[test]
fn private_pki_signature_verifies_with_its_chain() {
    if dir().is_none() {
        return;
    }
    let l = layer(PKI);
    let chain = pki_chain(&["pki_intermediate_crts.pem", "pki_root_crts.pem"]);
    let v =
        keyless::verify_certificate_layer(&l, &pki(chain, "qiwan@redhat.com"), PKI_NOW).unwrap();
    assert_eq!(v.integrated_time, None);
    simple_checks(PKI, &l, &v.key);
    // Any order of roots and intermediates.
    let reversed = pki_chain(&["pki_root_crts.pem", "pki_intermediate_crts.pem"]);
    assert!(
        keyless::verify_certificate_layer(&l, &pki(reversed.clone(), "qiwan@redhat.com"), PKI_NOW)
            .is_ok()
    );

    let e = keyless::verify_certificate_layer(&l, &pki(reversed.clone(), SAN), PKI_NOW)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("identity:"), "{e}");
    // Without the intermediate, or with another PKI's root, nothing chains.
    for files in [&["pki_root_crts.pem"][..], &["fulcio_v1.crt.pem"]] {
        let e = keyless::verify_certificate_layer(
            &l,
            &pki(pki_chain(files), "qiwan@redhat.com"),
            PKI_NOW,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("certificate chain:"), "{files:?}: {e}");
    }
    // Before the certificates were issued.
    let e =
        keyless::verify_certificate_layer(&l, &pki(reversed, "qiwan@redhat.com"), 1_600_000_000)
            .unwrap_err()
            .to_string();
    assert!(
        e.starts_with("certificate validity at signing time:"),
        "{e}"
    );
    // With a Sigstore root, a certificate that was never logged fails.
    let e = fulcio_err(&l, &sigstore(public_good(), "qiwan@redhat.com", ISSUER));
    assert!(e.starts_with("Rekor bundle check: the layer has no"), "{e}");
}

#[test]
fn tampered_set_or_integrated_time_fails_the_set() {
    if dir().is_none() {
        return;
    }
    let l = layer(FULCIO);
    let policy = sigstore(public_good(), SAN, ISSUER);
    let bundle = l.annotations[BUNDLE_ANNOTATION].clone();
    // Another entry's SET (valid, but not over this payload).
    let other = RekorBundle::parse(&layer(KEY_REKOR).annotations[BUNDLE_ANNOTATION]).unwrap();
    let mut v: Value = serde_json::from_str(&bundle).unwrap();
    v["SignedEntryTimestamp"] = base64_of(&other.signed_entry_timestamp).into();
    let e = fulcio_err(
        &with(l.clone(), BUNDLE_ANNOTATION, Some(v.to_string())),
        &policy,
    );
    assert!(e.starts_with("signed entry timestamp:"), "{e}");
    // The certificate was valid 20:51:31..21:01:31 on 2023-01-20; moving the
    // logged time outside that window breaks the SET first.
    for time in [FULCIO_TIME + 3600, FULCIO_TIME - 3600, FULCIO_TIME + 1] {
        let edited = bundle.replace(
            &format!("\"integratedTime\":{FULCIO_TIME}"),
            &format!("\"integratedTime\":{time}"),
        );
        assert_ne!(edited, bundle);
        let e = fulcio_err(&with(l.clone(), BUNDLE_ANNOTATION, Some(edited)), &policy);
        assert!(e.starts_with("signed entry timestamp:"), "{time}: {e}");
    }
    let e = fulcio_err(
        &with(l, BUNDLE_ANNOTATION, Some("this is not a valid SET".into())),
        &policy,
    );
    assert!(
        e.starts_with("Rekor bundle check: not a cosign Rekor bundle"),
        "{e}"
    );
}

fn base64_of(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[test]
fn fulcio_ca_not_trusted_at_the_time_fails_the_chain() {
    if dir().is_none() {
        return;
    }
    // The current Fulcio CA, trusted only from 2024 on.
    let root = edited_root(|v| {
        for ca in v["certificateAuthorities"].as_array_mut().unwrap() {
            ca["validFor"]["start"] = "2024-01-01T00:00:00Z".into();
        }
    });
    let e = fulcio_err(&layer(FULCIO), &sigstore(root, SAN, ISSUER));
    assert!(
        e.starts_with("certificate chain: CA https://fulcio.sigstore.dev was not trusted"),
        "{e}"
    );
    // Only the v1 root (the fixture's chain is the intermediate's).
    let root = edited_root(|v| {
        v["certificateAuthorities"]
            .as_array_mut()
            .unwrap()
            .truncate(1);
    });
    let e = fulcio_err(&layer(FULCIO), &sigstore(root, SAN, ISSUER));
    assert!(e.starts_with("certificate chain:"), "{e}");
}

#[test]
fn untrusted_rekor_or_ct_log_fails_naming_it() {
    if dir().is_none() {
        return;
    }
    let l = layer(FULCIO);
    let root = edited_root(|v| v["tlogs"] = Value::Array(Vec::new()));
    let e = fulcio_err(&l, &sigstore(root, SAN, ISSUER));
    assert!(e.starts_with("transparency log c0d23d6a"), "{e}");
    // The Rekor key trusted only after the entry was logged.
    let root = edited_root(|v| {
        v["tlogs"][0]["publicKey"]["validFor"]["start"] = "2024-01-01T00:00:00Z".into()
    });
    let e = fulcio_err(&l, &sigstore(root, SAN, ISSUER));
    assert!(e.starts_with("transparency log key validity:"), "{e}");
    // The SCT is from ctfe.sigstore.dev/2022: with only the older CT log, it fails.
    let root = edited_root(|v| v["ctlogs"].as_array_mut().unwrap().truncate(1));
    let e = fulcio_err(&l, &sigstore(root, SAN, ISSUER));
    assert!(e.starts_with("signed certificate timestamp:"), "{e}");
    // A root with no CT log at all does not require one.
    let root = edited_root(|v| v["ctlogs"] = Value::Array(Vec::new()));
    assert!(keyless::verify_certificate_layer(&l, &sigstore(root, SAN, ISSUER), 0).is_ok());
}

#[test]
fn certificate_for_another_key_or_missing_material_fails() {
    if dir().is_none() {
        return;
    }
    let l = layer(FULCIO);
    let policy = sigstore(public_good(), SAN, ISSUER);
    // The same identity's certificate for another key: the log names this one.
    let other = String::from_utf8(read("fulcio-cert")).unwrap();
    let e = fulcio_err(
        &with(l.clone(), CERTIFICATE_ANNOTATION, Some(other)),
        &policy,
    );
    assert!(
        e.starts_with("transparency log entry does not match the bundle: logged public key/certificate differs"),
        "{e}"
    );
    // The logged signature must be the layer's.
    let resigned = layer(KEY_REKOR).annotations[SIGNATURE_ANNOTATION].clone();
    let e = fulcio_err(
        &with(l.clone(), SIGNATURE_ANNOTATION, Some(resigned)),
        &policy,
    );
    assert!(e.contains("logged signature differs"), "{e}");
    // So must the payload.
    let mut tampered = l.clone();
    tampered.blob = b"{}".to_vec();
    let e = fulcio_err(&tampered, &policy);
    assert!(e.contains("logged artifact digest differs"), "{e}");

    let e = fulcio_err(&with(l.clone(), BUNDLE_ANNOTATION, None), &policy);
    assert!(
        e.starts_with("Rekor bundle check: the layer has no dev.sigstore.cosign/bundle"),
        "{e}"
    );
    let e = fulcio_err(&with(l.clone(), CERTIFICATE_ANNOTATION, None), &policy);
    assert!(
        e.starts_with("certificate check: the layer has no dev.sigstore.cosign/certificate"),
        "{e}"
    );
    // A chain annotation with a certificate outside the trusted root.
    let e = fulcio_err(
        &with(
            l.clone(),
            CHAIN_ANNOTATION,
            Some(String::from_utf8(read("pki_root_crts.pem")).unwrap()),
        ),
        &policy,
    );
    assert!(e.starts_with("certificate chain:"), "{e}");
    // Garbage in each annotation: errors, never panics.
    for key in [
        CERTIFICATE_ANNOTATION,
        CHAIN_ANNOTATION,
        BUNDLE_ANNOTATION,
        SIGNATURE_ANNOTATION,
    ] {
        for junk in [
            "",
            "garbage",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            "{\"Payload\":{}}",
        ] {
            let r = keyless::verify_certificate_layer(
                &with(l.clone(), key, Some(junk.into())),
                &policy,
                0,
            );
            // An empty or absent chain is fine; the others must fail.
            if !(key == CHAIN_ANNOTATION && junk.is_empty()) {
                assert!(r.is_err(), "{key} = {junk:?}");
            }
        }
    }
}

#[test]
fn fingerprints_name_trust_and_identity() {
    if dir().is_none() {
        return;
    }
    let a = KeylessVerifier::new(sigstore(public_good(), SAN, ISSUER)).fingerprint();
    let b = KeylessVerifier::new(sigstore(public_good(), "x@example.com", ISSUER)).fingerprint();
    let c = KeylessVerifier::new(sigstore(
        edited_root(|v| v["ctlogs"] = Value::Array(Vec::new())),
        SAN,
        ISSUER,
    ))
    .fingerprint();
    let d = KeylessVerifier::new(pki(pki_chain(&["pki_root_crts.pem"]), SAN)).fingerprint();
    assert_eq!(
        a,
        KeylessVerifier::new(sigstore(public_good(), SAN, ISSUER)).fingerprint()
    );
    for (x, y) in [(&a, &b), (&a, &c), (&a, &d), (&b, &c)] {
        assert_ne!(x, y);
    }
    assert!(CertificateChain::from_pem(b"no certificates here").is_err());
    assert!(CertificateChain::from_pem(b"").is_err());
}
