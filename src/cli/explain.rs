//! `bmcwall explain`: the flow to explain, from its arguments, and the
//! explanation (`analysis::explain`) as text.

use crate::addr::service::{self, ServicePoint};
use crate::analysis::explain::{Decision, Explanation, Exposure};
use crate::analysis::Flow;
use crate::resolve::Policy;
use crate::source::SourceMap;
use std::fmt::Write;

/// The explanation of a flow as text, each rule with its place and line.
pub fn render(sources: &SourceMap, policy: &Policy, explanation: &Explanation) -> String {
    let flow = &explanation.flow;
    let mut out = String::new();
    let _ = writeln!(out, "flow:     {}", flow.witness());
    match explanation.decision {
        Decision::Rule { index, action } => {
            let _ = writeln!(out, "decision: {} by rule {}", action.as_str(), index + 1);
            let _ = writeln!(out, "          {}", policy.rule_text(sources, index));
        }
        Decision::DefaultDeny => {
            let _ = writeln!(out, "decision: deny (no rule matches: default deny)");
        }
    }
    if !explanation.later.is_empty() {
        let _ = writeln!(out, "also matched by later rules (not deciding):");
        for &index in &explanation.later {
            let _ = writeln!(
                out,
                "  rule {}: {}",
                index + 1,
                policy.rule_text(sources, index)
            );
        }
    }
    for &index in &explanation.expired {
        let _ = writeln!(
            out,
            "expired rule {} would match (not compiled): {}",
            index + 1,
            policy.rule_text(sources, index)
        );
    }
    if !explanation.in_scope {
        let _ = writeln!(
            out,
            "scope:    out of scope: the generated table leaves this flow to other tables"
        );
    }
    match &explanation.exposure {
        Some(Exposure::Reachable(hops)) => {
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
        Some(Exposure::Unreachable) => {
            let _ = writeln!(
                out,
                "exposure: no path from the internet reaches {}",
                flow.dst_ip()
            );
        }
        None => {}
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
