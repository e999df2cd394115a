//! bosun-secret's rules over the values of manifests and Dockerfiles:
//! reported with the secret rule, the place and a redacted value, never
//! the value itself.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use bosun_config::{Report, Settings, check_paths};

/// CRC-32 (IEEE), bit by bit, as the zlib documentation defines it.
fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A GitHub personal access token in the published format: `ghp_`, 30
/// base62 characters, their CRC-32 in six base62 digits.
fn github_token(seed: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut x = seed;
    let random: String = (0..30)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            DIGITS[((x >> 33) % 62) as usize] as char
        })
        .collect();
    let mut n = crc32(random.as_bytes());
    let mut sum = [b'0'; 6];
    for slot in sum.iter_mut().rev() {
        *slot = DIGITS[(n % 62) as usize];
        n /= 62;
    }
    format!("ghp_{random}{}", std::str::from_utf8(&sum).unwrap())
}

fn run(files: &[(&str, &str)]) -> (tempfile::TempDir, Report, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    let mut all = String::new();
    for (name, text) in files {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        paths.push(p);
        all.push_str(text);
    }
    let report = check_paths(&paths, &Settings::default()).unwrap();
    (dir, report, all)
}

#[test]
fn secrets_in_manifest_values_are_reported_redacted() {
    let token = github_token(7);
    let token2 = github_token(11);
    let password = "Xk9vQ2mR7tLp4sWz";
    let db_url = format!("postgres://app:{password}@db:5432/app");
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("token: {token2}"));
    let deploy = format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: api, namespace: shop}}
spec:
  template:
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.0
          env:
            - name: DATABASE_URL
              value: {db_url}
          args: [\"--gh-token={token}\"]
---
apiVersion: v1
kind: Secret
metadata: {{name: gh, namespace: shop}}
stringData:
  GITHUB_TOKEN: {token}
data:
  config: {b64}
"
    );
    let (_dir, report, text) = run(&[("app.yaml", &deploy)]);
    let secrets: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule_id == "BOSUN-K8S-012")
        .collect();
    let find = |path: &str| {
        secrets
            .iter()
            .find(|f| f.location.path.as_deref() == Some(path))
            .unwrap_or_else(|| panic!("nothing at {path}: {secrets:#?}"))
    };
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;

    let env = find("spec.template.spec.containers[0].env[0].value");
    assert!(env.message.contains("url-password"), "{}", env.message);
    assert_eq!(env.location.object.as_deref(), Some("Deployment/shop/api"));
    assert_eq!(env.location.line, Some(line_of("value: postgres")));

    let arg = find("spec.template.spec.containers[0].args[0]");
    assert!(arg.message.contains("github-pat"), "{}", arg.message);

    let sd = find("stringData.GITHUB_TOKEN");
    assert!(sd.message.contains("github-pat"), "{}", sd.message);
    assert_eq!(sd.location.object.as_deref(), Some("Secret/shop/gh"));
    assert_eq!(sd.location.line, Some(line_of("GITHUB_TOKEN:")));

    let data = find("data.config");
    assert!(data.message.contains("github-pat"), "{}", data.message);
    assert_eq!(data.location.line, Some(line_of("config:")));

    // Never the secret itself, in any output format.
    for format in ["json", "sarif", "table"] {
        let mut out = Vec::new();
        bosun_config::output::write(&report, format.parse().unwrap(), false, &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        for secret in [token.as_str(), &token2, password, &b64] {
            assert!(!out.contains(secret), "{format} output holds {secret}");
        }
    }
}

#[test]
fn secrets_in_dockerfile_instructions_are_reported() {
    let token = github_token(3);
    let df = format!(
        "FROM alpine:3.20\nARG NPM_REGISTRY=https://registry.example.com\nRUN curl -H 'Authorization: token {token}' https://api.github.com/user\nUSER 1000\n"
    );
    let (_dir, report, _) = run(&[("Dockerfile", &df)]);
    let f = report
        .findings
        .iter()
        .find(|f| f.rule_id == "BOSUN-DF-025")
        .unwrap_or_else(|| panic!("{:#?}", report.findings));
    assert_eq!(f.location.line, Some(3));
    assert!(
        f.message.contains("github-pat") && f.message.contains("RUN"),
        "{}",
        f.message
    );
    assert!(!f.message.contains(&token));
}
