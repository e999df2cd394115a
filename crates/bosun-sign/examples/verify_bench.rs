//! Figures for signature verification against the local registry:
//! `cargo run --release -p bosun-sign --example verify_bench [RUNS]`.
//! Starts the real `docker-registry`, copies a fixture image in with skopeo,
//! signs it, then times cold verifications (a new client each run: TCP
//! connect, resolve, fetch the `.sig` manifest, probe referrers, fetch the
//! payload, ECDSA), warm ones (the same with the verification cache), the
//! cache lookup alone, and ECDSA P-256 verifications per second on one core.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bosun_core::Reference;
use bosun_oci::registry::{Registry, RegistryOptions};
use bosun_sign::keys::PrivateKey;
use bosun_sign::oci::{self, CacheKey, KeyVerifier, Kind, Store, VerifyCache};
use bosun_sign::simple::Payload;
use bosun_testutil::registry::{RegistryProcess, skopeo_copy};

fn percentiles(mut d: Vec<Duration>) -> (Duration, Duration) {
    d.sort();
    let at = |p: f64| d[((d.len() as f64 * p) as usize).min(d.len() - 1)];
    (at(0.50), at(0.99))
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let fixture = bosun_testutil::fixture("images/oci/rust-binary").expect("fixture");
    let reg = RegistryProcess::start("", "");
    let image = format!("{}/bench/app:v1", reg.host());
    skopeo_copy(&fixture, &image, &["--dest-tls-verify=false"]);
    let options = RegistryOptions {
        insecure: true,
        docker_config: Some("/nonexistent".into()),
        ..RegistryOptions::default()
    };
    let reference: Reference = image.parse().unwrap();
    let key = PrivateKey::generate_p256();
    let registry = Registry::new(&reference.registry, &options).unwrap();
    let subject = oci::resolve(&registry, &reference).unwrap();
    let payload = Payload::new(&subject.name, &subject.digest.to_string(), BTreeMap::new())
        .unwrap()
        .to_bytes();
    let store = Store {
        registry: &registry,
        repository: subject.repository.clone(),
    };
    oci::attach(
        &store,
        &subject,
        Kind::Signature,
        &oci::signature_layer(payload.clone(), &key).unwrap(),
    )
    .unwrap();
    let verifier = KeyVerifier::new(key.public_key());
    let none = BTreeMap::new();

    let mut cold = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let registry = Registry::new(&reference.registry, &options).unwrap();
        let subject = oci::resolve(&registry, &reference).unwrap();
        let store = Store {
            registry: &registry,
            repository: subject.repository.clone(),
        };
        let r = oci::verify_signatures(&store, &subject, &verifier, &none, None).unwrap();
        assert_eq!(r.verified.len(), 1);
        cold.push(t.elapsed());
    }
    let (p50, p99) = percentiles(cold);
    println!(
        "cold verify (new client, resolve tag, .sig, referrers probe, payload, ECDSA): p50 {p50:?} p99 {p99:?} over {runs}"
    );

    let cache = VerifyCache::in_memory();
    oci::verify_signatures(&store, &subject, &verifier, &none, Some(&cache)).unwrap();
    let mut warm = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let subject = oci::resolve(&registry, &reference).unwrap();
        let r = oci::verify_signatures(&store, &subject, &verifier, &none, Some(&cache)).unwrap();
        assert_eq!(r.verified.len(), 1);
        warm.push(t.elapsed());
    }
    let (p50, p99) = percentiles(warm);
    println!(
        "warm verify (same client, resolve tag, .sig, referrers probe, cache hit): p50 {p50:?} p99 {p99:?} over {runs}"
    );

    let sig_manifest = registry
        .manifest(
            &subject.repository,
            &Kind::Signature.tag(&subject.digest),
            None,
            None,
        )
        .unwrap()
        .digest;
    let mut lookups = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let k = CacheKey::new(
            &subject.digest,
            &verifier_fingerprint(&verifier),
            &sig_manifest,
            &none,
        );
        assert!(cache.get(&k).is_some());
        lookups.push(t.elapsed());
    }
    let (p50, p99) = percentiles(lookups);
    println!(
        "cache lookup (key of image digest, key fingerprint, .sig digest): p50 {p50:?} p99 {p99:?} over {runs}"
    );

    let public = key.public_key();
    let signature = key.sign(&payload).unwrap();
    let (t, mut n) = (Instant::now(), 0u64);
    while t.elapsed() < Duration::from_secs(3) {
        public.verify(&payload, &signature).unwrap();
        n += 1;
    }
    println!(
        "ECDSA P-256 SHA-256 verifications: {:.0}/s on one core",
        n as f64 / t.elapsed().as_secs_f64()
    );
}

fn verifier_fingerprint(v: &KeyVerifier) -> String {
    use bosun_sign::oci::Verifier as _;
    v.fingerprint()
}
