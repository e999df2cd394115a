//! Where each rendering goes: one `-o` rule for `sbom`, `scan` and `config`,
//! and a writer that never damages what it writes to.
//!
//! # The `-o` rule
//!
//! `-o/--output` is repeatable and means the same in every command:
//!
//! - `-o FORMAT`: FORMAT on standard output (Syft's spelling);
//! - `-o FORMAT=FILE`: FORMAT into FILE (`FORMAT=-` is standard output);
//! - `-f FORMAT -o FILE`: FORMAT into FILE (Trivy's spelling); `-f FORMAT`
//!   alone, or with only `FORMAT=FILE` outputs, is FORMAT on standard output;
//! - no `-o` and no `-f`: a table on standard output.
//!
//! A value is a format when it is a format name (case-insensitive), a file
//! otherwise. What could mean either is an error that says what to type:
//! `-o json` together with `-f sarif` (`-o ./json` is the file), a file
//! with no format at all (`-o out.json`: type `-o json=out.json`), a name
//! that is some command's format but not this one's (`scan -o spdx-json`),
//! an unknown `NAME=FILE` (`-o sarf=x`). At most one output goes to
//! standard output, and no file is named twice.
//!
//! # Writing a file
//!
//! A regular file (new, or existing, also behind symlinks, which are
//! followed) is rendered into a temporary file beside it and renamed over
//! it once complete, so a failed run never leaves half a report. A new file
//! gets `0666 & !umask` like any other tool's output; an existing file keeps
//! its mode, owner and group (when the owner cannot be kept, or the file has
//! other hard links, the finished rendering is copied into the file in
//! place instead). Anything else, a FIFO, a character device such as
//! `/dev/null`, `/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N`, is opened and
//! written straight, never replaced.

use std::fs::{self, OpenOptions, Permissions};
use std::io::{IsTerminal, Seek, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use bosun_core::text::escape;
use bosun_sbom::{Sbom, WriteOptions};

/// Every format name any bosun command writes, plus the Syft and Trivy
/// names bosun does not write: such a value after `-o` is a format the user
/// meant, never a file name.
const KNOWN_FORMATS: &[&str] = &[
    "table",
    "json",
    "cyclonedx-json",
    "cyclonedx",
    "spdx-json",
    "spdx",
    "sarif",
    "cyclonedx-xml",
    "spdx-tag-value",
    "syft-json",
    "syft-table",
    "syft-text",
    "github",
    "template",
    "cosign-vuln",
    "purls",
];

/// The formats one command writes: the names users type, and the format
/// `-f` and `-o` default to.
pub struct Formats<F: 'static> {
    pub command: &'static str,
    pub names: &'static [(&'static str, F)],
}

pub const SBOM_FORMATS: Formats<bosun_sbom::Format> = Formats {
    command: "sbom",
    names: &[
        ("table", bosun_sbom::Format::Table),
        ("json", bosun_sbom::Format::Json),
        ("cyclonedx-json", bosun_sbom::Format::CycloneDxJson),
        ("cyclonedx", bosun_sbom::Format::CycloneDxJson),
        ("spdx-json", bosun_sbom::Format::SpdxJson),
        ("spdx", bosun_sbom::Format::SpdxJson),
    ],
};

pub const SCAN_FORMATS: Formats<bosun_vuln::report::Format> = Formats {
    command: "scan",
    names: &[
        ("table", bosun_vuln::report::Format::Table),
        ("json", bosun_vuln::report::Format::Json),
        ("sarif", bosun_vuln::report::Format::Sarif),
        ("cyclonedx-json", bosun_vuln::report::Format::CycloneDxJson),
        ("cyclonedx", bosun_vuln::report::Format::CycloneDxJson),
    ],
};

pub const CONFIG_FORMATS: Formats<bosun_config::output::Format> = Formats {
    command: "config",
    names: &[
        ("table", bosun_config::output::Format::Table),
        ("json", bosun_config::output::Format::Json),
        ("sarif", bosun_config::output::Format::Sarif),
    ],
};

