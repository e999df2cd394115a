//! Simple Signing against real cosign signatures (containers/image
//! fixtures), Go's encoding/json and Python's `cryptography`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bosun_sign::keys::{PrivateKey, PublicKey};
use bosun_sign::simple::{self, Payload, SimpleError, verify_signature_layer};
use sha2::{Digest, Sha256};

const CI_DIR: &str = "interop/cosign-simple-signing/containers-image";

fn dir() -> Option<PathBuf> {
    bosun_testutil::shared(CI_DIR)
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// One signature in containers/image's on-disk format:
/// `\0sigstore-json\n` then `{"mimeType","payload"(base64),"annotations"}`.
struct Sig {
    mime_type: String,
    payload: Vec<u8>,
    annotations: BTreeMap<String, String>,
}

impl Sig {
    fn signature(&self) -> &str {
        &self.annotations[simple::SIGNATURE_ANNOTATION]
    }
}

fn read_sig(path: &Path) -> Sig {
    let raw = std::fs::read(path).unwrap();
    let json = raw
        .strip_prefix(b"\x00sigstore-json\n")
        .expect("containers/image sigstore signature");
    let v: serde_json::Value = serde_json::from_slice(json).unwrap();
    Sig {
        mime_type: v["mimeType"].as_str().unwrap().to_string(),
        payload: B64.decode(v["payload"].as_str().unwrap()).unwrap(),
        annotations: serde_json::from_value(v["annotations"].clone()).unwrap(),
    }
}

fn manifest_digest(path: &Path) -> String {
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
    )
}

fn key(d: &Path, name: &str) -> PublicKey {
    PublicKey::from_pem(&std::fs::read(d.join(name)).unwrap()).unwrap()
}

/// cosign's acceptance rule for an image: some Simple Signing layer verifies.
/// Returns each layer's result.
fn verify_image(d: &Path, image: &str, key: &PublicKey) -> Vec<Result<Payload, SimpleError>> {
    let digest = manifest_digest(&d.join(image).join("manifest.json"));
    let mut results = Vec::new();
    for n in 1.. {
        let p = d.join(image).join(format!("signature-{n}"));
        if !p.exists() {
            break;
        }
        let sig = read_sig(&p);
        if sig.mime_type != simple::SIMPLE_SIGNING_MEDIA_TYPE {
            continue;
        }
        results.push(verify_signature_layer(
            &sig.payload,
            sig.signature(),
            key,
            &digest,
            &BTreeMap::new(),
        ));
    }
    results
}

#[test]
fn valid_cosign_signatures_verify() {
    let Some(d) = dir() else { return };
    let k = key(&d, "cosign.pub");
    for (image, count, reference) in [
        (
            "dir-img-cosign-valid",
            1,
            "192.168.64.2:5000/cosign-signed-single-sample",
        ),
        ("dir-img-cosign-valid-2", 2, ""),
        (
            "dir-img-cosign-valid-with-tag",
            1,
            "192.168.64.2:5000/skopeo-signed:tag",
        ),
    ] {
        let results = verify_image(&d, image, &k);
        assert_eq!(results.len(), count, "{image}");
        for r in results {
            let payload = r.unwrap_or_else(|e| panic!("{image}: {e}"));
            if !reference.is_empty() {
                assert_eq!(payload.docker_reference, reference);
            }
        }
    }
}

#[test]
fn key_with_rekor_bundle_verifies_with_its_key_only() {
    let Some(d) = dir() else { return };
    let results = verify_image(
        &d,
        "dir-img-cosign-key-rekor-valid",
        &key(&d, "cosign2.pub"),
    );
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let sig = read_sig(&d.join("dir-img-cosign-key-rekor-valid/signature-1"));
    assert!(sig.annotations.contains_key(simple::BUNDLE_ANNOTATION));
    let wrong = verify_image(&d, "dir-img-cosign-key-rekor-valid", &key(&d, "cosign.pub"));
    assert!(
        matches!(wrong.as_slice(), [Err(SimpleError::SignatureInvalid(_))]),
        "{wrong:?}"
    );
}

