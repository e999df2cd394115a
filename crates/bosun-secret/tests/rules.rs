//! Every built-in rule against values in the vendors' documented formats
//! (GitHub tokens carry a CRC-32 computed with zlib, not with this crate;
//! the keys under tests/data were made by openssl, ssh-keygen and gpg), and
//! the look-alikes each rule must not report.

use bosun_secret::{Config, Match, Scanner, fingerprint};

fn scanner() -> Scanner {
    Scanner::new(&Config::default()).unwrap()
}

fn data(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read_to_string(&p).unwrap().trim_end().to_string()
}

/// `text` yields exactly one match, of `rule`, for exactly `value`.
#[track_caller]
fn finds(rule: &str, text: &str, value: &str) -> Match {
    let m = scanner().scan("/t", text.as_bytes());
    assert_eq!(
        m.len(),
        1,
        "{rule}: expected one match in {text:?}, got {m:#?}"
    );
    let m = m.into_iter().next().unwrap();
    assert_eq!(m.rule_id, rule, "{text:?}");
    assert_eq!(
        m.fingerprint,
        fingerprint(rule, value),
        "{rule}: wrong value extracted"
    );
    assert_redacted(&m, value);
    m
}

#[track_caller]
fn assert_redacted(m: &Match, value: &str) {
    let shown = m.redacted.strip_suffix("****").expect("redaction marker");
    assert!(value.starts_with(shown), "{} is not a prefix", m.redacted);
    assert!(
        shown.len() < value.len(),
        "{}: whole value shown",
        m.rule_id
    );
    // At most the public prefix (<= 33 for a webhook's URL) and four more.
    assert!(shown.len() <= 37, "{}", m.redacted);
}

#[track_caller]
fn nothing(text: &str) {
    let m = scanner().scan("/t", text.as_bytes());
    assert!(m.is_empty(), "expected nothing in {text:?}, got {m:#?}");
}

const GHP: &str = "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";

#[test]
fn aws() {
    finds(
        "aws-access-key-id",
        "key = AKIAQ5FD2FSSRL72IGME\n",
        "AKIAQ5FD2FSSRL72IGME",
    );
    let m = finds(
        "aws-secret-access-key",
        "[default]\naws_secret_access_key = t28fQfpwpnJqogV74MeDLWkVsfpzNJ7YHvLNv1bO\n",
        "t28fQfpwpnJqogV74MeDLWkVsfpzNJ7YHvLNv1bO",
    );
    assert_eq!((m.line, m.column), (2, 25));
    finds(
        "aws-secret-access-key",
        "AWS_SECRET_ACCESS_KEY=t28fQfpwpnJqogV74MeDLWkVsfpzNJ7YHvLNv1bO",
        "t28fQfpwpnJqogV74MeDLWkVsfpzNJ7YHvLNv1bO",
    );
    // AWS's documented examples.
    nothing(
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    );
    // 40 base64 characters with no AWS key name are just 40 characters.
    nothing("digest t28fQfpwpnJqogV74MeDLWkVsfpzNJ7YHvLNv1bO\n");
    // AIDA is a user's unique id, not a credential.
    nothing("AIDAQ5FD2FSSRL72IGME");
}

#[test]
fn github_tokens_and_checksums() {
    finds("github-pat", &format!("GITHUB_TOKEN={GHP}\n"), GHP);
    for (rule, t) in [
        (
            "github-oauth-token",
            "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",
        ),
        (
            "github-app-token",
            "ghu_J1uQmxqIAZ2KztPCf6Ktky5Hmz5qQb2Tbpwi",
        ),
        (
            "github-app-token",
            "ghs_g6tSiHB4FrCTT4v8sX9aUMh3tizcGN1INJ9d",
        ),
        (
            "github-refresh-token",
            "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",
        ),
        (
            "github-fine-grained-pat",
            "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",
        ),
    ] {
        finds(rule, &format!("token: \"{t}\""), t);
    }
    // One character off: the CRC no longer matches.
    nothing(&format!("GITHUB_TOKEN={}D", &GHP[..GHP.len() - 1]));
    nothing("GITHUB_TOKEN=ghp_000000000000000000000000000000000000");
}

