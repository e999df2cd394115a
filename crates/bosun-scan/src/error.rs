#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Oci(#[from] bosun_oci::OciError),
    #[error(transparent)]
    Layer(#[from] bosun_oci::layer::LayerError),
    #[error(transparent)]
    Secrets(#[from] bosun_secret::Error),
    #[error("target {target:?}: {message}")]
    Target { target: String, message: String },
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "layer {layer}: uncompressed content has digest {actual}, the image config says {expected}"
    )]
    DiffIdMismatch {
        layer: String,
        expected: bosun_core::Digest,
        actual: bosun_core::Digest,
    },
}
