//! `bosun scan` and `bosun db` as users run them, against a database
//! imported from ../shared/vulndata.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use bosun_testutil::schema::{errors, validator};
use serde_json::Value;

fn bosun(cache: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bosun"));
    c.env("SOURCE_DATE_EPOCH", "1700000000")
        .env_remove("BOSUN_CACHE_DIR")
        .env_remove("BOSUN_DB_MAX_AGE")
        .arg("--cache-dir")
        .arg(cache);
    c
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// A cache directory holding a database imported from all of
/// ../shared/vulndata, shared by the tests of this binary.
fn cache() -> Option<&'static Path> {
    static CACHE: OnceLock<Option<tempfile::TempDir>> = OnceLock::new();
    CACHE
        .get_or_init(|| {
            let vulndata = bosun_testutil::shared("vulndata")?;
            let dir = tempfile::tempdir().unwrap();
            let out = bosun(dir.path())
                .args(["db", "import"])
                .arg(&vulndata)
                .output()
                .unwrap();
            assert!(out.status.success(), "import failed: {}", stderr(&out));
            Some(dir)
        })
        .as_ref()
        .map(|d| d.path())
}

fn image(name: &str) -> Option<String> {
    bosun_testutil::fixture(&format!("images/oci/{name}")).map(|p| format!("oci:{}", p.display()))
}

fn scan_json(cache: &Path, target: &str, extra: &[&str]) -> (Value, Output) {
    let out = bosun(cache)
        .args(["scan", target, "-f", "json", "--fail-on", "none"])
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "scan {target}: {}", stderr(&out));
    (serde_json::from_slice(&out.stdout).unwrap(), out)
}

/// (package name, version, purl, id, aliases, fixed) of every finding.
fn finding_set(report: &Value) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {} {} {}",
                f["package"]["name"],
                f["package"]["version"],
                f["package"]["purl"],
                f["id"],
                f["aliases"],
                f["fixed_versions"]
            )
        })
        .collect()
}

fn has_finding(report: &Value, package: &str, id: &str) -> bool {
    report["findings"].as_array().unwrap().iter().any(|f| {
        f["package"]["name"] == package
            && (f["id"] == id
                || f["aliases"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == id)))
    })
}

