//! BW105 out-of-scope-rule.
//!
//! ## What it does
//! Reports a rule none of whose flows has its source or destination in
//! `scope`; in a policy with `gateway` declarations, a rule none of whose
//! flows any gateway governs.
//!
//! ## Why it matters
//! The generated table only governs flows in scope; the gateway cannot
//! enforce such a rule, so it gives a false sense of protection.
//!
//! ## Example
//! ```text
//! scope 10.10.0.0/16;
//! deny 192.0.2.0/24 -> 198.51.100.0/24;   # neither side is in scope
//! ```
//!
//! ## How to fix
//! Widen `scope`, or move the rule to the firewall that sees those flows.

use super::Context;
use crate::diagnostic::{Code, Diagnostic};

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    let scope = &context.policy.scope;
    for (ordinal, &index) in context.analysis.rules.iter().enumerate() {
        let rule = &context.policy.rules[index];
        if !context.facts()[ordinal].matches_any {
            continue;
        }
        let v4 = !rule.src.v4.is_empty()
            && !rule.dst.v4.is_empty()
            && (rule.src.v4.intersects(&scope.v4) || rule.dst.v4.intersects(&scope.v4));
        let v6 = !rule.src.v6.is_empty()
            && !rule.dst.v6.is_empty()
            && (rule.src.v6.intersects(&scope.v6) || rule.dst.v6.intersects(&scope.v6));
        if !v4 && !v6 {
            let diagnostic = if context.policy.gateways.is_empty() {
                Diagnostic::new(
                    Code::OutOfScopeRule,
                    "rule is out of scope: no flow it matches has its source or destination in `scope`",
                    rule.span,
                    "not enforced by the gateway",
                )
                .with_help("widen `scope`, or enforce this rule elsewhere")
            } else {
                Diagnostic::new(
                    Code::OutOfScopeRule,
                    "rule is out of scope: no gateway governs a flow it matches",
                    rule.span,
                    "enforced by no gateway",
                )
                .with_help(
                    "widen a gateway's `scope`, or declare the gateway that sees these flows",
                )
            };
            out.push(diagnostic);
        }
    }
}
