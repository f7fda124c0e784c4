//! The plainest block YAML, read without the full parser: mappings and lists
//! by indentation, one plain scalar or one flow list of plain scalars a line,
//! in printable ASCII, as inventories written by tools and people mostly are
//! (`- name: r01-n01-bmc` / `  address: 10.64.1.11`). It reads such text into
//! the tree libyaml's events build, with the same positions, about ten times
//! faster; for anything else (quotes, anchors, tags, multi-line
//! scalars, empty values, tabs, a byte outside printable ASCII, a duplicate
//! key, an indentation libyaml would refuse) it gives up at once and the
//! caller reads the text with libyaml, which also says what is wrong. So
//! the subset only ever decides how fast a file is read, never what it
//! means: the tests compare the two readers on every text either reads.

use super::{collection, plain_null, At, Entry, Node, Seen, Spanned, Text};

/// Far less than [`super::MAX_DEPTH`]: deeper text goes to libyaml, which
/// refuses it in its own words.
const MAX_DEPTH: usize = 32;

/// The tree of `text` if it is in the subset, else `None`.
pub(super) fn read(text: &str) -> Option<Spanned<Node>> {
    // Printable ASCII, and every `#` starts a comment: at the start of a
    // line or after a space (`a#b` is a scalar to YAML; it ends the fast
    // read here, once, for the whole text).
    let bytes = text.as_bytes();
    let plain = bytes.iter().enumerate().all(|(at, &b)| match b {
        b'\n' => true,
        b'#' => at == 0 || matches!(bytes[at - 1], b' ' | b'\n'),
        _ => (b' '..=b'~').contains(&b),
    });
    if !plain {
        return None;
    }
    let mut lines = Lines {
        text,
        at: 0,
        peeked: None,
    };
    let first = lines.peek()?;
    let root = lines.block(first, 0)?;
    lines.peek().is_none().then_some(root)
}

/// A line with content: where its content starts and ends (trailing spaces
/// left out), how far it is indented, and where the next line starts. For
/// the rest of a list item's line (`- name: x`), `start` and `indent` are
/// those of what follows the dash.
#[derive(Clone, Copy)]
struct Line {
    indent: usize,
    start: usize,
    end: usize,
    next: usize,
}

struct Lines<'t> {
    text: &'t str,
    /// Where the next line not yet looked at starts.
    at: usize,
    peeked: Option<Line>,
}

impl<'t> Lines<'t> {
    /// The next line with content, skipping blank lines and comments.
    fn peek(&mut self) -> Option<Line> {
        if self.peeked.is_some() {
            return self.peeked;
        }
        let bytes = self.text.as_bytes();
        while self.at < bytes.len() {
            let begin = self.at;
            let newline = memchr(bytes, begin);
            self.at = newline.map_or(bytes.len(), |n| n + 1);
            let end = newline.unwrap_or(bytes.len());
            let line = &bytes[begin..end];
            let indent = line.iter().take_while(|&&b| b == b' ').count();
            if indent == line.len() || line[indent] == b'#' {
                continue;
            }
            // A comment after the content (` #`) is left out with the spaces
            // before it.
            let content = line
                .windows(2)
                .position(|w| w == b" #")
                .map_or(line, |hash| &line[..hash]);
            let trimmed = content.len() - content.iter().rev().take_while(|&&b| b == b' ').count();
            self.peeked = Some(Line {
                indent,
                start: begin + indent,
                end: begin + trimmed,
                next: self.at,
            });
            return self.peeked;
        }
        None
    }

    /// The next line with content, if it is indented by exactly `indent`;
    /// `None` also when there is no such line.
    fn peek_at(&mut self, indent: usize) -> Option<Line> {
        self.peek().filter(|line| line.indent == indent)
    }

    fn take(&mut self, line: Line) {
        self.peeked = None;
        self.at = line.next;
    }

