//! OpenVEX documents (spec v0.2.0, <https://github.com/openvex/spec>): a
//! product author's statements that a vulnerability does not affect their
//! product, is fixed in it, affects it or is being investigated.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;

use serde_json::{Map, Value};

use crate::finding::{Finding, Notice, Report, Suppression};
use crate::ignore::Date;

/// Far above real documents (vendor feeds are a few MiB).
pub const MAX_DOCUMENT_BYTES: usize = 64 << 20;
const MAX_STATEMENTS: usize = 200_000;
const MAX_LIST: usize = 100_000;
const MAX_STRING_CHARS: usize = 64 * 1024;

const JUSTIFICATIONS: [&str; 5] = [
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];
const HASHES: [&str; 12] = [
    "md5",
    "sha1",
    "sha-256",
    "sha-384",
    "sha-512",
    "sha3-224",
    "sha3-256",
    "sha3-384",
    "sha3-512",
    "blake2s-256",
    "blake2b-256",
    "blake2b-512",
];

#[derive(Debug, thiserror::Error)]
pub enum VexError {
    #[error("cannot read VEX document {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// `at` is `document` or a path such as `statements[2].products[0].@id`.
    #[error("{origin}: {at}: {message}")]
    Invalid {
        origin: String,
        at: String,
        message: String,
    },
}

/// An RFC 3339 instant, comparable across UTC offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

impl Timestamp {
    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
    pub fn parse(s: &str) -> Option<Timestamp> {
        let date = Date::parse(s.get(..10)?)?;
        let b = s.as_bytes();
        if !matches!(b.get(10), Some(b'T' | b't'))
            || b.get(13) != Some(&b':')
            || b.get(16) != Some(&b':')
        {
            return None;
        }
        let (h, m, sec) = (two(s, 11)?, two(s, 14)?, two(s, 17)?);
        let mut rest = s.get(19..)?;
        let mut nanos = 0;
        if let Some(frac) = rest.strip_prefix('.') {
            let n = frac.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 || n > 64 {
                return None;
            }
            // Digits past nanoseconds do not change the order that matters here.
            for i in 0..9 {
                let d = frac
                    .as_bytes()
                    .get(i)
                    .filter(|_| i < n)
                    .map_or(0, |c| c - b'0');
                nanos = nanos * 10 + u32::from(d);
            }
            rest = frac.get(n..)?;
        }
        let offset = match rest {
            "Z" | "z" => 0,
            _ => {
                let sign = match rest.as_bytes().first() {
                    Some(b'+') => 1,
                    Some(b'-') => -1,
                    _ => return None,
                };
                let (oh, om) = (two(rest, 1)?, two(rest, 4)?);
                if rest.len() != 6 || rest.as_bytes().get(3) != Some(&b':') || oh > 23 || om > 59 {
                    return None;
                }
                sign * (i64::from(oh) * 3600 + i64::from(om) * 60)
            }
        };
        // 60 is a leap second, which RFC 3339 allows.
        if h > 23 || m > 59 || sec > 60 {
            return None;
        }
        let secs = date.days_since_epoch() * 86_400 + i64::from(h * 3600 + m * 60 + sec) - offset;
        Some(Timestamp { secs, nanos })
    }

    pub fn unix_seconds(self) -> i64 {
        self.secs
    }
}

fn two(s: &str, at: usize) -> Option<u32> {
    let part = s.get(at..at + 2)?;
    part.bytes()
        .all(|c| c.is_ascii_digit())
        .then(|| part.parse().ok())?
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VexStatus {
    NotAffected,
    Affected,
    Fixed,
    UnderInvestigation,
}

impl VexStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VexStatus::NotAffected => "not_affected",
            VexStatus::Affected => "affected",
            VexStatus::Fixed => "fixed",
            VexStatus::UnderInvestigation => "under_investigation",
        }
    }

    /// Whether a finding the statement applies to stops being counted.
    pub fn suppresses(self) -> bool {
        matches!(self, VexStatus::NotAffected | VexStatus::Fixed)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vulnerability {
    pub iri: Option<String>,
    pub name: String,
    pub aliases: Vec<String>,
}

impl Vulnerability {
    fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str())
            .chain(self.aliases.iter().map(String::as_str))
            .chain(self.iri.as_deref())
    }
}

/// A product or subcomponent: how it is identified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub iri: Option<String>,
    pub purl: Option<String>,
    /// Algorithm label (`sha-256`) to value.
    pub hashes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub component: Component,
    pub subcomponents: Vec<Component>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub vulnerability: Vulnerability,
    pub products: Vec<Product>,
    pub status: VexStatus,
    pub justification: Option<String>,
    pub impact_statement: Option<String>,
    /// The statement's own timestamp, else the document's.
    pub timestamp: Timestamp,
}

