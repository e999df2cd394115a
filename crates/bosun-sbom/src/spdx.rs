//! SPDX 2.3 JSON, and the SPDX license-expression handling both standard
//! formats share.
//!
//! Mapping choices:
//! - The image (or directory) is a package of purpose CONTAINER (FILE) that
//!   the document DESCRIBES and that CONTAINS every package and the distro.
//! - bosun's owned-by (a language package whose files belong to an OS
//!   package) is written as `<os package> CONTAINS <language package>`, with
//!   a comment saying so. CONTAINS is the containment type every SPDX 2.3
//!   consumer already follows (it is how the image holds its packages), so
//!   tools that walk containment see the language package under the OS
//!   package that installed it; OTHER would be opaque to them and the
//!   inverse CONTAINED_BY is handled by fewer tools.
//! - Licenses: a declared SPDX expression is kept (normalised), anything else
//!   becomes a `LicenseRef-` with its text in `hasExtractedLicensingInfos`.
//! - Unknowns become document annotations (SPDX has no other place for them).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use bosun_core::digest::Algorithm;
use bosun_core::package::GoModuleRole;
use bosun_core::{Package, PackageMetadata, RelationshipKind, purl};
use serde::Serialize;

use crate::json::{self, is_hex, one_line};
use crate::model::{Sbom, SourceKind};
use crate::{SbomError, WriteOptions};

/// Base of `documentNamespace`; the document's content UUID makes it unique.
pub const NAMESPACE_BASE: &str = "https://example.invalid/bosun/spdx";
/// The license list version [`LICENSE_IDS`] and [`EXCEPTION_IDS`] come from.
const LICENSE_LIST_VERSION: &str = "3.28";
const NOASSERTION: &str = "NOASSERTION";
const DOCUMENT_ID: &str = "SPDXRef-DOCUMENT";
const OS_ID: &str = "SPDXRef-OperatingSystem";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    document_describes: Vec<String>,
    packages: Vec<SpdxPackage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicense>,
    relationships: Vec<SpdxRelationship>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    annotations: Vec<Annotation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
    license_list_version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    name: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    supplier: String,
    download_location: &'static str,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    license_concluded: &'static str,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    primary_package_purpose: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: &'static str,
    checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicense {
    license_id: String,
    extracted_text: String,
    name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxRelationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Annotation {
    annotation_date: String,
    annotation_type: &'static str,
    annotator: String,
    comment: String,
}

pub fn write(sbom: &Sbom, opts: &WriteOptions, w: &mut dyn Write) -> Result<(), SbomError> {
    json::check_ids(sbom, &[])?;
    let created = json::rfc3339(sbom.created)?;
    let uuid = json::content_uuid(sbom, "spdx")?;
    let tool = format!(
        "Tool: {}-{}",
        one_line(&sbom.tool.name),
        one_line(&sbom.tool.version)
    );
    let root = root_package(sbom);
    let root_id = root.spdx_id.clone();

    let ids = package_ids(&sbom.packages);
    let mut refs = LicenseRefs::new(&sbom.packages);
    let mut packages = vec![root];
    let mut relationships = vec![relationship(DOCUMENT_ID, "DESCRIBES", &root_id)];
    if let Some(d) = &sbom.distro {
        packages.push(SpdxPackage {
            name: d.id.clone(),
            spdx_id: OS_ID.to_string(),
            version_info: d.version_id.clone(),
            supplier: NOASSERTION.to_string(),
            download_location: NOASSERTION,
            files_analyzed: false,
            checksums: Vec::new(),
            source_info: None,
            license_concluded: NOASSERTION,
            license_declared: NOASSERTION.to_string(),
            copyright_text: NOASSERTION,
            description: d.pretty_name.clone(),
            external_refs: Vec::new(),
            primary_package_purpose: "OPERATING_SYSTEM",
        });
        relationships.push(relationship(&root_id, "CONTAINS", OS_ID));
    }
    for (p, id) in sbom.packages.iter().zip(&ids) {
        packages.push(package(p, id, &mut refs));
        relationships.push(relationship(&root_id, "CONTAINS", id));
    }

    let by_model_id: BTreeMap<&str, &str> = sbom
        .packages
        .iter()
        .zip(&ids)
        .map(|(p, id)| (p.id.as_str(), id.as_str()))
        .collect();
    let mut seen = BTreeSet::new();
    for r in &sbom.relationships {
        // A relationship to a package that is not in the document is dropped
        // rather than written as a dangling reference.
        let (Some(&from), Some(&to)) = (
            by_model_id.get(r.from.as_str()),
            by_model_id.get(r.to.as_str()),
        ) else {
            continue;
        };
        if !seen.insert((from, to, r.kind)) {
            continue;
        }
        relationships.push(match r.kind {
            RelationshipKind::DependsOn => relationship(from, "DEPENDS_ON", to),
            RelationshipKind::OwnedBy => SpdxRelationship {
                comment: Some(
                    "bosun owned-by: the contained package's files belong to this OS package",
                ),
                ..relationship(to, "CONTAINS", from)
            },
        });
    }

    let annotations = sbom
        .unknowns
        .iter()
        .map(|u| Annotation {
            annotation_date: created.clone(),
            annotation_type: "OTHER",
            annotator: tool.clone(),
            // `unknown:` for a file that did not parse, `incomplete:` or
            // `suspicious:` for the other kinds (the reader takes all three).
            comment: match &u.layer {
                Some(l) => format!(
                    "{}: {} (layer {l}) could not be read by {}: {}",
                    comment_prefix(u.kind),
                    u.path,
                    u.cataloger,
                    u.message
                ),
                None => format!(
                    "{}: {} could not be read by {}: {}",
                    comment_prefix(u.kind),
                    u.path,
                    u.cataloger,
                    u.message
                ),
            },
        })
        .collect();

    let name = if sbom.source.name.is_empty() {
        sbom.source.target.clone()
    } else {
        sbom.source.name.clone()
    };
    let kind = match sbom.source.kind {
        SourceKind::Image => "image",
        SourceKind::Directory => "dir",
    };
    let doc = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: DOCUMENT_ID,
        document_namespace: format!("{NAMESPACE_BASE}/{kind}/{}-{uuid}", purl::encode(&name)),
        name,
        creation_info: CreationInfo {
            created,
            creators: vec![tool],
            license_list_version: LICENSE_LIST_VERSION,
        },
        document_describes: vec![root_id],
        packages,
        has_extracted_licensing_infos: refs.infos,
        relationships,
        annotations,
    };
    json::emit(&doc, opts, w)
}

