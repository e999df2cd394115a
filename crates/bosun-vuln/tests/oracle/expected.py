#!/usr/bin/env python3
"""Independent oracle: every (package, advisory) pair each fixture image must
have, computed from the fixture ground truth (fixtures/truth/*.json) and the
OSV data (vulndata/osv/*/all.zip) with the OSV evaluation algorithm and the
ecosystems' own reference version comparators. See README.md.

Usage: python3 crates/bosun-vuln/tests/oracle/expected.py   (writes expected.tsv)
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import Counter, defaultdict
from functools import cmp_to_key

from packaging.version import InvalidVersion, Version

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "..", ".."))
SHARED = os.environ.get("BOSUN_SHARED") or os.path.normpath(os.path.join(ROOT, "..", "shared"))
OUT = os.path.join(HERE, "expected.tsv")
IMAGES = ["debian-minbase", "python-app", "node-app", "java-app", "go-binary", "rust-binary", "rpm", "secrets"]
SEMVER_DIR = os.environ.get("SEMVER_DIR", "/tmp/oracle-node")
APT_PYTHON = os.environ.get("APT_PYTHON", "/usr/bin/python3")
MAVEN_JAR = os.environ.get("MAVEN_JAR", "/usr/share/java/maven-artifact-3.x.jar")
LANG3_JAR = "/usr/share/java/commons-lang3.jar"
HEADER = ["image", "ecosystem", "package", "installed_version", "matched_name", "advisory_id", "aliases", "fixed", "how"]


def die(msg):
    sys.exit(f"expected.py: {msg}")


def run_lines(cmd, lines, **kw):
    """One process answers one line per input line."""
    p = subprocess.run(cmd, input="".join(l + "\n" for l in lines), capture_output=True, text=True, **kw)
    if p.returncode != 0:
        die(f"{cmd[0]} failed: {p.stderr[:2000]}")
    out = p.stdout.splitlines()
    if len(out) != len(lines):
        die(f"{cmd[0]}: {len(out)} answers for {len(lines)} inputs: {p.stderr[:500]}")
    return out


# ---------------------------------------------------------------- reference comparators
# Each ranker takes a list of version strings and returns {version: rank}, equal
# versions sharing a rank, or None as the rank of a string the tool rejects.
# The sorting itself happens inside the reference tool's process.

APT_HELPER = r"""
import sys, functools, apt_pkg
apt_pkg.init_system()
vs = [l.rstrip("\n") for l in sys.stdin]
order = sorted(set(vs), key=functools.cmp_to_key(apt_pkg.version_compare))
rank, r = {}, 0
for i, v in enumerate(order):
    if i and apt_pkg.version_compare(order[i - 1], v) != 0:
        r += 1
    rank[v] = r
for v in vs:
    print(rank[v])
"""


def dpkg_cmp(a, b):
    """dpkg itself: -1/0/1, or die when dpkg rejects a version."""
    for rel, s in (("lt", -1), ("eq", 0)):
        p = subprocess.run(["dpkg", "--compare-versions", a, rel, b], capture_output=True, text=True)
        if p.returncode == 0 and not p.stderr:
            return s
        if p.returncode != 1 or p.stderr:
            die(f"dpkg --compare-versions rejects {a!r} or {b!r}: {p.stderr.strip()}")
    return 1


def rank_dpkg(vs):
    """libapt's version_compare sorts; dpkg --compare-versions then confirms
    every neighbouring pair, so the whole order is dpkg's own."""
    out = run_lines([APT_PYTHON, "-c", APT_HELPER], vs)
    rank = {v: int(r) for v, r in zip(vs, out)}
    order = sorted(set(vs), key=lambda v: rank[v])
    for a, b in zip(order, order[1:]):
        want = -1 if rank[a] < rank[b] else 0
        if dpkg_cmp(a, b) != want:
            die(f"libapt and dpkg disagree on {a!r} vs {b!r}")
    return rank


def rank_pep440(vs):
    ok = {}
    for v in set(vs):
        try:
            ok[v] = Version(v)
        except InvalidVersion:
            pass
    rank, r, prev = {}, -1, None
    for v in sorted(ok, key=lambda v: ok[v]):
        if prev is None or ok[v] != prev:
            r += 1
        rank[v], prev = r, ok[v]
    return {v: rank.get(v) for v in vs}


def ranks_from_lines(vs, out):
    return {v: (None if r == "invalid" else int(r)) for v, r in zip(vs, out)}


