//! The YAML front door: manifest text to `serde_json::Value`, in bounded
//! time and memory whatever the input; and [`check`], the same bounds for
//! readers that hand a small text on to serde (`bosun.yaml`, the ignore
//! file), so no YAML bosun reads is quadratic in its nesting.
//!
//! Why not `serde_norway::from_str` (what this used): libyaml, under it,
//! re-checks every pending "simple key" (one per open flow collection) on
//! every token, so nesting N deep costs N² (100k `[` took 23 s), and the
//! whole document is first kept as a vector of events (hundreds of bytes a
//! node) before its depth limit is checked. Its alias-expansion guard counts
//! jumps, not expanded nodes, so one big anchored list named a million times
//! expands without limit. Here yaml-rust2's pull parser is driven event by
//! event (its flow level is a `u8`, so its own per-token cost is bounded)
//! and the value is built on an explicit stack, stopping at the first limit:
//! nesting depth, nodes (aliases counted expanded).
//!
//! Scalars are resolved as Kubernetes resolves them (kubectl converts YAML
//! to JSON with go-yaml v2, YAML 1.1): `yes`/`on`/`y` are `true`, so
//! `privileged: yes` is privileged here as it is in the cluster. Merge keys
//! (`<<: *base`) are applied as go-yaml applies them.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

/// Deepest nesting of collections accepted. Real manifests stay under 30
/// (CRD schemas are the deepest); serde_json's own limit is 128.
pub const MAX_DEPTH: usize = 100;
/// Most nodes (scalars and collections, aliases counted expanded) in one
/// file: bounds the memory of the values kept (a node is 32 bytes and up)
/// and the time (about 0.3 µs a node); a big real manifest bundle has a
/// few hundred thousand.
pub const MAX_NODES: usize = 1_000_000;

/// Why a document was refused: what, and the 1-based line in the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub line: usize,
    pub message: String,
}

/// A collection being built.
enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
        nodes: usize,
    },
    Map {
        map: Map<String, Value>,
        /// Values of `<<` merge keys, applied when the mapping ends.
        merges: Vec<Value>,
        key: Option<String>,
        anchor: usize,
        nodes: usize,
        line: usize,
    },
}

/// Parses one YAML document (text after splitting at `---`). `budget` is
/// the nodes the file may still hold; it is decreased. `Ok(None)`: an
/// empty document.
pub fn parse_document(text: &str, budget: &mut usize) -> Result<Option<Value>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    // Anchored values and their node counts, for aliases.
    let mut anchors: HashMap<usize, (Value, usize)> = HashMap::new();
    let mut root: Option<Value> = None;
    let mut documents = 0usize;
    loop {
        let (event, mark) = parser.next_token().map_err(scan_error)?;
        let line = mark.line();
        let err = |message: String| YamlError { line, message };
        // A complete node: its value, its node count, its anchor.
        let node: (Value, usize, usize) = match event {
            Event::StreamEnd => break,
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    return Err(err("a second document where one was expected".into()));
                }
                continue;
            }
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => continue,
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(err(too_deep()));
                }
                take(budget, 1).map_err(err)?;
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: Vec::new(),
                        anchor,
                        nodes: 1,
                    }
                } else {
                    Frame::Map {
                        map: Map::new(),
                        merges: Vec::new(),
                        key: None,
                        anchor,
                        nodes: 1,
                        line,
                    }
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq {
                    items,
                    anchor,
                    nodes,
                }) => (Value::Array(items), nodes, anchor),
                Some(Frame::Map {
                    mut map,
                    merges,
                    anchor,
                    nodes,
                    line,
                    ..
                }) => {
                    merge(&mut map, merges).map_err(|m| YamlError { line, message: m })?;
                    (Value::Object(map), nodes, anchor)
                }
                None => return Err(err("collection end without a start".into())),
            },
            Event::Scalar(text, style, anchor, tag) => {
                take(budget, 1).map_err(err)?;
                let tag = tag.as_ref().map(|t| (t.handle.as_str(), t.suffix.as_str()));
                (resolve(text, style, tag), 1, anchor)
            }
            Event::Alias(id) => {
                let Some((v, n)) = anchors.get(&id) else {
                    return Err(err("alias to an unknown anchor".into()));
                };
                // Counted expanded: a billion laughs stops here.
                take(budget, *n).map_err(|_| {
                    err(format!(
                        "aliases expand to more than {MAX_NODES} nodes (an alias bomb)"
                    ))
                })?;
                (v.clone(), *n, 0)
            }
        };
        let (value, nodes, anchor) = node;
        if anchor != 0 {
            anchors.insert(anchor, (value.clone(), nodes));
        }
        match stack.last_mut() {
            None => root = Some(value),
            Some(Frame::Seq {
                items, nodes: n, ..
            }) => {
                *n += nodes;
                items.push(value);
            }
            Some(Frame::Map {
                map,
                merges,
                key,
                nodes: n,
                ..
            }) => {
                *n += nodes;
                match key.take() {
                    None => *key = Some(key_string(value).map_err(err)?),
                    Some(k) if k == "<<" => merges.push(value),
                    Some(k) => {
                        map.insert(k, value);
                    }
                }
            }
        }
    }
    Ok(root.filter(|v| !v.is_null()))
}

