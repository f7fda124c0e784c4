//! The reachability graph: who can open a flow to whom.
//!
//! Nodes are endpoint classes: addresses that every rule, expectation, the
//! scope, `bmcs` and `internal` treat alike, per family. Each node is a BMC, an
//! internet endpoint or an internal host. An edge A -> B says some address in A
//! may open a flow to some address in B; it carries the services and the rules
//! that allow it. Exposure checks are searches in this graph; the two nodes
//! of a dual-stack `host` count as one machine there.
//! Boundary: petgraph stays inside this module.

use super::flow::{representative, Address};
use super::{Analysis, Family, FamilyTable, Flow};
use crate::addr::service::{self, ServicePoint, ServiceSet};
use crate::addr::{AddrSet, IntervalSet};
use crate::model::{Action, DefKind};
use crate::resolve::Policy;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use std::collections::{BTreeMap, HashMap, VecDeque};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeKind {
    Bmc,
    Internet,
    Internal,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub family: Family,
    pub kind: NodeKind,
    /// The addresses of the class (IPv4 in the low 32 bits).
    pub addresses: IntervalSet<u128>,
    /// How many addresses the class has, saturated.
    pub size: u128,
    /// A readable member.
    pub example: u128,
    /// Names of the definitions whose sets contain the class.
    pub names: Vec<String>,
    /// Names of the `host` definitions whose sets contain the class: a host
    /// with an IPv4 and an IPv6 address is one machine with a node per family.
    pub hosts: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Edge {
    pub services: ServiceSet,
    /// Policy indices of the allow rules that decide some flow on this edge,
    /// ascending, each with one witness flow.
    pub rules: Vec<(usize, Flow)>,
}

/// The reachability graph. Its nodes and edges are read through the methods
/// below, in a fixed order, so nothing outside this module sees petgraph.
pub struct ReachGraph {
    graph: DiGraph<Node, Edge>,
}

/// A node of the graph: nodes are numbered from 0 in the order they were
/// added, IPv4 classes before IPv6 ones, each family by lowest member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(NodeIndex);

impl NodeId {
    /// The node's number.
    pub fn index(self) -> usize {
        self.0.index()
    }
}

/// One hop of an exposure path: a flow and the rule that allows it.
#[derive(Clone, Debug)]
pub struct Hop {
    pub flow: Flow,
    pub rule: usize,
}

impl ReachGraph {
    pub fn new(policy: &Policy, analysis: &Analysis) -> Self {
        let mut graph = DiGraph::new();
        add_family(&mut graph, policy, analysis, &analysis.v4, |s| &s.v4);
        add_family(&mut graph, policy, analysis, &analysis.v6, |s| &s.v6);
        ReachGraph { graph }
    }

    /// Every node with its id, in id order.
    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, &Node)> {
        self.graph
            .node_indices()
            .map(move |i| (NodeId(i), &self.graph[i]))
    }

    /// The node with id `id`.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.graph[id.0]
    }

    /// Every edge as (source, target, edge), in the order the edges were
    /// added: by source node, then by target node.
    pub fn edges(&self) -> impl Iterator<Item = (NodeId, NodeId, &Edge)> {
        self.graph
            .edge_references()
            .map(|e| (NodeId(e.source()), NodeId(e.target()), e.weight()))
    }

    /// The edges out of `from` as (target, edge), the last added first.
    pub fn edges_from(&self, from: NodeId) -> impl Iterator<Item = (NodeId, &Edge)> {
        self.graph
            .edges(from.0)
            .map(|e| (NodeId(e.target()), e.weight()))
    }

    /// Edges whose source kind and target kind match, with every rule on them.
    pub fn edges_between(&self, from: NodeKind, to: NodeKind) -> Vec<(NodeId, NodeId, &Edge)> {
        self.edges()
            .filter(|&(a, b, _)| self.node(a).kind == from && self.node(b).kind == to)
            .collect()
    }

    /// Shortest paths from the internet through non-BMC, non-internet hosts
    /// (pivots): for each pivot, the hops from an internet node to it. The
    /// other address of a dual-stack `host` is reached with its first.
    pub fn pivots(&self) -> BTreeMap<NodeId, Vec<Hop>> {
        let starts = self
            .nodes()
            .filter(|(_, node)| node.kind == NodeKind::Internet)
            .map(|(index, _)| (index, Vec::new()))
            .collect();
        let mut paths = self.spread(starts);
        paths.retain(|&index, _| self.node(index).kind == NodeKind::Internal);
        paths
    }

    /// The pivots reached from the internet through the flows one rule lets
    /// in: for each, the hops to it, the first allowed by `rule`.
    pub fn pivots_through(&self, rule: usize) -> BTreeMap<NodeId, Vec<Hop>> {
        let mut starts = Vec::new();
        for (_, to, edge) in self.edges_between(NodeKind::Internet, NodeKind::Internal) {
            if let Some(&(_, flow)) = edge.rules.iter().find(|(r, _)| *r == rule) {
                starts.push((to, vec![Hop { flow, rule }]));
            }
        }
        self.spread(starts)
    }

    /// Shortest paths from the `starts` (each with the hops that reach it)
    /// through internal hosts: every node reached, with its hops. Whoever
    /// reaches one address of a dual-stack `host` reaches the other.
    fn spread(&self, starts: Vec<(NodeId, Vec<Hop>)>) -> BTreeMap<NodeId, Vec<Hop>> {
        let mut paths: BTreeMap<NodeId, Vec<Hop>> = BTreeMap::new();
        let mut queue = VecDeque::new();
        let reach = |index: NodeId,
                     hops: Vec<Hop>,
                     paths: &mut BTreeMap<NodeId, Vec<Hop>>,
                     queue: &mut VecDeque<(NodeId, Vec<Hop>)>| {
            for reached in std::iter::once(index).chain(self.same_host(index)) {
                if let std::collections::btree_map::Entry::Vacant(entry) = paths.entry(reached) {
                    entry.insert(hops.clone());
                    queue.push_back((reached, hops.clone()));
                }
            }
        };
        for (index, hops) in starts {
            reach(index, hops, &mut paths, &mut queue);
        }
        while let Some((index, path)) = queue.pop_front() {
            for (target, edge) in self.edges_from(index) {
                if self.node(target).kind != NodeKind::Internal || paths.contains_key(&target) {
                    continue;
                }
                let Some(&(rule, flow)) = edge.rules.first() else {
                    continue;
                };
                let mut next = path.clone();
                next.push(Hop { flow, rule });
                reach(target, next, &mut paths, &mut queue);
            }
        }
        paths
    }

    /// The internal nodes of the other family that belong to the same `host`
    /// as `index`: whoever reaches one address of a machine has the machine.
    fn same_host(&self, index: NodeId) -> Vec<NodeId> {
        let node = self.node(index);
        if node.kind != NodeKind::Internal || node.hosts.is_empty() {
            return Vec::new();
        }
        self.nodes()
            .filter(|(i, other)| {
                *i != index
                    && other.kind == NodeKind::Internal
                    && other.family != node.family
                    && other.hosts.iter().any(|h| node.hosts.contains(h))
            })
            .map(|(i, _)| i)
            .collect()
    }
}

