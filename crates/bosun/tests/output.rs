//! `-o`: one meaning in every command, and no harm to what it names.
//! Runs as root in CI (mknod, chown); a test that needs a privilege it
//! lacks says so and returns.

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn bosun() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bosun"));
    c.env("SOURCE_DATE_EPOCH", "1700000000")
        .env_remove("BOSUN_CACHE_DIR");
    c
}

/// An empty directory to catalog: the quickest SBOM there is.
fn target(tmp: &Path) -> String {
    let d = tmp.join("empty");
    std::fs::create_dir_all(&d).unwrap();
    format!("dir:{}", d.display())
}

fn sbom(tmp: &Path, args: &[&str]) -> Output {
    bosun()
        .args(["sbom", "--no-cache", &target(tmp)])
        .args(args)
        .output()
        .unwrap()
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

fn err(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(2), "expected an error: {out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn is_json(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Value>(bytes).is_ok()
}

fn run(cmd: &str, args: &[&str]) -> std::process::ExitStatus {
    Command::new(cmd).args(args).status().unwrap()
}

#[test]
fn dev_stdout_prints_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let out = ok(sbom(tmp.path(), &["-o", "cyclonedx-json=/dev/stdout"]));
    assert!(
        is_json(&out.stdout),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Trivy's spelling too.
    let out = ok(sbom(tmp.path(), &["-f", "json", "-o", "/dev/stdout"]));
    assert!(is_json(&out.stdout));
}

#[test]
fn a_character_device_stays_a_device() {
    let tmp = tempfile::tempdir().unwrap();
    let dev = tmp.path().join("null");
    let made = Command::new("mknod")
        .arg(&dev)
        .args(["c", "1", "3"])
        .output()
        .unwrap();
    if !made.status.success() {
        let why = String::from_utf8_lossy(&made.stderr);
        assert!(
            why.contains("not permitted"),
            "mknod failed for another reason than EPERM: {why}"
        );
        eprintln!("skipped: mknod needs CAP_MKNOD here: {why}");
        return;
    }
    ok(sbom(
        tmp.path(),
        &["-o", &format!("cyclonedx-json={}", dev.display())],
    ));
    let m = std::fs::symlink_metadata(&dev).unwrap();
    assert!(
        m.file_type().is_char_device(),
        "{dev:?} was replaced: {m:?}"
    );
    assert_eq!(m.rdev(), std::fs::metadata("/dev/null").unwrap().rdev());
}

#[test]
fn a_fifo_is_written_not_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("pipe");
    assert!(run("mkfifo", &[fifo.to_str().unwrap()]).success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    ok(sbom(
        tmp.path(),
        &["-o", &format!("json={}", fifo.display())],
    ));
    // Checked before joining: a replaced FIFO leaves the reader waiting.
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo(),
        "the FIFO was replaced"
    );
    let got = reader.join().unwrap();
    assert!(is_json(&got), "{}", String::from_utf8_lossy(&got));
}

#[test]
fn a_symlink_is_followed_and_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real.json");
    std::fs::write(&real, "old").unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = tmp.path().join("link.json");
    std::os::unix::fs::symlink("real.json", &link).unwrap();
    ok(sbom(
        tmp.path(),
        &["-o", &format!("json={}", link.display())],
    ));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(is_json(&std::fs::read(&real).unwrap()));
    assert_eq!(
        std::fs::metadata(&real).unwrap().mode() & 0o7777,
        0o640,
        "mode of the file behind the link"
    );
    // A link to a file not there yet creates that file.
    let dangling = tmp.path().join("dangling.json");
    std::os::unix::fs::symlink("made.json", &dangling).unwrap();
    ok(sbom(
        tmp.path(),
        &["-o", &format!("json={}", dangling.display())],
    ));
    assert!(is_json(
        &std::fs::read(tmp.path().join("made.json")).unwrap()
    ));
}

#[test]
fn an_existing_file_keeps_mode_and_owner() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("report.json");
    std::fs::write(&file, "old").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o604)).unwrap();
    let chowned = run("chown", &["65534:65534", file.to_str().unwrap()]).success();
    ok(sbom(
        tmp.path(),
        &["-o", &format!("json={}", file.display())],
    ));
    let m = std::fs::metadata(&file).unwrap();
    assert!(is_json(&std::fs::read(&file).unwrap()));
    assert_eq!(m.mode() & 0o7777, 0o604);
    if chowned {
        assert_eq!((m.uid(), m.gid()), (65534, 65534), "owner lost");
    } else {
        eprintln!("owner part skipped: chown to 65534 is not permitted here");
    }
    // No temporary file left beside it.
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
}

