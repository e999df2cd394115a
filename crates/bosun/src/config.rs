//! `bosun config`: Dockerfiles and Kubernetes manifests, before anything is
//! built or deployed.

use std::path::PathBuf;
use std::process::ExitCode;

use bosun_config::output::Format;
use bosun_config::{Settings, Severity};
use bosun_core::text::escape;
use clap::Args;

use crate::output;

#[derive(Args)]
pub struct ConfigArgs {
    /// Dockerfiles, manifests (YAML or JSON, multi-document, List) or
    /// directories to search for both.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Format for standard output and for `-o FILE` (Trivy's `-f FORMAT -o
    /// FILE`): table, json, sarif.
    #[arg(short = 'f', long, value_name = "FORMAT")]
    format: Option<String>,
    /// Output: FORMAT (to standard output) or FORMAT=FILE, repeatable; with
    /// -f, a FILE for that format. A regular FILE is replaced atomically
    /// keeping its mode and owner; a FIFO or device is written straight.
    #[arg(short = 'o', long = "output", value_name = "FORMAT[=FILE]")]
    outputs: Vec<String>,
    /// Exit 1 when a finding is at or above SEVERITY (unknown, negligible,
    /// low, medium, high, critical); `any` fails on every finding, `none`
    /// never.
    #[arg(long, value_name = "SEVERITY", default_value = "any")]
    fail_on: String,
    /// Settings file (its `config:` section) [default: bosun.yaml in the
    /// current directory, if present].
    #[arg(long = "config", value_name = "FILE")]
    config_file: Option<PathBuf>,
}

pub fn run(a: ConfigArgs) -> anyhow::Result<ExitCode> {
    let outputs = output::parse(&output::CONFIG_FORMATS, a.format.as_deref(), &a.outputs)?;
    let fail_on: Option<Severity> = crate::scan::parse_fail_on(&a.fail_on)?;
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
    let table_on_stdout = outputs
        .iter()
        .any(|o| o.format == Format::Table && o.dest == output::Dest::Stdout);
    if !table_on_stdout {
        for s in &report.skipped {
            eprintln!(
                "warning: skipped {}: {}",
                escape(&s.file),
                escape(&s.reason)
            );
        }
    }
    for o in &outputs {
        output::emit(&o.dest, |w, tty| {
            bosun_config::output::write(&report, o.format, tty, w).map_err(anyhow::Error::from)
        })?;
    }
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
