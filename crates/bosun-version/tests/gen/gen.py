#!/usr/bin/env python3
"""Generate crates/bosun-version/testdata/*.tsv from real version strings and the
real reference implementations (dpkg, rpm, node-semver, packaging, Maven's
ComparableVersion, RubyGems). See ../../README.md.

Usage: nice -n 19 python3 tests/gen/gen.py [scheme ...]   (run from the crate dir)
Needs: dpkg, /usr/bin/python3 with python3-rpm, node + `npm i semver` in $SEMVER_DIR
(default /tmp/semverjs), python `packaging`, java/javac + libmaven3-core-java, ruby.
"""
import glob
import itertools
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "testdata")
VULN = "/work/shared/vulndata"
FIX = "/work/shared/fixtures"
SEMVER_DIR = os.environ.get("SEMVER_DIR", "/tmp/semverjs")
MAVEN_JAR = "/usr/share/java/maven-artifact-3.x.jar"
LANG3_JAR = "/usr/share/java/commons-lang3.jar"
MAX_LEN = 256
PAIRS = 6000


def clean(v):
    return isinstance(v, str) and 0 < len(v.encode()) <= MAX_LEN and not re.search(r"[\t\n\r]", v)


def osv_versions(eco):
    """package -> set of versions from OSV events and `versions` lists."""
    out = {}
    z = zipfile.ZipFile(f"{VULN}/osv/{eco}/all.zip")
    for n in z.namelist():
        d = json.loads(z.read(n))
        for a in d.get("affected", []):
            s = out.setdefault(a["package"]["name"], set())
            s.update(a.get("versions", []))
            for r in a.get("ranges", []):
                if r.get("type") == "GIT":
                    continue
                for e in r.get("events", []):
                    s.update(v for v in e.values() if v != "0")
    return out


def osv_ranges(eco):
    """Real OSV ranges (event lists) for the range tests."""
    out = []
    z = zipfile.ZipFile(f"{VULN}/osv/{eco}/all.zip")
    for n in sorted(z.namelist()):
        d = json.loads(z.read(n))
        for a in d.get("affected", []):
            for r in a.get("ranges", []):
                if r.get("type") != "GIT":
                    out.append((a["package"]["name"], r["events"]))
    return out


def truth_versions(eco):
    out = {}
    for f in glob.glob(f"{FIX}/truth/*.json"):
        for p in json.load(open(f)).get("packages", []):
            if p.get("ecosystem") == eco and p.get("version"):
                out.setdefault(p.get("name", ""), set()).add(p["version"])
    return out


def merge(*dicts):
    out = {}
    for d in dicts:
        for k, v in d.items():
            out.setdefault(k, set()).update(x for x in v if clean(x))
    return out