#[test]
fn vendor_tokens() {
    finds(
        "gitlab-token",
        "CI_TOKEN=glpat-yUnYqBWb5z1bXJjs82Xd\n",
        "glpat-yUnYqBWb5z1bXJjs82Xd",
    );
    let slack = "xoxb-957672499953-6265218120419-8ZbT6FlO77Pt8Jkpgdk1j2Od";
    finds("slack-token", &format!("SLACK={slack}"), slack);
    let hook = "https://hooks.slack.com/services/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";
    finds("slack-webhook-url", &format!("url: {hook}\n"), hook);
    // Slack's documentation example.
    nothing("https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX");
    let stripe = "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";
    finds(
        "stripe-secret-key",
        &format!("stripe.api_key = '{stripe}'"),
        stripe,
    );
    nothing("sk_test_bi9WMXPsloOw98eQlwQlTLrAIQckd2To");
    let npm = "npm_TXI8d2DvMaPEPq5A10FPPsI7P6cUuaPW2pXl";
    finds("npm-token", &format!("NPM_TOKEN={npm}"), npm);
    finds(
        "npmrc-auth-token",
        "//registry.npmjs.org/:_authToken=9f2c1e77-4b1a-4c1d-9d1e-2f7a3b8c6d5e\n",
        "9f2c1e77-4b1a-4c1d-9d1e-2f7a3b8c6d5e",
    );
    nothing("//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n");
    let pypi = "pypi-AgEIcHlwaS5vcmc_tYBrg-HC24v_-ebVWw6xi5aq0BXR4e3XKHWQxZgvet41ZfADWNu9TbssCr3zKCXnrLcShXv1u0iVGH7iKgESp4x_ca6SbARJX-T-aHPH2wuVTvs6Vt8rK9PThur2sauVpUR-N6SJoR8Atct052BWxUon45O3MAy";
    finds(
        "pypi-token",
        &format!("[pypi]\nusername = __token__\npassword = {pypi}\n"),
        pypi,
    );
    let azure_key =
        "dBPUyEkCSt+Wqxxd9ltt9i3ESZmTeJ+UXeIw+I2bk3CzknAXzIRRELfzb6fzAT0GT1cb4zDTdi5GxhO1/E9IyA==";
    finds(
        "azure-storage-account-key",
        &format!(
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={azure_key};EndpointSuffix=core.windows.net"
        ),
        azure_key,
    );
    // The storage emulator's published key.
    nothing(
        "AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
    );
}

#[test]
fn docker_and_kubeconfig() {
    let auth = "ZGVwbG95OnFjMTRaMFBDR3d6OUVLVFk2MUFE"; // deploy:<20 random>
    let cfg = format!(
        "{{\n  \"auths\": {{\n    \"registry.example.io\": {{\n      \"auth\": \"{auth}\"\n    }}\n  }}\n}}\n"
    );
    let m = finds("docker-config-auth", &cfg, auth);
    assert_eq!(m.line, 4);
    // base64 of "nocolon": not user:password.
    nothing("{\"auths\": {\"r\": {\"auth\": \"bm9jb2xvbg==\"}}}");
    let pem = data("ec.pem");
    let key_data = base64(pem.as_bytes());
    let kube = format!(
        "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    client-key-data: {key_data}\n- name: ci\n  user:\n    token: 7d3f1a9c8b2e4d6f0a1b3c5d7e9f2a4b\n"
    );
    let m = scanner().scan("/root/.kube/config", kube.as_bytes());
    let ids: Vec<&str> = m.iter().map(|m| m.rule_id.as_str()).collect();
    assert_eq!(ids, ["kubeconfig-client-key", "kubeconfig-token"], "{m:#?}");
    // `token:` outside a kubeconfig is the generic rule's business.
    nothing("steps:\n  token: abc\n");
}

#[test]
fn private_keys_and_their_protection() {
    for (file, rule, title) in [
        ("ec.pem", "ec-private-key", "EC private key (not encrypted)"),
        ("ec_enc.pem", "ec-private-key", "EC private key (encrypted)"),
        (
            "rsa.pem",
            "rsa-private-key",
            "RSA private key (not encrypted)",
        ),
        (
            "rsa_enc.pem",
            "rsa-private-key",
            "RSA private key (encrypted)",
        ),
        (
            "dsa.pem",
            "dsa-private-key",
            "DSA private key (not encrypted)",
        ),
        (
            "p8.pem",
            "pkcs8-private-key",
            "PKCS#8 private key (not encrypted)",
        ),
        (
            "p8_enc.pem",
            "pkcs8-private-key",
            "PKCS#8 private key (encrypted)",
        ),
        (
            "openssh",
            "openssh-private-key",
            "OpenSSH private key (not encrypted)",
        ),
        (
            "openssh_enc",
            "openssh-private-key",
            "OpenSSH private key (encrypted)",
        ),
        (
            "pgp.asc",
            "pgp-private-key",
            "PGP private key block (not encrypted)",
        ),
        (
            "pgp_enc.asc",
            "pgp-private-key",
            "PGP private key block (encrypted)",
        ),
    ] {
        let pem = data(file);
        let m = finds(rule, &format!("{pem}\n"), &pem);
        assert_eq!(m.title, title, "{file}");
        assert_eq!(m.line, 1);
        // The same key inside a JSON string, newlines escaped.
        let escaped = pem.replace('\n', "\\n");
        let m = scanner().scan("/k.json", format!("{{\"key\": \"{escaped}\"}}").as_bytes());
        assert_eq!(m.len(), 1, "{file} escaped");
        assert_eq!(m[0].title, title, "{file} escaped");
    }
    // Documentation and code that only mention the armour.
    nothing("-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n");
    nothing(
        "if line == \"-----BEGIN PRIVATE KEY-----\" { in_key = true } // until -----END PRIVATE KEY-----",
    );
}

