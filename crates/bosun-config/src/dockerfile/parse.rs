//! A Dockerfile parser: parser directives, line continuations, comments,
//! heredocs, JSON (exec) and shell forms, flags, global ARGs and stages.

use std::collections::HashMap;

/// Longest logical instruction accepted (continuations joined); a longer
/// one is not a Dockerfile anyone wrote.
const MAX_INSTRUCTION: usize = 1024 * 1024;
const KEYWORDS: &[&str] = &[
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "MAINTAINER",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
];
/// Most heredocs on one instruction.
const MAX_HEREDOCS: usize = 64;
/// Most instructions: real Dockerfiles have tens to hundreds; past this a
/// file costs memory and time for nothing (a 16 MiB file of `ENV A=b`
/// lines holds two million) and is refused.
pub const MAX_INSTRUCTIONS: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    pub instructions: Vec<Instruction>,
    /// ARGs declared before the first FROM, with their defaults.
    pub global_args: HashMap<String, Option<String>>,
    pub stages: Vec<Stage>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// 1-based line of the keyword.
    pub line: usize,
    /// Upper-cased (`RUN`, `COPY`...).
    pub keyword: String,
    /// Leading `--name[=value]` flags.
    pub flags: Vec<(String, Option<String>)>,
    pub args: Args,
    pub heredocs: Vec<Heredoc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Args {
    /// `["executable", "arg"]`.
    Exec(Vec<String>),
    /// Everything after the keyword and flags, continuations joined.
    Shell(String),
}

impl Args {
    /// The arguments as one string (exec form joined with spaces).
    pub fn text(&self) -> String {
        match self {
            Args::Exec(v) => v.join(" "),
            Args::Shell(s) => s.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    pub delimiter: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// Index of its FROM in `instructions`.
    pub from: usize,
    /// Its instructions after FROM: `instructions[from + 1..end]`.
    pub end: usize,
    /// The base as written.
    pub image: String,
    /// The base with global ARG defaults substituted; `None` when it still
    /// depends on a build argument without a default.
    pub resolved: Option<String>,
    /// `AS name`, lower-cased (stage names are case-insensitive).
    pub name: Option<String>,
    /// Index of the earlier stage this one is built `FROM`.
    pub parent: Option<usize>,
}

impl Instruction {
    pub fn flag(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref().unwrap_or(""))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

fn err(line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        message: message.into(),
    }
}

pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let lines: Vec<&str> = text.lines().collect();
    let (escape, mut i) = directives(&lines);
    let mut instructions = Vec::new();
    while i < lines.len() {
        let trimmed = lines[i].trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i;
        let mut logical = String::new();
        loop {
            let l = lines.get(i).copied().unwrap_or("");
            i += 1;
            let t = l.trim_end();
            match t.strip_suffix(escape) {
                Some(head) => {
                    logical.push_str(head);
                    logical.push(' ');
                    // Comment and blank lines inside a continuation are dropped.
                    while i < lines.len() {
                        let n = lines[i].trim();
                        if n.is_empty() || n.starts_with('#') {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    if i >= lines.len() {
                        break;
                    }
                }
                None => {
                    logical.push_str(t);
                    break;
                }
            }
            if logical.len() > MAX_INSTRUCTION {
                return Err(err(start + 1, "instruction longer than 1 MiB"));
            }
        }
        let mut ins = instruction(start + 1, logical.trim())?;
        if matches!(ins.keyword.as_str(), "RUN" | "COPY" | "ADD")
            && let Args::Shell(s) = &ins.args
        {
            for (delimiter, strip_tabs) in heredoc_markers(s) {
                if ins.heredocs.len() >= MAX_HEREDOCS {
                    return Err(err(start + 1, "too many heredocs"));
                }
                let mut body = String::new();
                let mut closed = false;
                while i < lines.len() {
                    let l = lines[i];
                    i += 1;
                    let cmp = if strip_tabs {
                        l.trim_start_matches('\t')
                    } else {
                        l
                    };
                    if cmp == delimiter {
                        closed = true;
                        break;
                    }
                    body.push_str(cmp);
                    body.push('\n');
                }
                if !closed {
                    return Err(err(
                        start + 1,
                        format!("heredoc <<{delimiter} is not terminated"),
                    ));
                }
                ins.heredocs.push(Heredoc { delimiter, body });
            }
        }
        if instructions.len() >= MAX_INSTRUCTIONS {
            return Err(err(
                ins.line,
                format!("more than {MAX_INSTRUCTIONS} instructions; not checked"),
            ));
        }
        instructions.push(ins);
    }
    let (global_args, stages) = stages(&instructions);
    Ok(Dockerfile {
        instructions,
        global_args,
        stages,
    })
}

/// Parser directives (`# escape=``, `# syntax=...`) at the very top; returns
/// the escape character and the first line after them.
fn directives(lines: &[&str]) -> (char, usize) {
    let mut escape = '\\';
    let mut i = 0;
    while let Some(l) = lines.get(i) {
        let Some(body) = l.trim().strip_prefix('#') else {
            break;
        };
        let Some((k, v)) = body.split_once('=') else {
            break;
        };
        let k = k.trim();
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphabetic()) {
            break;
        }
        if k.eq_ignore_ascii_case("escape") {
            match v.trim() {
                "`" => escape = '`',
                "\\" => escape = '\\',
                _ => {}
            }
        }
        i += 1;
    }
    (escape, i)
}

fn instruction(line: usize, logical: &str) -> Result<Instruction, ParseError> {
    let (kw, mut rest) = match logical.split_once(|c: char| c.is_whitespace()) {
        Some((k, r)) => (k, r.trim_start()),
        None => (logical, ""),
    };
    let keyword = kw.to_ascii_uppercase();
    if !KEYWORDS.contains(&keyword.as_str()) {
        return Err(err(
            line,
            format!("unknown instruction {:?}", truncate(kw, 40)),
        ));
    }
    let mut flags = Vec::new();
    // Only these instructions take flags; for others `--x` is an argument.
    if matches!(
        keyword.as_str(),
        "FROM" | "RUN" | "COPY" | "ADD" | "HEALTHCHECK"
    ) {
        while let Some(f) = rest.strip_prefix("--") {
            let end = f.find(char::is_whitespace).unwrap_or(f.len());
            let tok = &f[..end];
            let (n, v) = match tok.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (tok.to_string(), None),
            };
            flags.push((n, v));
            rest = f[end..].trim_start();
        }
    }
    let args = if rest.starts_with('[') {
        match serde_json::from_str::<Vec<String>>(rest) {
            Ok(v) => Args::Exec(v),
            // Docker falls back to the shell form too.
            Err(_) => Args::Shell(rest.to_string()),
        }
    } else {
        Args::Shell(rest.to_string())
    };
    Ok(Instruction {
        line,
        keyword,
        flags,
        args,
        heredocs: Vec::new(),
    })
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'` markers in order, with whether
/// leading tabs are stripped. `<<<` (a here-string) is not a heredoc.
fn heredoc_markers(s: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] == b'<' && b[i + 1] == b'<' {
            if b.get(i + 2) == Some(&b'<') {
                i += 3;
                continue;
            }
            let mut j = i + 2;
            let strip = b.get(j) == Some(&b'-');
            if strip {
                j += 1;
            }
            let quote = match b.get(j) {
                Some(&q @ (b'"' | b'\'')) => {
                    j += 1;
                    Some(q)
                }
                _ => None,
            };
            let start = j;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            if j > start {
                out.push((s[start..j].to_string(), strip));
                if quote.is_some() && b.get(j) == quote.as_ref() {
                    j += 1;
                }
            }
            i = j.max(i + 2);
        } else {
            i += 1;
        }
    }
    out
}