/// Adds one family's nodes, then its edges, to `graph`; `part` picks the
/// family's half of an address set.
fn add_family<T: Address>(
    graph: &mut DiGraph<Node, Edge>,
    policy: &Policy,
    analysis: &Analysis,
    table: &FamilyTable<T>,
    part: impl Fn(&AddrSet) -> &IntervalSet<T>,
) {
    let joint = Joint::new(table, part(&policy.internal), part(&policy.bmcs));
    let (names, hosts) = class_names(policy, &joint, &part);
    let indices = add_nodes(graph, &joint, names, hosts);
    let allowed = allowed_rows(policy, analysis, table);
    add_edges(graph, table, &joint, &indices, &allowed);
}

/// The names of the definitions containing each class, and of the `host`
/// definitions among them, in definition order.
fn class_names<T: Address>(
    policy: &Policy,
    joint: &Joint<T>,
    part: &impl Fn(&AddrSet) -> &IntervalSet<T>,
) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let definition_sets: Vec<(&str, bool, &IntervalSet<T>)> = policy
        .definitions
        .iter()
        .filter_map(|d| match &d.kind {
            crate::resolve::NamedKind::Address(kind, set) => {
                Some((d.name.as_str(), *kind == DefKind::Host, part(set)))
            }
            crate::resolve::NamedKind::Service(_) => None,
        })
        .collect();
    let mut names = vec![Vec::new(); joint.classes.len()];
    let mut hosts = vec![Vec::new(); joint.classes.len()];
    for (name, host, set) in &definition_sets {
        for class in joint.classes_within(set) {
            names[class].push(name.to_string());
            if *host {
                hosts[class].push(name.to_string());
            }
        }
    }
    (names, hosts)
}

