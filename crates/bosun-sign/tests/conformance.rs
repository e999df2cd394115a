//! Runs every case of the official sigstore-conformance `bundle-verify`
//! suite: a case whose name ends in `_fail` must fail, every other must pass.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;

use bosun_sign::sigstore::{
    self, Artifact, Bundle, Identity, Policy, StringMatch, TrustedRoot, VerifyingKey,
};

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Cases that pass here; raised as the verifier improves.
const PASS_FLOOR: usize = 70;

/// Pass cases known to be rejected, with the reason (the documented gap).
const KNOWN_FAILURES: &[(&str, &str)] = &[];

fn read_trimmed(p: &Path) -> Option<String> {
    std::fs::read_to_string(p)
        .ok()
        .map(|s| s.trim().to_string())
}

fn run_case(dir: &Path, default_root: &[u8]) -> Result<(), String> {
    let bundle = std::fs::read(dir.join("bundle.sigstore.json")).map_err(|e| e.to_string())?;
    let artifact_path = if dir.join("artifact").exists() {
        dir.join("artifact")
    } else {
        dir.join("../a.txt")
    };
    let artifact = std::fs::read(artifact_path).map_err(|e| e.to_string())?;
    let root_bytes =
        std::fs::read(dir.join("trusted_root.json")).unwrap_or_else(|_| default_root.to_vec());
    let root = TrustedRoot::from_json(&root_bytes).map_err(|e| e.to_string())?;
    let bundle = Bundle::from_json(&bundle).map_err(|e| e.to_string())?;
    let policy = match std::fs::read_to_string(dir.join("key.pub")) {
        Ok(pem) => Policy {
            identity: None,
            key: Some(VerifyingKey::from_pem(&pem)?),
        },
        Err(_) => Policy {
            identity: Some(Identity {
                san: StringMatch::Exact(
                    read_trimmed(&dir.join("identity")).unwrap_or(DEFAULT_IDENTITY.into()),
                ),
                issuer: StringMatch::Exact(
                    read_trimmed(&dir.join("issuer")).unwrap_or(DEFAULT_ISSUER.into()),
                ),
            }),
            key: None,
        },
    };
    sigstore::verify(&bundle, Artifact::Bytes(&artifact), &policy, &root)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn sigstore_conformance_bundle_verify() {
    let Some(suite) = bosun_testutil::shared("interop/bundles/sigstore-conformance/bundle-verify")
    else {
        return;
    };
    let Some(root_path) =
        bosun_testutil::shared("interop/trust-roots/public-good/trusted_root.json")
    else {
        return;
    };
    let default_root = std::fs::read(root_path).expect("public-good trusted root");
    let mut cases: Vec<_> = std::fs::read_dir(&suite)
        .expect("suite dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 70, "the suite has 70 cases");

    let (mut passed, mut wrongly_passed, mut wrongly_failed) = (0, Vec::new(), Vec::new());
    println!("{:<62} {:<6} result", "case", "expect");
    for case in &cases {
        let must_fail = case.ends_with("_fail");
        let res = run_case(&suite.join(case), &default_root);
        let ok = res.is_err() == must_fail;
        let detail = match &res {
            Ok(()) => "verified".to_string(),
            Err(e) => format!("rejected: {e}"),
        };
        println!(
            "{case:<62} {:<6} {} {detail}",
            if must_fail { "fail" } else { "pass" },
            if ok { "OK " } else { "BAD" }
        );
        if ok {
            passed += 1;
        } else if must_fail {
            wrongly_passed.push(case.clone());
        } else {
            wrongly_failed.push(case.clone());
        }
    }
    println!("{passed}/{} cases behave as expected", cases.len());
    // Security: nothing that must fail may verify.
    assert!(
        wrongly_passed.is_empty(),
        "_fail cases that verified: {wrongly_passed:?}"
    );
    for case in &wrongly_failed {
        assert!(
            KNOWN_FAILURES.iter().any(|(c, _)| c == case),
            "{case} should verify and is not a documented known failure"
        );
    }
    assert!(
        passed >= PASS_FLOOR,
        "{passed} cases pass, below the floor {PASS_FLOOR}"
    );
}
