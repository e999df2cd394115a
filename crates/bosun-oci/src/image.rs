//! From a store's root document to one image: index -> platform -> manifest -> config.

use std::fmt;
use std::str::FromStr;

use bosun_core::Digest;

use crate::manifest::{Descriptor, ImageConfig, Index, Manifest, Sniff};
use crate::media::{self, Compression};
use crate::store::{Fetched, Store, read_small_blob};
use crate::{MAX_JSON_SIZE, OciError};

/// `os/arch[/variant]`, as `--platform` spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl FromStr for Platform {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => Ok(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: None,
            }),
            [os, arch, variant] if !os.is_empty() && !arch.is_empty() && !variant.is_empty() => {
                Ok(Platform {
                    os: os.to_string(),
                    architecture: arch.to_string(),
                    variant: Some(variant.to_string()),
                })
            }
            _ => Err(format!("platform {s:?} is not os/arch[/variant]")),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl Platform {
    /// The platform this binary runs on, the default choice from an index.
    pub fn host() -> Platform {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            other => other,
        };
        Platform {
            os: "linux".into(),
            architecture: architecture.into(),
            variant: None,
        }
    }

    fn matches(&self, p: &crate::manifest::PlatformSpec) -> bool {
        if p.os != self.os || p.architecture != self.architecture {
            return false;
        }
        match (&self.variant, &p.variant) {
            (Some(want), Some(have)) => want == have,
            (Some(want), None) => {
                // arm64's default variant is v8.
                self.architecture == "arm64" && want == "v8"
            }
            (None, _) => true,
        }
    }
}

/// A layer as the pipeline needs it.
#[derive(Debug, Clone)]
pub struct Layer {
    pub descriptor: Descriptor,
    pub diff_id: Digest,
    pub compression: Compression,
}

/// One image, fully resolved and verified except for its layer blobs.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    pub manifest_digest: Digest,
    pub manifest_media_type: String,
    pub manifest: Manifest,
    pub config_bytes: Vec<u8>,
    pub config: ImageConfig,
    pub layers: Vec<Layer>,
}

/// Resolve the store's root to one image for `platform` (the host's when None
/// and the root is an index).
pub fn resolve(store: &dyn Store, platform: Option<&Platform>) -> Result<ResolvedImage, OciError> {
    let mut doc = store.root()?;
    // Whether an index entry's platform matched `platform`; if not, the
    // image's config must.
    let mut chosen_by_platform = false;
    // Indexes may nest (an index of indexes); bound the depth.
    for _ in 0..4 {
        let mt = media_type_of(store, &doc)?;
        if media::is_index(&mt) {
            let what = format!("{} index {}", store.describe(), doc.digest);
            let index: Index = parse_json(&what, &doc.bytes)?;
            let (child, matched) = pick(&what, &index, platform)?;
            chosen_by_platform |= matched;
            doc = store.manifest(child)?;
            continue;
        }
        if media::is_manifest(&mt) {
            let image = image_from_manifest(store, doc, mt)?;
            if let Some(want) = platform.filter(|_| !chosen_by_platform) {
                check_platform(store, &image, want)?;
            }
            return Ok(image);
        }
        return Err(OciError::UnsupportedMediaType {
            what: format!("{} manifest {}", store.describe(), doc.digest),
            media_type: mt,
        });
    }
    Err(OciError::invalid(
        store.describe(),
        "indexes nested more than 4 deep",
    ))
}

fn media_type_of(store: &dyn Store, doc: &Fetched) -> Result<String, OciError> {
    let what = format!("{} manifest {}", store.describe(), doc.digest);
    let sniff: Sniff = parse_json(&what, &doc.bytes)?;
    if let Some(mt) = sniff.media_type.filter(|m| !m.is_empty()) {
        return Ok(mt);
    }
    if let Some(mt) = doc
        .media_type
        .clone()
        .filter(|m| !m.is_empty() && m != "application/json")
    {
        return Ok(mt);
    }
    // OCI allows documents without mediaType; tell them apart by shape.
    match (
        sniff.manifests.is_some(),
        sniff.config.is_some(),
        sniff.schema_version,
    ) {
        (true, false, Some(2)) => Ok(media::OCI_INDEX.into()),
        (false, true, Some(2)) => Ok(media::OCI_MANIFEST.into()),
        (_, _, Some(1)) => Err(OciError::UnsupportedMediaType {
            what,
            media_type: "Docker schema 1 manifest (deprecated, unsigned layers)".into(),
        }),
        _ => Err(OciError::invalid(
            what,
            "neither an image index nor an image manifest",
        )),
    }
}

