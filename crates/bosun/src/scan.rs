//! `bosun scan`: an image, directory or SBOM against the local database.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use bosun_vuln::report::{self, Format};
use bosun_vuln::{DbInfo, Issue, IssueKind, Notice, Report, Status};
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
    /// Format for standard output and for `-o FILE` (Trivy's `-f FORMAT -o
    /// FILE`): table, json, sarif, cyclonedx-json.
    #[arg(short = 'f', long, value_name = "FORMAT")]
    format: Option<String>,
    /// Output: FORMAT (to standard output) or FORMAT=FILE, repeatable; with
    /// -f, a FILE for that format. A regular FILE is replaced atomically
    /// keeping its mode and owner; a FIFO or device is written straight.
    #[arg(short = 'o', long = "output", value_name = "FORMAT[=FILE]")]
    outputs: Vec<String>,
    /// Only report these severities (comma-separated: UNKNOWN, NEGLIGIBLE,
    /// LOW, MEDIUM, HIGH, CRITICAL), for every scanner. Default: all.
    /// Analysis issues (what could not be analysed, hostile layer entries)
    /// are always reported.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    severity: Vec<String>,
    /// Exit 1 when a reported finding or issue of any scanner is at or
    /// above SEVERITY (unknown, negligible, low, medium, high, critical;
    /// `any` for every one, `none` never).
    #[arg(long, value_name = "SEVERITY", default_value = "any")]
    fail_on: String,
    /// Leave out findings with no fixed version.
    #[arg(long)]
    ignore_unfixed: bool,
    /// Do not fail --fail-on because a limit left part of the target
    /// unanalysed (the report still lists what was not analysed).
    #[arg(long)]
    allow_incomplete: bool,
    /// Ignore file [default: .bosunignore.yaml in the current directory, if present].
    #[arg(long, value_name = "FILE")]
    ignore_file: Option<PathBuf>,
    /// OpenVEX document whose not_affected / fixed statements suppress
    /// findings (repeatable).
    #[arg(long = "vex", value_name = "FILE")]
    vex: Vec<PathBuf>,
    /// Scanners to run (comma-separated): vuln, secret, misconfig (image
    /// configuration checks) [default: vuln,secret for images and
    /// directories, vuln for SBOM files].
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    scanners: Vec<String>,
    /// bosun.yaml with `secrets:` (custom rules, allow-lists) and `config:`
    /// (skipped rules, allowed registries, size budget) sections
    /// [default: ./bosun.yaml if present].
    #[arg(long = "config", value_name = "FILE")]
    config_file: Option<PathBuf>,
    #[command(flatten)]
    db: db::DbArgs,
    #[command(flatten)]
    attest: crate::sign::AttestFlags,
    #[command(flatten)]
    image: ImageArgs,
}

