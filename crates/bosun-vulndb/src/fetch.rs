//! Getting feed files into a *feed directory*: conditional HTTP downloads
//! (`bosun db update`) and copies from a local or HTTP mirror
//! (`bosun db import`).
//!
//! The feed directory is laid out like the upstream exports:
//! `osv/<Ecosystem>/all.zip`, `kev/known_exploited_vulnerabilities.json`,
//! `epss/epss_scores-current.csv.gz`, `debian/tracker.json`. Beside each file
//! a sidecar `<file>.meta.json` ([`FeedMeta`]) remembers where it came from
//! and its validators, so that the next update can ask "changed since?".
//!
//! A file is only ever replaced by a complete, verified download: bodies go
//! to a temporary file in the same directory, are hashed while streaming,
//! checked for the shape their kind promises, synced and renamed over the old
//! file. Any failure leaves the previous file as it was and no temporary file
//! behind.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ureq::http::{Response, StatusCode};
use ureq::{Agent, Body};

use bosun_http::header;

/// The OSV ecosystems downloaded by default, spelled as the osv.dev bucket
/// spells its directories.
pub const OSV_ECOSYSTEMS: &[&str] = &[
    "PyPI",
    "npm",
    "Go",
    "crates.io",
    "Maven",
    "RubyGems",
    "NuGet",
    "Packagist",
    "Debian",
    "Ubuntu",
    "Alpine",
];
pub const OSV_BASE_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com";
pub const KEV_URL: &str =
    "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json";
/// FIRST's EPSS data is published by Empirical Security; `-current` redirects
/// to the dated file.
pub const EPSS_URL: &str = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz";
pub const DEBIAN_TRACKER_URL: &str = "https://security-tracker.debian.org/tracker/data/json";

pub const KEV_PATH: &str = "kev/known_exploited_vulnerabilities.json";
pub const EPSS_PATH: &str = "epss/epss_scores-current.csv.gz";
pub const DEBIAN_TRACKER_PATH: &str = "debian/tracker.json";

/// The sidecar suffix: `osv/PyPI/all.zip.meta.json`.
pub const META_SUFFIX: &str = ".meta.json";

/// Retry-After is honoured up to this long.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(60);
const MAX_META_SIZE: u64 = 64 << 10;
const MAX_ERROR_BODY: u64 = 4 << 10;
/// Longer validators are not worth remembering (and not plausible).
const MAX_VALIDATOR_LEN: usize = 1024;
/// Bounds the work of checking a zip's central directory.
const MAX_ZIP_ENTRIES: usize = 5_000_000;
/// The EPSS CSV is ~300k rows (tens of MB); this is far above it.
const MAX_EPSS_DECODED: u64 = 4 << 30;
const MAX_HEADER_LINE: u64 = 4096;

/// What a feed file is, which decides how it is verified and how large it
/// may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// osv.dev's per-ecosystem `all.zip`: one JSON record per entry.
    OsvZip,
    /// CISA's Known Exploited Vulnerabilities catalog (JSON).
    Kev,
    /// FIRST EPSS scores, gzip-compressed CSV.
    Epss,
    /// The Debian security tracker's `/tracker/data/json`.
    DebianTracker,
}

impl SourceKind {
    /// The largest file accepted, far above today's sizes (OSV npm is
    /// ~200 MB, the tracker ~100 MB, KEV ~1.5 MB, EPSS ~10 MB).
    pub fn max_size(self) -> u64 {
        match self {
            SourceKind::OsvZip => 2 << 30,
            SourceKind::Kev => 64 << 20,
            SourceKind::Epss => 256 << 20,
            SourceKind::DebianTracker => 1 << 30,
        }
    }
}

/// One downloadable feed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// For messages and results: `osv-PyPI`, `kev`, `epss`, `debian-tracker`.
    pub name: String,
    pub url: String,
    /// Relative path in the feed directory, `/`-separated, no `.` or `..`.
    pub path: String,
    pub kind: SourceKind,
}

impl Source {
    /// The osv.dev export of one ecosystem.
    pub fn osv(ecosystem: &str) -> Source {
        Source {
            name: format!("osv-{ecosystem}"),
            url: format!("{OSV_BASE_URL}/{ecosystem}/all.zip"),
            path: format!("osv/{ecosystem}/all.zip"),
            kind: SourceKind::OsvZip,
        }
    }

