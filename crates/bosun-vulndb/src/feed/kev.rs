//! The CISA Known Exploited Vulnerabilities catalogue
//! (`known_exploited_vulnerabilities.json`).

use serde::Deserialize;

use super::{Capped, FeedError, LaxStr, Stats, is_cve_id};
use crate::model::KevEntry;

/// The catalogue is about 1.5 MB; anything far beyond is not it.
pub const MAX_BYTES: usize = 64 * 1024 * 1024;
const MAX_ENTRIES: usize = 1_000_000;
const MAX_NAME: usize = 1024;

/// The catalogue as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    /// `catalogVersion`, e.g. `2025.08.25`.
    pub catalog_version: String,
    /// `dateReleased`, as published.
    pub date_released: Option<String>,
    pub entries: Vec<KevEntry>,
    /// `records` counts `entries`; `skipped`/`warnings` the entries dropped.
    pub stats: Stats,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCatalog {
    catalog_version: String,
    date_released: Option<String>,
    count: Option<u64>,
    vulnerabilities: Capped<RawEntry, MAX_ENTRIES>,
}

/// Entries are read laxly so one odd entry costs only itself.
#[derive(Deserialize)]
struct RawEntry {
    #[serde(rename = "cveID")]
    cve_id: Option<LaxStr>,
    #[serde(rename = "dateAdded")]
    date_added: Option<LaxStr>,
    #[serde(rename = "dueDate")]
    due_date: Option<LaxStr>,
    #[serde(rename = "knownRansomwareCampaignUse")]
    ransomware: Option<LaxStr>,
    #[serde(rename = "vulnerabilityName")]
    name: Option<LaxStr>,
}

fn text(v: Option<LaxStr>) -> Option<String> {
    v.and_then(LaxStr::into_string)
}

/// `YYYY-MM-DD`, as the schema's `format: date` says.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Parses the catalogue. An entry without a valid `cveID` or `dateAdded` is
/// skipped with a warning naming its index.
pub fn parse(bytes: &[u8]) -> Result<Catalog, FeedError> {
    const WHERE: &str = "KEV catalogue";
    if bytes.len() > MAX_BYTES {
        return Err(FeedError::TooLarge {
            location: WHERE.into(),
            limit: MAX_BYTES as u64,
        });
    }
    let raw: RawCatalog =
        serde_json::from_slice(bytes).map_err(|e| FeedError::invalid(WHERE, e))?;
    let mut stats = Stats::default();
    let mut entries = Vec::with_capacity(raw.vulnerabilities.0.len());
    for (i, e) in raw.vulnerabilities.0.into_iter().enumerate() {
        let at = format!("{WHERE}: vulnerabilities[{i}]");
        let Some(cve) = text(e.cve_id).filter(|c| is_cve_id(c)) else {
            stats.skip(at, "cveID missing or not a CVE id");
            continue;
        };
        let Some(date_added) = text(e.date_added).filter(|d| is_date(d)) else {
            stats.skip(
                at,
                format_args!("{cve}: dateAdded missing or not YYYY-MM-DD"),
            );
            continue;
        };
        entries.push(KevEntry {
            cve,
            date_added,
            due_date: text(e.due_date).filter(|d| is_date(d)),
            ransomware: text(e.ransomware).filter(|r| r.len() <= MAX_NAME),
            name: text(e.name).map(|n| super::truncate(n, MAX_NAME)),
        });
    }
    stats.records = entries.len();
    if let Some(count) = raw.count {
        let listed = entries.len() as u64 + stats.skipped as u64;
        if count != listed {
            stats.warn(
                WHERE,
                format_args!("count says {count}, {listed} entries listed"),
            );
        }
    }
    Ok(Catalog {
        catalog_version: raw.catalog_version,
        date_released: raw.date_released,
        entries,
        stats,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn shared_kev() -> Option<Vec<u8>> {
        let p = bosun_testutil::shared("vulndata/kev/known_exploited_vulnerabilities.json")?;
        Some(std::fs::read(p).unwrap())
    }

    #[test]
    fn real_catalogue() {
        let Some(bytes) = shared_kev() else { return };
        let cat = parse(&bytes).unwrap();
        let raw: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(cat.catalog_version, "2025.08.25");
        assert_eq!(cat.catalog_version, raw["catalogVersion"].as_str().unwrap());
        assert_eq!(cat.entries.len(), 1404);
        assert_eq!(cat.stats.skipped, 0);
        assert!(cat.stats.warnings.is_empty(), "{:?}", cat.stats.warnings);
        let vulns = raw["vulnerabilities"].as_array().unwrap();
        for (e, r) in cat.entries.iter().zip(vulns) {
            assert_eq!(e.cve, r["cveID"].as_str().unwrap());
            assert_eq!(e.date_added, r["dateAdded"].as_str().unwrap());
            assert_eq!(e.due_date.as_deref(), r["dueDate"].as_str());
            assert_eq!(
                e.ransomware.as_deref(),
                r["knownRansomwareCampaignUse"].as_str()
            );
            assert_eq!(e.name.as_deref(), r["vulnerabilityName"].as_str());
        }
        let known = cat
            .entries
            .iter()
            .filter(|e| e.ransomware.as_deref() == Some("Known"))
            .count();
        let raw_known = vulns
            .iter()
            .filter(|v| v["knownRansomwareCampaignUse"] == "Known")
            .count();
        assert_eq!(known, raw_known);
    }

    #[test]
    fn bad_entries_are_skipped_not_fatal() {
        let doc = br#"{"catalogVersion":"x","dateReleased":"y","count":4,"vulnerabilities":[
            {"cveID":"CVE-2021-44228","dateAdded":"2021-12-10","dueDate":"2021-12-24","knownRansomwareCampaignUse":"Known","vulnerabilityName":"Log4Shell"},
            {"cveID":"not-a-cve","dateAdded":"2021-12-10"},
            {"cveID":"CVE-2021-0001","dateAdded":12},
            {"cveID":["CVE-2021-0002"],"dateAdded":"2021-12-10"}]}"#;
        let cat = parse(doc).unwrap();
        assert_eq!(cat.entries.len(), 1);
        assert_eq!(cat.entries[0].cve, "CVE-2021-44228");
        assert_eq!(cat.stats.skipped, 3);
        assert!(
            cat.stats.warnings[0]
                .location
                .contains("vulnerabilities[1]")
        );
    }

    #[test]
    fn hostile_documents_are_errors() {
        for doc in [
            &b""[..],
            b"{",
            b"[]",
            b"{\"catalogVersion\":1,\"vulnerabilities\":[]}",
            b"{\"catalogVersion\":\"x\"}",
            b"\xff\xfe{}",
        ] {
            assert!(parse(doc).is_err(), "{:?}", String::from_utf8_lossy(doc));
        }
        // Deep nesting in a field nobody reads is skipped without recursion;
        // where a value is read it is a plain error.
        let nest = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let ignored = format!(
            "{{\"catalogVersion\":\"x\",\"vulnerabilities\":[{{\"notes\":{}}}]}}",
            nest(100_000)
        );
        assert_eq!(parse(ignored.as_bytes()).unwrap().stats.skipped, 1);
        let read = format!(
            "{{\"catalogVersion\":\"x\",\"vulnerabilities\":{}}}",
            nest(100_000)
        );
        assert!(parse(read.as_bytes()).is_err());
        // A count that disagrees with the list is worth a warning, not an error.
        let cat = parse(br#"{"catalogVersion":"x","count":9,"vulnerabilities":[]}"#).unwrap();
        assert_eq!(cat.stats.warnings.len(), 1);
    }
}
