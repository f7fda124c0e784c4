//! The resolved policy: every name replaced by the address or service set it
//! stands for. This is the input of analysis and compilation.

use crate::addr::service::ServiceSet;
use crate::addr::AddrSet;
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Action, Date, DefKind, ExpectKind};
use crate::source::{SourceMap, Span};

#[derive(Clone, Debug)]
pub struct Waiver {
    pub code: Code,
    /// The services it names (`waive BW206(vnc) "..."`); empty: all.
    pub services: Vec<String>,
    pub reason: String,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct PolicyRule {
    /// It uses a name that stands for nothing (BW002), counted as empty:
    /// its findings are not reported.
    pub unresolved: bool,
    pub action: Action,
    pub src: AddrSet,
    pub dst: AddrSet,
    pub services: ServiceSet,
    /// The cleartext items (marked * in the built-in catalogue) of the
    /// built-in services the rule names, directly or through definitions,
    /// by built-in service in the order first named.
    pub cleartext: Vec<(String, ServiceSet)>,
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

#[derive(Clone, Debug)]
pub struct PolicyExpectation {
    pub kind: ExpectKind,
    pub src: AddrSet,
    pub dst: AddrSet,
    pub services: ServiceSet,
    pub description: Option<String>,
    pub span: Span,
    /// It uses a name that stands for nothing (BW002), counted as empty.
    pub unresolved: bool,
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

/// An inventory entry's labels: each label has a set of values. Native
/// entries have one value per label; importers may give several (an Ansible
/// host in two groups has two values of `group`). Kept as one list of
/// (label, value) pairs sorted by label then value, no pair twice: one
/// allocation per entry, and labels and values of up to 24 bytes inline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Labels {
    pairs: Vec<(Text, Text)>,
}

/// A label or value.
type Text = compact_str::CompactString;

impl Labels {
    pub fn new() -> Labels {
        Labels::default()
    }

    /// Where `label`'s pairs are.
    fn range(&self, label: &str) -> std::ops::Range<usize> {
        let start = self.pairs.partition_point(|(l, _)| l.as_str() < label);
        let len = self.pairs[start..].partition_point(|(l, _)| l == label);
        start..start + len
    }

    /// Adds `value` to `label`'s values.
    pub fn add(
        &mut self,
        label: impl AsRef<str> + Into<Text>,
        value: impl AsRef<str> + Into<Text>,
    ) {
        let at = self
            .pairs
            .partition_point(|(l, v)| (l.as_str(), v.as_str()) < (label.as_ref(), value.as_ref()));
        let there = self
            .pairs
            .get(at)
            .is_some_and(|(l, v)| l == label.as_ref() && v == value.as_ref());
        if !there {
            self.pairs.insert(at, (label.into(), value.into()));
        }
    }

    /// `label` with `value` as its only value, instead of any it had.
    pub fn set(&mut self, label: &str, value: impl AsRef<str> + Into<Text>) {
        self.set_all(label, [value]);
    }

    /// `label` with `values` as its values, instead of any it had.
    pub fn set_all<V: AsRef<str> + Into<Text>>(
        &mut self,
        label: &str,
        values: impl IntoIterator<Item = V>,
    ) {
        self.remove(label);
        for value in values {
            self.add(label, value);
        }
    }

    /// Removes `label` and its values.
    pub fn remove(&mut self, label: &str) {
        let range = self.range(label);
        self.pairs.drain(range);
    }

    /// The values of `label`, `None` when the entry does not have it.
    pub fn get(&self, label: &str) -> Option<Values<'_>> {
        let range = self.range(label);
        (!range.is_empty()).then(|| Values(&self.pairs[range]))
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Each label and its values, in label order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Values<'_>)> {
        self.pairs
            .chunk_by(|a, b| a.0 == b.0)
            .map(|pairs| (pairs[0].0.as_str(), Values(pairs)))
    }

    /// The labels, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.iter().map(|(label, _)| label)
    }
}

/// The values of one label, in order.
#[derive(Clone, Copy, Debug)]
pub struct Values<'a>(&'a [(Text, Text)]);

