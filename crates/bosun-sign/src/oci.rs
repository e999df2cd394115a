//! Signatures and attestations in a registry, stored the way cosign stores
//! them, and the verification of image signatures.
//!
//! cosign keeps all signatures of an image in one manifest tagged
//! `sha256-<hex>.sig` (attestations: `.att`), one layer per signature, in the
//! image's repository or another one. Signing appends a layer; it never drops
//! one. Where the registry has the OCI 1.1 referrers API, each new signature
//! is also pushed as a manifest whose `subject` is the image, and both places
//! are read when verifying.
//!
//! What a layer proves is decided by a [`Verifier`]: [`KeyVerifier`] trusts
//! one public key; [`KeylessVerifier`] a certificate identity (certificate
//! and Rekor bundle in the layer annotations).

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bosun_core::{Digest, Reference};
use bosun_oci::manifest::Descriptor;
use bosun_oci::registry::Registry;
use bosun_oci::{OciError, media};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::attest::{DSSE_MEDIA_TYPE, IN_TOTO_PAYLOAD_TYPE};
use crate::keyless::{self, CertificatePolicy, SigstoreRoot};
use crate::keys::{KeyError, PrivateKey, PublicKey};
use crate::simple::{self, Payload, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE};

/// `artifactType` of a cosign signature pushed as a referrer.
pub const SIGNATURE_ARTIFACT_TYPE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";
/// The OCI 1.1 empty descriptor's media type (its blob is `{}`).
pub const OCI_EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
const EMPTY_JSON: &[u8] = b"{}";

/// Real signature manifests have a handful of layers of a few hundred bytes
/// (attestations carry whole SBOMs); refuse what no signer writes.
const MAX_LAYERS: usize = 1000;
pub const MAX_LAYER_BYTES: u64 = 64 << 20;
const MAX_REFERRER_MANIFESTS: usize = 100;

/// Signature or attestation: where cosign keeps them and how their layers look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Signature,
    Attestation,
}

impl Kind {
    /// The cosign tag for an image digest: `sha256-<hex>.sig` / `.att`.
    pub fn tag(self, digest: &Digest) -> String {
        let suffix = match self {
            Kind::Signature => "sig",
            Kind::Attestation => "att",
        };
        format!("{}-{}.{suffix}", digest_algorithm(digest), digest.hex())
    }

    pub fn layer_media_type(self) -> &'static str {
        match self {
            Kind::Signature => SIMPLE_SIGNING_MEDIA_TYPE,
            Kind::Attestation => DSSE_MEDIA_TYPE,
        }
    }

    /// `artifactType` of the referrer manifests, as cosign writes them.
    pub fn artifact_type(self) -> &'static str {
        match self {
            Kind::Signature => SIGNATURE_ARTIFACT_TYPE,
            Kind::Attestation => IN_TOTO_PAYLOAD_TYPE,
        }
    }
}

fn digest_algorithm(d: &Digest) -> &'static str {
    match d.algorithm() {
        bosun_core::digest::Algorithm::Sha256 => "sha256",
        bosun_core::digest::Algorithm::Sha512 => "sha512",
    }
}

/// The image being signed or verified, resolved to its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// `registry/repository`, the `docker-reference` signatures name.
    pub name: String,
    pub repository: String,
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
    /// The tag the user gave, if any (the signature covers the digest).
    pub tag: Option<String>,
}

impl Subject {
    pub fn descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: self.media_type.clone(),
            digest: self.digest.clone(),
            size: self.size,
            platform: None,
            annotations: BTreeMap::new(),
            artifact_type: None,
        }
    }
}

/// Resolves `reference` to the digest of what it names (an index stays an
/// index: signing a multi-platform tag signs the index, as cosign does).
pub fn resolve(registry: &Registry, reference: &Reference) -> Result<Subject, OciError> {
    let fetched = registry.manifest(
        &reference.repository,
        &reference.target(),
        reference.digest.as_ref(),
        None,
    )?;
    let media_type = match fetched.media_type {
        Some(m) if media::is_index(&m) || media::is_manifest(&m) => m,
        _ => embedded_media_type(&fetched.bytes).ok_or_else(|| OciError::UnsupportedMediaType {
            what: format!("manifest {reference}"),
            media_type: "(none)".into(),
        })?,
    };
    Ok(Subject {
        name: reference.name(),
        repository: reference.repository.clone(),
        digest: fetched.digest,
        media_type,
        size: fetched.bytes.len() as u64,
        tag: reference.digest.is_none().then(|| reference.target()),
    })
}