impl<F: Copy> Formats<F> {
    fn find(&self, name: &str) -> Option<F> {
        self.names
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, f)| *f)
    }

    fn list(&self) -> String {
        let names: Vec<&str> = self.names.iter().map(|(n, _)| *n).collect();
        names.join(", ")
    }

    /// `-f FORMAT`.
    pub fn parse_flag(&self, name: &str) -> anyhow::Result<F> {
        self.find(name).with_context(|| {
            format!(
                "-f {}: bosun {} writes {}",
                escape(name),
                self.command,
                self.list()
            )
        })
    }

    /// The name of `format` as users type it.
    pub fn name(&self, format: F) -> &'static str
    where
        F: PartialEq,
    {
        self.names
            .iter()
            .find(|(_, f)| *f == format)
            .map_or("table", |(n, _)| n)
    }

    /// A format for a file that was given none, from its extension, for
    /// the error message's suggestion.
    fn guess(&self, file: &str) -> &'static str {
        let lower = file.to_ascii_lowercase();
        let wanted = if lower.ends_with(".sarif") || lower.ends_with(".sarif.json") {
            "sarif"
        } else if lower.ends_with(".cdx.json")
            || lower.ends_with(".cyclonedx.json")
            || lower.ends_with(".bom.json")
        {
            "cyclonedx-json"
        } else if lower.ends_with(".spdx.json") {
            "spdx-json"
        } else if lower.ends_with(".json") {
            "json"
        } else {
            "table"
        };
        self.names
            .iter()
            .find(|(n, _)| *n == wanted)
            .map_or("json", |(n, _)| n)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    Stdout,
    File(PathBuf),
}

impl Dest {
    fn of(file: &str) -> Dest {
        if file == "-" {
            Dest::Stdout
        } else {
            Dest::File(PathBuf::from(file))
        }
    }
}

pub struct Output<F> {
    pub format: F,
    pub dest: Dest,
}

fn is_known(name: &str) -> bool {
    KNOWN_FORMATS.iter().any(|n| n.eq_ignore_ascii_case(name))
}

fn has_separator(s: &str) -> bool {
    s.contains('/')
}

/// The outputs that `-f` (`flag`) and the `-o` values (`specs`) ask for,
/// by the rule in this module's documentation.
pub fn parse<F: Copy + PartialEq>(
    formats: &Formats<F>,
    flag: Option<&str>,
    specs: &[String],
) -> anyhow::Result<Vec<Output<F>>> {
    let cmd = formats.command;
    let flag = flag.map(|f| formats.parse_flag(f)).transpose()?;
    let cannot = |name: &str| {
        anyhow::anyhow!(
            "-o {}: bosun {cmd} does not write {}; it writes {}",
            escape(name),
            escape(name),
            formats.list()
        )
    };
    let mut outs: Vec<Output<F>> = Vec::new();
    let mut flag_used = false;
    for s in specs {
        let shown = escape(s);
        if s.is_empty() {
            bail!(
                "-o needs a value: FORMAT (to standard output) or FORMAT=FILE ({})",
                formats.list()
            );
        }
        let split = s.split_once('=').filter(|(pre, _)| !has_separator(pre));
        if let Some((pre, file)) = split {
            if let Some(format) = formats.find(pre) {
                if file.is_empty() {
                    bail!(
                        "-o {shown}: no file after '='; type -o {pre} for standard output, \
                         or -o {pre}=FILE"
                    );
                }
                outs.push(Output {
                    format,
                    dest: Dest::of(file),
                });
                continue;
            }
            if is_known(pre) {
                return Err(cannot(pre));
            }
            if flag.is_none() {
                bail!(
                    "-o {shown}: unknown format {:?} (bosun {cmd} writes {}); \
                     for a file named {shown}, type -o {}=./{shown}",
                    escape(pre),
                    formats.list(),
                    formats.guess(s)
                );
            }
        }
        // A plain value: a format name, or a file.
        if split.is_none() && is_known(s) {
            if let Some(f) = flag {
                let f = formats.name(f);
                bail!(
                    "-o {shown} is a format name, and -f {f} is given: for {shown} on \
                     standard output drop -f (-o {shown}); for a file named {shown} \
                     type -f {f} -o ./{shown} (or -o {f}=./{shown})"
                );
            }
            let format = formats.find(s).ok_or_else(|| cannot(s))?;
            outs.push(Output {
                format,
                dest: Dest::Stdout,
            });
            continue;
        }
        match flag {
            Some(format) => {
                flag_used = true;
                outs.push(Output {
                    format,
                    dest: Dest::of(s),
                });
            }
            None => {
                let g = formats.guess(s);
                if !has_separator(s) && !s.contains('.') {
                    bail!(
                        "-o {shown}: unknown format (bosun {cmd} writes {}); for a file \
                         named {shown}, type -o {g}=./{shown} or -f {g} -o ./{shown}",
                        formats.list()
                    );
                }
                bail!(
                    "-o {shown}: no format given for this file; type -o {g}={shown} \
                     (or -f {g} -o {shown}); formats: {}",
                    formats.list()
                );
            }
        }
    }
    if let Some(format) = flag
        && !flag_used
        && !outs.iter().any(|o| o.dest == Dest::Stdout)
    {
        outs.push(Output {
            format,
            dest: Dest::Stdout,
        });
    }
    if outs.is_empty() {
        outs.push(Output {
            format: formats.names[0].1,
            dest: Dest::Stdout,
        });
    }
    if outs.iter().filter(|o| o.dest == Dest::Stdout).count() > 1 {
        bail!(
            "more than one output goes to standard output; give all but one a file \
             (-o FORMAT=FILE)"
        );
    }
    let mut files: Vec<&Path> = outs
        .iter()
        .filter_map(|o| match &o.dest {
            Dest::File(p) => Some(p.as_path()),
            Dest::Stdout => None,
        })
        .collect();
    files.sort();
    if let Some(w) = files.windows(2).find(|w| w[0] == w[1]) {
        bail!(
            "-o names {} twice; give each output its own file",
            escape(&w[0].display().to_string())
        );
    }
    Ok(outs)
}

