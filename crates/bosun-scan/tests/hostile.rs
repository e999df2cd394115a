//! Hostile and broken images: each gives a clear error naming what and
//! where (or a recorded unknown while the rest carries on), never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use bosun_core::Digest;
use bosun_scan::{Quiet, ScanError, ScanOptions, Target, scan};

use bosun_testutil::oci::{GZIP, TAR, ZSTD, layer, layout, put_blob};

/// A tar member: path, content, and an optional symlink target.
struct Member<'a>(&'a str, &'a [u8], Option<&'a str>);

fn tar(members: &[Member]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for Member(name, data, link) in members {
        let mut h = tar::Header::new_gnu();
        let gnu = h.as_gnu_mut().unwrap();
        gnu.name[..name.len()].copy_from_slice(name.as_bytes());
        match link {
            Some(t) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_link_name(t).unwrap();
                h.set_size(0);
            }
            None => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(data.len() as u64);
            }
        }
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, if link.is_some() { &[][..] } else { *data })
            .unwrap();
    }
    b.into_inner().unwrap()
}

fn run(dir: &Path) -> Result<bosun_scan::Scanned, ScanError> {
    run_with(dir, &ScanOptions::default())
}

fn run_with(dir: &Path, opts: &ScanOptions) -> Result<bosun_scan::Scanned, ScanError> {
    let t = Target::parse(&format!("oci:{}", dir.display())).unwrap();
    scan(&t, opts, &Quiet)
}

const OS_RELEASE: &[u8] = b"ID=debian\nVERSION_ID=\"12\"\n";

#[test]
fn a_good_image_scans() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tar(&[Member("etc/os-release", OS_RELEASE, None)]);
    layout(
        tmp.path(),
        &[layer(GZIP, &t), layer(ZSTD, &t), layer(TAR, &t)],
        |_, _| {},
    );
    let s = run(tmp.path()).unwrap();
    assert_eq!(s.catalog.distro.unwrap().id, "debian");
}

#[test]
fn blob_digest_mismatch_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tar(&[Member("etc/os-release", OS_RELEASE, None)]);
    let l = layer(GZIP, &t);
    layout(tmp.path(), &[l], |_, _| {});
    // Replace the layer blob's content in place, same size.
    let d = Digest::sha256_of(&layer(GZIP, &t).blob);
    let p = tmp.path().join("blobs/sha256").join(d.hex());
    let mut bytes = std::fs::read(&p).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 0xff; // inside the gzip trailer: still decodes up to there
    std::fs::write(&p, &bytes).unwrap();
    let e = run(tmp.path()).err().expect("tampered blob must fail");
    // The message and its causes, as the CLI prints them.
    let e = bosun_core::text::chain(&e);
    assert!(
        e.contains("digest") || e.contains("crc") || e.contains("corrupt"),
        "{e}"
    );
    assert!(e.contains(d.hex()), "error should name the layer: {e}");
}

#[test]
fn diff_id_mismatch_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tar(&[Member("etc/os-release", OS_RELEASE, None)]);
    layout(tmp.path(), &[layer(GZIP, &t)], |cfg, _| {
        cfg["rootfs"]["diff_ids"][0] = Digest::sha256_of(b"another layer").to_string().into();
    });
    let verify = ScanOptions {
        verify_diff_ids: true,
        ..ScanOptions::default()
    };
    let e = run_with(tmp.path(), &verify)
        .err()
        .expect("wrong diff_id must fail");
    assert!(matches!(e, ScanError::DiffIdMismatch { .. }), "{e}");
    // By default only blob digests are checked; the content is still the
    // verified blob's, so the scan stands.
    assert!(run(tmp.path()).is_ok());
}

#[test]
fn truncated_layers_are_errors() {
    for mt in [GZIP, ZSTD] {
        let tmp = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let t = tar(&[Member("data.bin", &big, None)]);
        let mut l = layer(mt, &t);
        l.blob.truncate(l.blob.len() / 2);
        layout(tmp.path(), &[l], |_, _| {});
        let e = run(tmp.path())
            .err()
            .unwrap_or_else(|| panic!("truncated {mt} must fail"));
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn manifest_that_is_not_json() {
    let tmp = tempfile::tempdir().unwrap();
    layout(tmp.path(), &[], |_, _| {});
    let junk = b"<html>not a manifest</html>";
    let d = put_blob(tmp.path(), junk);
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d.to_string(), "size": junk.len()}]});
    std::fs::write(
        tmp.path().join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
    let e = run(tmp.path()).err().unwrap().to_string();
    assert!(
        e.contains("not valid JSON") && e.contains(d.trim_start_matches("sha256:")),
        "{e}"
    );
}

#[test]
fn huge_config_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    layout(tmp.path(), &[], |cfg, _| {
        cfg["padding"] = "x".repeat(5 << 20).into();
    });
    let e = run(tmp.path()).err().unwrap().to_string();
    assert!(e.contains("more than"), "{e}");
}

