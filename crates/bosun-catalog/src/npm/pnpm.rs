//! pnpm-lock.yaml: `packages:` keys are `/name/1.2.3_peer` (v5),
//! `/name@1.2.3(peer@x)` (v6) and `name@1.2.3` (v9, peers only in `snapshots:`).

use super::yaml::{self, Node};
use super::{Lock, LockEntry};

pub(super) fn parse(text: &str) -> Result<Lock, String> {
    let root = yaml::parse(text)?;
    let version = root
        .get("lockfileVersion")
        .and_then(Node::str)
        .unwrap_or("");
    let slash_keys = matches!(version.split('.').next(), Some("3" | "4" | "5"));
    let mut lock = Lock::default();
    for (key, e) in root.get("packages").map(Node::entries).unwrap_or_default() {
        // Tarball and git dependencies carry their own name and version.
        let named = e
            .get("name")
            .and_then(Node::str)
            .zip(e.get("version").and_then(Node::str));
        let Some((name, version)) = named.or_else(|| key_name_version(key, slash_keys)) else {
            lock.skipped += 1;
            continue;
        };
        if name.is_empty() || version.is_empty() {
            lock.skipped += 1;
            continue;
        }
        let resolution = e.get("resolution");
        let field = |k: &str| {
            resolution
                .and_then(|r| r.get(k))
                .and_then(Node::str)
                .map(str::to_string)
        };
        lock.entries.push(LockEntry {
            name: name.to_string(),
            version: version.to_string(),
            dev: e.get("dev").and_then(Node::str) == Some("true"),
            integrity: field("integrity"),
            resolved: field("tarball"),
            ..LockEntry::default()
        });
    }
    Ok(lock)
}

fn key_name_version(key: &str, slash_keys: bool) -> Option<(&str, &str)> {
    let k = key.strip_prefix('/').unwrap_or(key);
    let (name, version) = if slash_keys {
        // v5 encodes a `/` inside peer suffixes as `+`, so the last `/` splits.
        let (name, rest) = k.rsplit_once('/')?;
        (name, rest.split('_').next().unwrap_or(""))
    } else {
        let at = k.get(1..)?.find('@')? + 1;
        let rest = &k[at + 1..];
        (&k[..at], rest.split('(').next().unwrap_or(""))
    };
    Some((name, version))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn read(name: &str) -> Option<String> {
        let p = bosun_testutil::fixture(&format!("files/lockfiles/pnpm/{name}"))?;
        Some(std::fs::read_to_string(p).unwrap())
    }

    /// Keys of the `packages:` section, by a plain text scan: two-space
    /// indented lines ending in `:` between `packages:` and the next section.
    fn scanned_keys(text: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut inside = false;
        for l in text.lines() {
            if !l.starts_with(' ') && !l.is_empty() {
                inside = l == "packages:";
                continue;
            }
            if inside && l.starts_with("  ") && !l.starts_with("   ") && l.ends_with(':') {
                keys.push(
                    l.trim()
                        .trim_end_matches(':')
                        .trim_matches('\'')
                        .to_string(),
                );
            }
        }
        keys
    }

    fn pairs(lock: &Lock) -> BTreeSet<(String, String)> {
        lock.entries
            .iter()
            .map(|e| (e.name.clone(), e.version.clone()))
            .collect()
    }

    #[test]
    fn v9_same_version_different_peers() {
        let Some(text) = read("trivy-v9-same-vers-diff-peers.pnpm-lock.yaml") else {
            return;
        };
        let lock = parse(&text).unwrap();
        let want: BTreeSet<(String, String)> = [
            ("jest-config", "30.0.3"),
            ("jest-pnp-resolver", "1.2.3"),
            ("jest-resolve", "27.5.1"),
            ("jest-resolve", "30.0.2"),
            ("jest-runner", "27.5.1"),
            ("jest-runner", "30.0.3"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(pairs(&lock), want);
        assert_eq!(lock.entries.len(), 6);
        assert!(
            lock.entries[0]
                .integrity
                .as_deref()
                .unwrap()
                .starts_with("sha512-j0L4oRCt")
        );
    }

    #[test]
    fn vue_v6_and_v9() {
        for file in [
            "vuejs-core-v6.pnpm-lock.yaml",
            "vuejs-core-v9.pnpm-lock.yaml",
        ] {
            let Some(text) = read(file) else {
                return;
            };
            let lock = parse(&text).unwrap();
            let keys = scanned_keys(&text);
            assert!(keys.len() > 500, "{file}");
            assert_eq!(lock.entries.len(), keys.len(), "{file}");
            assert_eq!(lock.skipped, 0, "{file}");
            let p = pairs(&lock);
            assert!(
                p.iter()
                    .all(|(n, v)| !n.is_empty() && !v.contains('(') && !v.starts_with('@'))
            );
            if file.contains("v6") {
                assert!(p.contains(&("@babel/code-frame".into(), "7.23.5".into())));
                assert!(p.contains(&("@aashutoshrathi/word-wrap".into(), "1.2.6".into())));
                assert!(lock.entries.iter().any(|e| e.dev));
            }
        }
    }

    #[test]
    fn v5_keys() {
        let lock = parse(
            "lockfileVersion: 5.4\npackages:\n  /string_decoder/1.3.0:\n    dev: true\n  /@types/node/18.0.0_typescript@4.9.5:\n    resolution: {integrity: sha512-x}\n  /a/1.0.0_@types+node@18.0.0:\n    dev: false\n",
        )
        .unwrap();
        let got: Vec<_> = lock
            .entries
            .iter()
            .map(|e| (e.name.as_str(), e.version.as_str(), e.dev))
            .collect();
        assert_eq!(
            got,
            [
                ("string_decoder", "1.3.0", true),
                ("@types/node", "18.0.0", false),
                ("a", "1.0.0", false)
            ]
        );
        assert_eq!(lock.entries[1].integrity.as_deref(), Some("sha512-x"));
    }

    #[test]
    fn v6_keys_and_hostile() {
        assert_eq!(
            key_name_version("/@s/n@1.0.0(react@18.0.0)", false),
            Some(("@s/n", "1.0.0"))
        );
        assert_eq!(key_name_version("n@2.0.0", false), Some(("n", "2.0.0")));
        assert_eq!(key_name_version("github.com/a/b/0123", false), None);
        assert_eq!(key_name_version("", false), None);
        assert_eq!(key_name_version("/", true), None);
        assert!(parse("packages: [").is_err());
        let lock = parse("lockfileVersion: '6.0'\npackages:\n  weird: 1\n  /x@: {}\n").unwrap();
        assert_eq!((lock.entries.len(), lock.skipped), (0, 2));
        assert!(parse("packages: 7\n").unwrap().entries.is_empty());
    }
}
