//! `bosun key generate`, `public-key`, `sign`, `verify`, `attest` and
//! `verify-attestation`: cosign-compatible keys, signatures and attestations.
//! Exit codes of the verify commands: 0 verified, 1 nothing verified, 2 an
//! error (unreachable registry, unreadable key...).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use bosun_core::Reference;
use bosun_oci::registry::{Registry, RegistryOptions};
use bosun_sign::attest::{self, Statement};
use bosun_sign::keyless::{CertificateChain, CertificatePolicy, SigstoreRoot, Trust};
use bosun_sign::keys::{KeyError, PrivateKey, PublicKey};
use bosun_sign::oci::{
    self, Failure, KeyVerifier, KeylessVerifier, Kind, Store, Subject, Verifier, VerifyCache,
};
use bosun_sign::sigstore;
use bosun_sign::simple::Payload;
use clap::{Args, Subcommand};
use zeroize::Zeroizing;

use crate::EXIT_FINDINGS as EXIT_NOT_VERIFIED;

/// Key files are a few hundred bytes.
const MAX_KEY_FILE: u64 = 1 << 20;
/// Trusted roots are a few tens of KiB.
const MAX_TRUSTED_ROOT_FILE: u64 = 4 << 20;
/// Predicates are whole SBOMs or scan reports.
const MAX_PREDICATE_FILE: u64 = 64 << 20;
/// Where a key's password comes from when set, in this order: bosun's own
/// variable, then cosign's, so scripts written for cosign work unchanged.
const PASSWORD_ENVS: [&str; 2] = ["BOSUN_PASSWORD", "COSIGN_PASSWORD"];

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Write a new ECDSA P-256 key pair: PREFIX.key (encrypted as cosign
    /// does; password from BOSUN_PASSWORD, COSIGN_PASSWORD or a prompt;
    /// never empty) and PREFIX.pub.
    Generate(GenerateArgs),
}

