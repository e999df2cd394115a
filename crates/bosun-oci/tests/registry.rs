//! The registry client against the real CNCF distribution registry
//! (`docker-registry`, started per test on a free loopback port), fixture
//! images copied in with skopeo, and small in-test servers for token auth
//! and for registries that lie.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bosun_core::{Digest, Reference};
use bosun_oci::manifest::Descriptor;
use bosun_oci::registry::{Registry, RegistryOptions, RegistryStore, Timeouts};
use bosun_oci::{OciError, Platform, Store, media, resolve};
use support::*;

fn options(dir: &Path) -> RegistryOptions {
    RegistryOptions {
        insecure: true,
        // Never the machine's own ~/.docker/config.json.
        docker_config: Some(dir.join("no-config.json")),
        retries: 2,
        timeouts: Timeouts {
            connect: Duration::from_secs(5),
            read: Duration::from_secs(20),
        },
        ..RegistryOptions::default()
    }
}

fn store(reference: &str, opts: &RegistryOptions) -> RegistryStore {
    RegistryStore::new(reference.parse::<Reference>().unwrap(), opts).unwrap()
}

fn docker_config(dir: &Path, name: &str, json: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, json).unwrap();
    p
}

fn auths_config(dir: &Path, host: &str, user: &str, password: &str) -> PathBuf {
    let auth = STANDARD.encode(format!("{user}:{password}"));
    docker_config(
        dir,
        // Not named after the password: messages name the file.
        &format!(
            "auths-{user}-{}.json",
            &Digest::sha256_of(password.as_bytes()).hex()[..8]
        ),
        &format!(r#"{{"auths":{{"{host}":{{"auth":"{auth}"}}}}}}"#),
    )
}

/// Read every layer of the image, several at once as the pipeline does.
fn stream_all_layers(store: &RegistryStore, layers: &[Descriptor]) {
    std::thread::scope(|s| {
        let handles: Vec<_> = layers
            .iter()
            .map(|desc| {
                s.spawn(move || {
                    let mut r = store.blob(desc).unwrap();
                    let n = std::io::copy(&mut r, &mut std::io::sink()).unwrap();
                    assert_eq!(n, desc.size, "{}", desc.digest);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
}

fn expect_err<T>(r: Result<T, OciError>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => {
            // Shown with --nocapture: how the messages read.
            eprintln!("error as reported: {e}");
            e.to_string()
        }
    }
}

fn tools() -> bool {
    tool(REGISTRY_BIN).is_some() && tool("/usr/bin/skopeo").is_some()
}

#[test]
fn anonymous_http_pull_matches_layout_and_streams_every_layer() {
    if !tools() {
        return;
    }
    let (Some(fixture), Some(truth)) = (
        bosun_testutil::fixture("images/oci/python-app"),
        bosun_testutil::fixture("truth/python-app.json"),
    ) else {
        return;
    };
    let truth: serde_json::Value = serde_json::from_slice(&std::fs::read(truth).unwrap()).unwrap();
    let reg = RegistryProcess::start("", "");
    let tmp = tempfile::tempdir().unwrap();
    let name = format!("{}/fixtures/python-app:latest", reg.host());
    skopeo_copy(&fixture, &name, &["--dest-tls-verify=false"]);
    let served = skopeo_inspect_raw(&name, &["--tls-verify=false"]);

    let opts = options(tmp.path());
    let s = store(&name, &opts);
    let img = resolve(&s, None).unwrap();
    assert_eq!(img.manifest_digest, Digest::sha256_of(&served));
    // skopeo copies the OCI manifest unchanged, so it is the layout's.
    assert_eq!(
        img.manifest_digest.to_string(),
        truth["manifest_digest"].as_str().unwrap()
    );
    let truth_layers: Vec<&str> = truth["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap())
        .collect();
    let layers: Vec<Descriptor> = img.layers.iter().map(|l| l.descriptor.clone()).collect();
    let got: Vec<String> = layers.iter().map(|d| d.digest.to_string()).collect();
    assert_eq!(got, truth_layers);
    stream_all_layers(&s, &layers);
    assert_eq!(s.tags(), vec!["latest".to_string()]);

    // Pinned by digest: the same image.
    let pinned = store(
        &format!("{}/fixtures/python-app@{}", reg.host(), img.manifest_digest),
        &opts,
    );
    assert_eq!(
        resolve(&pinned, None).unwrap().manifest_digest,
        img.manifest_digest
    );

    // Unknown tag: NotFound naming the registry's error.
    let missing =
        expect_err(store(&format!("{}/fixtures/python-app:nope", reg.host()), &opts).root());
    assert!(
        missing.contains("not found") && missing.contains("MANIFEST_UNKNOWN"),
        "{missing}"
    );

    // Without `insecure`, plain HTTP is never used.
    let strict = RegistryOptions {
        insecure: false,
        retries: 0,
        ..opts.clone()
    };
    let refused = expect_err(store(&name, &strict).root());
    assert!(
        refused.contains("TLS") && refused.contains("insecure"),
        "{refused}"
    );
}

#[test]
fn multi_arch_index_pushed_and_platform_selected() {
    if !tools() {
        return;
    }
    let (Some(rust), Some(go)) = (
        bosun_testutil::fixture("images/oci/rust-binary"),
        bosun_testutil::fixture("images/oci/go-binary"),
    ) else {
        return;
    };
    let reg = RegistryProcess::start("", "");
    let tmp = tempfile::tempdir().unwrap();
    let opts = options(tmp.path());
    let client = Registry::new(&reg.host(), &opts).unwrap();
    let repo = "multi/app";
    let mut entries = Vec::new();
    for (dir, arch, variant) in [(&rust, "amd64", None), (&go, "arm64", Some("v8"))] {
        let image = read_layout(dir);
        for (digest, bytes) in &image.blobs {
            let d: Digest = digest.parse().unwrap();
            client.push_blob(repo, bytes, &d).unwrap();
            // Second time: the HEAD check finds it.
            client.push_blob(repo, bytes, &d).unwrap();
            assert!(client.blob_exists(repo, &d).unwrap());
        }
        let digest = client
            .push_manifest(
                repo,
                &image.manifest_digest,
                media::OCI_MANIFEST,
                &image.manifest,
            )
            .unwrap();
        assert_eq!(digest.to_string(), image.manifest_digest);
        let mut platform = serde_json::json!({"os": "linux", "architecture": arch});
        if let Some(v) = variant {
            platform["variant"] = v.into();
        }
        entries.push(serde_json::json!({
            "mediaType": media::OCI_MANIFEST,
            "digest": image.manifest_digest,
            "size": image.manifest.len(),
            "platform": platform,
        }));
    }
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": entries,
    }))
    .unwrap();
    let index_digest = client
        .push_manifest(repo, "latest", media::OCI_INDEX, &index)
        .unwrap();
    assert!(
        !client
            .blob_exists(repo, &Digest::sha256_of(b"never pushed"))
            .unwrap()
    );
    assert_eq!(client.tags_list(repo).unwrap(), vec!["latest".to_string()]);

    let name = format!("{}/{repo}:latest", reg.host());
    // What skopeo reads back is what we pushed.
    assert_eq!(
        Digest::sha256_of(&skopeo_inspect_raw(&name, &["--tls-verify=false"])),
        index_digest
    );
    let s = store(&name, &opts);
    assert_eq!(s.root().unwrap().digest, index_digest);
    let pick = |p: &str| resolve(&s, Some(&p.parse::<Platform>().unwrap()));
    assert_eq!(
        pick("linux/amd64").unwrap().manifest_digest.to_string(),
        read_layout(&rust).manifest_digest
    );
    let arm = pick("linux/arm64").unwrap();
    assert_eq!(
        arm.manifest_digest.to_string(),
        read_layout(&go).manifest_digest
    );
    let layers: Vec<Descriptor> = arm.layers.iter().map(|l| l.descriptor.clone()).collect();
    stream_all_layers(&s, &layers);
    let none = expect_err(pick("linux/s390x"));
    assert!(
        none.contains("linux/s390x") && none.contains("linux/arm64/v8"),
        "{none}"
    );
}

/// A TLS registry with htpasswd auth (alice/wonderland) holding rust-binary.
struct TlsRegistry {
    reg: RegistryProcess,
    ca: PathBuf,
    manifest_digest: String,
}

fn tls_basic_registry(tmp: &Path) -> Option<TlsRegistry> {
    if !tools() || tool("/usr/bin/htpasswd").is_none() {
        return None;
    }
    let fixture = bosun_testutil::fixture("images/oci/rust-binary")?;
    let pki = Pki::new("registry server");
    let (cert, key, ca, htpasswd) = (
        tmp.join("server.pem"),
        tmp.join("server.key"),
        tmp.join("ca.pem"),
        tmp.join("htpasswd"),
    );
    std::fs::write(&cert, &pki.leaf_pem).unwrap();
    std::fs::write(&key, &pki.leaf_key_pem).unwrap();
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let out = std::process::Command::new("htpasswd")
        .args(["-Bbn", "alice", "wonderland"])
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(&htpasswd, out.stdout).unwrap();
    let reg = RegistryProcess::start(
        &format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            cert.display(),
            key.display()
        ),
        &format!(
            "auth:\n  htpasswd:\n    realm: bosun-test\n    path: {}\n",
            htpasswd.display()
        ),
    );
    skopeo_copy(
        &fixture,
        &format!("{}/secure/app:latest", reg.host()),
        &[
            "--dest-tls-verify=false",
            "--dest-creds",
            "alice:wonderland",
        ],
    );
    Some(TlsRegistry {
        reg,
        ca,
        manifest_digest: read_layout(&fixture).manifest_digest,
    })
}

fn tls_options(tmp: &Path, ca: &Path, config: PathBuf) -> RegistryOptions {
    RegistryOptions {
        insecure: false,
        ca_certs: vec![ca.to_path_buf()],
        docker_config: Some(config),
        retries: 0,
        ..options(tmp)
    }
}

#[test]
fn basic_auth_over_tls_with_docker_config() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(t) = tls_basic_registry(tmp.path()) else {
        return;
    };
    let host = t.reg.host();
    let name = format!("{host}/secure/app:latest");

    let good = tls_options(
        tmp.path(),
        &t.ca,
        auths_config(tmp.path(), &host, "alice", "wonderland"),
    );
    let s = store(&name, &good);
    let img = resolve(&s, None).unwrap();
    assert_eq!(img.manifest_digest.to_string(), t.manifest_digest);
    let layers: Vec<Descriptor> = img.layers.iter().map(|l| l.descriptor.clone()).collect();
    stream_all_layers(&s, &layers);

    let wrong = tls_options(
        tmp.path(),
        &t.ca,
        auths_config(tmp.path(), &host, "alice", "guess"),
    );
    let e = expect_err(store(&name, &wrong).root());
    assert!(
        e.contains("401") && e.contains("\"alice\"") && e.contains("rejected"),
        "{e}"
    );
    assert!(!e.contains("guess"), "the password must never appear: {e}");

    let anonymous = tls_options(tmp.path(), &t.ca, tmp.path().join("none.json"));
    let e = expect_err(store(&name, &anonymous).root());
    assert!(e.contains("401") && e.contains("no credentials"), "{e}");

    let no_ca = RegistryOptions {
        ca_certs: Vec::new(),
        ..good.clone()
    };
    let e = expect_err(store(&name, &no_ca).root());
    assert!(e.contains("certificate") && e.contains(&host), "{e}");
}

#[test]
fn basic_auth_through_a_credential_helper() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(t) = tls_basic_registry(tmp.path()) else {
        return;
    };
    let host = t.reg.host();
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let helper = bin.join("docker-credential-bosuntest");
    // The credential-helper protocol: server on stdin, JSON on stdout,
    // non-zero exit when it has nothing for that server.
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\nread -r server\nif [ \"$1\" = get ] && [ \"$server\" = \"{host}\" ]; then\n  printf '{{\"ServerURL\":\"%s\",\"Username\":\"alice\",\"Secret\":\"wonderland\"}}' \"$server\"\n  exit 0\nfi\necho 'credentials not found in native keychain'\nexit 1\n"
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let per_registry = docker_config(
        tmp.path(),
        "helpers.json",
        &format!(r#"{{"credHelpers":{{"{host}":"bosuntest"}}}}"#),
    );
    let default_store = docker_config(tmp.path(), "store.json", r#"{"credsStore":"bosuntest"}"#);

    // PATH cannot be changed inside this process (env changes are unsafe and
    // racy between tests): run the check in a child test process instead.
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "credential_helper_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("PATH", path)
        .env("BOSUN_TEST_REGISTRY", &host)
        .env("BOSUN_TEST_CA", &t.ca)
        .env(
            "BOSUN_TEST_CONFIGS",
            format!("{}:{}", per_registry.display(), default_store.display()),
        )
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && text.contains("1 passed"), "{text}");
}

#[test]
#[ignore = "run by basic_auth_through_a_credential_helper with the helper on PATH"]
fn credential_helper_child() {
    let (Ok(host), Ok(ca), Ok(configs)) = (
        std::env::var("BOSUN_TEST_REGISTRY"),
        std::env::var("BOSUN_TEST_CA"),
        std::env::var("BOSUN_TEST_CONFIGS"),
    ) else {
        eprintln!("SKIPPED: only meaningful when started by its parent test");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    for config in configs.split(':') {
        let opts = tls_options(tmp.path(), Path::new(&ca), PathBuf::from(config));
        let img = resolve(&store(&format!("{host}/secure/app:latest"), &opts), None);
        assert!(img.is_ok(), "{config}: {:?}", img.err());
    }
}

#[test]
fn token_auth_push_then_pull_with_scoped_cached_tokens() {
    if !tools() {
        return;
    }
    let Some(fixture) = bosun_testutil::fixture("images/oci/rust-binary") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let basic = format!("Basic {}", STANDARD.encode("bob:builder"));
    let tokens = TokenServer::start(Some(basic.clone()));
    let reg = RegistryProcess::start(
        "",
        &tokens.registry_auth_yaml(&tmp.path().join("token-ca.pem")),
    );
    let host = reg.host();
    let repo = "tok/app";

    // Push with credentials: the token server sees pull,push with basic auth.
    let pusher = Registry::new(
        &host,
        &RegistryOptions {
            docker_config: Some(auths_config(tmp.path(), &host, "bob", "builder")),
            ..options(tmp.path())
        },
    )
    .unwrap();
    let image = read_layout(&fixture);
    for (digest, bytes) in &image.blobs {
        pusher
            .push_blob(repo, bytes, &digest.parse().unwrap())
            .unwrap();
    }
    pusher
        .push_manifest(repo, "latest", media::OCI_MANIFEST, &image.manifest)
        .unwrap();
    let push_requests: Vec<Req> = tokens
        .server
        .seen()
        .into_iter()
        .filter(|r| r.query("scope").as_deref() == Some("repository:tok/app:pull,push"))
        .collect();
    assert!(!push_requests.is_empty(), "{:?}", tokens.scopes());
    assert!(
        push_requests
            .iter()
            .all(|r| r.header("authorization") == Some(basic.as_str()))
    );
    assert_eq!(
        push_requests.len(),
        1,
        "the push token is cached: {:?}",
        tokens.scopes()
    );

    // Pull anonymously: scope pull only, one token for the whole image.
    let before = tokens.scopes().len();
    let s = store(&format!("{host}/{repo}:latest"), &options(tmp.path()));
    let img = resolve(&s, None).unwrap();
    assert_eq!(img.manifest_digest.to_string(), image.manifest_digest);
    let layers: Vec<Descriptor> = img.layers.iter().map(|l| l.descriptor.clone()).collect();
    stream_all_layers(&s, &layers);
    let pulls: Vec<String> = tokens.scopes().split_off(before);
    assert_eq!(pulls, vec!["repository:tok/app:pull".to_string()]);
    assert_eq!(
        s.registry().tags_list(repo).unwrap(),
        vec!["latest".to_string()]
    );

    // Push with wrong credentials: the token server's 401, clearly.
    let wrong = Registry::new(
        &host,
        &RegistryOptions {
            docker_config: Some(auths_config(tmp.path(), &host, "bob", "wrong")),
            ..options(tmp.path())
        },
    )
    .unwrap();
    let e = expect_err(wrong.push_manifest(repo, "other", media::OCI_MANIFEST, &image.manifest));
    assert!(
        e.contains("401") && e.contains("\"bob\"") && e.contains("token"),
        "{e}"
    );
}

/// rust-binary's manifest and config, for servers that serve them (or not).
fn small_image() -> Option<LayoutImage> {
    bosun_testutil::fixture("images/oci/rust-binary").map(|d| read_layout(&d))
}

#[test]
fn lying_registries_are_caught() {
    let Some(image) = small_image() else {
        return;
    };
    let manifest = image.manifest.clone();
    let m: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    let config_digest = m["config"]["digest"].as_str().unwrap().to_string();
    let layer_digest = m["layers"][0]["digest"].as_str().unwrap().to_string();
    let real_digest = Digest::sha256_of(&manifest).to_string();
    let other_digest = Digest::sha256_of(b"other bytes").to_string();
    let (cd, ld) = (config_digest.clone(), layer_digest.clone());
    let server = TestServer::start(move |req| {
        let p = req.path();
        let json =
            |body: &[u8]| Resp::new(200, body.to_vec()).header("Content-Type", media::OCI_MANIFEST);
        match p {
            "/v2/" => Resp::new(200, "{}"),
            "/v2/liar/app/manifests/latest" => {
                json(&manifest).header("Docker-Content-Digest", &other_digest)
            }
            _ if p.starts_with("/v2/liar/app/manifests/sha256:") => json(&manifest),
            "/v2/ok/app/manifests/latest" => {
                json(&manifest).header("Docker-Content-Digest", &real_digest)
            }
            _ if p == format!("/v2/ok/app/blobs/{cd}") => {
                Resp::new(200, b"{\"not\":\"the config\"}".to_vec())
            }
            _ if p == format!("/v2/ok/app/blobs/{ld}") => Resp::new(200, vec![0u8; 510379]),
            _ if p.starts_with("/v2/short/app/blobs/") => Resp::new(200, vec![1u8; 10]),
            "/v2/html/app/manifests/latest" => {
                Resp::new(200, "<html>login</html>").header("Content-Type", "text/html")
            }
            "/v2/huge/app/manifests/latest" => json(b"{}").header("Content-Length", "100000000"),
            "/v2/garbage/app/manifests/latest" => json(b"\x00\xffnot json"),
            _ => Resp::new(
                404,
                r#"{"errors":[{"code":"NAME_UNKNOWN","message":"nope"}]}"#,
            ),
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    let opts = options(tmp.path());
    let host = server.host();
    let get = |r: &str| store(&format!("{host}/{r}"), &opts);
    let is_mismatch =
        |r: Result<bosun_oci::Fetched, OciError>| matches!(r, Err(OciError::DigestMismatch { .. }));

    // The header disagrees with the bytes.
    assert!(is_mismatch(get("liar/app:latest").root()));
    // Pinned to a digest the bytes do not have.
    assert!(is_mismatch(
        get(&format!("liar/app@{}", Digest::sha256_of(b"x"))).root()
    ));
    // A child manifest by descriptor, likewise.
    let desc = Descriptor {
        media_type: media::OCI_MANIFEST.into(),
        digest: Digest::sha256_of(b"child"),
        size: 5,
        platform: None,
        annotations: Default::default(),
        artifact_type: None,
    };
    assert!(is_mismatch(get("liar/app:latest").manifest(&desc)));

    // The manifest is right, its config blob is not.
    let ok = get("ok/app:latest");
    let e = expect_err(resolve(&ok, None));
    assert!(e.contains("digest mismatch") || e.contains("bytes"), "{e}");
    // A layer with the right size and wrong bytes fails at end of stream.
    let layer = Descriptor {
        media_type: media::OCI_LAYER_ZSTD.into(),
        digest: layer_digest.parse().unwrap(),
        size: 510379,
        ..desc.clone()
    };
    let mut sink = Vec::new();
    let err = ok.blob(&layer).unwrap().read_to_end(&mut sink).unwrap_err();
    assert!(err.to_string().contains("digest mismatch"), "{err}");
    // A blob whose length is not the descriptor's.
    let e = expect_err(get("short/app:latest").blob(&layer));
    assert!(e.contains("descriptor says 510379"), "{e}");

    let e = expect_err(get("html/app:latest").root());
    assert!(e.contains("HTML"), "{e}");
    assert!(matches!(
        get("huge/app:latest").root(),
        Err(OciError::TooLarge { .. })
    ));
    let e = expect_err(resolve(&get("garbage/app:latest"), None));
    assert!(e.contains("not valid JSON"), "{e}");
    let e = expect_err(get("missing/app:latest").root());
    assert!(e.contains("NAME_UNKNOWN: nope"), "{e}");

    // Nobody listening: a clear error after the bounded retries.
    let closed = free_port();
    let unreachable = RegistryOptions {
        retries: 1,
        ..opts.clone()
    };
    let started = Instant::now();
    let e = expect_err(store(&format!("127.0.0.1:{closed}/a/b:latest"), &unreachable).root());
    assert!(
        e.contains("cannot reach") && e.contains(&closed.to_string()),
        "{e}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn retries_429_and_5xx_honouring_retry_after() {
    let Some(image) = small_image() else {
        return;
    };
    let manifest = image.manifest.clone();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let server = TestServer::start(move |req| {
        let n = h.fetch_add(1, Ordering::SeqCst);
        let ok = || Resp::new(200, manifest.clone()).header("Content-Type", media::OCI_MANIFEST);
        match (req.path(), n) {
            ("/v2/seconds/app/manifests/latest", 0) => {
                Resp::new(429, "slow down").header("Retry-After", "1")
            }
            ("/v2/date/app/manifests/latest", 0) => Resp::new(429, "").header(
                "Retry-After",
                httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2)),
            ),
            ("/v2/capped/app/manifests/latest", 0) => {
                Resp::new(429, "").header("Retry-After", "3600")
            }
            ("/v2/flaky/app/manifests/latest", 0 | 1) => Resp::new(503, "busy"),
            ("/v2/down/app/manifests/latest", _) => Resp::new(502, "bad gateway"),
            _ => ok(),
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    let opts = RegistryOptions {
        retries: 3,
        max_retry_wait: Duration::from_secs(3),
        ..options(tmp.path())
    };
    let client = Registry::new(&server.host(), &opts).unwrap();
    let fetch = |repo: &str, c: &Registry| c.manifest(repo, "latest", None, None);

    let started = Instant::now();
    fetch("seconds/app", &client).unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(hits.swap(0, Ordering::SeqCst), 2);

    let started = Instant::now();
    fetch("date/app", &client).unwrap();
    // HTTP dates have one-second resolution.
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(hits.swap(0, Ordering::SeqCst), 2);

    let capped = Registry::new(
        &server.host(),
        &RegistryOptions {
            max_retry_wait: Duration::from_millis(100),
            ..opts.clone()
        },
    )
    .unwrap();
    let started = Instant::now();
    fetch("capped/app", &capped).unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(hits.swap(0, Ordering::SeqCst), 2);

    fetch("flaky/app", &client).unwrap();
    assert_eq!(hits.swap(0, Ordering::SeqCst), 3);

    let e = expect_err(fetch("down/app", &client));
    assert!(e.contains("502") && e.contains("bad gateway"), "{e}");
    assert_eq!(hits.swap(0, Ordering::SeqCst), 4, "1 try + 3 retries");
}

#[test]
fn identity_token_refresh_grant_and_token_expiry() {
    let Some(image) = small_image() else {
        return;
    };
    let manifest = image.manifest.clone();
    let issued = Arc::new(AtomicUsize::new(0));
    let n = issued.clone();
    let port = Arc::new(std::sync::OnceLock::<u16>::new());
    let p = port.clone();
    // One server as registry and OAuth2 token endpoint.
    let server = TestServer::start(move |req| {
        let body = String::from_utf8_lossy(&req.body).to_string();
        match (req.method.as_str(), req.path()) {
            ("POST", "/token") => {
                let fields: Vec<&str> = body.split('&').collect();
                if !fields.contains(&"grant_type=refresh_token")
                    || !fields.contains(&"refresh_token=refresh-me")
                    || !fields.contains(&"scope=repository%3Aoauth%2Fapp%3Apull")
                    || !fields.contains(&"service=oauth-test")
                {
                    return Resp::new(400, format!("bad form {body}"));
                }
                let i = n.fetch_add(1, Ordering::SeqCst);
                Resp::new(200, format!(r#"{{"access_token":"tok{i}","expires_in":1}}"#))
            }
            (_, "/v2/oauth/app/manifests/latest") => match req.header("authorization") {
                Some(a) if a.starts_with("Bearer tok") => {
                    Resp::new(200, manifest.clone()).header("Content-Type", media::OCI_MANIFEST)
                }
                _ => Resp::new(401, r#"{"errors":[{"code":"UNAUTHORIZED","message":"token please"}]}"#).header(
                    "WWW-Authenticate",
                    format!(
                        r#"Bearer realm="http://127.0.0.1:{}/token",service="oauth-test",scope="repository:oauth/app:pull""#,
                        p.get().unwrap()
                    ),
                ),
            },
            _ => Resp::new(404, ""),
        }
    });
    port.set(server.port).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let config = docker_config(
        tmp.path(),
        "oauth.json",
        &format!(
            r#"{{"auths":{{"{}":{{"identitytoken":"refresh-me"}}}}}}"#,
            server.host()
        ),
    );
    let client = Registry::new(
        &server.host(),
        &RegistryOptions {
            docker_config: Some(config),
            ..options(tmp.path())
        },
    )
    .unwrap();
    client.manifest("oauth/app", "latest", None, None).unwrap();
    client.manifest("oauth/app", "latest", None, None).unwrap();
    assert_eq!(
        issued.load(Ordering::SeqCst),
        1,
        "the token is reused while fresh"
    );
    // expires_in 1: the next request needs a new token.
    std::thread::sleep(Duration::from_millis(1000));
    client.manifest("oauth/app", "latest", None, None).unwrap();
    assert_eq!(issued.load(Ordering::SeqCst), 2);
}
