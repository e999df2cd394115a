//! Real Debian packages for tests: built by `dpkg-deb` and installed into a
//! directory by `dpkg --root`, which writes the status, the file list and
//! the `md5sums` exactly as it does on a real system.

use std::path::Path;
use std::process::Command;

/// Build package `name` (version 1.0, `all`) holding `files` (paths
/// relative to `/`) and install it into the root filesystem `root`,
/// creating an empty dpkg database there first if it has none.
pub fn install(root: &Path, name: &str, files: &[(&str, &[u8])]) {
    let admin = root.join("var/lib/dpkg");
    for d in ["info", "updates"] {
        std::fs::create_dir_all(admin.join(d)).unwrap();
    }
    if !admin.join("status").exists() {
        std::fs::write(admin.join("status"), b"").unwrap();
    }
    let work = tempfile::tempdir().unwrap();
    let pkg = work.path().join("pkg");
    std::fs::create_dir_all(pkg.join("DEBIAN")).unwrap();
    std::fs::write(
        pkg.join("DEBIAN/control"),
        format!(
            "Package: {name}\nVersion: 1.0\nArchitecture: all\n\
             Maintainer: bosun tests <tests@example.org>\nDescription: test package\n"
        ),
    )
    .unwrap();
    for (path, data) in files {
        let p = pkg.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
    let deb = work.path().join(format!("{name}.deb"));
    crate::run_ok(
        Command::new("dpkg-deb")
            .args(["--root-owner-group", "--build"])
            .arg(&pkg)
            .arg(&deb)
            .env("SOURCE_DATE_EPOCH", "0"),
    );
    crate::run_ok(
        Command::new("dpkg")
            .arg(format!("--root={}", root.display()))
            .args([
                "--force-not-root",
                "--force-bad-path",
                "--log=/dev/null",
                "-i",
            ])
            .arg(&deb),
    );
}