    fn fixed(name: &str, url: &str, path: &str, kind: SourceKind) -> Source {
        Source {
            name: name.to_string(),
            url: url.to_string(),
            path: path.to_string(),
            kind,
        }
    }
}

/// OSV for [`OSV_ECOSYSTEMS`] and CISA KEV.
pub fn default_sources() -> Vec<Source> {
    let mut sources: Vec<Source> = OSV_ECOSYSTEMS.iter().map(|e| Source::osv(e)).collect();
    sources.push(Source::fixed("kev", KEV_URL, KEV_PATH, SourceKind::Kev));
    sources
}

/// EPSS and the Debian security tracker, downloaded on request.
pub fn optional_sources() -> Vec<Source> {
    vec![
        Source::fixed("epss", EPSS_URL, EPSS_PATH, SourceKind::Epss),
        Source::fixed(
            "debian-tracker",
            DEBIAN_TRACKER_URL,
            DEBIAN_TRACKER_PATH,
            SourceKind::DebianTracker,
        ),
    ]
}

/// The sidecar of a feed file: where it came from, the server's validators
/// and what was stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedMeta {
    /// The URL downloaded, or the local file imported.
    pub url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Hex sha256 of the stored file.
    pub sha256: String,
    pub size: u64,
    /// HTTP date of the download.
    pub fetched_at: String,
}

impl FeedMeta {
    /// The sidecar of `path` (relative, as in [`Source::path`]) in
    /// `feed_dir`, when it is readable and still describes the file beside
    /// it (same size); else `None`, which means "download everything".
    pub fn load(feed_dir: &Path, path: &str) -> Option<FeedMeta> {
        let target = target_path(feed_dir, path).ok()?;
        load_meta(&target)
    }
}

/// What [`Fetcher::fetch`] or [`import`] did to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The stored file is current (HTTP 304, or the same bytes again).
    NotModified,
    /// A new file was stored.
    Updated { sha256: String, size: u64 },
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{name}: {url}: HTTP {status}{detail}")]
    Http {
        name: String,
        url: String,
        status: u16,
        /// The start of the error body, sanitised; empty or `: ...`.
        detail: String,
    },
    #[error("{name}: {url}: {message}")]
    Transport {
        name: String,
        url: String,
        message: String,
    },
    #[error("{name}: {url}: the download stopped after {received} bytes{}", expected_msg(*.expected))]
    Truncated {
        name: String,
        url: String,
        received: u64,
        expected: Option<u64>,
    },
    #[error("{name}: {from}: larger than the {limit}-byte limit for this feed")]
    TooLarge {
        name: String,
        from: String,
        limit: u64,
    },
    /// The bytes are not what the feed kind promises.
    #[error("{name}: {from}: {message}")]
    Invalid {
        name: String,
        from: String,
        message: String,
    },
    #[error("{}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{0}")]
    Config(String),
    #[error(
        "{src}: no known feed file was found (osv/<Ecosystem>/all.zip, {KEV_PATH}, {EPSS_PATH}, {DEBIAN_TRACKER_PATH})"
    )]
    NothingToImport { src: String },
}

fn expected_msg(expected: Option<u64>) -> String {
    match expected {
        Some(n) => format!(" of the {n} announced"),
        None => " (connection closed)".to_string(),
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> FetchError + '_ {
    move |source| FetchError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// A PEM bundle of CA certificates trusted besides the public roots.
    pub ca_file: Option<PathBuf>,
    /// For connecting, for the response to start and for each read; not for
    /// the whole download, which may be large.
    pub timeout: Duration,
    pub user_agent: String,
    /// Further attempts after a connection failure, a cut body, HTTP 429 or 5xx.
    pub retries: u32,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            ca_file: None,
            timeout: Duration::from_secs(30),
            user_agent: concat!("bosun/", env!("CARGO_PKG_VERSION")).to_string(),
            retries: 3,
        }
    }
}

