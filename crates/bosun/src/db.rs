//! `bosun db update | import | status`, and where the database lives.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use bosun_vuln::Notice;
use bosun_vulndb::fetch::{self, FetchOptions, Fetcher, Outcome};
use bosun_vulndb::{Db, update};
use clap::{Args, Subcommand};

/// Default `--db-max-age`: a week-old database misses a week of fixes.
const DEFAULT_MAX_AGE: &str = "7d";

#[derive(Subcommand)]
pub enum DbCommand {
    /// Download the configured feeds (conditionally: unchanged feeds cost
    /// one request) and rebuild the database if anything changed.
    Update(UpdateArgs),
    /// Install feeds from a directory laid out like the public mirrors
    /// (osv/<Ecosystem>/all.zip, kev/known_exploited_vulnerabilities.json,
    /// epss/*.csv.gz, debian/tracker.json) or from the base URL of one, and
    /// rebuild: for mirrors and air-gapped sites.
    Import(ImportArgs),
    /// Show what the database holds, where from, and how old it is.
    Status(StatusArgs),
}

#[derive(Args)]
pub struct DbArgs {
    /// Warn when the database is older than this (e.g. 12h, 7d; 0 = never).
    #[arg(long, env = "BOSUN_DB_MAX_AGE", default_value = DEFAULT_MAX_AGE, value_name = "AGE")]
    db_max_age: String,
}

impl DbArgs {
    pub fn max_age_secs(&self) -> anyhow::Result<Option<i64>> {
        parse_age(&self.db_max_age).with_context(|| format!("--db-max-age {:?}", self.db_max_age))
    }
}

#[derive(Args)]
pub struct UpdateArgs {
    /// Also download EPSS scores and the Debian security tracker.
    #[arg(long)]
    all: bool,
    /// Only these sources (comma-separated names as `db status` shows them,
    /// e.g. osv-PyPI,kev).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    only: Vec<String>,
    /// Take every feed from this base URL (a mirror laid out like the public
    /// ones) instead of the public addresses.
    #[arg(long, env = "BOSUN_DB_MIRROR", value_name = "URL")]
    mirror: Option<String>,
    /// Trust this PEM CA bundle for the downloads.
    #[arg(long = "ca-cert", value_name = "PEM")]
    ca_cert: Option<PathBuf>,
}

#[derive(Args)]
pub struct ImportArgs {
    /// Directory or http(s) URL.
    source: String,
    #[arg(long = "ca-cert", value_name = "PEM")]
    ca_cert: Option<PathBuf>,
}

#[derive(Args)]
pub struct StatusArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Also run SQLite's full integrity check.
    #[arg(long)]
    verify: bool,
    #[command(flatten)]
    db: DbArgs,
}

/// The database directory under the cache root.
pub fn db_dir(cache: Option<&Path>) -> anyhow::Result<PathBuf> {
    cache
        .map(|c| c.join("db"))
        .context("no cache directory: set --cache-dir or BOSUN_CACHE_DIR (HOME is not set)")
}

pub fn db_path(cache: Option<&Path>) -> anyhow::Result<PathBuf> {
    Ok(update::db_file(&db_dir(cache)?))
}

/// `7d`, `12h`, `30m`, `3600` (seconds); `0` disables the check.
fn parse_age(s: &str) -> anyhow::Result<Option<i64>> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: i64 = num
        .parse()
        .context("expected a number with an optional unit s, m, h, d")?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => anyhow::bail!("unknown unit {unit:?} (expected s, m, h, d or w)"),
    };
    Ok((n > 0).then(|| n.saturating_mul(mult)))
}

/// A notice when the database is older than `max_age`.
pub fn staleness(db: &Db, now: i64, max_age: Option<i64>) -> Vec<Notice> {
    let age = now - db.metadata().built;
    match max_age {
        Some(max) if age > max => vec![Notice {
            kind: "db-stale".into(),
            message: format!(
                "the vulnerability database was built {} ago (over {}); run `bosun db update`",
                human_age(age),
                human_age(max)
            ),
        }],
        _ => Vec::new(),
    }
}

fn human_age(secs: i64) -> String {
    match secs {
        s if s >= 2 * 86_400 => format!("{} days", s / 86_400),
        s if s >= 2 * 3600 => format!("{} hours", s / 3600),
        s if s >= 120 => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    }
}

