//! `bmcwall graph`: the reachability graph as Graphviz DOT or Mermaid. A
//! dual-stack `host` is drawn once, with both addresses; addresses are
//! written as prefixes; each edge names its services and the rules that
//! allow it.

use crate::addr::service;
use crate::addr::to_prefixes;
use crate::analysis::flow::to_ip;
use crate::analysis::graph::{Edge, Node, NodeId, NodeKind, ReachGraph};
use crate::analysis::Family;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// How many prefixes a node's label shows before "+N more".
const SHOWN_PREFIXES: usize = 2;

/// The prefixes of a node's addresses, as written in a policy.
fn prefixes(node: &Node) -> Vec<String> {
    let mut out = Vec::new();
    for &(lo, hi) in node.addresses.intervals() {
        match node.family {
            Family::V4 => {
                for (start, len) in to_prefixes(lo as u32, hi as u32) {
                    out.push(prefix_text(to_ip(node.family, u128::from(start)), len, 32));
                }
            }
            Family::V6 => {
                for (start, len) in to_prefixes(lo, hi) {
                    out.push(prefix_text(to_ip(node.family, start), len, 128));
                }
            }
        }
    }
    out
}

fn prefix_text(address: std::net::IpAddr, len: u8, bits: u8) -> String {
    if len == bits {
        address.to_string()
    } else {
        format!("{address}/{len}")
    }
}

/// The names that contain a node, else what it is.
fn node_name(node: &Node) -> String {
    if node.names.is_empty() {
        match node.kind {
            NodeKind::Internet => "internet".to_string(),
            _ => "other".to_string(),
        }
    } else {
        node.names.join(", ")
    }
}

/// The nodes as drawn: each with its label, a dual-stack host's two nodes
/// as one (the first), and which drawn node every node is.
struct Drawing {
    /// Drawn nodes: (id, kind, label lines).
    nodes: Vec<(NodeId, NodeKind, Vec<String>)>,
    drawn_as: BTreeMap<NodeId, NodeId>,
}

impl Drawing {
    fn of(graph: &ReachGraph) -> Drawing {
        let mut nodes: Vec<(NodeId, NodeKind, Vec<String>)> = Vec::new();
        let mut drawn_as = BTreeMap::new();
        let mut by_host: BTreeMap<Vec<String>, usize> = BTreeMap::new();
        for (id, node) in graph.nodes() {
            let mut shown = prefixes(node);
            if shown.len() > SHOWN_PREFIXES {
                let more = shown.len() - SHOWN_PREFIXES;
                shown.truncate(SHOWN_PREFIXES);
                shown.push(format!("+{more} more"));
            }
            let host = (node.kind == NodeKind::Internal && !node.hosts.is_empty())
                .then(|| node.hosts.clone());
            if let Some(&at) = host.as_ref().and_then(|h| by_host.get(h)) {
                let (first, _, lines) = &mut nodes[at];
                lines.extend(shown);
                drawn_as.insert(id, *first);
                continue;
            }
            if let Some(host) = host {
                by_host.insert(host, nodes.len());
            }
            let mut lines = vec![node_name(node)];
            lines.extend(shown);
            nodes.push((id, node.kind, lines));
            drawn_as.insert(id, id);
        }
        Drawing { nodes, drawn_as }
    }

    /// The drawn edges: each pair of drawn nodes once, with the services and
    /// rules of the edges between their nodes.
    fn edges<'g>(&self, graph: &'g ReachGraph) -> Vec<(NodeId, NodeId, Vec<&'g Edge>)> {
        let mut edges: BTreeMap<(NodeId, NodeId), Vec<&Edge>> = BTreeMap::new();
        for (from, to, edge) in graph.edges() {
            let key = (self.drawn_as[&from], self.drawn_as[&to]);
            edges.entry(key).or_default().push(edge);
        }
        edges.into_iter().map(|((a, b), e)| (a, b, e)).collect()
    }
}

