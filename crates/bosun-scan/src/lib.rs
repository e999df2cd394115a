//! bosun's library entry point: resolve a target, analyse each layer once
//! (or take its analysis from the cache), merge the layers into the final
//! filesystem, run the catalogers, and describe the result as an SBOM.

pub mod analyze;
pub mod cache;
pub mod error;
pub mod merge;
pub mod pipe;
pub mod secrets;
pub mod target;

use std::collections::HashMap;
use std::path::PathBuf;

use bosun_catalog::Catalog;
use bosun_core::Digest;
use bosun_oci::{Platform, ResolvedImage, Store};
use bosun_sbom::{HistoryEntry, ImageMetadata, LayerInfo, Sbom, SourceInfo, SourceKind, Tool};

pub use error::ScanError;
pub use secrets::SecretFinding;
pub use target::Target;

/// Reports progress; the CLI draws bars from it, tests ignore it.
pub trait Observer: Sync {
    /// A layer starts: its index, digest and compressed size.
    fn layer_started(&self, _index: usize, _digest: &Digest, _size: u64) {}
    /// `bytes` more compressed bytes of layer `index` were read.
    fn layer_progress(&self, _index: usize, _bytes: u64) {}
    fn layer_finished(&self, _index: usize, _from_cache: bool) {}
}

/// An observer that reports nothing.
pub struct Quiet;
impl Observer for Quiet {}

#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub platform: Option<Platform>,
    /// Where analysed layers are kept; None disables the cache.
    pub cache_dir: Option<PathBuf>,
    pub registry: bosun_oci::registry::RegistryOptions,
    /// At most this many layers are analysed at once.
    pub parallel_layers: usize,
    /// Also hash each layer's uncompressed tar and check it against the
    /// config's diff_id. Blob digests (what manifests bind) are always
    /// checked; this costs one more SHA-256 pass over the uncompressed data.
    pub verify_diff_ids: bool,
    /// Also search every file of every layer (deleted ones too) and the
    /// image config for secrets. Off, a scan costs nothing extra.
    pub secrets: bool,
    /// Custom rules and allow-lists for the secret scanner (`bosun.yaml`).
    pub secret_config: bosun_secret::Config,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            platform: None,
            cache_dir: None,
            registry: Default::default(),
            parallel_layers: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            verify_diff_ids: false,
            secrets: false,
            secret_config: Default::default(),
        }
    }
}

/// What a scan of a target found, before it is written in any format.
pub struct Scanned {
    pub source: SourceInfo,
    pub catalog: Catalog,
    /// Empty unless `ScanOptions::secrets`: layer files in layer order,
    /// then the image config.
    pub secrets: Vec<SecretFinding>,
}

/// Catalog a target.
pub fn scan(
    target: &Target,
    opts: &ScanOptions,
    observer: &dyn Observer,
) -> Result<Scanned, ScanError> {
    let scanner = opts
        .secrets
        .then(|| bosun_secret::Scanner::new(&opts.secret_config))
        .transpose()?;
    let mut scanned = scan_with(target, opts, scanner.as_ref(), observer)?;
    // What is written out about the target never carries a secret, whether
    // or not the secret scanner ran.
    let redactor = match scanner {
        Some(s) => s,
        None => bosun_secret::Scanner::new(&opts.secret_config)?,
    };
    secrets::redact_source(&redactor, &mut scanned.source);
    for u in &mut scanned.catalog.unknowns {
        if let std::borrow::Cow::Owned(m) = redactor.redact_text(&u.path, &u.message) {
            u.message = m;
        }
    }
    Ok(scanned)
}

