//! The secret scanner over real images: every secret planted in the
//! `secrets` fixture (fixtures/truth/secrets.json) is found in the right
//! layer with the right deleted flag, and no fixture image yields anything
//! else.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

use bosun_scan::{Quiet, ScanOptions, Scanned, Target, scan};

fn image(name: &str) -> Option<Target> {
    let dir = bosun_testutil::fixture(&format!("images/oci/{name}"))?;
    Some(Target::parse(&format!("oci:{}", dir.display())).unwrap())
}

fn with_secrets() -> ScanOptions {
    ScanOptions {
        secrets: true,
        ..ScanOptions::default()
    }
}

/// The image config of a fixture image, as stored.
fn fixture_config(name: &str) -> serde_json::Value {
    let dir = bosun_testutil::fixture(&format!("images/oci/{name}")).unwrap();
    let blob = |digest: &str| -> serde_json::Value {
        let hex = digest.strip_prefix("sha256:").unwrap();
        serde_json::from_slice(&std::fs::read(dir.join("blobs/sha256").join(hex)).unwrap()).unwrap()
    };
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let manifest = blob(index["manifests"][0]["digest"].as_str().unwrap());
    blob(manifest["config"]["digest"].as_str().unwrap())
}

/// The rule each kind of planted secret belongs to.
fn rule_of(kind: &str) -> &'static str {
    let table = [
        ("aws-access-key-id", "aws-access-key-id"),
        ("aws-secret-access-key", "aws-secret-access-key"),
        ("ec-private-key", "ec-private-key"),
        ("private-key (PKCS#8", "pkcs8-private-key"),
        ("github-pat", "github-pat"),
        ("password (generic", "generic-password"),
        ("password in postgres URL", "url-password"),
    ];
    table
        .iter()
        .find(|(k, _)| kind.starts_with(k))
        .map(|(_, r)| *r)
        .unwrap_or_else(|| panic!("no rule for planted kind {kind:?}"))
}

/// (rule, path, layer index, deleted, fingerprint)
type Key = (String, String, Option<usize>, bool, String);

fn found(s: &Scanned) -> BTreeSet<Key> {
    s.secrets
        .iter()
        .map(|f| {
            (
                f.rule_id.clone(),
                f.path.clone(),
                f.layer_index,
                f.deleted,
                f.fingerprint.clone(),
            )
        })
        .collect()
}

