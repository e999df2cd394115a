//! OSV records (https://ossf.github.io/osv-schema/): one JSON document per
//! advisory, read from osv.dev's per-ecosystem `all.zip` or a directory.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use serde::Deserialize;

use super::{Capped, FeedError, LaxStr, LaxStrList, Stats, truncate};
use crate::model::{
    Advisory, Affected, AffectedState, Event, MAX_DETAILS, Range, RangeKind, Score, Severity,
};

/// The largest record read. osv.dev's biggest (kernel records listing every
/// version) are a few MiB.
pub const MAX_RECORD_BYTES: u64 = 8 * 1024 * 1024;
pub const MAX_AFFECTED: usize = 10_000;
pub const MAX_RANGES: usize = 1_000;
pub const MAX_EVENTS: usize = 10_000;
pub const MAX_VERSIONS: usize = 100_000;
/// Caps on ids (aliases, related, upstream), references and scores.
pub const MAX_IDS: usize = 10_000;
pub const MAX_REFERENCES: usize = 10_000;
pub const MAX_SCORES: usize = 100;
const MAX_CWES: usize = 1_000;
/// Ids are store keys and shown everywhere: a longer one is not an id.
const MAX_ID_LEN: usize = 256;
/// How deep `read_dir` descends.
const MAX_DIR_DEPTH: usize = 32;

#[derive(Deserialize)]
struct RawRecord {
    id: String,
    modified: Option<String>,
    published: Option<String>,
    withdrawn: Option<String>,
    aliases: Option<Capped<String, MAX_IDS>>,
    related: Option<Capped<String, MAX_IDS>>,
    upstream: Option<Capped<String, MAX_IDS>>,
    summary: Option<String>,
    details: Option<String>,
    severity: Option<Capped<RawSeverity, MAX_SCORES>>,
    affected: Option<Capped<RawAffected, MAX_AFFECTED>>,
    references: Option<Capped<RawReference, MAX_REFERENCES>>,
    database_specific: Option<RawSpecific>,
}

#[derive(Deserialize)]
struct RawSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct RawAffected {
    package: Option<RawPackage>,
    severity: Option<Capped<RawSeverity, MAX_SCORES>>,
    ranges: Option<Capped<RawRange, MAX_RANGES>>,
    versions: Option<Capped<String, MAX_VERSIONS>>,
    ecosystem_specific: Option<RawSpecific>,
    database_specific: Option<RawSpecific>,
}

#[derive(Deserialize)]
struct RawPackage {
    ecosystem: String,
    name: String,
    purl: Option<String>,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: String,
    events: Capped<RawEvent, MAX_EVENTS>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    introduced: Option<String>,
    fixed: Option<String>,
    last_affected: Option<String>,
    limit: Option<String>,
}

#[derive(Deserialize)]
struct RawReference {
    url: Option<String>,
}

/// The parts of the free-form `database_specific` / `ecosystem_specific`
/// objects that are read: GitHub's `severity` label and `cwe_ids`.
#[derive(Deserialize)]
struct RawSpecific {
    severity: Option<LaxStr>,
    cwe_ids: Option<LaxStrList<MAX_CWES>>,
}

impl RawSpecific {
    fn severity(&self) -> Option<Severity> {
        self.severity.as_ref().and_then(|s| label(s.as_str()?))
    }
}

/// A stated severity label; `UNKNOWN` states nothing.
fn label(s: &str) -> Option<Severity> {
    Severity::parse_label(s).filter(|s| *s != Severity::Unknown)
}

