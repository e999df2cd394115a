//! Decoding the text of package files: one place, so that no cataloger
//! loses a package to a stray byte.
//!
//! A byte that is not UTF-8 in a description or an author's name must not
//! hide the package from the scan: the package is installed and its code
//! runs whatever its metadata's encoding. Every text parser decodes through
//! [`decode`], which replaces each invalid sequence with U+FFFD (Rust's
//! "maximal subpart" rule, the same the WHATWG decoder that Node uses
//! applies) and drops a leading byte-order mark, and records the oddity as a
//! visible [`UnknownKind::Lossy`](bosun_core::UnknownKind::Lossy) unknown
//! with [`Output::lossy`](crate::Output::lossy): the package is kept, the
//! unknown says where the bad byte was and what the ecosystem's own tool
//! makes of such a file.

use std::borrow::Cow;

/// Text decoded for a parser.
#[derive(Debug)]
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    /// Byte offset (in the file) of the first invalid UTF-8 sequence.
    pub invalid_at: Option<usize>,
}

/// UTF-8 with replacement characters, the leading byte-order mark removed.
pub fn decode(bytes: &[u8]) -> Decoded<'_> {
    let (bom, body) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (3, rest),
        None => (0, bytes),
    };
    match std::str::from_utf8(body) {
        Ok(s) => Decoded {
            text: Cow::Borrowed(s),
            invalid_at: None,
        },
        Err(e) => Decoded {
            text: String::from_utf8_lossy(body),
            invalid_at: Some(bom + e.valid_up_to()),
        },
    }
}

/// What an ecosystem's own tool does with a file that is not valid UTF-8:
/// part of the message, so a reader knows whether the tool would agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// Node's `require` and npm/yarn/pnpm read text as UTF-8 with
    /// replacement characters.
    Node,
    /// `importlib.metadata` (and so pip) reads core metadata as strict
    /// UTF-8 and fails; the package still imports.
    Python,
    /// RubyGems refuses a gemspec or lock file whose strings are not
    /// valid UTF-8; the gem's code is still on disk.
    Ruby,
    /// `java.util.jar.Manifest` decodes UTF-8 with replacement characters.
    JavaManifest,
    /// Composer's `json_decode` refuses invalid UTF-8; the installed code
    /// still loads through the generated autoloader.
    Composer,
    /// The .NET host reads `.deps.json` without checking the encoding.
    Dotnet,
    /// Cargo refuses a Cargo.lock that is not UTF-8; the built program is
    /// unaffected.
    Cargo,
    /// dpkg, apk and rpm treat their databases as bytes.
    Bytes,
    /// Go strings are bytes: build information is not checked.
    Go,
}

impl Tool {
    fn says(self) -> &'static str {
        match self {
            Tool::Node => "as Node and npm do",
            Tool::Python => {
                "importlib.metadata and pip refuse this file, Python still imports the package"
            }
            Tool::Ruby => "RubyGems may refuse this file, the gem's code is still installed",
            Tool::JavaManifest => "as java.util.jar.Manifest does",
            Tool::Composer => {
                "Composer refuses this file, the installed code still loads through its autoloader"
            }
            Tool::Dotnet => "the .NET host does not check the encoding",
            Tool::Cargo => "Cargo refuses this file, what was built from it is unaffected",
            Tool::Bytes => "the package manager treats its database as bytes",
            Tool::Go => "Go treats build information as bytes",
        }
    }
}

/// The message of the unknown that records a lossy decoding.
pub fn lossy_message(at: usize, tool: Tool) -> String {
    format!(
        "invalid UTF-8 at byte {at}, decoded with replacement characters ({}); package kept",
        tool.says()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_bytes_are_replaced_and_located() {
        let d = decode(b"\xEF\xBB\xBFab\xE9c\xFF");
        assert_eq!(d.text, "ab\u{FFFD}c\u{FFFD}");
        assert_eq!(d.invalid_at, Some(5));
        let d = decode(b"plain");
        assert!(matches!(d.text, Cow::Borrowed("plain")));
        assert_eq!(d.invalid_at, None);
    }

    /// A truncated 3-byte sequence is one replacement character, as in
    /// the WHATWG decoder (`new TextDecoder().decode(Buffer.from([0xE2,0x82,0x41]))`
    /// is "\uFFFDA" in Node).
    #[test]
    fn maximal_subpart_replacement() {
        assert_eq!(decode(b"\xE2\x82A").text, "\u{FFFD}A");
    }
}
