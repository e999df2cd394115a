#!/usr/bin/env python3
"""Two bosun binaries side by side on the same images, same run: a change
must not make cold scans slower (issue 11: "no worse than today's").

Runs `BIN sbom --no-cache oci:IMAGE -o json=FILE` for each image, the two
binaries alternating in rounds so drift of the machine hits both alike, and
prints the median wall and CPU (user+sys) seconds of each and their ratio.
CPU time is the steadier figure on a shared machine.

    git worktree add /tmp/before <commit> && cargo build --release \\
        --manifest-path /tmp/before/Cargo.toml --target-dir /tmp/before-target
    cargo build --release -p bosun
    python3 bench/before_after.py --before /tmp/before-target/release/bosun \\
        [--after target/release/bosun] [--rounds 7] [IMAGE_DIR...]

Without IMAGE_DIR: every fixture image, plus `large` when it is built.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(os.environ.get("BOSUN_FIXTURES", ROOT.parent / "shared" / "fixtures"))
LARGE = Path(os.environ.get("FIXTURES_ROOT", Path.home() / ".cache" / "bosun-fixtures")) / "images" / "oci" / "large"


def once(binary, image, out):
    cmd = [binary, "--quiet", "sbom", "--no-cache", f"oci:{image}", "-o", f"json={out}"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{p.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", default=str(ROOT / "target" / "release" / "bosun"))
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("images", nargs="*")
    a = ap.parse_args()
    images = [Path(i) for i in a.images] or sorted((FIXTURES / "images" / "oci").iterdir())
    if not a.images and (LARGE / "index.json").exists():
        images.append(LARGE)
    print(f"load average before: {open('/proc/loadavg').read().split()[:3]}")
    print(f"{'image':16} {'before wall':>11} {'after wall':>10} {'before cpu':>10} {'after cpu':>9} {'cpu ratio':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        for image in images:
            runs = {"before": [], "after": []}
            for r in range(a.rounds):
                order = ["before", "after"] if r % 2 == 0 else ["after", "before"]
                for which in order:
                    runs[which].append(once(getattr(a, which), image, out))
            med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
                   for k, v in runs.items()}
            (bw, bc), (aw, ac) = med["before"], med["after"]
            print(f"{image.name:16} {bw:10.3f}s {aw:9.3f}s {bc:9.3f}s {ac:8.3f}s {ac / max(bc, 1e-9):8.2f}x")
    print(f"load average after: {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
