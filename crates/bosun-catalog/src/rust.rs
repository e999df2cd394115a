//! Rust: cargo-auditable `.dep-v0` sections and `Cargo.lock` (placeholder until written).

use serde::{Deserialize, Serialize};

use crate::{FileIndex, Output};

pub const CATALOGER_ID: &str = "rust-cataloger";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditInfo {}

pub fn wants(_path: &str) -> bool {
    false
}

pub fn catalog(_index: &FileIndex, _out: &mut Output) {}
