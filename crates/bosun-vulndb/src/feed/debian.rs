//! The Debian security tracker's JSON dump
//! (`https://security-tracker.debian.org/tracker/data/json`):
//! source package -> issue id -> `{description, releases: {codename:
//! {status, fixed_version, urgency, nodsa, nodsa_reason, repositories}}}`.
//!
//! Unlike the DSA/DLA lists it states the unfixed, no-dsa and not-affected
//! cases too. The dump is walked as a stream: no tree of it is built.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{FeedError, LaxStr, Stats, is_cve_id, truncate};
use crate::model::{
    Advisory, Affected, AffectedState, Event, MAX_DETAILS, Range, RangeKind, Severity,
};

/// The releases `bosun` matches against: codename -> `Debian:N` number.
pub const DEFAULT_RELEASES: &[(&str, &str)] = &[
    ("bullseye", "11"),
    ("bookworm", "12"),
    ("trixie", "13"),
    ("forky", "14"),
];

/// The real dump is some tens of MB.
pub const MAX_BYTES: usize = 1024 * 1024 * 1024;
/// A tracker issue lists a handful of releases (every suite since the
/// issue was filed); more than this is not the tracker.
const MAX_RELEASES_PER_ISSUE: usize = 64;
const MAX_NAME: usize = 256;

#[derive(Deserialize)]
struct RawIssue {
    description: Option<LaxStr>,
    releases: Option<RawReleases>,
}

#[derive(Deserialize)]
struct RawRelease {
    status: Option<LaxStr>,
    fixed_version: Option<LaxStr>,
    urgency: Option<LaxStr>,
    nodsa: Option<LaxStr>,
    nodsa_reason: Option<LaxStr>,
}

/// `releases` is an object, or `[]` when the issue names no release (the
/// dump's writer turns an empty mapping into an empty list).
#[derive(Default)]
struct RawReleases(Vec<(String, RawRelease)>);

impl<'de> Deserialize<'de> for RawReleases {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawReleases;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of releases")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawReleases, A::Error> {
                let mut out = Vec::new();
                while let Some((name, rel)) = map.next_entry::<String, RawRelease>()? {
                    if out.len() == MAX_RELEASES_PER_ISSUE {
                        return Err(de::Error::custom(format_args!(
                            "more than {MAX_RELEASES_PER_ISSUE} releases"
                        )));
                    }
                    out.push((name, rel));
                }
                Ok(RawReleases(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawReleases, A::Error> {
                if seq.next_element::<IgnoredAny>()?.is_some() {
                    return Err(de::Error::custom("releases is a non-empty list"));
                }
                Ok(RawReleases::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// What the walk accumulates.
struct State<'a> {
    source: &'a str,
    releases: &'a [(&'a str, &'a str)],
    advisories: BTreeMap<String, Advisory>,
    stats: Stats,
}

/// Parses the dump into one advisory per issue id that touches one of
/// `releases` (codename -> number, e.g. [`DEFAULT_RELEASES`]). Issues that
/// touch none of them are left out. `TEMP-` ids (issues without a CVE yet)
/// are kept: they are the tracker's real ids. An entry the tracker could
/// not have written (unknown status, resolved without a version) is skipped
/// with a warning; a dump that is not JSON of this shape is an error.
pub fn parse_tracker(
    bytes: &[u8],
    source: &str,
    releases: &[(&str, &str)],
) -> Result<(Vec<Advisory>, Stats), FeedError> {
    const WHERE: &str = "Debian tracker JSON";
    if bytes.len() > MAX_BYTES {
        return Err(FeedError::TooLarge {
            location: WHERE.into(),
            limit: MAX_BYTES as u64,
        });
    }
    let mut state = State {
        source,
        releases,
        advisories: BTreeMap::new(),
        stats: Stats::default(),
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    Packages(&mut state)
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| FeedError::invalid(WHERE, e))?;
    let mut stats = state.stats;
    let advisories: Vec<Advisory> = state
        .advisories
        .into_values()
        .filter(|a| !a.affected.is_empty())
        .collect();
    stats.records = advisories.len();
    Ok((advisories, stats))
}

/// The top level: package -> issues.
struct Packages<'s, 'a>(&'s mut State<'a>);

impl<'de> DeserializeSeed<'de> for Packages<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Packages<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of source packages")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(package) = map.next_key::<String>()? {
            map.next_value_seed(Issues {
                state: &mut *self.0,
                package: &package,
            })?;
        }
        Ok(())
    }
}

/// One package's issues: issue id -> issue.
struct Issues<'s, 'a, 'p> {
    state: &'s mut State<'a>,
    package: &'p str,
}

