//! What replacing one table with another changes, in policy terms: the flows
//! a table (the live one, read back from the kernel) treats differently from
//! the compiled decision table.
//!
//! The other table comes as first-match rules over boxes of flows
//! ([`TableRule`], as `nft::interp` reads a ruleset). One [`Analysis`] of
//! those rules, cut by the compiled rules and scope, has cells that each lie
//! inside one compiled cell, so both tables decide every cell one way. A pair
//! of classes changes according to its row there, its compiled row and
//! whether it is in scope, so the changed cells of each such combination are
//! worked out once, and only pairs with changed cells are kept. Cells that
//! differ are merged into boxes per (before, after, compiled rule, table rule)
//! and reported with the compiled rule that decides them now and the comment
//! of the table's rule that decided them.
//!
//! Invariant: a flow lies in a change exactly when the two tables treat it
//! differently.

use super::partition::Partition;
use super::region::{listed_blocks, Block};
use super::{Analysis, FamilyTable, FlowBox, Input};
use crate::addr::service::{self, ServiceSet};
use crate::addr::{AddrSet, Bound, IntervalSet};
use crate::model::Action;
use crate::resolve::Policy;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What a table does with a new connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    /// Accepted by a rule.
    Allowed,
    /// Dropped.
    Denied,
    /// Outside the table's scope: accepted, left to other tables.
    Passed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Allowed => "allowed",
            State::Denied => "denied",
            State::Passed => "outside the scope",
        }
    }
}

/// One rule of a table as a box of flows and what it does to them; the
/// rules of a table are in first-match order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableRule {
    pub state: State,
    pub src: AddrSet,
    pub dst: AddrSet,
    pub services: ServiceSet,
    /// The comment of the nft rule that decides these flows, if it has one.
    pub comment: Option<String>,
}

/// Flows whose treatment changes, as a box.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// What the live table does with them.
    pub before: State,
    /// What the compiled table does with them.
    pub after: State,
    pub src: AddrSet,
    pub dst: AddrSet,
    pub services: ServiceSet,
    /// The rule that decides them now (its number in `Analysis::rules`: for
    /// a policy, the index into `Policy::rules`).
    pub rule: Option<usize>,
    /// The comment of the live nft rule that decided them before.
    pub live_rule: Option<String>,
}

/// The compiled side of a comparison: its decision table and what that
/// table was built from.
#[derive(Clone, Debug)]
pub struct Compiled<'a> {
    pub analysis: &'a Analysis,
    /// Each rule in force, by ordinal: the flows it matches and its action.
    pub rules: Vec<(FlowBox<'a>, Action)>,
    /// The addresses the compiled table governs.
    pub scope: &'a AddrSet,
}

impl<'a> Compiled<'a> {
    /// The compiled side of `policy`, whose decision table is `analysis`.
    pub fn of(policy: &'a Policy, analysis: &'a Analysis) -> Compiled<'a> {
        Compiled {
            analysis,
            rules: analysis
                .rules
                .iter()
                .map(|&i| {
                    let rule = &policy.rules[i];
                    (FlowBox::of_rule(rule), rule.action)
                })
                .collect(),
            scope: &policy.scope,
        }
    }
}

impl TableRule {
    /// The table another policy compiles to, as first-match rules: flows
    /// outside its scope pass, then its rules in force decide, each named
    /// by `comment`, and the rest is denied. What `diff` compares a policy
    /// with.
    pub fn of_policy(policy: &Policy, comment: impl Fn(usize) -> String) -> Vec<TableRule> {
        let outside = policy.scope.complement();
        let mut rules = vec![TableRule {
            state: State::Passed,
            src: outside.clone(),
            dst: outside,
            services: service::any(),
            comment: None,
        }];
        for (index, rule) in policy.active_rules() {
            rules.push(TableRule {
                state: match rule.action {
                    Action::Allow => State::Allowed,
                    Action::Deny => State::Denied,
                },
                src: rule.src.clone(),
                dst: rule.dst.clone(),
                services: rule.services.clone(),
                comment: Some(comment(index)),
            });
        }
        rules.push(TableRule {
            state: State::Denied,
            src: AddrSet::any(),
            dst: AddrSet::any(),
            services: service::any(),
            comment: None,
        });
        rules
    }
}

