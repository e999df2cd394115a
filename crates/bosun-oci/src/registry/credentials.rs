//! Registry credentials from Docker's config.json: `auths` entries,
//! per-registry `credHelpers` and the default `credsStore`, the latter two by
//! running `docker-credential-<name> get` as Docker does.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

/// Docker Hub's credentials are stored under this key, not `docker.io`.
pub const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

const MAX_CONFIG_SIZE: u64 = 4 << 20;
const MAX_HELPER_OUTPUT: u64 = 64 << 10;
const HELPER_TIMEOUT: Duration = Duration::from_secs(30);

/// What to authenticate with. `Debug` never shows secrets.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Basic {
        username: String,
        password: String,
    },
    /// An OAuth2 refresh token (`identitytoken`, or a helper's `<token>` user).
    IdentityToken {
        token: String,
    },
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Credential::IdentityToken { .. } => write!(f, "IdentityToken(<redacted>)"),
        }
    }
}

/// Credentials together with where they came from, for messages.
#[derive(Debug, Clone)]
pub struct Found {
    pub credential: Credential,
    pub source: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

#[derive(Deserialize)]
struct HelperOutput {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// The config file to read: the explicit one, else `$DOCKER_CONFIG/config.json`,
/// else `~/.docker/config.json`.
pub fn config_path(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".docker").join("config.json"))
}

/// The key Docker stores a registry's credentials under.
pub fn server_key(registry: &str) -> &str {
    if registry == bosun_core::reference::DEFAULT_REGISTRY {
        DOCKER_HUB_KEY
    } else {
        registry
    }
}

/// `https://host/v1/` and `host` name the same registry in `auths`.
fn normalise_key(key: &str) -> String {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = k.split('/').next().unwrap_or(k).to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "docker.io" => "docker.io".to_string(),
        _ => host,
    }
}

/// Look up credentials for `registry` (as the reference names it, e.g.
/// `docker.io`, `ghcr.io`, `127.0.0.1:5000`). `Ok(None)` when there are none.
pub fn lookup(config: &Path, registry: &str) -> Result<Option<Found>, String> {
    let cfg = match read_config(config)? {
        Some(c) => c,
        None => return Ok(None),
    };
    let want = normalise_key(server_key(registry));
    let server = server_key(registry);

    if let Some((_, helper)) = cfg
        .cred_helpers
        .iter()
        .find(|(k, _)| normalise_key(k) == want)
    {
        return run_helper(helper, server);
    }
    if let Some(store) = cfg.creds_store.as_deref().filter(|s| !s.is_empty()) {
        match run_helper(store, server) {
            Ok(Some(found)) => return Ok(Some(found)),
            Ok(None) => {}
            // The default store failing must not block registries that have
            // inline `auths` or need none.
            Err(e) => tracing::warn!("{e}"),
        }
    }
    let entry = cfg
        .auths
        .iter()
        .find(|(k, _)| normalise_key(k) == want)
        .map(|(_, e)| e);
    let Some(entry) = entry else {
        return Ok(None);
    };
    let source = format!("{} (auths)", config.display());
    if let Some(token) = entry.identitytoken.as_ref().filter(|t| !t.is_empty()) {
        return Ok(Some(Found {
            credential: Credential::IdentityToken {
                token: token.clone(),
            },
            source,
        }));
    }
    if let Some(auth) = entry.auth.as_ref().filter(|a| !a.is_empty()) {
        let decoded = STANDARD
            .decode(auth.trim())
            .map_err(|e| format!("{source}: `auth` for {registry} is not base64: {e}"))?;
        let text = String::from_utf8(decoded)
            .map_err(|_| format!("{source}: `auth` for {registry} is not UTF-8"))?;
        let (username, password) = text
            .split_once(':')
            .ok_or_else(|| format!("{source}: `auth` for {registry} is not user:password"))?;
        return Ok(Some(Found {
            credential: Credential::Basic {
                username: username.to_string(),
                password: password.to_string(),
            },
            source,
        }));
    }
    match (&entry.username, &entry.password) {
        (Some(u), Some(p)) if !u.is_empty() => Ok(Some(Found {
            credential: Credential::Basic {
                username: u.clone(),
                password: p.clone(),
            },
            source,
        })),
        _ => Ok(None),
    }
}

fn read_config(path: &Path) -> Result<Option<DockerConfig>, String> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_CONFIG_SIZE {
        return Err(format!(
            "{} is larger than {MAX_CONFIG_SIZE} bytes",
            path.display()
        ));
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| format!("{} is not a valid Docker config: {e}", path.display()))
}

