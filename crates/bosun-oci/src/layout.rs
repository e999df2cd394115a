//! OCI image layouts (`oci:DIR[:TAG|@DIGEST]`) on disk or inside a tar
//! (`oci-archive:FILE`): `index.json` plus `blobs/<alg>/<hex>`.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use bosun_core::Digest;
use bosun_core::digest::VerifyingReader;

use crate::archive::TarIndex;
use crate::manifest::{Descriptor, Index};
use crate::media;
use crate::store::{Fetched, Store, verify};
use crate::{MAX_JSON_SIZE, OciError};

/// Read access to the files of a layout, wherever they are.
pub trait Files: Send + Sync {
    fn describe(&self) -> String;
    /// Open a file by its path relative to the layout root, with its size.
    fn open(&self, rel: &str) -> io::Result<(Box<dyn Read + Send + '_>, u64)>;
}

pub struct DirFiles(pub PathBuf);

impl Files for DirFiles {
    fn describe(&self) -> String {
        self.0.display().to_string()
    }
    fn open(&self, rel: &str) -> io::Result<(Box<dyn Read + Send + '_>, u64)> {
        let (f, size) = open_regular(&self.0.join(rel))?;
        Ok((Box::new(f), size))
    }
}

/// Open `path` for reading only if it is a regular file (symlinks
/// followed), with its size. Anything else is refused with an
/// `InvalidInput` error saying what it is: a FIFO would block the open (and
/// then every read) forever, a device would stream without end. The open
/// itself does not block (`O_NONBLOCK`), so a FIFO swapped in after the
/// check is still refused by the check on the opened file.
pub(crate) fn open_regular(path: &Path) -> io::Result<(File, u64)> {
    let not_regular = |meta: &std::fs::Metadata| {
        let ft = meta.file_type();
        let what = if ft.is_dir() {
            "a directory"
        } else if is_fifo(&ft) {
            "a FIFO"
        } else {
            "a device, socket or other special file"
        };
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("is {what}, not a regular file"),
        )
    };
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let f = opts.open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    Ok((f, meta.len()))
}

#[cfg(unix)]
fn is_fifo(ft: &std::fs::FileType) -> bool {
    std::os::unix::fs::FileTypeExt::is_fifo(ft)
}

#[cfg(not(unix))]
fn is_fifo(_: &std::fs::FileType) -> bool {
    false
}

/// Which image of the layout to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// The only image, or the index as a whole (platform selection decides).
    Default,
    Tag(String),
    Digest(Digest),
}

pub struct LayoutStore {
    files: Box<dyn Files>,
    selector: Selector,
    scheme: &'static str,
}

impl LayoutStore {
    /// An OCI layout directory.
    pub fn open_dir(dir: &Path, selector: Selector) -> Result<Self, OciError> {
        let store = LayoutStore {
            files: Box::new(DirFiles(dir.to_path_buf())),
            selector,
            scheme: "oci",
        };
        store.check_layout()?;
        Ok(store)
    }

    /// An OCI layout packed in a tar file.
    pub fn open_archive(file: &Path, selector: Selector) -> Result<Self, OciError> {
        let store = LayoutStore {
            files: Box::new(TarIndex::open(file)?),
            selector,
            scheme: "oci-archive",
        };
        store.check_layout()?;
        Ok(store)
    }