#[test]
fn planted_secrets_are_found_with_layer_and_deleted_flag() {
    let (Some(target), Some(truth)) = (
        image("secrets"),
        bosun_testutil::fixture("truth/secrets.json"),
    ) else {
        return;
    };
    let truth: serde_json::Value = serde_json::from_slice(&std::fs::read(truth).unwrap()).unwrap();
    let s = scan(&target, &with_secrets(), &Quiet).unwrap();
    // The history as the image config has it (bosun's copy is redacted).
    let history: Vec<String> = fixture_config("secrets")["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["created_by"].as_str().map(String::from))
        .collect();
    let mut expected = BTreeSet::new();
    for p in truth["secrets"].as_array().unwrap() {
        let kind = p["kind"].as_str().unwrap();
        let rule = rule_of(kind);
        let value = p["value"].as_str().unwrap();
        // A URL's secret is its password.
        let secret = if rule == "url-password" {
            let userinfo = value
                .split_once("://")
                .unwrap()
                .1
                .split_once('@')
                .unwrap()
                .0;
            userinfo.split_once(':').unwrap().1
        } else {
            value
        };
        let fp = bosun_secret::fingerprint(rule, secret);
        let path = p["path"].as_str().unwrap().to_string();
        let layer = p["layer_index"].as_u64().map(|i| i as usize);
        let deleted = p["deleted_later"].as_bool().unwrap();
        expected.insert((rule.to_string(), path.clone(), layer, deleted, fp.clone()));
        // What the config's Env holds, the build step that set it shows too.
        if path == "config.Env" {
            for (i, h) in history.iter().enumerate() {
                if h.contains(value) {
                    expected.insert((
                        rule.to_string(),
                        format!("history[{i}].created_by"),
                        None,
                        false,
                        fp.clone(),
                    ));
                }
            }
        }
    }
    assert_eq!(found(&s), expected, "{:#?}", s.secrets);
    // Each finding names its layer by diff_id, as the truth does.
    let layers = truth["layers"].as_array().unwrap();
    for f in &s.secrets {
        let want = f
            .layer_index
            .map(|i| layers[i]["diff_id"].as_str().unwrap().to_string());
        assert_eq!(f.layer.as_ref().map(|d| d.to_string()), want, "{f:?}");
        assert!(f.redacted.ends_with("****") && f.line >= 1, "{f:?}");
    }
    // The file still there is not reported as deleted; its lines are right.
    let env = s.secrets.iter().find(|f| f.path == "/app/.env").unwrap();
    assert_eq!((env.line, env.column, env.deleted), (1, 14, false));
    let settings = s
        .secrets
        .iter()
        .find(|f| f.path == "/app/config/settings.yaml")
        .unwrap();
    assert_eq!(settings.line, 4);
}

#[test]
fn no_finding_on_the_other_fixture_images() {
    let Some(dir) = bosun_testutil::fixture("images/oci") else {
        return;
    };
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "secrets")
        .collect();
    names.sort();
    assert!(names.len() >= 7, "{names:?}");
    for name in names {
        let s = scan(&image(&name).unwrap(), &with_secrets(), &Quiet).unwrap();
        let got: Vec<(&str, &str)> = s
            .secrets
            .iter()
            .map(|f| (f.rule_id.as_str(), f.path.as_str()))
            .collect();
        // debug@2.6.9 (from npm) really ships its Coveralls repo_token: a
        // genuine leaked credential, not a false positive.
        let want: &[(&str, &str)] = if name == "node-app" {
            &[("generic-secret", "/app/node_modules/debug/.coveralls.yml")]
        } else {
            &[]
        };
        assert_eq!(got, want, "{name}: {:#?}", s.secrets);
    }
}

#[test]
fn off_by_default_and_cached_per_scanner() {
    let Some(target) = image("secrets") else {
        return;
    };
    let off = scan(&target, &ScanOptions::default(), &Quiet).unwrap();
    assert!(off.secrets.is_empty());
    let cache = tempfile::tempdir().unwrap();
    let cached = |secrets: bool, cfg: bosun_secret::Config| ScanOptions {
        cache_dir: Some(cache.path().to_path_buf()),
        secrets,
        secret_config: cfg,
        ..ScanOptions::default()
    };
    // A cache filled without the scanner must not hide secrets later, and a
    // second run from the cache must give the same answer.
    scan(&target, &cached(false, Default::default()), &Quiet).unwrap();
    let cold = found(&scan(&target, &cached(true, Default::default()), &Quiet).unwrap());
    let warm = found(&scan(&target, &cached(true, Default::default()), &Quiet).unwrap());
    assert_eq!(cold.len(), 10);
    assert_eq!(cold, warm);
    // An allow-list changes the answer even with the layers cached.
    let cfg = bosun_secret::Config::from_bosun_yaml(
        "vulns: {}\nsecrets:\n  allow:\n    - path: /root/**\n    - rule: github-pat\n",
    )
    .unwrap();
    let allowed = found(&scan(&target, &cached(true, cfg), &Quiet).unwrap());
    let rules: BTreeSet<&str> = allowed.iter().map(|k| k.0.as_str()).collect();
    assert_eq!(
        rules,
        BTreeSet::from(["generic-password", "pkcs8-private-key", "url-password"])
    );
}

