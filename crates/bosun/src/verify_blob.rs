//! `bosun verify-blob`: a Sigstore bundle over a file or a digest, offline,
//! spelled as cosign spells it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use bosun_sign::sigstore::{
    self, Artifact, Bundle, HashAlgorithm, Identity, Policy, StringMatch, TrustedRoot, VerifyError,
    VerifyingKey,
};
use clap::Args;

/// Largest bundle or artifact read into memory (artifacts larger than this
/// are hashed by the caller and passed with --digest).
const MAX_FILE: u64 = 1 << 30;

#[derive(Args)]
pub struct VerifyBlobArgs {
    /// The file that was signed (or give --digest).
    #[arg(required_unless_present = "digest", conflicts_with = "digest")]
    file: Option<PathBuf>,
    /// The Sigstore bundle (.sigstore.json), v0.1 to v0.3.
    #[arg(long, value_name = "FILE")]
    bundle: PathBuf,
    /// The artifact's digest instead of the file: sha256:HEX (also sha384, sha512).
    #[arg(long, value_name = "ALG:HEX")]
    digest: Option<String>,
    /// Verify against this public key (PEM) instead of a Fulcio certificate.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// The signer identity the certificate must carry (SAN: email, URI...).
    #[arg(long)]
    certificate_identity: Option<String>,
    /// A regular expression the certificate identity must match (unanchored).
    #[arg(long, value_name = "REGEX", conflicts_with = "certificate_identity")]
    certificate_identity_regexp: Option<String>,
    /// The OIDC issuer the certificate must name.
    #[arg(long)]
    certificate_oidc_issuer: Option<String>,
    /// A regular expression the OIDC issuer must match.
    #[arg(long, value_name = "REGEX", conflicts_with = "certificate_oidc_issuer")]
    certificate_oidc_issuer_regexp: Option<String>,
    /// trusted_root.json to verify against [default: Sigstore public-good, built in].
    #[arg(long, value_name = "FILE")]
    trusted_root: Option<PathBuf>,
}

fn read(path: &PathBuf, what: &str) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let f =
        std::fs::File::open(path).with_context(|| format!("opening {what} {}", path.display()))?;
    let mut buf = Vec::new();
    f.take(MAX_FILE + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("reading {what} {}", path.display()))?;
    if buf.len() as u64 > MAX_FILE {
        anyhow::bail!("{what} {} is larger than {MAX_FILE} bytes", path.display());
    }
    Ok(buf)
}

/// `--X` / `--X-regexp` as one constraint (shared with `bosun verify`).
pub(crate) fn matcher(
    exact: &Option<String>,
    regexp: &Option<String>,
    flag: &str,
) -> anyhow::Result<Option<StringMatch>> {
    Ok(match (exact, regexp) {
        (Some(e), _) => Some(StringMatch::Exact(e.clone())),
        (None, Some(r)) => {
            // Unanchored, as cosign's (Go's MatchString): write ^...$ for a whole match.
            let re = regex::Regex::new(r)
                .with_context(|| format!("{flag}: invalid regular expression"))?;
            Some(StringMatch::Matches {
                pattern: r.clone(),
                matcher: Arc::new(move |s| re.is_match(s)),
            })
        }
        (None, None) => None,
    })
}

fn parse_digest(s: &str) -> anyhow::Result<(HashAlgorithm, Vec<u8>)> {
    let (alg, hex) = s
        .split_once(':')
        .context("--digest: expected ALG:HEX, e.g. sha256:ab12...")?;
    let algorithm = HashAlgorithm::from_name(alg)
        .with_context(|| format!("--digest: unknown algorithm {alg:?}"))?;
    let bytes = hex::decode(hex).context("--digest: not hexadecimal")?;
    if bytes.len() != algorithm.output_len() {
        anyhow::bail!(
            "--digest: {alg} digests are {} bytes, got {}",
            algorithm.output_len(),
            bytes.len()
        );
    }
    Ok((algorithm, bytes))
}

pub fn run(quiet: bool, a: VerifyBlobArgs) -> anyhow::Result<ExitCode> {
    let bundle_bytes = read(&a.bundle, "bundle")?;
    let root_bytes = match &a.trusted_root {
        Some(p) => read(p, "trusted root")?,
        None => sigstore::PUBLIC_GOOD_TRUSTED_ROOT.to_vec(),
    };
    let root = TrustedRoot::from_json(&root_bytes).context("trusted root")?;
    let key = match &a.key {
        Some(p) => {
            let pem = String::from_utf8(read(p, "key")?).context("key file is not text")?;
            Some(
                VerifyingKey::from_pem(&pem)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
            )
        }
        None => None,
    };
    let san = matcher(
        &a.certificate_identity,
        &a.certificate_identity_regexp,
        "--certificate-identity-regexp",
    )?;
    let issuer = matcher(
        &a.certificate_oidc_issuer,
        &a.certificate_oidc_issuer_regexp,
        "--certificate-oidc-issuer-regexp",
    )?;
    let identity = match (san, issuer) {
        (Some(san), Some(issuer)) => Some(Identity { san, issuer }),
        (None, None) if key.is_some() => None,
        _ => anyhow::bail!(
            "give --key, or both --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp]"
        ),
    };
    let policy = Policy { identity, key };
    let file_bytes;
    let digest_bytes;
    let artifact = match (&a.file, &a.digest) {
        (_, Some(d)) => {
            let (algorithm, bytes) = parse_digest(d)?;
            digest_bytes = bytes;
            Artifact::Digest {
                algorithm,
                digest: &digest_bytes,
            }
        }
        (Some(f), None) => {
            file_bytes = read(f, "artifact")?;
            Artifact::Bytes(&file_bytes)
        }
        (None, None) => anyhow::bail!("give the signed FILE or --digest"),
    };
    // A bundle that does not parse is not verified (exit 1), like any
    // other failed check: the signer's material is what is wrong.
    let result = Bundle::from_json(&bundle_bytes)
        .and_then(|b| sigstore::verify(&b, artifact, &policy, &root));
    match result {
        Ok(v) => {
            if !quiet {
                let who = v
                    .identity
                    .as_ref()
                    .map(|i| {
                        format!(
                            "{} ({})",
                            i.sans.join(", "),
                            i.issuer.as_deref().unwrap_or("no issuer")
                        )
                    })
                    .unwrap_or_else(|| "the given key".into());
                let when = v
                    .signing_times
                    .iter()
                    .filter_map(|t| bosun_core::time::rfc3339(t.time))
                    .collect::<Vec<_>>()
                    .join(", ");
                eprintln!("Verified OK: signed by {who} at {when}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("verification failed: {e}");
            if matches!(e, VerifyError::TrustedRoot(_)) {
                return Ok(ExitCode::from(crate::EXIT_ERROR));
            }
            Ok(ExitCode::from(crate::EXIT_FINDINGS))
        }
    }
}
