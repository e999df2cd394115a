//! Rekor transparency log evidence: RFC 6962 inclusion proofs, checkpoints
//! (C2SP signed notes), signed entry timestamps, and the check that the
//! logged entry body describes the bundle's own signature and signer.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::VerifyError;
use super::bundle::{InclusionProof, TlogEntry};
use super::dsse::Envelope;
use super::key::{HashAlgorithm, VerifyingKey, pem_decode};
use super::trust_root::TransparencyLog;

/// Checkpoints are a few lines; witnesses add a line each.
const MAX_CHECKPOINT_BYTES: usize = 64 << 10;
const MAX_NOTE_SIGNATURES: usize = 64;

/// RFC 6962 leaf hash: SHA-256(0x00 || entry).
pub fn leaf_hash(entry: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

fn node_hash(left: &[u8], right: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Recomputes the tree root from a leaf hash and its audit path
/// (RFC 9162 §2.1.3.2).
pub fn root_from_inclusion_proof(
    index: u64,
    tree_size: u64,
    leaf: [u8; 32],
    path: &[Vec<u8>],
) -> Result<[u8; 32], String> {
    if index >= tree_size {
        return Err(format!(
            "leaf index {index} is not below tree size {tree_size}"
        ));
    }
    let (mut f, mut s) = (index, tree_size - 1);
    let mut r = leaf;
    for (i, p) in path.iter().enumerate() {
        if p.len() != 32 {
            return Err(format!("proof hash {i} is {} bytes, not 32", p.len()));
        }
        if s == 0 {
            return Err("the audit path is longer than the tree is deep".into());
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err("the audit path is shorter than the tree is deep".into());
    }
    Ok(r)
}

/// A parsed checkpoint: origin, size, root hash and the signature lines.
#[derive(Debug)]
pub struct Checkpoint<'a> {
    pub origin: &'a str,
    pub size: u64,
    pub root_hash: Vec<u8>,
    /// The signed text: every line before the blank line, newline included.
    pub text: &'a str,
    pub signatures: Vec<(&'a str, Vec<u8>)>,
}

pub fn parse_checkpoint(envelope: &str) -> Result<Checkpoint<'_>, String> {
    if envelope.len() > MAX_CHECKPOINT_BYTES {
        return Err("checkpoint is too large".into());
    }
    let split = envelope
        .find("\n\n")
        .ok_or("no blank line before the signatures")?;
    let text = envelope.get(..split + 1).ok_or("bad split")?;
    let sigs = envelope.get(split + 2..).ok_or("bad split")?;
    let mut lines = text.lines();
    let origin = lines
        .next()
        .filter(|l| !l.is_empty())
        .ok_or("missing origin line")?;
    let size = lines
        .next()
        .and_then(|l| {
            l.parse::<u64>()
                .ok()
                .filter(|_| l.bytes().all(|c| c.is_ascii_digit()))
        })
        .ok_or("second line is not a tree size")?;
    let root_hash = lines
        .next()
        .and_then(|l| STANDARD.decode(l).ok())
        .filter(|h| h.len() == 32)
        .ok_or("third line is not a base64 SHA-256 root hash")?;
    let mut signatures = Vec::new();
    for line in sigs.lines() {
        if line.is_empty() {
            continue;
        }
        if signatures.len() == MAX_NOTE_SIGNATURES {
            return Err("too many signature lines".into());
        }
        let rest = line
            .strip_prefix("\u{2014} ")
            .ok_or("signature line does not start with an em dash")?;
        let (name, sig) = rest
            .split_once(' ')
            .ok_or("signature line has no signature")?;
        let sig = STANDARD
            .decode(sig)
            .map_err(|_| "signature line is not base64")?;
        if name.is_empty() || sig.len() < 5 {
            return Err("signature line is too short".into());
        }
        signatures.push((name, sig));
    }
    if signatures.is_empty() {
        return Err("checkpoint has no signature".into());
    }
    Ok(Checkpoint {
        origin,
        size,
        root_hash,
        text,
        signatures,
    })
}

/// Verifies the inclusion proof of `entry` and the log's signature on the
/// checkpoint that commits to the same root.
pub(crate) fn verify_inclusion(
    entry: &TlogEntry,
    proof: &InclusionProof,
    log: &TransparencyLog,
) -> Result<(), VerifyError> {
    let leaf = leaf_hash(&entry.canonicalized_body);
    let root = root_from_inclusion_proof(proof.log_index, proof.tree_size, leaf, &proof.hashes)
        .map_err(VerifyError::InclusionProof)?;
    if root.as_slice() != proof.root_hash.as_slice() {
        return Err(VerifyError::InclusionProof(
            "the audit path does not lead to the proof's root hash".into(),
        ));
    }
    let Some(envelope) = &proof.checkpoint else {
        // Only v0.1 bundles get here without a checkpoint; the SET stands in.
        return Ok(());
    };
    let cp = parse_checkpoint(envelope).map_err(VerifyError::Checkpoint)?;
    let key = log
        .key
        .as_ref()
        .ok_or_else(|| VerifyError::Checkpoint("the log's key type is not supported".into()))?;
    let hint = log.log_id.get(..4).unwrap_or_default();
    // Witness cosignatures and unknown keys are skipped: one valid
    // signature by the log's own key is what counts.
    let signed = cp.signatures.iter().any(|(_, sig)| {
        sig.get(..4) == Some(hint)
            && sig.get(4..).is_some_and(|s| {
                key.verify(HashAlgorithm::Sha256, cp.text.as_bytes(), s)
                    .is_ok()
            })
    });
    if !signed {
        return Err(VerifyError::CheckpointSignature(format!(
            "no signature line of checkpoint {:?} verifies with the log key",
            cp.origin
        )));
    }
    if cp.size != proof.tree_size || cp.root_hash != proof.root_hash {
        return Err(VerifyError::Checkpoint(format!(
            "checkpoint (size {}) does not commit to the proof's root (size {})",
            cp.size, proof.tree_size
        )));
    }
    Ok(())
}

/// Verifies Rekor v1's signed entry timestamp over the canonical JSON
/// `{"body","integratedTime","logID","logIndex"}`.
pub(crate) fn verify_set(entry: &TlogEntry, log: &TransparencyLog) -> Result<i64, VerifyError> {
    let (Some(set), Some(time)) = (&entry.signed_entry_timestamp, entry.integrated_time) else {
        return Err(VerifyError::Set(
            "entry has no inclusion promise and integrated time".into(),
        ));
    };
    let payload = format!(
        "{{\"body\":\"{}\",\"integratedTime\":{},\"logID\":\"{}\",\"logIndex\":{}}}",
        STANDARD.encode(&entry.canonicalized_body),
        time,
        hex::encode(&entry.log_id),
        entry.log_index
    );
    let key = log
        .key
        .as_ref()
        .ok_or_else(|| VerifyError::Set("the log's key type is not supported".into()))?;
    key.verify(log.hash_algorithm, payload.as_bytes(), set)
        .map_err(|e| VerifyError::Set(format!("signed entry timestamp: {e}")))?;
    Ok(time)
}

/// What the log entry must describe.
pub(crate) enum Expected<'a> {
    Message {
        digest: (HashAlgorithm, &'a [u8]),
        signature: &'a [u8],
    },
    Dsse(&'a Envelope),
}

/// The signer as the entry must name it.
pub(crate) enum SignerId<'a> {
    Certificate(&'a [u8]),
    Key(&'a VerifyingKey),
}

impl SignerId<'_> {
    /// `label` is a PEM label or "CERTIFICATE"/"PUBLIC KEY" for raw DER.
    fn matches(&self, label: &str, der_bytes: &[u8]) -> bool {
        match self {
            SignerId::Certificate(cert) => label == "CERTIFICATE" && *cert == der_bytes,
            SignerId::Key(key) => {
                label == "PUBLIC KEY" && VerifyingKey::from_der(der_bytes).is_ok_and(|k| &k == *key)
            }
        }
    }

    fn matches_pem_b64(&self, b64: &str) -> bool {
        STANDARD
            .decode(b64)
            .ok()
            .and_then(|pem| String::from_utf8(pem).ok())
            .and_then(|pem| pem_decode(&pem).ok())
            .is_some_and(|(label, der_bytes)| self.matches(&label, &der_bytes))
    }
}

fn mismatch(what: &str) -> VerifyError {
    VerifyError::TlogBodyMismatch(what.to_string())
}

fn field<'v>(v: &'v Value, path: &[&str]) -> Result<&'v Value, VerifyError> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p).ok_or_else(|| {
            VerifyError::TlogBodyMismatch(format!("entry body has no {}", path.join(".")))
        })?;
    }
    Ok(cur)
}

