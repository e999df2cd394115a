//! Bundles made by sigstore-python, sigstore-go, sigstore-js and cosign,
//! each with the result its producer documents (see
//! ../shared/interop/bundles/README.md and attestations/README.md).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;

use bosun_sign::sigstore::{
    self, Artifact, Bundle, HashAlgorithm, Identity, Policy, StringMatch, TrustedRoot,
    VerifiedBundle, VerifyError, VerifyingKey,
};

const BEACON: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const GH_ACTIONS: &str = "https://token.actions.githubusercontent.com";
const GH_OAUTH: &str = "https://github.com/login/oauth";

fn shared(rel: &str) -> Option<PathBuf> {
    bosun_testutil::shared(&format!("interop/{rel}"))
}

fn root(rel: &str) -> Option<TrustedRoot> {
    let bytes = std::fs::read(shared(rel)?).ok()?;
    Some(TrustedRoot::from_json(&bytes).expect("trusted root parses"))
}

fn staging() -> Option<TrustedRoot> {
    root("trust-roots/sigstore-python-embedded/staging/trusted_root.json")
}

fn production() -> Option<TrustedRoot> {
    root("trust-roots/public-good/trusted_root.json")
}

fn who(san: &str, issuer: &str) -> Policy {
    Policy {
        identity: Some(Identity {
            san: StringMatch::Exact(san.into()),
            issuer: StringMatch::Exact(issuer.into()),
        }),
        key: None,
    }
}

fn bundle(rel: &str) -> Option<Bundle> {
    Some(Bundle::from_json(&std::fs::read(shared(rel)?).ok()?).expect("bundle parses"))
}

fn bytes(rel: &str) -> Option<Vec<u8>> {
    std::fs::read(shared(rel)?).ok()
}

/// The first SAN of a certificate bundle, for bundles whose README gives
/// no identity.
fn b_san(b: &Bundle) -> Option<String> {
    use der::Decode;
    let bosun_sign::sigstore::Signer::Certificate { leaf_der, .. } = &b.signer else {
        return None;
    };
    let cert = x509_cert::Certificate::from_der(leaf_der).ok()?;
    let ext = cert
        .tbs_certificate
        .extensions?
        .into_iter()
        .find(|e| e.extn_id.to_string() == "2.5.29.17")?;
    let names = x509_cert::ext::pkix::SubjectAltName::from_der(ext.extn_value.as_bytes()).ok()?;
    names.0.into_iter().find_map(|n| match n {
        x509_cert::ext::pkix::name::GeneralName::UniformResourceIdentifier(u) => {
            Some(u.as_str().to_string())
        }
        x509_cert::ext::pkix::name::GeneralName::Rfc822Name(u) => Some(u.as_str().to_string()),
        _ => None,
    })
}

fn hex32(h: &str) -> Vec<u8> {
    hex::decode(h).expect("hex")
}

/// Verifies a sigstore-python bundle over its artifact file.
fn python(
    name: &str,
    policy: &Policy,
    root: &TrustedRoot,
) -> Option<Result<VerifiedBundle, VerifyError>> {
    let artifact = bytes(&format!("bundles/sigstore-python/{name}"))?;
    // sigstore-python names its bundles `.sigstore` or `.sigstore.json`.
    let plain = format!("bundles/sigstore-python/{name}.sigstore");
    let exists = bosun_testutil::shared_dir()
        .join("interop")
        .join(&plain)
        .exists();
    let b = bundle(&if exists {
        plain
    } else {
        format!("{plain}.json")
    })?;
    Some(sigstore::verify(
        &b,
        Artifact::Bytes(&artifact),
        policy,
        root,
    ))
}

