//! The built-in rules, most specific first: when two rules match the same
//! bytes, the earlier one is reported and the later one dropped (a GitHub
//! token assigned to `TOKEN=` is a GitHub token, not a generic secret).

use crate::Severity;
use crate::check::KeyKind;

/// What a value must pass after the regex matched.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Check {
    /// Not a placeholder.
    NotFake,
    /// Not a placeholder, and at least this many bits of entropy per byte.
    Entropy(f64),
    GithubCrc,
    Jwt,
    DockerAuth,
    KubeKeyData,
    PrivateKey(KeyKind),
    UrlPassword,
    /// A generic assignment: length, entropy and the stop list.
    Assignment {
        min_len: usize,
        min_entropy: f64,
    },
}

pub struct Builtin {
    pub id: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub severity: Severity,
    /// Any of them (exactly as written) must be in the file for the regex
    /// to run. Exact case keeps the keyword search on its SIMD path; names
    /// people type in any case are listed in their lower, UPPER and
    /// Capitalized forms (which also catches camelCase `dbPassword`).
    pub keywords: &'static [&'static str],
    /// The secret is the group named `s` (or `s2`, `s3`: alternatives), else
    /// the whole match.
    pub regex: &'static str,
    /// A regex the surrounding text must also match (the file's kind).
    pub context: Option<&'static str>,
    pub check: Check,
    /// Precise enough to run on binary files.
    pub binary: bool,
    /// Leading characters of the value that are public (a vendor prefix).
    pub reveal: usize,
    /// Known example values published by the vendor.
    pub allow: &'static [&'static str],
}

/// `reveal` is the BEGIN line's length: the armour is public.
const fn key(
    id: &'static str,
    label: &'static str,
    kind: KeyKind,
    reveal: usize,
    regex: &'static str,
) -> Builtin {
    Builtin {
        id,
        title: label,
        description: "A private key in a file of the image: anyone who pulls the image can impersonate its owner or decrypt its traffic. Encrypted keys still allow offline passphrase guessing.",
        severity: Severity::Critical,
        keywords: &["PRIVATE KEY"],
        regex,
        context: None,
        check: Check::PrivateKey(kind),
        binary: true,
        reveal,
        allow: &[],
    }
}

const fn github(
    id: &'static str,
    title: &'static str,
    severity: Severity,
    regex: &'static str,
    keyword: &'static [&'static str],
) -> Builtin {
    Builtin {
        id,
        title,
        description: "A GitHub token (its CRC-32 checksum is valid, so it is not a typo or a made-up value): it grants the owner's access to repositories and the API until revoked.",
        severity,
        keywords: keyword,
        regex,
        context: None,
        check: Check::GithubCrc,
        binary: true,
        reveal: 4,
        allow: &[],
    }
}

/// Assignments: `key = value`, `key: value`, `"key": "value"`, `key := value`, `key => value`.
/// The match starts at the key word, not at the start of a longer name such
/// as `db_password`: the value found is the same (the key word ends where
/// the name does, right before the separator), and a leading
/// `[a-z0-9_.-]{0,40}` made the regex several times slower.
macro_rules! assignment {
    ($keys:literal) => {
        concat!(
            r#"(?-u)(?i)(?:"#,
            $keys,
            r#")["']?[ \t]*(?:=|:|:=|=>)[ \t]*(?:"(?P<s>[^"\r\n]{1,256})"|'(?P<s2>[^'\r\n]{1,256})'|(?P<s3>[^\s"'`,;#]{1,256}))"#
        )
    };
}

const SECRET: &[&str] = &["secret", "SECRET", "Secret"];
const TOKEN: &[&str] = &["token", "TOKEN", "Token"];
const GENERIC_SECRET: &[&str] = &[
    "secret",
    "SECRET",
    "Secret",
    "token",
    "TOKEN",
    "Token",
    "api_key",
    "API_KEY",
    "Api_Key",
    "apikey",
    "APIKEY",
    "ApiKey",
    "apiKey",
    "api-key",
    "API-KEY",
    "Api-Key",
    "access_key",
    "ACCESS_KEY",
    "AccessKey",
    "accessKey",
    "access-key",
];

