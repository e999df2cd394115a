//! Secret detection for image layers, image configs and source trees.
//!
//! A [`Scanner`] holds the built-in rules plus any custom ones from
//! `bosun.yaml`. Scanning a file costs one pass of a keyword automaton over
//! its bytes (every rule names keywords, matched exactly as written); only
//! the rules whose keywords occur run their regex, and a match must then
//! pass the rule's check (checksum, structure, entropy, placeholder list)
//! and the allow-lists. Large inputs are scanned in overlapping windows, so
//! memory stays bounded however big a file is. A [`Match`] never carries the
//! secret: only a redacted prefix and a fingerprint.

mod check;
pub mod config;
mod file;
mod rules;

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::{Mutex, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex::bytes::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

pub use config::{AllowRule, Config, CustomRule};
pub use file::FileScan;
use rules::{BUILTIN, Check};

/// Bump when a built-in rule or check changes, so cached results that
/// depend on the rules are not reused.
pub const RULES_VERSION: u32 = 2;

/// The built-in rules' ids and regexes, for comparing the scanner with
/// other tools on the same patterns (`scripts/bench.sh --secrets` hands them
/// to ripgrep). A match's secret is its group named `s`, `s2` or `s3`.
pub fn builtin_patterns() -> impl Iterator<Item = (&'static str, &'static str)> {
    BUILTIN.iter().map(|b| (b.id, b.regex))
}

/// Bytes scanned per window; a match must start in the first `WINDOW`
/// bytes of one and fit in `OVERLAP` more (a large PGP key block does). A
/// PEM block that begins in a window and does not end in it starts the
/// next window, so a block up to `WINDOW + OVERLAP` long is seen whole
/// wherever it falls.
const WINDOW: usize = 1 << 20;
const OVERLAP: usize = 64 << 10;
/// A file with a NUL byte in this many first bytes is binary.
const BINARY_PROBE: usize = 8 << 10;
/// A file full of one kind of match lists this many of each rule; the rest
/// are counted ([`Match::omitted`]), and every other rule is still searched
/// to the end of the file.
pub const MAX_MATCHES_PER_RULE: usize = 100;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    #[default]
    High,
    Critical,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("bosun.yaml {what}: {message}")]
    Config { what: String, message: String },
}

fn config_err(what: impl Into<String>, message: impl Into<String>) -> Error {
    Error::Config {
        what: what.into(),
        message: message.into(),
    }
}

/// What a rule is, for listings and SARIF rule help.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleInfo {
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub builtin: bool,
}

/// One secret found. The value itself is never kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Match {
    pub rule_id: String,
    pub severity: Severity,
    pub title: String,
    /// 1-based line and byte column of the secret's first byte.
    pub line: usize,
    pub column: usize,
    /// The public prefix and at most four more characters, then `****`.
    pub redacted: String,
    /// `sha256:` + hex of `rule_id:value`: allow-list a value by it without
    /// writing the value down.
    pub fingerprint: String,
    /// On the last listed match of a rule that hit [`MAX_MATCHES_PER_RULE`]
    /// in this file: how many more matches of the rule the file has, found
    /// but not listed (the title says so too).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub omitted: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The fingerprint of `value` as found by rule `rule_id`.
pub fn fingerprint(rule_id: &str, value: &str) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update(b":");
    h.update(value.as_bytes());
    format!("sha256:{}", hex::encode(h.finalize()))
}

/// `reveal` public characters, then at most four (and at most a fifth of
/// the rest) of the secret, then `****`.
fn redact(value: &str, reveal: usize) -> String {
    let n = value.chars().count();
    let reveal = reveal.min(n);
    let extra = ((n - reveal) / 5).min(4);
    // One line: a key block's prefix stops at its BEGIN line.
    let mut out: String = value
        .chars()
        .take(reveal + extra)
        .take_while(|c| !matches!(c, '\n' | '\r' | '\\'))
        .collect();
    out.push_str("****");
    out
}

/// A built-in regex compiled on first use: a scan only pays for the rules
/// whose keywords occur in some file.
struct LazyRegex {
    pattern: &'static str,
    compiled: OnceLock<Option<Regex>>,
}

impl LazyRegex {
    fn new(pattern: &'static str) -> LazyRegex {
        LazyRegex {
            pattern,
            compiled: OnceLock::new(),
        }
    }

