//! `-o FORMAT[=FILE]`: where each rendering goes. Files are written to a
//! temporary file beside the destination and renamed into place, so a
//! failed run never leaves a half-written SBOM behind.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use bosun_sbom::{Format, Sbom, WriteOptions};

pub struct Output {
    pub format: Format,
    pub file: Option<PathBuf>,
}

pub fn parse_all(specs: &[String]) -> anyhow::Result<Vec<Output>> {
    if specs.is_empty() {
        return Ok(vec![Output {
            format: Format::Table,
            file: None,
        }]);
    }
    let outs: Vec<Output> = specs
        .iter()
        .map(|s| {
            let (f, file) = match s.split_once('=') {
                Some((f, p)) if !p.is_empty() => (f, Some(PathBuf::from(p))),
                Some((f, _)) => (f, None),
                None => (s.as_str(), None),
            };
            let format: Format = f.parse().map_err(|e| anyhow::anyhow!("-o {s}: {e}"))?;
            Ok(Output { format, file })
        })
        .collect::<anyhow::Result<_>>()?;
    if outs.iter().filter(|o| o.file.is_none()).count() > 1 {
        anyhow::bail!("more than one -o writes to stdout; give the others a file (FORMAT=FILE)");
    }
    Ok(outs)
}

pub fn write_all(sbom: &Sbom, outputs: &[Output]) -> anyhow::Result<()> {
    for o in outputs {
        emit(o.file.as_deref(), |w, tty| {
            let opts = WriteOptions {
                pretty: true,
                color: tty,
            };
            bosun_sbom::write(sbom, o.format, &opts, w).map_err(anyhow::Error::from)
        })?;
    }
    Ok(())
}

/// Runs `render` on stdout (told whether it is a terminal) or on a
/// temporary file beside `file` that is renamed over it once complete.
pub fn emit(
    file: Option<&Path>,
    render: impl FnOnce(&mut dyn Write, bool) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    match file {
        None => {
            let stdout = std::io::stdout();
            let tty = stdout.is_terminal();
            let mut lock = stdout.lock();
            render(&mut lock, tty).context("writing to stdout")?;
            lock.flush().ok();
        }
        Some(path) => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("."));
            let mut tmp = tempfile::NamedTempFile::new_in(&dir)
                .with_context(|| format!("creating a file in {}", dir.display()))?;
            {
                let mut w = std::io::BufWriter::new(tmp.as_file_mut());
                render(&mut w, false).with_context(|| format!("writing {}", path.display()))?;
                w.flush()
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            tmp.persist(path)
                .with_context(|| format!("moving the output into {}", path.display()))?;
        }
    }
    Ok(())
}
