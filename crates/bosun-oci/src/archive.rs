//! Images packed in tar files: an index of the tar's members for random
//! access (used for `oci-archive:`), and `docker save` archives
//! (`docker-archive:FILE[:TAG]`).

use std::collections::HashMap;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use bosun_core::Digest;
use bosun_core::digest::VerifyingReader;
use serde::Deserialize;

use crate::layer::{Tracked, normalize_entry_path};
use crate::layout::{Files, open_regular};
use crate::manifest::{Descriptor, ImageConfig, Manifest};
use crate::media;
use crate::store::{Fetched, Store};
use crate::{MAX_JSON_SIZE, OciError};

/// Member offsets of an uncompressed tar file, so members can be read in
/// any order (and from several threads) without unpacking anything.
pub struct TarIndex {
    path: PathBuf,
    members: HashMap<String, (u64, u64)>,
    links: HashMap<String, String>,
}

/// Archives with more members than this are not images.
const MAX_MEMBERS: usize = 1_000_000;

impl TarIndex {
    pub fn open(path: &Path) -> Result<TarIndex, OciError> {
        let what = path.display().to_string();
        let (f, _) = open_regular(path).map_err(|e| OciError::io(what.clone(), e))?;
        let mut archive = tar::Archive::new(Tracked::new(f));
        let mut members = HashMap::new();
        let mut links = HashMap::new();
        let mut entries = archive
            .entries_with_seek()
            .map_err(|e| OciError::io(what.clone(), e))?;
        loop {
            let entry = match entries.next() {
                None => break,
                Some(Ok(entry)) => entry,
                Some(Err(e)) => {
                    let tracked = archive.into_inner();
                    // The tar crate's messages quote the bytes it could not
                    // parse: for a file that is not a tar (`/etc/passwd`),
                    // its content. Say where, never what.
                    let e = if tracked.failed {
                        e
                    } else {
                        tracked.malformed("tar header (not a tar archive?)")
                    };
                    return Err(OciError::io(what, e));
                }
            };
            if members.len() + links.len() > MAX_MEMBERS {
                return Err(OciError::invalid(what, "more than a million tar members"));
            }
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let Some(name) = normalize_entry_path(&raw) else {
                continue;
            };
            let et = entry.header().entry_type();
            if et.is_file() {
                members.insert(name, (entry.raw_file_position(), entry.size()));
            } else if (et.is_symlink() || et.is_hard_link())
                && let Some(t) = entry.link_name_bytes()
            {
                let t = String::from_utf8_lossy(&t).into_owned();
                let target = if et.is_symlink() && !t.starts_with('/') {
                    let dir = name.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
                    format!("{dir}/{t}")
                } else {
                    t
                };
                if let Some(target) = normalize_entry_path(&target) {
                    links.insert(name, target);
                }
            }
        }
        Ok(TarIndex {
            path: path.to_path_buf(),
            members,
            links,
        })
    }

    /// Whether the archive has this member (following links).
    pub fn contains(&self, rel: &str) -> bool {
        self.lookup(rel).is_some()
    }

    fn lookup(&self, rel: &str) -> Option<(u64, u64)> {
        let mut name = normalize_entry_path(rel)?;
        for _ in 0..16 {
            if let Some(m) = self.members.get(&name) {
                return Some(*m);
            }
            name = self.links.get(&name)?.clone();
        }
        None
    }
}

impl Files for TarIndex {
    fn describe(&self) -> String {
        self.path.display().to_string()
    }
    fn open(&self, rel: &str) -> io::Result<(Box<dyn Read + Send + '_>, u64)> {
        let (offset, size) = self.lookup(rel).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{rel} is not in the archive"),
            )
        })?;
        let (mut f, _) = open_regular(&self.path)?;
        f.seek(SeekFrom::Start(offset))?;
        Ok((Box::new(f.take(size)), size))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// A `docker save` tarball. Its layers are named by path, not digest, so
/// the store synthesises an OCI manifest whose layer digests are the
/// config's diff_ids; each layer is verified against its diff_id after
/// decompression.
pub struct DockerArchiveStore {
    files: TarIndex,
    manifest: Vec<u8>,
    manifest_digest: Digest,
    config_digest: Digest,
    config_path: String,
    layer_paths: HashMap<Digest, String>,
    tags: Vec<String>,
}

