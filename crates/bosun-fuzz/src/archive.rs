//! The layer walker and the image front doors (manifests, indexes,
//! configs, docker and OCI archives).

use std::io::{Read, Write};
use std::sync::OnceLock;

use bosun_core::Digest;
use bosun_oci::image::Layer;
use bosun_oci::manifest::{Descriptor, ImageConfig, Index, Manifest};
use bosun_oci::media::Compression;
use bosun_oci::{Fetched, OciError, ResolvedImage, Store};

use crate::pick;

/// The built-in secret rules, compiled once per process (compiling them per
/// input would drown the fuzzer's speed in regex building).
fn scanner() -> Option<&'static bosun_secret::Scanner> {
    static SCANNER: OnceLock<Option<bosun_secret::Scanner>> = OnceLock::new();
    SCANNER
        .get_or_init(|| bosun_secret::Scanner::new(&bosun_secret::Config::default()).ok())
        .as_ref()
}

/// A layer blob as a registry would serve it (gzip, zstd or plain tar, the
/// bytes decide): walked with the secret scanner on, merged into a one-layer
/// image and cataloged, as `bosun scan` does.
pub fn layer(data: &[u8]) {
    let Ok((reader, _)) = bosun_oci::layer::decompress(data, Compression::None) else {
        return;
    };
    let Ok(analysis) = bosun_scan::analyze::analyze_tar_with(reader, "fuzz", scanner()) else {
        return;
    };
    let image = one_layer_image();
    let (index, _unknowns, _secrets) =
        bosun_scan::merge::merge_with_secrets(&image, vec![analysis]);
    let _ = bosun_catalog::catalog(&index);
}

fn one_layer_image() -> ResolvedImage {
    let diff_id = Digest::sha256_of(b"fuzz layer");
    let layer = Descriptor {
        media_type: bosun_oci::media::OCI_LAYER_GZIP.into(),
        digest: diff_id.clone(),
        size: 0,
        platform: None,
        annotations: Default::default(),
        artifact_type: None,
    };
    let config = Descriptor {
        media_type: bosun_oci::media::OCI_CONFIG.into(),
        digest: Digest::sha256_of(b"fuzz config"),
        size: 0,
        platform: None,
        annotations: Default::default(),
        artifact_type: None,
    };
    ResolvedImage {
        manifest_digest: Digest::sha256_of(b"fuzz manifest"),
        manifest_media_type: bosun_oci::media::OCI_MANIFEST.into(),
        manifest: Manifest {
            schema_version: 2,
            media_type: None,
            config,
            layers: vec![layer.clone()],
            subject: None,
            annotations: Default::default(),
        },
        config_bytes: Vec::new(),
        config: ImageConfig::default(),
        layers: vec![Layer {
            descriptor: layer,
            diff_id,
            compression: Compression::Gzip,
        }],
    }
}

/// A store whose root is the fuzz input and whose every manifest and blob
/// is the input again: indexes that point at themselves, configs whose
/// digest cannot match.
struct MemStore<'a> {
    bytes: &'a [u8],
    media_type: Option<&'static str>,
}

impl Store for MemStore<'_> {
    fn describe(&self) -> String {
        "fuzz".into()
    }
    fn root(&self) -> Result<Fetched, OciError> {
        Ok(Fetched {
            bytes: self.bytes.to_vec(),
            media_type: self.media_type.map(str::to_string),
            digest: Digest::sha256_of(self.bytes),
        })
    }
    fn manifest(&self, desc: &Descriptor) -> Result<Fetched, OciError> {
        Ok(Fetched {
            bytes: self.bytes.to_vec(),
            media_type: Some(desc.media_type.clone()),
            digest: desc.digest.clone(),
        })
    }
    fn blob(&self, _desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>, OciError> {
        Ok(Box::new(self.bytes))
    }
}

/// Media types a transport may declare for the root.
const DECLARED: &[Option<&str>] = &[
    None,
    Some(bosun_oci::media::OCI_INDEX),
    Some(bosun_oci::media::OCI_MANIFEST),
    Some("application/json"),
];

/// Image documents: the first byte picks resolve over an in-memory store
/// (with each declared media type), the config or index or manifest parsed
/// alone, or the input written out as a `docker save` tarball or an OCI
/// archive, opened, resolved, and its layers walked.
pub fn image(data: &[u8]) {
    let (choice, bytes) = pick(data, DECLARED.len() + 5);
    if let Some(declared) = DECLARED.get(choice) {
        let store = MemStore {
            bytes,
            media_type: *declared,
        };
        let _ = bosun_oci::resolve(&store, None);
        return;
    }
    match choice - DECLARED.len() {
        0 => drop(serde_json::from_slice::<ImageConfig>(bytes)),
        1 => drop(serde_json::from_slice::<Index>(bytes)),
        2 => drop(serde_json::from_slice::<Manifest>(bytes)),
        3 => with_file(bytes, |p| {
            if let Ok(store) = bosun_oci::archive::DockerArchiveStore::open(p, None) {
                walk_store(&store);
            }
        }),
        _ => with_file(bytes, |p| {
            let selector = bosun_oci::layout::Selector::Default;
            if let Ok(store) = bosun_oci::layout::LayoutStore::open_archive(p, selector) {
                walk_store(&store);
            }
        }),
    }
}

fn with_file(bytes: &[u8], f: impl FnOnce(&std::path::Path)) {
    let Ok(mut file) = tempfile::NamedTempFile::new() else {
        return;
    };
    if file.write_all(bytes).and_then(|()| file.flush()).is_err() {
        return;
    }
    f(file.path());
}

/// Resolve the store's image and walk (a few of) its layers.
fn walk_store(store: &dyn Store) {
    let Ok(image) = bosun_oci::resolve(store, None) else {
        return;
    };
    for l in image.layers.iter().take(4) {
        let Ok(blob) = store.blob(&l.descriptor) else {
            continue;
        };
        if let Ok((reader, _)) = bosun_oci::layer::decompress(blob, l.compression) {
            let _ = bosun_scan::analyze::analyze_tar(reader, "fuzz");
        }
    }
}