#[test]
fn directories_are_scanned_too() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("deploy")).unwrap();
    std::fs::write(
        tmp.path().join("deploy/.env"),
        "GITHUB_TOKEN=ghp_lxOFKnAteGtBk4edGB0vgGPNkoZz3C0qIB8c\n",
    )
    .unwrap();
    std::fs::write(tmp.path().join("README"), "nothing here\n").unwrap();
    let s = scan(
        &Target::Dir(tmp.path().to_path_buf()),
        &with_secrets(),
        &Quiet,
    )
    .unwrap();
    let got: Vec<(&str, &str, bool)> = s
        .secrets
        .iter()
        .map(|f| (f.rule_id.as_str(), f.path.as_str(), f.deleted))
        .collect();
    assert_eq!(got, [("github-pat", "/deploy/.env", false)]);
    assert!(Path::new(&tmp.path().join("README")).exists());
}

/// A root filesystem where dpkg itself installed package `demo-keys` with
/// three copies of a test key; then a builder edited one copy and added a
/// key of its own.
fn tree_with_package_keys(root: &Path) -> Vec<u8> {
    let key = bosun_testutil::ec_private_key();
    // More than one scan window: too big to hold for its MD5.
    let mut big = key.clone();
    big.extend(std::iter::repeat_n(b"# padding\n", 130_000).flatten());
    bosun_testutil::dpkg::install(
        root,
        "demo-keys",
        &[
            ("usr/share/demo/example-key.pem", &key),
            ("usr/share/demo/edited-key.pem", &key),
            ("usr/share/demo/big-key.pem", &big),
        ],
    );
    let edited = root.join("usr/share/demo/edited-key.pem");
    let mut bytes = std::fs::read(&edited).unwrap();
    bytes.extend_from_slice(b"# edited after install\n");
    std::fs::write(&edited, bytes).unwrap();
    std::fs::create_dir_all(root.join("etc/demo")).unwrap();
    std::fs::write(root.join("etc/demo/own-key.pem"), &key).unwrap();
    key
}

fn by_package(s: &Scanned) -> Vec<(String, Option<String>)> {
    let mut got: Vec<_> = s
        .secrets
        .iter()
        .map(|f| (f.path.clone(), f.package.clone()))
        .collect();
    got.sort();
    got
}

#[test]
fn files_packages_shipped_unmodified_are_told_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    tree_with_package_keys(&root);
    // Only the file still as dpkg's md5sums lists it is the package's.
    let want = vec![
        ("/etc/demo/own-key.pem".to_string(), None),
        ("/usr/share/demo/big-key.pem".to_string(), None),
        ("/usr/share/demo/edited-key.pem".to_string(), None),
        (
            "/usr/share/demo/example-key.pem".to_string(),
            Some("demo-keys".to_string()),
        ),
    ];
    let dir = scan(&Target::Dir(root.clone()), &with_secrets(), &Quiet).unwrap();
    assert_eq!(by_package(&dir), want);

    // The same tree as one image layer, and again with a cache.
    let layout = tmp.path().join("image");
    bosun_testutil::oci::layout_of_tree(&layout, &root);
    let target = Target::parse(&format!("oci:{}", layout.display())).unwrap();
    let cached = ScanOptions {
        cache_dir: Some(tmp.path().join("cache")),
        ..with_secrets()
    };
    for opts in [&with_secrets(), &cached, &cached] {
        let img = scan(&target, opts, &Quiet).unwrap();
        assert_eq!(by_package(&img), want);
        assert!(
            img.secrets
                .iter()
                .all(|f| f.layer_index == Some(0) && !f.deleted)
        );
    }
}