impl<'de> DeserializeSeed<'de> for Issues<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Issues<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object of issues for package {:?}", self.package)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(id) = map.next_key::<String>()? {
            let issue: RawIssue = map.next_value().map_err(|e| {
                de::Error::custom(format_args!("{}/{}: {e}", self.package, id.escape_debug()))
            })?;
            self.state.add(self.package, &id, issue);
        }
        Ok(())
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_NAME && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Debian urgency -> severity. `**`/`*` mark an urgency taken from NVD;
/// `not yet assigned` and `end-of-life` state none.
fn urgency_severity(urgency: &str) -> Option<Severity> {
    match urgency {
        "unimportant" => Some(Severity::Negligible),
        "low" => Some(Severity::Low),
        "medium" => Some(Severity::Medium),
        "high" => Some(Severity::High),
        _ => None,
    }
}

impl State<'_> {
    fn add(&mut self, package: &str, id: &str, issue: RawIssue) {
        let at = || {
            format!(
                "Debian tracker {}/{}",
                package.escape_debug(),
                id.escape_debug()
            )
        };
        if !is_name(package) {
            self.stats.skip(at(), "not a package name");
            return;
        }
        if !(is_cve_id(id) || (id.starts_with("TEMP-") && is_name(id))) {
            self.stats.skip(at(), "not a CVE or TEMP id");
            return;
        }
        let mut affected = Vec::new();
        let mut raw_releases = issue.releases.unwrap_or_default().0;
        for &(codename, number) in self.releases {
            let Some(i) = raw_releases.iter().position(|(name, _)| name == codename) else {
                continue;
            };
            let (_, rel) = raw_releases.swap_remove(i);
            match convert_release(package, number, rel) {
                Ok(a) => affected.push(a),
                Err(m) => self.stats.skip(format!("{}/{codename}", at()), m),
            }
        }
        if affected.is_empty() {
            return;
        }
        let adv = self
            .advisories
            .entry(id.to_string())
            .or_insert_with(|| Advisory {
                id: id.to_string(),
                aliases: Vec::new(),
                related: Vec::new(),
                summary: None,
                details: None,
                published: None,
                modified: None,
                withdrawn: None,
                scores: Vec::new(),
                severity_label: None,
                references: vec![format!("https://security-tracker.debian.org/tracker/{id}")],
                cwes: Vec::new(),
                source: self.source.to_string(),
                affected: Vec::new(),
            });
        if adv.details.is_none() {
            adv.details = issue
                .description
                .and_then(LaxStr::into_string)
                .filter(|d| !d.trim().is_empty())
                .map(|d| truncate(d, MAX_DETAILS));
        }
        for a in &affected {
            adv.severity_label = adv.severity_label.max(a.severity);
        }
        adv.affected.extend(affected);
    }
}

