//! BW102 redundant-rule.
//!
//! ## What it does
//! Reports a rule whose removal would change no decision: earlier rules with
//! the same action take all its flows, or every flow it decides would get the
//! same outcome (action and logging) from the later rules and the default
//! deny. A rule reported as shadowed (BW101) is not reported again here.
//!
//! ## Why it matters
//! Dead rules make a policy longer to review and suggest access that the rule
//! does not actually grant or take away.
//!
//! ## Example
//! ```text
//! allow admins    -> rack1 : https;
//! allow 10.30.0.7 -> rack1 : https;  # admins already holds 10.30.0.7
//! ```
//!
//! ## How to fix
//! Delete the rule, or change it so it says something the others do not.

use super::bw101_shadowed_rule::{covering, is_shadowed};
use super::support::at_rule;
use super::{location, Context};
use crate::diagnostic::Diagnostic;
use crate::lints::registry::Code;

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    for (ordinal, &index) in context.analysis.rules.iter().enumerate() {
        let fact = &context.facts()[ordinal];
        if !fact.matches_any || is_shadowed(context, ordinal) {
            continue;
        }
        let rule = &context.policy.rules[index];
        if fact.effective_cells == 0 {
            let covers = covering(context, ordinal);
            let Some(flow) = fact.covered_witness else {
                continue;
            };
            let names: Vec<String> = covers
                .iter()
                .map(|&r| location(context, context.policy.rules[r].span))
                .collect();
            let mut diagnostic = at_rule(
                Code::RedundantRule,
                rule,
                format!("rule is redundant: earlier rules with the same action cover all its flows ({})", names.join(", ")),
                "decides no flow",
                &flow,
            );
            for &r in &covers {
                diagnostic =
                    diagnostic.with_related(context.policy.rules[r].span, "covered by this rule");
            }
            diagnostic.help = Some("delete the rule".into());
            out.push(diagnostic);
        } else if !fact.changes_outcome {
            let Some(flow) = fact.effective_witness else {
                continue;
            };
            let later: Vec<usize> = fact
                .fallbacks
                .iter()
                .map(|&o| context.analysis.rules[o])
                .collect();
            let names: Vec<String> = later
                .iter()
                .map(|&r| location(context, context.policy.rules[r].span))
                .collect();
            let by = match (names.is_empty(), fact.falls_to_default) {
                (true, _) => "the default deny".to_string(),
                (false, false) => format!("later rules ({})", names.join(", ")),
                (false, true) => format!("later rules ({}) and the default deny", names.join(", ")),
            };
            let mut diagnostic = at_rule(
                Code::RedundantRule,
                rule,
                format!(
                    "rule is redundant: without it, {by} would {} the same flows",
                    rule.action.as_str()
                ),
                "removing it changes no decision",
                &flow,
            );
            for &r in &later {
                diagnostic = diagnostic
                    .with_related(context.policy.rules[r].span, "decides the same without it");
            }
            diagnostic.help = Some("delete the rule, or add `log` if it is there to log".into());
            out.push(diagnostic);
        }
    }
}
