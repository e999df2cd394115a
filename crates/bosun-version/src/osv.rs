//! OSV `affected[].ranges[]` evaluation (SEMVER / ECOSYSTEM ranges), per the
//! OSV schema's evaluation pseudocode, for any version scheme.

use std::cmp::Ordering;

use crate::{AnyVersion, Scheme, VersionError};

/// Bound on events per range.
const MAX_EVENTS: usize = 1024;

/// One event as written in the OSV record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

#[derive(Debug, Clone)]
enum Bound {
    /// `introduced: "0"`: before every version.
    Zero,
    /// `limit` containing `*`: after every version.
    Infinity,
    At(AnyVersion),
}

/// The kind of an event, for [`Range::from_parts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Introduced,
    Fixed,
    LastAffected,
    Limit,
}

impl Event {
    pub fn parts(&self) -> (Kind, &str) {
        match self {
            Event::Introduced(s) => (Kind::Introduced, s),
            Event::Fixed(s) => (Kind::Fixed, s),
            Event::LastAffected(s) => (Kind::LastAffected, s),
            Event::Limit(s) => (Kind::Limit, s),
        }
    }
}

/// A parsed OSV range: events sorted by version, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Range {
    scheme: Scheme,
    events: Vec<(Kind, Bound)>,
}

fn cmp_bound(a: &Bound, b: &Bound) -> Ordering {
    match (a, b) {
        (Bound::Zero, Bound::Zero) | (Bound::Infinity, Bound::Infinity) => Ordering::Equal,
        (Bound::Zero, _) | (_, Bound::Infinity) => Ordering::Less,
        (_, Bound::Zero) | (Bound::Infinity, _) => Ordering::Greater,
        (Bound::At(x), Bound::At(y)) => x.partial_cmp_same(y).unwrap_or(Ordering::Equal),
    }
}

/// `v` against a bound.
fn cmp_v(v: &AnyVersion, b: &Bound) -> Ordering {
    match b {
        Bound::Zero => Ordering::Greater,
        Bound::Infinity => Ordering::Less,
        Bound::At(x) => v.partial_cmp_same(x).unwrap_or(Ordering::Equal),
    }
}

impl Range {
    /// Parse every event's version under `scheme`. The schema requires at
    /// least one `introduced`; a bad version anywhere is an error.
    pub fn new(scheme: Scheme, events: &[Event]) -> Result<Range, VersionError> {
        Range::from_parts(scheme, events.iter().map(Event::parts))
    }

