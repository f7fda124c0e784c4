//! `bmcwall explain`: the flow to explain, from its arguments, and the
//! explanation (`analysis::explain`) as text.

use crate::addr::service::{self, ServicePoint};
use crate::addr::{AddrSet, IntervalSet};
use crate::analysis::explain::{Decision, Explanation, Exposure};
use crate::analysis::Flow;
use crate::resolve::NamedKind;
use crate::resolve::Policy;
use crate::source::SourceMap;
use std::fmt::Write;
use std::net::IpAddr;

/// The explanation of a flow as text, each rule with its place and line.
pub fn render(sources: &SourceMap, policy: &Policy, explanation: &Explanation) -> String {
    let flow = &explanation.flow;
    let mut out = String::new();
    let _ = writeln!(out, "flow:     {}", flow.witness());
    for (side, address) in [("from:    ", flow.src_ip()), ("to:      ", flow.dst_ip())] {
        let _ = writeln!(out, "{side} {address}: {}", belongs_to(policy, address));
    }
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
    if !policy.gateways.is_empty() {
        let crossed: Vec<&str> = policy
            .gateways_on(flow.src_ip(), flow.dst_ip())
            .into_iter()
            .map(|g| policy.gateways[g].name.as_str())
            .collect();
        if crossed.is_empty() {
            let _ = writeln!(out, "gateways: none governs this flow");
        } else {
            let _ = writeln!(out, "gateways: {}", crossed.join(", "));
        }
    } else if !explanation.in_scope {
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

/// `explain --gateway NAME`: what reaches the BMCs gateway `index` governs,
/// from where, by which rule, as its table decides: one line per box of
/// allowed flows, by rule.
pub fn gateway_table(sources: &SourceMap, policy: &Policy, index: usize) -> String {
    use crate::analysis::region::blocks;
    let (own, analysis) = super::fleet::own(policy, index);
    let names = own.address_names();
    let governed_bmcs = own.bmcs.intersection(&own.scope);
    let mut rows: Vec<[String; 4]> = Vec::new();
    for (ordinal, &rule_index) in analysis.rules.iter().enumerate() {
        let rule = &own.rules[rule_index];
        if rule.action != crate::model::Action::Allow {
            continue;
        }
        let v4 = blocks(&analysis, &analysis.v4, |o| o == ordinal)
            .into_iter()
            .map(|b| {
                (
                    AddrSet {
                        v4: b.src,
                        v6: IntervalSet::default(),
                    },
                    AddrSet {
                        v4: b.dst,
                        v6: IntervalSet::default(),
                    },
                    b.services,
                )
            });
        let v6 = blocks(&analysis, &analysis.v6, |o| o == ordinal)
            .into_iter()
            .map(|b| {
                (
                    AddrSet {
                        v4: IntervalSet::default(),
                        v6: b.src,
                    },
                    AddrSet {
                        v4: IntervalSet::default(),
                        v6: b.dst,
                    },
                    b.services,
                )
            });
        for (src, dst, services) in v4.chain(v6) {
            let dst = dst.intersection(&governed_bmcs);
            if dst.is_empty() {
                continue;
            }
            let place = sources.file_line(rule.span);
            let described = match &rule.description {
                Some(description) => format!("{place} \"{description}\""),
                None => place,
            };
            rows.push([
                names.name(&src),
                names.name(&dst),
                service::words(&services).join(", "),
                described,
            ]);
        }
    }
    let gateway = &policy.gateways[policy.target_of(index)];
    let mut out = format!(
        "gateway {}: what reaches its {} BMCs, by rule (first match)\n",
        policy.gateways[index].name,
        policy
            .inventory
            .iter()
            .filter(|e| e.addresses.intersects(&governed_bmcs))
            .count()
    );
    if gateway.name != policy.gateways[index].name {
        let _ = writeln!(out, "(the table of its pair, {})", gateway.name);
    }
    if rows.is_empty() {
        out.push_str("nothing: every flow to them is denied\n");
        return out;
    }
    let header = ["FROM", "TO", "SERVICES", "RULE"].map(String::from);
    let width = |column: usize| {
        std::iter::once(&header)
            .chain(&rows)
            .map(|row| row[column].chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2)];
    for row in std::iter::once(&header).chain(&rows) {
        let _ = writeln!(
            out,
            "{:<w0$}  {:<w1$}  {:<w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
    }
    out
}

/// The definitions an address is in, and its inventory entry with its
/// labels: `host jump-ams1, group admins` or `bmc rack-a, inventory
/// ams1-a01-bmc (rack=a, site=ams1)`.
fn belongs_to(policy: &Policy, address: IpAddr) -> String {
    let contains = |set: &AddrSet| match address {
        IpAddr::V4(a) => set.v4.contains(u32::from(a)),
        IpAddr::V6(a) => set.v6.contains(u128::from(a)),
    };
    let mut parts: Vec<String> = policy
        .definitions
        .iter()
        .filter_map(|d| match &d.kind {
            NamedKind::Address(kind, set) if contains(set) => {
                Some(format!("{} {}", kind.keyword(), d.name))
            }
            _ => None,
        })
        .collect();
    for entry in policy.inventory.iter().filter(|e| contains(&e.addresses)) {
        let labels: Vec<String> = entry
            .labels
            .iter()
            .map(|(key, values)| {
                let values: Vec<&str> = values.iter().collect();
                format!("{key}={}", values.join("|"))
            })
            .collect();
        parts.push(if labels.is_empty() {
            format!("inventory {}", entry.name)
        } else {
            format!("inventory {} ({})", entry.name, labels.join(", "))
        });
    }
    let zone = if contains(&policy.internal) {
        "internal"
    } else {
        "internet"
    };
    if parts.is_empty() {
        format!("no definition ({zone})")
    } else {
        format!("{} ({zone})", parts.join(", "))
    }
}

/// The addresses `--from` or `--to` names: an address, a definition or an
/// inventory entry's name.
pub fn endpoint(policy: &Policy, text: &str) -> Result<AddrSet, String> {
    if let Ok(address) = text.parse::<IpAddr>() {
        return Ok(single(address));
    }
    let defined = policy.definitions.iter().find_map(|d| match &d.kind {
        NamedKind::Address(_, set) if d.name == text => Some(set.clone()),
        _ => None,
    });
    let named = defined.or_else(|| {
        policy
            .inventory
            .iter()
            .find(|e| e.name == text)
            .map(|e| e.addresses.clone())
    });
    match named {
        Some(set) if !set.is_empty() => Ok(set),
        Some(_) => Err(format!("`{text}` holds no address")),
        None => {
            let names = policy
                .definitions
                .iter()
                .filter(|d| matches!(d.kind, NamedKind::Address(..)))
                .map(|d| d.name.as_str())
                .chain(policy.inventory.iter().map(|e| e.name.as_str()));
            Err(match crate::diagnostic::closest(text, names) {
                Some(known) => {
                    format!("`{text}` is not an address or a name; did you mean `{known}`?")
                }
                None => format!("`{text}` is not an address, a definition or an inventory name"),
            })
        }
    }
}

fn single(address: IpAddr) -> AddrSet {
    let mut set = AddrSet::empty();
    match address {
        IpAddr::V4(a) => set.v4 = IntervalSet::interval(u32::from(a), u32::from(a)),
        IpAddr::V6(a) => set.v6 = IntervalSet::interval(u128::from(a), u128::from(a)),
    }
    set
}

/// One address of each side in a family both have, IPv4 first: the first
/// addresses of the two sets.
pub fn pick(from: &AddrSet, to: &AddrSet) -> Result<(IpAddr, IpAddr), String> {
    let v4 = |set: &AddrSet| set.v4.first().map(|a| IpAddr::V4(a.into()));
    let v6 = |set: &AddrSet| set.v6.first().map(|a| IpAddr::V6(a.into()));
    match ((v4(from), v4(to)), (v6(from), v6(to))) {
        ((Some(src), Some(dst)), _) | (_, (Some(src), Some(dst))) => Ok((src, dst)),
        _ => Err("--from and --to must be of the same family".into()),
    }
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