/// Downloads feed files. `Send + Sync`.
pub struct Fetcher {
    /// For https URLs; refuses redirects to plain http.
    https: Agent,
    /// For http URLs (mirrors on a local network, tests).
    http: Agent,
    retries: u32,
}

/// How one attempt failed.
enum Failure {
    /// Worth another attempt, after the server's Retry-After if it gave one.
    Transient(FetchError, Option<Duration>),
    Fatal(FetchError),
}

impl From<FetchError> for Failure {
    fn from(e: FetchError) -> Self {
        Failure::Fatal(e)
    }
}

impl Fetcher {
    pub fn new(options: FetchOptions) -> Result<Fetcher, FetchError> {
        let ca_files: Vec<&Path> = options.ca_file.as_deref().into_iter().collect();
        let tls = bosun_http::tls_config(&ca_files).map_err(FetchError::Config)?;
        let agent = |https_only: bool| {
            Agent::config_builder()
                .http_status_as_error(false)
                .https_only(https_only)
                .user_agent(options.user_agent.as_str())
                .timeout_connect(Some(options.timeout))
                .timeout_recv_response(Some(options.timeout))
                .timeout_per_read(Some(options.timeout))
                // EPSS's -current file redirects to the dated one.
                .max_redirects(5)
                .tls_config(tls.clone())
                .build()
                .new_agent()
        };
        Ok(Fetcher {
            https: agent(true),
            http: agent(false),
            retries: options.retries,
        })
    }

    /// Bring `src` up to date in `feed_dir`: a conditional GET against the
    /// sidecar's validators; on 200 a verified, atomic replacement.
    pub fn fetch(&self, src: &Source, feed_dir: &Path) -> Result<Outcome, FetchError> {
        let agent = if src.url.starts_with("https://") {
            &self.https
        } else if src.url.starts_with("http://") {
            &self.http
        } else {
            return Err(FetchError::Config(format!(
                "{}: {:?} is not an http(s) URL",
                src.name, src.url
            )));
        };
        let target = target_path(feed_dir, &src.path)?;
        let dir = parent(&target);
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let previous = load_meta(&target);
        let mut attempt = 0;
        loop {
            match self.attempt(agent, src, &target, previous.as_ref()) {
                Ok(outcome) => return Ok(outcome),
                Err(Failure::Transient(e, wait)) if attempt < self.retries => {
                    let wait = wait.unwrap_or_else(|| backoff(attempt));
                    tracing::debug!("{e}; retrying in {wait:?}");
                    std::thread::sleep(wait);
                    attempt += 1;
                }
                Err(Failure::Transient(e, _) | Failure::Fatal(e)) => return Err(e),
            }
        }
    }