    fn check_layout(&self) -> Result<(), OciError> {
        let bytes = self.read_small("oci-layout")?;
        let v: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|error| OciError::Json {
                what: format!("{}: oci-layout", self.describe()),
                error,
            })?;
        match v.get("imageLayoutVersion").and_then(|v| v.as_str()) {
            Some(ver) if ver.starts_with("1.") => Ok(()),
            other => Err(OciError::invalid(
                format!("{}: oci-layout", self.describe()),
                format!("unsupported imageLayoutVersion {other:?}"),
            )),
        }
    }

    fn read_small(&self, rel: &str) -> Result<Vec<u8>, OciError> {
        let what = format!("{}: {rel}", self.describe());
        let (r, size) = self.files.open(rel).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => OciError::NotFound { what: what.clone() },
            _ => OciError::io(what.clone(), e),
        })?;
        if size > MAX_JSON_SIZE {
            return Err(OciError::TooLarge {
                what,
                size,
                limit: MAX_JSON_SIZE,
            });
        }
        let mut buf = Vec::with_capacity(size as usize);
        r.take(MAX_JSON_SIZE)
            .read_to_end(&mut buf)
            .map_err(|e| OciError::io(what, e))?;
        Ok(buf)
    }

    fn blob_path(d: &Digest) -> String {
        // Digest guarantees lower-case hex of fixed length: no path tricks.
        format!(
            "blobs/{}/{}",
            d.to_string().split(':').next().unwrap_or("sha256"),
            d.hex()
        )
    }

    fn fetch_verified(&self, desc: &Descriptor) -> Result<Fetched, OciError> {
        let bytes = self.read_small(&Self::blob_path(&desc.digest))?;
        verify(&format!("{} blob", self.describe()), &desc.digest, &bytes)?;
        Ok(Fetched {
            bytes,
            media_type: Some(desc.media_type.clone()).filter(|m| !m.is_empty()),
            digest: desc.digest.clone(),
        })
    }

    fn index(&self) -> Result<(Vec<u8>, Index), OciError> {
        let bytes = self.read_small("index.json")?;
        let index: Index =
            crate::image::parse_json(&format!("{}: index.json", self.describe()), &bytes)?;
        Ok((bytes, index))
    }
}

fn ref_names(d: &Descriptor) -> impl Iterator<Item = &str> {
    [
        "org.opencontainers.image.ref.name",
        "io.containerd.image.name",
    ]
    .into_iter()
    .filter_map(|k| d.annotations.get(k).map(String::as_str))
}

impl Store for LayoutStore {
    fn describe(&self) -> String {
        let base = format!("{}:{}", self.scheme, self.files.describe());
        match &self.selector {
            Selector::Default => base,
            Selector::Tag(t) => format!("{base}:{t}"),
            Selector::Digest(d) => format!("{base}@{d}"),
        }
    }

    fn root(&self) -> Result<Fetched, OciError> {
        let (bytes, index) = self.index()?;
        match &self.selector {
            Selector::Default => {
                if index.manifests.len() == 1 {
                    return self.fetch_verified(&index.manifests[0]);
                }
                let digest = Digest::sha256_of(&bytes);
                Ok(Fetched {
                    bytes,
                    media_type: Some(media::OCI_INDEX.into()),
                    digest,
                })
            }
            Selector::Tag(tag) => {
                let found = index.manifests.iter().find(|d| {
                    ref_names(d)
                        .any(|n| n == tag || n.rsplit_once(':').is_some_and(|(_, t)| t == tag))
                });
                match found {
                    Some(d) => self.fetch_verified(d),
                    None => Err(OciError::NotFound {
                        what: format!("{}: tag {tag:?} in index.json", self.describe()),
                    }),
                }
            }
            Selector::Digest(dg) => {
                let desc = index
                    .manifests
                    .iter()
                    .find(|d| &d.digest == dg)
                    .cloned()
                    .unwrap_or(Descriptor {
                        media_type: String::new(),
                        digest: dg.clone(),
                        size: 0,
                        platform: None,
                        annotations: Default::default(),
                        artifact_type: None,
                    });
                self.fetch_verified(&desc)
            }
        }
    }

    fn manifest(&self, desc: &Descriptor) -> Result<Fetched, OciError> {
        self.fetch_verified(desc)
    }

    fn blob(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>, OciError> {
        let rel = Self::blob_path(&desc.digest);
        let what = format!("{}: {rel}", self.describe());
        let (r, size) = self.files.open(&rel).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => OciError::NotFound { what: what.clone() },
            _ => OciError::io(what.clone(), e),
        })?;
        if size != desc.size {
            return Err(OciError::invalid(
                what,
                format!("blob has {size} bytes, its descriptor says {}", desc.size),
            ));
        }
        Ok(Box::new(VerifyingReader::new(
            r,
            desc.digest.clone(),
            Some(desc.size),
        )))
    }

    fn tags(&self) -> Vec<String> {
        match (&self.selector, self.index()) {
            (Selector::Tag(t), _) => vec![t.clone()],
            (_, Ok((_, index))) if index.manifests.len() == 1 => index.manifests[0]
                .annotations
                .get("org.opencontainers.image.ref.name")
                .cloned()
                .into_iter()
                .collect(),
            _ => Vec::new(),
        }
    }
}
