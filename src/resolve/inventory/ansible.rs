//! Ansible inventories: the YAML form of a static inventory, as
//! `ansible-inventory --list --yaml` writes it. A host with a `bmc_address` or
//! `ansible_host` variable is a BMC; its variables and its groups are labels.
//!
//! Variables are merged as Ansible does: the groups a host belongs to (directly
//! or through `children`, and always `all`) are ordered by depth (`all` is 0,
//! a child is one deeper than its deepest parent), then `ansible_group_priority`
//! (default 1), then name; each group's variables override those before it,
//! and the host's own variables override them all. A host listed in several
//! places has the union of its groups, and its variables merged in file order.

use super::tree::Node;
use super::tree::Spanned;
use super::{entry, parse, vendor_problem, Language, Locator, Reporter};
use crate::diagnostic::Diagnostic;
use crate::resolve::policy::{InventoryEntry, Labels};
use crate::source::Span;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

/// The keys a group may have.
const GROUP_KEYS: [&str; 3] = ["hosts", "children", "vars"];

/// Groups every host belongs to: not values of the `group` label.
const IMPLICIT_GROUPS: [&str; 2] = ["all", "ungrouped"];

const SHAPE_HELP: &str = "an Ansible inventory is a mapping of groups (usually just `all`), each with `hosts`, `children` and `vars`; `ansible-inventory -i INVENTORY --list --yaml` writes one";

/// A variable's value, where it is written.
#[derive(Clone)]
struct Var {
    value: VarValue,
    span: Span,
}

#[derive(Clone)]
enum VarValue {
    Text(String),
    /// No value: the variable counts as unset.
    Empty,
    /// A list or mapping, described.
    Other(&'static str),
}

#[derive(Default)]
struct Group {
    /// Variables, later definitions overriding earlier ones.
    vars: BTreeMap<String, Var>,
    /// Child groups in file order, each with where it is named.
    children: Vec<(String, Span)>,
}

struct Host {
    name: String,
    /// The host's name where it first appears.
    span: Span,
    vars: BTreeMap<String, Var>,
    /// The groups that list the host.
    groups: Vec<String>,
}

/// The inventory as read, before hosts become entries.
struct Reader<'l, 'd> {
    locator: &'l Locator<'l>,
    /// Reports each location once: a bad group variable is reported once,
    /// not once per host that inherits it.
    report: Reporter<'d>,
    groups: BTreeMap<String, Group>,
    hosts: Vec<Host>,
    host_index: HashMap<String, usize>,
}

/// Reads an Ansible inventory.
pub(super) fn load(locator: &Locator, diagnostics: &mut Vec<Diagnostic>) -> Vec<InventoryEntry> {
    let help = "bmcwall reads the YAML form of an Ansible inventory; `ansible-inventory -i INVENTORY --list --yaml` writes it";
    let Some(document) = parse(locator, Language::Yaml, Some(help), diagnostics) else {
        return Vec::new();
    };
    let mut reader = Reader {
        locator,
        report: Reporter::once_per_location(diagnostics),
        groups: BTreeMap::new(),
        hosts: Vec::new(),
        host_index: HashMap::new(),
    };
    reader.groups.entry("all".into()).or_default();
    match &document.value {
        Node::Map(groups) => {
            for (name, group) in groups {
                // A top-level group other than `all` is a child of `all`.
                let parent = (name.value != "all").then_some("all");
                reader.read_group(name, group, parent);
            }
        }
        Node::Null => {
            let span = Span::new(locator.file, 0, 0);
            reader.error(
                span,
                "inventory is empty".into(),
                "no groups",
                Some(SHAPE_HELP.into()),
            );
        }
        other => {
            let span = locator.rest_of_line(document.at);
            reader.report.not_a_mapping(
                span,
                "an Ansible inventory must be a mapping of groups",
                other,
                SHAPE_HELP,
            );
        }
    }
    reader.entries()
}

impl Reader<'_, '_> {
    /// Reports a BW005 finding, once per location.
    fn error(&mut self, span: Span, message: String, label: &str, help: Option<String>) {
        self.report.error(span, message, label, help);
    }