#[test]
fn modified_manifest_is_a_digest_mismatch() {
    let Some(d) = dir() else { return };
    for image in [
        "dir-img-cosign-modified-manifest",
        "dir-img-cosign-manifest-digest-error",
    ] {
        let image_digest = manifest_digest(&d.join(image).join("manifest.json"));
        let results = verify_image(&d, image, &key(&d, "cosign.pub"));
        let [Err(e @ SimpleError::DigestMismatch { signed, image: got })] = results.as_slice()
        else {
            panic!("{image}: {results:?}")
        };
        assert_eq!(got, &image_digest);
        assert_eq!(
            e.to_string(),
            format!("digest mismatch: signed digest {signed}, image digest {image_digest}")
        );
    }
}

#[test]
fn mixed_image_is_accepted_by_its_valid_signature_only() {
    let Some(d) = dir() else { return };
    let results = verify_image(&d, "dir-img-cosign-mixed", &key(&d, "cosign.pub"));
    assert!(
        matches!(
            results.as_slice(),
            [Err(SimpleError::SignatureInvalid(_)), Ok(_)]
        ),
        "{results:?}"
    );
}

#[test]
fn other_attachment_is_not_a_signature() {
    let Some(d) = dir() else { return };
    let image = "dir-img-cosign-other-attachment";
    assert!(verify_image(&d, image, &key(&d, "cosign.pub")).is_empty());
    // Even taken as a signature layer, its signature is over other bytes.
    let sig = read_sig(&d.join(image).join("signature-1"));
    let digest = manifest_digest(&d.join(image).join("manifest.json"));
    let r = verify_signature_layer(
        &sig.payload,
        sig.signature(),
        &key(&d, "cosign.pub"),
        &digest,
        &BTreeMap::new(),
    );
    assert!(matches!(r, Err(SimpleError::SignatureInvalid(_))), "{r:?}");
}

#[test]
fn unknown_key_signature_is_rejected() {
    let Some(d) = dir() else { return };
    let sig = read_sig(&d.join("unknown-cosign-key.signature"));
    let digest = Payload::parse(&sig.payload).unwrap().manifest_digest;
    for k in ["cosign.pub", "cosign2.pub"] {
        let r = verify_signature_layer(
            &sig.payload,
            sig.signature(),
            &key(&d, k),
            &digest,
            &BTreeMap::new(),
        );
        let Err(e @ SimpleError::SignatureInvalid(_)) = r else {
            panic!("{k}: {r:?}")
        };
        assert!(e.to_string().starts_with("signature invalid"), "{e}");
    }
}

#[test]
fn required_annotations_must_match_as_strings() {
    let Some(d) = dir() else { return };
    let image = "dir-img-cosign-valid-with-tag";
    let sig = read_sig(&d.join(image).join("signature-1"));
    let digest = manifest_digest(&d.join(image).join("manifest.json"));
    let k = key(&d, "cosign.pub");
    let check = |pairs: &[(&str, &str)]| {
        let req = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        verify_signature_layer(&sig.payload, sig.signature(), &k, &digest, &req)
    };
    let ok = check(&[("creator", "containers/image 5.21.2-dev")]).unwrap();
    assert_eq!(
        ok.annotation("creator"),
        Some("containers/image 5.21.2-dev")
    );
    let Err(SimpleError::AnnotationMismatch { key, found, .. }) =
        check(&[("creator", "someone else")])
    else {
        panic!()
    };
    assert_eq!(
        (key.as_str(), found.as_str()),
        ("creator", "\"containers/image 5.21.2-dev\"")
    );
    // A number is not the string of its digits (cosign compares interface values).
    assert!(matches!(
        check(&[("timestamp", "1657296609")]),
        Err(SimpleError::AnnotationMismatch { .. })
    ));
    let Err(e) = check(&[("env", "prod")]) else {
        panic!()
    };
    assert_eq!(
        e.to_string(),
        "annotation \"env\" mismatch: required \"prod\", payload has none"
    );
}

