//! Parsing: `.wall` text to a typed [`Ast`], with diagnostics; and, for the
//! formatter, each statement's tokens ([`statement_tokens`]).
//!
//! Invariant: parsing never fails. It returns the statements that parsed and a
//! diagnostic for each statement that did not, so one run reports every broken
//! statement. Boundary: pest types never leave this module.

pub mod ast;
mod lower;
mod tokens;

pub use ast::*;
pub use tokens::{statement_tokens, Part, StatementKind, StatementTokens, Token, TokenKind};

use crate::diagnostic::{Code, Diagnostic};
use crate::model::DefKind;
use crate::source::{FileId, Span};
use pest::Parser;

mod grammar {
    #[derive(pest_derive::Parser)]
    #[grammar = "../grammar/bmcwall.pest"]
    pub struct WallParser;
}

use grammar::{Rule as G, WallParser};

/// Every reserved word, statement keywords first.
pub const KEYWORDS: &[&str] = &[
    "allow",
    "deny",
    "expect",
    "host",
    "network",
    "group",
    "bmc",
    "service",
    "internal",
    "scope",
    "include",
    "inventory",
    "except",
    "log",
    "until",
    "waive",
    "any",
    "internet",
    "bmcs",
    "tcp",
    "udp",
    "icmp",
];

/// True when `word` is reserved and cannot name anything.
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

/// Keywords that begin a statement (the first twelve of [`KEYWORDS`]): where
/// one of them starts a line inside a statement, the statement before it most
/// likely lacks its `;`.
const STATEMENT_KEYWORDS: &[&str] = KEYWORDS.split_at(12).0;

/// Parses one file's text.
pub fn parse(file: FileId, text: &str) -> (Ast, Vec<Diagnostic>) {
    parse_watching(file, text, &mut |_| {})
}

/// [`parse`], showing `watch` each statement as soon as it is read (the
/// resolver starts reading inventories while the rest is parsed).
pub fn parse_watching(
    file: FileId,
    text: &str,
    watch: &mut dyn FnMut(&Statement),
) -> (Ast, Vec<Diagnostic>) {
    let mut driver = Driver {
        file,
        text,
        ast: Ast::default(),
        diagnostics: Vec::new(),
        watch,
    };
    for chunk in statement_chunks(text) {
        match chunk.unterminated {
            Some(quote) => {
                driver.unterminated_string(quote);
                driver.define_placeholder(chunk.start, chunk.end);
            }
            None => driver.chunk(chunk.start, chunk.end),
        }
    }
    (driver.ast, driver.diagnostics)
}

/// Parses statements one at a time, collecting what parsed and what did not.
struct Driver<'t> {
    file: FileId,
    text: &'t str,
    ast: Ast,
    diagnostics: Vec<Diagnostic>,
    watch: &'t mut dyn FnMut(&Statement),
}

