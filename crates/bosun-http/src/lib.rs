//! What bosun's HTTP clients (the registry client in bosun-oci, the feed
//! fetcher in bosun-vulndb) share: the trusted roots, when a failure is
//! worth another attempt and how long to wait, and header access.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ureq::Body;
use ureq::http::Response;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

/// Bound on a CA bundle file.
const MAX_CA_FILE: u64 = 16 << 20;

/// The bundled public roots, plus every certificate of the PEM files in
/// `ca_files` (trusted besides the public roots, as Docker's `certs.d`
/// does). The error names the file and what is wrong with it.
pub fn tls_config(ca_files: &[&Path]) -> Result<TlsConfig, String> {
    let builder = TlsConfig::builder();
    if ca_files.is_empty() {
        return Ok(builder.build());
    }
    let mut roots: Vec<Certificate<'static>> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|der| Certificate::from_der(der.as_ref()).to_owned())
        .collect();
    for path in ca_files {
        let mut pem = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_CA_FILE).read_to_end(&mut pem))
            .map_err(|e| format!("cannot read CA certificates {}: {e}", path.display()))?;
        let before = roots.len();
        for item in ureq::tls::parse_pem(&pem) {
            match item {
                Ok(PemItem::Certificate(c)) => roots.push(c),
                Ok(_) => {}
                Err(e) => return Err(format!("CA certificates {}: {e}", path.display())),
            }
        }
        if roots.len() == before {
            return Err(format!("{} holds no PEM certificate", path.display()));
        }
    }
    Ok(builder
        .root_certs(RootCerts::Specific(Arc::new(roots)))
        .build())
}

/// Connection trouble is worth another attempt; TLS failures are not, nor
/// is the overall deadline of a request (another attempt would get a new
/// one, and a server trickling bytes would hold the client for each).
pub fn retryable(e: &ureq::Error) -> bool {
    !is_tls(e)
        && match e {
            ureq::Error::Timeout(t) => *t != ureq::Timeout::Global,
            ureq::Error::Io(_) | ureq::Error::ConnectionFailed => true,
            _ => false,
        }
}

/// Whether the TLS handshake or session failed.
pub fn is_tls(e: &ureq::Error) -> bool {
    matches!(e, ureq::Error::Tls(_)) || tls_error(e).is_some()
}

/// The rustls error behind `e`: reported directly or wrapped in the
/// stream's I/O error.
pub fn tls_error(e: &ureq::Error) -> Option<&rustls::Error> {
    match e {
        ureq::Error::Rustls(t) => Some(t),
        ureq::Error::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>()),
        _ => None,
    }
}

/// `Retry-After` as seconds or an HTTP date, at most `cap`.
pub fn retry_after(resp: &Response<Body>, cap: Duration) -> Option<Duration> {
    let v = header(resp, "retry-after")?.trim();
    let wait = match v.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => httpdate::parse_http_date(v)
            .ok()?
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    };
    Some(wait.min(cap))
}

/// The wait before retry `attempt` (from 0): `first`, doubling each time up
/// to `cap`, then scaled by a random 0.5–1.5 so clients that failed
/// together do not come back together.
pub fn backoff(attempt: u32, first: Duration, cap: Duration) -> Duration {
    first
        .saturating_mul(1 << attempt.min(16))
        .min(cap)
        .mul_f64(0.5 + fastrand::f64())
}

/// A response header as text (`None` when absent or not visible ASCII).
pub fn header<'a>(resp: &'a Response<Body>, name: &str) -> Option<&'a str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn response(retry_after: &str) -> Response<Body> {
        Response::builder()
            .header("Retry-After", retry_after)
            .body(Body::builder().data(Vec::new()))
            .unwrap()
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date_and_is_capped() {
        let cap = Duration::from_secs(60);
        assert_eq!(
            retry_after(&response("7"), cap),
            Some(Duration::from_secs(7))
        );
        assert_eq!(retry_after(&response("86400"), cap), Some(cap));
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(10));
        assert_eq!(retry_after(&response(&past), cap), Some(Duration::ZERO));
        let soon = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let wait = retry_after(&response(&soon), cap).unwrap();
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert_eq!(retry_after(&response("soon"), cap), None);
    }

    #[test]
    fn backoff_doubles_within_its_jitter_and_is_capped() {
        let (first, cap) = (Duration::from_millis(500), Duration::from_secs(30));
        for attempt in 0..40 {
            let nominal = first.saturating_mul(1 << attempt.min(16)).min(cap);
            let w = backoff(attempt, first, cap);
            assert!(w >= nominal / 2 && w <= nominal * 3 / 2, "{attempt}: {w:?}");
        }
    }

    #[test]
    fn the_overall_deadline_is_not_retried() {
        assert!(!retryable(&ureq::Error::Timeout(ureq::Timeout::Global)));
        assert!(retryable(&ureq::Error::Timeout(ureq::Timeout::Connect)));
        assert!(retryable(&ureq::Error::ConnectionFailed));
    }

    #[test]
    fn bad_ca_files_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let e = tls_config(&[&missing]).err().unwrap();
        assert!(
            e.contains("missing.pem") && e.starts_with("cannot read"),
            "{e}"
        );
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").unwrap();
        let e = tls_config(&[&empty]).err().unwrap();
        assert!(e.contains("holds no PEM certificate"), "{e}");
        assert!(tls_config(&[]).is_ok());
    }
}
