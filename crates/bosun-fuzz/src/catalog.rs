//! One file in an otherwise empty filesystem, analysed as a layer walk would
//! (`analyze_file`) and cataloged by every cataloger: the first byte picks
//! the path, and so the parser.

use bosun_catalog::{FileIndex, FileRecord, Interest, Scope};

use crate::pick;

/// Where the file is put, the scope of the index (lock files are only read
/// in directories), and how the walker would analyse it.
pub const CATALOG_PATHS: &[(&str, Scope, Interest)] = &[
    ("/var/lib/dpkg/status", Scope::Image, Interest::Content),
    (
        "/var/lib/dpkg/status.d/pkg",
        Scope::Image,
        Interest::Content,
    ),
    (
        "/var/lib/dpkg/info/pkg.list",
        Scope::Image,
        Interest::Content,
    ),
    ("/etc/os-release", Scope::Image, Interest::Content),
    ("/lib/apk/db/installed", Scope::Image, Interest::Content),
    ("/var/lib/rpm/rpmdb.sqlite", Scope::Image, Interest::Content),
    ("/var/lib/rpm/Packages", Scope::Image, Interest::Content),
    ("/var/lib/rpm/Packages.db", Scope::Image, Interest::Content),
    (
        "/var/lib/rpmmanifest/container-manifest-2",
        Scope::Image,
        Interest::Content,
    ),
    (
        "/usr/lib/python3/site-packages/pkg-1.0.dist-info/METADATA",
        Scope::Image,
        Interest::Content,
    ),
    (
        "/usr/lib/python3/dist-packages/pkg.egg-info/PKG-INFO",
        Scope::Image,
        Interest::Content,
    ),
    (
        "/usr/lib/python3/site-packages/pkg-1.0.dist-info/RECORD",
        Scope::Image,
        Interest::Content,
    ),
    (
        "/app/node_modules/pkg/package.json",
        Scope::Image,
        Interest::Content,
    ),
    (
        "/src/package-lock.json",
        Scope::Directory,
        Interest::Content,
    ),
    ("/src/yarn.lock", Scope::Directory, Interest::Content),
    ("/src/pnpm-lock.yaml", Scope::Directory, Interest::Content),
    ("/src/Cargo.lock", Scope::Directory, Interest::Content),
    ("/src/composer.lock", Scope::Directory, Interest::Content),
    (
        "/app/vendor/composer/installed.json",
        Scope::Image,
        Interest::Content,
    ),
    ("/src/Gemfile.lock", Scope::Directory, Interest::Content),
    (
        "/usr/lib/ruby/gems/3.1.0/specifications/pkg-1.0.gemspec",
        Scope::Image,
        Interest::Content,
    ),
    ("/app/app.deps.json", Scope::Image, Interest::Content),
    ("/usr/bin/app", Scope::Image, Interest::Executable),
    ("/app/app.jar", Scope::Image, Interest::JavaArchive),
];

pub fn catalog(data: &[u8]) {
    let (i, bytes) = pick(data, CATALOG_PATHS.len());
    let Some(&(path, scope, interest)) = CATALOG_PATHS.get(i) else {
        return;
    };
    let mut r = bytes;
    let Some(facts) = bosun_scan::analyze::analyze_file(path, interest, bytes.len() as u64, &mut r)
    else {
        return;
    };
    let mut index = FileIndex::with_scope(scope);
    index.insert(FileRecord {
        path: path.to_string(),
        layer: None,
        facts,
    });
    let _ = bosun_catalog::catalog(&index);
}