    fn read_group(&mut self, name: &Spanned<String>, node: &Spanned<Node>, parent: Option<&str>) {
        let name_span = self.locator.span(name.at);
        self.groups.entry(name.value.clone()).or_default();
        if let Some(parent) = parent {
            if let Some(parent) = self.groups.get_mut(parent) {
                parent.children.push((name.value.clone(), name_span));
            }
        }
        let keys = match &node.value {
            Node::Map(keys) => keys,
            Node::Null => return,
            other => {
                let span = self.locator.span(node.at);
                let wanted = format!(
                    "group `{}` must be a mapping with `hosts`, `children` or `vars`",
                    name.value
                );
                self.report.not_a_mapping(span, &wanted, other, SHAPE_HELP);
                return;
            }
        };
        for (key, value) in keys {
            match key.value.as_str() {
                "hosts" => self.read_hosts(&name.value, value),
                "children" => match &value.value {
                    Node::Map(children) => {
                        for (child, group) in children {
                            self.read_group(child, group, Some(&name.value));
                        }
                    }
                    Node::Null => {}
                    other => {
                        let span = self.locator.span(value.at);
                        let wanted = format!(
                            "`children` of group `{}` must be a mapping of groups",
                            name.value
                        );
                        self.report.not_a_mapping(
                            span,
                            &wanted,
                            other,
                            "write each child group as `NAME:` on its own line, its `hosts`, `children` and `vars` indented below it",
                        );
                    }
                },
                "vars" => {
                    let context = format!("`vars` of group `{}`", name.value);
                    let vars = self.read_vars(value, &context);
                    if let Some(group) = self.groups.get_mut(&name.value) {
                        group.vars.extend(vars);
                    }
                }
                unknown => {
                    let span = self.locator.span(key.at);
                    let help = match crate::diagnostic::closest(unknown, GROUP_KEYS) {
                        Some(k) => format!(
                            "did you mean `{k}`? a group has `hosts`, `children` and `vars`"
                        ),
                        None => "a group has `hosts`, `children` and `vars`".into(),
                    };
                    self.error(
                        span,
                        format!("unknown key `{unknown}` in group `{}`", name.value),
                        "unknown key",
                        Some(help),
                    );
                }
            }
        }
    }

    fn read_hosts(&mut self, group: &str, node: &Spanned<Node>) {
        let hosts = match &node.value {
            Node::Map(hosts) => hosts,
            Node::Null => return,
            other => {
                let span = self.locator.span(node.at);
                self.report.not_a_mapping(
                    span,
                    &format!("`hosts` of group `{group}` must be a mapping of host names"),
                    other,
                    "write each host as `NAME:` on its own line, its variables indented below it",
                );
                return;
            }
        };
        for (name, value) in hosts {
            let index = match self.host_index.get(&name.value) {
                Some(&index) => index,
                None => {
                    let span = self.locator.span(name.at);
                    self.hosts.push(Host {
                        name: name.value.clone(),
                        span,
                        vars: BTreeMap::new(),
                        groups: Vec::new(),
                    });
                    self.host_index
                        .insert(name.value.clone(), self.hosts.len() - 1);
                    self.hosts.len() - 1
                }
            };
            self.hosts[index].groups.push(group.to_string());
            let vars = if let Node::Scalar(_) | Node::List(_) = &value.value {
                let span = self.locator.span(value.at);
                self.report.not_a_mapping(
                    span,
                    &format!("host `{}` must have a mapping of variables", name.value),
                    &value.value,
                    "write the host as `NAME:` with its variables indented below it, such as `bmc_address: ADDRESS`",
                );
                Vec::new()
            } else {
                let context = format!("host `{}`", name.value);
                self.read_vars(value, &context)
            };
            self.hosts[index].vars.extend(vars);
        }
    }

