//! Real rpm packages for tests: built by `rpmbuild` and installed into a
//! directory by `rpm --root`, which records every file's digest in the
//! sqlite database at `/var/lib/rpm` exactly as on a real system.

use std::path::Path;
use std::process::Command;

/// The file digest algorithm rpmbuild records.
#[derive(Clone, Copy)]
pub enum Digest {
    /// rpm's default since 4.6.
    Sha256,
    /// What packages built before that carry.
    Md5,
}

/// Build package `name` (1.0-1, noarch) holding `files` (paths relative to
/// `/`) with file digests of `digest`, and install it into `root`.
pub fn install(root: &Path, name: &str, files: &[(&str, &[u8])], digest: Digest) {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    for (path, data) in files {
        let p = src.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
    let listed: Vec<String> = files
        .iter()
        .map(|(p, _)| format!("/{}", p.trim_start_matches('/')))
        .collect();
    let spec = work.path().join(format!("{name}.spec"));
    std::fs::write(
        &spec,
        format!(
            "Name: {name}\nVersion: 1.0\nRelease: 1\nSummary: test package\nLicense: MIT\n\
             BuildArch: noarch\n%description\ntest package\n\
             %install\nmkdir -p %{{buildroot}}\ncp -a {}/. %{{buildroot}}/\n\
             %files\n{}\n",
            src.display(),
            listed.join("\n")
        ),
    )
    .unwrap();
    let algo = match digest {
        Digest::Sha256 => "8",
        Digest::Md5 => "1",
    };
    let top = work.path().join("top");
    let out = work.path().join("out");
    crate::run_ok(
        Command::new("rpmbuild")
            .arg("--define")
            .arg(format!("_topdir {}", top.display()))
            .arg("--define")
            .arg(format!("_rpmdir {}", out.display()))
            .arg("--define")
            .arg(format!("_binary_filedigest_algorithm {algo}"))
            .args(["--define", "__os_install_post %{nil}", "-bb"])
            .arg(&spec),
    );
    let rpm = out.join(format!("noarch/{name}-1.0-1.noarch.rpm"));
    crate::run_ok(
        Command::new("rpm")
            .arg(format!("--root={}", root.display()))
            .args(["--dbpath", "/var/lib/rpm", "--nodeps", "--noscripts", "-i"])
            .arg(&rpm),
    );
}