fn stages(ins: &[Instruction]) -> (HashMap<String, Option<String>>, Vec<Stage>) {
    let mut global = HashMap::new();
    let mut stages: Vec<Stage> = Vec::new();
    for (idx, i) in ins.iter().enumerate() {
        match i.keyword.as_str() {
            "ARG" if stages.is_empty() => {
                for (k, v) in arg_pairs(&i.args.text()) {
                    global.insert(k, v);
                }
            }
            "FROM" => {
                if let Some(last) = stages.last_mut() {
                    last.end = idx;
                }
                let text = i.args.text();
                let words: Vec<&str> = text.split_whitespace().collect();
                let image = words.first().copied().unwrap_or("").to_string();
                let name = match words.as_slice() {
                    [_, kw, n, ..] if kw.eq_ignore_ascii_case("as") => Some(n.to_ascii_lowercase()),
                    _ => None,
                };
                let resolved = substitute(&image, &global);
                let parent = resolved.as_deref().and_then(|r| {
                    let r = r.to_ascii_lowercase();
                    stages
                        .iter()
                        .position(|s| s.name.as_deref() == Some(r.as_str()))
                });
                stages.push(Stage {
                    from: idx,
                    end: ins.len(),
                    image,
                    resolved,
                    name,
                    parent,
                });
            }
            _ => {}
        }
    }
    (global, stages)
}

/// `ARG a=1 b` -> [(a, Some(1)), (b, None)].
pub fn arg_pairs(text: &str) -> Vec<(String, Option<String>)> {
    split_words(text)
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (w, None),
        })
        .collect()
}