    /// [`Range::new`] from borrowed events, so a caller holding its own
    /// event type need not copy the strings.
    pub fn from_parts<'a>(
        scheme: Scheme,
        events: impl IntoIterator<Item = (Kind, &'a str)>,
    ) -> Result<Range, VersionError> {
        let mut parsed = Vec::new();
        for (kind, s) in events {
            if parsed.len() == MAX_EVENTS {
                return Err(VersionError::InvalidOsvRange {
                    reason: "too many events",
                });
            }
            let bound = if kind == Kind::Introduced && s == "0" {
                Bound::Zero
            } else if kind == Kind::Limit && s.contains('*') {
                Bound::Infinity
            } else {
                Bound::At(AnyVersion::parse(scheme, s)?)
            };
            parsed.push((kind, bound));
        }
        if !parsed.iter().any(|(k, _)| *k == Kind::Introduced) {
            return Err(VersionError::InvalidOsvRange {
                reason: "no introduced event",
            });
        }
        // Stable sort: events at the same version keep their record order.
        parsed.sort_by(|a, b| cmp_bound(&a.1, &b.1));
        Ok(Range {
            scheme,
            events: parsed,
        })
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Whether `version` is affected by this range.
    pub fn contains_str(&self, version: &str) -> Result<bool, VersionError> {
        Ok(self.contains(&AnyVersion::parse(self.scheme, version)?))
    }

    /// The schema's `IncludedInRanges` for one range: under some limit
    /// (an implicit `*` when none), then the last applicable event decides.
    pub fn contains(&self, v: &AnyVersion) -> bool {
        self.contains_point(Point::At(v))
    }

    /// The versions this range's events name (not `0` or `*`).
    pub fn boundaries(&self) -> impl Iterator<Item = &AnyVersion> {
        self.events.iter().filter_map(|(_, b)| match b {
            Bound::At(v) => Some(v),
            _ => None,
        })
    }

    /// The `fixed` versions, ascending.
    pub fn fixed(&self) -> impl Iterator<Item = &AnyVersion> {
        self.events.iter().filter_map(|(k, b)| match (k, b) {
            (Kind::Fixed, Bound::At(v)) => Some(v),
            _ => None,
        })
    }

    /// [`Range::contains`] for a [`Point`]: the answer is the same for every
    /// version in an open interval between two event versions, which is
    /// what lets a matcher precompute the affected set per interval.
    pub fn contains_point(&self, p: Point<'_>) -> bool {
        let mut limits = self
            .events
            .iter()
            .filter(|(k, _)| *k == Kind::Limit)
            .peekable();
        if limits.peek().is_some() && !limits.any(|(_, b)| cmp_point(p, b) == Ordering::Less) {
            return false;
        }
        let mut vulnerable = false;
        for (kind, b) in &self.events {
            let o = cmp_point(p, b);
            match kind {
                Kind::Introduced if o != Ordering::Less => vulnerable = true,
                Kind::Fixed if o != Ordering::Less => vulnerable = false,
                Kind::LastAffected if o == Ordering::Greater => vulnerable = false,
                _ => {}
            }
        }
        vulnerable
    }
}

/// A place on a scheme's version line, for evaluating a range over whole
/// intervals at once.
#[derive(Debug, Clone, Copy)]
pub enum Point<'a> {
    /// Below every version an event names (but above `introduced: 0`).
    Below,
    /// Exactly this version.
    At(&'a AnyVersion),
    /// Strictly above this version and below the next one any event of
    /// interest names: every such version evaluates alike.
    JustAbove(&'a AnyVersion),
}

fn cmp_point(p: Point<'_>, b: &Bound) -> Ordering {
    match (p, b) {
        (_, Bound::Zero) => Ordering::Greater,
        (_, Bound::Infinity) | (Point::Below, Bound::At(_)) => Ordering::Less,
        (Point::At(v), b) => cmp_v(v, b),
        (Point::JustAbove(v), Bound::At(x)) => {
            match v.partial_cmp_same(x).unwrap_or(Ordering::Equal) {
                Ordering::Equal => Ordering::Greater,
                o => o,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Event::*;

    fn hit(r: &Range, v: &str) -> bool {
        r.contains_str(v).unwrap_or_else(|e| panic!("{v}: {e}"))
    }

    fn range(scheme: Scheme, ev: &[Event]) -> Range {
        Range::new(scheme, ev).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn introduced_fixed() {
        let r = range(
            Scheme::Semver,
            &[Introduced("0".into()), Fixed("1.0.2".into())],
        );
        assert!(hit(&r, "0.0.1"));
        assert!(hit(&r, "1.0.2-rc.1"));
        assert!(!hit(&r, "1.0.2"));
    }

    #[test]
    fn multiple_ranges_unsorted_input() {
        let r = range(
            Scheme::Semver,
            &[
                Introduced("3.0.0".into()),
                Fixed("3.2.5".into()),
                Introduced("1.0.0".into()),
                Fixed("1.0.2".into()),
            ],
        );
        for (v, want) in [
            ("0.9.0", false),
            ("1.0.1", true),
            ("2.0.0", false),
            ("3.1.0", true),
            ("3.2.5", false),
        ] {
            assert_eq!(hit(&r, v), want, "{v}");
        }
    }

    #[test]
    fn last_affected_and_limit() {
        let r = range(
            Scheme::Dpkg,
            &[Introduced("0".into()), LastAffected("2.1.214".into())],
        );
        assert!(hit(&r, "2.1.214") && !hit(&r, "2.1.215"));
        let l = range(
            Scheme::Pep440,
            &[Introduced("1.0".into()), Limit("2.0".into())],
        );
        assert!(hit(&l, "1.5") && !hit(&l, "2.0"));
        let inf = range(
            Scheme::Pep440,
            &[Introduced("1.0".into()), Limit("*".into())],
        );
        assert!(hit(&inf, "99"));
    }

    #[test]
    fn errors() {
        assert!(Range::new(Scheme::Semver, &[Fixed("1.0.0".into())]).is_err());
        assert!(Range::new(Scheme::Semver, &[Introduced("x".into())]).is_err());
        let many = vec![Introduced("0".into()); MAX_EVENTS + 1];
        assert!(Range::new(Scheme::Semver, &many).is_err());
    }

    /// Every version evaluates like the [`Point`] of the interval it falls
    /// in: what the matcher's per-interval index relies on.
    #[test]
    fn points_agree_with_versions_in_their_interval() {
        let ranges = [
            vec![
                Introduced("1.0.0".into()),
                Fixed("1.2.0".into()),
                Introduced("2.0.0".into()),
                LastAffected("2.5.0".into()),
            ],
            vec![Introduced("0".into()), Fixed("1.1.0".into())],
            vec![Introduced("1.0.0".into()), Limit("2.2.0".into())],
            vec![
                Introduced("0".into()),
                LastAffected("2.0.0".into()),
                Limit("*".into()),
            ],
        ];
        let grid: Vec<String> = (0..40)
            .map(|i| format!("{}.{}.0", i / 10, i % 10))
            .collect();
        for events in &ranges {
            let r = range(Scheme::Semver, events);
            let mut bounds: Vec<AnyVersion> = r.boundaries().cloned().collect();
            bounds.sort_by(|a, b| a.partial_cmp_same(b).unwrap_or(Ordering::Equal));
            for v in &grid {
                let pv = AnyVersion::parse(Scheme::Semver, v).unwrap_or_else(|e| panic!("{e}"));
                let below =
                    bounds.partition_point(|b| b.partial_cmp_same(&pv) == Some(Ordering::Less));
                let point = if bounds
                    .get(below)
                    .is_some_and(|b| b.partial_cmp_same(&pv) == Some(Ordering::Equal))
                {
                    Point::At(&bounds[below])
                } else if below == 0 {
                    Point::Below
                } else {
                    Point::JustAbove(&bounds[below - 1])
                };
                assert_eq!(
                    r.contains(&pv),
                    r.contains_point(point),
                    "{events:?} at {v}"
                );
            }
        }
    }
}
