//! Packages of an SBOM against the database.
//!
//! Each package becomes one lookup key: OS packages by their *source*
//! package in the distro release's ecosystem (Debian and Alpine publish fixes
//! per source package, so binary names would both miss and mis-version),
//! language packages by their purl ecosystem, Go binaries' standard library
//! by the toolchain version. Entries are compiled (versions parsed) once per
//! key and cached, so a million lookups cost hash probes, not SQL.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use bosun_core::{Distro, Package, PackageKind, PackageMetadata, RelationshipKind};
use bosun_sbom::Sbom;
use bosun_version::{AnyVersion, Scheme, osv};
use bosun_vulndb::model::{ecosystem_base, normalize_name};
use bosun_vulndb::store::AdvisoryKey;
use bosun_vulndb::{Advisory, Affected, AffectedState, Db, DbError, Severity};

use crate::finding::{Finding, MatchDetail, MatchKind, Notice, PackageRef, Status};

/// What to look up for one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub kind: MatchKind,
    /// Ecosystem as stored (`Debian:12`, `PyPI`).
    pub ecosystem: String,
    /// Name as stored (normalised).
    pub name: String,
    pub version: String,
}

/// The lookup key of a package, or `None` when it cannot be matched (no
/// distro release for an OS package, no version, an unpinned main module).
pub fn query_for(pkg: &Package, distro: Option<&Distro>) -> Option<Query> {
    if pkg.version.is_empty() {
        return None;
    }
    let make = |kind, ecosystem: String, name: &str, version: &str| {
        if version.is_empty() || name.is_empty() {
            return None;
        }
        let name = normalize_name(ecosystem_base(&ecosystem), name);
        Some(Query {
            kind,
            ecosystem,
            name,
            version: version.to_string(),
        })
    };
    let exact_or_source = |name: &str| {
        if name == pkg.name {
            MatchKind::ExactPackage
        } else {
            MatchKind::SourcePackage
        }
    };
    match (&pkg.metadata, pkg.kind) {
        (PackageMetadata::Dpkg(m), PackageKind::Deb) => {
            let eco = os_ecosystem(distro?)?;
            let (name, version) = if m.source.is_empty() {
                (pkg.name.as_str(), pkg.version.as_str())
            } else {
                (
                    m.source.as_str(),
                    if m.source_version.is_empty() {
                        pkg.version.as_str()
                    } else {
                        m.source_version.as_str()
                    },
                )
            };
            make(exact_or_source(name), eco, name, version)
        }
        (PackageMetadata::Apk(m), PackageKind::Apk) => {
            let eco = os_ecosystem(distro?)?;
            let name = if m.origin.is_empty() {
                pkg.name.as_str()
            } else {
                m.origin.as_str()
            };
            // The origin shares its version with every subpackage built from it.
            make(exact_or_source(name), eco, name, &pkg.version)
        }
        (PackageMetadata::Rpm(m), PackageKind::Rpm) => {
            let eco = os_ecosystem(distro?)?;
            let (name, version) = if m.source_name.is_empty() {
                (pkg.name.as_str(), pkg.version.clone())
            } else {
                let v = match m.epoch {
                    Some(e) if e > 0 && !m.source_version.contains(':') => {
                        format!("{e}:{}", m.source_version)
                    }
                    _ => m.source_version.clone(),
                };
                (m.source_name.as_str(), v)
            };
            make(exact_or_source(name), eco, name, &version)
        }
        (PackageMetadata::Go(m), PackageKind::GoModule) => {
            if m.role == bosun_core::GoModuleRole::Stdlib || pkg.name == "stdlib" {
                let v = go_toolchain_semver(&pkg.version)?;
                return make(MatchKind::GoStdlib, "Go".into(), "stdlib", &v);
            }
            if pkg.version == "(devel)" {
                return None;
            }
            make(
                MatchKind::ExactPackage,
                "Go".into(),
                &pkg.name,
                &pkg.version,
            )
        }
        (_, kind) => {
            let eco = language_ecosystem(kind)?;
            let name = match kind {
                PackageKind::Java => maven_name(&pkg.purl)?,
                PackageKind::Composer => purl_name_with_namespace(&pkg.purl, "composer")?,
                PackageKind::Npm => pkg.name.clone(),
                _ => pkg.name.clone(),
            };
            make(MatchKind::ExactPackage, eco.into(), &name, &pkg.version)
        }
    }
}