#[derive(Args)]
pub struct GenerateArgs {
    /// Write PREFIX.key and PREFIX.pub.
    #[arg(long, default_value = "bosun", value_name = "PREFIX")]
    output_key_prefix: String,
    /// Replace existing files.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
pub struct PublicKeyArgs {
    /// Private key file (cosign's encrypted format or PKCS#8 PEM).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
}

/// How to reach registries, as for `bosun sbom`.
#[derive(Args)]
pub struct RegistryArgs {
    /// Allow plain HTTP to registries (never done otherwise).
    #[arg(long)]
    insecure: bool,
    /// Trust this PEM CA bundle for registry TLS (repeatable).
    #[arg(long = "ca-cert", value_name = "PEM")]
    ca_certs: Vec<PathBuf>,
    /// Docker config file with registry credentials [default: $DOCKER_CONFIG/config.json or ~/.docker/config.json].
    #[arg(long, value_name = "FILE")]
    docker_config: Option<PathBuf>,
    /// Keep signatures and attestations in this repository (HOST/REPO)
    /// instead of the image's, as cosign's COSIGN_REPOSITORY.
    #[arg(long, env = "BOSUN_REPOSITORY", value_name = "HOST/REPO")]
    signature_repo: Option<String>,
}

#[derive(Args)]
pub struct SignArgs {
    /// The image: HOST[:PORT]/REPO[:TAG|@DIGEST]. A tag is resolved and its
    /// digest is what gets signed.
    image: String,
    /// Private key file.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Annotation to sign into the payload's `optional` (repeatable).
    #[arg(short = 'a', long = "annotations", value_name = "KEY=VALUE")]
    annotations: Vec<String>,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The image: HOST[:PORT]/REPO[:TAG|@DIGEST].
    image: String,
    /// Public key file (PKIX PEM, or a certificate). Without it, signatures
    /// must carry a certificate with the identity given below (keyless).
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Keyless: the signer identity the certificate must carry (SAN: email, URI...).
    #[arg(long, value_name = "IDENTITY", conflicts_with = "key")]
    certificate_identity: Option<String>,
    /// Keyless: a regular expression the certificate identity must match
    /// (unanchored, as cosign's).
    #[arg(long, value_name = "REGEX", conflicts_with_all = ["key", "certificate_identity"])]
    certificate_identity_regexp: Option<String>,
    /// Keyless: the OIDC issuer the certificate must name.
    #[arg(long, value_name = "ISSUER", conflicts_with = "key")]
    certificate_oidc_issuer: Option<String>,
    /// Keyless: a regular expression the OIDC issuer must match (unanchored).
    #[arg(long, value_name = "REGEX", conflicts_with_all = ["key", "certificate_oidc_issuer"])]
    certificate_oidc_issuer_regexp: Option<String>,
    /// trusted_root.json with the Fulcio CAs, CT logs and Rekor keys
    /// [default: Sigstore public-good, built in]. With --key, the Rekor
    /// bundle of signatures that carry one is checked against it.
    #[arg(long, value_name = "FILE")]
    trusted_root: Option<PathBuf>,
    /// Keyless with a private PKI: PEM CA certificates (intermediates and
    /// root) the signing certificate must chain to, valid now. No Rekor
    /// bundle or SCT is required (cosign's --certificate-chain with
    /// --insecure-ignore-tlog --insecure-ignore-sct).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["key", "trusted_root"])]
    certificate_chain: Option<PathBuf>,
    /// Require this annotation in the signed payload (repeatable).
    #[arg(short = 'a', long = "annotations", value_name = "KEY=VALUE")]
    annotations: Vec<String>,
    /// Set from the global `--no-cache` (the verification cache).
    #[arg(skip)]
    pub(crate) no_cache: bool,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(Args)]
pub struct AttestArgs {
    /// The image: HOST[:PORT]/REPO[:TAG|@DIGEST].
    image: String,
    /// Private key file.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The predicate: a JSON file (an SBOM, a provenance, a scan report).
    #[arg(long, value_name = "FILE")]
    predicate: PathBuf,
    /// Predicate type: slsaprovenance, slsaprovenance1, spdx, cyclonedx,
    /// vuln, link, openvex, custom, or a URI.
    #[arg(long = "type", default_value = "custom", value_name = "TYPE")]
    predicate_type: String,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(Args)]
pub struct VerifyAttestationArgs {
    /// The image: HOST[:PORT]/REPO[:TAG|@DIGEST].
    image: String,
    /// Public key file.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Only statements of this predicate type (a name as for `attest`, or
    /// a URI) [default: any].
    #[arg(long = "type", value_name = "TYPE")]
    predicate_type: Option<String>,
    #[command(flatten)]
    registry: RegistryArgs,
}

pub fn key(cmd: KeyCommand) -> anyhow::Result<ExitCode> {
    let KeyCommand::Generate(a) = cmd;
    let private = PathBuf::from(format!("{}.key", a.output_key_prefix));
    let public = PathBuf::from(format!("{}.pub", a.output_key_prefix));
    if !a.force {
        for p in [&private, &public] {
            if p.exists() {
                bail!("{} exists; use --force to replace it", p.display());
            }
        }
    }
    let password = new_password()?;
    let key = PrivateKey::generate_p256();
    let pem = key.to_encrypted_pem(password.as_bytes())?;
    write_file(&private, pem.as_bytes(), true, a.force)?;
    write_file(
        &public,
        key.public_key().to_pem().as_bytes(),
        false,
        a.force,
    )?;
    eprintln!(
        "Private key written to {}\nPublic key written to {}",
        private.display(),
        public.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn public_key(a: PublicKeyArgs) -> anyhow::Result<ExitCode> {
    let key = load_private_key(&a.key)?;
    print!("{}", key.public_key().to_pem());
    Ok(ExitCode::SUCCESS)
}

pub fn sign(a: SignArgs) -> anyhow::Result<ExitCode> {
    let annotations = parse_annotations(&a.annotations)?;
    let key = load_private_key(&a.key)?;
    let target = Target::open(&a.image, &a.registry)?;
    let subject = &target.subject;
    if let Some(tag) = &subject.tag {
        eprintln!("signing {} (tag {tag})", subject.digest);
    }
    let payload = Payload::new(&subject.name, &subject.digest.to_string(), annotations)?.to_bytes();
    let layer = oci::signature_layer(payload, &key)?;
    let done = oci::attach(&target.store(), subject, Kind::Signature, &layer)?;
    report_attached(&target, &done, "signature");
    Ok(ExitCode::SUCCESS)
}

pub fn verify(cache_dir: Option<PathBuf>, a: VerifyArgs) -> anyhow::Result<ExitCode> {
    let required = parse_annotations(&a.annotations)?;
    let (verifier, checked) = verifier(&a)?;
    let target = Target::open(&a.image, &a.registry)?;
    // A private PKI's certificates are checked against the clock, so a
    // cached success could outlive them.
    let cache = crate::cache_root(cache_dir, a.no_cache || a.certificate_chain.is_some())
        .map(|d| VerifyCache::with_dir(d.join("verify")));
    let report = oci::verify_signatures(
        &target.store(),
        &target.subject,
        verifier.as_ref(),
        &required,
        cache.as_ref(),
    )?;
    print_failures("signature", &report.failures, !report.verified.is_empty());
    if report.verified.is_empty() {
        return Ok(not_verified(&target, Kind::Signature, report.manifests));
    }
    let payloads: Vec<serde_json::Value> = report
        .verified
        .iter()
        .map(|v| serde_json::from_slice(&v.raw).unwrap_or(serde_json::Value::Null))
        .collect();
    eprintln!(
        "Verified {} signature(s) of {}@{}: {checked}, payload digest, type and signature checked{}",
        payloads.len(),
        target.subject.name,
        target.subject.digest,
        if required.is_empty() {
            ""
        } else {
            ", annotations matched"
        }
    );
    print_json(&serde_json::Value::Array(payloads))?;
    Ok(ExitCode::SUCCESS)
}

/// The verifier the flags ask for, and what it checks (for the summary).
fn verifier(a: &VerifyArgs) -> anyhow::Result<(Box<dyn Verifier>, &'static str)> {
    let trusted_root = || -> anyhow::Result<SigstoreRoot> {
        let bytes = match &a.trusted_root {
            Some(p) => read_bounded(p, MAX_TRUSTED_ROOT_FILE)?,
            None => sigstore::PUBLIC_GOOD_TRUSTED_ROOT.to_vec(),
        };
        SigstoreRoot::from_json(&bytes).context("trusted root")
    };
    if let Some(path) = &a.key {
        let key = load_public_key(path)?;
        return Ok(match &a.trusted_root {
            Some(_) => (
                Box::new(KeyVerifier::with_rekor(key, trusted_root()?)),
                "key, Rekor bundle (when present)",
            ),
            None => (Box::new(KeyVerifier::new(key)), "key"),
        });
    }
    let san = crate::verify_blob::matcher(
        &a.certificate_identity,
        &a.certificate_identity_regexp,
        "--certificate-identity-regexp",
    )?
    .context(
        "give --key, or --certificate-identity or --certificate-identity-regexp for keyless verification",
    )?;
    let issuer = crate::verify_blob::matcher(
        &a.certificate_oidc_issuer,
        &a.certificate_oidc_issuer_regexp,
        "--certificate-oidc-issuer-regexp",
    )?;
    let (trust, checked) = match &a.certificate_chain {
        Some(path) => {
            let pem = read_bounded(path, MAX_KEY_FILE)?;
            let chain = CertificateChain::from_pem(&pem)
                .with_context(|| format!("--certificate-chain {}", path.display()))?;
            (
                Trust::Chain(chain),
                "certificate chain, validity and identity",
            )
        }
        None => {
            if issuer.is_none() {
                bail!(
                    "--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for keyless verification (only --certificate-chain goes without)"
                );
            }
            (
                Trust::Sigstore(trusted_root()?),
                "Rekor SET and entry, Fulcio chain and validity at the logged time, SCT, identity",
            )
        }
    };
    let policy = CertificatePolicy { trust, san, issuer };
    Ok((Box::new(KeylessVerifier::new(policy)), checked))
}

/// An exact string, or an unanchored regular expression as cosign's (Go's
/// MatchString): write ^...$ for a whole match.
pub fn attest(a: AttestArgs) -> anyhow::Result<ExitCode> {
    let predicate_type = attest::predicate_type(&a.predicate_type)?;
    let predicate = read_bounded(&a.predicate, MAX_PREDICATE_FILE)?;
    let predicate: serde_json::Value = serde_json::from_slice(&predicate)
        .with_context(|| format!("predicate {} is not JSON", a.predicate.display()))?;
    let key = load_private_key(&a.key)?;
    let target = Target::open(&a.image, &a.registry)?;
    if let Some(tag) = &target.subject.tag {
        eprintln!("attesting {} (tag {tag})", target.subject.digest);
    }
    let statement = Statement::new(&target.subject, &predicate_type, predicate);
    let done = attest::attach(&target.store(), &target.subject, &statement, &key)?;
    report_attached(&target, &done, "attestation");
    Ok(ExitCode::SUCCESS)
}

pub fn verify_attestation(a: VerifyAttestationArgs) -> anyhow::Result<ExitCode> {
    let predicate_type = a
        .predicate_type
        .as_deref()
        .map(attest::predicate_type)
        .transpose()?;
    let key = load_public_key(&a.key)?;
    let target = Target::open(&a.image, &a.registry)?;
    let verifier = KeyVerifier::new(key);
    let report = attest::verify_attestations(
        &target.store(),
        &target.subject,
        &verifier,
        predicate_type.as_deref(),
    )?;
    print_failures("attestation", &report.failures, !report.verified.is_empty());
    if report.verified.is_empty() {
        return Ok(not_verified(&target, Kind::Attestation, report.manifests));
    }
    eprintln!(
        "Verified {} attestation(s) of {}@{}: envelope signature, subject digest{} checked",
        report.verified.len(),
        target.subject.name,
        target.subject.digest,
        if predicate_type.is_some() {
            " and predicate type"
        } else {
            ""
        }
    );
    let statements: Vec<&Statement> = report.verified.iter().map(|v| &v.statement).collect();
    print_json(&serde_json::to_value(statements)?)?;
    Ok(ExitCode::SUCCESS)
}

/// The image, the registry clients, and where its signatures live.
struct Target {
    registry: Registry,
    /// A client for `--signature-repo` when it is on another registry.
    other_registry: Option<Registry>,
    signature_repo: String,
    subject: Subject,
}

impl Target {
    fn open(image: &str, args: &RegistryArgs) -> anyhow::Result<Target> {
        let reference: Reference = image
            .strip_prefix("registry:")
            .unwrap_or(image)
            .parse()
            .with_context(|| format!("image {image:?}"))?;
        let options = RegistryOptions {
            insecure: args.insecure,
            ca_certs: args.ca_certs.clone(),
            docker_config: args.docker_config.clone(),
            ..Default::default()
        };
        let registry = Registry::new(&reference.registry, &options)?;
        let subject = oci::resolve(&registry, &reference)?;
        let (other_registry, signature_repo) = match &args.signature_repo {
            None => (None, reference.repository.clone()),
            Some(r) => {
                let repo: Reference = r
                    .parse()
                    .with_context(|| format!("--signature-repo {r:?}"))?;
                if repo.tag.is_some() || repo.digest.is_some() {
                    bail!("--signature-repo {r:?} must name a repository, without a tag or digest");
                }
                let other = (repo.registry != reference.registry)
                    .then(|| Registry::new(&repo.registry, &options))
                    .transpose()?;
                (other, repo.repository)
            }
        };
        Ok(Target {
            registry,
            other_registry,
            signature_repo,
            subject,
        })
    }

    fn store(&self) -> Store<'_> {
        Store {
            registry: self.other_registry.as_ref().unwrap_or(&self.registry),
            repository: self.signature_repo.clone(),
        }
    }
}

fn report_attached(target: &Target, done: &oci::Attached, what: &str) {
    let host = target.store().registry.host().to_string();
    if done.added {
        eprintln!(
            "pushed {what} to {host}/{}:{} ({})",
            target.signature_repo, done.tag, done.manifest_digest
        );
    } else {
        eprintln!(
            "{host}/{}:{} already holds this {what}",
            target.signature_repo, done.tag
        );
    }
    if let Some(r) = &done.referrer {
        eprintln!(
            "pushed {what} as a referrer of {} ({r})",
            target.subject.digest
        );
    }
}

fn not_verified(target: &Target, kind: Kind, manifests: usize) -> ExitCode {
    let what = match kind {
        Kind::Signature => "signatures",
        Kind::Attestation => "attestations",
    };
    if manifests == 0 {
        eprintln!(
            "error: no {what} found for {}@{} (tag {} in {}, and referrers)",
            target.subject.name,
            target.subject.digest,
            kind.tag(&target.subject.digest),
            target.signature_repo
        );
    } else {
        eprintln!(
            "error: none of the {what} of {}@{} verified",
            target.subject.name, target.subject.digest
        );
    }
    ExitCode::from(EXIT_NOT_VERIFIED)
}

/// Why each other signature failed. When one verified, the others are
/// most often someone else's (another key, a CI system's): not an alarm.
fn print_failures(what: &str, failures: &[Failure], any_verified: bool) {
    for f in failures {
        if any_verified {
            eprintln!("note: another {what} does not verify with what was given (skipped): {f}");
        } else {
            eprintln!("{what} not verified: {f}");
        }
    }
}

fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

fn parse_annotations(items: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    items
        .iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => bail!("annotation {kv:?} is not KEY=VALUE"),
        })
        .collect()
}

