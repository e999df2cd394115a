//! bosun's vulnerability database.
//!
//! - [`model`]: the normalised advisory all feeds become.
//! - [`feed`]: parsers for OSV (directories and `all.zip`), CISA KEV, EPSS
//!   and the Debian security tracker JSON.
//! - [`store`]: the single SQLite file many processes read at once.
//! - [`update`]: sources, conditional downloads and the atomic swap.

pub mod feed;
pub mod model;

pub use model::{Advisory, Affected, AffectedState, Epss, Event, KevEntry, Range, RangeKind, Score, Severity};
