//! DSSE envelopes and their pre-authentication encoding (PAE).

use serde::Deserialize;

/// A DSSE envelope as carried in a bundle (payload and signatures decoded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub payload_type: String,
    pub payload: Vec<u8>,
    pub signatures: Vec<Vec<u8>>,
}

/// `DSSEv1 SP len(type) SP type SP len(body) SP body`: what is signed.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(
        format!(
            "DSSEv1 {} {} {} ",
            payload_type.len(),
            payload_type,
            payload.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(payload);
    out
}

impl Envelope {
    pub fn pae(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }
}

/// The parts of an in-toto Statement (v0.1 or v1) the verifier checks.
#[derive(Deserialize)]
pub(crate) struct Statement {
    #[serde(rename = "_type")]
    pub kind: String,
    #[serde(default)]
    pub subject: Vec<Subject>,
}

#[derive(Deserialize)]
pub(crate) struct Subject {
    #[serde(default)]
    pub digest: std::collections::BTreeMap<String, String>,
}

pub(crate) const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // The worked example from the DSSE protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
    }
}
