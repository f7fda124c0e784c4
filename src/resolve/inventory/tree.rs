//! Any YAML or JSON document as a loose tree: every value with where it is
//! written. The importers read a file into this shape and check it
//! afterwards, so they can say what is wrong in the terms of their format.
//!
//! The tree is built from the events of `granit-parser` (the parser under
//! serde-saphyr): scalars are kept as written (labels are compared as
//! strings, so `rack: 01` stays `01`), aliases are expanded within a budget,
//! `<<` merge keys are applied, and a key given twice in one mapping is an
//! error.

use serde_saphyr::granit_parser::{self, Event, Parser, ScalarStyle, StructureStyle};
use std::collections::{HashMap, HashSet};

#[derive(Clone)]
pub(super) enum Node {
    /// `null`, `~` or nothing.
    Null,
    /// A string, number or boolean, as written (after quotes and escapes).
    Scalar(String),
    List(Vec<Spanned<Node>>),
    /// The keys in file order, each with where it is written.
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
}

/// Where a value is written: its first byte (a quote or bracket included),
/// and how many bytes a scalar takes (0 for a block collection or an empty
/// value).
#[derive(Clone, Copy, Debug)]
pub(super) struct At {
    pub start: usize,
    pub len: usize,
}

#[derive(Clone)]
pub(super) struct Spanned<T> {
    pub value: T,
    pub at: At,
}

impl Node {
    /// What the value is, in YAML's words, for messages.
    pub(super) fn what(&self) -> &'static str {
        match self {
            Node::Null => "an empty value",
            Node::Scalar(_) => "a single value",
            Node::List(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }

    /// What the value is, in JSON's words, for messages.
    pub(super) fn what_in_json(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Scalar(_) => "a string or number",
            Node::List(_) => "an array",
            Node::Map(_) => "an object",
        }
    }

    /// The value of `key` in a mapping.
    pub(super) fn get(&self, key: &str) -> Option<&Spanned<Node>> {
        match self {
            Node::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.value == key)
                .map(|(_, value)| value),
            _ => None,
        }
    }

    /// How many nodes the tree has, for the alias budget.
    fn size(&self) -> usize {
        match self {
            Node::Null | Node::Scalar(_) => 1,
            Node::List(items) => 1 + items.iter().map(|i| i.value.size()).sum::<usize>(),
            Node::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(_, v)| 1 + v.value.size())
                    .sum::<usize>()
            }
        }
    }
}

/// Why a document could not be read, and where.
#[derive(Debug)]
pub(super) struct ReadError {
    pub message: String,
    /// The byte where the problem is; `None` for the whole file.
    pub at: Option<At>,
}

/// Reads one document. An empty file (or one of comments only) is `Null`.
///
/// Expanding aliases may make at most `max(4 * text length, 10,000)` nodes:
/// a few lines of anchors must not make millions of nodes.
pub(super) fn read(text: &str) -> Result<Spanned<Node>, ReadError> {
    let mut options = granit_parser::Options::default();
    options.emit_comments = false;
    let mut reader = Reader {
        text,
        parser: Parser::new_from_str_with_options(text, options),
        anchors: HashMap::new(),
        nodes: 0,
        budget: text.len().saturating_mul(4).max(10_000),
    };
    reader.document()
}

struct Reader<'t> {
    text: &'t str,
    parser: Parser<'t, granit_parser::StrInput<'t>>,
    /// Anchored nodes by anchor id, with their size.
    anchors: HashMap<usize, (Spanned<Node>, usize)>,
    nodes: usize,
    budget: usize,
}

type Located<'t> = (Event<'t>, granit_parser::Span);

