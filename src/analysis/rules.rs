//! What each rule does in the decision table: the flows it decides, the earlier
//! rules that take its flows, and whether removing it would change anything.
//! Rule anomaly lints (BW101-BW104) read these facts, not pairwise guesses.

use super::bits::SparseBits;
use super::flow::{representative, Address};
use super::{Analysis, FamilyTable, Flow, RuleServices};
use crate::addr::service::{self, ServicePoint};
use crate::addr::IntervalSet;
use crate::model::Action;
use crate::resolve::Policy;
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
///
/// One pass over the pairs of the table collects everything: per pair, the
/// rules matching it are walked once in order, and each service class it
/// holds tells which rule decides the cell and which later rules match it.
/// A cell's fallback is judged right away when the next matching rule
/// decides some flow itself (a live rule is never a redundant copy). Cells
/// whose next matching rule decides nothing wait until every rule's
/// coverage is known; only their deciders' cells are visited again.
pub fn facts(policy: &Policy, analysis: &Analysis) -> Vec<RuleFacts> {
    let rule_count = analysis.rules.len();
    let mut live = vec![false; rule_count];
    mark_live(&analysis.v4, &mut live);
    mark_live(&analysis.v6, &mut live);
    let mut facts = vec![RuleFacts::default(); rule_count];
    let mut recheck = vec![false; rule_count];
    let walk = Walk::new(analysis);
    let mut state = Pass {
        policy,
        analysis,
        walk: &walk,
        live: &live,
        facts: &mut facts,
        recheck: &mut recheck,
    };
    state.collect(&analysis.v4);
    state.collect(&analysis.v6);
    let action = |ordinal: usize| policy.rules[analysis.rules[ordinal]].action;
    // Rules that decide nothing and are covered by rules of their own action
    // only: redundant copies, reported on their own and meant to be deleted.
    let redundant_copy: Vec<bool> = facts
        .iter()
        .enumerate()
        .map(|(o, f)| {
            f.matches_any && !live[o] && f.covered_by.keys().all(|&c| action(c) == action(o))
        })
        .collect();
    for (ordinal, fact) in facts.iter_mut().enumerate() {
        // A flow already known to change outcome settles the rule.
        recheck[ordinal] &= !fact.changes_outcome;
        if recheck[ordinal] {
            fact.fallbacks.clear();
            fact.falls_to_default = false;
        }
    }
    if recheck.contains(&true) {
        recheck_outcomes(
            policy,
            &walk,
            &analysis.v4,
            &recheck,
            &redundant_copy,
            &mut facts,
        );
        recheck_outcomes(
            policy,
            &walk,
            &analysis.v6,
            &recheck,
            &redundant_copy,
            &mut facts,
        );
    }
    facts
}

/// Marks every rule ordinal that decides at least one cell of `table`.
fn mark_live<T: Address>(table: &FamilyTable<T>, live: &mut [bool]) {
    for row in table.rows() {
        for (_, ordinal) in row.decided() {
            live[ordinal] = true;
        }
    }
}

/// What walking a pair's matching rules needs, worked out once.
struct Walk<'a> {
    analysis: &'a Analysis,
    rule_services: RuleServices,
    /// A readable service of each service class, if it has one.
    services: Vec<Option<ServicePoint>>,
}

impl<'a> Walk<'a> {
    fn new(analysis: &'a Analysis) -> Self {
        Self {
            analysis,
            rule_services: RuleServices::new(&analysis.services, analysis.rules.len()),
            services: analysis
                .services
                .classes
                .iter()
                .map(service::representative)
                .collect(),
        }
    }

    /// The source class's rules, for [`Walk::matching`].
    fn source<T: Address>(&self, table: &FamilyTable<T>, s: usize) -> SparseBits {
        SparseBits::below(&table.src.membership[s], self.analysis.rules.len())
    }

    /// For each rule matching pair `(s, d)` (given the source's rules), in
    /// order, with each service class it contains: `visit(rule, v)`.
    fn matching<T: Address>(
        &self,
        table: &FamilyTable<T>,
        source: &SparseBits,
        d: usize,
        mut visit: impl FnMut(usize, usize),
    ) {
        for rule in source.and_ones(&table.dst.membership[d]) {
            for (i, &word) in self.rule_services.of(rule).iter().enumerate() {
                let mut w = word;
                while w != 0 {
                    visit(rule, i * 64 + w.trailing_zeros() as usize);
                    w &= w - 1;
                }
            }
        }
    }
}