/// Checks a whole YAML stream (any number of documents) against the
/// limits [`parse_document`] enforces, nesting depth and nodes (aliases
/// counted expanded), without building values: linear in the text. A text
/// that passes can be given to `serde_norway`, whose parser (libyaml) costs
/// the square of the flow nesting and expands aliases without limit.
pub fn check(text: &str) -> Result<(), YamlError> {
    let mut parser = Parser::new_from_str(text);
    // Per open collection: its anchor and the node count when it opened.
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let mut anchors: HashMap<usize, usize> = HashMap::new();
    let mut nodes = 0usize;
    loop {
        let (event, mark) = parser.next_token().map_err(scan_error)?;
        let err = |message: String| YamlError {
            line: mark.line(),
            message,
        };
        let (anchor, size) = match event {
            Event::StreamEnd => return Ok(()),
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(err(too_deep()));
                }
                nodes += 1;
                stack.push((anchor, nodes));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some((anchor, start)) => (anchor, nodes - start + 1),
                None => return Err(err("collection end without a start".into())),
            },
            Event::Scalar(_, _, anchor, _) => {
                nodes += 1;
                (anchor, 1)
            }
            Event::Alias(id) => {
                let n = anchors.get(&id).copied().unwrap_or(1);
                nodes = nodes.saturating_add(n);
                (0, n)
            }
            _ => continue,
        };
        if nodes > MAX_NODES {
            return Err(err(format!(
                "more than {MAX_NODES} YAML nodes (aliases counted expanded)"
            )));
        }
        if anchor != 0 {
            anchors.insert(anchor, size);
        }
    }
}

fn scan_error(e: yaml_rust2::ScanError) -> YamlError {
    YamlError {
        line: e.marker().line(),
        // The scanner reads ahead while a flow collection could still be a
        // key, and stops at 255 open ones: the same limit, hit before the
        // parser gets there.
        message: if e.info() == "recursion limit exceeded" {
            too_deep()
        } else {
            e.info().to_string()
        },
    }
}

fn too_deep() -> String {
    format!("nested deeper than {MAX_DEPTH} levels")
}

fn take(budget: &mut usize, n: usize) -> Result<(), String> {
    *budget = budget
        .checked_sub(n)
        .ok_or_else(|| format!("more than {MAX_NODES} YAML nodes in the file"))?;
    Ok(())
}

/// A mapping key as a JSON object key, as go-yaml and sigs.k8s.io/yaml make
/// it: scalars by their text; a collection cannot be one.
fn key_string(v: Value) -> Result<String, String> {
    Ok(match v {
        Value::String(s) => s,
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(_) | Value::Object(_) => {
            return Err("a mapping key that is a collection; not a manifest".into());
        }
    })
}

/// Applies `<<` merge keys: entries of the merged mapping(s) that the
/// mapping does not set itself (in a list, earlier mappings win).
fn merge(map: &mut Map<String, Value>, merges: Vec<Value>) -> Result<(), String> {
    for m in merges {
        let sources = match m {
            Value::Object(o) => vec![o],
            Value::Array(a) => a
                .into_iter()
                .map(|v| match v {
                    Value::Object(o) => Ok(o),
                    _ => Err("a merge key (<<) list holds a non-mapping".to_string()),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err("a merge key (<<) names a non-mapping".into()),
        };
        for o in sources {
            for (k, v) in o {
                map.entry(k).or_insert(v);
            }
        }
    }
    Ok(())
}

/// A scalar's value: quoted and block scalars are strings; plain ones are
/// resolved by the YAML 1.1 rules go-yaml v2 applies (what kubectl uses).
fn resolve(text: String, style: TScalarStyle, tag: Option<(&str, &str)>) -> Value {
    // `!!str` arrives as handle `!!` or, expanded, `tag:yaml.org,2002:`.
    let core = tag.and_then(|(h, s)| matches!(h, "!!" | "tag:yaml.org,2002:").then_some(s));
    match core {
        Some("str") => return Value::String(text),
        Some("null") => return Value::Null,
        Some("bool" | "int" | "float") => {
            return plain(&text).unwrap_or(Value::String(text));
        }
        _ => {}
    }
    if style != TScalarStyle::Plain {
        return Value::String(text);
    }
    plain(&text).unwrap_or(Value::String(text))
}

/// The non-string value of a plain scalar, if it has one.
fn plain(s: &str) -> Option<Value> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return Some(Value::Bool(true));
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Some(Value::Bool(false));
        }
        _ => {}
    }
    let first = s.as_bytes().first()?;
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return None;
    }
    if let Some(n) = int(s) {
        return Some(Value::Number(n));
    }
    float(s)
}