fn embedded_media_type(bytes: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        media_type: Option<String>,
    }
    serde_json::from_slice::<Probe>(bytes).ok()?.media_type
}

/// Where signatures live: the image's repository, or another one
/// (`--signature-repo`, cosign's `COSIGN_REPOSITORY`), possibly on another
/// registry.
pub struct Store<'a> {
    pub registry: &'a Registry,
    pub repository: String,
}

/// One signature or attestation layer with its blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub media_type: String,
    pub blob: Vec<u8>,
    pub annotations: BTreeMap<String, String>,
}

impl Layer {
    pub fn digest(&self) -> Digest {
        Digest::sha256_of(&self.blob)
    }

    pub fn descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: self.media_type.clone(),
            digest: self.digest(),
            size: self.blob.len() as u64,
            platform: None,
            annotations: self.annotations.clone(),
            artifact_type: None,
        }
    }
}

/// The Simple Signing layer of `payload` signed by `key`: the payload as
/// blob, the base64 signature in the signature annotation.
pub fn signature_layer(payload: Vec<u8>, key: &PrivateKey) -> Result<Layer, KeyError> {
    use base64::Engine as _;
    let signature = key.sign(&payload)?;
    Ok(Layer {
        media_type: SIMPLE_SIGNING_MEDIA_TYPE.to_string(),
        blob: payload,
        annotations: BTreeMap::from([(
            SIGNATURE_ANNOTATION.to_string(),
            base64::engine::general_purpose::STANDARD.encode(signature),
        )]),
    })
}

/// An image manifest as cosign writes and reads it (with OCI 1.1's
/// `artifactType` and `subject`, which bosun-oci's reader has no use for).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireManifest {
    schema_version: u32,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    artifact_type: Option<String>,
    config: Descriptor,
    layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subject: Option<Descriptor>,
}

/// The config cosign gives a signature image: no platform, one history
/// entry and one diff_id per layer. cosign writes the signing time as
/// `created`; bosun the zero time, so that the same layers always give the
/// same manifest.
fn signature_config(layers: &[Descriptor]) -> Vec<u8> {
    const ZERO_TIME: &str = "0001-01-01T00:00:00Z";
    let config = serde_json::json!({
        "architecture": "",
        "created": ZERO_TIME,
        "history": layers.iter().map(|_| serde_json::json!({"created": ZERO_TIME})).collect::<Vec<_>>(),
        "os": "",
        "rootfs": {
            "type": "layers",
            "diff_ids": layers.iter().map(|l| l.digest.to_string()).collect::<Vec<_>>(),
        },
        "config": {},
    });
    config.to_string().into_bytes()
}

/// What [`attach`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    /// `sha256-<hex>.sig` / `.att`.
    pub tag: String,
    /// Digest of the manifest now under the tag.
    pub manifest_digest: Digest,
    /// False when the tag already held this very layer.
    pub added: bool,
    /// The referrer manifest pushed, where the registry has the API.
    pub referrer: Option<Digest>,
}

