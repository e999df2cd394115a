//! The `bosun` binary as users run it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bosun_testutil::schema::{errors, validator};
use serde_json::Value;

fn bosun() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bosun"));
    c.env("SOURCE_DATE_EPOCH", "1700000000")
        .env_remove("BOSUN_CACHE_DIR");
    c
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "bosun failed ({:?}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn assert_valid(schema: &str, doc: &Value, what: &str) {
    let Some(v) = validator(schema) else { return };
    let errs = errors(&v, doc);
    assert!(
        errs.is_empty(),
        "{what} is not valid against {schema}:\n{}",
        errs.join("\n")
    );
}

/// The bundled example, every format in one run, compared with golden files
/// (`BOSUN_UPDATE_GOLDEN=1` rewrites them after an intended change).
#[test]
fn demo_image_golden_files_in_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let cdx = tmp.path().join("sbom.cdx.json");
    let spdx = tmp.path().join("sbom.spdx.json");
    let json = tmp.path().join("sbom.json");
    let out = ok(bosun()
        .arg("sbom")
        // Relative, so the output (serial numbers hash the whole document)
        // does not depend on where the checkout lives.
        .arg("oci:examples/demo-image")
        .arg("--no-cache")
        .args(["-o", &format!("cyclonedx-json={}", cdx.display())])
        .args(["-o", &format!("spdx-json={}", spdx.display())])
        .args(["-o", &format!("json={}", json.display())])
        .args(["-o", "table"])
        .current_dir(repo())
        .output()
        .unwrap());
    let table = String::from_utf8(out.stdout).unwrap();
    for name in [
        "libc6", "libssl3", "lodash", "minimist", "urllib3", "demo-app",
    ] {
        assert!(table.contains(name), "table lacks {name}:\n{table}");
    }
    assert_valid("cyclonedx-1.6.schema.json", &read_json(&cdx), "CycloneDX");
    assert_valid("spdx-2.3.schema.json", &read_json(&spdx), "SPDX");
    let golden = repo().join("crates/bosun/tests/golden");
    for (got, name) in [
        (&cdx, "demo-image.cdx.json"),
        (&spdx, "demo-image.spdx.json"),
        (&json, "demo-image.json"),
    ] {
        let text = std::fs::read_to_string(got).unwrap();
        let want = golden.join(name);
        if std::env::var_os("BOSUN_UPDATE_GOLDEN").is_some() {
            std::fs::write(&want, &text).unwrap();
        }
        let expected = std::fs::read_to_string(&want).unwrap_or_default();
        assert!(
            text == expected,
            "{name} differs from the golden file; if intended, rerun with BOSUN_UPDATE_GOLDEN=1"
        );
    }
    // The whiteout in the last layer uninstalled left-pad.
    assert!(!table.contains("left-pad"), "{table}");
}

/// Real images through every standard format: valid against the official
/// schemas, with every package's purl present.
#[test]
fn fixture_images_give_schema_valid_sboms() {
    let Some(images) = bosun_testutil::fixture("images/oci") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let mut names: Vec<_> = std::fs::read_dir(&images)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert!(names.len() >= 8);
    for image in names {
        let name = image.file_name().unwrap().to_string_lossy().into_owned();
        let cdx = tmp.path().join(format!("{name}.cdx.json"));
        let spdx = tmp.path().join(format!("{name}.spdx.json"));
        let json = tmp.path().join(format!("{name}.json"));
        ok(bosun()
            .args(["sbom", &format!("oci:{}", image.display())])
            .arg("--cache-dir")
            .arg(&cache)
            .args(["-o", &format!("cyclonedx-json={}", cdx.display())])
            .args(["-o", &format!("spdx-json={}", spdx.display())])
            .args(["-o", &format!("json={}", json.display())])
            .output()
            .unwrap());
        let cdx = read_json(&cdx);
        let spdx = read_json(&spdx);
        let native = read_json(&json);
        assert_valid(
            "cyclonedx-1.6.schema.json",
            &cdx,
            &format!("{name} CycloneDX"),
        );
        assert_valid("spdx-2.3.schema.json", &spdx, &format!("{name} SPDX"));
        let cdx_text = cdx.to_string();
        let spdx_text = spdx.to_string();
        for p in native["packages"].as_array().unwrap() {
            let purl = p["purl"].as_str().unwrap();
            assert!(
                cdx_text.contains(purl),
                "{name}: {purl} missing from CycloneDX"
            );
            assert!(spdx_text.contains(purl), "{name}: {purl} missing from SPDX");
        }
        // The second run comes from the layer cache and says the same.
        let again = tmp.path().join(format!("{name}.again.json"));
        ok(bosun()
            .args(["sbom", &format!("oci:{}", image.display())])
            .arg("--cache-dir")
            .arg(&cache)
            .args(["-o", &format!("json={}", again.display())])
            .output()
            .unwrap());
        assert_eq!(read_json(&again), native, "{name}: cached run differs");
    }
    assert!(cache.join("layers").is_dir());
}

