//! Image references as the distribution spec and Docker spell them:
//! `[HOST[:PORT]/]REPO[:TAG][@DIGEST]`, normalised the way Docker does
//! (`alpine` is `docker.io/library/alpine:latest`).

use std::fmt;
use std::str::FromStr;

use crate::digest::{Digest, DigestError};

pub const DEFAULT_REGISTRY: &str = "docker.io";
/// Docker Hub's API lives on another host than its name.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReferenceError {
    #[error("image reference is empty")]
    Empty,
    #[error("image reference {0:?} is longer than 4096 characters")]
    TooLong(usize),
    #[error(
        "image reference {reference:?}: repository {repo:?} is not valid (lower-case a-z, 0-9, '.', '_', '-', '/' separated)"
    )]
    BadRepository { reference: String, repo: String },
    #[error(
        "image reference {reference:?}: tag {tag:?} is not valid (at most 128 of A-Za-z0-9_.-, not starting with '.' or '-')"
    )]
    BadTag { reference: String, tag: String },
    #[error("image reference {reference:?}")]
    BadDigest {
        reference: String,
        source: DigestError,
    },
}

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Registry host with optional port, as written (`docker.io` for Hub).
    pub registry: String,
    /// Repository path, e.g. `library/alpine`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

impl Reference {
    /// The host to talk to for this registry.
    pub fn api_host(&self) -> &str {
        if self.registry == DEFAULT_REGISTRY {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// What to ask the registry for: the digest when pinned, else the tag
    /// (`latest` when none was given).
    pub fn target(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        }
    }

    /// `registry/repository`, the name signatures and SBOMs refer to.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            digest: Some(digest),
            ..self.clone()
        }
    }
}

fn valid_repo_component(c: &str) -> bool {
    // [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
    if c.is_empty() {
        return false;
    }
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // a separator run
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn valid_tag(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 128
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
        && !t.starts_with('.')
        && !t.starts_with('-')
}

impl FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        if input.is_empty() {
            return Err(ReferenceError::Empty);
        }
        if input.len() > 4096 {
            return Err(ReferenceError::TooLong(input.len()));
        }
        let (rest, digest) = match input.split_once('@') {
            Some((r, d)) => (
                r,
                Some(
                    d.parse::<Digest>()
                        .map_err(|source| ReferenceError::BadDigest {
                            reference: input.to_string(),
                            source,
                        })?,
                ),
            ),
            None => (input, None),
        };
        // The first component is a registry when it has a '.' or ':' or is localhost.
        let (registry, path) = match rest.split_once('/') {
            Some((first, remainder))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_string(), remainder)
            }
            _ => (DEFAULT_REGISTRY.to_string(), rest),
        };
        // A tag is after the last ':' that follows the last '/'.
        let last_slash = path.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (repo, tag) = match path[last_slash..].rfind(':') {
            Some(i) => {
                let i = last_slash + i;
                (&path[..i], Some(path[i + 1..].to_string()))
            }
            None => (path, None),
        };
        if let Some(t) = &tag
            && !valid_tag(t)
        {
            return Err(ReferenceError::BadTag {
                reference: input.to_string(),
                tag: t.clone(),
            });
        }
        if repo.is_empty() || repo.len() > 255 || !repo.split('/').all(valid_repo_component) {
            return Err(ReferenceError::BadRepository {
                reference: input.to_string(),
                repo: repo.to_string(),
            });
        }
        let repository = if registry == DEFAULT_REGISTRY && !repo.contains('/') {
            format!("library/{repo}")
        } else {
            repo.to_string()
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_like_docker() {
        let r: Reference = "alpine".parse().unwrap();
        assert_eq!(r.to_string(), "docker.io/library/alpine");
        assert_eq!(r.target(), "latest");
        assert_eq!(r.api_host(), DOCKER_HUB_API);
        let r: Reference = "127.0.0.1:5000/team/app:v1.2".parse().unwrap();
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "team/app");
        assert_eq!(r.tag.as_deref(), Some("v1.2"));
        let r: Reference =
            "localhost/app@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                .parse()
                .unwrap();
        assert_eq!(r.registry, "localhost");
        assert!(r.digest.is_some());
        assert!(r.target().starts_with("sha256:"));
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            "",
            "UPPER/case",
            "a//b",
            "app:",
            "app:-x",
            "app@sha256:zz",
            "a/../b",
        ] {
            assert!(bad.parse::<Reference>().is_err(), "{bad} should fail");
        }
    }
}
