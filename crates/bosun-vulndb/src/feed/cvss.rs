//! CVSS base scores from vector strings, via the `cvss` crate.

use std::str::FromStr;

use cvss::Cvss;

/// Base metrics a v2 / v3 vector must all state: the `cvss` crate parses a
/// vector that leaves some out and scores the missing ones as zero, which
/// would be a made-up number.
const V2_BASE: [&str; 6] = ["AV", "AC", "Au", "C", "I", "A"];
const V3_BASE: [&str; 8] = ["AV", "AC", "PR", "UI", "S", "C", "I", "A"];

/// Vectors longer than this are not CVSS (the longest v4 vector with every
/// optional metric is about 200 bytes).
const MAX_VECTOR: usize = 512;

/// The base score of `vector`, when `kind` (OSV's `CVSS_V2`, `CVSS_V3`,
/// `CVSS_V4`) matches the vector's version and the vector is complete.
/// For v4 this is the CVSS-B(TE) score of the metrics the vector states.
pub fn base_score(kind: &str, vector: &str) -> Option<f64> {
    if vector.len() > MAX_VECTOR {
        return None;
    }
    let parsed = Cvss::from_str(vector.trim()).ok()?;
    let complete = |base: &[&str]| {
        let present: Vec<&str> = parsed.metrics().map(|(m, _)| m.name()).collect();
        base.iter().all(|b| present.contains(b))
    };
    let ok = match (kind, &parsed) {
        ("CVSS_V2", Cvss::CvssV20(_)) => complete(&V2_BASE),
        ("CVSS_V3", Cvss::CvssV30(_) | Cvss::CvssV31(_)) => complete(&V3_BASE),
        // The crate rejects a v4 vector that lacks a mandatory metric.
        ("CVSS_V4", Cvss::CvssV40(_)) => true,
        _ => false,
    };
    let score = parsed.score();
    (ok && score.is_finite() && (0.0..=10.0).contains(&score)).then_some(score)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_by_version() {
        // Log4Shell's NVD vector and score.
        assert_eq!(
            base_score("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"),
            Some(10.0)
        );
        // The v4 base vector with every impact high on the vulnerable system
        // only scores 9.3 in FIRST's calculator.
        assert_eq!(
            base_score(
                "CVSS_V4",
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
            ),
            Some(9.3)
        );
        // NVD's v2 vector for CVE-2014-0160 (Heartbleed) scores 5.0.
        assert_eq!(
            base_score("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:N/A:N"),
            Some(5.0)
        );
    }

    #[test]
    fn rejects_mismatch_incomplete_and_garbage() {
        let v31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H";
        assert_eq!(base_score("CVSS_V4", v31), None);
        assert_eq!(base_score("Ubuntu", "medium"), None);
        assert_eq!(base_score("CVSS_V3", "CVSS:3.1/AV:N/AC:L"), None);
        assert_eq!(base_score("CVSS_V4", "CVSS:4.0/AV:N/AC:L"), None);
        assert_eq!(base_score("CVSS_V3", "CVSS:3.1/AV:N/AV:N/AC:L"), None);
        assert_eq!(base_score("CVSS_V3", ""), None);
        assert_eq!(base_score("CVSS_V3", &"CVSS:3.1/AV:N".repeat(1000)), None);
        assert_eq!(base_score("CVSS_V3", "CVSS:3.1/\u{0}:\u{ffff}"), None);
    }
}