/// YAML 1.1 integers: decimal, `0x` hex, `0b` binary, leading-`0` octal,
/// `_` separators.
fn int(s: &str) -> Option<Number> {
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    let (neg, digits) = match plain.as_bytes().first()? {
        b'-' => (true, &plain[1..]),
        b'+' => (false, &plain[1..]),
        _ => (false, plain.as_str()),
    };
    let (radix, body) = if let Some(h) = digits.strip_prefix("0x") {
        (16, h)
    } else if let Some(b) = digits.strip_prefix("0b") {
        (2, b)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(body, radix).ok()?;
    if neg {
        let v = i64::try_from(magnitude).ok()?;
        Some(Number::from(-v))
    } else {
        Some(Number::from(magnitude))
    }
}

/// YAML 1.1 floats (infinities and NaN have no JSON form and stay text, as
/// they would fail the API server's validation anyway).
fn float(s: &str) -> Option<Value> {
    let t = s.replace('_', "");
    let body = t.trim_start_matches(['-', '+']);
    let mut chars = body.chars().peekable();
    let mut digits = 0;
    while chars.peek().is_some_and(char::is_ascii_digit) {
        chars.next();
        digits += 1;
    }
    if chars.peek() == Some(&'.') {
        chars.next();
        while chars.peek().is_some_and(char::is_ascii_digit) {
            chars.next();
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if matches!(chars.peek(), Some('e' | 'E')) {
        chars.next();
        if matches!(chars.peek(), Some('-' | '+')) {
            chars.next();
        }
        if !chars.peek().is_some_and(char::is_ascii_digit) {
            return None;
        }
        chars
            .by_ref()
            .take_while(char::is_ascii_digit)
            .for_each(drop);
    }
    if chars.next().is_some() {
        return None;
    }
    t.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
}

/// An upper bound of the nodes in a JSON text (values are separated by `,`
/// or `:` or open a collection), without parsing it: a huge flat array is
/// refused before serde_json builds it.
pub fn json_nodes(text: &str) -> usize {
    let mut n = 1;
    let mut in_str = false;
    let mut esc = false;
    for &b in text.as_bytes() {
        if in_str {
            match b {
                _ if esc => esc = false,
                b'\\' => esc = true,
                b'"' => in_str = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_str = true,
                b',' | b':' | b'[' | b'{' => n += 1,
                _ => {}
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(s: &str) -> Value {
        let mut b = MAX_NODES;
        parse_document(s, &mut b).unwrap().unwrap()
    }

    #[test]
    fn values_as_kubectl_sees_them() {
        let v = doc(
            "a: yes\nb: off\nc: '1'\nd: 010\ne: 0x1f\nf: 1_000\ng: 1.5e3\nh: ~\ni: text\nj: |\n  x\nk: !!str true\n1: n\nl: -.inf\nm: 1.2.3\n",
        );
        assert_eq!(
            v,
            json!({"a": true, "b": false, "c": "1", "d": 8, "e": 31, "f": 1000, "g": 1500.0,
                   "h": null, "i": "text", "j": "x\n", "k": "true", "1": false, "l": "-.inf", "m": "1.2.3"})
        );
    }

    #[test]
    fn merge_keys_and_aliases() {
        let v = doc(
            "base: &b {privileged: true, runAsUser: 0}\nsc:\n  <<: *b\n  runAsUser: 1000\nlist: [*b]\n",
        );
        assert_eq!(v["sc"], json!({"privileged": true, "runAsUser": 1000}));
        assert_eq!(v["list"][0]["runAsUser"], 0);
    }

    #[test]
    fn limits_name_the_line() {
        let mut b = MAX_NODES;
        let deep = format!("a: 1\nb: {}\n", "[".repeat(MAX_DEPTH + 5));
        let e = parse_document(&deep, &mut b).unwrap_err();
        assert_eq!(e.line, 2, "{e:?}");
        assert!(e.message.contains("deeper than"), "{e:?}");
        let mut b = 10;
        let e = parse_document("a: &a [1,2,3,4]\nb: [*a, *a]\n", &mut b).unwrap_err();
        assert!(e.message.contains("aliases expand"), "{e:?}");
        assert_eq!(json_nodes(r#"[1,"a,b",{"c":[2]}]"#), 7);
    }

    #[test]
    fn check_bounds_depth_and_aliases_in_every_document() {
        assert_eq!(check("a: 1\n---\nb: [1, {c: 2}]\n"), Ok(()));
        let deep = format!("a: 1\n---\nb: {}\n", "[".repeat(100_000));
        let t = std::time::Instant::now();
        let e = check(&deep).unwrap_err();
        assert!(e.message.contains("deeper than"), "{e:?}");
        assert_eq!(e.line, 3, "{e:?}");
        assert!(t.elapsed() < std::time::Duration::from_secs(2));
        // Nine levels of ten aliases each: 10^9 nodes expanded.
        let mut laughs = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            laughs.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = check(&laughs).unwrap_err();
        assert!(e.message.contains("aliases counted expanded"), "{e:?}");
    }
}
