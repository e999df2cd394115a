//! bosun's vulnerability database.
//!
//! - [`model`]: the normalised advisory all feeds become.
//! - [`feed`]: parsers for OSV (directories and `all.zip`), CISA KEV, EPSS
//!   and the Debian security tracker JSON.
//! - [`build`]: a feed directory -> a new database file, swapped in atomically.
//! - [`store`]: the single SQLite file many processes read at once.

pub mod build;
pub mod feed;
pub mod fetch;
pub mod model;
pub mod store;
pub mod update;

pub use model::{
    Advisory, Affected, AffectedState, Epss, Event, KevEntry, Range, RangeKind, Score, Severity,
};
pub use store::{Db, DbError, Metadata, SourceMeta};
