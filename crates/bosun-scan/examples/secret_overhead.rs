//! Wall time of a cold `bosun_scan::scan` of an image with the secret
//! scanner off and on (no cache), and what it found. The best wall time of
//! N runs is what the target is about; the mean CPU time (all threads) is
//! printed too, as it varies far less when others load the machine.
//!
//! Usage: cargo run --release -p bosun-scan --example secret_overhead -- [--runs N] TARGET...

use std::process::ExitCode;
use std::time::{Duration, Instant};

use bosun_scan::{Quiet, ScanOptions, Target, scan};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut runs = 3;
    if args.first().map(String::as_str) == Some("--runs") {
        runs = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(3);
        args.drain(..2.min(args.len()));
    }
    if args.is_empty() {
        eprintln!("usage: secret_overhead [--runs N] TARGET...");
        return ExitCode::FAILURE;
    }
    for t in &args {
        let target = match Target::parse(t) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{t}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut best = [Duration::MAX; 2];
        let mut cpu = [0.0f64; 2];
        let mut found = Vec::new();
        for _ in 0..runs {
            for (i, secrets) in [false, true].into_iter().enumerate() {
                let opts = ScanOptions {
                    secrets,
                    ..ScanOptions::default()
                };
                let cpu_start = cpu_seconds();
                let start = Instant::now();
                match scan(&target, &opts, &Quiet) {
                    Ok(s) => found = s.secrets,
                    Err(e) => {
                        eprintln!("{t}: {e}");
                        return ExitCode::FAILURE;
                    }
                }
                best[i] = best[i].min(start.elapsed());
                if let (Some(a), Some(b)) = (cpu_start, cpu_seconds()) {
                    cpu[i] += (b - a) / runs as f64;
                }
            }
        }
        for f in &found {
            eprintln!(
                "  {} {} layer {:?} deleted={} line {} {} {}",
                f.rule_id, f.path, f.layer_index, f.deleted, f.line, f.redacted, f.fingerprint
            );
        }
        let (off, on) = (best[0].as_secs_f64(), best[1].as_secs_f64());
        println!(
            "{{\"target\": {t:?}, \"runs\": {runs}, \"secrets_off_s\": {off:.3}, \"secrets_on_s\": {on:.3}, \"overhead_pct\": {:.1}, \"cpu_off_s\": {:.3}, \"cpu_on_s\": {:.3}, \"cpu_overhead_pct\": {:.1}, \"findings\": {}}}",
            (on / off - 1.0) * 100.0,
            cpu[0],
            cpu[1],
            (cpu[1] / cpu[0] - 1.0) * 100.0,
            found.len()
        );
    }
    ExitCode::SUCCESS
}

/// User plus system time of this process so far, all threads included (from
/// /proc/self/stat, in USER_HZ ticks: 100 a second on Linux). None elsewhere.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name is in parentheses and may contain spaces.
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}
