//! The lower bound for a cold `bosun sbom` of an OCI layout: open every layer
//! blob and decompress it to a sink with `bosun_oci::layer::decompress`, the
//! function bosun itself uses, and do nothing else (no digest checks, no tar
//! walk, no cataloging).
//!
//! Layers run on as many threads as bosun's default (`available_parallelism`),
//! biggest first, like `bosun_scan::analyze::analyze_layers`, so the time is
//! comparable with bosun's wall time. `--jobs N` overrides it.
//!
//! Usage: cargo run --release -p bosun-scan --example decompress_floor -- [--jobs N] DIR
//! Prints one line per layer on stderr and a JSON summary on stdout.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bosun_oci::layer;
use bosun_oci::layout::{LayoutStore, Selector};
use bosun_oci::media::Compression;

const READ_SIZE: usize = 1 << 20;

struct Job {
    path: PathBuf,
    compressed: u64,
    declared: Compression,
}

struct Done {
    unpacked: u64,
    took: Duration,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("decompress_floor: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut jobs = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let mut dir = None;
    while let Some(a) = args.next() {
        if a == "--jobs" {
            jobs = args
                .next()
                .and_then(|n| n.parse().ok())
                .filter(|&n: &usize| n > 0)
                .ok_or("--jobs needs a positive number")?;
        } else {
            dir = Some(PathBuf::from(a));
        }
    }
    let dir = dir.ok_or("usage: decompress_floor [--jobs N] OCI_LAYOUT_DIR")?;
    let layers = layer_blobs(&dir)?;

    let start = Instant::now();
    let done: Vec<Mutex<Option<Result<Done, String>>>> =
        layers.iter().map(|_| Mutex::new(None)).collect();
    let mut order: Vec<usize> = (0..layers.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(layers[i].compressed));
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..jobs.min(layers.len().max(1)) {
            s.spawn(|| {
                while let Some(&i) = order.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let res = decompress_one(&layers[i]);
                    *done[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(res);
                }
            });
        }
    });
    let wall = start.elapsed();

    let (mut compressed, mut unpacked, mut serial) = (0u64, 0u64, Duration::ZERO);
    for (job, slot) in layers.iter().zip(done) {
        let d = slot
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .unwrap_or_else(|| Err("layer was never decompressed".into()))?;
        eprintln!(
            "{}: {} -> {} bytes in {:.3} s",
            job.path.display(),
            job.compressed,
            d.unpacked,
            d.took.as_secs_f64()
        );
        compressed += job.compressed;
        unpacked += d.unpacked;
        serial += d.took;
    }
    println!(
        "{{\"layers\":{},\"jobs\":{jobs},\"compressed_bytes\":{compressed},\"unpacked_bytes\":{unpacked},\
         \"wall_s\":{:.4},\"sum_of_layers_s\":{:.4}}}",
        layers.len(),
        wall.as_secs_f64(),
        serial.as_secs_f64()
    );
    Ok(())
}

/// The layer blobs of the layout's image (host platform), as files.
fn layer_blobs(dir: &Path) -> Result<Vec<Job>, String> {
    let store = LayoutStore::open_dir(dir, Selector::Default).map_err(|e| e.to_string())?;
    let image = bosun_oci::resolve(&store, None).map_err(|e| e.to_string())?;
    Ok(image
        .layers
        .into_iter()
        .map(|l| {
            // Digest's Display is `alg:hex`, which is the layout's `blobs/alg/hex`.
            let name = l.descriptor.digest.to_string();
            let (alg, hex) = name.split_once(':').unwrap_or(("sha256", &name));
            Job {
                path: dir.join("blobs").join(alg).join(hex),
                compressed: l.descriptor.size,
                declared: l.compression,
            }
        })
        .collect())
}

fn decompress_one(job: &Job) -> Result<Done, String> {
    let what = |e: io::Error| format!("{}: {e}", job.path.display());
    let start = Instant::now();
    let file = File::open(&job.path).map_err(what)?;
    let (mut r, _) = layer::decompress(file, job.declared).map_err(what)?;
    // Big reads, as bosun's decompression thread does (1 MiB chunks): with
    // io::copy's 8 KiB the per-call overhead would make the floor too high.
    let mut buf = vec![0u8; READ_SIZE];
    let mut unpacked = 0u64;
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => unpacked += n as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(what(e)),
        }
    }
    Ok(Done {
        unpacked,
        took: start.elapsed(),
    })
}
