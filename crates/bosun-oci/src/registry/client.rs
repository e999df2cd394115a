//! The HTTP side: one [`Registry`] per host, with auth, retries and
//! bounded, verified reads of manifests and blobs.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bosun_core::Digest;
use bosun_core::digest::VerifyingReader;
use ureq::http::{Method, Response, StatusCode};
use ureq::{Agent, Body};

pub(crate) use bosun_http::header;
use bosun_http::{retry_after, retryable, tls_error};

use super::RegistryOptions;
use super::auth::{CachedToken, Challenge, TokenResponse, parse_challenges, query_escape};
use super::credentials::{self, Credential, Found};
use super::deadline::{Deadline, deadline_error};
use crate::manifest::Descriptor;
use crate::media::MANIFEST_ACCEPT;
use crate::store::verify;
use crate::{Fetched, MAX_JSON_SIZE, OciError};

/// Error bodies and token answers are small; read no more of them.
const MAX_ERROR_BODY: u64 = 64 << 10;
const MAX_TOKEN_BODY: u64 = 1 << 20;

/// A client for one registry host. `Send + Sync`: share it through an `Arc`.
pub struct Registry {
    /// As the reference names it (`docker.io`, `127.0.0.1:5000`).
    host: String,
    /// `https://registry-1.docker.io`
    base: String,
    options: RegistryOptions,
    agent: Agent,
    config_path: Option<PathBuf>,
    credential: OnceLock<Option<Found>>,
    auth: Mutex<AuthState>,
}

#[derive(Default)]
struct AuthState {
    /// The registry's challenge, learnt from its first 401.
    challenge: Option<Challenge>,
    /// Bearer tokens by scope.
    tokens: HashMap<String, CachedToken>,
}

/// One request as the retry/auth loop sees it.
pub(crate) struct Call<'a> {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<&'a [u8]>,
    /// Token scope, e.g. `repository:team/app:pull`.
    pub scope: String,
    /// What is being asked, for messages: `manifest team/app:1.0`.
    pub what: String,
}

/// What to put in the Authorization header for one request.
enum Auth {
    None,
    Header(String),
}

impl Registry {
    pub fn new(host: &str, options: &RegistryOptions) -> Result<Registry, OciError> {
        // The host goes into URLs: no paths, userinfo or spaces.
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
        {
            return Err(OciError::Registry {
                registry: host.to_string(),
                message: "not a valid registry host name".into(),
            });
        }
        let api_host = if host == bosun_core::reference::DEFAULT_REGISTRY {
            bosun_core::reference::DOCKER_HUB_API
        } else {
            host
        };
        let scheme = if options.insecure { "http" } else { "https" };
        let ca_files: Vec<&std::path::Path> =
            options.ca_certs.iter().map(PathBuf::as_path).collect();
        let tls = bosun_http::tls_config(&ca_files).map_err(|message| OciError::Registry {
            registry: host.to_string(),
            message,
        })?;
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .https_only(!options.insecure)
            .user_agent(options.user_agent.as_str())
            .timeout_connect(Some(options.timeouts.connect))
            .timeout_per_read(Some(options.timeouts.read))
            .timeout_recv_response(Some(options.timeouts.read))
            // The overall deadline of a call, its body included.
            .timeout_global((!options.timeout.is_zero()).then_some(options.timeout))
            // Blob GETs redirect to storage (S3, CDNs); ureq drops the
            // Authorization header when it follows them.
            .max_redirects(8)
            .tls_config(tls)
            .build();
        Ok(Registry {
            host: host.to_string(),
            base: format!("{scheme}://{api_host}"),
            options: options.clone(),
            agent: config.new_agent(),
            config_path: credentials::config_path(options.docker_config.as_deref()),
            credential: OnceLock::new(),
            auth: Mutex::new(AuthState::default()),
        })
    }

    /// The registry as the reference names it.
    pub fn host(&self) -> &str {
        &self.host
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) fn error(&self, message: impl Into<String>) -> OciError {
        OciError::Registry {
            registry: self.host.clone(),
            message: message.into(),
        }
    }