/// The changes from a table of `live` rules to the compiled one. `None` (no
/// such table) counts as everything new: the flows the compiled table allows.
pub fn changes(compiled: &Compiled<'_>, live: Option<&[TableRule]>) -> Vec<Change> {
    let rules = live.unwrap_or(&[]);
    let joint = Analysis::from_boxes(&Input {
        rules: rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let flows = FlowBox {
                    src: &r.src,
                    dst: &r.dst,
                    services: &r.services,
                };
                (i, flows)
            })
            .collect(),
        cuts: compiled.rules.iter().map(|&(flows, _)| flows).collect(),
        scope: compiled.scope,
    });
    let analysis = compiled.analysis;
    let context = Context {
        compiled,
        analysis,
        joint: &joint,
        rules,
        service_reps: joint.services.classes.iter().map(real_key).collect(),
        new_only: live.is_none(),
    };
    let mut changes = family_changes(&context, &joint.v4, &analysis.v4, |block| {
        (
            AddrSet {
                v4: block.src,
                v6: IntervalSet::empty(),
            },
            AddrSet {
                v4: block.dst,
                v6: IntervalSet::empty(),
            },
        )
    });
    changes.extend(family_changes(&context, &joint.v6, &analysis.v6, |block| {
        (
            AddrSet {
                v4: IntervalSet::empty(),
                v6: block.src,
            },
            AddrSet {
                v4: IntervalSet::empty(),
                v6: block.dst,
            },
        )
    }));
    changes.sort_by(|a, b| {
        (a.before, a.after, a.rule, &a.src, &a.dst, &a.services).cmp(&(
            b.before,
            b.after,
            b.rule,
            &b.src,
            &b.dst,
            &b.services,
        ))
    });
    changes
}

struct Context<'a> {
    compiled: &'a Compiled<'a>,
    analysis: &'a Analysis,
    joint: &'a Analysis,
    rules: &'a [TableRule],
    /// A key of a real flow in each service class of the joint analysis.
    service_reps: Vec<Option<u32>>,
    /// There is no live table: only flows that become allowed are reported.
    new_only: bool,
}

/// What identifies a group of changed cells.
type Key = (State, State, Option<usize>, Option<usize>);

/// The changes in one family, reported as address sets by `to_sets`.
fn family_changes<T: Bound>(
    context: &Context<'_>,
    joint: &FamilyTable<T>,
    compiled: &FamilyTable<T>,
    to_sets: impl Fn(Block<T>) -> (AddrSet, AddrSet),
) -> Vec<Change> {
    // Each joint class lies inside one compiled class.
    let src_class = compiled_classes(&joint.src, &compiled.src);
    let dst_class = compiled_classes(&joint.dst, &compiled.dst);
    let svc_class: Vec<Option<usize>> = context
        .service_reps
        .iter()
        .map(|k| k.map(|k| context.analysis.services.class_of(k)))
        .collect();
    let changed = ChangedPairs::new(context, joint, compiled, &src_class, &dst_class, &svc_class);
    changed.into_changes(context, joint, to_sets)
}

/// The compiled class of each joint class.
fn compiled_classes<T: Bound>(joint: &Partition<T>, compiled: &Partition<T>) -> Vec<usize> {
    joint
        .classes
        .iter()
        .map(|c| compiled.class_of(c.first().expect("classes are not empty")))
        .collect()
}

/// The changed cells of one family's pairs, grouped.
struct ChangedPairs {
    /// Each group's number.
    index: BTreeMap<Key, u32>,
    /// The changed cells of each combination, as (service class, group) by
    /// ascending class.
    combo_cells: Vec<Vec<(u32, u32)>>,
    /// The pairs of each source class with changed cells: (destination class,
    /// combination), by ascending destination class.
    changed: Vec<Vec<(u32, u32)>>,
}

impl ChangedPairs {
    /// The changed cells of every pair. The cells of a pair change according
    /// to its live row, its compiled row and whether it is in scope: the
    /// changed cells of each such combination are worked out once.
    fn new<T: Bound>(
        context: &Context<'_>,
        joint: &FamilyTable<T>,
        compiled: &FamilyTable<T>,
        src_class: &[usize],
        dst_class: &[usize],
        svc_class: &[Option<usize>],
    ) -> Self {
        let scope_bit = context.joint.layout.scope_bit();
        let mut index: BTreeMap<Key, u32> = BTreeMap::new();
        let mut combos: HashMap<Combo, u32> = HashMap::new();
        let mut combo_cells: Vec<Vec<(u32, u32)>> = Vec::new();
        let mut changed: Vec<Vec<(u32, u32)>> = vec![Vec::new(); joint.src.len()];
        // The compiled row id of each compiled destination class, for one compiled
        // source class at a time: sources are visited by compiled class.
        let mut compiled_rows: Vec<Option<u32>> = vec![None; compiled.dst.len()];
        let mut rows_of = None;
        let mut sources: Vec<usize> = (0..joint.src.len()).collect();
        sources.sort_by_key(|&s| src_class[s]);
        for s in sources {
            if rows_of != Some(src_class[s]) {
                compiled_rows.fill(None);
                for (d, id, _) in compiled.pairs(src_class[s]) {
                    compiled_rows[d] = Some(id as u32);
                }
                rows_of = Some(src_class[s]);
            }
            let src_in = joint.src.membership[s].get(scope_bit);
            let mut live_pairs = joint.pairs(s).peekable();
            let mut last: Option<(Combo, u32)> = None;
            for d in 0..joint.dst.len() {
                let live = live_pairs
                    .next_if(|&(pair_dst, _, _)| pair_dst == d)
                    .map(|(_, id, _)| id as u32);
                let in_scope = src_in || joint.dst.membership[d].get(scope_bit);
                let combo = (live, compiled_rows[dst_class[d]], in_scope);
                let id = match last {
                    Some((previous, id)) if previous == combo => id,
                    _ => *combos.entry(combo).or_insert_with(|| {
                        combo_cells.push(changed_cells(
                            context, joint, compiled, combo, svc_class, &mut index,
                        ));
                        (combo_cells.len() - 1) as u32
                    }),
                };
                last = Some((combo, id));
                if !combo_cells[id as usize].is_empty() {
                    changed[s].push((d as u32, id));
                }
            }
        }
        Self {
            index,
            combo_cells,
            changed,
        }
    }