/// Run `docker-credential-<name> get`, the server on stdin, as the
/// credential-helper protocol says. A helper that has nothing for the server
/// exits non-zero ("credentials not found"): that is `Ok(None)`.
fn run_helper(name: &str, server: &str) -> Result<Option<Found>, String> {
    // The name comes from a config file: keep it a plain program name.
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(format!("credential helper name {name:?} is not valid"));
    }
    let program = format!("docker-credential-{name}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run credential helper {program}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading gives a broken pipe: its exit
        // status says what happened.
        let _ = stdin.write_all(server.as_bytes());
    }
    let reader = child.stdout.take().map(|out| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = out.take(MAX_HELPER_OUTPUT + 1).read_to_end(&mut buf);
            buf
        })
    });
    let deadline = Instant::now() + HELPER_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "credential helper {program} did not answer within {}s",
                    HELPER_TIMEOUT.as_secs()
                ));
            }
            Err(e) => return Err(format!("credential helper {program}: {e}")),
        }
    };
    let output = reader.and_then(|r| r.join().ok()).unwrap_or_default();
    if !status.success() {
        tracing::debug!("credential helper {program} has no credentials for {server}");
        return Ok(None);
    }
    if output.len() as u64 > MAX_HELPER_OUTPUT {
        return Err(format!(
            "credential helper {program} wrote more than {MAX_HELPER_OUTPUT} bytes"
        ));
    }
    // Never echo the output: it holds the secret.
    let parsed: HelperOutput = serde_json::from_slice(&output).map_err(|_| {
        format!("credential helper {program} did not print {{\"Username\",\"Secret\"}} JSON")
    })?;
    if parsed.secret.is_empty() {
        return Ok(None);
    }
    let source = format!("credential helper {program}");
    let credential = if parsed.username == "<token>" {
        Credential::IdentityToken {
            token: parsed.secret,
        }
    } else {
        Credential::Basic {
            username: parsed.username,
            password: parsed.secret,
        }
    };
    Ok(Some(Found { credential, source }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn config(json: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, json).unwrap();
        (dir, path)
    }

    fn basic(u: &str, p: &str) -> Credential {
        Credential::Basic {
            username: u.into(),
            password: p.into(),
        }
    }

    #[test]
    fn auths_base64_and_fields_and_hub_key() {
        // "alice:s3cr:et" — the password may contain ':'.
        let (_d, p) = config(
            r#"{"auths":{
                "https://index.docker.io/v1/":{"auth":"aHViOmh1YnB3"},
                "reg.example:5000":{"auth":"YWxpY2U6czNjcjpldA=="},
                "https://other.example/v2/":{"username":"bob","password":"pw"},
                "tok.example":{"identitytoken":"refresh-me"}
            }}"#,
        );
        let get = |r: &str| lookup(&p, r).unwrap().map(|f| f.credential);
        assert_eq!(get("docker.io"), Some(basic("hub", "hubpw")));
        assert_eq!(get("reg.example:5000"), Some(basic("alice", "s3cr:et")));
        assert_eq!(get("other.example"), Some(basic("bob", "pw")));
        assert_eq!(
            get("tok.example"),
            Some(Credential::IdentityToken {
                token: "refresh-me".into()
            })
        );
        assert_eq!(get("nothing.example"), None);
    }

    #[test]
    fn bad_configs_are_errors_missing_is_none() {
        let (_d, p) = config(r#"{"auths":{"r.example":{"auth":"!!!"}}}"#);
        assert!(lookup(&p, "r.example").unwrap_err().contains("not base64"));
        let (_d, p) = config("<html>");
        assert!(
            lookup(&p, "r.example")
                .unwrap_err()
                .contains("not a valid Docker config")
        );
        assert!(
            lookup(Path::new("/nonexistent/config.json"), "r.example")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn helper_names_are_checked_and_missing_helpers_reported() {
        let (_d, p) = config(r#"{"credHelpers":{"r.example":"../../bin/sh"}}"#);
        assert!(lookup(&p, "r.example").unwrap_err().contains("not valid"));
        let (_d, p) = config(r#"{"credHelpers":{"r.example":"bosun-no-such-helper"}}"#);
        assert!(lookup(&p, "r.example").unwrap_err().contains("cannot run"));
        // A broken default store falls back to auths.
        let (_d, p) = config(
            r#"{"credsStore":"bosun-no-such-helper","auths":{"r.example":{"auth":"dTpw"}}}"#,
        );
        assert_eq!(
            lookup(&p, "r.example").unwrap().map(|f| f.credential),
            Some(basic("u", "p"))
        );
    }

    #[test]
    fn debug_redacts_secrets() {
        let s = format!("{:?}", basic("alice", "hunter2"));
        assert!(s.contains("alice") && !s.contains("hunter2"));
    }
}