impl Statement {
    fn reason(&self) -> String {
        let mut out = self.status.as_str().to_string();
        if let Some(j) = &self.justification {
            out.push_str(": ");
            out.push_str(j);
        }
        if let Some(i) = &self.impact_statement {
            out.push_str(if self.justification.is_some() {
                "; "
            } else {
                ": "
            });
            out.push_str(i);
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexDocument {
    /// Where the document came from, named in suppressions, notices and errors.
    pub origin: String,
    pub iri: String,
    pub author: String,
    pub timestamp: Timestamp,
    pub version: u64,
    pub statements: Vec<Statement>,
}

/// Where in the document a problem is, and what it is.
struct Bad {
    at: String,
    message: String,
}

fn bad(at: &str, message: impl Into<String>) -> Bad {
    Bad {
        at: at.to_string(),
        message: message.into(),
    }
}

impl VexDocument {
    pub fn load(path: &Path) -> Result<VexDocument, VexError> {
        let origin = path.display().to_string();
        let io = |source| VexError::Io {
            path: origin.clone(),
            source,
        };
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .map_err(io)?
            .take(MAX_DOCUMENT_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        VexDocument::parse(&bytes, &origin)
    }

    pub fn parse(bytes: &[u8], origin: &str) -> Result<VexDocument, VexError> {
        parse_document(bytes, origin).map_err(|b| VexError::Invalid {
            origin: origin.to_string(),
            at: b.at,
            message: b.message,
        })
    }
}

fn parse_document(bytes: &[u8], origin: &str) -> Result<VexDocument, Bad> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(bad(
            "document",
            format!("larger than the {MAX_DOCUMENT_BYTES} bytes allowed"),
        ));
    }
    // serde_json bounds nesting depth itself (128).
    let doc: Value = serde_json::from_slice(bytes)
        .map_err(|e| bad("document", format!("not valid JSON: {e}")))?;
    let obj = object(
        &doc,
        "document",
        &[
            "@context",
            "@id",
            "author",
            "role",
            "timestamp",
            "last_updated",
            "version",
            "tooling",
            "statements",
        ],
    )?;
    let context = req_str(obj, "@context", "")?;
    if !context.starts_with("https://openvex.dev/ns") {
        return Err(bad(
            "@context",
            format!("{context:?} is not an OpenVEX context (https://openvex.dev/ns/...)"),
        ));
    }
    let iri = req_str(obj, "@id", "")?;
    let author = req_str(obj, "author", "")?;
    opt_str(obj, "role", "")?;
    opt_str(obj, "tooling", "")?;
    let timestamp = req_time(obj, "timestamp", "")?;
    opt_time(obj, "last_updated", "")?;
    let version =
        version(obj, "version", "")?.ok_or_else(|| bad("document", "missing `version`"))?;
    let list = match obj.get("statements") {
        Some(Value::Array(list)) if !list.is_empty() => list,
        Some(Value::Array(_)) => return Err(bad("statements", "must hold at least one statement")),
        Some(_) => return Err(bad("statements", "must be a list")),
        None => return Err(bad("document", "missing `statements`")),
    };
    if list.len() > MAX_STATEMENTS {
        return Err(bad(
            "statements",
            format!(
                "{} statements, more than the {MAX_STATEMENTS} allowed",
                list.len()
            ),
        ));
    }
    let statements = list
        .iter()
        .enumerate()
        .map(|(i, s)| parse_statement(s, &format!("statements[{i}]"), timestamp))
        .collect::<Result<_, _>>()?;
    Ok(VexDocument {
        origin: origin.to_string(),
        iri,
        author,
        timestamp,
        version,
        statements,
    })
}

fn parse_statement(v: &Value, at: &str, doc_time: Timestamp) -> Result<Statement, Bad> {
    let obj = object(
        v,
        at,
        &[
            "@id",
            "version",
            "vulnerability",
            "timestamp",
            "last_updated",
            "products",
            "status",
            "supplier",
            "status_notes",
            "justification",
            "impact_statement",
            "action_statement",
            "action_statement_timestamp",
        ],
    )?;
    opt_str(obj, "@id", at)?;
    version(obj, "version", at)?;
    for key in ["supplier", "status_notes", "action_statement"] {
        opt_str(obj, key, at)?;
    }
    opt_time(obj, "last_updated", at)?;
    opt_time(obj, "action_statement_timestamp", at)?;
    let timestamp = opt_time(obj, "timestamp", at)?.unwrap_or(doc_time);

    let vat = format!("{at}.vulnerability");
    let vulnerability = match obj.get("vulnerability") {
        Some(Value::String(_)) => {
            return Err(bad(
                &vat,
                "must be an object with `name` (OpenVEX v0.2.0); a plain string is the older v0.0.1 form",
            ));
        }
        Some(v) => {
            let vobj = object(v, &vat, &["@id", "name", "description", "aliases"])?;
            opt_str(vobj, "description", &vat)?;
            Vulnerability {
                iri: opt_str(vobj, "@id", &vat)?,
                name: req_str(vobj, "name", &vat)?,
                aliases: string_list(vobj, "aliases", &vat)?,
            }
        }
        None => return Err(bad(at, "missing `vulnerability`")),
    };

    let pat = format!("{at}.products");
    let products = match obj.get("products") {
        Some(Value::Array(list)) if !list.is_empty() => {
            bounded(list, &pat)?;
            list.iter()
                .enumerate()
                .map(|(i, p)| parse_component(p, &format!("{pat}[{i}]"), true))
                .collect::<Result<Vec<_>, _>>()?
        }
        // The spec lets an encapsulating document supply products; a
        // stand-alone document has none to inherit.
        Some(Value::Array(_)) | None => {
            return Err(bad(at, "names no product (`products` is missing or empty)"));
        }
        Some(_) => return Err(bad(&pat, "must be a list")),
    };

    let sat = format!("{at}.status");
    let status = match req_str(obj, "status", at)?.as_str() {
        "not_affected" => VexStatus::NotAffected,
        "affected" => VexStatus::Affected,
        "fixed" => VexStatus::Fixed,
        "under_investigation" => VexStatus::UnderInvestigation,
        other => {
            return Err(bad(
                &sat,
                format!(
                    "{other:?} is not one of not_affected, affected, fixed, under_investigation"
                ),
            ));
        }
    };
    let justification = opt_str(obj, "justification", at)?;
    if let Some(j) = &justification
        && !JUSTIFICATIONS.contains(&j.as_str())
    {
        return Err(bad(
            &format!("{at}.justification"),
            format!("{j:?} is not one of {}", JUSTIFICATIONS.join(", ")),
        ));
    }
    let impact_statement = opt_str(obj, "impact_statement", at)?;
    if status == VexStatus::NotAffected && justification.is_none() && impact_statement.is_none() {
        return Err(bad(
            at,
            "not_affected needs a `justification` or an `impact_statement`",
        ));
    }
    Ok(Statement {
        vulnerability,
        products: products
            .into_iter()
            .map(|(component, subcomponents)| Product {
                component,
                subcomponents,
            })
            .collect(),
        status,
        justification,
        impact_statement,
        timestamp,
    })
}

/// A product (with its subcomponents) or, when `product` is false, a subcomponent.
fn parse_component(v: &Value, at: &str, product: bool) -> Result<(Component, Vec<Component>), Bad> {
    if v.is_string() {
        return Err(bad(
            at,
            "must be an object with `@id` or `identifiers`; a plain string is the older v0.0.1 form",
        ));
    }
    let keys: &[&str] = if product {
        &["@id", "identifiers", "hashes", "subcomponents"]
    } else {
        &["@id", "identifiers", "hashes"]
    };
    let obj = object(v, at, keys)?;
    let iri = opt_str(obj, "@id", at)?;
    let mut purl = None;
    if let Some(ids) = obj.get("identifiers") {
        let iat = format!("{at}.identifiers");
        let iobj = object(ids, &iat, &["purl", "cpe22", "cpe23"])?;
        if iobj.is_empty() {
            return Err(bad(&iat, "must hold `purl`, `cpe22` or `cpe23`"));
        }
        purl = opt_str(iobj, "purl", &iat)?;
        opt_str(iobj, "cpe22", &iat)?;
        opt_str(iobj, "cpe23", &iat)?;
    } else if iri.is_none() {
        return Err(bad(at, "needs `@id` or `identifiers`"));
    }
    let mut hashes = BTreeMap::new();
    if let Some(h) = obj.get("hashes") {
        let hat = format!("{at}.hashes");
        let hobj = object(h, &hat, &HASHES)?;
        for k in hobj.keys() {
            if let Some(value) = opt_str(hobj, k, &hat)? {
                hashes.insert(k.clone(), value);
            }
        }
    }
    let mut subcomponents = Vec::new();
    match obj.get("subcomponents") {
        None => {}
        Some(Value::Array(list)) => {
            let sat = format!("{at}.subcomponents");
            bounded(list, &sat)?;
            for (i, s) in list.iter().enumerate() {
                subcomponents.push(parse_component(s, &format!("{sat}[{i}]"), false)?.0);
            }
        }
        Some(_) => return Err(bad(&format!("{at}.subcomponents"), "must be a list")),
    }
    Ok((Component { iri, purl, hashes }, subcomponents))
}

fn object<'v>(v: &'v Value, at: &str, allowed: &[&str]) -> Result<&'v Map<String, Value>, Bad> {
    let obj = v.as_object().ok_or_else(|| bad(at, "must be an object"))?;
    if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        let shown: String = k.chars().take(64).collect();
        return Err(bad(
            at,
            format!("unknown field {shown:?}; allowed: {}", allowed.join(", ")),
        ));
    }
    Ok(obj)
}

