//! The test corpus in testdata/: every file states what must fire on it
//! (`# expect:` above a Dockerfile instruction, `# bosun-expect-pss:` at
//! the top of a manifest, written from the rule definitions and the
//! Kubernetes Pod Security Standards document), and bosun must report
//! exactly that.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bosun_config::{Report, Settings, check_paths};

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

fn check(paths: &[PathBuf], settings: &Settings) -> Report {
    check_paths(paths, settings).unwrap()
}

/// (line, rule) pairs the `# expect:` comments ask for: the rule fires on
/// the next instruction line.
fn expected_dockerfile(text: &str) -> BTreeSet<(usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = BTreeSet::new();
    for (i, l) in lines.iter().enumerate() {
        if let Some(ids) = l.trim().strip_prefix("# expect:") {
            let target = (i + 1..lines.len())
                .find(|&j| !lines[j].trim().starts_with('#') && !lines[j].trim().is_empty())
                .unwrap();
            for id in ids.split_whitespace() {
                out.insert((target + 1, id.to_string()));
            }
        }
    }
    out
}

#[test]
fn dockerfiles_report_exactly_the_expected_rules() {
    let dir = testdata("dockerfile");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 5);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let want = expected_dockerfile(&text);
        let report = check(std::slice::from_ref(&f), &Settings::default());
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        let got: BTreeSet<(usize, String)> = report
            .findings
            .iter()
            .map(|x| (x.location.line.unwrap(), x.rule_id.clone()))
            .collect();
        assert_eq!(
            got,
            want,
            "{}: got minus want {:?}, want minus got {:?}",
            f.display(),
            got.difference(&want).collect::<Vec<_>>(),
            want.difference(&got).collect::<Vec<_>>()
        );
    }
}

#[test]
fn every_pss_control_fires_exactly_as_the_standard_defines() {
    let dir = testdata("k8s/pss");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut covered = BTreeSet::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("# bosun-expect-pss:"))
            .unwrap();
        let want: BTreeSet<String> = line
            .split_whitespace()
            .filter(|s| *s != "none")
            .map(String::from)
            .collect();
        let report = check(std::slice::from_ref(f), &Settings::default());
        assert!(
            report.skipped.is_empty() && report.notes.is_empty(),
            "{}: {:?} {:?}",
            f.display(),
            report.skipped,
            report.notes
        );
        let got: BTreeSet<String> = report
            .findings
            .iter()
            .filter(|x| x.rule_id.contains("-PSS-"))
            .map(|x| x.rule_id.clone())
            .collect();
        assert_eq!(got, want, "{}", f.display());
        // The corpus pods are otherwise hardened: only the egress rule remains.
        let other: BTreeSet<&str> = report
            .findings
            .iter()
            .filter(|x| !x.rule_id.contains("-PSS-"))
            .map(|x| x.rule_id.as_str())
            .collect();
        assert_eq!(other, BTreeSet::from(["BOSUN-K8S-008"]), "{}", f.display());
        covered.extend(want);
    }
    // Every PSS rule has a manifest that violates it.
    let all: BTreeSet<String> = bosun_config::rules()
        .iter()
        .filter(|r| r.profile.is_some())
        .map(|r| r.id.to_string())
        .collect();
    assert_eq!(covered, all);
}

#[test]
fn pss_findings_carry_profile_line_object_and_path() {
    let report = check(
        &[testdata("k8s/pss/b003-privileged.yaml")],
        &Settings::default(),
    );
    let f = report
        .findings
        .iter()
        .find(|f| f.rule_id == "BOSUN-K8S-PSS-B-003")
        .unwrap();
    assert_eq!(f.profile, Some(bosun_config::Profile::Baseline));
    assert_eq!(
        f.location.object.as_deref(),
        Some("Pod/apps/b003-privileged")
    );
    assert_eq!(
        f.location.path.as_deref(),
        Some("spec.containers[0].securityContext.privileged")
    );
    let text = std::fs::read_to_string(testdata("k8s/pss/b003-privileged.yaml")).unwrap();
    let line = text
        .lines()
        .position(|l| l.trim() == "privileged: true")
        .unwrap()
        + 1;
    assert_eq!(f.location.line, Some(line));
    let r = report
        .findings
        .iter()
        .find(|f| f.rule_id == "BOSUN-K8S-PSS-R-002")
        .unwrap();
    assert_eq!(r.profile, Some(bosun_config::Profile::Restricted));
}

#[test]
fn hardened_application_has_no_findings() {
    let report = check(&[testdata("k8s/good")], &Settings::default());
    assert_eq!(report.findings, vec![], "{:#?}", report.findings);
    assert!(report.notes.is_empty(), "{:?}", report.notes);
}

