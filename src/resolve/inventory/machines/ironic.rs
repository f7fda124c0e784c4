//! Ironic and Bifrost node files: Bifrost's inventory (a mapping of node
//! names to nodes, JSON or YAML), the `nodes` list that `baremetal create`
//! reads, or a plain list of nodes. A node's BMC is the first of its
//! `driver_info.*_address` fields that is set (`ipmi_address`,
//! `redfish_address`, `idrac_address`, ...); its name is `name`, else the
//! Bifrost key, else `uuid`. `driver`, `resource_class` and
//! `conductor_group` are labels, and Bifrost's `host_groups` the label
//! `group`.

use super::super::tree::{Node, Spanned, Text};
use super::super::{Conventions, Files, Record, Reporter};
use super::{document, label, mappings, name_at, record, shape};
use crate::diagnostic::Diagnostic;
use crate::resolve::policy::Labels;

pub(in super::super) const CONVENTIONS: Conventions = Conventions {
    keys: &[
        "driver_info.ipmi_address",
        "driver_info.redfish_address",
        "driver_info.idrac_address",
        "driver_info.drac_address",
        "driver_info.ilo_address",
        "driver_info.irmc_address",
        "driver_info.ibmc_address",
        "driver_info.xclarity_address",
        // Bifrost before 2019 nested them under `power`.
        "driver_info.power.ipmi_address",
    ],
    noun: "node",
    required: None,
    all_keys: false,
    prefix_length: false,
    none_note: None,
};

const HELP: &str = "an Ironic node file is a mapping of node names to nodes (Bifrost), a mapping with a `nodes` list, or a list of nodes, each with `driver_info`";

/// Reads Ironic or Bifrost nodes.
pub(in super::super) fn load(files: &Files, diagnostics: &mut Vec<Diagnostic>) -> Vec<Record> {
    let Some(document) = document(files, HELP, diagnostics) else {
        return Vec::new();
    };
    let locator = files.locator(0);
    let mut report = Reporter::new(diagnostics);
    // Each node with the name Bifrost keys it by, if it is keyed.
    let nodes: Vec<(&Spanned<Node>, Option<&Spanned<Text>>)> = match &document.value {
        Node::List(_) => mappings(&mut report, &locator, &document, "a node", HELP)
            .into_iter()
            .map(|node| (node, None))
            .collect(),
        Node::Map(_) if document.value.get("nodes").is_some() => {
            let nodes = document.value.get("nodes").expect("checked");
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
            }
            mappings(&mut report, &locator, nodes, "a node", HELP)
                .into_iter()
                .map(|node| (node, None))
                .collect()
        }
        Node::Map(entries) => entries
            .iter()
            .filter_map(|(key, node)| match node.value {
                Node::Map(_) => Some((node, Some(key))),
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
                    None
                }
            })
            .collect(),
        Node::Null | Node::Scalar(_) => {
            shape(
                &mut report,
                &locator,
                &document,
                format!(
                    "an Ironic node file must be a mapping or a list, not {}",
                    document.value.what()
                ),
                "no nodes",
                HELP,
            );
            Vec::new()
        }
    };
    nodes
        .into_iter()
        .map(|(node, key)| {
            let mut labels = Labels::new();
            label(&mut labels, "driver", node, &["driver"]);
            label(&mut labels, "resource_class", node, &["resource_class"]);
            label(&mut labels, "conductor_group", node, &["conductor_group"]);
            label(&mut labels, "group", node, &["host_groups"]);
            let name = name_at(&locator, node, &["name"])
                .or_else(|| key.map(|key| (key.value.to_string(), locator.span(key.at))))
                .or_else(|| name_at(&locator, node, &["uuid"]));
            record(&locator, node, name, labels)
        })
        .collect()
}
