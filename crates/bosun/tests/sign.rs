//! `bosun key`, `sign`, `verify`, `attest`, `verify-attestation` as users run
//! them, against the real CNCF `docker-registry` (TLS with htpasswd basic
//! auth, token auth, plain HTTP), with fixture images copied in by skopeo
//! and real cosign signatures from containers/image's test data.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

use bosun_core::Digest;
use bosun_oci::manifest::Descriptor;
use bosun_oci::media;
use bosun_oci::registry::{Registry, RegistryOptions};
use bosun_sign::keys::PrivateKey;
use bosun_testutil::registry::{REGISTRY_BIN, RegistryProcess, skopeo_copy, tool};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse";

fn bosun(tmp: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bosun"));
    c.env("BOSUN_PASSWORD", PASSWORD)
        .env("BOSUN_CACHE_DIR", tmp.join("cache"))
        .env("DOCKER_CONFIG", tmp.join("no-docker-config"))
        .env_remove("BOSUN_REPOSITORY")
        .env("SOURCE_DATE_EPOCH", "1700000000");
    c
}

fn run<S: AsRef<std::ffi::OsStr>>(tmp: &Path, args: &[S]) -> Output {
    bosun(tmp).args(args).output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn expect(o: Output, want: i32) -> Output {
    assert_eq!(
        code(&o),
        want,
        "exit code; stderr:\n{}\nstdout:\n{}",
        stderr(&o),
        String::from_utf8_lossy(&o.stdout)
    );
    o
}

fn json_out(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap()
}

fn tools() -> bool {
    tool(REGISTRY_BIN).is_some() && tool("/usr/bin/skopeo").is_some()
}

/// `bosun key generate` under `tmp/name`.
fn keypair(tmp: &Path, name: &str) -> (String, String) {
    let prefix = tmp.join(name);
    let prefix = prefix.to_str().unwrap();
    expect(
        run(tmp, &["key", "generate", "--output-key-prefix", prefix]),
        0,
    );
    (format!("{prefix}.key"), format!("{prefix}.pub"))
}

fn fixture_digest(fixture: &Path) -> String {
    let index: Value =
        serde_json::from_slice(&std::fs::read(fixture.join("index.json")).unwrap()).unwrap();
    index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

// ---------------------------------------------------------------------------
// A test PKI from openssl, base64 and a token server for token auth.

struct Pki {
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    signer_key_pem: Vec<u8>,
    signer_der: Vec<u8>,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", stderr(&out));
}

fn pki(dir: &Path) -> Pki {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    openssl(
        dir,
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=bosun test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n",
    )
    .unwrap();
    for name in ["server", "signer"] {
        openssl(
            dir,
            &[
                &["req"][..],
                &ec,
                &[
                    "-keyout",
                    &format!("{name}.key"),
                    "-out",
                    &format!("{name}.csr"),
                    "-subj",
                    &format!("/CN=bosun test {name}"),
                ],
            ]
            .concat(),
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "leaf.ext",
                "-out",
                &format!("{name}.pem"),
            ],
        );
    }
    openssl(
        dir,
        &[
            "x509",
            "-in",
            "signer.pem",
            "-outform",
            "DER",
            "-out",
            "signer.der",
        ],
    );
    Pki {
        ca: dir.join("ca.pem"),
        server_cert: dir.join("server.pem"),
        server_key: dir.join("server.key"),
        signer_key_pem: std::fs::read(dir.join("signer.key")).unwrap(),
        signer_der: std::fs::read(dir.join("signer.der")).unwrap(),
    }
}

fn b64(data: &[u8], url: bool) -> String {
    let table: &[u8] = if url {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(table[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
        if !url {
            out.push_str(&"=".repeat(3 - chunk.len()));
        }
    }
    out
}

/// ECDSA ASN.1 `SEQUENCE { INTEGER r, INTEGER s }` to JWS's fixed r‖s.
fn der_to_raw(der: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 2;
    for _ in 0..2 {
        assert_eq!(der[i], 2);
        let len = der[i + 1] as usize;
        let int = &der[i + 2..i + 2 + len];
        let int = &int[int.len().saturating_sub(32)..];
        out.extend(std::iter::repeat_n(0, 32 - int.len()));
        out.extend_from_slice(int);
        i += 2 + len;
    }
    out
}

const SERVICE: &str = "bosun-test-registry";
const ISSUER: &str = "bosun-test-issuer";

/// Grants whatever scope is asked, but push only with bob's password.
fn token_server(pki: &Pki) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let key = PrivateKey::from_pem(&pki.signer_key_pem, None).unwrap();
    let x5c = b64(&pki.signer_der, false);
    let key = std::sync::Arc::new(key);
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap_or(0);
            let mut auth = None;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                    break;
                }
                if let Some(v) = h
                    .strip_prefix("Authorization:")
                    .or(h.strip_prefix("authorization:"))
                {
                    auth = Some(v.trim().to_string());
                }
            }
            let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let scope = target
                .split(['?', '&'])
                .find_map(|kv| kv.strip_prefix("scope="))
                .unwrap_or("")
                .replace("%3A", ":")
                .replace("%2F", "/")
                .replace("%2C", ",");
            let mut parts = scope.splitn(3, ':');
            let (kind, name, actions) = (
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
            );
            let actions: Vec<&str> = actions.split(',').filter(|a| !a.is_empty()).collect();
            let bob = format!("Basic {}", b64(b"bob:builder", false));
            let (status, body) =
                if actions.contains(&"push") && auth.as_deref() != Some(bob.as_str()) {
                    (401, r#"{"details":"push needs bob"}"#.to_string())
                } else {
                    let now = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .unwrap()
                        .as_secs();
                    let header = json!({"typ": "JWT", "alg": "ES256", "x5c": [x5c]});
                    let claims = json!({"iss": ISSUER, "sub": "bosun-test", "aud": SERVICE,
                    "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("{now}-{name}"),
                    "access": [{"type": kind, "name": name, "actions": actions}]});
                    let input = format!(
                        "{}.{}",
                        b64(header.to_string().as_bytes(), true),
                        b64(claims.to_string().as_bytes(), true)
                    );
                    let sig = der_to_raw(&key.sign(input.as_bytes()).unwrap());
                    (
                        200,
                        format!(
                            r#"{{"token":"{input}.{}","expires_in":300}}"#,
                            b64(&sig, true)
                        ),
                    )
                };
            let mut conn = conn;
            let _ = write!(
                conn,
                "HTTP/1.1 {status} X\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

fn docker_config(dir: &Path, host: &str, user: &str, password: &str) -> PathBuf {
    let p = dir.join(format!("docker-{user}.json"));
    let auth = b64(format!("{user}:{password}").as_bytes(), false);
    std::fs::write(
        &p,
        format!(r#"{{"auths":{{"{host}":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
    p
}

// ---------------------------------------------------------------------------

#[test]
fn sign_and_verify_over_tls_with_basic_auth() {
    if !tools() || tool("/usr/bin/htpasswd").is_none() || tool("/usr/bin/openssl").is_none() {
        return;
    }
    let Some(fixture) = bosun_testutil::fixture("images/oci/rust-binary") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let pki = pki(t);
    let htpasswd = Command::new("htpasswd")
        .args(["-Bbn", "alice", "wonderland"])
        .output()
        .unwrap();
    std::fs::write(t.join("htpasswd"), htpasswd.stdout).unwrap();
    let reg = RegistryProcess::start(
        &format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            pki.server_cert.display(),
            pki.server_key.display()
        ),
        &format!(
            "auth:\n  htpasswd:\n    realm: bosun-test\n    path: {}\n",
            t.join("htpasswd").display()
        ),
    );
    let host = reg.host();
    let image = format!("{host}/secure/app:v1");
    skopeo_copy(
        &fixture,
        &image,
        &[
            "--dest-tls-verify=false",
            "--dest-creds",
            "alice:wonderland",
        ],
    );
    let digest = fixture_digest(&fixture);
    let config = docker_config(t, &host, "alice", "wonderland");
    let ca = pki.ca.to_str().unwrap();
    let config = config.to_str().unwrap();
    let reg_args = ["--ca-cert", ca, "--docker-config", config];
    let with = |args: &[&str]| -> Vec<String> {
        args.iter()
            .chain(&reg_args)
            .map(|s| s.to_string())
            .collect()
    };

    // Keys: cosign's format, no overwriting, the public key derivable.
    let (key, public) = keypair(t, "k");
    let pem = std::fs::read_to_string(&key).unwrap();
    assert!(
        pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"),
        "{pem}"
    );
    let again = expect(
        run(
            t,
            &[
                "key",
                "generate",
                "--output-key-prefix",
                &t.join("k").to_string_lossy(),
            ],
        ),
        2,
    );
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    let printed = expect(run(t, &["public-key", "--key", &key]), 0);
    assert_eq!(
        String::from_utf8(printed.stdout).unwrap(),
        std::fs::read_to_string(&public).unwrap()
    );
    let wrong = expect(
        bosun(t)
            .env("BOSUN_PASSWORD", "wrong")
            .args(["public-key", "--key", &key])
            .output()
            .unwrap(),
        2,
    );
    assert!(
        stderr(&wrong).contains("wrong password"),
        "{}",
        stderr(&wrong)
    );

    // Sign the tag: the digest is signed, and said so.
    let signed = expect(run(t, &with(&["sign", "--key", &key, &image])), 0);
    assert!(
        stderr(&signed).contains(&format!("signing {digest} (tag v1)")),
        "{}",
        stderr(&signed)
    );

    for reference in [image.clone(), format!("{host}/secure/app@{digest}")] {
        let out = expect(run(t, &with(&["verify", "--key", &public, &reference])), 0);
        let payloads = json_out(&out);
        assert_eq!(payloads.as_array().unwrap().len(), 1);
        assert_eq!(
            payloads[0]["critical"]["image"]["docker-manifest-digest"],
            digest
        );
        assert_eq!(
            payloads[0]["critical"]["identity"]["docker-reference"],
            format!("{host}/secure/app")
        );
        assert_eq!(
            payloads[0]["critical"]["type"],
            "cosign container image signature"
        );
    }

    // A second signature appends: two layers, both verify.
    expect(
        run(t, &with(&["sign", "--key", &key, "-a", "env=prod", &image])),
        0,
    );
    let sig_tag = format!("{host}/secure/app:sha256-{}.sig", &digest[7..]);
    let raw = Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            "--creds",
            "alice:wonderland",
        ])
        .arg(format!("docker://{sig_tag}"))
        .output()
        .unwrap();
    let manifest: Value = serde_json::from_slice(&raw.stdout).unwrap();
    assert_eq!(manifest["mediaType"], media::OCI_MANIFEST);
    assert_eq!(
        manifest["layers"].as_array().unwrap().len(),
        2,
        "{manifest}"
    );
    for l in manifest["layers"].as_array().unwrap() {
        assert_eq!(
            l["mediaType"],
            "application/vnd.dev.cosign.simplesigning.v1+json"
        );
        assert!(l["annotations"]["dev.cosignproject.cosign/signature"].is_string());
    }
    let config_raw = Command::new("skopeo")
        .args([
            "inspect",
            "--config",
            "--raw",
            "--tls-verify=false",
            "--creds",
            "alice:wonderland",
        ])
        .arg(format!("docker://{sig_tag}"))
        .output()
        .unwrap();
    let sig_config: Value = serde_json::from_slice(&config_raw.stdout).unwrap();
    assert_eq!(
        sig_config["rootfs"]["diff_ids"][1],
        manifest["layers"][1]["digest"]
    );
    let out = expect(
        run(
            t,
            &with(&["verify", "--key", &public, "--no-cache", &image]),
        ),
        0,
    );
    assert_eq!(json_out(&out).as_array().unwrap().len(), 2);

    // Annotation constraints: one signature has env=prod; none env=dev.
    let out = expect(
        run(
            t,
            &with(&["verify", "--key", &public, "-a", "env=prod", &image]),
        ),
        0,
    );
    assert_eq!(json_out(&out).as_array().unwrap().len(), 1);
    // The other signature is not an alarm once one verified.
    assert!(
        !stderr(&out).contains("not verified")
            && stderr(&out).contains("note: another signature does not verify"),
        "{}",
        stderr(&out)
    );
    let out = expect(
        run(
            t,
            &with(&["verify", "--key", &public, "-a", "env=dev", &image]),
        ),
        1,
    );
    assert!(
        stderr(&out).contains("annotation \"env\" mismatch"),
        "{}",
        stderr(&out)
    );

    // Another key: nothing verifies.
    let (_, other_pub) = keypair(t, "other");
    let out = expect(run(t, &with(&["verify", "--key", &other_pub, &image])), 1);
    assert!(
        stderr(&out).contains("signature invalid"),
        "{}",
        stderr(&out)
    );

    // No credentials: an error, not "unverified".
    let out = expect(
        run(
            t,
            &[
                "verify",
                "--key",
                &public,
                "--ca-cert",
                ca,
                "--docker-config",
                "/nonexistent",
                &image,
            ],
        ),
        2,
    );
    assert!(stderr(&out).contains("401"), "{}", stderr(&out));
}

#[test]
fn token_auth_sign_attest_and_verify_attestation() {
    if !tools() || tool("/usr/bin/openssl").is_none() {
        return;
    }
    let Some(fixture) = bosun_testutil::fixture("images/oci/python-app") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let pki = pki(t);
    let port = token_server(&pki);
    let reg = RegistryProcess::start(
        "",
        &format!(
            "auth:\n  token:\n    realm: http://127.0.0.1:{port}/token\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
            pki.ca.display()
        ),
    );
    let host = reg.host();
    let image = format!("{host}/tok/app:v2");
    skopeo_copy(
        &fixture,
        &image,
        &["--dest-tls-verify=false", "--dest-creds", "bob:builder"],
    );
    let digest = fixture_digest(&fixture);
    let config = docker_config(t, &host, "bob", "builder");
    let config = config.to_str().unwrap();
    let reg_args = ["--insecure", "--docker-config", config];
    let with = |args: &[&str]| -> Vec<String> {
        args.iter()
            .chain(&reg_args)
            .map(|s| s.to_string())
            .collect()
    };
    let (key, public) = keypair(t, "k");

    expect(run(t, &with(&["sign", "--key", &key, &image])), 0);
    let out = expect(run(t, &with(&["verify", "--key", &public, &image])), 0);
    assert_eq!(
        json_out(&out)[0]["critical"]["image"]["docker-manifest-digest"],
        digest
    );
    // Anonymous pushes are refused by the token server (a new payload:
    // re-signing the same one is deterministic and pushes nothing).
    let out = expect(
        run(
            t,
            &[
                "sign",
                "--key",
                &key,
                "-a",
                "needs=push",
                "--insecure",
                "--docker-config",
                "/nonexistent",
                &image,
            ],
        ),
        2,
    );
    assert!(stderr(&out).contains("401"), "{}", stderr(&out));

    // bosun's own SPDX of the image as the predicate.
    let spdx = t.join("sbom.spdx.json");
    expect(
        run(
            t,
            &[
                "sbom",
                &format!("oci:{}", fixture.display()),
                "--no-cache",
                "-o",
                &format!("spdx-json={}", spdx.display()),
            ],
        ),
        0,
    );
    let spdx_doc: Value = serde_json::from_slice(&std::fs::read(&spdx).unwrap()).unwrap();
    let out = expect(
        run(
            t,
            &with(&[
                "attest",
                "--key",
                &key,
                "--predicate",
                spdx.to_str().unwrap(),
                "--type",
                "spdx",
                &image,
            ]),
        ),
        0,
    );
    assert!(
        stderr(&out).contains("pushed attestation"),
        "{}",
        stderr(&out)
    );
    let out = expect(
        run(
            t,
            &with(&[
                "verify-attestation",
                "--key",
                &public,
                "--type",
                "spdx",
                &image,
            ]),
        ),
        0,
    );
    let statements = json_out(&out);
    let s = &statements[0];
    assert_eq!(s["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(s["predicateType"], "https://spdx.dev/Document");
    assert_eq!(s["subject"][0]["digest"]["sha256"], &digest[7..]);
    assert_eq!(s["subject"][0]["name"], format!("{host}/tok/app"));
    assert_eq!(s["predicate"], spdx_doc);

    // The .att manifest as cosign lays it out.
    let registry = Registry::new(
        &host,
        &RegistryOptions {
            insecure: true,
            docker_config: Some(PathBuf::from(config)),
            ..Default::default()
        },
    )
    .unwrap();
    let att = registry
        .manifest(
            "tok/app",
            &format!("sha256-{}.att", &digest[7..]),
            None,
            None,
        )
        .unwrap();
    let att: Value = serde_json::from_slice(&att.bytes).unwrap();
    let layer = &att["layers"][0];
    assert_eq!(layer["mediaType"], "application/vnd.dsse.envelope.v1+json");
    assert_eq!(
        layer["annotations"]["predicateType"],
        "https://spdx.dev/Document"
    );
    assert_eq!(
        layer["annotations"]["dev.cosignproject.cosign/signature"],
        ""
    );

    let out = expect(
        run(
            t,
            &with(&[
                "verify-attestation",
                "--key",
                &public,
                "--type",
                "cyclonedx",
                &image,
            ]),
        ),
        1,
    );
    assert!(
        stderr(&out).contains("predicate type mismatch"),
        "{}",
        stderr(&out)
    );
    let (_, other_pub) = keypair(t, "other");
    let out = expect(
        run(
            t,
            &with(&["verify-attestation", "--key", &other_pub, &image]),
        ),
        1,
    );
    assert!(stderr(&out).contains("signature check"), "{}", stderr(&out));
    let out = expect(
        run(
            t,
            &with(&[
                "attest",
                "--key",
                &key,
                "--predicate",
                spdx.to_str().unwrap(),
                "--type",
                "nonsense",
                &image,
            ]),
        ),
        2,
    );
    assert!(stderr(&out).contains("predicate type"), "{}", stderr(&out));
}

/// Plain-HTTP registry with rust-binary (`app:a`) and go-binary (`app:b`).
struct Plain {
    reg: RegistryProcess,
    registry: Registry,
    a: String,
    b: String,
}

fn plain() -> Option<Plain> {
    if !tools() {
        return None;
    }
    let a = bosun_testutil::fixture("images/oci/rust-binary")?;
    let b = bosun_testutil::fixture("images/oci/go-binary")?;
    let reg = RegistryProcess::start("", "");
    skopeo_copy(
        &a,
        &format!("{}/app:a", reg.host()),
        &["--dest-tls-verify=false"],
    );
    skopeo_copy(
        &b,
        &format!("{}/app:b", reg.host()),
        &["--dest-tls-verify=false"],
    );
    let registry = Registry::new(
        &reg.host(),
        &RegistryOptions {
            insecure: true,
            docker_config: Some(PathBuf::from("/nonexistent")),
            ..Default::default()
        },
    )
    .unwrap();
    Some(Plain {
        registry,
        a: fixture_digest(&a),
        b: fixture_digest(&b),
        reg,
    })
}

fn sig_tag(digest: &str) -> String {
    format!("sha256-{}.sig", &digest[7..])
}

/// Pushes `layers` (blob, descriptor) as the `.sig` manifest under `tag`.
fn push_sig(p: &Plain, tag: &str, layers: &[(Vec<u8>, Value)], media_type: &str) {
    let config =
        br#"{"architecture":"","os":"","rootfs":{"type":"layers","diff_ids":[]},"config":{}}"#;
    p.registry
        .push_blob("app", config, &Digest::sha256_of(config))
        .unwrap();
    for (blob, desc) in layers {
        p.registry
            .push_blob(
                "app",
                blob,
                &desc["digest"].as_str().unwrap().parse().unwrap(),
            )
            .unwrap();
    }
    let manifest = json!({"schemaVersion": 2, "mediaType": media_type,
        "config": {"mediaType": media::OCI_CONFIG, "digest": Digest::sha256_of(config).to_string(), "size": config.len()},
        "layers": layers.iter().map(|(_, d)| d.clone()).collect::<Vec<_>>()});
    p.registry
        .push_manifest(
            "app",
            tag,
            media::OCI_MANIFEST,
            manifest.to_string().as_bytes(),
        )
        .unwrap();
}

/// The first layer of a `.sig` manifest: its blob and descriptor.
fn first_layer(p: &Plain, tag: &str) -> (Vec<u8>, Value) {
    let m = p.registry.manifest("app", tag, None, None).unwrap();
    let m: Value = serde_json::from_slice(&m.bytes).unwrap();
    let desc: Descriptor = serde_json::from_value(m["layers"][0].clone()).unwrap();
    let mut blob = Vec::new();
    p.registry
        .blob("app", &desc)
        .unwrap()
        .read_to_end(&mut blob)
        .unwrap();
    (blob, m["layers"][0].clone())
}

#[test]
fn tampered_misplaced_and_malformed_signatures_fail_naming_the_check() {
    let Some(p) = plain() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let host = p.reg.host();
    let (key, public) = keypair(t, "k");
    let (a, b) = (format!("{host}/app:a"), format!("{host}/app:b"));
    let verify = |image: &str, want: i32| {
        expect(
            run(
                t,
                &[
                    "verify",
                    "--key",
                    &public,
                    "--insecure",
                    "--no-cache",
                    image,
                ],
            ),
            want,
        )
    };

    // Unsigned: exit 1, saying nothing was found.
    let out = verify(&b, 1);
    assert!(
        stderr(&out).contains("no signatures found"),
        "{}",
        stderr(&out)
    );
    expect(run(t, &["sign", "--key", &key, "--insecure", &a]), 0);
    verify(&a, 0);
    let (payload, desc) = first_layer(&p, &sig_tag(&p.a));

    // A's signature under B's tag: the signed digest is A's.
    push_sig(
        &p,
        &sig_tag(&p.b),
        &[(payload.clone(), desc.clone())],
        media::OCI_MANIFEST,
    );
    let out = verify(&b, 1);
    assert!(stderr(&out).contains("digest mismatch"), "{}", stderr(&out));

    // A tampered payload (another docker-reference), same signature.
    let tampered = String::from_utf8(payload.clone())
        .unwrap()
        .replace("/app\"", "/evil\"")
        .into_bytes();
    assert_ne!(tampered, payload);
    let mut tdesc = desc.clone();
    tdesc["digest"] = json!(Digest::sha256_of(&tampered).to_string());
    tdesc["size"] = json!(tampered.len());
    push_sig(
        &p,
        &sig_tag(&p.a),
        &[(tampered, tdesc)],
        media::OCI_MANIFEST,
    );
    let out = verify(&a, 1);
    assert!(
        stderr(&out).contains("signature invalid"),
        "{}",
        stderr(&out)
    );

    // Manifests that are not what they claim.
    let mut wrong_type = desc.clone();
    wrong_type["mediaType"] = json!("application/octet-stream");
    let mut no_annotation = desc.clone();
    no_annotation["annotations"] = json!({});
    let mut wrong_size = desc.clone();
    wrong_size["size"] = json!(payload.len() + 1);
    for (layer, check) in [
        (wrong_type, "media type check"),
        (no_annotation, "annotation check"),
        (wrong_size, "blob check"),
    ] {
        push_sig(
            &p,
            &sig_tag(&p.a),
            &[(payload.clone(), layer)],
            media::OCI_MANIFEST,
        );
        let out = verify(&a, 1);
        assert!(stderr(&out).contains(check), "{check}: {}", stderr(&out));
    }
    // The right layer next to a bad one: the image still verifies.
    let mut bad = desc.clone();
    bad["mediaType"] = json!("text/plain");
    push_sig(
        &p,
        &sig_tag(&p.a),
        &[(payload.clone(), bad), (payload.clone(), desc.clone())],
        media::OCI_MANIFEST,
    );
    let out = verify(&a, 0);
    assert!(
        stderr(&out).contains("media type check"),
        "{}",
        stderr(&out)
    );

    // Errors: exit 2.
    let out = expect(run(t, &["verify", "--key", &key, "--insecure", &a]), 2);
    assert!(stderr(&out).contains("key"), "{}", stderr(&out));
    let port = bosun_testutil::registry::free_port();
    let out = expect(
        run(
            t,
            &[
                "verify",
                "--key",
                &public,
                "--insecure",
                &format!("127.0.0.1:{port}/app:a"),
            ],
        ),
        2,
    );
    assert!(stderr(&out).contains("cannot reach"), "{}", stderr(&out));
    let out = expect(
        run(
            t,
            &[
                "verify",
                "--key",
                &public,
                "--insecure",
                &format!("{host}/app:missing"),
            ],
        ),
        2,
    );
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
}

#[test]
fn signature_repository_holds_the_signatures_elsewhere() {
    let Some(p) = plain() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let host = p.reg.host();
    let (key, public) = keypair(t, "k");
    let image = format!("{host}/app:a");
    let repo = format!("{host}/sigs/store");
    expect(
        bosun(t)
            .env("BOSUN_REPOSITORY", &repo)
            .args(["sign", "--key", &key, "--insecure", &image])
            .output()
            .unwrap(),
        0,
    );
    assert!(
        p.registry
            .manifest("sigs/store", &sig_tag(&p.a), None, None)
            .is_ok()
    );
    assert!(
        p.registry
            .manifest("app", &sig_tag(&p.a), None, None)
            .is_err()
    );
    expect(
        run(
            t,
            &[
                "verify",
                "--key",
                &public,
                "--insecure",
                "--signature-repo",
                &repo,
                &image,
            ],
        ),
        0,
    );
    expect(
        run(t, &["verify", "--key", &public, "--insecure", &image]),
        1,
    );
}

/// A signature made by the real cosign (containers/image's fixture
/// `dir-img-cosign-valid`), stored the way cosign stores it, verifies.
#[test]
fn cosign_made_signature_verifies() {
    if !tools() {
        return;
    }
    let Some(dir) = bosun_testutil::shared("interop/cosign-simple-signing/containers-image") else {
        return;
    };
    let img = dir.join("dir-img-cosign-valid");
    let manifest = std::fs::read(img.join("manifest.json")).unwrap();
    let payload = std::fs::read(img.join("signature-1.payload.json")).unwrap();
    let annotations: Value =
        serde_json::from_slice(&std::fs::read(img.join("signature-1.annotations.json")).unwrap())
            .unwrap();
    let digest = Digest::sha256_of(&manifest).to_string();

    let reg = RegistryProcess::start("", "");
    // The image's blobs are not in the test data (only its manifest); the
    // registry only checks that they exist before accepting the manifest,
    // so stand-ins are placed in its storage.
    let m: Value = serde_json::from_slice(&manifest).unwrap();
    let root = reg.dir.path().join("data/docker/registry/v2");
    let mut digests = vec![m["config"]["digest"].as_str().unwrap().to_string()];
    digests.extend(
        m["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["digest"].as_str().unwrap().to_string()),
    );
    for d in &digests {
        let hex = &d[7..];
        let blob = root.join(format!("blobs/sha256/{}/{hex}", &hex[..2]));
        std::fs::create_dir_all(&blob).unwrap();
        std::fs::write(blob.join("data"), b"stand-in").unwrap();
        let link = root.join(format!("repositories/cosign/signed/_layers/sha256/{hex}"));
        std::fs::create_dir_all(&link).unwrap();
        std::fs::write(link.join("link"), d).unwrap();
    }
    let registry = Registry::new(
        &reg.host(),
        &RegistryOptions {
            insecure: true,
            docker_config: Some(PathBuf::from("/nonexistent")),
            ..Default::default()
        },
    )
    .unwrap();
    registry
        .push_manifest("cosign/signed", "v1", media::DOCKER_MANIFEST, &manifest)
        .unwrap();

    // cosign's layout: the payload as the layer, the signature annotation,
    // a config listing the layer's diff_id.
    let layer_digest = Digest::sha256_of(&payload);
    registry
        .push_blob("cosign/signed", &payload, &layer_digest)
        .unwrap();
    let config = json!({"architecture": "", "created": "2022-07-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}], "os": "",
        "rootfs": {"type": "layers", "diff_ids": [layer_digest.to_string()]}, "config": {}})
    .to_string();
    registry
        .push_blob(
            "cosign/signed",
            config.as_bytes(),
            &Digest::sha256_of(config.as_bytes()),
        )
        .unwrap();
    let sig = json!({"schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": media::OCI_CONFIG, "size": config.len(), "digest": Digest::sha256_of(config.as_bytes()).to_string()},
        "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "size": payload.len(),
                    "digest": layer_digest.to_string(), "annotations": annotations}]});
    registry
        .push_manifest(
            "cosign/signed",
            &sig_tag(&digest),
            media::OCI_MANIFEST,
            sig.to_string().as_bytes(),
        )
        .unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let image = format!("{}/cosign/signed:v1", reg.host());
    let cosign_pub = dir.join("cosign.pub");
    let out = expect(
        run(
            t,
            &[
                "verify",
                "--key",
                cosign_pub.to_str().unwrap(),
                "--insecure",
                &image,
            ],
        ),
        0,
    );
    let payloads = json_out(&out);
    assert_eq!(
        payloads[0]["critical"]["image"]["docker-manifest-digest"],
        digest
    );
    assert_eq!(
        payloads[0]["critical"]["identity"]["docker-reference"],
        "192.168.64.2:5000/cosign-signed-single-sample"
    );
    // cosign's second test key did not make it.
    let out = expect(
        run(
            t,
            &[
                "verify",
                "--key",
                dir.join("cosign2.pub").to_str().unwrap(),
                "--insecure",
                &image,
            ],
        ),
        1,
    );
    assert!(
        stderr(&out).contains("signature invalid"),
        "{}",
        stderr(&out)
    );
}

/// cosign's COSIGN_PASSWORD works where BOSUN_PASSWORD is not set, and an
/// empty variable never makes a key anyone can open.
#[test]
fn password_variables() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let prefix = t.join("c");
    let prefix = prefix.to_str().unwrap();
    let cosign = |pw: &str| {
        let mut c = bosun(t);
        c.env_remove("BOSUN_PASSWORD").env("COSIGN_PASSWORD", pw);
        c
    };
    expect(
        cosign("cosign pw")
            .args(["key", "generate", "--output-key-prefix", prefix])
            .output()
            .unwrap(),
        0,
    );
    let key = format!("{prefix}.key");
    expect(
        cosign("cosign pw")
            .args(["public-key", "--key", &key])
            .output()
            .unwrap(),
        0,
    );
    let wrong = expect(
        cosign("nope")
            .args(["public-key", "--key", &key])
            .output()
            .unwrap(),
        2,
    );
    assert!(
        stderr(&wrong).contains("wrong password"),
        "{}",
        stderr(&wrong)
    );
    // BOSUN_PASSWORD wins over COSIGN_PASSWORD.
    expect(
        cosign("nope")
            .env("BOSUN_PASSWORD", "cosign pw")
            .args(["public-key", "--key", &key])
            .output()
            .unwrap(),
        0,
    );
    for var in ["BOSUN_PASSWORD", "COSIGN_PASSWORD"] {
        let mut c = bosun(t);
        c.env_remove("BOSUN_PASSWORD").env(var, "");
        let empty_prefix = t.join(format!("empty-{var}"));
        let out = expect(
            c.args([
                "key",
                "generate",
                "--output-key-prefix",
                empty_prefix.to_str().unwrap(),
            ])
            .output()
            .unwrap(),
            2,
        );
        assert!(
            stderr(&out).contains(&format!("{var} is set but empty")),
            "{}",
            stderr(&out)
        );
        assert!(!Path::new(&format!("{}.key", empty_prefix.display())).exists());
        let mut c = bosun(t);
        c.env_remove("BOSUN_PASSWORD").env(var, "");
        let out = expect(c.args(["public-key", "--key", &key]).output().unwrap(), 2);
        assert!(
            stderr(&out).contains(&format!("{var} is set but empty")),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn bad_invocations_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    std::fs::write(t.join("garbage.pub"), b"not a key").unwrap();
    for args in [
        &["verify", "--key", "/nonexistent.pub", "127.0.0.1:1/a:b"][..],
        &[
            "verify",
            "--key",
            t.join("garbage.pub").to_str().unwrap(),
            "127.0.0.1:1/a:b",
        ],
        &[
            "sign",
            "--key",
            "/nonexistent.key",
            "-a",
            "novalue",
            "127.0.0.1:1/a:b",
        ],
        &["verify", "--key", "/nonexistent.pub", "NOT A REFERENCE"],
    ] {
        let out = run(t, args);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with("error:"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

/// Pushes a containers/image cosign fixture (`img`: its manifest.json and
/// signature-1 payload and annotations, `annotations` edited by `edit`) to
/// `repo:v1` the way cosign stores it; returns the image reference.
fn push_cosign_fixture(
    reg: &RegistryProcess,
    registry: &Registry,
    repo: &str,
    img: &Path,
    edit: impl FnOnce(&mut Value),
) -> String {
    let manifest = std::fs::read(img.join("manifest.json")).unwrap();
    let payload = std::fs::read(img.join("signature-1.payload.json")).unwrap();
    let mut annotations: Value =
        serde_json::from_slice(&std::fs::read(img.join("signature-1.annotations.json")).unwrap())
            .unwrap();
    edit(&mut annotations);
    // Only the image's manifest is in the test data: stand-in blobs are
    // placed in the registry's storage so that it accepts the manifest.
    let m: Value = serde_json::from_slice(&manifest).unwrap();
    let root = reg.dir.path().join("data/docker/registry/v2");
    let mut digests = vec![m["config"]["digest"].as_str().unwrap().to_string()];
    digests.extend(
        m["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["digest"].as_str().unwrap().to_string()),
    );
    for d in &digests {
        let hex = &d[7..];
        let blob = root.join(format!("blobs/sha256/{}/{hex}", &hex[..2]));
        std::fs::create_dir_all(&blob).unwrap();
        std::fs::write(blob.join("data"), b"stand-in").unwrap();
        let link = root.join(format!("repositories/{repo}/_layers/sha256/{hex}"));
        std::fs::create_dir_all(&link).unwrap();
        std::fs::write(link.join("link"), d).unwrap();
    }
    registry
        .push_manifest(repo, "v1", m["mediaType"].as_str().unwrap(), &manifest)
        .unwrap();
    let layer_digest = Digest::sha256_of(&payload);
    registry.push_blob(repo, &payload, &layer_digest).unwrap();
    let config = json!({"architecture": "", "created": "2023-01-20T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}], "os": "",
        "rootfs": {"type": "layers", "diff_ids": [layer_digest.to_string()]}, "config": {}})
    .to_string();
    let config_digest = Digest::sha256_of(config.as_bytes());
    registry
        .push_blob(repo, config.as_bytes(), &config_digest)
        .unwrap();
    let sig = json!({"schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": media::OCI_CONFIG, "size": config.len(), "digest": config_digest.to_string()},
        "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "size": payload.len(),
                    "digest": layer_digest.to_string(), "annotations": annotations}]});
    registry
        .push_manifest(
            repo,
            &sig_tag(&Digest::sha256_of(&manifest).to_string()),
            media::OCI_MANIFEST,
            sig.to_string().as_bytes(),
        )
        .unwrap();
    format!("{}/{repo}:v1", reg.host())
}

/// Keyless (Fulcio + Rekor), private-PKI and key + Rekor signatures made by
/// the real cosign, verified through the real registry.
#[test]
fn keyless_cosign_signatures_verify_through_the_registry() {
    if !tools() {
        return;
    }
    let Some(dir) = bosun_testutil::shared("interop/cosign-simple-signing/containers-image") else {
        return;
    };
    let Some(root) = bosun_testutil::shared("interop/trust-roots/public-good/trusted_root.json")
    else {
        return;
    };
    let root = root.to_str().unwrap();
    let reg = RegistryProcess::start("", "");
    let registry = Registry::new(
        &reg.host(),
        &RegistryOptions {
            insecure: true,
            docker_config: Some(PathBuf::from("/nonexistent")),
            ..Default::default()
        },
    )
    .unwrap();
    let fulcio_dir = dir.join("dir-img-cosign-fulcio-rekor-valid");
    let fulcio = push_cosign_fixture(&reg, &registry, "keyless/fulcio", &fulcio_dir, |_| {});
    let key_rekor = dir.join("dir-img-cosign-key-rekor-valid");
    let keyed = push_cosign_fixture(&reg, &registry, "keyless/key", &key_rekor, |_| {});
    let tampered = push_cosign_fixture(&reg, &registry, "keyless/tampered", &key_rekor, |a| {
        let b = a["dev.sigstore.cosign/bundle"].as_str().unwrap();
        a["dev.sigstore.cosign/bundle"] = b.replace("\"logIndex\":", "\"logIndex\":1").into();
    });
    let pki = push_cosign_fixture(
        &reg,
        &registry,
        "keyless/pki",
        &dir.join("dir-img-cosign-pki-valid"),
        |_| {},
    );

    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let keyless = |image: &str, extra: &[&str]| {
        let mut args = vec!["verify", "--insecure", image];
        args.extend_from_slice(extra);
        run(t, &args)
    };
    let id = ["--certificate-identity", "mitr@redhat.com"];
    let issuer = [
        "--certificate-oidc-issuer",
        "https://github.com/login/oauth",
    ];
    let out = expect(
        keyless(
            &fulcio,
            &[&id[..], &issuer, &["--trusted-root", root]].concat(),
        ),
        0,
    );
    let digest = Digest::sha256_of(&std::fs::read(fulcio_dir.join("manifest.json")).unwrap());
    assert_eq!(
        json_out(&out)[0]["critical"]["image"]["docker-manifest-digest"],
        digest.to_string()
    );
    assert!(stderr(&out).contains("Rekor SET"), "{}", stderr(&out));
    // The built-in public-good root, and patterns; then again from the cache.
    let patterns = [
        "--certificate-identity-regexp",
        "@redhat\\.com$",
        "--certificate-oidc-issuer-regexp",
        "^https://github\\.com/",
    ];
    expect(keyless(&fulcio, &patterns), 0);
    expect(keyless(&fulcio, &patterns), 0);

    let out = expect(
        keyless(
            &fulcio,
            &[
                &["--certificate-identity", "someone@example.com"][..],
                &issuer,
                &["--trusted-root", root],
            ]
            .concat(),
        ),
        1,
    );
    assert!(
        stderr(&out).contains("identity: certificate names [\"mitr@redhat.com\"]"),
        "{}",
        stderr(&out)
    );
    let out = expect(
        keyless(
            &fulcio,
            &[
                &id[..],
                &["--certificate-oidc-issuer", "https://accounts.google.com"],
            ]
            .concat(),
        ),
        1,
    );
    assert!(
        stderr(&out).contains("issuer: certificate names"),
        "{}",
        stderr(&out)
    );
    // A root that trusts the Fulcio CA only from 2024 on.
    let mut late: Value = serde_json::from_slice(&std::fs::read(root).unwrap()).unwrap();
    for ca in late["certificateAuthorities"].as_array_mut().unwrap() {
        ca["validFor"]["start"] = "2024-01-01T00:00:00Z".into();
    }
    let late_root = t.join("late_root.json");
    std::fs::write(&late_root, late.to_string()).unwrap();
    let out = expect(
        keyless(
            &fulcio,
            &[
                &id[..],
                &issuer,
                &["--trusted-root", late_root.to_str().unwrap()],
            ]
            .concat(),
        ),
        1,
    );
    assert!(
        stderr(&out).contains("certificate chain: CA"),
        "{}",
        stderr(&out)
    );
    // Keyless flags that do not say enough are usage errors.
    expect(keyless(&fulcio, &id), 2);
    expect(keyless(&fulcio, &issuer), 2);

    // Key-signed with a Rekor bundle: the SET is checked with --trusted-root.
    let cosign2 = dir.join("cosign2.pub");
    let key = ["--key", cosign2.to_str().unwrap()];
    expect(
        keyless(&keyed, &[&key[..], &["--trusted-root", root]].concat()),
        0,
    );
    let out = expect(
        keyless(&tampered, &[&key[..], &["--trusted-root", root]].concat()),
        1,
    );
    assert!(
        stderr(&out).contains("signed entry timestamp:"),
        "{}",
        stderr(&out)
    );
    expect(keyless(&tampered, &key), 0);

    // A private PKI: the chain file instead of a trusted root.
    let chain = t.join("chain.pem");
    let mut pem = std::fs::read(dir.join("pki_intermediate_crts.pem")).unwrap();
    pem.extend(std::fs::read(dir.join("pki_root_crts.pem")).unwrap());
    std::fs::write(&chain, pem).unwrap();
    let chain_flag = ["--certificate-chain", chain.to_str().unwrap()];
    expect(
        keyless(
            &pki,
            &[
                &["--certificate-identity", "qiwan@redhat.com"][..],
                &chain_flag,
            ]
            .concat(),
        ),
        0,
    );
    let out = expect(keyless(&pki, &[&id[..], &chain_flag].concat()), 1);
    assert!(stderr(&out).contains("identity:"), "{}", stderr(&out));
    // Without the chain, the public-good root: the certificate was never logged.
    let out = expect(
        keyless(
            &pki,
            &[&["--certificate-identity", "qiwan@redhat.com"][..], &issuer].concat(),
        ),
        1,
    );
    assert!(
        stderr(&out).contains("Rekor bundle check"),
        "{}",
        stderr(&out)
    );
}
