//! BW202 transitive-exposure.
//!
//! ## What it does
//! Reports a rule that lets a host reach a BMC when the internet can reach that
//! host (a pivot: jump host, VPN box, monitoring server), directly or through
//! other such hosts. A `host` with an IPv4 and an IPv6 address is one machine:
//! the internet reaching either address reaches both. The finding shows the
//! shortest path, each hop with its addresses, service and the rule that
//! allows it. A rule that also lets the internet in directly is reported as
//! BW201 instead.
//!
//! ## Why it matters
//! An attacker who takes over a pivot reaches the BMCs from there; isolation
//! is only as strong as the most exposed host allowed in.
//!
//! ## Example
//! ```text
//! allow any   -> jump1 : ssh;          # the internet reaches jump1 ...
//! allow jump1 -> rack2 : ipmi, https;  # ... and jump1 reaches rack2
//! ```
//!
//! ## How to fix
//! Restrict who reaches the pivot (a VPN, named admin networks), or move the
//! pivot's access to BMCs to a host the internet cannot reach.

use super::support::{allowing_rules, at_rule, with_path};
use super::Context;
use crate::analysis::graph::{Hop, NodeKind};
use crate::diagnostic::{Code, Diagnostic};
use std::collections::BTreeMap;

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    let graph = context.graph();
    let direct = allowing_rules(context, NodeKind::Internet, NodeKind::Bmc);
    // For each rule into a BMC, the shortest path through a pivot.
    let mut best: BTreeMap<usize, Vec<Hop>> = BTreeMap::new();
    for (pivot, path) in graph.pivots() {
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
                let shorter = best.get(&rule).is_none_or(|known| hops.len() < known.len());
                if shorter {
                    best.insert(rule, hops);
                }
            }
        }
    }
    for (rule_index, hops) in best {
        let rule = &context.policy.rules[rule_index];
        let last = hops[hops.len() - 1].flow;
        let first = hops[0].flow;
        let diagnostic = at_rule(
            Code::TransitiveExposure,
            rule,
            format!(
                "the internet reaches a BMC through {}: {} is reachable from {}",
                last.src_ip(),
                last.witness(),
                first.src_ip()
            ),
            "last hop into a BMC",
            &last,
        );
        out.push(with_path(context, diagnostic, &hops));
    }
}