#[test]
fn status_reports_what_was_imported() {
    let Some(cache) = cache() else { return };
    let out = bosun(cache)
        .args(["db", "status", "--json", "--verify"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let sources: Vec<&str> = v["metadata"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(
        sources.contains(&"osv-PyPI")
            && sources.contains(&"osv-Debian")
            && sources.contains(&"kev"),
        "{sources:?}"
    );
    assert_eq!(v["counts"]["kev"], 1404);
    assert_eq!(v["verified"], true);
    // Each source's hash is the hash of the file it was built from.
    let pypi = v["metadata"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "osv-PyPI")
        .unwrap();
    let zip = std::fs::read(bosun_testutil::shared("vulndata/osv/PyPI/all.zip").unwrap()).unwrap();
    use sha2::Digest as _;
    assert_eq!(pypi["sha256"], hex::encode(sha2::Sha256::digest(&zip)));
    // Text form too.
    let out = bosun(cache).args(["db", "status"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("osv-PyPI") && text.contains("1404 KEV entries"),
        "{text}"
    );
}

#[test]
fn exit_codes_gate_on_severity() {
    let (Some(cache), Some(img)) = (cache(), image("python-app")) else {
        return;
    };
    // Findings at or above the default threshold (any severity): 1.
    let out = bosun(cache)
        .args(["scan", &img, "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let severities: BTreeSet<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].as_str().unwrap().to_string())
        .collect();
    assert!(severities.contains("HIGH"), "{severities:?}");
    // No CRITICAL in python-app's data: --fail-on critical passes.
    assert!(!severities.contains("CRITICAL"));
    let out = bosun(cache)
        .args(["scan", &img, "-f", "json", "--fail-on", "critical"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = bosun(cache)
        .args(["scan", &img, "-f", "json", "--fail-on", "high"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    // --severity filters what is shown (and so what gates).
    let (shown, _) = scan_json(cache, &img, &["--severity", "HIGH"]);
    assert!(
        shown["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] == "HIGH")
    );
    assert!(!shown["findings"].as_array().unwrap().is_empty());
    // Errors are 2, distinct from findings.
    let out = bosun(cache)
        .args(["scan", "oci:/nonexistent/image"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    let out = bosun(cache)
        .args(["scan", &img, "--fail-on", "bogus"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("--fail-on bogus: expected none, any, unknown"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn known_findings_and_no_fixed_versions_reported() {
    let Some(cache) = cache() else { return };
    let Some(py) = image("python-app") else {
        return;
    };
    let (r, _) = scan_json(cache, &py, &[]);
    assert!(has_finding(&r, "urllib3", "CVE-2021-33503"));
    assert!(has_finding(&r, "Django", "CVE-2019-12308"));
    // openssl through its source package, with the DSA and its CVEs.
    assert!(has_finding(&r, "libssl3", "DSA-6015-1"));
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["package"]["name"] == "libssl3")
        .unwrap();
    assert_eq!(f["match"]["kind"], "source-package");
    assert_eq!(f["match"]["name"], "openssl");
    assert_eq!(f["match"]["ecosystem"], "Debian:12");
    // --ignore-unfixed keeps only findings with a fix.
    let (fixed_only, _) = scan_json(cache, &py, &["--ignore-unfixed"]);
    assert!(
        fixed_only["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["status"] == "fixed")
    );

    let Some(node) = image("node-app") else {
        return;
    };
    let (r, _) = scan_json(cache, &node, &[]);
    assert!(
        has_finding(&r, "lodash", "CVE-2020-8203")
            || has_finding(&r, "lodash", "GHSA-p6mc-m468-83gw")
    );
    assert!(has_finding(&r, "minimist", "CVE-2021-44906"));
    // KEV is attached where the CVE is in the catalogue.
    let Some(java) = image("java-app") else {
        return;
    };
    let (r, _) = scan_json(cache, &java, &[]);
    assert!(has_finding(&r, "org.yaml:snakeyaml", "CVE-2022-1471"));
}

#[test]
fn sarif_and_cyclonedx_outputs_validate() {
    let (Some(cache), Some(img)) = (cache(), image("python-app")) else {
        return;
    };
    for (format, schema) in [
        ("sarif", "sarif-2.1.0.schema.json"),
        ("cyclonedx-json", "cyclonedx-1.6.schema.json"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("out");
        let out = bosun(cache)
            .args(["scan", &img, "-f", format, "--fail-on", "none", "-o"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        if let Some(v) = validator(schema) {
            let errs = errors(&v, &doc);
            assert!(errs.is_empty(), "{format}: {}", errs.join("\n"));
        }
        if format == "cyclonedx-json" {
            let vulns = doc["vulnerabilities"].as_array().unwrap();
            assert!(vulns.len() >= 50, "{} vulnerabilities", vulns.len());
            let refs: BTreeSet<&str> = doc["components"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|c| c["bom-ref"].as_str())
                .collect();
            for v in vulns {
                for a in v["affects"].as_array().unwrap() {
                    assert!(
                        refs.contains(a["ref"].as_str().unwrap()),
                        "dangling affects {a}"
                    );
                }
            }
        } else {
            assert!(doc["runs"][0]["results"].as_array().unwrap().len() >= 50);
        }
    }
}

/// Scanning bosun's own SBOM of an image (any of its formats) gives exactly
/// the findings of scanning the image.
#[test]
fn own_sboms_scan_like_the_image() {
    let Some(cache) = cache() else { return };
    for name in [
        "python-app",
        "debian-minbase",
        "go-binary",
        "java-app",
        "node-app",
        "rust-binary",
    ] {
        let Some(img) = image(name) else { return };
        let (direct, _) = scan_json(cache, &img, &[]);
        let want = finding_set(&direct);
        assert!(!want.is_empty(), "{name} has findings");
        let tmp = tempfile::tempdir().unwrap();
        let mut args = vec!["sbom".to_string(), img.clone()];
        for f in ["cyclonedx-json", "spdx-json", "json"] {
            args.push("-o".into());
            args.push(format!("{f}={}", tmp.path().join(f).display()));
        }
        let out = bosun(cache).args(&args).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        for f in ["cyclonedx-json", "spdx-json", "json"] {
            let target = format!("sbom:{}", tmp.path().join(f).display());
            let (via, _) = scan_json(cache, &target, &[]);
            let got = finding_set(&via);
            let missing: Vec<_> = want.difference(&got).collect();
            let extra: Vec<_> = got.difference(&want).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{name} via {f}: missing {missing:#?} extra {extra:#?}"
            );
        }
    }
}

/// Syft's and Trivy's SBOMs of debian-minbase and python-app find what the
/// image scan finds (OS packages through their source package included).
#[test]
fn syft_and_trivy_sboms_are_scanned() {
    let Some(cache) = cache() else { return };
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../bosun-sbom/tests/data");
    for name in ["debian-minbase", "python-app"] {
        let Some(img) = image(name) else { return };
        let (direct, _) = scan_json(cache, &img, &[]);
        let key = |r: &Value| -> BTreeSet<String> {
            // Tools differ in name case (Syft writes PyPI names lowercased).
            r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    format!(
                        "{} {} {}",
                        f["package"]["name"].as_str().unwrap().to_lowercase(),
                        f["package"]["version"],
                        f["id"]
                    )
                })
                .collect()
        };
        let want = key(&direct);
        for tool in ["syft", "trivy"] {
            for fmt in ["cdx", "spdx"] {
                let base = data.join(format!("{tool}-{name}.{fmt}.json"));
                let gz = data.join(format!("{tool}-{name}.{fmt}.json.gz"));
                let tmp = tempfile::tempdir().unwrap();
                let file = if base.is_file() {
                    base
                } else {
                    let out = Command::new("gzip").arg("-dc").arg(&gz).output().unwrap();
                    let p = tmp.path().join("sbom.json");
                    std::fs::File::create(&p)
                        .unwrap()
                        .write_all(&out.stdout)
                        .unwrap();
                    p
                };
                let (via, _) = scan_json(cache, &format!("sbom:{}", file.display()), &[]);
                let got = key(&via);
                let missing: Vec<_> = want.difference(&got).collect();
                let extra: Vec<_> = got.difference(&want).collect();
                assert!(
                    missing.is_empty() && extra.is_empty(),
                    "{tool} {fmt} {name}: missing {missing:#?} extra {extra:#?}"
                );
            }
        }
    }
}

#[test]
fn ignore_file_and_vex_suppress() {
    let (Some(cache), Some(img)) = (cache(), image("python-app")) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let ignore = tmp.path().join("ignore.yaml");
    std::fs::write(
        &ignore,
        "ignore:\n  - id: CVE-2021-33503\n    package: urllib3\n    reason: not reachable\n  - id: CVE-2019-12308\n    reason: expired\n    expires: 2001-01-01\n  - id: CVE-1999-0001\n    reason: matches nothing\n",
    )
    .unwrap();
    let (r, out) = scan_json(cache, &img, &["--ignore-file", ignore.to_str().unwrap()]);
    assert!(!has_finding(&r, "urllib3", "CVE-2021-33503"));
    let suppressed = r["suppressed"].as_array().unwrap();
    assert!(
        suppressed
            .iter()
            .any(|f| f["id"] == "CVE-2021-33503" && f["suppressed"]["reason"] == "not reachable")
    );
    // The expired entry no longer applies, and says so; the unused one is stale.
    assert!(has_finding(&r, "Django", "CVE-2019-12308"));
    let kinds: Vec<&str> = r["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"expired-ignore") && kinds.contains(&"stale-ignore"),
        "{kinds:?}"
    );
    assert!(stderr(&out).contains("CVE-1999-0001"), "{}", stderr(&out));

    let vex = tmp.path().join("vex.json");
    std::fs::write(
        &vex,
        r#"{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex/1","author":"test","timestamp":"2024-01-01T00:00:00Z","version":1,
           "statements":[{"vulnerability":{"name":"CVE-2023-43804"},"products":[{"@id":"pkg:pypi/urllib3@1.24.1"}],"status":"not_affected","justification":"vulnerable_code_not_in_execute_path"}]}"#,
    )
    .unwrap();
    let (r, _) = scan_json(cache, &img, &["--vex", vex.to_str().unwrap()]);
    assert!(!has_finding(&r, "urllib3", "CVE-2023-43804"));
    let s = r["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "CVE-2023-43804")
        .unwrap();
    assert_eq!(s["suppressed"]["by"], "vex");
    assert!(
        s["suppressed"]["reason"]
            .as_str()
            .unwrap()
            .contains("vulnerable_code_not_in_execute_path")
    );
    // A bad VEX document is an error, not silently ignored.
    std::fs::write(&vex, "{\"@context\":1}").unwrap();
    let out = bosun(cache)
        .args(["scan", &img, "--vex", vex.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
}

#[test]
fn missing_and_damaged_databases_are_clear_errors() {
    let Some(img) = image("debian-minbase") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = bosun(tmp.path()).args(["scan", &img]).output().unwrap();
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("no vulnerability database")
            && stderr(&out).contains("bosun db update"),
        "{}",
        stderr(&out)
    );

    let Some(cache) = cache() else { return };
    let good = std::fs::read(cache.join("db/vuln.db")).unwrap();
    std::fs::create_dir_all(tmp.path().join("db")).unwrap();
    std::fs::write(tmp.path().join("db/vuln.db"), &good[..good.len() / 3]).unwrap();
    let out = bosun(tmp.path()).args(["scan", &img]).output().unwrap();
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("damaged"), "{}", stderr(&out));
}

#[test]
fn stale_database_warns() {
    let (Some(cache), Some(img)) = (cache(), image("debian-minbase")) else {
        return;
    };
    // Built "now" by the import: a 1-second limit after a pause makes it stale.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = bosun(cache)
        .args(["scan", &img, "--fail-on", "none", "--db-max-age", "1"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0);
    // Said once: the table on standard output lists it, so stderr does not.
    let both = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert_eq!(both.matches("run `bosun db update`").count(), 1, "{both}");
    // Other formats are for machines: the note goes to stderr.
    let out = bosun(cache)
        .args([
            "scan",
            &img,
            "--fail-on",
            "none",
            "--db-max-age",
            "1",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("run `bosun db update`"),
        "{}",
        stderr(&out)
    );
    let out = bosun(cache)
        .args(["scan", &img, "--fail-on", "none"])
        .output()
        .unwrap();
    assert!(
        !stderr(&out).contains("bosun db update"),
        "{}",
        stderr(&out)
    );
}

/// A tiny HTTP server for a directory: python's http.server, which answers
/// If-Modified-Since with 304 like the real mirrors.
struct Server {
    child: std::process::Child,
    port: u16,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let port = bosun_testutil::registry::free_port();
        let child = Command::new("python3")
            .args([
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                &port.to_string(),
            ])
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Server { child, port }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn update_from_a_mirror_is_conditional_and_keeps_the_old_db_on_bad_feeds() {
    let Some(vulndata) = bosun_testutil::shared("vulndata") else {
        return;
    };
    let Some(img) = image("node-app") else { return };
    let mirror = tempfile::tempdir().unwrap();
    for p in [
        "osv/npm/all.zip",
        "osv/Maven/all.zip",
        "kev/known_exploited_vulnerabilities.json",
    ] {
        let dst = mirror.path().join(p);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(vulndata.join(p), &dst).unwrap();
    }
    let server = Server::start(mirror.path());
    let url = format!("http://127.0.0.1:{}", server.port);
    let cache = tempfile::tempdir().unwrap();
    let update = || {
        bosun(cache.path())
            .args([
                "db",
                "update",
                "--mirror",
                &url,
                "--only",
                "osv-npm,osv-Maven,kev",
            ])
            .output()
            .unwrap()
    };
    let out = update();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("database built"), "{}", stderr(&out));
    let (r, _) = scan_json(cache.path(), &img, &[]);
    assert!(has_finding(&r, "minimist", "CVE-2021-44906"));

    // Nothing changed: every feed answers 304, no rebuild.
    let out = update();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("osv-npm: up to date") && stderr(&out).contains("database unchanged"),
        "{}",
        stderr(&out)
    );

    // A damaged feed on the mirror: that source fails, the old copy and the
    // database stay, scans still work.
    let before = std::fs::read(cache.path().join("db/vuln.db")).unwrap();
    let zip = mirror.path().join("osv/npm/all.zip");
    let bytes = std::fs::read(&zip).unwrap();
    std::fs::write(&zip, &bytes[..bytes.len() / 2]).unwrap();
    // Make sure the mtime moves past the stored Last-Modified (1 s resolution).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    std::fs::write(&zip, &bytes[..bytes.len() / 2]).unwrap();
    let out = update();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("osv-npm"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(cache.path().join("db/vuln.db")).unwrap(),
        before
    );
    let (r, _) = scan_json(cache.path(), &img, &[]);
    assert!(has_finding(&r, "minimist", "CVE-2021-44906"));
    drop(server);
}

/// A CycloneDX SBOM naming log4j-core 2.14.1: Log4Shell is found, rated
/// CRITICAL from its CVSS vector, and flagged as known exploited (KEV).
#[test]
fn log4shell_from_an_sbom_is_critical_and_in_kev() {
    let Some(cache) = cache() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let sbom = tmp.path().join("log4j.cdx.json");
    std::fs::write(
        &sbom,
        r#"{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,
            "components":[{"type":"library","bom-ref":"log4j","group":"org.apache.logging.log4j","name":"log4j-core","version":"2.14.1",
                           "purl":"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}]}"#,
    )
    .unwrap();
    let target = format!("sbom:{}", sbom.display());
    let (r, _) = scan_json(cache, &target, &[]);
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "CVE-2021-44228")
        .unwrap_or_else(|| panic!("no Log4Shell in {r}"));
    assert_eq!(f["severity"], "CRITICAL");
    assert!(
        f["severity_source"]
            .as_str()
            .unwrap()
            .starts_with("CVSS_V3 10.0"),
        "{}",
        f["severity_source"]
    );
    assert_eq!(f["kev"]["cve"], "CVE-2021-44228");
    assert!(
        f["fixed_versions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "2.15.0")
    );
    let out = bosun(cache)
        .args(["scan", &target, "--fail-on", "critical", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
}

/// `db update` killed in the middle of a download: the old database stays
/// usable, and the next update clears what the killed one left.
#[test]
fn killed_update_leaves_the_old_database() {
    use std::io::{BufRead, BufReader};
    let Some(vulndata) = bosun_testutil::shared("vulndata") else {
        return;
    };
    let Some(img) = image("node-app") else { return };
    let cache = tempfile::tempdir().unwrap();
    let out = bosun(cache.path())
        .args(["db", "import"])
        .arg(&vulndata)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let before = std::fs::read(cache.path().join("db/vuln.db")).unwrap();

    // A server that promises a large zip, sends part of it, then stalls.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            while r.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 50000000\r\n\r\n");
            let _ = s.write_all(&[b'P'; 65536]);
            let _ = s.flush();
            let _ = started_tx.send(());
            std::thread::sleep(std::time::Duration::from_secs(30));
        }
    });
    let mut child = bosun(cache.path())
        .args([
            "db",
            "update",
            "--mirror",
            &format!("http://127.0.0.1:{port}"),
            "--only",
            "osv-npm",
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    started_rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();

    assert_eq!(
        std::fs::read(cache.path().join("db/vuln.db")).unwrap(),
        before,
        "database untouched"
    );
    let (r, _) = scan_json(cache.path(), &img, &[]);
    assert!(has_finding(&r, "minimist", "CVE-2021-44906"));
    let leftovers = |dir: &Path| -> usize {
        walk(dir)
            .iter()
            .filter(|p| p.file_name().unwrap().to_string_lossy().ends_with(".part"))
            .count()
    };
    assert_eq!(
        leftovers(cache.path()),
        1,
        "the killed download's partial file"
    );
    // The next update (here: one that fails to connect) sweeps it away.
    let out = bosun(cache.path())
        .args([
            "db",
            "update",
            "--mirror",
            "http://127.0.0.1:9",
            "--only",
            "osv-npm",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert_eq!(leftovers(cache.path()), 0);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// `--scanners`: secrets (from every layer, deleted ones included) and image
/// misconfigurations join the report, in JSON and SARIF, and gate the exit
/// code; `--scanners vuln` leaves them out.
#[test]
fn secrets_and_misconfig_scanners_report_issues() {
    let (Some(cache), Some(img)) = (cache(), image("secrets")) else {
        return;
    };
    let Some(truth) = bosun_testutil::fixture("truth/secrets.json") else {
        return;
    };
    let truth: Value = serde_json::from_slice(&std::fs::read(truth).unwrap()).unwrap();
    let (r, _) = scan_json(cache, &img, &[]);
    let issues = r["issues"].as_array().unwrap();
    for s in truth["secrets"].as_array().unwrap() {
        let path = s["path"].as_str().unwrap();
        let hit = issues
            .iter()
            .find(|i| i["kind"] == "secret" && i["path"] == path)
            .unwrap_or_else(|| panic!("no secret at {path}: {issues:#?}"));
        if let Some(layer) = s["layer_index"].as_u64() {
            assert_eq!(hit["layer_index"], layer, "{path}");
            assert_eq!(
                hit["deleted"].as_bool().unwrap_or(false),
                s["deleted_later"].as_bool().unwrap(),
                "{path}"
            );
        }
        // Never the value itself.
        let value = s["value"].as_str().unwrap();
        assert!(
            !serde_json::to_string(&r).unwrap().contains(value),
            "{path}: the secret leaked into the report"
        );
    }
    // Image configuration checks run when asked for, not by default
    // (what a `trivy image` user expects).
    assert!(
        !issues.iter().any(|i| i["kind"] == "misconfig"),
        "image checks ran by default: {issues:#?}"
    );
    let (all, _) = scan_json(cache, &img, &["--scanners", "vuln,secret,misconfig"]);
    assert!(
        all["issues"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "misconfig"),
        "image checks ran"
    );
    // Secrets gate: CRITICAL ones fail --fail-on critical.
    let out = bosun(cache)
        .args(["scan", &img, "--fail-on", "critical", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    let (only_vuln, _) = scan_json(cache, &img, &["--scanners", "vuln"]);
    assert!(only_vuln.get("issues").is_none());
    let out = bosun(cache)
        .args(["scan", &img, "--fail-on", "critical", "--scanners", "vuln"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0);
    // SARIF carries them with valid rules and locations.
    let out = bosun(cache)
        .args(["scan", &img, "-f", "sarif", "--fail-on", "none"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    if let Some(v) = validator("sarif-2.1.0.schema.json") {
        let errs = errors(&v, &doc);
        assert!(errs.is_empty(), "{}", errs.join("\n"));
    }
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|x| x["ruleId"] == "aws-access-key-id"
        && x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            == "root/.aws/credentials"));
    let out = bosun(cache)
        .args(["scan", "sbom:/dev/null", "--scanners", "secret"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
}

/// The pre-commit use: `scan dir:. --scanners secret` needs no database,
/// fails on a planted credential and passes on a clean tree.
#[test]
fn secret_scan_of_a_directory_needs_no_database() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("repo");
    std::fs::create_dir_all(tree.join("src")).unwrap();
    std::fs::write(tree.join("src/main.py"), "print('hello')\n").unwrap();
    let no_db = tmp.path().join("cache");
    let target = format!("dir:{}", tree.display());
    let out = bosun(&no_db)
        .args(["scan", &target, "--scanners", "secret"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // A GitHub token with a valid checksum (the fixture's planted one).
    std::fs::write(
        tree.join("src/settings.py"),
        "TOKEN = 'ghp_lxOFKnAteGtBk4edGB0vgGPNkoZz3C0qIB8c'\n",
    )
    .unwrap();
    let out = bosun(&no_db)
        .args(["scan", &target, "--scanners", "secret", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let issue = &r["issues"][0];
    assert_eq!(issue["rule_id"], "github-pat");
    assert_eq!(issue["path"], "/src/settings.py");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("ghp_lxOFKnAteGtBk4edGB0vgGPNkoZz3C0qIB8c")
    );
    // Without --scanners the vulnerability scanner runs and wants its database.
    let out = bosun(&no_db).args(["scan", &target]).output().unwrap();
    assert_eq!(code(&out), 2);
}

/// A test key that dpkg installed as part of a package is public: counted
/// in a notice, not failing the scan, until `report-package-files` asks.
#[test]
fn secrets_in_unmodified_package_files_are_a_notice() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let key = bosun_testutil::ec_private_key();
    bosun_testutil::dpkg::install(&root, "demo-keys", &[("usr/share/demo/key.pem", &key)]);
    let target = format!("dir:{}", root.display());
    let no_db = tmp.path().join("cache");
    let run = |extra: &[&str]| {
        let out = bosun(&no_db)
            .args(["scan", &target, "--scanners", "secret", "-f", "json"])
            .args(extra)
            .output()
            .unwrap();
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        (code(&out), r)
    };
    let (status, r) = run(&[]);
    assert_eq!(status, 0, "{r:#}");
    let count = |v: &Value| v.as_array().map_or(0, |a| a.len());
    assert_eq!(count(&r["issues"]), 0, "{r:#}");
    let notice = &r["notices"][0];
    assert_eq!(notice["kind"], "package-file-secrets");
    assert!(
        notice["message"].as_str().unwrap().contains("demo-keys"),
        "{notice}"
    );

    let cfg = tmp.path().join("bosun.yaml");
    std::fs::write(&cfg, "secrets:\n  report-package-files: true\n").unwrap();
    let (status, r) = run(&["--config", cfg.to_str().unwrap()]);
    assert_eq!(status, 1, "{r:#}");
    assert_eq!(r["issues"][0]["path"], "/usr/share/demo/key.pem");
    assert!(
        r["issues"][0]["message"]
            .as_str()
            .unwrap()
            .contains("demo-keys")
    );
    assert_eq!(count(&r["notices"]), 0, "{r:#}");

    // A builder who changes the file makes it theirs.
    std::fs::write(
        root.join("usr/share/demo/key.pem"),
        [&key[..], b"\n"].concat(),
    )
    .unwrap();
    let (status, r) = run(&[]);
    assert_eq!(status, 1, "{r:#}");
    assert_eq!(r["issues"][0]["path"], "/usr/share/demo/key.pem");
}

/// `--severity` filters, and `--fail-on` gates, every scanner alike; image
/// configuration checks run only when asked for.
#[test]
fn severity_and_fail_on_apply_to_every_scanner() {
    let (Some(cache), Some(img)) = (cache(), image("debian-minbase")) else {
        return;
    };
    let all = ["--scanners", "vuln,secret,misconfig"];
    let (full, _) = scan_json(cache, &img, &all);
    let low = |r: &Value| -> Vec<Value> {
        r["issues"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|i| {
                i["kind"] != "analysis"
                    && !["HIGH", "CRITICAL"].contains(&i["severity"].as_str().unwrap())
            })
            .collect()
    };
    assert!(
        !low(&full).is_empty(),
        "the image checks find something below HIGH"
    );
    let (high, _) = scan_json(
        cache,
        &img,
        &[
            "--scanners",
            "vuln,secret,misconfig",
            "--severity",
            "HIGH,CRITICAL",
        ],
    );
    assert!(low(&high).is_empty(), "{:#}", high["issues"]);
    assert!(
        high["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] == "HIGH" || f["severity"] == "CRITICAL")
    );
    // By default no image checks: "no USER" is not what fails --fail-on.
    let (default, _) = scan_json(cache, &img, &[]);
    let kinds: BTreeSet<&str> = default["issues"]
        .as_array()
        .map(|a| a.iter().filter_map(|i| i["kind"].as_str()).collect())
        .unwrap_or_default();
    assert!(!kinds.contains("misconfig"), "{kinds:?}");
    let at_least_high = |r: &Value| {
        ["findings", "issues"].iter().any(|k| {
            r[*k].as_array().is_some_and(|a| {
                a.iter()
                    .any(|x| x["severity"] == "HIGH" || x["severity"] == "CRITICAL")
            })
        })
    };
    let out = bosun(cache)
        .args(["scan", &img, "-o", "json", "--fail-on", "high"])
        .output()
        .unwrap();
    assert_eq!(
        code(&out),
        i32::from(at_least_high(&default)),
        "{}",
        stderr(&out)
    );
    // With the image checks, a HIGH one fails the gate like a finding.
    let out = bosun(cache)
        .args(["scan", &img, "-o", "json", "--fail-on", "high"])
        .args(all)
        .output()
        .unwrap();
    assert_eq!(
        code(&out),
        i32::from(at_least_high(&full)),
        "{}",
        stderr(&out)
    );
}

/// `sbom:-` reads standard input; a too large SBOM file is refused from
/// its size, before it is read.
#[test]
fn sbom_from_stdin_and_size_checked_first() {
    let Some(cache) = cache() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let sbom = tmp.path().join("s.cdx.json");
    let made = Command::new(env!("CARGO_BIN_EXE_bosun"))
        .args(["sbom", "--no-cache", "-o"])
        .arg(format!("cyclonedx-json={}", sbom.display()))
        .arg(format!("dir:{}", tmp.path().display()))
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", stderr(&made));
    let out = bosun(cache)
        .args(["scan", "sbom:-", "-o", "json", "--fail-on", "none"])
        .stdin(std::fs::File::open(&sbom).unwrap())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["schema"], "bosun-scan/1");
    // A sparse file one byte over 512 MiB: the error names its size, which
    // only the metadata knows before reading.
    let big = tmp.path().join("big.json");
    let f = std::fs::File::create(&big).unwrap();
    let size: u64 = 512 * 1024 * 1024 + 1;
    f.set_len(size).unwrap();
    let out = bosun(cache)
        .arg("scan")
        .arg(format!("sbom:{}", big.display()))
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains(&format!("{size} bytes")),
        "{}",
        stderr(&out)
    );
}

/// `scan --fail-on` and `config --fail-on` take the same words.
#[test]
fn fail_on_words_are_the_same_in_scan_and_config() {
    let tmp = tempfile::tempdir().unwrap();
    let df = tmp.path().join("Dockerfile");
    std::fs::write(&df, "FROM alpine:3.19\nUSER app\n").unwrap();
    for word in [
        "none",
        "never",
        "any",
        "ANY",
        "unknown",
        "negligible",
        "low",
        "Medium",
        "high",
        "critical",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_bosun"))
            .args(["scan", "--scanners", "secret", "--fail-on", word])
            .arg(format!("dir:{}", tmp.path().display()))
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "scan --fail-on {word}: {}", stderr(&out));
        let out = Command::new(env!("CARGO_BIN_EXE_bosun"))
            .args(["config", "--fail-on", word])
            .arg(&df)
            .output()
            .unwrap();
        assert_ne!(code(&out), 2, "config --fail-on {word}: {}", stderr(&out));
    }
    for cmd in ["scan", "config"] {
        let out = Command::new(env!("CARGO_BIN_EXE_bosun"))
            .args([cmd, "--fail-on", "severe", df.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(code(&out), 2);
        assert!(
            stderr(&out).contains("expected none, any, unknown, negligible"),
            "{cmd}: {}",
            stderr(&out)
        );
    }
}

/// An advisory with no summary is summarised by its details' first
/// paragraph, whole: the JSON report does not cut it mid-sentence.
#[test]
fn json_summary_is_not_cut() {
    let Some(cache) = cache() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let meta = tmp
        .path()
        .join("usr/lib/python3/dist-packages/Trac-0.8.4.dist-info");
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(
        meta.join("METADATA"),
        "Metadata-Version: 2.1\nName: Trac\nVersion: 0.8.4\n",
    )
    .unwrap();
    let (r, _) = scan_json(
        cache,
        &format!("dir:{}", tmp.path().display()),
        &["--scanners", "vuln"],
    );
    // PYSEC-2006-2's `details` in ../shared/vulndata/osv/PyPI/all.zip (it
    // has no `summary`), 367 bytes.
    let want = "Trac before 0.9.6 does not disable the \"raw\" or \"include\" commands when \
                providing untrusted users with restructured text (reStructuredText) \
                functionality from docutils, which allows remote attackers to read arbitrary \
                files, perform cross-site scripting (XSS) attacks, or cause a denial of service \
                via unspecified vectors. NOTE: this might be related to CVE-2006-3458.";
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["id"] == "PYSEC-2006-2"
                || f["aliases"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == "PYSEC-2006-2"))
        })
        .unwrap_or_else(|| panic!("no PYSEC-2006-2: {:#}", r["findings"]));
    assert_eq!(f["summary"], want);
}

/// One tar member, written by hand: the point is a name (`../x`) that tar
/// libraries refuse to write.
fn tar_member(name: &str, data: &[u8]) -> Vec<u8> {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    h[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
    h[136..148].copy_from_slice(b"00000000000\0");
    h[148..156].copy_from_slice(b"        ");
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut out = h.to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

/// Analysis issues (here a layer entry that climbs out of the layer) are
/// shown whatever --severity asks for, and gate --fail-on.
#[test]
fn severity_never_hides_analysis_issues() {
    use bosun_testutil::oci;
    let tmp = tempfile::tempdir().unwrap();
    let mut raw = tar_member("../etc/evil.conf", b"x\n");
    raw.extend(tar_member("etc/ok.conf", b"y\n"));
    raw.extend([0u8; 1024]);
    let dir = tmp.path().join("img");
    oci::layout(&dir, &[oci::layer(oci::GZIP, &raw)], |_, _| {});
    let target = format!("oci:{}", dir.display());
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_bosun"))
            .args([
                "--no-cache",
                "scan",
                &target,
                "--scanners",
                "secret",
                "-o",
                "json",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let all = run(&["--fail-on", "none"]);
    assert_eq!(code(&all), 0, "{}", stderr(&all));
    let all: Value = serde_json::from_slice(&all.stdout).unwrap();
    let analysis = |r: &Value| -> usize {
        r["issues"]
            .as_array()
            .map_or(0, |a| a.iter().filter(|i| i["kind"] == "analysis").count())
    };
    if analysis(&all) == 0 {
        // The walker of this build does not flag the entry: nothing to check.
        eprintln!("skipped: no analysis issue for ../etc/evil.conf: {all:#}");
        return;
    }
    let filtered = run(&["--fail-on", "none", "--severity", "CRITICAL"]);
    let filtered: Value = serde_json::from_slice(&filtered.stdout).unwrap();
    assert_eq!(analysis(&filtered), analysis(&all), "{filtered:#}");
    let gated = run(&["--fail-on", "high", "--severity", "CRITICAL"]);
    assert_eq!(code(&gated), 1, "{}", stderr(&gated));
}