fn field_at(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

fn opt_str(obj: &Map<String, Value>, key: &str, at: &str) -> Result<Option<String>, Bad> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(bad(&field_at(at, key), "must not be empty"))
        }
        Some(Value::String(s)) if s.chars().count() > MAX_STRING_CHARS => Err(bad(
            &field_at(at, key),
            format!("longer than {MAX_STRING_CHARS} characters"),
        )),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(&field_at(at, key), "must be a string")),
    }
}

fn req_str(obj: &Map<String, Value>, key: &str, at: &str) -> Result<String, Bad> {
    opt_str(obj, key, at)?.ok_or_else(|| {
        bad(
            if at.is_empty() { "document" } else { at },
            format!("missing `{key}`"),
        )
    })
}

fn opt_time(obj: &Map<String, Value>, key: &str, at: &str) -> Result<Option<Timestamp>, Bad> {
    opt_str(obj, key, at)?
        .map(|s| {
            Timestamp::parse(&s).ok_or_else(|| {
                bad(
                    &field_at(at, key),
                    format!("{s:?} is not an RFC 3339 date-time"),
                )
            })
        })
        .transpose()
}

fn req_time(obj: &Map<String, Value>, key: &str, at: &str) -> Result<Timestamp, Bad> {
    opt_time(obj, key, at)?.ok_or_else(|| {
        bad(
            if at.is_empty() { "document" } else { at },
            format!("missing `{key}`"),
        )
    })
}

fn version(obj: &Map<String, Value>, key: &str, at: &str) -> Result<Option<u64>, Bad> {
    match obj.get(key) {
        None => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if n >= 1 => Ok(Some(n)),
            _ => Err(bad(&field_at(at, key), "must be an integer of at least 1")),
        },
    }
}

fn string_list(obj: &Map<String, Value>, key: &str, at: &str) -> Result<Vec<String>, Bad> {
    let lat = field_at(at, key);
    match obj.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(list)) => {
            bounded(list, &lat)?;
            list.iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s)
                        if !s.trim().is_empty() && s.chars().count() <= MAX_STRING_CHARS =>
                    {
                        Ok(s.clone())
                    }
                    _ => Err(bad(&format!("{lat}[{i}]"), "must be a non-empty string")),
                })
                .collect()
        }
        Some(_) => Err(bad(&lat, "must be a list of strings")),
    }
}

fn bounded(list: &[Value], at: &str) -> Result<(), Bad> {
    if list.len() > MAX_LIST {
        return Err(bad(
            at,
            format!("{} items, more than the {MAX_LIST} allowed", list.len()),
        ));
    }
    Ok(())
}

/// Moves the findings a `not_affected` or `fixed` statement applies to into
/// `report.suppressed`. Where several statements apply to one finding the
/// latest by timestamp wins (on a tie, the later document or statement), so
/// a newer `affected` or `under_investigation` undoes an older
/// `not_affected`. Statements that apply to no finding, counted or already
/// suppressed, are noted (`stale-vex`).
pub fn apply(docs: &[VexDocument], report: &mut Report) {
    let statements: Vec<(&VexDocument, usize, &Statement)> = docs
        .iter()
        .flat_map(|d| d.statements.iter().enumerate().map(move |(i, s)| (d, i, s)))
        .collect();
    let mut by_id: HashMap<String, Vec<usize>> = HashMap::new();
    for (n, (_, _, s)) in statements.iter().enumerate() {
        for id in s.vulnerability.ids() {
            let list = by_id.entry(id.to_ascii_lowercase()).or_default();
            if list.last() != Some(&n) {
                list.push(n);
            }
        }
    }
    let scope = Scope {
        image: report
            .sbom
            .source
            .image
            .as_ref()
            .and_then(|i| i.manifest_digest.as_ref())
            .map(|d| d.to_string()),
        sbom_purls: report
            .sbom
            .packages
            .iter()
            .map(|p| p.purl.as_str())
            .collect(),
    };
    let mut used = vec![false; statements.len()];
    let mut applying = |f: &Finding| -> Vec<usize> {
        let mut hits: Vec<usize> = f
            .ids()
            .filter_map(|id| by_id.get(&id.to_ascii_lowercase()))
            .flatten()
            .copied()
            .filter(|&n| {
                statements
                    .get(n)
                    .is_some_and(|(_, _, s)| s.products.iter().any(|p| scope.applies(p, f)))
            })
            .collect();
        hits.sort_unstable();
        hits.dedup();
        for &n in &hits {
            if let Some(u) = used.get_mut(n) {
                *u = true;
            }
        }
        hits
    };
    for f in &report.suppressed {
        applying(f);
    }
    let mut kept = Vec::with_capacity(report.findings.len());
    for mut f in std::mem::take(&mut report.findings) {
        let winner = applying(&f)
            .into_iter()
            .filter_map(|n| statements.get(n).map(|s| (n, s)))
            .max_by_key(|(n, (_, _, s))| (s.timestamp, *n));
        match winner {
            Some((_, (doc, _, s))) if s.status.suppresses() => {
                f.suppressed = Some(Suppression {
                    by: "vex".into(),
                    reason: s.reason(),
                    source: doc.origin.clone(),
                });
                report.suppressed.push(f);
            }
            _ => kept.push(f),
        }
    }
    report.findings = kept;
    for ((doc, i, s), used) in statements.iter().zip(used) {
        if !used {
            report.notices.push(Notice {
                kind: "stale-vex".into(),
                message: format!(
                    "{}: statements[{i}] ({}, {}) matched no finding",
                    doc.origin,
                    s.vulnerability.name,
                    s.status.as_str()
                ),
            });
        }
    }
}

