//! The parse driver: cuts a file into statements, parses each with pest on
//! its own, and recovers from a missing `;` so one run reports every broken
//! statement.

use super::grammar::{Rule as G, WallParser};
use super::report::{error_offset, expected, missing_semicolon, syntax_error, token_at};
use super::scan::{content_end, statement_chunks};
use super::{lower, AddrExpr, Ast, Definition, Ident, ServiceDef, Statement, STATEMENT_KEYWORDS};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::DefKind;
use crate::source::{FileId, Span};
use pest::Parser;

/// Parses `text`, the contents of `file`, showing `watch` each statement as
/// soon as it is read.
pub(super) fn parse(
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
    // A byte-order mark (which some editors write) is not part of the text.
    let bom = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    for chunk in statement_chunks(text) {
        let start = chunk.start.max(bom);
        if start >= chunk.end {
            continue;
        }
        match chunk.unterminated {
            Some(quote) => {
                driver.unterminated_string(quote);
                driver.define_placeholder(start, chunk.end);
            }
            None => driver.chunk(start, chunk.end),
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
