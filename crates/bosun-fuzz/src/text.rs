//! Document front doors: SBOMs, YAML (Kubernetes manifests and bosun.yaml),
//! Dockerfiles, advisory feeds, ignore files and VEX, signing material.

use std::io::Write;

use bosun_sign::{attest, keyless, keys, sigstore, simple};

use crate::pick;

/// Any SBOM bosun reads (CycloneDX, SPDX, bosun JSON; the bytes say which),
/// and, when it reads, written back out in every format.
pub fn sbom(data: &[u8]) {
    let Ok(sbom) = bosun_sbom::read::read(data, "fuzz.json") else {
        return;
    };
    let opts = bosun_sbom::WriteOptions::default();
    let mut sink = std::io::sink();
    let _ = bosun_sbom::cyclonedx::write(&sbom, &opts, &mut sink);
    let _ = bosun_sbom::spdx::write(&sbom, &opts, &mut sink);
    let _ = bosun_sbom::json::write_json(&sbom, &opts, &mut sink);
    let _ = bosun_sbom::table::write(&sbom, &opts, &mut sink);
    let _ = sink.flush();
}

/// The YAML front door of `bosun config`: a manifest file loaded and
/// checked; the same text as a `bosun.yaml` (settings and secret rules).
pub fn yaml(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(docs) = bosun_config::k8s::load(&text, "fuzz.yaml") {
        let mut notes = Vec::new();
        let _ = bosun_config::k8s::check(&docs, &bosun_config::Settings::default(), &mut notes);
    }
    let _ = bosun_config::Settings::parse(&text, "bosun.yaml");
    if let Ok(cfg) = bosun_secret::Config::from_bosun_yaml(&text) {
        let _ = bosun_secret::Scanner::new(&cfg);
    }
}

pub fn dockerfile(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(df) = bosun_config::dockerfile::parse(&text) {
        let _ = bosun_config::dockerfile::check(&df, "Dockerfile");
    }
}

/// Advisory feeds: OSV record, OSV zip, KEV, EPSS (plain and gzip), the
/// Debian security tracker dump.
pub fn feeds(data: &[u8]) {
    use bosun_vulndb::feed::{debian, epss, kev, osv};
    let (choice, bytes) = pick(data, 6);
    match choice {
        0 => drop(osv::parse_record(bytes, "osv", "fuzz.json")),
        1 => drop(kev::parse(bytes)),
        2 => drop(epss::parse(bytes, false)),
        3 => drop(epss::parse(bytes, true)),
        4 => drop(debian::parse_tracker(
            bytes,
            "debian",
            debian::DEFAULT_RELEASES,
        )),
        _ => {
            let Ok(mut file) = tempfile::NamedTempFile::new() else {
                return;
            };
            if file.write_all(bytes).and_then(|()| file.flush()).is_ok() {
                let _ = osv::read_zip(file.path(), "osv", &mut |_| {});
            }
        }
    }
}

/// The ignore file and OpenVEX documents.
pub fn policy(data: &[u8]) {
    let (choice, bytes) = pick(data, 2);
    match choice {
        0 => drop(bosun_vuln::ignore::IgnoreFile::parse(
            &String::from_utf8_lossy(bytes),
            ".bosunignore",
        )),
        _ => drop(bosun_vuln::vex::VexDocument::parse(bytes, "fuzz.vex.json")),
    }
}

/// Signing material: keys (PEM, DER, certificates, cosign's encrypted
/// private keys), Sigstore bundles and trusted roots, cosign's Rekor bundle
/// annotation and certificate chains, simple-signing payloads, DSSE
/// envelopes, Rekor checkpoints.
pub fn sign(data: &[u8]) {
    let (choice, bytes) = pick(data, 14);
    let text = || String::from_utf8_lossy(bytes);
    match choice {
        0 => drop(keys::PublicKey::from_pem(bytes)),
        1 => drop(keys::PublicKey::from_spki_der(bytes)),
        2 => drop(keys::PublicKey::from_certificate_der(bytes)),
        3 => drop(keys::PrivateKey::from_pem(bytes, Some(b"fuzz"))),
        4 => drop(keys::PrivateKey::from_pkcs8_der(bytes)),
        5 => drop(sigstore::Bundle::from_json(bytes)),
        6 => drop(sigstore::TrustedRoot::from_json(bytes)),
        7 => drop(sigstore::VerifyingKey::from_der(bytes)),
        8 => drop(sigstore::VerifyingKey::from_pem(&text())),
        9 => drop(sigstore::parse_checkpoint(&text())),
        10 => drop(keyless::RekorBundle::parse(&text())),
        11 => drop(keyless::SigstoreRoot::from_json(bytes)),
        12 => drop(keyless::CertificateChain::from_pem(bytes)),
        _ => {
            drop(simple::Payload::parse(bytes));
            drop(attest::Envelope::parse(bytes));
        }
    }
}