/// The OSV ecosystem of a distro release: `Debian:12`, `Ubuntu:22.04`,
/// `Alpine:v3.18`, `AlmaLinux:9`, `Rocky Linux:9`.
pub fn os_ecosystem(d: &Distro) -> Option<String> {
    let v = d.version_id.as_deref()?;
    let major = v.split('.').next()?;
    let major_minor = || v.split('.').take(2).collect::<Vec<_>>().join(".");
    Some(match d.id.as_str() {
        "debian" => format!("Debian:{major}"),
        "ubuntu" => format!("Ubuntu:{}", major_minor()),
        "alpine" => format!("Alpine:v{}", major_minor()),
        "almalinux" => format!("AlmaLinux:{major}"),
        "rocky" => format!("Rocky Linux:{major}"),
        "wolfi" => "Wolfi".into(),
        "chainguard" => "Chainguard".into(),
        _ => return None,
    })
}

fn language_ecosystem(kind: PackageKind) -> Option<&'static str> {
    Some(match kind {
        PackageKind::Python => "PyPI",
        PackageKind::Npm => "npm",
        PackageKind::GoModule => "Go",
        PackageKind::RustCrate => "crates.io",
        PackageKind::Java => "Maven",
        PackageKind::Gem => "RubyGems",
        PackageKind::Composer => "Packagist",
        PackageKind::DotNet => "NuGet",
        PackageKind::Deb | PackageKind::Rpm | PackageKind::Apk => return None,
    })
}

/// `group:artifact` from `pkg:maven/group/artifact@version`: OSV's Maven
/// names. Without a group the package cannot be matched reliably.
fn maven_name(purl: &str) -> Option<String> {
    let rest = purl.strip_prefix("pkg:maven/")?;
    let path = rest.split(['@', '?', '#']).next()?;
    let (group, artifact) = path.rsplit_once('/')?;
    if group.is_empty() || artifact.is_empty() {
        return None;
    }
    Some(format!(
        "{}:{}",
        percent_decode(group).replace('/', "."),
        percent_decode(artifact)
    ))
}

/// `vendor/name` from `pkg:composer/vendor/name@version`.
fn purl_name_with_namespace(purl: &str, ty: &str) -> Option<String> {
    let rest = purl
        .strip_prefix("pkg:")?
        .strip_prefix(ty)?
        .strip_prefix('/')?;
    let path = rest.split(['@', '?', '#']).next()?;
    Some(percent_decode(path))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `go1.19` -> `1.19.0`, `go1.21rc2` -> `1.21.0-rc.2`, `go1.20.3` -> `1.20.3`:
/// the SemVer spelling Go's vulnerability database uses for `stdlib`.
pub fn go_toolchain_semver(v: &str) -> Option<String> {
    let v = v.strip_prefix("go").unwrap_or(v);
    // Strip experiment suffixes such as `go1.22.1 X:boringcrypto`.
    let v = v.split([' ', '+']).next()?;
    let (core, pre) = match v.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&v[..i], Some(&v[i..])),
        None => (v, None),
    };
    let mut parts: Vec<&str> = core.split('.').collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()))
        || parts.len() > 3
    {
        return None;
    }
    while parts.len() < 3 {
        parts.push("0");
    }
    let mut out = parts.join(".");
    if let Some(pre) = pre {
        let split = pre.find(|c: char| c.is_ascii_digit()).unwrap_or(pre.len());
        let (word, num) = pre.split_at(split);
        out.push('-');
        out.push_str(word);
        if !num.is_empty() {
            out.push('.');
            out.push_str(num);
        }
    }
    Some(out)
}

/// One affected entry ready to evaluate: every version it names is parsed
/// once, here, and kept sorted, so a lookup is a few comparisons and binary
/// searches however long the advisory's version lists are.
struct Compiled {
    key: AdvisoryKey,
    affected: Affected,
    /// Evaluable ranges (their `fixed` versions sorted ascending).
    ranges: Vec<osv::Range>,
    /// Explicit `versions` that parse, sorted.
    versions: Vec<AnyVersion>,
    /// Explicit versions that do not parse, matched by string equality
    /// (only an unparsable installed version can equal one).
    unparsed: Vec<String>,
    scheme: Option<Scheme>,
}

fn cmp_versions(a: &AnyVersion, b: &AnyVersion) -> std::cmp::Ordering {
    a.partial_cmp_same(b).unwrap_or(std::cmp::Ordering::Equal)
}

impl Compiled {
    fn new(key: AdvisoryKey, affected: Affected, ecosystem: &str) -> Compiled {
        let c = affected.compile(ecosystem);
        // A range with a version its own scheme rejects cannot be
        // evaluated; the advisory's other ranges still are.
        for e in &c.rejected {
            tracing::debug!(ecosystem, name = %affected.name, "skipping range: {e}");
        }
        let mut versions = Vec::new();
        let mut unparsed = Vec::new();
        for v in &affected.versions {
            match c.scheme.map(|s| AnyVersion::parse(s, v)) {
                Some(Ok(p)) => versions.push(p),
                _ => unparsed.push(v.clone()),
            }
        }
        versions.sort_by(cmp_versions);
        Compiled {
            key,
            affected,
            ranges: c.ranges,
            versions,
            unparsed,
            scheme: c.scheme,
        }
    }

