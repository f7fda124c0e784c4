//! BW002 unknown-name
//!
//! ## What it does
//! Reports a name that no definition provides, and a name used in the wrong place (a service where addresses belong, or an address set where a service belongs). When a defined name is close, the help suggests it.
//!
//! ## Why it matters
//! A typo in a name would otherwise silently widen or narrow a rule.
//!
//! ## Example
//! ```text
//! host jump1 = 10.20.0.5;
//! allow jmup1 -> bmcs : ssh;    # did you mean `jump1`?
//! ```
//!
//! ## How to fix
//! Fix the spelling, or define the name.

// Reported by the resolver (src/resolve); this file holds only its documentation.
