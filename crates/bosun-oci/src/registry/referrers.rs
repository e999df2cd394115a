//! The OCI 1.1 referrers API: manifests that name another as their `subject`
//! (signatures, attestations, SBOMs attached to an image).

use bosun_core::Digest;
use ureq::http::{Method, StatusCode};

use super::client::{Call, Registry, header, pull_scope};
use super::push::next_link;
use crate::manifest::{Descriptor, Index};
use crate::{MAX_JSON_SIZE, OciError};

/// Bounds on paging against a registry that never stops.
const MAX_REFERRER_PAGES: usize = 20;
const MAX_REFERRERS: usize = 10_000;

impl Registry {
    /// The descriptors of the manifests whose subject is `digest`, optionally
    /// only those of `artifact_type`. `None` when the registry does not have
    /// the API: the spec lets such a registry answer 404, and forbids one that
    /// has it to.
    pub fn referrers(
        &self,
        repo: &str,
        digest: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Option<Vec<Descriptor>>, OciError> {
        let what = format!("referrers of {repo}@{digest}");
        let mut url = self.url(&format!("/v2/{repo}/referrers/{digest}"));
        if let Some(t) = artifact_type {
            url.push_str(&format!("?artifactType={}", super::auth::query_escape(t)));
        }
        let mut found = Vec::new();
        for _ in 0..MAX_REFERRER_PAGES {
            let call = Call {
                method: Method::GET,
                url: url.clone(),
                headers: vec![("Accept", crate::media::OCI_INDEX.to_string())],
                body: None,
                scope: pull_scope(repo),
                what: what.clone(),
            };
            let resp = self.send(&call)?;
            if resp.status() == StatusCode::NOT_FOUND {
                return Ok(None);
            }
            let resp = self.expect(&call, resp, &[StatusCode::OK])?;
            let next = header(&resp, "link")
                .and_then(next_link)
                .map(|l| self.resolve_location(&l));
            let bytes = self.read_bounded(&what, resp, MAX_JSON_SIZE)?;
            let page = referrers_page(&bytes, artifact_type)
                .map_err(|e| OciError::invalid(self.describe(&what), e))?;
            found.extend(page);
            if found.len() > MAX_REFERRERS {
                return Err(self.error(format!("{what}: more than {MAX_REFERRERS}")));
            }
            match next {
                Some(n) => url = n,
                None => return Ok(Some(found)),
            }
        }
        Err(self.error(format!("{what}: more than {MAX_REFERRER_PAGES} pages")))
    }
}

/// One page of the referrers answer (an image index), filtered here as well:
/// a registry may ignore the `artifactType` query.
fn referrers_page(bytes: &[u8], artifact_type: Option<&str>) -> Result<Vec<Descriptor>, String> {
    let index: Index = serde_json::from_slice(bytes)
        .map_err(|e| format!("the referrers answer is not an image index: {e}"))?;
    if index.schema_version != 2 {
        return Err(format!(
            "the referrers index has schemaVersion {}, expected 2",
            index.schema_version
        ));
    }
    Ok(index
        .manifests
        .into_iter()
        .filter(|d| artifact_type.is_none_or(|t| d.artifact_type.as_deref() == Some(t)))
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_parsed_and_filtered() {
        let page = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","size":10,"artifactType":"a/sig",
             "digest":"sha256:0000000000000000000000000000000000000000000000000000000000000001"},
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","size":11,"artifactType":"a/sbom",
             "digest":"sha256:0000000000000000000000000000000000000000000000000000000000000002"}]}"#;
        assert_eq!(referrers_page(page, None).unwrap().len(), 2);
        let sigs = referrers_page(page, Some("a/sig")).unwrap();
        assert_eq!(sigs.len(), 1);
        assert_eq!(sigs[0].size, 10);
        assert!(referrers_page(b"<html>", None).is_err());
        assert!(referrers_page(br#"{"schemaVersion":1,"manifests":[]}"#, None).is_err());
        assert!(
            referrers_page(br#"{"schemaVersion":2,"manifests":[{"digest":"x"}]}"#, None).is_err()
        );
    }
}