    /// Custom rules are compiled up front, so a bad regex is a config error.
    fn ready(regex: Regex) -> LazyRegex {
        LazyRegex {
            pattern: "",
            compiled: OnceLock::from(Some(regex)),
        }
    }

    /// None only if a built-in fails to compile, which the tests rule out.
    fn get(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| compile(self.pattern, "built-in rule").ok())
            .as_ref()
    }
}

struct Rule {
    info: RuleInfo,
    regex: LazyRegex,
    context: Option<LazyRegex>,
    check: Check,
    reveal: usize,
    allow: Vec<String>,
}

struct Allow {
    rule: Option<String>,
    path: Option<Regex>,
    value: Option<Regex>,
    fingerprint: Option<String>,
}

impl Allow {
    fn path_only(&self) -> bool {
        self.rule.is_none() && self.value.is_none() && self.fingerprint.is_none()
    }
}

/// Teddy, the SIMD search behind the keyword automaton, compares the first
/// (up to) four bytes of every pattern at once; a single shorter keyword
/// makes it test fewer bytes and stop far more often on ordinary text.
const FULL_FINGERPRINT: usize = 4;

/// Keywords of a set of rules: the short ones (`eyJ`, `://`) in an
/// automaton of their own, so they do not slow the search for the rest.
struct Keywords {
    groups: Vec<KeywordGroup>,
    /// How many distinct rules the keywords lead to.
    distinct: usize,
}

struct KeywordGroup {
    automaton: AhoCorasick,
    /// Pattern id -> rules that named it (or a keyword inside it).
    rules: Vec<Vec<usize>>,
}

impl Keywords {
    fn new(mut keywords: Vec<(String, usize)>) -> Result<Keywords, Error> {
        let mut distinct: Vec<usize> = keywords.iter().map(|(_, r)| *r).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let (long, short) = keywords
            .drain(..)
            .partition(|(k, _)| k.len() >= FULL_FINGERPRINT);
        let groups = [long, short]
            .into_iter()
            .filter(|g: &Vec<_>| !g.is_empty())
            .map(KeywordGroup::new)
            .collect::<Result<_, _>>()?;
        Ok(Keywords {
            groups,
            distinct: distinct.len(),
        })
    }

    /// Which rules have a keyword in `w`, indexed like the scanner's rules.
    fn wanted(&self, w: &[u8], n_rules: usize) -> Vec<bool> {
        let mut wanted = vec![false; n_rules];
        let mut left = self.distinct;
        for g in &self.groups {
            for m in g.automaton.find_iter(w) {
                for &r in g.rules.get(m.pattern().as_usize()).into_iter().flatten() {
                    if let Some(slot) = wanted.get_mut(r)
                        && !*slot
                    {
                        *slot = true;
                        left -= 1;
                    }
                }
                if left == 0 {
                    return wanted;
                }
            }
        }
        wanted
    }
}

impl KeywordGroup {
    fn new(mut keywords: Vec<(String, usize)>) -> Result<KeywordGroup, Error> {
        // Several rules may share a keyword: one automaton pattern, many rules.
        keywords.sort();
        keywords.dedup();
        let mut patterns: Vec<String> = Vec::new();
        let mut rules: Vec<Vec<usize>> = Vec::new();
        for (k, r) in keywords {
            if patterns.last() != Some(&k) {
                patterns.push(k);
                rules.push(Vec::new());
            }
            if let Some(v) = rules.last_mut() {
                v.push(r);
            }
        }
        // Non-overlapping search is what runs at SIMD speed; it reports
        // `aws_secret` but not the `secret` inside it, so a keyword also
        // stands for every keyword it contains.
        let direct = rules.clone();
        for (i, k) in patterns.iter().enumerate() {
            for (j, inner) in patterns.iter().enumerate() {
                if i != j && k.contains(inner.as_str()) {
                    rules[i].extend_from_slice(&direct[j]);
                }
            }
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .map_err(|e| config_err("secrets keywords", e.to_string()))?;
        Ok(KeywordGroup { automaton, rules })
    }
}

/// Compiled rules and allow-lists. Cheap to share between threads.
pub struct Scanner {
    rules: Vec<Rule>,
    /// Keywords of all rules, for text.
    text: Keywords,
    /// Keywords of the rules that also run on binary files: fewer patterns,
    /// a faster search over what is most of the bytes of an image.
    binary: Keywords,
    allow: Vec<Allow>,
    skip: Vec<Regex>,
    fingerprint: String,
    /// Window buffers of finished scans, so a file does not allocate one.
    buffers: Mutex<Vec<Vec<u8>>>,
}

/// Buffers kept for reuse: one per scanning thread is enough, and one
/// larger than a window plus a read is dropped, so memory stays bounded.
const KEEP_BUFFERS: usize = 8;
const KEEP_CAPACITY: usize = WINDOW + OVERLAP + (256 << 10);

fn compile(pattern: &str, what: &str) -> Result<Regex, Error> {
    RegexBuilder::new(pattern)
        .size_limit(1 << 22)
        .build()
        .map_err(|e| config_err(what, format!("invalid regex: {e}")))
}

/// A path glob as a regex: `*` and `?` stay within one path segment, `**`
/// crosses segments; a glob not starting with `/` matches at any depth.
pub(crate) fn glob_regex(glob: &str) -> String {
    let mut re = String::from("^");
    if !glob.starts_with('/') {
        re.push_str("(?:.*/)?");
    }
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    chars.next();
                    re.push_str("(?:.*/)?");
                } else {
                    re.push_str(".*");
                }
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            c => re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    re.push('$');
    re
}

