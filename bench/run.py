#!/usr/bin/env python3
"""Time `bosun sbom` against the decompression floor, Syft and Trivy.

Called by scripts/bench.sh, which installs the tools and builds bosun; this
script only measures. For each image: one cold run of every tool under
`/usr/bin/time -v` (max RSS, and the SBOM it wrote, whose package count is
the sanity column), then hyperfine for cold runs (fresh cache dir before
each) and warm runs (the same cache dir, filled by the warmup).

Writes bench/results/latest.json; bench/compare.py turns it into tables.
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

# Runs per measurement: (warmup, runs). Long runs get few repetitions.
SHORT_COLD = (1, 10)
SHORT_WARM = (3, 30)
PEER_SHORT = {"syft": (1, 3), "trivy": (1, 5)}
LONG = (0, 3)
LONG_WARM = (1, 10)


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def tool_cmds(tool, paths, image, cache, out):
    """The command line of one tool: argv and extra environment."""
    if tool == "bosun":
        argv = [paths["bosun"], "sbom", f"oci:{image}", "-o", f"cyclonedx-json={out}",
                "--cache-dir", cache, "-q"]
        return argv, {}
    if tool == "syft":
        argv = [paths["syft"], "scan", f"oci-dir:{image}", "-o", f"cyclonedx-json={out}", "-q"]
        # No update check, and a cache of our own so "cold" means cold.
        return argv, {"SYFT_CHECK_FOR_APP_UPDATE": "false", "SYFT_CACHE_DIR": cache}
    if tool == "trivy":
        # SBOM mode: cyclonedx disables the vulnerability scan. No DB, no
        # check bundle, no telemetry, no network lookups. Jars are skipped:
        # Trivy refuses to analyse them without its Java DB, a download.
        argv = [paths["trivy"], "image", "--input", image, "--cache-dir", cache,
                "--format", "cyclonedx", "--output", out, "--offline-scan",
                "--skip-db-update", "--skip-java-db-update", "--skip-check-update",
                "--skip-version-check", "--disable-telemetry",
                "--skip-files", "**/*.jar", "--skip-files", "**/*.war",
                "--skip-files", "**/*.ear", "-q"]
        return argv, {}
    if tool == "floor":
        return [paths["floor"], image], {}
    raise ValueError(tool)


def count_packages(sbom):
    """Components with a purl, nested ones included (the OS entry has none)."""
    def walk(cs):
        n = 0
        for c in cs or []:
            n += 1 if c.get("purl") else 0
            n += walk(c.get("components"))
        return n
    with open(sbom) as f:
        doc = json.load(f)
    if doc.get("bomFormat") != "CycloneDX":
        raise RuntimeError(f"{sbom} is not a CycloneDX SBOM")
    return walk(doc.get("components"))


def timed_once(tool, paths, image, workdir):
    """One cold run under /usr/bin/time -v: max RSS and the package count."""
    cache = os.path.join(workdir, f"{tool}-once-cache")
    shutil.rmtree(cache, ignore_errors=True)
    out = os.path.join(workdir, f"{tool}.cdx.json")
    argv, env = tool_cmds(tool, paths, image, cache, out if tool != "floor" else None)
    p = subprocess.run(["/usr/bin/time", "-v", *argv], env={**os.environ, **env},
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{tool} failed on {image}:\n{p.stderr[-3000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    res = {"max_rss_kb": int(rss.group(1)) if rss else None}
    if tool == "floor":
        res["floor"] = json.loads(p.stdout)
    else:
        # Zero is legitimate for some images (secrets); the table shows it.
        res["packages"] = count_packages(out)
    shutil.rmtree(cache, ignore_errors=True)
    return res


def hyperfine(name, argv, env, cache, warm, reps, workdir):
    """Median/min/mean wall time in seconds of `argv` over `reps` runs."""
    warmup, runs = reps
    export = os.path.join(workdir, f"hf-{name}.json")
    cmd = " ".join(shell_quote(a) for a in ["env", *[f"{k}={v}" for k, v in env.items()], *argv])
    hf = ["hyperfine", "-N", "--style", "basic", "--export-json", export,
          "--warmup", str(warmup), "--runs", str(runs), "-n", name]
    if cache is not None:
        shutil.rmtree(cache, ignore_errors=True)
        if not warm:
            hf += ["--prepare", f"rm -rf {shell_quote(cache)}"]
        elif warmup == 0:
            raise ValueError("a warm measurement needs a warmup run to fill the cache")
    subprocess.run([*hf, cmd], check=True, stdout=sys.stderr)
    with open(export) as f:
        r = json.load(f)["results"][0]
    times = sorted(r["times"])
    return {"median_s": r["median"], "min_s": r["min"], "mean_s": r["mean"],
            "stddev_s": r["stddev"], "runs": len(times), "times_s": times}


def shell_quote(s):
    return s if re.fullmatch(r"[\w@%+=:,./-]+", s) else "'" + s.replace("'", "'\\''") + "'"


def warm_page_cache(image):
    """Read every blob once so every tool starts from the same page cache."""
    for p in Path(image, "blobs").rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                while f.read(1 << 20):
                    pass


def bench_image(name, image, paths, long, workdir):
    log(f"== {name} ({image})")
    warm_page_cache(image)
    res = {"path": image, "compressed_bytes": sum(
        p.stat().st_size for p in Path(image, "blobs").rglob("*") if p.is_file())}
    for tool in ["floor", "bosun", "trivy", "syft"]:
        once = timed_once(tool, paths, image, workdir)
        entry = dict(once)
        cache = os.path.join(workdir, f"{tool}-cache")
        argv, env = tool_cmds(tool, paths, image, cache, "/dev/null")
        if tool == "floor":
            entry["cold"] = hyperfine(f"{name}-floor", argv, env, None, False,
                                      LONG if long else SHORT_COLD, workdir)
        else:
            if tool == "bosun":
                cold_reps, warm_reps = (LONG, LONG_WARM) if long else (SHORT_COLD, SHORT_WARM)
            else:
                cold_reps, warm_reps = (LONG, LONG) if long else (PEER_SHORT[tool], PEER_SHORT[tool])
            entry["cold"] = hyperfine(f"{name}-{tool}-cold", argv, env, cache, False, cold_reps, workdir)
            # Syft keeps no layer cache: warm is cold again; skip it where it is slow.
            if not (long and tool == "syft"):
                warm_reps = (max(1, warm_reps[0]), warm_reps[1])
                entry["warm"] = hyperfine(f"{name}-{tool}-warm", argv, env, cache, True, warm_reps, workdir)
        res[tool] = entry
        log(f"{name} {tool}: cold median {entry['cold']['median_s']:.3f} s"
            + (f", warm median {entry['warm']['median_s']:.3f} s" if "warm" in entry else ""))
    return res


def version(argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.stdout.strip().splitlines()[0] if p.stdout.strip() else "?"


def syft_version(syft):
    out = subprocess.run([syft, "version"], stdout=subprocess.PIPE, text=True).stdout
    m = re.search(r"^Version:\s*(\S+)", out, re.M)
    return f"syft {m.group(1)}" if m else "?"


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return {"nproc": os.cpu_count(), "cpu": cpu, "mem_gib": round(mem_kb / 2**20, 1),
            "kernel": platform.release()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bosun", required=True)
    ap.add_argument("--floor", required=True)
    ap.add_argument("--syft", required=True)
    ap.add_argument("--trivy", required=True)
    ap.add_argument("--fixtures", required=True, help="directory of OCI layouts (one per image)")
    ap.add_argument("--large", help="OCI layout of the large image (omit to skip it)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--command", default="", help="the command line to record")
    a = ap.parse_args()
    paths = {"bosun": a.bosun, "floor": a.floor, "syft": a.syft, "trivy": a.trivy}

    started = datetime.now(timezone.utc)
    result = {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "command": a.command,
        "machine": machine(),
        "load_before": os.getloadavg(),
        "versions": {
            "bosun": version([a.bosun, "--version"]),
            "syft": syft_version(a.syft),
            "trivy": "trivy " + version([a.trivy, "--version"]).replace("Version:", "").strip(),
            "hyperfine": version(["hyperfine", "--version"]),
        },
        "images": {},
    }
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bosun-bench-") as workdir:
        for image in sorted(Path(a.fixtures).iterdir()):
            if (image / "index.json").is_file():
                result["images"][image.name] = bench_image(image.name, str(image), paths, False, workdir)
        if a.large:
            result["images"]["large"] = bench_image("large", a.large, paths, True, workdir)
    result["load_after"] = os.getloadavg()
    result["duration_s"] = round(time.monotonic() - t0, 1)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    log(f"wrote {a.out} ({result['duration_s']} s)")


if __name__ == "__main__":
    main()
