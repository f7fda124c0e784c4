//! BW103 correlated-rules.
//!
//! ## What it does
//! Reports two rules with different actions whose flows overlap partially:
//! neither covers the other, so their order decides the overlap. The finding
//! is at the later rule and shows a flow in the overlap that the earlier rule
//! decides. An overlap that a third, earlier rule decides entirely is not
//! reported: there the order of the two changes nothing.
//!
//! ## Why it matters
//! Reordering such rules silently changes what the gateway does for the
//! overlap; reviewers should know the order matters.
//!
//! ## Example
//! ```text
//! allow noc  -> rack1 : https, ssh;
//! deny  any  -> rack1 : ssh, ipmi;   # overlap: noc -> rack1 ssh
//! ```
//!
//! ## How to fix
//! Narrow one rule so they no longer overlap, or waive the finding with the
//! reason the order is intended.

use super::bw101_shadowed_rule::is_shadowed;
use super::support::at_rule;
use super::{location, Context};
use crate::analysis::Flow;
use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::PolicyRule;

/// Every flow `a` matches, `b` matches too.
pub fn covers(b: &PolicyRule, a: &PolicyRule) -> bool {
    let empty_v4 = a.src.v4.is_empty() || a.dst.v4.is_empty();
    let empty_v6 = a.src.v6.is_empty() || a.dst.v6.is_empty();
    a.services.is_subset(&b.services)
        && (empty_v4 || (a.src.v4.is_subset(&b.src.v4) && a.dst.v4.is_subset(&b.dst.v4)))
        && (empty_v6 || (a.src.v6.is_subset(&b.src.v6) && a.dst.v6.is_subset(&b.dst.v6)))
}

/// Pairs of rules in force with different actions, later one not shadowed,
/// where the earlier rule decides part of the later one's flows: (later,
/// earlier, a flow of the overlap the earlier rule decides), as policy indices.
/// Where a third rule decides all of an overlap, the order of the two changes
/// nothing, so such pairs are left out.
pub fn opposing_pairs(context: &Context) -> Vec<(usize, usize, Flow)> {
    let rules = &context.analysis.rules;
    let mut out = Vec::new();
    for (j, &later) in rules.iter().enumerate() {
        if is_shadowed(context, j) {
            continue;
        }
        for (&i, &flow) in &context.facts()[j].covered_by {
            let earlier = rules[i];
            if context.policy.rules[earlier].action != context.policy.rules[later].action {
                out.push((later, earlier, flow));
            }
        }
    }
    out
}

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    for (later_index, earlier_index, flow) in opposing_pairs(context) {
        let (later, earlier) = (
            &context.policy.rules[later_index],
            &context.policy.rules[earlier_index],
        );
        if covers(later, earlier) || covers(earlier, later) {
            continue;
        }
        let mut diagnostic = at_rule(
            Code::CorrelatedRules,
            later,
            format!(
                "rule overlaps the {} rule at {}: order decides {}",
                earlier.action.as_str(),
                location(context, earlier.span),
                flow.witness()
            ),
            "overlaps partially",
            &flow,
        );
        diagnostic = diagnostic.with_related(
            earlier.span,
            format!("{} rule decides the overlap", earlier.action.as_str()),
        );
        diagnostic.help =
            Some("narrow one rule, or waive this finding if the order is intended".into());
        out.push(diagnostic);
    }
}
