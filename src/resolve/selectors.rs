//! Selectors: `inventory(label = "value", ...)` to the addresses of the
//! entries it selects, read from an index of entries by label and value that
//! is built on the first selector, so a policy with a selector per rack does
//! not test every entry once per rack. An empty selection warns (BW008).

use super::inventory::VENDORS;
use super::InventoryEntry;
use crate::addr::AddrSet;
use crate::diagnostic::{closest, Code, Diagnostic};
use crate::source::Span;
use crate::syntax::Condition;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

/// Selects entries of one inventory, indexing each label on the first
/// selector that names it.
#[derive(Default)]
pub(super) struct Selection {
    /// Shared with a cache that keeps it for the same inventories.
    index: Arc<Mutex<LabelIndex>>,
}

impl Selection {
    /// A selection over the index `index`, as far as it is built.
    pub(super) fn sharing(index: Arc<Mutex<LabelIndex>>) -> Selection {
        Selection { index }
    }

    /// The index, to share.
    pub(super) fn index(&self) -> Arc<Mutex<LabelIndex>> {
        Arc::clone(&self.index)
    }

    /// The addresses of the entries of `inventory` that every condition holds
    /// for; an empty selection pushes a BW008 at `span`.
    pub(super) fn select(
        &mut self,
        inventory: &[InventoryEntry],
        conditions: &[Condition],
        span: Span,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> AddrSet {
        let mut index = self.index.lock().unwrap_or_else(PoisonError::into_inner);
        let index = &mut *index;
        index.add(inventory, conditions);
        let set = union_all(matching(index, inventory, conditions).map(|i| &inventory[i]));
        if set.is_empty() {
            let mut diagnostic = Diagnostic::new(
                Code::EmptySelector,
                "selector matches no inventory entry",
                span,
                "matches nothing",
            );
            diagnostic.help = Some(if inventory.is_empty() {
                "no inventory is loaded; add `inventory \"file.yaml\";`".into()
            } else {
                conditions
                    .iter()
                    .filter(|c| !c.negated)
                    .find_map(|c| typo(index, inventory, c))
                    .unwrap_or_else(|| {
                        "check the labels and values against the inventory files".into()
                    })
            });
            diagnostics.push(diagnostic);
        }
        set
    }
}

/// The entries of `inventory` a selector with `conditions` selects, in
/// inventory order: what hover shows for `inventory(...)`.
pub fn selected<'e>(
    inventory: &'e [InventoryEntry],
    conditions: &[Condition],
) -> Vec<&'e InventoryEntry> {
    let mut index = LabelIndex::default();
    index.add(inventory, conditions);
    let mut found: Vec<usize> = matching(&index, inventory, conditions).collect();
    found.sort_unstable();
    found.into_iter().map(|i| &inventory[i]).collect()
}

/// The positions of the entries that every condition holds for: the
/// entries every `label = value` condition names, if there is one (the
/// rarest list first, narrowed by the others), less those a `!=` condition
/// excludes.
fn matching<'a>(
    index: &'a LabelIndex,
    inventory: &'a [InventoryEntry],
    conditions: &'a [Condition],
) -> Box<dyn Iterator<Item = usize> + 'a> {
    let mut lists: Vec<&[usize]> = conditions
        .iter()
        .filter(|c| !c.negated)
        .map(|c| {
            index
                .by_label
                .get(c.label.name.as_str())
                .and_then(|values| values.get(c.value.value.as_str()))
                .map_or(&[][..], Vec::as_slice)
        })
        .collect();
    lists.sort_by_key(|list| list.len());
    let excluded = move |i: &usize| {
        conditions
            .iter()
            .any(|c| c.negated && inventory[*i].has_label(&c.label.name, &c.value.value))
    };
    match lists.split_first() {
        Some((rarest, others)) => {
            let others: Vec<&[usize]> = others.to_vec();
            Box::new(
                rarest
                    .iter()
                    .copied()
                    .filter(move |i| others.iter().all(|list| list.binary_search(i).is_ok()))
                    .filter(move |i| !excluded(i)),
            )
        }
        None => Box::new((0..inventory.len()).filter(move |i| !excluded(i))),
    }
}

/// Why a `label = "value"` condition matches no entry, with the closest
/// label name or value the inventories have (vendors are a closed set);
/// `None` when some entry has that label and value.
fn typo(index: &LabelIndex, inventory: &[InventoryEntry], condition: &Condition) -> Option<String> {
    let (label, value) = (
        condition.label.name.as_str(),
        condition.value.value.as_str(),
    );
    let Some(values) = index
        .by_label
        .get(label)
        .filter(|values| !values.is_empty())
    else {
        let labels: BTreeSet<&str> = std::iter::once("name")
            .chain(inventory.iter().flat_map(|entry| entry.labels.keys()))
            .collect();
        return Some(match closest(label, labels) {
            Some(known) => format!("no entry has the label `{label}`; did you mean `{known}`?"),
            None => format!("no entry has the label `{label}`"),
        });
    };
    if values.contains_key(value) {
        return None;
    }
    if label == "vendor" && !VENDORS.contains(&value) {
        return Some(match closest(value, VENDORS.iter().copied()) {
            Some(known) => format!("`{value}` is not a vendor; did you mean `{known}`?"),
            None => format!(
                "`{value}` is not a vendor; vendors are {}",
                VENDORS.join(", ")
            ),
        });
    }
    let mut known: Vec<&str> = values.keys().map(String::as_str).collect();
    known.sort_unstable();
    Some(match closest(value, known) {
        Some(known) => {
            format!("no entry has `{label}` = \"{value}\"; did you mean \"{known}\"?")
        }
        None => format!("no entry has `{label}` = \"{value}\""),
    })
}

/// Inventory entry positions by label, then value, for the labels
/// selectors have named (most inventories have labels no selector names,
/// and a value per entry of `name`).
#[derive(Default)]
pub(super) struct LabelIndex {
    by_label: HashMap<String, HashMap<String, Vec<usize>>>,
}

impl LabelIndex {
    /// Indexes the labels `conditions` name that are not indexed yet (a
    /// label no entry has gets no values).
    fn add(&mut self, inventory: &[InventoryEntry], conditions: &[Condition]) {
        for condition in conditions.iter().filter(|c| !c.negated) {
            let label = condition.label.name.as_str();
            if self.by_label.contains_key(label) {
                continue;
            }
            let mut by_value: HashMap<String, Vec<usize>> = HashMap::new();
            let mut add = |value: &str, i: usize| match by_value.get_mut(value) {
                Some(positions) => positions.push(i),
                None => {
                    by_value.insert(value.to_string(), vec![i]);
                }
            };
            for (i, entry) in inventory.iter().enumerate() {
                if label == "name" {
                    add(&entry.name, i);
                } else if let Some(values) = entry.labels.get(label) {
                    for value in values {
                        add(value, i);
                    }
                }
            }
            self.by_label.insert(label.to_string(), by_value);
        }
    }
}

/// The union of many entries' addresses, sorted once (folding `union` over
/// thousands of entries would copy the growing set each time).
pub(super) fn union_all<'e>(entries: impl Iterator<Item = &'e InventoryEntry>) -> AddrSet {
    AddrSet::union_of(entries.map(|entry| &entry.addresses))
}
