//! The distribution an image is built on, from `/etc/os-release`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distro {
    /// `ID`, e.g. `debian`, `alpine`, `fedora`.
    pub id: String,
    /// `VERSION_ID`, e.g. `12`, `3.18.4`.
    pub version_id: Option<String>,
    pub version_codename: Option<String>,
    pub pretty_name: Option<String>,
    pub id_like: Vec<String>,
}

impl Distro {
    /// Parse the os-release format (shell-like `KEY=value` lines, optionally quoted).
    pub fn parse_os_release(text: &str) -> Option<Distro> {
        let mut d = Distro::default();
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let v = unquote(v.trim());
            match k.trim() {
                "ID" => d.id = v.to_ascii_lowercase(),
                "VERSION_ID" => d.version_id = Some(v),
                "VERSION_CODENAME" => d.version_codename = Some(v).filter(|s| !s.is_empty()),
                "PRETTY_NAME" => d.pretty_name = Some(v),
                "ID_LIKE" => d.id_like = v.split_whitespace().map(str::to_string).collect(),
                _ => {}
            }
        }
        if d.id.is_empty() { None } else { Some(d) }
    }

    /// The `distro` qualifier of a purl, e.g. `debian-12` (the purl spec's examples).
    pub fn purl_qualifier(&self) -> String {
        match &self.version_id {
            Some(v) => format!("{}-{}", self.id, v),
            None => self.id.clone(),
        }
    }
}

fn unquote(v: &str) -> String {
    let v = v
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
        .unwrap_or(v);
    // os-release allows shell escapes of ", \, $ and `.
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_debian() {
        let d = Distro::parse_os_release(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n",
        )
        .unwrap();
        assert_eq!(d.id, "debian");
        assert_eq!(d.version_id.as_deref(), Some("12"));
        assert_eq!(d.purl_qualifier(), "debian-12");
        assert!(Distro::parse_os_release("garbage").is_none());
    }
}