fn text<'v>(v: &'v Value, path: &[&str]) -> Result<&'v str, VerifyError> {
    field(v, path)?.as_str().ok_or_else(|| {
        VerifyError::TlogBodyMismatch(format!(
            "entry body field {} is not a string",
            path.join(".")
        ))
    })
}

fn b64_field(v: &Value, path: &[&str]) -> Result<Vec<u8>, VerifyError> {
    STANDARD.decode(text(v, path)?).map_err(|_| {
        VerifyError::TlogBodyMismatch(format!("entry body field {} is not base64", path.join(".")))
    })
}

/// Checks that the canonicalized body of `entry` records this bundle's
/// artifact digest (or DSSE payload), signature and signer.
pub(crate) fn check_body(
    entry: &TlogEntry,
    expected: &Expected<'_>,
    signer: &SignerId<'_>,
) -> Result<(), VerifyError> {
    let body: Value = serde_json::from_slice(&entry.canonicalized_body)
        .map_err(|e| mismatch(&format!("entry body is not JSON: {e}")))?;
    let kind = text(&body, &["kind"])?;
    let api = text(&body, &["apiVersion"])?;
    if kind != entry.kind || api != entry.version {
        return Err(mismatch(
            "entry body kind/apiVersion differ from kindVersion",
        ));
    }
    let spec = field(&body, &["spec"])?;
    match (kind, api, expected) {
        ("hashedrekord", "0.0.1", Expected::Message { digest, signature }) => {
            let algo = text(spec, &["data", "hash", "algorithm"])?;
            let value = text(spec, &["data", "hash", "value"])?;
            if HashAlgorithm::from_name(algo) != Some(digest.0) || value != hex::encode(digest.1) {
                return Err(mismatch(
                    "logged artifact digest differs from the artifact's",
                ));
            }
            if b64_field(spec, &["signature", "content"])? != *signature {
                return Err(mismatch("logged signature differs from the bundle's"));
            }
            if !signer.matches_pem_b64(text(spec, &["signature", "publicKey", "content"])?) {
                return Err(mismatch(
                    "logged public key/certificate differs from the bundle's",
                ));
            }
        }
        ("hashedrekord", "0.0.2", _) => {
            let v2 = field(spec, &["hashedRekordV002"])?;
            let algo = text(v2, &["data", "algorithm"])?;
            let logged = b64_field(v2, &["data", "digest"])?;
            let (want_algo, want_digest, want_sig) = match expected {
                Expected::Message { digest, signature } => {
                    (digest.0, digest.1.to_vec(), *signature)
                }
                Expected::Dsse(env) => {
                    // hashedrekord-over-DSSE records Hash(PAE(type, payload)).
                    let sig = one_signature(env)?;
                    (
                        HashAlgorithm::Sha256,
                        HashAlgorithm::Sha256.digest(&env.pae()),
                        sig,
                    )
                }
            };
            if HashAlgorithm::from_name(algo) != Some(want_algo) || logged != want_digest {
                return Err(mismatch("logged digest differs from the artifact's"));
            }
            if b64_field(v2, &["signature", "content"])? != want_sig {
                return Err(mismatch("logged signature differs from the bundle's"));
            }
            check_v2_verifier(field(v2, &["signature", "verifier"])?, signer)?;
        }
        ("dsse", "0.0.1", Expected::Dsse(env)) => {
            check_payload_hash_hex(spec, &["payloadHash"], env)?;
            let sigs = field(spec, &["signatures"])?
                .as_array()
                .ok_or_else(|| mismatch("signatures is not a list"))?;
            let sig = one_signature(env)?;
            if sigs.len() != 1 {
                return Err(mismatch("logged envelope has a different signature count"));
            }
            let logged = sigs
                .first()
                .ok_or_else(|| mismatch("no logged signature"))?;
            if b64_field(logged, &["signature"])? != sig {
                return Err(mismatch(
                    "logged DSSE signature differs from the envelope's",
                ));
            }
            if !signer.matches_pem_b64(text(logged, &["verifier"])?) {
                return Err(mismatch(
                    "logged DSSE verifier differs from the bundle's signer",
                ));
            }
        }
        ("dsse", "0.0.2", Expected::Dsse(env)) => {
            let v2 = field(spec, &["dsseV002"])?;
            let algo = text(v2, &["payloadHash", "algorithm"])?;
            let logged = b64_field(v2, &["payloadHash", "digest"])?;
            if HashAlgorithm::from_name(algo) != Some(HashAlgorithm::Sha256)
                || logged != HashAlgorithm::Sha256.digest(&env.payload)
            {
                return Err(mismatch("logged payload hash differs from the envelope's"));
            }
            let sigs = field(v2, &["signatures"])?
                .as_array()
                .ok_or_else(|| mismatch("signatures is not a list"))?;
            let sig = one_signature(env)?;
            let logged = match sigs.as_slice() {
                [one] => one,
                _ => return Err(mismatch("logged envelope has a different signature count")),
            };
            if b64_field(logged, &["content"])? != sig {
                return Err(mismatch(
                    "logged DSSE signature differs from the envelope's",
                ));
            }
            check_v2_verifier(field(logged, &["verifier"])?, signer)?;
        }
        ("intoto", "0.0.2", Expected::Dsse(env)) => {
            check_payload_hash_hex(spec, &["content", "payloadHash"], env)?;
            let logged_env = field(spec, &["content", "envelope"])?;
            if text(logged_env, &["payloadType"])? != env.payload_type {
                return Err(mismatch("logged payload type differs from the envelope's"));
            }
            let sigs = field(logged_env, &["signatures"])?
                .as_array()
                .ok_or_else(|| mismatch("signatures is not a list"))?;
            let sig = one_signature(env)?;
            let logged = match sigs.as_slice() {
                [one] => one,
                _ => return Err(mismatch("logged envelope has a different signature count")),
            };
            // intoto 0.0.2 stores the signature base64-encoded twice.
            let once = b64_field(logged, &["sig"])?;
            let twice = std::str::from_utf8(&once)
                .ok()
                .and_then(|s| STANDARD.decode(s).ok());
            if twice.as_deref() != Some(sig) {
                return Err(mismatch(
                    "logged DSSE signature differs from the envelope's",
                ));
            }
            if !signer.matches_pem_b64(text(logged, &["publicKey"])?) {
                return Err(mismatch(
                    "logged DSSE public key differs from the bundle's signer",
                ));
            }
        }
        (kind, api, _) => {
            return Err(VerifyError::UnsupportedEntry(format!(
                "{kind} {api} for a {} bundle",
                match expected {
                    Expected::Message { .. } => "message signature",
                    Expected::Dsse(_) => "DSSE",
                }
            )));
        }
    }
    Ok(())
}

