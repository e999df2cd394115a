//! `bosun config` as users run it: formats, exit codes, settings file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

use bosun_testutil::schema::{errors, validator};
use serde_json::Value;

/// Runs in the bosun-config test corpus so paths (and SARIF URIs) are relative.
fn bosun() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bosun"));
    c.current_dir(testdata());
    c
}

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../bosun-config/testdata")
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn sarif_is_schema_valid_with_rules_and_relative_locations() {
    let out = bosun()
        .args(["config", "dockerfile", "k8s/realworld", "-f", "sarif"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    let doc = json(&out);
    if let Some(v) = validator("sarif-2.1.0.schema.json") {
        let errs = errors(&v, &doc);
        assert!(errs.is_empty(), "SARIF invalid:\n{}", errs.join("\n"));
    }
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    // One rule per id, each with help text and markdown.
    let mut ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n);
    for r in rules {
        assert!(r["help"]["text"].as_str().unwrap().contains("Fix:"));
        assert!(r["help"]["markdown"].as_str().unwrap().contains("**Why:**"));
    }
    for res in results {
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], res["ruleId"]);
        let loc = &res["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            uri.starts_with("dockerfile/") || uri.starts_with("k8s/realworld/"),
            "{uri}"
        );
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
    }
    let hostport = results
        .iter()
        .find(|r| r["ruleId"] == "BOSUN-K8S-PSS-B-006")
        .unwrap();
    let text =
        std::fs::read_to_string(testdata().join("k8s/realworld/redis-statefulset.yaml")).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("hostPort: 6379"))
        .unwrap()
        + 1;
    assert_eq!(
        hostport["locations"][0]["physicalLocation"]["region"]["startLine"],
        line
    );
}

