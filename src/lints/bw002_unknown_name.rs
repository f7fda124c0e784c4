//! BW002 unknown-name
//!
//! ## What it does
//! Reports a name that no definition provides, and a name used in the wrong place (a service where addresses belong, or an address set where a service belongs). When a defined name is close, the help suggests it. A service a waiver names must be a built-in service.
//!
//! One run reports everything: the name counts as empty, and when the policy's only errors are such names (and none is in `internal`, `scope` or a `bmc` definition), the other checks still run. Their findings on the rules and expectations that use the name are left out (they would change with the fix), and so are unused definitions; `compile` writes nothing and the exit status is 2.
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
