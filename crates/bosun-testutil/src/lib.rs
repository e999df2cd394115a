//! Test support shared by the workspace's tests. Never a dependency of
//! product code.
// Code that only tests run: a panic with the failing call is its error report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

/// An unencrypted EC private key (bosun-secret's test data): a secret every
/// scanner reports.
pub fn ec_private_key() -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../bosun-secret/tests/data/ec.pem");
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Run `cmd`, panicking with its stderr unless it succeeds.
pub fn run_ok(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `BOSUN_FIXTURES`, else `../shared/fixtures` beside the repository.
pub fn fixtures_dir() -> PathBuf {
    match std::env::var_os("BOSUN_FIXTURES") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures"),
    }
}

/// `../shared` (the parent of the fixtures directory).
pub fn shared_dir() -> PathBuf {
    fixtures_dir().join("..")
}

/// A path under the fixtures directory. When it is missing the test is
/// skipped with a message, except under `CI=true`, where a missing fixture is
/// a failure.
pub fn fixture(rel: &str) -> Option<PathBuf> {
    let p = fixtures_dir().join(rel);
    if p.exists() {
        return Some(p);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "fixture {} is missing (CI=true: never skipped)",
            p.display()
        );
    }
    eprintln!("SKIPPED: fixture {} is missing", p.display());
    None
}

/// Like [`fixture`], for a path under `../shared` (schemas, vulndata, interop).
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = shared_dir().join(rel);
    if p.exists() {
        return Some(p);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "shared file {} is missing (CI=true: never skipped)",
            p.display()
        );
    }
    eprintln!("SKIPPED: shared file {} is missing", p.display());
    None
}

pub mod dpkg;
pub mod oci;
pub mod registry;
pub mod rpm;
pub mod schema;