#[test]
fn unknown_layer_media_type() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tar(&[Member("etc/os-release", OS_RELEASE, None)]);
    layout(tmp.path(), &[layer(TAR, &t)], |_, m| {
        m["layers"][0]["mediaType"] = "application/x-mystery".into();
    });
    let e = run(tmp.path()).err().unwrap().to_string();
    assert!(e.contains("application/x-mystery"), "{e}");
}

#[test]
fn escaping_entries_and_symlinks_stay_inside() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tar(&[
        Member("../../etc/passwd", b"root:x:0:0", None),
        Member("usr/lib/os-release", OS_RELEASE, None),
        Member(
            "etc/os-release",
            b"",
            Some("../../../../../../usr/lib/os-release"),
        ),
        Member("loop/a", b"", Some("/loop/b")),
        Member("loop/b", b"", Some("/loop/a")),
        Member("var/lib/dpkg/status", b"", Some("/loop/a")),
    ]);
    layout(tmp.path(), &[layer(GZIP, &t)], |_, _| {});
    let s = run(tmp.path()).unwrap();
    assert_eq!(s.catalog.distro.unwrap().id, "debian");
    assert!(
        s.catalog
            .unknowns
            .iter()
            .any(|u| u.path.contains("../../etc/passwd")),
        "the escaping entry is recorded: {:?}",
        s.catalog.unknowns
    );
}

#[test]
fn whiteouts_hide_lower_layers() {
    let tmp = tempfile::tempdir().unwrap();
    let status = b"Package: gone\nStatus: install ok installed\nVersion: 1.0\nArchitecture: all\n";
    let l0 = tar(&[
        Member("var/lib/dpkg/status", status, None),
        Member("etc/os-release", OS_RELEASE, None),
    ]);
    let l1 = tar(&[
        Member("var/lib/dpkg/.wh.status", b"", None),
        Member("etc/.wh..wh..opq", b"", None),
    ]);
    layout(tmp.path(), &[layer(GZIP, &l0), layer(TAR, &l1)], |_, _| {});
    let s = run(tmp.path()).unwrap();
    assert!(s.catalog.packages.is_empty(), "{:?}", s.catalog.packages);
    assert!(s.catalog.distro.is_none());
}

/// A dpkg database holding one package, written by dpkg itself: the
/// `status` file's bytes.
fn real_dpkg_status(name: &str) -> Vec<u8> {
    let root = tempfile::tempdir().unwrap();
    bosun_testutil::dpkg::install(root.path(), name, &[("/usr/share/doc/x/README", b"x")]);
    std::fs::read(root.path().join("var/lib/dpkg/status")).unwrap()
}

const AWS_CREDENTIALS: &[u8] = b"[default]\naws_access_key_id = AKIAZ7Q3XJ5MEXW2TQ4N\naws_secret_access_key = 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\n";

#[test]
fn entries_climbing_out_are_scanned_where_the_runtime_puts_them() {
    let tmp = tempfile::tempdir().unwrap();
    let status = real_dpkg_status("openssl");
    let t = tar(&[
        Member("etc/os-release", OS_RELEASE, None),
        // containerd unpacks these at /var/lib/dpkg/status and
        // /root/.aws/credentials: `..` stops at the root.
        Member("../var/lib/dpkg/status", &status, None),
        Member("a/../../root/.aws/credentials", AWS_CREDENTIALS, None),
        Member("/etc/hostname", b"box\n", None),
    ]);
    layout(tmp.path(), &[layer(GZIP, &t)], |_, _| {});
    let opts = ScanOptions {
        secrets: true,
        ..ScanOptions::default()
    };
    let s = run_with(tmp.path(), &opts).unwrap();

    let pkg = s
        .catalog
        .packages
        .iter()
        .find(|p| p.name == "openssl")
        .unwrap_or_else(|| panic!("openssl not catalogued: {:?}", s.catalog.packages));
    assert!(
        pkg.locations
            .iter()
            .any(|l| l.path == "/var/lib/dpkg/status"),
        "{:?}",
        pkg.locations
    );
    assert!(
        s.secrets.iter().any(|f| f.path == "/root/.aws/credentials"),
        "secret not found where the runtime puts it: {:#?}",
        s.secrets
    );
    for (raw, placed) in [
        ("../var/lib/dpkg/status", "/var/lib/dpkg/status"),
        ("a/../../root/.aws/credentials", "/root/.aws/credentials"),
        ("/etc/hostname", "/etc/hostname"),
    ] {
        let u = s
            .catalog
            .unknowns
            .iter()
            .find(|u| u.path == raw)
            .unwrap_or_else(|| panic!("{raw} not reported: {:#?}", s.catalog.unknowns));
        assert_eq!(u.kind, bosun_core::UnknownKind::Suspicious, "{u:?}");
        assert_eq!(u.cataloger, "layer-walker");
        assert!(u.message.contains(&format!("placed at {placed}")), "{u:?}");
        assert!(u.layer.is_some(), "{u:?}");
    }
}