impl Scanner {
    /// Compile the built-in rules and the configuration's custom rules and
    /// allow-lists. Errors name the offending entry.
    pub fn new(cfg: &Config) -> Result<Scanner, Error> {
        let mut rules = Vec::new();
        let mut keywords: Vec<(String, usize)> = Vec::new();
        let mut binary_keywords: Vec<(String, usize)> = Vec::new();
        for (i, d) in cfg.disable.iter().enumerate() {
            let known = BUILTIN.iter().any(|b| b.id == d) || cfg.rules.iter().any(|r| &r.id == d);
            if !known {
                return Err(config_err(
                    format!("secrets.disable[{i}]"),
                    format!("no rule {d:?}"),
                ));
            }
        }
        for b in BUILTIN {
            if cfg.disable.iter().any(|d| d == b.id) {
                continue;
            }
            for k in b.keywords {
                keywords.push((k.to_string(), rules.len()));
                if b.binary {
                    binary_keywords.push((k.to_string(), rules.len()));
                }
            }
            rules.push(Rule {
                info: RuleInfo {
                    id: b.id.into(),
                    title: b.title.into(),
                    description: b.description.into(),
                    severity: b.severity,
                    builtin: true,
                },
                regex: LazyRegex::new(b.regex),
                context: b.context.map(LazyRegex::new),
                check: b.check,
                reveal: b.reveal,
                allow: b.allow.iter().map(|s| s.to_string()).collect(),
            });
        }
        for (i, r) in cfg.rules.iter().enumerate() {
            let what = format!("secrets.rules[{i}] ({})", r.id);
            if r.id.is_empty()
                || !r
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(config_err(what, "id must be letters, digits, '-' or '_'"));
            }
            if BUILTIN.iter().any(|b| b.id == r.id) || cfg.rules[..i].iter().any(|o| o.id == r.id) {
                return Err(config_err(what, "id is already used by another rule"));
            }
            if r.keywords.is_empty() || r.keywords.iter().any(|k| k.is_empty()) {
                return Err(config_err(
                    what,
                    "keywords: at least one non-empty keyword is needed (the rule's regex only runs on files containing one)",
                ));
            }
            let regex = compile(&r.regex, &format!("{what}.regex"))?;
            if cfg.disable.iter().any(|d| d == &r.id) {
                continue;
            }
            // As written, and in lower and UPPER case.
            for k in &r.keywords {
                for v in [k.clone(), k.to_ascii_lowercase(), k.to_ascii_uppercase()] {
                    if r.binary {
                        binary_keywords.push((v.clone(), rules.len()));
                    }
                    keywords.push((v, rules.len()));
                }
            }
            rules.push(Rule {
                info: RuleInfo {
                    id: r.id.clone(),
                    title: r.title.clone().unwrap_or_else(|| r.id.clone()),
                    description: r.description.clone().unwrap_or_default(),
                    severity: r.severity,
                    builtin: false,
                },
                regex: LazyRegex::ready(regex),
                context: None,
                check: match r.min_entropy {
                    Some(e) => Check::Entropy(e),
                    None => Check::NotFake,
                },
                reveal: 0,
                allow: Vec::new(),
            });
        }
        let mut allow = Vec::new();
        for (i, a) in cfg.allow.iter().enumerate() {
            let what = format!("secrets.allow[{i}]");
            if let Some(id) = &a.rule
                && !rules.iter().any(|r| &r.info.id == id)
                && !cfg.disable.contains(id)
            {
                return Err(config_err(what, format!("no rule {id:?}")));
            }
            let entry = Allow {
                rule: a.rule.clone(),
                path: a
                    .path
                    .as_deref()
                    .map(|g| compile(&glob_regex(g), &format!("{what}.path")))
                    .transpose()?,
                value: a
                    .value
                    .as_deref()
                    .map(|v| compile(v, &format!("{what}.value")))
                    .transpose()?,
                fingerprint: a.fingerprint.clone(),
            };
            if entry.rule.is_none()
                && entry.path.is_none()
                && entry.value.is_none()
                && entry.fingerprint.is_none()
            {
                return Err(config_err(
                    what,
                    "needs at least one of rule, path, value, fingerprint",
                ));
            }
            allow.push(entry);
        }
        let skip = cfg
            .skip_paths
            .iter()
            .enumerate()
            .map(|(i, g)| compile(&glob_regex(g), &format!("secrets.skip-paths[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let mut h = Sha256::new();
        // What is found, not how it is reported, keys cached results.
        let found_by = Config {
            report_package_files: false,
            ..cfg.clone()
        };
        h.update(format!("rules-{RULES_VERSION}\n{found_by:?}"));
        Ok(Scanner {
            rules,
            text: Keywords::new(keywords)?,
            binary: Keywords::new(binary_keywords)?,
            allow,
            skip,
            fingerprint: hex::encode(h.finalize()),
            buffers: Mutex::new(Vec::new()),
        })
    }

    /// The rules in effect, built-in first.
    pub fn rules(&self) -> impl Iterator<Item = &RuleInfo> {
        self.rules.iter().map(|r| &r.info)
    }

    /// Identifies the rules and allow-lists: results computed under one
    /// fingerprint are valid for any scanner with the same.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Whether the configuration excludes `path` from scanning altogether.
    pub fn skips(&self, path: &str) -> bool {
        self.skip.iter().any(|g| g.is_match(path.as_bytes()))
            || self.allow.iter().any(|a| {
                a.path_only() && a.path.as_ref().is_some_and(|g| g.is_match(path.as_bytes()))
            })
    }

    /// Scan one file's content. `path` is what allow-list globs see.
    pub fn scan(&self, path: &str, bytes: &[u8]) -> Vec<Match> {
        let mut f = self.file(path);
        f.scan_all(bytes);
        f.finish()
    }

    /// Scan text that is not a file (an image config `Env` entry, a label, a
    /// history `created_by`); `origin` names it for allow-lists. Text is
    /// never treated as binary.
    pub fn scan_text(&self, origin: &str, text: &str) -> Vec<Match> {
        let mut f = self.file(origin);
        f.binary = Some(false);
        f.scan_all(text.as_bytes());
        f.finish()
    }

    /// `text` with every value a rule finds in it replaced by its redacted
    /// form (the [`Match::redacted`] a finding shows: the rule's public
    /// prefix, at most four more characters, `****`), for text that bosun
    /// writes out (an image's history, labels, command). Unlike a scan,
    /// every match is replaced, however many there are. `origin` names the
    /// text for allow-lists: an allow-listed value is not a secret and stays.
    pub fn redact_text<'t>(&self, origin: &str, text: &'t str) -> std::borrow::Cow<'t, str> {
        let mut f = self.file(origin);
        f.binary = Some(false);
        f.spans = Some(Vec::new());
        f.scan_all(text.as_bytes());
        // The last window here, so that its spans are in too.
        let rest = std::mem::take(&mut f.buf);
        if !f.skip && !rest.is_empty() {
            f.window(&rest, rest.len());
        }
        f.buf = rest;
        f.buf.clear();
        let mut spans = f.spans.take().unwrap_or_default();
        let found = f.finish();
        if found.is_empty() {
            return std::borrow::Cow::Borrowed(text);
        }
        spans.sort_by_key(|(start, ..)| *start);
        let mut out = String::with_capacity(text.len());
        let mut pos = 0usize;
        for (start, end, i) in spans {
            // Whole characters: a byte regex may cut one.
            let mut start = usize::try_from(start).unwrap_or(usize::MAX).min(text.len());
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = usize::try_from(end).unwrap_or(usize::MAX).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            let Some(m) = found.get(i) else { continue };
            if end <= pos {
                continue;
            }
            // Overlapping spans (one window's match running into the next):
            // the part already replaced stays replaced.
            let start = start.max(pos);
            out.push_str(&text[pos..start]);
            out.push_str(&m.redacted);
            pos = end;
        }
        out.push_str(&text[pos..]);
        std::borrow::Cow::Owned(out)
    }

