//! Just enough shell to see the simple commands of a RUN step: words
//! (quotes and escapes removed), split at `&&`, `||`, `;`, `|`, `&`,
//! newlines and parentheses.

/// One simple command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    /// The program's base name (`/usr/bin/apt-get` -> `apt-get`), after
    /// assignments and wrappers such as `sudo` and `env`.
    pub name: String,
    pub args: Vec<String>,
    /// Run through `sudo`.
    pub sudo: bool,
    /// Its output is piped (`|`) into the next command.
    pub piped: bool,
}

impl Cmd {
    /// Whether any argument is exactly one of `flags`.
    pub fn has(&self, flags: &[&str]) -> bool {
        self.args.iter().any(|a| flags.contains(&a.as_str()))
    }

    /// Whether a short option cluster (`-qy`) or a long option sets `short`/`long`.
    pub fn has_opt(&self, short: char, long: &str) -> bool {
        self.args.iter().any(|a| {
            a == long
                || a.starts_with(&format!("{long}="))
                || (a.starts_with('-') && !a.starts_with("--") && a[1..].contains(short))
        })
    }

    /// The first argument that is not an option: the subcommand.
    pub fn subcommand(&self) -> Option<&str> {
        self.args
            .iter()
            .find(|a| !a.starts_with('-'))
            .map(|s| s.as_str())
    }
}

#[derive(Debug, PartialEq)]
enum Tok {
    Word(String),
    Op(&'static str),
}

fn tokens(s: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars().peekable();
    let flush = |cur: &mut String, in_word: &mut bool, out: &mut Vec<Tok>| {
        if *in_word {
            out.push(Tok::Word(std::mem::take(cur)));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for n in chars.by_ref() {
                    if n == '\'' {
                        break;
                    }
                    cur.push(n);
                }
            }
            '"' => {
                in_word = true;
                while let Some(n) = chars.next() {
                    match n {
                        '"' => break,
                        '\\' => {
                            if let Some(e) = chars.next() {
                                cur.push(e);
                            }
                        }
                        _ => cur.push(n),
                    }
                }
            }
            '\\' => {
                // A backslash-newline is a continuation; otherwise an escape.
                match chars.next() {
                    Some('\n') | None => {}
                    Some(e) => {
                        cur.push(e);
                        in_word = true;
                    }
                }
            }
            '#' if !in_word => {
                // A comment runs to the end of the line.
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
                flush(&mut cur, &mut in_word, &mut out);
                out.push(Tok::Op(";"));
            }
            '&' | '|' | ';' | '\n' | '(' | ')' => {
                flush(&mut cur, &mut in_word, &mut out);
                let op = match (c, chars.peek()) {
                    ('&', Some('&')) => {
                        chars.next();
                        "&&"
                    }
                    ('|', Some('|')) => {
                        chars.next();
                        "||"
                    }
                    ('|', _) => "|",
                    _ => ";",
                };
                out.push(Tok::Op(op));
            }
            c if c.is_whitespace() => flush(&mut cur, &mut in_word, &mut out),
            c => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    flush(&mut cur, &mut in_word, &mut out);
    out
}

/// The simple commands of a script, in order.
pub fn commands(script: &str) -> Vec<Cmd> {
    let mut out = Vec::new();
    let mut words: Vec<String> = Vec::new();
    for t in tokens(script) {
        match t {
            Tok::Word(w) => words.push(w),
            Tok::Op(op) => {
                if let Some(c) = simple(std::mem::take(&mut words), op == "|") {
                    out.push(c);
                }
            }
        }
    }
    if let Some(c) = simple(words, false) {
        out.push(c);
    }
    out
}

fn simple(words: Vec<String>, piped: bool) -> Option<Cmd> {
    let mut it = words.into_iter().peekable();
    let mut sudo = false;
    loop {
        let w = it.peek()?;
        let base = w.rsplit('/').next().unwrap_or(w);
        if is_assignment(w)
            || matches!(
                base,
                "exec" | "time" | "nohup" | "command" | "then" | "do" | "else" | "!"
            )
        {
            it.next();
        } else if base == "env" {
            it.next();
            while it
                .peek()
                .is_some_and(|w| w.starts_with('-') || is_assignment(w))
            {
                it.next();
            }
        } else if base == "sudo" {
            sudo = true;
            it.next();
            // sudo's own options, including those taking a value.
            while let Some(w) = it.peek() {
                if matches!(w.as_str(), "-u" | "-g" | "-C" | "-h" | "-p" | "-U") {
                    it.next();
                    it.next();
                } else if w.starts_with('-') {
                    it.next();
                } else {
                    break;
                }
            }
        } else {
            break;
        }
    }
    let first = it.next()?;
    let name = first.rsplit('/').next().unwrap_or(&first).to_string();
    Some(Cmd {
        name,
        args: it.collect(),
        sudo,
        piped,
    })
}

fn is_assignment(w: &str) -> bool {
    match w.split_once('=') {
        Some((k, _)) => {
            !k.is_empty()
                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !k.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_commands_and_strips_wrappers() {
        let c = commands(
            "DEBIAN_FRONTEND=noninteractive sudo -E apt-get install -qy 'a b' && curl -sL x | bash -s -- ; cd /x # cd here\n",
        );
        let names: Vec<_> = c.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["apt-get", "curl", "bash", "cd"]);
        assert!(c[0].sudo && c[0].has_opt('y', "--yes"));
        assert_eq!(c[0].subcommand(), Some("install"));
        assert!(c[0].has(&["a b"]));
        assert!(c[1].piped && !c[2].piped);
    }

    #[test]
    fn never_panics() {
        for s in [
            "'", "\"\\", "\\", "&&&|||;;", "env -", "sudo -u", "((", "é|ü",
        ] {
            let _ = commands(s);
        }
    }
}
