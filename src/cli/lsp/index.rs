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
    /// A gateway's name (gateways have a namespace of their own).
    pub gateway: bool,
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
    Gateway,
}

/// The names and symbols of one file's text.
#[derive(Default)]
pub struct Index {
    pub occurrences: Vec<Occurrence>,
    pub symbols: Vec<Symbol>,
    /// Each `inventory(...)` selector: its byte range and conditions.
    pub selectors: Vec<(usize, usize, Vec<crate::syntax::Condition>)>,
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
            Statement::Internal(expr, _)
            | Statement::Scope(expr, _)
            | Statement::Watch(expr, _) => self.expr(expr),
            Statement::Gateway(gateway) => {
                self.gateway_name(&gateway.name, true);
                self.expr(&gateway.addrs);
                for item in &gateway.items {
                    match &item.kind {
                        crate::syntax::GatewayItemKind::Scope(expr) => self.expr(expr),
                        crate::syntax::GatewayItemKind::Pair(peer) => {
                            self.gateway_name(peer, false)
                        }
                        _ => {}
                    }
                }
                self.symbols.push(Symbol {
                    name: gateway.name.name.clone(),
                    detail: "gateway".into(),
                    kind: SymbolKind::Gateway,
                    start: gateway.span.start as usize,
                    end: gateway.span.end as usize,
                    select: bounds(gateway.name.span),
                });
            }
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
            match &term.kind {
                TermKind::Name(name) => self.name(name, term.span, false, false),
                TermKind::Selector(conditions) => {
                    let (start, end) = bounds(term.span);
                    self.selectors.push((start, end, conditions.clone()));
                }
                _ => {}
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
            gateway: false,
        });
    }

    /// A gateway's name where it is declared or named by `pair`.
    fn gateway_name(&mut self, name: &crate::syntax::Ident, definition: bool) {
        let (start, end) = bounds(name.span);
        self.occurrences.push(Occurrence {
            name: name.name.clone(),
            start,
            end,
            definition,
            service: false,
            gateway: true,
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

/// What a highlighted piece of text is, in the order of [`TOKEN_TYPES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenType {
    Comment,
    String,
    Keyword,
    /// An address name (host, network, group, bmc, or a built-in one).
    Variable,
    /// A service name.
    Service,
}

/// The legend's token types, as the protocol names them.
pub const TOKEN_TYPES: [&str; 5] = ["comment", "string", "keyword", "variable", "enumMember"];

/// The legend's one modifier: where a name is defined.
pub const TOKEN_MODIFIERS: [&str; 1] = ["declaration"];

/// A piece of text to highlight: byte range, type, and whether it is a
/// definition.
pub type Highlight = (usize, usize, TokenType, bool);

/// Every piece of `text` to highlight, in order: comments and strings from
/// the one scanner, keywords in the code between them, names from the
/// syntax tree.
pub fn highlights(text: &str, index: &Index) -> Vec<Highlight> {
    use crate::syntax::scan::{regions, Region};
    let mut out = Vec::new();
    for piece in regions(text) {
        match piece.region {
            Region::Comment => out.push((piece.start, piece.end, TokenType::Comment, false)),
            Region::String | Region::UnterminatedString | Region::UnterminatedQuote => {
                out.push((piece.start, piece.end, TokenType::String, false));
            }
            Region::Code => {
                let code = &text[piece.start..piece.end];
                let mut word_start = None;
                for (i, c) in code.char_indices().chain([(code.len(), ' ')]) {
                    let in_word = c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
                    match (in_word, word_start) {
                        (true, None) => word_start = Some(i),
                        (false, Some(start)) => {
                            let word = &code[start..i];
                            if crate::syntax::KEYWORDS.contains(&word)
                                && !matches!(word, "any" | "internet" | "bmcs")
                            {
                                let at = piece.start + start;
                                out.push((at, at + word.len(), TokenType::Keyword, false));
                            }
                            word_start = None;
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    for o in &index.occurrences {
        let kind = if o.service {
            TokenType::Service
        } else {
            TokenType::Variable
        };
        out.push((o.start, o.end, kind, o.definition));
    }
    out.sort_by_key(|h| h.0);
    out
}

/// `highlights` in the protocol's encoding: per token, the line and start
/// relative to the previous token's, its length (UTF-16), type and
/// modifiers; a token that spans lines is cut at each line end.
pub fn semantic_tokens(text: &str, index: &Index) -> Vec<lsp_types::SemanticToken> {
    let mut tokens = Vec::new();
    let (mut last_line, mut last_start) = (0u32, 0u32);
    for (start, end, kind, definition) in highlights(text, index) {
        let mut piece_start = start;
        for line in text[start..end].split_inclusive('\n') {
            let piece_end = piece_start + line.trim_end_matches('\n').len();
            if piece_end > piece_start {
                let from = position(text, piece_start);
                let length: usize = text[piece_start..piece_end]
                    .chars()
                    .map(char::len_utf16)
                    .sum();
                let delta_line = from.line - last_line;
                let delta_start = if delta_line == 0 {
                    from.character - last_start
                } else {
                    from.character
                };
                tokens.push(lsp_types::SemanticToken {
                    delta_line,
                    delta_start,
                    length: length as u32,
                    token_type: kind as u32,
                    token_modifiers_bitset: u32::from(definition),
                });
                (last_line, last_start) = (from.line, from.character);
            }
            piece_start += line.len();
        }
    }
    tokens
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
    fn highlights_are_comments_strings_keywords_and_names() {
        let text = "host jump = 10.0.0.1; # a comment\nallow jump -> bmcs : ssh \"why\";\n";
        let found: Vec<(&str, TokenType, bool)> = highlights(text, &Index::of(text))
            .into_iter()
            .map(|(start, end, kind, definition)| (&text[start..end], kind, definition))
            .collect();
        assert_eq!(
            found,
            [
                ("host", TokenType::Keyword, false),
                ("jump", TokenType::Variable, true),
                ("# a comment", TokenType::Comment, false),
                ("allow", TokenType::Keyword, false),
                ("jump", TokenType::Variable, false),
                ("ssh", TokenType::Service, false),
                ("\"why\"", TokenType::String, false),
            ]
        );
        let tokens = semantic_tokens(text, &Index::of(text));
        let second_line = &tokens[3];
        assert_eq!((second_line.delta_line, second_line.delta_start), (1, 0));
        assert_eq!(tokens[1].delta_start, 5);
        assert_eq!(tokens[1].token_modifiers_bitset, 1);
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