/// What the scanned SBOM lets a product be compared with.
struct Scope<'a> {
    /// The image's manifest digest (`sha256:...`).
    image: Option<String>,
    sbom_purls: Vec<&'a str>,
}

impl Scope<'_> {
    /// A product applies to a package when it is the package itself, or when
    /// it is the scanned image (or a package in the SBOM) and the package is
    /// one of its subcomponents; a product without subcomponents covers all
    /// of itself.
    fn applies(&self, p: &Product, f: &Finding) -> bool {
        let purl = f.package.purl.as_str();
        if names_package(&p.component, purl) {
            return true;
        }
        let contains =
            p.subcomponents.is_empty() || p.subcomponents.iter().any(|s| names_package(s, purl));
        contains
            && (self
                .image
                .as_deref()
                .is_some_and(|d| names_image(&p.component, d))
                || (!p.subcomponents.is_empty()
                    && self
                        .sbom_purls
                        .iter()
                        .any(|q| names_package(&p.component, q))))
    }
}

fn names_package(c: &Component, purl: &str) -> bool {
    c.iri.iter().chain(&c.purl).any(|p| purl_covers(p, purl))
}

/// The component names the image by its manifest digest: as `@id`
/// (`sha256:...`), as a `pkg:oci` purl's version, or as its hash.
fn names_image(c: &Component, digest: &str) -> bool {
    let by_id = c.iri.iter().chain(&c.purl).any(|id| {
        id == digest
            || Purl::parse(id)
                .is_some_and(|p| p.ty == "oci" && p.version.as_deref() == Some(digest))
    });
    let by_hash = digest.split_once(':').is_some_and(|(alg, hex)| {
        let label = match alg {
            "sha256" => "sha-256",
            "sha512" => "sha-512",
            _ => return false,
        };
        c.hashes
            .get(label)
            .is_some_and(|h| h.eq_ignore_ascii_case(hex))
    });
    by_id || by_hash
}

/// The parts of a purl that matching compares, percent-decoded.
#[derive(Debug, PartialEq, Eq)]
struct Purl {
    ty: String,
    /// `namespace/name`.
    path: String,
    version: Option<String>,
    qualifiers: Vec<(String, String)>,
    subpath: Option<String>,
}