impl Driver<'_> {
    /// Parses the statement in `text[start..end]`.
    ///
    /// A statement keyword at the start of a line inside the chunk most likely
    /// begins the next statement, the one before lacking its `;`. So the text up
    /// to such a line is parsed first: if it only lacks its `;`, that is
    /// reported, it is parsed as if the `;` were there, and the rest is read as
    /// the next statement; if it has another error, that is reported and the
    /// rest is read as well. Parsing in these windows also keeps the work linear
    /// in the file's length (pest's error reports cost the length of the input).
    fn chunk(&mut self, mut start: usize, end: usize) {
        /// How many statement-keyword lines one statement may continue over
        /// (`group g = a,\n  internal;`) before the rest is parsed whole.
        const MAX_WINDOWS: usize = 16;
        'statements: loop {
            let mut window_end = start;
            for _ in 0..MAX_WINDOWS {
                let Some(next) = self.keyword_line_after(window_end, end) else {
                    break;
                };
                window_end = next;
                let error = match WallParser::parse(G::single, &self.text[start..next]) {
                    Ok(pairs) => {
                        self.lower(start, self.text.len(), pairs);
                        start = next;
                        continue 'statements;
                    }
                    Err(error) => error,
                };
                let offset = start + error_offset(&error);
                if !token_at(self.text, offset, next).is_empty() {
                    // The error lies before the keyword line: report it, and
                    // read on from there.
                    self.diagnostics
                        .push(syntax_error(self.file, self.text, start, next, &error));
                    self.define_placeholder(start, next);
                    start = next;
                    continue 'statements;
                }
                if expected(&error).contains(&"`;`") {
                    self.recover_missing_semicolon(start, next);
                    start = next;
                    continue 'statements;
                }
                // The statement goes on past the keyword line: widen the window.
            }
            let error = match WallParser::parse(G::single, &self.text[start..end]) {
                Ok(pairs) => {
                    self.lower(start, self.text.len(), pairs);
                    return;
                }
                Err(error) => error,
            };
            let offset = start + error_offset(&error);
            if let Some(next) = self.next_statement_at(start, offset, &error) {
                self.recover_missing_semicolon(start, next);
                start = next;
                continue;
            }
            self.diagnostics
                .push(syntax_error(self.file, self.text, start, end, &error));
            if token_at(self.text, offset, end).is_empty() && expected(&error).contains(&"`;`") {
                // The last statement only lacks its `;`: read it anyway.
                self.lower_repaired(start, content_end(self.text, start, end));
            } else {
                self.define_placeholder(start, end);
            }
            return;
        }
    }

    /// Records the name a broken definition in `text[start..end]` defines,
    /// with an empty value, if its head (`host NAME =`) parses: uses of the
    /// name then raise no "unknown name" on top of the syntax error.
    fn define_placeholder(&mut self, start: usize, end: usize) {
        let Ok(mut head) = WallParser::parse(G::definition_head, &self.text[start..end]) else {
            return;
        };
        let (Some(kind), Some(name)) = (head.next(), head.next()) else {
            return;
        };
        let name_span = Span::new(
            self.file,
            start + name.as_span().start(),
            start + name.as_span().end(),
        );
        let name = Ident {
            name: name.as_str().to_string(),
            span: name_span,
        };
        let span = Span::new(self.file, start, content_end(self.text, start, end));
        let kind = match kind.into_inner().next().map(|k| k.as_rule()) {
            Some(G::def_host) => DefKind::Host,
            Some(G::def_network) => DefKind::Network,
            Some(G::def_group) => DefKind::Group,
            Some(G::def_bmc) => DefKind::Bmc,
            _ => {
                self.ast.statements.push(Statement::Service(ServiceDef {
                    name,
                    items: Vec::new(),
                    span,
                }));
                return;
            }
        };
        self.ast.statements.push(Statement::Define(Definition {
            kind,
            name,
            value: AddrExpr {
                include: Vec::new(),
                except: Vec::new(),
                span: name_span,
            },
            span,
        }));
    }

    /// Reports the missing `;` of the statement in `text[start..next]` and
    /// parses it as if the `;` were there.
    fn recover_missing_semicolon(&mut self, start: usize, next: usize) {
        let content_end = content_end(self.text, start, next);
        self.diagnostics
            .push(missing_semicolon(self.file, self.text, content_end, next));
        self.lower_repaired(start, content_end);
    }

    /// Parses `text[start..content_end]` with a `;` added, for a statement
    /// whose missing `;` is already reported.
    fn lower_repaired(&mut self, start: usize, content_end: usize) {
        let repaired = format!("{};", &self.text[start..content_end]);
        if let Ok(pairs) = WallParser::parse(G::single, &repaired) {
            self.lower(start, content_end, pairs);
        }
    }

    /// The offset of the first statement keyword after `from` (and before
    /// `end`) that is the first word on its line.
    fn keyword_line_after(&self, from: usize, end: usize) -> Option<usize> {
        let mut pos = from;
        while let Some(newline) = self.text[pos..end].find('\n') {
            let line_start = pos + newline + 1;
            let indent = self.text[line_start..end]
                .bytes()
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count();
            let word_start = line_start + indent;
            if STATEMENT_KEYWORDS.contains(&token_at(self.text, word_start, end)) {
                return Some(word_start);
            }
            pos = line_start;
        }
        None
    }

    /// Lowers the statement parsed from the text at `start`, its spans ending
    /// by `limit`.
    fn lower(&mut self, start: usize, limit: usize, mut pairs: pest::iterators::Pairs<'_, G>) {
        if let Some(pair) = pairs.next() {
            let mut lowering = lower::Lowering::new(self.file, start, limit, &mut self.diagnostics);
            if let Some(statement) = lowering.statement(pair) {
                (self.watch)(&statement);
                self.ast.statements.push(statement);
            }
        }
    }

    /// The offset of a statement keyword that starts a line where the parser
    /// wanted `;`, if the error is one.
    fn next_statement_at(
        &self,
        start: usize,
        offset: usize,
        error: &pest::error::Error<G>,
    ) -> Option<usize> {
        let word = token_at(self.text, offset, self.text.len());
        let line_start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let starts_line = line_start > start
            && self.text[line_start..offset]
                .chars()
                .all(|c| c == ' ' || c == '\t');
        (STATEMENT_KEYWORDS.contains(&word) && starts_line && expected(error).contains(&"`;`"))
            .then_some(offset)
    }

    /// Reports a string whose closing `"` is missing on its line.
    fn unterminated_string(&mut self, quote: usize) {
        let line_end = self.text[quote..]
            .find('\n')
            .map_or(self.text.len(), |i| quote + i);
        let end = quote + self.text[quote..line_end].trim_end().len();
        self.diagnostics.push(
            Diagnostic::new(
                Code::SyntaxError,
                "unterminated string",
                Span::new(self.file, quote, end),
                "this string has no closing `\"`",
            )
            .with_help(
                "a string ends with `\"` on the line where it starts; write `\\\"` for a quote inside it",
            ),
        );
    }
}

