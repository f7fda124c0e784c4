//! The resolved policy: every name replaced by the address or service set it
//! stands for. This is the input of analysis and compilation.

use crate::addr::service::ServiceSet;
use crate::addr::AddrSet;
use crate::diagnostic::Code;
use crate::model::{Action, Date, DefKind};
use crate::source::{SourceMap, Span};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug)]
pub struct Waiver {
    pub code: Code,
    pub reason: String,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct PolicyRule {
    pub action: Action,
    pub src: AddrSet,
    pub dst: AddrSet,
    pub services: ServiceSet,
    /// The cleartext items (marked * in the built-in catalogue) among the
    /// built-in services the rule names, directly or through definitions.
    pub cleartext: ServiceSet,
    pub log: bool,
    pub until: Option<(Date, Span)>,
    /// `until` has passed: the rule is left out of the decision table and output.
    pub expired: bool,
    pub description: Option<String>,
    pub waivers: Vec<Waiver>,
    pub span: Span,
    pub src_span: Span,
    pub dst_span: Span,
    pub services_span: Option<Span>,
}

impl PolicyRule {
    /// A rule in force with only a match and an action, located at `span`:
    /// what analysis needs, for rules that were not read from a file.
    pub fn bare(
        action: Action,
        src: AddrSet,
        dst: AddrSet,
        services: ServiceSet,
        span: Span,
    ) -> PolicyRule {
        PolicyRule {
            action,
            src,
            dst,
            services,
            cleartext: ServiceSet::empty(),
            log: false,
            until: None,
            expired: false,
            description: None,
            waivers: Vec::new(),
            span,
            src_span: span,
            dst_span: span,
            services_span: None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct PolicyExpectation {
    pub action: Action,
    pub src: AddrSet,
    pub dst: AddrSet,
    pub services: ServiceSet,
    pub description: Option<String>,
    pub span: Span,
}

/// A named definition and what it resolved to.
#[derive(Clone, Debug)]
pub struct NamedSet {
    pub name: String,
    pub kind: NamedKind,
    pub span: Span,
    /// The name where it is defined.
    pub name_span: Span,
    /// How many times other statements refer to it.
    pub uses: usize,
}

#[derive(Clone, Debug)]
pub enum NamedKind {
    Address(DefKind, AddrSet),
    Service(ServiceSet),
}

/// An inventory entry's labels: each key has a set of values. Native entries
/// have one value per key; importers may give several (an Ansible host in two
/// groups has two values of `group`).
pub type Labels = BTreeMap<String, BTreeSet<String>>;

/// One BMC from an inventory file.
#[derive(Clone, Debug)]
pub struct InventoryEntry {
    pub name: String,
    pub addresses: AddrSet,
    pub labels: Labels,
    /// The entry's name in the inventory file.
    pub span: Span,
    /// Each address as written, with its location, for duplicate reports.
    pub written: Vec<(std::net::IpAddr, Span)>,
}

impl InventoryEntry {
    /// True when the entry's `label` has the value `value`; the label `name`
    /// is the entry's name.
    pub fn has_label(&self, label: &str, value: &str) -> bool {
        if label == "name" {
            return self.name == value;
        }
        self.labels
            .get(label)
            .is_some_and(|values| values.contains(value))
    }
}

#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub internal: AddrSet,
    pub scope: AddrSet,
    pub bmcs: AddrSet,
    pub rules: Vec<PolicyRule>,
    pub expectations: Vec<PolicyExpectation>,
    pub definitions: Vec<NamedSet>,
    pub inventory: Vec<InventoryEntry>,
}

impl Policy {
    /// One line of policy text for a rule, with its location:
    /// `ams1.wall:16: allow admins -> rack-a : ssh;`.
    pub fn rule_text(&self, sources: &SourceMap, index: usize) -> String {
        let rule = &self.rules[index];
        let text: String = sources
            .text(rule.span)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        format!("{}: {text}", sources.file_line(rule.span))
    }

    /// Indices of the rules that are in force (not expired), in policy order.
    pub fn active_rules(&self) -> impl Iterator<Item = (usize, &PolicyRule)> {
        self.rules.iter().enumerate().filter(|(_, r)| !r.expired)
    }
}
