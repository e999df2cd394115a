//! RubyGems: installed gems (`specifications/*.gemspec` under any gem home)
//! and, for directories only, `Gemfile.lock` / `gems.locked`.
//!
//! An installed gemspec is Ruby code that RubyGems generated from the gem's
//! metadata (`Gem::Specification#to_ruby`): one `s.field = literal` line per
//! field. It is never evaluated here; only lines whose value is a plain
//! string literal (or an array of them) are read, so a hand-written gemspec
//! that computes its version is reported as unknown rather than guessed.

use bosun_core::package::GemMetadata;
use bosun_core::{Package, PackageKind, PackageMetadata};

use crate::text::Tool;
use crate::{FileIndex, Output, Scope};

pub const CATALOGER_ID: &str = "ruby-cataloger";

/// More locked gems than any real application has.
const MAX_PACKAGES: usize = 100_000;
/// Bound on the licenses of one gem.
const MAX_LICENSES: usize = 64;
/// License strings longer than this are not license names.
const MAX_LICENSE_LEN: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Gemspec,
    Lock,
}

fn file_kind(path: &str) -> Option<FileKind> {
    let (dir, name) = path.rsplit_once('/')?;
    if name.ends_with(".gemspec") {
        // `specifications/default/` holds the gems bundled with Ruby itself;
        // `gem list` reports them too (as "default: x.y").
        let in_home = dir.ends_with("/specifications") || dir.ends_with("/specifications/default");
        return in_home.then_some(FileKind::Gemspec);
    }
    matches!(name, "Gemfile.lock" | "gems.locked").then_some(FileKind::Lock)
}

/// Whether this cataloger needs the bytes of the file at `path`.
pub fn wants(path: &str) -> bool {
    file_kind(path).is_some()
}

