//! The one scanner of `.wall` text for strings and comments: [`regions`] cuts
//! a text into code, strings and comments, and everything that must know
//! whether a byte is inside a string or a comment reads it from there: the
//! parser's statement cutting ([`statement_chunks`]), the end of a
//! statement's content ([`content_end`]) and the formatter's reading of the
//! text between tokens.
//!
//! A comment runs from `#` to the end of its line. A string runs from `"` to
//! the next `"` on its line, `\"` and `\\` being escapes. When the closing
//! quote is missing on its line, the string runs to the end of the line if a
//! `;` follows the quote on it (the statement most likely ends there), and is
//! otherwise only its quote, the rest of the line being read again as code.

/// What a region of text is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Region {
    /// Anything outside strings and comments, whitespace included.
    Code,
    /// A string with both its quotes.
    String,
    /// A string whose closing quote is missing, to the end of its line.
    UnterminatedString,
    /// The quote of a string whose closing quote is missing, alone.
    UnterminatedQuote,
    /// A comment, from `#` to the end of its line (the line break not
    /// included).
    Comment,
}

/// One region: its kind and byte range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Piece {
    pub region: Region,
    pub start: usize,
    pub end: usize,
}

/// The regions of `text`, in order; together they cover it.
pub(crate) fn regions(text: &str) -> Regions<'_> {
    Regions {
        bytes: text.as_bytes(),
        at: 0,
    }
}

/// The iterator [`regions`] returns.
pub(crate) struct Regions<'t> {
    bytes: &'t [u8],
    at: usize,
}

impl Iterator for Regions<'_> {
    type Item = Piece;

    fn next(&mut self) -> Option<Piece> {
        let bytes = self.bytes;
        let start = self.at;
        let (region, end) = match *bytes.get(start)? {
            b'#' => (Region::Comment, line_end(bytes, start)),
            b'"' => string(bytes, start),
            _ => {
                let run = bytes[start..]
                    .iter()
                    .position(|&b| matches!(b, b'#' | b'"'))
                    .map_or(bytes.len(), |n| start + n);
                (Region::Code, run)
            }
        };
        self.at = end;
        Some(Piece { region, start, end })
    }
}

/// Where the line of `bytes[at]` ends: at its `\n`, or at the end of `bytes`.
fn line_end(bytes: &[u8], at: usize) -> usize {
    bytes[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |n| at + n)
}

/// The string that starts at `bytes[quote]` (a `"`) and where it ends.
fn string(bytes: &[u8], quote: usize) -> (Region, usize) {
    let mut i = quote + 1;
    while i < bytes.len() && !matches!(bytes[i], b'"' | b'\n' | b'\r') {
        if bytes[i] == b'\\' && matches!(bytes.get(i + 1), Some(b'"' | b'\\')) {
            i += 1;
        }
        i += 1;
    }
    if bytes.get(i) == Some(&b'"') {
        (Region::String, i + 1)
    } else if bytes[quote..i].contains(&b';') {
        (Region::UnterminatedString, i)
    } else {
        (Region::UnterminatedQuote, quote + 1)
    }
}

/// One statement's bytes. A statement holding a string whose closing quote is
/// missing on its line is not parsed: `unterminated` is where that string starts.
pub(super) struct Chunk {
    pub start: usize,
    pub end: usize,
    pub unterminated: Option<usize>,
}

