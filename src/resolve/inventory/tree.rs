//! Any YAML or JSON document as a loose tree: every value with where it is
//! written. The importers read a file into this shape and check it
//! afterwards, so they can say what is wrong in the terms of their format.
//!
//! The tree is built from the events of libyaml (its safe Rust port,
//! `libyaml-safer`), the parser PyYAML and so Ansible use: a file is YAML here
//! exactly when it is YAML to them, and syntax errors read the same. Scalars
//! are kept as written (labels are compared as strings, so `rack: 01` stays
//! `01`), aliases are expanded within a budget, `<<` merge keys are applied,
//! and a key given twice in one mapping is an error.

use libyaml_safer::{Event, EventData, MappingStyle, Mark, Parser, ScalarStyle, SequenceStyle};
use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;

mod block;
mod json;
mod panics;

/// How deep lists and mappings may nest in one document: far more than any
/// inventory format uses, far less than what would exhaust the stack.
pub(crate) const MAX_DEPTH: usize = 64;

/// A scalar's or key's text: most are short (`slug`, `dell`, `10.0.0.5`)
/// and kept inline, without an allocation of their own; an export of
/// 10,000 devices has a million of them.
pub(super) type Text = compact_str::CompactString;

#[derive(Clone)]
pub(super) enum Node {
    /// `null`, `~` or nothing.
    Null,
    /// A string, number or boolean, as written (after quotes and escapes).
    Scalar(Text),
    List(Vec<Spanned<Node>>),
    /// The keys in file order, each with where it is written.
    Map(Vec<Entry>),
}

/// A key of a mapping, and its value.
pub(super) type Entry = (Spanned<Text>, Spanned<Node>);

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
    /// What the parser was reading when it met the problem (`a flow
    /// sequence`), and where that starts.
    pub context: Option<(String, At)>,
}

impl ReadError {
    fn at(message: impl Into<String>, at: At) -> Self {
        Self {
            message: message.into(),
            at: Some(at),
            context: None,
        }
    }

    /// A syntax error: at the problem, with what the parser was reading and
    /// where it started. A problem at the end of the text (an unclosed
    /// bracket) is shown where the unclosed thing starts.
    fn syntax(error: &libyaml_safer::Error, text: &str, positions: &Positions) -> Self {
        // A bracket is marked alone; anything else, as far as its token goes.
        let offset = |mark: Mark| {
            let start = positions.offset(text, mark);
            let bracket = text[start..].starts_with(['[', '{']);
            At {
                start,
                len: usize::from(bracket),
            }
        };
        let problem = error.problem_mark().map(offset);
        let context = error
            .context()
            .zip(error.context_mark().map(offset))
            .map(|(what, at)| {
                let what = what
                    .trim_start_matches("while parsing ")
                    .trim_start_matches("while scanning ");
                (what.to_string(), at)
            });
        let message = match error.context() {
            Some(context) => format!("{context}, {}", error.problem()),
            None => error.problem().to_string(),
        };
        let at_end = problem.is_some_and(|at| text[at.start..].trim().is_empty());
        match (problem, context) {
            (_, Some((what, context))) if at_end => Self {
                message,
                at: Some(context),
                context: Some((format!("{what} starts here and is not closed"), context)),
            },
            (at, context) => Self {
                message,
                at,
                context: context.map(|(what, at)| (format!("{what} starts here"), at)),
            },
        }
    }
}

/// Whether a plain scalar written `text` is null to YAML: `null`, `~` or
/// nothing.
fn plain_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// The keys of a mapping being read, for telling a key given twice: the
/// entries are searched while they are few, a set of them kept once they
/// are many (a mapping of 10,000 hosts).
#[derive(Default)]
struct Seen(HashSet<Text>);

impl Seen {
    /// Whether `key` is one of `entries`' keys (the entries read so far).
    fn repeated(&mut self, entries: &[Entry], key: &str) -> bool {
        if entries.len() < 16 {
            return entries.iter().any(|(k, _)| k.value == key);
        }
        if self.0.is_empty() {
            self.0.extend(entries.iter().map(|(k, _)| k.value.clone()));
        }
        !self.0.insert(Text::from(key))
    }
}

/// A list or mapping that starts at `start`: a flow one covers its bracket.
fn collection(value: Node, flow: bool, start: usize) -> Spanned<Node> {
    Spanned {
        value,
        at: At {
            start,
            len: usize::from(flow),
        },
    }
}