/// Adds `layer` to the subject's signature (or attestation) manifest in
/// `store`, creating it when absent, then pushes it as a referrer too where
/// the registry supports that. Existing layers are kept; an identical layer
/// (same blob, same annotations) is not added twice. Two signers appending
/// at the same moment can still race, as with cosign: the registry has no
/// compare-and-swap on tags.
pub fn attach(
    store: &Store<'_>,
    subject: &Subject,
    kind: Kind,
    layer: &Layer,
) -> Result<Attached, OciError> {
    let tag = kind.tag(&subject.digest);
    let repo = store.repository.as_str();
    let (existing_digest, mut layers) = match store.registry.manifest(repo, &tag, None, None) {
        Ok(existing) => {
            let what = format!("existing {repo}:{tag}");
            let m: WireManifest = serde_json::from_slice(&existing.bytes).map_err(|e| {
                OciError::invalid(
                    &what,
                    format!("not an image manifest ({e}); refusing to replace it"),
                )
            })?;
            if m.layers.len() >= MAX_LAYERS {
                return Err(OciError::invalid(
                    what,
                    format!("already has {} layers", m.layers.len()),
                ));
            }
            (Some(existing.digest), m.layers)
        }
        Err(OciError::NotFound { .. }) => (None, Vec::new()),
        Err(e) => return Err(e),
    };
    let desc = layer.descriptor();
    let referrer = referrer_if_supported(store, subject, kind, layer)?;
    if let Some(manifest_digest) = existing_digest
        && layers
            .iter()
            .any(|l| l.digest == desc.digest && l.annotations == desc.annotations)
    {
        tracing::debug!("{repo}:{tag} already holds layer {}", desc.digest);
        return Ok(Attached {
            tag,
            manifest_digest,
            added: false,
            referrer,
        });
    }
    store.registry.push_blob(repo, &layer.blob, &desc.digest)?;
    layers.push(desc);
    let config = signature_config(&layers);
    let config_digest = Digest::sha256_of(&config);
    store.registry.push_blob(repo, &config, &config_digest)?;
    let manifest = WireManifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.to_string()),
        artifact_type: None,
        config: Descriptor {
            media_type: media::OCI_CONFIG.to_string(),
            digest: config_digest,
            size: config.len() as u64,
            platform: None,
            annotations: BTreeMap::new(),
            artifact_type: None,
        },
        layers,
        subject: None,
    };
    let bytes = to_json(&manifest)?;
    let manifest_digest = store
        .registry
        .push_manifest(repo, &tag, media::OCI_MANIFEST, &bytes)?;
    Ok(Attached {
        tag,
        manifest_digest,
        added: true,
        referrer,
    })
}

fn to_json(m: &WireManifest) -> Result<Vec<u8>, OciError> {
    serde_json::to_vec(m).map_err(|error| OciError::Json {
        what: "signature manifest".into(),
        error,
    })
}

/// Referrers must live beside their subject, so only a store in the image's
/// own repository gets one. Support is probed with a referrers query.
fn referrer_if_supported(
    store: &Store<'_>,
    subject: &Subject,
    kind: Kind,
    layer: &Layer,
) -> Result<Option<Digest>, OciError> {
    let repo = store.repository.as_str();
    if repo != subject.repository {
        return Ok(None);
    }
    let Some(existing) =
        store
            .registry
            .referrers(repo, &subject.digest, Some(kind.artifact_type()))?
    else {
        return Ok(None);
    };
    let desc = layer.descriptor();
    let manifest = WireManifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.to_string()),
        artifact_type: Some(kind.artifact_type().to_string()),
        config: Descriptor {
            media_type: OCI_EMPTY_MEDIA_TYPE.to_string(),
            digest: Digest::sha256_of(EMPTY_JSON),
            size: EMPTY_JSON.len() as u64,
            platform: None,
            annotations: BTreeMap::new(),
            artifact_type: None,
        },
        layers: vec![desc.clone()],
        subject: Some(subject.descriptor()),
    };
    let bytes = to_json(&manifest)?;
    let digest = Digest::sha256_of(&bytes);
    if existing.iter().any(|d| d.digest == digest) {
        return Ok(Some(digest));
    }
    store
        .registry
        .push_blob(repo, EMPTY_JSON, &Digest::sha256_of(EMPTY_JSON))?;
    store.registry.push_blob(repo, &layer.blob, &desc.digest)?;
    let pushed =
        store
            .registry
            .push_manifest(repo, &digest.to_string(), media::OCI_MANIFEST, &bytes)?;
    Ok(Some(pushed))
}

/// Where a signature manifest was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Tag(String),
    Referrer,
}

/// A signature (or attestation) manifest found for the subject: its layer
/// descriptors, or why it is not a signature manifest at all.
#[derive(Debug, Clone)]
pub struct Found {
    pub source: Source,
    pub digest: Digest,
    pub layers: Result<Vec<Descriptor>, String>,
}

