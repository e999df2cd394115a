//! Fuzz target bodies. Each `pub fn NAME(data: &[u8])` feeds hostile bytes
//! to one of bosun's front doors and must return without panicking, hanging
//! or growing without bound, whatever the bytes. cargo-fuzz drives them from
//! `fuzz/fuzz_targets/NAME.rs`; `tests/corpus.rs` replays the committed seed
//! corpora (`fuzz/corpus/NAME/`) through them on stable, as CI's smoke.
//!
//! Targets that take several formats dispatch on the first byte
//! ([`pick`]) so that one binary and one corpus cover a family of small
//! parsers; the big front doors (layer walker, SBOM readers, YAML) have
//! their own targets and corpora.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod archive;
mod catalog;
mod text;

pub use archive::{image, layer};
pub use catalog::{CATALOG_PATHS, catalog};
pub use text::{dockerfile, feeds, policy, sbom, sign, yaml};

/// A target body.
pub type Body = fn(&[u8]);

/// Every target, by the name of its cargo-fuzz binary and corpus directory.
pub const TARGETS: &[(&str, Body)] = &[
    ("layer", layer),
    ("image", image),
    ("catalog", catalog),
    ("sbom", sbom),
    ("yaml", yaml),
    ("dockerfile", dockerfile),
    ("feeds", feeds),
    ("policy", policy),
    ("sign", sign),
];

/// The target body called `name`, if there is one.
pub fn target(name: &str) -> Option<Body> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// Splits a dispatching input into its selector (first byte, reduced modulo
/// `choices`) and the rest. Empty input selects 0 with no bytes.
pub fn pick(data: &[u8], choices: usize) -> (usize, &[u8]) {
    match data.split_first() {
        Some((&b, rest)) => (usize::from(b) % choices.max(1), rest),
        None => (0, data),
    }
}