/// Where the parser's positions are in the file as written: the same, but
/// for a byte order mark, which the parser skips without counting, and
/// surrogate pairs joined (see [`read_json`]): each moved the text after it
/// two bytes back.
#[derive(Default)]
struct Positions {
    /// The length of the byte order mark the text starts with, if any.
    bom: usize,
    /// Where each joined pair ends, in the text the parser reads.
    joined: Vec<usize>,
}

impl Positions {
    /// The byte offset in `text` (as written) of a parser position.
    fn offset(&self, text: &str, mark: Mark) -> usize {
        let read = usize::try_from(mark.index)
            .unwrap_or(usize::MAX)
            .saturating_add(self.bom);
        let before = self.joined.partition_point(|&end| end <= read);
        let mut offset = read.saturating_add(2 * before).min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }
}

/// Reads a JSON document, with the JSON reader (`json.rs`). Text that is not
/// JSON but is YAML flow syntax (unquoted keys, comments, a `,` before a
/// closing bracket), as Ansible's YAML reader takes it, is read as YAML, as
/// it always was; an error is then JSON's. JSON writes a character beyond
/// U+FFFF as a pair of UTF-16 surrogate escapes (`"\ud83d\ude00"`, as
/// Python's `json` module does), which YAML does not have; for the YAML
/// reader each pair is read as YAML's `\U0001f600` instead.
pub(super) fn read_json(text: &str) -> Result<Spanned<Node>, ReadError> {
    json::read(text).or_else(|error| {
        let (joined, positions) = join_surrogate_pairs(text);
        match read_as(text, joined.as_deref().unwrap_or(text), positions, false) {
            Ok(mut documents) => Ok(documents.pop().unwrap_or(Spanned {
                value: Node::Null,
                at: At { start: 0, len: 0 },
            })),
            Err(_) => Err(error),
        }
    })
}

/// `text` with every surrogate pair escape in a string joined into one
/// `\U` escape, if it has any, and where each joined pair ends.
fn join_surrogate_pairs(text: &str) -> (Option<String>, Positions) {
    fn escape_at(bytes: &[u8], at: usize, range: std::ops::RangeInclusive<u32>) -> Option<u32> {
        let hex = bytes.get(at..at + 6)?;
        if &hex[..2] != b"\\u" {
            return None;
        }
        let value = u32::from_str_radix(std::str::from_utf8(&hex[2..]).ok()?, 16).ok()?;
        range.contains(&value).then_some(value)
    }
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut positions = Positions::default();
    let (mut copied, mut at, mut backslashes) = (0, 0, 0);
    while at < bytes.len() {
        if bytes[at] != b'\\' {
            backslashes = 0;
            at += 1;
            continue;
        }
        // An escape starts here unless this backslash is itself escaped.
        let escaped = backslashes % 2 == 1;
        backslashes += 1;
        let pair = (!escaped)
            .then(|| escape_at(bytes, at, 0xd800..=0xdbff))
            .flatten()
            .zip(escape_at(bytes, at + 6, 0xdc00..=0xdfff));
        let Some((high, low)) = pair else {
            at += 1;
            continue;
        };
        let joined = 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00);
        let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
        out.push_str(&text[copied..at]);
        out.push_str(&format!("\\U{joined:08x}"));
        positions.joined.push(out.len());
        at += 12;
        copied = at;
        backslashes = 0;
    }
    if let Some(out) = &mut out {
        out.push_str(&text[copied..]);
    }
    (out, positions)
}

/// Reads one document. An empty file (or one of comments only) is `Null`.
///
/// Expanding aliases may make at most `max(4 * text length, 10,000)` nodes:
/// a few lines of anchors must not make millions of nodes.
pub(super) fn read(text: &str) -> Result<Spanned<Node>, ReadError> {
    if let Some(root) = block::read(text) {
        return Ok(root);
    }
    let mut documents = read_as(text, text, Positions::default(), false)?;
    Ok(documents.pop().unwrap_or(Spanned {
        value: Node::Null,
        at: At { start: 0, len: 0 },
    }))
}

/// Reads every document of a multi-document YAML stream (`---` between
/// them), as Kubernetes manifests are written; empty documents are left
/// out. The alias budget is the whole stream's.
pub(super) fn read_documents(text: &str) -> Result<Vec<Spanned<Node>>, ReadError> {
    read_as(text, text, Positions::default(), true)
}

