//! BW311 confusable-text
//!
//! ## What it does
//! Warns about an inventory entry whose name or a label value mixes scripts
//! (Latin letters with a Cyrillic or Greek one) or, though different, looks
//! like another entry's value of the same label (or another entry's name):
//! the two have the same skeleton in the sense of Unicode Technical Standard
//! #39 (confusable detection).
//!
//! ## Why it matters
//! Selectors compare label values exactly. An entry whose `rack` is the
//! Cyrillic `а` looks like rack `a` in every review and every listing, yet
//! `inventory(rack = "a")` leaves it out, and the rules meant for its rack
//! silently do not cover it.
//!
//! ## Example
//! ```text
//! bmcs:
//!   - name: r1-bmc
//!     address: 10.10.1.11
//!     rack: a
//!   - name: r2-bmc
//!     address: 10.10.1.12
//!     rack: а          # CYRILLIC SMALL LETTER A
//! ```
//!
//! ## How to fix
//! Write the value in one script, as the other entries do; the message
//! names the characters that differ.

// Reported by the resolver (src/resolve/inventory/confusable.rs); this file
// holds only its documentation.
