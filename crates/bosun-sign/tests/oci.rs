//! Signature storage against registries: the real CNCF `docker-registry`
//! (no referrers API: the tag scheme alone) and, for the OCI 1.1 referrers
//! path, a small in-test registry that implements exactly the endpoints the
//! distribution spec defines for it (manifest and blob push/pull, and
//! `GET /v2/<name>/referrers/<digest>` answering an image index of the
//! manifests whose `subject` is that digest) — the Debian registry has no
//! referrers API and no packaged registry here does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bosun_core::{Digest, Reference};
use bosun_oci::media;
use bosun_oci::registry::{Registry, RegistryOptions};
use bosun_sign::keys::PrivateKey;
use bosun_sign::oci::{self, KeyVerifier, Kind, Source, Store, VerifyCache};
use bosun_sign::simple::Payload;
use bosun_testutil::registry::{REGISTRY_BIN, RegistryProcess, skopeo_copy, tool};
use serde_json::{Value, json};

fn options(dir: &std::path::Path) -> RegistryOptions {
    RegistryOptions {
        insecure: true,
        docker_config: Some(dir.join("no-config.json")),
        retries: 0,
        ..RegistryOptions::default()
    }
}

fn sign(registry: &Registry, reference: &str, key: &PrivateKey) -> (oci::Subject, oci::Attached) {
    let reference: Reference = reference.parse().unwrap();
    let subject = oci::resolve(registry, &reference).unwrap();
    let payload = Payload::new(&subject.name, &subject.digest.to_string(), BTreeMap::new())
        .unwrap()
        .to_bytes();
    let layer = oci::signature_layer(payload, key).unwrap();
    let store = Store {
        registry,
        repository: subject.repository.clone(),
    };
    let done = oci::attach(&store, &subject, Kind::Signature, &layer).unwrap();
    (subject, done)
}

#[test]
fn tag_scheme_appends_on_the_real_registry() {
    if tool(REGISTRY_BIN).is_none() || tool("/usr/bin/skopeo").is_none() {
        return;
    }
    let Some(fixture) = bosun_testutil::fixture("images/oci/rust-binary") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let reg = RegistryProcess::start("", "");
    let reference = format!("{}/lib/app:v1", reg.host());
    skopeo_copy(&fixture, &reference, &["--dest-tls-verify=false"]);
    let registry = Registry::new(&reg.host(), &options(tmp.path())).unwrap();
    let (k1, k2) = (PrivateKey::generate_p256(), PrivateKey::generate_p256());
    let (subject, first) = sign(&registry, &reference, &k1);
    assert!(first.added && first.referrer.is_none(), "{first:?}");
    assert_eq!(subject.tag.as_deref(), Some("v1"));
    let (_, second) = sign(&registry, &reference, &k2);
    assert_ne!(first.manifest_digest, second.manifest_digest);

    let store = Store {
        registry: &registry,
        repository: subject.repository.clone(),
    };
    let found = oci::find(&store, &subject, Kind::Signature).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].source,
        Source::Tag(Kind::Signature.tag(&subject.digest))
    );
    assert_eq!(found[0].layers.as_ref().unwrap().len(), 2);
    for key in [&k1, &k2] {
        let report = oci::verify_signatures(
            &store,
            &subject,
            &KeyVerifier::new(key.public_key()),
            &BTreeMap::new(),
            None,
        )
        .unwrap();
        assert_eq!(report.verified.len(), 1, "{:?}", report.failures);
        assert_eq!(report.failures.len(), 1);
        assert!(report.failures[0].reason.contains("signature invalid"));
    }
    // The manifest as the registry serves it: cosign's layout.
    let m = registry
        .manifest(&subject.repository, &first.tag, None, None)
        .unwrap();
    let m: Value = serde_json::from_slice(&m.bytes).unwrap();
    assert_eq!(m["mediaType"], media::OCI_MANIFEST);
    assert_eq!(m["config"]["mediaType"], media::OCI_CONFIG);
    assert_eq!(
        m["layers"][1]["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
}

// ---------------------------------------------------------------------------
// A registry with the referrers API, in the test.

#[derive(Default)]
struct State {
    blobs: HashMap<String, Vec<u8>>,
    /// By tag and by digest, per repository: (media type, bytes).
    manifests: HashMap<(String, String), (String, Vec<u8>)>,
    uploads: usize,
    log: Vec<String>,
}

struct FakeRegistry {
    port: u16,
    state: Arc<Mutex<State>>,
}

impl FakeRegistry {
    fn start() -> FakeRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || serve(conn, &state));
            }
        });
        FakeRegistry { port, state }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn log(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }
}

