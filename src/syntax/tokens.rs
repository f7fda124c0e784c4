//! The leaf tokens of each statement, with their byte ranges and the part of
//! the statement they belong to: what the formatter lays out. Comments and
//! whitespace are not tokens; they are what lies between them.

use super::grammar::{Rule as G, WallParser};
use super::scan::Region;
use pest::iterators::Pair;
use pest::Parser;

/// The kind of statement a token list makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatementKind {
    Internal,
    Scope,
    Watch,
    Include,
    Inventory,
    /// `host`, `network`, `group` or `bmc`.
    Definition,
    /// `service NAME = ...`.
    Service,
    /// `allow` or `deny`.
    Rule,
    /// `expect`.
    Expectation,
    /// `gateway NAME = ADDRS;` or with `{ ITEM; ... }`.
    Gateway,
}

/// The part of its statement a token belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The word a statement starts with (`host`, `service`, `internal`,
    /// `expect`, ...); a rule has none, its action comes first.
    Keyword,
    /// `allow` or `deny`, in a rule or an expectation.
    Action,
    /// The name a definition defines.
    Name,
    /// The `=` of a definition.
    Equals,
    /// The rest of a statement that is not a rule or expectation: the
    /// addresses, services or path.
    Value,
    /// The source addresses of a rule or expectation.
    Source,
    /// `->`.
    Arrow,
    /// The destination addresses of a rule or expectation.
    Destination,
    /// `:` and the services of a rule or expectation.
    Services,
    /// The item of that index (0-based) in a gateway's braces, its `;`
    /// included.
    Item(usize),
    /// The attribute of that index (0-based): `log`, `until DATE`,
    /// `waive CODE "reason"` or a description string.
    Attribute(usize),
    /// The closing `;`, or the `}` of a gateway's braces.
    End,
}

/// How a token sits among its neighbours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A word, value, string or operator: spaced from its neighbours.
    Word,
    /// `,`: nothing before it.
    Comma,
    /// `;`: nothing before it.
    Semicolon,
    /// `(`: nothing before or after it.
    OpenParen,
    /// `)`: nothing before it.
    CloseParen,
    /// The `-` between the two addresses of a range: nothing around it.
    RangeDash,
    /// The `{` of a gateway's items.
    OpenBrace,
    /// The `}` that ends a gateway's items.
    CloseBrace,
}

/// One token: `text[start..end]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub start: usize,
    pub end: usize,
    pub kind: TokenKind,
    pub part: Part,
}

/// One statement's tokens, in order; the last is its `;` (or `}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementTokens {
    pub kind: StatementKind,
    pub tokens: Vec<Token>,
}

/// The tokens of every statement in `text`, in order, or `None` when a
/// statement does not parse as it is written (the text has a syntax error).
pub fn statement_tokens(text: &str) -> Option<Vec<StatementTokens>> {
    let mut statements = Vec::new();
    for chunk in super::scan::statement_chunks(text) {
        if chunk.unterminated.is_some() {
            return None;
        }
        let source = &text[chunk.start..chunk.end];
        let pair = WallParser::parse(G::single, source).ok()?.next()?;
        statements.push(statement(pair, chunk.start, text)?);
    }
    Some(statements)
}

fn statement(pair: Pair<'_, G>, offset: usize, text: &str) -> Option<StatementTokens> {
    let kind = match pair.as_rule() {
        G::internal_stmt => StatementKind::Internal,
        G::scope_stmt => StatementKind::Scope,
        G::watch_stmt => StatementKind::Watch,
        G::include_stmt => StatementKind::Include,
        G::inventory_stmt => StatementKind::Inventory,
        G::definition => StatementKind::Definition,
        G::service_def => StatementKind::Service,
        G::rule => StatementKind::Rule,
        G::expectation => StatementKind::Expectation,
        G::gateway_stmt => StatementKind::Gateway,
        _ => return None,
    };
    let flow = matches!(kind, StatementKind::Rule | StatementKind::Expectation);
    let mut tokens = Vec::new();
    let mut addresses_seen = 0;
    let mut attributes = 0;
    let mut items = 0;
    for (index, child) in pair.into_inner().enumerate() {
        let part = match child.as_rule() {
            G::semi | G::rbrace => Part::End,
            G::gateway_scope | G::gateway_pair | G::gateway_mode | G::gateway_sync => {
                items += 1;
                Part::Item(items - 1)
            }
            _ if index == 0 && kind != StatementKind::Rule => Part::Keyword,
            G::action | G::expect_kind => Part::Action,
            G::name => Part::Name,
            G::equals => Part::Equals,
            G::arrow => Part::Arrow,
            G::addrs if flow => {
                addresses_seen += 1;
                if addresses_seen == 1 {
                    Part::Source
                } else {
                    Part::Destination
                }
            }
            G::colon | G::services if flow => Part::Services,
            G::kw_log | G::until_attr | G::waive_attr | G::string if flow => {
                attributes += 1;
                Part::Attribute(attributes - 1)
            }
            _ => Part::Value,
        };
        leaves(child, part, offset, text, &mut tokens)?;
    }
    Some(StatementTokens { kind, tokens })
}

/// Appends the leaf tokens of `pair` to `out`. Strings, prefixes and port
/// ranges are one token each, as they are written without spaces inside.
fn leaves(
    pair: Pair<'_, G>,
    part: Part,
    offset: usize,
    text: &str,
    out: &mut Vec<Token>,
) -> Option<()> {
    match pair.as_rule() {
        G::string | G::prefix | G::port_range => out.push(leaf(&pair, part, offset)),
        G::range => {
            // `range = { ip ~ "-" ~ ip }`: the `-` is no pair of its own, and
            // spaces and comments may surround it.
            let mut inner = pair.into_inner();
            let (first, last) = (inner.next()?, inner.next()?);
            let first = leaf(&first, part, offset);
            let last = leaf(&last, part, offset);
            let dash = dash_between(text, first.end, last.start)?;
            out.push(first);
            out.push(Token {
                start: dash,
                end: dash + 1,
                kind: TokenKind::RangeDash,
                part,
            });
            out.push(last);
        }
        _ => {
            let mut inner = pair.clone().into_inner().peekable();
            if inner.peek().is_none() {
                out.push(leaf(&pair, part, offset));
            }
            for child in inner {
                leaves(child, part, offset, text, out)?;
            }
        }
    }
    Some(())
}

fn leaf(pair: &Pair<'_, G>, part: Part, offset: usize) -> Token {
    let written = pair.as_str();
    let start = offset + pair.as_span().start();
    let kind = match pair.as_rule() {
        G::comma => TokenKind::Comma,
        G::semi => TokenKind::Semicolon,
        G::lparen => TokenKind::OpenParen,
        G::rparen => TokenKind::CloseParen,
        G::lbrace => TokenKind::OpenBrace,
        G::rbrace => TokenKind::CloseBrace,
        _ => TokenKind::Word,
    };
    Token {
        start,
        end: start + super::scan::content_end(written, 0, written.len()),
        kind,
        part,
    }
}

/// The offset of the `-` in `text[from..to]`, which holds only it, whitespace
/// and comments.
fn dash_between(text: &str, from: usize, to: usize) -> Option<usize> {
    let between = &text[from..to];
    super::scan::regions(between)
        .filter(|piece| piece.region == Region::Code)
        .find_map(|piece| Some(piece.start + between[piece.start..piece.end].find('-')?))
        .map(|at| from + at)
}
