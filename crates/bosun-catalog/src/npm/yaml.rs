//! A small YAML tree for lock files, built from yaml-rust2's event stream so
//! that depth and size stay bounded (its own loader expands aliases by
//! copying, which a hostile file can turn exponential).

use yaml_rust2::Event;
use yaml_rust2::parser::Parser;

/// Lock files nest a handful of levels; this is far beyond any real one.
const MAX_DEPTH: usize = 64;
/// About 20 nodes per locked package: room for several hundred thousand.
const MAX_NODES: usize = 10_000_000;

/// Every scalar is kept as its text: lock files are read as strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Node {
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub(crate) fn str(&self) -> Option<&str> {
        match self {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// A map's entries; empty for anything else.
    pub(crate) fn entries(&self) -> &[(String, Node)] {
        match self {
            Node::Map(m) => m,
            _ => &[],
        }
    }
}

enum Frame {
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>, Option<String>),
}

/// The first document of `text`.
pub(crate) fn parse(text: &str) -> Result<Node, String> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut nodes = 0usize;
    loop {
        let (event, mark) = parser
            .next_token()
            .map_err(|e| format!("invalid YAML: {e}"))?;
        let where_ = || format!("line {}", mark.line());
        let node = match event {
            Event::StreamEnd => return Ok(Node::Map(Vec::new())),
            Event::Scalar(v, ..) => Node::Scalar(v),
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(format!(
                        "YAML nested deeper than {MAX_DEPTH} at {}",
                        where_()
                    ));
                }
                stack.push(match event {
                    Event::SequenceStart(..) => Frame::Seq(Vec::new()),
                    _ => Frame::Map(Vec::new(), None),
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq(v)) => Node::Seq(v),
                Some(Frame::Map(m, _)) => Node::Map(m),
                None => return Err(format!("unbalanced YAML at {}", where_())),
            },
            Event::Alias(_) => {
                return Err(format!(
                    "YAML alias at {} (not used by lock files)",
                    where_()
                ));
            }
            _ => continue,
        };
        nodes += 1;
        if nodes > MAX_NODES {
            return Err(format!("more than {MAX_NODES} YAML nodes"));
        }
        match stack.last_mut() {
            None => return Ok(node),
            Some(Frame::Seq(v)) => v.push(node),
            Some(Frame::Map(m, key)) => match key.take() {
                Some(k) => m.push((k, node)),
                None => match node {
                    Node::Scalar(s) => *key = Some(s),
                    _ => return Err(format!("complex YAML mapping key at {}", where_())),
                },
            },
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_tree() {
        let n = parse("a: 1\nb:\n  - x\n  - {c: 'd'}\n").unwrap();
        assert_eq!(n.get("a").and_then(Node::str), Some("1"));
        let Some(Node::Seq(b)) = n.get("b") else {
            panic!()
        };
        assert_eq!(b[1].get("c").and_then(Node::str), Some("d"));
    }

    #[test]
    fn hostile_yaml_is_an_error() {
        assert!(parse(&"[".repeat(100_000)).is_err());
        assert!(parse(&format!("{}1{}", "[".repeat(1000), "]".repeat(1000))).is_err());
        assert!(parse("a: &x [1, 2]\nb: [*x, *x]\n").is_err());
        assert!(parse("? [a]\n: b\n").is_err());
        assert!(parse("a: [unterminated\n").is_err());
        // Garbage must not panic, whatever it parses to.
        let _ = parse("\u{0}\u{1}: : - ]] }{");
    }
}
