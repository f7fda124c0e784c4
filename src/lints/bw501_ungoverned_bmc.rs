//! BW501 ungoverned-bmc
//!
//! ## What it does
//! In a policy with `gateway` declarations, reports BMCs that no gateway governs: no gateway's `scope` (in `mode forward`) nor addresses (in `mode host`) hold them, so no table bmcwall writes sees their flows. Inventory BMCs are reported once per inventory file, at the first of them, with how many there are and the first few names; a `bmc` definition's own addresses at the definition.
//!
//! ## Why it matters
//! The policy's rules for these BMCs, and every check that passes for them, are enforced nowhere: the BMC is as open as the network it sits on. Usually a site's inventory was added without its gateway, or a gateway's `scope` selects by a label value these BMCs do not have.
//!
//! ## Example
//! ```text
//! inventory "inventory/lon1.yaml";                          # site = "lon1"
//! gateway ams1-gw = 10.1.0.1 { scope inventory(site = "ams1"); }
//! ```
//!
//! ## How to fix
//! Declare the gateway in front of them (`gateway lon1-gw = ... { scope inventory(site = "lon1"); }`), or widen a gateway's `scope`.

use super::Context;
use crate::diagnostic::{Code, Diagnostic};
use crate::model::DefKind;
use crate::resolve::NamedKind;
use crate::source::FileId;
use std::collections::BTreeMap;

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    let policy = context.policy;
    if policy.gateways.is_empty() {
        return;
    }
    let governed = &policy.scope;
    let mut by_file: BTreeMap<FileId, Vec<usize>> = BTreeMap::new();
    let mut in_inventory = crate::addr::AddrSet::empty();
    for (index, entry) in policy.inventory.iter().enumerate() {
        in_inventory = in_inventory.union(&entry.addresses);
        if !entry.addresses.difference(governed).is_empty() {
            by_file.entry(entry.span.file).or_default().push(index);
        }
    }
    for entries in by_file.values() {
        let first = &policy.inventory[entries[0]];
        let listed = super::support::names_listed(
            entries.iter().map(|&i| policy.inventory[i].name.as_str()),
        );
        let what = if entries.len() == 1 {
            "1 BMC of this inventory is".to_string()
        } else {
            format!("{} BMCs of this inventory are", entries.len())
        };
        out.push(
            Diagnostic::new(
                Code::UngovernedBmc,
                format!("{what} governed by no gateway: {listed}"),
                first.span,
                "no gateway's scope holds it",
            )
            .with_help(
                "nothing enforces the policy's rules for them: declare the gateway in front \
                 of them, or widen a gateway's `scope`",
            ),
        );
    }
    for definition in &policy.definitions {
        let NamedKind::Address(DefKind::Bmc, set) = &definition.kind else {
            continue;
        };
        let own = set.difference(&in_inventory).difference(governed);
        if own.is_empty() {
            continue;
        }
        out.push(
            Diagnostic::new(
                Code::UngovernedBmc,
                format!(
                    "BMC `{}` has addresses that no gateway governs",
                    definition.name
                ),
                definition.name_span,
                "no gateway's scope holds it",
            )
            .with_help(
                "nothing enforces the policy's rules for it: declare the gateway in front \
                 of it, or widen a gateway's `scope`",
            ),
        );
    }
}
