//! Java archives (placeholder until written).

use serde::{Deserialize, Serialize};

use crate::{FileIndex, Output};

pub const CATALOGER_ID: &str = "java-archive-cataloger";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveFacts {}

pub fn wants(_path: &str) -> bool {
    false
}

pub fn catalog(_index: &FileIndex, _out: &mut Output) {}