fn read_bounded(path: &Path, limit: u64) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > limit {
        bail!("{} is larger than {limit} bytes", path.display());
    }
    Ok(bytes)
}

fn load_public_key(path: &Path) -> anyhow::Result<PublicKey> {
    let pem = read_bounded(path, MAX_KEY_FILE)?;
    PublicKey::from_pem(&pem).with_context(|| format!("key {}", path.display()))
}

/// Asks for the password only when the key is encrypted.
fn load_private_key(path: &Path) -> anyhow::Result<PrivateKey> {
    let pem = Zeroizing::new(read_bounded(path, MAX_KEY_FILE)?);
    let key = match PrivateKey::from_pem(&pem, None) {
        Err(KeyError::PasswordRequired) => {
            let (password, from) = password(&format!(
                "Enter password for private key {}: ",
                path.display()
            ))?;
            PrivateKey::from_pem(&pem, Some(password.as_bytes())).map_err(|e| {
                // An empty variable is most often a script's mistake: say so.
                match from {
                    Some(var) if password.is_empty() => {
                        anyhow::Error::new(e).context(format!("{var} is set but empty"))
                    }
                    _ => anyhow::Error::new(e),
                }
            })
        }
        other => other.map_err(anyhow::Error::new),
    };
    key.with_context(|| format!("key {}", path.display()))
}