impl<'a> Values<'a> {
    pub fn contains(&self, value: &str) -> bool {
        self.0
            .binary_search_by(|(_, v)| v.as_str().cmp(value))
            .is_ok()
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.into_iter()
    }
}

impl<'a> IntoIterator for Values<'a> {
    type Item = &'a str;
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, (Text, Text)>, fn(&'a (Text, Text)) -> &'a str>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(_, v)| v.as_str())
    }
}

/// One BMC from an inventory file.
#[derive(Clone, Debug)]
pub struct InventoryEntry {
    pub name: String,
    pub addresses: AddrSet,
    /// Shared by the entry's copies (a kept inventory's, `resolve::Cache`).
    pub labels: std::sync::Arc<Labels>,
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

/// One inventory as read: for `-v`, the compiled output's header and the
/// manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InventorySummary {
    /// The path as written, relative to where bmcwall runs.
    pub path: std::path::PathBuf,
    /// The format's name (`ansible`), `unknown` when it could not be told.
    pub format: &'static str,
    /// What the file was detected as (`an Ansible INI inventory`), when
    /// `format` was not given.
    pub detected: Option<&'static str>,
    /// How many BMCs it gave.
    pub bmcs: usize,
    /// The host names resolved (`resolve`), by name.
    pub resolved: Vec<Resolution>,
}

/// A host name and the addresses it resolved to, sorted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    pub name: String,
    pub addresses: Vec<std::net::IpAddr>,
}

/// Which traffic a table governs: forwarded flows (the default), the
/// gateway's own (`mode host`), or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Enforcement {
    pub forward: bool,
    pub host: bool,
}

impl Enforcement {
    /// Its words as `mode` writes them: `forward`, `host` or both.
    pub fn words(self) -> Vec<&'static str> {
        let mut words = Vec::new();
        if self.forward {
            words.push("forward");
        }
        if self.host {
            words.push("host");
        }
        words
    }
}

impl Default for Enforcement {
    fn default() -> Self {
        Enforcement {
            forward: true,
            host: false,
        }
    }
}

/// `sync vrrp, conntrackd`: the state-sync traffic a pair's members allow
/// between them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sync {
    pub vrrp: bool,
    pub conntrackd: bool,
}

/// A gateway's `pair NAME`.
#[derive(Clone, Debug)]
pub struct Pairing {
    pub peer: String,
    /// Where the peer is named.
    pub span: Span,
    /// The gateway it names, when that one exists and is no pair member
    /// itself: then this gateway has its peer's table.
    pub index: Option<usize>,
}

/// A `gateway` declaration, resolved.
#[derive(Clone, Debug)]
pub struct Gateway {
    pub name: String,
    pub name_span: Span,
    pub span: Span,
    /// Its own addresses.
    pub addrs: AddrSet,
    /// What it governs in `mode forward`: flows with source or destination
    /// here. Its `scope`, a valid peer's, or `any`.
    pub scope: AddrSet,
    pub enforcement: Enforcement,
    pub sync: Sync,
    pub pair: Option<Pairing>,
    /// Its own `scope`, `mode` and `sync` items, where written.
    pub scope_item: Option<Span>,
    pub mode_item: Option<Span>,
    pub sync_item: Option<Span>,
}

#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub internal: AddrSet,
    /// The flows the table governs have their source or destination here:
    /// the `scope` statement, or with gateways what they govern together.
    pub scope: AddrSet,
    pub bmcs: AddrSet,
    pub rules: Vec<PolicyRule>,
    pub expectations: Vec<PolicyExpectation>,
    pub definitions: Vec<NamedSet>,
    pub inventory: Vec<InventoryEntry>,
    /// Every inventory loaded, in statement order.
    pub inventories: Vec<InventorySummary>,
    /// `internal`, `scope` or `bmcs` uses a name that stands for nothing
    /// (BW002): no check can be trusted.
    pub unresolved_core: bool,
    /// The `gateway` declarations, in statement order; none: one implicit
    /// gateway that governs `scope`.
    pub gateways: Vec<Gateway>,
    /// What the table of this policy governs: for a gateway's policy
    /// ([`Policy::for_gateway`]), its mode.
    pub enforcement: Enforcement,
    /// The management networks of the `watch` statements: the denied flows
    /// of their devices that are no BMC and no `host` are recorded.
    pub watch: AddrSet,
    /// Each `watch` statement's addresses and where it is.
    pub watches: Vec<(AddrSet, Span)>,
}

