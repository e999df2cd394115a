//! Validating output against the official JSON schemas in `../shared/schemas`,
//! with no network: the schemas the CycloneDX schema `$ref`s are served from
//! the same folder.

use serde_json::Value;

struct LocalSchemas {
    dir: std::path::PathBuf,
}

impl jsonschema::Retrieve for LocalSchemas {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        // The refs are relative to the CycloneDX schema's `$id`
        // (http://cyclonedx.org/schema/...) and name the files exactly.
        let file = uri
            .as_str()
            .strip_prefix("http://cyclonedx.org/schema/")
            .filter(|f| ["spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json"].contains(f))
            .ok_or_else(|| format!("no local copy of {uri}"))?;
        Ok(serde_json::from_slice(&std::fs::read(
            self.dir.join(file),
        )?)?)
    }
}

/// A validator for `schemas/<schema_file>` (e.g. `cyclonedx-1.6.schema.json`);
/// None when the shared folder is missing outside CI.
pub fn validator(schema_file: &str) -> Option<jsonschema::Validator> {
    let path = crate::shared(&format!("schemas/{schema_file}"))?;
    let dir = path.parent()?.to_path_buf();
    let schema: Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .with_retriever(LocalSchemas { dir })
        .build(&schema)
        .map_err(|e| panic!("schema {schema_file} does not load: {e}"))
        .ok()
}

/// Every schema error, with where it is in the document.
pub fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}