    /// The variables of a mapping, in file order; `context` names its owner.
    fn read_vars(&mut self, node: &Spanned<Node>, context: &str) -> Vec<(String, Var)> {
        let entries = match &node.value {
            Node::Map(entries) => entries,
            Node::Null => return Vec::new(),
            other => {
                let span = self.locator.span(node.at);
                self.report.not_a_mapping(
                    span,
                    &format!("{context} must be a mapping of variables"),
                    other,
                    "write variables as `NAME: VALUE`, one per line",
                );
                return Vec::new();
            }
        };
        entries
            .iter()
            .map(|(key, value)| {
                let var = match &value.value {
                    Node::Scalar(text) => Var {
                        value: VarValue::Text(text.clone()),
                        span: self.locator.span(value.at),
                    },
                    Node::Null => Var {
                        value: VarValue::Empty,
                        span: self.locator.span(key.at),
                    },
                    other => Var {
                        value: VarValue::Other(other.what()),
                        span: self.locator.span(value.at),
                    },
                };
                (key.value.clone(), var)
            })
            .collect()
    }

    /// Child-to-parent edges, leaving out (and reporting) each edge that
    /// closes a cycle, and the groups in an order where parents come first.
    fn hierarchy(&mut self) -> (HashMap<String, Vec<String>>, Vec<String>) {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            Open,
            Done,
        }
        let mut marks: HashMap<String, Mark> = HashMap::new();
        let mut broken: HashSet<(String, usize)> = HashSet::new();
        let mut cycles = Vec::new();
        let mut finished = Vec::new();
        let names: Vec<String> = self.groups.keys().cloned().collect();
        for root in names {
            if marks.contains_key(&root) {
                continue;
            }
            // Depth-first over children, with an explicit stack: a chain of
            // groups as long as the file allows does not exhaust the thread.
            let mut stack: Vec<(String, usize)> = vec![(root.clone(), 0)];
            marks.insert(root, Mark::Open);
            while let Some((group, next)) = stack.last().cloned() {
                let child = self
                    .groups
                    .get(&group)
                    .and_then(|g| g.children.get(next))
                    .cloned();
                let Some((child, span)) = child else {
                    marks.insert(group.clone(), Mark::Done);
                    finished.push(group);
                    stack.pop();
                    continue;
                };
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
                match marks.get(&child) {
                    Some(Mark::Open) => {
                        let start = stack.iter().position(|(g, _)| *g == child).unwrap_or(0);
                        let chain: Vec<String> = stack[start..]
                            .iter()
                            .map(|(g, _)| format!("`{g}`"))
                            .chain(std::iter::once(format!("`{child}`")))
                            .collect();
                        cycles.push((child.clone(), chain.join(" -> "), span));
                        broken.insert((group, next));
                    }
                    Some(Mark::Done) => {}
                    None => {
                        marks.insert(child.clone(), Mark::Open);
                        stack.push((child, 0));
                    }
                }
            }
        }
        for (child, chain, span) in cycles {
            self.error(
                span,
                format!("group `{child}` is its own descendant: {chain}"),
                "makes a cycle",
                Some("a group cannot contain itself, directly or through its children; remove one of these `children` entries".into()),
            );
        }
        let mut parents: HashMap<String, Vec<String>> = HashMap::new();
        for (name, group) in &self.groups {
            for (index, (child, _)) in group.children.iter().enumerate() {
                if !broken.contains(&(name.clone(), index)) {
                    parents.entry(child.clone()).or_default().push(name.clone());
                }
            }
        }
        // Post-order puts children first; reversed, parents come first.
        finished.reverse();
        (parents, finished)
    }