#[test]
fn sigstore_python_staging_bundles_verify() {
    let Some(staging) = staging() else { return };
    let cases = [
        ("bundle.txt", "a@tny.town", GH_OAUTH),
        ("bundle_v3.txt", "william@yossarian.net", GH_OAUTH),
        ("bundle_v3_alt.txt", "william@yossarian.net", GH_OAUTH),
        ("staging-rekor-v2.txt", "jku@goto.fi", GH_OAUTH),
    ];
    for (name, san, issuer) in cases {
        let Some(res) = python(name, &who(san, issuer), &staging) else {
            return;
        };
        let v = res.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            v.identity.as_ref().and_then(|i| i.issuer.as_deref()),
            Some(issuer),
            "{name}"
        );
        assert!(
            !v.signing_times.is_empty() && !v.log_entries.is_empty(),
            "{name}"
        );
    }
}

#[test]
fn sigstore_python_wrong_identity_and_wrong_root_fail() {
    let (Some(staging), Some(prod)) = (staging(), production()) else {
        return;
    };
    let Some(res) = python("bundle.txt", &who("b@tny.town", GH_OAUTH), &staging) else {
        return;
    };
    assert!(matches!(res, Err(VerifyError::Identity { .. })), "{res:?}");
    let res = python(
        "bundle.txt",
        &who("a@tny.town", "https://accounts.google.com"),
        &staging,
    );
    assert!(
        matches!(res, Some(Err(VerifyError::Issuer { .. }))),
        "{res:?}"
    );
    let res = python("bundle.txt", &who("a@tny.town", GH_OAUTH), &prod);
    assert!(
        matches!(res, Some(Err(VerifyError::CertificateChain(_)))),
        "{res:?}"
    );
    // A regex-style matcher supplied by the caller.
    let policy = Policy {
        identity: Some(Identity {
            san: StringMatch::Matches {
                pattern: ".*@tny\\.town".into(),
                matcher: std::sync::Arc::new(|s| s.ends_with("@tny.town")),
            },
            issuer: StringMatch::Exact(GH_OAUTH.into()),
        }),
        key: None,
    };
    assert!(python("bundle.txt", &policy, &staging).is_some_and(|r| r.is_ok()));
}

#[test]
fn sigstore_python_negative_bundles_fail() {
    let Some(staging) = staging() else { return };
    let res = python(
        "bundle_cve_2022_36056.txt",
        &who("william@yossarian.net", GH_OAUTH),
        &staging,
    );
    assert!(
        matches!(res, Some(Err(VerifyError::TlogBodyMismatch(_)))),
        "{res:?}"
    );
    for name in [
        "bundle_invalid_version.txt",
        "bundle_no_cert_v1.txt",
        "bundle_no_log_entry.txt",
        "bundle_no_checkpoint.txt",
    ] {
        let Some(raw) = bytes(&format!("bundles/sigstore-python/{name}.sigstore")) else {
            return;
        };
        let res = Bundle::from_json(&raw);
        assert!(
            matches!(
                res,
                Err(VerifyError::Bundle(_) | VerifyError::UnsupportedVersion(_))
            ),
            "{name}: {:?}",
            res.map(|_| ())
        );
    }
    // A production bundle: its entry has an inclusion proof but no SET, and
    // there is no timestamp, so nothing authenticates a signing time.
    let Some(prod) = production() else { return };
    let Some(b) = bundle("bundles/sigstore-python/bundle_v3_no_signed_time.txt.sigstore.json")
    else {
        return;
    };
    let Some(a) = bytes("bundles/sigstore-python/bundle_v3_no_signed_time.txt") else {
        return;
    };
    let Some(san) = b_san(&b) else {
        panic!("no SAN")
    };
    let res = sigstore::verify(&b, Artifact::Bytes(&a), &who(&san, GH_OAUTH), &prod);
    assert!(matches!(res, Err(VerifyError::NoSigningTime)), "{res:?}");
}