fn mode_with_umask(umask: &str) -> u32 {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("new.json");
    let script = format!(
        "umask {umask}; exec \"$0\" sbom --no-cache {} -o json={}",
        target(tmp.path()),
        file.display()
    );
    ok(Command::new("sh")
        .args(["-c", &script, env!("CARGO_BIN_EXE_bosun")])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap());
    std::fs::metadata(&file).unwrap().mode() & 0o7777
}

#[test]
fn new_files_honour_the_umask() {
    assert_eq!(mode_with_umask("022"), 0o644);
    assert_eq!(mode_with_umask("077"), 0o600);
    assert_eq!(mode_with_umask("002"), 0o664);
}

#[test]
fn a_failed_run_leaves_the_old_file() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("keep.json");
    std::fs::write(&file, "old").unwrap();
    let out = bosun()
        .args(["sbom", "--no-cache", "dir:/nonexistent/bosun-test"])
        .args(["-o", &format!("json={}", file.display())])
        .output()
        .unwrap();
    err(&out);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "old");
}

#[test]
fn one_o_rule_in_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    // `-o json` is JSON on standard output, not a file named json.
    let out = ok(bosun()
        .current_dir(t)
        .args(["sbom", "--no-cache", &target(t), "-o", "json"])
        .output()
        .unwrap());
    assert!(is_json(&out.stdout));
    assert!(!t.join("json").exists());

    // FORMAT=FILE and -f FORMAT -o FILE in config, as in sbom.
    let df = t.join("Dockerfile");
    std::fs::write(&df, "FROM alpine:3.19\nUSER app\n").unwrap();
    let sarif = t.join("x.sarif");
    let out = bosun()
        .current_dir(t)
        .args(["config", df.to_str().unwrap(), "--fail-on", "none"])
        .args(["-o", &format!("sarif={}", sarif.display()), "-o", "json"])
        .output()
        .unwrap();
    let out = ok(out);
    assert!(is_json(&out.stdout));
    let doc: Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    assert!(!t.join(format!("sarif={}", sarif.display())).exists());
    let j = t.join("c.json");
    ok(bosun()
        .args(["config", df.to_str().unwrap(), "--fail-on", "none"])
        .args(["-f", "json", "-o", j.to_str().unwrap()])
        .output()
        .unwrap());
    assert!(is_json(&std::fs::read(&j).unwrap()));

    // Ambiguous values: an error that says what to type, nothing written.
    for (args, want) in [
        (vec!["-f", "table", "-o", "json"], "-o ./json"),
        (vec!["-o", "out.json"], "-o json=out.json"),
        (vec!["-o", "sarif"], "does not write sarif"),
        (vec!["-o", "sarf=x"], "unknown format"),
        (vec!["-o", "json", "-o", "table"], "standard output"),
    ] {
        let out = bosun()
            .current_dir(t)
            .args(["sbom", "--no-cache", &target(t)])
            .args(&args)
            .output()
            .unwrap();
        let e = err(&out);
        assert!(e.contains(want), "{args:?}: {e}");
    }
    for (args, want) in [
        (vec!["-o", "x.sarif"], "-o sarif=x.sarif"),
        (
            vec!["-o", "cyclonedx-json"],
            "does not write cyclonedx-json",
        ),
    ] {
        let out = bosun()
            .current_dir(t)
            .args(["config", df.to_str().unwrap()])
            .args(&args)
            .output()
            .unwrap();
        let e = err(&out);
        assert!(e.contains(want), "{args:?}: {e}");
    }
    assert!(!t.join("out.json").exists());
}

/// A cause is printed once: error types keep it in `source()`, not also in
/// their own message.
#[test]
fn causes_are_printed_once() {
    for target in ["dir:/nonexistent/bosun", "oci-archive:/nonexistent/bosun"] {
        let out = bosun()
            .args(["sbom", "--no-cache", target])
            .output()
            .unwrap();
        let e = err(&out);
        assert_eq!(e.matches("No such file or directory").count(), 1, "{e}");
    }
}