    fn attempt(
        &self,
        agent: &Agent,
        src: &Source,
        target: &Path,
        previous: Option<&FeedMeta>,
    ) -> Result<Outcome, Failure> {
        let transport = |message: String| FetchError::Transport {
            name: src.name.clone(),
            url: src.url.clone(),
            message,
        };
        // Validators only make sense for the URL they came from.
        let validators = previous.filter(|m| m.url == src.url);
        let mut request = ureq::http::Request::builder().uri(src.url.as_str());
        if let Some(meta) = validators {
            if let Some(etag) = meta.etag.as_deref().filter(|v| valid_validator(v)) {
                request = request.header("If-None-Match", etag);
            }
            if let Some(lm) = meta.last_modified.as_deref().filter(|v| valid_validator(v)) {
                request = request.header("If-Modified-Since", lm);
            }
        }
        let conditional = request.headers_ref().is_some_and(|h| !h.is_empty());
        let request = request
            .body(())
            .map_err(|e| transport(format!("cannot build the request: {e}")))?;
        let resp = match agent.run(request) {
            Ok(r) => r,
            Err(e) => {
                let err = transport(describe_transport_error(&e));
                return Err(if bosun_http::retryable(&e) {
                    Failure::Transient(err, None)
                } else {
                    Failure::Fatal(err)
                });
            }
        };
        let status = resp.status();
        if status == StatusCode::NOT_MODIFIED {
            if conditional {
                return Ok(Outcome::NotModified);
            }
            return Err(transport("HTTP 304 to an unconditional request".into()).into());
        }
        if status != StatusCode::OK {
            let wait = bosun_http::retry_after(&resp, MAX_RETRY_WAIT);
            let err = FetchError::Http {
                name: src.name.clone(),
                url: src.url.clone(),
                status: status.as_u16(),
                detail: error_body(resp),
            };
            return Err(
                if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                    Failure::Transient(err, wait)
                } else {
                    Failure::Fatal(err)
                },
            );
        }
        self.download(src, target, previous, resp)
    }

    fn download(
        &self,
        src: &Source,
        target: &Path,
        previous: Option<&FeedMeta>,
        resp: Response<Body>,
    ) -> Result<Outcome, Failure> {
        let limit = src.kind.max_size();
        let too_large = || FetchError::TooLarge {
            name: src.name.clone(),
            from: src.url.clone(),
            limit,
        };
        let announced = header(&resp, "content-length").and_then(|v| v.trim().parse::<u64>().ok());
        if announced.is_some_and(|n| n > limit) {
            return Err(too_large().into());
        }
        let etag = header(&resp, "etag")
            .filter(|v| valid_validator(v))
            .map(str::to_string);
        let last_modified = header(&resp, "last-modified")
            .filter(|v| valid_validator(v))
            .map(str::to_string);
        let mut tmp = TempFile::create(parent(target))?;
        let mut body = resp.into_body().into_reader();
        let (sha256, size) = match copy_hashed(&mut body, &mut tmp, limit) {
            Ok(done) => done,
            Err(CopyError::TooLarge) => return Err(too_large().into()),
            Err(CopyError::Write(e)) => {
                return Err(FetchError::Io {
                    path: tmp.path.clone(),
                    source: e,
                }
                .into());
            }
            Err(CopyError::Read(e, received)) => {
                tracing::debug!("{}: {}: reading the body: {e}", src.name, src.url);
                let err = FetchError::Truncated {
                    name: src.name.clone(),
                    url: src.url.clone(),
                    received,
                    expected: announced,
                };
                return Err(Failure::Transient(err, None));
            }
        };
        if let Some(expected) = announced
            && expected != size
        {
            let err = FetchError::Truncated {
                name: src.name.clone(),
                url: src.url.clone(),
                received: size,
                expected: Some(expected),
            };
            return Err(Failure::Transient(err, None));
        }
        let meta = FeedMeta {
            url: src.url.clone(),
            etag,
            last_modified,
            sha256,
            size,
            fetched_at: httpdate::fmt_http_date(SystemTime::now()),
        };
        Ok(verify_and_install(
            src, &src.url, tmp, target, meta, previous,
        )?)
    }
}

/// `src` is a local directory laid out like a feed directory, or the http(s)
/// base URL of one. Every known file found there is verified and installed
/// into `feed_dir` (atomically, file by file). From a URL, a 404 means that
/// feed is absent; at least one feed must be found.
pub fn import(
    src: &str,
    feed_dir: &Path,
    fetcher: &Fetcher,
) -> Result<Vec<(String, Outcome)>, FetchError> {
    let results = if src.starts_with("http://") || src.starts_with("https://") {
        import_url(src, feed_dir, fetcher)?
    } else {
        import_dir(Path::new(src), feed_dir)?
    };
    if results.is_empty() {
        return Err(FetchError::NothingToImport {
            src: src.to_string(),
        });
    }
    Ok(results)
}

