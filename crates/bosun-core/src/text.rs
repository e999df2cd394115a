//! Text from an image (package names, versions, paths, layer entry names,
//! label values) or from advisory feeds, made safe for a terminal.
//!
//! Any of it may be hostile: an OSC sequence retitles the terminal window
//! (`ESC ] 0 ; pwned BEL`), a CSI sequence clears the screen or moves the
//! cursor over earlier lines, a newline forges a row, a bidi override
//! (`U+202E`) shows a name backwards ("Trojan Source"), a zero-width
//! character makes two names look the same. Every place bosun shows such
//! text on a terminal goes through one of these functions:
//!
//! - [`one_line`] for table cells and messages: escape sequences dropped
//!   whole, other control characters (newlines, tabs) turned into one space,
//!   invisible format characters dropped, length bounded;
//! - [`clean`], the same without a length bound;
//! - [`escape`] for error messages and warnings, where the user must see
//!   what the bytes were: every control and invisible character is written
//!   as a visible escape (`\u{1b}`, `\n`), nothing is dropped.
//!
//! Hand-written: the crates that strip ANSI (`strip-ansi-escapes`,
//! `console`) neither drop C1 controls, bidi overrides and zero-width
//! characters nor bound the work on a huge string; this is forty lines.

/// `s` on one line, with at most `max` characters (`...` marks a cut).
/// Terminal escape sequences (CSI `ESC [ ... final`, OSC `ESC ] ... BEL|ST`,
/// their C1 forms, two-character `ESC x`) are dropped whole; other control
/// characters and whitespace runs become one space; bidi embeddings,
/// overrides and isolates, zero-width characters and the BOM are dropped;
/// leading and trailing space is trimmed. Reading stops once `max` is
/// reached, so a 1 MB string costs no more than a short one.
pub fn one_line(s: &str, max: usize) -> String {
    let mut out = String::new();
    let mut n = 0usize;
    let mut space = false;
    let mut cut = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                match chars.next_if(|c| *c == '[' || *c == ']') {
                    Some('[') => skip_csi(&mut chars),
                    Some(_) => skip_osc(&mut chars),
                    // Two-character escapes (`ESC c`, `ESC 7`...).
                    None => {
                        chars.next();
                    }
                }
                continue;
            }
            '\u{9b}' => {
                skip_csi(&mut chars);
                continue;
            }
            '\u{9d}' => {
                skip_osc(&mut chars);
                continue;
            }
            _ => {}
        }
        if c.is_control() || c.is_whitespace() {
            space = n > 0;
            continue;
        }
        if is_invisible(c) {
            continue;
        }
        if n.saturating_add(1 + usize::from(space)) > max {
            cut = true;
            break;
        }
        if space {
            out.push(' ');
            n += 1;
            space = false;
        }
        out.push(c);
        n += 1;
    }
    if cut {
        while n + 3 > max && out.pop().is_some() {
            n -= 1;
        }
        out.truncate(out.trim_end().len());
        out.push_str("...");
    }
    out
}

/// [`one_line`] without a length bound.
pub fn clean(s: &str) -> String {
    one_line(s, usize::MAX)
}

/// `s` with every control character (escape sequence introducers included)
/// and invisible format character written visibly (`\n`, `\t`, `\r`, the
/// others as `\u{1b}`), for error messages and warnings that
/// must show what a hostile name really was without letting it act on the
/// terminal. Printable text, quotes and backslashes are kept as they are.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_invisible(c) => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out
}

/// An error and its causes on one line (`what: cause: cause`), for places
/// that keep an error as text (an SBOM's unknowns, a feed's status): error
/// types put their cause in `source()`, not in their own message, so
/// `to_string()` alone would lose it.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let t = c.to_string();
        if !s.ends_with(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cause = c.source();
    }
    s
}

/// True when `s` holds nothing [`escape`] or [`clean`] would change.
pub fn is_plain(s: &str) -> bool {
    !s.chars().any(|c| c.is_control() || is_invisible(c))
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// Past a CSI sequence's parameter and intermediate bytes and its final
/// byte; a character that cannot be part of one ends it unconsumed.
fn skip_csi(chars: &mut Chars<'_>) {
    while chars
        .next_if(|c| ('\u{20}'..='\u{3f}').contains(c))
        .is_some()
    {}
    chars.next_if(|c| ('\u{40}'..='\u{7e}').contains(c));
}

/// Past an OSC string: up to BEL or ST (`ESC \\`), or any other control
/// character, which is left for the caller.
fn skip_osc(chars: &mut Chars<'_>) {
    while let Some(c) = chars.next_if(|c| !c.is_control() || *c == '\u{7}') {
        if c == '\u{7}' {
            return;
        }
    }
    if chars.next_if_eq(&'\u{1b}').is_some() {
        chars.next_if_eq(&'\\');
    }
}

/// Format characters that change how a terminal or browser shows the text
/// around them: bidi marks, embeddings, overrides and isolates (including
/// the Arabic letter mark), zero-width characters, word joiners and
/// invisible operators, the BOM.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_cleans_and_cuts() {
        assert_eq!(one_line("a\n\tb\u{1b}[1;31m  c ", 80), "a b c");
        assert_eq!(
            one_line("x\u{1b}]8;;http://e\u{7}y\u{1b}]0;t\u{1b}\\z\u{9b}2Jw", 80),
            "xyzw"
        );
        assert_eq!(one_line("a\u{1b}cb\u{1b}", 80), "ab");
        assert_eq!(one_line("a\u{1b}[31\nb", 80), "a b");
        assert_eq!(one_line("x\u{202E}y\u{200B}z", 80), "xyz");
        assert_eq!(one_line("abcdefghij", 10), "abcdefghij");
        assert_eq!(one_line("abcdefghijk", 10), "abcdefg...");
        assert_eq!(one_line("ab  \n", 2), "ab");
        assert_eq!(one_line(&"é".repeat(1 << 20), 20).chars().count(), 20);
        assert_eq!(one_line("", 5), "");
        assert_eq!(
            clean("evil\u{1b}]0;pwned\u{7}\u{1b}[2J\u{202e}pkg\nrow"),
            "evilpkg row"
        );
    }

    #[test]
    fn escape_shows_everything_and_drops_nothing() {
        assert_eq!(
            escape("a\u{1b}]0;pwned\u{7}\u{1b}[2J\u{202e}b\nc\u{9b}"),
            "a\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{202e}b\\nc\\u{9b}"
        );
        assert_eq!(escape("plain \"path\" é"), "plain \"path\" é");
        assert!(is_plain("plain é"));
        assert!(!is_plain("a\u{200b}"));
    }
}