/// The statements of a file: each ends after a `;` that is outside strings,
/// comments and braces, or after the `}` that closes a gateway's braces, or with the line of a string whose closing quote is missing when
/// a `;` follows that quote on the line; trailing text without `;` forms a
/// last chunk. Chunks that hold only whitespace and comments are skipped.
pub(super) fn statement_chunks(text: &str) -> Vec<Chunk> {
    let bytes = text.as_bytes();
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut has_content = false;
    let mut unterminated = None;
    // How deep in a gateway's braces, where `;` ends items, not statements.
    let mut depth = 0usize;
    for piece in regions(text) {
        match piece.region {
            Region::Comment => {}
            Region::String => has_content = true,
            Region::UnterminatedQuote => {
                has_content = true;
                unterminated.get_or_insert(piece.start);
            }
            Region::UnterminatedString => {
                unterminated.get_or_insert(piece.start);
                chunks.push(Chunk {
                    start,
                    end: piece.end,
                    unterminated: unterminated.take(),
                });
                start = piece.end;
                has_content = false;
            }
            Region::Code => {
                for (i, &byte) in bytes[piece.start..piece.end].iter().enumerate() {
                    let at = piece.start + i;
                    let cut = match byte {
                        b';' => depth == 0,
                        b'{' => {
                            depth += 1;
                            has_content = true;
                            false
                        }
                        b'}' if depth > 0 => {
                            depth -= 1;
                            depth == 0
                        }
                        b'\n' if depth > 0 && opens_statement(&text[at + 1..]) => {
                            // A statement that cannot stand in braces: the
                            // braces before it lack their `}`.
                            depth = 0;
                            chunks.push(Chunk {
                                start,
                                end: at + 1,
                                unterminated: unterminated.take(),
                            });
                            start = at + 1;
                            has_content = false;
                            false
                        }
                        b' ' | b'\t' | b'\r' | b'\n' => false,
                        _ => {
                            has_content = true;
                            false
                        }
                    };
                    if cut {
                        let end = at + 1;
                        chunks.push(Chunk {
                            start,
                            end,
                            unterminated: unterminated.take(),
                        });
                        start = end;
                        has_content = false;
                    }
                }
            }
        }
    }
    if has_content {
        chunks.push(Chunk {
            start,
            end: text.len(),
            unterminated,
        });
    }
    chunks
}

/// True when `line` (the text after a line break) starts with a keyword
/// that begins a statement and cannot begin an item in a gateway's braces.
fn opens_statement(line: &str) -> bool {
    let word = line.trim_start_matches([' ', '\t']);
    let end = word
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
        .unwrap_or(word.len());
    matches!(
        &word[..end],
        "allow"
            | "deny"
            | "expect"
            | "network"
            | "group"
            | "bmc"
            | "service"
            | "internal"
            | "include"
            | "inventory"
            | "gateway"
    )
}

/// The end of the last token in `text[start..limit]`, skipping whitespace and
/// comments: where a missing `;` belongs.
pub(super) fn content_end(text: &str, start: usize, limit: usize) -> usize {
    let mut end = start;
    for piece in regions(&text[start..limit]) {
        let (piece_start, piece_end) = (start + piece.start, start + piece.end);
        match piece.region {
            Region::Comment => {}
            Region::String | Region::UnterminatedString | Region::UnterminatedQuote => {
                end = piece_end;
            }
            Region::Code => {
                let code = &text.as_bytes()[piece_start..piece_end];
                if let Some(last) = code
                    .iter()
                    .rposition(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                {
                    end = piece_start + last + 1;
                }
            }
        }
    }
    // A multi-byte character ends later than its first byte.
    while !text.is_char_boundary(end) {
        end += 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::{regions, Region};

    fn cut(text: &str) -> Vec<(Region, &str)> {
        regions(text)
            .map(|piece| (piece.region, &text[piece.start..piece.end]))
            .collect()
    }

    #[test]
    fn cuts_code_strings_and_comments() {
        assert_eq!(
            cut("a \"b\\\" #;\" # c \"d\n;"),
            [
                (Region::Code, "a "),
                (Region::String, "\"b\\\" #;\""),
                (Region::Code, " "),
                (Region::Comment, "# c \"d"),
                (Region::Code, "\n;"),
            ]
        );
    }

    #[test]
    fn a_string_without_its_closing_quote_ends_with_the_line_before_a_semicolon() {
        assert_eq!(
            cut("a \"b;\nc"),
            [
                (Region::Code, "a "),
                (Region::UnterminatedString, "\"b;"),
                (Region::Code, "\nc"),
            ]
        );
        assert_eq!(
            cut("a \"b # c\nd"),
            [
                (Region::Code, "a "),
                (Region::UnterminatedQuote, "\""),
                (Region::Code, "b "),
                (Region::Comment, "# c"),
                (Region::Code, "\nd"),
            ]
        );
    }
}
