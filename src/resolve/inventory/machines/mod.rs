//! Files of provisioning tools that list machines with their BMCs: metal3
//! `BareMetalHost` manifests (`metal3.rs`), an OpenShift install-config
//! (`openshift.rs`), Ironic and Bifrost node files (`ironic.rs`), a TripleO
//! `instackenv.json` (`tripleo.rs`) and a Warewulf `nodes.conf`
//! (`warewulf.rs`).
//!
//! Each is a YAML or JSON document. A reader here only finds its machines in
//! the document, with their names and the groupings the tool gives them
//! (labels, roles, profiles, groups); a machine's fields are its whole
//! mapping, where the address is looked up, as everywhere, by
//! [`super::Checker`].

pub(super) mod ironic;
pub(super) mod metal3;
pub(super) mod openshift;
pub(super) mod tripleo;
pub(super) mod warewulf;

use super::tree::{Node, Spanned};
use super::{parse, secrets, Field, Files, Language, Locator, Record, Reporter};
use crate::diagnostic::Diagnostic;
use crate::resolve::policy::Labels;
use crate::source::Span;

/// The one document of the file: JSON when it starts with `{` or `[`, YAML
/// otherwise.
fn document(files: &Files, help: &str, diagnostics: &mut Vec<Diagnostic>) -> Option<Spanned<Node>> {
    let locator = files.locator(0);
    parse(
        &locator,
        Language::of(locator.text()),
        Some(help),
        diagnostics,
    )
}

/// The node at a path of keys below `node`, if every step is a mapping with
/// the key.
fn at<'n>(node: &'n Spanned<Node>, path: &[&str]) -> Option<&'n Spanned<Node>> {
    path.iter().try_fold(node, |node, key| node.value.get(key))
}

/// The text of a scalar at `path`, when it is one and not blank.
fn text_at<'n>(node: &'n Spanned<Node>, path: &[&str]) -> Option<(&'n str, &'n Spanned<Node>)> {
    match at(node, path) {
        Some(
            found @ Spanned {
                value: Node::Scalar(text),
                ..
            },
        ) if !text.trim().is_empty() => Some((text.as_str(), found)),
        _ => None,
    }
}

/// A machine's name at `path`, where it is written.
fn name_at(locator: &Locator, node: &Spanned<Node>, path: &[&str]) -> Option<(String, Span)> {
    text_at(node, path).map(|(text, found)| (text.to_string(), locator.span(found.at)))
}

/// Whether a scalar can be a label's value: not a template or Vault value.
fn label_value(text: &str) -> bool {
    !text.trim().is_empty()
        && !text.contains("{{")
        && !text.contains("{%")
        && !text.starts_with("$ANSIBLE_VAULT")
}

/// Adds the label `label` with the value at `path`: a single value, or
/// each single value of a list. Anything else gives no label.
fn label(labels: &mut Labels, label: &str, node: &Spanned<Node>, path: &[&str]) {
    if secrets::is_secret(label) {
        return;
    }
    let items = match at(node, path) {
        Some(Spanned {
            value: Node::List(items),
            ..
        }) => items.as_slice(),
        Some(scalar) => std::slice::from_ref(scalar),
        None => &[],
    };
    for item in items {
        if let Node::Scalar(text) = &item.value {
            if label_value(text) {
                labels.add(label, text.as_str());
            }
        }
    }
}

/// Adds every key of the mapping at `path` with a single value as a label
/// of that name (Kubernetes labels, Warewulf tags).
fn labels_of_map(labels: &mut Labels, node: &Spanned<Node>, path: &[&str]) {
    if let Some(Node::Map(entries)) = at(node, path).map(|n| &n.value) {
        for (key, value) in entries {
            if let Node::Scalar(text) = &value.value {
                if label_value(text) && !secrets::is_secret(&key.value) {
                    labels.add(key.value.as_str(), text.as_str());
                }
            }
        }
    }
}

/// The record of a machine described by `node`: its fields are the
/// mapping's keys. Said to be where its name is written, or else at the
/// mapping's first byte.
fn record(
    locator: &Locator,
    node: &Spanned<Node>,
    name: Option<(String, Span)>,
    labels: Labels,
) -> Record {
    let fields = match &node.value {
        Node::Map(entries) => entries
            .iter()
            .map(|(key, value)| (key.value.clone(), Field::of(locator, value)))
            .collect(),
        _ => Vec::new(),
    };
    let span = name
        .as_ref()
        .map_or_else(|| locator.at(node.at, 1), |(_, span)| *span);
    Record {
        name,
        span,
        fields,
        labels,
        vendor: None,
    }
}

/// Reports a document of the wrong shape: `message` at `node`.
fn shape(
    report: &mut Reporter,
    locator: &Locator,
    node: &Spanned<Node>,
    message: String,
    label: &str,
    help: &str,
) {
    let span = match node.value {
        Node::Map(_) | Node::List(_) if node.at.len == 0 => locator.rest_of_line(node.at),
        _ => locator.span(node.at),
    };
    report.error(span, message, label, Some(help.into()));
}

/// The machines of a list at `node`, each a mapping; an item that is not one
/// is reported.
fn mappings<'n>(
    report: &mut Reporter,
    locator: &Locator,
    node: &'n Spanned<Node>,
    what: &str,
    help: &str,
) -> Vec<&'n Spanned<Node>> {
    match &node.value {
        Node::List(items) => items
            .iter()
            .filter(|item| {
                let ok = matches!(item.value, Node::Map(_));
                if !ok {
                    shape(
                        report,
                        locator,
                        item,
                        format!("{what} must be a mapping, not {}", item.value.what()),
                        "not a mapping",
                        help,
                    );
                }
                ok
            })
            .collect(),
        _ => Vec::new(),
    }
}