/// The same for rpm: its database keeps each file's digest, SHA-256 since
/// rpm 4.6 and MD5 before; rpm itself installs both kinds here.
#[test]
fn files_rpm_shipped_unmodified_are_told_apart() {
    use bosun_testutil::rpm::{Digest, install};
    let key = bosun_testutil::ec_private_key();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    install(
        &root,
        "keys-sha256",
        &[
            ("usr/share/a/example-key.pem", &key),
            ("usr/share/a/edited-key.pem", &key),
        ],
        Digest::Sha256,
    );
    install(
        &root,
        "keys-md5",
        &[("usr/share/b/example-key.pem", &key)],
        Digest::Md5,
    );
    let edited = root.join("usr/share/a/edited-key.pem");
    std::fs::write(&edited, [&key[..], b"# edited\n"].concat()).unwrap();
    let want = vec![
        ("/usr/share/a/edited-key.pem".to_string(), None),
        (
            "/usr/share/a/example-key.pem".to_string(),
            Some("keys-sha256".to_string()),
        ),
        (
            "/usr/share/b/example-key.pem".to_string(),
            Some("keys-md5".to_string()),
        ),
    ];
    let dir = scan(&Target::Dir(root.clone()), &with_secrets(), &Quiet).unwrap();
    assert_eq!(by_package(&dir), want);

    let layout = tmp.path().join("image");
    bosun_testutil::oci::layout_of_tree(&layout, &root);
    let target = Target::parse(&format!("oci:{}", layout.display())).unwrap();
    assert_eq!(
        by_package(&scan(&target, &with_secrets(), &Quiet).unwrap()),
        want
    );
}

/// The values planted in the `secrets` fixture's config, and a URL's
/// password alone.
fn planted_in_config() -> Vec<String> {
    let truth = bosun_testutil::fixture("truth/secrets.json").unwrap();
    let truth: serde_json::Value = serde_json::from_slice(&std::fs::read(truth).unwrap()).unwrap();
    let mut out = Vec::new();
    for p in truth["secrets"].as_array().unwrap() {
        if !p["path"].as_str().unwrap().starts_with("config.") {
            continue;
        }
        let v = p["value"].as_str().unwrap();
        if let Some((_, rest)) = v.split_once("://") {
            let userinfo = rest.split_once('@').unwrap().0;
            out.push(userinfo.split_once(':').unwrap().1.to_string());
        }
        out.push(v.to_string());
    }
    out
}

#[test]
fn image_metadata_is_redacted_with_or_without_the_secret_scanner() {
    let Some(target) = image("secrets") else {
        return;
    };
    let planted = planted_in_config();
    assert!(planted.len() >= 3);
    let raw_history = fixture_config("secrets")["history"]
        .as_array()
        .unwrap()
        .clone();
    for secrets in [false, true] {
        let opts = ScanOptions {
            secrets,
            ..ScanOptions::default()
        };
        let s = scan(&target, &opts, &Quiet).unwrap();
        let json = serde_json::to_string(&s.source).unwrap();
        for v in &planted {
            assert!(
                !json.contains(v.as_str()),
                "secrets={secrets}: {v} in {json}"
            );
        }
        // Every step is still there, unchanged where it held no secret.
        let history = &s.source.image.as_ref().unwrap().history;
        assert_eq!(history.len(), raw_history.len());
        for (h, raw) in history.iter().zip(&raw_history) {
            let raw = raw["created_by"].as_str().unwrap();
            let has_secret = planted.iter().any(|v| raw.contains(v.as_str()));
            assert_eq!(
                h.created_by.as_deref() != Some(raw),
                has_secret,
                "{raw} -> {:?}",
                h.created_by
            );
        }
        // The step shows each value as the finding about it does.
        for f in s.secrets.iter().filter(|f| f.path.starts_with("history[")) {
            let i: usize = f.path["history[".len()..]
                .split(']')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let step = history[i].created_by.as_deref().unwrap();
            assert!(step.contains(&f.redacted), "{step} lacks {}", f.redacted);
        }
    }
}