/// Adds a node per joint class, in class order, and returns their indices.
fn add_nodes<T: Address>(
    graph: &mut DiGraph<Node, Edge>,
    joint: &Joint<T>,
    names: Vec<Vec<String>>,
    hosts: Vec<Vec<String>>,
) -> Vec<NodeIndex> {
    let mut indices = Vec::new();
    for ((class, names), hosts) in joint.classes.iter().zip(names).zip(hosts) {
        let first = class.set.first().unwrap_or(T::MIN);
        let kind = if class.bmc {
            NodeKind::Bmc
        } else if class.internal {
            NodeKind::Internal
        } else {
            NodeKind::Internet
        };
        let addresses = IntervalSet::from_intervals(
            class
                .set
                .intervals()
                .iter()
                .map(|&(lo, hi)| (lo.widen(), hi.widen()))
                .collect(),
        );
        let size = addresses.intervals().iter().fold(0u128, |acc, &(lo, hi)| {
            acc.saturating_add(hi - lo).saturating_add(1)
        });
        indices.push(graph.add_node(Node {
            family: T::FAMILY,
            kind,
            addresses,
            size,
            example: representative(&class.set).unwrap_or(first).widen(),
            names,
            hosts,
        }));
    }
    indices
}

/// What each distinct row allows: the services of its allowed cells, and
/// each allow rule with a readable service of the first cell it decides.
fn allowed_rows<T: Address>(
    policy: &Policy,
    analysis: &Analysis,
    table: &FamilyTable<T>,
) -> Vec<Option<Allowed>> {
    let service_examples: Vec<Option<ServicePoint>> = analysis
        .services
        .classes
        .iter()
        .map(service::representative)
        .collect();
    table
        .rows()
        .map(|row| {
            let mut services = Vec::new();
            let mut rules: Vec<(usize, ServicePoint)> = Vec::new();
            for (v, ordinal) in row.decided() {
                let rule = analysis.rules[ordinal];
                if policy.rules[rule].action != Action::Allow {
                    continue;
                }
                services.extend_from_slice(analysis.services.classes[v].intervals());
                if let (false, Some(service)) =
                    (rules.iter().any(|&(r, _)| r == rule), service_examples[v])
                {
                    rules.push((rule, service));
                }
            }
            rules.sort_unstable_by_key(|&(rule, _)| rule);
            (!rules.is_empty()).then(|| Allowed {
                services: IntervalSet::from_intervals(services),
                rules,
            })
        })
        .collect()
}