/// One statement's bytes. A statement holding a string whose closing quote is
/// missing on its line is not parsed: `unterminated` is where that string starts.
struct Chunk {
    start: usize,
    end: usize,
    unterminated: Option<usize>,
}

/// The statements of a file: each ends after a `;` that is outside strings and
/// comments; trailing text without `;` forms a last chunk. Chunks that hold only
/// whitespace and comments are skipped. A string ends at its closing quote or,
/// when that is missing, at the end of the line: then the statement ends with
/// that line if a `;` follows the opening quote on it, and otherwise goes on.
fn statement_chunks(text: &str) -> Vec<Chunk> {
    let bytes = text.as_bytes();
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut has_content = false;
    let mut unterminated = None;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                i = comment_end(bytes, i);
                continue;
            }
            b'"' => {
                has_content = true;
                let quote = i;
                i += 1;
                while i < bytes.len() && !matches!(bytes[i], b'"' | b'\n' | b'\r') {
                    if bytes[i] == b'\\' && matches!(bytes.get(i + 1), Some(b'"' | b'\\')) {
                        i += 1;
                    }
                    i += 1;
                }
                if bytes.get(i) != Some(&b'"') {
                    unterminated.get_or_insert(quote);
                    if bytes[quote..i].contains(&b';') {
                        // The `;` that ends the statement is most likely on
                        // this line, after the missing quote: the statement
                        // ends with the line.
                        chunks.push(Chunk {
                            start,
                            end: i,
                            unterminated: unterminated.take(),
                        });
                        start = i;
                        has_content = false;
                    } else {
                        // Read the rest of the line again as code.
                        i = quote + 1;
                    }
                    continue;
                }
            }
            b';' => {
                chunks.push(Chunk {
                    start,
                    end: i + 1,
                    unterminated: unterminated.take(),
                });
                start = i + 1;
                has_content = false;
            }
            b' ' | b'\t' | b'\r' | b'\n' => {}
            _ => has_content = true,
        }
        i += 1;
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

/// Where the comment that starts at `bytes[at]` (a `#`) ends: at the `\n`
/// of its line, or at the end of `bytes`.
pub(crate) fn comment_end(bytes: &[u8], at: usize) -> usize {
    bytes[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |n| at + n)
}

