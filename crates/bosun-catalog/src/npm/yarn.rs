//! yarn.lock: classic v1 (yarn's own indented text format) and berry (YAML
//! with a `__metadata` entry).

use super::yaml::{self, Node};
use super::{Lock, LockEntry};

pub(super) fn parse(text: &str) -> Result<Lock, String> {
    if text.lines().any(|l| l.starts_with("__metadata:")) {
        parse_berry(text)
    } else {
        Ok(parse_v1(text))
    }
}

/// `@scope/name@range` -> `@scope/name` (the first `@` of a scope is not the separator).
fn spec_name(spec: &str) -> &str {
    match spec.get(1..).and_then(|s| s.find('@')) {
        Some(at) => &spec[..at + 1],
        None => spec,
    }
}

/// Entries start with an unindented `spec, spec:` line; their own fields are
/// indented two spaces (`version "1.2.3"`), dependency lists four.
fn parse_v1(text: &str) -> Lock {
    let mut lock = Lock::default();
    let mut cur: Option<LockEntry> = None;
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            lock.entries
                .extend(cur.take().filter(|e| !e.version.is_empty()));
            let Some(header) = line.trim_end().strip_suffix(':') else {
                continue;
            };
            let first = header
                .split(',')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('"');
            let name = spec_name(first);
            if !name.is_empty() {
                cur = Some(LockEntry {
                    name: name.to_string(),
                    ..LockEntry::default()
                });
            }
            continue;
        }
        let Some(e) = cur.as_mut() else {
            continue;
        };
        if line.starts_with("   ") {
            continue;
        }
        let Some((key, value)) = line.trim().split_once(' ') else {
            continue;
        };
        let value = value.trim().trim_matches('"').to_string();
        match key {
            "version" => e.version = value,
            "resolved" => e.resolved = Some(value),
            "integrity" => e.integrity = Some(value),
            _ => {}
        }
    }
    lock.entries.extend(cur.filter(|e| !e.version.is_empty()));
    lock
}

/// Berry lists every resolution once. Workspaces are the project itself,
/// `patch:` entries re-list an npm package with a patch applied, and
/// `link:`/`portal:` point at local folders: none is a separate package.
fn parse_berry(text: &str) -> Result<Lock, String> {
    let root = yaml::parse(text)?;
    let mut lock = Lock::default();
    for (key, e) in root.entries() {
        if key == "__metadata" {
            continue;
        }
        let resolution = e
            .get("resolution")
            .and_then(Node::str)
            .unwrap_or_else(|| key.split(',').next().unwrap_or(""));
        let name = spec_name(resolution);
        let reference = resolution.get(name.len() + 1..).unwrap_or("");
        let protocol = reference.split_once(':').map_or("", |(p, _)| p);
        if matches!(protocol, "workspace" | "patch" | "link" | "portal") {
            continue;
        }
        let Some(version) = e.get("version").and_then(Node::str) else {
            lock.skipped += 1;
            continue;
        };
        if name.is_empty() || version.is_empty() || version == "0.0.0-use.local" {
            continue;
        }
        lock.entries.push(LockEntry {
            name: name.to_string(),
            version: version.to_string(),
            resolved: (protocol != "npm").then(|| resolution.to_string()),
            ..LockEntry::default()
        });
    }
    Ok(lock)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn read(name: &str) -> Option<String> {
        let p = bosun_testutil::fixture(&format!("files/lockfiles/yarn/{name}"))?;
        Some(std::fs::read_to_string(p).unwrap())
    }

    fn find<'a>(lock: &'a Lock, name: &str, version: &str) -> Option<&'a LockEntry> {
        lock.entries
            .iter()
            .find(|e| e.name == name && e.version == version)
    }

    #[test]
    fn classic_v1_prettier() {
        let Some(text) = read("prettier-classic-v1.yarn.lock") else {
            return;
        };
        let lock = parse(&text).unwrap();
        // Independent count: every entry has exactly one `  version "..."` line.
        let expected = text
            .lines()
            .filter(|l| l.starts_with("  version \""))
            .count();
        assert!(expected > 900);
        assert_eq!(lock.entries.len(), expected);
        let cf = find(&lock, "@babel/code-frame", "7.16.7").unwrap();
        assert_eq!(
            cf.resolved.as_deref(),
            Some(
                "https://registry.yarnpkg.com/@babel/code-frame/-/code-frame-7.16.7.tgz#44416b6bd7624b998f5b1af5d470856c40138789"
            )
        );
        assert!(
            cf.integrity
                .as_deref()
                .unwrap()
                .starts_with("sha512-iAXqUn8IIeBTNd72")
        );
        assert!(find(&lock, "@ampproject/remapping", "2.1.1").is_some());
        assert!(find(&lock, "@angular/compiler", "12.2.16").is_some());
        // A GitHub dependency: the name still comes from its spec.
        assert!(lock.entries.iter().any(|e| e.name == "parse-srcset"));
    }

    #[test]
    fn berry_prettier() {
        let Some(text) = read("prettier-berry-v10.yarn.lock") else {
            return;
        };
        let lock = parse(&text).unwrap();
        // Independent count: one `  resolution:` per entry, minus the one
        // workspace and the two patch entries.
        let resolutions: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("  resolution: "))
            .collect();
        let virtual_ = resolutions
            .iter()
            .filter(|l| l.contains("@workspace:") || l.contains("@patch:"))
            .count();
        assert_eq!(virtual_, 3);
        assert_eq!(lock.entries.len(), resolutions.len() - virtual_);
        assert_eq!(lock.skipped, 0);
        assert!(find(&lock, "@angular/compiler", "22.0.8").is_some());
        assert!(find(&lock, "@babel/code-frame", "7.29.7").is_some());
        assert!(find(&lock, "@babel/code-frame", "8.0.0").is_some());
        assert!(find(&lock, "fsevents", "2.3.3").is_some());
        assert!(
            !lock
                .entries
                .iter()
                .any(|e| e.name == "prettier" && e.version == "0.0.0-use.local")
        );
    }

    #[test]
    fn spec_names() {
        assert_eq!(spec_name("@babel/core@^7.0.0"), "@babel/core");
        assert_eq!(spec_name("lodash@npm:4.17.21"), "lodash");
        assert_eq!(spec_name("x"), "x");
        assert_eq!(spec_name(""), "");
        assert_eq!(spec_name("@"), "@");
    }

    #[test]
    fn hostile_yarn() {
        assert_eq!(
            parse_v1("a@1:\n  version\n  version \"\"\n\"@\":\n")
                .entries
                .len(),
            0
        );
        assert!(parse("__metadata:\n  version: [\n").is_err());
        let lock = parse("__metadata:\n  version: 6\n\"a@npm:1\":\n  version: [1]\n").unwrap();
        assert_eq!((lock.entries.len(), lock.skipped), (0, 1));
    }
}