impl Policy {
    /// Every host name resolved (`resolve`) in any inventory, by name, each
    /// once.
    pub fn resolutions(&self) -> Vec<Resolution> {
        let mut all: Vec<Resolution> = self
            .inventories
            .iter()
            .flat_map(|inventory| inventory.resolved.iter().cloned())
            .collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all.dedup_by(|a, b| a.name == b.name);
        all
    }

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

    /// The waiver of a finding's code on the rule the finding is at.
    pub fn waiver_of(&self, diagnostic: &Diagnostic) -> Option<&Waiver> {
        let primary = diagnostic.primary().span;
        self.rules
            .iter()
            .filter(|r| {
                r.span.file == primary.file
                    && r.span.start <= primary.start
                    && primary.end <= r.span.end
            })
            .flat_map(|r| &r.waivers)
            .find(|w| w.code == diagnostic.code)
    }

    /// The addresses on the watched networks that the policy does not know:
    /// no BMC, no `host` definition, no gateway.
    pub fn unknown_watched(&self) -> AddrSet {
        let mut known = self.bmcs.clone();
        for definition in &self.definitions {
            if let NamedKind::Address(DefKind::Host, set) = &definition.kind {
                known = known.union(set);
            }
        }
        for gateway in &self.gateways {
            known = known.union(&gateway.addrs);
        }
        self.watch.difference(&known)
    }

    /// Indices of the rules that are in force (not expired), in policy order.
    pub fn active_rules(&self) -> impl Iterator<Item = (usize, &PolicyRule)> {
        self.rules.iter().enumerate().filter(|(_, r)| !r.expired)
    }
}

/// The policy's names for address sets (its address definitions and the
/// keywords `bmcs`, `internal`, `internet`, `any`), to name any set by them.
#[derive(Clone, Debug)]
pub struct AddressNames {
    names: Vec<(String, AddrSet)>,
    /// How many addresses each name's set has, per family (IPv4, IPv6).
    sizes: Vec<[u128; 2]>,
}

impl Policy {
    /// The names [`AddressNames::name`] picks from.
    pub fn address_names(&self) -> AddressNames {
        let mut names: Vec<(String, AddrSet)> = self
            .definitions
            .iter()
            .filter_map(|d| match &d.kind {
                NamedKind::Address(_, set) if !set.is_empty() => {
                    Some((d.name.clone(), set.clone()))
                }
                _ => None,
            })
            .collect();
        names.push(("bmcs".into(), self.bmcs.clone()));
        names.push(("internal".into(), self.internal.clone()));
        names.push(("internet".into(), self.internal.complement()));
        names.push(("any".into(), AddrSet::any()));
        let sizes = names
            .iter()
            .map(|(_, set)| {
                [
                    size(&AddrSet {
                        v4: set.v4.clone(),
                        v6: Default::default(),
                    }),
                    size(&AddrSet {
                        v4: Default::default(),
                        v6: set.v6.clone(),
                    }),
                ]
            })
            .collect();
        AddressNames { names, sizes }
    }
}

impl AddressNames {
    /// The name of `set` if a named set is exactly it (in the families `set`
    /// has), else `in NAME` for the smallest named set that holds it, else
    /// `addresses`.
    pub fn name(&self, set: &AddrSet) -> String {
        let (has_v4, has_v6) = (!set.v4.is_empty(), !set.v6.is_empty());
        let same = |s: &AddrSet| (!has_v4 || s.v4 == set.v4) && (!has_v6 || s.v6 == set.v6);
        if let Some((name, _)) = self.names.iter().find(|(_, s)| same(s)) {
            return name.clone();
        }
        self.names
            .iter()
            .zip(&self.sizes)
            .filter(|((_, s), _)| set.difference(s).is_empty())
            .min_by_key(|(_, [v4, v6])| {
                (if has_v4 { *v4 } else { 0 }).saturating_add(if has_v6 { *v6 } else { 0 })
            })
            .map_or_else(|| "addresses".into(), |((name, _), _)| format!("in {name}"))
    }
}

