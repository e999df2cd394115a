//! Go build information embedded in binaries (placeholder until written).

use serde::{Deserialize, Serialize};

use crate::{FileIndex, Output};

pub const CATALOGER_ID: &str = "go-module-binary-cataloger";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildInfo {}

pub fn catalog(_index: &FileIndex, _out: &mut Output) {}
