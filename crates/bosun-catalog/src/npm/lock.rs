//! package-lock.json / npm-shrinkwrap.json: v1 (nested `dependencies`) and
//! v2/v3 (flat `packages` keyed by install path).

use serde_json::{Map, Value};

use super::{Lock, LockEntry, licenses};

/// v1 nests one level per node_modules directory; npm 5+ trees are nearly
/// flat. (serde_json's own limit of 128 would stop at about 63 levels.)
const MAX_DEPTH: usize = 32;

pub(super) fn parse(text: &str) -> Result<Lock, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let Value::Object(top) = &v else {
        return Err("not a JSON object".into());
    };
    let mut lock = Lock::default();
    let packages = top.get("packages").and_then(Value::as_object);
    let root = packages.and_then(|p| p.get("")).unwrap_or(&v);
    if let (Some(n), Some(ver)) = (str_field(root, "name"), str_field(root, "version")) {
        lock.root = Some((n.to_string(), ver.to_string()));
    }
    if let Some(pkgs) = packages {
        for (key, e) in pkgs {
            // Keys outside node_modules are the project and its workspace
            // members; `link` entries point at those.
            let Some(pos) = key.rfind("node_modules/") else {
                continue;
            };
            if e.get("link").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let name = str_field(e, "name").unwrap_or(&key[pos + "node_modules/".len()..]);
            push(&mut lock, name, e, Some(key.clone()));
        }
    } else if let Some(deps) = top.get("dependencies").and_then(Value::as_object) {
        walk_v1(&mut lock, deps, "", 0);
    }
    Ok(lock)
}

fn walk_v1(lock: &mut Lock, deps: &Map<String, Value>, prefix: &str, depth: usize) {
    if depth > MAX_DEPTH {
        lock.skipped += 1;
        return;
    }
    for (name, e) in deps {
        let path = format!("{prefix}node_modules/{name}");
        push(lock, name, e, Some(path.clone()));
        if let Some(nested) = e.get("dependencies").and_then(Value::as_object) {
            walk_v1(lock, nested, &format!("{path}/"), depth + 1);
        }
    }
}

fn push(lock: &mut Lock, name: &str, e: &Value, path: Option<String>) {
    let version = match e.get("version") {
        Some(Value::String(s)) => s.as_str(),
        // Not installed for this platform, or not a package at all.
        None => return,
        Some(_) => {
            lock.skipped += 1;
            return;
        }
    };
    // v1 spells aliases `npm:real-name@1.2.3` and local packages `file:...`.
    let (name, version) = match version.strip_prefix("npm:") {
        Some(alias) => match alias.get(1..).and_then(|s| s.find('@')) {
            Some(at) => (&alias[..at + 1], &alias[at + 2..]),
            None => (name, version),
        },
        None => (name, version),
    };
    if name.is_empty() || version.is_empty() || version.starts_with("file:") {
        return;
    }
    lock.entries.push(LockEntry {
        name: name.to_string(),
        version: version.to_string(),
        path,
        dev: e.get("dev").and_then(Value::as_bool) == Some(true),
        resolved: str_field(e, "resolved").map(str::to_string),
        integrity: str_field(e, "integrity").map(str::to_string),
        licenses: licenses(e),
    });
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn v1_nested_dependencies() {
        let lock = parse(
            r#"{"name":"p","version":"1.0.0","lockfileVersion":1,"dependencies":{
                "a":{"version":"1.0.0","dev":true,"resolved":"https://r/a.tgz","integrity":"sha1-x",
                     "dependencies":{"b":{"version":"2.0.0"}}},
                "c":{"version":"npm:@s/real@3.0.0"},
                "d":{"version":"file:../d"},
                "e":{"version":7}}}"#,
        )
        .unwrap();
        assert_eq!(lock.root, Some(("p".into(), "1.0.0".into())));
        let got: Vec<_> = lock
            .entries
            .iter()
            .map(|e| {
                (
                    e.name.as_str(),
                    e.version.as_str(),
                    e.path.as_deref().unwrap(),
                    e.dev,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("a", "1.0.0", "node_modules/a", true),
                ("b", "2.0.0", "node_modules/a/node_modules/b", false),
                ("@s/real", "3.0.0", "node_modules/c", false),
            ]
        );
        assert_eq!(lock.skipped, 1);
    }

    #[test]
    fn v3_packages_skip_links_and_workspaces() {
        let lock = parse(
            r#"{"lockfileVersion":3,"packages":{
                "":{"name":"root","version":"0.1.0"},
                "packages/w":{"name":"w","version":"1.0.0"},
                "node_modules/w":{"resolved":"packages/w","link":true},
                "node_modules/@s/x":{"version":"1.2.3","license":"MIT","optional":true},
                "node_modules/al":{"name":"real","version":"2.0.0"},
                "node_modules/bad":{"version":{"a":1}}}}"#,
        )
        .unwrap();
        assert_eq!(lock.root, Some(("root".into(), "0.1.0".into())));
        let got: Vec<_> = lock
            .entries
            .iter()
            .map(|e| (e.name.as_str(), e.version.as_str()))
            .collect();
        assert_eq!(got, [("@s/x", "1.2.3"), ("real", "2.0.0")]);
        assert_eq!(lock.entries[0].licenses, ["MIT"]);
        assert_eq!(lock.skipped, 1);
    }

    #[test]
    fn hostile_json() {
        assert!(parse("").is_err());
        assert!(parse("[1,2]").is_err());
        assert!(parse("{\"packages\":").is_err());
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(&deep).is_err());
        // Nesting past the bound is counted, not followed.
        let mut s = String::from("{\"dependencies\":");
        for _ in 0..40 {
            s.push_str("{\"a\":{\"version\":\"1\",\"dependencies\":");
        }
        s.push_str("{}");
        for _ in 0..40 {
            s.push_str("}}");
        }
        s.push('}');
        let lock = parse(&s).unwrap();
        assert_eq!(lock.entries.len(), 33);
        assert_eq!(lock.skipped, 1);
    }
}
