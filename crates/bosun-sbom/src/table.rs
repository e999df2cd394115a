//! A human-readable table: NAME VERSION TYPE (purl type) and, when any
//! package has one, LOCATION (the first location, `(+n)` for more), sorted,
//! then a count line.

use std::io::{BufWriter, Write};

use bosun_core::Package;

use crate::model::Sbom;
use crate::{SbomError, WriteOptions};

const HEADER: [&str; 4] = ["NAME", "VERSION", "TYPE", "LOCATION"];
/// Longest location shown; longer ones keep their tail, which names the file.
const MAX_LOCATION: usize = 60;
const GAP: &str = "  ";

pub fn write(sbom: &Sbom, opts: &WriteOptions, w: &mut dyn Write) -> Result<(), SbomError> {
    let mut rows: Vec<[String; 4]> = sbom.packages.iter().map(row).collect();
    rows.sort();
    let columns = if rows.iter().any(|r| !r[3].is_empty()) {
        4
    } else {
        3
    };
    let mut widths = [0usize; 4];
    for (i, h) in HEADER.iter().enumerate().take(columns) {
        widths[i] = rows
            .iter()
            .map(|r| r[i].chars().count())
            .chain([h.len()])
            .max()
            .unwrap_or(0);
    }

    let mut out = BufWriter::new(w);
    let header = line(&HEADER.map(str::to_string), &widths, columns);
    if opts.color {
        writeln!(out, "\x1b[1m{header}\x1b[0m")?;
    } else {
        writeln!(out, "{header}")?;
    }
    for r in &rows {
        writeln!(out, "{}", line(r, &widths, columns))?;
    }
    let n = rows.len();
    write!(out, "{n} package{}", if n == 1 { "" } else { "s" })?;
    match sbom.unknowns.len() {
        0 => writeln!(out)?,
        1 => writeln!(out, ", 1 unknown")?,
        u => writeln!(out, ", {u} unknowns")?,
    }
    out.flush()?;
    Ok(())
}

fn row(p: &Package) -> [String; 4] {
    let location = match p.locations.as_slice() {
        [] => String::new(),
        [one] => shorten(&clean(&one.path)),
        [first, rest @ ..] => format!("{} (+{})", shorten(&clean(&first.path)), rest.len()),
    };
    [
        clean(&p.name),
        clean(&p.version),
        p.kind.purl_type().to_string(),
        location,
    ]
}

/// Names, versions and paths come from the image: terminal escapes,
/// controls and invisible characters are removed (bosun-core `text`).
fn clean(s: &str) -> String {
    bosun_core::text::clean(s)
}

fn shorten(s: &str) -> String {
    let n = s.chars().count();
    if n <= MAX_LOCATION {
        return s.to_string();
    }
    let tail: String = s.chars().skip(n - (MAX_LOCATION - 3)).collect();
    format!("...{tail}")
}

/// Cells padded to their column's width, the last one not padded.
fn line(cells: &[String; 4], widths: &[usize; 4], columns: usize) -> String {
    let mut s = String::new();
    for i in 0..columns {
        let cell = &cells[i];
        s.push_str(cell);
        if i + 1 < columns {
            let pad = widths[i].saturating_sub(cell.chars().count());
            s.extend(std::iter::repeat_n(' ', pad));
            s.push_str(GAP);
        }
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn shorten_keeps_the_tail() {
        let long = format!("/{}/file.jar", "d".repeat(100));
        let s = shorten(&long);
        assert_eq!(s.chars().count(), MAX_LOCATION);
        assert!(s.starts_with("...") && s.ends_with("/file.jar"));
        assert_eq!(shorten("/a/b"), "/a/b");
        // Multi-byte characters are counted, never split.
        let wide = "é".repeat(100);
        assert_eq!(shorten(&wide).chars().count(), MAX_LOCATION);
    }

    #[test]
    fn clean_neutralises_control_characters() {
        assert_eq!(clean("a\nb\u{1b}[31m"), "a b");
    }
}