#[test]
fn json_lists_findings_and_skipped_files() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("report.json");
    let out = bosun()
        .args([
            "config",
            "bad",
            "k8s/pss/b005-hostpath.yaml",
            "--format",
            "json",
            "-o",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    let doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(doc["schema_version"], 1);
    let skipped: Vec<&str> = doc["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["file"].as_str().unwrap())
        .collect();
    assert_eq!(skipped.len(), 6, "{skipped:?}");
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "BOSUN-K8S-PSS-B-005")
        .unwrap();
    assert_eq!(f["profile"], "baseline");
    assert_eq!(f["severity"], "HIGH");
    assert_eq!(f["location"]["file"], "k8s/pss/b005-hostpath.yaml");
    assert_eq!(f["location"]["object"], "Pod/apps/b005-hostpath");
    assert!(f["why"].as_str().unwrap().len() > 10 && f["fix"].as_str().unwrap().len() > 10);
}

#[test]
fn exit_codes_follow_fail_on() {
    // The hardened application: nothing found.
    let out = bosun().args(["config", "k8s/good"]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    // Only LOW and MEDIUM findings in alpine-bad.Dockerfile.
    let f = "dockerfile/alpine-bad.Dockerfile";
    assert_eq!(code(&bosun().args(["config", f]).output().unwrap()), 1);
    assert_eq!(
        code(
            &bosun()
                .args(["config", f, "--fail-on", "medium"])
                .output()
                .unwrap()
        ),
        1
    );
    assert_eq!(
        code(
            &bosun()
                .args(["config", f, "--fail-on", "high"])
                .output()
                .unwrap()
        ),
        0
    );
    assert_eq!(
        code(
            &bosun()
                .args(["config", f, "--fail-on", "none"])
                .output()
                .unwrap()
        ),
        0
    );
    // Errors: a missing path, a bad flag value, a broken settings file.
    let out = bosun().args(["config", "no-such-file"]).output().unwrap();
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-file"));
    assert_eq!(
        code(
            &bosun()
                .args(["config", f, "--fail-on", "severe"])
                .output()
                .unwrap()
        ),
        2
    );
    assert_eq!(
        code(&bosun().args(["config", f, "-f", "xml"]).output().unwrap()),
        2
    );
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bosun.yaml");
    std::fs::write(&bad, "config:\n  skip: [NOT-A-RULE]\n").unwrap();
    let out = bosun()
        .args(["config", f, "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("NOT-A-RULE"));
}

#[test]
fn settings_file_skips_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("bosun.yaml");
    let all = [
        "BOSUN-DF-002",
        "BOSUN-DF-012",
        "BOSUN-DF-014",
        "BOSUN-DF-019",
        "BOSUN-DF-020",
        "BOSUN-DF-021",
        "BOSUN-DF-022",
        "BOSUN-DF-023",
    ];
    std::fs::write(&cfg, format!("config:\n  skip: [{}]\n", all.join(", "))).unwrap();
    let out = bosun()
        .args([
            "config",
            "dockerfile/alpine-bad.Dockerfile",
            "-f",
            "json",
            "--config",
        ])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(json(&out)["findings"], Value::Array(vec![]));
}

#[test]
fn table_groups_by_file() {
    let out = bosun()
        .args([
            "config",
            "dockerfile/node-app.Dockerfile",
            "k8s/realworld/list.json",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let df = text.find("dockerfile/node-app.Dockerfile (").unwrap();
    let k8s = text.find("k8s/realworld/list.json (").unwrap();
    assert!(df < k8s);
    assert!(text.contains("BOSUN-DF-006") && text.contains("BOSUN-K8S-PSS-R-005"));
    assert!(text.contains("[restricted]"));
    assert!(
        text.contains("note k8s/realworld/list.json: Widget/shop/w: kind Widget is not checked"),
        "{text}"
    );
}

#[test]
fn nothing_checked_is_an_error_not_clean() {
    // Every input skipped (binary junk, an alias bomb).
    let out = bosun()
        .args([
            "config",
            "bad/junk.yaml",
            "bad/alias-bomb.yaml",
            "-f",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nothing was checked"), "{stderr}");
    // The report still says why.
    assert_eq!(json(&out)["skipped"].as_array().unwrap().len(), 2);
    // A directory with no Dockerfile or manifest in it.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("README.md"), "hello\n").unwrap();
    let out = bosun().arg("config").arg(tmp.path()).output().unwrap();
    assert_eq!(code(&out), 2, "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Dockerfile or Kubernetes manifest"));
}

#[test]
fn symlinks_in_a_walk_are_checked_inside_or_listed_as_skipped() {
    use std::os::unix::fs::symlink;
    let pod = std::fs::read(testdata().join("k8s/pss/b003-privileged.yaml")).unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.yaml"), &pod).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("deploy");
    std::fs::create_dir_all(root.join("real")).unwrap();
    std::fs::write(root.join("real/pod.yaml"), &pod).unwrap();
    // Inside the tree: checked under the link's name.
    symlink("real/pod.yaml", root.join("inside.yaml")).unwrap();
    // Leaves the tree, names a directory, or leads nowhere: listed.
    symlink(
        outside.path().join("secret.yaml"),
        root.join("outside.yaml"),
    )
    .unwrap();
    symlink(outside.path(), root.join("linked-dir")).unwrap();
    symlink("nowhere.yaml", root.join("broken.yaml")).unwrap();
    // Not a candidate by name: neither checked nor listed.
    symlink("real/pod.yaml", root.join("notes.txt")).unwrap();
    let out = bosun()
        .args(["config", "-f", "json"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    let doc = json(&out);
    let names = |key: &str, field: &str| -> Vec<String> {
        let mut v: Vec<String> = doc[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let f = c[field].as_str().unwrap();
                f.strip_prefix(root.to_str().unwrap()).unwrap().to_string()
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("checked", "file"), ["/inside.yaml", "/real/pod.yaml"]);
    assert_eq!(
        names("skipped", "file"),
        ["/broken.yaml", "/linked-dir", "/outside.yaml"]
    );
    let reasons: Vec<&str> = doc["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("outside the directory")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("symlink to a directory")),
        "{reasons:?}"
    );
    // The privileged container behind the inside link is reported there.
    assert!(doc["findings"].as_array().unwrap().iter().any(|f| {
        f["rule_id"] == "BOSUN-K8S-PSS-B-003"
            && f["location"]["file"]
                .as_str()
                .unwrap()
                .ends_with("/inside.yaml")
    }));
}
