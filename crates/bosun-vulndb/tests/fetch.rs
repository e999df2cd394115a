//! Downloads against a real HTTP server on 127.0.0.1 serving the shared
//! vulnerability data, including one that misbehaves on request.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bosun_vulndb::fetch::{
    self, FeedMeta, FetchError, FetchOptions, Fetcher, Outcome, Source, SourceKind,
};
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------- server

/// How the server misbehaves for a path.
#[derive(Clone)]
enum How {
    /// Announce the full length, send half, close.
    Cut,
    /// Announce more bytes than the file has, send the file, close.
    LongerLength,
    /// Announce half the file's length, send all of it.
    ShorterLength,
    /// HTTP 500 with `Retry-After: 0`.
    Status500,
    /// 200 with these bytes and no validators.
    Body(Vec<u8>),
}

struct State {
    root: PathBuf,
    etags: AtomicBool,
    requests: AtomicU64,
    body_bytes: AtomicU64,
    /// Path -> misbehaviour and how many more times (u32::MAX: always).
    modes: Mutex<HashMap<String, (How, u32)>>,
}

struct Server {
    base: String,
    state: Arc<State>,
}

impl Server {
    fn start(root: &Path) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(State {
            root: root.to_path_buf(),
            etags: AtomicBool::new(true),
            requests: AtomicU64::new(0),
            body_bytes: AtomicU64::new(0),
            modes: Mutex::new(HashMap::new()),
        });
        let shared = state.clone();
        // The accept loop lives as long as the test process.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Server { base, state }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    fn misbehave(&self, path: &str, how: How, times: u32) {
        self.state
            .modes
            .lock()
            .unwrap()
            .insert(format!("/{path}"), (how, times));
    }

    fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::SeqCst)
    }

    fn body_bytes(&self) -> u64 {
        self.state.body_bytes.load(Ordering::SeqCst)
    }
}

fn serve(mut stream: TcpStream, state: &State) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    state.requests.fetch_add(1, Ordering::SeqCst);
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();

    let mode = {
        let mut modes = state.modes.lock().unwrap();
        match modes.get_mut(&path) {
            Some((how, left)) if *left > 0 => {
                if *left != u32::MAX {
                    *left -= 1;
                }
                Some(how.clone())
            }
            _ => None,
        }
    };
    if let Some(How::Status500) = mode {
        respond(
            &mut stream,
            state,
            "500 Internal Server Error",
            &["Retry-After: 0".into()],
            b"busy",
            None,
        );
        return;
    }
    if let Some(How::Body(bytes)) = &mode {
        respond(&mut stream, state, "200 OK", &[], bytes, None);
        return;
    }

    let file = state.root.join(path.trim_start_matches('/'));
    let content = match fs::read(&file) {
        Ok(c) if !path.contains("..") => c,
        _ => {
            respond(
                &mut stream,
                state,
                "404 Not Found",
                &[],
                b"no such file",
                None,
            );
            return;
        }
    };
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&content))[..16]);
    let mtime = fs::metadata(&file).unwrap().modified().unwrap();
    let with_etag = state.etags.load(Ordering::SeqCst);
    let not_modified = match (
        headers.get("if-none-match"),
        headers.get("if-modified-since"),
    ) {
        (Some(inm), _) if with_etag => *inm == etag,
        (_, Some(ims)) => httpdate::parse_http_date(ims).is_ok_and(|since| {
            // HTTP dates have whole seconds.
            let secs = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
            secs(mtime) <= secs(since)
        }),
        _ => false,
    };
    let mut validators = vec![format!("Last-Modified: {}", httpdate::fmt_http_date(mtime))];
    if with_etag {
        validators.push(format!("ETag: {etag}"));
    }
    if not_modified {
        respond(
            &mut stream,
            state,
            "304 Not Modified",
            &validators,
            b"",
            None,
        );
        return;
    }
    let len = content.len();
    match mode {
        Some(How::Cut) => respond(
            &mut stream,
            state,
            "200 OK",
            &validators,
            &content[..len / 2],
            Some(len),
        ),
        Some(How::LongerLength) => respond(
            &mut stream,
            state,
            "200 OK",
            &validators,
            &content,
            Some(len + 100),
        ),
        Some(How::ShorterLength) => respond(
            &mut stream,
            state,
            "200 OK",
            &validators,
            &content,
            Some(len / 2),
        ),
        _ => respond(&mut stream, state, "200 OK", &validators, &content, None),
    }
}