/// Witness flows in the cells of one pair: its two addresses are worked out
/// once, when first needed.
struct PairFlows<'a, T: Address> {
    table: &'a FamilyTable<T>,
    services: &'a [Option<ServicePoint>],
    s: usize,
    d: usize,
    ends: Option<Option<(T, T)>>,
}

impl<'a, T: Address> PairFlows<'a, T> {
    fn new(table: &'a FamilyTable<T>, walk: &'a Walk, s: usize, d: usize) -> Self {
        Self {
            table,
            services: &walk.services,
            s,
            d,
            ends: None,
        }
    }

    /// A readable flow in service class `v`, between two different
    /// addresses when the pair has any.
    fn get(&mut self, v: usize) -> Option<Flow> {
        let (table, s, d) = (self.table, self.s, self.d);
        let (src, dst) = (*self
            .ends
            .get_or_insert_with(|| distinct_ends(&table.src.classes[s], &table.dst.classes[d])))?;
        Some(Flow {
            family: T::FAMILY,
            src: src.widen(),
            dst: dst.widen(),
            service: self.services[v]?,
        })
    }
}

/// The first pass over the pairs.
struct Pass<'a> {
    policy: &'a Policy,
    analysis: &'a Analysis,
    walk: &'a Walk<'a>,
    live: &'a [bool],
    facts: &'a mut [RuleFacts],
    /// Deciders with a cell whose next matching rule decides nothing.
    recheck: &'a mut [bool],
}

impl Pass<'_> {
    /// Effective regions, coverage, witnesses, and the outcome changes that
    /// can be judged at once.
    fn collect<T: Address>(&mut self, table: &FamilyTable<T>) {
        let analysis = self.analysis;
        // The second matching rule of each service class of the pair.
        let mut next = vec![NO_RULE; analysis.services.len()];
        for s in 0..table.src.len() {
            let source = self.walk.source(table, s);
            for (d, _, row) in table.pairs(s) {
                let mut flows = PairFlows::new(table, self.walk, s, d);
                next.fill(NO_RULE);
                self.walk.matching(table, &source, d, |covered, v| {
                    let Some(decider) = row.decision(v).filter(|&o| o != covered) else {
                        return;
                    };
                    if next[v] == NO_RULE {
                        next[v] = covered;
                    }
                    let fact = &mut self.facts[covered];
                    fact.matches_any = true;
                    if fact.covered_by.contains_key(&decider) {
                        return;
                    }
                    if let Some(flow) = flows.get(v) {
                        fact.covered_by.insert(decider, flow);
                        fact.covered_witness.get_or_insert(flow);
                    }
                });
                for (v, decider) in row.decided() {
                    let fact = &mut self.facts[decider];
                    fact.matches_any = true;
                    fact.effective_cells += 1;
                    if fact.effective_witness.is_none() {
                        fact.effective_witness = flows.get(v);
                    }
                    let next = (next[v] != NO_RULE).then_some(next[v]);
                    match next {
                        Some(o) if !self.live[o] => self.recheck[decider] = true,
                        _ => judge(self.policy, analysis, fact, decider, next),
                    }
                }
            }
        }
    }
}

/// No rule, in the per-service-class scratch of a pair.
const NO_RULE: usize = usize::MAX;

/// Records what happens to a flow `decider` decides if it is removed and
/// `fallback` (or the default, for `None`) decides it instead.
fn judge(
    policy: &Policy,
    analysis: &Analysis,
    fact: &mut RuleFacts,
    decider: usize,
    fallback: Option<usize>,
) {
    if fact.changes_outcome {
        return;
    }
    if outcome(policy, analysis, Some(decider)) != outcome(policy, analysis, fallback) {
        fact.changes_outcome = true;
        fact.fallbacks.clear();
        fact.falls_to_default = false;
    } else if let Some(o) = fallback {
        fact.fallbacks.insert(o);
    } else {
        fact.falls_to_default = true;
    }
}

