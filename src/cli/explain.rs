//! `bmcwall explain`: how one flow is decided, and why.

use crate::addr::service::{self, ServicePoint};
use crate::analysis::flow::holds;
use crate::analysis::graph::{NodeKind, ReachGraph};
use crate::analysis::{first_match, Analysis, Flow};
use crate::resolve::Policy;
use crate::source::SourceMap;
use std::fmt::Write;

pub fn explain(sources: &SourceMap, policy: &Policy, analysis: &Analysis, flow: &Flow) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "flow:     {}", flow.witness());
    let decider = analysis.decide(flow);
    debug_assert_eq!(decider, first_match(policy, flow));
    match decider {
        Some(index) => {
            let rule = &policy.rules[index];
            let _ = writeln!(
                out,
                "decision: {} by rule {}",
                rule.action.as_str(),
                index + 1
            );
            let _ = writeln!(out, "          {}", policy.rule_text(sources, index));
        }
        None => {
            let _ = writeln!(out, "decision: deny (no rule matches: default deny)");
        }
    }
    let later: Vec<usize> = policy
        .active_rules()
        .filter(|(i, rule)| Some(*i) > decider && decider.is_some() && flow.matched_by(rule))
        .map(|(i, _)| i)
        .collect();
    if !later.is_empty() {
        let _ = writeln!(out, "also matched by later rules (not deciding):");
        for index in later {
            let _ = writeln!(
                out,
                "  rule {}: {}",
                index + 1,
                policy.rule_text(sources, index)
            );
        }
    }
    let expired: Vec<usize> = policy
        .rules
        .iter()
        .enumerate()
        .filter(|(_, rule)| rule.expired && flow.matched_by(rule))
        .map(|(i, _)| i)
        .collect();
    for index in expired {
        let _ = writeln!(
            out,
            "expired rule {} would match (not compiled): {}",
            index + 1,
            policy.rule_text(sources, index)
        );
    }
    let in_scope = flow.in_scope(&policy.scope);
    if !in_scope {
        let _ = writeln!(
            out,
            "scope:    out of scope: the generated table leaves this flow to other tables"
        );
    }
    let dst_is_bmc = holds(&policy.bmcs, flow.family, flow.dst);
    if dst_is_bmc {
        let graph = ReachGraph::new(policy, analysis);
        let path = graph
            .node_of(flow.family, flow.dst)
            .filter(|&n| graph.node(n).kind == NodeKind::Bmc)
            .and_then(|n| graph.exposure_path(n));
        match path {
            Some(mut hops) => {
                // The path reaches the class; show it ending at the address asked about.
                if let Some(last) = hops.last_mut() {
                    last.flow.dst = flow.dst;
                }
                let _ = writeln!(
                    out,
                    "exposure: {} is reachable from the internet:",
                    flow.dst_ip()
                );
                for (i, hop) in hops.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "  hop {}: {}  ({})",
                        i + 1,
                        hop.flow.witness(),
                        policy.rule_text(sources, hop.rule)
                    );
                }
            }
            None => {
                let _ = writeln!(
                    out,
                    "exposure: no path from the internet reaches {}",
                    flow.dst_ip()
                );
            }
        }
    }
    out
}

/// The protocol number for `--proto`.
pub fn protocol(name: &str) -> Option<u8> {
    match name {
        "tcp" => Some(service::TCP),
        "udp" => Some(service::UDP),
        "icmp" => Some(service::ICMP),
        "icmpv6" => Some(service::ICMPV6),
        number => number.parse().ok(),
    }
}

/// Builds the flow to explain; ICMP in an IPv6 flow means ICMPv6.
pub fn flow(
    from: std::net::IpAddr,
    to: std::net::IpAddr,
    proto: u8,
    port: Option<u16>,
) -> Result<Flow, String> {
    let proto = if proto == service::ICMP && to.is_ipv6() {
        service::ICMPV6
    } else {
        proto
    };
    let port = if service::has_ports(proto) {
        Some(port.ok_or("--port is required for tcp and udp")?)
    } else if port.is_some() {
        return Err("--port applies to tcp and udp only".into());
    } else {
        None
    };
    Flow::new(from, to, ServicePoint { proto, port })
        .ok_or_else(|| "--from and --to must be of the same family".into())
}
