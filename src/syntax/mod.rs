//! Parsing: `.wall` text to a typed [`Ast`], with diagnostics; and, for the
//! formatter, each statement's tokens ([`statement_tokens`]).
//!
//! Invariant: parsing never fails. It returns the statements that parsed and a
//! diagnostic for each statement that did not, so one run reports every broken
//! statement. Boundary: pest types never leave this module.
//!
//! `scan.rs` is the one scanner of strings and comments (statements are cut
//! at each `;` outside them); `driver.rs` parses each statement with pest and
//! recovers from a missing `;`; `report.rs` puts syntax errors in words;
//! `lower.rs` turns pest's pairs into the [`Ast`]; `tokens.rs` gives the
//! formatter each statement's tokens.

pub mod ast;
mod driver;
mod lower;
mod report;
pub(crate) mod scan;
mod tokens;

pub use ast::*;
pub use tokens::{statement_tokens, Part, StatementKind, StatementTokens, Token, TokenKind};

use crate::diagnostic::Diagnostic;
use crate::source::FileId;

mod grammar {
    #[derive(pest_derive::Parser)]
    #[grammar = "../grammar/bmcwall.pest"]
    pub struct WallParser;
}

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
    "watch",
    "include",
    "inventory",
    "gateway",
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

/// Keywords that begin a statement (the first fourteen of [`KEYWORDS`]): where
/// one of them starts a line inside a statement, the statement before it most
/// likely lacks its `;`.
const STATEMENT_KEYWORDS: &[&str] = KEYWORDS.split_at(14).0;

/// A piece of a statement as code alone: comments left out and white space
/// outside strings removed, so that laying the text out another way (as
/// `fmt` does) does not change it.
pub fn code_only(text: &str) -> String {
    let mut out = String::new();
    for piece in scan::regions(text) {
        let part = &text[piece.start..piece.end];
        match piece.region {
            scan::Region::Comment => {}
            scan::Region::Code => out.extend(part.chars().filter(|c| !c.is_whitespace())),
            _ => out.push_str(part),
        }
    }
    out
}

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
    driver::parse(file, text, watch)
}

#[cfg(test)]
mod tests;