impl Found {
    /// For messages: `tag sha256-….sig (sha256:…)` or `referrer sha256:…`.
    pub fn describe(&self) -> String {
        match &self.source {
            Source::Tag(t) => format!("{t} ({})", self.digest),
            Source::Referrer => format!("referrer {}", self.digest),
        }
    }
}

/// The subject's signature (or attestation) manifests: the cosign tag in
/// `store`, and the referrers of the subject where the registry has the API.
/// Registry failures are errors; a manifest that is not what it claims is a
/// [`Found`] with the reason.
pub fn find(store: &Store<'_>, subject: &Subject, kind: Kind) -> Result<Vec<Found>, OciError> {
    let repo = store.repository.as_str();
    let tag = kind.tag(&subject.digest);
    let mut found = Vec::new();
    match store.registry.manifest(repo, &tag, None, None) {
        Ok(m) => found.push(Found {
            source: Source::Tag(tag),
            digest: m.digest,
            layers: check_manifest(&m.bytes, m.media_type.as_deref(), None),
        }),
        Err(OciError::NotFound { .. }) => {}
        Err(e) => return Err(e),
    }
    if repo == subject.repository
        && let Some(refs) =
            store
                .registry
                .referrers(repo, &subject.digest, Some(kind.artifact_type()))?
    {
        for desc in refs.into_iter().take(MAX_REFERRER_MANIFESTS) {
            if found.iter().any(|f| f.digest == desc.digest) {
                continue;
            }
            let m = store.registry.manifest(
                repo,
                &desc.digest.to_string(),
                Some(&desc.digest),
                Some(desc.size),
            )?;
            found.push(Found {
                source: Source::Referrer,
                digest: m.digest,
                layers: check_manifest(&m.bytes, m.media_type.as_deref(), Some(&subject.digest)),
            });
        }
    }
    Ok(found)
}

/// The checks on a signature manifest itself: an image manifest (OCI, or
/// Docker's as cosign writes with `COSIGN_DOCKER_MEDIA_TYPES`), bounded, and
/// for a referrer, naming the subject.
fn check_manifest(
    bytes: &[u8],
    served_as: Option<&str>,
    subject: Option<&Digest>,
) -> Result<Vec<Descriptor>, String> {
    let m: WireManifest = serde_json::from_slice(bytes)
        .map_err(|e| format!("manifest check: not an image manifest: {e}"))?;
    let media_type = m.media_type.as_deref().or(served_as).unwrap_or_default();
    if !media::is_manifest(media_type) {
        return Err(format!(
            "manifest check: media type \"{media_type}\", expected {} or {}",
            media::OCI_MANIFEST,
            media::DOCKER_MANIFEST
        ));
    }
    if m.schema_version != 2 {
        return Err(format!(
            "manifest check: schemaVersion {}, expected 2",
            m.schema_version
        ));
    }
    if m.layers.len() > MAX_LAYERS {
        return Err(format!(
            "manifest check: {} layers, more than the {MAX_LAYERS} allowed",
            m.layers.len()
        ));
    }
    if let Some(want) = subject {
        match &m.subject {
            Some(s) if &s.digest == want => {}
            Some(s) => {
                return Err(format!(
                    "subject check: the referrer's subject is {}, not the image {want}",
                    s.digest
                ));
            }
            None => return Err("subject check: the referrer has no subject".into()),
        }
    }
    Ok(m.layers)
}

/// Why a layer could not be read: the layer is not what it claims (a
/// verification failure) or the registry failed (an error).
#[derive(Debug)]
pub enum LayerError {
    Invalid(String),
    Registry(OciError),
}