fn import_url(
    base: &str,
    feed_dir: &Path,
    fetcher: &Fetcher,
) -> Result<Vec<(String, Outcome)>, FetchError> {
    let base = base.trim_end_matches('/');
    let mut results = Vec::new();
    for source in default_sources().into_iter().chain(optional_sources()) {
        let source = Source {
            url: format!("{base}/{}", source.path),
            ..source
        };
        match fetcher.fetch(&source, feed_dir) {
            Ok(outcome) => results.push((source.name, outcome)),
            Err(FetchError::Http { status: 404, .. }) => {
                tracing::debug!("{}: absent from {base}", source.name);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(results)
}

fn import_dir(root: &Path, feed_dir: &Path) -> Result<Vec<(String, Outcome)>, FetchError> {
    if !root.is_dir() {
        return Err(FetchError::Config(format!(
            "{}: not a directory (nor an http(s) URL) to import from",
            root.display()
        )));
    }
    let mut found = Vec::new();
    let osv = root.join("osv");
    if osv.is_dir() {
        let mut ecosystems = Vec::new();
        for entry in fs::read_dir(&osv).map_err(io_err(&osv))? {
            let entry = entry.map_err(io_err(&osv))?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                tracing::warn!("{}: skipping a non-UTF-8 name", osv.display());
                continue;
            };
            if !name.starts_with('.') && entry.path().join("all.zip").is_file() {
                ecosystems.push(name);
            }
        }
        ecosystems.sort();
        found.extend(ecosystems.iter().map(|e| Source::osv(e)));
    }
    found.extend(
        [
            ("kev", KEV_PATH, SourceKind::Kev),
            ("epss", EPSS_PATH, SourceKind::Epss),
            (
                "debian-tracker",
                DEBIAN_TRACKER_PATH,
                SourceKind::DebianTracker,
            ),
        ]
        .into_iter()
        .filter(|(_, path, _)| root.join(path).is_file())
        .map(|(name, path, kind)| Source::fixed(name, "", path, kind)),
    );
    let mut results = Vec::new();
    for source in found {
        let from = root.join(&source.path);
        let outcome = import_file(&source, &from, feed_dir)?;
        results.push((source.name, outcome));
    }
    Ok(results)
}

fn import_file(source: &Source, from: &Path, feed_dir: &Path) -> Result<Outcome, FetchError> {
    let target = target_path(feed_dir, &source.path)?;
    let dir = parent(&target);
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let previous = load_meta(&target);
    let from_text = from.display().to_string();
    let limit = source.kind.max_size();
    let mut input = File::open(from).map_err(io_err(from))?;
    let mut tmp = TempFile::create(dir)?;
    let (sha256, size) = match copy_hashed(&mut input, &mut tmp, limit) {
        Ok(done) => done,
        Err(CopyError::TooLarge) => {
            return Err(FetchError::TooLarge {
                name: source.name.clone(),
                from: from_text,
                limit,
            });
        }
        Err(CopyError::Read(e, _)) => return Err(io_err(from)(e)),
        Err(CopyError::Write(e)) => return Err(io_err(&tmp.path)(e)),
    };
    let meta = FeedMeta {
        url: from_text.clone(),
        etag: None,
        last_modified: None,
        sha256,
        size,
        fetched_at: httpdate::fmt_http_date(SystemTime::now()),
    };
    verify_and_install(source, &from_text, tmp, &target, meta, previous.as_ref())
}

/// Check the complete temporary file, then put it in place (or, when it
/// holds the bytes already stored, keep the old file and refresh the
/// sidecar).
fn verify_and_install(
    src: &Source,
    from: &str,
    mut tmp: TempFile,
    target: &Path,
    meta: FeedMeta,
    previous: Option<&FeedMeta>,
) -> Result<Outcome, FetchError> {
    tmp.sync()?;
    verify(src.kind, &tmp.path).map_err(|message| FetchError::Invalid {
        name: src.name.clone(),
        from: from.to_string(),
        message,
    })?;
    let meta_path = sidecar_path(target);
    if previous.is_some_and(|p| p.sha256 == meta.sha256 && p.size == meta.size) {
        drop(tmp);
        write_meta(&meta_path, &meta)?;
        return Ok(Outcome::NotModified);
    }
    // The old sidecar goes first, so that a crash never leaves validators
    // describing a file they do not belong to (a missing sidecar only costs
    // one full download).
    match fs::remove_file(&meta_path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(&meta_path)(e)),
    }
    tmp.persist(target)?;
    write_meta(&meta_path, &meta)?;
    Ok(Outcome::Updated {
        sha256: meta.sha256,
        size: meta.size,
    })
}

/// Check that a complete file is what its kind promises. Returns the reason
/// when it is not.
fn verify(kind: SourceKind, path: &Path) -> Result<(), String> {
    let file = File::open(path).map_err(|e| format!("cannot reopen the download: {e}"))?;
    let reader = BufReader::new(file);
    match kind {
        SourceKind::OsvZip => verify_zip(reader),
        SourceKind::Kev => {
            #[derive(Deserialize)]
            struct Kev {
                vulnerabilities: Vec<IgnoredAny>,
            }
            let kev: Kev = serde_json::from_reader(reader)
                .map_err(|e| format!("not the CISA KEV JSON catalog: {e}"))?;
            if kev.vulnerabilities.is_empty() {
                return Err("the KEV catalog lists no vulnerabilities".into());
            }
            Ok(())
        }
        SourceKind::Epss => verify_epss(reader),
        SourceKind::DebianTracker => {
            let packages: BTreeMap<String, IgnoredAny> = serde_json::from_reader(reader)
                .map_err(|e| format!("not the Debian tracker's JSON object: {e}"))?;
            if packages.is_empty() {
                return Err("the Debian tracker JSON names no packages".into());
            }
            Ok(())
        }
    }
}

fn verify_zip<R: Read + io::Seek>(reader: R) -> Result<(), String> {
    let archive =
        zip::ZipArchive::new(reader).map_err(|e| format!("not a readable zip archive: {e}"))?;
    if archive.is_empty() {
        return Err("the zip archive holds no entries".into());
    }
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(format!(
            "the zip archive holds {} entries, more than the {MAX_ZIP_ENTRIES} accepted",
            archive.len()
        ));
    }
    match archive
        .file_names()
        .find(|n| !n.ends_with('/') && !n.ends_with(".json"))
    {
        Some(name) => Err(format!(
            "zip entry {:?} is not an OSV .json record",
            clip(name, 200)
        )),
        None => Ok(()),
    }
}

