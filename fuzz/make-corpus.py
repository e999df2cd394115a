#!/usr/bin/env python3
"""Rebuild the committed seed corpora fuzz/corpus/<target>/ from the shared
fixtures (real package databases, images, feeds, Sigstore material) and the
crates' test data. Seeds are named after their origin; targets that dispatch
on the first byte get that byte prepended (see crates/bosun-fuzz).

usage: fuzz/make-corpus.py [SHARED_DIR] [SBOM_DIR]
SHARED_DIR defaults to ../shared beside the checkout; SBOM_DIR holds SBOMs
written by `bosun sbom` of the fixture images (cyclonedx-json, spdx-json,
json), optional.
"""

import gzip
import io
import json
import os
import shutil
import sys
import tarfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(ROOT), "shared")
SBOMS = sys.argv[2] if len(sys.argv) > 2 else None
OUT = os.path.join(ROOT, "fuzz", "corpus")
FIX = os.path.join(SHARED, "fixtures")
# Keep seeds small: libFuzzer mutates whole inputs, and the corpora are committed.
CAP = 96 << 10
BIG_CAP = 1536 << 10  # for formats with no small real sample (rpm NDB, sqlite)

# Must match CATALOG_PATHS in crates/bosun-fuzz/src/catalog.rs.
CATALOG = [
    "dpkg-status", "dpkg-status.d", "dpkg-list", "os-release", "apk", "rpm-sqlite",
    "rpm-bdb", "rpm-ndb", "rpm-manifest", "python-metadata", "python-pkg-info",
    "python-record", "npm-package-json", "npm-package-lock", "yarn-lock", "pnpm-lock",
    "cargo-lock", "composer-lock", "composer-installed", "gemfile-lock", "gemspec",
    "deps-json", "elf", "jar",
]
IMAGE_DECLARED = 4  # DECLARED.len() in archive.rs
SIGN = [
    "pub-pem", "spki-der", "cert-der", "priv-pem", "pkcs8-der", "bundle", "trusted-root",
    "vkey-der", "vkey-pem", "checkpoint", "rekor-bundle", "sigstore-root", "cert-chain",
    "payload",
]


def put(target, name, data, cap=CAP):
    if len(data) > cap:
        return False
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    safe = name.replace("/", "_")
    with open(os.path.join(d, safe), "wb") as f:
        f.write(data)
    return True


def read(path):
    with open(path, "rb") as f:
        return f.read()


def sel(n):
    return bytes([n])


def catalog_seed(kind, name, data, cap=CAP):
    put("catalog", f"{kind}.{name}", sel(CATALOG.index(kind)) + data, cap)


def walk(d):
    for base, _, files in os.walk(d):
        for f in sorted(files):
            yield os.path.join(base, f)