    /// Whether `version` is affected. Allocates nothing: it runs for every
    /// entry of every looked-up package.
    fn affects(&self, raw: &str, version: Option<&AnyVersion>) -> bool {
        match self.affected.state {
            AffectedState::NotAffected => return false,
            AffectedState::Unfixed | AffectedState::WontFix if self.affected.ranges.is_empty() => {
                return true;
            }
            _ => {}
        }
        match version {
            Some(v) => {
                self.ranges.iter().any(|range| range.contains(v))
                    || self
                        .versions
                        .binary_search_by(|p| cmp_versions(p, v))
                        .is_ok()
            }
            None => self.unparsed.iter().any(|u| u == raw),
        }
    }

    /// [`Compiled::affects`] for every version at `p` (see [`Index`]).
    fn affects_point(&self, p: osv::Point<'_>) -> bool {
        match self.affected.state {
            AffectedState::NotAffected => return false,
            AffectedState::Unfixed | AffectedState::WontFix if self.affected.ranges.is_empty() => {
                return true;
            }
            _ => {}
        }
        self.ranges.iter().any(|range| range.contains_point(p))
            || matches!(p, osv::Point::At(v) if self.versions.binary_search_by(|x| cmp_versions(x, v)).is_ok())
    }

    /// The fixes for an affected `version`: per range containing it, the
    /// nearest fixed version above it.
    fn fixes(&self, version: Option<&AnyVersion>) -> Vec<String> {
        let Some(v) = version else { return Vec::new() };
        let mut fixes = BTreeSet::new();
        for range in &self.ranges {
            if range.contains(v)
                && let Some(f) = range
                    .fixed()
                    .find(|f| cmp_versions(f, v) == std::cmp::Ordering::Greater)
            {
                fixes.insert(f.to_string());
            }
        }
        fixes.into_iter().collect()
    }
}

/// A hit before merging: one advisory's entry matched one package.
struct Hit {
    key: AdvisoryKey,
    fixes: Vec<String>,
    state: AffectedState,
    state_note: Option<String>,
    severity: Option<Severity>,
    source: String,
}

/// The queried version, parsed at most once per scheme (an ecosystem's
/// SEMVER and ECOSYSTEM ranges may use different ones).
struct ParsedVersion<'q> {
    raw: &'q str,
    /// Inline: a package's entries use one scheme, rarely two.
    parsed: [Option<(Scheme, Option<AnyVersion>)>; 2],
    /// Further schemes, should a package mix more.
    more: Vec<(Scheme, Option<AnyVersion>)>,
}

impl<'q> ParsedVersion<'q> {
    fn new(raw: &'q str) -> Self {
        ParsedVersion {
            raw,
            parsed: [None, None],
            more: Vec::new(),
        }
    }

    fn get(&mut self, scheme: Option<Scheme>) -> Option<&AnyVersion> {
        let s = scheme?;
        let raw = self.raw;
        let parse = || (s, AnyVersion::parse(s, raw).ok());
        let slot = match self
            .parsed
            .iter()
            .position(|p| p.as_ref().is_some_and(|(k, _)| *k == s))
        {
            Some(i) => i,
            None => match self.parsed.iter().position(Option::is_none) {
                Some(i) => {
                    self.parsed[i] = Some(parse());
                    i
                }
                None => {
                    let i = match self.more.iter().position(|(k, _)| *k == s) {
                        Some(i) => i,
                        None => {
                            self.more.push(parse());
                            self.more.len() - 1
                        }
                    };
                    return self.more[i].1.as_ref();
                }
            },
        };
        self.parsed[slot].as_ref().and_then(|(_, v)| v.as_ref())
    }
}

/// A package's entries with, for the scheme most of them use, the affected
/// set precomputed per interval of the version line. Every version an entry
/// names cuts the line; between two cuts (and at each cut) every version
/// evaluates alike (`osv::Point`), so a lookup is one binary search over the
/// cuts instead of evaluating every entry: a package like `tensorflow` has
/// hundreds of advisories.
struct PackageEntries {
    entries: Vec<Compiled>,
    /// `entries[i].key`, contiguous: a lookup copies keys, not entries.
    keys: Vec<AdvisoryKey>,
    index: Option<Index>,
}