/// Reads `text` (the file as written) by parsing `read`, whose positions
/// `positions` maps to `text`'s: one document, or with `many` every one.
fn read_as(
    text: &str,
    read: &str,
    mut positions: Positions,
    many: bool,
) -> Result<Vec<Spanned<Node>>, ReadError> {
    // libyaml refuses these without saying where; they are said at their
    // place (a NUL byte never gets here: an inventory holding one is
    // refused when it is read).
    if let Some((at, c)) = text.char_indices().find(|&(_, c)| !printable(c)) {
        return Err(ReadError::at(
            format!(
                "control characters are not allowed: U+{:04X} here",
                u32::from(c)
            ),
            At {
                start: at,
                len: c.len_utf8(),
            },
        ));
    }
    if read.starts_with('\u{feff}') {
        positions.bom = '\u{feff}'.len_utf8();
    }
    let bom = positions.bom;
    let mut input = read.as_bytes();
    let mut parser = Parser::new();
    parser.set_input_string(&mut input);
    let mut reader = Reader {
        text,
        positions,
        parser,
        anchors: HashMap::new(),
        nodes: 0,
        budget: text.len().saturating_mul(4).max(10_000),
        depth: 0,
        read_to: Mark::default(),
        panic_after: panics::events_before_panic(read, bom),
        events: 0,
    };
    reader.documents(many)
}

/// Whether YAML text may hold `c` as it is (YAML 1.1's printable set, as
/// libyaml checks it).
fn printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
        || c >= '\u{10000}'
}

struct Reader<'t, 'i> {
    text: &'t str,
    positions: Positions,
    parser: Parser<&'i mut &'t [u8]>,
    /// Anchored nodes by anchor, with their size.
    anchors: HashMap<String, (Spanned<Node>, usize)>,
    nodes: usize,
    budget: usize,
    /// How many lists and mappings enclose the node being read.
    depth: usize,
    /// Where the last event read ends.
    read_to: Mark,
    /// How many events the parser makes before it would panic, if it would.
    panic_after: Option<usize>,
    /// How many events it has been asked for.
    events: usize,
}

impl Reader<'_, '_> {
    fn next(&mut self) -> Result<Event, ReadError> {
        if self.panic_after == Some(self.events) {
            return Err(self.unreadable());
        }
        self.events += 1;
        // Any other panic of the parser is reported by the panic hook as
        // ever, and the file is an error like this one.
        let parser = &mut self.parser;
        match std::panic::catch_unwind(AssertUnwindSafe(|| parser.parse())).ok() {
            Some(Ok(event)) => {
                self.read_to = event.end_mark;
                Ok(event)
            }
            Some(Err(error)) => Err(ReadError::syntax(&error, self.text, &self.positions)),
            None => Err(self.unreadable()),
        }
    }

    /// The error for text the parser cannot read on from (a tag before `,`
    /// in a flow collection, for one): after the last event it made. The
    /// parser is not used again.
    fn unreadable(&self) -> ReadError {
        ReadError::at(
            "cannot read the YAML after this point",
            At {
                start: self.offset(self.read_to),
                len: 0,
            },
        )
    }

    fn offset(&self, mark: Mark) -> usize {
        self.positions.offset(self.text, mark)
    }