/// The password and the variable it came from (`None`: typed at a prompt).
fn password(prompt: &str) -> anyhow::Result<(Zeroizing<String>, Option<&'static str>)> {
    for var in PASSWORD_ENVS {
        if let Ok(p) = std::env::var(var) {
            return Ok((Zeroizing::new(p), Some(var)));
        }
    }
    rpassword::prompt_password(prompt)
        .map(|p| (Zeroizing::new(p), None))
        .with_context(|| {
            format!(
                "cannot read a password from the terminal (set {})",
                PASSWORD_ENVS.join(" or ")
            )
        })
}

/// A new key's password: never empty, since an encrypted key anyone can
/// open is worse than none (it looks protected).
fn new_password() -> anyhow::Result<Zeroizing<String>> {
    let (first, from) = password("Enter password for private key: ")?;
    if let Some(var) = from {
        if first.is_empty() {
            bail!("{var} is set but empty: give the new key a password");
        }
        return Ok(first);
    }
    if first.is_empty() {
        bail!("the password is empty: give the new key a password");
    }
    let (again, _) = password("Enter password for private key again: ")?;
    if first != again {
        bail!("the passwords do not match");
    }
    Ok(first)
}

/// Writes a new file (replacing one only with `force`); the private key
/// readable by its owner only.
fn write_file(path: &Path, bytes: &[u8], secret: bool, force: bool) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if force {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("cannot replace {}", path.display()));
            }
            _ => {}
        }
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(if secret { 0o600 } else { 0o644 })
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// `--attest --key K` on `sbom` and `scan`: attach `predicate` to the image
/// that was just analysed, by the digest that was analysed (not by its tag,
/// which may have moved since).
pub struct AttestRequest<'a> {
    pub reference: &'a Reference,
    pub digest: &'a bosun_core::Digest,
    pub key: &'a Path,
    pub predicate_type: &'a str,
    pub insecure: bool,
    pub ca_certs: &'a [PathBuf],
    pub docker_config: Option<&'a PathBuf>,
}

