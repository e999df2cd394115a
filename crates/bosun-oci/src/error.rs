use bosun_core::Digest;

#[derive(Debug, thiserror::Error)]
pub enum OciError {
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// Not a `#[source]`: serde_json's own message quotes the document
    /// (an error must never echo a file's content), so only the position
    /// is shown.
    #[error("{what} is not valid JSON: {}", json_problem(error))]
    Json {
        what: String,
        error: serde_json::Error,
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
    #[error("{image}: image is {is}, --platform {wanted} asked")]
    PlatformMismatch {
        image: String,
        is: String,
        wanted: String,
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

/// What is wrong with a JSON document, by position. serde's own messages
/// quote the input (`invalid type: string "root:x:0:0:..."`), and the
/// document may be any file the user named: never echo its content. A
/// missing field names a field of ours, so that message is kept.
fn json_problem(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let at = format!("line {} column {}", e.line(), e.column());
    match e.classify() {
        Category::Eof => format!("it ends early, at {at}"),
        Category::Syntax => format!("syntax error at {at}"),
        Category::Data => {
            let msg = e.to_string();
            if msg.starts_with("missing field `") {
                msg
            } else {
                format!("a value of the wrong type or form at {at}")
            }
        }
        Category::Io => format!("reading failed at {at}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_never_quote_the_document() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Doc {
            size: u64,
            name: String,
        }
        for doc in [
            &br#"{"size": "root:x:0:0:root:/root:/bin/bash", "name": "n"}"#[..],
            br#"{"size": 1, "name": "n", "root:x:0:0"#,
            b"root:x:0:0:root:/root:/bin/bash\n",
        ] {
            let error = serde_json::from_slice::<Doc>(doc).unwrap_err();
            let e = OciError::Json {
                what: "passwd".into(),
                error,
            }
            .to_string();
            assert!(!e.contains("root:x"), "{e}");
            assert!(e.contains("line 1 column"), "{e}");
        }
        let error = serde_json::from_slice::<Doc>(br#"{"size": 1}"#).unwrap_err();
        let e = OciError::Json {
            what: "m".into(),
            error,
        };
        assert!(e.to_string().contains("missing field `name`"), "{e}");
    }
}