/// The gzip stream must decode to its end (which checks its CRC) and start
/// with the `cve,epss,percentile` header, after an optional `#model_version`
/// comment line.
fn verify_epss<R: Read>(reader: R) -> Result<(), String> {
    let mut csv = BufReader::new(flate2::read::GzDecoder::new(reader));
    let gzip = |e: io::Error| format!("not a readable gzip stream: {e}");
    let mut header = String::new();
    for _ in 0..2 {
        header.clear();
        (&mut csv)
            .take(MAX_HEADER_LINE)
            .read_line(&mut header)
            .map_err(gzip)?;
        if !header.starts_with('#') {
            break;
        }
    }
    let columns: Vec<&str> = header.trim().split(',').map(str::trim).collect();
    if columns.get(..3) != Some(&["cve", "epss", "percentile"][..]) {
        return Err(format!(
            "the EPSS CSV lacks its cve,epss,percentile header (found {:?})",
            clip(header.trim(), 100)
        ));
    }
    let rest = io::copy(&mut csv.take(MAX_EPSS_DECODED), &mut io::sink()).map_err(gzip)?;
    if rest >= MAX_EPSS_DECODED {
        return Err(format!(
            "the EPSS CSV decodes to more than {MAX_EPSS_DECODED} bytes"
        ));
    }
    Ok(())
}

/// A file being written beside its destination; removed unless persisted.
struct TempFile {
    path: PathBuf,
    file: Option<File>,
}

impl TempFile {
    fn create(dir: &Path) -> Result<TempFile, FetchError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!(".bosun-{}-{n}.part", std::process::id()));
            match File::options().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    return Ok(TempFile {
                        path,
                        file: Some(file),
                    });
                }
                // Left by a crashed process that had our pid: take the next name.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_err(&path)(e)),
            }
        }
    }

    fn sync(&mut self) -> Result<(), FetchError> {
        if let Some(file) = &mut self.file {
            file.flush()
                .and_then(|()| file.sync_all())
                .map_err(io_err(&self.path))?;
        }
        Ok(())
    }

    /// Sync and rename over `to`, then sync the directory so the rename
    /// survives a crash.
    fn persist(mut self, to: &Path) -> Result<(), FetchError> {
        self.sync()?;
        self.file = None;
        fs::rename(&self.path, to).map_err(io_err(to))?;
        // Renamed: nothing left for Drop to remove.
        self.path = PathBuf::new();
        sync_dir(parent(to))
    }
}