/// Adds an edge from each node to each node its row allows something to,
/// by source, then target, each with a witness flow per allow rule.
fn add_edges<T: Address>(
    graph: &mut DiGraph<Node, Edge>,
    table: &FamilyTable<T>,
    joint: &Joint<T>,
    indices: &[NodeIndex],
    allowed: &[Option<Allowed>],
) {
    // The joint classes inside each destination class, ascending.
    let mut by_dst: Vec<Vec<usize>> = vec![Vec::new(); table.dst.len()];
    for (b, class) in joint.classes.iter().enumerate() {
        by_dst[class.dst].push(b);
    }
    let mut targets: Vec<(usize, usize)> = Vec::new();
    for (a, class) in joint.classes.iter().enumerate() {
        targets.clear();
        for (d, id, _) in table.pairs(class.src) {
            if allowed[id].is_some() {
                targets.extend(by_dst[d].iter().map(|&b| (b, id)));
            }
        }
        targets.sort_unstable();
        for &(b, id) in &targets {
            // A flow from a one-address class to itself is no flow between two endpoints.
            if a == b && graph[indices[a]].size < 2 {
                continue;
            }
            let Some(allowed) = &allowed[id] else {
                continue;
            };
            let (src_node, dst_node) = (&graph[indices[a]], &graph[indices[b]]);
            let mut dst = dst_node.example;
            if src_node.example == dst {
                // Two different addresses of one class: use its second member.
                dst = second_member(&dst_node.addresses).unwrap_or(dst);
            }
            let rules = allowed
                .rules
                .iter()
                .map(|&(rule, service)| {
                    let flow = Flow {
                        family: T::FAMILY,
                        src: src_node.example,
                        dst,
                        service,
                    };
                    (rule, flow)
                })
                .collect();
            graph.add_edge(
                indices[a],
                indices[b],
                Edge {
                    services: allowed.services.clone(),
                    rules,
                },
            );
        }
    }
}

/// What the allowed cells of one row of the table hold.
struct Allowed {
    services: ServiceSet,
    /// Policy indices of the allow rules, ascending, each with a readable service.
    rules: Vec<(usize, ServicePoint)>,
}

/// One endpoint class: addresses in one source class and one destination
/// class of the table, all in `bmcs` or none, all `internal` or none.
struct JointClass<T: Address> {
    set: IntervalSet<T>,
    src: usize,
    dst: usize,
    bmc: bool,
    internal: bool,
}

/// The endpoint classes of one family, numbered by their lowest member, with
/// the atoms (the coarsest intervals none of them cuts) they are made of.
struct Joint<T: Address> {
    classes: Vec<JointClass<T>>,
    /// First value of each atom, ascending.
    atom_starts: Vec<T>,
    atom_class: Vec<usize>,
    /// How many atoms each class has.
    atom_counts: Vec<usize>,
}

impl<T: Address> Joint<T> {
    fn new(table: &FamilyTable<T>, internal: &IntervalSet<T>, bmcs: &IntervalSet<T>) -> Self {
        let mut starts = vec![T::MIN];
        let sets = table
            .src
            .classes
            .iter()
            .chain(&table.dst.classes)
            .chain([internal, bmcs]);
        for set in sets {
            for &(lo, hi) in set.intervals() {
                starts.push(lo);
                if hi < T::MAX {
                    starts.push(hi.succ());
                }
            }
        }
        starts.sort_unstable();
        starts.dedup();
        let mut class_of_key: HashMap<(usize, usize, bool, bool), usize> = HashMap::new();
        let mut intervals: Vec<Vec<(T, T)>> = Vec::new();
        let mut keys = Vec::new();
        let mut atom_class = Vec::with_capacity(starts.len());
        for (atom, &lo) in starts.iter().enumerate() {
            let key = (
                table.src.class_of(lo),
                table.dst.class_of(lo),
                bmcs.contains(lo),
                internal.contains(lo),
            );
            let class = *class_of_key.entry(key).or_insert_with(|| {
                intervals.push(Vec::new());
                keys.push(key);
                intervals.len() - 1
            });
            let hi = starts.get(atom + 1).map_or(T::MAX, |next| next.pred());
            intervals[class].push((lo, hi));
            atom_class.push(class);
        }
        let atom_counts = intervals.iter().map(Vec::len).collect();
        let classes = intervals
            .into_iter()
            .zip(keys)
            .map(|(intervals, (src, dst, bmc, internal))| JointClass {
                set: IntervalSet::from_intervals(intervals),
                src,
                dst,
                bmc,
                internal,
            })
            .collect();
        Self {
            classes,
            atom_starts: starts,
            atom_class,
            atom_counts,
        }
    }