pub fn run(
    cache_dir: Option<PathBuf>,
    no_cache: bool,
    quiet: bool,
    mut a: ScanArgs,
) -> anyhow::Result<ExitCode> {
    a.image.no_cache |= no_cache;
    let outputs = output::parse(&output::SCAN_FORMATS, a.format.as_deref(), &a.outputs)?;
    let shown: Vec<Severity> = a
        .severity
        .iter()
        .map(|s| parse_severity(s).with_context(|| "--severity"))
        .collect::<anyhow::Result<_>>()?;
    let fail_on = parse_fail_on(&a.fail_on)?;
    let is_sbom = a.target.starts_with("sbom:");
    let scanners = Scanners::parse(&a.scanners, is_sbom)?;
    let config_path = a.config_file.clone().or_else(|| {
        let p = PathBuf::from("bosun.yaml");
        p.is_file().then_some(p)
    });
    let config_text = match &config_path {
        Some(p) => {
            Some(std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?)
        }
        None => None,
    };
    let cache = crate::cache_root(cache_dir.clone(), false);
    // Open the database first: a missing or damaged one fails before any
    // image is pulled. Secret and misconfiguration scans need none.
    let db = if scanners.vuln {
        Some(Db::open(&db::db_path(cache.as_deref())?)?)
    } else {
        None
    };
    let now = crate::now();
    let mut notices = match &db {
        Some(db) => db::staleness(db, now, a.db.max_age_secs()?),
        None => Vec::new(),
    };

    let started = now;
    let mut scanned_target = None;
    let mut issues = Vec::new();
    let sbom = if let Some(file) = a.target.strip_prefix("sbom:") {
        if a.attest.attest {
            anyhow::bail!("--attest needs an image in a registry, not an SBOM file");
        }
        let mut sbom = read_sbom(file)?;
        // An SBOM from elsewhere may carry the image's history verbatim:
        // the report written from it must not.
        let scanner = bosun_secret::Scanner::new(&bosun_secret::Config::default())?;
        bosun_scan::secrets::redact_source(&scanner, &mut sbom.source);
        sbom
    } else {
        let mut opts = crate::scan_options(cache_dir, &a.image)?;
        opts.secrets = scanners.secret;
        if let (true, Some(text)) = (scanners.secret, &config_text) {
            opts.secret_config = bosun_secret::Config::from_bosun_yaml(text)?;
        }
        let target = bosun_scan::Target::parse(&a.target)?;
        a.attest.check(&target)?;
        let mut scanned = {
            let bars = crate::progress::Bars::new(quiet);
            let res = bosun_scan::scan(&target, &opts, &bars);
            bars.finish();
            res?
        };
        let (shipped, own): (Vec<_>, Vec<_>) = std::mem::take(&mut scanned.secrets)
            .into_iter()
            .partition(|f| f.package.is_some());
        issues.extend(own.into_iter().map(secret_issue));
        if opts.secret_config.report_package_files {
            issues.extend(shipped.into_iter().map(secret_issue));
        } else if let Some(n) = package_files_notice(&shipped) {
            notices.push(n);
        }
        scanned_target = Some(target);
        bosun_scan::to_sbom(scanned, crate::creation_time()?)
    };

    issues.extend(analysis_issues(&sbom.unknowns));
    let (findings, match_notices) = match &db {
        Some(db) => bosun_vuln::matcher::Matcher::new(db).match_sbom(&sbom)?,
        None => (Vec::new(), Vec::new()),
    };
    notices.extend(match_notices);
    if let (true, Some(image)) = (scanners.misconfig, &sbom.source.image) {
        let settings = match (&config_text, &config_path) {
            (Some(text), Some(p)) => bosun_config::Settings::parse(text, &p.display().to_string())?,
            _ => bosun_config::Settings::default(),
        };
        let check = bosun_config::image::check_image(
            &sbom.source.target,
            image,
            sbom.distro.as_ref(),
            &sbom.packages,
            &settings,
        );
        issues.extend(check.findings.into_iter().map(misconfig_issue));
    }
    let db_info = match &db {
        Some(db) => {
            let meta = db.metadata();
            DbInfo {
                built: bosun_core::time::rfc3339(meta.built).unwrap_or_default(),
                schema_version: meta.schema_version,
                sources: meta.sources.iter().map(|s| s.name.clone()).collect(),
            }
        }
        None => DbInfo {
            built: String::new(),
            schema_version: bosun_vulndb::store::SCHEMA_VERSION,
            sources: Vec::new(),
        },
    };
    let mut report = Report {
        sbom,
        db: db_info,
        findings,
        suppressed: Vec::new(),
        issues,
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
    // --severity filters every scanner's results alike; what could not be
    // analysed is never hidden by it.
    report.issues.retain(|i| {
        shown.is_empty() || shown.contains(&i.severity) || i.kind == IssueKind::Analysis
    });

    // A table on standard output lists the notices itself.
    let table_on_stdout = outputs
        .iter()
        .any(|o| o.format == Format::Table && o.dest == output::Dest::Stdout);
    if !quiet && !table_on_stdout {
        for n in &report.notices {
            eprintln!("note: {}", bosun_core::text::clean(&n.message));
        }
    }
    for o in &outputs {
        output::emit(&o.dest, |w, tty| {
            let opts = report::Options {
                color: tty,
                pretty: true,
                width: None,
            };
            report::write(&report, o.format, &opts, w).map_err(anyhow::Error::from)
        })?;
    }
    if let Some(target) = &scanned_target {
        a.attest
            .attach(target, &report.sbom, &a.image, "vuln", || {
                vuln_predicate(&report, started)
            })?;
    }
    let incomplete = report.issues.iter().any(|i| i.rule_id == INCOMPLETE_RULE);
    let failed = fail_on.is_some_and(|t| {
        report.findings.iter().any(|f| f.severity >= t)
            || report.issues.iter().any(|i| i.severity >= t)
            || (incomplete && !a.allow_incomplete)
    });
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

/// Which scanners run.
struct Scanners {
    vuln: bool,
    secret: bool,
    misconfig: bool,
}

impl Scanners {
    fn parse(list: &[String], is_sbom: bool) -> anyhow::Result<Scanners> {
        if list.is_empty() {
            // What `trivy image` runs: vulnerabilities and secrets; image
            // configuration checks only when asked for.
            return Ok(Scanners {
                vuln: true,
                secret: !is_sbom,
                misconfig: false,
            });
        }
        let mut s = Scanners {
            vuln: false,
            secret: false,
            misconfig: false,
        };
        for name in list {
            match name.trim() {
                "vuln" => s.vuln = true,
                "secret" => s.secret = true,
                "misconfig" => s.misconfig = true,
                other => anyhow::bail!(
                    "--scanners: unknown scanner {other:?} (expected vuln, secret, misconfig)"
                ),
            }
        }
        if is_sbom && (s.secret || s.misconfig) {
            anyhow::bail!(
                "--scanners: an SBOM file holds no files or image config; only vuln applies"
            );
        }
        Ok(s)
    }
}

/// Secrets in files OS packages shipped unmodified are public (test keys
/// in a source tree, examples in headers): counted, not listed, unless
/// `secrets.report-package-files` asks for them.
fn package_files_notice(shipped: &[bosun_scan::SecretFinding]) -> Option<Notice> {
    if shipped.is_empty() {
        return None;
    }
    let files: std::collections::BTreeSet<&str> = shipped.iter().map(|f| f.path.as_str()).collect();
    let packages: std::collections::BTreeSet<&str> = shipped
        .iter()
        .filter_map(|f| f.package.as_deref())
        .collect();
    let packages: Vec<&str> = packages.into_iter().collect();
    Some(Notice {
        kind: "package-file-secrets".into(),
        message: format!(
            "{} secret(s) in {} file(s) that OS packages shipped unmodified ({}) not reported; \
             set secrets.report-package-files: true in bosun.yaml to list them",
            shipped.len(),
            files.len(),
            packages.join(", ")
        ),
    })
}

fn secret_issue(f: bosun_scan::SecretFinding) -> Issue {
    Issue {
        kind: IssueKind::Secret,
        rule_id: f.rule_id,
        severity: match f.severity {
            bosun_secret::Severity::Low => Severity::Low,
            bosun_secret::Severity::Medium => Severity::Medium,
            bosun_secret::Severity::High => Severity::High,
            bosun_secret::Severity::Critical => Severity::Critical,
        },
        message: match &f.package {
            Some(p) => format!(
                "{} found in a file package {p} shipped unmodified",
                f.title
            ),
            None => format!("{} found", f.title),
        },
        title: f.title,
        path: f.path,
        line: Some(f.line).filter(|l| *l > 0),
        layer: f.layer,
        layer_index: f.layer_index,
        deleted: f.deleted,
        redacted: Some(f.redacted),
        why: None,
        fix: Some("revoke the credential, then rebuild the image without it (deleting it in a later layer does not remove it)".into()),
    }
}

/// Rule ids of the analysis issues (stable: they appear in every format).
pub(crate) const INCOMPLETE_RULE: &str = "incomplete-analysis";
pub(crate) const SUSPICIOUS_RULE: &str = "suspicious-layer-entry";

/// What the scan could not fully analyse, and the layer entries no honest
/// tool writes, as issues: visible in every format, and gating.
fn analysis_issues(unknowns: &[bosun_core::Unknown]) -> Vec<Issue> {
    use bosun_core::UnknownKind;
    unknowns
        .iter()
        .filter_map(|u| {
            let (rule_id, severity, title, fix) = match u.kind {
                UnknownKind::Unparsed | UnknownKind::Lossy => return None,
                UnknownKind::Incomplete => (
                    INCOMPLETE_RULE,
                    Severity::Unknown,
                    "Could not fully analyse",
                    "the scan is incomplete: what this file or layer holds was not checked; \
                     see docs/HARDENING.md for the limits (--allow-incomplete accepts this)",
                ),
                UnknownKind::Suspicious => (
                    SUSPICIOUS_RULE,
                    Severity::High,
                    "Layer entry no honest tool writes",
                    "find out who built this layer and why it tries to escape the image root",
                ),
            };
            Some(Issue {
                kind: IssueKind::Analysis,
                rule_id: rule_id.into(),
                severity,
                title: title.into(),
                message: format!("{}: {}", u.cataloger, u.message),
                path: u.path.clone(),
                line: None,
                layer: u.layer.clone(),
                layer_index: None,
                deleted: false,
                redacted: None,
                why: None,
                fix: Some(fix.into()),
            })
        })
        .collect()
}

fn misconfig_issue(f: bosun_config::Finding) -> Issue {
    Issue {
        kind: IssueKind::Misconfig,
        rule_id: f.rule_id,
        severity: f.severity,
        title: f.title,
        message: f.message,
        path: f.location.path.unwrap_or(f.location.file),
        line: f.location.line,
        layer: None,
        layer_index: None,
        deleted: false,
        redacted: None,
        why: Some(f.why),
        fix: Some(f.fix),
    }
}

fn parse_severity(s: &str) -> anyhow::Result<Severity> {
    Severity::parse_label(s).with_context(|| {
        format!(
            "unknown severity {s:?} (expected UNKNOWN, NEGLIGIBLE, LOW, MEDIUM, HIGH or CRITICAL)"
        )
    })
}

/// `--fail-on` of `scan` and `config`: none/never, any, or a severity
/// (unknown, negligible, low, medium, high, critical), case-insensitive.
/// `None`: never fail on findings.
pub(crate) fn parse_fail_on(s: &str) -> anyhow::Result<Option<Severity>> {
    match s.to_ascii_lowercase().as_str() {
        "none" | "never" => Ok(None),
        "any" => Ok(Some(Severity::Unknown)),
        other => Severity::parse_label(other).map(Some).with_context(|| {
            format!(
                "--fail-on {}: expected none, any, unknown, negligible, low, medium, high \
                 or critical",
                bosun_core::text::escape(s)
            )
        }),
    }
}

/// `sbom:FILE`, or `sbom:-` for standard input. A file's size is checked
/// before anything is read; a stream is read up to the limit.
fn read_sbom(file: &str) -> anyhow::Result<bosun_sbom::Sbom> {
    use std::io::Read;
    let shown = bosun_core::text::escape(file);
    let too_big =
        || anyhow::anyhow!("{shown}: more than the {MAX_SBOM_FILE} bytes an SBOM may have");
    let mut bytes = Vec::new();
    if file == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_SBOM_FILE + 1)
            .read_to_end(&mut bytes)
            .context("reading the SBOM from standard input")?;
        if bytes.len() as u64 > MAX_SBOM_FILE {
            return Err(too_big());
        }
        return Ok(bosun_sbom::read::read(&bytes, "standard input")?);
    }
    let path = Path::new(file);
    let f = std::fs::File::open(path).with_context(|| format!("opening {shown}"))?;
    let meta = f.metadata().with_context(|| format!("reading {shown}"))?;
    if meta.is_dir() {
        anyhow::bail!("{shown}: is a directory, not an SBOM file");
    }
    if meta.is_file() && meta.len() > MAX_SBOM_FILE {
        anyhow::bail!(
            "{shown}: {} bytes, more than the {MAX_SBOM_FILE} bytes an SBOM may have",
            meta.len()
        );
    }
    f.take(MAX_SBOM_FILE + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {shown}"))?;
    if bytes.len() as u64 > MAX_SBOM_FILE {
        return Err(too_big());
    }
    Ok(bosun_sbom::read::read(&bytes, file)?)
}