    /// The changes: each group's cells merged into boxes, by group key.
    fn into_changes<T: Bound>(
        self,
        context: &Context<'_>,
        joint: &FamilyTable<T>,
        to_sets: impl Fn(Block<T>) -> (AddrSet, AddrSet),
    ) -> Vec<Change> {
        let Self {
            index,
            combo_cells,
            changed,
        } = self;
        let keys: BTreeSet<(Key, u32)> = index.into_iter().collect();
        let mut out = Vec::new();
        for (k, i) in keys {
            let blocks = listed_blocks(context.joint, joint, |s, push| {
                for &(d, combo) in &changed[s] {
                    let cells = &combo_cells[combo as usize];
                    push(
                        d as usize,
                        &mut cells.iter().filter(|&&(_, key)| key == i).map(|&(v, _)| v),
                    );
                }
            });
            for block in blocks {
                let services = real_services(&block.services);
                let (src, dst) = to_sets(block);
                out.push(Change {
                    before: k.0,
                    after: k.1,
                    src,
                    dst,
                    services,
                    rule: k.2,
                    live_rule: k.3.and_then(|i| context.rules[i].comment.clone()),
                });
            }
        }
        out
    }
}

/// What decides the cells of a pair: its row in the joint table (the live
/// table's rules), its row in the compiled table, and whether the pair is in
/// scope.
type Combo = (Option<u32>, Option<u32>, bool);

/// The cells of a pair decided by `combo` that change, as (service class,
/// group in `index`).
fn changed_cells<T: Bound>(
    context: &Context<'_>,
    joint: &FamilyTable<T>,
    compiled: &FamilyTable<T>,
    (live, now, in_scope): Combo,
    svc_class: &[Option<usize>],
    index: &mut BTreeMap<Key, u32>,
) -> Vec<(u32, u32)> {
    let live = live.map(|id| joint.row_by_id(id as usize));
    let now = now.map(|id| compiled.row_by_id(id as usize));
    let mut cells = Vec::new();
    for (v, compiled_v) in svc_class.iter().enumerate() {
        let Some(compiled_v) = *compiled_v else {
            continue;
        };
        let live_rule = live.and_then(|row| row.decision(v));
        let before = live_rule.map_or(State::Passed, |o| {
            context.rules[context.joint.rules[o]].state
        });
        let decider = now.and_then(|row| row.decision(compiled_v));
        let rule = decider.map(|o| context.analysis.rules[o]);
        let after = if !in_scope {
            State::Passed
        } else if decider.is_some_and(|o| context.compiled.rules[o].1 == Action::Allow) {
            State::Allowed
        } else {
            State::Denied
        };
        // Without a live table only what becomes allowed is news.
        if before == after || (context.new_only && after != State::Allowed) {
            continue;
        }
        let key = (
            before,
            after,
            if in_scope { rule } else { None },
            live_rule.map(|o| context.joint.rules[o]),
        );
        let next = index.len() as u32;
        cells.push((v as u32, *index.entry(key).or_insert(next)));
    }
    cells
}

/// The lowest key of `set` that a real flow has (a port-less protocol has
/// only port 0), if any.
fn real_key(set: &ServiceSet) -> Option<u32> {
    for &(lo, hi) in set.intervals() {
        let proto = service::proto_of(lo);
        if service::has_ports(proto) || service::port_of(lo) == 0 {
            return Some(lo);
        }
        let next = service::key(proto, 0) + 0x1_0000;
        if proto < 255 && next <= hi {
            return Some(next);
        }
    }
    None
}

/// `set` without the keys no real flow has, for reporting.
fn real_services(set: &ServiceSet) -> ServiceSet {
    let unreal = IntervalSet::from_intervals(
        (0..=255u8)
            .filter(|&p| !service::has_ports(p))
            .map(|p| (service::key(p, 1), service::key(p, 0xFFFF)))
            .collect(),
    );
    set.difference(&unreal)
}