#[test]
fn sigstore_python_dsse_rekor_v2_by_digest() {
    let Some(staging) = staging() else { return };
    let Some(b) = bundle("bundles/sigstore-python/a.dsse.staging-rekor-v2.txt.sigstore.json")
    else {
        return;
    };
    let digest = hex32("a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf");
    let art = Artifact::Digest {
        algorithm: HashAlgorithm::Sha256,
        digest: &digest,
    };
    let v = sigstore::verify(&b, art, &who(BEACON, GH_ACTIONS), &staging).expect("verifies");
    let (ty, payload) = v.dsse.expect("DSSE payload");
    assert_eq!(ty, "application/vnd.in-toto+json");
    assert!(payload.starts_with(b"{"));
    // The file's own digest is not the statement's subject.
    let Some(file) = bytes("bundles/sigstore-python/a.dsse.staging-rekor-v2.txt") else {
        return;
    };
    let res = sigstore::verify(
        &b,
        Artifact::Bytes(&file),
        &who(BEACON, GH_ACTIONS),
        &staging,
    );
    assert!(
        matches!(res, Err(VerifyError::ArtifactDigest(_))),
        "{res:?}"
    );
}

#[test]
fn sigstore_python_production_bundles_by_digest() {
    let Some(prod) = production() else { return };
    let Some(b) = bundle("bundles/sigstore-python/bundle_v3_github.whl.sigstore") else {
        return;
    };
    let digest = hex32("c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201");
    let art = Artifact::Digest {
        algorithm: HashAlgorithm::Sha256,
        digest: &digest,
    };
    let id =
        "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2";
    sigstore::verify(&b, art, &who(id, GH_ACTIONS), &prod).expect("GitHub Actions bundle verifies");
    let mut wrong = digest.clone();
    wrong[0] ^= 1;
    let art = Artifact::Digest {
        algorithm: HashAlgorithm::Sha256,
        digest: &wrong,
    };
    assert!(matches!(
        sigstore::verify(&b, art, &who(id, GH_ACTIONS), &prod),
        Err(VerifyError::ArtifactDigest(_))
    ));
}

#[test]
fn sigstore_python_tsa_bundles() {
    // As sigstore-python's test does: a root plus ca.json as the TSA.
    let with_tsa = |rel: &str| -> Option<TrustedRoot> {
        let mut doc: serde_json::Value = serde_json::from_slice(&bytes(rel)?).expect("root JSON");
        let ca: serde_json::Value =
            serde_json::from_slice(&bytes("bundles/sigstore-python/tsa/ca.json")?)
                .expect("ca.json");
        doc["timestampAuthorities"] = serde_json::json!([ca]);
        Some(TrustedRoot::from_json(doc.to_string().as_bytes()).expect("root"))
    };
    let (Some(root), Some(prod)) = (
        with_tsa("trust-roots/sigstore-python-embedded/staging/trusted_root.json"),
        with_tsa("trust-roots/public-good/trusted_root.json"),
    ) else {
        return;
    };
    let policy = who(
        "alexis.challande@trailofbits.com",
        "https://accounts.google.com",
    );
    let Some(artifact) = bytes("bundles/sigstore-python/tsa/bundle.txt") else {
        return;
    };
    let run = |name: &str| {
        let b = bundle(&format!("bundles/sigstore-python/tsa/{name}")).expect("bundle");
        sigstore::verify(&b, Artifact::Bytes(&artifact), &policy, &root)
    };
    // Its second timestamp is over other data: unused, not fatal.
    let v = run("bundle.txt.sigstore").expect("TSA bundle verifies");
    assert!(
        v.signing_times
            .iter()
            .any(|t| t.source == sigstore::TimeSource::Timestamp)
    );
    assert!(matches!(
        run("bundle.duplicate.sigstore"),
        Err(VerifyError::Timestamp(_))
    ));
    // Expected to fail. Its leaf is from production Fulcio and its entry
    // from staging Rekor, so under either root it fails before the late
    // TSA time is even looked at (chain under staging, log under production).
    let late = run("bundle.txt.late_timestamp.sigstore");
    assert!(
        matches!(late, Err(VerifyError::CertificateChain(_))),
        "{late:?}"
    );
    let b =
        bundle("bundles/sigstore-python/tsa/bundle.txt.late_timestamp.sigstore").expect("bundle");
    let san = b_san(&b).expect("SAN");
    let late = sigstore::verify(
        &b,
        Artifact::Bytes(&artifact),
        &who(&san, "https://accounts.google.com"),
        &prod,
    );
    assert!(matches!(late, Err(VerifyError::UnknownLog(_))), "{late:?}");
}

