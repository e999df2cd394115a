//! `bosun verify-blob` on bundles made by the real Sigstore clients
//! (sigstore-js, library and CLI; sigstore-python) against a local mock
//! Sigstore: tests/data/sigstore-clients, made by
//! scripts/make-sigstore-bundles.sh, where sigstore-js's and sigstore-python's
//! own verifiers gave the verdicts in PROOF-*.txt. Each bundle verifies with
//! the mock's trusted root and the signer's identity, and fails for a
//! modified artifact, another identity or issuer, the public-good root, and
//! any tampered part.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use sha2::{Digest, Sha256};

const IDENTITY: &str =
    "https://github.com/bosun-test/signer/.github/workflows/release.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Every committed bundle: which client made it and what it holds is in the
/// README beside them.
const BUNDLES: [&str; 8] = [
    "js-message.sigstore.json",
    "js-message-tsa.sigstore.json",
    "js-dsse.sigstore.json",
    "js-dsse-tsa.sigstore.json",
    "js-dsse-legacy.sigstore.json",
    "cli-attest.sigstore.json",
    "py-message.sigstore.json",
    "py-dsse.sigstore.json",
];

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sigstore-clients")
        .join(name)
}

struct Run<'a> {
    bundle: &'a Path,
    artifact: Option<&'a Path>,
    digest: Option<String>,
    identity: (&'a str, &'a str),
    issuer: &'a str,
    root: Option<PathBuf>,
}

impl<'a> Run<'a> {
    /// The bundle over artifact.txt, as its signer made it.
    fn new(bundle: &'a Path) -> Self {
        Run {
            bundle,
            artifact: None,
            digest: None,
            identity: ("--certificate-identity", IDENTITY),
            issuer: ISSUER,
            root: Some(data("trusted_root.json")),
        }
    }

    fn output(&self) -> Output {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_bosun"));
        c.arg("verify-blob").arg("--bundle").arg(self.bundle);
        match &self.digest {
            Some(d) => c.arg("--digest").arg(d),
            None => c.arg(
                self.artifact
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| data("artifact.txt")),
            ),
        };
        c.arg(self.identity.0).arg(self.identity.1);
        c.arg("--certificate-oidc-issuer").arg(self.issuer);
        if let Some(root) = &self.root {
            c.arg("--trusted-root").arg(root);
        }
        c.output().unwrap()
    }

    /// Runs and checks the exit code (0 verified, 1 not verified).
    fn expect(&self, code: i32, what: &str) -> String {
        let out = self.output();
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{}: {what}: {stderr}",
            self.bundle.display()
        );
        stderr
    }
}

#[test]
fn every_client_bundle_verifies_with_the_mock_root() {
    for name in BUNDLES {
        let bundle = data(name);
        let said = Run::new(&bundle).expect(0, "as made");
        assert!(
            said.contains("Verified OK") && said.contains(IDENTITY) && said.contains(ISSUER),
            "{name}: {said}"
        );
    }
}

#[test]
fn every_client_bundle_verifies_by_digest() {
    let digest = hex::encode(Sha256::digest(std::fs::read(data("artifact.txt")).unwrap()));
    for name in BUNDLES {
        let bundle = data(name);
        let mut run = Run::new(&bundle);
        run.digest = Some(format!("sha256:{digest}"));
        run.expect(0, "by digest");
        // One digit off is another artifact.
        let other = format!(
            "{}{}",
            &digest[..63],
            if digest.ends_with('0') { '1' } else { '0' }
        );
        run.digest = Some(format!("sha256:{other}"));
        run.expect(1, "another digest");
    }
}

#[test]
fn identity_regexp_matches_as_cosign_does() {
    for name in BUNDLES {
        let bundle = data(name);
        let mut run = Run::new(&bundle);
        run.identity = (
            "--certificate-identity-regexp",
            r"^https://github\.com/bosun-test/",
        );
        run.expect(0, "matching regexp");
        run.identity = (
            "--certificate-identity-regexp",
            r"^https://github\.com/someone-else/",
        );
        run.expect(1, "regexp that does not match");
    }
}

#[test]
fn modified_artifact_fails() {
    let dir = tempfile::tempdir().unwrap();
    let modified = dir.path().join("artifact.txt");
    let mut bytes = std::fs::read(data("artifact.txt")).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&modified, bytes).unwrap();
    for name in BUNDLES {
        let bundle = data(name);
        let mut run = Run::new(&bundle);
        run.artifact = Some(&modified);
        run.expect(1, "modified artifact");
    }
}

