//! Inputs no real file looks like, and the configuration: never a panic,
//! bounded work, and the same answer however the content is cut up.

use std::time::{Duration, Instant};

use bosun_secret::{Config, Scanner};

const GHP: &str = "ghp_lxOFKnAteGtBk4edGB0vgGPNkoZz3C0qIB8c";

fn scanner() -> Scanner {
    Scanner::new(&Config::default()).unwrap()
}

#[test]
fn binary_files_get_only_high_confidence_rules() {
    let mut bin = vec![0u8; 4096];
    bin.extend_from_slice(
        format!("\x01{GHP}\x00password=\"Sup3r-S3cret-ca2bad24\"\x00").as_bytes(),
    );
    bin.extend(std::iter::repeat_n(0xffu8, 4096));
    let m = scanner().scan("/usr/bin/tool", &bin);
    let ids: Vec<&str> = m.iter().map(|m| m.rule_id.as_str()).collect();
    assert_eq!(ids, ["github-pat"]);
    // The same bytes without NULs are text: both are found.
    let text: Vec<u8> = bin
        .iter()
        .map(|&b| if b == 0 { b'\n' } else { b })
        .collect();
    assert_eq!(scanner().scan("/t", &text).len(), 2);
}

#[test]
fn huge_and_hostile_content_stays_bounded() {
    let s = scanner();
    let start = Instant::now();
    // 100 MB of one byte, fed as a stream: nothing, in bounded memory.
    let chunk = vec![b'a'; 1 << 20];
    let mut f = s.file("/big");
    for _ in 0..100 {
        f.feed(&chunk);
    }
    assert!(f.finish().is_empty());
    // One 2 MB line of candidates that all fail their checks.
    let line = "password=aaaaaaaa ".repeat(2 << 20 >> 4);
    assert!(s.scan("/line", line.as_bytes()).is_empty());
    // A file that is nothing but secrets is reported a bounded number of
    // times, and says how many more it holds.
    let many = format!("{GHP}\n").repeat(20_000);
    let found = s.scan("/many", many.as_bytes());
    assert_eq!(found.len(), bosun_secret::MAX_MATCHES_PER_RULE);
    assert_eq!(
        found.last().map(|m| m.omitted),
        Some(20_000 - bosun_secret::MAX_MATCHES_PER_RULE)
    );
    // NULs, invalid UTF-8, truncated armour and base64 everywhere.
    let mut junk = b"-----BEGIN RSA PRIVATE KEY-----\n\xff\xfe".to_vec();
    junk.extend((0..2_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    junk.extend_from_slice(b"-----END RSA PRIVATE KEY-----eyJ.eyJ.\xc3(");
    s.scan("/junk", &junk);
    s.scan_text("config.Env", "\u{0}\u{ffff}=ghp_\u{2028}");
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn windows_and_pieces_give_the_same_matches() {
    // Secrets around the 1 MiB window boundary, on known lines.
    let mut text = String::new();
    let mut lines = 0;
    while text.len() < (1 << 20) - 30 {
        text.push_str("filler line of text\n");
        lines += 1;
    }
    text.push_str(&format!("token {GHP}\n"));
    text.push_str(&"x".repeat(3 << 20));
    text.push_str(&format!(
        "\naws_secret_access_key = t28fQfpwpnJqogV74MeDLWkVsfpzNJ7YHvLNv1bO\n"
    ));
    let s = scanner();
    let whole = s.scan("/f", text.as_bytes());
    assert_eq!(whole.len(), 2, "{whole:#?}");
    assert_eq!((whole[0].line, whole[0].column), (lines + 1, 7));
    assert_eq!(whole[1].line, lines + 3);
    for piece in [1usize, 4093, 65536, 1 << 20] {
        let mut f = s.file("/f");
        for c in text.as_bytes().chunks(piece) {
            f.feed(c);
        }
        assert_eq!(f.finish(), whole, "pieces of {piece}");
    }
    let streamed = s.scan_reader("/f", &mut text.as_bytes()).unwrap();
    assert_eq!(streamed, whole);
}

#[test]
fn custom_rules_and_allow_lists() {
    let yaml = r#"
vulns:
  ignore: []
secrets:
  rules:
    - id: acme-api-key
      title: ACME API key
      severity: critical
      keywords: [acme_]
      regex: 'acme_(?P<s>[A-Za-z0-9]{32})'
  disable: [jwt]
  allow:
    - rule: generic-password
      path: /app/tests/**
    - value: '^dev-'
    - path: '*.fixture'
"#;
    let cfg = Config::from_bosun_yaml(yaml).unwrap();
    let s = Scanner::new(&cfg).unwrap();
    assert!(s.rules().any(|r| r.id == "acme-api-key" && !r.builtin));
    assert!(!s.rules().any(|r| r.id == "jwt"));
    let m = s.scan("/app/x", b"key: acme_q8Zr2vLkT3mN9pXw4bYc6dFh1jKs7aGe\n");
    assert_eq!(m.len(), 1);
    assert_eq!(
        (m[0].rule_id.as_str(), m[0].title.as_str()),
        ("acme-api-key", "ACME API key")
    );
    let pw = b"password: \"Sup3r-S3cret-ca2bad24\"\n";
    assert!(s.scan("/app/tests/unit/conf.yaml", pw).is_empty());
    assert_eq!(s.scan("/app/conf.yaml", pw).len(), 1);
    assert!(
        s.scan("/app/conf.yaml", b"password: dev-Sup3r-S3cret-ca2bad24\n")
            .is_empty()
    );
    assert!(s.skips("/srv/data/a.fixture"));
    // By fingerprint, without writing the value down.
    let fp = scanner().scan("/x", pw)[0].fingerprint.clone();
    let cfg = Config {
        allow: vec![bosun_secret::AllowRule {
            fingerprint: Some(fp),
            ..Default::default()
        }],
        ..Default::default()
    };
    assert!(Scanner::new(&cfg).unwrap().scan("/x", pw).is_empty());
    // Different configurations, different fingerprints (cache keys).
    assert_ne!(
        Scanner::new(&cfg).unwrap().fingerprint(),
        scanner().fingerprint()
    );
    assert_eq!(
        Config::from_bosun_yaml("vulns: {}\n").unwrap(),
        Config::default()
    );
}

#[test]
fn bad_configuration_is_a_clear_error() {
    for (yaml, needle) in [
        (
            "secrets:\n  rules:\n    - {id: x, keywords: [a], regex: '('}\n",
            "secrets.rules[0] (x).regex",
        ),
        (
            "secrets:\n  rules:\n    - {id: x, keywords: [], regex: 'a'}\n",
            "keywords",
        ),
        (
            "secrets:\n  rules:\n    - {id: jwt, keywords: [a], regex: 'a'}\n",
            "already used",
        ),
        (
            "secrets:\n  disable: [no-such-rule]\n",
            "secrets.disable[0]",
        ),
        (
            "secrets:\n  allow:\n    - {rule: nope}\n",
            "secrets.allow[0]",
        ),
        ("secrets:\n  allow:\n    - {}\n", "needs at least one"),
        (
            "secrets:\n  allow:\n    - {value: '['}\n",
            "secrets.allow[0].value",
        ),
    ] {
        let err = Config::from_bosun_yaml(yaml)
            .and_then(|c| Scanner::new(&c))
            .err()
            .unwrap_or_else(|| panic!("{yaml} should fail"));
        assert!(err.to_string().contains(needle), "{yaml}: {err}");
    }
    for yaml in [
        "secrets: [1, 2]\n",
        "secrets:\n  unknown: 1\n",
        "{{{",
        "secrets:\n  rules:\n    - {id: x}\n",
    ] {
        assert!(Config::from_bosun_yaml(yaml).is_err(), "{yaml}");
    }
}