struct Index {
    scheme: Scheme,
    /// Sorted, distinct.
    cuts: Vec<AnyVersion>,
    /// `cuts[i].order_key()`: the search runs on these, comparing whole
    /// versions only among equal keys.
    keys: Vec<u64>,
    /// Slot -> set number. Slot 0 is below every cut, slot 2i+1 is
    /// `cuts[i]` itself, slot 2i+2 the interval just above it. Runs of
    /// slots with equal sets share one.
    slots: Vec<u32>,
    /// Set n is `members[bounds[n]..bounds[n + 1]]`: entry positions,
    /// ascending.
    bounds: Vec<u32>,
    members: Vec<u32>,
    /// Entries of another scheme, or none: evaluated one by one.
    direct: Vec<u32>,
}

impl PackageEntries {
    fn new(entries: Vec<Compiled>) -> PackageEntries {
        let mut counts: Vec<(Scheme, usize)> = Vec::new();
        for s in entries.iter().filter_map(|c| c.scheme) {
            match counts.iter_mut().find(|(k, _)| *k == s) {
                Some((_, n)) => *n += 1,
                None => counts.push((s, 1)),
            }
        }
        let index = counts
            .iter()
            .max_by_key(|(_, n)| *n)
            .map(|&(scheme, _)| Index::build(scheme, &entries));
        PackageEntries {
            keys: entries.iter().map(|c| c.key).collect(),
            entries,
            index,
        }
    }

    /// Positions of the entries affecting `raw`.
    fn affected(&self, raw: &str, versions: &mut ParsedVersion<'_>) -> Vec<usize> {
        let mut out = Vec::new();
        self.each_affected(raw, versions, |i| out.push(i));
        out
    }

    /// Calls `f` with the position of every entry affecting `raw`.
    fn each_affected(&self, raw: &str, versions: &mut ParsedVersion<'_>, mut f: impl FnMut(usize)) {
        let found = self.index.as_ref().and_then(|index| {
            let v = versions.get(Some(index.scheme))?;
            Some((index, index.set_of(v)))
        });
        let Some((index, set)) = found else {
            // No index, or a version its scheme cannot parse (only string
            // equality with explicit versions, or another scheme, can match).
            for (i, c) in self.entries.iter().enumerate() {
                if c.affects(raw, versions.get(c.scheme)) {
                    f(i);
                }
            }
            return;
        };
        for &e in set {
            f(e as usize);
        }
        for &e in &index.direct {
            let c = &self.entries[e as usize];
            if c.affects(raw, versions.get(c.scheme)) {
                f(e as usize);
            }
        }
    }
}