/// For the deciders marked in `recheck`, judges every cell they decide again,
/// now passing over later rules that are redundant copies.
fn recheck_outcomes<T: Address>(
    policy: &Policy,
    walk: &Walk,
    table: &FamilyTable<T>,
    recheck: &[bool],
    redundant_copy: &[bool],
    facts: &mut [RuleFacts],
) {
    let mut fallback = vec![NO_RULE; walk.analysis.services.len()];
    for s in 0..table.src.len() {
        let mut source = None;
        for (d, _, row) in table.pairs(s) {
            if !row.decided().any(|(_, o)| recheck[o]) {
                continue;
            }
            let source = source.get_or_insert_with(|| walk.source(table, s));
            fallback.fill(NO_RULE);
            walk.matching(table, source, d, |rule, v| {
                if fallback[v] == NO_RULE && row.decision(v) != Some(rule) && !redundant_copy[rule]
                {
                    fallback[v] = rule;
                }
            });
            for (v, decider) in row.decided().filter(|&(_, o)| recheck[o]) {
                let fallback = (fallback[v] != NO_RULE).then_some(fallback[v]);
                judge(
                    policy,
                    walk.analysis,
                    &mut facts[decider],
                    decider,
                    fallback,
                );
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::bits::Bits;
    use crate::model::Date;
    use crate::resolve;
    use crate::source::SourceMap;
    use std::path::Path;

    /// What removing each rule does, the slow way: every cell each rule
    /// decides, with its fallback found among all later matching rules.
    fn reference(
        policy: &Policy,
        analysis: &Analysis,
        facts: &[RuleFacts],
    ) -> Vec<(bool, BTreeSet<usize>, bool)> {
        let action = |o: usize| policy.rules[analysis.rules[o]].action;
        let copy: Vec<bool> = facts
            .iter()
            .enumerate()
            .map(|(o, f)| {
                f.matches_any
                    && f.effective_cells == 0
                    && f.covered_by.keys().all(|&c| action(c) == action(o))
            })
            .collect();
        let mut out = vec![(false, BTreeSet::new(), false); facts.len()];
        let mut visit = |decider: usize, later: &[usize]| {
            let fallback = later.iter().copied().find(|&o| !copy[o]);
            let entry = &mut out[decider];
            if outcome(policy, analysis, Some(decider)) != outcome(policy, analysis, fallback) {
                entry.0 = true;
            } else if let Some(o) = fallback {
                entry.1.insert(o);
            } else {
                entry.2 = true;
            }
        };
        cells(analysis, &analysis.v4, &mut visit);
        cells(analysis, &analysis.v6, &mut visit);
        for entry in &mut out {
            if entry.0 {
                entry.1.clear();
                entry.2 = false;
            }
        }
        out
    }

    fn cells<T: Address>(
        analysis: &Analysis,
        table: &FamilyTable<T>,
        visit: &mut impl FnMut(usize, &[usize]),
    ) {
        let rule_count = analysis.rules.len();
        let width = analysis.layout.scope_bit() + 1;
        let (mut both, mut all) = (Bits::new(width), Bits::new(width));
        for s in 0..table.src.len() {
            for d in 0..table.dst.len() {
                table.src.membership[s].and_into(&table.dst.membership[d], &mut both);
                for v in 0..analysis.services.len() {
                    both.and_into(&analysis.services.membership[v], &mut all);
                    let matching: Vec<usize> = all.ones_below(rule_count).collect();
                    if let Some((&decider, later)) = matching.split_first() {
                        visit(decider, later);
                    }
                }
            }
        }
    }

    /// The one-pass-and-recheck computation agrees with the slow way on the
    /// lint fixtures and the examples.
    #[test]
    fn outcome_changes_agree_with_the_slow_way() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<_> = std::fs::read_dir(root.join("tests/fixtures/lints"))
            .expect("the lint fixtures")
            .map(|entry| entry.expect("an entry").path())
            .filter(|path| path.extension().is_some_and(|e| e == "wall"))
            .collect();
        files.push(root.join("examples/exposed.wall"));
        files.push(root.join("examples/ams1/ams1.wall"));
        assert!(files.len() > 30);
        for file in files {
            let mut sources = SourceMap::default();
            let today = Date::parse("2026-11-21").expect("a date");
            let (policy, _) = resolve::load(&file, &mut sources, &resolve::Options::new(today));
            let analysis = Analysis::new(&policy);
            let facts = facts(&policy, &analysis);
            let fast: Vec<_> = facts
                .iter()
                .map(|f| (f.changes_outcome, f.fallbacks.clone(), f.falls_to_default))
                .collect();
            let slow = reference(&policy, &analysis, &facts);
            for (ordinal, (fast, slow)) in fast.iter().zip(&slow).enumerate() {
                if facts[ordinal].effective_cells > 0 {
                    assert_eq!(fast, slow, "{}: rule ordinal {ordinal}", file.display());
                }
            }
        }
    }
}