def seeds_catalog():
    files = os.path.join(FIX, "files")
    for p in walk(os.path.join(files, "pkgdb")):
        n = os.path.basename(p)
        if n.endswith((".tsv", ".psv", ".md5sums")):
            continue
        if "/status.d/" in p:
            catalog_seed("dpkg-status.d", n, read(p))
        elif n == "os-release":
            catalog_seed("os-release", n, read(p))
        elif n.endswith(".installed"):
            catalog_seed("apk", n, read(p))
        elif n.endswith(".rpmdb.sqlite"):
            catalog_seed("rpm-sqlite", n, read(p), BIG_CAP if "fedora36" in n else CAP)
        elif n.endswith(".Packages.db"):
            if n == "sle15-bci.Packages.db":
                catalog_seed("rpm-ndb", n, read(p), BIG_CAP)
        elif n.endswith(".Packages"):
            catalog_seed("rpm-bdb", n, read(p), 320 << 10)
        elif n.endswith("container-manifest-2"):
            catalog_seed("rpm-manifest", n, read(p))
    lf = os.path.join(files, "lockfiles")
    for p in walk(lf):
        n = os.path.basename(p)
        kind = None
        if n.endswith(".METADATA"):
            kind = "python-metadata"
        elif "PKG-INFO" in n or n.endswith(".egg-info"):
            kind = "python-pkg-info"
        elif n.endswith(".Cargo.lock"):
            kind = "cargo-lock"
        elif n.endswith(".composer.lock"):
            kind = "composer-lock"
        elif n.endswith(".Gemfile.lock"):
            kind = "gemfile-lock"
        elif n.endswith(".deps.json"):
            kind = "deps-json"
        elif n.endswith(".yarn.lock"):
            kind = "yarn-lock"
        elif n.endswith(".pnpm-lock.yaml"):
            kind = "pnpm-lock"
        elif n.endswith((".jar", ".war")):
            kind = "jar"
        if kind:
            catalog_seed(kind, n, read(p))
    # The real dpkg status, package.json, package-lock and gemspecs live in
    # the fixture images' layers.
    for img in ["debian-minbase", "node-app", "python-app", "java-app", "rust-binary", "go-binary"]:
        for member, data in layer_members(img):
            m = "/" + member.lstrip("./")
            if m == "/var/lib/dpkg/status":
                # Real, but big: keep the first 40 stanzas.
                stanzas = data.split(b"\n\n")
                catalog_seed("dpkg-status", img, b"\n\n".join(stanzas[:40]) + b"\n")
            elif m.startswith("/var/lib/dpkg/info/") and m.endswith(".list") and "libc6" in m:
                catalog_seed("dpkg-list", img + "-libc6", data)
            elif m.endswith("/package-lock.json") and "node_modules" not in m:
                catalog_seed("npm-package-lock", img, data, 160 << 10)
            elif m.endswith("/node_modules/express/package.json") or m.endswith("/node_modules/lodash/package.json"):
                catalog_seed("npm-package-json", img + "-" + m.split("/")[-2], data)
            elif m.endswith(".dist-info/RECORD") and "requests" in m:
                catalog_seed("python-record", img + "-requests", data)
            elif m.endswith("/os-release") and img == "debian-minbase":
                catalog_seed("os-release", img, data)
    for p in walk(os.path.join(ROOT, "crates", "bosun-catalog", "testdata")):
        if p.endswith(".gemspec"):
            catalog_seed("gemspec", os.path.basename(p), read(p))
    # Big real lock files, cut at an entry boundary to a seed's size.
    for n in ["prettier-classic-v1.yarn.lock", "prettier-berry-v10.yarn.lock"]:
        data = read(os.path.join(lf, "yarn", n))
        cut = data[: 24 << 10].rsplit(b"\n\n", 1)[0] + b"\n"
        catalog_seed("yarn-lock", n + ".head", cut)
    lock = json.loads(read(os.path.join(lf, "composer", "composer-composer.composer.lock")))
    installed = {"packages": lock.get("packages", [])[:6], "dev": True, "dev-package-names": []}
    catalog_seed("composer-installed", "from-composer-lock", json.dumps(installed, indent=4).encode())
    record = (b"requests/__init__.py,sha256=abc,4000\nrequests-2.19.1.dist-info/METADATA,,\n"
              b"requests-2.19.1.dist-info/RECORD,,\n../../bin/x,sha256=def,10\n")
    catalog_seed("python-record", "synthetic", record)
    # A small real ELF: the host's /bin/true (no Go or Rust data; the fuzzer
    # reaches the note and section parsers from it).
    for elf in ["/usr/bin/true", "/bin/true"]:
        if os.path.exists(elf):
            catalog_seed("elf", "true", read(elf))
            break


def blobs(img):
    d = os.path.join(FIX, "images", "oci", img, "blobs", "sha256")
    return [os.path.join(d, b) for b in sorted(os.listdir(d))] if os.path.isdir(d) else []


def is_layer(data):
    return data[:2] == b"\x1f\x8b" or data[:4] == b"\x28\xb5\x2f\xfd" or data[257:262] == b"ustar"


def layer_members(img):
    for b in blobs(img):
        data = read(b)
        if not is_layer(data):
            continue
        raw = data
        try:
            if data[:2] == b"\x1f\x8b":
                raw = gzip.decompress(data)
            elif data[:4] == b"\x28\xb5\x2f\xfd":
                try:
                    import zstandard  # optional
                    raw = zstandard.ZstdDecompressor().decompressobj().decompress(data)
                except ImportError:
                    continue
            with tarfile.open(fileobj=io.BytesIO(raw)) as t:
                for m in t.getmembers():
                    if m.isfile() and m.size < (8 << 20):
                        f = t.extractfile(m)
                        if f:
                            yield m.name, f.read()
        except (OSError, tarfile.TarError, EOFError):
            continue


