#!/usr/bin/env python3
"""Build examples/demo-image, the small OCI image the README's quick start
catalogs. Deterministic: fixed mtimes, sorted entries, gzip without a
timestamp, so running it again gives the same digests.

Layer 1 holds Debian package metadata in the distroless `status.d` layout,
copied from ../shared/fixtures/files/pkgdb/dpkg-status.d/debian12-bookworm-from-debs
(control fields of real Debian bookworm packages). Layer 2 is a small Node.js
and Python application written here (package metadata only). Layer 3 deletes
a package of layer 2 with a whiteout, as `RUN npm uninstall` does.
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "demo-image")
STATUS_D = os.path.join(HERE, "..", "..", "shared", "fixtures", "files", "pkgdb",
                        "dpkg-status.d", "debian12-bookworm-from-debs", "var", "lib", "dpkg", "status.d")
MTIME = 1700000000
KEEP = ["base-files", "ca-certificates", "libc6", "libssl3", "netbase", "tzdata", "zlib1g"]

OS_RELEASE = b"""PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
"""

def pkg_json(name, version, license_, deps=None):
    d = {"name": name, "version": version, "license": license_}
    if deps:
        d["dependencies"] = deps
    return (json.dumps(d, indent=2) + "\n").encode()

def metadata(name, version, license_):
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nLicense: {license_}\n".encode()

def tar_layer(files, dirs=()):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for d in sorted(dirs):
            ti = tarfile.TarInfo(d)
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, MTIME
            t.addfile(ti)
        for path in sorted(files):
            data = files[path]
            ti = tarfile.TarInfo(path)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, MTIME
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()

def write_blob(data):
    h = hashlib.sha256(data).hexdigest()
    with open(os.path.join(OUT, "blobs", "sha256", h), "wb") as f:
        f.write(data)
    return "sha256:" + h

def main():
    os.makedirs(os.path.join(OUT, "blobs", "sha256"), exist_ok=True)
    for f in os.listdir(os.path.join(OUT, "blobs", "sha256")):
        os.remove(os.path.join(OUT, "blobs", "sha256", f))
    base = {"etc/os-release": OS_RELEASE}
    for name in KEEP:
        for suffix in ("", ".md5sums"):
            with open(os.path.join(STATUS_D, name + suffix), "rb") as f:
                base[f"var/lib/dpkg/status.d/{name}{suffix}"] = f.read()
    app = {
        "app/package.json": pkg_json("demo-app", "1.0.0", "MIT", {"lodash": "4.17.15", "minimist": "1.2.0"}),
        "app/node_modules/lodash/package.json": pkg_json("lodash", "4.17.15", "MIT"),
        "app/node_modules/minimist/package.json": pkg_json("minimist", "1.2.0", "MIT"),
        "usr/local/lib/python3.11/site-packages/urllib3-1.24.1.dist-info/METADATA": metadata("urllib3", "1.24.1", "MIT"),
        "usr/local/lib/python3.11/site-packages/urllib3-1.24.1.dist-info/INSTALLER": b"pip\n",
        "app/node_modules/left-pad/package.json": pkg_json("left-pad", "1.3.0", "WTFPL"),
    }
    cleanup = {"app/node_modules/.wh.left-pad": b""}
    layers = [
        (tar_layer(base, ["etc", "var", "var/lib", "var/lib/dpkg", "var/lib/dpkg/status.d"]), True,
         "COPY rootfs / # distroless-style Debian 12 base"),
        (tar_layer(app, ["app", "usr", "usr/local", "usr/local/lib"]), True, "COPY app /app"),
        (tar_layer(cleanup), False, "RUN npm uninstall left-pad"),
    ]
    descs, diff_ids, history = [], [], []
    for raw, compress, created_by in layers:
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        blob = gzip.compress(raw, mtime=0) if compress else raw
        mt = "application/vnd.oci.image.layer.v1.tar+gzip" if compress else "application/vnd.oci.image.layer.v1.tar"
        descs.append({"mediaType": mt, "digest": write_blob(blob), "size": len(blob)})
        history.append({"created": "2023-11-14T22:13:20Z", "created_by": created_by})
    config = {
        "architecture": "amd64", "os": "linux", "created": "2023-11-14T22:13:20Z",
        "config": {"User": "65532", "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "NODE_ENV=production"],
                   "Cmd": ["node", "/app/index.js"], "WorkingDir": "/app",
                   "Labels": {"org.opencontainers.image.source": "https://example.invalid/demo-app",
                              "org.opencontainers.image.title": "bosun demo image"}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }
    cfg = json.dumps(config, separators=(",", ":"), sort_keys=True).encode()
    manifest = {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": write_blob(cfg), "size": len(cfg)},
        "layers": descs,
    }
    man = json.dumps(manifest, separators=(",", ":"), sort_keys=True).encode()
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [{"mediaType": manifest["mediaType"], "digest": write_blob(man), "size": len(man),
                            "platform": {"architecture": "amd64", "os": "linux"},
                            "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}
    with open(os.path.join(OUT, "index.json"), "w") as f:
        json.dump(index, f, separators=(",", ":"), sort_keys=True)
    with open(os.path.join(OUT, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    print("wrote", OUT, file=sys.stderr)

if __name__ == "__main__":
    main()
