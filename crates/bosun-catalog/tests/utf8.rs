//! One byte that is not UTF-8 (a Latin-1 `é`, 0xE9) in a package file's
//! free text must not hide the package: each ecosystem's runtime still
//! loads it (Node decodes with U+FFFD: `node -e 'require("./package.json")'`
//! on such a file prints the package), so the scan keeps it and records a
//! visible `lossy` unknown saying where the byte was.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bosun_catalog::{Facts, FileIndex, FileRecord, Scope, catalog};
use bosun_core::UnknownKind;

fn index_of(scope: Scope, files: &[(&str, &[u8])]) -> FileIndex {
    let mut index = FileIndex::with_scope(scope);
    for (path, bytes) in files {
        index.insert(FileRecord {
            path: (*path).into(),
            layer: None,
            facts: Facts::Content(bytes.to_vec()),
        });
    }
    index
}

/// The package `name` `version` is found, and a lossy unknown names `path`
/// and the offset of the first bad byte in it.
fn assert_kept(scope: Scope, files: &[(&str, &[u8])], name: &str, version: &str) {
    let cat = catalog(&index_of(scope, files));
    assert!(
        cat.packages
            .iter()
            .any(|p| p.name == name && p.version == version),
        "{name} {version} missing: {:?} / {:?}",
        cat.packages
            .iter()
            .map(|p| (&p.name, &p.version))
            .collect::<Vec<_>>(),
        cat.unknowns
    );
    let (path, bytes) = files
        .iter()
        .find(|(_, b)| std::str::from_utf8(b).is_err())
        .expect("a file with a bad byte");
    // Where the first invalid byte is, found independently of the decoder.
    let at = bytes.iter().position(|&b| b == 0xE9).unwrap();
    let want = format!("invalid UTF-8 at byte {at},");
    assert!(
        cat.unknowns
            .iter()
            .any(|u| u.path == *path && u.kind == UnknownKind::Lossy && u.message.contains(&want)),
        "no lossy unknown for {path} with {want:?}: {:?}",
        cat.unknowns
    );
    assert!(
        !cat.unknowns
            .iter()
            .any(|u| u.path == *path && u.kind == UnknownKind::Unparsed),
        "{:?}",
        cat.unknowns
    );
}

#[test]
fn npm_installed_package_json() {
    assert_kept(
        Scope::Image,
        &[(
            "/app/node_modules/lodash/package.json",
            b"{\"name\":\"lodash\",\"version\":\"4.17.20\",\"description\":\"Lodash caf\xe9\"}",
        )],
        "lodash",
        "4.17.20",
    );
}

/// Node's `require` strips a UTF-8 byte-order mark; so does the scan.
#[test]
fn npm_package_json_with_a_byte_order_mark() {
    let cat = catalog(&index_of(
        Scope::Image,
        &[(
            "/app/node_modules/lodash/package.json",
            b"\xEF\xBB\xBF{\"name\":\"lodash\",\"version\":\"4.17.20\"}",
        )],
    ));
    assert_eq!(cat.packages.len(), 1, "{:?}", cat.unknowns);
    assert!(cat.unknowns.is_empty(), "{:?}", cat.unknowns);
}

#[test]
fn npm_package_lock() {
    assert_kept(
        Scope::Directory,
        &[(
            "/src/package-lock.json",
            b"{\"name\":\"app\",\"version\":\"1.0.0\",\"lockfileVersion\":3,\"packages\":{\"\":{\"name\":\"app\",\"version\":\"1.0.0\",\"description\":\"caf\xe9\"},\"node_modules/lodash\":{\"version\":\"4.17.20\",\"license\":\"MIT\"}}}",
        )],
        "lodash",
        "4.17.20",
    );
}

#[test]
fn yarn_lock() {
    assert_kept(
        Scope::Directory,
        &[(
            "/src/yarn.lock",
            b"# caf\xe9\n\nlodash@^4.17.20:\n  version \"4.17.20\"\n  resolved \"https://registry.yarnpkg.com/lodash/-/lodash-4.17.20.tgz\"\n",
        )],
        "lodash",
        "4.17.20",
    );
}

#[test]
fn pnpm_lock() {
    assert_kept(
        Scope::Directory,
        &[(
            "/src/pnpm-lock.yaml",
            b"lockfileVersion: '9.0'\n# caf\xe9\npackages:\n  lodash@4.17.20:\n    resolution: {integrity: sha512-x}\n",
        )],
        "lodash",
        "4.17.20",
    );
}