/// Fetches one layer's blob after checking its descriptor: the media type of
/// `kind`, a bounded size, and for signatures the signature annotation. The
/// blob is checked against the descriptor's digest and size.
pub fn load_layer(store: &Store<'_>, desc: &Descriptor, kind: Kind) -> Result<Layer, LayerError> {
    let want = kind.layer_media_type();
    if desc.media_type != want {
        return Err(LayerError::Invalid(format!(
            "media type check: layer media type \"{}\", expected \"{want}\"",
            desc.media_type
        )));
    }
    if desc.size > MAX_LAYER_BYTES {
        return Err(LayerError::Invalid(format!(
            "size check: layer of {} bytes, more than the {MAX_LAYER_BYTES} allowed",
            desc.size
        )));
    }
    if kind == Kind::Signature && !desc.annotations.contains_key(SIGNATURE_ANNOTATION) {
        return Err(LayerError::Invalid(format!(
            "annotation check: the layer has no {SIGNATURE_ANNOTATION} annotation"
        )));
    }
    let reader = match store.registry.blob(&store.repository, desc) {
        Ok(r) => r,
        Err(OciError::NotFound { what }) => {
            return Err(LayerError::Invalid(format!("blob check: {what}")));
        }
        Err(OciError::Invalid { message, .. }) => {
            return Err(LayerError::Invalid(format!("blob check: {message}")));
        }
        Err(e) => return Err(LayerError::Registry(e)),
    };
    let mut blob = Vec::new();
    match reader.take(MAX_LAYER_BYTES + 1).read_to_end(&mut blob) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            return Err(LayerError::Invalid(format!("blob check: {e}")));
        }
        Err(e) => {
            return Err(LayerError::Registry(OciError::io(
                format!("blob {}@{}", store.repository, desc.digest),
                e,
            )));
        }
    }
    Ok(Layer {
        media_type: desc.media_type.clone(),
        blob,
        annotations: desc.annotations.clone(),
    })
}

/// Decides which key a layer's signature must verify with.
pub trait Verifier: Send + Sync {
    /// What this verifier trusts (key, trust root and identity policy), as
    /// a stable string: part of verification cache keys.
    fn fingerprint(&self) -> String;
    /// The key to check this layer's signature with, once whatever the layer
    /// carries besides (a certificate, a Rekor bundle) has been checked.
    fn key_for(&self, layer: &Layer) -> Result<PublicKey, String>;
}

/// Trusts one public key (`--key`).
pub struct KeyVerifier {
    key: PublicKey,
    fingerprint: String,
    rekor: Option<SigstoreRoot>,
}

impl KeyVerifier {
    pub fn new(key: PublicKey) -> Self {
        let fingerprint = format!(
            "key:sha256:{}",
            hex::encode(Sha256::digest(key.to_spki_der()))
        );
        KeyVerifier {
            key,
            fingerprint,
            rekor: None,
        }
    }

    /// Also checks the Rekor bundle of signature layers that carry one: the
    /// SET by a Rekor key of `root`, and that the entry logs the layer's
    /// signature, payload digest and this key. Layers without one pass as
    /// with [`KeyVerifier::new`].
    pub fn with_rekor(key: PublicKey, root: SigstoreRoot) -> Self {
        let mut v = Self::new(key);
        v.fingerprint = format!("{};rekor:{}", v.fingerprint, root.fingerprint());
        v.rekor = Some(root);
        v
    }
}

impl Verifier for KeyVerifier {
    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }

    fn key_for(&self, layer: &Layer) -> Result<PublicKey, String> {
        if let Some(root) = &self.rekor {
            keyless::verify_key_bundle(layer, &self.key, &root.root).map_err(|e| e.to_string())?;
        }
        Ok(self.key.clone())
    }
}

/// Trusts signature layers whose certificate satisfies a
/// [`CertificatePolicy`] (cosign's keyless verification, or
/// `--certificate-chain`); see [`keyless::verify_certificate_layer`].
pub struct KeylessVerifier {
    policy: CertificatePolicy,
    fingerprint: String,
}

impl KeylessVerifier {
    pub fn new(policy: CertificatePolicy) -> Self {
        let fingerprint = format!("keyless:{}", policy.fingerprint());
        KeylessVerifier {
            policy,
            fingerprint,
        }
    }
}

impl Verifier for KeylessVerifier {
    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }

    fn key_for(&self, layer: &Layer) -> Result<PublicKey, String> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        keyless::verify_certificate_layer(layer, &self.policy, now)
            .map(|v| v.key)
            .map_err(|e| e.to_string())
    }
}

/// One signature that verified.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedSignature {
    /// The signature manifest it came from.
    pub manifest: Digest,
    pub layer: Digest,
    pub payload: Payload,
    /// The signed payload bytes, as cosign prints them.
    pub raw: Vec<u8>,
}

