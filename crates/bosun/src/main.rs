//! The `bosun` command line: flags, printing and exit codes. All the work
//! is done by the library crates.

mod config;
mod db;
mod output;
mod progress;
mod scan;
mod sign;
mod verify_blob;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bosun_core::text::escape;
use clap::{Args, Parser, Subcommand};

/// Exit codes are API: CI tells them apart. 1: findings at or above the
/// threshold (`scan --fail-on`); 2: an error.
const EXIT_FINDINGS: u8 = 1;
const EXIT_ERROR: u8 = 2;

#[derive(Parser)]
#[command(name = "bosun", version, about = "Container supply-chain security: SBOMs, scanning, signing, admission", long_about = None)]
struct Cli {
    /// More logging on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// No progress bars or informational messages.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Where the layer cache and the vulnerability database live
    /// [default: $XDG_CACHE_HOME/bosun or ~/.cache/bosun].
    #[arg(long, global = true, env = "BOSUN_CACHE_DIR", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Do not read or write the layer cache or the verification cache (the
    /// vulnerability database still lives under --cache-dir).
    #[arg(long, global = true)]
    no_cache: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the software bill of materials of an image or directory.
    ///
    /// TARGET is one of: oci:DIR[:TAG|@DIGEST], oci-archive:FILE[:TAG],
    /// docker-archive:FILE[:TAG], dir:PATH, registry:REF, or a plain
    /// HOST[:PORT]/REPO[:TAG|@DIGEST] reference. A plain path is sniffed
    /// (OCI layout directory, other directory, docker or OCI archive).
    Sbom(SbomArgs),
    /// Find known vulnerabilities in an image, a directory or an SBOM, from
    /// the local database (no network at scan time).
    ///
    /// TARGET is anything `bosun sbom` takes, or sbom:FILE (CycloneDX or
    /// SPDX JSON). Exit codes: 0 nothing at or above --fail-on, 1 findings
    /// at or above it, 2 an error.
    Scan(scan::ScanArgs),
    /// Manage the vulnerability database.
    #[command(subcommand)]
    Db(db::DbCommand),
    /// Check Dockerfiles and Kubernetes manifests for misconfigurations
    /// (Pod Security Standards, pinning, root users, secrets...).
    ///
    /// PATH is a Dockerfile, a manifest (YAML or JSON) or a directory.
    /// Exit codes: 0 nothing at or above --fail-on, 1 findings at or above
    /// it, 2 an error.
    Config(config::ConfigArgs),
    /// Verify a Sigstore bundle over a file (or --digest), offline, against
    /// a trusted root: certificate chain at signing time, SCT, transparency
    /// log proof, timestamps, signature and signer identity. Exit 0
    /// verified, 1 not verified, 2 error.
    VerifyBlob(verify_blob::VerifyBlobArgs),
    /// Manage signing keys.
    #[command(subcommand)]
    Key(sign::KeyCommand),
    /// Print the public key of a private key file.
    PublicKey(sign::PublicKeyArgs),
    /// Sign an image (its digest) and push the signature as cosign does.
    Sign(sign::SignArgs),
    /// Verify an image's signatures; print the verified payloads as JSON.
    /// Exit 0 verified, 1 nothing verified, 2 error.
    Verify(sign::VerifyArgs),
    /// Sign an in-toto statement about an image and push it as cosign does.
    Attest(sign::AttestArgs),
    /// Verify an image's attestations; print the statements as JSON.
    /// Exit 0 verified, 1 nothing verified, 2 error.
    VerifyAttestation(sign::VerifyAttestationArgs),
}

#[derive(Args)]
struct SbomArgs {
    /// What to catalog (see above).
    target: String,
    /// Output: FORMAT (to standard output) or FORMAT=FILE; repeat to write
    /// several formats in one run. With -f, a FILE for that format.
    /// Formats: table, json, cyclonedx-json, spdx-json. Default: table to
    /// standard output. FILE may be a FIFO or a device (written straight,
    /// never replaced); a regular file is replaced atomically, keeping its
    /// mode and owner.
    #[arg(short = 'o', long = "output", value_name = "FORMAT[=FILE]")]
    outputs: Vec<String>,
    /// Format for `-o FILE` and for standard output (Trivy's `-f FORMAT -o
    /// FILE`).
    #[arg(short = 'f', long = "format", value_name = "FORMAT")]
    format: Option<String>,
    /// With --attest: the SBOM format signed into the attestation
    /// (cyclonedx-json or spdx-json) [default: the one SBOM format -o
    /// writes, else cyclonedx-json].
    #[arg(long, value_name = "FORMAT")]
    attest_format: Option<String>,
    #[command(flatten)]
    attest: sign::AttestFlags,
    #[command(flatten)]
    image: ImageArgs,
}

