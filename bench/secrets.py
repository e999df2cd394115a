#!/usr/bin/env python3
"""Secret-scanning figures of docs/PERFORMANCE.md, measured side by side.

1. Throughput on the `large` image's files: `bosun scan dir:TREE --scanners secret`
   against ripgrep searching bosun's rule regexes as one pattern set over the same
   unpacked tree (`rg -uu`: binary files skipped, ripgrep's default; `rg -uuu`:
   binary files searched as text; bosun searches binaries for its high-confidence
   rules only).
2. Cold `bosun scan --scanners secret` of `large` against
   `trivy image --scanners secret`, both with empty caches.
3. What secret and misconfiguration scanning add to a cold image scan: `bosun scan
   --scanners vuln` against `--scanners vuln,secret,misconfig`, no layer cache, the
   database present.

Usage (scripts/bench.sh --secrets installs the tools and builds what this needs):
  bench/secrets.py --bosun BIN --patterns FILE --rg RG --trivy TRIVY
                   --large OCI_DIR --tree DIR --fixtures OCI_DIR --vulndata DIR --out JSON
  bench/secrets.py --report JSON
"""

import argparse
import json
import os
import shutil
import stat
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from run import machine, shell_quote, version, warm_page_cache  # noqa: E402
from vuln import hyperfine, log, measured, run  # noqa: E402

# The targets.
RG_MIN_RATIO = 0.7
TRIVY_MIN_RATIO = 5.0
OVERHEAD_MAX = 0.20

SMALL = ["python-app", "node-app", "java-app", "debian-minbase"]


def regular_files(root):
    """Bytes and count of the regular files under `root`: what ripgrep and
    bosun read (neither follows symlinks)."""
    size = files = 0
    for d, _, names in os.walk(root):
        for n in names:
            st = os.lstat(os.path.join(d, n))
            if stat.S_ISREG(st.st_mode):
                size += st.st_size
                files += 1
    return size, files


def bench_throughput(a, workdir):
    size, files = regular_files(a.tree)
    # Page cache warmed once for all: every tool reads the same files from memory.
    run([a.rg, "-uuu", "-c", "-q", "xyzzy-not-there", a.tree], ok=(0, 1))
    out = {"tree_bytes": size, "files": files}
    rg = [a.rg, "-f", a.patterns, "-c", a.tree]
    # rg exits 1 when nothing matched; hyperfine -i would hide real failures, so
    # both rg runs go through `sh -c` with the exit status mapped.
    for name, flags in [("rg -uu", ["-uu"]), ("rg -uuu", ["-uuu"])]:
        argv = ["sh", "-c", " ".join(shell_quote(x) for x in [rg[0], *flags, *rg[1:]])
                + " >/dev/null; [ $? -le 1 ]"]
        out[name] = measured(name, lambda argv=argv: hyperfine(
            name.replace(" ", ""), argv, {}, (1, 5), None, workdir))
    cache = os.path.join(workdir, "bosun-dir")
    argv = [a.bosun, "--cache-dir", cache, "-q", "scan", f"dir:{a.tree}", "--scanners", "secret",
            "-f", "json", "-o", "/dev/null", "--fail-on", "none"]
    out["bosun"] = measured("bosun dir", lambda: hyperfine(
        "bosun-dir", argv, {}, (1, 5), f"rm -rf {shell_quote(cache)}", workdir))
    for k in ["rg -uu", "rg -uuu", "bosun"]:
        out[k]["mb_per_s"] = round(size / out[k]["median_s"] / 1e6, 1)
    return out


def bench_trivy(a, workdir):
    warm_page_cache(a.large)
    tc, bc = os.path.join(workdir, "trivy-cache"), os.path.join(workdir, "bosun-cache")
    trivy = [a.trivy, "image", "--cache-dir", tc, "--skip-db-update", "--skip-java-db-update",
             "--offline-scan", "--skip-check-update", "--skip-version-check",
             "--disable-telemetry", "--scanners", "secret", "--input", a.large, "-q",
             "-f", "json", "-o", "/dev/null"]
    bosun = [a.bosun, "--cache-dir", bc, "-q", "scan", f"oci:{a.large}", "--scanners", "secret",
             "-f", "json", "-o", "/dev/null", "--fail-on", "none"]
    out = {}
    out["trivy"] = measured("trivy secret", lambda: hyperfine(
        "trivy-secret", trivy, {}, (0, 3), f"rm -rf {shell_quote(tc)}", workdir))
    out["bosun"] = measured("bosun secret", lambda: hyperfine(
        "bosun-secret", bosun, {}, (0, 3), f"rm -rf {shell_quote(bc)}", workdir))
    return out


