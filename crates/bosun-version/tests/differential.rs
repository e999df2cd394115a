//! Differential tests: orderings and range answers from the real reference
//! tools (dpkg, rpm, node-semver, packaging, Maven, RubyGems), generated from
//! real version strings by tests/gen/gen.py into testdata/. Every row must
//! agree; failures list the disagreeing rows.

use std::cmp::Ordering;
use std::path::PathBuf;
use std::str::FromStr;

use bosun_version::osv::{Event, Range as OsvRange};
use bosun_version::{Scheme, dpkg, gem, maven, pep440, rpm, semver};

fn rows(name: &str) -> Vec<Vec<String>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

fn sign(o: Ordering) -> &'static str {
    match o {
        Ordering::Less => "-1",
        Ordering::Equal => "0",
        Ordering::Greater => "1",
    }
}

/// Checks every row with `check` (returns our answer, or an error text) and
/// fails listing the disagreements.
fn run(name: &str, min_rows: usize, check: impl Fn(&[String]) -> Result<(), String>) {
    let rows = rows(name);
    assert!(rows.len() >= min_rows, "{name}: only {} rows", rows.len());
    let bad: Vec<String> = rows
        .iter()
        .filter_map(|r| check(r).err().map(|e| format!("{} => {e}", r.join(" | "))))
        .collect();
    assert!(
        bad.is_empty(),
        "{name}: {} of {} rows disagree:\n{}",
        bad.len(),
        rows.len(),
        bad.iter().take(60).cloned().collect::<Vec<_>>().join("\n")
    );
}

fn field(r: &[String], i: usize) -> &str {
    r.get(i).map_or("", String::as_str)
}

fn pairs<V: FromStr + Ord>(name: &str, min_rows: usize, parse: impl Fn(&str) -> Result<V, String>) {
    run(name, min_rows, |r| {
        let (a, b) = (parse(field(r, 0))?, parse(field(r, 1))?);
        let got = sign(a.cmp(&b));
        // Antisymmetry too: swapping the operands must flip the answer.
        let rev = sign(b.cmp(&a).reverse());
        if got == field(r, 2) && rev == got {
            Ok(())
        } else {
            Err(format!("got {got}"))
        }
    });
}

fn parse_as<V: FromStr>(s: &str) -> Result<V, String>
where
    V::Err: std::fmt::Display,
{
    s.parse::<V>().map_err(|e| e.to_string())
}

fn rejected<V: FromStr>(name: &str, what: fn(&str) -> bool) {
    run(name, 1, |r| {
        let s = field(r, 0);
        if s.parse::<V>().is_err() || !what(s) {
            Ok(())
        } else {
            Err("accepted".into())
        }
    });
}

#[test]
fn dpkg_pairs() {
    pairs("dpkg-pairs.tsv", 5000, parse_as::<dpkg::Version>);
}

#[test]
fn rpm_pairs() {
    run("rpm-pairs.tsv", 7000, |r| {
        let (a, b) = (field(r, 1), field(r, 2));
        let got = if field(r, 0) == "evr" {
            parse_as::<rpm::Version>(a)?.cmp(&parse_as::<rpm::Version>(b)?)
        } else {
            rpm::rpmvercmp(a, b)
        };
        if sign(got) == field(r, 3) {
            Ok(())
        } else {
            Err(format!("got {}", sign(got)))
        }
    });
}

#[test]
fn semver_pairs() {
    pairs("semver-pairs.tsv", 6000, parse_as::<semver::Version>);
    rejected::<semver::Version>("semver-invalid.tsv", |_| true);
}

#[test]
fn go_pairs() {
    pairs("go-pairs.tsv", 5000, |s| {
        semver::Version::parse_go(s).map_err(|e| e.to_string())
    });
}

#[test]
fn npm_ranges() {
    run("npm-ranges.tsv", 20000, |r| {
        let (v, range, want) = (field(r, 0), field(r, 1), field(r, 2));
        let parsed = range.parse::<semver::NpmRange>();
        let got = match (&parsed, want) {
            (Err(_), _) => "invalid".to_string(),
            (Ok(rg), _) => v
                .parse::<semver::Version>()
                .map(|v| rg.satisfies(&v))
                .unwrap_or(false)
                .to_string(),
        };
        if got == want {
            Ok(())
        } else {
            Err(format!("got {got}"))
        }
    });
}

#[test]
fn pep440_pairs() {
    pairs("pep440-pairs.tsv", 7000, parse_as::<pep440::Version>);
    rejected::<pep440::Version>("pep440-invalid.tsv", |_| true);
}

#[test]
fn pep440_specifiers() {
    run("pep440-specifiers.tsv", 15000, |r| {
        let (v, spec, want) = (field(r, 0), field(r, 1), field(r, 2));
        let got = match spec.parse::<pep440::SpecifierSet>() {
            Err(_) => "invalid".to_string(),
            Ok(_) if want == "invalid" => "valid".to_string(),
            Ok(ss) => ss.contains(&parse_as::<pep440::Version>(v)?).to_string(),
        };
        if got == want {
            Ok(())
        } else {
            Err(format!("got {got}"))
        }
    });
}

#[test]
fn maven_pairs() {
    pairs("maven-pairs.tsv", 7000, parse_as::<maven::Version>);
}