fn digest_of(b: &[u8]) -> String {
    Digest::sha256_of(b).to_string()
}

fn serve(conn: TcpStream, state: &Mutex<State>) {
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or("").to_string(),
        parts.next().unwrap_or("").to_string(),
    );
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    let (status, extra, out) = handle(&method, &target, &headers, body, state);
    let mut resp = format!(
        "HTTP/1.1 {status} X\r\nConnection: close\r\nContent-Length: {}\r\n",
        out.len()
    );
    for (k, v) in extra {
        resp.push_str(&format!("{k}: {v}\r\n"));
    }
    resp.push_str("\r\n");
    let mut conn = conn;
    let _ = conn.write_all(resp.as_bytes());
    if method != "HEAD" {
        let _ = conn.write_all(&out);
    }
}

type Answer = (u16, Vec<(&'static str, String)>, Vec<u8>);

fn handle(
    method: &str,
    target: &str,
    headers: &HashMap<String, String>,
    body: Vec<u8>,
    state: &Mutex<State>,
) -> Answer {
    let mut s = state.lock().unwrap();
    s.log.push(format!("{method} {target}"));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query: HashMap<&str, String> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            (
                k,
                v.replace("%2F", "/")
                    .replace("%2B", "+")
                    .replace("%3A", ":"),
            )
        })
        .collect();
    if path.starts_with("/upload/") {
        let d = query.get("digest").cloned().unwrap_or_default();
        assert_eq!(digest_of(&body), d, "the client uploads what it names");
        s.blobs.insert(d, body);
        return (201, vec![], vec![]);
    }
    let Some(rest) = path.strip_prefix("/v2/") else {
        return (404, vec![], vec![]);
    };
    for (marker, kind) in [
        ("/manifests/", "m"),
        ("/blobs/uploads/", "u"),
        ("/blobs/", "b"),
        ("/referrers/", "r"),
    ] {
        let Some((repo, reference)) = rest.split_once(marker) else {
            continue;
        };
        let (repo, reference) = (repo.to_string(), reference.to_string());
        return match (kind, method) {
            ("m", "GET") => match s.manifests.get(&(repo, reference)) {
                Some((mt, bytes)) => (
                    200,
                    vec![
                        ("Content-Type", mt.clone()),
                        ("Docker-Content-Digest", digest_of(bytes)),
                    ],
                    bytes.clone(),
                ),
                None => (
                    404,
                    vec![],
                    br#"{"errors":[{"code":"MANIFEST_UNKNOWN"}]}"#.to_vec(),
                ),
            },
            ("m", "PUT") => {
                let d = digest_of(&body);
                let mt = headers.get("content-type").cloned().unwrap_or_default();
                let parsed: Value = serde_json::from_slice(&body).unwrap();
                s.manifests
                    .insert((repo.clone(), reference), (mt.clone(), body.clone()));
                s.manifests.insert((repo, d.clone()), (mt, body));
                let mut h = vec![("Docker-Content-Digest", d)];
                if let Some(subject) = parsed["subject"]["digest"].as_str() {
                    h.push(("OCI-Subject", subject.to_string()));
                }
                (201, h, vec![])
            }
            ("u", "POST") => {
                s.uploads += 1;
                (
                    202,
                    vec![("Location", format!("/upload/{}", s.uploads))],
                    vec![],
                )
            }
            ("b", "HEAD" | "GET") => match s.blobs.get(&reference) {
                Some(b) => (200, vec![], b.clone()),
                None => (404, vec![], vec![]),
            },
            ("r", "GET") => {
                let wanted = query.get("artifactType").cloned();
                let manifests: Vec<Value> = s
                    .manifests
                    .iter()
                    .filter(|((r, key), _)| *r == repo && key.starts_with("sha256:"))
                    .filter_map(|((_, key), (mt, bytes))| {
                        let m: Value = serde_json::from_slice(bytes).ok()?;
                        (m["subject"]["digest"].as_str() == Some(reference.as_str())).then(|| {
                            json!({"mediaType": mt, "digest": key, "size": bytes.len(),
                                   "artifactType": m["artifactType"]})
                        })
                    })
                    .filter(|d| wanted.as_deref().is_none_or(|w| d["artifactType"] == w))
                    .collect();
                let index = json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": manifests});
                (
                    200,
                    vec![("Content-Type", media::OCI_INDEX.to_string())],
                    index.to_string().into_bytes(),
                )
            }
            _ => (405, vec![], vec![]),
        };
    }
    (404, vec![], vec![])
}