/// One signature (or whole manifest) that did not verify, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The manifest, as [`Found::describe`] says it.
    pub manifest: String,
    pub layer: Option<Digest>,
    pub reason: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.layer {
            Some(l) => write!(f, "{} layer {l}: {}", self.manifest, self.reason),
            None => write!(f, "{}: {}", self.manifest, self.reason),
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct SignatureReport {
    pub verified: Vec<VerifiedSignature>,
    pub failures: Vec<Failure>,
    /// Signature manifests found (0: the image is not signed at all).
    pub manifests: usize,
}

/// Finds and checks every signature of `subject`: each layer's descriptor
/// and blob, then [`simple::verify_signature_layer`] with the verifier's key
/// (signature, type, digest, `required` annotations). Registry failures are
/// errors; everything else is a [`Failure`] in the report. With a cache,
/// a signature manifest already verified for this image, verifier and
/// constraints is answered without fetching or verifying its layers.
pub fn verify_signatures(
    store: &Store<'_>,
    subject: &Subject,
    verifier: &dyn Verifier,
    required: &BTreeMap<String, String>,
    cache: Option<&VerifyCache>,
) -> Result<SignatureReport, OciError> {
    let found = find(store, subject, Kind::Signature)?;
    let mut report = SignatureReport {
        manifests: found.len(),
        ..SignatureReport::default()
    };
    for manifest in &found {
        let key = cache.map(|_| {
            CacheKey::new(
                &subject.digest,
                &verifier.fingerprint(),
                &manifest.digest,
                required,
            )
        });
        if let (Some(c), Some(k)) = (cache, &key)
            && let Some(hit) = c.get(k)
        {
            report.verified.extend(hit);
            continue;
        }
        let (verified, failures) = verify_manifest(store, subject, manifest, verifier, required)?;
        if let (Some(c), Some(k)) = (cache, &key)
            && failures.is_empty()
            && !verified.is_empty()
        {
            c.put(k, &verified);
        }
        report.verified.extend(verified);
        report.failures.extend(failures);
    }
    // The same signature is often both under the tag and a referrer; one
    // payload verified by the same verifier is one signature.
    let mut seen = std::collections::HashSet::new();
    report.verified.retain(|v| seen.insert(v.layer.clone()));
    Ok(report)
}

fn verify_manifest(
    store: &Store<'_>,
    subject: &Subject,
    manifest: &Found,
    verifier: &dyn Verifier,
    required: &BTreeMap<String, String>,
) -> Result<(Vec<VerifiedSignature>, Vec<Failure>), OciError> {
    let (mut verified, mut failures) = (Vec::new(), Vec::new());
    let descs = match &manifest.layers {
        Ok(d) => d,
        Err(reason) => {
            failures.push(Failure {
                manifest: manifest.describe(),
                layer: None,
                reason: reason.clone(),
            });
            return Ok((verified, failures));
        }
    };
    if descs.is_empty() {
        failures.push(Failure {
            manifest: manifest.describe(),
            layer: None,
            reason: "the manifest has no signature layers".into(),
        });
    }
    let expected = subject.digest.to_string();
    for desc in descs {
        let fail = |reason: String| Failure {
            manifest: manifest.describe(),
            layer: Some(desc.digest.clone()),
            reason,
        };
        let layer = match load_layer(store, desc, Kind::Signature) {
            Ok(l) => l,
            Err(LayerError::Invalid(reason)) => {
                failures.push(fail(reason));
                continue;
            }
            Err(LayerError::Registry(e)) => return Err(e),
        };
        let key = match verifier.key_for(&layer) {
            Ok(k) => k,
            Err(reason) => {
                failures.push(fail(reason));
                continue;
            }
        };
        // Go's base64 decoder, which cosign uses, skips line breaks, and
        // cosign writes RSA signatures wrapped.
        let signature: String = layer
            .annotations
            .get(SIGNATURE_ANNOTATION)
            .map(String::as_str)
            .unwrap_or_default()
            .chars()
            .filter(|c| !matches!(c, '\r' | '\n'))
            .collect();
        match simple::verify_signature_layer(&layer.blob, &signature, &key, &expected, required) {
            Ok(payload) => verified.push(VerifiedSignature {
                manifest: manifest.digest.clone(),
                layer: desc.digest.clone(),
                payload,
                raw: layer.blob,
            }),
            Err(e) => failures.push(fail(e.to_string())),
        }
    }
    Ok((verified, failures))
}

/// The identity of one verification: everything its result depends on.
/// Manifests and layers are content-addressed, so the same key always has
/// the same answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CacheKey {
    image: String,
    verifier: String,
    manifest: String,
    required: BTreeMap<String, String>,
}