fn relationship(from: &str, kind: &'static str, to: &str) -> SpdxRelationship {
    SpdxRelationship {
        spdx_element_id: from.to_string(),
        relationship_type: kind,
        related_spdx_element: to.to_string(),
        comment: None,
    }
}

fn root_package(sbom: &Sbom) -> SpdxPackage {
    let src = &sbom.source;
    let image = src.image.as_ref();
    let digest = image.and_then(|i| i.manifest_digest.as_ref());
    let (spdx_id, purpose) = match src.kind {
        SourceKind::Image => ("SPDXRef-DocumentRoot-Image", "CONTAINER"),
        SourceKind::Directory => ("SPDXRef-DocumentRoot-Directory", "FILE"),
    };
    let checksums = digest
        .map(|d| Checksum {
            algorithm: match d.algorithm() {
                Algorithm::Sha256 => "SHA256",
                Algorithm::Sha512 => "SHA512",
            },
            checksum_value: d.hex().to_string(),
        })
        .into_iter()
        .collect();
    SpdxPackage {
        name: src.name.clone(),
        spdx_id: spdx_id.to_string(),
        version_info: digest
            .map(|d| d.to_string())
            .or_else(|| src.version.clone()),
        supplier: NOASSERTION.to_string(),
        download_location: NOASSERTION,
        files_analyzed: false,
        checksums,
        source_info: Some(format!("scanned from {}", src.target)),
        license_concluded: NOASSERTION,
        license_declared: NOASSERTION.to_string(),
        copyright_text: NOASSERTION,
        description: None,
        external_refs: Vec::new(),
        primary_package_purpose: purpose,
    }
}

fn package(p: &Package, spdx_id: &str, refs: &mut LicenseRefs) -> SpdxPackage {
    let mut external_refs = Vec::new();
    if !p.purl.is_empty() {
        external_refs.push(ExternalRef {
            reference_category: "PACKAGE-MANAGER",
            reference_type: "purl",
            reference_locator: p.purl.clone(),
        });
    }
    let mut checksums = Vec::new();
    match &p.metadata {
        PackageMetadata::Java(m) => {
            if let Some(h) = m.sha1.as_deref().filter(|h| is_hex(h, 40)) {
                checksums.push(Checksum {
                    algorithm: "SHA1",
                    checksum_value: h.to_ascii_lowercase(),
                });
            }
        }
        PackageMetadata::Rust(m) => {
            if let Some(h) = m.checksum.as_deref().filter(|h| is_hex(h, 64)) {
                checksums.push(Checksum {
                    algorithm: "SHA256",
                    checksum_value: h.to_ascii_lowercase(),
                });
            }
        }
        _ => {}
    }
    SpdxPackage {
        name: p.name.clone(),
        spdx_id: spdx_id.to_string(),
        version_info: Some(p.version.clone()).filter(|v| !v.is_empty()),
        supplier: supplier(p),
        download_location: NOASSERTION,
        files_analyzed: false,
        checksums,
        source_info: Some(source_info(p)),
        license_concluded: NOASSERTION,
        license_declared: refs.declared(&p.licenses),
        copyright_text: NOASSERTION,
        description: None,
        external_refs,
        primary_package_purpose: purpose(p),
    }
}

fn purpose(p: &Package) -> &'static str {
    let application = match &p.metadata {
        PackageMetadata::Go(m) => m.role == GoModuleRole::Main,
        PackageMetadata::Npm(m) => m.root_project,
        PackageMetadata::Rust(m) => m.root_project,
        _ => false,
    };
    if application {
        "APPLICATION"
    } else {
        "LIBRARY"
    }
}

/// "found by <cataloger> at <path> (layer <diff_id>), <path>...": every
/// location, since SPDX packages have no structured place for them.
fn source_info(p: &Package) -> String {
    let mut s = format!("found by {}", p.found_by);
    for (i, l) in p.locations.iter().enumerate() {
        s.push_str(if i == 0 { " at " } else { ", " });
        s.push_str(&l.path);
        if let Some(layer) = &l.layer {
            s.push_str(&format!(" (layer {layer})"));
        }
    }
    s
}

/// The OS package's maintainer / vendor as an SPDX agent, `Name <mail>`
/// rewritten to the `Name (mail)` form SPDX uses.
fn supplier(p: &Package) -> String {
    let who = match &p.metadata {
        PackageMetadata::Dpkg(m) => m.maintainer.as_deref(),
        PackageMetadata::Apk(m) => m.maintainer.as_deref(),
        PackageMetadata::Rpm(m) => m.vendor.as_deref(),
        _ => None,
    };
    let Some(who) = who
        .map(|w| one_line(w).trim().to_string())
        .filter(|w| !w.is_empty())
    else {
        return NOASSERTION.to_string();
    };
    let agent = match who.split_once('<') {
        Some((name, rest)) => match rest.split_once('>') {
            Some((mail, "")) if !name.trim().is_empty() => {
                format!("{} ({})", name.trim(), mail.trim())
            }
            _ => who.clone(),
        },
        None => who.clone(),
    };
    format!("Organization: {agent}")
}

