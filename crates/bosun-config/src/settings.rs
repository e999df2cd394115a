//! The `config:` section of `bosun.yaml`. Other sections belong to other
//! scanners and are ignored here.

use std::path::Path;

use serde::Deserialize;

use crate::Error;

/// Default image size budget: the 200 MB guideline.
pub const DEFAULT_IMAGE_SIZE_BUDGET_MB: u64 = 200;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Rule ids never reported.
    #[serde(default)]
    pub skip: Vec<String>,
    /// Registries (`ghcr.io`) or registry prefixes (`ghcr.io/acme`) images
    /// may come from. Empty: the allow-list rule is not applied.
    #[serde(default)]
    pub allowed_registries: Vec<String>,
    /// Image size budget in MB (10^6 bytes), summed over compressed layers.
    #[serde(default = "default_budget")]
    pub image_size_budget_mb: u64,
    /// The `secrets:` section of the same file (custom rules, allow-lists),
    /// applied to the values of manifests and Dockerfiles.
    #[serde(skip)]
    pub secrets: bosun_secret::Config,
}

fn default_budget() -> u64 {
    DEFAULT_IMAGE_SIZE_BUDGET_MB
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            skip: Vec::new(),
            allowed_registries: Vec::new(),
            image_size_budget_mb: DEFAULT_IMAGE_SIZE_BUDGET_MB,
            secrets: bosun_secret::Config::default(),
        }
    }
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    config: Option<Settings>,
}

impl Settings {
    /// Parses a whole `bosun.yaml`; a missing `config:` section means defaults.
    pub fn parse(text: &str, name: &str) -> Result<Settings, Error> {
        bosun_yaml::check(text).map_err(|e| Error::Invalid {
            path: name.to_string(),
            message: format!("invalid bosun.yaml: line {}: {}", e.line, e.message),
        })?;
        let f: File = serde_norway::from_str(text).map_err(|e| Error::Invalid {
            path: name.to_string(),
            message: format!("invalid bosun.yaml: {e}"),
        })?;
        let mut s = f.config.unwrap_or_default();
        s.secrets = bosun_secret::Config::from_bosun_yaml(text).map_err(|e| Error::Invalid {
            path: name.to_string(),
            message: e.to_string(),
        })?;
        for id in &s.skip {
            if crate::rules::rule(id).is_none() {
                return Err(Error::Invalid {
                    path: name.to_string(),
                    message: format!("config.skip: unknown rule id {id:?}"),
                });
            }
        }
        Ok(s)
    }

    pub fn load(path: &Path) -> Result<Settings, Error> {
        let name = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|source| Error::Io {
            path: name.clone(),
            source,
        })?;
        if meta.len() > crate::MAX_FILE_SIZE {
            return Err(Error::Invalid {
                path: name,
                message: "larger than 16 MiB".into(),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: name.clone(),
            source,
        })?;
        Settings::parse(&text, &name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_the_config_section() {
        let s = Settings::parse(
            "secrets:\n  allow: [{rule: jwt}]\nconfig:\n  skip: [BOSUN-DF-002]\n  allowed_registries: [ghcr.io/acme]\n",
            "bosun.yaml",
        )
        .unwrap();
        assert_eq!(s.skip, ["BOSUN-DF-002"]);
        assert_eq!(s.allowed_registries, ["ghcr.io/acme"]);
        assert_eq!(s.image_size_budget_mb, 200);
        assert_eq!(Settings::parse("{}", "b").unwrap(), Settings::default());
    }

    #[test]
    fn rejects_typos() {
        let e = Settings::parse("config:\n  skip: [BOSUN-DF-999]\n", "b.yaml").unwrap_err();
        assert!(e.to_string().contains("BOSUN-DF-999"), "{e}");
        assert!(Settings::parse("config:\n  skpi: []\n", "b.yaml").is_err());
    }
}