impl CacheKey {
    pub fn new(
        image: &Digest,
        verifier: &str,
        manifest: &Digest,
        required: &BTreeMap<String, String>,
    ) -> Self {
        CacheKey {
            image: image.to_string(),
            verifier: verifier.to_string(),
            manifest: manifest.to_string(),
            required: required.clone(),
        }
    }

    fn file_name(&self) -> String {
        let mut h = Sha256::new();
        for part in [&self.image, &self.verifier, &self.manifest] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        for (k, v) in &self.required {
            h.update(k.as_bytes());
            h.update([0]);
            h.update(v.as_bytes());
            h.update([0]);
        }
        format!("{}.json", hex::encode(h.finalize()))
    }
}

#[derive(Serialize, Deserialize)]
struct DiskEntry {
    key: CacheKey,
    signatures: Vec<DiskSignature>,
}

#[derive(Serialize, Deserialize)]
struct DiskSignature {
    layer: Digest,
    payload: String,
}

/// Cache entries on disk are small JSON files; refuse anything larger.
const MAX_CACHE_FILE: u64 = 1 << 20;

/// Verified signatures by [`CacheKey`], in memory and optionally in a
/// directory (one JSON file per key). Only successes are cached. The disk
/// copy is as trusted as the cache directory: whoever can write there can
/// make bosun accept a signature, as with the binary itself.
pub struct VerifyCache {
    memory: Mutex<HashMap<CacheKey, Arc<Vec<VerifiedSignature>>>>,
    dir: Option<PathBuf>,
}

impl VerifyCache {
    pub fn in_memory() -> Self {
        VerifyCache {
            memory: Mutex::new(HashMap::new()),
            dir: None,
        }
    }

