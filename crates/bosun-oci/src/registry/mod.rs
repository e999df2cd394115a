//! Images pulled from an OCI Distribution registry.
//!
//! [`Registry`] is the HTTP client for one registry host: TLS (rustls, extra
//! CA bundles), anonymous, basic and bearer-token auth with credentials from
//! Docker's config, retries with backoff, and bounded, verified reads.
//! [`RegistryStore`] is the [`Store`] over one image reference.

mod auth;
mod client;
mod credentials;
mod deadline;
mod push;
mod referrers;

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bosun_core::Reference;

pub use auth::{Challenge, parse_challenges};
pub use client::Registry;
pub use credentials::{Credential, DOCKER_HUB_KEY};

use crate::manifest::Descriptor;
use crate::{Fetched, OciError, Store};

/// [`RegistryOptions::timeout`] unless set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// A duration as `--timeout` takes it: a whole number with a unit, `s`, `m`
/// or `h` (`300s`, `5m`, `1h`), or `0` for none. Hand-written: three units
/// do not justify a dependency.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let bad = || {
        format!(
            "{s:?} is not a duration: use a number with s, m or h (300s, 5m, 1h), or 0 for none"
        )
    };
    let (num, unit) = s.split_at(s.len().saturating_sub(1));
    let n: u64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        _ => None,
    }
    .ok_or_else(bad)?;
    Ok(Duration::from_secs(secs))
}

/// `5m`, `90s`, `1.5s`: a deadline as messages give it.
pub(crate) fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if d.subsec_nanos() != 0 {
        format!("{}s", d.as_secs_f64())
    } else if secs.is_multiple_of(3600) && secs > 0 {
        format!("{}h", secs / 3600)
    } else if secs.is_multiple_of(60) && secs > 0 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// How to reach registries.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// Talk plain HTTP. Never done unless this is set.
    pub insecure: bool,
    /// PEM files of CA certificates trusted besides the public roots.
    pub ca_certs: Vec<PathBuf>,
    /// Docker's config.json; default `$DOCKER_CONFIG/config.json` or
    /// `~/.docker/config.json`.
    pub docker_config: Option<PathBuf>,
    pub user_agent: String,
    pub timeouts: Timeouts,
    /// Deadline for each request, its body included (a manifest, a token, a
    /// whole layer blob): a registry trickling bytes cannot hang a pull,
    /// which the per-read timeout alone allows. `Duration::ZERO`: none.
    /// Default 5 minutes, as Trivy's `--timeout`.
    pub timeout: Duration,
    /// Extra attempts after a 429, a 5xx or a connection error.
    pub retries: u32,
    /// The longest wait a `Retry-After` can ask for.
    pub max_retry_wait: Duration,
}

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// To open a connection (TCP and TLS handshake).
    pub connect: Duration,
    /// For any one read while waiting for a response or its body; a stalled
    /// transfer fails after this long without data.
    pub read: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(30),
            read: Duration::from_secs(60),
        }
    }
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            insecure: false,
            ca_certs: Vec::new(),
            docker_config: None,
            user_agent: concat!("bosun/", env!("CARGO_PKG_VERSION")).to_string(),
            timeouts: Timeouts::default(),
            timeout: DEFAULT_TIMEOUT,
            retries: 3,
            max_retry_wait: Duration::from_secs(30),
        }
    }
}

/// One image in a registry, as a [`Store`]. Cheap to share between threads:
/// the pipeline opens several layer blobs at once.
pub struct RegistryStore {
    registry: Arc<Registry>,
    reference: Reference,
}

impl RegistryStore {
    pub fn new(reference: Reference, options: &RegistryOptions) -> Result<Self, OciError> {
        let registry = Arc::new(Registry::new(&reference.registry, options)?);
        Ok(RegistryStore {
            registry,
            reference,
        })
    }

    /// Reuse a client (and its tokens) for another image of the same registry.
    pub fn with_registry(registry: Arc<Registry>, reference: Reference) -> Self {
        RegistryStore {
            registry,
            reference,
        }
    }

    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    pub fn reference(&self) -> &Reference {
        &self.reference
    }
}

impl Store for RegistryStore {
    fn describe(&self) -> String {
        self.reference.to_string()
    }

    fn root(&self) -> Result<Fetched, OciError> {
        self.registry.manifest(
            &self.reference.repository,
            &self.reference.target(),
            self.reference.digest.as_ref(),
            None,
        )
    }

    fn manifest(&self, desc: &Descriptor) -> Result<Fetched, OciError> {
        self.registry.manifest(
            &self.reference.repository,
            &desc.digest.to_string(),
            Some(&desc.digest),
            Some(desc.size),
        )
    }

    fn blob(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>, OciError> {
        self.registry.blob(&self.reference.repository, desc)
    }

    fn tags(&self) -> Vec<String> {
        self.reference.tag.iter().cloned().collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_as_trivy_writes_them() {
        assert_eq!(parse_timeout("300s").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_timeout("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_timeout("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_timeout("0").unwrap(), Duration::ZERO);
        for bad in ["", "5", "m", "-1s", "1.5m", "5d", "99999999999999999999h"] {
            let e = parse_timeout(bad).unwrap_err();
            assert!(e.contains("not a duration"), "{bad}: {e}");
        }
        assert_eq!(format_duration(Duration::from_secs(300)), "5m");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
    }
}