/// `ENV a=1 b="x y"` or the legacy `ENV a 1 2`: (name, value) pairs.
pub fn env_pairs(text: &str) -> Vec<(String, String)> {
    let words = split_words(text);
    match words.first() {
        Some(first) if !first.contains('=') => {
            let t = text.trim_start();
            let value = t.get(first.len()..).unwrap_or("").trim().to_string();
            vec![(first.clone(), unquote(&value))]
        }
        _ => words
            .into_iter()
            .filter_map(|w| {
                w.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect(),
    }
}

fn unquote(s: &str) -> String {
    split_words(s).join(" ")
}

/// Splits on unquoted whitespace, removing quotes and backslash escapes.
pub fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// Substitutes `$NAME`, `${NAME}`, `${NAME:-default}` and `${NAME:+alt}`
/// from global ARGs; `None` if a variable has no value.
fn substitute(s: &str, vars: &HashMap<String, Option<String>>) -> Option<String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let (expr, consumed) = if let Some(inner) = after.strip_prefix('{') {
            let end = inner.find('}')?;
            (&inner[..end], end + 2)
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        let value = |n: &str| vars.get(n).cloned().flatten().filter(|v| !v.is_empty());
        let v = if let Some((n, d)) = expr.split_once(":-") {
            value(n).unwrap_or_else(|| d.to_string())
        } else if let Some((n, alt)) = expr.split_once(":+") {
            value(n).map(|_| alt.to_string()).unwrap_or_default()
        } else {
            value(expr)?
        };
        out.push_str(&v);
        rest = &after[consumed.min(after.len())..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_comments_directives_and_forms() {
        let df = parse(
            "# syntax=docker/dockerfile:1\n# escape=\\\n\nARG BASE=debian:12\nFROM ${BASE} AS Build\nRUN apt-get update \\\n  # a comment\n\n  && apt-get install -y gcc\nCMD [\"/app\", \"--x\"]\nCOPY --from=build --chown=1:1 /a /b\n",
        )
        .unwrap();
        assert_eq!(df.instructions.len(), 5);
        let run = &df.instructions[2];
        assert_eq!(run.line, 6);
        assert!(
            run.args.text().contains("apt-get update")
                && run.args.text().contains("install -y gcc")
        );
        assert!(!run.args.text().contains("comment"));
        assert_eq!(
            df.instructions[3].args,
            Args::Exec(vec!["/app".into(), "--x".into()])
        );
        assert_eq!(df.instructions[4].flag("from"), Some("build"));
        assert_eq!(df.stages[0].resolved.as_deref(), Some("debian:12"));
        assert_eq!(df.stages[0].name.as_deref(), Some("build"));
    }

    #[test]
    fn heredocs_and_escape_directive() {
        let df = parse("FROM alpine\nRUN <<EOF\nset -e\napk add curl\nEOF\nCOPY <<-'X' /etc/x\n\tbody\n\tX\nRUN echo hi\n").unwrap();
        assert_eq!(
            df.instructions[1].heredocs[0].body,
            "set -e\napk add curl\n"
        );
        assert_eq!(df.instructions[2].heredocs[0].body, "body\n");
        assert_eq!(df.instructions.len(), 4);
        // A backtick only continues a line under `# escape=``.
        assert!(parse("FROM a\nRUN echo `\n  hi\n").is_err());
        let bt = parse("# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir `\n  c:\\\n").unwrap();
        assert_eq!(bt.instructions.len(), 2);
        assert!(parse("FROM a\nRUN <<EOF\nnever closed\n").is_err());
    }

    #[test]
    fn stage_references_and_unresolved_args() {
        let df = parse("ARG V\nFROM golang:1.22 AS build\nFROM build AS test\nFROM node:${V}\n")
            .unwrap();
        assert_eq!(df.stages[1].parent, Some(0));
        assert_eq!(df.stages[2].resolved, None);
        assert_eq!(df.stages[0].end, 2);
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        for junk in [
            "\u{0}\u{1}",
            "[[[",
            "RUN \\",
            "FROM\n\\\n\\",
            "$${{{",
            "RUN <<",
            "ENV",
            "ARG =",
        ] {
            let _ = parse(junk);
        }
        assert!(parse("!!! not a dockerfile").is_err());
    }

    #[test]
    fn env_forms() {
        assert_eq!(
            env_pairs("A=1 B=\"x y\""),
            vec![("A".into(), "1".into()), ("B".into(), "x y".into())]
        );
        assert_eq!(
            env_pairs("A hello world"),
            vec![("A".into(), "hello world".into())]
        );
    }
}