    /// Scan a stream with bounded memory.
    pub fn scan_reader(&self, path: &str, r: &mut dyn Read) -> io::Result<Vec<Match>> {
        let mut f = self.file(path);
        f.read_from(r)?;
        Ok(f.finish())
    }

    fn take_buffer(&self) -> Vec<u8> {
        self.buffers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .unwrap_or_default()
    }

    fn return_buffer(&self, mut buf: Vec<u8>) {
        if buf.capacity() == 0 || buf.capacity() > KEEP_CAPACITY {
            return;
        }
        buf.clear();
        let mut kept = self.buffers.lock().unwrap_or_else(|p| p.into_inner());
        if kept.len() < KEEP_BUFFERS {
            kept.push(buf);
        }
    }

    /// Start a push-style scan of one file: [`FileScan::feed`] it the content
    /// in pieces of any size, then [`FileScan::finish`].
    pub fn file(&self, path: &str) -> FileScan<'_> {
        FileScan {
            scanner: self,
            path: path.to_string(),
            skip: self.skips(path),
            buf: self.take_buffer(),
            offset: 0,
            line: 1,
            line_start: 0,
            binary: None,
            out: Vec::new(),
            kept: vec![0; self.rules.len()],
            omitted: vec![0; self.rules.len()],
            last_kept: vec![None; self.rules.len()],
            context_seen: vec![false; self.rules.len()],
            spans: None,
        }
    }
}

