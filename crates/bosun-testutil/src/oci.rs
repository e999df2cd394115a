//! Small OCI image layouts written by tests, layer by layer, with a hook to
//! tamper with the config or manifest before they are stored.

use std::io::Write;
use std::path::Path;

use sha2::{Digest as _, Sha256};

pub const GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
pub const TAR: &str = "application/vnd.oci.image.layer.v1.tar";

/// A layer blob as stored, and the diff_id of its tar.
pub struct Layer {
    pub media_type: &'static str,
    pub blob: Vec<u8>,
    pub diff_id: String,
}

/// `sha256:HEX` of `data`.
pub fn sha256(data: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(data)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A layer of `raw_tar`, compressed as `media_type` says.
pub fn layer(media_type: &'static str, raw_tar: &[u8]) -> Layer {
    let blob = match media_type {
        GZIP => gzip(raw_tar),
        ZSTD => zstd::encode_all(raw_tar, 3).unwrap(),
        _ => raw_tar.to_vec(),
    };
    Layer {
        media_type,
        blob,
        diff_id: sha256(raw_tar),
    }
}

/// Store `data` under `dir/blobs/sha256`; its digest.
pub fn put_blob(dir: &Path, data: &[u8]) -> String {
    let d = sha256(data);
    let hex = d.trim_start_matches("sha256:");
    std::fs::write(dir.join("blobs/sha256").join(hex), data).unwrap();
    d
}

/// Write an OCI layout of `layers`; `tamper` may change the config or
/// manifest JSON before it is stored.
pub fn layout(
    dir: &Path,
    layers: &[Layer],
    tamper: impl Fn(&mut serde_json::Value, &mut serde_json::Value),
) {
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let mut config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>()},
    });
    let mut descs = Vec::new();
    for l in layers {
        let d = put_blob(dir, &l.blob);
        descs.push(
            serde_json::json!({"mediaType": l.media_type, "digest": d, "size": l.blob.len()}),
        );
    }
    let mut manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json"},
        "layers": descs,
    });
    tamper(&mut config, &mut manifest);
    let cfg = serde_json::to_vec(&config).unwrap();
    let cd = put_blob(dir, &cfg);
    if manifest["config"].get("digest").is_none() {
        manifest["config"]["digest"] = cd.into();
        manifest["config"]["size"] = cfg.len().into();
    }
    let man = serde_json::to_vec(&manifest).unwrap();
    let md = put_blob(dir, &man);
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": man.len()}
    ]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

/// An OCI layout at `dir` of one gzip layer holding the tree at `root` (as
/// `tar` stores it, symlinks not followed).
pub fn layout_of_tree(dir: &Path, root: &Path) {
    let mut b = tar::Builder::new(Vec::new());
    b.follow_symlinks(false);
    b.append_dir_all(".", root).unwrap();
    let raw = b.into_inner().unwrap();
    layout(dir, &[layer(GZIP, &raw)], |_, _| {});
}

/// A tar of regular files `(name, content)` with the names written exactly
/// as given, `..` and leading `/` included, the way a hostile tool writes
/// them (`tar::Header::set_path` refuses such names, as honest tools do).
/// Names up to 100 bytes.
pub fn raw_tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap()
}
