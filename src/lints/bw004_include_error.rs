//! BW004 include-error
//!
//! ## What it does
//! Reports a policy file that cannot be read, an `include` whose file is missing or unreadable, and include cycles.
//!
//! ## Why it matters
//! A missing include would drop rules without notice.
//!
//! ## Example
//! ```text
//! include "site-b.wall";      # no such file
//! ```
//!
//! ## How to fix
//! Fix the path; include paths are relative to the including file.

// Reported by the resolver (src/resolve); this file holds only its documentation.
