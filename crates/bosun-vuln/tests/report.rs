//! The report formats rendered from a real SBOM (the python-app fixture's
//! packages, as the native tools list them in truth/python-app.json) with
//! findings built here as inputs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use bosun_core::package::{DpkgMetadata, PythonMetadata};
use bosun_core::{Distro, Location, Package, PackageKind, PackageMetadata};
use bosun_sbom::{Sbom, SourceInfo, SourceKind, Tool};
use bosun_testutil::schema::{errors, validator};
use bosun_vuln::report::{self, Format, Options};
use bosun_vuln::{
    DbInfo, Finding, MatchDetail, MatchKind, Notice, PackageRef, Report, Status, Suppression,
};
use bosun_vulndb::{Epss, KevEntry, Score, Severity};
use serde_json::Value;

fn distro() -> Distro {
    Distro {
        id: "debian".into(),
        version_id: Some("12".into()),
        version_codename: Some("bookworm".into()),
        pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
        id_like: Vec::new(),
    }
}

fn sbom_of(packages: Vec<Package>) -> Sbom {
    Sbom {
        tool: Tool {
            name: "bosun".into(),
            version: "0.1.0".into(),
        },
        created: 1_700_000_000,
        source: SourceInfo {
            kind: SourceKind::Image,
            target: "oci:images/oci/python-app:latest".into(),
            name: "python-app".into(),
            version: Some("latest".into()),
            image: None,
        },
        distro: Some(distro()),
        packages,
        relationships: Vec::new(),
        unknowns: Vec::new(),
    }
}

/// The python-app image's dpkg and pip packages from the fixture truth.
fn real_sbom() -> Option<Sbom> {
    let path = bosun_testutil::fixture("truth/python-app.json")?;
    let truth: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let d = distro();
    let mut packages = Vec::new();
    let mut ids = BTreeSet::new();
    for p in truth["packages"].as_array().unwrap() {
        let s = |k: &str| p[k].as_str().unwrap_or_default().to_string();
        let (kind, metadata) = match p["ecosystem"].as_str().unwrap() {
            "deb" => (
                PackageKind::Deb,
                PackageMetadata::Dpkg(DpkgMetadata {
                    source: s("source_name"),
                    source_version: s("source_version"),
                    architecture: s("arch"),
                    ..DpkgMetadata::default()
                }),
            ),
            "pypi" => (
                PackageKind::Python,
                PackageMetadata::Python(PythonMetadata {
                    site_dir: s("site_dir"),
                    installer: Some(s("installer")),
                    files: Vec::new(),
                }),
            ),
            _ => continue,
        };
        let id = format!("{}:{}@{}", kind.purl_type(), s("name"), s("version"));
        if !ids.insert(id.clone()) {
            continue;
        }
        let mut pkg = Package {
            id,
            name: s("name"),
            version: s("version"),
            kind,
            purl: String::new(),
            licenses: Vec::new(),
            locations: vec![Location {
                path: s("path"),
                layer: None,
            }],
            found_by: "test".into(),
            metadata,
        };
        pkg.purl = pkg.compute_purl(Some(&d));
        packages.push(pkg);
    }
    assert!(packages.len() > 100, "{} packages", packages.len());
    Some(sbom_of(packages))
}

fn package<'a>(sbom: &'a Sbom, name: &str) -> &'a Package {
    sbom.packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("{name} is not in the SBOM"))
}

fn finding(p: &Package, id: &str, severity: Severity) -> Finding {
    Finding {
        id: id.into(),
        aliases: Vec::new(),
        package: PackageRef {
            id: p.id.clone(),
            name: p.name.clone(),
            version: p.version.clone(),
            kind: p.kind,
            purl: p.purl.clone(),
            locations: p.locations.clone(),
        },
        installed_version: p.version.clone(),
        fixed_versions: Vec::new(),
        status: Status::Unfixed,
        status_note: None,
        severity,
        severity_source: "test".into(),
        scores: Vec::new(),
        kev: None,
        epss: None,
        summary: None,
        references: Vec::new(),
        cwes: Vec::new(),
        published: None,
        modified: None,
        data_sources: vec!["osv-PyPI".into()],
        matched: MatchDetail {
            kind: MatchKind::ExactPackage,
            ecosystem: "PyPI".into(),
            name: p.name.clone(),
            version: p.version.clone(),
        },
        suppressed: None,
    }
}

