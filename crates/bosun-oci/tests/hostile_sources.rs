//! Image sources that try to hang bosun, mislead it about the platform, or
//! get it to print a file it was pointed at: each ends in a clear error,
//! within a bound.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use bosun_core::text::chain;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bosun_core::Digest;
use bosun_oci::archive::TarIndex;
use bosun_oci::layout::{LayoutStore, Selector};
use bosun_oci::manifest::Descriptor;
use bosun_oci::registry::{Registry, RegistryOptions, Timeouts};
use bosun_oci::{OciError, Platform, Store, resolve};
use bosun_testutil::oci::{GZIP, layer, layout};

/// Run `f` on a thread; fail the test if it takes longer than `limit` (the
/// bug being tested is a hang, so the test must not hang with it).
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("still running after {limit:?}: it hangs"))
}

fn small_tar() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_size(3);
    h.set_mode(0o644);
    b.append_data(&mut h, "etc/hello", &b"hi\n"[..]).unwrap();
    b.into_inner().unwrap()
}

fn mkfifo(p: &Path) {
    std::fs::remove_file(p).unwrap();
    bosun_testutil::run_ok(std::process::Command::new("mkfifo").arg(p));
}

#[test]
fn a_fifo_named_as_a_blob_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let l = layer(GZIP, &small_tar());
    let digest: Digest = bosun_testutil::oci::sha256(&l.blob).parse().unwrap();
    layout(tmp.path(), &[l], |_, _| {});
    let store = LayoutStore::open_dir(tmp.path(), Selector::Default).unwrap();
    let image = resolve(&store, None).unwrap();
    let desc = image.layers[0].descriptor.clone();
    assert_eq!(desc.digest, digest);
    mkfifo(&tmp.path().join("blobs/sha256").join(digest.hex()));
    let dir = tmp.path().to_path_buf();
    let e = within(Duration::from_secs(20), move || {
        let store = LayoutStore::open_dir(&dir, Selector::Default).unwrap();
        chain(&store.blob(&desc).err().expect("a FIFO is no blob"))
    });
    assert!(e.contains("FIFO") && e.contains(digest.hex()), "{e}");

    // The same for the layout's own files.
    mkfifo(&tmp.path().join("index.json"));
    let dir = tmp.path().to_path_buf();
    let e = within(Duration::from_secs(20), move || {
        let store = LayoutStore::open_dir(&dir, Selector::Default).unwrap();
        chain(&resolve(&store, None).expect_err("a FIFO index"))
    });
    assert!(e.contains("FIFO") && e.contains("index.json"), "{e}");
}

#[test]
fn a_fifo_named_as_an_archive_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("image.tar");
    std::fs::write(&p, b"").unwrap();
    mkfifo(&p);
    let e = within(Duration::from_secs(20), move || {
        chain(&TarIndex::open(&p).err().expect("a FIFO archive"))
    });
    assert!(e.contains("FIFO") && e.contains("image.tar"), "{e}");
}

/// A layout of one image whose config says linux/amd64; with
/// `index_of_one`, reached through an index whose one entry names no
/// platform.
fn amd64_layout(dir: &Path, index_of_one: bool) {
    layout(dir, &[layer(GZIP, &small_tar())], |_, _| {});
    if index_of_one {
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
        let inner = serde_json::to_vec(&index).unwrap();
        let d = bosun_testutil::oci::put_blob(dir, &inner);
        let outer = serde_json::json!({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": d, "size": inner.len()}
        ]});
        std::fs::write(dir.join("index.json"), serde_json::to_vec(&outer).unwrap()).unwrap();
    }
}

