//! Prints the built-in secret rules' regexes one per line, as ripgrep's
//! `-f FILE` takes them (scripts/bench.sh --secrets searches with them).
//! ripgrep joins the lines into one alternation, where the rules' shared
//! group names (`s`, `s2`) would clash, so groups become non-capturing:
//! what matches is unchanged.
//!
//! Usage: cargo run --release -p bosun-secret --example rule_patterns > patterns.txt

fn main() {
    for (_, regex) in bosun_secret::builtin_patterns() {
        println!("{}", without_group_names(regex));
    }
}

fn without_group_names(regex: &str) -> String {
    let mut out = String::with_capacity(regex.len());
    let mut rest = regex;
    while let Some(i) = rest.find("(?P<") {
        out.push_str(&rest[..i]);
        out.push_str("(?:");
        rest = &rest[i..];
        rest = rest.find('>').map_or("", |j| &rest[j + 1..]);
    }
    out.push_str(rest);
    out
}
