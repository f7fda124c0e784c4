//! BW001 syntax-error
//!
//! ## What it does
//! Reports text that is not the policy language: a missing `;`, a misspelt keyword, a keyword used as a name, an unterminated string. Each broken statement is reported; parsing goes on with the next statement.
//!
//! ## Why it matters
//! A policy that does not parse has no meaning to check or compile; bmcwall refuses it (exit 2) rather than guess.
//!
//! ## Example
//! ```text
//! host jump1 = 10.20.0.5      # missing `;`
//! allow jump1 -> bmcs : ssh;
//! ```
//!
//! ## How to fix
//! Write the statement as docs/language.md shows; the label points at the first token that does not fit.

// Reported by the parser (src/syntax); this file holds only its documentation.