#[test]
fn a_platform_the_image_is_not_is_an_error() {
    for index_of_one in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        amd64_layout(tmp.path(), index_of_one);
        let store = LayoutStore::open_dir(tmp.path(), Selector::Default).unwrap();
        let arm: Platform = "linux/arm64".parse().unwrap();
        let e = resolve(&store, Some(&arm)).expect_err("arm64 asked");
        assert!(matches!(e, OciError::PlatformMismatch { .. }), "{e}");
        let e = e.to_string();
        assert!(
            e.contains("image is linux/amd64, --platform linux/arm64 asked"),
            "{e}"
        );
        let amd: Platform = "linux/amd64".parse().unwrap();
        assert!(resolve(&store, Some(&amd)).is_ok());
        // Without --platform, the only image is the image.
        assert!(resolve(&store, None).is_ok());
    }
}

#[test]
fn an_archive_that_is_a_text_file_is_not_quoted() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("passwd");
    let mut text = String::new();
    for i in 0..40 {
        text.push_str(&format!(
            "user{i}:x:{i}:{i}:secret-gecos-{i}:/home/u{i}:/bin/sh\n"
        ));
    }
    std::fs::write(&p, &text).unwrap();
    for e in [
        chain(&TarIndex::open(&p).err().unwrap()),
        chain(
            &LayoutStore::open_archive(&p, Selector::Default)
                .err()
                .unwrap(),
        ),
    ] {
        assert!(e.contains(&p.display().to_string()), "names the file: {e}");
        assert!(e.contains("byte"), "says where: {e}");
        for word in ["user0", "secret-gecos", "/bin/sh", "home"] {
            assert!(!e.contains(word), "quotes the file ({word}): {e}");
        }
    }
}

/// A server that answers every connection with `head` and then `body`,
/// one byte every `every`, and never closes first.
fn trickling_server(head: &'static [u8], body: Vec<u8>, every: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let body = body.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                for b in head.iter().chain(body.iter()) {
                    if conn.write_all(&[*b]).is_err() {
                        return;
                    }
                    std::thread::sleep(every);
                }
                std::thread::sleep(Duration::from_secs(60));
            });
        }
    });
    addr.to_string()
}

fn trickle_options(timeout: Duration) -> RegistryOptions {
    RegistryOptions {
        insecure: true,
        docker_config: Some("/nonexistent/bosun-test/config.json".into()),
        retries: 2,
        // Each read gets a byte in time: only an overall deadline helps.
        timeouts: Timeouts {
            connect: Duration::from_secs(5),
            read: Duration::from_secs(30),
        },
        timeout,
        ..RegistryOptions::default()
    }
}

#[test]
fn a_registry_trickling_a_blob_hits_the_deadline() {
    let blob = vec![7u8; 4096];
    let desc = Descriptor {
        media_type: GZIP.into(),
        digest: Digest::sha256_of(&blob),
        size: blob.len() as u64,
        platform: None,
        annotations: Default::default(),
        artifact_type: None,
    };
    let host = trickling_server(
        b"HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n",
        blob,
        Duration::from_millis(20),
    );
    let started = Instant::now();
    let e = within(Duration::from_secs(30), move || {
        let reg = Registry::new(&host, &trickle_options(Duration::from_secs(2))).unwrap();
        let mut r = reg.blob("team/app", &desc).unwrap();
        r.read_to_end(&mut Vec::new())
            .expect_err("too slow")
            .to_string()
    });
    assert!(e.contains("timed out after 2s"), "{e}");
    assert!(e.contains("team/app"), "names the blob: {e}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_registry_trickling_headers_hits_the_deadline() {
    // A header line that never ends, a byte at a time.
    let host = trickling_server(
        b"HTTP/1.1 200 OK\r\nX-Slow: ",
        vec![b'a'; 100_000],
        Duration::from_millis(20),
    );
    let started = Instant::now();
    let e = within(Duration::from_secs(30), move || {
        let reg = Registry::new(&host, &trickle_options(Duration::from_secs(2))).unwrap();
        reg.manifest("team/app", "1.0", None, None)
            .expect_err("too slow")
            .to_string()
    });
    assert!(e.contains("timed out after 2s"), "{e}");
    // The deadline is not retried: one wait, not one per attempt.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
