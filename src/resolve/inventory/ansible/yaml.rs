//! Ansible inventories in YAML, and the JSON `ansible-inventory --list`
//! writes (groups with `hosts` and `children` as lists, every host's
//! variables under `_meta.hostvars`); and `group_vars/` and `host_vars/`
//! files.

use super::Inventory;
use crate::resolve::inventory::tree::{Node, Spanned, Text};
use crate::resolve::inventory::{parse, Field, Language, Locator};
use crate::source::Span;

/// The keys a group may have.
const GROUP_KEYS: [&str; 3] = ["hosts", "children", "vars"];

const SHAPE_HELP: &str = "an Ansible inventory is a mapping of groups (usually just `all`), each with `hosts`, `children` and `vars`; `ansible-inventory -i INVENTORY --list --yaml` writes one";

/// Reads one YAML (or `--list` JSON) inventory file into `inventory`.
pub(super) fn read(locator: &Locator, inventory: &mut Inventory) {
    let language = Language::of(locator.text());
    let help = "bmcwall reads Ansible inventories in INI and YAML, and the JSON of `ansible-inventory --list`";
    let Some(document) = parse(locator, language, Some(help), inventory.report.diagnostics) else {
        return;
    };
    let mut reader = Reader {
        locator,
        inventory,
        list_form: document.value.get("_meta").is_some(),
    };
    match &document.value {
        Node::Map(groups) => {
            for (name, group) in groups {
                if name.value == "_meta" {
                    continue;
                }
                // A top-level group other than `all` is a child of `all`.
                let parent = (name.value != "all").then_some("all");
                reader.group(name, group, parent);
            }
            if let Some(meta) = document.value.get("_meta") {
                reader.hostvars(meta);
            }
        }
        Node::Null => {
            let span = Span::new(locator.file, 0, 0);
            reader.inventory.error(
                span,
                "inventory is empty".into(),
                "no groups",
                Some(SHAPE_HELP.into()),
            );
        }
        other => {
            let span = locator.rest_of_line(document.at);
            reader.inventory.report.not_a_mapping(
                span,
                "an Ansible inventory must be a mapping of groups",
                other,
                SHAPE_HELP,
            );
        }
    }
}

/// The variables of a `group_vars/` or `host_vars/` file.
pub(super) fn vars_file(locator: &Locator, inventory: &mut Inventory) -> Vec<(String, Field)> {
    let language = Language::of(locator.text());
    let Some(document) = parse(locator, language, None, inventory.report.diagnostics) else {
        return Vec::new();
    };
    Reader {
        locator,
        inventory,
        list_form: false,
    }
    .vars(&document, "a variables file")
}

struct Reader<'l, 'i, 'd> {
    locator: &'l Locator<'l>,
    inventory: &'i mut Inventory<'d>,
    /// The form `ansible-inventory --list` writes (a `_meta` key): `hosts`
    /// and `children` are lists of names.
    list_form: bool,
}