pub fn catalog(index: &FileIndex, out: &mut Output) {
    for rec in index.files() {
        let Some(bytes) = rec.content() else {
            continue;
        };
        let pkg =
            |name: String, version: String, licenses: Vec<String>, meta: GemMetadata| Package {
                id: String::new(),
                name,
                version,
                kind: PackageKind::Gem,
                purl: String::new(),
                licenses,
                locations: vec![rec.location()],
                found_by: CATALOGER_ID.to_string(),
                metadata: PackageMetadata::Gem(meta),
            };
        match file_kind(&rec.path) {
            Some(FileKind::Gemspec) => {
                match gemspec(&out.text(CATALOGER_ID, rec, bytes, Tool::Ruby)) {
                    Ok(g) => {
                        let meta = GemMetadata {
                            platforms: g.platform.into_iter().collect(),
                            source: None,
                        };
                        out.packages.push(pkg(g.name, g.version, g.licenses, meta));
                    }
                    Err(e) => out.unknown(CATALOGER_ID, rec, format!("gemspec: {e}")),
                }
            }
            // A lock file describes a source tree, not what an image runs (see `Scope`).
            Some(FileKind::Lock) if index.scope() == Scope::Directory => {
                match gemfile_lock(&out.text(CATALOGER_ID, rec, bytes, Tool::Ruby)) {
                    Ok(locked) => {
                        for l in locked {
                            let meta = GemMetadata {
                                platforms: l.platforms,
                                source: l.source,
                            };
                            out.packages.push(pkg(l.name, l.version, Vec::new(), meta));
                        }
                    }
                    Err(e) => out.unknown(CATALOGER_ID, rec, format!("Gemfile.lock: {e}")),
                }
            }
            _ => {}
        }
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Gemspec {
    name: String,
    version: String,
    platform: Option<String>,
    licenses: Vec<String>,
}

/// A right-hand side we understand: a string literal or an array of them.
#[derive(Debug, PartialEq, Eq)]
enum Value {
    Str(String),
    List(Vec<String>),
}

#[cfg(test)]
fn parse_gemspec(bytes: &[u8]) -> Result<Gemspec, String> {
    gemspec(&crate::text::decode(bytes).text)
}

fn gemspec(text: &str) -> Result<Gemspec, String> {
    let var = text
        .lines()
        .find_map(block_variable)
        .ok_or("no `Gem::Specification.new do |s|` block")?;
    let mut spec = Gemspec::default();
    let (mut name, mut version, mut platform) = (None, None, None);
    let mut licenses: Option<Vec<String>> = None;
    let mut stub: Option<&str> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(s) = line.strip_prefix("# stub: ") {
            stub.get_or_insert(s);
            continue;
        }
        let Some((field, value)) = assignment(line, var) else {
            continue;
        };
        match (field, value) {
            ("name", Value::Str(s)) => {
                name.get_or_insert(s);
            }
            ("version", Value::Str(s)) => {
                version.get_or_insert(s);
            }
            ("platform", Value::Str(s)) => {
                platform.get_or_insert(s);
            }
            ("license", Value::Str(s)) => {
                licenses.get_or_insert_with(|| vec![s]);
            }
            ("licenses", Value::List(l)) => {
                licenses.get_or_insert(l);
            }
            ("licenses", Value::Str(s)) => {
                licenses.get_or_insert_with(|| vec![s]);
            }
            _ => {}
        }
    }
    // The stub line RubyGems writes first: `# stub: name version platform paths`.
    let mut stub = stub.unwrap_or_default().split(' ');
    let (stub_name, stub_version, stub_platform) = (stub.next(), stub.next(), stub.next());
    spec.name = name
        .or(stub_name.map(str::to_string))
        .filter(|n| valid_word(n))
        .ok_or("no literal name")?;
    spec.version = version
        .or(stub_version.map(str::to_string))
        .filter(|v| valid_word(v))
        .ok_or_else(|| format!("{}: no literal version", spec.name))?;
    spec.platform = platform
        .or(stub_platform.map(str::to_string))
        .filter(|p| p != "ruby" && valid_word(p));
    spec.licenses = licenses
        .unwrap_or_default()
        .iter()
        .filter_map(|l| license(l))
        .take(MAX_LICENSES)
        .collect();
    Ok(spec)
}

/// Names, versions and platforms are single words of printable ASCII.
fn valid_word(s: &str) -> bool {
    !s.is_empty() && s.len() <= 256 && s.bytes().all(|b| b.is_ascii_graphic())
}

/// `s` from `Gem::Specification.new do |s|` (or `{ |spec|`).
fn block_variable(line: &str) -> Option<&str> {
    let rest = &line[line.find("Gem::Specification.new")?..];
    let (_, rest) = rest.split_once('|')?;
    let (var, _) = rest.split_once('|')?;
    let var = var.trim();
    let ident = !var.is_empty() && var.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    ident.then_some(var)
}

/// `var.field = value` with nothing but `.freeze` or a comment after the value.
fn assignment<'a>(line: &'a str, var: &str) -> Option<(&'a str, Value)> {
    let rest = line.strip_prefix(var)?.strip_prefix('.')?;
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let (field, rest) = rest.split_at(end);
    let rest = rest.trim_start().strip_prefix('=')?;
    // `==` is a comparison, not an assignment.
    if rest.starts_with('=') {
        return None;
    }
    let (value, rest) = value(rest.trim_start())?;
    let rest = rest.trim_start();
    (rest.is_empty() || rest.starts_with('#')).then_some((field, value))
}

fn value(s: &str) -> Option<(Value, &str)> {
    let Some(mut rest) = s.strip_prefix('[') else {
        let (v, rest) = string(s)?;
        return Some((Value::Str(v), rest));
    };
    let mut items = Vec::new();
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix(']') {
            return Some((Value::List(items), freeze(r)));
        }
        if !items.is_empty() {
            rest = rest.strip_prefix(',')?.trim_start();
            // Ruby allows a trailing comma.
            if let Some(r) = rest.strip_prefix(']') {
                return Some((Value::List(items), freeze(r)));
            }
        }
        let (v, r) = string(rest)?;
        if items.len() < MAX_LICENSES {
            items.push(v);
        }
        rest = r;
    }
}

fn freeze(s: &str) -> &str {
    s.strip_prefix(".freeze").unwrap_or(s)
}

