//! bosun JSON (`bosun-sbom/1`): the model as written, with its lists capped.

use bosun_core::{Distro, Package, Relationship, Unknown};
use serde::Deserialize;

use super::{MAX_ELEMENTS, MAX_PACKAGES, ReadError, capped, clip, parse};
use crate::json::SCHEMA;
use crate::model::{Sbom, SourceInfo, Tool};

const FORMAT: &str = "bosun JSON";

#[derive(Deserialize)]
struct Document {
    tool: Tool,
    created: i64,
    source: SourceInfo,
    distro: Option<Distro>,
    #[serde(deserialize_with = "capped")]
    packages: Vec<Package>,
    #[serde(default, deserialize_with = "capped")]
    relationships: Vec<Relationship>,
    #[serde(default, deserialize_with = "capped")]
    unknowns: Vec<Unknown>,
}

#[derive(Deserialize)]
struct Schema {
    #[serde(default)]
    schema: String,
}

pub fn read(bytes: &[u8], origin: &str) -> Result<Sbom, ReadError> {
    // The schema first, so a later version says so instead of failing on
    // whatever field changed.
    let Schema { schema } = parse(bytes, origin, FORMAT, MAX_ELEMENTS)?;
    if schema != SCHEMA {
        return Err(ReadError::UnsupportedVersion {
            origin: origin.to_string(),
            format: FORMAT,
            version: clip(&schema),
            supported: SCHEMA,
        });
    }
    let doc: Document = parse(bytes, origin, FORMAT, MAX_ELEMENTS)?;
    if doc.packages.len() > MAX_PACKAGES {
        return Err(ReadError::TooMany {
            origin: origin.to_string(),
            what: "packages",
            max: MAX_PACKAGES,
        });
    }
    Ok(Sbom {
        tool: doc.tool,
        created: doc.created,
        source: doc.source,
        distro: doc.distro,
        packages: doc.packages,
        relationships: doc.relationships,
        unknowns: doc.unknowns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_schemas_and_bad_fields_are_errors() {
        for doc in [
            r#"{"schema":"bosun-sbom/2"}"#,
            r#"{"schema":"bosun-sbom/1"}"#,
            r#"{"schema":"bosun-sbom/1","tool":{"name":"b","version":"1"},"created":0,"source":{"kind":"image","target":"t","name":"n"},"packages":[{"id":"x"}]}"#,
            r#"{"schema":5}"#,
        ] {
            assert!(read(doc.as_bytes(), "x").is_err(), "{doc}");
        }
    }
}