impl DockerArchiveStore {
    pub fn open(path: &Path, tag: Option<&str>) -> Result<Self, OciError> {
        let files = TarIndex::open(path)?;
        let what = format!("docker-archive:{}", path.display());
        let read = |rel: &str| -> Result<Vec<u8>, OciError> {
            let (r, size) = files
                .open(rel)
                .map_err(|e| OciError::io(format!("{what}: {rel}"), e))?;
            if size > MAX_JSON_SIZE {
                return Err(OciError::TooLarge {
                    what: format!("{what}: {rel}"),
                    size,
                    limit: MAX_JSON_SIZE,
                });
            }
            let mut buf = Vec::new();
            r.take(MAX_JSON_SIZE)
                .read_to_end(&mut buf)
                .map_err(|e| OciError::io(format!("{what}: {rel}"), e))?;
            Ok(buf)
        };
        let list: Vec<DockerManifestEntry> =
            crate::image::parse_json(&format!("{what}: manifest.json"), &read("manifest.json")?)?;
        let entry = match tag {
            Some(t) => list
                .iter()
                .find(|e| {
                    e.repo_tags.iter().flatten().any(|rt| {
                        rt == t
                            || rt.rsplit_once(':').is_some_and(|(_, x)| x == t)
                            || rt.ends_with(&format!("/{t}"))
                    })
                })
                .ok_or_else(|| OciError::NotFound {
                    what: format!("{what}: tag {t:?} in manifest.json"),
                })?,
            None => match list.as_slice() {
                [one] => one,
                [] => return Err(OciError::invalid(what, "manifest.json lists no images")),
                many => {
                    let tags: Vec<String> = many
                        .iter()
                        .flat_map(|e| e.repo_tags.clone().unwrap_or_default())
                        .collect();
                    return Err(OciError::invalid(
                        what,
                        format!(
                            "the archive holds {} images; name one (available tags: {})",
                            many.len(),
                            tags.join(", ")
                        ),
                    ));
                }
            },
        };
        let config_bytes = read(&entry.config)?;
        let config_digest = Digest::sha256_of(&config_bytes);
        let config: ImageConfig =
            crate::image::parse_json(&format!("{what}: {}", entry.config), &config_bytes)?;
        if config.rootfs.diff_ids.len() != entry.layers.len() {
            return Err(OciError::invalid(
                what,
                format!(
                    "config lists {} diff_ids but manifest.json {} layers",
                    config.rootfs.diff_ids.len(),
                    entry.layers.len()
                ),
            ));
        }
        let mut layers = Vec::new();
        let mut layer_paths = HashMap::new();
        for (p, diff_id) in entry.layers.iter().zip(&config.rootfs.diff_ids) {
            let (_, size) = files
                .open(p)
                .map_err(|e| OciError::io(format!("{what}: layer {p}"), e))?;
            layers.push(Descriptor {
                media_type: media::DOCKER_LAYER_TAR.into(),
                digest: diff_id.clone(),
                size,
                platform: None,
                annotations: Default::default(),
                artifact_type: None,
            });
            layer_paths.insert(diff_id.clone(), p.clone());
        }
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(media::DOCKER_MANIFEST.into()),
            config: Descriptor {
                media_type: media::DOCKER_CONFIG.into(),
                digest: config_digest.clone(),
                size: config_bytes.len() as u64,
                platform: None,
                annotations: Default::default(),
                artifact_type: None,
            },
            layers,
            subject: None,
            annotations: Default::default(),
        };
        let manifest = serde_json::to_vec(&manifest).map_err(|error| OciError::Json {
            what: what.clone(),
            error,
        })?;
        Ok(DockerArchiveStore {
            manifest_digest: Digest::sha256_of(&manifest),
            manifest,
            files,
            config_digest,
            config_path: entry.config.clone(),
            layer_paths,
            tags: entry.repo_tags.clone().unwrap_or_default(),
        })
    }
}

impl Store for DockerArchiveStore {
    fn describe(&self) -> String {
        format!("docker-archive:{}", self.files.describe())
    }

    fn root(&self) -> Result<Fetched, OciError> {
        Ok(Fetched {
            bytes: self.manifest.clone(),
            media_type: Some(media::DOCKER_MANIFEST.into()),
            digest: self.manifest_digest.clone(),
        })
    }

    fn manifest(&self, desc: &Descriptor) -> Result<Fetched, OciError> {
        Err(OciError::NotFound {
            what: format!("{}: manifest {}", self.describe(), desc.digest),
        })
    }

    fn blob(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>, OciError> {
        let what = format!("{}: blob {}", self.describe(), desc.digest);
        if desc.digest == self.config_digest {
            let (r, size) = self
                .files
                .open(&self.config_path)
                .map_err(|e| OciError::io(what, e))?;
            return Ok(Box::new(VerifyingReader::new(
                r,
                desc.digest.clone(),
                Some(size),
            )));
        }
        let path = self
            .layer_paths
            .get(&desc.digest)
            .ok_or_else(|| OciError::NotFound { what: what.clone() })?;
        let (r, _) = self
            .files
            .open(path)
            .map_err(|e| OciError::io(what.clone(), e))?;
        // Layers may be stored compressed; the digest we know is the diff_id
        // of the tar, so verify after decompression.
        let (tar, _) = crate::layer::decompress(r, media::Compression::None)
            .map_err(|e| OciError::io(what, e))?;
        Ok(Box::new(VerifyingReader::new(
            tar,
            desc.digest.clone(),
            None,
        )))
    }

    fn tags(&self) -> Vec<String> {
        self.tags.clone()
    }
}