NODE_HELPER = r"""
const semver = require(process.env.SEMVER_DIR + '/node_modules/semver');
const vs = require('fs').readFileSync(0, 'utf8').split('\n').slice(0, -1);
const good = [...new Set(vs.filter(v => semver.valid(v) !== null))].sort(semver.compare);
const rank = new Map();
let r = 0;
good.forEach((v, i) => { if (i > 0 && semver.compare(good[i - 1], v) !== 0) r++; rank.set(v, r); });
process.stdout.write(vs.map(v => rank.has(v) ? String(rank.get(v)) : 'invalid').join('\n') + (vs.length ? '\n' : ''));
"""


def rank_semver(vs):
    """node-semver (strict parsing): npm, and crates.io (Cargo versions are SemVer 2.0)."""
    if not os.path.isfile(f"{SEMVER_DIR}/node_modules/semver/package.json"):
        os.makedirs(SEMVER_DIR, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", SEMVER_DIR, "--no-audit", "--no-fund", "semver"], check=True,
                       stdout=subprocess.DEVNULL)
    return ranks_from_lines(vs, run_lines(["node", "-e", NODE_HELPER], vs, env={**os.environ, "SEMVER_DIR": SEMVER_DIR}))


GO_MAIN = r"""
package main

import (
	"bufio"
	"fmt"
	"os"
	"sort"

	"oracle/semver"
)

func main() {
	var vs []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		vs = append(vs, sc.Text())
	}
	var good []string
	for _, v := range vs {
		if semver.IsValid(v) {
			good = append(good, v)
		}
	}
	sort.SliceStable(good, func(i, j int) bool { return semver.Compare(good[i], good[j]) < 0 })
	rank := map[string]int{}
	r := 0
	for i, v := range good {
		if i > 0 && semver.Compare(good[i-1], v) != 0 {
			r++
		}
		rank[v] = r
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for _, v := range vs {
		if x, ok := rank[v]; ok {
			fmt.Fprintln(w, x)
		} else {
			fmt.Fprintln(w, "invalid")
		}
	}
}
"""


def rank_go(vs):
    """golang.org/x/mod/semver: the copy vendored in the Go toolchain's own
    source tree (GOROOT/src/cmd/vendor), built at run time in a temp dir.
    OSV writes Go versions without the `v` that Go tooling uses."""
    goroot = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip()
    src = f"{goroot}/src/cmd/vendor/golang.org/x/mod/semver/semver.go"
    if not os.path.isfile(src):
        die(f"{src} not found (golang.org/x/mod/semver is needed for Go versions)")
    tmp = tempfile.mkdtemp(prefix="oracle-go-")
    try:
        os.makedirs(f"{tmp}/semver")
        shutil.copy(src, f"{tmp}/semver/semver.go")
        open(f"{tmp}/go.mod", "w").write("module oracle\n\ngo 1.17\n")
        open(f"{tmp}/main.go", "w").write(GO_MAIN)
        env = {**os.environ, "GOFLAGS": "-mod=mod", "GOPROXY": "off", "GO111MODULE": "on"}
        subprocess.run(["go", "build", "-o", f"{tmp}/gosemver", "."], cwd=tmp, env=env, check=True)
        vv = ["v" + v.removeprefix("v") for v in vs]
        out = run_lines([f"{tmp}/gosemver"], vv)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ranks_from_lines(vs, out)


MAVEN_JAVA = r"""
import org.apache.maven.artifact.versioning.ComparableVersion;
import java.io.*;
import java.util.*;
public class OracleMaven {
  public static void main(String[] a) throws Exception {
    BufferedReader r = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
    List<String> vs = new ArrayList<>();
    for (String l; (l = r.readLine()) != null; ) vs.add(l);
    List<String> order = new ArrayList<>(new TreeSet<>(vs));
    order.sort((x, y) -> new ComparableVersion(x).compareTo(new ComparableVersion(y)));
    Map<String, Integer> rank = new HashMap<>();
    for (int i = 0, k = 0; i < order.size(); i++) {
      if (i > 0 && new ComparableVersion(order.get(i - 1)).compareTo(new ComparableVersion(order.get(i))) != 0) k++;
      rank.put(order.get(i), k);
    }
    PrintStream o = new PrintStream(new BufferedOutputStream(System.out), false, "UTF-8");
    for (String v : vs) o.println(rank.get(v));
    o.flush();
  }
}
"""


