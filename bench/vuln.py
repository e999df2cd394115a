#!/usr/bin/env python3
"""Vulnerability-scanning figures: bosun next to Trivy on the same advisories.

Called by `scripts/bench.sh --vuln`, which installs the tools, builds bosun,
the lookups example and osv2trivy; this script only measures:

1. database build from all of VULNDATA: `bosun db import` into a fresh cache
   dir, and Trivy's DB made by osv2trivy from the unzipped OSV records;
   times and sizes;
2. the lookups example (1M `Matcher::lookup_into` calls against the full DB);
3. and 4. every fixture image scanned by bosun and by Trivy, offline, cold
   (no layer cache, database present) and warm (second run), and their
   findings compared as sets of (package, installed version, vulnerability).

The machine is shared: before each measurement the script waits for the
1-minute load to drop under MAX_LOAD, and it repeats a measurement during
which other processes used more than MAX_OTHERS of a core (from /proc/stat
minus this script and its children).

Writes bench/results/vuln-latest.json; `vuln.py --report FILE` prints the
tables of docs/PERFORMANCE.md from it.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from run import machine, shell_quote, version, warm_page_cache  # noqa: E402

MAX_LOAD = 1.5
MAX_OTHERS = 0.3  # cores used by other processes during a measurement
MAX_WAIT_S = 900
ATTEMPTS = 3

BUILD_REPS = (0, 5)
LOOKUP_RUNS = 5
BOSUN_COLD = (1, 10)
BOSUN_WARM = (3, 30)
TRIVY_COLD = (1, 5)
TRIVY_WARM = (1, 10)

# The targets.
BUILD_MAX_S = 10.0
LOOKUPS_MAX_S = 1.0
WARM_SCAN_MAX_S = 0.100

TRIVY_FLAGS = ["--skip-db-update", "--skip-java-db-update", "--offline-scan",
               "--skip-check-update", "--skip-version-check", "--disable-telemetry",
               "--scanners", "vuln", "-q"]


def log(msg):
    print(f"vuln-bench: {msg}", file=sys.stderr, flush=True)


def busy_jiffies():
    with open("/proc/stat") as f:
        cpu = f.readline().split()[1:]
    # user nice system idle iowait irq softirq steal: all but idle and iowait.
    v = [int(x) for x in cpu[:8]]
    return sum(v) - v[3] - v[4]


def own_cpu():
    """CPU seconds of this process and its finished children."""
    r = os.times()
    return r.user + r.system + r.children_user + r.children_system


def measured(label, fn):
    """Runs `fn` on a quiet machine; repeats it when others were busy meanwhile."""
    hz = os.sysconf("SC_CLK_TCK")
    for attempt in range(1, ATTEMPTS + 1):
        waited = 0
        while os.getloadavg()[0] > MAX_LOAD and waited < MAX_WAIT_S:
            if waited == 0:
                log(f"{label}: load {os.getloadavg()[0]:.2f} > {MAX_LOAD}, waiting")
            time.sleep(15)
            waited += 15
        load_before = os.getloadavg()[0]
        j0, c0, t0 = busy_jiffies(), own_cpu(), time.monotonic()
        res = fn()
        wall = time.monotonic() - t0
        others = max(0.0, (busy_jiffies() - j0) / hz - (own_cpu() - c0)) / wall
        res["conditions"] = {"load_before": round(load_before, 2),
                             "load_after": round(os.getloadavg()[0], 2),
                             "others_cores": round(others, 2), "attempt": attempt}
        if others <= MAX_OTHERS:
            return res
        log(f"{label}: other processes used {others:.2f} cores meanwhile; "
            + ("measuring again" if attempt < ATTEMPTS else "keeping it (noted)"))
    return res


def hyperfine(name, argv, env, reps, prepare, workdir):
    """Median/min/mean wall time in seconds of `argv` over `reps` runs."""
    warmup, runs = reps
    export = os.path.join(workdir, f"hf-{name}.json")
    cmd = " ".join(shell_quote(a) for a in ["env", *[f"{k}={v}" for k, v in env.items()], *argv])
    hf = ["hyperfine", "-N", "--style", "basic", "--export-json", export,
          "--warmup", str(warmup), "--runs", str(runs), "-n", name]
    if prepare:
        hf += ["--prepare", prepare]
    subprocess.run([*hf, cmd], check=True, stdout=sys.stderr)
    with open(export) as f:
        r = json.load(f)["results"][0]
    return {"median_s": r["median"], "min_s": r["min"], "mean_s": r["mean"],
            "stddev_s": r["stddev"], "runs": len(r["times"]), "times_s": sorted(r["times"])}


def run(argv, env=None, ok=(0,)):
    p = subprocess.run(argv, env={**os.environ, **(env or {})},
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode not in ok:
        raise RuntimeError(f"{' '.join(argv)} exited {p.returncode}:\n{p.stderr[-3000:]}")
    return p.stdout


def tree_bytes(path):
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


# ---------------------------------------------------------------- 1. DB build

def bench_db_build(a, workdir):
    vulndata = Path(a.vulndata)
    zips = sorted(vulndata.glob("osv/*/all.zip"))
    kev = vulndata / "kev" / "known_exploited_vulnerabilities.json"
    out = {"input": {"osv_zips_bytes": sum(z.stat().st_size for z in zips),
                     "kev_bytes": kev.stat().st_size if kev.is_file() else 0,
                     "zips": [str(z.relative_to(vulndata)) for z in zips]}}
    out["input"]["total_bytes"] = out["input"]["osv_zips_bytes"] + out["input"]["kev_bytes"]

    cache = os.path.join(workdir, "build-cache")
    argv = [a.bosun, "--cache-dir", cache, "-q", "db", "import", str(vulndata)]

    def bosun():
        r = hyperfine("db-build-bosun", argv, {}, BUILD_REPS, f"rm -rf {shell_quote(cache)}", workdir)
        return {"time": r}
    out["bosun"] = measured("db build (bosun)", bosun)
    db = Path(cache, "db", "vuln.db")
    out["bosun"]["db_file_bytes"] = db.stat().st_size
    out["bosun"]["db_dir_bytes"] = tree_bytes(Path(cache, "db"))
    out["bosun"]["status"] = run([a.bosun, "--cache-dir", cache, "db", "status"])

    # osv2trivy reads directories: the unzip is part of Trivy's input preparation.
    osv_dir = os.path.join(workdir, "osv-unzipped")

    def unzip():
        t0 = time.monotonic()
        shutil.rmtree(osv_dir, ignore_errors=True)
        for z in zips:
            dest = os.path.join(osv_dir, z.parent.name)
            os.makedirs(dest)
            run(["unzip", "-q", str(z), "-d", dest])
        return {"seconds": time.monotonic() - t0, "bytes": tree_bytes(osv_dir)}
    out["trivy_unzip"] = measured("unzip OSV", unzip)
    trivy_out = os.path.join(workdir, "trivy-db-build")

    def trivy():
        r = hyperfine("db-build-osv2trivy", [a.osv2trivy, osv_dir, trivy_out], {}, BUILD_REPS,
                      f"rm -rf {shell_quote(trivy_out)}", workdir)
        return {"time": r}
    out["trivy"] = measured("db build (osv2trivy)", trivy)
    out["trivy"]["db_file_bytes"] = Path(trivy_out, "db", "trivy.db").stat().st_size
    with open(Path(trivy_out, "conversion-report.json")) as f:
        out["trivy"]["conversion_report"] = json.load(f)
    return out, Path(cache), Path(trivy_out), osv_dir


# ---------------------------------------------------------------- 2. lookups

def bench_lookups(a, db_file):
    def once():
        runs = []
        for _ in range(LOOKUP_RUNS):
            runs.append(json.loads(run([a.lookups, str(db_file), a.vulndata,
                                        os.path.join(a.fixtures, "truth")])))
        secs = sorted(r["seconds"] for r in runs)
        return {"runs": runs, "median_s": secs[len(secs) // 2], "min_s": secs[0]}
    return measured("lookups", once)


# ---------------------------------------------------------------- 3./4. scans

def bosun_argv(a, cache, image, out):
    return [a.bosun, "--cache-dir", str(cache), "scan", f"oci:{image}", "-f", "json",
            "-o", out, "--fail-on", "none", "-q"]


def trivy_argv(a, cache, image, out):
    return [a.trivy, "image", "--input", image, "--cache-dir", str(cache), *TRIVY_FLAGS,
            "-f", "json", "-o", out]


def trivy_cache(trivy_db_dir, java_db, where):
    """A Trivy cache dir: the converted DB and an empty Java DB, no layer cache."""
    shutil.rmtree(where, ignore_errors=True)
    os.makedirs(where)
    shutil.copytree(Path(trivy_db_dir, "db"), Path(where, "db"))
    shutil.copytree(java_db, Path(where, "java-db"))
    return Path(where)


def make_java_db(where):
    """An empty Java DB (schema 1): Trivy needs one to look at jars offline; an
    empty one means jars are identified from their own pom.properties only."""
    import sqlite3
    d = Path(where, "java-db")
    d.mkdir(parents=True, exist_ok=True)
    c = sqlite3.connect(d / "trivy-java.db")
    c.executescript("""
        CREATE TABLE artifacts(id INTEGER PRIMARY KEY, group_id TEXT, artifact_id TEXT);
        CREATE TABLE indices(artifact_id INTEGER, version TEXT, sha1 BLOB, archive_type TEXT);
        CREATE UNIQUE INDEX artifacts_idx ON artifacts(artifact_id, group_id);
        CREATE INDEX indices_artifact_idx ON indices(artifact_id);
        CREATE UNIQUE INDEX indices_sha1_idx ON indices(sha1);
    """)
    c.close()
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with open(d / "metadata.json", "w") as f:
        json.dump({"Version": 1, "NextUpdate": "2126-01-01T00:00:00Z",
                   "UpdatedAt": now, "DownloadedAt": now}, f)
    return d


def pkg_key(name, kind):
    # PyPI names compare as PEP 503 says (Trivy keeps the METADATA spelling, so does bosun).
    if kind in ("python", "python-pkg", "pip"):
        return re.sub(r"[-_.]+", "-", name).lower()
    return name


def version_key(name, version):
    # Go toolchains: bosun keeps the binary's `go1.19`, Trivy writes `v1.19`.
    if name == "stdlib":
        return re.sub(r"^(go|v)", "", version)
    return version


def bosun_findings(path):
    with open(path) as f:
        doc = json.load(f)
    out = []
    for fi in doc["findings"]:
        p = fi["package"]
        # Maven packages are compared by group:artifact, Trivy's PkgName.
        name = fi["match"]["name"] if p["kind"] == "java" else p["name"]
        out.append({"package": pkg_key(name, p["kind"]),
                    "version": version_key(name, fi["installed_version"]),
                    "ids": sorted({fi["id"], *fi.get("aliases", [])}), "id": fi["id"],
                    "kind": p["kind"], "match": fi["match"],
                    "paths": sorted({loc["path"] for loc in p.get("locations", [])})})
    return out


def trivy_findings(path):
    with open(path) as f:
        doc = json.load(f)
    rows = []
    for r in doc.get("Results") or []:
        for v in r.get("Vulnerabilities") or []:
            rows.append({"package": pkg_key(v["PkgName"], r.get("Type")),
                         "version": version_key(v["PkgName"], v["InstalledVersion"]),
                         "id": v["VulnerabilityID"],
                         "type": r.get("Type"), "path": v.get("PkgPath") or r.get("Target")})
    return rows


def compare(bosun, trivy):
    """Trivy rows whose id is no bosun finding's id or alias for the same
    (package, version), and bosun findings no Trivy row matches."""
    by_pkg = {}
    for i, b in enumerate(bosun):
        for id_ in b["ids"]:
            by_pkg.setdefault((b["package"], b["version"], id_), []).append(i)
    matched = set()
    trivy_only = {}
    trivy_set = set()
    for t in trivy:
        key = (t["package"], t["version"], t["id"])
        trivy_set.add(key)
        hits = by_pkg.get(key)
        if hits:
            matched.update(hits)
        else:
            trivy_only.setdefault(key, []).append(t["path"])
    bosun_only = [b for i, b in enumerate(bosun) if i not in matched]
    # The other direction, stricter: a bosun finding merging several CVEs (a
    # DSA) matches as soon as Trivy has one of them; list the CVEs Trivy lacks.
    unreported = []
    for b in bosun:
        miss = [i for i in b["ids"]
                if i.startswith("CVE-") and (b["package"], b["version"], i) not in trivy_set]
        if miss:
            unreported.append({"package": b["package"], "version": b["version"], "id": b["id"],
                               "cves": miss})
    return {
        "trivy_rows": len(trivy), "trivy_set": len(trivy_set), "bosun_findings": len(bosun),
        "bosun_matched": len(matched),
        "trivy_only": [{"package": k[0], "version": k[1], "id": k[2], "paths": sorted(set(v))}
                       for k, v in sorted(trivy_only.items())],
        "bosun_only": [{"package": b["package"], "version": b["version"], "id": b["id"],
                        "ids": b["ids"], "match": b["match"], "paths": b["paths"]}
                       for b in sorted(bosun_only, key=lambda b: (b["package"], b["version"], b["id"]))],
        "bosun_cves_unreported": unreported,
    }


def bench_image(a, name, image, bosun_cache, trivy_db_dir, java_db, workdir):
    log(f"== {name}")
    warm_page_cache(image)
    res = {"path": image}
    layers = bosun_cache / "layers"
    tcache = trivy_cache(trivy_db_dir, java_db, os.path.join(workdir, "trivy-cache"))

    # Findings, from one cold run of each.
    shutil.rmtree(layers, ignore_errors=True)
    bout, tout = os.path.join(workdir, f"{name}.bosun.json"), os.path.join(workdir, f"{name}.trivy.json")
    run(bosun_argv(a, bosun_cache, image, bout))
    run(trivy_argv(a, tcache, image, tout))
    res["compare"] = compare(bosun_findings(bout), trivy_findings(tout))
    if a.keep:
        os.makedirs(a.keep, exist_ok=True)
        shutil.copy(bout, a.keep)
        shutil.copy(tout, a.keep)

    def timings():
        r = {}
        r["bosun_cold"] = hyperfine(f"{name}-bosun-cold", bosun_argv(a, bosun_cache, image, "/dev/null"),
                                    {}, BOSUN_COLD, f"rm -rf {shell_quote(str(layers))}", workdir)
        r["bosun_warm"] = hyperfine(f"{name}-bosun-warm", bosun_argv(a, bosun_cache, image, "/dev/null"),
                                    {}, BOSUN_WARM, None, workdir)
        fanal = shell_quote(str(tcache / "fanal"))
        r["trivy_cold"] = hyperfine(f"{name}-trivy-cold", trivy_argv(a, tcache, image, "/dev/null"),
                                    {}, TRIVY_COLD, f"rm -rf {fanal}", workdir)
        r["trivy_warm"] = hyperfine(f"{name}-trivy-warm", trivy_argv(a, tcache, image, "/dev/null"),
                                    {}, TRIVY_WARM, None, workdir)
        return r
    res["time"] = measured(f"{name} scans", timings)
    t = res["time"]
    log(f"{name}: bosun cold {t['bosun_cold']['median_s']*1000:.0f} ms, warm "
        f"{t['bosun_warm']['median_s']*1000:.0f} ms; trivy cold {t['trivy_cold']['median_s']*1000:.0f} ms, "
        f"warm {t['trivy_warm']['median_s']*1000:.0f} ms; findings bosun {res['compare']['bosun_findings']}, "
        f"trivy {res['compare']['trivy_set']}; differences {len(res['compare']['trivy_only'])} trivy-only, "
        f"{len(res['compare']['bosun_only'])} bosun-only")
    return res


# ---------------------------------------------------------------- report

def ms(m):
    v = m["median_s"]
    return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s"


def mb(n):
    return f"{n / 1e6:.1f} MB"


def ok(good):
    return "✓" if good else "✗"


def render(r):
    out = []
    m = r["machine"]
    out.append(f"Measured {r['date']} on {m['nproc']} cores ({m['cpu']}), {m['mem_gib']} GiB RAM, "
               f"Linux {m['kernel']}; load average before {r['load_before'][0]:.2f}, "
               f"after {r['load_after'][0]:.2f}.")
    v = r["versions"]
    out.append(f"Tools: {v['bosun']}; {v['trivy']}; {v['hyperfine']}.")
    out.append("")
    b = r["db_build"]
    inp = b["input"]
    bt, tt = b["bosun"]["time"], b["trivy"]["time"]
    out.append("### Database build (all of `vulndata`, fresh cache dir, median of "
               f"{bt['runs']} runs)")
    out.append("")
    out.append("| | time | size on disk | conditions |")
    out.append("|---|---|---|---|")
    cond = lambda c: f"load {c['load_before']:.2f}→{c['load_after']:.2f}, others {c['others_cores']:.2f} cores"
    out.append(f"| input: {len(inp['zips'])} OSV zips + KEV JSON | | {mb(inp['total_bytes'])} "
               f"({mb(inp['osv_zips_bytes'])} + {mb(inp['kev_bytes'])}) | |")
    out.append(f"| `bosun db import` | {ms(bt)} (min {ms({'median_s': bt['min_s']})}) "
               f"{ok(bt['median_s'] < BUILD_MAX_S)} | vuln.db {mb(b['bosun']['db_file_bytes'])}; "
               f"with the feed copies {mb(b['bosun']['db_dir_bytes'])} | {cond(b['bosun']['conditions'])} |")
    uz = b["trivy_unzip"]
    out.append(f"| `unzip` for osv2trivy (once) | {ms({'median_s': uz['seconds']})} | "
               + (f"{mb(uz['bytes'])} of JSON" if "bytes" in uz else "")
               + f" | {cond(uz['conditions'])} |")
    out.append(f"| osv2trivy (Trivy DB, no KEV) | {ms(tt)} (min {ms({'median_s': tt['min_s']})}) | "
               f"trivy.db {mb(b['trivy']['db_file_bytes'])} | {cond(b['trivy']['conditions'])} |")
    out.append("")
    lk = r["lookups"]
    first = lk["runs"][0]
    mix = first["mix"]
    out.append(f"### Lookups: {first['lookups']:,} `Matcher::lookup_into` calls, median of {len(lk['runs'])} runs: "
               f"{lk['median_s'] * 1000:.0f} ms (min {lk['min_s'] * 1000:.0f}) {ok(lk['median_s'] < LOOKUPS_MAX_S)}")
    out.append("")
    out.append(f"{first['hits']:,} lookups hit at least one advisory ({first['advisory_hits']:,} advisory hits). "
               f"Mix: {mix['from_db']:,} from the database ({mix['db_packages']:,} packages with the "
               f"versions their events name: {mix['db_package_versions']:,} distinct queries, cycled), "
               f"{mix['from_truth']:,} fixture packages ({mix['truth_packages']} distinct, cycled), "
               f"{mix['absent']:,} distinct absent names; {cond(lk['conditions'])}.")
    out.append("")
    wp = first["warm_pass"]
    per = sorted(wp["by_ecosystem"].items(), key=lambda kv: -kv[1]["seconds"])
    out.append(f"Second pass over the same queries with every entry compiled, grouped by ecosystem: "
               f"{wp['seconds'] * 1000:.0f} ms; "
               + ", ".join(f"{e} {v['seconds'] * 1000:.0f} ms / {v['lookups']:,}" for e, v in per) + ".")
    out.append("")
    out.append("### Scans, per image (medians; cold = no layer cache, database present)")
    out.append("")
    out.append("| image | bosun cold | bosun warm | Trivy cold | Trivy warm | Trivy/bosun cold "
               "| Trivy/bosun warm | findings bosun / Trivy rows (distinct) | differences | conditions |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for name, img in r["images"].items():
        t, c = img["time"], img["compare"]
        warm = ms(t["bosun_warm"])
        if name == "python-app":
            warm += " " + ok(t["bosun_warm"]["median_s"] < WARM_SCAN_MAX_S)
        diffs = len(c["trivy_only"]) + len(c["bosun_only"])
        out.append(f"| {name} | {ms(t['bosun_cold'])} | {warm} | {ms(t['trivy_cold'])} | {ms(t['trivy_warm'])} "
                   f"| {t['trivy_cold']['median_s'] / t['bosun_cold']['median_s']:.1f}x "
                   f"| {t['trivy_warm']['median_s'] / t['bosun_warm']['median_s']:.1f}x "
                   f"| {c['bosun_findings']} / {c['trivy_rows']} ({c['trivy_set']}) "
                   f"| {len(c['trivy_only'])} Trivy only, {len(c['bosun_only'])} bosun only, "
                   f"{len(c['bosun_cves_unreported'])} partly "
                   f"| {cond(t['conditions'])} |")
    out.append("")
    out.append("### Every difference in findings")
    out.append("")
    out.append("| image | only in | package | version | id (bosun aliases) |")
    out.append("|---|---|---|---|---|")
    for name, img in r["images"].items():
        for d in img["compare"]["trivy_only"]:
            out.append(f"| {name} | Trivy | {d['package']} | {d['version']} | {d['id']} |")
        for d in img["compare"]["bosun_only"]:
            al = ", ".join(i for i in d["ids"] if i != d["id"])
            out.append(f"| {name} | bosun | {d['package']} | {d['version']} | {d['id']}"
                       + (f" ({al})" if al else "") + " |")
        for d in img["compare"]["bosun_cves_unreported"]:
            out.append(f"| {name} | bosun (CVE of a merged finding) | {d['package']} | {d['version']} "
                       f"| {d['id']}: {', '.join(d['cves'])} |")
    if out[-1].startswith("|---"):
        out.append("| (none) | | | | |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--report", help="print the tables of this results file and exit")
    ap.add_argument("--bosun")
    ap.add_argument("--lookups", help="the release build of crates/bosun-vuln/examples/lookups.rs")
    ap.add_argument("--trivy")
    ap.add_argument("--osv2trivy")
    ap.add_argument("--vulndata")
    ap.add_argument("--fixtures", help="../shared/fixtures (images/oci/* and truth/)")
    ap.add_argument("--out", default="bench/results/vuln-latest.json")
    ap.add_argument("--keep", help="keep the bosun and Trivy reports of each image in this directory")
    ap.add_argument("--command", default="", help="the command line to record")
    a = ap.parse_args()
    if a.report:
        with open(a.report) as f:
            print(render(json.load(f)))
        return
    for k in ("bosun", "lookups", "trivy", "osv2trivy", "vulndata", "fixtures"):
        if not getattr(a, k):
            ap.error(f"--{k} is required")

    started = datetime.now(timezone.utc)
    result = {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "command": a.command,
        "machine": machine(),
        "load_before": os.getloadavg(),
        "versions": {
            "bosun": version([a.bosun, "--version"]),
            "trivy": "trivy " + version([a.trivy, "--version"]).replace("Version:", "").strip(),
            "hyperfine": version(["hyperfine", "--version"]),
        },
        "images": {},
    }
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bosun-vuln-bench-") as workdir:
        result["db_build"], bosun_cache, trivy_db, _ = bench_db_build(a, workdir)
        result["lookups"] = bench_lookups(a, bosun_cache / "db" / "vuln.db")
        java_db = make_java_db(os.path.join(workdir, "java"))
        for image in sorted(Path(a.fixtures, "images", "oci").iterdir()):
            if (image / "index.json").is_file():
                result["images"][image.name] = bench_image(
                    a, image.name, str(image), bosun_cache, trivy_db, java_db, workdir)
    result["load_after"] = os.getloadavg()
    result["duration_s"] = round(time.monotonic() - t0, 1)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    log(f"wrote {a.out} ({result['duration_s']} s)")


if __name__ == "__main__":
    main()