impl Index {
    /// The indexed entries affecting `v`.
    fn set_of(&self, v: &AnyVersion) -> &[u32] {
        let key = v.order_key();
        let lo = self.keys.partition_point(|&k| k < key);
        let ties = self.keys.get(lo..).unwrap_or(&[]);
        let hi = lo + ties.partition_point(|&k| k == key);
        let i = lo
            + self.cuts.get(lo..hi).map_or(0, |c| {
                c.partition_point(|c| cmp_versions(c, v) == std::cmp::Ordering::Less)
            });
        let at = i < hi
            && self
                .cuts
                .get(i)
                .is_some_and(|c| cmp_versions(c, v) == std::cmp::Ordering::Equal);
        let slot = if at { 2 * i + 1 } else { 2 * i };
        let set = self.slots.get(slot).map_or(0, |&s| s as usize);
        match (self.bounds.get(set), self.bounds.get(set + 1)) {
            (Some(&a), Some(&b)) => self.members.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Evaluates each entry only where its own answer can change (at and
    /// just above each version it names, and below them all), then sweeps
    /// the slots once, adding and removing entries: linear in the cuts and
    /// entries, where evaluating every entry at every slot was quadratic.
    fn build(scheme: Scheme, entries: &[Compiled]) -> Index {
        let (indexed, direct): (Vec<u32>, Vec<u32>) =
            (0..entries.len() as u32).partition(|&i| entries[i as usize].scheme == Some(scheme));
        let mut cuts: Vec<AnyVersion> = Vec::new();
        for &i in &indexed {
            let c = &entries[i as usize];
            cuts.extend(c.ranges.iter().flat_map(|r| r.boundaries().cloned()));
            cuts.extend(c.versions.iter().cloned());
        }
        cuts.sort_by(cmp_versions);
        cuts.dedup_by(|a, b| cmp_versions(a, b) == std::cmp::Ordering::Equal);
        let n_slots = 2 * cuts.len() + 1;
        let position = |v: &AnyVersion| {
            cuts.partition_point(|c| cmp_versions(c, v) == std::cmp::Ordering::Less)
        };
        // changes[slot]: entries whose answer turns on (true) or off there.
        let mut changes: Vec<Vec<(u32, bool)>> = vec![Vec::new(); n_slots];
        for &e in &indexed {
            let c = &entries[e as usize];
            let mut own: Vec<usize> = c
                .ranges
                .iter()
                .flat_map(|r| r.boundaries())
                .chain(c.versions.iter())
                .map(position)
                .collect();
            own.sort_unstable();
            own.dedup();
            // (first slot, answer) pieces covering the line.
            let mut pieces = vec![(0, c.affects_point(osv::Point::Below))];
            for &i in &own {
                pieces.push((2 * i + 1, c.affects_point(osv::Point::At(&cuts[i]))));
                pieces.push((2 * i + 2, c.affects_point(osv::Point::JustAbove(&cuts[i]))));
            }
            let mut on = false;
            for (slot, hit) in pieces {
                if hit != on && slot < n_slots {
                    changes[slot].push((e, hit));
                    on = hit;
                }
            }
        }
        let mut member = vec![false; entries.len()];
        let mut slots = Vec::with_capacity(n_slots);
        let mut bounds = vec![0u32];
        let mut members: Vec<u32> = Vec::new();
        for (slot, change) in changes.iter().enumerate() {
            if slot == 0 || !change.is_empty() {
                for &(e, on) in change {
                    member[e as usize] = on;
                }
                let start = members.len();
                members.extend(indexed.iter().copied().filter(|&e| member[e as usize]));
                let last = bounds.len() - 1;
                let prev = bounds[last.saturating_sub(1)] as usize..bounds[last] as usize;
                if last > 0 && members[prev] == members[start..] {
                    members.truncate(start);
                } else {
                    bounds.push(members.len() as u32);
                }
            }
            slots.push((bounds.len() - 2) as u32);
        }
        Index {
            scheme,
            keys: cuts.iter().map(AnyVersion::order_key).collect(),
            cuts,
            slots,
            bounds,
            members,
            direct,
        }
    }
}

/// Matches packages against an open database, caching per lookup key.
pub struct Matcher<'db> {
    db: &'db Db,
    /// ecosystem -> name -> compiled entries (nested so lookups by `&str`
    /// allocate nothing).
    /// Every (ecosystem, name) the database holds, filled in (compiled)
    /// on first lookup; a name absent here has no advisory.
    entries: FxHashMap<String, FxHashMap<String, Option<Box<PackageEntries>>>>,
    advisories: HashMap<AdvisoryKey, Arc<Advisory>>,
}

impl<'db> Matcher<'db> {
    pub fn new(db: &'db Db) -> Matcher<'db> {
        let entries = db
            .ecosystems()
            .into_iter()
            .map(|(eco, _)| {
                let names = db.names(&eco).into_iter().map(|n| (n, None)).collect();
                (eco, names)
            })
            .collect();
        Matcher {
            db,
            entries,
            advisories: HashMap::new(),
        }
    }

    fn compiled(
        &mut self,
        ecosystem: &str,
        name: &str,
    ) -> Result<Option<&PackageEntries>, DbError> {
        let Some(slot) = self
            .entries
            .get_mut(ecosystem)
            .and_then(|m| m.get_mut(name))
        else {
            return Ok(None);
        };
        if slot.is_none() {
            let compiled = self
                .db
                .affected(ecosystem, name)?
                .into_iter()
                .map(|(key, a)| Compiled::new(key, a, ecosystem))
                .collect();
            *slot = Some(Box::new(PackageEntries::new(compiled)));
        }
        Ok(slot.as_deref())
    }

    /// Keys of the advisories affecting `q`: the unit the lookup benchmark
    /// measures (fixes and the rest of a finding are only worked out for
    /// findings).
    pub fn lookup(&mut self, q: &Query) -> Result<Vec<AdvisoryKey>, DbError> {
        let mut keys = Vec::new();
        self.lookup_into(q, &mut keys)?;
        Ok(keys)
    }

    /// [`Matcher::lookup`] into a buffer the caller reuses (it is cleared
    /// first), for callers making many lookups.
    pub fn lookup_into(&mut self, q: &Query, keys: &mut Vec<AdvisoryKey>) -> Result<(), DbError> {
        keys.clear();
        let Some(p) = self.compiled(&q.ecosystem, &q.name)? else {
            return Ok(());
        };
        let mut versions = ParsedVersion::new(&q.version);
        p.each_affected(&q.version, &mut versions, |i| keys.push(p.keys[i]));
        Ok(())
    }

    fn hits(&mut self, q: &Query) -> Result<Vec<Hit>, DbError> {
        let Some(p) = self.compiled(&q.ecosystem, &q.name)? else {
            return Ok(Vec::new());
        };
        let mut versions = ParsedVersion::new(&q.version);
        let mut out = Vec::new();
        for i in p.affected(&q.version, &mut versions) {
            let c = &p.entries[i];
            out.push(Hit {
                key: c.key,
                fixes: c.fixes(versions.get(c.scheme)),
                state: c.affected.state,
                state_note: c.affected.state_note.clone(),
                severity: c.affected.severity,
                source: String::new(),
            });
        }
        Ok(out)
    }

    fn advisory(&mut self, key: AdvisoryKey) -> Result<Arc<Advisory>, DbError> {
        if let Some(a) = self.advisories.get(&key) {
            return Ok(a.clone());
        }
        let a = Arc::new(self.db.advisory(key)?);
        self.advisories.insert(key, a.clone());
        Ok(a)
    }

    /// Every finding for the SBOM's packages, merged per vulnerability and
    /// sorted (most severe first, then package, then id), plus notices.
    pub fn match_sbom(&mut self, sbom: &Sbom) -> Result<(Vec<Finding>, Vec<Notice>), DbError> {
        let mut notices = Vec::new();
        let distro = sbom.distro.as_ref();
        if let Some(d) = distro
            && os_ecosystem(d).is_none()
            && sbom.packages.iter().any(|p| p.kind.is_os())
        {
            notices.push(Notice {
                kind: "os-unsupported".into(),
                message: format!(
                    "no vulnerability data for distro {:?} {}: its OS packages are not matched",
                    d.id,
                    d.version_id.as_deref().unwrap_or("(no VERSION_ID)")
                ),
            });
        }
        // Language packages whose files an OS package installed are the OS
        // package's business: the distro's advisories (with its backports)
        // cover them, and matching both would report one flaw twice.
        let os_owned: HashSet<&str> = sbom
            .relationships
            .iter()
            .filter(|r| r.kind == RelationshipKind::OwnedBy)
            .map(|r| r.from.as_str())
            .collect();
        let mut findings = Vec::new();
        for pkg in &sbom.packages {
            if os_owned.contains(pkg.id.as_str()) && defers_to_owner(pkg.kind) {
                continue;
            }
            let Some(q) = query_for(pkg, distro) else {
                continue;
            };
            let hits = self.hits(&q)?;
            if hits.is_empty() {
                continue;
            }
            let mut with_adv = Vec::with_capacity(hits.len());
            for mut h in hits {
                let a = self.advisory(h.key)?;
                h.source = a.source.clone();
                with_adv.push((h, a));
            }
            findings.extend(self.merge(pkg, &q, with_adv)?);
        }
        findings.sort_by(Finding::report_order);
        Ok((findings, notices))
    }

    /// Groups one package's hits that share any id into single findings.
    fn merge(
        &mut self,
        pkg: &Package,
        q: &Query,
        hits: Vec<(Hit, Arc<Advisory>)>,
    ) -> Result<Vec<Finding>, DbError> {
        // Union-find over hits by shared ids.
        let n = hits.len();
        let mut parent: Vec<usize> = (0..n).collect();
        fn find(p: &mut [usize], mut i: usize) -> usize {
            while p[i] != i {
                p[i] = p[p[i]];
                i = p[i];
            }
            i
        }
        let mut by_id: HashMap<&str, usize> = HashMap::new();
        for (i, (_, a)) in hits.iter().enumerate() {
            for id in std::iter::once(&a.id).chain(a.aliases.iter()) {
                match by_id.get(id.as_str()) {
                    Some(&j) => {
                        let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                        parent[ri] = rj;
                    }
                    None => {
                        by_id.insert(id, i);
                    }
                }
            }
        }
        let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for i in 0..n {
            let r = find(&mut parent, i);
            groups.entry(r).or_default().push(i);
        }
        let mut out = Vec::new();
        for members in groups.values() {
            let group: Vec<&(Hit, Arc<Advisory>)> = members.iter().map(|&i| &hits[i]).collect();
            out.push(self.finding(pkg, q, &group)?);
        }
        Ok(out)
    }

    fn finding(
        &mut self,
        pkg: &Package,
        q: &Query,
        group: &[&(Hit, Arc<Advisory>)],
    ) -> Result<Finding, DbError> {
        let mut ids: BTreeSet<String> = BTreeSet::new();
        let mut own_ids: BTreeSet<&str> = BTreeSet::new();
        let mut fixes: BTreeSet<String> = BTreeSet::new();
        let mut sources: BTreeSet<String> = BTreeSet::new();
        let mut references: Vec<String> = Vec::new();
        let mut scores = Vec::new();
        let mut summary: Option<String> = None;
        let mut cwes: BTreeSet<String> = BTreeSet::new();
        let mut published: Option<&str> = None;
        let mut modified: Option<&str> = None;
        let mut unfixed_note: Option<String> = None;
        let mut wont_fix = false;
        for (h, a) in group {
            ids.insert(a.id.clone());
            own_ids.insert(a.id.as_str());
            ids.extend(a.aliases.iter().cloned());
            fixes.extend(h.fixes.iter().cloned());
            sources.insert(h.source.clone());
            for r in &a.references {
                if !references.contains(r) && references.len() < 32 {
                    references.push(r.clone());
                }
            }
            for s in &a.scores {
                if !scores.contains(s) {
                    scores.push(s.clone());
                }
            }
            cwes.extend(a.cwes.iter().cloned());
            // RFC 3339 UTC strings order as their times do.
            if let Some(p) = a.published.as_deref() {
                published = Some(published.map_or(p, |cur| cur.min(p)));
            }
            if let Some(m) = a.modified.as_deref().filter(|m| !m.starts_with("0001-")) {
                modified = Some(modified.map_or(m, |cur| cur.max(m)));
            }
            if summary.is_none() {
                summary = a
                    .summary
                    .clone()
                    .or_else(|| a.details.as_ref().map(|d| first_line(d)));
            }
            if h.fixes.is_empty() {
                wont_fix |= h.state == AffectedState::WontFix;
                if let Some(note) = &h.state_note {
                    unfixed_note.get_or_insert_with(|| format!("{}: {note}", h.source));
                }
            }
        }
        let cves: Vec<&String> = ids.iter().filter(|i| i.starts_with("CVE-")).collect();
        let id = if cves.len() == 1 {
            cves[0].clone()
        } else {
            own_ids
                .iter()
                .next()
                .map(|s| s.to_string())
                .unwrap_or_default()
        };
        let aliases: Vec<String> = ids.iter().filter(|i| **i != id).cloned().collect();
        let status = if !fixes.is_empty() {
            Status::Fixed
        } else if wont_fix {
            Status::WontFix
        } else {
            Status::Unfixed
        };
        let (severity, severity_source) = severity_of(pkg.kind.is_os(), group);
        let mut kev = None;
        let mut epss: Option<bosun_vulndb::Epss> = None;
        for cve in &cves {
            if kev.is_none() {
                kev = self.db.kev(cve)?;
            }
            if let Some(e) = self.db.epss(cve)?
                && epss.is_none_or(|cur| e.score > cur.score)
            {
                epss = Some(e);
            }
        }
        Ok(Finding {
            id,
            aliases,
            package: PackageRef {
                id: pkg.id.clone(),
                name: pkg.name.clone(),
                version: pkg.version.clone(),
                kind: pkg.kind,
                purl: pkg.purl.clone(),
                locations: pkg.locations.clone(),
            },
            installed_version: pkg.version.clone(),
            fixed_versions: fixes.into_iter().collect(),
            status,
            status_note: if status == Status::Fixed {
                None
            } else {
                unfixed_note
            },
            severity,
            severity_source,
            scores,
            kev,
            epss,
            summary,
            references,
            cwes: cwes.into_iter().collect(),
            published: published
                .filter(|p| !p.starts_with("0001-"))
                .map(str::to_string),
            modified: modified.map(str::to_string),
            data_sources: sources.into_iter().collect(),
            matched: MatchDetail {
                kind: q.kind,
                ecosystem: q.ecosystem.clone(),
                name: q.name.clone(),
                version: q.version.clone(),
            },
            suppressed: None,
        })
    }
}

/// Language packages an OS package installed are matched through it.
/// Compiled binaries (Go, Rust) are not: the distro's advisories are about
/// the program's own source, not the libraries linked into it.
fn defers_to_owner(kind: PackageKind) -> bool {
    !matches!(kind, PackageKind::GoModule | PackageKind::RustCrate)
}

/// The severity of a merged finding and what it came from. For OS packages
/// the distribution's own rating comes first (it knows its builds), then the
/// CVSS base scores, then a feed's label.
fn severity_of(os: bool, group: &[&(Hit, Arc<Advisory>)]) -> (Severity, String) {
    let distro = group
        .iter()
        .filter_map(|(h, _)| h.severity.map(|s| (s, h.source.clone())))
        .max_by_key(|(s, _)| *s);
    if os
        && let Some((s, src)) = &distro
        && *s != Severity::Unknown
    {
        return (*s, format!("{src} urgency"));
    }
    let mut best: Option<(f64, String)> = None;
    for kind in ["CVSS_V3", "CVSS_V4"] {
        for (_, a) in group {
            for s in a.scores.iter().filter(|s| s.kind == kind) {
                if let Some(score) = s.base_score
                    && best.as_ref().is_none_or(|(b, _)| score > *b)
                {
                    best = Some((score, format!("{kind} {score:.1} ({})", a.source)));
                }
            }
        }
        if let Some((score, src)) = best {
            return (Severity::from_cvss_score(score), src);
        }
    }
    if let Some((s, src)) = group
        .iter()
        .filter_map(|(_, a)| a.severity_label.map(|s| (s, a.source.clone())))
        .max_by_key(|(s, _)| *s)
    {
        return (s, format!("{src} label"));
    }
    if let Some((s, src)) = distro {
        return (s, format!("{src} urgency"));
    }
    (Severity::Unknown, "none".into())
}

/// The summary of an advisory that has none: the first paragraph of its
/// details, whole (the feeds bound the details; the table and SARIF cut
/// it to fit, the JSON report keeps it).
fn first_line(s: &str) -> String {
    let para: Vec<&str> = s
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .collect();
    para.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use bosun_vulndb::Event;

    #[test]
    fn go_toolchain_versions() {
        assert_eq!(go_toolchain_semver("go1.19").as_deref(), Some("1.19.0"));
        assert_eq!(go_toolchain_semver("go1.19.8").as_deref(), Some("1.19.8"));
        assert_eq!(
            go_toolchain_semver("go1.21rc2").as_deref(),
            Some("1.21.0-rc.2")
        );
        assert_eq!(
            go_toolchain_semver("go1.22.1 X:boringcrypto").as_deref(),
            Some("1.22.1")
        );
        assert_eq!(go_toolchain_semver("devel +abc"), None);
        assert_eq!(go_toolchain_semver("go1..2"), None);
    }

    #[test]
    fn maven_names_from_purls() {
        assert_eq!(
            maven_name("pkg:maven/org.yaml/snakeyaml@1.33").as_deref(),
            Some("org.yaml:snakeyaml")
        );
        assert_eq!(maven_name("pkg:maven/snakeyaml@1.33"), None);
        assert_eq!(
            purl_name_with_namespace("pkg:composer/monolog/monolog@3.0", "composer").as_deref(),
            Some("monolog/monolog")
        );
    }

    #[test]
    fn distro_ecosystems() {
        let d = |id: &str, v: &str| Distro {
            id: id.into(),
            version_id: Some(v.into()),
            ..Default::default()
        };
        assert_eq!(
            os_ecosystem(&d("debian", "12")).as_deref(),
            Some("Debian:12")
        );
        assert_eq!(
            os_ecosystem(&d("alpine", "3.18.4")).as_deref(),
            Some("Alpine:v3.18")
        );
        assert_eq!(
            os_ecosystem(&d("ubuntu", "22.04")).as_deref(),
            Some("Ubuntu:22.04")
        );
        assert_eq!(os_ecosystem(&d("plan9", "4")), None);
    }

    /// The interval index answers exactly as evaluating every entry does,
    /// for every package of the real PyPI, Go, npm, crates.io and Debian
    /// data, at every version the advisories name and at versions between
    /// and around them.
    #[test]
    fn index_agrees_with_direct_evaluation() {
        let Some(vulndata) = bosun_testutil::shared("vulndata") else {
            return;
        };
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let db_path = dir.path().join("vuln.db");
        bosun_vulndb::build::build(&vulndata, &db_path, 0).unwrap_or_else(|e| panic!("{e}"));
        let db = Db::open(&db_path).unwrap_or_else(|e| panic!("{e}"));
        let mut m = Matcher::new(&db);
        let mut checked = 0usize;
        for (eco, _) in db.ecosystems() {
            let keys: Vec<String> = db.names(&eco);
            for name in keys {
                let Some(p) = m.compiled(&eco, &name).unwrap_or_else(|e| panic!("{e}")) else {
                    continue;
                };
                let mut probes: BTreeSet<String> =
                    ["0", "0.0.0", "0.0.1", "1.0", "999.0.0", "v0.0.0-0"]
                        .iter()
                        .map(|s| s.to_string())
                        .collect();
                for c in &p.entries {
                    for r in &c.affected.ranges {
                        for e in &r.events {
                            let (Event::Introduced(v)
                            | Event::Fixed(v)
                            | Event::LastAffected(v)
                            | Event::Limit(v)) = e;
                            probes.insert(v.clone());
                            // Just above and just below, in most schemes.
                            probes.insert(format!("{v}.1"));
                            probes.insert(format!("{v}-1"));
                        }
                    }
                    probes.extend(c.affected.versions.iter().take(50).cloned());
                }
                for raw in &probes {
                    let mut pv = ParsedVersion::new(raw);
                    let got: BTreeSet<usize> = p.affected(raw, &mut pv).into_iter().collect();
                    let mut pv = ParsedVersion::new(raw);
                    let want: BTreeSet<usize> = (0..p.entries.len())
                        .filter(|&i| p.entries[i].affects(raw, pv.get(p.entries[i].scheme)))
                        .collect();
                    assert_eq!(got, want, "{eco}/{name} at {raw:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 50_000, "{checked} probes");
    }
}
