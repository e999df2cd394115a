//! FIRST's daily EPSS scores (`epss_scores-YYYY-MM-DD.csv.gz`):
//!
//! ```text
//! #model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z
//! cve,epss,percentile
//! CVE-1999-0001,0.01147,0.77872
//! ```

use std::io::{BufRead, BufReader, Read};

use super::{FeedError, is_cve_id};
use crate::model::Epss;

/// The real file inflates to about 10 MB (300k CVEs).
pub const MAX_BYTES: u64 = 256 * 1024 * 1024;
/// A real line is under 40 bytes.
const MAX_LINE: u64 = 1024;
const MAX_ROWS: usize = 5_000_000;

/// What the first line of the file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpssMeta {
    pub model_version: String,
    /// As published (a date or a timestamp).
    pub score_date: String,
}

/// Parses the CSV, gzip-compressed when `gzip`. Any malformed line is an
/// error naming its line number: the file is machine-written, so a bad line
/// means a damaged download.
pub fn parse(reader: impl Read, gzip: bool) -> Result<(EpssMeta, Vec<(String, Epss)>), FeedError> {
    let limited: Box<dyn Read> = if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(reader).take(MAX_BYTES + 1))
    } else {
        Box::new(reader.take(MAX_BYTES + 1))
    };
    let mut lines = Lines {
        reader: BufReader::new(limited),
        buf: Vec::new(),
        number: 0,
        consumed: 0,
    };

    let first = lines.next()?.ok_or_else(|| err(1, "empty file"))?;
    let first = first.strip_prefix('\u{feff}').unwrap_or(&first).to_string();
    let meta =
        parse_meta(&first).ok_or_else(|| err(1, "expected `#model_version:...,score_date:...`"))?;
    let header = lines.next()?.ok_or_else(|| err(2, "no header line"))?;
    if header.trim() != "cve,epss,percentile" {
        return Err(err(
            2,
            format_args!(
                "expected header `cve,epss,percentile`, got {:?}",
                clip(&header)
            ),
        ));
    }

    let mut rows = Vec::new();
    while let Some(line) = lines.next()? {
        if line.trim().is_empty() {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(err(lines.number, format_args!("more than {MAX_ROWS} rows")));
        }
        rows.push(parse_row(&line).map_err(|m| err(lines.number, m))?);
    }
    Ok((meta, rows))
}

fn err(line: usize, message: impl std::fmt::Display) -> FeedError {
    FeedError::invalid(format!("EPSS line {line}"), message)
}

/// Enough of a bad line to recognise it, no more.
fn clip(s: &str) -> String {
    s.chars().take(60).collect()
}

fn parse_meta(line: &str) -> Option<EpssMeta> {
    let body = line.trim().strip_prefix('#')?;
    let mut model_version = None;
    let mut score_date = None;
    for part in body.split(',') {
        let (key, value) = part.split_once(':')?;
        match key.trim() {
            "model_version" => model_version = Some(value.trim().to_string()),
            "score_date" => score_date = Some(value.trim().to_string()),
            _ => {}
        }
    }
    Some(EpssMeta {
        model_version: model_version.filter(|v| !v.is_empty())?,
        score_date: score_date.filter(|v| !v.is_empty())?,
    })
}

fn parse_row(line: &str) -> Result<(String, Epss), String> {
    let mut fields = line.trim().split(',');
    let (Some(cve), Some(score), Some(percentile), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(format!("expected 3 fields: {:?}", clip(line)));
    };
    if !is_cve_id(cve) {
        return Err(format!("not a CVE id: {:?}", clip(cve)));
    }
    let probability = |name: &str, s: &str| -> Result<f64, String> {
        match s.parse::<f64>() {
            Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
            _ => Err(format!(
                "{cve}: {name} {:?} is not a number in [0, 1]",
                clip(s)
            )),
        }
    };
    Ok((
        cve.to_string(),
        Epss {
            score: probability("epss", score)?,
            percentile: probability("percentile", percentile)?,
        },
    ))
}

/// Lines of at most `MAX_LINE` bytes, numbered from 1, within `MAX_BYTES`.
struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    number: usize,
    consumed: u64,
}