#[test]
fn maven_ranges() {
    run("maven-ranges.tsv", 5000, |r| {
        let (v, range, want) = (field(r, 0), field(r, 1), field(r, 2));
        let got = match range.parse::<maven::Range>() {
            Err(_) => "invalid".to_string(),
            Ok(rg) => rg.contains(&parse_as::<maven::Version>(v)?).to_string(),
        };
        if got == want {
            Ok(())
        } else {
            Err(format!("got {got}"))
        }
    });
}

#[test]
fn gem_pairs() {
    pairs("gem-pairs.tsv", 6000, parse_as::<gem::Version>);
    rejected::<gem::Version>("gem-invalid.tsv", |_| true);
}

#[test]
fn gem_requirements() {
    run("gem-requirements.tsv", 20000, |r| {
        let (v, req, want) = (field(r, 0), field(r, 1), field(r, 2));
        let got = match req.parse::<gem::Requirement>() {
            Err(_) => "invalid".to_string(),
            Ok(rq) => rq.satisfied_by(&parse_as::<gem::Version>(v)?).to_string(),
        };
        if got == want {
            Ok(())
        } else {
            Err(format!("got {got}"))
        }
    });
}

/// No apk reference tool is installable here: real Alpine secdb versions
/// must parse, and sorting them must give a consistent total order.
#[test]
fn apk_real_versions() {
    use bosun_version::apk::Version;
    let rows = rows("apk-versions.tsv");
    assert!(rows.len() > 500);
    let (mut vs, mut bad) = (Vec::new(), Vec::new());
    for r in &rows {
        match parse_as::<Version>(field(r, 0)) {
            Ok(v) => vs.push(v),
            Err(e) => bad.push(e),
        }
    }
    // Typos in the secdb data that apk-tools' grammar rejects too (a `-` not
    // followed by `rN`, an empty `.` component, a digit after a letter).
    let typos = ["2.7.16-33", "4.10-1-r1", "4.8.0.-r1", "6.6.2p1-r0"];
    bad.retain(|e| !typos.iter().any(|t| e.contains(&format!("{t:?}"))));
    assert!(bad.is_empty(), "{bad:#?}");
    vs.sort();
    for (i, a) in vs.iter().enumerate() {
        for b in vs.iter().skip(i + 1).step_by(7) {
            assert_ne!(a.cmp(b), Ordering::Greater, "{a} vs {b}");
            assert_eq!(a.cmp(b), b.cmp(a).reverse(), "{a} vs {b}");
        }
    }
}

/// osv.dev's enumerated `versions` for PyPI records must all fall inside the
/// record's ECOSYSTEM range.
#[test]
fn osv_pypi_listed_versions_are_affected() {
    run("osv-pypi-listed.tsv", 10000, |r| {
        let events: Vec<Event> = field(r, 1)
            .split(';')
            .filter_map(|e| {
                let (k, v) = e.split_once('=')?;
                let v = v.to_string();
                Some(match k {
                    "introduced" => Event::Introduced(v),
                    "fixed" => Event::Fixed(v),
                    "last_affected" => Event::LastAffected(v),
                    _ => Event::Limit(v),
                })
            })
            .collect();
        let range = OsvRange::new(Scheme::Pep440, &events).map_err(|e| e.to_string())?;
        match range.contains_str(field(r, 2)) {
            Ok(true) => Ok(()),
            Ok(false) => Err("not affected".into()),
            Err(e) => Err(e.to_string()),
        }
    });
}

#[test]
fn cargo_requirements() {
    run("cargo-requirements.tsv", 15000, |r| {
        let (v, req, want) = (field(r, 0), field(r, 1), field(r, 2));
        let got = match req.parse::<semver::CargoReq>() {
            Err(_) => "invalid".to_string(),
            Ok(rq) => rq.matches(&parse_as::<semver::Version>(v)?).to_string(),
        };
        if got == want {
            Ok(())
        } else {
            Err(format!("got {got}"))
        }
    });
}

/// `AnyVersion::order_key` never contradicts the reference tools' order:
/// a smaller version never gets a larger key.
#[test]
fn order_keys_are_monotone() {
    for (file, scheme) in [
        ("dpkg-pairs.tsv", Scheme::Dpkg),
        ("semver-pairs.tsv", Scheme::Semver),
        ("go-pairs.tsv", Scheme::Go),
        ("pep440-pairs.tsv", Scheme::Pep440),
    ] {
        // The keys must also tell most unequal pairs apart: a constant key
        // would be monotone too, and useless.
        let told_apart = std::cell::Cell::new((0usize, 0usize));
        run(file, 5000, |r| {
            let parse =
                |s: &str| bosun_version::AnyVersion::parse(scheme, s).map_err(|e| e.to_string());
            let (a, b) = (parse(field(r, 0))?, parse(field(r, 1))?);
            let (ka, kb) = (a.order_key(), b.order_key());
            let ok = match field(r, 2) {
                "-1" => ka <= kb,
                "0" => ka == kb,
                _ => ka >= kb,
            };
            if field(r, 2) != "0" {
                let (apart, unequal) = told_apart.get();
                told_apart.set((apart + usize::from(ka != kb), unequal + 1));
            }
            if ok {
                Ok(())
            } else {
                Err(format!("keys {ka:#x} {kb:#x}"))
            }
        });
        let (apart, unequal) = told_apart.get();
        assert!(
            apart * 2 > unequal,
            "{file}: keys tell {apart} of {unequal} unequal pairs apart"
        );
    }
}