impl Reader<'_, '_, '_> {
    fn span(&self, node: &Spanned<Node>) -> Span {
        self.locator.span(node.at)
    }

    fn group(&mut self, name: &Spanned<Text>, node: &Spanned<Node>, parent: Option<&str>) {
        let name_span = self.locator.span(name.at);
        self.inventory.group(&name.value);
        if let Some(parent) = parent {
            self.inventory.add_child(parent, &name.value, name_span);
        }
        let keys = match &node.value {
            Node::Map(keys) => keys,
            Node::Null => return,
            other => {
                let wanted = format!(
                    "group `{}` must be a mapping with `hosts`, `children` or `vars`",
                    name.value
                );
                let span = self.span(node);
                self.inventory
                    .report
                    .not_a_mapping(span, &wanted, other, SHAPE_HELP);
                return;
            }
        };
        for (key, value) in keys {
            match key.value.as_str() {
                "hosts" => self.hosts(&name.value, value),
                "children" => match &value.value {
                    Node::Map(children) => {
                        for (child, group) in children {
                            self.group(child, group, Some(&name.value));
                        }
                    }
                    // `ansible-inventory --list`: the names of groups
                    // written at the top level.
                    Node::List(children) if self.list_form => {
                        for child in children {
                            match &child.value {
                                Node::Scalar(child_name) => {
                                    let span = self.span(child);
                                    self.inventory.add_child(&name.value, child_name, span);
                                }
                                other => {
                                    let span = self.span(child);
                                    self.inventory.error(
                                        span,
                                        format!("a child group is named, not {}", other.what()),
                                        "not a group name",
                                        None,
                                    );
                                }
                            }
                        }
                    }
                    Node::Null => {}
                    other => {
                        let span = self.span(value);
                        let wanted = format!(
                            "`children` of group `{}` must be a mapping of groups",
                            name.value
                        );
                        self.inventory.report.not_a_mapping(
                            span,
                            &wanted,
                            other,
                            "write each child group as `NAME:` on its own line, its `hosts`, `children` and `vars` indented below it",
                        );
                    }
                },
                "vars" => {
                    let context = format!("`vars` of group `{}`", name.value);
                    let vars = self.vars(value, &context);
                    self.inventory.group(&name.value).vars.extend(vars);
                }
                unknown => {
                    let span = self.locator.span(key.at);
                    let help = match crate::diagnostic::closest(unknown, GROUP_KEYS) {
                        Some(k) => format!(
                            "did you mean `{k}`? a group has `hosts`, `children` and `vars`"
                        ),
                        None => "a group has `hosts`, `children` and `vars`".into(),
                    };
                    self.inventory.error(
                        span,
                        format!("unknown key `{unknown}` in group `{}`", name.value),
                        "unknown key",
                        Some(help),
                    );
                }
            }
        }
    }

    fn hosts(&mut self, group: &str, node: &Spanned<Node>) {
        let hosts = match &node.value {
            Node::Map(hosts) => hosts,
            // `ansible-inventory --list`: host names, their variables in
            // `_meta.hostvars`.
            Node::List(names) if self.list_form => {
                for name in names {
                    if let Node::Scalar(host) = &name.value {
                        let span = self.span(name);
                        self.inventory.add_host(group, host, span);
                    }
                }
                return;
            }
            Node::Null => return,
            other => {
                let span = self.span(node);
                self.inventory.report.not_a_mapping(
                    span,
                    &format!("`hosts` of group `{group}` must be a mapping of host names"),
                    other,
                    "write each host as `NAME:` on its own line, its variables indented below it",
                );
                return;
            }
        };
        for (name, value) in hosts {
            let span = self.locator.span(name.at);
            let index = self.inventory.add_host(group, &name.value, span);
            let vars = if let Node::Scalar(_) | Node::List(_) = &value.value {
                let span = self.span(value);
                self.inventory.report.not_a_mapping(
                    span,
                    &format!("host `{}` must have a mapping of variables", name.value),
                    &value.value,
                    "write the host as `NAME:` with its variables indented below it, such as `bmc_address: ADDRESS`",
                );
                Vec::new()
            } else {
                let context = format!("host `{}`", name.value);
                self.vars(value, &context)
            };
            self.inventory.hosts[index].vars.extend(vars);
        }
    }

    /// `_meta.hostvars`: each host's variables.
    fn hostvars(&mut self, meta: &Spanned<Node>) {
        let Some(Spanned {
            value: Node::Map(hosts),
            ..
        }) = meta.value.get("hostvars")
        else {
            return;
        };
        for (name, value) in hosts {
            let span = self.locator.span(name.at);
            let index = match self.inventory.host_index.get(name.value.as_str()) {
                Some(&index) => index,
                None => self.inventory.add_host("ungrouped", &name.value, span),
            };
            let vars = self.vars(value, &format!("host `{}`", name.value));
            self.inventory.hosts[index].vars.extend(vars);
        }
    }

    /// The variables of a mapping, in file order; `context` names its owner.
    fn vars(&mut self, node: &Spanned<Node>, context: &str) -> Vec<(String, Field)> {
        let entries = match &node.value {
            Node::Map(entries) => entries,
            Node::Null => return Vec::new(),
            other => {
                let span = self.span(node);
                self.inventory.report.not_a_mapping(
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
                let mut field = Field::of(self.locator, value);
                if matches!(value.value, Node::Null) {
                    field.span = self.locator.span(key.at);
                }
                (key.value.to_string(), field)
            })
            .collect()
    }
}
