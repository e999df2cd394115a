//! Vulnerability matching and what is made of its results.
//!
//! - [`finding`]: the finding and report model every format renders.
//! - [`matcher`]: packages of an SBOM against the database.
//! - [`ignore`]: `.bosunignore.yaml`; [`vex`]: OpenVEX statements.
//! - [`report`]: table, JSON, SARIF 2.1.0 and CycloneDX 1.6 renderings.

pub mod finding;
pub mod ignore;
pub mod matcher;
pub mod report;
pub mod vex;

pub use finding::{
    DbInfo, Finding, Issue, IssueKind, MatchDetail, MatchKind, Notice, PackageRef, Report, Status,
    Suppression,
};
