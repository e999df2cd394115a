//! Image configuration checks (`BOSUN-IMG-*`) over what `bosun scan`
//! already knows: the config (`ImageMetadata`), the distro and packages.
//! Secrets in `Env` are the secret scanner's job.

use bosun_core::{Distro, Package};
use bosun_sbom::ImageMetadata;
use serde::{Deserialize, Serialize};

use crate::{Finding, Location, Settings};

const TRACE_LABELS: &[&str] = &[
    "org.opencontainers.image.source",
    "org.opencontainers.image.revision",
    "org.opencontainers.image.created",
];
const SHELL_PACKAGES: &[&str] = &[
    "bash",
    "dash",
    "busybox",
    "busybox-binsh",
    "ash",
    "zsh",
    "mksh",
    "ksh",
    "tcsh",
];
const PACKAGE_MANAGERS: &[&str] = &[
    "apk-tools",
    "apt",
    "dpkg",
    "rpm",
    "yum",
    "dnf",
    "microdnf",
    "tdnf",
    "zypper",
];

/// The base image family, as far as the image tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BaseFamily {
    /// No OS at all: no os-release, no OS packages.
    Scratch,
    /// Google's distroless (Debian packages, no shell or package manager).
    Distroless,
    Chainguard,
    Wolfi,
    Alpine,
    DebianSlim,
    Debian,
    Ubuntu,
    /// Another distribution, named in `BaseImage::name`.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseImage {
    pub family: BaseFamily,
    /// Human-readable: `Debian GNU/Linux 12 (bookworm)`, `Distroless`...
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version: Option<String>,
    /// What the identification rests on (`os-release`, a label, packages).
    pub evidence: String,
    /// The image says it is distroless (its base, a label or a tag).
    pub claims_distroless: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageCheck {
    pub base: BaseImage,
    pub findings: Vec<Finding>,
}

/// Identifies the base from os-release (`distro`), labels and packages.
pub fn identify_base(
    meta: &ImageMetadata,
    distro: Option<&Distro>,
    packages: &[Package],
) -> BaseImage {
    let label_says = |needle: &str| {
        meta.labels.iter().any(|(k, v)| {
            (k.starts_with("org.opencontainers.image.") || k.starts_with("io."))
                && v.to_ascii_lowercase().contains(needle)
        }) || meta
            .tags
            .iter()
            .any(|t| t.to_ascii_lowercase().contains(needle))
    };
    let labelled = label_says("distroless");
    let version = distro.and_then(|d| d.version_id.clone());
    let Some(d) = distro else {
        let (family, name, evidence) = if labelled {
            (
                BaseFamily::Distroless,
                "distroless",
                "no os-release; a tag or label naming distroless",
            )
        } else if packages.iter().any(is_os_package) {
            (
                BaseFamily::Other,
                "unknown distribution",
                "OS packages but no os-release",
            )
        } else {
            (
                BaseFamily::Scratch,
                "scratch",
                "no os-release and no OS packages",
            )
        };
        return BaseImage {
            family,
            name: name.into(),
            version: None,
            evidence: evidence.into(),
            claims_distroless: labelled,
        };
    };
    let pretty = d.pretty_name.clone().unwrap_or_else(|| d.id.clone());
    let lower = pretty.to_ascii_lowercase();
    let (family, evidence) = if lower.contains("distroless") {
        (BaseFamily::Distroless, "os-release PRETTY_NAME")
    } else if d.id == "chainguard" {
        (BaseFamily::Chainguard, "os-release ID")
    } else if d.id == "wolfi" {
        (BaseFamily::Wolfi, "os-release ID")
    } else if d.id == "alpine" {
        (BaseFamily::Alpine, "os-release ID")
    } else if d.id == "debian" && label_says("slim") {
        (
            BaseFamily::DebianSlim,
            "os-release ID and a tag or label naming slim",
        )
    } else if d.id == "debian" {
        (BaseFamily::Debian, "os-release ID")
    } else if d.id == "ubuntu" {
        (BaseFamily::Ubuntu, "os-release ID")
    } else {
        (BaseFamily::Other, "os-release ID")
    };
    let claims_distroless =
        labelled || matches!(family, BaseFamily::Distroless | BaseFamily::Chainguard);
    BaseImage {
        family,
        name: pretty,
        version,
        evidence: evidence.into(),
        claims_distroless,
    }
}

fn is_os_package(p: &Package) -> bool {
    matches!(
        p.metadata,
        bosun_core::PackageMetadata::Dpkg(_)
            | bosun_core::PackageMetadata::Rpm(_)
            | bosun_core::PackageMetadata::Apk(_)
    )
}

/// Every image-config finding; `image` names the image in locations.
pub fn check_image(
    image: &str,
    meta: &ImageMetadata,
    distro: Option<&Distro>,
    packages: &[Package],
    settings: &Settings,
) -> ImageCheck {
    let base = identify_base(meta, distro, packages);
    let mut findings = Vec::new();
    let at = |path: &str| Location {
        file: image.to_string(),
        line: None,
        object: None,
        path: Some(path.to_string()),
    };

    let user = meta.user.as_deref().unwrap_or("").trim();
    let name = user.split(':').next().unwrap_or("");
    if name.is_empty() || name == "root" || name == "0" {
        let msg = if name.is_empty() {
            "no User in the image config".to_string()
        } else {
            format!("User is {user}")
        };
        findings.push(Finding::new("BOSUN-IMG-001", msg, at("config.User")));
    }
    let missing: Vec<&str> = TRACE_LABELS
        .iter()
        .copied()
        .filter(|l| !meta.labels.contains_key(*l))
        .collect();
    if !missing.is_empty() {
        findings.push(Finding::new(
            "BOSUN-IMG-002",
            format!("missing labels: {}", missing.join(", ")),
            at("config.Labels"),
        ));
    }
    let size: u64 = meta
        .layers
        .iter()
        .map(|l| l.size)
        .fold(0u64, u64::saturating_add);
    let budget = settings.image_size_budget_mb.saturating_mul(1_000_000);
    if size > budget {
        findings.push(Finding::new(
            "BOSUN-IMG-003",
            format!(
                "{} MB of layers, budget {} MB",
                size / 1_000_000,
                settings.image_size_budget_mb
            ),
            at("layers"),
        ));
    }
    if base.claims_distroless {
        let mut present: Vec<&str> = packages
            .iter()
            .filter(|p| is_os_package(p))
            .map(|p| p.name.as_str())
            .filter(|n| SHELL_PACKAGES.contains(n) || PACKAGE_MANAGERS.contains(n))
            .collect();
        present.sort_unstable();
        present.dedup();
        if !present.is_empty() {
            findings.push(Finding::new(
                "BOSUN-IMG-004",
                format!(
                    "claims to be distroless but contains {}",
                    present.join(", ")
                ),
                at("packages"),
            ));
        }
    }
    ImageCheck { base, findings }
}