fn rules_of(report: &Report, file: &str, object: &str) -> BTreeSet<String> {
    report
        .findings
        .iter()
        .filter(|f| f.location.file.ends_with(file) && f.location.object.as_deref() == Some(object))
        .map(|f| f.rule_id.clone())
        .collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[test]
fn real_world_manifests() {
    let report = check(&[testdata("k8s/realworld")], &Settings::default());
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    // Restricted-profile rules that every unhardened container fails.
    let unhardened = [
        "BOSUN-K8S-PSS-R-002",
        "BOSUN-K8S-PSS-R-003",
        "BOSUN-K8S-PSS-R-005",
        "BOSUN-K8S-PSS-R-006",
    ];
    let mut want = set(&unhardened);
    want.extend(set(&[
        "BOSUN-K8S-PSS-B-006", // hostPort 6379
        "BOSUN-K8S-001",       // redis:7.2 not pinned
        "BOSUN-K8S-003",       // and IfNotPresent by default
        "BOSUN-K8S-005",
        "BOSUN-K8S-006",
        "BOSUN-K8S-007",
        "BOSUN-K8S-008",
        "BOSUN-K8S-010", // REDIS_PASSWORD literal
    ]));
    assert_eq!(
        rules_of(&report, "redis-statefulset.yaml", "StatefulSet/redis"),
        want
    );

    let mut want = set(&unhardened);
    want.extend(set(&[
        "BOSUN-K8S-PSS-B-002", // hostNetwork, hostPID
        "BOSUN-K8S-PSS-B-003",
        "BOSUN-K8S-PSS-B-004", // SYS_ADMIN, NET_RAW
        "BOSUN-K8S-PSS-B-005",
        "BOSUN-K8S-PSS-R-001",
        "BOSUN-K8S-002", // :latest
        "BOSUN-K8S-005", // no cpu limit
        "BOSUN-K8S-006",
        "BOSUN-K8S-007",
        "BOSUN-K8S-011", // docker.sock
    ]));
    // BOSUN-K8S-008 is skipped by the template's bosun.dev/skip annotation.
    assert_eq!(
        rules_of(
            &report,
            "log-agent-daemonset.yaml",
            "DaemonSet/kube-system/log-agent"
        ),
        want
    );
    let ds: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.location.file.ends_with("log-agent-daemonset.yaml"))
        .collect();
    assert_eq!(
        ds.iter()
            .filter(|f| f.rule_id == "BOSUN-K8S-PSS-B-002")
            .count(),
        2
    );

    let mut want = set(&unhardened);
    want.extend(set(&[
        "BOSUN-K8S-PSS-R-001", // nfs
        "BOSUN-K8S-PSS-R-004", // runAsUser 0
        "BOSUN-K8S-001",       // postgres:16-alpine (pull policy Always: no K8S-003)
        "BOSUN-K8S-002",       // busybox untagged
        "BOSUN-K8S-005",
        "BOSUN-K8S-006",
        "BOSUN-K8S-007",
        "BOSUN-K8S-008",
        "BOSUN-K8S-009",
    ]));
    assert_eq!(
        rules_of(&report, "backup-cronjob.yaml", "CronJob/default/db-backup"),
        want
    );

    // The List's Deployment is checked; the custom resource is noted.
    let mut want = set(&[
        "BOSUN-K8S-PSS-R-003",
        "BOSUN-K8S-PSS-R-005",
        "BOSUN-K8S-PSS-R-006",
    ]);
    want.extend(set(&[
        "BOSUN-K8S-001",
        "BOSUN-K8S-003",
        "BOSUN-K8S-005",
        "BOSUN-K8S-006",
        "BOSUN-K8S-007",
        "BOSUN-K8S-008",
    ]));
    assert_eq!(rules_of(&report, "list.json", "Deployment/shop/api"), want);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.message.contains("kind Widget is not checked")),
        "{:?}",
        report.notes
    );
}

#[test]
fn settings_skip_rules_and_check_registries() {
    let settings = Settings::parse(
        "config:\n  skip: [BOSUN-K8S-008, BOSUN-K8S-001]\n  allowed_registries: [ghcr.io/acme]\n",
        "bosun.yaml",
    )
    .unwrap();
    let report = check(
        &[testdata("k8s/realworld"), testdata("k8s/good")],
        &settings,
    );
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.rule_id == "BOSUN-K8S-008" || f.rule_id == "BOSUN-K8S-001")
    );
    let denied: BTreeSet<&str> = report
        .findings
        .iter()
        .filter(|f| f.rule_id == "BOSUN-K8S-004")
        .map(|f| f.location.object.as_deref().unwrap())
        .collect();
    assert_eq!(
        denied,
        BTreeSet::from([
            "StatefulSet/redis",
            "DaemonSet/kube-system/log-agent",
            "CronJob/default/db-backup",
            "Deployment/shop/api"
        ])
    );
}