/// Payloads are written byte for byte as cosign writes them, and parse
/// then write gives back a Go-written payload unchanged.
#[test]
fn payload_bytes_equal_cosign_output() {
    let Some(d) = dir() else { return };
    let cosign = std::fs::read(d.join("dir-img-cosign-valid/signature-1.payload.json")).unwrap();
    let built = Payload::new(
        "192.168.64.2:5000/cosign-signed-single-sample",
        "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00",
        BTreeMap::new(),
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(built.to_bytes()).unwrap(),
        String::from_utf8(cosign).unwrap()
    );
    let tagged =
        std::fs::read(d.join("dir-img-cosign-valid-with-tag/signature-1.payload.json")).unwrap();
    assert_eq!(Payload::parse(&tagged).unwrap().to_bytes(), tagged);
}

/// Go's encoding/json over cosign's payload struct (sigstore/sigstore
/// `payload.SimpleContainerImage`) gives the same bytes for awkward strings.
#[test]
fn payload_bytes_equal_go_encoding_json() {
    let program = r#"package main

import (
	"encoding/json"
	"os"
)

type Critical struct {
	Identity struct {
		DockerReference string `json:"docker-reference"`
	} `json:"identity"`
	Image struct {
		DockerManifestDigest string `json:"docker-manifest-digest"`
	} `json:"image"`
	Type string `json:"type"`
}

type SimpleContainerImage struct {
	Critical Critical               `json:"critical"`
	Optional map[string]interface{} `json:"optional"`
}

func main() {
	var in struct {
		Ref         string
		Digest      string
		Annotations map[string]interface{}
	}
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		panic(err)
	}
	var p SimpleContainerImage
	p.Critical.Identity.DockerReference = in.Ref
	p.Critical.Image.DockerManifestDigest = in.Digest
	p.Critical.Type = "cosign container image signature"
	p.Optional = in.Annotations
	out, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(out)
}
"#;
    let tmp = tempfile::tempdir().unwrap();
    let main = tmp.path().join("main.go");
    std::fs::write(&main, program).unwrap();
    let digest = "sha256:0489474da8ea22426ece86ace6c1c0026ab2fd3cdfbbd62b7e94650266c37d9a";
    let reference = "registry.example:5000/team/app<&>";
    let annotations: BTreeMap<String, String> = [
        ("z-last", "1"),
        ("env", "prod & <staging>"),
        (
            "quote\"and\\slash",
            "tab\tnew\nline \u{1} \u{7f} \u{2028} é 😀",
        ),
        ("A-upper", ""),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    for ann in [BTreeMap::new(), annotations] {
        let input = serde_json::json!({"Ref": reference, "Digest": digest, "Annotations": if ann.is_empty() { serde_json::Value::Null } else { serde_json::to_value(&ann).unwrap() }});
        let child = Command::new("go")
            .args(["run", main.to_str().unwrap()])
            .env("GOTOOLCHAIN", "local")
            .current_dir(tmp.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) if !under_ci() => return eprintln!("SKIPPED: cannot run go: {e}"),
            Err(e) => panic!("cannot run go (CI=true: never skipped): {e}"),
        };
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.to_string().as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "go: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ours = Payload::new(reference, digest, ann).unwrap().to_bytes();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(out.stdout).unwrap()
        );
    }
}