impl Write for TempFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.file {
            Some(f) => f.write(buf),
            None => Err(io::Error::other("temporary file already closed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        self.file = None;
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), FetchError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), FetchError> {
    Ok(())
}

enum CopyError {
    TooLarge,
    /// With the bytes received before the failure.
    Read(io::Error, u64),
    Write(io::Error),
}

/// Copy at most `limit` bytes, hashing them. Returns (hex sha256, size).
fn copy_hashed(
    input: &mut dyn Read,
    out: &mut TempFile,
    limit: u64,
) -> Result<(String, u64), CopyError> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 << 10];
    let mut size: u64 = 0;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e, size)),
        };
        size += n as u64;
        if size > limit {
            return Err(CopyError::TooLarge);
        }
        let chunk = buf.get(..n).unwrap_or_default();
        hasher.update(chunk);
        out.write_all(chunk).map_err(CopyError::Write)?;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

fn load_meta(target: &Path) -> Option<FeedMeta> {
    let meta_path = sidecar_path(target);
    let mut text = Vec::new();
    File::open(&meta_path)
        .and_then(|f| f.take(MAX_META_SIZE).read_to_end(&mut text))
        .ok()?;
    let meta: FeedMeta = match serde_json::from_slice(&text) {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(
                "{}: ignoring an unreadable sidecar: {e}",
                meta_path.display()
            );
            return None;
        }
    };
    let size = fs::metadata(target).ok()?.len();
    (size == meta.size).then_some(meta)
}

fn write_meta(meta_path: &Path, meta: &FeedMeta) -> Result<(), FetchError> {
    let json = serde_json::to_vec_pretty(meta)
        .map_err(|e| FetchError::Config(format!("cannot encode {}: {e}", meta_path.display())))?;
    let mut tmp = TempFile::create(parent(meta_path))?;
    tmp.write_all(&json).map_err(io_err(&tmp.path))?;
    tmp.persist(meta_path)
}

fn sidecar_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(META_SUFFIX);
    target.with_file_name(name)
}

/// `feed_dir/path`, refusing paths that would leave the feed directory.
fn target_path(feed_dir: &Path, path: &str) -> Result<PathBuf, FetchError> {
    let rel = Path::new(path);
    if path.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(FetchError::Config(format!(
            "feed path {path:?} must be relative, without '.' or '..'"
        )));
    }
    Ok(feed_dir.join(rel))
}

fn parent(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("."))
}

