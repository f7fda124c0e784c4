//! Ansible inventories, read as Ansible reads them: INI files (`ini.rs`),
//! YAML and the JSON of `ansible-inventory --list` (`yaml.rs`), and
//! directories of them with `group_vars/` and `host_vars/`. Every form
//! builds the same groups and hosts here, and every host becomes a
//! [`Record`] whose variables are its fields and whose groups and single
//! variables are its labels.
//!
//! Variables are merged as Ansible does: the groups a host belongs to (directly
//! or through `children`, and always `all`) are ordered by depth (`all` is 0,
//! a child is one deeper than its deepest parent), then `ansible_group_priority`
//! (default 1), then name; each group's variables override those before it,
//! and the host's own variables override them all. A host listed in several
//! places has the union of its groups, and its variables merged in file order.
//! `group_vars/` and `host_vars/` files override the variables written in
//! the inventory.

mod ini;
mod yaml;

use super::{detect, secrets, Conventions, Field, Files, Record, Reporter};
use crate::diagnostic::Diagnostic;
use crate::resolve::policy::Labels;
use crate::resolve::Root;
use crate::source::Span;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

pub(super) const CONVENTIONS: Conventions = Conventions {
    keys: &[
        "bmc_address",
        "ipmi_address",
        "idrac_ip",
        "ilo_ip",
        "oob_ip",
        "bmc_ip",
        "baseuri",
        "ipmi_host",
        "bmc_host",
    ],
    noun: "host",
    required: None,
    all_keys: false,
    prefix_length: false,
    none_note: None,
};

/// Groups every host belongs to: not values of the `group` label.
const IMPLICIT_GROUPS: [&str; 2] = ["all", "ungrouped"];

/// Files in an inventory directory that Ansible does not read as inventories
/// (its `inventory_ignore_extensions`).
const IGNORED_EXTENSIONS: [&str; 8] = [
    "~", ".orig", ".bak", ".ini", ".cfg", ".retry", ".pyc", ".pyo",
];

#[derive(Default)]
struct Group {
    /// Variables, later definitions overriding earlier ones.
    vars: BTreeMap<String, Field>,
    /// Child groups in file order, each with where it is named.
    children: Vec<(String, Span)>,
}

struct Host {
    name: String,
    /// The host's name where it first appears.
    span: Span,
    vars: BTreeMap<String, Field>,
    /// The groups that list the host.
    groups: Vec<String>,
}

/// The inventory as read, before hosts become records.
pub(super) struct Inventory<'d> {
    /// Reports each location once: a bad group variable is reported once,
    /// not once per host that inherits it.
    report: Reporter<'d>,
    groups: BTreeMap<String, Group>,
    hosts: Vec<Host>,
    host_index: HashMap<String, usize>,
}

/// Adds the inventory files of the directory at `path` (in name order) and
/// the `group_vars/` and `host_vars/` beside them to `files`. Every file
/// and directory read must be inside `root`, links followed: a link that
/// leads out of it is an error, as an `include` would be.
pub(super) fn gather_directory(path: &Path, root: &Root, files: &mut Files) -> std::io::Result<()> {
    root.admit(path)?;
    for entry in sorted_entries(path)? {
        let name = entry
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.')
            || IGNORED_EXTENSIONS.iter().any(|e| name.ends_with(e))
            || !entry.is_file()
        {
            continue;
        }
        root.admit(&entry)?;
        files.read(&entry)?;
    }
    gather_vars(path, root, files)
}

/// Adds the `group_vars/` and `host_vars/` beside the inventory file at
/// `path` to `files`.
pub(super) fn gather_vars_beside(
    path: &Path,
    root: &Root,
    files: &mut Files,
) -> std::io::Result<()> {
    match path.parent() {
        Some(dir) => gather_vars(
            if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            },
            root,
            files,
        ),
        None => Ok(()),
    }
}

fn gather_vars(dir: &Path, root: &Root, files: &mut Files) -> std::io::Result<()> {
    for kind in ["group_vars", "host_vars"] {
        let vars = dir.join(kind);
        if !vars.is_dir() {
            continue;
        }
        root.admit(&vars)?;
        for entry in sorted_entries(&vars)? {
            let inner = if entry.is_dir() {
                root.admit(&entry)?;
                sorted_entries(&entry)?
            } else {
                vec![entry]
            };
            for file in inner {
                let name = file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let wanted = !name.starts_with('.')
                    && file.is_file()
                    && [".yml", ".yaml", ".json"].iter().any(|e| name.ends_with(e))
                    || !name.contains('.') && file.is_file();
                if wanted {
                    root.admit(&file)?;
                    files.read(&file)?;
                }
            }
        }
    }
    Ok(())
}

fn sorted_entries(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    Ok(entries)
}

/// What a file of an Ansible inventory is, from where it is.
enum Role {
    Inventory,
    /// `group_vars/GROUP.yml` or `group_vars/GROUP/*.yml`.
    GroupVars(String),
    /// `host_vars/HOST.yml` or `host_vars/HOST/*.yml`.
    HostVars(String),
}

