//! npm cataloger (placeholder until written).

use crate::{FileIndex, Output};

pub const CATALOGER_ID: &str = "npm-cataloger";

/// Whether this cataloger needs the bytes of the file at `path`.
pub fn wants(_path: &str) -> bool {
    false
}

pub fn catalog(_index: &FileIndex, _out: &mut Output) {}
