//! BW102 redundant-rule.
//!
//! ## What it does
//! Reports a rule whose removal would change no decision: earlier rules with
//! the same action take all its flows, or every flow it decides would get the
//! same outcome (action and logging) from the later rules and the default
//! deny; those later rules are named. Of two copies of a rule only the second
//! is reported: a later rule that earlier rules of its own action cover does
//! not count. A rule reported as shadowed (BW101) is not reported again here.
//! A rule whose source holds only IPv4 addresses and whose destination only
//! IPv6 ones (or the reverse) matches no flow at all and is reported too.
//!
//! ## Why it matters
//! Dead rules make a policy longer to review and suggest access that the rule
//! does not actually grant or take away.
//!
//! ## Example
//! ```text
//! allow admins    -> rack1 : https;
//! allow 10.30.0.7 -> rack1 : https;  # admins already holds 10.30.0.7
//! deny  any       -> bmcs;           # the default deny does the same
//! allow 10.20.0.5 -> fd00:99::17;    # IPv4 to IPv6: no flow at all
//! ```
//!
//! ## How to fix
//! The finding names the rules that make this one redundant. Delete the
//! rule if they are right, or change it so it says something the others do
//! not (a final deny that is there to be logged needs `log`). When a later,
//! broader rule is what makes it redundant, that broader rule may be the
//! mistake: narrow it instead.

use super::bw101_shadowed_rule::{covering, is_shadowed};
use super::support::{at_rule, rule_locations, with_rules};
use super::Context;
use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::PolicyRule;

/// A rule whose source and destination are both non-empty but have no address
/// family in common matches no flow at all (an empty side is BW008's).
fn no_common_family(rule: &PolicyRule) -> Option<Diagnostic> {
    let families = |set: &crate::addr::AddrSet| match (set.v4.is_empty(), set.v6.is_empty()) {
        (false, true) => Some("IPv4"),
        (true, false) => Some("IPv6"),
        _ => None,
    };
    let (src, dst) = (families(&rule.src)?, families(&rule.dst)?);
    (src != dst).then(|| {
        Diagnostic::new(
            Code::RedundantRule,
            format!(
                "rule matches no flow: its source is {src} only and its destination {dst} only"
            ),
            rule.span,
            "matches no flow",
        )
        .with_help("give the source and the destination addresses of the same family")
    })
}

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    for (ordinal, &index) in context.analysis.rules.iter().enumerate() {
        let fact = &context.facts()[ordinal];
        let rule = &context.policy.rules[index];
        if !fact.matches_any {
            out.extend(no_common_family(rule));
            continue;
        }
        if is_shadowed(context, ordinal) {
            continue;
        }
        if fact.effective_cells == 0 {
            let covers = covering(context, ordinal);
            let Some(flow) = fact.covered_witness else {
                continue;
            };
            let diagnostic = at_rule(
                Code::RedundantRule,
                rule,
                format!(
                    "rule is redundant: earlier rules with the same action cover all its flows ({})",
                    rule_locations(context, &covers)
                ),
                "decides no flow",
                &flow,
            );
            let mut diagnostic = with_rules(context, diagnostic, &covers, |_| {
                "covered by this rule".into()
            });
            diagnostic.help = Some(format!(
                "{} {} {} this rule's flows already; delete this rule if that is meant, or \
                 narrow the covering {} if it is broader than meant",
                if covers.len() == 1 {
                    "the rule at"
                } else {
                    "the rules at"
                },
                rule_locations(context, &covers),
                if covers.len() == 1 { "takes" } else { "take" },
                if covers.len() == 1 { "rule" } else { "rules" },
            ));
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
            let names = rule_locations(context, &later);
            let by = match (names.is_empty(), fact.falls_to_default) {
                (true, _) => "the default deny".to_string(),
                (false, false) => format!("later rules ({names})"),
                (false, true) => format!("later rules ({names}) and the default deny"),
            };
            let diagnostic = at_rule(
                Code::RedundantRule,
                rule,
                format!(
                    "rule is redundant: without it, {by} would {} the same flows",
                    rule.action.as_str()
                ),
                "removing it changes no decision",
                &flow,
            );
            let mut diagnostic = with_rules(context, diagnostic, &later, |_| {
                "decides the same without it".into()
            });
            diagnostic.help = Some(if names.is_empty() {
                "delete the rule, or add `log` if it is there to log".into()
            } else {
                format!(
                    "{by} decide these flows the same way; delete this rule (or add `log` if it is \
                     there to log) if that is meant; if this rule was meant to differ from them, \
                     the broader rule is the mistake"
                )
            });
            out.push(diagnostic);
        }
    }
}
