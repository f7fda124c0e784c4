//! `bmcwall graph`: the reachability graph as Graphviz DOT or Mermaid.

use crate::addr::service;
use crate::analysis::flow::to_ip;
use crate::analysis::graph::{Node, NodeKind, ReachGraph};
use std::fmt::Write;

/// A short label for a node: the names that contain it, else its first range.
fn node_label(node: &Node) -> String {
    let mut label = if node.names.is_empty() {
        match node.kind {
            NodeKind::Internet => "internet".to_string(),
            _ => "other".to_string(),
        }
    } else {
        node.names.join(", ")
    };
    let ranges = node.addresses.intervals();
    if let Some(&(lo, hi)) = ranges.first() {
        let (lo, hi) = (to_ip(node.family, lo), to_ip(node.family, hi));
        let first = if lo == hi {
            lo.to_string()
        } else {
            format!("{lo}-{hi}")
        };
        let more = if ranges.len() > 1 {
            format!(" (+{} ranges)", ranges.len() - 1)
        } else {
            String::new()
        };
        label.push_str(&format!("\\n{first}{more}"));
    }
    label
}

pub fn dot(graph: &ReachGraph) -> String {
    let exposed = graph.exposure_edges();
    let mut out = String::from("digraph bmcwall {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for (index, node) in graph.nodes() {
        let style = match node.kind {
            NodeKind::Bmc => "shape=box, style=filled, fillcolor=\"#fde2b5\"",
            NodeKind::Internet => "shape=doubleoctagon, style=filled, fillcolor=\"#f6b4b4\"",
            NodeKind::Internal => "shape=ellipse",
        };
        let _ = writeln!(
            out,
            "  n{} [label=\"{}\", {style}];",
            index.index(),
            node_label(node).replace('"', "'")
        );
    }
    for (from, to, edge) in graph.edges() {
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
            service::short_words(&edge.services)
        );
    }
    out.push_str("}\n");
    out
}

pub fn mermaid(graph: &ReachGraph) -> String {
    let exposed = graph.exposure_edges();
    let mut out = String::from("flowchart LR\n");
    for (index, node) in graph.nodes() {
        let label = node_label(node).replace("\\n", "<br/>").replace('"', "'");
        let shape = match node.kind {
            NodeKind::Bmc => format!("n{}[\"{label}\"]:::bmc", index.index()),
            NodeKind::Internet => format!("n{}{{{{\"{label}\"}}}}:::internet", index.index()),
            NodeKind::Internal => format!("n{}([\"{label}\"])", index.index()),
        };
        let _ = writeln!(out, "  {shape}");
    }
    let mut highlighted = Vec::new();
    for (position, (from, to, edge)) in graph.edges().enumerate() {
        let _ = writeln!(
            out,
            "  n{} -->|\"{}\"| n{}",
            from.index(),
            service::short_words(&edge.services),
            to.index()
        );
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