    /// The documents of the stream: at most one unless `many`. An empty
    /// document is left out when there may be several, and is `Null` when
    /// there is one.
    fn documents(&mut self, many: bool) -> Result<Vec<Spanned<Node>>, ReadError> {
        let mut documents: Vec<Spanned<Node>> = Vec::new();
        let mut seen = false;
        loop {
            let event = self.next()?;
            match event.data {
                EventData::StreamEnd => break,
                EventData::DocumentStart { .. } if seen && !many => {
                    return Err(ReadError::at(
                        "an inventory is one YAML document; this file has several",
                        At {
                            start: self.offset(event.start_mark),
                            len: 0,
                        },
                    ));
                }
                EventData::DocumentStart { .. } => {
                    seen = true;
                    let event = self.next()?;
                    if matches!(event.data, EventData::DocumentEnd { .. }) {
                        if !many {
                            documents.push(Spanned {
                                value: Node::Null,
                                at: At { start: 0, len: 0 },
                            });
                        }
                    } else {
                        let node = self.node(event)?;
                        if !(many && matches!(node.value, Node::Null)) {
                            documents.push(node);
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(documents)
    }

    /// The node that starts with `event`, read to its end.
    fn node(&mut self, event: Event) -> Result<Spanned<Node>, ReadError> {
        let start = self.offset(event.start_mark);
        self.count(1, start)?;
        let (node, anchor) = match event.data {
            EventData::Scalar {
                value,
                style,
                anchor,
                tag,
                ..
            } => {
                let null = tag.is_none() && style == ScalarStyle::Plain && plain_null(&value);
                let len = if null && value.is_empty() {
                    0
                } else {
                    self.offset(event.end_mark) - start
                };
                let value = if null {
                    Node::Null
                } else {
                    Node::Scalar(value.into())
                };
                (
                    Spanned {
                        value,
                        at: At { start, len },
                    },
                    anchor,
                )
            }
            EventData::SequenceStart { style, anchor, .. } => {
                self.enter(start)?;
                let mut items = Vec::new();
                loop {
                    let event = self.next()?;
                    if matches!(event.data, EventData::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(event)?);
                }
                self.depth -= 1;
                let flow = style == SequenceStyle::Flow;
                (collection(Node::List(items), flow, start), anchor)
            }
            EventData::MappingStart { style, anchor, .. } => {
                self.enter(start)?;
                let map = self.mapping()?;
                self.depth -= 1;
                let flow = style == MappingStyle::Flow;
                (collection(map, flow, start), anchor)
            }
            EventData::Alias { anchor } => {
                let (node, size) = self
                    .anchors
                    .get(&anchor)
                    .map(|(n, s)| (n.clone(), *s))
                    .ok_or_else(|| {
                        ReadError::at(
                            format!("alias `*{anchor}` to an anchor not defined before it"),
                            At { start, len: 0 },
                        )
                    })?;
                self.count(size, start)?;
                return Ok(node);
            }
            _ => return Err(ReadError::at("unexpected YAML event", At { start, len: 0 })),
        };
        if let Some(anchor) = anchor {
            let size = node.value.size();
            self.anchors.insert(anchor, (node.clone(), size));
        }
        Ok(node)
    }

    /// The entries of a mapping up to its end, with `<<` merged.
    fn mapping(&mut self) -> Result<Node, ReadError> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut merged: Vec<Spanned<Node>> = Vec::new();
        let mut seen = Seen::default();
        loop {
            let event = self.next()?;
            if matches!(event.data, EventData::MappingEnd) {
                break;
            }
            let key = self.node(event)?;
            let key_text = match key.value {
                Node::Scalar(text) => text,
                Node::Null => Text::default(),
                other => {
                    return Err(ReadError::at(
                        format!("a mapping key must be a single value, not {}", other.what()),
                        key.at,
                    ))
                }
            };
            let event = self.next()?;
            let value = self.node(event)?;
            if key_text == "<<" {
                merged.push(value);
                continue;
            }
            if seen.repeated(&entries, &key_text) {
                return Err(ReadError::at(
                    format!("duplicate mapping key `{key_text}` is not allowed here"),
                    key.at,
                ));
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
                    return Err(ReadError::at(
                        format!(
                            "`<<` merges a mapping or a list of mappings, not {}",
                            other.what()
                        ),
                        at,
                    ))
                }
            };
            for map in maps {
                let Node::Map(more) = map.value else {
                    return Err(ReadError::at(
                        format!("`<<` merges mappings, not {}", map.value.what()),
                        map.at,
                    ));
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

    /// Enters a list or mapping that starts at `start`: an error past
    /// [`MAX_DEPTH`], before anything deeper is read (the tree is built, and
    /// later walked and dropped, by recursion).
    fn enter(&mut self, start: usize) -> Result<(), ReadError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ReadError::at(
                format!(
                    "lists and mappings are nested more than {MAX_DEPTH} deep here; an inventory needs a few levels"
                ),
                At {
                    start,
                    len: usize::from(self.text[start..].starts_with(['[', '{'])),
                },
            ));
        }
        Ok(())
    }

    /// Counts `n` more nodes against the budget.
    fn count(&mut self, n: usize, start: usize) -> Result<(), ReadError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.budget {
            return Err(ReadError::at(
                format!(
                    "expanding aliases makes more than {} values; an inventory of plain data needs no aliases this deep",
                    self.budget
                ),
                At { start, len: 0 },
            ));
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
            Node::Scalar(text) => text.to_string(),
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
    fn a_stream_of_documents_is_read_whole() {
        let text = "---\nkind: Secret\n---\n---\nkind: BareMetalHost\nspec: {bmc: {address: 10.0.0.1}}\n...\n";
        let documents = read_documents(text).expect("reads");
        let shown: Vec<String> = documents.iter().map(|d| show(&d.value)).collect();
        assert_eq!(
            shown,
            [
                "{kind: Secret}",
                "{kind: BareMetalHost, spec: {bmc: {address: 10.0.0.1}}}"
            ],
            "the empty document is left out"
        );
        assert_eq!(&text[documents[1].at.start..][..4], "kind");
        assert!(read_documents("").expect("reads").is_empty());
        let Err(error) = read_documents("a: 1\n---\nb: 1\n  c: 2\n") else {
            panic!("a bad second document read")
        };
        assert_eq!(
            (error.message.as_str(), error.at.map(|at| at.start)),
            ("mapping values are not allowed in this context", Some(17)),
            "where it is in the stream"
        );
    }

    #[test]
    fn json_surrogate_pairs_are_joined_and_positions_kept() {
        let text = r#"{"a": "x\ud83d\ude00y", "b": "\\ud83d", "d": "\u00e9"}"#;
        let root = read_json(text).expect("reads");
        assert_eq!(show(&root.value), r"{a: x😀y, b: \ud83d, d: é}");
        for (key, written) in [
            ("a", r#""x\ud83d\ude00y""#),
            ("b", r#""\\ud83d""#),
            ("d", r#""\u00e9""#),
        ] {
            let at = root.value.get(key).expect(key).at;
            assert_eq!(&text[at.start..at.start + at.len], written);
        }
        // A lone half of a pair is an error where its escape is written,
        // after a joined pair too.
        for text in [
            r#"{"a": "\ud83d\ude00", "b": "\ud83d"}"#,
            r#"{"a": "x", "b": "\ud83d"}"#,
        ] {
            let Err(error) = read_json(text) else {
                panic!("a lone surrogate read")
            };
            assert_eq!(
                error.message,
                "a `\\u` escape of half a surrogate pair without its other half"
            );
            assert_eq!(error.at.map(|at| &text[at.start..]), Some(r#"\ud83d"}"#));
        }
        // Text without a pair is read as it is.
        assert!(join_surrogate_pairs(r#"{"a": "\\ud83d\\ude00"}"#)
            .0
            .is_none());
    }

    /// A syntax error's message, where it is, and what the parser was
    /// reading and where that starts.
    fn syntax_err(text: &str) -> (String, Option<usize>, Option<(String, usize)>) {
        match read(text) {
            Ok(node) => panic!("{text:?} read as {}", show(&node.value)),
            Err(error) => (
                error.message,
                error.at.map(|at| at.start),
                error.context.map(|(what, at)| (what, at.start)),
            ),
        }
    }

    #[test]
    fn syntax_errors_have_a_position() {
        assert_eq!(
            syntax_err("bmcs:\n  - name: a\n    addresses: [10.0.0.1, 10.0.0.2\n"),
            (
                "while parsing a flow sequence, did not find expected ',' or ']'".into(),
                Some(33),
                Some(("a flow sequence starts here and is not closed".into(), 33))
            ),
            "an unclosed bracket at the end: at the bracket"
        );
        assert_eq!(
            syntax_err("a: {x: 1\nb: 2\n"),
            (
                "while parsing a flow mapping, did not find expected ',' or '}'".into(),
                Some(10),
                Some(("a flow mapping starts here".into(), 3))
            ),
            "elsewhere: where the parser gave up, and where the mapping starts"
        );
        assert_eq!(
            syntax_err("a: 1\n  b: 2\n"),
            (
                "mapping values are not allowed in this context".into(),
                Some(8),
                None
            )
        );
        assert_eq!(
            syntax_err("a: [x, *nowhere]\n"),
            (
                "alias `*nowhere` to an anchor not defined before it".into(),
                Some(7),
                None
            )
        );
    }

    #[test]
    fn control_characters_are_errors_at_their_place() {
        assert_eq!(
            read_err("a: 1\nb: x\u{1b}[2J\n"),
            (
                "control characters are not allowed: U+001B here".into(),
                Some(9)
            )
        );
        assert_eq!(
            read_err("a: \"\u{7}\"\n").0,
            "control characters are not allowed: U+0007 here"
        );
        // Escapes that make them are text, as YAML has it.
        assert_eq!(read_ok("a: \"x\\e[2J\"\n"), "{a: x\u{1b}[2J}");
    }

    #[test]
    fn input_the_parser_panics_on_is_an_error_after_what_it_read() {
        // libyaml-safer panics on a tag before `,` in a flow collection.
        for _ in 0..2 {
            assert_eq!(
                read_err("a: 1\nb: [!x, 1]\n"),
                ("cannot read the YAML after this point".into(), Some(9))
            );
        }
        assert_eq!(read_ok("a: [x, 1]\n"), "{a: [x, 1]}", "the next file reads");
    }

    #[test]
    fn a_byte_order_mark_keeps_positions_in_the_file() {
        for text in ["\u{feff}name: \"n1\"\n", "\u{feff}{\"name\": \"n1\"}"] {
            let root = if text.contains('{') {
                read_json(text)
            } else {
                read(text)
            }
            .expect("reads");
            let name = root.value.get("name").expect("name");
            assert_eq!(&text[name.at.start..name.at.start + name.at.len], "\"n1\"");
        }
    }
}
