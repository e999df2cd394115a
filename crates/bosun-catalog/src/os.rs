//! The distro, from os-release.

use bosun_core::Distro;

use crate::FileIndex;

const PATHS: [&str; 2] = ["/etc/os-release", "/usr/lib/os-release"];

pub fn wants(path: &str) -> bool {
    PATHS.contains(&path)
}

/// `/etc/os-release` first, then `/usr/lib/os-release`, as os-release(5) says.
pub fn detect(index: &FileIndex) -> Option<Distro> {
    PATHS.iter().find_map(|p| {
        let rec = index.get(p)?;
        Distro::parse_os_release(&String::from_utf8_lossy(rec.content()?))
    })
}