/// DSSE bundles over npm packages name their subject by sha512; the digest
/// comes from the statement, since the package tarballs are not staged.
fn subject_sha512(b: &Bundle) -> Vec<u8> {
    let sigstore::Content::Dsse(env) = &b.content else {
        panic!("not DSSE")
    };
    let st: serde_json::Value = serde_json::from_slice(&env.payload).expect("statement");
    hex::decode(
        st["subject"][0]["digest"]["sha512"]
            .as_str()
            .expect("sha512 subject"),
    )
    .expect("hex")
}

#[test]
fn sigstore_go_and_sigstore_js_bundles() {
    let Some(old_root) = root("bundles/sigstore-go/trusted-roots/public-good.json") else {
        return;
    };
    let js =
        "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main";
    // npm provenance made by sigstore-js: v0.1, Rekor intoto 0.0.2, and a
    // chain that lists the Fulcio root after the leaf.
    let rel = "bundles/sigstore-go/bundles/sigstore.js@2.0.0-provenance.sigstore.json";
    let Some(b) = bundle(rel) else { return };
    let d = subject_sha512(&b);
    let art = Artifact::Digest {
        algorithm: HashAlgorithm::Sha512,
        digest: &d,
    };
    let v = sigstore::verify(&b, art, &who(js, GH_ACTIONS), &old_root)
        .unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert_eq!(v.log_entries[0].kind, "intoto");
    assert!(matches!(
        sigstore::verify(&b, art, &who(BEACON, GH_ACTIONS), &old_root),
        Err(VerifyError::Identity { .. })
    ));
    let Some(b) = bundle("bundles/sigstore-go/bundles/dsse.sigstore.json") else {
        return;
    };
    let d = subject_sha512(&b);
    let art = Artifact::Digest {
        algorithm: HashAlgorithm::Sha512,
        digest: &d,
    };
    sigstore::verify(&b, art, &who("brian@dehamer.com", GH_OAUTH), &old_root)
        .expect("dsse bundle verifies");

    let Some(b) = bundle("bundles/sigstore-go/bundles/dsse-2sigs.sigstore.json") else {
        return;
    };
    let d = subject_sha512(&b);
    let art = Artifact::Digest {
        algorithm: HashAlgorithm::Sha512,
        digest: &d,
    };
    let res = sigstore::verify(&b, art, &who("brian@dehamer.com", GH_OAUTH), &old_root);
    assert!(
        matches!(res, Err(VerifyError::DsseSignatureCount(2))),
        "{res:?}"
    );
}

#[test]
fn sigstore_go_examples_provenance() {
    let Some(root) = root("bundles/sigstore-go/examples-trusted-root-public-good.json") else {
        return;
    };
    let Some(b) = bundle("bundles/sigstore-go/examples-bundle-provenance.json") else {
        return;
    };
    let d = subject_sha512(&b);
    let art = Artifact::Digest {
        algorithm: HashAlgorithm::Sha512,
        digest: &d,
    };
    let js =
        "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main";
    sigstore::verify(&b, art, &who(js, GH_ACTIONS), &root).expect("npm provenance verifies");
}