impl Purl {
    fn parse(s: &str) -> Option<Purl> {
        let scheme = s.get(..4)?;
        if !scheme.eq_ignore_ascii_case("pkg:") {
            return None;
        }
        let rest = s.get(4..)?.trim_start_matches('/');
        let (rest, subpath) = match rest.split_once('#') {
            Some((r, sp)) => (r, Some(decode(sp.trim_matches('/')))),
            None => (rest, None),
        };
        let (rest, qualifiers) = match rest.split_once('?') {
            Some((r, q)) => (
                r,
                q.split('&')
                    .filter(|kv| !kv.is_empty())
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                        (k.to_ascii_lowercase(), decode(v))
                    })
                    .collect(),
            ),
            None => (rest, Vec::new()),
        };
        // An `@` followed by a `/` is an unencoded npm scope, not a version.
        let (rest, version) = match rest.rsplit_once('@') {
            Some((r, v)) if !v.contains('/') && r.contains('/') => (r, Some(decode(v))),
            _ => (rest, None),
        };
        let (ty, path) = rest.split_once('/')?;
        let ty = ty.to_ascii_lowercase();
        let mut path = decode(path.trim_end_matches('/'));
        if ty.is_empty() || path.is_empty() {
            return None;
        }
        // The purl spec makes these names case-insensitive (and PyPI's
        // separators equivalent).
        if [
            "pypi",
            "npm",
            "deb",
            "apk",
            "composer",
            "github",
            "bitbucket",
        ]
        .contains(&ty.as_str())
        {
            path = path.to_ascii_lowercase();
        }
        if ty == "pypi" {
            path = path.replace('_', "-");
        }
        Some(Purl {
            ty,
            path,
            version,
            qualifiers,
            subpath,
        })
    }
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (c, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `pattern` (a purl, possibly without version, qualifiers or
/// subpath) covers the package purl `purl`: the same type and name, and every
/// part `pattern` states equal in `purl`. Not a purl: false.
pub(crate) fn purl_covers(pattern: &str, purl: &str) -> bool {
    let (Some(p), Some(q)) = (Purl::parse(pattern), Purl::parse(purl)) else {
        return false;
    };
    p.ty == q.ty
        && p.path == q.path
        && p.version.is_none_or(|v| q.version.as_ref() == Some(&v))
        && p.qualifiers.iter().all(|kv| q.qualifiers.contains(kv))
        && p.subpath.is_none_or(|s| q.subpath.as_ref() == Some(&s))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ignore::tests::{finding, report};
    use bosun_core::Digest;
    use bosun_sbom::{ImageMetadata, SourceKind};
    use serde_json::json;

    const DIGEST: &str = "sha256:4f2d06fdbb5e63b7e9bb0bb2d7a0e6d39ff6bd0b8e5a4a1b23c8e1a5b1e2d3c4";

    /// Every document the tests treat as valid must satisfy the official schema.
    fn schema_valid(doc: &Value) {
        let Some(v) = bosun_testutil::schema::validator("openvex.schema.json") else {
            return;
        };
        let errs = bosun_testutil::schema::errors(&v, doc);
        assert!(
            errs.is_empty(),
            "not valid OpenVEX:\n{}\n{doc:#}",
            errs.join("\n")
        );
    }

    fn schema_rejects(doc: &Value) {
        if let Some(v) = bosun_testutil::schema::validator("openvex.schema.json") {
            assert!(
                !bosun_testutil::schema::errors(&v, doc).is_empty(),
                "the schema accepts {doc:#}"
            );
        }
    }

    fn doc(origin: &str, doc: Value) -> VexDocument {
        schema_valid(&doc);
        VexDocument::parse(doc.to_string().as_bytes(), origin).unwrap()
    }

    fn wrap(timestamp: &str, statements: Value) -> Value {
        json!({
            "@context": "https://openvex.dev/ns/v0.2.0",
            "@id": "https://openvex.dev/docs/example/vex-9fb3463de1b57",
            "author": "Wolfi J Inkinson",
            "timestamp": timestamp,
            "version": 1,
            "statements": statements,
        })
    }

    fn ids(list: &[Finding]) -> Vec<(&str, &str)> {
        list.iter()
            .map(|f| (f.id.as_str(), f.package.name.as_str()))
            .collect()
    }

    fn image_report(findings: Vec<Finding>) -> Report {
        let mut r = report(findings);
        r.sbom.source.kind = SourceKind::Image;
        r.sbom.source.image = Some(ImageMetadata {
            manifest_digest: Some(DIGEST.parse::<Digest>().unwrap()),
            ..Default::default()
        });
        r
    }

    /// The spec's own minimal document and its Spring Boot example (the
    /// latter with the trailing-comma typos of the spec text fixed).
    #[test]
    fn spec_examples_parse_and_apply() {
        let minimal = doc(
            "minimal.json",
            json!({
              "@context": "https://openvex.dev/ns/v0.2.0",
              "@id": "https://openvex.dev/docs/example/vex-9fb3463de1b57",
              "author": "Wolfi J Inkinson",
              "role": "Document Creator",
              "timestamp": "2023-01-08T18:02:03.647787998-06:00",
              "version": 1,
              "statements": [{
                "vulnerability": {"name": "CVE-2023-12345"},
                "products": [
                  {"@id": "pkg:apk/wolfi/git@2.39.0-r1?arch=armv7"},
                  {"@id": "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64"}
                ],
                "status": "fixed"
              }]
            }),
        );
        assert_eq!(minimal.statements[0].status, VexStatus::Fixed);
        assert_eq!(
            minimal.timestamp,
            Timestamp::parse("2023-01-09T00:02:03.647787998Z").unwrap()
        );

        let spring = doc(
            "spring.json",
            json!({
              "@context": "https://openvex.dev/ns/v0.2.0",
              "@id": "https://openvex.dev/docs/public/vex-2e67563e128250cbcb3e98930df948dd053e43271d70dc50cfa22d57e03fe96f",
              "author": "Spring Builds <spring-builds@users.noreply.github.com>",
              "role": "Project Release Bot",
              "timestamp": "2023-01-16T19:07:16.853479631-06:00",
              "version": 1,
              "statements": [{
                "vulnerability": {
                  "@id": "https://nvd.nist.gov/vuln/detail/CVE-2021-44228",
                  "name": "CVE-2021-44228",
                  "description": "Remote code injection in Log4j",
                  "aliases": ["GHSA-jfh8-c2jp-5v3q"]
                },
                "products": [{
                  "@id": "pkg:maven/org.springframework.boot/spring-boot@2.6.0-M3",
                  "identifiers": {"purl": "pkg:maven/org.springframework.boot/spring-boot@2.6.0-M3"},
                  "hashes": {"sha-256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}
                }],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
                "impact_statement": "Spring Boot users are only affected by this vulnerability if they have switched the default logging system to Log4J2."
              }]
            }),
        );
        let mut r = report(vec![
            finding(
                "CVE-2023-12345",
                &[],
                "git",
                "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64",
            ),
            finding(
                "CVE-2023-12345",
                &[],
                "git",
                "pkg:apk/wolfi/git@2.39.0-r2?arch=x86_64",
            ),
            // Matched through the alias only.
            finding(
                "GHSA-jfh8-c2jp-5v3q",
                &[],
                "spring-boot",
                "pkg:maven/org.springframework.boot/spring-boot@2.6.0-M3",
            ),
        ]);
        apply(&[minimal, spring], &mut r);
        assert_eq!(ids(&r.findings), [("CVE-2023-12345", "git")]);
        assert_eq!(
            r.findings[0].package.purl,
            "pkg:apk/wolfi/git@2.39.0-r2?arch=x86_64"
        );
        assert_eq!(
            ids(&r.suppressed),
            [
                ("CVE-2023-12345", "git"),
                ("GHSA-jfh8-c2jp-5v3q", "spring-boot")
            ]
        );
        assert_eq!(
            r.suppressed[0].suppressed,
            Some(Suppression {
                by: "vex".into(),
                reason: "fixed".into(),
                source: "minimal.json".into()
            })
        );
        let reason = &r.suppressed[1].suppressed.as_ref().unwrap().reason;
        assert!(
            reason.starts_with(
                "not_affected: vulnerable_code_not_in_execute_path; Spring Boot users"
            ),
            "{reason}"
        );
        assert!(r.notices.is_empty(), "{:?}", r.notices);
    }

    #[test]
    fn product_purl_is_version_aware() {
        let d = doc(
            "v.json",
            wrap(
                "2024-01-01T00:00:00Z",
                json!([
                  {"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "pkg:deb/debian/openssl"}],
                   "status": "not_affected", "justification": "vulnerable_code_not_present"},
                  {"vulnerability": {"name": "CVE-2"}, "products": [{"identifiers": {"purl": "pkg:deb/debian/openssl@3.0.11-1%2Bdeb12u2"}}],
                   "status": "not_affected", "impact_statement": "compiled without the engine"},
                  {"vulnerability": {"name": "CVE-3", "aliases": ["DSA-1"]}, "products": [{"@id": "pkg:npm/%40scope/pkg@1.0.0"}],
                   "status": "fixed"}
                ]),
            ),
        );
        let mut r = report(vec![
            finding(
                "CVE-1",
                &[],
                "openssl",
                "pkg:deb/debian/openssl@3.0.11-1+deb12u2?arch=amd64&distro=debian-12",
            ),
            finding(
                "CVE-1",
                &[],
                "openssl-dev",
                "pkg:deb/debian/openssl-dev@3.0.11-1?arch=amd64",
            ),
            finding(
                "CVE-2",
                &[],
                "openssl",
                "pkg:deb/debian/openssl@3.0.11-1+deb12u2?arch=amd64",
            ),
            finding(
                "CVE-2",
                &[],
                "openssl",
                "pkg:deb/debian/openssl@3.0.11-1+deb12u1?arch=amd64",
            ),
            finding("cve-3", &[], "pkg", "pkg:npm/%40scope/pkg@1.0.0"),
        ]);
        apply(&[d], &mut r);
        let suppressed: Vec<&str> = r
            .suppressed
            .iter()
            .map(|f| f.package.purl.as_str())
            .collect();
        assert_eq!(
            suppressed,
            [
                "pkg:deb/debian/openssl@3.0.11-1+deb12u2?arch=amd64&distro=debian-12",
                "pkg:deb/debian/openssl@3.0.11-1+deb12u2?arch=amd64",
                "pkg:npm/%40scope/pkg@1.0.0",
            ]
        );
        assert_eq!(
            r.suppressed[1].suppressed.as_ref().unwrap().reason,
            "not_affected: compiled without the engine"
        );
    }

    #[test]
    fn purl_cover_rules() {
        for (pattern, purl, want) in [
            (
                "pkg:deb/debian/openssl",
                "pkg:deb/debian/openssl@3?arch=amd64",
                true,
            ),
            (
                "pkg:deb/debian/openssl",
                "pkg:deb/debian/openssl-dev@3",
                false,
            ),
            (
                "pkg:deb/debian/openssl?arch=arm64",
                "pkg:deb/debian/openssl@3?arch=amd64",
                false,
            ),
            (
                "pkg:deb/debian/openssl@1%3A3?arch=amd64",
                "pkg:deb/debian/openssl@1:3?arch=amd64&distro=d",
                true,
            ),
            ("PKG:PyPI/Django_Rest@3", "pkg:pypi/django-rest@3", true),
            (
                "pkg:npm/@angular/core",
                "pkg:npm/%40angular/core@17.0.0",
                true,
            ),
            (
                "pkg:golang/github.com/A/b",
                "pkg:golang/github.com/a/b@v1",
                false,
            ),
            ("pkg:maven/g/a@1#sub", "pkg:maven/g/a@1", false),
            ("openssl", "pkg:deb/debian/openssl@3", false),
            ("pkg:", "pkg:", false),
            ("pkg:%zz/%", "pkg:%zz/%", true),
        ] {
            assert_eq!(purl_covers(pattern, purl), want, "{pattern} vs {purl}");
        }
    }

    /// The spec's timestamp inheritance example: the statement with its own
    /// (older) timestamp loses to the one inheriting the document's.
    #[test]
    fn latest_timestamp_wins() {
        let product = json!([{"@id": "pkg:apk/wolfi/git@2.39.0-r1?arch=armv7"}]);
        let git = || {
            vec![finding(
                "CVE-2023-12345",
                &[],
                "git",
                "pkg:apk/wolfi/git@2.39.0-r1?arch=armv7",
            )]
        };
        let fixed_later = doc(
            "a.json",
            wrap(
                "2023-01-09T09:08:42-06:00",
                json!([
                  {"timestamp": "2023-01-08T18:02:03-06:00", "vulnerability": {"name": "CVE-2023-12345"},
                   "products": product, "status": "under_investigation"},
                  {"vulnerability": {"name": "CVE-2023-12345"}, "products": product, "status": "fixed"}
                ]),
            ),
        );
        let mut r = report(git());
        apply(std::slice::from_ref(&fixed_later), &mut r);
        assert_eq!(r.suppressed.len(), 1);
        assert!(
            r.notices.is_empty(),
            "a statement that lost still matched: {:?}",
            r.notices
        );

        // A newer document saying "affected" (even listed first) brings it back.
        let affected_newer = doc(
            "b.json",
            wrap(
                "2023-01-09T15:08:43Z",
                json!([{"vulnerability": {"name": "CVE-2023-12345"}, "products": product,
                        "status": "affected", "action_statement": "upgrade to 2.39.0-r2"}]),
            ),
        );
        let mut r = report(git());
        apply(&[affected_newer.clone(), fixed_later.clone()], &mut r);
        assert_eq!(r.findings.len(), 1);
        // One second older than the fixed statement (15:08:42Z): the fix wins.
        let affected_older = doc(
            "c.json",
            wrap(
                "2023-01-09T16:08:41+01:00",
                json!([{"vulnerability": {"name": "CVE-2023-12345"}, "products": product,
                        "status": "affected", "action_statement": "upgrade"}]),
            ),
        );
        let mut r = report(git());
        apply(&[fixed_later, affected_older], &mut r);
        assert_eq!(r.suppressed.len(), 1);
    }

    #[test]
    fn image_product_with_subcomponents() {
        let digest_encoded = DIGEST.replace(':', "%3A");
        let findings = || {
            vec![
                finding(
                    "CVE-1",
                    &[],
                    "libssl3",
                    "pkg:deb/debian/libssl3@3.0.11-1?arch=amd64",
                ),
                finding(
                    "CVE-1",
                    &[],
                    "curl",
                    "pkg:deb/debian/curl@7.88.1-10?arch=amd64",
                ),
                finding(
                    "CVE-2",
                    &[],
                    "curl",
                    "pkg:deb/debian/curl@7.88.1-10?arch=amd64",
                ),
            ]
        };
        let d = doc(
            "image.json",
            wrap(
                "2024-02-03T09:33:28.913572+01:00",
                json!([
                  {"vulnerability": {"name": "CVE-1"},
                   "products": [{"@id": format!("pkg:oci/app@{digest_encoded}?repository_url=ghcr.io/acme/app"),
                                 "subcomponents": [{"@id": "pkg:deb/debian/libssl3"}]}],
                   "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"},
                  {"vulnerability": {"name": "CVE-2"}, "products": [{"@id": DIGEST}],
                   "status": "not_affected", "justification": "component_not_present"},
                  {"vulnerability": {"name": "CVE-1"},
                   "products": [{"@id": "pkg:oci/app@sha256%3A0000000000000000000000000000000000000000000000000000000000000000"}],
                   "status": "fixed"}
                ]),
            ),
        );
        let mut r = image_report(findings());
        apply(std::slice::from_ref(&d), &mut r);
        assert_eq!(
            ids(&r.suppressed),
            [("CVE-1", "libssl3"), ("CVE-2", "curl")]
        );
        assert_eq!(ids(&r.findings), [("CVE-1", "curl")]);
        let kinds: Vec<&str> = r.notices.iter().map(|n| n.kind.as_str()).collect();
        assert_eq!(kinds, ["stale-vex"]);
        assert_eq!(
            r.notices[0].message,
            "image.json: statements[2] (CVE-1, fixed) matched no finding"
        );

        // The product by hash, and by a purl with the digest unencoded.
        let by_hash = doc(
            "hash.json",
            wrap(
                "2024-01-01T00:00:00Z",
                json!([{"vulnerability": {"name": "CVE-1"},
                        "products": [{"identifiers": {"cpe23": "cpe:2.3:a:acme:app:1:*:*:*:*:*:*:*"},
                                      "hashes": {"sha-256": DIGEST.trim_start_matches("sha256:")}}],
                        "status": "fixed"},
                       {"vulnerability": {"name": "CVE-2"}, "products": [{"identifiers": {"purl": format!("pkg:oci/app@{DIGEST}")}}],
                        "status": "fixed"}]),
            ),
        );
        let mut r = image_report(findings());
        apply(std::slice::from_ref(&by_hash), &mut r);
        assert_eq!(r.suppressed.len(), 3);
        // Not an image scan: nothing names the image.
        let mut r = report(findings());
        apply(&[by_hash], &mut r);
        assert!(r.suppressed.is_empty());
        assert_eq!(r.notices.len(), 2);
    }

    #[test]
    fn package_product_with_subcomponents_needs_the_product_present() {
        let d = doc(
            "app.json",
            wrap(
                "2024-01-01T00:00:00Z",
                json!([{"vulnerability": {"name": "CVE-2022-24999"},
                        "products": [{"@id": "pkg:npm/scout-demo-service@1.0.0",
                                      "subcomponents": [{"@id": "pkg:npm/qs@6.7.0"}]}],
                        "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}]),
            ),
        );
        let qs = || vec![finding("CVE-2022-24999", &[], "qs", "pkg:npm/qs@6.7.0")];
        let mut r = report(qs());
        apply(std::slice::from_ref(&d), &mut r);
        assert!(r.suppressed.is_empty());
        let mut r = report(qs());
        let mut app = bosun_core::Package {
            id: "app".into(),
            name: "scout-demo-service".into(),
            version: "1.0.0".into(),
            kind: bosun_core::PackageKind::Npm,
            purl: "pkg:npm/scout-demo-service@1.0.0".into(),
            licenses: vec![],
            locations: vec![],
            found_by: "test".into(),
            metadata: bosun_core::PackageMetadata::Other,
        };
        r.sbom.packages.push(app.clone());
        apply(std::slice::from_ref(&d), &mut r);
        assert_eq!(r.suppressed.len(), 1);
        app.purl = "pkg:npm/scout-demo-service@2.0.0".into();
        let mut r = report(qs());
        r.sbom.packages.push(app);
        apply(&[d], &mut r);
        assert!(r.suppressed.is_empty());
    }

    #[test]
    fn under_investigation_and_affected_do_not_suppress() {
        let d = doc(
            "u.json",
            wrap(
                "2024-01-01T00:00:00Z",
                json!([{"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "pkg:pypi/x"}], "status": "under_investigation"},
                       {"vulnerability": {"name": "CVE-2"}, "products": [{"@id": "pkg:pypi/x"}], "status": "affected",
                        "action_statement": "upgrade"}]),
            ),
        );
        let mut r = report(vec![
            finding("CVE-1", &[], "x", "pkg:pypi/x@1"),
            finding("CVE-2", &[], "x", "pkg:pypi/x@1"),
        ]);
        // Already suppressed findings count for staleness and are left alone.
        r.suppressed
            .push(finding("CVE-3", &[], "x", "pkg:pypi/x@1"));
        apply(&[d], &mut r);
        assert_eq!(r.findings.len(), 2);
        assert_eq!(r.suppressed.len(), 1);
        assert!(r.notices.is_empty());
    }

    fn invalid(doc: &Value) -> String {
        VexDocument::parse(doc.to_string().as_bytes(), "bad.json")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn structure_is_validated_with_clear_errors() {
        let good = || {
            wrap(
                "2024-01-01T00:00:00Z",
                json!([{"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "pkg:pypi/x"}],
                        "status": "not_affected", "justification": "component_not_present"}]),
            )
        };
        schema_valid(&good());
        type Mutation = Box<dyn Fn(&mut Value)>;
        let cases: Vec<(Mutation, &str)> = vec![
            (
                Box::new(|d| drop(d.as_object_mut().unwrap().remove("@context"))),
                "bad.json: document: missing `@context`",
            ),
            (
                Box::new(|d| drop(d.as_object_mut().unwrap().remove("@id"))),
                "bad.json: document: missing `@id`",
            ),
            (
                Box::new(|d| drop(d.as_object_mut().unwrap().remove("author"))),
                "bad.json: document: missing `author`",
            ),
            (
                Box::new(|d| drop(d.as_object_mut().unwrap().remove("timestamp"))),
                "bad.json: document: missing `timestamp`",
            ),
            (
                Box::new(|d| drop(d.as_object_mut().unwrap().remove("version"))),
                "bad.json: document: missing `version`",
            ),
            (
                Box::new(|d| drop(d.as_object_mut().unwrap().remove("statements"))),
                "bad.json: document: missing `statements`",
            ),
            (
                Box::new(|d| d["statements"] = json!([])),
                "bad.json: statements: must hold at least one",
            ),
            (
                Box::new(|d| d["version"] = json!(0)),
                "bad.json: version: must be an integer",
            ),
            (
                Box::new(|d| d["version"] = json!("1")),
                "bad.json: version: must be an integer",
            ),
            (
                Box::new(|d| d["timestamp"] = json!("2024-01-01")),
                "bad.json: timestamp: \"2024-01-01\" is not an RFC 3339",
            ),
            (
                Box::new(|d| d["extra"] = json!(1)),
                "bad.json: document: unknown field \"extra\"",
            ),
            (
                Box::new(|d| drop(d["statements"][0].as_object_mut().unwrap().remove("status"))),
                "bad.json: statements[0]: missing `status`",
            ),
            (
                Box::new(|d| d["statements"][0]["status"] = json!("not affected")),
                "bad.json: statements[0].status: \"not affected\" is not one of",
            ),
            (
                Box::new(|d| {
                    drop(
                        d["statements"][0]
                            .as_object_mut()
                            .unwrap()
                            .remove("justification"),
                    )
                }),
                "bad.json: statements[0]: not_affected needs",
            ),
            (
                Box::new(|d| d["statements"][0]["justification"] = json!("because")),
                "bad.json: statements[0].justification: \"because\" is not one of",
            ),
            (
                Box::new(|d| {
                    drop(
                        d["statements"][0]
                            .as_object_mut()
                            .unwrap()
                            .remove("vulnerability"),
                    )
                }),
                "bad.json: statements[0]: missing `vulnerability`",
            ),
            (
                Box::new(|d| d["statements"][0]["vulnerability"] = json!("CVE-1")),
                "bad.json: statements[0].vulnerability: must be an object with `name`",
            ),
            (
                Box::new(|d| d["statements"][0]["vulnerability"] = json!({"id": "CVE-1"})),
                "bad.json: statements[0].vulnerability: unknown field \"id\"",
            ),
            (
                Box::new(|d| d["statements"][0]["vulnerability"] = json!({"aliases": ["CVE-1"]})),
                "bad.json: statements[0].vulnerability: missing `name`",
            ),
            (
                Box::new(|d| d["statements"][0]["vulnerability"]["aliases"] = json!([1])),
                "bad.json: statements[0].vulnerability.aliases[0]: must be",
            ),
            (
                Box::new(|d| d["statements"][0]["products"] = json!(["pkg:pypi/x"])),
                "bad.json: statements[0].products[0]: must be an object",
            ),
            (
                Box::new(|d| d["statements"][0]["products"] = json!([{"hashes": {"md5": "x"}}])),
                "bad.json: statements[0].products[0]: needs `@id` or `identifiers`",
            ),
            (
                Box::new(|d| d["statements"][0]["products"] = json!([{"identifiers": {}}])),
                "bad.json: statements[0].products[0].identifiers: must hold",
            ),
            (
                Box::new(|d| {
                    d["statements"][0]["products"] =
                        json!([{"@id": "x", "hashes": {"sha256": "x"}}])
                }),
                "bad.json: statements[0].products[0].hashes: unknown field \"sha256\"",
            ),
            (
                Box::new(|d| {
                    d["statements"][0]["products"][0]["subcomponents"] =
                        json!([{"subcomponents": []}])
                }),
                "bad.json: statements[0].products[0].subcomponents[0]: unknown field",
            ),
            (
                Box::new(|d| d["statements"][0]["timestamp"] = json!("yesterday")),
                "bad.json: statements[0].timestamp: \"yesterday\"",
            ),
            (
                Box::new(|d| d["@context"] = json!("https://cyclonedx.org/schema")),
                "bad.json: @context: \"https://cyclonedx.org/schema\" is not an OpenVEX context",
            ),
        ];
        for (mutate, want) in cases {
            let mut d = good();
            mutate(&mut d);
            let got = invalid(&d);
            assert!(got.starts_with(want), "got {got:?}, want {want:?}");
            // Wherever the schema can say it, it agrees the document is invalid.
            if !want.contains("@context: ") {
                schema_rejects(&d);
            }
        }
        // Valid per the schema, but a stand-alone document must name products.
        let mut d = good();
        d["statements"][0]
            .as_object_mut()
            .unwrap()
            .remove("products");
        schema_valid(&d);
        assert!(invalid(&d).starts_with("bad.json: statements[0]: names no product"));
    }

    #[test]
    fn timestamps_agree_with_gnu_date() {
        // Seconds from `date -u -d <t> +%s`.
        for (t, secs) in [
            ("2023-01-08T18:02:03-06:00", 1_673_222_523),
            ("2023-01-09T00:02:03Z", 1_673_222_523),
            ("2024-02-29T23:59:59+14:00", 1_709_200_799),
            ("1970-01-01T00:00:00z", 0),
        ] {
            assert_eq!(
                Timestamp::parse(t).map(Timestamp::unix_seconds),
                Some(secs),
                "{t}"
            );
        }
        let a = Timestamp::parse("2023-01-08T18:02:03.5-06:00").unwrap();
        let b = Timestamp::parse("2023-01-08T18:02:03.499999999999-06:00").unwrap();
        assert!(b < a);
        for bad in [
            "2023-01-08",
            "2023-01-08T18:02:03",
            "2023-01-08 18:02:03Z",
            "2023-01-08T24:00:00Z",
            "2023-01-08T18:02:03+0600",
            "2023-01-08T18:02:03.Z",
            "2023-02-30T00:00:00Z",
            "2023-01-08T18:02:03Zjunk",
            "2023-01-08T1８:02:03Z",
            "",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn hostile_input_errors_without_panicking() {
        let big = format!("[{}]", "1,".repeat(MAX_DOCUMENT_BYTES / 2));
        for input in [
            b"".to_vec(),
            b"\xff\xfe\x00garbage".to_vec(),
            br#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"vulnerability""#
                .to_vec(),
            "[".repeat(100_000).into_bytes(),
            b"null".to_vec(),
            b"[]".to_vec(),
            big.into_bytes(),
        ] {
            let e = VexDocument::parse(&input, "h.json")
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("h.json: document: "), "{e}");
        }
        // Many statements with huge products lists: parsed within bounds, applied quickly.
        let products: Vec<Value> = (0..1000)
            .map(|i| json!({"@id": format!("pkg:npm/p{i}")}))
            .collect();
        let statements: Vec<Value> = (0..100)
            .map(|i| json!({"vulnerability": {"name": format!("CVE-{i}")}, "products": products, "status": "fixed"}))
            .collect();
        let d = VexDocument::parse(
            wrap("2024-01-01T00:00:00Z", json!(statements))
                .to_string()
                .as_bytes(),
            "m.json",
        )
        .unwrap();
        let mut r = report(
            (0..100)
                .map(|i| finding(&format!("CVE-{i}"), &[], "p999", "pkg:npm/p999@1"))
                .collect(),
        );
        apply(&[d], &mut r);
        assert_eq!(r.suppressed.len(), 100);
        let e = VexDocument::load(Path::new("/nonexistent/vex.json")).unwrap_err();
        assert!(matches!(e, VexError::Io { .. }));
    }
}