def make_pairs(groups, rng, n=PAIRS, within_cap=60):
    """All pairs within a package (capped), then random cross pairs, deduplicated."""
    pairs = []
    seen = set()

    def add(a, b):
        if (a, b) not in seen and (b, a) not in seen:
            seen.add((a, b))
            pairs.append((a, b))

    for k in sorted(groups):
        vs = sorted(groups[k])
        if len(vs) > within_cap:
            vs = rng.sample(vs, within_cap)
        for a, b in itertools.combinations(vs, 2):
            add(a, b)
    rng.shuffle(pairs)
    pairs = pairs[: n * 2 // 3]
    seen = set(pairs)
    allv = sorted({v for s in groups.values() for v in s})
    tries = 0
    while len(pairs) < n and tries < n * 20:
        tries += 1
        a, b = rng.choice(allv), rng.choice(allv)
        add(a, b)
    # identity pairs exercise Eq
    for v in rng.sample(allv, min(100, len(allv))):
        pairs.append((v, v))
    return pairs


def write(name, header, rows):
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        f.write(f"# {header}\n")
        for r in rows:
            f.write("\t".join(str(x) for x in r) + "\n")
    print(f"{name}: {len(rows)} rows, {os.path.getsize(path)} bytes")


def run_lines(cmd, lines, **kw):
    p = subprocess.run(cmd, input="".join(l + "\n" for l in lines), capture_output=True, text=True, **kw)
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed: {p.stderr[:2000]}")
    out = p.stdout.splitlines()
    assert len(out) == len(lines), (cmd, len(out), len(lines), p.stderr[:500])
    return out


def sign(x):
    return (x > 0) - (x < 0)


# ---------------------------------------------------------------- dpkg

def debian_versions():
    groups = osv_versions("Debian")
    for lst in glob.glob(f"{VULN}/debian/tracker-lists/*.txt"):
        for line in open(lst, errors="replace"):
            m = re.match(r"\s+\[\w+\] - (\S+) (\S+)", line)
            if m and m.group(2)[0].isdigit():
                groups.setdefault(m.group(1), set()).add(m.group(2))
    return merge(groups, truth_versions("deb"))


def dpkg_cmp(a, b):
    """dpkg itself is the reference; two calls give the sign (None: dpkg rejects one)."""
    for rel, s in (("lt", -1), ("eq", 0)):
        rc = subprocess.run(["dpkg", "--compare-versions", a, rel, b], stderr=subprocess.DEVNULL).returncode
        if rc == 0:
            return s
        if rc != 1:
            return None
    return 1


def gen_dpkg(rng):
    groups = debian_versions()
    # dpkg rejects some strings (e.g. no leading digit); keep only accepted ones.
    pairs = make_pairs(groups, rng, n=5000)
    rows = [(a, b, s) for a, b in pairs if (s := dpkg_cmp(a, b)) is not None]
    ver = subprocess.run(["dpkg", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    write("dpkg-pairs.tsv", f"a\tb\tsign of dpkg --compare-versions; {ver}", rows)


# ---------------------------------------------------------------- rpm

RPM_HELPER = r"""
import sys, rpm
for line in sys.stdin:
    kind, a, b = line.rstrip("\n").split("\t")
    if kind == "vercmp":
        # rpm.ver compares like rpmverCmp; with bare strings this is rpmvercmp.
        print(rpm.labelCompare((None, a, None), (None, b, None)))
    else:
        # rpm's own EVR parser and rpmverCmp
        va, vb = rpm.ver(a), rpm.ver(b)
        print((va > vb) - (va < vb))
"""


def gen_rpm(rng):
    rpmv = truth_versions("rpm")
    # Real rpm EVRs from the rpm fixture, plus Debian/Alpine/PyPI real strings as
    # arbitrary version text (rpmvercmp is defined on any string).
    deb = debian_versions()
    groups = merge(rpmv)
    evr = {}
    for f in glob.glob(f"{FIX}/truth/*.json"):
        for p in json.load(open(f)).get("packages", []):
            if p.get("ecosystem") == "rpm":
                e = p.get("epoch")
                s = (f"{e}:" if e else "") + p["version"]
                evr.setdefault(p["name"], set()).add(s)
    for k, vs in deb.items():
        for v in vs:
            if "-" in v:
                evr.setdefault(k, set()).add(v)
    rows = []
    pairs = make_pairs(evr, rng, n=3500)
    kinds = [("evr", a, b) for a, b in pairs]
    plain = {}
    for k, vs in merge(deb, osv_versions("PyPI"), alpine_versions()).items():
        plain.setdefault(k, set()).update(vs)
    # tilde/caret are rpm's pre/post-release markers; real data rarely has '^'.
    extra = set()
    for v in sorted({x for s in plain.values() for x in s})[:4000:7]:
        extra.add(v.replace("~", "^"))
        extra.add(v + "^git1")
        extra.add(v + "~rc1")
    plain["_caret_tilde"] = extra
    kinds += [("vercmp", a, b) for a, b in make_pairs(plain, rng, n=3500)]
    out = run_lines(["/usr/bin/python3", "-c", RPM_HELPER], [f"{k}\t{a}\t{b}" for k, a, b in kinds])
    rows = [(k, a, b, sign(int(o))) for (k, a, b), o in zip(kinds, out)]
    ver = subprocess.run(["rpm", "--version"], capture_output=True, text=True).stdout.strip()
    write("rpm-pairs.tsv", f"kind(evr|vercmp)\ta\tb\tsign of rpm.labelCompare; {ver}", rows)


# ---------------------------------------------------------------- apk (no reference tool)

def alpine_versions():
    out = {}
    for f in glob.glob(f"{VULN}/other/alpine-secdb/*/*.yaml"):
        name = None
        for line in open(f):
            m = re.match(r"\s+name: (\S+)", line)
            if m:
                name = m.group(1)
            m = re.match(r"\s+['\"]?([0-9][^:'\"]*)['\"]?:\s*$", line)
            if m and name:
                out.setdefault(name, set()).add(m.group(1))
    return out


# ---------------------------------------------------------------- npm / semver

NODE_HELPER = r"""
const semver = require(process.env.SEMVER_DIR + '/node_modules/semver');
const lines = require('fs').readFileSync(0, 'utf8').split('\n').filter(l => l.length);
const out = [];
for (const l of lines) {
  const [kind, a, b] = l.split('\t');
  try {
    if (kind === 'valid') out.push(semver.valid(a) === null ? 'invalid' : 'ok');
    else if (kind === 'cmp') out.push(String(semver.compare(a, b)));
    else if (kind === 'range') out.push(semver.validRange(b) === null ? 'invalid' : String(semver.satisfies(a, b)));
  } catch (e) { out.push('error'); }
}
process.stdout.write(out.join('\n') + '\n');
"""


def node(lines):
    return run_lines(["node", "-e", NODE_HELPER], lines, env={**os.environ, "SEMVER_DIR": SEMVER_DIR})


def npm_versions():
    groups = merge(osv_versions("npm"), truth_versions("npm"))
    for f in glob.glob(f"{VULN}/other/nodejs-security-wg/npm/*.json"):
        d = json.load(open(f))
        for key in ("vulnerable_versions", "patched_versions"):
            for v in re.findall(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?", d.get(key) or ""):
                groups.setdefault(d.get("module_name", ""), set()).add(v)
    for f in glob.glob(f"{FIX}/files/lockfiles/yarn/*.lock") + glob.glob(f"{FIX}/files/lockfiles/pnpm/*.yaml"):
        for v in re.findall(r"version:? \"?(\d+\.\d+\.\d+[^\s\"']*)", open(f).read()):
            groups.setdefault(os.path.basename(f), set()).add(v)
    cargo = merge(osv_versions("crates.io"))
    for f in glob.glob(f"{FIX}/files/lockfiles/cargo/*.lock"):
        for n, v in re.findall(r'name = "([^"]+)"\nversion = "([^"]+)"', open(f).read()):
            cargo.setdefault(n, set()).add(v)
    return groups, cargo


def npm_ranges():
    """Real range strings: nodejs-security-wg advisories and yarn lock specs."""
    out = set()
    for f in glob.glob(f"{VULN}/other/nodejs-security-wg/npm/*.json"):
        d = json.load(open(f))
        for key in ("vulnerable_versions", "patched_versions"):
            if d.get(key):
                out.add(d[key])
    for f in glob.glob(f"{FIX}/files/lockfiles/yarn/*.lock"):
        for spec in re.findall(r'@(?:npm:)?([\^~<>=*0-9][^",:]*)"?[,:]', open(f).read()):
            out.add(spec.strip())
    return sorted(r for r in out if clean(r))


def gen_semver(rng):
    npm, cargo = npm_versions()
    groups = merge(npm, cargo)
    allv = sorted({v for s in groups.values() for v in s})
    valid = node([f"valid\t{v}\t" for v in allv])
    bad = [v for v, ok in zip(allv, valid) if ok != "ok"]
    groups = {k: {v for v in vs if v not in bad} for k, vs in groups.items()}
    pairs = make_pairs(groups, rng, n=6000)
    out = node([f"cmp\t{a}\t{b}" for a, b in pairs])
    ver = json.load(open(f"{SEMVER_DIR}/node_modules/semver/package.json"))["version"]
    write("semver-pairs.tsv", f"a\tb\tsign of node-semver {ver} compare()", [(a, b, o) for (a, b), o in zip(pairs, out)])
    write("semver-invalid.tsv", f"strings node-semver {ver} valid() rejects", [(v,) for v in bad])

    # Ranges: real specs plus ones built from real versions, each checked on
    # versions near its bounds.
    ranges = npm_ranges()
    good = sorted({v for s in groups.values() for v in s})
    for _ in range(130):
        a, b = sorted(rng.sample(good, 2), key=lambda v: v)
        a_parts = a.split("-")[0].split(".")
        ranges += [f"^{a}", f"~{a}", f"{a} - {b}", f">={a} <{b}", f">{a} || <={b}",
                   f"{a_parts[0]}.x", f"~{a_parts[0]}.{a_parts[1]}", f"^{a_parts[0]}.{a_parts[1]}.x",
                   f"<{a_parts[0]}.{a_parts[1]}", f">{a_parts[0]}", f"={a}", f"<={a_parts[0]}.{a_parts[1]}"]
    # Syntax corners and garbage: node-semver decides what is valid.
    ranges += ["1.2.3 junk", ">=1.2.3 <", "^1.2.3.4", "~>", "1.2.3 - ", "==1.2.3", ">=v1.2.3", "=v1.2.3",
               "1.x.3", "^01.2.3", "1.2.3 || junk", "1.2.3-", ">1.2.3 <=", "x.1.2", "*.*.*", "1.*.*", "<=*",
               ">*", "<*", ">=*", "1.2.*-beta", "v1 - v2", "1.2.3+build", ">=1.2.3+build.1 <2", "  ", "", "||",
               "1.2.3 -2.0.0", "1.2.3- 2.0.0", "> 1.2.3", "~ 1.2", "^ 1.2", "~> 1.2.3", "<= 1.2 >= 1.0",
               "1.2.3 - 2.3.4 || 5.x", "^0.0.3-beta", "~1.2.3-beta.2", "^1.2.3-beta.2", "1.2.3-alpha - 2.0.0-rc.1",
               "*1.2.3", "1.2.3*", ">=1.2.3*", "9007199254740992", "^9007199254740991.0.0", "1 2 3", "=1", "=1.2",
               "vv1.2.3", "= 1.2.3", ">= 1 < 2"]
    ranges = sorted(set(ranges))
    lines = []
    for r in ranges:
        nums = re.findall(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?", r)
        cands = set(rng.sample(good, 4)) | set(nums)
        for n in nums:
            m = re.match(r"(\d+)\.(\d+)\.(\d+)", n)
            x, y, z = map(int, m.groups())
            cands |= {f"{x}.{y}.{z+1}", f"{x}.{y+1}.0", f"{x+1}.0.0", f"{x}.{y}.{z}-beta.1", f"{x+1}.0.0-0"}
            if z:
                cands.add(f"{x}.{y}.{z-1}")
        for c in sorted(cands):
            lines.append(f"range\t{c}\t{r}")
    out = node(lines)
    rows = [(l.split("\t")[1], l.split("\t")[2], o) for l, o in zip(lines, out)]
    write("npm-ranges.tsv", f"version\trange\tnode-semver {ver} satisfies() or invalid", rows)

    # Go: real module versions from the Go OSV data (as published there, no 'v').
    go = osv_versions("Go")
    gv = sorted({v for s in go.values() for v in s if clean(v)})
    valid = node([f"valid\t{v}\t" for v in gv])
    goodgo = {v for v, ok in zip(gv, valid) if ok == "ok"}
    go = {k: {v for v in vs if v in goodgo} for k, vs in go.items()}
    pairs = make_pairs(go, rng, n=5000)
    # Go tooling writes a leading v; OSV drops it. Mix both spellings.
    pairs = [tuple(("v" + x) if rng.random() < 0.5 else x for x in p) for p in pairs]
    out = node([f"cmp\t{a}\t{b}" for a, b in pairs])
    write("go-pairs.tsv", f"a\tb\tsign of node-semver {ver} compare() (SemVer 2.0 precedence)",
          [(a, b, o) for (a, b), o in zip(pairs, out)])


# ---------------------------------------------------------------- Cargo (semver crate)

CARGO_REF_MAIN = r"""
use std::io::BufRead;
fn main() {
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin");
        let (req, ver) = line.split_once('\t').expect("tab");
        match (semver::VersionReq::parse(req), semver::Version::parse(ver)) {
            (Ok(r), Ok(v)) => println!("{}", r.matches(&v)),
            (Err(_), _) => println!("invalid"),
            (_, Err(_)) => println!("badversion"),
        }
    }
}
"""
CARGO_SEMVER = "1.0.28"


def gen_cargo(rng):
    """Cargo requirements, answered by the semver crate Cargo itself uses
    (built offline from the local cargo cache in a temp dir)."""
    tmp = tempfile.mkdtemp()
    os.makedirs(f"{tmp}/src")
    open(f"{tmp}/Cargo.toml", "w").write(
        f'[package]\nname = "cargoref"\nversion = "0.0.0"\nedition = "2021"\n'
        f'[dependencies]\nsemver = "={CARGO_SEMVER}"\n[workspace]\n')
    open(f"{tmp}/src/main.rs", "w").write(CARGO_REF_MAIN)
    subprocess.run(["cargo", "build", "--offline", "--release", "-q"], cwd=tmp, check=True,
                   env={**os.environ, "CARGO_TARGET_DIR": f"{tmp}/target"})
    _, cargo = npm_versions()
    good = sorted({v for vs in cargo.values() for v in vs if re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", v)})
    reqs = {"*", "^0", "^0.0", "0.0", "0", "~0", "=0", ">0", "<=0", "0.*", "0.0.*", "1.x", "1.*.*", "^1.*", ">=1.*",
            "1.2.3.4", "", ">=1.0 <2.0", "1.0, ", "^1.0.0-", "=1.2.3+build"}
    for _ in range(120):
        a, b = rng.sample(good, 2)
        M, m, _p = a.split("-")[0].split(".")
        reqs |= {a, f"^{a}", f"~{a}", f"={a}", f">{a}", f">={a}", f"<{a}", f"<={a}", f">={a}, <{b}", M, f"{M}.{m}",
                 f"^{M}.{m}", f"~{M}", f"{M}.*", f"{M}.{m}.*", f"= {M}.{m}", f">{M}.{m}", f"<={M}", f"<{M}.{m}",
                 f"~{M}.{m}", f">{M}", f"<{M}", f"={M}", f"<={M}.{m}", f">={M}.{m}"}
    lines = []
    for r in sorted(reqs):
        nums = re.findall(r"\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z.-]+)?", r)
        cands = set(rng.sample(good, 3))
        for n in nums:
            parts = [int(x) for x in n.split("-")[0].split(".")] + [0, 0]
            x, y, z = parts[:3]
            cands |= {f"{x}.{y}.{z}", f"{x}.{y}.{z+1}", f"{x}.{y+1}.0", f"{x+1}.0.0", f"{x}.{y}.{z}-alpha.1",
                      f"{x}.{y+1}.0-rc.1", f"{x+1}.0.0-0"}
            if "-" in n and len(n.split("-")[0].split(".")) == 3:
                cands |= {n, n + ".1"}
            if z:
                cands.add(f"{x}.{y}.{z-1}")
        lines += [f"{r}\t{c}" for c in sorted(cands)]
    out = run_lines([f"{tmp}/target/release/cargoref"], lines)
    rows = [(l.split("\t")[1], l.split("\t")[0], o) for l, o in zip(lines, out) if o != "badversion"]
    write("cargo-requirements.tsv", f"version\trequirement\tsemver crate {CARGO_SEMVER} VersionReq::matches or invalid", rows)


# ---------------------------------------------------------------- PEP 440

def gen_pep440(rng):
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version
    import packaging

    groups = merge(osv_versions("PyPI"), truth_versions("python"))
    allv = sorted({v for s in groups.values() for v in s})
    bad = []
    for v in allv:
        try:
            Version(v)
        except InvalidVersion:
            bad.append(v)
    groups = {k: {v for v in vs if v not in set(bad)} for k, vs in groups.items()}
    # normalisation spellings of real versions
    spell = set()
    for v in sorted({v for s in groups.values() for v in s})[::25]:
        spell |= {v.upper(), "v" + v, v + ".0", v.replace(".", "_", 1), " " + v + " ", v + "-1", v + ".post1",
                  v + "-dev2", v + "+Local.7", "1!" + v, v + "alpha1", v + "-preview.3", v + "rev4", v + "c1"}
    for v in spell:
        try:
            Version(v)
            groups.setdefault("_spellings", set()).add(v)
        except InvalidVersion:
            bad.append(v)
    pairs = make_pairs(groups, rng, n=7000)
    rows = [(a, b, sign((Version(a) > Version(b)) - (Version(a) < Version(b)))) for a, b in pairs]
    write("pep440-pairs.tsv", f"a\tb\tsign of packaging {packaging.__version__} Version comparison", rows)
    write("pep440-invalid.tsv", f"strings packaging {packaging.__version__} Version() rejects", [(v,) for v in sorted(set(bad))])

    good = sorted({v for s in groups.values() for v in s if v.strip() == v})
    specs = set()
    for _ in range(110):
        a, b = sorted(rng.sample(good, 2), key=Version)
        rel = Version(a).release
        specs |= {f">={a},<{b}", f"~={a}", f"=={a}", f"!={a}", f">{a}", f"<={b}", f"<{b}",
                  f"=={'.'.join(map(str, rel[:2]))}.*", f"!={rel[0]}.*", f"~={'.'.join(map(str, rel[:2]))}",
                  f">= {a}, != {b}", f"==={a}", f">{a}, <{b}"}
    specs = sorted(specs)
    rows = []
    for s in specs:
        try:
            ss = SpecifierSet(s)
        except InvalidSpecifier:
            rows.append((good[0], s, "invalid"))
            continue
        nums = re.findall(r"[0-9][0-9A-Za-z.!+]*", s)
        cands = set(rng.sample(good, 4))
        for n in nums:
            try:
                v = Version(n.rstrip("."))
            except InvalidVersion:
                continue
            r = list(v.release)
            cands |= {str(v), f"{v.base_version}.post1", f"{v.base_version}rc1", f"{v.base_version}.dev0",
                      f"{v.base_version}+local", ".".join(map(str, r[:-1] + [r[-1] + 1])), ".".join(map(str, r + [0]))}
        for c in sorted(cands):
            # prereleases=True: operator semantics only (see README).
            rows.append((c, s, str(ss.contains(c, prereleases=True)).lower()))
    write("pep440-specifiers.tsv", f"version\tspecifier set\tpackaging {packaging.__version__} "
          "SpecifierSet.contains(v, prereleases=True) or invalid", rows)


# ---------------------------------------------------------------- Maven

MAVEN_JAVA = r"""
import org.apache.maven.artifact.versioning.*;
import java.io.*;
public class MavenRef {
  public static void main(String[] a) throws Exception {
    BufferedReader r = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
    PrintStream o = new PrintStream(new BufferedOutputStream(System.out), false, "UTF-8");
    String l;
    while ((l = r.readLine()) != null) {
      String[] f = l.split("\t", -1);
      if (f[0].equals("cmp")) {
        int c = new ComparableVersion(f[1]).compareTo(new ComparableVersion(f[2]));
        o.println(Integer.signum(c));
      } else {
        try {
          VersionRange vr = VersionRange.createFromVersionSpec(f[2]);
          o.println(vr.containsVersion(new DefaultArtifactVersion(f[1])));
        } catch (Exception e) { o.println("invalid"); }
      }
    }
    o.flush();
  }
}
"""


def gen_maven(rng):
    groups = merge(osv_versions("Maven"), truth_versions("java"), truth_versions("maven"))
    for d in glob.glob("/usr/share/maven-repo/*/*/*/") + glob.glob("/usr/share/maven-repo/*/*/*/*/"):
        v = os.path.basename(d.rstrip("/"))
        if v[:1].isdigit():
            groups.setdefault(os.path.dirname(d.rstrip("/")), set()).add(v)
    for f in glob.glob(f"{FIX}/files/lockfiles/java-jar/*"):
        m = re.search(r"-(\d[^/]*)\.(?:jar|war)$", f)
        if m:
            groups.setdefault("jar", set()).add(m.group(1))
    # Qualifier and separator spellings around real versions (all compared by the real jar).
    base = sorted({v for s in groups.values() for v in s})
    quals = ["alpha", "a1", "beta", "b2", "milestone", "m3", "rc", "cr", "RC1", "CR2", "SNAPSHOT", "ga", "final",
             "release", "GA", "sp", "sp1", "foo", "0", "1", "-1", "jre", "android", "Final", "redhat-00001", "xyz10"]
    syn = set()
    for v in base:
        syn.add(v)
        for q in rng.sample(quals, 4):
            syn |= {f"{v}-{q}", f"{v}.{q}", f"{v}{q}"}
        syn |= {v + ".0", v + "-0", v + ".0.0-ga", v.replace(".", "-")}
    syn |= {"1", "1.0", "1.0.0", "1-0", "1.0-0", "1..1", "1-", "1.", "-1", "", ".", "1.0.0.0.0.1", "1-1.foo-bar1baz-.1",
            "2.0.0-alpha-1", "1.0-alpha1-SNAPSHOT", "1.0.RELEASE", "123456789012345678901234567890",
            "1.9999999999", "1.99999999999999999999", "1.000000000000000000001"}
    groups["_syn"] = syn
    pairs = make_pairs(groups, rng, n=7000)
    tmp = tempfile.mkdtemp()
    open(f"{tmp}/MavenRef.java", "w").write(MAVEN_JAVA)
    subprocess.run(["javac", "-cp", MAVEN_JAR, "-d", tmp, f"{tmp}/MavenRef.java"], check=True)
    run = ["java", "-cp", f"{MAVEN_JAR}:{LANG3_JAR}:{tmp}", "MavenRef"]
    out = run_lines(run, [f"cmp\t{a}\t{b}" for a, b in pairs])
    write("maven-pairs.tsv", f"a\tb\tsign of ComparableVersion.compareTo ({os.path.realpath(MAVEN_JAR)})",
          [(a, b, o) for (a, b), o in zip(pairs, out)])

    good = sorted({v for v in base if v})
    ranges = set()
    for _ in range(300):
        a, b = rng.sample(good, 2)
        ranges |= {f"[{a},{b})", f"[{a},{b}]", f"({a},{b})", f"(,{a}]", f"[{a},)", f"[{a}]", f"(,{a}),({b},)",
                   f"[{a},{b}),[{b},)", a}
    ranges |= {"[1.0,2.0", "1.0,2.0]", "[2.0,1.0]", "[,]", "(1.0)", "[1.0,2.0),", "[1.0,,2.0]", "[1.0,2.0],[1.5,3.0]"}
    lines = []
    for r in sorted(ranges):
        cands = set(rng.sample(good, 3)) | set(re.findall(r"[^\[\](),]+", r))
        lines += [f"range\t{c}\t{r}" for c in sorted(cands)]
    out = run_lines(run, lines)
    write("maven-ranges.tsv", "version\trange\tVersionRange.createFromVersionSpec().containsVersion() or invalid",
          [(l.split("\t")[1], l.split("\t")[2], o) for l, o in zip(lines, out)])


# ---------------------------------------------------------------- RubyGems

RUBY_HELPER = r"""
require 'rubygems'
STDIN.each_line do |l|
  kind, a, b = l.chomp.split("\t", -1)
  begin
    if kind == 'valid'
      puts(Gem::Version.correct?(a) ? 'ok' : 'invalid')
    elsif kind == 'cmp'
      puts(Gem::Version.new(a) <=> Gem::Version.new(b))
    else
      puts(Gem::Requirement.new(*b.split(',').map(&:strip)).satisfied_by?(Gem::Version.new(a)))
    end
  rescue ArgumentError, Gem::Requirement::BadRequirementError
    puts 'invalid'
  end
end
"""


def gen_gem(rng):
    groups = merge(osv_versions("RubyGems"), truth_versions("gem"))
    for f in glob.glob(f"{FIX}/files/lockfiles/gemfile/*.lock"):
        for n, v in re.findall(r"^    (\S+) \(([^)]+)\)$", open(f).read(), re.M):
            groups.setdefault(n, set()).add(v.split("-")[0] if re.search(r"-(x86|arm|java|universal)", v) else v)
    for f in glob.glob("/usr/share/rubygems-integration/all/specifications/*.gemspec") + \
            glob.glob("/usr/lib/ruby/gems/*/specifications/default/*.gemspec"):
        m = re.match(r"(.+)-(\d[^-]*)\.gemspec$", os.path.basename(f))
        if m:
            groups.setdefault(m.group(1), set()).add(m.group(2))
    base = sorted({v for s in groups.values() for v in s})
    syn = set()
    for v in base:
        syn |= {v, v + ".0", v + ".pre", v + ".rc1", v + ".beta.2", v + "-alpha", v + ".a", v + ".0.0", " " + v}
    syn |= {"0", "1", "1.0.0.0", "1.a", "1.0.a.1", "1.0.a.10", "1.0.b1", "1.0.A", "2.0.0.pre.1", "", "1..2", "a", "1.0-"}
    groups["_syn"] = syn
    allv = sorted({v for s in groups.values() for v in s})
    run = ["ruby", "-e", RUBY_HELPER]
    valid = run_lines(run, [f"valid\t{v}\t" for v in allv])
    bad = {v for v, o in zip(allv, valid) if o != "ok"}
    groups = {k: {v for v in vs if v not in bad} for k, vs in groups.items()}
    pairs = make_pairs(groups, rng, n=6000)
    out = run_lines(run, [f"cmp\t{a}\t{b}" for a, b in pairs])
    rv = subprocess.run(["ruby", "-e", "print RUBY_VERSION, ' rubygems ', Gem::VERSION"], capture_output=True, text=True).stdout
    write("gem-pairs.tsv", f"a\tb\tsign of Gem::Version <=> (ruby {rv})", [(a, b, o) for (a, b), o in zip(pairs, out)])
    write("gem-invalid.tsv", f"strings Gem::Version.correct? rejects (ruby {rv})", [(v,) for v in sorted(bad)])
    good = sorted({v for s in groups.values() for v in s if v.strip() == v and v})
    reqs = set()
    for _ in range(270):
        a, b = rng.sample(good, 2)
        reqs |= {f"~> {a}", f">= {a}, < {b}", f"= {a}", f"!= {a}", f"> {a}", f"<= {b}", f"~> {a}, >= {b}", f"{a}"}
    lines = []
    for r in sorted(reqs):
        cands = set(rng.sample(good, 3)) | set(re.findall(r"[0-9][0-9A-Za-z.]*", r))
        for c in list(cands):
            cands.add(c + ".1")
            cands.add(c + ".pre")
        lines += [f"req\t{c}\t{r}" for c in sorted(cands)]
    out = run_lines(run, lines)
    write("gem-requirements.tsv", f"version\trequirement (comma = and)\tGem::Requirement#satisfied_by? (ruby {rv})",
          [(l.split("\t")[1], l.split("\t")[2], o) for l, o in zip(lines, out)])


# ---------------------------------------------------------------- apk data (rules-only)

def gen_apk(rng):
    groups = alpine_versions()
    rows = [(v,) for v in sorted({v for s in groups.values() for v in s if clean(v)})]
    write("apk-versions.tsv", "real Alpine secdb fixed versions (no reference tool: parse-only corpus)", rows)


# ---------------------------------------------------------------- OSV ranges

def gen_osv(rng):
    """osv.dev enumerates the affected versions of PyPI records; every listed
    version must fall inside the record's ECOSYSTEM ranges."""
    from packaging.version import InvalidVersion, Version
    rows = []
    z = zipfile.ZipFile(f"{VULN}/osv/PyPI/all.zip")
    for n in sorted(z.namelist()):
        d = json.loads(z.read(n))
        for a in d.get("affected", []):
            ranges = a.get("ranges", [])
            if not ranges or any(r.get("type") != "ECOSYSTEM" for r in ranges):
                continue
            for r in ranges:
                ev = ";".join(f"{k}={v}" for e in r["events"] for k, v in e.items())
                if "\t" in ev:
                    continue
                listed = a.get("versions", [])
                for v in rng.sample(listed, min(10, len(listed))):
                    try:
                        Version(v)
                    except InvalidVersion:
                        continue
                    if len(ranges) == 1:
                        rows.append((d["id"], ev, v, "true"))
    write("osv-pypi-listed.tsv", "id\tevents\tversion listed in affected[].versions (single ECOSYSTEM range)", rows)


GENS = {"dpkg": gen_dpkg, "rpm": gen_rpm, "semver": gen_semver, "pep440": gen_pep440, "maven": gen_maven,
        "gem": gen_gem, "apk": gen_apk, "osv": gen_osv,
        "cargo": gen_cargo}

if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for name in sys.argv[1:] or GENS:
        GENS[name](random.Random(f"bosun-version-{name}"))
