//! How long `Matcher::lookup` takes over a million package lookups against a
//! full database (the figure of docs/PERFORMANCE.md, "Vulnerability scanning").
//!
//! Usage: cargo run --release -p bosun-vuln --example lookups -- DB VULNDATA TRUTH_DIR [COUNT]
//!
//! DB is a `vuln.db` built from VULNDATA (`bosun db import VULNDATA`). The
//! queries, built before the clock starts, are a fixed mix:
//! - 60%: every (ecosystem, name) the database holds, each with every version
//!   its advisories' range events name (introduced, fixed, last affected:
//!   the versions on both sides of each boundary; an entry without ranges
//!   gives its `versions` list), cycled;
//! - 20%: the packages of the fixture truth files (TRUTH_DIR/*.json) as a
//!   scan would look them up (Debian packages by source in `Debian:12`, Go
//!   toolchains as `stdlib`), cycled; most have no advisory;
//! - 20%: distinct names that no advisory mentions, in the same ecosystems.
//!
//! The million lookups refer to those distinct queries (a fleet's images
//! share most packages); they are shuffled with a fixed seed so hits and
//! misses interleave, then looked up once each with one new `Matcher` (so
//! its per-package cache fills during the run, as in a scan): `seconds` is
//! that pass, from creating the matcher to the last lookup. A second pass,
//! grouped by ecosystem, shows where the time goes. Prints JSON on stdout.

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

use bosun_vuln::MatchKind;
use bosun_vuln::matcher::{Matcher, Query, go_toolchain_semver};
use bosun_vulndb::model::{ecosystem_base, normalize_name};
use bosun_vulndb::store::store_ecosystem;
use bosun_vulndb::{Db, Event, RangeKind};

type Key = (String, String);

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [db_path, vulndata, truth_dir, rest @ ..] = args.as_slice() else {
        return Err("usage: lookups DB VULNDATA TRUTH_DIR [COUNT]".into());
    };
    let count: usize = match rest.first() {
        Some(n) => n.parse().map_err(|e| format!("COUNT {n:?}: {e}"))?,
        None => 1_000_000,
    };
    let db = Db::open(Path::new(db_path))?;
    let db_keys: usize = db.ecosystems().iter().map(|(_, n)| n).sum();

    let from_db = db_versions(&db, Path::new(vulndata))?;
    let covered: usize = from_db.len();
    if covered != db_keys {
        return Err(format!(
            "{vulndata} names {covered} packages of the database's {db_keys}: is {db_path} built from it?"
        )
        .into());
    }
    let db_queries: Vec<Query> = from_db
        .iter()
        .flat_map(|((eco, name), versions)| versions.iter().map(|v| query(eco, name, v)))
        .collect();
    let truth = truth_queries(Path::new(truth_dir))?;
    if db_queries.is_empty() || truth.is_empty() {
        return Err("no queries: empty database or truth directory".into());
    }
    let ecosystems: Vec<String> = db.ecosystems().into_iter().map(|(e, _)| e).collect();

    let n_db = count * 6 / 10;
    let n_truth = count / 5;
    let n_absent = count - n_db - n_truth;
    let mut absent_queries = Vec::with_capacity(n_absent);
    let mut i = 0u64;
    while absent_queries.len() < n_absent {
        let eco = &ecosystems[(i % ecosystems.len() as u64) as usize];
        let name = normalize_name(ecosystem_base(eco), &format!("no-advisory-{i}"));
        i += 1;
        if !db.has(eco, &name) {
            absent_queries.push(query(eco, &name, "1.0.0"));
        }
    }
    let mut queries: Vec<&Query> = Vec::with_capacity(count);
    queries.extend(db_queries.iter().cycle().take(n_db.max(db_queries.len())));
    queries.extend(truth.iter().cycle().take(n_truth));
    queries.extend(absent_queries.iter());
    shuffle(&mut queries);

    let mut hits = 0u64;
    let mut advisories = 0u64;
    let start = Instant::now();
    let mut matcher = Matcher::new(&db);
    let mut found = Vec::new();
    for q in &queries {
        matcher.lookup_into(q, &mut found)?;
        hits += u64::from(!found.is_empty());
        advisories += found.len() as u64;
    }
    let seconds = start.elapsed().as_secs_f64();

    // Where the time goes: the same queries again, grouped by ecosystem, with
    // every package's entries already read and compiled.
    let mut sorted: Vec<&Query> = queries.clone();
    sorted.sort_by(|a, b| a.ecosystem.cmp(&b.ecosystem));
    let mut by_ecosystem = serde_json::Map::new();
    let mut warm_seconds = 0.0;
    for group in sorted.chunk_by(|a, b| a.ecosystem == b.ecosystem) {
        let start = Instant::now();
        for q in group {
            matcher.lookup_into(q, &mut found)?;
        }
        let s = start.elapsed().as_secs_f64();
        warm_seconds += s;
        if let Some(q) = group.first() {
            by_ecosystem.insert(
                q.ecosystem.clone(),
                serde_json::json!({"lookups": group.len(), "seconds": s}),
            );
        }
    }

    let out = serde_json::json!({
        "lookups": queries.len(),
        "hits": hits,
        "advisory_hits": advisories,
        "seconds": seconds,
        "warm_pass": {"seconds": warm_seconds, "by_ecosystem": by_ecosystem},
        "mix": {
            "db_packages": covered,
            "db_package_versions": db_queries.len(),
            "from_db": queries.len() - n_truth - n_absent,
            "truth_packages": truth.len(),
            "from_truth": n_truth,
            "absent": n_absent,
        },
    });
    println!("{out}");
    Ok(())
}