#[test]
fn python_metadata() {
    assert_kept(
        Scope::Image,
        &[(
            "/usr/lib/python3/site-packages/requests-2.25.0.dist-info/METADATA",
            b"Metadata-Version: 2.1\nName: requests\nVersion: 2.25.0\nAuthor: Kenneth Reitz caf\xe9\n\nbody\n",
        )],
        "requests",
        "2.25.0",
    );
}

#[test]
fn python_pkg_info() {
    assert_kept(
        Scope::Image,
        &[(
            "/usr/lib/python3/dist-packages/six-1.15.0.egg-info/PKG-INFO",
            b"Metadata-Version: 1.1\nName: six\nVersion: 1.15.0\nSummary: caf\xe9\n",
        )],
        "six",
        "1.15.0",
    );
}

#[test]
fn gemspec() {
    assert_kept(
        Scope::Image,
        &[(
            "/usr/local/bundle/specifications/rack-2.2.3.gemspec",
            b"# -*- encoding: utf-8 -*-\nGem::Specification.new do |s|\n  s.name = \"rack\".freeze\n  s.version = \"2.2.3\"\n  s.authors = [\"Leah Neukirchen caf\xe9\".freeze]\n  s.licenses = [\"MIT\".freeze]\nend\n",
        )],
        "rack",
        "2.2.3",
    );
}

#[test]
fn gemfile_lock() {
    assert_kept(
        Scope::Directory,
        &[(
            "/src/Gemfile.lock",
            b"GEM\n  remote: https://rubygems.org/\n  specs:\n    rack (2.2.3)\n\nPLATFORMS\n  ruby\n\n# caf\xe9\n",
        )],
        "rack",
        "2.2.3",
    );
}

#[test]
fn composer_installed_json() {
    assert_kept(
        Scope::Image,
        &[(
            "/app/vendor/composer/installed.json",
            b"{\"packages\":[{\"name\":\"monolog/monolog\",\"version\":\"2.1.0\",\"description\":\"caf\xe9\"}],\"dev\":false,\"dev-package-names\":[]}",
        )],
        "monolog/monolog",
        "2.1.0",
    );
}

#[test]
fn composer_lock() {
    assert_kept(
        Scope::Directory,
        &[(
            "/src/composer.lock",
            b"{\"packages\":[{\"name\":\"monolog/monolog\",\"version\":\"2.1.0\",\"description\":\"caf\xe9\"}],\"packages-dev\":[]}",
        )],
        "monolog/monolog",
        "2.1.0",
    );
}

#[test]
fn dotnet_deps_json() {
    assert_kept(
        Scope::Image,
        &[(
            "/app/app.deps.json",
            b"{\"runtimeTarget\":{\"name\":\".NETCoreApp,Version=v6.0\"},\"targets\":{},\"libraries\":{\"Newtonsoft.Json/12.0.3\":{\"type\":\"package\",\"serviceable\":true,\"sha512\":\"sha512-x\",\"path\":\"newtonsoft.json/12.0.3\",\"x\":\"caf\xe9\"}}}",
        )],
        "Newtonsoft.Json",
        "12.0.3",
    );
}

#[test]
fn cargo_lock() {
    assert_kept(
        Scope::Directory,
        &[(
            "/src/Cargo.lock",
            b"# caf\xe9\nversion = 3\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.100\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
        )],
        "serde",
        "1.0.100",
    );
}

#[test]
fn apk_installed() {
    assert_kept(
        Scope::Image,
        &[(
            "/lib/apk/db/installed",
            b"C:Q1x=\nP:musl\nV:1.2.4-r2\nA:x86_64\nT:the musl c library caf\xe9\no:musl\nL:MIT\n\n",
        )],
        "musl",
        "1.2.4-r2",
    );
}

#[test]
fn dpkg_status() {
    assert_kept(
        Scope::Image,
        &[(
            "/var/lib/dpkg/status",
            b"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.31-13\nMaintainer: GNU Libc Maintainers caf\xe9 <debian-glibc@lists.debian.org>\nDescription: GNU C Library\n\n",
        )],
        "libc6",
        "2.31-13",
    );
}
