//! The `secrets:` section of `bosun.yaml`:
//!
//! ```yaml
//! secrets:
//!   rules:                       # custom rules, run after the built-in ones
//!     - id: acme-api-key
//!       title: ACME API key
//!       severity: critical       # low | medium | high (default) | critical
//!       keywords: [acme_]        # the regex only runs on files containing one
//!       regex: 'acme_(?P<s>[A-Za-z0-9]{32})'   # group `s` is the secret, else the whole match
//!       min-entropy: 3.5         # optional
//!       binary: false            # also search binary files
//!   disable: [jwt]               # rule ids not to run
//!   allow:                       # every condition of an entry must hold
//!     - rule: generic-password
//!       path: /app/tests/**      # glob; without a leading / it matches at any depth
//!     - value: '^dev-'           # regex on the secret value
//!     - fingerprint: sha256:...  # as printed with a finding
//!   skip-paths: ['**/testdata/**']   # never read these files
//!   report-package-files: false  # also report secrets in files an OS package
//!                                # shipped unmodified (test keys in /usr/share/go...)
//! ```

use serde::{Deserialize, Serialize};

use crate::{Error, Severity, config_err};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    pub rules: Vec<CustomRule>,
    pub disable: Vec<String>,
    pub allow: Vec<AllowRule>,
    pub skip_paths: Vec<String>,
    /// Report secrets in files an OS package shipped exactly so (by dpkg's
    /// `md5sums` or rpm's file digests); by default they are counted in a
    /// notice only. This is
    /// about the report, not the scan: it does not change what is found.
    pub report_package_files: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CustomRule {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub severity: Severity,
    pub keywords: Vec<String>,
    pub regex: String,
    #[serde(default)]
    pub min_entropy: Option<f64>,
    #[serde(default)]
    pub binary: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct AllowRule {
    pub rule: Option<String>,
    pub path: Option<String>,
    pub value: Option<String>,
    pub fingerprint: Option<String>,
}

impl Config {
    /// The `secrets:` section of a whole `bosun.yaml` (other sections are
    /// left to their owners); the default when there is none.
    pub fn from_bosun_yaml(text: &str) -> Result<Config, Error> {
        bosun_yaml::check(text).map_err(|e| {
            config_err(
                "",
                format!("not valid YAML: line {}: {}", e.line, e.message),
            )
        })?;
        let doc: serde_norway::Value = serde_norway::from_str(text)
            .map_err(|e| config_err("", format!("not valid YAML: {e}")))?;
        match doc.get("secrets") {
            None | Some(serde_norway::Value::Null) => Ok(Config::default()),
            Some(v) => serde_norway::from_value(v.clone())
                .map_err(|e| config_err("secrets", e.to_string())),
        }
    }
}