/// A one-layer image pushed through the client.
fn push_image(registry: &Registry, repo: &str, tag: &str) {
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let d = Digest::sha256_of(config);
    registry.push_blob(repo, config, &d).unwrap();
    let manifest = json!({"schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": media::OCI_CONFIG, "digest": d.to_string(), "size": config.len()},
        "layers": []});
    registry
        .push_manifest(
            repo,
            tag,
            media::OCI_MANIFEST,
            manifest.to_string().as_bytes(),
        )
        .unwrap();
}

#[test]
fn referrers_api_is_used_where_the_registry_has_it() {
    let tmp = tempfile::tempdir().unwrap();
    let fake = FakeRegistry::start();
    let registry = Registry::new(&fake.host(), &options(tmp.path())).unwrap();
    push_image(&registry, "team/app", "v1");
    let key = PrivateKey::generate_p256();
    let reference = format!("{}/team/app:v1", fake.host());
    let (subject, done) = sign(&registry, &reference, &key);
    let referrer = done.referrer.clone().expect("pushed as a referrer");

    // The referrer manifest: OCI 1.1 artifact with the image as subject.
    let m = registry
        .manifest("team/app", &referrer.to_string(), Some(&referrer), None)
        .unwrap();
    let m: Value = serde_json::from_slice(&m.bytes).unwrap();
    assert_eq!(m["artifactType"], oci::SIGNATURE_ARTIFACT_TYPE);
    assert_eq!(m["subject"]["digest"], subject.digest.to_string());
    assert_eq!(m["subject"]["mediaType"], media::OCI_MANIFEST);
    assert_eq!(m["config"]["mediaType"], oci::OCI_EMPTY_MEDIA_TYPE);
    assert_eq!(m["layers"].as_array().unwrap().len(), 1);
    // The tag is written too, for cosign and registries without referrers.
    assert!(
        fake.log()
            .iter()
            .any(|l| l.contains(&format!("PUT /v2/team/app/manifests/{}", done.tag)))
    );

    let store = Store {
        registry: &registry,
        repository: "team/app".into(),
    };
    let found = oci::find(&store, &subject, Kind::Signature).unwrap();
    let sources: Vec<&Source> = found.iter().map(|f| &f.source).collect();
    assert_eq!(
        sources,
        vec![&Source::Tag(done.tag.clone()), &Source::Referrer]
    );

    // Only a referrer (the tag deleted, as after a registry-side cleanup):
    // still found and verified.
    fake.state
        .lock()
        .unwrap()
        .manifests
        .remove(&("team/app".to_string(), done.tag.clone()));
    let verifier = KeyVerifier::new(key.public_key());
    let report =
        oci::verify_signatures(&store, &subject, &verifier, &BTreeMap::new(), None).unwrap();
    assert_eq!(report.manifests, 1);
    assert_eq!(report.verified.len(), 1, "{:?}", report.failures);

    // ECDSA signing is deterministic (RFC 6979): the same payload gives the
    // same layer, which is neither appended nor pushed again.
    let referrer_puts = || {
        fake.log()
            .iter()
            .filter(|l| l.starts_with("PUT /v2/team/app/manifests/sha256:"))
            .count()
    };
    let before = referrer_puts();
    let layer = oci::signature_layer(report.verified[0].raw.clone(), &key).unwrap();
    let again = oci::attach(&store, &subject, Kind::Signature, &layer).unwrap();
    assert_eq!(again.referrer, Some(referrer));
    assert_eq!(referrer_puts(), before);
    // Another payload: one more referrer.
    let payload = Payload::new(
        &subject.name,
        &subject.digest.to_string(),
        BTreeMap::from([("env".to_string(), "prod".to_string())]),
    )
    .unwrap();
    let layer = oci::signature_layer(payload.to_bytes(), &key).unwrap();
    oci::attach(&store, &subject, Kind::Signature, &layer).unwrap();
    assert_eq!(referrer_puts(), before + 1);
    let report =
        oci::verify_signatures(&store, &subject, &verifier, &BTreeMap::new(), None).unwrap();
    assert_eq!(report.verified.len(), 2, "{:?}", report.failures);
}

