//! BW104 generalization.
//!
//! ## What it does
//! Notes a rule that covers an earlier rule with another action: the earlier
//! rule is an exception to the later, more general one. Off by default. An
//! earlier rule that decides no flow is reported as shadowed or redundant
//! (BW101, BW102) instead.
//!
//! ## Why it matters
//! This is the usual exception pattern (`allow jump -> bmcs; deny any ->
//! bmcs;`), but in a large policy it is worth listing when reviewing order.
//!
//! ## Example
//! ```text
//! allow jump1 -> bmcs : https;
//! deny  any   -> bmcs;               # generalizes the rule above
//! ```
//!
//! ## How to fix
//! Nothing, if the exception is intended. Turn it on with `--warn BW104`.

use super::bw103_correlated_rules::{covers, opposing_pairs};
use super::support::at_rule;
use super::{location, Context};
use crate::diagnostic::{Code, Diagnostic};

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    // Exceptions that decide some flow the later rule matches; one that
    // decides nothing is reported as shadowed or redundant instead.
    for (later_index, earlier_index, flow) in opposing_pairs(context) {
        let (later, earlier) = (
            &context.policy.rules[later_index],
            &context.policy.rules[earlier_index],
        );
        if !covers(later, earlier) {
            continue;
        }
        let diagnostic = at_rule(
            Code::Generalization,
            later,
            format!(
                "rule generalizes the {} rule at {}",
                earlier.action.as_str(),
                location(context, earlier.span)
            ),
            "covers an earlier exception",
            &flow,
        )
        .with_related(earlier.span, "exception");
        out.push(diagnostic);
    }
}