    /// Fetch a manifest or index whole, bounded and verified: against
    /// `expected` when given, else against the `Docker-Content-Digest` header
    /// when the registry sends one. `Fetched.digest` is the bytes' sha256.
    pub fn manifest(
        &self,
        repo: &str,
        target: &str,
        expected: Option<&Digest>,
        expected_size: Option<u64>,
    ) -> Result<Fetched, OciError> {
        let what = format!(
            "manifest {repo}{}{target}",
            if target.contains(':') { "@" } else { ":" }
        );
        if let Some(size) = expected_size
            && size > MAX_JSON_SIZE
        {
            return Err(OciError::TooLarge {
                what: self.describe(&what),
                size,
                limit: MAX_JSON_SIZE,
            });
        }
        let call = Call {
            method: Method::GET,
            url: self.url(&format!("/v2/{repo}/manifests/{target}")),
            headers: vec![("Accept", MANIFEST_ACCEPT.join(", "))],
            body: None,
            scope: pull_scope(repo),
            what: what.clone(),
        };
        let resp = self.send(&call)?;
        let resp = self.expect(&call, resp, &[StatusCode::OK])?;
        let media_type = header(&resp, "content-type")
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_string())
            .filter(|v| !v.is_empty());
        if media_type
            .as_deref()
            .is_some_and(|m| m.starts_with("text/html"))
        {
            return Err(self.error(format!(
                "{what}: the registry answered with an HTML page, not a manifest"
            )));
        }
        let header_digest = header(&resp, "docker-content-digest").map(str::to_string);
        let bytes = self.read_bounded(&what, resp, MAX_JSON_SIZE)?;
        let described = self.describe(&what);
        match (expected, header_digest) {
            (Some(d), _) => verify(&described, d, &bytes)?,
            (None, Some(h)) => match h.parse::<Digest>() {
                Ok(d) => verify(&described, &d, &bytes)?,
                Err(e) => tracing::warn!("{described}: ignoring Docker-Content-Digest: {e}"),
            },
            (None, None) => {}
        }
        if let Some(size) = expected_size
            && size != bytes.len() as u64
        {
            return Err(OciError::invalid(
                described,
                format!("{} bytes, its descriptor says {size}", bytes.len()),
            ));
        }
        Ok(Fetched {
            digest: Digest::sha256_of(&bytes),
            bytes,
            media_type,
        })
    }

    /// Stream a blob; the reader fails at end of stream unless digest and
    /// size match the descriptor.
    pub fn blob(
        &self,
        repo: &str,
        desc: &Descriptor,
    ) -> Result<Box<dyn Read + Send + 'static>, OciError> {
        let what = format!("blob {repo}@{}", desc.digest);
        let call = Call {
            method: Method::GET,
            url: self.url(&format!("/v2/{repo}/blobs/{}", desc.digest)),
            headers: Vec::new(),
            body: None,
            scope: pull_scope(repo),
            what: what.clone(),
        };
        let resp = self.send(&call)?;
        let resp = self.expect(&call, resp, &[StatusCode::OK])?;
        if let Some(len) = content_length(&resp)
            && len != desc.size
        {
            return Err(OciError::invalid(
                self.describe(&what),
                format!(
                    "the registry sends {len} bytes, the descriptor says {}",
                    desc.size
                ),
            ));
        }
        let reader = Deadline {
            inner: resp.into_body().into_reader(),
            what: self.describe(&what),
            timeout: self.options.timeout,
        };
        Ok(Box::new(VerifyingReader::new(
            reader,
            desc.digest.clone(),
            Some(desc.size),
        )))
    }

    pub(crate) fn describe(&self, what: &str) -> String {
        format!("registry {} {what}", self.host)
    }

    /// Send with auth and retries. Returns the final response whatever its
    /// status, except 401s, which are answered (once) or turned into errors.
    pub(crate) fn send(&self, call: &Call<'_>) -> Result<Response<Body>, OciError> {
        let mut attempt = 0;
        let mut reauthenticated = false;
        loop {
            let auth = self.authorization(call)?;
            let sent_auth = matches!(auth, Auth::Header(_));
            let result = self.send_once(call, &auth);
            let resp = match result {
                Ok(r) => r,
                Err(e) if retryable(&e) && attempt < self.options.retries => {
                    let wait = backoff(attempt);
                    tracing::debug!("{}: {e}; retrying in {wait:?}", call.what);
                    std::thread::sleep(wait);
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(self.transport_error(call, e)),
            };
            let status = resp.status();
            if status == StatusCode::UNAUTHORIZED {
                let challenges: Vec<Challenge> = resp
                    .headers()
                    .get_all("www-authenticate")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(parse_challenges)
                    .collect();
                let body = self.error_body(resp);
                if reauthenticated {
                    return Err(self.unauthorized(call, sent_auth, &body));
                }
                let Some(challenge) = pick_challenge(challenges) else {
                    return Err(self.error(format!(
                        "{}: HTTP 401 Unauthorized with no Basic or Bearer challenge{body}",
                        call.what
                    )));
                };
                {
                    let mut state = self.lock_auth();
                    state.tokens.remove(&call.scope);
                    state.challenge = Some(challenge);
                }
                if self.credential().is_none() && challenge_is_basic(self) {
                    return Err(self.unauthorized(call, false, &body));
                }
                reauthenticated = true;
                continue;
            }
            if (status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error())
                && attempt < self.options.retries
            {
                let wait = retry_after(&resp, self.options.max_retry_wait)
                    .unwrap_or_else(|| backoff(attempt));
                tracing::debug!("{}: HTTP {status}; retrying in {wait:?}", call.what);
                drop(resp);
                std::thread::sleep(wait);
                attempt += 1;
                continue;
            }
            return Ok(resp);
        }
    }

    fn send_once(&self, call: &Call<'_>, auth: &Auth) -> Result<Response<Body>, ureq::Error> {
        let mut builder = ureq::http::Request::builder()
            .method(call.method.clone())
            .uri(call.url.as_str());
        for (name, value) in &call.headers {
            builder = builder.header(*name, value.as_str());
        }
        if let Auth::Header(value) = auth {
            builder = builder.header("Authorization", value.as_str());
        }
        match call.body {
            Some(bytes) => self.agent.run(builder.body(bytes)?),
            None => self.agent.run(builder.body(())?),
        }
    }

    /// Turn a non-expected status into an error naming what was asked and
    /// what the registry said.
    pub(crate) fn expect(
        &self,
        call: &Call<'_>,
        resp: Response<Body>,
        ok: &[StatusCode],
    ) -> Result<Response<Body>, OciError> {
        let status = resp.status();
        if ok.contains(&status) {
            return Ok(resp);
        }
        let body = self.error_body(resp);
        if status == StatusCode::NOT_FOUND {
            return Err(OciError::NotFound {
                what: format!("{} (HTTP 404{body})", self.describe(&call.what)),
            });
        }
        Err(self.error(format!("{}: HTTP {status}{body}", call.what)))
    }

    fn unauthorized(&self, call: &Call<'_>, sent_auth: bool, body: &str) -> OciError {
        let who = match self.credential() {
            Some(found) => match &found.credential {
                Credential::Basic { username, .. } => {
                    format!(
                        "credentials for user {username:?} from {} were rejected",
                        found.source
                    )
                }
                Credential::IdentityToken { .. } => {
                    format!("the identity token from {} was rejected", found.source)
                }
            },
            None => format!(
                "authentication required and no credentials for {} were found in {}",
                self.host,
                self.config_path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "the Docker config (no HOME or DOCKER_CONFIG)".into())
            ),
        };
        let how = if sent_auth { "" } else { " (sent anonymously)" };
        self.error(format!(
            "{}: HTTP 401 Unauthorized{how}: {who}{body}",
            call.what
        ))
    }

    /// Read a whole small body, bounded.
    pub(crate) fn read_bounded(
        &self,
        what: &str,
        resp: Response<Body>,
        limit: u64,
    ) -> Result<Vec<u8>, OciError> {
        if let Some(len) = content_length(&resp)
            && len > limit
        {
            return Err(OciError::TooLarge {
                what: self.describe(what),
                size: len,
                limit,
            });
        }
        let mut buf = Vec::new();
        resp.into_body()
            .into_reader()
            .take(limit + 1)
            .read_to_end(&mut buf)
            .map_err(|e| {
                OciError::io(
                    self.describe(what),
                    deadline_error(e, "", self.options.timeout),
                )
            })?;
        if buf.len() as u64 > limit {
            return Err(OciError::TooLarge {
                what: self.describe(what),
                size: buf.len() as u64,
                limit,
            });
        }
        Ok(buf)
    }

    /// `: CODE: message; ...` from a distribution error body, or the start
    /// of whatever else was sent; empty when there was nothing.
    fn error_body(&self, resp: Response<Body>) -> String {
        let mut buf = Vec::new();
        let _ = resp
            .into_body()
            .into_reader()
            .take(MAX_ERROR_BODY)
            .read_to_end(&mut buf);
        describe_error_body(&buf)
    }

    fn transport_error(&self, call: &Call<'_>, e: ureq::Error) -> OciError {
        let msg = match (tls_error(&e), &e) {
            (Some(rustls::Error::InvalidCertificate(cert)), _) => format!(
                "TLS certificate of {} not accepted: {cert:?} (for a private CA, pass its PEM bundle as a CA certificate)",
                self.base
            ),
            (Some(tls), _) => format!(
                "TLS with {} failed: {tls} (a plain-HTTP registry must be explicitly allowed as insecure)",
                self.base
            ),
            (None, ureq::Error::RequireHttpsOnly(url)) => format!(
                "refusing plain HTTP to {url}: only HTTPS is allowed unless the registry is marked insecure"
            ),
            (None, ureq::Error::HostNotFound) => format!("cannot resolve the host of {}", call.url),
            (None, ureq::Error::Timeout(ureq::Timeout::Global)) => format!(
                "timed out after {} talking to {} (the deadline of each request; see --timeout)",
                super::format_duration(self.options.timeout),
                self.base
            ),
            (None, ureq::Error::Timeout(t)) => format!("timed out ({t}) talking to {}", self.base),
            (None, other) => format!("cannot reach {}: {other}", self.base),
        };
        self.error(format!("{}: {msg}", call.what))
    }

    fn lock_auth(&self) -> std::sync::MutexGuard<'_, AuthState> {
        // A panic elsewhere while holding the lock leaves only a token cache behind.
        self.auth.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn credential(&self) -> Option<&Found> {
        self.credential
            .get_or_init(|| {
                let path = self.config_path.as_ref()?;
                match credentials::lookup(path, &self.host) {
                    Ok(found) => {
                        if let Some(f) = &found {
                            tracing::debug!(
                                "registry {}: using credentials from {}",
                                self.host,
                                f.source
                            );
                        }
                        found
                    }
                    Err(e) => {
                        tracing::warn!(
                            "registry {}: {e}; continuing without credentials",
                            self.host
                        );
                        None
                    }
                }
            })
            .as_ref()
    }

    /// The Authorization header for `call`, fetching a token when the
    /// registry wants one and none is cached for the scope.
    fn authorization(&self, call: &Call<'_>) -> Result<Auth, OciError> {
        let challenge = {
            let state = self.lock_auth();
            let Some(challenge) = state.challenge.clone() else {
                return Ok(Auth::None);
            };
            if let Some(t) = state.tokens.get(&call.scope).filter(|t| t.fresh()) {
                return Ok(Auth::Header(format!("Bearer {}", t.token)));
            }
            challenge
        };
        match challenge.scheme.as_str() {
            "basic" => Ok(match self.credential().map(|f| &f.credential) {
                Some(Credential::Basic { username, password }) => {
                    Auth::Header(basic_header(username, password))
                }
                _ => Auth::None,
            }),
            _ => {
                // Fetched without the lock: two threads may both fetch, which
                // is harmless, and nobody waits on a slow token server.
                let token = self.fetch_token(&challenge, &call.scope)?;
                let header = format!("Bearer {}", token.token);
                self.lock_auth().tokens.insert(call.scope.clone(), token);
                Ok(Auth::Header(header))
            }
        }
    }

    fn fetch_token(&self, challenge: &Challenge, scope: &str) -> Result<CachedToken, OciError> {
        let realm = challenge
            .param("realm")
            .filter(|r| !r.is_empty())
            .ok_or_else(|| self.error("Bearer challenge without a realm"))?;
        let service = challenge.param("service");
        let what = format!("token for {scope} from {realm}");
        let credential = self.credential().map(|f| &f.credential);

        let resp = match credential {
            Some(Credential::IdentityToken { token }) => {
                // OAuth2 refresh-token grant, as Docker does with identity tokens.
                let mut form = format!(
                    "grant_type=refresh_token&client_id=bosun&refresh_token={}&scope={}",
                    query_escape(token),
                    query_escape(scope)
                );
                if let Some(s) = service {
                    form.push_str(&format!("&service={}", query_escape(s)));
                }
                let resp = self.token_request(
                    Method::POST,
                    realm.to_string(),
                    None,
                    Some(form.as_bytes()),
                    &what,
                )?;
                if resp.status() == StatusCode::NOT_FOUND
                    || resp.status() == StatusCode::METHOD_NOT_ALLOWED
                {
                    // Token servers without OAuth2 support.
                    self.token_request(
                        Method::GET,
                        token_get_url(realm, service, scope),
                        None,
                        None,
                        &what,
                    )?
                } else {
                    resp
                }
            }
            Some(Credential::Basic { username, password }) => self.token_request(
                Method::GET,
                token_get_url(realm, service, scope),
                Some(basic_header(username, password)),
                None,
                &what,
            )?,
            None => self.token_request(
                Method::GET,
                token_get_url(realm, service, scope),
                None,
                None,
                &what,
            )?,
        };
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            let body = self.error_body(resp);
            let call = Call {
                method: Method::GET,
                url: realm.to_string(),
                headers: Vec::new(),
                body: None,
                scope: scope.to_string(),
                what,
            };
            return Err(self.unauthorized(&call, credential.is_some(), &body));
        }
        if !status.is_success() {
            let body = self.error_body(resp);
            return Err(self.error(format!("{what}: HTTP {status}{body}")));
        }
        let bytes = self.read_bounded(&what, resp, MAX_TOKEN_BODY)?;
        let parsed: TokenResponse = serde_json::from_slice(&bytes).map_err(|e| {
            self.error(format!(
                "{what}: the token server did not answer with token JSON: {e}"
            ))
        })?;
        let token = parsed
            .token
            .or(parsed.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| self.error(format!("{what}: the token server's answer has no token")))?;
        // A token goes into a header: refuse one that cannot.
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(self.error(format!(
                "{what}: the token has characters not allowed in a header"
            )));
        }
        Ok(CachedToken::new(token, parsed.expires_in))
    }

    fn token_request(
        &self,
        method: Method,
        url: String,
        authorization: Option<String>,
        form: Option<&[u8]>,
        what: &str,
    ) -> Result<Response<Body>, OciError> {
        let mut headers = Vec::new();
        if let Some(a) = authorization {
            headers.push(("Authorization", a));
        }
        if form.is_some() {
            headers.push((
                "Content-Type",
                "application/x-www-form-urlencoded".to_string(),
            ));
        }
        let call = Call {
            method,
            url,
            headers,
            body: form,
            scope: String::new(),
            what: what.to_string(),
        };
        let mut attempt = 0;
        loop {
            match self.send_once(&call, &Auth::None) {
                Err(e) if retryable(&e) && attempt < self.options.retries => {}
                Err(e) => return Err(self.transport_error(&call, e)),
                Ok(r)
                    if (r.status() == StatusCode::TOO_MANY_REQUESTS
                        || r.status().is_server_error())
                        && attempt < self.options.retries => {}
                Ok(r) => return Ok(r),
            }
            std::thread::sleep(backoff(attempt));
            attempt += 1;
        }
    }
}