pub fn run(cache: Option<PathBuf>, quiet: bool, cmd: DbCommand) -> anyhow::Result<ExitCode> {
    let cache = crate::cache_root(cache, false);
    let dir = db_dir(cache.as_deref())?;
    let now = crate::now();
    match cmd {
        DbCommand::Update(a) => {
            let fetcher = fetcher(a.ca_cert)?;
            let mut sources = fetch::default_sources();
            if a.all || !a.only.is_empty() {
                sources.extend(fetch::optional_sources());
            }
            if !a.only.is_empty() {
                let unknown: Vec<&String> = a
                    .only
                    .iter()
                    .filter(|n| !sources.iter().any(|s| &s.name == *n))
                    .collect();
                if !unknown.is_empty() {
                    anyhow::bail!("--only: unknown source(s) {unknown:?}");
                }
                sources.retain(|s| a.only.contains(&s.name));
            }
            if let Some(base) = &a.mirror {
                let base = base.trim_end_matches('/');
                for s in &mut sources {
                    s.url = format!("{base}/{}", s.path);
                }
            }
            let report = update::update(&dir, &fetcher, &sources, now)?;
            let mut failed = 0;
            for (name, r) in &report.feeds {
                match r {
                    Ok(Outcome::NotModified) => say(quiet, &format!("{name}: up to date")),
                    Ok(Outcome::Updated { size, .. }) => {
                        say(quiet, &format!("{name}: downloaded {size} bytes"))
                    }
                    Err(e) => {
                        failed += 1;
                        eprintln!(
                            "warning: {} (keeping the previous copy)",
                            bosun_core::text::escape(&bosun_core::text::chain(e))
                        );
                    }
                }
            }
            print_build(quiet, &report.built);
            Ok(if failed > 0 {
                ExitCode::from(crate::EXIT_ERROR)
            } else {
                ExitCode::SUCCESS
            })
        }
        DbCommand::Import(a) => {
            let fetcher = fetcher(a.ca_cert)?;
            let report = update::import(&dir, &fetcher, &a.source, now)?;
            for (name, r) in &report.feeds {
                if let Ok(Outcome::Updated { size, .. }) = r {
                    say(quiet, &format!("{name}: imported {size} bytes"));
                }
            }
            print_build(quiet, &report.built);
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Status(a) => status(&dir, now, &a),
    }
}

fn fetcher(ca: Option<PathBuf>) -> anyhow::Result<Fetcher> {
    Ok(Fetcher::new(FetchOptions {
        ca_file: ca,
        ..Default::default()
    })?)
}

fn say(quiet: bool, msg: &str) {
    if !quiet {
        eprintln!("{msg}");
    }
}

fn print_build(quiet: bool, built: &Option<bosun_vulndb::build::BuildReport>) {
    let Some(b) = built else {
        say(quiet, "database unchanged");
        return;
    };
    for w in b.warnings.iter().take(20) {
        eprintln!("warning: skipped {}: {}", w.location, w.message);
    }
    if b.warnings.len() > 20 {
        eprintln!(
            "warning: ... and {} more skipped records",
            b.warnings.len() - 20
        );
    }
    let records: u64 = b.metadata.sources.iter().map(|s| s.records).sum();
    say(
        quiet,
        &format!(
            "database built: {records} records from {} sources, {} bytes",
            b.metadata.sources.len(),
            b.size
        ),
    );
}

fn status(dir: &Path, now: i64, a: &StatusArgs) -> anyhow::Result<ExitCode> {
    let path = update::db_file(dir);
    let db = Db::open(&path)?;
    if a.verify {
        db.verify()?;
    }
    let meta = db.metadata();
    let counts = db.counts()?;
    let stale = staleness(&db, now, a.db.max_age_secs()?);
    if a.json {
        let doc = serde_json::json!({
            "path": path,
            "metadata": meta,
            "built": bosun_core::time::rfc3339(meta.built),
            "age_seconds": now - meta.built,
            "counts": counts,
            "ecosystems": db.ecosystems().into_iter().map(|(e, n)| serde_json::json!({"ecosystem": e, "packages": n})).collect::<Vec<_>>(),
            "stale": !stale.is_empty(),
            "verified": a.verify,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        println!("database:  {}", path.display());
        println!(
            "built:     {} ({} ago) by {}",
            bosun_core::time::rfc3339(meta.built).unwrap_or_default(),
            human_age(now - meta.built),
            meta.built_by
        );
        println!("schema:    {}", meta.schema_version);
        println!(
            "contents:  {} advisories, {} affected packages, {} KEV entries, {} EPSS scores",
            counts.advisories, counts.affected, counts.kev, counts.epss
        );
        println!("sources:");
        for s in &meta.sources {
            let version = s
                .version
                .as_deref()
                .map(|v| format!(" version {v}"))
                .unwrap_or_default();
            let sha = s.sha256.get(..12).unwrap_or("");
            println!(
                "  {:<22} {:>7} records{}{version}  {} sha256:{sha}",
                s.name,
                s.records,
                if s.skipped > 0 {
                    format!(" ({} skipped)", s.skipped)
                } else {
                    String::new()
                },
                s.file
            );
        }
        if a.verify {
            println!("integrity: ok");
        }
        for n in &stale {
            println!("warning:   {}", n.message);
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        assert_eq!(parse_age("7d").ok().flatten(), Some(7 * 86_400));
        assert_eq!(parse_age("90").ok().flatten(), Some(90));
        assert_eq!(parse_age("0").ok().flatten(), None);
        assert!(parse_age("3y").is_err());
        assert!(parse_age("").is_err());
    }
}