pub fn attest_result(req: &AttestRequest<'_>, predicate: serde_json::Value) -> anyhow::Result<()> {
    let predicate_type = attest::predicate_type(req.predicate_type)?;
    let key = load_private_key(req.key)?;
    let pinned = Reference {
        tag: None,
        digest: Some(req.digest.clone()),
        ..req.reference.clone()
    };
    let args = RegistryArgs {
        insecure: req.insecure,
        ca_certs: req.ca_certs.to_vec(),
        docker_config: req.docker_config.cloned(),
        signature_repo: std::env::var("BOSUN_REPOSITORY")
            .ok()
            .filter(|s| !s.is_empty()),
    };
    let target = Target::open(&pinned.to_string(), &args)?;
    let statement = Statement::new(&target.subject, &predicate_type, predicate);
    let done = attest::attach(&target.store(), &target.subject, &statement, &key)?;
    report_attached(&target, &done, "attestation");
    Ok(())
}

/// The `--attest` flags `sbom` and `scan` share.
#[derive(Args)]
pub struct AttestFlags {
    /// Sign the result as an in-toto attestation and push it beside the
    /// image, as `bosun attest` does (registry images only).
    #[arg(long, requires = "key")]
    pub attest: bool,
    /// Private key for --attest.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
}

impl AttestFlags {
    /// Fails before any work when --attest cannot be honoured for `target`.
    pub fn check(&self, target: &bosun_scan::Target) -> anyhow::Result<()> {
        if self.attest && !matches!(target, bosun_scan::Target::Registry(_)) {
            bail!("--attest needs an image in a registry (the attestation is pushed beside it)");
        }
        Ok(())
    }

    /// Attaches `predicate` to the scanned image when --attest was given.
    pub fn attach(
        &self,
        target: &bosun_scan::Target,
        sbom: &bosun_sbom::Sbom,
        image: &crate::ImageArgs,
        predicate_type: &str,
        predicate: impl FnOnce() -> anyhow::Result<serde_json::Value>,
    ) -> anyhow::Result<()> {
        let (true, Some(key), bosun_scan::Target::Registry(reference)) =
            (self.attest, &self.key, target)
        else {
            return Ok(());
        };
        let digest = sbom
            .source
            .image
            .as_ref()
            .and_then(|i| i.manifest_digest.as_ref())
            .context("--attest: the scan recorded no manifest digest")?;
        attest_result(
            &AttestRequest {
                reference,
                digest,
                key,
                predicate_type,
                insecure: image.insecure,
                ca_certs: &image.ca_certs,
                docker_config: image.docker_config.as_ref(),
            },
            predicate()?,
        )
    }
}