#[test]
fn directory_scan_reads_lock_files() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("package.json"),
        r#"{"name":"proj","version":"0.1.0"}"#,
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("package-lock.json"),
        r#"{"name":"proj","lockfileVersion":3,"packages":{"":{"name":"proj","version":"0.1.0"},"node_modules/lodash":{"version":"4.17.21","license":"MIT"}}}"#,
    )
    .unwrap();
    let out = ok(bosun()
        .args([
            "sbom",
            &format!("dir:{}", tmp.path().display()),
            "-o",
            "json",
        ])
        .output()
        .unwrap());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"lodash") && names.contains(&"proj"),
        "{names:?}"
    );
    assert_eq!(doc["source"]["kind"], "directory");
}

#[test]
fn errors_exit_2_with_a_message() {
    let out = bosun()
        .args(["sbom", "oci:/nonexistent/layout"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/layout"), "{err}");

    let demo = repo().join("examples/demo-image");
    let out = bosun()
        .args(["sbom", &format!("oci:{}", demo.display()), "-o", "yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("yaml"));

    // A failed run leaves no output file behind.
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("out.json");
    let out = bosun()
        .args([
            "sbom",
            "oci:/nonexistent/layout",
            "-o",
            &format!("json={}", dest.display()),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!dest.exists());
}

/// `bosun sbom` of an image in the real CNCF registry gives the same
/// packages as the same image read from its OCI layout; plain HTTP only
/// with --insecure.
#[test]
fn registry_image_equals_layout_image() {
    use bosun_testutil::registry::{REGISTRY_BIN, RegistryProcess, skopeo_copy, tool};
    if tool(REGISTRY_BIN).is_none() || tool("/usr/bin/skopeo").is_none() {
        return;
    }
    let Some(layout) = bosun_testutil::fixture("images/oci/python-app") else {
        return;
    };
    let registry = RegistryProcess::start("", "");
    let reference = format!("{}/fixtures/python-app:latest", registry.host());
    skopeo_copy(&layout, &reference, &["--dest-tls-verify=false"]);
    let packages = |args: &[&str]| -> Vec<(String, String)> {
        let out = ok(bosun()
            .args(["sbom", "--no-cache", "-o", "json"])
            .args(args)
            .output()
            .unwrap());
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut v: Vec<(String, String)> = doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["purl"].as_str().unwrap().to_string(),
                    p["locations"][0]["layer"].to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let from_registry = packages(&[&reference, "--insecure"]);
    let from_layout = packages(&[&format!("oci:{}", layout.display())]);
    let truth = read_json(&bosun_testutil::fixture("truth/python-app.json").unwrap());
    assert_eq!(
        from_registry.len(),
        truth["packages"].as_array().unwrap().len()
    );
    assert_eq!(from_registry, from_layout);
    // Without --insecure bosun speaks only TLS, which this registry lacks.
    let out = bosun()
        .args(["sbom", "--no-cache", &reference])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// Several processes share one cache directory at once, and a damaged
/// cache entry is analysed again instead of trusted.
#[test]
fn cache_is_safe_for_concurrent_processes_and_damage() {
    let Some(image) = bosun_testutil::fixture("images/oci/node-app") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let target = format!("oci:{}", image.display());
    let run = |cache: &Path| {
        bosun()
            .args(["sbom", &target, "-o", "json", "--cache-dir"])
            .arg(cache)
            .output()
            .unwrap()
    };
    let children: Vec<_> = (0..4)
        .map(|_| {
            bosun()
                .args(["sbom", &target, "-o", "json", "--cache-dir"])
                .arg(&cache)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<Vec<u8>> = children
        .into_iter()
        .map(|c| ok(c.wait_with_output().unwrap()).stdout)
        .collect();
    assert!(
        outputs.windows(2).all(|w| w[0] == w[1]),
        "concurrent runs disagree"
    );
    let reference = ok(run(&tmp.path().join("fresh"))).stdout;
    assert_eq!(outputs[0], reference, "cached and uncached runs disagree");
    // Damage every entry: truncate one, fill another with junk.
    let mut entries = Vec::new();
    for d in std::fs::read_dir(cache.join("layers")).unwrap() {
        for f in std::fs::read_dir(d.unwrap().path()).unwrap() {
            entries.push(f.unwrap().path());
        }
    }
    assert!(!entries.is_empty());
    for (i, e) in entries.iter().enumerate() {
        let bytes = std::fs::read(e).unwrap();
        let damaged = if i % 2 == 0 {
            bytes[..bytes.len() / 2].to_vec()
        } else {
            vec![0x5a; 100]
        };
        std::fs::write(e, damaged).unwrap();
    }
    assert_eq!(
        ok(run(&cache)).stdout,
        reference,
        "damaged cache changed the result"
    );
}