/// One Ruby string literal without interpolation: `"..."`, `'...'` or
/// `%q{...}` (older RubyGems), optionally followed by `.freeze`.
fn string(s: &str) -> Option<(String, &str)> {
    let (quote, close, escapes_all, body) = if let Some(b) = s.strip_prefix('"') {
        ('"', '"', true, b)
    } else if let Some(b) = s.strip_prefix('\'') {
        ('\'', '\'', false, b)
    } else if let Some(b) = s.strip_prefix("%q") {
        let mut c = b.chars();
        let open = c.next()?;
        let close = match open {
            '{' => '}',
            '(' => ')',
            '[' => ']',
            '<' => '>',
            _ => return None,
        };
        (open, close, false, c.as_str())
    } else {
        return None;
    };
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                let (_, e) = chars.next()?;
                match e {
                    'n' if escapes_all => out.push('\n'),
                    't' if escapes_all => out.push('\t'),
                    // `\"`, `\\`, `\#` and friends stand for the character;
                    // in single quotes only `\\` and `\'` are escapes.
                    _ if escapes_all || e == '\\' || e == quote || e == close => out.push(e),
                    _ => {
                        out.push('\\');
                        out.push(e);
                    }
                }
            }
            '#' if escapes_all && body[i + 1..].starts_with('{') => return None,
            _ if c == close => return Some((out, freeze(&body[i + 1..]))),
            _ => out.push(c),
        }
    }
    None
}

/// A declared license: the canonical SPDX spelling when it names an SPDX
/// license in another case (gemspecs often say `ruby` or `mit`), else as
/// written. Empty and absurdly long strings are dropped.
pub(crate) fn license(l: &str) -> Option<String> {
    let l = l.trim();
    if l.is_empty() || l.len() > MAX_LICENSE_LEN {
        return None;
    }
    if spdx::license_id(l).is_some() {
        return Some(l.to_string());
    }
    let canonical = spdx::identifiers::LICENSES
        .iter()
        .find(|lic| lic.name.eq_ignore_ascii_case(l))
        .map(|lic| lic.name.to_string());
    Some(canonical.unwrap_or_else(|| l.to_string()))
}

#[derive(Debug, PartialEq, Eq)]
struct Locked {
    name: String,
    version: String,
    platforms: Vec<String>,
    source: Option<String>,
}

/// The `specs:` of every GEM, GIT and PATH section. A spec line is indented
/// by exactly four spaces (dependencies by six) and reads
/// `name (version)` or `name (version-platform)`; Bundler splits the
/// platform off at the first `-`, so does this. A gem locked for several
/// platforms becomes one package listing them.
#[cfg(test)]
fn parse_gemfile_lock(bytes: &[u8]) -> Result<Vec<Locked>, String> {
    gemfile_lock(&crate::text::decode(bytes).text)
}

fn gemfile_lock(text: &str) -> Result<Vec<Locked>, String> {
    let mut out: Vec<Locked> = Vec::new();
    let mut seen: std::collections::HashMap<(String, String, Option<String>), usize> =
        std::collections::HashMap::new();
    let mut section = "";
    let (mut remote, mut revision): (Option<&str>, Option<&str>) = (None, None);
    let mut in_specs = false;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if !line.starts_with(' ') {
            section = line.trim_end();
            (remote, revision, in_specs) = (None, None, false);
            continue;
        }
        if !matches!(section, "GEM" | "GIT" | "PATH") {
            continue;
        }
        if let Some(attr) = line.strip_prefix("  ").filter(|l| !l.starts_with(' ')) {
            in_specs = attr == "specs:";
            if let Some(r) = attr.strip_prefix("remote: ") {
                remote.get_or_insert(r.trim());
            } else if let Some(r) = attr.strip_prefix("revision: ") {
                revision = Some(r.trim());
            }
            continue;
        }
        let Some(spec) = line.strip_prefix("    ").filter(|l| !l.starts_with(' ')) else {
            continue;
        };
        if !in_specs {
            continue;
        }
        let (name, version, platform) =
            spec_line(spec).ok_or_else(|| format!("line {}: bad spec {spec:?}", n + 1))?;
        let source = match (section, remote, revision) {
            ("GIT", Some(r), Some(rev)) => Some(format!("{r}@{rev}")),
            (_, r, _) => r.map(str::to_string),
        };
        let key = (name.to_string(), version.to_string(), source.clone());
        let at = match seen.get(&key) {
            Some(&at) => at,
            None => {
                if out.len() >= MAX_PACKAGES {
                    return Err(format!("more than {MAX_PACKAGES} gems"));
                }
                seen.insert(key, out.len());
                out.push(Locked {
                    name: name.to_string(),
                    version: version.to_string(),
                    platforms: Vec::new(),
                    source,
                });
                out.len() - 1
            }
        };
        if let (Some(p), Some(l)) = (platform, out.get_mut(at))
            && !l.platforms.iter().any(|q| q == p)
        {
            l.platforms.push(p.to_string());
        }
    }
    Ok(out)
}