impl<R: BufRead> Lines<R> {
    fn next(&mut self) -> Result<Option<String>, FeedError> {
        self.buf.clear();
        self.number += 1;
        let n = (&mut self.reader)
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| FeedError::io(format!("EPSS line {}", self.number), e))?;
        self.consumed += n as u64;
        if self.consumed > MAX_BYTES {
            return Err(FeedError::TooLarge {
                location: "EPSS file".into(),
                limit: MAX_BYTES,
            });
        }
        if n == 0 {
            return Ok(None);
        }
        if self.buf.len() as u64 > MAX_LINE {
            return Err(err(
                self.number,
                format_args!("line longer than {MAX_LINE} bytes"),
            ));
        }
        let line = std::str::from_utf8(&self.buf).map_err(|_| err(self.number, "not UTF-8"))?;
        Ok(Some(line.trim_end_matches(['\n', '\r']).to_string()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::io::Write;

    use super::*;

    /// Shaped as FIRST publishes it (https://www.first.org/epss/data_stats):
    /// a comment line with the model version and score date, the header,
    /// then one row per CVE with five-decimal probabilities.
    const SAMPLE: &str = "#model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z\n\
cve,epss,percentile\n\
CVE-1999-0001,0.01147,0.77872\n\
CVE-2021-44228,0.94358,0.99962\n\
CVE-2024-3094,0.84452,0.99290\n\
CVE-2025-0001,0.00018,0.02901\n";

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn plain_and_gzip() {
        for (bytes, gzip) in [
            (SAMPLE.as_bytes().to_vec(), false),
            (gz(SAMPLE.as_bytes()), true),
        ] {
            let (meta, rows) = parse(&bytes[..], gzip).unwrap();
            assert_eq!(meta.model_version, "v2025.03.14");
            assert_eq!(meta.score_date, "2025-08-25T12:55:00Z");
            assert_eq!(rows.len(), 4);
            assert_eq!(rows[1].0, "CVE-2021-44228");
            assert_eq!(
                rows[1].1,
                Epss {
                    score: 0.94358,
                    percentile: 0.99962
                }
            );
        }
        // CRLF line ends and a BOM are tolerated.
        let crlf = format!("\u{feff}{}", SAMPLE.replace('\n', "\r\n"));
        let (_, rows) = parse(crlf.as_bytes(), false).unwrap();
        assert_eq!(rows[3].1.percentile, 0.02901);
    }

    #[test]
    fn hostile_input_is_an_error() {
        let head = "#model_version:v1,score_date:2025-01-01\ncve,epss,percentile\n";
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"".to_vec(), "line 1"),
            (b"cve,epss,percentile\n".to_vec(), "line 1"),
            (
                b"#model_version:v1\ncve,epss,percentile\n".to_vec(),
                "line 1",
            ),
            (
                b"#model_version:v1,score_date:x\ncve,score\n".to_vec(),
                "line 2",
            ),
            (format!("{head}CVE-2021-1,0.1,0.2\n").into_bytes(), "line 3"),
            (
                format!("{head}CVE-2021-44228,1.5,0.2\n").into_bytes(),
                "line 3",
            ),
            (
                format!("{head}CVE-2021-44228,NaN,0.2\n").into_bytes(),
                "line 3",
            ),
            (format!("{head}CVE-2021-44228,0.1\n").into_bytes(), "line 3"),
            (
                format!("{head}CVE-2021-44228,0.1,0.2,9\n").into_bytes(),
                "line 3",
            ),
            (
                format!("{head}CVE-2021-44228,0.1,0.2\nCVE-2021-44229").into_bytes(),
                "line 4",
            ),
            (
                format!("{head}{}\n", "9".repeat(100_000)).into_bytes(),
                "line 3",
            ),
        ];
        for (bytes, at) in cases {
            let e = parse(&bytes[..], false).unwrap_err().to_string();
            assert!(e.contains(at), "{e} should name {at}");
        }
        let mut bad_utf8 = head.as_bytes().to_vec();
        bad_utf8.extend_from_slice(b"CVE-2021-44228,0.1,\xff\xfe\n");
        assert!(parse(&bad_utf8[..], false).is_err());
        // Not gzip, and gzip cut short.
        assert!(parse(SAMPLE.as_bytes(), true).is_err());
        let z = gz(SAMPLE.as_bytes());
        assert!(parse(&z[..z.len() / 2], true).is_err());
    }

    #[test]
    fn gzip_bomb_stops_at_the_cap() {
        // Inflates to 64 MiB of one endless line; only the first KiB is read.
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let chunk = vec![b'a'; 1 << 20];
        for _ in 0..64 {
            enc.write_all(&chunk).unwrap();
        }
        let bomb = enc.finish().unwrap();
        let e = parse(&bomb[..], true).unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
    }
}
