//! `bosun scan`: an image, directory or SBOM against the local database.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use bosun_vuln::report::{self, Format};
use bosun_vuln::{DbInfo, Report, Status};
use bosun_vulndb::{Db, Severity};
use clap::Args;

use crate::{ImageArgs, db, output};

/// Largest SBOM file `sbom:FILE` reads.
const MAX_SBOM_FILE: u64 = 512 * 1024 * 1024;

#[derive(Args)]
pub struct ScanArgs {
    /// What to scan: every target `bosun sbom` takes, or sbom:FILE
    /// (CycloneDX or SPDX JSON, from bosun, Syft, Trivy...).
    target: String,
    /// Output format: table, json, sarif, cyclonedx-json.
    #[arg(short = 'f', long, default_value = "table")]
    format: String,
    /// Write the report to FILE (atomically) instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Only report these severities (comma-separated: UNKNOWN, NEGLIGIBLE,
    /// LOW, MEDIUM, HIGH, CRITICAL). Default: all.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    severity: Vec<String>,
    /// Exit 1 when a reported finding is at or above SEVERITY; `none` never
    /// fails on findings.
    #[arg(long, value_name = "SEVERITY", default_value = "unknown")]
    fail_on: String,
    /// Leave out findings with no fixed version.
    #[arg(long)]
    ignore_unfixed: bool,
    /// Ignore file [default: .bosunignore.yaml in the current directory, if present].
    #[arg(long, value_name = "FILE")]
    ignore_file: Option<PathBuf>,
    /// OpenVEX document whose not_affected / fixed statements suppress
    /// findings (repeatable).
    #[arg(long = "vex", value_name = "FILE")]
    vex: Vec<PathBuf>,
    #[command(flatten)]
    db: db::DbArgs,
    #[command(flatten)]
    attest: crate::sign::AttestFlags,
    #[command(flatten)]
    image: ImageArgs,
}

pub fn run(cache_dir: Option<PathBuf>, quiet: bool, a: ScanArgs) -> anyhow::Result<ExitCode> {
    let format: Format = a
        .format
        .parse()
        .map_err(|e| anyhow::anyhow!("--format: {e}"))?;
    let shown: Vec<Severity> = a
        .severity
        .iter()
        .map(|s| parse_severity(s).with_context(|| "--severity"))
        .collect::<anyhow::Result<_>>()?;
    let fail_on = match a.fail_on.to_ascii_lowercase().as_str() {
        "none" | "never" => None,
        s => Some(parse_severity(s).context("--fail-on")?),
    };
    let cache = crate::cache_root(cache_dir.clone(), false);
    let db_path = db::db_path(cache.as_deref())?;
    // Open the database first: a missing or damaged one fails before any
    // image is pulled.
    let db = Db::open(&db_path)?;
    let now = crate::now();
    let mut notices = db::staleness(&db, now, a.db.max_age_secs()?);

    let started = now;
    let mut scanned_target = None;
    let sbom = if let Some(file) = a.target.strip_prefix("sbom:") {
        if a.attest.attest {
            anyhow::bail!("--attest needs an image in a registry, not an SBOM file");
        }
        read_sbom(Path::new(file))?
    } else {
        let opts = crate::scan_options(cache_dir, &a.image)?;
        let target = bosun_scan::Target::parse(&a.target)?;
        a.attest.check(&target)?;
        let scanned = {
            let bars = crate::progress::Bars::new(quiet);
            let res = bosun_scan::scan(&target, &opts, &bars);
            bars.finish();
            res?
        };
        scanned_target = Some(target);
        bosun_scan::to_sbom(scanned, crate::creation_time()?)
    };

    let mut matcher = bosun_vuln::matcher::Matcher::new(&db);
    let (findings, match_notices) = matcher.match_sbom(&sbom)?;
    notices.extend(match_notices);
    let meta = db.metadata();
    let mut report = Report {
        sbom,
        db: DbInfo {
            built: bosun_core::time::rfc3339(meta.built).unwrap_or_default(),
            schema_version: meta.schema_version,
            sources: meta.sources.iter().map(|s| s.name.clone()).collect(),
        },
        findings,
        suppressed: Vec::new(),
        notices,
    };

    let ignore_path = a.ignore_file.clone().or_else(|| {
        let p = PathBuf::from(".bosunignore.yaml");
        p.is_file().then_some(p)
    });
    if let Some(p) = &ignore_path {
        let ignore = bosun_vuln::ignore::IgnoreFile::load(p)?;
        ignore.apply(&mut report, bosun_vuln::ignore::Date::today());
    }
    let vex = a
        .vex
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            Ok(bosun_vuln::vex::VexDocument::parse(
                &bytes,
                &p.display().to_string(),
            )?)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if !vex.is_empty() {
        bosun_vuln::vex::apply(&vex, &mut report);
    }
    report.findings.retain(|f| {
        (shown.is_empty() || shown.contains(&f.severity))
            && !(a.ignore_unfixed && f.status != Status::Fixed)
    });

    for n in &report.notices {
        if !quiet {
            eprintln!("note: {}", n.message);
        }
    }
    output::emit(a.output.as_deref(), |w, tty| {
        let opts = report::Options {
            color: tty,
            pretty: true,
            width: None,
        };
        report::write(&report, format, &opts, w).map_err(anyhow::Error::from)
    })?;
    if let Some(target) = &scanned_target {
        a.attest
            .attach(target, &report.sbom, &a.image, "vuln", || {
                vuln_predicate(&report, started)
            })?;
    }
    let failed = fail_on.is_some_and(|t| report.findings.iter().any(|f| f.severity >= t));
    Ok(if failed {
        ExitCode::from(crate::EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    })
}

/// cosign's vulnerability-scan predicate
/// (`https://cosign.sigstore.dev/attestation/vuln/v1`), with bosun's JSON
/// report as the scanner's result.
fn vuln_predicate(report: &Report, started: i64) -> anyhow::Result<serde_json::Value> {
    let mut buf = Vec::new();
    let opts = report::Options {
        color: false,
        pretty: false,
        width: None,
    };
    report::write(report, Format::Json, &opts, &mut buf)?;
    let result: serde_json::Value = serde_json::from_slice(&buf)?;
    let time = |t| bosun_core::time::rfc3339(t).unwrap_or_default();
    Ok(serde_json::json!({
        "invocation": {"parameters": null, "uri": "", "event_id": "", "builder.id": ""},
        "scanner": {
            "uri": "pkg:generic/bosun",
            "version": env!("CARGO_PKG_VERSION"),
            "db": {"uri": "", "version": report.db.built},
            "result": result,
        },
        "metadata": {"scanStartedOn": time(started), "scanFinishedOn": time(crate::now())},
    }))
}

fn parse_severity(s: &str) -> anyhow::Result<Severity> {
    Severity::parse_label(s).with_context(|| {
        format!(
            "unknown severity {s:?} (expected UNKNOWN, NEGLIGIBLE, LOW, MEDIUM, HIGH or CRITICAL)"
        )
    })
}

fn read_sbom(path: &Path) -> anyhow::Result<bosun_sbom::Sbom> {
    use std::io::Read;
    let f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut bytes = Vec::new();
    f.take(MAX_SBOM_FILE + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() as u64 > MAX_SBOM_FILE {
        anyhow::bail!("{}: larger than {MAX_SBOM_FILE} bytes", path.display());
    }
    Ok(bosun_sbom::read::read(&bytes, &path.display().to_string())?)
}