pub fn write_all(sbom: &Sbom, outputs: &[Output<bosun_sbom::Format>]) -> anyhow::Result<()> {
    for o in outputs {
        emit(&o.dest, |w, tty| {
            let opts = WriteOptions {
                pretty: true,
                color: tty,
            };
            bosun_sbom::write(sbom, o.format, &opts, w).map_err(anyhow::Error::from)
        })?;
    }
    Ok(())
}

/// Runs `render` on `dest` (telling it whether it writes to a terminal).
pub fn emit(
    dest: &Dest,
    render: impl FnOnce(&mut dyn Write, bool) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    match dest {
        Dest::Stdout => to_stdout(render),
        Dest::File(path) => to_path(path, render),
    }
}

fn to_stdout(
    render: impl FnOnce(&mut dyn Write, bool) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let tty = stdout.is_terminal();
    let mut lock = stdout.lock();
    render(&mut lock, tty).context("writing to standard output")?;
    lock.flush().context("writing to standard output")?;
    Ok(())
}

fn to_stderr(
    render: impl FnOnce(&mut dyn Write, bool) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let stderr = std::io::stderr();
    let mut lock = stderr.lock();
    render(&mut lock, false).context("writing to standard error")?;
    lock.flush().context("writing to standard error")?;
    Ok(())
}

/// `/proc` and `/dev/fd` paths are the process's own open files: their
/// "symlinks" name pipes and sockets, not paths, and a rename would
/// replace the file the shell opened instead of writing to it.
fn is_fd_path(p: &Path) -> bool {
    p.starts_with("/proc") || p.starts_with("/dev/fd")
}

fn to_path(
    path: &Path,
    render: impl FnOnce(&mut dyn Write, bool) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let shown = || escape(&path.display().to_string());
    // Standard output and error by name: written through the handles this
    // process already has (a socket cannot be reopened through /proc).
    if path == Path::new("/dev/stdout") || path == Path::new("/proc/self/fd/1") {
        return to_stdout(render);
    }
    if path == Path::new("/dev/stderr") || path == Path::new("/proc/self/fd/2") {
        return to_stderr(render);
    }
    let mut target = path.to_path_buf();
    let mut direct = is_fd_path(&target);
    // Follow symlinks to the file they name: the link stays, the file it
    // points to is written. Resolved by hand (not canonicalize) so that a
    // link to a file not yet there still works.
    let mut hops = 0;
    while !direct {
        match fs::symlink_metadata(&target) {
            Ok(m) if m.file_type().is_symlink() => {
                hops += 1;
                if hops > 40 {
                    bail!("{}: too many levels of symbolic links", shown());
                }
                let link =
                    fs::read_link(&target).with_context(|| format!("reading link {}", shown()))?;
                target = if link.is_absolute() {
                    link
                } else {
                    target
                        .parent()
                        .map_or_else(|| link.clone(), |d| d.join(&link))
                };
                direct = is_fd_path(&target);
            }
            _ => break,
        }
    }
    if direct {
        return write_straight(path, render);
    }
    match fs::metadata(&target) {
        Ok(m) if m.is_file() => replace(&target, Some(&m), render),
        Ok(m) if m.is_dir() => bail!("-o {}: is a directory", shown()),
        Ok(_) => write_straight(path, render),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => replace(&target, None, render),
        Err(e) => Err(e).with_context(|| format!("-o {}", shown())),
    }
}

/// A FIFO, a device, a descriptor of this process: opened for writing
/// (appending, so a `>>` redirect behind `/dev/fd/N` keeps what it has) and
/// written as a stream. Never created, truncated or replaced.
fn write_straight(
    path: &Path,
    render: impl FnOnce(&mut dyn Write, bool) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let shown = escape(&path.display().to_string());
    let file = OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(|| format!("opening {shown} for writing"))?;
    let tty = file.is_terminal();
    let mut w = std::io::BufWriter::new(file);
    render(&mut w, tty).with_context(|| format!("writing {shown}"))?;
    w.flush().with_context(|| format!("writing {shown}"))?;
    Ok(())
}

