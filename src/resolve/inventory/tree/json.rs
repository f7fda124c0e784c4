//! JSON read straight into the located tree, without libyaml: NetBox
//! exports, `ansible-inventory --list` and `kubectl get -o json` are often
//! megabytes on one line, and libyaml reads them as YAML flow syntax at a
//! fraction of this reader's speed.
//!
//! The tree is the one libyaml's events give for the same text: scalars as
//! written (`1.10` stays `1.10`, `true` is `true`), `null` as [`Node::Null`],
//! each value located at its first byte with a scalar's length (quotes
//! included) and a collection's bracket, a key given twice in one object an
//! error, nesting bounded by [`MAX_DEPTH`]. JSON has no anchors and no merge
//! keys: `"<<"` is a key like any other. Python's `json` module writes
//! `NaN`, `Infinity` and `-Infinity` for such floats; they are read as the
//! words they are.
//!
//! Errors name what was expected and what was found, at the byte where it is
//! (a NUL byte or a control character in a string included); a collection or
//! string the file ends inside is shown where it starts.

use super::{At, Entry, Node, ReadError, Spanned, Text, MAX_DEPTH};

/// Reads one JSON value, the whole of `text` (a byte order mark and blanks
/// around it allowed). A text of blanks only is `Null`.
pub(super) fn read(text: &str) -> Result<Spanned<Node>, ReadError> {
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        at: if text.starts_with('\u{feff}') {
            '\u{feff}'.len_utf8()
        } else {
            0
        },
        depth: 0,
        items: Vec::new(),
        entries: Vec::new(),
    };
    reader.blanks();
    if reader.at == reader.bytes.len() {
        return Ok(Spanned {
            value: Node::Null,
            at: At { start: 0, len: 0 },
        });
    }
    let value = reader.value()?;
    reader.blanks();
    if reader.at < reader.bytes.len() {
        return Err(reader.unexpected("the end of the file after the JSON value"));
    }
    Ok(value)
}

struct Reader<'t> {
    text: &'t str,
    bytes: &'t [u8],
    /// The byte being read.
    at: usize,
    /// How many arrays and objects enclose the value being read.
    depth: usize,
    /// The items of the arrays being read, innermost last, and the entries
    /// of the objects: each collection is moved out into a vector of its
    /// size when it ends, rather than grown in one of its own.
    items: Vec<Spanned<Node>>,
    entries: Vec<Entry>,
}

/// What an array or object being read is, for messages.
#[derive(Clone, Copy)]
enum Collection {
    Array,
    Object,
}

impl Collection {
    fn name(self) -> &'static str {
        match self {
            Collection::Array => "an array",
            Collection::Object => "an object",
        }
    }
}