fn one_signature(env: &Envelope) -> Result<&[u8], VerifyError> {
    match env.signatures.as_slice() {
        [one] => Ok(one),
        other => Err(VerifyError::DsseSignatureCount(other.len())),
    }
}

fn check_payload_hash_hex(spec: &Value, at: &[&str], env: &Envelope) -> Result<(), VerifyError> {
    let mut path = at.to_vec();
    path.push("algorithm");
    let algo = text(spec, &path)?;
    path.pop();
    path.push("value");
    let value = text(spec, &path)?;
    if algo != "sha256" || value != hex::encode(Sha256::digest(&env.payload)) {
        return Err(mismatch(
            "logged payload hash differs from the envelope's payload",
        ));
    }
    Ok(())
}

fn check_v2_verifier(verifier: &Value, signer: &SignerId<'_>) -> Result<(), VerifyError> {
    let (label, der_bytes) = if let Some(c) = verifier.get("x509Certificate") {
        ("CERTIFICATE", b64_field(c, &["rawBytes"])?)
    } else {
        (
            "PUBLIC KEY",
            b64_field(verifier, &["publicKey", "rawBytes"])?,
        )
    };
    if !signer.matches(label, &der_bytes) {
        return Err(mismatch("logged verifier differs from the bundle's signer"));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    /// Builds the RFC 6962 tree root of `leaves` directly, as a reference.
    fn tree_root(leaves: &[[u8; 32]]) -> [u8; 32] {
        if leaves.len() == 1 {
            return leaves[0];
        }
        let k = leaves.len().next_power_of_two() / 2;
        node_hash(&tree_root(&leaves[..k]), &tree_root(&leaves[k..]))
    }

    fn path(leaves: &[[u8; 32]], i: usize) -> Vec<Vec<u8>> {
        if leaves.len() == 1 {
            return Vec::new();
        }
        let k = leaves.len().next_power_of_two() / 2;
        if i < k {
            let mut p = path(&leaves[..k], i);
            p.push(tree_root(&leaves[k..]).to_vec());
            p
        } else {
            let mut p = path(&leaves[k..], i - k);
            p.push(tree_root(&leaves[..k]).to_vec());
            p
        }
    }

    #[test]
    fn inclusion_proofs_for_every_leaf_of_small_trees() {
        for n in 1..=17usize {
            let leaves: Vec<[u8; 32]> = (0..n).map(|i| leaf_hash(&[i as u8])).collect();
            let root = tree_root(&leaves);
            for i in 0..n {
                let p = path(&leaves, i);
                assert_eq!(
                    root_from_inclusion_proof(i as u64, n as u64, leaves[i], &p),
                    Ok(root)
                );
                // A wrong index or size must not give the same root.
                if n > 1 {
                    let other =
                        root_from_inclusion_proof(((i + 1) % n) as u64, n as u64, leaves[i], &p);
                    assert_ne!(other, Ok(root));
                }
            }
        }
        assert!(root_from_inclusion_proof(5, 5, [0; 32], &[]).is_err());
        assert!(root_from_inclusion_proof(0, 2, [0; 32], &[vec![0; 31]]).is_err());
    }

    #[test]
    fn checkpoint_parsing() {
        let good = "origin\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u{2014} origin AAAAAAAA\n";
        let cp = parse_checkpoint(good).expect("parses");
        assert_eq!((cp.origin, cp.size, cp.signatures.len()), ("origin", 12, 1));
        assert_eq!(
            cp.text,
            "origin\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
        );
        for bad in [
            "",
            "origin\n12\n\n\u{2014} origin AAAAAAAA\n",
            "origin\nx\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u{2014} origin AAAAAAAA\n",
            "origin\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n",
            "origin\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n- origin AAAAAAAA\n",
        ] {
            assert!(parse_checkpoint(bad).is_err(), "{bad:?}");
        }
    }
}