fn scan_with(
    target: &Target,
    opts: &ScanOptions,
    scanner: Option<&bosun_secret::Scanner>,
    observer: &dyn Observer,
) -> Result<Scanned, ScanError> {
    match target {
        Target::Dir(path) => {
            let analyze::DirAnalysis {
                index,
                secrets: found,
                package_files,
            } = analyze::analyze_dir_with(path, scanner)?;
            let packages: HashMap<String, String> = package_files.into_iter().collect();
            let catalog = bosun_catalog::catalog(&index);
            let name = path
                .canonicalize()
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| path.display().to_string());
            Ok(Scanned {
                source: SourceInfo {
                    kind: SourceKind::Directory,
                    target: target.to_string(),
                    name,
                    version: None,
                    image: None,
                },
                catalog,
                secrets: found
                    .into_iter()
                    .map(|(p, m)| {
                        let package = packages.get(&p).cloned();
                        SecretFinding::in_dir(p, m, package)
                    })
                    .collect(),
            })
        }
        _ => {
            let store = target.open_store(&opts.registry)?;
            let image = bosun_oci::resolve(store.as_ref(), opts.platform.as_ref())?;
            let analyses =
                analyze::analyze_layers_with(store.as_ref(), &image, opts, scanner, observer)?;
            let (index, rejected, mut secrets) = merge::merge_with_secrets(&image, analyses);
            if let Some(s) = scanner {
                secrets.extend(secrets::scan_config(s, &image));
            }
            let mut catalog = bosun_catalog::catalog(&index);
            catalog.unknowns.extend(rejected);
            catalog.unknowns.sort();
            Ok(Scanned {
                source: image_source(target, store.as_ref(), &image),
                catalog,
                secrets,
            })
        }
    }
}

/// Build the SBOM document; `created` is seconds since the epoch.
pub fn to_sbom(scanned: Scanned, created: i64) -> Sbom {
    let Scanned {
        source, catalog, ..
    } = scanned;
    Sbom {
        tool: Tool {
            name: "bosun".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        created,
        source,
        distro: catalog.distro,
        packages: catalog.packages,
        relationships: catalog.relationships,
        unknowns: catalog.unknowns,
    }
}

fn image_source(target: &Target, store: &dyn Store, image: &ResolvedImage) -> SourceInfo {
    let cfg = &image.config;
    let cc = cfg.config.clone().unwrap_or_default();
    let env_names = cc
        .env
        .unwrap_or_default()
        .iter()
        .map(|e| e.split_once('=').map(|(k, _)| k).unwrap_or(e).to_string())
        .collect();
    let metadata = ImageMetadata {
        manifest_digest: Some(image.manifest_digest.clone()),
        manifest_media_type: image.manifest_media_type.clone(),
        config_digest: Some(image.manifest.config.digest.clone()),
        os: cfg.os.clone(),
        architecture: cfg.architecture.clone(),
        variant: cfg.variant.clone(),
        user: cc.user.filter(|u| !u.is_empty()),
        env_names,
        labels: cc.labels.unwrap_or_default(),
        exposed_ports: cc.exposed_ports.unwrap_or_default().into_keys().collect(),
        entrypoint: cc.entrypoint.unwrap_or_default(),
        cmd: cc.cmd.unwrap_or_default(),
        working_dir: cc.working_dir.filter(|w| !w.is_empty()),
        created: cfg.created.clone(),
        layers: image
            .layers
            .iter()
            .map(|l| LayerInfo {
                media_type: l.descriptor.media_type.clone(),
                digest: l.descriptor.digest.clone(),
                diff_id: l.diff_id.clone(),
                size: l.descriptor.size,
            })
            .collect(),
        history: cfg
            .history
            .iter()
            .map(|h| HistoryEntry {
                created: h.created.clone(),
                created_by: h.created_by.clone(),
                comment: h.comment.clone(),
                empty_layer: h.empty_layer.unwrap_or(false),
            })
            .collect(),
        tags: store.tags(),
    };
    SourceInfo {
        kind: SourceKind::Image,
        target: target.to_string(),
        name: target.image_name(),
        version: Some(image.manifest_digest.to_string()),
        image: Some(metadata),
    }
}