/// The end of the last token in `text[start..limit]`, skipping whitespace and
/// comments: where a missing `;` belongs.
fn content_end(text: &str, start: usize, limit: usize) -> usize {
    let bytes = &text.as_bytes()[..limit];
    let mut end = start;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                i = comment_end(bytes, i);
                continue;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && !matches!(bytes[i], b'"' | b'\n') {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                end = (i + 1).min(bytes.len());
            }
            b' ' | b'\t' | b'\r' | b'\n' => {}
            _ => end = i + 1,
        }
        i += 1;
    }
    // A multi-byte character ends later than its first byte.
    while !text.is_char_boundary(end) {
        end += 1;
    }
    end
}

/// Where a pest error is, relative to the parsed text.
fn error_offset(error: &pest::error::Error<G>) -> usize {
    use pest::error::InputLocation;
    match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    }
}

/// What the parser would have accepted, described for people, sorted.
fn expected(error: &pest::error::Error<G>) -> Vec<&'static str> {
    use pest::error::ErrorVariant;
    let mut expected: Vec<&str> = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.iter().map(describe).collect(),
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    expected.sort_unstable();
    expected.dedup();
    expected
}

fn missing_semicolon(file: FileId, text: &str, content_end: usize, next: usize) -> Diagnostic {
    let keyword = token_at(text, next, text.len());
    Diagnostic::new(
        Code::SyntaxError,
        format!("missing `;` before `{keyword}`"),
        Span::new(file, content_end, content_end),
        "expected `;` here",
    )
    .with_related(
        Span::new(file, next, next + keyword.len()),
        "the next statement starts here",
    )
    .with_help("every statement ends with `;`")
}

/// A readable description of what a grammar rule stands for.
fn describe(kind: &G) -> &'static str {
    match kind {
        G::EOI => "end of statement",
        G::semi => "`;`",
        G::comma => "`,`",
        G::colon => "`:`",
        G::equals => "`=`",
        G::lparen => "`(`",
        G::rparen => "`)`",
        G::name | G::label => "a name",
        G::string | G::string_inner => "a string",
        G::ipv4 | G::ipv6 | G::address | G::prefix | G::range => "an address",
        G::prefix_len => "a prefix length",
        G::number | G::port | G::port_range => "a port",
        G::date => "a date (YYYY-MM-DD)",
        G::lint_code => "a code like BW101",
        G::kw_allow => "`allow`",
        G::kw_deny => "`deny`",
        G::action => "`allow` or `deny`",
        G::kw_expect => "`expect`",
        G::kw_service => "`service`",
        G::kw_internal => "`internal`",
        G::kw_internet => "`internet`",
        G::kw_scope => "`scope`",
        G::kw_include => "`include`",
        G::kw_inventory | G::selector => "`inventory`",
        G::kw_except => "`except`",
        G::kw_format => "`format`",
        G::format_name => "a format name",
        G::kw_log => "`log`",
        G::kw_until | G::until_attr => "`until`",
        G::kw_waive | G::waive_attr => "`waive`",
        G::kw_any => "`any`",
        G::kw_bmcs => "`bmcs`",
        G::kw_icmp => "`icmp`",
        G::proto_tcp | G::svc_ports => "`tcp`",
        G::proto_udp => "`udp`",
        G::def_host => "`host`",
        G::def_kind => "`host`, `network`, `group` or `bmc`",
        G::def_network => "`network`",
        G::def_group => "`group`",
        G::def_bmc => "`bmc`",
        G::arrow => "`->`",
        G::op_eq => "`=`",
        G::op_ne => "`!=`",
        G::condition => "a label condition",
        G::addrs | G::term_list => "an address expression",
        G::services => "a service",
        _ => "more input",
    }
}

