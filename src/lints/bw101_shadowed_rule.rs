//! BW101 shadowed-rule.
//!
//! ## What it does
//! Reports a rule that never decides any flow because earlier rules with
//! another action take every flow it matches. All the earlier rules that
//! together cover it are named, not just one.
//!
//! ## Why it matters
//! The rule says one thing and the gateway does the opposite: someone wrote
//! `deny` for a reason, and earlier `allow` rules make it dead.
//!
//! ## Example
//! ```text
//! allow admins -> rack1 : https;
//! deny  admins -> rack1 : https;     # never decides anything
//! ```
//!
//! ## How to fix
//! Move the rule above the rules that cover it, or delete it if the earlier
//! rules are right.

use super::support::{at_rule, rule_locations, with_rules};
use super::Context;
use crate::diagnostic::{Code, Diagnostic};

/// The rules a shadowed or redundant rule is covered by, as (ordinal, policy index).
pub fn covering(context: &Context, ordinal: usize) -> Vec<usize> {
    context.facts()[ordinal]
        .covered_by
        .keys()
        .map(|&o| context.analysis.rules[o])
        .collect()
}

/// True when the rule decides nothing and some earlier rule with another
/// action takes part of its flows.
pub fn is_shadowed(context: &Context, ordinal: usize) -> bool {
    let fact = &context.facts()[ordinal];
    let action = context.policy.rules[context.analysis.rules[ordinal]].action;
    fact.matches_any
        && fact.effective_cells == 0
        && covering(context, ordinal)
            .iter()
            .any(|&r| context.policy.rules[r].action != action)
}

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    for (ordinal, &index) in context.analysis.rules.iter().enumerate() {
        if !is_shadowed(context, ordinal) {
            continue;
        }
        let rule = &context.policy.rules[index];
        let covers = covering(context, ordinal);
        let Some(flow) = context.facts()[ordinal].covered_witness else {
            continue;
        };
        let diagnostic = at_rule(
            Code::ShadowedRule,
            rule,
            format!(
                "rule never matches: earlier rules cover all its flows ({})",
                rule_locations(context, &covers)
            ),
            "never decides any flow",
            &flow,
        );
        let mut diagnostic = with_rules(context, diagnostic, &covers, |other| {
            format!("covered by this rule ({})", other.action.as_str())
        });
        diagnostic.help = Some("move the rule above the rules that cover it, or delete it".into());
        out.push(diagnostic);
    }
}