#[derive(Args)]
pub(crate) struct ImageArgs {
    /// Pick this platform from a multi-platform image: os/arch[/variant].
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    platform: Option<String>,
    /// Set from the global `--no-cache`.
    #[arg(skip)]
    no_cache: bool,
    /// Allow plain HTTP to registries (never done otherwise).
    #[arg(long)]
    insecure: bool,
    /// Trust this PEM CA bundle for registry TLS (repeatable).
    #[arg(long = "ca-cert", value_name = "PEM")]
    ca_certs: Vec<PathBuf>,
    /// Also check every layer's uncompressed content against the config's
    /// diff_id (blob digests are always checked; this costs one more
    /// SHA-256 pass over the uncompressed layers).
    #[arg(long)]
    verify_diff_ids: bool,
    /// Docker config file with registry credentials [default: $DOCKER_CONFIG/config.json or ~/.docker/config.json].
    #[arg(long, value_name = "FILE")]
    docker_config: Option<PathBuf>,
    /// Deadline for each registry request, its body included (a whole
    /// layer blob): 300s, 5m, 1h; 0 for none.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = bosun_oci::registry::parse_timeout)]
    timeout: std::time::Duration,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // Causes may quote names from an image or a file: shown, not
            // obeyed, by the terminal.
            eprintln!("error: {}", bosun_core::text::escape(&format!("{e:#}")));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "info",
        (_, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("BOSUN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

fn default_cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|c| c.join("bosun"))
}

/// The cache root in use: `--cache-dir`/`BOSUN_CACHE_DIR`, else the default
/// (`None` when disabled or no home directory is known).
fn cache_root(cli_cache: Option<PathBuf>, disabled: bool) -> Option<PathBuf> {
    if disabled {
        None
    } else {
        cli_cache.or_else(default_cache_dir)
    }
}

/// Seconds since the epoch.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub(crate) fn scan_options(
    cli_cache: Option<PathBuf>,
    a: &ImageArgs,
) -> anyhow::Result<bosun_scan::ScanOptions> {
    let platform = a
        .platform
        .as_deref()
        .map(|p| p.parse().map_err(anyhow::Error::msg))
        .transpose()?;
    let registry = bosun_oci::registry::RegistryOptions {
        insecure: a.insecure,
        ca_certs: a.ca_certs.clone(),
        docker_config: a.docker_config.clone(),
        timeout: a.timeout,
        ..Default::default()
    };
    Ok(bosun_scan::ScanOptions {
        platform,
        cache_dir: cache_root(cli_cache, a.no_cache),
        registry,
        verify_diff_ids: a.verify_diff_ids,
        ..Default::default()
    })
}

/// The SBOM format `sbom --attest` signs, and its predicate type: the one
/// given by --attest-format, else the one SBOM format the outputs write
/// (`-o spdx-json` attests SPDX), else CycloneDX.
fn attest_format(
    flag: Option<&str>,
    outputs: &[output::Output<bosun_sbom::Format>],
) -> anyhow::Result<(bosun_sbom::Format, &'static str)> {
    use bosun_sbom::Format;
    let of = |f: Format| match f {
        Format::SpdxJson => (Format::SpdxJson, "spdx"),
        _ => (Format::CycloneDxJson, "cyclonedx"),
    };
    if let Some(flag) = flag {
        return match flag.to_ascii_lowercase().as_str() {
            "cyclonedx-json" | "cyclonedx" => Ok(of(Format::CycloneDxJson)),
            "spdx-json" | "spdx" => Ok(of(Format::SpdxJson)),
            other => anyhow::bail!(
                "--attest-format {}: expected cyclonedx-json or spdx-json",
                escape(other)
            ),
        };
    }
    let mut written: Vec<Format> = outputs
        .iter()
        .map(|o| o.format)
        .filter(|f| matches!(f, Format::CycloneDxJson | Format::SpdxJson))
        .collect();
    written.dedup();
    match written.as_slice() {
        [] => Ok(of(Format::CycloneDxJson)),
        [one] => Ok(of(*one)),
        _ => anyhow::bail!(
            "--attest: -o writes both CycloneDX and SPDX; say which one to sign with \
             --attest-format cyclonedx-json or --attest-format spdx-json"
        ),
    }
}