pub const BUILTIN: &[Builtin] = &[
    Builtin {
        id: "aws-access-key-id",
        title: "AWS access key ID",
        description: "An AWS access key ID (long-term AKIA or temporary ASIA). With its secret key it signs AWS API requests as the owning IAM user or role.",
        severity: Severity::High,
        keywords: &["AKIA", "ASIA", "ABIA", "ACCA"],
        regex: r"(?-u)\b(?P<s>(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b",
        context: None,
        check: Check::NotFake,
        binary: true,
        reveal: 4,
        allow: &[
            "AKIAIOSFODNN7EXAMPLE",
            "AKIAI44QH8DHBEXAMPLE",
            "ASIAIOSFODNN7EXAMPLE",
        ],
    },
    Builtin {
        id: "aws-secret-access-key",
        title: "AWS secret access key",
        description: "An AWS secret access key assigned to an AWS key name: it signs AWS API requests as the owning IAM user or role.",
        severity: Severity::Critical,
        keywords: SECRET,
        regex: r#"(?-u)(?i:aws[_.-]?secret[_.-]?(?:access[_.-]?)?key|secret[_.-]?access[_.-]?key)["']?[ \t]*(?:=|:|:=|=>)[ \t]*["']?(?P<s>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
        context: None,
        check: Check::Entropy(4.0),
        binary: false,
        reveal: 0,
        allow: &[
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
        ],
    },
    Builtin {
        id: "gcp-service-account",
        title: "GCP service account key",
        description: "The private key of a Google Cloud service account key file: it authenticates as that service account.",
        severity: Severity::Critical,
        keywords: &["service_account"],
        regex: r#"(?-u)"private_key"[ \t]*:[ \t]*"(?P<s>-----BEGIN[ A-Z]{0,20}PRIVATE KEY-----[A-Za-z0-9+/=\\ \r\n]{64,}?-----END[ A-Z]{0,20}PRIVATE KEY-----(?:\\n)?)""#,
        context: Some(r#"(?-u)"type"[ \t\r\n]*:[ \t\r\n]*"service_account""#),
        check: Check::NotFake,
        binary: false,
        reveal: 27,
        allow: &[],
    },
    Builtin {
        id: "azure-storage-account-key",
        title: "Azure storage account key",
        description: "An Azure storage account key in a connection string: full access to every blob, queue and table of the account.",
        severity: Severity::Critical,
        keywords: &["AccountKey"],
        regex: r"(?-u)(?i:AccountKey)[ \t]*=[ \t]*(?P<s>[A-Za-z0-9+/]{86}==)",
        context: None,
        check: Check::NotFake,
        binary: false,
        reveal: 0,
        // The storage emulator's documented well-known key.
        allow: &[
            "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
        ],
    },
    github(
        "github-pat",
        "GitHub personal access token (classic)",
        Severity::Critical,
        r"(?-u)\b(?P<s>ghp_[A-Za-z0-9]{36})\b",
        &["ghp_"],
    ),
    github(
        "github-oauth-token",
        "GitHub OAuth access token",
        Severity::High,
        r"(?-u)\b(?P<s>gho_[A-Za-z0-9]{36})\b",
        &["gho_"],
    ),
    github(
        "github-app-token",
        "GitHub App token (user-to-server or installation)",
        Severity::High,
        r"(?-u)\b(?P<s>gh[us]_[A-Za-z0-9]{36})\b",
        &["ghu_", "ghs_"],
    ),
    github(
        "github-refresh-token",
        "GitHub refresh token",
        Severity::High,
        r"(?-u)\b(?P<s>ghr_[A-Za-z0-9]{36})\b",
        &["ghr_"],
    ),
    Builtin {
        id: "github-fine-grained-pat",
        title: "GitHub fine-grained personal access token",
        description: "A GitHub fine-grained personal access token: it grants the repositories and permissions it was scoped to until revoked.",
        severity: Severity::Critical,
        keywords: &["github_pat_"],
        regex: r"(?-u)\b(?P<s>github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b",
        context: None,
        check: Check::NotFake,
        binary: true,
        reveal: 11,
        allow: &[],
    },
    Builtin {
        id: "gitlab-token",
        title: "GitLab token",
        description: "A GitLab personal, deploy, runner or pipeline trigger token: API, repository or runner access to the GitLab instance.",
        severity: Severity::Critical,
        keywords: &["glpat-", "gldt-", "glrt-", "glptt-"],
        regex: r"(?-u)\b(?P<s>gl(?:pat|dt|rt|ptt)-[A-Za-z0-9_-]{20,64})(?:[^A-Za-z0-9_-]|$)",
        context: None,
        check: Check::NotFake,
        binary: true,
        reveal: 5,
        allow: &[],
    },
    Builtin {
        id: "slack-token",
        title: "Slack token",
        description: "A Slack bot, user, app or refresh token: it reads and posts in the workspace as its owner.",
        severity: Severity::High,
        // Every match starts with one of these; a 3-byte `xox` would cost
        // binary files a second keyword pass (see `FULL_FINGERPRINT`).
        keywords: &["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"],
        regex: r"(?-u)\b(?P<s>xox[baprs]-[0-9]{8,14}-[0-9A-Za-z-]{10,100})",
        context: None,
        check: Check::NotFake,
        binary: true,
        reveal: 5,
        allow: &[],
    },
    Builtin {
        id: "slack-webhook-url",
        title: "Slack incoming webhook URL",
        description: "A Slack incoming webhook: anyone holding the URL can post to the channel.",
        severity: Severity::High,
        keywords: &["hooks.slack.com"],
        regex: r"(?-u)(?P<s>https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/+-]{20,200})",
        context: None,
        check: Check::NotFake,
        binary: false,
        reveal: 33,
        allow: &[],
    },
    Builtin {
        id: "stripe-secret-key",
        title: "Stripe live secret or restricted key",
        description: "A Stripe live-mode secret or restricted key: it moves real money on the account.",
        severity: Severity::Critical,
        keywords: &["k_live_"],
        regex: r"(?-u)\b(?P<s>[sr]k_live_[0-9A-Za-z]{24,247})\b",
        context: None,
        check: Check::NotFake,
        binary: true,
        reveal: 8,
        allow: &[],
    },
    Builtin {
        id: "npm-token",
        title: "npm access token",
        description: "An npm access token: it publishes packages as its owner (a supply-chain compromise waiting to happen).",
        severity: Severity::Critical,
        keywords: &["npm_"],
        regex: r"(?-u)\b(?P<s>npm_[A-Za-z0-9]{36})\b",
        context: None,
        check: Check::Entropy(3.5),
        binary: false,
        reveal: 4,
        allow: &[],
    },
    Builtin {
        id: "npmrc-auth-token",
        title: "npm registry credential in .npmrc",
        description: "An `_authToken` or `_auth` credential for an npm registry, as written in .npmrc.",
        severity: Severity::High,
        keywords: &["_auth"],
        // At the start of a line or after a registry's `:` (`//host/:_authToken=`).
        regex: r#"(?-u)(?m)(?:^|:)[ \t]*(?:_authToken|_auth)[ \t]*=[ \t]*["']?(?P<s>[^\s"'$]{8,512})"#,
        context: None,
        check: Check::Entropy(3.0),
        binary: false,
        reveal: 0,
        allow: &[],
    },
    Builtin {
        id: "pypi-token",
        title: "PyPI API token",
        description: "A PyPI (or TestPyPI) API token: it uploads releases of the projects it is scoped to.",
        severity: Severity::Critical,
        keywords: &["pypi-AgE"],
        regex: r"(?-u)\b(?P<s>pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,})",
        context: None,
        check: Check::NotFake,
        binary: true,
        reveal: 5,
        allow: &[],
    },
    Builtin {
        id: "docker-config-auth",
        title: "Registry credential in a Docker config.json",
        description: "An `auths` entry of a Docker config.json: base64 of user:password for a container registry.",
        severity: Severity::High,
        keywords: &["\"auth\""],
        regex: r#"(?-u)"auth"[ \t]*:[ \t]*"(?P<s>[A-Za-z0-9+/=]{4,2048})""#,
        context: Some(r#"(?-u)"auths"[ \t\r\n]*:"#),
        check: Check::DockerAuth,
        binary: false,
        reveal: 0,
        allow: &[],
    },
    Builtin {
        id: "kubeconfig-client-key",
        title: "Client private key in a kubeconfig",
        description: "`client-key-data` of a kubeconfig user: the private key of a client certificate that authenticates to the cluster.",
        severity: Severity::Critical,
        keywords: &["client-key-data"],
        regex: r#"(?-u)client-key-data:[ \t]*["']?(?P<s>[A-Za-z0-9+/=]{64,})"#,
        context: None,
        check: Check::KubeKeyData,
        binary: false,
        reveal: 0,
        allow: &[],
    },
    Builtin {
        id: "kubeconfig-token",
        title: "Bearer token in a kubeconfig",
        description: "A `token` of a kubeconfig user: it authenticates to the cluster's API server.",
        severity: Severity::High,
        keywords: TOKEN,
        regex: r#"(?-u)(?m)^[ \t]*(?:-[ \t]+)?token:[ \t]*["']?(?P<s>[A-Za-z0-9._~+/=:-]{16,4096})["']?[ \t]*\r?$"#,
        context: Some(r"(?-u)(?m)^(?:kind:[ \t]*Config|users:)"),
        check: Check::Entropy(3.0),
        binary: false,
        reveal: 0,
        allow: &[],
    },
    key(
        "openssh-private-key",
        "OpenSSH private key",
        KeyKind::OpenSsh,
        35,
        r"(?-u)(?P<s>-----BEGIN OPENSSH PRIVATE KEY-----(?s:.)+?-----END OPENSSH PRIVATE KEY-----)",
    ),
    key(
        "rsa-private-key",
        "RSA private key",
        KeyKind::Rsa,
        31,
        r"(?-u)(?P<s>-----BEGIN RSA PRIVATE KEY-----(?s:.)+?-----END RSA PRIVATE KEY-----)",
    ),
    key(
        "ec-private-key",
        "EC private key",
        KeyKind::Ec,
        30,
        r"(?-u)(?P<s>-----BEGIN EC PRIVATE KEY-----(?s:.)+?-----END EC PRIVATE KEY-----)",
    ),
    key(
        "dsa-private-key",
        "DSA private key",
        KeyKind::Dsa,
        31,
        r"(?-u)(?P<s>-----BEGIN DSA PRIVATE KEY-----(?s:.)+?-----END DSA PRIVATE KEY-----)",
    ),
    key(
        "pgp-private-key",
        "PGP private key block",
        KeyKind::Pgp,
        37,
        r"(?-u)(?P<s>-----BEGIN PGP PRIVATE KEY BLOCK-----(?s:.)+?-----END PGP PRIVATE KEY BLOCK-----)",
    ),
    key(
        "pkcs8-private-key",
        "PKCS#8 private key",
        KeyKind::Pkcs8,
        27,
        r"(?-u)(?P<s>-----BEGIN (?:ENCRYPTED )?PRIVATE KEY-----(?s:.)+?-----END (?:ENCRYPTED )?PRIVATE KEY-----)",
    ),
    Builtin {
        id: "jwt",
        title: "JSON Web Token",
        description: "A signed JWT: a bearer credential for whatever service issued it, until it expires.",
        severity: Severity::Medium,
        keywords: &["eyJ"],
        regex: r"(?-u)\b(?P<s>eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,})",
        context: None,
        check: Check::Jwt,
        binary: false,
        reveal: 3,
        allow: &[],
    },
    Builtin {
        id: "url-password",
        title: "Password in a URL or connection string",
        description: "A URL with a password in its user info (scheme://user:password@host): database, broker or registry credentials.",
        severity: Severity::High,
        keywords: &["://"],
        regex: r#"(?-u)\b[A-Za-z][A-Za-z0-9+.-]{1,30}://[^\s:@/?#'"<>\\]{1,128}:(?P<s>[^\s@/?#'"<>\\]{1,256})@(?P<host>[A-Za-z0-9._\[\]-]{1,253})"#,
        context: None,
        check: Check::UrlPassword,
        binary: false,
        reveal: 0,
        allow: &[],
    },
    Builtin {
        id: "generic-password",
        title: "Password assignment",
        description: "A value assigned to a password key (password=, passwd:, \"pwd\": ...) that is not a placeholder, reference or low-entropy value.",
        severity: Severity::High,
        keywords: &[
            "password", "PASSWORD", "Password", "passwd", "PASSWD", "Passwd", "pwd", "PWD", "Pwd",
        ],
        regex: assignment!("password|passwd|pwd"),
        context: None,
        check: Check::Assignment {
            min_len: 8,
            min_entropy: 3.0,
        },
        binary: false,
        reveal: 0,
        allow: &[],
    },
    Builtin {
        id: "generic-secret",
        title: "Secret, API key or token assignment",
        description: "A high-entropy value assigned to a secret-sounding key (secret=, api_key:, access_token ...).",
        severity: Severity::Medium,
        keywords: GENERIC_SECRET,
        regex: assignment!(
            "secret|api[_-]?key|apikey|access[_-]?key|auth[_-]?token|access[_-]?token|token"
        ),
        context: None,
        check: Check::Assignment {
            min_len: 16,
            min_entropy: 3.5,
        },
        binary: false,
        reveal: 0,
        allow: &[],
    },
];

/// Fingerprints (rule and value) of private keys that are published test
/// vectors, not anyone's secret: GnuTLS's self-test keys
/// (lib/crypto-selftests-pk.c), compiled into every libgnutls.so.30.
pub const KNOWN_PUBLIC: &[&str] = &[
    "sha256:6e87c71b15f592acab31b2a3c7adae6f85a766678b142ee2cce85bf402c62ed6",
    "sha256:2b675fa6d0def015b6d43abaa1b2cc2e10444f08d893a1061962f5d8ce26af68",
    "sha256:16c3f2cc1805bfece11ae779315f8ae4cc86b1a22dfa3640297cebe26d420e2e",
    "sha256:46a44b777b8cd0bf56170e85826df1a027e8dc5a570a516cc2aaffb683e341fb",
    "sha256:133d49526defa6e6bfa7fe6302fc82595599cea47ead0dfbb4e71d1cdd562734",
    "sha256:ff54d11360c0957a6cee048650e8705307617882c183761aac6b94798b03edc7",
];
