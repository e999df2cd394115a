//! Decode one gzip blob with each decoder, alternating in rounds, and print
//! a JSON summary: is there a single-core decoder faster than the one bosun
//! uses?
//!
//! - `zlib-rs`: flate2's `MultiGzDecoder` on zlib-rs, streaming into 1 MiB
//!   reads, exactly as `bosun_oci::layer::decompress` does.
//! - `libdeflate`: the C library through `libdeflater`, whole buffer in and
//!   out (its only mode, so it cannot stream a layer; its output buffer is
//!   allocated before the clock starts).
//! - `zune-inflate`: pure Rust, libdeflate's design, whole buffer.
//!
//! Usage: bosun-bench-inflate [--rounds N] BLOB

use std::io::Read;
use std::process::ExitCode;
use std::time::Instant;

const DECODERS: [&str; 3] = ["zlib-rs", "libdeflate", "zune-inflate"];

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bosun-bench-inflate: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut rounds = 3usize;
    let mut blob = None;
    while let Some(a) = args.next() {
        if a == "--rounds" {
            rounds = args
                .next()
                .and_then(|n| n.parse().ok())
                .filter(|&n| n > 0)
                .ok_or("--rounds needs a positive number")?;
        } else {
            blob = Some(a);
        }
    }
    let blob = blob.ok_or("usage: bosun-bench-inflate [--rounds N] BLOB")?;
    let data = std::fs::read(&blob).map_err(|e| format!("{blob}: {e}"))?;
    let tail: [u8; 4] = data
        .get(data.len().saturating_sub(4)..)
        .and_then(|t| t.try_into().ok())
        .ok_or("not a gzip blob")?;
    // ISIZE: the uncompressed size modulo 2^32 (layers here are < 4 GiB).
    let size = u32::from_le_bytes(tail) as usize;
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); DECODERS.len()];
    let mut out = vec![0u8; size];
    for round in 0..rounds {
        for (i, name) in DECODERS.iter().enumerate() {
            let start = Instant::now();
            let n = decode(name, &data, &mut out)?;
            let secs = start.elapsed().as_secs_f64();
            if n != size {
                return Err(format!("{name}: {n} bytes, the trailer says {size}"));
            }
            eprintln!("round {}: {name} {secs:.3} s", round + 1);
            times[i].push(secs);
        }
    }
    let rows: Vec<String> = DECODERS
        .iter()
        .zip(&times)
        .map(|(name, t)| {
            let mut s = t.clone();
            s.sort_by(f64::total_cmp);
            format!(
                "{{\"decoder\":\"{name}\",\"median_s\":{:.4},\"min_s\":{:.4},\"mb_per_s\":{:.1}}}",
                s[s.len() / 2],
                s[0],
                size as f64 / s[s.len() / 2] / 1e6
            )
        })
        .collect();
    println!(
        "{{\"blob\":\"{blob}\",\"compressed_bytes\":{},\"unpacked_bytes\":{size},\"rounds\":{rounds},\"decoders\":[{}]}}",
        data.len(),
        rows.join(",")
    );
    Ok(())
}

fn decode(name: &str, data: &[u8], out: &mut [u8]) -> Result<usize, String> {
    let err = |e: &dyn std::fmt::Display| format!("{name}: {e}");
    match name {
        "zlib-rs" => {
            let mut d = flate2::bufread::MultiGzDecoder::new(std::io::BufReader::with_capacity(
                256 << 10,
                data,
            ));
            let mut buf = vec![0u8; 1 << 20];
            let mut n = 0;
            loop {
                match d.read(&mut buf).map_err(|e| err(&e))? {
                    0 => return Ok(n),
                    k => n += k,
                }
            }
        }
        "libdeflate" => libdeflater::Decompressor::new()
            .gzip_decompress(data, out)
            .map_err(|e| err(&e)),
        "zune-inflate" => {
            let opts = zune_inflate::DeflateOptions::default()
                .set_limit(out.len() + 1)
                .set_size_hint(out.len());
            zune_inflate::DeflateDecoder::new_with_options(data, opts)
                .decode_gzip()
                .map(|v| v.len())
                .map_err(|e| err(&format!("{e:?}")))
        }
        _ => Err(format!("unknown decoder {name}")),
    }
}