def rank_maven(vs):
    """Maven's ComparableVersion (every string is a valid Maven version)."""
    tmp = tempfile.mkdtemp(prefix="oracle-maven-")
    try:
        open(f"{tmp}/OracleMaven.java", "w").write(MAVEN_JAVA)
        subprocess.run(["javac", "-cp", MAVEN_JAR, "-d", tmp, f"{tmp}/OracleMaven.java"], check=True)
        out = run_lines(["java", "-cp", f"{MAVEN_JAR}:{LANG3_JAR}:{tmp}", "OracleMaven"], vs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ranks_from_lines(vs, out)


RUBY_HELPER = r"""
vs = STDIN.each_line.map(&:chomp)
good = vs.uniq.select { |v| Gem::Version.correct?(v) }.sort_by { |v| Gem::Version.new(v) }
rank, r = {}, 0
good.each_with_index { |v, i| r += 1 if i > 0 && Gem::Version.new(good[i - 1]) != Gem::Version.new(v); rank[v] = r }
vs.each { |v| puts(rank.key?(v) ? rank[v] : 'invalid') }
"""


def rank_gem(vs):
    return ranks_from_lines(vs, run_lines(["ruby", "-e", RUBY_HELPER], vs))


def scheme(ecosystem):
    if ecosystem.startswith("Debian:"):
        return "dpkg"
    return {"PyPI": "pep440", "npm": "semver", "crates.io": "semver", "Go": "go", "Maven": "maven",
            "RubyGems": "gem"}[ecosystem]


RANKERS = {"dpkg": rank_dpkg, "pep440": rank_pep440, "semver": rank_semver, "go": rank_go, "maven": rank_maven,
           "gem": rank_gem}


# ---------------------------------------------------------------- advisories

def pep503(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def key_name(ecosystem, name):
    return pep503(name) if ecosystem == "PyPI" else name


def load_advisories():
    """(ecosystem, name) -> [(record, affected)], from every all.zip: a file may
    carry affected entries of other ecosystems (npm GHSAs list Maven webjars)."""
    index = defaultdict(list)
    seen = {}
    withdrawn = 0
    for path in sorted(glob.glob(f"{SHARED}/vulndata/osv/*/all.zip")):
        with zipfile.ZipFile(path) as z:
            for n in sorted(z.namelist()):
                rec = json.loads(z.read(n))
                rid = rec["id"]
                if rid in seen:
                    if seen[rid] != rec:
                        die(f"{rid} differs between zips ({path})")
                    continue
                seen[rid] = rec
                if rec.get("withdrawn"):
                    withdrawn += 1
                    continue
                for aff in rec.get("affected", []):
                    pkg = aff.get("package", {})
                    index[(pkg["ecosystem"], key_name(pkg["ecosystem"], pkg["name"]))].append((rec, aff))
    print(f"advisories: {len(seen)} records ({withdrawn} withdrawn, skipped)")
    return index


# ---------------------------------------------------------------- images

def read_os_release(image_dir):
    """ID and VERSION_ID from the image's final filesystem (last layer that has
    etc/os-release or usr/lib/os-release; Debian's etc/os-release is a symlink)."""
    idx = json.load(open(f"{image_dir}/index.json"))
    blob = lambda d: f"{image_dir}/blobs/{d.replace(':', '/')}"
    manifest = json.load(open(blob(idx["manifests"][0]["digest"])))
    files = {}
    for layer in manifest["layers"]:
        path = blob(layer["digest"])
        if layer["mediaType"].endswith("+zstd"):
            proc = subprocess.Popen(["zstd", "-dc", path], stdout=subprocess.PIPE)
            tf = tarfile.open(fileobj=proc.stdout, mode="r|")
        else:
            proc, tf = None, tarfile.open(path, mode="r|*")
        for m in tf:
            name = m.name.lstrip("./")
            base = os.path.basename(name)
            if base == ".wh.os-release":
                files.pop(os.path.join(os.path.dirname(name), "os-release"), None)
            elif name in ("etc/os-release", "usr/lib/os-release"):
                if m.issym():
                    files[name] = ("link", os.path.normpath(os.path.join(os.path.dirname(name), m.linkname)))
                elif m.isfile():
                    files[name] = ("file", tf.extractfile(m).read().decode())
        tf.close()
        if proc:
            proc.stdout.close()
            proc.wait()
    entry = files.get("etc/os-release") or files.get("usr/lib/os-release")
    if entry and entry[0] == "link":
        entry = files.get(entry[1])
    if not entry or entry[0] != "file":
        return {}
    out = {}
    for line in entry[1].splitlines():
        k, sep, v = line.partition("=")
        if sep:
            out[k.strip()] = v.strip().strip('"')
    return out


def queries(image, truth, notes):
    """What to look up for each package: (truth ecosystem, package, installed
    version, OSV ecosystem, matched name, version compared, how)."""
    pkgs = truth["packages"]
    os_eco = None
    if any(p["ecosystem"] in ("deb", "rpm") for p in pkgs):
        osr = read_os_release(os.path.join(SHARED, "fixtures", truth["source"]))
        if osr.get("ID") == "debian":
            os_eco = "Debian:" + osr.get("VERSION_ID", "").split(".")[0]
        else:
            notes.append(f"{image}: os-release {osr.get('ID')} {osr.get('VERSION_ID')}: no OSV ecosystem in the "
                         "data, its OS packages are not matched")
    out = []
    for p in pkgs:
        eco, name, ver = p["ecosystem"], p["name"], p["version"]
        if eco == "deb":
            if os_eco:
                src, sver = p.get("source_name") or name, p.get("source_version") or ver
                if not p.get("source_version") and p.get("source_name", name) != name:
                    notes.append(f"{image}: {name} has no source version; its binary version {ver} is compared")
                out.append((eco, name, ver, os_eco, src, sver, "source-package"))
        elif eco == "rpm":
            if os_eco:
                die(f"{image}: rpm packages on {os_eco}")
        elif eco == "pypi":
            out.append((eco, name, ver, "PyPI", pep503(name), ver, "exact"))
        elif eco == "npm":
            out.append((eco, name, ver, "npm", name, ver, "exact"))
        elif eco == "maven":
            out.append((eco, name, ver, "Maven", name, ver, "exact"))
        elif eco == "gem":
            out.append((eco, name, ver, "RubyGems", name, ver, "exact"))
        elif eco == "cargo":
            if p.get("source", "crates.io") != "crates.io":
                notes.append(f"{image}: cargo {name} {ver} comes from {p.get('source')}, not crates.io: not matched")
                continue
            out.append((eco, name, ver, "crates.io", name, ver, "exact"))
        elif eco == "golang":
            if p.get("role") == "stdlib":
                out.append((eco, name, ver, "Go", "stdlib", ver.removeprefix("go"), "go-stdlib"))
            elif not ver or ver == "(devel)":
                notes.append(f"{image}: Go module {name} has version {ver!r}: not comparable, not matched")
            else:
                out.append((eco, name, ver, "Go", name, ver, "exact"))
        else:
            die(f"{image}: unknown ecosystem {eco!r} for {name}")
    return out


# ---------------------------------------------------------------- OSV evaluation

def evaluate(v, aff, rank):
    """OSV `IsVulnerable` for one affected entry. Returns (affected, fixed
    versions of the ranges that contain v)."""
    hit = v in aff.get("versions", [])
    fixed = []
    for rng in aff.get("ranges", []):
        if rng.get("type") not in ("ECOSYSTEM", "SEMVER"):
            continue
        events = rng.get("events", [])
        limits = [e["limit"] for e in events if "limit" in e]
        if limits and not any("*" in l or rank[v] < rank[l] for l in limits):
            continue
        pos = lambda e: -1 if e.get("introduced") == "0" else rank[next(x for k, x in e.items() if k != "limit")]
        vulnerable = False
        # sorted() is stable: events at the same version keep the record's order.
        for e in sorted((e for e in events if "limit" not in e), key=pos):
            if "introduced" in e and (e["introduced"] == "0" or rank[v] >= rank[e["introduced"]]):
                vulnerable = True
            elif "fixed" in e and rank[v] >= rank[e["fixed"]]:
                vulnerable = False
            elif "last_affected" in e and rank[v] > rank[e["last_affected"]]:
                vulnerable = False
        if vulnerable:
            hit = True
            fixed += [e["fixed"] for e in events if "fixed" in e]
    return hit, fixed


def event_versions(aff):
    for rng in aff.get("ranges", []):
        if rng.get("type") in ("ECOSYSTEM", "SEMVER"):
            for e in rng.get("events", []):
                for k, x in e.items():
                    if not (k == "introduced" and x == "0") and not (k == "limit" and "*" in x):
                        yield x


def main():
    index = load_advisories()
    notes = []
    todo = []  # (image, query, [(record, affected)])
    need = defaultdict(set)  # scheme -> versions to rank
    for image in IMAGES:
        truth = json.load(open(f"{SHARED}/fixtures/truth/{image}.json"))
        for q in queries(image, truth, notes):
            cands = index.get((q[3], key_name(q[3], q[4])), [])
            if cands:
                todo.append((image, q, cands))
                need[scheme(q[3])].add(q[5])
                for _, aff in cands:
                    need[scheme(q[3])].update(event_versions(aff))
    ranks = {s: RANKERS[s](sorted(vs)) for s, vs in sorted(need.items())}
    for s, r in ranks.items():
        bad = sorted(v for v, x in r.items() if x is None)
        if bad:
            die(f"{s} rejects versions needed here: {bad[:20]}")

    rows = set()
    for image, (_, name, ver, eco, mname, cver, how), cands in todo:
        rank = ranks[scheme(eco)]
        by_id = {}
        for rec, aff in cands:
            hit, fixed = evaluate(cver, aff, rank)
            if hit:
                by_id.setdefault(rec["id"], (rec, set()))[1].update(fixed)
        for rid, (rec, fixed) in by_id.items():
            aliases = sorted(set(rec.get("aliases", [])) | set(rec.get("upstream", [])))
            row = (image, eco, name, ver, mname, rid, ",".join(aliases),
                   ",".join(sorted(fixed, key=lambda f: (rank[f], f))), how)
            if any(re.search(r"[\t\r\n]", c) for c in row):
                die(f"tab or newline in {row}")
            rows.add(row)
    rows = sorted(rows)

    sanity(rows)
    with open(OUT, "w") as f:
        f.write("\t".join(HEADER) + "\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    for n in notes:
        print("note:", n)
    summary(rows)
    print(f"wrote {os.path.relpath(OUT, ROOT)}: {len(rows)} rows")


def sanity(rows):
    """The findings the fixtures were built to produce (and one they must not)."""
    def ids(image, pkg, ver):
        got = set()
        for r in rows:
            if (r[0], r[2], r[3]) == (image, pkg, ver):
                got |= {r[5], *r[6].split(",")} - {""}
        return got

    def need(image, pkg, ver, some=None):
        got = ids(image, pkg, ver)
        if not got or (some and not set(some) & got):
            die(f"sanity: {image} {pkg} {ver}: expected {some or 'advisories'}, got {sorted(got)}")

    need("python-app", "urllib3", "1.24.1", ["CVE-2019-11324", "CVE-2019-11236"])
    need("python-app", "Django", "2.2", ["CVE-2019-12308", "CVE-2019-14234"])
    need("node-app", "lodash", "4.17.15", ["CVE-2020-8203", "CVE-2021-23337"])
    need("node-app", "minimist", "1.2.0", ["CVE-2020-7598", "CVE-2021-44906"])
    need("java-app", "org.yaml:snakeyaml", "1.33", ["CVE-2022-1471"])
    need("rust-binary", "regex", "1.5.4", ["RUSTSEC-2022-0013"])
    need("rust-binary", "smallvec", "1.6.0", ["RUSTSEC-2021-0003"])
    need("go-binary", "stdlib", "go1.19")
    need("go-binary", "stdlib", "go1.19.8")
    if not any(r[0] == "debian-minbase" and r[1] == "Debian:12" and r[4] == "openssl" and r[5].startswith("DSA-")
               for r in rows):
        die("sanity: debian-minbase openssl has no Debian:12 DSA")
    if "CVE-2021-44228" in ids("java-app", "org.apache.logging.log4j:log4j-core", "2.19.0"):
        die("sanity: log4j-core 2.19.0 matched Log4Shell (fixed in 2.15.0)")
    # GO-2023-1704 is fixed in 1.19.8: only the older toolchain has it.
    if "GO-2023-1704" not in ids("go-binary", "stdlib", "go1.19") or \
            "GO-2023-1704" in ids("go-binary", "stdlib", "go1.19.8"):
        die("sanity: GO-2023-1704 must hit go1.19 and not go1.19.8")


def summary(rows):
    per = defaultdict(Counter)
    for r in rows:
        per[r[0]][(r[1], r[8])] += 1
    for image in IMAGES:
        parts = ", ".join(f"{eco}/{how} {n}" for (eco, how), n in sorted(per[image].items()))
        print(f"{image:15} {sum(per[image].values()):5}  {parts or '-'}")


if __name__ == "__main__":
    main()
