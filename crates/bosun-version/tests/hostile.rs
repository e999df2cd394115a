//! Hostile input: random strings over the characters the parsers care about
//! must give errors or values, never panics, and comparisons must stay
//! antisymmetric.

use std::cmp::Ordering;

use bosun_version::osv::{Event, Range as OsvRange};
use bosun_version::{AnyVersion, Scheme, gem, maven, pep440, semver};

const ALPHABET: &[u8] = b"0123456789..--__~~^^++::!!**xXvV=<>|,[]() abcrpstlgiz\xc3\xa9\t";

/// Deterministic pseudo-random strings (xorshift), some longer than the limits.
fn inputs() -> Vec<String> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..6000)
        .map(|i| {
            let len = if i % 500 == 0 {
                5000
            } else {
                (next() % 24) as usize
            };
            let bytes: Vec<u8> = (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect();
            String::from_utf8_lossy(&bytes).into_owned()
        })
        .collect()
}

const SCHEMES: [Scheme; 8] = [
    Scheme::Dpkg,
    Scheme::Rpm,
    Scheme::Apk,
    Scheme::Semver,
    Scheme::Go,
    Scheme::Pep440,
    Scheme::Maven,
    Scheme::RubyGems,
];

#[test]
fn random_versions_never_panic_and_order_is_antisymmetric() {
    let inputs = inputs();
    for scheme in SCHEMES {
        let parsed: Vec<AnyVersion> = inputs
            .iter()
            .filter_map(|s| AnyVersion::parse(scheme, s).ok())
            .collect();
        for w in parsed.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            assert_eq!(
                a.partial_cmp_same(b),
                b.partial_cmp_same(a).map(Ordering::reverse),
                "{scheme}: {a:?} {b:?}"
            );
        }
    }
}

#[test]
fn random_ranges_never_panic() {
    let v = "1.2.3".parse::<semver::Version>().ok();
    for s in inputs() {
        if let (Ok(r), Some(v)) = (s.parse::<semver::NpmRange>(), &v) {
            r.satisfies(v);
        }
        let _ = s.parse::<semver::CargoReq>();
        if let Ok(r) = s.parse::<pep440::SpecifierSet>() {
            r.contains(&"1.0".parse().unwrap_or_else(|_| unreachable!()));
        }
        if let Ok(r) = s.parse::<maven::Range>() {
            r.contains(&"1.0".parse().unwrap_or_else(|_| unreachable!()));
        }
        let _ = s.parse::<gem::Requirement>();
        let _ = OsvRange::new(
            Scheme::Semver,
            &[Event::Introduced(s.clone()), Event::Limit(s)],
        );
    }
}

#[test]
fn deeply_nested_input_is_bounded() {
    for s in [
        "1-".repeat(128),
        "1.".repeat(128),
        "a1".repeat(128),
        "(".repeat(4000),
        "||".repeat(2000),
    ] {
        for scheme in SCHEMES {
            let _ = AnyVersion::parse(scheme, &s);
        }
        assert!(s.parse::<semver::NpmRange>().is_err() || s.len() < 4096);
        let _ = s.parse::<maven::Range>();
    }
}