#[test]
fn sigstore_go_othername_identity() {
    let Some(root) = root("bundles/sigstore-go/trusted-roots/scaffolding.json") else {
        return;
    };
    let Some(b) = bundle("bundles/sigstore-go/bundles/othername.sigstore.json") else {
        return;
    };
    let d = hex32("bc103b4a84971ef6459b294a2b98568a2bfb72cded09d4acd1e16366a401f95b");
    let art = Artifact::Digest {
        algorithm: HashAlgorithm::Sha256,
        digest: &d,
    };
    let v = sigstore::verify(
        &b,
        art,
        &who("foo!oidc.local", "http://oidc.local:8080"),
        &root,
    )
    .expect("otherName SAN");
    assert_eq!(
        v.identity.map(|i| i.sans),
        Some(vec!["foo!oidc.local".to_string()])
    );
    let res = sigstore::verify(
        &b,
        art,
        &who("foo@oidc.local", "http://oidc.local:8080"),
        &root,
    );
    assert!(matches!(res, Err(VerifyError::Identity { .. })), "{res:?}");
}

#[test]
fn sigstore_go_managed_key_without_log_entry_is_rejected() {
    // The bundle carries only a TSA timestamp; this verifier requires
    // transparency log evidence for every bundle.
    let Some(raw) = bytes("bundles/sigstore-go/bundles/public-key-validity.sigstore.json") else {
        return;
    };
    assert!(matches!(
        Bundle::from_json(&raw),
        Err(VerifyError::Bundle(_))
    ));
}

#[test]
fn cosign_dsse_attestation_bundle() {
    let (Some(pgi), Some(prod)) = (
        root("attestations/cosign-oci-bundle/trusted_root_pgi.json"),
        production(),
    ) else {
        return;
    };
    let Some(b) = bundle("attestations/cosign-oci-bundle/oci-attestation.sigstore.json") else {
        return;
    };
    let d = hex32("732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4");
    let art = Artifact::Digest {
        algorithm: HashAlgorithm::Sha256,
        digest: &d,
    };
    let policy = who("cody@soyland.com", GH_OAUTH);
    for root in [&pgi, &prod] {
        let v = sigstore::verify(&b, art, &policy, root).expect("cosign attestation verifies");
        assert_eq!(v.log_entries[0].kind, "dsse");
    }
    let res = sigstore::verify(&b, art, &who("wrong@example.com", GH_OAUTH), &prod);
    assert!(matches!(res, Err(VerifyError::Identity { .. })));
    let mut other = d.clone();
    other[31] ^= 0xff;
    let art = Artifact::Digest {
        algorithm: HashAlgorithm::Sha256,
        digest: &other,
    };
    assert!(matches!(
        sigstore::verify(&b, art, &policy, &prod),
        Err(VerifyError::ArtifactDigest(_))
    ));
    // A key policy does not stand in for an identity on a certificate bundle.
    let key_only = Policy {
        identity: None,
        key: None,
    };
    assert!(matches!(
        sigstore::verify(&b, art, &key_only, &prod),
        Err(VerifyError::Policy(_))
    ));
}

#[test]
fn conformance_invalid_inclusion_proof_does_not_reach_the_root() {
    // That case already fails for its missing checkpoint; its stale audit
    // path must fail on its own too.
    let Some(raw) = bytes(
        "bundles/sigstore-conformance/bundle-verify/invalid-inclusion-proof_fail/bundle.sigstore.json",
    ) else {
        return;
    };
    use base64::Engine;
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("string"))
            .expect("base64")
    };
    let num = |v: &serde_json::Value| v.as_str().expect("string").parse::<u64>().expect("integer");
    let doc: serde_json::Value = serde_json::from_slice(&raw).expect("JSON");
    let e = &doc["verificationMaterial"]["tlogEntries"][0];
    let p = &e["inclusionProof"];
    let hashes: Vec<Vec<u8>> = p["hashes"]
        .as_array()
        .expect("hashes")
        .iter()
        .map(b64)
        .collect();
    let leaf = sigstore::leaf_hash(&b64(&e["canonicalizedBody"]));
    let root = sigstore::root_from_inclusion_proof(
        num(&p["logIndex"]),
        num(&p["treeSize"]),
        leaf,
        &hashes,
    );
    assert!(root.is_ok_and(|r| r.to_vec() != b64(&p["rootHash"])));
}

