//! Verification throughput on one core (one thread):
//! `cargo run --release -p bosun-sign --example keyless_bench`.
//! ECDSA P-256 / SHA-256 verifications of a Simple Signing payload, and
//! whole keyless checks of cosign's Fulcio + Rekor test signature
//! (SET, hashedrekord body, Fulcio chain, SCT, identity, then the payload
//! signature) when the shared test data is present.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bosun_sign::keyless::{self, CertificatePolicy, SigstoreRoot, Trust};
use bosun_sign::keys::PrivateKey;
use bosun_sign::oci::Layer;
use bosun_sign::sigstore::StringMatch;
use bosun_sign::simple::{self, Payload, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE};

/// Runs `f` for `secs` seconds and returns the rate per second.
fn rate(secs: u64, mut f: impl FnMut()) -> f64 {
    let (t, mut n) = (Instant::now(), 0u64);
    while t.elapsed() < Duration::from_secs(secs) {
        f();
        n += 1;
    }
    n as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    let key = PrivateKey::generate_p256();
    let digest = format!("sha256:{}", "ab".repeat(32));
    let payload = Payload::new("registry.example/app", &digest, BTreeMap::new())
        .unwrap()
        .to_bytes();
    let signature = key.sign(&payload).unwrap();
    let public = key.public_key();
    let r = rate(5, || public.verify(&payload, &signature).unwrap());
    println!("ECDSA P-256 SHA-256 verifications: {r:.0}/s on one core");

    let Some(dir) = bosun_testutil::shared("interop/cosign-simple-signing/containers-image") else {
        return;
    };
    let Some(root) = bosun_testutil::shared("interop/trust-roots/public-good/trusted_root.json")
    else {
        return;
    };
    let img = dir.join("dir-img-cosign-fulcio-rekor-valid");
    let annotations: BTreeMap<String, String> =
        serde_json::from_slice(&std::fs::read(img.join("signature-1.annotations.json")).unwrap())
            .unwrap();
    let layer = Layer {
        media_type: SIMPLE_SIGNING_MEDIA_TYPE.into(),
        blob: std::fs::read(img.join("signature-1.payload.json")).unwrap(),
        annotations,
    };
    let expected = Payload::parse(&layer.blob).unwrap().manifest_digest;
    let policy = CertificatePolicy {
        trust: Trust::Sigstore(SigstoreRoot::from_json(&std::fs::read(root).unwrap()).unwrap()),
        san: StringMatch::Exact("mitr@redhat.com".into()),
        issuer: Some(StringMatch::Matches {
            pattern: "github".into(),
            matcher: Arc::new(|s| s.contains("github")),
        }),
    };
    let none = BTreeMap::new();
    let r = rate(5, || {
        let v = keyless::verify_certificate_layer(&layer, &policy, 0).unwrap();
        let sig = &layer.annotations[SIGNATURE_ANNOTATION];
        simple::verify_signature_layer(&layer.blob, sig, &v.key, &expected, &none).unwrap();
    });
    println!(
        "keyless layer checks (SET, entry, Fulcio P-384 chain, SCT, identity, payload ECDSA): {r:.0}/s on one core"
    );
}