/// A regular file, new or existing: rendered whole into a temporary file
/// beside it, then renamed over it with the old file's mode and owner (or,
/// when those cannot be kept, copied into it in place).
fn replace(
    target: &Path,
    existing: Option<&fs::Metadata>,
    render: impl FnOnce(&mut dyn Write, bool) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let shown = escape(&target.display().to_string());
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".bosun-").suffix(".tmp");
    if existing.is_none() {
        // Created with 0666: the kernel applies the umask, as for any
        // file a shell redirect creates.
        builder.permissions(Permissions::from_mode(0o666));
    }
    let mut tmp = builder
        .tempfile_in(dir)
        .with_context(|| format!("creating a file in {}", escape(&dir.display().to_string())))?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        render(&mut w, false).with_context(|| format!("writing {shown}"))?;
        w.flush().with_context(|| format!("writing {shown}"))?;
    }
    if let Some(m) = existing {
        let owner_kept = m.nlink() == 1
            && std::os::unix::fs::fchown(tmp.as_file(), Some(m.uid()), Some(m.gid())).is_ok();
        if !owner_kept {
            // Another owner we may not give files to, or other hard links
            // a rename would cut: the complete rendering goes into the
            // file itself.
            let f = tmp.as_file_mut();
            f.rewind().with_context(|| format!("writing {shown}"))?;
            let mut dst = OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(target)
                .with_context(|| format!("opening {shown} for writing"))?;
            std::io::copy(f, &mut dst).with_context(|| format!("writing {shown}"))?;
            dst.sync_all().with_context(|| format!("writing {shown}"))?;
            return Ok(());
        }
        // After the chown, which clears set-id bits.
        tmp.as_file()
            .set_permissions(Permissions::from_mode(m.mode() & 0o7777))
            .with_context(|| format!("keeping the mode of {shown}"))?;
    }
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("writing {shown}"))?;
    tmp.persist(target)
        .with_context(|| format!("moving the output into {shown}"))?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use bosun_vuln::report::Format as F;

    fn p(flag: Option<&str>, specs: &[&str]) -> anyhow::Result<Vec<(F, Dest)>> {
        let specs: Vec<String> = specs.iter().map(|s| s.to_string()).collect();
        Ok(parse(&SCAN_FORMATS, flag, &specs)?
            .into_iter()
            .map(|o| (o.format, o.dest))
            .collect())
    }

    fn file(s: &str) -> Dest {
        Dest::File(PathBuf::from(s))
    }

    #[test]
    fn both_tools_spellings() {
        assert_eq!(p(None, &[]).unwrap(), [(F::Table, Dest::Stdout)]);
        assert_eq!(p(None, &["json"]).unwrap(), [(F::Json, Dest::Stdout)]);
        assert_eq!(p(None, &["JSON"]).unwrap(), [(F::Json, Dest::Stdout)]);
        assert_eq!(
            p(None, &["sarif=x.sarif"]).unwrap(),
            [(F::Sarif, file("x.sarif"))]
        );
        assert_eq!(
            p(Some("json"), &["out.json"]).unwrap(),
            [(F::Json, file("out.json"))]
        );
        assert_eq!(p(Some("json"), &[]).unwrap(), [(F::Json, Dest::Stdout)]);
        assert_eq!(
            p(Some("json"), &["sarif=a"]).unwrap(),
            [(F::Sarif, file("a")), (F::Json, Dest::Stdout)]
        );
        assert_eq!(
            p(Some("json"), &["./json"]).unwrap(),
            [(F::Json, file("./json"))]
        );
        assert_eq!(
            p(None, &["json=./a=b", "table"]).unwrap(),
            [(F::Json, file("./a=b")), (F::Table, Dest::Stdout)]
        );
        assert_eq!(p(None, &["json=-"]).unwrap(), [(F::Json, Dest::Stdout)]);
        assert_eq!(
            p(Some("sarif"), &["dir/a=b"]).unwrap(),
            [(F::Sarif, file("dir/a=b"))]
        );
    }

    #[test]
    fn ambiguous_values_say_what_to_type() {
        let e = |flag, specs: &[&str]| format!("{:#}", p(flag, specs).err().unwrap());
        assert!(e(Some("table"), &["json"]).contains("-o ./json"));
        assert!(e(None, &["out.json"]).contains("-o json=out.json"));
        assert!(e(None, &["x.sarif"]).contains("-o sarif=x.sarif"));
        assert!(e(None, &["report"]).contains("-o table=./report"));
        assert!(e(None, &["spdx-json"]).contains("does not write spdx-json"));
        assert!(e(None, &["spdx-json=x"]).contains("does not write spdx-json"));
        assert!(e(None, &["sarf=x"]).contains("unknown format"));
        assert!(e(None, &["json=", "x"]).contains("no file after"));
        assert!(e(None, &["json", "table"]).contains("standard output"));
        assert!(e(None, &["json=a", "sarif=a"]).contains("twice"));
        assert!(e(Some("spdx-json"), &[]).contains("-f spdx-json"));
    }
}
