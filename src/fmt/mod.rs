//! `bmcwall fmt`: one `.wall` file's text in the canonical layout.
//!
//! Works from the tokens of each statement (`syntax::statement_tokens`) and the
//! comments and blank lines between them, read from the text. Invariants: the
//! output holds the same statements, tokens and comments in the same order
//! (checked before it is returned), so formatting never changes meaning;
//! formatting is idempotent; a comment stays with the statement it was
//! written in or after. Only syntax matters here: includes and inventories
//! are not read.

mod layout;

use crate::diagnostic::{Code, Diagnostic};
use crate::source::FileId;
use crate::syntax::scan::{self, Region};
use crate::syntax::{self, Part, StatementKind, TokenKind};

/// Why a text was not formatted.
#[derive(Debug)]
pub enum FormatError {
    /// The text does not parse: the parser's diagnostics, as `check` reports
    /// them.
    Syntax(Vec<Diagnostic>),
    /// The formatter could not lay the text out without changing it; a bug,
    /// reported rather than written.
    Internal(String),
}

/// The canonical layout of `text`, the contents of `file`.
pub fn format(file: FileId, text: &str) -> Result<String, FormatError> {
    let (_, mut diagnostics) = syntax::parse(file, text);
    if diagnostics.iter().any(|d| d.code == Code::SyntaxError) {
        crate::diagnostic::sort(&mut diagnostics);
        return Err(FormatError::Syntax(diagnostics));
    }
    let document = Document::read(text).ok_or_else(|| {
        FormatError::Internal("the text parses but its tokens could not be read".into())
    })?;
    let formatted = layout::render(&document);
    verify(file, &document, &formatted)?;
    Ok(formatted)
}

/// Checks that `formatted` holds what `original` holds: the same statements
/// of the same tokens, the same comments in the same places, and no syntax
/// error.
fn verify(file: FileId, original: &Document<'_>, formatted: &str) -> Result<(), FormatError> {
    let fail = |what: &str| Err(FormatError::Internal(format!("formatting would {what}")));
    let Some(again) = Document::read(formatted) else {
        return fail("make a statement unreadable");
    };
    if original.fingerprint() != again.fingerprint() {
        return fail("change the statements");
    }
    if original.comments() != again.comments() {
        return fail("change the comments");
    }
    let (_, diagnostics) = syntax::parse(file, formatted);
    if diagnostics.iter().any(|d| d.code == Code::SyntaxError) {
        return fail("introduce a syntax error");
    }
    Ok(())
}

/// A file as the formatter sees it: statements, comments on their own lines
/// and blank lines, in order.
#[derive(Debug)]
struct Document<'t> {
    items: Vec<Item<'t>>,
}

#[derive(Debug)]
enum Item<'t> {
    Statement(Statement<'t>),
    /// A comment on a line of its own between statements.
    Comment(&'t str),
    /// One or more blank lines.
    Blank,
}

#[derive(Debug)]
struct Statement<'t> {
    kind: StatementKind,
    /// The tokens before the `;` (or a gateway's closing `}`), which the
    /// layout adds.
    tokens: Vec<Token<'t>>,
    /// It ends with the `}` of a gateway's items, not with `;`.
    block: bool,
    /// The comment after the statement on the line of its last token.
    trailing: Option<&'t str>,
}

impl Statement<'_> {
    /// True when a comment lies between two of its tokens: the statement
    /// keeps a line break after each such comment.
    fn has_inner_comments(&self) -> bool {
        self.tokens.iter().any(|t| !t.comments.is_empty())
    }
}

#[derive(Debug)]
struct Token<'t> {
    text: &'t str,
    kind: TokenKind,
    part: Part,
    /// The comments between this token and the next one.
    comments: Vec<Comment<'t>>,
}

#[derive(Debug)]
struct Comment<'t> {
    text: &'t str,
    /// On a line of its own rather than after the token.
    own_line: bool,
}

/// A token as [`Document::fingerprint`] compares it.
type TokenPrint<'t> = (&'t str, TokenKind, Part);

/// What the text between two tokens holds, in order.
#[derive(Debug)]
enum Gap<'t> {
    Newline,
    Comment(&'t str),
    /// A token that is laid out elsewhere: the `;`, which goes right after the
    /// statement's last token. Its line is not blank.
    Moved,
}

impl<'t> Document<'t> {
    /// Reads `text`, which must parse; `None` when it does not.
    fn read(text: &'t str) -> Option<Self> {
        let statements = syntax::statement_tokens(text)?;
        let mut document = Document { items: Vec::new() };
        let mut gap = Vec::new();
        let mut cursor = 0;
        let mut after_statement = false;
        for statement in statements {
            let (semicolon, tokens) = statement.tokens.split_last()?;
            let first = tokens.first()?;
            read_gap(text, cursor, first.start, &mut gap)?;
            document.place(&mut gap, after_statement);
            let mut laid = Vec::with_capacity(tokens.len());
            for (index, token) in tokens.iter().enumerate() {
                let mut comments = Vec::new();
                if let Some(next) = tokens.get(index + 1) {
                    read_gap(text, token.end, next.start, &mut gap)?;
                    let mut own_line = false;
                    for item in gap.drain(..) {
                        match item {
                            Gap::Newline => own_line = true,
                            Gap::Comment(text) => comments.push(Comment { text, own_line }),
                            Gap::Moved => {}
                        }
                    }
                }
                laid.push(Token {
                    text: &text[token.start..token.end],
                    kind: token.kind,
                    part: token.part,
                    comments,
                });
            }
            // Comments between the last token and the `;` follow the statement.
            let last = tokens.last()?;
            read_gap(text, last.end, semicolon.start, &mut gap)?;
            gap.push(Gap::Moved);
            document.items.push(Item::Statement(Statement {
                kind: statement.kind,
                tokens: laid,
                block: semicolon.kind == TokenKind::CloseBrace,
                trailing: None,
            }));
            cursor = semicolon.end;
            after_statement = true;
        }
        read_gap(text, cursor, text.len(), &mut gap)?;
        document.place(&mut gap, after_statement);
        document.tidy_blanks();
        Some(document)
    }

