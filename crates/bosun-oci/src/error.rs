use bosun_core::Digest;

#[derive(Debug, thiserror::Error)]
pub enum OciError {
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} is not valid JSON")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{what} is {size} bytes, more than the {limit} allowed")]
    TooLarge { what: String, size: u64, limit: u64 },
    #[error("{what}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: Digest,
        actual: Digest,
    },
    #[error("{what}: unsupported media type {media_type:?}")]
    UnsupportedMediaType { what: String, media_type: String },
    #[error("{what}: {message}")]
    Invalid { what: String, message: String },
    #[error("{what}: not found")]
    NotFound { what: String },
    #[error("no image in {index} matches platform {wanted} (available: {available})")]
    NoMatchingPlatform {
        index: String,
        wanted: String,
        available: String,
    },
    #[error("registry {registry}: {message}")]
    Registry { registry: String, message: String },
}

impl OciError {
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        OciError::Io {
            what: what.into(),
            source,
        }
    }
    pub fn invalid(what: impl Into<String>, message: impl Into<String>) -> Self {
        OciError::Invalid {
            what: what.into(),
            message: message.into(),
        }
    }
}
