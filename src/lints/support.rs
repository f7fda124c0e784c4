//! Helpers shared by several checks.

use super::Context;
use crate::addr::service::{self, key, ServicePoint, UDP};
use crate::addr::{AddrSet, IntervalSet};
use crate::analysis::flow::Address;
use crate::analysis::graph::{Hop, NodeKind};
use crate::analysis::rules::distinct_ends;
use crate::analysis::{Family, FamilyTable, Flow};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::Action;
use crate::resolve::PolicyRule;
use std::collections::{BTreeMap, BTreeSet};

/// The longest run of consecutive addresses in a set, per family, as its
/// last minus its first address (`None` for an empty family). A run, not a
/// CIDR block: `10.30.0.0/23` with one host taken out, or a range such as
/// `10.40.0.1-10.40.1.254`, is as wide as the /23 it nearly is.
pub fn widest_run(set: &AddrSet) -> (Option<u128>, Option<u128>) {
    let v4 = set
        .v4
        .intervals()
        .iter()
        .map(|&(lo, hi)| u128::from(hi - lo))
        .max();
    let v6 = set.v6.intervals().iter().map(|&(lo, hi)| hi - lo).max();
    (v4, v6)
}

/// When a set holds a run of addresses wider than a `/v4_limit` (IPv4) or a
/// `/v6_limit` (IPv6) network, that run in words: `a network as wide as /23`
/// when it is exactly a CIDR block's size, else `a run of 445 addresses,
/// more than a /24`.
pub fn wider_than(set: &AddrSet, v4_limit: u32, v6_limit: u32) -> Option<String> {
    let (v4, v6) = widest_run(set);
    let describe = |span: u128, bits: u32, limit: u32| {
        // `span + 1` addresses; the whole IPv6 space does not fit in a u128.
        match span.checked_add(1) {
            Some(size) if !size.is_power_of_two() => {
                format!("a run of {size} addresses, more than a /{limit}")
            }
            size => format!(
                "a network as wide as /{}",
                bits - size.map_or(bits, u128::trailing_zeros)
            ),
        }
    };
    let exceeds = |span: u128, bits: u32, limit: u32| span > (1u128 << (bits - limit)) - 1;
    match (v4, v6) {
        (Some(span), _) if exceeds(span, 32, v4_limit) => Some(describe(span, 32, v4_limit)),
        (_, Some(span)) if exceeds(span, 128, v6_limit) => Some(describe(span, 128, v6_limit)),
        _ => None,
    }
}

/// Allowed flows from the graph between two kinds of node, grouped by the
/// rule that allows them: each rule with its first witness flow.
pub fn allowing_rules(context: &Context, from: NodeKind, to: NodeKind) -> BTreeMap<usize, Flow> {
    let mut rules = BTreeMap::new();
    let mut edges = context.graph().edges_between(from, to);
    // A witness between two different endpoint classes reads better than one
    // inside a class, so self-loops come last.
    edges.sort_by_key(|(a, b, _)| a == b);
    for (_, _, edge) in edges {
        for &(rule, flow) in &edge.rules {
            rules.entry(rule).or_insert(flow);
        }
    }
    rules
}

/// What the policy calls the endpoint at `address`: the `host` or other
/// definition that holds it, `the internet`, or the address itself.
pub fn name_at(context: &Context, family: Family, address: u128) -> String {
    let graph = context.graph();
    let ip = crate::analysis::flow::to_ip(family, address).to_string();
    let Some(node) = graph.node_of(family, address).map(|n| graph.node(n)) else {
        return ip;
    };
    match (node.kind, node.hosts.first().or(node.names.first())) {
        (_, Some(name)) => format!("`{name}`"),
        (NodeKind::Internet, None) => "the internet".into(),
        (_, None) => ip,
    }
}

/// Adds the hops of a path as related labels (but for hops by the rule the
/// finding is at) and a help line per hop, naming both ends.
pub fn with_path(context: &Context, mut diagnostic: Diagnostic, hops: &[Hop]) -> Diagnostic {
    let mut lines = Vec::new();
    let primary = diagnostic.primary().span;
    let policy = context.policy;
    let crossed = |hop: &Hop| -> Vec<String> {
        policy
            .gateways_on(hop.flow.src_ip(), hop.flow.dst_ip())
            .into_iter()
            .map(|g| policy.gateways[g].name.clone())
            .collect()
    };
    for (i, hop) in hops.iter().enumerate() {
        let rule = &context.policy.rules[hop.rule];
        let place = super::location(context, rule.span);
        let flow = hop.flow;
        let gateways = crossed(hop);
        let enforced = if gateways.is_empty() {
            String::new()
        } else {
            format!(", on {}", gateways.join(", "))
        };
        lines.push(format!(
            "hop {}: {} -> {}: {} (allowed by {place}{enforced})",
            i + 1,
            name_at(context, flow.family, flow.src),
            name_at(context, flow.family, flow.dst),
            flow.witness()
        ));
        if rule.span != primary {
            diagnostic = diagnostic
                .with_related(rule.span, format!("hop {}: {}", i + 1, hop.flow.witness()));
        }
    }
    diagnostic.path = hops
        .iter()
        .map(|h| {
            let mut witness = h.flow.witness();
            witness.gateways = crossed(h);
            (witness, context.policy.rules[h.rule].span)
        })
        .collect();
    if hops.len() < 2 {
        return diagnostic;
    }
    let help = lines.join("\n");
    diagnostic.help = Some(match diagnostic.help.take() {
        Some(h) => format!("{h}\n{help}"),
        None => help,
    });
    diagnostic
}