    /// Also kept under `dir` (created when first written).
    pub fn with_dir(dir: PathBuf) -> Self {
        VerifyCache {
            memory: Mutex::new(HashMap::new()),
            dir: Some(dir),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CacheKey, Arc<Vec<VerifiedSignature>>>> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, key: &CacheKey) -> Option<Vec<VerifiedSignature>> {
        if let Some(hit) = self.lock().get(key) {
            return Some(hit.as_ref().clone());
        }
        let from_disk = self.read_disk(key)?;
        self.lock().insert(key.clone(), Arc::new(from_disk.clone()));
        Some(from_disk)
    }

    pub fn put(&self, key: &CacheKey, verified: &[VerifiedSignature]) {
        self.lock().insert(key.clone(), Arc::new(verified.to_vec()));
        if let Err(e) = self.write_disk(key, verified) {
            tracing::warn!("verification cache: cannot write: {e}");
        }
    }

    /// A damaged, foreign or inconsistent entry is a miss.
    fn read_disk(&self, key: &CacheKey) -> Option<Vec<VerifiedSignature>> {
        let path = self.dir.as_ref()?.join(key.file_name());
        let mut bytes = Vec::new();
        std::fs::File::open(&path)
            .ok()?
            .take(MAX_CACHE_FILE + 1)
            .read_to_end(&mut bytes)
            .ok()?;
        let entry: DiskEntry = serde_json::from_slice(&bytes).ok()?;
        if &entry.key != key || entry.signatures.is_empty() {
            return None;
        }
        let manifest: Digest = key.manifest.parse().ok()?;
        entry
            .signatures
            .into_iter()
            .map(|s| {
                let raw = s.payload.into_bytes();
                let payload = Payload::parse(&raw).ok()?;
                (payload.manifest_digest == key.image && s.layer.matches(&raw)).then(|| {
                    VerifiedSignature {
                        manifest: manifest.clone(),
                        layer: s.layer,
                        payload,
                        raw,
                    }
                })
            })
            .collect()
    }

    fn write_disk(&self, key: &CacheKey, verified: &[VerifiedSignature]) -> std::io::Result<()> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let signatures = verified
            .iter()
            .map(|v| {
                Some(DiskSignature {
                    layer: v.layer.clone(),
                    payload: String::from_utf8(v.raw.clone()).ok()?,
                })
            })
            .collect::<Option<Vec<_>>>();
        // Payloads that are not UTF-8 text are verified again next time.
        let Some(signatures) = signatures else {
            return Ok(());
        };
        let entry = DiskEntry {
            key: key.clone(),
            signatures,
        };
        let bytes = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
        std::fs::create_dir_all(dir)?;
        let path = dir.join(key.file_name());
        // Write then rename: concurrent readers see the old file or the new one.
        let tmp = dir.join(format!(".{}.{}", key.file_name(), std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &path)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const D: &str = "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00";

    #[test]
    fn tags_match_the_simple_signing_helpers() {
        let d: Digest = D.parse().unwrap();
        assert_eq!(Kind::Signature.tag(&d), simple::signature_tag(D).unwrap());
        assert_eq!(
            Kind::Attestation.tag(&d),
            simple::attestation_tag(D).unwrap()
        );
    }

    #[test]
    fn config_has_one_diff_id_and_history_entry_per_layer() {
        let layer = Layer {
            media_type: SIMPLE_SIGNING_MEDIA_TYPE.into(),
            blob: b"payload".to_vec(),
            annotations: BTreeMap::new(),
        };
        let config: serde_json::Value =
            serde_json::from_slice(&signature_config(&[layer.descriptor(), layer.descriptor()]))
                .unwrap();
        assert_eq!(config["rootfs"]["type"], "layers");
        assert_eq!(config["rootfs"]["diff_ids"][1], layer.digest().to_string());
        assert_eq!(config["history"].as_array().unwrap().len(), 2);
        // bosun-oci's reader accepts it as an image config.
        let _: bosun_oci::manifest::ImageConfig = serde_json::from_value(config).unwrap();
    }

    #[test]
    fn manifest_checks_name_the_check() {
        let good = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
            "config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,
            "digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}"#;
        assert!(check_manifest(good, None, None).is_ok());
        let index = String::from_utf8_lossy(good).replace("image.manifest", "image.index");
        let e = check_manifest(index.as_bytes(), None, None).unwrap_err();
        assert!(e.starts_with("manifest check: media type"), "{e}");
        let e = check_manifest(good, None, Some(&D.parse().unwrap())).unwrap_err();
        assert!(e.starts_with("subject check"), "{e}");
        assert!(check_manifest(b"{", None, None).is_err());
        assert!(check_manifest(b"[]", None, None).is_err());
    }

    #[test]
    fn disk_cache_round_trips_and_refuses_foreign_entries() {
        let tmp = tempfile::tempdir().unwrap();
        let payload = Payload::new("r/x", D, BTreeMap::new()).unwrap();
        let raw = payload.to_bytes();
        let manifest = Digest::sha256_of(b"m");
        let sig = VerifiedSignature {
            manifest: manifest.clone(),
            layer: Digest::sha256_of(&raw),
            payload,
            raw,
        };
        let key = CacheKey::new(&D.parse().unwrap(), "key:x", &manifest, &BTreeMap::new());
        VerifyCache::with_dir(tmp.path().to_path_buf()).put(&key, std::slice::from_ref(&sig));
        let fresh = VerifyCache::with_dir(tmp.path().to_path_buf());
        assert_eq!(fresh.get(&key), Some(vec![sig]));
        let other = CacheKey::new(&D.parse().unwrap(), "key:y", &manifest, &BTreeMap::new());
        assert_eq!(fresh.get(&other), None);
        // An entry copied under another key's name is refused.
        std::fs::copy(
            tmp.path().join(key.file_name()),
            tmp.path().join(other.file_name()),
        )
        .unwrap();
        assert_eq!(
            VerifyCache::with_dir(tmp.path().to_path_buf()).get(&other),
            None
        );
        std::fs::write(tmp.path().join(key.file_name()), b"garbage").unwrap();
        assert_eq!(
            VerifyCache::with_dir(tmp.path().to_path_buf()).get(&key),
            None
        );
    }
}