#[test]
fn warm_cache_answers_without_fetching_or_verifying_layers() {
    let tmp = tempfile::tempdir().unwrap();
    let fake = FakeRegistry::start();
    let registry = Registry::new(&fake.host(), &options(tmp.path())).unwrap();
    push_image(&registry, "c/app", "v1");
    let key = PrivateKey::generate_p256();
    let (subject, _) = sign(&registry, &format!("{}/c/app:v1", fake.host()), &key);
    let store = Store {
        registry: &registry,
        repository: "c/app".into(),
    };
    let verifier = KeyVerifier::new(key.public_key());
    let dir = tmp.path().join("verify");
    let blob_gets = || {
        fake.log()
            .iter()
            .filter(|l| l.starts_with("GET /v2/c/app/blobs/"))
            .count()
    };

    let cache = VerifyCache::with_dir(dir.clone());
    let cold = oci::verify_signatures(&store, &subject, &verifier, &BTreeMap::new(), Some(&cache))
        .unwrap();
    assert_eq!(cold.verified.len(), 1);
    let fetched = blob_gets();
    assert!(fetched >= 1);
    let warm = oci::verify_signatures(&store, &subject, &verifier, &BTreeMap::new(), Some(&cache))
        .unwrap();
    assert_eq!(warm.verified, cold.verified);
    assert_eq!(blob_gets(), fetched, "answered from memory");
    // A new process: from disk.
    let from_disk = VerifyCache::with_dir(dir);
    let warm = oci::verify_signatures(
        &store,
        &subject,
        &verifier,
        &BTreeMap::new(),
        Some(&from_disk),
    )
    .unwrap();
    assert_eq!(warm.verified, cold.verified);
    assert_eq!(blob_gets(), fetched, "answered from disk");
    // Another key or other constraints are other cache entries.
    let other = KeyVerifier::new(PrivateKey::generate_p256().public_key());
    let r = oci::verify_signatures(&store, &subject, &other, &BTreeMap::new(), Some(&from_disk))
        .unwrap();
    assert!(r.verified.is_empty() && !r.failures.is_empty());
    let required = BTreeMap::from([("env".to_string(), "prod".to_string())]);
    let r =
        oci::verify_signatures(&store, &subject, &verifier, &required, Some(&from_disk)).unwrap();
    assert!(r.verified.is_empty());
    assert!(
        r.failures[0].reason.contains("annotation \"env\" mismatch"),
        "{:?}",
        r.failures
    );
}