/// Parses one OSV record. `origin` (the file or zip entry) names the record
/// in errors.
pub fn parse_record(bytes: &[u8], source: &str, origin: &str) -> Result<Advisory, FeedError> {
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        return Err(FeedError::TooLarge {
            location: origin.to_string(),
            limit: MAX_RECORD_BYTES,
        });
    }
    let raw: RawRecord = serde_json::from_slice(bytes)
        .map_err(|e| FeedError::invalid(origin, format_args!("not an OSV record: {e}")))?;
    check_id(&raw.id).map_err(|m| FeedError::invalid(origin, format_args!("id: {m}")))?;
    let at = |what: &str| format!("{origin} ({}): {what}", raw.id);

    let mut scores: Vec<Score> = raw
        .severity
        .unwrap_or_default()
        .0
        .iter()
        .map(score)
        .collect();
    // The spec allows severity per affected package instead of per record:
    // then the record's scores are the distinct ones of its packages.
    let take_affected_scores = scores.is_empty();
    let mut seen_scores = HashSet::new();

    let mut affected = Vec::new();
    let mut affected_label = None;
    for (i, a) in raw.affected.unwrap_or_default().0.into_iter().enumerate() {
        if let (true, Some(sev)) = (take_affected_scores, &a.severity) {
            for s in &sev.0 {
                if scores.len() < MAX_SCORES
                    && seen_scores.insert((s.kind.clone(), s.score.clone()))
                {
                    scores.push(score(s));
                }
            }
        }
        if let Some((entry, stated)) =
            convert_affected(a).map_err(|m| FeedError::invalid(at(&format!("affected[{i}]")), m))?
        {
            affected_label = affected_label.max(stated);
            affected.push(entry);
        }
    }
    let db = raw.database_specific;
    let ubuntu_label = scores
        .iter()
        .filter(|s| s.kind == "Ubuntu")
        .filter_map(|s| label(&s.vector))
        .max();
    let severity_label = db
        .as_ref()
        .and_then(RawSpecific::severity)
        .or(affected_label)
        .or(ubuntu_label);

    let mut cwes = Vec::new();
    for c in db.and_then(|d| d.cwe_ids).unwrap_or_default().0 {
        if c.starts_with("CWE-") && !cwes.contains(&c) {
            cwes.push(c);
        }
    }

    // `upstream` names the vulnerabilities a distribution record (DSA, DLA,
    // UBUNTU-CVE) was made from: the same vulnerability, so they merge.
    let mut aliases: Vec<String> = Vec::new();
    let mut seen = HashSet::from([raw.id.clone()]);
    let upstream = raw.upstream.unwrap_or_default().0;
    for a in raw
        .aliases
        .unwrap_or_default()
        .0
        .into_iter()
        .chain(upstream)
    {
        if seen.insert(a.clone()) {
            aliases.push(a);
        }
    }

    Ok(Advisory {
        aliases,
        related: raw.related.unwrap_or_default().0,
        summary: raw.summary.map(|s| truncate(s, MAX_DETAILS)),
        details: raw.details.map(|s| truncate(s, MAX_DETAILS)),
        published: raw.published,
        modified: raw.modified,
        withdrawn: raw.withdrawn,
        scores,
        severity_label,
        references: raw
            .references
            .unwrap_or_default()
            .0
            .into_iter()
            .filter_map(|r| r.url)
            .collect(),
        cwes,
        source: source.to_string(),
        affected,
        id: raw.id,
    })
}

fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("empty".into());
    }
    if id.len() > MAX_ID_LEN {
        return Err(format!("longer than {MAX_ID_LEN} bytes"));
    }
    if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{id:?} contains whitespace or control characters"));
    }
    Ok(())
}

fn score(s: &RawSeverity) -> Score {
    Score {
        base_score: super::cvss::base_score(&s.kind, &s.score),
        kind: s.kind.clone(),
        vector: s.score.clone(),
    }
}

/// One `affected[]` entry and the severity label it states; `None` for an
/// entry without a package (GIT-only entries of upstream projects: nothing
/// to match by name).
fn convert_affected(a: RawAffected) -> Result<Option<(Affected, Option<Severity>)>, String> {
    let Some(package) = a.package else {
        return Ok(None);
    };
    let mut ranges = Vec::new();
    for (i, r) in a.ranges.unwrap_or_default().0.into_iter().enumerate() {
        ranges.push(convert_range(r).map_err(|m| format!("ranges[{i}]: {m}"))?);
    }
    let scores = a.severity.map(|s| s.0).unwrap_or_default();
    let stated = [&a.ecosystem_specific, &a.database_specific]
        .into_iter()
        .flatten()
        .filter_map(RawSpecific::severity)
        .chain(
            scores
                .iter()
                .filter(|s| s.kind == "Ubuntu")
                .filter_map(|s| label(&s.score)),
        )
        .max();
    // Without a stated label, the package's own CVSS scores rate it.
    let severity = stated.or_else(|| {
        scores
            .iter()
            .filter_map(|s| super::cvss::base_score(&s.kind, &s.score))
            .map(Severity::from_cvss_score)
            .max()
    });
    let entry = Affected {
        ecosystem: package.ecosystem,
        name: package.name,
        purl: package.purl,
        ranges,
        versions: a.versions.unwrap_or_default().0,
        state: AffectedState::Affected,
        state_note: None,
        severity,
    };
    Ok(Some((entry, stated)))
}

fn convert_range(r: RawRange) -> Result<Range, String> {
    let kind = match r.kind.as_str() {
        "SEMVER" => RangeKind::Semver,
        "ECOSYSTEM" => RangeKind::Ecosystem,
        "GIT" => RangeKind::Git,
        other => return Err(format!("unknown range type {other:?}")),
    };
    let mut events = Vec::with_capacity(r.events.0.len());
    for (i, e) in r.events.0.into_iter().enumerate() {
        let event = match e {
            RawEvent {
                introduced: Some(v),
                fixed: None,
                last_affected: None,
                limit: None,
            } => Event::Introduced(v),
            RawEvent {
                introduced: None,
                fixed: Some(v),
                last_affected: None,
                limit: None,
            } => Event::Fixed(v),
            RawEvent {
                introduced: None,
                fixed: None,
                last_affected: Some(v),
                limit: None,
            } => Event::LastAffected(v),
            RawEvent {
                introduced: None,
                fixed: None,
                last_affected: None,
                limit: Some(v),
            } => Event::Limit(v),
            _ => {
                return Err(format!(
                    "events[{i}] must have exactly one of introduced, fixed, last_affected, limit"
                ));
            }
        };
        events.push(event);
    }
    Ok(Range { kind, events })
}