    /// Turns the text between two statements into items: a comment on the
    /// line of the statement before (or on the line of its `;`, when that
    /// `;` stood on a later line) becomes its trailing comment; other
    /// comments, and blank lines after the `;`, become items of their own.
    fn place(&mut self, gap: &mut Vec<Gap<'t>>, after_statement: bool) {
        let statement = self.items.len().checked_sub(1).filter(|_| after_statement);
        let mut before_semicolon = after_statement;
        let mut line_start = !after_statement;
        let mut line_used = false;
        for item in gap.drain(..) {
            match item {
                Gap::Comment(text) if !line_start => {
                    match statement.and_then(|index| self.items.get_mut(index)) {
                        Some(Item::Statement(statement)) if statement.trailing.is_none() => {
                            statement.trailing = Some(text);
                        }
                        _ => self.items.push(Item::Comment(text)),
                    }
                    line_used = true;
                }
                Gap::Comment(text) => {
                    self.items.push(Item::Comment(text));
                    line_used = true;
                }
                Gap::Newline => {
                    if line_start && !line_used && !before_semicolon {
                        self.items.push(Item::Blank);
                    }
                    line_start = true;
                    line_used = false;
                }
                Gap::Moved => {
                    before_semicolon = false;
                    let trailing_free = statement.is_some_and(|index| {
                        index + 1 == self.items.len()
                            && matches!(&self.items[index], Item::Statement(s) if s.trailing.is_none())
                    });
                    if trailing_free {
                        line_start = false;
                    }
                    line_used = true;
                }
            }
        }
    }

    /// One blank line at most in a row, none at the start or the end.
    fn tidy_blanks(&mut self) {
        let mut items = Vec::with_capacity(self.items.len());
        for item in self.items.drain(..) {
            let blank = matches!(item, Item::Blank);
            if blank && matches!(items.last(), None | Some(Item::Blank)) {
                continue;
            }
            items.push(item);
        }
        if matches!(items.last(), Some(Item::Blank)) {
            items.pop();
        }
        self.items = items;
    }

    fn statements(&self) -> impl Iterator<Item = &Statement<'t>> {
        self.items.iter().filter_map(|item| match item {
            Item::Statement(statement) => Some(statement),
            _ => None,
        })
    }

    /// Every statement's kind and tokens, with their parts.
    fn fingerprint(&self) -> Vec<(StatementKind, Vec<TokenPrint<'t>>)> {
        self.statements()
            .map(|s| {
                let tokens = s.tokens.iter().map(|t| (t.text, t.kind, t.part)).collect();
                (s.kind, tokens)
            })
            .collect()
    }

    /// Every comment, in order, with where it is: how many tokens (`;` not
    /// counted) come before it in the file, and whether code stands before
    /// it on its line. A comment that moved to another token or statement
    /// changes either.
    fn comments(&self) -> Vec<(usize, bool, &'t str)> {
        let mut comments = Vec::new();
        let mut tokens_before = 0;
        for item in &self.items {
            match item {
                Item::Comment(text) => comments.push((tokens_before, false, *text)),
                Item::Statement(statement) => {
                    for token in &statement.tokens {
                        tokens_before += 1;
                        comments.extend(
                            token
                                .comments
                                .iter()
                                .map(|c| (tokens_before, !c.own_line, c.text)),
                        );
                    }
                    comments.extend(statement.trailing.map(|text| (tokens_before, true, text)));
                }
                Item::Blank => {}
            }
        }
        comments
    }
}

/// Reads `text[from..to]`, which holds only whitespace and comments, into
/// `out`; `None` when it holds anything else. A comment loses the whitespace
/// (and the `\r` of a CRLF line end) at its end.
fn read_gap<'t>(text: &'t str, from: usize, to: usize, out: &mut Vec<Gap<'t>>) -> Option<()> {
    let gap = &text[from..to];
    for piece in scan::regions(gap) {
        let piece_text = &gap[piece.start..piece.end];
        match piece.region {
            Region::Comment => out.push(Gap::Comment(piece_text.trim_end())),
            Region::Code => {
                for byte in piece_text.bytes() {
                    match byte {
                        b'\n' => out.push(Gap::Newline),
                        b' ' | b'\t' | b'\r' => {}
                        _ => return None,
                    }
                }
            }
            Region::String | Region::UnterminatedString | Region::UnterminatedQuote => return None,
        }
    }
    Some(())
}

#[cfg(test)]
mod tests;