impl Reader<'_> {
    fn blanks(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    /// The error for what is at the current byte, where `expected` was
    /// wanted.
    fn unexpected(&self, expected: &str) -> ReadError {
        let (found, len) = self.found();
        ReadError::at(
            format!("expected {expected}, found {found}"),
            At {
                start: self.at,
                len,
            },
        )
    }

    /// What is at the current byte, in words, and how many bytes it takes.
    fn found(&self) -> (String, usize) {
        let rest = &self.text[self.at..];
        let Some(c) = rest.chars().next() else {
            return ("the end of the file".into(), 0);
        };
        if c == '\0' {
            return ("a NUL byte".into(), 1);
        }
        if c.is_control() {
            return (
                format!("the control character U+{:04X}", c as u32),
                c.len_utf8(),
            );
        }
        let word = rest
            .find(|c: char| !(c.is_alphanumeric() || "+-._".contains(c)))
            .unwrap_or(rest.len());
        let len = if word == 0 { c.len_utf8() } else { word };
        (format!("`{}`", &rest[..len]), len)
    }

    /// The error for a collection or string that starts at `start` and is
    /// not closed when the file ends.
    fn not_closed(what: &str, start: usize) -> ReadError {
        let at = At { start, len: 1 };
        ReadError {
            message: format!("{what} is not closed: the file ends inside it"),
            at: Some(at),
            context: Some((format!("{what} starts here and is not closed"), at)),
        }
    }

    /// The error for `expected` not found inside the collection that
    /// starts at `start`: where the file ends inside it, at its bracket.
    fn in_collection(&self, collection: Collection, start: usize, expected: &str) -> ReadError {
        if self.at == self.bytes.len() {
            return Self::not_closed(collection.name(), start);
        }
        let mut error = self.unexpected(expected);
        error.context = Some((
            format!("{} starts here", collection.name()),
            At { start, len: 1 },
        ));
        error
    }

    /// The value at the current byte (blanks skipped before it).
    fn value(&mut self) -> Result<Spanned<Node>, ReadError> {
        let start = self.at;
        match self.bytes.get(start) {
            Some(b'"') => {
                let value = self.string()?;
                Ok(Spanned {
                    value: Node::Scalar(value),
                    at: At {
                        start,
                        len: self.at - start,
                    },
                })
            }
            Some(b'[') => {
                self.enter(start)?;
                let items = self.array(start)?;
                self.depth -= 1;
                Ok(collection(Node::List(items), start))
            }
            Some(b'{') => {
                self.enter(start)?;
                let entries = self.object(start)?;
                self.depth -= 1;
                Ok(collection(Node::Map(entries), start))
            }
            _ => self.word(),
        }
    }

    /// A number, `true`, `false`, `null` (or one of Python's words for
    /// floats), kept as written.
    fn word(&mut self) -> Result<Spanned<Node>, ReadError> {
        let start = self.at;
        let rest = &self.bytes[start..];
        let len = rest
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || b"+-.".contains(b)))
            .unwrap_or(rest.len());
        let word = &self.text[start..start + len];
        let value = match word {
            "null" => Node::Null,
            "true" | "false" | "NaN" | "Infinity" | "-Infinity" => Node::Scalar(word.into()),
            _ if is_number(word.as_bytes()) => Node::Scalar(word.into()),
            _ if len > 0 && (word.as_bytes()[0].is_ascii_digit() || word.starts_with('-')) => {
                return Err(ReadError::at(
                    format!("`{word}` is not a JSON number"),
                    At { start, len },
                ))
            }
            _ => return Err(self.unexpected("a value")),
        };
        self.at += len;
        Ok(Spanned {
            value,
            at: At { start, len },
        })
    }

    /// Enters an array or object that starts at `start`: an error past
    /// [`MAX_DEPTH`], before anything deeper is read.
    fn enter(&mut self, start: usize) -> Result<(), ReadError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ReadError::at(
                format!(
                    "lists and mappings are nested more than {MAX_DEPTH} deep here; an inventory needs a few levels"
                ),
                At { start, len: 1 },
            ));
        }
        Ok(())
    }

    /// The items of the array whose `[` is at `start`, read to its `]`.
    fn array(&mut self, start: usize) -> Result<Vec<Spanned<Node>>, ReadError> {
        self.at += 1;
        let mark = self.items.len();
        self.blanks();
        if self.bytes.get(self.at) == Some(&b']') {
            self.at += 1;
            return Ok(Vec::new());
        }
        let result = loop {
            self.blanks();
            if self.at == self.bytes.len() {
                break Err(Self::not_closed("an array", start));
            }
            if self.bytes[self.at] == b']' && self.items.len() > mark {
                break Err(self.trailing_comma("]"));
            }
            match self.value() {
                Ok(value) => self.items.push(value),
                Err(error) => break Err(error),
            }
            self.blanks();
            match self.bytes.get(self.at) {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    break Ok(());
                }
                _ => {
                    break Err(self.in_collection(
                        Collection::Array,
                        start,
                        "`,` or `]` after an item of an array",
                    ))
                }
            }
        };
        let items = self.items.drain(mark..).collect();
        result.map(|()| items)
    }

    /// The error for `close` right after a `,`.
    fn trailing_comma(&self, close: &str) -> ReadError {
        ReadError::at(
            format!("`,` before `{close}`: JSON has no `,` after the last item"),
            At {
                start: self.at,
                len: 1,
            },
        )
    }

    /// The entries of the object whose `{` is at `start`, read to its `}`.
    /// A key given twice is an error at its second place, unless the text
    /// has another error before it.
    fn object(&mut self, start: usize) -> Result<Vec<Entry>, ReadError> {
        self.at += 1;
        let mark = self.entries.len();
        self.blanks();
        if self.bytes.get(self.at) == Some(&b'}') {
            self.at += 1;
            return Ok(Vec::new());
        }
        let result = self.entries_to_end(start, mark);
        let duplicate = first_duplicate(&self.entries[mark..]).map(|key| {
            ReadError::at(
                format!("duplicate mapping key `{}` is not allowed here", key.value),
                key.at,
            )
        });
        let entries = self.entries.drain(mark..).collect();
        match (result, duplicate) {
            (Err(error), Some(duplicate))
                if error
                    .at
                    .is_some_and(|at| at.start < duplicate.at.map_or(0, |d| d.start)) =>
            {
                Err(error)
            }
            (_, Some(duplicate)) => Err(duplicate),
            (result, None) => result.map(|()| entries),
        }
    }

    /// Reads the entries of the object whose `{` is at `start` onto
    /// `self.entries` (above `mark`), to its `}`.
    fn entries_to_end(&mut self, start: usize, mark: usize) -> Result<(), ReadError> {
        loop {
            self.blanks();
            let key_start = self.at;
            match self.bytes.get(key_start) {
                Some(b'"') => {}
                None => return Err(Self::not_closed("an object", start)),
                Some(b'}') if self.entries.len() > mark => return Err(self.trailing_comma("}")),
                Some(_) => return Err(self.unexpected("a key in double quotes")),
            }
            let key = self.string()?;
            let key_at = At {
                start: key_start,
                len: self.at - key_start,
            };
            self.blanks();
            if self.bytes.get(self.at) != Some(&b':') {
                return Err(self.in_collection(
                    Collection::Object,
                    start,
                    "`:` after a key of an object",
                ));
            }
            self.at += 1;
            self.blanks();
            if self.at == self.bytes.len() {
                return Err(Self::not_closed("an object", start));
            }
            let value = self.value()?;
            self.entries.push((
                Spanned {
                    value: key,
                    at: key_at,
                },
                value,
            ));
            self.blanks();
            match self.bytes.get(self.at) {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(());
                }
                _ => {
                    return Err(self.in_collection(
                        Collection::Object,
                        start,
                        "`,` or `}` after a value in an object",
                    ))
                }
            }
        }
    }

    /// The string whose `"` is at the current byte, its escapes read; the
    /// current byte is then the one after its closing `"`.
    fn string(&mut self) -> Result<Text, ReadError> {
        let start = self.at;
        self.at += 1;
        let mut out: Option<Text> = None;
        let mut copied = self.at;
        loop {
            let run = self.bytes[self.at..]
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            let Some(run) = run else {
                return Err(Self::not_closed("a string", start));
            };
            self.at += run;
            match self.bytes[self.at] {
                b'"' => {
                    let last = &self.text[copied..self.at];
                    self.at += 1;
                    return Ok(match out {
                        Some(mut out) => {
                            out.push_str(last);
                            out
                        }
                        None => Text::from(last),
                    });
                }
                b'\\' => {
                    let out = out.get_or_insert_with(Text::default);
                    out.push_str(&self.text[copied..self.at]);
                    self.escape(out)?;
                    copied = self.at;
                }
                byte => {
                    let what = if byte == 0 {
                        "a NUL byte".to_string()
                    } else {
                        format!("the control character U+{byte:04X}")
                    };
                    return Err(ReadError::at(
                        format!("a string holds {what}, which JSON writes as an escape (`\\n`, `\\u0000`)"),
                        At {
                            start: self.at,
                            len: 1,
                        },
                    ));
                }
            }
        }
    }

    /// The escape whose `\` is at the current byte, added to `out`.
    fn escape(&mut self, out: &mut Text) -> Result<(), ReadError> {
        let start = self.at;
        let plain = match self.bytes.get(start + 1) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let c = self.unicode_escape()?;
                out.push(c);
                return Ok(());
            }
            _ => {
                let len = 1 + self.text[start + 1..]
                    .chars()
                    .next()
                    .map_or(0, char::len_utf8);
                return Err(ReadError::at(
                    format!(
                        "`{}` is not an escape JSON has",
                        &self.text[start..start + len]
                    ),
                    At { start, len },
                ));
            }
        };
        out.push(plain);
        self.at += 2;
        Ok(())
    }

    /// The `\uXXXX` escape at the current byte, with the low half of a
    /// surrogate pair after it if it is the high half.
    fn unicode_escape(&mut self) -> Result<char, ReadError> {
        let start = self.at;
        let high = self.hex4(start)?;
        self.at += 6;
        let lone = || {
            ReadError::at(
                "a `\\u` escape of half a surrogate pair without its other half",
                At { start, len: 6 },
            )
        };
        let code = match high {
            0xd800..=0xdbff => {
                let low = match self.bytes.get(self.at..self.at + 2) {
                    Some(b"\\u") => self.hex4(self.at)?,
                    _ => return Err(lone()),
                };
                if !(0xdc00..=0xdfff).contains(&low) {
                    return Err(lone());
                }
                self.at += 6;
                0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00)
            }
            0xdc00..=0xdfff => return Err(lone()),
            code => code,
        };
        char::from_u32(code).ok_or_else(lone)
    }

    /// The four hex digits after the `\u` at `start`.
    fn hex4(&self, start: usize) -> Result<u32, ReadError> {
        self.bytes
            .get(start + 2..start + 6)
            .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
            .and_then(|hex| u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok())
            .ok_or_else(|| {
                ReadError::at(
                    "`\\u` must be followed by four hex digits",
                    At { start, len: 2 },
                )
            })
    }
}