fn role(path: &Path) -> Role {
    let stem = |p: &Path| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        [".yml", ".yaml", ".json"]
            .iter()
            .find_map(|e| name.strip_suffix(e).map(str::to_string))
            .unwrap_or(name)
    };
    let parent = path.parent();
    let parent_name = parent
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned());
    let grandparent_name = parent
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned());
    match (parent_name.as_deref(), grandparent_name.as_deref()) {
        (Some("group_vars"), _) => Role::GroupVars(stem(path)),
        (Some("host_vars"), _) => Role::HostVars(stem(path)),
        (Some(dir), Some("group_vars")) => Role::GroupVars(dir.to_string()),
        (Some(dir), Some("host_vars")) => Role::HostVars(dir.to_string()),
        _ => Role::Inventory,
    }
}

/// Reads an Ansible inventory: every file of it, inventories first, then
/// group and host variables.
pub(super) fn load(files: &Files, diagnostics: &mut Vec<Diagnostic>) -> Vec<Record> {
    let mut inventory = Inventory {
        report: Reporter::once_per_location(diagnostics),
        groups: BTreeMap::new(),
        hosts: Vec::new(),
        host_index: HashMap::new(),
    };
    inventory.groups.entry("all".into()).or_default();
    let mut later = Vec::new();
    for index in 0..files.len() {
        let locator = files.locator(index);
        match role(&locator.source.path) {
            Role::Inventory => {
                let looks = detect::detect(locator.text());
                let ini = matches!(looks, detect::Looks::Format(_, "an Ansible INI inventory"));
                if ini {
                    ini::read(&locator, &mut inventory);
                } else {
                    yaml::read(&locator, &mut inventory);
                }
            }
            role => later.push((index, role)),
        }
    }
    for (index, role) in later {
        let locator = files.locator(index);
        let vars = yaml::vars_file(&locator, &mut inventory);
        match role {
            Role::GroupVars(group) => inventory.group(&group).vars.extend(vars),
            Role::HostVars(host) => {
                if let Some(&index) = inventory.host_index.get(&host) {
                    inventory.hosts[index].vars.extend(vars);
                }
            }
            Role::Inventory => {}
        }
    }
    inventory.records()
}

impl Inventory<'_> {
    /// The group called `name`, made if it is new.
    fn group(&mut self, name: &str) -> &mut Group {
        self.groups.entry(name.to_string()).or_default()
    }

    /// Makes `child` a child of `parent`.
    fn add_child(&mut self, parent: &str, child: &str, span: Span) {
        self.group(child);
        self.group(parent).children.push((child.to_string(), span));
    }

    /// Lists the host `name` in `group`; returns its index.
    fn add_host(&mut self, group: &str, name: &str, span: Span) -> usize {
        self.group(group);
        let index = match self.host_index.get(name) {
            Some(&index) => index,
            None => {
                self.hosts.push(Host {
                    name: name.to_string(),
                    span,
                    vars: BTreeMap::new(),
                    groups: Vec::new(),
                });
                self.host_index
                    .insert(name.to_string(), self.hosts.len() - 1);
                self.hosts.len() - 1
            }
        };
        self.hosts[index].groups.push(group.to_string());
        index
    }

    /// Reports a BW005 finding, once per location.
    fn error(&mut self, span: Span, message: String, label: &str, help: Option<String>) {
        self.report.error(span, message, label, help);
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

    /// Turns every host into a record.
    fn records(mut self) -> Vec<Record> {
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
            group
                .vars
                .get("ansible_group_priority")
                .and_then(Field::text)
                .map_or(1, |text| text.trim().parse().unwrap_or(1))
        };
        let hosts = std::mem::take(&mut self.hosts);
        let all_groups = std::mem::take(&mut self.groups);
        let mut records = Vec::new();
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
            let mut vars: BTreeMap<&str, &Field> = BTreeMap::new();
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
            records.push(record(&host, &vars, groups));
        }
        records
    }
}

/// The record of one host from its merged variables.
fn record(host: &Host, vars: &BTreeMap<&str, &Field>, groups: BTreeSet<String>) -> Record {
    let mut labels = Labels::new();
    for (&name, var) in vars {
        let Some(text) = var.text() else {
            continue;
        };
        let skipped = name.starts_with("ansible_")
            || matches!(name, "name" | "group" | "vendor")
            || secrets::is_secret(name)
            || text.contains("{{")
            || text.contains("{%")
            || text.starts_with("$ANSIBLE_VAULT");
        if !skipped {
            labels.set(name, text);
        }
    }
    if !groups.is_empty() {
        labels.set_all("group", groups);
    }
    Record {
        name: Some((host.name.clone(), host.span)),
        span: host.span,
        fields: vars
            .iter()
            .map(|(&name, &var)| (name.into(), var.clone()))
            .collect(),
        labels,
        vendor: vars.get("vendor").map(|&v| v.clone()),
    }
}
