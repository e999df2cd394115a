//! What the user points bosun at, in skopeo/syft transport syntax:
//! `oci:DIR[:TAG|@DIGEST]`, `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:TAG]`,
//! `dir:PATH`, `registry:REF` or a plain `HOST[:PORT]/REPO[:TAG|@DIGEST]`.
//! A plain argument that names an existing path is sniffed: a directory with
//! an `oci-layout` file is a layout, other directories are `dir:`, a tar
//! with `manifest.json` is a docker archive, one with `oci-layout` an OCI archive.

use std::fmt;
use std::path::{Path, PathBuf};

use bosun_core::{Digest, Reference};
use bosun_oci::Store;
use bosun_oci::archive::{DockerArchiveStore, TarIndex};
use bosun_oci::layout::{LayoutStore, Selector};
use bosun_oci::registry::{RegistryOptions, RegistryStore};

use crate::ScanError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    OciDir { path: PathBuf, selector: Selector },
    OciArchive { path: PathBuf, selector: Selector },
    DockerArchive { path: PathBuf, tag: Option<String> },
    Dir(PathBuf),
    Registry(Reference),
}

fn err(target: &str, message: impl Into<String>) -> ScanError {
    ScanError::Target {
        target: target.to_string(),
        message: message.into(),
    }
}

/// Split `PATH[:TAG|@DIGEST]`. A ':' belongs to the path when the whole
/// string is an existing path, or when what follows contains a '/'.
fn split_path_selector(input: &str, s: &str) -> Result<(PathBuf, Selector), ScanError> {
    if let Some((p, d)) = s.rsplit_once('@') {
        let digest: Digest = d.parse().map_err(|e| err(input, format!("{e}")))?;
        return Ok((PathBuf::from(p), Selector::Digest(digest)));
    }
    if Path::new(s).exists() {
        return Ok((PathBuf::from(s), Selector::Default));
    }
    match s.rsplit_once(':') {
        Some((p, tag)) if !tag.contains('/') && !tag.is_empty() => {
            Ok((PathBuf::from(p), Selector::Tag(tag.to_string())))
        }
        _ => Ok((PathBuf::from(s), Selector::Default)),
    }
}

/// A plain argument spelt as a path (`./x`, `../x`, `/x`, `~/x`, `.`):
/// no image reference starts so.
fn looks_local(input: &str) -> bool {
    matches!(input, "." | ".." | "~")
        || ["./", "../", "/", "~/"]
            .iter()
            .any(|prefix| input.starts_with(prefix))
}