fn query(ecosystem: &str, name: &str, version: &str) -> Query {
    Query {
        kind: if name == "stdlib" && ecosystem == "Go" {
            MatchKind::GoStdlib
        } else {
            MatchKind::ExactPackage
        },
        ecosystem: ecosystem.to_string(),
        name: name.to_string(),
        version: version.to_string(),
    }
}

/// Every stored (ecosystem, name) with the versions its advisories name,
/// read from the OSV archives the database was built from.
fn db_versions(
    db: &Db,
    vulndata: &Path,
) -> Result<BTreeMap<Key, BTreeSet<String>>, Box<dyn Error>> {
    let mut out: BTreeMap<Key, BTreeSet<String>> = BTreeMap::new();
    let osv = vulndata.join("osv");
    let mut zips: Vec<PathBuf> = std::fs::read_dir(&osv)
        .map_err(|e| format!("{}: {e}", osv.display()))?
        .filter_map(|e| e.ok().map(|e| e.path().join("all.zip")))
        .filter(|p| p.is_file())
        .collect();
    zips.sort();
    for zip in zips {
        bosun_vulndb::feed::osv::read_zip(&zip, "osv", &mut |adv| {
            if adv.withdrawn.is_some() {
                return;
            }
            for aff in adv.affected {
                let eco = store_ecosystem(&aff.ecosystem);
                let name = normalize_name(ecosystem_base(&eco), &aff.name);
                if !db.has(&eco, &name) {
                    continue;
                }
                let mut own: Vec<String> = aff
                    .ranges
                    .iter()
                    .filter(|r| r.kind != RangeKind::Git)
                    .flat_map(|r| &r.events)
                    .filter_map(|e| match e {
                        Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v)
                            if v != "0" =>
                        {
                            Some(v.clone())
                        }
                        _ => None,
                    })
                    .collect();
                if own.is_empty() {
                    own = aff.versions;
                }
                // An entry naming no version at all (every version affected)
                // is still looked up once.
                if own.is_empty() {
                    own.push("1.0.0".into());
                }
                out.entry((eco, name)).or_default().extend(own);
            }
        })?;
    }
    Ok(out)
}

/// The fixture packages as `query_for` would key them.
fn truth_queries(dir: &Path) -> Result<Vec<Query>, Box<dyn Error>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let doc: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        let packages = doc.get("packages").and_then(|p| p.as_array());
        for p in packages.into_iter().flatten() {
            let field = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or("");
            let (name, version) = (field("name"), field("version"));
            let (eco, name, version) = match field("ecosystem") {
                // Every fixture is Debian 12; dpkg advisories are per source package.
                "deb" => {
                    let src = field("source_name");
                    let src_version = field("source_version");
                    (
                        "Debian:12",
                        if src.is_empty() { name } else { src },
                        if src_version.is_empty() {
                            version.to_string()
                        } else {
                            src_version.to_string()
                        },
                    )
                }
                "golang" if name == "stdlib" => match go_toolchain_semver(version) {
                    Some(v) => ("Go", name, v),
                    None => continue,
                },
                "golang" => ("Go", name, version.to_string()),
                "pypi" => ("PyPI", name, version.to_string()),
                "npm" => ("npm", name, version.to_string()),
                "maven" => ("Maven", name, version.to_string()),
                "cargo" => ("crates.io", name, version.to_string()),
                // rpm: the fixture says Fedora 39, which has no data here.
                _ => continue,
            };
            if name.is_empty() || version.is_empty() {
                continue;
            }
            out.push(query(
                eco,
                &normalize_name(ecosystem_base(eco), name),
                &version,
            ));
        }
    }
    Ok(out)
}

/// Fisher-Yates with a fixed xorshift seed: the same order every run.
fn shuffle<T>(v: &mut [T]) {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..v.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = (state % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}