#[test]
fn skipped_entries_are_suspicious_unknowns() {
    let tmp = tempfile::tempdir().unwrap();
    let long = format!("{}/x", "d/".repeat(2100));
    let t = tar(&[
        Member("etc/os-release", OS_RELEASE, None),
        Member("usr/.wh.", b"", None),
    ]);
    // A GNU long name carries the overlong path.
    let mut b = tar::Builder::new(t[..t.len() - 1024].to_vec());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(1);
    h.set_mode(0o644);
    b.append_data(&mut h, &long, &b"x"[..]).unwrap();
    let t = b.into_inner().unwrap();
    layout(tmp.path(), &[layer(GZIP, &t)], |_, _| {});
    let s = run(tmp.path()).unwrap();
    let kinds: Vec<_> = s
        .catalog
        .unknowns
        .iter()
        .filter(|u| u.cataloger == "layer-walker")
        .map(|u| (u.kind, u.message.clone()))
        .collect();
    assert_eq!(kinds.len(), 2, "{kinds:#?}");
    assert!(
        kinds
            .iter()
            .all(|(k, _)| *k == bosun_core::UnknownKind::Suspicious),
        "{kinds:#?}"
    );
    assert!(
        kinds.iter().any(|(_, m)| m.contains("whiteout")),
        "{kinds:#?}"
    );
    assert!(
        kinds.iter().any(|(_, m)| m.contains("longer than")),
        "{kinds:#?}"
    );
}

#[test]
fn a_corrupted_layer_is_a_digest_mismatch() {
    for mt in [GZIP, ZSTD] {
        let tmp = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..400_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let t = tar(&[Member("data.bin", &big, None)]);
        let l = layer(mt, &t);
        let d = Digest::sha256_of(&l.blob);
        layout(tmp.path(), &[l], |_, _| {});
        // One flipped byte in the middle of the stored blob: the inflater
        // fails long before the end, where the digest is checked.
        let p = tmp.path().join("blobs/sha256").join(d.hex());
        let mut bytes = std::fs::read(&p).unwrap();
        let mid = bytes.len() / 3;
        bytes[mid] ^= 0x5a;
        std::fs::write(&p, &bytes).unwrap();
        let e = bosun_core::text::chain(
            &run(tmp.path())
                .err()
                .unwrap_or_else(|| panic!("corrupted {mt} must fail")),
        );
        assert!(e.contains("digest mismatch"), "{mt}: {e}");
        assert!(e.contains(d.hex()), "{mt}: names the layer: {e}");
    }
}

/// A hundred hard links to one kept package database (at paths catalogers
/// want) must not make a hundred copies of it: copies past the budget are
/// incomplete results, and links at paths nobody wants copy nothing.
#[test]
fn hard_links_to_a_kept_database_are_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    // A dpkg status file of 6 MiB (one package, a long description).
    let mut status = b"Package: big\nStatus: install ok installed\nVersion: 1.0\nArchitecture: all\nDescription: x\n".to_vec();
    while status.len() < 6 << 20 {
        status.extend_from_slice(b" padding padding padding padding padding padding padding\n");
    }
    status.push(b'\n');
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_path("var/lib/dpkg/status").unwrap();
    h.set_size(status.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    b.append(&h, &status[..]).unwrap();
    let link = |b: &mut tar::Builder<Vec<u8>>, name: &str| {
        let mut h = tar::Header::new_gnu();
        h.set_path(name).unwrap();
        h.set_entry_type(tar::EntryType::Link);
        h.set_link_name("var/lib/dpkg/status").unwrap();
        h.set_size(0);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, &[][..]).unwrap();
    };
    for i in 0..100 {
        link(&mut b, &format!("var/lib/dpkg/status.d/p{i}"));
        link(&mut b, &format!("srv/junk/{i}"));
    }
    let t = b.into_inner().unwrap();
    layout(tmp.path(), &[layer(GZIP, &t)], |_, _| {});
    let s = run(tmp.path()).unwrap();
    let incomplete: Vec<_> = s
        .catalog
        .unknowns
        .iter()
        .filter(|u| u.kind == bosun_core::UnknownKind::Incomplete)
        .collect();
    // 64 MiB of copies hold ten 6 MiB links; the other ninety are reported.
    assert_eq!(incomplete.len(), 90, "{:?}", s.catalog.unknowns);
    assert!(
        incomplete
            .iter()
            .all(|u| u.path.starts_with("/var/lib/dpkg/status.d/")
                && u.message.contains("hard-linked")),
        "{incomplete:?}"
    );
}
