//! The real CNCF distribution registry for tests: started per test on a
//! free loopback port with its own config and storage, killed on drop; and
//! skopeo to put real fixture images into it.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

/// A tool the test needs: missing means skip, except under CI=true.
pub fn tool(path: &str) -> Option<PathBuf> {
    let p = PathBuf::from(path);
    if p.exists() {
        return Some(p);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{path} is missing (run scripts/test-deps.sh); CI=true: never skipped");
    }
    eprintln!("SKIPPED: {path} is missing (run scripts/test-deps.sh)");
    None
}

pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A running `docker-registry serve`, killed on drop.
pub struct RegistryProcess {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl RegistryProcess {
    /// Start the registry with `extra` YAML appended (auth, TLS under `http:`
    /// goes in `http_extra`). Waits until it accepts connections.
    pub fn start(http_extra: &str, extra: &str) -> RegistryProcess {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: bosun-test\n{http_extra}{extra}",
            dir.path().join("data").display()
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let mut child = Command::new(REGISTRY_BIN)
            .arg("serve")
            .arg(&config_path)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let log =
                    std::fs::read_to_string(dir.path().join("registry.log")).unwrap_or_default();
                panic!("docker-registry exited with {status}:\n{log}");
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        RegistryProcess { child, port, dir }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for RegistryProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `skopeo copy oci:<fixture>:latest docker://<dest>` with extra flags.
pub fn skopeo_copy(fixture: &Path, dest: &str, flags: &[&str]) {
    let out = Command::new("skopeo")
        .arg("copy")
        .arg("--quiet")
        .args(flags)
        .arg(format!("oci:{}:latest", fixture.display()))
        .arg(format!("docker://{dest}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "skopeo copy to {dest} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What the registry serves for `reference`, as skopeo sees it.
pub fn skopeo_inspect_raw(reference: &str, flags: &[&str]) -> Vec<u8> {
    let out = Command::new("skopeo")
        .arg("inspect")
        .arg("--raw")
        .args(flags)
        .arg(format!("docker://{reference}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "skopeo inspect {reference} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
