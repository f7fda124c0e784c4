//! The native inventory format: a YAML mapping whose `bmcs` list holds
//! entries with a name, addresses and labels.

use super::tree::{Node, Spanned};
use super::{entry, parse, vendor_problem, Language, Locator};
use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::policy::InventoryEntry;
use crate::source::Span;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

const SHAPE_HELP: &str =
    "an inventory is a mapping with one key, `bmcs`, holding a list of entries; see docs/language.md";

/// One address as written in an inventory entry.
struct Written {
    text: String,
    span: Span,
}

/// Reads a native inventory.
pub(super) fn load(locator: &Locator, diagnostics: &mut Vec<Diagnostic>) -> Vec<InventoryEntry> {
    let file = locator.file;
    let Some(document) = parse(locator, Language::Yaml, None, diagnostics) else {
        return Vec::new();
    };
    let mut report = |span: Span, message: String, label: &str, help: Option<String>| {
        let mut diagnostic = Diagnostic::new(Code::InventoryError, message, span, label);
        diagnostic.help = help;
        diagnostics.push(diagnostic);
    };
    let nodes = match document.value {
        Node::Map(keys) => {
            let mut bmcs = None;
            let mut unknown = false;
            for (key, value) in keys {
                if key.value == "bmcs" {
                    bmcs = Some(value);
                    continue;
                }
                unknown = true;
                report(
                    locator.span(key.at),
                    format!("unknown top-level key `{}` in inventory", key.value),
                    "unknown key",
                    Some(
                        "the only top-level key of an inventory is `bmcs`, a list of entries"
                            .into(),
                    ),
                );
            }
            match bmcs {
                Some(Spanned {
                    value: Node::List(nodes),
                    ..
                }) => nodes,
                Some(Spanned {
                    value: Node::Null, ..
                }) => Vec::new(),
                Some(other) => {
                    report(
                        locator.rest_of_line(other.at),
                        format!(
                            "`bmcs` must be a list of entries, not {}",
                            other.value.what()
                        ),
                        "not a list",
                        Some(SHAPE_HELP.into()),
                    );
                    Vec::new()
                }
                None if !unknown => {
                    report(
                        Span::new(file, 0, 0),
                        "inventory has no `bmcs` list".into(),
                        "`bmcs` missing",
                        Some(SHAPE_HELP.into()),
                    );
                    Vec::new()
                }
                None => Vec::new(),
            }
        }
        Node::Null => {
            report(
                Span::new(file, 0, 0),
                "inventory is empty".into(),
                "no `bmcs` list",
                Some(SHAPE_HELP.into()),
            );
            Vec::new()
        }
        other => {
            report(
                locator.rest_of_line(document.at),
                format!("an inventory must be a mapping, not {}", other.what()),
                "not a mapping",
                Some(SHAPE_HELP.into()),
            );
            Vec::new()
        }
    };
    let mut entries = Vec::new();
    for node in nodes {
        let keys = match node.value {
            Node::Map(keys) => keys,
            other => {
                report(
                    locator.rest_of_line(node.at),
                    format!("an inventory entry must be a mapping, not {}", other.what()),
                    "not a mapping",
                    Some("write an entry as `- name: NAME` followed by `address: ADDRESS` on the next line, indented".into()),
                );
                continue;
            }
        };
        let entry_span = locator.at(node.at, 1);
        let mut name: Option<(String, Span)> = None;
        let mut name_given = false;
        let mut addresses: Vec<Written> = Vec::new();
        let mut labels = BTreeMap::new();
        let mut ok = true;
        for (key, value) in keys {
            let key_span = locator.span(key.at);
            let span = locator.span(value.at);
            match (key.value.as_str(), value.value) {
                ("name", Node::Scalar(text)) => {
                    name_given = true;
                    name = Some((text, span));
                }
                ("address" | "addresses", Node::Scalar(text)) => {
                    addresses.push(Written { text, span });
                }
                ("addresses", Node::List(items)) => {
                    for item in items {
                        let span = locator.span(item.at);
                        match item.value {
                            Node::Scalar(text) => addresses.push(Written { text, span }),
                            other => {
                                report(
                                    span,
                                    format!(
                                        "an address in `addresses` must be a single value, not {}",
                                        other.what()
                                    ),
                                    "not an address",
                                    None,
                                );
                                ok = false;
                            }
                        }
                    }
                }
                ("address", Node::List(_)) => {
                    report(
                        locator.rest_of_line(value.at),
                        "`address` takes one address, not a list".into(),
                        "a list",
                        Some("write several addresses as `addresses: [A, B]`".into()),
                    );
                    ok = false;
                }
                ("vendor", Node::Scalar(text)) => {
                    if let Some(help) = vendor_problem(&text) {
                        report(
                            span,
                            format!("unknown vendor `{text}`"),
                            "not a known vendor",
                            Some(help),
                        );
                        ok = false;
                    }
                    labels.insert(key.value, BTreeSet::from([text]));
                }
                (_, Node::Scalar(text)) => {
                    labels.insert(key.value, BTreeSet::from([text]));
                }
                (key_name, Node::List(_)) => {
                    name_given |= key_name == "name";
                    report(
                        locator.rest_of_line(value.at),
                        format!("`{key_name}` must be a single value, not a list"),
                        "a list",
                        Some(if key_name == "name" {
                            "an entry has exactly one name".into()
                        } else {
                            "a label has one value; selectors compare it as a string".into()
                        }),
                    );
                    ok = false;
                }
                (key_name, other) => {
                    name_given |= key_name == "name";
                    let what = other.what();
                    let (message, label) = if what == "an empty value" {
                        (format!("`{key_name}` has no value"), "empty".to_string())
                    } else {
                        (
                            format!("`{key_name}` must be a single value, not {what}"),
                            format!("{what} given"),
                        )
                    };
                    report(key_span, message, &label, None);
                    ok = false;
                }
            }
        }
        let Some((name, name_span)) = name else {
            if !name_given {
                report(
                    entry_span,
                    "inventory entry has no `name`".into(),
                    "entry without a name",
                    Some("every entry needs a unique `name`".into()),
                );
            }
            continue;
        };
        if addresses.is_empty() && ok {
            report(
                name_span,
                format!("inventory entry `{name}` has no `address` or `addresses`"),
                "no address",
                None,
            );
            continue;
        }
        let mut written = Vec::new();
        for Written { text, span } in addresses {
            match text.parse::<IpAddr>() {
                Ok(address) => written.push((address, span)),
                Err(_) => {
                    report(
                        span,
                        format!("`{text}` is not an IP address"),
                        "bad address",
                        Some(
                            "an inventory address is one IPv4 or IPv6 address, without a prefix length"
                                .into(),
                        ),
                    );
                    ok = false;
                }
            }
        }
        if ok {
            entries.push(entry(name, name_span, written, labels));
        }
    }
    entries
}
