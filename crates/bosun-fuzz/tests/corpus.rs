//! CI's fuzz smoke: every committed seed (and every regression input found
//! by fuzzing, kept in the same corpora) goes through its target body on
//! stable. A panic fails the test; so does a seed that takes more than the
//! time libFuzzer is given per input (scripts/fuzz.sh: -timeout=10).

#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

/// Debug builds are several times slower than the fuzzer's optimised ones.
const PER_INPUT: Duration = Duration::from_secs(30);

#[test]
fn every_target_has_a_corpus_and_every_corpus_a_target() {
    let root = corpus_root();
    for (name, _) in bosun_fuzz::TARGETS {
        let dir = root.join(name);
        let n = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .count();
        assert!(n > 0, "{} is empty", dir.display());
    }
    for entry in std::fs::read_dir(&root).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            bosun_fuzz::target(&name).is_some(),
            "corpus {name} has no target"
        );
    }
}

#[test]
fn every_seed_replays_without_panic_or_hang() {
    let root = corpus_root();
    let mut replayed = 0;
    let mut slow = Vec::new();
    for (name, body) in bosun_fuzz::TARGETS {
        let mut seeds: Vec<PathBuf> = std::fs::read_dir(root.join(name))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        seeds.sort();
        for seed in seeds {
            let data = std::fs::read(&seed).unwrap();
            let start = Instant::now();
            body(&data);
            let took = start.elapsed();
            if took > PER_INPUT {
                slow.push(format!("{}: {took:?}", seed.display()));
            }
            replayed += 1;
        }
    }
    assert!(slow.is_empty(), "seeds over {PER_INPUT:?}: {slow:#?}");
    println!("replayed {replayed} seeds");
}

#[test]
fn catalog_selectors_match_the_corpus_builder() {
    // fuzz/make-corpus.py prepends the index of the path in CATALOG_PATHS.
    let script = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/make-corpus.py"),
    )
    .unwrap();
    let start = script.find("CATALOG = [").unwrap();
    let end = start + script[start..].find(']').unwrap();
    let names: Vec<&str> = script[start + 11..end]
        .split(',')
        .map(|s| s.trim().trim_matches('"'))
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(names.len(), bosun_fuzz::CATALOG_PATHS.len());
}