/// A payload bosun builds and signs verifies with pyca/cryptography over
/// the same bytes, and parses as the expected document.
#[test]
fn bosun_signature_verifies_with_python_cryptography() {
    let key = PrivateKey::generate_p256();
    let digest = "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00";
    let ann = BTreeMap::from([("env".to_string(), "prod".to_string())]);
    let payload = Payload::new("localhost:5000/app", digest, ann.clone())
        .unwrap()
        .to_bytes();
    let sig = B64.encode(key.sign(&payload).unwrap());
    // bosun's own check first.
    let verified = verify_signature_layer(&payload, &sig, &key.public_key(), digest, &ann).unwrap();
    assert_eq!(verified.annotation("env"), Some("prod"));

    let tmp = tempfile::tempdir().unwrap();
    let (pp, kp) = (tmp.path().join("payload"), tmp.path().join("key.pub"));
    std::fs::write(&pp, &payload).unwrap();
    std::fs::write(&kp, key.public_key().to_pem()).unwrap();
    let script = r#"
import base64, json, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
payload = open(sys.argv[1], "rb").read()
pub = serialization.load_pem_public_key(open(sys.argv[2], "rb").read())
pub.verify(base64.b64decode(sys.argv[3]), payload, ec.ECDSA(hashes.SHA256()))
doc = json.loads(payload)
assert doc["critical"]["type"] == "cosign container image signature"
assert doc["critical"]["image"]["docker-manifest-digest"] == sys.argv[4]
assert doc["critical"]["identity"]["docker-reference"] == "localhost:5000/app"
assert doc["optional"] == {"env": "prod"}
print("verified")
"#;
    let probe = Command::new("python3")
        .args(["-c", "import cryptography"])
        .output();
    match probe {
        Ok(o) if o.status.success() => {}
        _ if !under_ci() => return eprintln!("SKIPPED: python3 with cryptography not available"),
        _ => panic!("python3 with cryptography missing (CI=true)"),
    }
    let out = Command::new("python3")
        .args([
            "-c",
            script,
            pp.to_str().unwrap(),
            kp.to_str().unwrap(),
            &sig,
            digest,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "verified");
}

#[test]
fn forged_and_garbled_layers_fail_with_their_own_errors() {
    let key = PrivateKey::generate_p256();
    let digest = "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00";
    let none = BTreeMap::new();
    let good = Payload::new("r", digest, BTreeMap::new())
        .unwrap()
        .to_bytes();
    let sign = |p: &[u8]| B64.encode(key.sign(p).unwrap());
    let public = key.public_key();

    let r = verify_signature_layer(&good, "not base64!", &public, digest, &none);
    assert!(matches!(r, Err(SimpleError::SignatureEncoding(_))), "{r:?}");
    let r = verify_signature_layer(&good, &B64.encode([1, 2, 3]), &public, digest, &none);
    assert!(matches!(r, Err(SimpleError::SignatureInvalid(_))), "{r:?}");
    let mut tampered = good.clone();
    tampered[5] ^= 1;
    let r = verify_signature_layer(&tampered, &sign(&good), &public, digest, &none);
    assert!(matches!(r, Err(SimpleError::SignatureInvalid(_))), "{r:?}");

    let text = String::from_utf8(good).unwrap();
    let wrong_type = text.replace(simple::COSIGN_SIGNATURE_TYPE, "atomic container signature");
    let r = verify_signature_layer(
        wrong_type.as_bytes(),
        &sign(wrong_type.as_bytes()),
        &public,
        digest,
        &none,
    );
    let Err(e @ SimpleError::WrongType { .. }) = r else {
        panic!("{r:?}")
    };
    assert!(e.to_string().contains("atomic container signature"));
    let bad_digest = text.replace(digest, "sha256:1234");
    let r = verify_signature_layer(
        bad_digest.as_bytes(),
        &sign(bad_digest.as_bytes()),
        &public,
        digest,
        &none,
    );
    assert!(matches!(r, Err(SimpleError::InvalidDigest(_))), "{r:?}");
    let not_json = b"hello";
    let r = verify_signature_layer(not_json, &sign(not_json), &public, digest, &none);
    assert!(matches!(r, Err(SimpleError::Malformed(_))), "{r:?}");
    let deep = text.replace(
        "\"optional\":null",
        &format!(
            "\"optional\":{{\"a\":{}1{}}}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        ),
    );
    let r = verify_signature_layer(
        deep.as_bytes(),
        &sign(deep.as_bytes()),
        &public,
        digest,
        &none,
    );
    assert!(matches!(r, Err(SimpleError::Malformed(_))), "{r:?}");
    let other = "sha256:0489474da8ea22426ece86ace6c1c0026ab2fd3cdfbbd62b7e94650266c37d9a";
    let r = verify_signature_layer(
        text.as_bytes(),
        &sign(text.as_bytes()),
        &public,
        other,
        &none,
    );
    assert!(
        matches!(r, Err(SimpleError::DigestMismatch { .. })),
        "{r:?}"
    );
    assert!(Payload::new("r", "sha256:ABC", BTreeMap::new()).is_err());
}