fn fixed(mut f: Finding, versions: &[&str]) -> Finding {
    f.status = Status::Fixed;
    f.fixed_versions = versions.iter().map(|v| v.to_string()).collect();
    f
}

fn db() -> DbInfo {
    DbInfo {
        built: "2025-01-02T03:04:05Z".into(),
        schema_version: 1,
        sources: vec!["osv-PyPI".into(), "kev".into()],
    }
}

/// A report over the real SBOM covering every kind of finding the formats
/// treat differently.
fn report(sbom: Sbom) -> Report {
    let mut django = fixed(
        finding(
            package(&sbom, "Django"),
            "CVE-2019-14234",
            Severity::Critical,
        ),
        &["2.2.4", "2.1.11"],
    );
    django.aliases = vec!["GHSA-6r97-cj55-9w6v".into(), "PYSEC-2019-11".into()];
    django.summary = Some("SQL injection in key and index lookups for JSONField".into());
    django.scores = vec![Score {
        kind: "CVSS_V3".into(),
        vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
        base_score: Some(9.8),
    }];
    django.references =
        vec!["https://www.djangoproject.com/weblog/2019/aug/01/security-releases/".into()];
    django.epss = Some(Epss {
        score: 0.02,
        percentile: 0.8,
    });

    let mut yaml = fixed(
        finding(
            package(&sbom, "PyYAML"),
            "CVE-2020-14343",
            Severity::Critical,
        ),
        &["5.4"],
    );
    yaml.kev = Some(KevEntry {
        cve: "CVE-2020-14343".into(),
        date_added: "2024-01-01".into(),
        due_date: Some("2024-02-01".into()),
        ransomware: Some("Unknown".into()),
        name: None,
    });

    let mut urllib3 = fixed(
        finding(package(&sbom, "urllib3"), "CVE-2019-11324", Severity::High),
        &["1.24.2"],
    );
    urllib3.scores = vec![Score {
        kind: "CVSS_V3".into(),
        vector: "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N".into(),
        base_score: Some(7.5),
    }];
    // The same vulnerability id in two packages: one rule, two results.
    let shared_requests = fixed(
        finding(
            package(&sbom, "requests"),
            "GHSA-x84v-xcm2-53pg",
            Severity::Medium,
        ),
        &["2.20.0"],
    );
    let shared_urllib3 = finding(
        package(&sbom, "urllib3"),
        "GHSA-x84v-xcm2-53pg",
        Severity::Low,
    );

    let mut openssl = finding(package(&sbom, "libssl3"), "CVE-2024-13176", Severity::Low);
    openssl.status = Status::WontFix;
    openssl.status_note = Some("debian-tracker: no-dsa (Minor issue)".into());
    openssl.matched = MatchDetail {
        kind: MatchKind::SourcePackage,
        ecosystem: "Debian:12".into(),
        name: "openssl".into(),
        version: "3.0.17-1~deb12u2".into(),
    };
    openssl.scores = vec![Score {
        kind: "Ubuntu".into(),
        vector: "low".into(),
        base_score: None,
    }];
    let unknown = finding(
        package(&sbom, "apt"),
        "TEMP-0000000-1C2B3D",
        Severity::Unknown,
    );
    let negligible = finding(
        package(&sbom, "coreutils"),
        "CVE-2016-2781",
        Severity::Negligible,
    );

    let mut vexed = finding(package(&sbom, "Jinja2"), "CVE-2019-10906", Severity::High);
    vexed.suppressed = Some(Suppression {
        by: "vex".into(),
        reason: "not_affected: vulnerable_code_not_in_execute_path".into(),
        source: "app.openvex.json".into(),
    });
    let mut ignored = finding(package(&sbom, "idna"), "CVE-2024-3651", Severity::Medium);
    ignored.suppressed = Some(Suppression {
        by: "ignore-file".into(),
        reason: "only parses trusted hostnames".into(),
        source: ".bosunignore.yaml".into(),
    });

    Report {
        findings: vec![
            django,
            yaml,
            urllib3,
            shared_requests,
            shared_urllib3,
            openssl,
            unknown,
            negligible,
        ],
        suppressed: vec![vexed, ignored],
        issues: Vec::new(),
        notices: vec![
            Notice {
                kind: "expired-ignore".into(),
                message: "CVE-2020-1 in .bosunignore.yaml expired on 2024-01-01".into(),
            },
            Notice {
                kind: "db-stale".into(),
                message: "the database was built 9 days ago".into(),
            },
        ],
        sbom,
        db: db(),
    }
}

