//! `bosun sbom --attest` and `bosun scan --attest`: the result is signed and
//! attached to the image by the digest that was analysed, and verifies with
//! `bosun verify-attestation`, against the real docker-registry.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bosun_testutil::registry::{REGISTRY_BIN, RegistryProcess, skopeo_copy, tool};
use serde_json::Value;

fn bosun(tmp: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bosun"));
    c.env("BOSUN_PASSWORD", "pw")
        .env("BOSUN_CACHE_DIR", tmp.join("cache"))
        .env("DOCKER_CONFIG", tmp.join("no-docker-config"))
        .env_remove("BOSUN_REPOSITORY")
        .env("SOURCE_DATE_EPOCH", "1700000000");
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

fn read_json(p: &PathBuf) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn sbom_and_scan_results_are_attested() {
    if tool(REGISTRY_BIN).is_none() || tool("/usr/bin/skopeo").is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "registry tools are installed under CI"
        );
        return;
    }
    let (Some(fixture), Some(vulndata)) = (
        bosun_testutil::fixture("images/oci/python-app"),
        bosun_testutil::shared("vulndata"),
    ) else {
        return;
    };
    let reg = RegistryProcess::start("", "");
    let image = format!("{}/app:py", reg.host());
    skopeo_copy(&fixture, &image, &["--dest-tls-verify=false"]);
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let prefix = t.join("k");
    expect(
        run(
            t,
            &[
                "key",
                "generate",
                "--output-key-prefix",
                prefix.to_str().unwrap(),
            ],
        ),
        0,
    );
    let (key, public) = (
        format!("{}.key", prefix.display()),
        format!("{}.pub", prefix.display()),
    );

    // sbom --attest: the attested predicate is the CycloneDX document itself.
    let cdx = t.join("sbom.cdx.json");
    expect(
        run(
            t,
            &[
                "sbom",
                &image,
                "--insecure",
                "--attest",
                "--key",
                &key,
                "-o",
                &format!("cyclonedx-json={}", cdx.display()),
            ],
        ),
        0,
    );
    let out = expect(
        run(
            t,
            &[
                "verify-attestation",
                "--key",
                &public,
                "--type",
                "cyclonedx",
                "--insecure",
                &image,
            ],
        ),
        0,
    );
    let statements: Value = serde_json::from_slice(&out.stdout).unwrap();
    let st = &statements[0];
    assert_eq!(st["predicateType"], "https://cyclonedx.org/bom");
    assert_eq!(st["predicate"], read_json(&cdx));

    // scan --attest: cosign's vuln predicate carrying bosun's report.
    expect(run(t, &["db", "import", vulndata.to_str().unwrap()]), 0);
    let report = t.join("report.json");
    expect(
        run(
            t,
            &[
                "scan",
                &image,
                "--insecure",
                "--attest",
                "--key",
                &key,
                "--fail-on",
                "none",
                "-f",
                "json",
                "-o",
                report.to_str().unwrap(),
            ],
        ),
        0,
    );
    let out = expect(
        run(
            t,
            &[
                "verify-attestation",
                "--key",
                &public,
                "--type",
                "vuln",
                "--insecure",
                &image,
            ],
        ),
        0,
    );
    let statements: Value = serde_json::from_slice(&out.stdout).unwrap();
    let vuln = statements
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["predicateType"] == "https://cosign.sigstore.dev/attestation/vuln/v1")
        .unwrap();
    assert_eq!(
        vuln["predicate"]["scanner"]["result"]["findings"],
        read_json(&report)["findings"]
    );
    assert!(
        vuln["predicate"]["metadata"]["scanStartedOn"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    // Both attestations hang off the digest that was scanned.
    let digest = read_json(&report)["target"]["manifest_digest"].clone();
    assert_eq!(
        vuln["subject"][0]["digest"]["sha256"]
            .as_str()
            .map(|h| format!("sha256:{h}")),
        digest.as_str().map(String::from)
    );

    // --attest without a registry image is refused before any work.
    let oci = format!("oci:{}", fixture.display());
    let o = expect(run(t, &["sbom", &oci, "--attest", "--key", &key]), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--attest needs an image in a registry"));
    drop(reg);
}