/// An edge's label: its services and the rules that allow them.
fn edge_label(edges: &[&Edge], rule_name: &dyn Fn(usize) -> String) -> String {
    let services = edges.iter().fold(service::ServiceSet::empty(), |acc, e| {
        acc.union(&e.services)
    });
    let mut rules: Vec<usize> = edges
        .iter()
        .flat_map(|e| e.rules.iter().map(|&(rule, _)| rule))
        .collect();
    rules.sort_unstable();
    rules.dedup();
    let rules: Vec<String> = rules.into_iter().map(rule_name).collect();
    format!("{}\\n{}", service::short_words(&services), rules.join(", "))
}

/// The drawn edges on an exposure path: those with a node pair that is.
fn exposed(graph: &ReachGraph, drawing: &Drawing) -> BTreeSet<(NodeId, NodeId)> {
    graph
        .exposure_edges()
        .iter()
        .map(|(a, b)| (drawing.drawn_as[a], drawing.drawn_as[b]))
        .collect()
}

/// The graph in DOT; `rule_name` names a rule by its policy index.
pub fn dot(graph: &ReachGraph, rule_name: &dyn Fn(usize) -> String) -> String {
    let drawing = Drawing::of(graph);
    let exposed = exposed(graph, &drawing);
    let mut out = String::from("digraph bmcwall {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for (index, kind, lines) in &drawing.nodes {
        let style = match kind {
            NodeKind::Bmc => "shape=box, style=filled, fillcolor=\"#fde2b5\"",
            NodeKind::Internet => "shape=doubleoctagon, style=filled, fillcolor=\"#f6b4b4\"",
            NodeKind::Internal => "shape=ellipse",
        };
        let _ = writeln!(
            out,
            "  n{} [label=\"{}\", {style}];",
            index.index(),
            lines.join("\\n").replace('"', "'")
        );
    }
    for (from, to, edges) in drawing.edges(graph) {
        let highlight = if exposed.contains(&(from, to)) {
            ", color=red, penwidth=2, fontcolor=red"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  n{} -> n{} [label=\"{}\"{highlight}];",
            from.index(),
            to.index(),
            edge_label(&edges, rule_name).replace('"', "'")
        );
    }
    out.push_str("}\n");
    out
}

/// The graph as a Mermaid flowchart; `rule_name` names a rule by its policy
/// index.
pub fn mermaid(graph: &ReachGraph, rule_name: &dyn Fn(usize) -> String) -> String {
    let drawing = Drawing::of(graph);
    let exposed = exposed(graph, &drawing);
    let mut out = String::from("flowchart LR\n");
    for (index, kind, lines) in &drawing.nodes {
        let label = lines.join("<br/>").replace('"', "'");
        let shape = match kind {
            NodeKind::Bmc => format!("n{}[\"{label}\"]:::bmc", index.index()),
            NodeKind::Internet => format!("n{}{{{{\"{label}\"}}}}:::internet", index.index()),
            NodeKind::Internal => format!("n{}([\"{label}\"])", index.index()),
        };
        let _ = writeln!(out, "  {shape}");
    }
    let mut highlighted = Vec::new();
    for (position, (from, to, edges)) in drawing.edges(graph).into_iter().enumerate() {
        let label = edge_label(&edges, rule_name)
            .replace("\\n", "<br/>")
            .replace('"', "'");
        let _ = writeln!(out, "  n{} -->|\"{label}\"| n{}", from.index(), to.index());
        if exposed.contains(&(from, to)) {
            highlighted.push(position.to_string());
        }
    }
    out.push_str("  classDef bmc fill:#fde2b5,stroke:#a86b00\n  classDef internet fill:#f6b4b4,stroke:#a00\n");
    if !highlighted.is_empty() {
        let _ = writeln!(
            out,
            "  linkStyle {} stroke:red,stroke-width:3px",
            highlighted.join(",")
        );
    }
    out
}
