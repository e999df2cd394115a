//! `WWW-Authenticate` challenges (RFC 7235 auth-param grammar) and the
//! bearer tokens the distribution token flow hands out.

use std::time::{Duration, Instant};

/// One challenge: `Bearer realm="...",service="..."`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Lower-cased scheme (`basic`, `bearer`).
    pub scheme: String,
    /// Parameters, names lower-cased, values unquoted.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Bounds on what a hostile header can make us build.
const MAX_CHALLENGES: usize = 16;
const MAX_PARAMS: usize = 32;

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }
    fn skip_ws_and_commas(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.pos += 1;
        }
    }
    fn token(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        String::from_utf8_lossy(self.s.get(start..self.pos).unwrap_or_default()).into_owned()
    }
    /// A quoted-string; the cursor is on the opening quote. An unterminated
    /// string runs to the end of the header.
    fn quoted(&mut self) -> String {
        self.pos += 1;
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(escaped) = self.peek() {
                        out.push(escaped);
                        self.pos += 1;
                    }
                }
                _ => out.push(b),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Parse a `WWW-Authenticate` value: one or more comma-separated challenges,
/// each a scheme followed by `name=value` params (token or quoted-string).
/// Anything unparseable is skipped rather than fatal: the caller only needs
/// the schemes it knows.
pub fn parse_challenges(header: &str) -> Vec<Challenge> {
    let mut c = Cursor {
        s: header.as_bytes(),
        pos: 0,
    };
    let mut out = Vec::new();
    while out.len() < MAX_CHALLENGES {
        c.skip_ws_and_commas();
        if c.peek().is_none() {
            break;
        }
        let scheme = c.token();
        if scheme.is_empty() {
            // Not a token character: skip it so we always make progress.
            c.pos += 1;
            continue;
        }
        let mut challenge = Challenge {
            scheme: scheme.to_ascii_lowercase(),
            params: Vec::new(),
        };
        loop {
            let before = c.pos;
            c.skip_ws_and_commas();
            let name = c.token();
            c.skip_ws();
            if name.is_empty() || c.peek() != Some(b'=') {
                // The next challenge's scheme (or a token68): hand back.
                c.pos = before;
                break;
            }
            c.pos += 1;
            c.skip_ws();
            let value = if c.peek() == Some(b'"') {
                c.quoted()
            } else {
                let mut v = c.token();
                // token68 padding, e.g. `Negotiate abc==`
                while c.peek() == Some(b'=') {
                    v.push('=');
                    c.pos += 1;
                }
                v
            };
            if challenge.params.len() < MAX_PARAMS {
                challenge.params.push((name.to_ascii_lowercase(), value));
            }
            c.skip_ws();
            if c.peek() != Some(b',') {
                break;
            }
        }
        // Skip whatever the grammar did not cover up to the next comma.
        while c.peek().is_some_and(|b| b != b',') {
            let before = c.pos;
            c.skip_ws();
            if c.pos == before {
                c.pos += 1;
            }
        }
        out.push(challenge);
    }
    out
}

/// A bearer token and when to stop using it.
#[derive(Clone)]
pub(crate) struct CachedToken {
    pub token: String,
    pub expires: Instant,
}

impl CachedToken {
    /// Tokens are refreshed a little before they expire so that one is not
    /// rejected mid-request. The spec's default lifetime is 60 seconds.
    pub fn new(token: String, expires_in: Option<u64>) -> CachedToken {
        let lifetime = Duration::from_secs(expires_in.unwrap_or(60).clamp(1, 24 * 3600));
        let margin = (lifetime / 10).min(Duration::from_secs(30));
        CachedToken {
            token,
            expires: Instant::now() + lifetime - margin,
        }
    }
    pub fn fresh(&self) -> bool {
        Instant::now() < self.expires
    }
}

/// The token endpoint's answer; Docker's `token` and OAuth2's `access_token`.
#[derive(serde::Deserialize)]
pub(crate) struct TokenResponse {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// Percent-encode a query value (everything but RFC 3986 unreserved).
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn params(c: &Challenge) -> Vec<(&str, &str)> {
        c.params
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn distribution_bearer_challenge() {
        // As CNCF distribution sends it.
        let h = r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:team/app:pull,push""#;
        let cs = parse_challenges(h);
        assert_eq!(cs.len(), 1);
        assert_eq!(cs[0].scheme, "bearer");
        assert_eq!(
            params(&cs[0]),
            vec![
                ("realm", "https://auth.example/token"),
                ("service", "registry.example"),
                ("scope", "repository:team/app:pull,push"),
            ]
        );
        assert_eq!(cs[0].param("scope"), Some("repository:team/app:pull,push"));
    }

    #[test]
    fn several_challenges_tokens_escapes_and_spacing() {
        let h = r#"Basic realm="Registry Realm", Bearer  realm = "https://a/t" , service=reg.io, error="invalid_token", Newauth realm="a \"quoted\" \\ word""#;
        let cs = parse_challenges(h);
        assert_eq!(cs.len(), 3, "{cs:?}");
        assert_eq!(cs[0].scheme, "basic");
        assert_eq!(cs[0].param("realm"), Some("Registry Realm"));
        assert_eq!(cs[1].scheme, "bearer");
        assert_eq!(cs[1].param("realm"), Some("https://a/t"));
        assert_eq!(cs[1].param("service"), Some("reg.io"));
        assert_eq!(cs[1].param("error"), Some("invalid_token"));
        assert_eq!(cs[2].scheme, "newauth");
        assert_eq!(cs[2].param("realm"), Some(r#"a "quoted" \ word"#));
    }

    #[test]
    fn case_insensitive_scheme_and_names() {
        let cs = parse_challenges(r#"BASIC Realm="x""#);
        assert_eq!(cs[0].scheme, "basic");
        assert_eq!(cs[0].param("realm"), Some("x"));
        let cs = parse_challenges("Negotiate abc==, Basic");
        assert_eq!(cs.len(), 2);
        assert_eq!(cs[1].scheme, "basic");
    }

    #[test]
    fn hostile_headers_do_not_panic_or_loop() {
        let long = "a=b,".repeat(10_000);
        let inputs = [
            "",
            ",,,",
            "\"",
            "Bearer realm=\"unterminated",
            "Bearer realm=",
            "Bearer =x",
            "Bearer realm=\"a\\",
            "()<>@ ; Bearer realm=x",
            "Bearer ä=ö, realm=\"ü\"",
            long.as_str(),
        ];
        for h in inputs {
            let cs = parse_challenges(h);
            assert!(cs.len() <= MAX_CHALLENGES);
            assert!(cs.iter().all(|c| c.params.len() <= MAX_PARAMS));
        }
        assert_eq!(
            parse_challenges("Bearer realm=\"unterminated")[0].param("realm"),
            Some("unterminated")
        );
    }

    #[test]
    fn escapes_query_values() {
        assert_eq!(
            query_escape("repository:a/b:pull,push"),
            "repository%3Aa%2Fb%3Apull%2Cpush"
        );
        assert_eq!(query_escape("reg.io-x_~"), "reg.io-x_~");
    }
}