    /// The classes contained in `set`, ascending.
    fn classes_within(&self, set: &IntervalSet<T>) -> Vec<usize> {
        let mut inside: HashMap<usize, usize> = HashMap::new();
        for &(lo, hi) in set.intervals() {
            // Atoms that start at or after `lo` and end at or before `hi`.
            let first = self.atom_starts.partition_point(|&s| s < lo);
            for atom in first..self.atom_starts.len() {
                let end = self
                    .atom_starts
                    .get(atom + 1)
                    .map_or(T::MAX, |next| next.pred());
                if end > hi {
                    break;
                }
                *inside.entry(self.atom_class[atom]).or_default() += 1;
            }
        }
        let mut out: Vec<usize> = inside
            .into_iter()
            .filter(|&(class, count)| count == self.atom_counts[class])
            .map(|(class, _)| class)
            .collect();
        out.sort_unstable();
        out
    }
}

/// The hop along `edge` on one of `services`, with the rule that allows
/// it; `None` when the edge allows none of them.
fn last_hop(analysis: &Analysis, edge: &Edge, services: &ServiceSet) -> Option<Hop> {
    let &(first_rule, first) = edge.rules.first()?;
    if services.contains(first.service.key()) {
        return Some(Hop {
            flow: first,
            rule: first_rule,
        });
    }
    let service = service::representative(&edge.services.intersection(services))?;
    let flow = Flow { service, ..first };
    let rule = analysis.decide(&flow)?;
    Some(Hop { flow, rule })
}

fn second_member(set: &IntervalSet<u128>) -> Option<u128> {
    let &(lo, hi) = set.intervals().first()?;
    if hi > lo {
        Some(lo + 1)
    } else {
        set.intervals().get(1).map(|&(lo, _)| lo)
    }
}

impl ReachGraph {
    /// The node holding address `value` of `family`.
    pub fn node_of(&self, family: Family, value: u128) -> Option<NodeId> {
        self.nodes()
            .find(|(_, n)| n.family == family && n.addresses.contains(value))
            .map(|(i, _)| i)
    }

    /// The shortest path from an internet node to `target`, through internal
    /// (non-BMC) hosts only; `None` when the internet cannot reach it.
    pub fn exposure_path(&self, analysis: &Analysis, target: NodeId) -> Option<Vec<Hop>> {
        self.path_between(
            analysis,
            |_, node| node.kind == NodeKind::Internet,
            |index, _| index == target,
            &crate::addr::service::any(),
        )
    }

    /// The shortest path from a node `from` accepts to a node `to` accepts,
    /// through internal (non-BMC) hosts the start reaches, whose last hop is
    /// on one of `services`; `None` when there is none. Every hop but the
    /// last may be on any service. The other address of a dual-stack `host`
    /// is reached with its first.
    pub fn path_between(
        &self,
        analysis: &Analysis,
        from: impl Fn(NodeId, &Node) -> bool,
        to: impl Fn(NodeId, &Node) -> bool,
        services: &ServiceSet,
    ) -> Option<Vec<Hop>> {
        // Each reached node with the node it was reached from and the hop,
        // none for the other address of a dual-stack host.
        let mut parent: BTreeMap<NodeId, (NodeId, Option<Hop>)> = BTreeMap::new();
        let mut starts: Vec<NodeId> = self
            .nodes()
            .filter(|&(i, n)| from(i, n))
            .map(|(i, _)| i)
            .collect();
        for index in starts.clone() {
            for twin in self.same_host(index) {
                if !starts.contains(&twin) {
                    starts.push(twin);
                }
            }
        }
        let mut queue: VecDeque<NodeId> = starts.iter().copied().collect();
        let path_to = |parent: &BTreeMap<NodeId, (NodeId, Option<Hop>)>, mut at: NodeId| {
            let mut hops = Vec::new();
            while let Some((from, hop)) = parent.get(&at) {
                hops.extend(hop.clone());
                at = *from;
            }
            hops.reverse();
            hops
        };
        while let Some(index) = queue.pop_front() {
            for (next, edge) in self.edges_from(index) {
                if to(next, self.node(next)) {
                    if let Some(last) = last_hop(analysis, edge, services) {
                        let mut hops = path_to(&parent, index);
                        hops.push(last);
                        return Some(hops);
                    }
                }
                if starts.contains(&next) || parent.contains_key(&next) {
                    continue;
                }
                if self.node(next).kind != NodeKind::Internal {
                    continue;
                }
                let Some(&(rule, flow)) = edge.rules.first() else {
                    continue;
                };
                parent.insert(next, (index, Some(Hop { flow, rule })));
                queue.push_back(next);
                for twin in self.same_host(next) {
                    if starts.contains(&twin) || parent.contains_key(&twin) {
                        continue;
                    }
                    parent.insert(twin, (next, None));
                    queue.push_back(twin);
                }
            }
        }
        None
    }