fn challenge_is_basic(reg: &Registry) -> bool {
    reg.lock_auth()
        .challenge
        .as_ref()
        .is_some_and(|c| c.scheme == "basic")
}

/// Prefer Bearer (it scopes access) over Basic when both are offered.
fn pick_challenge(challenges: Vec<Challenge>) -> Option<Challenge> {
    let mut basic = None;
    for c in challenges {
        match c.scheme.as_str() {
            "bearer" => return Some(c),
            "basic" if basic.is_none() => basic = Some(c),
            _ => {}
        }
    }
    basic
}

pub(crate) fn pull_scope(repo: &str) -> String {
    format!("repository:{repo}:pull")
}

pub(crate) fn push_scope(repo: &str) -> String {
    format!("repository:{repo}:pull,push")
}

fn basic_header(username: &str, password: &str) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{username}:{password}"))
    )
}

fn token_get_url(realm: &str, service: Option<&str>, scope: &str) -> String {
    let mut url = realm.to_string();
    url.push(if realm.contains('?') { '&' } else { '?' });
    if let Some(s) = service {
        url.push_str(&format!("service={}&", query_escape(s)));
    }
    url.push_str(&format!("scope={}", query_escape(scope)));
    url
}

/// About 0.25 s, 0.5 s, 1 s, ... capped at 8 s (with jitter).
fn backoff(attempt: u32) -> Duration {
    bosun_http::backoff(attempt, Duration::from_millis(250), Duration::from_secs(8))
}