/// The first key, in the order written, that an earlier one has: pairs
/// compared in a short object, keys sorted in a long one (a device of a
/// NetBox export has about 40).
fn first_duplicate(entries: &[Entry]) -> Option<&Spanned<Text>> {
    if entries.len() < 16 {
        return (1..entries.len())
            .find(|&j| {
                entries[..j]
                    .iter()
                    .any(|(k, _)| k.value == entries[j].0.value)
            })
            .map(|j| &entries[j].0);
    }
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| entries[a].0.value.cmp(&entries[b].0.value).then(a.cmp(&b)));
    // In each run of one key, every place but the first repeats it.
    order
        .windows(2)
        .filter(|pair| entries[pair[0]].0.value == entries[pair[1]].0.value)
        .map(|pair| pair[1])
        .min()
        .map(|j| &entries[j].0)
}

/// An array or object whose bracket is at `start`.
fn collection(value: Node, start: usize) -> Spanned<Node> {
    Spanned {
        value,
        at: At { start, len: 1 },
    }
}

/// Whether `word` is a number as JSON writes one: `-?(0|[1-9][0-9]*)`, then
/// `.` and digits, then `e` or `E`, a sign and digits, each optional.
fn is_number(word: &[u8]) -> bool {
    let digits = |at: usize| word[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    let mut at = usize::from(word.first() == Some(&b'-'));
    match word.get(at) {
        Some(b'0') => at += 1,
        Some(b'1'..=b'9') => at += digits(at),
        _ => return false,
    }
    if word.get(at) == Some(&b'.') {
        let n = digits(at + 1);
        if n == 0 {
            return false;
        }
        at += 1 + n;
    }
    if let Some(b'e' | b'E') = word.get(at) {
        at += 1;
        if let Some(b'+' | b'-') = word.get(at) {
            at += 1;
        }
        let n = digits(at);
        if n == 0 {
            return false;
        }
        at += n;
    }
    at == word.len()
}

#[cfg(test)]
mod tests {
    use super::super::{read_as, Positions};
    use super::*;

    /// The tree with every position, as text, to compare two readers'.
    fn show(node: &Spanned<Node>) -> String {
        let at = format!("@{}+{}", node.at.start, node.at.len);
        match &node.value {
            Node::Null => format!("~{at}"),
            Node::Scalar(text) => format!("{text:?}{at}"),
            Node::List(items) => format!(
                "[{}]{at}",
                items.iter().map(show).collect::<Vec<_>>().join(", ")
            ),
            Node::Map(entries) => format!(
                "{{{}}}{at}",
                entries
                    .iter()
                    .map(|(k, v)| format!("{:?}@{}+{}: {}", k.value, k.at.start, k.at.len, show(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// The tree libyaml makes of `text`.
    fn libyaml(text: &str) -> Spanned<Node> {
        let (joined, positions) = super::super::join_surrogate_pairs(text);
        let _: &Positions = &positions;
        read_as(text, joined.as_deref().unwrap_or(text), positions, false)
            .expect("libyaml reads it")
            .pop()
            .expect("a document")
    }

    fn error(text: &str) -> (String, Option<usize>, Option<(String, usize)>) {
        match read(text) {
            Ok(node) => panic!("{text:?} read as {}", show(&node)),
            Err(error) => (
                error.message,
                error.at.map(|at| at.start),
                error.context.map(|(what, at)| (what, at.start)),
            ),
        }
    }

    #[test]
    fn every_json_fixture_reads_as_libyaml_reads_it() {
        let mut files = Vec::new();
        let mut dirs = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures"
        ))];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("fixtures") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    files.push(path);
                }
            }
        }
        let mut compared = 0;
        for path in &files {
            let text = std::fs::read_to_string(path).expect("UTF-8");
            if path.to_string_lossy().contains("sarif") {
                continue;
            }
            match read(&text) {
                Ok(tree) => {
                    assert_eq!(show(&tree), show(&libyaml(&text)), "{}", path.display());
                    compared += 1;
                }
                Err(_) => assert!(
                    path.to_string_lossy().contains("invalid_json"),
                    "{} does not read",
                    path.display()
                ),
            }
        }
        assert!(compared >= 12, "{compared} fixtures compared");
        // Scalars as written, escapes, a byte order mark, nulls, empties.
        for text in [
            "\u{feff} {\"a\": [1, -0.5e+3, true, false, null, \"\", \"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"], \"b\": {}, \"c\": []}\n",
            "[]",
            "\"one\"",
            "{\"k0\": 0, \"k1\": 1, \"k2\": 2, \"k3\": 3, \"k4\": 4, \"k5\": 5, \"k6\": 6, \"k7\": 7, \"k8\": 8, \"k9\": 9, \"k10\": 10, \"k11\": 11, \"k12\": 12, \"k13\": 13, \"k14\": 14, \"k15\": 15, \"k16\": 16}",
        ] {
            assert_eq!(show(&read(text).expect("reads")), show(&libyaml(text)), "{text:?}");
        }
        assert_eq!(show(&read(" \n").expect("reads")), "~@0+0");
    }

    #[test]
    fn syntax_errors_say_what_was_expected_where() {
        let not_closed = |what: &str, at| {
            (
                format!("{what} is not closed: the file ends inside it"),
                Some(at),
                Some((format!("{what} starts here and is not closed"), at)),
            )
        };
        assert_eq!(error("{\"a\": [1, 2\n"), not_closed("an array", 6));
        assert_eq!(error("{\"a\": 1"), not_closed("an object", 0));
        assert_eq!(error("{\"a\": \"x"), not_closed("a string", 6));
        assert_eq!(
            error("{\"a\": 1 \"b\": 2}"),
            (
                "expected `,` or `}` after a value in an object, found `\"`".into(),
                Some(8),
                Some(("an object starts here".into(), 0))
            )
        );
        assert_eq!(
            error("[1 2]"),
            (
                "expected `,` or `]` after an item of an array, found `2`".into(),
                Some(3),
                Some(("an array starts here".into(), 0))
            )
        );
        assert_eq!(
            error("{\"a\" 1}"),
            (
                "expected `:` after a key of an object, found `1`".into(),
                Some(5),
                Some(("an object starts here".into(), 0))
            )
        );
        assert_eq!(
            error("{a: 1}"),
            (
                "expected a key in double quotes, found `a`".into(),
                Some(1),
                None
            )
        );
        assert_eq!(
            error("{\"a\": 1,}"),
            (
                "`,` before `}`: JSON has no `,` after the last item".into(),
                Some(8),
                None
            )
        );
        assert_eq!(
            error("[1,]"),
            (
                "`,` before `]`: JSON has no `,` after the last item".into(),
                Some(3),
                None
            )
        );
        assert_eq!(
            error("{\"a\": yes}"),
            ("expected a value, found `yes`".into(), Some(6), None)
        );
        assert_eq!(
            error("{\"a\": 01}"),
            ("`01` is not a JSON number".into(), Some(6), None)
        );
        assert_eq!(
            error("{\"a\": 1} x"),
            (
                "expected the end of the file after the JSON value, found `x`".into(),
                Some(9),
                None
            )
        );
        assert_eq!(
            error("{\"a\": \"\\q\"}"),
            ("`\\q` is not an escape JSON has".into(), Some(7), None)
        );
        assert_eq!(
            error("{\"a\": \"\\u12\"}"),
            (
                "`\\u` must be followed by four hex digits".into(),
                Some(7),
                None
            )
        );
    }

    #[test]
    fn nul_bytes_and_control_characters_are_located_at_their_byte() {
        assert_eq!(
            error("{\"a\":\n \"x\0y\"}"),
            (
                "a string holds a NUL byte, which JSON writes as an escape (`\\n`, `\\u0000`)"
                    .into(),
                Some(9),
                None
            )
        );
        assert_eq!(
            error("{\"a\": 1,\n \0}"),
            (
                "expected a key in double quotes, found a NUL byte".into(),
                Some(10),
                None
            )
        );
        assert_eq!(
            error("[\"a\tb\"]"),
            (
                "a string holds the control character U+0009, which JSON writes as an escape (`\\n`, `\\u0000`)"
                    .into(),
                Some(3),
                None
            )
        );
    }

    #[test]
    fn duplicate_keys_and_nesting_are_bounded_as_in_yaml() {
        assert_eq!(
            error("{\"name\": \"a\", \"name\": \"b\"}"),
            (
                "duplicate mapping key `name` is not allowed here".into(),
                Some(14),
                None
            )
        );
        // A long object: the first key, in the order written, that repeats.
        let keys: String = (0..40).map(|i| format!("\"k{i}\": 1, ")).collect();
        let text = format!("{{{keys}\"k7\": 2, \"k3\": 3}}");
        let (message, at, _) = error(&text);
        assert_eq!(message, "duplicate mapping key `k7` is not allowed here");
        assert_eq!(at, Some(1 + keys.len()));
        // A syntax error before a duplicate is the one reported.
        let (message, at, _) = error("{\"a\": [1 2], \"a\": 1}");
        assert_eq!(
            (message.as_str(), at),
            (
                "expected `,` or `]` after an item of an array, found `2`",
                Some(9)
            )
        );
        let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
        let (message, at, _) = error(&deep);
        assert_eq!(
            message,
            "lists and mappings are nested more than 64 deep here; an inventory needs a few levels"
        );
        assert_eq!(at, Some(64));
    }

    #[test]
    fn yaml_flow_text_that_is_not_json_is_still_read_as_yaml() {
        // Ansible's reader takes it, so bmcwall does.
        let tree = super::super::read_json("{all: {hosts: {a: {bmc_ip: 10.0.0.1}}}, # c\n}")
            .expect("reads as YAML");
        assert!(tree.value.get("all").is_some());
        // As YAML flow syntax, `[1 2]` is the one-item list `["1 2"]`.
        let tree = super::super::read_json("{\"a\": [1 2]}").expect("reads as YAML");
        assert!(tree.value.get("a").is_some());
        // When neither reads it, the error is JSON's.
        let Err(error) = super::super::read_json("{\"a\": [1, 2}") else {
            panic!("read")
        };
        assert_eq!(
            error.message,
            "expected `,` or `]` after an item of an array, found `}`"
        );
    }
}