fn syntax_error(
    file: FileId,
    text: &str,
    chunk_start: usize,
    chunk_end: usize,
    error: &pest::error::Error<G>,
) -> Diagnostic {
    let mut offset = chunk_start + error_offset(error);
    let found = token_at(text, offset, chunk_end);
    if found.is_empty() {
        // At the end of the statement: point just after its last token rather
        // than at whatever whitespace or comment follows it.
        offset = content_end(text, chunk_start, offset);
    }
    let span = Span::new(file, offset, offset + found.len());
    let expected = expected(error);
    let what = if found.is_empty() {
        "end of input".to_string()
    } else {
        format!("`{found}`")
    };
    let wants_name = ["a name", "an address expression", "a service"]
        .iter()
        .any(|want| expected.contains(want));
    if wants_name && is_keyword(found) {
        let mut diagnostic = Diagnostic::new(
            Code::SyntaxError,
            format!("`{found}` is a keyword and cannot be used as a name"),
            span,
            "keyword used as a name",
        );
        diagnostic = match found {
            "bmc" if expected.contains(&"an address expression") => {
                diagnostic.with_help("did you mean `bmcs`, every BMC?")
            }
            _ => {
                diagnostic.with_help("choose another name; keywords are listed in docs/language.md")
            }
        };
        return diagnostic;
    }
    // The first word of a statement is wrong: the parser lists the words a
    // statement can start with, of which `expect` is only one.
    if expected.contains(&"`expect`") {
        return Diagnostic::new(
            Code::SyntaxError,
            format!("expected a statement, found {what}"),
            span,
            "not the start of a statement",
        )
        .with_help(format!(
            "a statement starts with one of {}",
            join_alternatives(
                &STATEMENT_KEYWORDS
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
            )
        ));
    }
    if found.is_empty() && expected.contains(&"`;`") {
        return Diagnostic::new(
            Code::SyntaxError,
            "missing `;` at the end of the statement",
            span,
            "expected `;` here",
        )
        .with_help("every statement ends with `;`");
    }
    let expected_text = join_alternatives(&expected);
    let message = if expected_text.is_empty() {
        format!("unexpected {what}")
    } else {
        format!("expected {expected_text}, found {what}")
    };
    let label = if expected_text.is_empty() {
        "unexpected here".to_string()
    } else {
        format!("expected {expected_text}")
    };
    let mut diagnostic = Diagnostic::new(Code::SyntaxError, message, span, label);
    let is_number = !found.is_empty() && found.chars().all(|c| c.is_ascii_digit() || c == '-');
    if expected == ["a port"] && text[chunk_start..offset].trim_end().ends_with('-') {
        diagnostic = diagnostic.with_help("a port range is `FIRST-LAST`, e.g. `5900-5901`");
    } else if expected == ["a port"] {
        diagnostic = diagnostic
            .with_help("write ports after the protocol: `tcp 443`, `udp 623` or `tcp 5900-5901`");
    } else if expected.contains(&"a service") && is_number {
        diagnostic = diagnostic.with_help(format!(
            "a port needs its protocol: `tcp {found}` or `udp {found}`"
        ));
    } else if expected.contains(&"`format`") {
        diagnostic = diagnostic.with_help(
            "an inventory statement reads `inventory \"PATH\";` or `inventory \"PATH\" format NAME;`",
        );
    } else if expected.contains(&"`->`") && looks_like_term(found) {
        diagnostic =
            diagnostic.with_help("a rule reads `SOURCE -> DESTINATION`; put `->` between them");
    } else if expected.contains(&"`,`") && looks_like_term(found) {
        diagnostic = diagnostic.with_help("separate the terms of a list with `,`");
    } else if found.is_empty() {
        diagnostic =
            diagnostic.with_help("the statement is incomplete; every statement ends with `;`");
    }
    diagnostic
}

/// True for a word that could be an address term or a name.
fn looks_like_term(word: &str) -> bool {
    word.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && !is_keyword(word)
}

/// The token starting at `offset`: a word, an address-like run, or one character.
fn token_at(text: &str, offset: usize, limit: usize) -> &str {
    let rest = &text[offset.min(limit)..limit];
    let rest = rest.trim_end_matches(|c: char| c.is_whitespace());
    let mut chars = rest.char_indices();
    let Some((_, first)) = chars.next() else {
        return "";
    };
    let wordy = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | ':' | '/');
    if first == '"' {
        let end = rest[1..].find('"').map_or(rest.len(), |i| i + 2);
        return &rest[..end];
    }
    if !wordy(first) {
        if rest.starts_with("->") || rest.starts_with("!=") {
            return &rest[..2];
        }
        return &rest[..first.len_utf8()];
    }
    let end = rest
        .char_indices()
        .find(|&(_, c)| !wordy(c))
        .map_or(rest.len(), |(i, _)| i);
    &rest[..end]
}

fn join_alternatives(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

#[cfg(test)]
mod tests;
