#!/usr/bin/env python3
"""Peak memory of `bosun sbom` on hostile images (issue 11: under 200 MB).

Builds each hostile layout in a temporary directory (layers are streamed
into gzip, never held in memory), runs the release binary under
`/usr/bin/time -v` with a fresh cache, prints peak RSS and wall time per
input, and the same for the fixtures' python-app as a baseline. A second,
warm run (same cache) shows the layer cache does not bring the memory back.

    cargo build --release -p bosun
    python3 bench/hostile.py [--bosun target/release/bosun]
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

MIB = 1 << 20
ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(os.environ.get("BOSUN_FIXTURES", "/work/shared/fixtures"))


class Zeros(io.RawIOBase):
    """`size` bytes of `fill` repeated, produced as read."""

    def __init__(self, size, fill=b"\n"):
        self.left = size
        self.fill = fill
        self.at = 0

    def readable(self):
        return True

    def readinto(self, b):
        n = min(len(b), self.left)
        k = len(self.fill)
        start = self.fill[self.at:] + self.fill * (n // k + 2)
        b[:n] = start[:n]
        self.at = (self.at + n) % k
        self.left -= n
        return n


class Hashing:
    """A write-only file that hashes (and counts) what passes through."""

    def __init__(self, inner):
        self.inner = inner
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, b):
        self.sha.update(b)
        self.size += len(b)
        return self.inner.write(b)

    def flush(self):
        self.inner.flush()


def put_blob(layout, data):
    d = hashlib.sha256(data).hexdigest()
    p = layout / "blobs" / "sha256" / d
    p.write_bytes(data)
    return f"sha256:{d}", len(data)


def build(layout, files):
    """An OCI layout of one gzip layer holding `files`: (path, size)."""
    (layout / "blobs" / "sha256").mkdir(parents=True)
    tmp = layout / "layer.tmp"
    with open(tmp, "wb") as raw:
        outer = Hashing(raw)
        gz = gzip.GzipFile(fileobj=outer, mode="wb", compresslevel=1, mtime=0)
        inner = Hashing(gz)
        with tarfile.open(fileobj=inner, mode="w|", format=tarfile.GNU_FORMAT) as t:
            for entry in files:
                path, size = entry[0], entry[1]
                info = tarfile.TarInfo(path)
                info.mode = 0o644
                if isinstance(size, str):
                    # A hard link to `size`.
                    info.type = tarfile.LNKTYPE
                    info.linkname = size
                    t.addfile(info)
                    continue
                info.size = size
                fill = entry[2] if len(entry) > 2 else b"\n"
                t.addfile(info, io.BufferedReader(Zeros(size, fill), 1 << 20))
        gz.close()
    layer = f"sha256:{outer.sha.hexdigest()}"
    os.rename(tmp, layout / "blobs" / "sha256" / outer.sha.hexdigest())
    diff_id = f"sha256:{inner.sha.hexdigest()}"
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "config": {},
        }
    ).encode()
    cd, cs = put_blob(layout, config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": cd,
                "size": cs,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer,
                    "size": outer.size,
                }
            ],
        }
    ).encode()
    md, ms = put_blob(layout, manifest)
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": md,
                "size": ms,
            }
        ],
    }
    (layout / "index.json").write_text(json.dumps(index))
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    return outer.size


def metadata(i):
    return f"usr/lib/python3/site-packages/p{i}-1.0.dist-info/METADATA"


HOSTILE = {
    # The case: 4.9 GB of RSS before per-kind limits.
    "forty-60MiB-METADATA": [(metadata(i), 60 * MIB) for i in range(40)],
    # Each under its limit, together past the layer's budget.
    "fifty-4MiB-METADATA": [(metadata(i), 4 * MIB - 1) for i in range(50)],
    # Over dpkg status's own limit.
    "80MiB-dpkg-status": [("var/lib/dpkg/status", 80 * MIB)],
    # Just under it: the largest content one file may keep.
    "63MiB-dpkg-status": [("var/lib/dpkg/status", 63 * MIB)],
    # A status file and a hundred hard links to it, where dpkg's status.d
    # files are wanted: copies are budgeted per image.
    "hundred-hardlinks": [("var/lib/dpkg/status", 63 * MIB)]
    + [(f"var/lib/dpkg/status.d/p{i}", "var/lib/dpkg/status") for i in range(100)],
    # Past the cap of entries per layer (the walk stops, incomplete).
    "million-entries-past-cap": [(f"d{i // 1000}/f{i % 1000}", 0) for i in range(1_000_010)],
    # Escaping names: placed inside the root and reported.
    "climbing-names": [("../var/lib/dpkg/status", 1 * MIB), ("a/../../etc/x", 1 * MIB)],
}

# Secret-dense content, scanned with `scan --scanners secret`: the matches
# listed are capped per rule, the rest counted.
TOKEN = b"ghp_" + b"A" * 36 + b"\n"
SECRET_HOSTILE = {
    "64MiB-of-github-tokens": [("srv/tokens.txt", 64 * MIB, TOKEN)],
}


def run(bosun, target, cache, secrets=False):
    # A real file: never point -o at /dev/null (see issue 11).
    out = f"{cache}.sbom.json"
    job = (["scan", "--scanners", "secret", target, "-o", f"json={out}"] if secrets
           else ["sbom", target, "-o", f"cyclonedx-json={out}"])
    cmd = ["/usr/bin/time", "-v", bosun, "--cache-dir", cache] + job
    p = subprocess.run(cmd, capture_output=True, text=True)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", p.stderr)
    return (
        int(rss.group(1)) / 1024 if rss else float("nan"),
        wall.group(1) if wall else "?",
        p.returncode,
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bosun", default=str(ROOT / "target" / "release" / "bosun"))
    args = ap.parse_args()
    if not Path(args.bosun).exists():
        sys.exit(f"no {args.bosun}: cargo build --release -p bosun")
    print(f"{'input':28} {'layer':>10} {'cold RSS':>10} {'warm RSS':>10} {'cold wall':>10} exit")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        inputs = []
        base = FIXTURES / "images" / "oci" / "python-app"
        if base.exists():
            inputs.append(("baseline python-app", base, None, False))
        for secrets, table in [(False, HOSTILE), (True, SECRET_HOSTILE)]:
            for name, files in table.items():
                layout = tmp / name
                size = build(layout, files)
                inputs.append((name, layout, size, secrets))
        for name, layout, size, *secrets in inputs:
            secrets = bool(secrets and secrets[0])
            cache = str(tmp / f"cache-{name.replace(' ', '-')}")
            cold, wall, rc = run(args.bosun, f"oci:{layout}", cache, secrets)
            warm, _, _ = run(args.bosun, f"oci:{layout}", cache, secrets)
            layer = f"{size / MIB:.1f} MiB" if size else "-"
            print(f"{name:28} {layer:>10} {cold:8.1f}MB {warm:8.1f}MB {wall:>10} {rc}")


if __name__ == "__main__":
    main()
