//! What each rule does in the decision table: the flows it decides, the earlier
//! rules that take its flows, and whether removing it would change anything.
//! Rule anomaly lints (BW101, BW102) read these facts, not pairwise guesses.

use super::bits::Bits;
use super::flow::{representative, Address};
use super::{Analysis, FamilyTable, Flow};
use crate::addr::{service, IntervalSet};
use crate::resolve::Policy;
use crate::syntax::Action;
use std::collections::{BTreeMap, BTreeSet};

/// Facts about one rule in force, indexed by rule ordinal.
#[derive(Clone, Debug, Default)]
pub struct RuleFacts {
    /// The rule matches at least one flow.
    pub matches_any: bool,
    /// Cells this rule decides (its effective region).
    pub effective_cells: usize,
    /// A flow the rule decides, if any.
    pub effective_witness: Option<Flow>,
    /// A flow the rule matches but an earlier rule decides, if any.
    pub covered_witness: Option<Flow>,
    /// Earlier rules (ordinals) that decide some flow this rule matches,
    /// each with one such flow.
    pub covered_by: BTreeMap<usize, Flow>,
    /// Some flow it decides would get another outcome (action or logging)
    /// if this rule were removed. The flow then falls to the next matching
    /// rule, or to the default deny; later rules that decide nothing and are
    /// covered by rules of their own action only (redundant copies, reported
    /// on their own) are passed over, so two copies of a rule do not each make
    /// the other look removable.
    pub changes_outcome: bool,
    /// Later rules (ordinals) that would decide some flow of its effective
    /// region if it were removed (the fallbacks of `changes_outcome`).
    pub fallbacks: BTreeSet<usize>,
    /// Some flow of its effective region would fall to the default deny if it
    /// were removed.
    pub falls_to_default: bool,
}

/// Outcome of a flow: its action and whether it is logged. No rule: deny, unlogged.
fn outcome(policy: &Policy, analysis: &Analysis, ordinal: Option<usize>) -> (Action, bool) {
    match ordinal {
        Some(o) => {
            let rule = &policy.rules[analysis.rules[o]];
            (rule.action, rule.log)
        }
        None => (Action::Deny, false),
    }
}

/// Computes [`RuleFacts`] for every rule in force.
pub fn facts(policy: &Policy, analysis: &Analysis) -> Vec<RuleFacts> {
    let mut facts = vec![RuleFacts::default(); analysis.rules.len()];
    collect(analysis, &analysis.v4, &mut facts);
    collect(analysis, &analysis.v6, &mut facts);
    let action = |ordinal: usize| policy.rules[analysis.rules[ordinal]].action;
    // Rules that decide nothing and are covered by rules of their own action
    // only: redundant copies, reported on their own and meant to be deleted.
    let redundant_copy: Vec<bool> = facts
        .iter()
        .enumerate()
        .map(|(o, f)| {
            f.matches_any
                && f.effective_cells == 0
                && f.covered_by.keys().all(|&c| action(c) == action(o))
        })
        .collect();
    mark_outcome_changes(policy, analysis, &analysis.v4, &redundant_copy, &mut facts);
    mark_outcome_changes(policy, analysis, &analysis.v6, &redundant_copy, &mut facts);
    facts
}

/// Calls `visit(decider, later)` for every cell some rule matches, with the
/// deciding rule and the later rules that match the cell too, and the cell.
fn each_cell<T: Address>(
    analysis: &Analysis,
    table: &FamilyTable<T>,
    mut visit: impl FnMut(usize, &[usize], (usize, usize, usize)),
) {
    let rule_count = analysis.rules.len();
    if rule_count == 0 {
        return;
    }
    let width = analysis.layout.scope_bit() + 1;
    let mut both = Bits::new(width);
    let mut all = Bits::new(width);
    let mut later = Vec::new();
    for s in 0..table.src.len() {
        for d in 0..table.dst.len() {
            table.src.membership[s].and_into(&table.dst.membership[d], &mut both);
            if both.first_below(rule_count).is_none() {
                continue;
            }
            for v in 0..analysis.services.len() {
                both.and_into(&analysis.services.membership[v], &mut all);
                let mut matching = all.ones_below(rule_count);
                let Some(decider) = matching.next() else {
                    continue;
                };
                later.clear();
                later.extend(matching);
                visit(decider, &later, (s, d, v));
            }
        }
    }
}

/// Effective regions, coverage and witnesses.
fn collect<T: Address>(analysis: &Analysis, table: &FamilyTable<T>, facts: &mut [RuleFacts]) {
    each_cell(analysis, table, |decider, later, (s, d, v)| {
        let cell_flow = || flow(table, analysis, s, d, v);
        let fact = &mut facts[decider];
        fact.matches_any = true;
        fact.effective_cells += 1;
        if fact.effective_witness.is_none() {
            fact.effective_witness = cell_flow();
        }
        for &covered in later {
            let fact = &mut facts[covered];
            fact.matches_any = true;
            if fact.covered_by.contains_key(&decider) {
                continue;
            }
            if let Some(flow) = cell_flow() {
                fact.covered_by.insert(decider, flow);
                fact.covered_witness.get_or_insert(flow);
            }
        }
    });
}

/// [`RuleFacts::changes_outcome`]: without the deciding rule, a cell falls to
/// the next matching rule that is not a redundant copy, or to the default.
fn mark_outcome_changes<T: Address>(
    policy: &Policy,
    analysis: &Analysis,
    table: &FamilyTable<T>,
    redundant_copy: &[bool],
    facts: &mut [RuleFacts],
) {
    each_cell(analysis, table, |decider, later, _| {
        let fact = &mut facts[decider];
        if fact.changes_outcome {
            return;
        }
        let fallback = later.iter().copied().find(|&o| !redundant_copy[o]);
        if outcome(policy, analysis, Some(decider)) != outcome(policy, analysis, fallback) {
            fact.changes_outcome = true;
            fact.fallbacks.clear();
            fact.falls_to_default = false;
        } else if let Some(o) = fallback {
            fact.fallbacks.insert(o);
        } else {
            fact.falls_to_default = true;
        }
    });
}

/// A readable flow in cell `(s, d, v)`, between two different addresses
/// when the cell has any.
pub fn flow<T: Address>(
    table: &FamilyTable<T>,
    analysis: &Analysis,
    s: usize,
    d: usize,
    v: usize,
) -> Option<Flow> {
    let (src, dst) = distinct_ends(&table.src.classes[s], &table.dst.classes[d])?;
    Some(Flow {
        family: T::FAMILY,
        src: src.widen(),
        dst: dst.widen(),
        service: service::representative(&analysis.services.classes[v])?,
    })
}

/// Readable members of `src` and `dst`, different from each other when the
/// sets allow it: a flow from an address to itself shows nothing.
pub fn distinct_ends<T: Address>(src: &IntervalSet<T>, dst: &IntervalSet<T>) -> Option<(T, T)> {
    let from = representative(src)?;
    let to = representative(dst)?;
    if from != to {
        return Some((from, to));
    }
    let point = IntervalSet::point(from);
    if let Some(other) = representative(&dst.difference(&point)) {
        return Some((from, other));
    }
    if let Some(other) = representative(&src.difference(&point)) {
        return Some((other, to));
    }
    Some((from, to))
}
