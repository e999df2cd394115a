//! A limit never turns into silence: a file full of one kind of secret
//! still has its other secrets found (the cap is per rule, and the count of
//! the matches not listed is said), a key block across a window boundary is
//! found, a kubeconfig's token is found whatever its distance from `users:`,
//! and text bosun writes out is redacted however many secrets it holds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use bosun_secret::{Config, MAX_MATCHES_PER_RULE, Scanner, fingerprint};

fn scanner() -> Scanner {
    Scanner::new(&Config::default()).unwrap()
}

fn data(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read_to_string(&p).unwrap()
}

// Planted in the `secrets` fixture (fixtures/truth/secrets.json).
const AKIA: &str = "AKIA4W5JX6EXMVAWIOCJ";
const GHP: &str = "ghp_lxOFKnAteGtBk4edGB0vgGPNkoZz3C0qIB8c";
/// Bytes per scan window (the crate's `WINDOW`).
const WINDOW: usize = 1 << 20;

#[test]
fn a_key_after_many_key_ids_is_found_and_the_cap_is_said() {
    let n = 3 * MAX_MATCHES_PER_RULE;
    let mut text = format!("[default]\naws_access_key_id = {AKIA}\n").repeat(n);
    let key = data("ec.pem");
    text.push_str(&key);
    let s = scanner();
    for piece in [usize::MAX, 4096] {
        let mut f = s.file("/root/.aws/credentials");
        for c in text.as_bytes().chunks(piece.min(text.len())) {
            f.feed(c);
        }
        let found = f.finish();
        let ids: Vec<&str> = found
            .iter()
            .filter(|m| m.rule_id == "aws-access-key-id")
            .map(|m| m.rule_id.as_str())
            .collect();
        assert_eq!(ids.len(), MAX_MATCHES_PER_RULE);
        let keys: Vec<_> = found
            .iter()
            .filter(|m| m.rule_id == "ec-private-key")
            .collect();
        assert_eq!(keys.len(), 1, "the key after the key ids: {found:#?}");
        assert_eq!(
            keys[0].fingerprint,
            fingerprint("ec-private-key", key.trim_end())
        );
        // The last key id listed says how many more there are.
        let last = found
            .iter()
            .rfind(|m| m.rule_id == "aws-access-key-id")
            .unwrap();
        assert_eq!(last.omitted, n - MAX_MATCHES_PER_RULE);
        assert!(
            last.title
                .contains(&format!("{} more", n - MAX_MATCHES_PER_RULE)),
            "{}",
            last.title
        );
        assert!(found.iter().filter(|m| m.omitted > 0).count() == 1);
    }
}

/// A long PGP private key block (a real key grown by a large photo ID
/// packet, as `gpg --export-secret-keys` writes for a key with a photo)
/// that starts just before a window boundary and ends past the overlap.
#[test]
fn a_long_key_block_across_a_window_boundary_is_found() {
    let asc = data("pgp.asc");
    let body: String = asc
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .filter(|l| !l.is_empty() && !l.starts_with('='))
        .collect();
    let mut packets = base64_decode(&body);
    // A user attribute packet (tag 17) of 120 KiB, new format, 5-byte length.
    let photo: Vec<u8> = (0..120u32 << 10)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    packets.push(0xc0 | 17);
    packets.push(0xff);
    packets.extend_from_slice(&(photo.len() as u32).to_be_bytes());
    packets.extend_from_slice(&photo);
    let mut block = String::from("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n");
    for line in base64_encode(&packets).as_bytes().chunks(64) {
        block.push_str(std::str::from_utf8(line).unwrap());
        block.push('\n');
    }
    block.push_str("-----END PGP PRIVATE KEY BLOCK-----");
    assert!(block.len() > 100 << 10);

    let mut text = String::new();
    while text.len() < WINDOW - 2000 {
        text.push_str("# filler line of text, nothing secret here at all\n");
    }
    let lines = text.lines().count();
    text.push_str(&block);
    text.push_str("\nmore text\n");
    let want = fingerprint("pgp-private-key", &block);
    let s = scanner();
    let whole = s.scan("/k.asc", text.as_bytes());
    assert_eq!(whole.len(), 1, "{whole:#?}");
    assert_eq!(whole[0].fingerprint, want);
    assert_eq!((whole[0].line, whole[0].column), (lines + 1, 1));
    let streamed = s.scan_reader("/k.asc", &mut text.as_bytes()).unwrap();
    assert_eq!(streamed, whole);
    let mut f = s.file("/k.asc");
    for c in text.as_bytes().chunks(7919) {
        f.feed(c);
    }
    assert_eq!(f.finish(), whole);
}

#[test]
fn a_kubeconfig_token_far_from_users_is_found() {
    let mut text = String::from("apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n");
    // Comments a window long between the context and the token.
    while text.len() < WINDOW + (200 << 10) {
        text.push_str("    # rotated by the platform team, see the runbook\n");
    }
    let token = "7d3f1a9c8b2e4d6f0a1b3c5d7e9f2a4b";
    text.push_str(&format!("    token: {token}\n"));
    let found = scanner().scan("/root/.kube/config", text.as_bytes());
    let ids: Vec<&str> = found.iter().map(|m| m.rule_id.as_str()).collect();
    assert_eq!(ids, ["kubeconfig-token"], "{found:#?}");
    assert_eq!(found[0].fingerprint, fingerprint("kubeconfig-token", token));
}

#[test]
fn redacted_text_keeps_no_secret_however_many() {
    let s = scanner();
    let step = format!(
        "ENV GITHUB_TOKEN={GHP} DATABASE_URL=postgres://app:Pa55w0rd-fixture@db.internal:5432/app"
    );
    let out = s.redact_text("history[3].created_by", &step);
    assert!(!out.contains(GHP), "{out}");
    assert!(!out.contains("Pa55w0rd-fixture"), "{out}");
    // What stays is what the findings show: the rest of the text, and each
    // value's redacted form.
    let found = s.scan_text("history[3].created_by", &step);
    assert_eq!(found.len(), 2);
    for m in &found {
        assert!(out.contains(&m.redacted), "{out} lacks {}", m.redacted);
    }
    assert!(out.starts_with("ENV GITHUB_TOKEN="), "{out}");
    assert!(out.ends_with("@db.internal:5432/app"), "{out}");
    // No secret: the very same text.
    let plain = "RUN apt-get update && apt-get install -y curl";
    assert!(matches!(
        s.redact_text("x", plain),
        std::borrow::Cow::Borrowed(_)
    ));
    // Far more secrets than a scan lists, across windows, between
    // multi-byte characters: none left.
    let many = format!("é{GHP}ü password=\"Sup3r-S3cret-ca2bad24\" ").repeat(40_000);
    assert!(many.len() > 2 * WINDOW);
    let out = s.redact_text("config.Labels", &many);
    assert!(!out.contains(GHP));
    assert!(!out.contains("Sup3r-S3cret-ca2bad24"));
    assert_eq!(out.matches("é").count(), 40_000);
    // An allow-listed value is not a secret: it stays.
    let cfg = Config {
        allow: vec![bosun_secret::AllowRule {
            fingerprint: Some(fingerprint("github-pat", GHP)),
            ..Default::default()
        }],
        ..Default::default()
    };
    let out = Scanner::new(&cfg).unwrap().redact_text("x", &step);
    assert!(out.contains(GHP));
    assert!(!out.contains("Pa55w0rd-fixture"));
}

const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for b in text.bytes().filter(|b| *b != b'=') {
        let v = B64.iter().position(|x| *x == b).unwrap() as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}