#[test]
fn wrong_identity_or_issuer_fails() {
    let near_miss = format!("{IDENTITY}x");
    for name in BUNDLES {
        let bundle = data(name);
        let mut run = Run::new(&bundle);
        run.identity = ("--certificate-identity", &near_miss);
        run.expect(1, "wrong identity");
        let mut run = Run::new(&bundle);
        run.issuer = "https://accounts.google.com";
        run.expect(1, "wrong issuer");
    }
}

#[test]
fn public_good_root_rejects_the_mock_bundles() {
    for name in BUNDLES {
        let bundle = data(name);
        let mut run = Run::new(&bundle);
        run.root = None;
        run.expect(1, "default (public-good) root");
    }
}

/// Replaces one character in the middle of a base64 string with another
/// base64 character, so it still decodes but to other bytes.
fn flip_base64(s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// The JSON pointers (in this bundle) of every part a verifier must check,
/// each with how to tamper with it. Not the RFC 3161 timestamp: while the
/// log's signed entry timestamp gives the signing time, a broken extra
/// timestamp is ignored (as sigstore-python 4.5.1 ignores it); see
/// `timestamp_alone_gives_the_signing_time`.
fn tamperings(bundle: &Value) -> Vec<(String, fn(&Value) -> Value)> {
    let flip: fn(&Value) -> Value = |v| Value::String(flip_base64(v.as_str().unwrap()));
    let later: fn(&Value) -> Value = |v| {
        let t: i64 = v.as_str().unwrap().parse().unwrap();
        Value::String((t + 1).to_string())
    };
    let entry = "/verificationMaterial/tlogEntries/0";
    let mut parts = vec![
        (format!("{entry}/canonicalizedBody"), flip),
        (
            format!("{entry}/inclusionPromise/signedEntryTimestamp"),
            flip,
        ),
        (format!("{entry}/inclusionProof/rootHash"), flip),
        (format!("{entry}/inclusionProof/hashes/0"), flip),
        (format!("{entry}/integratedTime"), later),
    ];
    for p in [
        "/messageSignature/signature",
        "/messageSignature/messageDigest/digest",
        "/dsseEnvelope/signatures/0/sig",
        "/dsseEnvelope/payload",
        "/verificationMaterial/certificate/rawBytes",
        "/verificationMaterial/x509CertificateChain/certificates/0/rawBytes",
    ] {
        if bundle.pointer(p).is_some() {
            parts.push((p.to_string(), flip));
        }
    }
    parts
}

#[test]
fn tampered_bundles_fail() {
    let dir = tempfile::tempdir().unwrap();
    for name in BUNDLES {
        let original: Value = serde_json::from_slice(&std::fs::read(data(name)).unwrap()).unwrap();
        // Control: the bundle re-serialized but untouched still verifies.
        let path = dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec(&original).unwrap()).unwrap();
        Run::new(&path).expect(0, "re-serialized, untouched");
        for (pointer, tamper) in tamperings(&original) {
            let mut bundle = original.clone();
            let part = bundle.pointer_mut(&pointer).unwrap();
            *part = tamper(part);
            std::fs::write(&path, serde_json::to_vec(&bundle).unwrap()).unwrap();
            Run::new(&path).expect(1, &format!("tampered {pointer}"));
        }
    }
}

const TSA: &str =
    "/verificationMaterial/timestampVerificationData/rfc3161Timestamps/0/signedTimestamp";

/// Without the signed entry timestamp, the TSA's is the only signed time: the
/// bundle still verifies (the inclusion proof and checkpoint prove the entry),
/// and no longer does once that timestamp is broken.
#[test]
fn timestamp_alone_gives_the_signing_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut with_tsa = 0;
    for name in BUNDLES {
        let mut bundle: Value =
            serde_json::from_slice(&std::fs::read(data(name)).unwrap()).unwrap();
        if bundle.pointer(TSA).is_none() {
            continue;
        }
        with_tsa += 1;
        bundle
            .pointer_mut("/verificationMaterial/tlogEntries/0")
            .and_then(Value::as_object_mut)
            .unwrap()
            .remove("inclusionPromise")
            .unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec(&bundle).unwrap()).unwrap();
        Run::new(&path).expect(0, "TSA timestamp, no SET");

        let ts = bundle.pointer_mut(TSA).unwrap();
        *ts = Value::String(flip_base64(ts.as_str().unwrap()));
        std::fs::write(&path, serde_json::to_vec(&bundle).unwrap()).unwrap();
        Run::new(&path).expect(1, "broken TSA timestamp, no SET");
    }
    assert_eq!(
        with_tsa, 3,
        "js-message-tsa, js-dsse-tsa and cli-attest carry a timestamp"
    );
}