#[test]
fn bad_input_is_skipped_with_a_reason_and_the_rest_is_checked() {
    let report = check(
        &[testdata("bad"), testdata("k8s/pss/b006-hostport.yaml")],
        &Settings::default(),
    );
    let reason = |name: &str| {
        report
            .skipped
            .iter()
            .find(|s| s.file.ends_with(name))
            .map(|s| s.reason.clone())
            .unwrap_or_else(|| panic!("{name} not skipped: {:?}", report.skipped))
    };
    assert!(
        reason("invalid.yaml").contains("invalid YAML"),
        "{}",
        reason("invalid.yaml")
    );
    assert!(
        reason("junk.yaml").contains("binary"),
        "{}",
        reason("junk.yaml")
    );
    assert!(
        reason("alias-bomb.yaml").contains("alias bomb"),
        "{}",
        reason("alias-bomb.yaml")
    );
    assert!(
        reason("deep.json").contains("recursion limit"),
        "{}",
        reason("deep.json")
    );
    assert!(
        reason("deep.yaml").contains("deeper than 100"),
        "{}",
        reason("deep.yaml")
    );
    assert!(
        reason("Dockerfile").contains("binary"),
        "{}",
        reason("Dockerfile")
    );
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.rule_id == "BOSUN-K8S-PSS-B-006")
    );
}

#[test]
fn huge_files_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("huge.yaml");
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(bosun_config::MAX_FILE_SIZE + 1).unwrap();
    let report = check(&[p], &Settings::default());
    assert!(
        report.skipped[0].reason.contains("larger than 16 MiB"),
        "{:?}",
        report.skipped
    );
}

#[test]
fn missing_path_is_an_error() {
    let e = check_paths(&[testdata("does-not-exist")], &Settings::default()).unwrap_err();
    assert!(e.to_string().contains("does-not-exist"), "{e}");
}

#[test]
fn directory_walks_ignore_yaml_that_is_not_kubernetes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("package.json"), "{\"name\": \"x\"}").unwrap();
    std::fs::create_dir(dir.path().join(".github")).unwrap();
    std::fs::write(dir.path().join(".github/ci.yml"), "on: push\njobs: {}\n").unwrap();
    std::fs::create_dir(dir.path().join("node_modules")).unwrap();
    std::fs::write(
        dir.path().join("node_modules/pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {hostPID: true}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("Containerfile"),
        "FROM scratch\nCOPY app /app\nUSER 1000\nHEALTHCHECK NONE\n",
    )
    .unwrap();
    let report = check(&[dir.path().to_path_buf()], &Settings::default());
    assert!(report.notes.is_empty(), "{:?}", report.notes);
    assert_eq!(report.checked.len(), 1, "{:?}", report.checked);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
}

#[test]
fn unknown_kinds_and_non_objects_are_noted() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.yaml");
    std::fs::write(
        &p,
        "apiVersion: x/v1\nkind: Gadget\nmetadata: {name: g}\n---\n- 1\n---\nfoo: bar\n",
    )
    .unwrap();
    let report = check(&[p], &Settings::default());
    assert!(report.findings.is_empty());
    assert_eq!(report.notes.len(), 3, "{:?}", report.notes);
}

/// Every prefix (at a stride) of every corpus file, parsed and checked as
/// both a Dockerfile and a manifest: errors are fine, panics are not.
#[test]
fn truncated_corpus_files_never_panic() {
    let mut files = Vec::new();
    for dir in ["dockerfile", "k8s/pss", "k8s/good", "k8s/realworld"] {
        for e in std::fs::read_dir(testdata(dir)).unwrap() {
            files.push(e.unwrap().path());
        }
    }
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        for end in (0..bytes.len()).step_by(7) {
            let text = String::from_utf8_lossy(&bytes[..end]);
            if let Ok(df) = bosun_config::dockerfile::parse(&text) {
                bosun_config::dockerfile::check(&df, "x");
            }
            if let Ok(docs) = bosun_config::k8s::load(&text, "x") {
                bosun_config::k8s::check(&docs, &Settings::default(), &mut Vec::new());
            }
        }
    }
}

/// A 16 MiB-class `List` of workloads is checked in bounded time.
#[test]
fn large_lists_are_checked_quickly() {
    let item = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"hostPID":true,"containers":[{"name":"c","image":"nginx"}]}}}}"#;
    let items = vec![item; 20_000].join(",\n");
    let text = format!("{{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[\n{items}\n]}}");
    let start = std::time::Instant::now();
    let docs = bosun_config::k8s::load(&text, "big.json").unwrap();
    let mut notes = Vec::new();
    let findings = bosun_config::k8s::check(&docs, &Settings::default(), &mut notes);
    // Capped at 10 000 objects per file, and said so; one finding per
    // rule and file, counting them.
    let b002: Vec<_> = findings
        .iter()
        .filter(|f| f.rule_id == "BOSUN-K8S-PSS-B-002")
        .collect();
    assert_eq!(b002.len(), 1);
    assert_eq!(b002[0].occurrences, Some(10_000));
    assert!(
        notes.iter().any(|n| n.message.contains("20000 items")),
        "{notes:?}"
    );
    assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
}
