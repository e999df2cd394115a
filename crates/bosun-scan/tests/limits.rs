//! Limits never turn into silence, and memory is budgeted per layer: a
//! file over its kind's limit, or past the layer's budget of kept content,
//! becomes an incomplete (gating) result naming the file and the limit.
//! Layers are streamed, never built in memory: these are gigabytes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{self, Read};

use bosun_catalog::{Facts, FileIndex, FileRecord, LAYER_CONTENT_BUDGET, catalog};
use bosun_core::UnknownKind;
use bosun_scan::analyze::{LayerAnalysis, analyze_tar};

/// An uncompressed layer tar of `files` (path, size), each file's content
/// `fill` bytes, produced as it is read.
fn streamed_tar(files: &[(String, u64)], fill: u8) -> impl Read {
    let mut r: Box<dyn Read> = Box::new(io::empty());
    for (path, size) in files {
        let mut h = tar::Header::new_gnu();
        h.set_path(path).unwrap();
        h.set_size(*size);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        let pad = (512 - size % 512) % 512;
        r = Box::new(
            r.chain(io::Cursor::new(h.as_bytes().to_vec()))
                .chain(io::repeat(fill).take(*size))
                .chain(io::repeat(0).take(pad)),
        );
    }
    r.chain(io::repeat(0).take(1024))
}

fn index_of(a: &LayerAnalysis) -> FileIndex {
    let mut index = FileIndex::new();
    for (path, facts) in &a.facts {
        index.insert(FileRecord {
            path: path.clone(),
            layer: None,
            facts: facts.clone(),
        });
    }
    index
}

const MIB: u64 = 1 << 20;

/// The layer: forty 60 MiB METADATA files (2.5 MB gzipped) took
/// 4.9 GB of memory. Each is far over what a real METADATA weighs, so none
/// is kept, and each is reported as not analysed.
#[test]
fn forty_huge_metadata_files_are_incomplete_not_kept() {
    let files: Vec<(String, u64)> = (0..40)
        .map(|i| {
            (
                format!("usr/lib/python3/site-packages/p{i}-1.0.dist-info/METADATA"),
                60 * MIB,
            )
        })
        .collect();
    let a = analyze_tar(streamed_tar(&files, b'\n'), "test layer").unwrap();
    assert_eq!(a.facts.len(), 40);
    for (path, f) in &a.facts {
        match f {
            Facts::Incomplete(m) => assert!(
                m.contains("60 MiB is over the 4 MiB limit for Python core metadata"),
                "{path}: {m}"
            ),
            other => panic!("{path}: {other:?}"),
        }
    }
    let cat = catalog(&index_of(&a));
    let incomplete = cat
        .unknowns
        .iter()
        .filter(|u| u.kind == UnknownKind::Incomplete)
        .count();
    assert_eq!(incomplete, 40, "{:?}", cat.unknowns);
}

/// A dpkg status over its limit must not drop every OS package without a
/// word: it is an incomplete result that names it.
#[test]
fn an_oversized_dpkg_status_is_incomplete() {
    let files = vec![("var/lib/dpkg/status".to_string(), 80 * MIB)];
    let a = analyze_tar(streamed_tar(&files, b'\n'), "test layer").unwrap();
    let cat = catalog(&index_of(&a));
    let u = cat
        .unknowns
        .iter()
        .find(|u| u.path == "/var/lib/dpkg/status")
        .expect("an unknown for the status file");
    assert_eq!(u.kind, UnknownKind::Incomplete);
    assert!(
        u.message
            .contains("80 MiB is over the 64 MiB limit for dpkg status"),
        "{}",
        u.message
    );
}

/// Many files each under its own limit still cannot fill memory: content
/// kept per layer stops at the budget, and what is past it is reported.
#[test]
fn a_layer_keeps_no_more_than_its_budget() {
    let each = 4 * MIB;
    let n = LAYER_CONTENT_BUDGET / each + 3;
    let files: Vec<(String, u64)> = (0..n)
        .map(|i| {
            (
                format!("usr/lib/python3/site-packages/p{i}-1.0.dist-info/METADATA"),
                each,
            )
        })
        .collect();
    let a = analyze_tar(streamed_tar(&files, b'\n'), "test layer").unwrap();
    let kept: u64 = a
        .facts
        .iter()
        .map(|(_, f)| match f {
            Facts::Content(b) => b.len() as u64,
            _ => 0,
        })
        .sum();
    assert!(kept <= LAYER_CONTENT_BUDGET, "{kept}");
    let over: Vec<&String> = a
        .facts
        .iter()
        .filter_map(|(_, f)| match f {
            Facts::Incomplete(m) => Some(m),
            _ => None,
        })
        .collect();
    assert_eq!(over.len(), 3, "{over:?}");
    assert!(over[0].contains("budget of package content kept per layer"));
}