/// Whether `value` passes `rule`'s check; the title and severity to report
/// when the check refines them (a private key's encryption).
fn verdict(rule: &Rule, value: &str, host: Option<&[u8]>) -> Option<(Option<String>, Severity)> {
    if rule.allow.iter().any(|a| a == value) {
        return None;
    }
    let sev = rule.info.severity;
    let ok = match rule.check {
        Check::NotFake => !check::looks_fake(value),
        Check::Entropy(e) => !check::looks_fake(value) && check::entropy(value.as_bytes()) >= e,
        Check::GithubCrc => check::github_checksum_ok(value),
        Check::Jwt => check::jwt_ok(value),
        Check::DockerAuth => check::docker_auth_ok(value),
        Check::KubeKeyData => check::kube_key_data_ok(value),
        Check::UrlPassword => {
            let host = host.map(|h| h.to_ascii_lowercase()).unwrap_or_default();
            let example_host = [&b"example.com"[..], b"example.org", b"example.net"]
                .iter()
                .any(|e| host.ends_with(e));
            !example_host && check::plausible_value(value, 1, 0.0)
        }
        Check::Assignment {
            min_len,
            min_entropy,
        } => check::plausible_value(value, min_len, min_entropy),
        Check::PrivateKey(kind) => {
            let encrypted = check::private_key(kind, value)?;
            return Some(match encrypted {
                Some(true) => (
                    Some(format!("{} (encrypted)", rule.info.title)),
                    Severity::Medium,
                ),
                Some(false) => (Some(format!("{} (not encrypted)", rule.info.title)), sev),
                None => (
                    Some(format!("{} (encryption unknown)", rule.info.title)),
                    sev,
                ),
            });
        }
    };
    ok.then_some((None, sev))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let m = |g: &str, p: &str| Regex::new(&glob_regex(g)).unwrap().is_match(p.as_bytes());
        assert!(m("/app/tests/**", "/app/tests/a/b.txt"));
        assert!(m("tests/**", "/src/tests/x"));
        assert!(m("*.pem", "/etc/ssl/a.pem"));
        assert!(!m("/etc/*.pem", "/etc/ssl/a.pem"));
        assert!(m("/etc/**/*.pem", "/etc/a.pem"));
        assert!(m("/a?c", "/abc"));
        assert!(!m("/a.c", "/abc"));
    }

    #[test]
    fn builtin_regexes_compile() {
        // Compiled lazily, where a failure could only skip the rule.
        for b in BUILTIN {
            assert!(compile(b.regex, b.id).is_ok(), "{}", b.id);
            if let Some(c) = b.context {
                assert!(compile(c, b.id).is_ok(), "{} context", b.id);
            }
        }
    }

    #[test]
    fn assignment_values_do_not_depend_on_the_name_before_the_key() {
        // The assignment regexes once began with `[a-z0-9_.-]{0,40}`: the
        // values they find must be the ones found without it.
        let inputs = [
            "db_password=Sup3rS3cretValue9",
            "x.pwdpassword: \"abc def ghi\"",
            "a_very_long_configuration_name_that_goes_past_forty_chars_password='q9!vT2&mLx'",
            "auth_token=Zq81Lk2Mx0Vb7Nc4 access_token: 'f3Ka9Qz1Lr7Vx2Bn8Wc4'",
            "PASSWORD := s3cr3t; pwd=>\"x\" api-key:=k3y",
            "secret_access_key='a' secret_key=\"b\" client_secret=c\npassword\t=\td",
        ];
        let assignments: Vec<_> = BUILTIN
            .iter()
            .filter(|b| b.regex.starts_with("(?-u)(?i)(?:"))
            .collect();
        assert_eq!(assignments.len(), 2);
        for b in assignments {
            let now = Regex::new(b.regex).unwrap();
            let before =
                Regex::new(&b.regex.replacen("(?i)(?:", "(?i)[a-z0-9_.-]{0,40}(?:", 1)).unwrap();
            let values = |re: &Regex, text: &str| -> Vec<(usize, usize)> {
                re.captures_iter(text.as_bytes())
                    .filter_map(|c| ["s", "s2", "s3"].iter().find_map(|g| c.name(g)))
                    .map(|m| (m.start(), m.end()))
                    .collect()
            };
            let mut any = 0;
            for text in inputs {
                let found = values(&now, text);
                any += found.len();
                assert_eq!(found, values(&before, text), "{}: {text}", b.id);
            }
            assert!(any >= 4, "{}: too few values to compare", b.id);
        }
    }

    #[test]
    fn binary_files_without_binary_rules() {
        // No binary keywords at all: binary content is searched for nothing.
        let cfg = Config {
            disable: BUILTIN
                .iter()
                .filter(|b| b.binary)
                .map(|b| b.id.to_string())
                .collect(),
            ..Config::default()
        };
        let s = Scanner::new(&cfg).unwrap();
        let text = "password = \"q9!vT2&mLx-7Hd\"\n";
        assert!(s.scan("/bin/x", format!("\0{text}").as_bytes()).is_empty());
        assert_eq!(s.scan("/etc/x", text.as_bytes()).len(), 1);
    }

    #[test]
    fn reused_buffers_do_not_leak_between_files() {
        let s = Scanner::new(&Config::default()).unwrap();
        let mut f = s.file("/a");
        f.feed(b"password = \"q9!vT2&mLx-7Hd\"\n");
        assert_eq!(f.finish().len(), 1);
        // An abandoned scan gives its buffer back too.
        let mut f = s.file("/b");
        f.feed(b"token: ");
        drop(f);
        let mut f = s.file("/c");
        f.feed(b"x\n");
        assert!(f.finish().is_empty());
    }

    #[test]
    fn whole_content_only_for_small_files_with_findings() {
        let s = Scanner::new(&Config::default()).unwrap();
        let secret = b"password = \"q9!vT2&mLx-7Hd\"\n";
        let whole = |pieces: &[&[u8]]| {
            let mut f = s.file("/etc/x");
            for p in pieces {
                f.feed(p);
            }
            f.finish_with(|w| w.to_vec())
        };
        let (found, content) = whole(&[b"a=1\n", secret]);
        assert_eq!(found.len(), 1);
        assert_eq!(
            content.as_deref(),
            Some([&b"a=1\n"[..], secret].concat().as_slice())
        );
        // Nothing found: nothing handed over.
        assert_eq!(whole(&[b"a=1\n"]), (vec![], None));
        // Past one window the start is gone.
        let pad = vec![b'#'; WINDOW + OVERLAP];
        let (found, content) = whole(&[secret, &pad]);
        assert_eq!((found.len(), content), (1, None));
    }

    #[test]
    fn redaction_is_short() {
        assert_eq!(
            redact("ghp_lxOFKnAteGtBk4edGB0vgGPNkoZz3C0qIB8c", 4),
            "ghp_lxOF****"
        );
        assert_eq!(redact("hunter22", 0), "h****");
        assert_eq!(redact("ab", 0), "****");
        assert_eq!(redact("ab", 5), "ab****");
    }
}