impl Target {
    pub fn parse(input: &str) -> Result<Target, ScanError> {
        if input.is_empty() {
            return Err(err(input, "empty target"));
        }
        if let Some(rest) = input.strip_prefix("oci:") {
            let (path, selector) = split_path_selector(input, rest)?;
            return Ok(Target::OciDir { path, selector });
        }
        if let Some(rest) = input.strip_prefix("oci-archive:") {
            let (path, selector) = split_path_selector(input, rest)?;
            return Ok(Target::OciArchive { path, selector });
        }
        if let Some(rest) = input.strip_prefix("docker-archive:") {
            let (path, selector) = split_path_selector(input, rest)?;
            let tag = match selector {
                Selector::Default => None,
                Selector::Tag(t) => Some(t),
                Selector::Digest(_) => {
                    return Err(err(
                        input,
                        "docker archives are selected by tag, not digest",
                    ));
                }
            };
            return Ok(Target::DockerArchive { path, tag });
        }
        if let Some(rest) = input.strip_prefix("dir:") {
            return Ok(Target::Dir(PathBuf::from(rest)));
        }
        if let Some(rest) = input
            .strip_prefix("registry:")
            .or_else(|| input.strip_prefix("docker://"))
        {
            return Ok(Target::Registry(
                rest.parse().map_err(|e| err(input, format!("{e}")))?,
            ));
        }
        let p = Path::new(input);
        if p.is_dir() {
            if p.join("oci-layout").is_file() {
                return Ok(Target::OciDir {
                    path: p.to_path_buf(),
                    selector: Selector::Default,
                });
            }
            return Ok(Target::Dir(p.to_path_buf()));
        }
        if p.is_file() {
            let ix = TarIndex::open(p).map_err(|e| {
                err(
                    input,
                    format!(
                        "not a directory, image archive or reference: {}",
                        bosun_core::text::chain(&e)
                    ),
                )
            })?;
            return if ix.contains("manifest.json") {
                Ok(Target::DockerArchive {
                    path: p.to_path_buf(),
                    tag: None,
                })
            } else if ix.contains("oci-layout") {
                Ok(Target::OciArchive {
                    path: p.to_path_buf(),
                    selector: Selector::Default,
                })
            } else {
                Err(err(
                    input,
                    "a tar file with neither manifest.json nor oci-layout",
                ))
            };
        }
        if looks_local(input) {
            // Never a registry lookup of host `.` or `~`: the user meant a path.
            let message = match std::fs::metadata(p) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    format!("no such file or directory: {input}")
                }
                Err(e) => format!("cannot read {input}: {e}"),
                Ok(_) => format!("{input} is neither a directory nor a regular file"),
            };
            return Err(err(input, message));
        }
        input
            .parse::<Reference>()
            .map(Target::Registry)
            .map_err(|e| {
                err(
                    input,
                    format!(
                        "no such file or directory, and not an image reference: {}",
                        bosun_core::text::chain(&e)
                    ),
                )
            })
    }

    pub fn open_store(&self, registry: &RegistryOptions) -> Result<Box<dyn Store>, ScanError> {
        Ok(match self {
            Target::OciDir { path, selector } => {
                Box::new(LayoutStore::open_dir(path, selector.clone())?)
            }
            Target::OciArchive { path, selector } => {
                Box::new(LayoutStore::open_archive(path, selector.clone())?)
            }
            Target::DockerArchive { path, tag } => {
                Box::new(DockerArchiveStore::open(path, tag.as_deref())?)
            }
            Target::Registry(r) => Box::new(RegistryStore::new(r.clone(), registry)?),
            Target::Dir(p) => {
                return Err(err(&p.display().to_string(), "a directory is not an image"));
            }
        })
    }

    /// A short name for the subject of the SBOM.
    pub fn image_name(&self) -> String {
        let base = |p: &Path| {
            p.canonicalize()
                .ok()
                .and_then(|c| c.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| p.display().to_string())
        };
        match self {
            Target::OciDir { path, .. } | Target::OciArchive { path, .. } => base(path),
            Target::DockerArchive { path, .. } => base(path),
            Target::Dir(p) => base(p),
            Target::Registry(r) => r.name(),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sel = |s: &Selector| match s {
            Selector::Default => String::new(),
            Selector::Tag(t) => format!(":{t}"),
            Selector::Digest(d) => format!("@{d}"),
        };
        match self {
            Target::OciDir { path, selector } => {
                write!(f, "oci:{}{}", path.display(), sel(selector))
            }
            Target::OciArchive { path, selector } => {
                write!(f, "oci-archive:{}{}", path.display(), sel(selector))
            }
            Target::DockerArchive { path, tag } => {
                write!(f, "docker-archive:{}", path.display())?;
                if let Some(t) = tag {
                    write!(f, ":{t}")?;
                }
                Ok(())
            }
            Target::Dir(p) => write!(f, "dir:{}", p.display()),
            Target::Registry(r) => write!(f, "{r}"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_transports() {
        assert_eq!(
            Target::parse("oci:/nonexistent/x:v1").unwrap(),
            Target::OciDir {
                path: "/nonexistent/x".into(),
                selector: Selector::Tag("v1".into())
            }
        );
        assert_eq!(Target::parse("dir:.").unwrap(), Target::Dir(".".into()));
        assert!(matches!(
            Target::parse("127.0.0.1:5000/a/b:1").unwrap(),
            Target::Registry(_)
        ));
        assert!(matches!(
            Target::parse("registry:localhost:5000/a").unwrap(),
            Target::Registry(_)
        ));
        assert!(Target::parse("oci:/x@sha256:nothex").is_err());
        assert!(Target::parse("").is_err());
        assert!(Target::parse("Not A Reference!").is_err());
    }

    #[test]
    fn missing_local_paths_are_no_such_file() {
        let tmp = tempfile::tempdir().unwrap();
        let abs = tmp.path().join("missing").display().to_string();
        for input in [
            "./no-such-image",
            "../no-such-image",
            abs.as_str(),
            "~/no-such-image",
        ] {
            let e = Target::parse(input).unwrap_err().to_string();
            assert!(
                e.contains(&format!("no such file or directory: {input}")),
                "{input}: {e}"
            );
            assert!(!e.contains("reference"), "{input}: {e}");
        }
        // Not a directory, not a file: a device.
        let e = Target::parse("/dev/null").unwrap_err().to_string();
        assert!(e.contains("neither a directory nor a regular file"), "{e}");
    }
}