/// A finding located at a rule, with a witness flow.
pub fn at_rule(
    code: Code,
    rule: &PolicyRule,
    message: String,
    label: &str,
    flow: &Flow,
) -> Diagnostic {
    Diagnostic::new(code, message, rule.span, label).with_witness(flow.witness())
}

/// Whether a rule allows.
pub fn allows(rule: &PolicyRule) -> bool {
    rule.action == Action::Allow
}

/// What one allow rule lets reach BMCs, from the flows it decides.
#[derive(Clone, Debug, Default)]
pub struct ToBmcs {
    /// Sources of the flows it decides to BMCs.
    pub sources: AddrSet,
    pub witness: Option<Flow>,
    /// Sources of the IPMI (udp 623) flows it decides to BMCs.
    pub ipmi_sources: AddrSet,
    pub ipmi_witness: Option<Flow>,
    /// A flow to a BMC on one of the rule's cleartext services.
    pub cleartext_witness: Option<Flow>,
    /// The rule's cleartext services (indices into its `cleartext`) that
    /// it lets reach BMCs.
    pub cleartext_parts: BTreeSet<usize>,
}

/// [`ToBmcs`] for every rule in force, by ordinal.
pub fn to_bmcs(context: &Context) -> Vec<ToBmcs> {
    let mut out = vec![ToBmcs::default(); context.analysis.rules.len()];
    collect_to_bmcs(
        context,
        &context.analysis.v4,
        &context.policy.bmcs.v4,
        &mut out,
        |s| &mut s.v4,
    );
    collect_to_bmcs(
        context,
        &context.analysis.v6,
        &context.policy.bmcs.v6,
        &mut out,
        |s| &mut s.v6,
    );
    out
}

/// Fills `out` from the cells of one family's table whose destination is a
/// BMC, by destination class, then source class, then service class, so
/// each witness is the first such cell.
fn collect_to_bmcs<T: Address>(
    context: &Context,
    table: &FamilyTable<T>,
    bmcs: &IntervalSet<T>,
    out: &mut [ToBmcs],
    family: impl Fn(&mut AddrSet) -> &mut IntervalSet<T>,
) {
    let bmc_parts: Vec<IntervalSet<T>> = table
        .dst
        .classes
        .iter()
        .map(|class| class.intersection(bmcs))
        .collect();
    let by_dst = pairs_into_bmcs(table, &bmc_parts);
    let allowed = allowed_to_bmcs(context, table);
    let (sources, ipmi_sources) = record_witnesses(table, &bmc_parts, &by_dst, &allowed, out);
    let union = |classes: &[usize]| {
        IntervalSet::from_intervals(
            classes
                .iter()
                .flat_map(|&s| table.src.classes[s].intervals().iter().copied())
                .collect(),
        )
    };
    for ((facts, sources), ipmi_sources) in out.iter_mut().zip(&sources).zip(&ipmi_sources) {
        *family(&mut facts.sources) = union(sources);
        *family(&mut facts.ipmi_sources) = union(ipmi_sources);
    }
}

/// The stored pairs into BMCs, by destination class: (source class, row id).
fn pairs_into_bmcs<T: Address>(
    table: &FamilyTable<T>,
    bmc_parts: &[IntervalSet<T>],
) -> Vec<Vec<(usize, usize)>> {
    let mut by_dst: Vec<Vec<(usize, usize)>> = vec![Vec::new(); table.dst.len()];
    for s in 0..table.src.len() {
        for (d, id, _) in table.pairs(s) {
            if !bmc_parts[d].is_empty() {
                by_dst[d].push((s, id));
            }
        }
    }
    by_dst
}

/// What each distinct row lets reach BMCs, per allow rule in it: the
/// service of its first cell that has one, whether it allows IPMI, and
/// the first cleartext service of the rule among its cells.
fn allowed_to_bmcs<T: Address>(context: &Context, table: &FamilyTable<T>) -> Vec<Vec<Allowed>> {
    let analysis = context.analysis;
    let ipmi = key(UDP, 623);
    let services: Vec<(Option<ServicePoint>, bool)> = analysis
        .services
        .classes
        .iter()
        .map(|class| (service::representative(class), class.contains(ipmi)))
        .collect();
    table
        .rows()
        .map(|row| {
            let mut out: Vec<Allowed> = Vec::new();
            for (v, ordinal) in row.decided() {
                let rule = &context.policy.rules[analysis.rules[ordinal]];
                let (Some(service), is_ipmi) = services[v] else {
                    continue;
                };
                if !allows(rule) {
                    continue;
                }
                let class = &analysis.services.classes[v];
                let mut clear = None;
                let mut parts = Vec::new();
                for (part, (_, set)) in rule.cleartext.iter().enumerate() {
                    let inside = class.intersection(set);
                    if let Some(point) = service::representative(&inside) {
                        clear = clear.or(Some(point));
                        parts.push(part);
                    }
                }
                match out.iter_mut().find(|a| a.ordinal == ordinal) {
                    Some(a) => {
                        a.ipmi |= is_ipmi;
                        a.cleartext = a.cleartext.or(clear);
                        a.cleartext_parts.extend(parts);
                    }
                    None => out.push(Allowed {
                        ordinal,
                        service,
                        ipmi: is_ipmi,
                        cleartext: clear,
                        cleartext_parts: parts.into_iter().collect(),
                    }),
                }
            }
            out
        })
        .collect()
}

