//! An OpenShift `install-config.yaml` for installer-provisioned bare metal:
//! each of `platform.baremetal.hosts` is a host whose BMC is `bmc.address`
//! (a URL: `ipmi://10.0.0.5`, `redfish-virtualmedia://10.0.0.5/redfish/v1/Systems/1`,
//! `idrac-virtualmedia://...`); its `name` is the entry's name, its `role`
//! the label `role`, and the cluster's `metadata.name` the label `cluster`.

use super::super::tree::{Node, Spanned};
use super::super::{Conventions, Files, Record, Reporter};
use super::{document, label, mappings, name_at, record, shape, text_at};
use crate::diagnostic::Diagnostic;
use crate::resolve::policy::Labels;

pub(in super::super) const CONVENTIONS: Conventions = Conventions {
    keys: &["bmc.address"],
    noun: "host",
    required: Some("has no `bmc.address`"),
    all_keys: false,
    prefix_length: false,
    none_note: None,
};

const HELP: &str = "an install-config lists its bare-metal hosts in `platform.baremetal.hosts`, each with `name`, `role` and `bmc.address`";

/// Reads an install-config.
pub(in super::super) fn load(files: &Files, diagnostics: &mut Vec<Diagnostic>) -> Vec<Record> {
    let Some(config) = document(files, HELP, diagnostics) else {
        return Vec::new();
    };
    let locator = files.locator(0);
    let mut report = Reporter::new(diagnostics);
    let hosts = match config.value.get("platform") {
        Some(platform) => match platform.value.get("baremetal") {
            Some(baremetal) => baremetal.value.get("hosts"),
            None => {
                let other = match &platform.value {
                    Node::Map(entries) => entries.first().map(|(key, _)| key.value.clone()),
                    _ => None,
                };
                let message = match other {
                    Some(other) => format!(
                        "this install-config is for the platform `{other}`, not `baremetal`"
                    ),
                    None => "this install-config has no `platform.baremetal`".to_string(),
                };
                shape(
                    &mut report,
                    &locator,
                    platform,
                    message,
                    "no `baremetal`",
                    HELP,
                );
                return Vec::new();
            }
        },
        None => {
            shape(
                &mut report,
                &locator,
                &config,
                "an install-config must have `platform.baremetal.hosts`".into(),
                "no `platform`",
                HELP,
            );
            return Vec::new();
        }
    };
    let Some(hosts) = hosts else {
        return Vec::new();
    };
    if !matches!(hosts.value, Node::List(_) | Node::Null) {
        shape(
            &mut report,
            &locator,
            hosts,
            format!(
                "`platform.baremetal.hosts` must be a list, not {}",
                hosts.value.what()
            ),
            "not a list",
            HELP,
        );
        return Vec::new();
    }
    let cluster = text_at(&config, &["metadata", "name"]).map(|(name, _)| name.to_string());
    mappings(&mut report, &locator, hosts, "a host", HELP)
        .into_iter()
        .map(|host: &Spanned<Node>| {
            let mut labels = Labels::new();
            label(&mut labels, "role", host, &["role"]);
            if let Some(cluster) = &cluster {
                labels.set("cluster", cluster.as_str());
            }
            let name = name_at(&locator, host, &["name"]);
            record(&locator, host, name, labels)
        })
        .collect()
}
