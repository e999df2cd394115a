//! Inputs fuzzing found that cost too much, kept as tests (see
//! docs/HARDENING.md, "Found").

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

/// YAML flow nesting: libyaml's scanner (unsafe-libyaml-norway, under
/// serde_norway) checks every open flow level for stale simple keys at each
/// token, so `[` nested n deep costs O(n²): 100k levels (300 KB, far under
/// the 16 MiB `bosun config` accepts) take about 110 s in each of the four
/// YAML readers, although all of them end by refusing the document at
/// serde_norway's recursion limit (128). Found by the `yaml` target on the
/// committed seed `bad_deep.yaml` (6 KB, over libFuzzer's 10 s under ASan).
#[test]
fn deep_yaml_flow_nesting_is_refused_quickly_by_every_yaml_reader() {
    let n = 100_000;
    let text = format!("a: {}1{}\n", "[".repeat(n), "]".repeat(n));
    let budget = Duration::from_secs(1);
    let timed = |what: &str, f: &dyn Fn()| {
        let start = Instant::now();
        f();
        let took = start.elapsed();
        assert!(
            took < budget,
            "{what} took {took:?} on {n}-deep flow nesting"
        );
    };
    timed("k8s::load", &|| {
        assert!(bosun_config::k8s::load(&text, "deep.yaml").is_err())
    });
    timed("Settings::parse", &|| {
        assert!(bosun_config::Settings::parse(&text, "bosun.yaml").is_err())
    });
    timed("secret Config::from_bosun_yaml", &|| {
        assert!(bosun_secret::Config::from_bosun_yaml(&text).is_err())
    });
    timed("IgnoreFile::parse", &|| {
        assert!(bosun_vuln::ignore::IgnoreFile::parse(&text, ".bosunignore.yaml").is_err())
    });
}
