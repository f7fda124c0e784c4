//! A TripleO `instackenv.json` (or its YAML form): `nodes`, each with its
//! BMC in `pm_addr`. Every node is a BMC. A node is named by `name`; one
//! without is named `node-` and its first MAC address with `-` for `:`
//! (`node-52-54-00-aa-bb-01`), or without a MAC `node-N`, N its place in
//! `nodes` from 1: names that stay the same from one read to the next.
//! `pm_type` and `arch` are labels, and so is every `key:value` of
//! `capabilities` (`profile:control,boot_option:local`).

use super::super::tree::{Node, Spanned};
use super::super::{Conventions, Files, Record, Reporter};
use super::{at, document, label, mappings, record, shape, text_at};
use crate::diagnostic::Diagnostic;
use crate::resolve::policy::Labels;

pub(in super::super) const CONVENTIONS: Conventions = Conventions {
    keys: &["pm_addr"],
    noun: "node",
    required: Some("has no `pm_addr`"),
    all_keys: false,
    prefix_length: false,
    none_note: None,
};

const HELP: &str = "an instackenv file is a mapping whose `nodes` lists the nodes, each with `pm_type`, `pm_addr`, `pm_user` and `pm_password`";

/// Reads an instackenv file.
pub(in super::super) fn load(files: &Files, diagnostics: &mut Vec<Diagnostic>) -> Vec<Record> {
    let Some(document) = document(files, HELP, diagnostics) else {
        return Vec::new();
    };
    let locator = files.locator(0);
    let mut report = Reporter::new(diagnostics);
    let Some(nodes) = document.value.get("nodes") else {
        shape(
            &mut report,
            &locator,
            &document,
            "an instackenv file must have `nodes`, the list of nodes".into(),
            "no `nodes`",
            HELP,
        );
        return Vec::new();
    };
    if !matches!(nodes.value, Node::List(_) | Node::Null) {
        shape(
            &mut report,
            &locator,
            nodes,
            format!(
                "`nodes` must be a list of nodes, not {}",
                nodes.value.what()
            ),
            "not a list",
            HELP,
        );
        return Vec::new();
    }
    // Each node with its place in `nodes`, from 1, for the names of those
    // without one.
    let listed = mappings(&mut report, &locator, nodes, "a node", HELP);
    let Node::List(items) = &nodes.value else {
        return Vec::new();
    };
    let places = items
        .iter()
        .enumerate()
        .filter(|(_, item)| matches!(item.value, Node::Map(_)))
        .map(|(index, _)| index + 1);
    listed
        .into_iter()
        .zip(places)
        .map(|(node, place): (&Spanned<Node>, usize)| {
            let mut labels = Labels::new();
            label(&mut labels, "pm_type", node, &["pm_type"]);
            label(&mut labels, "arch", node, &["arch"]);
            if let Some((capabilities, _)) = text_at(node, &["capabilities"]) {
                for capability in capabilities.split(',') {
                    if let Some((key, value)) = capability.split_once(':') {
                        let (key, value) = (key.trim(), value.trim());
                        if !key.is_empty() && !value.is_empty() {
                            labels.add(key, value);
                        }
                    }
                }
            }
            let name = match text_at(node, &["name"]) {
                Some((name, found)) => (name.to_string(), locator.span(found.at)),
                None => (generated_name(node, place), locator.at(node.at, 1)),
            };
            record(&locator, node, Some(name), labels)
        })
        .collect()
}

/// The name of a node without one: from its first MAC address, or its
/// place in the list.
fn generated_name(node: &Spanned<Node>, place: usize) -> String {
    let mac = match at(node, &["mac"]).map(|mac| &mac.value) {
        Some(Node::List(macs)) => macs.first().and_then(|mac| match &mac.value {
            Node::Scalar(text) => Some(text.clone()),
            _ => None,
        }),
        Some(Node::Scalar(text)) => Some(text.clone()),
        _ => None,
    };
    match mac.filter(|mac| !mac.trim().is_empty()) {
        Some(mac) => format!("node-{}", mac.trim().to_ascii_lowercase().replace(':', "-")),
        None => format!("node-{place}"),
    }
}