    fn content(&self, line: Line) -> &'t [u8] {
        &self.text.as_bytes()[line.start..line.end]
    }

    fn is_item(&self, line: Line) -> bool {
        let content = self.content(line);
        content[0] == b'-' && content.get(1).is_none_or(|&b| b == b' ')
    }

    /// The list or mapping whose first line is `line`.
    fn block(&mut self, line: Line, depth: usize) -> Option<Spanned<Node>> {
        if depth >= MAX_DEPTH {
            return None;
        }
        if self.is_item(line) {
            self.list(line, depth)
        } else {
            self.mapping(line, depth)
        }
    }

    /// A block list: the items at `first`'s indentation.
    fn list(&mut self, first: Line, depth: usize) -> Option<Spanned<Node>> {
        let mut items = Vec::new();
        while let Some(line) = self.peek_at(first.indent).filter(|&l| self.is_item(l)) {
            let after = self.content(line)[1..]
                .iter()
                .take_while(|&&b| b == b' ')
                .count();
            if line.start + 1 + after == line.end {
                return None;
            }
            let rest = Line {
                indent: line.indent + 1 + after,
                start: line.start + 1 + after,
                ..line
            };
            if self.is_item(rest) {
                return None;
            }
            let item = if key(self.content(rest)).is_some() {
                self.peeked = Some(rest);
                self.mapping(rest, depth + 1)?
            } else {
                self.take(line);
                self.value(rest)?
            };
            items.push(item);
            if self.peek().is_some_and(|l| l.indent > first.indent) {
                return None;
            }
        }
        Some(collection(Node::List(items), false, first.start))
    }

    /// A block mapping: the keys at `first`'s indentation.
    fn mapping(&mut self, first: Line, depth: usize) -> Option<Spanned<Node>> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut seen = Seen::default();
        while let Some(line) = self.peek() {
            if line.indent < first.indent || self.is_item(line) && line.indent == first.indent {
                break;
            }
            if line.indent > first.indent {
                return None;
            }
            let content = self.content(line);
            let length = key(content)?;
            let name = &self.text[line.start..line.start + length];
            // A null key and a repeated one are libyaml's to read and say.
            if plain_null(name) || seen.repeated(&entries, name) {
                return None;
            }
            let name = Spanned {
                value: Text::from(name),
                at: At {
                    start: line.start,
                    len: length,
                },
            };
            self.take(line);
            let spaces = content[length + 1..]
                .iter()
                .take_while(|&&b| b == b' ')
                .count();
            let value = if length + 1 == content.len() {
                // The value is on the lines below: more indented, or a list
                // at the key's own indentation.
                let next = self.peek()?;
                if next.indent > first.indent || next.indent == first.indent && self.is_item(next) {
                    self.block(next, depth + 1)?
                } else {
                    return None;
                }
            } else {
                let start = line.start + length + 1 + spaces;
                self.value(Line { start, ..line })?
            };
            entries.push((name, value));
        }
        Some(collection(Node::Map(entries), false, first.start))
    }

    /// The value that takes the rest of `line`: a plain scalar, or a flow
    /// list of them.
    fn value(&self, line: Line) -> Option<Spanned<Node>> {
        let content = self.content(line);
        if content[0] != b'[' {
            return scalar(self.text, line.start, content, false);
        }
        if content.last() != Some(&b']') {
            return None;
        }
        let mut items = Vec::new();
        let inner = &content[1..content.len() - 1];
        if inner.iter().any(|&b| b != b' ') {
            let mut at = 1;
            for part in inner.split(|&b| b == b',') {
                let lead = part.iter().take_while(|&&b| b == b' ').count();
                let trail = part.iter().rev().take_while(|&&b| b == b' ').count();
                if lead == part.len() {
                    return None;
                }
                let item = &part[lead..part.len() - trail];
                items.push(scalar(self.text, line.start + at + lead, item, true)?);
                at += part.len() + 1;
            }
        }
        Some(collection(Node::List(items), true, line.start))
    }
}

/// How long the key is that `content` starts with (`name:`, `name: x`), if
/// it starts with a plain key the fast read takes: letters, digits, `_`,
/// `-` and `.`, starting with a letter, digit or `_`.
fn key(content: &[u8]) -> Option<usize> {
    let length = content
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        .count();
    let first = *content.first()?;
    let ok = length > 0
        && (first.is_ascii_alphanumeric() || first == b'_')
        && content.get(length) == Some(&b':')
        && content.get(length + 1).is_none_or(|&b| b == b' ');
    ok.then_some(length)
}

/// A plain scalar written as `bytes` at `start`, or `None` if libyaml might
/// read it otherwise: it must start with a letter, digit, `_`, `.` or `/`,
/// and hold no `: ` nor end with `:` (and in a flow list no bracket or
/// brace). `null`, `Null` and `NULL` are `Null`, as libyaml's events
/// make them.
fn scalar(text: &str, start: usize, bytes: &[u8], flow: bool) -> Option<Spanned<Node>> {
    let first = *bytes.first()?;
    let plain = (first.is_ascii_alphanumeric() || matches!(first, b'_' | b'.' | b'/'))
        && bytes.last() != Some(&b':')
        && !bytes.windows(2).any(|w| w == b": ")
        && !(flow && bytes.iter().any(|b| b"[]{}".contains(b)));
    if !plain {
        return None;
    }
    let written = &text[start..start + bytes.len()];
    let value = if plain_null(written) {
        Node::Null
    } else {
        Node::Scalar(Text::from(written))
    };
    Some(Spanned {
        value,
        at: At {
            start,
            len: bytes.len(),
        },
    })
}

fn memchr(bytes: &[u8], from: usize) -> Option<usize> {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map(|n| from + n)
}

#[cfg(test)]
mod tests {
    use super::super::{read_as, Positions};
    use super::*;
    use proptest::prelude::*;