/// The entry of `index` to follow, and whether its platform matched.
fn pick<'a>(
    what: &str,
    index: &'a Index,
    platform: Option<&Platform>,
) -> Result<(&'a Descriptor, bool), OciError> {
    let images: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|d| {
            d.media_type.is_empty()
                || media::is_manifest(&d.media_type)
                || media::is_index(&d.media_type)
        })
        // attestation manifests in buildkit indexes have platform unknown/unknown
        .filter(|d| d.platform.as_ref().is_none_or(|p| p.os != "unknown"))
        .collect();
    if images.is_empty() {
        return Err(OciError::invalid(what, "index lists no image manifests"));
    }
    let without_platform = images.iter().all(|d| d.platform.is_none());
    if without_platform && images.len() == 1 {
        return Ok((images[0], false));
    }
    let want = platform.cloned().unwrap_or_else(Platform::host);
    if let Some(d) = images
        .iter()
        .find(|d| d.platform.as_ref().is_some_and(|p| want.matches(p)))
    {
        return Ok((d, true));
    }
    if platform.is_none() && images.len() == 1 {
        return Ok((images[0], false));
    }
    let available = images
        .iter()
        .map(|d| match &d.platform {
            Some(p) => match &p.variant {
                Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
                None => format!("{}/{}", p.os, p.architecture),
            },
            None => "(unspecified)".into(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    Err(OciError::NoMatchingPlatform {
        index: what.to_string(),
        wanted: want.to_string(),
        available,
    })
}

/// An image reached without a choice by platform (a single manifest, or
/// an index whose one entry names none; an index entry that names its
/// platform is trusted, as runtimes trust it) must still be the platform asked
/// for: scanning another one silently would report on software that never
/// runs there. The config says what the image is; one that does not say is
/// taken as it is.
fn check_platform(
    store: &dyn Store,
    image: &ResolvedImage,
    want: &Platform,
) -> Result<(), OciError> {
    let cfg = &image.config;
    if cfg.os.is_empty() || cfg.architecture.is_empty() {
        return Ok(());
    }
    let have = crate::manifest::PlatformSpec {
        architecture: cfg.architecture.clone(),
        os: cfg.os.clone(),
        variant: cfg.variant.clone(),
        os_version: None,
    };
    if want.matches(&have) {
        return Ok(());
    }
    let is = Platform {
        os: have.os,
        architecture: have.architecture,
        variant: have.variant,
    };
    Err(OciError::PlatformMismatch {
        image: store.describe(),
        is: is.to_string(),
        wanted: want.to_string(),
    })
}

fn image_from_manifest(
    store: &dyn Store,
    doc: Fetched,
    media_type: String,
) -> Result<ResolvedImage, OciError> {
    let what = format!("{} manifest {}", store.describe(), doc.digest);
    let manifest: Manifest = parse_json(&what, &doc.bytes)?;
    let config_bytes = read_small_blob(store, &manifest.config, MAX_JSON_SIZE)?;
    let config_what = format!("{} config {}", store.describe(), manifest.config.digest);
    let config: ImageConfig = parse_json(&config_what, &config_bytes)?;
    if config.rootfs.diff_ids.len() != manifest.layers.len() {
        return Err(OciError::invalid(
            config_what,
            format!(
                "config lists {} diff_ids but the manifest has {} layers",
                config.rootfs.diff_ids.len(),
                manifest.layers.len()
            ),
        ));
    }
    let mut layers = Vec::with_capacity(manifest.layers.len());
    for (desc, diff_id) in manifest.layers.iter().zip(&config.rootfs.diff_ids) {
        let compression = media::layer_compression(&desc.media_type).ok_or_else(|| {
            OciError::UnsupportedMediaType {
                what: format!("{} layer {}", store.describe(), desc.digest),
                media_type: desc.media_type.clone(),
            }
        })?;
        layers.push(Layer {
            descriptor: desc.clone(),
            diff_id: diff_id.clone(),
            compression,
        });
    }
    Ok(ResolvedImage {
        manifest_digest: doc.digest,
        manifest_media_type: media_type,
        manifest,
        config_bytes,
        config,
        layers,
    })
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    what: &str,
    bytes: &[u8],
) -> Result<T, OciError> {
    if bytes.len() as u64 > MAX_JSON_SIZE {
        return Err(OciError::TooLarge {
            what: what.to_string(),
            size: bytes.len() as u64,
            limit: MAX_JSON_SIZE,
        });
    }
    serde_json::from_slice(bytes).map_err(|error| OciError::Json {
        what: what.to_string(),
        error,
    })
}