def tar_of(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for e in entries:
            name, kind = e[0], e[1]
            ti = tarfile.TarInfo(name)
            ti.mtime = 0
            if kind == "file":
                data = e[2]
                ti.size = len(data)
                ti.mode = e[3] if len(e) > 3 else 0o644
                t.addfile(ti, io.BytesIO(data))
            elif kind == "dir":
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                t.addfile(ti)
            elif kind == "sym":
                ti.type = tarfile.SYMTYPE
                ti.linkname = e[2]
                t.addfile(ti)
            elif kind == "hard":
                ti.type = tarfile.LNKTYPE
                ti.linkname = e[2]
                t.addfile(ti)
            elif kind == "fifo":
                ti.type = tarfile.FIFOTYPE
                t.addfile(ti)
    return buf.getvalue()


def seeds_layer():
    # Real small layers, as the registry serves them.
    for img in os.listdir(os.path.join(FIX, "images", "oci")):
        for b in blobs(img):
            data = read(b)
            if is_layer(data):
                put("layer", f"{img}.{os.path.basename(b)[:12]}", data)
    files = os.path.join(FIX, "files")
    status = read(os.path.join(files, "pkgdb/dpkg-status.d/debian12-bookworm-from-debs/var/lib/dpkg/status.d/libssl3"))
    apk = read(os.path.join(files, "pkgdb/apk/alpine-3.19ish-syft-multiple-1.installed"))
    meta = read(os.path.join(files, "lockfiles/python-metadata/trivy-iniconfig-2.0.0.METADATA"))
    deps = read(os.path.join(files, "lockfiles/dotnet-deps-json/trivy-datacollector.deps.json"))
    jar = read(os.path.join(files, "lockfiles/java-jar/hadoop-shaded-guava-1.1.0-SNAPSHOT.jar"))
    osr = b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
    pkgjson = b'{"name":"lodash","version":"4.17.15","license":"MIT"}'
    # A GitHub token shape and an AWS key id shape (synthetic, documented test values).
    secret = b"aws_access_key_id = AKIAIOSFODNN7EXAMPLE\ntoken: ghp_" + b"a" * 36 + b"\n"
    rich = [
        ("etc", "dir"),
        ("etc/os-release", "file", osr),
        ("var/lib/dpkg/status.d/libssl3", "file", status),
        ("lib/apk/db/installed", "file", apk),
        ("usr/lib/python3/site-packages/iniconfig-2.0.0.dist-info/METADATA", "file", meta),
        ("app/node_modules/lodash/package.json", "file", pkgjson),
        ("app/app.deps.json", "file", deps),
        ("app/lib.jar", "file", jar),
        ("root/.aws/credentials", "file", secret),
        ("usr/lib/os-release", "sym", "../../etc/os-release"),
        ("app/lib2.jar", "hard", "app/lib.jar"),
        ("etc/.wh.shadow", "file", b""),
        ("opt/.wh..wh..opq", "file", b""),
        ("dev/fifo", "fifo"),
        ("../escape/var/lib/dpkg/status", "file", status),
        ("/etc/absolute", "file", b"x"),
        ("a/../../b", "file", b"y"),
    ]
    put("layer", "synthetic-pax.tar", tar_of(rich))
    put("layer", "synthetic-gnu.tar.gz", gzip.compress(tar_of(rich, tarfile.GNU_FORMAT), mtime=0))
    long = [("d/" + "x" * 200 + "/" + "y" * 150, "file", b"long"), ("z", "sym", "z")]
    put("layer", "long-names-gnu.tar", tar_of(long, tarfile.GNU_FORMAT))
    put("layer", "empty.tar", tar_of([]))


def seeds_image():
    for img in sorted(os.listdir(os.path.join(FIX, "images", "oci"))):
        d = os.path.join(FIX, "images", "oci", img)
        put("image", f"{img}.index.json", sel(0) + read(os.path.join(d, "index.json")))
        for b in blobs(img):
            data = read(b)
            if is_layer(data) or len(data) > CAP:
                continue
            try:
                doc = json.loads(data)
            except ValueError:
                continue
            h = os.path.basename(b)[:12]
            if "rootfs" in doc:
                put("image", f"{img}.config.{h}", sel(IMAGE_DECLARED + 0) + data)
            elif "manifests" in doc:
                put("image", f"{img}.index.{h}", sel(1) + data)
            elif "layers" in doc:
                put("image", f"{img}.manifest.{h}", sel(2) + data)
    # `docker save` tarball and an OCI archive of the smallest image.
    da = os.path.join(FIX, "images", "docker-archive", "secrets.tar")
    if os.path.exists(da):
        put("image", "secrets.docker-archive.tar", sel(IMAGE_DECLARED + 3) + read(da))
    d = os.path.join(FIX, "images", "oci", "secrets")
    if os.path.isdir(d):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
            for p in walk(d):
                t.add(p, arcname=os.path.relpath(p, d))
        put("image", "secrets.oci-archive.tar", sel(IMAGE_DECLARED + 4) + buf.getvalue())


def seeds_sbom():
    d = os.path.join(ROOT, "crates", "bosun-sbom", "tests", "data")
    for p in walk(d):
        n = os.path.basename(p)
        if n.endswith(".json"):
            put("sbom", n, read(p))
    if SBOMS and os.path.isdir(SBOMS):
        for p in walk(SBOMS):
            put("sbom", "bosun-" + os.path.basename(p), read(p))


def seeds_yaml():
    d = os.path.join(ROOT, "crates", "bosun-config", "testdata")
    for p in walk(os.path.join(d, "k8s")):
        put("yaml", os.path.relpath(p, d), read(p))
    for p in walk(os.path.join(d, "bad")):
        if p.endswith((".yaml", ".json")):
            put("yaml", os.path.relpath(p, d), read(p), 16 << 10)
    psa = os.path.join(SHARED, "conformance", "pod-security-admission", "test", "testdata")
    picked = 0
    for p in walk(psa):
        # One pass and one fail case per control of the restricted profile is plenty.
        if p.endswith(".yaml") and "/restricted/" in p and p.endswith(("pass0.yaml", "fail0.yaml")):
            if put("yaml", "psa." + os.path.relpath(p, psa), read(p)):
                picked += 1
        if picked >= 60:
            break
    put("yaml", "bosun.yaml", b"config:\n  skip: [KSV001]\n  allowed_registries: [ghcr.io]\nsecrets:\n  disable: [aws-access-key-id]\n")


def seeds_dockerfile():
    d = os.path.join(ROOT, "crates", "bosun-config", "testdata")
    for p in walk(os.path.join(d, "dockerfile")):
        put("dockerfile", os.path.basename(p), read(p))
    put("dockerfile", "bad.Dockerfile", read(os.path.join(d, "bad", "Dockerfile")))


def seeds_feeds():
    v = os.path.join(SHARED, "vulndata")
    n = 0
    for p in walk(os.path.join(v, "samples")):
        if p.endswith(".json") and n < 30:
            put("feeds", "osv." + os.path.basename(p), sel(0) + read(p))
            n += 1
    for p in list(walk(os.path.join(v, "other", "nodejs-security-wg")))[:0]:
        pass
    kev = json.loads(read(os.path.join(v, "kev", "known_exploited_vulnerabilities.json")))
    kev["vulnerabilities"] = kev["vulnerabilities"][:8]
    put("feeds", "kev.head8.json", sel(1) + json.dumps(kev, indent=2).encode())
    epss = b"#model_version:v2025.03.14,score_date:2025-06-01T00:00:00+0000\ncve,epss,percentile\nCVE-1999-0001,0.01,0.5\nCVE-2021-44228,0.97,0.99\n"
    put("feeds", "epss.csv", sel(2) + epss)
    put("feeds", "epss.csv.gz", sel(3) + gzip.compress(epss, mtime=0))
    for p in walk(os.path.join(v, "debian", "tracker-json-samples")):
        put("feeds", "debian." + os.path.basename(p), sel(4) + read(p))
    put("feeds", "osv-rubygems.all.zip", sel(5) + read(os.path.join(v, "osv", "RubyGems", "all.zip")))
    put("feeds", "osv-maven.all.zip", sel(5) + read(os.path.join(v, "osv", "Maven", "all.zip")))


def seeds_policy():
    put("policy", "ignore.yaml", sel(0) + b"ignore:\n  - id: CVE-2023-1234\n    package: pkg:deb/debian/openssl\n    path: /usr/lib/python3/**\n    reason: \"not reachable\"\n    expires: 2026-12-31\n  - id: GHSA-xxxx-yyyy-zzzz\n    reason: test\n")
    vex = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.invalid/vex/1",
        "author": "fuzz seed",
        "timestamp": "2024-01-01T00:00:00Z",
        "version": 1,
        "statements": [
            {
                "vulnerability": {"name": "CVE-2024-3651"},
                "products": [{"@id": "pkg:pypi/idna@3.6", "subcomponents": [{"@id": "pkg:pypi/idna"}]}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
                "timestamp": "2024-02-01T00:00:00Z",
            },
            {"vulnerability": {"name": "CVE-2020-1"}, "products": [{"@id": "pkg:deb/debian/openssl"}], "status": "fixed"},
        ],
    }
    put("policy", "openvex.json", sel(1) + json.dumps(vex, indent=2).encode())


def seeds_sign():
    i = os.path.join(SHARED, "interop")
    for p in walk(os.path.join(i, "keys")):
        n = os.path.basename(p)
        if n.endswith(".pub"):
            put("sign", "pub." + n, sel(SIGN.index("pub-pem")) + read(p))
            put("sign", "vkey." + n, sel(SIGN.index("vkey-pem")) + read(p))
        elif n.endswith(".key"):
            put("sign", "priv." + n, sel(SIGN.index("priv-pem")) + read(p))
    for p in walk(os.path.join(i, "trust-roots")):
        if p.endswith("trusted_root.json"):
            put("sign", "root." + os.path.relpath(p, i), sel(SIGN.index("trusted-root")) + read(p))
            put("sign", "sroot." + os.path.relpath(p, i), sel(SIGN.index("sigstore-root")) + read(p))
    nb = 0
    for p in walk(os.path.join(i, "bundles")):
        n = os.path.basename(p)
        if (n.endswith(".sigstore.json") or n == "bundle.sigstore.json" or n.endswith(".sigstore")) and nb < 40:
            if put("sign", "bundle." + os.path.relpath(p, i), sel(SIGN.index("bundle")) + read(p)):
                nb += 1
        elif n.endswith(".pem") and nb < 60:
            put("sign", "chain." + os.path.relpath(p, i), sel(SIGN.index("cert-chain")) + read(p))
    for p in walk(os.path.join(i, "attestations")):
        if p.endswith(".sigstore.json"):
            put("sign", "att." + os.path.basename(p), sel(SIGN.index("bundle")) + read(p))
    cs = os.path.join(i, "cosign-simple-signing")
    for p in walk(cs):
        n = os.path.basename(p)
        rel = os.path.relpath(p, cs)
        if n.endswith(".payload.json"):
            put("sign", "payload." + rel, sel(SIGN.index("payload")) + read(p))
        elif n.endswith(".annotations.json"):
            try:
                ann = json.loads(read(p))
            except ValueError:
                continue
            for k, val in ann.items() if isinstance(ann, dict) else []:
                if k.endswith("/bundle"):
                    put("sign", "rekor." + rel, sel(SIGN.index("rekor-bundle")) + val.encode())
                elif k.endswith(("/certificate", "/chain")):
                    put("sign", "chain." + rel + "." + k.rsplit("/", 1)[1], sel(SIGN.index("cert-chain")) + val.encode())
        elif n.endswith(".pub"):
            put("sign", "pub." + rel, sel(SIGN.index("pub-pem")) + read(p))


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    for f in [seeds_layer, seeds_image, seeds_catalog, seeds_sbom, seeds_yaml, seeds_dockerfile,
              seeds_feeds, seeds_policy, seeds_sign]:
        f()
    total = 0
    for t in sorted(os.listdir(OUT)):
        files = os.listdir(os.path.join(OUT, t))
        size = sum(os.path.getsize(os.path.join(OUT, t, f)) for f in files)
        total += size
        print(f"{t:12} {len(files):4} seeds {size / 1024:8.0f} KiB")
    print(f"{'total':12} {total / 1024:13.0f} KiB")


if __name__ == "__main__":
    main()
