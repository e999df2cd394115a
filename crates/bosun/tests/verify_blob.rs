//! `bosun verify-blob` on every case of the official sigstore-conformance
//! bundle-verify suite (a name ending in `_fail` must fail, every other must
//! pass), through the binary, with the flags as cosign spells them.

use std::path::Path;
use std::process::{Command, Output};

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

fn bosun() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bosun"))
}

fn trimmed(p: &Path) -> Option<String> {
    std::fs::read_to_string(p)
        .ok()
        .map(|s| s.trim().to_string())
}

fn verify_case(dir: &Path) -> Output {
    let mut c = bosun();
    c.arg("verify-blob")
        .arg("--bundle")
        .arg(dir.join("bundle.sigstore.json"));
    let artifact = if dir.join("artifact").exists() {
        dir.join("artifact")
    } else {
        dir.join("../a.txt")
    };
    c.arg(artifact);
    if dir.join("trusted_root.json").exists() {
        c.arg("--trusted-root").arg(dir.join("trusted_root.json"));
    }
    if dir.join("key.pub").exists() {
        c.arg("--key").arg(dir.join("key.pub"));
    } else {
        c.arg("--certificate-identity")
            .arg(trimmed(&dir.join("identity")).unwrap_or(DEFAULT_IDENTITY.into()))
            .arg("--certificate-oidc-issuer")
            .arg(trimmed(&dir.join("issuer")).unwrap_or(DEFAULT_ISSUER.into()));
    }
    c.output().unwrap()
}

#[test]
fn every_conformance_case_gives_its_expected_result() {
    let Some(suite) = bosun_testutil::shared("interop/bundles/sigstore-conformance/bundle-verify")
    else {
        return;
    };
    let mut cases: Vec<_> = std::fs::read_dir(&suite)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("bundle.sigstore.json").exists())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 70, "the suite has 70 cases");
    let mut wrong = Vec::new();
    for dir in &cases {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let out = verify_case(dir);
        let code = out.status.code().unwrap_or(-1);
        let must_fail = name.ends_with("_fail");
        // Failing cases fail either as "not verified" (1) or, where the case
        // hands over broken trust material (a bad key file, a malformed
        // root), as an error (2); never as verified.
        let ok = if must_fail {
            code == 1 || code == 2
        } else {
            code == 0
        };
        if !ok {
            wrong.push(format!(
                "{name}: exit {code}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of 70 cases wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn digest_identity_regexp_and_errors() {
    let Some(suite) = bosun_testutil::shared("interop/bundles/sigstore-conformance/bundle-verify")
    else {
        return;
    };
    // A passing keyless case, by digest instead of file.
    let case = std::fs::read_dir(&suite)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().to_string();
            p.join("bundle.sigstore.json").exists()
                && !n.ends_with("_fail")
                && !p.join("key.pub").exists()
                && !p.join("identity").exists()
                && !p.join("artifact").exists()
                && !p.join("trusted_root.json").exists()
        })
        .min()
        .unwrap();
    use sha2::Digest as _;
    let digest = hex::encode(sha2::Sha256::digest(
        std::fs::read(suite.join("a.txt")).unwrap(),
    ));
    let run = |extra: &[&str]| {
        bosun()
            .arg("verify-blob")
            .arg("--bundle")
            .arg(case.join("bundle.sigstore.json"))
            .args(extra)
            .output()
            .unwrap()
    };
    let id = [
        "--certificate-identity",
        DEFAULT_IDENTITY,
        "--certificate-oidc-issuer",
        DEFAULT_ISSUER,
    ];
    let by_digest = run(&[&["--digest", &format!("sha256:{digest}")][..], &id[..]].concat());
    assert_eq!(
        by_digest.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&by_digest.stderr)
    );
    // Another digest is not verified.
    let other = format!("sha256:{}", "0".repeat(64));
    assert_eq!(
        run(&[&["--digest", other.as_str()][..], &id[..]].concat())
            .status
            .code(),
        Some(1)
    );
    // Identity by regular expression, right and wrong.
    let re = run(&[
        "--digest",
        &format!("sha256:{digest}"),
        "--certificate-identity-regexp",
        "^https://github.com/sigstore-conformance/.*@refs/heads/main$",
        "--certificate-oidc-issuer",
        DEFAULT_ISSUER,
    ]);
    assert_eq!(
        re.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&re.stderr)
    );
    let wrong = run(&[
        "--digest",
        &format!("sha256:{digest}"),
        "--certificate-identity",
        "someone@example.com",
        "--certificate-oidc-issuer",
        DEFAULT_ISSUER,
    ]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&wrong.stderr)
            .to_lowercase()
            .contains("identity"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
    // Errors are 2: no identity constraint at all, a missing bundle, a bad digest.
    assert_eq!(
        run(&["--digest", &format!("sha256:{digest}")])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(&[&["--digest", "sha256:zz"][..], &id[..]].concat())
            .status
            .code(),
        Some(2)
    );
    let missing = bosun()
        .args([
            "verify-blob",
            "--bundle",
            "/nonexistent.json",
            "--digest",
            &format!("sha256:{digest}"),
        ])
        .args(id)
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}