/// Validators are echoed back in request headers: visible ASCII only,
/// bounded.
fn valid_validator(v: &str) -> bool {
    !v.is_empty() && v.len() <= MAX_VALIDATOR_LEN && v.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// About 0.5 s, 1 s, 2 s, ... capped at 30 s (with jitter).
fn backoff(attempt: u32) -> Duration {
    bosun_http::backoff(attempt, Duration::from_millis(500), Duration::from_secs(30))
}

fn describe_transport_error(e: &ureq::Error) -> String {
    match e {
        ureq::Error::RequireHttpsOnly(url) => {
            format!("refusing to follow a redirect to plain HTTP ({url})")
        }
        ureq::Error::HostNotFound => "cannot resolve the host".to_string(),
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        e if bosun_http::is_tls(e) => {
            format!("TLS failed: {e} (for a private CA, pass its PEM bundle)")
        }
        e => format!("cannot reach the server: {e}"),
    }
}

/// `: <start of the body>` or empty; bounded and sanitised so that a
/// hostile server cannot flood or garble messages.
fn error_body(resp: Response<Body>) -> String {
    let mut buf = Vec::new();
    let _ = resp
        .into_body()
        .into_reader()
        .take(MAX_ERROR_BODY)
        .read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {}", clip(text, 200))
    }
}

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
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn zip_of(names: &[&str]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for name in names {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(b"{}").unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn default_sources_use_the_documented_urls() {
        let all = default_sources();
        assert_eq!(all.len(), OSV_ECOSYSTEMS.len() + 1);
        let pypi = all.iter().find(|s| s.name == "osv-PyPI").unwrap();
        assert_eq!(
            pypi.url,
            "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
        );
        assert_eq!(pypi.path, "osv/PyPI/all.zip");
        assert!(all.iter().any(|s| s.path == "osv/crates.io/all.zip"));
        assert!(
            all.iter()
                .any(|s| s.kind == SourceKind::Kev && s.url == KEV_URL)
        );
        let optional = optional_sources();
        assert_eq!(optional.len(), 2);
        assert!(optional.iter().all(|s| s.url.starts_with("https://")));
    }

    #[test]
    fn paths_may_not_leave_the_feed_dir() {
        let dir = Path::new("/feeds");
        assert!(target_path(dir, "osv/PyPI/all.zip").is_ok());
        for bad in ["", "/etc/passwd", "../x", "osv/../../x", "./x", "osv//x/.."] {
            assert!(target_path(dir, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn zip_verification() {
        assert!(verify_zip(Cursor::new(zip_of(&["A.json", "B.json"]))).is_ok());
        let err = verify_zip(Cursor::new(zip_of(&["A.json", "evil.sh"]))).unwrap_err();
        assert!(err.contains("evil.sh"), "{err}");
        assert!(verify_zip(Cursor::new(zip_of(&[]))).is_err());
        let good = zip_of(&["A.json"]);
        for cut in [0, 1, good.len() / 2, good.len() - 1] {
            assert!(
                verify_zip(Cursor::new(good[..cut].to_vec())).is_err(),
                "{cut}"
            );
        }
        assert!(verify_zip(Cursor::new(b"<html>nope</html>".to_vec())).is_err());
    }

    #[test]
    fn epss_verification() {
        // The layout FIRST documents: a model comment line, then the header.
        let csv = b"#model_version:v2025.03.14,score_date:2025-06-01T00:00:00+0000\n\
                    cve,epss,percentile\nCVE-1999-0001,0.01,0.5\n";
        assert!(verify_epss(Cursor::new(gzip(csv))).is_ok());
        assert!(verify_epss(Cursor::new(gzip(b"cve,epss,percentile\n"))).is_ok());
        assert!(verify_epss(Cursor::new(gzip(b"id,score\nx,1\n"))).is_err());
        assert!(verify_epss(Cursor::new(csv.to_vec())).is_err(), "not gzip");
        let gz = gzip(csv);
        assert!(
            verify_epss(Cursor::new(gz[..gz.len() - 4].to_vec())).is_err(),
            "truncated"
        );
        assert!(verify_epss(Cursor::new(gzip(&[b'#'; 100_000]))).is_err());
    }

    #[test]
    fn json_kinds_verification() {
        let dir = tempfile::tempdir().unwrap();
        let check = |kind, body: &[u8]| {
            let p = dir.path().join("f");
            fs::write(&p, body).unwrap();
            verify(kind, &p)
        };
        assert!(
            check(
                SourceKind::Kev,
                br#"{"vulnerabilities":[{"cveID":"CVE-1"}]}"#
            )
            .is_ok()
        );
        assert!(check(SourceKind::Kev, br#"{"vulnerabilities":[]}"#).is_err());
        assert!(check(SourceKind::Kev, br#"{"title":"x"}"#).is_err());
        assert!(check(SourceKind::Kev, br#"{"vulnerabilities":[{"cveID":"#).is_err());
        assert!(check(SourceKind::Kev, &b"[".repeat(10_000)).is_err());
        assert!(check(SourceKind::DebianTracker, br#"{"zlib":{"CVE-1":{}}}"#).is_ok());
        assert!(check(SourceKind::DebianTracker, br#"[1,2]"#).is_err());
        assert!(check(SourceKind::DebianTracker, br#"{}"#).is_err());
        assert!(check(SourceKind::DebianTracker, br#"{"zlib":{} trailing"#).is_err());
    }

    #[test]
    fn validators_are_sanitised() {
        assert!(valid_validator("\"abc\""));
        assert!(valid_validator("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert!(!valid_validator(""));
        assert!(!valid_validator("a\r\nX-Evil: 1"));
        assert!(!valid_validator(&"a".repeat(2000)));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!((Duration::from_millis(250)..=Duration::from_millis(750)).contains(&backoff(0)));
        assert!((Duration::from_millis(500)..=Duration::from_millis(1500)).contains(&backoff(1)));
        assert!((Duration::from_secs(15)..=Duration::from_secs(45)).contains(&backoff(40)));
    }
}