#[test]
fn labels_command_and_comments_are_redacted() {
    const GHP: &str = "ghp_lxOFKnAteGtBk4edGB0vgGPNkoZz3C0qIB8c";
    const PASSWORD: &str = "Zq81-Lk2Mx0Vb7Nc4";
    let tmp = tempfile::tempdir().unwrap();
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(3);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, "etc/x", &b"x\n"[..]).unwrap();
    let raw = b.into_inner().unwrap();
    let layer = bosun_testutil::oci::layer(bosun_testutil::oci::GZIP, &raw);
    bosun_testutil::oci::layout(tmp.path(), &[layer], |config, _| {
        config["config"] = serde_json::json!({
            "Env": [format!("TOKEN={GHP}"), GHP],
            "Labels": {"db.password": PASSWORD, "ci.token": GHP, "plain": "nothing"},
            "Entrypoint": ["/app", format!("--password={PASSWORD}")],
            "Cmd": ["sh", "-c", format!("curl https://deploy:{PASSWORD}@ci.internal/x")],
            "User": "app",
        });
        config["history"] = serde_json::json!([
            {"created_by": "COPY x /etc/x", "comment": format!("built with {GHP}")},
        ]);
    });
    let target = Target::parse(&format!("oci:{}", tmp.path().display())).unwrap();
    let s = scan(&target, &ScanOptions::default(), &Quiet).unwrap();
    let json = serde_json::to_string(&s.source).unwrap();
    for v in [GHP, PASSWORD] {
        assert!(!json.contains(v), "{v} in {json}");
    }
    let image = s.source.image.unwrap();
    assert_eq!(image.labels["plain"], "nothing");
    assert!(image.labels.contains_key("db.password"));
    assert_eq!(image.entrypoint[0], "/app");
    assert!(image.entrypoint[1].starts_with("--password="));
    assert_eq!(image.user.as_deref(), Some("app"));
    assert_eq!(image.env_names[0], "TOKEN");
    assert!(
        image.cmd[2].starts_with("curl https://deploy:"),
        "{:?}",
        image.cmd
    );
    assert!(image.cmd[2].ends_with("@ci.internal/x"), "{:?}", image.cmd);
}

#[test]
fn a_key_after_many_key_ids_in_a_layer_is_reported_with_the_count_left_out() {
    let akia = "AKIA4W5JX6EXMVAWIOCJ";
    let key = bosun_testutil::ec_private_key();
    let mut content = format!("aws_access_key_id = {akia}\n")
        .repeat(250)
        .into_bytes();
    // Past the first scan window, where the old per-file limit had stopped.
    content.extend(std::iter::repeat_n(b'#', 2 << 20));
    content.push(b'\n');
    content.extend_from_slice(&key);
    let tmp = tempfile::tempdir().unwrap();
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(content.len() as u64);
    h.set_mode(0o600);
    h.set_cksum();
    b.append_data(&mut h, "root/keys.txt", &content[..])
        .unwrap();
    let raw = b.into_inner().unwrap();
    let layer = bosun_testutil::oci::layer(bosun_testutil::oci::GZIP, &raw);
    bosun_testutil::oci::layout(tmp.path(), &[layer], |_, _| {});
    let target = Target::parse(&format!("oci:{}", tmp.path().display())).unwrap();
    let s = scan(&target, &with_secrets(), &Quiet).unwrap();
    let ids = s
        .secrets
        .iter()
        .filter(|f| f.rule_id == "aws-access-key-id");
    assert_eq!(ids.clone().count(), bosun_secret::MAX_MATCHES_PER_RULE);
    let omitted: usize = ids.map(|f| f.omitted).sum();
    assert_eq!(omitted, 250 - bosun_secret::MAX_MATCHES_PER_RULE);
    let keys: Vec<_> = s
        .secrets
        .iter()
        .filter(|f| f.rule_id == "ec-private-key")
        .collect();
    assert_eq!(keys.len(), 1, "{:#?}", s.secrets);
    assert_eq!(keys[0].path, "/root/keys.txt");
}