    /// Edges on exposure paths into BMCs, for highlighting: internet -> BMC
    /// edges, and for every pivot that reaches a BMC, the shortest path from
    /// the internet to it and its edges into BMCs.
    pub fn exposure_edges(&self) -> Vec<(NodeId, NodeId)> {
        let mut out: Vec<(NodeId, NodeId)> = self
            .edges_between(NodeKind::Internet, NodeKind::Bmc)
            .into_iter()
            .map(|(from, to, _)| (from, to))
            .collect();
        for (pivot, path) in self.pivots() {
            let into_bmcs: Vec<(NodeId, NodeId)> = self
                .edges_from(pivot)
                .filter(|&(target, _)| self.node(target).kind == NodeKind::Bmc)
                .map(|(target, _)| (pivot, target))
                .collect();
            if into_bmcs.is_empty() {
                continue;
            }
            out.extend(into_bmcs);
            for hop in path {
                let from = self.node_of(hop.flow.family, hop.flow.src);
                let to = self.node_of(hop.flow.family, hop.flow.dst);
                if let (Some(from), Some(to)) = (from, to) {
                    out.push((from, to));
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Date;
    use crate::resolve;
    use crate::source::SourceMap;
    use std::path::Path;

    fn graph_of(file: &str) -> ReachGraph {
        let mut sources = SourceMap::default();
        let today = Date::parse("2026-11-21").expect("a date");
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let (policy, diagnostics) =
            resolve::load(&path, &mut sources, &resolve::Options::new(today));
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        ReachGraph::new(&policy, &Analysis::new(&policy))
    }

    #[test]
    fn edges_come_by_source_then_target_and_out_of_a_node_last_added_first() {
        let graph = graph_of("tests/fixtures/lints/bw202_trigger.wall");
        let edges: Vec<(NodeId, NodeId)> = graph.edges().map(|(a, b, _)| (a, b)).collect();
        assert!(!edges.is_empty());
        assert!(edges.windows(2).all(|pair| pair[0] < pair[1]), "{edges:?}");
        for (id, _) in graph.nodes() {
            let mut from_edges: Vec<NodeId> = edges
                .iter()
                .filter(|(a, _)| *a == id)
                .map(|&(_, b)| b)
                .collect();
            from_edges.reverse();
            let out: Vec<NodeId> = graph.edges_from(id).map(|(b, _)| b).collect();
            assert_eq!(out, from_edges);
        }
    }

    #[test]
    fn nodes_are_numbered_in_order_and_found_by_id() {
        let graph = graph_of("tests/fixtures/lints/bw202_trigger.wall");
        for (position, (id, node)) in graph.nodes().enumerate() {
            assert_eq!(id.index(), position);
            assert!(std::ptr::eq(graph.node(id), node));
        }
    }
}