/// Reads every `*.json` entry of an OSV `all.zip`, one entry at a time.
/// Malformed records are skipped with a warning naming the entry; a zip that
/// cannot be read (truncated, corrupt data) is an error.
pub fn read_zip(
    path: &Path,
    source: &str,
    sink: &mut dyn FnMut(Advisory),
) -> Result<Stats, FeedError> {
    read_zip_capped(path, source, MAX_RECORD_BYTES, sink)
}

fn read_zip_capped(
    path: &Path,
    source: &str,
    cap: u64,
    sink: &mut dyn FnMut(Advisory),
) -> Result<Stats, FeedError> {
    let shown = path.display().to_string();
    let file = File::open(path).map_err(|e| FeedError::io(&shown, e))?;
    let mut archive = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| FeedError::Zip {
        location: shown.clone(),
        source: e,
    })?;
    let mut stats = Stats::default();
    let mut buf = Vec::new();
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(|e| FeedError::Zip {
            location: format!("{shown}: entry {i}"),
            source: e,
        })?;
        let location = format!("{shown}!{}", entry.name().escape_debug());
        if !entry.is_file() || !entry.name().ends_with(".json") {
            continue;
        }
        if entry.size() > cap {
            stats.skip(
                location,
                format_args!("{} bytes, over the {cap}-byte limit", entry.size()),
            );
            continue;
        }
        buf.clear();
        // The declared size may lie (a zip bomb): never read past the cap.
        entry
            .take(cap + 1)
            .read_to_end(&mut buf)
            .map_err(|e| FeedError::io(&location, e))?;
        if buf.len() as u64 > cap {
            stats.skip(location, format_args!("inflates past the {cap}-byte limit"));
            continue;
        }
        deliver(&buf, source, &location, &mut stats, sink);
    }
    Ok(stats)
}

fn deliver(
    bytes: &[u8],
    source: &str,
    location: &str,
    stats: &mut Stats,
    sink: &mut dyn FnMut(Advisory),
) {
    match parse_record(bytes, source, location) {
        Ok(adv) => {
            stats.records += 1;
            if adv.withdrawn.is_some() {
                stats.withdrawn += 1;
            }
            sink(adv);
        }
        Err(e) => {
            stats.skipped += 1;
            stats.warn(location, e);
        }
    }
}

/// Reads every `*.json` file under `dir`, recursively, in name order.
/// Symlinks are skipped (with a warning), so nothing outside `dir` is read.
pub fn read_dir(
    dir: &Path,
    source: &str,
    sink: &mut dyn FnMut(Advisory),
) -> Result<Stats, FeedError> {
    let mut stats = Stats::default();
    let meta =
        std::fs::symlink_metadata(dir).map_err(|e| FeedError::io(dir.display().to_string(), e))?;
    if !meta.is_dir() {
        return Err(FeedError::invalid(
            dir.display().to_string(),
            "not a directory",
        ));
    }
    walk(dir, 0, source, &mut stats, sink)?;
    Ok(stats)
}

