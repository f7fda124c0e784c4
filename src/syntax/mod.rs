//! Parsing: `.wall` text to a typed [`Ast`], with diagnostics.
//!
//! Invariant: parsing never fails. It returns the statements that parsed and a
//! diagnostic for each statement that did not, so one run reports every broken
//! statement. Boundary: pest types never leave this module.

pub mod ast;
mod lower;

pub use ast::*;

use crate::diagnostic::Diagnostic;
use crate::lints::registry::Code;
use crate::source::{FileId, Span};
use pest::Parser;

mod grammar {
    #[derive(pest_derive::Parser)]
    #[grammar = "../grammar/bmcwall.pest"]
    pub struct WallParser;
}

use grammar::{Rule as G, WallParser};

const KEYWORDS: &[&str] = &[
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

/// Parses one file's text.
pub fn parse(file: FileId, text: &str) -> (Ast, Vec<Diagnostic>) {
    let mut ast = Ast::default();
    let mut diagnostics = Vec::new();
    for (start, end) in statement_chunks(text) {
        match WallParser::parse(G::single, &text[start..end]) {
            Ok(mut pairs) => {
                if let Some(pair) = pairs.next() {
                    let mut lowering = lower::Lowering::new(file, start, &mut diagnostics);
                    if let Some(statement) = lowering.statement(pair) {
                        ast.statements.push(statement);
                    }
                }
            }
            Err(error) => diagnostics.push(syntax_error(file, text, start, end, &error)),
        }
    }
    (ast, diagnostics)
}

/// Byte ranges of the statements: each ends after a `;` that is outside strings
/// and comments; trailing text without `;` forms a last chunk. Chunks that hold
/// only whitespace and comments are skipped.
fn statement_chunks(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut has_content = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                has_content = true;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b';' => {
                chunks.push((start, i + 1));
                start = i + 1;
                has_content = false;
            }
            b' ' | b'\t' | b'\r' | b'\n' => {}
            _ => has_content = true,
        }
        i += 1;
    }
    if has_content {
        chunks.push((start, text.len()));
    }
    chunks
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
        G::kw_log => "`log`",
        G::kw_until | G::until_attr => "`until`",
        G::kw_waive | G::waive_attr => "`waive`",
        G::kw_any => "`any`",
        G::kw_bmcs => "`bmcs`",
        G::kw_icmp => "`icmp`",
        G::proto_tcp | G::svc_ports => "`tcp`",
        G::proto_udp => "`udp`",
        G::def_host | G::def_kind => "`host`",
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
    use pest::error::{ErrorVariant, InputLocation};
    let pos = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let offset = chunk_start + pos;
    let found = token_at(text, offset, chunk_end);
    let span = Span::new(file, offset, offset + found.len());
    let mut expected: Vec<&str> = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.iter().map(describe).collect(),
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    expected.sort_unstable();
    expected.dedup();
    let wants_name = expected.contains(&"a name");
    let what = if found.is_empty() {
        "end of input".to_string()
    } else {
        format!("`{found}`")
    };
    if wants_name && is_keyword(found) {
        return Diagnostic::new(
            Code::SyntaxError,
            format!("`{found}` is a keyword and cannot be used as a name"),
            span,
            "keyword used as a name",
        )
        .with_help("choose another name; keywords are listed in docs/language.md");
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
    if found.is_empty() && expected.contains(&"`;`") {
        diagnostic = diagnostic.with_help("every statement ends with `;`");
    } else if found.is_empty() {
        diagnostic =
            diagnostic.with_help("the statement is incomplete; every statement ends with `;`");
    }
    diagnostic
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