/// `SPDXRef-Package-<purl type>-<id>`, reduced to the characters SPDXIDs may
/// hold; ids that collide once reduced get a numeric suffix.
fn package_ids(packages: &[Package]) -> Vec<String> {
    let mut used = BTreeSet::new();
    packages
        .iter()
        .map(|p| {
            let base = format!(
                "SPDXRef-Package-{}-{}",
                p.kind.purl_type(),
                id_string(&p.id, 128)
            );
            let mut id = base.clone();
            let mut n = 1;
            while !used.insert(id.clone()) {
                n += 1;
                id = format!("{base}-{n}");
            }
            id
        })
        .collect()
}

/// SPDX `idstring` characters (letters, digits, `.`, `-`), at most `max`.
fn id_string(s: &str, max: usize) -> String {
    s.chars()
        .take(max)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The document's `LicenseRef-`s: those declared by packages themselves and
/// those bosun makes for license names that are not SPDX expressions.
struct LicenseRefs {
    used: BTreeSet<String>,
    by_name: BTreeMap<String, String>,
    infos: Vec<ExtractedLicense>,
}

impl LicenseRefs {
    /// Reserve every `LicenseRef-` the packages declare first, so a name
    /// never gets a ref that some expression already means otherwise.
    fn new(packages: &[Package]) -> Self {
        let mut refs = LicenseRefs {
            used: BTreeSet::new(),
            by_name: BTreeMap::new(),
            infos: Vec::new(),
        };
        for lic in packages.iter().flat_map(|p| &p.licenses) {
            if let License::Expression(e) = classify(lic) {
                for r in license_refs(&e) {
                    if refs.used.insert(r.to_string()) {
                        refs.infos.push(ExtractedLicense {
                            license_id: r.to_string(),
                            extracted_text: lic.trim().to_string(),
                            name: r.trim_start_matches("LicenseRef-").to_string(),
                        });
                    }
                }
            }
        }
        refs
    }

    /// `licenseDeclared` for a package's license list.
    fn declared(&mut self, licenses: &[String]) -> String {
        let mut parts = Vec::new();
        for lic in licenses {
            let part = match classify(lic) {
                License::Id(id) => id.to_string(),
                License::Expression(e) => e,
                License::Name(n) if n.is_empty() => continue,
                License::Name(n) => self.for_name(&n),
            };
            if !parts.contains(&part) {
                parts.push(part);
            }
        }
        if parts.is_empty() {
            NOASSERTION.to_string()
        } else {
            and_join(&parts)
        }
    }

    fn for_name(&mut self, name: &str) -> String {
        if let Some(r) = self.by_name.get(name) {
            return r.clone();
        }
        let base = format!("LicenseRef-{}", id_string(name, 64));
        let mut r = base.clone();
        let mut n = 1;
        while self.used.contains(&r) {
            n += 1;
            r = format!("{base}-{n}");
        }
        self.used.insert(r.clone());
        self.by_name.insert(name.to_string(), r.clone());
        self.infos.push(ExtractedLicense {
            license_id: r.clone(),
            extracted_text: name.to_string(),
            name: one_line(name),
        });
        r
    }
}

/// How one declared license string maps onto SPDX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum License {
    /// A single license-list identifier, in its canonical case.
    Id(&'static str),
    /// A valid SPDX expression that is more than a bare identifier
    /// (operators, `+`, `WITH`, `LicenseRef-`), normalised.
    Expression(String),
    /// Anything else, trimmed: a free-form license name.
    Name(String),
}

/// Longest license string parsed as an expression; longer ones (whole
/// license texts pasted into metadata) are names.
const MAX_EXPRESSION_LEN: usize = 1024;
const MAX_DEPTH: usize = 16;

pub(crate) fn classify(s: &str) -> License {
    let s = s.trim();
    if s.len() > MAX_EXPRESSION_LEN {
        return License::Name(s.to_string());
    }
    let tokens = tokenize(s);
    if let [Token::Word(w)] = tokens.as_slice()
        && let Some(id) = lookup(LICENSE_IDS, w)
    {
        return License::Id(id);
    }
    let mut p = ExprParser {
        tokens: &tokens,
        pos: 0,
        out: String::new(),
    };
    match p.or_expr(0) {
        Some(()) if p.pos == tokens.len() => License::Expression(p.out),
        _ => License::Name(s.to_string()),
    }
}

/// Join expressions with AND, parenthesising compound ones.
pub(crate) fn and_join(parts: &[String]) -> String {
    if let [one] = parts {
        return one.clone();
    }
    parts
        .iter()
        .map(|p| {
            if p.contains(' ') {
                format!("({p})")
            } else {
                p.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The `LicenseRef-` identifiers in a normalised expression.
fn license_refs(expr: &str) -> impl Iterator<Item = &str> {
    expr.split([' ', '(', ')'])
        .filter(|t| t.starts_with("LicenseRef-"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    Open,
    Close,
    Word(&'a str),
}

fn tokenize(s: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() || c == '(' || c == ')' {
            if let Some(st) = start.take() {
                out.push(Token::Word(&s[st..i]));
            }
            match c {
                '(' => out.push(Token::Open),
                ')' => out.push(Token::Close),
                _ => {}
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(st) = start {
        out.push(Token::Word(&s[st..]));
    }
    out
}

/// Recursive descent over SPDX 2.3 Annex D: OR binds loosest, then AND, then
/// WITH. Operators are accepted in any case and written upper-case;
/// identifiers are written in their canonical case.
struct ExprParser<'a, 't> {
    tokens: &'t [Token<'a>],
    pos: usize,
    out: String,
}

impl ExprParser<'_, '_> {
    fn peek_op(&self, op: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Token::Word(w)) if w.eq_ignore_ascii_case(op))
    }

    fn or_expr(&mut self, depth: usize) -> Option<()> {
        self.and_expr(depth)?;
        while self.peek_op("OR") {
            self.pos += 1;
            self.out.push_str(" OR ");
            self.and_expr(depth)?;
        }
        Some(())
    }

    fn and_expr(&mut self, depth: usize) -> Option<()> {
        self.term(depth)?;
        while self.peek_op("AND") {
            self.pos += 1;
            self.out.push_str(" AND ");
            self.term(depth)?;
        }
        Some(())
    }

    fn term(&mut self, depth: usize) -> Option<()> {
        let tok = *self.tokens.get(self.pos)?;
        self.pos += 1;
        match tok {
            Token::Open if depth < MAX_DEPTH => {
                self.out.push('(');
                self.or_expr(depth + 1)?;
                if self.tokens.get(self.pos) != Some(&Token::Close) {
                    return None;
                }
                self.pos += 1;
                self.out.push(')');
                Some(())
            }
            Token::Word(w) => {
                self.simple(w)?;
                if self.peek_op("WITH") {
                    self.pos += 1;
                    let Some(Token::Word(e)) = self.tokens.get(self.pos) else {
                        return None;
                    };
                    self.pos += 1;
                    self.out.push_str(" WITH ");
                    self.out.push_str(lookup(EXCEPTION_IDS, e)?);
                }
                Some(())
            }
            _ => None,
        }
    }

    fn simple(&mut self, w: &str) -> Option<()> {
        if ["AND", "OR", "WITH"]
            .iter()
            .any(|op| w.eq_ignore_ascii_case(op))
        {
            return None;
        }
        if let Some(id) = lookup(LICENSE_IDS, w) {
            self.out.push_str(id);
        } else if let Some(id) = w.strip_suffix('+').and_then(|b| lookup(LICENSE_IDS, b)) {
            self.out.push_str(id);
            self.out.push('+');
        } else if w.strip_prefix("LicenseRef-").is_some_and(|r| {
            !r.is_empty()
                && r.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        }) {
            self.out.push_str(w);
        } else {
            return None;
        }
        Some(())
    }
}

/// Case-insensitive lookup (SPDX identifiers match regardless of case),
/// returning the canonical spelling.
fn lookup(list: &'static [&'static str], w: &str) -> Option<&'static str> {
    list.binary_search_by(|probe| cmp_ignore_case(probe, w))
        .ok()
        .and_then(|i| list.get(i).copied())
}

fn cmp_ignore_case(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// SPDX License List 3.28 license identifiers (deprecated ones included: they
/// are still valid in expressions), sorted case-insensitively for lookup.
#[rustfmt::skip]
const LICENSE_IDS: &[&str] = &[
    "0BSD", "3D-Slicer-1.0", "AAL", "Abstyles", "AdaCore-doc", "Adobe-2006",
    "Adobe-Display-PostScript", "Adobe-Glyph", "Adobe-Utopia", "ADSL",
    "Advanced-Cryptics-Dictionary", "AFL-1.1", "AFL-1.2", "AFL-2.0", "AFL-2.1", "AFL-3.0",
    "Afmparse", "AGPL-1.0", "AGPL-1.0-only", "AGPL-1.0-or-later", "AGPL-3.0", "AGPL-3.0-only",
    "AGPL-3.0-or-later", "Aladdin", "ALGLIB-Documentation", "AMD-newlib", "AMDPLPA", "AML",
    "AML-glslang", "AMPAS", "ANTLR-PD", "ANTLR-PD-fallback", "any-OSI", "any-OSI-perl-modules",
    "Apache-1.0", "Apache-1.1", "Apache-2.0", "APAFML", "APL-1.0", "App-s2p", "APSL-1.0",
    "APSL-1.1", "APSL-1.2", "APSL-2.0", "Arphic-1999", "Artistic-1.0", "Artistic-1.0-cl8",
    "Artistic-1.0-Perl", "Artistic-2.0", "Artistic-dist", "Aspell-RU", "ASWF-Digital-Assets-1.0",
    "ASWF-Digital-Assets-1.1", "Baekmuk", "Bahyph", "Barr", "bcrypt-Solar-Designer", "Beerware",
    "Bitstream-Charter", "Bitstream-Vera", "BitTorrent-1.0", "BitTorrent-1.1", "blessing",
    "BlueOak-1.0.0", "Boehm-GC", "Boehm-GC-without-fee", "BOLA-1.1", "Borceux",
    "Brian-Gladman-2-Clause", "Brian-Gladman-3-Clause", "BSD-1-Clause", "BSD-2-Clause",
    "BSD-2-Clause-Darwin", "BSD-2-Clause-first-lines", "BSD-2-Clause-FreeBSD",
    "BSD-2-Clause-NetBSD", "BSD-2-Clause-Patent", "BSD-2-Clause-pkgconf-disclaimer",
    "BSD-2-Clause-Views", "BSD-3-Clause", "BSD-3-Clause-acpica", "BSD-3-Clause-Attribution",
    "BSD-3-Clause-Clear", "BSD-3-Clause-flex", "BSD-3-Clause-HP", "BSD-3-Clause-LBNL",
    "BSD-3-Clause-Modification", "BSD-3-Clause-No-Military-License",
    "BSD-3-Clause-No-Nuclear-License", "BSD-3-Clause-No-Nuclear-License-2014",
    "BSD-3-Clause-No-Nuclear-Warranty", "BSD-3-Clause-Open-MPI", "BSD-3-Clause-Sun",
    "BSD-3-Clause-Tso", "BSD-4-Clause", "BSD-4-Clause-Shortened", "BSD-4-Clause-UC", "BSD-4.3RENO",
    "BSD-4.3TAHOE", "BSD-Advertising-Acknowledgement", "BSD-Attribution-HPND-disclaimer",
    "BSD-Inferno-Nettverk", "BSD-Mark-Modifications", "BSD-Protection",
    "BSD-Source-beginning-file", "BSD-Source-Code", "BSD-Systemics", "BSD-Systemics-W3Works",
    "BSL-1.0", "Buddy", "BUSL-1.1", "bzip2-1.0.5", "bzip2-1.0.6", "C-UDA-1.0", "CAL-1.0",
    "CAL-1.0-Combined-Work-Exception", "Caldera", "Caldera-no-preamble", "CAPEC-tou", "Catharon",
    "CATOSL-1.1", "CC-BY-1.0", "CC-BY-2.0", "CC-BY-2.5", "CC-BY-2.5-AU", "CC-BY-3.0",
    "CC-BY-3.0-AT", "CC-BY-3.0-AU", "CC-BY-3.0-DE", "CC-BY-3.0-IGO", "CC-BY-3.0-NL",
    "CC-BY-3.0-US", "CC-BY-4.0", "CC-BY-NC-1.0", "CC-BY-NC-2.0", "CC-BY-NC-2.5", "CC-BY-NC-3.0",
    "CC-BY-NC-3.0-DE", "CC-BY-NC-4.0", "CC-BY-NC-ND-1.0", "CC-BY-NC-ND-2.0", "CC-BY-NC-ND-2.5",
    "CC-BY-NC-ND-3.0", "CC-BY-NC-ND-3.0-DE", "CC-BY-NC-ND-3.0-IGO", "CC-BY-NC-ND-4.0",
    "CC-BY-NC-SA-1.0", "CC-BY-NC-SA-2.0", "CC-BY-NC-SA-2.0-DE", "CC-BY-NC-SA-2.0-FR",
    "CC-BY-NC-SA-2.0-UK", "CC-BY-NC-SA-2.5", "CC-BY-NC-SA-3.0", "CC-BY-NC-SA-3.0-DE",
    "CC-BY-NC-SA-3.0-IGO", "CC-BY-NC-SA-4.0", "CC-BY-ND-1.0", "CC-BY-ND-2.0", "CC-BY-ND-2.5",
    "CC-BY-ND-3.0", "CC-BY-ND-3.0-DE", "CC-BY-ND-4.0", "CC-BY-SA-1.0", "CC-BY-SA-2.0",
    "CC-BY-SA-2.0-UK", "CC-BY-SA-2.1-JP", "CC-BY-SA-2.5", "CC-BY-SA-3.0", "CC-BY-SA-3.0-AT",
    "CC-BY-SA-3.0-DE", "CC-BY-SA-3.0-IGO", "CC-BY-SA-4.0", "CC-PDDC", "CC-PDM-1.0", "CC-SA-1.0",
    "CC0-1.0", "CDDL-1.0", "CDDL-1.1", "CDL-1.0", "CDLA-Permissive-1.0", "CDLA-Permissive-2.0",
    "CDLA-Sharing-1.0", "CECILL-1.0", "CECILL-1.1", "CECILL-2.0", "CECILL-2.1", "CECILL-B",
    "CECILL-C", "CERN-OHL-1.1", "CERN-OHL-1.2", "CERN-OHL-P-2.0", "CERN-OHL-S-2.0",
    "CERN-OHL-W-2.0", "CFITSIO", "check-cvs", "checkmk", "ClArtistic", "Clips", "CMU-Mach",
    "CMU-Mach-nodoc", "CNRI-Jython", "CNRI-Python", "CNRI-Python-GPL-Compatible", "COIL-1.0",
    "Community-Spec-1.0", "Condor-1.1", "copyleft-next-0.3.0", "copyleft-next-0.3.1",
    "Cornell-Lossless-JPEG", "CPAL-1.0", "CPL-1.0", "CPOL-1.02", "Cronyx", "Crossword",
    "CryptoSwift", "CrystalStacker", "CUA-OPL-1.0", "Cube", "curl", "cve-tou", "D-FSL-1.0",
    "DEC-3-Clause", "diffmark", "DL-DE-BY-2.0", "DL-DE-ZERO-2.0", "DOC", "DocBook-DTD",
    "DocBook-Schema", "DocBook-Stylesheet", "DocBook-XML", "Dotseqn", "DRL-1.0", "DRL-1.1", "DSDP",
    "dtoa", "dvipdfm", "ECL-1.0", "ECL-2.0", "eCos-2.0", "EFL-1.0", "EFL-2.0", "eGenix",
    "Elastic-2.0", "Entessa", "EPICS", "EPL-1.0", "EPL-2.0", "ErlPL-1.1", "ESA-PL-permissive-2.4",
    "ESA-PL-strong-copyleft-2.4", "ESA-PL-weak-copyleft-2.4", "etalab-2.0", "EUDatagrid",
    "EUPL-1.0", "EUPL-1.1", "EUPL-1.2", "Eurosym", "Fair", "FBM", "FDK-AAC", "Ferguson-Twofish",
    "Frameworx-1.0", "FreeBSD-DOC", "FreeImage", "FSFAP", "FSFAP-no-warranty-disclaimer", "FSFUL",
    "FSFULLR", "FSFULLRSD", "FSFULLRWD", "FSL-1.1-ALv2", "FSL-1.1-MIT", "FTL", "Furuseth", "fwlw",
    "Game-Programming-Gems", "GCR-docs", "GD", "generic-xts", "GFDL-1.1",
    "GFDL-1.1-invariants-only", "GFDL-1.1-invariants-or-later", "GFDL-1.1-no-invariants-only",
    "GFDL-1.1-no-invariants-or-later", "GFDL-1.1-only", "GFDL-1.1-or-later", "GFDL-1.2",
    "GFDL-1.2-invariants-only", "GFDL-1.2-invariants-or-later", "GFDL-1.2-no-invariants-only",
    "GFDL-1.2-no-invariants-or-later", "GFDL-1.2-only", "GFDL-1.2-or-later", "GFDL-1.3",
    "GFDL-1.3-invariants-only", "GFDL-1.3-invariants-or-later", "GFDL-1.3-no-invariants-only",
    "GFDL-1.3-no-invariants-or-later", "GFDL-1.3-only", "GFDL-1.3-or-later", "Giftware", "GL2PS",
    "Glide", "Glulxe", "GLWTPL", "gnuplot", "GPL-1.0", "GPL-1.0+", "GPL-1.0-only",
    "GPL-1.0-or-later", "GPL-2.0", "GPL-2.0+", "GPL-2.0-only", "GPL-2.0-or-later",
    "GPL-2.0-with-autoconf-exception", "GPL-2.0-with-bison-exception",
    "GPL-2.0-with-classpath-exception", "GPL-2.0-with-font-exception",
    "GPL-2.0-with-GCC-exception", "GPL-3.0", "GPL-3.0+", "GPL-3.0-only", "GPL-3.0-or-later",
    "GPL-3.0-with-autoconf-exception", "GPL-3.0-with-GCC-exception", "Graphics-Gems", "gSOAP-1.3b",
    "gtkbook", "Gutmann", "HaskellReport", "HDF5", "hdparm", "HIDAPI", "Hippocratic-2.1",
    "HP-1986", "HP-1989", "HPND", "HPND-DEC", "HPND-doc", "HPND-doc-sell", "HPND-export-US",
    "HPND-export-US-acknowledgement", "HPND-export-US-modify", "HPND-export2-US",
    "HPND-Fenneberg-Livingston", "HPND-INRIA-IMAG", "HPND-Intel", "HPND-Kevlin-Henney",
    "HPND-Markus-Kuhn", "HPND-merchantability-variant", "HPND-MIT-disclaimer", "HPND-Netrek",
    "HPND-Pbmplus", "HPND-sell-MIT-disclaimer-xserver", "HPND-sell-regexpr", "HPND-sell-variant",
    "HPND-sell-variant-critical-systems", "HPND-sell-variant-MIT-disclaimer",
    "HPND-sell-variant-MIT-disclaimer-rev", "HPND-SMC", "HPND-UC", "HPND-UC-export-US", "HTMLTIDY",
    "hyphen-bulgarian", "IBM-pibs", "ICU", "IEC-Code-Components-EULA", "IJG", "IJG-short",
    "ImageMagick", "iMatix", "Imlib2", "Info-ZIP", "Inner-Net-2.0", "InnoSetup", "Intel",
    "Intel-ACPI", "Interbase-1.0", "IPA", "IPL-1.0", "ISC", "ISC-Veillard", "ISO-permission",
    "Jam", "JasPer-2.0", "jove", "JPL-image", "JPNIC", "JSON", "Kastrup", "Kazlib", "Knuth-CTAN",
    "LAL-1.2", "LAL-1.3", "Latex2e", "Latex2e-translated-notice", "Leptonica", "LGPL-2.0",
    "LGPL-2.0+", "LGPL-2.0-only", "LGPL-2.0-or-later", "LGPL-2.1", "LGPL-2.1+", "LGPL-2.1-only",
    "LGPL-2.1-or-later", "LGPL-3.0", "LGPL-3.0+", "LGPL-3.0-only", "LGPL-3.0-or-later", "LGPLLR",
    "Libpng", "libpng-1.6.35", "libpng-2.0", "libselinux-1.0", "libtiff", "libutil-David-Nugent",
    "LiLiQ-P-1.1", "LiLiQ-R-1.1", "LiLiQ-Rplus-1.1", "Linux-man-pages-1-para",
    "Linux-man-pages-copyleft", "Linux-man-pages-copyleft-2-para", "Linux-man-pages-copyleft-var",
    "Linux-OpenIB", "LOOP", "LPD-document", "LPL-1.0", "LPL-1.02", "LPPL-1.0", "LPPL-1.1",
    "LPPL-1.2", "LPPL-1.3a", "LPPL-1.3c", "lsof", "Lucida-Bitmap-Fonts", "LZMA-SDK-9.11-to-9.20",
    "LZMA-SDK-9.22", "Mackerras-3-Clause", "Mackerras-3-Clause-acknowledgment", "magaz",
    "mailprio", "MakeIndex", "man2html", "Martin-Birgmeier", "McPhee-slideshow", "metamail",
    "Minpack", "MIPS", "MirOS", "MIT", "MIT-0", "MIT-advertising", "MIT-Click", "MIT-CMU",
    "MIT-enna", "MIT-feh", "MIT-Festival", "MIT-Khronos-old", "MIT-Modern-Variant",
    "MIT-open-group", "MIT-STK", "MIT-testregex", "MIT-Wu", "MITNFA", "MMIXware", "MMPL-1.0.1",
    "Motosoto", "MPEG-SSG", "mpi-permissive", "mpich2", "MPL-1.0", "MPL-1.1", "MPL-2.0",
    "MPL-2.0-no-copyleft-exception", "mplus", "MS-LPL", "MS-PL", "MS-RL", "MTLL", "MulanPSL-1.0",
    "MulanPSL-2.0", "Multics", "Mup", "NAIST-2003", "NASA-1.3", "Naumen", "NBPL-1.0", "NCBI-PD",
    "NCGL-UK-2.0", "NCL", "NCSA", "Net-SNMP", "NetCDF", "Newsletr", "NGPL", "ngrep", "NICTA-1.0",
    "NIST-PD", "NIST-PD-fallback", "NIST-PD-TNT", "NIST-Software", "NLOD-1.0", "NLOD-2.0", "NLPL",
    "Nokia", "NOSL", "Noweb", "NPL-1.0", "NPL-1.1", "NPOSL-3.0", "NRL", "NTIA-PD", "NTP", "NTP-0",
    "Nunit", "O-UDA-1.0", "OAR", "OCCT-PL", "OCLC-2.0", "ODbL-1.0", "ODC-By-1.0", "OFFIS",
    "OFL-1.0", "OFL-1.0-no-RFN", "OFL-1.0-RFN", "OFL-1.1", "OFL-1.1-no-RFN", "OFL-1.1-RFN",
    "OGC-1.0", "OGDL-Taiwan-1.0", "OGL-Canada-2.0", "OGL-UK-1.0", "OGL-UK-2.0", "OGL-UK-3.0",
    "OGTSL", "OLDAP-1.1", "OLDAP-1.2", "OLDAP-1.3", "OLDAP-1.4", "OLDAP-2.0", "OLDAP-2.0.1",
    "OLDAP-2.1", "OLDAP-2.2", "OLDAP-2.2.1", "OLDAP-2.2.2", "OLDAP-2.3", "OLDAP-2.4", "OLDAP-2.5",
    "OLDAP-2.6", "OLDAP-2.7", "OLDAP-2.8", "OLFL-1.3", "OML", "OpenMDW-1.0", "OpenPBS-2.3",
    "OpenSSL", "OpenSSL-standalone", "OpenVision", "OPL-1.0", "OPL-UK-3.0", "OPUBL-1.0", "OSC-1.0",
    "OSET-PL-2.1", "OSL-1.0", "OSL-1.1", "OSL-2.0", "OSL-2.1", "OSL-3.0", "OSSP", "PADL",
    "ParaType-Free-Font-1.3", "Parity-6.0.0", "Parity-7.0.0", "PDDL-1.0", "PHP-3.0", "PHP-3.01",
    "Pixar", "pkgconf", "Plexus", "pnmstitch", "PolyForm-Noncommercial-1.0.0",
    "PolyForm-Small-Business-1.0.0", "PostgreSQL", "PPL", "PSF-2.0", "psfrag", "psutils",
    "Python-2.0", "Python-2.0.1", "python-ldap", "Qhull", "QPL-1.0", "QPL-1.0-INRIA-2004", "radvd",
    "Rdisc", "RHeCos-1.1", "RPL-1.1", "RPL-1.5", "RPSL-1.0", "RSA-MD", "RSCPL", "Ruby", "Ruby-pty",
    "SAX-PD", "SAX-PD-2.0", "Saxpath", "SCEA", "SchemeReport", "Sendmail", "Sendmail-8.23",
    "Sendmail-Open-Source-1.1", "SGI-B-1.0", "SGI-B-1.1", "SGI-B-2.0", "SGI-OpenGL", "SGMLUG-PM",
    "SGP4", "SHL-0.5", "SHL-0.51", "SimPL-2.0", "SISSL", "SISSL-1.2", "SL", "Sleepycat",
    "SMAIL-GPL", "SMLNJ", "SMPPL", "SNIA", "snprintf", "SOFA", "softSurfer", "Soundex",
    "Spencer-86", "Spencer-94", "Spencer-99", "SPL-1.0", "ssh-keyscan", "SSH-OpenSSH", "SSH-short",
    "SSLeay-standalone", "SSPL-1.0", "StandardML-NJ", "SugarCRM-1.1.3", "SUL-1.0", "Sun-PPP",
    "Sun-PPP-2000", "SunPro", "SWL", "swrule", "Symlinks", "TAPR-OHL-1.0", "TCL", "TCP-wrappers",
    "TekHVC", "TermReadKey", "TGPPL-1.0", "ThirdEye", "threeparttable", "TMate", "TORQUE-1.1",
    "TOSL", "TPDL", "TPL-1.0", "TrustedQSL", "TTWL", "TTYP0", "TU-Berlin-1.0", "TU-Berlin-2.0",
    "Ubuntu-font-1.0", "UCAR", "UCL-1.0", "ulem", "UMich-Merit", "Unicode-3.0", "Unicode-DFS-2015",
    "Unicode-DFS-2016", "Unicode-TOU", "UnixCrypt", "Unlicense", "Unlicense-libtelnet",
    "Unlicense-libwhirlpool", "UnRAR", "UPL-1.0", "URT-RLE", "Vim", "Vixie-Cron", "VOSTROM",
    "VSL-1.0", "W3C", "W3C-19980720", "W3C-20150513", "w3m", "Watcom-1.0", "Widget-Workshop",
    "WordNet", "Wsuipa", "WTFNMFPL", "WTFPL", "wwl", "wxWindows", "X11",
    "X11-distribute-modifications-variant", "X11-no-permit-persons", "X11-swapped", "Xdebug-1.03",
    "Xerox", "Xfig", "XFree86-1.1", "xinetd", "xkeyboard-config-Zinoviev", "xlock", "Xnet", "xpp",
    "XSkat", "xzoom", "YPL-1.0", "YPL-1.1", "Zed", "Zeeff", "Zend-2.0", "Zimbra-1.3", "Zimbra-1.4",
    "Zlib", "zlib-acknowledgement", "ZPL-1.1", "ZPL-2.0", "ZPL-2.1",
];

/// SPDX License List 3.28 exception identifiers, sorted case-insensitively.
#[rustfmt::skip]
const EXCEPTION_IDS: &[&str] = &[
    "389-exception", "Asterisk-exception", "Asterisk-linking-protocols-exception",
    "Autoconf-exception-2.0", "Autoconf-exception-3.0", "Autoconf-exception-generic",
    "Autoconf-exception-generic-3.0", "Autoconf-exception-macro", "Bison-exception-1.24",
    "Bison-exception-2.2", "Bootloader-exception", "CGAL-linking-exception",
    "Classpath-exception-2.0", "Classpath-exception-2.0-short", "CLISP-exception-2.0",
    "cryptsetup-OpenSSL-exception", "Digia-Qt-LGPL-exception-1.1", "DigiRule-FOSS-exception",
    "eCos-exception-2.0", "erlang-otp-linking-exception", "Fawkes-Runtime-exception",
    "FLTK-exception", "fmt-exception", "Font-exception-2.0", "freertos-exception-2.0",
    "GCC-exception-2.0", "GCC-exception-2.0-note", "GCC-exception-3.1", "Gmsh-exception",
    "GNAT-exception", "GNOME-examples-exception", "GNU-compiler-exception",
    "gnu-javamail-exception", "GPL-3.0-389-ds-base-exception", "GPL-3.0-interface-exception",
    "GPL-3.0-linking-exception", "GPL-3.0-linking-source-exception", "GPL-CC-1.0",
    "GStreamer-exception-2005", "GStreamer-exception-2008", "harbour-exception",
    "i2p-gpl-java-exception", "Independent-modules-exception", "KiCad-libraries-exception",
    "kvirc-openssl-exception", "LGPL-3.0-linking-exception", "libpri-OpenH323-exception",
    "Libtool-exception", "Linux-syscall-note", "LLGPL", "LLVM-exception", "LZMA-exception",
    "mif-exception", "mxml-exception", "Nokia-Qt-exception-1.1", "OCaml-LGPL-linking-exception",
    "OCCT-exception-1.0", "OpenJDK-assembly-exception-1.0", "openvpn-openssl-exception",
    "PCRE2-exception", "polyparse-exception", "PS-or-PDF-font-exception-20170817",
    "QPL-1.0-INRIA-2004-exception", "Qt-GPL-exception-1.0", "Qt-LGPL-exception-1.1",
    "Qwt-exception-1.0", "romic-exception", "RRDtool-FLOSS-exception-2.0",
    "rsync-linking-exception", "SANE-exception", "SHL-2.0", "SHL-2.1",
    "Simple-Library-Usage-exception", "sqlitestudio-OpenSSL-exception", "stunnel-exception",
    "SWI-exception", "Swift-exception", "Texinfo-exception", "u-boot-exception-2.0",
    "UBDL-exception", "Universal-FOSS-exception-1.0", "vsftpd-openssl-exception",
    "WxWindows-exception-3.1", "x11vnc-openssl-exception",
];

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn id_lists_are_sorted_for_lookup() {
        for list in [LICENSE_IDS, EXCEPTION_IDS] {
            assert!(list.windows(2).all(|w| cmp_ignore_case(w[0], w[1]).is_lt()));
        }
    }

    #[test]
    fn classifies_ids_expressions_and_names() {
        assert_eq!(classify("MIT"), License::Id("MIT"));
        assert_eq!(classify(" apache-2.0 "), License::Id("Apache-2.0"));
        assert_eq!(classify("GPL-2.0+"), License::Id("GPL-2.0+"));
        assert_eq!(
            classify("MIT or  Apache-2.0"),
            License::Expression("MIT OR Apache-2.0".into())
        );
        assert_eq!(
            classify("(MIT AND BSD-3-Clause) OR gpl-3.0-only WITH classpath-exception-2.0"),
            License::Expression(
                "(MIT AND BSD-3-Clause) OR GPL-3.0-only WITH Classpath-exception-2.0".into()
            )
        );
        assert_eq!(
            classify("Apache-2.0+"),
            License::Expression("Apache-2.0+".into())
        );
        assert_eq!(
            classify("LicenseRef-acme"),
            License::Expression("LicenseRef-acme".into())
        );
        for name in [
            "GPL-2+",
            "Public Domain",
            "BSD-like",
            "MIT OR",
            "OR MIT",
            "(MIT",
            "MIT)",
            "MIT WITH MIT",
            "MIT AND AND MIT",
            "LicenseRef-",
            "LicenseRef-a b",
            "",
        ] {
            assert_eq!(
                classify(name),
                License::Name(name.trim().to_string()),
                "{name:?}"
            );
        }
    }

    #[test]
    fn hostile_expressions_are_names_not_panics() {
        let deep = format!("{}MIT{}", "(".repeat(200), ")".repeat(200));
        assert!(matches!(classify(&deep), License::Name(_)));
        let long = vec!["MIT"; 1000].join(" OR ");
        assert!(matches!(classify(&long), License::Name(_)));
        let nested_ok = format!("{}MIT{}", "(".repeat(5), ")".repeat(5));
        assert!(matches!(classify(&nested_ok), License::Expression(_)));
        assert!(matches!(classify("\u{1b}[31mMIT"), License::Name(_)));
    }

    #[test]
    fn and_join_parenthesises_compound_parts() {
        let parts = vec!["MIT OR Apache-2.0".to_string(), "Zlib".to_string()];
        assert_eq!(and_join(&parts), "(MIT OR Apache-2.0) AND Zlib");
        assert_eq!(and_join(&parts[1..]), "Zlib");
    }

    #[test]
    fn supplier_from_maintainer() {
        let mut p = Package {
            id: "x".into(),
            name: "zlib1g".into(),
            version: "1".into(),
            kind: bosun_core::PackageKind::Deb,
            purl: String::new(),
            licenses: vec![],
            locations: vec![],
            found_by: "dpkg".into(),
            metadata: PackageMetadata::Dpkg(bosun_core::package::DpkgMetadata {
                maintainer: Some("Mark Brown <broonie@debian.org>".into()),
                ..Default::default()
            }),
        };
        assert_eq!(
            supplier(&p),
            "Organization: Mark Brown (broonie@debian.org)"
        );
        p.metadata = PackageMetadata::Other;
        assert_eq!(supplier(&p), "NOASSERTION");
    }
}

/// The first word of an unknown's annotation comment.
pub(crate) fn comment_prefix(kind: bosun_core::UnknownKind) -> &'static str {
    match kind {
        bosun_core::UnknownKind::Unparsed => "unknown",
        k => k.as_str(),
    }
}