impl AddressNames {
    /// [`Self::name`] of the one address `address`, without a set per
    /// question: what a report of many addresses asks.
    pub fn name_address(&self, address: std::net::IpAddr) -> String {
        let (family, a) = match address {
            std::net::IpAddr::V4(a) => (0, u128::from(u32::from(a))),
            std::net::IpAddr::V6(a) => (1, u128::from(a)),
        };
        let holds = |s: &AddrSet| match family {
            0 => s.v4.contains(a as u32),
            _ => s.v6.contains(a),
        };
        let single = |s: &AddrSet| match family {
            0 => s.v4.intervals() == [(a as u32, a as u32)],
            _ => s.v6.intervals() == [(a, a)],
        };
        if let Some((name, _)) = self.names.iter().find(|(_, s)| single(s)) {
            return name.clone();
        }
        self.names
            .iter()
            .zip(&self.sizes)
            .filter(|((_, s), _)| holds(s))
            .min_by_key(|(_, sizes)| sizes[family])
            .map_or_else(|| "addresses".into(), |((name, _), _)| format!("in {name}"))
    }
}

/// How many addresses, saturating; to pick the smallest set.
fn size(set: &AddrSet) -> u128 {
    let v4: u128 = set
        .v4
        .intervals()
        .iter()
        .map(|&(lo, hi)| u128::from(hi - lo) + 1)
        .sum();
    set.v6.intervals().iter().fold(v4, |acc, &(lo, hi)| {
        acc.saturating_add((hi - lo).saturating_add(1))
    })
}

#[cfg(test)]
mod tests {
    use super::Labels;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// What an entry's labels are: each label's set of values.
    fn as_map(labels: &Labels) -> BTreeMap<String, BTreeSet<String>> {
        labels
            .iter()
            .map(|(label, values)| {
                let values: BTreeSet<String> = values.iter().map(str::to_string).collect();
                (label.to_string(), values)
            })
            .collect()
    }

    #[derive(Clone, Debug)]
    enum Step {
        Add(String, String),
        Set(String, String),
        SetAll(String, Vec<String>),
        Remove(String),
    }

    fn step() -> impl Strategy<Value = Step> {
        let word = "[a-c]{0,2}";
        prop_oneof![
            (word, word).prop_map(|(l, v)| Step::Add(l, v)),
            (word, word).prop_map(|(l, v)| Step::Set(l, v)),
            (word, prop::collection::vec(word, 0..4)).prop_map(|(l, v)| Step::SetAll(l, v)),
            word.prop_map(Step::Remove),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// Labels behave as a map of each label to its set of values, in
        /// order: adding, setting and removing, looking up and listing.
        #[test]
        fn labels_are_a_map_of_sets(steps in prop::collection::vec(step(), 0..24)) {
            let mut labels = Labels::new();
            let mut model: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for step in steps {
                match step {
                    Step::Add(l, v) => {
                        labels.add(l.as_str(), v.as_str());
                        model.entry(l).or_default().insert(v);
                    }
                    Step::Set(l, v) => {
                        labels.set(l.as_str(), v.as_str());
                        model.insert(l, BTreeSet::from([v]));
                    }
                    Step::SetAll(l, values) => {
                        labels.set_all(&l, &values);
                        model.remove(&l);
                        if !values.is_empty() {
                            model.insert(l, values.into_iter().collect());
                        }
                    }
                    Step::Remove(l) => {
                        labels.remove(&l);
                        model.remove(&l);
                    }
                }
                prop_assert_eq!(&as_map(&labels), &model);
                prop_assert_eq!(labels.is_empty(), model.is_empty());
                let keys: Vec<&str> = labels.keys().collect();
                let expected: Vec<&str> = model.keys().map(String::as_str).collect();
                prop_assert_eq!(keys, expected);
                for label in ["", "a", "ab", "c"] {
                    let values = labels.get(label);
                    prop_assert_eq!(values.is_some(), model.contains_key(label));
                    for value in ["", "a", "b", "bc"] {
                        let has = model.get(label).is_some_and(|set| set.contains(value));
                        prop_assert_eq!(values.is_some_and(|v| v.contains(value)), has);
                    }
                }
            }
        }
    }
}