#[test]
fn gcp_service_account() {
    let pem = data("p8.pem");
    let escaped = format!("{}\\n", pem.replace('\n', "\\n"));
    let json = format!(
        "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"p\",\n  \"private_key_id\": \"0b1c\",\n  \"private_key\": \"{escaped}\",\n  \"client_email\": \"x@p.iam.gserviceaccount.com\"\n}}\n"
    );
    let m = finds("gcp-service-account", &json, &escaped);
    assert_eq!(m.line, 5);
}

#[test]
fn jwt() {
    let t = "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAiMTIzNCIsICJuYW1lIjogImNpIiwgImlhdCI6IDE3MDAwMDAwMDB9.LiuHbdydHZgrTLRknRCIb5mSRgzBOmuKUCtwLXGjuVk";
    finds("jwt", &format!("Authorization: Bearer {t}\n"), t);
    // eyJ... that does not decode to a JSON header.
    nothing(
        "eyJhbGciOiJIUzI1NiIsInR5cCI6.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV",
    );
}

#[test]
fn urls_with_passwords() {
    finds(
        "url-password",
        "DATABASE_URL=postgres://app:Pa55w0rd-fixture@db.internal:5432/app",
        "Pa55w0rd-fixture",
    );
    finds(
        "url-password",
        "amqp://guest:q8Zr2vLk@rabbit:5672/",
        "q8Zr2vLk",
    );
    nothing("postgres://user:password@localhost/db");
    nothing("https://user:${TOKEN}@git.internal/repo.git");
    nothing("mysql://root:s3cr3tV4lue@db.example.com/x");
    nothing("see https://github.com/org/repo and ssh://git@host:22/x");
}

#[test]
fn generic_assignments() {
    let m = finds(
        "generic-password",
        "database:\n  host: db.internal\n  user: app\n  password: \"Sup3r-S3cret-ca2bad24\"\n",
        "Sup3r-S3cret-ca2bad24",
    );
    assert_eq!((m.line, m.column), (4, 14));
    finds("generic-password", "DB_PASSWD=q9!vT2&mLx\n", "q9!vT2&mLx");
    finds(
        "generic-secret",
        "client_secret = 'f3Ka9Qz1Lr7Vx2Bn8Wc4Md6Ty0Ps5Hj'\n",
        "f3Ka9Qz1Lr7Vx2Bn8Wc4Md6Ty0Ps5Hj",
    );
    for text in [
        "password: changeme",
        "password=${DB_PASSWORD}",
        "password: <password>",
        "password = \"xxxxxxxx\"",
        "PASSWORD=example-password",
        "password_file: /run/secrets/db",
        "password: aaaaaaaaaaaa",
        "password = request.form['password']",
        "password = self.password",
        "password: str",
        "if password == other_password:",
        "api_key: {{ .Values.apiKey }}",
        "token = next(tokens)",
        "secret: true",
        "PWD=/root",
        "access_token = abcdefabcdefabcdef",
    ] {
        nothing(text);
    }
}

#[test]
fn redaction_never_shows_more_than_a_prefix() {
    let all = format!(
        "{GHP}\npassword: \"Sup3r-S3cret-ca2bad24\"\npostgres://a:Pa55w0rd-fixture@db/x\n{}\n",
        data("rsa.pem")
    );
    let m = scanner().scan("/x", all.as_bytes());
    assert_eq!(m.len(), 4, "{m:#?}");
    for m in &m {
        let shown = m.redacted.trim_end_matches('*');
        assert!(
            shown.len() <= 8 || m.rule_id == "rsa-private-key",
            "{}",
            m.redacted
        );
        for secret in [&GHP[4..], "Sup3r-S3cret", "Pa55w0rd", "MII"] {
            assert!(
                !m.redacted.contains(secret),
                "{} leaks {secret}",
                m.redacted
            );
        }
    }
}

fn base64(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
