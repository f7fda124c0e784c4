//! A Warewulf 4 `nodes.conf`: `nodes` maps each node's name to the node,
//! whose BMC is `ipmi.ipaddr` (`ipmi ipaddr` before Warewulf 4.4). A node's
//! `profiles` are the label `profile`, one value each, its `cluster name`
//! the label `cluster`, and its `tags` are labels. Profiles are not merged
//! into nodes: a BMC's address is the node's own (Warewulf sets it per
//! node).

use super::super::tree::Node;
use super::super::{Conventions, Files, Record, Reporter};
use super::{document, label, labels_of_map, record, shape};
use crate::diagnostic::Diagnostic;
use crate::resolve::policy::Labels;

pub(in super::super) const CONVENTIONS: Conventions = Conventions {
    keys: &["ipmi.ipaddr", "ipmi ipaddr"],
    noun: "node",
    required: None,
    all_keys: false,
    prefix_length: false,
    none_note: None,
};

const HELP: &str =
    "a Warewulf nodes.conf is a mapping whose `nodes` maps each node's name to its settings, the BMC's address in `ipmi: {ipaddr: ...}`";

/// Reads a nodes.conf.
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
            "a nodes.conf must have `nodes`".into(),
            "no `nodes`",
            HELP,
        );
        return Vec::new();
    };
    let entries = match &nodes.value {
        Node::Map(entries) => entries,
        Node::Null => return Vec::new(),
        other => {
            shape(
                &mut report,
                &locator,
                nodes,
                format!(
                    "`nodes` must be a mapping of node names, not {}",
                    other.what()
                ),
                "not a mapping",
                HELP,
            );
            return Vec::new();
        }
    };
    let mut records = Vec::new();
    for (key, node) in entries {
        match node.value {
            Node::Map(_) | Node::Null => {}
            _ => {
                shape(
                    &mut report,
                    &locator,
                    node,
                    format!(
                        "node `{}` must be a mapping, not {}",
                        key.value,
                        node.value.what()
                    ),
                    "not a mapping",
                    HELP,
                );
                continue;
            }
        }
        let mut labels = Labels::new();
        label(&mut labels, "profile", node, &["profiles"]);
        label(&mut labels, "cluster", node, &["cluster name"]);
        labels_of_map(&mut labels, node, &["tags"]);
        let name = Some((key.value.to_string(), locator.span(key.at)));
        records.push(record(&locator, node, name, labels));
    }
    records
}