fn walk(
    dir: &Path,
    depth: usize,
    source: &str,
    stats: &mut Stats,
    sink: &mut dyn FnMut(Advisory),
) -> Result<(), FeedError> {
    let shown = || dir.display().to_string();
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| FeedError::io(shown(), e))? {
        let entry = entry.map_err(|e| FeedError::io(shown(), e))?;
        let kind = entry.file_type().map_err(|e| FeedError::io(shown(), e))?;
        entries.push((entry.path(), kind));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, kind) in entries {
        let location = path.display().to_string();
        if kind.is_symlink() {
            stats.warn(location, "symlink not followed");
        } else if kind.is_dir() {
            if depth + 1 >= MAX_DIR_DEPTH {
                stats.warn(
                    location,
                    format_args!("deeper than {MAX_DIR_DEPTH} levels, not read"),
                );
            } else {
                walk(&path, depth + 1, source, stats, sink)?;
            }
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "json") {
            let file = File::open(&path).map_err(|e| FeedError::io(&location, e))?;
            let mut bytes = Vec::new();
            file.take(MAX_RECORD_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| FeedError::io(&location, e))?;
            if bytes.len() as u64 > MAX_RECORD_BYTES {
                stats.skip(
                    location,
                    format_args!("over the {MAX_RECORD_BYTES}-byte limit"),
                );
                continue;
            }
            deliver(&bytes, source, &location, stats, sink);
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::collections::BTreeSet;
    use std::io::Write;

    use serde_json::Value;

    use super::*;

    /// Record counts per ecosystem, from /work/shared/vulndata/README.md.
    const ZIPS: &[(&str, usize)] = &[
        ("PyPI", 2661),
        ("Go", 4291),
        ("crates.io", 1206),
        ("npm", 41),
        ("Maven", 13),
        ("RubyGems", 1),
        ("Debian", 1905),
    ];

    /// Every entry of a zip, read with the zip crate directly.
    fn raw_entries(path: &Path) -> Vec<(String, Vec<u8>)> {
        let mut z = zip::ZipArchive::new(File::open(path).unwrap()).unwrap();
        (0..z.len())
            .map(|i| {
                let mut e = z.by_index(i).unwrap();
                let mut b = Vec::new();
                e.read_to_end(&mut b).unwrap();
                (e.name().to_string(), b)
            })
            .collect()
    }

    fn raw_entry(eco: &str, name: &str) -> Option<(Advisory, Value)> {
        let path = bosun_testutil::shared(&format!("vulndata/osv/{eco}/all.zip"))?;
        let mut z = zip::ZipArchive::new(File::open(path).unwrap()).unwrap();
        let mut b = Vec::new();
        z.by_name(name).unwrap().read_to_end(&mut b).unwrap();
        let adv = parse_record(&b, &format!("osv-{eco}"), name).unwrap();
        Some((adv, serde_json::from_slice(&b).unwrap()))
    }

    fn strs(v: &Value) -> Vec<String> {
        v.as_array()
            .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    }

    fn events(v: &Value) -> Vec<Event> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let (k, v) = e.as_object().unwrap().iter().next().unwrap();
                let v = v.as_str().unwrap().to_string();
                match k.as_str() {
                    "introduced" => Event::Introduced(v),
                    "fixed" => Event::Fixed(v),
                    "last_affected" => Event::LastAffected(v),
                    "limit" => Event::Limit(v),
                    other => panic!("event {other}"),
                }
            })
            .collect()
    }

    /// CVSS v3.0/v3.1 base score from the FIRST specification's equations
    /// (section 7.1; Roundup as in 3.1 Appendix A, plain ceiling for 3.0).
    fn cvss3_spec_score(vector: &str) -> f64 {
        let mut parts = vector.split('/');
        let minor = parts.next().unwrap();
        let m: std::collections::HashMap<&str, &str> =
            parts.map(|p| p.split_once(':').unwrap()).collect();
        let changed = m["S"] == "C";
        let av = match m["AV"] {
            "N" => 0.85,
            "A" => 0.62,
            "L" => 0.55,
            _ => 0.2,
        };
        let ac = if m["AC"] == "L" { 0.77 } else { 0.44 };
        let pr = match (m["PR"], changed) {
            ("N", _) => 0.85,
            ("L", false) => 0.62,
            ("L", true) => 0.68,
            ("H", false) => 0.27,
            _ => 0.5,
        };
        let ui = if m["UI"] == "N" { 0.85 } else { 0.62 };
        let cia = |k: &str| match m[k] {
            "H" => 0.56,
            "L" => 0.22,
            _ => 0.0,
        };
        let iss = 1.0 - (1.0 - cia("C")) * (1.0 - cia("I")) * (1.0 - cia("A"));
        let impact = if changed {
            7.52 * (iss - 0.029) - 3.25 * (iss - 0.02f64).powi(15)
        } else {
            6.42 * iss
        };
        let exploitability = 8.22 * av * ac * pr * ui;
        let roundup = |x: f64| {
            if minor == "CVSS:3.0" {
                return (x * 10.0).ceil() / 10.0;
            }
            let i = (x * 100_000.0).round() as i64;
            if i % 10_000 == 0 {
                i as f64 / 100_000.0
            } else {
                ((i / 10_000) + 1) as f64 / 10.0
            }
        };
        if impact <= 0.0 {
            0.0
        } else if changed {
            roundup((1.08 * (impact + exploitability)).min(10.0))
        } else {
            roundup((impact + exploitability).min(10.0))
        }
    }

    /// Checks an advisory against its raw JSON, read independently.
    fn check_against_raw(adv: &Advisory, raw: &Value) {
        let id = raw["id"].as_str().unwrap();
        assert_eq!(adv.id, id);
        let mut want: Vec<String> = strs(&raw["aliases"]);
        want.extend(strs(&raw["upstream"]));
        let want: BTreeSet<String> = want.into_iter().filter(|a| a != id).collect();
        assert_eq!(
            adv.aliases.iter().cloned().collect::<BTreeSet<_>>(),
            want,
            "{id}"
        );
        assert_eq!(adv.related, strs(&raw["related"]), "{id}");
        assert_eq!(adv.published.as_deref(), raw["published"].as_str(), "{id}");
        assert_eq!(adv.modified.as_deref(), raw["modified"].as_str(), "{id}");
        assert_eq!(adv.withdrawn.as_deref(), raw["withdrawn"].as_str(), "{id}");
        assert_eq!(adv.summary.as_deref(), raw["summary"].as_str(), "{id}");
        match raw["details"].as_str() {
            Some(d) if d.len() > MAX_DETAILS => {
                let kept = adv.details.as_deref().unwrap();
                assert!(kept.len() <= MAX_DETAILS && d.starts_with(kept), "{id}");
            }
            d => assert_eq!(adv.details.as_deref(), d, "{id}"),
        }
        let refs: Vec<&str> = raw["references"]
            .as_array()
            .map(|r| r.iter().map(|r| r["url"].as_str().unwrap()).collect())
            .unwrap_or_default();
        assert_eq!(adv.references, refs, "{id}");
        assert_eq!(adv.cwes, strs(&raw["database_specific"]["cwe_ids"]), "{id}");
        if let Some(label) = raw["database_specific"]["severity"].as_str() {
            assert_eq!(adv.severity_label, Severity::parse_label(label), "{id}");
        }

        let sev = raw["severity"].as_array().cloned().unwrap_or_default();
        assert_eq!(adv.scores.len(), sev.len(), "{id}");
        for (s, r) in adv.scores.iter().zip(&sev) {
            assert_eq!(s.kind, r["type"].as_str().unwrap());
            assert_eq!(s.vector, r["score"].as_str().unwrap());
            match s.kind.as_str() {
                "CVSS_V3" => {
                    let want = cvss3_spec_score(&s.vector);
                    assert_eq!(s.base_score, Some(want), "{id} {}", s.vector);
                }
                "CVSS_V4" => {
                    let b = s.base_score.unwrap_or_else(|| panic!("{id} {}", s.vector));
                    assert!((0.0..=10.0).contains(&b));
                }
                _ => {}
            }
        }

        let raw_aff = raw["affected"].as_array().cloned().unwrap_or_default();
        assert_eq!(adv.affected.len(), raw_aff.len(), "{id}");
        for (a, r) in adv.affected.iter().zip(&raw_aff) {
            assert_eq!(
                a.ecosystem,
                r["package"]["ecosystem"].as_str().unwrap(),
                "{id}"
            );
            assert_eq!(a.name, r["package"]["name"].as_str().unwrap(), "{id}");
            assert_eq!(a.purl.as_deref(), r["package"]["purl"].as_str(), "{id}");
            assert_eq!(a.versions, strs(&r["versions"]), "{id}");
            assert_eq!(a.state, AffectedState::Affected);
            let ranges = r["ranges"].as_array().cloned().unwrap_or_default();
            assert_eq!(a.ranges.len(), ranges.len(), "{id}");
            for (got, want) in a.ranges.iter().zip(&ranges) {
                let kind = match want["type"].as_str().unwrap() {
                    "SEMVER" => RangeKind::Semver,
                    "ECOSYSTEM" => RangeKind::Ecosystem,
                    _ => RangeKind::Git,
                };
                assert_eq!(got.kind, kind, "{id}");
                assert_eq!(got.events, events(&want["events"]), "{id}");
            }
        }
    }

    #[test]
    fn every_shared_zip_record() {
        for &(eco, count) in ZIPS {
            let Some(path) = bosun_testutil::shared(&format!("vulndata/osv/{eco}/all.zip")) else {
                continue;
            };
            let mut got = Vec::new();
            let stats = read_zip(&path, &format!("osv-{eco}"), &mut |a| got.push(a)).unwrap();
            assert_eq!(stats.records, count, "{eco}");
            assert_eq!(
                (stats.skipped, stats.warnings.len()),
                (0, 0),
                "{eco}: {:?}",
                stats.warnings
            );
            let raw = raw_entries(&path);
            assert_eq!(raw.len(), count, "{eco}");
            let mut withdrawn = 0;
            for (adv, (name, bytes)) in got.iter().zip(&raw) {
                assert_eq!(Some(adv.id.as_str()), name.strip_suffix(".json"), "{eco}");
                assert_eq!(adv.source, format!("osv-{eco}"));
                let value: Value = serde_json::from_slice(bytes).unwrap();
                withdrawn += usize::from(value.get("withdrawn").is_some());
                check_against_raw(adv, &value);
            }
            assert_eq!(stats.withdrawn, withdrawn, "{eco}");
            if eco == "Debian" {
                // The README: "Debian:12 (bookworm) has 870 affected entries".
                let bookworm = got
                    .iter()
                    .flat_map(|a| &a.affected)
                    .filter(|a| a.ecosystem == "Debian:12")
                    .count();
                assert_eq!(bookworm, 870);
            }
        }
    }

    #[test]
    fn pypi_urllib3_record() {
        let Some((adv, raw)) = raw_entry("PyPI", "PYSEC-2021-108.json") else {
            return;
        };
        check_against_raw(&adv, &raw);
        assert_eq!(adv.aliases, ["CVE-2021-33503", "GHSA-q2q7-5pp4-w6pg"]);
        let a = &adv.affected[0];
        assert_eq!((a.ecosystem.as_str(), a.name.as_str()), ("PyPI", "urllib3"));
        assert_eq!(a.ranges[0].kind, RangeKind::Git);
        assert_eq!(a.ranges[1].kind, RangeKind::Ecosystem);
        assert_eq!(
            a.ranges[1].events,
            [Event::Introduced("0".into()), Event::Fixed("1.26.5".into())]
        );
        assert!(a.versions.contains(&"1.26.4".to_string()));
        assert!(adv.withdrawn.is_none());
    }

    #[test]
    fn pypi_last_affected_and_withdrawn() {
        if let Some((adv, raw)) = raw_entry("PyPI", "PYSEC-2022-42969.json") {
            check_against_raw(&adv, &raw);
            assert_eq!(adv.affected[0].name, "py");
            assert_eq!(
                adv.affected[0].ranges[0].events,
                [
                    Event::Introduced("0".into()),
                    Event::LastAffected("1.11.0".into())
                ]
            );
        }
        if let Some((adv, raw)) = raw_entry("PyPI", "PYSEC-2019-144.json") {
            check_against_raw(&adv, &raw);
            assert_eq!(adv.withdrawn.as_deref(), Some("2022-09-09T05:28:00Z"));
        }
    }

    #[test]
    fn go_stdlib_record() {
        let Some((adv, raw)) = raw_entry("Go", "GO-2023-1568.json") else {
            return;
        };
        check_against_raw(&adv, &raw);
        assert_eq!(adv.aliases, ["CVE-2022-41722"]);
        let a = &adv.affected[0];
        assert_eq!((a.ecosystem.as_str(), a.name.as_str()), ("Go", "stdlib"));
        assert_eq!(a.ranges[0].kind, RangeKind::Semver);
        assert_eq!(
            a.ranges[0].events,
            [
                Event::Introduced("0".into()),
                Event::Fixed("1.19.6".into()),
                Event::Introduced("1.20.0-0".into()),
                Event::Fixed("1.20.1".into()),
            ]
        );
    }

    #[test]
    fn maven_log4shell_record() {
        let Some((adv, raw)) = raw_entry("Maven", "GHSA-jfh8-c2jp-5v3q.json") else {
            return;
        };
        check_against_raw(&adv, &raw);
        assert_eq!(adv.aliases, ["CVE-2021-44228"]);
        assert_eq!(adv.severity_label, Some(Severity::Critical));
        assert_eq!(adv.cwes, ["CWE-20", "CWE-400", "CWE-502", "CWE-917"]);
        // NVD (linked from the record's references) scores CVE-2021-44228 10.0.
        assert!(
            adv.references
                .iter()
                .any(|r| r.ends_with("/CVE-2021-44228"))
        );
        assert_eq!(adv.scores[0].base_score, Some(10.0));
        assert_eq!(adv.affected.len(), 3);
        assert_eq!(adv.affected[0].name, "org.apache.logging.log4j:log4j-core");
    }

    #[test]
    fn crates_cvss_v4_record() {
        let Some((adv, raw)) = raw_entry("crates.io", "RUSTSEC-2024-0445.json") else {
            return;
        };
        check_against_raw(&adv, &raw);
        assert_eq!(adv.scores[0].kind, "CVSS_V4");
        assert!(adv.scores[0].base_score.is_some());
    }

    #[test]
    fn derived_debian_record_takes_upstream_cves_as_aliases() {
        let Some((adv, raw)) = raw_entry("Debian", "DLA-3861-1.json") else {
            return;
        };
        check_against_raw(&adv, &raw);
        assert_eq!(adv.aliases, ["CVE-2023-45897"]);
        let a = &adv.affected[0];
        assert_eq!(
            (a.ecosystem.as_str(), a.name.as_str()),
            ("Debian:11", "exfatprogs")
        );
        assert_eq!(
            a.purl.as_deref(),
            Some("pkg:deb/debian/exfatprogs?arch=source")
        );
        assert_eq!(
            a.ranges[0].events,
            [
                Event::Introduced("0".into()),
                Event::Fixed("1.1.0-1+deb11u1".into())
            ]
        );
    }

    #[test]
    fn upstream_samples_via_read_dir() {
        let Some(dir) = bosun_testutil::shared("vulndata/samples") else {
            return;
        };
        let mut got = Vec::new();
        let stats = read_dir(&dir, "samples", &mut |a| got.push(a)).unwrap();
        assert_eq!(
            (stats.records, stats.skipped),
            (14, 0),
            "{:?}",
            stats.warnings
        );
        for sub in ["osv-debian-upstream", "osv-ubuntu-upstream"] {
            for f in std::fs::read_dir(dir.join(sub)).unwrap() {
                let path = f.unwrap().path();
                let raw: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
                let adv = got.iter().find(|a| a.id == raw["id"]).unwrap();
                assert_eq!(
                    Some(adv.id.as_str()),
                    path.file_stem().and_then(|s| s.to_str())
                );
                check_against_raw(adv, &raw);
            }
        }

        let ubuntu = got
            .iter()
            .find(|a| a.id == "UBUNTU-CVE-2025-38094")
            .unwrap();
        assert_eq!(ubuntu.aliases, ["CVE-2025-38094"]);
        assert_eq!(ubuntu.severity_label, Some(Severity::Medium));
        assert_eq!(ubuntu.scores[0].kind, "Ubuntu");
        assert_eq!(ubuntu.scores[0].base_score, None);
        assert_eq!(ubuntu.affected[0].ecosystem, "Ubuntu:Pro:14.04:LTS");
        let dla = got.iter().find(|a| a.id == "DLA-3623-1").unwrap();
        assert_eq!(dla.aliases.len(), 44);
        assert!(dla.affected.is_empty());
        let dsa = got.iter().find(|a| a.id == "DSA-3029-1").unwrap();
        assert_eq!(dsa.aliases, ["CVE-2014-3616"]);
        assert_eq!(dsa.affected[0].ecosystem, "Debian:7");
    }

    // ---- hostile input ----

    fn write_zip(path: &Path, entries: &[(&str, &[u8])]) {
        let mut w = zip::ZipWriter::new(File::create(path).unwrap());
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
    }

    const GOOD: &[u8] = br#"{"id":"X-1","affected":[{"package":{"ecosystem":"PyPI","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}"#;

    #[test]
    fn bad_entries_are_skipped_with_the_entry_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("all.zip");
        write_zip(
            &path,
            &[
                ("X-1.json", GOOD),
                ("bad.json", b"{not json"),
                ("README.txt", b"ignored"),
                ("nul.json", b"\xff\xfe\x00"),
            ],
        );
        let mut got = Vec::new();
        let stats = read_zip(&path, "t", &mut |a| got.push(a)).unwrap();
        assert_eq!((stats.records, stats.skipped), (1, 2));
        assert!(
            stats.warnings[0].location.ends_with("all.zip!bad.json"),
            "{:?}",
            stats.warnings
        );
        assert!(stats.warnings[1].location.ends_with("!nul.json"));
        assert_eq!(got[0].id, "X-1");
    }

    #[test]
    fn truncated_and_garbage_zips_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("all.zip");
        write_zip(&path, &[("X-1.json", GOOD), ("X-2.json", &GOOD.repeat(50))]);
        let bytes = std::fs::read(&path).unwrap();
        for cut in [bytes.len() / 2, bytes.len() - 10, 0] {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            assert!(read_zip(&path, "t", &mut |_| {}).is_err(), "cut at {cut}");
        }
        std::fs::write(&path, b"PK\x03\x04 garbage").unwrap();
        assert!(read_zip(&path, "t", &mut |_| {}).is_err());
        assert!(read_zip(&dir.path().join("missing.zip"), "t", &mut |_| {}).is_err());
        // A flipped byte inside compressed data: the CRC or inflate fails.
        let mut flipped = bytes.clone();
        let mid = 30 + "X-1.json".len() + 5;
        flipped[mid] ^= 0xff;
        std::fs::write(&path, &flipped).unwrap();
        assert!(read_zip(&path, "t", &mut |_| {}).is_err());
    }

    #[test]
    fn entries_over_the_cap_and_lying_sizes_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("all.zip");
        let big = vec![b' '; 64 * 1024];
        write_zip(&path, &[("big.json", &big), ("X-1.json", GOOD)]);
        let mut got = Vec::new();
        let stats = read_zip_capped(&path, "t", 4096, &mut |a| got.push(a)).unwrap();
        assert_eq!((stats.records, stats.skipped), (1, 1));
        assert!(stats.warnings[0].location.ends_with("!big.json"));

        // A zip bomb that claims its entry inflates to 10 bytes: patch the
        // uncompressed size in the local header (offset 22) and the central
        // directory header (offset 24).
        let mut bytes = std::fs::read(&path).unwrap();
        for (sig, off) in [(b"PK\x03\x04", 22), (b"PK\x01\x02", 24)] {
            let at = bytes.windows(4).position(|w| w == sig).unwrap() + off;
            bytes[at..at + 4].copy_from_slice(&10u32.to_le_bytes());
        }
        std::fs::write(&path, &bytes).unwrap();
        let mut got = Vec::new();
        let stats = read_zip_capped(&path, "t", 4096, &mut |a| got.push(a)).unwrap();
        assert_eq!(
            (stats.records, stats.skipped),
            (1, 1),
            "{:?}",
            stats.warnings
        );
        assert!(
            stats.warnings[0].message.contains("inflates past"),
            "{:?}",
            stats.warnings
        );
    }

    #[test]
    fn entry_over_the_real_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("all.zip");
        let big = vec![b' '; MAX_RECORD_BYTES as usize + 1];
        write_zip(&path, &[("big.json", &big)]);
        let stats = read_zip(&path, "t", &mut |_| {}).unwrap();
        assert_eq!((stats.records, stats.skipped), (0, 1));
    }

    #[test]
    fn hostile_records_are_errors_not_panics() {
        let parse = |b: &[u8]| parse_record(b, "t", "rec.json");
        let deep = format!(
            r#"{{"id":"X","database_specific":{}{}}}"#,
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        let many_versions = format!(
            r#"{{"id":"X","affected":[{{"package":{{"ecosystem":"PyPI","name":"a"}},"versions":[{}"1"]}}]}}"#,
            "\"1\",".repeat(MAX_VERSIONS)
        );
        let cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"null".to_vec(),
            b"[]".to_vec(),
            b"{\"id\":".to_vec(),
            b"{\"id\":\"\"}".to_vec(),
            b"{\"id\":\"a b\"}".to_vec(),
            b"{\"id\":\"X\",\"id\":\"Y\"}".to_vec(),
            format!(r#"{{"id":"{}"}}"#, "A".repeat(1000)).into_bytes(),
            b"{\"id\":\"X\xff\"}".to_vec(),
            b"{\"id\":\"X\",\"aliases\":\"CVE-1\"}".to_vec(),
            b"{\"id\":\"X\",\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":\"a\"},\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\",\"fixed\":\"1\"}]}]}]}".to_vec(),
            b"{\"id\":\"X\",\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":\"a\"},\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{}]}]}]}".to_vec(),
            b"{\"id\":\"X\",\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":\"a\"},\"ranges\":[{\"type\":\"RPM\",\"events\":[{\"introduced\":\"0\"}]}]}]}".to_vec(),
            deep.into_bytes(),
            many_versions.into_bytes(),
            vec![b' '; MAX_RECORD_BYTES as usize + 1],
        ];
        for c in &cases {
            let e = parse(c).unwrap_err().to_string();
            assert!(e.starts_with("rec.json"), "{e}");
        }
    }

    #[test]
    fn odd_but_valid_shapes_are_kept() {
        let huge = "é".repeat(MAX_DETAILS); // twice the cap, in two-byte chars
        let doc = serde_json::json!({
            "id": "X-1",
            "aliases": null,
            "details": huge,
            "severity": [{"type": "CVSS_V3", "score": "not a vector"}],
            "database_specific": {"severity": {"nested": 1}, "cwe_ids": "CWE-1"},
            "affected": [
                {"ranges": [{"type": "GIT", "repo": "r", "events": [{"introduced": "0"}]}]},
                {"package": {"ecosystem": "npm", "name": "a"},
                 "ecosystem_specific": {"severity": "HIGH"},
                 "database_specific": {"severity": 7},
                 "versions": null}
            ],
            "future_field": {"anything": [1, 2, 3]}
        });
        let adv = parse_record(doc.to_string().as_bytes(), "t", "x").unwrap();
        assert!(adv.aliases.is_empty() && adv.cwes.is_empty());
        let details = adv.details.unwrap();
        assert_eq!(details.len(), MAX_DETAILS);
        assert!(huge.starts_with(&details));
        assert_eq!(adv.scores[0].base_score, None);
        // The package-less GIT entry is dropped; the other keeps its label.
        assert_eq!(adv.affected.len(), 1);
        assert_eq!(adv.affected[0].severity, Some(Severity::High));
        assert_eq!(adv.severity_label, Some(Severity::High));
    }

    #[test]
    fn affected_level_severity() {
        // OSV 1.5+: severity per package, not per record (the two are exclusive).
        let v3 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
        let doc = serde_json::json!({
            "id": "X-1",
            "affected": [
                {"package": {"ecosystem": "npm", "name": "a"},
                 "severity": [{"type": "CVSS_V3", "score": v3}]},
                {"package": {"ecosystem": "npm", "name": "b"},
                 "severity": [{"type": "CVSS_V3", "score": v3}, {"type": "Ubuntu", "score": "low"}]}
            ]
        });
        let adv = parse_record(doc.to_string().as_bytes(), "t", "x").unwrap();
        assert_eq!(adv.scores.len(), 2);
        assert_eq!(adv.scores[0].base_score, Some(cvss3_spec_score(v3)));
        assert_eq!(adv.affected[0].severity, Some(Severity::Critical));
        // A stated label outranks a computed score.
        assert_eq!(adv.affected[1].severity, Some(Severity::Low));
        assert_eq!(adv.severity_label, Some(Severity::Low));
    }

    #[cfg(unix)]
    #[test]
    fn read_dir_never_follows_symlinks() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("OUT-1.json"), GOOD).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/X-1.json"), GOOD).unwrap();
        std::fs::write(dir.path().join("sub/broken.json"), b"{").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("escape")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("OUT-1.json"), dir.path().join("l.json"))
            .unwrap();
        let mut got = Vec::new();
        let stats = read_dir(dir.path(), "t", &mut |a| got.push(a)).unwrap();
        assert_eq!((stats.records, stats.skipped), (1, 1));
        assert_eq!(stats.warnings.len(), 3, "{:?}", stats.warnings);
        assert!(
            stats
                .warnings
                .iter()
                .any(|w| w.location.ends_with("broken.json"))
        );
        assert_eq!(
            stats
                .warnings
                .iter()
                .filter(|w| w.message.contains("symlink"))
                .count(),
            2
        );
        assert!(read_dir(&dir.path().join("notes.txt"), "t", &mut |_| {}).is_err());
    }
}