#[test]
fn managed_key_bundle_with_the_wrong_key_fails() {
    let Some(prod) = production() else { return };
    let dir = "bundles/sigstore-conformance/bundle-verify";
    let Some(b) = bundle(&format!(
        "{dir}/managed-key-happy-path/bundle.sigstore.json"
    )) else {
        return;
    };
    let Some(a) = bytes(&format!("{dir}/a.txt")) else {
        return;
    };
    // A valid P-256 key that did not sign: the Rekor key from the root.
    let other = prod
        .tlogs
        .iter()
        .find_map(|l| l.key.clone())
        .expect("a log key");
    let policy = Policy {
        identity: None,
        key: Some(other),
    };
    let res = sigstore::verify(&b, Artifact::Bytes(&a), &policy, &prod);
    assert!(matches!(res, Err(VerifyError::Signature(_))), "{res:?}");
}

#[test]
fn hostile_input_is_an_error_not_a_panic() {
    let good = br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"x"},"tlogEntries":[{"logIndex":"1","logId":{"keyId":"AAAA"},"kindVersion":{"kind":"hashedrekord","version":"0.0.1"},"integratedTime":"1","inclusionPromise":{"signedEntryTimestamp":"AAAA"},"inclusionProof":{"logIndex":"0","rootHash":"AAAA","treeSize":"1","hashes":HASHES,"checkpoint":{"envelope":"x"}},"canonicalizedBody":"e30="}]},"messageSignature":{"signature":"AAAA"}}"#;
    let good = String::from_utf8_lossy(good).into_owned();
    let parsed =
        Bundle::from_json(good.replace("HASHES", "[]").as_bytes()).expect("minimal bundle parses");
    let many = format!("[{}]", vec!["\"AAAA\""; 65].join(","));
    assert!(matches!(
        Bundle::from_json(good.replace("HASHES", &many).as_bytes()),
        Err(VerifyError::Bundle(_))
    ));
    let huge_size = good.replace("HASHES", "[]").replace(
        "\"treeSize\":\"1\"",
        "\"treeSize\":\"99999999999999999999\"",
    );
    assert!(Bundle::from_json(huge_size.as_bytes()).is_err());
    for junk in [
        &b""[..],
        b"{",
        b"null",
        b"[]",
        b"{\"mediaType\":5}",
        &[0xff, 0xfe, 0x00],
    ] {
        assert!(Bundle::from_json(junk).is_err());
        assert!(TrustedRoot::from_json(junk).is_err());
    }
    // Garbage certificates and bad base64 in a v0.3 bundle.
    for cert in ["AAAA", "MIIBAAAA", "!!!!", ""] {
        let doc = good.replace("HASHES", "[]").replace(
            r#""publicKey":{"hint":"x"}"#,
            &format!(r#""certificate":{{"rawBytes":"{cert}"}}"#),
        );
        assert!(
            matches!(
                Bundle::from_json(doc.as_bytes()),
                Err(VerifyError::Bundle(_))
            ),
            "{cert}"
        );
    }
    // The minimal bundle verifies nothing (no such log, no key).
    let Some(prod) = production() else { return };
    let key = prod.tlogs.iter().find_map(|l| l.key.clone());
    let res = sigstore::verify(
        &parsed,
        Artifact::Bytes(b"x"),
        &Policy {
            identity: None,
            key,
        },
        &prod,
    );
    assert!(res.is_err());
    assert!(
        VerifyingKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
            .is_err()
    );
    assert!(sigstore::parse_checkpoint(&"a\n".repeat(40_000)).is_err());
}
