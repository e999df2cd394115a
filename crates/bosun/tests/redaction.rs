//! No secret leaves bosun in clear: every value planted in the `secrets`
//! fixture (fixtures/truth/secrets.json), including the GitHub token and the
//! database password that its image config's `Env` and history
//! (`created_by`) carry, is absent from every SBOM and report format bosun
//! writes, and from the SBOM and vulnerability attestations it pushes to a
//! registry. The values come from the fixture's truth file, not from bosun.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use bosun_testutil::registry::{REGISTRY_BIN, RegistryProcess, skopeo_copy, tool};
use serde_json::Value;

fn bosun(tmp: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bosun"));
    c.env("BOSUN_PASSWORD", "pw")
        .env("BOSUN_CACHE_DIR", tmp.join("cache"))
        .env("DOCKER_CONFIG", tmp.join("no-docker-config"))
        .env_remove("BOSUN_REPOSITORY")
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .current_dir(tmp);
    c
}

fn run(tmp: &Path, args: &[&str]) -> Output {
    bosun(tmp).args(args).output().unwrap()
}

fn expect(o: Output, code: i32) -> Output {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stderr:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Every planted value, as written and as a JSON string escapes it, and for
/// a URL with credentials the password alone (`scheme://user:PASSWORD@host`).
fn planted() -> Vec<String> {
    let truth = bosun_testutil::fixture("truth/secrets.json").expect("secrets truth");
    let truth: Value = serde_json::from_slice(&std::fs::read(truth).unwrap()).unwrap();
    let mut out = Vec::new();
    for s in truth["secrets"].as_array().unwrap() {
        let v = s["value"].as_str().unwrap().to_string();
        let escaped = serde_json::to_string(&v).unwrap();
        out.push(escaped.trim_matches('"').to_string());
        if let Some((_, rest)) = v.split_once("://")
            && let Some((userinfo, _)) = rest.split_once('@')
            && let Some((_, password)) = userinfo.split_once(':')
        {
            out.push(password.to_string());
        }
        // A key block: each of its base64 lines is secret too.
        out.extend(
            v.lines()
                .filter(|l| l.len() >= 40 && !l.starts_with("-----"))
                .map(String::from),
        );
        out.push(v);
    }
    out.sort();
    out.dedup();
    out
}

/// The values the image config itself carries (its `Env` and history).
fn planted_in_config() -> Vec<String> {
    let truth = bosun_testutil::fixture("truth/secrets.json").expect("secrets truth");
    let truth: Value = serde_json::from_slice(&std::fs::read(truth).unwrap()).unwrap();
    truth["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["path"].as_str().unwrap().starts_with("config."))
        .map(|s| s["value"].as_str().unwrap().to_string())
        .collect()
}

fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    assert!(
        !text.is_empty() || what.ends_with("(stderr)"),
        "{what}: no output"
    );
    for v in planted() {
        assert!(
            !text.contains(&v),
            "{what} carries the planted secret {v:?}:\n{text}"
        );
    }
}

/// The config's values are in the fixture's history: the outputs that carry
/// the history must still carry the step, redacted, or the test proves
/// nothing about them.
fn assert_history_kept(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    assert!(
        text.contains("ENV GITHUB_TOKEN="),
        "{what}: the history step that sets the token is gone altogether:\n{text}"
    );
}

fn fixture() -> Option<std::path::PathBuf> {
    let f = bosun_testutil::fixture("images/oci/secrets");
    assert!(
        f.is_some() || std::env::var_os("CI").is_none(),
        "the secrets fixture is there under CI"
    );
    f
}

#[test]
fn sbom_and_report_formats_never_carry_a_planted_secret() {
    let Some(fixture) = fixture() else {
        return;
    };
    assert!(planted_in_config().len() >= 2);
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let target = format!("oci:{}", fixture.display());
    // `bosun sbom` runs no secret scanner: the config must be searched anyway.
    for (format, has_history) in [
        ("json", true),
        ("cyclonedx-json", true),
        // SPDX has no place for an image's history.
        ("spdx-json", false),
        ("table", false),
    ] {
        let o = expect(run(t, &["sbom", &target, "--no-cache", "-o", format]), 0);
        let what = format!("sbom -o {format}");
        assert_clean(&what, &o.stdout);
        assert_clean(&format!("{what} (stderr)"), &o.stderr);
        if has_history {
            assert_history_kept(&what, &o.stdout);
        }
    }
    // `bosun scan` with the secret scanner on (its findings are redacted
    // too) and off.
    for scanners in ["secret,misconfig", "misconfig"] {
        // bosun's report JSON keeps no history; its CycloneDX does.
        for (format, has_history) in [
            ("json", false),
            ("sarif", false),
            ("cyclonedx-json", true),
            ("table", false),
        ] {
            let o = expect(
                run(
                    t,
                    &[
                        "scan",
                        &target,
                        "--no-cache",
                        "--scanners",
                        scanners,
                        "--fail-on",
                        "none",
                        "-f",
                        format,
                    ],
                ),
                0,
            );
            let what = format!("scan --scanners {scanners} -f {format}");
            assert_clean(&what, &o.stdout);
            assert_clean(&format!("{what} (stderr)"), &o.stderr);
            if has_history {
                assert_history_kept(&what, &o.stdout);
            }
        }
    }
    // With the vulnerability scanner too (the default for images).
    if let Some(vulndata) = bosun_testutil::shared("vulndata") {
        expect(run(t, &["db", "import", vulndata.to_str().unwrap()]), 0);
        for format in ["json", "sarif", "cyclonedx-json", "table"] {
            let o = expect(
                run(t, &["scan", &target, "--fail-on", "none", "-f", format]),
                0,
            );
            assert_clean(&format!("scan -f {format}"), &o.stdout);
        }
    }
}

#[test]
fn attestations_never_carry_a_planted_secret() {
    if tool(REGISTRY_BIN).is_none() || tool("/usr/bin/skopeo").is_none() {
        return;
    }
    let Some(fixture) = fixture() else {
        return;
    };
    let reg = RegistryProcess::start("", "");
    let image = format!("{}/leaky:v1", reg.host());
    skopeo_copy(&fixture, &image, &["--dest-tls-verify=false"]);
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let prefix = t.join("k");
    let prefix = prefix.to_str().unwrap();
    expect(
        run(t, &["key", "generate", "--output-key-prefix", prefix]),
        0,
    );
    let (key, public) = (format!("{prefix}.key"), format!("{prefix}.pub"));

    let attest = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--insecure", "--attest", "--key", &key, &image]);
        let o = expect(run(t, &all), 0);
        assert_clean(&all.join(" "), &o.stdout);
    };
    attest(&["sbom", "--no-cache", "-o", "json"]);
    attest(&[
        "sbom",
        "--no-cache",
        "-o",
        "json",
        "--attest-format",
        "spdx-json",
    ]);
    attest(&[
        "scan",
        "--no-cache",
        "--scanners",
        "secret,misconfig",
        "--fail-on",
        "none",
        "-f",
        "json",
    ]);

    for (kind, predicate_type, has_history) in [
        ("cyclonedx", "https://cyclonedx.org/bom", true),
        ("spdx", "https://spdx.dev/Document", false),
        (
            "vuln",
            "https://cosign.sigstore.dev/attestation/vuln/v1",
            false,
        ),
    ] {
        let o = expect(
            run(
                t,
                &[
                    "verify-attestation",
                    "--key",
                    &public,
                    "--type",
                    kind,
                    "--insecure",
                    &image,
                ],
            ),
            0,
        );
        let statements: Value = serde_json::from_slice(&o.stdout).unwrap();
        let st = statements
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["predicateType"] == predicate_type)
            .unwrap_or_else(|| panic!("no {predicate_type} statement"));
        let bytes = serde_json::to_vec(st).unwrap();
        let what = format!("the {kind} attestation");
        assert_clean(&what, &bytes);
        if has_history {
            assert_history_kept(&what, &bytes);
        }
    }
    // What the registry stores: the DSSE envelopes' payloads, decoded.
    let mut blobs = 0;
    for entry in walk(&reg.dir.path().join("data")) {
        let bytes = std::fs::read(&entry).unwrap();
        let Ok(env) = serde_json::from_slice::<Value>(&bytes) else {
            continue;
        };
        let Some(payload) = env["payload"].as_str() else {
            continue;
        };
        let decoded = base64_decode(payload);
        assert_clean(&format!("registry blob {}", entry.display()), &decoded);
        blobs += 1;
    }
    assert!(blobs >= 3, "{blobs} attestation envelopes in the registry");
    drop(reg);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// coreutils' `base64 -d`.
fn base64_decode(text: &str) -> Vec<u8> {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), text).unwrap();
    let out = Command::new("base64")
        .arg("-d")
        .arg(file.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "base64 -d failed");
    out.stdout
}