    /// Whether two trees are the same, positions included.
    fn same(a: &Spanned<Node>, b: &Spanned<Node>) -> bool {
        let at = a.at.start == b.at.start && a.at.len == b.at.len;
        at && match (&a.value, &b.value) {
            (Node::Null, Node::Null) => true,
            (Node::Scalar(x), Node::Scalar(y)) => x == y,
            (Node::List(x), Node::List(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
            }
            (Node::Map(x), Node::Map(y)) => {
                x.len() == y.len()
                    && x.iter().zip(y).all(|((ka, va), (kb, vb))| {
                        ka.value == kb.value
                            && ka.at.start == kb.at.start
                            && ka.at.len == kb.at.len
                            && same(va, vb)
                    })
            }
            _ => false,
        }
    }

    /// Whether the fast read takes `text`; when it does, libyaml must read
    /// the very same tree from it.
    fn taken(text: &str) -> bool {
        let Some(fast) = read(text) else {
            return false;
        };
        match read_as(text, text, Positions::default(), false) {
            Ok(documents) => {
                assert_eq!(documents.len(), 1, "{text:?}");
                assert!(same(&fast, &documents[0]), "{text:?} reads otherwise");
            }
            Err(error) => panic!("{text:?} is not YAML to libyaml: {}", error.message),
        }
        true
    }

    #[test]
    fn the_plain_shapes_are_read_as_libyaml_reads_them() {
        for text in [
            "bmcs:\n  - name: r01-n01-bmc\n    address: 10.64.1.11\n    rack: r01\n",
            "bmcs:\n- name: a\n  addresses: [10.0.0.1, fd00::1]\n- name: b\n  address: null\n",
            "a: 1\nb:\n  c: x y  z\n  d: [ ]\n\n\ne: /dev/x\n",
            "  - 1\n  - two\n  - .3\n",
            "all:\n  hosts:\n    h1:\n      bmc_address: 10.0.0.5:623\n      ipmi: ipmi://10.0.0.5\n",
            "k: it's \"quoted\" inside\nl: [a,b ,  c]\n",
            "# a comment\na: 1 # and another\n  # and one more\nb: [1, 2]  # the last\n",
            "x: a:b\ny: 2001:db8::1\nz: ...\n",
        ] {
            assert!(taken(text), "{text:?} is not taken");
        }
    }

    #[test]
    fn anything_else_is_left_to_libyaml() {
        for text in [
            "",
            "a: x#y\n",
            "a: 1 #\n  b\n",
            "a: 'quoted'\n",
            "a: \"quoted\"\n",
            "a: &x 1\nb: *x\n",
            "a: !tag 1\n",
            "a:\n",
            "a:\nb: 1\n",
            "a: b: c\n",
            "a:b\n",
            "a: 1\na: 2\n",
            "---\na: 1\n",
            "a: 1\n...\n",
            "%YAML 1.1\n---\na: 1\n",
            "a:\tb\n",
            "a: 1\r\n",
            "a: caf\u{e9}\n",
            "a: multi\n  line\n",
            "- multi\n  line\n",
            "a: [b, ]\n",
            "a: [b, c\n",
            "a: [b: c]\n",
            "a: {b: c}\n",
            "- - nested\n",
            "-\n  a: 1\n",
            "a:\n  - 1\n - 2\n",
            "a: 1\n - 2\n",
            "a: |\n  text\n",
            "? a\n: b\n",
            "null: 1\n",
            "a: x:\n",
            "a: -1\n",
        ] {
            assert!(!taken(text), "{text:?} is taken");
        }
    }

    #[test]
    fn a_key_given_twice_in_a_long_mapping_is_left_to_libyaml() {
        let keys: String = (0..40).map(|i| format!("k{i}: {i}\n")).collect();
        assert!(taken(&keys));
        assert!(!taken(&format!("{keys}k17: again\n")));
    }

    #[test]
    fn the_shipped_inventories_are_read_fast_and_alike() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut fast = Vec::new();
        let mut dirs = vec![root.join("examples"), root.join("tests/fixtures")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("a directory") {
                let path = entry.expect("an entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    if taken(&text) {
                        fast.push(
                            path.strip_prefix(root)
                                .expect("inside")
                                .display()
                                .to_string(),
                        );
                    }
                }
            }
        }
        fast.sort();
        assert_eq!(fast.len(), 24, "{fast:?}");
    }

    /// Lines made of the pieces the subset is about, and of the ones that
    /// end it.
    fn text() -> impl Strategy<Value = String> {
        let indent = prop::sample::select(vec!["", " ", "  ", "   ", "    ", "      "]);
        let lead = prop::sample::select(vec!["", "", "- ", "-  ", "-", "- - "]);
        let key = prop::sample::select(vec![
            "a", "b", "name", "a.b", "_x", "-k", "null", "1", "", "a b", "'q'",
        ]);
        let colon = prop::sample::select(vec![": ", ":  ", ":", "", ":x "]);
        let value = prop::sample::select(vec![
            "", "1", "x y", "fd00::1", "a: b", "x:", "null", "~", "'q'", "#c", "x #c", "x#c",
            "# c", " #", "[a, b]", "[a,]", "[]", "[ a ]", "[a: b]", "-1", "&a x", "*a", "|", "...",
            "ca\u{e9}", "a\tb",
        ]);
        let line = (indent, lead, key, colon, value)
            .prop_map(|(i, l, k, c, v)| format!("{i}{l}{k}{c}{v}"));
        prop::collection::vec(line, 1..8).prop_map(|lines| lines.join("\n") + "\n")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn what_is_taken_reads_as_libyaml_reads_it(text in text()) {
            taken(&text);
        }
    }
}