def bench_overhead(a, workdir):
    """Alternates the two scans in rounds, so the VM's drift weighs on both."""
    db_cache = os.path.join(workdir, "db-cache")
    run([a.bosun, "--cache-dir", db_cache, "-q", "db", "import", a.vulndata])
    layers = os.path.join(db_cache, "layers")
    out = {}
    images = [(n, os.path.join(a.fixtures, n)) for n in SMALL]
    if a.large:
        images.append(("large", a.large))
    for name, image in images:
        warm_page_cache(image)
        rounds, reps = (2, (0, 2)) if name == "large" else (4, (1, 4))
        row = {"vuln": {"times_s": []}, "all": {"times_s": []}}
        for r in range(rounds):
            for label, scanners in [("vuln", "vuln"), ("all", "vuln,secret,misconfig")]:
                argv = [a.bosun, "--cache-dir", db_cache, "-q", "scan", f"oci:{image}",
                        "--scanners", scanners, "-f", "json", "-o", "/dev/null",
                        "--fail-on", "none"]
                m = measured(f"{name} {label} round {r + 1}", lambda argv=argv, label=label:
                             hyperfine(f"{name}-{label}", argv, {}, reps,
                                       f"rm -rf {shell_quote(layers)}", workdir))
                row[label]["times_s"] += m["times_s"]
                row[label].setdefault("conditions", []).append(m["conditions"])
        for label in ["vuln", "all"]:
            t = sorted(row[label]["times_s"])
            row[label]["times_s"] = t
            row[label]["median_s"] = t[len(t) // 2]
            row[label]["min_s"] = t[0]
        row["overhead"] = row["all"]["median_s"] / row["vuln"]["median_s"] - 1
        out[name] = row
    return out


def pct(x):
    return f"{x * 100:.0f}%"


def secs(s):
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


def render(r):
    m = r["machine"]
    lines = [f"Measured {r['when']} on {m['nproc']} cores ({m['cpu']}), {m['mem_gib']} GiB RAM, "
             f"Linux {m['kernel']}; load average before {r['load_before']}, "
             f"after {r['load_after']}.",
             f"Tools: {r['tools']}. Command: `{r['command']}`.", ""]
    t = r.get("throughput")
    if t:
        b = t["bosun"]
        lines += [f"#### Throughput on the unpacked `large` ({t['files']} files, "
                  f"{t['tree_bytes'] / 1e9:.2f} GB; median of 5, page cache warm)", "",
                  "| | time | throughput | bosun vs it |", "|---|---|---|---|"]
        for k in ["rg -uu", "rg -uuu", "bosun"]:
            m = t[k]
            ratio = "" if k == "bosun" else (
                f"{m['median_s'] / b['median_s']:.2f}x "
                + ("✓" if m["median_s"] / b["median_s"] >= RG_MIN_RATIO else "✗"))
            lines.append(f"| {k} | {secs(m['median_s'])} (min {secs(m['min_s'])}) | "
                         f"{m['mb_per_s']} MB/s | {ratio} |")
        lines.append("")
    tv = r.get("trivy")
    if tv:
        ratio = tv["trivy"]["median_s"] / tv["bosun"]["median_s"]
        lines += ["#### Cold `large`, `--scanners secret`, empty caches (median of 3)", "",
                  "| | time |", "|---|---|",
                  f"| trivy image | {secs(tv['trivy']['median_s'])} |",
                  f"| bosun scan | {secs(tv['bosun']['median_s'])} |", "",
                  f"Trivy/bosun: {ratio:.2f}x " + ("✓" if ratio >= TRIVY_MIN_RATIO else "✗"), ""]
    o = r.get("overhead")
    if o:
        lines += ["#### Cold scans: `--scanners vuln` vs `vuln,secret,misconfig` (no layer cache, "
                  "database present; median of all runs, the two alternating in rounds)", "",
                  "| image | vuln | all three | extra |", "|---|---|---|---|"]
        for name, row in o.items():
            lines.append(f"| {name} | {secs(row['vuln']['median_s'])} | "
                         f"{secs(row['all']['median_s'])} | {pct(row['overhead'])} "
                         + ("✓" if row["overhead"] < OVERHEAD_MAX else "✗") + " |")
        lines.append("")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--report")
    p.add_argument("--bosun")
    p.add_argument("--patterns")
    p.add_argument("--rg", default="rg")
    p.add_argument("--trivy")
    p.add_argument("--large")
    p.add_argument("--tree")
    p.add_argument("--fixtures")
    p.add_argument("--vulndata")
    p.add_argument("--out")
    p.add_argument("--command", default="")
    a = p.parse_args()
    if a.report:
        with open(a.report) as f:
            print(render(json.load(f)))
        return
    workdir = tempfile.mkdtemp(prefix="bosun-secret-bench-")
    start = time.monotonic()
    try:
        r = {"when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
             "machine": machine(), "command": a.command,
             "load_before": round(os.getloadavg()[0], 2),
             "tools": "; ".join([version([a.bosun, "--version"]), version([a.rg, "--version"]),
                                 "trivy " + version([a.trivy, "--version"])
                                 .replace("Version:", "").strip(),
                                 version(["hyperfine", "--version"])])}
        if a.tree:
            r["throughput"] = bench_throughput(a, workdir)
        if a.large and a.trivy:
            r["trivy"] = bench_trivy(a, workdir)
        r["overhead"] = bench_overhead(a, workdir)
        r["load_after"] = round(os.getloadavg()[0], 2)
        r["duration_s"] = round(time.monotonic() - start)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    with open(a.out, "w") as f:
        json.dump(r, f, indent=1)
    log(f"wrote {a.out} ({r['duration_s']} s)")


if __name__ == "__main__":
    main()