/// `name (version[-platform])` -> (name, version, platform).
fn spec_line(s: &str) -> Option<(&str, &str, Option<&str>)> {
    let (name, rest) = s.split_once(" (")?;
    let inner = rest.strip_suffix(')')?;
    let (version, platform) = match inner.split_once('-') {
        Some((v, p)) => (v, Some(p)),
        None => (inner, None),
    };
    (valid_word(name) && valid_word(version) && platform.is_none_or(valid_word))
        .then_some((name, version, platform))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::{Facts, FileRecord};
    use std::collections::{BTreeMap, BTreeSet};

    fn index(scope: Scope, files: &[(&str, &[u8])]) -> FileIndex {
        let mut ix = FileIndex::with_scope(scope);
        for (path, bytes) in files {
            ix.insert(FileRecord {
                path: path.to_string(),
                layer: None,
                facts: Facts::Content(bytes.to_vec()),
            });
        }
        ix
    }

    fn run(ix: &FileIndex) -> Output {
        let mut out = Output::default();
        catalog(ix, &mut out);
        out
    }

    fn testdata(name: &str) -> Vec<u8> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/ruby/");
        std::fs::read(format!("{path}{name}")).unwrap()
    }

    #[test]
    fn wants_only_installed_specs_and_locks() {
        assert!(wants(
            "/usr/lib/ruby/gems/3.1.0/specifications/rake-13.0.6.gemspec"
        ));
        assert!(wants(
            "/usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec"
        ));
        assert!(wants("/usr/local/bundle/specifications/rack-3.0.0.gemspec"));
        assert!(wants("/src/app/Gemfile.lock") && wants("/src/app/gems.locked"));
        // A gemspec in a source tree is Ruby code, not installed metadata.
        assert!(!wants("/src/app/app.gemspec"));
        assert!(!wants(
            "/usr/lib/ruby/gems/3.1.0/gems/rake-13.0.6/rake.gemspec"
        ));
        assert!(!wants("/src/app/Gemfile") && !wants("Gemfile.lock"));
    }

    /// The committed Debian gemspecs against what RubyGems itself loads from
    /// them (testdata/ruby/expected.tsv, see the README there).
    #[test]
    fn real_gemspecs_match_rubygems() {
        let expected = String::from_utf8(testdata("expected.tsv")).unwrap();
        let mut files = Vec::new();
        let mut want = BTreeSet::new();
        for line in expected.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            let [file, name, version, platform, licenses] = f[..] else {
                panic!("bad line {line:?}")
            };
            let bytes = testdata(file);
            files.push((
                format!("/usr/share/rubygems-integration/all/specifications/{file}"),
                bytes,
            ));
            let platforms: Vec<String> = (platform != "ruby")
                .then(|| platform.to_string())
                .into_iter()
                .collect();
            let licenses: Vec<String> = licenses
                .split(',')
                .filter(|l| !l.is_empty())
                .map(|l| license(l).unwrap())
                .collect();
            want.insert((name.to_string(), version.to_string(), platforms, licenses));
        }
        assert!(want.len() >= 3);
        let refs: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(p, b)| (p.as_str(), b.as_slice()))
            .collect();
        let out = run(&index(Scope::Image, &refs));
        assert!(out.unknowns.is_empty(), "{:?}", out.unknowns);
        let got: BTreeSet<_> = out
            .packages
            .iter()
            .map(|p| {
                let PackageMetadata::Gem(m) = &p.metadata else {
                    panic!("metadata")
                };
                (
                    p.name.clone(),
                    p.version.clone(),
                    m.platforms.clone(),
                    p.licenses.clone(),
                )
            })
            .collect();
        assert_eq!(got, want);
        // `ruby` is re-spelt as the SPDX id `Ruby`.
        let telnet = out
            .packages
            .iter()
            .find(|p| p.name == "net-telnet")
            .unwrap();
        assert_eq!(telnet.licenses, vec!["Ruby".to_string()]);
        assert_eq!(telnet.found_by, CATALOGER_ID);
    }

    /// Every gemspec of the local Ruby installation against `gem list`,
    /// when Ruby is installed (CI need not have it).
    #[test]
    fn local_gem_homes_match_gem_list() {
        let Ok(o) = std::process::Command::new("gem")
            .args(["list", "--local"])
            .output()
        else {
            return;
        };
        let list = String::from_utf8_lossy(&o.stdout);
        let mut want = BTreeSet::new();
        for line in list.lines() {
            let Some((name, versions)) = line.split_once(" (") else {
                continue;
            };
            for v in versions.trim_end_matches(')').split(", ") {
                let v = v.trim_start_matches("default: ");
                // `gem list` prints `1.2.3-x86_64-linux` for platform gems.
                let v = v.split_once(' ').map_or(v, |(v, _)| v);
                want.insert((name.to_string(), v.to_string()));
            }
        }
        // Every gem home RubyGems searches, as it reports them.
        let Ok(paths) = std::process::Command::new("gem")
            .args(["env", "paths"])
            .output()
        else {
            return;
        };
        let paths = String::from_utf8_lossy(&paths.stdout);
        let mut files = Vec::new();
        for home in paths.trim().split(':') {
            for sub in ["specifications", "specifications/default"] {
                let Ok(specs) = std::fs::read_dir(std::path::Path::new(home).join(sub)) else {
                    continue;
                };
                for s in specs.flatten() {
                    let p = s.path();
                    if p.is_file() {
                        files.push((p.to_string_lossy().into_owned(), std::fs::read(&p).unwrap()));
                    }
                }
            }
        }
        if want.is_empty() || files.is_empty() {
            return;
        }
        let refs: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(p, b)| (p.as_str(), b.as_slice()))
            .collect();
        let out = run(&index(Scope::Image, &refs));
        assert!(out.unknowns.is_empty(), "{:?}", out.unknowns);
        let got: BTreeSet<_> = out
            .packages
            .iter()
            .map(|p| {
                let PackageMetadata::Gem(m) = &p.metadata else {
                    panic!()
                };
                let v = match m.platforms.first() {
                    Some(pl) => format!("{}-{pl}", p.version),
                    None => p.version.clone(),
                };
                (p.name.clone(), v)
            })
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn gemspec_forms() {
        let spec = br#"
Gem::Specification.new do |spec|
  spec.name          = 'nokogiri'
  spec.version       = "1.13.0".freeze
  spec.platform      = %q{x86_64-linux}
  spec.license       = "mit"
  spec.homepage      = "https://nokogiri.org/\#{x}"
  spec.summary = "a \"quoted\" summary"
end
"#;
        let g = parse_gemspec(spec).unwrap();
        assert_eq!(g.name, "nokogiri");
        assert_eq!(g.version, "1.13.0");
        assert_eq!(g.platform.as_deref(), Some("x86_64-linux"));
        assert_eq!(g.licenses, vec!["MIT".to_string()]);

        let list = b"Gem::Specification.new do |s|\n s.name = \"a\".freeze\n s.version = \"1.0\"\n s.licenses = [\"Ruby\".freeze, 'BSD-2-Clause', \"Nonstandard\",].freeze\nend\n";
        let g = parse_gemspec(list).unwrap();
        assert_eq!(g.licenses, vec!["Ruby", "BSD-2-Clause", "Nonstandard"]);
        assert_eq!(g.platform, None);

        // Computed values are not guessed at.
        let computed =
            b"Gem::Specification.new do |s|\n s.name = \"a\"\n s.version = A::VERSION\nend\n";
        assert!(parse_gemspec(computed).unwrap_err().contains("version"));
        let interp =
            b"Gem::Specification.new do |s|\n s.name = \"a\"\n s.version = \"#{V}\"\nend\n";
        assert!(parse_gemspec(interp).is_err());
        let trailing =
            b"Gem::Specification.new do |s|\n s.name = \"a\"\n s.version = \"1\" + x\nend\n";
        assert!(parse_gemspec(trailing).is_err());
        // The stub line stands in when the assignments are missing.
        let stub = b"# stub: rake 13.0.6 ruby lib\nGem::Specification.new do |s|\nend\n";
        let g = parse_gemspec(stub).unwrap();
        assert_eq!((g.name.as_str(), g.version.as_str()), ("rake", "13.0.6"));
    }

    #[test]
    fn hostile_gemspecs() {
        let cases: &[&[u8]] = &[
            b"",
            b"\xff\xfe\x00",
            b"Gem::Specification.new do |s|\n",
            b"Gem::Specification.new do |s|\n s.name = \"unterminated\n s.version = \"1\"\n",
            b"Gem::Specification.new do |s|\n s.name = \"a b\"\n s.version = \"1\"\n",
            b"Gem::Specification.new do |\n",
            b"Gem::Specification.new do |s|\n s.name = \"a\"\n s.version = \"1\\",
            b"Gem::Specification.new do |s|\n s.name = [\n s.version = %q",
        ];
        for c in cases {
            assert!(
                parse_gemspec(c).is_err(),
                "{:?}",
                String::from_utf8_lossy(c)
            );
        }
        // Huge license arrays are bounded.
        let mut big =
            b"Gem::Specification.new do |s|\n s.name = \"a\"\n s.version = \"1\"\n s.licenses = ["
                .to_vec();
        for _ in 0..100_000 {
            big.extend_from_slice(b"\"MIT\",");
        }
        big.extend_from_slice(b"]\nend\n");
        assert_eq!(parse_gemspec(&big).unwrap().licenses.len(), MAX_LICENSES);
        // Errors become unknowns, the rest carries on.
        let ix = index(
            Scope::Image,
            &[
                ("/g/specifications/bad.gemspec", b"garbage"),
                (
                    "/g/specifications/ok-1.gemspec",
                    b"Gem::Specification.new do |s|\ns.name = \"ok\"\ns.version = \"1\"\nend",
                ),
            ],
        );
        let out = run(&ix);
        assert_eq!(out.unknowns.len(), 1);
        assert_eq!(out.packages.len(), 1);
    }

    /// (name, version) of every spec line under `specs:` in GEM/GIT/PATH
    /// sections, by a plain text scan, platform suffix cut at the first `-`.
    fn scan_specs(text: &str) -> BTreeMap<(String, String), BTreeSet<String>> {
        let mut out = BTreeMap::new();
        let mut section_ok = false;
        let mut in_specs = false;
        for line in text.lines() {
            if !line.starts_with(' ') {
                section_ok = ["GEM", "GIT", "PATH"].contains(&line);
                in_specs = false;
            } else if line.starts_with("  ") && !line.starts_with("   ") {
                in_specs = line == "  specs:";
            } else if section_ok
                && in_specs
                && line.starts_with("    ")
                && !line.starts_with("     ")
            {
                let mut f = line.split_whitespace();
                let name = f.next().unwrap().to_string();
                let v = f.next().unwrap().trim_matches(|c| c == '(' || c == ')');
                let (v, platform) = v.split_once('-').unwrap_or((v, ""));
                let platforms: &mut BTreeSet<String> =
                    out.entry((name, v.to_string())).or_default();
                if !platform.is_empty() {
                    platforms.insert(platform.to_string());
                }
            }
        }
        out
    }

    #[test]
    fn gemfile_lock_fixtures() {
        for name in ["syft-testdata", "rubygems.org"] {
            let Some(path) =
                bosun_testutil::fixture(&format!("files/lockfiles/gemfile/{name}.Gemfile.lock"))
            else {
                continue;
            };
            let bytes = std::fs::read(&path).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            let want = scan_specs(&text);
            assert!(want.len() > 10, "{name}");
            let out = run(&index(Scope::Directory, &[("/src/Gemfile.lock", &bytes)]));
            assert!(out.unknowns.is_empty(), "{name}: {:?}", out.unknowns);
            let got: BTreeSet<_> = out
                .packages
                .iter()
                .map(|p| (p.name.clone(), p.version.clone()))
                .collect();
            assert_eq!(got, want.keys().cloned().collect(), "{name}");
            assert_eq!(out.packages.len(), want.len(), "{name}: duplicates");
            // Every platform variant line is accounted for.
            for p in &out.packages {
                let PackageMetadata::Gem(m) = &p.metadata else {
                    panic!("metadata")
                };
                let platforms: BTreeSet<String> = m.platforms.iter().cloned().collect();
                assert_eq!(platforms.len(), m.platforms.len(), "{name}: {}", p.name);
                assert_eq!(
                    &platforms,
                    &want[&(p.name.clone(), p.version.clone())],
                    "{name}: {}",
                    p.name
                );
            }
            // Images ignore lock files.
            assert!(
                run(&index(Scope::Image, &[("/src/Gemfile.lock", &bytes)]))
                    .packages
                    .is_empty()
            );
        }
    }

    #[test]
    fn gemfile_lock_entries() {
        let Some(path) =
            bosun_testutil::fixture("files/lockfiles/gemfile/syft-testdata.Gemfile.lock")
        else {
            return;
        };
        let bytes = std::fs::read(&path).unwrap();
        let locked = parse_gemfile_lock(&bytes).unwrap();
        let get = |n: &str| locked.iter().find(|l| l.name == n).unwrap();
        assert_eq!(
            get("google-cloud-errors").source.as_deref(),
            Some("../google-cloud-errors")
        );
        assert_eq!(
            get("turbolinks").source.as_deref(),
            Some(
                "https://github.com/rails/turbolinks.git@80216ce9d89920bf073709405e3fce6d0a3ccd9a"
            )
        );
        assert_eq!(get("arel").version, "5.0.1.20140414130214");
        assert_eq!(
            get("rails").source.as_deref(),
            Some("https://rubygems.org/")
        );
        // Entries of an unknown section are not gems.
        assert!(!locked.iter().any(|l| l.name == "bad-entry"));

        let Some(path) =
            bosun_testutil::fixture("files/lockfiles/gemfile/rubygems.org.Gemfile.lock")
        else {
            return;
        };
        let bytes = std::fs::read(&path).unwrap();
        let locked = parse_gemfile_lock(&bytes).unwrap();
        let ffi: Vec<_> = locked.iter().filter(|l| l.name == "ffi").collect();
        assert_eq!(ffi.len(), 1);
        assert_eq!(ffi[0].version, "1.17.4");
        assert_eq!(ffi[0].platforms.len(), 7);
        assert!(ffi[0].platforms.contains(&"x86_64-linux-musl".to_string()));
        let avo = locked.iter().find(|l| l.name == "avo-pro").unwrap();
        assert_eq!(avo.source.as_deref(), Some("https://packager.dev/avo-hq/"));
    }

    #[test]
    fn hostile_gemfile_locks() {
        assert!(parse_gemfile_lock(b"GEM\n  specs:\n    broken (1.0\n").is_err());
        assert!(parse_gemfile_lock(b"GEM\n  specs:\n    (1.0)\n").is_err());
        assert!(parse_gemfile_lock(b"").unwrap().is_empty());
        // Spec-looking lines outside `specs:` are ignored.
        assert!(
            parse_gemfile_lock(b"GEM\n  remote: x\n    a (1)\n")
                .unwrap()
                .is_empty()
        );
        let crlf =
            parse_gemfile_lock(b"GEM\r\n  remote: r\r\n  specs:\r\n    a (1.0)\r\n").unwrap();
        assert_eq!(crlf.len(), 1);
        assert_eq!(crlf[0].version, "1.0");
        let mut big = b"GEM\n  specs:\n".to_vec();
        for i in 0..MAX_PACKAGES + 1 {
            big.extend_from_slice(format!("    g{i} (1)\n").as_bytes());
        }
        assert!(parse_gemfile_lock(&big).unwrap_err().contains("more than"));
    }
}
