//! BW401 expectation-failed.
//!
//! ## What it does
//! Checks every `expect` statement against the decision table and reports one
//! concrete flow that breaks it, with the rule that decided that flow.
//!
//! ## Why it matters
//! Expectations are the policy's own tests: "the internet never reaches a BMC",
//! "the jump host can always reach Redfish". A change that breaks one is caught
//! before it reaches the gateway.
//!
//! ## Example
//! ```text
//! allow any -> bmcs : https;
//! expect deny internet -> bmcs;     # fails: 1.0.0.0 -> 10.10.1.11 tcp 443 is allowed
//! ```
//!
//! ## How to fix
//! Change the rule named in the finding, or the expectation if it is wrong.

use super::{location, Context};
use crate::addr::service;
use crate::analysis::flow::{representative, Address};
use crate::analysis::{FamilyTable, Flow};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::Action;

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    let analysis = context.analysis;
    for (index, expectation) in context.policy.expectations.iter().enumerate() {
        let failure = first_failure(context, &analysis.v4, index, expectation.action)
            .or_else(|| first_failure(context, &analysis.v6, index, expectation.action));
        let Some((flow, rule)) = failure else {
            continue;
        };
        let verdict = if expectation.action == Action::Allow {
            "denied"
        } else {
            "allowed"
        };
        let witness = flow.witness();
        let mut diagnostic = Diagnostic::new(
            Code::ExpectationFailed,
            format!("expectation does not hold: {witness} is {verdict}"),
            expectation.span,
            format!("expects {}", expectation.action.as_str()),
        )
        .with_witness(witness);
        match rule {
            Some(rule_index) => {
                let rule = &context.policy.rules[rule_index];
                diagnostic =
                    diagnostic.with_related(rule.span, format!("{} by this rule", verdict));
                diagnostic.help = Some(format!(
                    "the flow is decided by the rule at {}",
                    location(context, rule.span)
                ));
            }
            None => {
                diagnostic.help = Some("no rule matches the flow: default deny".into());
            }
        }
        out.push(diagnostic);
    }
}

/// The first cell inside expectation `index` whose decision contradicts it:
/// a witness flow and the policy index of the deciding rule.
fn first_failure<T: Address>(
    context: &Context,
    table: &FamilyTable<T>,
    index: usize,
    expected: Action,
) -> Option<(Flow, Option<usize>)> {
    let analysis = context.analysis;
    let bit = analysis.layout.expectation_bit(index);
    let services: Vec<usize> = analysis.services.classes_in(bit).collect();
    for s in table.src.classes_in(bit) {
        for d in table.dst.classes_in(bit) {
            let row = table.row(s, d);
            for &v in &services {
                let rule = row
                    .and_then(|row| row.decision(v))
                    .map(|o| analysis.rules[o]);
                let allowed = rule.is_some_and(|r| context.policy.rules[r].action == Action::Allow);
                if allowed == (expected == Action::Allow) {
                    continue;
                }
                let flow = Flow {
                    family: T::FAMILY,
                    src: representative(&table.src.classes[s])?.widen(),
                    dst: representative(&table.dst.classes[d])?.widen(),
                    service: service::representative(&analysis.services.classes[v])?,
                };
                return Some((flow, rule));
            }
        }
    }
    None
}