fn content_length(resp: &Response<Body>) -> Option<u64> {
    header(resp, "content-length").and_then(|v| v.trim().parse().ok())
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorEntry>,
}

#[derive(serde::Deserialize)]
struct ErrorEntry {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

fn describe_error_body(bytes: &[u8]) -> String {
    if let Ok(body) = serde_json::from_slice::<ErrorBody>(bytes)
        && !body.errors.is_empty()
    {
        let parts: Vec<String> = body
            .errors
            .iter()
            .take(5)
            .map(|e| clip(&format!("{}: {}", e.code, e.message), 300))
            .collect();
        return format!(": {}", parts.join("; "));
    }
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {}", clip(text, 200))
    }
}

/// At most `n` characters, control characters replaced, so that a hostile
/// body cannot flood or garble messages.
fn clip(s: &str, n: usize) -> String {
    let mut out: String = s
        .chars()
        .take(n)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_summarised_and_bounded() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}"#;
        assert_eq!(
            describe_error_body(body),
            ": MANIFEST_UNKNOWN: manifest unknown"
        );
        assert_eq!(describe_error_body(b""), "");
        let html = format!("<html>\n<body>{}</body></html>", "x".repeat(10_000));
        let d = describe_error_body(html.as_bytes());
        assert!(
            d.starts_with(": <html> <body>") && d.chars().count() < 210,
            "{d}"
        );
    }

    #[test]
    fn token_urls() {
        assert_eq!(
            token_get_url("https://a/token", Some("reg x"), "repository:a/b:pull"),
            "https://a/token?service=reg%20x&scope=repository%3Aa%2Fb%3Apull"
        );
        assert_eq!(
            token_get_url("https://a/token?x=1", None, "s"),
            "https://a/token?x=1&scope=s"
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(0) <= Duration::from_millis(375));
        assert!(backoff(3) >= Duration::from_secs(1));
        assert!(backoff(30) <= Duration::from_secs(12));
    }

    #[test]
    fn bad_hosts_are_refused() {
        let o = RegistryOptions::default();
        for bad in ["", "a/b", "user@host", "host path"] {
            assert!(Registry::new(bad, &o).is_err(), "{bad}");
        }
        assert!(Registry::new("127.0.0.1:5000", &o).is_ok());
    }
}
