//! `bosun config`: Dockerfiles and Kubernetes manifests, before anything is
//! built or deployed.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bosun_config::output::Format;
use bosun_config::{Settings, Severity};
use clap::Args;

use crate::output;

#[derive(Args)]
pub struct ConfigArgs {
    /// Dockerfiles, manifests (YAML or JSON, multi-document, List) or
    /// directories to search for both.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format: table, json, sarif.
    #[arg(short = 'f', long, default_value = "table")]
    format: String,
    /// Write the report to FILE (atomically) instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit 1 when a finding is at or above SEVERITY (low, medium, high,
    /// critical); `any` fails on every finding, `none` never.
    #[arg(long, value_name = "SEVERITY", default_value = "any")]
    fail_on: String,
    /// Settings file (its `config:` section) [default: bosun.yaml in the
    /// current directory, if present].
    #[arg(long = "config", value_name = "FILE")]
    config_file: Option<PathBuf>,
}

pub fn run(a: ConfigArgs) -> anyhow::Result<ExitCode> {
    let format: Format = a
        .format
        .parse()
        .map_err(|e| anyhow::anyhow!("--format: {e}"))?;
    let fail_on = match a.fail_on.to_ascii_lowercase().as_str() {
        "none" | "never" => None,
        "any" => Some(Severity::Unknown),
        s => Some(
            Severity::parse_label(s)
                .with_context(|| format!("--fail-on: unknown severity {s:?}"))?,
        ),
    };
    let settings_path = a.config_file.clone().or_else(|| {
        let p = PathBuf::from("bosun.yaml");
        p.is_file().then_some(p)
    });
    let settings = match &settings_path {
        Some(p) => Settings::load(p)?,
        None => Settings::default(),
    };
    let report = bosun_config::check_paths(&a.paths, &settings)?;
    // The table lists skipped files itself; other formats are for machines.
    if format != Format::Table {
        for s in &report.skipped {
            eprintln!("warning: skipped {}: {}", s.file, s.reason);
        }
    }
    output::emit(a.output.as_deref(), |w, tty| {
        bosun_config::output::write(&report, format, tty, w).map_err(anyhow::Error::from)
    })?;
    // Nothing checked is not "clean": every input skipped, or a directory
    // without a Dockerfile or manifest, is an error (after the report,
    // which lists what was skipped and why).
    if report.checked.is_empty() {
        let what = if report.skipped.is_empty() {
            "no Dockerfile or Kubernetes manifest found".to_string()
        } else {
            format!("all {} inputs were skipped", report.skipped.len())
        };
        eprintln!("error: nothing was checked: {what}");
        return Ok(ExitCode::from(crate::EXIT_ERROR));
    }
    let failed = fail_on.is_some_and(|t| report.findings.iter().any(|f| f.severity >= t));
    Ok(if failed {
        ExitCode::from(crate::EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    })
}