    /// Turns every host with an address into an entry.
    fn entries(mut self) -> Vec<InventoryEntry> {
        let (parents, order) = self.hierarchy();
        let mut depth: HashMap<&str, usize> = HashMap::new();
        for group in &order {
            let deepest_parent = parents
                .get(group)
                .into_iter()
                .flatten()
                .filter_map(|p| depth.get(p.as_str()))
                .max();
            depth.insert(group, deepest_parent.map_or(0, |d| d + 1));
        }
        let priority = |group: &Group| -> i64 {
            match group.vars.get("ansible_group_priority") {
                Some(Var {
                    value: VarValue::Text(text),
                    ..
                }) => text.parse().unwrap_or(1),
                _ => 1,
            }
        };
        let hosts = std::mem::take(&mut self.hosts);
        let all_groups = std::mem::take(&mut self.groups);
        let mut entries = Vec::new();
        for host in hosts {
            // Every group the host is in: those that list it and their
            // ancestors, and always `all`.
            let mut member: BTreeSet<&str> = BTreeSet::from(["all"]);
            let mut queue: Vec<&str> = host.groups.iter().map(String::as_str).collect();
            while let Some(group) = queue.pop() {
                if member.insert(group) {
                    queue.extend(parents.get(group).into_iter().flatten().map(String::as_str));
                }
            }
            let mut ordered: Vec<(usize, i64, &str)> = member
                .iter()
                .filter_map(|&name| {
                    let group = all_groups.get(name)?;
                    Some((depth.get(name).copied().unwrap_or(0), priority(group), name))
                })
                .collect();
            ordered.sort();
            let mut vars: BTreeMap<&str, &Var> = BTreeMap::new();
            for &(_, _, name) in &ordered {
                if let Some(group) = all_groups.get(name) {
                    vars.extend(group.vars.iter().map(|(k, v)| (k.as_str(), v)));
                }
            }
            vars.extend(host.vars.iter().map(|(k, v)| (k.as_str(), v)));
            let groups: BTreeSet<String> = member
                .iter()
                .filter(|g| !IMPLICIT_GROUPS.contains(g))
                .map(|g| g.to_string())
                .collect();
            if let Some(entry) = self.host_entry(&host, &vars, groups) {
                entries.push(entry);
            }
        }
        entries
    }

    /// The entry of one host from its merged variables; `None` when it has no
    /// address (not a BMC) or when something is wrong (reported).
    fn host_entry(
        &mut self,
        host: &Host,
        vars: &BTreeMap<&str, &Var>,
        groups: BTreeSet<String>,
    ) -> Option<InventoryEntry> {
        let set = |name: &str| {
            vars.get(name)
                .filter(|v| !matches!(v.value, VarValue::Empty))
        };
        let (variable, var) = match (set("bmc_address"), set("ansible_host")) {
            (Some(var), _) => ("bmc_address", *var),
            (None, Some(var)) => ("ansible_host", *var),
            (None, None) => return None,
        };
        let mut ok = true;
        let address = match &var.value {
            VarValue::Text(text) => match text.parse::<IpAddr>() {
                Ok(address) => Some(address),
                Err(_) => {
                    let help = if variable == "bmc_address" {
                        "`bmc_address` is one IPv4 or IPv6 address, without a prefix length"
                    } else {
                        "bmcwall needs the BMC's IP address: give the host `bmc_address: ADDRESS`, which is read before `ansible_host`"
                    };
                    self.error(
                        var.span,
                        format!("`{text}` in `{variable}` is not an IP address"),
                        "not an IP address",
                        Some(help.into()),
                    );
                    None
                }
            },
            VarValue::Other(what) => {
                self.error(
                    var.span,
                    format!("`{variable}` must be one IP address, not {what}"),
                    "not an address",
                    Some(
                        "`bmc_address` (or else `ansible_host`) is one IPv4 or IPv6 address".into(),
                    ),
                );
                None
            }
            VarValue::Empty => None,
        };
        let mut labels = Labels::new();
        for (&name, var) in vars {
            let VarValue::Text(text) = &var.value else {
                continue;
            };
            if name == "bmc_address"
                || name.starts_with("ansible_")
                || name == "name"
                || name == "group"
            {
                continue;
            }
            if name == "vendor" {
                if let Some(help) = vendor_problem(text) {
                    self.error(
                        var.span,
                        format!("unknown vendor `{text}`"),
                        "not a known vendor",
                        Some(help),
                    );
                    ok = false;
                }
            }
            labels.insert(name.to_string(), BTreeSet::from([text.clone()]));
        }
        if !groups.is_empty() {
            labels.insert("group".into(), groups);
        }
        let address = address?;
        ok.then(|| {
            entry(
                host.name.clone(),
                host.span,
                vec![(address, var.span)],
                labels,
            )
        })
    }
}