/// `SOURCE_DATE_EPOCH` when set (reproducible builds), else now.
pub(crate) fn creation_time() -> anyhow::Result<i64> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => v
            .trim()
            .parse()
            .with_context(|| format!("SOURCE_DATE_EPOCH={v:?} is not a number of seconds")),
        Err(_) => Ok(now()),
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Sbom(args) => {
            let outputs =
                output::parse(&output::SBOM_FORMATS, args.format.as_deref(), &args.outputs)?;
            let mut args = args;
            args.image.no_cache |= cli.no_cache;
            let opts = scan_options(cli.cache_dir, &args.image)?;
            let target = bosun_scan::Target::parse(&args.target)?;
            args.attest.check(&target)?;
            let (attest_format, attest_type) = if args.attest.attest {
                attest_format(args.attest_format.as_deref(), &outputs)?
            } else {
                (bosun_sbom::Format::CycloneDxJson, "cyclonedx")
            };
            let created = creation_time()?;
            let scanned = {
                let bars = progress::Bars::new(cli.quiet);
                let res = bosun_scan::scan(&target, &opts, &bars);
                bars.finish();
                res?
            };
            let sbom = bosun_scan::to_sbom(scanned, created);
            for u in &sbom.unknowns {
                if u.kind.is_unparsed() {
                    tracing::info!(
                        "unknown: {} ({}): {}",
                        escape(&u.path),
                        escape(&u.cataloger),
                        escape(&u.message)
                    );
                } else {
                    // A limit or a hostile entry: the SBOM records it, and
                    // the user must see it even without -v.
                    eprintln!(
                        "warning: {} {}: {}: {}",
                        u.kind.as_str(),
                        escape(&u.path),
                        escape(&u.cataloger),
                        escape(&u.message)
                    );
                }
            }
            output::write_all(&sbom, &outputs)?;
            args.attest
                .attach(&target, &sbom, &args.image, attest_type, || {
                    let mut buf = Vec::new();
                    let opts = bosun_sbom::WriteOptions {
                        pretty: false,
                        color: false,
                    };
                    bosun_sbom::write(&sbom, attest_format, &opts, &mut buf)?;
                    Ok(serde_json::from_slice(&buf)?)
                })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Scan(args) => scan::run(cli.cache_dir, cli.no_cache, cli.quiet, args),
        Command::Db(cmd) => db::run(cli.cache_dir, cli.quiet, cmd),
        Command::Config(args) => config::run(args),
        Command::VerifyBlob(args) => verify_blob::run(cli.quiet, args),
        Command::Key(cmd) => sign::key(cmd),
        Command::PublicKey(args) => sign::public_key(args),
        Command::Sign(args) => sign::sign(args),
        Command::Verify(mut args) => {
            args.no_cache |= cli.no_cache;
            sign::verify(cli.cache_dir, args)
        }
        Command::Attest(args) => sign::attest(args),
        Command::VerifyAttestation(args) => sign::verify_attestation(args),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use bosun_sbom::Format;

    fn outs(specs: &[&str]) -> Vec<output::Output<Format>> {
        let specs: Vec<String> = specs.iter().map(|s| s.to_string()).collect();
        output::parse(&output::SBOM_FORMATS, None, &specs).unwrap()
    }

    #[test]
    fn attested_format_follows_the_one_written() {
        assert_eq!(
            attest_format(None, &outs(&["spdx-json"])).unwrap(),
            (Format::SpdxJson, "spdx")
        );
        assert_eq!(
            attest_format(None, &outs(&["spdx-json=a", "table"])).unwrap(),
            (Format::SpdxJson, "spdx")
        );
        assert_eq!(
            attest_format(None, &outs(&["table"])).unwrap(),
            (Format::CycloneDxJson, "cyclonedx")
        );
        assert!(attest_format(None, &outs(&["spdx-json=a", "cyclonedx-json"])).is_err());
        assert_eq!(
            attest_format(Some("cyclonedx-json"), &outs(&["spdx-json"])).unwrap(),
            (Format::CycloneDxJson, "cyclonedx")
        );
    }
}