fn render(r: &Report, format: Format, opts: &Options) -> Vec<u8> {
    let mut out = Vec::new();
    report::write(r, format, opts, &mut out).unwrap();
    out
}

fn render_json(r: &Report, format: Format) -> Value {
    serde_json::from_slice(&render(r, format, &Options::default())).unwrap()
}

fn table(r: &Report, opts: &Options) -> String {
    String::from_utf8(render(r, Format::Table, opts)).unwrap()
}

fn assert_valid(schema: &str, doc: &Value) {
    let Some(v) = validator(schema) else { return };
    let errs = errors(&v, doc);
    assert!(
        errs.is_empty(),
        "not valid against {schema}:\n{}",
        errs.join("\n")
    );
}

fn all_findings(r: &Report) -> Vec<&Finding> {
    r.findings.iter().chain(&r.suppressed).collect()
}

#[test]
fn sarif_is_valid_and_has_a_result_per_finding() {
    let Some(sbom) = real_sbom() else { return };
    let r = report(sbom);
    let doc = render_json(&r, Format::Sarif);
    assert_valid("sarif-2.1.0.schema.json", &doc);

    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let rule_ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let unique: BTreeSet<&str> = rule_ids.iter().copied().collect();
    assert_eq!(
        unique.len(),
        rule_ids.len(),
        "one rule per id: {rule_ids:?}"
    );
    let expected: BTreeSet<&str> = all_findings(&r).iter().map(|f| f.id.as_str()).collect();
    assert_eq!(unique, expected);

    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), r.findings.len() + r.suppressed.len());
    for f in all_findings(&r) {
        let res = results
            .iter()
            .find(|x| {
                x["ruleId"] == f.id.as_str()
                    && x["properties"]["package"] == f.package.name.as_str()
            })
            .unwrap_or_else(|| panic!("no result for {} in {}", f.id, f.package.name));
        let rule = &rules[res["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], f.id.as_str());
        let level = match f.severity {
            Severity::Critical | Severity::High => "error",
            Severity::Medium => "warning",
            _ => "note",
        };
        assert_eq!(res["level"], level, "{}", f.id);
        let text = res["message"]["text"].as_str().unwrap();
        assert!(
            text.contains(&f.package.name) && text.contains(&f.installed_version),
            "{text}"
        );
        for v in &f.fixed_versions {
            assert!(text.contains(v.as_str()), "{text}");
        }
        let uri = res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        let path = &f.package.locations[0].path;
        assert_eq!(uri, path.trim_start_matches('/'), "{}", f.id);
        assert_eq!(
            res.get("suppressions").is_some(),
            f.suppressed.is_some(),
            "{}",
            f.id
        );
        assert!(rule["shortDescription"]["text"].is_string());
        assert!(
            rule["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains("| Package |")
        );
    }

    // GitHub ranks by security-severity: the CVSS score when it agrees,
    // else a number in the severity's band; none for unknown.
    let rule = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap();
    let sev = |id: &str| {
        rule(id)["properties"]["security-severity"]
            .as_str()
            .map(|s| s.parse::<f64>().unwrap())
    };
    assert_eq!(sev("CVE-2019-14234"), Some(9.8));
    assert_eq!(sev("CVE-2019-11324"), Some(7.5));
    assert!(sev("CVE-2020-14343").unwrap() >= 9.0);
    assert!((4.0..7.0).contains(&sev("GHSA-x84v-xcm2-53pg").unwrap()));
    assert!((0.1..4.0).contains(&sev("CVE-2024-13176").unwrap()));
    assert_eq!(sev("TEMP-0000000-1C2B3D"), None);
    assert_eq!(
        rule("CVE-2019-14234")["helpUri"],
        r.findings[0].references[0].as_str()
    );
}

#[test]
fn sarif_fingerprints_are_stable() {
    let Some(sbom) = real_sbom() else { return };
    let r = report(sbom);
    let prints = |r: &Report| -> Vec<String> {
        render_json(r, Format::Sarif)["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                x["partialFingerprints"]["bosunFinding/v1"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let first = prints(&r);
    assert_eq!(first, prints(&r));
    let unique: BTreeSet<&String> = first.iter().collect();
    assert_eq!(unique.len(), first.len());
    // A newer, still vulnerable version of the package is the same alert.
    let mut bumped = r.clone();
    bumped.findings[0].installed_version = "2.2.1".into();
    bumped.findings[0].package.version = "2.2.1".into();
    assert_eq!(first, prints(&bumped));
}

#[test]
fn cyclonedx_is_valid_and_affects_resolve() {
    let Some(sbom) = real_sbom() else { return };
    let mut r = report(sbom);
    // A finding whose package the SBOM lacks still gets a resolvable ref.
    let mut orphan = r.findings[0].clone();
    orphan.id = "CVE-2000-0001".into();
    orphan.package.id = "pypi:not-in-sbom@1.0".into();
    orphan.package.name = "not-in-sbom".into();
    r.findings.push(orphan);

    let doc = render_json(&r, Format::CycloneDxJson);
    assert_valid("cyclonedx-1.6.schema.json", &doc);
    assert_eq!(doc["specVersion"], "1.6");

    let components: BTreeSet<&str> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["bom-ref"].as_str())
        .collect();
    for p in &r.sbom.packages {
        assert!(components.contains(p.id.as_str()), "{} missing", p.id);
    }
    let vulns = doc["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), r.findings.len() + r.suppressed.len());
    let mut refs = BTreeSet::new();
    for v in vulns {
        assert!(
            refs.insert(v["bom-ref"].as_str().unwrap()),
            "duplicate {}",
            v["bom-ref"]
        );
        for a in v["affects"].as_array().unwrap() {
            let target = a["ref"].as_str().unwrap();
            assert!(components.contains(target), "{target} is not a component");
        }
        for rating in v["ratings"].as_array().unwrap() {
            if let Some(s) = rating["severity"].as_str() {
                assert_eq!(s, s.to_ascii_lowercase());
            }
        }
    }
    assert!(refs.is_disjoint(&components));
    for f in all_findings(&r) {
        let v = vulns
            .iter()
            .find(|v| v["id"] == f.id.as_str() && v["affects"][0]["ref"] == f.package.id.as_str())
            .unwrap_or_else(|| panic!("no vulnerability for {} in {}", f.id, f.package.id));
        assert_eq!(
            v["affects"][0]["versions"][0]["version"],
            f.installed_version.as_str()
        );
        let aliases: Vec<&str> = v["references"]
            .as_array()
            .map(|a| a.iter().map(|x| x["id"].as_str().unwrap()).collect())
            .unwrap_or_default();
        assert_eq!(
            aliases,
            f.aliases.iter().map(String::as_str).collect::<Vec<_>>()
        );
        assert_eq!(
            v.get("analysis").is_some(),
            f.suppressed.is_some(),
            "{}",
            f.id
        );
        for fixed in &f.fixed_versions {
            assert!(
                v["recommendation"]
                    .as_str()
                    .unwrap()
                    .contains(fixed.as_str())
            );
        }
    }
    let django = vulns.iter().find(|v| v["id"] == "CVE-2019-14234").unwrap();
    let cvss = &django["ratings"][1];
    assert_eq!(
        (cvss["method"].as_str(), cvss["score"].as_f64()),
        (Some("CVSSv31"), Some(9.8))
    );
    assert_eq!(cvss["severity"], "critical");
    let vexed = vulns.iter().find(|v| v["id"] == "CVE-2019-10906").unwrap();
    assert_eq!(vexed["analysis"]["state"], "not_affected");
    assert_eq!(vexed["analysis"]["justification"], "code_not_reachable");
    assert_eq!(vexed["affects"][0]["versions"][0]["status"], "unaffected");
    // Not the SBOM's serial: the document differs.
    let mut sbom_doc = Vec::new();
    bosun_sbom::cyclonedx::write(&r.sbom, &bosun_sbom::WriteOptions::default(), &mut sbom_doc)
        .unwrap();
    let sbom_doc: Value = serde_json::from_slice(&sbom_doc).unwrap();
    assert_ne!(doc["serialNumber"], sbom_doc["serialNumber"]);
}

#[test]
fn json_is_the_model_with_a_summary() {
    let Some(sbom) = real_sbom() else { return };
    let r = report(sbom);
    let doc = render_json(&r, Format::Json);
    assert_eq!(doc["schema"], "bosun-scan/1");
    assert_eq!(doc["target"]["target"], r.sbom.source.target.as_str());
    assert_eq!(doc["distro"]["id"], "debian");
    assert_eq!(doc["db"]["built"], r.db.built.as_str());
    let findings: Vec<Finding> = serde_json::from_value(doc["findings"].clone()).unwrap();
    let suppressed: Vec<Finding> = serde_json::from_value(doc["suppressed"].clone()).unwrap();
    // Every finding comes back unchanged (order aside).
    for f in &r.findings {
        assert!(findings.contains(f), "{} lost", f.id);
    }
    for f in &r.suppressed {
        assert!(suppressed.contains(f), "{} lost", f.id);
    }
    assert_eq!(findings.len(), r.findings.len());
    // Sorted most severe first.
    assert!(findings.windows(2).all(|w| w[0].severity >= w[1].severity));
    let count = |s: Severity| r.findings.iter().filter(|f| f.severity == s).count();
    let summary = &doc["summary"];
    assert_eq!(summary["total"], r.findings.len());
    assert_eq!(summary["critical"], count(Severity::Critical));
    assert_eq!(summary["high"], count(Severity::High));
    assert_eq!(summary["medium"], count(Severity::Medium));
    assert_eq!(summary["low"], count(Severity::Low));
    assert_eq!(summary["negligible"], count(Severity::Negligible));
    assert_eq!(summary["unknown"], count(Severity::Unknown));
    assert_eq!(summary["suppressed"], r.suppressed.len());
    assert_eq!(doc["notices"].as_array().unwrap().len(), 2);
}

#[test]
fn table_groups_by_package() {
    let Some(sbom) = real_sbom() else { return };
    let r = report(sbom);
    let t = table(&r, &Options::default());
    let first = t.lines().next().unwrap();
    assert!(
        first.starts_with(
            "oci:images/oci/python-app:latest (Debian GNU/Linux 12 (bookworm)): 8 vulnerabilities"
        ),
        "{first}"
    );
    assert!(
        first.contains("CRITICAL 2, HIGH 1, MEDIUM 1, LOW 2, NEGLIGIBLE 1, UNKNOWN 1"),
        "{first}"
    );
    assert!(t.is_ascii() && !t.contains('\x1b'), "{t}");
    for f in &r.findings {
        let group = format!(
            "{} {} ({})",
            f.package.name,
            f.installed_version,
            f.package.kind.purl_type()
        );
        assert_eq!(
            t.lines().filter(|l| *l == group).count(),
            1,
            "{group}:\n{t}"
        );
        assert!(t.contains(&f.id), "{}", f.id);
    }
    // urllib3's two findings sit under its one heading.
    let lines: Vec<&str> = t.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("urllib3 "))
        .unwrap();
    assert!(
        lines[at + 1].contains("CVE-2019-11324") && lines[at + 2].contains("GHSA-x84v-xcm2-53pg"),
        "{t}"
    );
    let django = lines.iter().find(|l| l.contains("CVE-2019-14234")).unwrap();
    assert!(
        django.contains("(+2)")
            && django.contains("fixed 2.2.4 (+1)")
            && django.contains("SQL injection"),
        "{django}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("CVE-2020-14343") && l.contains("KEV"))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("CVE-2024-13176") && l.contains("wont-fix"))
    );
    // The suppressed ones are counted, not listed.
    assert!(
        !t.contains("CVE-2019-10906") && t.contains("2 suppressed (ignore-file 1, vex 1)"),
        "{t}"
    );
    assert!(t.contains("notice [expired-ignore]: CVE-2020-1 in .bosunignore.yaml expired"));
    assert!(t.contains("notice [db-stale]: the database was built 9 days ago"));

    let coloured = table(
        &r,
        &Options {
            color: true,
            ..Options::default()
        },
    );
    assert!(coloured.contains("\x1b[1;31mCRITICAL\x1b[0m"));
    // Colour changes nothing but the escapes.
    let stripped = coloured
        .replace("\x1b[1;31m", "")
        .replace("\x1b[31m", "")
        .replace("\x1b[33m", "")
        .replace("\x1b[36m", "")
        .replace("\x1b[0m", "");
    assert_eq!(stripped, t);
}

fn hostile_report() -> Report {
    let sbom = sbom_of(Vec::new());
    let p = Package {
        id: "pkg-evil".into(),
        name: "evil\x1b]0;pwned\x07name".into(),
        version: "1.0\n2.0".into(),
        kind: PackageKind::Npm,
        purl: "pkg:npm/evil@1.0".into(),
        licenses: Vec::new(),
        locations: vec![Location {
            path: "/app/node_modules/evil\x1b[2J/../package.json".into(),
            layer: None,
        }],
        found_by: "test".into(),
        metadata: PackageMetadata::Other,
    };
    let mut sbom = sbom;
    sbom.packages.push(p.clone());
    let mut f = fixed(
        finding(&p, "CVE-2024-0001\x1b[31m", Severity::High),
        &["9.9\r\n\x1b[1A"],
    );
    let mut summary =
        String::from("\x1b[2J\x1b[Hreal title\nsecond line\u{202E}desrever\u{9b}31m ");
    summary.push_str(&"A".repeat(1 << 20));
    f.summary = Some(summary);
    f.aliases = vec!["GHSA-\x1b[0m".into()];
    f.references = vec![
        "javascript:alert(1)".into(),
        "https://exa mple.com/\n".into(),
        "https://example.com/<script>".into(),
    ];
    f.severity_source = "*bold* [link](http://x)".into();
    Report {
        findings: vec![f],
        suppressed: Vec::new(),
        issues: Vec::new(),
        notices: vec![Notice {
            kind: "stale-vex\x1b[5m".into(),
            message: format!(
                "\x1b]8;;http://evil\x07click\x1b]8;;\x07 {}",
                "B".repeat(1 << 20)
            ),
        }],
        sbom,
        db: db(),
    }
}

#[test]
fn hostile_text_is_neutralised_in_the_table() {
    let r = hostile_report();
    for width in [None, Some(100), Some(10)] {
        let t = table(
            &r,
            &Options {
                width,
                ..Options::default()
            },
        );
        assert!(t.len() < 4096, "{} bytes", t.len());
        for c in t.chars() {
            assert!(c == '\n' || !c.is_control(), "{c:?} in\n{t}");
            assert!(!('\u{202A}'..='\u{202E}').contains(&c), "{c:?}");
        }
        let row = t.lines().find(|l| l.contains("CVE-2024-0001")).unwrap();
        // Escape sequences are dropped whole, newlines become spaces.
        assert!(row.contains("(+1)  HIGH  fixed 9.9  real title"), "{row}");
        if width != Some(10) {
            assert!(row.contains("real title second linedesrever AAA"), "{row}");
        }
        assert!(row.ends_with("..."), "{row}");
        if let Some(w) = width.filter(|w| *w >= 100) {
            assert!(
                row.chars().count() <= w,
                "{} > {w}: {row}",
                row.chars().count()
            );
        }
        assert!(t.lines().any(|l| l == "evilname 1.0 2.0 (npm)"), "{t}");
    }
    // Colour adds escapes for the severity only.
    let t = table(
        &r,
        &Options {
            color: true,
            ..Options::default()
        },
    );
    assert_eq!(t.matches('\x1b').count(), 2, "{t}");
}

#[test]
fn hostile_text_keeps_the_json_formats_valid() {
    let r = hostile_report();
    let sarif = render_json(&r, Format::Sarif);
    assert_valid("sarif-2.1.0.schema.json", &sarif);
    let rule = &sarif["runs"][0]["tool"]["driver"]["rules"][0];
    // No hostile reference is a help link.
    assert_eq!(
        rule["helpUri"],
        "https://nvd.nist.gov/vuln/detail/CVE-2024-0001%1B%5B31m"
    );
    let short = rule["shortDescription"]["text"].as_str().unwrap();
    assert!(
        short.len() < 1024 && !short.chars().any(char::is_control),
        "{short}"
    );
    let md = rule["help"]["markdown"].as_str().unwrap();
    assert!(
        md.contains("\\*bold\\* \\[link\\]\\(http\\:\\/\\/x\\)") && !md.contains("<script>"),
        "{md}"
    );
    let uri = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap();
    assert_eq!(uri, "app/node_modules/package.json");

    let cdx = render_json(&r, Format::CycloneDxJson);
    assert_valid("cyclonedx-1.6.schema.json", &cdx);
    assert!(cdx["vulnerabilities"][0].get("advisories").is_none());
    let json = render_json(&r, Format::Json);
    // bosun JSON keeps the text as published.
    assert_eq!(
        json["findings"][0]["summary"].as_str().unwrap().len(),
        r.findings[0].summary.as_ref().unwrap().len()
    );
}

#[test]
fn output_does_not_depend_on_input_order() {
    let Some(sbom) = real_sbom() else { return };
    let r = report(sbom);
    let mut shuffled = r.clone();
    shuffled.findings.reverse();
    shuffled.findings.rotate_left(3);
    shuffled.suppressed.reverse();
    for format in Format::ALL {
        for pretty in [true, false] {
            let opts = Options {
                pretty,
                ..Options::default()
            };
            assert_eq!(
                render(&r, format, &opts),
                render(&shuffled, format, &opts),
                "{format}"
            );
        }
    }
}

#[test]
fn empty_reports_render() {
    let sboms = [Some(sbom_of(Vec::new())), real_sbom()];
    for sbom in sboms.into_iter().flatten() {
        let r = Report {
            sbom,
            db: db(),
            findings: Vec::new(),
            suppressed: Vec::new(),
            issues: Vec::new(),
            notices: Vec::new(),
        };
        let t = table(&r, &Options::default());
        assert!(
            t.contains(": 0 vulnerabilities (CRITICAL 0,")
                && t.contains("No vulnerabilities found."),
            "{t}"
        );
        let sarif = render_json(&r, Format::Sarif);
        assert_valid("sarif-2.1.0.schema.json", &sarif);
        assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 0);
        let cdx = render_json(&r, Format::CycloneDxJson);
        assert_valid("cyclonedx-1.6.schema.json", &cdx);
        assert_eq!(cdx["vulnerabilities"].as_array().unwrap().len(), 0);
        let json = render_json(&r, Format::Json);
        assert_eq!(json["summary"]["total"], 0);
        assert_eq!(json["findings"].as_array().unwrap().len(), 0);
    }
}
