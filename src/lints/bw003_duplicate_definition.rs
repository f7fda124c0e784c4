//! BW003 duplicate-definition
//!
//! ## What it does
//! Reports a name defined twice (across all included files), a built-in service name redefined, and a second `internal` or `scope` statement.
//!
//! ## Why it matters
//! Two definitions of one name leave the reader to guess which one a rule means.
//!
//! ## Example
//! ```text
//! network noc = 10.30.8.0/24;
//! network noc = 10.30.9.0/24;
//! ```
//!
//! ## How to fix
//! Rename one of them, or merge them into one definition.

// Reported by the resolver (src/resolve); this file holds only its documentation.
