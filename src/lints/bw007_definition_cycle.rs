//! BW007 definition-cycle
//!
//! ## What it does
//! Reports names defined through themselves, directly or through other names (also through `bmcs` or `internal`).
//!
//! ## Why it matters
//! A cycle has no value; any value bmcs chose would be a guess.
//!
//! ## Example
//! ```text
//! group a = b;
//! group b = a;
//! ```
//!
//! ## How to fix
//! Break the cycle: one of the names must be defined by addresses.

// Reported by the resolver (src/resolve); this file holds only its documentation.
