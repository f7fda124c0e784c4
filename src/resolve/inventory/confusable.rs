//! Names and label values that are not what they look like (BW311): text
//! that mixes scripts, and text that differs from another entry's value of
//! the same label (or another entry's name) yet has the same Unicode TR39
//! skeleton. Checked once across every inventory loaded.

use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::InventoryEntry;
use crate::source::Span;
use std::collections::{BTreeMap, BTreeSet};
use unicode_security::{skeleton, MixedScript};

/// The values written with one skeleton, each with the first entry that
/// has it (its name's span, its name).
type Written<'e> = BTreeMap<&'e str, (Span, &'e str)>;

/// Reports each entry whose name or a label value mixes scripts or is
/// confusable with another entry's (BW311), at the entry's name.
pub fn check(entries: &[InventoryEntry], diagnostics: &mut Vec<Diagnostic>) {
    // Only a value that is not plain ASCII is reported, so only the labels
    // that have one need skeletons (most inventories have none).
    let mut wanted: BTreeSet<&str> = BTreeSet::new();
    for entry in entries {
        for (label, value) in values(entry) {
            if !value.is_ascii() {
                wanted.insert(label);
            }
        }
    }
    if wanted.is_empty() {
        return;
    }
    // Per label (`name` for the names), each value's skeleton: the values
    // written, with the first entry that has each.
    let mut looks: BTreeMap<(&str, String), Written> = BTreeMap::new();
    for entry in entries {
        for (label, value) in values(entry) {
            if !wanted.contains(label) {
                continue;
            }
            if !value.is_ascii() && !value.is_single_script() {
                diagnostics.push(
                    Diagnostic::new(
                        Code::ConfusableText,
                        format!(
                            "{} mixes scripts: {}",
                            what(label, value, &entry.name),
                            non_ascii(value)
                        ),
                        entry.span,
                        "mixed scripts",
                    )
                    .with_help("write it in one script, as the other entries do: selectors compare values exactly"),
                );
            }
            looks
                .entry((label, skeleton(value).collect()))
                .or_default()
                .entry(value)
                .or_insert((entry.span, entry.name.as_str()));
        }
    }
    for ((label, _), values) in &looks {
        if values.len() < 2 {
            continue;
        }
        // Each value that is not plain ASCII looks like the others (ASCII
        // look-alikes such as `l` and `1` are left alone).
        for (value, &(span, name)) in values.iter().filter(|(value, _)| !value.is_ascii()) {
            let others: Vec<String> = values
                .keys()
                .filter(|other| *other != value)
                .map(|other| format!("`{other}`"))
                .collect();
            diagnostics.push(
                Diagnostic::new(
                    Code::ConfusableText,
                    format!(
                        "{} looks like {} but is not: {}",
                        what(label, value, name),
                        others.join(", "),
                        non_ascii(value)
                    ),
                    span,
                    "a look-alike",
                )
                .with_help(format!(
                    "`inventory({label} = \"...\")` compares values exactly, so it tells these apart; write the value as the other entries do"
                )),
            );
        }
    }
}

/// An entry's name (as the label `name`) and label values.
fn values(entry: &InventoryEntry) -> impl Iterator<Item = (&str, &str)> {
    std::iter::once(("name", entry.name.as_str())).chain(
        entry
            .labels
            .iter()
            .flat_map(|(label, values)| values.iter().map(move |v| (label, v))),
    )
}

/// What a value is, for messages: `the name `x`` or `the `rack` value
/// `a` of `x``.
fn what(label: &str, value: &str, name: &str) -> String {
    match label {
        "name" => format!("the name `{value}`"),
        _ => format!("the `{label}` value `{value}` of `{name}`"),
    }
}

/// The characters of `text` that are not ASCII, by code point.
fn non_ascii(text: &str) -> String {
    let chars: Vec<String> = text
        .chars()
        .filter(|c| !c.is_ascii())
        .map(|c| format!("`{c}` is U+{:04X}", u32::from(c)))
        .collect();
    chars.join(", ")
}