fn convert_release(package: &str, number: &str, rel: RawRelease) -> Result<Affected, String> {
    fn text(v: &Option<LaxStr>) -> &str {
        v.as_ref()
            .and_then(LaxStr::as_str)
            .map(str::trim)
            .unwrap_or("")
    }
    let urgency = text(&rel.urgency).trim_end_matches('*').trim();
    let nodsa = text(&rel.nodsa);
    let nodsa_reason = text(&rel.nodsa_reason);
    let fixed = text(&rel.fixed_version);
    let every_version = || {
        vec![Range {
            kind: RangeKind::Ecosystem,
            events: vec![Event::Introduced("0".into())],
        }]
    };
    let (state, ranges, note) = match text(&rel.status) {
        "resolved" if fixed == "0" => (
            AffectedState::NotAffected,
            Vec::new(),
            "resolved: not affected".to_string(),
        ),
        "resolved" => {
            if fixed.is_empty() {
                return Err("resolved without a fixed_version".into());
            }
            bosun_version::dpkg::Version::from_str(fixed)
                .map_err(|e| format!("fixed_version {fixed:?}: {e}"))?;
            let ranges = vec![Range {
                kind: RangeKind::Ecosystem,
                events: vec![
                    Event::Introduced("0".into()),
                    Event::Fixed(fixed.to_string()),
                ],
            }];
            (
                AffectedState::Affected,
                ranges,
                format!("resolved in {fixed}"),
            )
        }
        "open" if !nodsa.is_empty() => {
            // `nodsa_reason` is the tag (`postponed`, `ignored`); empty for plain no-dsa.
            let tag = if nodsa_reason.is_empty() {
                "no-dsa"
            } else {
                nodsa_reason
            };
            (
                AffectedState::WontFix,
                every_version(),
                format!("{tag}: {nodsa}"),
            )
        }
        "open" if urgency == "end-of-life" => (
            AffectedState::WontFix,
            every_version(),
            "end-of-life".to_string(),
        ),
        "open" => (AffectedState::Unfixed, every_version(), "open".to_string()),
        "undetermined" => (
            AffectedState::Unfixed,
            every_version(),
            "undetermined".to_string(),
        ),
        "not-affected" => (
            AffectedState::NotAffected,
            Vec::new(),
            "not-affected".to_string(),
        ),
        other => return Err(format!("unknown status {other:?}")),
    };
    Ok(Affected {
        ecosystem: format!("Debian:{number}"),
        name: package.to_string(),
        purl: Some(format!("pkg:deb/debian/{package}?arch=source")),
        ranges,
        versions: Vec::new(),
        state,
        state_note: Some(truncate(note, MAX_DETAILS)),
        severity: urgency_severity(urgency),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn sample(name: &str) -> Option<(Vec<u8>, Value)> {
        let p = bosun_testutil::shared(&format!("vulndata/debian/tracker-json-samples/{name}"))?;
        let bytes = std::fs::read(p).unwrap();
        let raw = serde_json::from_slice(&bytes).unwrap();
        Some((bytes, raw))
    }

    fn find<'a>(advs: &'a [Advisory], id: &str, eco: &str, name: &str) -> &'a Affected {
        advs.iter()
            .find(|a| a.id == id)
            .unwrap_or_else(|| panic!("{id} missing"))
            .affected
            .iter()
            .find(|a| a.ecosystem == eco && a.name == name)
            .unwrap_or_else(|| panic!("{id} {eco} {name} missing"))
    }

    fn every_version() -> Vec<Range> {
        vec![Range {
            kind: RangeKind::Ecosystem,
            events: vec![Event::Introduced("0".into())],
        }]
    }

    #[test]
    fn osvdev_mock_states_match_the_raw_json() {
        let Some((bytes, raw)) = sample("osvdev-debian_security_tracker_mock.json") else {
            return;
        };
        let (advs, stats) = parse_tracker(&bytes, "debian-tracker", DEFAULT_RELEASES).unwrap();
        assert_eq!(
            (stats.skipped, stats.warnings.len()),
            (0, 0),
            "{:?}",
            stats.warnings
        );
        assert_eq!(stats.records, advs.len());

        // Every (package, issue, default release) in the raw JSON is an
        // Affected whose state follows the raw status and fixed_version.
        let mut seen = 0;
        for (pkg, issues) in raw.as_object().unwrap() {
            for (id, issue) in issues.as_object().unwrap() {
                for &(codename, number) in DEFAULT_RELEASES {
                    let Some(rel) = issue["releases"].get(codename) else {
                        continue;
                    };
                    seen += 1;
                    let a = find(&advs, id, &format!("Debian:{number}"), pkg);
                    match (
                        rel["status"].as_str().unwrap(),
                        rel["fixed_version"].as_str(),
                    ) {
                        ("resolved", Some("0")) => assert_eq!(a.state, AffectedState::NotAffected),
                        ("resolved", Some(v)) => {
                            assert_eq!(a.state, AffectedState::Affected);
                            assert_eq!(
                                a.ranges[0].events,
                                [Event::Introduced("0".into()), Event::Fixed(v.into())]
                            );
                        }
                        ("open", None) => {
                            assert_eq!(a.state, AffectedState::Unfixed);
                            assert_eq!(a.ranges, every_version());
                        }
                        other => panic!("sample has {other:?}"),
                    }
                    let urgency = rel["urgency"].as_str().unwrap();
                    let want = match urgency {
                        "unimportant" => Some(Severity::Negligible),
                        "not yet assigned" => None,
                        u => panic!("sample urgency {u}"),
                    };
                    assert_eq!(a.severity, want, "{id} {codename}");
                }
            }
        }
        assert_eq!(seen, advs.iter().map(|a| a.affected.len()).sum::<usize>());

        // Facts read from the file: apparmor CVE-2016-1585 is open (and
        // unimportant) in bookworm and bullseye, fixed in trixie by 3.0.12-1.
        let open = find(&advs, "CVE-2016-1585", "Debian:12", "apparmor");
        assert_eq!(open.state, AffectedState::Unfixed);
        assert_eq!(open.state_note.as_deref(), Some("open"));
        assert_eq!(open.severity, Some(Severity::Negligible));
        let fixed = find(&advs, "CVE-2016-1585", "Debian:13", "apparmor");
        assert_eq!(fixed.ranges[0].events[1], Event::Fixed("3.0.12-1".into()));
        let adv = advs.iter().find(|a| a.id == "CVE-2016-1585").unwrap();
        assert_eq!(
            adv.details.as_deref(),
            raw["apparmor"]["CVE-2016-1585"]["description"].as_str()
        );
        assert_eq!(adv.source, "debian-tracker");
        assert_eq!(adv.severity_label, Some(Severity::Negligible));
        // CVE-2014-1424 was never in Debian's apparmor: fixed_version 0.
        let na = find(&advs, "CVE-2014-1424", "Debian:11", "apparmor");
        assert_eq!(na.state, AffectedState::NotAffected);
        assert!(na.ranges.is_empty());
    }

    #[test]
    fn vunnel_sample_with_old_releases() {
        let Some((bytes, raw)) = sample("vunnel-debian.json") else {
            return;
        };
        // The sample's end-of-life entries are in stretch and buster.
        let releases = [("stretch", "9"), ("buster", "10"), ("bookworm", "12")];
        let (advs, stats) = parse_tracker(&bytes, "t", &releases).unwrap();
        assert_eq!(stats.skipped, 0, "{:?}", stats.warnings);
        let mut eol = 0;
        for (pkg, issues) in raw.as_object().unwrap() {
            for (id, issue) in issues.as_object().unwrap() {
                let Some(rels) = issue["releases"].as_object() else {
                    // `releases: []`: nothing to say about any release.
                    assert!(advs.iter().all(|a| &a.id != id));
                    continue;
                };
                for (codename, number) in releases {
                    let Some(rel) = rels.get(codename) else {
                        continue;
                    };
                    let a = find(&advs, id, &format!("Debian:{number}"), pkg);
                    let urgency = rel["urgency"].as_str().unwrap();
                    if rel["status"] == "open" && urgency == "end-of-life" {
                        eol += 1;
                        assert_eq!(a.state, AffectedState::WontFix);
                        assert_eq!(a.state_note.as_deref(), Some("end-of-life"));
                        assert_eq!(a.severity, None);
                    }
                    if urgency.ends_with("**") {
                        let plain = urgency.trim_end_matches('*');
                        assert_eq!(a.severity, Severity::parse_label(plain), "{id}");
                    }
                }
            }
        }
        assert_eq!(eol, 2);
    }

    #[test]
    fn nodsa_undetermined_temp_and_bad_entries() {
        let doc = br#"{
          "bash": {
            "CVE-2026-2000": {"description": "d", "releases": {
              "trixie": {"status": "open", "urgency": "low", "nodsa": "Minor issue", "nodsa_reason": ""},
              "bookworm": {"status": "open", "urgency": "unimportant", "nodsa": "Minor issue", "nodsa_reason": "postponed"},
              "bullseye": {"status": "undetermined", "urgency": "not yet assigned"},
              "forky": {"status": "resolved", "fixed_version": "5.2-1", "urgency": "high**"},
              "sid": {"status": "resolved", "fixed_version": "5.2-1"}}},
            "TEMP-0000000-ABCDEF": {"releases": {"bookworm": {"status": "open", "urgency": 3}}},
            "CVE-2026-2001": {"releases": {
              "bookworm": {"status": "fixed"},
              "trixie": {"status": "resolved"},
              "forky": {"status": "resolved", "fixed_version": "not a version"},
              "bullseye": {"status": ["open"]}}},
            "not-an-id": {"releases": {"bookworm": {"status": "open"}}}
          },
          "zsh": {"CVE-2026-2000": {"releases": {"bookworm": {"status": "resolved", "fixed_version": "0"}}}}
        }"#;
        let (advs, stats) = parse_tracker(doc, "t", DEFAULT_RELEASES).unwrap();
        let ids: Vec<&str> = advs.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["CVE-2026-2000", "TEMP-0000000-ABCDEF"]);
        assert_eq!(stats.records, 2);
        // four bad releases of CVE-2026-2001, and `not-an-id`
        assert_eq!(stats.skipped, 5, "{:?}", stats.warnings);
        assert!(
            stats
                .warnings
                .iter()
                .any(|w| w.location.ends_with("bash/CVE-2026-2001/forky"))
        );

        let a = find(&advs, "CVE-2026-2000", "Debian:13", "bash");
        assert_eq!(a.state, AffectedState::WontFix);
        assert_eq!(a.state_note.as_deref(), Some("no-dsa: Minor issue"));
        assert_eq!(a.severity, Some(Severity::Low));
        let a = find(&advs, "CVE-2026-2000", "Debian:12", "bash");
        assert_eq!(a.state_note.as_deref(), Some("postponed: Minor issue"));
        assert_eq!(a.severity, Some(Severity::Negligible));
        let a = find(&advs, "CVE-2026-2000", "Debian:11", "bash");
        assert_eq!(
            (a.state, a.state_note.as_deref()),
            (AffectedState::Unfixed, Some("undetermined"))
        );
        assert_eq!(a.severity, None);
        let a = find(&advs, "CVE-2026-2000", "Debian:14", "bash");
        assert_eq!(a.severity, Some(Severity::High));
        assert_eq!(a.purl.as_deref(), Some("pkg:deb/debian/bash?arch=source"));
        // One advisory per issue collects every package.
        let z = find(&advs, "CVE-2026-2000", "Debian:12", "zsh");
        assert_eq!(z.state, AffectedState::NotAffected);
        let adv = &advs[0];
        assert_eq!(adv.affected.len(), 5);
        assert_eq!(adv.severity_label, Some(Severity::High));
        assert_eq!(
            adv.references,
            ["https://security-tracker.debian.org/tracker/CVE-2026-2000"]
        );
        // A non-string urgency states no severity but keeps the entry.
        let t = find(&advs, "TEMP-0000000-ABCDEF", "Debian:12", "bash");
        assert_eq!((t.state, t.severity), (AffectedState::Unfixed, None));
    }

    #[test]
    fn hostile_dumps_are_errors() {
        let nest = |n: usize| format!("{}{}", "{\"a\":".repeat(n), "}".repeat(n));
        let cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"[]".to_vec(),
            b"{\"bash\": []}".to_vec(),
            b"{\"bash\": {\"CVE-2026-1\": []}}".to_vec(),
            b"{\"bash\": {\"CVE-2026-1\": {\"releases\": [1]}}}".to_vec(),
            b"{\"bash\": {\"CVE-2026-1\": {\"releases\": {\"sid\": 1}}}}".to_vec(),
            b"{\"bash\": {\"CVE-2026-1\": {\"releases\": {}}}".to_vec(),
            b"{\"bash\": {}} trailing".to_vec(),
            b"{\"b\xffsh\": {}}".to_vec(),
            nest(10_000).into_bytes(),
        ];
        for c in &cases {
            let e = parse_tracker(c, "t", DEFAULT_RELEASES);
            assert!(e.is_err(), "{:?}", String::from_utf8_lossy(c));
        }
        let e = parse_tracker(b"{\"bash\": {\"CVE-2026-1\": []}}", "t", DEFAULT_RELEASES)
            .unwrap_err()
            .to_string();
        assert!(e.contains("bash/CVE-2026-1"), "{e}");
        let many = (0..100)
            .map(|i| format!("\"r{i}\": {{\"status\": \"open\"}}"))
            .collect::<Vec<_>>()
            .join(",");
        let doc = format!("{{\"bash\": {{\"CVE-2026-1\": {{\"releases\": {{{many}}}}}}}}}");
        assert!(parse_tracker(doc.as_bytes(), "t", DEFAULT_RELEASES).is_err());
        // Huge descriptions are cut.
        let doc = format!(
            "{{\"bash\": {{\"CVE-2026-0001\": {{\"description\": \"{}\", \"releases\": {{\"bookworm\": {{\"status\": \"open\"}}}}}}}}}}",
            "x".repeat(MAX_DETAILS * 4)
        );
        let (advs, _) = parse_tracker(doc.as_bytes(), "t", DEFAULT_RELEASES).unwrap();
        assert_eq!(advs[0].details.as_ref().map(String::len), Some(MAX_DETAILS));
    }
}
