//! BW207 broad-source.
//!
//! ## What it does
//! Warns when a rule allows flows to a BMC from a source that holds a network
//! wider than /16 (IPv4) or /48 (IPv6).
//!
//! ## Why it matters
//! "Only named people and jump hosts get in": a whole campus or data centre as
//! a source is not a named set of people.
//!
//! ## Example
//! ```text
//! allow 10.0.0.0/8 -> bmcs : https;
//! ```
//!
//! ## How to fix
//! Name the admin networks and jump hosts that need access.

use super::support::{at_rule, widest_prefix};
use super::Context;
use crate::diagnostic::Diagnostic;
use crate::lints::registry::Code;

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    for (ordinal, facts) in context.to_bmcs().iter().enumerate() {
        let Some(flow) = facts.witness else {
            continue;
        };
        let (v4, v6) = widest_prefix(&facts.sources);
        let too_wide = match (v4.is_some_and(|l| l < 16), v6.is_some_and(|l| l < 48)) {
            (true, _) => format!("/{}", v4.unwrap_or_default()),
            (false, true) => format!("/{}", v6.unwrap_or_default()),
            _ => continue,
        };
        let rule = &context.policy.rules[context.analysis.rules[ordinal]];
        out.push(
            at_rule(
                Code::BroadSource,
                rule,
                format!("BMCs are reachable from a network as wide as {too_wide}"),
                "broad source",
                &flow,
            )
            .with_help("name the admin networks and jump hosts instead"),
        );
    }
}
