//! What the server knows of one policy file's text: where each name is
//! defined and used (from the syntax tree, so a name in a string or a
//! comment is never taken for one), its symbols, and the conversion between
//! byte offsets and the protocol's UTF-16 positions.

use crate::model::DefKind;
use crate::source::{FileId, Span};
use crate::syntax::{self, AddrExpr, ServiceItem, ServiceKind, Statement, TermKind};
use lsp_types::{Position, Range};

/// One occurrence of a name in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub name: String,
    pub start: usize,
    pub end: usize,
    /// Where the name is defined, not used.
    pub definition: bool,
    /// A service name (else an address name).
    pub service: bool,
}

/// A definition or rule, for the outline.
#[derive(Clone, Debug)]
pub struct Symbol {
    pub name: String,
    pub detail: String,
    pub kind: SymbolKind,
    pub start: usize,
    pub end: usize,
    /// The part to select: the name of a definition, the keyword of a rule.
    pub select: (usize, usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    Address(DefKind),
    Service,
    Rule,
    Expectation,
}

/// The names and symbols of one file's text.
#[derive(Default)]
pub struct Index {
    pub occurrences: Vec<Occurrence>,
    pub symbols: Vec<Symbol>,
}

impl Index {
    pub fn of(text: &str) -> Index {
        let (ast, _) = syntax::parse(FileId(0), text);
        let mut index = Index::default();
        for statement in &ast.statements {
            index.statement(statement, text);
        }
        index.occurrences.sort_by_key(|o| o.start);
        index
    }

    /// The occurrence at byte `offset` (its end counts, so a cursor just
    /// after a name finds it).
    pub fn at(&self, offset: usize) -> Option<&Occurrence> {
        self.occurrences
            .iter()
            .find(|o| o.start <= offset && offset <= o.end)
    }

    fn statement(&mut self, statement: &Statement, text: &str) {
        match statement {
            Statement::Internal(expr, _) | Statement::Scope(expr, _) => self.expr(expr),
            Statement::Define(definition) => {
                self.name(&definition.name.name, definition.name.span, true, false);
                self.expr(&definition.value);
                self.symbols.push(Symbol {
                    name: definition.name.name.clone(),
                    detail: definition.kind.keyword().to_string(),
                    kind: SymbolKind::Address(definition.kind),
                    start: definition.span.start as usize,
                    end: definition.span.end as usize,
                    select: bounds(definition.name.span),
                });
            }
            Statement::Service(service) => {
                self.name(&service.name.name, service.name.span, true, true);
                self.services(&service.items);
                self.symbols.push(Symbol {
                    name: service.name.name.clone(),
                    detail: "service".into(),
                    kind: SymbolKind::Service,
                    start: service.span.start as usize,
                    end: service.span.end as usize,
                    select: bounds(service.name.span),
                });
            }
            Statement::Rule(rule) => {
                self.expr(&rule.src);
                self.expr(&rule.dst);
                if let Some(items) = &rule.services {
                    self.services(items);
                }
                let (start, end) = bounds(rule.span);
                self.symbols.push(Symbol {
                    name: one_line(&text[start..end]),
                    detail: rule
                        .description
                        .as_ref()
                        .map_or_else(String::new, |d| d.value.clone()),
                    kind: SymbolKind::Rule,
                    start,
                    end,
                    select: (start, start + keyword_length(&text[start..end])),
                });
            }
            Statement::Expect(expect) => {
                self.expr(&expect.src);
                self.expr(&expect.dst);
                if let Some(items) = &expect.services {
                    self.services(items);
                }
                let (start, end) = bounds(expect.span);
                self.symbols.push(Symbol {
                    name: one_line(&text[start..end]),
                    detail: expect
                        .description
                        .as_ref()
                        .map_or_else(String::new, |d| d.value.clone()),
                    kind: SymbolKind::Expectation,
                    start,
                    end,
                    select: (start, start + keyword_length(&text[start..end])),
                });
            }
            Statement::Include(..) | Statement::Inventory(..) => {}
        }
    }

    fn expr(&mut self, expr: &AddrExpr) {
        for term in expr.include.iter().chain(&expr.except) {
            if let TermKind::Name(name) = &term.kind {
                self.name(name, term.span, false, false);
            }
        }
    }

    fn services(&mut self, items: &[ServiceItem]) {
        for item in items {
            if let ServiceKind::Name(name) = &item.kind {
                self.name(name, item.span, false, true);
            }
        }
    }

    fn name(&mut self, name: &str, span: Span, definition: bool, service: bool) {
        let (start, end) = bounds(span);
        self.occurrences.push(Occurrence {
            name: name.to_string(),
            start,
            end,
            definition,
            service,
        });
    }
}

fn bounds(span: Span) -> (usize, usize) {
    (span.start as usize, span.end as usize)
}

/// A statement on one line, shortened for the outline.
fn one_line(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let line = words.join(" ");
    match line.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

/// The length of the statement's first word (`allow`, `deny`, `expect`).
fn keyword_length(text: &str) -> usize {
    text.find(|c: char| c.is_whitespace()).unwrap_or(text.len())
}

/// The protocol position (line, UTF-16 column) of byte `offset` in `text`.
pub fn position(text: &str, offset: usize) -> Position {
    let offset = floor_boundary(text, offset.min(text.len()));
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..line_start].matches('\n').count();
    let character: usize = text[line_start..offset].chars().map(char::len_utf16).sum();
    Position::new(line as u32, character as u32)
}

pub fn range(text: &str, start: usize, end: usize) -> Range {
    Range::new(position(text, start), position(text, end))
}

/// The byte offset of a protocol position in `text` (clamped to the line
/// and the text).
pub fn offset(text: &str, position: Position) -> usize {
    let mut line_start = 0;
    for _ in 0..position.line {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let mut units = 0u32;
    for (i, c) in text[line_start..line_end].char_indices() {
        if units >= position.character {
            return line_start + i;
        }
        units += c.len_utf16() as u32;
    }
    line_end
}

fn floor_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        let text = "host a = 10.0.0.1;\nallow a -> bmcs : ssh \"é𝄞x\";\n";
        let x = text.find('x').unwrap();
        // é is one unit, 𝄞 two.
        assert_eq!(position(text, x), Position::new(1, 26));
        assert_eq!(offset(text, Position::new(1, 26)), x);
        assert_eq!(offset(text, Position::new(0, 99)), text.find('\n').unwrap());
        assert_eq!(offset(text, Position::new(9, 0)), text.len());
    }

    #[test]
    fn names_are_found_where_defined_and_used_never_in_strings_or_comments() {
        let text = "host jump = 10.0.0.1; # jump\nservice web = tcp 443;\n\
                    allow jump -> bmcs : web, ssh \"jump\";\n";
        let index = Index::of(text);
        let found: Vec<(&str, bool, bool, &str)> = index
            .occurrences
            .iter()
            .map(|o| {
                (
                    o.name.as_str(),
                    o.definition,
                    o.service,
                    &text[o.start..o.end],
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                ("jump", true, false, "jump"),
                ("web", true, true, "web"),
                ("jump", false, false, "jump"),
                ("web", false, true, "web"),
                ("ssh", false, true, "ssh"),
            ]
        );
        let symbols: Vec<(&str, SymbolKind)> = index
            .symbols
            .iter()
            .map(|s| (s.name.as_str(), s.kind))
            .collect();
        assert_eq!(
            symbols,
            [
                ("jump", SymbolKind::Address(DefKind::Host)),
                ("web", SymbolKind::Service),
                ("allow jump -> bmcs : web, ssh \"jump\";", SymbolKind::Rule),
            ]
        );
    }
}
