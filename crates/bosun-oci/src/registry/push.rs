//! Writing to a registry (signatures, attestations): blobs, manifests, and
//! listing tags.

use bosun_core::Digest;
use ureq::http::{Method, StatusCode};

use super::client::{Call, Registry, header, pull_scope, push_scope};
use crate::OciError;
use crate::store::verify;

/// Bounds on `tags/list` paging against a registry that never stops.
const MAX_TAG_PAGES: usize = 100;
const MAX_TAGS_PAGE_BODY: u64 = 4 << 20;

#[derive(serde::Deserialize)]
struct TagList {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

impl Registry {
    /// Whether the repository has the blob (`HEAD`).
    pub fn blob_exists(&self, repo: &str, digest: &Digest) -> Result<bool, OciError> {
        let call = Call {
            method: Method::HEAD,
            url: self.url(&format!("/v2/{repo}/blobs/{digest}")),
            headers: Vec::new(),
            body: None,
            scope: push_scope(repo),
            what: format!("blob {repo}@{digest}"),
        };
        let resp = self.send(&call)?;
        match resp.status() {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => self.expect(&call, resp, &[]).map(|_| false),
        }
    }

    /// Upload a blob unless the repository has it: an upload session
    /// (`POST`), then one monolithic `PUT ?digest=`.
    pub fn push_blob(&self, repo: &str, bytes: &[u8], digest: &Digest) -> Result<(), OciError> {
        let what = format!("blob {repo}@{digest}");
        verify(&self.describe(&what), digest, bytes)?;
        if self.blob_exists(repo, digest)? {
            return Ok(());
        }
        let start = Call {
            method: Method::POST,
            url: self.url(&format!("/v2/{repo}/blobs/uploads/")),
            headers: vec![("Content-Length", "0".to_string())],
            body: None,
            scope: push_scope(repo),
            what: format!("upload of {what}"),
        };
        let resp = self.send(&start)?;
        let resp = self.expect(&start, resp, &[StatusCode::ACCEPTED])?;
        let location = header(&resp, "location")
            .filter(|l| !l.is_empty())
            .ok_or_else(|| self.error(format!("{}: HTTP 202 without a Location", start.what)))?;
        let mut url = self.resolve_location(location);
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&format!("digest={digest}"));
        drop(resp);
        let put = Call {
            method: Method::PUT,
            url,
            headers: vec![("Content-Type", "application/octet-stream".to_string())],
            body: Some(bytes),
            scope: push_scope(repo),
            what: format!("upload of {what}"),
        };
        let resp = self.send(&put)?;
        self.expect(&put, resp, &[StatusCode::CREATED])?;
        Ok(())
    }

    /// Put a manifest or index under a tag or its digest; returns its digest.
    pub fn push_manifest(
        &self,
        repo: &str,
        tag_or_digest: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Digest, OciError> {
        let digest = Digest::sha256_of(bytes);
        let what = format!("manifest {repo}:{tag_or_digest}");
        if let Ok(pinned) = tag_or_digest.parse::<Digest>() {
            verify(&self.describe(&what), &pinned, bytes)?;
        }
        let call = Call {
            method: Method::PUT,
            url: self.url(&format!("/v2/{repo}/manifests/{tag_or_digest}")),
            headers: vec![("Content-Type", media_type.to_string())],
            body: Some(bytes),
            scope: push_scope(repo),
            what,
        };
        let resp = self.send(&call)?;
        let resp = self.expect(&call, resp, &[StatusCode::CREATED])?;
        if let Some(h) = header(&resp, "docker-content-digest")
            && let Ok(theirs) = h.parse::<Digest>()
            && theirs.algorithm() == digest.algorithm()
            && theirs != digest
        {
            return Err(self.error(format!(
                "{}: the registry stored it as {theirs}, but it hashes to {digest}",
                call.what
            )));
        }
        Ok(digest)
    }

    /// All tags of a repository, following `Link` pagination.
    pub fn tags_list(&self, repo: &str) -> Result<Vec<String>, OciError> {
        let mut tags = Vec::new();
        let mut url = self.url(&format!("/v2/{repo}/tags/list?n=1000"));
        for _ in 0..MAX_TAG_PAGES {
            let call = Call {
                method: Method::GET,
                url: url.clone(),
                headers: vec![("Accept", "application/json".to_string())],
                body: None,
                scope: pull_scope(repo),
                what: format!("tags of {repo}"),
            };
            let resp = self.send(&call)?;
            let resp = self.expect(&call, resp, &[StatusCode::OK])?;
            let next = header(&resp, "link")
                .and_then(next_link)
                .map(|l| self.resolve_location(&l));
            let bytes = self.read_bounded(&call.what, resp, MAX_TAGS_PAGE_BODY)?;
            let page: TagList = serde_json::from_slice(&bytes).map_err(|error| OciError::Json {
                what: self.describe(&call.what),
                error,
            })?;
            tags.extend(page.tags.unwrap_or_default());
            match next {
                Some(n) => url = n,
                None => return Ok(tags),
            }
        }
        Err(self.error(format!("tags of {repo}: more than {MAX_TAG_PAGES} pages")))
    }

    /// `Location` and `Link` may be absolute or relative to the registry.
    pub(super) fn resolve_location(&self, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else if location.starts_with('/') {
            self.url(location)
        } else {
            self.url(&format!("/{location}"))
        }
    }
}

/// The target of `<...>; rel="next"` in a `Link` header.
pub(super) fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"" || p.trim() == "rel=next");
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| target.to_string())
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        assert_eq!(
            next_link(r#"</v2/a/tags/list?last=x&n=2>; rel="next""#).as_deref(),
            Some("/v2/a/tags/list?last=x&n=2")
        );
        assert_eq!(next_link(r#"<https://x/y>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
    }
}
