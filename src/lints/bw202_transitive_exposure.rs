//! BW202 transitive-exposure.
//!
//! ## What it does
//! Reports a rule that lets the internet reach a host (a pivot: jump host,
//! VPN box, monitoring server) that reaches a BMC, directly or through other
//! such hosts. The finding is at the rule that lets the internet in, the
//! cause, once, however many rules the pivots use into BMCs; those rules are
//! related labels. A `host` with an IPv4 and an IPv6 address is one machine:
//! the internet reaching either address reaches both. The finding names the
//! hosts by their definitions and shows the shortest path, each hop with its
//! addresses, service and the rule that allows it. A rule into BMCs that
//! also lets the internet in directly is reported as BW201 instead.
//!
//! ## Why it matters
//! An attacker who takes over a pivot reaches the BMCs from there; isolation
//! is only as strong as the most exposed host allowed in.
//!
//! ## Example
//! ```text
//! allow any   -> jump1 : ssh;          # reported: the internet reaches jump1 ...
//! allow jump1 -> rack2 : ipmi, https;  # ... and jump1 reaches rack2
//! ```
//!
//! ## How to fix
//! Restrict who reaches the pivot (a VPN, named admin networks), or move the
//! pivot's access to BMCs to a host the internet cannot reach.

use super::support::{allowing_rules, at_rule, name_at, with_path};
use super::Context;
use crate::analysis::graph::{Hop, NodeKind};
use crate::diagnostic::{Code, Diagnostic};
use std::collections::{BTreeMap, BTreeSet};

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    let graph = context.graph();
    let direct = allowing_rules(context, NodeKind::Internet, NodeKind::Bmc);
    // The rules that let the internet reach an internal host: the causes.
    let exposing: BTreeSet<usize> = graph
        .edges_between(NodeKind::Internet, NodeKind::Internal)
        .into_iter()
        .flat_map(|(_, _, edge)| edge.rules.iter().map(|&(rule, _)| rule))
        .collect();
    for cause in exposing {
        // Each rule into a BMC that a pivot this rule exposes uses, with the
        // shortest path through it.
        let mut into_bmcs: BTreeMap<usize, Vec<Hop>> = BTreeMap::new();
        for (pivot, path) in graph.pivots_through(cause) {
            if graph.node(pivot).kind != NodeKind::Internal {
                continue;
            }
            for (target, edge) in graph.edges_from(pivot) {
                if graph.node(target).kind != NodeKind::Bmc {
                    continue;
                }
                for &(rule, flow) in &edge.rules {
                    if direct.contains_key(&rule) {
                        continue;
                    }
                    let mut hops = path.clone();
                    hops.push(Hop { flow, rule });
                    let shorter = into_bmcs
                        .get(&rule)
                        .is_none_or(|known| hops.len() < known.len());
                    if shorter {
                        into_bmcs.insert(rule, hops);
                    }
                }
            }
        }
        out.extend(finding(context, cause, into_bmcs));
    }
}

/// One finding at the rule that exposes pivots, with the shortest path into
/// a BMC and every rule into BMCs that the pivots use.
fn finding(
    context: &Context,
    cause: usize,
    into_bmcs: BTreeMap<usize, Vec<Hop>>,
) -> Option<Diagnostic> {
    let hops = into_bmcs.values().min_by_key(|hops| hops.len())?.clone();
    let rule = &context.policy.rules[cause];
    let (first, last) = (hops.first()?.flow, hops.last()?.flow);
    let pivots: Vec<String> = hops[1..]
        .iter()
        .map(|hop| name_at(context, hop.flow.family, hop.flow.src))
        .collect();
    let exposed = name_at(context, first.family, first.dst);
    let diagnostic = at_rule(
        Code::TransitiveExposure,
        rule,
        format!(
            "the internet reaches BMCs through {}: {} is reachable from {}",
            pivots.join(", then "),
            last.witness(),
            first.src_ip()
        ),
        &format!("lets the internet reach {exposed}"),
        &last,
    )
    .with_help(format!(
        "restrict who reaches {exposed} (a VPN, named admin networks), or let BMCs be \
         reached only from hosts the internet cannot reach"
    ));
    let mut diagnostic = with_path(context, diagnostic, &hops);
    let last_rule = hops.last().map(|hop| hop.rule);
    for (&other, other_hops) in &into_bmcs {
        if Some(other) == last_rule {
            continue;
        }
        let flow = other_hops[other_hops.len() - 1].flow;
        diagnostic = diagnostic.with_related(
            context.policy.rules[other].span,
            format!(
                "{} reaches BMCs by this rule too",
                name_at(context, flow.family, flow.src)
            ),
        );
    }
    Some(diagnostic)
}