impl<'t> Reader<'t> {
    fn next(&mut self) -> Result<Located<'t>, ReadError> {
        match self.parser.next_event() {
            Some(Ok(event)) => Ok(event),
            Some(Err(error)) => {
                let marker = error.marker();
                let start = self.offset(marker);
                Err(ReadError {
                    message: error.info().to_string(),
                    at: (marker.line() > 0).then_some(At { start, len: 0 }),
                })
            }
            None => Err(ReadError {
                message: "unexpected end of input".into(),
                at: None,
            }),
        }
    }

    /// The byte offset of a parser position.
    fn offset(&self, marker: &granit_parser::Marker) -> usize {
        let offset = marker.byte_offset().unwrap_or_else(|| {
            self.text
                .char_indices()
                .nth(marker.index())
                .map_or(self.text.len(), |(i, _)| i)
        });
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    fn document(&mut self) -> Result<Spanned<Node>, ReadError> {
        let mut root: Option<Spanned<Node>> = None;
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentEnd => {}
                Event::StreamEnd => break,
                Event::DocumentStart(..) if root.is_some() => {
                    return Err(ReadError {
                        message: "an inventory is one YAML document; this file has several".into(),
                        at: Some(At {
                            start: self.offset(&span.start),
                            len: 0,
                        }),
                    });
                }
                Event::DocumentStart(..) => {
                    let (event, span) = self.next()?;
                    if matches!(event, Event::DocumentEnd) {
                        root = Some(Spanned {
                            value: Node::Null,
                            at: At { start: 0, len: 0 },
                        });
                    } else {
                        root = Some(self.node(event, span)?);
                    }
                }
                _ => {}
            }
        }
        Ok(root.unwrap_or(Spanned {
            value: Node::Null,
            at: At { start: 0, len: 0 },
        }))
    }

    /// The node that starts with `event`, read to its end.
    fn node(
        &mut self,
        event: Event<'t>,
        span: granit_parser::Span,
    ) -> Result<Spanned<Node>, ReadError> {
        let start = self.offset(&span.start);
        self.count(1, start)?;
        let (node, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let end = self.offset(&span.end);
                let null = tag.is_none()
                    && style == ScalarStyle::Plain
                    && matches!(text.as_ref(), "" | "~" | "null" | "Null" | "NULL");
                let len = if null && text.is_empty() {
                    0
                } else {
                    end - start
                };
                let value = if null {
                    Node::Null
                } else {
                    Node::Scalar(text.into_owned())
                };
                (
                    Spanned {
                        value,
                        at: At { start, len },
                    },
                    anchor,
                )
            }
            Event::SequenceStart(style, anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (event, span) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(event, span)?);
                }
                (self.collection(Node::List(items), style, start), anchor)
            }
            Event::MappingStart(style, anchor, _) => {
                let map = self.mapping()?;
                (self.collection(map, style, start), anchor)
            }
            Event::Alias(id) => {
                let (node, size) =
                    self.anchors
                        .get(&id)
                        .map(|(n, s)| (n.clone(), *s))
                        .ok_or(ReadError {
                            message: "alias to an anchor not defined before it".into(),
                            at: Some(At { start, len: 0 }),
                        })?;
                self.count(size, start)?;
                return Ok(node);
            }
            _ => {
                return Err(ReadError {
                    message: "unexpected YAML event".into(),
                    at: Some(At { start, len: 0 }),
                })
            }
        };
        if anchor != 0 {
            let size = node.value.size();
            self.anchors.insert(anchor, (node.clone(), size));
        }
        Ok(node)
    }

    fn collection(&self, value: Node, style: StructureStyle, start: usize) -> Spanned<Node> {
        let len = match style {
            StructureStyle::Flow => 1,
            StructureStyle::Block => 0,
        };
        Spanned {
            value,
            at: At { start, len },
        }
    }

    /// The entries of a mapping up to its end, with `<<` merged.
    fn mapping(&mut self) -> Result<Node, ReadError> {
        let mut entries: Vec<(Spanned<String>, Spanned<Node>)> = Vec::new();
        let mut merged: Vec<Spanned<Node>> = Vec::new();
        // Keys seen, once the mapping is too long to search.
        let mut seen: HashSet<String> = HashSet::new();
        loop {
            let (event, span) = self.next()?;
            if matches!(event, Event::MappingEnd) {
                break;
            }
            let key = self.node(event, span)?;
            let key_text = match key.value {
                Node::Scalar(text) => text,
                Node::Null => String::new(),
                other => {
                    return Err(ReadError {
                        message: format!(
                            "a mapping key must be a single value, not {}",
                            other.what()
                        ),
                        at: Some(key.at),
                    })
                }
            };
            let (event, span) = self.next()?;
            let value = self.node(event, span)?;
            if key_text == "<<" {
                merged.push(value);
                continue;
            }
            let duplicate = if entries.len() < 16 {
                entries.iter().any(|(k, _)| k.value == key_text)
            } else {
                if seen.is_empty() {
                    seen.extend(entries.iter().map(|(k, _)| k.value.clone()));
                }
                !seen.insert(key_text.clone())
            };
            if duplicate {
                return Err(ReadError {
                    message: format!("duplicate mapping key `{key_text}` is not allowed here"),
                    at: Some(key.at),
                });
            }
            entries.push((
                Spanned {
                    value: key_text,
                    at: key.at,
                },
                value,
            ));
        }
        // Merged keys never override the mapping's own, and the first merged
        // mapping wins over later ones.
        for source in merged {
            let at = source.at;
            let maps = match source.value {
                Node::List(items) => items,
                Node::Map(_) => vec![source],
                other => {
                    return Err(ReadError {
                        message: format!(
                            "`<<` merges a mapping or a list of mappings, not {}",
                            other.what()
                        ),
                        at: Some(at),
                    })
                }
            };
            for map in maps {
                let Node::Map(more) = map.value else {
                    return Err(ReadError {
                        message: format!("`<<` merges mappings, not {}", map.value.what()),
                        at: Some(map.at),
                    });
                };
                for (key, value) in more {
                    if !entries.iter().any(|(k, _)| k.value == key.value) {
                        entries.push((key, value));
                    }
                }
            }
        }
        Ok(Node::Map(entries))
    }

    /// Counts `n` more nodes against the budget.
    fn count(&mut self, n: usize, start: usize) -> Result<(), ReadError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.budget {
            return Err(ReadError {
                message: format!(
                    "expanding aliases makes more than {} values; an inventory of plain data needs no aliases this deep",
                    self.budget
                ),
                at: Some(At { start, len: 0 }),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree as compact text: scalars as written, `~` for null.
    fn show(node: &Node) -> String {
        match node {
            Node::Null => "~".into(),
            Node::Scalar(text) => text.clone(),
            Node::List(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(|i| show(&i.value))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Node::Map(entries) => format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|(k, v)| format!("{}: {}", k.value, show(&v.value)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn read_ok(text: &str) -> String {
        match read(text) {
            Ok(node) => show(&node.value),
            Err(error) => panic!("{text:?} did not read: {}", error.message),
        }
    }

    fn read_err(text: &str) -> (String, Option<usize>) {
        match read(text) {
            Ok(node) => panic!("{text:?} read as {}", show(&node.value)),
            Err(error) => (error.message, error.at.map(|at| at.start)),
        }
    }

    #[test]
    fn scalars_are_kept_as_written() {
        assert_eq!(
            read_ok("rack: 01\nheight: 1.10\nup: yes\nname: 'a # b'\nnote: \"x\\ty\"\n"),
            "{rack: 01, height: 1.10, up: yes, name: a # b, note: x\ty}"
        );
        assert_eq!(
            read_ok("a: ~\nb: null\nc:\nd: ''\n"),
            "{a: ~, b: ~, c: ~, d: }"
        );
        assert_eq!(read_ok(""), "~");
        assert_eq!(read_ok("# only a comment\n"), "~");
    }

    #[test]
    fn positions_cover_what_is_written() {
        let text = "bmcs:\n  - name: \"n1\"\n    addresses: [10.0.0.1, 10.0.0.2]\n";
        let root = read(text).expect("reads");
        let bmcs = root.value.get("bmcs").expect("bmcs");
        assert_eq!(
            (bmcs.at.start, bmcs.at.len),
            (8, 0),
            "a block list: no length"
        );
        let Node::List(entries) = &bmcs.value else {
            panic!("a list")
        };
        let name = entries[0].value.get("name").expect("name");
        assert_eq!(&text[name.at.start..name.at.start + name.at.len], "\"n1\"");
        let addresses = entries[0].value.get("addresses").expect("addresses");
        assert_eq!(&text[addresses.at.start..addresses.at.start + 1], "[");
        let Node::List(items) = &addresses.value else {
            panic!("a list")
        };
        assert_eq!(
            &text[items[1].at.start..items[1].at.start + items[1].at.len],
            "10.0.0.2"
        );
    }

    #[test]
    fn aliases_and_merge_keys_are_expanded() {
        let text = "defaults: &d {vendor: dell, site: ams1}\nhosts:\n  - <<: *d\n    name: a\n    site: fra1\n  - *d\n";
        assert_eq!(
            read_ok(text),
            "{defaults: {vendor: dell, site: ams1}, hosts: [{name: a, site: fra1, vendor: dell}, {vendor: dell, site: ams1}]}"
        );
        assert_eq!(
            read_ok("a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<: [*a, *b]\n"),
            "{a: {x: 1}, b: {x: 2, y: 2}, c: {x: 1, y: 2}}"
        );
        let (message, _) = read_err("a: 1\nb:\n  <<: [1, 2]\n");
        assert_eq!(message, "`<<` merges mappings, not a single value");
    }

    #[test]
    fn alias_expansion_is_bounded() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (i, name) in ["b", "c", "d", "e", "f", "g"].iter().enumerate() {
            let prev = if i == 0 {
                "a"
            } else {
                ["b", "c", "d", "e", "f"][i - 1]
            };
            text.push_str(&format!(
                "{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        let (message, at) = read_err(&text);
        assert!(
            message.starts_with("expanding aliases makes more than 10000 values"),
            "{message}"
        );
        assert!(at.is_some());
    }

    #[test]
    fn duplicate_keys_and_several_documents_are_errors() {
        assert_eq!(
            read_err("name: a\nname: b\n"),
            (
                "duplicate mapping key `name` is not allowed here".into(),
                Some(8)
            )
        );
        let long: String = (0..40).map(|i| format!("k{i}: v\n")).collect();
        let (message, at) = read_err(&format!("{long}k3: again\n"));
        assert_eq!(message, "duplicate mapping key `k3` is not allowed here");
        assert_eq!(at, Some(long.len()));
        let (message, at) = read_err("a: 1\n---\nb: 2\n");
        assert_eq!(
            message,
            "an inventory is one YAML document; this file has several"
        );
        assert_eq!(at, Some(5));
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let (message, at) = read_err("bmcs:\n  - name: a\n    addresses: [10.0.0.1, 10.0.0.2\n");
        assert_eq!(message, "unclosed bracket '['");
        assert_eq!(at, Some(33), "at the opening bracket");
        assert_eq!(
            read_err("a: [x, *nowhere]\n").0,
            "while parsing node, found unknown anchor"
        );
    }
}