/// One response, then close. `length` overrides the Content-Length sent.
fn respond(
    stream: &mut TcpStream,
    state: &State,
    status: &str,
    headers: &[String],
    body: &[u8],
    length: Option<usize>,
) {
    let mut head = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    if !status.starts_with("304") {
        head.push_str(&format!(
            "Content-Length: {}\r\n",
            length.unwrap_or(body.len())
        ));
    }
    for h in headers {
        head.push_str(&format!("{h}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    if stream.write_all(body).is_ok() {
        state
            .body_bytes
            .fetch_add(body.len() as u64, Ordering::SeqCst);
    }
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}

// ---------------------------------------------------------------- helpers

/// The shared vulndata directory, or None (skip) when it is missing.
fn vulndata() -> Option<PathBuf> {
    bosun_testutil::shared("vulndata/osv/npm/all.zip")?;
    Some(bosun_testutil::shared_dir().join("vulndata"))
}

fn fetcher(retries: u32) -> Fetcher {
    Fetcher::new(FetchOptions {
        timeout: Duration::from_secs(10),
        retries,
        ..FetchOptions::default()
    })
    .unwrap()
}

fn source(server: &Server, path: &str, kind: SourceKind) -> Source {
    Source {
        name: path.to_string(),
        url: server.url(path),
        path: path.to_string(),
        kind,
    }
}

fn sha256_of(path: &Path) -> String {
    hex::encode(Sha256::digest(fs::read(path).unwrap()))
}

fn updated(path: &Path) -> Outcome {
    Outcome::Updated {
        sha256: sha256_of(path),
        size: fs::metadata(path).unwrap().len(),
    }
}

/// Copies `rels` of the shared data into a fresh directory to serve.
fn served_copy(data: &Path, rels: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for rel in rels {
        let to = dir.path().join(rel);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(data.join(rel), to).unwrap();
    }
    dir
}

/// Every file under `dir` (relative paths), to show nothing was left behind.
fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// FIRST's published EPSS layout (no real file could be obtained): a model
/// comment line, the header, one row per CVE.
fn epss_gz() -> Vec<u8> {
    let csv = "#model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z\n\
               cve,epss,percentile\n\
               CVE-2021-44228,0.94358,0.99955\n\
               CVE-2022-22965,0.94468,0.99983\n";
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(csv.as_bytes()).unwrap();
    enc.finish().unwrap()
}

// ---------------------------------------------------------------- fetch

#[test]
fn first_fetch_stores_then_not_modified_then_updated_when_the_source_changes() {
    let Some(data) = vulndata() else { return };
    let served = served_copy(&data, &["osv/npm/all.zip"]);
    let server = Server::start(served.path());
    let feed = tempfile::tempdir().unwrap();
    let f = fetcher(0);
    let src = source(&server, "osv/npm/all.zip", SourceKind::OsvZip);
    let stored = feed.path().join("osv/npm/all.zip");

    let npm = data.join("osv/npm/all.zip");
    assert_eq!(f.fetch(&src, feed.path()).unwrap(), updated(&npm));
    assert_eq!(fs::read(&stored).unwrap(), fs::read(&npm).unwrap());
    let meta = FeedMeta::load(feed.path(), &src.path).unwrap();
    assert_eq!(meta.url, src.url);
    assert_eq!(meta.sha256, sha256_of(&npm));
    assert!(meta.etag.is_some() && meta.last_modified.is_some());

    let (requests, bytes) = (server.requests(), server.body_bytes());
    assert_eq!(f.fetch(&src, feed.path()).unwrap(), Outcome::NotModified);
    assert_eq!(server.requests(), requests + 1);
    assert_eq!(server.body_bytes(), bytes, "a 304 transfers no body");

    // The upstream file changes: a different (real) export in its place.
    let maven = data.join("osv/Maven/all.zip");
    fs::copy(&maven, served.path().join("osv/npm/all.zip")).unwrap();
    assert_eq!(f.fetch(&src, feed.path()).unwrap(), updated(&maven));
    assert_eq!(fs::read(&stored).unwrap(), fs::read(&maven).unwrap());
    assert_eq!(f.fetch(&src, feed.path()).unwrap(), Outcome::NotModified);
    assert_eq!(
        files(feed.path()),
        ["osv/npm/all.zip", "osv/npm/all.zip.meta.json"]
    );
}

#[test]
fn last_modified_alone_makes_the_request_conditional() {
    let Some(data) = vulndata() else { return };
    let server = Server::start(&data);
    server.state.etags.store(false, Ordering::SeqCst);
    let feed = tempfile::tempdir().unwrap();
    let f = fetcher(0);
    let src = source(&server, fetch::KEV_PATH, SourceKind::Kev);
    let kev = data.join(fetch::KEV_PATH);
    assert_eq!(f.fetch(&src, feed.path()).unwrap(), updated(&kev));
    assert_eq!(FeedMeta::load(feed.path(), &src.path).unwrap().etag, None);
    let bytes = server.body_bytes();
    assert_eq!(f.fetch(&src, feed.path()).unwrap(), Outcome::NotModified);
    assert_eq!(server.body_bytes(), bytes);
}

#[test]
fn the_same_bytes_again_keep_the_stored_file() {
    let Some(data) = vulndata() else { return };
    let server = Server::start(&data);
    let feed = tempfile::tempdir().unwrap();
    let f = fetcher(0);
    let src = source(&server, "osv/RubyGems/all.zip", SourceKind::OsvZip);
    let rubygems = data.join("osv/RubyGems/all.zip");
    assert_eq!(f.fetch(&src, feed.path()).unwrap(), updated(&rubygems));
    // A server that ignores validators answers 200 with identical bytes.
    server.misbehave(&src.path, How::Body(fs::read(&rubygems).unwrap()), u32::MAX);
    assert_eq!(f.fetch(&src, feed.path()).unwrap(), Outcome::NotModified);
    assert_eq!(
        fs::read(feed.path().join(&src.path)).unwrap(),
        fs::read(&rubygems).unwrap()
    );
}

#[test]
fn a_large_export_in_full() {
    let Some(data) = vulndata() else { return };
    let server = Server::start(&data);
    let feed = tempfile::tempdir().unwrap();
    let src = source(&server, "osv/PyPI/all.zip", SourceKind::OsvZip);
    let pypi = data.join("osv/PyPI/all.zip");
    assert_eq!(fetcher(0).fetch(&src, feed.path()).unwrap(), updated(&pypi));
}

/// Fetch `path` once properly, then with `how`; the error must leave the
/// first file and its sidecar exactly as they were, and no temporary file.
fn failed_update_keeps_the_old_file(
    path: &str,
    kind: SourceKind,
    how: How,
    retries: u32,
) -> FetchError {
    let data = vulndata().expect("checked by the caller");
    let server = Server::start(&data);
    let feed = tempfile::tempdir().unwrap();
    let src = source(&server, path, kind);
    let f = fetcher(retries);
    f.fetch(&src, feed.path()).unwrap();
    let stored = feed.path().join(path);
    let before = fs::read(&stored).unwrap();
    let meta_before = FeedMeta::load(feed.path(), path).unwrap();
    let listing = files(feed.path());

    // A different validator set forces a full download.
    fs::write(
        feed.path().join(format!("{path}.meta.json")),
        serde_json::to_vec(&FeedMeta {
            etag: Some("\"stale\"".into()),
            last_modified: None,
            ..meta_before.clone()
        })
        .unwrap(),
    )
    .unwrap();
    server.misbehave(path, how, u32::MAX);
    let err = f.fetch(&src, feed.path()).unwrap_err();
    assert_eq!(fs::read(&stored).unwrap(), before, "{err}");
    assert_eq!(files(feed.path()), listing, "{err}");
    err
}

#[test]
fn a_cut_body_is_an_error_and_keeps_the_old_file() {
    if vulndata().is_none() {
        return;
    }
    let err = failed_update_keeps_the_old_file("osv/npm/all.zip", SourceKind::OsvZip, How::Cut, 0);
    assert!(matches!(err, FetchError::Truncated { .. }), "{err}");
}

#[test]
fn a_lying_content_length_is_an_error() {
    if vulndata().is_none() {
        return;
    }
    let err =
        failed_update_keeps_the_old_file(fetch::KEV_PATH, SourceKind::Kev, How::LongerLength, 0);
    assert!(matches!(err, FetchError::Truncated { .. }), "{err}");
    // Believing a short Content-Length yields a truncated archive.
    let err = failed_update_keeps_the_old_file(
        "osv/Maven/all.zip",
        SourceKind::OsvZip,
        How::ShorterLength,
        0,
    );
    assert!(matches!(err, FetchError::Invalid { .. }), "{err}");
}

#[test]
fn garbage_is_rejected_and_keeps_the_old_file() {
    if vulndata().is_none() {
        return;
    }
    let html = b"<html><body>Service Unavailable</body></html>".to_vec();
    let err = failed_update_keeps_the_old_file(
        "osv/npm/all.zip",
        SourceKind::OsvZip,
        How::Body(html.clone()),
        0,
    );
    assert!(matches!(err, FetchError::Invalid { .. }), "{err}");
    assert!(err.to_string().contains("zip"), "{err}");
    let err =
        failed_update_keeps_the_old_file(fetch::KEV_PATH, SourceKind::Kev, How::Body(html), 0);
    assert!(matches!(err, FetchError::Invalid { .. }), "{err}");
    let err = failed_update_keeps_the_old_file(
        fetch::KEV_PATH,
        SourceKind::Kev,
        How::Body(br#"{"title":"no vulnerabilities here"}"#.to_vec()),
        0,
    );
    assert!(err.to_string().contains("KEV"), "{err}");
}

#[test]
fn persistent_server_errors_fail_after_the_retries() {
    if vulndata().is_none() {
        return;
    }
    let err = failed_update_keeps_the_old_file(
        "osv/RubyGems/all.zip",
        SourceKind::OsvZip,
        How::Status500,
        2,
    );
    assert!(matches!(err, FetchError::Http { status: 500, .. }), "{err}");
}

#[test]
fn transient_failures_are_retried() {
    let Some(data) = vulndata() else { return };
    let server = Server::start(&data);
    let feed = tempfile::tempdir().unwrap();
    let f = fetcher(3);
    let src = source(&server, "osv/Maven/all.zip", SourceKind::OsvZip);
    let maven = data.join("osv/Maven/all.zip");

    server.misbehave(&src.path, How::Status500, 2);
    assert_eq!(f.fetch(&src, feed.path()).unwrap(), updated(&maven));
    assert_eq!(server.requests(), 3);

    fs::remove_file(feed.path().join("osv/Maven/all.zip.meta.json")).unwrap();
    server.misbehave(&src.path, How::Cut, 1);
    assert_eq!(
        f.fetch(&src, feed.path()).unwrap(),
        Outcome::Updated {
            sha256: sha256_of(&maven),
            size: fs::metadata(&maven).unwrap().len()
        }
    );
    assert_eq!(server.requests(), 5);
    assert_eq!(
        files(feed.path()),
        ["osv/Maven/all.zip", "osv/Maven/all.zip.meta.json"]
    );
}

#[test]
fn not_found_is_an_error_and_stores_nothing() {
    let Some(data) = vulndata() else { return };
    let server = Server::start(&data);
    let feed = tempfile::tempdir().unwrap();
    let src = source(&server, "osv/NuGet/all.zip", SourceKind::OsvZip);
    let err = fetcher(3).fetch(&src, feed.path()).unwrap_err();
    assert!(matches!(err, FetchError::Http { status: 404, .. }), "{err}");
    assert_eq!(server.requests(), 1, "a 404 is not retried");
    assert!(files(feed.path()).is_empty());
}

#[test]
fn unsafe_paths_and_urls_are_refused() {
    let feed = tempfile::tempdir().unwrap();
    let f = fetcher(0);
    for (url, path) in [
        ("http://127.0.0.1:1/x.zip", "../escape.zip"),
        ("http://127.0.0.1:1/x.zip", "/tmp/abs.zip"),
        (
            "file:///etc/passwd",
            "kev/known_exploited_vulnerabilities.json",
        ),
    ] {
        let src = Source {
            name: "x".into(),
            url: url.into(),
            path: path.into(),
            kind: SourceKind::OsvZip,
        };
        let err = f.fetch(&src, feed.path()).unwrap_err();
        assert!(matches!(err, FetchError::Config(_)), "{err}");
    }
}

// ---------------------------------------------------------------- import

#[test]
fn import_from_a_directory() {
    let Some(data) = vulndata() else { return };
    let feed = tempfile::tempdir().unwrap();
    let f = fetcher(0);
    let results = fetch::import(data.to_str().unwrap(), feed.path(), &f).unwrap();
    let names: Vec<&str> = results.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "osv-Debian",
        "osv-Go",
        "osv-Maven",
        "osv-PyPI",
        "osv-RubyGems",
        "osv-crates.io",
        "osv-npm",
        "kev",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    for (name, outcome) in &results {
        let rel = match name.strip_prefix("osv-") {
            Some(eco) => format!("osv/{eco}/all.zip"),
            None => fetch::KEV_PATH.to_string(),
        };
        assert_eq!(*outcome, updated(&data.join(&rel)), "{name}");
        assert_eq!(
            fs::read(feed.path().join(&rel)).unwrap(),
            fs::read(data.join(&rel)).unwrap()
        );
    }
    let again = fetch::import(data.to_str().unwrap(), feed.path(), &f).unwrap();
    assert!(
        again.iter().all(|(_, o)| *o == Outcome::NotModified),
        "{again:?}"
    );
    assert!(files(feed.path()).iter().all(|f| !f.contains(".part")));
}

#[test]
fn import_from_a_url() {
    let Some(data) = vulndata() else { return };
    let served = served_copy(
        &data,
        &[
            "osv/npm/all.zip",
            "osv/Maven/all.zip",
            "osv/RubyGems/all.zip",
            fetch::KEV_PATH,
        ],
    );
    fs::create_dir_all(served.path().join("epss")).unwrap();
    fs::write(served.path().join(fetch::EPSS_PATH), epss_gz()).unwrap();
    fs::create_dir_all(served.path().join("debian")).unwrap();
    fs::copy(
        data.join("debian/tracker-json-samples/vunnel-debian.json"),
        served.path().join(fetch::DEBIAN_TRACKER_PATH),
    )
    .unwrap();
    let server = Server::start(served.path());
    let feed = tempfile::tempdir().unwrap();
    let f = fetcher(0);

    let results = fetch::import(&format!("{}/", server.base), feed.path(), &f).unwrap();
    let names: Vec<&str> = results.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "osv-npm",
            "osv-Maven",
            "osv-RubyGems",
            "kev",
            "epss",
            "debian-tracker"
        ]
    );
    for (rel, (_, outcome)) in [
        "osv/npm/all.zip",
        "osv/Maven/all.zip",
        "osv/RubyGems/all.zip",
        fetch::KEV_PATH,
        fetch::EPSS_PATH,
        fetch::DEBIAN_TRACKER_PATH,
    ]
    .iter()
    .zip(&results)
    {
        assert_eq!(*outcome, updated(&served.path().join(rel)), "{rel}");
        assert_eq!(
            fs::read(feed.path().join(rel)).unwrap(),
            fs::read(served.path().join(rel)).unwrap()
        );
    }

    let bytes = server.body_bytes();
    let again = fetch::import(&server.base, feed.path(), &f).unwrap();
    assert!(
        again.iter().all(|(_, o)| *o == Outcome::NotModified),
        "{again:?}"
    );
    // Only the 404 pages of the absent ecosystems carry a body.
    let absent = (fetch::OSV_ECOSYSTEMS.len() - 3) as u64 * b"no such file".len() as u64;
    assert_eq!(server.body_bytes() - bytes, absent);
}

#[test]
fn importing_nothing_is_an_error() {
    let empty = tempfile::tempdir().unwrap();
    let feed = tempfile::tempdir().unwrap();
    let f = fetcher(0);
    let err = fetch::import(empty.path().to_str().unwrap(), feed.path(), &f).unwrap_err();
    assert!(matches!(err, FetchError::NothingToImport { .. }), "{err}");
    let server = Server::start(empty.path());
    let err = fetch::import(&server.base, feed.path(), &f).unwrap_err();
    assert!(matches!(err, FetchError::NothingToImport { .. }), "{err}");
    let missing = empty.path().join("nope");
    assert!(fetch::import(missing.to_str().unwrap(), feed.path(), &f).is_err());
    assert!(files(feed.path()).is_empty());
}

#[test]
fn import_rejects_a_bad_local_file_and_keeps_the_old_one() {
    let Some(data) = vulndata() else { return };
    let good = served_copy(&data, &["osv/npm/all.zip"]);
    let feed = tempfile::tempdir().unwrap();
    let f = fetcher(0);
    fetch::import(good.path().to_str().unwrap(), feed.path(), &f).unwrap();
    let before = fs::read(feed.path().join("osv/npm/all.zip")).unwrap();
    let listing = files(feed.path());

    let bad = tempfile::tempdir().unwrap();
    fs::create_dir_all(bad.path().join("osv/npm")).unwrap();
    let zip = fs::read(data.join("osv/npm/all.zip")).unwrap();
    fs::write(bad.path().join("osv/npm/all.zip"), &zip[..zip.len() - 10]).unwrap();
    let err = fetch::import(bad.path().to_str().unwrap(), feed.path(), &f).unwrap_err();
    assert!(matches!(err, FetchError::Invalid { .. }), "{err}");
    assert_eq!(
        fs::read(feed.path().join("osv/npm/all.zip")).unwrap(),
        before
    );
    assert_eq!(files(feed.path()), listing);
}
