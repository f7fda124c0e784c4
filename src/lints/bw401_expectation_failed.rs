//! BW401 expectation-failed.
//!
//! ## What it does
//! Checks every `expect` statement against the decision table and reports one
//! concrete flow that breaks it, with the rule that decided that flow. An
//! `expect unreachable` fails with the path, hop by hop, by which the source
//! reaches the destination, directly or through hosts it reaches.
//!
//! An expectation with no flow to test fails too, whatever it expects: its
//! source and destination hold addresses of no common family (an IPv4 host
//! and an IPv6 BMC), one side holds no address, or it names no service. It
//! would hold for any policy, so it tests nothing.
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
//!
//! host j4 = 10.1.0.10;
//! bmc  b6 = fd00::1;
//! expect allow j4 -> b6 : ssh;      # fails: no flow to test (IPv4 to IPv6)
//! ```
//!
//! ## How to fix
//! Change the rule named in the finding, or the expectation if it is wrong.
//! For an expectation with no flow to test, give its source and destination
//! addresses of the same family.

use super::support::{name_at, with_path};
use super::{location, Context};
use crate::addr::service;
use crate::addr::AddrSet;
use crate::analysis::flow::{representative, Address};
use crate::analysis::graph::Node;
use crate::analysis::{Family, FamilyTable, Flow};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Action, ExpectKind};
use crate::resolve::PolicyExpectation;

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    let analysis = context.analysis;
    for (index, expectation) in context.policy.expectations.iter().enumerate() {
        if let Some(why) = no_flow(expectation) {
            out.push(
                Diagnostic::new(
                    Code::ExpectationFailed,
                    format!("expectation has no flow to test: {why}"),
                    expectation.span,
                    "no flow to test",
                )
                .with_help(
                    "an expectation tests the flows from its source to its destination in one \
                     address family; as written it holds whatever the rules say",
                ),
            );
            continue;
        }
        if expectation.kind == ExpectKind::Unreachable {
            out.extend(reachable(context, expectation));
            continue;
        }
        let action = match expectation.kind {
            ExpectKind::Allow => Action::Allow,
            _ => Action::Deny,
        };
        let failure = first_failure(context, &analysis.v4, index, action)
            .or_else(|| first_failure(context, &analysis.v6, index, action));
        let Some((flow, rule)) = failure else {
            continue;
        };
        let verdict = if action == Action::Allow {
            "denied"
        } else {
            "allowed"
        };
        let witness = flow.witness();
        let mut diagnostic = Diagnostic::new(
            Code::ExpectationFailed,
            format!("expectation does not hold: {witness} is {verdict}"),
            expectation.span,
            format!("expects {}", expectation.kind.as_str()),
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

/// The finding for an `expect unreachable` that a path breaks: the shortest
/// path from its source to its destination, hop by hop.
fn reachable(context: &Context, expectation: &PolicyExpectation) -> Option<Diagnostic> {
    let graph = context.graph();
    let hops = graph.path_between(
        context.analysis,
        |_, node| within(node, &expectation.src),
        |_, node| within(node, &expectation.dst),
        &expectation.services,
    )?;
    let (first, last) = (hops.first()?.flow, hops.last()?.flow);
    let message = if hops.len() == 1 {
        format!(
            "expectation does not hold: {} is allowed, directly",
            last.witness()
        )
    } else {
        let through: Vec<String> = hops[1..]
            .iter()
            .map(|hop| name_at(context, hop.flow.family, hop.flow.src))
            .collect();
        format!(
            "expectation does not hold: {} reaches {} through {}",
            name_at(context, first.family, first.src),
            name_at(context, last.family, last.dst),
            through.join(", then ")
        )
    };
    let mut diagnostic = Diagnostic::new(
        Code::ExpectationFailed,
        message,
        expectation.span,
        "expects unreachable",
    )
    .with_witness(last.witness());
    if hops.len() == 1 {
        let rule = &context.policy.rules[hops[0].rule];
        diagnostic.help = Some(format!(
            "the flow is allowed by the rule at {}",
            location(context, rule.span)
        ));
    }
    Some(with_path(context, diagnostic, &hops))
}

/// Whether an endpoint class lies in `set` (a class lies in it or outside it:
/// the expectation's sets cut the classes).
fn within(node: &Node, set: &AddrSet) -> bool {
    match node.family {
        Family::V4 => set.v4.contains(node.example as u32),
        Family::V6 => set.v6.contains(node.example),
    }
}

/// Why an expectation holds no flow, if it holds none.
fn no_flow(expectation: &PolicyExpectation) -> Option<String> {
    let (src, dst) = (&expectation.src, &expectation.dst);
    let family = |set: &AddrSet| match (set.v4.is_empty(), set.v6.is_empty()) {
        (true, true) => "no address",
        (false, true) => "only IPv4 addresses",
        (true, false) => "only IPv6 addresses",
        (false, false) => "IPv4 and IPv6 addresses",
    };
    if expectation.services.is_empty() {
        return Some("it names no service".into());
    }
    let common =
        (!src.v4.is_empty() && !dst.v4.is_empty()) || (!src.v6.is_empty() && !dst.v6.is_empty());
    (!common).then(|| {
        format!(
            "its source holds {} and its destination {}",
            family(src),
            family(dst)
        )
    })
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
