//! Hostile manifests: each is refused with a reason that names the limit
//! and the line, and the other files are still checked. (How long they
//! take at 16 MiB is measured by bench/config_hostile.py, not here.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use bosun_config::{Report, Settings, check_paths};

fn run(files: &[(&str, String)]) -> (tempfile::TempDir, Report) {
    let dir = tempfile::tempdir().unwrap();
    let mut paths: Vec<PathBuf> = Vec::new();
    for (name, text) in files {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        paths.push(p);
    }
    let report = check_paths(&paths, &Settings::default()).unwrap();
    (dir, report)
}

fn reason<'a>(report: &'a Report, name: &str) -> &'a str {
    report
        .skipped
        .iter()
        .find(|s| s.file.ends_with(name))
        .map(|s| s.reason.as_str())
        .unwrap_or_else(|| panic!("{name} not skipped: {:?}", report.skipped))
}

#[test]
fn deep_wide_and_aliased_yaml_is_refused_naming_the_line() {
    let head = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n";
    let files = [
        // 100k nested flow sequences (23 s in libyaml, quadratic).
        (
            "flow-seq.yaml",
            format!("{head}  x: {}\n", "[".repeat(100_000)),
        ),
        // Nested flow mappings.
        (
            "flow-map.yaml",
            format!("{head}  x: {}\n", "{a: ".repeat(100_000)),
        ),
        // Closed nesting: well-formed, still too deep.
        (
            "closed.yaml",
            format!("{head}  x: {}1{}\n", "[".repeat(5000), "]".repeat(5000)),
        ),
        // Block sequences nested on one line.
        (
            "seq-inline.yaml",
            format!("{head}  x:\n    {}x\n", "- ".repeat(100_000)),
        ),
        // Deep block indentation.
        (
            "block.yaml",
            (0..2000)
                .map(|i| format!("{}a:\n", " ".repeat(i)))
                .collect(),
        ),
        // One anchored list named by many aliases: few jumps, huge expansion.
        (
            "wide-alias.yaml",
            format!(
                "a: &a [{}]\nb: [{}]\n",
                vec!["1"; 100_000].join(","),
                vec!["*a"; 100].join(",")
            ),
        ),
        // A flat JSON array of more values than the node limit.
        (
            "flat.json",
            format!("[{}1]", "1,".repeat(bosun_config::yaml::MAX_NODES)),
        ),
        (
            "ok.yaml",
            format!("{head}  x: {}1{}\n", "[".repeat(50), "]".repeat(50)),
        ),
    ];
    let (_dir, report) = run(&files);
    for (name, line) in [
        ("flow-seq.yaml", 5),
        ("flow-map.yaml", 5),
        ("closed.yaml", 5),
        ("seq-inline.yaml", 6),
        ("block.yaml", 101),
    ] {
        let r = reason(&report, name);
        assert!(
            r.contains("deeper than 100") && r.contains(&format!("line {line}:")),
            "{name}: {r}"
        );
    }
    let r = reason(&report, "wide-alias.yaml");
    assert!(r.contains("alias") && r.contains("line 2:"), "{r}");
    let r = reason(&report, "flat.json");
    assert!(r.contains("more than"), "{r}");
    assert_eq!(report.skipped.len(), 7, "{:?}", report.skipped);
    assert!(report.checked.iter().any(|c| c.file.ends_with("ok.yaml")));
}

/// Rules that fire on every repeated instruction or object are reported
/// once per file, with the count and the first lines.
#[test]
fn repeated_findings_are_folded_per_rule_and_file() {
    const N: usize = 2000;
    let mut dockerfile = String::from("FROM ubuntu:22.04\n");
    for _ in 0..N {
        dockerfile.push_str("RUN apt-get install curl\n");
    }
    let mut manifests = String::new();
    for i in 0..N {
        manifests.push_str(&format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: shop}}\nspec:\n  containers:\n    - {{name: c, image: 'nginx:1.25'}}\n---\n"
        ));
    }
    let (_dir, report) = run(&[("Dockerfile", dockerfile), ("pods.yaml", manifests)]);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let keep = bosun_config::KEEP_PER_RULE_AND_FILE;
    let mut seen = std::collections::BTreeSet::new();
    let mut folded = 0;
    for f in &report.findings {
        let file = f.location.file.rsplit('/').next().unwrap();
        assert!(
            seen.insert((file.to_string(), f.rule_id.clone())),
            "{} reported twice in {file}",
            f.rule_id
        );
        if let Some(n) = f.occurrences {
            folded += 1;
            assert_eq!(f.lines.len(), keep, "{f:?}");
            if file == "Dockerfile" {
                // Every RUN line fires: lines 2, 3, ...
                assert_eq!(n, N, "{f:?}");
                assert_eq!(f.lines, (2..2 + keep).collect::<Vec<_>>());
            } else {
                // One per Pod (the rules about the container or the pod).
                assert_eq!(n % N, 0, "{f:?}");
                assert_eq!(f.location.line, f.lines.first().copied());
            }
            assert!(f.message.contains(&format!("and {} more", n - 1)));
        }
    }
    assert!(folded >= 4, "{:#?}", report.findings);
    assert!(report.findings.len() < 60, "{}", report.findings.len());
}

/// A Dockerfile of more instructions than anyone writes is refused at the
/// line past the limit, before its instructions fill memory.
#[test]
fn endless_dockerfiles_are_refused() {
    let n = bosun_config::dockerfile::MAX_INSTRUCTIONS;
    let df = format!("FROM alpine:3.20\n{}", "ENV A=b\n".repeat(n));
    let (_dir, report) = run(&[("Dockerfile", df)]);
    let r = reason(&report, "Dockerfile");
    assert!(
        r.contains(&format!("more than {n} instructions")) && r.contains(&format!("{}", n + 1)),
        "{r}"
    );
}
