//! Hostile layers and careless arguments as users meet them on the command
//! line: a layer that hides its package database behind `..` still gets
//! its vulnerabilities reported, and its escape is an issue of its own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use bosun_testutil::oci::{GZIP, layer, layout, raw_tar};
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

#[test]
fn a_package_database_behind_dotdot_is_still_scanned() {
    let Some(vulndata) = bosun_testutil::shared("vulndata") else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let out = bosun(cache.path())
        .args(["db", "import"])
        .arg(&vulndata)
        .output()
        .unwrap();
    assert!(out.status.success(), "import: {}", stderr(&out));

    // openssl 1.0, as dpkg itself records it; Debian 12 has fixed openssl
    // in later versions many times (the DSAs in ../shared/vulndata).
    let root = tempfile::tempdir().unwrap();
    bosun_testutil::dpkg::install(
        root.path(),
        "openssl",
        &[("/usr/share/doc/openssl/x", b"x")],
    );
    let status = std::fs::read(root.path().join("var/lib/dpkg/status")).unwrap();
    let os_release = b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n";
    let t = raw_tar(&[
        ("etc/os-release", os_release),
        // containerd unpacks this at /var/lib/dpkg/status.
        ("../var/lib/dpkg/status", &status),
    ]);
    let img = tempfile::tempdir().unwrap();
    layout(img.path(), &[layer(GZIP, &t)], |_, _| {});
    let target = format!("oci:{}", img.path().display());

    let out = bosun(cache.path())
        .args(["scan", &target, "-f", "json", "--fail-on", "none"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let openssl: Vec<&Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["package"]["name"] == "openssl")
        .collect();
    assert!(!openssl.is_empty(), "no openssl findings: {r:#}");
    let issue = r["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["rule_id"] == "suspicious-layer-entry")
        .unwrap_or_else(|| panic!("escape not reported: {r:#}"));
    assert_eq!(issue["path"], "../var/lib/dpkg/status");
    assert_eq!(issue["severity"], "HIGH", "{issue:#}");
    assert!(
        issue["message"]
            .as_str()
            .unwrap()
            .contains("placed at /var/lib/dpkg/status"),
        "{issue:#}"
    );
}

#[test]
fn a_missing_local_path_is_no_such_file() {
    let cache = tempfile::tempdir().unwrap();
    for arg in ["./no-such-image", "../no-such-image", "/no/such/image"] {
        let out = bosun(cache.path())
            .args(["sbom", arg, "--timeout", "5s"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{arg}: {}", stderr(&out));
        let e = stderr(&out);
        assert!(
            e.contains(&format!("no such file or directory: {arg}")),
            "{e}"
        );
        assert!(!e.contains("registry"), "{arg}: a registry was asked: {e}");
    }
}

#[test]
fn timeouts_take_trivy_durations() {
    let cache = tempfile::tempdir().unwrap();
    let out = bosun(cache.path())
        .args(["sbom", "./x", "--timeout", "7d"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("not a duration"), "{}", stderr(&out));
    for ok in ["300s", "5m", "1h", "0"] {
        let out = bosun(cache.path())
            .args(["sbom", "./x", "--timeout", ok])
            .output()
            .unwrap();
        assert!(
            stderr(&out).contains("no such file or directory"),
            "{ok}: {}",
            stderr(&out)
        );
    }
}
