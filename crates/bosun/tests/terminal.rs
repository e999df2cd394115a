//! Bytes from an image or a scanned tree never reach the terminal as
//! escape sequences: not in tables, warnings or error messages.

use std::path::Path;
use std::process::Command;

const HOSTILE: &str = "evil\u{1b}]0;pwned\u{7}\u{1b}[2J\u{202e}pkg\nrow";

fn bosun() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bosun"));
    c.env("SOURCE_DATE_EPOCH", "1700000000")
        .env_remove("BOSUN_CACHE_DIR");
    c
}

/// No ESC, BEL, C1 control or bidi override anywhere in the output, and no
/// line that starts with the forged row.
fn assert_inert(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for bad in ['\u{1b}', '\u{7}', '\u{9b}', '\u{9d}', '\u{202e}'] {
        assert!(
            !text.contains(bad),
            "{what} carries {:?}:\n{}",
            bad,
            text.escape_debug()
        );
    }
    assert!(
        !text.lines().any(|l| l.starts_with("row")),
        "{what}: a newline from the input made a line of its own:\n{text}"
    );
}

fn npm_tree(root: &Path) {
    let dir = root.join("node_modules/evil");
    std::fs::create_dir_all(&dir).unwrap();
    let doc = serde_json::json!({"name": HOSTILE, "version": format!("1.0.0{HOSTILE}")});
    std::fs::write(dir.join("package.json"), doc.to_string()).unwrap();
}

#[test]
fn sbom_table_of_a_hostile_package() {
    let tmp = tempfile::tempdir().unwrap();
    npm_tree(tmp.path());
    let out = bosun()
        .args(["sbom", "--no-cache"])
        .arg(format!("dir:{}", tmp.path().display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_inert("sbom table", &out.stdout);
    let table = String::from_utf8_lossy(&out.stdout);
    // What is left is the visible text, on its row.
    assert!(table.contains("evilpkg row"), "{table}");
}

#[test]
fn error_messages_escape_a_hostile_path() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join(HOSTILE);
    let out = bosun()
        .args(["sbom", "--no-cache"])
        .arg(format!("oci:{}", bad.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_inert("error message", &out.stderr);
    let err = String::from_utf8_lossy(&out.stderr);
    // Escaped, not dropped: the user sees what the name was.
    assert!(err.contains("evil\\u{1b}]0;pwned\\u{7}"), "{err}");
    assert!(err.contains("\\u{202e}pkg\\nrow"), "{err}");
}

#[test]
fn config_table_and_warnings_of_hostile_file_names() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(HOSTILE);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("Dockerfile"), "FROM alpine:3.19\nRUN true\n").unwrap();
    std::fs::write(
        dir.join("bad.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: [\n",
    )
    .unwrap();
    let out = bosun()
        .args(["config", "--fail-on", "none"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_inert("config table", &out.stdout);
    assert_inert("config stderr", &out.stderr);
    assert!(String::from_utf8_lossy(&out.stdout).contains("evilpkg row"));
    let out = bosun()
        .args(["config", "--fail-on", "none", "-o", "json"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_inert("config warnings", &out.stderr);
}

#[test]
fn scan_table_of_a_hostile_secret_path() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(HOSTILE);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("credentials"),
        "[default]\naws_access_key_id = AKIAZ3MSJV4WWNKWW5FG\n",
    )
    .unwrap();
    let out = bosun()
        .args([
            "scan",
            "--no-cache",
            "--scanners",
            "secret",
            "--fail-on",
            "none",
        ])
        .arg(format!("dir:{}", tmp.path().display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_inert("scan table", &out.stdout);
    assert_inert("scan stderr", &out.stderr);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("aws-access-key-id"), "{table}");
}