/// Sets each rule's first witnesses in `out` and returns the source classes
/// each rule lets reach BMCs, in all and on IPMI.
fn record_witnesses<T: Address>(
    table: &FamilyTable<T>,
    bmc_parts: &[IntervalSet<T>],
    by_dst: &[Vec<(usize, usize)>],
    allowed: &[Vec<Allowed>],
    out: &mut [ToBmcs],
) -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
    let mut sources: Vec<Vec<usize>> = vec![Vec::new(); out.len()];
    let mut ipmi_sources: Vec<Vec<usize>> = vec![Vec::new(); out.len()];
    for (d, pairs) in by_dst.iter().enumerate() {
        for &(s, id) in pairs {
            if allowed[id].is_empty() {
                continue;
            }
            let Some((src, dst)) = distinct_ends(&table.src.classes[s], &bmc_parts[d]) else {
                continue;
            };
            for a in &allowed[id] {
                let flow = Flow {
                    family: T::FAMILY,
                    src: src.widen(),
                    dst: dst.widen(),
                    service: a.service,
                };
                let facts = &mut out[a.ordinal];
                sources[a.ordinal].push(s);
                facts.witness.get_or_insert(flow);
                if a.ipmi {
                    ipmi_sources[a.ordinal].push(s);
                    let service = ServicePoint {
                        proto: UDP,
                        port: Some(623),
                    };
                    facts.ipmi_witness.get_or_insert(Flow { service, ..flow });
                }
                if let (None, Some(service)) = (facts.cleartext_witness, a.cleartext) {
                    facts.cleartext_witness = Some(Flow { service, ..flow });
                }
                facts
                    .cleartext_parts
                    .extend(a.cleartext_parts.iter().copied());
            }
        }
    }
    (sources, ipmi_sources)
}

/// One allow rule of a row of the table, for [`allowed_to_bmcs`].
struct Allowed {
    ordinal: usize,
    /// A readable service of the first of its cells that has one.
    service: ServicePoint,
    /// Some cell of it holds udp 623.
    ipmi: bool,
    /// A cleartext service of the rule in the first of its cells that has one.
    cleartext: Option<ServicePoint>,
    /// The rule's cleartext services (indices into its `cleartext`) in its cells.
    cleartext_parts: BTreeSet<usize>,
}

/// How to fix a finding at a rule, in words that quote the rule.
pub type Fix = fn(&Context, &PolicyRule) -> Option<String>;

/// One finding per allow rule that lets flows from `from` nodes to `to` nodes,
/// with its one-hop path and the help `fix` gives: the shape of BW201, BW203
/// and BW204.
pub fn edge_findings(
    context: &Context,
    (from, to): (NodeKind, NodeKind),
    code: Code,
    (what, label): (&str, &str),
    fix: Fix,
    out: &mut Vec<Diagnostic>,
) {
    for (rule_index, flow) in allowing_rules(context, from, to) {
        let rule = &context.policy.rules[rule_index];
        let mut diagnostic = at_rule(
            code,
            rule,
            format!("{what}: {} is allowed", flow.witness()),
            label,
            &flow,
        );
        diagnostic.help = fix(context, rule);
        out.push(with_path(
            context,
            diagnostic,
            &[Hop {
                flow,
                rule: rule_index,
            }],
        ));
    }
}

/// `file:line` of each rule (policy indices), comma-separated.
pub fn rule_locations(context: &Context, rules: &[usize]) -> String {
    rules
        .iter()
        .map(|&r| super::location(context, context.policy.rules[r].span))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Adds a related label on each rule (policy indices).
pub fn with_rules(
    context: &Context,
    mut diagnostic: Diagnostic,
    rules: &[usize],
    label: impl Fn(&PolicyRule) -> String,
) -> Diagnostic {
    for &r in rules {
        let rule = &context.policy.rules[r];
        diagnostic = diagnostic.with_related(rule.span, label(rule));
    }
    diagnostic
}

/// How many BMC names a finding lists before "and N more".
const NAMED: usize = 5;

/// The first few of `names`, then how many more: `a, b, c and 4 more`.
pub fn names_listed<'a>(names: impl ExactSizeIterator<Item = &'a str>) -> String {
    let count = names.len();
    let shown: Vec<&str> = names.take(NAMED).collect();
    let mut listed = shown.join(", ");
    if count > shown.len() {
        listed.push_str(&format!(" and {} more", count - shown.len()));
    }
    listed
}
